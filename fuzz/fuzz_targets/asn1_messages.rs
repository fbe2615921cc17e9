//! The RFC 4120 §5 messages krbap decodes, chosen by the first input byte: AP-REQ,
//! AP-REP, Ticket, EncTicketPart, Authenticator, EncAPRepPart, KRB-CRED, EncKrbCredPart,
//! AuthorizationData, the RFC 4537 EtypeList and the 0x8003 checksum (RFC 4121
//! §4.1.1). Whatever decodes must re-encode to DER that decodes to the same value; the
//! acceptor's borrowed AP-REQ and its client-comparing Authenticator decoders must agree
//! with the owned ones.
#![no_main]

use krbap::asn1::{
    decode_authorization_data, decode_etype_list, encode_authorization_data, encode_etype_list,
    ApRep, ApReq, ApReqRef, Authenticator, Der, EncApRepPart, EncKrbCredPart, EncTicketPart,
    KrbCred, Ticket,
};
use krbap::gss::checksum::GssChecksum;
use krbap::principal::PrincipalName;
use libfuzzer_sys::fuzz_target;

fn round_trip<T: Der + PartialEq + std::fmt::Debug>(der: &[u8]) {
    if let Ok(v) = T::from_der(der) {
        let again = T::from_der(&v.to_der()).expect("re-encoded value decodes");
        assert!(again == v, "round trip of {}", std::any::type_name::<T>());
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, der)) = data.split_first() else {
        return;
    };
    match which % 11 {
        0 => {
            round_trip::<ApReq>(der);
            if let Some(r) = ApReqRef::decode(der) {
                let owned = ApReq::from_der(der).expect("the borrowed decoder took it");
                assert_eq!(r, ApReqRef::of(&owned), "borrowed AP-REQ");
            }
        }
        1 => round_trip::<ApRep>(der),
        2 => round_trip::<Ticket>(der),
        3 => {
            round_trip::<EncTicketPart>(der);
            let owned = EncTicketPart::from_der(der);
            let apart = EncTicketPart::from_der_key_apart(der, |t, v| (t, v.to_vec()));
            match (owned, apart) {
                (Ok(mut a), Ok((b, key))) => {
                    let value = std::mem::take(&mut a.key.keyvalue);
                    assert_eq!(key, (a.key.keytype, value.to_vec()), "EncTicketPart key");
                    assert_eq!(a, b, "EncTicketPart, key apart");
                }
                (Err(e), Err(f)) => assert_eq!(e, f),
                (a, b) => panic!("decoders differ: {a:?} / {b:?}"),
            }
        }
        4 => {
            round_trip::<Authenticator>(der);
            let owned = Authenticator::from_der(der);
            let other = PrincipalName::default();
            let clients: Vec<(Vec<u8>, &PrincipalName)> = match &owned {
                Ok(a) => vec![(a.crealm.clone(), &a.cname), (b"X".to_vec(), &other)],
                Err(_) => vec![(Vec::new(), &other)],
            };
            for (realm, name) in clients {
                let got = Authenticator::from_der_for_client(der, (&realm, name), |k| {
                    k.map(|(keytype, value)| (keytype, value.to_vec()))
                });
                match (&owned, got) {
                    (Ok(a), Ok((b, same, subkey))) => {
                        assert_eq!(same, a.crealm == realm && a.cname.same_components(name));
                        let mut a = a.clone();
                        a.crealm = Vec::new();
                        a.cname = PrincipalName::default();
                        let want = a.subkey.take().map(|k| (k.keytype, k.keyvalue.to_vec()));
                        assert_eq!(subkey, want, "Authenticator subkey for a client");
                        assert_eq!(a, b, "Authenticator for a client");
                    }
                    (Err(e), Err(f)) => assert_eq!(e, &f),
                    (a, b) => panic!("decoders differ: {a:?} / {b:?}"),
                }
            }
        }
        5 => round_trip::<EncApRepPart>(der),
        6 => round_trip::<KrbCred>(der),
        7 => round_trip::<EncKrbCredPart>(der),
        8 => {
            if let Ok(ad) = decode_authorization_data(der) {
                let again = decode_authorization_data(&encode_authorization_data(&ad));
                assert_eq!(again.ok(), Some(ad), "AuthorizationData round trip");
            }
        }
        9 => {
            if let Ok(list) = decode_etype_list(der) {
                let again = decode_etype_list(&encode_etype_list(&list));
                assert_eq!(again.ok(), Some(list), "EtypeList round trip");
            }
        }
        _ => {
            if let Ok(c) = GssChecksum::decode(der) {
                let again = GssChecksum::decode(&c.encode()).expect("re-encoded checksum decodes");
                assert!(again == c, "0x8003 checksum round trip");
            }
        }
    }
});
