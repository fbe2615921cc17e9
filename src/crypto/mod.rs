//! Kerberos cryptography: the RFC 3961 simplified profile with AES (RFC 3962:
//! aes128/aes256-cts-hmac-sha1-96) and RFC 8009 (aes128-cts-hmac-sha256-128,
//! aes256-cts-hmac-sha384-192).
//!
//! CONTRACT (skeleton — the crypto owner replaces the bodies, keeps the signatures).
//! A [`Key`] is cheap to clone (shared inner) and caches its derived keys per usage,
//! so the hot paths never re-derive. Keys are zeroized on drop and never printed.

use std::fmt;

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
    _todo: std::sync::Arc<()>,
}

impl Key {
    /// A key from its bytes (length must equal `enctype.key_len()`).
    pub fn new(enctype: Enctype, bytes: &[u8]) -> Result<Key, CryptoError> {
        let _ = (enctype, bytes);
        todo!("crypto owner")
    }
    /// A fresh random key from the process CSPRNG.
    pub fn random(enctype: Enctype) -> Key {
        let _ = enctype;
        todo!("crypto owner")
    }
    /// string-to-key (RFC 3962 §4 / RFC 8009 §4); `iterations` None = enctype default.
    pub fn from_password(
        enctype: Enctype,
        password: &[u8],
        salt: &[u8],
        iterations: Option<u32>,
    ) -> Result<Key, CryptoError> {
        let _ = (enctype, password, salt, iterations);
        todo!("crypto owner")
    }
    pub fn enctype(&self) -> Enctype {
        todo!("crypto owner")
    }
    /// The raw key bytes (for keytab/ccache writing and KRB-CRED). Handle with care.
    pub fn bytes(&self) -> &[u8] {
        todo!("crypto owner")
    }
    /// RFC 3961 encrypt: confounder || plaintext, CBC-CS3, truncated HMAC appended.
    pub fn encrypt(&self, usage: u32, plaintext: &[u8]) -> Vec<u8> {
        self.encrypt_parts(usage, &[plaintext])
    }
    /// Encrypt the concatenation of `parts` without concatenating them first.
    pub fn encrypt_parts(&self, usage: u32, parts: &[&[u8]]) -> Vec<u8> {
        let _ = (usage, parts);
        todo!("crypto owner")
    }
    /// Encrypt with a given confounder (for test vectors).
    pub fn encrypt_with_confounder(&self, usage: u32, confounder: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let _ = (usage, confounder, plaintext);
        todo!("crypto owner")
    }
    /// RFC 3961 decrypt; returns the plaintext without the confounder.
    pub fn decrypt(&self, usage: u32, ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let _ = (usage, ciphertext);
        todo!("crypto owner")
    }
    /// Keyed checksum (get_mic of the simplified profile) over the concatenation of `parts`.
    pub fn checksum_parts(&self, usage: u32, parts: &[&[u8]]) -> Vec<u8> {
        let _ = (usage, parts);
        todo!("crypto owner")
    }
    pub fn checksum(&self, usage: u32, data: &[u8]) -> Vec<u8> {
        self.checksum_parts(usage, &[data])
    }
    /// Constant-time verification of a keyed checksum over `parts`.
    pub fn verify_checksum_parts(
        &self,
        usage: u32,
        parts: &[&[u8]],
        checksum: &[u8],
    ) -> Result<(), CryptoError> {
        let _ = (usage, parts, checksum);
        todo!("crypto owner")
    }
    pub fn verify_checksum(&self, usage: u32, data: &[u8], checksum: &[u8]) -> Result<(), CryptoError> {
        self.verify_checksum_parts(usage, &[data], checksum)
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key { <redacted> }")
    }
}

/// Fill `buf` from the process CSPRNG (seeded once from the OS, reseeded after fork).
pub fn random_bytes(buf: &mut [u8]) {
    let _ = buf;
    todo!("crypto owner")
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
