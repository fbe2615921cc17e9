//! Keytabs and credential caches written by MIT krb5 1.20, read with krbap; and files
//! written by krbap, for MIT's klist to read (tests/mit-files.sh checks those).
//!
//! Without environment variables the committed captures in tests/data/mit-capture/ are
//! used, so plain `cargo test` exercises MIT-written files. tests/mit-files.sh sets:
//! - KRBAP_TEST_REALM_DIR: a live realm made by tests/interop/realm.sh; the script leaves
//!   `NAME.keytab` files with `NAME.keytab.klist` (`klist -k -t -e -K`, TZ=UTC) beside
//!   them, and `ccache` / `ccache.klist` (`klist -e -f`, TZ=UTC).
//! - KRBAP_TEST_OUT_DIR: where the krbap-written files go (krbap.keytab and
//!   krbap.keytab.expect; krbap.ccache rewritten from the realm's ccache).

use krbap::ccache::{Ccache, Credential};
use krbap::error::minor;
use krbap::keytab::{Keytab, KeytabEntry};
use krbap::principal::Principal;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

fn capture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/mit-capture")
}

/// Civil UTC date-time as klist prints it with TZ=UTC in the C locale.
fn utc(t: u32) -> String {
    let days = (t / 86400) as i64;
    let secs = t % 86400;
    // Days to civil date (proleptic Gregorian), era-based.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{:02}/{:02}/{:02} {:02}:{:02}:{:02}",
        m,
        d,
        y % 100,
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

fn enctype_name(n: i32) -> String {
    krbap::crypto::Enctype::from_number(n)
        .map(|e| e.name().to_string())
        .unwrap_or_else(|| format!("etype {n}"))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// One entry line of `klist -k -t -e -K`, reduced to "kvno time principal enctype keyhex".
fn klist_keytab_lines(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| {
            l.trim_start()
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_digit())
        })
        .map(|l| {
            let t: Vec<&str> = l.split_whitespace().collect();
            assert!(t.len() >= 6, "unexpected klist line {l:?}");
            let enctype = t[4].trim_start_matches('(').trim_end_matches(')');
            let key = t[5].trim_start_matches("(0x").trim_end_matches(')');
            format!("{} {} {} {} {} {}", t[0], t[1], t[2], t[3], enctype, key)
        })
        .collect()
}

fn krbap_keytab_lines(kt: &Keytab) -> Vec<String> {
    kt.entries
        .iter()
        .map(|e| {
            format!(
                "{} {} {} {} {}",
                e.kvno,
                utc(e.timestamp),
                e.principal,
                enctype_name(e.enctype),
                hex(&e.key)
            )
        })
        .collect()
}

/// The block of keys.txt that follows `# klist -kteK NAME`.
fn keys_txt_block(name: &str) -> String {
    let text = std::fs::read_to_string(capture_dir().join("keys.txt")).unwrap();
    let header = format!("# klist -kteK {name}");
    let start = text
        .find(&header)
        .unwrap_or_else(|| panic!("{header} not in keys.txt"));
    let rest = &text[start + header.len()..];
    rest[..rest.find("\n# ").unwrap_or(rest.len())].to_string()
}

/// Parses `path`, compares every entry (kvno, time, principal, enctype, key bytes) with
/// klist's listing, and checks that rewriting gives MIT's bytes back.
fn check_keytab(path: &Path, klist_text: &str) {
    let bytes = std::fs::read(path).unwrap();
    let kt = Keytab::parse(&bytes, &path.display().to_string()).unwrap();
    let expect = klist_keytab_lines(klist_text);
    assert!(
        !expect.is_empty(),
        "no entries in the klist output for {}",
        path.display()
    );
    assert_eq!(krbap_keytab_lines(&kt), expect, "{}", path.display());
    // MIT's ktadd/ktutil write exact-size records with the 32-bit kvno: identical bytes,
    // unless entries were deleted (holes, which a rewrite drops).
    if has_holes(&bytes) {
        assert_eq!(Keytab::parse(&kt.to_bytes(), "rewrite").unwrap(), kt);
        assert!(kt.to_bytes().len() < bytes.len());
    } else {
        assert_eq!(
            *kt.to_bytes(),
            bytes,
            "rewrite of {} differs",
            path.display()
        );
    }
}

/// Whether a (well-formed, version 0x0502) keytab has a negative record length.
fn has_holes(bytes: &[u8]) -> bool {
    let mut pos = 2;
    while pos + 4 <= bytes.len() {
        let len = i32::from_be_bytes(bytes[pos..pos + 4].try_into().unwrap());
        if len < 0 {
            return true;
        }
        if len == 0 {
            break;
        }
        pos += 4 + len as usize;
    }
    false
}

#[test]
fn mit_capture_keytabs_match_klist_keys() {
    for name in ["service.keytab", "alice.keytab"] {
        check_keytab(&capture_dir().join(name), &keys_txt_block(name));
    }
    let kt = Keytab::load(&capture_dir().join("service.keytab")).unwrap();
    let svc = Principal::parse("test/localhost@TEST.LOCAL", None).unwrap();
    let keys = kt.find(Some(&svc), None, None);
    assert_eq!(
        keys.iter().map(|e| e.enctype).collect::<Vec<_>>(),
        vec![18, 17, 20, 19]
    );
    let e = kt.get(&svc, Some(1), Some(20)).unwrap();
    assert_eq!(
        hex(&e.key),
        "641cab360b2c3824447db67e4643554c793faa8d4d15a1a03fb07f3330dc0d36"
    );
    assert_eq!(
        kt.get(&svc, Some(2), None).unwrap_err().minor,
        minor::KT_KVNONOTFOUND
    );
}

/// The ticket session keys and times that info.txt records for each single-enctype case
/// are the ones in alice.ccache.
#[test]
fn mit_capture_ccache_matches_info_txt() {
    let path = capture_dir().join("alice.ccache");
    let bytes = std::fs::read(&path).unwrap();
    let cc = Ccache::parse(&bytes, "alice.ccache").unwrap();
    assert_eq!(cc.version, 4);
    assert_eq!(cc.default_principal.to_string(), "alice@TEST.LOCAL");
    assert_eq!(cc.kdc_time_offset, Some((0, 0)));
    let servers: Vec<String> = cc
        .credentials
        .iter()
        .filter(|c| !c.is_config_entry())
        .map(|c| c.server.to_string())
        .collect();
    assert_eq!(
        servers,
        [
            "krbtgt/TEST.LOCAL@TEST.LOCAL",
            "test/localhost@TEST.LOCAL",
            "test-aes256-sha1/localhost@TEST.LOCAL",
            "test-aes128-sha1/localhost@TEST.LOCAL",
            "test-aes256-sha384/localhost@TEST.LOCAL",
            "test-aes128-sha256/localhost@TEST.LOCAL",
        ]
    );
    let config: Vec<String> = cc.config_entries().map(|c| c.server.to_string()).collect();
    assert!(
        config.iter().any(|s| s.contains("fast_avail")),
        "{config:?}"
    );
    for case in [
        "aes256-sha1",
        "aes128-sha1",
        "aes256-sha384",
        "aes128-sha256",
    ] {
        let info = std::fs::read_to_string(capture_dir().join(case).join("info.txt")).unwrap();
        let key_line = info
            .lines()
            .find(|l| l.starts_with("ticket session key"))
            .unwrap();
        let key_hex = key_line.rsplit("= ").next().unwrap().trim();
        let times_line = info
            .lines()
            .find(|l| l.starts_with("ticket times:"))
            .unwrap();
        let times: Vec<u32> = times_line
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        let server = Principal::parse(&format!("test-{case}/localhost@TEST.LOCAL"), None).unwrap();
        let c = cc.find(None, &server, times[0] as i64).expect(case);
        assert_eq!(hex(&c.key.keyvalue), key_hex, "{case}");
        assert_eq!(
            (c.authtime, c.starttime, c.endtime),
            (times[0], times[1], times[2]),
            "{case}"
        );
        let flags_hex = times_line
            .split("flags 0x")
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap();
        assert_eq!(
            c.ticket_flags,
            u32::from_str_radix(flags_hex, 16).unwrap(),
            "{case}"
        );
        assert_eq!(c.ticket.first(), Some(&0x61), "DER Ticket");
        // Expired at endtime + 1.
        assert!(cc.find(None, &server, c.endtime as i64 + 1).is_none());
    }
    assert_eq!(*cc.to_bytes(), bytes, "rewrite differs from MIT's file");
}

/// Every truncation of an MIT file is either an error or, when it falls exactly on an
/// entry boundary (undetectable: the formats have no count or end marker), a prefix.
#[test]
fn truncations_never_panic() {
    let kt_bytes = std::fs::read(capture_dir().join("service.keytab")).unwrap();
    let full = Keytab::parse(&kt_bytes, "k").unwrap();
    let mut prefixes = 0;
    for n in 0..kt_bytes.len() {
        match Keytab::parse(&kt_bytes[..n], "k") {
            Err(e) => assert_eq!(e.minor, minor::KT_FORMAT, "cut at {n}: {e}"),
            Ok(kt) => {
                assert!(kt.entries.len() < full.entries.len());
                assert_eq!(
                    kt.entries[..],
                    full.entries[..kt.entries.len()],
                    "cut at {n}"
                );
                prefixes += 1;
            }
        }
    }
    // Only cuts right after the header or a record are valid (one per entry).
    assert_eq!(prefixes, full.entries.len());

    let cc_bytes = std::fs::read(capture_dir().join("alice.ccache")).unwrap();
    let full = Ccache::parse(&cc_bytes, "c").unwrap();
    let mut prefixes = 0;
    for n in 0..cc_bytes.len() {
        match Ccache::parse(&cc_bytes[..n], "c") {
            Err(e) => assert_eq!(e.minor, minor::CC_FORMAT, "cut at {n}: {e}"),
            Ok(cc) => {
                assert!(cc.credentials.len() < full.credentials.len());
                assert_eq!(cc.credentials[..], full.credentials[..cc.credentials.len()]);
                prefixes += 1;
            }
        }
    }
    assert_eq!(prefixes, full.credentials.len());

    // The reader's view (MIT's: a file ending inside a credential ends the cache before it):
    // every cut after the default principal reads as the credentials before the cut one.
    let header_and_principal = (0..cc_bytes.len())
        .find(|&n| Ccache::parse(&cc_bytes[..n], "c").is_ok())
        .unwrap();
    for n in header_and_principal..cc_bytes.len() {
        let cc =
            Ccache::parse_file(&cc_bytes[..n], "c").unwrap_or_else(|e| panic!("cut at {n}: {e}"));
        assert_eq!(cc.credentials[..], full.credentials[..cc.credentials.len()]);
        assert_eq!(
            cc.torn_tail_at.is_none(),
            Ccache::parse(&cc_bytes[..n], "c").is_ok(),
            "cut at {n}"
        );
    }
}

#[test]
fn hostile_lengths_in_mit_files() {
    // Record length 0x7fffffff in place of the first record's length.
    let mut kt = std::fs::read(capture_dir().join("service.keytab")).unwrap();
    kt[2..6].copy_from_slice(&0x7fff_ffffi32.to_be_bytes());
    let e = Keytab::parse(&kt, "big").unwrap_err();
    assert_eq!(e.minor, minor::KT_FORMAT);
    assert!(
        e.detail.contains("big") && e.detail.contains("offset 2"),
        "{e}"
    );
    // Component length 0xffff inside a record.
    let mut kt = std::fs::read(capture_dir().join("service.keytab")).unwrap();
    kt[8..10].copy_from_slice(&[0xff, 0xff]);
    assert_eq!(Keytab::parse(&kt, "c").unwrap_err().minor, minor::KT_FORMAT);
    // Every 32-bit field of the ccache replaced by 0x7fffffff / 0xffffffff.
    let cc = std::fs::read(capture_dir().join("alice.ccache")).unwrap();
    for at in 0..cc.len().saturating_sub(4) {
        for v in [0x7fff_ffffu32, 0xffff_ffff] {
            let mut b = cc.clone();
            b[at..at + 4].copy_from_slice(&v.to_be_bytes());
            let _ = Ccache::parse(&b, "fuzz"); // must return, not panic or allocate 4 GiB
        }
    }
    for at in 0..kt.len().saturating_sub(4) {
        let mut b = kt.clone();
        b[at..at + 4].copy_from_slice(&0x7fff_ffffu32.to_be_bytes());
        let _ = Keytab::parse(&b, "fuzz");
    }
}

fn entry(p: &str, kvno: u32, enctype: i32, ts: u32, key: &[u8]) -> KeytabEntry {
    KeytabEntry {
        principal: Principal::parse(p, None).unwrap(),
        timestamp: ts,
        kvno,
        enctype,
        key: Zeroizing::new(key.to_vec()),
    }
}

/// The keytab krbap writes for MIT's klist to read.
fn krbap_keytab() -> Keytab {
    let mut kt = Keytab::default();
    let k32: Vec<u8> = (0..32).collect();
    let k16: Vec<u8> = (100..116).collect();
    kt.add(entry(
        "test/localhost@TEST.LOCAL",
        1,
        18,
        1_795_697_146,
        &k32,
    ));
    kt.add(entry(
        "test/localhost@TEST.LOCAL",
        300,
        17,
        1_795_697_200,
        &k16,
    ));
    kt.add(entry("jürgen@TEST.LOCAL", 7, 20, 1_800_000_000, &k32));
    kt.add(entry(
        "http/www.example.com@EXAMPLE.COM",
        65_536,
        19,
        2_000_000_000,
        &k16,
    ));
    kt
}

/// Keytab and ccache written by krbap: read back here; with KRBAP_TEST_OUT_DIR the files
/// are left there for tests/mit-files.sh to list with MIT's klist.
#[test]
fn krbap_written_files() {
    let out = std::env::var_os("KRBAP_TEST_OUT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let d = std::env::temp_dir().join(format!("krbap-mit-files-{}", std::process::id()));
            std::fs::create_dir_all(&d).unwrap();
            d
        });
    let kt = krbap_keytab();
    let kt_path = out.join("krbap.keytab");
    kt.save(&kt_path).unwrap();
    assert_eq!(Keytab::load(&kt_path).unwrap(), kt);
    let expect: Vec<String> = krbap_keytab_lines(&kt);
    std::fs::write(out.join("krbap.keytab.expect"), expect.join("\n") + "\n").unwrap();

    // A ccache rebuilt credential by credential from MIT's (the live realm's after
    // `kvno`, else the capture), including its configuration entries.
    let source = match std::env::var_os("KRBAP_TEST_REALM_DIR") {
        Some(d) => PathBuf::from(d).join("ccache"),
        None => capture_dir().join("alice.ccache"),
    };
    let mit = Ccache::load(&source).unwrap();
    let mut cc = Ccache::new(mit.default_principal.clone());
    for c in &mit.credentials {
        cc.store(c.clone());
    }
    let cc_path = out.join("krbap.ccache");
    cc.save(&cc_path).unwrap();
    let back = Ccache::load(&cc_path).unwrap();
    assert_eq!(back.credentials, mit.credentials);
    assert_eq!(back.kdc_time_offset, None);
    let written = std::fs::read(&cc_path).unwrap();
    assert_eq!(&written[..4], &[5, 4, 0, 0]);
    if std::env::var_os("KRBAP_TEST_OUT_DIR").is_none() {
        std::fs::remove_dir_all(&out).unwrap();
    }
}

/// Files of a live realm (set up by tests/mit-files.sh): every `*.keytab` with a
/// `.klist` listing, and the ccache against its `klist -e -f` listing.
#[test]
fn live_realm_files_match_klist() {
    let Some(dir) = std::env::var_os("KRBAP_TEST_REALM_DIR").map(PathBuf::from) else {
        eprintln!(
            "KRBAP_TEST_REALM_DIR not set: live-realm files checked by tests/mit-files.sh only"
        );
        return;
    };
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let listing = PathBuf::from(format!("{}.klist", path.display()));
        if path.extension().is_some_and(|e| e == "keytab") && listing.exists() {
            check_keytab(&path, &std::fs::read_to_string(&listing).unwrap());
            checked += 1;
        }
    }
    assert!(
        checked >= 3,
        "expected the realm keytabs, ktutil's and alice's; found {checked}"
    );

    let cc = Ccache::load(&dir.join("ccache")).unwrap();
    let listing = std::fs::read_to_string(dir.join("ccache.klist")).unwrap();
    // klist lines "start  end  server" for each non-config credential, in order.
    let expect: Vec<String> = listing
        .lines()
        .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    let got: Vec<String> = cc
        .credentials
        .iter()
        .filter(|c| !c.is_config_entry())
        .map(|c: &Credential| {
            let start = if c.starttime != 0 {
                c.starttime
            } else {
                c.authtime
            };
            format!("{} {} {}", utc(start), utc(c.endtime), c.server)
        })
        .collect();
    assert_eq!(got, expect);
    assert!(
        got.iter().any(|l| l.ends_with("test/localhost@TEST.LOCAL")),
        "kvno's ticket"
    );
    let tgs = Principal::parse("test/localhost@TEST.LOCAL", None).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let c = cc
        .find(None, &tgs, now as i64)
        .expect("service ticket usable now");
    assert_eq!(c.key.keyvalue.len(), 32);
}

/// A version-3 ccache written by MIT (`ccache_type = 3`): read, listed as klist did, and
/// rewritten as version 4 with the same credentials.
#[test]
fn mit_version_3_ccache() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/files");
    let bytes = std::fs::read(dir.join("alice-v3.ccache")).unwrap();
    assert_eq!(&bytes[..2], &[5, 3]);
    let cc = Ccache::parse(&bytes, "alice-v3.ccache").unwrap();
    assert_eq!((cc.version, cc.kdc_time_offset), (3, None));
    let listing = std::fs::read_to_string(dir.join("alice-v3.ccache.klist")).unwrap();
    let expect: Vec<String> = listing
        .lines()
        .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    let got: Vec<String> = cc
        .credentials
        .iter()
        .filter(|c| !c.is_config_entry())
        .map(|c| format!("{} {} {}", utc(c.starttime), utc(c.endtime), c.server))
        .collect();
    assert_eq!(got, expect);
    assert!(cc
        .credentials
        .iter()
        .all(|c| c.is_config_entry() || c.key.keytype == 17 || c.key.keytype == 18));
    assert_eq!(cc.config_entries().count(), 2);
    let v4 = Ccache::parse(&cc.to_bytes(), "rewritten").unwrap();
    assert_eq!(v4.version, 4);
    assert_eq!(v4.credentials, cc.credentials);
}

/// The service keys MIT exported with -norandkey are the string-to-key of the service password with the
/// default salt, with each enctype's default iteration count.
#[test]
fn string2key_matches_mit_keys() {
    let kt = Keytab::load(&capture_dir().join("service.keytab")).unwrap();
    for e in &kt.entries {
        let enctype = krbap::crypto::Enctype::from_number(e.enctype).unwrap();
        let mut salt = e.principal.realm.clone();
        for c in &e.principal.name.components {
            salt.extend_from_slice(c);
        }
        let key =
            krbap::crypto::Key::from_password(enctype, b"service-Passw0rd", &salt, None).unwrap();
        assert_eq!(
            hex(key.bytes()),
            hex(&e.key),
            "{} {}",
            e.principal,
            enctype.name()
        );
    }
}
