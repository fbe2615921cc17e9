package krbap

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// HTTP Negotiate (RFC 4559) for net/http servers: a middleware that authenticates each
// request with the token in its Authorization header, answers 401 with a Negotiate
// challenge, keeps a SPNEGO exchange that needs several legs with its keep-alive
// connection, and gives the handler the client's Identity in the request's context.

// Identity is the authenticated client of a request, for the handler behind Negotiate.
type Identity struct {
	// Principal is the client principal, e.g. "alice@EXAMPLE.COM".
	Principal string
	// Mechanism is what the client spoke: MechSPNEGO (browsers, curl) or MechKRB5.
	Mechanism Mechanism
	// Flags are the context's flags (FlagMutual when the client asked for the final
	// token, FlagDelegate when it delegated credentials).
	Flags Flags
	// Context is the accepted context, for the authorization data, the PAC, delegated
	// credentials or message protection. It is valid until the handler returns (the
	// middleware closes it then).
	Context *Context
}

type identityKey struct{}

// IdentityFromContext returns the Identity Negotiate put into a request's context.
func IdentityFromContext(ctx context.Context) (*Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(*Identity)
	return id, ok
}

// NegotiateOptions adjust Negotiate; the zero value (or nil) is usable.
type NegotiateOptions struct {
	// Authorize decides whether an authenticated client may go on: an error answers
	// 403 Forbidden with the error's text. nil: every authenticated client may.
	Authorize func(r *http.Request, id *Identity) error
	// ErrorPage writes the 400, 401 and 403 responses; WWW-Authenticate is already set
	// when it is called. nil: http.Error with "<status text>: <reason>".
	ErrorPage func(w http.ResponseWriter, r *http.Request, status int, reason error)
	// Logf, when set, gets one line per authentication: the principal and mechanism,
	// the challenge, the continuation of a multi-leg exchange, or the reason of a failure.
	Logf func(format string, args ...any)
	// PendingTimeout is how long a half-done SPNEGO exchange waits for the client's next
	// leg (zero: 30 s). MaxPending bounds how many wait at once (zero: 1024); past it the
	// oldest is dropped.
	PendingTimeout time.Duration
	MaxPending     int
}

// Negotiate is the HTTP Negotiate middleware around an Acceptor. Use Wrap on the
// handlers to protect, and Attach on the http.Server so that a multi-leg SPNEGO exchange
// follows its connection:
//
//	neg := krbap.NewNegotiate(acc, nil)
//	srv := &http.Server{Addr: ":8080", Handler: neg.Wrap(mux)}
//	neg.Attach(srv)
//
// Each request is authenticated by its own token (RFC 4559 §4); nothing is remembered
// between requests but a SPNEGO exchange that needs another leg (Kerberos not the
// client's first mechanism, e.g. Windows offering NegoEx or NTLM first; a mechListMIC to
// exchange). That half-done context is kept with the keep-alive connection its leg came
// on: by the connection itself after Attach (dropped when it closes), else by the
// connection's addresses (r.RemoteAddr and the local address; dropped after
// PendingTimeout). Either way it is bounded by PendingTimeout and MaxPending, and a new
// initial token on the connection starts over. A half-done context holds nothing
// authenticated: finishing it needs a valid Kerberos token and, for the mechListMIC, its
// session key. Behind a reverse proxy that mixes clients on its backend connections a
// multi-leg exchange cannot be told apart (as with every connection-bound HTTP
// authentication); single-leg exchanges (curl, browsers offering Kerberos first) are
// unaffected.
//
// Responses: no Authorization, or another scheme (Basic, NTLM): 401 with
// "WWW-Authenticate: Negotiate"; a malformed Negotiate header: 400 with the reason; a
// token that fails: 401 with the reason (krbap's detail, e.g. "Request is a replay") and
// the library's error token (KRB-ERROR or SPNEGO reject) in WWW-Authenticate, as MIT's
// servers send it; a leg that needs another: 401 with the continuation token; success:
// the handler runs with the Identity in the request's context and the final token
// (mutual authentication) in WWW-Authenticate; a principal that Authorize refuses: 403.
type Negotiate struct {
	acc  *Acceptor
	opts NegotiateOptions

	mu      sync.Mutex
	pending map[any]*list.Element // of *pendingLeg
	order   *list.List            // oldest first
}

type pendingLeg struct {
	key     any
	ctx     *Context
	expires time.Time
}

// NewNegotiate makes the middleware; opts may be nil. The Acceptor must stay open while
// the middleware is used.
func NewNegotiate(acc *Acceptor, opts *NegotiateOptions) *Negotiate {
	n := &Negotiate{acc: acc, pending: map[any]*list.Element{}, order: list.New()}
	if opts != nil {
		n.opts = *opts
	}
	if n.opts.PendingTimeout <= 0 {
		n.opts.PendingTimeout = 30 * time.Second
	}
	if n.opts.MaxPending <= 0 {
		n.opts.MaxPending = 1024
	}
	return n
}

type connKey struct{}

// ConnContext is an http.Server ConnContext hook: it lets Negotiate keep a multi-leg
// exchange with its connection. Attach installs it.
func (n *Negotiate) ConnContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

// ConnState is an http.Server ConnState hook: a closed or hijacked connection's
// half-done exchange is dropped. Attach installs it.
func (n *Negotiate) ConnState(c net.Conn, state http.ConnState) {
	if state == http.StateClosed || state == http.StateHijacked {
		if p := n.take(c); p != nil {
			p.ctx.Close()
		}
	}
}

// Attach installs ConnContext and ConnState on srv, after the hooks it already has.
func (n *Negotiate) Attach(srv *http.Server) {
	prevCtx, prevState := srv.ConnContext, srv.ConnState
	srv.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		if prevCtx != nil {
			ctx = prevCtx(ctx, c)
		}
		return n.ConnContext(ctx, c)
	}
	srv.ConnState = func(c net.Conn, state http.ConnState) {
		if prevState != nil {
			prevState(c, state)
		}
		n.ConnState(c, state)
	}
}

// Pending is the number of half-done exchanges waiting for their next leg.
func (n *Negotiate) Pending() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.pending)
}

// Close drops every half-done exchange.
func (n *Negotiate) Close() error {
	n.mu.Lock()
	var ctxs []*Context
	for _, e := range n.pending {
		ctxs = append(ctxs, e.Value.(*pendingLeg).ctx)
	}
	n.pending, n.order = map[any]*list.Element{}, list.New()
	n.mu.Unlock()
	for _, c := range ctxs {
		c.Close()
	}
	return nil
}

// legKey is what a multi-leg exchange is kept by: the connection (after Attach), else its
// two addresses.
func legKey(r *http.Request) any {
	if c, ok := r.Context().Value(connKey{}).(net.Conn); ok {
		return c
	}
	local := ""
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		local = a.String()
	}
	return "addr " + r.RemoteAddr + " " + local
}

// take removes and returns the exchange kept under key (nil when none, or expired).
func (n *Negotiate) take(key any) *pendingLeg {
	n.mu.Lock()
	e, ok := n.pending[key]
	if ok {
		delete(n.pending, key)
		n.order.Remove(e)
	}
	n.mu.Unlock()
	if !ok {
		return nil
	}
	p := e.Value.(*pendingLeg)
	if time.Now().After(p.expires) {
		p.ctx.Close()
		return nil
	}
	return p
}

// keep stores a half-done exchange under key, dropping expired ones and, past
// MaxPending, the oldest.
func (n *Negotiate) keep(key any, ctx *Context) {
	now := time.Now()
	var drop []*Context
	n.mu.Lock()
	for e := n.order.Front(); e != nil; {
		p := e.Value.(*pendingLeg)
		next := e.Next()
		if now.After(p.expires) || len(n.pending) >= n.opts.MaxPending {
			delete(n.pending, p.key)
			n.order.Remove(e)
			drop = append(drop, p.ctx)
		} else {
			break // the rest are younger
		}
		e = next
	}
	n.pending[key] = n.order.PushBack(&pendingLeg{key: key, ctx: ctx, expires: now.Add(n.opts.PendingTimeout)})
	n.mu.Unlock()
	for _, c := range drop {
		c.Close()
	}
}

// Wrap protects next: it runs only for an authenticated (and authorized) client.
func (n *Negotiate) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.serve(w, r, next)
	})
}

func (n *Negotiate) logf(r *http.Request, format string, args ...any) {
	if n.opts.Logf != nil {
		n.opts.Logf("%s %q %s", r.RemoteAddr, r.Method+" "+r.URL.RequestURI(), fmt.Sprintf(format, args...))
	}
}

func (n *Negotiate) fail(w http.ResponseWriter, r *http.Request, status int, www string, reason error) {
	if www != "" {
		w.Header().Set("WWW-Authenticate", www)
	}
	if n.opts.ErrorPage != nil {
		n.opts.ErrorPage(w, r, status, reason)
		return
	}
	http.Error(w, http.StatusText(status)+": "+reason.Error(), status)
}

// errChallenge is the reason of the first 401.
var errChallenge = errors.New("this resource needs HTTP Negotiate (Kerberos) authentication")

func (n *Negotiate) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	key := legKey(r)
	values := r.Header.Values("Authorization")
	if len(values) == 0 {
		// A client that gives up in the middle of an exchange starts over.
		if p := n.take(key); p != nil {
			p.ctx.Close()
		}
		n.logf(r, "401 challenge")
		n.fail(w, r, http.StatusUnauthorized, "Negotiate", errChallenge)
		return
	}
	if len(values) > 1 {
		n.logf(r, "400 several Authorization fields")
		n.fail(w, r, http.StatusBadRequest, "", errors.New("several Authorization header fields"))
		return
	}
	token, err := ParseAuthorization(values[0])
	if err != nil {
		if p := n.take(key); p != nil {
			p.ctx.Close()
		}
		var e *Error
		if errors.As(err, &e) && e.Routine() == StatusBadMech {
			// Basic, NTLM, ...: not ours; offer Negotiate.
			n.logf(r, "401 challenge (another scheme: %v)", err)
			n.fail(w, r, http.StatusUnauthorized, "Negotiate", err)
			return
		}
		n.logf(r, "400 bad Authorization: %v", err)
		n.fail(w, r, http.StatusBadRequest, "", err)
		return
	}
	var (
		ctx  *Context
		out  []byte
		done bool
	)
	p := n.take(key)
	// A new initial token (GSS framing, RFC 2743 §3.1) restarts a half-done exchange.
	if p != nil && token[0] == 0x60 {
		p.ctx.Close()
		p = nil
	}
	if p != nil {
		ctx = p.ctx
		out, done, err = ctx.Step(token)
	} else {
		ctx, out, err = n.acc.Accept(token)
		done = err == nil && ctx.Established()
	}
	if err != nil {
		if ctx != nil {
			ctx.Close()
		}
		www := "Negotiate"
		if len(out) > 0 {
			if v, herr := WWWAuthenticate(out); herr == nil {
				www = v
			}
		}
		n.logf(r, "401 failed: %v", err)
		n.fail(w, r, http.StatusUnauthorized, www, err)
		return
	}
	if !done {
		www, herr := WWWAuthenticate(out)
		if herr != nil || len(out) == 0 {
			ctx.Close()
			if herr == nil {
				herr = errors.New("the exchange needs another leg but the library gave no token")
			}
			n.logf(r, "500 %v", herr)
			http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
			return
		}
		n.keep(key, ctx)
		n.logf(r, "401 continue (%d-byte token)", len(out))
		n.fail(w, r, http.StatusUnauthorized, www, errors.New("the Negotiate exchange continues: send the next token"))
		return
	}
	defer ctx.Close()
	mech, _ := ctx.Mechanism()
	id := &Identity{Principal: ctx.ClientName(), Mechanism: mech, Flags: ctx.Flags(), Context: ctx}
	if len(out) > 0 {
		// The final token: the client checks it to authenticate the server (RFC 4559 §5).
		www, herr := WWWAuthenticate(out)
		if herr != nil {
			n.logf(r, "500 %v", herr)
			http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
			return
		}
		w.Header().Set("WWW-Authenticate", www)
	}
	if n.opts.Authorize != nil {
		if aerr := n.opts.Authorize(r, id); aerr != nil {
			n.logf(r, "403 %s (%s): %v", id.Principal, id.Mechanism, aerr)
			n.fail(w, r, http.StatusForbidden, "", aerr)
			return
		}
	}
	n.logf(r, "%s (%s)", id.Principal, id.Mechanism)
	next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), identityKey{}, id)))
}
