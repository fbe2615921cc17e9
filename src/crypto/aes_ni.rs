//! AES-128/256 (FIPS 197) on the x86-64 AES instructions, for the CBC-CS3 of
//! [`super::cts`], where the CPU has them (AES-NI and SSSE3; elsewhere `cts` uses the
//! `aes` crate).
//!
//! Why not the `aes` crate here: its key types carry the portable fallback's schedule as
//! well (an AES-256 key is 960 bytes, moved and wiped per key), and its key expansion runs
//! AESKEYGENASSIST, which this VM's AMD EPYC executes slowly: 135 ns per AES-256 schedule,
//! and an accept expands four (about a ninth of its time). This expansion computes
//! SubWord(RotWord(w)) ^ Rcon with AESENCLAST on the word broadcast to all four columns
//! (ShiftRows then moves nothing, so the round is SubBytes plus the XOR), and a schedule is
//! 15 round keys of 16 bytes per direction.
//!
//! Unsafe code: the AES instructions are `unsafe` to reach from code not compiled for
//! them. The invariant that makes every call sound is that a [`Schedule`] is only ever
//! made by [`Schedule::expand`] (and [`Schedule::invert`] of one), which runs only after
//! [`available`] saw AES-NI and SSSE3 on this CPU. The block functions take plain
//! references; loads and stores are unaligned and stay within 16-byte arrays.

#[cfg(target_arch = "x86_64")]
use core::arch::x86_64::*;

#[cfg(target_arch = "x86_64")]
use aes::cipher::{
    consts::{U16, U8},
    inout::InOut,
    Block, BlockBackend, BlockClosure, BlockSizeUser, ParBlocks, ParBlocksSizeUser,
};

/// Whether this CPU runs this module (checked once; `std` caches the answer).
pub(crate) fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("aes") && std::arch::is_x86_feature_detected!("ssse3")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The round keys of one direction, wiped on drop. `rounds` is 10 (AES-128) or 14
/// (AES-256); keys beyond it are zero.
#[cfg(target_arch = "x86_64")]
pub(crate) struct Schedule {
    rk: [__m128i; 15],
    rounds: usize,
}

#[cfg(target_arch = "x86_64")]
impl Drop for Schedule {
    fn drop(&mut self) {
        for k in self.rk.iter_mut() {
            // SAFETY: `k` is a valid, aligned, exclusive reference; a volatile write so
            // that the wipe is not optimised away.
            unsafe { core::ptr::write_volatile(k, _mm_setzero_si128()) };
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn load(b: &[u8; 16]) -> __m128i {
    // SAFETY: reads 16 bytes from a 16-byte array (unaligned load).
    unsafe { _mm_loadu_si128(b.as_ptr().cast()) }
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn store(b: &mut [u8; 16], v: __m128i) {
    // SAFETY: writes 16 bytes into a 16-byte array (unaligned store).
    unsafe { _mm_storeu_si128(b.as_mut_ptr().cast(), v) }
}

/// w0, w0^w1, w0^w1^w2, w0^w1^w2^w3 of a round key's four words: each new word of the
/// schedule is the previous one XOR the word one round key back.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "aes,ssse3")]
fn prefix_xor(k: __m128i) -> __m128i {
    let k = _mm_xor_si128(k, _mm_slli_si128::<4>(k));
    _mm_xor_si128(k, _mm_slli_si128::<8>(k))
}

/// SubWord(RotWord(word 3 of `k`)) XOR `rcon`, in all four words (`rotate`), or
/// SubWord(word 3) alone (AES-256's middle step).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "aes,ssse3")]
fn sub_word3(k: __m128i, rcon: i32, rotate: bool) -> __m128i {
    let broadcast = if rotate {
        _mm_setr_epi8(
            13, 14, 15, 12, 13, 14, 15, 12, 13, 14, 15, 12, 13, 14, 15, 12,
        )
    } else {
        _mm_setr_epi8(
            12, 13, 14, 15, 12, 13, 14, 15, 12, 13, 14, 15, 12, 13, 14, 15,
        )
    };
    _mm_aesenclast_si128(_mm_shuffle_epi8(k, broadcast), _mm_set1_epi32(rcon))
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "aes,ssse3")]
fn expand128(key: &[u8; 16]) -> Schedule {
    const RCON: [i32; 10] = [0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x1b, 0x36];
    let mut rk = [_mm_setzero_si128(); 15];
    rk[0] = load(key);
    for (i, rcon) in RCON.into_iter().enumerate() {
        rk[i + 1] = _mm_xor_si128(prefix_xor(rk[i]), sub_word3(rk[i], rcon, true));
    }
    Schedule { rk, rounds: 10 }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "aes,ssse3")]
fn expand256(key: &[u8; 32]) -> Schedule {
    const RCON: [i32; 7] = [0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40];
    let mut rk = [_mm_setzero_si128(); 15];
    let (lo, hi) = key.split_at(16);
    rk[0] = load(lo.try_into().unwrap_or(&[0; 16]));
    rk[1] = load(hi.try_into().unwrap_or(&[0; 16]));
    for (i, rcon) in RCON.into_iter().enumerate() {
        let n = 2 * i + 2;
        rk[n] = _mm_xor_si128(prefix_xor(rk[n - 2]), sub_word3(rk[n - 1], rcon, true));
        if n + 1 < 15 {
            rk[n + 1] = _mm_xor_si128(prefix_xor(rk[n - 1]), sub_word3(rk[n], 0, false));
        }
    }
    Schedule { rk, rounds: 14 }
}

/// The equivalent inverse cipher's round keys (FIPS 197 §5.3.5), in decryption order.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "aes,ssse3")]
fn invert(enc: &Schedule) -> Schedule {
    let n = enc.rounds;
    let mut rk = [_mm_setzero_si128(); 15];
    rk[0] = enc.rk[n];
    for (k, e) in rk[1..n].iter_mut().zip(enc.rk[1..n].iter().rev()) {
        *k = _mm_aesimc_si128(*e);
    }
    rk[n] = enc.rk[0];
    Schedule { rk, rounds: n }
}

#[cfg(target_arch = "x86_64")]
impl Schedule {
    /// The encryption schedule of a 16- or 32-byte key; `None` for another length or
    /// where the CPU lacks the instructions.
    pub(crate) fn expand(key: &[u8]) -> Option<Schedule> {
        if !available() {
            return None;
        }
        // SAFETY: `available()` just saw AES-NI and SSSE3.
        unsafe {
            match key.len() {
                16 => Some(expand128(key.try_into().ok()?)),
                32 => Some(expand256(key.try_into().ok()?)),
                _ => None,
            }
        }
    }

    /// The decryption schedule of an encryption schedule.
    pub(crate) fn invert(&self) -> Schedule {
        // SAFETY: a Schedule exists only where `available()` held (module invariant).
        unsafe { invert(self) }
    }

    /// Runs `job` with this (encryption) schedule as a block encryptor.
    pub(crate) fn encrypt_with(&self, job: impl BlockClosure<BlockSize = U16>) {
        #[target_feature(enable = "aes,ssse3")]
        fn inner(s: &Schedule, job: impl BlockClosure<BlockSize = U16>) {
            job.call(&mut Encryptor(s));
        }
        // SAFETY: a Schedule exists only where `available()` held (module invariant).
        unsafe { inner(self, job) }
    }

    /// Runs `job` with this (decryption, [`Schedule::invert`]) schedule as a block
    /// decryptor.
    pub(crate) fn decrypt_with(&self, job: impl BlockClosure<BlockSize = U16>) {
        #[target_feature(enable = "aes,ssse3")]
        fn inner(s: &Schedule, job: impl BlockClosure<BlockSize = U16>) {
            job.call(&mut Decryptor(s));
        }
        // SAFETY: as in `encrypt_with`.
        unsafe { inner(self, job) }
    }

    /// One block encrypted in place (a DK derivation's step, RFC 3961 §5.1).
    pub(crate) fn encrypt_block(&self, block: &mut [u8; 16]) {
        // SAFETY: as in `encrypt_with`.
        let v = unsafe { encrypt1(self, load(block)) };
        store(block, v);
    }
}

#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "aes,ssse3")]
fn encrypt1(s: &Schedule, b: __m128i) -> __m128i {
    let mut b = _mm_xor_si128(b, s.rk[0]);
    for k in &s.rk[1..s.rounds] {
        b = _mm_aesenc_si128(b, *k);
    }
    _mm_aesenclast_si128(b, s.rk[s.rounds])
}

#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "aes,ssse3")]
fn decrypt1(s: &Schedule, b: __m128i) -> __m128i {
    let mut b = _mm_xor_si128(b, s.rk[0]);
    for k in &s.rk[1..s.rounds] {
        b = _mm_aesdec_si128(b, *k);
    }
    _mm_aesdeclast_si128(b, s.rk[s.rounds])
}

/// Eight blocks through the decryption rounds side by side (CBC decryption is parallel;
/// the instruction's latency is hidden).
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "aes,ssse3")]
fn decrypt8(s: &Schedule, b: &mut [__m128i; 8]) {
    for x in b.iter_mut() {
        *x = _mm_xor_si128(*x, s.rk[0]);
    }
    for k in &s.rk[1..s.rounds] {
        for x in b.iter_mut() {
            *x = _mm_aesdec_si128(*x, *k);
        }
    }
    for x in b.iter_mut() {
        *x = _mm_aesdeclast_si128(*x, s.rk[s.rounds]);
    }
}

#[cfg(target_arch = "x86_64")]
fn block_bytes(b: &aes::Block) -> &[u8; 16] {
    b.as_ref()
}

#[cfg(target_arch = "x86_64")]
fn block_bytes_mut(b: &mut aes::Block) -> &mut [u8; 16] {
    b.as_mut()
}

/// A [`BlockBackend`] encrypting with a schedule (what `cts` runs CBC-CS3 on).
#[cfg(target_arch = "x86_64")]
struct Encryptor<'a>(&'a Schedule);

#[cfg(target_arch = "x86_64")]
impl BlockSizeUser for Encryptor<'_> {
    type BlockSize = U16;
}

#[cfg(target_arch = "x86_64")]
impl ParBlocksSizeUser for Encryptor<'_> {
    // CBC encryption is serial: blocks come one at a time.
    type ParBlocksSize = aes::cipher::consts::U1;
}

#[cfg(target_arch = "x86_64")]
impl BlockBackend for Encryptor<'_> {
    #[inline(always)]
    fn proc_block(&mut self, mut block: InOut<'_, '_, Block<Self>>) {
        let v = load(block_bytes(block.get_in()));
        // SAFETY: a Schedule exists only where `available()` held (module invariant).
        let v = unsafe { encrypt1(self.0, v) };
        store(block_bytes_mut(block.get_out()), v);
    }
}

/// A [`BlockBackend`] decrypting with an inverted schedule.
#[cfg(target_arch = "x86_64")]
struct Decryptor<'a>(&'a Schedule);

#[cfg(target_arch = "x86_64")]
impl BlockSizeUser for Decryptor<'_> {
    type BlockSize = U16;
}

#[cfg(target_arch = "x86_64")]
impl ParBlocksSizeUser for Decryptor<'_> {
    type ParBlocksSize = U8;
}

#[cfg(target_arch = "x86_64")]
impl BlockBackend for Decryptor<'_> {
    #[inline(always)]
    fn proc_block(&mut self, mut block: InOut<'_, '_, Block<Self>>) {
        let v = load(block_bytes(block.get_in()));
        // SAFETY: as in `Encryptor::proc_block`.
        let v = unsafe { decrypt1(self.0, v) };
        store(block_bytes_mut(block.get_out()), v);
    }

    #[inline(always)]
    fn proc_par_blocks(&mut self, mut blocks: InOut<'_, '_, ParBlocks<Self>>) {
        let mut v = [load(&[0; 16]); 8];
        for (x, b) in v.iter_mut().zip(blocks.get_in().iter()) {
            *x = load(block_bytes(b));
        }
        // SAFETY: as in `Encryptor::proc_block`.
        unsafe { decrypt8(self.0, &mut v) };
        for (x, b) in v.iter().zip(blocks.get_out().iter_mut()) {
            store(block_bytes_mut(b), *x);
        }
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;
    use aes::cipher::{BlockDecrypt, BlockEncrypt, KeyInit};

    /// FIPS 197 Appendix C.1 and C.3: the example vectors of AES-128 and AES-256.
    #[test]
    fn fips197_vectors() {
        if !available() {
            return;
        }
        let pt: [u8; 16] = core::array::from_fn(|i| (i as u8) * 0x11);
        for (key_len, ct) in [
            (16, "69c4e0d86a7b0430d8cdb78070b4c55a"),
            (32, "8ea2b7ca516745bfeafc49904b496089"),
        ] {
            let key: Vec<u8> = (0..key_len as u8).collect();
            let enc = Schedule::expand(&key).expect("AES-NI");
            let mut b = pt;
            enc.encrypt_block(&mut b);
            let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
            assert_eq!(hex, ct, "AES-{}", key_len * 8);
        }
    }

    /// Every output equals the `aes` crate's for many keys (the schedules, both
    /// directions, one and eight blocks at a time).
    #[test]
    fn equals_aes_crate() {
        if !available() {
            return;
        }
        let mut seed = 0x1234_5678_9abc_def0u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        };
        for round in 0..400 {
            let key_len = if round % 2 == 0 { 16 } else { 32 };
            let key: Vec<u8> = (0..key_len).map(|_| next()).collect();
            let blocks: Vec<[u8; 16]> = (0..11).map(|_| core::array::from_fn(|_| next())).collect();
            let enc = Schedule::expand(&key).expect("AES-NI");
            let dec = enc.invert();
            for b in &blocks {
                let mut want = aes::Block::clone_from_slice(b);
                let mut back = want;
                if key_len == 16 {
                    let c = aes::Aes128::new_from_slice(&key).unwrap();
                    c.encrypt_block(&mut want);
                    c.decrypt_block(&mut back);
                } else {
                    let c = aes::Aes256::new_from_slice(&key).unwrap();
                    c.encrypt_block(&mut want);
                    c.decrypt_block(&mut back);
                }
                let mut got = *b;
                enc.encrypt_block(&mut got);
                assert_eq!(&got[..], &want[..]);
                // SAFETY: `dec` was made on this CPU after `available()`.
                let d = unsafe { decrypt1(&dec, load(b)) };
                let mut got = [0u8; 16];
                store(&mut got, d);
                assert_eq!(&got[..], &back[..]);
            }
            // Eight at a time equals one at a time.
            let mut eight: [__m128i; 8] = core::array::from_fn(|i| load(&blocks[i]));
            // SAFETY: as above.
            unsafe { decrypt8(&dec, &mut eight) };
            for (i, x) in eight.iter().enumerate() {
                // SAFETY: as above.
                let one = unsafe { decrypt1(&dec, load(&blocks[i])) };
                let (mut a, mut b) = ([0u8; 16], [0u8; 16]);
                store(&mut a, *x);
                store(&mut b, one);
                assert_eq!(a, b);
            }
        }
        assert!(
            Schedule::expand(&[0u8; 24]).is_none(),
            "AES-192 is not used here"
        );
    }
}
