//! RFC 4120 §5 messages in DER.
//!
//! CONTRACT (skeleton — the asn1 owner implements `Der` for every type, keeps the field
//! names and types). These are plain Rust types: strings are raw bytes (KerberosString is
//! octets to MIT), times are whole Unix seconds, flags are u32 with bit 0 = the ASN.1
//! BIT STRING's first bit (RFC 4120 numbering: `flags & (0x8000_0000 >> n)` is bit n),
//! UInt32 fields accept negative INTEGERs from peers (stored as their 32-bit pattern).

use crate::principal::{Principal, PrincipalName};
use zeroize::Zeroizing;

mod convert;
mod fast;
pub(crate) use fast::{
    ap_rep_len, enc_ap_rep_part_len, encode_ap_rep_with, encode_ap_req_with, put_enc_ap_rep_part,
};
mod length;
pub(crate) use length::{der_length_size, push_der_length, tlv_size};
pub mod kdc;
pub(crate) mod time;
mod tlv;
mod wire;

pub use tlv::mit as mit_minor;

/// Errors decoding DER; mapped to MIT's asn1 minor codes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    pub minor: i32,
    pub detail: String,
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({})",
            crate::error::minor::message(self.minor),
            self.detail
        )
    }
}
impl std::error::Error for DecodeError {}

impl From<DecodeError> for crate::error::Error {
    fn from(e: DecodeError) -> Self {
        crate::error::Error::new(crate::error::major::DEFECTIVE_TOKEN, e.minor, e.detail)
    }
}

/// DER encoding and decoding of one message type.
pub trait Der: Sized {
    fn to_der(&self) -> Vec<u8>;
    /// Decodes exactly one value; trailing bytes are an error.
    fn from_der(bytes: &[u8]) -> Result<Self, DecodeError>;
}

/// Message types (RFC 4120 §7.5.7), the APPLICATION tag numbers.
pub mod msg_type {
    pub const AS_REQ: i32 = 10;
    pub const AS_REP: i32 = 11;
    pub const TGS_REQ: i32 = 12;
    pub const TGS_REP: i32 = 13;
    pub const AP_REQ: i32 = 14;
    pub const AP_REP: i32 = 15;
    pub const KRB_SAFE: i32 = 20;
    pub const KRB_PRIV: i32 = 21;
    pub const KRB_CRED: i32 = 22;
    pub const KRB_ERROR: i32 = 30;
}

/// Authorization data types (RFC 4120 §7.5.4, MS-PAC, RFC 4537).
pub mod ad_type {
    pub const IF_RELEVANT: i32 = 1;
    pub const KDC_ISSUED: i32 = 4;
    pub const AND_OR: i32 = 5;
    pub const MANDATORY_FOR_KDC: i32 = 8;
    pub const WIN2K_PAC: i32 = 128;
    pub const ETYPE_NEGOTIATION: i32 = 129;
}

/// KerberosFlags bits (RFC 4120 §5.2.8 numbering) as u32 masks.
pub mod flags {
    pub const fn bit(n: u32) -> u32 {
        0x8000_0000 >> n
    }
    // APOptions
    pub const AP_USE_SESSION_KEY: u32 = bit(1);
    pub const AP_MUTUAL_REQUIRED: u32 = bit(2);
    // TicketFlags
    pub const TKT_FORWARDABLE: u32 = bit(1);
    pub const TKT_FORWARDED: u32 = bit(2);
    pub const TKT_PROXIABLE: u32 = bit(3);
    pub const TKT_PROXY: u32 = bit(4);
    pub const TKT_MAY_POSTDATE: u32 = bit(5);
    pub const TKT_POSTDATED: u32 = bit(6);
    pub const TKT_INVALID: u32 = bit(7);
    pub const TKT_RENEWABLE: u32 = bit(8);
    pub const TKT_INITIAL: u32 = bit(9);
    pub const TKT_PRE_AUTHENT: u32 = bit(10);
    pub const TKT_HW_AUTHENT: u32 = bit(11);
    pub const TKT_TRANSITED_POLICY_CHECKED: u32 = bit(12);
    pub const TKT_OK_AS_DELEGATE: u32 = bit(13);
    // KDCOptions
    pub const KDC_FORWARDABLE: u32 = bit(1);
    pub const KDC_FORWARDED: u32 = bit(2);
    pub const KDC_RENEWABLE: u32 = bit(8);
    pub const KDC_CANONICALIZE: u32 = bit(15);
    pub const KDC_RENEWABLE_OK: u32 = bit(27);
}

/// KerberosTime as whole Unix seconds (always encoded `YYYYMMDDHHMMSSZ`).
pub type KerberosTime = i64;

#[derive(Clone, PartialEq, Eq, Default)]
pub struct EncryptionKey {
    pub keytype: i32,
    pub keyvalue: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "EncryptionKey {{ keytype: {}, keyvalue: <redacted> }}",
            self.keytype
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct EncryptedData {
    pub etype: i32,
    pub kvno: Option<u32>,
    pub cipher: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Checksum {
    pub cksumtype: i32,
    pub checksum: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct HostAddress {
    pub addr_type: i32,
    pub address: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct AuthorizationDataEntry {
    pub ad_type: i32,
    pub ad_data: Vec<u8>,
}

/// AuthorizationData ::= SEQUENCE OF { ad-type, ad-data }.
pub type AuthorizationData = Vec<AuthorizationDataEntry>;

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TransitedEncoding {
    pub tr_type: i32,
    pub contents: Vec<u8>,
}

/// Ticket ::= [APPLICATION 1] SEQUENCE { tkt-vno [0] 5, realm, sname, enc-part }.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Ticket {
    pub realm: Vec<u8>,
    pub sname: PrincipalName,
    pub enc_part: EncryptedData,
}

/// EncTicketPart ::= [APPLICATION 3] SEQUENCE { ... }.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct EncTicketPart {
    pub flags: u32,
    pub key: EncryptionKey,
    pub crealm: Vec<u8>,
    pub cname: PrincipalName,
    pub transited: TransitedEncoding,
    pub authtime: KerberosTime,
    pub starttime: Option<KerberosTime>,
    pub endtime: KerberosTime,
    pub renew_till: Option<KerberosTime>,
    pub caddr: Option<Vec<HostAddress>>,
    pub authorization_data: Option<AuthorizationData>,
}

/// Authenticator ::= [APPLICATION 2] SEQUENCE { authenticator-vno [0] 5, ... }.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Authenticator {
    pub crealm: Vec<u8>,
    pub cname: PrincipalName,
    pub cksum: Option<Checksum>,
    pub cusec: u32,
    pub ctime: KerberosTime,
    pub subkey: Option<EncryptionKey>,
    pub seq_number: Option<u32>,
    pub authorization_data: Option<AuthorizationData>,
}

/// AP-REQ ::= [APPLICATION 14] SEQUENCE { pvno 5, msg-type 14, ap-options, ticket, authenticator }.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ApReq {
    pub ap_options: u32,
    pub ticket: Ticket,
    pub authenticator: EncryptedData,
}

/// An [`EncryptedData`] whose ciphertext is borrowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EncryptedDataRef<'a> {
    pub etype: i32,
    pub kvno: Option<u32>,
    pub cipher: &'a [u8],
}

impl EncryptedData {
    pub fn as_ref(&self) -> EncryptedDataRef<'_> {
        EncryptedDataRef {
            etype: self.etype,
            kvno: self.kvno,
            cipher: &self.cipher,
        }
    }
}

/// An AP-REQ as the acceptor reads it: the two ciphertexts borrowed from the token (they
/// are decrypted out of it, not copied into the message first), and the ticket's server
/// too (compared with the keys' principals, not built).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApReqRef<'a> {
    pub ap_options: u32,
    pub ticket_server: PrincipalRef<'a>,
    pub ticket_enc_part: EncryptedDataRef<'a>,
    pub authenticator: EncryptedDataRef<'a>,
}

/// A realm and PrincipalName as a message carries them (a ticket's server), borrowed: an
/// acceptor compares it with its keys' principals and keeps its bytes without building
/// a [`Principal`] (four allocations) on every accept.
#[derive(Clone, Copy, Debug)]
pub struct PrincipalRef<'a> {
    pub realm: &'a [u8],
    pub name_type: i32,
    components: ComponentsRef<'a>,
}

#[derive(Clone, Copy, Debug)]
enum ComponentsRef<'a> {
    /// The contents of a `SEQUENCE OF KerberosString` in DER, each a one-octet-tag TLV
    /// (the decoder checked them).
    Der(&'a [u8]),
    Owned(&'a [Vec<u8>]),
}

impl<'a> PrincipalRef<'a> {
    /// A view of a decoded realm and name.
    pub fn of(realm: &'a [u8], name: &'a PrincipalName) -> PrincipalRef<'a> {
        PrincipalRef {
            realm,
            name_type: name.name_type,
            components: ComponentsRef::Owned(&name.components),
        }
    }

    /// `components` is the contents of a `SEQUENCE OF KerberosString` whose elements the
    /// fast decoder checked (one-octet tags, DER lengths, nothing left over).
    pub(crate) fn from_der(realm: &'a [u8], name_type: i32, components: &'a [u8]) -> Self {
        PrincipalRef {
            realm,
            name_type,
            components: ComponentsRef::Der(components),
        }
    }

    /// The components' contents, in order.
    pub fn components(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let (mut der, owned): (&'a [u8], &'a [Vec<u8>]) = match self.components {
            ComponentsRef::Der(d) => (d, &[]),
            ComponentsRef::Owned(o) => (&[], o),
        };
        let from_der = std::iter::from_fn(move || {
            let (_, contents, rest) = fast::split_tlv(der)?;
            der = rest;
            Some(contents)
        });
        from_der.chain(owned.iter().map(|c| &c[..]))
    }

    /// The components as DER (`Some` for a view of a message, `None` for one of a decoded
    /// name): what [`crate::principal::InlinePrincipal`] keeps.
    pub(crate) fn components_der(&self) -> Option<&'a [u8]> {
        match self.components {
            ComponentsRef::Der(d) => Some(d),
            ComponentsRef::Owned(_) => None,
        }
    }

    /// Same components as `name`, in order (the name type is not compared, as
    /// [`PrincipalName::same_components`]).
    pub fn same_components(&self, name: &PrincipalName) -> bool {
        match self.components {
            ComponentsRef::Owned(o) => o == &name.components[..],
            ComponentsRef::Der(mut der) => {
                // An acceptor compares the ticket's server with each key's principal.
                for theirs in &name.components {
                    match fast::split_tlv(der) {
                        Some((_, c, rest)) if c == &theirs[..] => der = rest,
                        _ => return false,
                    }
                }
                der.is_empty()
            }
        }
    }

    /// Same realm and components as `p` ([`Principal::matches`]).
    pub fn matches(&self, p: &Principal) -> bool {
        self.realm == &p.realm[..] && self.same_components(&p.name)
    }

    pub fn to_principal(&self) -> Principal {
        // Exactly sized: a context may keep it.
        let mut components = Vec::with_capacity(self.components().count());
        components.extend(self.components().map(<[u8]>::to_vec));
        Principal {
            realm: self.realm.to_vec(),
            name: PrincipalName {
                name_type: self.name_type,
                components,
            },
        }
    }
}

/// Equal when they name the same realm, name type and components, however held.
impl PartialEq for PrincipalRef<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.realm == other.realm
            && self.name_type == other.name_type
            && self.components().eq(other.components())
    }
}
impl Eq for PrincipalRef<'_> {}

impl<'a> ApReqRef<'a> {
    /// The AP-REQ in `bytes`, its ciphertexts borrowed from them; `None` for input the
    /// fast decoder leaves to the reference one (`ApReq::from_der`, then [`ApReqRef::of`]).
    pub fn decode(bytes: &'a [u8]) -> Option<ApReqRef<'a>> {
        fast::ap_req_ref(bytes)
    }

    /// A view of a decoded AP-REQ.
    pub fn of(ap_req: &'a ApReq) -> ApReqRef<'a> {
        ApReqRef {
            ap_options: ap_req.ap_options,
            ticket_server: PrincipalRef::of(&ap_req.ticket.realm, &ap_req.ticket.sname),
            ticket_enc_part: ap_req.ticket.enc_part.as_ref(),
            authenticator: ap_req.authenticator.as_ref(),
        }
    }

    fn to_ap_req(&self) -> ApReq {
        let owned = |e: &EncryptedDataRef| EncryptedData {
            etype: e.etype,
            kvno: e.kvno,
            cipher: e.cipher.to_vec(),
        };
        ApReq {
            ap_options: self.ap_options,
            ticket: Ticket {
                realm: self.ticket_server.realm.to_vec(),
                sname: self.ticket_server.to_principal().name,
                enc_part: owned(&self.ticket_enc_part),
            },
            authenticator: owned(&self.authenticator),
        }
    }
}

impl Authenticator {
    /// Decodes an Authenticator for an acceptor that only compares its client with the
    /// ticket's (`client`: realm and name): `crealm` and `cname` are left empty (not
    /// copied); the flag says whether they equal `client` (name types not compared). The
    /// subkey, if any, is handed to `subkey` as (keytype, keyvalue) while `bytes` holds it,
    /// and left `None` in the result: the acceptor makes its key without a copy to wipe.
    pub fn from_der_for_client<T>(
        bytes: &[u8],
        client: (&[u8], &PrincipalName),
        subkey: impl FnOnce(Option<(i32, &[u8])>) -> T,
    ) -> Result<(Authenticator, bool, T), DecodeError> {
        if let Some((a, same, key)) = fast::authenticator_of(bytes, client) {
            return Ok((a, same, subkey(key)));
        }
        let mut a = Authenticator::from_der(bytes)?;
        let same = a.crealm == client.0 && a.cname.same_components(client.1);
        a.crealm = Vec::new();
        a.cname = PrincipalName::default();
        let key = a.subkey.take();
        let made = subkey(key.as_ref().map(|k| (k.keytype, &k.keyvalue[..])));
        Ok((a, same, made))
    }
}

impl EncTicketPart {
    /// Decodes an EncTicketPart for an acceptor that makes the session key at once: the
    /// key is handed to `key` as (keytype, keyvalue) while `bytes` holds it, and the
    /// result's `key.keyvalue` is left empty (no copy to allocate and wipe).
    pub fn from_der_key_apart<T>(
        bytes: &[u8],
        key: impl FnOnce(i32, &[u8]) -> T,
    ) -> Result<(EncTicketPart, T), DecodeError> {
        if let Some((part, (keytype, keyvalue))) = fast::enc_ticket_part_key_apart(bytes) {
            return Ok((part, key(keytype, keyvalue)));
        }
        let mut part = EncTicketPart::from_der(bytes)?;
        let value = std::mem::take(&mut part.key.keyvalue);
        let made = key(part.key.keytype, &value);
        Ok((part, made))
    }
}

/// AP-REP ::= [APPLICATION 15] SEQUENCE { pvno, msg-type 15, enc-part }.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ApRep {
    pub enc_part: EncryptedData,
}

/// EncAPRepPart ::= [APPLICATION 27] SEQUENCE { ctime, cusec, subkey, seq-number }.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct EncApRepPart {
    pub ctime: KerberosTime,
    pub cusec: u32,
    pub subkey: Option<EncryptionKey>,
    pub seq_number: Option<u32>,
}

/// KRB-ERROR ::= [APPLICATION 30] SEQUENCE { ... }.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct KrbError {
    pub ctime: Option<KerberosTime>,
    pub cusec: Option<u32>,
    pub stime: KerberosTime,
    pub susec: u32,
    pub error_code: i32,
    pub crealm: Option<Vec<u8>>,
    pub cname: Option<PrincipalName>,
    pub realm: Vec<u8>,
    pub sname: PrincipalName,
    pub e_text: Option<Vec<u8>>,
    pub e_data: Option<Vec<u8>>,
}

/// KRB-CRED ::= [APPLICATION 22] SEQUENCE { pvno, msg-type 22, tickets, enc-part }.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct KrbCred {
    pub tickets: Vec<Ticket>,
    pub enc_part: EncryptedData,
}

/// EncKrbCredPart ::= [APPLICATION 29] SEQUENCE { ticket-info, nonce, timestamp, usec, s-address, r-address }.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct EncKrbCredPart {
    pub ticket_info: Vec<KrbCredInfo>,
    pub nonce: Option<u32>,
    pub timestamp: Option<KerberosTime>,
    pub usec: Option<u32>,
    pub s_address: Option<HostAddress>,
    pub r_address: Option<HostAddress>,
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct KrbCredInfo {
    pub key: EncryptionKey,
    pub prealm: Option<Vec<u8>>,
    pub pname: Option<PrincipalName>,
    pub flags: Option<u32>,
    pub authtime: Option<KerberosTime>,
    pub starttime: Option<KerberosTime>,
    pub endtime: Option<KerberosTime>,
    pub renew_till: Option<KerberosTime>,
    pub srealm: Option<Vec<u8>>,
    pub sname: Option<PrincipalName>,
    pub caddr: Option<Vec<HostAddress>>,
}

/// AD-IF-RELEVANT / AD-KDCIssued etc. contain a nested AuthorizationData.
pub fn decode_authorization_data(bytes: &[u8]) -> Result<AuthorizationData, DecodeError> {
    match fast::authorization_data(bytes) {
        Some(ad) => Ok(ad),
        None => convert::decode::<convert::AdSeq>(bytes).map(|a| a.0),
    }
}
/// Calls `f(ad_type, ad_data)` for each entry of a nested AuthorizationData (e.g. the
/// contents of AD-IF-RELEVANT), borrowing the data when the encoding is DER (the common
/// case); an error leaves `f` uncalled.
pub fn for_each_authorization_data(
    bytes: &[u8],
    mut f: impl FnMut(i32, &[u8]),
) -> Result<(), DecodeError> {
    if fast::for_each_authorization_data(bytes, &mut f) {
        return Ok(());
    }
    for e in convert::decode::<convert::AdSeq>(bytes)?.0 {
        f(e.ad_type, &e.ad_data);
    }
    Ok(())
}
pub fn encode_authorization_data(ad: &AuthorizationData) -> Vec<u8> {
    convert::encode(&convert::AdSeq(ad.clone()))
}
/// EtypeList ::= SEQUENCE OF Int32 (RFC 4537, the data of AD-ETYPE-NEGOTIATION).
pub fn decode_etype_list(bytes: &[u8]) -> Result<Vec<i32>, DecodeError> {
    match fast::etype_list(bytes) {
        Some(list) => Ok(list),
        None => convert::decode::<convert::EtypeSeq>(bytes).map(|e| e.0),
    }
}
pub fn encode_etype_list(etypes: &[i32]) -> Vec<u8> {
    convert::encode(&convert::EtypeSeq(etypes.to_vec()))
}
