package krbap

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzAccept feeds Accept mutations of MIT's captured tokens (every case's initial
// token, AP-REP, Wrap/MIC and KRB-ERROR tokens) on an acceptor with MIT's keytab and
// the capture's clock, so that mutations reach decryption and the checks after it. Any
// input must give a context or an *Error with an error major status; nothing may crash.
// tests/go.sh runs it for a bounded time (-fuzztime).
func FuzzAccept(f *testing.F) {
	files, _ := filepath.Glob(capture("*", "*.bin"))
	for _, p := range files {
		if filepath.Base(p) == "message.bin" {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	if len(files) < 20 {
		f.Fatalf("only %d seed tokens under %s", len(files), capture())
	}
	at := captureTime(f, "mutual")
	acc := captureAcceptor(f, at)
	f.Fuzz(func(t *testing.T, token []byte) {
		ctx, reply, err := acc.Accept(token)
		if err == nil {
			if ctx == nil || !ctx.Established() || ctx.ClientName() == "" {
				t.Fatalf("accepted without a usable context")
			}
			// The context works: a Wrap token of ours.
			if _, _, err := ctx.Wrap([]byte("x"), true); err != nil {
				t.Fatalf("wrap on an accepted context: %v", err)
			}
			ctx.Close()
			return
		}
		var e *Error
		if !errors.As(err, &e) || e.Routine()|e.Major&CallingErrorMask == 0 || ctx != nil {
			t.Fatalf("failure without an error status: %v (%T)", err, err)
		}
		if len(reply) > 0 && reply[0] != 0x60 {
			t.Fatalf("error reply is not a GSS token")
		}
	})
}
