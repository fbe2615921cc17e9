//! Kerberos principal names (RFC 4120 §6.2) and their string form as MIT writes it
//! (`comp1/comp2@REALM`, with `\/`, `\@`, `\\`, `\n`, `\t`, `\b`, `\0` escapes).
//!
//! Components and realms are raw bytes: MIT treats KerberosString as octets, so UTF-8
//! names such as `jürgen` pass through unchanged.

use crate::asn1::PrincipalRef;
use crate::error::{minor, Error, Result};
use std::fmt;
use std::sync::OnceLock;

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

/// Room for a principal's realm and components' DER in an [`InlinePrincipal`]: an SPN such
/// as `HTTP/host.corp.example.com@CORP.EXAMPLE.COM` takes about 50 bytes.
const INLINE_ROOM: usize = 64;

/// A principal kept as its realm and its components' DER, inline (no allocation), and
/// built on first use: an accepted context's server, which most servers never ask for. A
/// name too long for the room, or not from a message, is held built.
pub enum InlinePrincipal {
    Built(Principal),
    Kept {
        name_type: i32,
        realm_len: u8,
        len: u8,
        bytes: [u8; INLINE_ROOM],
        /// Boxed: a context keeps room for a pointer, not for a `Principal`.
        built: OnceLock<Box<Principal>>,
    },
}

impl InlinePrincipal {
    pub fn new(p: &PrincipalRef) -> InlinePrincipal {
        match p.components_der() {
            Some(der) if p.realm.len() + der.len() <= INLINE_ROOM => {
                let mut bytes = [0; INLINE_ROOM];
                let (realm, rest) = bytes.split_at_mut(p.realm.len());
                realm.copy_from_slice(p.realm);
                rest[..der.len()].copy_from_slice(der);
                InlinePrincipal::Kept {
                    name_type: p.name_type,
                    // Both fit in INLINE_ROOM (< 256).
                    realm_len: p.realm.len() as u8,
                    len: (p.realm.len() + der.len()) as u8,
                    bytes,
                    built: OnceLock::new(),
                }
            }
            _ => InlinePrincipal::Built(p.to_principal()),
        }
    }

    pub fn get(&self) -> &Principal {
        match self {
            InlinePrincipal::Built(p) => p,
            InlinePrincipal::Kept {
                name_type,
                realm_len,
                len,
                bytes,
                built,
            } => built.get_or_init(|| {
                let (realm, der) = bytes[..usize::from(*len)].split_at(usize::from(*realm_len));
                Box::new(PrincipalRef::from_der(realm, *name_type, der).to_principal())
            }),
        }
    }
}

impl From<Principal> for InlinePrincipal {
    fn from(p: Principal) -> InlinePrincipal {
        InlinePrincipal::Built(p)
    }
}

impl Default for InlinePrincipal {
    fn default() -> InlinePrincipal {
        InlinePrincipal::Built(Principal::default())
    }
}

impl fmt::Debug for InlinePrincipal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.get(), f)
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

    /// `comp/...@realm` as a message carries it: the realm and the components' DER.
    fn der_components(components: &[&[u8]]) -> Vec<u8> {
        let mut der = Vec::new();
        for c in components {
            der.push(0x1b);
            crate::asn1::push_der_length(&mut der, c.len());
            der.extend_from_slice(c);
        }
        der
    }

    #[test]
    fn inline_principal_keeps_short_names_and_builds_them_on_use() {
        let cases: [(&[u8], &[&[u8]]); 5] = [
            (b"TEST.LOCAL", &[b"test", b"localhost"]),
            (b"", &[]),
            (b"R", &[b""]),
            (b"AD.EXAMPLE.COM", &[b"HTTP", b"web01.ad.example.com"]),
            // Too long for the room: built at once.
            (
                b"CORP.EUROPE.EXAMPLE.COM",
                &[b"HTTP", b"webserver01.corp.europe.example.com"],
            ),
        ];
        for (realm, components) in cases {
            let der = der_components(components);
            let view = PrincipalRef::from_der(realm, name_type::SRV_HST, &der);
            let want = Principal {
                realm: realm.to_vec(),
                name: PrincipalName::new(name_type::SRV_HST, components),
            };
            assert_eq!(view.to_principal(), want);
            assert!(view.matches(&want));
            let kept = InlinePrincipal::new(&view);
            let inline = realm.len() + der.len() <= INLINE_ROOM;
            assert_eq!(matches!(kept, InlinePrincipal::Kept { .. }), inline);
            assert_eq!(kept.get(), &want);
            assert_eq!(kept.get().name.components.capacity(), components.len());
            // A view of a decoded name is held built.
            let owned = InlinePrincipal::new(&PrincipalRef::of(&want.realm, &want.name));
            assert!(matches!(owned, InlinePrincipal::Built(_)));
            assert_eq!(owned.get(), &want);
        }
    }

    #[test]
    fn principal_views_match_as_principals_do() {
        let names: [(&[u8], &[&[u8]]); 6] = [
            (b"TEST.LOCAL", &[b"test", b"localhost"]),
            (b"TEST.LOCAL", &[b"test"]),
            (b"TEST.LOCAL", &[b"test", b"localhost", b"x"]),
            (b"TEST.LOCAL", &[b"test", b"localhosT"]),
            (b"OTHER", &[b"test", b"localhost"]),
            (b"TEST.LOCAL", &[]),
        ];
        for (r1, c1) in names {
            let der = der_components(c1);
            let p1 = Principal::new(r1, PrincipalName::new(name_type::PRINCIPAL, c1));
            let from_der = PrincipalRef::from_der(r1, name_type::SRV_HST, &der);
            let of = PrincipalRef::of(&p1.realm, &p1.name);
            assert!(from_der.components().eq(c1.iter().copied()));
            for (r2, c2) in names {
                // The name type is not compared, as Principal::matches.
                let p2 = Principal::new(r2, PrincipalName::new(name_type::SRV_INST, c2));
                assert_eq!(from_der.matches(&p2), p1.matches(&p2), "{p1} / {p2}");
                assert_eq!(of.matches(&p2), p1.matches(&p2), "{p1} / {p2}");
                // Views are equal when realm, name type and components are.
                let same_type = Principal::new(r2, PrincipalName::new(name_type::SRV_HST, c2));
                let v2 = PrincipalRef::of(&same_type.realm, &same_type.name);
                assert_eq!(from_der == v2, r1 == r2 && c1 == c2);
                assert!(from_der != PrincipalRef::of(&p2.realm, &p2.name));
            }
        }
    }

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
