package krbap

// #include "shim.h"
import "C"

import (
	"errors"
	"math"
	"time"
)

// The Windows PAC (MS-PAC) of an accepted context, read through the library's typed PAC
// API (krbap_ctx_get_pac, krbap_pac_*): the library parses, verifies and decodes; this
// file only copies the fields into Go values.

// PACPolicy says what Accept does with a ticket's PAC (krbap_cred_set_pac_policy).
type PACPolicy uint32

const (
	// PACVerify (the default): a PAC must verify or Accept fails; a ticket without a
	// PAC is accepted.
	PACVerify PACPolicy = C.KRBAP_PAC_VERIFY
	// PACRequire: as PACVerify, and a ticket without a PAC fails.
	PACRequire PACPolicy = C.KRBAP_PAC_REQUIRE
	// PACAllowUnverified is MIT krb5's behaviour: a PAC that fails verification does not
	// fail Accept; the PAC reports Verified 0 and the reason.
	PACAllowUnverified PACPolicy = C.KRBAP_PAC_ALLOW_UNVERIFIED
)

// PACSignatures are the signatures of a PAC that verified at Accept.
type PACSignatures uint32

const (
	// PACServerSignature: the server signature verified with the service key, and
	// CLIENT_INFO matched the ticket.
	PACServerSignature PACSignatures = C.KRBAP_PAC_SERVER_SIGNATURE
	// PACKDCSignature: the KDC signature, with AcceptorConfig.PACKDCKeytab's keys.
	PACKDCSignature PACSignatures = C.KRBAP_PAC_KDC_SIGNATURE
	// PACTicketSignature: the ticket signature (MS-PAC §2.8.3), with the KDC's keys.
	PACTicketSignature PACSignatures = C.KRBAP_PAC_TICKET_SIGNATURE
	// PACFullSignature: the full PAC signature (MS-PAC §2.8.4), with the KDC's keys.
	PACFullSignature PACSignatures = C.KRBAP_PAC_FULL_SIGNATURE
)

// PAC buffer types (MS-PAC §2.4), for PAC.Buffers and PAC.Buffer.
const (
	PACLogonInfoBuffer             = C.KRBAP_PAC_LOGON_INFO
	PACCredentialsInfoBuffer       = C.KRBAP_PAC_CREDENTIALS_INFO
	PACServerChecksumBuffer        = C.KRBAP_PAC_SERVER_CHECKSUM
	PACPrivSvrChecksumBuffer       = C.KRBAP_PAC_PRIVSVR_CHECKSUM
	PACClientInfoBuffer            = C.KRBAP_PAC_CLIENT_INFO
	PACConstrainedDelegationBuffer = C.KRBAP_PAC_CONSTRAINED_DELEGATION
	PACUPNDNSInfoBuffer            = C.KRBAP_PAC_UPN_DNS_INFO
	PACClientClaimsInfoBuffer      = C.KRBAP_PAC_CLIENT_CLAIMS_INFO
	PACDeviceInfoBuffer            = C.KRBAP_PAC_DEVICE_INFO
	PACDeviceClaimsInfoBuffer      = C.KRBAP_PAC_DEVICE_CLAIMS_INFO
	PACTicketChecksumBuffer        = C.KRBAP_PAC_TICKET_CHECKSUM
	PACAttributesInfoBuffer        = C.KRBAP_PAC_ATTRIBUTES_INFO
	PACRequestorSIDBuffer          = C.KRBAP_PAC_REQUESTOR_SID
	PACFullChecksumBuffer          = C.KRBAP_PAC_FULL_CHECKSUM
)

// GroupSource is where a group of LOGON_INFO came from.
type GroupSource uint32

const (
	// GroupIDs: the logon domain's groups (GroupIds).
	GroupIDs GroupSource = C.KRBAP_PAC_GROUP_IDS
	// ExtraSIDs: other domains' and well-known SIDs (ExtraSids, e.g. S-1-18-1).
	ExtraSIDs GroupSource = C.KRBAP_PAC_EXTRA_SIDS
	// ResourceGroups: domain-local groups of the resource domain (ResourceGroupIds).
	ResourceGroups GroupSource = C.KRBAP_PAC_RESOURCE_GROUPS
)

// SE_GROUP_* attribute bits of a group (MS-PAC §2.2.1).
const (
	SEGroupMandatory        uint32 = C.KRBAP_SE_GROUP_MANDATORY
	SEGroupEnabledByDefault uint32 = C.KRBAP_SE_GROUP_ENABLED_BY_DEFAULT
	SEGroupEnabled          uint32 = C.KRBAP_SE_GROUP_ENABLED
	SEGroupOwner            uint32 = C.KRBAP_SE_GROUP_OWNER
	SEGroupUseForDenyOnly   uint32 = C.KRBAP_SE_GROUP_USE_FOR_DENY_ONLY
	SEGroupIntegrity        uint32 = C.KRBAP_SE_GROUP_INTEGRITY
	SEGroupIntegrityEnabled uint32 = C.KRBAP_SE_GROUP_INTEGRITY_ENABLED
	SEGroupResource         uint32 = C.KRBAP_SE_GROUP_RESOURCE
	SEGroupLogonID          uint32 = C.KRBAP_SE_GROUP_LOGON_ID
)

// PACGroup is one group SID of the user.
type PACGroup struct {
	SID        string // "S-1-5-21-…-1107"
	Attributes uint32 // SEGroup* bits
	Source     GroupSource
}

// PACLogonInfo is LOGON_INFO (KERB_VALIDATION_INFO, MS-PAC §2.5): who the user is to
// Windows. Times are UTC; "never" (0x7fffffffffffffff) is the zero time.Time.
type PACLogonInfo struct {
	EffectiveName      string // the account name (sAMAccountName)
	FullName           string
	LogonScript        string
	ProfilePath        string
	HomeDirectory      string
	HomeDirectoryDrive string
	LogonServer        string
	LogonDomainName    string // the NetBIOS domain name
	LogonDomainSID     string
	UserID             uint32 // the user's RID
	PrimaryGroupID     uint32
	UserSID            string // LogonDomainSID + UserID
	PrimaryGroupSID    string // LogonDomainSID + PrimaryGroupID
	Groups             []PACGroup
	// ResourceGroupDomainSID is the resource domain's SID ("" when none).
	ResourceGroupDomainSID string
	UserFlags              uint32 // LOGON_EXTRA_SIDS 0x20, LOGON_RESOURCE_GROUPS 0x200
	UserAccountControl     uint32 // SAM ACB_* bits
	LogonCount             uint32
	BadPasswordCount       uint32
	LogonTime              time.Time
	LogoffTime             time.Time
	KickOffTime            time.Time
	PasswordLastSet        time.Time
	PasswordCanChange      time.Time
	PasswordMustChange     time.Time
}

// PACUPNInfo is UPN_DNS_INFO (MS-PAC §2.10).
type PACUPNInfo struct {
	UPN       string // "alice@ad.test"
	DNSDomain string // "AD.TEST"
	Flags     uint32 // 1: the UPN was constructed (the account has none); 2: SamName and SID present
	SamName   string // "" unless Flags has 2
	SID       string // "" unless Flags has 2
}

// PACDelegation is CONSTRAINED_DELEGATION (S4U_DELEGATION_INFO, MS-PAC §2.9): the ticket
// came through S4U2proxy.
type PACDelegation struct {
	ProxyTarget string   // the service the ticket was obtained for
	Transited   []string // the services that obtained it ("svc@AD.TEST")
}

// PACBuffer is one buffer of the PAC, raw (claims and device buffers are not decoded).
type PACBuffer struct {
	Type uint32 // PAC*Buffer
	Data []byte
}

// PACSignature is a signature buffer: its SignatureType (16 hmac-sha1-96-aes256, 20
// hmac-sha384-192-aes256, -138 RC4's HMAC-MD5, ...) and bytes.
type PACSignature struct {
	Type      int32
	Signature []byte
}

// PAC is the Windows PAC of a ticket, decoded. Sections the PAC does not have are nil (an
// MIT KDC's PAC has no LOGON_INFO or UPN_DNS_INFO).
type PAC struct {
	// Verified are the signatures that verified at Accept: PACServerSignature at least
	// under the default policy; 0 for ParsePAC or under PACAllowUnverified when the PAC
	// failed, with the reason in VerifyFailure.
	Verified      PACSignatures
	VerifyFailure string
	LogonInfo     *PACLogonInfo
	// ClientName and AuthTime are CLIENT_INFO (the ticket's client without realm and its
	// authtime); empty and zero without it.
	ClientName string
	AuthTime   time.Time
	UPN        *PACUPNInfo
	Delegation *PACDelegation
	// RequestorSID is REQUESTOR_SID ("" without it).
	RequestorSID string
	// AttributesFlags is ATTRIBUTES_INFO's Flags (1: the PAC was requested, 2: given
	// without request); HasAttributes says whether the buffer is there.
	AttributesFlags uint32
	HasAttributes   bool
	// Signatures by buffer type (PACServerChecksumBuffer, PACPrivSvrChecksumBuffer, ...).
	Signatures map[uint32]PACSignature
	// Buffers are every buffer in PAC order, raw.
	Buffers []PACBuffer
}

// Buffer is the raw data of the first buffer of type typ, or nil.
func (p *PAC) Buffer(typ uint32) []byte {
	for _, b := range p.Buffers {
		if b.Type == typ {
			return b.Data
		}
	}
	return nil
}

// PAC is the ticket's PAC, decoded (its content is decoded once, on the first call, by
// the library), or ErrNoPAC. A PAC whose content does not decode is an *Error with the
// reason.
func (c *Context) PAC() (*PAC, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx == nil {
		return nil, ErrClosed
	}
	var h *C.krbap_pac
	_, err := call("get PAC", func(m *C.uint32_t) C.uint32_t {
		return C.krbap_ctx_get_pac(m, c.ctx, &h)
	})
	if isRoutine(err, StatusUnavailable) {
		return nil, ErrNoPAC
	}
	if err != nil {
		return nil, err
	}
	defer releasePAC(h)
	return readPAC(h)
}

// ParsePAC decodes PAC bytes (RawPAC's, or a PAC from elsewhere). Nothing is verified:
// Verified is 0. A malformed PAC is an *Error with the reason.
func ParsePAC(raw []byte) (*PAC, error) {
	var h *C.krbap_pac
	if _, err := call("import PAC", func(m *C.uint32_t) C.uint32_t {
		return C.kg_import_pac(m, bytesPtr(raw), C.size_t(len(raw)), &h)
	}); err != nil {
		return nil, err
	}
	defer releasePAC(h)
	return readPAC(h)
}

func releasePAC(h *C.krbap_pac) {
	var m C.uint32_t
	C.krbap_release_pac(&m, &h)
}

func isRoutine(err error, routine uint32) bool {
	var e *Error
	return errors.As(err, &e) && e.Routine() == routine
}

// pacReader reads fields of one handle; absent fields (UNAVAILABLE) read as zero, the
// first other error is kept.
type pacReader struct {
	h   *C.krbap_pac
	err error
}

func (r *pacReader) ok(err error) bool {
	if err == nil {
		return true
	}
	if !isRoutine(err, StatusUnavailable) && r.err == nil {
		r.err = err
	}
	return false
}

func (r *pacReader) str(field C.uint32_t) string {
	var b C.krbap_buffer
	_, err := call("PAC string", func(m *C.uint32_t) C.uint32_t {
		return C.krbap_pac_get_string(m, r.h, field, &b)
	})
	s := takeString(&b)
	if !r.ok(err) {
		return ""
	}
	return s
}

func (r *pacReader) num(field C.uint32_t) uint64 {
	var v C.uint64_t
	if _, err := call("PAC number", func(m *C.uint32_t) C.uint32_t {
		return C.krbap_pac_get_number(m, r.h, field, &v)
	}); !r.ok(err) {
		return 0
	}
	return uint64(v)
}

func (r *pacReader) time(field C.uint32_t) time.Time {
	var v C.int64_t
	if _, err := call("PAC time", func(m *C.uint32_t) C.uint32_t {
		return C.krbap_pac_get_time(m, r.h, field, &v)
	}); !r.ok(err) || int64(v) == math.MaxInt64 {
		return time.Time{}
	}
	return time.Unix(int64(v), 0).UTC()
}

func (r *pacReader) count(f func(m *C.uint32_t, n *C.size_t) C.uint32_t) int {
	var n C.size_t
	if _, err := call("PAC count", func(m *C.uint32_t) C.uint32_t { return f(m, &n) }); !r.ok(err) {
		return 0
	}
	return int(n)
}

func readPAC(h *C.krbap_pac) (*PAC, error) {
	r := &pacReader{h: h}
	p := &PAC{Signatures: map[uint32]PACSignature{}}

	var verified C.uint32_t
	var failure C.krbap_buffer
	_, err := call("PAC verified", func(m *C.uint32_t) C.uint32_t {
		return C.krbap_pac_get_verified(m, h, &verified, &failure)
	})
	p.VerifyFailure = takeString(&failure)
	if err != nil {
		return nil, err
	}
	p.Verified = PACSignatures(verified)

	n := r.count(func(m *C.uint32_t, n *C.size_t) C.uint32_t { return C.krbap_pac_buffer_count(m, h, n) })
	has := map[uint32]bool{}
	for i := 0; i < n; i++ {
		var typ C.uint32_t
		var data C.krbap_buffer
		_, err := call("PAC buffer", func(m *C.uint32_t) C.uint32_t {
			return C.krbap_pac_get_buffer(m, h, C.size_t(i), &typ, &data)
		})
		b := takeBytes(&data)
		if !r.ok(err) {
			break
		}
		if b == nil {
			b = []byte{}
		}
		p.Buffers = append(p.Buffers, PACBuffer{Type: uint32(typ), Data: b})
		has[uint32(typ)] = true
	}
	for _, typ := range []uint32{PACServerChecksumBuffer, PACPrivSvrChecksumBuffer, PACTicketChecksumBuffer, PACFullChecksumBuffer} {
		if !has[typ] {
			continue
		}
		var st C.int32_t
		var sig C.krbap_buffer
		_, err := call("PAC signature", func(m *C.uint32_t) C.uint32_t {
			return C.krbap_pac_get_signature(m, h, C.uint32_t(typ), &st, &sig)
		})
		b := takeBytes(&sig)
		if r.ok(err) {
			p.Signatures[typ] = PACSignature{Type: int32(st), Signature: b}
		}
	}

	if has[PACLogonInfoBuffer] {
		li := &PACLogonInfo{
			EffectiveName:          r.str(C.KRBAP_PAC_EFFECTIVE_NAME),
			FullName:               r.str(C.KRBAP_PAC_FULL_NAME),
			LogonScript:            r.str(C.KRBAP_PAC_LOGON_SCRIPT),
			ProfilePath:            r.str(C.KRBAP_PAC_PROFILE_PATH),
			HomeDirectory:          r.str(C.KRBAP_PAC_HOME_DIRECTORY),
			HomeDirectoryDrive:     r.str(C.KRBAP_PAC_HOME_DIRECTORY_DRIVE),
			LogonServer:            r.str(C.KRBAP_PAC_LOGON_SERVER),
			LogonDomainName:        r.str(C.KRBAP_PAC_LOGON_DOMAIN_NAME),
			LogonDomainSID:         r.str(C.KRBAP_PAC_LOGON_DOMAIN_SID),
			UserID:                 uint32(r.num(C.KRBAP_PAC_USER_ID)),
			PrimaryGroupID:         uint32(r.num(C.KRBAP_PAC_PRIMARY_GROUP_ID)),
			UserSID:                r.str(C.KRBAP_PAC_USER_SID),
			PrimaryGroupSID:        r.str(C.KRBAP_PAC_PRIMARY_GROUP_SID),
			ResourceGroupDomainSID: r.str(C.KRBAP_PAC_RESOURCE_GROUP_DOMAIN_SID),
			UserFlags:              uint32(r.num(C.KRBAP_PAC_USER_FLAGS)),
			UserAccountControl:     uint32(r.num(C.KRBAP_PAC_USER_ACCOUNT_CONTROL)),
			LogonCount:             uint32(r.num(C.KRBAP_PAC_LOGON_COUNT)),
			BadPasswordCount:       uint32(r.num(C.KRBAP_PAC_BAD_PASSWORD_COUNT)),
			LogonTime:              r.time(C.KRBAP_PAC_LOGON_TIME),
			LogoffTime:             r.time(C.KRBAP_PAC_LOGOFF_TIME),
			KickOffTime:            r.time(C.KRBAP_PAC_KICK_OFF_TIME),
			PasswordLastSet:        r.time(C.KRBAP_PAC_PASSWORD_LAST_SET),
			PasswordCanChange:      r.time(C.KRBAP_PAC_PASSWORD_CAN_CHANGE),
			PasswordMustChange:     r.time(C.KRBAP_PAC_PASSWORD_MUST_CHANGE),
		}
		ng := r.count(func(m *C.uint32_t, n *C.size_t) C.uint32_t { return C.krbap_pac_group_count(m, h, n) })
		for i := 0; i < ng; i++ {
			var sid C.krbap_buffer
			var attrs, source C.uint32_t
			_, err := call("PAC group", func(m *C.uint32_t) C.uint32_t {
				return C.krbap_pac_get_group(m, h, C.size_t(i), &sid, &attrs, &source)
			})
			s := takeString(&sid)
			if !r.ok(err) {
				break
			}
			li.Groups = append(li.Groups, PACGroup{SID: s, Attributes: uint32(attrs), Source: GroupSource(source)})
		}
		p.LogonInfo = li
	}
	if has[PACClientInfoBuffer] {
		p.ClientName = r.str(C.KRBAP_PAC_CLIENT_NAME)
		p.AuthTime = r.time(C.KRBAP_PAC_CLIENT_ID)
	}
	if has[PACUPNDNSInfoBuffer] {
		p.UPN = &PACUPNInfo{
			UPN:       r.str(C.KRBAP_PAC_UPN),
			DNSDomain: r.str(C.KRBAP_PAC_DNS_DOMAIN),
			Flags:     uint32(r.num(C.KRBAP_PAC_UPN_FLAGS)),
			SamName:   r.str(C.KRBAP_PAC_SAM_NAME),
			SID:       r.str(C.KRBAP_PAC_UPN_SID),
		}
	}
	if has[PACConstrainedDelegationBuffer] {
		d := &PACDelegation{ProxyTarget: r.str(C.KRBAP_PAC_PROXY_TARGET)}
		nt := r.count(func(m *C.uint32_t, n *C.size_t) C.uint32_t { return C.krbap_pac_transited_count(m, h, n) })
		for i := 0; i < nt; i++ {
			var s C.krbap_buffer
			_, err := call("PAC transited", func(m *C.uint32_t) C.uint32_t {
				return C.krbap_pac_get_transited(m, h, C.size_t(i), &s)
			})
			v := takeString(&s)
			if !r.ok(err) {
				break
			}
			d.Transited = append(d.Transited, v)
		}
		p.Delegation = d
	}
	if has[PACAttributesInfoBuffer] {
		p.HasAttributes = true
		p.AttributesFlags = uint32(r.num(C.KRBAP_PAC_ATTRIBUTES_FLAGS))
	}
	if has[PACRequestorSIDBuffer] {
		p.RequestorSID = r.str(C.KRBAP_PAC_REQUESTOR)
	}
	if r.err != nil {
		return nil, r.err
	}
	return p, nil
}
