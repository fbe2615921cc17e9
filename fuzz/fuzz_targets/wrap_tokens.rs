//! Per-message tokens on established contexts (RFC 4121 §4.2): unwrap and verify_mic, on
//! the initiator's and the acceptor's side of four captured MIT contexts (aes256-sha1
//! with and without acceptor subkey, aes128-sha256, aes256-sha384 with an aes256-sha1
//! acceptor subkey), several tokens in a row so the replay/sequence window moves.
//!
//! Input: byte 0 picks case and side; then records (`krbap_fuzz::records`) whose tag
//! says unwrap (bit 0 clear) or verify_mic (bit 0 set; bit 1: empty message, else the
//! capture's message).
#![no_main]

use krbap::gss::wrap::HEADER_LEN;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

static SIDES: OnceLock<Vec<krbap_fuzz::Side>> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let sides = SIDES.get_or_init(|| {
        krbap_fuzz::WRAP_CASES
            .iter()
            .flat_map(|c| [c.side(true), c.side(false)])
            .collect()
    });
    // A fresh copy of the context for every input: the result depends on the input alone.
    let mut ctx = sides[pick as usize % sides.len()].protection();
    for (tag, token) in krbap_fuzz::records(rest) {
        if tag & 1 == 0 {
            if let Ok(u) = ctx.unwrap(token) {
                assert!(u.message.len() + HEADER_LEN <= token.len());
            }
        } else {
            let message = if tag & 2 != 0 {
                &[][..]
            } else {
                krbap_fuzz::MESSAGE
            };
            let _ = ctx.verify_mic(message, token);
        }
    }
});
