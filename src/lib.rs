//! krbap — the Kerberos V5 AP exchange (RFC 4120 §3.2) carried in the GSS-API krb5
//! mechanism (RFC 4121), as a Rust library with a thin C ABI (`ffi`, header `include/krbap.h`).
//!
//! Layout, one module per concept:
//! - [`crypto`]: RFC 3961 simplified profile, RFC 3962 (AES-SHA1), RFC 8009 (AES-SHA2).
//! - [`asn1`]: RFC 4120 §5 messages in DER.
//! - [`principal`]: principal names, parsing and display as MIT does.
//! - [`keytab`], [`ccache`]: MIT's keytab and FILE credential-cache formats.
//! - [`kdc`]: the KDC client (AS and TGS exchanges, RFC 4120 §3.1/§3.3).
//! - [`rcache`]: replay caches (memory, none, MIT file2).
//! - [`gss`]: RFC 2743/4121 tokens, the AP exchange as a security context, Wrap/MIC.
//! - [`http`]: HTTP Negotiate (RFC 4559) header values, strict base64.
//! - [`error`]: GSS major status and MIT com_err minor codes.
//! - `ffi`: the C ABI (no protocol logic).
//! - [`pac`]: the Windows PAC (MS-PAC) in AD tickets: parse, verify, typed access.

pub mod ap;
pub mod asn1;
mod byte_reader;
pub mod ccache;
pub mod config;
pub mod cred;
pub mod crypto;
pub mod diagnose;
pub mod error;
pub mod ffi;
pub mod file_lock;
mod file_name;
pub mod gss;
pub mod http;
pub mod kdc;
pub mod keytab;
pub mod pac;
pub mod principal;
pub mod rcache;

pub use error::{Error, Result};
