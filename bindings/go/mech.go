package krbap

// #include "shim.h"
import "C"

import "fmt"

// Mechanism is a GSS-API mechanism (RFC 2744 mech_type; krbap.h KRBAP_MECH_*).
type Mechanism int32

const (
	// MechKRB5 is Kerberos 5 itself: raw RFC 4121 tokens, as MIT's gss-sample programs
	// and most non-HTTP protocols exchange them.
	MechKRB5 Mechanism = C.KRBAP_MECH_KRB5
	// MechSPNEGO is SPNEGO (RFC 4178) negotiating Kerberos 5, as browsers, curl
	// --negotiate, Windows "Negotiate", Java and .NET speak it.
	MechSPNEGO Mechanism = C.KRBAP_MECH_SPNEGO
)

func (m Mechanism) String() string {
	switch m {
	case MechKRB5:
		return "krb5"
	case MechSPNEGO:
		return "SPNEGO"
	}
	return fmt.Sprintf("Mechanism(%d)", int32(m))
}

// Mechanism is the context's mechanism: for an initiator the one it was created with,
// for an accepted context the one the client's first token was framed for (an acceptor
// tells raw krb5 from SPNEGO by itself). After SPNEGO, Wrap, MIC and every inquiry use
// the negotiated Kerberos 5 context.
func (c *Context) Mechanism() (Mechanism, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx == nil {
		if c.initiator && c.target != nil && !c.done {
			return c.mech, nil // not stepped yet
		}
		return 0, ErrClosed
	}
	var m C.int32_t
	if _, err := call("inquire mech", func(minor *C.uint32_t) C.uint32_t {
		return C.krbap_inquire_mech(minor, c.ctx, &m)
	}); err != nil {
		return 0, err
	}
	return Mechanism(m), nil
}
