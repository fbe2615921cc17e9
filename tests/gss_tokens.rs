//! GSS token framing, the 0x8003 checksum and RFC 4121 per-message tokens, checked against
//! tokens captured from MIT krb5 1.20 (tests/data/mit-capture, see its README.md).

use std::fs;
use std::path::{Path, PathBuf};

use krbap::crypto::{Enctype, Key};
use krbap::error::{major, minor};
use krbap::gss::checksum::{bindings_hash, verify_bindings, ChannelBindings};
use krbap::gss::token::{self, frame, unframe, TOK_AP_REP, TOK_AP_REQ, TOK_KRB_ERROR};
use krbap::gss::wrap::MessageProtection;

const REPLAY_FLAG: u32 = 4;
const SEQUENCE_FLAG: u32 = 8;

fn capture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/mit-capture")
}

fn hex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex {s}");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// One capture case, with what info.txt says about it.
struct Case {
    name: String,
    dir: PathBuf,
    message: Vec<u8>,
    /// The initiator subkey (MIT's lucid "ctx_key"), as enctype and bytes: keys are made
    /// only by the tests that need crypto.
    ctx_key: (Enctype, Vec<u8>),
    acceptor_subkey: Option<(Enctype, Vec<u8>)>,
    /// Initial sequence numbers of the initiator -> acceptor and acceptor -> initiator streams.
    c2s_initial: u64,
    s2c_initial: u64,
    /// Token files in generation order, per direction.
    c2s_tokens: Vec<String>,
    s2c_tokens: Vec<String>,
    acceptor_flags: u32,
    initiator_flags: u32,
}

fn field<'a>(line: &'a str, name: &str) -> &'a str {
    let start = line
        .find(name)
        .unwrap_or_else(|| panic!("{name} in {line}"))
        + name.len();
    line[start..].split_whitespace().next().unwrap()
}

fn parse_key(line: &str) -> (Enctype, Vec<u8>) {
    // "... (<enctype>[, role]) = <hex>"
    let open = line.find('(').unwrap();
    let close = line.find(')').unwrap();
    let enctype_name = line[open + 1..close].split(',').next().unwrap().trim();
    let enctype = Enctype::from_name(enctype_name).unwrap();
    let key_hex = line.rsplit("= ").next().unwrap().trim();
    (enctype, hex(key_hex))
}

fn load_case(name: &str) -> Case {
    let dir = capture_dir().join(name);
    let info = fs::read_to_string(dir.join("info.txt")).unwrap();
    let line = |prefix: &str| {
        info.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("{prefix} in {name}"))
            .to_string()
    };
    let ctx_key = parse_key(&line("initiator ctx_key"));
    let acc_line = line("initiator acceptor_subkey");
    let acceptor_subkey = (!acc_line.ends_with("none")).then(|| parse_key(&acc_line));
    let c2s_initial = field(&line("acceptor lucid:"), "recv_seq=")
        .parse()
        .unwrap();
    let s2c_initial = field(&line("initiator lucid:"), "recv_seq=")
        .parse()
        .unwrap();
    let flags = |prefix: &str| u32::from_str_radix(field(&line(prefix), "0x"), 16).unwrap();
    let mut c2s_tokens = Vec::new();
    let mut s2c_tokens = Vec::new();
    for l in info.lines() {
        let l = l.trim_start();
        if l.starts_with('#') {
            let file = l
                .split_whitespace()
                .nth(1)
                .unwrap()
                .trim_end_matches(':')
                .to_string();
            if file.starts_with("c2s") {
                c2s_tokens.push(file);
            } else {
                s2c_tokens.push(file);
            }
        }
    }
    Case {
        name: name.to_string(),
        message: fs::read(dir.join("message.bin")).unwrap(),
        dir,
        ctx_key,
        acceptor_subkey,
        c2s_initial,
        s2c_initial,
        c2s_tokens,
        s2c_tokens,
        acceptor_flags: flags("acceptor ret_flags"),
        initiator_flags: flags("initiator ret_flags"),
    }
}

fn all_cases() -> Vec<Case> {
    let mut names: Vec<String> = fs::read_dir(capture_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("info.txt").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 9, "capture cases missing: {names:?}");
    names.iter().map(|n| load_case(n)).collect()
}

impl Case {
    fn read(&self, file: &str) -> Vec<u8> {
        fs::read(self.dir.join(file)).unwrap()
    }
    fn ctx_key(&self) -> Key {
        Key::new(self.ctx_key.0, &self.ctx_key.1).unwrap()
    }
    /// The key MIT's per-message tokens use: the acceptor subkey if any.
    fn protection_key(&self) -> (Key, bool) {
        match &self.acceptor_subkey {
            Some((enctype, bytes)) => (Key::new(*enctype, bytes).unwrap(), true),
            None => (self.ctx_key(), false),
        }
    }
    /// The acceptor's view, as MIT's acceptor context has it.
    fn acceptor(&self) -> MessageProtection {
        let (key, acc) = self.protection_key();
        let f = self.acceptor_flags;
        MessageProtection::new(
            key,
            acc,
            false,
            self.s2c_initial,
            self.c2s_initial,
            f & REPLAY_FLAG != 0,
            f & SEQUENCE_FLAG != 0,
        )
        .with_initiator_key(self.ctx_key())
    }
    fn initiator(&self) -> MessageProtection {
        let (key, acc) = self.protection_key();
        let f = self.initiator_flags;
        MessageProtection::new(
            key,
            acc,
            true,
            self.c2s_initial,
            self.s2c_initial,
            f & REPLAY_FLAG != 0,
            f & SEQUENCE_FLAG != 0,
        )
    }
    /// Plaintext behind a token file.
    fn plaintext_for(&self, file: &str) -> Vec<u8> {
        if file.contains("empty") {
            Vec::new()
        } else {
            self.message.clone()
        }
    }
}

/// Feeds one captured token to `side`; returns the supplementary bits.
fn accept(
    side: &mut MessageProtection,
    case: &Case,
    file: &str,
    token: &[u8],
) -> Result<u32, krbap::Error> {
    let expect = case.plaintext_for(file);
    if file.contains("_mic") {
        side.verify_mic(&expect, token)
    } else {
        let u = side.unwrap(token)?;
        assert_eq!(u.message, expect, "{} {file}", case.name);
        assert_eq!(u.conf, file.contains("_conf"), "{} {file}", case.name);
        assert_eq!(u.qop, 0);
        Ok(u.supplementary)
    }
}

// ---------------------------------------------------------------- framing (no crypto)

#[test]
fn unframe_every_captured_token() {
    let mut seen = 0;
    for case in all_cases() {
        for (file, inner_file, tok_id) in [
            ("initial_token.bin", "ap_req.der", TOK_AP_REQ),
            ("ap_rep_token.bin", "ap_rep.der", TOK_AP_REP),
            ("replay_error_token.bin", "replay_error.der", TOK_KRB_ERROR),
        ] {
            let path = case.dir.join(file);
            if !path.exists() {
                continue;
            }
            let tok = fs::read(path).unwrap();
            let (id, inner) = unframe(&tok).unwrap();
            assert_eq!(id, tok_id, "{} {file}", case.name);
            assert_eq!(inner, &case.read(inner_file)[..], "{} {file}", case.name);
            assert_eq!(frame(id, inner), tok, "{} {file}", case.name);
            assert_eq!(token::unframe_expect(&tok, tok_id).unwrap(), inner);
            seen += 1;
        }
    }
    assert_eq!(
        seen,
        9 + 8 + 1,
        "initial tokens, AP-REP tokens, KRB-ERROR token"
    );
}

#[test]
fn hostile_framing_of_a_real_token() {
    let case = load_case("mutual");
    let tok = case.read("initial_token.bin");
    // 696 bytes: 0x60 0x82 0x02 0xb4 ...
    assert_eq!(&tok[..4], &[0x60, 0x82, 0x02, 0xb4]);
    let err = |t: &[u8]| {
        let e = unframe(t).unwrap_err();
        assert_eq!(e.major, major::DEFECTIVE_TOKEN);
        e.minor
    };
    for cut in [0, 1, 2, 3, 4, 5, 10, 16, 17, tok.len() - 1] {
        assert_eq!(err(&tok[..cut]), minor::G_BAD_TOK_HEADER, "cut {cut}");
    }
    let mut t = tok.clone();
    t.push(0);
    assert_eq!(err(&t), minor::G_BAD_TOK_HEADER, "trailing byte");
    // Length one short / one long.
    for delta in [-1i32, 1] {
        let mut t = tok.clone();
        t[3] = (t[3] as i32 + delta) as u8;
        assert_eq!(err(&t), minor::G_BAD_TOK_HEADER);
    }
    // Overlong length encoding: 0x83 0x00 0x02 0xb4.
    let mut t = vec![0x60, 0x83, 0x00, 0x02, 0xb4];
    t.extend_from_slice(&tok[4..]);
    assert_eq!(err(&t), minor::G_BAD_TOK_HEADER);
    // Indefinite length.
    let mut t = vec![0x60, 0x80];
    t.extend_from_slice(&tok[4..]);
    assert_eq!(err(&t), minor::G_BAD_TOK_HEADER);
    // Each OID byte changed: wrong mechanism or bad header, never accepted.
    for i in 6..15 {
        let mut t = tok.clone();
        t[i] ^= 0x01;
        assert_eq!(err(&t), minor::G_WRONG_MECH, "OID byte {i}");
    }
    let mut t = tok.clone();
    t[5] = 0x0a; // OID length 10: compares as another mechanism
    assert_eq!(err(&t), minor::G_WRONG_MECH);
    // TOK_ID is returned, the caller decides.
    let mut t = tok.clone();
    t[15] = 0x02;
    assert_eq!(
        token::unframe_expect(&t, TOK_AP_REQ).unwrap_err().minor,
        minor::G_WRONG_TOKID
    );
}

// ---------------------------------------------------------------- checksum (no crypto)

#[test]
fn channel_binding_hash_layout() {
    // RFC 4121 §4.1.1.2 / MIT kg_checksum_channel_bindings: every integer and length as
    // 4 bytes little-endian, in declaration order; the application data has no type.
    let cb = ChannelBindings {
        initiator_addrtype: 2,
        initiator_address: vec![127, 0, 0, 1],
        acceptor_addrtype: 2,
        acceptor_address: vec![10, 0, 0, 1],
        application_data: b"krbap channel binding".to_vec(),
    };
    let layout = hex(concat!(
        "02000000",
        "04000000",
        "7f000001",
        "02000000",
        "04000000",
        "0a000001",
        "15000000",
        "6b72626170206368616e6e656c2062696e64696e67"
    ));
    assert_eq!(cb.hash(), krbap::crypto::md5(&[&layout]));
    // MD5 of that layout, computed independently (Python hashlib).
    assert_eq!(cb.hash().to_vec(), hex("75bb12aa57691344273d12c7a30d7af2"));
    let mut tls = b"tls-server-end-point:".to_vec();
    tls.extend(0u8..32);
    assert_eq!(
        ChannelBindings::from_application_data(&tls).hash().to_vec(),
        hex("8f1214c9c9cab8dc3bf866da9aba57a7")
    );
    // Empty bindings are not "no bindings": 20 zero bytes hashed.
    assert_eq!(
        ChannelBindings::default().hash().to_vec(),
        hex("441018525208457705bf09a8ee3c1093")
    );
    assert_eq!(bindings_hash(None), [0; 16]);
    assert!(verify_bindings(&cb.hash(), Some(&cb)).is_ok());
    assert_eq!(
        verify_bindings(&ChannelBindings::default().hash(), Some(&cb))
            .unwrap_err()
            .major,
        major::BAD_BINDINGS
    );
}

// ---------------------------------------------------------------- MIT tokens (crypto)

#[test]
fn unwrap_every_mit_token_both_directions() {
    let mut count = 0;
    for case in all_cases() {
        let mut acceptor = case.acceptor();
        for file in &case.c2s_tokens {
            let sup = accept(&mut acceptor, &case, file, &case.read(file))
                .unwrap_or_else(|e| panic!("{} {file}: {e:?}", case.name));
            assert_eq!(sup, 0, "{} {file}", case.name);
            count += 1;
        }
        let mut initiator = case.initiator();
        for file in &case.s2c_tokens {
            let sup = accept(&mut initiator, &case, file, &case.read(file))
                .unwrap_or_else(|e| panic!("{} {file}: {e:?}", case.name));
            assert_eq!(sup, 0, "{} {file}", case.name);
            count += 1;
        }
    }
    assert_eq!(count, 9 * 6 + 3);
}

fn confounders() -> Vec<(String, String, Vec<u8>)> {
    let text = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/gss/confounders.txt"),
    )
    .unwrap();
    text.lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f[0].to_string(), f[1].to_string(), hex(f[3]))
        })
        .collect()
}

/// Undoes an RRC rotation and zeroes the RRC field: the token as sent with RRC 0.
fn unrotate(token: &[u8]) -> Vec<u8> {
    let rrc = u16::from_be_bytes([token[6], token[7]]) as usize;
    let body = &token[16..];
    let r = rrc % body.len();
    let mut out = token[..16].to_vec();
    out[6] = 0;
    out[7] = 0;
    out.extend_from_slice(&body[r..]);
    out.extend_from_slice(&body[..r]);
    out
}

#[test]
fn produce_mit_tokens_byte_for_byte() {
    let confounders = confounders();
    let mut compared = 0;
    for case in all_cases() {
        for (dir, files, initial) in [
            ("c2s", &case.c2s_tokens, case.c2s_initial),
            ("s2c", &case.s2c_tokens, case.s2c_initial),
        ] {
            for (index, file) in files.iter().enumerate() {
                let (key, acc) = case.protection_key();
                let we_are_initiator = dir == "c2s";
                let mut sender = MessageProtection::new(
                    key,
                    acc,
                    we_are_initiator,
                    initial + index as u64,
                    0,
                    false,
                    false,
                );
                let msg = case.plaintext_for(file);
                let ours = if file.contains("_mic") {
                    sender.get_mic(&msg)
                } else if file.contains("_noconf") {
                    sender.wrap(false, &msg)
                } else {
                    let conf = &confounders
                        .iter()
                        .find(|(c, f, _)| *c == case.name && f == file)
                        .unwrap()
                        .2;
                    sender.wrap_conf_with_confounder(&msg, conf)
                };
                assert_eq!(sender.next_send_seq(), initial + index as u64 + 1);
                // MIT's RRC 28 token is ours once rotated back.
                let theirs = if file.contains("_mic") {
                    case.read(file)
                } else {
                    unrotate(&case.read(file))
                };
                assert_eq!(ours, theirs, "{} {file}", case.name);
                compared += 1;
            }
        }
    }
    assert_eq!(compared, 9 * 6 + 3);
}

#[test]
fn tampered_tokens_fail_and_leave_state_alone() {
    for name in ["mutual", "nomutual", "aes128-sha256", "aes256-sha384"] {
        let case = load_case(name);
        for (dir, files) in [("c2s", &case.c2s_tokens), ("s2c", &case.s2c_tokens)] {
            let mut side = if dir == "c2s" {
                case.acceptor()
            } else {
                case.initiator()
            };
            for file in files.iter() {
                let good = case.read(file);
                for i in 0..good.len() {
                    for bit in [0x01u8, 0x80] {
                        let mut bad = good.clone();
                        bad[i] ^= bit;
                        let e = match accept(&mut side, &case, file, &bad) {
                            Err(e) => e,
                            Ok(_) => panic!("{name} {file}: byte {i} ^ {bit:#x} accepted"),
                        };
                        assert!(
                            e.major == major::BAD_SIG || e.major == major::DEFECTIVE_TOKEN,
                            "{name} {file} byte {i}: {e:?}"
                        );
                        if i < 2 {
                            assert_eq!(
                                (e.major, e.minor),
                                (major::DEFECTIVE_TOKEN, minor::G_WRONG_TOKID)
                            );
                        } else if i == 2 && bit == 0x01 {
                            assert_eq!(
                                (e.major, e.minor),
                                (major::BAD_SIG, minor::G_BAD_DIRECTION)
                            );
                        } else if i >= 16 && !file.contains("noconf") && !file.contains("mic") {
                            // Ciphertext: the MAC fails.
                            assert_eq!(
                                (e.major, e.minor),
                                (major::BAD_SIG, minor::AP_ERR_BAD_INTEGRITY),
                                "{name} {file} byte {i}"
                            );
                        }
                    }
                }
                // Truncations.
                for cut in [0, 1, 15, 16, good.len() - 1] {
                    assert!(
                        accept(&mut side, &case, file, &good[..cut]).is_err(),
                        "{name} {file} cut {cut}"
                    );
                }
                // After all that, the genuine token is still new and in order.
                assert_eq!(
                    accept(&mut side, &case, file, &good).unwrap(),
                    0,
                    "{name} {file}"
                );
            }
        }
    }
}

#[test]
fn wrong_direction_is_bad_sig() {
    let case = load_case("mutual");
    // A c2s token fed back to the initiator (a reflection) and vice versa.
    let mut initiator = case.initiator();
    let mut acceptor = case.acceptor();
    for file in &case.c2s_tokens {
        let e = accept(&mut initiator, &case, file, &case.read(file)).unwrap_err();
        assert_eq!(
            (e.major, e.minor),
            (major::BAD_SIG, minor::G_BAD_DIRECTION),
            "{file}"
        );
    }
    for file in &case.s2c_tokens {
        let e = accept(&mut acceptor, &case, file, &case.read(file)).unwrap_err();
        assert_eq!(
            (e.major, e.minor),
            (major::BAD_SIG, minor::G_BAD_DIRECTION),
            "{file}"
        );
    }
    // A MIC token is not a Wrap token and the other way round.
    let e = acceptor.unwrap(&case.read("c2s_mic.bin")).unwrap_err();
    assert_eq!(
        (e.major, e.minor),
        (major::DEFECTIVE_TOKEN, minor::G_WRONG_TOKID)
    );
    let e = acceptor
        .verify_mic(&case.message, &case.read("c2s_wrap_noconf.bin"))
        .unwrap_err();
    assert_eq!(
        (e.major, e.minor),
        (major::DEFECTIVE_TOKEN, minor::G_WRONG_TOKID)
    );
    // Neither failure moved the state.
    for file in &case.c2s_tokens {
        assert_eq!(
            accept(&mut acceptor, &case, file, &case.read(file)).unwrap(),
            0
        );
    }
}

#[test]
fn replay_and_sequence_with_mit_tokens() {
    let case = load_case("mutual");
    let t: Vec<Vec<u8>> = case.c2s_tokens.iter().map(|f| case.read(f)).collect();
    let f = &case.c2s_tokens;
    // In order, then a replay: DUPLICATE_TOKEN, and the message is still returned.
    let mut a = case.acceptor();
    assert_eq!(accept(&mut a, &case, &f[0], &t[0]).unwrap(), 0);
    assert_eq!(
        accept(&mut a, &case, &f[0], &t[0]).unwrap(),
        major::DUPLICATE_TOKEN
    );
    assert_eq!(accept(&mut a, &case, &f[1], &t[1]).unwrap(), 0);
    assert_eq!(
        accept(&mut a, &case, &f[0], &t[0]).unwrap(),
        major::DUPLICATE_TOKEN
    );
    // Gap then the skipped ones: GAP, then UNSEQ for the late token, DUPLICATE after.
    let mut a = case.acceptor();
    assert_eq!(
        accept(&mut a, &case, &f[2], &t[2]).unwrap(),
        major::GAP_TOKEN
    );
    assert_eq!(
        accept(&mut a, &case, &f[1], &t[1]).unwrap(),
        major::UNSEQ_TOKEN
    );
    assert_eq!(
        accept(&mut a, &case, &f[0], &t[0]).unwrap(),
        major::UNSEQ_TOKEN
    );
    assert_eq!(
        accept(&mut a, &case, &f[0], &t[0]).unwrap(),
        major::DUPLICATE_TOKEN
    );
    assert_eq!(accept(&mut a, &case, &f[3], &t[3]).unwrap(), 0);
    // Without replay/sequence flags (MIT's "noconf" context), nothing is reported.
    let noconf = load_case("noconf");
    let mut a = noconf.acceptor();
    let nf = &noconf.c2s_tokens;
    for _ in 0..2 {
        for file in nf.iter().rev() {
            assert_eq!(
                accept(&mut a, &noconf, file, &noconf.read(file)).unwrap(),
                0
            );
        }
    }
}

#[test]
fn old_token_outside_the_replay_window() {
    for (replay, sequence, expect_old) in [
        (true, false, major::OLD_TOKEN),
        (true, true, major::UNSEQ_TOKEN),
    ] {
        let key = Key::new(Enctype::Aes128CtsHmacSha196, &[7; 16]).unwrap();
        let mut tx = MessageProtection::new(key.clone(), false, true, 500, 900, false, false);
        let mut rx = MessageProtection::new(key, false, false, 900, 500, replay, sequence);
        let tokens: Vec<Vec<u8>> = (0..70).map(|i| tx.get_mic(&[i as u8])).collect();
        let mic =
            |rx: &mut MessageProtection, i: usize| rx.verify_mic(&[i as u8], &tokens[i]).unwrap();
        assert_eq!(
            mic(&mut rx, 69),
            if sequence { major::GAP_TOKEN } else { 0 }
        );
        assert_eq!(
            mic(&mut rx, 6),
            if sequence { major::UNSEQ_TOKEN } else { 0 }
        );
        assert_eq!(mic(&mut rx, 6), major::DUPLICATE_TOKEN);
        assert_eq!(mic(&mut rx, 5), expect_old);
        assert_eq!(mic(&mut rx, 0), expect_old);
    }
}

#[test]
fn rrc_rotations_are_accepted() {
    let case = load_case("mutual");
    // MIT's own rotated token (RRC 28, as Windows sends) was unwrapped above; here every
    // rotation of every Wrap token, including counts beyond the body length.
    for file in [
        "c2s_wrap_conf.bin",
        "c2s_wrap_noconf.bin",
        "c2s_wrap_conf_empty.bin",
        "c2s_wrap_conf_rrc.bin",
    ] {
        let plain = unrotate(&case.read(file));
        // A fresh acceptor sees a gap unless this is the first token of the stream.
        let expect = if case.c2s_tokens[0] == file {
            0
        } else {
            major::GAP_TOKEN
        };
        let body_len = plain.len() - 16;
        for rrc in [
            0usize,
            1,
            12,
            16,
            28,
            body_len - 1,
            body_len,
            body_len + 3,
            1000,
            65535,
        ] {
            let r = rrc % body_len;
            let mut tok = plain[..16].to_vec();
            tok[6..8].copy_from_slice(&(rrc as u16).to_be_bytes());
            tok.extend_from_slice(&plain[16 + body_len - r..]);
            tok.extend_from_slice(&plain[16..16 + body_len - r]);
            let mut a = case.acceptor();
            assert_eq!(
                accept(&mut a, &case, file, &tok).unwrap(),
                expect,
                "{file} rrc {rrc}"
            );
        }
    }
}

#[test]
fn framed_per_message_tokens_are_accepted_like_mit() {
    let case = load_case("mutual");
    let mut a = case.acceptor();
    for file in &case.c2s_tokens {
        let raw = case.read(file);
        // 0x60, DER length, OID, then the token itself (no TOK_ID of the framing).
        let len = token::KRB5_MECH_OID.len() + raw.len();
        let mut framed = if len < 0x80 {
            vec![0x60, len as u8]
        } else {
            vec![0x60, 0x81, len as u8]
        };
        framed.extend_from_slice(token::KRB5_MECH_OID);
        framed.extend_from_slice(&raw);
        assert_eq!(accept(&mut a, &case, file, &framed).unwrap(), 0, "{file}");
    }
}

// ---------------------------------------------------------------- our own round trips

fn key_of(enctype: Enctype, seed: u8) -> Key {
    let bytes: Vec<u8> = (0..enctype.key_len())
        .map(|i| seed.wrapping_mul(31).wrapping_add(i as u8))
        .collect();
    Key::new(enctype, &bytes).unwrap()
}

/// One message both ways through `tx` -> `rx`: Wrap and MIC, plus a MIC on a changed message.
fn exchange(tx: &mut MessageProtection, rx: &mut MessageProtection, conf: bool, msg: &[u8]) {
    let tok = tx.wrap(conf, msg);
    let u = rx.unwrap(&tok).unwrap();
    assert!(u.message == msg, "message differs ({} bytes)", msg.len());
    assert_eq!((u.conf, u.supplementary), (conf, 0));
    let mic = tx.get_mic(msg);
    assert_eq!(rx.verify_mic(msg, &mic).unwrap(), 0);
    // The MIC binds the message; the failure does not consume the sequence number.
    let mic = tx.get_mic(msg);
    let mut other = msg.to_vec();
    other.push(0);
    assert_eq!(
        rx.verify_mic(&other, &mic).unwrap_err().major,
        major::BAD_SIG
    );
    assert_eq!(rx.verify_mic(msg, &mic).unwrap(), 0);
}

#[test]
fn round_trip_every_enctype_both_directions() {
    let data: Vec<u8> = (0..16 * 1024)
        .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    for enctype in Enctype::ALL {
        for acceptor_subkey in [false, true] {
            let key = key_of(enctype, 3);
            // The acceptor's sequence numbers wrap around 2^64 during the test.
            let mut init = MessageProtection::new(
                key.clone(),
                acceptor_subkey,
                true,
                77,
                u64::MAX - 2,
                true,
                true,
            );
            let mut acc =
                MessageProtection::new(key, acceptor_subkey, false, u64::MAX - 2, 77, true, true);
            for conf in [true, false] {
                for n in [0usize, 1, 15, 16, 17, 73, 1000, 16 * 1024] {
                    exchange(&mut init, &mut acc, conf, &data[..n]);
                    exchange(&mut acc, &mut init, conf, &data[..n]);
                }
            }
        }
    }
}

#[test]
fn sixteen_mib_round_trip_every_enctype_both_directions() {
    let big: Vec<u8> = (0..16 * 1024 * 1024)
        .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    for enctype in Enctype::ALL {
        let key = key_of(enctype, 4);
        let mut init = MessageProtection::new(key.clone(), true, true, 5, 6, true, true);
        let mut acc = MessageProtection::new(key, true, false, 6, 5, true, true);
        for conf in [true, false] {
            let u = acc.unwrap(&init.wrap(conf, &big)).unwrap();
            assert!(u.message == big && u.conf == conf && u.supplementary == 0);
            let u = init.unwrap(&acc.wrap(conf, &big)).unwrap();
            assert!(u.message == big && u.conf == conf && u.supplementary == 0);
        }
    }
}

#[test]
fn wrap_size_limit_matches_the_tokens() {
    for enctype in Enctype::ALL {
        let mut p = MessageProtection::new(key_of(enctype, 9), false, true, 1, 1, false, false);
        for conf in [true, false] {
            for max in [0u32, 10, 16, 28, 40, 60, 61, 64, 100, 1000, 4096] {
                let limit = p.wrap_size_limit(conf, max) as usize;
                // MIT's limit is tight: that size fills max_output exactly, one more overflows.
                if limit > 0 {
                    assert_eq!(
                        p.wrap(conf, &vec![0; limit]).len(),
                        max as usize,
                        "{enctype:?} {conf} {max}"
                    );
                }
                assert!(
                    p.wrap(conf, &vec![0; limit + 1]).len() > max as usize,
                    "{enctype:?} {conf} {max}"
                );
            }
        }
    }
}
