// hello-client: the README's client; HTTP Negotiate (SPNEGO) to hello-server or any such server.
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"

	krbap "github.com/krbap/krbap/bindings/go"
)

func main() {
	ini, err := krbap.NewInitiator(krbap.InitiatorConfig{}) // ccache: KRB5CCNAME (kinit)
	if err != nil {
		panic(err)
	}
	// Asks for HTTP@<host of the URL> and verifies the server's final token.
	client := &http.Client{Transport: &krbap.Transport{Initiator: ini}}
	resp, err := client.Get(os.Args[1]) // e.g. "http://www.example.com:8080/"
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(resp.Body)
	fmt.Printf("%s: %s", resp.Status, body)
}
