//! MIT's file2 replay cache (specs/mit-rcache_file_format.rst; MIT rc_file2.c, rc_dfl.c,
//! lock_file.c), byte-compatible with MIT's acceptors.

use super::*;

/// Length of the file2 tag: the checksum truncated or zero-padded to 12 bytes.
pub const FILE2_TAG_LEN: usize = 12;
/// A record: tag + 4-byte big-endian timestamp (the acceptor's clock when stored).
const RECORD_LEN: u64 = FILE2_TAG_LEN as u64 + 4;
/// The SipHash-2-4 seed at the start of the file.
const SEED_LEN: usize = 16;
const FIRST_TABLE_RECORDS: u64 = 1023;
/// MIT refuses to grow the file past INT32_MAX bytes (EOVERFLOW).
const MAX_FILE_SIZE: u64 = i32::MAX as u64;

/// A replay cache in MIT's file2 format. Every store opens the file, takes an exclusive lock on
/// the whole file (OFD lock, else a classic POSIX lock: the locks MIT takes), checks and
/// writes, and closes it, exactly as MIT does, so concurrent krbap and MIT processes
/// interleave safely.
///
/// MIT waits for the lock without limit (`F_OFD_SETLKW`). krbap waits at most
/// [`crate::file_lock::lock_timeout`] (`KRBAP_LOCK_TIMEOUT_MS`, default 10 s), as for
/// ccaches and keytabs, and then fails the accept closed (`KRB5_RC_IO`, the message names the
/// file and the setting): a process that holds the file's lock and hangs stalls the accepts
/// for that long, not forever. The threads of one process take turns on a mutex first, so
/// the lock, which is polled, is contended only by other processes; a thread that got its
/// turn late has only what is left of its own wait.
///
/// Damaged files (a process killed or a machine crashed mid-write): the file's first 16 bytes
/// are the seed; a file shorter than that is given a fresh random seed at offset 0 under the
/// lock (there can be no records in it). Records are fixed 16-byte slots after the seed, so a
/// torn write leaves either a file whose length is not on a slot boundary or a slot that was
/// never completed:
/// - a trailing partial record is cut off (the file truncated to the last whole slot) under
///   the lock before anything is read. MIT's reader treats it as beyond the end of the file
///   anyway, and its store never returned success, so no accepted authenticator is lost;
/// - the search for a tag goes on past a slot that has a zero timestamp but a non-zero tag
///   (a torn record, or one overwritten part-way): MIT stops at any zero timestamp, which
///   would hide every record of that chain in later tables. The slot stays available for
///   writing, so MIT and krbap still write a new record to the same place.
///
/// Any 16 bytes are a valid seed and any 16 bytes a valid record, so garbage cannot crash the
/// reader. Any I/O error fails closed (see [`FileReplayCache::check_and_store`]).
#[derive(Debug)]
pub struct FileReplayCache {
    path: PathBuf,
    /// `dfl:`: MIT's shared-temporary-directory precautions (O_NOFOLLOW, owner check).
    is_default: bool,
    /// This process's stores take turns here (a blocking wait) before the file lock.
    turn: Mutex<()>,
}

impl FileReplayCache {
    /// The file2 cache at `path` (MIT `file2:<path>`: opened O_CREAT|O_RDWR, mode 0600).
    pub fn new(path: impl Into<PathBuf>) -> FileReplayCache {
        FileReplayCache {
            path: path.into(),
            is_default: false,
            turn: Mutex::new(()),
        }
    }

    /// MIT's default cache, `dfl:`: `$KRB5RCACHEDIR/krb5_<euid>.rcache2`, else under `$TMPDIR`,
    /// else under `/var/tmp` (MIT's RCTMPDIR on Debian); not following a symlink at the final
    /// component and refusing a file not owned by the effective uid.
    pub fn mit_default() -> FileReplayCache {
        FileReplayCache {
            path: Self::mit_default_path(),
            is_default: true,
            turn: Mutex::new(()),
        }
    }

    /// The path [`FileReplayCache::mit_default`] uses (MIT rc_dfl.c `open_file`).
    pub fn mit_default_path() -> PathBuf {
        let dir = secure_getenv("KRB5RCACHEDIR")
            .or_else(|| secure_getenv("TMPDIR"))
            .unwrap_or_else(|| OsString::from("/var/tmp"));
        // SAFETY: geteuid has no preconditions and cannot fail.
        let euid = unsafe { libc::geteuid() };
        // MIT formats "%s/krb5_%lu.rcache2" (no path normalization).
        let mut path = dir;
        path.push(format!("/krb5_{euid}.rcache2"));
        PathBuf::from(path)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `file2:<path>`, or `dfl:` for MIT's default cache.
    pub fn name(&self) -> String {
        if self.is_default {
            "dfl:".to_string()
        } else {
            format!("file2:{}", self.path.display())
        }
    }

    /// See [`ReplayCache::check_and_store`]. The file2 tag is the first 12 bytes of the checksum
    /// (zero-padded if shorter), and the record's timestamp is `now` (MIT stores its clock, not
    /// the authenticator's ctime); records older than `now - skew` may be overwritten.
    pub fn check_and_store(
        &self,
        ciphertext: &[u8],
        mac_len: usize,
        now: i64,
        skew: i64,
    ) -> Result<()> {
        let checksum = tag_of(ciphertext, mac_len)?;
        let mut tag = [0u8; FILE2_TAG_LEN];
        let n = checksum.len().min(FILE2_TAG_LEN);
        tag[..n].copy_from_slice(&checksum[..n]);
        // MIT's krb5_timestamp is 32 bits, compared as unsigned (ts_after/ts_incr); its
        // krb5_deltat clockskew is a non-negative int32.
        let now32 = now as u32;
        let skew32 = skew.clamp(0, i64::from(i32::MAX)) as u32;
        self.store_tag(&tag, now32, skew32)
    }

    fn store_tag(&self, tag: &[u8; FILE2_TAG_LEN], now: u32, skew: u32) -> Result<()> {
        self.store_tag_within(tag, now, skew, crate::file_lock::lock_timeout())
    }

    /// [`Self::store_tag`] with the wait for the turn and the lock bounded by `timeout`.
    fn store_tag_within(
        &self,
        tag: &[u8; FILE2_TAG_LEN],
        now: u32,
        skew: u32,
        timeout: std::time::Duration,
    ) -> Result<()> {
        let started = std::time::Instant::now();
        let turn = lock_ignoring_poison(&self.turn);
        let file = self.open().map_err(|e| self.io_error("open", &e))?;
        let locked = crate::file_lock::lock(
            file,
            crate::file_lock::LockKind::Exclusive,
            started + timeout,
            started,
        )
        .map_err(|e| self.lock_error(e))?;
        let stored = store_locked(locked.file(), tag, now, skew);
        // Closing the file releases the file lock (and then, without OFD locks, the process
        // mutex that classic locks need); only then may the next thread take its turn.
        drop(locked);
        drop(turn);
        match stored {
            Ok(Stored::New) => Ok(()),
            Ok(Stored::Replay) => Err(replay_error(&format!(
                "replay cache {}",
                self.path.display()
            ))),
            Err(e) => Err(self.io_error("read/write", &e)),
        }
    }

    fn open(&self) -> io::Result<File> {
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).mode(0o600);
        if self.is_default {
            options.custom_flags(libc::O_NOFOLLOW);
        }
        let file = options.open(&self.path)?;
        let meta = file.metadata()?;
        if self.is_default {
            // SAFETY: geteuid has no preconditions and cannot fail.
            let euid = unsafe { libc::geteuid() };
            if meta.uid() != euid {
                return Err(io::Error::other(format!("not owned by uid {euid}")));
            }
        }
        if !meta.file_type().is_file() {
            return Err(io::Error::other("not a regular file"));
        }
        Ok(file)
    }

    /// Fails closed with GSS_S_FAILURE and the replay-cache code for the errno, mapped as MIT's
    /// rc_io.c maps them (EACCES/EPERM/EROFS -> RC_IO_PERM, ENOSPC/EDQUOT/EFBIG ->
    /// RC_IO_SPACE, EIO -> RC_IO_IO, anything else RC_IO); the detail names the file, the
    /// operation and the OS error with its errno.
    fn io_error(&self, what: &str, e: &io::Error) -> Error {
        let code = match e.raw_os_error() {
            Some(libc::EACCES | libc::EPERM | libc::EROFS) => minor::RC_IO_PERM,
            Some(libc::ENOSPC | libc::EDQUOT | libc::EFBIG) => minor::RC_IO_SPACE,
            Some(libc::EIO) => minor::RC_IO_IO,
            _ if e.kind() == io::ErrorKind::PermissionDenied => minor::RC_IO_PERM,
            _ => minor::RC_IO,
        };
        Error::minor(
            code,
            format!("replay cache {} {what} failed: {e}", self.path.display()),
        )
    }

    /// A lock that was not granted: an I/O error as [`Self::io_error`] maps it, a wait that
    /// ran out as `KRB5_RC_IO` (the cache cannot decide, so the accept is refused).
    fn lock_error(&self, e: crate::file_lock::LockError) -> Error {
        match e {
            crate::file_lock::LockError::Io(io) => self.io_error("lock", &io),
            waited => {
                let mut err = waited.to_error(
                    &format!("replay cache {}", self.path.display()),
                    crate::file_lock::LockKind::Exclusive,
                    None,
                );
                err.minor = minor::RC_IO;
                err
            }
        }
    }
}

enum Stored {
    New,
    Replay,
}

/// Reads as much of `buf` as the file holds at `offset` (short only at end of file).
fn read_full_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], offset + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// MIT `expired()`: `ts_after(now, ts_incr(stamp, skew))`, unsigned 32-bit arithmetic.
fn expired(stamp: u32, now: u32, skew: u32) -> bool {
    now > stamp.wrapping_add(skew)
}

/// The next table's (offset, record count) after `prev` (MIT `next_table`): table 1 has 1023
/// records after the seed, table 2 has 2048, then each doubles; none may end past INT32_MAX.
fn next_table(prev: Option<(u64, u64)>) -> io::Result<(u64, u64)> {
    let (offset, nrecords) = match prev {
        None => (SEED_LEN as u64, FIRST_TABLE_RECORDS),
        Some((off, n)) if off == SEED_LEN as u64 => {
            (off + n * RECORD_LEN, (FIRST_TABLE_RECORDS + 1) * 2)
        }
        Some((off, n)) => (off + n * RECORD_LEN, n * 2),
    };
    if nrecords > MAX_FILE_SIZE / RECORD_LEN || offset > MAX_FILE_SIZE - nrecords * RECORD_LEN {
        return Err(io::Error::other("replay cache file is full (2 GiB)"));
    }
    Ok((offset, nrecords))
}

/// MIT rc_file2.c `store()`, on an open and locked file.
fn store_locked(file: &File, tag: &[u8; FILE2_TAG_LEN], now: u32, skew: u32) -> io::Result<Stored> {
    let mut seed = [0u8; SEED_LEN];
    if read_full_at(file, &mut seed, 0)? < SEED_LEN {
        // New (or damaged, shorter than a seed) file: a fresh random seed at offset 0.
        getrandom::fill(&mut seed).map_err(|e| io::Error::other(format!("no random seed: {e}")))?;
        file.write_all_at(&seed, 0)?;
    }
    // Repair a torn tail: a record cut short by a crash was never reported as stored.
    let len = file.metadata()?.len();
    let torn = len.saturating_sub(SEED_LEN as u64) % RECORD_LEN;
    if torn != 0 {
        file.set_len(len - torn)?;
    }

    let mut table = None;
    let mut avail_offset: Option<u64> = None;
    loop {
        let (table_offset, nrecords) = next_table(table)?;
        table = Some((table_offset, nrecords));

        let mut hasher = SipHasher24::new_with_key(&seed);
        hasher.write(tag);
        // MIT: index = hash % nrecords; the record may be at the index or the next slot (for the
        // last index of a table, that is the first slot of the next table, as in MIT).
        let index = hasher.finish() % nrecords;
        let record_offset = table_offset + index * RECORD_LEN;

        let mut buf = [0u8; 2 * RECORD_LEN as usize];
        let got = read_full_at(file, &mut buf, record_offset)?;
        let nread = got / RECORD_LEN as usize; // a partial record is beyond the end of the file
        let (rec1, rec2) = buf.split_at(RECORD_LEN as usize);
        let stamp = |rec: &[u8]| u32::from_be_bytes([rec[12], rec[13], rec[14], rec[15]]);
        let (stamp1, stamp2) = (stamp(rec1), stamp(rec2));

        if (nread >= 1 && rec1[..FILE2_TAG_LEN] == tag[..])
            || (nread == 2 && rec2[..FILE2_TAG_LEN] == tag[..])
        {
            return Ok(Stored::Replay);
        }

        // The first candidate available for writing: beyond EOF, never written, or expired.
        if avail_offset.is_none() {
            if nread == 0 || stamp1 == 0 || expired(stamp1, now, skew) {
                avail_offset = Some(record_offset);
            } else if nread == 1 || stamp2 == 0 || expired(stamp2, now, skew) {
                avail_offset = Some(record_offset + RECORD_LEN);
            }
        }

        // A never-written slot (all zero) or the end of the file ends the search: the tag
        // would have been written there (or earlier) had it been stored before. A slot with
        // a zero stamp but a tag is a torn record, not proof of absence: search on.
        let never_written = |rec: &[u8]| rec.iter().all(|&b| b == 0);
        if nread < 2 || never_written(rec1) || never_written(rec2) {
            let offset = avail_offset.unwrap_or(record_offset);
            let mut record = [0u8; RECORD_LEN as usize];
            record[..FILE2_TAG_LEN].copy_from_slice(tag);
            record[FILE2_TAG_LEN..].copy_from_slice(&now.to_be_bytes());
            file.write_all_at(&record, offset)?;
            return Ok(Stored::New);
        }

        // Each further table is hashed with the seed's first byte incremented.
        seed[0] = seed[0].wrapping_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_file(name: &str) -> (PathBuf, File) {
        let path = std::env::temp_dir().join(format!(
            "krbap-rcache-unit-{}-{name}-{}",
            std::process::id(),
            crate::crypto::random_u32()
        ));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .unwrap();
        (path, file)
    }

    /// A lock another holder keeps is waited for at most the timeout, then the store fails
    /// closed with KRB5_RC_IO and a message naming the file and the setting, and the tag is
    /// not recorded; a lock released within the wait is waited for. (With OFD locks a second
    /// open of the file conflicts even inside this process, as another process would.)
    #[test]
    fn lock_wait_is_bounded() {
        use crate::file_lock::{open_locked, LockKind};
        use std::time::{Duration, Instant};
        let (path, _) = temp_file("lock-wait");
        let rc = FileReplayCache::new(&path);
        let held = open_locked(&path, OpenOptions::new().read(true), LockKind::Shared).unwrap();
        if !held.is_ofd() {
            return; // classic locks: this process's own lock would not conflict
        }
        let tag = [0x5au8; FILE2_TAG_LEN];
        let t0 = Instant::now();
        let e = rc
            .store_tag_within(&tag, 1000, 300, Duration::from_millis(300))
            .unwrap_err();
        let waited = t0.elapsed();
        assert_eq!(e.minor, minor::RC_IO, "{e}");
        assert_eq!(e.major, major::FAILURE, "{e}");
        let text = e.to_string();
        assert!(text.contains("locked by another process"), "{text}");
        assert!(text.contains(&path.display().to_string()), "{text}");
        assert!(text.contains("KRBAP_LOCK_TIMEOUT_MS"), "{text}");
        assert!(
            waited >= Duration::from_millis(290) && waited < Duration::from_secs(3),
            "{waited:?}"
        );
        drop(held);
        // Held for 200 ms while a store waits up to 5 s: the store goes through.
        let (tx, rx) = std::sync::mpsc::channel();
        let releaser = {
            let path = path.clone();
            std::thread::spawn(move || {
                let held =
                    open_locked(&path, OpenOptions::new().read(true), LockKind::Shared).unwrap();
                tx.send(()).unwrap();
                std::thread::sleep(Duration::from_millis(200));
                drop(held);
            })
        };
        rx.recv().unwrap();
        let t0 = Instant::now();
        rc.store_tag_within(&tag, 1000, 300, Duration::from_secs(5))
            .unwrap();
        assert!(t0.elapsed() < Duration::from_secs(3));
        releaser.join().unwrap();
        // The refused store recorded nothing; the second one did.
        let e = rc
            .store_tag_within(&tag, 1001, 300, Duration::from_secs(5))
            .unwrap_err();
        assert_eq!(e.minor, minor::AP_ERR_REPEAT, "{e}");
        std::fs::remove_file(&path).unwrap();
    }

    /// Threads of one process storing into one cache at once: each takes its turn, none
    /// times out, every tag is recorded once.
    #[test]
    fn threads_take_turns() {
        use std::time::Duration;
        let (path, _) = temp_file("turns");
        let rc = std::sync::Arc::new(FileReplayCache::new(&path));
        let threads: Vec<_> = (0..4u8)
            .map(|t| {
                let rc = rc.clone();
                std::thread::spawn(move || {
                    for i in 0..50u8 {
                        let mut tag = [t; FILE2_TAG_LEN];
                        tag[1] = i;
                        rc.store_tag_within(&tag, 1000, 300, Duration::from_secs(10))
                            .unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        for t in 0..4u8 {
            let mut tag = [t; FILE2_TAG_LEN];
            tag[1] = 7;
            let e = rc
                .store_tag_within(&tag, 1000, 300, Duration::from_secs(1))
                .unwrap_err();
            assert_eq!(e.minor, minor::AP_ERR_REPEAT);
        }
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn torn_record_does_not_hide_the_rest_of_the_chain() {
        let (path, file) = temp_file("torn-slot");
        let seed = [7u8; SEED_LEN];
        file.write_all_at(&seed, 0).unwrap();
        let tag = [0xabu8; FILE2_TAG_LEN];
        let mut hasher = SipHasher24::new_with_key(&seed);
        hasher.write(&tag);
        let index = hasher.finish() % FIRST_TABLE_RECORDS;
        let slot = SEED_LEN as u64 + index * RECORD_LEN;
        // Both candidate slots of table 1 are live, so the tag goes to table 2.
        let mut other = [0x11u8; RECORD_LEN as usize];
        other[FILE2_TAG_LEN..].copy_from_slice(&1000u32.to_be_bytes());
        file.write_all_at(&other, slot).unwrap();
        other[0] = 0x22;
        file.write_all_at(&other, slot + RECORD_LEN).unwrap();
        assert!(matches!(
            store_locked(&file, &tag, 1000, 300).unwrap(),
            Stored::New
        ));
        assert!(file.metadata().unwrap().len() > 16384, "stored in table 2");
        // A torn write zeroes the first slot's timestamp but not its tag: MIT's search
        // would stop there and accept the replay.
        file.write_all_at(&[0, 0, 0, 0], slot + FILE2_TAG_LEN as u64)
            .unwrap();
        assert!(matches!(
            store_locked(&file, &tag, 1000, 300).unwrap(),
            Stored::Replay
        ));
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn torn_tail_is_cut_to_a_whole_record() {
        let (path, file) = temp_file("torn-tail");
        assert!(matches!(
            store_locked(&file, &[1; FILE2_TAG_LEN], 1000, 300).unwrap(),
            Stored::New
        ));
        let len = file.metadata().unwrap().len();
        assert_eq!((len - SEED_LEN as u64) % RECORD_LEN, 0);
        // Half a record appended (a write cut short), then the next store repairs it.
        file.write_all_at(&[0x5a; 7], len).unwrap();
        assert!(matches!(
            store_locked(&file, &[1; FILE2_TAG_LEN], 1000, 300).unwrap(),
            Stored::Replay
        ));
        let repaired = file.metadata().unwrap().len();
        assert_eq!((repaired - SEED_LEN as u64) % RECORD_LEN, 0, "{repaired}");
        assert!(repaired >= len);
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn tables_follow_mit_layout() {
        let t1 = next_table(None).unwrap();
        assert_eq!(t1, (16, 1023));
        let t2 = next_table(Some(t1)).unwrap();
        assert_eq!(t2, (16384, 2048));
        let t3 = next_table(Some(t2)).unwrap();
        assert_eq!(t3, (49152, 4096));
        // The table sequence ends before the file would pass INT32_MAX bytes.
        let mut t = t3;
        let mut count = 3;
        while let Ok(next) = next_table(Some(t)) {
            assert!(next.0 + next.1 * RECORD_LEN <= MAX_FILE_SIZE);
            t = next;
            count += 1;
        }
        assert!(count < 24);
    }

    #[test]
    fn expiry_uses_unsigned_32_bit_time() {
        assert!(!expired(1000, 1300, 300));
        assert!(expired(1000, 1301, 300));
        // A stamp near the top of the u32 range wraps, as MIT's ts_incr does.
        assert!(expired(u32::MAX - 10, 5, 300) == (5 > (u32::MAX - 10).wrapping_add(300)));
    }
}
