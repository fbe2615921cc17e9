// gss-client: a krbap client speaking the protocol of MIT krb5's gss-client
// (src/appl/gss-sample), so that it can talk to MIT's gss-server (and krbap's).
//
//	gss-client [-port 4444] [-ccache FILE] [-nomutual] [-spnego] [-d] [-nw] [-nx] [-nm] host service@host msg
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"strconv"

	krbap "github.com/krbap/krbap/bindings/go"
	"github.com/krbap/krbap/bindings/go/internal/gsssample"
)

func main() {
	port := flag.Int("port", 4444, "TCP port")
	ccache := flag.String("ccache", "", "ccache (default: KRB5CCNAME)")
	nomutual := flag.Bool("nomutual", false, "no mutual authentication")
	spnego := flag.Bool("spnego", false, "SPNEGO around the Kerberos token (as gss-client -spnego)")
	deleg := flag.Bool("d", false, "delegate credentials")
	nw := flag.Bool("nw", false, "send the message unwrapped")
	nx := flag.Bool("nx", false, "wrap without confidentiality")
	nm := flag.Bool("nm", false, "ask for no MIC")
	flag.Parse()
	if flag.NArg() != 3 {
		log.Fatal("usage: gss-client [options] host service@host msg")
	}
	ini, err := krbap.NewInitiator(krbap.InitiatorConfig{CCache: *ccache})
	if err != nil {
		log.Fatal(err)
	}
	defer ini.Close()
	conn, err := net.Dial("tcp", net.JoinHostPort(flag.Arg(0), strconv.Itoa(*port)))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	flags := krbap.DefaultFlags
	if *nomutual {
		flags &^= krbap.FlagMutual
	}
	if *deleg {
		flags |= krbap.FlagDelegate
	}
	mech := krbap.MechKRB5
	if *spnego {
		mech = krbap.MechSPNEGO
	}
	res, err := gsssample.Client(conn, ini, gsssample.ClientOptions{
		Service: flag.Arg(1), Flags: flags, Mech: mech, Wrap: !*nw, Encrypt: !*nx, MIC: !*nm,
		Messages: [][]byte{[]byte(flag.Arg(2))},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("mechanism %v, context flags %v, session enctype %d\n", res.Mech, res.Flags, res.Enctype)
	if res.MICs > 0 {
		fmt.Println("Signature verified.")
	}
}
