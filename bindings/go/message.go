package krbap

// #include "shim.h"
import "C"

// Per-message protection (RFC 4121 §4.2): Wrap and MIC tokens. A per-message failure
// leaves the context usable.
//
// Unwrap and VerifyMIC check sequence numbers when the context has FlagReplay or
// FlagSequence: a token out of order or seen before is authentic but returns, together
// with its message, an *Error whose Major has only supplementary bits
// (StatusDuplicateToken, StatusOldToken, StatusUnseqToken, StatusGapToken); a duplicate
// matches ErrReplay. Callers that can live with reordering may use the message then.

// Wrap protects msg: encrypted and integrity-protected with conf, else integrity only.
// It reports whether confidentiality was applied.
func (c *Context) Wrap(msg []byte, conf bool) (token []byte, confApplied bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx == nil {
		return nil, false, ErrClosed
	}
	var confReq, confState C.int32_t
	if conf {
		confReq = 1
	}
	var out C.krbap_buffer
	_, err = call("wrap", func(m *C.uint32_t) C.uint32_t {
		return C.kg_wrap(m, c.ctx, confReq, bytesPtr(msg), C.size_t(len(msg)), &confState, &out)
	})
	token = takeBytes(&out)
	if err != nil {
		return nil, false, err
	}
	return token, confState != 0, nil
}

// Unwrap verifies (and decrypts) a Wrap token from the peer. It reports whether the
// token was encrypted.
func (c *Context) Unwrap(token []byte) (msg []byte, conf bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx == nil {
		return nil, false, ErrClosed
	}
	var out C.krbap_buffer
	var confState C.int32_t
	major, err := call("unwrap", func(m *C.uint32_t) C.uint32_t {
		return C.kg_unwrap(m, c.ctx, bytesPtr(token), C.size_t(len(token)), &out, &confState)
	})
	msg = takeBytes(&out)
	if err != nil {
		return nil, false, err
	}
	if msg == nil {
		msg = []byte{}
	}
	return msg, confState != 0, supplementary("unwrap", major)
}

// GetMIC computes a MIC token over msg.
func (c *Context) GetMIC(msg []byte) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx == nil {
		return nil, ErrClosed
	}
	var out C.krbap_buffer
	_, err := call("get_mic", func(m *C.uint32_t) C.uint32_t {
		return C.kg_get_mic(m, c.ctx, bytesPtr(msg), C.size_t(len(msg)), &out)
	})
	token := takeBytes(&out)
	if err != nil {
		return nil, err
	}
	return token, nil
}

// VerifyMIC checks the peer's MIC token over msg.
func (c *Context) VerifyMIC(msg, token []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx == nil {
		return ErrClosed
	}
	major, err := call("verify_mic", func(m *C.uint32_t) C.uint32_t {
		return C.kg_verify_mic(m, c.ctx, bytesPtr(msg), C.size_t(len(msg)), bytesPtr(token), C.size_t(len(token)))
	})
	if err != nil {
		return err
	}
	return supplementary("verify_mic", major)
}

// WrapSizeLimit is the largest message whose Wrap token fits in maxToken bytes.
func (c *Context) WrapSizeLimit(conf bool, maxToken int) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx == nil {
		return 0, ErrClosed
	}
	if maxToken < 0 || int64(maxToken) > 0xffffffff {
		return 0, &Error{Op: "wrap_size_limit", Major: StatusFailure, Message: "maxToken out of range"}
	}
	var confReq C.int32_t
	if conf {
		confReq = 1
	}
	var max C.uint32_t
	_, err := call("wrap_size_limit", func(m *C.uint32_t) C.uint32_t {
		return C.krbap_wrap_size_limit(m, c.ctx, confReq, 0, C.uint32_t(maxToken), &max)
	})
	return int(max), err
}

// supplementary turns the informatory bits of a successful per-message call into an
// *Error (nil when there are none).
func supplementary(op string, major C.uint32_t) error {
	bits := uint32(major) & (StatusDuplicateToken | StatusOldToken | StatusUnseqToken | StatusGapToken)
	if bits == 0 {
		return nil
	}
	return &Error{Op: op, Major: bits}
}
