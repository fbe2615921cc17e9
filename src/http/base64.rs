//! Base64 (RFC 4648 §4), strict: the standard alphabet only, padding required, no
//! whitespace, and canonical encodings only (the unused bits of the last quantum must be
//! zero, §3.5), so that every token has exactly one textual form. HTTP Negotiate
//! (RFC 4559 §4) carries GSS tokens in this encoding.

use std::fmt;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Why a text is not strict base64; `offset` is the position of the offending character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// A character outside the alphabet (and not padding where padding may be).
    InvalidCharacter { offset: usize, byte: u8 },
    /// The length is not a multiple of 4 (padding missing or text cut short).
    BadLength { length: usize },
    /// `=` somewhere other than the last one or two positions.
    MisplacedPadding { offset: usize },
    /// The bits after the last full octet are not zero (a non-canonical encoding).
    NonZeroTrailingBits { offset: usize },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            DecodeError::InvalidCharacter { offset, byte } => {
                if byte.is_ascii_graphic() {
                    write!(
                        f,
                        "character '{}' at offset {offset} is not in the base64 alphabet",
                        byte as char
                    )
                } else {
                    write!(
                        f,
                        "byte 0x{byte:02x} at offset {offset} is not in the base64 alphabet"
                    )
                }
            }
            DecodeError::BadLength { length } => write!(
                f,
                "base64 text of {length} characters is not a multiple of 4 (unpadded or cut short)"
            ),
            DecodeError::MisplacedPadding { offset } => {
                write!(f, "base64 padding '=' at offset {offset} is not at the end")
            }
            DecodeError::NonZeroTrailingBits { offset } => write!(
                f,
                "base64 character at offset {offset} leaves non-zero unused bits (not canonical)"
            ),
        }
    }
}

/// The length of the encoding of `n` bytes.
pub const fn encoded_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

/// Appends the padded base64 encoding of `data` to `out`.
pub fn encode_into(data: &[u8], out: &mut String) {
    out.reserve(encoded_len(data.len()));
    let mut chunks = data.chunks_exact(3);
    for c in &mut chunks {
        let n = u32::from(c[0]) << 16 | u32::from(c[1]) << 8 | u32::from(c[2]);
        for shift in [18, 12, 6, 0] {
            out.push(ALPHABET[(n >> shift) as usize & 63] as char);
        }
    }
    match *chunks.remainder() {
        [a] => {
            let n = u32::from(a) << 16;
            out.push(ALPHABET[(n >> 18) as usize & 63] as char);
            out.push(ALPHABET[(n >> 12) as usize & 63] as char);
            out.push_str("==");
        }
        [a, b] => {
            let n = u32::from(a) << 16 | u32::from(b) << 8;
            out.push(ALPHABET[(n >> 18) as usize & 63] as char);
            out.push(ALPHABET[(n >> 12) as usize & 63] as char);
            out.push(ALPHABET[(n >> 6) as usize & 63] as char);
            out.push('=');
        }
        _ => {}
    }
}

/// The padded base64 encoding of `data`.
pub fn encode(data: &[u8]) -> String {
    let mut s = String::new();
    encode_into(data, &mut s);
    s
}

/// The 6-bit value of an alphabet character, or None.
fn value(c: u8) -> Option<u32> {
    match c {
        b'A'..=b'Z' => Some(u32::from(c - b'A')),
        b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
        b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// The number of bytes `text` decodes to when it is well formed (length a multiple of 4,
/// padding counted from its last two characters); used to bound a size before decoding.
pub fn decoded_len(text: &[u8]) -> usize {
    let pad = text
        .iter()
        .rev()
        .take(2)
        .take_while(|&&c| c == b'=')
        .count();
    (text.len() / 4 * 3).saturating_sub(pad)
}

/// Decodes strict base64 (see the module comment). The empty text decodes to no bytes.
pub fn decode(text: &[u8]) -> Result<Vec<u8>, DecodeError> {
    if !text.len().is_multiple_of(4) {
        // Report a foreign character first: it says more than the length does.
        if let Some((offset, &byte)) = text
            .iter()
            .enumerate()
            .find(|(_, &c)| value(c).is_none() && c != b'=')
        {
            return Err(DecodeError::InvalidCharacter { offset, byte });
        }
        return Err(DecodeError::BadLength { length: text.len() });
    }
    let mut out = Vec::with_capacity(decoded_len(text));
    let quanta = text.len() / 4;
    for (q, quad) in text.chunks_exact(4).enumerate() {
        let base = q * 4;
        let last = q + 1 == quanta;
        let mut n = 0u32;
        let mut pad = 0usize;
        for (i, &c) in quad.iter().enumerate() {
            match value(c) {
                Some(v) if pad == 0 => n = n << 6 | v,
                // A data character after '=' inside the quantum.
                Some(_) => {
                    return Err(DecodeError::MisplacedPadding {
                        offset: base + i - 1,
                    })
                }
                None if c == b'=' => {
                    // Only the last quantum may be padded, only in its last two places.
                    if !last || i < 2 {
                        return Err(DecodeError::MisplacedPadding { offset: base + i });
                    }
                    pad += 1;
                    n <<= 6;
                }
                None => {
                    return Err(DecodeError::InvalidCharacter {
                        offset: base + i,
                        byte: c,
                    })
                }
            }
        }
        match pad {
            0 => out.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]),
            1 => {
                if n & 0xff != 0 {
                    return Err(DecodeError::NonZeroTrailingBits { offset: base + 2 });
                }
                out.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8]);
            }
            _ => {
                if n & 0xffff != 0 {
                    return Err(DecodeError::NonZeroTrailingBits { offset: base + 1 });
                }
                out.push((n >> 16) as u8);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4648 §10.
    const VECTORS: [(&str, &str); 7] = [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ];

    #[test]
    fn rfc4648_vectors() {
        for (plain, enc) in VECTORS {
            assert_eq!(encode(plain.as_bytes()), enc);
            assert_eq!(decode(enc.as_bytes()).unwrap(), plain.as_bytes());
            assert_eq!(decoded_len(enc.as_bytes()), plain.len());
            assert_eq!(encoded_len(plain.len()), enc.len());
        }
    }

    #[test]
    fn every_byte_value_and_length_round_trips() {
        let data: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
        for n in 0..data.len() {
            let e = encode(&data[..n]);
            assert_eq!(decode(e.as_bytes()).unwrap(), &data[..n], "length {n}");
        }
    }

    #[test]
    fn strictness() {
        use DecodeError::*;
        let cases: &[(&str, DecodeError)] = &[
            ("Zg", BadLength { length: 2 }),
            ("Zm9", BadLength { length: 3 }),
            ("Zm9vY", BadLength { length: 5 }),
            (
                "Zm9v Yg==",
                InvalidCharacter {
                    offset: 4,
                    byte: b' ',
                },
            ),
            (
                "Zm9-",
                InvalidCharacter {
                    offset: 3,
                    byte: b'-',
                },
            ),
            (
                "Zm9_",
                InvalidCharacter {
                    offset: 3,
                    byte: b'_',
                },
            ),
            (
                "Zm9\n",
                InvalidCharacter {
                    offset: 3,
                    byte: b'\n',
                },
            ),
            (
                "Zm\u{e9}v",
                InvalidCharacter {
                    offset: 2,
                    byte: 0xc3,
                },
            ),
            ("Zg==Zm9v", MisplacedPadding { offset: 2 }),
            ("====", MisplacedPadding { offset: 0 }),
            ("Z===", MisplacedPadding { offset: 1 }),
            ("Zg=v", MisplacedPadding { offset: 2 }),
            ("Zh==", NonZeroTrailingBits { offset: 1 }),
            ("Zm9=", NonZeroTrailingBits { offset: 2 }),
            ("Zm8=Zm8=", MisplacedPadding { offset: 3 }),
        ];
        for (text, want) in cases {
            assert_eq!(decode(text.as_bytes()), Err(*want), "{text:?}");
            assert!(!want.to_string().is_empty());
        }
    }

    #[test]
    fn decoded_len_bounds_before_decoding() {
        assert_eq!(decoded_len(b"Zm9vYg=="), 4);
        assert_eq!(decoded_len(b"===="), 1);
        assert_eq!(decoded_len(b"Zm9v"), 3);
        assert_eq!(decoded_len(b"Zm9"), 0);
    }
}
