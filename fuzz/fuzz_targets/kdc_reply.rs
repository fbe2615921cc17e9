//! KDC replies as the KDC client (src/kdc) receives them (RFC 4120 §5.4.2, §5.9.1):
//! byte 0 picks the form of the rest:
//! - 0: a reply from the network: KRB-ERROR (with its METHOD-DATA / ETYPE-INFO2 e-data,
//!   as the AS exchange reads it) or AS-REP/TGS-REP, whose enc-part is then decrypted with
//!   alice's long-term key (usage 3, the path of an AS exchange), decoded and run through
//!   the client's reply checks (nonce, server names, times, enctype);
//! - 1: the decrypted enc-part (EncASRepPart / EncTGSRepPart), for the code after
//!   decryption;
//! - 2: METHOD-DATA, then each ETYPE-INFO2 in it.
//!
//! Whatever decodes must re-encode to DER that decodes to the same value.
#![no_main]

use krbap::asn1::kdc::{
    decode_etype_info2, decode_method_data, encode_etype_info2, encode_method_data, pa_type,
    EncKdcRepPart, KdcRep,
};
use krbap::asn1::{Der, KrbError};
use krbap::crypto::{usage, Enctype, Key};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// alice's keys, from the password and salt of the captured realm (tests/data/kdc).
static ALICE: OnceLock<Vec<Key>> = OnceLock::new();

fn method_data(bytes: &[u8]) {
    let Ok(pa) = decode_method_data(bytes) else {
        return;
    };
    let again = decode_method_data(&encode_method_data(&pa));
    assert_eq!(again.ok().as_ref(), Some(&pa), "METHOD-DATA round trip");
    for p in pa.iter().filter(|p| p.padata_type == pa_type::ETYPE_INFO2) {
        if let Ok(info) = decode_etype_info2(&p.padata_value) {
            let again = decode_etype_info2(&encode_etype_info2(&info));
            assert_eq!(again.ok().as_ref(), Some(&info), "ETYPE-INFO2 round trip");
        }
    }
}

fn enc_part(plain: &[u8]) {
    if let Ok(enc) = EncKdcRepPart::from_der(plain) {
        let again = EncKdcRepPart::from_der(&enc.to_der()).expect("re-encoded enc-part decodes");
        assert!(again == enc, "EncKdcRepPart round trip");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&form, rest)) = data.split_first() else {
        return;
    };
    match form % 3 {
        0 if rest.first() == Some(&0x7e) => {
            if let Ok(e) = KrbError::from_der(rest) {
                let _ = krbap::kdc::krb_error_to_error(&e);
                if let Some(e_data) = &e.e_data {
                    method_data(e_data);
                }
            }
        }
        0 => {
            let _ = KdcRep::ticket_bytes(rest);
            let Ok(rep) = KdcRep::from_der(rest) else {
                return;
            };
            let again = KdcRep::from_der(&rep.to_der()).expect("re-encoded KDC-REP decodes");
            assert!(again == rep, "KDC-REP round trip");
            let keys = ALICE.get_or_init(|| {
                Enctype::ALL
                    .iter()
                    .filter_map(|&e| {
                        Key::from_password(e, b"alice-Passw0rd", b"TEST.LOCALalice", None).ok()
                    })
                    .collect()
            });
            let key = keys
                .iter()
                .find(|k| k.enctype().number() == rep.enc_part.etype);
            if let Some(plain) =
                key.and_then(|k| k.decrypt(usage::AS_REP_ENCPART, &rep.enc_part.cipher).ok())
            {
                enc_part(&plain);
                // The reply checks, with the reply's own nonce (so that they go past it) and
                // an end time taken from the input.
                if let Ok(enc) = EncKdcRepPart::from_der(&plain) {
                    let till = enc.endtime.saturating_mul(i64::from(data.len() as u32 % 3));
                    let checked =
                        krbap::kdc::fuzz_credential_from_reply(rest, &plain, enc.nonce, till);
                    if let Ok(cred) = checked {
                        assert!(cred.endtime > 0 || enc.endtime <= 0, "credential end time");
                    }
                }
            }
        }
        1 => enc_part(rest),
        _ => method_data(rest),
    }
});
