// gss-server: a krbap server speaking the protocol of MIT krb5's gss-server
// (src/appl/gss-sample), so that MIT's gss-client (and krbap's) can talk to it.
//
//	gss-server [-port 4444] [-keytab FILE] [-rcache NAME] [-deleg-ccache FILE] [-once] [service@host]
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"os"

	krbap "github.com/krbap/krbap/bindings/go"
	"github.com/krbap/krbap/bindings/go/internal/gsssample"
)

func main() {
	port := flag.Int("port", 4444, "TCP port")
	keytab := flag.String("keytab", "", "keytab (default: KRB5_KTNAME, /etc/krb5.keytab)")
	rcache := flag.String("rcache", "", "replay cache: memory: (default), none:, file2:/path, dfl:")
	deleg := flag.String("deleg-ccache", "", "store delegated credentials in this ccache")
	once := flag.Bool("once", false, "serve one connection, then exit (status: that connection's)")
	flag.Parse()
	cfg := krbap.AcceptorConfig{Keytab: *keytab, ReplayCache: *rcache}
	if flag.NArg() > 0 {
		cfg.Principal = flag.Arg(0) // "service@host"
	}
	acc, err := krbap.NewAcceptor(cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer acc.Close()
	ln, err := net.Listen("tcp", fmt.Sprintf(":%d", *port))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("starting...")
	for {
		conn, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		serve := func() error {
			defer conn.Close()
			res, err := gsssample.ServeWith(conn, acc, gsssample.ServerOptions{Logf: log.Printf, DelegCCache: *deleg})
			if err == nil {
				for _, m := range res.Messages {
					fmt.Printf("Received message: %q from %s\n", m, res.Client)
				}
			}
			return err
		}
		if *once {
			if err := serve(); err != nil {
				log.Print(err)
				os.Exit(1)
			}
			return
		}
		go func() {
			if err := serve(); err != nil {
				log.Print(err)
			}
		}()
	}
}
