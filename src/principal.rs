//! Kerberos principal names (RFC 4120 §6.2) and their string form as MIT writes it
//! (`comp1/comp2@REALM`, with `\/`, `\@`, `\\`, `\n`, `\t`, `\b`, `\0` escapes).
//!
//! Components and realms are raw bytes: MIT treats KerberosString as octets, so UTF-8
//! names such as `jürgen` pass through unchanged.

use crate::error::{minor, Error, Result};
use std::fmt;

/// RFC 4120 §6.2 name types.
pub mod name_type {
    pub const UNKNOWN: i32 = 0;
    pub const PRINCIPAL: i32 = 1;
    pub const SRV_INST: i32 = 2;
    pub const SRV_HST: i32 = 3;
    pub const SRV_XHST: i32 = 4;
    pub const UID: i32 = 5;
    pub const X500_PRINCIPAL: i32 = 6;
    pub const SMTP_NAME: i32 = 7;
    pub const ENTERPRISE: i32 = 10;
    pub const WELLKNOWN: i32 = 11;
}

/// PrincipalName ::= SEQUENCE { name-type, name-string SEQUENCE OF KerberosString }.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct PrincipalName {
    pub name_type: i32,
    pub components: Vec<Vec<u8>>,
}

/// A principal name together with its realm.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Principal {
    pub realm: Vec<u8>,
    pub name: PrincipalName,
}

impl PrincipalName {
    pub fn new(name_type: i32, components: &[&[u8]]) -> PrincipalName {
        PrincipalName {
            name_type,
            components: components.iter().map(|c| c.to_vec()).collect(),
        }
    }

    /// Component equality, ignoring the name type (as MIT's krb5_principal_compare does).
    pub fn same_components(&self, other: &PrincipalName) -> bool {
        self.components == other.components
    }
}

impl Principal {
    pub fn new(realm: &[u8], name: PrincipalName) -> Principal {
        Principal {
            realm: realm.to_vec(),
            name,
        }
    }

    /// Parses `a/b@REALM`; without `@`, `default_realm` is used (an error when it is `None`).
    pub fn parse(s: &str, default_realm: Option<&[u8]>) -> Result<Principal> {
        Self::parse_bytes(s.as_bytes(), default_realm)
    }

    pub fn parse_bytes(s: &[u8], default_realm: Option<&[u8]>) -> Result<Principal> {
        let malformed = |why: &str| {
            Error::new(
                crate::error::major::BAD_NAME,
                minor::PARSE_MALFORMED,
                format!("{why} in principal name {:?}", String::from_utf8_lossy(s)),
            )
        };
        let mut components = Vec::new();
        let mut current = Vec::new();
        let mut realm: Option<Vec<u8>> = None;
        let mut in_realm = false;
        let mut i = 0;
        while i < s.len() {
            let b = s[i];
            i += 1;
            let out = if in_realm {
                realm.get_or_insert_with(Vec::new)
            } else {
                &mut current
            };
            match b {
                b'\\' => {
                    let e = *s.get(i).ok_or_else(|| malformed("trailing backslash"))?;
                    i += 1;
                    out.push(match e {
                        b'n' => b'\n',
                        b't' => b'\t',
                        b'b' => 8,
                        b'0' => 0,
                        other => other,
                    });
                }
                b'/' if !in_realm => components.push(std::mem::take(&mut current)),
                b'@' if !in_realm => {
                    in_realm = true;
                    realm = Some(Vec::new());
                }
                b'@' | b'/' => return Err(malformed("unescaped separator in realm")),
                _ => out.push(b),
            }
        }
        components.push(current);
        let realm = match realm {
            Some(r) if !r.is_empty() => r,
            Some(_) => return Err(malformed("empty realm")),
            None => default_realm
                .ok_or_else(|| malformed("no realm and no default realm"))?
                .to_vec(),
        };
        if components.iter().all(|c| c.is_empty()) {
            return Err(malformed("empty name"));
        }
        Ok(Principal {
            realm,
            name: PrincipalName {
                name_type: name_type::PRINCIPAL,
                components,
            },
        })
    }

    /// The unparsed form, MIT-escaped; bytes that are not UTF-8 are shown lossily.
    pub fn to_string_lossy(&self) -> String {
        String::from_utf8_lossy(&self.to_bytes()).into_owned()
    }

    /// The unparsed form as bytes (MIT's krb5_unparse_name).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, c) in self.name.components.iter().enumerate() {
            if i > 0 {
                out.push(b'/');
            }
            escape_into(&mut out, c, false);
        }
        out.push(b'@');
        escape_into(&mut out, &self.realm, true);
        out
    }

    /// The name without realm (MIT's KRB5_PRINCIPAL_UNPARSE_NO_REALM).
    pub fn name_to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, c) in self.name.components.iter().enumerate() {
            if i > 0 {
                out.push(b'/');
            }
            escape_into(&mut out, c, false);
        }
        out
    }

    /// Same realm and components (the name type is ignored, as MIT does).
    pub fn matches(&self, other: &Principal) -> bool {
        self.realm == other.realm && self.name.same_components(&other.name)
    }
}

fn escape_into(out: &mut Vec<u8>, bytes: &[u8], realm: bool) {
    for &b in bytes {
        match b {
            b'/' if !realm => out.extend_from_slice(b"\\/"),
            b'@' => out.extend_from_slice(b"\\@"),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\t' => out.extend_from_slice(b"\\t"),
            8 => out.extend_from_slice(b"\\b"),
            0 => out.extend_from_slice(b"\\0"),
            _ => out.push(b),
        }
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_string_lossy())
    }
}

impl fmt::Debug for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Principal({})", self.to_string_lossy())
    }
}

impl fmt::Debug for PrincipalName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .components
            .iter()
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        write!(f, "PrincipalName({}, {})", self.name_type, parts.join("/"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_unparse_round_trip() {
        let p = Principal::parse("host/www.example.com@EXAMPLE.COM", None).unwrap();
        assert_eq!(p.realm, b"EXAMPLE.COM");
        assert_eq!(
            p.name.components,
            vec![b"host".to_vec(), b"www.example.com".to_vec()]
        );
        assert_eq!(p.to_string(), "host/www.example.com@EXAMPLE.COM");
    }

    #[test]
    fn default_realm_and_escapes() {
        let p = Principal::parse("a\\/b\\@c", Some(b"R")).unwrap();
        assert_eq!(p.name.components, vec![b"a/b@c".to_vec()]);
        assert_eq!(p.to_string(), "a\\/b\\@c@R");
        assert!(Principal::parse("alice", None).is_err());
        assert!(Principal::parse("alice@", None).is_err());
        assert!(Principal::parse("alice\\", Some(b"R")).is_err());
    }

    #[test]
    fn utf8_names_are_bytes() {
        let p = Principal::parse("jürgen@TEST.LOCAL", None).unwrap();
        assert_eq!(p.name.components[0], "jürgen".as_bytes());
        assert_eq!(p.to_string(), "jürgen@TEST.LOCAL");
    }
}
