//! krbap's in-memory replay cache.

use super::*;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
