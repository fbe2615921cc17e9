//! Conversions between the plain message types and the rasn wire types, and the
//! `Der` implementations built on them.

use super::tlv::{self, err, mit};
use super::wire as w;
use super::*;
use crate::error::minor;

// ---------------------------------------------------------------- leaf values

/// KerberosFlags out: always 32 bits, `03 05 00 b0 b1 b2 b3` (RFC 4120 §5.2.8; MIT does the same).
pub(super) fn flags_to_wire(flags: u32) -> w::KFlags {
    let b = flags.to_be_bytes();
    w::KFlags(vec![0, b[0], b[1], b[2], b[3]])
}

/// KerberosFlags in: any length; the first 32 bits are kept, missing bits are zero and
/// the unused bits of a short last octet are cleared (as MIT's decode_krb5_flags).
pub(super) fn flags_from_wire(f: &w::KFlags) -> Result<u32, DecodeError> {
    flags_from_bytes(&f.0)
}

/// KerberosFlags from the BIT STRING contents (shared with the fast decoder).
pub(super) fn flags_from_bytes(contents: &[u8]) -> Result<u32, DecodeError> {
    let (&unused, bits) = contents
        .split_first()
        .ok_or_else(|| err(minor::ASN1_BAD_LENGTH, "empty BIT STRING"))?;
    if unused > 7 || (bits.is_empty() && unused != 0) {
        return Err(err(
            minor::ASN1_BAD_FORMAT,
            "bad unused-bits count in BIT STRING",
        ));
    }
    let mut v = [0u8; 4];
    let n = bits.len().min(4);
    v[..n].copy_from_slice(&bits[..n]);
    if bits.len() <= 4 && !bits.is_empty() {
        v[bits.len() - 1] &= 0xffu8 << unused;
    }
    Ok(u32::from_be_bytes(v))
}

/// UInt32 in: MIT accepts -2^31..2^32-1 and keeps the low 32 bits (measured on 1.20).
pub(super) fn uint32_from_wire(v: i64) -> Result<u32, DecodeError> {
    if (-(1i64 << 31)..(1i64 << 32)).contains(&v) {
        Ok(v as u32)
    } else {
        Err(err(mit::ASN1_OVERFLOW, "UInt32 out of range"))
    }
}

/// UInt32 out, as MIT 1.20 encodes seq-number and kvno: unsigned (0x80000000 -> `02 05 00 80 00 00 00`).
pub(super) fn uint32_to_wire(v: u32) -> i64 {
    i64::from(v)
}

/// Fields MIT stores as krb5_int32 (cusec, susec, usec, nonce): encoded signed, as MIT does.
pub(super) fn int32_to_wire(v: u32) -> i64 {
    i64::from(v as i32)
}

/// Int32 fields kept in a u32: accept the whole UInt32 range, keep the 32-bit pattern.
pub(super) fn int32_from_wire(v: i64) -> Result<u32, DecodeError> {
    uint32_from_wire(v)
}

pub(super) fn time_to_wire(t: KerberosTime) -> w::KTime {
    w::KTime(time::encode(t).to_vec())
}

pub(super) fn time_from_wire(t: &w::KTime) -> Result<KerberosTime, DecodeError> {
    time::decode(&t.0)
}

pub(super) fn opt_time(t: &Option<w::KTime>) -> Result<Option<KerberosTime>, DecodeError> {
    t.as_ref().map(time_from_wire).transpose()
}

pub(super) fn check_pvno(v: i64) -> Result<(), DecodeError> {
    if v == 5 {
        Ok(())
    } else {
        Err(err(
            mit::KDC_ERR_BAD_PVNO,
            format!("protocol version {v}, expected 5"),
        ))
    }
}

pub(super) fn check_msg_type(v: i64, expected: i32) -> Result<(), DecodeError> {
    if v == i64::from(expected) {
        Ok(())
    } else {
        Err(err(
            minor::BADMSGTYPE,
            format!("msg-type {v}, expected {expected}"),
        ))
    }
}

// ---------------------------------------------------------------- composite values

pub(super) fn name_to_wire(n: &PrincipalName) -> w::PrincipalName {
    w::PrincipalName {
        name_type: n.name_type,
        name_string: n.components.iter().map(|c| w::KString(c.clone())).collect(),
    }
}

pub(super) fn name_from_wire(n: w::PrincipalName) -> PrincipalName {
    PrincipalName {
        name_type: n.name_type,
        components: n.name_string.into_iter().map(|c| c.0).collect(),
    }
}

pub(super) fn key_to_wire(k: &EncryptionKey) -> w::EncryptionKey {
    w::EncryptionKey {
        keytype: k.keytype,
        keyvalue: w::KeyOctets(k.keyvalue.clone()),
    }
}

pub(super) fn key_from_wire(k: w::EncryptionKey) -> EncryptionKey {
    EncryptionKey {
        keytype: k.keytype,
        keyvalue: k.keyvalue.0,
    }
}

pub(super) fn enc_to_wire(e: &EncryptedData) -> w::EncryptedData {
    w::EncryptedData {
        etype: e.etype,
        kvno: e.kvno.map(uint32_to_wire),
        cipher: w::Octets(e.cipher.clone()),
    }
}

pub(super) fn enc_from_wire(e: w::EncryptedData) -> Result<EncryptedData, DecodeError> {
    Ok(EncryptedData {
        etype: e.etype,
        kvno: e.kvno.map(uint32_from_wire).transpose()?,
        cipher: e.cipher.0,
    })
}

fn cksum_to_wire(c: &Checksum) -> w::Checksum {
    w::Checksum {
        cksumtype: c.cksumtype,
        checksum: w::Octets(c.checksum.clone()),
    }
}

fn cksum_from_wire(c: w::Checksum) -> Checksum {
    Checksum {
        cksumtype: c.cksumtype,
        checksum: c.checksum.0,
    }
}

fn addr_to_wire(a: &HostAddress) -> w::HostAddress {
    w::HostAddress {
        addr_type: a.addr_type,
        address: w::Octets(a.address.clone()),
    }
}

fn addr_from_wire(a: w::HostAddress) -> HostAddress {
    HostAddress {
        addr_type: a.addr_type,
        address: a.address.0,
    }
}

pub(super) fn addrs_to_wire(a: &[HostAddress]) -> Vec<w::HostAddress> {
    a.iter().map(addr_to_wire).collect()
}

pub(super) fn addrs_from_wire(a: Vec<w::HostAddress>) -> Vec<HostAddress> {
    a.into_iter().map(addr_from_wire).collect()
}

fn ad_to_wire(ad: &[AuthorizationDataEntry]) -> Vec<w::AuthorizationDataEntry> {
    ad.iter()
        .map(|e| w::AuthorizationDataEntry {
            ad_type: e.ad_type,
            ad_data: w::Octets(e.ad_data.clone()),
        })
        .collect()
}

fn ad_from_wire(ad: Vec<w::AuthorizationDataEntry>) -> AuthorizationData {
    ad.into_iter()
        .map(|e| AuthorizationDataEntry {
            ad_type: e.ad_type,
            ad_data: e.ad_data.0,
        })
        .collect()
}

fn transited_to_wire(t: &TransitedEncoding) -> w::TransitedEncoding {
    w::TransitedEncoding {
        tr_type: t.tr_type,
        contents: w::Octets(t.contents.clone()),
    }
}

fn transited_from_wire(t: w::TransitedEncoding) -> TransitedEncoding {
    TransitedEncoding {
        tr_type: t.tr_type,
        contents: t.contents.0,
    }
}

pub(super) fn ticket_to_wire(t: &Ticket) -> w::Ticket {
    w::Ticket {
        tkt_vno: 5,
        realm: w::KString(t.realm.clone()),
        sname: name_to_wire(&t.sname),
        enc_part: enc_to_wire(&t.enc_part),
    }
}

pub(super) fn ticket_from_wire(t: w::Ticket) -> Result<Ticket, DecodeError> {
    check_pvno(t.tkt_vno)?;
    Ok(Ticket {
        realm: t.realm.0,
        sname: name_from_wire(t.sname),
        enc_part: enc_from_wire(t.enc_part)?,
    })
}

fn cred_info_to_wire(c: &KrbCredInfo) -> w::KrbCredInfo {
    w::KrbCredInfo {
        key: key_to_wire(&c.key),
        prealm: c.prealm.clone().map(w::KString),
        pname: c.pname.as_ref().map(name_to_wire),
        flags: c.flags.map(flags_to_wire),
        authtime: c.authtime.map(time_to_wire),
        starttime: c.starttime.map(time_to_wire),
        endtime: c.endtime.map(time_to_wire),
        renew_till: c.renew_till.map(time_to_wire),
        srealm: c.srealm.clone().map(w::KString),
        sname: c.sname.as_ref().map(name_to_wire),
        caddr: c.caddr.as_deref().map(addrs_to_wire),
    }
}

fn cred_info_from_wire(c: w::KrbCredInfo) -> Result<KrbCredInfo, DecodeError> {
    Ok(KrbCredInfo {
        key: key_from_wire(c.key),
        prealm: c.prealm.map(|s| s.0),
        pname: c.pname.map(name_from_wire),
        flags: c.flags.as_ref().map(flags_from_wire).transpose()?,
        authtime: opt_time(&c.authtime)?,
        starttime: opt_time(&c.starttime)?,
        endtime: opt_time(&c.endtime)?,
        renew_till: opt_time(&c.renew_till)?,
        srealm: c.srealm.map(|s| s.0),
        sname: c.sname.map(name_from_wire),
        caddr: c.caddr.map(addrs_from_wire),
    })
}

// ---------------------------------------------------------------- codec plumbing

/// A plain type with a wire twin; `IDENT` is the expected first identifier octet.
pub(super) trait WireForm: Sized {
    type Wire: rasn::Encode + rasn::Decode;
    const IDENT: u8;
    /// Messages with pvno/msg-type: a different APPLICATION tag means another message.
    const IS_MESSAGE: bool = false;
    fn to_wire(&self) -> Self::Wire;
    fn from_wire(w: Self::Wire) -> Result<Self, DecodeError>;
}

/// rasn's error -> MIT minor code.  Structural problems were already refused by
/// `tlv::check`, so what remains is mostly schema mismatch.
pub(super) fn map_rasn_error(e: rasn::error::DecodeError) -> DecodeError {
    use rasn::error::{BerDecodeErrorKind as B, CodecDecodeError as C, DecodeErrorKind as K};
    // A failure inside a field is reported nested in FieldError: classify the innermost one
    // (a wrong tag deep in a message is still ASN1_BAD_ID, as MIT says).
    let mut root = &e;
    while let K::FieldError { nested, .. } = &*root.kind {
        root = nested;
    }
    let minor = match &*root.kind {
        K::CodecSpecific {
            inner: C::Ber(B::MismatchedTag { .. }),
        } => minor::ASN1_BAD_ID,
        K::CodecSpecific {
            inner: C::Ber(B::IndefiniteLengthNotAllowed),
        } => minor::ASN1_BAD_LENGTH,
        K::MissingField { .. } => mit::ASN1_MISSING_FIELD,
        K::IntegerOverflow { .. } | K::IntegerTypeConversionFailed { .. } => mit::ASN1_OVERFLOW,
        K::Incomplete { .. } | K::Eof => minor::ASN1_OVERRUN,
        K::UnexpectedExtraData { .. } => minor::ASN1_BAD_LENGTH,
        _ => minor::ASN1_BAD_FORMAT,
    };
    err(minor, e.kind.to_string())
}

pub(super) fn decode<T: WireForm>(bytes: &[u8]) -> Result<T, DecodeError> {
    let top = tlv::check(bytes)?;
    if top.first != T::IDENT {
        // RFC 4120 §5.10: the APPLICATION tag is the message type.
        let minor = if T::IS_MESSAGE && top.class() == 1 {
            minor::AP_ERR_MSG_TYPE
        } else {
            minor::ASN1_BAD_ID
        };
        return Err(err(
            minor,
            format!("identifier {:#04x}, expected {:#04x}", top.first, T::IDENT),
        ));
    }
    let w = rasn::der::decode::<T::Wire>(bytes).map_err(map_rasn_error)?;
    T::from_wire(w)
}

pub(super) fn encode<T: WireForm>(v: &T) -> Vec<u8> {
    // Encoding our own wire types cannot fail: no constraints, no open types.
    rasn::der::encode(&v.to_wire()).expect("DER encoding of an unconstrained Kerberos type")
}

macro_rules! der_via_wire {
    ($($t:ty),* $(,)?) => {$(
        impl Der for $t {
            fn to_der(&self) -> Vec<u8> {
                encode(self)
            }
            fn from_der(bytes: &[u8]) -> Result<Self, DecodeError> {
                decode(bytes)
            }
        }
    )*};
}

der_via_wire!(
    PrincipalName,
    EncryptionKey,
    EncryptedData,
    Checksum,
    HostAddress,
    AuthorizationDataEntry,
    TransitedEncoding,
    Ticket,
    KrbError,
    KrbCred,
    EncKrbCredPart,
    KrbCredInfo,
);

/// The messages an acceptor decodes for every token: the hand-written decoder first
/// (`fast.rs`), the rasn path for whatever it does not take (and so for every error).
macro_rules! der_fast_then_wire {
    ($($t:ty => $fast:path),* $(,)?) => {$(
        impl Der for $t {
            fn to_der(&self) -> Vec<u8> {
                encode(self)
            }
            fn from_der(bytes: &[u8]) -> Result<Self, DecodeError> {
                match $fast(bytes) {
                    Some(v) => Ok(v),
                    None => decode(bytes),
                }
            }
        }
    )*};
}

/// The acceptor's reply: encoded by hand (`fast.rs`, the same bytes), decoded by rasn.
macro_rules! der_fast_encode {
    ($($t:ty => $fast:path),* $(,)?) => {$(
        impl Der for $t {
            fn to_der(&self) -> Vec<u8> {
                $fast(self)
            }
            fn from_der(bytes: &[u8]) -> Result<Self, DecodeError> {
                decode(bytes)
            }
        }
    )*};
}

der_fast_encode!(
    EncApRepPart => super::fast::encode_enc_ap_rep_part,
    ApRep => super::fast::encode_ap_rep,
);

der_fast_then_wire!(
    EncTicketPart => super::fast::enc_ticket_part,
);

/// The initiator's messages: encoded by hand (`fast.rs`, the same bytes as the rasn path,
/// tested), decoded fast first as above.
macro_rules! der_fast_both {
    ($($t:ty => $enc:path, $dec:path),* $(,)?) => {$(
        impl Der for $t {
            fn to_der(&self) -> Vec<u8> {
                $enc(self)
            }
            fn from_der(bytes: &[u8]) -> Result<Self, DecodeError> {
                match $dec(bytes) {
                    Some(v) => Ok(v),
                    None => decode(bytes),
                }
            }
        }
    )*};
}

der_fast_both!(
    Authenticator => super::fast::encode_authenticator, super::fast::authenticator,
    ApReq => super::fast::encode_ap_req, super::fast::ap_req,
);

pub(super) const SEQ: u8 = 0x30;
pub(super) const fn app(n: u8) -> u8 {
    0x60 | n
}

impl WireForm for PrincipalName {
    type Wire = w::PrincipalName;
    const IDENT: u8 = SEQ;
    fn to_wire(&self) -> Self::Wire {
        name_to_wire(self)
    }
    fn from_wire(w: Self::Wire) -> Result<Self, DecodeError> {
        Ok(name_from_wire(w))
    }
}

impl WireForm for EncryptionKey {
    type Wire = w::EncryptionKey;
    const IDENT: u8 = SEQ;
    fn to_wire(&self) -> Self::Wire {
        key_to_wire(self)
    }
    fn from_wire(w: Self::Wire) -> Result<Self, DecodeError> {
        Ok(key_from_wire(w))
    }
}

impl WireForm for EncryptedData {
    type Wire = w::EncryptedData;
    const IDENT: u8 = SEQ;
    fn to_wire(&self) -> Self::Wire {
        enc_to_wire(self)
    }
    fn from_wire(w: Self::Wire) -> Result<Self, DecodeError> {
        enc_from_wire(w)
    }
}

impl WireForm for Checksum {
    type Wire = w::Checksum;
    const IDENT: u8 = SEQ;
    fn to_wire(&self) -> Self::Wire {
        cksum_to_wire(self)
    }
    fn from_wire(w: Self::Wire) -> Result<Self, DecodeError> {
        Ok(cksum_from_wire(w))
    }
}

impl WireForm for HostAddress {
    type Wire = w::HostAddress;
    const IDENT: u8 = SEQ;
    fn to_wire(&self) -> Self::Wire {
        addr_to_wire(self)
    }
    fn from_wire(w: Self::Wire) -> Result<Self, DecodeError> {
        Ok(addr_from_wire(w))
    }
}

impl WireForm for AuthorizationDataEntry {
    type Wire = w::AuthorizationDataEntry;
    const IDENT: u8 = SEQ;
    fn to_wire(&self) -> Self::Wire {
        w::AuthorizationDataEntry {
            ad_type: self.ad_type,
            ad_data: w::Octets(self.ad_data.clone()),
        }
    }
    fn from_wire(w: Self::Wire) -> Result<Self, DecodeError> {
        Ok(AuthorizationDataEntry {
            ad_type: w.ad_type,
            ad_data: w.ad_data.0,
        })
    }
}

impl WireForm for TransitedEncoding {
    type Wire = w::TransitedEncoding;
    const IDENT: u8 = SEQ;
    fn to_wire(&self) -> Self::Wire {
        transited_to_wire(self)
    }
    fn from_wire(w: Self::Wire) -> Result<Self, DecodeError> {
        Ok(transited_from_wire(w))
    }
}

impl WireForm for Ticket {
    type Wire = w::Ticket;
    const IDENT: u8 = app(1);
    fn to_wire(&self) -> Self::Wire {
        ticket_to_wire(self)
    }
    fn from_wire(w: Self::Wire) -> Result<Self, DecodeError> {
        ticket_from_wire(w)
    }
}

impl WireForm for EncTicketPart {
    type Wire = w::EncTicketPart;
    const IDENT: u8 = app(3);
    fn to_wire(&self) -> Self::Wire {
        w::EncTicketPart {
            flags: flags_to_wire(self.flags),
            key: key_to_wire(&self.key),
            crealm: w::KString(self.crealm.clone()),
            cname: name_to_wire(&self.cname),
            transited: transited_to_wire(&self.transited),
            authtime: time_to_wire(self.authtime),
            starttime: self.starttime.map(time_to_wire),
            endtime: time_to_wire(self.endtime),
            renew_till: self.renew_till.map(time_to_wire),
            caddr: self.caddr.as_deref().map(addrs_to_wire),
            authorization_data: self.authorization_data.as_deref().map(ad_to_wire),
        }
    }
    fn from_wire(w: Self::Wire) -> Result<Self, DecodeError> {
        Ok(EncTicketPart {
            flags: flags_from_wire(&w.flags)?,
            key: key_from_wire(w.key),
            crealm: w.crealm.0,
            cname: name_from_wire(w.cname),
            transited: transited_from_wire(w.transited),
            authtime: time_from_wire(&w.authtime)?,
            starttime: opt_time(&w.starttime)?,
            endtime: time_from_wire(&w.endtime)?,
            renew_till: opt_time(&w.renew_till)?,
            caddr: w.caddr.map(addrs_from_wire),
            authorization_data: w.authorization_data.map(ad_from_wire),
        })
    }
}

impl WireForm for Authenticator {
    type Wire = w::Authenticator;
    const IDENT: u8 = app(2);
    fn to_wire(&self) -> Self::Wire {
        w::Authenticator {
            authenticator_vno: 5,
            crealm: w::KString(self.crealm.clone()),
            cname: name_to_wire(&self.cname),
            cksum: self.cksum.as_ref().map(cksum_to_wire),
            cusec: int32_to_wire(self.cusec),
            ctime: time_to_wire(self.ctime),
            subkey: self.subkey.as_ref().map(key_to_wire),
            seq_number: self.seq_number.map(uint32_to_wire),
            authorization_data: self.authorization_data.as_deref().map(ad_to_wire),
        }
    }
    fn from_wire(w: Self::Wire) -> Result<Self, DecodeError> {
        check_pvno(w.authenticator_vno)?;
        Ok(Authenticator {
            crealm: w.crealm.0,
            cname: name_from_wire(w.cname),
            cksum: w.cksum.map(cksum_from_wire),
            cusec: int32_from_wire(w.cusec)?,
            ctime: time_from_wire(&w.ctime)?,
            subkey: w.subkey.map(key_from_wire),
            seq_number: w.seq_number.map(uint32_from_wire).transpose()?,
            authorization_data: w.authorization_data.map(ad_from_wire),
        })
    }
}

impl WireForm for ApReq {
    type Wire = w::ApReq;
    const IDENT: u8 = app(14);
    const IS_MESSAGE: bool = true;
    fn to_wire(&self) -> Self::Wire {
        w::ApReq {
            pvno: 5,
            msg_type: msg_type::AP_REQ.into(),
            ap_options: flags_to_wire(self.ap_options),
            ticket: ticket_to_wire(&self.ticket),
            authenticator: enc_to_wire(&self.authenticator),
        }
    }
    fn from_wire(w: Self::Wire) -> Result<Self, DecodeError> {
        check_pvno(w.pvno)?;
        check_msg_type(w.msg_type, msg_type::AP_REQ)?;
        Ok(ApReq {
            ap_options: flags_from_wire(&w.ap_options)?,
            ticket: ticket_from_wire(w.ticket)?,
            authenticator: enc_from_wire(w.authenticator)?,
        })
    }
}

impl WireForm for ApRep {
    type Wire = w::ApRep;
    const IDENT: u8 = app(15);
    const IS_MESSAGE: bool = true;
    fn to_wire(&self) -> Self::Wire {
        w::ApRep {
            pvno: 5,
            msg_type: msg_type::AP_REP.into(),
            enc_part: enc_to_wire(&self.enc_part),
        }
    }
    fn from_wire(w: Self::Wire) -> Result<Self, DecodeError> {
        check_pvno(w.pvno)?;
        check_msg_type(w.msg_type, msg_type::AP_REP)?;
        Ok(ApRep {
            enc_part: enc_from_wire(w.enc_part)?,
        })
    }
}

impl WireForm for EncApRepPart {
    type Wire = w::EncApRepPart;
    const IDENT: u8 = app(27);
    fn to_wire(&self) -> Self::Wire {
        w::EncApRepPart {
            ctime: time_to_wire(self.ctime),
            cusec: int32_to_wire(self.cusec),
            subkey: self.subkey.as_ref().map(key_to_wire),
            seq_number: self.seq_number.map(uint32_to_wire),
        }
    }
    fn from_wire(w: Self::Wire) -> Result<Self, DecodeError> {
        Ok(EncApRepPart {
            ctime: time_from_wire(&w.ctime)?,
            cusec: int32_from_wire(w.cusec)?,
            subkey: w.subkey.map(key_from_wire),
            seq_number: w.seq_number.map(uint32_from_wire).transpose()?,
        })
    }
}

impl WireForm for KrbError {
    type Wire = w::KrbError;
    const IDENT: u8 = app(30);
    const IS_MESSAGE: bool = true;
    fn to_wire(&self) -> Self::Wire {
        w::KrbError {
            pvno: 5,
            msg_type: msg_type::KRB_ERROR.into(),
            ctime: self.ctime.map(time_to_wire),
            cusec: self.cusec.map(int32_to_wire),
            stime: time_to_wire(self.stime),
            susec: int32_to_wire(self.susec),
            error_code: self.error_code,
            crealm: self.crealm.clone().map(w::KString),
            cname: self.cname.as_ref().map(name_to_wire),
            realm: w::KString(self.realm.clone()),
            sname: name_to_wire(&self.sname),
            e_text: self.e_text.clone().map(w::KString),
            e_data: self.e_data.clone().map(w::Octets),
        }
    }
    fn from_wire(w: Self::Wire) -> Result<Self, DecodeError> {
        check_pvno(w.pvno)?;
        check_msg_type(w.msg_type, msg_type::KRB_ERROR)?;
        Ok(KrbError {
            ctime: opt_time(&w.ctime)?,
            cusec: w.cusec.map(int32_from_wire).transpose()?,
            stime: time_from_wire(&w.stime)?,
            susec: int32_from_wire(w.susec)?,
            error_code: w.error_code,
            crealm: w.crealm.map(|s| s.0),
            cname: w.cname.map(name_from_wire),
            realm: w.realm.0,
            sname: name_from_wire(w.sname),
            e_text: w.e_text.map(|s| s.0),
            e_data: w.e_data.map(|s| s.0),
        })
    }
}

impl WireForm for KrbCred {
    type Wire = w::KrbCred;
    const IDENT: u8 = app(22);
    const IS_MESSAGE: bool = true;
    fn to_wire(&self) -> Self::Wire {
        w::KrbCred {
            pvno: 5,
            msg_type: msg_type::KRB_CRED.into(),
            tickets: self.tickets.iter().map(ticket_to_wire).collect(),
            enc_part: enc_to_wire(&self.enc_part),
        }
    }
    fn from_wire(w: Self::Wire) -> Result<Self, DecodeError> {
        check_pvno(w.pvno)?;
        check_msg_type(w.msg_type, msg_type::KRB_CRED)?;
        Ok(KrbCred {
            tickets: w
                .tickets
                .into_iter()
                .map(ticket_from_wire)
                .collect::<Result<_, _>>()?,
            enc_part: enc_from_wire(w.enc_part)?,
        })
    }
}

impl WireForm for EncKrbCredPart {
    type Wire = w::EncKrbCredPart;
    const IDENT: u8 = app(29);
    fn to_wire(&self) -> Self::Wire {
        w::EncKrbCredPart {
            ticket_info: self.ticket_info.iter().map(cred_info_to_wire).collect(),
            nonce: self.nonce.map(int32_to_wire),
            timestamp: self.timestamp.map(time_to_wire),
            usec: self.usec.map(int32_to_wire),
            s_address: self.s_address.as_ref().map(addr_to_wire),
            r_address: self.r_address.as_ref().map(addr_to_wire),
        }
    }
    fn from_wire(w: Self::Wire) -> Result<Self, DecodeError> {
        Ok(EncKrbCredPart {
            ticket_info: w
                .ticket_info
                .into_iter()
                .map(cred_info_from_wire)
                .collect::<Result<_, _>>()?,
            nonce: w.nonce.map(int32_from_wire).transpose()?,
            timestamp: opt_time(&w.timestamp)?,
            usec: w.usec.map(int32_from_wire).transpose()?,
            s_address: w.s_address.map(addr_from_wire),
            r_address: w.r_address.map(addr_from_wire),
        })
    }
}

impl WireForm for KrbCredInfo {
    type Wire = w::KrbCredInfo;
    const IDENT: u8 = SEQ;
    fn to_wire(&self) -> Self::Wire {
        cred_info_to_wire(self)
    }
    fn from_wire(w: Self::Wire) -> Result<Self, DecodeError> {
        cred_info_from_wire(w)
    }
}

/// AuthorizationData ::= SEQUENCE OF entries, as its own top-level value.
pub(super) struct AdSeq(pub AuthorizationData);

impl WireForm for AdSeq {
    type Wire = Vec<w::AuthorizationDataEntry>;
    const IDENT: u8 = SEQ;
    fn to_wire(&self) -> Self::Wire {
        ad_to_wire(&self.0)
    }
    fn from_wire(w: Self::Wire) -> Result<Self, DecodeError> {
        Ok(AdSeq(ad_from_wire(w)))
    }
}

/// EtypeList ::= SEQUENCE OF Int32 (RFC 4537 §3).
pub(super) struct EtypeSeq(pub Vec<i32>);

impl WireForm for EtypeSeq {
    type Wire = Vec<i32>;
    const IDENT: u8 = SEQ;
    fn to_wire(&self) -> Self::Wire {
        self.0.clone()
    }
    fn from_wire(w: Self::Wire) -> Result<Self, DecodeError> {
        Ok(EtypeSeq(w))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_any_length() {
        assert_eq!(
            flags_from_wire(&w::KFlags(vec![0, 0x20, 0, 0, 0])).unwrap(),
            0x2000_0000
        );
        // rasn-kerberos's short form of "bit 2": 03 02 00 02 -> bit 6 as MIT reads it.
        assert_eq!(
            flags_from_wire(&w::KFlags(vec![0, 0x02])).unwrap(),
            0x0200_0000
        );
        assert_eq!(
            flags_from_wire(&w::KFlags(vec![4, 0xff])).unwrap(),
            0xf000_0000
        );
        assert_eq!(
            flags_from_wire(&w::KFlags(vec![0, 1, 2, 3, 4, 5, 6])).unwrap(),
            0x0102_0304
        );
        assert_eq!(flags_from_wire(&w::KFlags(vec![0])).unwrap(), 0);
        assert!(flags_from_wire(&w::KFlags(vec![])).is_err());
        assert!(flags_from_wire(&w::KFlags(vec![8, 0])).is_err());
        assert!(flags_from_wire(&w::KFlags(vec![1])).is_err());
    }

    #[test]
    fn uint32_range_like_mit() {
        assert_eq!(uint32_from_wire(-1).unwrap(), 0xffff_ffff);
        assert_eq!(uint32_from_wire(-(1 << 31)).unwrap(), 0x8000_0000);
        assert_eq!(uint32_from_wire(0xffff_ffff).unwrap(), 0xffff_ffff);
        assert_eq!(
            uint32_from_wire(1 << 32).unwrap_err().minor,
            mit::ASN1_OVERFLOW
        );
        assert_eq!(
            uint32_from_wire(-(1 << 31) - 1).unwrap_err().minor,
            mit::ASN1_OVERFLOW
        );
    }
}
