package krbap

// The typed PAC from Go against the project's PAC fixtures: tokens from a Samba AD DC
// (tests/data/samba-ad: LOGON_INFO, UPN_DNS_INFO, CONSTRAINED_DELEGATION, four
// signatures), compared field by field with what Samba's own NDR decoder saw
// (<case>.samba.txt), and tokens from MIT krb5 1.20's KDC (tests/data/mit-pac: a PAC
// without LOGON_INFO); the KDC keys, the policies, ParsePAC and malformed PACs.

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func pacData(parts ...string) string {
	return filepath.Join(append([]string{repoRoot, "tests", "data"}, parts...)...)
}

// pacTimes reads a times.txt ("case unix-seconds" lines).
func pacTimes(t testing.TB, dir string) map[string]time.Time {
	t.Helper()
	b, err := os.ReadFile(pacData(dir, "times.txt"))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]time.Time{}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(l)
		n, err := strconv.ParseInt(f[1], 10, 64)
		if len(f) != 2 || err != nil {
			t.Fatalf("%s/times.txt: %q", dir, l)
		}
		m[f[0]] = time.Unix(n, 0)
	}
	return m
}

// acceptFixture accepts tests/data/DIR/CASE.token with keytab at the token's time.
func acceptFixture(t *testing.T, dir, c, keytab string, cfg AcceptorConfig) (*Context, error) {
	t.Helper()
	cfg.Keytab = pacData(dir, keytab)
	cfg.Time = pacTimes(t, dir)[c]
	cfg.ReplayCache = "none:" // the same token is accepted under several settings
	acc, err := NewAcceptor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { acc.Close() })
	tok, err := os.ReadFile(pacData(dir, c+".token"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, _, err := acc.Accept(tok)
	if err == nil {
		t.Cleanup(func() { ctx.Close() })
	}
	return ctx, err
}

// filetime converts a raw FILETIME of a samba.txt to what the PAC gives.
func filetime(t *testing.T, s string) time.Time {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatalf("FILETIME %q", s)
	}
	if n == 0x7fffffffffffffff {
		return time.Time{}
	}
	return time.Unix(int64(n/10_000_000)-11_644_473_600, 0).UTC()
}

func num(t *testing.T, s string) uint64 {
	n, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		t.Fatalf("number %q", s)
	}
	return n
}

// samba compares p with tests/data/samba-ad/CASE.samba.txt; every line is checked.
func compareSamba(t *testing.T, c string, p *PAC) {
	f, err := os.Open(pacData("samba-ad", c+".samba.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	li := p.LogonInfo
	if li == nil || p.UPN == nil {
		t.Fatalf("no LOGON_INFO or UPN_DNS_INFO: %+v", p)
	}
	var groups []PACGroup
	domainSID := ""
	checked := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), "=")
		var got, want any = nil, v
		switch k {
		case "buffers":
			var b []string
			for _, x := range p.Buffers {
				b = append(b, fmt.Sprintf("%d/%d", x.Type, len(x.Data)))
			}
			got = strings.Join(b, " ")
		case "logon.logon_time", "logon.logoff_time", "logon.kick_off_time", "logon.password_last_set",
			"logon.password_can_change", "logon.password_must_change":
			want = filetime(t, v)
			got = map[string]time.Time{"logon.logon_time": li.LogonTime, "logon.logoff_time": li.LogoffTime,
				"logon.kick_off_time": li.KickOffTime, "logon.password_last_set": li.PasswordLastSet,
				"logon.password_can_change": li.PasswordCanChange, "logon.password_must_change": li.PasswordMustChange}[k]
		case "logon.effective_name":
			got = li.EffectiveName
		case "logon.full_name":
			got = li.FullName
		case "logon.logon_script":
			got = li.LogonScript
		case "logon.profile_path":
			got = li.ProfilePath
		case "logon.home_directory":
			got = li.HomeDirectory
		case "logon.home_directory_drive":
			got = li.HomeDirectoryDrive
		case "logon.logon_server":
			got = li.LogonServer
		case "logon.logon_domain_name":
			got = li.LogonDomainName
		case "logon.logon_domain_id":
			got, domainSID = li.LogonDomainSID, v
		case "logon.logon_count":
			got, want = uint64(li.LogonCount), num(t, v)
		case "logon.bad_password_count":
			got, want = uint64(li.BadPasswordCount), num(t, v)
		case "logon.user_id":
			got, want = uint64(li.UserID), num(t, v)
			if li.UserSID != li.LogonDomainSID+"-"+v {
				t.Errorf("UserSID %q, domain %q RID %s", li.UserSID, li.LogonDomainSID, v)
			}
		case "logon.primary_group_id":
			got, want = uint64(li.PrimaryGroupID), num(t, v)
			if li.PrimaryGroupSID != li.LogonDomainSID+"-"+v {
				t.Errorf("PrimaryGroupSID %q", li.PrimaryGroupSID)
			}
		case "logon.user_flags":
			got, want = uint64(li.UserFlags), num(t, v)
		case "logon.user_account_control":
			got, want = uint64(li.UserAccountControl), num(t, v)
		case "logon.group_id", "logon.extra_sid", "logon.resource_group_id":
			sid, attrs, _ := strings.Cut(v, " ")
			g := PACGroup{SID: sid, Attributes: uint32(num(t, attrs)), Source: ExtraSIDs}
			if k == "logon.group_id" {
				g.SID, g.Source = "-"+sid, GroupIDs // a RID: the domain SID comes later in the file
			} else if k == "logon.resource_group_id" {
				g.Source = ResourceGroups
			}
			groups = append(groups, g)
			checked++
			continue
		case "logon.resource_group_domain_sid":
			got = li.ResourceGroupDomainSID
			if v == "-" {
				want = ""
			}
		case "client.client_id":
			got, want = p.AuthTime, filetime(t, v)
		case "client.name":
			got = p.ClientName
		case "upn.upn":
			got = p.UPN.UPN
		case "upn.dns_domain":
			got = p.UPN.DNSDomain
		case "upn.flags":
			got, want = uint64(p.UPN.Flags), num(t, v)
		case "upn.sam_name":
			got = p.UPN.SamName
		case "upn.sid":
			got = p.UPN.SID
		case "deleg.proxy_target":
			got = p.Delegation.ProxyTarget
		case "deleg.transited_count":
			got, want = uint64(len(p.Delegation.Transited)), num(t, v)
		case "deleg.transited":
			got = strings.Join(p.Delegation.Transited, " ")
		case "logon.group_count", "logon.sid_count", "logon.resource_group_count":
			continue // the lists are compared whole below
		default:
			if strings.HasPrefix(k, "signature.") {
				typ := uint32(num(t, strings.TrimPrefix(k, "signature.")))
				s := p.Signatures[typ]
				got = fmt.Sprintf("%d %s", s.Type, hex.EncodeToString(s.Signature))
				break
			}
			continue // fields the Go API does not carry (reserved, sub_auth_status, ...)
		}
		checked++
		if got != want {
			t.Errorf("%s: %v, Samba says %v", k, got, want)
		}
	}
	for i := range groups {
		if groups[i].Source == GroupIDs {
			groups[i].SID = domainSID + groups[i].SID
		}
	}
	if domainSID == "" || fmt.Sprint(groups) != fmt.Sprint(li.Groups) {
		t.Errorf("groups %v, Samba says %v", li.Groups, groups)
	}
	if checked < 30 {
		t.Errorf("only %d fields compared", checked)
	}
}

func TestPACSambaAD(t *testing.T) {
	for _, c := range []struct{ name, keytab string }{
		{"alice", "svc.keytab"}, {"bob", "svc.keytab"}, {"carol", "svc.keytab"}, {"s4u2proxy", "ws1.keytab"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, err := acceptFixture(t, "samba-ad", c.name, c.keytab, AcceptorConfig{})
			if err != nil {
				t.Fatal(err)
			}
			p, err := ctx.PAC()
			if err != nil {
				t.Fatal(err)
			}
			if p.Verified != PACServerSignature || p.VerifyFailure != "" {
				t.Errorf("verified %b %q, want the server signature", p.Verified, p.VerifyFailure)
			}
			compareSamba(t, c.name, p)
			if (p.Delegation != nil) != (c.name == "s4u2proxy") {
				t.Errorf("delegation %+v", p.Delegation)
			}
			// The raw PAC is MIT's view of it (<case>.pac); ParsePAC reads the same,
			// unverified.
			raw, err := ctx.RawPAC()
			if err != nil {
				t.Fatal(err)
			}
			want, _ := os.ReadFile(pacData("samba-ad", c.name+".pac"))
			if !bytes.Equal(raw, want) {
				t.Errorf("RawPAC differs from %s.pac", c.name)
			}
			q, err := ParsePAC(raw)
			if err != nil {
				t.Fatal(err)
			}
			if q.Verified != 0 {
				t.Errorf("ParsePAC: verified %b", q.Verified)
			}
			q.Verified = p.Verified
			if fmt.Sprintf("%+v %+v %+v", *q.LogonInfo, *q.UPN, q.Buffers) != fmt.Sprintf("%+v %+v %+v", *p.LogonInfo, *p.UPN, p.Buffers) {
				t.Error("ParsePAC reads another PAC than the context's")
			}
		})
	}
	// carol's full name has non-ASCII letters and a UTF-16 surrogate pair.
	ctx, err := acceptFixture(t, "samba-ad", "carol", "svc.keytab", AcceptorConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := ctx.PAC(); err != nil || p.LogonInfo.FullName != "Carol Ümläut 𝄞" {
		t.Errorf("carol: %v %q", err, p.LogonInfo.FullName)
	}
}

// The KDC's keys verify the other three signatures; another realm's fail the accept
// (default) or leave the PAC unverified with the reason (PACAllowUnverified).
func TestPACKDCKeysAndPolicies(t *testing.T) {
	all := PACServerSignature | PACKDCSignature | PACTicketSignature | PACFullSignature
	ctx, err := acceptFixture(t, "samba-ad", "alice", "svc.keytab", AcceptorConfig{PACKDCKeytab: pacData("samba-ad", "krbtgt.keytab")})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := ctx.PAC(); err != nil || p.Verified != all {
		t.Errorf("with the krbtgt key: %v %b, want %b", err, p.Verified, all)
	}
	wrongKDC := pacData("mit-pac", "krbtgt.keytab")
	_, err = acceptFixture(t, "samba-ad", "alice", "svc.keytab", AcceptorConfig{PACKDCKeytab: wrongKDC})
	var e *Error
	if !errors.As(err, &e) || e.Name != "KRB5KRB_AP_ERR_MODIFIED" || !strings.Contains(e.Message, "KDC signature") {
		t.Errorf("another realm's KDC key: %#v, want KRB5KRB_AP_ERR_MODIFIED naming the KDC signature", err)
	}
	ctx, err = acceptFixture(t, "samba-ad", "alice", "svc.keytab", AcceptorConfig{PACKDCKeytab: wrongKDC, PACPolicy: PACAllowUnverified})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := ctx.PAC(); err != nil || p.Verified != 0 || !strings.Contains(p.VerifyFailure, "KDC signature") ||
		p.LogonInfo.EffectiveName != "alice" {
		t.Errorf("PACAllowUnverified: %v %+v", err, p)
	}
	if _, err := NewAcceptor(AcceptorConfig{Keytab: pacData("samba-ad", "svc.keytab"), PACPolicy: 7}); !isRoutine(err, StatusFailure) {
		t.Errorf("unknown policy: %v", err)
	}
	if _, err := NewAcceptor(AcceptorConfig{Keytab: pacData("samba-ad", "svc.keytab"), PACKDCKeytab: "/nonexistent/krbtgt.keytab"}); err == nil {
		t.Error("a KDC keytab that does not exist was taken")
	}
}

// MIT's KDC (1.20) PAC: CLIENT_INFO and signatures only; ticket signature with its krbtgt.
func TestPACMITKDC(t *testing.T) {
	for _, svc := range []string{"test", "test-aes256-sha1", "test-aes128-sha1", "test-aes256-sha384", "test-aes128-sha256"} {
		t.Run(svc, func(t *testing.T) {
			ctx, err := acceptFixture(t, "mit-pac", svc, "service.keytab", AcceptorConfig{PACKDCKeytab: pacData("mit-pac", "krbtgt.keytab")})
			if err != nil {
				t.Fatal(err)
			}
			p, err := ctx.PAC()
			if err != nil {
				t.Fatal(err)
			}
			if want := PACServerSignature | PACKDCSignature | PACTicketSignature; p.Verified != want {
				t.Errorf("verified %b, want %b", p.Verified, want)
			}
			if p.LogonInfo != nil || p.UPN != nil || p.Delegation != nil || p.ClientName != "alice" {
				t.Errorf("%+v", p)
			}
			if !p.AuthTime.After(time.Unix(1796539494-86400, 0)) || p.AuthTime.After(time.Unix(1796539494, 0)) {
				t.Errorf("AuthTime %v", p.AuthTime)
			}
			if _, ok := p.Signatures[PACServerChecksumBuffer]; !ok || p.Buffer(PACClientInfoBuffer) == nil {
				t.Errorf("signatures %v, CLIENT_INFO %x", p.Signatures, p.Buffer(PACClientInfoBuffer))
			}
		})
	}
}

// Malformed PACs are an *Error with the reason; a ticket without a PAC is ErrNoPAC, and
// under PACRequire refused.
func TestPACErrors(t *testing.T) {
	raw, err := os.ReadFile(pacData("samba-ad", "alice.pac"))
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{
		"empty":     nil,
		"garbage":   []byte("not a PAC at all"),
		"truncated": raw[:len(raw)/2],
		"version 1": append([]byte{raw[0], raw[1], raw[2], raw[3], 1}, raw[5:]...),
	} {
		_, err := ParsePAC(b)
		var e *Error
		if !errors.As(err, &e) || e.Routine() != StatusFailure || e.Message == "" {
			t.Errorf("%s: %#v", name, err)
		}
	}
	// tests/data/mit-capture's token (MIT 1.20's KDC): PAC and RawPAC agree; PACRequire
	// takes it.
	at := captureTime(t, "mutual")
	acc, err := NewAcceptor(AcceptorConfig{Keytab: capture("service.keytab"), Time: at, PACPolicy: PACRequire})
	if err != nil {
		t.Fatal(err)
	}
	defer acc.Close()
	ctx, _, err := acc.Accept(readCapture(t, "mutual", "initial_token.bin"))
	if err != nil {
		t.Fatal(err)
	}
	raw, rawErr := ctx.RawPAC()
	p, pacErr := ctx.PAC()
	if rawErr != nil || pacErr != nil || p.ClientName != "alice" || p.Verified != PACServerSignature {
		t.Fatalf("RawPAC %v, PAC %v %+v", rawErr, pacErr, p)
	}
	if q, err := ParsePAC(raw); err != nil || fmt.Sprint(q.Buffers) != fmt.Sprint(p.Buffers) {
		t.Errorf("ParsePAC(RawPAC): %v", err)
	}
	ctx.Close()
	if _, err := ctx.PAC(); err != ErrClosed {
		t.Errorf("PAC on a closed context: %v", err)
	}
}
