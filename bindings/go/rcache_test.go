package krbap

import (
	"errors"
	"strings"
	"testing"
)

// The memory replay cache's counters and cap from Go: a stored authenticator, a refused
// replay, a cap that refuses new authenticators (failing closed, KRB5_RC_MALLOC), and
// StatusUnavailable for a cache that is not in memory.
func TestReplayCacheStatsAndCap(t *testing.T) {
	at := captureTime(t, "mutual")
	tok := readCapture(t, "mutual", "initial_token.bin")
	acc := captureAcceptor(t, at)
	s, err := acc.ReplayCacheStats()
	if err != nil || s.Entries != 0 || s.Stored != 0 || s.MaxBytes == 0 {
		t.Fatalf("fresh: %+v %v", s, err)
	}
	ctx, _, err := acc.Accept(tok)
	if err != nil {
		t.Fatal(err)
	}
	ctx.Close()
	if _, _, err := acc.Accept(tok); !errors.Is(err, ErrReplay) {
		t.Fatalf("replay: %v", err)
	}
	s, err = acc.ReplayCacheStats()
	if err != nil || s.Entries != 1 || s.Stored != 1 || s.Replays != 1 || s.RejectedFull != 0 || s.Bytes == 0 {
		t.Errorf("after one accept and its replay: %+v %v", s, err)
	}

	// A cap below what the cache holds: nothing more is allocated. An authenticator that
	// needs a new table is refused (KRB5_RC_MALLOC); one whose shard's table has room
	// (1 in 16 shards, chosen by a keyed hash) is stored there, as memory does not grow.
	if err := acc.SetReplayCacheMaxBytes(1); err != nil {
		t.Fatal(err)
	}
	before, _ := acc.ReplayCacheStats()
	var refused [][]byte
	stored := 0
	for _, c := range captureCases {
		if c.name == "mutual" {
			continue
		}
		other := readCapture(t, c.name, "initial_token.bin")
		ctx, _, err := acc.Accept(other)
		var e *Error
		switch {
		case err == nil:
			ctx.Close()
			stored++
		case errors.As(err, &e) && e.Routine() == StatusFailure && e.Name == "KRB5_RC_MALLOC":
			refused = append(refused, other)
		default:
			t.Errorf("%s at the cap: %v, want success or KRB5_RC_MALLOC", c.name, err)
		}
	}
	s, _ = acc.ReplayCacheStats()
	if len(refused) == 0 || s.RejectedFull != uint64(len(refused)) || s.Stored != 1+uint64(stored) ||
		s.Bytes != before.Bytes || s.MaxBytes != 1 {
		t.Errorf("at the cap: %d refused, %d stored: %+v (before %+v)", len(refused), stored, s, before)
	}
	// The default cap again: the refused ones are accepted.
	if err := acc.SetReplayCacheMaxBytes(0); err != nil {
		t.Fatal(err)
	}
	for _, tok := range refused {
		if ctx, _, err = acc.Accept(tok); err != nil {
			t.Errorf("after the cap is lifted: %v", err)
		} else {
			ctx.Close()
		}
	}
	if s, _ = acc.ReplayCacheStats(); s.Stored != 1+uint64(stored+len(refused)) || s.MaxBytes <= 1 {
		t.Errorf("after: %+v", s)
	}
	if err := acc.SetReplayCacheMaxBytes(NoReplayCacheCap); err != nil {
		t.Error(err)
	}

	// The cap from the config.
	capped, err := NewAcceptor(AcceptorConfig{Keytab: capture("service.keytab"), Time: at, ReplayCacheMaxBytes: 12345})
	if err != nil {
		t.Fatal(err)
	}
	defer capped.Close()
	if s, err := capped.ReplayCacheStats(); err != nil || s.MaxBytes != 12345 {
		t.Errorf("ReplayCacheMaxBytes: %+v %v", s, err)
	}

	// Not a memory cache.
	none, err := NewAcceptor(AcceptorConfig{Keytab: capture("service.keytab"), Time: at, ReplayCache: "none:"})
	if err != nil {
		t.Fatal(err)
	}
	defer none.Close()
	if _, err := none.ReplayCacheStats(); !isRoutine(err, StatusUnavailable) || !strings.Contains(err.Error(), "none") {
		t.Errorf("stats of none: %v", err)
	}
	if err := none.SetReplayCacheMaxBytes(1000); !isRoutine(err, StatusUnavailable) {
		t.Errorf("cap of none: %v", err)
	}
	if _, err := NewAcceptor(AcceptorConfig{Keytab: capture("service.keytab"), ReplayCache: "none:", ReplayCacheMaxBytes: 1}); !isRoutine(err, StatusUnavailable) {
		t.Errorf("NewAcceptor with a cap on none: %v", err)
	}
	acc.Close()
	if _, err := acc.ReplayCacheStats(); err != ErrClosed {
		t.Errorf("closed: %v", err)
	}
}
