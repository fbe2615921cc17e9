// hello-server: HTTP Negotiate with a raw Kerberos token, the README's server.
package main

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"strings"

	krbap "github.com/krbap/krbap/bindings/go"
)

func main() {
	acc, err := krbap.NewAcceptor(krbap.AcceptorConfig{}) // keytab: KRB5_KTNAME
	if err != nil {
		panic(err)
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		tok, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(r.Header.Get("Authorization"), "Negotiate "))
		ctx, _, err := acc.Accept(tok)
		if err != nil {
			w.Header().Set("WWW-Authenticate", "Negotiate")
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		defer ctx.Close()
		fmt.Fprintf(w, "hello %s\n", ctx.ClientName())
	})
	panic(http.ListenAndServe(os.Args[1], nil)) // e.g. ":8080"
}
