//! Persistence faults of the file2 replay cache (issue #8):
//! - a process SIGKILLed at random points of a store loop, several rounds on one file: every
//!   authenticator whose store was reported done is refused afterwards, the file stays on
//!   whole-record boundaries (or is cut back to one) and keeps working;
//! - a full disk (RLIMIT_FSIZE in a child; a tiny tmpfs when running as root) and an
//!   unwritable location (read-only tmpfs as root; a 0500 directory otherwise) fail closed:
//!   GSS_S_FAILURE with MIT's replay-cache minor code for the errno, both in the cache and
//!   through a whole accept; `none:` is the operator's explicit way out.
//!
//! The child processes are this test binary re-executed with KRBAP_RCACHE_FAULT_CHILD set.

mod common;

use common::{capture_path as data, TempDir};
use krbap::cred::{AcceptorCredential, InitiatorCredential};
use krbap::error::{major, minor};
use krbap::gss::checksum::ctx_flags;
use krbap::gss::context::{InitOptions, SecurityContext};
use krbap::gss::name::{Name, NameType};
use krbap::rcache::ReplayCache;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const CHILD_ENV: &str = "KRBAP_RCACHE_FAULT_CHILD";
const NOW: i64 = 1_800_000_000;
const SKEW: i64 = 300;

/// The 12-byte "MAC" at the end of a fake authenticator ciphertext for store `i` of `round`.
fn ciphertext(round: u32, i: u32) -> Vec<u8> {
    let mut c = vec![0x42u8; 20];
    c.extend_from_slice(b"kill");
    c.extend_from_slice(&round.to_be_bytes());
    c.extend_from_slice(&i.to_be_bytes());
    c
}

/// Re-executes this test binary to run `child_entry` with `mode`.
fn child(mode: &str, path: &Path) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["child_entry", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, mode)
        .env("KRBAP_RCACHE_FAULT_PATH", path)
        .stdin(Stdio::null());
    cmd
}

/// Entry point of the child processes; a no-op in a normal test run.
#[test]
fn child_entry() {
    let Ok(mode) = std::env::var(CHILD_ENV) else {
        return;
    };
    let path = PathBuf::from(std::env::var("KRBAP_RCACHE_FAULT_PATH").unwrap());
    match mode.split_once(':') {
        // store-loop:ROUND: store until killed, reporting each completed store.
        Some(("store-loop", round)) => {
            use std::io::Write;
            let round: u32 = round.parse().unwrap();
            let rc = ReplayCache::file2(&path);
            let mut out = std::io::stdout().lock();
            for i in 0.. {
                rc.check_and_store(&ciphertext(round, i), 12, NOW, SKEW)
                    .unwrap();
                writeln!(out, "stored {i}").unwrap();
                out.flush().unwrap();
            }
        }
        // fsize:N: a file-size limit of N bytes (EFBIG instead of SIGXFSZ), then one store.
        Some(("fsize", limit)) => {
            let limit: u64 = limit.parse().unwrap();
            // SAFETY: plain libc calls with valid arguments; this process runs nothing else.
            unsafe {
                libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                let rl = libc::rlimit {
                    rlim_cur: limit,
                    rlim_max: limit,
                };
                assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &rl), 0);
            }
            let e = ReplayCache::file2(&path)
                .check_and_store(&ciphertext(99, 1), 12, NOW, SKEW)
                .unwrap_err();
            println!(
                "result major={:#x} minor={} detail={}",
                e.major, e.minor, e.detail
            );
        }
        _ => panic!("unknown child mode {mode}"),
    }
}

#[test]
fn sigkill_during_store_loop_loses_no_reported_store() {
    let dir = TempDir::new("kill");
    let path = dir.0.join("rc2");
    let mut reported: Vec<(u32, u32)> = Vec::new();
    let mut seed = u64::from(krbap::crypto::random_u32()) | 1;
    let mut next_random = |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    for round in 0..6u32 {
        let mut proc = child(&format!("store-loop:{round}"), &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = proc.stdout.take().unwrap();
        // Kill after a random number of reported stores (at least one), at a random moment
        // relative to the next store: the reader thread sees lines as they come.
        let kill_after = 1 + next_random(2000) as usize;
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut seen = Vec::new();
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(i) = line.strip_prefix("stored ") {
                    seen.push(i.parse::<u32>().unwrap());
                    if seen.len() == kill_after {
                        let _ = tx.send(());
                    }
                }
            }
            seen
        });
        let deadline = Duration::from_secs(60);
        rx.recv_timeout(deadline)
            .expect("the child stores within a minute");
        // A short random pause so the kill lands anywhere in a store (open, lock, read,
        // write, close).
        std::thread::sleep(Duration::from_micros(next_random(3000)));
        proc.kill().unwrap(); // SIGKILL
        let status = proc.wait().unwrap();
        assert!(!status.success(), "child was killed");
        let seen = reader.join().unwrap();
        assert!(seen.len() >= kill_after);
        reported.extend(seen.iter().map(|&i| (round, i)));
        // The one in flight when the kill came may or may not be stored: either way is safe.

        // After the "restart": the file is on record boundaries (or repaired to them), every
        // reported store is a replay, and the cache keeps working.
        let rc = ReplayCache::file2(&path);
        for &(r, i) in &reported {
            let e = rc
                .check_and_store(&ciphertext(r, i), 12, NOW, SKEW)
                .expect_err("a store reported before the kill must be refused");
            assert_eq!(
                (e.major, e.minor),
                (
                    major::FAILURE | major::DUPLICATE_TOKEN,
                    minor::AP_ERR_REPEAT
                ),
                "round {r} store {i}"
            );
        }
        let len = std::fs::metadata(&path).unwrap().len();
        assert!(
            len >= 16 && (len - 16).is_multiple_of(16),
            "file length {len}"
        );
        rc.check_and_store(&ciphertext(1000 + round, 0), 12, NOW, SKEW)
            .unwrap();
        reported.push((1000 + round, 0));
    }
    println!(
        "{} stores reported across 6 killed children",
        reported.len()
    );

    // A torn tail (what a crash mid-write leaves): the next store cuts it off; nothing
    // reported is lost.
    let len = std::fs::metadata(&path).unwrap().len();
    {
        use std::os::unix::fs::FileExt;
        let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.write_all_at(&[0x5a; 9], len).unwrap();
    }
    let rc = ReplayCache::file2(&path);
    for &(r, i) in reported.iter().step_by(7) {
        let e = rc
            .check_and_store(&ciphertext(r, i), 12, NOW, SKEW)
            .unwrap_err();
        assert_eq!(e.minor, minor::AP_ERR_REPEAT);
    }
    let repaired = std::fs::metadata(&path).unwrap().len();
    assert_eq!(
        (repaired - 16) % 16,
        0,
        "torn tail cut: {len} -> {repaired}"
    );
    rc.check_and_store(&ciphertext(2000, 0), 12, NOW, SKEW)
        .unwrap();
}

/// Expects the fail-closed status of the file2 cache for `errno_class`.
fn assert_fails_closed(e: &krbap::Error, want_minor: i32, what: &str) {
    assert_eq!(e.major, major::FAILURE, "{what}: {e:?}");
    assert_eq!(e.minor, want_minor, "{what}: {e:?}");
    assert!(e.detail.contains("os error"), "{what}: errno in {e:?}");
}

#[test]
fn file_size_limit_fails_closed() {
    let dir = TempDir::new("fsize");
    let path = dir.0.join("rc2");
    // 20 bytes: the seed fits, no record slot does.
    let out = child("fsize:20", &path).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find_map(|l| l.find("result major=").map(|at| &l[at..]))
        .unwrap_or_else(|| panic!("child output: {text}"));
    assert!(
        line.contains(&format!(
            "major={:#x} minor={}",
            major::FAILURE,
            minor::RC_IO_SPACE
        )),
        "{line}"
    );
    assert!(line.contains("File too large"), "{line}");
}

/// A tmpfs mounted for the test (root only), unmounted on drop.
struct Mount(PathBuf);

impl Mount {
    fn tmpfs(dir: &Path, options: &str) -> Option<Mount> {
        // SAFETY: geteuid cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            return None;
        }
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs"])
            .arg(dir)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Mount(dir.to_path_buf()))
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// A whole accept of a fresh krbap token with the given replay cache.
fn accept_with(rc: ReplayCache) -> Result<(), krbap::Error> {
    let t = common::capture_time("mutual") + 30;
    let kt = data("service.keytab");
    let ac = AcceptorCredential::from_keytab(Some(kt.to_str().unwrap()), None).unwrap();
    ac.clock.set_fixed(Some(t));
    ac.set_replay_cache(rc);
    let ic = InitiatorCredential::from_ccache(Some(data("alice.ccache").to_str().unwrap()), None)
        .unwrap();
    ic.clock.set_fixed(Some(t));
    let target = Name::import(b"test@localhost", NameType::HostbasedService, None).unwrap();
    let opts = InitOptions {
        req_flags: ctx_flags::MUTUAL,
        channel_bindings: None,
    };
    let (_, token) = SecurityContext::initiate(&ic, &target, &opts).unwrap();
    SecurityContext::accept(&ac, &token, None)
        .map(|_| ())
        .map_err(|f| f.error)
}

#[test]
fn full_disk_and_read_only_directory_fail_closed() {
    let dir = TempDir::new("mounts");
    let full = dir.0.join("full");
    let ro = dir.0.join("ro");
    std::fs::create_dir_all(&full).unwrap();
    std::fs::create_dir_all(&ro).unwrap();

    // A full file system: a tiny tmpfs filled up by another file.
    match Mount::tmpfs(&full, "size=64k") {
        Some(_mount) => {
            let filler = std::fs::write(full.join("filler"), vec![0u8; 128 * 1024]);
            assert!(filler.is_err(), "the 64 KiB tmpfs is full");
            let path = full.join("rc2");
            let e = ReplayCache::file2(&path)
                .check_and_store(&ciphertext(7, 7), 12, NOW, SKEW)
                .unwrap_err();
            assert_fails_closed(&e, minor::RC_IO_SPACE, "ENOSPC");
            assert!(e.detail.contains("No space left on device"), "{e:?}");
            let e = accept_with(ReplayCache::file2(&path)).unwrap_err();
            assert_fails_closed(&e, minor::RC_IO_SPACE, "accept on a full disk");
            // The operator's explicit choice of no replay cache still accepts.
            accept_with(ReplayCache::none()).unwrap();
        }
        None => println!("not root or no mount: ENOSPC on tmpfs not tested (EFBIG is)"),
    }

    // An unwritable cache directory.
    let ro_mount = Mount::tmpfs(&ro, "ro,size=64k");
    let unwritable = if ro_mount.is_some() {
        ro.clone()
    } else {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o500)).unwrap();
        ro.clone()
    };
    // SAFETY: geteuid cannot fail.
    if ro_mount.is_some() || unsafe { libc::geteuid() } != 0 {
        let path = unwritable.join("rc2");
        let e = ReplayCache::file2(&path)
            .check_and_store(&ciphertext(8, 8), 12, NOW, SKEW)
            .unwrap_err();
        assert_fails_closed(&e, minor::RC_IO_PERM, "unwritable directory");
        let e = accept_with(ReplayCache::file2(&path)).unwrap_err();
        assert_fails_closed(&e, minor::RC_IO_PERM, "accept, unwritable directory");
        assert_eq!(
            minor::message(e.minor),
            "Permission denied in replay cache code"
        );
    } else {
        println!("root without mount: the unwritable-directory case is not observable");
    }
    drop(ro_mount);
}
