//! AES in CBC mode with ciphertext stealing, "CBC-CS3" (RFC 3962 §5), zero IV.
//!
//! Kerberos always steals from the last two blocks: a message whose length is a multiple
//! of 16 comes out as plain CBC with the last two ciphertext blocks swapped, and a
//! message of exactly one block is plain AES (ECB) of that block. Messages shorter than
//! a block never occur (the confounder alone is one block) and are rejected.
//!
//! The data is passed as `head` (the first block) and `rest`, so that a caller can keep
//! the first block somewhere else (decrypt drops the confounder without a memmove).

use aes::cipher::consts::U16;
use aes::cipher::generic_array::GenericArray;
use aes::cipher::typenum::Unsigned;
use aes::cipher::{
    Block, BlockBackend, BlockClosure, BlockDecrypt, BlockEncrypt, BlockSizeUser, KeyInit,
    ParBlocks,
};
use aes::{Aes128, Aes128Enc, Aes256, Aes256Enc};

#[cfg(target_arch = "x86_64")]
use super::aes_ni;
use super::CryptoError;

pub(crate) const BLOCK: usize = 16;

/// An expanded AES key for both directions: on AES-NI CPUs the two schedules of
/// [`super::aes_ni`] (480 bytes), elsewhere the `aes` crate's (zeroized on drop by its
/// `zeroize` feature).
// The variants differ by ~500 bytes; boxing the larger ones would add a pointer chase to
// every block operation, and the cached EncKeys that holds this is boxed already.
#[allow(clippy::large_enum_variant)]
pub(crate) enum AesKey {
    #[cfg(target_arch = "x86_64")]
    Ni {
        enc: aes_ni::Schedule,
        dec: aes_ni::Schedule,
    },
    Aes128(Aes128),
    Aes256(Aes256),
}

/// An AES key expanded for encryption only: the base key of a DK derivation (RFC 3961
/// §5.1 only encrypts), which need not compute the decryption schedule as [`AesKey`] does.
// Short-lived (one derivation, on the stack): the variants' size difference costs nothing.
#[allow(clippy::large_enum_variant)]
pub(crate) enum AesEncKey {
    #[cfg(target_arch = "x86_64")]
    Ni(aes_ni::Schedule),
    Aes128(Aes128Enc),
    Aes256(Aes256Enc),
}

impl AesEncKey {
    pub(crate) fn new(key: &[u8]) -> Result<AesEncKey, CryptoError> {
        match key.len() {
            16 | 32 => Ok(AesEncKey::expand(key)),
            _ => Err(CryptoError::BadKeySize),
        }
    }

    /// [`AesEncKey::new`] for a key of a valid length (a [`crate::crypto::Key`]'s or a
    /// derived key's): returned directly, not through a `Result`, so that the schedule is
    /// built in the caller's place rather than copied out.
    pub(crate) fn expand(key: &[u8]) -> AesEncKey {
        #[cfg(target_arch = "x86_64")]
        if let Some(s) = aes_ni::Schedule::expand(key) {
            return AesEncKey::Ni(s);
        }
        match key.len() {
            16 => AesEncKey::Aes128(Aes128Enc::new(GenericArray::from_slice(key))),
            32 => AesEncKey::Aes256(Aes256Enc::new(GenericArray::from_slice(key))),
            n => unreachable!("AES keys are 16 or 32 bytes, not {n}"),
        }
    }

    /// One raw AES block encryption.
    pub(crate) fn encrypt_block(&self, block: &mut [u8; BLOCK]) {
        match self {
            #[cfg(target_arch = "x86_64")]
            AesEncKey::Ni(s) => s.encrypt_block(block),
            AesEncKey::Aes128(c) => c.encrypt_block(Block::<Aes128>::from_mut_slice(block)),
            AesEncKey::Aes256(c) => c.encrypt_block(Block::<Aes128>::from_mut_slice(block)),
        }
    }
}

/// An AES encryption schedule small enough for a key to keep: the AES-NI round keys
/// (240 bytes, wiped on drop), for the DK base of a key that derives several usages
/// (RFC 3961 §5.1). There is none where the CPU lacks AES-NI: the `aes` crate's fixsliced
/// schedule is ~1 KB, and is expanded per derivation instead ([`AesEncKey`]).
pub(crate) struct KeptEncKey {
    #[cfg(target_arch = "x86_64")]
    schedule: aes_ni::Schedule,
    #[cfg(not(target_arch = "x86_64"))]
    never: std::convert::Infallible,
}

impl KeptEncKey {
    /// `key` is 16 or 32 bytes; `None` without AES-NI.
    pub(crate) fn expand(key: &[u8]) -> Option<KeptEncKey> {
        #[cfg(target_arch = "x86_64")]
        return aes_ni::Schedule::expand(key).map(|schedule| KeptEncKey { schedule });
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = key;
            None
        }
    }

    /// One raw AES block encryption.
    pub(crate) fn encrypt_block(&self, block: &mut [u8; BLOCK]) {
        #[cfg(target_arch = "x86_64")]
        self.schedule.encrypt_block(block);
        #[cfg(not(target_arch = "x86_64"))]
        match self.never {}
    }
}

/// CBC-CS3 encryption, with a key for both directions ([`AesKey`], cached with a usage's
/// keys) or for encryption only ([`AesEncKey`], a key sealing once).
pub(crate) trait EncryptCs3 {
    /// CBC-CS3 encrypt `head || rest` in place.
    fn encrypt_cs3(&self, head: &mut [u8; BLOCK], rest: &mut [u8]);
}

impl EncryptCs3 for AesKey {
    fn encrypt_cs3(&self, head: &mut [u8; BLOCK], rest: &mut [u8]) {
        AesKey::encrypt_cs3(self, head, rest)
    }
}

impl EncryptCs3 for AesEncKey {
    fn encrypt_cs3(&self, head: &mut [u8; BLOCK], rest: &mut [u8]) {
        let job = Cs3Encrypt { head, rest };
        match self {
            #[cfg(target_arch = "x86_64")]
            AesEncKey::Ni(s) => s.encrypt_with(job),
            AesEncKey::Aes128(c) => c.encrypt_with_backend(job),
            AesEncKey::Aes256(c) => c.encrypt_with_backend(job),
        }
    }
}

impl AesKey {
    pub(crate) fn new(key: &[u8]) -> Result<AesKey, CryptoError> {
        match key.len() {
            16 | 32 => Ok(AesKey::expand(key)),
            _ => Err(CryptoError::BadKeySize),
        }
    }

    /// [`AesKey::new`] for a key of a valid length, built in the caller's place (see
    /// [`AesEncKey::expand`]).
    pub(crate) fn expand(key: &[u8]) -> AesKey {
        #[cfg(target_arch = "x86_64")]
        if let Some(enc) = aes_ni::Schedule::expand(key) {
            let dec = enc.invert();
            return AesKey::Ni { enc, dec };
        }
        match key.len() {
            16 => AesKey::Aes128(Aes128::new(GenericArray::from_slice(key))),
            32 => AesKey::Aes256(Aes256::new(GenericArray::from_slice(key))),
            n => unreachable!("AES keys are 16 or 32 bytes, not {n}"),
        }
    }

    /// CBC-CS3 encrypt `head || rest` in place.
    pub(crate) fn encrypt_cs3(&self, head: &mut [u8; BLOCK], rest: &mut [u8]) {
        let job = Cs3Encrypt { head, rest };
        match self {
            #[cfg(target_arch = "x86_64")]
            AesKey::Ni { enc, .. } => enc.encrypt_with(job),
            AesKey::Aes128(c) => c.encrypt_with_backend(job),
            AesKey::Aes256(c) => c.encrypt_with_backend(job),
        }
    }

    /// CBC-CS3 decrypt `head || rest` in place.
    pub(crate) fn decrypt_cs3(&self, head: &mut [u8; BLOCK], rest: &mut [u8]) {
        let job = Cs3Decrypt { head, rest };
        match self {
            #[cfg(target_arch = "x86_64")]
            AesKey::Ni { dec, .. } => dec.decrypt_with(job),
            AesKey::Aes128(c) => c.decrypt_with_backend(job),
            AesKey::Aes256(c) => c.decrypt_with_backend(job),
        }
    }
}

/// FUZZING HOOK, not an API: CBC-CS3 both ways and single blocks with the keys of
/// [`AesKey::expand`], [`AesEncKey::expand`] and [`KeptEncKey::expand`] (the AES-NI schedules of
/// [`super::aes_ni`] where the CPU has them) against the `aes` crate's, panicking on any
/// difference. Input: byte 0 picks AES-128 (even) or AES-256 (odd), then the key, then
/// a message of at least one block.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub fn fuzz_aes_differential(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let key_len = if pick & 1 == 0 { 16 } else { 32 };
    if rest.len() < key_len + BLOCK {
        return;
    }
    let (key, msg) = rest.split_at(key_len);
    let reference = match key_len {
        16 => AesKey::Aes128(Aes128::new(GenericArray::from_slice(key))),
        _ => AesKey::Aes256(Aes256::new(GenericArray::from_slice(key))),
    };
    let ours = AesKey::expand(key);
    let run = |k: &AesKey, encrypt: bool| {
        let mut buf = msg.to_vec();
        if let Some((head, rest)) = buf.split_first_chunk_mut::<BLOCK>() {
            if encrypt {
                k.encrypt_cs3(head, rest);
            } else {
                k.decrypt_cs3(head, rest);
            }
        }
        buf
    };
    let sealed = run(&ours, true);
    assert_eq!(sealed, run(&reference, true), "CBC-CS3 encryption differs");
    let mut enc_only = msg.to_vec();
    if let Some((head, rest)) = enc_only.split_first_chunk_mut::<BLOCK>() {
        EncryptCs3::encrypt_cs3(&AesEncKey::expand(key), head, rest);
    }
    assert_eq!(
        enc_only, sealed,
        "CBC-CS3 encryption with AesEncKey differs"
    );
    assert_eq!(
        run(&ours, false),
        run(&reference, false),
        "CBC-CS3 decryption differs"
    );
    let mut back = sealed;
    if let Some((head, rest)) = back.split_first_chunk_mut::<BLOCK>() {
        ours.decrypt_cs3(head, rest);
    }
    assert_eq!(back, msg, "CBC-CS3 does not invert");
    let mut a = [0u8; BLOCK];
    a.copy_from_slice(&msg[..BLOCK]);
    let mut b = a;
    AesEncKey::expand(key).encrypt_block(&mut a);
    match key_len {
        16 => AesEncKey::Aes128(Aes128Enc::new(GenericArray::from_slice(key))),
        _ => AesEncKey::Aes256(Aes256Enc::new(GenericArray::from_slice(key))),
    }
    .encrypt_block(&mut b);
    assert_eq!(a, b, "block encryption differs");
    if let Some(kept) = KeptEncKey::expand(key) {
        let mut c = [0u8; BLOCK];
        c.copy_from_slice(&msg[..BLOCK]);
        kept.encrypt_block(&mut c);
        assert_eq!(c, b, "block encryption with KeptEncKey differs");
    }
}

/// Encrypt `buf` in place with AES-CBC-CS3 under `key` (16 or 32 bytes) and a zero IV.
/// `buf` must hold at least one block.
pub fn aes_cts_encrypt(key: &[u8], buf: &mut [u8]) -> Result<(), CryptoError> {
    let aes = AesKey::new(key)?;
    let (head, rest) = buf
        .split_first_chunk_mut::<BLOCK>()
        .ok_or(CryptoError::BadLength)?;
    aes.encrypt_cs3(head, rest);
    Ok(())
}

/// Decrypt `buf` in place with AES-CBC-CS3 under `key` (16 or 32 bytes) and a zero IV.
/// `buf` must hold at least one block.
pub fn aes_cts_decrypt(key: &[u8], buf: &mut [u8]) -> Result<(), CryptoError> {
    let aes = AesKey::new(key)?;
    let (head, rest) = buf
        .split_first_chunk_mut::<BLOCK>()
        .ok_or(CryptoError::BadLength)?;
    aes.decrypt_cs3(head, rest);
    Ok(())
}

/// Length of the final (possibly partial) block of `rest`, when `rest` is not empty.
fn tail_len(rest_len: usize) -> usize {
    (rest_len - 1) % BLOCK + 1
}

/// XOR of a partial block (the stolen tail only).
fn xor_into(dst: &mut [u8], src: &[u8]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d ^= s;
    }
}

/// XOR of a whole block, as one 128-bit operation: the byte loop of `xor_into` over
/// slices of unknown length was more than half of a CBC decryption's time.
#[inline(always)]
fn xor_block(dst: &mut [u8; BLOCK], src: &[u8; BLOCK]) {
    *dst = (u128::from_ne_bytes(*dst) ^ u128::from_ne_bytes(*src)).to_ne_bytes();
}

fn block_array<B: BlockSizeUser<BlockSize = U16>>(b: &Block<B>) -> &[u8; BLOCK] {
    b.as_ref()
}

fn block_array_mut<B: BlockSizeUser<BlockSize = U16>>(b: &mut Block<B>) -> &mut [u8; BLOCK] {
    b.as_mut()
}

struct Cs3Encrypt<'a> {
    head: &'a mut [u8; BLOCK],
    rest: &'a mut [u8],
}

impl BlockSizeUser for Cs3Encrypt<'_> {
    type BlockSize = U16;
}

impl BlockClosure for Cs3Encrypt<'_> {
    fn call<B: BlockBackend<BlockSize = U16>>(self, backend: &mut B) {
        let Cs3Encrypt { head, rest } = self;
        // First block: IV is zero, so C_1 = E(P_1).
        let mut chain = Block::<Self>::from(*head);
        backend.proc_block_inplace(&mut chain);
        head.copy_from_slice(&chain);
        if rest.is_empty() {
            return; // exactly one block: plain AES (RFC 3962 §5)
        }
        let d = tail_len(rest.len());
        let split = rest.len() - d;
        let (body, tail) = rest.split_at_mut(split);
        // Plain CBC up to and including the last full block.
        for block in body.as_chunks_mut::<BLOCK>().0 {
            xor_block(block_array_mut::<Self>(&mut chain), block);
            backend.proc_block_inplace(&mut chain);
            *block = *block_array::<Self>(&chain);
        }
        // chain = C_{n-1}. The last block, zero-padded, is chained to it:
        // C_n = E(C_{n-1} XOR (P_n || 0...)); the output ends with C_n, then the
        // first d bytes of C_{n-1} (the last two blocks swapped, C_{n-1} truncated).
        let mut last = chain;
        xor_into(&mut last[..d], tail);
        backend.proc_block_inplace(&mut last);
        tail.copy_from_slice(&chain[..d]);
        let penultimate: &mut [u8] = if body.is_empty() {
            head
        } else {
            let at = body.len() - BLOCK;
            &mut body[at..]
        };
        penultimate.copy_from_slice(&last);
    }
}

struct Cs3Decrypt<'a> {
    head: &'a mut [u8; BLOCK],
    rest: &'a mut [u8],
}

impl BlockSizeUser for Cs3Decrypt<'_> {
    type BlockSize = U16;
}

impl BlockClosure for Cs3Decrypt<'_> {
    fn call<B: BlockBackend<BlockSize = U16>>(self, backend: &mut B) {
        let Cs3Decrypt { head, rest } = self;
        let mut block = Block::<Self>::from(*head);
        if rest.is_empty() {
            backend.proc_block_inplace(&mut block);
            head.copy_from_slice(&block);
            return;
        }
        let d = tail_len(rest.len());
        let split = rest.len() - d;
        let (body, tail) = rest.split_at_mut(split);
        if body.is_empty() {
            // Two blocks in all: the head holds the stolen C_n.
            decrypt_stolen_pair(backend, head, tail, &Block::<Self>::default());
            return;
        }
        // Plain CBC for every block before the last full one; chain starts at IV = 0.
        backend.proc_block_inplace(&mut block);
        let chain_start = Block::<Self>::from(*head);
        head.copy_from_slice(&block);
        let mut chain = chain_start;
        let (normal, penultimate) = body.split_at_mut(body.len() - BLOCK);
        cbc_decrypt_blocks(backend, normal, &mut chain);
        if let Some(penultimate) = penultimate.first_chunk_mut::<BLOCK>() {
            decrypt_stolen_pair(backend, penultimate, tail, &chain);
        }
    }
}

/// Plain CBC decryption of whole blocks in place, several blocks at a time where the
/// backend is parallel (CBC decryption, unlike encryption, parallelises).
fn cbc_decrypt_blocks<B: BlockBackend<BlockSize = U16>>(
    backend: &mut B,
    blocks: &mut [u8],
    chain: &mut Block<B>,
) {
    let par = B::ParBlocksSize::USIZE;
    let mut chunks = blocks.chunks_exact_mut(BLOCK * par);
    let mut prev = *block_array::<B>(chain);
    for chunk in &mut chunks {
        let mut work = ParBlocks::<B>::default();
        for (w, c) in work.iter_mut().zip(chunk.as_chunks::<BLOCK>().0) {
            *block_array_mut::<B>(w) = *c;
        }
        backend.proc_par_blocks_inplace(&mut work);
        // P_j = D(C_j) XOR C_{j-1}, front to back, keeping C_j before it is overwritten.
        for (w, c) in work.iter().zip(chunk.as_chunks_mut::<BLOCK>().0) {
            let cipher = *c;
            *c = *block_array::<B>(w);
            xor_block(c, &prev);
            prev = cipher;
        }
    }
    for block in chunks.into_remainder().as_chunks_mut::<BLOCK>().0 {
        let cipher = *block;
        let mut work = Block::<B>::from(cipher);
        backend.proc_block_inplace(&mut work);
        *block = *block_array::<B>(&work);
        xor_block(block, &prev);
        prev = cipher;
    }
    *block_array_mut::<B>(chain) = prev;
}

/// Undo the stealing on the last two blocks: `stolen` holds C_n (a full block), `tail`
/// the first d bytes of C_{n-1}; `chain` is the ciphertext block before C_{n-1}.
fn decrypt_stolen_pair<B: BlockBackend<BlockSize = U16>>(
    backend: &mut B,
    stolen: &mut [u8; BLOCK],
    tail: &mut [u8],
    chain: &Block<B>,
) {
    let d = tail.len();
    // D(C_n) = C_{n-1} XOR (P_n || 0...): its last 16-d bytes are those of C_{n-1}.
    let mut padded = Block::<B>::from(*stolen);
    backend.proc_block_inplace(&mut padded);
    let mut prev_cipher = padded;
    prev_cipher[..d].copy_from_slice(tail);
    xor_into(tail, &padded[..d]); // P_n
    backend.proc_block_inplace(&mut prev_cipher);
    xor_block(
        block_array_mut::<B>(&mut prev_cipher),
        block_array::<B>(chain),
    ); // P_{n-1}
    stolen.copy_from_slice(&prev_cipher);
}
