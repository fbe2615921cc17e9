//! Helpers shared by the integration tests (`mod common;`): MIT's captured fixtures in
//! tests/data/mit-capture/ and scratch directories. Each test crate uses a part of them.
#![allow(dead_code)]

use krbap::cred::{AcceptorCredential, InitiatorCredential};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A file of the MIT capture (tests/data/mit-capture/README.md explains each).
pub fn capture_path(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/mit-capture")
        .join(p)
}

/// The capture time recorded in `case`'s info.txt (its tickets are valid then).
pub fn capture_time(case: &str) -> i64 {
    let info = std::fs::read_to_string(capture_path(case).join("info.txt")).unwrap();
    let at = info.find("captured at unix time ").unwrap() + "captured at unix time ".len();
    info[at..]
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// An acceptor on the capture's service keytab, its clock fixed at `t`.
pub fn capture_acceptor(t: i64) -> AcceptorCredential {
    let kt = capture_path("service.keytab");
    let cred = AcceptorCredential::from_keytab(Some(kt.to_str().unwrap()), None).unwrap();
    cred.clock.set_fixed(Some(t));
    cred
}

/// An initiator on alice's captured ccache, its clock fixed at `t`.
pub fn capture_initiator(t: i64) -> InitiatorCredential {
    let cc = capture_path("alice.ccache");
    let cred = InitiatorCredential::from_ccache(Some(cc.to_str().unwrap()), None).unwrap();
    cred.clock.set_fixed(Some(t));
    cred
}

/// A unique scratch directory, removed (made writable first) when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "krbap-test-{label}-{}-{n}-{:08x}",
            std::process::id(),
            krbap::crypto::random_u32()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&self.0, std::fs::Permissions::from_mode(0o700));
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
