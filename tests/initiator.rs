//! The initiator without a live KDC: tickets already cached need no KDC, a missing TGT is
//! GSS_S_NO_CRED, an unreachable KDC is GSS_S_FAILURE, delegation falls back silently (as
//! MIT), the KRB-CRED we build carries exactly MIT's KrbCredInfo, and `[domain_realm]` names
//! the target's realm.
//! The live-KDC behaviour (TGS/AS, storing, delegation to MIT) is in tests/interop-kdc.sh.

use krbap::asn1::{Der, EncKrbCredPart, KrbCred};
use krbap::ccache::{Ccache, Credential};
use krbap::config::Profile;
use krbap::cred::{tgs_principal, InitiatorCredential};
use krbap::crypto::{usage, Enctype, Key};
use krbap::error::{major, minor};
use krbap::gss::checksum::ctx_flags;
use krbap::gss::context::{build_krb_cred, InitOptions, SecurityContext};
use krbap::gss::name::{Name, NameType};
use krbap::kdc::KdcClient;
use krbap::principal::Principal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

fn data(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(p)
}

/// The MIT capture's time (its tickets are valid then).
const CAPTURE_TIME: i64 = 1795697147;

fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "krbap-initiator-{tag}-{}-{}",
        std::process::id(),
        krbap::crypto::random_u32()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A KDC client whose only KDC is a closed local port: any request fails fast.
fn dead_kdc() -> KdcClient {
    let profile = Profile::parse(
        "[libdefaults]\n default_realm = TEST.LOCAL\n[realms]\n TEST.LOCAL = {\n  kdc = 127.0.0.1:9\n }\n",
        "dead-kdc",
    )
    .unwrap();
    KdcClient::new(Arc::new(profile)).with_timeout(Duration::from_millis(200))
}

/// alice's MIT ccache (TGT + five service tickets), copied, optionally without some entries.
fn ccache_copy(dir: &Path, drop: impl Fn(&Credential) -> bool) -> PathBuf {
    let mut cc = Ccache::load(&data("mit-capture/alice.ccache")).unwrap();
    cc.credentials.retain(|c| !drop(c));
    let path = dir.join("ccache");
    cc.save(&path).unwrap();
    path
}

fn initiator(path: &Path, kdc: KdcClient) -> InitiatorCredential {
    let cred = InitiatorCredential::from_ccache(Some(path.to_str().unwrap()), None)
        .unwrap()
        .with_kdc(kdc);
    cred.clock.set_fixed(Some(CAPTURE_TIME));
    cred
}

fn target(s: &str) -> Name {
    Name::import(s.as_bytes(), NameType::HostbasedService, None).unwrap()
}

fn is_tgt(c: &Credential) -> bool {
    c.server.name.components.first().map(|c| &c[..]) == Some(b"krbtgt")
}

#[test]
fn cached_ticket_needs_no_kdc_and_delegation_falls_back_silently() {
    let dir = tempdir("cached");
    let path = ccache_copy(&dir, |_| false);
    let kdc = dead_kdc();
    let cred = initiator(&path, kdc.clone());
    let before = std::fs::read(&path).unwrap();
    let options = InitOptions {
        req_flags: ctx_flags::MUTUAL | ctx_flags::DELEG,
        channel_bindings: None,
    };
    // The TGT is FORWARDABLE, so delegation asks the (dead) KDC for a forwarded TGT; its
    // failure means no delegation, not a failed context (MIT's make_gss_checksum).
    let (ctx, token) = SecurityContext::initiate(&cred, &target("test@localhost"), &options)
        .expect("ticket from the ccache");
    assert!(!token.is_empty());
    assert_eq!(
        ctx.flags() & ctx_flags::DELEG,
        0,
        "DELEG offered without delegation"
    );
    assert_ne!(ctx.flags() & ctx_flags::MUTUAL, 0);
    assert_eq!(ctx.server().to_string(), "test/localhost@TEST.LOCAL");
    // Without DELEG no KDC request at all.
    let sent = kdc.stats();
    let plain = InitOptions {
        req_flags: ctx_flags::MUTUAL,
        channel_bindings: None,
    };
    SecurityContext::initiate(&cred, &target("test-aes128-sha256@localhost"), &plain).unwrap();
    assert_eq!(
        kdc.stats(),
        sent,
        "a cached ticket must not contact the KDC"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before, "ccache rewritten");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn missing_ticket_without_tgt_is_no_cred() {
    let dir = tempdir("notgt");
    let path = ccache_copy(&dir, is_tgt);
    let kdc = dead_kdc();
    let cred = initiator(&path, kdc.clone());
    let e = SecurityContext::initiate(&cred, &target("other@localhost"), &InitOptions::default())
        .unwrap_err();
    assert_eq!(e.major, major::NO_CRED, "{e:?}");
    assert_eq!(e.minor, minor::CC_NOTFOUND, "{e:?}");
    assert!(
        e.detail.contains("krbtgt/TEST.LOCAL@TEST.LOCAL"),
        "{}",
        e.detail
    );
    assert_eq!(
        kdc.stats(),
        Default::default(),
        "no TGT: the KDC must not be asked"
    );
    // A cached service ticket still works, and DELEG without a TGT is no error either.
    let options = InitOptions {
        req_flags: ctx_flags::DELEG,
        channel_bindings: None,
    };
    let (ctx, _) = SecurityContext::initiate(&cred, &target("test@localhost"), &options).unwrap();
    assert_eq!(ctx.flags() & ctx_flags::DELEG, 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn expired_tgt_is_no_cred() {
    let dir = tempdir("expired");
    let path = ccache_copy(&dir, |c| !is_tgt(c));
    let kdc = dead_kdc();
    let cred = initiator(&path, kdc.clone());
    cred.clock.set_fixed(Some(CAPTURE_TIME + 2 * 86400));
    let e = cred.tgt(CAPTURE_TIME + 2 * 86400).unwrap_err();
    assert_eq!((e.major, e.minor), (major::NO_CRED, minor::CC_NOTFOUND));
    assert!(cred.tgt(CAPTURE_TIME).is_ok());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unreachable_kdc_is_failure_with_the_kdc_minor() {
    let dir = tempdir("unreach");
    let path = ccache_copy(&dir, |c| !is_tgt(c));
    let kdc = dead_kdc();
    let cred = initiator(&path, kdc.clone());
    let e = SecurityContext::initiate(&cred, &target("test@localhost"), &InitOptions::default())
        .unwrap_err();
    assert_eq!(e.major, major::FAILURE, "{e:?}");
    assert_ne!(e.minor, 0);
    assert_ne!(e.minor, minor::CC_NOTFOUND, "{e:?}");
    assert!(
        e.detail.contains("test/localhost@TEST.LOCAL"),
        "{}",
        e.detail
    );
    // Nothing was stored.
    let cc = Ccache::load(&path).unwrap();
    assert_eq!(
        cc.credentials
            .iter()
            .filter(|c| !c.is_config_entry())
            .count(),
        1
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The KRB-CRED of a delegation: built from MIT's own delegated TGT (the capture's
/// KRB-CRED), our KrbCredInfo must be MIT's byte for byte, encrypted in the given key with
/// usage 14, with a nonce and timestamp as MIT's krb5_mk_ncred sends.
#[test]
fn krb_cred_carries_mit_krb_cred_info() {
    let mit_cred =
        KrbCred::from_der(&std::fs::read(data("asn1/deleg/krb_cred.der")).unwrap()).unwrap();
    let mit_part =
        EncKrbCredPart::from_der(&std::fs::read(data("asn1/deleg/enc_krb_cred_part.der")).unwrap())
            .unwrap();
    let info = &mit_part.ticket_info[0];
    let t32 = |t: Option<i64>| t.unwrap_or(0) as u32;
    let client = Principal {
        realm: info.prealm.clone().unwrap(),
        name: info.pname.clone().unwrap(),
    };
    let cred = Credential {
        client: client.clone(),
        server: Principal {
            realm: info.srealm.clone().unwrap(),
            name: info.sname.clone().unwrap(),
        },
        key: info.key.clone(),
        authtime: t32(info.authtime),
        starttime: t32(info.starttime),
        endtime: t32(info.endtime),
        renew_till: t32(info.renew_till),
        is_skey: false,
        ticket_flags: info.flags.unwrap(),
        addresses: Vec::new(),
        authdata: Vec::new(),
        ticket: mit_cred.tickets[0].to_der(),
        second_ticket: Vec::new(),
    };
    assert_eq!(cred.server, tgs_principal(b"TEST.LOCAL"));
    for enctype in Enctype::ALL {
        let key = Key::random(enctype);
        let der = build_krb_cred(std::slice::from_ref(&cred), &key, CAPTURE_TIME, 4242).unwrap();
        let ours = KrbCred::from_der(&der).unwrap();
        assert_eq!(ours.tickets, mit_cred.tickets);
        assert_eq!(ours.enc_part.etype, enctype.number());
        let plain = key
            .decrypt(usage::KRB_CRED_ENCPART, &ours.enc_part.cipher)
            .unwrap();
        let part = EncKrbCredPart::from_der(&plain).unwrap();
        assert_eq!(part.ticket_info, mit_part.ticket_info);
        assert_eq!(part.ticket_info[0].to_der(), info.to_der());
        assert_eq!(
            (part.timestamp, part.usec),
            (Some(CAPTURE_TIME), Some(4242))
        );
        assert!(part.nonce.is_some_and(|n| n < 0x8000_0000));
        // The wrong key, or the wrong usage, does not decrypt it.
        assert!(Key::random(enctype)
            .decrypt(usage::KRB_CRED_ENCPART, &ours.enc_part.cipher)
            .is_err());
        assert!(key
            .decrypt(usage::AP_REP_ENCPART, &ours.enc_part.cipher)
            .is_err());
    }
    // A credential whose ticket is not DER is refused rather than sent.
    let mut bad = cred.clone();
    bad.ticket = vec![0x61, 0x03, 0x02, 0x01];
    assert!(build_krb_cred(&[bad], &Key::random(Enctype::ALL[0]), CAPTURE_TIME, 0).is_err());
}

#[test]
fn target_realm_from_domain_realm_else_client_realm() {
    let profile = Profile::parse(
        "[libdefaults]\n default_realm = TEST.LOCAL\n[realms]\n TEST.LOCAL = {\n  kdc = 127.0.0.1:9\n }\n\
         [domain_realm]\n .other.test = OTHER.TEST\n",
        "t",
    )
    .unwrap();
    let kdc = KdcClient::new(Arc::new(profile));
    let client = Principal::parse("alice@TEST.LOCAL", None).unwrap();
    let cred = InitiatorCredential::from_credentials(client, Vec::new()).with_kdc(kdc);
    assert_eq!(
        cred.target_principal(&target("host@srv.other.test"))
            .to_string(),
        "host/srv.other.test@OTHER.TEST"
    );
    assert_eq!(
        cred.target_principal(&target("host@localhost")).to_string(),
        "host/localhost@TEST.LOCAL"
    );
    // An explicit realm is kept.
    let n = Name::import(b"host/x@R2", NameType::KerberosPrincipal, None).unwrap();
    assert_eq!(cred.target_principal(&n).to_string(), "host/x@R2");
}

/// Credentials are shared between threads (the C layer hands out one handle to many).
#[test]
fn initiator_credential_is_send_and_sync() {
    fn shared<T: Send + Sync>() {}
    shared::<InitiatorCredential>();
    shared::<KdcClient>();
}
