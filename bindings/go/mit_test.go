package krbap_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	krbap "github.com/krbap/krbap/bindings/go"
	"github.com/krbap/krbap/bindings/go/internal/gsssample"
)

// The realm's services (tests/interop/realm.sh) and the session enctype each forces
// (0: the KDC's choice, aes256-sha1).
var realmServices = []struct {
	service string
	enctype int32
}{
	{"test@localhost", 18},
	{"test-aes256-sha1@localhost", 18},
	{"test-aes128-sha1@localhost", 17},
	{"test-aes256-sha384@localhost", 20},
	{"test-aes128-sha256@localhost", 19},
}

// MIT's gss-client → the Go gss-sample server (this package's acceptor), every service
// and so every enctype; mutual and not, Wrap with and without confidentiality and in the
// clear, the MIC back verified by MIT.
func TestMITClientToGoServer(t *testing.T) {
	krbap.NeedRealm(t)
	env := krbap.RealmEnv()
	acc, err := krbap.NewAcceptor(krbap.AcceptorConfig{Keytab: env["REALM_SERVICE_KEYTAB"]})
	if err != nil {
		t.Fatal(err)
	}
	defer acc.Close()
	type variant struct {
		opts     []string
		mutual   bool
		wrapped  bool
		conf     bool
		services []int
	}
	all := []int{0, 1, 2, 3, 4}
	variants := []variant{
		{nil, true, true, true, all},
		{[]string{"-nomutual"}, false, true, true, all},
		{[]string{"-nx"}, true, true, false, []int{0, 4}},
		{[]string{"-nw"}, true, false, false, []int{0, 4}},
		// SPNEGO around the krb5 token (MIT's mechglue): the acceptor tells it by itself.
		{[]string{"-spnego"}, true, true, true, all},
		{[]string{"-spnego", "-nomutual"}, false, true, true, []int{0, 4}},
	}
	for _, v := range variants {
		for _, si := range v.services {
			s := realmServices[si]
			t.Run(fmt.Sprintf("%s%v", s.service, v.opts), func(t *testing.T) {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				defer ln.Close()
				type result struct {
					res *gsssample.ServerResult
					err error
				}
				done := make(chan result, 1)
				go func() {
					c, err := ln.Accept()
					if err != nil {
						done <- result{nil, err}
						return
					}
					defer c.Close()
					r, err := gsssample.Serve(c, acc, t.Logf)
					done <- result{r, err}
				}()
				msg := "hello from MIT to Go via " + s.service
				port := fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
				args := append(append([]string{"-port", port}, v.opts...), "127.0.0.1", s.service, msg)
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				out, err := exec.CommandContext(ctx, "gss-client", args...).CombinedOutput()
				if err != nil {
					t.Fatalf("gss-client %v: %v\n%s", args, err, out)
				}
				r := <-done
				if r.err != nil {
					t.Fatalf("server: %v\ngss-client:\n%s", r.err, out)
				}
				if !bytes.Contains(out, []byte("Signature verified.")) {
					t.Errorf("gss-client did not verify the MIC:\n%s", out)
				}
				if r.res.Client != "alice@TEST.LOCAL" || r.res.Enctype != s.enctype {
					t.Errorf("client %q enctype %d, want alice@TEST.LOCAL %d", r.res.Client, r.res.Enctype, s.enctype)
				}
				if (r.res.Flags&krbap.FlagMutual != 0) != v.mutual {
					t.Errorf("flags %v, mutual %v", r.res.Flags, v.mutual)
				}
				if len(r.res.Messages) != 1 || string(r.res.Messages[0]) != msg || r.res.Conf[0] != v.conf {
					t.Errorf("messages %q conf %v", r.res.Messages, r.res.Conf)
				}
				wantMech := krbap.MechKRB5
				if len(v.opts) > 0 && v.opts[0] == "-spnego" {
					wantMech = krbap.MechSPNEGO
				}
				if r.res.Mech != wantMech {
					t.Errorf("mechanism %v, want %v", r.res.Mech, wantMech)
				}
			})
		}
	}
}

// The Go gss-sample client (this package's initiator, from alice's TGT: it fetches the
// service tickets from the KDC) → MIT's gss-server, every service; MIT verifies the
// Wrap tokens and the client verifies MIT's MIC.
func TestGoClientToMITServer(t *testing.T) {
	krbap.NeedRealm(t)
	ini, err := krbap.NewInitiator(krbap.InitiatorConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer ini.Close()
	for _, s := range realmServices {
		for _, v := range []struct {
			name  string
			flags krbap.Flags
			conf  bool
			mech  krbap.Mechanism
		}{{"mutual", krbap.DefaultFlags, true, krbap.MechKRB5},
			{"nomutual", krbap.FlagReplay | krbap.FlagSequence, true, krbap.MechKRB5},
			{"integrity-only", krbap.DefaultFlags, false, krbap.MechKRB5},
			// SPNEGO: MIT's gss-server (mechglue) answers with its NegTokenResp.
			{"spnego-mutual", krbap.DefaultFlags, true, krbap.MechSPNEGO},
			{"spnego-nomutual", krbap.FlagReplay | krbap.FlagSequence, true, krbap.MechSPNEGO}} {
			t.Run(s.service+"/"+v.name, func(t *testing.T) {
				msg := "hello from Go to MIT via " + s.service
				port, logs, stop := startMITServer(t, "-once", s.service)
				defer stop()
				c, err := net.Dial("tcp", "127.0.0.1:"+port)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				res, err := gsssample.Client(c, ini, gsssample.ClientOptions{Service: s.service,
					Flags: v.flags, Mech: v.mech, Wrap: true, Encrypt: v.conf, MIC: true, Messages: [][]byte{[]byte(msg)}})
				if err != nil {
					t.Fatalf("client: %v\ngss-server:\n%s", err, logs())
				}
				out := waitLogs(logs, msg)
				if res.MICs != 1 || res.Enctype != s.enctype || res.Mech != v.mech {
					t.Errorf("MICs %d enctype %d mech %v, want 1, %d and %v", res.MICs, res.Enctype, res.Mech, s.enctype, v.mech)
				}
				if !strings.Contains(out, `Accepted connection: "alice@TEST.LOCAL"`) ||
					!strings.Contains(out, `Received message: "`+msg+`"`) {
					t.Errorf("gss-server did not accept the client and message:\n%s", out)
				}
				if strings.Contains(out, "Warning") {
					t.Errorf("gss-server warned:\n%s", out)
				}
			})
		}
	}
}

// startMITServer runs MIT's gss-server on a free port until it prints "starting...".
func startMITServer(t *testing.T, args ...string) (port string, logs func() string, stop func()) {
	t.Helper()
	var last string
	for attempt := 0; attempt < 5; attempt++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port = fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
		ln.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		cmd := exec.CommandContext(ctx, "gss-server", append([]string{"-port", port}, args...)...)
		var buf syncBuffer
		// One pipe for stdout and stderr (gss-server says "starting..." on stderr), read
		// to its end here: exec's own pipes would be closed by Wait, losing the tail.
		stdout, pw, err := os.Pipe()
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		cmd.Stdout, cmd.Stderr = pw, pw
		err = cmd.Start()
		pw.Close()
		if err != nil {
			stdout.Close()
			cancel()
			t.Fatal(err)
		}
		started := make(chan bool, 1)
		go func() {
			sc := bufio.NewScanner(stdout)
			ok := false
			for sc.Scan() {
				buf.Write(append(sc.Bytes(), '\n'))
				if !ok && strings.HasPrefix(sc.Text(), "starting...") {
					ok = true
					started <- true
				}
			}
			stdout.Close()
			if !ok {
				started <- false
			}
		}()
		waited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(waited) }()
		select {
		case ok := <-started:
			if ok {
				return port, buf.String, func() { cancel(); <-waited }
			}
		case <-time.After(10 * time.Second):
		}
		cancel()
		<-waited
		last = buf.String()
	}
	t.Fatalf("MIT gss-server did not start:\n%s", last)
	return
}

// waitLogs waits (briefly) until the server's output shows want.
func waitLogs(logs func() string, want string) string {
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs(), want) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	return logs()
}

// MIT's gss-client -d → the Go server: the forwarded TGT is stored in a ccache that
// MIT's klist lists and MIT's kvno uses.
func TestMITDelegationToGoServer(t *testing.T) {
	acc := krbap.RealmAcceptor(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cc := t.TempDir() + "/deleg.ccache"
	done := make(chan error, 1)
	var res *gsssample.ServerResult
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		res, err = gsssample.ServeWith(c, acc, gsssample.ServerOptions{Logf: t.Logf, DelegCCache: cc})
		done <- err
	}()
	port := fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
	out, err := exec.Command("gss-client", "-port", port, "-d", "127.0.0.1", "test@localhost", "delegating").CombinedOutput()
	if err != nil {
		t.Fatalf("gss-client -d: %v\n%s", err, out)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !res.Delegated || res.Flags&krbap.FlagDelegate == 0 {
		t.Fatalf("no delegation: flags %v", res.Flags)
	}
	klist, err := exec.Command("klist", "-c", cc).CombinedOutput()
	if err != nil || !bytes.Contains(klist, []byte("krbtgt/TEST.LOCAL@TEST.LOCAL")) ||
		!bytes.Contains(klist, []byte("alice@TEST.LOCAL")) {
		t.Fatalf("MIT klist of the stored ccache: %v\n%s", err, klist)
	}
	kvno := exec.Command("kvno", "-c", cc, "test/localhost@TEST.LOCAL")
	if out, err := kvno.CombinedOutput(); err != nil || !bytes.Contains(out, []byte("kvno = 1")) {
		t.Errorf("MIT kvno with the delegated TGT: %v\n%s", err, out)
	}
}
