package krbap

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// 8 goroutines × 2000 accepts on one Acceptor (run under -race by tests/go.sh): 8000
// distinct tokens, each offered by two goroutines at about the same time; every token is
// accepted exactly once and its replay refused exactly once (ErrReplay), with the
// default memory replay cache.
func TestConcurrentAcceptsOneAcceptor(t *testing.T) {
	const goroutines, perGoroutine = 8, 2000
	const slot = perGoroutine / 2 // tokens of one goroutine; its neighbour offers them too
	at := captureTime(t, "mutual")
	ini := captureInitiator(t, at)
	acc := captureAcceptor(t, at)

	tokens := make([][]byte, goroutines*slot)
	for i := range tokens {
		c, err := ini.NewContext("test-aes256-sha1@localhost", &InitOptions{Flags: FlagReplay | FlagSequence})
		if err != nil {
			t.Fatal(err)
		}
		tok, done, err := c.Step(nil)
		if err != nil || !done {
			t.Fatalf("token %d: done %v err %v", i, done, err)
		}
		c.Close()
		tokens[i] = tok
	}

	accepted := make([]atomic.Int32, len(tokens))
	replayed := make([]atomic.Int32, len(tokens))
	var other atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			<-start
			own, next := g*slot, ((g+1)%goroutines)*slot
			for i := 0; i < slot; i++ {
				for _, k := range []int{own + i, next + i} {
					ctx, _, err := acc.Accept(tokens[k])
					switch {
					case err == nil:
						if ctx.ClientName() != "alice@TEST.LOCAL" {
							other.Add(1)
						}
						ctx.Close()
						accepted[k].Add(1)
					case errors.Is(err, ErrReplay):
						replayed[k].Add(1)
					default:
						t.Errorf("token %d: %v", k, err)
						other.Add(1)
					}
				}
			}
		}(g)
	}
	close(start)
	wg.Wait()
	bad := 0
	for k := range tokens {
		if accepted[k].Load() != 1 || replayed[k].Load() != 1 {
			bad++
			if bad < 5 {
				t.Errorf("token %d: accepted %d times, refused as replay %d times", k, accepted[k].Load(), replayed[k].Load())
			}
		}
	}
	if bad > 0 || other.Load() > 0 {
		t.Fatalf("%d tokens miscounted, %d other failures", bad, other.Load())
	}
	// The cache's own counters agree.
	if s, err := acc.ReplayCacheStats(); err != nil || s.Stored != uint64(len(tokens)) ||
		s.Replays != uint64(len(tokens)) || s.Entries != uint64(len(tokens)) || s.RejectedFull != 0 {
		t.Errorf("replay cache stats %+v (%v), want %d stored, entries and replays", s, err, len(tokens))
	}
	t.Logf("%d accepts on %d goroutines: %d accepted once, %d replays refused", goroutines*perGoroutine, goroutines, len(tokens), len(tokens))
}

// Contexts used from several goroutines at once are serialized by the package: wraps
// from 4 goroutines on one context all unwrap on the peer (sequence numbers unique).
func TestConcurrentWrapOneContext(t *testing.T) {
	at := captureTime(t, "mutual")
	ic, ac := establish(t, captureInitiator(t, at), captureAcceptor(t, at), "test@localhost", &InitOptions{Flags: FlagMutual})
	var wg sync.WaitGroup
	toks := make(chan []byte, 400)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				tok, _, err := ic.Wrap([]byte("concurrent"), true)
				if err != nil {
					t.Error(err)
					return
				}
				toks <- tok
			}
		}()
	}
	wg.Wait()
	close(toks)
	n := 0
	for tok := range toks {
		if msg, _, err := ac.Unwrap(tok); err != nil || string(msg) != "concurrent" {
			t.Fatalf("unwrap: %v", err)
		}
		n++
	}
	if n != 400 {
		t.Fatalf("%d tokens", n)
	}
}

// Handles dropped without Close are released by their finalizers.
func TestFinalizers(t *testing.T) {
	at := captureTime(t, "mutual")
	before := finalized.Load()
	cc := filepath.Join(t.TempDir(), "alice.ccache")
	if err := os.WriteFile(cc, readCapture(t, "alice.ccache"), 0o600); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200; i++ {
		ini, err := NewInitiator(InitiatorConfig{CCache: cc, Time: at})
		if err != nil {
			t.Fatal(err)
		}
		acc, err := NewAcceptor(AcceptorConfig{Keytab: capture("service.keytab"), Time: at})
		if err != nil {
			t.Fatal(err)
		}
		c, err := ini.NewContext("test@localhost", nil)
		if err != nil {
			t.Fatal(err)
		}
		tok, _, err := c.Step(nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := acc.Accept(tok); err != nil {
			t.Fatal(err)
		}
	}
	// 200 × (initiator, acceptor, two contexts) unreachable now.
	deadline := time.Now().Add(10 * time.Second)
	for finalized.Load()-before < 800 && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if n := finalized.Load() - before; n < 800 {
		t.Fatalf("%d of 800 handles finalized", n)
	}
}
