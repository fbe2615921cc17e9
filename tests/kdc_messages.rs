//! KDC messages against bytes MIT krb5 1.20 produced (tests/data/kdc: kinit and kvno
//! through a logging UDP relay to a realm.sh KDC; `ccache` is the cache kinit/kvno wrote,
//! alice's password is alice-Passw0rd), and against rasn-kerberos as a second decoder.

use krbap::asn1::kdc::{
    decode_etype_info2, decode_method_data, encode_etype_info2, encode_method_data, pa_type,
    req_body_bytes, EncKdcRepPart, KdcRep, KdcReq, PaEncTsEnc,
};
use krbap::asn1::{ApReq, Authenticator, Der, EncryptedData, KrbError};
use krbap::ccache::Ccache;
use krbap::crypto::{usage, Enctype, Key};
use std::path::{Path, PathBuf};

fn data(f: &str) -> Vec<u8> {
    std::fs::read(path(f)).unwrap()
}

fn path(f: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/kdc")
        .join(f)
}

fn alice_key(etype: Enctype) -> Key {
    Key::from_password(etype, b"alice-Passw0rd", b"TEST.LOCALalice", None).unwrap()
}

#[test]
fn mit_as_req_round_trips_byte_for_byte() {
    for f in ["as-req-1.der", "as-req-2.der", "tgs-req.der"] {
        let bytes = data(f);
        let req = KdcReq::from_der(&bytes).unwrap();
        assert_eq!(req.to_der(), bytes, "{f}");
        // The req-body as sent is exactly what our encoder produces for it.
        assert_eq!(
            req_body_bytes(&bytes).unwrap(),
            &req.req_body.to_der()[..],
            "{f}"
        );
        assert_eq!(req.to_der_with_body(req_body_bytes(&bytes).unwrap()), bytes);
    }
    let req = KdcReq::from_der(&data("as-req-1.der")).unwrap();
    assert_eq!(req.msg_type, 10);
    let b = &req.req_body;
    assert_eq!(b.realm, b"TEST.LOCAL");
    assert_eq!(
        b.cname.as_ref().unwrap().components,
        vec![b"alice".to_vec()]
    );
    assert_eq!(
        b.sname.as_ref().unwrap().components,
        vec![b"krbtgt".to_vec(), b"TEST.LOCAL".to_vec()]
    );
    assert!(b.etype.starts_with(&[18, 17, 20, 19]), "{:?}", b.etype);
}

#[test]
fn mit_preauth_required_and_encrypted_timestamp() {
    let err = KrbError::from_der(&data("preauth-required.der")).unwrap();
    assert_eq!(err.error_code, 25);
    let methods = decode_method_data(err.e_data.as_ref().unwrap()).unwrap();
    assert_eq!(encode_method_data(&methods), *err.e_data.as_ref().unwrap());
    assert!(methods
        .iter()
        .any(|m| m.padata_type == pa_type::ENC_TIMESTAMP));
    let info2 = methods
        .iter()
        .find(|m| m.padata_type == pa_type::ETYPE_INFO2)
        .unwrap();
    let entries = decode_etype_info2(&info2.padata_value).unwrap();
    assert_eq!(encode_etype_info2(&entries), info2.padata_value);
    assert_eq!(entries[0].etype, 18);
    assert_eq!(entries[0].salt.as_deref(), Some(&b"TEST.LOCALalice"[..]));

    // The second AS-REQ carries PA-ENC-TIMESTAMP under alice's aes256 key (usage 1).
    let req = KdcReq::from_der(&data("as-req-2.der")).unwrap();
    let pa = req
        .padata
        .as_ref()
        .unwrap()
        .iter()
        .find(|p| p.padata_type == pa_type::ENC_TIMESTAMP)
        .unwrap();
    let enc = EncryptedData::from_der(&pa.padata_value).unwrap();
    assert_eq!(enc.to_der(), pa.padata_value);
    let plain = alice_key(Enctype::Aes256CtsHmacSha196)
        .decrypt(usage::AS_REQ_PA_ENC_TIMESTAMP, &enc.cipher)
        .unwrap();
    let ts = PaEncTsEnc::from_der(&plain).unwrap();
    assert_eq!(ts.to_der(), plain);
    assert!(ts.patimestamp > 1_700_000_000 && ts.pausec.unwrap() < 1_000_000);
}

#[test]
fn mit_as_rep_decrypts_and_matches_the_cache() {
    let bytes = data("as-rep.der");
    let rep = KdcRep::from_der(&bytes).unwrap();
    assert_eq!(rep.msg_type, 11);
    assert_eq!(rep.to_der(), bytes);
    let key = alice_key(Enctype::from_number(rep.enc_part.etype).unwrap());
    let plain = key
        .decrypt(usage::AS_REP_ENCPART, &rep.enc_part.cipher)
        .unwrap();
    let enc = EncKdcRepPart::from_der(&plain).unwrap();
    assert_eq!(enc.to_der(), plain);
    let req = KdcReq::from_der(&data("as-req-2.der")).unwrap();
    assert_eq!(enc.nonce, req.req_body.nonce);
    assert_eq!(enc.srealm, b"TEST.LOCAL");
    // The ticket bytes are the ones MIT's kinit stored.
    let cc = Ccache::load(&path("ccache")).unwrap();
    let tgt = cc
        .credentials
        .iter()
        .find(|c| c.server.to_string() == "krbtgt/TEST.LOCAL@TEST.LOCAL")
        .unwrap();
    assert_eq!(KdcRep::ticket_bytes(&bytes).unwrap(), &tgt.ticket[..]);
    assert_eq!(enc.key, tgt.key);
    assert_eq!(enc.flags, tgt.ticket_flags);
    assert_eq!(enc.endtime, i64::from(tgt.endtime));
}

#[test]
fn mit_tgs_req_checksum_over_the_req_body() {
    let cc = Ccache::load(&path("ccache")).unwrap();
    let find = |s: &str| {
        cc.credentials
            .iter()
            .find(|c| c.server.to_string() == s)
            .unwrap()
    };
    let tgt = find("krbtgt/TEST.LOCAL@TEST.LOCAL");
    let session = krbap::ap::key_from_asn1(&tgt.key).unwrap();
    let bytes = data("tgs-req.der");
    let req = KdcReq::from_der(&bytes).unwrap();
    let pa = &req.padata.as_ref().unwrap()[0];
    assert_eq!(pa.padata_type, pa_type::TGS_REQ);
    let ap = ApReq::from_der(&pa.padata_value).unwrap();
    // MIT's PA-TGS-REQ carries the TGT byte for byte, as our builder does.
    assert_eq!(
        krbap::asn1::kdc::ap_req_with_ticket_der(ap.ap_options, &tgt.ticket, &ap.authenticator),
        pa.padata_value
    );
    let auth = Authenticator::from_der(
        &session
            .decrypt(usage::TGS_REQ_AUTH, &ap.authenticator.cipher)
            .unwrap(),
    )
    .unwrap();
    let ck = auth.cksum.unwrap();
    // RFC 4120 §7.2.2 / MIT: the session key's checksum type, usage 6, over the req-body.
    assert_eq!(ck.cksumtype, session.enctype().checksum_type());
    session
        .verify_checksum(
            usage::TGS_REQ_AUTH_CKSUM,
            req_body_bytes(&bytes).unwrap(),
            &ck.checksum,
        )
        .unwrap();
    assert!(auth.subkey.is_some());
    // MIT also sent PA-FX-FAST (RFC 6113 TGT armor), so its reply key is FAST's: only the
    // encoding of the reply is checked here.
    assert!(req
        .padata
        .as_ref()
        .unwrap()
        .iter()
        .any(|p| p.padata_type == pa_type::FX_FAST));
    let rep_bytes = data("tgs-rep.der");
    let rep = KdcRep::from_der(&rep_bytes).unwrap();
    assert_eq!(rep.to_der(), rep_bytes);
    assert_eq!(rep.msg_type, 13);
    assert_eq!(
        KdcRep::ticket_bytes(&rep_bytes).unwrap(),
        &rep.ticket.to_der()[..]
    );
    let svc = find("test-aes256-sha384/localhost@TEST.LOCAL");
    assert_eq!(KdcRep::ticket_bytes(&rep_bytes).unwrap(), &svc.ticket[..]);
}

#[test]
fn rasn_kerberos_reads_what_we_encode() {
    let req = KdcReq::from_der(&data("tgs-req.der")).unwrap();
    let ours = req.to_der();
    let theirs: rasn_kerberos::TgsReq = rasn::der::decode(&ours).unwrap();
    assert_eq!(theirs.0.req_body.nonce, req.req_body.nonce);
    assert_eq!(theirs.0.req_body.etype, req.req_body.etype);
    assert_eq!(theirs.0.padata.unwrap()[0].r#type, 1);
    let rep = KdcRep::from_der(&data("as-rep.der")).unwrap();
    let theirs: rasn_kerberos::AsRep = rasn::der::decode(&rep.to_der()).unwrap();
    assert_eq!(theirs.0.enc_part.cipher.to_vec(), rep.enc_part.cipher);
}

#[test]
fn hostile_der_never_panics() {
    for f in [
        "as-rep.der",
        "tgs-rep.der",
        "tgs-req.der",
        "preauth-required.der",
    ] {
        let bytes = data(f);
        for n in 0..bytes.len() {
            assert!(KdcRep::from_der(&bytes[..n]).is_err());
            assert!(KdcReq::from_der(&bytes[..n]).is_err());
            assert!(KdcRep::ticket_bytes(&bytes[..n]).is_err());
            assert!(req_body_bytes(&bytes[..n]).is_err());
        }
        let mut flipped = bytes.clone();
        for i in 0..flipped.len() {
            flipped[i] ^= 0xff;
            let _ = KdcRep::from_der(&flipped);
            let _ = KdcReq::from_der(&flipped);
            let _ = EncKdcRepPart::from_der(&flipped);
            let _ = decode_method_data(&flipped);
            flipped[i] ^= 0xff;
        }
    }
    // Deep nesting and a huge claimed length are refused by the pre-validator.
    let mut deep = vec![0x6d, 0x80 + 2, 0x0f, 0xa0];
    deep.extend(std::iter::repeat_n([0x30, 0x80], 5000).flatten());
    assert!(KdcRep::from_der(&deep).is_err());
    assert!(KdcRep::from_der(&[0x6d, 0x84, 0xff, 0xff, 0xff, 0xff, 0x30]).is_err());
    // An AP-REQ is not a KDC reply: Invalid message type.
    let e = KdcRep::from_der(&ApReq::default().to_der()).unwrap_err();
    assert_eq!(e.minor, krbap::error::minor::AP_ERR_MSG_TYPE);
}
