//! UPN_DNS_INFO (PAC buffer type 12, MS-PAC §2.10): the user principal name and the DNS
//! domain name, and with the S flag (extended form, Windows 2016+ and Samba 4.15+) the
//! sAMAccountName and the user's SID. A plain little-endian structure, not NDR: offsets
//! count from the buffer's start and need not be aligned (Samba puts the SID at 82).

use super::malformed;
use super::ndr::{utf16, Utf16Ref};
use super::sid::Sid;
use crate::error::Error;

/// Flags: U, the UPN was constructed (the account has no userPrincipalName).
pub const UPN_CONSTRUCTED: u32 = 0x1;
/// Flags: S, SamName and Sid follow (the extended form).
pub const UPN_HAS_SAM_NAME_AND_SID: u32 = 0x2;

#[derive(Clone, Copy, Debug)]
pub(super) struct UpnDnsLayout {
    upn: Utf16Ref,
    dns_domain: Utf16Ref,
    flags: u32,
    sam_name: Option<Utf16Ref>,
    sid: Option<Sid>,
}

fn u16_at(b: &[u8], at: usize) -> usize {
    u16::from_le_bytes([b[at], b[at + 1]]) as usize
}

/// A (length, offset) string of the buffer, bounded by its end.
fn string(
    pac: &[u8],
    offset: usize,
    size: usize,
    len: usize,
    at: usize,
    field: &str,
) -> Result<Utf16Ref, Error> {
    if len == 0 {
        return Ok(Utf16Ref::default());
    }
    if at > size || len > size - at {
        return Err(malformed(format!(
            "UPN_DNS_INFO: {field} ({len} bytes at {at}) past the buffer's {size} bytes"
        )));
    }
    utf16(pac, offset + at, len, "UPN_DNS_INFO")
}

pub(super) fn parse(pac: &[u8], offset: usize, size: usize) -> Result<UpnDnsLayout, Error> {
    let b = &pac[offset..offset + size];
    if b.len() < 12 {
        return Err(malformed(format!(
            "UPN_DNS_INFO: {} bytes, shorter than its 12-byte header",
            b.len()
        )));
    }
    let flags = u32::from_le_bytes([b[8], b[9], b[10], b[11]]);
    let upn = string(pac, offset, size, u16_at(b, 0), u16_at(b, 2), "Upn")?;
    let dns_domain = string(
        pac,
        offset,
        size,
        u16_at(b, 4),
        u16_at(b, 6),
        "DnsDomainName",
    )?;
    let (mut sam_name, mut sid) = (None, None);
    if flags & UPN_HAS_SAM_NAME_AND_SID != 0 {
        if b.len() < 20 {
            return Err(malformed(format!(
                "UPN_DNS_INFO: S flag set but {} bytes, shorter than the 20-byte extended header",
                b.len()
            )));
        }
        sam_name = Some(string(
            pac,
            offset,
            size,
            u16_at(b, 12),
            u16_at(b, 14),
            "SamName",
        )?);
        let (sid_len, sid_at) = (u16_at(b, 16), u16_at(b, 18));
        if sid_at > size || sid_len > size - sid_at {
            return Err(malformed(format!(
                "UPN_DNS_INFO: Sid ({sid_len} bytes at {sid_at}) past the buffer's {size} bytes"
            )));
        }
        let (s, used) = Sid::from_bytes(&b[sid_at..sid_at + sid_len], "UPN_DNS_INFO")?;
        if used != sid_len {
            return Err(malformed(format!(
                "UPN_DNS_INFO: SidLength {sid_len}, but the SID takes {used} bytes"
            )));
        }
        sid = Some(s);
    }
    Ok(UpnDnsLayout {
        upn,
        dns_domain,
        flags,
        sam_name,
        sid,
    })
}

/// UPN_DNS_INFO of a parsed PAC.
#[derive(Clone, Copy, Debug)]
pub struct UpnDnsInfo<'a> {
    pub(super) pac: &'a [u8],
    pub(super) l: &'a UpnDnsLayout,
}

impl UpnDnsInfo<'_> {
    /// The user principal name (e.g. `alice@ad.test`); constructed from the account name
    /// and DNS domain when [`UpnDnsInfo::flags`] has [`UPN_CONSTRUCTED`].
    pub fn upn(&self) -> String {
        self.l.upn.to_string(self.pac)
    }
    /// The DNS name of the user's domain (e.g. `AD.TEST`).
    pub fn dns_domain(&self) -> String {
        self.l.dns_domain.to_string(self.pac)
    }
    pub fn flags(&self) -> u32 {
        self.l.flags
    }
    /// sAMAccountName (extended form only).
    pub fn sam_name(&self) -> Option<String> {
        self.l.sam_name.map(|s| s.to_string(self.pac))
    }
    /// The user's SID (extended form only).
    pub fn sid(&self) -> Option<Sid> {
        self.l.sid
    }
}
