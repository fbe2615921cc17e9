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
//!
//! One file per kind: [`memory`] and [`file2`]; this file holds what they share (the tag, the
//! replay error, name resolution).
//!
//! And a fourth, [`ReplayCache::Redis`]: one cache for a whole server farm in Redis
//! (`redis://`, `rediss://` over TLS, `redis+unix:`, `redis+cluster://`), in `redis.rs`.

mod file2;
mod memory;
mod redis;

pub use self::redis::*;
pub use file2::*;
pub use memory::*;

use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use siphasher::sip::SipHasher24;

use crate::error::{major, minor, Error, Result};
use crate::principal::Principal;

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
    Redis(Box<RedisReplayCache>),
}

/// What the acceptor knows of an authenticator besides its ciphertext: the fields of MIT's
/// pre-1.18 replay tag. The memory cache uses the client time (it files entries by it); the
/// caches whose entries several services may share (`redis:`) key on all of them.
#[derive(Clone, Copy, Debug)]
pub struct AuthenticatorId<'a> {
    pub server: &'a Principal,
    pub client: &'a Principal,
    pub ctime: i64,
    pub cusec: u32,
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
            "redis" | "rediss" | "redis+unix" | "redis+cluster" | "rediss+cluster" => {
                Ok(ReplayCache::Redis(Box::new(RedisReplayCache::open(name)?)))
            }
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
            ReplayCache::Redis(r) => r.name(),
        }
    }

    /// The memory cache's counters and sizes; `None` for the other kinds.
    pub fn stats(&self) -> Option<ReplayCacheStats> {
        match self {
            ReplayCache::Memory(m) => Some(m.stats()),
            _ => None,
        }
    }

    /// A memory cache with a cap of `max_bytes` (see [`MemoryReplayCache::with_max_bytes`]).
    pub fn memory_with_max_bytes(max_bytes: usize) -> ReplayCache {
        ReplayCache::Memory(MemoryReplayCache::with_max_bytes(max_bytes))
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
            ReplayCache::Redis(r) => r.check_and_store(ciphertext, mac_len, None, skew),
        }
    }

    /// [`ReplayCache::check_and_store`] for the acceptor, which also knows who sent the
    /// authenticator and when (`id`, whose client time passed the skew check). Each kind takes
    /// what it needs: the memory cache files the entry by `id.ctime` (and keeps it only as long
    /// as an authenticator with that time can pass the check, see [`memory`]); a `redis:` cache
    /// keys on the names and times too (several services may share it, see [`redis_key`]);
    /// `file2:` and `none:` use the checksum alone, as MIT does.
    pub fn check_and_store_authenticator(
        &self,
        ciphertext: &[u8],
        mac_len: usize,
        id: &AuthenticatorId,
        now: i64,
        skew: i64,
    ) -> Result<()> {
        match self {
            ReplayCache::Memory(m) => {
                m.check_and_store_at(ciphertext, mac_len, id.ctime, now, skew)
            }
            ReplayCache::Redis(r) => r.check_and_store(ciphertext, mac_len, Some(id), skew),
            _ => self.check_and_store(ciphertext, mac_len, now, skew),
        }
    }
}

/// A panic while a shard was held cannot leave the map inconsistent (each operation is a
/// single map call), so a poisoned lock is still usable.
pub(crate) fn lock_ignoring_poison<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caches_are_send_and_sync() {
        fn shareable<T: Send + Sync>() {}
        shareable::<ReplayCache>();
        shareable::<std::sync::Arc<ReplayCache>>();
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
    fn replay_error_is_an_error_status() {
        let cache = ReplayCache::memory();
        cache.check_and_store(&[7; 12], 12, 10, 300).unwrap();
        let e = cache.check_and_store(&[7; 12], 12, 10, 300).unwrap_err();
        assert!(major::is_error(e.major));
        assert_eq!(e.major & major::DUPLICATE_TOKEN, major::DUPLICATE_TOKEN);
        assert_eq!(e.minor, minor::AP_ERR_REPEAT);
    }
}
