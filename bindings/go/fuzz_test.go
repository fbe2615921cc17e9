package krbap

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
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
	for _, tok := range spnegoSeeds(f, at) {
		f.Add(tok)
	}
	acc := captureAcceptor(f, at)
	f.Fuzz(func(t *testing.T, token []byte) {
		ctx, reply, err := acc.Accept(token)
		if err == nil && !ctx.Established() {
			// SPNEGO wanting another round: a context and the answer to send.
			if len(reply) == 0 || reply[0] != 0xa1 {
				t.Fatalf("a continued context without a NegTokenResp to send: %x", reply)
			}
			ctx.Close()
			return
		}
		if err == nil {
			if ctx == nil || ctx.ClientName() == "" {
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
		// A KRB-ERROR in a GSS token, or a SPNEGO reject (NegTokenResp).
		if len(reply) > 0 && reply[0] != 0x60 && reply[0] != 0xa1 {
			t.Fatalf("error reply is neither a GSS token nor a NegTokenResp: %x", reply)
		}
	})
}

// spnegoSeeds are SPNEGO initial tokens from the capture's ccache (krbap's SPNEGO
// initiator), so that the fuzzer starts from SPNEGO framing too.
func spnegoSeeds(f *testing.F, at time.Time) [][]byte {
	ini := captureInitiator(f, at)
	var out [][]byte
	for _, flags := range []Flags{FlagMutual, FlagReplay} {
		c, err := ini.NewContext("test-aes256-sha1@localhost", &InitOptions{Mech: MechSPNEGO, Flags: flags})
		if err != nil {
			f.Fatal(err)
		}
		tok, _, err := c.Step(nil)
		c.Close()
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, tok)
	}
	return out
}

// FuzzNegotiate feeds the HTTP middleware Authorization values: Negotiate with the
// captured and SPNEGO tokens, other schemes, malformed base64. Every answer must be 200
// (a valid token), 400 or 401, a 401 must carry a Negotiate challenge that parses, and
// nothing may crash. tests/go.sh runs it for a bounded time.
func FuzzNegotiate(f *testing.F) {
	at := captureTime(f, "mutual")
	seeds := spnegoSeeds(f, at)
	if b, err := os.ReadFile(capture("mutual", "initial_token.bin")); err == nil {
		seeds = append(seeds, b)
	}
	for _, tok := range seeds {
		f.Add("Negotiate " + base64.StdEncoding.EncodeToString(tok))
	}
	for _, v := range []string{"", "Negotiate", "negotiate  YII=", "Basic YWxpY2U6eA==", "NTLM TlRMTVNTUAAB", "Negotiate ====", "Negotiate oQcwBaADCgEC"} {
		f.Add(v)
	}
	acc := captureAcceptor(f, at)
	neg := NewNegotiate(acc, &NegotiateOptions{MaxPending: 4})
	defer neg.Close()
	h := neg.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id, ok := IdentityFromContext(r.Context()); !ok || id.Principal == "" {
			http.Error(w, "the handler ran without an identity", http.StatusInternalServerError)
		}
	}))
	f.Fuzz(func(t *testing.T, value string) {
		r := httptest.NewRequest("GET", "http://localhost/", nil)
		r.Header.Set("Authorization", value)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		switch w.Code {
		case http.StatusOK, http.StatusBadRequest:
		case http.StatusUnauthorized:
			if _, err := ParseWWWAuthenticate(w.Header().Get("WWW-Authenticate")); err != nil {
				t.Fatalf("401 without a Negotiate challenge that parses: %q: %v", w.Header().Get("WWW-Authenticate"), err)
			}
		default:
			t.Fatalf("status %d for %q", w.Code, value)
		}
	})
}
