//go:build krbap_shared

package krbap

// With `-tags krbap_shared`: linked against libkrbap.so, found at run time through the
// rpath of a repository checkout's target/release or the system's library path (e.g.
// /usr/local/lib after `make install` and ldconfig).

// #cgo LDFLAGS: -L${SRCDIR}/../../target/release -Wl,-rpath,${SRCDIR}/../../target/release -lkrbap
import "C"

// Linkage is "static" or "shared": how this binary was linked against krbap.
const Linkage = "shared"
