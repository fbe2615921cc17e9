//! Whole-file advisory locks on credential caches, keytabs and file2 replay caches, the locks
//! MIT takes (MIT 1.20 lib/krb5/os/lock_file.c, `krb5_lock_file`), so that krbap and MIT
//! programs serialize on the same files: shared for reading, exclusive for writing, over the
//! whole file (`l_start = l_len = 0`).
//!
//! - Linux open-file-description locks (`F_OFD_SETLK`) first, as MIT: they conflict with
//!   classic POSIX record locks (`F_SETLK`, Python's `fcntl.lockf`, older MIT builds) and with
//!   each other, and they belong to the open file, so two threads of one process exclude each
//!   other too. On a kernel without them (EINVAL) classic POSIX locks are used, plus a
//!   process-wide mutex, because classic locks belong to the process (two threads would both
//!   "hold" one) and any close of the file drops them.
//! - MIT waits without limit (`F_OFD_SETLKW`). krbap waits at most [`lock_timeout`] (default
//!   10 s, `KRBAP_LOCK_TIMEOUT_MS`), polling with a growing pause, and then reports the file as
//!   locked by another process: a lock held for longer than that is an error, not a hang.
//! - A writer may replace the file by a rename while we wait (MIT's kinit does, without
//!   locking): after the lock is granted, the open file is compared with the path, and on a
//!   mismatch the new file is opened and locked instead.

use crate::error::{minor, Error, Result};
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::os::unix::io::AsRawFd;
use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Default bound on the wait for a lock.
pub const DEFAULT_LOCK_TIMEOUT_MS: u64 = 10_000;

/// Environment variable overriding [`DEFAULT_LOCK_TIMEOUT_MS`] (milliseconds; 0 = try once).
pub const LOCK_TIMEOUT_ENV: &str = "KRBAP_LOCK_TIMEOUT_MS";

/// Serializes this process's locked file operations when only classic POSIX locks exist.
static PROCESS_LOCK: Mutex<()> = Mutex::new(());

/// How long a lock is waited for: `KRBAP_LOCK_TIMEOUT_MS`, else [`DEFAULT_LOCK_TIMEOUT_MS`].
/// Read at each wait (locks are taken only when a file is read or written, never per
/// context), so a program may change it at run time. It only bounds a wait: any value fails
/// safe (a short one gives the locked-file error sooner).
pub fn lock_timeout() -> Duration {
    let ms = std::env::var(LOCK_TIMEOUT_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(DEFAULT_LOCK_TIMEOUT_MS);
    Duration::from_millis(ms)
}

/// Shared (readers) or exclusive (writers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LockKind {
    Shared,
    Exclusive,
}

impl LockKind {
    fn l_type(self) -> libc::c_short {
        match self {
            LockKind::Shared => libc::F_RDLCK as libc::c_short,
            LockKind::Exclusive => libc::F_WRLCK as libc::c_short,
        }
    }
    fn word(self) -> &'static str {
        match self {
            LockKind::Shared => "shared",
            LockKind::Exclusive => "exclusive",
        }
    }
}

/// What identifies a version of a file: a rename changes (dev, ino), an append the size, any
/// write the modification time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FileStamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime_ns: i128,
}

impl FileStamp {
    pub(crate) fn of(m: &std::fs::Metadata) -> FileStamp {
        FileStamp {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime_ns: m.mtime() as i128 * 1_000_000_000 + m.mtime_nsec() as i128,
        }
    }

    /// The stamp of the file at `path` now (`None`: it cannot be stat'ed).
    pub(crate) fn of_path(path: &Path) -> Option<FileStamp> {
        std::fs::metadata(path).ok().map(|m| FileStamp::of(&m))
    }
}

/// An open file holding a whole-file lock; the lock is released when this is dropped.
pub(crate) struct LockedFile {
    file: File,
    /// Held with classic POSIX locks only (see the module comment).
    _process: Option<MutexGuard<'static, ()>>,
    ofd: bool,
}

impl LockedFile {
    pub(crate) fn file(&self) -> &File {
        &self.file
    }

    /// Whether the lock is an OFD lock (a second open of the file in this process conflicts).
    #[cfg(test)]
    pub(crate) fn is_ofd(&self) -> bool {
        self.ofd
    }

    /// The stamp of the open (and locked) file.
    pub(crate) fn stamp(&self) -> io::Result<FileStamp> {
        Ok(FileStamp::of(&self.file.metadata()?))
    }
}

impl Drop for LockedFile {
    fn drop(&mut self) {
        // Closing would release the lock too; unlocking first keeps that explicit and holds
        // for classic locks, which other descriptors of the file could otherwise keep alive.
        let cmd = if self.ofd { OFD_SETLK } else { libc::F_SETLK };
        let _ = fcntl_lock(&self.file, cmd, libc::F_UNLCK as libc::c_short);
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
const OFD_SETLK: libc::c_int = libc::F_OFD_SETLK;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const OFD_SETLK: libc::c_int = -1;

fn fcntl_lock(file: &File, cmd: libc::c_int, l_type: libc::c_short) -> io::Result<()> {
    if cmd == -1 {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    // SAFETY: an all-zero flock is a valid value (l_start = l_len = 0: the whole file; l_pid
    // must be 0 for OFD locks).
    let mut lock: libc::flock = unsafe { std::mem::zeroed() };
    lock.l_type = l_type;
    lock.l_whence = libc::SEEK_SET as libc::c_short;
    loop {
        // SAFETY: the fd is open for the duration of the call and `lock` is a valid flock.
        let rc = unsafe { libc::fcntl(file.as_raw_fd(), cmd, &mut lock) };
        if rc == 0 {
            return Ok(());
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// Why a lock could not be had.
#[derive(Debug)]
pub(crate) enum LockError {
    /// Another process held a conflicting lock for the whole wait.
    TimedOut(Duration),
    Io(io::Error),
}

impl LockError {
    /// The error to report for `file` (e.g. "credential cache '/tmp/krb5cc_0'"): a timeout is
    /// EAGAIN (what MIT's krb5_lock_file returns for a lock it cannot take), naming the wait
    /// and the setting; an I/O error is `io_minor` (or the errno when `io_minor` is `None`).
    pub(crate) fn to_error(&self, file: &str, kind: LockKind, io_minor: Option<i32>) -> Error {
        match self {
            LockError::TimedOut(waited) => Error::minor(
                minor::EAGAIN,
                format!(
                    "{file} is locked by another process: no {} lock within {} ms \
                     (the wait is set by {LOCK_TIMEOUT_ENV})",
                    kind.word(),
                    waited.as_millis()
                ),
            ),
            LockError::Io(e) => Error::minor(
                io_minor.unwrap_or_else(|| e.raw_os_error().unwrap_or(minor::EIO)),
                format!("{file}: {e}"),
            ),
        }
    }
}

impl From<io::Error> for LockError {
    fn from(e: io::Error) -> Self {
        LockError::Io(e)
    }
}

/// Locks `file`, waiting until `deadline` at most (a deadline already passed tries once);
/// `started` is when the caller's wait began, for the error's "within N ms". Callers that
/// open the file with checks of their own (the file2 replay cache's `O_NOFOLLOW` and owner
/// check) lock it here; the others use [`open_locked`].
pub(crate) fn lock(
    file: File,
    kind: LockKind,
    deadline: Instant,
    started: Instant,
) -> Result<LockedFile, LockError> {
    // First pause 200 µs, doubling up to 20 ms: a writer holds the lock for well under a
    // millisecond, and MIT's waiters queue in the kernel, so short pauses keep our turn fair.
    let mut pause = Duration::from_micros(200);
    let mut process: Option<MutexGuard<'static, ()>> = None;
    let mut ofd = true;
    loop {
        let cmd = if ofd { OFD_SETLK } else { libc::F_SETLK };
        match fcntl_lock(&file, cmd, kind.l_type()) {
            Ok(()) => {
                return Ok(LockedFile {
                    file,
                    _process: process,
                    ofd,
                })
            }
            Err(e) if ofd && e.raw_os_error() == Some(libc::EINVAL) => {
                // No OFD locks on this kernel: classic locks under the process-wide mutex.
                ofd = false;
                process = Some(PROCESS_LOCK.lock().unwrap_or_else(PoisonError::into_inner));
                continue;
            }
            Err(e) if matches!(e.raw_os_error(), Some(libc::EAGAIN) | Some(libc::EACCES)) => {
                let now = Instant::now();
                if now >= deadline {
                    return Err(LockError::TimedOut(now - started));
                }
                std::thread::sleep(pause.min(deadline - now));
                pause = (pause * 2).min(Duration::from_millis(20));
            }
            Err(e) => return Err(LockError::Io(e)),
        }
    }
}

/// Opens `path` with `options` and locks it (`kind`), waiting at most [`lock_timeout`]. When
/// the path names another file once the lock is granted (replaced by a rename meanwhile), that
/// file is opened and locked instead, so the lock is always on the file the path names.
pub(crate) fn open_locked(
    path: &Path,
    options: &OpenOptions,
    kind: LockKind,
) -> Result<LockedFile, LockError> {
    let started = Instant::now();
    let deadline = started + lock_timeout();
    loop {
        let file = options.open(path)?;
        let locked = lock(file, kind, deadline, started)?;
        let ours = locked.file.metadata()?;
        match std::fs::metadata(path) {
            Ok(now) if now.dev() == ours.dev() && now.ino() == ours.ino() => return Ok(locked),
            // Replaced (or removed) while we waited: start again on what the path names now
            // (opening a removed file gives the caller its not-found error).
            _ => {
                drop(locked);
                if Instant::now() >= deadline {
                    return Err(LockError::TimedOut(started.elapsed()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    fn temp(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "krbap-lock-{name}-{}-{}",
            std::process::id(),
            crate::crypto::random_u32()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("f")
    }

    fn read() -> OpenOptions {
        let mut o = OpenOptions::new();
        o.read(true);
        o
    }

    fn write() -> OpenOptions {
        let mut o = OpenOptions::new();
        o.read(true).write(true);
        o
    }

    /// Shared locks coexist; an exclusive lock excludes both kinds, also between two opens in
    /// one process (OFD locks belong to the open file), and is granted once released.
    #[test]
    fn shared_and_exclusive_exclude_each_other() {
        let path = temp("kinds");
        std::fs::write(&path, b"x").unwrap();
        let a = open_locked(&path, &read(), LockKind::Shared).unwrap();
        let b = open_locked(&path, &read(), LockKind::Shared).unwrap();
        let start = Instant::now();
        let deadline = start + Duration::from_millis(50);
        let f = write().open(&path).unwrap();
        assert!(matches!(
            lock(f, LockKind::Exclusive, deadline, start),
            Err(LockError::TimedOut(_))
        ));
        drop((a, b));
        let w = open_locked(&path, &write(), LockKind::Exclusive).unwrap();
        let f = read().open(&path).unwrap();
        let start = Instant::now();
        assert!(lock(
            f,
            LockKind::Shared,
            start + Duration::from_millis(30),
            start
        )
        .is_err());
        drop(w);
        open_locked(&path, &read(), LockKind::Shared).unwrap();
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    /// A waiter gets the lock as soon as the holder lets go (well before the timeout).
    #[test]
    fn waiter_gets_the_lock_when_released() {
        let path = temp("wait");
        std::fs::write(&path, b"x").unwrap();
        let held = open_locked(&path, &write(), LockKind::Exclusive).unwrap();
        let released = Arc::new(AtomicBool::new(false));
        let flag = released.clone();
        let p = path.clone();
        let t = std::thread::spawn(move || {
            let got = open_locked(&p, &write(), LockKind::Exclusive).unwrap();
            assert!(flag.load(Ordering::SeqCst), "granted while held");
            drop(got);
        });
        std::thread::sleep(Duration::from_millis(100));
        released.store(true, Ordering::SeqCst);
        drop(held);
        t.join().unwrap();
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    /// A file replaced by a rename while the lock was awaited: the lock ends up on the new one.
    #[test]
    fn follows_a_rename_made_while_waiting() {
        let path = temp("rename");
        std::fs::write(&path, b"old").unwrap();
        let held = open_locked(&path, &write(), LockKind::Exclusive).unwrap();
        let p = path.clone();
        let t = std::thread::spawn(move || {
            let got = open_locked(&p, &read(), LockKind::Shared).unwrap();
            let mut s = String::new();
            std::io::Read::read_to_string(&mut got.file(), &mut s).unwrap();
            s
        });
        std::thread::sleep(Duration::from_millis(50));
        let tmp = path.with_file_name("new");
        std::fs::write(&tmp, b"new").unwrap();
        std::fs::rename(&tmp, &path).unwrap();
        drop(held);
        assert_eq!(t.join().unwrap(), "new");
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn timeout_error_names_the_file_and_setting() {
        let e = LockError::TimedOut(Duration::from_millis(1500)).to_error(
            "credential cache '/tmp/x'",
            LockKind::Shared,
            Some(minor::CC_IO),
        );
        assert_eq!(e.minor, minor::EAGAIN);
        assert!(e.detail.contains("/tmp/x") && e.detail.contains("1500 ms"));
        assert!(e.detail.contains(LOCK_TIMEOUT_ENV), "{}", e.detail);
    }
}
