//! Kerberos cryptography: the RFC 3961 simplified profile with AES (RFC 3962:
//! aes128/aes256-cts-hmac-sha1-96) and RFC 8009 (aes128-cts-hmac-sha256-128,
//! aes256-cts-hmac-sha384-192).
//!
//! A [`Key`] is cheap to clone (shared inner) and caches its derived keys per usage,
//! so the hot paths never re-derive. Keys are zeroized on drop and never printed.
//!
//! Layout: `nfold` (RFC 3961 §5.1), `cts` (AES-CBC-CS3, RFC 3962 §5), `kdf` (DK for
//! the SHA-1 enctypes, KDF-HMAC-SHA2 of RFC 8009 §3, string-to-key), `rng` (the
//! per-thread ChaCha20 CSPRNG behind [`random_bytes`]).

use std::fmt;
use std::ops::Range;
use std::sync::{Arc, OnceLock};

use zeroize::{Zeroize, Zeroizing};

#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
mod aes_ni;
mod cts;
mod kdf;
mod keyed_mac;
mod nfold;
mod rng;
mod wipe;

#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub use cts::fuzz_aes_differential;
pub use cts::{aes_cts_decrypt, aes_cts_encrypt};
pub use kdf::KeyPurpose;
pub use nfold::nfold;
pub(crate) use rng::fork_generation;
pub use wipe::wipe;

use cts::{AesEncKey, AesKey, EncryptCs3, KeptEncKey};
use kdf::{EncKeys, Kept, MacHash, MacKey};
use keyed_mac::KeyedMac;

/// Key usage numbers (RFC 4120 §7.5.1, RFC 4121 §2).
pub mod usage {
    pub const AS_REQ_PA_ENC_TIMESTAMP: u32 = 1;
    pub const KDC_REP_TICKET: u32 = 2;
    pub const AS_REP_ENCPART: u32 = 3;
    pub const TGS_REQ_AD_SESSKEY: u32 = 4;
    pub const TGS_REQ_AD_SUBKEY: u32 = 5;
    pub const TGS_REQ_AUTH_CKSUM: u32 = 6;
    pub const TGS_REQ_AUTH: u32 = 7;
    pub const TGS_REP_ENCPART_SESSKEY: u32 = 8;
    pub const TGS_REP_ENCPART_SUBKEY: u32 = 9;
    pub const AP_REQ_AUTH_CKSUM: u32 = 10;
    pub const AP_REQ_AUTH: u32 = 11;
    pub const AP_REP_ENCPART: u32 = 12;
    pub const KRB_PRIV_ENCPART: u32 = 13;
    pub const KRB_CRED_ENCPART: u32 = 14;
    pub const KRB_SAFE_CKSUM: u32 = 15;
    pub const AD_KDC_ISSUED_CKSUM: u32 = 19;
    pub const ACCEPTOR_SEAL: u32 = 22;
    pub const ACCEPTOR_SIGN: u32 = 23;
    pub const INITIATOR_SEAL: u32 = 24;
    pub const INITIATOR_SIGN: u32 = 25;
}

/// Encryption types supported by krbap (RFC 3961 §8 numbering).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(i32)]
pub enum Enctype {
    Aes128CtsHmacSha196 = 17,
    Aes256CtsHmacSha196 = 18,
    Aes128CtsHmacSha256128 = 19,
    Aes256CtsHmacSha384192 = 20,
}

impl Enctype {
    /// In MIT's default preference order.
    pub const ALL: [Enctype; 4] = [
        Enctype::Aes256CtsHmacSha196,
        Enctype::Aes128CtsHmacSha196,
        Enctype::Aes256CtsHmacSha384192,
        Enctype::Aes128CtsHmacSha256128,
    ];

    pub fn from_number(n: i32) -> Option<Enctype> {
        match n {
            17 => Some(Enctype::Aes128CtsHmacSha196),
            18 => Some(Enctype::Aes256CtsHmacSha196),
            19 => Some(Enctype::Aes128CtsHmacSha256128),
            20 => Some(Enctype::Aes256CtsHmacSha384192),
            _ => None,
        }
    }
    pub fn number(self) -> i32 {
        self as i32
    }
    /// MIT's canonical name, e.g. `aes256-cts-hmac-sha1-96`.
    pub fn name(self) -> &'static str {
        match self {
            Enctype::Aes128CtsHmacSha196 => "aes128-cts-hmac-sha1-96",
            Enctype::Aes256CtsHmacSha196 => "aes256-cts-hmac-sha1-96",
            Enctype::Aes128CtsHmacSha256128 => "aes128-cts-hmac-sha256-128",
            Enctype::Aes256CtsHmacSha384192 => "aes256-cts-hmac-sha384-192",
        }
    }
    /// Accepts MIT's names and aliases (`aes256-cts`, `aes128-sha2`, ...) and numbers.
    pub fn from_name(s: &str) -> Option<Enctype> {
        match s.to_ascii_lowercase().as_str() {
            "aes128-cts-hmac-sha1-96" | "aes128-cts" | "aes128-sha1" | "17" => {
                Some(Enctype::Aes128CtsHmacSha196)
            }
            "aes256-cts-hmac-sha1-96" | "aes256-cts" | "aes256-sha1" | "18" => {
                Some(Enctype::Aes256CtsHmacSha196)
            }
            "aes128-cts-hmac-sha256-128" | "aes128-sha2" | "19" => {
                Some(Enctype::Aes128CtsHmacSha256128)
            }
            "aes256-cts-hmac-sha384-192" | "aes256-sha2" | "20" => {
                Some(Enctype::Aes256CtsHmacSha384192)
            }
            _ => None,
        }
    }
    /// Key length in bytes (protocol key = random-to-key output).
    pub fn key_len(self) -> usize {
        match self {
            Enctype::Aes128CtsHmacSha196 | Enctype::Aes128CtsHmacSha256128 => 16,
            Enctype::Aes256CtsHmacSha196 | Enctype::Aes256CtsHmacSha384192 => 32,
        }
    }
    /// The associated keyed checksum type (RFC 3962 §7, RFC 8009 §8): 15, 16, 19, 20.
    pub fn checksum_type(self) -> i32 {
        match self {
            Enctype::Aes128CtsHmacSha196 => 15,
            Enctype::Aes256CtsHmacSha196 => 16,
            Enctype::Aes128CtsHmacSha256128 => 19,
            Enctype::Aes256CtsHmacSha384192 => 20,
        }
    }
    /// The enctype whose checksum type this is.
    pub fn from_checksum_type(t: i32) -> Option<Enctype> {
        Enctype::ALL.into_iter().find(|e| e.checksum_type() == t)
    }
    /// Truncated HMAC length: 12, 12, 16, 24.
    pub fn mac_len(self) -> usize {
        match self {
            Enctype::Aes128CtsHmacSha196 | Enctype::Aes256CtsHmacSha196 => 12,
            Enctype::Aes128CtsHmacSha256128 => 16,
            Enctype::Aes256CtsHmacSha384192 => 24,
        }
    }
    /// Confounder (one AES block).
    pub const CONFOUNDER_LEN: usize = 16;
    /// Bytes a ciphertext has beyond its plaintext: confounder + MAC.
    pub fn ciphertext_overhead(self) -> usize {
        Self::CONFOUNDER_LEN + self.mac_len()
    }
    /// Default PBKDF2 iteration count for string-to-key: 4096 (RFC 3962) or 32768 (RFC 8009).
    pub fn default_iterations(self) -> u32 {
        match self {
            Enctype::Aes128CtsHmacSha196 | Enctype::Aes256CtsHmacSha196 => 4096,
            _ => 32768,
        }
    }
}

/// Errors of the crypto layer; mapped to MIT minor codes by [`CryptoError::minor`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CryptoError {
    /// The MAC did not verify (wrong key, modified data): KRB5KRB_AP_ERR_BAD_INTEGRITY.
    Integrity,
    /// Ciphertext shorter than confounder + MAC: KRB5_BAD_MSIZE.
    BadLength,
    /// Wrong key length for the enctype: KRB5_BAD_KEYSIZE.
    BadKeySize,
    /// Enctype or checksum type we do not implement: KRB5_BAD_ENCTYPE.
    UnsupportedEnctype(i32),
    /// Bad string-to-key parameters (e.g. iteration count 0).
    BadParams,
}

impl CryptoError {
    pub fn minor(self) -> i32 {
        use crate::error::minor;
        match self {
            CryptoError::Integrity => minor::AP_ERR_BAD_INTEGRITY,
            CryptoError::BadLength => minor::BAD_MSIZE,
            CryptoError::BadKeySize => minor::BAD_KEYSIZE,
            CryptoError::UnsupportedEnctype(_) => minor::BAD_ENCTYPE,
            CryptoError::BadParams => minor::CRYPTO_INTERNAL,
        }
    }
}

impl fmt::Display for CryptoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CryptoError::Integrity => f.write_str("decrypt integrity check failed"),
            CryptoError::BadLength => f.write_str("ciphertext too short"),
            CryptoError::BadKeySize => f.write_str("key size does not match the enctype"),
            CryptoError::UnsupportedEnctype(n) => write!(f, "unsupported enctype {n}"),
            CryptoError::BadParams => f.write_str("bad string-to-key parameters"),
        }
    }
}

impl std::error::Error for CryptoError {}

impl From<CryptoError> for crate::error::Error {
    fn from(e: CryptoError) -> Self {
        crate::error::Error::minor(e.minor(), e.to_string())
    }
}

/// A protocol key of one enctype. Cloning shares the key and its derived-key cache.
#[derive(Clone)]
pub struct Key {
    inner: Arc<KeyInner>,
}

/// Derived keys are cached in a few slots, filled in the order a key meets its usages
/// (a service key needs one usage, a GSS context key four to six); further usages derive
/// per call. Slots rather than a table indexed by usage keep a key small: an acceptor
/// holds keys per established context (a 25-usage table made each key ~1.6 KB).
const ENC_SLOTS: usize = 6;
const CHECKSUM_SLOTS: usize = 4;

/// A cache slot: the usage and its derived key(s), boxed so that an empty slot is small.
type Slot<T> = OnceLock<Box<(u32, T)>>;

struct KeyInner {
    enctype: Enctype,
    bytes: Zeroizing<[u8; 32]>,
    /// Allocated on the first derivation: an accepted context holds two subkeys that a
    /// server which only authenticates (HTTP Negotiate) never derives from. One box for
    /// all of it keeps an underived key at 56 bytes.
    derived: OnceLock<Box<Derivations>>,
    /// False for a key used once or twice and dropped (a ticket's session key on
    /// accept): each derivation is made for its call, with no slots to allocate.
    cache: bool,
}

/// What a key keeps for its derivations: its base key prepared once, however many usages
/// it derives (an accept derives two from the ticket's session key, a context key four to
/// six), and the derived-key cache of a caching key.
// One allocation of the largest variant's size: a caching key's box does not grow by the
// 256-byte DK schedule it does not keep.
enum Derivations {
    /// A caching key: the SHA-2 enctypes' keyed KDF state (RFC 8009 §3) and the cache.
    /// Not the SHA-1 enctypes' DK schedule: each usage is derived once, and an accepted
    /// context holds these keys (240 bytes each for nothing).
    Cached { kdf: Option<KeyedMac>, slots: Slots },
    /// A key without cache, SHA-1 enctypes: DK's AES schedule (RFC 3961 §5.1), expanded
    /// once for the per-call derivations instead of per call.
    UncachedDk(KeptEncKey),
    /// A key without cache, SHA-2 enctypes: the keyed KDF state.
    UncachedKdf(KeyedMac),
}

impl Derivations {
    fn kept(&self) -> Kept<'_> {
        match self {
            Derivations::Cached { kdf: Some(k), .. } | Derivations::UncachedKdf(k) => Kept::Kdf(k),
            Derivations::Cached { kdf: None, .. } => Kept::Nothing,
            Derivations::UncachedDk(aes) => Kept::Dk(aes),
        }
    }
    fn slots(&self) -> Option<&Slots> {
        match self {
            Derivations::Cached { slots, .. } => Some(slots),
            _ => None,
        }
    }
}

struct Slots {
    /// Ke (expanded) and Ki per usage.
    enc_keys: [Slot<EncKeys>; ENC_SLOTS],
    /// Kc per usage.
    checksum_keys: [Slot<MacKey>; CHECKSUM_SLOTS],
}

/// Either a cached derived key or one derived for this call only.
enum Derived<'a, T> {
    Cached(&'a T),
    Owned(T),
}

impl<T> std::ops::Deref for Derived<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        match self {
            Derived::Cached(t) => t,
            Derived::Owned(t) => t,
        }
    }
}

/// The cached derived key for `usage`: the slot holding it, or the first empty slot
/// (filled now); when every slot holds another usage, a key derived for this call only.
/// Two threads may fill two slots with the same usage; both hold the same key.
fn cached<T>(slots: &[Slot<T>], usage: u32, derive: impl Fn() -> T) -> Derived<'_, T> {
    for slot in slots {
        let entry = slot.get_or_init(|| Box::new((usage, derive())));
        if entry.0 == usage {
            return Derived::Cached(&entry.1);
        }
    }
    Derived::Owned(derive())
}

/// The all-zero cipher state: IV of the RFC 8009 §5 MAC input.
const ZERO_IV: [u8; Enctype::CONFOUNDER_LEN] = [0; Enctype::CONFOUNDER_LEN];
/// Largest truncated MAC (aes256-cts-hmac-sha384-192).
const MAX_MAC_LEN: usize = 24;

impl Key {
    /// A key from its bytes (length must equal `enctype.key_len()`).
    pub fn new(enctype: Enctype, bytes: &[u8]) -> Result<Key, CryptoError> {
        Key::with_cache(enctype, bytes, true)
    }
    /// A key whose derived keys are not cached ([`Key::cached`] makes a caching copy).
    pub fn new_uncached(enctype: Enctype, bytes: &[u8]) -> Result<Key, CryptoError> {
        Key::with_cache(enctype, bytes, false)
    }
    /// This key, caching its derived keys: itself, or a copy of an uncached key.
    pub fn cached(&self) -> Key {
        if self.inner.cache {
            return self.clone();
        }
        match Key::new(self.enctype(), self.bytes()) {
            Ok(key) => key,
            Err(_) => unreachable!("a Key always has a valid length"),
        }
    }
    fn with_cache(enctype: Enctype, bytes: &[u8], cache: bool) -> Result<Key, CryptoError> {
        if bytes.len() != enctype.key_len() {
            return Err(CryptoError::BadKeySize);
        }
        let mut key = Zeroizing::new([0u8; 32]);
        key[..bytes.len()].copy_from_slice(bytes);
        Ok(Key {
            inner: Arc::new(KeyInner {
                enctype,
                bytes: key,
                derived: OnceLock::new(),
                cache,
            }),
        })
    }
    /// random-to-key: the identity for the AES enctypes (RFC 3962 §6, RFC 8009 §4);
    /// the length must equal `enctype.key_len()`.
    pub fn random_to_key(enctype: Enctype, random: &[u8]) -> Result<Key, CryptoError> {
        Key::new(enctype, random)
    }
    /// A fresh random key from the process CSPRNG.
    pub fn random(enctype: Enctype) -> Key {
        let mut bytes = Zeroizing::new([0u8; 32]);
        let bytes = &mut bytes[..enctype.key_len()];
        random_bytes(bytes);
        match Key::new(enctype, bytes) {
            Ok(key) => key,
            Err(_) => unreachable!("the buffer has the enctype's key length"),
        }
    }
    /// string-to-key (RFC 3962 §4 / RFC 8009 §4); `iterations` None = enctype default.
    pub fn from_password(
        enctype: Enctype,
        password: &[u8],
        salt: &[u8],
        iterations: Option<u32>,
    ) -> Result<Key, CryptoError> {
        let iterations = iterations.unwrap_or(enctype.default_iterations());
        let mut bytes = Zeroizing::new([0u8; 32]);
        let bytes = &mut bytes[..enctype.key_len()];
        kdf::string_to_key(enctype, password, salt, iterations, bytes)?;
        Key::new(enctype, bytes)
    }
    pub fn enctype(&self) -> Enctype {
        self.inner.enctype
    }
    /// The raw key bytes (for keytab/ccache writing and KRB-CRED). Handle with care.
    pub fn bytes(&self) -> &[u8] {
        &self.inner.bytes[..self.inner.enctype.key_len()]
    }
    /// The raw bytes of the derived key Kc, Ke or Ki for `usage` (RFC 3961 §5.3), freshly
    /// derived (not from the cache). For test vectors and diagnostics; handle with care.
    pub fn derived_key_bytes(&self, usage: u32, purpose: KeyPurpose) -> Zeroizing<Vec<u8>> {
        kdf::derive_bytes(self.enctype(), self.bytes(), usage, purpose)
    }

    /// The key's derivation state, made on its first derivation; `None` for a SHA-1 key
    /// without cache on a CPU without AES-NI, which has nothing to keep.
    fn derivations(&self) -> Option<&Derivations> {
        if let Some(d) = self.inner.derived.get() {
            return Some(d);
        }
        let (enctype, bytes) = (self.enctype(), self.bytes());
        // Boxed before the OnceLock sees it: only a pointer moves through its closure.
        let made = Box::new(if self.inner.cache {
            Derivations::Cached {
                kdf: kdf::kdf_base(enctype, bytes),
                slots: Slots {
                    enc_keys: std::array::from_fn(|_| OnceLock::new()),
                    checksum_keys: std::array::from_fn(|_| OnceLock::new()),
                },
            }
        } else if let Some(keyed) = kdf::kdf_base(enctype, bytes) {
            Derivations::UncachedKdf(keyed)
        } else {
            Derivations::UncachedDk(kdf::dk_base(enctype, bytes)?)
        });
        // A concurrent first derivation may win: `made` is then dropped (and wiped).
        Some(self.inner.derived.get_or_init(|| made))
    }

    /// What the key keeps of its base for its derivations.
    fn kept(&self) -> Kept<'_> {
        self.derivations().map_or(Kept::Nothing, Derivations::kept)
    }

    /// The derived-key cache of a caching key.
    fn slots(&self) -> Option<&Slots> {
        self.derivations()?.slots()
    }

    /// Runs `f` with Ke (expanded) and Ki for `usage`: the cached ones, or, for a key
    /// without cache, ones derived here and expanded in this frame (an accept's session
    /// key: no ~1 KB schedule copied through return values). For [`Key::open`], which
    /// decrypts; [`Key::seal`] expands a once-used Ke for encryption only.
    fn with_enc_keys<R>(&self, usage: u32, f: impl FnOnce(&AesKey, &MacKey) -> R) -> R {
        if self.inner.cache {
            let keys = self.enc_keys(usage);
            return f(&keys.ke, &keys.ki);
        }
        let mut ke = Zeroizing::new([0u8; 32]);
        let ki = self.derive_once(usage, &mut ke);
        let aes = AesKey::expand(&ke[..self.enctype().key_len()]);
        f(&aes, &ki)
    }

    /// Ke's bytes (into `ke[..key_len]`) and Ki for `usage`, derived for this call only.
    fn derive_once(&self, usage: u32, ke: &mut [u8; 32]) -> MacKey {
        let ke = &mut ke[..self.enctype().key_len()];
        kdf::derive_enc_raw(self.enctype(), self.bytes(), self.kept(), usage, ke)
    }

    fn enc_keys(&self, usage: u32) -> Derived<'_, EncKeys> {
        let derive = || kdf::derive_enc(self.enctype(), self.bytes(), self.kept(), usage);
        match self.slots() {
            Some(slots) => cached(&slots.enc_keys, usage, derive),
            None => Derived::Owned(derive()),
        }
    }

    fn checksum_key(&self, usage: u32) -> Derived<'_, MacKey> {
        let derive = || kdf::derive_checksum_key(self.enctype(), self.bytes(), self.kept(), usage);
        match self.slots() {
            Some(slots) => cached(&slots.checksum_keys, usage, derive),
            None => Derived::Owned(derive()),
        }
    }

    /// RFC 3961 encrypt: confounder || plaintext, CBC-CS3, truncated HMAC appended.
    pub fn encrypt(&self, usage: u32, plaintext: &[u8]) -> Vec<u8> {
        self.encrypt_parts(usage, &[plaintext])
    }
    /// Encrypt the concatenation of `parts` without concatenating them first.
    pub fn encrypt_parts(&self, usage: u32, parts: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        self.encrypt_parts_append(usage, parts, &mut out);
        out
    }
    /// Encrypt the concatenation of `parts` and append the ciphertext to `out` (e.g. after
    /// a token header already written there). Reserves exactly the needed space.
    pub fn encrypt_parts_append(&self, usage: u32, parts: &[&[u8]], out: &mut Vec<u8>) {
        let len = parts.iter().map(|p| p.len()).sum();
        self.encrypt_append_with(usage, len, out, |o| {
            parts.iter().for_each(|p| o.extend_from_slice(p))
        });
    }
    /// Encrypt, appended to `out`, the plaintext `write` appends (`len` bytes: the space
    /// is reserved up front), without a separate plaintext buffer: it is written where it
    /// is encrypted (the AP-REP's EncAPRepPart, which holds the acceptor subkey).
    pub fn encrypt_append_with(
        &self,
        usage: u32,
        len: usize,
        out: &mut Vec<u8>,
        write: impl FnOnce(&mut Vec<u8>),
    ) {
        let mut confounder = [0u8; Enctype::CONFOUNDER_LEN];
        random_bytes(&mut confounder);
        self.seal(usage, &confounder, len, out, write);
    }
    /// Encrypt with a given confounder (for test vectors).
    ///
    /// # Panics
    /// If `confounder` is not 16 bytes long.
    pub fn encrypt_with_confounder(
        &self,
        usage: u32,
        confounder: &[u8],
        plaintext: &[u8],
    ) -> Vec<u8> {
        let confounder: &[u8; Enctype::CONFOUNDER_LEN] = match confounder.try_into() {
            Ok(c) => c,
            Err(_) => panic!("the confounder is one AES block (16 bytes)"),
        };
        let mut out = Vec::new();
        self.seal(usage, confounder, plaintext.len(), &mut out, |o| {
            o.extend_from_slice(plaintext)
        });
        out
    }

    /// RFC 3961 §5.3 encryption, appended to `out`:
    /// C = E(Ke, conf | plaintext) | H, where H = HMAC(Ki, conf | plaintext) for the SHA-1
    /// enctypes and H = HMAC(Ki, IV | C) for the SHA-2 enctypes (RFC 8009 §5). `write`
    /// appends the `len`-byte plaintext after the confounder, in the space reserved for it.
    fn seal(
        &self,
        usage: u32,
        confounder: &[u8; Enctype::CONFOUNDER_LEN],
        len: usize,
        out: &mut Vec<u8>,
        write: impl FnOnce(&mut Vec<u8>),
    ) {
        out.reserve_exact(Enctype::CONFOUNDER_LEN + len + self.enctype().mac_len());
        let start = out.len();
        out.extend_from_slice(confounder);
        write(out);
        self.seal_at(usage, start, out);
    }

    /// [`Key::seal`] of `out[start..]` (confounder | plaintext) in place, the MAC appended.
    fn seal_at(&self, usage: u32, start: usize, out: &mut Vec<u8>) {
        let enctype = self.enctype();
        let mac_len = enctype.mac_len();
        let is_sha1 = matches!(MacHash::of(enctype), MacHash::Sha1);
        let mut mac = [0u8; MAX_MAC_LEN];
        let mac = &mut mac[..mac_len];
        let body = &mut out[start..];
        if self.inner.cache {
            let keys = self.enc_keys(usage);
            seal_in_place(&keys.ke, &keys.ki, is_sha1, body, mac);
        } else {
            // Used once: Ke expanded for encryption only, no decryption schedule.
            let mut ke = Zeroizing::new([0u8; 32]);
            let ki = self.derive_once(usage, &mut ke);
            let aes = AesEncKey::expand(&ke[..enctype.key_len()]);
            seal_in_place(&aes, &ki, is_sha1, body, mac);
        }
        out.extend_from_slice(mac);
    }

    /// Verify and decrypt `head || rest` (ciphertext without its MAC) in place.
    /// On failure the buffers are wiped, so no unauthenticated plaintext escapes.
    fn open(
        &self,
        usage: u32,
        head: &mut [u8; Enctype::CONFOUNDER_LEN],
        rest: &mut [u8],
        received_mac: &[u8],
    ) -> Result<(), CryptoError> {
        let enctype = self.enctype();
        let hash = MacHash::of(enctype);
        let mut mac = [0u8; MAX_MAC_LEN];
        let mac = &mut mac[..enctype.mac_len()];
        let verified = self.with_enc_keys(usage, |ke, ki| match hash {
            MacHash::Sha1 => {
                // RFC 3961 §5.3: the MAC covers the plaintext (confounder included).
                ke.decrypt_cs3(head, rest);
                ki.mac(&[head, rest], mac);
                ct_eq(mac, received_mac)
            }
            _ => {
                // RFC 8009 §5: the MAC covers IV | ciphertext; check before decrypting.
                ki.mac(&[&ZERO_IV[..], &head[..], rest], mac);
                let ok = ct_eq(mac, received_mac);
                if ok {
                    ke.decrypt_cs3(head, rest);
                }
                ok
            }
        });
        if verified {
            Ok(())
        } else {
            head.zeroize();
            rest.zeroize();
            Err(CryptoError::Integrity)
        }
    }

    /// Split a ciphertext into (confounder block, rest of the CBC-CS3 body, MAC).
    fn split_ciphertext(&self, ciphertext_len: usize) -> Result<(usize, usize), CryptoError> {
        let mac_len = self.enctype().mac_len();
        if ciphertext_len < Enctype::CONFOUNDER_LEN + mac_len {
            return Err(CryptoError::BadLength);
        }
        let body_len = ciphertext_len - mac_len;
        Ok((body_len, body_len - Enctype::CONFOUNDER_LEN))
    }

    /// RFC 3961 decrypt; returns the plaintext without the confounder.
    pub fn decrypt(&self, usage: u32, ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let (body_len, _) = self.split_ciphertext(ciphertext.len())?;
        let (body, mac) = ciphertext.split_at(body_len);
        let (head, rest) = body
            .split_first_chunk::<{ Enctype::CONFOUNDER_LEN }>()
            .ok_or(CryptoError::BadLength)?;
        let mut head = *head;
        let mut plaintext = rest.to_vec();
        self.open(usage, &mut head, &mut plaintext, mac)?;
        Ok(plaintext)
    }
    /// Decrypt into a caller buffer: the plaintext is written to `out[..n]` and `n`
    /// returned. `out` must hold `ciphertext.len() - enctype.ciphertext_overhead()` bytes.
    pub fn decrypt_into(
        &self,
        usage: u32,
        ciphertext: &[u8],
        out: &mut [u8],
    ) -> Result<usize, CryptoError> {
        let (body_len, plaintext_len) = self.split_ciphertext(ciphertext.len())?;
        let out = out.get_mut(..plaintext_len).ok_or(CryptoError::BadLength)?;
        let (body, mac) = ciphertext.split_at(body_len);
        let (head, rest) = body
            .split_first_chunk::<{ Enctype::CONFOUNDER_LEN }>()
            .ok_or(CryptoError::BadLength)?;
        let mut head = *head;
        out.copy_from_slice(rest);
        self.open(usage, &mut head, out, mac)?;
        Ok(plaintext_len)
    }
    /// Decrypt `buf` (a whole ciphertext) in place; the plaintext is `buf[range]`.
    /// On error the buffer content is unspecified (partly wiped).
    pub fn decrypt_in_place(
        &self,
        usage: u32,
        buf: &mut [u8],
    ) -> Result<Range<usize>, CryptoError> {
        let (body_len, _) = self.split_ciphertext(buf.len())?;
        let (body, mac) = buf.split_at_mut(body_len);
        let (head, rest) = body
            .split_first_chunk_mut::<{ Enctype::CONFOUNDER_LEN }>()
            .ok_or(CryptoError::BadLength)?;
        self.open(usage, head, rest, mac)?;
        Ok(Enctype::CONFOUNDER_LEN..body_len)
    }
    /// Keyed checksum (get_mic of the simplified profile) over the concatenation of `parts`.
    pub fn checksum_parts(&self, usage: u32, parts: &[&[u8]]) -> Vec<u8> {
        let mut out = vec![0u8; self.enctype().mac_len()];
        self.checksum_parts_into(usage, parts, &mut out);
        out
    }
    /// RFC 3961 §5.3 get_mic: HMAC(Kc, data) truncated to the enctype's MAC length.
    fn checksum_parts_into(&self, usage: u32, parts: &[&[u8]], out: &mut [u8]) {
        self.checksum_key(usage).mac(parts, out);
    }
    pub fn checksum(&self, usage: u32, data: &[u8]) -> Vec<u8> {
        self.checksum_parts(usage, &[data])
    }
    /// Constant-time verification of a keyed checksum over `parts`.
    /// A checksum of the wrong length is `BadLength` (MIT: KRB5_BAD_MSIZE).
    pub fn verify_checksum_parts(
        &self,
        usage: u32,
        parts: &[&[u8]],
        checksum: &[u8],
    ) -> Result<(), CryptoError> {
        let mac_len = self.enctype().mac_len();
        if checksum.len() != mac_len {
            return Err(CryptoError::BadLength);
        }
        let mut expected = [0u8; MAX_MAC_LEN];
        let expected = &mut expected[..mac_len];
        self.checksum_parts_into(usage, parts, expected);
        if ct_eq(expected, checksum) {
            Ok(())
        } else {
            Err(CryptoError::Integrity)
        }
    }
    pub fn verify_checksum(
        &self,
        usage: u32,
        data: &[u8],
        checksum: &[u8],
    ) -> Result<(), CryptoError> {
        self.verify_checksum_parts(usage, &[data], checksum)
    }
}

/// Encrypts `body` (confounder and plaintext) in place and writes its MAC to `mac`
/// (RFC 3961 §5.3 / RFC 8009 §5, as [`Key::seal`] describes).
fn seal_in_place(
    ke: &impl EncryptCs3,
    ki: &MacKey,
    is_sha1: bool,
    body: &mut [u8],
    mac: &mut [u8],
) {
    if is_sha1 {
        ki.mac(&[body], mac);
    }
    if let Some((head, rest)) = body.split_first_chunk_mut::<{ Enctype::CONFOUNDER_LEN }>() {
        ke.encrypt_cs3(head, rest);
    }
    if !is_sha1 {
        ki.mac(&[&ZERO_IV[..], body], mac);
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the key bytes.
        write!(
            f,
            "Key {{ enctype: {}, <redacted> }}",
            self.enctype().name()
        )
    }
}

/// Fill `buf` from the process CSPRNG (seeded once from the OS, reseeded after fork).
pub fn random_bytes(buf: &mut [u8]) {
    rng::fill(buf);
}

/// A random u32 from the process CSPRNG.
pub fn random_u32() -> u32 {
    let mut b = [0u8; 4];
    random_bytes(&mut b);
    u32::from_be_bytes(b)
}

/// MD5, used only for the channel-binding hash of RFC 4121 §4.1.1.2.
pub fn md5(parts: &[&[u8]]) -> [u8; 16] {
    use md5::Digest;
    let mut h = md5::Md5::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// Constant-time byte-string equality.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uncached_keys_derive_per_call_and_interoperate() {
        for enctype in Enctype::ALL {
            let key = Key::random(enctype);
            let once = Key::new_uncached(enctype, key.bytes()).unwrap();
            assert!(matches!(
                once.enc_keys(usage::AP_REQ_AUTH),
                Derived::Owned(_)
            ));
            assert!(matches!(
                once.checksum_key(usage::ACCEPTOR_SIGN),
                Derived::Owned(_)
            ));
            assert!(once.slots().is_none(), "no cache table allocated");
            let copy = once.cached();
            assert!(matches!(
                copy.enc_keys(usage::AP_REQ_AUTH),
                Derived::Cached(_)
            ));
            assert!(
                std::ptr::eq(&*key.cached().inner, &*key.inner),
                "already caching"
            );
            // Same bytes, same derivations: each decrypts what the others encrypt.
            for (enc, dec) in [(&key, &once), (&once, &copy), (&copy, &key)] {
                let c = enc.encrypt(usage::AP_REP_ENCPART, b"session key check");
                assert_eq!(
                    dec.decrypt(usage::AP_REP_ENCPART, &c).unwrap(),
                    b"session key check"
                );
            }
        }
    }

    #[test]
    fn an_uncached_key_prepares_its_base_once() {
        for enctype in Enctype::ALL {
            let key = Key::new_uncached(enctype, Key::random(enctype).bytes()).unwrap();
            let cached = key.cached();
            let confounder = [0x5a; Enctype::CONFOUNDER_LEN];
            for u in [usage::AP_REQ_AUTH, usage::AP_REP_ENCPART, 0, u32::MAX] {
                // Kept DK schedule or keyed KDF state, Ke for encryption only: the same
                // bytes as the cached keys.
                let c = key.encrypt_with_confounder(u, &confounder, b"two usages");
                assert_eq!(
                    c,
                    cached.encrypt_with_confounder(u, &confounder, b"two usages")
                );
                assert_eq!(key.decrypt(u, &c).unwrap(), b"two usages");
                let m = key.checksum(u, b"mic");
                assert_eq!(m, cached.checksum(u, b"mic"));
                let kc = key.derived_key_bytes(u, KeyPurpose::Checksum);
                let mut want = [0u8; MAX_MAC_LEN];
                MacHash::of(enctype).mac(&kc, &[b"mic"], &mut want);
                assert_eq!(m, &want[..enctype.mac_len()]);
            }
            let kept = key.inner.derived.get().map(|d| d.kept());
            match MacHash::of(enctype) {
                MacHash::Sha1 if KeptEncKey::expand(key.bytes()).is_some() => {
                    assert!(matches!(kept, Some(Kept::Dk(_))), "DK schedule kept")
                }
                MacHash::Sha1 => assert!(kept.is_none(), "nothing to keep without AES-NI"),
                _ => assert!(matches!(kept, Some(Kept::Kdf(_))), "KDF state kept"),
            }
            assert!(
                !matches!(cached.kept(), Kept::Dk(_)),
                "a caching key (held by contexts) keeps no DK schedule"
            );
        }
        // A caching key's one allocation does not grow by the schedule it does not keep.
        assert!(
            std::mem::size_of::<Derivations>()
                <= std::mem::size_of::<Option<KeyedMac>>() + std::mem::size_of::<Slots>() + 8
        );
    }

    #[test]
    fn derived_keys_are_cached_per_usage_and_shared_by_clones() {
        for enctype in Enctype::ALL {
            let key = Key::random(enctype);
            let clone = key.clone();
            let a: *const EncKeys = &*key.enc_keys(usage::AP_REQ_AUTH);
            let b: *const EncKeys = &*clone.enc_keys(usage::AP_REQ_AUTH);
            assert!(std::ptr::eq(a, b), "Ke/Ki derived once");
            let c: *const MacKey = &*key.checksum_key(usage::ACCEPTOR_SIGN);
            let d: *const MacKey = &*clone.checksum_key(usage::ACCEPTOR_SIGN);
            assert!(std::ptr::eq(c, d), "Kc derived once");
            // Any usage takes a free slot (one is taken above); once all are taken,
            // further usages derive per call and the cached ones stay cached.
            for u in 100..100 + ENC_SLOTS as u32 - 1 {
                assert!(matches!(key.enc_keys(u), Derived::Cached(_)), "usage {u}");
            }
            assert!(matches!(key.enc_keys(0), Derived::Owned(_)));
            assert!(matches!(key.enc_keys(u32::MAX), Derived::Owned(_)));
            let a2: *const EncKeys = &*clone.enc_keys(usage::AP_REQ_AUTH);
            assert!(std::ptr::eq(a, a2), "still cached");
            for u in 200..200 + CHECKSUM_SLOTS as u32 - 1 {
                assert!(
                    matches!(key.checksum_key(u), Derived::Cached(_)),
                    "usage {u}"
                );
            }
            assert!(matches!(key.checksum_key(26), Derived::Owned(_)));
        }
    }

    #[test]
    fn cached_keys_equal_fresh_derivation() {
        for enctype in Enctype::ALL {
            let key = Key::random(enctype);
            for u in [1u32, 11, 25] {
                // The cached keyed states MAC as the freshly derived key bytes do.
                let hash = MacHash::of(enctype);
                let msg: &[&[u8]] = &[b"cached derived keys", &[7u8; 100]];
                let (mut want, mut got) = ([0u8; 48], [0u8; 48]);
                let kc = key.derived_key_bytes(u, KeyPurpose::Checksum);
                hash.mac(&kc, msg, &mut want);
                key.checksum_key(u).mac(msg, &mut got);
                assert_eq!(got, want);
                let ki = key.derived_key_bytes(u, KeyPurpose::Integrity);
                hash.mac(&ki, msg, &mut want);
                key.enc_keys(u).ki.mac(msg, &mut got);
                assert_eq!(got, want);
            }
        }
    }

    #[test]
    fn usage_zero_and_huge_usages_work() {
        for enctype in Enctype::ALL {
            let key = Key::random(enctype);
            for u in [0u32, 26, u32::MAX] {
                let ct = key.encrypt(u, b"x");
                assert_eq!(key.decrypt(u, &ct).unwrap(), b"x");
                let c = key.checksum(u, b"x");
                key.verify_checksum(u, b"x", &c).unwrap();
            }
        }
    }

    #[test]
    fn random_keys_differ() {
        let a = Key::random(Enctype::Aes256CtsHmacSha196);
        let b = Key::random(Enctype::Aes256CtsHmacSha196);
        assert_ne!(a.bytes(), b.bytes());
        assert_eq!(
            format!("{a:?}"),
            "Key { enctype: aes256-cts-hmac-sha1-96, <redacted> }"
        );
    }
}
