//! MIT FILE credential caches (versions 3 and 4, ccache.txt in the specs): parsing,
//! ticket lookup, the write-read round trip (krbap always writes version 4), and the
//! reader's tolerance of a torn last credential (`parse_file`: the cache is what comes
//! before it, exactly what the strict parser reads from the shorter file).
#![no_main]

use krbap::ccache::Ccache;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let tolerant = Ccache::parse_file(data, "fuzz.ccache");
    if let Ok(t) = &tolerant {
        if let Some(at) = t.torn_tail_at {
            let before =
                Ccache::parse(&data[..at], "cut").expect("the part before a torn tail parses");
            assert_eq!(before.credentials, t.credentials, "torn tail");
        }
    }
    let Ok(cc) = Ccache::parse(data, "fuzz.ccache") else {
        return;
    };
    assert_eq!(
        tolerant.as_ref().ok(),
        Some(&cc),
        "a whole cache reads the same either way"
    );
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
