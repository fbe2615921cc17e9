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

// Major status values, identical to RFC 2744 GSS_S_*.
pub const KRBAP_S_COMPLETE: u32 = major::COMPLETE;
pub const KRBAP_S_CONTINUE_NEEDED: u32 = major::CONTINUE_NEEDED;
pub const KRBAP_S_DUPLICATE_TOKEN: u32 = major::DUPLICATE_TOKEN;
pub const KRBAP_S_OLD_TOKEN: u32 = major::OLD_TOKEN;
pub const KRBAP_S_UNSEQ_TOKEN: u32 = major::UNSEQ_TOKEN;
pub const KRBAP_S_GAP_TOKEN: u32 = major::GAP_TOKEN;
pub const KRBAP_S_CALL_INACCESSIBLE_READ: u32 = major::CALL_INACCESSIBLE_READ;
pub const KRBAP_S_CALL_INACCESSIBLE_WRITE: u32 = major::CALL_INACCESSIBLE_WRITE;
pub const KRBAP_S_CALL_BAD_STRUCTURE: u32 = major::CALL_BAD_STRUCTURE;
pub const KRBAP_S_BAD_MECH: u32 = major::BAD_MECH;
pub const KRBAP_S_BAD_NAME: u32 = major::BAD_NAME;
pub const KRBAP_S_BAD_NAMETYPE: u32 = major::BAD_NAMETYPE;
pub const KRBAP_S_BAD_BINDINGS: u32 = major::BAD_BINDINGS;
pub const KRBAP_S_BAD_STATUS: u32 = major::BAD_STATUS;
pub const KRBAP_S_BAD_SIG: u32 = major::BAD_SIG;
pub const KRBAP_S_NO_CRED: u32 = major::NO_CRED;
pub const KRBAP_S_NO_CONTEXT: u32 = major::NO_CONTEXT;
pub const KRBAP_S_DEFECTIVE_TOKEN: u32 = major::DEFECTIVE_TOKEN;
pub const KRBAP_S_DEFECTIVE_CREDENTIAL: u32 = major::DEFECTIVE_CREDENTIAL;
pub const KRBAP_S_CREDENTIALS_EXPIRED: u32 = major::CREDENTIALS_EXPIRED;
pub const KRBAP_S_CONTEXT_EXPIRED: u32 = major::CONTEXT_EXPIRED;
pub const KRBAP_S_FAILURE: u32 = major::FAILURE;
pub const KRBAP_S_BAD_QOP: u32 = major::BAD_QOP;
pub const KRBAP_S_UNAUTHORIZED: u32 = major::UNAUTHORIZED;
pub const KRBAP_S_UNAVAILABLE: u32 = major::UNAVAILABLE;

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
            &Error::minor(minor::ERR_GENERIC, "internal error (panic caught at the C boundary)"),
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
        return Err(Error::new(major::CALL_INACCESSIBLE_READ, minor::EINVAL, "buffer value is NULL"));
    }
    if b.length > KRBAP_MAX_BUFFER {
        return Err(Error::new(major::CALL_BAD_STRUCTURE, minor::EINVAL, "buffer length is absurd"));
    }
    // SAFETY: the caller promises `value` points to `length` readable bytes.
    Ok(unsafe { std::slice::from_raw_parts(b.value as *const u8, b.length) })
}

/// Hands `bytes` to C through `out` (which must be non-null).
pub(crate) fn output_bytes(out: *mut krbap_buffer, bytes: Vec<u8>) -> Result<(), Error> {
    if out.is_null() {
        return Err(Error::new(major::CALL_INACCESSIBLE_WRITE, minor::EINVAL, "output buffer is NULL"));
    }
    let mut boxed = bytes.into_boxed_slice();
    let length = boxed.len();
    let value = if length == 0 { std::ptr::null_mut() } else { boxed.as_mut_ptr() as *mut c_void };
    std::mem::forget(boxed);
    // SAFETY: `out` is non-null and points to caller-owned storage for a descriptor.
    unsafe { *out = krbap_buffer { length, value } };
    Ok(())
}

/// Empties an output buffer so that a failed call leaves `{0, NULL}`.
pub(crate) fn clear_output(out: *mut krbap_buffer) {
    if !out.is_null() {
        // SAFETY: non-null, caller-owned.
        unsafe { *out = krbap_buffer { length: 0, value: std::ptr::null_mut() } };
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
            *b = krbap_buffer { length: 0, value: std::ptr::null_mut() };
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
        major::NO_CRED => Some("No credentials were supplied, or the credentials were unavailable or inaccessible"),
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
        (major::CONTINUE_NEEDED, "The routine must be called again to complete its function"),
        (major::DUPLICATE_TOKEN, "The token was a duplicate of an earlier token"),
        (major::OLD_TOKEN, "The token's validity period has expired"),
        (major::UNSEQ_TOKEN, "A later token has already been processed"),
        (major::GAP_TOKEN, "An expected per-message token was not received"),
    ];
    out.extend(supp.iter().filter(|(bit, _)| status & bit != 0).map(|(_, m)| *m));
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
                    return Err(Error::new(major::BAD_STATUS, minor::EINVAL, "message_context out of range"));
                };
                (m.to_string(), index + 1 < msgs.len())
            }
            KRBAP_C_MECH_CODE => {
                let code = status_value as i32;
                let base = minor::message(code);
                let detail = LAST_ERROR.with(|l| {
                    l.borrow().as_ref().filter(|(c, d)| *c == code && !d.is_empty()).map(|(_, d)| d.clone())
                });
                let text = match (base, detail) {
                    ("Unknown code", Some(d)) => d,
                    ("Unknown code", None) => format!("Unknown code {code}"),
                    (b, Some(d)) => format!("{b} ({d})"),
                    (b, None) => b.to_string(),
                };
                (text, false)
            }
            _ => return Err(Error::new(major::BAD_STATUS, minor::EINVAL, "unknown status_type")),
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
