// hello-client: the README's client for hello-server.
package main

import (
	"encoding/base64"
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
	ctx, err := ini.NewContext(os.Args[2], &krbap.InitOptions{Flags: krbap.FlagReplay}) // "HTTP@host"
	if err != nil {
		panic(err)
	}
	tok, _, err := ctx.Step(nil)
	if err != nil {
		panic(err)
	}
	req, _ := http.NewRequest("GET", os.Args[1], nil) // "http://host:8080/"
	req.Header.Set("Authorization", "Negotiate "+base64.StdEncoding.EncodeToString(tok))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(resp.Body)
	fmt.Printf("%s: %s", resp.Status, body)
}
