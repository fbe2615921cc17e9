//! CLIENT_INFO (PAC buffer type 10, PAC_CLIENT_INFO, MS-PAC §2.7): the client's name and
//! the ticket's authtime as the KDC saw them. An acceptor compares both with the ticket
//! (MS-PAC §2.7: "the ClientId ... MUST match the authtime of the ticket"), which binds
//! the PAC to this client's ticket.

use super::ndr::{utf16, Utf16Ref};
use super::{malformed, FileTime};
use crate::error::{minor, Error};
use crate::principal::{Principal, PrincipalName};

#[derive(Clone, Copy, Debug)]
pub(super) struct ClientInfoLayout {
    client_id: u64,
    name: Utf16Ref,
}

pub(super) fn parse(pac: &[u8], offset: usize, size: usize) -> Result<ClientInfoLayout, Error> {
    let b = &pac[offset..offset + size];
    if b.len() < 10 {
        return Err(malformed(format!(
            "CLIENT_INFO: {} bytes, shorter than its 10-byte header",
            b.len()
        )));
    }
    let client_id = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
    let name_len = u16::from_le_bytes([b[8], b[9]]) as usize;
    if name_len > size - 10 {
        return Err(malformed(format!(
            "CLIENT_INFO: NameLength {name_len} past the buffer's {size} bytes"
        )));
    }
    let name = utf16(pac, offset + 10, name_len, "CLIENT_INFO")?;
    Ok(ClientInfoLayout { client_id, name })
}

/// Checks CLIENT_INFO against the ticket: ClientId equal to the authtime (whole seconds,
/// as MIT compares) and Name equal to the client principal without its realm (MIT's
/// display form, e.g. `alice` or `host/web.example.com`), or with it (`alice@REALM`, as
/// some KDCs write for cross-realm and S4U clients).
pub(super) fn check(
    pac: &[u8],
    l: &ClientInfoLayout,
    realm: &[u8],
    client: &PrincipalName,
    authtime: i64,
) -> Result<(), Error> {
    let pac_secs = FileTime(l.client_id).unix_seconds();
    if pac_secs != Some(authtime) {
        return Err(Error::minor(
            minor::AP_WRONG_PRINC,
            format!(
                "PAC CLIENT_INFO time {} differs from the ticket's authtime {authtime}",
                FileTime(l.client_id)
            ),
        ));
    }
    // MIT's display form: components joined by '/', unescaped; not UTF-8 never matches
    // (the PAC's name is UTF-16).
    let comps = &client.components;
    fn utf8(b: &[u8]) -> Option<&str> {
        std::str::from_utf8(b).ok()
    }
    let matches = match utf8(realm) {
        Some(realm) if comps.iter().all(|c| utf8(c).is_some()) => {
            let name = || {
                comps.iter().enumerate().flat_map(move |(i, c)| {
                    (if i > 0 { "/" } else { "" })
                        .encode_utf16()
                        .chain(utf8(c).unwrap_or_default().encode_utf16())
                })
            };
            l.name.eq_units(pac, name())
                || l.name.eq_units(
                    pac,
                    name().chain("@".encode_utf16()).chain(realm.encode_utf16()),
                )
        }
        _ => false,
    };
    if !matches {
        return Err(Error::minor(
            minor::AP_WRONG_PRINC,
            format!(
                "PAC CLIENT_INFO name {:?} differs from the ticket's client {}",
                l.name.to_string(pac),
                Principal::new(realm, client.clone())
            ),
        ));
    }
    Ok(())
}

/// PAC_CLIENT_INFO of a parsed PAC.
#[derive(Clone, Copy, Debug)]
pub struct ClientInfo<'a> {
    pub(super) pac: &'a [u8],
    pub(super) l: &'a ClientInfoLayout,
}

impl ClientInfo<'_> {
    /// ClientId: the ticket's authtime as a FILETIME.
    pub fn client_id(&self) -> FileTime {
        FileTime(self.l.client_id)
    }
    /// Name: the client's name (no realm, as Samba and MIT write it).
    pub fn name(&self) -> String {
        self.l.name.to_string(self.pac)
    }
}
