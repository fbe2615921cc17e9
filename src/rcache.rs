//! Acceptor replay caches (RFC 4120 §3.2.3: "the server MUST utilize a replay cache to remember
//! any authenticator presented within the allowable clock skew").
//!
//! Three kinds, selected like MIT krb5 1.20 selects its `krb5_rcache`:
//! - [`ReplayCache::None`]: never refuses (MIT's `none:`).
//! - [`ReplayCache::Memory`]: krbap's own per-process cache (`memory:`), sharded and lock-light.
//! - [`ReplayCache::File2`]: MIT's `file2` format (`file2:/path`, and `dfl:` = the same format at
//!   MIT's default path), byte-compatible so that a krbap acceptor and an MIT acceptor sharing a
//!   file catch each other's replays.
//!
//! The replay tag is what MIT uses since 1.18 (`k5_rc_tag_from_ciphertext`, rc_base.c): the
//! checksum part of the authenticator's RFC 3961 ciphertext, i.e. its last `mac_len` bytes.
//! An attacker cannot produce a different valid ciphertext with the same MAC, and the MAC covers
//! the authenticator's confounder, so two distinct authenticators collide only by chance.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::hash::{BuildHasher, BuildHasherDefault, Hash, Hasher};
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use siphasher::sip::{SipHasher13, SipHasher24};

use crate::error::{major, minor, Error, Result};

/// MIT's `KRB5_RC_TYPE_NOTFOUND` ("Replay cache type is unknown"), returned by
/// `k5_rc_resolve` for an unknown type. Not (yet) in `crate::error::minor`.
pub const RC_TYPE_NOTFOUND: i32 = minor::RC_TYPE_NOTFOUND;
/// MIT's `KRB5_RC_PARSE` ("Replay cache name parse/format error"): a name without a `:`.
pub const RC_PARSE: i32 = minor::RC_PARSE;

/// GSS major status of a replay. MIT 1.20's `gss_accept_sec_context` answers a replayed token
/// with GSS_S_FAILURE (see tests/data/mit-capture/mutual/info.txt: major=0xd0000); the
/// DUPLICATE_TOKEN supplementary bit says why. DUPLICATE_TOKEN alone would not be an error
/// (`major::is_error` is false for supplementary bits), so a caller could mistake it for success.
pub const REPLAY_MAJOR: u32 = major::FAILURE | major::DUPLICATE_TOKEN;

/// The error for a replayed authenticator (MIT: KRB5KRB_AP_ERR_REPEAT, "Request is a replay").
fn replay_error(what: &str) -> Error {
    Error::new(
        REPLAY_MAJOR,
        minor::AP_ERR_REPEAT,
        format!("authenticator already seen ({what})"),
    )
}

/// The replay tag of an authenticator: the trailing `mac_len` bytes of its RFC 3961 ciphertext
/// (MIT `k5_rc_tag_from_ciphertext`: EINVAL when the ciphertext is shorter than the checksum).
fn tag_of(ciphertext: &[u8], mac_len: usize) -> Result<&[u8]> {
    if mac_len == 0 || ciphertext.len() < mac_len {
        return Err(Error::defective_token(
            minor::EINVAL,
            format!(
                "authenticator ciphertext of {} bytes has no {mac_len}-byte checksum",
                ciphertext.len()
            ),
        ));
    }
    Ok(&ciphertext[ciphertext.len() - mac_len..])
}

/// A replay cache. Cheap to share behind an `Arc`; all methods take `&self`.
#[derive(Debug)]
pub enum ReplayCache {
    None,
    Memory(MemoryReplayCache),
    File2(FileReplayCache),
}

impl ReplayCache {
    /// A cache that never refuses anything (MIT `none:`).
    pub fn none() -> ReplayCache {
        ReplayCache::None
    }

    /// krbap's in-memory cache (per process; replays sent to another process are not caught).
    pub fn memory() -> ReplayCache {
        ReplayCache::Memory(MemoryReplayCache::new())
    }

    /// MIT's file2 format at `path` (MIT `file2:<path>`).
    pub fn file2(path: impl Into<PathBuf>) -> ReplayCache {
        ReplayCache::File2(FileReplayCache::new(path))
    }

    /// MIT's default cache (`dfl:`): file2 format at `$KRB5RCACHEDIR`, else `$TMPDIR`, else
    /// `/var/tmp`, named `krb5_<euid>.rcache2`, opened without following symlinks and refused
    /// unless owned by the effective uid (MIT rc_dfl.c). The path is resolved now, not per store.
    pub fn dfl() -> ReplayCache {
        ReplayCache::File2(FileReplayCache::mit_default())
    }

    /// Resolves a cache name `type:residual` as MIT's `k5_rc_resolve` does: the type is
    /// everything before the first `:` (case-sensitive); `none:`, `memory:`, `file2:<path>`,
    /// `dfl:` (residual ignored, as MIT). No `:` -> [`RC_PARSE`]; unknown type ->
    /// [`RC_TYPE_NOTFOUND`]; `file2:` with an empty path -> [`RC_PARSE`] (MIT would fail at the
    /// first store instead).
    pub fn from_name(name: &str) -> Result<ReplayCache> {
        let Some((kind, residual)) = name.split_once(':') else {
            return Err(Error::minor(
                RC_PARSE,
                format!("replay cache name {name:?} has no type prefix"),
            ));
        };
        match kind {
            "none" => Ok(ReplayCache::none()),
            "memory" => Ok(ReplayCache::memory()),
            "dfl" => Ok(ReplayCache::dfl()),
            "file2" if residual.is_empty() => Err(Error::minor(
                RC_PARSE,
                "file2 replay cache name has no path",
            )),
            "file2" => Ok(ReplayCache::file2(residual)),
            _ => Err(Error::minor(
                RC_TYPE_NOTFOUND,
                format!("unknown replay cache type {kind:?}"),
            )),
        }
    }

    /// The cache the environment asks for, in MIT's order (`k5_rc_default`): `KRB5RCACHENAME`
    /// (a full name), then `KRB5RCACHETYPE` (a type, resolved with an empty residual), else
    /// krbap's default, `memory:`. Like MIT (`secure_getenv`), the environment is ignored in a
    /// setuid/setgid process. MIT's `[libdefaults] default_rcache_name` is not read here.
    pub fn from_env() -> Result<ReplayCache> {
        if let Some(name) = secure_getenv("KRB5RCACHENAME") {
            let name = name
                .into_string()
                .map_err(|_| Error::minor(RC_PARSE, "KRB5RCACHENAME is not valid UTF-8"))?;
            return ReplayCache::from_name(&name);
        }
        if let Some(kind) = secure_getenv("KRB5RCACHETYPE") {
            let kind = kind
                .into_string()
                .map_err(|_| Error::minor(RC_PARSE, "KRB5RCACHETYPE is not valid UTF-8"))?;
            return ReplayCache::from_name(&format!("{kind}:"));
        }
        Ok(ReplayCache::memory())
    }

    /// The cache's name in `type:residual` form (`none:`, `memory:`, `dfl:`, `file2:/path`).
    pub fn name(&self) -> String {
        match self {
            ReplayCache::None => "none:".to_string(),
            ReplayCache::Memory(_) => "memory:".to_string(),
            ReplayCache::File2(f) => f.name(),
        }
    }

    /// Checks the authenticator against the cache and records it. `ciphertext` is the
    /// authenticator's RFC 3961 ciphertext (the tag comes from its trailing checksum bytes,
    /// `mac_len` long); `now` and `skew` in seconds.
    ///
    /// A replay -> `Err` with major [`REPLAY_MAJOR`], minor `AP_ERR_REPEAT`. An I/O failure fails
    /// closed -> `Err` with minor `RC_IO` / `RC_IO_PERM`, naming the file. A ciphertext shorter
    /// than `mac_len` (or `mac_len` 0) -> `EINVAL`, for every kind of cache, as MIT.
    pub fn check_and_store(
        &self,
        ciphertext: &[u8],
        mac_len: usize,
        now: i64,
        skew: i64,
    ) -> Result<()> {
        match self {
            ReplayCache::None => tag_of(ciphertext, mac_len).map(|_| ()),
            ReplayCache::Memory(m) => m.check_and_store(ciphertext, mac_len, now, skew),
            ReplayCache::File2(f) => f.check_and_store(ciphertext, mac_len, now, skew),
        }
    }
}

/// `secure_getenv`: the environment is not trusted in a setuid/setgid process.
fn secure_getenv(name: &str) -> Option<OsString> {
    if running_with_privilege() {
        return None;
    }
    std::env::var_os(name)
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn running_with_privilege() -> bool {
    // SAFETY: getauxval has no preconditions.
    unsafe { libc::getauxval(libc::AT_SECURE) != 0 }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn running_with_privilege() -> bool {
    // SAFETY: these getters have no preconditions and cannot fail.
    unsafe { libc::getuid() != libc::geteuid() || libc::getgid() != libc::getegid() }
}

// ---------------------------------------------------------------------------------------------
// Memory cache
// ---------------------------------------------------------------------------------------------

/// Number of independently locked shards: threads storing different tags rarely meet.
const SHARDS: usize = 128;
/// Longest tag kept by the memory cache: every RFC 3961/3962/8009 MAC (12, 16 or 24 bytes) fits;
/// a longer MAC is cut to its first bytes (still a 256-bit value).
const MEMORY_TAG_MAX: usize = 32;
/// A shard is pruned of expired entries when it reaches this many entries, and afterwards when
/// it doubles from what survived (amortized O(1) per store).
const PRUNE_FLOOR: usize = 64;

/// A tag with its precomputed keyed hash (so the shard's map does not hash it again).
#[derive(Clone, Copy)]
struct MemoryKey {
    hash: u64,
    len: u8,
    bytes: [u8; MEMORY_TAG_MAX],
}

impl PartialEq for MemoryKey {
    fn eq(&self, other: &MemoryKey) -> bool {
        self.len == other.len && self.bytes == other.bytes
    }
}
impl Eq for MemoryKey {}

impl Hash for MemoryKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

/// Passes the precomputed SipHash of a [`MemoryKey`] through to the map.
#[derive(Default)]
struct PrehashedHasher(u64);

impl Hasher for PrehashedHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only write_u64 is used by MemoryKey; fold anything else in for completeness.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

struct Shard {
    /// Tag -> the last second at which a copy of it is still a replay.
    entries: HashMap<MemoryKey, i64, BuildHasherDefault<PrehashedHasher>>,
    prune_at: usize,
}

/// krbap's in-memory replay cache: [`SHARDS`] mutex-protected maps selected by a keyed SipHash
/// of the tag (random key per cache, so a peer cannot aim many tags at one shard or bucket).
///
/// Retention: an entry stored at `now` stays a replay until `now + 2 * skew`. MIT's memory cache
/// keeps entries for one `skew` only, but an authenticator whose client clock ran `skew` ahead is
/// still within the skew window until `ctime + skew`, i.e. up to `now + 2 * skew`: dropping the
/// entry earlier would open a replay window. Memory stays bounded by rate × 2·skew (× 2 for the
/// amortized pruning slack).
pub struct MemoryReplayCache {
    key: [u8; 16],
    shards: Box<[Mutex<Shard>]>,
}

impl std::fmt::Debug for MemoryReplayCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MemoryReplayCache")
    }
}

impl Default for MemoryReplayCache {
    fn default() -> Self {
        MemoryReplayCache::new()
    }
}

impl MemoryReplayCache {
    pub fn new() -> MemoryReplayCache {
        let mut key = [0u8; 16];
        if getrandom::fill(&mut key).is_err() {
            // The key only resists hash flooding; std's RandomState is also OS-seeded.
            let state = std::collections::hash_map::RandomState::new();
            key[..8].copy_from_slice(&state.hash_one(0u8).to_le_bytes());
            key[8..].copy_from_slice(&state.hash_one(1u8).to_le_bytes());
        }
        let shards = (0..SHARDS)
            .map(|_| {
                Mutex::new(Shard {
                    entries: HashMap::default(),
                    prune_at: PRUNE_FLOOR,
                })
            })
            .collect();
        MemoryReplayCache { key, shards }
    }

    /// Number of entries currently held (live or not yet pruned), for tests and monitoring.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| lock_ignoring_poison(s).entries.len())
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// See [`ReplayCache::check_and_store`]. The tag is the full MAC (up to 32 bytes).
    pub fn check_and_store(
        &self,
        ciphertext: &[u8],
        mac_len: usize,
        now: i64,
        skew: i64,
    ) -> Result<()> {
        let tag = tag_of(ciphertext, mac_len)?;
        let tag = &tag[..tag.len().min(MEMORY_TAG_MAX)];
        let mut bytes = [0u8; MEMORY_TAG_MAX];
        bytes[..tag.len()].copy_from_slice(tag);
        let mut hasher = SipHasher13::new_with_key(&self.key);
        hasher.write(tag);
        let hash = hasher.finish();
        // Bits 32.. pick the shard: the map uses the low bits for the bucket and the top 7
        // bits as its control byte, which must stay spread within one shard.
        let shard_index = ((hash >> 32) as usize) % SHARDS;
        let key = MemoryKey {
            hash,
            len: tag.len() as u8,
            bytes,
        };
        let retain_until = now.saturating_add(skew.max(0).saturating_mul(2));

        let mut shard = lock_ignoring_poison(&self.shards[shard_index]);
        // One lookup: a live entry is a replay; an expired one is reused for this store.
        match shard.entries.entry(key) {
            Entry::Occupied(mut entry) => {
                if *entry.get() >= now {
                    return Err(replay_error("memory replay cache"));
                }
                entry.insert(retain_until);
            }
            Entry::Vacant(entry) => {
                entry.insert(retain_until);
            }
        }
        if shard.entries.len() >= shard.prune_at {
            shard.entries.retain(|_, until| *until >= now);
            shard.prune_at = (shard.entries.len() * 2).max(PRUNE_FLOOR);
        }
        Ok(())
    }
}

/// A panic while a shard was held cannot leave the map inconsistent (each operation is a
/// single map call), so a poisoned lock is still usable.
fn lock_ignoring_poison<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

// ---------------------------------------------------------------------------------------------
// MIT file2 cache (specs/mit-rcache_file_format.rst; MIT rc_file2.c, rc_dfl.c, lock_file.c)
// ---------------------------------------------------------------------------------------------

/// Length of the file2 tag: the checksum truncated or zero-padded to 12 bytes.
pub const FILE2_TAG_LEN: usize = 12;
/// A record: tag + 4-byte big-endian timestamp (the acceptor's clock when stored).
const RECORD_LEN: u64 = FILE2_TAG_LEN as u64 + 4;
/// The SipHash-2-4 seed at the start of the file.
const SEED_LEN: usize = 16;
const FIRST_TABLE_RECORDS: u64 = 1023;
/// MIT refuses to grow the file past INT32_MAX bytes (EOVERFLOW).
const MAX_FILE_SIZE: u64 = i32::MAX as u64;

/// Serializes stores inside this process when the OS lacks open-file-description locks: classic
/// POSIX record locks belong to the process, so two threads would both "hold" them.
static PROCESS_FILE_LOCK: Mutex<()> = Mutex::new(());

/// A replay cache in MIT's file2 format. Every store opens the file, takes an exclusive lock on
/// the whole file (OFD lock, else POSIX `F_SETLKW`, the locks MIT takes), checks and writes,
/// and closes it, exactly as MIT does, so concurrent krbap and MIT processes interleave safely.
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
}

impl FileReplayCache {
    /// The file2 cache at `path` (MIT `file2:<path>`: opened O_CREAT|O_RDWR, mode 0600).
    pub fn new(path: impl Into<PathBuf>) -> FileReplayCache {
        FileReplayCache {
            path: path.into(),
            is_default: false,
        }
    }

    /// MIT's default cache, `dfl:`: `$KRB5RCACHEDIR/krb5_<euid>.rcache2`, else under `$TMPDIR`,
    /// else under `/var/tmp` (MIT's RCTMPDIR on Debian); not following a symlink at the final
    /// component and refusing a file not owned by the effective uid.
    pub fn mit_default() -> FileReplayCache {
        FileReplayCache {
            path: Self::mit_default_path(),
            is_default: true,
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
        let file = self.open().map_err(|e| self.io_error("open", &e))?;
        let process_guard = lock_whole_file(&file).map_err(|e| self.io_error("lock", &e))?;
        let stored = store_locked(&file, tag, now, skew);
        // Closing the file releases the file lock; only then may another thread of this process
        // take its turn (with process-owned POSIX locks, its close would drop ours).
        drop(file);
        drop(process_guard);
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
}

enum Stored {
    New,
    Replay,
}

/// Takes an exclusive lock on the whole file, waiting for it (MIT `krb5_lock_file`:
/// F_OFD_SETLKW, falling back to F_SETLKW on EINVAL). With the fallback, returns a guard
/// serializing this process's threads too.
fn lock_whole_file(file: &File) -> io::Result<Option<MutexGuard<'static, ()>>> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        match fcntl_lock(file, libc::F_OFD_SETLKW) {
            Ok(()) => return Ok(None),
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {}
            Err(e) => return Err(e),
        }
    }
    let guard = lock_ignoring_poison(&PROCESS_FILE_LOCK);
    fcntl_lock(file, libc::F_SETLKW)?;
    Ok(Some(guard))
}

fn fcntl_lock(file: &File, cmd: libc::c_int) -> io::Result<()> {
    // SAFETY: an all-zero flock is a valid value (l_start = l_len = 0: the whole file).
    let mut lock: libc::flock = unsafe { std::mem::zeroed() };
    lock.l_type = libc::F_WRLCK as _;
    lock.l_whence = libc::SEEK_SET as _;
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

    #[test]
    fn caches_are_send_and_sync() {
        fn shareable<T: Send + Sync>() {}
        shareable::<ReplayCache>();
        shareable::<std::sync::Arc<ReplayCache>>();
    }

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

    #[test]
    fn short_ciphertext_is_einval() {
        let cache = ReplayCache::memory();
        let e = cache.check_and_store(&[1, 2, 3], 12, 0, 300).unwrap_err();
        assert_eq!(e.minor, minor::EINVAL);
        let e = ReplayCache::none()
            .check_and_store(&[1, 2, 3], 0, 0, 300)
            .unwrap_err();
        assert_eq!(e.minor, minor::EINVAL);
    }

    #[test]
    fn memory_prunes_expired_entries() {
        let cache = MemoryReplayCache::new();
        let mut tag = [0u8; 12];
        for i in 0u32..10_000 {
            tag[..4].copy_from_slice(&i.to_be_bytes());
            cache.check_and_store(&tag, 12, 1_000, 300).unwrap();
        }
        assert_eq!(cache.len(), 10_000);
        // Long after the window, new stores sweep the old entries away shard by shard.
        for i in 10_000u32..30_000 {
            tag[..4].copy_from_slice(&i.to_be_bytes());
            cache.check_and_store(&tag, 12, 100_000, 300).unwrap();
        }
        assert!(cache.len() < 30_000 - 5_000, "len {}", cache.len());
    }

    #[test]
    fn replay_error_is_an_error_status() {
        let cache = ReplayCache::memory();
        cache.check_and_store(&[7; 12], 12, 10, 300).unwrap();
        let e = cache.check_and_store(&[7; 12], 12, 10, 300).unwrap_err();
        assert!(major::is_error(e.major));
        assert_eq!(e.major & major::DUPLICATE_TOKEN, major::DUPLICATE_TOKEN);
        assert_eq!(e.minor, minor::AP_ERR_REPEAT);
    }
}
