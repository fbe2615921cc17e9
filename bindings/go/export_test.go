package krbap

import "testing"

// For the external tests (package krbap_test): the realm TestMain started.

// RealmEnv is the running MIT realm's environment (REALM_*, KRB5_*), or nil.
func RealmEnv() map[string]string { return realm }

// NeedRealm skips (or under KRBAP_GO_REQUIRE_REALM=1 fails) a test without a realm.
func NeedRealm(t *testing.T) { needRealm(t) }

// RepoRoot is the repository checkout this module lives in.
func RepoRoot() string { return repoRoot }
