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

	// A cap below what one entry needs: the next authenticator is refused, not stored.
	if err := acc.SetReplayCacheMaxBytes(1); err != nil {
		t.Fatal(err)
	}
	other := readCapture(t, "nomutual", "initial_token.bin")
	_, _, err = acc.Accept(other)
	var e *Error
	if !errors.As(err, &e) || e.Routine() != StatusFailure || e.Name != "KRB5_RC_MALLOC" {
		t.Errorf("at the cap: %#v, want KRB5_RC_MALLOC", err)
	}
	s, _ = acc.ReplayCacheStats()
	if s.RejectedFull != 1 || s.Stored != 1 || s.MaxBytes != 1 {
		t.Errorf("at the cap: %+v", s)
	}
	// The default cap again: accepted.
	if err := acc.SetReplayCacheMaxBytes(0); err != nil {
		t.Fatal(err)
	}
	if ctx, _, err = acc.Accept(other); err != nil {
		t.Errorf("after the cap is lifted: %v", err)
	} else {
		ctx.Close()
	}
	if s, _ = acc.ReplayCacheStats(); s.Stored != 2 || s.MaxBytes <= 1 {
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
