//! ONE-TIME generator of the committed seed corpora in fuzz/seeds/<target>/, from the MIT
//! krb5 captures and files in tests/data (plus, for `ap_rep`, AP-REPs made by krbap's
//! acceptor for the fixed-clock request of that target). Run from the repository root:
//!
//!     cargo run --manifest-path fuzz/Cargo.toml --example make_seeds [pac]
//!
//! The seeds are what the fuzz run starts from; scripts/fuzz.sh copies them into a
//! scratch corpus, so this directory only changes when this program is re-run.

use krbap::asn1::kdc::KdcRep;
use krbap::asn1::{Der, KrbError};
use krbap::crypto::{usage, Enctype, Key};
use krbap::gss::checksum::ctx_flags;
use krbap::gss::context::{InitOptions, SecurityContext};
use krbap::gss::name::{Name, NameType};
use krbap_fuzz::{encode_records, WRAP_CASES};
use std::fs;
use std::path::{Path, PathBuf};

const CASES: [&str; 9] = [
    "mutual",
    "nomutual",
    "noconf",
    "deleg",
    "aes256-sha1",
    "aes128-sha1",
    "aes256-sha384",
    "aes128-sha256",
    "aes256-sha384-default-subkey",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(rel: &str) -> Option<Vec<u8>> {
    fs::read(root().join("tests/data").join(rel)).ok()
}

struct Seeds {
    dir: PathBuf,
}

impl Seeds {
    fn new(target: &str) -> Seeds {
        let dir = root().join("fuzz/seeds").join(target);
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        Seeds { dir }
    }
    fn put(&self, name: &str, bytes: &[u8]) {
        fs::write(self.dir.join(name), bytes).unwrap();
    }
}

/// The per-direction token files of a capture case in generation order (info.txt).
fn tokens_in_order(case: &str, prefix: &str) -> Vec<String> {
    let info = String::from_utf8(read(&format!("mit-capture/{case}/info.txt")).unwrap()).unwrap();
    info.lines()
        .filter_map(|l| l.trim_start().strip_prefix('#'))
        .filter_map(|l| l.split_whitespace().nth(1))
        .map(|f| f.trim_end_matches(':').to_string())
        .filter(|f| f.starts_with(prefix))
        .collect()
}

/// The `pac` target's seeds: the Samba AD DC's PACs (tests/data/samba-ad) and MIT 1.20
/// KDC PACs (the decrypted EncTicketParts of the MIT capture).
fn pac_seeds() {
    let pac = Seeds::new("pac");
    for case in ["alice", "bob", "carol", "s4u2proxy"] {
        pac.put(
            &format!("samba-{case}"),
            &read(&format!("samba-ad/{case}.pac")).unwrap(),
        );
    }
    for case in [
        "aes256-sha1",
        "aes128-sha1",
        "aes256-sha384",
        "aes128-sha256",
    ] {
        let der = read(&format!("asn1/{case}/enc_ticket_part.der")).unwrap();
        let part = krbap::asn1::EncTicketPart::from_der(&der).unwrap();
        let ad = part.authorization_data.unwrap();
        let (_, bytes) = krbap::pac::locate(&ad).unwrap().unwrap();
        pac.put(&format!("mit-{case}"), &bytes);
    }
}

fn main() {
    // `make_seeds pac` writes only the pac target's seeds (the others hold random keys).
    pac_seeds();
    if std::env::args().nth(1).as_deref() == Some("pac") {
        return;
    }
    let accept = Seeds::new("accept_token");
    let decode = Seeds::new("gss_decode");
    let krb_error = Seeds::new("krb_error");
    let ap_rep = Seeds::new("ap_rep");
    let plaintexts = Seeds::new("accept_plaintexts");
    let asn1 = Seeds::new("asn1_messages");
    for case in CASES {
        let tok = read(&format!("mit-capture/{case}/initial_token.bin")).unwrap();
        accept.put(&format!("{case}-initial"), &tok);
        decode.put(&format!("{case}-initial"), &tok);
        if let Some(rep) = read(&format!("mit-capture/{case}/ap_rep_token.bin")) {
            decode.put(&format!("{case}-ap-rep"), &rep);
            ap_rep.put(&format!("mit-{case}"), &rep);
        }
        for (tag, file) in [
            (0u8, "ap_req.der"),
            (1, "ap_rep.der"),
            (3, "../../asn1/CASE/enc_ticket_part.der"),
            (4, "../../asn1/CASE/authenticator.der"),
            (5, "../../asn1/CASE/enc_ap_rep_part.der"),
            (6, "../../asn1/CASE/krb_cred.der"),
            (7, "../../asn1/CASE/enc_krb_cred_part.der"),
        ] {
            let rel = format!("mit-capture/{case}/{}", file.replace("CASE", case));
            if let Some(der) = read(&rel) {
                let stem = Path::new(file).file_stem().unwrap().to_string_lossy();
                let mut seed = vec![tag];
                seed.extend_from_slice(&der);
                asn1.put(&format!("{case}-{stem}"), &seed);
            }
        }
        let ticket = read(&format!("asn1/{case}/enc_ticket_part.der"));
        let auth = read(&format!("asn1/{case}/authenticator.der"));
        if let (Some(t), Some(a)) = (ticket, auth) {
            plaintexts.put(case, &encode_records(&[(0, &t), (0, &a)]));
        }
    }
    for file in ["replay_error.der", "replay_error_token.bin"] {
        let e = read(&format!("mit-capture/mutual/{file}")).unwrap();
        krb_error.put(file, &e);
        decode.put(file, &e);
    }
    ap_rep.put(
        "mit-replay-error",
        &read("mit-capture/mutual/replay_error_token.bin").unwrap(),
    );

    // krbap's acceptor answering the ap_rep target's own request: ctime is the fixed
    // clock and cusec 0, so these pass the step-6 comparison in every fresh context.
    let initiator = krbap_fuzz::initiator();
    let acceptor = krbap_fuzz::acceptor();
    let target = Name::import(b"test@localhost", NameType::HostbasedService, None).unwrap();
    for (name, extra) in [("krbap", 0), ("krbap-conf", ctx_flags::CONF)] {
        let options = InitOptions {
            req_flags: ctx_flags::MUTUAL | ctx_flags::REPLAY | ctx_flags::SEQUENCE | extra,
            channel_bindings: None,
        };
        let (_, token) = SecurityContext::initiate(&initiator, &target, &options).unwrap();
        let (_, reply) = SecurityContext::accept(&acceptor, &token, None).unwrap();
        ap_rep.put(name, &reply.expect("mutual: an AP-REP"));
        accept.put(&format!("{name}-initial"), &token);
    }

    // Per-message tokens: byte 0 picks case and side (2 * case + 1 = acceptor, which
    // receives c2s tokens; 2 * case = initiator, which receives s2c), then records.
    let wrap = Seeds::new("wrap_tokens");
    for (i, case) in WRAP_CASES.iter().enumerate() {
        for (side, prefix) in [(0usize, "s2c"), (1, "c2s")] {
            let files = tokens_in_order(case.name, prefix);
            let bodies: Vec<Vec<u8>> = files
                .iter()
                .map(|f| read(&format!("mit-capture/{}/{f}", case.name)).unwrap())
                .collect();
            let recs: Vec<(u8, &[u8])> = files
                .iter()
                .zip(&bodies)
                .map(|(f, b)| {
                    let tag = match (f.contains("_mic"), f.contains("empty")) {
                        (false, _) => 0,
                        (true, false) => 1,
                        (true, true) => 3,
                    };
                    (tag, &b[..])
                })
                .collect();
            let mut seed = vec![(2 * i + side) as u8];
            seed.extend_from_slice(&encode_records(&recs));
            wrap.put(&format!("{}-{prefix}", case.name), &seed);
            for (f, b) in files.iter().zip(&bodies) {
                decode.put(&format!("{}-{f}", case.name), b);
            }
        }
    }

    let keytab = Seeds::new("keytab");
    keytab.put(
        "service.keytab",
        &read("mit-capture/service.keytab").unwrap(),
    );
    keytab.put("alice.keytab", &read("mit-capture/alice.keytab").unwrap());
    let ccache = Seeds::new("ccache");
    ccache.put("alice.ccache", &read("mit-capture/alice.ccache").unwrap());
    ccache.put("alice-v3.ccache", &read("files/alice-v3.ccache").unwrap());
    let conf = Seeds::new("krb5_conf");
    conf.put("capture.conf", &read("mit-capture/krb5.conf").unwrap());
    conf.put(
        "features.conf",
        b"# comment\n; comment\n[libdefaults]\n  default_realm = \"EXAMPLE.COM\"\n  \
          clockskew = 120\n  dns_lookup_kdc = yes\n[realms]\n  TEST.LOCAL = {\n    \
          kdc = a:88\n    kdc = b:88\n    v4 = {\n      x* = 1\n    }\n  }*\n\
          [capaths]\n  A = {\n    B = .\n  }\n",
    );
    // KDC replies (tests/data/kdc: MIT's KDC answering kinit and kvno), in the three
    // forms of the kdc_reply target: 0 = reply, 1 = decrypted enc-part, 2 = METHOD-DATA.
    let kdc = Seeds::new("kdc_reply");
    let with = |form: u8, bytes: &[u8]| [&[form][..], bytes].concat();
    for file in ["as-rep.der", "tgs-rep.der", "preauth-required.der"] {
        kdc.put(file, &with(0, &read(&format!("kdc/{file}")).unwrap()));
    }
    let as_rep = KdcRep::from_der(&read("kdc/as-rep.der").unwrap()).unwrap();
    let enctype = Enctype::from_number(as_rep.enc_part.etype).unwrap();
    let alice = Key::from_password(enctype, b"alice-Passw0rd", b"TEST.LOCALalice", None).unwrap();
    let plain = alice
        .decrypt(usage::AS_REP_ENCPART, &as_rep.enc_part.cipher)
        .unwrap();
    kdc.put("enc-as-rep-part", &with(1, &plain));
    let err = KrbError::from_der(&read("kdc/preauth-required.der").unwrap()).unwrap();
    kdc.put("method-data", &with(2, &err.e_data.unwrap()));

    // Replay-cache names of the redis: family (each form, every parameter, %-escapes).
    let names = Seeds::new("rcache_name");
    for (i, name) in [
        "redis://127.0.0.1",
        "redis://app:s%40cret%3A@redis.example.com:6380/3?prefix=farm1:&timeout_ms=250",
        "redis://:pw@[::1]:7000/?timeout_ms=60000",
        "redis+unix:///run/redis/redis.sock?db=2&user=u&password=p%26w&prefix=%7Bx%7D:",
        "redis+unix:/tmp/r.sock",
        "redis+cluster://:pw@10.0.0.1:7000,10.0.0.2,[fe80::1]:7002/?prefix=c:",
        "rediss://h:6380",
        "rediss://app:s%40cret@redis.example.com:6380/2?prefix=farm:&timeout_ms=250&ca=/etc/ssl/redis-ca.pem",
        "rediss://[::1]:6380?cert=/etc/krbap/client%20cert.pem&key=/etc/krbap/client.key&ca=/etc/ssl/ca.pem",
        "rediss://127.0.0.1?cert=/c.pem",
    ]
    .iter()
    .enumerate()
    {
        names.put(&format!("name-{i}"), name.as_bytes());
    }
    // HTTP Negotiate header values around MIT's tokens (RFC 4559): Authorization values
    // as curl and browsers send them, WWW-Authenticate challenges and challenge lists.
    let http = Seeds::new("http_negotiate");
    for case in ["mutual", "nomutual"] {
        let tok = read(&format!("mit-capture/{case}/initial_token.bin")).unwrap();
        http.put(
            &format!("authorization-{case}"),
            krbap::http::authorization(&tok).unwrap().as_bytes(),
        );
    }
    let rep = read("mit-capture/mutual/ap_rep_token.bin").unwrap();
    let rep64 = krbap::http::base64::encode(&rep);
    http.put("www-bare", b"Negotiate");
    http.put("www-ap-rep", format!("Negotiate {rep64}").as_bytes());
    http.put(
        "www-list",
        format!("Basic realm=\"x, y\", charset=\"UTF-8\", negotiate  {rep64}, NTLM").as_bytes(),
    );
    http.put("www-reject", b"Negotiate oQcwBaADCgEC");
    http.put(
        "authorization-ows",
        format!(" \tNEGOTIATE   {rep64}\t").as_bytes(),
    );

    println!(
        "seeds written under {}",
        root().join("fuzz/seeds").display()
    );
}
