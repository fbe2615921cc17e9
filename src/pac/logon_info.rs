//! LOGON_INFO (PAC buffer type 1): KERB_VALIDATION_INFO (MS-PAC §2.5), NDR-encoded in the
//! type serialization envelope (MS-PAC §2.4 → MS-RPCE §2.2.6) behind a top-level unique
//! pointer (PAC_LOGON_INFO).
//!
//! The parse walks the whole structure once, checks every count, pointer and string
//! against the NDR rules and the buffer's end, and keeps only offsets into the PAC (no
//! allocation); the accessors of [`LogonInfo`] decode strings and SIDs when asked.

use super::ndr::{Reader, Utf16Ref};
use super::sid::Sid;
use super::{FileTime, GroupMembership, SidAndAttributes};
use crate::error::Error;

/// Where the (RelativeId, Attributes) pairs of a GROUP_MEMBERSHIP array start.
#[derive(Clone, Copy, Debug, Default)]
struct RidArray {
    at: u32,
    count: u32,
}

/// Where the KERB_SID_AND_ATTRIBUTES entries and their deferred RPC_SIDs start.
#[derive(Clone, Copy, Debug, Default)]
struct SidArray {
    entries_at: u32,
    sids_at: u32,
    count: u32,
}

/// KERB_VALIDATION_INFO as offsets and values (MS-PAC §2.5 field order).
#[derive(Clone, Debug)]
pub(super) struct LogonInfoLayout {
    /// LogonTime, LogoffTime, KickOffTime, PasswordLastSet, PasswordCanChange,
    /// PasswordMustChange.
    times: [u64; 6],
    /// EffectiveName, FullName, LogonScript, ProfilePath, HomeDirectory,
    /// HomeDirectoryDrive, LogonServer, LogonDomainName.
    strings: [Utf16Ref; 8],
    logon_count: u16,
    bad_password_count: u16,
    user_id: u32,
    primary_group_id: u32,
    group_ids: RidArray,
    user_flags: u32,
    user_session_key: [u8; 16],
    logon_domain_id: Option<Sid>,
    reserved1: [u32; 2],
    user_account_control: u32,
    sub_auth_status: u32,
    last_successful_ilogon: u64,
    last_failed_ilogon: u64,
    failed_ilogon_count: u32,
    reserved3: u32,
    extra_sids: SidArray,
    resource_group_domain_sid: Option<Sid>,
    resource_group_ids: RidArray,
}

const STRING_FIELDS: [&str; 8] = [
    "EffectiveName",
    "FullName",
    "LogonScript",
    "ProfilePath",
    "HomeDirectory",
    "HomeDirectoryDrive",
    "LogonServer",
    "LogonDomainName",
];

/// A GROUP_MEMBERSHIP array's deferred part (MS-PAC §2.2.2): conformance, then the pairs.
fn rid_array(r: &mut Reader, present: bool, count: u32, field: &str) -> Result<RidArray, Error> {
    match (present, count) {
        (false, 0) => Ok(RidArray::default()),
        (false, n) => Err(r.err(format_args!("{field}: count {n} with a null array"))),
        (true, _) => {
            r.conformance(count, 8, field)?;
            let at = r.pos() as u32;
            r.bytes(8 * count as usize)?;
            Ok(RidArray { at, count })
        }
    }
}

pub(super) fn parse(pac: &[u8], offset: usize, size: usize) -> Result<LogonInfoLayout, Error> {
    let mut r = Reader::type_serialized(pac, offset, size, "LOGON_INFO")?;
    r.top_pointer()?;
    let mut times = [0u64; 6];
    for t in &mut times {
        *t = r.filetime()?;
    }
    // Six strings here, two more after UserSessionKey; their bodies follow in the same
    // order among the deferred pointees.
    let mut string_headers = [None; 8];
    for (i, h) in string_headers.iter_mut().enumerate().take(6) {
        *h = Some(r.string_header(STRING_FIELDS[i])?);
    }
    let logon_count = r.u16()?;
    let bad_password_count = r.u16()?;
    let user_id = r.u32()?;
    let primary_group_id = r.u32()?;
    let group_count = r.u32()?;
    let groups_present = r.pointer()?;
    let user_flags = r.u32()?;
    let mut user_session_key = [0u8; 16];
    user_session_key.copy_from_slice(r.bytes(16)?);
    for (i, h) in string_headers.iter_mut().enumerate().skip(6) {
        *h = Some(r.string_header(STRING_FIELDS[i])?);
    }
    let domain_id_present = r.pointer()?;
    let reserved1 = [r.u32()?, r.u32()?];
    let user_account_control = r.u32()?;
    let sub_auth_status = r.u32()?;
    let last_successful_ilogon = r.filetime()?;
    let last_failed_ilogon = r.filetime()?;
    let failed_ilogon_count = r.u32()?;
    let reserved3 = r.u32()?;
    let sid_count = r.u32()?;
    let extra_present = r.pointer()?;
    let resource_domain_present = r.pointer()?;
    let resource_group_count = r.u32()?;
    let resource_groups_present = r.pointer()?;

    // Deferred pointees, in the order their pointers appeared.
    let mut strings = [Utf16Ref::default(); 8];
    for i in 0..6 {
        if let Some(h) = string_headers[i] {
            strings[i] = r.string_body(h, STRING_FIELDS[i])?;
        }
    }
    let group_ids = rid_array(&mut r, groups_present, group_count, "GroupIds")?;
    for i in 6..8 {
        if let Some(h) = string_headers[i] {
            strings[i] = r.string_body(h, STRING_FIELDS[i])?;
        }
    }
    let logon_domain_id = if domain_id_present {
        let sid = r.sid("LogonDomainId")?;
        if sid.with_rid(0).is_none() {
            return Err(r.err("LogonDomainId has no room for a RID (15 sub-authorities)"));
        }
        Some(sid)
    } else {
        None
    };
    if logon_domain_id.is_none() && (group_count > 0 || user_id != 0) {
        return Err(r.err("no LogonDomainId for the user's and groups' RIDs"));
    }
    let extra_sids = match (extra_present, sid_count) {
        (false, 0) => SidArray::default(),
        (false, n) => return Err(r.err(format_args!("ExtraSids: count {n} with a null array"))),
        (true, count) => {
            r.conformance(count, 8, "ExtraSids")?;
            let entries_at = r.pos() as u32;
            for _ in 0..count {
                if !r.pointer()? {
                    return Err(r.err("ExtraSids: null SID pointer"));
                }
                r.u32()?;
            }
            let sids_at = r.pos() as u32;
            for _ in 0..count {
                r.sid("ExtraSids")?;
            }
            SidArray {
                entries_at,
                sids_at,
                count,
            }
        }
    };
    let resource_group_domain_sid = if resource_domain_present {
        let sid = r.sid("ResourceGroupDomainSid")?;
        if sid.with_rid(0).is_none() {
            return Err(r.err("ResourceGroupDomainSid has no room for a RID"));
        }
        Some(sid)
    } else {
        None
    };
    let resource_group_ids = rid_array(
        &mut r,
        resource_groups_present,
        resource_group_count,
        "ResourceGroupIds",
    )?;
    if resource_group_ids.count > 0 && resource_group_domain_sid.is_none() {
        return Err(r.err("ResourceGroupIds without a ResourceGroupDomainSid"));
    }
    Ok(LogonInfoLayout {
        times,
        strings,
        logon_count,
        bad_password_count,
        user_id,
        primary_group_id,
        group_ids,
        user_flags,
        user_session_key,
        logon_domain_id,
        reserved1,
        user_account_control,
        sub_auth_status,
        last_successful_ilogon,
        last_failed_ilogon,
        failed_ilogon_count,
        reserved3,
        extra_sids,
        resource_group_domain_sid,
        resource_group_ids,
    })
}

fn u32_at(pac: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([pac[at], pac[at + 1], pac[at + 2], pac[at + 3]])
}

fn rids<'a>(pac: &'a [u8], a: RidArray) -> impl Iterator<Item = GroupMembership> + 'a {
    (0..a.count as usize).map(move |i| {
        let at = a.at as usize + 8 * i;
        GroupMembership {
            relative_id: u32_at(pac, at),
            attributes: u32_at(pac, at + 4),
        }
    })
}

/// KERB_VALIDATION_INFO of a parsed PAC (MS-PAC §2.5). Strings are decoded from UTF-16
/// when asked for; empty when the PAC has a null or empty string.
#[derive(Clone, Copy)]
pub struct LogonInfo<'a> {
    pub(super) pac: &'a [u8],
    pub(super) l: &'a LogonInfoLayout,
}

impl std::fmt::Debug for LogonInfo<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogonInfo")
            .field("effective_name", &self.effective_name())
            .field("user_id", &self.user_id())
            .field("logon_domain_id", &self.logon_domain_id())
            .finish_non_exhaustive()
    }
}

impl<'a> LogonInfo<'a> {
    fn s(&self, i: usize) -> String {
        self.l.strings[i].to_string(self.pac)
    }
    pub fn logon_time(&self) -> FileTime {
        FileTime(self.l.times[0])
    }
    pub fn logoff_time(&self) -> FileTime {
        FileTime(self.l.times[1])
    }
    pub fn kick_off_time(&self) -> FileTime {
        FileTime(self.l.times[2])
    }
    pub fn password_last_set(&self) -> FileTime {
        FileTime(self.l.times[3])
    }
    pub fn password_can_change(&self) -> FileTime {
        FileTime(self.l.times[4])
    }
    pub fn password_must_change(&self) -> FileTime {
        FileTime(self.l.times[5])
    }
    /// The account name (sAMAccountName).
    pub fn effective_name(&self) -> String {
        self.s(0)
    }
    pub fn full_name(&self) -> String {
        self.s(1)
    }
    pub fn logon_script(&self) -> String {
        self.s(2)
    }
    pub fn profile_path(&self) -> String {
        self.s(3)
    }
    pub fn home_directory(&self) -> String {
        self.s(4)
    }
    pub fn home_directory_drive(&self) -> String {
        self.s(5)
    }
    pub fn logon_server(&self) -> String {
        self.s(6)
    }
    /// The NetBIOS name of the account's domain.
    pub fn logon_domain_name(&self) -> String {
        self.s(7)
    }
    pub fn logon_count(&self) -> u16 {
        self.l.logon_count
    }
    pub fn bad_password_count(&self) -> u16 {
        self.l.bad_password_count
    }
    /// The account's RID.
    pub fn user_id(&self) -> u32 {
        self.l.user_id
    }
    pub fn primary_group_id(&self) -> u32 {
        self.l.primary_group_id
    }
    /// GroupIds: RIDs in the logon domain.
    pub fn group_ids(&self) -> impl Iterator<Item = GroupMembership> + 'a {
        rids(self.pac, self.l.group_ids)
    }
    pub fn group_count(&self) -> u32 {
        self.l.group_ids.count
    }
    /// UserFlags (MS-PAC §2.5: LOGON_EXTRA_SIDS 0x20, LOGON_RESOURCE_GROUPS 0x200, ...).
    pub fn user_flags(&self) -> u32 {
        self.l.user_flags
    }
    /// UserSessionKey (zero in a PAC, MS-PAC §2.5).
    pub fn user_session_key(&self) -> [u8; 16] {
        self.l.user_session_key
    }
    /// The SID of the logon domain (absent only when there is no RID to qualify).
    pub fn logon_domain_id(&self) -> Option<Sid> {
        self.l.logon_domain_id
    }
    pub fn reserved1(&self) -> [u32; 2] {
        self.l.reserved1
    }
    /// UserAccountControl (SAM ACB_* bits, MS-SAMR §2.2.1.12, not LDAP's UF_* values).
    pub fn user_account_control(&self) -> u32 {
        self.l.user_account_control
    }
    pub fn sub_auth_status(&self) -> u32 {
        self.l.sub_auth_status
    }
    pub fn last_successful_ilogon(&self) -> FileTime {
        FileTime(self.l.last_successful_ilogon)
    }
    pub fn last_failed_ilogon(&self) -> FileTime {
        FileTime(self.l.last_failed_ilogon)
    }
    pub fn failed_ilogon_count(&self) -> u32 {
        self.l.failed_ilogon_count
    }
    pub fn reserved3(&self) -> u32 {
        self.l.reserved3
    }
    /// ExtraSids: whole SIDs (other domains, well-known SIDs such as S-1-18-1, and
    /// domain-local groups some KDCs put here with SE_GROUP_RESOURCE).
    pub fn extra_sids(&self) -> impl Iterator<Item = SidAndAttributes> + 'a {
        let pac = self.pac;
        let a = self.l.extra_sids;
        let mut sid_at = a.sids_at as usize;
        (0..a.count as usize).map(move |i| {
            let attributes = u32_at(pac, a.entries_at as usize + 8 * i + 4);
            // Each RPC_SID: conformance (4), revision, count, authority (6), 4·count; the
            // next one is 4-aligned, which 12 + 4·count always is.
            let count = pac[sid_at + 5] as usize;
            let sid = match Sid::from_bytes(&pac[sid_at + 4..], "ExtraSids") {
                Ok((sid, _)) => sid,
                Err(_) => unreachable!("checked when the PAC was parsed"),
            };
            sid_at += 12 + 4 * count;
            SidAndAttributes { sid, attributes }
        })
    }
    pub fn extra_sid_count(&self) -> u32 {
        self.l.extra_sids.count
    }
    pub fn resource_group_domain_sid(&self) -> Option<Sid> {
        self.l.resource_group_domain_sid
    }
    /// ResourceGroupIds: RIDs in the resource group domain (attributes normally carry
    /// SE_GROUP_RESOURCE).
    pub fn resource_group_ids(&self) -> impl Iterator<Item = GroupMembership> + 'a {
        rids(self.pac, self.l.resource_group_ids)
    }
    pub fn resource_group_count(&self) -> u32 {
        self.l.resource_group_ids.count
    }
    /// LogonDomainId + UserId.
    pub fn user_sid(&self) -> Option<Sid> {
        self.l.logon_domain_id?.with_rid(self.l.user_id)
    }
    /// LogonDomainId + PrimaryGroupId.
    pub fn primary_group_sid(&self) -> Option<Sid> {
        self.l.logon_domain_id?.with_rid(self.l.primary_group_id)
    }
}
