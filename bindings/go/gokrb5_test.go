package krbap_test

// gokrb5 (github.com/jcmturner/gokrb5/v8), a pure-Go Kerberos implementation written
// independently of MIT and krbap, as the second peer: its client gets tickets from the
// test realm's KDC and authenticates to a krbap acceptor, and its service side verifies
// the krbap initiator's tokens.

import (
	"errors"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/gssapi"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/service"
	"github.com/jcmturner/gokrb5/v8/spnego"

	krbap "github.com/krbap/krbap/bindings/go"
)

// gokrb5Config is the realm's krb5.conf as gokrb5 reads it, asking for every AES
// enctype (gokrb5's defaults list only the SHA-1 ones among those the realm allows).
func gokrb5Config(t testing.TB) *config.Config {
	t.Helper()
	cfg, err := config.Load(krbap.RealmEnv()["KRB5_CONFIG"])
	if err != nil {
		t.Fatal(err)
	}
	ids := []int32{18, 17, 20, 19}
	names := []string{"aes256-cts-hmac-sha1-96", "aes128-cts-hmac-sha1-96",
		"aes256-cts-hmac-sha384-192", "aes128-cts-hmac-sha256-128"}
	cfg.LibDefaults.DefaultTktEnctypeIDs, cfg.LibDefaults.DefaultTktEnctypes = ids, names
	cfg.LibDefaults.DefaultTGSEnctypeIDs, cfg.LibDefaults.DefaultTGSEnctypes = ids, names
	cfg.LibDefaults.PermittedEnctypeIDs, cfg.LibDefaults.PermittedEnctypes = ids, names
	return cfg
}

// gokrb5Clients logs alice in twice: with her password and with her keytab.
func gokrb5Clients(t testing.TB) map[string]*client.Client {
	t.Helper()
	env := krbap.RealmEnv()
	cfg := gokrb5Config(t)
	kt, err := keytab.Load(env["REALM_CLIENT_KEYTAB"])
	if err != nil {
		t.Fatal(err)
	}
	cls := map[string]*client.Client{
		"password": client.NewWithPassword("alice", "TEST.LOCAL", env["REALM_CLIENT_PASSWORD"], cfg, client.DisablePAFXFAST(true)),
		"keytab":   client.NewWithKeytab("alice", "TEST.LOCAL", kt, cfg, client.DisablePAFXFAST(true)),
	}
	for name, cl := range cls {
		if err := cl.Login(); err != nil {
			t.Fatalf("gokrb5 login with %s: %v", name, err)
		}
	}
	return cls
}

// gokrb5Token is gokrb5's GSS initial token (RFC 4121 §4.1) for spn.
func gokrb5Token(t testing.TB, cl *client.Client, spn string, mutual bool) []byte {
	t.Helper()
	tkt, key, err := cl.GetServiceTicket(spn)
	if err != nil {
		t.Fatalf("gokrb5 service ticket for %s: %v", spn, err)
	}
	var apOpts []int
	if mutual {
		apOpts = []int{flags.APOptionMutualRequired}
	}
	tok, err := spnego.NewKRB5TokenAPREQ(cl, tkt, key,
		[]int{gssapi.ContextFlagInteg, gssapi.ContextFlagConf}, apOpts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := tok.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// gokrb5's client (password and keytab logins, tickets from the MIT KDC) → the krbap
// acceptor, every enctype: accepted, its replay refused.
func TestGokrb5ClientToKrbapAcceptor(t *testing.T) {
	acc := krbap.RealmAcceptor(t)
	for login, cl := range gokrb5Clients(t) {
		for _, s := range realmServices {
			spn := s.service[:len(s.service)-len("@localhost")] + "/localhost"
			for _, mutual := range []bool{false, true} {
				t.Run(login+"/"+spn+map[bool]string{true: "/mutual", false: ""}[mutual], func(t *testing.T) {
					tok := gokrb5Token(t, cl, spn, mutual)
					ctx, reply, err := acc.Accept(tok)
					if err != nil {
						t.Fatal(err)
					}
					defer ctx.Close()
					if ctx.ClientName() != "alice@TEST.LOCAL" {
						t.Errorf("client %q", ctx.ClientName())
					}
					if e, _, _ := ctx.Session(); e != s.enctype {
						t.Errorf("session enctype %d, want %d", e, s.enctype)
					}
					if mutual != (len(reply) > 0) {
						t.Errorf("mutual %v, AP-REP %d bytes", mutual, len(reply))
					}
					if _, _, err := acc.Accept(tok); !errors.Is(err, krbap.ErrReplay) {
						t.Errorf("replay: %v", err)
					}
				})
			}
		}
	}
}

// gokrb5Verify is gokrb5's service-side verification of a GSS initial token.
func gokrb5Verify(tok []byte, settings *service.Settings) (string, error) {
	var k spnego.KRB5Token
	if err := k.Unmarshal(tok); err != nil {
		return "", err
	}
	if !k.IsAPReq() {
		return "", errors.New("not an AP-REQ token")
	}
	ok, creds, err := service.VerifyAPREQ(&k.APReq, settings)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", errors.New("gokrb5 did not verify the AP-REQ")
	}
	return creds.CName().PrincipalNameString() + "@" + creds.Domain(), nil
}

// The krbap initiator → gokrb5's service-side verification (keytab loaded by gokrb5),
// every enctype.
func TestKrbapInitiatorToGokrb5Service(t *testing.T) {
	krbap.NeedRealm(t)
	env := krbap.RealmEnv()
	kt, err := keytab.Load(env["REALM_SERVICE_KEYTAB"])
	if err != nil {
		t.Fatal(err)
	}
	// MIT's PAC has no logon-info buffer gokrb5 could decode into AD credentials.
	settings := service.NewSettings(kt, service.DecodePAC(false), service.MaxClockSkew(5*time.Minute))
	ini, err := krbap.NewInitiator(krbap.InitiatorConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer ini.Close()
	for _, s := range realmServices {
		for _, f := range []krbap.Flags{krbap.DefaultFlags, krbap.FlagReplay | krbap.FlagSequence} {
			t.Run(s.service+"/"+f.String(), func(t *testing.T) {
				c, err := ini.NewContext(s.service, &krbap.InitOptions{Flags: f})
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				tok, _, err := c.Step(nil)
				if err != nil {
					t.Fatal(err)
				}
				who, err := gokrb5Verify(tok, settings)
				if err != nil {
					t.Fatalf("gokrb5: %v", err)
				}
				if who != "alice@TEST.LOCAL" {
					t.Errorf("gokrb5 saw %q", who)
				}
				// gokrb5 refuses the replay too (its own cache).
				if _, err := gokrb5Verify(tok, settings); err == nil {
					t.Error("gokrb5 accepted a replay")
				}
			})
		}
	}
	// A token for another service's key does not verify at gokrb5.
	c, _ := ini.NewContext("test@localhost", &krbap.InitOptions{Flags: krbap.FlagReplay})
	defer c.Close()
	tok, _, err := c.Step(nil)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := keytab.Load(krbap.RepoRoot() + "/tests/data/mit-capture/alice.keytab")
	if _, err := gokrb5Verify(tok, service.NewSettings(other, service.DecodePAC(false))); err == nil {
		t.Error("gokrb5 verified a token without the service key")
	}
}
