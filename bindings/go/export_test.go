package krbap

import "testing"

// For the external tests (package krbap_test): the realm TestMain started.

// RealmEnv is the running MIT realm's environment (REALM_*, KRB5_*), or nil.
func RealmEnv() map[string]string { return realm }

// NeedRealm skips (or under KRBAP_GO_REQUIRE_REALM=1 fails) a test without a realm.
func NeedRealm(t *testing.T) { needRealm(t) }

// RepoRoot is the repository checkout this module lives in.
func RepoRoot() string { return repoRoot }

// RealmAcceptor is an Acceptor on the realm's service keytab (after NeedRealm), closed
// when the test ends.
func RealmAcceptor(t *testing.T) *Acceptor {
	t.Helper()
	needRealm(t)
	acc, err := NewAcceptor(AcceptorConfig{Keytab: realm["REALM_SERVICE_KEYTAB"]})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { acc.Close() })
	return acc
}

// RealmInitiator is an Initiator on alice's default ccache of the realm (after
// NeedRealm), closed when the test ends.
func RealmInitiator(t *testing.T) *Initiator {
	t.Helper()
	needRealm(t)
	ini, err := NewInitiator(InitiatorConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ini.Close() })
	return ini
}
