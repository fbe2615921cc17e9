//! MIT FILE credential caches (versions 3 and 4, ccache.txt in the specs): parsing,
//! ticket lookup, and the write-read round trip (krbap always writes version 4).
#![no_main]

use krbap::ccache::Ccache;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(cc) = Ccache::parse(data, "fuzz.ccache") else {
        return;
    };
    for c in cc.credentials.iter().take(8) {
        let _ = cc.find(None, &c.server, 0);
        let _ = c.is_config_entry();
        let _ = (c.client.to_string(), c.server.to_string());
    }
    let _ = cc.config_entries().count();
    let again = Ccache::parse(&cc.to_bytes(), "rewritten").expect("a written ccache parses");
    assert_eq!(again.default_principal, cc.default_principal);
    assert_eq!(again.credentials, cc.credentials, "ccache round trip");
});
