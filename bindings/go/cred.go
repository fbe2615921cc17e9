package krbap

// #include <stdlib.h>
// #include "shim.h"
import "C"

import (
	"errors"
	"runtime"
	"sync"
	"time"
	"unsafe"
)

// NameType says how a name string is read (krbap.h KRBAP_NT_*).
type NameType int

const (
	// HostBasedService is "service@host" (GSS_C_NT_HOSTBASED_SERVICE), e.g. "HTTP@www.example.com".
	HostBasedService NameType = C.KRBAP_NT_HOSTBASED_SERVICE
	// PrincipalName is a Kerberos principal "comp/comp@REALM" (GSS_KRB5_NT_PRINCIPAL_NAME).
	PrincipalName NameType = C.KRBAP_NT_KRB5_PRINCIPAL
	// UserName is a user name "user" or "user@REALM" (GSS_C_NT_USER_NAME).
	UserName NameType = C.KRBAP_NT_USER_NAME
)

// ErrClosed is returned by calls on a closed Acceptor, Initiator or Context.
var ErrClosed = errors.New("krbap: use of a closed handle")

// ServiceKey is a service's long-term key given in memory instead of a keytab.
type ServiceKey struct {
	Principal string // "service/host@REALM"
	Kvno      uint32
	Enctype   int32 // RFC 3961 number, e.g. 18 for aes256-cts-hmac-sha1-96
	Key       []byte
}

// AcceptorConfig says where an acceptor's keys come from and how it checks tickets.
// The zero value reads the default keytab (KRB5_KTNAME, else /etc/krb5.keytab) with the
// library's defaults.
type AcceptorConfig struct {
	// Keytab is "FILE:/path" or a path; "" is the default keytab. Ignored when Keys is set.
	Keytab string
	// Keys, when not empty, are the acceptor's keys instead of a keytab.
	Keys []ServiceKey
	// Principal restricts the acceptor to one service ("" accepts tickets for any
	// principal whose key it holds), read as PrincipalType says.
	Principal     string
	PrincipalType NameType // zero: HostBasedService
	// ReplayCache is "memory:" (the default), "none:", "file2:/path" (MIT's format) or
	// "dfl:" (MIT's default file).
	ReplayCache string
	// ClockSkew is the largest clock difference allowed (zero: 300 s).
	ClockSkew time.Duration
	// Time fixes the acceptor's clock (tests, captured tokens); zero: the system clock.
	Time time.Time
	// ReplayCacheMaxBytes caps the memory replay cache (zero: the library's default, 256
	// MiB unless configured; NoReplayCacheCap: no cap). Other cache types refuse a cap.
	ReplayCacheMaxBytes uint64
	// PACPolicy says what Accept does with the ticket's PAC (zero: PACVerify).
	PACPolicy PACPolicy
	// PACKDCKeytab holds the KDC's keys (krbtgt; "FILE:/path" or a path): Accept then also
	// verifies the PAC's KDC, ticket and full signatures. For KDC-side and test use: a
	// service has only its own key, which verifies the server signature.
	PACKDCKeytab string
}

// Acceptor is a server's credential. It may be shared by any number of goroutines.
type Acceptor struct {
	mu   sync.RWMutex // read-held by calls, write-held by Close
	cred *C.krbap_cred
}

// NewAcceptor acquires an acceptor credential.
func NewAcceptor(cfg AcceptorConfig) (*Acceptor, error) {
	var name *C.krbap_name
	if cfg.Principal != "" {
		var err error
		if name, err = importName(cfg.Principal, cfg.PrincipalType); err != nil {
			return nil, err
		}
		defer releaseName(name)
	}
	var cred *C.krbap_cred
	if len(cfg.Keys) > 0 {
		if _, err := call("acquire acceptor", func(m *C.uint32_t) C.uint32_t {
			return C.krbap_acquire_acceptor_cred_empty(m, name, &cred)
		}); err != nil {
			return nil, err
		}
		for _, k := range cfg.Keys {
			if len(k.Key) == 0 {
				releaseCred(cred)
				return nil, &Error{Op: "add key", Major: StatusFailure, Message: "empty key for " + k.Principal}
			}
			p := C.CString(k.Principal)
			_, err := call("add key", func(m *C.uint32_t) C.uint32_t {
				return C.krbap_cred_add_key(m, cred, p, C.uint32_t(k.Kvno), C.int32_t(k.Enctype),
					(*C.uint8_t)(unsafe.Pointer(&k.Key[0])), C.size_t(len(k.Key)))
			})
			C.free(unsafe.Pointer(p))
			if err != nil {
				releaseCred(cred)
				return nil, err
			}
		}
	} else {
		elems := newStore()
		defer elems.free()
		elems.add("keytab", cfg.Keytab)
		if _, err := call("acquire acceptor", func(m *C.uint32_t) C.uint32_t {
			return C.krbap_acquire_cred_from(m, name, C.KRBAP_C_ACCEPT, elems.ptr(), C.size_t(len(elems.e)), &cred, nil)
		}); err != nil {
			return nil, err
		}
	}
	if err := configureAcceptor(cred, cfg); err != nil {
		releaseCred(cred)
		return nil, err
	}
	a := &Acceptor{cred: cred}
	runtime.SetFinalizer(a, func(a *Acceptor) { finalized.Add(1); a.Close() })
	return a, nil
}

func configureAcceptor(cred *C.krbap_cred, cfg AcceptorConfig) error {
	if cfg.ReplayCache != "" {
		rc := C.CString(cfg.ReplayCache)
		defer C.free(unsafe.Pointer(rc))
		if _, err := call("set replay cache", func(m *C.uint32_t) C.uint32_t {
			return C.krbap_cred_set_replay_cache(m, cred, rc)
		}); err != nil {
			return err
		}
	}
	if cfg.ReplayCacheMaxBytes != 0 {
		if err := setReplayCacheMaxBytes(cred, cfg.ReplayCacheMaxBytes); err != nil {
			return err
		}
	}
	if cfg.PACPolicy != PACVerify {
		if _, err := call("set PAC policy", func(m *C.uint32_t) C.uint32_t {
			return C.krbap_cred_set_pac_policy(m, cred, C.uint32_t(cfg.PACPolicy))
		}); err != nil {
			return err
		}
	}
	if cfg.PACKDCKeytab != "" {
		kt := C.CString(cfg.PACKDCKeytab)
		defer C.free(unsafe.Pointer(kt))
		if _, err := call("set PAC KDC keytab", func(m *C.uint32_t) C.uint32_t {
			return C.krbap_cred_set_pac_kdc_keytab(m, cred, kt)
		}); err != nil {
			return err
		}
	}
	if cfg.ClockSkew != 0 {
		if cfg.ClockSkew < 0 {
			return &Error{Op: "set clock skew", Major: StatusFailure, Message: "negative clock skew"}
		}
		secs := int64((cfg.ClockSkew + time.Second - 1) / time.Second)
		if _, err := call("set clock skew", func(m *C.uint32_t) C.uint32_t {
			return C.krbap_cred_set_clock_skew(m, cred, C.int64_t(secs))
		}); err != nil {
			return err
		}
	}
	return setCredTime(cred, cfg.Time)
}

func setCredTime(cred *C.krbap_cred, t time.Time) error {
	if t.IsZero() {
		return nil
	}
	_, err := call("set time", func(m *C.uint32_t) C.uint32_t {
		return C.krbap_cred_set_time(m, cred, C.int64_t(t.Unix()))
	})
	return err
}

// SetTime fixes the acceptor's clock (and that of contexts accepted afterwards) at t;
// the zero Time returns to the system clock.
func (a *Acceptor) SetTime(t time.Time) error {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.cred == nil {
		return ErrClosed
	}
	var unix int64
	if !t.IsZero() {
		unix = t.Unix()
	}
	_, err := call("set time", func(m *C.uint32_t) C.uint32_t {
		return C.krbap_cred_set_time(m, a.cred, C.int64_t(unix))
	})
	return err
}

// Close releases the credential (keys are wiped when the last context using them is
// closed too). It waits for calls in progress; later calls return ErrClosed.
func (a *Acceptor) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	releaseCred(a.cred)
	a.cred = nil
	runtime.SetFinalizer(a, nil)
	return nil
}

// InitiatorConfig says where a client's credentials come from. The zero value uses the
// default ccache (KRB5CCNAME, else /tmp/krb5cc_UID).
type InitiatorConfig struct {
	// CCache is "FILE:/path" or a path; "" is the default ccache.
	CCache string
	// ClientKeytab holds the client's keys: a missing ccache or TGT is replaced by one
	// from the KDC (AS exchange) and stored in the ccache. "": KRB5_CLIENT_KTNAME.
	ClientKeytab string
	// Principal selects the client ("" = the ccache's own principal), read as
	// PrincipalType says.
	Principal     string
	PrincipalType NameType // zero: UserName
	// Time fixes the initiator's clock (tests); zero: the system clock.
	Time time.Time
}

// Initiator is a client's credential. It may be shared by any number of goroutines.
type Initiator struct {
	mu   sync.RWMutex
	cred *C.krbap_cred
}

// NewInitiator acquires an initiator credential.
func NewInitiator(cfg InitiatorConfig) (*Initiator, error) {
	var name *C.krbap_name
	if cfg.Principal != "" {
		nt := cfg.PrincipalType
		if nt == 0 {
			nt = UserName
		}
		var err error
		if name, err = importName(cfg.Principal, nt); err != nil {
			return nil, err
		}
		defer releaseName(name)
	}
	elems := newStore()
	defer elems.free()
	elems.add("ccache", cfg.CCache)
	elems.add("client_keytab", cfg.ClientKeytab)
	var cred *C.krbap_cred
	if _, err := call("acquire initiator", func(m *C.uint32_t) C.uint32_t {
		return C.krbap_acquire_cred_from(m, name, C.KRBAP_C_INITIATE, elems.ptr(), C.size_t(len(elems.e)), &cred, nil)
	}); err != nil {
		return nil, err
	}
	if err := setCredTime(cred, cfg.Time); err != nil {
		releaseCred(cred)
		return nil, err
	}
	i := &Initiator{cred: cred}
	runtime.SetFinalizer(i, func(i *Initiator) { finalized.Add(1); i.Close() })
	return i, nil
}

// Principal is the client principal of the credential, e.g. "alice@EXAMPLE.COM".
func (i *Initiator) Principal() (string, error) {
	i.mu.RLock()
	defer i.mu.RUnlock()
	if i.cred == nil {
		return "", ErrClosed
	}
	var name *C.krbap_name
	if _, err := call("inquire cred", func(m *C.uint32_t) C.uint32_t {
		return C.krbap_inquire_cred(m, i.cred, &name, nil, nil)
	}); err != nil {
		return "", err
	}
	defer releaseName(name)
	return displayName(name)
}

// Close releases the credential. It waits for calls in progress.
func (i *Initiator) Close() error {
	i.mu.Lock()
	defer i.mu.Unlock()
	releaseCred(i.cred)
	i.cred = nil
	runtime.SetFinalizer(i, nil)
	return nil
}

// The release helpers take the handle by value: cgo checks a Go pointer argument
// against the whole object it points into, so &struct.field of a struct holding Go
// pointers must not be passed.
func releaseCred(c *C.krbap_cred) {
	if c != nil {
		var m C.uint32_t
		C.krbap_release_cred(&m, &c)
	}
}

func importName(s string, nt NameType) (*C.krbap_name, error) {
	if nt == 0 {
		nt = HostBasedService
	}
	b := []byte(s)
	var name *C.krbap_name
	_, err := call("import name", func(m *C.uint32_t) C.uint32_t {
		return C.kg_import_name(m, bytesPtr(b), C.size_t(len(b)), C.int32_t(nt), &name)
	})
	return name, err
}

func releaseName(n *C.krbap_name) {
	if n != nil {
		var m C.uint32_t
		C.krbap_release_name(&m, &n)
	}
}

func displayName(n *C.krbap_name) (string, error) {
	if n == nil {
		return "", nil
	}
	var buf C.krbap_buffer
	if _, err := call("display name", func(m *C.uint32_t) C.uint32_t {
		return C.krbap_display_name(m, n, &buf)
	}); err != nil {
		return "", err
	}
	return takeString(&buf), nil
}

// store is a credential-store element array in C memory (its strings too), so that
// passing it to C breaks no cgo pointer rule.
type store struct{ e []C.krbap_cred_store_element }

func newStore() *store { return &store{} }

func (s *store) add(key, value string) {
	if value == "" {
		return
	}
	s.e = append(s.e, C.krbap_cred_store_element{key: C.CString(key), value: C.CString(value)})
}

func (s *store) ptr() *C.krbap_cred_store_element {
	if len(s.e) == 0 {
		return nil
	}
	return &s.e[0]
}

func (s *store) free() {
	for _, e := range s.e {
		C.free(unsafe.Pointer(e.key))
		C.free(unsafe.Pointer(e.value))
	}
	s.e = nil
}
