//! Process-wide state and the `redis:` replay cache, alone in this test binary and run in
//! sequence by one test (it forks and changes the environment):
//! - a pre-forking server: the cache is set up (and has a pooled connection) before fork();
//!   parent and child then accept at the same time. Sharing the inherited socket would mix
//!   up the replies to their SET commands (one's "OK" read as the other's answer); the pool
//!   drops what it inherited instead;
//! - KRB5RCACHENAME names a `redis:` cache, selected through the C API
//!   (krbap_cred_set_replay_cache with NULL).

mod common;

use std::ffi::CString;
use std::path::Path;
use std::process::Command;

use krbap::error::minor;
use krbap::ffi::*;
use krbap::principal::Principal;
use krbap::rcache::{AuthenticatorId, ReplayCache};

fn store(cache: &ReplayCache, who: u32, i: u32) -> krbap::Result<()> {
    let server = Principal::parse("test/localhost@TEST.LOCAL", None).unwrap();
    let client = Principal::parse("alice@TEST.LOCAL", None).unwrap();
    let id = AuthenticatorId {
        server: &server,
        client: &client,
        ctime: 1_800_000_000,
        cusec: who,
    };
    let mut ciphertext = vec![0x11; 32];
    ciphertext.extend_from_slice(&who.to_be_bytes());
    ciphertext.extend_from_slice(&i.to_be_bytes());
    ciphertext.extend_from_slice(&[0x22; 4]);
    cache.check_and_store_authenticator(&ciphertext, 12, &id, 1_800_000_000, 300)
}

/// Stores `n` fresh authenticators of `who` and offers each twice: true when every first
/// offer was accepted and every second refused as a replay.
fn round(cache: &ReplayCache, who: u32, n: u32) -> bool {
    (0..n).all(|i| {
        store(cache, who, i).is_ok()
            && matches!(store(cache, who, i), Err(e) if e.minor == minor::AP_ERR_REPEAT)
    })
}

fn forked_acceptors_do_not_share_connections(port: &str) {
    let cache = ReplayCache::from_name(&format!("redis://127.0.0.1:{port}?prefix=fork:")).unwrap();
    assert!(round(&cache, 0, 5));

    // SAFETY: the child only runs the replay cache (its pool lock is free: no other thread
    // of this test uses it) and leaves with _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0);
    if pid == 0 {
        let ok = round(&cache, 1, 400) && store(&cache, 0, 0).is_err();
        unsafe { libc::_exit(if ok { 0 } else { 1 }) };
    }
    let parent_ok = round(&cache, 2, 400);
    let mut status = 0;
    // SAFETY: waits for the child forked above.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(parent_ok, "the parent saw a wrong answer");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "the child saw a wrong answer (status {status:#x})"
    );
    // What the child stored, the parent refuses.
    assert!((0..400).all(|i| store(&cache, 1, i).is_err()));
}

fn krb5rcachename_selects_it(port: &str) {
    let keytab = CString::new(
        common::capture_path("service.keytab")
            .to_str()
            .unwrap()
            .to_string(),
    )
    .unwrap();
    let mut minor_status = 0u32;
    let mut cred = std::ptr::null_mut();
    let m = krbap_acquire_cred(
        &mut minor_status,
        std::ptr::null(),
        KRBAP_C_ACCEPT,
        keytab.as_ptr(),
        &mut cred,
        std::ptr::null_mut(),
    );
    assert_eq!(m, 0, "minor {minor_status}");
    std::env::set_var(
        "KRB5RCACHENAME",
        format!("redis://127.0.0.1:{port}/0?prefix=env:"),
    );
    let m = krbap_cred_set_replay_cache(&mut minor_status, cred, std::ptr::null());
    std::env::remove_var("KRB5RCACHENAME");
    assert_eq!(m, 0, "minor {minor_status}");
    let mut name = krbap_buffer {
        length: 0,
        value: std::ptr::null_mut(),
    };
    assert_eq!(
        krbap_cred_inquire_replay_cache(&mut minor_status, cred, &mut name),
        0
    );
    // SAFETY: the library returned `length` bytes at `value`.
    let shown =
        unsafe { std::slice::from_raw_parts(name.value as *const u8, name.length) }.to_vec();
    assert_eq!(
        String::from_utf8(shown).unwrap(),
        format!("redis://127.0.0.1:{port}/0?prefix=env:&timeout_ms=500")
    );
    krbap_buffer_free(&mut minor_status, &mut name);
    krbap_release_cred(&mut minor_status, &mut cred);
}

#[test]
fn process_wide_state() {
    let dir = common::TempDir::new("redis-process");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/redis.sh");
    let out = Command::new(&script)
        .arg("start")
        .arg(&dir.0)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let env = std::fs::read_to_string(dir.path("env")).unwrap();
    let port = env
        .lines()
        .find_map(|l| l.strip_prefix("export REDIS_PORT="))
        .unwrap()
        .to_string();
    let result = std::panic::catch_unwind(|| {
        forked_acceptors_do_not_share_connections(&port);
        krb5rcachename_selects_it(&port);
    });
    let _ = Command::new(&script).arg("stop").arg(&dir.0).output();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}
