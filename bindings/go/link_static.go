//go:build !krbap_shared

package krbap

// Static linking (the default): libkrbap.a goes into the Go binary, which then needs
// nothing of krbap at run time. The system libraries are those the Rust standard library
// needs (`make print-native-static-libs`). Where the archive is found: see link.go.

// #cgo LDFLAGS: -L${SRCDIR}/../../target/release -l:libkrbap.a -lgcc_s -lutil -lrt -lpthread -lm -ldl
import "C"

// Linkage is "static" or "shared": how this binary was linked against krbap.
const Linkage = "static"
