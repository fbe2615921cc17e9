//! ONE-TIME generator of fuzz/seeds/spnego/ (the `spnego` target; byte 0 of each seed is
//! the target's mode): SPNEGO tokens around MIT's captured krb5 tokens and around krbap's
//! own, made for the target's fixed-clock states. Run from the repository root:
//!
//!     cargo run --manifest-path fuzz/Cargo.toml --example make_spnego_seeds

use krbap::gss::checksum::ctx_flags;
use krbap::gss::context::{InitOptions, SecurityContext};
use krbap::gss::mech::{Context, Mechanism};
use krbap::gss::name::{Name, NameType};
use krbap::gss::spnego::der::{self, oid, NegState, NegTokenResp};
use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn put(name: &str, mode: u8, bytes: &[u8]) {
    let dir = root().join("fuzz/seeds/spnego");
    fs::create_dir_all(&dir).unwrap();
    let mut seed = vec![mode];
    seed.extend_from_slice(bytes);
    fs::write(dir.join(name), seed).unwrap();
}

fn resp(token: Option<&[u8]>, mic: Option<&[u8]>) -> Vec<u8> {
    der::encode_resp(&NegTokenResp {
        neg_state: None,
        supported_mech: None,
        response_token: token,
        mech_list_mic: mic,
    })
}

fn main() {
    let dir = root().join("fuzz/seeds/spnego");
    let _ = fs::remove_dir_all(&dir);
    let acceptor = krbap_fuzz::acceptor();
    let initiator = krbap_fuzz::initiator();
    let target = Name::import(b"test@localhost", NameType::HostbasedService, None).unwrap();
    let krb5_only = der::encode_mech_types(&[oid::KRB5]);
    let ms_first = der::encode_mech_types(&[oid::KRB5_MS, oid::KRB5]);
    let ntlm_first = der::encode_mech_types(&[oid::NTLMSSP, oid::KRB5]);

    // Mode 0: first tokens around MIT's captured AP-REQs, and other lists.
    for case in ["mutual", "nomutual", "aes128-sha256"] {
        let krb5 =
            fs::read(root().join(format!("tests/data/mit-capture/{case}/initial_token.bin")))
                .unwrap();
        put(
            &format!("0-mit-{case}"),
            0,
            &der::encode_init(&krb5_only, Some(&krb5), None),
        );
        put(
            &format!("0-mit-{case}-ms"),
            0,
            &der::encode_init(&ms_first, Some(&krb5), None),
        );
    }
    put(
        "0-ntlm-first",
        0,
        &der::encode_init(&ntlm_first, Some(b"NTLMSSP\0\x01"), None),
    );
    put(
        "0-ntlm-only",
        0,
        &der::encode_init(&der::encode_mech_types(&[oid::NTLMSSP]), None, None),
    );
    put(
        "0-krb5-no-token",
        0,
        &der::encode_init(&krb5_only, None, None),
    );
    // krbap's non-mutual AP-REQ with an unsolicited initiator MIC.
    let options = |mutual: bool| InitOptions {
        req_flags: ctx_flags::SEQUENCE | if mutual { ctx_flags::MUTUAL } else { 0 },
        channel_bindings: None,
    };
    let (mut k, ap_req) = SecurityContext::initiate(&initiator, &target, &options(false)).unwrap();
    let mic = k.get_mic(&krb5_only).unwrap();
    put(
        "0-krbap-unsolicited-mic",
        0,
        &der::encode_init(&krb5_only, Some(&ap_req), Some(&mic)),
    );

    // Mode 1: the second leg after request-mic for [NTLMSSP, krb5].
    let (_, mutual_req) = SecurityContext::initiate(&initiator, &target, &options(true)).unwrap();
    put("1-ap-req-mutual", 1, &resp(Some(&mutual_req), None));
    let (mut k, plain_req) =
        SecurityContext::initiate(&initiator, &target, &options(false)).unwrap();
    let mic = k.get_mic(&ntlm_first).unwrap();
    put("1-ap-req-and-mic", 1, &resp(Some(&plain_req), Some(&mic)));
    put("1-mic-only", 1, &resp(None, Some(&mic)));

    // Mode 2: krbap's acceptor answering the target's own SPNEGO request (fixed clock:
    // the same ctime and cusec in every fresh context), with and without a MIC.
    let (_, step) =
        Context::initiate(&initiator, &target, Mechanism::Spnego, &options(true)).unwrap();
    let token = step.token.unwrap();
    let (mut a, answer) = Context::accept(&acceptor, &token, None).unwrap();
    let answer = answer.token.unwrap();
    put("2-krbap-answer", 2, &answer);
    let r = der::decode_resp(&answer).unwrap();
    let mic = a.krb5_mut().unwrap().get_mic(&krb5_only).unwrap();
    put(
        "2-answer-with-mic",
        2,
        &der::encode_resp(&NegTokenResp {
            neg_state: Some(NegState::AcceptIncomplete),
            supported_mech: Some(oid::KRB5_MS),
            response_token: r.response_token,
            mech_list_mic: Some(&mic),
        }),
    );
    put(
        "2-reject",
        2,
        &der::encode_resp(&NegTokenResp {
            neg_state: Some(NegState::Reject),
            ..Default::default()
        }),
    );

    // Mode 3: the readers alone.
    put(
        "3-init",
        3,
        &der::encode_init(&ntlm_first, Some(b"tok"), Some(b"mic")),
    );
    put("3-resp", 3, &answer);
}
