//! RFC 4120 §5 DER: MIT krb5 1.20 fixtures (wire messages and MIT-encoded plaintexts),
//! round trips, the rasn-kerberos defects we avoid, and hostile input.

use krbap::asn1::*;
use krbap::error::minor;
use krbap::principal::PrincipalName;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

const CASES: &[&str] = &[
    "aes128-sha1",
    "aes128-sha256",
    "aes256-sha1",
    "aes256-sha384",
    "aes256-sha384-default-subkey",
    "deleg",
    "mutual",
    "noconf",
    "nomutual",
];

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

fn capture(case: &str, file: &str) -> Vec<u8> {
    std::fs::read(data_dir().join("mit-capture").join(case).join(file)).unwrap()
}

fn plaintext(case: &str, file: &str) -> Option<Vec<u8>> {
    std::fs::read(data_dir().join("asn1").join(case).join(file)).ok()
}

fn text(case: &str, file: &str) -> String {
    String::from_utf8(capture(case, file)).unwrap()
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// The word after `key` on the first line (after `skip` matches) containing `key`.
fn field_after(txt: &str, key: &str, skip: usize) -> String {
    let line = txt
        .lines()
        .filter(|l| l.contains(key))
        .nth(skip)
        .unwrap_or_else(|| panic!("{key}"));
    let rest = &line[line.find(key).unwrap() + key.len()..];
    rest.split_whitespace().next().unwrap().to_string()
}

/// The hex key at the end of the info.txt line starting with `prefix`.
fn info_key(case: &str, prefix: &str) -> Option<Vec<u8>> {
    let info = text(case, "info.txt");
    let line = info.lines().find(|l| l.starts_with(prefix))?;
    let h = line.rsplit(" = ").next()?;
    Some(hex(h))
}

fn name(nt: i32, comps: &[&str]) -> PrincipalName {
    PrincipalName {
        name_type: nt,
        components: comps.iter().map(|c| c.as_bytes().to_vec()).collect(),
    }
}

fn assert_reencodes<T: Der + std::fmt::Debug + PartialEq>(bytes: &[u8]) -> T {
    let v = T::from_der(bytes).unwrap_or_else(|e| panic!("decode: {e}"));
    assert_eq!(v.to_der(), bytes, "re-encoding differs from MIT's bytes");
    assert_eq!(T::from_der(&v.to_der()).unwrap(), v);
    v
}

// ------------------------------------------------------------ MIT wire messages

#[test]
fn mit_ap_req_decodes_and_reencodes_exactly() {
    for case in CASES {
        let bytes = capture(case, "ap_req.der");
        let req: ApReq = assert_reencodes(&bytes);
        let dec = text(case, "decoded.txt");
        let want_sname = field_after(&dec, " sname ", 0);
        let sname: Vec<&[u8]> = want_sname.split('/').map(str::as_bytes).collect();
        assert_eq!(req.ticket.sname.components, sname, "{case}");
        assert_eq!(req.ticket.sname.name_type, 1);
        assert_eq!(req.ticket.realm, b"TEST.LOCAL");
        assert_eq!(req.ticket.enc_part.kvno, Some(1));
        let etype: i32 = field_after(&dec, "enc-part etype ", 0).parse().unwrap();
        assert_eq!(req.ticket.enc_part.etype, etype, "{case}");
        assert_eq!(req.authenticator.kvno, None);
        let want_opts = u32::from_str_radix(&field_after(&dec, "ap-options ", 0), 16).unwrap();
        assert_eq!(req.ap_options, want_opts, "{case}");
        let mutual = *case != "nomutual";
        assert_eq!(
            req.ap_options & flags::AP_MUTUAL_REQUIRED != 0,
            mutual,
            "{case}"
        );
        let cipher_len: usize = field_after(&dec, "kvno 1, cipher ", 0).parse().unwrap();
        assert_eq!(req.ticket.enc_part.cipher.len(), cipher_len);
    }
}

#[test]
fn mit_ap_rep_decodes_and_reencodes_exactly() {
    let mut seen = 0;
    for case in CASES {
        let Ok(bytes) = std::fs::read(data_dir().join("mit-capture").join(case).join("ap_rep.der"))
        else {
            assert_eq!(*case, "nomutual");
            continue;
        };
        let rep: ApRep = assert_reencodes(&bytes);
        let dec = text(case, "decoded.txt");
        let etype: i32 = field_after(&dec, "  enc-part etype ", 1).parse().unwrap();
        assert_eq!(rep.enc_part.etype, etype, "{case}");
        assert_eq!(rep.enc_part.kvno, None);
        assert!(!rep.enc_part.cipher.is_empty());
        seen += 1;
    }
    assert_eq!(seen, 8);
}

#[test]
fn mit_replay_error_decodes_and_reencodes_exactly() {
    let bytes = capture("mutual", "replay_error.der");
    let e: KrbError = assert_reencodes(&bytes);
    assert_eq!(e.error_code, 34);
    assert_eq!(
        minor::protocol_error_code(minor::AP_ERR_REPEAT),
        Some(e.error_code)
    );
    assert_eq!(e.stime, 1_795_697_147);
    assert_eq!(e.susec, 48632);
    assert_eq!(e.realm, b"TEST.LOCAL");
    assert_eq!(e.sname, name(1, &["test", "localhost"]));
    assert_eq!(
        (e.ctime, e.cusec, &e.crealm, &e.cname, &e.e_text, &e.e_data),
        (None, None, &None, &None, &None, &None)
    );
}

// ------------------------------------------------------------ MIT plaintexts

#[test]
fn mit_enc_ticket_parts() {
    for case in CASES {
        let bytes = plaintext(case, "enc_ticket_part.der").unwrap();
        let t: EncTicketPart = assert_reencodes(&bytes);
        let dec = text(case, "decoded.txt");
        let info = text(case, "info.txt");
        let flags =
            u32::from_str_radix(&field_after(&dec, "EncTicketPart: flags ", 0), 16).unwrap();
        assert_eq!(t.flags, flags);
        assert_ne!(t.flags & flags::TKT_PRE_AUTHENT, 0);
        assert_eq!(t.crealm, b"TEST.LOCAL");
        assert_eq!(t.cname, name(1, &["alice"]));
        let session = info_key(case, "ticket session key").unwrap();
        assert_eq!(&t.key.keyvalue[..], &session[..], "{case}");
        let authtime: i64 = field_after(&info, "authtime ", 0).parse().unwrap();
        let endtime: i64 = field_after(&info, "endtime ", 0).parse().unwrap();
        assert_eq!((t.authtime, t.endtime), (authtime, endtime));
        assert_eq!(t.endtime - t.authtime, 86_400);
        // MIT omits starttime when it equals authtime.
        assert_eq!(t.starttime, None);
        assert_eq!(t.caddr, None);
        let ad = t.authorization_data.as_ref().unwrap();
        assert_eq!(ad.len(), 1);
        assert_eq!(ad[0].ad_type, ad_type::IF_RELEVANT);
        let inner = decode_authorization_data(&ad[0].ad_data).unwrap();
        assert_eq!(inner.len(), 1);
        assert_eq!(inner[0].ad_type, ad_type::WIN2K_PAC);
        let pac_len: usize = field_after(&dec, "AD-WIN2K-PAC, ", 0).parse().unwrap();
        assert_eq!(inner[0].ad_data.len(), pac_len, "{case}");
        let ifrel_len: usize = field_after(&dec, "AD-IF-RELEVANT, ", 0).parse().unwrap();
        assert_eq!(ad[0].ad_data.len(), ifrel_len, "{case}");
        assert_eq!(encode_authorization_data(&inner), ad[0].ad_data);
    }
}

#[test]
fn mit_authenticators() {
    for case in CASES {
        let bytes = plaintext(case, "authenticator.der").unwrap();
        let a: Authenticator = assert_reencodes(&bytes);
        let dec = text(case, "decoded.txt");
        assert_eq!(a.crealm, b"TEST.LOCAL");
        assert_eq!(a.cname, name(1, &["alice"]));
        let ck = a.cksum.as_ref().unwrap();
        assert_eq!(ck.cksumtype, 0x8003);
        assert_eq!(&ck.checksum[..4], &16u32.to_le_bytes());
        let ck_len: usize = field_after(&dec, "0x8003 checksum, ", 0)
            .trim_end_matches(',')
            .parse()
            .unwrap();
        assert_eq!(ck.checksum.len(), ck_len);
        assert_eq!(
            a.cusec,
            field_after(&dec, "cusec ", 0).parse::<u32>().unwrap()
        );
        assert_eq!(a.ctime, 1_795_697_147);
        let seq: u32 = field_after(&dec, "seq-number ", 0).parse().unwrap();
        assert_eq!(a.seq_number, Some(seq));
        let subkey = a.subkey.as_ref().unwrap();
        let want = info_key(case, "initiator ctx_key").unwrap();
        assert_eq!(&subkey.keyvalue[..], &want[..], "{case}");
        if *case == "aes256-sha384-default-subkey" {
            // RFC 4537: AD-IF-RELEVANT { AD-ETYPE-NEGOTIATION (18, 17, 20) }.
            let ad = a.authorization_data.as_ref().unwrap();
            assert_eq!(ad.len(), 1);
            assert_eq!(ad[0].ad_type, ad_type::IF_RELEVANT);
            let inner = decode_authorization_data(&ad[0].ad_data).unwrap();
            assert_eq!(inner[0].ad_type, ad_type::ETYPE_NEGOTIATION);
            assert_eq!(
                decode_etype_list(&inner[0].ad_data).unwrap(),
                vec![18, 17, 20]
            );
            assert_eq!(encode_etype_list(&[18, 17, 20]), inner[0].ad_data);
            assert_eq!(encode_authorization_data(&inner), ad[0].ad_data);
        } else {
            assert_eq!(a.authorization_data, None, "{case}");
        }
    }
}

#[test]
fn mit_enc_ap_rep_parts() {
    let mut seen = 0;
    for case in CASES {
        let Some(bytes) = plaintext(case, "enc_ap_rep_part.der") else {
            continue;
        };
        let p: EncApRepPart = assert_reencodes(&bytes);
        let dec = text(case, "decoded.txt");
        assert_eq!(p.ctime, 1_795_697_147);
        let seq: u32 = field_after(&dec, "seq-number ", 1).parse().unwrap();
        assert_eq!(p.seq_number, Some(seq));
        let want = info_key(case, "acceptor acceptor_subkey").unwrap();
        assert_eq!(&p.subkey.as_ref().unwrap().keyvalue[..], &want[..]);
        // The AP-REP echoes the authenticator's ctime/cusec (RFC 4120 §3.2.4).
        let a = Authenticator::from_der(&plaintext(case, "authenticator.der").unwrap()).unwrap();
        assert_eq!((p.ctime, p.cusec), (a.ctime, a.cusec));
        seen += 1;
    }
    assert_eq!(seen, 8);
}

#[test]
fn mit_delegation_krb_cred() {
    let bytes = plaintext("deleg", "krb_cred.der").unwrap();
    let cred: KrbCred = assert_reencodes(&bytes);
    assert_eq!(cred.tickets.len(), 1);
    assert_eq!(cred.tickets[0].sname, name(2, &["krbtgt", "TEST.LOCAL"]));
    assert_eq!(cred.tickets[0].realm, b"TEST.LOCAL");
    assert_eq!(cred.enc_part.etype, 18);
    let part: EncKrbCredPart =
        assert_reencodes(&plaintext("deleg", "enc_krb_cred_part.der").unwrap());
    assert_eq!(part.ticket_info.len(), 1);
    let info = &part.ticket_info[0];
    assert_eq!(info.key.keytype, 18);
    assert_eq!(info.key.keyvalue.len(), 32);
    assert_eq!(info.prealm.as_deref(), Some(&b"TEST.LOCAL"[..]));
    assert_eq!(info.pname, Some(name(1, &["alice"])));
    assert_eq!(info.sname, Some(name(2, &["krbtgt", "TEST.LOCAL"])));
    assert_ne!(info.flags.unwrap() & flags::TKT_FORWARDED, 0);
    assert!(info.endtime.unwrap() > info.authtime.unwrap());
    // The same KRB-CRED is what the 0x8003 checksum carries (RFC 4121 §4.1.1).
    let a = Authenticator::from_der(&plaintext("deleg", "authenticator.der").unwrap()).unwrap();
    assert_eq!(&a.cksum.unwrap().checksum[28..], &bytes[..]);
}

// ------------------------------------------------------------ round trips

fn key(t: i32, n: u8) -> EncryptionKey {
    EncryptionKey {
        keytype: t,
        keyvalue: Zeroizing::new(vec![n; 32]),
    }
}

fn full_enc_ticket_part() -> EncTicketPart {
    EncTicketPart {
        flags: flags::TKT_FORWARDABLE | flags::TKT_RENEWABLE | flags::TKT_PRE_AUTHENT,
        key: key(18, 7),
        crealm: "RÉALM.测试".as_bytes().to_vec(),
        cname: name(1, &["jürgen", "测试"]),
        transited: TransitedEncoding {
            tr_type: 1,
            contents: b"EXAMPLE.COM,".to_vec(),
        },
        authtime: 1_700_000_000,
        starttime: Some(1_700_000_001),
        endtime: 1_700_086_400,
        renew_till: Some(4_102_444_800),
        caddr: Some(vec![HostAddress {
            addr_type: 2,
            address: vec![127, 0, 0, 1],
        }]),
        authorization_data: Some(vec![AuthorizationDataEntry {
            ad_type: 1,
            ad_data: vec![0x30, 0],
        }]),
    }
}

fn full_authenticator() -> Authenticator {
    Authenticator {
        crealm: b"TEST.LOCAL".to_vec(),
        cname: name(1, &["jürgen"]),
        cksum: Some(Checksum {
            cksumtype: 0x8003,
            checksum: vec![1; 24],
        }),
        cusec: 999_999,
        ctime: 1_795_697_147,
        subkey: Some(key(17, 3)),
        seq_number: Some(0xffff_fffe),
        authorization_data: Some(vec![AuthorizationDataEntry {
            ad_type: 129,
            ad_data: encode_etype_list(&[18]),
        }]),
    }
}

fn full_ticket() -> Ticket {
    Ticket {
        realm: b"TEST.LOCAL".to_vec(),
        sname: name(2, &["krbtgt", "TEST.LOCAL"]),
        enc_part: EncryptedData {
            etype: 18,
            kvno: Some(0x8000_0000),
            cipher: vec![9; 40],
        },
    }
}

fn full_cred_info() -> KrbCredInfo {
    KrbCredInfo {
        key: key(20, 1),
        prealm: Some(b"TEST.LOCAL".to_vec()),
        pname: Some(name(1, &["测试"])),
        flags: Some(flags::TKT_FORWARDED),
        authtime: Some(1),
        starttime: Some(2),
        endtime: Some(3),
        renew_till: Some(4),
        srealm: Some(b"TEST.LOCAL".to_vec()),
        sname: Some(name(2, &["krbtgt", "TEST.LOCAL"])),
        caddr: Some(vec![]),
    }
}

fn round_trip<T: Der + std::fmt::Debug + PartialEq>(v: &T) {
    let bytes = v.to_der();
    assert_eq!(&T::from_der(&bytes).unwrap(), v);
}

#[test]
fn round_trip_every_type_all_optionals_present_and_absent() {
    round_trip(&name(10, &["a@b", ""]));
    round_trip(&PrincipalName::default());
    round_trip(&key(18, 0));
    round_trip(&Checksum {
        cksumtype: -138,
        checksum: vec![],
    });
    round_trip(&HostAddress {
        addr_type: 24,
        address: vec![0; 16],
    });
    round_trip(&AuthorizationDataEntry {
        ad_type: 128,
        ad_data: vec![1, 2, 3],
    });
    round_trip(&TransitedEncoding::default());
    round_trip(&EncryptedData {
        etype: 20,
        kvno: None,
        cipher: vec![5; 3],
    });
    round_trip(&full_ticket());
    let full = full_enc_ticket_part();
    round_trip(&full);
    round_trip(&EncTicketPart {
        starttime: None,
        renew_till: None,
        caddr: None,
        authorization_data: None,
        ..full
    });
    let a = full_authenticator();
    round_trip(&a);
    round_trip(&Authenticator {
        cksum: None,
        subkey: None,
        seq_number: None,
        authorization_data: None,
        ..a
    });
    round_trip(&ApReq {
        ap_options: 0,
        ticket: full_ticket(),
        authenticator: EncryptedData::default(),
    });
    round_trip(&ApRep {
        enc_part: EncryptedData {
            etype: 17,
            kvno: None,
            cipher: vec![1],
        },
    });
    round_trip(&EncApRepPart {
        ctime: 5,
        cusec: 6,
        subkey: Some(key(19, 2)),
        seq_number: Some(0),
    });
    round_trip(&EncApRepPart {
        ctime: 5,
        cusec: 6,
        subkey: None,
        seq_number: None,
    });
    let err = KrbError {
        ctime: Some(10),
        cusec: Some(11),
        stime: 12,
        susec: 13,
        error_code: 37,
        crealm: Some(b"C".to_vec()),
        cname: Some(name(1, &["jürgen"])),
        realm: b"R".to_vec(),
        sname: name(2, &["host", "h"]),
        e_text: Some("clock skew – größer".as_bytes().to_vec()),
        e_data: Some(vec![0x30, 0]),
    };
    round_trip(&err);
    round_trip(&KrbError {
        ctime: None,
        cusec: None,
        crealm: None,
        cname: None,
        e_text: None,
        e_data: None,
        ..err
    });
    round_trip(&KrbCred {
        tickets: vec![full_ticket(), full_ticket()],
        enc_part: EncryptedData::default(),
    });
    round_trip(&KrbCred {
        tickets: vec![],
        enc_part: EncryptedData::default(),
    });
    round_trip(&full_cred_info());
    round_trip(&KrbCredInfo {
        key: key(18, 1),
        ..Default::default()
    });
    let part = EncKrbCredPart {
        ticket_info: vec![full_cred_info()],
        nonce: Some(0x9000_0000),
        timestamp: Some(1_795_697_147),
        usec: Some(7),
        s_address: Some(HostAddress {
            addr_type: 2,
            address: vec![10, 0, 0, 1],
        }),
        r_address: Some(HostAddress {
            addr_type: 2,
            address: vec![10, 0, 0, 2],
        }),
    };
    round_trip(&part);
    round_trip(&EncKrbCredPart {
        ticket_info: vec![],
        ..Default::default()
    });
    assert_eq!(
        decode_authorization_data(&encode_authorization_data(&vec![])).unwrap(),
        vec![]
    );
    assert_eq!(
        decode_etype_list(&encode_etype_list(&[-1, 0, i32::MAX])).unwrap(),
        vec![-1, 0, i32::MAX]
    );
}

#[test]
fn utf8_and_arbitrary_byte_names_round_trip() {
    for comp in ["jürgen", "测试", "ß€Ж"] {
        let n = name(1, &[comp]);
        let der = n.to_der();
        // GeneralString (tag 27) carrying the raw UTF-8 bytes.
        let mut want = vec![0x1b, comp.len() as u8];
        want.extend_from_slice(comp.as_bytes());
        assert!(der.windows(want.len()).any(|w| w == want.as_slice()));
        assert_eq!(PrincipalName::from_der(&der).unwrap(), n);
    }
    let all: Vec<u8> = (0..=255).collect();
    let n = PrincipalName {
        name_type: 1,
        components: vec![all],
    };
    assert_eq!(PrincipalName::from_der(&n.to_der()).unwrap(), n);
}

#[test]
fn seq_number_negative_and_high_values_like_mit() {
    // EncAPRepPart with seq-number -1, as some peers send: MIT reads 0xffffffff.
    let neg = hex("7b1f301da011180f32303236313132363132343534375aa103020105a3030201ff");
    let p = EncApRepPart::from_der(&neg).unwrap();
    assert_eq!(p.seq_number, Some(0xffff_ffff));
    // MIT 1.20's encode_krb5_ap_rep_enc_part output for seq 0xffffffff / 0x80000000 (measured).
    let mit_ffffffff =
        hex("7b233021a011180f32303236313132363132343534375aa103020105a307020500ffffffff");
    assert_eq!(p.to_der(), mit_ffffffff);
    let p80 = EncApRepPart {
        seq_number: Some(0x8000_0000),
        ..p.clone()
    };
    assert_eq!(
        p80.to_der(),
        hex("7b233021a011180f32303236313132363132343534375aa103020105a30702050080000000")
    );
    let p7f = EncApRepPart {
        seq_number: Some(0x7fff_ffff),
        ..p
    };
    assert_eq!(
        p7f.to_der(),
        hex("7b223020a011180f32303236313132363132343534375aa103020105a30602047fffffff")
    );
    // Out of the UInt32 range: MIT says ASN1_OVERFLOW.
    let big = hex("7b233021a011180f32303236313132363132343534375aa103020105a30702050100000000");
    assert_eq!(
        EncApRepPart::from_der(&big).unwrap_err().minor,
        mit_minor::ASN1_OVERFLOW
    );
    // Negative kvno in EncryptedData too.
    let ed = hex("300ea003020112a10302 01ffa2020400"
        .replace(' ', "")
        .as_str());
    assert_eq!(
        EncryptedData::from_der(&ed).unwrap().kvno,
        Some(0xffff_ffff)
    );
}

#[test]
fn kerberos_time_fractional_seconds_rejected_like_mit() {
    // MIT 1.20 decode_krb5_ap_rep_enc_part: "...47.5Z" -> ASN1_BAD_LENGTH (measured).
    let mk = |t: &str| {
        let mut time = vec![0x18, t.len() as u8];
        time.extend_from_slice(t.as_bytes());
        let mut f0 = vec![0xa0, time.len() as u8];
        f0.extend(time);
        let mut body = f0;
        body.extend(hex("a103020105"));
        let mut seq = vec![0x30, body.len() as u8];
        seq.extend(body);
        let mut out = vec![0x7b, seq.len() as u8];
        out.extend(seq);
        out
    };
    assert_eq!(
        EncApRepPart::from_der(&mk("20261126124547Z"))
            .unwrap()
            .ctime,
        1_795_697_147
    );
    assert_eq!(
        EncApRepPart::from_der(&mk("20261126124547.5Z"))
            .unwrap_err()
            .minor,
        minor::ASN1_BAD_LENGTH
    );
    assert_eq!(
        EncApRepPart::from_der(&mk("20261126124547+0100"))
            .unwrap_err()
            .minor,
        minor::ASN1_BAD_LENGTH
    );
    assert_eq!(
        EncApRepPart::from_der(&mk("2026112612454XZ"))
            .unwrap_err()
            .minor,
        mit_minor::ASN1_BAD_TIMEFORMAT
    );
    // Always written as whole seconds YYYYMMDDHHMMSSZ.
    let p = EncApRepPart {
        ctime: 1_795_697_147,
        cusec: 5,
        subkey: None,
        seq_number: None,
    };
    assert_eq!(p.to_der(), mk("20261126124547Z"));
}

#[test]
fn kerberos_flags_are_32_bit_bit_strings() {
    let req = ApReq {
        ap_options: flags::AP_MUTUAL_REQUIRED,
        ticket: full_ticket(),
        authenticator: Default::default(),
    };
    let der = req.to_der();
    let want = hex("a20703050020000000");
    assert!(der.windows(want.len()).any(|w| w == want.as_slice()));
    let zero = ApReq {
        ap_options: 0,
        ..req.clone()
    }
    .to_der();
    let want0 = hex("a20703050000000000");
    assert!(zero.windows(want0.len()).any(|w| w == want0.as_slice()));
    // A short BIT STRING (rasn-kerberos's `03 02 00 02`) is read as MIT reads it: bit 6.
    let der = capture("mutual", "ap_req.der");
    let short = der_replace(&der, &want, &hex("a20403020002"));
    assert_eq!(ApReq::from_der(&short).unwrap().ap_options, 0x0200_0000);
    let long = der_replace(&der, &want, &hex("a2080306002000000080"));
    assert_eq!(
        ApReq::from_der(&long).unwrap().ap_options,
        flags::AP_MUTUAL_REQUIRED
    );
}

/// Replaces one inner TLV of an AP-REQ and fixes the two enclosing lengths (both long-form 2-byte here).
fn der_replace(der: &[u8], old: &[u8], new: &[u8]) -> Vec<u8> {
    let at = der.windows(old.len()).position(|w| w == old).unwrap();
    let mut out = der[..at].to_vec();
    out.extend_from_slice(new);
    out.extend_from_slice(&der[at + old.len()..]);
    let delta = new.len() as isize - old.len() as isize;
    // 6e 82 LL LL 30 82 LL LL
    for pos in [2usize, 6] {
        let len = u16::from_be_bytes([out[pos], out[pos + 1]]) as isize + delta;
        out[pos..pos + 2].copy_from_slice(&(len as u16).to_be_bytes());
    }
    out
}

// ------------------------------------------------------------ rasn-kerberos agreement

#[test]
fn same_bytes_as_rasn_kerberos_where_it_is_correct() {
    use rasn_kerberos as rk;
    for case in CASES {
        let req = capture(case, "ap_req.der");
        let theirs: rk::ApReq = rasn::der::decode(&req).unwrap();
        assert_eq!(
            rasn::der::encode(&theirs).unwrap(),
            ApReq::from_der(&req).unwrap().to_der()
        );
        let ticket = ApReq::from_der(&req).unwrap().ticket;
        assert_eq!(rasn::der::encode(&theirs.ticket).unwrap(), ticket.to_der());
        assert_eq!(
            rasn::der::encode(&theirs.ticket.sname).unwrap(),
            ticket.sname.to_der()
        );
        assert_eq!(
            rasn::der::encode(&theirs.authenticator).unwrap(),
            ApReq::from_der(&req).unwrap().authenticator.to_der()
        );
        for file in [
            "authenticator.der",
            "enc_ticket_part.der",
            "enc_ap_rep_part.der",
        ] {
            let Some(bytes) = plaintext(case, file) else {
                continue;
            };
            let ours = match file {
                "authenticator.der" => Authenticator::from_der(&bytes).unwrap().to_der(),
                "enc_ticket_part.der" => EncTicketPart::from_der(&bytes).unwrap().to_der(),
                _ => EncApRepPart::from_der(&bytes).unwrap().to_der(),
            };
            let reencoded = match file {
                "authenticator.der" => {
                    rasn::der::encode(&rasn::der::decode::<rk::Authenticator>(&bytes).unwrap())
                }
                "enc_ticket_part.der" => {
                    rasn::der::encode(&rasn::der::decode::<rk::EncTicketPart>(&bytes).unwrap())
                }
                _ => rasn::der::encode(&rasn::der::decode::<rk::EncApRepPart>(&bytes).unwrap()),
            }
            .unwrap();
            assert_eq!(reencoded, ours, "{case}/{file}");
        }
    }
    // Our own encoding of ASCII values is read identically by rasn-kerberos.
    let a = Authenticator {
        cname: name(1, &["alice"]),
        ..full_authenticator()
    };
    let theirs: rk::Authenticator = rasn::der::decode(&a.to_der()).unwrap();
    assert_eq!(theirs.seq_number, Some(0xffff_fffe));
    assert_eq!(theirs.cusec, 999_999.into());
    assert_eq!(rasn::der::encode(&theirs).unwrap(), a.to_der());
}

// ------------------------------------------------------------ hostile input

#[test]
fn every_truncation_of_a_real_ap_req_fails_cleanly() {
    let req = capture("deleg", "ap_req.der");
    for n in 0..req.len() {
        let e = ApReq::from_der(&req[..n]).unwrap_err();
        assert!(
            [minor::ASN1_OVERRUN, minor::ASN1_BAD_LENGTH].contains(&e.minor),
            "truncated to {n}: {e}"
        );
    }
    // One flipped byte anywhere: an error or a different value, never a panic.
    let auth = plaintext("deleg", "authenticator.der").unwrap();
    let tkt = plaintext("deleg", "enc_ticket_part.der").unwrap();
    let cred = plaintext("deleg", "enc_krb_cred_part.der").unwrap();
    for (msg, bytes) in [(0, &req), (1, &auth), (2, &tkt), (3, &cred)] {
        for i in 0..bytes.len() {
            for x in [0x01u8, 0x20, 0x80, 0xff] {
                let mut m = bytes.clone();
                m[i] ^= x;
                let ok = match msg {
                    0 => ApReq::from_der(&m).map(|v| v.to_der()),
                    1 => Authenticator::from_der(&m).map(|v| v.to_der()),
                    2 => EncTicketPart::from_der(&m).map(|v| v.to_der()),
                    _ => EncKrbCredPart::from_der(&m).map(|v| v.to_der()),
                };
                // Whatever decodes must re-encode to a decodable value.
                if let Ok(again) = ok {
                    assert!(ApReq::from_der(&again).is_ok() || msg != 0);
                }
            }
        }
    }
}

#[test]
fn trailing_bytes_and_bad_lengths() {
    let mut req = capture("mutual", "ap_req.der");
    req.push(0);
    assert_eq!(
        ApReq::from_der(&req).unwrap_err().minor,
        minor::ASN1_BAD_LENGTH
    );
    req.pop();
    // Outer length larger than the data.
    let mut long = req.clone();
    long[3] = long[3].wrapping_add(1);
    assert_eq!(
        ApReq::from_der(&long).unwrap_err().minor,
        minor::ASN1_OVERRUN
    );
    // An inner length running past its parent.
    let mut inner = req.clone();
    inner[9] = 0x83; // pvno's [0] length: 3-byte length 0x020105
    assert_eq!(
        ApReq::from_der(&inner).unwrap_err().minor,
        minor::ASN1_OVERRUN
    );
    // Indefinite lengths are not DER.
    assert_eq!(
        ApReq::from_der(&hex("6e80308000000000")).unwrap_err().minor,
        minor::ASN1_BAD_LENGTH
    );
    // A 4 GiB OCTET STRING declared in 10 bytes: refused before any allocation.
    let huge = hex("300da003020112a2060484ffffffff");
    assert_eq!(
        EncryptedData::from_der(&huge).unwrap_err().minor,
        minor::ASN1_OVERRUN
    );
    let huge_top = hex("6e84ffffffff30");
    assert_eq!(
        ApReq::from_der(&huge_top).unwrap_err().minor,
        minor::ASN1_OVERRUN
    );
    assert_eq!(ApReq::from_der(&[]).unwrap_err().minor, minor::ASN1_OVERRUN);
    assert_eq!(
        ApReq::from_der(&hex("6e8900")).unwrap_err().minor,
        minor::ASN1_OVERRUN
    );
}

#[test]
fn deep_nesting_is_refused_without_recursion() {
    let depth = 10_000;
    // Built from the inside out so that every length is minimally encoded (DER): the
    // nesting, not a length, must be what is refused.
    let mut v: Vec<u8> = Vec::new();
    for _ in 0..depth {
        let n = v.len();
        let mut header = vec![0x30];
        match n {
            0..=0x7f => header.push(n as u8),
            0x80..=0xff => header.extend_from_slice(&[0x81, n as u8]),
            0x100..=0xffff => header.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]),
            _ => header.extend_from_slice(&[0x83, (n >> 16) as u8, (n >> 8) as u8, n as u8]),
        }
        header.extend_from_slice(&v);
        v = header;
    }
    let e = decode_authorization_data(&v).unwrap_err();
    assert_eq!(e.minor, minor::ASN1_PARSE_ERROR);
    let mut app = v.clone();
    app[0] = 0x6e;
    assert!(ApReq::from_der(&app).is_err());
    // Constructed (BER) OCTET STRINGs are not DER and not walked.
    assert_eq!(
        EncryptedData::from_der(&hex("3009a0030201 12a2022400".replace(' ', "").as_str()))
            .unwrap_err()
            .minor,
        minor::ASN1_BAD_FORMAT
    );
}

#[test]
fn wrong_message_types() {
    let rep = capture("mutual", "ap_rep.der");
    assert_eq!(
        ApReq::from_der(&rep).unwrap_err().minor,
        minor::AP_ERR_MSG_TYPE
    );
    let req = capture("mutual", "ap_req.der");
    assert_eq!(
        ApRep::from_der(&req).unwrap_err().minor,
        minor::AP_ERR_MSG_TYPE
    );
    assert_eq!(
        KrbError::from_der(&req).unwrap_err().minor,
        minor::AP_ERR_MSG_TYPE
    );
    // Enc parts are not messages: a wrong tag is ASN1_BAD_ID, as MIT's decoders say.
    let auth = plaintext("mutual", "authenticator.der").unwrap();
    assert_eq!(
        EncTicketPart::from_der(&auth).unwrap_err().minor,
        minor::ASN1_BAD_ID
    );
    assert_eq!(
        EncApRepPart::from_der(&auth).unwrap_err().minor,
        minor::ASN1_BAD_ID
    );
    // Right APPLICATION tag, wrong msg-type field: KRB5_BADMSGTYPE; wrong pvno: KDC_ERR_BAD_PVNO.
    let mut m = req.clone();
    let at = m.windows(5).position(|w| w == [0xa1, 3, 2, 1, 14]).unwrap();
    m[at + 4] = 15;
    assert_eq!(ApReq::from_der(&m).unwrap_err().minor, minor::BADMSGTYPE);
    let mut p = req.clone();
    let at = p.windows(5).position(|w| w == [0xa0, 3, 2, 1, 5]).unwrap();
    p[at + 4] = 4;
    assert_eq!(
        ApReq::from_der(&p).unwrap_err().minor,
        mit_minor::KDC_ERR_BAD_PVNO
    );
    // A field with the wrong universal type.
    let mut t = req.clone();
    let at = t.windows(5).position(|w| w == [0xa0, 3, 2, 1, 5]).unwrap();
    t[at + 2] = 0x04;
    assert!(ApReq::from_der(&t).is_err());
}

#[test]
fn non_minimal_integer_accepted_like_mit() {
    // cusec written as 02 02 00 05 (BER, not DER): MIT 1.20 accepts it (measured), so do we;
    // re-encoding gives the DER form.
    let b = hex("7b1b3019a011180f32303236313132363132343534375aa10402020005");
    let p = EncApRepPart::from_der(&b).unwrap();
    assert_eq!(p.cusec, 5);
    assert_eq!(
        p.to_der(),
        hex("7b1a3018a011180f32303236313132363132343534375aa103020105")
    );
}
