//! krbap's in-memory replay cache: lean, bounded and observable (issue #19).
//!
//! **Entries.** An entry is a 16-byte digest of the replay tag, SipHash-1-3-128 under a random
//! key of this cache (a peer cannot aim tags at one shard or bucket, nor predict digests). Two
//! different tags share a digest with probability 2^-128 per pair: with n entries held, a fresh
//! authenticator is taken for a replay with probability n · 2^-128 (below 10^-30 for a billion
//! entries), and a replay is never missed (equal tags give equal digests).
//!
//! **Generations.** An authenticator whose client time is `c` passes the acceptor's skew check
//! only while `now ≤ c + skew`, and a replay carries the same `c` (it is covered by the tag,
//! the authenticator's checksum). So entries are kept in *generations* of `W` seconds of client
//! time (`W = skew / 8`, at least 1 s, fixed by the first store), a replay is looked up in the
//! one generation of its `c`, and a whole generation — its table — is dropped once
//! `now > last second of the generation + skew` (the largest skew this cache has seen): no
//! per-entry sweep, no per-entry expiry field, and no entry is dropped while an authenticator
//! it stands for could still pass the skew check. An entry lives from `c + skew` to
//! `c + skew + W` (half the `2 · skew` after storing that the previous design kept).
//!
//! **Tables.** Each generation of each shard is an open-addressing table of 64-byte buckets of
//! four digests (one cache line; linear probing by bucket, a zero digest is an empty slot).
//! Table sizes come in classes 19 % apart (whole pages from a page on); a full table (85 %
//! load) grows by one class, so loads stay within about 71–85 % (16 / 0.85 ≈ 19 to
//! 16 / 0.71 ≈ 22.5 bytes per entry). A new generation starts at 50 % of the smaller of the
//! two generations before it and grows when it must: erring low, so that a falling rate does
//! not leave tables underfilled (a generation with no older one to go by, the cache's first,
//! starts at the smallest size and doubles while under 64 KiB and the tables within half the
//! cap, so that starting costs little
//! rehashing). On top of that comes the expired part of the oldest
//! generation (at most W / skew = 1/8). A dropped generation's table is kept as its shard's
//! spare and reused, zeroed, by the next new generation of its size class. A store allocates
//! nothing; a table is allocated only when a generation starts or grows. Tables of a page or
//! more are `mmap`ed, so that memory given back leaves the process at once (no allocator
//! keeps it).
//!
//! **Bound.** The tables' bytes are counted against a cap (`max_bytes`: [`DEFAULT_MAX_BYTES`],
//! `KRBAP_RCACHE_MAX_BYTES`, krb5.conf `[libdefaults] krbap_rcache_max_bytes`, or
//! [`MemoryReplayCache::set_max_bytes`]). A table that cannot grow within the cap takes entries
//! up to 95 % load; beyond that the expired generations of every shard are dropped (at most
//! once a second) and, if that frees nothing, the store fails closed with `KRB5_RC_MALLOC`:
//! the authenticator is refused, never a live entry forgotten (which would open a replay
//! window). Accepts resume as generations expire.
//!
//! **Concurrency.** 16 shards by digest, each a cache-line-aligned mutex over its generations,
//! held for about 0.1 µs per store: two accepting threads at full speed find a shard taken well
//! under 0.1 % of the time. Counters that every store updates live inside the shards.

use super::*;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};

/// Independently locked shards (a power of two; the digest's top bits pick one). A store holds
/// its shard for ~0.1 µs: two threads at full speed meet on one well under 0.1 % of the time,
/// and fewer shards mean fewer, larger tables.
const SHARDS: usize = 16;
/// Digests per bucket: 4 × 16 bytes = one 64-byte cache line.
const SLOTS: usize = 4;
/// A table grows when an insert would take it past this load (percent).
const GROW_LOAD_PERCENT: usize = 85;
/// A table that cannot grow within the cap still takes entries up to this load (percent).
const HARD_LOAD_PERCENT: usize = 95;
/// The smallest table: 4 buckets, 16 digests, 256 bytes.
const MIN_BUCKETS: usize = 4;
/// A new generation's table starts sized for 50 % of the smaller of the two generations before
/// it: a table too small grows by one size class (and ends at 71-85 % load), one too large
/// stays underfilled when the rate falls or traffic stops, so the guess errs low. A steady
/// generation then grows four times: about two extra inserts per entry (rehashing), against
/// at most 50 % / 85 % of the previous generation's table left unused when traffic stops.
const PREDICT_PERCENT: usize = 50;
/// Generations per skew: their width is `skew / 8` seconds (at least 1).
const GENERATIONS_PER_SKEW: i64 = 8;
/// Tables of a page or more are mapped with `mmap`, in whole pages (their memory goes back to
/// the system as soon as the generation is dropped: no allocator keeps it); smaller ones come
/// from the allocator.
const PAGE: usize = 4096;
const MMAP_MIN_BYTES: usize = PAGE;
/// Buckets per page.
const PAGE_BUCKETS: usize = PAGE / 64;
/// A generation started without a size to go by doubles while its table is smaller than
/// this (then grows by 19 %).
const FAST_GROWTH_BYTES: usize = 64 * 1024;

/// The default cap: 256 MiB, about 11 million authenticators at 23 bytes each, i.e. 37 000
/// accepts per second sustained with the default 300 s skew (entries live ~340 s).
pub const DEFAULT_MAX_BYTES: usize = 256 << 20;
/// Environment variable naming the cap of new memory caches (bytes; `K`, `M`, `G` suffixes).
pub const MAX_BYTES_ENV: &str = "KRBAP_RCACHE_MAX_BYTES";
/// krb5.conf `[libdefaults]` relation naming the cap (after the environment variable).
pub const MAX_BYTES_RELATION: &str = "krbap_rcache_max_bytes";

/// Counters and sizes of a memory replay cache ([`MemoryReplayCache::stats`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReplayCacheStats {
    /// Authenticators held (including those of a generation not yet dropped).
    pub entries: u64,
    /// Bytes held by the cache's tables (what the cap counts).
    pub bytes: u64,
    /// The cap in bytes.
    pub max_bytes: u64,
    /// Authenticators stored since the cache was made.
    pub stored: u64,
    /// Replays refused.
    pub replays: u64,
    /// Authenticators refused because the cache was at its cap (failed closed).
    pub rejected_full: u64,
    /// Generation tables held.
    pub generations: u64,
}

/// Parses a byte count: digits with an optional `K`, `M` or `G` suffix (powers of 1024).
pub fn parse_byte_count(text: &str) -> Option<usize> {
    let t = text.trim();
    let (digits, shift) = match t.as_bytes().last()? {
        b'k' | b'K' => (&t[..t.len() - 1], 10),
        b'm' | b'M' => (&t[..t.len() - 1], 20),
        b'g' | b'G' => (&t[..t.len() - 1], 30),
        _ => (t, 0),
    };
    let n: usize = digits.trim().parse().ok()?;
    n.checked_mul(1usize << shift)
}

/// The cap of a new memory cache: `KRBAP_RCACHE_MAX_BYTES`, else krb5.conf's
/// `krbap_rcache_max_bytes`, else [`DEFAULT_MAX_BYTES`] (a value that does not parse, or 0,
/// is ignored; the environment is ignored in a setuid program).
pub fn default_max_bytes() -> usize {
    let valid = |n: &usize| *n > 0;
    if let Some(n) = secure_getenv(MAX_BYTES_ENV)
        .and_then(|v| v.to_str().and_then(parse_byte_count))
        .filter(valid)
    {
        return n;
    }
    crate::config::default_profile()
        .ok()
        .and_then(|p| {
            p.get(&["libdefaults", MAX_BYTES_RELATION])
                .and_then(parse_byte_count)
        })
        .filter(valid)
        .unwrap_or(DEFAULT_MAX_BYTES)
}

#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Bucket([u128; SLOTS]);

/// Zeroed buckets, owned: mapped anonymously when large, else from the allocator.
struct Buckets {
    ptr: NonNull<Bucket>,
    len: usize,
    mapped: bool,
}

// SAFETY: `Buckets` owns its memory exclusively (like a `Box<[Bucket]>`).
unsafe impl Send for Buckets {}

/// Bytes a table of `len` buckets occupies (mapped tables in whole pages).
fn table_bytes(len: usize) -> usize {
    let raw = len * std::mem::size_of::<Bucket>();
    if raw >= MMAP_MIN_BYTES {
        raw.div_ceil(PAGE) * PAGE
    } else {
        raw
    }
}

impl Buckets {
    /// `len` (≥ 1) zeroed buckets, or `None` when the memory cannot be had.
    fn zeroed(len: usize) -> Option<Buckets> {
        let raw = len.checked_mul(std::mem::size_of::<Bucket>())?;
        if raw >= MMAP_MIN_BYTES {
            // SAFETY: an anonymous private mapping of a non-zero length; the result is checked.
            let p = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    table_bytes(len),
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                )
            };
            if p == libc::MAP_FAILED {
                return None;
            }
            // Mappings are page-aligned (≥ 64) and zero-filled.
            let ptr = NonNull::new(p.cast::<Bucket>())?;
            Some(Buckets {
                ptr,
                len,
                mapped: true,
            })
        } else {
            let layout = std::alloc::Layout::array::<Bucket>(len).ok()?;
            // SAFETY: the layout has a non-zero size (len ≥ 1).
            let p = unsafe { std::alloc::alloc_zeroed(layout) };
            let ptr = NonNull::new(p.cast::<Bucket>())?;
            Some(Buckets {
                ptr,
                len,
                mapped: false,
            })
        }
    }

    fn as_slice(&self) -> &[Bucket] {
        // SAFETY: `ptr` points to `len` initialized (zeroed or written) buckets owned by self.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    fn as_mut_slice(&mut self) -> &mut [Bucket] {
        // SAFETY: as in `as_slice`, and `&mut self` makes the borrow unique.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for Buckets {
    fn drop(&mut self) {
        if self.mapped {
            // SAFETY: the region was mapped by `zeroed` with this length and is unmapped once.
            unsafe {
                libc::munmap(self.ptr.as_ptr().cast(), table_bytes(self.len));
            }
        } else {
            let layout =
                std::alloc::Layout::array::<Bucket>(self.len).expect("layout of an existing table");
            // SAFETY: allocated by `alloc_zeroed` with this layout, freed once.
            unsafe { std::alloc::dealloc(self.ptr.as_ptr().cast(), layout) }
        }
    }
}

/// The bucket where a digest's probe starts: its low 64 bits scaled to the table's size.
fn home(digest: u128, buckets: usize) -> usize {
    (((digest as u64) as u128 * buckets as u128) >> 64) as usize
}

/// Where a digest is, or where it would go.
enum Probe {
    Found,
    Vacant(usize, usize),
}

/// One generation's table: digests, no deletions (the whole table is dropped).
struct Table {
    buckets: Buckets,
    count: usize,
}

impl Table {
    fn with_buckets(len: usize) -> Option<Table> {
        Some(Table {
            buckets: Buckets::zeroed(len.max(MIN_BUCKETS))?,
            count: 0,
        })
    }

    fn slots(&self) -> usize {
        self.buckets.len * SLOTS
    }

    fn bytes(&self) -> usize {
        table_bytes(self.buckets.len)
    }

    /// Linear probing by bucket. Slots fill in order and are never emptied, so the first empty
    /// slot on the digest's path ends the search; the table is never full (load ≤ 95 %).
    fn probe(&self, digest: u128) -> Probe {
        let buckets = self.buckets.as_slice();
        let mut b = home(digest, buckets.len());
        loop {
            for (s, &slot) in buckets[b].0.iter().enumerate() {
                if slot == digest {
                    return Probe::Found;
                }
                if slot == 0 {
                    return Probe::Vacant(b, s);
                }
            }
            b += 1;
            if b == buckets.len() {
                b = 0;
            }
        }
    }

    fn put(&mut self, b: usize, s: usize, digest: u128) {
        self.buckets.as_mut_slice()[b].0[s] = digest;
        self.count += 1;
    }

    /// Whether one more entry keeps the load within `percent`.
    fn room(&self, percent: usize) -> bool {
        (self.count + 1) * 100 <= self.slots() * percent
    }

    /// A copy in a table of `len` buckets (the caller checked that everything fits).
    fn rehashed(&self, len: usize) -> Option<Table> {
        let mut t = Table::with_buckets(len)?;
        for bucket in self.buckets.as_slice() {
            for &d in bucket.0.iter().filter(|&&d| d != 0) {
                if let Probe::Vacant(b, s) = t.probe(d) {
                    t.put(b, s, d);
                }
            }
        }
        Some(t)
    }
}

/// Table sizes: 4 buckets, then each about 19 % (2^(1/4)) larger than the one before, in
/// whole pages from one page on, so that a full table grows by one class (loads stay between
/// 71 % and 85 % once tables are a few pages large) and a dropped generation's table fits the
/// next generation of a steady rate.
fn size_class(buckets: usize) -> usize {
    let mut len = MIN_BUCKETS;
    while len < buckets {
        let next = (len * 119).div_ceil(100);
        len = if next < PAGE_BUCKETS {
            next
        } else {
            let pages = next.div_ceil(PAGE_BUCKETS).max(len / PAGE_BUCKETS + 1);
            pages * PAGE_BUCKETS
        };
    }
    len
}

/// Buckets for `entries` at the growth load, rounded up to a size class.
fn buckets_for(entries: usize) -> usize {
    size_class((entries * 100).div_ceil(SLOTS * GROW_LOAD_PERCENT))
}

struct Generation {
    /// `client time div_euclid W`.
    index: i64,
    table: Table,
    /// Started without an older generation to size it from (the cache's first, or the first
    /// after a quiet spell): it starts at the smallest size and doubles while under
    /// [`FAST_GROWTH_BYTES`], so that starting costs little rehashing.
    no_size_hint: bool,
}

#[derive(Default)]
struct Shard {
    /// Sorted by index; at most `2 · skew / W + 3` of them.
    gens: Vec<Generation>,
    /// When the oldest generation may be dropped (the next sweep).
    next_sweep: i64,
    /// The table of the generation dropped last, zeroed and reused by the next new
    /// generation of its size class: in steady traffic no table is allocated or freed.
    spare: Option<Table>,
    stored: u64,
    replays: u64,
}

/// A shard on a cache line of its own, so that two threads on neighbouring shards do not
/// share one.
#[repr(align(64))]
struct PaddedShard(Mutex<Shard>);

/// Why a store did not complete under the shard lock.
enum Outcome {
    Stored,
    Replay,
    /// The cap leaves no room for this entry.
    Full,
}

/// krbap's in-memory replay cache; see the module documentation.
pub struct MemoryReplayCache {
    key: [u8; 16],
    shards: Box<[PaddedShard]>,
    /// Generation width in seconds (0 until the first store fixes it).
    width: AtomicI64,
    /// The largest skew a store has been given: generations are kept for it.
    max_skew: AtomicI64,
    bytes: AtomicUsize,
    max_bytes: AtomicUsize,
    rejected_full: AtomicU64,
    /// The last second in which every shard was swept for expired generations (at the cap).
    last_full_sweep: AtomicI64,
    /// The latest `now` a store was given (for [`MemoryReplayCache::stats`] to drop expired
    /// generations of shards no store has touched since).
    latest_now: AtomicI64,
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
    /// A cache with the default cap ([`default_max_bytes`]).
    pub fn new() -> MemoryReplayCache {
        Self::with_max_bytes(default_max_bytes())
    }

    /// A cache holding at most `max_bytes` of tables.
    pub fn with_max_bytes(max_bytes: usize) -> MemoryReplayCache {
        let mut key = [0u8; 16];
        if getrandom::fill(&mut key).is_err() {
            // The key only resists hash flooding; std's RandomState is also OS-seeded.
            let state = std::collections::hash_map::RandomState::new();
            key[..8].copy_from_slice(&state.hash_one(0u8).to_le_bytes());
            key[8..].copy_from_slice(&state.hash_one(1u8).to_le_bytes());
        }
        let shards = (0..SHARDS)
            .map(|_| {
                PaddedShard(Mutex::new(Shard {
                    next_sweep: i64::MAX,
                    ..Shard::default()
                }))
            })
            .collect();
        MemoryReplayCache {
            key,
            shards,
            width: AtomicI64::new(0),
            max_skew: AtomicI64::new(0),
            bytes: AtomicUsize::new(0),
            max_bytes: AtomicUsize::new(max_bytes),
            rejected_full: AtomicU64::new(0),
            last_full_sweep: AtomicI64::new(i64::MIN),
            latest_now: AtomicI64::new(i64::MIN),
        }
    }

    /// Changes the cap. Lowering it below what is held forgets nothing: the cache refuses new
    /// authenticators until enough generations have expired.
    pub fn set_max_bytes(&self, max_bytes: usize) {
        self.max_bytes.store(max_bytes, Ordering::Relaxed);
    }

    pub fn max_bytes(&self) -> usize {
        self.max_bytes.load(Ordering::Relaxed)
    }

    /// Counters and sizes (locks each shard briefly). Generations expired by the latest time
    /// a store was given are dropped first, so `entries` and `bytes` are what is live.
    pub fn stats(&self) -> ReplayCacheStats {
        let now = self.latest_now.load(Ordering::Relaxed);
        let width = self.width.load(Ordering::Relaxed);
        let max_skew = self.max_skew.load(Ordering::Relaxed);
        let mut st = ReplayCacheStats {
            max_bytes: self.max_bytes() as u64,
            rejected_full: self.rejected_full.load(Ordering::Relaxed),
            ..ReplayCacheStats::default()
        };
        for shard in self.shards.iter() {
            let mut s = lock_ignoring_poison(&shard.0);
            if width != 0 && now >= s.next_sweep {
                self.sweep(&mut s, now, width, max_skew);
            }
            st.entries += s.gens.iter().map(|g| g.table.count as u64).sum::<u64>();
            st.generations += s.gens.len() as u64;
            st.stored += s.stored;
            st.replays += s.replays;
        }
        st.bytes = self.bytes.load(Ordering::Relaxed) as u64;
        st
    }

    /// Number of entries currently held (live, or in a generation not yet dropped).
    pub fn len(&self) -> usize {
        self.stats().entries as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Checks and records the authenticator whose RFC 3961 ciphertext is `ciphertext` and
    /// whose client time is `ctime` (the one the acceptor checked against `now` and `skew`):
    /// a replay is refused (`KRB5KRB_AP_ERR_REPEAT`), and at the cap the store fails closed
    /// (`KRB5_RC_MALLOC`). The tag is the ciphertext's last `mac_len` bytes.
    pub fn check_and_store_at(
        &self,
        ciphertext: &[u8],
        mac_len: usize,
        ctime: i64,
        now: i64,
        skew: i64,
    ) -> Result<()> {
        let digest = self.digest(tag_of(ciphertext, mac_len)?);
        self.store(digest, ctime, now, skew, false)
    }

    /// Like [`MemoryReplayCache::check_and_store_at`] for a caller that does not know the
    /// authenticator's time (the interface of the other cache kinds): the tag is looked up in
    /// every generation and filed under the latest time the authenticator can have
    /// (`now + skew`), so it is kept until `now + 2 · skew` at least. It finds what either
    /// call stored; `check_and_store_at` looks in its authenticator's generation only, so a
    /// cache is used through one of the two (the acceptor uses `check_and_store_at`).
    pub fn check_and_store(
        &self,
        ciphertext: &[u8],
        mac_len: usize,
        now: i64,
        skew: i64,
    ) -> Result<()> {
        let digest = self.digest(tag_of(ciphertext, mac_len)?);
        let skew = skew.max(0);
        self.store(digest, now.saturating_add(skew), now, skew, true)
    }

    fn digest(&self, tag: &[u8]) -> u128 {
        let d: u128 = siphasher::sip128::SipHasher13::new_with_key(&self.key)
            .hash(tag)
            .into();
        // Zero marks an empty slot.
        d.max(1)
    }

    /// The generation width, fixed by the first store.
    fn width(&self, skew: i64) -> i64 {
        let w = self.width.load(Ordering::Relaxed);
        if w != 0 {
            return w;
        }
        let w = (skew / GENERATIONS_PER_SKEW).max(1);
        match self
            .width
            .compare_exchange(0, w, Ordering::Relaxed, Ordering::Relaxed)
        {
            Ok(_) => w,
            Err(current) => current,
        }
    }

    fn store(&self, digest: u128, time: i64, now: i64, skew: i64, scan_all: bool) -> Result<()> {
        let skew = skew.max(0);
        if skew > self.max_skew.load(Ordering::Relaxed) {
            self.max_skew.fetch_max(skew, Ordering::Relaxed);
        }
        if now > self.latest_now.load(Ordering::Relaxed) {
            self.latest_now.fetch_max(now, Ordering::Relaxed);
        }
        let width = self.width(skew);
        let index = time.div_euclid(width);
        let shard = &self.shards[(digest >> (128 - SHARDS.trailing_zeros())) as usize].0;
        for attempt in 0..2 {
            let max_skew = self.max_skew.load(Ordering::Relaxed);
            let outcome = {
                let mut s = lock_ignoring_poison(shard);
                self.store_locked(&mut s, digest, index, now, width, max_skew, scan_all)
            };
            match outcome {
                Outcome::Stored => return Ok(()),
                Outcome::Replay => return Err(replay_error("memory replay cache")),
                // Other shards may hold expired generations: drop them and try once more.
                Outcome::Full if attempt == 0 => self.sweep_all(now, width),
                Outcome::Full => break,
            }
        }
        self.rejected_full.fetch_add(1, Ordering::Relaxed);
        Err(Error::minor(
            minor::RC_MALLOC,
            format!(
                "memory replay cache at its cap of {} bytes ({MAX_BYTES_ENV}): the authenticator \
                 is refused rather than a live entry forgotten; accepts resume as entries expire \
                 (within {} s)",
                self.max_bytes(),
                self.max_skew.load(Ordering::Relaxed) + width
            ),
        ))
    }

    #[allow(clippy::too_many_arguments)]
    fn store_locked(
        &self,
        s: &mut Shard,
        digest: u128,
        index: i64,
        now: i64,
        width: i64,
        max_skew: i64,
        scan_all: bool,
    ) -> Outcome {
        if now >= s.next_sweep {
            self.sweep(s, now, width, max_skew);
        }
        if scan_all
            && s.gens
                .iter()
                .any(|g| matches!(g.table.probe(digest), Probe::Found))
        {
            s.replays += 1;
            return Outcome::Replay;
        }
        let at = match s.gens.binary_search_by_key(&index, |g| g.index) {
            Ok(at) => at,
            Err(at) => {
                // A new generation, sized from the ones before it.
                let count = |i: Option<usize>| i.map(|i| s.gens[i].table.count);
                let prev = count(at.checked_sub(1));
                let before = count(at.checked_sub(2)).or(prev);
                let predicted = prev
                    .zip(before)
                    .map_or(0, |(a, b)| a.min(b) * PREDICT_PERCENT / 100);
                let len = buckets_for(predicted);
                let Some(table) = self.new_table(s, len) else {
                    return Outcome::Full;
                };
                s.gens.insert(
                    at,
                    Generation {
                        index,
                        table,
                        no_size_hint: prev.is_none(),
                    },
                );
                let expiry = generation_expiry(index, width, max_skew);
                s.next_sweep = s.next_sweep.min(expiry);
                at
            }
        };
        let (b, slot) = match s.gens[at].table.probe(digest) {
            Probe::Found => {
                s.replays += 1;
                return Outcome::Replay;
            }
            Probe::Vacant(b, slot) => (b, slot),
        };
        if s.gens[at].table.room(GROW_LOAD_PERCENT) {
            s.gens[at].table.put(b, slot, digest);
        } else if let Some(grown) = self.grow(s, at) {
            s.gens[at].table = grown;
            if let Probe::Vacant(b, slot) = s.gens[at].table.probe(digest) {
                s.gens[at].table.put(b, slot, digest);
            }
        } else if s.gens[at].table.room(HARD_LOAD_PERCENT) {
            s.gens[at].table.put(b, slot, digest);
        } else {
            return Outcome::Full;
        }
        s.stored += 1;
        Outcome::Stored
    }

    /// A copy of generation `at`'s table one size class larger (twice as large while small,
    /// for a generation started without a size), if the cap allows; the old table's bytes are
    /// given back.
    fn grow(&self, s: &mut Shard, at: usize) -> Option<Table> {
        let g = &s.gens[at];
        let next = size_class(g.table.buckets.len + 1);
        // Doubling (little rehashing while a cache starts) only while the tables stay within
        // half the cap: doubled tables are half empty, and a small cap filled that way was
        // reached with a third of it unused (every shard doubled, one shard then at 95 %).
        let doubled = size_class(g.table.buckets.len * 2);
        let len = if g.no_size_hint
            && g.table.bytes() < FAST_GROWTH_BYTES
            && self.bytes.load(Ordering::Relaxed) + table_bytes(doubled) <= self.max_bytes() / 2
        {
            doubled
        } else {
            next
        };
        if !self.reserve_or_free_spare(s, table_bytes(len)) {
            return None;
        }
        let old = &s.gens[at].table;
        match old.rehashed(len) {
            Some(t) => {
                self.bytes.fetch_sub(old.bytes(), Ordering::Relaxed);
                Some(t)
            }
            None => {
                self.bytes.fetch_sub(table_bytes(len), Ordering::Relaxed);
                None
            }
        }
    }

    /// A zeroed table of `len` buckets: the shard's spare when it is of that size class, else
    /// a new one if the cap allows.
    fn new_table(&self, s: &mut Shard, len: usize) -> Option<Table> {
        let len = len.max(MIN_BUCKETS);
        if let Some(mut spare) = s.spare.take() {
            let have = spare.buckets.len;
            if have == len {
                spare.buckets.as_mut_slice().fill(Bucket([0; SLOTS]));
                spare.count = 0;
                return Some(spare);
            }
            self.bytes.fetch_sub(spare.bytes(), Ordering::Relaxed);
        }
        let bytes = table_bytes(len);
        if !self.reserve_or_free_spare(s, bytes) {
            return None;
        }
        let t = Table::with_buckets(len);
        if t.is_none() {
            self.bytes.fetch_sub(bytes, Ordering::Relaxed);
        }
        t
    }

    /// [`Self::reserve`], after giving back the shard's spare table if that is needed.
    fn reserve_or_free_spare(&self, s: &mut Shard, n: usize) -> bool {
        if self.reserve(n) {
            return true;
        }
        match s.spare.take() {
            Some(spare) => {
                self.bytes.fetch_sub(spare.bytes(), Ordering::Relaxed);
                self.reserve(n)
            }
            None => false,
        }
    }

    /// Counts `n` more bytes if that stays within the cap.
    fn reserve(&self, n: usize) -> bool {
        let max = self.max_bytes();
        let mut current = self.bytes.load(Ordering::Relaxed);
        loop {
            let Some(next) = current.checked_add(n).filter(|&v| v <= max) else {
                return false;
            };
            match self.bytes.compare_exchange_weak(
                current,
                next,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(c) => current = c,
            }
        }
    }

    /// Drops the shard's generations that no authenticator can need any more.
    fn sweep(&self, s: &mut Shard, now: i64, width: i64, max_skew: i64) {
        let dead = s
            .gens
            .iter()
            .take_while(|g| generation_expiry(g.index, width, max_skew) <= now)
            .count();
        for g in s.gens.drain(..dead) {
            // The newest dropped table becomes the spare; the one it replaces is freed.
            if let Some(old) = s.spare.replace(g.table) {
                self.bytes.fetch_sub(old.bytes(), Ordering::Relaxed);
            }
        }
        s.next_sweep = s
            .gens
            .first()
            .map_or(i64::MAX, |g| generation_expiry(g.index, width, max_skew));
    }

    /// At the cap: drops the expired generations of every shard, at most once per second
    /// (generations expire on whole seconds).
    fn sweep_all(&self, now: i64, width: i64) {
        let last = self.last_full_sweep.load(Ordering::Relaxed);
        if now <= last
            || self
                .last_full_sweep
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let max_skew = self.max_skew.load(Ordering::Relaxed);
        for shard in self.shards.iter() {
            let mut s = lock_ignoring_poison(&shard.0);
            if now >= s.next_sweep {
                self.sweep(&mut s, now, width, max_skew);
            }
            if let Some(spare) = s.spare.take() {
                self.bytes.fetch_sub(spare.bytes(), Ordering::Relaxed);
            }
        }
    }
}

/// The first second at which no authenticator of generation `index` passes the skew check:
/// one after its last second plus the skew.
fn generation_expiry(index: i64, width: i64, skew: i64) -> i64 {
    index
        .saturating_add(1)
        .saturating_mul(width)
        .saturating_add(skew)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(i: u64) -> [u8; 12] {
        let mut t = [0u8; 12];
        t[..8].copy_from_slice(&i.to_be_bytes());
        t
    }

    /// A replay is refused while an authenticator with its time passes the skew check
    /// (now ≤ ctime + skew) and its generation is dropped after that.
    #[test]
    fn replays_refused_exactly_within_the_window() {
        let cache = MemoryReplayCache::with_max_bytes(1 << 20);
        let skew = 80; // generations of 10 s
        for (i, ctime) in [(1u64, 1_000i64), (2, 1_009), (3, 995)] {
            cache
                .check_and_store_at(&tag(i), 12, ctime, 1_000, skew)
                .unwrap();
            for now in [1_000, ctime + skew] {
                let e = cache
                    .check_and_store_at(&tag(i), 12, ctime, now, skew)
                    .unwrap_err();
                assert_eq!(e.minor, minor::AP_ERR_REPEAT, "ctime {ctime} now {now}");
            }
        }
        // The checks ran the clock to 1089: generation [990, 1000) (ctime 995) expired at
        // 1080 and is gone; the other two are there.
        assert_eq!(cache.stats().entries, 2);
        // Generation [1000, 1010) expires at 1090: at 1089 a replay of ctime 1009 is still
        // refused (the acceptor would let 1009 + 80 = 1089 through), at 1090 it is gone.
        let e = cache.check_and_store_at(&tag(9), 12, 1_009, 1_089, skew);
        assert!(e.is_ok());
        cache
            .check_and_store_at(&tag(2), 12, 1_009, 1_089, skew)
            .unwrap_err();
        cache
            .check_and_store_at(&tag(10), 12, 1_100, 1_100, skew)
            .unwrap();
        let st = cache.stats();
        assert_eq!(st.entries, 1, "{st:?}");
        assert_eq!((st.stored, st.replays), (5, 7));
    }

    /// The legacy call (no client time) keeps entries for 2 · skew after the store and finds
    /// entries of both calls.
    #[test]
    fn legacy_call_keeps_two_skews() {
        let cache = MemoryReplayCache::with_max_bytes(1 << 20);
        cache.check_and_store(&tag(1), 12, 1_000, 80).unwrap();
        cache.check_and_store(&tag(1), 12, 1_159, 80).unwrap_err();
        cache
            .check_and_store_at(&tag(2), 12, 1_000, 1_000, 80)
            .unwrap();
        cache.check_and_store(&tag(2), 12, 1_050, 80).unwrap_err();
    }

    /// ≤ 32 bytes per entry from 100 000 entries on (tables at 71–85 % load, in one
    /// generation here, grown from the smallest size).
    #[test]
    fn bytes_per_entry() {
        for n in [1_000u64, 12_345, 100_000, 262_144, 500_000] {
            let cache = MemoryReplayCache::with_max_bytes(1 << 30);
            for i in 0..n {
                cache
                    .check_and_store_at(&tag(i), 12, 5_000, 5_000, 300)
                    .unwrap();
            }
            let st = cache.stats();
            assert_eq!(st.entries, n);
            let per = st.bytes as f64 / n as f64;
            if n >= 100_000 {
                assert!(per <= 32.0, "{n} entries: {per:.1} bytes each ({st:?})");
            }
        }
    }

    /// At the cap: refused with KRB5_RC_MALLOC (counted), stored entries still refused as
    /// replays, bytes never above the cap; after the generations expire, stores resume.
    #[test]
    fn fails_closed_at_the_cap_and_recovers() {
        let cap = 256 * 1024;
        let cache = MemoryReplayCache::with_max_bytes(cap);
        let mut stored = Vec::new();
        let mut full = None;
        for i in 0..100_000u64 {
            match cache.check_and_store_at(&tag(i), 12, 10_000, 10_000, 40) {
                Ok(()) => stored.push(i),
                Err(e) => {
                    full = Some(e);
                    break;
                }
            }
            assert!(cache.stats().bytes as usize <= cap);
        }
        let e = full.expect("the cap is reached");
        assert_eq!(e.minor, minor::RC_MALLOC);
        assert!(e.detail.contains(&cap.to_string()) && e.detail.contains(MAX_BYTES_ENV));
        // At most 24 bytes per entry when the cap is reached (11 700-12 500 entries seen:
        // tables double only while within half the cap, then grow by one size class).
        assert!(
            stored.len() > cap / 24,
            "only {} entries in {cap} bytes",
            stored.len()
        );
        for &i in &stored {
            let e = cache
                .check_and_store_at(&tag(i), 12, 10_000, 10_010, 40)
                .unwrap_err();
            assert_eq!(e.minor, minor::AP_ERR_REPEAT);
        }
        assert!(cache.stats().rejected_full >= 1);
        // Generation [10000, 10005) expires at 10045: until then new authenticators are still
        // refused (in the shards that are full), from then on they are all stored.
        let refused = (0..1_000u64)
            .filter(|i| {
                cache
                    .check_and_store_at(&tag(1 << 40 | i), 12, 10_004, 10_044, 40)
                    .is_err()
            })
            .count();
        assert!(refused > 0);
        for i in 0..1_000u64 {
            cache
                .check_and_store_at(&tag(2 << 40 | i), 12, 10_045, 10_045, 40)
                .unwrap();
        }
        let st = cache.stats();
        assert!(st.bytes as usize <= cap && st.entries == 1_000, "{st:?}");
    }

    #[test]
    fn byte_counts() {
        assert_eq!(parse_byte_count("1024"), Some(1024));
        assert_eq!(parse_byte_count(" 64M"), Some(64 << 20));
        assert_eq!(parse_byte_count("2g"), Some(2 << 30));
        assert_eq!(parse_byte_count("12k"), Some(12 << 10));
        assert_eq!(parse_byte_count("x"), None);
        assert_eq!(parse_byte_count(""), None);
    }

    /// Threads storing at once: every tag stored once, refused the second time.
    #[test]
    fn threads() {
        let cache = std::sync::Arc::new(MemoryReplayCache::with_max_bytes(64 << 20));
        let handles: Vec<_> = (0..4u64)
            .map(|t| {
                let cache = cache.clone();
                std::thread::spawn(move || {
                    for i in 0..20_000u64 {
                        let now = 1_000 + (i / 2_000) as i64;
                        cache
                            .check_and_store_at(&tag(t << 32 | i), 12, now, now, 300)
                            .unwrap();
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(cache.stats().entries, 80_000);
        for i in (0..20_000u64).step_by(97) {
            let e = cache.check_and_store_at(
                &tag(2 << 32 | i),
                12,
                1_000 + (i / 2_000) as i64,
                1_010,
                300,
            );
            assert_eq!(e.unwrap_err().minor, minor::AP_ERR_REPEAT);
        }
    }
}
