//! The Windows PAC (MS-PAC) of an accepted context, typed: a `krbap_pac` handle with
//! getters by field number and by index, in the RFC 2744 style (library-owned output
//! buffers, no structures to lay out), so that C, Python (ctypes) and Go (cgo) read the
//! same fields without parsing. Strings are UTF-8, SIDs are `S-1-5-21-…` strings. Also the
//! acceptor credential's PAC settings.

use super::*;
use crate::pac::{self, FileTime, Pac, PacPolicy};

/// `krbap_cred_set_pac_policy`: a PAC must verify or the accept fails; a ticket without a
/// PAC is accepted (the default).
pub const KRBAP_PAC_VERIFY: u32 = 0;
/// `krbap_cred_set_pac_policy`: like KRBAP_PAC_VERIFY, and a ticket without a PAC fails
/// (KRBAP_S_FAILURE, minor ENOENT).
pub const KRBAP_PAC_REQUIRE: u32 = 1;
/// `krbap_cred_set_pac_policy`: MIT krb5's behaviour: a PAC that fails verification does
/// not fail the accept; `krbap_pac_get_verified` reports 0 and the reason.
pub const KRBAP_PAC_ALLOW_UNVERIFIED: u32 = 2;

/// Bits of `krbap_pac_get_verified`: the server signature verified with the service key
/// and CLIENT_INFO matched the ticket.
pub const KRBAP_PAC_SERVER_SIGNATURE: u32 = 1;
/// The KDC signature verified with a key given by `krbap_cred_set_pac_kdc_keytab`.
pub const KRBAP_PAC_KDC_SIGNATURE: u32 = 2;
/// The ticket signature (MS-PAC §2.8.3) verified with the KDC key.
pub const KRBAP_PAC_TICKET_SIGNATURE: u32 = 4;
/// The full PAC signature (MS-PAC §2.8.4) verified with the KDC key.
pub const KRBAP_PAC_FULL_SIGNATURE: u32 = 8;

/// Sources of `krbap_pac_get_group`: GroupIds (the logon domain's groups).
pub const KRBAP_PAC_GROUP_IDS: u32 = 1;
/// ExtraSids (other domains, well-known SIDs such as S-1-18-1).
pub const KRBAP_PAC_EXTRA_SIDS: u32 = 2;
/// ResourceGroupIds (domain-local groups of the resource domain).
pub const KRBAP_PAC_RESOURCE_GROUPS: u32 = 3;

/// SE_GROUP_* attribute bits of a group (MS-PAC §2.2.1).
pub const KRBAP_SE_GROUP_MANDATORY: u32 = 0x1;
pub const KRBAP_SE_GROUP_ENABLED_BY_DEFAULT: u32 = 0x2;
pub const KRBAP_SE_GROUP_ENABLED: u32 = 0x4;
pub const KRBAP_SE_GROUP_OWNER: u32 = 0x8;
pub const KRBAP_SE_GROUP_USE_FOR_DENY_ONLY: u32 = 0x10;
pub const KRBAP_SE_GROUP_INTEGRITY: u32 = 0x20;
pub const KRBAP_SE_GROUP_INTEGRITY_ENABLED: u32 = 0x40;
pub const KRBAP_SE_GROUP_RESOURCE: u32 = 0x2000_0000;
pub const KRBAP_SE_GROUP_LOGON_ID: u32 = 0xC000_0000;

/// PAC buffer types (MS-PAC §2.4), for `krbap_pac_find_buffer` and `krbap_pac_get_buffer`.
pub const KRBAP_PAC_LOGON_INFO: u32 = 1;
pub const KRBAP_PAC_CREDENTIALS_INFO: u32 = 2;
pub const KRBAP_PAC_SERVER_CHECKSUM: u32 = 6;
pub const KRBAP_PAC_PRIVSVR_CHECKSUM: u32 = 7;
pub const KRBAP_PAC_CLIENT_INFO: u32 = 10;
pub const KRBAP_PAC_CONSTRAINED_DELEGATION: u32 = 11;
pub const KRBAP_PAC_UPN_DNS_INFO: u32 = 12;
pub const KRBAP_PAC_CLIENT_CLAIMS_INFO: u32 = 13;
pub const KRBAP_PAC_DEVICE_INFO: u32 = 14;
pub const KRBAP_PAC_DEVICE_CLAIMS_INFO: u32 = 15;
pub const KRBAP_PAC_TICKET_CHECKSUM: u32 = 16;
pub const KRBAP_PAC_ATTRIBUTES_INFO: u32 = 17;
pub const KRBAP_PAC_REQUESTOR_SID: u32 = 18;
pub const KRBAP_PAC_FULL_CHECKSUM: u32 = 19;

// Number fields (krbap_pac_get_number; the FILETIME ones also krbap_pac_get_time).
/// LOGON_INFO LogonTime (FILETIME).
pub const KRBAP_PAC_LOGON_TIME: u32 = 1;
pub const KRBAP_PAC_LOGOFF_TIME: u32 = 2;
pub const KRBAP_PAC_KICK_OFF_TIME: u32 = 3;
pub const KRBAP_PAC_PASSWORD_LAST_SET: u32 = 4;
pub const KRBAP_PAC_PASSWORD_CAN_CHANGE: u32 = 5;
pub const KRBAP_PAC_PASSWORD_MUST_CHANGE: u32 = 6;
pub const KRBAP_PAC_LOGON_COUNT: u32 = 7;
pub const KRBAP_PAC_BAD_PASSWORD_COUNT: u32 = 8;
/// LOGON_INFO UserId: the user's RID.
pub const KRBAP_PAC_USER_ID: u32 = 9;
pub const KRBAP_PAC_PRIMARY_GROUP_ID: u32 = 10;
/// LOGON_INFO UserFlags (LOGON_EXTRA_SIDS 0x20, LOGON_RESOURCE_GROUPS 0x200).
pub const KRBAP_PAC_USER_FLAGS: u32 = 11;
pub const KRBAP_PAC_RESERVED1_0: u32 = 12;
pub const KRBAP_PAC_RESERVED1_1: u32 = 13;
/// LOGON_INFO UserAccountControl (SAM ACB_* bits).
pub const KRBAP_PAC_USER_ACCOUNT_CONTROL: u32 = 14;
pub const KRBAP_PAC_SUB_AUTH_STATUS: u32 = 15;
pub const KRBAP_PAC_LAST_SUCCESSFUL_ILOGON: u32 = 16;
pub const KRBAP_PAC_LAST_FAILED_ILOGON: u32 = 17;
pub const KRBAP_PAC_FAILED_ILOGON_COUNT: u32 = 18;
pub const KRBAP_PAC_RESERVED3: u32 = 19;
/// CLIENT_INFO ClientId: the ticket's authtime (FILETIME).
pub const KRBAP_PAC_CLIENT_ID: u32 = 20;
/// UPN_DNS_INFO Flags (1: UPN constructed, 2: SamName and Sid present).
pub const KRBAP_PAC_UPN_FLAGS: u32 = 21;
pub const KRBAP_PAC_ATTRIBUTES_FLAGS_LENGTH: u32 = 22;
pub const KRBAP_PAC_ATTRIBUTES_FLAGS: u32 = 23;
/// LOGON_INFO GroupCount, SidCount, ResourceGroupCount.
pub const KRBAP_PAC_GROUP_COUNT: u32 = 24;
pub const KRBAP_PAC_SID_COUNT: u32 = 25;
pub const KRBAP_PAC_RESOURCE_GROUP_COUNT: u32 = 26;
/// CONSTRAINED_DELEGATION TransitedListSize.
pub const KRBAP_PAC_TRANSITED_COUNT: u32 = 27;

// String fields (krbap_pac_get_string): UTF-8, SIDs as S-1-… strings.
/// LOGON_INFO EffectiveName: the account name (sAMAccountName).
pub const KRBAP_PAC_EFFECTIVE_NAME: u32 = 101;
/// LOGON_INFO FullName.
pub const KRBAP_PAC_FULL_NAME: u32 = 102;
pub const KRBAP_PAC_LOGON_SCRIPT: u32 = 103;
pub const KRBAP_PAC_PROFILE_PATH: u32 = 104;
pub const KRBAP_PAC_HOME_DIRECTORY: u32 = 105;
pub const KRBAP_PAC_HOME_DIRECTORY_DRIVE: u32 = 106;
pub const KRBAP_PAC_LOGON_SERVER: u32 = 107;
/// LOGON_INFO LogonDomainName: the NetBIOS domain name.
pub const KRBAP_PAC_LOGON_DOMAIN_NAME: u32 = 108;
/// LOGON_INFO LogonDomainId: the domain SID.
pub const KRBAP_PAC_LOGON_DOMAIN_SID: u32 = 109;
pub const KRBAP_PAC_RESOURCE_GROUP_DOMAIN_SID: u32 = 110;
/// CLIENT_INFO Name.
pub const KRBAP_PAC_CLIENT_NAME: u32 = 111;
/// UPN_DNS_INFO user principal name.
pub const KRBAP_PAC_UPN: u32 = 112;
/// UPN_DNS_INFO DNS domain name.
pub const KRBAP_PAC_DNS_DOMAIN: u32 = 113;
/// UPN_DNS_INFO SamName (extended form).
pub const KRBAP_PAC_SAM_NAME: u32 = 114;
/// UPN_DNS_INFO Sid (extended form).
pub const KRBAP_PAC_UPN_SID: u32 = 115;
/// CONSTRAINED_DELEGATION S4U2proxyTarget.
pub const KRBAP_PAC_PROXY_TARGET: u32 = 116;
pub const KRBAP_PAC_REQUESTOR: u32 = 117;
/// LOGON_INFO UserSessionKey, as 32 hex digits (zero in a PAC).
pub const KRBAP_PAC_USER_SESSION_KEY: u32 = 118;
/// The user's SID: LogonDomainId + UserId.
pub const KRBAP_PAC_USER_SID: u32 = 119;
/// The primary group's SID: LogonDomainId + PrimaryGroupId.
pub const KRBAP_PAC_PRIMARY_GROUP_SID: u32 = 120;

const PAC_MAGIC: u64 = 0x6b72_6261_7050_6163;

/// An opaque PAC handle: from `krbap_ctx_get_pac` (it outlives the context) or
/// `krbap_import_pac`. Immutable; may be shared between threads.
pub struct krbap_pac {
    // As krbap_ctx: the magic first, whatever else the handle holds.
    h: PacHandle,
}

#[repr(C)]
struct PacHandle {
    magic: u64,
    pac: Arc<Pac>,
}

fn pac_ref<'a>(p: *const krbap_pac) -> Result<&'a Pac, Error> {
    // SAFETY: the caller passes a handle from krbap_ctx_get_pac / krbap_import_pac or NULL.
    match unsafe { handle(p, PAC_MAGIC, "PAC", |c| c.h.magic) }? {
        Some(h) => Ok(&h.h.pac),
        None => Err(Error::new(
            major::CALL_INACCESSIBLE_READ,
            minor::EINVAL,
            "PAC handle is NULL",
        )),
    }
}

fn new_pac(pac: Arc<Pac>) -> *mut krbap_pac {
    Box::into_raw(Box::new(krbap_pac {
        h: PacHandle {
            magic: PAC_MAGIC,
            pac,
        },
    }))
}

fn unavailable(what: impl Into<String>) -> Error {
    Error::new(major::UNAVAILABLE, 0, what.into())
}

fn no_buffer(ty: u32) -> Error {
    unavailable(format!(
        "the PAC has no {} buffer",
        pac::buffer_type::name(ty)
    ))
}

fn bad_field(field: u32, kind: &str) -> Error {
    Error::new(
        major::FAILURE,
        minor::EINVAL,
        format!("{field} is not a PAC {kind} field"),
    )
}

/// Sets what accept does with a ticket's PAC: KRBAP_PAC_VERIFY (default), KRBAP_PAC_REQUIRE
/// or KRBAP_PAC_ALLOW_UNVERIFIED. Applies to accepts that start afterwards.
#[no_mangle]
pub extern "C" fn krbap_cred_set_pac_policy(
    minor_status: *mut u32,
    cred: *const krbap_cred,
    policy: u32,
) -> u32 {
    guard(minor_status, || {
        let acc = acceptor_of(cred)?;
        let p = match policy {
            KRBAP_PAC_VERIFY => PacPolicy::Verify,
            KRBAP_PAC_REQUIRE => PacPolicy::Require,
            KRBAP_PAC_ALLOW_UNVERIFIED => PacPolicy::AllowUnverified,
            _ => {
                return Err(Error::new(
                    major::FAILURE,
                    minor::EINVAL,
                    format!("unknown PAC policy {policy}"),
                ))
            }
        };
        acc.set_pac_policy(p);
        Ok(major::COMPLETE)
    })
}

/// Gives an acceptor the KDC's keys (every key in the keytab `keytab`, `FILE:path` or a
/// path, whatever its principal: Samba exports `krbtgt@REALM`, MIT `krbtgt/REALM@REALM`):
/// accept then also verifies the PAC's KDC signature, and its ticket and full signatures
/// when present. NULL removes them. For KDC-side and test use: an ordinary service has
/// only its own key and verifies the server signature.
#[no_mangle]
pub extern "C" fn krbap_cred_set_pac_kdc_keytab(
    minor_status: *mut u32,
    cred: *const krbap_cred,
    keytab: *const c_char,
) -> u32 {
    guard(minor_status, || {
        let acc = acceptor_of(cred)?;
        match c_str(keytab)? {
            Some(k) => acc.set_pac_kdc_keytab(k)?,
            None => acc.set_pac_kdc_keys(Vec::new()),
        }
        Ok(major::COMPLETE)
    })
}

/// The PAC of an accepted context, as a handle that outlives the context (release it with
/// `krbap_release_pac`). Its content (LOGON_INFO, ...) is decoded here, once: a PAC whose
/// content does not decode gives KRBAP_S_FAILURE with minor EINVAL and the reason, as does,
/// under KRBAP_PAC_ALLOW_UNVERIFIED, a PAC that could not even be located or parsed.
/// KRBAP_S_UNAVAILABLE when the ticket carried none.
#[no_mangle]
pub extern "C" fn krbap_ctx_get_pac(
    minor_status: *mut u32,
    context: *const krbap_ctx,
    pac: *mut *mut krbap_pac,
) -> u32 {
    guard(minor_status, || {
        require_out(pac, "PAC")?;
        write_out(pac, std::ptr::null_mut());
        let c = krb5_of(&ctx_ref(context)?.ctx)?;
        let p = c
            .pac_result()?
            .ok_or_else(|| unavailable("the ticket carries no PAC"))?;
        write_out(pac, new_pac(p.clone()));
        Ok(major::COMPLETE)
    })
}

/// Parses PAC bytes (e.g. from `krbap_inquire_pac`, or a PAC from elsewhere) into a
/// handle. Nothing is verified: `krbap_pac_get_verified` reports 0. A malformed PAC gives
/// KRBAP_S_FAILURE with minor EINVAL and the reason in the status text.
#[no_mangle]
pub extern "C" fn krbap_import_pac(
    minor_status: *mut u32,
    pac_bytes: *const krbap_buffer,
    pac: *mut *mut krbap_pac,
) -> u32 {
    guard(minor_status, || {
        require_out(pac, "PAC")?;
        write_out(pac, std::ptr::null_mut());
        let parsed = Pac::parse(input_bytes(pac_bytes)?)?;
        write_out(pac, new_pac(Arc::new(parsed)));
        Ok(major::COMPLETE)
    })
}

/// Releases a PAC handle and sets `*pac` to NULL; a NULL `*pac` is a no-op.
#[no_mangle]
pub extern "C" fn krbap_release_pac(minor_status: *mut u32, pac: *mut *mut krbap_pac) -> u32 {
    guard(minor_status, || {
        if pac.is_null() {
            return Ok(major::COMPLETE);
        }
        // SAFETY: non-null pointer to the caller's handle variable.
        let p = unsafe { std::mem::replace(&mut *pac, std::ptr::null_mut()) };
        // SAFETY: the handle came from new_pac (checked by its magic).
        if unsafe { handle(p, PAC_MAGIC, "PAC", |c| c.h.magic) }?.is_some() {
            let mut b = unsafe { Box::from_raw(p) };
            b.h.magic = 0;
        }
        Ok(major::COMPLETE)
    })
}

/// Which signatures of the PAC were verified when the context was accepted
/// (KRBAP_PAC_SERVER_SIGNATURE | KRBAP_PAC_KDC_SIGNATURE | KRBAP_PAC_TICKET_SIGNATURE |
/// KRBAP_PAC_FULL_SIGNATURE); 0 for an imported PAC or one accepted unverified under
/// KRBAP_PAC_ALLOW_UNVERIFIED, whose reason goes to `failure` (may be NULL; empty when
/// there is none).
#[no_mangle]
pub extern "C" fn krbap_pac_get_verified(
    minor_status: *mut u32,
    pac: *const krbap_pac,
    verified: *mut u32,
    failure: *mut krbap_buffer,
) -> u32 {
    guard(minor_status, || {
        clear_output(failure);
        let p = pac_ref(pac)?;
        write_out(verified, p.verified());
        if !failure.is_null() {
            if let Some(e) = p.failure() {
                output_bytes(failure, e.to_string().into_bytes())?;
            }
        }
        Ok(major::COMPLETE)
    })
}

fn number(p: &Pac, field: u32) -> Result<u64, Error> {
    let li = || {
        p.logon_info()
            .ok_or_else(|| no_buffer(pac::buffer_type::LOGON_INFO))
    };
    let ft = |t: FileTime| Ok(t.0);
    match field {
        KRBAP_PAC_LOGON_TIME => ft(li()?.logon_time()),
        KRBAP_PAC_LOGOFF_TIME => ft(li()?.logoff_time()),
        KRBAP_PAC_KICK_OFF_TIME => ft(li()?.kick_off_time()),
        KRBAP_PAC_PASSWORD_LAST_SET => ft(li()?.password_last_set()),
        KRBAP_PAC_PASSWORD_CAN_CHANGE => ft(li()?.password_can_change()),
        KRBAP_PAC_PASSWORD_MUST_CHANGE => ft(li()?.password_must_change()),
        KRBAP_PAC_LOGON_COUNT => Ok(li()?.logon_count().into()),
        KRBAP_PAC_BAD_PASSWORD_COUNT => Ok(li()?.bad_password_count().into()),
        KRBAP_PAC_USER_ID => Ok(li()?.user_id().into()),
        KRBAP_PAC_PRIMARY_GROUP_ID => Ok(li()?.primary_group_id().into()),
        KRBAP_PAC_USER_FLAGS => Ok(li()?.user_flags().into()),
        KRBAP_PAC_RESERVED1_0 => Ok(li()?.reserved1()[0].into()),
        KRBAP_PAC_RESERVED1_1 => Ok(li()?.reserved1()[1].into()),
        KRBAP_PAC_USER_ACCOUNT_CONTROL => Ok(li()?.user_account_control().into()),
        KRBAP_PAC_SUB_AUTH_STATUS => Ok(li()?.sub_auth_status().into()),
        KRBAP_PAC_LAST_SUCCESSFUL_ILOGON => ft(li()?.last_successful_ilogon()),
        KRBAP_PAC_LAST_FAILED_ILOGON => ft(li()?.last_failed_ilogon()),
        KRBAP_PAC_FAILED_ILOGON_COUNT => Ok(li()?.failed_ilogon_count().into()),
        KRBAP_PAC_RESERVED3 => Ok(li()?.reserved3().into()),
        KRBAP_PAC_GROUP_COUNT => Ok(li()?.group_count().into()),
        KRBAP_PAC_SID_COUNT => Ok(li()?.extra_sid_count().into()),
        KRBAP_PAC_RESOURCE_GROUP_COUNT => Ok(li()?.resource_group_count().into()),
        KRBAP_PAC_CLIENT_ID => p
            .client_info()
            .map(|c| c.client_id().0)
            .ok_or_else(|| no_buffer(pac::buffer_type::CLIENT_INFO)),
        KRBAP_PAC_UPN_FLAGS => p
            .upn_dns_info()
            .map(|u| u.flags().into())
            .ok_or_else(|| no_buffer(pac::buffer_type::UPN_DNS_INFO)),
        KRBAP_PAC_ATTRIBUTES_FLAGS_LENGTH | KRBAP_PAC_ATTRIBUTES_FLAGS => p
            .attributes_info()
            .map(|a| {
                if field == KRBAP_PAC_ATTRIBUTES_FLAGS {
                    a.flags.into()
                } else {
                    a.flags_length.into()
                }
            })
            .ok_or_else(|| no_buffer(pac::buffer_type::ATTRIBUTES_INFO)),
        KRBAP_PAC_TRANSITED_COUNT => p
            .delegation_info()
            .map(|d| d.transited_count().into())
            .ok_or_else(|| no_buffer(pac::buffer_type::CONSTRAINED_DELEGATION)),
        _ => Err(bad_field(field, "number")),
    }
}

/// A number field of the PAC (KRBAP_PAC_LOGON_TIME ... KRBAP_PAC_TRANSITED_COUNT): RIDs,
/// counts, flags, and times as raw FILETIMEs (100 ns since 1601; `krbap_pac_get_time`
/// converts). KRBAP_S_UNAVAILABLE when the PAC lacks the field's buffer (an MIT KDC's PAC
/// has no LOGON_INFO); a string field number gives KRBAP_S_FAILURE with minor EINVAL.
#[no_mangle]
pub extern "C" fn krbap_pac_get_number(
    minor_status: *mut u32,
    pac: *const krbap_pac,
    field: u32,
    value: *mut u64,
) -> u32 {
    guard(minor_status, || {
        write_out(value, 0);
        let v = number(pac_ref(pac)?, field)?;
        write_out(value, v);
        Ok(major::COMPLETE)
    })
}

/// A FILETIME field (KRBAP_PAC_LOGON_TIME ... KRBAP_PAC_PASSWORD_MUST_CHANGE,
/// KRBAP_PAC_LAST_SUCCESSFUL_ILOGON, KRBAP_PAC_LAST_FAILED_ILOGON, KRBAP_PAC_CLIENT_ID) as
/// Unix seconds (rounded down); INT64_MAX for "never" (0x7fffffffffffffff).
#[no_mangle]
pub extern "C" fn krbap_pac_get_time(
    minor_status: *mut u32,
    pac: *const krbap_pac,
    field: u32,
    unix_seconds: *mut i64,
) -> u32 {
    guard(minor_status, || {
        write_out(unix_seconds, 0);
        let is_time = matches!(
            field,
            KRBAP_PAC_LOGON_TIME
                ..=KRBAP_PAC_PASSWORD_MUST_CHANGE
                    | KRBAP_PAC_LAST_SUCCESSFUL_ILOGON
                    | KRBAP_PAC_LAST_FAILED_ILOGON
                    | KRBAP_PAC_CLIENT_ID
        );
        if !is_time {
            return Err(bad_field(field, "time"));
        }
        let t = FileTime(number(pac_ref(pac)?, field)?);
        write_out(unix_seconds, t.unix_seconds().unwrap_or(i64::MAX));
        Ok(major::COMPLETE)
    })
}

fn string(p: &Pac, field: u32) -> Result<String, Error> {
    let li = || {
        p.logon_info()
            .ok_or_else(|| no_buffer(pac::buffer_type::LOGON_INFO))
    };
    let upn = || {
        p.upn_dns_info()
            .ok_or_else(|| no_buffer(pac::buffer_type::UPN_DNS_INFO))
    };
    let sid = |s: Option<pac::Sid>, what: &str| {
        s.map(|s| s.to_string())
            .ok_or_else(|| unavailable(format!("the PAC has no {what}")))
    };
    match field {
        KRBAP_PAC_EFFECTIVE_NAME => Ok(li()?.effective_name()),
        KRBAP_PAC_FULL_NAME => Ok(li()?.full_name()),
        KRBAP_PAC_LOGON_SCRIPT => Ok(li()?.logon_script()),
        KRBAP_PAC_PROFILE_PATH => Ok(li()?.profile_path()),
        KRBAP_PAC_HOME_DIRECTORY => Ok(li()?.home_directory()),
        KRBAP_PAC_HOME_DIRECTORY_DRIVE => Ok(li()?.home_directory_drive()),
        KRBAP_PAC_LOGON_SERVER => Ok(li()?.logon_server()),
        KRBAP_PAC_LOGON_DOMAIN_NAME => Ok(li()?.logon_domain_name()),
        KRBAP_PAC_LOGON_DOMAIN_SID => sid(li()?.logon_domain_id(), "LogonDomainId"),
        KRBAP_PAC_RESOURCE_GROUP_DOMAIN_SID => {
            sid(li()?.resource_group_domain_sid(), "ResourceGroupDomainSid")
        }
        KRBAP_PAC_USER_SESSION_KEY => Ok(li()?
            .user_session_key()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()),
        KRBAP_PAC_USER_SID => sid(li()?.user_sid(), "user SID"),
        KRBAP_PAC_PRIMARY_GROUP_SID => sid(li()?.primary_group_sid(), "primary group SID"),
        KRBAP_PAC_CLIENT_NAME => p
            .client_info()
            .map(|c| c.name())
            .ok_or_else(|| no_buffer(pac::buffer_type::CLIENT_INFO)),
        KRBAP_PAC_UPN => Ok(upn()?.upn()),
        KRBAP_PAC_DNS_DOMAIN => Ok(upn()?.dns_domain()),
        KRBAP_PAC_SAM_NAME => upn()?
            .sam_name()
            .ok_or_else(|| unavailable("UPN_DNS_INFO has no SamName (not the extended form)")),
        KRBAP_PAC_UPN_SID => sid(upn()?.sid(), "Sid in UPN_DNS_INFO"),
        KRBAP_PAC_PROXY_TARGET => p
            .delegation_info()
            .map(|d| d.proxy_target())
            .ok_or_else(|| no_buffer(pac::buffer_type::CONSTRAINED_DELEGATION)),
        KRBAP_PAC_REQUESTOR => sid(p.requestor_sid(), "REQUESTOR_SID buffer"),
        _ => Err(bad_field(field, "string")),
    }
}

/// A string field of the PAC (KRBAP_PAC_EFFECTIVE_NAME ... KRBAP_PAC_PRIMARY_GROUP_SID) as
/// UTF-8 (not NUL-terminated; release with `krbap_buffer_free`); SIDs as `S-1-5-21-…`. An
/// absent or null string in a present buffer is empty; KRBAP_S_UNAVAILABLE when the
/// buffer (or the SID) is absent.
#[no_mangle]
pub extern "C" fn krbap_pac_get_string(
    minor_status: *mut u32,
    pac: *const krbap_pac,
    field: u32,
    value: *mut krbap_buffer,
) -> u32 {
    guard(minor_status, || {
        clear_output(value);
        let s = string(pac_ref(pac)?, field)?;
        output_bytes(value, s.into_bytes())?;
        Ok(major::COMPLETE)
    })
}

/// How many group SIDs the user has: GroupIds, ExtraSids and ResourceGroupIds of
/// LOGON_INFO together (0 without LOGON_INFO).
#[no_mangle]
pub extern "C" fn krbap_pac_group_count(
    minor_status: *mut u32,
    pac: *const krbap_pac,
    count: *mut usize,
) -> u32 {
    guard(minor_status, || {
        write_out(count, pac_ref(pac)?.groups().len());
        Ok(major::COMPLETE)
    })
}

/// Group `index` (0-based; GroupIds first, then ExtraSids, then ResourceGroupIds): its
/// SID as a string, its SE_GROUP_* attributes (KRBAP_SE_GROUP_RESOURCE for a resource
/// group) and where it came from (KRBAP_PAC_GROUP_IDS, KRBAP_PAC_EXTRA_SIDS,
/// KRBAP_PAC_RESOURCE_GROUPS). `attributes` and `source` may be NULL. Past the end:
/// KRBAP_S_UNAVAILABLE.
#[no_mangle]
pub extern "C" fn krbap_pac_get_group(
    minor_status: *mut u32,
    pac: *const krbap_pac,
    index: usize,
    sid: *mut krbap_buffer,
    attributes: *mut u32,
    source: *mut u32,
) -> u32 {
    guard(minor_status, || {
        clear_output(sid);
        let g = pac_ref(pac)?
            .groups()
            .get(index)
            .ok_or_else(|| unavailable("no group at that index"))?;
        output_bytes(sid, g.sid.to_string().into_bytes())?;
        write_out(attributes, g.attributes);
        write_out(source, g.source as u32);
        Ok(major::COMPLETE)
    })
}

/// How many services S4U_DELEGATION_INFO lists as transited (0 without the buffer).
#[no_mangle]
pub extern "C" fn krbap_pac_transited_count(
    minor_status: *mut u32,
    pac: *const krbap_pac,
    count: *mut usize,
) -> u32 {
    guard(minor_status, || {
        let p = pac_ref(pac)?;
        write_out(
            count,
            p.delegation_info()
                .map_or(0, |d| d.transited_count() as usize),
        );
        Ok(major::COMPLETE)
    })
}

/// Transited service `index` of S4U_DELEGATION_INFO (e.g. `svc@AD.TEST`, the service
/// that obtained the S4U2proxy ticket). Past the end: KRBAP_S_UNAVAILABLE.
#[no_mangle]
pub extern "C" fn krbap_pac_get_transited(
    minor_status: *mut u32,
    pac: *const krbap_pac,
    index: usize,
    service: *mut krbap_buffer,
) -> u32 {
    guard(minor_status, || {
        clear_output(service);
        let p = pac_ref(pac)?;
        let s = p
            .delegation_info()
            .and_then(|d| d.transited_services().into_iter().nth(index))
            .ok_or_else(|| unavailable("no transited service at that index"))?;
        output_bytes(service, s.into_bytes())?;
        Ok(major::COMPLETE)
    })
}

/// How many buffers the PAC has.
#[no_mangle]
pub extern "C" fn krbap_pac_buffer_count(
    minor_status: *mut u32,
    pac: *const krbap_pac,
    count: *mut usize,
) -> u32 {
    guard(minor_status, || {
        write_out(count, pac_ref(pac)?.buffers().len());
        Ok(major::COMPLETE)
    })
}

/// Buffer `index` in PAC order: its type (KRBAP_PAC_LOGON_INFO, ...) and raw bytes
/// (`data` may be NULL to learn only the type). Past the end: KRBAP_S_UNAVAILABLE.
#[no_mangle]
pub extern "C" fn krbap_pac_get_buffer(
    minor_status: *mut u32,
    pac: *const krbap_pac,
    index: usize,
    buffer_type: *mut u32,
    data: *mut krbap_buffer,
) -> u32 {
    guard(minor_status, || {
        clear_output(data);
        let p = pac_ref(pac)?;
        let b = p
            .buffers()
            .get(index)
            .ok_or_else(|| unavailable("no PAC buffer at that index"))?;
        write_out(buffer_type, b.buffer_type);
        if !data.is_null() {
            output_bytes(data, p.buffer_bytes(b).to_vec())?;
        }
        Ok(major::COMPLETE)
    })
}

/// The raw bytes of the buffer of type `buffer_type` (e.g. KRBAP_PAC_CLIENT_CLAIMS_INFO,
/// which krbap does not decode). KRBAP_S_UNAVAILABLE when the PAC has none.
#[no_mangle]
pub extern "C" fn krbap_pac_find_buffer(
    minor_status: *mut u32,
    pac: *const krbap_pac,
    buffer_type: u32,
    data: *mut krbap_buffer,
) -> u32 {
    guard(minor_status, || {
        clear_output(data);
        let b = pac_ref(pac)?
            .buffer(buffer_type)
            .ok_or_else(|| no_buffer(buffer_type))?;
        output_bytes(data, b.to_vec())?;
        Ok(major::COMPLETE)
    })
}

/// The signature buffer of type `buffer_type` (KRBAP_PAC_SERVER_CHECKSUM,
/// KRBAP_PAC_PRIVSVR_CHECKSUM, KRBAP_PAC_TICKET_CHECKSUM, KRBAP_PAC_FULL_CHECKSUM): its
/// SignatureType (16 = hmac-sha1-96-aes256, 20 = hmac-sha384-192-aes256, -138 = RC4's
/// HMAC-MD5, ...) and Signature bytes. KRBAP_S_UNAVAILABLE when absent.
#[no_mangle]
pub extern "C" fn krbap_pac_get_signature(
    minor_status: *mut u32,
    pac: *const krbap_pac,
    buffer_type: u32,
    signature_type: *mut i32,
    signature: *mut krbap_buffer,
) -> u32 {
    guard(minor_status, || {
        clear_output(signature);
        write_out(signature_type, 0);
        let s = pac_ref(pac)?
            .signature(buffer_type)
            .ok_or_else(|| no_buffer(buffer_type))?;
        write_out(signature_type, s.signature_type());
        if !signature.is_null() {
            output_bytes(signature, s.signature().to_vec())?;
        }
        Ok(major::COMPLETE)
    })
}
