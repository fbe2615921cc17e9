//! Replay-cache names of the `redis:` family (`RedisConfig::parse`: `redis://`, `rediss://`,
//! `redis+unix:`, `redis+cluster://`): never a panic, and a name that parses has a canonical
//! form that parses back to the same configuration, whose password-hiding form never shows
//! the password. Only the parser runs: `ReplayCache::from_name` would read the PEM files of
//! a `rediss:` name and contact the server.
#![no_main]

use krbap::rcache::RedisConfig;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(name) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(config) = RedisConfig::parse(name) else {
        return;
    };
    let canonical = config.to_name(true);
    let again = RedisConfig::parse(&canonical)
        .unwrap_or_else(|e| panic!("canonical name {canonical:?} does not parse: {e:?}"));
    assert!(
        again == config,
        "{canonical:?} parses to another configuration"
    );
    assert_eq!(again.to_name(true), canonical);
    let shown = config.name();
    if config.password.is_some() {
        // The shown name is the canonical one with the password replaced by ***.
        let hidden = RedisConfig::parse(&shown).expect("the shown name parses");
        assert_eq!(hidden.password.as_deref().map(String::as_str), Some("***"));
        assert!(hidden.server == config.server && hidden.prefix == config.prefix);
        assert!(hidden.tls == config.tls);
    }
    let _ = config.server_text();
});
