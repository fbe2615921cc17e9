//! krbap-crypto-bench: the raw throughput of the crypto crates on this CPU, the practical
//! limit for Wrap/unwrap with confidentiality (used by `make bench`, scripts/bench.sh).
//!
//! For a 16 KiB message it measures what RFC 4121 Wrap with confidentiality cannot avoid:
//! AES-CBC-CS3 (RFC 3962 §5) over confounder || message || token header (16 + 16384 + 16
//! bytes) plus one HMAC over the same bytes (SHA-1 for RFC 3962, SHA-384 for RFC 8009),
//! with the keys already derived. Nothing else: no token framing, no allocation, no key
//! lookup. Prints one line per enctype: `ENCTYPE ENCRYPT_MBPS DECRYPT_MBPS` (MB/s of
//! message bytes, 10^6), the best of several timed rounds: a limit is what the CPU can
//! do, and on a shared machine the slower rounds measure the other processes.
//!
//! The default mode also times the library's own Wrap with confidentiality of the same
//! message in a hot loop (each token freed at once), and prints its share of the limit:
//! what is left of the gap in `make bench` (where 1 500 tokens stay alive) is memory traffic.
//!
//! Usage: krbap-crypto-bench [--quick]   (--quick: 3 rounds of 50 ms instead of 5 of 300 ms)
//!        krbap-crypto-bench --ops N ENCTYPE encrypt|decrypt
//!            times exactly N messages and prints the seconds they took (bench/krbap_bench.c
//!            runs this between its chunks of Wrap/unwrap, so that limit and library are
//!            measured under the same machine load).
//!        krbap-crypto-bench --pac-ops N ENCTYPE TICKET_BYTES PAC_BYTES
//!            times N of what a PAC costs an acceptor in crypto alone, with krbap's own keys
//!            (derived keys cached): decrypting a ticket of TICKET_BYTES of plaintext and,
//!            when PAC_BYTES > 0, the server signature's MAC (key usage 17) over that many
//!            bytes; prints the seconds (the floor of the PAC item of `make bench`).

use hmac::{Hmac, Mac};
use krbap::crypto::{aes_cts_decrypt, aes_cts_encrypt, Enctype, Key};
use krbap::gss::wrap::MessageProtection;
use sha1::Sha1;
use sha2::Sha384;
use std::hint::black_box;
use std::time::{Duration, Instant};

const MESSAGE: usize = 16384;
/// confounder (one AES block) + message + the 16-byte token header RFC 4121 §4.2.4 encrypts.
const BUFFER: usize = 16 + MESSAGE + 16;

fn hmac_into<M: Mac + hmac::digest::KeyInit>(key: &[u8], data: &[u8]) -> usize {
    let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(key).expect("any key length");
    mac.update(data);
    let tag = mac.finalize().into_bytes();
    usize::from(tag[0])
}

/// Message bytes per second (10^6) of `op`, the best of `rounds` rounds of `round` each.
fn measure(rounds: usize, round: Duration, mut op: impl FnMut()) -> f64 {
    let mut rates = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let start = Instant::now();
        let mut n = 0u64;
        while start.elapsed() < round {
            for _ in 0..8 {
                op();
            }
            n += 8;
        }
        let secs = start.elapsed().as_secs_f64();
        rates.push(n as f64 * MESSAGE as f64 / secs / 1e6);
    }
    rates.into_iter().fold(0.0, f64::max)
}

/// One message's raw work: AES-CBC-CS3 encrypt or decrypt of the buffer, then the HMAC.
fn one_message(sha384: bool, decrypt: bool, buf: &mut [u8]) {
    let ke = [0x5au8; 32];
    if decrypt {
        aes_cts_decrypt(&ke, buf).expect("a 32-byte key and a long buffer");
    } else {
        aes_cts_encrypt(&ke, buf).expect("a 32-byte key and a long buffer");
    }
    black_box(if sha384 {
        hmac_into::<Hmac<Sha384>>(&[0xa5u8; 24], buf)
    } else {
        hmac_into::<Hmac<Sha1>>(&[0xa5u8; 20], buf)
    });
}

/// `--ops N ENCTYPE encrypt|decrypt`: the seconds N messages take (after one warm-up).
fn timed_ops(args: &[String]) -> Result<(), String> {
    let [n, enctype, op] = args else {
        return Err("usage: krbap-crypto-bench --ops N ENCTYPE encrypt|decrypt".into());
    };
    let n: u32 = n.parse().map_err(|_| format!("bad count {n}"))?;
    let sha384 = match enctype.as_str() {
        "aes256-cts-hmac-sha1-96" => false,
        "aes256-cts-hmac-sha384-192" => true,
        _ => return Err(format!("unsupported enctype {enctype}")),
    };
    let decrypt = match op.as_str() {
        "encrypt" => false,
        "decrypt" => true,
        _ => return Err(format!("unknown operation {op}")),
    };
    let mut buf = vec![0x17u8; BUFFER];
    one_message(sha384, decrypt, &mut buf);
    let start = Instant::now();
    for _ in 0..n {
        one_message(sha384, decrypt, &mut buf);
    }
    println!("{:.9}", start.elapsed().as_secs_f64());
    Ok(())
}

fn pac_ops(args: &[String]) -> Result<(), String> {
    let [n, enctype, ticket, pac] = args else {
        return Err("usage: krbap-crypto-bench --pac-ops N ENCTYPE TICKET_BYTES PAC_BYTES".into());
    };
    let num = |s: &String| s.parse::<usize>().map_err(|_| format!("bad number {s}"));
    let (n, ticket, pac) = (num(n)?, num(ticket)?, num(pac)?);
    let enctype = Enctype::from_name(enctype).ok_or(format!("unsupported enctype {enctype}"))?;
    let key = Key::new(enctype, &[0x5a; 32][..enctype.key_len()]).map_err(|e| e.to_string())?;
    let cipher = key.encrypt(2, &vec![0x17u8; ticket]);
    let signed = vec![0x42u8; pac];
    let mac = key.checksum(17, &signed);
    let one = || {
        black_box(key.decrypt(2, black_box(&cipher)).is_ok());
        if pac > 0 {
            black_box(key.verify_checksum(17, black_box(&signed), &mac).is_ok());
        }
    };
    one();
    let start = Instant::now();
    for _ in 0..n {
        one();
    }
    println!("{:.9}", start.elapsed().as_secs_f64());
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--pac-ops") {
        if let Err(e) = pac_ops(&args[1..]) {
            eprintln!("krbap-crypto-bench: {e}");
            std::process::exit(2);
        }
        return;
    }
    if args.first().map(String::as_str) == Some("--ops") {
        if let Err(e) = timed_ops(&args[1..]) {
            eprintln!("krbap-crypto-bench: {e}");
            std::process::exit(2);
        }
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let (rounds, round) = if quick {
        (3, Duration::from_millis(50))
    } else {
        (5, Duration::from_millis(300))
    };
    let ke = [0x5au8; 32];
    let ki_sha1 = [0xa5u8; 20];
    let ki_sha384 = [0xa5u8; 24];
    let mut buf = vec![0x17u8; BUFFER];
    println!("# raw AES-256-CBC-CS3 + HMAC over {BUFFER} bytes per {MESSAGE}-byte message, MB/s;");
    println!("# ENCTYPE ENCRYPT DECRYPT WRAP(library, hot loop) WRAP/ENCRYPT");
    for (name, sha384, enctype) in [
        (
            "aes256-cts-hmac-sha1-96",
            false,
            Enctype::Aes256CtsHmacSha196,
        ),
        (
            "aes256-cts-hmac-sha384-192",
            true,
            Enctype::Aes256CtsHmacSha384192,
        ),
    ] {
        let mac = |data: &[u8]| {
            if sha384 {
                hmac_into::<Hmac<Sha384>>(&ki_sha384, data)
            } else {
                hmac_into::<Hmac<Sha1>>(&ki_sha1, data)
            }
        };
        let enc = measure(rounds, round, || {
            aes_cts_encrypt(&ke, &mut buf).expect("a 32-byte key and a long buffer");
            black_box(mac(&buf));
        });
        let dec = measure(rounds, round, || {
            aes_cts_decrypt(&ke, &mut buf).expect("a 32-byte key and a long buffer");
            black_box(mac(&buf));
        });
        let mut protection =
            MessageProtection::new(Key::random(enctype), false, true, 1, 1, false, false);
        let message = vec![0x17u8; MESSAGE];
        let wrap = measure(rounds, round, || {
            black_box(protection.wrap(true, &message));
        });
        println!(
            "{name} {enc:.0} {dec:.0} {wrap:.0} {:.0}%",
            wrap / enc * 100.0
        );
    }
}
