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
//!
//! One file per C concept, as rustls-ffi does: [`status`] (major/minor status, display,
//! the panic guard), [`buffer`], [`name`], [`cred`], [`context`], [`message`], [`rcache`]
//! (the memory replay cache's cap and counters), [`spnego`] (the choice of mechanism),
//! [`http`] (HTTP Negotiate, RFC 4559, header values), [`pac`]. build.rs hands these files,
//! in this order, to cbindgen for include/krbap.h.

#![allow(non_camel_case_types)]
// C names for the C ABI types.
// These functions are called from C, which cannot see `unsafe`: pointer validity is the
// C caller's contract (RFC 2744 style), checked here for NULL wherever C allows NULL.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

mod buffer;
mod context;
mod cred;
mod http;
mod message;
mod name;
mod pac;
mod rcache;
mod spnego;
mod status;

pub use buffer::*;
pub use context::*;
pub use cred::*;
pub use http::*;
pub use message::*;
pub use name::*;
pub use pac::*;
pub use rcache::*;
pub use spnego::*;
pub use status::*;

use crate::ap::ServiceKey;
use crate::cred::{AcceptorCredential, InitiatorCredential};
use crate::crypto::{Enctype, Key};
use crate::error::{major, minor, Error};
use crate::gss::checksum::ChannelBindings;
use crate::gss::context::{
    AcceptFailure, AuthzSource, DelegatedCredential, InitOptions, SecurityContext,
};
use crate::gss::mech::{Context, Mechanism};
use crate::gss::name::{Name, NameType};
use crate::principal::Principal;
use std::cell::RefCell;
use std::ffi::{c_char, c_void, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, OnceLock};

// Pointer plumbing shared by every file: handle checks, strings, optional outputs.

pub(crate) fn bad_handle(what: &str) -> Error {
    Error::new(
        major::CALL_BAD_STRUCTURE | major::NO_CONTEXT,
        minor::EINVAL,
        format!("invalid {what} handle"),
    )
}

/// Borrows a handle after checking its magic (catches some misuse, e.g. a freed or
/// wrong-type handle that still has readable memory).
pub(crate) unsafe fn handle<'a, T>(
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

pub(crate) fn c_str<'a>(p: *const c_char) -> Result<Option<&'a str>, Error> {
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

pub(crate) fn write_out<T>(p: *mut T, v: T) {
    if !p.is_null() {
        // SAFETY: non-null, caller-owned storage.
        unsafe { *p = v };
    }
}

pub(crate) fn require_out<T>(p: *mut *mut T, what: &str) -> Result<(), Error> {
    if p.is_null() {
        return Err(Error::new(
            major::CALL_INACCESSIBLE_WRITE,
            minor::EINVAL,
            format!("{what} pointer is NULL"),
        ));
    }
    Ok(())
}
