package krbap

// #include "shim.h"
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"unsafe"
)

// Major status bits (RFC 2744 GSS_S_*, krbap.h KRBAP_S_*).
const (
	StatusComplete       = uint32(C.KRBAP_S_COMPLETE)
	StatusContinueNeeded = uint32(C.KRBAP_S_CONTINUE_NEEDED)
	StatusDuplicateToken = uint32(C.KRBAP_S_DUPLICATE_TOKEN)
	StatusOldToken       = uint32(C.KRBAP_S_OLD_TOKEN)
	StatusUnseqToken     = uint32(C.KRBAP_S_UNSEQ_TOKEN)
	StatusGapToken       = uint32(C.KRBAP_S_GAP_TOKEN)

	StatusBadMech             = uint32(C.KRBAP_S_BAD_MECH)
	StatusBadName             = uint32(C.KRBAP_S_BAD_NAME)
	StatusBadNameType         = uint32(C.KRBAP_S_BAD_NAMETYPE)
	StatusBadBindings         = uint32(C.KRBAP_S_BAD_BINDINGS)
	StatusBadStatus           = uint32(C.KRBAP_S_BAD_STATUS)
	StatusBadSig              = uint32(C.KRBAP_S_BAD_SIG)
	StatusNoCred              = uint32(C.KRBAP_S_NO_CRED)
	StatusNoContext           = uint32(C.KRBAP_S_NO_CONTEXT)
	StatusDefectiveToken      = uint32(C.KRBAP_S_DEFECTIVE_TOKEN)
	StatusDefectiveCredential = uint32(C.KRBAP_S_DEFECTIVE_CREDENTIAL)
	StatusCredentialsExpired  = uint32(C.KRBAP_S_CREDENTIALS_EXPIRED)
	StatusContextExpired      = uint32(C.KRBAP_S_CONTEXT_EXPIRED)
	StatusFailure             = uint32(C.KRBAP_S_FAILURE)
	StatusBadQOP              = uint32(C.KRBAP_S_BAD_QOP)
	StatusUnauthorized        = uint32(C.KRBAP_S_UNAUTHORIZED)
	StatusUnavailable         = uint32(C.KRBAP_S_UNAVAILABLE)
	StatusDuplicateElement    = uint32(C.KRBAP_S_DUPLICATE_ELEMENT)

	// RoutineErrorMask and CallingErrorMask select the error parts of a major status
	// (RFC 2744 §3.9.1); SupplementaryMask the informatory bits.
	RoutineErrorMask  = uint32(0xff << 16)
	CallingErrorMask  = uint32(0xff << 24)
	SupplementaryMask = uint32(0xffff)
)

// Sentinels for errors.Is. Each matches a family of *Error values by MIT's minor code
// name or by the GSS major status; see (*Error).Is.
var (
	// ErrReplay: the authenticator or per-message token was seen before
	// (KRB5KRB_AP_ERR_REPEAT, or the DUPLICATE_TOKEN status bit).
	ErrReplay = errors.New("krbap: replayed token")
	// ErrClockSkew: the peer's clock differs by more than the allowed skew
	// (KRB5KRB_AP_ERR_SKEW, KRB5_KDCREP_SKEW).
	ErrClockSkew = errors.New("krbap: clock skew too great")
	// ErrExpired: the ticket, credential or context has expired
	// (KRB5KRB_AP_ERR_TKT_EXPIRED, CREDENTIALS_EXPIRED, CONTEXT_EXPIRED).
	ErrExpired = errors.New("krbap: expired")
	// ErrBadIntegrity: a ticket, authenticator or message failed its integrity check
	// (KRB5KRB_AP_ERR_BAD_INTEGRITY, BAD_SIG).
	ErrBadIntegrity = errors.New("krbap: integrity check failed")
	// ErrNoKey: the acceptor has no key for the ticket's service, kvno or enctype
	// (KRB5KRB_AP_ERR_NOT_US, _BADKEYVER, _NOKEY).
	ErrNoKey = errors.New("krbap: no key for the ticket")
	// ErrNoCredentials: no usable credentials (NO_CRED; a missing ccache, keytab or
	// TGT).
	ErrNoCredentials = errors.New("krbap: no credentials")
	// ErrDefectiveToken: the token is malformed (DEFECTIVE_TOKEN).
	ErrDefectiveToken = errors.New("krbap: defective token")
)

// Error is a failed krbap call: the GSS major status, MIT's minor status and their
// texts. It matches the sentinels above with errors.Is.
type Error struct {
	Op      string // the operation, e.g. "accept", "unwrap"
	Major   uint32 // GSS major status (StatusFailure, StatusDefectiveToken, ... plus bits)
	Minor   uint32 // MIT com_err code as MIT's OM_uint32 (e.g. 0x96c73a25 = KRB5KRB_AP_ERR_SKEW)
	Name    string // MIT's name of the minor code, e.g. "KRB5KRB_AP_ERR_SKEW" ("" if none)
	Message string // MIT's text of the minor code and krbap's detail, e.g. "Clock skew too great (skew 421 s, allowed 300 s)"
}

// Routine is the routine-error part of the major status (e.g. StatusFailure).
func (e *Error) Routine() uint32 { return e.Major & RoutineErrorMask }

// MajorMessage is the GSS text of the major status ("Unspecified GSS failure. ...").
func (e *Error) MajorMessage() string { return majorText(e.Major) }

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("krbap: ")
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	if e.Message != "" && e.Minor != 0 {
		b.WriteString(e.Message)
	} else {
		b.WriteString(majorText(e.Major))
	}
	if e.Name != "" {
		fmt.Fprintf(&b, " [%s]", e.Name)
	}
	return b.String()
}

// Is reports whether e belongs to the family of one of the sentinels.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrReplay:
		return e.Name == "KRB5KRB_AP_ERR_REPEAT" || e.Major&StatusDuplicateToken != 0
	case ErrClockSkew:
		return e.Name == "KRB5KRB_AP_ERR_SKEW" || e.Name == "KRB5_KDCREP_SKEW"
	case ErrExpired:
		r := e.Routine()
		return e.Name == "KRB5KRB_AP_ERR_TKT_EXPIRED" || r == StatusCredentialsExpired ||
			r == StatusContextExpired
	case ErrBadIntegrity:
		return e.Name == "KRB5KRB_AP_ERR_BAD_INTEGRITY" || e.Routine() == StatusBadSig
	case ErrNoKey:
		return e.Name == "KRB5KRB_AP_ERR_NOT_US" || e.Name == "KRB5KRB_AP_ERR_BADKEYVER" ||
			e.Name == "KRB5KRB_AP_ERR_NOKEY"
	case ErrNoCredentials:
		return e.Routine() == StatusNoCred
	case ErrDefectiveToken:
		return e.Routine() == StatusDefectiveToken
	}
	return false
}

// isError is RFC 2744 GSS_ERROR: a calling or routine error.
func isError(major C.uint32_t) bool {
	return uint32(major)&(RoutineErrorMask|CallingErrorMask) != 0
}

// statusError builds the *Error for a failed call. It must run on the OS thread of the
// call (the caller holds runtime.LockOSThread): the library keeps the detail of the
// last failure per thread, as MIT does.
func statusError(op string, major, minor C.uint32_t) *Error {
	e := &Error{Op: op, Major: uint32(major), Minor: uint32(minor)}
	if minor != 0 {
		var m C.uint32_t
		var msgCtx C.uint32_t
		var buf C.krbap_buffer
		if C.krbap_display_status(&m, minor, C.KRBAP_C_MECH_CODE, &msgCtx, &buf) == 0 {
			e.Message = takeString(&buf)
		}
		if name := C.krbap_minor_status_name(minor); name != nil {
			e.Name = C.GoString(name) // static, not freed
		}
	}
	return e
}

// majorText joins the GSS messages of a major status.
func majorText(major uint32) string {
	var parts []string
	var msgCtx C.uint32_t
	for i := 0; i < 8; i++ {
		var m C.uint32_t
		var buf C.krbap_buffer
		if C.krbap_display_status(&m, C.uint32_t(major), C.KRBAP_C_GSS_CODE, &msgCtx, &buf) != 0 {
			break
		}
		parts = append(parts, takeString(&buf))
		if msgCtx == 0 {
			break
		}
	}
	return strings.Join(parts, "; ")
}

// call runs one krbap call with the goroutine wired to its OS thread, so that a
// failure's detail is read on the thread that recorded it.
func call(op string, f func(minor *C.uint32_t) C.uint32_t) (C.uint32_t, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var minor C.uint32_t
	major := f(&minor)
	if isError(major) {
		return major, statusError(op, major, minor)
	}
	return major, nil
}

// takeBytes copies a library-owned buffer into Go memory and frees (wipes) it.
func takeBytes(b *C.krbap_buffer) []byte {
	if b.value == nil || b.length == 0 {
		freeBuffer(b)
		return nil
	}
	out := C.GoBytes(b.value, C.int(b.length))
	freeBuffer(b)
	return out
}

func takeString(b *C.krbap_buffer) string {
	if b.value == nil || b.length == 0 {
		freeBuffer(b)
		return ""
	}
	s := C.GoStringN((*C.char)(b.value), C.int(b.length))
	freeBuffer(b)
	return s
}

func freeBuffer(b *C.krbap_buffer) {
	var m C.uint32_t
	C.krbap_buffer_free(&m, b)
}

// bytesPtr is the address of b's first byte, or nil for an empty slice. Passed directly
// as a cgo argument, it keeps b alive for the call (cgo rules: a Go pointer to memory
// without Go pointers).
func bytesPtr(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(&b[0])
}
