package krbap

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// ReplayCache "redis://…" from Go: two Acceptors sharing one Redis (as two servers of a
// farm) see each other's authenticators: a token accepted by one is a replay to the
// other. tests/go.sh starts the Redis (tests/interop/redis.sh, with a password) and gives
// its URL in KRBAP_GO_REDIS_URL; each run uses its own key prefix.
func TestRedisReplayCache(t *testing.T) {
	base := os.Getenv("KRBAP_GO_REDIS_URL")
	if base == "" {
		if os.Getenv("KRBAP_GO_REQUIRE_REALM") == "1" {
			t.Fatal("KRBAP_GO_REDIS_URL is not set (tests/go.sh starts a Redis)")
		}
		t.Skip("KRBAP_GO_REDIS_URL is not set (tests/go.sh starts a Redis)")
	}
	url := fmt.Sprintf("%s?prefix=krbap-go-%d:", base, time.Now().UnixNano())
	at := captureTime(t, "mutual")
	var farm [2]*Acceptor
	for i := range farm {
		a, err := NewAcceptor(AcceptorConfig{Keytab: capture("service.keytab"), Time: at, ReplayCache: url})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		farm[i] = a
	}
	name, err := farm[0].ReplayCacheName()
	if err != nil || !strings.HasPrefix(name, "redis://") || !strings.Contains(name, "***") ||
		strings.Contains(name, os.Getenv("KRBAP_GO_REDIS_PASSWORD")) {
		t.Errorf("ReplayCacheName %q %v: want redis://, the password hidden", name, err)
	}
	for _, c := range []string{"mutual", "nomutual", "aes256-sha384"} {
		tok := readCapture(t, c, "initial_token.bin")
		ctx, _, err := farm[0].Accept(tok)
		if err != nil {
			t.Fatalf("%s: first server: %v", c, err)
		}
		ctx.Close()
		if _, _, err := farm[1].Accept(tok); !errors.Is(err, ErrReplay) {
			t.Errorf("%s: the other server of the farm: %v, want ErrReplay", c, err)
		}
	}
	if _, err := farm[0].ReplayCacheStats(); !isRoutine(err, StatusUnavailable) {
		t.Errorf("stats of a redis: cache: %v, want StatusUnavailable", err)
	}
	if n, err := captureAcceptor(t, at).ReplayCacheName(); err != nil || n != "memory:" {
		t.Errorf("default ReplayCacheName %q %v", n, err)
	}
}
