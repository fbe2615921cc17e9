// Package gsssample speaks the protocol of MIT krb5's gss-sample programs (gss-server,
// gss-client, src/appl/gss-sample) over the krbap Go package, for the example programs
// in ../../examples and the interop tests with MIT's programs.
//
// Wire format (MIT gss-misc.c): every token is one flags byte (Token*), a 4-byte
// big-endian length and that many bytes. A flags byte of 0 is MIT's old format without
// a flags byte: the 0 is then the first byte of the length.
//
// A connection: the client sends TokenNoop|TokenContextNext, then TokenContext tokens
// until its context is established (the server answers each with a TokenContext token
// when it has one: the AP-REP, or a KRB-ERROR on failure). Then per message a TokenData
// token (|TokenWrapped|TokenEncrypted|TokenSendMIC); the server unwraps it and answers
// TokenMIC (a MIC over the plaintext) when asked, else an empty TokenNoop. A TokenNoop
// from the client ends the connection.
package gsssample

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	krbap "github.com/krbap/krbap/bindings/go"
)

// Token flags (gss-misc.h).
const (
	TokenNoop        = 1 << 0
	TokenContext     = 1 << 1
	TokenData        = 1 << 2
	TokenMIC         = 1 << 3
	TokenContextNext = 1 << 4
	TokenWrapped     = 1 << 5
	TokenEncrypted   = 1 << 6
	TokenSendMIC     = 1 << 7
)

// MaxToken is the largest token accepted from a peer.
const MaxToken = 16 << 20

// IOTimeout bounds each read and write.
const IOTimeout = 30 * time.Second

// WriteToken sends one token.
func WriteToken(c net.Conn, flags byte, data []byte) error {
	if len(data) > MaxToken {
		return fmt.Errorf("token of %d bytes is too long", len(data))
	}
	buf := make([]byte, 0, 5+len(data))
	if flags != 0 {
		buf = append(buf, flags)
	}
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(data)))
	buf = append(buf, data...)
	_ = c.SetWriteDeadline(time.Now().Add(IOTimeout))
	_, err := c.Write(buf)
	return err
}

// ReadToken receives one token.
func ReadToken(c net.Conn) (flags byte, data []byte, err error) {
	_ = c.SetReadDeadline(time.Now().Add(IOTimeout))
	var hdr [5]byte
	if _, err := io.ReadFull(c, hdr[:1]); err != nil {
		return 0, nil, fmt.Errorf("reading token flags: %w", err)
	}
	flags = hdr[0]
	lenBytes := hdr[1:5]
	if flags == 0 { // old format: the byte read was the length's first
		lenBytes = hdr[0:4]
		if _, err := io.ReadFull(c, hdr[1:4]); err != nil {
			return 0, nil, fmt.Errorf("reading token length: %w", err)
		}
	} else if _, err := io.ReadFull(c, hdr[1:5]); err != nil {
		return 0, nil, fmt.Errorf("reading token length: %w", err)
	}
	n := binary.BigEndian.Uint32(lenBytes)
	if n > MaxToken {
		return 0, nil, fmt.Errorf("peer announced a %d-byte token; the limit is %d", n, MaxToken)
	}
	data = make([]byte, n)
	if _, err := io.ReadFull(c, data); err != nil {
		return 0, nil, fmt.Errorf("reading token data: %w", err)
	}
	return flags, data, nil
}

// ServerResult is what Serve learned about one connection.
type ServerResult struct {
	Client    string      // authenticated client ("" when it asked for no authentication)
	Flags     krbap.Flags // the context's flags
	Enctype   int32       // session key enctype
	Messages  [][]byte    // plaintexts received
	Conf      []bool      // whether each was encrypted
	Delegated bool        // the client delegated credentials
	Mech      krbap.Mechanism
}

// ServerOptions are ServeWith's.
type ServerOptions struct {
	Logf        func(format string, args ...any) // narrates (may be nil)
	DelegCCache string                           // where delegated credentials go ("": not kept)
}

// Serve handles one connection with acc, as gss-server does. logf (may be nil) narrates.
func Serve(c net.Conn, acc *krbap.Acceptor, logf func(format string, args ...any)) (*ServerResult, error) {
	return ServeWith(c, acc, ServerOptions{Logf: logf})
}

// ServeWith is Serve with options.
func ServeWith(c net.Conn, acc *krbap.Acceptor, o ServerOptions) (*ServerResult, error) {
	logf := o.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	res := &ServerResult{}
	flags, _, err := ReadToken(c)
	if err != nil {
		return res, err
	}
	if flags&TokenNoop == 0 {
		return res, fmt.Errorf("expected a NOOP token, got flags %d", flags)
	}
	var ctx *krbap.Context
	if flags&TokenContextNext != 0 {
		_, tok, err := ReadToken(c)
		if err != nil {
			return res, err
		}
		logf("received the initial context token (%d bytes)", len(tok))
		var reply []byte
		ctx, reply, err = acc.Accept(tok)
		if err != nil {
			// Send the KRB-ERROR back, as gss-server does, so the client learns why.
			if len(reply) > 0 {
				_ = WriteToken(c, TokenContext, reply)
			}
			return res, err
		}
		defer ctx.Close()
		// SPNEGO may take more rounds (Kerberos not the client's first choice, a
		// mechListMIC to exchange): every answer goes back, also the one that completes.
		for {
			if len(reply) > 0 {
				logf("sending a context token (%d bytes)", len(reply))
				if err := WriteToken(c, TokenContext, reply); err != nil {
					return res, err
				}
			}
			if ctx.Established() {
				break
			}
			if _, tok, err = ReadToken(c); err != nil {
				return res, err
			}
			logf("received a context token (%d bytes)", len(tok))
			if reply, _, err = ctx.Step(tok); err != nil {
				if len(reply) > 0 {
					_ = WriteToken(c, TokenContext, reply)
				}
				return res, err
			}
		}
		res.Mech, _ = ctx.Mechanism()
		res.Client = ctx.ClientName()
		res.Flags = ctx.Flags()
		res.Enctype, _, _ = ctx.Session()
		logf("Accepted connection: %q (flags %v, enctype %d)", res.Client, res.Flags, res.Enctype)
		res.Delegated = ctx.Delegated()
		if res.Delegated && o.DelegCCache != "" {
			if err := ctx.StoreDelegated(o.DelegCCache); err != nil {
				return res, err
			}
			logf("delegated credentials stored in %s", o.DelegCCache)
		}
	}
	for {
		flags, tok, err := ReadToken(c)
		if err != nil {
			return res, err
		}
		if flags&TokenNoop != 0 {
			return res, nil
		}
		if ctx == nil && flags&(TokenWrapped|TokenEncrypted|TokenSendMIC) != 0 {
			return res, errors.New("unauthenticated client requested authenticated services")
		}
		msg, conf := tok, false
		if flags&TokenWrapped != 0 {
			if msg, conf, err = ctx.Unwrap(tok); err != nil {
				return res, err
			}
		}
		logf("Received message: %q (encrypted %v)", msg, conf)
		res.Messages = append(res.Messages, msg)
		res.Conf = append(res.Conf, conf)
		if flags&TokenSendMIC != 0 {
			mic, err := ctx.GetMIC(msg)
			if err != nil {
				return res, err
			}
			if err := WriteToken(c, TokenMIC, mic); err != nil {
				return res, err
			}
		} else if err := WriteToken(c, TokenNoop, nil); err != nil {
			return res, err
		}
	}
}

// ClientOptions are gss-client's: the service, its flags and what to do with messages.
type ClientOptions struct {
	Service  string          // "service@host"
	Flags    krbap.Flags     // the flags requested (e.g. krbap.DefaultFlags)
	Mech     krbap.Mechanism // zero: krbap.MechKRB5; krbap.MechSPNEGO as gss-client -spnego
	Wrap     bool            // wrap messages (else send them in the clear)
	Encrypt  bool            // with confidentiality
	MIC      bool            // ask the server for a MIC over each message and verify it
	Messages [][]byte
}

// ClientResult is what Client learned.
type ClientResult struct {
	Mech    krbap.Mechanism
	Flags   krbap.Flags
	Enctype int32
	MICs    int // MICs from the server that verified
}

// Client runs one connection as gss-client does.
func Client(c net.Conn, ini *krbap.Initiator, o ClientOptions) (*ClientResult, error) {
	res := &ClientResult{}
	ctx, err := ini.NewContext(o.Service, &krbap.InitOptions{Flags: o.Flags, Mech: o.Mech})
	if err != nil {
		return res, err
	}
	defer ctx.Close()
	if err := WriteToken(c, TokenNoop|TokenContextNext, nil); err != nil {
		return res, err
	}
	var in []byte
	for {
		out, done, err := ctx.Step(in)
		if len(out) > 0 {
			if werr := WriteToken(c, TokenContext, out); werr != nil {
				return res, werr
			}
		}
		if err != nil {
			return res, err
		}
		if done {
			break
		}
		if _, in, err = ReadToken(c); err != nil {
			return res, err
		}
	}
	res.Flags = ctx.Flags()
	res.Enctype, _, _ = ctx.Session()
	res.Mech, _ = ctx.Mechanism()
	for _, msg := range o.Messages {
		var flags byte = TokenData
		data := msg
		if o.Wrap {
			flags |= TokenWrapped
			if o.Encrypt {
				flags |= TokenEncrypted
			}
			if data, _, err = ctx.Wrap(msg, o.Encrypt); err != nil {
				return res, err
			}
		}
		if o.MIC {
			flags |= TokenSendMIC
		}
		if err := WriteToken(c, flags, data); err != nil {
			return res, err
		}
		rflags, reply, err := ReadToken(c)
		if err != nil {
			return res, err
		}
		if o.MIC {
			if rflags&TokenMIC == 0 {
				return res, fmt.Errorf("expected a MIC token, got flags %d", rflags)
			}
			if err := ctx.VerifyMIC(msg, reply); err != nil {
				return res, err
			}
			res.MICs++
		}
	}
	return res, WriteToken(c, TokenNoop, nil)
}
