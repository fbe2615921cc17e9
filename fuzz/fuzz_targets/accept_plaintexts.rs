//! The acceptor after decryption (through the `fuzzing` test hook): the decrypted ticket
//! (EncTicketPart) and authenticator bytes are the input, as if a KDC or client with the
//! keys had sent them: client match, ticket times and flags, clock skew, subkey, the 0x8003
//! checksum and channel bindings, the delegated KRB-CRED, authorization data (AD-IF-RELEVANT,
//! RFC 4537 enctype list), the AP-REP.
//!
//! The credential keeps unverified PACs (PacPolicy::AllowUnverified): a seed's PAC was
//! signed for its own service, not for the fixture AP-REQ's, and mutated PACs should reach
//! the PAC content parser too.
//!
//! Input: two records (`krbap_fuzz::records`): ticket plaintext, authenticator plaintext.
#![no_main]

use krbap::asn1::{ApReq, Der};
use krbap::cred::AcceptorCredential;
use krbap::gss::context::SecurityContext;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

static STATE: OnceLock<(AcceptorCredential, ApReq)> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let (cred, ap_req) = STATE.get_or_init(|| {
        let ap_req = ApReq::from_der(krbap_fuzz::MUTUAL_AP_REQ).expect("fixture AP-REQ");
        let cred = krbap_fuzz::acceptor();
        cred.set_pac_policy(krbap::pac::PacPolicy::AllowUnverified);
        (cred, ap_req)
    });
    let recs = krbap_fuzz::records(data);
    let (Some(ticket), Some(authenticator)) = (recs.first(), recs.get(1)) else {
        return;
    };
    if let Ok((mut ctx, _reply)) =
        SecurityContext::fuzz_accept_plaintexts(cred, ap_req, ticket.1, authenticator.1)
    {
        let _ = ctx.client().to_string();
        let _ = ctx.pac();
        if let Some(p) = ctx.pac_info() {
            let _ = (p.groups().len(), p.logon_info().map(|l| l.effective_name()));
        }
        ctx.set_fixed_time(Some(krbap_fuzz::capture_time()));
        let _ = ctx.wrap(true, b"fuzz");
    }
});
