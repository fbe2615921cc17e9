package krbap

import (
	"errors"
	"fmt"
	"io"
	"net/http"
)

// HTTP Negotiate (RFC 4559) for net/http clients: an http.RoundTripper that answers a
// server's Negotiate challenge with the Initiator's token and checks the server's final
// token before it hands over the response.

// ErrMutualAuth is matched (errors.Is) by a response the Transport refused because the
// server did not prove itself: its final token is missing (mutual authentication was
// asked for) or does not verify.
var ErrMutualAuth = errors.New("krbap: mutual authentication of the HTTP server failed")

// Transport is an http.RoundTripper that authenticates with HTTP Negotiate:
//
//	ini, _ := krbap.NewInitiator(krbap.InitiatorConfig{}) // KRB5CCNAME
//	client := &http.Client{Transport: &krbap.Transport{Initiator: ini}}
//	resp, err := client.Get("http://www.example.com/")
//
// A request goes out as it is; when the answer is 401 with a Negotiate challenge, the
// request is sent again with a token for Service@host (the URL's host), continuing while
// the server answers 401 with a continuation token (up to MaxLegs legs). The server's
// final token (WWW-Authenticate on the last answer) is verified: a response is returned
// only when the context completed, or when mutual authentication was not asked for and
// the server sent none; otherwise RoundTrip fails with ErrMutualAuth and the reason. A 401
// that carries an error token (a KRB-ERROR or SPNEGO reject) fails RoundTrip with the
// server's error (e.g. ErrClockSkew); a 401 without one is returned as it is.
//
// A request with a body is sent again only when it has GetBody (http.NewRequest sets it
// for bytes, strings and bytes.Reader bodies); without, use Preemptive. Continuation
// legs go through Base, which for an http.Transport reuses the keep-alive connection the
// 401 came on when no other request takes it first (the response bodies are drained for
// that). A Transport may be used by many goroutines; each request has its own context.
type Transport struct {
	// Initiator holds the client's credentials (required).
	Initiator *Initiator
	// Base sends the requests (nil: http.DefaultTransport).
	Base http.RoundTripper
	// Mech is the mechanism of the tokens (zero: MechSPNEGO, what HTTP servers expect;
	// MechKRB5 sends raw Kerberos tokens, which MIT-based servers accept too).
	Mech Mechanism
	// Flags requested (zero: FlagMutual, so that the server's final token is required).
	// FlagDelegate delegates the client's TGT to the server.
	Flags Flags
	// Service is the service part of the target name (zero: "HTTP", giving
	// "HTTP@<host of the URL>", i.e. HTTP/host@REALM).
	Service string
	// Preemptive sends the token with the first request instead of waiting for the
	// server's challenge (one round trip less, and a body without GetBody goes once).
	Preemptive bool
	// MaxLegs bounds the requests of one exchange (zero: 5).
	MaxLegs int
}

func (t *Transport) base() http.RoundTripper {
	if t.Base != nil {
		return t.Base
	}
	return http.DefaultTransport
}

// negotiateChallenge finds the Negotiate challenge among a response's WWW-Authenticate
// fields: ok false when there is none; token empty for a bare "Negotiate". A malformed
// Negotiate challenge is an error.
func negotiateChallenge(h http.Header) (token []byte, ok bool, err error) {
	for _, v := range h.Values("WWW-Authenticate") {
		tok, perr := ParseWWWAuthenticate(v)
		if perr == nil {
			return tok, true, nil
		}
		var e *Error
		if errors.As(perr, &e) && e.Routine() == StatusBadMech {
			continue // another scheme's challenge
		}
		return nil, true, perr
	}
	return nil, false, nil
}

// discard drains (a bounded amount of) a response body and closes it, so that its
// keep-alive connection can carry the next leg.
func discard(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.Initiator == nil {
		closeBody(req)
		return nil, errors.New("krbap: Transport without an Initiator")
	}
	if req.Header.Get("Authorization") != "" {
		return t.base().RoundTrip(req) // the caller authenticates by itself
	}
	hasBody := req.Body != nil && req.Body != http.NoBody
	sent := 0 // times req has gone out (its Body is consumed by the first)
	send := func(authorization string) (*http.Response, error) {
		r := req.Clone(req.Context())
		if hasBody && sent > 0 {
			if req.GetBody == nil {
				return nil, errors.New("krbap: the request body cannot be sent again for authentication (no GetBody; use Transport.Preemptive)")
			}
			b, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			r.Body = b
		}
		if authorization != "" {
			r.Header.Set("Authorization", authorization)
		}
		sent++
		return t.base().RoundTrip(r)
	}
	var resp *http.Response
	if !t.Preemptive {
		var err error
		if resp, err = send(""); err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusUnauthorized {
			return resp, nil
		}
		if _, ok, _ := negotiateChallenge(resp.Header); !ok {
			return resp, nil // another scheme: not ours
		}
		discard(resp)
	}
	resp, err := t.negotiate(req, send)
	if err != nil && sent == 0 {
		closeBody(req) // RoundTrip closes the body, also when it was never sent
	}
	return resp, err
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// negotiate runs the exchange: each leg's token goes out with the request.
func (t *Transport) negotiate(req *http.Request, send func(string) (*http.Response, error)) (*http.Response, error) {
	service := t.Service
	if service == "" {
		service = "HTTP"
	}
	flags := t.Flags
	if flags == 0 {
		flags = FlagMutual
	}
	mech := t.Mech
	if mech == 0 {
		mech = MechSPNEGO
	}
	maxLegs := t.MaxLegs
	if maxLegs <= 0 {
		maxLegs = 5
	}
	ctx, err := t.Initiator.NewContext(service+"@"+req.URL.Hostname(), &InitOptions{Flags: flags, Mech: mech})
	if err != nil {
		return nil, err
	}
	defer ctx.Close()
	out, done, err := ctx.Step(nil)
	if err != nil {
		return nil, err
	}
	for leg := 1; ; leg++ {
		authorization, err := Authorization(out)
		if err != nil {
			return nil, err
		}
		resp, err := send(authorization)
		if err != nil {
			return nil, err
		}
		in, ok, err := negotiateChallenge(resp.Header)
		if err != nil {
			discard(resp)
			return nil, fmt.Errorf("krbap: the server's WWW-Authenticate: %w", err)
		}
		if resp.StatusCode == http.StatusUnauthorized {
			if !ok || len(in) == 0 || done {
				return resp, nil // refused, without a token to tell why
			}
			out, done, err = ctx.Step(in)
			if err != nil {
				discard(resp)
				return nil, err // the server's error (a KRB-ERROR or reject), or a bad token
			}
			if len(out) == 0 {
				return resp, nil // nothing more to send: the server refused
			}
			if leg >= maxLegs {
				discard(resp)
				return nil, fmt.Errorf("krbap: no answer after %d Negotiate legs", leg)
			}
			discard(resp)
			continue
		}
		// The server has answered: its final token proves it (RFC 4559 §5).
		if ok && len(in) > 0 && !done {
			if _, done, err = ctx.Step(in); err != nil {
				discard(resp)
				return nil, fmt.Errorf("%w: the server's final token: %w", ErrMutualAuth, err)
			}
		}
		if !done && flags&FlagMutual != 0 {
			discard(resp)
			return nil, fmt.Errorf("%w: the server did not send the final token (HTTP %d)", ErrMutualAuth, resp.StatusCode)
		}
		return resp, nil
	}
}
