//! The SPNEGO negotiation tokens of RFC 4178 §4.2 in DER, read without copying and
//! written exactly as MIT and Windows write them.
//!
//! ```text
//! NegotiationToken ::= CHOICE { negTokenInit [0] NegTokenInit, negTokenResp [1] NegTokenResp }
//! NegTokenInit  ::= SEQUENCE { mechTypes [0] MechTypeList, reqFlags [1] ContextFlags OPTIONAL,
//!                              mechToken [2] OCTET STRING OPTIONAL,
//!                              mechListMIC [3] OCTET STRING OPTIONAL, ... }
//! NegTokenResp  ::= SEQUENCE { negState [0] ENUMERATED OPTIONAL, supportedMech [1] MechType OPTIONAL,
//!                              responseToken [2] OCTET STRING OPTIONAL,
//!                              mechListMIC [3] OCTET STRING OPTIONAL, ... }
//! ```
//!
//! The first token is an RFC 2743 §3.1 InitialContextToken with the SPNEGO OID around the
//! NegotiationToken; later tokens are the bare NegotiationToken (§4.2).
//!
//! Microsoft's NegTokenInit2 ([MS-SPNG] §2.2.1) puts `negHints [3] NegHints` (a SEQUENCE)
//! where RFC 4178 has `mechListMIC [3] OCTET STRING`, and the MIC at [4]: the reader
//! branches on the tag inside [3]. Extension fields after the known ones (the `...`) are
//! skipped. Everything else is strict DER (definite, minimal lengths; fields in order, each
//! at most once; nothing after the last field), with MIT's asn1 minor codes.

use crate::asn1::{push_der_length, tlv_size};
use crate::error::{minor, Error, Result};
use crate::gss::token::{frame_parts, split_initial};

/// DER contents (no tag, no length) of the object identifiers SPNEGO meets.
pub mod oid {
    /// 1.3.6.1.5.5.2, SPNEGO itself (RFC 4178 §4.2).
    pub const SPNEGO: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x02];
    /// 1.2.840.113554.1.2.2, Kerberos 5 (RFC 1964).
    pub const KRB5: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02];
    /// 1.2.840.48018.1.2.2, the krb5 OID as Windows 2000 mis-encoded it and Windows still
    /// lists first ([MS-SPNG] §3.3.5.1): one byte differs from [`KRB5`].
    pub const KRB5_MS: &[u8] = &[0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02];
    /// 1.3.5.1.5.2, the pre-RFC krb5 OID (still answered by some Samba versions).
    pub const KRB5_OLD: &[u8] = &[0x2b, 0x05, 0x01, 0x05, 0x02];
    /// 1.3.6.1.4.1.311.2.2.10, NTLMSSP.
    pub const NTLMSSP: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a];
    /// 1.3.6.1.4.1.311.2.2.30, NegoEx ([MS-NEGOEX]).
    pub const NEGOEX: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x1e];

    /// An OID krbap's acceptor selects Kerberos for: krb5 under either of its two OIDs.
    pub fn is_krb5(oid: &[u8]) -> bool {
        oid == KRB5 || oid == KRB5_MS
    }

    /// An OID an acceptor may answer for krb5 (MIT's `is_kerb_mech`: Samba answers the old
    /// OID, Windows the Microsoft one).
    pub fn is_krb5_family(oid: &[u8]) -> bool {
        is_krb5(oid) || oid == KRB5_OLD
    }

    /// Dotted form, e.g. "1.2.840.113554.1.2.2" (the arcs of a malformed OID as far as
    /// they decode, then "...").
    pub fn dotted(oid: &[u8]) -> String {
        let mut arcs: Vec<u64> = Vec::new();
        let mut v: u64 = 0;
        for (i, &b) in oid.iter().enumerate() {
            if v > (u64::MAX >> 7) {
                return format!("{}...", join(&arcs));
            }
            v = (v << 7) | u64::from(b & 0x7f);
            if b & 0x80 == 0 {
                if arcs.is_empty() {
                    let first = (v / 40).min(2);
                    arcs.push(first);
                    arcs.push(v - first * 40);
                } else {
                    arcs.push(v);
                }
                v = 0;
            } else if i + 1 == oid.len() {
                return format!("{}...", join(&arcs));
            }
        }
        join(&arcs)
    }

    fn join(arcs: &[u64]) -> String {
        arcs.iter()
            .map(|a| a.to_string())
            .collect::<Vec<_>>()
            .join(".")
    }

    /// "NTLMSSP (1.3.6.1.4.1.311.2.2.10)" for the mechanisms people meet, else the dotted OID.
    pub fn describe(oid: &[u8]) -> String {
        let name = match oid {
            KRB5 => "Kerberos 5",
            KRB5_MS => "Kerberos 5 (Microsoft OID)",
            KRB5_OLD => "Kerberos 5 (pre-RFC OID)",
            NTLMSSP => "NTLMSSP",
            NEGOEX => "NegoEx",
            SPNEGO => "SPNEGO",
            _ => return dotted(oid),
        };
        format!("{name} ({})", dotted(oid))
    }
}

/// The state of the negotiation in a NegTokenResp (RFC 4178 §4.2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NegState {
    AcceptCompleted = 0,
    AcceptIncomplete = 1,
    Reject = 2,
    RequestMic = 3,
}

/// MS NegTokenInit2 hints ([MS-SPNG] §2.2.1): informational, never acted upon.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NegHints<'a> {
    pub hint_name: Option<&'a [u8]>,
    pub hint_address: Option<&'a [u8]>,
}

/// A NegTokenInit (or MS NegTokenInit2), borrowing from the token it was read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NegTokenInit<'a> {
    /// The MechTypeList exactly as received, SEQUENCE header included: the input of the
    /// mechListMIC (RFC 4178 §5 a), which must not be re-encoded.
    pub mech_types_der: &'a [u8],
    /// The OIDs (DER contents) in the initiator's order of preference.
    pub mech_types: Vec<&'a [u8]>,
    /// reqFlags, the contents of the BIT STRING (acceptors MUST ignore it, §4.2.1).
    pub req_flags: Option<&'a [u8]>,
    pub mech_token: Option<&'a [u8]>,
    pub neg_hints: Option<NegHints<'a>>,
    pub mech_list_mic: Option<&'a [u8]>,
}

/// A NegTokenResp, borrowing from the token it was read from (when decoded).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NegTokenResp<'a> {
    pub neg_state: Option<NegState>,
    /// The OID (DER contents) the acceptor selected.
    pub supported_mech: Option<&'a [u8]>,
    pub response_token: Option<&'a [u8]>,
    pub mech_list_mic: Option<&'a [u8]>,
}

/// More mechanisms than any initiator lists (MIT, Windows and Heimdal list at most five);
/// bounds the work a hostile list can cause.
pub const MAX_MECH_TYPES: usize = 64;

const TAG_SEQUENCE: u8 = 0x30;
const TAG_OID: u8 = 0x06;
const TAG_OCTET_STRING: u8 = 0x04;
const TAG_BIT_STRING: u8 = 0x03;
const TAG_ENUMERATED: u8 = 0x0a;
const TAG_GENERAL_STRING: u8 = 0x1b;
/// [n] explicit, constructed, context class.
const fn ctx(n: u8) -> u8 {
    0xa0 | n
}

fn asn1(minor: i32, detail: impl Into<String>) -> Error {
    Error::defective_token(minor, detail)
}

/// A cursor over DER TLVs inside one constructed value.
struct Der<'a> {
    buf: &'a [u8],
    what: &'static str,
}

impl<'a> Der<'a> {
    fn new(buf: &'a [u8], what: &'static str) -> Self {
        Der { buf, what }
    }

    fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    fn peek_tag(&self) -> Option<u8> {
        self.buf.first().copied()
    }

    /// Reads one TLV; returns (tag, contents, the whole TLV).
    fn read_any(&mut self) -> Result<(u8, &'a [u8], &'a [u8])> {
        let what = self.what;
        let tag = *self
            .buf
            .first()
            .ok_or_else(|| asn1(minor::ASN1_OVERRUN, format!("{what} ends early")))?;
        if tag & 0x1f == 0x1f {
            return Err(asn1(
                minor::ASN1_BAD_ID,
                format!("{what}: unexpected high-number tag"),
            ));
        }
        let l0 = *self
            .buf
            .get(1)
            .ok_or_else(|| asn1(minor::ASN1_OVERRUN, format!("{what}: length missing")))?;
        let (len, hdr) = if l0 < 0x80 {
            (usize::from(l0), 2)
        } else if l0 == 0x80 {
            return Err(asn1(
                minor::ASN1_BAD_LENGTH,
                format!("{what}: indefinite length is not DER"),
            ));
        } else {
            let n = usize::from(l0 & 0x7f);
            if n > 4 {
                return Err(asn1(
                    minor::ASN1_OVERFLOW,
                    format!("{what}: length of length too large"),
                ));
            }
            let bytes = self
                .buf
                .get(2..2 + n)
                .ok_or_else(|| asn1(minor::ASN1_OVERRUN, format!("{what}: length truncated")))?;
            let v = bytes.iter().fold(0usize, |a, &b| (a << 8) | usize::from(b));
            if bytes[0] == 0 || v < 0x80 {
                return Err(asn1(
                    minor::ASN1_BAD_LENGTH,
                    format!("{what}: length not minimally encoded (not DER)"),
                ));
            }
            (v, 2 + n)
        };
        let end = hdr
            .checked_add(len)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| {
                asn1(
                    minor::ASN1_OVERRUN,
                    format!("{what}: length beyond the data"),
                )
            })?;
        let tlv = &self.buf[..end];
        self.buf = &self.buf[end..];
        Ok((tag, &tlv[hdr..], tlv))
    }

    /// Reads one TLV that must carry `tag`; returns its contents and the whole TLV.
    fn read(&mut self, tag: u8, field: &str) -> Result<(&'a [u8], &'a [u8])> {
        let (got, contents, tlv) = self.read_any()?;
        if got != tag {
            return Err(asn1(
                minor::ASN1_BAD_ID,
                format!(
                    "{}: {field} has tag {got:#04x}, expected {tag:#04x}",
                    self.what
                ),
            ));
        }
        Ok((contents, tlv))
    }

    /// Requires that nothing follows.
    fn finish(&self) -> Result<()> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(asn1(
                minor::ASN1_BAD_LENGTH,
                format!(
                    "{}: {} bytes after the last field",
                    self.what,
                    self.buf.len()
                ),
            ))
        }
    }
}

/// Reads `[n] inner` where the explicit tag holds exactly one TLV with tag `inner`.
fn explicit<'a>(contents: &'a [u8], inner: u8, what: &'static str) -> Result<(&'a [u8], &'a [u8])> {
    let mut d = Der::new(contents, what);
    let r = d.read(inner, what)?;
    d.finish()?;
    Ok(r)
}

/// An OBJECT IDENTIFIER's contents must be DER: non-empty, no 0x80 padding octet at the
/// start of a subidentifier, the last octet ending a subidentifier (X.690 §8.19).
fn check_oid(oid: &[u8], what: &str) -> Result<()> {
    let mut start = true;
    for &b in oid {
        if start && b == 0x80 {
            return Err(asn1(
                minor::ASN1_BAD_FORMAT,
                format!("{what}: OID subidentifier not minimally encoded"),
            ));
        }
        start = b & 0x80 == 0;
    }
    if oid.is_empty() || !start {
        return Err(asn1(
            minor::ASN1_BAD_FORMAT,
            format!("{what}: malformed OID"),
        ));
    }
    Ok(())
}

/// Walks the fields `[n]` of a SEQUENCE in increasing tag order, each at most once; tags
/// above the last known field are extensions (RFC 4178's `...`) and are skipped.
struct Fields<'a> {
    der: Der<'a>,
    last: Option<u8>,
}

impl<'a> Fields<'a> {
    /// The next field as (n, contents), or None at the end.
    fn next(&mut self) -> Result<Option<(u8, &'a [u8])>> {
        if self.der.is_empty() {
            return Ok(None);
        }
        let what = self.der.what;
        let (tag, contents, _) = self.der.read_any()?;
        if tag & 0xe0 != 0xa0 {
            return Err(asn1(
                minor::ASN1_BAD_ID,
                format!("{what}: field tag {tag:#04x} is not a constructed context tag"),
            ));
        }
        let n = tag & 0x1f;
        if self.last.is_some_and(|l| n <= l) {
            return Err(asn1(
                minor::ASN1_BAD_ID,
                format!("{what}: field [{n}] out of order or repeated"),
            ));
        }
        self.last = Some(n);
        Ok(Some((n, contents)))
    }
}

/// True when `token` is an RFC 2743 InitialContextToken whose mechanism is SPNEGO (the
/// test MIT's mechglue makes on the first token an acceptor receives).
pub fn is_spnego_initial(token: &[u8]) -> bool {
    matches!(split_initial(token), Ok((oid_tlv, _)) if oid_tlv.get(2..) == Some(oid::SPNEGO) && oid_tlv[1] as usize == oid::SPNEGO.len())
}

/// Reads the initiator's first token: the SPNEGO InitialContextToken around a NegTokenInit
/// (or MS NegTokenInit2).
pub fn decode_init(token: &[u8]) -> Result<NegTokenInit<'_>> {
    let (oid_tlv, inner) = split_initial(token)?;
    if oid_tlv.get(2..) != Some(oid::SPNEGO) {
        return Err(Error::defective_token(
            minor::G_WRONG_MECH,
            "token is not for the SPNEGO mechanism",
        ));
    }
    let mut d = Der::new(inner, "SPNEGO NegotiationToken");
    let (tag, contents, _) = d.read_any()?;
    match tag {
        t if t == ctx(0) => {}
        t if t == ctx(1) => {
            return Err(asn1(
                minor::ASN1_BAD_ID,
                "the initial SPNEGO token is a NegTokenResp, not a NegTokenInit",
            ))
        }
        t => {
            return Err(asn1(
                minor::ASN1_BAD_ID,
                format!("SPNEGO NegotiationToken has tag {t:#04x}, expected [0] NegTokenInit"),
            ))
        }
    }
    d.finish()?;
    let (seq, _) = explicit(contents, TAG_SEQUENCE, "SPNEGO NegTokenInit")?;
    let mut fields = Fields {
        der: Der::new(seq, "SPNEGO NegTokenInit"),
        last: None,
    };
    let mut init = NegTokenInit {
        mech_types_der: &[],
        mech_types: Vec::new(),
        req_flags: None,
        mech_token: None,
        neg_hints: None,
        mech_list_mic: None,
    };
    let mut have_mech_types = false;
    while let Some((n, contents)) = fields.next()? {
        match n {
            0 => {
                let (list, list_tlv) = explicit(contents, TAG_SEQUENCE, "SPNEGO mechTypes")?;
                init.mech_types_der = list_tlv;
                let mut oids = Der::new(list, "SPNEGO mechTypes");
                while !oids.is_empty() {
                    if init.mech_types.len() == MAX_MECH_TYPES {
                        return Err(asn1(
                            minor::ASN1_OVERFLOW,
                            format!("SPNEGO mechTypes lists more than {MAX_MECH_TYPES} mechanisms"),
                        ));
                    }
                    let (o, _) = oids.read(TAG_OID, "mechanism OID")?;
                    check_oid(o, "SPNEGO mechTypes")?;
                    init.mech_types.push(o);
                }
                have_mech_types = true;
            }
            _ if !have_mech_types => {
                return Err(asn1(
                    minor::ASN1_MISSING_FIELD,
                    "SPNEGO NegTokenInit has no mechTypes",
                ))
            }
            1 => {
                let (bits, _) = explicit(contents, TAG_BIT_STRING, "SPNEGO reqFlags")?;
                if bits
                    .first()
                    .is_none_or(|&unused| unused > 7 || (unused > 0 && bits.len() == 1))
                {
                    return Err(asn1(
                        minor::ASN1_BAD_FORMAT,
                        "SPNEGO reqFlags: malformed BIT STRING",
                    ));
                }
                init.req_flags = Some(bits);
            }
            2 => {
                init.mech_token = Some(explicit(contents, TAG_OCTET_STRING, "SPNEGO mechToken")?.0)
            }
            3 if Der::new(contents, "").peek_tag() == Some(TAG_SEQUENCE) => {
                let (hints, _) = explicit(contents, TAG_SEQUENCE, "SPNEGO negHints")?;
                init.neg_hints = Some(decode_neg_hints(hints)?);
            }
            3 => {
                init.mech_list_mic =
                    Some(explicit(contents, TAG_OCTET_STRING, "SPNEGO mechListMIC")?.0)
            }
            // NegTokenInit2's mechListMIC follows its negHints.
            4 if init.neg_hints.is_some() => {
                init.mech_list_mic =
                    Some(explicit(contents, TAG_OCTET_STRING, "SPNEGO mechListMIC")?.0)
            }
            _ => {} // an extension (RFC 4178 §4.2.1 `...`)
        }
    }
    if !have_mech_types {
        return Err(asn1(
            minor::ASN1_MISSING_FIELD,
            "SPNEGO NegTokenInit has no mechTypes",
        ));
    }
    Ok(init)
}

fn decode_neg_hints(seq: &[u8]) -> Result<NegHints<'_>> {
    let mut fields = Fields {
        der: Der::new(seq, "SPNEGO negHints"),
        last: None,
    };
    let mut hints = NegHints::default();
    while let Some((n, contents)) = fields.next()? {
        match n {
            0 => {
                hints.hint_name = Some(explicit(contents, TAG_GENERAL_STRING, "SPNEGO hintName")?.0)
            }
            1 => {
                hints.hint_address =
                    Some(explicit(contents, TAG_OCTET_STRING, "SPNEGO hintAddress")?.0)
            }
            _ => {}
        }
    }
    Ok(hints)
}

/// Reads a later token: a bare NegTokenResp (RFC 4178 §4.2). Like MIT, also one inside
/// the SPNEGO InitialContextToken framing, as old Sun initiators sent it.
pub fn decode_resp(token: &[u8]) -> Result<NegTokenResp<'_>> {
    let inner = if token.first() == Some(&0x60) {
        let (oid_tlv, inner) = split_initial(token)?;
        if oid_tlv.get(2..) != Some(oid::SPNEGO) {
            return Err(Error::defective_token(
                minor::G_WRONG_MECH,
                "token is not for the SPNEGO mechanism",
            ));
        }
        inner
    } else {
        token
    };
    let mut d = Der::new(inner, "SPNEGO NegotiationToken");
    let (tag, contents, _) = d.read_any()?;
    if tag != ctx(1) {
        return Err(asn1(
            minor::ASN1_BAD_ID,
            if tag == ctx(0) {
                "expected a NegTokenResp, got a NegTokenInit".to_string()
            } else {
                format!("SPNEGO NegotiationToken has tag {tag:#04x}, expected [1] NegTokenResp")
            },
        ));
    }
    d.finish()?;
    let (seq, _) = explicit(contents, TAG_SEQUENCE, "SPNEGO NegTokenResp")?;
    let mut fields = Fields {
        der: Der::new(seq, "SPNEGO NegTokenResp"),
        last: None,
    };
    let mut resp = NegTokenResp::default();
    while let Some((n, contents)) = fields.next()? {
        match n {
            0 => {
                let (v, _) = explicit(contents, TAG_ENUMERATED, "SPNEGO negState")?;
                resp.neg_state = Some(match v {
                    [0] => NegState::AcceptCompleted,
                    [1] => NegState::AcceptIncomplete,
                    [2] => NegState::Reject,
                    [3] => NegState::RequestMic,
                    _ => {
                        return Err(asn1(
                            minor::ASN1_BAD_FORMAT,
                            format!("SPNEGO negState {v:02x?} is not one of 0-3"),
                        ))
                    }
                });
            }
            1 => {
                let (o, _) = explicit(contents, TAG_OID, "SPNEGO supportedMech")?;
                check_oid(o, "SPNEGO supportedMech")?;
                resp.supported_mech = Some(o);
            }
            2 => {
                resp.response_token =
                    Some(explicit(contents, TAG_OCTET_STRING, "SPNEGO responseToken")?.0)
            }
            3 => {
                resp.mech_list_mic =
                    Some(explicit(contents, TAG_OCTET_STRING, "SPNEGO mechListMIC")?.0)
            }
            _ => {}
        }
    }
    Ok(resp)
}

fn put_tlv(out: &mut Vec<u8>, tag: u8, contents: &[u8]) {
    out.push(tag);
    push_der_length(out, contents.len());
    out.extend_from_slice(contents);
}

/// `[n] OCTET STRING` of `value`.
fn put_explicit_octets(out: &mut Vec<u8>, n: u8, value: &[u8]) {
    out.push(ctx(n));
    push_der_length(out, tlv_size(value.len()));
    put_tlv(out, TAG_OCTET_STRING, value);
}

/// The DER of a MechTypeList of `oids` (DER contents).
pub fn encode_mech_types(oids: &[&[u8]]) -> Vec<u8> {
    let len: usize = oids.iter().map(|o| tlv_size(o.len())).sum();
    let mut out = Vec::with_capacity(tlv_size(len));
    out.push(TAG_SEQUENCE);
    push_der_length(&mut out, len);
    for o in oids {
        put_tlv(&mut out, TAG_OID, o);
    }
    out
}

/// The initiator's first token: InitialContextToken(SPNEGO, [0] NegTokenInit) with the
/// MechTypeList `mech_types_der` (from [`encode_mech_types`]), the optimistic token and
/// an optional MIC. reqFlags is left out (RFC 4178 §4.2.1 SHOULD).
pub fn encode_init(
    mech_types_der: &[u8],
    mech_token: Option<&[u8]>,
    mic: Option<&[u8]>,
) -> Vec<u8> {
    let explicit_octets = |v: &[u8]| tlv_size(tlv_size(v.len()));
    let seq_len = tlv_size(mech_types_der.len())
        + mech_token.map_or(0, explicit_octets)
        + mic.map_or(0, explicit_octets);
    let mut body = Vec::with_capacity(tlv_size(tlv_size(seq_len)));
    body.push(ctx(0));
    push_der_length(&mut body, tlv_size(seq_len));
    body.push(TAG_SEQUENCE);
    push_der_length(&mut body, seq_len);
    put_tlv(&mut body, ctx(0), mech_types_der);
    if let Some(t) = mech_token {
        put_explicit_octets(&mut body, 2, t);
    }
    if let Some(m) = mic {
        put_explicit_octets(&mut body, 3, m);
    }
    let mut spnego_oid = Vec::with_capacity(2 + oid::SPNEGO.len());
    put_tlv(&mut spnego_oid, TAG_OID, oid::SPNEGO);
    frame_parts(&spnego_oid, &[&body])
}

/// A bare NegTokenResp (`[1] SEQUENCE {...}`), fields in the order MIT writes them.
pub fn encode_resp(resp: &NegTokenResp<'_>) -> Vec<u8> {
    let explicit_octets = |v: &[u8]| tlv_size(tlv_size(v.len()));
    let seq_len = resp.neg_state.map_or(0, |_| 5)
        + resp
            .supported_mech
            .map_or(0, |o| tlv_size(tlv_size(o.len())))
        + resp.response_token.map_or(0, explicit_octets)
        + resp.mech_list_mic.map_or(0, explicit_octets);
    let mut out = Vec::with_capacity(tlv_size(tlv_size(seq_len)));
    out.push(ctx(1));
    push_der_length(&mut out, tlv_size(seq_len));
    out.push(TAG_SEQUENCE);
    push_der_length(&mut out, seq_len);
    if let Some(s) = resp.neg_state {
        out.extend_from_slice(&[ctx(0), 3, TAG_ENUMERATED, 1, s as u8]);
    }
    if let Some(o) = resp.supported_mech {
        out.push(ctx(1));
        push_der_length(&mut out, tlv_size(o.len()));
        put_tlv(&mut out, TAG_OID, o);
    }
    if let Some(t) = resp.response_token {
        put_explicit_octets(&mut out, 2, t);
    }
    if let Some(m) = resp.mech_list_mic {
        put_explicit_octets(&mut out, 3, m);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn dotted_names() {
        assert_eq!(oid::dotted(oid::KRB5), "1.2.840.113554.1.2.2");
        assert_eq!(oid::dotted(oid::KRB5_MS), "1.2.840.48018.1.2.2");
        assert_eq!(oid::dotted(oid::KRB5_OLD), "1.3.5.1.5.2");
        assert_eq!(oid::dotted(oid::NTLMSSP), "1.3.6.1.4.1.311.2.2.10");
        assert_eq!(oid::dotted(oid::NEGOEX), "1.3.6.1.4.1.311.2.2.30");
        assert_eq!(oid::dotted(oid::SPNEGO), "1.3.6.1.5.5.2");
        assert_eq!(oid::dotted(&[0x88, 0x37, 0x03]), "2.999.3");
        assert_eq!(oid::dotted(&[0x2a, 0x86]), "1.2...");
        assert_eq!(oid::dotted(&[0xff; 20]), "...");
        assert_eq!(
            oid::describe(oid::NTLMSSP),
            "NTLMSSP (1.3.6.1.4.1.311.2.2.10)"
        );
    }

    #[test]
    fn mit_reject_and_incomplete_bytes() {
        // MIT's acceptor answers NTLMSSP alone with exactly these 9 bytes, and a krb5
        // list without an optimistic token with these 22 (PITFALLS, captures).
        let reject = encode_resp(&NegTokenResp {
            neg_state: Some(NegState::Reject),
            ..Default::default()
        });
        assert_eq!(reject, hex("a1073005a0030a0102"));
        let incomplete = encode_resp(&NegTokenResp {
            neg_state: Some(NegState::AcceptIncomplete),
            supported_mech: Some(oid::KRB5),
            ..Default::default()
        });
        assert_eq!(
            incomplete,
            hex("a1143012a0030a0101a10b06092a864886f712010202")
        );
        let back = decode_resp(&incomplete).unwrap();
        assert_eq!(back.neg_state, Some(NegState::AcceptIncomplete));
        assert_eq!(back.supported_mech, Some(oid::KRB5));
    }

    #[test]
    fn init_round_trip_every_size() {
        let types = encode_mech_types(&[oid::KRB5_MS, oid::KRB5]);
        for n in [0usize, 1, 100, 127, 128, 200, 255, 256, 1000, 70_000] {
            let tok: Vec<u8> = (0..n).map(|i| i as u8).collect();
            let mic = [7u8; 28];
            let t = encode_init(&types, Some(&tok), Some(&mic));
            assert!(is_spnego_initial(&t));
            let i = decode_init(&t).unwrap();
            assert_eq!(i.mech_types, vec![oid::KRB5_MS, oid::KRB5]);
            assert_eq!(i.mech_types_der, &types[..]);
            assert_eq!(i.mech_token, Some(&tok[..]));
            assert_eq!(i.mech_list_mic, Some(&mic[..]));
            let r = encode_resp(&NegTokenResp {
                neg_state: Some(NegState::AcceptCompleted),
                supported_mech: Some(oid::KRB5),
                response_token: Some(&tok),
                mech_list_mic: Some(&mic),
            });
            let back = decode_resp(&r).unwrap();
            assert_eq!(back.response_token, Some(&tok[..]));
            assert_eq!(back.mech_list_mic, Some(&mic[..]));
        }
    }

    #[test]
    fn neg_token_init2_hints_and_extensions() {
        // [0] mechTypes, [3] negHints { [0] hintName }, [4] mechListMIC, [9] extension.
        let types = encode_mech_types(&[oid::KRB5]);
        let mut seq = Vec::new();
        put_tlv(&mut seq, ctx(0), &types);
        let mut name = Vec::new();
        put_tlv(
            &mut name,
            TAG_GENERAL_STRING,
            b"not_defined_in_RFC4178@please_ignore",
        );
        let mut hint = Vec::new();
        put_tlv(&mut hint, ctx(0), &name);
        let mut hints = Vec::new();
        put_tlv(&mut hints, TAG_SEQUENCE, &hint);
        put_tlv(&mut seq, ctx(3), &hints);
        put_explicit_octets(&mut seq, 4, b"mic");
        put_tlv(&mut seq, ctx(9), &[0x05, 0x00]);
        let mut body = Vec::new();
        put_tlv(&mut body, TAG_SEQUENCE, &seq);
        let mut outer = Vec::new();
        put_tlv(&mut outer, ctx(0), &body);
        let mut oid_tlv = Vec::new();
        put_tlv(&mut oid_tlv, TAG_OID, oid::SPNEGO);
        let t = frame_parts(&oid_tlv, &[&outer]);
        let i = decode_init(&t).unwrap();
        assert_eq!(
            i.neg_hints.unwrap().hint_name,
            Some(&b"not_defined_in_RFC4178@please_ignore"[..])
        );
        assert_eq!(i.mech_list_mic, Some(&b"mic"[..]));
    }

    #[test]
    fn hostile_inputs_are_errors() {
        let types = encode_mech_types(&[oid::KRB5]);
        let good = encode_init(&types, Some(b"tok"), None);
        for cut in 0..good.len() {
            assert!(decode_init(&good[..cut]).is_err(), "cut {cut}");
        }
        // Every single-byte change: an error or a value, never a panic.
        for i in 0..good.len() {
            for b in [0u8, 0x7f, 0x80, 0xff] {
                let mut t = good.clone();
                t[i] = b;
                let _ = decode_init(&t);
                let _ = decode_resp(&t);
            }
        }
        let resp = encode_resp(&NegTokenResp {
            neg_state: Some(NegState::RequestMic),
            supported_mech: Some(oid::KRB5),
            response_token: Some(b"x"),
            mech_list_mic: Some(b"y"),
        });
        for cut in 0..resp.len() {
            assert!(decode_resp(&resp[..cut]).is_err(), "cut {cut}");
        }
        // negState 4, fields out of order, a repeated field, trailing bytes.
        let e = decode_resp(&hex("a1073005a0030a0104")).unwrap_err();
        assert_eq!(e.minor, minor::ASN1_BAD_FORMAT);
        let e = decode_resp(&hex("a10c300aa2030401aaa0030a0100")).unwrap_err();
        assert_eq!(e.minor, minor::ASN1_BAD_ID);
        let e = decode_resp(&hex("a10c300aa0030a0100a0030a0100")).unwrap_err();
        assert_eq!(e.minor, minor::ASN1_BAD_ID);
        let e = decode_resp(&hex("a1073005a0030a010000")).unwrap_err();
        assert_eq!(e.minor, minor::ASN1_BAD_LENGTH);
        // Too many mechanisms.
        let many: Vec<&[u8]> = vec![oid::NTLMSSP; MAX_MECH_TYPES + 1];
        let t = encode_init(&encode_mech_types(&many), None, None);
        assert_eq!(decode_init(&t).unwrap_err().minor, minor::ASN1_OVERFLOW);
        // No mechTypes.
        let mut seq = Vec::new();
        put_explicit_octets(&mut seq, 2, b"tok");
        let mut body = Vec::new();
        put_tlv(&mut body, TAG_SEQUENCE, &seq);
        let mut outer = Vec::new();
        put_tlv(&mut outer, ctx(0), &body);
        let mut oid_tlv = Vec::new();
        put_tlv(&mut oid_tlv, TAG_OID, oid::SPNEGO);
        let t = frame_parts(&oid_tlv, &[&outer]);
        assert_eq!(
            decode_init(&t).unwrap_err().minor,
            minor::ASN1_MISSING_FIELD
        );
    }
}
