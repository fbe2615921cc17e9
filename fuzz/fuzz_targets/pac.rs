//! The PAC (MS-PAC): the input is the PAC's bytes (the ad-data of AD-WIN2K-PAC).
//! 1. `Pac::parse` (framing, NDR LOGON_INFO, CLIENT_INFO, UPN_DNS_INFO, delegation info,
//!    attributes, requestor SID, signature buffers) and every accessor on the result;
//! 2. the acceptor's PAC step (`pac::check_ticket`): the input put into the real ticket of
//!    the Samba AD capture (tests/data/samba-ad/alice.token, decrypted with its service
//!    key) and verified with the service key and the krbtgt key, so that the captured PAC
//!    passes all four signatures and mutations reach every check (zeroing, the ticket
//!    signature's re-encoding, CLIENT_INFO); unverified PACs are kept and their content
//!    parsed too (AllowUnverified).
#![no_main]

use krbap::ap::{self, ServiceKey};
use krbap::asn1::{ApReq, Der, EncTicketPart};
use krbap::crypto::{Enctype, Key};
use krbap::gss::token::unframe;
use krbap::keytab::Keytab;
use krbap::pac::{self, Pac, PacCheck, PacPolicy};
use krbap::principal::Principal;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

const TOKEN: &[u8] = include_bytes!("../../tests/data/samba-ad/alice.token");
const SERVICE_KEYTAB: &[u8] = include_bytes!("../../tests/data/samba-ad/svc.keytab");
const KRBTGT_KEYTAB: &[u8] = include_bytes!("../../tests/data/samba-ad/krbtgt.keytab");

struct State {
    ticket: EncTicketPart,
    server: Principal,
    service_key: Key,
    kdc_keys: Vec<Key>,
}

fn keys(keytab: &[u8]) -> Vec<ServiceKey> {
    Keytab::parse(keytab, "fixture")
        .expect("fixture keytab")
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

fn state() -> &'static State {
    static S: OnceLock<State> = OnceLock::new();
    S.get_or_init(|| {
        let (_, inner) = unframe(TOKEN).expect("fixture token");
        let req = ApReq::from_der(inner).expect("fixture AP-REQ");
        let svc = keys(SERVICE_KEYTAB);
        let (ticket, _, service_key) =
            ap::decrypt_ticket_with(&req.ticket, &svc).expect("fixture ticket decrypts");
        State {
            ticket,
            server: Principal {
                realm: req.ticket.realm.clone(),
                name: req.ticket.sname.clone(),
            },
            service_key: service_key.clone(),
            kdc_keys: keys(KRBTGT_KEYTAB).into_iter().map(|k| k.key).collect(),
        }
    })
}

fn exercise(p: &Pac) {
    let _ = (p.verified(), p.failure().map(|e| e.to_string()));
    for b in p.buffers() {
        let _ = p.buffer_bytes(b).len();
        let _ = p.buffer(b.buffer_type);
        if let Some(s) = p.signature(b.buffer_type) {
            let _ = (s.signature_type(), s.signature().len(), s.rodc_identifier());
        }
    }
    if let Some(li) = p.logon_info() {
        let _ = (
            li.effective_name(),
            li.full_name(),
            li.logon_script(),
            li.profile_path(),
            li.home_directory(),
            li.home_directory_drive(),
            li.logon_server(),
            li.logon_domain_name(),
            li.logon_time().to_string(),
            li.user_sid().map(|s| s.to_string()),
            li.primary_group_sid(),
        );
        let _ = li.group_ids().count() + li.extra_sids().count() + li.resource_group_ids().count();
    }
    for g in p.groups() {
        let _ = g.sid.to_string();
    }
    if let Some(c) = p.client_info() {
        let _ = (c.name(), c.client_id().to_string());
    }
    if let Some(u) = p.upn_dns_info() {
        let _ = (u.upn(), u.dns_domain(), u.sam_name(), u.sid());
    }
    if let Some(d) = p.delegation_info() {
        let _ = (d.proxy_target(), d.transited_services());
    }
    let _ = (p.attributes_info(), p.requestor_sid());
}

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = Pac::parse(data) {
        exercise(&p);
    }
    let s = state();
    let mut ticket = s.ticket.clone();
    if pac::replace_in_ticket(&mut ticket, data.to_vec()).is_err() {
        return;
    }
    for kdc_keys in [&[][..], &s.kdc_keys[..]] {
        let check = PacCheck {
            policy: PacPolicy::AllowUnverified,
            kdc_keys,
        };
        if let Ok(t) = pac::check_ticket(&ticket, &s.server, &s.service_key, &check) {
            if let Some(p) = &t.pac {
                exercise(p);
            }
        }
    }
});
