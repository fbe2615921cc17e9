//! The GSS-API krb5 mechanism: token framing (RFC 2743 §3.1, RFC 4121 §4.1), the
//! authenticator checksum 0x8003, names, security contexts, and per-message tokens
//! (RFC 4121 §4.2) with their sequence state; SPNEGO (RFC 4178) around it and the choice of
//! mechanism (`mech`).

pub mod checksum;
pub mod context;
pub mod mech;
pub mod name;
pub mod seqstate;
pub mod spnego;
pub mod token;
pub mod wrap;
