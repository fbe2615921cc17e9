//! The PAC signatures (MS-PAC §2.8): PAC_SIGNATURE_DATA buffers — SignatureType (i32),
//! Signature (its length given by the type), an optional 2-byte RODCIdentifier — and the
//! keyed checksums (key usage 17, KERB_NON_KERB_CKSUM_SALT) over:
//!
//! | buffer | key | input |
//! |---|---|---|
//! | 6 server | service key | the PAC with the Signature bytes of 6 and 7 zeroed (16 and 19 as issued) |
//! | 7 KDC | krbtgt key | the server signature's bytes after its type (MIT: incl. a trailer) |
//! | 16 ticket | krbtgt key | the EncTicketPart, DER, with the PAC's ad-data replaced by one zero byte (§2.8.3) |
//! | 19 full | krbtgt key | the PAC with the Signature bytes of 6, 7 and 19 zeroed (§2.8.4) |
//!
//! "Zeroed" covers everything after the type, as MIT and Heimdal zero it. The KDC issues
//! them in the order ticket, full, server, KDC ([`sign_ticket_pac`] does the same).
//! Verification never copies the PAC: the zeroed regions go to the MAC as slices of a
//! static zero block.

use super::{buffer_type as bt, malformed, verified, Pac, PacLocation};
use crate::asn1::{decode_authorization_data, encode_authorization_data, Der, EncTicketPart};
use crate::crypto::{CryptoError, Enctype, Key};
use crate::error::{minor, Error, Result};
use crate::principal::{Principal, PrincipalName};
use zeroize::Zeroizing;

/// KERB_NON_KERB_CKSUM_SALT (MS-PAC §2.8).
pub const KEY_USAGE: u32 = 17;
/// HMAC-MD5 of the RC4 enctype (KERB_CHECKSUM_HMAC_MD5), which krbap does not implement.
const HMAC_MD5: i32 = -138;
/// The largest Signature (+ trailer) krbap handles; real ones are 12 to 24 bytes.
const MAX_SIGNATURE: usize = 64;
static ZEROS: [u8; MAX_SIGNATURE] = [0; MAX_SIGNATURE];

#[derive(Clone, Copy, Debug)]
pub(super) struct SignatureLayout {
    /// Absolute offset of the buffer.
    offset: u32,
    size: u32,
    cksumtype: i32,
    mac_len: u32,
}

/// Index of a signature buffer type in [`Pac`]'s table (4 for other types).
pub(super) fn slot(ty: u32) -> usize {
    match ty {
        bt::SERVER_CHECKSUM => 0,
        bt::PRIVSVR_CHECKSUM => 1,
        bt::TICKET_CHECKSUM => 2,
        bt::FULL_CHECKSUM => 3,
        _ => 4,
    }
}

/// The name of a checksum type (RFC 3961 registry; -138 is Microsoft's HMAC-MD5).
pub fn checksum_name(t: i32) -> &'static str {
    match t {
        15 => "hmac-sha1-96-aes128",
        16 => "hmac-sha1-96-aes256",
        19 => "hmac-sha256-128-aes128",
        20 => "hmac-sha384-192-aes256",
        HMAC_MD5 => "hmac-md5-rc4",
        12 => "hmac-sha1-des3-kd",
        _ => "unknown",
    }
}

/// The checksum length of a known keyed type.
fn known_len(t: i32) -> Option<usize> {
    match t {
        HMAC_MD5 => Some(16),
        12 => Some(20),
        _ => Enctype::from_checksum_type(t).map(|e| e.mac_len()),
    }
}

pub(super) fn parse(pac: &[u8], offset: usize, size: usize, ty: u32) -> Result<SignatureLayout> {
    let name = bt::name(ty);
    if size < 4 {
        return Err(malformed(format!("{name}: {size} bytes, no SignatureType")));
    }
    if size - 4 > MAX_SIGNATURE {
        return Err(malformed(format!(
            "{name}: {size} bytes, larger than any signature"
        )));
    }
    let b = &pac[offset..offset + size];
    let cksumtype = i32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    let mac_len = match known_len(cksumtype) {
        // The Signature, then nothing or a 2-byte RODCIdentifier (MS-PAC §2.8).
        Some(n) if size - 4 == n || size - 4 == n + 2 => n,
        Some(n) => {
            return Err(malformed(format!(
                "{name}: {} signature bytes for type {cksumtype} ({}), which has {n}",
                size - 4,
                checksum_name(cksumtype)
            )))
        }
        None => size - 4,
    };
    Ok(SignatureLayout {
        offset: offset as u32,
        size: size as u32,
        cksumtype,
        mac_len: mac_len as u32,
    })
}

impl SignatureLayout {
    fn signature<'a>(&self, pac: &'a [u8]) -> &'a [u8] {
        let at = self.offset as usize + 4;
        &pac[at..at + self.mac_len as usize]
    }
    /// What gets zeroed, and what the KDC signature covers: everything after the type.
    fn after_type(&self) -> std::ops::Range<usize> {
        self.offset as usize + 4..(self.offset + self.size) as usize
    }
}

/// A signature buffer of a parsed PAC.
#[derive(Clone, Copy, Debug)]
pub struct SignatureInfo<'a> {
    pac: &'a [u8],
    l: SignatureLayout,
}

impl<'a> SignatureInfo<'a> {
    pub(super) fn new(pac: &'a [u8], l: SignatureLayout) -> Self {
        SignatureInfo { pac, l }
    }
    /// SignatureType: the checksum type (16 = hmac-sha1-96-aes256, ...).
    pub fn signature_type(&self) -> i32 {
        self.l.cksumtype
    }
    pub fn signature(&self) -> &'a [u8] {
        self.l.signature(self.pac)
    }
    /// RODCIdentifier, when a read-only DC signed (MS-PAC §2.8).
    pub fn rodc_identifier(&self) -> Option<u16> {
        let r = self.l.after_type();
        let trailer = &self.pac[r.start + self.l.mac_len as usize..r.end];
        (trailer.len() == 2 && known_len(self.l.cksumtype).is_some())
            .then(|| u16::from_le_bytes([trailer[0], trailer[1]]))
    }
}

/// Runs `f` on the PAC as slices, with the regions after the type of `zeroed` replaced
/// by zeros (no copy of the PAC).
fn with_zeroed<R>(pac: &[u8], zeroed: &[SignatureLayout], f: impl FnOnce(&[&[u8]]) -> R) -> R {
    let mut regions = [0..0, 0..0, 0..0];
    let n = zeroed.len().min(3);
    for (r, l) in regions.iter_mut().zip(zeroed) {
        *r = l.after_type();
    }
    regions[..n].sort_by_key(|r| r.start);
    let mut parts: [&[u8]; 7] = [&[]; 7];
    let mut cursor = 0;
    for (i, r) in regions[..n].iter().enumerate() {
        parts[2 * i] = &pac[cursor..r.start];
        parts[2 * i + 1] = &ZEROS[..r.len()];
        cursor = r.end;
    }
    parts[2 * n] = &pac[cursor..];
    f(&parts[..2 * n + 1])
}

/// The DER EncTicketPart a ticket signature covers: the PAC's ad-data replaced by one
/// zero byte inside its AD-IF-RELEVANT, lengths re-encoded (MS-PAC §2.8.3; MIT's
/// krb5_kdc_verify_ticket, Heimdal's _krb5_kdc_pac_ticket_parse).
/// `key` is the session key's value (an acceptor takes it out of `ticket.key`).
fn ticket_signature_input(
    ticket: &EncTicketPart,
    key: &[u8],
    at: PacLocation,
) -> Result<Zeroizing<Vec<u8>>> {
    let mut t = ticket.clone();
    t.key.keyvalue = Zeroizing::new(key.to_vec());
    put_pac(&mut t, at, vec![0])?;
    // The encoding holds the session key: wiped when dropped.
    Ok(Zeroizing::new(t.to_der()))
}

/// Replaces the PAC at `at` in a ticket's authorization data with `pac`.
pub(super) fn put_pac(t: &mut EncTicketPart, at: PacLocation, pac: Vec<u8>) -> Result<()> {
    let lost = || malformed("the ticket's PAC moved");
    let outer = t
        .authorization_data
        .as_mut()
        .and_then(|ad| ad.get_mut(at.outer))
        .ok_or_else(lost)?;
    let mut inner = decode_authorization_data(&outer.ad_data)?;
    inner.get_mut(at.inner).ok_or_else(lost)?.ad_data = pac;
    outer.ad_data = encode_authorization_data(&inner);
    Ok(())
}

/// What [`verify`] checks a PAC against.
pub(super) struct VerifyInput<'a> {
    pub service_key: &'a Key,
    pub client_realm: &'a [u8],
    pub client_name: &'a PrincipalName,
    pub authtime: i64,
    pub kdc_keys: &'a [Key],
    pub ticket: &'a EncTicketPart,
    /// The ticket's session key value (taken out of `ticket.key` by the acceptor).
    pub ticket_key: &'a [u8],
    pub location: PacLocation,
    pub server: &'a Principal,
}

fn missing(what: &str) -> Error {
    Error::minor(minor::ENOENT, format!("the PAC has no {what}"))
}

/// Checks that `l`'s type is the keyed checksum of `enctype`.
fn type_for(l: &SignatureLayout, enctype: Enctype, name: &str, key_what: &str) -> Result<()> {
    let t = l.cksumtype;
    if Enctype::from_checksum_type(t).is_none() {
        return Err(Error::minor(
            minor::KDC_ERR_SUMTYPE_NOSUPP,
            format!(
                "PAC {name} type {t} ({}) is not supported",
                checksum_name(t)
            ),
        ));
    }
    if t != enctype.checksum_type() {
        return Err(Error::minor(
            minor::AP_ERR_INAPP_CKSUM,
            format!(
                "PAC {name} type {t} ({}) does not belong to the {key_what} ({}, checksum type {})",
                checksum_name(t),
                enctype.name(),
                enctype.checksum_type()
            ),
        ));
    }
    Ok(())
}

fn check_mac(
    key: &Key,
    parts: &[&[u8]],
    l: &SignatureLayout,
    pac: &[u8],
    name: &str,
    key_what: &str,
) -> Result<()> {
    match key.verify_checksum_parts(KEY_USAGE, parts, l.signature(pac)) {
        Ok(()) => Ok(()),
        Err(CryptoError::BadLength) => Err(Error::minor(
            minor::BAD_MSIZE,
            format!("PAC {name}: signature of the wrong length"),
        )),
        Err(_) => Err(Error::minor(
            minor::AP_ERR_MODIFIED,
            format!(
                "PAC {name} ({}) does not verify with the {key_what}",
                checksum_name(l.cksumtype)
            ),
        )),
    }
}

/// A krbtgt key of the signature's type that verifies it, trying each (kvnos differ).
fn check_kdc_mac(
    keys: &[Key],
    parts: &[&[u8]],
    l: &SignatureLayout,
    pac: &[u8],
    name: &str,
) -> Result<()> {
    let t = l.cksumtype;
    let Some(enctype) = Enctype::from_checksum_type(t) else {
        return Err(Error::minor(
            minor::KDC_ERR_SUMTYPE_NOSUPP,
            format!(
                "PAC {name} type {t} ({}) is not supported",
                checksum_name(t)
            ),
        ));
    };
    let mut candidates = keys.iter().filter(|k| k.enctype() == enctype).peekable();
    if candidates.peek().is_none() {
        return Err(Error::minor(
            minor::AP_ERR_NOKEY,
            format!(
                "PAC {name} is {} and no KDC key of enctype {} was given",
                checksum_name(t),
                enctype.name()
            ),
        ));
    }
    let mut last = None;
    for k in candidates {
        match check_mac(k, parts, l, pac, name, "KDC key") {
            Ok(()) => return Ok(()),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| missing(name)))
}

/// Verifies the PAC of an accepted ticket: the server signature with the service key and
/// CLIENT_INFO against the ticket (both required, as MIT requires them), then, when KDC
/// keys are given, the KDC signature (required) and the ticket and full signatures that
/// are present (a KDC older than the 2021/2022 updates — MIT 1.20 for the full one — does
/// not add them; removing one would change the server signature, which the KDC
/// signature covers). Returns the [`verified`] bits.
/// `signatures` are `pac`'s, as [`Pac::signatures`] gives them.
pub(super) fn verify(
    pac: &Pac,
    signatures: [Option<SignatureLayout>; 4],
    input: &VerifyInput,
) -> Result<u32> {
    let data = pac.as_bytes();
    let [server, kdc, ticket, full] = signatures;
    let server = server.ok_or_else(|| missing("server signature (SERVER_CHECKSUM)"))?;
    let kdc = kdc.ok_or_else(|| missing("KDC signature (PRIVSVR_CHECKSUM)"))?;
    let key = input.service_key;
    type_for(&server, key.enctype(), "server signature", "service key")?;
    with_zeroed(data, &[server, kdc], |parts| {
        check_mac(key, parts, &server, data, "server signature", "service key")
    })?;
    let client = pac
        .client_info
        .as_ref()
        .ok_or_else(|| missing("CLIENT_INFO"))?;
    super::client_info::check(
        data,
        client,
        input.client_realm,
        input.client_name,
        input.authtime,
    )?;
    let mut mask = verified::SERVER_SIGNATURE;
    if input.kdc_keys.is_empty() {
        return Ok(mask);
    }
    let keys = input.kdc_keys;
    check_kdc_mac(
        keys,
        &[&data[server.after_type()]],
        &kdc,
        data,
        "KDC signature",
    )?;
    mask |= verified::KDC_SIGNATURE;
    if let Some(t) = ticket {
        let der = ticket_signature_input(input.ticket, input.ticket_key, input.location)?;
        check_kdc_mac(keys, &[&der[..]], &t, data, "ticket signature").map_err(|mut e| {
            e.detail = format!("{} (ticket for {})", e.detail, input.server);
            e
        })?;
        mask |= verified::TICKET_SIGNATURE;
    }
    if let Some(f) = full {
        with_zeroed(data, &[server, kdc, f], |parts| {
            check_kdc_mac(keys, parts, &f, data, "full signature")
        })?;
        mask |= verified::FULL_SIGNATURE;
    }
    Ok(mask)
}

/// Each check of [`verify`] on its own, for diagnostics (`krbap decode`): the server
/// signature, CLIENT_INFO, and with KDC keys the KDC, ticket and full signatures (`None`:
/// not checked — no KDC key, or no such buffer).
pub(super) fn report(pac: &Pac, input: &VerifyInput) -> [(&'static str, Option<Result<()>>); 5] {
    let data = pac.as_bytes();
    let [server, kdc, ticket, full] = pac.signatures();
    let key = input.service_key;
    let server_check = match (server, kdc) {
        (Some(s), Some(k)) => Some(
            type_for(&s, key.enctype(), "server signature", "service key").and_then(|_| {
                with_zeroed(data, &[s, k], |parts| {
                    check_mac(key, parts, &s, data, "server signature", "service key")
                })
            }),
        ),
        (None, _) => Some(Err(missing("server signature (SERVER_CHECKSUM)"))),
        (_, None) => Some(Err(missing("KDC signature (PRIVSVR_CHECKSUM)"))),
    };
    let client = Some(match &pac.client_info {
        Some(c) => super::client_info::check(
            data,
            c,
            input.client_realm,
            input.client_name,
            input.authtime,
        ),
        None => Err(missing("CLIENT_INFO")),
    });
    let keys = input.kdc_keys;
    let with_keys = !keys.is_empty();
    let kdc_check = match (server, kdc) {
        (Some(s), Some(k)) if with_keys => Some(check_kdc_mac(
            keys,
            &[&data[s.after_type()]],
            &k,
            data,
            "KDC signature",
        )),
        _ => None,
    };
    let ticket_check = ticket.filter(|_| with_keys).map(|t| {
        ticket_signature_input(input.ticket, input.ticket_key, input.location)
            .and_then(|der| check_kdc_mac(keys, &[&der[..]], &t, data, "ticket signature"))
    });
    let full_check = match (server, kdc, full) {
        (Some(s), Some(k), Some(f)) if with_keys => Some(with_zeroed(data, &[s, k, f], |p| {
            check_kdc_mac(keys, p, &f, data, "full signature")
        })),
        _ => None,
    };
    [
        ("server signature", server_check),
        ("CLIENT_INFO", client),
        ("KDC signature", kdc_check),
        ("ticket signature", ticket_check),
        ("full signature", full_check),
    ]
}

/// Lays out an unsigned PAC (MS-PAC §2.3) as a KDC does: `buffers` in order, then the
/// server and KDC signature buffers sized for `service_key` and `kdc_key`, and with
/// `ticket_and_full` the ticket and full signature buffers. Offsets are 8-aligned, the
/// padding zero. Sign it with [`sign_ticket_pac`] once it is in the ticket.
pub fn build(
    buffers: &[(u32, &[u8])],
    service_key: &Key,
    kdc_key: &Key,
    ticket_and_full: bool,
) -> Vec<u8> {
    let sig = |k: &Key| {
        let mut v = k.enctype().checksum_type().to_le_bytes().to_vec();
        v.resize(4 + k.enctype().mac_len(), 0);
        v
    };
    let (s, k) = (sig(service_key), sig(kdc_key));
    let mut all: Vec<(u32, &[u8])> = buffers.to_vec();
    all.push((bt::SERVER_CHECKSUM, &s));
    all.push((bt::PRIVSVR_CHECKSUM, &k));
    if ticket_and_full {
        all.push((bt::TICKET_CHECKSUM, &k));
        all.push((bt::FULL_CHECKSUM, &k));
    }
    let mut out = Vec::new();
    out.extend_from_slice(&(all.len() as u32).to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    let mut offset = 8 + 16 * all.len();
    for (t, b) in &all {
        out.extend_from_slice(&t.to_le_bytes());
        out.extend_from_slice(&(b.len() as u32).to_le_bytes());
        out.extend_from_slice(&(offset as u64).to_le_bytes());
        offset += b.len().div_ceil(8) * 8;
    }
    for (_, b) in &all {
        out.extend_from_slice(b);
        out.resize(out.len().div_ceil(8) * 8, 0);
    }
    out
}

/// Signs the PAC in a ticket's authorization data as the KDC does (ticket, full, server,
/// then KDC signature, each one that has a buffer), with `service_key` for the server
/// signature and `kdc_key` for the others. Every signature buffer must have the size of
/// its key's checksum. For KDC-side use and for tests (re-signing edited PACs).
pub fn sign_ticket_pac(part: &mut EncTicketPart, service_key: &Key, kdc_key: &Key) -> Result<()> {
    let (at, bytes) = super::locate(part.authorization_data.as_ref().ok_or_else(missing_pac)?)?
        .ok_or_else(missing_pac)?;
    // Framing only: a KDC signs what it put there, parsed or not.
    let pac = Pac::parse_framing(bytes)?;
    let [server, kdc, ticket, full] = pac.signatures();
    let mut data = pac.data.into_vec();
    let set_type = |data: &mut Vec<u8>, l: &Option<SignatureLayout>, k: &Key| -> Result<()> {
        if let Some(l) = l {
            if l.mac_len as usize != k.enctype().mac_len() {
                return Err(malformed(format!(
                    "a signature buffer of {} bytes for a {} key",
                    l.size,
                    k.enctype().name()
                )));
            }
            let o = l.offset as usize;
            data[o..o + 4].copy_from_slice(&k.enctype().checksum_type().to_le_bytes());
        }
        Ok(())
    };
    set_type(&mut data, &server, service_key)?;
    for l in [&kdc, &ticket, &full] {
        set_type(&mut data, l, kdc_key)?;
    }
    let write = |data: &mut Vec<u8>, l: &SignatureLayout, mac: Vec<u8>| {
        let o = l.offset as usize + 4;
        data[o..o + mac.len()].copy_from_slice(&mac);
    };
    if let Some(t) = &ticket {
        put_pac(part, at, data.clone())?;
        let der = ticket_signature_input(part, &part.key.keyvalue, at)?;
        write(&mut data, t, kdc_key.checksum(KEY_USAGE, &der));
    }
    let (server, kdc) = match (server, kdc) {
        (Some(s), Some(k)) => (s, k),
        _ => return Err(missing("server and KDC signature buffers")),
    };
    if let Some(f) = &full {
        let mac = with_zeroed(&data, &[server, kdc, *f], |p| {
            kdc_key.checksum_parts(KEY_USAGE, p)
        });
        write(&mut data, f, mac);
    }
    let mac = with_zeroed(&data, &[server, kdc], |p| {
        service_key.checksum_parts(KEY_USAGE, p)
    });
    write(&mut data, &server, mac);
    let mac = kdc_key.checksum(KEY_USAGE, &data[server.after_type()]);
    write(&mut data, &kdc, mac);
    put_pac(part, at, data)
}

fn missing_pac() -> Error {
    Error::minor(
        minor::ENOENT,
        "the ticket has no PAC (AD-WIN2K-PAC inside AD-IF-RELEVANT)",
    )
}
