//! krb5.conf's default file names and the change-aware default profile. One test function:
//! it sets process environment variables, which parallel tests must not see half-way.

use krbap::ccache::resolve_ccache_name;
use krbap::config::{default_profile, expand_path_tokens};
use krbap::keytab::resolve_keytab_name;
use std::path::PathBuf;

#[test]
fn defaults_follow_krb5_conf_and_environment() {
    let dir = std::env::temp_dir().join(format!("krbap-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("krb5.conf");
    std::fs::write(
        &conf,
        "[libdefaults]\n default_realm = ONE.TEST\n default_ccache_name = FILE:%{TEMP}/cc_%{uid}\n default_keytab_name = FILE:/srv/%{euid}/kt\n",
    )
    .unwrap();
    std::env::set_var("KRB5_CONFIG", &conf);
    std::env::set_var("TMPDIR", "/var/tmp/x");
    std::env::remove_var("KRB5CCNAME");
    std::env::remove_var("KRB5_KTNAME");
    // SAFETY: getuid/geteuid have no preconditions.
    let (uid, euid) = unsafe { (libc::getuid(), libc::geteuid()) };

    assert_eq!(default_profile().unwrap().default_realm(), Some("ONE.TEST"));
    assert_eq!(
        resolve_ccache_name(None).unwrap(),
        PathBuf::from(format!("/var/tmp/x/cc_{uid}"))
    );
    assert_eq!(
        resolve_keytab_name(None).unwrap(),
        PathBuf::from(format!("/srv/{euid}/kt"))
    );
    // The environment wins over krb5.conf, as in MIT.
    std::env::set_var("KRB5CCNAME", "FILE:/e/cc");
    std::env::set_var("KRB5_KTNAME", "/e/kt");
    assert_eq!(resolve_ccache_name(None).unwrap(), PathBuf::from("/e/cc"));
    assert_eq!(resolve_keytab_name(None).unwrap(), PathBuf::from("/e/kt"));
    std::env::remove_var("KRB5CCNAME");
    std::env::remove_var("KRB5_KTNAME");

    // An edited file is re-read (a new modification time).
    let first = default_profile().unwrap();
    assert!(std::sync::Arc::ptr_eq(&first, &default_profile().unwrap()));
    std::fs::write(&conf, "[libdefaults]\n default_realm = TWO.TEST\n").unwrap();
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
    std::fs::File::options()
        .write(true)
        .open(&conf)
        .unwrap()
        .set_modified(later)
        .unwrap();
    assert_eq!(default_profile().unwrap().default_realm(), Some("TWO.TEST"));
    // Without default_ccache_name, MIT's built-in default.
    assert_eq!(
        resolve_ccache_name(None).unwrap(),
        PathBuf::from(format!("/tmp/krb5cc_{euid}"))
    );
    // Another KRB5_CONFIG is another profile.
    let other = dir.join("other.conf");
    std::fs::write(&other, "[libdefaults]\n default_realm = THREE.TEST\n").unwrap();
    std::env::set_var("KRB5_CONFIG", &other);
    assert_eq!(
        default_profile().unwrap().default_realm(),
        Some("THREE.TEST")
    );

    assert_eq!(expand_path_tokens("a%{null}b").unwrap(), "ab");
    assert_eq!(
        expand_path_tokens("/x/%{USERID}").unwrap(),
        format!("/x/{euid}")
    );
    assert!(expand_path_tokens("%{nope}").is_err());
    assert!(expand_path_tokens("%{uid").is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}
