package krbap_test

import (
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/service"

	krbap "github.com/krbap/krbap/bindings/go"
)

// tokenPool hands out fresh initial tokens of one service, the same sequence to every
// implementation: each benchmark run takes the next b.N tokens from its own cursor, so
// krbap and gokrb5 verify the same tokens, and no replay cache sees one twice.
type tokenPool struct {
	ini     *krbap.Initiator
	service string
	tokens  [][]byte
}

func (p *tokenPool) take(b *testing.B, cursor *int) [][]byte {
	for len(p.tokens) < *cursor+b.N {
		c, err := p.ini.NewContext(p.service, &krbap.InitOptions{Flags: krbap.FlagReplay | krbap.FlagSequence})
		if err != nil {
			b.Fatal(err)
		}
		tok, _, err := c.Step(nil)
		c.Close()
		if err != nil {
			b.Fatal(err)
		}
		p.tokens = append(p.tokens, tok)
	}
	out := p.tokens[*cursor : *cursor+b.N]
	*cursor += b.N
	return out
}

// BenchmarkAccept: Accept from Go (cgo, the memory replay cache, the Context and its
// Close) against gokrb5's service-side verification (GSS token unmarshal and
// VerifyAPREQ with its replay cache; PAC decoding off, as krbap does not decode the
// PAC on accept) of the same non-mutual tokens from the test realm. scripts/bench-go.sh
// (make bench) runs it with -benchmem and prints the ratio.
func BenchmarkAccept(b *testing.B) {
	if krbap.RealmEnv() == nil {
		b.Skip("no MIT realm")
	}
	env := krbap.RealmEnv()
	ini, err := krbap.NewInitiator(krbap.InitiatorConfig{})
	if err != nil {
		b.Fatal(err)
	}
	defer ini.Close()
	acc, err := krbap.NewAcceptor(krbap.AcceptorConfig{Keytab: env["REALM_SERVICE_KEYTAB"]})
	if err != nil {
		b.Fatal(err)
	}
	defer acc.Close()
	kt, err := keytab.Load(env["REALM_SERVICE_KEYTAB"])
	if err != nil {
		b.Fatal(err)
	}
	settings := service.NewSettings(kt, service.DecodePAC(false), service.MaxClockSkew(5*time.Minute))
	for _, es := range []struct{ name, service string }{
		{"aes256-sha1", "test-aes256-sha1@localhost"},
		{"aes256-sha384", "test-aes256-sha384@localhost"},
	} {
		pool := &tokenPool{ini: ini, service: es.service}
		var krbapCursor, gokrb5Cursor int
		b.Run(es.name+"/krbap", func(b *testing.B) {
			tokens := pool.take(b, &krbapCursor)
			b.ReportAllocs()
			b.ResetTimer()
			for _, tok := range tokens {
				ctx, _, err := acc.Accept(tok)
				if err != nil {
					b.Fatal(err)
				}
				ctx.Close()
			}
		})
		b.Run(es.name+"/gokrb5", func(b *testing.B) {
			tokens := pool.take(b, &gokrb5Cursor)
			b.ReportAllocs()
			b.ResetTimer()
			for _, tok := range tokens {
				if _, err := gokrb5Verify(tok, settings); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
