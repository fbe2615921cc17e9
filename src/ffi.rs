//! The C ABI, shaped after RFC 2744 (GSS-API C bindings) with a `krbap_` prefix.
//!
//! This layer is thin: it checks pointers, converts between C and Rust types, catches
//! panics and records the detail of the last error for `krbap_display_status`. All
//! protocol logic lives in the Rust core.
//!
//! Conventions (as RFC 2744): every function returns a major status (the values of
//! GSS_S_*) and writes a minor status (an MIT-compatible com_err code) through
//! `minor_status` when it is not NULL. Output buffers are owned by the library and are
//! released with `krbap_buffer_free`. Handles are released by functions that take a
//! pointer to the handle and set it to NULL.

#![allow(non_camel_case_types)]
// C names for the C ABI types.
// These functions are called from C, which cannot see `unsafe`: pointer validity is the
// C caller's contract (RFC 2744 style), checked here for NULL wherever C allows NULL.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

use crate::error::{major, minor, Error};
use std::cell::RefCell;
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// A byte buffer (RFC 2744 gss_buffer_desc). Buffers returned by krbap own their bytes
/// and must be released with `krbap_buffer_free`; input buffers are borrowed.
#[repr(C)]
pub struct krbap_buffer {
    pub length: usize,
    pub value: *mut c_void,
}

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

/// The largest input buffer krbap accepts (tokens, messages): 1 GiB. Larger lengths
/// are treated as a corrupted buffer descriptor.
pub const KRBAP_MAX_BUFFER: usize = 1 << 30;

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

/// Borrows an input buffer as a slice. NULL buffer or zero length -> empty slice.
pub(crate) fn input_bytes<'a>(buf: *const krbap_buffer) -> Result<&'a [u8], Error> {
    if buf.is_null() {
        return Ok(&[]);
    }
    // SAFETY: non-null pointer to a caller-owned descriptor.
    let b = unsafe { &*buf };
    if b.length == 0 {
        return Ok(&[]);
    }
    if b.value.is_null() {
        return Err(Error::new(
            major::CALL_INACCESSIBLE_READ,
            minor::EINVAL,
            "buffer value is NULL",
        ));
    }
    if b.length > KRBAP_MAX_BUFFER {
        return Err(Error::new(
            major::CALL_BAD_STRUCTURE,
            minor::EINVAL,
            "buffer length is absurd",
        ));
    }
    // SAFETY: the caller promises `value` points to `length` readable bytes.
    Ok(unsafe { std::slice::from_raw_parts(b.value as *const u8, b.length) })
}

/// Refuses a NULL output buffer before an operation that changes state (a sequence number
/// sent or received), so that the misuse cannot consume a token or a sequence number.
fn require_output(out: *mut krbap_buffer) -> Result<(), Error> {
    if out.is_null() {
        return Err(Error::new(
            major::CALL_INACCESSIBLE_WRITE,
            minor::EINVAL,
            "output buffer is NULL",
        ));
    }
    Ok(())
}

/// Hands `bytes` to C through `out` (which must be non-null).
pub(crate) fn output_bytes(out: *mut krbap_buffer, bytes: Vec<u8>) -> Result<(), Error> {
    if out.is_null() {
        return Err(Error::new(
            major::CALL_INACCESSIBLE_WRITE,
            minor::EINVAL,
            "output buffer is NULL",
        ));
    }
    let mut boxed = bytes.into_boxed_slice();
    let length = boxed.len();
    let value = if length == 0 {
        std::ptr::null_mut()
    } else {
        boxed.as_mut_ptr() as *mut c_void
    };
    std::mem::forget(boxed);
    // SAFETY: `out` is non-null and points to caller-owned storage for a descriptor.
    unsafe { *out = krbap_buffer { length, value } };
    Ok(())
}

/// Empties an output buffer so that a failed call leaves `{0, NULL}`.
pub(crate) fn clear_output(out: *mut krbap_buffer) {
    if !out.is_null() {
        // SAFETY: non-null, caller-owned.
        unsafe {
            *out = krbap_buffer {
                length: 0,
                value: std::ptr::null_mut(),
            }
        };
    }
}

/// Releases a buffer returned by krbap and sets it to `{0, NULL}`. The bytes are wiped
/// first (tokens may contain key-derived material; wiping is cheap). A NULL `buffer` or
/// an already-empty buffer is fine (RFC 2744 gss_release_buffer).
#[no_mangle]
pub extern "C" fn krbap_buffer_free(minor_status: *mut u32, buffer: *mut krbap_buffer) -> u32 {
    guard(minor_status, || {
        if buffer.is_null() {
            return Ok(major::COMPLETE);
        }
        // SAFETY: non-null; when value is non-null it came from output_bytes (a boxed slice
        // of exactly `length` bytes).
        unsafe {
            let b = &mut *buffer;
            if !b.value.is_null() && b.length > 0 {
                let slice = std::slice::from_raw_parts_mut(b.value as *mut u8, b.length);
                zeroize::Zeroize::zeroize(slice);
                drop(Box::from_raw(slice as *mut [u8]));
            }
            *b = krbap_buffer {
                length: 0,
                value: std::ptr::null_mut(),
            };
        }
        Ok(major::COMPLETE)
    })
}

/// Text of the routine-error and supplementary parts of a major status, in the order
/// MIT returns them; `message_context` iterates over them (0 on the first call, 0 again
/// when the last message was returned).
fn major_messages(status: u32) -> Vec<&'static str> {
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

// ---------------------------------------------------------------------------------------
// Names, credentials and contexts.

use crate::ap::ServiceKey;
use crate::cred::{AcceptorCredential, InitiatorCredential};
use crate::crypto::{Enctype, Key};
use crate::gss::checksum::ChannelBindings;
use crate::gss::context::{AuthzSource, DelegatedCredential, InitOptions, SecurityContext};
use crate::gss::name::{Name, NameType};
use crate::principal::Principal;
use std::ffi::{c_char, CStr};
use std::sync::{Arc, OnceLock};

/// `name_type` for `krbap_import_name`: `service@host` (GSS_C_NT_HOSTBASED_SERVICE).
pub const KRBAP_NT_HOSTBASED_SERVICE: i32 = 1;
/// `name_type` for `krbap_import_name`: `comp/comp@REALM` (GSS_KRB5_NT_PRINCIPAL_NAME).
pub const KRBAP_NT_KRB5_PRINCIPAL: i32 = 2;
/// `name_type` for `krbap_import_name`: a user name (GSS_C_NT_USER_NAME).
pub const KRBAP_NT_USER_NAME: i32 = 3;

/// `cred_usage` for `krbap_acquire_cred` (RFC 2744 values).
pub const KRBAP_C_BOTH: i32 = 0;
pub const KRBAP_C_INITIATE: i32 = 1;
pub const KRBAP_C_ACCEPT: i32 = 2;

/// Context flags (RFC 2744 GSS_C_*_FLAG values).
pub const KRBAP_C_DELEG_FLAG: u32 = 1;
pub const KRBAP_C_MUTUAL_FLAG: u32 = 2;
pub const KRBAP_C_REPLAY_FLAG: u32 = 4;
pub const KRBAP_C_SEQUENCE_FLAG: u32 = 8;
pub const KRBAP_C_CONF_FLAG: u32 = 16;
pub const KRBAP_C_INTEG_FLAG: u32 = 32;
pub const KRBAP_C_ANON_FLAG: u32 = 64;
pub const KRBAP_C_PROT_READY_FLAG: u32 = 128;
pub const KRBAP_C_TRANS_FLAG: u32 = 256;

/// How often (ms) an acceptor credential compares its keytab with the file: a key removed
/// from the keytab stops being accepted within this time; a key added is used at once.
pub const KRBAP_KEYTAB_RECHECK_MS: u32 = 1000;

/// Channel bindings (RFC 2744 gss_channel_bindings_struct). Address buffers and
/// application data may be empty.
#[repr(C)]
pub struct krbap_channel_bindings {
    pub initiator_addrtype: u32,
    pub initiator_address: krbap_buffer,
    pub acceptor_addrtype: u32,
    pub acceptor_address: krbap_buffer,
    pub application_data: krbap_buffer,
}

const NAME_MAGIC: u64 = 0x6b72_6261_704e_616d;
const CRED_MAGIC: u64 = 0x6b72_6261_7043_7264;
const CTX_MAGIC: u64 = 0x6b72_6261_7043_7478;

/// An opaque name handle. Immutable; may be shared between threads.
pub struct krbap_name {
    magic: u64,
    name: Name,
}

enum CredKind {
    Acceptor(Arc<AcceptorCredential>),
    Initiator(Arc<InitiatorCredential>),
    Both(Arc<InitiatorCredential>, Arc<AcceptorCredential>),
    Delegated(DelegatedCredential),
}

/// An opaque credential handle. May be shared between threads.
pub struct krbap_cred {
    magic: u64,
    kind: CredKind,
}

/// An opaque security-context handle. Use from one thread at a time.
pub struct krbap_ctx {
    magic: u64,
    ctx: SecurityContext,
}

fn bad_handle(what: &str) -> Error {
    Error::new(
        major::CALL_BAD_STRUCTURE | major::NO_CONTEXT,
        minor::EINVAL,
        format!("invalid {what} handle"),
    )
}

/// Borrows a handle after checking its magic (catches some misuse, e.g. a freed or
/// wrong-type handle that still has readable memory).
unsafe fn handle<'a, T>(
    p: *const T,
    magic: u64,
    what: &str,
    get_magic: fn(&T) -> u64,
) -> Result<Option<&'a T>, Error> {
    if p.is_null() {
        return Ok(None);
    }
    let r = &*p;
    if get_magic(r) != magic {
        return Err(bad_handle(what));
    }
    Ok(Some(r))
}

fn name_ref<'a>(p: *const krbap_name) -> Result<Option<&'a krbap_name>, Error> {
    // SAFETY: the caller passes a handle from krbap_import_name or NULL.
    unsafe { handle(p, NAME_MAGIC, "name", |n| n.magic) }
}
fn cred_ref<'a>(p: *const krbap_cred) -> Result<Option<&'a krbap_cred>, Error> {
    // SAFETY: the caller passes a handle from krbap_acquire_cred (or a delegated one) or NULL.
    unsafe { handle(p, CRED_MAGIC, "credential", |c| c.magic) }
}

fn c_str<'a>(p: *const c_char) -> Result<Option<&'a str>, Error> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: the caller passes a NUL-terminated string.
    let s = unsafe { CStr::from_ptr(p) };
    s.to_str().map(Some).map_err(|_| {
        Error::new(
            major::FAILURE,
            minor::EINVAL,
            "string argument is not UTF-8",
        )
    })
}

fn write_out<T>(p: *mut T, v: T) {
    if !p.is_null() {
        // SAFETY: non-null, caller-owned storage.
        unsafe { *p = v };
    }
}

fn require_out<T>(p: *mut *mut T, what: &str) -> Result<(), Error> {
    if p.is_null() {
        return Err(Error::new(
            major::CALL_INACCESSIBLE_WRITE,
            minor::EINVAL,
            format!("{what} pointer is NULL"),
        ));
    }
    Ok(())
}

fn default_realm() -> Option<Vec<u8>> {
    crate::config::default_profile()
        .ok()
        .and_then(|p| p.default_realm().map(|r| r.as_bytes().to_vec()))
}

fn bindings_from_c(cb: *const krbap_channel_bindings) -> Result<Option<ChannelBindings>, Error> {
    if cb.is_null() {
        return Ok(None);
    }
    // SAFETY: non-null pointer to a caller-owned struct.
    let cb = unsafe { &*cb };
    Ok(Some(ChannelBindings {
        initiator_addrtype: cb.initiator_addrtype,
        initiator_address: input_bytes(&cb.initiator_address)?.to_vec(),
        acceptor_addrtype: cb.acceptor_addrtype,
        acceptor_address: input_bytes(&cb.acceptor_address)?.to_vec(),
        application_data: input_bytes(&cb.application_data)?.to_vec(),
    }))
}

fn new_name(name: Name) -> *mut krbap_name {
    Box::into_raw(Box::new(krbap_name {
        magic: NAME_MAGIC,
        name,
    }))
}

/// Imports a name (RFC 2744 gss_import_name). `name_type` is one of KRBAP_NT_*.
/// A principal without `@REALM` gets the default realm of krb5.conf (if any); a
/// host-based name matches its principal in any realm.
#[no_mangle]
pub extern "C" fn krbap_import_name(
    minor_status: *mut u32,
    input_name: *const krbap_buffer,
    name_type: i32,
    output_name: *mut *mut krbap_name,
) -> u32 {
    guard(minor_status, || {
        require_out(output_name, "output_name")?;
        write_out(output_name, std::ptr::null_mut());
        let text = input_bytes(input_name)?;
        let ty = match name_type {
            KRBAP_NT_HOSTBASED_SERVICE => NameType::HostbasedService,
            KRBAP_NT_KRB5_PRINCIPAL => NameType::KerberosPrincipal,
            KRBAP_NT_USER_NAME => NameType::UserName,
            _ => {
                return Err(Error::new(
                    major::BAD_NAMETYPE,
                    minor::EINVAL,
                    "unknown name type",
                ))
            }
        };
        let realm = if ty == NameType::HostbasedService {
            None
        } else {
            default_realm()
        };
        let name = Name::import(text, ty, realm.as_deref())?;
        write_out(output_name, new_name(name));
        Ok(major::COMPLETE)
    })
}

/// The display form of a name: `comp/comp@REALM` (MIT escaping).
#[no_mangle]
pub extern "C" fn krbap_display_name(
    minor_status: *mut u32,
    name: *const krbap_name,
    output_name: *mut krbap_buffer,
) -> u32 {
    guard(minor_status, || {
        clear_output(output_name);
        let n = name_ref(name)?
            .ok_or_else(|| Error::new(major::BAD_NAME, minor::EINVAL, "name is NULL"))?;
        output_bytes(output_name, n.name.display())?;
        Ok(major::COMPLETE)
    })
}

/// Releases a name and sets `*name` to NULL; a NULL `*name` is a no-op.
#[no_mangle]
pub extern "C" fn krbap_release_name(minor_status: *mut u32, name: *mut *mut krbap_name) -> u32 {
    guard(minor_status, || {
        if name.is_null() {
            return Ok(major::COMPLETE);
        }
        // SAFETY: non-null pointer to the caller's handle variable.
        let p = unsafe { std::mem::replace(&mut *name, std::ptr::null_mut()) };
        if let Some(n) = name_ref(p)? {
            let mut b = unsafe { Box::from_raw(n as *const krbap_name as *mut krbap_name) };
            b.magic = 0;
        }
        Ok(major::COMPLETE)
    })
}

fn new_cred(kind: CredKind) -> *mut krbap_cred {
    Box::into_raw(Box::new(krbap_cred {
        magic: CRED_MAGIC,
        kind,
    }))
}

/// Acquires a credential (RFC 2744 gss_acquire_cred). `cred_usage`: KRBAP_C_ACCEPT
/// reads the keytab `location` (`FILE:path` or a path; NULL: `KRB5_KTNAME`, then
/// /etc/krb5.keytab); KRBAP_C_INITIATE reads the FILE ccache `location` (NULL:
/// `KRB5CCNAME`, then /tmp/krb5cc_UID); KRBAP_C_BOTH needs both defaults (`location`
/// must be NULL). `desired_name` NULL: any principal in the keytab / the ccache's own.
/// `time_rec` (may be NULL) receives 0xffffffff (GSS_C_INDEFINITE) for an acceptor.
#[no_mangle]
pub extern "C" fn krbap_acquire_cred(
    minor_status: *mut u32,
    desired_name: *const krbap_name,
    cred_usage: i32,
    location: *const c_char,
    output_cred: *mut *mut krbap_cred,
    time_rec: *mut u32,
) -> u32 {
    guard(minor_status, || {
        require_out(output_cred, "output_cred")?;
        write_out(output_cred, std::ptr::null_mut());
        let name = name_ref(desired_name)?.map(|n| n.name.clone());
        let location = c_str(location)?;
        let kind = match cred_usage {
            KRBAP_C_ACCEPT => {
                CredKind::Acceptor(Arc::new(AcceptorCredential::from_keytab(location, name)?))
            }
            KRBAP_C_INITIATE => CredKind::Initiator(Arc::new(InitiatorCredential::from_ccache(
                location,
                name.as_ref(),
            )?)),
            KRBAP_C_BOTH if location.is_none() => CredKind::Both(
                Arc::new(InitiatorCredential::from_ccache(None, name.as_ref())?),
                Arc::new(AcceptorCredential::from_keytab(None, name)?),
            ),
            _ => {
                return Err(Error::new(
                    major::FAILURE,
                    minor::G_BAD_USAGE,
                    "bad cred_usage",
                ))
            }
        };
        write_out(time_rec, u32::MAX);
        write_out(output_cred, new_cred(kind));
        Ok(major::COMPLETE)
    })
}

/// One element of a credential store (MIT's gss_key_value_element_desc): a key and its
/// value, both NUL-terminated strings.
#[repr(C)]
pub struct krbap_cred_store_element {
    pub key: *const c_char,
    pub value: *const c_char,
}

/// The most elements a credential store may have (a handful are meaningful).
const MAX_CRED_STORE_ELEMENTS: usize = 64;

/// Acquires a credential from a credential store (MIT's gss_acquire_cred_from). The
/// `count` elements name where the credential comes from:
/// - `"ccache"`: the FILE ccache of an initiator (`FILE:path` or a path);
/// - `"client_keytab"`: a keytab with the client's keys: when the ccache does not exist
///   (or, later, its TGT expired) initial credentials are obtained with it from the KDC
///   and stored in the ccache;
/// - `"keytab"`: the acceptor's keytab;
/// - `"rcache"`: the acceptor's replay cache (`file2:path`, `none`, `dfl`, ...).
///
/// Elements for the other usage are ignored, as MIT does; an unknown key fails with
/// KRBAP_S_FAILURE (MIT's GSS_S_CRED_UNAVAIL) and a key given twice with
/// KRBAP_S_DUPLICATE_ELEMENT. Absent elements take the defaults of `krbap_acquire_cred`
/// (and `KRB5_CLIENT_KTNAME` for the client keytab). `elements` may be NULL when `count`
/// is 0. `time_rec` (may be NULL) receives the initiator's remaining lifetime, or
/// 0xffffffff (indefinite) for an acceptor.
#[no_mangle]
pub extern "C" fn krbap_acquire_cred_from(
    minor_status: *mut u32,
    desired_name: *const krbap_name,
    cred_usage: i32,
    elements: *const krbap_cred_store_element,
    count: usize,
    output_cred: *mut *mut krbap_cred,
    time_rec: *mut u32,
) -> u32 {
    guard(minor_status, || {
        require_out(output_cred, "output_cred")?;
        write_out(output_cred, std::ptr::null_mut());
        let name = name_ref(desired_name)?.map(|n| n.name.clone());
        if count > MAX_CRED_STORE_ELEMENTS || (count > 0 && elements.is_null()) {
            return Err(Error::new(
                major::CALL_INACCESSIBLE_READ,
                minor::EINVAL,
                "credential store elements are NULL or too many",
            ));
        }
        const KEYS: [&str; 4] = ["ccache", "client_keytab", "keytab", "rcache"];
        let mut values: [Option<&str>; 4] = [None; 4];
        for i in 0..count {
            // SAFETY: the caller passes `count` readable elements (checked non-NULL above).
            let e = unsafe { &*elements.add(i) };
            let key = c_str(e.key)?.ok_or_else(|| {
                Error::new(
                    major::CALL_INACCESSIBLE_READ,
                    minor::EINVAL,
                    "element key is NULL",
                )
            })?;
            let value = c_str(e.value)?.ok_or_else(|| {
                Error::new(
                    major::CALL_INACCESSIBLE_READ,
                    minor::EINVAL,
                    format!("value of credential store element {key:?} is NULL"),
                )
            })?;
            let slot = KEYS.iter().position(|k| *k == key).ok_or_else(|| {
                Error::new(
                    major::FAILURE,
                    minor::EINVAL,
                    format!(
                        "unknown credential store element {key:?} (known: ccache, client_keytab, keytab, rcache)"
                    ),
                )
            })?;
            if values[slot].replace(value).is_some() {
                return Err(Error::new(
                    major::DUPLICATE_ELEMENT,
                    minor::EINVAL,
                    format!("credential store element {key:?} given twice"),
                ));
            }
        }
        let [ccache, client_keytab, keytab, rcache] = values;
        let initiator =
            || InitiatorCredential::from_store(ccache, client_keytab, name.as_ref()).map(Arc::new);
        let acceptor = || -> Result<Arc<AcceptorCredential>, Error> {
            let a = AcceptorCredential::from_keytab(keytab, name.clone())?;
            if let Some(rc) = rcache {
                a.set_replay_cache(crate::rcache::ReplayCache::from_name(rc)?);
            }
            Ok(Arc::new(a))
        };
        let (kind, life) = match cred_usage {
            KRBAP_C_INITIATE => {
                let i = initiator()?;
                let life = i.lifetime();
                (CredKind::Initiator(i), life)
            }
            KRBAP_C_ACCEPT => (CredKind::Acceptor(acceptor()?), u32::MAX),
            KRBAP_C_BOTH => {
                let i = initiator()?;
                let life = i.lifetime();
                (CredKind::Both(i, acceptor()?), life)
            }
            _ => {
                return Err(Error::new(
                    major::FAILURE,
                    minor::G_BAD_USAGE,
                    "bad cred_usage",
                ))
            }
        };
        write_out(time_rec, life);
        write_out(output_cred, new_cred(kind));
        Ok(major::COMPLETE)
    })
}

/// Creates an acceptor credential with no keys, to be filled by `krbap_cred_add_key`
/// (keys supplied in memory rather than from a keytab).
#[no_mangle]
pub extern "C" fn krbap_acquire_acceptor_cred_empty(
    minor_status: *mut u32,
    desired_name: *const krbap_name,
    output_cred: *mut *mut krbap_cred,
) -> u32 {
    guard(minor_status, || {
        require_out(output_cred, "output_cred")?;
        write_out(output_cred, std::ptr::null_mut());
        let name = name_ref(desired_name)?.map(|n| n.name.clone());
        let cred = AcceptorCredential::from_keys(name, Vec::new());
        write_out(output_cred, new_cred(CredKind::Acceptor(Arc::new(cred))));
        Ok(major::COMPLETE)
    })
}

/// Adds a service key (principal as `comp/comp@REALM`, kvno, enctype number, key bytes)
/// to an acceptor credential made by `krbap_acquire_acceptor_cred_empty`.
#[no_mangle]
pub extern "C" fn krbap_cred_add_key(
    minor_status: *mut u32,
    cred: *const krbap_cred,
    principal: *const c_char,
    kvno: u32,
    enctype: i32,
    key: *const u8,
    key_length: usize,
) -> u32 {
    guard(minor_status, || {
        let acc = acceptor_of(cred)?;
        let principal = c_str(principal)?.ok_or_else(|| {
            Error::new(
                major::CALL_INACCESSIBLE_READ,
                minor::EINVAL,
                "principal is NULL",
            )
        })?;
        let principal = Principal::parse(principal, default_realm().as_deref())?;
        let enctype = Enctype::from_number(enctype).ok_or_else(|| {
            Error::minor(minor::BAD_ENCTYPE, format!("unsupported enctype {enctype}"))
        })?;
        if key.is_null() || key_length > 64 {
            return Err(Error::new(
                major::CALL_INACCESSIBLE_READ,
                minor::BAD_KEYSIZE,
                "bad key buffer",
            ));
        }
        // SAFETY: the caller passes key_length readable bytes.
        let bytes = unsafe { std::slice::from_raw_parts(key, key_length) };
        let key = Key::new(enctype, bytes)?;
        acc.add_key(ServiceKey {
            principal,
            kvno,
            key,
        })?;
        Ok(major::COMPLETE)
    })
}

fn acceptor_of<'a>(cred: *const krbap_cred) -> Result<&'a Arc<AcceptorCredential>, Error> {
    match cred_ref(cred)?.map(|c| &c.kind) {
        Some(CredKind::Acceptor(a)) | Some(CredKind::Both(_, a)) => Ok(a),
        Some(_) => Err(Error::new(
            major::NO_CRED,
            minor::G_CRED_USAGE_MISMATCH,
            "not an acceptor credential",
        )),
        None => Err(Error::new(
            major::NO_CRED,
            minor::EINVAL,
            "credential is NULL",
        )),
    }
}

/// Sets the maximum clock skew (seconds, default 300) an acceptor allows.
#[no_mangle]
pub extern "C" fn krbap_cred_set_clock_skew(
    minor_status: *mut u32,
    cred: *const krbap_cred,
    seconds: i64,
) -> u32 {
    guard(minor_status, || {
        acceptor_of(cred)?.set_clock_skew(seconds)?;
        Ok(major::COMPLETE)
    })
}

/// Sets the acceptor's replay cache: "memory:" (default, per credential), "none:",
/// "file2:/path" (MIT's format, shareable with MIT servers) or "dfl:" (MIT's default
/// file). NULL selects what KRB5RCACHENAME / KRB5RCACHETYPE say, as MIT does.
#[no_mangle]
pub extern "C" fn krbap_cred_set_replay_cache(
    minor_status: *mut u32,
    cred: *const krbap_cred,
    name: *const c_char,
) -> u32 {
    guard(minor_status, || {
        let acc = acceptor_of(cred)?;
        let rc = match c_str(name)? {
            Some(n) => crate::rcache::ReplayCache::from_name(n)?,
            None => crate::rcache::ReplayCache::from_env()?,
        };
        acc.set_replay_cache(rc);
        Ok(major::COMPLETE)
    })
}

/// Fixes the clock of a credential (and the contexts made from it) at `unix_time`;
/// 0 returns to the system clock. For tests and for replaying captured tokens.
#[no_mangle]
pub extern "C" fn krbap_cred_set_time(
    minor_status: *mut u32,
    cred: *const krbap_cred,
    unix_time: i64,
) -> u32 {
    guard(minor_status, || {
        let c = cred_ref(cred)?
            .ok_or_else(|| Error::new(major::NO_CRED, minor::EINVAL, "credential is NULL"))?;
        let t = (unix_time != 0).then_some(unix_time);
        match &c.kind {
            CredKind::Acceptor(a) => a.clock.set_fixed(t),
            CredKind::Initiator(i) => i.clock.set_fixed(t),
            CredKind::Both(i, a) => {
                i.clock.set_fixed(t);
                a.clock.set_fixed(t);
            }
            CredKind::Delegated(_) => {}
        }
        Ok(major::COMPLETE)
    })
}

/// Releases a credential and sets `*cred` to NULL; a NULL `*cred` is a no-op. Key
/// material is wiped when the last user (credential or context) lets go of it.
#[no_mangle]
pub extern "C" fn krbap_release_cred(minor_status: *mut u32, cred: *mut *mut krbap_cred) -> u32 {
    guard(minor_status, || {
        if cred.is_null() {
            return Ok(major::COMPLETE);
        }
        // SAFETY: non-null pointer to the caller's handle variable.
        let p = unsafe { std::mem::replace(&mut *cred, std::ptr::null_mut()) };
        if let Some(c) = cred_ref(p)? {
            let mut b = unsafe { Box::from_raw(c as *const krbap_cred as *mut krbap_cred) };
            b.magic = 0;
        }
        Ok(major::COMPLETE)
    })
}

/// Writes a delegated credential (from `krbap_accept_sec_context`) to a FILE ccache
/// (`FILE:path` or a path; NULL: the default ccache), replacing its contents.
#[no_mangle]
pub extern "C" fn krbap_store_cred(
    minor_status: *mut u32,
    cred: *const krbap_cred,
    location: *const c_char,
) -> u32 {
    guard(minor_status, || {
        let c = cred_ref(cred)?
            .ok_or_else(|| Error::new(major::NO_CRED, minor::EINVAL, "credential is NULL"))?;
        let CredKind::Delegated(d) = &c.kind else {
            return Err(Error::new(
                major::UNAVAILABLE,
                minor::G_STORE_NON_DEFAULT_CRED_NOSUPP,
                "only delegated credentials can be stored",
            ));
        };
        let path = crate::ccache::resolve_ccache_name(c_str(location)?)?;
        d.store(&path)?;
        Ok(major::COMPLETE)
    })
}

/// The process-wide default acceptor credential (default keytab, shared replay cache),
/// used when `krbap_accept_sec_context` gets a NULL credential, so that replays are
/// caught across calls as with an explicit credential.
fn default_acceptor() -> Result<Arc<AcceptorCredential>, Error> {
    static DEFAULT: OnceLock<Arc<AcceptorCredential>> = OnceLock::new();
    if let Some(a) = DEFAULT.get() {
        return Ok(a.clone());
    }
    let a = Arc::new(AcceptorCredential::from_keytab(None, None)?);
    a.set_replay_cache(crate::rcache::ReplayCache::from_env()?);
    Ok(DEFAULT.get_or_init(|| a).clone())
}

fn ctx_mut<'a>(p: *mut krbap_ctx) -> Result<&'a mut krbap_ctx, Error> {
    if p.is_null() {
        return Err(Error::new(
            major::NO_CONTEXT,
            minor::G_BAD_MSG_CTX,
            "no context",
        ));
    }
    // SAFETY: non-null handle from krbap_init/accept_sec_context; one thread at a time.
    let c = unsafe { &mut *p };
    if c.magic != CTX_MAGIC {
        return Err(bad_handle("context"));
    }
    Ok(c)
}

fn ctx_ref<'a>(p: *const krbap_ctx) -> Result<&'a krbap_ctx, Error> {
    ctx_mut(p as *mut krbap_ctx).map(|c| &*c)
}

fn free_ctx(p: *mut krbap_ctx) {
    if let Ok(c) = ctx_mut(p) {
        c.magic = 0;
        // SAFETY: the handle came from Box::into_raw in this module.
        drop(unsafe { Box::from_raw(c as *mut krbap_ctx) });
    }
}

/// Initiates a context (RFC 2744 gss_init_sec_context). First call with `*context ==
/// NULL` and no input token: produces the initial token (AP-REQ) and returns
/// KRBAP_S_CONTINUE_NEEDED when mutual authentication was requested (else COMPLETE).
/// Second call with the acceptor's token (AP-REP or KRB-ERROR): completes or fails; on
/// failure the context is deleted and `*context` set to NULL. `cred` NULL: the default
/// ccache. `target` names the acceptor (host-based `service@host` or a principal; a
/// host's realm comes from krb5.conf `[domain_realm]`, else the client's realm).
/// A service ticket missing from the ccache is fetched from the KDC with the TGT and
/// stored in the ccache (KDC errors: KRBAP_S_FAILURE with the KDC's minor code, e.g.
/// KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN; no TGT: KRBAP_S_NO_CRED). With KRBAP_C_DELEG_FLAG and
/// a forwardable TGT, a forwarded TGT is delegated to the acceptor; `ret_flags` has
/// KRBAP_C_DELEG_FLAG only when that happened (otherwise the context proceeds without).
#[no_mangle]
pub extern "C" fn krbap_init_sec_context(
    minor_status: *mut u32,
    cred: *const krbap_cred,
    context: *mut *mut krbap_ctx,
    target: *const krbap_name,
    req_flags: u32,
    channel_bindings: *const krbap_channel_bindings,
    input_token: *const krbap_buffer,
    ret_flags: *mut u32,
    time_rec: *mut u32,
    output_token: *mut krbap_buffer,
) -> u32 {
    guard(minor_status, || {
        clear_output(output_token);
        require_out(context, "context")?;
        // SAFETY: checked non-null.
        let existing = unsafe { *context };
        if existing.is_null() {
            let target = name_ref(target)?
                .ok_or_else(|| Error::new(major::BAD_NAME, minor::EINVAL, "target name is NULL"))?;
            let owned;
            let ic: &InitiatorCredential = match cred_ref(cred)?.map(|c| &c.kind) {
                Some(CredKind::Initiator(i)) | Some(CredKind::Both(i, _)) => i,
                Some(_) => {
                    return Err(Error::new(
                        major::NO_CRED,
                        minor::G_CRED_USAGE_MISMATCH,
                        "not an initiator credential",
                    ))
                }
                None => {
                    owned = InitiatorCredential::from_ccache(None, None)?;
                    &owned
                }
            };
            let options = InitOptions {
                req_flags,
                channel_bindings: bindings_from_c(channel_bindings)?,
            };
            let (ctx, token) = SecurityContext::initiate(ic, &target.name, &options)?;
            let now = ic.clock.now().0;
            write_out(ret_flags, ctx.flags());
            write_out(time_rec, ctx.lifetime(now));
            let established = ctx.is_established();
            output_bytes(output_token, token)?;
            write_out(
                context,
                Box::into_raw(Box::new(krbap_ctx {
                    magic: CTX_MAGIC,
                    ctx,
                })),
            );
            Ok(if established {
                major::COMPLETE
            } else {
                major::CONTINUE_NEEDED
            })
        } else {
            let c = ctx_mut(existing)?;
            let token = input_bytes(input_token)?;
            if let Err(e) = c.ctx.continue_init(token) {
                free_ctx(existing);
                write_out(context, std::ptr::null_mut());
                return Err(e);
            }
            write_out(ret_flags, c.ctx.flags());
            write_out(time_rec, c.ctx.lifetime(now_of(&c.ctx)));
            Ok(major::COMPLETE)
        }
    })
}

fn now_of(ctx: &SecurityContext) -> i64 {
    ctx.now()
}

/// Fixes a context's clock at `unix_time` (0: back to the system clock), e.g. to test
/// expiry or to process captured tokens.
#[no_mangle]
pub extern "C" fn krbap_ctx_set_time(
    minor_status: *mut u32,
    context: *mut krbap_ctx,
    unix_time: i64,
) -> u32 {
    guard(minor_status, || {
        let c = ctx_mut(context)?;
        c.ctx.set_fixed_time((unix_time != 0).then_some(unix_time));
        Ok(major::COMPLETE)
    })
}

/// Information about a credential (RFC 2744 gss_inquire_cred): its principal (output
/// may be NULL; an acceptor credential for any principal gives NULL), remaining
/// lifetime (0xffffffff for an acceptor) and usage (KRBAP_C_*).
#[no_mangle]
pub extern "C" fn krbap_inquire_cred(
    minor_status: *mut u32,
    cred: *const krbap_cred,
    name: *mut *mut krbap_name,
    lifetime: *mut u32,
    cred_usage: *mut i32,
) -> u32 {
    guard(minor_status, || {
        write_out(name, std::ptr::null_mut());
        let c = cred_ref(cred)?
            .ok_or_else(|| Error::new(major::NO_CRED, minor::EINVAL, "credential is NULL"))?;
        let (principal, life, usage) = match &c.kind {
            CredKind::Acceptor(a) => (a.name().cloned(), u32::MAX, KRBAP_C_ACCEPT),
            CredKind::Initiator(i) => (
                Some(Name::from_principal(i.client().clone())),
                i.lifetime(),
                KRBAP_C_INITIATE,
            ),
            CredKind::Both(i, _) => (
                Some(Name::from_principal(i.client().clone())),
                i.lifetime(),
                KRBAP_C_BOTH,
            ),
            CredKind::Delegated(d) => {
                let now = crate::cred::Clock::default().now().0;
                let end = d
                    .credentials
                    .iter()
                    .map(|c| c.endtime as i64)
                    .max()
                    .unwrap_or(0);
                (
                    Some(Name::from_principal(d.client.clone())),
                    (end - now).clamp(0, u32::MAX as i64) as u32,
                    KRBAP_C_INITIATE,
                )
            }
        };
        if let (Some(p), false) = (principal, name.is_null()) {
            write_out(name, new_name(p));
        }
        write_out(lifetime, life);
        write_out(cred_usage, usage);
        Ok(major::COMPLETE)
    })
}

/// Accepts a context (RFC 2744 gss_accept_sec_context): verifies the initiator's
/// token (steps 2-5 of the AP exchange). On success `*context` is a new established
/// context and `output_token` holds the AP-REP when mutual authentication was asked
/// for (else it is empty). On failure `*context` stays NULL, the minor status is MIT's
/// code (e.g. KRB5KRB_AP_ERR_SKEW), and `output_token` may hold a KRB-ERROR token to
/// send back, as MIT does. `acceptor_cred` NULL: the default keytab. `src_name`,
/// `ret_flags`, `time_rec`, `delegated_cred` may be NULL; `*delegated_cred` is set when
/// the initiator delegated (KRBAP_C_DELEG_FLAG in ret_flags) and must be released.
#[no_mangle]
pub extern "C" fn krbap_accept_sec_context(
    minor_status: *mut u32,
    context: *mut *mut krbap_ctx,
    acceptor_cred: *const krbap_cred,
    input_token: *const krbap_buffer,
    channel_bindings: *const krbap_channel_bindings,
    src_name: *mut *mut krbap_name,
    ret_flags: *mut u32,
    time_rec: *mut u32,
    output_token: *mut krbap_buffer,
    delegated_cred: *mut *mut krbap_cred,
) -> u32 {
    guard(minor_status, || {
        clear_output(output_token);
        write_out(src_name, std::ptr::null_mut());
        write_out(delegated_cred, std::ptr::null_mut());
        require_out(context, "context")?;
        // SAFETY: checked non-null.
        if unsafe { !(*context).is_null() } {
            return Err(Error::new(
                major::FAILURE,
                minor::G_BAD_MSG_CTX,
                "the krb5 exchange needs one accept call: *context must be NULL",
            ));
        }
        let token = input_bytes(input_token)?;
        let default;
        let acc: &AcceptorCredential = match cred_ref(acceptor_cred)?.map(|c| &c.kind) {
            Some(CredKind::Acceptor(a)) | Some(CredKind::Both(_, a)) => a,
            Some(_) => {
                return Err(Error::new(
                    major::NO_CRED,
                    minor::G_CRED_USAGE_MISMATCH,
                    "not an acceptor credential",
                ))
            }
            None => {
                default = default_acceptor()?;
                &default
            }
        };
        let bindings = bindings_from_c(channel_bindings)?;
        let (mut ctx, reply) = match SecurityContext::accept(acc, token, bindings.as_ref()) {
            Ok(r) => r,
            Err(f) => {
                if let Some(t) = f.token {
                    output_bytes(output_token, t)?;
                }
                return Err(f.error);
            }
        };
        write_out(ret_flags, ctx.flags());
        write_out(time_rec, ctx.lifetime(acc.clock.now().0));
        if !src_name.is_null() {
            write_out(
                src_name,
                new_name(Name::from_principal(ctx.client().clone())),
            );
        }
        if let Some(d) = ctx.take_delegated_credential() {
            if delegated_cred.is_null() {
                // Nobody asked for it: drop it now (its keys are wiped).
            } else {
                write_out(delegated_cred, new_cred(CredKind::Delegated(d)));
            }
        }
        if let Some(t) = reply {
            output_bytes(output_token, t)?;
        }
        write_out(
            context,
            Box::into_raw(Box::new(krbap_ctx {
                magic: CTX_MAGIC,
                ctx,
            })),
        );
        Ok(major::COMPLETE)
    })
}

/// Deletes a context and sets `*context` to NULL (RFC 2744 gss_delete_sec_context).
/// Session keys are wiped. `output_token` (may be NULL) is always empty, as for MIT.
#[no_mangle]
pub extern "C" fn krbap_delete_sec_context(
    minor_status: *mut u32,
    context: *mut *mut krbap_ctx,
    output_token: *mut krbap_buffer,
) -> u32 {
    guard(minor_status, || {
        clear_output(output_token);
        if context.is_null() {
            return Err(Error::new(
                major::CALL_INACCESSIBLE_READ | major::NO_CONTEXT,
                minor::EINVAL,
                "context is NULL",
            ));
        }
        // SAFETY: non-null pointer to the caller's handle variable.
        let p = unsafe { std::mem::replace(&mut *context, std::ptr::null_mut()) };
        if p.is_null() {
            return Err(Error::new(
                major::NO_CONTEXT,
                minor::G_BAD_MSG_CTX,
                "no context",
            ));
        }
        ctx_mut(p)?;
        free_ctx(p);
        Ok(major::COMPLETE)
    })
}

/// Information about a context (RFC 2744 gss_inquire_context). Any output may be NULL;
/// names returned must be released with krbap_release_name.
#[no_mangle]
pub extern "C" fn krbap_inquire_context(
    minor_status: *mut u32,
    context: *const krbap_ctx,
    src_name: *mut *mut krbap_name,
    targ_name: *mut *mut krbap_name,
    lifetime_rec: *mut u32,
    ctx_flags: *mut u32,
    locally_initiated: *mut i32,
    open: *mut i32,
) -> u32 {
    guard(minor_status, || {
        write_out(src_name, std::ptr::null_mut());
        write_out(targ_name, std::ptr::null_mut());
        let c = &ctx_ref(context)?.ctx;
        if !src_name.is_null() {
            write_out(src_name, new_name(Name::from_principal(c.client().clone())));
        }
        if !targ_name.is_null() {
            write_out(
                targ_name,
                new_name(Name::from_principal(c.server().clone())),
            );
        }
        write_out(lifetime_rec, c.lifetime(now_of(c)));
        write_out(ctx_flags, c.flags());
        write_out(locally_initiated, c.is_initiator() as i32);
        write_out(open, c.is_established() as i32);
        Ok(major::COMPLETE)
    })
}

/// Seconds the context remains valid (RFC 2744 gss_context_time); 0 and
/// KRBAP_S_CONTEXT_EXPIRED once the ticket has expired.
#[no_mangle]
pub extern "C" fn krbap_context_time(
    minor_status: *mut u32,
    context: *const krbap_ctx,
    time_rec: *mut u32,
) -> u32 {
    guard(minor_status, || {
        let c = &ctx_ref(context)?.ctx;
        let t = c.lifetime(now_of(c));
        write_out(time_rec, t);
        if t == 0 {
            return Err(Error::new(
                major::CONTEXT_EXPIRED,
                minor::AP_ERR_TKT_EXPIRED,
                "context expired",
            ));
        }
        Ok(major::COMPLETE)
    })
}

/// The session key's enctype number (e.g. 18 for aes256-cts-hmac-sha1-96) and the
/// ticket's end time (Unix seconds). Either output may be NULL.
#[no_mangle]
pub extern "C" fn krbap_inquire_session(
    minor_status: *mut u32,
    context: *const krbap_ctx,
    session_enctype: *mut i32,
    ticket_endtime: *mut i64,
) -> u32 {
    guard(minor_status, || {
        let c = &ctx_ref(context)?.ctx;
        write_out(session_enctype, c.session_enctype().number());
        write_out(ticket_endtime, c.ticket_endtime());
        Ok(major::COMPLETE)
    })
}

/// The number of authorization-data elements of an accepted context (ticket and
/// authenticator, AD-IF-RELEVANT unwrapped).
#[no_mangle]
pub extern "C" fn krbap_inquire_authz_count(
    minor_status: *mut u32,
    context: *const krbap_ctx,
    count: *mut usize,
) -> u32 {
    guard(minor_status, || {
        let c = &ctx_ref(context)?.ctx;
        write_out(count, c.authorization_data().len());
        Ok(major::COMPLETE)
    })
}

/// Authorization-data element `index`: its ad-type, whether it came from the ticket
/// (1) or the authenticator (0), and its data. Past the end: KRBAP_S_UNAVAILABLE.
#[no_mangle]
pub extern "C" fn krbap_inquire_authz_element(
    minor_status: *mut u32,
    context: *const krbap_ctx,
    index: usize,
    ad_type: *mut i32,
    from_ticket: *mut i32,
    data: *mut krbap_buffer,
) -> u32 {
    guard(minor_status, || {
        clear_output(data);
        let c = &ctx_ref(context)?.ctx;
        let e = c.authorization_data().get(index).ok_or_else(|| {
            Error::new(
                major::UNAVAILABLE,
                0,
                "no authorization-data element at that index",
            )
        })?;
        write_out(ad_type, e.ad_type);
        write_out(from_ticket, (e.source == AuthzSource::Ticket) as i32);
        output_bytes(data, e.data.clone())?;
        Ok(major::COMPLETE)
    })
}

/// The raw AD-WIN2K-PAC blob of the ticket; KRBAP_S_UNAVAILABLE when there is none.
#[no_mangle]
pub extern "C" fn krbap_inquire_pac(
    minor_status: *mut u32,
    context: *const krbap_ctx,
    pac: *mut krbap_buffer,
) -> u32 {
    guard(minor_status, || {
        clear_output(pac);
        let c = &ctx_ref(context)?.ctx;
        let blob = c
            .pac()
            .ok_or_else(|| Error::new(major::UNAVAILABLE, 0, "the ticket carries no PAC"))?;
        output_bytes(pac, blob.to_vec())?;
        Ok(major::COMPLETE)
    })
}

// ---------------------------------------------------------------------------------------
// Per-message protection (RFC 4121 §4.2).

fn check_qop(qop: u32) -> Result<(), Error> {
    if qop != 0 {
        return Err(Error::new(
            major::BAD_QOP,
            minor::G_UNKNOWN_QOP,
            "only the default QOP (0) exists",
        ));
    }
    Ok(())
}

/// Wraps a message (RFC 2744 gss_wrap): with confidentiality when `conf_req_flag` is
/// non-zero. `conf_state` (may be NULL) tells whether it was applied.
#[no_mangle]
pub extern "C" fn krbap_wrap(
    minor_status: *mut u32,
    context: *mut krbap_ctx,
    conf_req_flag: i32,
    qop_req: u32,
    input_message: *const krbap_buffer,
    conf_state: *mut i32,
    output_message: *mut krbap_buffer,
) -> u32 {
    guard(minor_status, || {
        clear_output(output_message);
        check_qop(qop_req)?;
        let c = ctx_mut(context)?;
        require_output(output_message)?;
        let msg = input_bytes(input_message)?;
        let token = c.ctx.wrap(conf_req_flag != 0, msg)?;
        write_out(conf_state, (conf_req_flag != 0) as i32);
        output_bytes(output_message, token)?;
        Ok(major::COMPLETE)
    })
}

/// Unwraps a Wrap token (RFC 2744 gss_unwrap). The major status may carry the
/// supplementary bits KRBAP_S_DUPLICATE_TOKEN / OLD_TOKEN / UNSEQ_TOKEN / GAP_TOKEN.
#[no_mangle]
pub extern "C" fn krbap_unwrap(
    minor_status: *mut u32,
    context: *mut krbap_ctx,
    input_message: *const krbap_buffer,
    output_message: *mut krbap_buffer,
    conf_state: *mut i32,
    qop_state: *mut u32,
) -> u32 {
    guard(minor_status, || {
        clear_output(output_message);
        let c = ctx_mut(context)?;
        require_output(output_message)?;
        let token = input_bytes(input_message)?;
        let u = c.ctx.unwrap(token)?;
        write_out(conf_state, u.conf as i32);
        write_out(qop_state, u.qop);
        output_bytes(output_message, u.message)?;
        Ok(major::COMPLETE | u.supplementary)
    })
}

/// Computes a MIC token over a message (RFC 2744 gss_get_mic).
#[no_mangle]
pub extern "C" fn krbap_get_mic(
    minor_status: *mut u32,
    context: *mut krbap_ctx,
    qop_req: u32,
    message: *const krbap_buffer,
    message_token: *mut krbap_buffer,
) -> u32 {
    guard(minor_status, || {
        clear_output(message_token);
        check_qop(qop_req)?;
        let c = ctx_mut(context)?;
        require_output(message_token)?;
        let token = c.ctx.get_mic(input_bytes(message)?)?;
        output_bytes(message_token, token)?;
        Ok(major::COMPLETE)
    })
}

/// Verifies a MIC token (RFC 2744 gss_verify_mic); supplementary bits as for unwrap.
#[no_mangle]
pub extern "C" fn krbap_verify_mic(
    minor_status: *mut u32,
    context: *mut krbap_ctx,
    message: *const krbap_buffer,
    message_token: *const krbap_buffer,
    qop_state: *mut u32,
) -> u32 {
    guard(minor_status, || {
        let c = ctx_mut(context)?;
        let supp = c
            .ctx
            .verify_mic(input_bytes(message)?, input_bytes(message_token)?)?;
        write_out(qop_state, 0);
        Ok(major::COMPLETE | supp)
    })
}

/// The largest message whose Wrap token fits in `req_output_size` bytes (RFC 2744
/// gss_wrap_size_limit).
#[no_mangle]
pub extern "C" fn krbap_wrap_size_limit(
    minor_status: *mut u32,
    context: *mut krbap_ctx,
    conf_req_flag: i32,
    qop_req: u32,
    req_output_size: u32,
    max_input_size: *mut u32,
) -> u32 {
    guard(minor_status, || {
        check_qop(qop_req)?;
        let c = ctx_mut(context)?;
        let n = c.ctx.wrap_size_limit(conf_req_flag != 0, req_output_size)?;
        write_out(max_input_size, n);
        Ok(major::COMPLETE)
    })
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
}
