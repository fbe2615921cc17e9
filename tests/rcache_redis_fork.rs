//! A pre-forking server: the `redis:` cache is set up (and has a pooled connection) before
//! fork(); parent and child then accept at the same time. Sharing the inherited socket would
//! mix up the replies to their SET commands (one's "OK" read as the other's answer); the pool
//! drops what it inherited instead. Alone in its test binary: it forks.

mod common;

use std::path::Path;
use std::process::Command;

use krbap::error::minor;
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

#[test]
fn forked_acceptors_do_not_share_connections() {
    let dir = common::TempDir::new("redis-fork");
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
    let _ = Command::new(&script).arg("stop").arg(&dir.0).output();
    assert!(parent_ok, "the parent saw a wrong answer");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "the child saw a wrong answer (status {status:#x})"
    );
}
