package krbap_test

// SPNEGO (RFC 4178) through the Go API: krbap's SPNEGO initiator to its acceptor (every
// enctype), and hand-built NegTokenInits - the DER made here with encoding/asn1, the
// Kerberos tokens inside from this package's raw krb5 initiator - that need several
// rounds (Kerberos not first, no optimistic token) or must fail (NTLM only, a bad
// mechListMIC), as Windows and other initiators send them.

import (
	"bytes"
	"encoding/asn1"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	krbap "github.com/krbap/krbap/bindings/go"
)

var (
	oidSPNEGO = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 2}
	oidKRB5   = asn1.ObjectIdentifier{1, 2, 840, 113554, 1, 2, 2}
	oidMSKRB5 = asn1.ObjectIdentifier{1, 2, 840, 48018, 1, 2, 2}
	oidNTLM   = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 2, 10}
	oidNegoEx = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 2, 30}
)

// NegTokenInit and NegTokenResp (RFC 4178 §4.2; the module has EXPLICIT tags).
type negTokenInit struct {
	MechTypes   []asn1.ObjectIdentifier `asn1:"explicit,tag:0"`
	MechToken   []byte                  `asn1:"explicit,optional,tag:2"`
	MechListMIC []byte                  `asn1:"explicit,optional,tag:3"`
}

type negTokenResp struct {
	NegState      asn1.RawValue         `asn1:"explicit,optional,tag:0"`
	SupportedMech asn1.ObjectIdentifier `asn1:"explicit,optional,tag:1"`
	ResponseToken []byte                `asn1:"explicit,optional,tag:2"`
	MechListMIC   []byte                `asn1:"explicit,optional,tag:3"`
}

func mustMarshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := asn1.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// spnegoInit is the initial token: [APPLICATION 0] { SPNEGO OID, [0] NegTokenInit }.
func spnegoInit(t testing.TB, mechs []asn1.ObjectIdentifier, token []byte) []byte {
	t.Helper()
	inner := mustMarshal(t, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true,
		Bytes: mustMarshal(t, negTokenInit{MechTypes: mechs, MechToken: token})})
	return mustMarshal(t, asn1.RawValue{Class: asn1.ClassApplication, Tag: 0, IsCompound: true,
		Bytes: append(mustMarshal(t, oidSPNEGO), inner...)})
}

// spnegoResp is a later initiator token: [1] NegTokenResp (no negState, as MIT sends it).
func spnegoResp(t testing.TB, token, mic []byte) []byte {
	t.Helper()
	return mustMarshal(t, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 1, IsCompound: true,
		Bytes: mustMarshal(t, negTokenResp{ResponseToken: token, MechListMIC: mic})})
}

// parseResp reads an acceptor's NegTokenResp; state is -1 when absent.
func parseResp(t testing.TB, b []byte) (state int, r negTokenResp) {
	t.Helper()
	var outer asn1.RawValue
	if rest, err := asn1.Unmarshal(b, &outer); err != nil || len(rest) != 0 ||
		outer.Class != asn1.ClassContextSpecific || outer.Tag != 1 {
		t.Fatalf("not a NegTokenResp (%v): %x", err, b)
	}
	if _, err := asn1.Unmarshal(outer.Bytes, &r); err != nil {
		t.Fatalf("NegTokenResp: %v: %x", err, b)
	}
	// encoding/asn1 leaves an explicitly tagged RawValue whole: [0] { ENUMERATED }.
	state = -1
	var e asn1.Enumerated
	if len(r.NegState.FullBytes) > 0 {
		if rest, err := asn1.Unmarshal(r.NegState.Bytes, &e); err != nil || len(rest) != 0 {
			t.Fatalf("negState: %v: %x", err, r.NegState.FullBytes)
		}
		state = int(e)
	}
	return state, r
}

// A fake NTLMSSP NEGOTIATE_MESSAGE (MS-NLMP 2.2.1.1), as an optimistic token of NTLM.
var ntlmNegotiate = append([]byte("NTLMSSP\x00\x01\x00\x00\x00\x97\x82\x08\xe2"), make([]byte, 16)...)

// krbap's SPNEGO initiator to krbap's acceptor, every enctype, mutual and not: the
// mechanism on both sides, the rounds, Wrap both ways over the negotiated krb5 context.
func TestSPNEGOGoToGo(t *testing.T) {
	acc, ini := krbap.RealmAcceptor(t), krbap.RealmInitiator(t)
	for _, s := range realmServices {
		for _, mutual := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/mutual=%v", s.service, mutual), func(t *testing.T) {
				flags := krbap.FlagReplay | krbap.FlagSequence
				if mutual {
					flags |= krbap.FlagMutual
				}
				ic, err := ini.NewContext(s.service, &krbap.InitOptions{Flags: flags, Mech: krbap.MechSPNEGO})
				if err != nil {
					t.Fatal(err)
				}
				defer ic.Close()
				if m, err := ic.Mechanism(); err != nil || m != krbap.MechSPNEGO {
					t.Fatalf("initiator mechanism before the first step: %v %v", m, err)
				}
				tok, done, err := ic.Step(nil)
				if err != nil || done {
					t.Fatalf("SPNEGO's first step: done %v err %v (it always awaits the answer)", done, err)
				}
				if tok[0] != 0x60 || !bytes.Contains(tok[:20], mustMarshal(t, oidSPNEGO)) {
					t.Fatalf("not a SPNEGO initial token: %x", tok[:20])
				}
				ac, reply, err := acc.Accept(tok)
				if err != nil {
					t.Fatal(err)
				}
				defer ac.Close()
				if !ac.Established() {
					t.Fatal("Kerberos first with an optimistic token: one round")
				}
				state, r := parseResp(t, reply)
				if state != 0 || !r.SupportedMech.Equal(oidKRB5) || (len(r.ResponseToken) > 0) != mutual {
					t.Fatalf("answer: state %d mech %v token %d bytes (mutual %v)", state, r.SupportedMech, len(r.ResponseToken), mutual)
				}
				out, done, err := ic.Step(reply)
				if err != nil || !done || len(out) != 0 {
					t.Fatalf("initiator on the answer: done %v, %d bytes out, %v", done, len(out), err)
				}
				for _, c := range []*krbap.Context{ic, ac} {
					if m, err := c.Mechanism(); err != nil || m != krbap.MechSPNEGO {
						t.Errorf("mechanism %v %v", m, err)
					}
					if e, _, err := c.Session(); err != nil || e != s.enctype {
						t.Errorf("enctype %d %v, want %d", e, err, s.enctype)
					}
				}
				if ac.ClientName() != "alice@TEST.LOCAL" {
					t.Errorf("client %q", ac.ClientName())
				}
				wrapBothWays(t, ic, ac)
			})
		}
	}
}

func wrapBothWays(t *testing.T, a, b *krbap.Context) {
	t.Helper()
	for _, p := range [][2]*krbap.Context{{a, b}, {b, a}} {
		w, conf, err := p[0].Wrap([]byte("over SPNEGO"), true)
		if err != nil || !conf {
			t.Fatalf("wrap: %v", err)
		}
		m, _, err := p[1].Unwrap(w)
		if err != nil || string(m) != "over SPNEGO" {
			t.Fatalf("unwrap: %q %v", m, err)
		}
	}
}

// Multi-round accepts: the initiator's tokens as Windows, Java or a NegoEx client send
// them; the Kerberos parts from this package's raw krb5 initiator, the mechListMIC from
// its GetMIC over the MechTypeList (RFC 4178 §5), the acceptor's verified with VerifyMIC.
func TestSPNEGOMultiRoundAccept(t *testing.T) {
	acc, ini := krbap.RealmAcceptor(t), krbap.RealmInitiator(t)
	cases := []struct {
		name       string
		mechs      []asn1.ObjectIdentifier
		optimistic string // "": none, "ntlm", "krb5"
		mutual     bool
		rounds     int // Accept plus Steps
	}{
		{"no-optimistic", []asn1.ObjectIdentifier{oidKRB5}, "", true, 2},
		{"ntlm-first-mutual", []asn1.ObjectIdentifier{oidNTLM, oidKRB5}, "ntlm", true, 3},
		{"ntlm-first-nomutual", []asn1.ObjectIdentifier{oidNTLM, oidKRB5}, "ntlm", false, 2},
		{"negoex-first", []asn1.ObjectIdentifier{oidNegoEx, oidKRB5}, "", true, 3},
		{"ms-oid-first", []asn1.ObjectIdentifier{oidMSKRB5, oidKRB5}, "krb5", true, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			flags := krbap.FlagSequence
			if c.mutual {
				flags |= krbap.FlagMutual
			}
			k, err := ini.NewContext("test@localhost", &krbap.InitOptions{Flags: flags})
			if err != nil {
				t.Fatal(err)
			}
			defer k.Close()
			mechList := mustMarshal(t, c.mechs)
			micNeeded := !c.mechs[0].Equal(oidKRB5) && !c.mechs[0].Equal(oidMSKRB5)
			var first []byte
			apSent := false
			switch c.optimistic {
			case "ntlm":
				first = ntlmNegotiate
			case "krb5":
				if first, _, err = k.Step(nil); err != nil {
					t.Fatal(err)
				}
				apSent = true
			}
			ac, reply, err := acc.Accept(spnegoInit(t, c.mechs, first))
			if err != nil {
				t.Fatalf("accept: %v", err)
			}
			defer ac.Close()
			rounds, micSent, micVerified := 1, false, false
			var supported asn1.ObjectIdentifier
			for {
				// After the initiator's mechListMIC the acceptor completes without a
				// token when it has sent its own MIC already (as MIT's).
				if len(reply) == 0 && ac.Established() && micSent && micVerified {
					break
				}
				state, r := parseResp(t, reply)
				if supported == nil {
					supported = r.SupportedMech
				}
				if state == 2 {
					t.Fatal("rejected")
				}
				if len(r.ResponseToken) > 0 {
					if _, _, err := k.Step(r.ResponseToken); err != nil {
						t.Fatalf("round %d: the AP-REP: %v", rounds, err)
					}
				}
				if len(r.MechListMIC) > 0 {
					if err := k.VerifyMIC(mechList, r.MechListMIC); err != nil {
						t.Fatalf("round %d: the acceptor's mechListMIC: %v", rounds, err)
					}
					micVerified = true
				}
				if ac.Established() {
					if state != 0 {
						t.Errorf("established, but the answer's state is %d", state)
					}
					break
				}
				if state != 1 && state != 3 {
					t.Fatalf("round %d: not established, state %d", rounds, state)
				}
				if rounds >= 5 {
					t.Fatal("no end after 5 rounds")
				}
				var next, mic []byte
				if !apSent {
					if next, _, err = k.Step(nil); err != nil {
						t.Fatal(err)
					}
					apSent = true
				}
				if k.Established() && micNeeded && !micSent {
					if mic, err = k.GetMIC(mechList); err != nil {
						t.Fatal(err)
					}
					micSent = true
				}
				if next == nil && mic == nil {
					t.Fatalf("round %d: the acceptor wants more and the initiator has nothing", rounds)
				}
				var done bool
				if reply, done, err = ac.Step(spnegoResp(t, next, mic)); err != nil {
					t.Fatalf("round %d: %v", rounds+1, err)
				}
				rounds++
				if done != ac.Established() {
					t.Fatalf("Step's done %v, Established %v", done, ac.Established())
				}
			}
			if rounds != c.rounds {
				t.Errorf("%d rounds, want %d", rounds, c.rounds)
			}
			if !k.Established() {
				t.Error("the initiator's krb5 context is not complete")
			}
			if micNeeded && !(micSent && micVerified) {
				t.Errorf("mechListMIC sent %v, acceptor's verified %v", micSent, micVerified)
			}
			if want := c.mechs[0]; !want.Equal(oidMSKRB5) && !supported.Equal(oidKRB5) || want.Equal(oidMSKRB5) && !supported.Equal(oidMSKRB5) {
				t.Errorf("supportedMech %v: the OID must be answered as listed", supported)
			}
			if m, _ := ac.Mechanism(); m != krbap.MechSPNEGO || ac.ClientName() != "alice@TEST.LOCAL" {
				t.Errorf("mechanism %v client %q", m, ac.ClientName())
			}
			if _, _, err := ac.Step(spnegoResp(t, nil, nil)); err == nil {
				t.Error("Step on an established accepted context must fail")
			}
			wrapBothWays(t, k, ac)
		})
	}
}

// SPNEGO failures: NTLM alone is BAD_MECH with MIT's reject token; a bad or missing
// mechListMIC where one is required fails the context with a reject; the Context is
// closed afterwards and the acceptor keeps working.
func TestSPNEGOAcceptFailures(t *testing.T) {
	acc, ini := krbap.RealmAcceptor(t), krbap.RealmInitiator(t)
	mitReject := []byte{0xa1, 0x07, 0x30, 0x05, 0xa0, 0x03, 0x0a, 0x01, 0x02}

	t.Run("ntlm-only", func(t *testing.T) {
		ctx, reply, err := acc.Accept(spnegoInit(t, []asn1.ObjectIdentifier{oidNTLM}, ntlmNegotiate))
		var e *krbap.Error
		if ctx != nil || !errors.As(err, &e) || e.Routine() != krbap.StatusBadMech ||
			e.Name != "ERR_SPNEGO_NEGOTIATION_FAILED" {
			t.Fatalf("ctx %v err %#v", ctx, err)
		}
		if !bytes.Equal(reply, mitReject) {
			t.Errorf("reject token %x, want MIT's %x", reply, mitReject)
		}
		if !bytes.Contains([]byte(e.Message), []byte("1.3.6.1.4.1.311.2.2.10")) && !bytes.Contains([]byte(e.Message), []byte("NTLM")) {
			t.Errorf("the reason does not name the offered mechanism: %q", e.Message)
		}
	})
	for _, bad := range []string{"bad-mic", "no-mic"} {
		t.Run(bad, func(t *testing.T) {
			k, err := ini.NewContext("test@localhost", &krbap.InitOptions{Flags: krbap.FlagSequence})
			if err != nil {
				t.Fatal(err)
			}
			defer k.Close()
			mechs := []asn1.ObjectIdentifier{oidNTLM, oidKRB5}
			ac, reply, err := acc.Accept(spnegoInit(t, mechs, ntlmNegotiate))
			if err != nil {
				t.Fatal(err)
			}
			defer ac.Close()
			if state, _ := parseResp(t, reply); state != 3 {
				t.Fatalf("state %d, want request-mic", state)
			}
			ap, _, err := k.Step(nil)
			if err != nil {
				t.Fatal(err)
			}
			var mic []byte
			if bad == "bad-mic" {
				// A MIC over another list: authentic, but not over what was sent.
				if mic, err = k.GetMIC(mustMarshal(t, []asn1.ObjectIdentifier{oidKRB5})); err != nil {
					t.Fatal(err)
				}
			}
			out, done, err := ac.Step(spnegoResp(t, ap, mic))
			if err == nil || done {
				t.Fatalf("a %s was accepted", bad)
			}
			if bad == "no-mic" {
				// The last Kerberos token (no mutual authentication: no AP-REP to
				// send) must carry the required MIC (MIT's rule).
				var e *krbap.Error
				if !errors.As(err, &e) || e.Name != "ERR_SPNEGO_NEGOTIATION_FAILED" || !strings.Contains(e.Message, "mechListMIC") {
					t.Errorf("AP-REQ without the required MIC: %#v", err)
				}
			}
			if state, _ := parseResp(t, out); state != 2 {
				t.Errorf("answer state %d, want reject", state)
			}
			if ac.Established() {
				t.Error("established after a failure")
			}
			if _, _, err := ac.Step(spnegoResp(t, ap, nil)); !errors.Is(err, krbap.ErrClosed) {
				t.Errorf("Step after a failure: %v, want ErrClosed", err)
			}
		})
	}
	// The acceptor is intact: a good SPNEGO exchange still completes.
	ic, err := ini.NewContext("test@localhost", &krbap.InitOptions{Flags: krbap.FlagMutual, Mech: krbap.MechSPNEGO})
	if err != nil {
		t.Fatal(err)
	}
	defer ic.Close()
	tok, _, err := ic.Step(nil)
	if err != nil {
		t.Fatal(err)
	}
	ac, reply, err := acc.Accept(tok)
	if err != nil || !ac.Established() {
		t.Fatalf("after the failures: %v", err)
	}
	defer ac.Close()
	if _, done, err := ic.Step(reply); err != nil || !done {
		t.Fatalf("after the failures: %v", err)
	}
}

// The SPNEGO initiator against an acceptor's reject with a KRB-ERROR inside (a clock
// skew): the error is the acceptor's, and the initiator's own reject goes out.
func TestSPNEGOInitiatorSeesAcceptorError(t *testing.T) {
	krbap.NeedRealm(t)
	acc, err := krbap.NewAcceptor(krbap.AcceptorConfig{Keytab: krbap.RealmEnv()["REALM_SERVICE_KEYTAB"],
		Time: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	defer acc.Close()
	ini, err := krbap.NewInitiator(krbap.InitiatorConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer ini.Close()
	ic, err := ini.NewContext("test@localhost", &krbap.InitOptions{Flags: krbap.FlagMutual, Mech: krbap.MechSPNEGO})
	if err != nil {
		t.Fatal(err)
	}
	defer ic.Close()
	tok, _, err := ic.Step(nil)
	if err != nil {
		t.Fatal(err)
	}
	_, reply, err := acc.Accept(tok)
	if !errors.Is(err, krbap.ErrClockSkew) {
		t.Fatalf("accept: %v, want ErrClockSkew", err)
	}
	if state, _ := parseResp(t, reply); state != 2 {
		t.Fatalf("the acceptor's answer is not a reject: %x", reply)
	}
	out, done, err := ic.Step(reply)
	if !errors.Is(err, krbap.ErrClockSkew) || done {
		t.Fatalf("initiator: done %v err %v, want ErrClockSkew", done, err)
	}
	if len(out) > 0 {
		if state, _ := parseResp(t, out); state != 2 {
			t.Errorf("the initiator's token after a failure is not a reject: %x", out)
		}
	}
}
