//! Key derivation: DK/DR of RFC 3961 §5.1 (AES-SHA1 enctypes), KDF-HMAC-SHA2 of
//! RFC 8009 §3 (AES-SHA2 enctypes), the per-usage keys Kc/Ke/Ki, and string-to-key
//! (RFC 3962 §4, RFC 8009 §4).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{LazyLock, OnceLock};

use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Sha256, Sha384};
use zeroize::{Zeroize, Zeroizing};

use super::cts::{AesEncKey, AesKey, KeptEncKey, BLOCK};
use super::keyed_mac::KeyedMac;
use super::nfold::nfold;
use super::{CryptoError, Enctype};

/// Which derived key (RFC 3961 §5.3): the last octet of the usage constant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyPurpose {
    /// Kc = DK(base, usage | 0x99), keyed checksums.
    Checksum,
    /// Ke = DK(base, usage | 0xAA), encryption.
    Encryption,
    /// Ki = DK(base, usage | 0x55), the MAC of an encryption.
    Integrity,
}

impl KeyPurpose {
    fn octet(self) -> u8 {
        match self {
            KeyPurpose::Checksum => 0x99,
            KeyPurpose::Encryption => 0xAA,
            KeyPurpose::Integrity => 0x55,
        }
    }
    fn index(self) -> usize {
        match self {
            KeyPurpose::Checksum => 0,
            KeyPurpose::Encryption => 1,
            KeyPurpose::Integrity => 2,
        }
    }
}

/// The 5-octet usage constant: usage (big-endian) || purpose octet.
fn usage_constant(usage: u32, purpose: KeyPurpose) -> [u8; 5] {
    let u = usage.to_be_bytes();
    [u[0], u[1], u[2], u[3], purpose.octet()]
}

/// Usages whose folded constants are precomputed (all of RFC 4120 §7.5.1 and RFC 4121).
const FOLDED_USAGES: usize = 25;

/// 128-fold of the usage constants 1..=25: n-fold costs several times a whole AES
/// derivation, and it depends only on the usage (pitfalls.md).
static FOLDED_CONSTANTS: LazyLock<[[[u8; BLOCK]; 3]; FOLDED_USAGES]> = LazyLock::new(|| {
    let mut table = [[[0u8; BLOCK]; 3]; FOLDED_USAGES];
    for (i, row) in table.iter_mut().enumerate() {
        for purpose in [
            KeyPurpose::Checksum,
            KeyPurpose::Encryption,
            KeyPurpose::Integrity,
        ] {
            let folded = nfold(&usage_constant(i as u32 + 1, purpose), BLOCK);
            row[purpose.index()].copy_from_slice(&folded);
        }
    }
    table
});

fn folded_constant(usage: u32, purpose: KeyPurpose) -> [u8; BLOCK] {
    match usage.checked_sub(1).map(|i| i as usize) {
        Some(i) if i < FOLDED_USAGES => FOLDED_CONSTANTS[i][purpose.index()],
        _ => {
            let mut out = [0u8; BLOCK];
            out.copy_from_slice(&nfold(&usage_constant(usage, purpose), BLOCK));
            out
        }
    }
}

/// A derived HMAC key (Ki or Kc), at most 32 bytes, wiped on drop. From its second use on
/// it also keeps its keyed HMAC state (the key's ipad and opad blocks already compressed,
/// see [`KeyedMac`]): a key used many times (a context's MIC and Wrap keys, a service
/// key's ticket usage) saves two compressions per MAC, while a key used once (most of an
/// accepted context's session-key usages) keeps an accepted context small (the SHA-384
/// state is 128 bytes).
pub(crate) struct MacKey {
    keyed: OnceLock<Box<KeyedMac>>,
    bytes: [u8; 32],
    len: u8,
    hash: MacHash,
    used: AtomicBool,
}

impl MacKey {
    fn new(enctype: Enctype, bytes: &[u8]) -> MacKey {
        let mut key = MacKey {
            keyed: OnceLock::new(),
            bytes: [0u8; 32],
            len: bytes.len() as u8,
            hash: MacHash::of(enctype),
            used: AtomicBool::new(false),
        };
        key.bytes[..bytes.len()].copy_from_slice(bytes);
        key
    }

    /// HMAC(key, concat(parts)), truncated to `out.len()`.
    pub(crate) fn mac(&self, parts: &[&[u8]], out: &mut [u8]) {
        if let Some(keyed) = self.keyed.get() {
            return keyed.mac(parts, out);
        }
        let keyed = KeyedMac::new(self.hash, &self.bytes[..usize::from(self.len)]);
        keyed.mac(parts, out);
        if self.used.swap(true, Ordering::Relaxed) {
            // A second use: keep the state (a concurrent set drops, and wipes, this one).
            let _ = self.keyed.set(Box::new(keyed));
        }
    }
}

impl Drop for MacKey {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

/// The keys of one encryption usage: Ke (as an expanded AES key) and Ki.
pub(crate) struct EncKeys {
    pub(crate) ke: AesKey,
    pub(crate) ki: MacKey,
}

/// The hash of the simplified profile's HMAC for an enctype.
#[derive(Clone, Copy)]
pub(crate) enum MacHash {
    Sha1,
    Sha256,
    Sha384,
}

impl MacHash {
    pub(crate) fn of(enctype: Enctype) -> MacHash {
        match enctype {
            Enctype::Aes128CtsHmacSha196 | Enctype::Aes256CtsHmacSha196 => MacHash::Sha1,
            Enctype::Aes128CtsHmacSha256128 => MacHash::Sha256,
            Enctype::Aes256CtsHmacSha384192 => MacHash::Sha384,
        }
    }

    /// HMAC(key, concat(parts)), truncated to `out.len()` (at most the hash length), for
    /// one-off keys (key derivation, string-to-key). Derived keys that are used again are
    /// [`MacKey`]s: their keyed state is cached and wiped (the hmac crate's cannot be).
    pub(crate) fn mac(self, key: &[u8], parts: &[&[u8]], out: &mut [u8]) {
        fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], parts: &[&[u8]], out: &mut [u8]) {
            // HMAC accepts keys of every length, so this cannot fail.
            let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(key)
                .expect("HMAC takes keys of any length");
            for p in parts {
                mac.update(p);
            }
            let tag = mac.finalize().into_bytes();
            let n = out.len().min(tag.len());
            out[..n].copy_from_slice(&tag[..n]);
        }
        match self {
            MacHash::Sha1 => run::<Hmac<Sha1>>(key, parts, out),
            MacHash::Sha256 => run::<Hmac<Sha256>>(key, parts, out),
            MacHash::Sha384 => run::<Hmac<Sha384>>(key, parts, out),
        }
    }
}

/// DR(base, constant) of RFC 3961 §5.1 with the constant already folded to one block:
/// K1 = E(base, folded), K(i+1) = E(base, Ki), output = first `out.len()` bytes of K1|K2.
/// random-to-key is the identity for AES (RFC 3962 §6), so DK = DR. `encrypt` is E(base).
fn dk_aes(encrypt: impl Fn(&mut [u8; BLOCK]), folded: &[u8; BLOCK], out: &mut [u8]) {
    let mut block = *folded;
    // Whole blocks by assignment (Kc, Ke and Ki are one or two blocks): no copy call of
    // unknown length per block.
    let (whole, tail) = out.as_chunks_mut::<BLOCK>();
    for chunk in whole {
        encrypt(&mut block);
        *chunk = block;
    }
    if !tail.is_empty() {
        encrypt(&mut block);
        tail.copy_from_slice(&block[..tail.len()]);
    }
    block.zeroize();
}

/// KDF-HMAC-SHA2(key, label, k) of RFC 8009 §3 with an empty context:
/// the first k bits of HMAC(key, 00000001 | label | 0x00 | k), `k = out.len() * 8`.
fn kdf_hmac_sha2(hash: MacHash, key: &[u8], label: &[u8], out: &mut [u8]) {
    let k_bits = ((out.len() * 8) as u32).to_be_bytes();
    hash.mac(key, &[&1u32.to_be_bytes(), label, &[0u8], &k_bits], out);
}

/// Length of Kc and Ki: the key size for the SHA-1 enctypes (RFC 3962), 128 or 192 bits
/// for the SHA-2 enctypes (RFC 8009 §5).
fn mac_key_len(enctype: Enctype) -> usize {
    match enctype {
        Enctype::Aes128CtsHmacSha196 => 16,
        Enctype::Aes256CtsHmacSha196 => 32,
        Enctype::Aes128CtsHmacSha256128 => 16,
        Enctype::Aes256CtsHmacSha384192 => 24,
    }
}

/// Length of a derived key of `purpose` (Ke is always the full key size).
pub(crate) fn derived_len(enctype: Enctype, purpose: KeyPurpose) -> usize {
    match purpose {
        KeyPurpose::Encryption => enctype.key_len(),
        _ => mac_key_len(enctype),
    }
}

/// The base key's keyed HMAC state for KDF-HMAC-SHA2 (RFC 8009 §3), `None` for the SHA-1
/// enctypes (DK encrypts with AES). Made once per key ([`crate::crypto::Key`] keeps it),
/// each derivation then costs two compressions (one block in, one out) instead of four.
pub(crate) fn kdf_base(enctype: Enctype, base: &[u8]) -> Option<KeyedMac> {
    match MacHash::of(enctype) {
        MacHash::Sha1 => None,
        hash => Some(KeyedMac::new(hash, base)),
    }
}

/// The AES encryption schedule of a SHA-1 enctype's base key for DK (RFC 3961 §5.1), for
/// a key that keeps it ([`crate::crypto::Key`]: one without cache, which derives each
/// usage per call); `None` for the SHA-2 enctypes, or without AES-NI.
pub(crate) fn dk_base(enctype: Enctype, base: &[u8]) -> Option<KeptEncKey> {
    match MacHash::of(enctype) {
        MacHash::Sha1 => KeptEncKey::expand(base),
        _ => None,
    }
}

/// What a key keeps of its base key for its derivations ([`dk_base`], [`kdf_base`]).
#[derive(Clone, Copy)]
pub(crate) enum Kept<'a> {
    Nothing,
    Dk(&'a KeptEncKey),
    Kdf(&'a KeyedMac),
}

/// A base key prepared for its derivations: the AES schedule DK encrypts with (RFC 3961
/// §5.1, SHA-1 enctypes), or the keyed HMAC state of KDF-HMAC-SHA2 (RFC 8009 §3), the
/// key's own ([`Kept`]) when it keeps one.
// Short-lived (one or two derivations, on the stack), like the AesEncKey it holds.
#[allow(clippy::large_enum_variant)]
enum Base<'a> {
    Dk(AesEncKey),
    DkKept(&'a KeptEncKey),
    Kdf(&'a KeyedMac),
    KdfOwned(KeyedMac),
}

impl<'a> Base<'a> {
    /// `base` has the enctype's key length; `kept` is what the key keeps of it.
    fn new(enctype: Enctype, base: &[u8], kept: Kept<'a>) -> Base<'a> {
        let hash = MacHash::of(enctype);
        debug_assert!(match kept {
            Kept::Nothing => true,
            Kept::Dk(_) => matches!(hash, MacHash::Sha1),
            Kept::Kdf(_) => !matches!(hash, MacHash::Sha1),
        });
        match (kept, hash) {
            (Kept::Dk(aes), _) => Base::DkKept(aes),
            (Kept::Kdf(keyed), _) => Base::Kdf(keyed),
            (Kept::Nothing, MacHash::Sha1) => Base::Dk(AesEncKey::expand(base)),
            (Kept::Nothing, hash) => Base::KdfOwned(KeyedMac::new(hash, base)),
        }
    }

    /// Kc, Ke or Ki for `usage` into `out` (`out.len()` = [`derived_len`]).
    fn derive(&self, usage: u32, purpose: KeyPurpose, out: &mut [u8]) {
        match self {
            Base::Dk(aes) => dk_aes(
                |b| aes.encrypt_block(b),
                &folded_constant(usage, purpose),
                out,
            ),
            Base::DkKept(aes) => dk_aes(
                |b| aes.encrypt_block(b),
                &folded_constant(usage, purpose),
                out,
            ),
            Base::Kdf(keyed) => kdf_keyed(keyed, &usage_constant(usage, purpose), out),
            Base::KdfOwned(keyed) => kdf_keyed(keyed, &usage_constant(usage, purpose), out),
        }
    }
}

/// KDF-HMAC-SHA2(key, label, k) as [`kdf_hmac_sha2`], with the key's keyed state.
fn kdf_keyed(keyed: &KeyedMac, label: &[u8], out: &mut [u8]) {
    let k_bits = ((out.len() * 8) as u32).to_be_bytes();
    keyed.mac(&[&1u32.to_be_bytes(), label, &[0u8], &k_bits], out);
}

/// The raw bytes of one derived key (for test vectors and diagnostics); `base` has the
/// enctype's key length.
pub(crate) fn derive_bytes(
    enctype: Enctype,
    base: &[u8],
    usage: u32,
    purpose: KeyPurpose,
) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(vec![0u8; derived_len(enctype, purpose)]);
    Base::new(enctype, base, Kept::Nothing).derive(usage, purpose, &mut out);
    out
}

/// Ke's bytes (into `ke`, the key length) and Ki for an encryption usage, for a key that
/// does not cache them: the caller expands Ke where it uses it, so the schedule is not
/// moved around. `kept` is what the key keeps of `base`.
pub(crate) fn derive_enc_raw(
    enctype: Enctype,
    base: &[u8],
    kept: Kept<'_>,
    usage: u32,
    ke: &mut [u8],
) -> MacKey {
    let mut ki = Zeroizing::new([0u8; 32]);
    let ki = &mut ki[..mac_key_len(enctype)];
    let base = Base::new(enctype, base, kept);
    base.derive(usage, KeyPurpose::Encryption, ke);
    base.derive(usage, KeyPurpose::Integrity, ki);
    MacKey::new(enctype, ki)
}

/// Ke (expanded) and Ki for an encryption usage; `kept` as in [`derive_enc_raw`].
pub(crate) fn derive_enc(enctype: Enctype, base: &[u8], kept: Kept<'_>, usage: u32) -> EncKeys {
    let mut ke = Zeroizing::new([0u8; 32]);
    let ke = &mut ke[..enctype.key_len()];
    let ki = derive_enc_raw(enctype, base, kept, usage, ke);
    EncKeys {
        ke: AesKey::expand(ke),
        ki,
    }
}

/// Kc for a checksum usage; `kept` as in [`derive_enc_raw`].
pub(crate) fn derive_checksum_key(
    enctype: Enctype,
    base: &[u8],
    kept: Kept<'_>,
    usage: u32,
) -> MacKey {
    let mut kc = Zeroizing::new([0u8; 32]);
    let kc = &mut kc[..mac_key_len(enctype)];
    Base::new(enctype, base, kept).derive(usage, KeyPurpose::Checksum, kc);
    MacKey::new(enctype, kc)
}

/// string-to-key. RFC 3962 §4: tkey = PBKDF2-HMAC-SHA1(password, salt, iterations),
/// key = DK(tkey, "kerberos"). RFC 8009 §4: saltp = enctype-name | 0x00 | salt,
/// tkey = PBKDF2-HMAC-SHA256/384(password, saltp, iterations),
/// key = KDF-HMAC-SHA2(tkey, "kerberos", key size).
pub(crate) fn string_to_key(
    enctype: Enctype,
    password: &[u8],
    salt: &[u8],
    iterations: u32,
    out: &mut [u8],
) -> Result<(), CryptoError> {
    if iterations == 0 || out.len() != enctype.key_len() {
        return Err(CryptoError::BadParams);
    }
    const KERBEROS: &[u8] = b"kerberos";
    let mut tkey = Zeroizing::new([0u8; 32]);
    let tkey = &mut tkey[..enctype.key_len()];
    match MacHash::of(enctype) {
        MacHash::Sha1 => {
            pbkdf2::pbkdf2_hmac::<Sha1>(password, salt, iterations, tkey);
            let aes = AesEncKey::new(tkey)?;
            let mut folded = [0u8; BLOCK];
            folded.copy_from_slice(&nfold(KERBEROS, BLOCK));
            dk_aes(|b| aes.encrypt_block(b), &folded, out);
        }
        hash => {
            let name = enctype.name().as_bytes();
            let mut saltp = Vec::with_capacity(name.len() + 1 + salt.len());
            saltp.extend_from_slice(name);
            saltp.push(0);
            saltp.extend_from_slice(salt);
            match hash {
                MacHash::Sha256 => {
                    pbkdf2::pbkdf2_hmac::<Sha256>(password, &saltp, iterations, tkey)
                }
                _ => pbkdf2::pbkdf2_hmac::<Sha384>(password, &saltp, iterations, tkey),
            }
            kdf_hmac_sha2(hash, tkey, KERBEROS, out);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_table_matches_direct_nfold() {
        for usage in 1..=FOLDED_USAGES as u32 + 2 {
            for purpose in [
                KeyPurpose::Checksum,
                KeyPurpose::Encryption,
                KeyPurpose::Integrity,
            ] {
                let direct = nfold(&usage_constant(usage, purpose), BLOCK);
                assert_eq!(
                    folded_constant(usage, purpose).as_slice(),
                    direct.as_slice()
                );
            }
        }
        // RFC 3961 A.1 style sanity: the constant for usage 2 / 0x99 as MIT computes it.
        assert_eq!(usage_constant(2, KeyPurpose::Checksum), [0, 0, 0, 2, 0x99]);
    }

    #[test]
    fn derived_lengths() {
        for (enctype, kc, ke) in [
            (Enctype::Aes128CtsHmacSha196, 16, 16),
            (Enctype::Aes256CtsHmacSha196, 32, 32),
            (Enctype::Aes128CtsHmacSha256128, 16, 16),
            (Enctype::Aes256CtsHmacSha384192, 24, 32),
        ] {
            assert_eq!(derived_len(enctype, KeyPurpose::Checksum), kc);
            assert_eq!(derived_len(enctype, KeyPurpose::Integrity), kc);
            assert_eq!(derived_len(enctype, KeyPurpose::Encryption), ke);
        }
    }
}
