//! The AP exchange end to end in Rust: MIT's captured initial tokens accepted by krbap,
//! krbap initiator to krbap acceptor with MIT's ccache, and every failure path.

mod common;

use common::{capture_acceptor as acceptor, capture_initiator as initiator, capture_path as data};
use krbap::ap::{mint_ticket, MintRequest, ServiceKey};
use krbap::asn1::{flags, Der};
use krbap::ccache::{Ccache, Credential};
use krbap::cred::{AcceptorCredential, InitiatorCredential};
use krbap::crypto::{Enctype, Key};
use krbap::error::{major, minor};
use krbap::gss::checksum::{ctx_flags, ChannelBindings};
use krbap::gss::context::{InitOptions, SecurityContext};
use krbap::gss::name::{Name, NameType};
use krbap::principal::Principal;
use krbap::rcache::ReplayCache;
use std::path::PathBuf;

fn target(s: &str) -> Name {
    Name::import(s.as_bytes(), NameType::HostbasedService, None).unwrap()
}

const CASES: [&str; 9] = [
    "mutual",
    "nomutual",
    "noconf",
    "deleg",
    "aes256-sha1",
    "aes128-sha1",
    "aes256-sha384",
    "aes128-sha256",
    "aes256-sha384-default-subkey",
];

#[test]
fn accepts_every_mit_initial_token() {
    let t = common::capture_time("mutual");
    for case in CASES {
        let cred = acceptor(t);
        let token = std::fs::read(data(&format!("{case}/initial_token.bin"))).unwrap();
        let (ctx, reply) = SecurityContext::accept(&cred, &token, None)
            .unwrap_or_else(|f| panic!("{case}: {:?}", f.error));
        assert_eq!(ctx.client().to_string(), "alice@TEST.LOCAL", "{case}");
        // The server is kept as the token names it and built when asked: the ticket's
        // realm, components and name type, exactly.
        let (_, inner) = krbap::gss::token::unframe(&token).unwrap();
        let ticket = krbap::asn1::ApReq::from_der(inner).unwrap().ticket;
        assert_eq!(ctx.server().realm, ticket.realm, "{case}");
        assert_eq!(ctx.server().name, ticket.sname, "{case}");
        assert!(ctx.is_established());
        let mutual = case != "nomutual";
        assert_eq!(
            reply.is_some(),
            mutual,
            "{case}: AP-REP only with mutual auth"
        );
        assert_eq!(ctx.flags() & ctx_flags::MUTUAL != 0, mutual, "{case}");
        assert_ne!(ctx.flags() & ctx_flags::TRANS, 0);
        assert!(
            ctx.pac().is_some(),
            "{case}: MIT's KDC puts a PAC in every ticket"
        );
        let expect_enctype = match case {
            "aes128-sha1" => Enctype::Aes128CtsHmacSha196,
            "aes256-sha384" | "aes256-sha384-default-subkey" => Enctype::Aes256CtsHmacSha384192,
            "aes128-sha256" => Enctype::Aes128CtsHmacSha256128,
            _ => Enctype::Aes256CtsHmacSha196,
        };
        assert_eq!(ctx.session_enctype(), expect_enctype, "{case}");
        if case == "deleg" {
            let d = ctx.delegated_credential().expect("delegated TGT");
            assert_eq!(d.credentials.len(), 1);
            assert_eq!(
                d.credentials[0].server.to_string(),
                "krbtgt/TEST.LOCAL@TEST.LOCAL"
            );
            let dir = tempdir();
            let path = dir.join("deleg.ccache");
            d.store(&path).unwrap();
            let cc = Ccache::load(&path).unwrap();
            assert_eq!(cc.default_principal.to_string(), "alice@TEST.LOCAL");
            assert_eq!(cc.credentials.len(), 1);
        } else {
            assert!(ctx.delegated_credential().is_none());
        }
        // The replay cache now refuses the same token.
        let f = SecurityContext::accept(&cred, &token, None).unwrap_err();
        assert_eq!(f.error.minor, minor::AP_ERR_REPEAT, "{case}");
        assert_ne!(f.error.major & major::DUPLICATE_TOKEN, 0);
        assert!(major::is_error(f.error.major));
        let err_tok = f.token.expect("KRB-ERROR token");
        assert_eq!(&err_tok[13..15], &[3, 0]);
    }
}

#[test]
fn unwraps_mit_tokens_after_accepting_mit_initial_token() {
    let t = common::capture_time("mutual");
    let cred = acceptor(t);
    let token = std::fs::read(data("nomutual/initial_token.bin")).unwrap();
    let (mut ctx, _) = SecurityContext::accept(&cred, &token, None).unwrap();
    ctx.set_fixed_time(Some(t));
    let msg = std::fs::read(data("nomutual/message.bin")).unwrap();
    let conf = std::fs::read(data("nomutual/c2s_wrap_conf.bin")).unwrap();
    let u = ctx.unwrap(&conf).unwrap();
    assert_eq!(u.message, msg);
    assert!(u.conf);
    let noconf = std::fs::read(data("nomutual/c2s_wrap_noconf.bin")).unwrap();
    let u = ctx.unwrap(&noconf).unwrap();
    assert_eq!(u.message, msg);
    assert!(!u.conf);
    let mic = std::fs::read(data("nomutual/c2s_mic.bin")).unwrap();
    assert_eq!(ctx.verify_mic(&msg, &mic).unwrap(), 0);
}

fn tempdir() -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "krbap-test-{}-{}",
        std::process::id(),
        krbap::crypto::random_u32()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn exchange(mutual: bool, tgt: &str) {
    let t = common::capture_time("mutual") + 60;
    let ic = initiator(t);
    let ac = acceptor(t);
    let req_flags =
        ctx_flags::REPLAY | ctx_flags::SEQUENCE | if mutual { ctx_flags::MUTUAL } else { 0 };
    let opts = InitOptions {
        req_flags,
        channel_bindings: None,
    };
    let (mut ictx, tok) = SecurityContext::initiate(&ic, &target(tgt), &opts).unwrap();
    assert_eq!(ictx.is_established(), !mutual);
    let (mut actx, rep) = SecurityContext::accept(&ac, &tok, None).unwrap();
    assert_eq!(actx.client().to_string(), "alice@TEST.LOCAL");
    if mutual {
        ictx.continue_init(&rep.unwrap()).unwrap();
    } else {
        assert!(rep.is_none());
    }
    assert!(ictx.is_established());
    ictx.set_fixed_time(Some(t));
    actx.set_fixed_time(Some(t));
    for conf in [true, false] {
        let w = ictx.wrap(conf, b"hello acceptor").unwrap();
        let u = actx.unwrap(&w).unwrap();
        assert_eq!(u.message, b"hello acceptor");
        assert_eq!(u.conf, conf);
        let w = actx.wrap(conf, b"hello initiator").unwrap();
        assert_eq!(ictx.unwrap(&w).unwrap().message, b"hello initiator");
    }
    let mic = actx.get_mic(b"m").unwrap();
    assert_eq!(ictx.verify_mic(b"m", &mic).unwrap(), 0);
}

#[test]
fn krbap_to_krbap_mutual_and_not() {
    exchange(true, "test@localhost");
    exchange(false, "test@localhost");
    exchange(true, "test-aes128-sha256@localhost");
    exchange(true, "test-aes256-sha384@localhost");
}

fn initial_token(t: i64, bindings: Option<ChannelBindings>) -> Vec<u8> {
    let ic = initiator(t);
    let opts = InitOptions {
        req_flags: ctx_flags::MUTUAL,
        channel_bindings: bindings,
    };
    SecurityContext::initiate(&ic, &target("test@localhost"), &opts)
        .unwrap()
        .1
}

#[test]
fn failures_have_mit_codes_and_leave_the_acceptor_working() {
    let t = common::capture_time("mutual") + 60;
    let ac = acceptor(t);
    let check = |token: &[u8], ac: &AcceptorCredential, want_minor: i32| {
        let f = SecurityContext::accept(ac, token, None).unwrap_err();
        assert_eq!(f.error.minor, want_minor, "{:?}", f.error);
        // The same acceptor still accepts a fresh valid token made at its own time.
        let now = ac.clock.now().0;
        SecurityContext::accept(ac, &initial_token(now, None), None).unwrap();
    };
    // Clock skew both ways.
    ac.clock.set_fixed(Some(t + 301));
    check(&initial_token(t, None), &ac, minor::AP_ERR_SKEW);
    ac.clock.set_fixed(Some(t));
    // Expired ticket: a minted ticket that ended an hour ago, whose ccache entry claims
    // otherwise (an initiator would not send a ticket it knows to be expired).
    let token = minted_token(t, t - 7200, t - 3600);
    let f = SecurityContext::accept(&ac, &token, None).unwrap_err();
    assert_eq!(f.error.minor, minor::AP_ERR_TKT_EXPIRED);
    assert_eq!(f.error.major, major::CREDENTIALS_EXPIRED);
    // Not yet valid.
    let token = minted_token(t, t + 3600, t + 7200);
    let f = SecurityContext::accept(&ac, &token, None).unwrap_err();
    assert_eq!(f.error.minor, minor::AP_ERR_TKT_NYV);
    // Truncated and garbage tokens.
    let good = initial_token(t, None);
    for n in 0..good.len() {
        let f = SecurityContext::accept(&ac, &good[..n], None).unwrap_err();
        assert!(major::is_error(f.error.major));
    }
    // Tampered authenticator MAC (last byte of the token).
    let mut bad = initial_token(t, None);
    *bad.last_mut().unwrap() ^= 1;
    check(&bad, &ac, minor::AP_ERR_BAD_INTEGRITY);
    // Channel bindings: the acceptor's differ from the initiator's.
    let cb = |d: &[u8]| ChannelBindings {
        application_data: d.to_vec(),
        ..Default::default()
    };
    let tok = initial_token(t, Some(cb(b"tls-server-end-point:A")));
    let f = SecurityContext::accept(&ac, &tok, Some(&cb(b"tls-server-end-point:B"))).unwrap_err();
    assert_eq!(f.error.major, major::BAD_BINDINGS);
    let tok = initial_token(t, Some(cb(b"same")));
    SecurityContext::accept(&ac, &tok, Some(&cb(b"same"))).unwrap();
}

/// An initial token at time `now` for a ticket minted with the fixture's service key
/// (test/localhost kvno 1 aes256) valid from `start` to `end`.
fn minted_token(now: i64, start: i64, end: i64) -> Vec<u8> {
    let kt = krbap::keytab::Keytab::load(&data("service.keytab")).unwrap();
    let e = kt
        .entries
        .iter()
        .find(|e| e.principal.to_string() == "test/localhost@TEST.LOCAL" && e.enctype == 18)
        .unwrap();
    let sk = ServiceKey {
        principal: e.principal.clone(),
        kvno: e.kvno,
        key: Key::new(Enctype::Aes256CtsHmacSha196, &e.key).unwrap(),
    };
    let client = Principal::parse("alice@TEST.LOCAL", None).unwrap();
    let (ticket, session_key) = mint_ticket(&MintRequest {
        service_key: &sk,
        client: &client,
        session_enctype: Enctype::Aes256CtsHmacSha196,
        authtime: start,
        endtime: end,
        flags: 0,
        authorization_data: None,
    });
    let cred = Credential {
        client: client.clone(),
        server: sk.principal.clone(),
        key: krbap::ap::key_to_asn1(&session_key),
        authtime: start as u32,
        starttime: start as u32,
        endtime: now as u32 + 3600,
        renew_till: 0,
        is_skey: false,
        ticket_flags: 0,
        addresses: vec![],
        authdata: vec![],
        ticket: ticket.to_der(),
        second_ticket: vec![],
    };
    let ic = InitiatorCredential::from_credentials(client, vec![cred]);
    ic.clock.set_fixed(Some(now));
    let opts = InitOptions {
        req_flags: ctx_flags::MUTUAL,
        channel_bindings: None,
    };
    SecurityContext::initiate(&ic, &target("test@localhost"), &opts)
        .unwrap()
        .1
}

fn service(kvno: u32, enctype: Enctype) -> ServiceKey {
    ServiceKey {
        principal: Principal::parse("test/localhost@TEST.LOCAL", None).unwrap(),
        kvno,
        key: Key::random(enctype),
    }
}

#[test]
fn key_selection_errors() {
    let t = common::capture_time("mutual") + 60;
    let tok = || initial_token(t, None);
    let mk = |keys: Vec<ServiceKey>| {
        let c = AcceptorCredential::from_keys(None, keys);
        c.clock.set_fixed(Some(t));
        c
    };
    let f = SecurityContext::accept(
        &mk(vec![service(1, Enctype::Aes256CtsHmacSha196)]),
        &tok(),
        None,
    )
    .unwrap_err();
    assert_eq!(f.error.minor, minor::AP_ERR_BAD_INTEGRITY);
    let f = SecurityContext::accept(
        &mk(vec![service(7, Enctype::Aes256CtsHmacSha196)]),
        &tok(),
        None,
    )
    .unwrap_err();
    assert_eq!(f.error.minor, minor::AP_ERR_BADKEYVER);
    let f = SecurityContext::accept(
        &mk(vec![service(1, Enctype::Aes128CtsHmacSha196)]),
        &tok(),
        None,
    )
    .unwrap_err();
    assert_eq!(f.error.minor, minor::AP_ERR_NOKEY);
    let mut other = service(1, Enctype::Aes256CtsHmacSha196);
    other.principal = Principal::parse("other/localhost@TEST.LOCAL", None).unwrap();
    let f = SecurityContext::accept(&mk(vec![other]), &tok(), None).unwrap_err();
    assert_eq!(f.error.minor, minor::AP_ERR_NOT_US);
    let named = AcceptorCredential::from_keys(Some(target("other@localhost")), vec![]);
    named.clock.set_fixed(Some(t));
    let f = SecurityContext::accept(&named, &tok(), None).unwrap_err();
    assert_eq!(f.error.minor, minor::AP_ERR_NOT_US);
}

#[test]
fn replay_cache_none_accepts_replays() {
    let t = common::capture_time("mutual") + 60;
    let ac = acceptor(t);
    ac.set_replay_cache(ReplayCache::none());
    let tok = initial_token(t, None);
    SecurityContext::accept(&ac, &tok, None).unwrap();
    SecurityContext::accept(&ac, &tok, None).unwrap();
}

#[test]
fn minted_tickets_for_every_enctype() {
    let now = 1_800_000_000;
    for e in Enctype::ALL {
        let sk = service(3, e);
        let client = Principal::parse("jürgen@TEST.LOCAL", None).unwrap();
        let (ticket, session_key) = mint_ticket(&MintRequest {
            service_key: &sk,
            client: &client,
            session_enctype: e,
            authtime: now,
            endtime: now + 3600,
            flags: flags::TKT_FORWARDABLE | flags::TKT_INITIAL,
            authorization_data: None,
        });
        let cred = Credential {
            client: client.clone(),
            server: sk.principal.clone(),
            key: krbap::ap::key_to_asn1(&session_key),
            authtime: now as u32,
            starttime: now as u32,
            endtime: now as u32 + 3600,
            renew_till: 0,
            is_skey: false,
            ticket_flags: flags::TKT_FORWARDABLE | flags::TKT_INITIAL,
            addresses: vec![],
            authdata: vec![],
            ticket: ticket.to_der(),
            second_ticket: vec![],
        };
        let ic = InitiatorCredential::from_credentials(client.clone(), vec![cred]);
        ic.clock.set_fixed(Some(now));
        let ac = AcceptorCredential::from_keys(None, vec![sk]);
        ac.clock.set_fixed(Some(now));
        let opts = InitOptions {
            req_flags: ctx_flags::MUTUAL,
            channel_bindings: None,
        };
        let (mut ictx, tok) =
            SecurityContext::initiate(&ic, &target("test@localhost"), &opts).unwrap();
        let (actx, rep) = SecurityContext::accept(&ac, &tok, None).unwrap();
        ictx.continue_init(&rep.unwrap()).unwrap();
        assert_eq!(actx.client().to_string(), "jürgen@TEST.LOCAL");
        assert_eq!(actx.session_enctype(), e);
    }
}

#[test]
fn keytab_rotation_is_picked_up_without_restart() {
    let t = common::capture_time("mutual") + 60;
    let dir = tempdir();
    let path = dir.join("rotating.keytab");
    std::fs::copy(data("service.keytab"), &path).unwrap();
    let ac = AcceptorCredential::from_keytab(Some(path.to_str().unwrap()), None).unwrap();
    ac.clock.set_fixed(Some(t));
    SecurityContext::accept(&ac, &initial_token(t, None), None).unwrap();
    // Rotate: the same keys re-numbered kvno 2, so kvno-1 tickets no longer match once the
    // acceptor has looked at the file again (at most KEYTAB_RECHECK_MS later).
    let mut kt = krbap::keytab::Keytab::load(&path).unwrap();
    for e in &mut kt.entries {
        e.kvno = 2;
    }
    kt.save(&path).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(
        krbap::cred::KEYTAB_RECHECK_MS + 100,
    ));
    let f = SecurityContext::accept(&ac, &initial_token(t, None), None).unwrap_err();
    assert_eq!(f.error.minor, minor::AP_ERR_BADKEYVER);
    // Rotate back: a ticket for a key the snapshot lacks makes the acceptor look at once,
    // so the re-added kvno 1 is accepted without waiting, by the same credential.
    std::fs::copy(data("service.keytab"), &path).unwrap();
    SecurityContext::accept(&ac, &initial_token(t, None), None).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn established_contexts_expire_with_the_ticket() {
    let t = common::capture_time("mutual") + 60;
    let ic = initiator(t);
    let ac = acceptor(t);
    let opts = InitOptions {
        req_flags: ctx_flags::MUTUAL,
        channel_bindings: None,
    };
    let (mut ictx, tok) = SecurityContext::initiate(&ic, &target("test@localhost"), &opts).unwrap();
    let (mut actx, rep) = SecurityContext::accept(&ac, &tok, None).unwrap();
    ictx.continue_init(&rep.unwrap()).unwrap();
    let w = ictx.wrap(true, b"before the end").unwrap();
    assert_eq!(actx.unwrap(&w).unwrap().message, b"before the end");
    let after = ictx.expires() + 1;
    ictx.set_fixed_time(Some(after));
    let e = ictx.wrap(true, b"too late").unwrap_err();
    assert_eq!(e.major, major::CONTEXT_EXPIRED);
    assert_eq!(ictx.lifetime(after), 0);
    // The acceptor allows the clock skew beyond the ticket's end, as MIT does.
    actx.set_fixed_time(Some(actx.expires() + 1));
    assert_eq!(
        actx.get_mic(b"x").unwrap_err().major,
        major::CONTEXT_EXPIRED
    );
}

/// A ticket for `client` to `sk`'s service, aes256-sha1, valid for an hour from `now`.
fn ticket_for(sk: &ServiceKey, client: &Principal, now: i64) -> (krbap::asn1::Ticket, Key) {
    mint_ticket(&MintRequest {
        service_key: sk,
        client,
        session_enctype: Enctype::Aes256CtsHmacSha196,
        authtime: now,
        endtime: now + 3600,
        flags: 0,
        authorization_data: None,
    })
}

/// RFC 4120 §3.2.3: the authenticator's client must be the ticket's (realm and name
/// components; the name type is not compared, as MIT does not), else BADMATCH, whichever
/// way they differ; the verified request carries the client once, from the ticket.
#[test]
fn authenticator_client_must_be_the_tickets() {
    use krbap::ap::{build_ap_req, verify_ap_req, AcceptPolicy};
    use krbap::asn1::{ApReq, Authenticator, Der};
    use krbap::pac::PacCheck;
    use krbap::principal::PrincipalName;
    use krbap::rcache::ReplayCache;
    let now = 1_700_000_000;
    let sk = service(3, Enctype::Aes256CtsHmacSha196);
    let client = Principal::parse("alice/admin@TEST.LOCAL", None).unwrap();
    let (ticket, session_key) = ticket_for(&sk, &client, now);
    let rc = ReplayCache::none();
    let policy = AcceptPolicy {
        now,
        skew: 300,
        replay_cache: &rc,
        pac: PacCheck::default(),
    };
    let name = |t: i32, c: &[&str]| PrincipalName {
        name_type: t,
        components: c.iter().map(|s| s.as_bytes().to_vec()).collect(),
    };
    let cases: [(&[u8], PrincipalName, bool); 6] = [
        (b"TEST.LOCAL", name(1, &["alice", "admin"]), true),
        (b"TEST.LOCAL", name(2, &["alice", "admin"]), true), // name type ignored
        (b"OTHER.LOCAL", name(1, &["alice", "admin"]), false),
        (b"TEST.LOCAL", name(1, &["alice"]), false),
        (b"TEST.LOCAL", name(1, &["alice", "admin", "x"]), false),
        (b"TEST.LOCAL", name(1, &["alice", "admiN"]), false),
    ];
    for (realm, cname, same) in cases {
        let auth = Authenticator {
            crealm: realm.to_vec(),
            cname: cname.clone(),
            ctime: now,
            ..Default::default()
        };
        let der = build_ap_req(&ticket, &session_key, &auth, 0);
        let req = ApReq::from_der(&der).unwrap();
        let got = verify_ap_req(&req, std::slice::from_ref(&sk), &policy);
        if same {
            let v = got.unwrap();
            assert_eq!(v.client, client);
            assert!(
                v.authenticator.crealm.is_empty() && v.authenticator.cname.components.is_empty()
            );
        } else {
            let e = got.unwrap_err();
            assert_eq!(
                e.minor,
                minor::AP_ERR_BADMATCH,
                "{cname:?}@{realm:?}: {e:?}"
            );
        }
    }
}

/// The acceptor makes the session key and the initiator's subkey straight from the
/// plaintexts: the verified AP-REQ holds them as keys (the ASN.1 copies left empty), and a
/// subkey of an unsupported enctype is refused only after the ticket and skew checks, as
/// MIT orders them.
#[test]
fn subkeys_are_made_from_the_plaintext_and_checked_last() {
    use krbap::ap::{build_ap_req, verify_ap_req, AcceptPolicy};
    use krbap::asn1::{ApReq, Authenticator, EncryptionKey};
    use krbap::pac::PacCheck;
    let now = 1_700_000_000;
    let sk = service(3, Enctype::Aes256CtsHmacSha196);
    let client = Principal::parse("alice@TEST.LOCAL", None).unwrap();
    let (ticket, session_key) = ticket_for(&sk, &client, now);
    let rc = ReplayCache::none();
    let policy = |at: i64| AcceptPolicy {
        now: at,
        skew: 300,
        replay_cache: &rc,
        pac: PacCheck::default(),
    };
    let request = |subkey: Option<EncryptionKey>| {
        let auth = Authenticator {
            crealm: client.realm.clone(),
            cname: client.name.clone(),
            ctime: now,
            subkey,
            ..Default::default()
        };
        ApReq::from_der(&build_ap_req(&ticket, &session_key, &auth, 0)).unwrap()
    };
    let keys = std::slice::from_ref(&sk);

    let initiator = Key::random(Enctype::Aes128CtsHmacSha196);
    let v = verify_ap_req(
        &request(Some(krbap::ap::key_to_asn1(&initiator))),
        keys,
        &policy(now),
    )
    .unwrap();
    let subkey = v.subkey.expect("the subkey");
    assert_eq!(subkey.enctype(), initiator.enctype());
    assert_eq!(subkey.bytes(), initiator.bytes());
    assert_eq!(v.session_key.bytes(), session_key.bytes());
    assert!(v.authenticator.subkey.is_none());
    assert!(v.ticket.key.keyvalue.is_empty());
    assert_eq!(v.ticket.key.keytype, session_key.enctype().number());

    let rc4 = EncryptionKey {
        keytype: 23,
        keyvalue: vec![1; 16].into(),
    };
    let e = verify_ap_req(&request(Some(rc4.clone())), keys, &policy(now)).unwrap_err();
    assert_eq!(e.minor, minor::BAD_ENCTYPE, "{e:?}");
    // The skew is checked before the subkey is looked at.
    let e = verify_ap_req(&request(Some(rc4)), keys, &policy(now + 1000)).unwrap_err();
    assert_eq!(e.minor, minor::AP_ERR_SKEW, "{e:?}");
    let v = verify_ap_req(&request(None), keys, &policy(now)).unwrap();
    assert!(v.subkey.is_none());
}
