//! GSS names for the krb5 mechanism: a Kerberos principal, or a host-based service
//! (`service@host`, RFC 2743 §4.1) whose realm is not known until a key or ticket
//! supplies it.

use crate::asn1::PrincipalRef;
use crate::error::{major, minor, Error, Result};
use crate::principal::{name_type, Principal, PrincipalName};

/// Name types accepted by [`Name::import`] (RFC 2743 §4, RFC 1964 §2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameType {
    /// `service@host` (GSS_C_NT_HOSTBASED_SERVICE); `service` alone means the local host.
    HostbasedService,
    /// `comp/comp@REALM` (GSS_KRB5_NT_PRINCIPAL_NAME); realm defaults to the default realm.
    KerberosPrincipal,
    /// A user name (GSS_C_NT_USER_NAME), parsed as a principal.
    UserName,
}

/// A GSS name: a principal, with `any_realm` set when the realm was not given (the
/// host-based form), so it matches that principal in any realm.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Name {
    pub principal: Principal,
    pub any_realm: bool,
}

impl Name {
    /// Imports a name. `default_realm` fills in a principal without `@REALM`; a host-based
    /// name gets no realm (matched against any realm).
    pub fn import(text: &[u8], ty: NameType, default_realm: Option<&[u8]>) -> Result<Name> {
        if text.is_empty() {
            return Err(Error::new(
                major::BAD_NAME,
                minor::PARSE_MALFORMED,
                "empty name",
            ));
        }
        match ty {
            NameType::HostbasedService => {
                let (service, host) = match text.iter().position(|&b| b == b'@') {
                    Some(i) => (&text[..i], text[i + 1..].to_vec()),
                    None => (text, local_hostname()),
                };
                if service.is_empty() || host.is_empty() {
                    return Err(Error::new(
                        major::BAD_NAME,
                        minor::G_BAD_SERVICE_NAME,
                        "expected service@host",
                    ));
                }
                // MIT lower-cases the host part of a host-based name (no DNS canonicalisation here).
                let host = host.to_ascii_lowercase();
                Ok(Name {
                    principal: Principal {
                        realm: default_realm.map(<[u8]>::to_vec).unwrap_or_default(),
                        name: PrincipalName::new(name_type::SRV_HST, &[service, &host]),
                    },
                    any_realm: true,
                })
            }
            NameType::KerberosPrincipal | NameType::UserName => {
                let has_realm = unescaped_at(text);
                let placeholder: &[u8] = b"\0";
                let mut p =
                    Principal::parse_bytes(text, Some(default_realm.unwrap_or(placeholder)))?;
                let any_realm = !has_realm && default_realm.is_none();
                if any_realm {
                    p.realm.clear();
                }
                Ok(Name {
                    principal: p,
                    any_realm,
                })
            }
        }
    }

    pub fn from_principal(principal: Principal) -> Name {
        Name {
            principal,
            any_realm: false,
        }
    }

    /// Does `p` name the same principal (components, and realm unless any_realm)?
    pub fn matches(&self, p: &Principal) -> bool {
        self.matches_ref(&PrincipalRef::of(&p.realm, &p.name))
    }

    /// [`Name::matches`] for a principal as a message names it.
    pub fn matches_ref(&self, p: &PrincipalRef) -> bool {
        p.same_components(&self.principal.name)
            && (self.any_realm || self.principal.realm == p.realm)
    }

    /// The display form: `a/b@REALM`, or `a/b` when the realm is not known.
    pub fn display(&self) -> Vec<u8> {
        if self.any_realm && self.principal.realm.is_empty() {
            self.principal.name_to_bytes()
        } else {
            self.principal.to_bytes()
        }
    }
}

fn unescaped_at(text: &[u8]) -> bool {
    let mut escaped = false;
    for &b in text {
        match (escaped, b) {
            (false, b'\\') => escaped = true,
            (false, b'@') => return true,
            _ => escaped = false,
        }
    }
    false
}

fn local_hostname() -> Vec<u8> {
    let mut buf = [0u8; 256];
    // SAFETY: buf is valid for its length; gethostname NUL-terminates on success.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr() as *mut libc::c_char, buf.len()) };
    if rc != 0 {
        return b"localhost".to_vec();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    buf[..end].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostbased_matches_any_realm() {
        let n = Name::import(b"test@LocalHost", NameType::HostbasedService, None).unwrap();
        assert!(n.any_realm);
        assert_eq!(n.display(), b"test/localhost");
        let p = Principal::parse("test/localhost@TEST.LOCAL", None).unwrap();
        assert!(n.matches(&p));
        assert!(!n.matches(&Principal::parse("test/otherhost@TEST.LOCAL", None).unwrap()));
    }

    #[test]
    fn principal_names() {
        let n = Name::import(b"alice@TEST.LOCAL", NameType::KerberosPrincipal, None).unwrap();
        assert!(!n.any_realm);
        assert!(!n.matches(&Principal::parse("alice@OTHER", None).unwrap()));
        let n = Name::import(b"alice", NameType::UserName, Some(b"R")).unwrap();
        assert_eq!(n.display(), b"alice@R");
        let n = Name::import(b"alice", NameType::UserName, None).unwrap();
        assert!(n.any_realm);
        assert!(Name::import(b"@host", NameType::HostbasedService, None).is_err());
    }
}
