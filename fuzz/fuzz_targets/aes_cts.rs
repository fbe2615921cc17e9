//! AES-CBC-CS3 (RFC 3962 §5) on krbap's AES-NI key schedules (`src/crypto/aes_ni.rs`, the
//! one place with unsafe code for speed) against the `aes` crate: encryption, decryption,
//! their round trip and single blocks must agree for every key and message.
//!
//! Input: byte 0 picks AES-128 (even) or AES-256 (odd), then the key, then the message
//! (at least one block).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    krbap::crypto::fuzz_aes_differential(data);
});
