package krbap

// #include <stdlib.h>
// #include "shim.h"
import "C"

import (
	"strings"
	"unsafe"
)

// HTTP Negotiate (RFC 4559) header values, built and parsed by the library's helpers
// (krbap_http_*): the scheme is matched case-insensitively, whitespace follows RFC 7235,
// the token is strict RFC 4648 base64 of at most MaxHTTPToken bytes.

// MaxHTTPToken is the largest token (decoded) a Negotiate header may carry (64 KiB).
const MaxHTTPToken = C.KRBAP_HTTP_MAX_TOKEN

// MaxHTTPHeader is the longest header value the parsers read: the base64 of the largest
// token plus 1 KiB.
const MaxHTTPHeader = C.KRBAP_HTTP_MAX_HEADER

// ParseAuthorization returns the GSS token of an Authorization (or Proxy-Authorization)
// value "Negotiate <base64>", for Accept. Another scheme (Basic, NTLM) or an empty value
// is an *Error with StatusBadMech, to be answered with a Negotiate challenge; a malformed
// or bare "Negotiate" is StatusDefectiveToken with the reason.
func ParseAuthorization(value string) ([]byte, error) {
	return parseHeader("parse Authorization", value, false)
}

// ParseWWWAuthenticate returns the token of the Negotiate challenge in a WWW-Authenticate
// value, which may list several challenges ("Basic realm=\"x\", Negotiate oQcw..."): an
// empty token for a bare "Negotiate". No Negotiate challenge is StatusBadMech. A response
// may carry several WWW-Authenticate fields: call it for each.
func ParseWWWAuthenticate(value string) ([]byte, error) {
	return parseHeader("parse WWW-Authenticate", value, true)
}

func parseHeader(op, value string, challenge bool) ([]byte, error) {
	// C reads the value up to its NUL: a value holding one would be read shorter than it
	// is, and a longer one than the library reads is refused as the library would.
	if strings.IndexByte(value, 0) >= 0 {
		return nil, &Error{Op: op, Major: StatusDefectiveToken, Message: "the header value contains a NUL byte"}
	}
	if len(value) > MaxHTTPHeader {
		return nil, &Error{Op: op, Major: StatusDefectiveToken,
			Message: "the header value is longer than the largest token's base64 allows"}
	}
	s := C.CString(value)
	defer C.free(unsafe.Pointer(s))
	var tok C.krbap_buffer
	_, err := call(op, func(m *C.uint32_t) C.uint32_t {
		if challenge {
			return C.krbap_http_parse_www_authenticate(m, s, &tok)
		}
		return C.krbap_http_parse_authorization(m, s, &tok)
	})
	out := takeBytes(&tok)
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []byte{}
	}
	return out, nil
}

// WWWAuthenticate is the value of a WWW-Authenticate (or Proxy-Authenticate) header for
// a server's token: "Negotiate" for none (the first challenge), else
// "Negotiate <base64>" (a continuation token on a 401, or the final token on the 200).
func WWWAuthenticate(token []byte) (string, error) {
	var v C.krbap_buffer
	_, err := call("WWW-Authenticate", func(m *C.uint32_t) C.uint32_t {
		return C.kg_http_www_authenticate(m, bytesPtr(token), C.size_t(len(token)), &v)
	})
	s := takeString(&v)
	return s, err
}

// Authorization is the value of an Authorization header for a client's token:
// "Negotiate <base64>". The token must be neither empty nor longer than MaxHTTPToken.
func Authorization(token []byte) (string, error) {
	var v C.krbap_buffer
	_, err := call("Authorization", func(m *C.uint32_t) C.uint32_t {
		return C.kg_http_authorization(m, bytesPtr(token), C.size_t(len(token)), &v)
	})
	s := takeString(&v)
	return s, err
}
