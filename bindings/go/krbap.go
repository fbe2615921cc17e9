// Package krbap is the Go interface to krbap, a Kerberos V5 AP-exchange library
// (RFC 4120 §3.2 in the GSS-API krb5 mechanism, RFC 4121) written in Rust, through its
// C ABI (include/krbap.h). It holds no protocol logic: every check is the library's.
//
// A server makes one Acceptor (keytab, replay cache, clock skew) and calls Accept for
// each client's initial token; a client makes an Initiator (ccache, client keytab) and
// steps a Context until it is established. Either side then protects messages with
// Wrap/Unwrap and GetMIC/VerifyMIC.
//
// Failures are *Error values carrying the GSS major status, MIT's minor code, its
// symbolic name (e.g. KRB5KRB_AP_ERR_SKEW) and text; errors.Is matches them against
// ErrReplay, ErrClockSkew, ErrExpired, ErrBadIntegrity, ErrNoKey, ErrNoCredentials and
// ErrDefectiveToken.
//
// An Acceptor and an Initiator may be used by many goroutines at once. A Context
// serializes its own calls. Everything has a Close method; a finalizer releases what
// was not closed.
//
// Linking: libkrbap.a by default (one self-contained binary); with the build tag
// krbap_shared, libkrbap.so. The header and library are looked up in the repository
// checkout this package lives in (include/, target/release/ after `make`), then in the
// compiler's default paths (/usr/local after `make install`); CGO_CFLAGS and
// CGO_LDFLAGS (e.g. from `pkg-config --cflags --libs-only-L krbap`) point elsewhere.
package krbap

// #cgo CFLAGS: -I${SRCDIR}/../../include
// #include <stdlib.h>
// #include "shim.h"
import "C"

// Version is the version of the linked krbap library.
func Version() string { return C.GoString(C.krbap_version()) }
