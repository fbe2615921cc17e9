package krbap

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var sentinels = []struct {
	name string
	err  error
}{
	{"ErrReplay", ErrReplay}, {"ErrClockSkew", ErrClockSkew}, {"ErrExpired", ErrExpired},
	{"ErrBadIntegrity", ErrBadIntegrity}, {"ErrNoKey", ErrNoKey},
	{"ErrNoCredentials", ErrNoCredentials}, {"ErrDefectiveToken", ErrDefectiveToken},
}

// Every sentinel is produced by a real failure of the library, with MIT's name and text,
// and matches no other sentinel.
func TestErrorSentinels(t *testing.T) {
	at := captureTime(t, "mutual")
	token := readCapture(t, "mutual", "initial_token.bin")
	tampered := append([]byte{}, token...)
	tampered[len(tampered)-20] ^= 0x01 // inside the authenticator's ciphertext

	cases := []struct {
		name     string
		run      func(t *testing.T) ([]byte, error)
		want     error
		major    uint32 // routine error
		minor    string // MIT name
		text     string // part of the message
		krbError bool   // a KRB-ERROR token comes back
	}{
		{"replay", func(t *testing.T) ([]byte, error) {
			acc := captureAcceptor(t, at)
			ctx, _, err := acc.Accept(token)
			if err != nil {
				t.Fatal(err)
			}
			ctx.Close()
			_, out, err := acc.Accept(token)
			return out, err
		}, ErrReplay, StatusFailure, "KRB5KRB_AP_ERR_REPEAT", "Request is a replay", true},
		{"clock skew", func(t *testing.T) ([]byte, error) {
			_, out, err := captureAcceptor(t, at.Add(time.Hour)).Accept(token)
			return out, err
		}, ErrClockSkew, StatusFailure, "KRB5KRB_AP_ERR_SKEW", "Clock skew too great (", true},
		{"ticket expired", func(t *testing.T) ([]byte, error) {
			// 25 hours later the ticket (1 day) has expired; the library checks the
			// ticket's times before the authenticator's.
			_, out, err := captureAcceptor(t, at.Add(25*time.Hour)).Accept(token)
			return out, err
		}, ErrExpired, StatusCredentialsExpired, "KRB5KRB_AP_ERR_TKT_EXPIRED", "Ticket expired", true},
		{"context expired", func(t *testing.T) ([]byte, error) {
			ctx, _, err := captureAcceptor(t, at).Accept(token)
			if err != nil {
				t.Fatal(err)
			}
			defer ctx.Close()
			if err := ctx.SetTime(at.Add(48 * time.Hour)); err != nil {
				t.Fatal(err)
			}
			_, _, err = ctx.Wrap([]byte("late"), true)
			return nil, err
		}, ErrExpired, StatusContextExpired, "KRB5KRB_AP_ERR_TKT_EXPIRED", "Ticket expired", false},
		{"bad integrity", func(t *testing.T) ([]byte, error) {
			_, out, err := captureAcceptor(t, at).Accept(tampered)
			return out, err
		}, ErrBadIntegrity, StatusFailure, "KRB5KRB_AP_ERR_BAD_INTEGRITY", "Decrypt integrity check failed", true},
		{"bad MIC", func(t *testing.T) ([]byte, error) {
			ic, ac := establish(t, captureInitiator(t, at), captureAcceptor(t, at), "test@localhost", nil)
			mic, err := ic.GetMIC([]byte("message"))
			if err != nil {
				t.Fatal(err)
			}
			return nil, ac.VerifyMIC([]byte("massage"), mic)
		}, ErrBadIntegrity, StatusBadSig, "KRB5KRB_AP_ERR_BAD_INTEGRITY", "MIC", false},
		{"no key: other kvno", func(t *testing.T) ([]byte, error) {
			acc, err := NewAcceptor(AcceptorConfig{Keys: []ServiceKey{{
				Principal: "test/localhost@TEST.LOCAL", Kvno: 7, Enctype: 18, Key: make([]byte, 32)}}, Time: at})
			if err != nil {
				t.Fatal(err)
			}
			defer acc.Close()
			_, out, err := acc.Accept(token)
			return out, err
		}, ErrNoKey, StatusFailure, "KRB5KRB_AP_ERR_BADKEYVER", "Key version is not available", true},
		{"no key: other service", func(t *testing.T) ([]byte, error) {
			acc, err := NewAcceptor(AcceptorConfig{Keys: []ServiceKey{{
				Principal: "other/localhost@TEST.LOCAL", Kvno: 1, Enctype: 18, Key: make([]byte, 32)}}, Time: at})
			if err != nil {
				t.Fatal(err)
			}
			defer acc.Close()
			_, out, err := acc.Accept(token)
			return out, err
		}, ErrNoKey, StatusFailure, "KRB5KRB_AP_ERR_NOT_US", "The ticket isn't for us", true},
		{"no credentials: ccache missing", func(t *testing.T) ([]byte, error) {
			_, err := NewInitiator(InitiatorConfig{CCache: filepath.Join(t.TempDir(), "none")})
			return nil, err
		}, ErrNoCredentials, StatusNoCred, "", "", false},
		{"no credentials: TGT expired", func(t *testing.T) ([]byte, error) {
			c, err := captureInitiator(t, at.Add(25*time.Hour)).NewContext("test@localhost", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_, _, err = c.Step(nil)
			return nil, err
		}, ErrNoCredentials, StatusNoCred, "KRB5_CC_NOTFOUND", "no valid ticket-granting ticket", false},
		{"defective token", func(t *testing.T) ([]byte, error) {
			_, out, err := captureAcceptor(t, at).Accept([]byte("GET / HTTP/1.1\r\n"))
			return out, err
		}, ErrDefectiveToken, StatusDefectiveToken, "G_BAD_TOK_HEADER", "", false},
		{"defective token: empty", func(t *testing.T) ([]byte, error) {
			_, out, err := captureAcceptor(t, at).Accept(nil)
			return out, err
		}, ErrDefectiveToken, StatusDefectiveToken, "G_BAD_TOK_HEADER", "", false},
		{"defective token: truncated", func(t *testing.T) ([]byte, error) {
			_, out, err := captureAcceptor(t, at).Accept(token[:100])
			return out, err
		}, ErrDefectiveToken, StatusDefectiveToken, "", "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := c.run(t)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v (%T), want a *krbap.Error", err, err)
			}
			t.Logf("%v (major %#x, minor %#x)", err, e.Major, e.Minor)
			for _, s := range sentinels {
				if errors.Is(err, s.err) != (s.err == c.want) {
					t.Errorf("errors.Is(err, %s) = %v", s.name, errors.Is(err, s.err))
				}
			}
			if e.Routine() != c.major {
				t.Errorf("routine error %#x, want %#x", e.Routine(), c.major)
			}
			if c.minor != "" && e.Name != c.minor {
				t.Errorf("minor name %q, want %q", e.Name, c.minor)
			}
			if e.Minor != 0 && e.Name == "" {
				t.Errorf("minor %#x without a name", e.Minor)
			}
			if c.text != "" && !strings.Contains(e.Message, c.text) {
				t.Errorf("message %q lacks %q", e.Message, c.text)
			}
			if !strings.Contains(err.Error(), e.Op) || e.MajorMessage() == "" {
				t.Errorf("text %q, major text %q", err.Error(), e.MajorMessage())
			}
			if c.krbError != (len(out) > 0) {
				t.Errorf("KRB-ERROR token: %d bytes", len(out))
			}
			if len(out) > 0 && (out[0] != 0x60 || !strings.Contains(string(out), "\x03\x00")) {
				t.Errorf("reply is not a GSS KRB-ERROR token: % x", out[:min(len(out), 20)])
			}
		})
	}
}

// The details of a failure belong to the goroutine that failed: another goroutine's
// concurrent failure (on the same or another OS thread) does not leak into its text.
func TestErrorDetailPerCall(t *testing.T) {
	at := captureTime(t, "mutual")
	token := readCapture(t, "mutual", "initial_token.bin")
	skewed := captureAcceptor(t, at.Add(time.Hour))
	done := make(chan struct{})
	go func() {
		defer close(done)
		acc := captureAcceptor(t, at)
		for i := 0; i < 300; i++ {
			_, _, _ = acc.Accept([]byte{0x60, 0x01, byte(i)})
		}
	}()
	for i := 0; i < 300; i++ {
		_, _, err := skewed.Accept(token)
		var e *Error
		if !errors.As(err, &e) || !strings.HasPrefix(e.Message, "Clock skew too great (") {
			t.Fatalf("iteration %d: %v", i, err)
		}
	}
	<-done
}

// Closed handles refuse calls with ErrClosed; Close twice is fine.
func TestClosed(t *testing.T) {
	at := captureTime(t, "mutual")
	acc := captureAcceptor(t, at)
	ini := captureInitiator(t, at)
	ic, ac := establish(t, ini, acc, "test@localhost", nil)
	for _, c := range []*Context{ic, ac} {
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.Wrap([]byte("x"), true); !errors.Is(err, ErrClosed) {
			t.Errorf("wrap after close: %v", err)
		}
		if _, _, err := c.Unwrap([]byte("x")); !errors.Is(err, ErrClosed) {
			t.Errorf("unwrap after close: %v", err)
		}
		if err := c.VerifyMIC(nil, nil); !errors.Is(err, ErrClosed) {
			t.Errorf("verify after close: %v", err)
		}
		if _, err := c.Lifetime(); !errors.Is(err, ErrClosed) {
			t.Errorf("lifetime after close: %v", err)
		}
	}
	ctx2, err := ini.NewContext("test@localhost", nil)
	if err != nil {
		t.Fatal(err)
	}
	acc.Close()
	ini.Close()
	if _, _, err := acc.Accept(readCapture(t, "mutual", "initial_token.bin")); !errors.Is(err, ErrClosed) {
		t.Errorf("accept after close: %v", err)
	}
	if _, _, err := ctx2.Step(nil); !errors.Is(err, ErrClosed) {
		t.Errorf("step after the initiator's close: %v", err)
	}
	ctx2.Close()
	if _, _, err := ctx2.Step(nil); !errors.Is(err, ErrClosed) {
		t.Errorf("step after close: %v", err)
	}
}

// A context made before its Acceptor is closed keeps working (it holds the keys).
func TestContextOutlivesAcceptor(t *testing.T) {
	at := captureTime(t, "mutual")
	ini := captureInitiator(t, at)
	acc := captureAcceptor(t, at)
	ic, ac := establish(t, ini, acc, "test@localhost", nil)
	acc.Close()
	ini.Close()
	exchangeMessages(t, ic, ac)
	exchangeMessages(t, ac, ic)
}

// The initiator learns the acceptor's error from its KRB-ERROR token.
func TestInitiatorSeesAcceptorError(t *testing.T) {
	at := captureTime(t, "mutual")
	ini := captureInitiator(t, at)
	ic, err := ini.NewContext("test@localhost", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ic.Close()
	tok, done, err := ic.Step(nil)
	if err != nil || done {
		t.Fatal(done, err)
	}
	_, krbErr, err := captureAcceptor(t, at.Add(time.Hour)).Accept(tok)
	if !errors.Is(err, ErrClockSkew) || len(krbErr) == 0 {
		t.Fatalf("accept: %v, %d bytes", err, len(krbErr))
	}
	_, _, err = ic.Step(krbErr)
	if !errors.Is(err, ErrClockSkew) {
		t.Errorf("initiator: %v", err)
	}
	if ic.Established() {
		t.Error("established after an error")
	}
}

// Names are checked: a target that is not a name, an acceptor restricted to another
// service.
func TestNames(t *testing.T) {
	at := captureTime(t, "mutual")
	acc, err := NewAcceptor(AcceptorConfig{Keytab: capture("service.keytab"), Time: at,
		Principal: "test-aes256-sha1/localhost@TEST.LOCAL", PrincipalType: PrincipalName})
	if err != nil {
		t.Fatal(err)
	}
	defer acc.Close()
	_, _, err = acc.Accept(readCapture(t, "mutual", "initial_token.bin"))
	if !errors.Is(err, ErrNoKey) {
		t.Errorf("ticket for test/localhost at an acceptor for test-aes256-sha1: %v", err)
	}
	ctx, _, err := acc.Accept(readCapture(t, "aes256-sha1", "initial_token.bin"))
	if err != nil {
		t.Fatal(err)
	}
	ctx.Close()
	ini := captureInitiator(t, at)
	if _, err := ini.NewContext("no-at-sign", &InitOptions{TargetType: PrincipalName, Flags: FlagMutual}); err != nil {
		t.Logf("principal without realm: %v", err)
	}
	c, err := ini.NewContext("nobody@localhost", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, _, err := c.Step(nil); err == nil {
		t.Error("a ticket for an unknown service without a KDC")
	}
}
