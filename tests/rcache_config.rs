//! Where a new memory replay cache takes its cap from (issue #19): `KRBAP_RCACHE_MAX_BYTES`,
//! else krb5.conf's `[libdefaults] krbap_rcache_max_bytes`, else 256 MiB. One test in its own
//! process, since it sets environment variables.

mod common;

use common::TempDir;
use krbap::rcache::{ReplayCache, DEFAULT_MAX_BYTES, MAX_BYTES_ENV};

fn cap() -> u64 {
    ReplayCache::memory().stats().unwrap().max_bytes
}

#[test]
fn cap_from_environment_and_krb5_conf() {
    let dir = TempDir::new("rcache-conf");
    let conf = dir.path("krb5.conf");
    std::fs::write(
        &conf,
        "[libdefaults]\n    default_realm = TEST.LOCAL\n    krbap_rcache_max_bytes = 2G\n",
    )
    .unwrap();
    std::env::remove_var(MAX_BYTES_ENV);
    std::env::set_var("KRB5_CONFIG", dir.path("missing.conf"));
    assert_eq!(cap(), DEFAULT_MAX_BYTES as u64);
    std::env::set_var("KRB5_CONFIG", &conf);
    assert_eq!(cap(), 2 << 30);
    std::env::set_var(MAX_BYTES_ENV, "64M");
    assert_eq!(cap(), 64 << 20);
    std::env::set_var(MAX_BYTES_ENV, "123456");
    assert_eq!(cap(), 123_456);
    // Not a byte count, or 0: ignored (krb5.conf's value applies).
    for bad in ["lots", "0", "-5", "12X"] {
        std::env::set_var(MAX_BYTES_ENV, bad);
        assert_eq!(cap(), 2 << 30, "{bad}");
    }
    std::env::remove_var(MAX_BYTES_ENV);
    std::env::remove_var("KRB5_CONFIG");
}
