//! KDC messages (RFC 4120 §5.4): KDC-REQ (AS-REQ, TGS-REQ), KDC-REP (AS-REP, TGS-REP),
//! EncKDCRepPart, PA-DATA and the pre-authentication types the AS exchange uses
//! (PA-ENC-TS-ENC, ETYPE-INFO2, ETYPE-INFO).
//!
//! The KDC-REQ-BODY is encoded on its own and carried as bytes: the PA-TGS-REQ
//! authenticator checksums exactly those bytes (RFC 4120 §5.4.1, §7.2.2 of MIT's
//! verification against the bytes as received), so [`KdcReq::to_der_with_body`] embeds
//! them unchanged instead of re-encoding.

use super::convert::{self as c, app, decode, encode, WireForm, SEQ};
use super::tlv::{self, err, mit};
use super::*;
use crate::error::minor;

/// PA-DATA types (RFC 4120 §7.5.2, RFC 6113).
pub mod pa_type {
    pub const TGS_REQ: i32 = 1;
    pub const ENC_TIMESTAMP: i32 = 2;
    pub const PW_SALT: i32 = 3;
    pub const ETYPE_INFO: i32 = 11;
    pub const ETYPE_INFO2: i32 = 19;
    pub const REQ_ENC_PA_REP: i32 = 149;
    pub const FX_FAST: i32 = 136;
}

/// KDCOptions bits (RFC 4120 §5.4.1) as u32 masks (`0x8000_0000 >> n` is bit n).
pub mod kdc_options {
    use super::flags::bit;
    pub const FORWARDABLE: u32 = bit(1);
    pub const FORWARDED: u32 = bit(2);
    pub const PROXIABLE: u32 = bit(3);
    pub const PROXY: u32 = bit(4);
    pub const ALLOW_POSTDATE: u32 = bit(5);
    pub const POSTDATED: u32 = bit(6);
    pub const RENEWABLE: u32 = bit(8);
    /// RFC 6806 §3.
    pub const CANONICALIZE: u32 = bit(15);
    pub const DISABLE_TRANSITED_CHECK: u32 = bit(26);
    pub const RENEWABLE_OK: u32 = bit(27);
    pub const ENC_TKT_IN_SKEY: u32 = bit(28);
    pub const RENEW: u32 = bit(30);
    pub const VALIDATE: u32 = bit(31);
}

/// PA-DATA ::= SEQUENCE { padata-type [1] Int32, padata-value [2] OCTET STRING }.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PaData {
    pub padata_type: i32,
    pub padata_value: Vec<u8>,
}

/// KDC-REQ-BODY (RFC 4120 §5.4.1).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct KdcReqBody {
    pub kdc_options: u32,
    pub cname: Option<PrincipalName>,
    pub realm: Vec<u8>,
    pub sname: Option<PrincipalName>,
    pub from: Option<KerberosTime>,
    pub till: KerberosTime,
    pub rtime: Option<KerberosTime>,
    pub nonce: u32,
    pub etype: Vec<i32>,
    pub addresses: Option<Vec<HostAddress>>,
    pub enc_authorization_data: Option<EncryptedData>,
    pub additional_tickets: Option<Vec<Ticket>>,
}

/// AS-REQ ([APPLICATION 10]) or TGS-REQ ([APPLICATION 12]): KDC-REQ (RFC 4120 §5.4.1).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct KdcReq {
    /// [`msg_type::AS_REQ`] or [`msg_type::TGS_REQ`].
    pub msg_type: i32,
    pub padata: Option<Vec<PaData>>,
    pub req_body: KdcReqBody,
}

/// AS-REP ([APPLICATION 11]) or TGS-REP ([APPLICATION 13]): KDC-REP (RFC 4120 §5.4.2).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct KdcRep {
    /// [`msg_type::AS_REP`] or [`msg_type::TGS_REP`].
    pub msg_type: i32,
    pub padata: Option<Vec<PaData>>,
    pub crealm: Vec<u8>,
    pub cname: PrincipalName,
    pub ticket: Ticket,
    pub enc_part: EncryptedData,
}

/// LastReq ::= SEQUENCE OF SEQUENCE { lr-type [0] Int32, lr-value [1] KerberosTime }.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct LastReqEntry {
    pub lr_type: i32,
    pub lr_value: KerberosTime,
}

/// EncASRepPart ([APPLICATION 25]) / EncTGSRepPart ([APPLICATION 26]): EncKDCRepPart
/// (RFC 4120 §5.4.2). Decoding accepts either tag, as MIT does (some KDCs send 26 in
/// an AS-REP); encoding uses `tag`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct EncKdcRepPart {
    /// 25 (EncASRepPart) or 26 (EncTGSRepPart).
    pub tag: u8,
    pub key: EncryptionKey,
    pub last_req: Vec<LastReqEntry>,
    pub nonce: u32,
    pub key_expiration: Option<KerberosTime>,
    pub flags: u32,
    pub authtime: KerberosTime,
    pub starttime: Option<KerberosTime>,
    pub endtime: KerberosTime,
    pub renew_till: Option<KerberosTime>,
    pub srealm: Vec<u8>,
    pub sname: PrincipalName,
    pub caddr: Option<Vec<HostAddress>>,
    pub encrypted_pa_data: Option<Vec<PaData>>,
}

/// PA-ENC-TS-ENC ::= SEQUENCE { patimestamp [0] KerberosTime, pausec [1] Microseconds OPTIONAL }.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PaEncTsEnc {
    pub patimestamp: KerberosTime,
    pub pausec: Option<u32>,
}

/// ETYPE-INFO2-ENTRY (RFC 4120 §5.2.7.5); ETYPE-INFO-ENTRY (§5.2.7.4) decodes into the
/// same shape with `s2kparams` None (its salt is an OCTET STRING).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct EtypeInfo2Entry {
    pub etype: i32,
    pub salt: Option<Vec<u8>>,
    pub s2kparams: Option<Vec<u8>>,
}

// ---------------------------------------------------------------- wire types

mod w {
    use super::super::wire::*;
    use rasn::prelude::*;

    #[derive(AsnType, Clone, Debug, Decode, Encode, PartialEq, Eq, Default)]
    pub struct PaData {
        #[rasn(tag(explicit(1)))]
        pub padata_type: i32,
        #[rasn(tag(explicit(2)))]
        pub padata_value: Octets,
    }

    #[derive(AsnType, Clone, Debug, Decode, Encode, PartialEq, Eq, Default)]
    pub struct KdcReqBody {
        #[rasn(tag(explicit(0)))]
        pub kdc_options: KFlags,
        #[rasn(tag(explicit(1)))]
        pub cname: Option<PrincipalName>,
        #[rasn(tag(explicit(2)))]
        pub realm: KString,
        #[rasn(tag(explicit(3)))]
        pub sname: Option<PrincipalName>,
        #[rasn(tag(explicit(4)))]
        pub from: Option<KTime>,
        #[rasn(tag(explicit(5)))]
        pub till: KTime,
        #[rasn(tag(explicit(6)))]
        pub rtime: Option<KTime>,
        #[rasn(tag(explicit(7)))]
        pub nonce: i64,
        #[rasn(tag(explicit(8)))]
        pub etype: SequenceOf<i32>,
        #[rasn(tag(explicit(9)))]
        pub addresses: Option<SequenceOf<HostAddress>>,
        #[rasn(tag(explicit(10)))]
        pub enc_authorization_data: Option<EncryptedData>,
        #[rasn(tag(explicit(11)))]
        pub additional_tickets: Option<SequenceOf<Ticket>>,
    }

    macro_rules! kdc_req {
        ($name:ident, $tag:literal) => {
            #[derive(AsnType, Clone, Debug, Decode, Encode, PartialEq, Eq, Default)]
            #[rasn(tag(explicit(application, $tag)))]
            pub struct $name {
                #[rasn(tag(explicit(1)))]
                pub pvno: i64,
                #[rasn(tag(explicit(2)))]
                pub msg_type: i64,
                #[rasn(tag(explicit(3)))]
                pub padata: Option<SequenceOf<PaData>>,
                #[rasn(tag(explicit(4)))]
                pub req_body: KdcReqBody,
            }
        };
    }
    kdc_req!(AsReq, 10);
    kdc_req!(TgsReq, 12);

    macro_rules! kdc_rep {
        ($name:ident, $tag:literal) => {
            #[derive(AsnType, Clone, Debug, Decode, Encode, PartialEq, Eq, Default)]
            #[rasn(tag(explicit(application, $tag)))]
            pub struct $name {
                #[rasn(tag(explicit(0)))]
                pub pvno: i64,
                #[rasn(tag(explicit(1)))]
                pub msg_type: i64,
                #[rasn(tag(explicit(2)))]
                pub padata: Option<SequenceOf<PaData>>,
                #[rasn(tag(explicit(3)))]
                pub crealm: KString,
                #[rasn(tag(explicit(4)))]
                pub cname: PrincipalName,
                #[rasn(tag(explicit(5)))]
                pub ticket: Ticket,
                #[rasn(tag(explicit(6)))]
                pub enc_part: EncryptedData,
            }
        };
    }
    kdc_rep!(AsRep, 11);
    kdc_rep!(TgsRep, 13);

    #[derive(AsnType, Clone, Debug, Decode, Encode, PartialEq, Eq, Default)]
    pub struct LastReqEntry {
        #[rasn(tag(explicit(0)))]
        pub lr_type: i32,
        #[rasn(tag(explicit(1)))]
        pub lr_value: KTime,
    }

    macro_rules! enc_kdc_rep_part {
        ($name:ident, $tag:literal) => {
            #[derive(AsnType, Clone, Debug, Decode, Encode, PartialEq, Eq, Default)]
            #[rasn(tag(explicit(application, $tag)))]
            pub struct $name {
                #[rasn(tag(explicit(0)))]
                pub key: EncryptionKey,
                #[rasn(tag(explicit(1)))]
                pub last_req: SequenceOf<LastReqEntry>,
                #[rasn(tag(explicit(2)))]
                pub nonce: i64,
                #[rasn(tag(explicit(3)))]
                pub key_expiration: Option<KTime>,
                #[rasn(tag(explicit(4)))]
                pub flags: KFlags,
                #[rasn(tag(explicit(5)))]
                pub authtime: KTime,
                #[rasn(tag(explicit(6)))]
                pub starttime: Option<KTime>,
                #[rasn(tag(explicit(7)))]
                pub endtime: KTime,
                #[rasn(tag(explicit(8)))]
                pub renew_till: Option<KTime>,
                #[rasn(tag(explicit(9)))]
                pub srealm: KString,
                #[rasn(tag(explicit(10)))]
                pub sname: PrincipalName,
                #[rasn(tag(explicit(11)))]
                pub caddr: Option<SequenceOf<HostAddress>>,
                #[rasn(tag(explicit(12)))]
                pub encrypted_pa_data: Option<SequenceOf<PaData>>,
            }
        };
    }
    enc_kdc_rep_part!(EncAsRepPart, 25);
    enc_kdc_rep_part!(EncTgsRepPart, 26);

    #[derive(AsnType, Clone, Debug, Decode, Encode, PartialEq, Eq, Default)]
    pub struct PaEncTsEnc {
        #[rasn(tag(explicit(0)))]
        pub patimestamp: KTime,
        #[rasn(tag(explicit(1)))]
        pub pausec: Option<i64>,
    }

    #[derive(AsnType, Clone, Debug, Decode, Encode, PartialEq, Eq, Default)]
    pub struct EtypeInfo2Entry {
        #[rasn(tag(explicit(0)))]
        pub etype: i32,
        #[rasn(tag(explicit(1)))]
        pub salt: Option<KString>,
        #[rasn(tag(explicit(2)))]
        pub s2kparams: Option<Octets>,
    }

    #[derive(AsnType, Clone, Debug, Decode, Encode, PartialEq, Eq, Default)]
    pub struct EtypeInfoEntry {
        #[rasn(tag(explicit(0)))]
        pub etype: i32,
        #[rasn(tag(explicit(1)))]
        pub salt: Option<Octets>,
    }
}

// ---------------------------------------------------------------- conversions

fn pa_to_wire(p: &PaData) -> w::PaData {
    w::PaData {
        padata_type: p.padata_type,
        padata_value: super::wire::Octets(p.padata_value.clone()),
    }
}

fn pa_from_wire(p: w::PaData) -> PaData {
    PaData {
        padata_type: p.padata_type,
        padata_value: p.padata_value.0,
    }
}

fn pas_to_wire(p: &Option<Vec<PaData>>) -> Option<Vec<w::PaData>> {
    p.as_ref().map(|v| v.iter().map(pa_to_wire).collect())
}

fn pas_from_wire(p: Option<Vec<w::PaData>>) -> Option<Vec<PaData>> {
    p.map(|v| v.into_iter().map(pa_from_wire).collect())
}

fn body_to_wire(b: &KdcReqBody) -> w::KdcReqBody {
    w::KdcReqBody {
        kdc_options: c::flags_to_wire(b.kdc_options),
        cname: b.cname.as_ref().map(c::name_to_wire),
        realm: super::wire::KString(b.realm.clone()),
        sname: b.sname.as_ref().map(c::name_to_wire),
        from: b.from.map(c::time_to_wire),
        till: c::time_to_wire(b.till),
        rtime: b.rtime.map(c::time_to_wire),
        // MIT keeps the nonce in a krb5_int32 and encodes it signed.
        nonce: c::int32_to_wire(b.nonce),
        etype: b.etype.clone(),
        addresses: b.addresses.as_deref().map(c::addrs_to_wire),
        enc_authorization_data: b.enc_authorization_data.as_ref().map(c::enc_to_wire),
        additional_tickets: b
            .additional_tickets
            .as_ref()
            .map(|t| t.iter().map(c::ticket_to_wire).collect()),
    }
}

fn body_from_wire(b: w::KdcReqBody) -> Result<KdcReqBody, DecodeError> {
    Ok(KdcReqBody {
        kdc_options: c::flags_from_wire(&b.kdc_options)?,
        cname: b.cname.map(c::name_from_wire),
        realm: b.realm.0,
        sname: b.sname.map(c::name_from_wire),
        from: c::opt_time(&b.from)?,
        till: c::time_from_wire(&b.till)?,
        rtime: c::opt_time(&b.rtime)?,
        nonce: c::int32_from_wire(b.nonce)?,
        etype: b.etype,
        addresses: b.addresses.map(c::addrs_from_wire),
        enc_authorization_data: b.enc_authorization_data.map(c::enc_from_wire).transpose()?,
        additional_tickets: b
            .additional_tickets
            .map(|t| t.into_iter().map(c::ticket_from_wire).collect())
            .transpose()?,
    })
}

impl WireForm for KdcReqBody {
    type Wire = w::KdcReqBody;
    const IDENT: u8 = SEQ;
    fn to_wire(&self) -> Self::Wire {
        body_to_wire(self)
    }
    fn from_wire(w: Self::Wire) -> Result<Self, DecodeError> {
        body_from_wire(w)
    }
}

impl Der for KdcReqBody {
    fn to_der(&self) -> Vec<u8> {
        encode(self)
    }
    fn from_der(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode(bytes)
    }
}

impl Der for PaData {
    fn to_der(&self) -> Vec<u8> {
        encode(self)
    }
    fn from_der(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode(bytes)
    }
}

impl WireForm for PaData {
    type Wire = w::PaData;
    const IDENT: u8 = SEQ;
    fn to_wire(&self) -> Self::Wire {
        pa_to_wire(self)
    }
    fn from_wire(w: Self::Wire) -> Result<Self, DecodeError> {
        Ok(pa_from_wire(w))
    }
}

/// A DER length (X.690 §8.1.3, definite form).
fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

/// One TLV with a single-octet identifier around `parts`.
fn tlv_of(ident: u8, parts: &[&[u8]]) -> Vec<u8> {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let mut out = Vec::with_capacity(len + 6);
    out.push(ident);
    push_len(&mut out, len);
    for p in parts {
        out.extend_from_slice(p);
    }
    out
}

impl KdcReq {
    /// The KDC-REQ with `body_der` (the DER KDC-REQ-BODY, e.g. from
    /// `self.req_body.to_der()`) embedded byte for byte; `self.req_body` is not used.
    pub fn to_der_with_body(&self, body_der: &[u8]) -> Vec<u8> {
        // KDC-REQ ::= SEQUENCE { pvno [1], msg-type [2], padata [3] OPTIONAL, req-body [4] }
        let pvno = tlv_of(0xa1, &[&[0x02, 0x01, 0x05]]);
        let mt = tlv_of(0xa2, &[&[0x02, 0x01, self.msg_type as u8]]);
        let padata = self.padata.as_ref().map(|p| {
            let seq = rasn::der::encode(&p.iter().map(pa_to_wire).collect::<Vec<_>>())
                .expect("DER encoding of PA-DATA");
            tlv_of(0xa3, &[&seq])
        });
        let body = tlv_of(0xa4, &[body_der]);
        let seq = tlv_of(SEQ, &[&pvno, &mt, padata.as_deref().unwrap_or(&[]), &body]);
        tlv_of(app(self.msg_type as u8), &[&seq])
    }
}

impl Der for KdcReq {
    fn to_der(&self) -> Vec<u8> {
        self.to_der_with_body(&self.req_body.to_der())
    }
    fn from_der(bytes: &[u8]) -> Result<Self, DecodeError> {
        let top = tlv::check(bytes)?;
        let (pvno, mt, padata, body, expected) = match top.first {
            x if x == app(10) => {
                let r: w::AsReq = decode_wire(bytes)?;
                (r.pvno, r.msg_type, r.padata, r.req_body, msg_type::AS_REQ)
            }
            x if x == app(12) => {
                let r: w::TgsReq = decode_wire(bytes)?;
                (r.pvno, r.msg_type, r.padata, r.req_body, msg_type::TGS_REQ)
            }
            x => return Err(wrong_message(x, "AS-REQ or TGS-REQ")),
        };
        c::check_pvno(pvno)?;
        c::check_msg_type(mt, expected)?;
        Ok(KdcReq {
            msg_type: expected,
            padata: pas_from_wire(padata),
            req_body: body_from_wire(body)?,
        })
    }
}

/// The DER bytes of the req-body inside an encoded KDC-REQ, as sent (what the
/// PA-TGS-REQ checksum covers).
pub fn req_body_bytes(bytes: &[u8]) -> Result<&[u8], DecodeError> {
    tlv::check(bytes)?;
    explicit_field(bytes, 4).ok_or_else(|| err(mit::ASN1_MISSING_FIELD, "KDC-REQ without req-body"))
}

/// The contents of the explicit context tag `[n]` in `[APPLICATION x] SEQUENCE { ... }`,
/// i.e. the field's own TLV, byte for byte. Walks headers only (after `tlv::check`, every
/// length lies inside its parent).
fn explicit_field(bytes: &[u8], n: u8) -> Option<&[u8]> {
    tlv::check(bytes).ok()?;
    let app = tlv::header(bytes).ok()?;
    let inner = bytes.get(app.header_len..app.header_len + app.len)?;
    let seq_h = tlv::header(inner).ok()?;
    if seq_h.first != SEQ {
        return None;
    }
    let seq = inner.get(seq_h.header_len..seq_h.header_len + seq_h.len)?;
    let mut pos = 0;
    while pos < seq.len() {
        let h = tlv::header(&seq[pos..]).ok()?;
        let end = pos + h.header_len + h.len;
        if h.first == 0xa0 | n {
            return seq.get(pos + h.header_len..end);
        }
        pos = end;
    }
    None
}

fn decode_wire<T: rasn::Decode>(bytes: &[u8]) -> Result<T, DecodeError> {
    rasn::der::decode::<T>(bytes).map_err(c::map_rasn_error)
}

fn wrong_message(first: u8, expected: &str) -> DecodeError {
    // RFC 4120 §5.10: the APPLICATION tag is the message type.
    let code = if first >> 6 == 1 {
        minor::AP_ERR_MSG_TYPE
    } else {
        minor::ASN1_BAD_ID
    };
    err(
        code,
        format!("identifier {first:#04x}, expected {expected}"),
    )
}

impl KdcRep {
    /// The DER Ticket inside an encoded KDC-REP, byte for byte as the KDC sent it (what a
    /// ccache stores and an AP-REQ carries).
    pub fn ticket_bytes(bytes: &[u8]) -> Result<&[u8], DecodeError> {
        explicit_field(bytes, 5)
            .ok_or_else(|| err(mit::ASN1_MISSING_FIELD, "KDC-REP without ticket"))
    }
}

macro_rules! rep_to_wire {
    ($t:ident, $r:expr, $mt:expr) => {
        w::$t {
            pvno: 5,
            msg_type: i64::from($mt),
            padata: pas_to_wire(&$r.padata),
            crealm: super::wire::KString($r.crealm.clone()),
            cname: c::name_to_wire(&$r.cname),
            ticket: c::ticket_to_wire(&$r.ticket),
            enc_part: c::enc_to_wire(&$r.enc_part),
        }
    };
}

macro_rules! rep_from_wire {
    ($r:expr, $mt:expr) => {{
        let r = $r;
        c::check_pvno(r.pvno)?;
        c::check_msg_type(r.msg_type, $mt)?;
        KdcRep {
            msg_type: $mt,
            padata: pas_from_wire(r.padata),
            crealm: r.crealm.0,
            cname: c::name_from_wire(r.cname),
            ticket: c::ticket_from_wire(r.ticket)?,
            enc_part: c::enc_from_wire(r.enc_part)?,
        }
    }};
}

impl Der for KdcRep {
    fn to_der(&self) -> Vec<u8> {
        let out = if self.msg_type == msg_type::AS_REP {
            rasn::der::encode(&rep_to_wire!(AsRep, self, msg_type::AS_REP))
        } else {
            rasn::der::encode(&rep_to_wire!(TgsRep, self, msg_type::TGS_REP))
        };
        out.expect("DER encoding of an unconstrained Kerberos type")
    }
    fn from_der(bytes: &[u8]) -> Result<Self, DecodeError> {
        let top = tlv::check(bytes)?;
        match top.first {
            x if x == app(11) => Ok(rep_from_wire!(
                decode_wire::<w::AsRep>(bytes)?,
                msg_type::AS_REP
            )),
            x if x == app(13) => Ok(rep_from_wire!(
                decode_wire::<w::TgsRep>(bytes)?,
                msg_type::TGS_REP
            )),
            x => Err(wrong_message(x, "AS-REP or TGS-REP")),
        }
    }
}

macro_rules! enc_part_to_wire {
    ($t:ident, $p:expr) => {
        w::$t {
            key: c::key_to_wire(&$p.key),
            last_req: $p
                .last_req
                .iter()
                .map(|l| w::LastReqEntry {
                    lr_type: l.lr_type,
                    lr_value: c::time_to_wire(l.lr_value),
                })
                .collect(),
            nonce: c::int32_to_wire($p.nonce),
            key_expiration: $p.key_expiration.map(c::time_to_wire),
            flags: c::flags_to_wire($p.flags),
            authtime: c::time_to_wire($p.authtime),
            starttime: $p.starttime.map(c::time_to_wire),
            endtime: c::time_to_wire($p.endtime),
            renew_till: $p.renew_till.map(c::time_to_wire),
            srealm: super::wire::KString($p.srealm.clone()),
            sname: c::name_to_wire(&$p.sname),
            caddr: $p.caddr.as_deref().map(c::addrs_to_wire),
            encrypted_pa_data: pas_to_wire(&$p.encrypted_pa_data),
        }
    };
}

macro_rules! enc_part_from_wire {
    ($p:expr, $tag:expr) => {{
        let p = $p;
        EncKdcRepPart {
            tag: $tag,
            key: c::key_from_wire(p.key),
            last_req: p
                .last_req
                .into_iter()
                .map(|l| {
                    Ok(LastReqEntry {
                        lr_type: l.lr_type,
                        lr_value: c::time_from_wire(&l.lr_value)?,
                    })
                })
                .collect::<Result<_, DecodeError>>()?,
            nonce: c::uint32_from_wire(p.nonce)?,
            key_expiration: c::opt_time(&p.key_expiration)?,
            flags: c::flags_from_wire(&p.flags)?,
            authtime: c::time_from_wire(&p.authtime)?,
            starttime: c::opt_time(&p.starttime)?,
            endtime: c::time_from_wire(&p.endtime)?,
            renew_till: c::opt_time(&p.renew_till)?,
            srealm: p.srealm.0,
            sname: c::name_from_wire(p.sname),
            caddr: p.caddr.map(c::addrs_from_wire),
            encrypted_pa_data: pas_from_wire(p.encrypted_pa_data),
        }
    }};
}

impl Der for EncKdcRepPart {
    fn to_der(&self) -> Vec<u8> {
        let out = if self.tag == 25 {
            rasn::der::encode(&enc_part_to_wire!(EncAsRepPart, self))
        } else {
            rasn::der::encode(&enc_part_to_wire!(EncTgsRepPart, self))
        };
        out.expect("DER encoding of an unconstrained Kerberos type")
    }
    fn from_der(bytes: &[u8]) -> Result<Self, DecodeError> {
        let top = tlv::check(bytes)?;
        match top.first {
            x if x == app(25) => Ok(enc_part_from_wire!(
                decode_wire::<w::EncAsRepPart>(bytes)?,
                25
            )),
            x if x == app(26) => Ok(enc_part_from_wire!(
                decode_wire::<w::EncTgsRepPart>(bytes)?,
                26
            )),
            x => Err(err(
                minor::ASN1_BAD_ID,
                format!("identifier {x:#04x}, expected EncASRepPart or EncTGSRepPart"),
            )),
        }
    }
}

impl WireForm for PaEncTsEnc {
    type Wire = w::PaEncTsEnc;
    const IDENT: u8 = SEQ;
    fn to_wire(&self) -> Self::Wire {
        w::PaEncTsEnc {
            patimestamp: c::time_to_wire(self.patimestamp),
            pausec: self.pausec.map(c::int32_to_wire),
        }
    }
    fn from_wire(w: Self::Wire) -> Result<Self, DecodeError> {
        Ok(PaEncTsEnc {
            patimestamp: c::time_from_wire(&w.patimestamp)?,
            pausec: w.pausec.map(c::int32_from_wire).transpose()?,
        })
    }
}

impl Der for PaEncTsEnc {
    fn to_der(&self) -> Vec<u8> {
        encode(self)
    }
    fn from_der(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode(bytes)
    }
}

struct MethodData(Vec<PaData>);

impl WireForm for MethodData {
    type Wire = Vec<w::PaData>;
    const IDENT: u8 = SEQ;
    fn to_wire(&self) -> Self::Wire {
        self.0.iter().map(pa_to_wire).collect()
    }
    fn from_wire(w: Self::Wire) -> Result<Self, DecodeError> {
        Ok(MethodData(w.into_iter().map(pa_from_wire).collect()))
    }
}

/// METHOD-DATA ::= SEQUENCE OF PA-DATA (the e-data of KDC_ERR_PREAUTH_REQUIRED).
pub fn decode_method_data(bytes: &[u8]) -> Result<Vec<PaData>, DecodeError> {
    decode::<MethodData>(bytes).map(|m| m.0)
}
pub fn encode_method_data(pa: &[PaData]) -> Vec<u8> {
    encode(&MethodData(pa.to_vec()))
}

struct EtypeInfo2(Vec<EtypeInfo2Entry>);

impl WireForm for EtypeInfo2 {
    type Wire = Vec<w::EtypeInfo2Entry>;
    const IDENT: u8 = SEQ;
    fn to_wire(&self) -> Self::Wire {
        self.0
            .iter()
            .map(|e| w::EtypeInfo2Entry {
                etype: e.etype,
                salt: e.salt.clone().map(super::wire::KString),
                s2kparams: e.s2kparams.clone().map(super::wire::Octets),
            })
            .collect()
    }
    fn from_wire(w: Self::Wire) -> Result<Self, DecodeError> {
        Ok(EtypeInfo2(
            w.into_iter()
                .map(|e| EtypeInfo2Entry {
                    etype: e.etype,
                    salt: e.salt.map(|s| s.0),
                    s2kparams: e.s2kparams.map(|s| s.0),
                })
                .collect(),
        ))
    }
}

struct EtypeInfo(Vec<EtypeInfo2Entry>);

impl WireForm for EtypeInfo {
    type Wire = Vec<w::EtypeInfoEntry>;
    const IDENT: u8 = SEQ;
    fn to_wire(&self) -> Self::Wire {
        self.0
            .iter()
            .map(|e| w::EtypeInfoEntry {
                etype: e.etype,
                salt: e.salt.clone().map(super::wire::Octets),
            })
            .collect()
    }
    fn from_wire(w: Self::Wire) -> Result<Self, DecodeError> {
        Ok(EtypeInfo(
            w.into_iter()
                .map(|e| EtypeInfo2Entry {
                    etype: e.etype,
                    salt: e.salt.map(|s| s.0),
                    s2kparams: None,
                })
                .collect(),
        ))
    }
}

/// ETYPE-INFO2 ::= SEQUENCE SIZE (1..MAX) OF ETYPE-INFO2-ENTRY (RFC 4120 §5.2.7.5).
pub fn decode_etype_info2(bytes: &[u8]) -> Result<Vec<EtypeInfo2Entry>, DecodeError> {
    decode::<EtypeInfo2>(bytes).map(|e| e.0)
}
pub fn encode_etype_info2(entries: &[EtypeInfo2Entry]) -> Vec<u8> {
    encode(&EtypeInfo2(entries.to_vec()))
}
/// ETYPE-INFO ::= SEQUENCE OF ETYPE-INFO-ENTRY (RFC 4120 §5.2.7.4).
pub fn decode_etype_info(bytes: &[u8]) -> Result<Vec<EtypeInfo2Entry>, DecodeError> {
    decode::<EtypeInfo>(bytes).map(|e| e.0)
}
pub fn encode_etype_info(entries: &[EtypeInfo2Entry]) -> Vec<u8> {
    encode(&EtypeInfo(entries.to_vec()))
}

/// AP-REQ (RFC 4120 §5.5.1) around a Ticket given as DER bytes, embedded unchanged (the
/// PA-TGS-REQ carries the TGT exactly as the KDC issued it).
pub fn ap_req_with_ticket_der(
    ap_options: u32,
    ticket_der: &[u8],
    authenticator: &EncryptedData,
) -> Vec<u8> {
    let pvno = tlv_of(0xa0, &[&[0x02, 0x01, 0x05]]);
    let mt = tlv_of(0xa1, &[&[0x02, 0x01, msg_type::AP_REQ as u8]]);
    let flags = ap_options.to_be_bytes();
    let opts = tlv_of(
        0xa2,
        &[&[0x03, 0x05, 0x00, flags[0], flags[1], flags[2], flags[3]]],
    );
    let ticket = tlv_of(0xa3, &[ticket_der]);
    let auth = tlv_of(0xa4, &[&authenticator.to_der()]);
    let seq = tlv_of(SEQ, &[&pvno, &mt, &opts, &ticket, &auth]);
    tlv_of(app(msg_type::AP_REQ as u8), &[&seq])
}
