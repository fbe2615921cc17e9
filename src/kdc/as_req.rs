//! The AS exchange (RFC 4120 §3.1) with long-term keys from a keytab or a password, and
//! encrypted-timestamp pre-authentication (RFC 4120 §5.2.7.2) when the KDC asks for it.

use super::{
    credential_from_reply, krb_error_to_error, krbtgt, modified, new_nonce, AsOptions, InitialKeys,
    KdcClient, Reply,
};
use crate::asn1::kdc::{
    decode_etype_info, decode_etype_info2, decode_method_data, kdc_options, pa_type, EncKdcRepPart,
    EtypeInfo2Entry, KdcReq, KdcReqBody, PaData, PaEncTsEnc,
};
use crate::asn1::{msg_type, Der, EncryptedData, KrbError};
use crate::ccache::Credential;
use crate::crypto::{usage, Enctype, Key};
use crate::error::{minor, Error, Result};
use crate::principal::Principal;

/// Largest PBKDF2 iteration count accepted from a KDC's s2kparams (MIT refuses more
/// than 2^24 as well): a hostile KDC must not make the client spin for minutes.
const MAX_S2K_ITERATIONS: u32 = 1 << 24;

/// The RFC 4120 §4 default salt: the realm followed by each name component.
fn default_salt(p: &Principal) -> Vec<u8> {
    let mut salt = p.realm.clone();
    for c in &p.name.components {
        salt.extend_from_slice(c);
    }
    salt
}

/// The salt and s2kparams the KDC named for `etype`, if any.
fn info_for(info: &[EtypeInfo2Entry], etype: Enctype) -> Option<&EtypeInfo2Entry> {
    info.iter().find(|e| e.etype == etype.number())
}

/// The client's long-term key of `etype` (RFC 3961 string-to-key for a password).
fn long_term_key(
    principal: &Principal,
    keys: &InitialKeys,
    etype: Enctype,
    kvno: Option<u32>,
    info: Option<&EtypeInfo2Entry>,
) -> Result<Key> {
    match keys {
        InitialKeys::Keytab(kt) => {
            let entry = kt
                .get(principal, kvno, Some(etype.number()))
                .or_else(|_| kt.get(principal, None, Some(etype.number())))?;
            Ok(Key::new(etype, &entry.key)?)
        }
        InitialKeys::Password(pw) => {
            let salt = info
                .and_then(|i| i.salt.clone())
                .unwrap_or_else(|| default_salt(principal));
            let iterations = match info.and_then(|i| i.s2kparams.as_deref()) {
                None => None,
                Some(p) => {
                    // RFC 3962 §4 / RFC 8009 §4: a 4-byte big-endian iteration count.
                    let bytes: [u8; 4] = p.try_into().map_err(|_| {
                        Error::minor(minor::ERR_GENERIC, "s2kparams is not 4 bytes")
                    })?;
                    let n = u32::from_be_bytes(bytes);
                    if n == 0 || n > MAX_S2K_ITERATIONS {
                        return Err(Error::minor(
                            minor::ERR_GENERIC,
                            format!("s2kparams iteration count {n} refused"),
                        ));
                    }
                    Some(n)
                }
            };
            Ok(Key::from_password(etype, pw.as_bytes(), &salt, iterations)?)
        }
    }
}

/// ETYPE-INFO2 (else ETYPE-INFO) from a list of PA-DATA.
fn etype_info(padata: &[PaData]) -> Result<Vec<EtypeInfo2Entry>> {
    if let Some(p) = padata
        .iter()
        .find(|p| p.padata_type == pa_type::ETYPE_INFO2)
    {
        return Ok(decode_etype_info2(&p.padata_value)?);
    }
    if let Some(p) = padata.iter().find(|p| p.padata_type == pa_type::ETYPE_INFO) {
        return Ok(decode_etype_info(&p.padata_value)?);
    }
    Ok(Vec::new())
}

pub(super) fn get_initial_credentials(
    client: &KdcClient,
    principal: &Principal,
    keys: &InitialKeys,
    options: &AsOptions,
    now: i64,
) -> Result<Credential> {
    let profile = client.profile();
    let realm = principal.realm.clone();
    let service = options
        .service
        .clone()
        .unwrap_or_else(|| krbtgt(&realm, &realm));
    let mut etypes = match &options.enctypes {
        Some(e) => e.clone(),
        None => profile.default_tkt_enctypes(),
    };
    if let InitialKeys::Keytab(kt) = keys {
        // Ask only for enctypes we hold a key of (MIT's krb5_get_init_creds_keytab).
        etypes.retain(|e| kt.get(principal, None, Some(e.number())).is_ok());
        if etypes.is_empty() {
            return Err(Error::minor(
                minor::KT_NOTFOUND,
                format!("keytab contains no suitable keys for {principal}"),
            ));
        }
    }
    if etypes.is_empty() {
        return Err(Error::minor(
            minor::CONFIG_ETYPE_NOSUPP,
            "no permitted enctype to request",
        ));
    }
    let lifetime = options
        .lifetime
        .unwrap_or_else(|| profile.ticket_lifetime());
    let till = now + i64::from(lifetime);
    let mut kdc_opts = 0;
    if options.forwardable {
        kdc_opts |= kdc_options::FORWARDABLE;
    }
    let mut padata: Option<Vec<PaData>> = None;
    let mut info: Vec<EtypeInfo2Entry> = Vec::new();
    // First without pre-authentication, then once with PA-ENC-TIMESTAMP if asked.
    for _ in 0..2 {
        let nonce = new_nonce();
        let req = KdcReq {
            msg_type: msg_type::AS_REQ,
            padata: padata.clone(),
            req_body: KdcReqBody {
                kdc_options: kdc_opts,
                cname: Some(principal.name.clone()),
                realm: realm.clone(),
                sname: Some(service.name.clone()),
                till,
                nonce,
                etype: etypes.iter().map(|e| e.number()).collect(),
                ..Default::default()
            },
        };
        match client.exchange_raw(&realm, &req.to_der(), msg_type::AS_REP)? {
            Reply::Error(e)
                if e.error_code == minor::KDC_ERR_PREAUTH_REQUIRED - minor::KRB5_ERR_BASE
                    && padata.is_none() =>
            {
                let (pa, entries) = preauth(principal, keys, &etypes, &e, now)?;
                padata = Some(vec![pa]);
                info = entries;
            }
            Reply::Error(e) => return Err(krb_error_to_error(&e)),
            Reply::Rep(rep, der) => {
                return finish(
                    client, principal, &service, keys, &etypes, &info, rep, &der, nonce, till, now,
                )
            }
        }
    }
    Err(Error::minor(
        minor::GET_IN_TKT_LOOP,
        "the KDC asked for pre-authentication again",
    ))
}

/// PA-ENC-TIMESTAMP for the first enctype of the KDC's ETYPE-INFO2 we can use.
fn preauth(
    principal: &Principal,
    keys: &InitialKeys,
    etypes: &[Enctype],
    err: &KrbError,
    now: i64,
) -> Result<(PaData, Vec<EtypeInfo2Entry>)> {
    let methods = match &err.e_data {
        Some(d) => decode_method_data(d)?,
        None => Vec::new(),
    };
    if !methods
        .iter()
        .any(|m| m.padata_type == pa_type::ENC_TIMESTAMP)
    {
        // Nothing we can do (FAST, PKINIT, OTP...): the KDC's error stands.
        return Err(krb_error_to_error(err));
    }
    let info = etype_info(&methods)?;
    let etype = info
        .iter()
        .find_map(|i| Enctype::from_number(i.etype).filter(|e| etypes.contains(e)))
        .or_else(|| info.is_empty().then(|| etypes[0]))
        .ok_or_else(|| {
            Error::minor(
                minor::KDC_ERR_ETYPE_NOSUPP,
                "the KDC offers no enctype we asked for",
            )
        })?;
    let key = long_term_key(principal, keys, etype, None, info_for(&info, etype))?;
    let mut usec = [0u8; 4];
    crate::crypto::random_bytes(&mut usec);
    let ts = PaEncTsEnc {
        patimestamp: now,
        pausec: Some(u32::from_be_bytes(usec) % 1_000_000),
    };
    let enc = EncryptedData {
        etype: etype.number(),
        kvno: None,
        cipher: key.encrypt(usage::AS_REQ_PA_ENC_TIMESTAMP, &ts.to_der()),
    };
    Ok((
        PaData {
            padata_type: pa_type::ENC_TIMESTAMP,
            padata_value: enc.to_der(),
        },
        info,
    ))
}

#[allow(clippy::too_many_arguments)]
fn finish(
    client: &KdcClient,
    principal: &Principal,
    service: &Principal,
    keys: &InitialKeys,
    etypes: &[Enctype],
    preauth_info: &[EtypeInfo2Entry],
    rep: crate::asn1::kdc::KdcRep,
    der: &[u8],
    nonce: u32,
    till: i64,
    now: i64,
) -> Result<Credential> {
    let etype = Enctype::from_number(rep.enc_part.etype)
        .filter(|e| etypes.contains(e))
        .ok_or_else(|| {
            modified(format!(
                "AS-REP encrypted with enctype {}",
                rep.enc_part.etype
            ))
        })?;
    // The reply's own ETYPE-INFO2 / PW-SALT wins over the one of the pre-auth round.
    let mut info = etype_info(rep.padata.as_deref().unwrap_or(&[]))?;
    if let Some(salt) = rep
        .padata
        .iter()
        .flatten()
        .find(|p| p.padata_type == pa_type::PW_SALT)
    {
        info.push(EtypeInfo2Entry {
            etype: etype.number(),
            salt: Some(salt.padata_value.clone()),
            s2kparams: None,
        });
    }
    let entry = info_for(&info, etype).or_else(|| info_for(preauth_info, etype));
    let key = long_term_key(principal, keys, etype, rep.enc_part.kvno, entry)?;
    let plain = key.decrypt(usage::AS_REP_ENCPART, &rep.enc_part.cipher)?;
    let enc = EncKdcRepPart::from_der(&plain)?;
    // RFC 4120 §3.1.5: the reply must be for what was asked.
    if rep.crealm != principal.realm || !rep.cname.same_components(&principal.name) {
        return Err(modified(format!(
            "reply for client {} instead of {principal}",
            Principal::new(&rep.crealm, rep.cname.clone())
        )));
    }
    if enc.srealm != service.realm || !enc.sname.same_components(&service.name) {
        return Err(modified(format!(
            "reply for server {} instead of {service}",
            Principal::new(&enc.srealm, enc.sname.clone())
        )));
    }
    if !etypes.iter().any(|e| e.number() == enc.key.keytype) {
        return Err(modified(format!(
            "session key enctype {} was not requested",
            enc.key.keytype
        )));
    }
    let profile = client.profile();
    let start = enc.starttime.unwrap_or(enc.authtime);
    if !profile.kdc_timesync() && (start - now).abs() > profile.clock_skew() {
        return Err(Error::minor(
            minor::KDCREP_SKEW,
            format!("KDC time {start} is {}s from ours", start - now),
        ));
    }
    credential_from_reply(&rep, der, enc, nonce, till)
}
