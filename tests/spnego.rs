//! SPNEGO (RFC 4178) around krb5, in Rust: krbap's initiator and acceptor with each
//! other, MIT's captured krb5 tokens inside hand-built NegTokenInits (Microsoft's OID
//! first or alone, NTLM or NegoEx first with the request-mic exchange, mechListMIC absent,
//! bad, repeated or unsolicited, NTLM only, NegTokenInit2 hints), and Windows-style
//! acceptor answers to krbap's initiator. The same cases run against MIT's acceptor in
//! tests/interop-spnego.sh.

mod common;

use common::{capture_acceptor as acceptor, capture_initiator as initiator, capture_path as data};
use krbap::cred::AcceptorCredential;
use krbap::error::{major, minor, Error};
use krbap::gss::checksum::ctx_flags;
use krbap::gss::context::{InitOptions, SecurityContext};
use krbap::gss::mech::{Context, Mechanism, Step};
use krbap::gss::name::{Name, NameType};
use krbap::gss::spnego::der::{self, oid, NegState, NegTokenResp};

fn target() -> Name {
    Name::import(b"test@localhost", NameType::HostbasedService, None).unwrap()
}

fn opts(mutual: bool) -> InitOptions {
    InitOptions {
        req_flags: ctx_flags::REPLAY
            | ctx_flags::SEQUENCE
            | if mutual { ctx_flags::MUTUAL } else { 0 },
        channel_bindings: None,
    }
}

fn now() -> i64 {
    common::capture_time("mutual") + 60
}

/// A krbap krb5 initiator context and its AP-REQ token (for hand-built SPNEGO).
fn krb5_initiator(t: i64, mutual: bool) -> (SecurityContext, Vec<u8>) {
    SecurityContext::initiate(&initiator(t), &target(), &opts(mutual)).unwrap()
}

/// The mechanism OID (DER contents) in an RFC 2743 token header.
fn header_oid(tok: &[u8]) -> &[u8] {
    let at = 2 + if tok[1] & 0x80 != 0 {
        usize::from(tok[1] & 0x7f)
    } else {
        0
    };
    assert_eq!(tok[at], 0x06);
    &tok[at + 2..at + 2 + usize::from(tok[at + 1])]
}

fn resp(token: &[u8]) -> NegTokenResp<'_> {
    der::decode_resp(token).unwrap()
}

/// An NTLMSSP NEGOTIATE message, as an optimistic token for NTLM (raw, no GSS header).
fn ntlm_negotiate() -> Vec<u8> {
    let mut m = b"NTLMSSP\0".to_vec();
    m.extend_from_slice(&1u32.to_le_bytes());
    m.extend_from_slice(&0x6208_8215u32.to_le_bytes());
    m.extend_from_slice(&[0; 16]);
    m
}

/// A NegTokenResp from the initiator.
fn init_resp(token: Option<&[u8]>, mic: Option<&[u8]>) -> Vec<u8> {
    der::encode_resp(&NegTokenResp {
        neg_state: None,
        supported_mech: None,
        response_token: token,
        mech_list_mic: mic,
    })
}

fn accept_err(ac: &AcceptorCredential, token: &[u8]) -> (Error, Vec<u8>) {
    let f = Context::accept(ac, token, None).unwrap_err();
    (f.error, f.token.expect("a reject token"))
}

#[test]
fn krbap_to_krbap_mutual_and_not() {
    for mutual in [true, false] {
        let t = now();
        let ic = initiator(t);
        let ac = acceptor(t);
        let (mut i, Step { token, complete }) =
            Context::initiate(&ic, &target(), Mechanism::Spnego, &opts(mutual)).unwrap();
        assert!(
            !complete,
            "SPNEGO waits for the acceptor's answer, mutual or not"
        );
        let token = token.unwrap();
        assert!(der::is_spnego_initial(&token));
        let init = der::decode_init(&token).unwrap();
        assert_eq!(init.mech_types, vec![oid::KRB5]);
        assert!(init.req_flags.is_none() && init.mech_list_mic.is_none());
        let (mut a, step) = Context::accept(&ac, &token, None).unwrap();
        assert_eq!(a.mechanism(), Mechanism::Spnego);
        assert!(step.complete && a.is_established());
        let answer = step.token.unwrap();
        let r = resp(&answer);
        assert_eq!(r.neg_state, Some(NegState::AcceptCompleted));
        assert_eq!(r.supported_mech, Some(oid::KRB5));
        assert_eq!(r.response_token.is_some(), mutual);
        assert!(r.mech_list_mic.is_none());
        if !mutual {
            // Chromium's 22 bytes.
            assert_eq!(answer.len(), 22);
        }
        let step = i.continue_init(&answer).unwrap();
        assert!(step.complete && step.token.is_none() && i.is_established());
        assert_eq!(i.mechanism(), Mechanism::Spnego);
        let (ik, ak) = (i.krb5_mut().unwrap(), a.krb5_mut().unwrap());
        assert_eq!(ak.client().to_string(), "alice@TEST.LOCAL");
        assert_eq!(ak.flags() & ctx_flags::MUTUAL != 0, mutual);
        ik.set_fixed_time(Some(t));
        ak.set_fixed_time(Some(t));
        let w = ik.wrap(true, b"hello acceptor").unwrap();
        assert_eq!(ak.unwrap(&w).unwrap().message, b"hello acceptor");
        let m = ak.get_mic(b"back").unwrap();
        assert_eq!(ik.verify_mic(b"back", &m).unwrap(), 0);
        // A finished context takes no more tokens.
        assert_eq!(
            a.continue_accept(&ac, &answer, None)
                .unwrap_err()
                .error
                .minor,
            minor::G_BAD_MSG_CTX
        );
        assert_eq!(
            i.continue_init(&answer).unwrap_err().error.minor,
            minor::G_BAD_MSG_CTX
        );
    }
}

#[test]
fn mit_initial_tokens_inside_spnego() {
    let t = common::capture_time("mutual");
    for case in ["mutual", "nomutual", "deleg", "aes128-sha256"] {
        let ac = acceptor(t);
        let krb5 = std::fs::read(data(&format!("{case}/initial_token.bin"))).unwrap();
        let types = der::encode_mech_types(&[oid::KRB5]);
        let token = der::encode_init(&types, Some(&krb5), None);
        let (a, step) = Context::accept(&ac, &token, None).unwrap();
        assert!(step.complete, "{case}");
        let answer = step.token.unwrap();
        let r = resp(&answer);
        assert_eq!(r.neg_state, Some(NegState::AcceptCompleted), "{case}");
        assert_eq!(r.supported_mech, Some(oid::KRB5));
        assert_eq!(r.response_token.is_some(), case != "nomutual", "{case}");
        assert_eq!(a.krb5().unwrap().client().to_string(), "alice@TEST.LOCAL");
        // The same SPNEGO token again: a replay, refused with the KRB-ERROR in the reject.
        let (e, reject) = accept_err(&ac, &token);
        assert_eq!(e.minor, minor::AP_ERR_REPEAT);
        assert_ne!(e.major & major::DUPLICATE_TOKEN, 0);
        let r = resp(&reject);
        assert_eq!(r.neg_state, Some(NegState::Reject));
        assert_eq!(&r.response_token.unwrap()[13..15], &[3, 0], "KRB-ERROR");
    }
}

#[test]
fn microsoft_oid_first_or_alone_is_answered_with_it() {
    let t = now();
    for list in [
        vec![oid::KRB5_MS, oid::KRB5],
        vec![oid::KRB5_MS],
        vec![oid::KRB5, oid::KRB5_MS],
    ] {
        let ac = acceptor(t);
        let (_, ap_req) = krb5_initiator(t, true);
        let types = der::encode_mech_types(&list);
        let (_, step) =
            Context::accept(&ac, &der::encode_init(&types, Some(&ap_req), None), None).unwrap();
        let answer = step.token.unwrap();
        let r = resp(&answer);
        assert_eq!(r.supported_mech, Some(list[0]), "the OID as listed");
        assert_eq!(r.neg_state, Some(NegState::AcceptCompleted));
        assert!(
            r.mech_list_mic.is_none(),
            "either OID first counts as first"
        );
        // The AP-REP is framed with the standard OID (as MIT and Windows do).
        assert_eq!(header_oid(r.response_token.unwrap()), oid::KRB5);
    }
    // An inner token framed with Microsoft's OID is read as krb5 (MIT refuses it).
    let ac = acceptor(t);
    let (_, mut ap_req) = krb5_initiator(t, false);
    assert_eq!(header_oid(&ap_req), oid::KRB5);
    let at = header_oid(&ap_req).as_ptr() as usize - ap_req.as_ptr() as usize;
    ap_req[at..at + 9].copy_from_slice(oid::KRB5_MS);
    let types = der::encode_mech_types(&[oid::KRB5_MS, oid::KRB5]);
    let (a, step) =
        Context::accept(&ac, &der::encode_init(&types, Some(&ap_req), None), None).unwrap();
    assert!(step.complete && a.is_established());
}

/// NTLM (or NegoEx) first: request-mic, then the Kerberos token in the second leg; with
/// mutual authentication the MICs cross in legs 2 and 3 (MIT's m07 sequence), without it
/// the initiator sends AP-REQ and MIC together (m08).
#[test]
fn kerberos_not_first_asks_for_it_and_exchanges_mics() {
    for (first, opt_token) in [(oid::NTLMSSP, Some(ntlm_negotiate())), (oid::NEGOEX, None)] {
        for mutual in [true, false] {
            let t = now();
            let ac = acceptor(t);
            let list = [first, oid::KRB5];
            let types = der::encode_mech_types(&list);
            let token = der::encode_init(&types, opt_token.as_deref(), None);
            let (mut a, step) = Context::accept(&ac, &token, None).unwrap();
            assert!(!step.complete && !a.is_established());
            assert!(a.krb5().is_none());
            let r = resp(step.token.as_ref().unwrap());
            assert_eq!(r.neg_state, Some(NegState::RequestMic));
            assert_eq!(r.supported_mech, Some(oid::KRB5));
            assert!(r.response_token.is_none(), "the NTLM token is ignored");
            let (mut ik, ap_req) = krb5_initiator(t, mutual);
            if mutual {
                let step = a
                    .continue_accept(&ac, &init_resp(Some(&ap_req), None), None)
                    .unwrap();
                assert!(!step.complete);
                let answer = step.token.unwrap();
                let r = resp(&answer);
                assert_eq!(r.neg_state, Some(NegState::AcceptIncomplete));
                assert!(r.supported_mech.is_none());
                ik.continue_init(r.response_token.unwrap()).unwrap();
                assert_eq!(ik.verify_mic(&types, r.mech_list_mic.unwrap()).unwrap(), 0);
                let mic = ik.get_mic(&types).unwrap();
                let step = a
                    .continue_accept(&ac, &init_resp(None, Some(&mic)), None)
                    .unwrap();
                assert!(
                    step.complete && step.token.is_none(),
                    "MIT sends nothing here"
                );
            } else {
                let mic = ik.get_mic(&types).unwrap();
                let step = a
                    .continue_accept(&ac, &init_resp(Some(&ap_req), Some(&mic)), None)
                    .unwrap();
                assert!(step.complete);
                let answer = step.token.unwrap();
                let r = resp(&answer);
                assert_eq!(r.neg_state, Some(NegState::AcceptCompleted));
                assert!(r.response_token.is_none());
                assert_eq!(ik.verify_mic(&types, r.mech_list_mic.unwrap()).unwrap(), 0);
            }
            assert!(a.is_established());
            // Per-message protection continues after the MICs (sequence numbers agree).
            let ak = a.krb5_mut().unwrap();
            ak.set_fixed_time(Some(t));
            ik.set_fixed_time(Some(t));
            let w = ik.wrap(true, b"after the MICs").unwrap();
            assert_eq!(ak.unwrap(&w).unwrap().message, b"after the MICs");
            let w = ak.wrap(true, b"and back").unwrap();
            assert_eq!(ik.unwrap(&w).unwrap().message, b"and back");
        }
    }
}

#[test]
fn required_mic_missing_bad_or_repeated_fails_the_context() {
    let t = now();
    let types = der::encode_mech_types(&[oid::NTLMSSP, oid::KRB5]);
    let first = der::encode_init(&types, Some(&ntlm_negotiate()), None);
    // Non-mutual, no MIC with the AP-REQ: RFC 4178 §5 c-V, DEFECTIVE_TOKEN (MIT: m12).
    let ac = acceptor(t);
    let (mut a, _) = Context::accept(&ac, &first, None).unwrap();
    let (_, ap_req) = krb5_initiator(t, false);
    let f = a
        .continue_accept(&ac, &init_resp(Some(&ap_req), None), None)
        .unwrap_err();
    assert_eq!(f.error.major, major::DEFECTIVE_TOKEN);
    assert_eq!(f.error.minor, minor::SPNEGO_NEGOTIATION_FAILED);
    assert_eq!(resp(&f.token.unwrap()).neg_state, Some(NegState::Reject));
    assert!(!a.is_established());
    // A MIC over another list (the initiator's view was changed): BAD_SIG (MIT: m13).
    let ac = acceptor(t);
    let (mut a, _) = Context::accept(&ac, &first, None).unwrap();
    let (mut ik, ap_req) = krb5_initiator(t, false);
    let other = der::encode_mech_types(&[oid::KRB5]);
    let mic = ik.get_mic(&other).unwrap();
    let f = a
        .continue_accept(&ac, &init_resp(Some(&ap_req), Some(&mic)), None)
        .unwrap_err();
    assert_eq!(f.error.major, major::BAD_SIG);
    assert_eq!(f.error.minor, minor::AP_ERR_BAD_INTEGRITY);
    assert!(f.error.detail.contains("mechListMIC"), "{}", f.error.detail);
    // A corrupted MIC.
    let ac = acceptor(t);
    let (mut a, _) = Context::accept(&ac, &first, None).unwrap();
    let (mut ik, ap_req) = krb5_initiator(t, false);
    let mut mic = ik.get_mic(&types).unwrap();
    *mic.last_mut().unwrap() ^= 1;
    let f = a
        .continue_accept(&ac, &init_resp(Some(&ap_req), Some(&mic)), None)
        .unwrap_err();
    assert_eq!(f.error.major, major::BAD_SIG);
    // Mutual: the initiator's second MIC instead of its first (a gap in its sequence).
    let ac = acceptor(t);
    let (mut a, _) = Context::accept(&ac, &first, None).unwrap();
    let (mut ik, ap_req) = krb5_initiator(t, true);
    let step = a
        .continue_accept(&ac, &init_resp(Some(&ap_req), None), None)
        .unwrap();
    let answer = step.token.unwrap();
    ik.continue_init(resp(&answer).response_token.unwrap())
        .unwrap();
    let _first = ik.get_mic(&types).unwrap();
    let second = ik.get_mic(&types).unwrap();
    let f = a
        .continue_accept(&ac, &init_resp(None, Some(&second)), None)
        .unwrap_err();
    assert_eq!(f.error.major & major::ROUTINE_ERROR_MASK, major::BAD_SIG);
    assert_ne!(f.error.major & major::GAP_TOKEN, 0, "{:?}", f.error);
}

#[test]
fn unsolicited_initiator_mic_is_verified_and_answered() {
    let t = now();
    let ac = acceptor(t);
    let (mut ik, ap_req) = krb5_initiator(t, false);
    let types = der::encode_mech_types(&[oid::KRB5]);
    let mic = ik.get_mic(&types).unwrap();
    let token = der::encode_init(&types, Some(&ap_req), Some(&mic));
    let (a, step) = Context::accept(&ac, &token, None).unwrap();
    assert!(step.complete && a.is_established());
    let answer = step.token.unwrap();
    let r = resp(&answer);
    assert_eq!(r.neg_state, Some(NegState::AcceptCompleted));
    // RFC 4178 §4.2.2: supportedMech in the first reply (MIT leaves it out here: m14).
    assert_eq!(r.supported_mech, Some(oid::KRB5));
    assert_eq!(ik.verify_mic(&types, r.mech_list_mic.unwrap()).unwrap(), 0);
    // A bad unsolicited MIC fails the context.
    let ac = acceptor(t);
    let (mut ik, ap_req) = krb5_initiator(t, false);
    let mut mic = ik.get_mic(&types).unwrap();
    mic[20] ^= 0x80;
    let (e, reject) = accept_err(&ac, &der::encode_init(&types, Some(&ap_req), Some(&mic)));
    assert_eq!(e.major, major::BAD_SIG);
    assert_eq!(resp(&reject).neg_state, Some(NegState::Reject));
}

#[test]
fn no_kerberos_in_the_list_is_rejected_naming_the_mechanisms() {
    let t = now();
    let ac = acceptor(t);
    let types = der::encode_mech_types(&[oid::NTLMSSP]);
    let (e, reject) = accept_err(
        &ac,
        &der::encode_init(&types, Some(&ntlm_negotiate()), None),
    );
    assert_eq!(e.major, major::BAD_MECH);
    assert_eq!(e.minor, minor::SPNEGO_NEGOTIATION_FAILED);
    assert!(
        e.detail.contains("NTLMSSP (1.3.6.1.4.1.311.2.2.10)"),
        "{}",
        e.detail
    );
    // MIT's exact 9 bytes.
    assert_eq!(
        reject,
        [0xa1, 0x07, 0x30, 0x05, 0xa0, 0x03, 0x0a, 0x01, 0x02]
    );
    let types = der::encode_mech_types(&[oid::NEGOEX, oid::KRB5_OLD]);
    let (e, _) = accept_err(&ac, &der::encode_init(&types, None, None));
    assert!(e.detail.contains("NegoEx") && e.detail.contains("1.3.5.1.5.2"));
    let (e, _) = accept_err(
        &ac,
        &der::encode_init(&der::encode_mech_types(&[]), None, None),
    );
    assert!(e.detail.contains("offered no mechanism"), "{}", e.detail);
}

/// krbap's SPNEGO initiator (mutual or not), its NegTokenInit, and a krbap krb5 acceptor
/// context made from the AP-REQ inside it with its AP-REP: the material of hand-built
/// acceptor answers.
fn initiator_and_answer_parts(
    t: i64,
    mutual: bool,
) -> (Context, Vec<u8>, SecurityContext, Option<Vec<u8>>) {
    let (i, step) =
        Context::initiate(&initiator(t), &target(), Mechanism::Spnego, &opts(mutual)).unwrap();
    let token = step.token.unwrap();
    let init = der::decode_init(&token).unwrap();
    let types = init.mech_types_der.to_vec();
    let (a, rep) = SecurityContext::accept(&acceptor(t), init.mech_token.unwrap(), None).unwrap();
    (i, types, a, rep)
}

/// Makes a bad acceptor answer from (the acceptor's krb5 context, mechTypes, AP-REP).
type BuildAnswer = Box<dyn Fn(&mut SecurityContext, &[u8], &[u8]) -> Vec<u8>>;

fn answer(
    state: Option<NegState>,
    mech: Option<&[u8]>,
    token: Option<&[u8]>,
    mic: Option<&[u8]>,
) -> Vec<u8> {
    der::encode_resp(&NegTokenResp {
        neg_state: state,
        supported_mech: mech,
        response_token: token,
        mech_list_mic: mic,
    })
}

#[test]
fn initiator_takes_windows_style_answers() {
    let t = now();
    let done = Some(NegState::AcceptCompleted);
    for (name, mutual, mech, empty_token, repeat) in [
        ("MS OID", true, Some(oid::KRB5_MS), false, false),
        (
            "pre-RFC OID (old Samba)",
            true,
            Some(oid::KRB5_OLD),
            false,
            false,
        ),
        ("no supportedMech (Java)", true, None, false, false),
        (
            "no responseToken, no mutual",
            false,
            Some(oid::KRB5),
            false,
            false,
        ),
        (
            "empty responseToken, no mutual (old IIS)",
            false,
            Some(oid::KRB5),
            true,
            false,
        ),
        (
            "Windows 2000 repeats the token as MIC",
            true,
            Some(oid::KRB5),
            false,
            true,
        ),
    ] {
        let (mut i, _, _, rep) = initiator_and_answer_parts(t, mutual);
        let tok = if empty_token {
            Some(&[][..])
        } else {
            rep.as_deref()
        };
        let mic = if repeat { rep.as_deref() } else { None };
        let step = i
            .continue_init(&answer(done, mech, tok, mic))
            .unwrap_or_else(|f| panic!("{name}: {:?}", f.error));
        assert!(step.complete && step.token.is_none(), "{name}");
        assert!(i.is_established(), "{name}");
    }
}

#[test]
fn initiator_answers_an_acceptor_mic_and_rejects_bad_answers() {
    let t = now();
    // The acceptor's MIC with the AP-REP: verified, and the initiator's own MIC comes back
    // (accept-completed), which the acceptor's krb5 context verifies.
    let (mut i, types, mut a, rep) = initiator_and_answer_parts(t, true);
    let mic = a.get_mic(&types).unwrap();
    let step = i
        .continue_init(&answer(
            Some(NegState::AcceptIncomplete),
            Some(oid::KRB5),
            rep.as_deref(),
            Some(&mic),
        ))
        .unwrap();
    assert!(step.complete);
    let back = step.token.expect("the initiator's MIC");
    let r = resp(&back);
    assert_eq!(r.neg_state, Some(NegState::AcceptCompleted));
    assert_eq!(a.verify_mic(&types, r.mech_list_mic.unwrap()).unwrap(), 0);

    // Failures: each error, the reject token for the acceptor, a dead context.
    let cases: Vec<(&str, u32, i32, BuildAnswer)> = vec![
        (
            "a corrupted acceptor MIC",
            major::BAD_SIG,
            minor::AP_ERR_BAD_INTEGRITY,
            Box::new(|a, types, rep| {
                let mut mic = a.get_mic(types).unwrap();
                mic[17] ^= 1;
                answer(Some(NegState::AcceptCompleted), None, Some(rep), Some(&mic))
            }),
        ),
        (
            "no AP-REP although mutual",
            major::DEFECTIVE_TOKEN,
            minor::SPNEGO_NO_TOKEN_FROM_ACCEPTOR,
            Box::new(|_, _, _| {
                answer(Some(NegState::AcceptCompleted), Some(oid::KRB5), None, None)
            }),
        ),
        (
            "supportedMech NTLMSSP",
            major::DEFECTIVE_TOKEN,
            minor::SPNEGO_NEGOTIATION_FAILED,
            Box::new(|_, _, rep| {
                answer(
                    Some(NegState::AcceptCompleted),
                    Some(oid::NTLMSSP),
                    Some(rep),
                    None,
                )
            }),
        ),
        (
            "a reject without token",
            major::FAILURE,
            minor::SPNEGO_NEGOTIATION_FAILED,
            Box::new(|_, _, _| answer(Some(NegState::Reject), None, None, None)),
        ),
    ];
    for (name, want_major, want_minor, build) in cases {
        let (mut i, types, mut a, rep) = initiator_and_answer_parts(t, true);
        let f = i
            .continue_init(&build(&mut a, &types, rep.as_deref().unwrap()))
            .unwrap_err();
        assert_eq!(
            (f.error.major, f.error.minor),
            (want_major, want_minor),
            "{name}: {:?}",
            f.error
        );
        assert_eq!(
            f.token.as_deref(),
            Some(&[0xa1, 0x07, 0x30, 0x05, 0xa0, 0x03, 0x0a, 0x01, 0x02][..]),
            "{name}: MIT's reject back"
        );
        assert!(!i.is_established());
        assert!(
            i.continue_init(&[0xa1, 0x00]).is_err(),
            "{name}: the context is dead"
        );
    }

    // A reject carrying the acceptor's KRB-ERROR reports that error (here: a replay).
    let ac = acceptor(t);
    let (mut i, step) =
        Context::initiate(&initiator(t), &target(), Mechanism::Spnego, &opts(true)).unwrap();
    let token = step.token.unwrap();
    Context::accept(&ac, &token, None).unwrap();
    let f = Context::accept(&ac, &token, None).unwrap_err();
    let e = i.continue_init(&f.token.unwrap()).unwrap_err().error;
    assert_eq!(e.minor, minor::AP_ERR_REPEAT, "{e:?}");
    assert!(e.detail.contains("KRB-ERROR 34"), "{}", e.detail);
}

#[test]
fn acceptor_leniencies_and_the_initiators_reject() {
    let t = now();
    // MS NegTokenInit2 layout ([3] negHints, [4] mechListMIC): read, hints ignored.
    let (_, ap_req) = krb5_initiator(t, true);
    let token = {
        let types = der::encode_mech_types(&[oid::KRB5]);
        let init = der::encode_init(&types, Some(&ap_req), None);
        // Re-frame with a negHints field appended to the NegTokenInit SEQUENCE.
        let inner = der::decode_init(&init).unwrap();
        let mut seq = vec![0xa0];
        seq.extend(der_len(inner.mech_types_der.len()));
        seq.extend_from_slice(inner.mech_types_der);
        let octets = [&[0x04][..], &der_len(ap_req.len()), &ap_req].concat();
        seq.extend([&[0xa2][..], &der_len(octets.len()), &octets].concat());
        let hint = b"\x30\x0a\xa0\x08\x1b\x06ignore";
        seq.extend([&[0xa3][..], &der_len(hint.len()), hint].concat());
        let body = [&[0x30][..], &der_len(seq.len()), &seq].concat();
        let choice = [&[0xa0][..], &der_len(body.len()), &body].concat();
        let all = [
            &[0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02][..],
            &choice,
        ]
        .concat();
        [&[0x60][..], &der_len(all.len()), &all].concat()
    };
    assert!(der::decode_init(&token).unwrap().neg_hints.is_some());
    let (a, step) = Context::accept(&acceptor(t), &token, None).unwrap();
    assert!(step.complete && a.is_established());

    // A continuation framed like an initial token (old Sun initiators; MIT reads it too).
    let ac = acceptor(t);
    let types = der::encode_mech_types(&[oid::NTLMSSP, oid::KRB5]);
    let (mut a, _) = Context::accept(&ac, &der::encode_init(&types, None, None), None).unwrap();
    let (mut ik, ap_req) = krb5_initiator(t, false);
    let mic = ik.get_mic(&types).unwrap();
    let bare = init_resp(Some(&ap_req), Some(&mic));
    let all = [&[0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02][..], &bare].concat();
    let sun = [&[0x60][..], &der_len(all.len()), &all].concat();
    assert!(a.continue_accept(&ac, &sun, None).unwrap().complete);

    // The initiator ends the negotiation: FAILURE, no token back.
    let (mut a, _) = Context::accept(&ac, &der::encode_init(&types, None, None), None).unwrap();
    let f = a
        .continue_accept(
            &ac,
            &der::encode_resp(&NegTokenResp {
                neg_state: Some(NegState::Reject),
                ..Default::default()
            }),
            None,
        )
        .unwrap_err();
    assert_eq!(
        (f.error.major, f.error.minor),
        (major::FAILURE, minor::SPNEGO_NEGOTIATION_FAILED)
    );
    assert!(f.token.is_none());
}

fn der_len(n: usize) -> Vec<u8> {
    if n < 0x80 {
        vec![n as u8]
    } else if n < 0x100 {
        vec![0x81, n as u8]
    } else {
        vec![0x82, (n >> 8) as u8, n as u8]
    }
}
