//! `krbap decode` (src/diagnose.rs) on any token: RFC 2743 framing, AP-REQ/AP-REP/
//! KRB-ERROR and per-message token headers, and with the capture's keys the decrypted
//! ticket and authenticator and the verdict, at the capture time.
#![no_main]

use krbap::ap::ServiceKey;
use krbap::diagnose::{describe, DecodeContext};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

static KEYS: OnceLock<Vec<ServiceKey>> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let keys = KEYS.get_or_init(krbap_fuzz::service_keys);
    let with_keys = DecodeContext {
        keys: Some(keys),
        now: krbap_fuzz::capture_time(),
        skew: 300,
    };
    let text = describe(data, &with_keys);
    assert!(text.starts_with("token: "));
    let without = DecodeContext {
        keys: None,
        now: 0,
        skew: 300,
    };
    let _ = describe(data, &without);
});
