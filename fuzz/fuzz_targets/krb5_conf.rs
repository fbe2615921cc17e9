//! krb5.conf in MIT's profile syntax: sections, subsections, quoting, first-wins lookup.
//! Inputs with `include`/`includedir` lines are skipped: those read other files, and
//! the fuzzer must not wander the file system (they are tested in src/config.rs).
#![no_main]

use krbap::config::Profile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if text.lines().any(|l| l.trim_start().starts_with("include")) {
        return;
    }
    if let Ok(p) = Profile::parse(text, "fuzz.conf") {
        let _ = p.default_realm();
        let _ = p.clock_skew();
        let _ = p.get_bool(&["libdefaults", "dns_lookup_kdc"]);
        let _ = p.get_all(&["realms", "TEST.LOCAL", "kdc"]).count();
    }
});
