//! MIT keytab files (format 0x0501/0x0502, keytab.txt in the specs): parsing, MIT's key
//! selection rules, and the write-read round trip.
#![no_main]

use krbap::keytab::Keytab;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(kt) = Keytab::parse(data, "fuzz.keytab") else {
        return;
    };
    for e in kt.entries.iter().take(8) {
        let _ = kt.find(Some(&e.principal), Some(e.kvno), None);
        let _ = kt.get(&e.principal, None, Some(e.enctype));
        let _ = e.principal.to_string();
    }
    let again = Keytab::parse(&kt.to_bytes(), "rewritten").expect("a written keytab parses");
    assert_eq!(again, kt, "keytab round trip");
});
