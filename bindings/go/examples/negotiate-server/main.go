// negotiate-server: an HTTP server behind krbap's Negotiate middleware, the Go counterpart
// of examples/krbap-http-server.c: its page names the client (<p id="user">) and the
// mechanism it spoke (<p id="mech">), and the PAC's account and groups when the ticket has
// one. tests/go.sh runs the Python peers of tests/interop/http_peers.py against it.
//
//	negotiate-server [-addr 127.0.0.1:8080] [-keytab FILE] [-rcache memory:] [-allow user@REALM,...]
package main

import (
	"errors"
	"flag"
	"fmt"
	"html"
	"log"
	"net"
	"net/http"
	"os"
	"strings"

	krbap "github.com/krbap/krbap/bindings/go"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	keytab := flag.String("keytab", "", "keytab (default: KRB5_KTNAME)")
	rcache := flag.String("rcache", "", "replay cache (default: memory:)")
	allow := flag.String("allow", "", "comma-separated principals allowed (default: every authenticated one)")
	flag.Parse()

	acc, err := krbap.NewAcceptor(krbap.AcceptorConfig{Keytab: *keytab, ReplayCache: *rcache})
	if err != nil {
		log.Fatal(err)
	}
	defer acc.Close()
	opts := &krbap.NegotiateOptions{Logf: log.Printf}
	if *allow != "" {
		allowed := map[string]bool{}
		for _, p := range strings.Split(*allow, ",") {
			allowed[p] = true
		}
		opts.Authorize = func(r *http.Request, id *krbap.Identity) error {
			if !allowed[id.Principal] {
				return fmt.Errorf("%s is not allowed here", id.Principal)
			}
			return nil
		}
	}
	neg := krbap.NewNegotiate(acc, opts)
	defer neg.Close()
	srv := &http.Server{Handler: neg.Wrap(http.HandlerFunc(page))}
	neg.Attach(srv)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("starting...") // listening: the test scripts wait for this line
	os.Stdout.Sync()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

func page(w http.ResponseWriter, r *http.Request) {
	id, _ := krbap.IdentityFromContext(r.Context())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, "<!DOCTYPE html>\n<html><head><title>negotiate-server</title></head><body>"+
		"<p id=\"user\">%s</p><p id=\"mech\">%s</p>", html.EscapeString(id.Principal), id.Mechanism)
	if p, err := id.Context.PAC(); err == nil {
		fmt.Fprintf(w, "<p id=\"pac-client\">%s</p>", html.EscapeString(p.ClientName))
		if p.LogonInfo != nil {
			fmt.Fprintf(w, "<p id=\"sid\">%s</p>", html.EscapeString(p.LogonInfo.UserSID))
			for _, g := range p.LogonInfo.Groups {
				fmt.Fprintf(w, "<p class=\"group\">%s</p>", html.EscapeString(g.SID))
			}
		}
	}
	fmt.Fprintln(w, "</body></html>")
}
