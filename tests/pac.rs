//! The Windows PAC (MS-PAC), against real KDCs and tampered copies:
//! - Samba 4.17 AD DC tickets (tests/data/samba-ad/, MIT initiator tokens, see README.md
//!   there): accepted, every field equal to Samba's own NDR decoder's view, all four
//!   signatures verified with the krbtgt key, nested/domain-local/universal groups,
//!   S4U2proxy delegation info, a constructed UPN, non-BMP UTF-16;
//! - MIT krb5 1.20 KDC tickets (tests/data/mit-pac/): no LOGON_INFO, server signatures of
//!   types 15, 16, 19 and 20, KDC and ticket signatures with the krbtgt key;
//! - the tampering matrix: every byte flipped, wrong keys, CLIENT_INFO edits, two PACs,
//!   misplaced PACs, edits only the full or the ticket signature catches;
//! - the policies (verify, require, allow-unverified) and the replay cache left alone;
//! - synthetic PACs for what neither KDC sends: resource groups, SE_GROUP_RESOURCE
//!   ExtraSids, MaximumLength > Length, null strings, claims kept raw.

mod common;

use krbap::ap::{self, MintRequest, ServiceKey};
use krbap::asn1::{
    ad_type, encode_authorization_data, ApReq, AuthorizationDataEntry, Der, EncTicketPart,
};
use krbap::ccache::Credential;
use krbap::cred::{AcceptorCredential, InitiatorCredential};
use krbap::crypto::{usage, Enctype, Key};
use krbap::error::{major, minor, Error};
use krbap::gss::checksum::ctx_flags;
use krbap::gss::context::{InitOptions, SecurityContext};
use krbap::gss::name::{Name, NameType};
use krbap::gss::token::{frame, unframe, TOK_AP_REQ};
use krbap::keytab::Keytab;
use krbap::pac::{
    self, buffer_type as bt, group_attributes, verified, GroupSource, Pac, PacPolicy, Sid,
};
use krbap::principal::Principal;
use krbap::rcache::ReplayCache;
use std::collections::HashMap;
use std::fmt::Display;
use std::path::PathBuf;

const ALL4: u32 = verified::SERVER_SIGNATURE
    | verified::KDC_SIGNATURE
    | verified::TICKET_SIGNATURE
    | verified::FULL_SIGNATURE;

fn data(p: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(p)
}

fn read(p: &str) -> Vec<u8> {
    std::fs::read(data(p)).unwrap_or_else(|e| panic!("{p}: {e}"))
}

/// The capture time of `case` in DIR/times.txt.
fn time_of(dir: &str, case: &str) -> i64 {
    let t = String::from_utf8(read(&format!("{dir}/times.txt"))).unwrap();
    t.lines()
        .find_map(|l| l.strip_prefix(&format!("{case} ")))
        .unwrap_or_else(|| panic!("no time for {case}"))
        .trim()
        .parse()
        .unwrap()
}

/// Samba's SIDs (sids.txt: SAMBA_SID_<name>=...).
fn samba_sid(name: &str) -> String {
    let t = String::from_utf8(read("samba-ad/sids.txt")).unwrap();
    t.lines()
        .find_map(|l| l.strip_prefix(&format!("SAMBA_SID_{name}=")))
        .unwrap_or_else(|| panic!("no SID for {name}"))
        .to_string()
}

fn keys_of(keytab: &str) -> Vec<ServiceKey> {
    Keytab::load(&data(keytab))
        .unwrap()
        .entries
        .iter()
        .filter_map(|e| {
            Some(ServiceKey {
                principal: e.principal.clone(),
                kvno: e.kvno,
                key: Key::new(Enctype::from_number(e.enctype)?, &e.key).ok()?,
            })
        })
        .collect()
}

fn kdc_key(keytab: &str, enctype: Enctype) -> Key {
    keys_of(keytab)
        .into_iter()
        .find(|k| k.key.enctype() == enctype)
        .unwrap()
        .key
}

/// An acceptor on `keytab`, clock at `t`, no replay cache (tokens are accepted again).
fn acceptor(keytab: &str, t: i64) -> AcceptorCredential {
    let c = AcceptorCredential::from_keytab(Some(data(keytab).to_str().unwrap()), None).unwrap();
    c.clock.set_fixed(Some(t));
    c.set_replay_cache(ReplayCache::none());
    c
}

fn accept(cred: &AcceptorCredential, token: &[u8]) -> Result<SecurityContext, Error> {
    SecurityContext::accept(cred, token, None)
        .map(|(c, _)| c)
        .map_err(|f| f.error)
}

// ----------------------------------------------------------------- the canonical view

fn l(out: &mut Vec<String>, k: &str, v: impl Display) {
    out.push(format!("{k}={v}"));
}

/// The PAC as `key=value` lines, the format of tests/interop/pac_view.py (whose `samba`
/// mode wrote the *.samba.txt files with Samba's decoder).
fn view(p: &Pac) -> String {
    let mut o = Vec::new();
    let bufs: Vec<String> = p
        .buffers()
        .iter()
        .map(|b| format!("{}/{}", b.buffer_type, b.size))
        .collect();
    l(&mut o, "buffers", bufs.join(" "));
    for b in p.buffers() {
        match b.buffer_type {
            bt::LOGON_INFO => {
                let li = p.logon_info().unwrap();
                l(&mut o, "logon.logon_time", li.logon_time().0);
                l(&mut o, "logon.logoff_time", li.logoff_time().0);
                l(&mut o, "logon.kick_off_time", li.kick_off_time().0);
                l(&mut o, "logon.password_last_set", li.password_last_set().0);
                l(
                    &mut o,
                    "logon.password_can_change",
                    li.password_can_change().0,
                );
                l(
                    &mut o,
                    "logon.password_must_change",
                    li.password_must_change().0,
                );
                l(&mut o, "logon.effective_name", li.effective_name());
                l(&mut o, "logon.full_name", li.full_name());
                l(&mut o, "logon.logon_script", li.logon_script());
                l(&mut o, "logon.profile_path", li.profile_path());
                l(&mut o, "logon.home_directory", li.home_directory());
                l(
                    &mut o,
                    "logon.home_directory_drive",
                    li.home_directory_drive(),
                );
                l(&mut o, "logon.logon_count", li.logon_count());
                l(&mut o, "logon.bad_password_count", li.bad_password_count());
                l(&mut o, "logon.user_id", li.user_id());
                l(&mut o, "logon.primary_group_id", li.primary_group_id());
                l(&mut o, "logon.group_count", li.group_count());
                for g in li.group_ids() {
                    l(
                        &mut o,
                        "logon.group_id",
                        format!("{} {:#010x}", g.relative_id, g.attributes),
                    );
                }
                l(
                    &mut o,
                    "logon.user_flags",
                    format!("{:#010x}", li.user_flags()),
                );
                let key: String = li
                    .user_session_key()
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                l(&mut o, "logon.user_session_key", key);
                l(&mut o, "logon.logon_server", li.logon_server());
                l(&mut o, "logon.logon_domain_name", li.logon_domain_name());
                let sid_or = |s: Option<Sid>| s.map_or("-".to_string(), |s| s.to_string());
                l(
                    &mut o,
                    "logon.logon_domain_id",
                    sid_or(li.logon_domain_id()),
                );
                let r = li.reserved1();
                l(&mut o, "logon.reserved1", format!("{} {}", r[0], r[1]));
                l(
                    &mut o,
                    "logon.user_account_control",
                    format!("{:#010x}", li.user_account_control()),
                );
                l(&mut o, "logon.sub_auth_status", li.sub_auth_status());
                l(
                    &mut o,
                    "logon.last_successful_ilogon",
                    li.last_successful_ilogon().0,
                );
                l(
                    &mut o,
                    "logon.last_failed_ilogon",
                    li.last_failed_ilogon().0,
                );
                l(
                    &mut o,
                    "logon.failed_ilogon_count",
                    li.failed_ilogon_count(),
                );
                l(&mut o, "logon.reserved3", li.reserved3());
                l(&mut o, "logon.sid_count", li.extra_sid_count());
                for s in li.extra_sids() {
                    l(
                        &mut o,
                        "logon.extra_sid",
                        format!("{} {:#010x}", s.sid, s.attributes),
                    );
                }
                l(
                    &mut o,
                    "logon.resource_group_domain_sid",
                    sid_or(li.resource_group_domain_sid()),
                );
                l(
                    &mut o,
                    "logon.resource_group_count",
                    li.resource_group_count(),
                );
                for g in li.resource_group_ids() {
                    l(
                        &mut o,
                        "logon.resource_group_id",
                        format!("{} {:#010x}", g.relative_id, g.attributes),
                    );
                }
            }
            bt::CLIENT_INFO => {
                let c = p.client_info().unwrap();
                l(&mut o, "client.client_id", c.client_id().0);
                l(&mut o, "client.name", c.name());
            }
            bt::UPN_DNS_INFO => {
                let u = p.upn_dns_info().unwrap();
                l(&mut o, "upn.upn", u.upn());
                l(&mut o, "upn.dns_domain", u.dns_domain());
                l(&mut o, "upn.flags", format!("{:#x}", u.flags()));
                if u.flags() & pac::UPN_HAS_SAM_NAME_AND_SID != 0 {
                    l(&mut o, "upn.sam_name", u.sam_name().unwrap());
                    l(&mut o, "upn.sid", u.sid().unwrap());
                }
            }
            bt::CONSTRAINED_DELEGATION => {
                let d = p.delegation_info().unwrap();
                l(&mut o, "deleg.proxy_target", d.proxy_target());
                l(&mut o, "deleg.transited_count", d.transited_count());
                for t in d.transited_services() {
                    l(&mut o, "deleg.transited", t);
                }
            }
            bt::ATTRIBUTES_INFO => {
                let a = p.attributes_info().unwrap();
                l(&mut o, "attributes.flags_length", a.flags_length);
                l(&mut o, "attributes.flags", format!("{:#010x}", a.flags));
            }
            bt::REQUESTOR_SID => l(&mut o, "requestor.sid", p.requestor_sid().unwrap()),
            t @ (bt::SERVER_CHECKSUM
            | bt::PRIVSVR_CHECKSUM
            | bt::TICKET_CHECKSUM
            | bt::FULL_CHECKSUM) => {
                let s = p.signature(t).unwrap();
                let hex: String = s.signature().iter().map(|b| format!("{b:02x}")).collect();
                l(
                    &mut o,
                    &format!("signature.{t}"),
                    format!("{} {hex}", s.signature_type()),
                );
            }
            _ => {}
        }
    }
    o.join("\n") + "\n"
}

const SAMBA_CASES: [(&str, &str); 4] = [
    ("alice", "samba-ad/svc.keytab"),
    ("bob", "samba-ad/svc.keytab"),
    ("carol", "samba-ad/svc.keytab"),
    ("s4u2proxy", "samba-ad/ws1.keytab"),
];

#[test]
fn samba_pacs_decode_field_by_field_as_samba_decodes_them() {
    for (case, _) in SAMBA_CASES {
        let p = Pac::parse(&read(&format!("samba-ad/{case}.pac"))).unwrap();
        let samba = String::from_utf8(read(&format!("samba-ad/{case}.samba.txt"))).unwrap();
        assert_eq!(view(&p), samba, "{case}");
        assert_eq!(p.verified(), 0, "parsing alone verifies nothing");
    }
}

#[test]
fn samba_tokens_accepted_with_server_and_all_kdc_signatures() {
    for (case, keytab) in SAMBA_CASES {
        let token = read(&format!("samba-ad/{case}.token"));
        let cred = acceptor(keytab, time_of("samba-ad", case));
        let ctx = accept(&cred, &token).unwrap_or_else(|e| panic!("{case}: {e}"));
        let p = ctx.pac_info().unwrap();
        assert_eq!(p.verified(), verified::SERVER_SIGNATURE, "{case}");
        // The very PAC MIT's acceptor exposed for this token.
        assert_eq!(
            p.as_bytes(),
            read(&format!("samba-ad/{case}.pac")),
            "{case}"
        );
        assert_eq!(ctx.pac(), Some(p.as_bytes()));
        // The flattened authorization data still shows it (AD-IF-RELEVANT unwrapped).
        let ad: Vec<(i32, &[u8])> = ctx
            .authorization_data()
            .iter()
            .map(|e| (e.ad_type, e.data.as_slice()))
            .collect();
        assert_eq!(ad, [(128, p.as_bytes())], "{case}");
        cred.set_pac_kdc_keytab(data("samba-ad/krbtgt.keytab").to_str().unwrap())
            .unwrap();
        let ctx = accept(&cred, &token).unwrap_or_else(|e| panic!("{case}: {e}"));
        assert_eq!(ctx.pac_info().unwrap().verified(), ALL4, "{case}");
    }
}

fn group_sids(p: &Pac, source: GroupSource) -> Vec<String> {
    p.groups()
        .iter()
        .filter(|g| g.source == source)
        .map(|g| g.sid.to_string())
        .collect()
}

#[test]
fn samba_identity_groups_and_delegation() {
    let cred = acceptor("samba-ad/svc.keytab", time_of("samba-ad", "alice"));
    let ctx = accept(&cred, &read("samba-ad/alice.token")).unwrap();
    let p = ctx.pac_info().unwrap();
    assert_eq!(p.user_sid().unwrap().to_string(), samba_sid("alice"));
    assert_eq!(
        p.primary_group_sid().unwrap().to_string(),
        samba_sid("Domain_Users")
    );
    let li = p.logon_info().unwrap();
    assert_eq!(li.effective_name(), "alice");
    assert_eq!(li.full_name(), "Alice Tester");
    assert_eq!(li.logon_domain_name(), "ADTEST");
    assert_eq!(
        li.logon_domain_id().unwrap().to_string(),
        samba_domain_sid()
    );
    let u = p.upn_dns_info().unwrap();
    assert_eq!(
        (u.upn().as_str(), u.dns_domain().as_str()),
        ("alice@ad.test", "AD.TEST")
    );
    assert_eq!(u.sid().unwrap().to_string(), samba_sid("alice"));
    // Direct, nested (pacgroup2 through pacgroup), domain-local and universal groups.
    let ids = group_sids(p, GroupSource::GroupIds);
    for g in [
        "Domain_Users",
        "pacgroup",
        "pacgroup2",
        "pacdomlocal",
        "pacuniversal",
    ] {
        assert!(ids.contains(&samba_sid(g)), "{g} missing from {ids:?}");
    }
    assert_eq!(group_sids(p, GroupSource::ExtraSids), ["S-1-18-1"]);
    assert!(p.groups().iter().all(|g| g.attributes
        == group_attributes::MANDATORY
            | group_attributes::ENABLED_BY_DEFAULT
            | group_attributes::ENABLED));
    assert!(p.delegation_info().is_none());

    // bob: no userPrincipalName; the KDC constructs one and says so.
    let cred = acceptor("samba-ad/svc.keytab", time_of("samba-ad", "bob"));
    let ctx = accept(&cred, &read("samba-ad/bob.token")).unwrap();
    let u = ctx.pac_info().unwrap().upn_dns_info().unwrap();
    assert_eq!(u.upn(), "bob@ad.test");
    assert_eq!(u.flags() & pac::UPN_CONSTRUCTED, pac::UPN_CONSTRUCTED);

    // carol: a full name with a character outside the BMP (a UTF-16 surrogate pair).
    let cred = acceptor("samba-ad/svc.keytab", time_of("samba-ad", "carol"));
    let ctx = accept(&cred, &read("samba-ad/carol.token")).unwrap();
    let li = ctx.pac_info().unwrap();
    assert_eq!(
        li.logon_info().unwrap().full_name(),
        "Carol \u{dc}ml\u{e4}ut \u{1d11e}"
    );

    // S4U2proxy: svc obtained a ticket to HTTP/ws1.ad.test for alice.
    let cred = acceptor("samba-ad/ws1.keytab", time_of("samba-ad", "s4u2proxy"));
    let ctx = accept(&cred, &read("samba-ad/s4u2proxy.token")).unwrap();
    assert_eq!(ctx.client().to_string(), "alice@AD.TEST");
    let p = ctx.pac_info().unwrap();
    let d = p.delegation_info().unwrap();
    assert_eq!(d.proxy_target(), "HTTP/ws1.ad.test");
    assert_eq!(d.transited_services(), ["svc@AD.TEST"]);
    // Service asserted identity, not authentication authority asserted.
    assert_eq!(group_sids(p, GroupSource::ExtraSids), ["S-1-18-2"]);
}

fn samba_domain_sid() -> String {
    let t = String::from_utf8(read("samba-ad/sids.txt")).unwrap();
    t.lines()
        .find_map(|l| l.strip_prefix("SAMBA_DOMAIN_SID="))
        .unwrap()
        .to_string()
}

// ----------------------------------------------------------------- MIT krb5 1.20 KDC

#[test]
fn mit_kdc_pacs_verified_including_sha2_server_signatures() {
    // (service, the server signature type the service key's enctype implies)
    for (svc, cksum) in [
        ("test", 16),
        ("test-aes256-sha1", 16),
        ("test-aes128-sha1", 15),
        ("test-aes256-sha384", 20),
        ("test-aes128-sha256", 19),
    ] {
        let token = read(&format!("mit-pac/{svc}.token"));
        let cred = acceptor("mit-pac/service.keytab", time_of("mit-pac", svc));
        let ctx = accept(&cred, &token).unwrap_or_else(|e| panic!("{svc}: {e}"));
        let p = ctx.pac_info().unwrap();
        assert_eq!(p.verified(), verified::SERVER_SIGNATURE, "{svc}");
        assert!(p.logon_info().is_none() && p.upn_dns_info().is_none());
        assert_eq!(p.client_info().unwrap().name(), "alice");
        assert_eq!(
            p.signature(bt::SERVER_CHECKSUM).unwrap().signature_type(),
            cksum
        );
        // MIT 1.20 signs the KDC and ticket signatures with the krbtgt aes256-sha1 key and
        // has no full signature.
        assert_eq!(
            p.signature(bt::PRIVSVR_CHECKSUM).unwrap().signature_type(),
            16
        );
        assert!(p.signature(bt::FULL_CHECKSUM).is_none());
        assert!(p.groups().is_empty() && p.user_sid().is_none());
        cred.set_pac_kdc_keytab(data("mit-pac/krbtgt.keytab").to_str().unwrap())
            .unwrap();
        let ctx = accept(&cred, &token).unwrap();
        assert_eq!(
            ctx.pac_info().unwrap().verified(),
            verified::SERVER_SIGNATURE | verified::KDC_SIGNATURE | verified::TICKET_SIGNATURE,
            "{svc}"
        );
    }
}

#[test]
fn mit_capture_tokens_carry_verified_pacs() {
    for case in [
        "mutual",
        "aes128-sha1",
        "aes256-sha384",
        "aes128-sha256",
        "deleg",
    ] {
        let cred = common::capture_acceptor(common::capture_time(case));
        let tok = std::fs::read(common::capture_path(case).join("initial_token.bin")).unwrap();
        let ctx = accept(&cred, &tok).unwrap();
        assert_eq!(
            ctx.pac_info().unwrap().verified(),
            verified::SERVER_SIGNATURE,
            "{case}"
        );
    }
}

// ----------------------------------------------------------------- tampering

/// A Samba token with its ticket edited by `edit` and re-encrypted with the service key
/// (the authenticator, sealed with the unchanged session key, stays valid).
fn retoken(case: &str, keytab: &str, edit: impl FnOnce(&mut EncTicketPart)) -> Vec<u8> {
    let token = read(&format!("samba-ad/{case}.token"));
    let (_, inner) = unframe(&token).unwrap();
    let mut req = ApReq::from_der(inner).unwrap();
    let keys = keys_of(keytab);
    let (mut part, _) = ap::decrypt_ticket(&req.ticket, &keys).unwrap();
    edit(&mut part);
    let key = &keys
        .iter()
        .find(|k| k.key.enctype().number() == req.ticket.enc_part.etype)
        .unwrap()
        .key;
    req.ticket.enc_part.cipher = key.encrypt(usage::KDC_REP_TICKET, &part.to_der());
    frame(TOK_AP_REQ, &req.to_der())
}

fn pac_of(part: &EncTicketPart) -> Vec<u8> {
    pac::locate(part.authorization_data.as_ref().unwrap())
        .unwrap()
        .unwrap()
        .1
}

/// Edits the PAC bytes in a ticket.
fn edit_pac(part: &mut EncTicketPart, f: impl FnOnce(&mut Vec<u8>)) {
    let mut p = pac_of(part);
    f(&mut p);
    pac::replace_in_ticket(part, p).unwrap();
}

/// (offset, size) of the buffer of type `t` in `pac`.
fn buffer_at(pac: &[u8], t: u32) -> (usize, usize) {
    let n = u32::from_le_bytes(pac[..4].try_into().unwrap()) as usize;
    (0..n)
        .map(|i| 8 + 16 * i)
        .find(|&at| u32::from_le_bytes(pac[at..at + 4].try_into().unwrap()) == t)
        .map(|at| {
            (
                u64::from_le_bytes(pac[at + 8..at + 16].try_into().unwrap()) as usize,
                u32::from_le_bytes(pac[at + 4..at + 8].try_into().unwrap()) as usize,
            )
        })
        .unwrap()
}

/// Recomputes the server and KDC signatures the way MS-PAC §2.8 says, independently of
/// krbap's own signing code: a copy with the Signature bytes of 6 and 7 zeroed, then the
/// KDC signature over the server signature.
fn resign_server_kdc(pac: &mut [u8], service: &Key, kdc: &Key) {
    let (o6, s6) = buffer_at(pac, 6);
    let (o7, s7) = buffer_at(pac, 7);
    let mut z = pac.to_vec();
    z[o6 + 4..o6 + s6].fill(0);
    z[o7 + 4..o7 + s7].fill(0);
    let sig = service.checksum(17, &z);
    pac[o6 + 4..o6 + 4 + sig.len()].copy_from_slice(&sig);
    let ksig = kdc.checksum(17, &pac[o6 + 4..o6 + s6]);
    pac[o7 + 4..o7 + 4 + ksig.len()].copy_from_slice(&ksig);
}

fn svc_key() -> Key {
    kdc_key("samba-ad/svc.keytab", Enctype::Aes256CtsHmacSha196)
}
fn krbtgt() -> Key {
    kdc_key("samba-ad/krbtgt.keytab", Enctype::Aes256CtsHmacSha196)
}

fn minor_of(r: Result<SecurityContext, Error>) -> i32 {
    match r {
        Ok(_) => 0,
        Err(e) => {
            assert_eq!(e.major & major::ROUTINE_ERROR_MASK, major::FAILURE, "{e}");
            e.minor
        }
    }
}

#[test]
fn every_flipped_byte_is_rejected() {
    let t = time_of("samba-ad", "alice");
    let plain = acceptor("samba-ad/svc.keytab", t);
    let with_kdc = acceptor("samba-ad/svc.keytab", t);
    with_kdc
        .set_pac_kdc_keytab(data("samba-ad/krbtgt.keytab").to_str().unwrap())
        .unwrap();
    let pac = read("samba-ad/alice.pac");
    let (o7, s7) = buffer_at(&pac, 7);
    let mut codes: HashMap<i32, usize> = HashMap::new();
    for i in 0..pac.len() {
        let tok = retoken("alice", "samba-ad/svc.keytab", |p| {
            edit_pac(p, |b| b[i] ^= 0x01)
        });
        // With the krbtgt key every byte counts.
        let code = minor_of(accept(&with_kdc, &tok));
        assert_ne!(code, 0, "byte {i} flipped, accepted with the KDC key");
        *codes.entry(code).or_default() += 1;
        // With the service key only, the KDC signature's own bytes are zeroed in the
        // server signature's input (MS-PAC §2.8.1): only they go unnoticed.
        let r = accept(&plain, &tok);
        if (o7 + 4..o7 + s7).contains(&i) {
            assert_eq!(r.unwrap().pac_info().unwrap().verified(), 1, "byte {i}");
        } else {
            assert_ne!(minor_of(r), 0, "byte {i} flipped, accepted");
        }
    }
    // Most flips are caught by a signature; header flips mostly by the framing checks.
    assert!(codes[&minor::AP_ERR_MODIFIED] > pac.len() / 2, "{codes:?}");
}

#[test]
fn resigned_with_wrong_keys_client_info_edits_and_kdc_only_checks() {
    let t = time_of("samba-ad", "alice");
    let plain = acceptor("samba-ad/svc.keytab", t);
    let with_kdc = acceptor("samba-ad/svc.keytab", t);
    with_kdc
        .set_pac_kdc_keytab(data("samba-ad/krbtgt.keytab").to_str().unwrap())
        .unwrap();
    let (svc, tgt) = (svc_key(), krbtgt());
    let wrong = Key::random(Enctype::Aes256CtsHmacSha196);
    // Re-signing alone reproduces the KDC's signatures (the test's own signer agrees).
    let same = retoken("alice", "samba-ad/svc.keytab", |p| {
        edit_pac(p, |b| resign_server_kdc(b, &svc, &tgt))
    });
    assert_eq!(
        accept(&with_kdc, &same)
            .unwrap()
            .pac_info()
            .unwrap()
            .verified(),
        ALL4
    );

    // The user's RID 1107 (pacgroup) becomes 512 (Domain Admins) in LOGON_INFO.
    let pac = read("samba-ad/alice.pac");
    let (lo, ls) = buffer_at(&pac, 1);
    let rid_at = lo
        + pac[lo..lo + ls]
            .windows(8)
            .position(|w| w == [0x53, 0x04, 0, 0, 7, 0, 0, 0])
            .unwrap();
    let elevate = |b: &mut Vec<u8>| b[rid_at..rid_at + 2].copy_from_slice(&[0x00, 0x02]);

    // Re-signed with a wrong service key: the server signature fails.
    let tok = retoken("alice", "samba-ad/svc.keytab", |p| {
        edit_pac(p, |b| {
            elevate(b);
            resign_server_kdc(b, &wrong, &tgt)
        })
    });
    let e = accept(&plain, &tok).unwrap_err();
    assert_eq!(e.minor, minor::AP_ERR_MODIFIED);
    assert!(e.detail.contains("server signature"), "{e}");

    // Re-signed with the real service key but a wrong KDC key: a service alone cannot
    // tell (MIT 1.20's acceptor cannot either); the KDC key can.
    let tok = retoken("alice", "samba-ad/svc.keytab", |p| {
        edit_pac(p, |b| {
            elevate(b);
            resign_server_kdc(b, &svc, &wrong)
        })
    });
    assert_eq!(
        accept(&plain, &tok).unwrap().pac_info().unwrap().verified(),
        1
    );
    let e = accept(&with_kdc, &tok).unwrap_err();
    assert_eq!(e.minor, minor::AP_ERR_MODIFIED);
    assert!(e.detail.contains("KDC signature"), "{e}");

    // Re-signed with both real keys but not the full signature: only the full signature
    // (MS-PAC §2.8.4, which MIT 1.20 does not check) catches the elevated group.
    let tok = retoken("alice", "samba-ad/svc.keytab", |p| {
        edit_pac(p, |b| {
            elevate(b);
            resign_server_kdc(b, &svc, &tgt)
        })
    });
    let ctx = accept(&plain, &tok).unwrap();
    let admins = format!("{}-512", samba_domain_sid());
    assert!(group_sids(ctx.pac_info().unwrap(), GroupSource::GroupIds).contains(&admins));
    let e = accept(&with_kdc, &tok).unwrap_err();
    assert_eq!(e.minor, minor::AP_ERR_MODIFIED);
    assert!(e.detail.contains("full signature"), "{e}");

    // A ticket edited outside the PAC (one more hour of life), PAC untouched: only the
    // ticket signature (MS-PAC §2.8.3) ties the PAC to this ticket.
    let tok = retoken("alice", "samba-ad/svc.keytab", |p| p.endtime += 3600);
    assert_eq!(
        accept(&plain, &tok).unwrap().pac_info().unwrap().verified(),
        1
    );
    let e = accept(&with_kdc, &tok).unwrap_err();
    assert_eq!(e.minor, minor::AP_ERR_MODIFIED);
    assert!(e.detail.contains("ticket signature"), "{e}");

    // CLIENT_INFO: another name, or another time, properly re-signed: the PAC belongs to
    // another ticket (MS-PAC §2.7).
    let (co, _) = buffer_at(&pac, 10);
    for (what, edit) in [
        (
            "name",
            Box::new(move |b: &mut Vec<u8>| b[co + 10] = b'm') as Box<dyn Fn(&mut Vec<u8>)>,
        ),
        (
            "time",
            Box::new(move |b: &mut Vec<u8>| {
                let mut ft = u64::from_le_bytes(b[co..co + 8].try_into().unwrap());
                ft += 10_000_000;
                b[co..co + 8].copy_from_slice(&ft.to_le_bytes());
            }),
        ),
    ] {
        let tok = retoken("alice", "samba-ad/svc.keytab", |p| {
            edit_pac(p, |b| {
                edit(b);
                resign_server_kdc(b, &svc, &tgt)
            })
        });
        let e = accept(&with_kdc, &tok).unwrap_err();
        assert_eq!(e.minor, minor::AP_WRONG_PRINC, "{what}: {e}");
        assert!(e.detail.contains("CLIENT_INFO"), "{e}");
    }
    // A sub-second difference is not one: MIT compares whole seconds.
    let tok = retoken("alice", "samba-ad/svc.keytab", |p| {
        edit_pac(p, |b| {
            b[co] = 0x42;
            resign_server_kdc(b, &svc, &tgt)
        })
    });
    assert!(accept(&plain, &tok).is_ok());
}

#[test]
fn one_pac_only_and_only_inside_ad_if_relevant() {
    let cred = acceptor("samba-ad/svc.keytab", time_of("samba-ad", "alice"));
    let pac = read("samba-ad/alice.pac");
    let wrap = |inner: Vec<AuthorizationDataEntry>| AuthorizationDataEntry {
        ad_type: ad_type::IF_RELEVANT,
        ad_data: encode_authorization_data(&inner),
    };
    let the_pac = || AuthorizationDataEntry {
        ad_type: ad_type::WIN2K_PAC,
        ad_data: pac.clone(),
    };
    let cases: Vec<(&str, Vec<AuthorizationDataEntry>)> = vec![
        (
            "two PACs in two containers",
            vec![wrap(vec![the_pac()]), wrap(vec![the_pac()])],
        ),
        (
            "two PACs in one container",
            vec![wrap(vec![the_pac(), the_pac()])],
        ),
        ("a PAC outside AD-IF-RELEVANT", vec![the_pac()]),
        (
            "a second PAC outside AD-IF-RELEVANT",
            vec![wrap(vec![the_pac()]), the_pac()],
        ),
        (
            "a PAC nested twice",
            vec![wrap(vec![wrap(vec![the_pac()])])],
        ),
        (
            "a nested second PAC",
            vec![wrap(vec![the_pac(), wrap(vec![the_pac()])])],
        ),
    ];
    for (what, ad) in cases {
        let tok = retoken("alice", "samba-ad/svc.keytab", |p| {
            p.authorization_data = Some(ad)
        });
        let e = accept(&cred, &tok).unwrap_err();
        assert_eq!(e.minor, minor::EINVAL, "{what}: {e}");
        assert!(e.detail.contains("PAC"), "{what}: {e}");
    }
}

#[test]
fn missing_or_malformed_signature_buffers() {
    let t = time_of("samba-ad", "alice");
    let cred = acceptor("samba-ad/svc.keytab", t);
    let (svc, tgt) = (svc_key(), krbtgt());
    let rebuild = |drop_type: u32| {
        retoken("alice", "samba-ad/svc.keytab", |p| {
            let old = Pac::parse(&pac_of(p)).unwrap();
            let keep: Vec<(u32, &[u8])> = old
                .buffers()
                .iter()
                .filter(|b| ![6, 7, 16, 19, drop_type].contains(&b.buffer_type))
                .map(|b| (b.buffer_type, old.buffer_bytes(b)))
                .collect();
            let new = pac::build(&keep, &svc, &tgt, true);
            pac::replace_in_ticket(p, new).unwrap();
            pac::sign_ticket_pac(p, &svc, &tgt).unwrap();
        })
    };
    // krbap's own signer (pac::build + sign_ticket_pac) makes what the acceptor and
    // the KDC key verify.
    let kdc = acceptor("samba-ad/svc.keytab", t);
    kdc.set_pac_kdc_keytab(data("samba-ad/krbtgt.keytab").to_str().unwrap())
        .unwrap();
    assert_eq!(
        accept(&kdc, &rebuild(0))
            .unwrap()
            .pac_info()
            .unwrap()
            .verified(),
        ALL4
    );
    let e = accept(&cred, &rebuild(bt::CLIENT_INFO)).unwrap_err();
    assert_eq!(
        (e.minor, e.detail.contains("CLIENT_INFO")),
        (minor::ENOENT, true),
        "{e}"
    );

    let edit = |f: &dyn Fn(&mut Vec<u8>)| {
        retoken("alice", "samba-ad/svc.keytab", |p| edit_pac(p, |b| f(b)))
    };
    let pac = read("samba-ad/alice.pac");
    let (o6, _) = buffer_at(&pac, 6);
    let at6 = 8 + 16 * 3; // the server signature's PAC_INFO_BUFFER (4th)
    assert_eq!(u32::from_le_bytes(pac[at6..at6 + 4].try_into().unwrap()), 6);
    // Its type renumbered to an unknown one: the PAC has no server signature.
    let e = accept(&cred, &edit(&|b| b[at6] = 99)).unwrap_err();
    assert_eq!(e.minor, minor::ENOENT, "{e}");
    // Another keyed type of the same length (aes128): not the service key's.
    let e = accept(&cred, &edit(&|b| b[o6] = 15)).unwrap_err();
    assert_eq!(e.minor, minor::AP_ERR_INAPP_CKSUM, "{e}");
    // RC4's HMAC-MD5 (16 bytes) in a 12-byte signature: malformed.
    let e = accept(
        &cred,
        &edit(&|b| b[o6..o6 + 4].copy_from_slice(&(-138i32).to_le_bytes())),
    )
    .unwrap_err();
    assert_eq!(e.minor, minor::EINVAL, "{e}");
    // An unkeyed checksum type (CRC32 = 1) with the signature's length: not supported.
    let e = accept(
        &cred,
        &edit(&|b| b[o6..o6 + 4].copy_from_slice(&1i32.to_le_bytes())),
    )
    .unwrap_err();
    assert_eq!(e.minor, minor::KDC_ERR_SUMTYPE_NOSUPP, "{e}");
}

#[test]
fn policies_and_the_replay_cache() {
    let t = time_of("samba-ad", "alice");
    let token = read("samba-ad/alice.token");
    // "alice" becomes "elice" in LOGON_INFO's EffectiveName.
    let tampered = retoken("alice", "samba-ad/svc.keytab", |p| {
        edit_pac(p, |b| {
            let at = b.windows(10).position(|w| w == b"a\0l\0i\0c\0e\0").unwrap();
            b[at] = b'e';
        })
    });
    // A rejected PAC does not enter the replay cache: the genuine token (same
    // authenticator) is accepted afterwards, and then refused as a replay.
    let cred = acceptor("samba-ad/svc.keytab", t);
    cred.set_replay_cache(ReplayCache::memory());
    assert_eq!(minor_of(accept(&cred, &tampered)), minor::AP_ERR_MODIFIED);
    assert!(accept(&cred, &token).is_ok());
    assert_eq!(minor_of(accept(&cred, &token)), minor::AP_ERR_REPEAT);

    // MIT's behaviour on request: accepted, the PAC kept but marked unverified, the
    // reason at hand.
    let cred = acceptor("samba-ad/svc.keytab", t);
    cred.set_pac_policy(PacPolicy::AllowUnverified);
    let ctx = accept(&cred, &tampered).unwrap();
    let p = ctx.pac_info().unwrap();
    assert_eq!(p.verified(), 0);
    assert_eq!(p.logon_info().unwrap().effective_name(), "elice");
    assert_eq!(p.failure().unwrap().minor, minor::AP_ERR_MODIFIED);
    assert_eq!(ctx.pac_failure().unwrap().minor, minor::AP_ERR_MODIFIED);
    // ... and a PAC that is not even one: the context says why, there is no typed PAC.
    let garbage = retoken("alice", "samba-ad/svc.keytab", |p| {
        pac::replace_in_ticket(p, vec![1, 2, 3]).unwrap()
    });
    let ctx = accept(&cred, &garbage).unwrap();
    assert!(ctx.pac_info().is_none());
    assert_eq!(ctx.pac_failure().unwrap().minor, minor::EINVAL);
    assert_eq!(ctx.pac(), Some(&[1u8, 2, 3][..]));
    // Verify (the default) fails the same garbage.
    cred.set_pac_policy(PacPolicy::Verify);
    assert_eq!(minor_of(accept(&cred, &garbage)), minor::EINVAL);

    // No PAC at all: fine by default, refused by Require.
    let no_pac = retoken("alice", "samba-ad/svc.keytab", |p| {
        p.authorization_data = None
    });
    let ctx = accept(&cred, &no_pac).unwrap();
    assert!(ctx.pac_info().is_none() && ctx.pac_failure().is_none());
    cred.set_pac_policy(PacPolicy::Require);
    let e = accept(&cred, &no_pac).unwrap_err();
    assert_eq!(e.minor, minor::ENOENT, "{e}");
    assert!(accept(&cred, &token).is_ok());
}

// ----------------------------------------------------------------- synthetic PACs

/// A minimal NDR writer for KERB_VALIDATION_INFO (MS-PAC §2.5), independent of krbap's
/// reader: it lays out what neither Samba 4.17 nor MIT sends.
#[derive(Default)]
struct Ndr(Vec<u8>);

impl Ndr {
    fn align(&mut self) {
        while !self.0.len().is_multiple_of(4) {
            self.0.push(0);
        }
    }
    fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.align();
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.u32(v as u32);
        self.u32((v >> 32) as u32);
    }
    /// RPC_UNICODE_STRING header; `None` is a null pointer.
    fn string_header(&mut self, s: Option<&str>, extra_max: u16) {
        let n = s.map_or(0, |s| s.encode_utf16().count() as u16 * 2);
        self.u16(n);
        self.u16(n + if s.is_some() { extra_max } else { 0 });
        self.u32(if s.is_some() { 0x20004 } else { 0 });
    }
    fn string_body(&mut self, s: Option<&str>, extra_max: u16) {
        if let Some(s) = s {
            let units: Vec<u16> = s.encode_utf16().collect();
            self.u32(units.len() as u32 + extra_max as u32 / 2);
            self.u32(0);
            self.u32(units.len() as u32);
            for u in units {
                self.u16(u);
            }
        }
    }
    fn sid(&mut self, s: &Sid) {
        let b = s.to_bytes();
        self.u32(b[1] as u32);
        self.0.extend_from_slice(&b);
    }
}

struct Kvi<'a> {
    names: [Option<&'a str>; 8],
    user_id: u32,
    groups: Vec<(u32, u32)>,
    user_flags: u32,
    domain: Option<Sid>,
    extra: Vec<(Sid, u32)>,
    resource_domain: Option<Sid>,
    resource_groups: Vec<(u32, u32)>,
}

fn encode_logon_info(k: &Kvi) -> Vec<u8> {
    let mut w = Ndr::default();
    w.u32(0x20000);
    for t in 0..6 {
        w.u64(0x01dd_8000_0000_0000 + t);
    }
    for n in &k.names[..6] {
        w.string_header(*n, 0);
    }
    w.u16(3);
    w.u16(0);
    w.u32(k.user_id);
    w.u32(513);
    w.u32(k.groups.len() as u32);
    w.u32(if k.groups.is_empty() { 0 } else { 0x20008 });
    w.u32(k.user_flags);
    w.0.extend_from_slice(&[0; 16]);
    w.string_header(k.names[6], 2); // MaximumLength > Length, as LogonServer often has
    w.string_header(k.names[7], 2);
    w.u32(k.domain.map_or(0, |_| 0x2000c));
    w.u32(0);
    w.u32(0);
    w.u32(0x10);
    for _ in 0..7 {
        w.u32(0);
    }
    w.u32(k.extra.len() as u32);
    w.u32(if k.extra.is_empty() { 0 } else { 0x20010 });
    w.u32(k.resource_domain.map_or(0, |_| 0x20014));
    w.u32(k.resource_groups.len() as u32);
    w.u32(if k.resource_groups.is_empty() {
        0
    } else {
        0x20018
    });
    for n in &k.names[..6] {
        w.string_body(*n, 0);
    }
    if !k.groups.is_empty() {
        w.u32(k.groups.len() as u32);
        for (rid, a) in &k.groups {
            w.u32(*rid);
            w.u32(*a);
        }
    }
    w.string_body(k.names[6], 2);
    w.string_body(k.names[7], 2);
    if let Some(d) = &k.domain {
        w.sid(d);
    }
    if !k.extra.is_empty() {
        w.u32(k.extra.len() as u32);
        for (i, (_, a)) in k.extra.iter().enumerate() {
            w.u32(0x20100 + i as u32);
            w.u32(*a);
        }
        for (s, _) in &k.extra {
            w.sid(s);
        }
    }
    if let Some(d) = &k.resource_domain {
        w.sid(d);
    }
    if !k.resource_groups.is_empty() {
        w.u32(k.resource_groups.len() as u32);
        for (rid, a) in &k.resource_groups {
            w.u32(*rid);
            w.u32(*a);
        }
    }
    while w.0.len() % 8 != 0 {
        w.0.push(0);
    }
    let mut out = vec![1, 0x10, 8, 0, 0xcc, 0xcc, 0xcc, 0xcc];
    out.extend_from_slice(&(w.0.len() as u32).to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&w.0);
    out
}

fn client_info(name: &str, authtime: i64) -> Vec<u8> {
    let ft = (authtime as u64 + 11_644_473_600) * 10_000_000;
    let units: Vec<u16> = name.encode_utf16().collect();
    let mut b = ft.to_le_bytes().to_vec();
    b.extend_from_slice(&(units.len() as u16 * 2).to_le_bytes());
    for u in units {
        b.extend_from_slice(&u.to_le_bytes());
    }
    b
}

/// A token for test/localhost from a minted ticket carrying `buffers` as a PAC signed
/// with the service key and `kdc`.
fn minted_token(buffers: &[(u32, &[u8])], kdc: &Key, now: i64) -> (Vec<u8>, ServiceKey) {
    let sk = ServiceKey {
        principal: Principal::parse("test/localhost@TEST.LOCAL", None).unwrap(),
        kvno: 3,
        key: Key::random(Enctype::Aes256CtsHmacSha384192),
    };
    let client = Principal::parse("alice@TEST.LOCAL", None).unwrap();
    let pac_bytes = pac::build(buffers, &sk.key, kdc, true);
    let ad = vec![AuthorizationDataEntry {
        ad_type: ad_type::IF_RELEVANT,
        ad_data: encode_authorization_data(&vec![AuthorizationDataEntry {
            ad_type: ad_type::WIN2K_PAC,
            ad_data: pac_bytes,
        }]),
    }];
    let (ticket, session_key) = ap::mint_ticket_with_pac(
        &MintRequest {
            service_key: &sk,
            client: &client,
            session_enctype: Enctype::Aes256CtsHmacSha384192,
            authtime: now,
            endtime: now + 3600,
            flags: 0,
            authorization_data: Some(ad),
        },
        kdc,
    )
    .unwrap();
    let cred = Credential {
        client: client.clone(),
        server: sk.principal.clone(),
        key: ap::key_to_asn1(&session_key),
        authtime: now as u32,
        starttime: now as u32,
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
    let target = Name::import(b"test@localhost", NameType::HostbasedService, None).unwrap();
    let opts = InitOptions {
        req_flags: ctx_flags::MUTUAL,
        channel_bindings: None,
    };
    (
        SecurityContext::initiate(&ic, &target, &opts).unwrap().1,
        sk,
    )
}

#[test]
fn resource_groups_extra_sids_and_raw_claims_from_a_windows_shaped_pac() {
    let now = 1_800_000_000;
    let domain: Sid = "S-1-5-21-1-2-3".parse().unwrap();
    let resource: Sid = "S-1-5-21-7-8-9".parse().unwrap();
    let res = group_attributes::RESOURCE | 7;
    let li = encode_logon_info(&Kvi {
        names: [
            Some("alice"),
            None, // FullName: a null pointer reads as empty
            Some(""),
            None,
            None,
            None,
            Some("DC01"),
            Some("CORP"),
        ],
        user_id: 1103,
        groups: vec![(513, 7), (1104, 7)],
        user_flags: pac::user_flags::LOGON_EXTRA_SIDS | pac::user_flags::LOGON_RESOURCE_GROUPS,
        domain: Some(domain),
        extra: vec![
            ("S-1-18-1".parse().unwrap(), 7),
            ("S-1-5-21-4-5-6-1200".parse().unwrap(), res),
        ],
        resource_domain: Some(resource),
        resource_groups: vec![(1500, res), (1501, res)],
    });
    let claims = b"opaque claims blob".to_vec();
    let ci = client_info("alice", now);
    let kdc = Key::random(Enctype::Aes256CtsHmacSha196);
    let (tok, sk) = minted_token(
        &[
            (bt::LOGON_INFO, &li),
            (bt::CLIENT_INFO, &ci),
            (bt::CLIENT_CLAIMS_INFO, &claims),
        ],
        &kdc,
        now,
    );
    let cred = AcceptorCredential::from_keys(None, vec![sk]);
    cred.clock.set_fixed(Some(now));
    cred.set_pac_kdc_keys(vec![kdc]);
    let ctx = accept(&cred, &tok).unwrap();
    let p = ctx.pac_info().unwrap();
    assert_eq!(p.verified(), ALL4);
    assert_eq!(
        p.signature(bt::SERVER_CHECKSUM).unwrap().signature_type(),
        20
    );
    let li = p.logon_info().unwrap();
    assert_eq!(
        (
            li.effective_name(),
            li.full_name(),
            li.logon_server(),
            li.logon_domain_name()
        ),
        ("alice".into(), String::new(), "DC01".into(), "CORP".into())
    );
    let got: Vec<(String, u32, GroupSource)> = p
        .groups()
        .iter()
        .map(|g| (g.sid.to_string(), g.attributes, g.source))
        .collect();
    assert_eq!(
        got,
        [
            ("S-1-5-21-1-2-3-513".to_string(), 7, GroupSource::GroupIds),
            ("S-1-5-21-1-2-3-1104".into(), 7, GroupSource::GroupIds),
            ("S-1-18-1".into(), 7, GroupSource::ExtraSids),
            ("S-1-5-21-4-5-6-1200".into(), res, GroupSource::ExtraSids),
            (
                "S-1-5-21-7-8-9-1500".into(),
                res,
                GroupSource::ResourceGroups
            ),
            (
                "S-1-5-21-7-8-9-1501".into(),
                res,
                GroupSource::ResourceGroups
            ),
        ]
    );
    assert_eq!(p.user_sid().unwrap().to_string(), "S-1-5-21-1-2-3-1103");
    assert_eq!(p.buffer(bt::CLIENT_CLAIMS_INFO), Some(&claims[..]));
}

#[test]
fn hostile_logon_info_is_refused_before_and_after_signing() {
    // Every truncation of the NDR object, and counts that lie, with valid signatures:
    // the content is decoded on first use, so accept succeeds, but the PAC is refused as
    // malformed when read (and at accept when the acceptor requires a PAC); never a panic.
    let now = 1_800_000_000;
    let kvi = |groups: Vec<(u32, u32)>| Kvi {
        names: [
            Some("a"),
            Some("b"),
            None,
            None,
            None,
            None,
            Some("S"),
            Some("D"),
        ],
        user_id: 1,
        groups,
        user_flags: 0,
        domain: Some("S-1-5-21-1-2-3".parse().unwrap()),
        extra: vec![("S-1-1-0".parse().unwrap(), 7)],
        resource_domain: None,
        resource_groups: vec![],
    };
    let good = encode_logon_info(&kvi(vec![(513, 7)]));
    let ci = client_info("alice", now);
    let kdc = Key::random(Enctype::Aes256CtsHmacSha196);
    for cut in (20..good.len()).step_by(3) {
        let mut li = good.clone();
        li.truncate(cut);
        // The object length now overstates what is there.
        let (tok, sk) = minted_token(&[(bt::LOGON_INFO, &li), (bt::CLIENT_INFO, &ci)], &kdc, now);
        let cred = AcceptorCredential::from_keys(None, vec![sk]);
        cred.clock.set_fixed(Some(now));
        let ctx = accept(&cred, &tok).unwrap();
        assert!(ctx.pac_info().is_none(), "cut at {cut}");
        let e = ctx.pac_failure().unwrap();
        assert_eq!(e.minor, minor::EINVAL, "cut at {cut}: {e}");
        assert!(e.detail.contains("LOGON_INFO"), "cut at {cut}: {e}");
        assert_eq!(ctx.pac_result().unwrap_err().minor, minor::EINVAL);
        assert!(ctx.pac().is_some(), "the raw bytes stay available");
        cred.set_pac_policy(PacPolicy::Require);
        let e = accept(&cred, &tok).unwrap_err();
        assert_eq!(e.minor, minor::EINVAL, "cut at {cut}, Require: {e}");
    }
    // GroupCount says 1000 while the array holds one.
    let mut li = good.clone();
    let at = 16 + 4 + 48 + 48 + 4 + 8; // GroupCount
    li[at..at + 4].copy_from_slice(&1000u32.to_le_bytes());
    let p = pac::build(
        &[(bt::LOGON_INFO, &li), (bt::CLIENT_INFO, &ci)],
        &kdc,
        &kdc,
        false,
    );
    let e = Pac::parse(&p).unwrap_err();
    assert_eq!(e.minor, minor::EINVAL);
    assert!(e.detail.contains("GroupIds"), "{e}");
    assert!(Pac::parse(&pac::build(
        &[(bt::LOGON_INFO, &good), (bt::CLIENT_INFO, &ci)],
        &kdc,
        &kdc,
        false
    ))
    .is_ok());
}

#[test]
fn framing_errors_come_before_signature_errors() {
    // Buffer 0 is a SERVER_CHECKSUM too short for its SignatureType, buffer 1 overlaps it:
    // the framing (every buffer's place: all that MIT's krb5_pac_parse checks) is checked
    // for the whole table first, so the overlap is what is reported.
    let mut b = Vec::new();
    b.extend_from_slice(&2u32.to_le_bytes()); // cBuffers
    b.extend_from_slice(&0u32.to_le_bytes()); // Version
    for (ty, size) in [(6u32, 2u32), (1, 8)] {
        b.extend_from_slice(&ty.to_le_bytes());
        b.extend_from_slice(&size.to_le_bytes());
        b.extend_from_slice(&40u64.to_le_bytes());
    }
    b.resize(48, 0);
    let e = Pac::parse(&b).unwrap_err();
    assert_eq!(e.minor, minor::EINVAL);
    assert!(e.detail.contains("overlap"), "{e}");
    // Without the overlap, the short signature buffer is the error.
    b[8 + 16] = 1;
    b[8 + 16 + 4..8 + 16 + 8].copy_from_slice(&0u32.to_le_bytes());
    b[8 + 16 + 8..8 + 16 + 16].copy_from_slice(&48u64.to_le_bytes());
    let e = Pac::parse(&b).unwrap_err();
    assert!(e.detail.contains("SERVER_CHECKSUM: 2 bytes"), "{e}");
}
