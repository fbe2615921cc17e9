//! A small iterative DER structure checker, run before rasn sees any input.
//!
//! rasn's BER/DER decoder accepts constructed string encodings and walks nested
//! values recursively; hostile input (deep nesting, lengths past the end) must be
//! refused here first, with MIT's asn1 minor codes, without recursion.  After this
//! check every TLV is definite-length, lies inside its parent, nesting is at most
//! [`MAX_DEPTH`] deep, the element count is bounded, and the universal primitive
//! types Kerberos uses (INTEGER, BIT/OCTET STRING, GeneralizedTime, GeneralString)
//! are primitive-encoded as DER requires (X.690 §10.2).

use super::DecodeError;
use crate::error::minor;

/// Deeper than any RFC 4120 message (AP-REQ -> ticket -> enc-part -> cipher is 7).
pub const MAX_DEPTH: usize = 32;
/// Far more elements than a real message holds (a PAC-bearing ticket has ~100).
pub const MAX_ELEMENTS: usize = 1 << 16;

/// MIT codes the decoder uses beyond the common ones (all defined in crate::error).
pub mod mit {
    pub use crate::error::minor::{
        ASN1_BAD_TIMEFORMAT, ASN1_MISSING_FIELD, ASN1_OVERFLOW, KDC_ERR_BAD_PVNO,
    };
}

pub fn err(minor: i32, detail: impl Into<String>) -> DecodeError {
    DecodeError {
        minor,
        detail: detail.into(),
    }
}

/// One parsed header: identifier byte, tag number, where the contents start, their length.
#[derive(Clone, Copy, Debug)]
pub struct Header {
    pub first: u8,
    pub tag_number: u32,
    pub header_len: usize,
    pub len: usize,
}

impl Header {
    pub fn constructed(&self) -> bool {
        self.first & 0x20 != 0
    }
    pub fn class(&self) -> u8 {
        self.first >> 6
    }
}

/// Parses one identifier + definite length at the start of `buf` (X.690 §8.1.2, §8.1.3).
pub fn header(buf: &[u8]) -> Result<Header, DecodeError> {
    let first = *buf
        .first()
        .ok_or_else(|| err(minor::ASN1_OVERRUN, "missing identifier"))?;
    let mut pos = 1;
    let mut tag_number = u32::from(first & 0x1f);
    if tag_number == 0x1f {
        // High tag number form; 4 bytes (28 bits) is ample and avoids overflow.
        tag_number = 0;
        loop {
            let b = *buf
                .get(pos)
                .ok_or_else(|| err(minor::ASN1_OVERRUN, "truncated tag"))?;
            pos += 1;
            if pos > 5 {
                return Err(err(minor::ASN1_BAD_ID, "tag number too large"));
            }
            tag_number = (tag_number << 7) | u32::from(b & 0x7f);
            if b & 0x80 == 0 {
                break;
            }
        }
    }
    let l0 = *buf
        .get(pos)
        .ok_or_else(|| err(minor::ASN1_OVERRUN, "missing length"))?;
    pos += 1;
    let len = if l0 < 0x80 {
        usize::from(l0)
    } else if l0 == 0x80 {
        return Err(err(minor::ASN1_BAD_LENGTH, "indefinite length is not DER"));
    } else {
        let n = usize::from(l0 & 0x7f);
        let bytes = buf
            .get(pos..pos + n)
            .ok_or_else(|| err(minor::ASN1_OVERRUN, "truncated length"))?;
        if n > 4 {
            // No Kerberos message needs 4 GiB; MIT also answers ASN1_OVERFLOW for a length
            // that does not fit its integer.
            return Err(err(minor::ASN1_OVERFLOW, "length of length too large"));
        }
        pos += n;
        let mut v: usize = 0;
        for &b in bytes {
            v = (v << 8) | usize::from(b);
        }
        // X.690 §10.1: DER uses the fewest length octets (no leading zero octet, and the
        // short form below 128). rasn would accept the longer forms.
        if bytes[0] == 0 || v < 0x80 {
            return Err(err(
                minor::ASN1_BAD_LENGTH,
                "length not minimally encoded (not DER)",
            ));
        }
        v
    };
    Ok(Header {
        first,
        tag_number,
        header_len: pos,
        len,
    })
}

/// Universal primitive types that must not use the constructed form in DER.
fn must_be_primitive(h: &Header) -> bool {
    h.class() == 0 && matches!(h.tag_number, 1 | 2 | 3 | 4 | 5 | 6 | 10 | 24 | 27)
}

/// Checks that `buf` is exactly one well-formed DER TLV tree; returns its header.
pub fn check(buf: &[u8]) -> Result<Header, DecodeError> {
    let top = header(buf)?;
    let top_end = top
        .header_len
        .checked_add(top.len)
        .filter(|&e| e <= buf.len())
        .ok_or_else(|| err(minor::ASN1_OVERRUN, "length beyond the data"))?;
    if top_end != buf.len() {
        return Err(err(
            minor::ASN1_BAD_LENGTH,
            "trailing bytes after the value",
        ));
    }
    // Explicit stack of the end offsets of the open constructed values.
    let mut ends: [usize; MAX_DEPTH] = [0; MAX_DEPTH];
    let mut depth = 0usize;
    let mut elements = 0usize;
    let mut pos = 0usize;
    loop {
        // Close every constructed value that ends here.
        while depth > 0 && pos == ends[depth - 1] {
            depth -= 1;
        }
        if pos == buf.len() {
            return Ok(top);
        }
        elements += 1;
        if elements > MAX_ELEMENTS {
            return Err(err(minor::ASN1_PARSE_ERROR, "too many elements"));
        }
        let limit = if depth > 0 {
            ends[depth - 1]
        } else {
            buf.len()
        };
        let h = header(&buf[pos..limit])?;
        let end = (pos + h.header_len)
            .checked_add(h.len)
            .filter(|&e| e <= limit)
            .ok_or_else(|| err(minor::ASN1_OVERRUN, "length beyond the enclosing value"))?;
        if h.constructed() {
            if must_be_primitive(&h) {
                return Err(err(
                    minor::ASN1_BAD_FORMAT,
                    "constructed encoding of a primitive type",
                ));
            }
            if depth == MAX_DEPTH {
                return Err(err(minor::ASN1_PARSE_ERROR, "nesting too deep"));
            }
            ends[depth] = end;
            depth += 1;
            pos += h.header_len;
        } else {
            pos = end;
        }
    }
}
