//! `krbap decode`: explains a GSS token the way an administrator needs it when all a
//! server logged was "GSS failure" — its framing, the AP-REQ fields, and with the
//! service keytab the decrypted ticket and authenticator and the exact reason an
//! acceptor would reject it.

use crate::ap::{self, ServiceKey};
use crate::asn1::{self, ad_type, flags, ApRep, ApReq, Der, KrbError};
use crate::crypto::Key;
use crate::crypto::{usage, Enctype};
use crate::error::minor;
use crate::gss::checksum::{ctx_flags, GssChecksum, CKSUMTYPE_GSSAPI};
use crate::gss::token::{unframe, TOK_AP_REP, TOK_AP_REQ, TOK_KRB_ERROR};
use crate::gss::wrap::{TOK_MIC, TOK_WRAP};
use crate::pac::{self, buffer_type as bt, Pac};
use crate::principal::Principal;
use std::fmt::Write;

/// What `describe` may use: the acceptor's keys, its clock and skew.
pub struct DecodeContext<'a> {
    pub keys: Option<&'a [ServiceKey]>,
    pub now: i64,
    pub skew: i64,
}

fn enctype_name(n: i32) -> String {
    Enctype::from_number(n).map_or(format!("enctype {n}"), |e| e.name().to_string())
}

fn time(t: i64) -> String {
    // KerberosTime's own encoding (YYYYMMDDHHMMSSZ), laid out for reading.
    let k = crate::asn1::time::encode(t);
    let f = |r: std::ops::Range<usize>| String::from_utf8_lossy(&k[r]).into_owned();
    format!(
        "{}-{}-{} {}:{}:{} UTC ({t})",
        f(0..4),
        f(4..6),
        f(6..8),
        f(8..10),
        f(10..12),
        f(12..14)
    )
}

fn flag_names(f: u32, table: &[(u32, &str)]) -> String {
    let names: Vec<&str> = table
        .iter()
        .filter(|(b, _)| f & b != 0)
        .map(|(_, n)| *n)
        .collect();
    format!("{f:#x} [{}]", names.join(" "))
}

const TICKET_FLAGS: &[(u32, &str)] = &[
    (flags::TKT_FORWARDABLE, "forwardable"),
    (flags::TKT_FORWARDED, "forwarded"),
    (flags::TKT_PROXIABLE, "proxiable"),
    (flags::TKT_PROXY, "proxy"),
    (flags::TKT_MAY_POSTDATE, "may-postdate"),
    (flags::TKT_POSTDATED, "postdated"),
    (flags::TKT_INVALID, "INVALID"),
    (flags::TKT_RENEWABLE, "renewable"),
    (flags::TKT_INITIAL, "initial"),
    (flags::TKT_PRE_AUTHENT, "pre-authent"),
    (flags::TKT_HW_AUTHENT, "hw-authent"),
    (
        flags::TKT_TRANSITED_POLICY_CHECKED,
        "transited-policy-checked",
    ),
    (flags::TKT_OK_AS_DELEGATE, "ok-as-delegate"),
];

const GSS_FLAGS: &[(u32, &str)] = &[
    (ctx_flags::DELEG, "DELEG"),
    (ctx_flags::MUTUAL, "MUTUAL"),
    (ctx_flags::REPLAY, "REPLAY"),
    (ctx_flags::SEQUENCE, "SEQUENCE"),
    (ctx_flags::CONF, "CONF"),
    (ctx_flags::INTEG, "INTEG"),
    (ctx_flags::ANON, "ANON"),
    (ctx_flags::TRANS, "TRANS"),
];

/// A readable, multi-line description of `token`; the last line gives the verdict an
/// acceptor with `cx.keys` would reach at `cx.now` (replay cache aside).
pub fn describe(token: &[u8], cx: &DecodeContext) -> String {
    describe_with(token, cx, &[])
}

/// [`describe`], and with the KDC's (krbtgt) keys the PAC's KDC, ticket and full
/// signatures are checked too.
pub fn describe_with(token: &[u8], cx: &DecodeContext, kdc_keys: &[Key]) -> String {
    let mut o = String::new();
    let _ = describe_into(&mut o, token, cx, kdc_keys);
    o
}

fn describe_into(
    o: &mut String,
    token: &[u8],
    cx: &DecodeContext,
    kdc_keys: &[Key],
) -> std::fmt::Result {
    writeln!(o, "token: {} bytes", token.len())?;
    if token.len() >= 2 && (token[..2] == TOK_WRAP || token[..2] == TOK_MIC) && token.len() >= 16 {
        let kind = if token[..2] == TOK_WRAP {
            "Wrap"
        } else {
            "MIC"
        };
        let f = token[2];
        writeln!(o, "RFC 4121 {kind} token: flags {f:#04x} (sent-by-acceptor={}, sealed={}, acceptor-subkey={})",
            f & 1 != 0, f & 2 != 0, f & 4 != 0)?;
        if kind == "Wrap" {
            writeln!(
                o,
                "  EC {} RRC {}",
                u16::from_be_bytes([token[4], token[5]]),
                u16::from_be_bytes([token[6], token[7]])
            )?;
        }
        let seq = u64::from_be_bytes(token[8..16].try_into().unwrap_or_default());
        return writeln!(o, "  SND_SEQ {seq}");
    }
    let (tok_id, inner) = match unframe(token) {
        Ok(v) => v,
        Err(e) => return writeln!(o, "REJECTED: not a krb5 GSS token: {e}"),
    };
    writeln!(
        o,
        "framing: RFC 2743 InitialContextToken, mech 1.2.840.113554.1.2.2, TOK_ID {:02x} {:02x}",
        tok_id[0], tok_id[1]
    )?;
    match tok_id {
        TOK_AP_REQ => describe_ap_req(o, inner, cx, kdc_keys),
        TOK_AP_REP => match ApRep::from_der(inner) {
            Ok(r) => writeln!(
                o,
                "KRB_AP_REP: enc-part {} ({} bytes), decryptable only with the session key",
                enctype_name(r.enc_part.etype),
                r.enc_part.cipher.len()
            ),
            Err(e) => writeln!(o, "REJECTED: AP-REP does not decode: {e}"),
        },
        TOK_KRB_ERROR => match KrbError::from_der(inner) {
            Ok(e) => {
                let code = ap::krb_error_minor(&e);
                writeln!(
                    o,
                    "KRB-ERROR: error-code {} ({}), server time {}",
                    e.error_code,
                    minor::message(code),
                    time(e.stime)
                )?;
                if let Some(t) = &e.e_text {
                    writeln!(o, "  e-text: {}", String::from_utf8_lossy(t))?;
                }
                Ok(())
            }
            Err(e) => writeln!(o, "REJECTED: KRB-ERROR does not decode: {e}"),
        },
        _ => writeln!(o, "REJECTED: unknown TOK_ID"),
    }
}

fn describe_ap_req(
    o: &mut String,
    inner: &[u8],
    cx: &DecodeContext,
    kdc_keys: &[Key],
) -> std::fmt::Result {
    let req = match ApReq::from_der(inner) {
        Ok(r) => r,
        Err(e) => return writeln!(o, "REJECTED: AP-REQ does not decode: {e}"),
    };
    let server = Principal {
        realm: req.ticket.realm.clone(),
        name: req.ticket.sname.clone(),
    };
    writeln!(
        o,
        "KRB_AP_REQ: ap-options {:#010x}{}",
        req.ap_options,
        if req.ap_options & flags::AP_MUTUAL_REQUIRED != 0 {
            " [mutual-required]"
        } else {
            ""
        }
    )?;
    writeln!(
        o,
        "  ticket: server {server}, {}, kvno {}, {} bytes of ciphertext",
        enctype_name(req.ticket.enc_part.etype),
        req.ticket
            .enc_part
            .kvno
            .map_or("none".into(), |k| k.to_string()),
        req.ticket.enc_part.cipher.len()
    )?;
    writeln!(
        o,
        "  authenticator: {}, {} bytes of ciphertext",
        enctype_name(req.authenticator.etype),
        req.authenticator.cipher.len()
    )?;
    let Some(keys) = cx.keys else {
        return writeln!(o, "(give --keytab to decrypt the ticket and authenticator)");
    };
    let (ticket, session_key, service_key) = match ap::decrypt_ticket_with(&req.ticket, keys) {
        Ok(v) => v,
        Err(e) => return writeln!(o, "REJECTED: {e}"),
    };
    writeln!(o, "  ticket decrypted with the keytab key (usage 2):")?;
    writeln!(
        o,
        "    client {}",
        Principal {
            realm: ticket.crealm.clone(),
            name: ticket.cname.clone()
        }
    )?;
    writeln!(o, "    flags {}", flag_names(ticket.flags, TICKET_FLAGS))?;
    writeln!(o, "    session key {}", enctype_name(ticket.key.keytype))?;
    writeln!(o, "    authtime {}", time(ticket.authtime))?;
    if let Some(s) = ticket.starttime {
        writeln!(o, "    starttime {}", time(s))?;
    }
    writeln!(o, "    endtime {}", time(ticket.endtime))?;
    for e in ticket.authorization_data.iter().flatten() {
        describe_ad(o, e, "    ")?;
    }
    let pac_verdict = describe_pac(o, &ticket, &server, service_key, kdc_keys)?;
    let auth = match session_key
        .decrypt(usage::AP_REQ_AUTH, &req.authenticator.cipher)
        .ok()
        .and_then(|p| asn1::Authenticator::from_der(&p).ok())
    {
        Some(a) => a,
        None => return writeln!(o, "REJECTED: the authenticator does not decrypt with the ticket's session key (KRB5KRB_AP_ERR_BAD_INTEGRITY)"),
    };
    writeln!(
        o,
        "  authenticator decrypted with the session key (usage 11):"
    )?;
    writeln!(o, "    ctime {}.{:06}", time(auth.ctime), auth.cusec)?;
    if let Some(k) = &auth.subkey {
        writeln!(o, "    subkey {}", enctype_name(k.keytype))?;
    }
    if let Some(s) = auth.seq_number {
        writeln!(o, "    seq-number {s}")?;
    }
    match &auth.cksum {
        Some(c) if c.cksumtype == CKSUMTYPE_GSSAPI => match GssChecksum::decode(&c.checksum) {
            Ok(g) => {
                writeln!(
                    o,
                    "    checksum 0x8003: Lgth 16, channel bindings {}, flags {}{}",
                    if g.bindings_hash == [0; 16] {
                        "none (all zero)"
                    } else {
                        "present (MD5)"
                    },
                    flag_names(g.flags, GSS_FLAGS),
                    if g.delegation.is_some() {
                        ", delegated KRB-CRED present"
                    } else {
                        ""
                    }
                )?;
            }
            Err(e) => writeln!(o, "    checksum 0x8003 malformed: {e}")?,
        },
        Some(c) => writeln!(
            o,
            "    checksum type {} (not the GSS type 0x8003)",
            c.cksumtype
        )?,
        None => writeln!(o, "    no checksum")?,
    }
    for e in auth.authorization_data.iter().flatten() {
        describe_ad(o, e, "    ")?;
    }
    // The time checks an acceptor makes (RFC 4120 §3.2.3), in MIT's order.
    let skew = (auth.ctime - cx.now).abs();
    let start = ticket.starttime.unwrap_or(ticket.authtime);
    let verdict = if auth.crealm != ticket.crealm || !auth.cname.same_components(&ticket.cname) {
        "REJECTED: authenticator client differs from the ticket's (KRB5KRB_AP_ERR_BADMATCH)"
            .to_string()
    } else if skew > cx.skew {
        format!("REJECTED: clock skew of {skew} s between the authenticator and {} (allowed {} s) (KRB5KRB_AP_ERR_SKEW)", time(cx.now), cx.skew)
    } else if start - cx.now > cx.skew {
        format!(
            "REJECTED: ticket not yet valid for {} s (KRB5KRB_AP_ERR_TKT_NYV)",
            start - cx.now
        )
    } else if cx.now - ticket.endtime > cx.skew {
        format!(
            "REJECTED: ticket expired {} s before {} (KRB5KRB_AP_ERR_TKT_EXPIRED)",
            cx.now - ticket.endtime,
            time(cx.now)
        )
    } else if ticket.flags & flags::TKT_INVALID != 0 {
        "REJECTED: ticket has the INVALID flag (KRB5KRB_AP_ERR_TKT_INVALID)".to_string()
    } else if let Some(e) = pac_verdict {
        format!(
            "REJECTED: {e} (an acceptor that allows unverified PACs, as MIT's does, would accept)"
        )
    } else {
        format!(
            "ACCEPTABLE at {} (skew {skew} s), unless it is a replay",
            time(cx.now)
        )
    };
    writeln!(o, "{verdict}")
}

fn describe_ad(o: &mut String, e: &asn1::AuthorizationDataEntry, indent: &str) -> std::fmt::Result {
    let name = match e.ad_type {
        ad_type::IF_RELEVANT => "AD-IF-RELEVANT",
        ad_type::WIN2K_PAC => "AD-WIN2K-PAC",
        ad_type::ETYPE_NEGOTIATION => "AD-ETYPE-NEGOTIATION",
        ad_type::KDC_ISSUED => "AD-KDC-ISSUED",
        ad_type::AND_OR => "AD-AND-OR",
        ad_type::MANDATORY_FOR_KDC => "AD-MANDATORY-FOR-KDC",
        _ => "unknown",
    };
    writeln!(
        o,
        "{indent}authorization-data type {} ({name}), {} bytes",
        e.ad_type,
        e.ad_data.len()
    )?;
    if e.ad_type == ad_type::IF_RELEVANT && indent.len() < 12 {
        if let Ok(inner) = asn1::decode_authorization_data(&e.ad_data) {
            for i in &inner {
                describe_ad(o, i, &format!("{indent}  "))?;
            }
        }
    } else if e.ad_type == ad_type::ETYPE_NEGOTIATION {
        if let Ok(list) = asn1::decode_etype_list(&e.ad_data) {
            let names: Vec<String> = list.iter().map(|&n| enctype_name(n)).collect();
            writeln!(o, "{indent}  initiator's enctypes: {}", names.join(", "))?;
        }
    }
    Ok(())
}

const GROUP_ATTRIBUTES: &[(u32, &str)] = &[
    (pac::group_attributes::MANDATORY, "mandatory"),
    (
        pac::group_attributes::ENABLED_BY_DEFAULT,
        "enabled-by-default",
    ),
    (pac::group_attributes::ENABLED, "enabled"),
    (pac::group_attributes::OWNER, "owner"),
    (pac::group_attributes::USE_FOR_DENY_ONLY, "deny-only"),
    (pac::group_attributes::INTEGRITY, "integrity"),
    (
        pac::group_attributes::INTEGRITY_ENABLED,
        "integrity-enabled",
    ),
    (pac::group_attributes::RESOURCE, "RESOURCE"),
];

const USER_FLAGS: &[(u32, &str)] = &[
    (pac::user_flags::LOGON_EXTRA_SIDS, "LOGON_EXTRA_SIDS"),
    (
        pac::user_flags::LOGON_RESOURCE_GROUPS,
        "LOGON_RESOURCE_GROUPS",
    ),
];

/// The ticket's PAC: buffers, decoded content and every signature check; returns the
/// error that would fail the accept (default policy), if any.
fn describe_pac(
    o: &mut String,
    ticket: &asn1::EncTicketPart,
    server: &Principal,
    service_key: &Key,
    kdc_keys: &[Key],
) -> Result<Option<crate::Error>, std::fmt::Error> {
    let (p, report) = match pac::verification_report(ticket, server, service_key, kdc_keys) {
        Ok(Some(v)) => v,
        Ok(None) => return Ok(None),
        Err(e) => {
            writeln!(o, "    PAC: {e}")?;
            return Ok(Some(e));
        }
    };
    writeln!(
        o,
        "    PAC (MS-PAC): {} bytes, {} buffers",
        p.as_bytes().len(),
        p.buffers().len()
    )?;
    for b in p.buffers() {
        writeln!(
            o,
            "      buffer type {} {}, {} bytes at offset {}",
            b.buffer_type,
            bt::name(b.buffer_type),
            b.size,
            b.offset
        )?;
    }
    describe_pac_content(o, &p)?;
    writeln!(o, "      signatures (key usage 17):")?;
    let mut failure = None;
    for (name, outcome) in report {
        let kind = match name {
            "server signature" => p.signature(bt::SERVER_CHECKSUM),
            "KDC signature" => p.signature(bt::PRIVSVR_CHECKSUM),
            "ticket signature" => p.signature(bt::TICKET_CHECKSUM),
            "full signature" => p.signature(bt::FULL_CHECKSUM),
            _ => None,
        };
        let ty = kind.map_or(String::new(), |s| {
            format!(
                " {} ({})",
                s.signature_type(),
                pac::checksum_name(s.signature_type())
            )
        });
        match outcome {
            Some(Ok(())) if name == "CLIENT_INFO" => writeln!(
                o,
                "        CLIENT_INFO: matches the ticket's client and authtime"
            )?,
            Some(Ok(())) => writeln!(o, "        {name}{ty}: valid")?,
            Some(Err(e)) => {
                writeln!(o, "        {name}{ty}: INVALID: {e}")?;
                failure.get_or_insert(e);
            }
            None if kind.is_none() && name != "KDC signature" => {
                writeln!(o, "        {name}: none in this PAC")?
            }
            None => writeln!(
                o,
                "        {name}{ty}: not checked (needs the KDC's key: --krbtgt-keytab)"
            )?,
        }
    }
    Ok(failure)
}

fn describe_pac_content(o: &mut String, p: &Pac) -> std::fmt::Result {
    let sid = |s: Option<pac::Sid>| s.map_or("-".to_string(), |s| s.to_string());
    if let Some(li) = p.logon_info() {
        writeln!(
            o,
            "      LOGON_INFO: user {}\\{} ({:?}), SID {}",
            li.logon_domain_name(),
            li.effective_name(),
            li.full_name(),
            sid(li.user_sid())
        )?;
        writeln!(
            o,
            "        logon time {}, logon count {}, bad password count {}",
            li.logon_time(),
            li.logon_count(),
            li.bad_password_count()
        )?;
        writeln!(
            o,
            "        password last set {}, can change {}, must change {}; logoff {}, kick-off {}",
            li.password_last_set(),
            li.password_can_change(),
            li.password_must_change(),
            li.logoff_time(),
            li.kick_off_time()
        )?;
        writeln!(
            o,
            "        primary group {}, UserFlags {}, UserAccountControl {:#x}",
            sid(li.primary_group_sid()),
            flag_names(li.user_flags(), USER_FLAGS),
            li.user_account_control()
        )?;
        writeln!(
            o,
            "        logon server {:?}, domain {:?} {}",
            li.logon_server(),
            li.logon_domain_name(),
            sid(li.logon_domain_id())
        )?;
        for (what, v) in [
            ("logon script", li.logon_script()),
            ("profile path", li.profile_path()),
            ("home directory", li.home_directory()),
            ("home drive", li.home_directory_drive()),
        ] {
            if !v.is_empty() {
                writeln!(o, "        {what} {v:?}")?;
            }
        }
        writeln!(o, "        groups ({}):", p.groups().len())?;
        for g in p.groups() {
            writeln!(
                o,
                "          {} {:?} {}",
                g.sid,
                g.source,
                flag_names(g.attributes, GROUP_ATTRIBUTES)
            )?;
        }
    }
    if let Some(c) = p.client_info() {
        writeln!(o, "      CLIENT_INFO: {:?}, {}", c.name(), c.client_id())?;
    }
    if let Some(u) = p.upn_dns_info() {
        writeln!(
            o,
            "      UPN_DNS_INFO: UPN {:?}{}, DNS domain {:?}{}",
            u.upn(),
            if u.flags() & pac::UPN_CONSTRUCTED != 0 {
                " (constructed)"
            } else {
                ""
            },
            u.dns_domain(),
            match (u.sam_name(), u.sid()) {
                (Some(n), Some(s)) => format!(", SamName {n:?}, SID {s}"),
                _ => String::new(),
            }
        )?;
    }
    if let Some(d) = p.delegation_info() {
        writeln!(
            o,
            "      CONSTRAINED_DELEGATION: S4U2proxy target {:?}, transited {:?}",
            d.proxy_target(),
            d.transited_services()
        )?;
    }
    if let Some(a) = p.attributes_info() {
        writeln!(
            o,
            "      ATTRIBUTES_INFO: {} bits, flags {:#x}",
            a.flags_length, a.flags
        )?;
    }
    if let Some(s) = p.requestor_sid() {
        writeln!(o, "      REQUESTOR_SID: {s}")?;
    }
    Ok(())
}
