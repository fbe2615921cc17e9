//! The Windows Privilege Attribute Certificate (MS-PAC): what an Active Directory KDC says
//! about the client — SIDs, groups, names — in the ticket's authorization data
//! (AD-IF-RELEVANT → AD-WIN2K-PAC, MS-PAC §3.1), signed with the service key and the
//! KDC's key.
//!
//! [`Pac::parse`] checks the PACTYPE framing (MS-PAC §2.3, §2.4) and every buffer krbap
//! knows in full (bounds, NDR rules, UTF-16, SIDs) without copying or allocating per
//! field: the typed views ([`LogonInfo`], [`ClientInfo`], [`UpnDnsInfo`],
//! [`DelegationInfo`]) decode strings when asked. The acceptor checks the framing, verifies
//! the signatures (`signature.rs`, MS-PAC §2.8) and CLIENT_INFO (§2.7), and leaves the rest
//! to the first reader ([`Pac::check_contents`]): accept is the hot path, and most servers
//! never read LOGON_INFO. [`Pac::verified`] says which signatures held.
//!
//! Layout: `ndr.rs` (the NDR subset), `sid.rs`, one file per structured buffer
//! (`logon_info.rs`, `client_info.rs`, `upn_dns_info.rs`, `delegation.rs`) and
//! `signature.rs` (verification and signing).

use crate::asn1::{ad_type, for_each_authorization_data, AuthorizationData, EncTicketPart};
use crate::crypto::Key;
use crate::error::{major, minor, Error, Result};
use crate::principal::Principal;
use std::sync::OnceLock;

mod client_info;
mod delegation;
mod logon_info;
mod ndr;
mod sid;
mod signature;
mod upn_dns_info;

pub use client_info::ClientInfo;
pub use delegation::DelegationInfo;
pub use logon_info::LogonInfo;
pub use sid::Sid;
pub use signature::{build, checksum_name, sign_ticket_pac, SignatureInfo};
pub use upn_dns_info::{UpnDnsInfo, UPN_CONSTRUCTED, UPN_HAS_SAM_NAME_AND_SID};

/// PAC_INFO_BUFFER ulType values (MS-PAC §2.4).
pub mod buffer_type {
    pub const LOGON_INFO: u32 = 1;
    pub const CREDENTIALS_INFO: u32 = 2;
    pub const SERVER_CHECKSUM: u32 = 6;
    pub const PRIVSVR_CHECKSUM: u32 = 7;
    pub const CLIENT_INFO: u32 = 10;
    pub const CONSTRAINED_DELEGATION: u32 = 11;
    pub const UPN_DNS_INFO: u32 = 12;
    pub const CLIENT_CLAIMS_INFO: u32 = 13;
    pub const DEVICE_INFO: u32 = 14;
    pub const DEVICE_CLAIMS_INFO: u32 = 15;
    pub const TICKET_CHECKSUM: u32 = 16;
    pub const ATTRIBUTES_INFO: u32 = 17;
    pub const REQUESTOR_SID: u32 = 18;
    pub const FULL_CHECKSUM: u32 = 19;

    /// The name MS-PAC gives a buffer type (`"UNKNOWN"` for others).
    pub fn name(t: u32) -> &'static str {
        match t {
            LOGON_INFO => "LOGON_INFO",
            CREDENTIALS_INFO => "CREDENTIALS_INFO",
            SERVER_CHECKSUM => "SERVER_CHECKSUM",
            PRIVSVR_CHECKSUM => "PRIVSVR_CHECKSUM",
            CLIENT_INFO => "CLIENT_INFO",
            CONSTRAINED_DELEGATION => "CONSTRAINED_DELEGATION",
            UPN_DNS_INFO => "UPN_DNS_INFO",
            CLIENT_CLAIMS_INFO => "CLIENT_CLAIMS_INFO",
            DEVICE_INFO => "DEVICE_INFO",
            DEVICE_CLAIMS_INFO => "DEVICE_CLAIMS_INFO",
            TICKET_CHECKSUM => "TICKET_CHECKSUM",
            ATTRIBUTES_INFO => "ATTRIBUTES_INFO",
            REQUESTOR_SID => "REQUESTOR_SID",
            FULL_CHECKSUM => "FULL_CHECKSUM",
            _ => "UNKNOWN",
        }
    }
}

/// Which signatures of a PAC were verified (bits of [`Pac::verified`]).
pub mod verified {
    /// The server signature, with the service key (and CLIENT_INFO matched the ticket).
    pub const SERVER_SIGNATURE: u32 = 1;
    /// The KDC (privilege server) signature, with a KDC key given to the acceptor.
    pub const KDC_SIGNATURE: u32 = 2;
    /// The ticket signature (MS-PAC §2.8.3), with a KDC key.
    pub const TICKET_SIGNATURE: u32 = 4;
    /// The full PAC signature (MS-PAC §2.8.4), with a KDC key.
    pub const FULL_SIGNATURE: u32 = 8;
}

/// GROUP_MEMBERSHIP attributes (MS-PAC §2.2.2, MS-DTYP SE_GROUP_*).
pub mod group_attributes {
    pub const MANDATORY: u32 = 0x1;
    pub const ENABLED_BY_DEFAULT: u32 = 0x2;
    pub const ENABLED: u32 = 0x4;
    pub const OWNER: u32 = 0x8;
    pub const USE_FOR_DENY_ONLY: u32 = 0x10;
    pub const INTEGRITY: u32 = 0x20;
    pub const INTEGRITY_ENABLED: u32 = 0x40;
    /// A domain-local group of the resource domain (MS-PAC §2.2.1).
    pub const RESOURCE: u32 = 0x2000_0000;
    pub const LOGON_ID: u32 = 0xC000_0000;
}

/// UserFlags bits of KERB_VALIDATION_INFO (MS-PAC §2.5).
pub mod user_flags {
    pub const LOGON_EXTRA_SIDS: u32 = 0x20;
    pub const LOGON_RESOURCE_GROUPS: u32 = 0x200;
}

/// What an acceptor does with a ticket's PAC.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PacPolicy {
    /// A PAC must verify or the accept fails; a ticket without a PAC is accepted.
    #[default]
    Verify,
    /// Like `Verify`, and a ticket without a PAC fails too (servers that authorize by
    /// the PAC's groups).
    Require,
    /// MIT krb5's behaviour: a PAC that fails verification does not fail the accept; it
    /// stays available, marked unverified ([`Pac::verified`] 0, [`Pac::failure`] says why).
    AllowUnverified,
}

/// A FILETIME: 100-nanosecond intervals since 1601-01-01 UTC (MS-DTYP §2.3.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileTime(pub u64);

/// Seconds from 1601-01-01 to 1970-01-01.
const FILETIME_UNIX_EPOCH: i64 = 11_644_473_600;

impl FileTime {
    /// 0x7fffffffffffffff: "never" (MS-PAC §2.5, e.g. a KickOffTime that does not apply).
    pub const NEVER: FileTime = FileTime(0x7fff_ffff_ffff_ffff);

    pub fn is_never(self) -> bool {
        self == Self::NEVER
    }
    /// Unix seconds (rounded down) and nanoseconds.
    pub fn to_unix(self) -> (i64, u32) {
        let secs = (self.0 / 10_000_000) as i64 - FILETIME_UNIX_EPOCH;
        (secs, (self.0 % 10_000_000) as u32 * 100)
    }
    /// Unix seconds, `None` for [`FileTime::NEVER`].
    pub fn unix_seconds(self) -> Option<i64> {
        (!self.is_never()).then(|| self.to_unix().0)
    }
}

impl std::fmt::Display for FileTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_never() {
            return f.write_str("never");
        }
        if self.0 == 0 {
            return f.write_str("0 (not set)");
        }
        let (secs, nanos) = self.to_unix();
        // Years up to 9999 in KerberosTime's layout; beyond, the raw value.
        if secs < 253_402_300_800 {
            let k = crate::asn1::time::encode(secs);
            let d = |r: std::ops::Range<usize>| String::from_utf8_lossy(&k[r]).into_owned();
            write!(
                f,
                "{}-{}-{}T{}:{}:{}.{:07}Z",
                d(0..4),
                d(4..6),
                d(6..8),
                d(8..10),
                d(10..12),
                d(12..14),
                nanos / 100
            )
        } else {
            write!(f, "filetime {:#x}", self.0)
        }
    }
}

/// A GROUP_MEMBERSHIP (MS-PAC §2.2.2): a RID in some domain and its SE_GROUP_* attributes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupMembership {
    pub relative_id: u32,
    pub attributes: u32,
}

/// A KERB_SID_AND_ATTRIBUTES (MS-PAC §2.2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SidAndAttributes {
    pub sid: Sid,
    pub attributes: u32,
}

/// Where a group of [`Pac::groups`] came from in KERB_VALIDATION_INFO.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum GroupSource {
    /// GroupIds: the logon domain's groups (LogonDomainId + RID).
    GroupIds = 1,
    /// ExtraSids: SIDs of other domains, well-known SIDs, some domain-local groups.
    ExtraSids = 2,
    /// ResourceGroupIds: domain-local groups of the resource domain
    /// (ResourceGroupDomainSid + RID, normally with SE_GROUP_RESOURCE).
    ResourceGroups = 3,
}

/// One group SID of the user, with its attributes and origin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupSid {
    pub sid: Sid,
    pub attributes: u32,
    pub source: GroupSource,
}

/// ATTRIBUTES_INFO (MS-PAC §2.14).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttributesInfo {
    /// FlagsLength: the number of meaningful bits.
    pub flags_length: u32,
    /// The first 32 flag bits: PAC_WAS_REQUESTED 0x1, PAC_WAS_GIVEN_IMPLICITLY 0x2.
    pub flags: u32,
}

/// One PAC_INFO_BUFFER (MS-PAC §2.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacBuffer {
    pub buffer_type: u32,
    pub offset: u32,
    pub size: u32,
}

/// Real PACs have about ten buffers; more than this is refused (the framing checks are
/// quadratic in the count).
pub const MAX_BUFFERS: usize = 64;
/// The largest PAC parsed (a ticket is rarely over 64 KiB; AD's MaxTokenSize is 48 KiB).
pub const MAX_PAC_SIZE: usize = 1 << 20;

/// A malformed PAC: EINVAL, as MIT's krb5_pac_parse reports one.
#[cold]
#[inline(never)]
pub(crate) fn malformed(detail: impl Into<String>) -> Error {
    Error::new(
        major::FAILURE,
        minor::EINVAL,
        format!("PAC malformed: {}", detail.into()),
    )
}

/// A parsed (and, once accepted, verified) PAC.
///
/// Kept small: an accepted context holds its PAC, and a server holds a context per
/// connection. The buffer table is read from the PAC's own header (checked when parsed)
/// rather than copied, the signature buffers are remembered by index, and what is decoded
/// on first use lives in one box.
pub struct Pac {
    data: Box<[u8]>,
    client_info: Option<client_info::ClientInfoLayout>,
    /// Index in the buffer table of the server, KDC, ticket and full signatures
    /// ([`NO_BUFFER`]: absent).
    signature_buffers: [u8; 4],
    verified: u32,
    failure: Option<Box<Error>>,
    /// The other buffers, decoded on first use (an accept verifies signatures and
    /// CLIENT_INFO; the NDR of LOGON_INFO waits until someone reads the PAC).
    contents: OnceLock<Box<Result<Contents>>>,
}

// The accept path's heap per context (a `make bench` row) counts this struct in full.
const _: () = assert!(std::mem::size_of::<Pac>() <= 72);

/// [`Pac::signature_buffers`] of an absent signature ([`MAX_BUFFERS`] is below it).
const NO_BUFFER: u8 = u8::MAX;
const _: () = assert!(MAX_BUFFERS < NO_BUFFER as usize);

/// The PAC_INFO_BUFFERs of a [`Pac`] in PAC order, read from its header.
#[derive(Clone, Copy)]
pub struct Buffers<'a> {
    data: &'a [u8],
    count: usize,
}

impl<'a> Buffers<'a> {
    pub fn len(&self) -> usize {
        self.count
    }
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
    /// Buffer `index` in PAC order.
    pub fn get(&self, index: usize) -> Option<PacBuffer> {
        (index < self.count).then(|| info_buffer(self.data, index))
    }
    pub fn iter(&self) -> BufferIter<'a> {
        BufferIter {
            data: self.data,
            next: 0,
            count: self.count,
        }
    }
}

impl<'a> IntoIterator for Buffers<'a> {
    type Item = PacBuffer;
    type IntoIter = BufferIter<'a>;
    fn into_iter(self) -> BufferIter<'a> {
        self.iter()
    }
}

/// Iterator over [`Buffers`].
#[derive(Clone)]
pub struct BufferIter<'a> {
    data: &'a [u8],
    next: usize,
    count: usize,
}

impl Iterator for BufferIter<'_> {
    type Item = PacBuffer;
    fn next(&mut self) -> Option<PacBuffer> {
        let i = self.next;
        (i < self.count).then(|| {
            self.next += 1;
            info_buffer(self.data, i)
        })
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.count - self.next;
        (n, Some(n))
    }
}

impl ExactSizeIterator for BufferIter<'_> {}

impl std::fmt::Debug for Buffers<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// PAC_INFO_BUFFER `i` (MS-PAC §2.4) of a PAC whose framing [`Pac::parse_framing`]
/// checked: type, size and an offset that fits in 32 bits.
#[inline]
fn info_buffer(data: &[u8], i: usize) -> PacBuffer {
    let at = 8 + 16 * i;
    PacBuffer {
        buffer_type: u32_at(data, at),
        size: u32_at(data, at + 4),
        offset: u32_at(data, at + 8),
    }
}

/// What [`Pac::contents`] decodes.
#[derive(Debug, Default)]
struct Contents {
    logon_info: Option<logon_info::LogonInfoLayout>,
    upn_dns_info: Option<upn_dns_info::UpnDnsLayout>,
    delegation: Option<delegation::DelegationLayout>,
    attributes: Option<AttributesInfo>,
    requestor_sid: Option<Sid>,
    /// [`Pac::groups`], computed on first use.
    groups: OnceLock<Vec<GroupSid>>,
}

impl std::fmt::Debug for Pac {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pac")
            .field("len", &self.data.len())
            .field("buffers", &self.buffers())
            .field("verified", &self.verified)
            .finish_non_exhaustive()
    }
}

#[inline]
fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

impl Pac {
    /// Parses a PAC (the ad-data of AD-WIN2K-PAC). Checks the framing of MS-PAC §2.3/§2.4
    /// (Version 0, at least one and at most [`MAX_BUFFERS`] buffers, 8-aligned offsets
    /// after the header, every buffer inside the PAC, no two buffers overlapping, no
    /// buffer type twice) and the content of every buffer type krbap decodes. Nothing is
    /// verified: [`Pac::verified`] is 0.
    pub fn parse(bytes: &[u8]) -> Result<Pac> {
        Self::parse_owned(bytes.to_vec())
    }

    /// [`Pac::parse`], keeping `data`.
    pub fn parse_owned(data: Vec<u8>) -> Result<Pac> {
        let mut pac = Self::parse_framing(data)?;
        pac.parse_client_info()?;
        pac.check_contents()?;
        Ok(pac)
    }

    /// The first step of the acceptor: the PACTYPE header, the buffer table and the
    /// signature buffers, so that the signatures can be verified before the content is
    /// parsed (only KDC-signed bytes then reach the NDR parser).
    pub(crate) fn parse_framing(data: Vec<u8>) -> Result<Pac> {
        Self::parse_framing_with_signatures(data).map(|(pac, _)| pac)
    }

    /// [`Pac::parse_framing`], also returning the signature layouts it checked (what
    /// [`Pac::signatures`] would re-read), for the verification that follows.
    fn parse_framing_with_signatures(
        data: Vec<u8>,
    ) -> Result<(Pac, [Option<signature::SignatureLayout>; 4])> {
        let len = data.len();
        if len > MAX_PAC_SIZE {
            return Err(malformed(format!("{len} bytes (at most {MAX_PAC_SIZE})")));
        }
        if len < 8 {
            return Err(malformed(format!(
                "{len} bytes, shorter than the 8-byte PACTYPE header"
            )));
        }
        let count = u32_at(&data, 0) as usize;
        let version = u32_at(&data, 4);
        if version != 0 {
            return Err(malformed(format!("PACTYPE Version {version}, not 0")));
        }
        if count == 0 || count > MAX_BUFFERS {
            return Err(malformed(format!(
                "cBuffers {count} (1 to {MAX_BUFFERS} allowed)"
            )));
        }
        let header = 8 + 16 * count;
        if header > len {
            return Err(malformed(format!(
                "{count} PAC_INFO_BUFFERs need {header} bytes, the PAC has {len}"
            )));
        }
        let mut signature_buffers = [NO_BUFFER; 4];
        let mut layouts = [None; 4];
        // The buffers checked so far, for the pairwise checks (on the stack: no allocation).
        let mut seen = [PacBuffer {
            buffer_type: 0,
            offset: 0,
            size: 0,
        }; MAX_BUFFERS];
        for i in 0..count {
            let at = 8 + 16 * i;
            let ty = u32_at(&data, at);
            let size = u32_at(&data, at + 4) as u64;
            let offset = u64::from_le_bytes(data[at + 8..at + 16].try_into().unwrap_or([0; 8]));
            let name = buffer_type::name(ty);
            if offset % 8 != 0 {
                return Err(malformed(format!(
                    "buffer {i} (type {ty} {name}) at offset {offset}, not 8-aligned"
                )));
            }
            if offset < header as u64 || offset > len as u64 || size > len as u64 - offset {
                return Err(malformed(format!(
                    "buffer {i} (type {ty} {name}) of {size} bytes at offset {offset} is outside the {len}-byte PAC after its {header}-byte header"
                )));
            }
            // Afterwards the table is read in place (`info_buffer`): offsets fit in 32
            // bits, as MAX_PAC_SIZE does.
            let b = PacBuffer {
                buffer_type: ty,
                offset: offset as u32,
                size: size as u32,
            };
            for (j, o) in seen[..i].iter().enumerate() {
                if o.buffer_type == ty {
                    return Err(malformed(format!(
                        "buffer type {ty} ({name}) appears twice (buffers {j} and {i})"
                    )));
                }
                let (a0, a1) = (b.offset, b.offset + b.size);
                let (b0, b1) = (o.offset, o.offset + o.size);
                if a0 < b1 && b0 < a1 {
                    return Err(malformed(format!(
                        "buffers {j} ({}) and {i} ({name}) overlap",
                        buffer_type::name(o.buffer_type)
                    )));
                }
            }
            seen[i] = b;
        }
        // The signature buffers once the whole table is known good (framing errors first).
        for (i, b) in seen[..count].iter().enumerate() {
            let slot = signature::slot(b.buffer_type);
            if slot < 4 {
                layouts[slot] = Some(signature::parse(
                    &data,
                    b.offset as usize,
                    b.size as usize,
                    b.buffer_type,
                )?);
                signature_buffers[slot] = i as u8;
            }
        }
        let pac = Pac {
            data: data.into_boxed_slice(),
            client_info: None,
            signature_buffers,
            verified: 0,
            failure: None,
            contents: OnceLock::new(),
        };
        Ok((pac, layouts))
    }

    /// The server, KDC, ticket and full signature buffers, as checked when parsed.
    fn signatures(&self) -> [Option<signature::SignatureLayout>; 4] {
        self.signature_buffers.map(|i| {
            let b = self.buffers().get(usize::from(i))?;
            signature::parse(
                &self.data,
                b.offset as usize,
                b.size as usize,
                b.buffer_type,
            )
            .ok()
        })
    }

    /// CLIENT_INFO, which verification compares with the ticket.
    pub(crate) fn parse_client_info(&mut self) -> Result<()> {
        if let Some(b) = self.find(buffer_type::CLIENT_INFO) {
            self.client_info = Some(client_info::parse(
                &self.data,
                b.offset as usize,
                b.size as usize,
            )?);
        }
        Ok(())
    }

    fn find(&self, ty: u32) -> Option<PacBuffer> {
        self.buffers().iter().find(|b| b.buffer_type == ty)
    }

    /// Every other buffer krbap decodes.
    fn parse_contents(&self) -> Result<Contents> {
        let mut c = Contents::default();
        for b in self.buffers() {
            let (d, o, s) = (&self.data[..], b.offset as usize, b.size as usize);
            use buffer_type as t;
            match b.buffer_type {
                t::LOGON_INFO => c.logon_info = Some(logon_info::parse(d, o, s)?),
                t::UPN_DNS_INFO => c.upn_dns_info = Some(upn_dns_info::parse(d, o, s)?),
                t::CONSTRAINED_DELEGATION => c.delegation = Some(delegation::parse(d, o, s)?),
                t::ATTRIBUTES_INFO => c.attributes = Some(parse_attributes(&d[o..o + s])?),
                t::REQUESTOR_SID => {
                    let (sid, used) = Sid::from_bytes(&d[o..o + s], "REQUESTOR_SID")?;
                    if used != s {
                        return Err(malformed(format!(
                            "REQUESTOR_SID: {s} bytes hold a SID of {used}"
                        )));
                    }
                    c.requestor_sid = Some(sid);
                }
                // Signatures and CLIENT_INFO were parsed before; credentials (encrypted with
                // the AS reply key), claims and device info are kept as raw bytes.
                _ => {}
            }
        }
        Ok(c)
    }

    /// Boxed: an accepted context holds its PAC, and most are never read (a context's heap
    /// is part of a server's per-connection cost).
    fn contents(&self) -> Option<&Contents> {
        self.contents
            .get_or_init(|| Box::new(self.parse_contents()))
            .as_ref()
            .as_ref()
            .ok()
    }

    /// Decodes the PAC's content (LOGON_INFO, UPN_DNS_INFO, CONSTRAINED_DELEGATION,
    /// ATTRIBUTES_INFO, REQUESTOR_SID) if that has not happened yet, and says whether it
    /// decodes. An accepted context decodes it on first use: a content that does not
    /// decode makes [`crate::gss::context::SecurityContext::pac_info`] refuse the PAC (and
    /// `krbap_ctx_get_pac` fail with EINVAL); the typed getters of such a PAC return
    /// `None`.
    pub fn check_contents(&self) -> Result<()> {
        self.contents
            .get_or_init(|| Box::new(self.parse_contents()))
            .as_ref()
            .as_ref()
            .map(|_| ())
            .map_err(Clone::clone)
    }

    /// The PAC as it was in the ticket.
    pub fn as_bytes(&self) -> &[u8] {
        &self.data
    }
    /// The PAC_INFO_BUFFERs in their order in the PAC.
    pub fn buffers(&self) -> Buffers<'_> {
        Buffers {
            data: &self.data,
            count: u32_at(&self.data, 0) as usize,
        }
    }
    /// The bytes of the buffer of type `buffer_type`, if present.
    pub fn buffer(&self, buffer_type: u32) -> Option<&[u8]> {
        self.find(buffer_type).map(|b| self.buffer_bytes(b))
    }
    pub fn buffer_bytes(&self, b: PacBuffer) -> &[u8] {
        &self.data[b.offset as usize..(b.offset + b.size) as usize]
    }

    /// Which signatures were verified ([`verified`] bits); 0 for a PAC that was only
    /// parsed or that failed verification under [`PacPolicy::AllowUnverified`].
    pub fn verified(&self) -> u32 {
        self.verified
    }
    /// Why verification failed, for a PAC kept under [`PacPolicy::AllowUnverified`].
    pub fn failure(&self) -> Option<&Error> {
        self.failure.as_deref()
    }

    pub fn logon_info(&self) -> Option<LogonInfo<'_>> {
        self.contents()?
            .logon_info
            .as_ref()
            .map(|l| LogonInfo { pac: &self.data, l })
    }
    pub fn client_info(&self) -> Option<ClientInfo<'_>> {
        self.client_info
            .as_ref()
            .map(|l| ClientInfo { pac: &self.data, l })
    }
    pub fn upn_dns_info(&self) -> Option<UpnDnsInfo<'_>> {
        self.contents()?
            .upn_dns_info
            .as_ref()
            .map(|l| UpnDnsInfo { pac: &self.data, l })
    }
    /// S4U_DELEGATION_INFO: present in an S4U2proxy ticket.
    pub fn delegation_info(&self) -> Option<DelegationInfo<'_>> {
        self.contents()?
            .delegation
            .as_ref()
            .map(|l| DelegationInfo { pac: &self.data, l })
    }
    pub fn attributes_info(&self) -> Option<AttributesInfo> {
        self.contents()?.attributes
    }
    pub fn requestor_sid(&self) -> Option<Sid> {
        self.contents()?.requestor_sid
    }
    /// The signature buffer of type 6, 7, 16 or 19.
    pub fn signature(&self, buffer_type: u32) -> Option<SignatureInfo<'_>> {
        let slot = signature::slot(buffer_type);
        if slot >= 4 {
            return None;
        }
        self.signatures()[slot].map(|l| SignatureInfo::new(&self.data, l))
    }

    /// The user's SID: LOGON_INFO's LogonDomainId + UserId.
    pub fn user_sid(&self) -> Option<Sid> {
        self.logon_info()?.user_sid()
    }
    /// The user's primary group SID: LogonDomainId + PrimaryGroupId.
    pub fn primary_group_sid(&self) -> Option<Sid> {
        self.logon_info()?.primary_group_sid()
    }
    /// Every group SID of LOGON_INFO in one list: GroupIds (qualified with
    /// LogonDomainId), then ExtraSids, then ResourceGroupIds (qualified with
    /// ResourceGroupDomainSid). Computed once, on first use.
    pub fn groups(&self) -> &[GroupSid] {
        let Some(contents) = self.contents() else {
            return &[];
        };
        contents.groups.get_or_init(|| {
            let Some(li) = self.logon_info() else {
                return Vec::new();
            };
            let mut out = Vec::with_capacity(
                (li.group_count() + li.extra_sid_count() + li.resource_group_count()) as usize,
            );
            if let Some(domain) = li.logon_domain_id() {
                out.extend(li.group_ids().filter_map(|g| {
                    Some(GroupSid {
                        sid: domain.with_rid(g.relative_id)?,
                        attributes: g.attributes,
                        source: GroupSource::GroupIds,
                    })
                }));
            }
            out.extend(li.extra_sids().map(|s| GroupSid {
                sid: s.sid,
                attributes: s.attributes,
                source: GroupSource::ExtraSids,
            }));
            if let Some(domain) = li.resource_group_domain_sid() {
                out.extend(li.resource_group_ids().filter_map(|g| {
                    Some(GroupSid {
                        sid: domain.with_rid(g.relative_id)?,
                        attributes: g.attributes,
                        source: GroupSource::ResourceGroups,
                    })
                }));
            }
            out
        })
    }
}

/// A CLIENT_INFO buffer (MS-PAC §2.7) for `client` and `authtime`, as a KDC writes it:
/// the authtime as a FILETIME and the name without realm in UTF-16LE. For KDC-side use and
/// tests (`krbap mint-ticket --pac`).
pub fn client_info_buffer(client: &crate::principal::PrincipalName, authtime: i64) -> Vec<u8> {
    let ft = ((authtime + FILETIME_UNIX_EPOCH).max(0) as u64) * 10_000_000;
    let name: Vec<u16> = client
        .components
        .iter()
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("/")
        .encode_utf16()
        .collect();
    let mut b = ft.to_le_bytes().to_vec();
    b.extend_from_slice(&((name.len() * 2) as u16).to_le_bytes());
    for u in name {
        b.extend_from_slice(&u.to_le_bytes());
    }
    b
}

/// ATTRIBUTES_INFO (MS-PAC §2.14): FlagsLength (bits), then ⌈FlagsLength/32⌉ ULONGs.
fn parse_attributes(b: &[u8]) -> Result<AttributesInfo> {
    if b.len() < 8 {
        return Err(malformed(format!(
            "ATTRIBUTES_INFO: {} bytes, shorter than 8",
            b.len()
        )));
    }
    let flags_length = u32_at(b, 0);
    let words = (flags_length as usize).div_ceil(32).max(1);
    if 4 + 4 * words > b.len() {
        return Err(malformed(format!(
            "ATTRIBUTES_INFO: FlagsLength {flags_length} bits in {} bytes",
            b.len()
        )));
    }
    Ok(AttributesInfo {
        flags_length,
        flags: u32_at(b, 4),
    })
}

/// Where the PAC sits in a ticket's authorization data: the index of the top-level
/// AD-IF-RELEVANT element and the index inside it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacLocation {
    pub outer: usize,
    pub inner: usize,
    /// How many entries that AD-IF-RELEVANT holds (1: only the PAC).
    pub entries: usize,
}

/// Finds the ticket's PAC (MS-PAC §3.1: an AD-WIN2K-PAC element inside AD-IF-RELEVANT).
/// A PAC elsewhere — at the top level, or inside an AD-IF-RELEVANT nested in another —
/// and more than one PAC are errors (EINVAL): a KDC issues exactly one, and which one an
/// acceptor would believe must not be ambiguous.
pub fn locate(ad: &AuthorizationData) -> Result<Option<(PacLocation, Vec<u8>)>> {
    let mut found: Option<(PacLocation, Vec<u8>)> = None;
    for (outer, e) in ad.iter().enumerate() {
        if e.ad_type == ad_type::WIN2K_PAC {
            return Err(malformed(
                "an AD-WIN2K-PAC outside AD-IF-RELEVANT in the ticket",
            ));
        }
        if e.ad_type != ad_type::IF_RELEVANT {
            continue;
        }
        // (An AD-IF-RELEVANT that does not decode holds no PAC anyone could see.)
        let mut problem = None;
        let mut inner = 0;
        let _ = for_each_authorization_data(&e.ad_data, |t, data| {
            if t == ad_type::WIN2K_PAC {
                if found.is_some() {
                    problem = Some("the ticket carries more than one PAC");
                } else {
                    found = Some((
                        PacLocation {
                            outer,
                            inner,
                            entries: 0,
                        },
                        data.to_vec(),
                    ));
                }
            } else if t == ad_type::IF_RELEVANT && contains_pac(data, 0) {
                problem = Some("an AD-WIN2K-PAC nested in AD-IF-RELEVANT twice in the ticket");
            }
            inner += 1;
        });
        if let Some(p) = problem {
            return Err(malformed(p));
        }
        if let Some((at, _)) = found.as_mut().filter(|(at, _)| at.outer == outer) {
            at.entries = inner;
        }
    }
    Ok(found)
}

/// Replaces the ticket's PAC (as [`locate`] finds it) with `pac`, re-encoding its
/// AD-IF-RELEVANT container. For KDC-side use and tests (editing or re-signing a PAC).
pub fn replace_in_ticket(part: &mut EncTicketPart, pac: Vec<u8>) -> Result<()> {
    let ad = part
        .authorization_data
        .as_ref()
        .ok_or_else(|| Error::minor(minor::ENOENT, "the ticket has no authorization data"))?;
    let (at, _) =
        locate(ad)?.ok_or_else(|| Error::minor(minor::ENOENT, "the ticket has no PAC"))?;
    signature::put_pac(part, at, pac)
}

fn contains_pac(ad_data: &[u8], depth: usize) -> bool {
    let mut any = false;
    let _ = for_each_authorization_data(ad_data, |t, data| {
        any |= t == ad_type::WIN2K_PAC
            || (t == ad_type::IF_RELEVANT && depth < 4 && contains_pac(data, depth + 1));
    });
    any
}

/// What the acceptor checks a ticket's PAC with.
#[derive(Clone, Copy, Debug)]
pub struct PacCheck<'a> {
    pub policy: PacPolicy,
    /// The KDC's (krbtgt) keys: when given, the KDC, ticket and full signatures are
    /// verified too.
    pub kdc_keys: &'a [Key],
}

impl Default for PacCheck<'_> {
    fn default() -> Self {
        PacCheck {
            policy: PacPolicy::Verify,
            kdc_keys: &[],
        }
    }
}

/// The PAC of an accepted ticket, or why there is none usable (under
/// [`PacPolicy::AllowUnverified`]).
#[derive(Debug, Default)]
pub struct TicketPac {
    pub pac: Option<Pac>,
    /// Where the PAC was in the ticket's authorization data.
    pub location: Option<PacLocation>,
    /// The error of a PAC that could not be located or parsed (AllowUnverified only).
    pub failure: Option<Error>,
}

/// Every verification check of a ticket's PAC on its own (for `krbap decode`): the parsed
/// PAC and, per check, its name and outcome (`None`: not checked). The PAC is located and
/// parsed as [`check_ticket`] does; its errors come back as `Err`.
#[allow(clippy::type_complexity)]
pub fn verification_report(
    ticket: &EncTicketPart,
    server: &Principal,
    service_key: &Key,
    kdc_keys: &[Key],
) -> Result<Option<(Pac, Vec<(&'static str, Option<Result<()>>)>)>> {
    let Some(ad) = ticket.authorization_data.as_ref() else {
        return Ok(None);
    };
    let Some((location, bytes)) = locate(ad)? else {
        return Ok(None);
    };
    let pac = Pac::parse_owned(bytes)?;
    let input = signature::VerifyInput {
        service_key,
        client_realm: &ticket.crealm,
        client_name: &ticket.cname,
        authtime: ticket.authtime,
        kdc_keys,
        ticket,
        ticket_key: &ticket.key.keyvalue,
        location,
        server,
    };
    let report = signature::report(&pac, &input).to_vec();
    Ok(Some((pac, report)))
}

/// The acceptor's PAC step (MS-PAC §3.1.5, MIT's mspac_verify and, with KDC keys,
/// krb5_kdc_verify_ticket plus the full checksum): locate, parse, verify the signatures
/// and CLIENT_INFO, then apply `check.policy`.
pub fn check_ticket(
    ticket: &EncTicketPart,
    server: &Principal,
    service_key: &Key,
    check: &PacCheck,
) -> Result<TicketPac> {
    check_accepted_ticket(ticket, &ticket.key.keyvalue, server, service_key, check)
}

/// [`check_ticket`] for a ticket whose session key the acceptor took out of `ticket.key`
/// (`ticket_key`: its value, which the ticket signature covers).
pub(crate) fn check_accepted_ticket(
    ticket: &EncTicketPart,
    ticket_key: &[u8],
    server: &Principal,
    service_key: &Key,
    check: &PacCheck,
) -> Result<TicketPac> {
    let allow = check.policy == PacPolicy::AllowUnverified;
    let soft = |e: Error| {
        if allow {
            Ok(TicketPac {
                pac: None,
                location: None,
                failure: Some(e),
            })
        } else {
            Err(e)
        }
    };
    let located = match ticket.authorization_data.as_ref().map(locate) {
        None => None,
        Some(Ok(l)) => l,
        Some(Err(e)) => return soft(e),
    };
    let Some((location, bytes)) = located else {
        if check.policy == PacPolicy::Require {
            return Err(Error::minor(
                minor::ENOENT,
                "the ticket carries no PAC and this acceptor requires one",
            ));
        }
        return Ok(TicketPac::default());
    };
    // Signatures before content: the NDR parser sees only what the KDC signed, unless the
    // policy keeps unverified PACs.
    let framed = Pac::parse_framing_with_signatures(bytes)
        .and_then(|(mut p, layouts)| p.parse_client_info().map(|_| (p, layouts)));
    let (mut pac, layouts) = match framed {
        Ok(p) => p,
        Err(e) => return soft(e),
    };
    let input = signature::VerifyInput {
        service_key,
        client_realm: &ticket.crealm,
        client_name: &ticket.cname,
        authtime: ticket.authtime,
        kdc_keys: check.kdc_keys,
        ticket,
        ticket_key,
        location,
        server,
    };
    match signature::verify(&pac, layouts, &input) {
        Ok(mask) => pac.verified = mask,
        Err(e) if allow => pac.failure = Some(Box::new(e)),
        Err(e) => return Err(e),
    }
    // The content is decoded on first use, unless the acceptor depends on the PAC.
    if check.policy == PacPolicy::Require {
        pac.check_contents()?;
    }
    Ok(TicketPac {
        pac: Some(pac),
        location: Some(location),
        failure: None,
    })
}
