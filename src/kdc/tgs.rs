//! The TGS exchange (RFC 4120 §3.3): PA-TGS-REQ, reply checks, referrals (RFC 6806) and
//! cross-realm krbtgt chains.

use super::{
    credential_from_reply, krbtgt, modified, new_nonce, tgt_realm, KdcClient, TgsOptions,
    TgsResult, MAX_HOPS,
};
use crate::ap::{key_from_asn1, key_to_asn1};
use crate::asn1::kdc::{
    ap_req_with_ticket_der, kdc_options, pa_type, EncKdcRepPart, KdcReq, KdcReqBody, PaData,
};
use crate::asn1::{msg_type, Authenticator, Checksum, Der, EncryptedData, Ticket};
use crate::ccache::Credential;
use crate::crypto::{usage, Enctype, Key};
use crate::error::{minor, Error, Result};
use crate::principal::{Principal, PrincipalName};

/// One TGS request as sent: its bytes, nonce, subkey and requested times.
pub(crate) struct TgsRequest {
    pub der: Vec<u8>,
    pub nonce: u32,
    pub subkey: Key,
    pub till: i64,
}

/// Builds a TGS-REQ for `sname@realm` with `tgt` (RFC 4120 §5.4.1, §7.2.2 of the
/// authenticator checksum): the req-body is encoded once, checksummed with the TGT
/// session key (usage 6, the session enctype's checksum type) and embedded unchanged.
pub(crate) fn build_tgs_req(
    tgt: &Credential,
    realm: &[u8],
    sname: &PrincipalName,
    options: u32,
    etypes: &[Enctype],
    now: i64,
) -> Result<TgsRequest> {
    let session = key_from_asn1(&tgt.key)?;
    // The TGT must be a Ticket; checked here so a bad cache entry fails clearly.
    Ticket::from_der(&tgt.ticket)?;
    let nonce = new_nonce();
    // MIT asks for the TGT's end time when no lifetime is given.
    let till = i64::from(tgt.endtime);
    let body = KdcReqBody {
        kdc_options: options,
        realm: realm.to_vec(),
        sname: Some(sname.clone()),
        till,
        nonce,
        etype: etypes.iter().map(|e| e.number()).collect(),
        ..Default::default()
    };
    let body_der = body.to_der();
    let subkey = Key::random(session.enctype());
    let mut usec_bytes = [0u8; 4];
    crate::crypto::random_bytes(&mut usec_bytes);
    let authenticator = Authenticator {
        crealm: tgt.client.realm.clone(),
        cname: tgt.client.name.clone(),
        cksum: Some(Checksum {
            cksumtype: session.enctype().checksum_type(),
            checksum: session.checksum(usage::TGS_REQ_AUTH_CKSUM, &body_der),
        }),
        cusec: u32::from_be_bytes(usec_bytes) % 1_000_000,
        ctime: now,
        subkey: Some(key_to_asn1(&subkey)),
        seq_number: None,
        authorization_data: None,
    };
    let enc_auth = EncryptedData {
        etype: session.enctype().number(),
        kvno: None,
        cipher: session.encrypt(usage::TGS_REQ_AUTH, &authenticator.to_der()),
    };
    let ap_req = ap_req_with_ticket_der(0, &tgt.ticket, &enc_auth);
    let req = KdcReq {
        msg_type: msg_type::TGS_REQ,
        padata: Some(vec![PaData {
            padata_type: pa_type::TGS_REQ,
            padata_value: ap_req,
        }]),
        req_body: body,
    };
    Ok(TgsRequest {
        der: req.to_der_with_body(&body_der),
        nonce,
        subkey,
        till,
    })
}

/// Decrypts a TGS-REP's enc-part: with the subkey (usage 9), else, as MIT does for KDCs
/// that ignore the subkey, with the TGT session key (usage 8).
fn decrypt_tgs_rep(enc_part: &EncryptedData, subkey: &Key, session: &Key) -> Result<EncKdcRepPart> {
    let mut last = None;
    for (key, u) in [
        (subkey, usage::TGS_REP_ENCPART_SUBKEY),
        (session, usage::TGS_REP_ENCPART_SESSKEY),
    ] {
        if enc_part.etype != key.enctype().number() {
            continue;
        }
        match key.decrypt(u, &enc_part.cipher) {
            Ok(plain) => return Ok(EncKdcRepPart::from_der(&plain)?),
            Err(e) => last = Some(e),
        }
    }
    Err(match last {
        Some(e) => Error::from(e),
        None => Error::minor(
            minor::AP_ERR_BAD_INTEGRITY,
            format!(
                "TGS-REP enc-part enctype {} is not the subkey's",
                enc_part.etype
            ),
        ),
    })
}

/// One TGS exchange with the KDC of `tgt`'s realm.
fn tgs_once(
    client: &KdcClient,
    tgt: &Credential,
    realm: &[u8],
    sname: &PrincipalName,
    options: u32,
    etypes: &[Enctype],
    now: i64,
) -> Result<Credential> {
    let kdc_realm = tgt_realm(tgt)?.to_vec();
    let req = build_tgs_req(tgt, realm, sname, options, etypes, now)?;
    let (rep, rep_der) = client.exchange(&kdc_realm, &req.der, msg_type::TGS_REP)?;
    let session = key_from_asn1(&tgt.key)?;
    let enc = decrypt_tgs_rep(&rep.enc_part, &req.subkey, &session)?;
    // RFC 4120 §3.3.4: the reply is for the TGT's client.
    if rep.crealm != tgt.client.realm || !rep.cname.same_components(&tgt.client.name) {
        return Err(modified(format!(
            "reply for client {} instead of {}",
            Principal::new(&rep.crealm, rep.cname.clone()),
            tgt.client
        )));
    }
    if !etypes.iter().any(|e| e.number() == enc.key.keytype) {
        return Err(modified(format!(
            "session key enctype {} was not requested",
            enc.key.keytype
        )));
    }
    credential_from_reply(&rep, &rep_der, enc, req.nonce, req.till)
}

fn is_krbtgt(name: &PrincipalName) -> bool {
    name.components.len() == 2 && name.components[0] == b"krbtgt"
}

pub(super) fn get_service_ticket(
    client: &KdcClient,
    tgt: &Credential,
    server: &Principal,
    options: &TgsOptions,
    now: i64,
) -> Result<TgsResult> {
    let etypes = match &options.enctypes {
        Some(e) => e.clone(),
        None => client.profile().default_tgs_enctypes(),
    };
    if etypes.is_empty() {
        return Err(Error::minor(
            minor::CONFIG_ETYPE_NOSUPP,
            "no permitted enctype to request",
        ));
    }
    let home = tgt_realm(tgt)?.to_vec();
    // An empty realm is MIT's referral realm: ask the home KDC, which may refer us on.
    let referral = server.realm.is_empty();
    let target_realm = if referral {
        home.clone()
    } else {
        server.realm.clone()
    };
    let mut kdc_opts = 0;
    if options.forwardable {
        kdc_opts |= kdc_options::FORWARDABLE;
    }
    if options.forwarded {
        kdc_opts |= kdc_options::FORWARDED;
    }
    if options.canonicalize || referral {
        kdc_opts |= kdc_options::CANONICALIZE;
    }
    let wants_krbtgt = is_krbtgt(&server.name);
    let mut current = tgt.clone();
    let mut intermediate: Vec<Credential> = Vec::new();
    let mut visited: Vec<Vec<u8>> = vec![home.clone()];
    // Once a KDC has referred us, the service is asked for in the realm referred to.
    let mut referred = false;
    for _ in 0..=MAX_HOPS {
        let kdc_realm = tgt_realm(&current)?.to_vec();
        if kdc_realm == target_realm || referred {
            // Ask this KDC for the service itself (in its realm when following referrals).
            let realm = if referred { &kdc_realm } else { &target_realm };
            let cred = tgs_once(
                client,
                &current,
                realm,
                &server.name,
                kdc_opts,
                &etypes,
                now,
            )?;
            let c = &cred.server.name;
            let is_referral = is_krbtgt(c)
                && c.components[1] != kdc_realm
                && !(wants_krbtgt && c.same_components(&server.name));
            if !is_referral {
                let exact = cred.server.realm == *realm && c.same_components(&server.name);
                if !exact && kdc_opts & kdc_options::CANONICALIZE == 0 {
                    return Err(modified(format!(
                        "asked for {}, the KDC returned {}",
                        Principal::new(realm, server.name.clone()),
                        cred.server
                    )));
                }
                return Ok(TgsResult {
                    ticket: cred,
                    intermediate,
                });
            }
            if kdc_opts & kdc_options::CANONICALIZE == 0 {
                return Err(modified(format!(
                    "referral to {} without CANONICALIZE",
                    cred.server
                )));
            }
            referred = true;
            step(&mut current, &mut intermediate, &mut visited, cred)?;
        } else {
            // Cross-realm: ask for krbtgt/TARGET; the KDC may hand out the next hop of
            // its path instead (RFC 4120 §3.3.1, capaths).
            let want = krbtgt(&target_realm, &kdc_realm);
            let cred = tgs_once(
                client, &current, &kdc_realm, &want.name, kdc_opts, &etypes, now,
            )?;
            if !is_krbtgt(&cred.server.name) || cred.server.realm != kdc_realm {
                return Err(modified(format!(
                    "asked for {want}, the KDC returned {}",
                    cred.server
                )));
            }
            step(&mut current, &mut intermediate, &mut visited, cred)?;
        }
    }
    Err(Error::minor(
        minor::KDCREP_MODIFIED,
        format!("more than {MAX_HOPS} referral or cross-realm hops"),
    ))
}

/// Moves to the next realm's TGT, refusing loops.
fn step(
    current: &mut Credential,
    intermediate: &mut Vec<Credential>,
    visited: &mut Vec<Vec<u8>>,
    next: Credential,
) -> Result<()> {
    let realm = tgt_realm(&next)?.to_vec();
    if visited.contains(&realm) {
        return Err(modified(format!(
            "referral loop: realm {} seen twice",
            String::from_utf8_lossy(&realm)
        )));
    }
    visited.push(realm);
    *current = next.clone();
    intermediate.push(next);
    Ok(())
}
