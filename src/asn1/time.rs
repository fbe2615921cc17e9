//! KerberosTime ::= GeneralizedTime, always `YYYYMMDDHHMMSSZ` (RFC 4120 §5.2.3).
//!
//! Converted to/from Unix seconds with the proleptic Gregorian day count (no chrono).
//! Decoding follows MIT 1.20 (k5_asn1_decode_generaltime, measured): exactly 15 bytes
//! (fractional seconds or offsets -> ASN1_BAD_LENGTH), 14 digits then `Z` (else
//! ASN1_BAD_TIMEFORMAT), year >= 1970.  Stricter than MIT on field ranges: MIT
//! normalises month 13 into the next year; we reject it.  Second 60 is accepted as MIT does.

use super::tlv::{err, mit};
use super::DecodeError;

/// Days from 1970-01-01 to the civil date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Earliest/latest encodable instants: 1970-01-01T00:00:00Z .. 9999-12-31T23:59:59Z.
const MIN_TIME: i64 = 0;
const MAX_TIME: i64 = 253_402_300_799;

/// The 15 content bytes for `t` (clamped into the 4-digit-year range).
pub fn encode(t: i64) -> [u8; 15] {
    let t = t.clamp(MIN_TIME, MAX_TIME);
    let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    let mut out = [0u8; 15];
    let mut put = |at: usize, v: i64, width: usize| {
        let mut v = v;
        for i in (0..width).rev() {
            out[at + i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, y, 4);
    put(4, m, 2);
    put(6, d, 2);
    put(8, secs / 3600, 2);
    put(10, secs / 60 % 60, 2);
    put(12, secs % 60, 2);
    out[14] = b'Z';
    out
}

pub fn decode(s: &[u8]) -> Result<i64, DecodeError> {
    let Ok(s) = <&[u8; 15]>::try_from(s) else {
        return Err(err(
            crate::error::minor::ASN1_BAD_LENGTH,
            "KerberosTime is not YYYYMMDDHHMMSSZ",
        ));
    };
    // Every ticket carries three or four of these: all 14 digits converted and checked in
    // one pass (no per-field parsing loop).
    let mut d = [0u8; 14];
    let mut not_digit = s[14] != b'Z';
    for (d, &c) in d.iter_mut().zip(s.iter()) {
        *d = c.wrapping_sub(b'0');
        not_digit |= *d > 9;
    }
    if not_digit {
        return Err(bad_format());
    }
    let two = |i: usize| i64::from(d[i]) * 10 + i64::from(d[i + 1]);
    let (y, mo, day, h, mi, se) = (
        two(0) * 100 + two(2),
        two(4),
        two(6),
        two(8),
        two(10),
        two(12),
    );
    if y < 1970
        || !(1..=12).contains(&mo)
        || !(1..=31).contains(&day)
        || h > 23
        || mi > 59
        || se > 60
    {
        return Err(bad_format());
    }
    Ok(days_from_civil(y, mo, day) * 86_400 + h * 3600 + mi * 60 + se)
}

#[cold]
fn bad_format() -> DecodeError {
    err(mit::ASN1_BAD_TIMEFORMAT, "bad KerberosTime")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The field-by-field parse `decode` replaced, kept as its reference.
    fn reference_decode(s: &[u8]) -> Result<i64, i32> {
        if s.len() != 15 {
            return Err(crate::error::minor::ASN1_BAD_LENGTH);
        }
        if s[14] != b'Z' || !s[..14].iter().all(u8::is_ascii_digit) {
            return Err(mit::ASN1_BAD_TIMEFORMAT);
        }
        let num = |a: usize, n: usize| {
            s[a..a + n]
                .iter()
                .fold(0i64, |v, &c| v * 10 + i64::from(c - b'0'))
        };
        let (y, mo, d, h, mi, se) = (
            num(0, 4),
            num(4, 2),
            num(6, 2),
            num(8, 2),
            num(10, 2),
            num(12, 2),
        );
        if y < 1970
            || !(1..=12).contains(&mo)
            || !(1..=31).contains(&d)
            || h > 23
            || mi > 59
            || se > 60
        {
            return Err(mit::ASN1_BAD_TIMEFORMAT);
        }
        Ok(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + se)
    }

    #[test]
    fn decode_agrees_with_the_reference() {
        // Encodings of instants across the range, each with every position set to every
        // byte value, and every length from 0 to 17.
        let mut checked = 0;
        let mut t = 0i64;
        while t <= MAX_TIME {
            let good = encode(t);
            assert_eq!(decode(&good).map_err(|e| e.minor), Ok(t));
            for at in 0..15 {
                for b in 0..=255u8 {
                    let mut m = good;
                    m[at] = b;
                    assert_eq!(
                        decode(&m).map_err(|e| e.minor),
                        reference_decode(&m),
                        "{m:?}"
                    );
                    checked += 1;
                }
            }
            t += 86_400 * 365 * 7 + 3_600 * 5 + 61 * 7;
        }
        let long = *b"20261126124547Z00";
        for n in 0..=long.len() {
            assert_eq!(
                decode(&long[..n]).map_err(|e| e.minor),
                reference_decode(&long[..n])
            );
        }
        assert!(checked > 1_000_000, "{checked}");
    }

    #[test]
    fn known_instants() {
        assert_eq!(&encode(0), b"19700101000000Z");
        assert_eq!(&encode(1_795_697_147), b"20261126124547Z");
        assert_eq!(decode(b"20261126124547Z").unwrap(), 1_795_697_147);
        assert_eq!(decode(b"20000229235959Z").unwrap(), 951_868_799);
        assert_eq!(&encode(951_868_799), b"20000229235959Z");
        assert_eq!(&encode(MAX_TIME), b"99991231235959Z");
        assert_eq!(&encode(-5), b"19700101000000Z");
        for t in [
            0i64,
            59,
            86_399,
            86_400,
            2_147_483_647,
            2_147_483_648,
            4_102_444_800,
        ] {
            assert_eq!(decode(&encode(t)).unwrap(), t);
        }
    }

    #[test]
    fn rejects_like_mit() {
        use crate::error::minor::ASN1_BAD_LENGTH;
        assert_eq!(
            decode(b"20261126124547.5Z").unwrap_err().minor,
            ASN1_BAD_LENGTH
        );
        assert_eq!(
            decode(b"20261126124547").unwrap_err().minor,
            ASN1_BAD_LENGTH
        );
        assert_eq!(
            decode(b"2026112612454XZ").unwrap_err().minor,
            mit::ASN1_BAD_TIMEFORMAT
        );
        assert_eq!(
            decode(b"19691231235959Z").unwrap_err().minor,
            mit::ASN1_BAD_TIMEFORMAT
        );
        assert_eq!(
            decode(b"20261126124547+").unwrap_err().minor,
            mit::ASN1_BAD_TIMEFORMAT
        );
    }
}
