// hello-server: the README's server; HTTP Negotiate for curl --negotiate, browsers and hello-client.
package main

import (
	"fmt"
	"net/http"
	"os"

	krbap "github.com/krbap/krbap/bindings/go"
)

func main() {
	acc, err := krbap.NewAcceptor(krbap.AcceptorConfig{}) // keytab: KRB5_KTNAME (HTTP/host)
	if err != nil {
		panic(err)
	}
	neg := krbap.NewNegotiate(acc, nil) // 401 challenge, SPNEGO or raw krb5, the final token
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := krbap.IdentityFromContext(r.Context())
		fmt.Fprintf(w, "hello %s\n", id.Principal)
	})
	srv := &http.Server{Addr: os.Args[1], Handler: neg.Wrap(hello)} // e.g. ":8080"
	neg.Attach(srv)                                                 // multi-leg SPNEGO follows its connection
	panic(srv.ListenAndServe())
}
