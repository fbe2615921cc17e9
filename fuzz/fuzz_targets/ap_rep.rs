//! The initiator's second step (RFC 4120 §3.2.5, RFC 4121 §4.1): `continue_init` on a
//! context that sent a mutual AP-REQ with alice's ticket for test/localhost from the
//! capture's ccache, given the acceptor's reply (AP-REP or KRB-ERROR token). The clock is
//! fixed, so the seeds (AP-REPs made by krbap's acceptor for that request, and MIT's)
//! decrypt and reach the checks after decryption.
#![no_main]

use krbap::cred::InitiatorCredential;
use krbap::gss::checksum::ctx_flags;
use krbap::gss::context::{InitOptions, SecurityContext};
use krbap::gss::name::{Name, NameType};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

static STATE: OnceLock<(InitiatorCredential, Name)> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let (cred, target) = STATE.get_or_init(|| {
        let target =
            Name::import(b"test@localhost", NameType::HostbasedService, None).expect("target name");
        (krbap_fuzz::initiator(), target)
    });
    let options = InitOptions {
        req_flags: ctx_flags::MUTUAL | ctx_flags::REPLAY | ctx_flags::SEQUENCE,
        channel_bindings: None,
    };
    let (mut ctx, _token) =
        SecurityContext::initiate(cred, target, &options).expect("initiate from the fixture");
    if ctx.continue_init(data).is_ok() {
        assert!(ctx.is_established());
        let _ = ctx.wrap(true, b"fuzz");
        let _ = ctx.unwrap(data);
    } else {
        // A failed step leaves the context unusable, never half-established.
        assert!(!ctx.is_established());
        assert!(ctx.continue_init(data).is_err());
    }
});
