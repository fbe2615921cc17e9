//! The bad-input matrix (issue #8): malformed initial tokens and per-message tokens, each with
//! the major/minor status it must get, against the Rust API directly (a panic fails the test;
//! nothing here goes through the FFI's panic guard). After the whole table, the SAME acceptor
//! credential and replay cache accept a valid token (MIT's own captured one, which none of the
//! rows consumed) and refuse its replay, and the established context still unwraps and
//! verifies MIT's tokens in sequence (no failed row advanced its sequence state).
//!
//! README.md, "Bad-input matrix", documents the classes; c-tests/test_bad_input.c is the same
//! matrix through the C ABI.

mod common;

use common::{capture_acceptor as acceptor, capture_path as data};
use krbap::asn1::{ApReq, Der};
use krbap::cred::{AcceptorCredential, InitiatorCredential};
use krbap::error::{major, minor, Error};
use krbap::gss::checksum::ctx_flags;
use krbap::gss::context::{InitOptions, SecurityContext};
use krbap::gss::name::{Name, NameType};
use krbap::gss::token::{frame, TOK_AP_REQ};

fn read(p: &str) -> Vec<u8> {
    std::fs::read(data(p)).unwrap_or_else(|e| panic!("{p}: {e}"))
}

/// The ASN.1 decoder's minor codes (MIT's asn1 error table): which one a malformed DER input
/// gets depends on where the damage is first seen, so rows that iterate positions accept any.
const ASN1_MINORS: [i32; 6] = [
    minor::ASN1_OVERRUN,
    minor::ASN1_BAD_LENGTH,
    minor::ASN1_BAD_ID,
    minor::ASN1_BAD_FORMAT,
    minor::ASN1_MISSING_FIELD,
    minor::ASN1_OVERFLOW,
];

/// What a row expects: one exact (major, minor), or a major with any minor of a set.
#[derive(Clone, Copy)]
enum Want {
    Exact(u32, i32),
    AnyOf(u32, &'static [i32]),
}

impl Want {
    fn admits(&self, e: &Error) -> bool {
        match *self {
            Want::Exact(ma, mi) => e.major == ma && e.minor == mi,
            Want::AnyOf(ma, set) => e.major == ma && set.contains(&e.minor),
        }
    }
}

/// Collects every row's outcome so that one run reports all mismatches.
#[derive(Default)]
struct Matrix {
    rows: usize,
    cases: usize,
    failures: Vec<String>,
}

impl Matrix {
    /// One row: every input must fail with `want`.
    fn row<T>(
        &mut self,
        name: &str,
        inputs: Vec<Vec<u8>>,
        want: Want,
        mut run: impl FnMut(&[u8]) -> Result<T, Error>,
    ) {
        assert!(!inputs.is_empty(), "row {name} has no input");
        self.rows += 1;
        for (i, input) in inputs.iter().enumerate() {
            self.cases += 1;
            match run(input) {
                Ok(_) => self
                    .failures
                    .push(format!("{name} [case {i}]: accepted, expected an error")),
                Err(e) if want.admits(&e) => {}
                Err(e) => self.failures.push(format!(
                    "{name} [case {i}]: got major {:#x} minor {} ({}: {}), expected {}",
                    e.major,
                    e.minor,
                    e.minor_message(),
                    e.detail,
                    match want {
                        Want::Exact(ma, mi) => format!("major {ma:#x} minor {mi}"),
                        Want::AnyOf(ma, set) => format!("major {ma:#x} minor in {set:?}"),
                    }
                )),
            }
        }
    }
}

// ---- files other programs write too (issue #20) -------------------------------------------

/// A ccache whose last credential claims more bytes than the whole file (MIT's reader says
/// KRB5_CC_FORMAT; a file that merely ends inside a credential is read up to it), and keytabs
/// that `add_to_file` must not write to: cut inside a record (a record running past the end
/// of the file, a partial record length) or of the read-only 0x0501 format.
fn file_rows(m: &mut Matrix) {
    let dir = std::env::temp_dir().join(format!("krbap-bad-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cc_path = dir.join("cc");
    let cc = read("alice.ccache");
    let inputs = [0x7fff_ffff, cc.len() as u32 + 100, u32::MAX]
        .iter()
        .map(|n| {
            let mut b = cc.clone();
            b.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 1]);
            b.extend_from_slice(&n.to_be_bytes());
            b
        })
        .collect();
    m.row(
        "ccache: a length past the end of the whole file",
        inputs,
        Want::Exact(major::NO_CRED, minor::CC_FORMAT),
        |b| {
            std::fs::write(&cc_path, b).unwrap();
            InitiatorCredential::from_ccache(Some(cc_path.to_str().unwrap()), None)
        },
    );

    let kt = read("service.keytab");
    let entry = krbap::keytab::Keytab::parse(&kt, "kt").unwrap().entries[0].clone();
    let mut boundaries = vec![2];
    let mut pos = 2;
    while pos + 4 <= kt.len() {
        let len = i32::from_be_bytes(kt[pos..pos + 4].try_into().unwrap());
        pos += 4 + len.unsigned_abs() as usize;
        boundaries.push(pos);
    }
    let mut inputs: Vec<Vec<u8>> = (3..kt.len())
        .filter(|n| !boundaries.contains(n))
        .map(|n| kt[..n].to_vec())
        .collect();
    let mut native = kt.clone();
    native[1] = 1;
    inputs.push(native);
    let kt_path = dir.join("kt");
    m.row(
        "keytab add: record past the end, partial length, 0x0501 format",
        inputs,
        Want::Exact(major::FAILURE, minor::KT_FORMAT),
        |b| {
            std::fs::write(&kt_path, b).unwrap();
            krbap::keytab::Keytab::add_to_file(&kt_path, std::slice::from_ref(&entry))
        },
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---- DER helpers for building the malformed initial tokens ----------------------------------

/// A DER definite length.
fn der_len(n: usize) -> Vec<u8> {
    if n < 0x80 {
        return vec![n as u8];
    }
    let bytes = (n as u64).to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count();
    let mut out = vec![0x80 | (8 - skip) as u8];
    out.extend_from_slice(&bytes[skip..]);
    out
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend(der_len(content.len()));
    out.extend_from_slice(content);
    out
}

/// The AP-REQ inside a framed initial token (after the TOK_ID).
fn inner_of(token: &[u8]) -> Vec<u8> {
    let (tok_id, inner) = krbap::gss::token::unframe(token).unwrap();
    assert_eq!(tok_id, TOK_AP_REQ);
    inner.to_vec()
}

/// A framed initial token around an arbitrary (possibly malformed) AP-REQ.
fn reframe(inner: &[u8]) -> Vec<u8> {
    frame(TOK_AP_REQ, inner)
}

/// Decodes the AP-REQ, lets `edit` change it, and re-encodes and re-frames it.
fn edited(token: &[u8], edit: impl FnOnce(&mut ApReq)) -> Vec<u8> {
    let mut req = ApReq::from_der(&inner_of(token)).unwrap();
    edit(&mut req);
    reframe(&req.to_der())
}

/// Replaces the first occurrence of `from` after `start` in `bytes` (a test fixture
/// edit whose location is asserted, so the row cannot silently test nothing).
fn replace_once(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let at = bytes
        .windows(from.len())
        .position(|w| w == from)
        .unwrap_or_else(|| panic!("pattern {from:02x?} not found"));
    let mut out = bytes[..at].to_vec();
    out.extend_from_slice(to);
    out.extend_from_slice(&bytes[at + from.len()..]);
    out
}

/// A deterministic byte stream (xorshift) for the random-body rows.
fn pseudo_random(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn flip(bytes: &[u8], at: usize, mask: u8) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[at] ^= mask;
    out
}

fn set(bytes: &[u8], at: usize, value: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[at..at + value.len()].copy_from_slice(value);
    out
}

const DEFECTIVE: u32 = major::DEFECTIVE_TOKEN;
const FAILURE: u32 = major::FAILURE;
const BAD_SIG: u32 = major::BAD_SIG;

fn initial_token_rows(m: &mut Matrix, ac: &AcceptorCredential, good: &[u8]) {
    let mut accept = |t: &[u8]| SecurityContext::accept(ac, t, None).map_err(|f| f.error);
    let inner = inner_of(good);
    let bad_header = Want::Exact(DEFECTIVE, minor::G_BAD_TOK_HEADER);
    let asn1 = Want::AnyOf(DEFECTIVE, &ASN1_MINORS);

    // Framing (RFC 2743 §3.1).
    m.row(
        "initial token truncated at every length",
        (0..good.len()).map(|n| good[..n].to_vec()).collect(),
        bad_header,
        &mut accept,
    );
    m.row(
        "AP-REQ truncated at every length (framing re-made to fit)",
        (0..inner.len()).map(|n| reframe(&inner[..n])).collect(),
        asn1,
        &mut accept,
    );
    m.row(
        "byte after the framed token",
        vec![[good, &[0u8][..]].concat()],
        bad_header,
        &mut accept,
    );
    m.row(
        "byte after the AP-REQ inside the framing",
        vec![reframe(&[&inner[..], &[0u8]].concat())],
        asn1,
        &mut accept,
    );
    m.row(
        "first byte not 0x60",
        vec![set(good, 0, &[0x30]), set(good, 0, &[0x00])],
        bad_header,
        &mut accept,
    );
    m.row(
        "outer length larger than the data",
        vec![{
            let mut t = good.to_vec();
            // 60 82 HH LL: the long form with two length octets.
            assert_eq!(t[1], 0x82);
            t[3] = t[3].wrapping_add(1);
            t
        }],
        bad_header,
        &mut accept,
    );
    m.row(
        "outer length indefinite (0x80)",
        vec![[&[0x60, 0x80][..], &good[4..], &[0, 0]].concat()],
        bad_header,
        &mut accept,
    );
    m.row(
        "outer length of 9 and of 127 octets",
        vec![
            [&[0x60, 0x89][..], &[0xff; 9], &good[4..]].concat(),
            [&[0x60, 0xff][..], &good[4..]].concat(),
        ],
        bad_header,
        &mut accept,
    );
    m.row(
        "outer length not minimal (82 00 xx)",
        vec![[&[0x60, 0x83, 0x00][..], &good[2..]].concat()],
        bad_header,
        &mut accept,
    );
    m.row(
        "mechanism OID missing (no 0x06 after the length)",
        vec![tlv(0x60, &[0x05, 0x00, 0x01, 0x00])],
        bad_header,
        &mut accept,
    );
    m.row(
        "mechanism OID length past the data",
        vec![tlv(0x60, &[0x06, 0x7f, 0x2a, 0x86])],
        bad_header,
        &mut accept,
    );
    let body = &good[4..]; // 06 09 <krb5 OID> 01 00 <AP-REQ>
    m.row(
        "wrong mechanism OID (each OID byte changed; SPNEGO; MS krb5; old krb5)",
        {
            let mut v: Vec<Vec<u8>> = (2..11).map(|i| tlv(0x60, &flip(body, i, 0x01))).collect();
            let other_oids: [&[u8]; 3] = [
                &[0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02], // SPNEGO 1.3.6.1.5.5.2
                &[
                    0x06, 0x09, 0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02,
                ], // MS krb5 1.2.840.48018.1.2.2
                &[0x06, 0x05, 0x2b, 0x05, 0x01, 0x05, 0x02],       // pre-RFC krb5 1.3.5.1.5.2
            ];
            for oid in other_oids {
                v.push(tlv(0x60, &[oid, &body[11..]].concat()));
            }
            v
        },
        Want::Exact(DEFECTIVE, minor::G_WRONG_MECH),
        &mut accept,
    );
    m.row(
        "no TOK_ID after the OID",
        vec![tlv(0x60, &body[..11]), tlv(0x60, &body[..12])],
        bad_header,
        &mut accept,
    );
    m.row(
        "wrong TOK_ID (AP-REP, KRB-ERROR, MIC, Wrap, 00 00, ff ff, 01 01)",
        [[2, 0], [3, 0], [4, 4], [5, 4], [0, 0], [0xff, 0xff], [1, 1]]
            .iter()
            .map(|id| frame(*id, &inner))
            .collect(),
        Want::Exact(DEFECTIVE, minor::G_WRONG_TOKID),
        &mut accept,
    );
    m.row(
        "MIT's AP-REP and KRB-ERROR tokens given to accept",
        vec![
            read("mutual/ap_rep_token.bin"),
            read("mutual/replay_error_token.bin"),
        ],
        Want::Exact(DEFECTIVE, minor::G_WRONG_TOKID),
        &mut accept,
    );
    m.row(
        "all-zero and all-0xff buffers of the token's size",
        vec![vec![0u8; good.len()], vec![0xffu8; good.len()]],
        bad_header,
        &mut accept,
    );

    // DER of the AP-REQ (RFC 4120 §5.5.1).
    m.row(
        "AP-REQ length larger than the data",
        vec![{
            let mut i = inner.clone();
            assert_eq!(i[1], 0x82);
            i[3] = i[3].wrapping_add(1);
            reframe(&i)
        }],
        Want::Exact(DEFECTIVE, minor::ASN1_OVERRUN),
        &mut accept,
    );
    m.row(
        "AP-REQ with indefinite lengths (BER, not DER)",
        vec![
            reframe(&[&[0x6e, 0x80][..], &inner[4..], &[0, 0]].concat()),
            reframe(&[&inner[..4], &[0x30, 0x80], &inner[8..], &[0, 0]].concat()),
        ],
        Want::Exact(DEFECTIVE, minor::ASN1_BAD_LENGTH),
        &mut accept,
    );
    m.row(
        "AP-REQ length not minimally encoded (83 00 xx xx; 81 05 for a short value)",
        vec![
            reframe(&[&[0x6e, 0x83, 0x00][..], &inner[2..]].concat()),
            reframe(&tlv(0x6e, &[0x30, 0x81, 0x03, 0x02, 0x01, 0x05])),
        ],
        Want::Exact(DEFECTIVE, minor::ASN1_BAD_LENGTH),
        &mut accept,
    );
    m.row(
        "AP-REQ length of 5 and 9 length octets",
        vec![
            reframe(&[&[0x6e, 0x85, 0, 0, 0][..], &inner[2..]].concat()),
            reframe(&[
                0x6e, 0x89, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            ]),
        ],
        Want::Exact(DEFECTIVE, minor::ASN1_OVERFLOW),
        &mut accept,
    );
    m.row(
        "nesting 40 / 1000 / 100000 levels deep",
        [40usize, 1000, 100_000]
            .iter()
            .map(|&depth| {
                let mut v = vec![0x05, 0x00];
                for _ in 0..depth {
                    v = tlv(0x30, &v);
                }
                reframe(&tlv(0x6e, &v))
            })
            .collect(),
        Want::Exact(DEFECTIVE, minor::ASN1_PARSE_ERROR),
        &mut accept,
    );
    m.row(
        "OCTET STRING claiming 2^31-1, 2^32-1 and 2^64-1 bytes",
        [
            &[0x84, 0x7f, 0xff, 0xff, 0xff][..],
            &[0x84, 0xff, 0xff, 0xff, 0xff],
            &[0x88, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        ]
        .iter()
        .map(|len| {
            // ... authenticator [4] SEQUENCE { etype, cipher [2] OCTET STRING <huge> } ...
            let octets = [&[0x04][..], len, &[0u8; 32]].concat();
            reframe(&tlv(
                0x6e,
                &tlv(0x30, &tlv(0xa4, &tlv(0x30, &tlv(0xa2, &octets)))),
            ))
        })
        .collect(),
        asn1,
        &mut accept,
    );
    m.row(
        "wrong APPLICATION tag (AP-REP, Ticket, KRB-ERROR) for the AP-REQ",
        [0x6f, 0x61, 0x7e]
            .iter()
            .map(|&tag| reframe(&set(&inner, 0, &[tag])))
            .collect(),
        Want::Exact(DEFECTIVE, minor::AP_ERR_MSG_TYPE),
        &mut accept,
    );
    m.row(
        "not an APPLICATION tag (SEQUENCE, context [14])",
        [0x30, 0xae]
            .iter()
            .map(|&tag| reframe(&set(&inner, 0, &[tag])))
            .collect(),
        Want::Exact(DEFECTIVE, minor::ASN1_BAD_ID),
        &mut accept,
    );
    m.row(
        "msg-type 15 inside an AP-REQ",
        vec![reframe(&replace_once(
            &inner,
            &[0xa1, 0x03, 0x02, 0x01, 0x0e],
            &[0xa1, 0x03, 0x02, 0x01, 0x0f],
        ))],
        Want::Exact(DEFECTIVE, minor::BADMSGTYPE),
        &mut accept,
    );
    m.row(
        "pvno 4",
        vec![reframe(&replace_once(
            &inner,
            &[0xa0, 0x03, 0x02, 0x01, 0x05],
            &[0xa0, 0x03, 0x02, 0x01, 0x04],
        ))],
        Want::Exact(DEFECTIVE, minor::KDC_ERR_BAD_PVNO),
        &mut accept,
    );
    m.row(
        "ticket APPLICATION 1 tag changed to APPLICATION 2",
        vec![{
            let at = inner.windows(2).position(|w| w == [0x61, 0x82]).unwrap();
            reframe(&set(&inner, at, &[0x62]))
        }],
        Want::Exact(DEFECTIVE, minor::ASN1_BAD_ID),
        &mut accept,
    );
    m.row(
        "random bytes inside a valid framing (300 seeds, 1-700 bytes)",
        (1..=300u64)
            .map(|s| reframe(&pseudo_random(s, (s as usize * 7) % 700 + 1)))
            .collect(),
        asn1,
        &mut accept,
    );
    m.row(
        "random bytes after a valid AP-REQ tag and length",
        (1..=100u64)
            .map(|s| {
                let r = pseudo_random(s * 31, inner.len() - 4);
                reframe(&[&inner[..4], &r[..]].concat())
            })
            .collect(),
        Want::AnyOf(
            DEFECTIVE,
            &[
                minor::ASN1_OVERRUN,
                minor::ASN1_BAD_LENGTH,
                minor::ASN1_BAD_ID,
                minor::ASN1_BAD_FORMAT,
                minor::ASN1_MISSING_FIELD,
                minor::ASN1_OVERFLOW,
                minor::AP_ERR_MSG_TYPE,
            ],
        ),
        &mut accept,
    );

    // Ticket and authenticator contents (RFC 4120 §3.2.3, MIT rd_req.c codes).
    m.row(
        "ticket kvno not in the keytab",
        vec![
            edited(good, |r| r.ticket.enc_part.kvno = Some(7)),
            edited(good, |r| r.ticket.enc_part.kvno = Some(u32::MAX)),
        ],
        Want::Exact(FAILURE, minor::AP_ERR_BADKEYVER),
        &mut accept,
    );
    m.row(
        "ticket enctype not in the keytab (rc4-hmac, des3, unknown 99, negative)",
        [23, 16, 99, -1]
            .iter()
            .map(|&e| edited(good, |r| r.ticket.enc_part.etype = e))
            .collect(),
        Want::Exact(FAILURE, minor::AP_ERR_NOKEY),
        &mut accept,
    );
    m.row(
        "ticket for another service / realm",
        vec![
            edited(good, |r| r.ticket.sname.components[0] = b"other".to_vec()),
            edited(good, |r| r.ticket.realm = b"OTHER.REALM".to_vec()),
        ],
        Want::Exact(FAILURE, minor::AP_ERR_NOT_US),
        &mut accept,
    );
    let ticket_len = |g: &[u8]| {
        ApReq::from_der(&inner_of(g))
            .unwrap()
            .ticket
            .enc_part
            .cipher
            .len()
    };
    let tl = ticket_len(good);
    m.row(
        "ticket ciphertext empty / shorter than confounder+MAC (1..27 bytes)",
        [0usize, 1, 15, 16, 27]
            .iter()
            .map(|&n| edited(good, |r| r.ticket.enc_part.cipher.truncate(n)))
            .collect(),
        Want::Exact(FAILURE, minor::AP_ERR_BAD_INTEGRITY),
        &mut accept,
    );
    m.row(
        "ticket ciphertext cut to confounder+MAC and one byte short of full",
        vec![
            edited(good, |r| r.ticket.enc_part.cipher.truncate(28)),
            edited(good, |r| r.ticket.enc_part.cipher.truncate(tl - 1)),
        ],
        Want::Exact(FAILURE, minor::AP_ERR_BAD_INTEGRITY),
        &mut accept,
    );
    m.row(
        "ticket ciphertext: first, middle, last byte flipped",
        [0usize, tl / 2, tl - 1]
            .iter()
            .map(|&i| edited(good, |r| r.ticket.enc_part.cipher[i] ^= 0x80))
            .collect(),
        Want::Exact(FAILURE, minor::AP_ERR_BAD_INTEGRITY),
        &mut accept,
    );
    m.row(
        "authenticator ciphertext empty / shorter than confounder+MAC",
        [0usize, 1, 12, 27]
            .iter()
            .map(|&n| edited(good, |r| r.authenticator.cipher.truncate(n)))
            .collect(),
        Want::Exact(FAILURE, minor::AP_ERR_BAD_INTEGRITY),
        &mut accept,
    );
    m.row(
        "authenticator ciphertext: first and last byte flipped, cut to confounder+MAC",
        vec![
            edited(good, |r| r.authenticator.cipher[0] ^= 1),
            edited(good, |r| *r.authenticator.cipher.last_mut().unwrap() ^= 1),
            edited(good, |r| r.authenticator.cipher.truncate(28)),
        ],
        Want::Exact(FAILURE, minor::AP_ERR_BAD_INTEGRITY),
        &mut accept,
    );
    m.row(
        "authenticator enctype differs from the session key's",
        vec![
            edited(good, |r| r.authenticator.etype = 17),
            edited(good, |r| r.authenticator.etype = 99),
        ],
        Want::Exact(FAILURE, minor::AP_ERR_BAD_INTEGRITY),
        &mut accept,
    );
}

/// Per-message rows on an established acceptor context: MIT's initiator -> acceptor tokens
/// of the non-mutual capture (keyed by the initiator's subkey, which the acceptor has; the
/// mutual capture's tokens use MIT's acceptor subkey, which a krbap acceptor cannot know).
fn per_message_rows(m: &mut Matrix, ctx: &mut SecurityContext) {
    let conf = read("nomutual/c2s_wrap_conf.bin");
    let noconf = read("nomutual/c2s_wrap_noconf.bin");
    let mic = read("nomutual/c2s_mic.bin");
    let message = read("nomutual/message.bin");
    let own_wrap = ctx.wrap(true, b"reflected").unwrap();
    let own_mic = ctx.get_mic(b"reflected").unwrap();
    // RFC 4121 §4.2.6.2 Wrap header: TOK_ID 05 04 | flags | filler ff | EC(2) | RRC(2) | SND_SEQ(8).
    assert_eq!(&conf[..2], &[0x05, 0x04]);
    assert_eq!(conf[2] & 0x02, 0x02, "c2s_wrap_conf is sealed");
    assert_eq!(&mic[..2], &[0x04, 0x04]);

    let unwrap = |ctx: &mut SecurityContext, t: &[u8]| ctx.unwrap(t);
    let trunc = Want::Exact(DEFECTIVE, minor::G_TOK_TRUNC);
    let tokid = Want::Exact(DEFECTIVE, minor::G_WRONG_TOKID);
    let direction = Want::Exact(BAD_SIG, minor::G_BAD_DIRECTION);
    let bad_header = Want::Exact(DEFECTIVE, minor::G_BAD_TOK_HEADER);
    let integrity = Want::Exact(BAD_SIG, minor::AP_ERR_BAD_INTEGRITY);
    let msize = Want::Exact(BAD_SIG, minor::BAD_MSIZE);

    m.row(
        "Wrap (sealed) truncated inside its 16-byte header",
        (0..16).map(|n| conf[..n].to_vec()).collect(),
        trunc,
        |t| unwrap(ctx, t),
    );
    m.row(
        "Wrap (sealed) ciphertext shorter than confounder+MAC (0..27 bytes)",
        (16..16 + 28).map(|n| conf[..n].to_vec()).collect(),
        msize,
        |t| unwrap(ctx, t),
    );
    m.row(
        "Wrap (sealed) truncated at every longer length",
        (16 + 28..conf.len()).map(|n| conf[..n].to_vec()).collect(),
        integrity,
        |t| unwrap(ctx, t),
    );
    m.row(
        "Wrap TOK_ID wrong (MIC, AP-REQ, RFC 1964 wrap 02 01, 05 05, 04 05)",
        [[4u8, 4], [1, 0], [2, 1], [5, 5], [4, 5]]
            .iter()
            .map(|id| set(&conf, 0, id))
            .collect(),
        tokid,
        |t| unwrap(ctx, t),
    );
    m.row(
        "Wrap flags: SentByAcceptor set (wrong direction), and our own token reflected",
        vec![flip(&conf, 2, 0x01), own_wrap.clone()],
        direction,
        |t| unwrap(ctx, t),
    );
    m.row(
        "Wrap flags: AcceptorSubkey set, a reserved bit set (differ from the encrypted copy)",
        vec![
            flip(&conf, 2, 0x04),
            flip(&conf, 2, 0x80),
            flip(&conf, 2, 0x08),
        ],
        bad_header,
        |t| unwrap(ctx, t),
    );
    m.row(
        "Wrap flags: Sealed cleared (read as integrity-only, EC 0 is not the MAC length)",
        vec![flip(&conf, 2, 0x02)],
        integrity,
        |t| unwrap(ctx, t),
    );
    m.row(
        "Wrap filler not 0xff",
        vec![set(&conf, 3, &[0x00]), set(&conf, 3, &[0xfe])],
        bad_header,
        |t| unwrap(ctx, t),
    );
    m.row(
        "Wrap (sealed) EC changed (1, 16, 0xffff)",
        [1u16, 16, 0xffff]
            .iter()
            .map(|ec| set(&conf, 4, &ec.to_be_bytes()))
            .collect(),
        bad_header,
        |t| unwrap(ctx, t),
    );
    m.row(
        "Wrap (sealed) RRC changed (1, 28, 0xffff): the rotation breaks the ciphertext",
        [1u16, 28, 0xffff]
            .iter()
            .map(|rrc| set(&conf, 6, &rrc.to_be_bytes()))
            .collect(),
        integrity,
        |t| unwrap(ctx, t),
    );
    m.row(
        "Wrap (sealed) SND_SEQ changed (each of its 8 bytes)",
        (8..16).map(|i| flip(&conf, i, 0x01)).collect(),
        bad_header,
        |t| unwrap(ctx, t),
    );
    m.row(
        "Wrap (sealed) ciphertext: every 8th byte flipped",
        (16..conf.len())
            .step_by(8)
            .map(|i| flip(&conf, i, 0x40))
            .collect(),
        integrity,
        |t| unwrap(ctx, t),
    );
    m.row(
        "Wrap (integrity) EC not the checksum length (0, 11, 13)",
        [0u16, 11, 13]
            .iter()
            .map(|ec| set(&noconf, 4, &ec.to_be_bytes()))
            .collect(),
        integrity,
        |t| unwrap(ctx, t),
    );
    m.row(
        "Wrap (integrity) EC larger than the body",
        vec![set(&noconf, 4, &[0xff, 0xff])],
        trunc,
        |t| unwrap(ctx, t),
    );
    m.row(
        "Wrap (integrity) flags, RRC, SND_SEQ, message byte or checksum byte changed",
        vec![
            flip(&noconf, 2, 0x04),
            flip(&noconf, 2, 0x80),
            set(&noconf, 6, &[0, 5]),
            flip(&noconf, 15, 0x01),
            flip(&noconf, 16, 0x01),
            flip(&noconf, noconf.len() - 1, 0x01),
        ],
        integrity,
        |t| unwrap(ctx, t),
    );
    m.row(
        "Wrap (integrity) checksum cut short",
        vec![noconf[..noconf.len() - 1].to_vec()],
        integrity,
        |t| unwrap(ctx, t),
    );
    m.row(
        "Wrap inside a 0x60 framing with the wrong mechanism OID",
        vec![{
            let mut f = frame([0x05, 0x04], &conf[2..]);
            // The last OID byte, just before the TOK_ID and the rest of the token.
            let last_oid_byte = f.len() - (conf.len() - 2) - 2 - 1;
            f[last_oid_byte] ^= 1;
            f
        }],
        Want::Exact(DEFECTIVE, minor::G_WRONG_MECH),
        |t| unwrap(ctx, t),
    );

    // RFC 4121 §4.2.6.1 MIC header: TOK_ID 04 04 | flags | filler ff ff ff ff ff | SND_SEQ(8).
    let verify = |ctx: &mut SecurityContext, t: &[u8]| ctx.verify_mic(&message, t);
    m.row(
        "MIC truncated inside its header",
        (0..16).map(|n| mic[..n].to_vec()).collect(),
        trunc,
        |t| verify(ctx, t),
    );
    m.row(
        "MIC checksum truncated (0..11 of 12 bytes)",
        (16..mic.len()).map(|n| mic[..n].to_vec()).collect(),
        msize,
        |t| verify(ctx, t),
    );
    m.row(
        "MIC TOK_ID wrong (Wrap, RFC 1964 MIC 01 01, 04 05)",
        [[5u8, 4], [1, 1], [4, 5]]
            .iter()
            .map(|id| set(&mic, 0, id))
            .collect(),
        tokid,
        |t| verify(ctx, t),
    );
    m.row(
        "MIC flags: SentByAcceptor set, and our own MIC reflected",
        vec![flip(&mic, 2, 0x01), own_mic.clone()],
        direction,
        |t| verify(ctx, t),
    );
    m.row(
        "MIC flags: Sealed set, AcceptorSubkey set, reserved bit set (all under the MAC)",
        vec![
            flip(&mic, 2, 0x02),
            flip(&mic, 2, 0x04),
            flip(&mic, 2, 0x80),
        ],
        integrity,
        |t| verify(ctx, t),
    );
    m.row(
        "MIC filler: each of its 5 bytes changed",
        (3..8).map(|i| set(&mic, i, &[0x00])).collect(),
        bad_header,
        |t| verify(ctx, t),
    );
    m.row(
        "MIC SND_SEQ changed (each of its 8 bytes), checksum byte flipped",
        (8..16)
            .map(|i| flip(&mic, i, 0x01))
            .chain([flip(&mic, mic.len() - 1, 0x01)])
            .collect(),
        integrity,
        |t| verify(ctx, t),
    );
    m.row(
        "MIC over another message",
        vec![mic.clone()],
        integrity,
        |t| ctx.verify_mic(b"not the message", t),
    );
    m.row(
        "MIC checksum longer than the MAC",
        vec![[&mic[..], &[0u8]].concat()],
        msize,
        |t| verify(ctx, t),
    );
}

/// Replay-cache names of the `redis:` family that krbap's parser refuses (none of them
/// reaches a server or a resolver): each with `KRB5_RC_PARSE` and the part named.
fn rcache_name_rows(m: &mut Matrix) {
    use krbap::rcache::{ReplayCache, RC_PARSE, RC_TYPE_NOTFOUND};
    fn names(v: &[String]) -> Vec<Vec<u8>> {
        v.iter().map(|s| s.as_bytes().to_vec()).collect()
    }
    fn run(input: &[u8]) -> Result<ReplayCache, Error> {
        ReplayCache::from_name(std::str::from_utf8(input).unwrap())
    }
    let parse = Want::Exact(major::FAILURE, RC_PARSE);
    let strs = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    m.row(
        "redis name: no host, bad host, port out of range or not a number, bad IPv6 literal",
        names(&strs(&[
            "redis:",
            "redis:h",
            "redis://",
            "redis://:6379",
            "redis://h:",
            "redis://h:0",
            "redis://h:65536",
            "redis://h:+1",
            "redis://h:1x",
            "redis://h_!",
            "redis://h%41",
            "redis://[::1",
            "redis://[::g]:1",
            "redis://[::1]x",
            "redis+cluster://a:1,,b:2",
        ])),
        parse,
        run,
    );
    let mut out_of_range = strs(&[
        "redis://h/x",
        "redis://h/1/2",
        "redis://h/99999999999",
        "redis://h?prefix",
        "redis://h?bogus=1",
        "redis://h?db=1",
        "redis://h?timeout_ms=0",
        "redis://h?timeout_ms=60001",
        "redis://h?timeout_ms=",
        "redis://h?prefix=a&prefix=b",
        "redis://h?prefix=a%20b",
        "redis://h#fragment",
        "redis+cluster://a:1/3",
        "redis+unix:///s?timeout_ms=5&timeout_ms=6",
        "redis+unix://relative.sock",
    ]);
    out_of_range.push(format!("redis://h?prefix={}", "p".repeat(129)));
    out_of_range.push(format!("redis+cluster://{}", vec!["h:1"; 65].join(",")));
    out_of_range.push(format!("redis+unix:///{}", "s".repeat(107)));
    out_of_range.push(format!("redis://h?prefix={}", "p".repeat(5000)));
    m.row(
        "redis name: database, parameter unknown/repeated/without '='/out of range, too long",
        names(&out_of_range),
        parse,
        run,
    );
    m.row(
        "redis name: bad %-escapes, not UTF-8, user without password, empty password, raw '@'",
        names(&strs(&[
            "redis://h?prefix=%zz",
            "redis://h?prefix=%4",
            "redis://h?prefix=%e9",
            "redis://user@h",
            "redis://u:@h",
            "redis://u:p@ss@h",
            "redis://u%00:p@h",
            "redis://u%20v:p@h",
            "redis+unix:///s?user=u",
            "redis+unix:///s?password=",
        ])),
        parse,
        run,
    );
    m.row(
        "rediss+cluster: (Redis Cluster over TLS) not offered",
        names(&strs(&[
            "rediss+cluster://h:1,h:2",
            "rediss+cluster://h?ca=/c.pem",
        ])),
        Want::Exact(major::FAILURE, RC_TYPE_NOTFOUND),
        run,
    );
    m.row(
        "rediss name: cert without key (or key without cert), empty/relative/control path, \
         repeated or unknown parameter, TLS parameter in a redis:/redis+unix:/redis+cluster: name",
        names(&strs(&[
            "rediss://h?cert=/c.pem",
            "rediss://h?key=/k.pem",
            "rediss://h?cert=/c.pem&key=",
            "rediss://h?ca=",
            "rediss://h?ca=ca.pem",
            "rediss://h?ca=/a%0Ab",
            "rediss://h?ca=%00",
            "rediss://h?ca=/a&ca=/b",
            "rediss://h?insecure=1",
            "rediss://h?tls_verify=no",
            "rediss://",
            "rediss:h",
            "redis://h?ca=/c.pem",
            "redis+unix:///s?cert=/c.pem&key=/k.pem",
            "redis+cluster://h:1?ca=/c.pem",
        ])),
        parse,
        run,
    );
    m.row(
        "rediss name: a PEM file that cannot be read (none, a directory), checked before any \
         connection",
        names(&strs(&[
            "rediss://127.0.0.1:1?ca=/nonexistent/krbap-ca.pem",
            "rediss://127.0.0.1:1?ca=/",
            "rediss://127.0.0.1:1?cert=/nonexistent/c.pem&key=/nonexistent/k.pem",
        ])),
        parse,
        run,
    );
}

/// SPNEGO (RFC 4178) rows: the acceptor's first token, its continuation after request-mic,
/// and the initiator's continuation. Tokens that get past Kerberos are krbap's own, fresh
/// for each input, so that the matrix acceptor never sees MIT's captured token.
fn spnego_rows(m: &mut Matrix, ac: &AcceptorCredential, good: &[u8], t: i64) {
    use krbap::gss::mech::{Context, Mechanism};
    use krbap::gss::spnego::der::{self, oid, NegState, NegTokenResp};

    let asn1 = Want::AnyOf(DEFECTIVE, &ASN1_MINORS);
    let negotiation = Want::Exact(DEFECTIVE, minor::SPNEGO_NEGOTIATION_FAILED);
    let mut accept = |tok: &[u8]| {
        Context::accept(ac, tok, None)
            .map(|_| ())
            .map_err(|f| f.error)
    };
    let spnego_oid = tlv(0x06, oid::SPNEGO);
    // InitialContextToken(SPNEGO, body) with any (possibly malformed) body.
    let framed = |body: &[u8]| tlv(0x60, &[&spnego_oid[..], body].concat());
    let krb5_list = der::encode_mech_types(&[oid::KRB5]);
    let wrapped = der::encode_init(&krb5_list, Some(good), None);
    let header = 2 + if wrapped[1] & 0x80 != 0 {
        usize::from(wrapped[1] & 0x7f)
    } else {
        0
    };
    let body = &wrapped[header + spnego_oid.len()..];
    assert_eq!(framed(body), wrapped, "the SPNEGO body is located");
    // NegTokenInit SEQUENCE contents -> the whole token.
    let init_of = |seq: &[u8]| framed(&tlv(0xa0, &tlv(0x30, seq)));
    let types_field = tlv(0xa0, &krb5_list);
    let mech_field = tlv(0xa2, &tlv(0x04, good));

    m.row(
        "SPNEGO initial token truncated at every length",
        (0..wrapped.len()).map(|n| wrapped[..n].to_vec()).collect(),
        Want::Exact(DEFECTIVE, minor::G_BAD_TOK_HEADER),
        &mut accept,
    );
    m.row(
        "SPNEGO NegotiationToken truncated at every length (framing re-made to fit)",
        (0..body.len()).map(|n| framed(&body[..n])).collect(),
        asn1,
        &mut accept,
    );
    m.row(
        "SPNEGO first token not a NegTokenInit ([1] NegTokenResp, [2], a bare OCTET STRING)",
        vec![
            framed(&tlv(0xa1, &tlv(0x30, &[]))),
            framed(&tlv(0xa2, &tlv(0x30, &[]))),
            framed(&tlv(0x04, b"x")),
            framed(&tlv(0xa0, &tlv(0x31, &types_field))),
        ],
        Want::Exact(DEFECTIVE, minor::ASN1_BAD_ID),
        &mut accept,
    );
    m.row(
        "SPNEGO lengths: indefinite, not minimal, 5 length octets",
        vec![
            framed(&[&[0xa0, 0x80][..], &tlv(0x30, &types_field), &[0, 0]].concat()),
            framed(&[&[0xa0, 0x81, 0x0f][..], &tlv(0x30, &types_field)].concat()),
            framed(&[0xa0, 0x85, 0, 0, 0, 0, 0x0f]),
        ],
        asn1,
        &mut accept,
    );
    m.row(
        "SPNEGO NegTokenInit without mechTypes first (absent, or after mechToken)",
        vec![
            init_of(&mech_field),
            init_of(&[]),
            init_of(&[&mech_field[..], &types_field].concat()),
        ],
        Want::Exact(DEFECTIVE, minor::ASN1_MISSING_FIELD),
        &mut accept,
    );
    m.row(
        "SPNEGO NegTokenInit fields out of order or repeated",
        vec![
            init_of(&[&types_field[..], &types_field].concat()),
            init_of(&[&types_field[..], &mech_field, &mech_field].concat()),
            init_of(&[&types_field[..], &tlv(0x30, &[])].concat()),
        ],
        Want::Exact(DEFECTIVE, minor::ASN1_BAD_ID),
        &mut accept,
    );
    m.row(
        "SPNEGO malformed OID in mechTypes (empty, unterminated, 0x80 padding)",
        [&[][..], &[0x2a, 0x86][..], &[0x2a, 0x80, 0x48][..]]
            .iter()
            .map(|o| init_of(&tlv(0xa0, &tlv(0x30, &tlv(0x06, o)))))
            .collect(),
        Want::Exact(DEFECTIVE, minor::ASN1_BAD_FORMAT),
        &mut accept,
    );
    m.row(
        "SPNEGO mechTypes with 65 mechanisms",
        vec![der::encode_init(
            &der::encode_mech_types(&[oid::NEGOEX; 65]),
            None,
            None,
        )],
        Want::Exact(DEFECTIVE, minor::ASN1_OVERFLOW),
        &mut accept,
    );
    m.row(
        "SPNEGO bytes after the NegTokenInit",
        vec![
            framed(&[body, &[0u8][..]].concat()),
            init_of(&[&types_field[..], &mech_field, &[0x00, 0x00]].concat()),
        ],
        Want::AnyOf(DEFECTIVE, &[minor::ASN1_BAD_LENGTH, minor::ASN1_BAD_ID]),
        &mut accept,
    );
    m.row(
        "SPNEGO without Kerberos (NTLMSSP, NegoEx, pre-RFC krb5, SPNEGO, none)",
        [
            vec![oid::NTLMSSP],
            vec![oid::NEGOEX, oid::NTLMSSP],
            vec![oid::KRB5_OLD],
            vec![oid::SPNEGO],
            vec![],
        ]
        .iter()
        .map(|l| der::encode_init(&der::encode_mech_types(l), Some(good), None))
        .collect(),
        Want::Exact(major::BAD_MECH, minor::SPNEGO_NEGOTIATION_FAILED),
        &mut accept,
    );
    m.row(
        "SPNEGO mech token framed for another mechanism (NTLMSSP, SPNEGO)",
        [oid::NTLMSSP, oid::SPNEGO]
            .iter()
            .map(|o| {
                let inner = tlv(
                    0x60,
                    &[&tlv(0x06, o)[..], &[1, 0], &inner_of(good)].concat(),
                );
                der::encode_init(&krb5_list, Some(&inner), None)
            })
            .collect(),
        Want::Exact(major::BAD_MECH, minor::SPNEGO_NEGOTIATION_FAILED),
        &mut accept,
    );
    m.row(
        "SPNEGO mech token not a GSS token (raw NTLMSSP, empty) or a truncated AP-REQ",
        vec![
            der::encode_init(&krb5_list, Some(b"NTLMSSP\0\x01\0\0\0"), None),
            der::encode_init(&krb5_list, Some(&[]), None),
            der::encode_init(&krb5_list, Some(&good[..good.len() - 1]), None),
        ],
        Want::Exact(DEFECTIVE, minor::G_BAD_TOK_HEADER),
        &mut accept,
    );

    // The acceptor's second leg, after request-mic for [NTLMSSP, krb5].
    let ntlm_list = der::encode_mech_types(&[oid::NTLMSSP, oid::KRB5]);
    let first = der::encode_init(&ntlm_list, Some(b"NTLMSSP\0\x01\0\0\0"), None);
    let mut second = |tok: &[u8]| {
        let (mut ctx, step) = Context::accept(ac, &first, None).map_err(|f| f.error)?;
        assert!(!step.complete);
        ctx.continue_accept(ac, tok, None)
            .map(|_| ())
            .map_err(|f| f.error)
    };
    let ic = InitiatorCredential::from_ccache(Some(data("alice.ccache").to_str().unwrap()), None)
        .unwrap();
    ic.clock.set_fixed(Some(t));
    let target = Name::import(b"test@localhost", NameType::HostbasedService, None).unwrap();
    let krb5_opts = |mutual: bool| InitOptions {
        req_flags: ctx_flags::SEQUENCE | if mutual { ctx_flags::MUTUAL } else { 0 },
        channel_bindings: None,
    };
    // A fresh krbap AP-REQ (not mutual) and its initiator's MIC over `list`.
    let fresh = |list: &[u8]| {
        let (mut k, ap_req) = SecurityContext::initiate(&ic, &target, &krb5_opts(false)).unwrap();
        let mic = k.get_mic(list).unwrap();
        (ap_req, mic)
    };
    let resp = |tok: Option<&[u8]>, mic: Option<&[u8]>| {
        der::encode_resp(&NegTokenResp {
            neg_state: None,
            supported_mech: None,
            response_token: tok,
            mech_list_mic: mic,
        })
    };
    let (ap_req, mic) = fresh(&ntlm_list);
    let well_formed = resp(Some(&ap_req), Some(&mic));
    m.row(
        "SPNEGO NegTokenResp truncated at every length",
        (0..well_formed.len())
            .map(|n| well_formed[..n].to_vec())
            .collect(),
        asn1,
        &mut second,
    );
    m.row(
        "SPNEGO initiator's NegTokenResp: supportedMech, nothing in it, a MIC before Kerberos",
        vec![
            der::encode_resp(&NegTokenResp {
                supported_mech: Some(oid::KRB5),
                response_token: Some(&ap_req),
                ..Default::default()
            }),
            resp(None, None),
            resp(None, Some(&mic)),
        ],
        negotiation,
        &mut second,
    );
    m.row(
        "SPNEGO initiator ends the negotiation (negState reject)",
        vec![der::encode_resp(&NegTokenResp {
            neg_state: Some(NegState::Reject),
            ..Default::default()
        })],
        Want::Exact(FAILURE, minor::SPNEGO_NEGOTIATION_FAILED),
        &mut second,
    );
    m.row(
        "SPNEGO required mechListMIC missing (AP-REQ without mutual, no MIC)",
        vec![resp(Some(&fresh(&ntlm_list).0), None)],
        negotiation,
        &mut second,
    );
    m.row(
        "SPNEGO mechListMIC corrupted, over another list, or a Wrap token",
        {
            let (a1, mut m1) = fresh(&ntlm_list);
            let last = m1.len() - 1;
            m1[last] ^= 1;
            let (a2, m2) = fresh(&krb5_list);
            let (a3, m3) = fresh(&der::encode_mech_types(&[oid::KRB5, oid::NTLMSSP]));
            vec![
                resp(Some(&a1), Some(&m1)),
                resp(Some(&a2), Some(&m2)),
                resp(Some(&a3), Some(&m3)),
            ]
        },
        Want::Exact(BAD_SIG, minor::AP_ERR_BAD_INTEGRITY),
        &mut second,
    );
    m.row(
        "SPNEGO mechListMIC truncated or not a MIC token",
        {
            let (a1, m1) = fresh(&ntlm_list);
            let (a2, _) = fresh(&ntlm_list);
            vec![
                resp(Some(&a1), Some(&m1[..10])),
                resp(
                    Some(&a2),
                    Some(&[0x05, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
                ),
            ]
        },
        Want::AnyOf(DEFECTIVE, &[minor::G_TOK_TRUNC, minor::G_WRONG_TOKID]),
        &mut second,
    );

    // The initiator's second step: answers to a mutual SPNEGO AP-REQ. The clock is fixed,
    // so krbap's acceptor's answer to one such request verifies in every fresh context.
    let spnego_opts = krb5_opts(true);
    let mut init = |tok: &[u8]| {
        let (mut ctx, _) = Context::initiate(&ic, &target, Mechanism::Spnego, &spnego_opts)?;
        ctx.continue_init(tok).map(|_| ()).map_err(|f| f.error)
    };
    let (_, step) = Context::initiate(&ic, &target, Mechanism::Spnego, &spnego_opts).unwrap();
    let fresh_ac = acceptor(t);
    let (mut a, answer) = Context::accept(&fresh_ac, &step.token.unwrap(), None).unwrap();
    let answer = answer.token.unwrap();
    let ap_rep = der::decode_resp(&answer)
        .unwrap()
        .response_token
        .unwrap()
        .to_vec();
    let answer_with = |state: Option<NegState>, mech: Option<&[u8]>, tok: Option<&[u8]>| {
        der::encode_resp(&NegTokenResp {
            neg_state: state,
            supported_mech: mech,
            response_token: tok,
            mech_list_mic: None,
        })
    };
    let completed = Some(NegState::AcceptCompleted);
    // The control: the unmodified answer completes a fresh context.
    let (mut control, _) =
        Context::initiate(&ic, &target, Mechanism::Spnego, &spnego_opts).unwrap();
    assert!(control.continue_init(&answer).unwrap().complete);
    m.row(
        "SPNEGO acceptor's answer truncated at every length",
        (0..answer.len()).map(|n| answer[..n].to_vec()).collect(),
        asn1,
        &mut init,
    );
    m.row(
        "SPNEGO acceptor's answer is a NegTokenInit",
        vec![der::encode_init(&krb5_list, Some(&ap_rep), None)],
        Want::Exact(DEFECTIVE, minor::ASN1_BAD_ID),
        &mut init,
    );
    m.row(
        "SPNEGO acceptor rejects (no token)",
        vec![answer_with(Some(NegState::Reject), None, None)],
        Want::Exact(FAILURE, minor::SPNEGO_NEGOTIATION_FAILED),
        &mut init,
    );
    m.row(
        "SPNEGO acceptor selects a mechanism never offered (NTLMSSP, SPNEGO)",
        [oid::NTLMSSP, oid::SPNEGO]
            .iter()
            .map(|o| answer_with(completed, Some(o), Some(&ap_rep)))
            .collect(),
        negotiation,
        &mut init,
    );
    m.row(
        "SPNEGO mutual authentication but no responseToken",
        vec![
            answer_with(completed, Some(oid::KRB5), None),
            answer_with(Some(NegState::AcceptIncomplete), None, None),
            answer_with(completed, Some(oid::KRB5), Some(&[])),
        ],
        Want::AnyOf(
            DEFECTIVE,
            &[
                minor::SPNEGO_NO_TOKEN_FROM_ACCEPTOR,
                minor::G_BAD_TOK_HEADER,
            ],
        ),
        &mut init,
    );
    m.row(
        "SPNEGO acceptor's mechListMIC corrupted or over another list",
        {
            let k = a.krb5_mut().unwrap();
            let mut bad = k.get_mic(&krb5_list).unwrap();
            let last = bad.len() - 1;
            bad[last] ^= 1;
            let other = k.get_mic(&ntlm_list).unwrap();
            [bad, other]
                .iter()
                .map(|mic| {
                    der::encode_resp(&NegTokenResp {
                        neg_state: completed,
                        supported_mech: Some(oid::KRB5),
                        response_token: Some(&ap_rep),
                        mech_list_mic: Some(mic),
                    })
                })
                .collect()
        },
        Want::AnyOf(
            BAD_SIG,
            &[minor::AP_ERR_BAD_INTEGRITY, minor::AP_ERR_BADORDER],
        ),
        &mut init,
    );
}

// ---- the PAC (MS-PAC) ------------------------------------------------------------------

fn samba(p: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/samba-ad")
            .join(p),
    )
    .unwrap()
}

fn le32(b: &[u8], at: usize) -> usize {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) as usize
}

/// (offset, size) of the buffer of type `t` in the PAC, from its PAC_INFO_BUFFER.
fn pac_buffer(pac: &[u8], t: usize) -> (usize, usize) {
    (0..le32(pac, 0))
        .map(|i| 8 + 16 * i)
        .find(|&at| le32(pac, at) == t)
        .map(|at| (le32(pac, at + 8), le32(pac, at + 4)))
        .unwrap()
}

fn pac_rows(m: &mut Matrix) {
    use krbap::pac::Pac;
    let pac = samba("alice.pac");
    Pac::parse(&pac).expect("the fixture PAC parses");
    let bad = Want::Exact(FAILURE, minor::EINVAL);
    let parse = |b: &[u8]| Pac::parse(b);
    let n = le32(&pac, 0);
    let (li, li_size) = pac_buffer(&pac, 1);
    let (ci, _) = pac_buffer(&pac, 10);
    let (upn, _) = pac_buffer(&pac, 12);
    let (sig, _) = pac_buffer(&pac, 6);
    m.row(
        "PAC truncated at every length",
        (0..pac.len()).map(|l| pac[..l].to_vec()).collect(),
        bad,
        parse,
    );
    m.row(
        "PACTYPE: Version not 0; cBuffers 0, 65, 2^32-1, or more than the bytes hold",
        vec![
            set(&pac, 4, &[1]),
            set(&pac, 0, &0u32.to_le_bytes()),
            set(&pac, 0, &65u32.to_le_bytes()),
            set(&pac, 0, &u32::MAX.to_le_bytes()),
            set(&pac, 0, &60u32.to_le_bytes()),
        ],
        bad,
        parse,
    );
    m.row(
        "PAC_INFO_BUFFER: offset not 8-aligned, inside the header, past the end, 2^64-1; size past the end, 2^32-1 (each buffer)",
        (0..n)
            .flat_map(|i| {
                let at = 8 + 16 * i;
                let off = le32(&pac, at + 8);
                [
                    set(&pac, at + 8, &((off + 4) as u64).to_le_bytes()),
                    set(&pac, at + 8, &8u64.to_le_bytes()),
                    set(&pac, at + 8, &(pac.len() as u64 + 8).to_le_bytes()),
                    set(&pac, at + 8, &u64::MAX.to_le_bytes()),
                    set(&pac, at + 4, &((pac.len() - off + 1) as u32).to_le_bytes()),
                    set(&pac, at + 4, &u32::MAX.to_le_bytes()),
                ]
            })
            .collect(),
        bad,
        parse,
    );
    m.row(
        "PAC buffers overlapping; a buffer type twice",
        vec![
            set(&pac, 8 + 16 + 8, &(li as u64).to_le_bytes()),
            set(&pac, 8 + 16, &1u32.to_le_bytes()),
        ],
        bad,
        parse,
    );
    // LOGON_INFO: the NDR envelope, pointers, counts, strings and SIDs.
    let obj = li + 16;
    m.row(
        "LOGON_INFO NDR header: version 2, big-endian, header length 16, object longer than the buffer; null top-level pointer",
        vec![
            set(&pac, li, &[2]),
            set(&pac, li + 1, &[0x00]),
            set(&pac, li + 2, &[16]),
            set(&pac, li + 8, &(li_size as u32).to_le_bytes()),
            set(&pac, obj, &[0, 0, 0, 0]),
        ],
        bad,
        parse,
    );
    // EffectiveName header at obj+52: Length, MaximumLength, pointer.
    let name = obj + 4 + 48;
    m.row(
        "LOGON_INFO string: odd Length, Length > MaximumLength, a Length with a null pointer, conformance not MaximumLength/2",
        vec![
            set(&pac, name, &9u16.to_le_bytes()),
            set(&pac, name, &12u16.to_le_bytes()),
            set(&pac, name + 4, &[0, 0, 0, 0]),
            set(&pac, name + 2, &12u16.to_le_bytes()),
        ],
        bad,
        parse,
    );
    // GroupCount at obj + 4 + 48 + 48 + 4 + 8.
    let groups = obj + 4 + 48 + 48 + 4 + 8;
    m.row(
        "LOGON_INFO counts: GroupCount 6 and 2^32-1 (array holds 5), SidCount 0 with an array, a null GroupIds with a count",
        vec![
            set(&pac, groups, &6u32.to_le_bytes()),
            set(&pac, groups, &u32::MAX.to_le_bytes()),
            set(&pac, obj + 4 + 196, &0u32.to_le_bytes()),
            set(&pac, groups + 4, &[0, 0, 0, 0]),
        ],
        bad,
        parse,
    );
    // The RPC_SID of LogonDomainId: conformance 4, revision 1, 4 sub-authorities, NT AUTHORITY.
    let dom = pac[li..li + li_size]
        .windows(12)
        .position(|w| w == [4, 0, 0, 0, 1, 4, 0, 0, 0, 0, 0, 5])
        .map(|p| li + p)
        .unwrap();
    m.row(
        "LOGON_INFO SID (LogonDomainId): revision 2, 16 sub-authorities, conformance differing from the count",
        vec![set(&pac, dom + 4, &[2]), set(&pac, dom + 5, &[16]), set(&pac, dom, &[3])],
        bad,
        parse,
    );
    m.row(
        "LOGON_INFO EffectiveName with an unpaired UTF-16 surrogate",
        vec![{
            let at = pac
                .windows(10)
                .position(|w| w == b"a\0l\0i\0c\0e\0")
                .unwrap();
            set(&pac, at, &0xd800u16.to_le_bytes())
        }],
        bad,
        parse,
    );
    m.row(
        "CLIENT_INFO: NameLength odd, past the buffer",
        vec![set(&pac, ci + 8, &[9]), set(&pac, ci + 8, &[200])],
        bad,
        parse,
    );
    m.row(
        "UPN_DNS_INFO: UPN past the buffer, SID offset past the buffer, SidLength not the SID's",
        vec![
            set(&pac, upn + 2, &500u16.to_le_bytes()),
            set(&pac, upn + 18, &500u16.to_le_bytes()),
            set(&pac, upn + 16, &24u16.to_le_bytes()),
        ],
        bad,
        parse,
    );
    m.row(
        "SERVER_CHECKSUM: HMAC-MD5 (16 bytes) in a 12-byte signature, a 3-byte buffer",
        vec![
            set(&pac, sig, &(-138i32).to_le_bytes()),
            set(&pac, 8 + 16 * 3 + 4, &3u32.to_le_bytes()),
        ],
        bad,
        parse,
    );
}

/// Accept-level PAC rows: alice's Samba AD token with its ticket edited and re-encrypted
/// with the service key, against an acceptor of that service.
fn pac_accept_rows(m: &mut Matrix) {
    use krbap::ap::{decrypt_ticket, ServiceKey};
    use krbap::asn1::EncTicketPart;
    use krbap::crypto::{usage, Enctype, Key};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/samba-ad");
    let keytab = dir.join("svc.keytab");
    let t: i64 = String::from_utf8(samba("times.txt"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("alice "))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let ac = AcceptorCredential::from_keytab(Some(keytab.to_str().unwrap()), None).unwrap();
    ac.clock.set_fixed(Some(t));
    let keys: Vec<ServiceKey> = krbap::keytab::Keytab::load(&keytab)
        .unwrap()
        .entries
        .iter()
        .map(|e| ServiceKey {
            principal: e.principal.clone(),
            kvno: e.kvno,
            key: Key::new(Enctype::from_number(e.enctype).unwrap(), &e.key).unwrap(),
        })
        .collect();
    let token = samba("alice.token");
    let retoken = |edit: &dyn Fn(&mut EncTicketPart)| {
        let mut req = ApReq::from_der(&inner_of(&token)).unwrap();
        let (mut part, _) = decrypt_ticket(&req.ticket, &keys).unwrap();
        edit(&mut part);
        req.ticket.enc_part.cipher = keys[0].key.encrypt(usage::KDC_REP_TICKET, &part.to_der());
        frame(TOK_AP_REQ, &req.to_der())
    };
    let edit_pac = |f: &dyn Fn(&mut Vec<u8>)| {
        retoken(&|p: &mut EncTicketPart| {
            let (_, mut pac) = krbap::pac::locate(p.authorization_data.as_ref().unwrap())
                .unwrap()
                .unwrap();
            f(&mut pac);
            krbap::pac::replace_in_ticket(p, pac).unwrap();
        })
    };
    let accept = |tok: &[u8]| SecurityContext::accept(&ac, tok, None).map_err(|f| f.error);
    let pac = samba("alice.pac");
    let (sig, _) = pac_buffer(&pac, 6);
    let (li, li_size) = pac_buffer(&pac, 1);
    m.row(
        "PAC content changed under the server signature (LOGON_INFO, CLIENT_INFO, UPN_DNS_INFO, header bytes)",
        [li + 40, li + li_size / 2, pac_buffer(&pac, 10).0 + 12, pac_buffer(&pac, 12).0 + 30]
            .iter()
            .map(|&i| edit_pac(&|b: &mut Vec<u8>| b[i] ^= 0x01))
            .collect(),
        Want::Exact(FAILURE, minor::AP_ERR_MODIFIED),
        accept,
    );
    m.row(
        "PAC server signature bytes changed",
        (sig + 4..sig + 16)
            .step_by(3)
            .map(|i| edit_pac(&|b: &mut Vec<u8>| b[i] ^= 0x80))
            .collect(),
        Want::Exact(FAILURE, minor::AP_ERR_MODIFIED),
        accept,
    );
    m.row(
        "PAC server signature of another AES type (15, 19) than the service key's",
        [15i32, 19]
            .iter()
            .map(|t| edit_pac(&|b: &mut Vec<u8>| b[sig..sig + 4].copy_from_slice(&t.to_le_bytes())))
            .collect(),
        Want::AnyOf(FAILURE, &[minor::AP_ERR_INAPP_CKSUM, minor::EINVAL]),
        accept,
    );
    m.row(
        "PAC not parseable in the ticket (empty, 3 bytes, truncated framing)",
        vec![
            edit_pac(&|b: &mut Vec<u8>| b.clear()),
            edit_pac(&|b: &mut Vec<u8>| b.truncate(3)),
            edit_pac(&|b: &mut Vec<u8>| b.truncate(60)),
        ],
        Want::Exact(FAILURE, minor::EINVAL),
        accept,
    );
    m.row(
        "two PACs in the ticket; a PAC outside AD-IF-RELEVANT",
        vec![
            retoken(&|p: &mut EncTicketPart| {
                let ad = p.authorization_data.as_mut().unwrap();
                let twice = ad[0].clone();
                ad.push(twice);
            }),
            retoken(&|p: &mut EncTicketPart| {
                let ad = p.authorization_data.as_mut().unwrap();
                ad[0] = krbap::asn1::AuthorizationDataEntry {
                    ad_type: 128,
                    ad_data: pac.clone(),
                };
            }),
        ],
        Want::Exact(FAILURE, minor::EINVAL),
        accept,
    );
    // Afterwards the same acceptor (its replay cache untouched by every row) accepts the
    // genuine token.
    SecurityContext::accept(&ac, &token, None).expect("alice's token after the PAC rows");
}

#[test]
fn bad_input_matrix() {
    let t = common::capture_time("mutual");
    let good = read("mutual/initial_token.bin");
    // The acceptor under test: every row goes to it; it must end up as it began.
    let ac = acceptor(t);

    // Contexts established on separate credentials (so the matrix acceptor has not seen
    // MIT's tokens) from MIT's non-mutual capture, whose c2s tokens are for them. The control
    // context proves the unmodified tokens are valid, so that no row fails for a reason
    // other than its corruption.
    let per_message_context = || {
        let (mut ctx, _) =
            SecurityContext::accept(&acceptor(t), &read("nomutual/initial_token.bin"), None)
                .unwrap();
        ctx.set_fixed_time(Some(t));
        ctx
    };
    let mut ctx = per_message_context();
    let mut control = per_message_context();
    let nomutual_message = read("nomutual/message.bin");
    for file in ["c2s_wrap_conf.bin", "c2s_wrap_noconf.bin"] {
        let u = control.unwrap(&read(&format!("nomutual/{file}"))).unwrap();
        assert_eq!(u.message, nomutual_message);
    }
    control
        .verify_mic(&nomutual_message, &read("nomutual/c2s_mic.bin"))
        .unwrap();

    let mut m = Matrix::default();
    initial_token_rows(&mut m, &ac, &good);
    spnego_rows(&mut m, &ac, &good, t);
    per_message_rows(&mut m, &mut ctx);
    rcache_name_rows(&mut m);
    http_header_rows(&mut m, &ac, &good);
    pac_rows(&mut m);
    pac_accept_rows(&mut m);
    file_rows(&mut m);
    println!("bad-input matrix: {} rows, {} cases", m.rows, m.cases);
    assert!(
        m.failures.is_empty(),
        "{} of {} cases failed:\n{}",
        m.failures.len(),
        m.cases,
        m.failures.join("\n")
    );
    assert!(m.rows >= 40, "only {} rows", m.rows);

    // The same credential and replay cache: MIT's token is fresh for it, then a replay.
    let (_, rep) = SecurityContext::accept(&ac, &good, None).expect("valid token after the matrix");
    let rep = rep.expect("MIT asked for mutual authentication");
    // The reply is allocated once at its final size (a caller may keep it).
    assert_eq!(rep.capacity(), rep.len());
    let f = SecurityContext::accept(&ac, &good, None).unwrap_err();
    assert_eq!(
        (f.error.major, f.error.minor),
        (
            major::FAILURE | major::DUPLICATE_TOKEN,
            minor::AP_ERR_REPEAT
        )
    );
    // And a fresh token of krbap's own initiator.
    let ic = InitiatorCredential::from_ccache(Some(data("alice.ccache").to_str().unwrap()), None)
        .unwrap();
    ic.clock.set_fixed(Some(t + 5));
    ac.clock.set_fixed(Some(t + 5));
    let target = Name::import(b"test@localhost", NameType::HostbasedService, None).unwrap();
    let opts = InitOptions {
        req_flags: ctx_flags::MUTUAL | ctx_flags::SEQUENCE | ctx_flags::REPLAY,
        channel_bindings: None,
    };
    let (_, fresh) = SecurityContext::initiate(&ic, &target, &opts).unwrap();
    SecurityContext::accept(&ac, &fresh, None).expect("fresh krbap token after the matrix");

    // The established context: MIT's tokens in order, none seen as a replay or gap
    // (no failed row touched the sequence window).
    for (file, sealed) in [("c2s_wrap_conf.bin", true), ("c2s_wrap_noconf.bin", false)] {
        let u = ctx.unwrap(&read(&format!("nomutual/{file}"))).unwrap();
        assert_eq!(u.message, nomutual_message, "{file}");
        assert_eq!(u.conf, sealed, "{file}");
        assert_eq!(u.supplementary, 0, "{file}");
    }
    assert_eq!(
        ctx.verify_mic(&nomutual_message, &read("nomutual/c2s_mic.bin"))
            .unwrap(),
        0
    );
    // And our own tokens reach the peer side (a context made from the same capture).
    let w = ctx.wrap(true, b"still working").unwrap();
    assert!(w.len() > 16);
}

// ---- HTTP Negotiate header values (RFC 4559) -------------------------------------------------

/// `Negotiate <base64>` header values as bytes.
fn negotiate(b64: &str) -> Vec<u8> {
    format!("Negotiate {b64}").into_bytes()
}

fn http_header_rows(m: &mut Matrix, ac: &AcceptorCredential, good: &[u8]) {
    use krbap::http::{self, base64, MAX_TOKEN_LENGTH};
    let other_scheme = Want::Exact(major::BAD_MECH, minor::EPROTONOSUPPORT);
    let no_token = Want::Exact(DEFECTIVE, minor::ENODATA);
    let malformed = Want::Exact(DEFECTIVE, minor::EBADMSG);
    let too_long = Want::Exact(DEFECTIVE, minor::EMSGSIZE);
    let good64 = base64::encode(good);
    let parse = |v: &[u8]| http::parse_authorization(v);
    let strs = |v: &[&str]| v.iter().map(|s| s.as_bytes().to_vec()).collect::<Vec<_>>();

    m.row(
        "Authorization: another scheme or none",
        strs(&[
            "",
            " \t ",
            "Basic YWxpY2U6cGFzcw==",
            "NTLM TlRMTVNTUAABAAAAB4IIAAAAAAAAAAAAAAAAAAAAAAA=",
            "Bearer abc.def",
            "Kerberos YII=",
            "Negotiatex YII=",
            "Negotiat",
            "=Negotiate YII=",
            "\"Negotiate\" YII=",
        ]),
        other_scheme,
        parse,
    );
    m.row(
        "Authorization: Negotiate without a token",
        strs(&["Negotiate", "negotiate ", "NEGOTIATE \t ", " Negotiate"]),
        no_token,
        parse,
    );
    m.row(
        "Authorization: token not in the base64 alphabet (URL-safe, non-ASCII, control)",
        vec![
            negotiate(&good64.replace('+', "-")),
            negotiate(&good64.replace('/', "_")),
            negotiate("YIIC\u{e9}A=="),
            [&negotiate("YII")[..], b"\0"].concat(),
            negotiate("YIIC\rA=="),
            negotiate("YIIC.A=="),
        ]
        .into_iter()
        .filter(|v| v != &negotiate(&good64))
        .collect(),
        malformed,
        parse,
    );
    m.row(
        "Authorization: a real token's base64 cut at every length that is not a multiple of 4",
        (1..good64.len())
            .filter(|n| n % 4 != 0)
            .map(|n| negotiate(&good64[..n]))
            .collect(),
        malformed,
        parse,
    );
    m.row(
        "Authorization: padding misplaced or unused bits set (non-canonical)",
        strs(&[
            "Negotiate YII=YII=",
            "Negotiate ====",
            "Negotiate Y===",
            "Negotiate YI=C",
            "Negotiate YIJ=",
            "Negotiate YJ==",
            "Negotiate YIIB====",
        ]),
        malformed,
        parse,
    );
    m.row(
        "Authorization: whitespace and list syntax RFC 7235 does not allow",
        strs(&[
            "Negotiate\tYIIB",
            "Negotiate:YIIB",
            "Negotiate,YIIB",
            "Negotiate YII B",
            "Negotiate YIIB, Basic YWxpY2U6cA==",
            "Negotiate YIIB,",
            "Negotiate realm=\"x\"",
            "Negotiate\u{a0}YIIB",
        ]),
        malformed,
        parse,
    );
    m.row(
        "Authorization: token over 64 KiB (judged before decoding)",
        vec![
            http::www_authenticate(&vec![0x5a; MAX_TOKEN_LENGTH + 1]).into_bytes(),
            http::www_authenticate(&vec![0xff; 1 << 20]).into_bytes(),
            negotiate(&"!".repeat(4 * MAX_TOKEN_LENGTH)),
            negotiate(&"A".repeat(base64::encoded_len(MAX_TOKEN_LENGTH) + 4)),
        ],
        too_long,
        parse,
    );
    // A well-formed header delivers the token unchanged: its defects get the acceptor's
    // own statuses (the same as in the rows above).
    m.row(
        "Authorization: well-formed header around a truncated initial token",
        (1..good.len())
            .step_by(97)
            .map(|n| negotiate(&base64::encode(&good[..n])))
            .collect(),
        Want::Exact(DEFECTIVE, minor::G_BAD_TOK_HEADER),
        |v: &[u8]| {
            let t = http::parse_authorization(v)?;
            SecurityContext::accept(ac, &t, None).map_err(|f| f.error)
        },
    );

    let challenge = |v: &[u8]| http::parse_www_authenticate(v);
    m.row(
        "WWW-Authenticate: no Negotiate challenge",
        strs(&[
            "",
            ", ,",
            "Basic realm=\"x\"",
            "NTLM, Kerberos",
            "Bearer realm=\"r\", error=\"invalid_token\"",
        ]),
        other_scheme,
        challenge,
    );
    m.row(
        "WWW-Authenticate: malformed list, Negotiate with parameters, two Negotiate challenges",
        strs(&[
            "Negotiate realm=\"x\"",
            "Negotiate oQc=, Negotiate",
            "Negotiate oQ",
            "Negotiate\toQc=",
            "Negotiate oQc= junk",
            "Basic realm=\"unterminated, Negotiate",
            "Basic realm = , Negotiate",
            "Basic realm=\"a\u{1}\", Negotiate",
            "\"x\", Negotiate",
        ]),
        malformed,
        challenge,
    );
    m.row(
        "WWW-Authenticate: token over 64 KiB",
        vec![http::www_authenticate(&vec![1; MAX_TOKEN_LENGTH + 1]).into_bytes()],
        too_long,
        challenge,
    );
    m.row(
        "Authorization for a client: empty token",
        vec![Vec::new()],
        no_token,
        |t: &[u8]| http::authorization(t),
    );
    m.row(
        "Authorization for a client: token over 64 KiB",
        vec![vec![0; MAX_TOKEN_LENGTH + 1]],
        too_long,
        |t: &[u8]| http::authorization(t),
    );
}
