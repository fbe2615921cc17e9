//! The authenticator checksum of type 0x8003 (RFC 4121 §4.1.1): channel-binding hash,
//! context flags, optional delegated credential and extensions.
//!
//! Decoding follows MIT krb5 1.20's `process_checksum` (accept_sec_context.c): shorter than
//! 24 bytes is `GSS_S_BAD_BINDINGS`, a Lgth other than 16 or a truncated option is
//! `GSS_S_FAILURE` with `KG_BAD_LENGTH`, a delegation option id other than 1 is
//! `GSS_S_FAILURE`. The bytes after the flags (and after the delegation, if any) are
//! extensions framed as 4-byte big-endian type and length; MIT rejects a truncated
//! extension, so we check the framing too but keep the bytes opaque.

use crate::error::{major, Error};

/// The checksum type of the GSS authenticator checksum (RFC 4121 §4.1.1).
pub const CKSUMTYPE_GSSAPI: i32 = 0x8003;

/// MIT's `KG_BAD_LENGTH` ("Invalid field length in token"), from the k5g com_err table
/// (gssapi_err_krb5.et, base 39756032). Not (yet) in `crate::error::minor`.
pub const KG_BAD_LENGTH: i32 = 39_756_032 + 6;

/// Context flags carried in the checksum Flags field (RFC 2744 §5.19, RFC 4121 §4.1.1.1)
/// plus MIT's / Microsoft's extensions.
pub mod ctx_flags {
    pub const DELEG: u32 = 1;
    pub const MUTUAL: u32 = 2;
    pub const REPLAY: u32 = 4;
    pub const SEQUENCE: u32 = 8;
    pub const CONF: u32 = 16;
    pub const INTEG: u32 = 32;
    pub const ANON: u32 = 64;
    pub const PROT_READY: u32 = 128;
    pub const TRANS: u32 = 256;
    pub const DCE_STYLE: u32 = 0x1000;
    pub const IDENTIFY: u32 = 0x2000;
    pub const EXTENDED_ERROR: u32 = 0x4000;
}

/// Lgth value: the Bnd field is an MD5 hash.
const BINDINGS_HASH_LEN: u32 = 16;
/// Lgth + Bnd + Flags.
const FIXED_LEN: usize = 24;
/// DlgOpt value of a KRB-CRED delegation (RFC 4121 §4.1.1).
const DELEGATION_OPTION: u16 = 1;

/// GSS-API channel bindings (RFC 2744 §3.11); the addresses and application data are
/// opaque byte strings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChannelBindings {
    pub initiator_addrtype: u32,
    pub initiator_address: Vec<u8>,
    pub acceptor_addrtype: u32,
    pub acceptor_address: Vec<u8>,
    pub application_data: Vec<u8>,
}

impl ChannelBindings {
    /// Bindings carrying only application data (e.g. TLS `tls-server-end-point`), with
    /// null address types, as most callers use them.
    pub fn from_application_data(data: &[u8]) -> ChannelBindings {
        ChannelBindings {
            application_data: data.to_vec(),
            ..Default::default()
        }
    }

    /// The Bnd field: MD5 over the little-endian encoding of RFC 4121 §4.1.1.2 (MIT's
    /// `kg_checksum_channel_bindings`): addrtype, length, address for the initiator and
    /// the acceptor, then length and application data, all integers 4 bytes LE.
    pub fn hash(&self) -> [u8; 16] {
        // A length that does not fit 32 bits cannot come through the C API; saturate
        // rather than panic.
        let le_len = |b: &[u8]| u32::try_from(b.len()).unwrap_or(u32::MAX).to_le_bytes();
        crate::crypto::md5(&[
            &self.initiator_addrtype.to_le_bytes(),
            &le_len(&self.initiator_address),
            &self.initiator_address,
            &self.acceptor_addrtype.to_le_bytes(),
            &le_len(&self.acceptor_address),
            &self.acceptor_address,
            &le_len(&self.application_data),
            &self.application_data,
        ])
    }
}

/// The Bnd value for optional bindings: 16 zero bytes for GSS_C_NO_CHANNEL_BINDINGS
/// (RFC 4121 §4.1.1.2 (3)).
pub fn bindings_hash(bindings: Option<&ChannelBindings>) -> [u8; 16] {
    bindings.map_or([0; 16], ChannelBindings::hash)
}

/// Acceptor-side check of the Bnd field, as MIT 1.20 does it: with no acceptor
/// bindings anything is accepted; with acceptor bindings, an all-zero Bnd (initiator
/// passed no bindings) is accepted and any other value must match, else
/// `GSS_S_BAD_BINDINGS`.
pub fn verify_bindings(
    received: &[u8; 16],
    expected: Option<&ChannelBindings>,
) -> Result<(), Error> {
    verify_bindings_cbt(received, expected, false).map(|_| ())
}

/// [`verify_bindings`] with MIT's MS-KILE rule: when the authenticator carries
/// `KERB_AP_OPTIONS_CBT` (`client_requires_bindings`) and the acceptor has bindings, an
/// all-zero Bnd is rejected too. Returns whether the context is channel-bound
/// (MIT's `GSS_C_CHANNEL_BOUND_FLAG`, 0x800): acceptor bindings given and matched.
pub fn verify_bindings_cbt(
    received: &[u8; 16],
    expected: Option<&ChannelBindings>,
    client_requires_bindings: bool,
) -> Result<bool, Error> {
    let Some(expected) = expected else {
        return Ok(false);
    };
    let matched = crate::crypto::ct_eq(received, &expected.hash());
    let present = received.iter().any(|&b| b != 0);
    if (present || client_requires_bindings) && !matched {
        return Err(Error::new(
            major::BAD_BINDINGS,
            0,
            "channel bindings do not match",
        ));
    }
    Ok(matched)
}

/// The decoded 0x8003 checksum (RFC 4121 §4.1.1).
#[derive(Clone, PartialEq, Eq)]
pub struct GssChecksum {
    pub bindings_hash: [u8; 16],
    pub flags: u32,
    /// The KRB-CRED (DER) of a delegated credential (DlgOpt 1).
    pub delegation: Option<Vec<u8>>,
    /// The bytes after the flags / delegation, kept opaque (framing checked on decode).
    pub extensions: Vec<u8>,
}

impl std::fmt::Debug for GssChecksum {
    // The KRB-CRED holds a (possibly unencrypted) TGT session key: never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GssChecksum")
            .field("bindings_hash", &self.bindings_hash)
            .field("flags", &format_args!("{:#x}", self.flags))
            .field("delegation_len", &self.delegation.as_ref().map(Vec::len))
            .field("extensions_len", &self.extensions.len())
            .finish()
    }
}

fn bad_length(detail: &str) -> Error {
    Error::new(major::FAILURE, KG_BAD_LENGTH, detail)
}

/// A little-endian / big-endian cursor that never reads past the end.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.rest.len() < n {
            return None;
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Some(head)
    }
    fn u16_le(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32_le(&mut self) -> Option<u32> {
        self.take(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u32_be(&mut self) -> Option<u32> {
        self.take(4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
}

/// Checks the extension framing: 4-byte BE type, 4-byte BE length, value (MIT 1.20).
fn check_extensions(bytes: &[u8]) -> Result<(), Error> {
    let mut r = Reader { rest: bytes };
    while !r.rest.is_empty() {
        let _ext_type = r
            .u32_be()
            .ok_or_else(|| bad_length("checksum extension truncated"))?;
        let len = r
            .u32_be()
            .ok_or_else(|| bad_length("checksum extension truncated"))?;
        r.take(len as usize)
            .ok_or_else(|| bad_length("checksum extension truncated"))?;
    }
    Ok(())
}

impl GssChecksum {
    /// Encodes the checksum. The DELEG flag is written as given in `flags`; DlgOpt/Dlgth
    /// are written when `delegation` is present.
    ///
    /// # Panics
    /// If the delegation is longer than 65535 bytes (Dlgth is 16 bits); use
    /// [`GssChecksum::try_encode`] when that is not known.
    pub fn encode(&self) -> Vec<u8> {
        match self.try_encode() {
            Ok(v) => v,
            Err(e) => panic!("GssChecksum::encode: {e}"),
        }
    }

    /// Encodes the checksum; a delegation over 65535 bytes is `KRB5_ERR_FIELD_TOOLONG`.
    pub fn try_encode(&self) -> Result<Vec<u8>, Error> {
        let deleg_len = match &self.delegation {
            Some(d) => Some(u16::try_from(d.len()).map_err(|_| {
                Error::minor(
                    crate::error::minor::ERR_FIELD_TOOLONG,
                    "delegated credential over 65535 bytes",
                )
            })?),
            None => None,
        };
        let mut out = Vec::with_capacity(
            FIXED_LEN + self.delegation.as_ref().map_or(0, |d| 4 + d.len()) + self.extensions.len(),
        );
        out.extend_from_slice(&BINDINGS_HASH_LEN.to_le_bytes());
        out.extend_from_slice(&self.bindings_hash);
        out.extend_from_slice(&self.flags.to_le_bytes());
        if let (Some(d), Some(len)) = (&self.delegation, deleg_len) {
            out.extend_from_slice(&DELEGATION_OPTION.to_le_bytes());
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(d);
        }
        out.extend_from_slice(&self.extensions);
        Ok(out)
    }

    /// Decodes the checksum bytes as MIT 1.20's acceptor does (see the module doc).
    /// The delegation option is read only when the DELEG flag is set and at least four
    /// bytes follow the flags; otherwise those bytes are extensions.
    pub fn decode(bytes: &[u8]) -> Result<GssChecksum, Error> {
        if bytes.len() < FIXED_LEN {
            return Err(Error::new(
                major::BAD_BINDINGS,
                0,
                "0x8003 checksum shorter than 24 bytes",
            ));
        }
        let mut r = Reader { rest: bytes };
        let lgth = r
            .u32_le()
            .ok_or_else(|| bad_length("0x8003 checksum truncated"))?;
        if lgth != BINDINGS_HASH_LEN {
            return Err(bad_length("0x8003 checksum Lgth is not 16"));
        }
        let mut bindings_hash = [0u8; 16];
        bindings_hash.copy_from_slice(
            r.take(16)
                .ok_or_else(|| bad_length("0x8003 checksum truncated"))?,
        );
        let flags = r
            .u32_le()
            .ok_or_else(|| bad_length("0x8003 checksum truncated"))?;
        let mut delegation = None;
        if r.rest.len() >= 4 && flags & ctx_flags::DELEG != 0 {
            let option = r
                .u16_le()
                .ok_or_else(|| bad_length("delegation option truncated"))?;
            let len = r
                .u16_le()
                .ok_or_else(|| bad_length("delegation option truncated"))?;
            let cred = r
                .take(len as usize)
                .ok_or_else(|| bad_length("delegated credential truncated"))?;
            if option != DELEGATION_OPTION {
                return Err(Error::new(
                    major::FAILURE,
                    0,
                    "unknown delegation option in 0x8003 checksum",
                ));
            }
            delegation = Some(cred.to_vec());
        }
        check_extensions(r.rest)?;
        Ok(GssChecksum {
            bindings_hash,
            flags,
            delegation,
            extensions: r.rest.to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::minor;

    #[test]
    fn mit_observed_form() {
        // The 24-byte checksum of the mutual capture: Lgth 16, zero Bnd, flags 0x13e.
        let mut bytes = vec![16, 0, 0, 0];
        bytes.extend_from_slice(&[0; 16]);
        bytes.extend_from_slice(&[0x3e, 0x01, 0, 0]);
        let c = GssChecksum::decode(&bytes).unwrap();
        assert_eq!(c.flags, 0x13e);
        assert!(c.flags & ctx_flags::TRANS != 0);
        assert_eq!(c.bindings_hash, [0; 16]);
        assert!(c.delegation.is_none() && c.extensions.is_empty());
        assert_eq!(c.encode(), bytes);
    }

    #[test]
    fn delegation_round_trip() {
        let c = GssChecksum {
            bindings_hash: [7; 16],
            flags: ctx_flags::DELEG | ctx_flags::MUTUAL,
            delegation: Some(vec![0x76, 0x03, 1, 2, 3]),
            extensions: vec![0, 0, 0, 2, 0, 0, 0, 1, 0xaa],
        };
        let e = c.encode();
        assert_eq!(&e[24..28], &[1, 0, 5, 0]);
        assert_eq!(GssChecksum::decode(&e).unwrap(), c);
        // Every truncation fails cleanly.
        for cut in 0..e.len() {
            let r = GssChecksum::decode(&e[..cut]);
            if cut < 24 {
                assert_eq!(r.unwrap_err().major, major::BAD_BINDINGS);
            } else if cut == 24 {
                // DELEG flag but fewer than 4 bytes: MIT reads no delegation.
                assert!(r.unwrap().delegation.is_none());
            } else if cut == 33 {
                // Delegation complete, no extensions.
                assert_eq!(r.unwrap().delegation, c.delegation);
            } else {
                assert_eq!(r.unwrap_err().minor, KG_BAD_LENGTH, "cut {cut}");
            }
        }
    }

    #[test]
    fn hostile() {
        let mut b = GssChecksum {
            bindings_hash: [0; 16],
            flags: 1,
            delegation: Some(vec![1; 4]),
            extensions: vec![],
        }
        .encode();
        b[0] = 17;
        assert_eq!(GssChecksum::decode(&b).unwrap_err().minor, KG_BAD_LENGTH);
        b[0] = 16;
        b[24] = 2; // DlgOpt 2
        let e = GssChecksum::decode(&b).unwrap_err();
        assert_eq!((e.major, e.minor), (major::FAILURE, 0));
        b[24] = 1;
        b[26] = 0xff; // Dlgth past the end
        assert_eq!(GssChecksum::decode(&b).unwrap_err().minor, KG_BAD_LENGTH);
        // A huge extension length is bounds-checked, not allocated.
        let mut x = vec![16, 0, 0, 0];
        x.extend_from_slice(&[0; 20]);
        x.extend_from_slice(&[0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(GssChecksum::decode(&x).unwrap_err().minor, KG_BAD_LENGTH);
        let too_long = GssChecksum {
            bindings_hash: [0; 16],
            flags: 1,
            delegation: Some(vec![0; 70_000]),
            extensions: vec![],
        };
        assert_eq!(
            too_long.try_encode().unwrap_err().minor,
            minor::ERR_FIELD_TOOLONG
        );
    }

    #[test]
    fn bindings_rules() {
        let cb = ChannelBindings::from_application_data(b"tls-server-end-point:abc");
        let h = cb.hash();
        let other = ChannelBindings::from_application_data(b"x").hash();
        assert!(verify_bindings(&h, Some(&cb)).is_ok());
        assert!(verify_bindings(&[0; 16], Some(&cb)).is_ok());
        assert!(verify_bindings(&other, None).is_ok());
        assert_eq!(
            verify_bindings(&other, Some(&cb)).unwrap_err().major,
            major::BAD_BINDINGS
        );
        assert_eq!(verify_bindings_cbt(&h, Some(&cb), true), Ok(true));
        assert_eq!(verify_bindings_cbt(&[0; 16], Some(&cb), false), Ok(false));
        assert_eq!(
            verify_bindings_cbt(&[0; 16], Some(&cb), true)
                .unwrap_err()
                .major,
            major::BAD_BINDINGS
        );
        assert_eq!(verify_bindings_cbt(&[0; 16], None, true), Ok(false));
        assert_eq!(bindings_hash(None), [0; 16]);
    }
}
