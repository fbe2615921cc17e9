package krbap

// #include "shim.h"
import "C"

// The acceptor's memory replay cache ("memory:", the default): its cap and counters
// (krbap_cred_set_replay_cache_max_bytes, krbap_cred_replay_cache_stats). Other replay
// cache types answer these with an *Error of routine StatusUnavailable.

// NoReplayCacheCap as a cap removes it (AcceptorConfig.ReplayCacheMaxBytes,
// SetReplayCacheMaxBytes).
const NoReplayCacheCap = ^uint64(0)

// ReplayCacheStats are the counters and sizes of an acceptor's memory replay cache.
type ReplayCacheStats struct {
	Entries  uint64 // authenticators held (replayable within the clock skew, plus the rest of the oldest generation)
	Bytes    uint64 // memory held (what the cap counts)
	MaxBytes uint64 // the cap
	Stored   uint64 // authenticators stored since the cache was made
	Replays  uint64 // replays refused
	// RejectedFull counts authenticators refused because the cache was at its cap (the
	// accept failed closed with KRB5_RC_MALLOC rather than forget a live entry).
	RejectedFull uint64
}

// SetReplayCacheMaxBytes caps the memory replay cache at max bytes: at the cap new
// authenticators are refused until entries expire (no live entry is forgotten). 0
// restores the default (KRBAP_RCACHE_MAX_BYTES, krb5.conf krbap_rcache_max_bytes, else
// 256 MiB); NoReplayCacheCap removes the cap.
func (a *Acceptor) SetReplayCacheMaxBytes(max uint64) error {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.cred == nil {
		return ErrClosed
	}
	return setReplayCacheMaxBytes(a.cred, max)
}

func setReplayCacheMaxBytes(cred *C.krbap_cred, max uint64) error {
	_, err := call("set replay cache cap", func(m *C.uint32_t) C.uint32_t {
		return C.krbap_cred_set_replay_cache_max_bytes(m, cred, C.uint64_t(max))
	})
	return err
}

// ReplayCacheStats reads the memory replay cache's counters.
func (a *Acceptor) ReplayCacheStats() (ReplayCacheStats, error) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.cred == nil {
		return ReplayCacheStats{}, ErrClosed
	}
	var s C.krbap_replay_cache_stats
	if _, err := call("replay cache stats", func(m *C.uint32_t) C.uint32_t {
		return C.krbap_cred_replay_cache_stats(m, a.cred, &s)
	}); err != nil {
		return ReplayCacheStats{}, err
	}
	return ReplayCacheStats{Entries: uint64(s.entries), Bytes: uint64(s.bytes), MaxBytes: uint64(s.max_bytes),
		Stored: uint64(s.stored), Replays: uint64(s.replays), RejectedFull: uint64(s.rejected_full)}, nil
}

// ReplayCacheName is the name of the acceptor's replay cache in canonical form
// ("memory:", "file2:/path", "redis://host:6379/0?prefix=krbap:rc:&timeout_ms=500", ...),
// for logs: a password in a redis: name is shown as "***".
func (a *Acceptor) ReplayCacheName() (string, error) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.cred == nil {
		return "", ErrClosed
	}
	var b C.krbap_buffer
	_, err := call("inquire replay cache", func(m *C.uint32_t) C.uint32_t {
		return C.krbap_cred_inquire_replay_cache(m, a.cred, &b)
	})
	s := takeString(&b)
	return s, err
}
