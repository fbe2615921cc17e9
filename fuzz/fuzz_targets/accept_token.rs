//! The acceptor's first step on an initial context token from the network (RFC 2743
//! §3.1 framing, AP-REQ DER, ticket and authenticator decryption with the capture's real
//! keytab, every check of RFC 4120 §3.2.3, the 0x8003 checksum, delegation), then, if the
//! token was accepted, a Wrap/MIC round trip on the new context.
#![no_main]

use krbap::cred::AcceptorCredential;
use krbap::gss::context::SecurityContext;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

static ACCEPTOR: OnceLock<AcceptorCredential> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let cred = ACCEPTOR.get_or_init(krbap_fuzz::acceptor);
    match SecurityContext::accept(cred, data, None) {
        Ok((mut ctx, _reply)) => {
            let _ = ctx.client().to_string();
            let _ = ctx.authorization_data().len();
            let wrapped = ctx
                .wrap(true, b"fuzz")
                .expect("wrap on an accepted context");
            let _ = ctx.get_mic(&wrapped);
            let _ = ctx.unwrap(&wrapped);
        }
        Err(failure) => {
            // An error token, when there is one, must itself be well-formed.
            if let Some(tok) = failure.token {
                krbap::gss::token::unframe(&tok).expect("KRB-ERROR token frames");
            }
        }
    }
});
