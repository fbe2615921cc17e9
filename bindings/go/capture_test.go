package krbap

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// MIT's captured initial tokens are accepted, and MIT's Wrap/MIC tokens in both
// directions unwrap and verify on the contexts the Go API built.
func TestAcceptMITCapturedTokens(t *testing.T) {
	for _, cc := range captureCases {
		t.Run(cc.name, func(t *testing.T) {
			at := captureTime(t, cc.name)
			acc := captureAcceptor(t, at)
			ctx, reply, err := acc.Accept(readCapture(t, cc.name, "initial_token.bin"))
			if err != nil {
				t.Fatal(err)
			}
			defer ctx.Close()
			if got := ctx.ClientName(); got != "alice@TEST.LOCAL" {
				t.Errorf("client %q", got)
			}
			mutual := cc.name != "nomutual"
			if mutual != (len(reply) > 0) || mutual != (ctx.Flags()&FlagMutual != 0) {
				t.Errorf("mutual %v: reply %d bytes, flags %v", mutual, len(reply), ctx.Flags())
			}
			if ctx.Delegated() != (cc.name == "deleg") {
				t.Errorf("delegated = %v", ctx.Delegated())
			}
			if ctx.IsInitiator() || !ctx.Established() {
				t.Errorf("initiator %v established %v", ctx.IsInitiator(), ctx.Established())
			}
			wantSvc := "test/localhost@TEST.LOCAL"
			if cc.service != "test@localhost" {
				wantSvc = cc.service[:len(cc.service)-len("@localhost")] + "/localhost@TEST.LOCAL"
			}
			if got := ctx.ServiceName(); got != wantSvc {
				t.Errorf("service %q, want %q", got, wantSvc)
			}
			if life, err := ctx.Lifetime(); err != nil || life <= 0 || life > 25*time.Hour {
				t.Errorf("lifetime %v %v", life, err)
			}
			if e, end, err := ctx.Session(); err != nil || e == 0 || !end.After(at) {
				t.Errorf("session %d %v %v", e, end, err)
			}
			msg := readCapture(t, cc.name, "message.bin")
			// MIT's initiator protects its messages with MIT's acceptor subkey when it
			// got one (mutual cases): only the nomutual tokens are for this context.
			if cc.name != "nomutual" {
				if _, _, err := ctx.Unwrap(readCapture(t, cc.name, "c2s_wrap_conf.bin")); !errors.Is(err, ErrBadIntegrity) {
					t.Errorf("token under another acceptor subkey: %v", err)
				}
				return
			}
			for _, f := range []struct {
				file string
				conf bool
			}{{"c2s_wrap_conf.bin", true}, {"c2s_wrap_noconf.bin", false}} {
				got, conf, err := ctx.Unwrap(readCapture(t, cc.name, f.file))
				if err != nil || conf != f.conf || !bytes.Equal(got, msg) {
					t.Errorf("%s: conf %v err %v equal %v", f.file, conf, err, bytes.Equal(got, msg))
				}
			}
			if err := ctx.VerifyMIC(msg, readCapture(t, cc.name, "c2s_mic.bin")); err != nil {
				t.Errorf("c2s_mic: %v", err)
			}
			// A changed message fails the MIC, and the context keeps working.
			bad := append([]byte{}, msg...)
			bad[0] ^= 1
			if err := ctx.VerifyMIC(bad, readCapture(t, cc.name, "c2s_mic.bin")); !errors.Is(err, ErrBadIntegrity) {
				t.Errorf("altered message: %v", err)
			}
			// Our tokens towards the initiator side are well formed (the Rust and C tests
			// check MIT reads them; the MIT interop tests here too).
			w, conf, err := ctx.Wrap(msg, true)
			if err != nil || !conf || len(w) <= len(msg) {
				t.Errorf("wrap: %d bytes conf %v err %v", len(w), conf, err)
			}
		})
	}
}

// An initiator on MIT's ccache (alice's TGT and service tickets) against an acceptor
// on MIT's keytab, every enctype, with and without mutual authentication; Wrap and MIC
// both ways.
func TestKrbapToKrbapEveryEnctype(t *testing.T) {
	at := captureTime(t, "mutual")
	ini := captureInitiator(t, at)
	acc := captureAcceptor(t, at)
	if p, err := ini.Principal(); err != nil || p != "alice@TEST.LOCAL" {
		t.Fatalf("principal %q %v", p, err)
	}
	for _, es := range enctypeServices {
		for _, flags := range []Flags{DefaultFlags, FlagReplay | FlagSequence, FlagMutual | FlagDelegate} {
			t.Run(es.name+"/"+flags.String(), func(t *testing.T) {
				ic, ac := establish(t, ini, acc, es.service, &InitOptions{Flags: flags})
				if e, _, err := ac.Session(); err != nil || e != es.enctype {
					t.Errorf("session enctype %d (%v), want %d", e, err, es.enctype)
				}
				if ac.ClientName() != "alice@TEST.LOCAL" || ic.ClientName() != "alice@TEST.LOCAL" {
					t.Errorf("client %q / %q", ac.ClientName(), ic.ClientName())
				}
				if !ic.IsInitiator() || !ic.Established() {
					t.Error("initiator context not established")
				}
				exchangeMessages(t, ic, ac)
				exchangeMessages(t, ac, ic)
			})
		}
	}
}

// exchangeMessages sends Wrap (both kinds) and MIC tokens from a to b.
func exchangeMessages(t *testing.T, a, b *Context) {
	t.Helper()
	for _, size := range []int{0, 1, 73, 16 << 10} {
		msg := bytes.Repeat([]byte{byte(size)}, size)
		for _, conf := range []bool{true, false} {
			tok, applied, err := a.Wrap(msg, conf)
			if err != nil || applied != conf {
				t.Fatalf("wrap %d conf %v: %v (applied %v)", size, conf, err, applied)
			}
			got, gotConf, err := b.Unwrap(tok)
			if err != nil || gotConf != conf || !bytes.Equal(got, msg) {
				t.Fatalf("unwrap %d conf %v: %v (conf %v)", size, conf, err, gotConf)
			}
		}
		mic, err := a.GetMIC(msg)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.VerifyMIC(msg, mic); err != nil {
			t.Fatalf("verify_mic %d: %v", size, err)
		}
	}
	if n, err := a.WrapSizeLimit(true, 1000); err != nil || n <= 0 || n >= 1000 {
		t.Errorf("wrap size limit %d %v", n, err)
	} else if tok, _, _ := a.Wrap(make([]byte, n), true); len(tok) > 1000 {
		t.Errorf("a %d-byte message wraps to %d > 1000 bytes", n, len(tok))
	}
}

// Per-message sequence checks come back as supplementary *Error values with the message.
func TestUnwrapSequenceErrors(t *testing.T) {
	at := captureTime(t, "mutual")
	ic, ac := establish(t, captureInitiator(t, at), captureAcceptor(t, at), "test@localhost", nil)
	t1, _, _ := ic.Wrap([]byte("one"), true)
	t2, _, _ := ic.Wrap([]byte("two"), true)
	t3, _, _ := ic.Wrap([]byte("three"), true)
	if m, _, err := ac.Unwrap(t1); err != nil || string(m) != "one" {
		t.Fatal(m, err)
	}
	m, _, err := ac.Unwrap(t1)
	var e *Error
	if !errors.Is(err, ErrReplay) || !errors.As(err, &e) || e.Major != StatusDuplicateToken || string(m) != "one" {
		t.Errorf("duplicate: %q %v", m, err)
	}
	m, _, err = ac.Unwrap(t3)
	if !errors.As(err, &e) || e.Major&StatusGapToken == 0 || errors.Is(err, ErrReplay) || string(m) != "three" {
		t.Errorf("gap: %q %v", m, err)
	}
	m, _, err = ac.Unwrap(t2)
	if !errors.As(err, &e) || e.Major&(StatusUnseqToken|StatusOldToken) == 0 || string(m) != "two" {
		t.Errorf("out of order: %q %v", m, err)
	}
	// A reflected token (our own, sent back) is refused.
	own, _, _ := ac.Wrap([]byte("x"), true)
	if _, _, err := ac.Unwrap(own); !errors.Is(err, ErrBadIntegrity) {
		t.Errorf("reflected: %v", err)
	}
}

// A delegated TGT (MIT's capture) is stored into a ccache that a new Initiator uses.
func TestStoreDelegated(t *testing.T) {
	at := captureTime(t, "deleg")
	ctx, _, err := captureAcceptor(t, at).Accept(readCapture(t, "deleg", "initial_token.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.Close()
	if !ctx.Delegated() || ctx.Flags()&FlagDelegate == 0 {
		t.Fatalf("no delegation: flags %v", ctx.Flags())
	}
	cc := filepath.Join(t.TempDir(), "deleg.ccache")
	if err := ctx.StoreDelegated(cc); err != nil {
		t.Fatal(err)
	}
	ini, err := NewInitiator(InitiatorConfig{CCache: cc, Time: at})
	if err != nil {
		t.Fatal(err)
	}
	defer ini.Close()
	if p, err := ini.Principal(); err != nil || p != "alice@TEST.LOCAL" {
		t.Errorf("stored principal %q %v", p, err)
	}
	if fi, err := os.Stat(cc); err != nil || fi.Size() == 0 {
		t.Errorf("ccache %v", err)
	}
	// Not delegated: storing fails with NO_CRED.
	plain, _, err := captureAcceptor(t, at).Accept(readCapture(t, "mutual", "initial_token.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if err := plain.StoreDelegated(cc); !errors.Is(err, ErrNoCredentials) {
		t.Errorf("store without delegation: %v", err)
	}
}

// Authorization data and the PAC of MIT's ticket (MIT 1.20 KDCs issue a PAC).
func TestAuthorizationData(t *testing.T) {
	at := captureTime(t, "mutual")
	ctx, _, err := captureAcceptor(t, at).Accept(readCapture(t, "mutual", "initial_token.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.Close()
	ads, err := ctx.AuthorizationData()
	if err != nil {
		t.Fatal(err)
	}
	pac, pacErr := ctx.RawPAC()
	var found bool
	for _, ad := range ads {
		if ad.Type == 128 {
			found = true
			if !ad.FromTicket || !bytes.Equal(ad.Data, pac) {
				t.Errorf("PAC element: from ticket %v, same as RawPAC %v", ad.FromTicket, bytes.Equal(ad.Data, pac))
			}
		}
	}
	if found != (pacErr == nil) {
		t.Errorf("AD-WIN2K-PAC listed %v, RawPAC error %v", found, pacErr)
	}
	if pacErr != nil && !errors.Is(pacErr, ErrNoPAC) {
		t.Errorf("RawPAC: %v", pacErr)
	}
	if found && (len(pac) < 8 || pac[0] == 0) {
		t.Errorf("PAC of %d bytes, %d buffers", len(pac), pac[0])
	}
}

// The package reports how it was linked and the library's version (Cargo.toml's).
func TestLinkage(t *testing.T) {
	cargo, err := os.ReadFile(filepath.Join(repoRoot, "Cargo.toml"))
	if err != nil {
		t.Fatal(err)
	}
	want := regexp.MustCompile(`(?m)^version = "([^"]+)"`).FindSubmatch(cargo)
	if want == nil || Version() != string(want[1]) {
		t.Errorf("Version() = %q, Cargo.toml says %q", Version(), want)
	}
	if Linkage != "static" && Linkage != "shared" {
		t.Errorf("Linkage %q", Linkage)
	}
	if l := os.Getenv("KRBAP_GO_LINKAGE"); l != "" && l != Linkage {
		t.Errorf("linked %s, expected %s", Linkage, l)
	}
	t.Logf("krbap %s, linked %s", Version(), Linkage)
}

// An accepted Kerberos context is established in one round: Step on it is refused and
// leaves it working.
func TestStepOnEstablishedAcceptedContext(t *testing.T) {
	at := captureTime(t, "mutual")
	ic, ac := establish(t, captureInitiator(t, at), captureAcceptor(t, at), "test@localhost", nil)
	if _, done, err := ac.Step([]byte{0x60, 0}); err == nil || !done {
		t.Errorf("step on an established accepted context: done %v err %v", done, err)
	}
	if _, done, err := ic.Step(nil); err == nil || !done {
		t.Errorf("step on an established initiator context: done %v err %v", done, err)
	}
	exchangeMessages(t, ic, ac)
}
