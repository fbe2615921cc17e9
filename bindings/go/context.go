package krbap

// #include <stdlib.h>
// #include "shim.h"
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Flags are GSS context flags (RFC 2744 GSS_C_*_FLAG, krbap.h KRBAP_C_*_FLAG).
type Flags uint32

const (
	FlagDelegate  Flags = C.KRBAP_C_DELEG_FLAG
	FlagMutual    Flags = C.KRBAP_C_MUTUAL_FLAG
	FlagReplay    Flags = C.KRBAP_C_REPLAY_FLAG
	FlagSequence  Flags = C.KRBAP_C_SEQUENCE_FLAG
	FlagConf      Flags = C.KRBAP_C_CONF_FLAG
	FlagInteg     Flags = C.KRBAP_C_INTEG_FLAG
	FlagAnon      Flags = C.KRBAP_C_ANON_FLAG
	FlagProtReady Flags = C.KRBAP_C_PROT_READY_FLAG
	FlagTrans     Flags = C.KRBAP_C_TRANS_FLAG
)

// DefaultFlags are the flags NewContext asks for when given no options: mutual
// authentication, replay and sequence detection (MIT gss-client's default).
const DefaultFlags = FlagMutual | FlagReplay | FlagSequence

var flagNames = []struct {
	f    Flags
	name string
}{
	{FlagDelegate, "DELEG"}, {FlagMutual, "MUTUAL"}, {FlagReplay, "REPLAY"},
	{FlagSequence, "SEQUENCE"}, {FlagConf, "CONF"}, {FlagInteg, "INTEG"},
	{FlagAnon, "ANON"}, {FlagProtReady, "PROT_READY"}, {FlagTrans, "TRANS"},
}

func (f Flags) String() string {
	var parts []string
	for _, n := range flagNames {
		if f&n.f != 0 {
			parts = append(parts, n.name)
			f &^= n.f
		}
	}
	if f != 0 {
		parts = append(parts, fmt.Sprintf("%#x", uint32(f)))
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, "|")
}

// ChannelBindings are RFC 2744 channel bindings (e.g. RFC 5929 tls-server-end-point
// data in ApplicationData). Both sides must give the same.
type ChannelBindings struct {
	InitiatorAddrType uint32
	InitiatorAddress  []byte
	AcceptorAddrType  uint32
	AcceptorAddress   []byte
	ApplicationData   []byte
}

// cBindings is a krbap_channel_bindings whose buffers are in C memory.
type cBindings struct{ cb C.krbap_channel_bindings }

func newBindings(b *ChannelBindings) *cBindings {
	if b == nil {
		return nil
	}
	c := &cBindings{}
	c.cb.initiator_addrtype = C.uint32_t(b.InitiatorAddrType)
	c.cb.initiator_address = cBuffer(b.InitiatorAddress)
	c.cb.acceptor_addrtype = C.uint32_t(b.AcceptorAddrType)
	c.cb.acceptor_address = cBuffer(b.AcceptorAddress)
	c.cb.application_data = cBuffer(b.ApplicationData)
	return c
}

func (c *cBindings) ptr() *C.krbap_channel_bindings {
	if c == nil {
		return nil
	}
	return &c.cb
}

func (c *cBindings) free() {
	if c == nil {
		return
	}
	C.free(c.cb.initiator_address.value)
	C.free(c.cb.acceptor_address.value)
	C.free(c.cb.application_data.value)
}

func cBuffer(b []byte) C.krbap_buffer {
	if len(b) == 0 {
		return C.krbap_buffer{}
	}
	return C.krbap_buffer{length: C.size_t(len(b)), value: C.CBytes(b)}
}

// Context is a security context: accepted by an Acceptor, or initiated with an
// Initiator and stepped until established. Its methods may be called from several
// goroutines; they are serialized.
type Context struct {
	mu        sync.Mutex
	ctx       *C.krbap_ctx
	initiator bool
	done      bool

	// initiator side
	ini      *Initiator
	target   *C.krbap_name
	mech     Mechanism
	reqFlags Flags
	bindings *ChannelBindings

	// accepted side
	acc       *Acceptor // for the next round of a multi-round accept
	client    string
	delegated *C.krbap_cred

	flags   Flags
	timeRec uint32
}

// Accept verifies a client's initial token (KRB_AP_REQ in a GSS token). On success it
// returns the context and the token to send back (the AP-REP when the client asked for
// mutual authentication, else nil). On failure it returns an *Error and, when the
// library made one, a KRB-ERROR token that may be sent to the client so that it learns
// why (as MIT's servers do; for SPNEGO a reject token). Raw krb5 and SPNEGO tokens are
// both accepted, told apart by the token itself. SPNEGO may need more than one round
// (when Kerberos was not the client's first choice, or a mechListMIC exchange is
// pending): the Context is then not yet Established and the token is the answer to send;
// give the client's next token to the Context's Step. With SPNEGO the token is to be
// sent also on success (accept-completed, with the AP-REP inside when the client asked
// for mutual authentication).
func (a *Acceptor) Accept(token []byte) (*Context, []byte, error) {
	return a.AcceptWithBindings(token, nil)
}

// AcceptWithBindings is Accept with channel bindings that the client's must match.
func (a *Acceptor) AcceptWithBindings(token []byte, bindings *ChannelBindings) (*Context, []byte, error) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.cred == nil {
		return nil, nil, ErrClosed
	}
	cb := newBindings(bindings)
	defer cb.free()
	var (
		ctx      *C.krbap_ctx
		src      *C.krbap_name
		retFlags C.uint32_t
		timeRec  C.uint32_t
		out      C.krbap_buffer
		deleg    *C.krbap_cred
	)
	major, err := call("accept", func(m *C.uint32_t) C.uint32_t {
		return C.kg_accept(m, &ctx, a.cred, bytesPtr(token), C.size_t(len(token)), cb.ptr(),
			&src, &retFlags, &timeRec, &out, &deleg)
	})
	reply := takeBytes(&out)
	if err != nil {
		releaseName(src)
		releaseCred(deleg)
		if ctx != nil {
			deleteContext(ctx)
		}
		return nil, reply, err
	}
	client, err := displayName(src)
	releaseName(src)
	if err != nil {
		deleteContext(ctx)
		releaseCred(deleg)
		return nil, nil, err
	}
	c := &Context{ctx: ctx, done: uint32(major)&StatusContinueNeeded == 0, client: client,
		delegated: deleg, flags: Flags(retFlags), timeRec: uint32(timeRec), acc: a, bindings: bindings}
	runtime.SetFinalizer(c, finalizeContext)
	return c, reply, nil
}

// InitOptions are the options of an initiator context.
type InitOptions struct {
	// TargetType says how the target name is read (zero: HostBasedService, "HTTP@host").
	TargetType NameType
	// Flags requested (FlagMutual, FlagDelegate, ...). With FlagMutual the context
	// needs the acceptor's reply (a second Step).
	Flags Flags
	// ChannelBindings, if any, are bound into the authenticator.
	ChannelBindings *ChannelBindings
	// Mech is the mechanism: MechKRB5 (also the zero value) for raw Kerberos tokens, or
	// MechSPNEGO for SPNEGO around them (what HTTP Negotiate servers expect). A SPNEGO
	// context always needs the acceptor's answer (a second Step), with or without
	// FlagMutual.
	Mech Mechanism
}

// NewContext starts a context towards target ("service@host", or a principal with
// TargetType PrincipalName). opts nil asks for DefaultFlags. Call Step(nil) for the
// initial token.
func (i *Initiator) NewContext(target string, opts *InitOptions) (*Context, error) {
	if opts == nil {
		opts = &InitOptions{Flags: DefaultFlags}
	}
	mech := opts.Mech
	if mech == 0 {
		mech = MechKRB5
	}
	if mech != MechKRB5 && mech != MechSPNEGO {
		return nil, &Error{Op: "init", Major: StatusBadMech, Message: "unknown mechanism " + mech.String()}
	}
	name, err := importName(target, opts.TargetType)
	if err != nil {
		return nil, err
	}
	c := &Context{initiator: true, ini: i, target: name, mech: mech, reqFlags: opts.Flags,
		bindings: opts.ChannelBindings}
	runtime.SetFinalizer(c, finalizeContext)
	return c, nil
}

// Step runs one step of the initiator: Step(nil) first gives the initial token; when
// done is false, the acceptor's reply (its AP-REP, or SPNEGO's answer) goes into the next
// Step, which verifies it and gives done. out, when not empty, is to be sent to the
// acceptor, also together with done (SPNEGO's last mechListMIC) and with an error
// (SPNEGO's reject token, which the acceptor may be told). A KRB-ERROR from the acceptor
// (raw, or inside a SPNEGO reject) fails the Step with the acceptor's error (e.g.
// ErrClockSkew) and ends the context.
//
// On an accepted context that is not yet established, Step gives the client's next
// token to the acceptor.
func (c *Context) Step(in []byte) (out []byte, done bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.initiator {
		return c.acceptStep(in)
	}
	if c.done {
		return nil, true, &Error{Op: "step", Major: StatusFailure, Message: "the context is already established"}
	}
	if c.target == nil {
		return nil, false, ErrClosed
	}
	c.ini.mu.RLock()
	defer c.ini.mu.RUnlock()
	if c.ini.cred == nil {
		return nil, false, ErrClosed
	}
	if c.ctx == nil && len(in) > 0 {
		return nil, false, &Error{Op: "step", Major: StatusFailure, Message: "the first Step takes no input token"}
	}
	cb := newBindings(c.bindings)
	defer cb.free()
	var retFlags, timeRec C.uint32_t
	var buf C.krbap_buffer
	ctx := c.ctx // a local: cgo must not see a pointer into c (it holds Go pointers)
	major, err := call("init", func(m *C.uint32_t) C.uint32_t {
		return C.kg_init(m, c.ini.cred, &ctx, c.target, C.int32_t(c.mech), C.uint32_t(c.reqFlags), cb.ptr(),
			bytesPtr(in), C.size_t(len(in)), &retFlags, &timeRec, &buf)
	})
	c.ctx = ctx
	out = takeBytes(&buf)
	if err != nil {
		// The library deleted the context; the Context cannot be stepped again.
		c.ctx = nil
		c.done = true
		return out, false, err
	}
	c.flags = Flags(retFlags)
	c.timeRec = uint32(timeRec)
	c.done = uint32(major)&StatusContinueNeeded == 0
	return out, c.done, nil
}

// acceptStep continues a multi-round accept (c.mu held).
func (c *Context) acceptStep(in []byte) ([]byte, bool, error) {
	if c.ctx == nil || c.acc == nil {
		return nil, false, ErrClosed // closed, or ended by a failed step
	}
	if c.done {
		return nil, true, &Error{Op: "accept", Major: StatusFailure, Message: "the context is already established"}
	}
	c.acc.mu.RLock()
	defer c.acc.mu.RUnlock()
	if c.acc.cred == nil {
		return nil, false, ErrClosed
	}
	cb := newBindings(c.bindings)
	defer cb.free()
	var (
		src      *C.krbap_name
		retFlags C.uint32_t
		timeRec  C.uint32_t
		out      C.krbap_buffer
		deleg    *C.krbap_cred
	)
	ctx := c.ctx // a local: cgo must not see a pointer into c
	major, err := call("accept", func(m *C.uint32_t) C.uint32_t {
		return C.kg_accept(m, &ctx, c.acc.cred, bytesPtr(in), C.size_t(len(in)), cb.ptr(),
			&src, &retFlags, &timeRec, &out, &deleg)
	})
	reply := takeBytes(&out)
	if err != nil {
		releaseName(src)
		releaseCred(deleg)
		deleteContext(ctx)
		c.ctx, c.done = nil, true
		return reply, false, err
	}
	c.ctx = ctx
	if src != nil {
		c.client, _ = displayName(src)
		releaseName(src)
	}
	if deleg != nil {
		releaseCred(c.delegated)
		c.delegated = deleg
	}
	c.flags, c.timeRec = Flags(retFlags), uint32(timeRec)
	c.done = uint32(major)&StatusContinueNeeded == 0
	return reply, c.done, nil
}

// Established reports whether the context is complete.
func (c *Context) Established() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.done && c.ctx != nil
}

// IsInitiator reports whether this side initiated the context.
func (c *Context) IsInitiator() bool { return c.initiator }

// Flags are the context's flags (for an accepted context, what the client asked for
// and got, e.g. FlagMutual|FlagDelegate; for an initiator, what was granted).
func (c *Context) Flags() Flags {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.flags
}

// ClientName is the authenticated client principal, e.g. "alice@EXAMPLE.COM".
func (c *Context) ClientName() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.initiator {
		name, _ := c.inquireNames(true)
		return name
	}
	return c.client
}

// ServiceName is the acceptor's principal, e.g. "HTTP/www.example.com@EXAMPLE.COM".
func (c *Context) ServiceName() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	name, _ := c.inquireNames(false)
	return name
}

func (c *Context) inquireNames(src bool) (string, error) {
	if c.ctx == nil {
		return "", ErrClosed
	}
	var n *C.krbap_name
	_, err := call("inquire context", func(m *C.uint32_t) C.uint32_t {
		if src {
			return C.krbap_inquire_context(m, c.ctx, &n, nil, nil, nil, nil, nil)
		}
		return C.krbap_inquire_context(m, c.ctx, nil, &n, nil, nil, nil, nil)
	})
	if err != nil {
		return "", err
	}
	defer releaseName(n)
	return displayName(n)
}

// Lifetime is the time the context remains valid (the ticket's end); ErrExpired
// (StatusContextExpired) once it has passed.
func (c *Context) Lifetime() (time.Duration, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx == nil {
		return 0, ErrClosed
	}
	var t C.uint32_t
	if _, err := call("context time", func(m *C.uint32_t) C.uint32_t {
		return C.krbap_context_time(m, c.ctx, &t)
	}); err != nil {
		return 0, err
	}
	return time.Duration(t) * time.Second, nil
}

// Session is the session key's enctype number (e.g. 18) and the ticket's end time.
func (c *Context) Session() (enctype int32, ticketEnd time.Time, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx == nil {
		return 0, time.Time{}, ErrClosed
	}
	var e C.int32_t
	var end C.int64_t
	if _, err := call("inquire session", func(m *C.uint32_t) C.uint32_t {
		return C.krbap_inquire_session(m, c.ctx, &e, &end)
	}); err != nil {
		return 0, time.Time{}, err
	}
	return int32(e), time.Unix(int64(end), 0), nil
}

// AuthzElement is one authorization-data element (RFC 4120 §5.2.6) of an accepted
// context, AD-IF-RELEVANT unwrapped.
type AuthzElement struct {
	Type       int32 // ad-type, e.g. 128 for AD-WIN2K-PAC
	FromTicket bool  // from the ticket (the KDC) rather than the client's authenticator
	Data       []byte
}

// AuthorizationData lists the context's authorization data.
func (c *Context) AuthorizationData() ([]AuthzElement, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx == nil {
		return nil, ErrClosed
	}
	var n C.size_t
	if _, err := call("inquire authz", func(m *C.uint32_t) C.uint32_t {
		return C.krbap_inquire_authz_count(m, c.ctx, &n)
	}); err != nil {
		return nil, err
	}
	out := make([]AuthzElement, 0, int(n))
	for i := C.size_t(0); i < n; i++ {
		var typ, fromTicket C.int32_t
		var buf C.krbap_buffer
		if _, err := call("inquire authz", func(m *C.uint32_t) C.uint32_t {
			return C.krbap_inquire_authz_element(m, c.ctx, i, &typ, &fromTicket, &buf)
		}); err != nil {
			return nil, err
		}
		out = append(out, AuthzElement{Type: int32(typ), FromTicket: fromTicket != 0, Data: takeBytes(&buf)})
	}
	return out, nil
}

// ErrNoPAC is returned by RawPAC and PAC for a ticket without a PAC.
var ErrNoPAC = errors.New("krbap: the ticket has no PAC")

// RawPAC is the ticket's AD-WIN2K-PAC blob (MS-PAC), or ErrNoPAC.
func (c *Context) RawPAC() ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx == nil {
		return nil, ErrClosed
	}
	var buf C.krbap_buffer
	_, err := call("inquire pac", func(m *C.uint32_t) C.uint32_t {
		return C.krbap_inquire_pac(m, c.ctx, &buf)
	})
	var e *Error
	if errors.As(err, &e) && e.Routine() == StatusUnavailable {
		return nil, ErrNoPAC
	}
	if err != nil {
		return nil, err
	}
	return takeBytes(&buf), nil
}

// Delegated reports whether the client delegated credentials (a forwarded TGT).
func (c *Context) Delegated() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.delegated != nil
}

// StoreDelegated writes the client's delegated credentials to a FILE ccache ("FILE:path"
// or a path), replacing its contents; the ccache then serves an Initiator acting as the
// client.
func (c *Context) StoreDelegated(ccache string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx == nil && c.delegated == nil {
		return ErrClosed
	}
	if c.delegated == nil {
		return &Error{Op: "store delegated", Major: StatusNoCred, Message: "the client delegated no credentials"}
	}
	loc := C.CString(ccache)
	defer C.free(unsafe.Pointer(loc))
	_, err := call("store delegated", func(m *C.uint32_t) C.uint32_t {
		return C.krbap_store_cred(m, c.delegated, loc)
	})
	return err
}

// SetTime fixes the context's clock at t (zero: the system clock), e.g. to test expiry.
func (c *Context) SetTime(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx == nil {
		return ErrClosed
	}
	var unix int64
	if !t.IsZero() {
		unix = t.Unix()
	}
	_, err := call("set time", func(m *C.uint32_t) C.uint32_t {
		return C.krbap_ctx_set_time(m, c.ctx, C.int64_t(unix))
	})
	return err
}

// Close deletes the context (session keys are wiped) and what it holds.
func (c *Context) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	deleteContext(c.ctx)
	releaseName(c.target)
	releaseCred(c.delegated)
	c.ctx, c.target, c.delegated = nil, nil, nil
	c.ini, c.acc = nil, nil
	runtime.SetFinalizer(c, nil)
	return nil
}

// finalized counts handles released by a finalizer rather than Close (for tests).
var finalized atomic.Int64

func finalizeContext(c *Context) { finalized.Add(1); c.Close() }

func deleteContext(ctx *C.krbap_ctx) {
	if ctx != nil {
		var m C.uint32_t
		C.krbap_delete_sec_context(&m, &ctx, nil)
	}
}
