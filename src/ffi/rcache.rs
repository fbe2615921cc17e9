//! The acceptor's memory replay cache from C: its cap and its counters (issue #19).

use super::*;

/// Counters and sizes of an acceptor credential's memory replay cache
/// (`krbap_cred_replay_cache_stats`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct krbap_replay_cache_stats {
    /// Authenticators held (those that can still be replayed within the clock skew, plus
    /// the not yet dropped rest of the oldest generation).
    pub entries: u64,
    /// Bytes of memory the cache holds (what the cap counts).
    pub bytes: u64,
    /// The cap in bytes.
    pub max_bytes: u64,
    /// Authenticators stored since the cache was made.
    pub stored: u64,
    /// Replays refused.
    pub replays: u64,
    /// Authenticators refused because the cache was at its cap (KRBAP_S_FAILURE with
    /// KRB5_RC_MALLOC): the acceptor failed closed rather than forget a live entry.
    pub rejected_full: u64,
}

fn memory_cache_error(name: &str) -> Error {
    Error::new(
        major::UNAVAILABLE,
        minor::EINVAL,
        format!(
            "the credential's replay cache is {name}: a cap and counters belong to memory: caches"
        ),
    )
}

/// Sets the cap of an acceptor credential's memory replay cache (the default cache,
/// "memory:"), in bytes: at the cap new authenticators are refused (KRBAP_S_FAILURE,
/// minor KRB5_RC_MALLOC) until entries expire, and no live entry is ever forgotten.
/// 0 restores the default (KRBAP_RCACHE_MAX_BYTES, else krb5.conf `[libdefaults]
/// krbap_rcache_max_bytes`, else 256 MiB); UINT64_MAX removes the cap. Lowering the cap
/// below what the cache holds forgets nothing. A credential whose replay cache is not a
/// memory cache gives KRBAP_S_UNAVAILABLE.
#[no_mangle]
pub extern "C" fn krbap_cred_set_replay_cache_max_bytes(
    minor_status: *mut u32,
    cred: *const krbap_cred,
    max_bytes: u64,
) -> u32 {
    guard(minor_status, || {
        let acc = acceptor_of(cred)?;
        let rc = acc.replay_cache();
        let crate::rcache::ReplayCache::Memory(m) = &*rc else {
            return Err(memory_cache_error(&rc.name()));
        };
        let cap = match max_bytes {
            0 => crate::rcache::default_max_bytes(),
            n => usize::try_from(n).unwrap_or(usize::MAX),
        };
        m.set_max_bytes(cap);
        Ok(major::COMPLETE)
    })
}

/// Reads the counters of an acceptor credential's memory replay cache into `*stats`.
/// A credential whose replay cache is not a memory cache gives KRBAP_S_UNAVAILABLE (and
/// `*stats` zeroed).
#[no_mangle]
pub extern "C" fn krbap_cred_replay_cache_stats(
    minor_status: *mut u32,
    cred: *const krbap_cred,
    stats: *mut krbap_replay_cache_stats,
) -> u32 {
    guard(minor_status, || {
        if stats.is_null() {
            return Err(Error::new(
                major::CALL_INACCESSIBLE_WRITE,
                minor::EINVAL,
                "stats pointer is NULL",
            ));
        }
        write_out(stats, krbap_replay_cache_stats::default());
        let acc = acceptor_of(cred)?;
        let rc = acc.replay_cache();
        let st = rc.stats().ok_or_else(|| memory_cache_error(&rc.name()))?;
        write_out(
            stats,
            krbap_replay_cache_stats {
                entries: st.entries,
                bytes: st.bytes,
                max_bytes: st.max_bytes,
                stored: st.stored,
                replays: st.replays,
                rejected_full: st.rejected_full,
            },
        );
        Ok(major::COMPLETE)
    })
}
