//! Security identifiers (MS-DTYP §2.4.2): the binary form (§2.4.2.2) found in UPN_DNS_INFO
//! and REQUESTOR_SID, the NDR form RPC_SID (§2.4.2.3) inside LOGON_INFO, and the string
//! form `S-1-5-21-…` (§2.4.2.1).

use super::malformed;
use crate::error::Error;
use std::fmt;

/// MS-DTYP §2.4.2: at most 15 sub-authorities.
pub const MAX_SUB_AUTHORITIES: usize = 15;

/// A SID, held by value (no allocation).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sid {
    revision: u8,
    count: u8,
    authority: [u8; 6],
    sub: [u32; MAX_SUB_AUTHORITIES],
}

impl Sid {
    /// A SID from its parts (revision 1).
    pub fn new(authority: u64, sub_authorities: &[u32]) -> Option<Sid> {
        if authority >= 1 << 48 || sub_authorities.len() > MAX_SUB_AUTHORITIES {
            return None;
        }
        let mut sid = Sid {
            revision: 1,
            count: sub_authorities.len() as u8,
            authority: [0; 6],
            sub: [0; MAX_SUB_AUTHORITIES],
        };
        sid.authority.copy_from_slice(&authority.to_be_bytes()[2..]);
        sid.sub[..sub_authorities.len()].copy_from_slice(sub_authorities);
        Some(sid)
    }

    /// The revision (always 1 for a SID krbap accepted).
    pub fn revision(&self) -> u8 {
        self.revision
    }
    /// IdentifierAuthority as a number (48 bits, big-endian on the wire).
    pub fn authority(&self) -> u64 {
        let mut b = [0u8; 8];
        b[2..].copy_from_slice(&self.authority);
        u64::from_be_bytes(b)
    }
    pub fn sub_authorities(&self) -> &[u32] {
        &self.sub[..self.count as usize]
    }
    /// The last sub-authority (the RID of an account or group SID).
    pub fn rid(&self) -> Option<u32> {
        self.sub_authorities().last().copied()
    }
    /// This (domain) SID with `rid` appended; `None` when it already has 15 sub-authorities.
    pub fn with_rid(&self, rid: u32) -> Option<Sid> {
        let n = self.count as usize;
        if n >= MAX_SUB_AUTHORITIES {
            return None;
        }
        let mut s = *self;
        s.sub[n] = rid;
        s.count += 1;
        Some(s)
    }

    /// The binary form of MS-DTYP §2.4.2.2 (8 + 4·count bytes).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + 4 * self.count as usize);
        out.push(self.revision);
        out.push(self.count);
        out.extend_from_slice(&self.authority);
        for s in self.sub_authorities() {
            out.extend_from_slice(&s.to_le_bytes());
        }
        out
    }

    /// Parses the binary form at the start of `b`; returns the SID and its length.
    /// Revision must be 1 and the count at most 15 (MS-DTYP §2.4.2.2).
    pub fn from_bytes(b: &[u8], what: &str) -> Result<(Sid, usize), Error> {
        let head = b
            .get(..8)
            .ok_or_else(|| malformed(format!("{what}: SID truncated ({} bytes)", b.len())))?;
        let (revision, count) = (head[0], head[1] as usize);
        let len = 8 + 4 * count;
        check_header(revision, count, what)?;
        let subs = b.get(8..len).ok_or_else(|| {
            malformed(format!(
                "{what}: SID of {count} sub-authorities truncated at {} bytes",
                b.len()
            ))
        })?;
        let mut sid = Sid {
            revision,
            count: count as u8,
            authority: [0; 6],
            sub: [0; MAX_SUB_AUTHORITIES],
        };
        sid.authority.copy_from_slice(&head[2..8]);
        for (i, c) in subs.chunks_exact(4).enumerate() {
            sid.sub[i] = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        }
        Ok((sid, len))
    }
}

/// Revision 1 and at most 15 sub-authorities (MS-DTYP §2.4.2.2).
pub(super) fn check_header(revision: u8, count: usize, what: &str) -> Result<(), Error> {
    if revision != 1 {
        return Err(malformed(format!("{what}: SID revision {revision}, not 1")));
    }
    if count > MAX_SUB_AUTHORITIES {
        return Err(malformed(format!(
            "{what}: SID with {count} sub-authorities (at most {MAX_SUB_AUTHORITIES})"
        )));
    }
    Ok(())
}

/// MS-DTYP §2.4.2.1: `S-1-<authority>-<sub>...`, the authority in decimal below 2^32 and in
/// hexadecimal (`0x…`, 12 digits) from there on.
impl fmt::Display for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = self.authority();
        if a < 1 << 32 {
            write!(f, "S-{}-{a}", self.revision)?;
        } else {
            write!(f, "S-{}-0x{a:012X}", self.revision)?;
        }
        for s in self.sub_authorities() {
            write!(f, "-{s}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sid({self})")
    }
}

impl std::str::FromStr for Sid {
    type Err = Error;
    /// The string form of MS-DTYP §2.4.2.1 (`S-1-5-21-…`; the authority in decimal or
    /// `0x` hexadecimal).
    fn from_str(s: &str) -> Result<Sid, Error> {
        let bad = || malformed(format!("{s:?} is not a SID string"));
        let mut parts = s.split('-');
        if !parts.next().is_some_and(|p| p.eq_ignore_ascii_case("S")) {
            return Err(bad());
        }
        if parts.next() != Some("1") {
            return Err(bad());
        }
        let auth = parts.next().ok_or_else(bad)?;
        let authority = match auth.strip_prefix("0x").or_else(|| auth.strip_prefix("0X")) {
            Some(hex) => u64::from_str_radix(hex, 16).map_err(|_| bad())?,
            None => auth.parse().map_err(|_| bad())?,
        };
        let subs = parts
            .map(|p| p.parse::<u32>().map_err(|_| bad()))
            .collect::<Result<Vec<_>, _>>()?;
        Sid::new(authority, &subs).ok_or_else(bad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_form_round_trips_and_large_authorities_are_hex() {
        let s: Sid = "S-1-5-21-1082170609-4045972416-3362812412-1103"
            .parse()
            .unwrap();
        assert_eq!(
            s.to_string(),
            "S-1-5-21-1082170609-4045972416-3362812412-1103"
        );
        assert_eq!(s.rid(), Some(1103));
        let (back, len) = Sid::from_bytes(&s.to_bytes(), "t").unwrap();
        assert_eq!((back, len), (s, 28));
        assert_eq!(
            Sid::new(1 << 40, &[7]).unwrap().to_string(),
            "S-1-0x010000000000-7"
        );
        assert_eq!("S-1-18-1".parse::<Sid>().unwrap().authority(), 18);
        for bad in ["S-2-5", "X-1-5", "S-1", "S-1-5-x", "S-1-281474976710656"] {
            assert!(bad.parse::<Sid>().is_err(), "{bad}");
        }
        let full = Sid::new(5, &[1; 15]).unwrap();
        assert!(full.with_rid(1).is_none());
    }

    #[test]
    fn binary_form_is_bounded() {
        let s = Sid::new(5, &[21, 1, 2, 3]).unwrap().to_bytes();
        for n in 0..s.len() {
            assert!(Sid::from_bytes(&s[..n], "t").is_err(), "{n}");
        }
        let mut bad = s.clone();
        bad[0] = 2;
        assert!(Sid::from_bytes(&bad, "t").is_err());
        let mut many = s;
        many[1] = 16;
        assert!(Sid::from_bytes(&many, "t").is_err());
    }
}
