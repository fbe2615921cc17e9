//! Status codes and their text (RFC 2744 §3.9, §5.11 gss_display_status): the major
//! status values, the per-thread detail of the last error, and the panic guard every C
//! entry point runs in.

use super::*;

/// `status_type` for `krbap_display_status`: a major status.
pub const KRBAP_C_GSS_CODE: i32 = 1;
/// `status_type` for `krbap_display_status`: a minor (mechanism) status.
pub const KRBAP_C_MECH_CODE: i32 = 2;

// Major status values, identical to RFC 2744 GSS_S_* (literals: cbindgen cannot evaluate
// paths; a unit test checks them against crate::error::major).
pub const KRBAP_S_COMPLETE: u32 = 0;
pub const KRBAP_S_CONTINUE_NEEDED: u32 = 1;
pub const KRBAP_S_DUPLICATE_TOKEN: u32 = 1 << 1;
pub const KRBAP_S_OLD_TOKEN: u32 = 1 << 2;
pub const KRBAP_S_UNSEQ_TOKEN: u32 = 1 << 3;
pub const KRBAP_S_GAP_TOKEN: u32 = 1 << 4;
pub const KRBAP_S_CALL_INACCESSIBLE_READ: u32 = 1 << 24;
pub const KRBAP_S_CALL_INACCESSIBLE_WRITE: u32 = 2 << 24;
pub const KRBAP_S_CALL_BAD_STRUCTURE: u32 = 3 << 24;
pub const KRBAP_S_BAD_MECH: u32 = 1 << 16;
pub const KRBAP_S_BAD_NAME: u32 = 2 << 16;
pub const KRBAP_S_BAD_NAMETYPE: u32 = 3 << 16;
pub const KRBAP_S_BAD_BINDINGS: u32 = 4 << 16;
pub const KRBAP_S_BAD_STATUS: u32 = 5 << 16;
pub const KRBAP_S_BAD_SIG: u32 = 6 << 16;
pub const KRBAP_S_NO_CRED: u32 = 7 << 16;
pub const KRBAP_S_NO_CONTEXT: u32 = 8 << 16;
pub const KRBAP_S_DEFECTIVE_TOKEN: u32 = 9 << 16;
pub const KRBAP_S_DEFECTIVE_CREDENTIAL: u32 = 10 << 16;
pub const KRBAP_S_CREDENTIALS_EXPIRED: u32 = 11 << 16;
pub const KRBAP_S_CONTEXT_EXPIRED: u32 = 12 << 16;
pub const KRBAP_S_FAILURE: u32 = 13 << 16;
pub const KRBAP_S_BAD_QOP: u32 = 14 << 16;
pub const KRBAP_S_UNAUTHORIZED: u32 = 15 << 16;
pub const KRBAP_S_UNAVAILABLE: u32 = 16 << 16;
pub const KRBAP_S_DUPLICATE_ELEMENT: u32 = 17 << 16;

thread_local! {
    /// The detail of the last error on this thread, for krbap_display_status (MIT keeps
    /// extended error messages the same way).
    static LAST_ERROR: RefCell<Option<(i32, String)>> = const { RefCell::new(None) };
}

/// Records `e` for display and returns its major status, writing the minor status.
pub(crate) fn fail(minor_status: *mut u32, e: &Error) -> u32 {
    LAST_ERROR.with(|l| *l.borrow_mut() = Some((e.minor, e.detail.clone())));
    set_minor(minor_status, e.minor as u32);
    e.major
}

pub(crate) fn set_minor(minor_status: *mut u32, value: u32) {
    if !minor_status.is_null() {
        // SAFETY: the caller passes a valid pointer or NULL (checked).
        unsafe { *minor_status = value };
    }
}

/// Runs `f`, converting a panic into GSS_S_FAILURE so that no unwind crosses into C.
pub(crate) fn guard(minor_status: *mut u32, f: impl FnOnce() -> Result<u32, Error>) -> u32 {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(major)) => {
            set_minor(minor_status, 0);
            major
        }
        Ok(Err(e)) => fail(minor_status, &e),
        Err(_) => fail(
            minor_status,
            &Error::minor(
                minor::ERR_GENERIC,
                "internal error (panic caught at the C boundary)",
            ),
        ),
    }
}

/// Text of the routine-error and supplementary parts of a major status, in the order
/// MIT returns them; `message_context` iterates over them (0 on the first call, 0 again
/// when the last message was returned).
pub(crate) fn major_messages(status: u32) -> Vec<&'static str> {
    let mut out = Vec::new();
    match (status & major::CALLING_ERROR_MASK) >> 24 {
        0 => {}
        1 => out.push("A required input parameter could not be read"),
        2 => out.push("A required output parameter could not be written"),
        3 => out.push("A parameter was malformed"),
        _ => out.push("An invalid calling error code was supplied"),
    }
    let routine = match status & major::ROUTINE_ERROR_MASK {
        0 => None,
        major::BAD_MECH => Some("An unsupported mechanism was requested"),
        major::BAD_NAME => Some("An invalid name was supplied"),
        major::BAD_NAMETYPE => Some("A supplied name was of an unsupported type"),
        major::BAD_BINDINGS => Some("Incorrect channel bindings were supplied"),
        major::BAD_STATUS => Some("An invalid status code was supplied"),
        major::BAD_SIG => Some("A token had an invalid Message Integrity Check (MIC)"),
        major::NO_CRED => Some(
            "No credentials were supplied, or the credentials were unavailable or inaccessible",
        ),
        major::NO_CONTEXT => Some("No context has been established"),
        major::DEFECTIVE_TOKEN => Some("Invalid token was supplied"),
        major::DEFECTIVE_CREDENTIAL => Some("Invalid credential was supplied"),
        major::CREDENTIALS_EXPIRED => Some("The referenced credential has expired"),
        major::CONTEXT_EXPIRED => Some("The referenced context has expired"),
        major::FAILURE => Some("Unspecified GSS failure.  Minor code may provide more information"),
        major::BAD_QOP => Some("The quality-of-protection (QOP) requested could not be provided"),
        major::UNAUTHORIZED => Some("The operation is forbidden by local security policy"),
        major::UNAVAILABLE => Some("The operation or option is not available or unsupported"),
        major::DUPLICATE_ELEMENT => Some("The requested credential element already exists"),
        major::NAME_NOT_MN => Some("The provided name was not mechanism specific (MN)"),
        _ => Some("An invalid routine error code was supplied"),
    };
    out.extend(routine);
    let supp = [
        (
            major::CONTINUE_NEEDED,
            "The routine must be called again to complete its function",
        ),
        (
            major::DUPLICATE_TOKEN,
            "The token was a duplicate of an earlier token",
        ),
        (major::OLD_TOKEN, "The token's validity period has expired"),
        (
            major::UNSEQ_TOKEN,
            "A later token has already been processed",
        ),
        (
            major::GAP_TOKEN,
            "An expected per-message token was not received",
        ),
    ];
    out.extend(
        supp.iter()
            .filter(|(bit, _)| status & bit != 0)
            .map(|(_, m)| *m),
    );
    if out.is_empty() {
        out.push("The routine completed successfully");
    }
    out
}

/// Converts a status code to text (RFC 2744 gss_display_status). With
/// `KRBAP_C_GSS_CODE`, one message per error/supplementary part of the major status:
/// call again while `*message_context` is non-zero. With `KRBAP_C_MECH_CODE`, MIT's text
/// for the minor code followed, when this thread's last failure had that minor code, by
/// its detail (e.g. "Clock skew too great (skew 421 s, allowed 300 s)").
#[no_mangle]
pub extern "C" fn krbap_display_status(
    minor_status: *mut u32,
    status_value: u32,
    status_type: i32,
    message_context: *mut u32,
    status_string: *mut krbap_buffer,
) -> u32 {
    guard(minor_status, || {
        clear_output(status_string);
        let index = if message_context.is_null() {
            0
        } else {
            // SAFETY: non-null caller-owned u32.
            unsafe { *message_context as usize }
        };
        let (text, more) = match status_type {
            KRBAP_C_GSS_CODE => {
                let msgs = major_messages(status_value);
                let Some(m) = msgs.get(index) else {
                    return Err(Error::new(
                        major::BAD_STATUS,
                        minor::EINVAL,
                        "message_context out of range",
                    ));
                };
                (m.to_string(), index + 1 < msgs.len())
            }
            KRBAP_C_MECH_CODE => {
                let code = status_value as i32;
                let base = minor::message(code);
                let detail = LAST_ERROR.with(|l| {
                    l.borrow()
                        .as_ref()
                        .filter(|(c, d)| *c == code && !d.is_empty())
                        .map(|(_, d)| d.clone())
                });
                let text = match (base, detail) {
                    ("Unknown code", Some(d)) => d,
                    ("Unknown code", None) => format!("Unknown code {code}"),
                    (b, Some(d)) => format!("{b} ({d})"),
                    (b, None) => b.to_string(),
                };
                (text, false)
            }
            _ => {
                return Err(Error::new(
                    major::BAD_STATUS,
                    minor::EINVAL,
                    "unknown status_type",
                ))
            }
        };
        if !message_context.is_null() {
            // SAFETY: non-null caller-owned u32.
            unsafe { *message_context = if more { index as u32 + 1 } else { 0 } };
        }
        output_bytes(status_string, text.into_bytes())?;
        Ok(major::COMPLETE)
    })
}

/// The library version, a static NUL-terminated string (do not free).
#[no_mangle]
pub extern "C" fn krbap_version() -> *const std::ffi::c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr() as *const std::ffi::c_char
}

/// MIT's symbolic name of a minor status (e.g. "KRB5KRB_AP_ERR_SKEW" for -1765328347, the
/// identifier in MIT's com_err tables and `<krb5/krb5.h>`), a static NUL-terminated string
/// (do not free); NULL for a code krbap does not know. For logs and language bindings.
#[no_mangle]
pub extern "C" fn krbap_minor_status_name(minor_status: u32) -> *const std::ffi::c_char {
    catch_unwind(|| minor::name(minor_status as i32))
        .ok()
        .flatten()
        .map_or(std::ptr::null(), |name| name.as_ptr())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keytab_recheck_matches_the_core() {
        assert_eq!(
            KRBAP_KEYTAB_RECHECK_MS as u64,
            crate::cred::KEYTAB_RECHECK_MS
        );
    }

    #[test]
    fn c_constants_equal_the_core_ones() {
        let pairs = [
            (KRBAP_S_COMPLETE, major::COMPLETE),
            (KRBAP_S_CONTINUE_NEEDED, major::CONTINUE_NEEDED),
            (KRBAP_S_DUPLICATE_TOKEN, major::DUPLICATE_TOKEN),
            (KRBAP_S_OLD_TOKEN, major::OLD_TOKEN),
            (KRBAP_S_UNSEQ_TOKEN, major::UNSEQ_TOKEN),
            (KRBAP_S_GAP_TOKEN, major::GAP_TOKEN),
            (
                KRBAP_S_CALL_INACCESSIBLE_READ,
                major::CALL_INACCESSIBLE_READ,
            ),
            (
                KRBAP_S_CALL_INACCESSIBLE_WRITE,
                major::CALL_INACCESSIBLE_WRITE,
            ),
            (KRBAP_S_CALL_BAD_STRUCTURE, major::CALL_BAD_STRUCTURE),
            (KRBAP_S_BAD_MECH, major::BAD_MECH),
            (KRBAP_S_BAD_NAME, major::BAD_NAME),
            (KRBAP_S_BAD_NAMETYPE, major::BAD_NAMETYPE),
            (KRBAP_S_BAD_BINDINGS, major::BAD_BINDINGS),
            (KRBAP_S_BAD_STATUS, major::BAD_STATUS),
            (KRBAP_S_BAD_SIG, major::BAD_SIG),
            (KRBAP_S_NO_CRED, major::NO_CRED),
            (KRBAP_S_NO_CONTEXT, major::NO_CONTEXT),
            (KRBAP_S_DEFECTIVE_TOKEN, major::DEFECTIVE_TOKEN),
            (KRBAP_S_DEFECTIVE_CREDENTIAL, major::DEFECTIVE_CREDENTIAL),
            (KRBAP_S_CREDENTIALS_EXPIRED, major::CREDENTIALS_EXPIRED),
            (KRBAP_S_CONTEXT_EXPIRED, major::CONTEXT_EXPIRED),
            (KRBAP_S_FAILURE, major::FAILURE),
            (KRBAP_S_BAD_QOP, major::BAD_QOP),
            (KRBAP_S_UNAUTHORIZED, major::UNAUTHORIZED),
            (KRBAP_S_UNAVAILABLE, major::UNAVAILABLE),
        ];
        for (c, core) in pairs {
            assert_eq!(c, core);
        }
    }

    #[test]
    fn every_known_minor_code_has_a_name() {
        // The tables krbap's codes come from: krb5 (protocol and library), asn1, the two
        // GSS krb5-mechanism tables, errno, MIT's SPNEGO codes.
        let ranges = [
            (minor::SPNEGO_NO_MECHS_AVAILABLE, 8),
            (minor::KRB5_ERR_BASE, 256),
            (minor::ASN1_BAD_TIMEFORMAT, 16),
            (minor::K5G_BASE, 32),
            (minor::KG_BAD_LENGTH - 6, 32),
            (1, 200),
            (minor::SPNEGO_NO_MECHS_AVAILABLE - 1, 16),
        ];
        let mut named = 0;
        for (start, len) in ranges {
            for code in start..start + len {
                let known = minor::message(code) != "Unknown code";
                let name = krbap_minor_status_name(code as u32);
                assert_eq!(
                    known,
                    !name.is_null(),
                    "code {code}: message and name disagree"
                );
                if !name.is_null() {
                    // SAFETY: a static NUL-terminated string.
                    let name = unsafe { std::ffi::CStr::from_ptr(name) }.to_str().unwrap();
                    assert!(name
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'));
                    named += 1;
                }
            }
        }
        assert!(named > 150, "{named} names");
        assert!(krbap_minor_status_name(0).is_null());
    }
}
