//! SPNEGO (RFC 4178) from the network, both sides. Byte 0 picks the state the rest of the
//! input meets (the capture's keys and alice's ccache, the clock fixed at the capture
//! time, no replay cache, so seeds made for these states reach the krb5 and MIC checks):
//!   0: the acceptor's first token (a NegTokenInit, or anything else: the mechanism is
//!      told by the token, as krbap_accept_sec_context does)
//!   1: the acceptor's second token after request-mic (the initiator listed NTLMSSP first)
//!   2: the initiator's second step: the acceptor's answer to a mutual SPNEGO AP-REQ
//!   3: the DER readers alone, with a re-encode round trip
//! Every failure must be an error (never a panic), leave the context unusable, and come
//! with a well-formed reject NegTokenResp when SPNEGO sends one.
#![no_main]

use krbap::cred::{AcceptorCredential, InitiatorCredential};
use krbap::gss::checksum::ctx_flags;
use krbap::gss::context::InitOptions;
use krbap::gss::mech::{Context, Mechanism};
use krbap::gss::name::{Name, NameType};
use krbap::gss::spnego::der::{self, NegState};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

static STATE: OnceLock<(AcceptorCredential, InitiatorCredential, Name)> = OnceLock::new();

/// The first token of mode 1: [NTLMSSP, krb5] with an NTLM NEGOTIATE (request-mic).
fn ntlm_first() -> Vec<u8> {
    let types = der::encode_mech_types(&[der::oid::NTLMSSP, der::oid::KRB5]);
    der::encode_init(&types, Some(b"NTLMSSP\0\x01\0\0\0\x15\x82\x08\x62"), None)
}

fn check_failure_token(token: Option<Vec<u8>>) {
    if let Some(t) = token {
        let r = der::decode_resp(&t).expect("a failure token is a NegTokenResp");
        assert_eq!(r.neg_state, Some(NegState::Reject));
    }
}

fn after_accept(ctx: &mut Context) {
    if ctx.is_established() {
        let k = ctx
            .krb5_mut()
            .expect("an established SPNEGO context has a krb5 context");
        let w = k.wrap(true, b"fuzz").expect("wrap");
        let _ = k.get_mic(&w);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, input)) = data.split_first() else {
        return;
    };
    let (acceptor, initiator, target) = STATE.get_or_init(|| {
        let target =
            Name::import(b"test@localhost", NameType::HostbasedService, None).expect("name");
        (krbap_fuzz::acceptor(), krbap_fuzz::initiator(), target)
    });
    match mode % 4 {
        0 => match Context::accept(acceptor, input, None) {
            Ok((mut ctx, step)) => {
                assert_eq!(step.complete, ctx.is_established());
                after_accept(&mut ctx);
            }
            Err(f) if der::is_spnego_initial(input) => check_failure_token(f.token),
            Err(_) => {}
        },
        1 => {
            let (mut ctx, step) =
                Context::accept(acceptor, &ntlm_first(), None).expect("request-mic");
            assert!(!step.complete);
            match ctx.continue_accept(acceptor, input, None) {
                Ok(step) => {
                    assert_eq!(step.complete, ctx.is_established());
                    after_accept(&mut ctx);
                }
                Err(f) => {
                    check_failure_token(f.token);
                    assert!(!ctx.is_established());
                    assert!(ctx.continue_accept(acceptor, input, None).is_err());
                }
            }
        }
        2 => {
            let options = InitOptions {
                req_flags: ctx_flags::MUTUAL | ctx_flags::SEQUENCE,
                channel_bindings: None,
            };
            let (mut ctx, _) = Context::initiate(initiator, target, Mechanism::Spnego, &options)
                .expect("initiate from the fixture");
            match ctx.continue_init(input) {
                Ok(step) => {
                    assert_eq!(step.complete, ctx.is_established());
                    if let Some(t) = step.token {
                        der::decode_resp(&t).expect("the initiator's MIC token parses");
                    }
                }
                Err(f) => {
                    check_failure_token(f.token);
                    assert!(!ctx.is_established());
                    assert!(ctx.continue_init(input).is_err());
                }
            }
        }
        _ => {
            if let Ok(init) = der::decode_init(input) {
                let again = der::encode_init(init.mech_types_der, init.mech_token, None);
                let back = der::decode_init(&again).expect("re-encoded NegTokenInit");
                assert_eq!(back.mech_types, init.mech_types);
                assert_eq!(back.mech_token, init.mech_token);
            }
            if let Ok(r) = der::decode_resp(input) {
                let again = der::encode_resp(&r);
                assert_eq!(
                    der::decode_resp(&again).expect("re-encoded NegTokenResp"),
                    r
                );
            }
        }
    }
});
