package krbap

import (
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// ClockSkew widens what Accept allows: an authenticator an hour off passes with 2 h.
func TestConfigClockSkew(t *testing.T) {
	at := captureTime(t, "mutual")
	token := readCapture(t, "mutual", "initial_token.bin")
	acc, err := NewAcceptor(AcceptorConfig{Keytab: capture("service.keytab"), Time: at.Add(time.Hour), ClockSkew: 2 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer acc.Close()
	ctx, _, err := acc.Accept(token)
	if err != nil {
		t.Fatalf("an hour off with 2 h allowed: %v", err)
	}
	ctx.Close()
	if _, err := NewAcceptor(AcceptorConfig{Keytab: capture("service.keytab"), ClockSkew: -time.Second}); err == nil {
		t.Error("a negative skew was taken")
	}
}

// ReplayCache: two Acceptors on one MIT file2 cache refuse what the other accepted; with
// "none:" a replay passes (the operator's choice); a bad name is refused.
func TestConfigReplayCache(t *testing.T) {
	at := captureTime(t, "mutual")
	token := readCapture(t, "mutual", "initial_token.bin")
	rc := "file2:" + filepath.Join(t.TempDir(), "shared.rcache2")
	var accs []*Acceptor
	for i := 0; i < 2; i++ {
		a, err := NewAcceptor(AcceptorConfig{Keytab: capture("service.keytab"), Time: at, ReplayCache: rc})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		accs = append(accs, a)
	}
	ctx, _, err := accs[0].Accept(token)
	if err != nil {
		t.Fatal(err)
	}
	ctx.Close()
	if _, _, err := accs[1].Accept(token); !errors.Is(err, ErrReplay) {
		t.Errorf("the other acceptor on the same file2 cache: %v", err)
	}
	none, err := NewAcceptor(AcceptorConfig{Keytab: capture("service.keytab"), Time: at, ReplayCache: "none:"})
	if err != nil {
		t.Fatal(err)
	}
	defer none.Close()
	for i := 0; i < 2; i++ {
		c, _, err := none.Accept(token)
		if err != nil {
			t.Fatalf("none: accept %d: %v", i, err)
		}
		c.Close()
	}
	var e *Error
	_, err = NewAcceptor(AcceptorConfig{Keytab: capture("service.keytab"), ReplayCache: "bogus:x"})
	if !errors.As(err, &e) || e.Name != "KRB5_RC_TYPE_NOTFOUND" {
		t.Errorf("unknown replay cache type: %v", err)
	}
}

// Channel bindings must match between the initiator and AcceptWithBindings.
func TestChannelBindings(t *testing.T) {
	at := captureTime(t, "mutual")
	ini := captureInitiator(t, at)
	acc := captureAcceptor(t, at)
	cb := &ChannelBindings{ApplicationData: []byte("tls-server-end-point:0123456789abcdef")}
	token := func() []byte {
		c, err := ini.NewContext("test@localhost", &InitOptions{Flags: FlagReplay, ChannelBindings: cb})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		tok, _, err := c.Step(nil)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	ctx, _, err := acc.AcceptWithBindings(token(), cb)
	if err != nil {
		t.Fatalf("same bindings: %v", err)
	}
	ctx.Close()
	other := &ChannelBindings{ApplicationData: []byte("tls-server-end-point:fedcba9876543210")}
	_, _, err = acc.AcceptWithBindings(token(), other)
	var e *Error
	if !errors.As(err, &e) || e.Routine() != StatusBadBindings {
		t.Errorf("other bindings: %v", err)
	}
}

// ClientKeytab: without a ccache, the initiator gets alice's TGT from the KDC with her
// keys (AS exchange) and stores it in the ccache named.
func TestConfigClientKeytab(t *testing.T) {
	needRealm(t)
	cc := filepath.Join(t.TempDir(), "new.ccache")
	ini, err := NewInitiator(InitiatorConfig{CCache: cc, ClientKeytab: realm["REALM_CLIENT_KEYTAB"], Principal: "alice@TEST.LOCAL"})
	if err != nil {
		t.Fatal(err)
	}
	defer ini.Close()
	acc, err := NewAcceptor(AcceptorConfig{Keytab: realm["REALM_SERVICE_KEYTAB"]})
	if err != nil {
		t.Fatal(err)
	}
	defer acc.Close()
	ic, ac := establish(t, ini, acc, "test-aes128-sha256@localhost", nil)
	if e, _, _ := ac.Session(); e != 19 || ac.ClientName() != "alice@TEST.LOCAL" {
		t.Errorf("enctype %d client %q", e, ac.ClientName())
	}
	exchangeMessages(t, ic, ac)
	// The ccache now serves a plain initiator.
	again, err := NewInitiator(InitiatorConfig{CCache: cc})
	if err != nil {
		t.Fatalf("the stored ccache: %v", err)
	}
	again.Close()
}
