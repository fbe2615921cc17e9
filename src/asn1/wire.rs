//! The RFC 4120 §5 / Appendix A ASN.1 module as rasn-derived wire types.
//!
//! These mirror the ASN.1 exactly (explicit context tags, APPLICATION tags) and are
//! converted to/from the crate's plain types in `mod.rs`.  Three leaf types are kept as
//! raw content bytes under their universal tag, because rasn's own types have the
//! defects listed in /work/shared/notes/pitfalls.md:
//! - KerberosString (GeneralString, tag 27): any octets, as MIT treats it.
//! - KerberosTime (GeneralizedTime, tag 24): parsed/written by `time.rs`, whole seconds.
//! - KerberosFlags (BIT STRING, tag 3): always 32 bits on output, any length on input.

use rasn::prelude::*;

/// Raw-content newtypes: an OCTET-STRING-like primitive under a fixed universal tag.
macro_rules! raw_primitive {
    ($(#[$m:meta])* $name:ident, $tag:expr) => {
        $(#[$m])*
        #[derive(Clone, Debug, Default, PartialEq, Eq)]
        pub struct $name(pub Vec<u8>);

        impl AsnType for $name {
            const TAG: Tag = $tag;
        }

        impl Decode for $name {
            fn decode_with_tag_and_constraints<D: Decoder>(
                decoder: &mut D,
                tag: Tag,
                constraints: &Constraints,
            ) -> Result<Self, D::Error> {
                decoder.decode_octet_string::<Vec<u8>>(tag, constraints).map($name)
            }
        }

        impl Encode for $name {
            fn encode_with_tag_and_constraints<'b, E: Encoder<'b>>(
                &self,
                encoder: &mut E,
                tag: Tag,
                constraints: &Constraints,
                identifier: Identifier,
            ) -> Result<(), E::Error> {
                encoder.encode_octet_string(tag, constraints, &self.0, identifier).map(drop)
            }
        }
    };
}

raw_primitive!(
    /// OCTET STRING (tag 4).
    Octets,
    Tag::OCTET_STRING
);
raw_primitive!(
    /// KerberosString ::= GeneralString (RFC 4120 §5.2.1), bytes as MIT keeps them.
    KString,
    Tag::new(Class::Universal, 27)
);
raw_primitive!(
    /// KerberosTime ::= GeneralizedTime content (RFC 4120 §5.2.3).
    KTime,
    Tag::GENERALIZED_TIME
);
raw_primitive!(
    /// KerberosFlags ::= BIT STRING content: unused-bits octet + bits (RFC 4120 §5.2.8).
    KFlags,
    Tag::BIT_STRING
);

/// Key material: decoded straight into a zeroizing buffer, never shown by Debug.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct KeyOctets(pub zeroize::Zeroizing<Vec<u8>>);

impl std::fmt::Debug for KeyOctets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyOctets(<{} bytes redacted>)", self.0.len())
    }
}

impl AsnType for KeyOctets {
    const TAG: Tag = Tag::OCTET_STRING;
}

impl Decode for KeyOctets {
    fn decode_with_tag_and_constraints<D: Decoder>(
        decoder: &mut D,
        tag: Tag,
        constraints: &Constraints,
    ) -> Result<Self, D::Error> {
        decoder
            .decode_octet_string::<Vec<u8>>(tag, constraints)
            .map(|v| KeyOctets(zeroize::Zeroizing::new(v)))
    }
}

impl Encode for KeyOctets {
    fn encode_with_tag_and_constraints<'b, E: Encoder<'b>>(
        &self,
        encoder: &mut E,
        tag: Tag,
        constraints: &Constraints,
        identifier: Identifier,
    ) -> Result<(), E::Error> {
        encoder
            .encode_octet_string(tag, constraints, &self.0, identifier)
            .map(drop)
    }
}

// Integers: Int32 is i32 (rasn range-checks it).  UInt32 and Microseconds are read as
// i64 so that negative values from peers reach the range logic in mod.rs (MIT accepts
// -2^31..2^32-1 for UInt32 and keeps the low 32 bits).

#[derive(AsnType, Clone, Debug, Decode, Encode, PartialEq, Eq, Default)]
pub struct PrincipalName {
    #[rasn(tag(explicit(0)))]
    pub name_type: i32,
    #[rasn(tag(explicit(1)))]
    pub name_string: SequenceOf<KString>,
}

#[derive(AsnType, Clone, Debug, Decode, Encode, PartialEq, Eq, Default)]
pub struct HostAddress {
    #[rasn(tag(explicit(0)))]
    pub addr_type: i32,
    #[rasn(tag(explicit(1)))]
    pub address: Octets,
}

#[derive(AsnType, Clone, Debug, Decode, Encode, PartialEq, Eq, Default)]
pub struct AuthorizationDataEntry {
    #[rasn(tag(explicit(0)))]
    pub ad_type: i32,
    #[rasn(tag(explicit(1)))]
    pub ad_data: Octets,
}

#[derive(AsnType, Clone, Debug, Decode, Encode, PartialEq, Eq, Default)]
pub struct EncryptedData {
    #[rasn(tag(explicit(0)))]
    pub etype: i32,
    #[rasn(tag(explicit(1)))]
    pub kvno: Option<i64>,
    #[rasn(tag(explicit(2)))]
    pub cipher: Octets,
}

#[derive(AsnType, Clone, Debug, Decode, Encode, PartialEq, Eq, Default)]
pub struct EncryptionKey {
    #[rasn(tag(explicit(0)))]
    pub keytype: i32,
    #[rasn(tag(explicit(1)))]
    pub keyvalue: KeyOctets,
}

#[derive(AsnType, Clone, Debug, Decode, Encode, PartialEq, Eq, Default)]
pub struct Checksum {
    #[rasn(tag(explicit(0)))]
    pub cksumtype: i32,
    #[rasn(tag(explicit(1)))]
    pub checksum: Octets,
}

#[derive(AsnType, Clone, Debug, Decode, Encode, PartialEq, Eq, Default)]
pub struct TransitedEncoding {
    #[rasn(tag(explicit(0)))]
    pub tr_type: i32,
    #[rasn(tag(explicit(1)))]
    pub contents: Octets,
}

#[derive(AsnType, Clone, Debug, Decode, Encode, PartialEq, Eq, Default)]
#[rasn(tag(explicit(application, 1)))]
pub struct Ticket {
    #[rasn(tag(explicit(0)))]
    pub tkt_vno: i64,
    #[rasn(tag(explicit(1)))]
    pub realm: KString,
    #[rasn(tag(explicit(2)))]
    pub sname: PrincipalName,
    #[rasn(tag(explicit(3)))]
    pub enc_part: EncryptedData,
}

#[derive(AsnType, Clone, Debug, Decode, Encode, PartialEq, Eq, Default)]
#[rasn(tag(explicit(application, 3)))]
pub struct EncTicketPart {
    #[rasn(tag(explicit(0)))]
    pub flags: KFlags,
    #[rasn(tag(explicit(1)))]
    pub key: EncryptionKey,
    #[rasn(tag(explicit(2)))]
    pub crealm: KString,
    #[rasn(tag(explicit(3)))]
    pub cname: PrincipalName,
    #[rasn(tag(explicit(4)))]
    pub transited: TransitedEncoding,
    #[rasn(tag(explicit(5)))]
    pub authtime: KTime,
    #[rasn(tag(explicit(6)))]
    pub starttime: Option<KTime>,
    #[rasn(tag(explicit(7)))]
    pub endtime: KTime,
    #[rasn(tag(explicit(8)))]
    pub renew_till: Option<KTime>,
    #[rasn(tag(explicit(9)))]
    pub caddr: Option<SequenceOf<HostAddress>>,
    #[rasn(tag(explicit(10)))]
    pub authorization_data: Option<SequenceOf<AuthorizationDataEntry>>,
}

#[derive(AsnType, Clone, Debug, Decode, Encode, PartialEq, Eq, Default)]
#[rasn(tag(explicit(application, 2)))]
pub struct Authenticator {
    #[rasn(tag(explicit(0)))]
    pub authenticator_vno: i64,
    #[rasn(tag(explicit(1)))]
    pub crealm: KString,
    #[rasn(tag(explicit(2)))]
    pub cname: PrincipalName,
    #[rasn(tag(explicit(3)))]
    pub cksum: Option<Checksum>,
    #[rasn(tag(explicit(4)))]
    pub cusec: i64,
    #[rasn(tag(explicit(5)))]
    pub ctime: KTime,
    #[rasn(tag(explicit(6)))]
    pub subkey: Option<EncryptionKey>,
    #[rasn(tag(explicit(7)))]
    pub seq_number: Option<i64>,
    #[rasn(tag(explicit(8)))]
    pub authorization_data: Option<SequenceOf<AuthorizationDataEntry>>,
}

#[derive(AsnType, Clone, Debug, Decode, Encode, PartialEq, Eq, Default)]
#[rasn(tag(explicit(application, 14)))]
pub struct ApReq {
    #[rasn(tag(explicit(0)))]
    pub pvno: i64,
    #[rasn(tag(explicit(1)))]
    pub msg_type: i64,
    #[rasn(tag(explicit(2)))]
    pub ap_options: KFlags,
    #[rasn(tag(explicit(3)))]
    pub ticket: Ticket,
    #[rasn(tag(explicit(4)))]
    pub authenticator: EncryptedData,
}

#[derive(AsnType, Clone, Debug, Decode, Encode, PartialEq, Eq, Default)]
#[rasn(tag(explicit(application, 15)))]
pub struct ApRep {
    #[rasn(tag(explicit(0)))]
    pub pvno: i64,
    #[rasn(tag(explicit(1)))]
    pub msg_type: i64,
    #[rasn(tag(explicit(2)))]
    pub enc_part: EncryptedData,
}

#[derive(AsnType, Clone, Debug, Decode, Encode, PartialEq, Eq, Default)]
#[rasn(tag(explicit(application, 27)))]
pub struct EncApRepPart {
    #[rasn(tag(explicit(0)))]
    pub ctime: KTime,
    #[rasn(tag(explicit(1)))]
    pub cusec: i64,
    #[rasn(tag(explicit(2)))]
    pub subkey: Option<EncryptionKey>,
    #[rasn(tag(explicit(3)))]
    pub seq_number: Option<i64>,
}

#[derive(AsnType, Clone, Debug, Decode, Encode, PartialEq, Eq, Default)]
#[rasn(tag(explicit(application, 30)))]
pub struct KrbError {
    #[rasn(tag(explicit(0)))]
    pub pvno: i64,
    #[rasn(tag(explicit(1)))]
    pub msg_type: i64,
    #[rasn(tag(explicit(2)))]
    pub ctime: Option<KTime>,
    #[rasn(tag(explicit(3)))]
    pub cusec: Option<i64>,
    #[rasn(tag(explicit(4)))]
    pub stime: KTime,
    #[rasn(tag(explicit(5)))]
    pub susec: i64,
    #[rasn(tag(explicit(6)))]
    pub error_code: i32,
    #[rasn(tag(explicit(7)))]
    pub crealm: Option<KString>,
    #[rasn(tag(explicit(8)))]
    pub cname: Option<PrincipalName>,
    #[rasn(tag(explicit(9)))]
    pub realm: KString,
    #[rasn(tag(explicit(10)))]
    pub sname: PrincipalName,
    #[rasn(tag(explicit(11)))]
    pub e_text: Option<KString>,
    #[rasn(tag(explicit(12)))]
    pub e_data: Option<Octets>,
}

#[derive(AsnType, Clone, Debug, Decode, Encode, PartialEq, Eq, Default)]
#[rasn(tag(explicit(application, 22)))]
pub struct KrbCred {
    #[rasn(tag(explicit(0)))]
    pub pvno: i64,
    #[rasn(tag(explicit(1)))]
    pub msg_type: i64,
    #[rasn(tag(explicit(2)))]
    pub tickets: SequenceOf<Ticket>,
    #[rasn(tag(explicit(3)))]
    pub enc_part: EncryptedData,
}

#[derive(AsnType, Clone, Debug, Decode, Encode, PartialEq, Eq, Default)]
#[rasn(tag(explicit(application, 29)))]
pub struct EncKrbCredPart {
    #[rasn(tag(explicit(0)))]
    pub ticket_info: SequenceOf<KrbCredInfo>,
    #[rasn(tag(explicit(1)))]
    pub nonce: Option<i64>,
    #[rasn(tag(explicit(2)))]
    pub timestamp: Option<KTime>,
    #[rasn(tag(explicit(3)))]
    pub usec: Option<i64>,
    #[rasn(tag(explicit(4)))]
    pub s_address: Option<HostAddress>,
    #[rasn(tag(explicit(5)))]
    pub r_address: Option<HostAddress>,
}

#[derive(AsnType, Clone, Debug, Decode, Encode, PartialEq, Eq, Default)]
pub struct KrbCredInfo {
    #[rasn(tag(explicit(0)))]
    pub key: EncryptionKey,
    #[rasn(tag(explicit(1)))]
    pub prealm: Option<KString>,
    #[rasn(tag(explicit(2)))]
    pub pname: Option<PrincipalName>,
    #[rasn(tag(explicit(3)))]
    pub flags: Option<KFlags>,
    #[rasn(tag(explicit(4)))]
    pub authtime: Option<KTime>,
    #[rasn(tag(explicit(5)))]
    pub starttime: Option<KTime>,
    #[rasn(tag(explicit(6)))]
    pub endtime: Option<KTime>,
    #[rasn(tag(explicit(7)))]
    pub renew_till: Option<KTime>,
    #[rasn(tag(explicit(8)))]
    pub srealm: Option<KString>,
    #[rasn(tag(explicit(9)))]
    pub sname: Option<PrincipalName>,
    #[rasn(tag(explicit(10)))]
    pub caddr: Option<SequenceOf<HostAddress>>,
}
