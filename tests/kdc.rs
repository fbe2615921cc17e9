//! The KDC client against a live MIT KDC (tests/interop/realm.sh, started once for this
//! test binary with --cross; a watchdog process stops it when the binary exits, even on
//! failure), plus fake KDCs on loopback sockets sending hostile replies.
//!
//! The realm failing to start is a test failure, never a skip.

use krbap::asn1::kdc::{EncKdcRepPart, KdcRep, KdcReq};
use krbap::asn1::{flags, ApReq, Authenticator, Der, KrbError};
use krbap::ccache::{Ccache, Credential};
use krbap::config::Profile;
use krbap::cred::{AcceptorCredential, InitiatorCredential};
use krbap::crypto::{usage, Enctype, Key};
use krbap::error::{major, minor};
use krbap::gss::context::{InitOptions, SecurityContext};
use krbap::gss::name::{Name, NameType};
use krbap::kdc::{AsOptions, InitialKeys, KdcClient, TgsOptions};
use krbap::keytab::Keytab;
use krbap::principal::{name_type, Principal, PrincipalName};

use std::io::{Read, Write};
use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

struct Realm {
    dir: PathBuf,
}

fn realm_sh() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/realm.sh")
}

static REALM: LazyLock<Realm> = LazyLock::new(|| {
    let dir = std::env::temp_dir().join(format!("krbap-kdc-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // The watchdog stops the KDC and removes DIR once this process is gone, whatever way
    // the tests end (statics are never dropped).
    // Backgrounded inside the shell, so the spawned shell exits at once and is waited for.
    let watchdog = format!(
        "(while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; '{sh}' stop '{dir}' >/dev/null 2>&1; rm -rf -- '{dir}') &",
        pid = std::process::id(),
        sh = realm_sh().display(),
        dir = dir.display()
    );
    Command::new("setsid")
        .args(["sh", "-c", &watchdog])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("starting the realm watchdog");
    let out = Command::new(realm_sh())
        .arg("start")
        .arg(&dir)
        .arg("--cross")
        .output()
        .expect("running tests/interop/realm.sh");
    assert!(
        out.status.success(),
        "realm.sh start failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Realm { dir }
});

impl Realm {
    fn path(&self, f: &str) -> PathBuf {
        self.dir.join(f)
    }
    fn profile_with(&self, file: &str, extra: &str) -> Arc<Profile> {
        let text = std::fs::read_to_string(self.path(file)).unwrap() + extra;
        Arc::new(Profile::parse(&text, file).unwrap())
    }
    fn client(&self) -> KdcClient {
        KdcClient::new(self.profile_with("krb5.conf", ""))
    }
    /// alice's TGT from the ccache realm.sh filled with MIT's kinit.
    fn tgt(&self) -> Credential {
        let cc = Ccache::load(&self.path("ccache")).unwrap();
        cc.credentials
            .into_iter()
            .find(|c| c.server.to_string() == "krbtgt/TEST.LOCAL@TEST.LOCAL")
            .expect("alice's TGT in the realm's ccache")
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn principal(s: &str) -> Principal {
    Principal::parse(s, None).unwrap()
}

fn host_service(service: &str, host: &str, realm: &str) -> Principal {
    Principal::new(
        realm.as_bytes(),
        PrincipalName::new(name_type::SRV_HST, &[service.as_bytes(), host.as_bytes()]),
    )
}

/// Builds an AP-REQ with the fetched ticket (krbap initiator) and accepts it with a krbap
/// acceptor from `keytab`: the ticket is really for that service.
fn accept_with(cred: &Credential, keytab: &Path) {
    let ic = InitiatorCredential::from_credentials(cred.client.clone(), vec![cred.clone()]);
    let name = Name::import(
        cred.server.to_string().as_bytes(),
        NameType::KerberosPrincipal,
        None,
    )
    .unwrap();
    let opts = InitOptions {
        req_flags: krbap::gss::checksum::ctx_flags::MUTUAL,
        channel_bindings: None,
    };
    let (mut ictx, token) = SecurityContext::initiate(&ic, &name, &opts).unwrap();
    let ac = AcceptorCredential::from_keytab(Some(keytab.to_str().unwrap()), None).unwrap();
    let (actx, reply) = SecurityContext::accept(&ac, &token, None).unwrap();
    assert_eq!(actx.client(), &cred.client);
    ictx.continue_init(&reply.unwrap()).unwrap();
    assert!(ictx.is_established());
}

#[test]
fn tgs_for_each_aes_enctype_and_tickets_accepted() {
    let realm = &*REALM;
    let kdc = realm.client();
    let tgt = realm.tgt();
    for (svc, enctype) in [
        ("test-aes256-sha1", Enctype::Aes256CtsHmacSha196),
        ("test-aes128-sha1", Enctype::Aes128CtsHmacSha196),
        ("test-aes256-sha384", Enctype::Aes256CtsHmacSha384192),
        ("test-aes128-sha256", Enctype::Aes128CtsHmacSha256128),
    ] {
        let server = host_service(svc, "localhost", "TEST.LOCAL");
        let r = kdc
            .get_service_ticket(&tgt, &server, &TgsOptions::default(), now())
            .unwrap_or_else(|e| panic!("{svc}: {e}"));
        let t = &r.ticket;
        assert_eq!(t.key.keytype, enctype.number(), "{svc} session enctype");
        assert_eq!(t.server.to_string(), format!("{svc}/localhost@TEST.LOCAL"));
        assert_eq!(t.client.to_string(), "alice@TEST.LOCAL");
        assert!(r.intermediate.is_empty());
        assert!(t.endtime > t.starttime && t.endtime as i64 > now());
        accept_with(t, &realm.path("keytab"));
    }
    assert!(kdc.stats().udp_requests >= 4);
    assert_eq!(kdc.stats().tcp_requests, 0);
}

#[test]
fn tgs_over_tcp_when_udp_preference_limit_is_1() {
    let realm = &*REALM;
    let kdc = KdcClient::new(
        realm.profile_with("krb5.conf", "\n[libdefaults]\n udp_preference_limit = 1\n"),
    );
    let r = kdc
        .get_service_ticket(
            &realm.tgt(),
            &host_service("test", "localhost", "TEST.LOCAL"),
            &TgsOptions::default(),
            now(),
        )
        .unwrap();
    accept_with(&r.ticket, &realm.path("keytab"));
    assert_eq!(kdc.stats().tcp_requests, 1);
    assert_eq!(kdc.stats().udp_requests, 0);
}

#[test]
fn dead_first_kdc_then_live_one() {
    let realm = &*REALM;
    let kdc = KdcClient::new(realm.profile_with("krb5-deadfirst.conf", ""))
        .with_timeout(Duration::from_millis(700));
    let started = Instant::now();
    let r = kdc
        .get_service_ticket(
            &realm.tgt(),
            &host_service("test", "localhost", "TEST.LOCAL"),
            &TgsOptions::default(),
            now(),
        )
        .unwrap();
    assert_eq!(r.ticket.server.to_string(), "test/localhost@TEST.LOCAL");
    // One datagram to the closed port (refused or timed out), one to the live KDC.
    assert_eq!(kdc.stats().udp_requests, 2);
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[test]
fn unknown_service_is_s_principal_unknown() {
    let realm = &*REALM;
    let e = realm
        .client()
        .get_service_ticket(
            &realm.tgt(),
            &host_service("nosuch", "localhost", "TEST.LOCAL"),
            &TgsOptions::default(),
            now(),
        )
        .unwrap_err();
    assert_eq!(e.minor, minor::KDC_ERR_S_PRINCIPAL_UNKNOWN, "{e}");
    assert_eq!(e.major, major::FAILURE);
    assert_eq!(e.minor_message(), "Server not found in Kerberos database");
}

#[test]
fn as_with_keytab_and_password_preauth() {
    let realm = &*REALM;
    let kdc = realm.client();
    let alice = principal("alice@TEST.LOCAL");
    let kt = Keytab::load(&realm.path("alice.keytab")).unwrap();
    let opts = AsOptions {
        forwardable: true,
        ..Default::default()
    };
    let tgt = kdc
        .get_initial_credentials(&alice, &InitialKeys::Keytab(&kt), &opts, now())
        .unwrap();
    assert_eq!(tgt.server.to_string(), "krbtgt/TEST.LOCAL@TEST.LOCAL");
    assert_eq!(tgt.client, alice);
    // alice requires pre-authentication: the KDC marks the ticket PRE_AUTHENT.
    assert_ne!(tgt.ticket_flags & flags::TKT_PRE_AUTHENT, 0);
    assert_ne!(tgt.ticket_flags & flags::TKT_INITIAL, 0);
    assert_ne!(tgt.ticket_flags & flags::TKT_FORWARDABLE, 0);
    // The new TGT works for a TGS exchange.
    let r = kdc
        .get_service_ticket(
            &tgt,
            &host_service("test-aes128-sha256", "localhost", "TEST.LOCAL"),
            &TgsOptions::default(),
            now(),
        )
        .unwrap();
    accept_with(&r.ticket, &realm.path("keytab"));

    let pw = Zeroizing::new("alice-Passw0rd".to_string());
    let opts = AsOptions {
        lifetime: Some(3600),
        enctypes: Some(vec![Enctype::Aes128CtsHmacSha256128]),
        ..Default::default()
    };
    let tgt = kdc
        .get_initial_credentials(&alice, &InitialKeys::Password(&pw), &opts, now())
        .unwrap();
    assert_eq!(tgt.key.keytype, Enctype::Aes128CtsHmacSha256128.number());
    assert!(tgt.endtime as i64 <= now() + 3600);
    assert_eq!(tgt.ticket_flags & flags::TKT_FORWARDABLE, 0);
    // A service ticket straight from the AS exchange.
    let opts = AsOptions {
        service: Some(principal("test/localhost@TEST.LOCAL")),
        ..Default::default()
    };
    let direct = kdc
        .get_initial_credentials(&alice, &InitialKeys::Password(&pw), &opts, now())
        .unwrap();
    accept_with(&direct, &realm.path("keytab"));
}

#[test]
fn as_wrong_password_and_unknown_client() {
    let realm = &*REALM;
    let kdc = realm.client();
    let pw = Zeroizing::new("not-alice".to_string());
    let e = kdc
        .get_initial_credentials(
            &principal("alice@TEST.LOCAL"),
            &InitialKeys::Password(&pw),
            &AsOptions::default(),
            now(),
        )
        .unwrap_err();
    assert_eq!(e.minor, minor::KDC_ERR_PREAUTH_FAILED, "{e}");
    assert_eq!(e.major, major::FAILURE);
    let e = kdc
        .get_initial_credentials(
            &principal("nobody@TEST.LOCAL"),
            &InitialKeys::Password(&pw),
            &AsOptions::default(),
            now(),
        )
        .unwrap_err();
    assert_eq!(e.minor, minor::KDC_ERR_C_PRINCIPAL_UNKNOWN, "{e}");
}

#[test]
fn forwarded_tgt_has_forwarded_flag() {
    let realm = &*REALM;
    let tgt = realm.tgt();
    assert_ne!(tgt.ticket_flags & flags::TKT_FORWARDABLE, 0);
    let opts = TgsOptions {
        forwarded: true,
        forwardable: true,
        ..Default::default()
    };
    let r = realm
        .client()
        .get_service_ticket(
            &tgt,
            &principal("krbtgt/TEST.LOCAL@TEST.LOCAL"),
            &opts,
            now(),
        )
        .unwrap();
    assert_eq!(r.ticket.server.to_string(), "krbtgt/TEST.LOCAL@TEST.LOCAL");
    assert_ne!(r.ticket.ticket_flags & flags::TKT_FORWARDED, 0);
    assert_ne!(r.ticket.ticket_flags & flags::TKT_FORWARDABLE, 0);
    assert!(r.intermediate.is_empty());
    // The forwarded TGT is a working TGT.
    let s = realm
        .client()
        .get_service_ticket(
            &r.ticket,
            &host_service("test", "localhost", "TEST.LOCAL"),
            &TgsOptions::default(),
            now(),
        )
        .unwrap();
    assert_ne!(s.ticket.ticket_flags & flags::TKT_FORWARDED, 0);
}

#[test]
fn cross_realm_and_referral() {
    let realm = &*REALM;
    let kdc = realm.client();
    let tgt = realm.tgt();
    // Known realm: krbtgt/OTHER.LOCAL@TEST.LOCAL first, then the service in OTHER.LOCAL.
    let r = kdc
        .get_service_ticket(
            &tgt,
            &host_service("test", "localhost", "OTHER.LOCAL"),
            &TgsOptions::default(),
            now(),
        )
        .unwrap();
    assert_eq!(r.ticket.server.to_string(), "test/localhost@OTHER.LOCAL");
    assert_eq!(r.ticket.client.to_string(), "alice@TEST.LOCAL");
    let hops: Vec<String> = r
        .intermediate
        .iter()
        .map(|c| c.server.to_string())
        .collect();
    assert_eq!(hops, vec!["krbtgt/OTHER.LOCAL@TEST.LOCAL"]);
    accept_with(&r.ticket, &realm.path("other.keytab"));
    // Referral (RFC 6806): asked in TEST.LOCAL, the KDC refers to OTHER.LOCAL.
    for asked_realm in ["TEST.LOCAL", ""] {
        let opts = TgsOptions {
            canonicalize: true,
            ..Default::default()
        };
        let r = kdc
            .get_service_ticket(
                &tgt,
                &host_service("test", "host.other.test", asked_realm),
                &opts,
                now(),
            )
            .unwrap_or_else(|e| panic!("realm {asked_realm:?}: {e}"));
        assert_eq!(
            r.ticket.server.to_string(),
            "test/host.other.test@OTHER.LOCAL"
        );
        assert_eq!(r.intermediate.len(), 1);
        accept_with(&r.ticket, &realm.path("other.keytab"));
    }
}

#[test]
fn fetched_tickets_stored_and_listed_by_mit_klist() {
    let realm = &*REALM;
    let kdc = realm.client();
    let tgt = realm.tgt();
    let mut cc = Ccache::new(tgt.client.clone());
    cc.store(tgt.clone());
    let r = kdc
        .get_service_ticket(
            &tgt,
            &host_service("test", "localhost", "OTHER.LOCAL"),
            &TgsOptions::default(),
            now(),
        )
        .unwrap();
    for c in r.intermediate {
        cc.store(c);
    }
    cc.store(r.ticket);
    let fwd = kdc
        .get_service_ticket(
            &tgt,
            &principal("krbtgt/TEST.LOCAL@TEST.LOCAL"),
            &TgsOptions {
                forwarded: true,
                forwardable: true,
                ..Default::default()
            },
            now(),
        )
        .unwrap();
    let file = realm.path(&format!("klist-{}.ccache", krbap::crypto::random_u32()));
    let mut fwd_cc = Ccache::new(tgt.client.clone());
    fwd_cc.store(fwd.ticket);
    fwd_cc.save(&file.with_extension("fwd")).unwrap();
    cc.save(&file).unwrap();
    let klist = |f: &Path| {
        let out = Command::new("klist")
            .arg("-f")
            .arg("-c")
            .arg(format!("FILE:{}", f.display()))
            .env("KRB5_CONFIG", realm.path("krb5.conf"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let text = klist(&file);
    for s in [
        "Default principal: alice@TEST.LOCAL",
        "krbtgt/TEST.LOCAL@TEST.LOCAL",
        "krbtgt/OTHER.LOCAL@TEST.LOCAL",
        "test/localhost@OTHER.LOCAL",
    ] {
        assert!(text.contains(s), "klist lacks {s}:\n{text}");
    }
    let text = klist(&file.with_extension("fwd"));
    let flags_line = text
        .lines()
        .find(|l| l.trim_start().starts_with("Flags:"))
        .unwrap_or_else(|| panic!("no flags in klist -f:\n{text}"));
    assert!(
        flags_line.contains('F') && flags_line.contains('f'),
        "{text}"
    );
}

// ------------------------------------------------------------------ hostile fake KDCs

/// A profile whose realm FAKE.LOCAL has one KDC at `addr` (`tcp/` forces TCP).
fn fake_client(kdc: &str, per_try_ms: u64) -> KdcClient {
    let text = format!("[realms]\n FAKE.LOCAL = {{\n  kdc = {kdc}\n }}\n");
    KdcClient::new(Arc::new(Profile::parse(&text, "fake").unwrap()))
        .with_timeout(Duration::from_millis(per_try_ms))
}

/// A TGT-shaped credential for realm FAKE.LOCAL (the fake KDCs never decrypt it).
fn fake_tgt() -> (Credential, Key) {
    let key = Key::random(Enctype::Aes256CtsHmacSha196);
    let ticket = krbap::asn1::Ticket {
        realm: b"FAKE.LOCAL".to_vec(),
        sname: PrincipalName::new(name_type::SRV_INST, &[b"krbtgt", b"FAKE.LOCAL"]),
        enc_part: krbap::asn1::EncryptedData {
            etype: 18,
            kvno: Some(1),
            cipher: vec![0; 64],
        },
    };
    let cred = Credential {
        client: principal("alice@FAKE.LOCAL"),
        server: principal("krbtgt/FAKE.LOCAL@FAKE.LOCAL"),
        key: krbap::ap::key_to_asn1(&key),
        authtime: now() as u32,
        starttime: now() as u32,
        endtime: now() as u32 + 3600,
        renew_till: 0,
        is_skey: false,
        ticket_flags: 0,
        addresses: vec![],
        authdata: vec![],
        ticket: ticket.to_der(),
        second_ticket: vec![],
    };
    (cred, key)
}

/// Runs a UDP fake KDC answering each request with `answer(request)` until the test ends.
fn udp_fake(answer: impl Fn(&[u8]) -> Vec<Vec<u8>> + Send + 'static) -> String {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = sock.local_addr().unwrap().to_string();
    sock.set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 65536];
        while let Ok((n, from)) = sock.recv_from(&mut buf) {
            for reply in answer(&buf[..n]) {
                let _ = sock.send_to(&reply, from);
            }
        }
    });
    addr
}

fn tcp_fake(answer: impl Fn(&mut std::net::TcpStream) + Send + 'static) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for s in l.incoming().take(4) {
            let Ok(mut s) = s else { break };
            let mut len = [0u8; 4];
            if s.read_exact(&mut len).is_ok() {
                let mut req = vec![0u8; u32::from_be_bytes(len) as usize];
                let _ = s.read_exact(&mut req);
                answer(&mut s);
            }
        }
    });
    addr
}

fn tgs_to(kdc: &KdcClient, tgt: &Credential) -> krbap::Error {
    let started = Instant::now();
    let e = kdc
        .get_service_ticket(
            tgt,
            &principal("host/x@FAKE.LOCAL"),
            &TgsOptions::default(),
            now(),
        )
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    e
}

#[test]
fn hostile_garbage_udp_reply_is_ignored_until_timeout() {
    let addr = udp_fake(|_| {
        vec![
            b"garbage".to_vec(),
            vec![0x6d, 0x84, 0xff, 0xff, 0xff, 0xff],
        ]
    });
    let (tgt, _) = fake_tgt();
    let e = tgs_to(&fake_client(&addr, 300), &tgt);
    assert_eq!(e.minor, minor::KDC_UNREACH, "{e}");
    assert_eq!(
        e.minor_message(),
        "Cannot contact any KDC for requested realm"
    );
}

#[test]
fn hostile_tcp_length_lies() {
    let (tgt, _) = fake_tgt();
    // A length far above the cap: refused before allocating.
    let addr = tcp_fake(|s| {
        let _ = s.write_all(&[0x7f, 0xff, 0xff, 0xff, 0x30]);
    });
    let e = tgs_to(&fake_client(&format!("tcp/{addr}"), 500), &tgt);
    assert_eq!(e.minor, minor::KDC_UNREACH, "{e}");
    assert!(e.detail.contains("reply length"), "{e}");
    // A plausible length, then too few bytes and silence: bounded by the timeout.
    let addr = tcp_fake(|s| {
        let _ = s.write_all(&[0, 0, 4, 0, 0x6d, 0x82]);
        std::thread::sleep(Duration::from_secs(3));
    });
    let e = tgs_to(&fake_client(&format!("tcp/{addr}"), 500), &tgt);
    assert_eq!(e.minor, minor::KDC_UNREACH, "{e}");
    // The reserved high bit.
    let addr = tcp_fake(|s| {
        let _ = s.write_all(&[0x80, 0, 0, 4, 1, 2, 3, 4]);
    });
    let e = tgs_to(&fake_client(&format!("tcp/{addr}"), 500), &tgt);
    assert_eq!(e.minor, minor::KDC_UNREACH, "{e}");
}

#[test]
fn hostile_krb_error_is_mapped_with_e_text() {
    let addr = udp_fake(|_| {
        vec![KrbError {
            stime: now(),
            error_code: 12,
            realm: b"FAKE.LOCAL".to_vec(),
            sname: PrincipalName::new(2, &[b"krbtgt", b"FAKE.LOCAL"]),
            e_text: Some(b"go away".to_vec()),
            ..Default::default()
        }
        .to_der()]
    });
    let (tgt, _) = fake_tgt();
    let e = tgs_to(&fake_client(&addr, 500), &tgt);
    assert_eq!(e.minor, minor::KDC_ERR_POLICY);
    assert_eq!(e.major, major::FAILURE);
    assert!(e.detail.contains("go away"), "{e}");
}

/// A fake KDC that issues a well-formed TGS-REP under the request's subkey (it knows
/// the fake TGT's session key), after `tamper` edits the encrypted part.
fn forging_kdc(session: Key, tamper: fn(&mut EncKdcRepPart)) -> String {
    udp_fake(move |req| {
        let req = KdcReq::from_der(req).unwrap();
        let pa = &req.padata.as_ref().unwrap()[0];
        let ap = ApReq::from_der(&pa.padata_value).unwrap();
        let auth = session
            .decrypt(usage::TGS_REQ_AUTH, &ap.authenticator.cipher)
            .unwrap();
        let auth = Authenticator::from_der(&auth).unwrap();
        // The checksum covers the req-body bytes as sent.
        let body = req.req_body.to_der();
        session
            .verify_checksum(
                usage::TGS_REQ_AUTH_CKSUM,
                &body,
                &auth.cksum.unwrap().checksum,
            )
            .unwrap();
        let subkey = krbap::ap::key_from_asn1(&auth.subkey.unwrap()).unwrap();
        let sname = req.req_body.sname.clone().unwrap();
        let t = now();
        let mut enc = EncKdcRepPart {
            tag: 26,
            key: krbap::ap::key_to_asn1(&Key::random(Enctype::Aes256CtsHmacSha196)),
            nonce: req.req_body.nonce,
            authtime: t,
            endtime: t + 600,
            srealm: b"FAKE.LOCAL".to_vec(),
            sname: sname.clone(),
            ..Default::default()
        };
        tamper(&mut enc);
        let rep = KdcRep {
            msg_type: 13,
            padata: None,
            crealm: b"FAKE.LOCAL".to_vec(),
            cname: PrincipalName::new(1, &[b"alice"]),
            ticket: krbap::asn1::Ticket {
                realm: b"FAKE.LOCAL".to_vec(),
                sname,
                enc_part: krbap::asn1::EncryptedData {
                    etype: 18,
                    kvno: Some(1),
                    cipher: vec![1; 80],
                },
            },
            enc_part: krbap::asn1::EncryptedData {
                etype: subkey.enctype().number(),
                kvno: None,
                cipher: subkey.encrypt(usage::TGS_REP_ENCPART_SUBKEY, &enc.to_der()),
            },
        };
        vec![rep.to_der()]
    })
}

type Tamper = fn(&mut EncKdcRepPart);

#[test]
fn forged_replies_checked() {
    let (tgt, session) = fake_tgt();
    // Untampered: accepted (the fake KDC is sound, so the failures below are the checks).
    let addr = forging_kdc(session.clone(), |_| {});
    let r = fake_client(&addr, 500)
        .get_service_ticket(
            &tgt,
            &principal("host/x@FAKE.LOCAL"),
            &TgsOptions::default(),
            now(),
        )
        .unwrap();
    assert_eq!(r.ticket.server.to_string(), "host/x@FAKE.LOCAL");
    let cases: [(Tamper, i32); 4] = [
        (
            |e| e.nonce = e.nonce.wrapping_add(1),
            minor::KDCREP_MODIFIED,
        ),
        (
            |e| e.sname = PrincipalName::new(1, &[b"other"]),
            minor::KDCREP_MODIFIED,
        ),
        (|e| e.endtime = e.authtime - 1, minor::KDCREP_MODIFIED),
        (|e| e.key.keytype = 23, minor::KDCREP_MODIFIED),
    ];
    for (i, (tamper, code)) in cases.into_iter().enumerate() {
        let addr = forging_kdc(session.clone(), tamper);
        let e = tgs_to(&fake_client(&addr, 500), &tgt);
        assert_eq!(e.minor, code, "case {i}: {e}");
    }
}

#[test]
fn response_too_big_retries_over_tcp() {
    // UDP answers KRB_ERR_RESPONSE_TOO_BIG; TCP on the same port answers KDC_ERR_POLICY,
    // so the error seen proves the retry went over TCP.
    // A free TCP port whose UDP twin is free too (another test may hold that UDP port).
    let (l, port, udp) = (0..100)
        .find_map(|_| {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            let port = l.local_addr().unwrap().port();
            let udp = UdpSocket::bind(("127.0.0.1", port)).ok()?;
            Some((l, port, udp))
        })
        .expect("a TCP and UDP port pair");
    udp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let err = |code: i32| {
        KrbError {
            stime: now(),
            error_code: code,
            realm: b"FAKE.LOCAL".to_vec(),
            sname: PrincipalName::new(2, &[b"krbtgt", b"FAKE.LOCAL"]),
            ..Default::default()
        }
        .to_der()
    };
    let too_big = err(52);
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 65536];
        if let Ok((_, from)) = udp.recv_from(&mut buf) {
            let _ = udp.send_to(&too_big, from);
        }
    });
    let policy = err(12);
    std::thread::spawn(move || {
        if let Some(Ok(mut s)) = l.incoming().next() {
            let mut len = [0u8; 4];
            if s.read_exact(&mut len).is_ok() {
                let mut req = vec![0u8; u32::from_be_bytes(len) as usize];
                let _ = s.read_exact(&mut req);
                let mut framed = (policy.len() as u32).to_be_bytes().to_vec();
                framed.extend_from_slice(&policy);
                let _ = s.write_all(&framed);
            }
        }
    });
    let kdc = fake_client(&format!("127.0.0.1:{port}"), 1000);
    let (tgt, _) = fake_tgt();
    let e = tgs_to(&kdc, &tgt);
    assert_eq!(e.minor, minor::KDC_ERR_POLICY, "{e}");
    assert_eq!(kdc.stats().udp_requests, 1);
    assert_eq!(kdc.stats().tcp_requests, 1);
}
