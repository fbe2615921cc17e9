package krbap

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The repository root (this module lives in bindings/go).
var repoRoot = func() string {
	r, err := filepath.Abs("../..")
	if err != nil {
		panic(err)
	}
	return r
}()

// capture is tests/data/mit-capture: MIT krb5 1.20 tokens with their keytab and ccache.
func capture(parts ...string) string {
	return filepath.Join(append([]string{repoRoot, "tests", "data", "mit-capture"}, parts...)...)
}

func readCapture(t testing.TB, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(capture(parts...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var captureTimeRe = regexp.MustCompile(`captured at unix time (\d+)`)

// captureTime is when case's tokens were made (its tickets are valid then).
func captureTime(t testing.TB, c string) time.Time {
	t.Helper()
	m := captureTimeRe.FindSubmatch(readCapture(t, c, "info.txt"))
	if m == nil {
		t.Fatalf("%s/info.txt: no capture time", c)
	}
	n, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return time.Unix(n, 0)
}

// The capture's cases; each names its service.
var captureCases = []struct{ name, service string }{
	{"mutual", "test@localhost"},
	{"nomutual", "test@localhost"},
	{"noconf", "test@localhost"},
	{"deleg", "test@localhost"},
	{"aes256-sha1", "test-aes256-sha1@localhost"},
	{"aes128-sha1", "test-aes128-sha1@localhost"},
	{"aes256-sha384", "test-aes256-sha384@localhost"},
	{"aes128-sha256", "test-aes128-sha256@localhost"},
	{"aes256-sha384-default-subkey", "test-aes256-sha384@localhost"},
}

// The four AES enctypes (RFC 3962, RFC 8009) and the capture services that force each.
var enctypeServices = []struct {
	enctype int32
	name    string
	service string
}{
	{18, "aes256-cts-hmac-sha1-96", "test-aes256-sha1@localhost"},
	{17, "aes128-cts-hmac-sha1-96", "test-aes128-sha1@localhost"},
	{20, "aes256-cts-hmac-sha384-192", "test-aes256-sha384@localhost"},
	{19, "aes128-cts-hmac-sha256-128", "test-aes128-sha256@localhost"},
}

func captureAcceptor(t testing.TB, at time.Time) *Acceptor {
	t.Helper()
	a, err := NewAcceptor(AcceptorConfig{Keytab: capture("service.keytab"), Time: at})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func captureInitiator(t testing.TB, at time.Time) *Initiator {
	t.Helper()
	// The ccache is copied: the initiator may store tickets it fetches.
	dir := t.TempDir()
	b := readCapture(t, "alice.ccache")
	cc := filepath.Join(dir, "alice.ccache")
	if err := os.WriteFile(cc, b, 0o600); err != nil {
		t.Fatal(err)
	}
	i, err := NewInitiator(InitiatorConfig{CCache: cc, Time: at})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { i.Close() })
	return i
}

// establish runs the exchange between ini and acc for service with opts.
func establish(t testing.TB, ini *Initiator, acc *Acceptor, service string, opts *InitOptions) (*Context, *Context) {
	t.Helper()
	ic, err := ini.NewContext(service, opts)
	if err != nil {
		t.Fatal(err)
	}
	tok, done, err := ic.Step(nil)
	if err != nil {
		t.Fatalf("init: %v", err)
	}
	ac, reply, err := acc.Accept(tok)
	if err != nil {
		t.Fatalf("accept: %v", err)
	}
	if !done {
		if len(reply) == 0 {
			t.Fatal("mutual authentication but no AP-REP")
		}
		out, done2, err := ic.Step(reply)
		if err != nil || !done2 || len(out) != 0 {
			t.Fatalf("init step 2: done=%v out=%d err=%v", done2, len(out), err)
		}
	} else if len(reply) != 0 {
		t.Fatalf("no mutual authentication but a %d-byte reply", len(reply))
	}
	t.Cleanup(func() { ic.Close(); ac.Close() })
	return ic, ac
}

// --- the MIT realm (tests/interop/realm.sh) --------------------------------------------

// realm is the environment of a running throwaway MIT realm, or nil.
var realm map[string]string
var realmWhy string // why there is none

// startRealm uses the realm tests/go.sh started (REALM_DIR in the environment) or starts
// one in dir with tests/interop/realm.sh when MIT's KDC is installed. It sets the
// process environment (KRB5_CONFIG, KRB5CCNAME, ...) for the library and MIT's programs.
func startRealm(dir string) (stop func()) {
	stop = func() {}
	envFile := ""
	if d := os.Getenv("REALM_DIR"); d != "" {
		envFile = filepath.Join(d, "env")
	} else {
		if _, err := exec.LookPath("krb5kdc"); err != nil {
			if _, err := os.Stat("/usr/sbin/krb5kdc"); err != nil {
				realmWhy = "MIT's krb5kdc is not installed (tests/go.sh installs it)"
				return
			}
		}
		script := filepath.Join(repoRoot, "tests", "interop", "realm.sh")
		out, err := exec.Command(script, "start", dir).CombinedOutput()
		if err != nil {
			realmWhy = fmt.Sprintf("realm.sh start: %v\n%s", err, out)
			return
		}
		stop = func() { _ = exec.Command(script, "stop", dir).Run() }
		envFile = filepath.Join(dir, "env")
	}
	out, err := exec.Command("bash", "-c", `set -e; . "$1"; env -0`, "bash", envFile).Output()
	if err != nil {
		realmWhy = fmt.Sprintf("reading %s: %v", envFile, err)
		return
	}
	realm = map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
		if i := bytes.IndexByte(data, 0); i >= 0 {
			return i + 1, data[:i], nil
		}
		if atEOF && len(data) > 0 {
			return len(data), data, nil
		}
		return 0, nil, nil
	})
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			continue
		}
		if strings.HasPrefix(k, "KRB5") || strings.HasPrefix(k, "REALM_") {
			realm[k] = v
			os.Setenv(k, v)
		}
	}
	os.Setenv("PATH", os.Getenv("PATH")+":/usr/sbin:/usr/bin")
	return stop
}

// needRealm skips t without a realm, or fails it when KRBAP_GO_REQUIRE_REALM=1 (as
// tests/go.sh sets, so that CI cannot pass by skipping).
func needRealm(t *testing.T) {
	t.Helper()
	if realm != nil {
		return
	}
	if os.Getenv("KRBAP_GO_REQUIRE_REALM") == "1" {
		t.Fatalf("no MIT realm: %s", realmWhy)
	}
	t.Skipf("no MIT realm: %s", realmWhy)
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "krbap-go-realm.")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	flag.Parse()
	stop := func() {}
	switch {
	case testing.Short():
		realmWhy = "-short"
	case flagSet("test.fuzz") || flagSet("test.fuzzworker"):
		realmWhy = "fuzzing (the fuzz target needs no realm)"
	default:
		stop = startRealm(dir)
	}
	code := m.Run()
	stop()
	os.RemoveAll(dir)
	os.Exit(code)
}

func flagSet(name string) bool {
	f := flag.Lookup(name)
	return f != nil && f.Value.String() != "" && f.Value.String() != "false"
}
