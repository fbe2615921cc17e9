//! HMAC (RFC 2104) with the key already absorbed: the chaining values after the
//! ipad and opad blocks, kept with a derived key (Ki, Kc) so that each MAC skips the two
//! compression-function calls of the key schedule. For a 64-byte get_mic that is 5 → 3
//! SHA-1 or 4 → 2 SHA-384 compressions.
//!
//! The states are plain arrays, wiped on drop: the `hmac` crate's keyed state cannot be
//! zeroized, which is why it is not the type cached here. The compression functions are
//! the `sha1`/`sha2` crates' own (SHA-NI when the CPU has it); this module adds only the
//! Merkle–Damgård padding, tested against the `hmac` crate below.

use super::kdf::MacHash;
use sha1::digest::generic_array::typenum::{U128, U64};
use sha1::digest::generic_array::GenericArray;
use zeroize::Zeroize;

/// One hash's compression function, initial value and output encoding (FIPS 180-4).
trait Compress {
    type State: Copy + Zeroize;
    const BLOCK: usize;
    /// Bytes of the message length in the padding (64- or 128-bit).
    const LEN_BYTES: usize;
    const DIGEST: usize;
    const IV: Self::State;
    /// `blocks.len()` is a multiple of `BLOCK`.
    fn compress(state: &mut Self::State, blocks: &[u8]);
    /// The digest, big-endian, truncated to `out.len()` (at most the digest length).
    fn output(state: &Self::State, out: &mut [u8]);
}

/// Compresses `blocks` (a multiple of the block length `$block`) with `$f`, all in one
/// call and without a copy: the crates take a slice of their block type, which is
/// `[u8; $block]` underneath.
macro_rules! compress_bytes {
    ($f:path, $len:ty, $block:expr, $state:expr, $blocks:expr) => {{
        let (state, blocks): (_, &[u8]) = ($state, $blocks);
        let (whole, rest) = blocks.as_chunks::<$block>();
        debug_assert!(rest.is_empty(), "a multiple of the block length");
        // SAFETY: GenericArray<u8, N> is `#[repr(transparent)]` over an array of N bytes
        // (generic-array's own `from_slice` relies on it), so `whole.len()` arrays of
        // $block bytes are as many GenericArrays: same address, length and alignment 1.
        let ga: &[GenericArray<u8, $len>] =
            unsafe { std::slice::from_raw_parts(whole.as_ptr().cast(), whole.len()) };
        if !ga.is_empty() {
            $f(state, ga);
        }
    }};
}

/// Writes the state words `$words` big-endian (`$w` bytes each, `$len` in all) to `$out`,
/// truncated to its length: whole words at a time (a byte iterator cost ~10 instructions
/// per byte, several hundred per MAC).
macro_rules! output_be {
    ($words:expr, $w:literal, $len:literal, $out:expr) => {{
        let mut digest = [0u8; $len];
        for (d, w) in digest.as_chunks_mut::<$w>().0.iter_mut().zip($words) {
            *d = w.to_be_bytes();
        }
        let out: &mut [u8] = $out;
        let n = out.len().min($len);
        out[..n].copy_from_slice(&digest[..n]);
    }};
}

struct Sha1;
impl Compress for Sha1 {
    type State = [u32; 5];
    const BLOCK: usize = 64;
    const LEN_BYTES: usize = 8;
    const DIGEST: usize = 20;
    const IV: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    fn compress(state: &mut [u32; 5], blocks: &[u8]) {
        compress_bytes!(sha1::compress, U64, 64, state, blocks)
    }
    fn output(state: &[u32; 5], out: &mut [u8]) {
        output_be!(state, 4, 20, out)
    }
}

struct Sha256;
impl Compress for Sha256 {
    type State = [u32; 8];
    const BLOCK: usize = 64;
    const LEN_BYTES: usize = 8;
    const DIGEST: usize = 32;
    const IV: [u32; 8] = [
        0x6a09_e667,
        0xbb67_ae85,
        0x3c6e_f372,
        0xa54f_f53a,
        0x510e_527f,
        0x9b05_688c,
        0x1f83_d9ab,
        0x5be0_cd19,
    ];
    fn compress(state: &mut [u32; 8], blocks: &[u8]) {
        compress_bytes!(sha2::compress256, U64, 64, state, blocks)
    }
    fn output(state: &[u32; 8], out: &mut [u8]) {
        output_be!(state, 4, 32, out)
    }
}

/// SHA-384: SHA-512's compression with its own initial value, output truncated to 48.
struct Sha384;
impl Compress for Sha384 {
    type State = [u64; 8];
    const BLOCK: usize = 128;
    const LEN_BYTES: usize = 16;
    const DIGEST: usize = 48;
    const IV: [u64; 8] = [
        0xcbbb_9d5d_c105_9ed8,
        0x629a_292a_367c_d507,
        0x9159_015a_3070_dd17,
        0x152f_ecd8_f70e_5939,
        0x6733_2667_ffc0_0b31,
        0x8eb4_4a87_6858_1511,
        0xdb0c_2e0d_64f9_8fa7,
        0x47b5_481d_befa_4fa4,
    ];
    fn compress(state: &mut [u64; 8], blocks: &[u8]) {
        compress_bytes!(sha2::compress512, U128, 128, state, blocks)
    }
    fn output(state: &[u64; 8], out: &mut [u8]) {
        output_be!(&state[..6], 8, 48, out)
    }
}

/// The keyed inner and outer chaining values of one hash.
#[derive(Clone, Copy)]
struct Pads<H: Compress> {
    inner: H::State,
    outer: H::State,
}

impl<H: Compress> Pads<H> {
    /// `key` is at most one block (derived keys are 16–32 bytes).
    fn new(key: &[u8]) -> Pads<H> {
        assert!(key.len() <= H::BLOCK, "HMAC key longer than a block");
        let mut pad = [0u8; 128];
        let pad = &mut pad[..H::BLOCK];
        let mut keyed = |fill: u8| {
            pad.fill(fill);
            pad.iter_mut().zip(key).for_each(|(p, k)| *p ^= k);
            let mut st = H::IV;
            H::compress(&mut st, pad);
            st
        };
        let (inner, outer) = (keyed(0x36), keyed(0x5c));
        pad.zeroize();
        Pads { inner, outer }
    }

    /// HMAC over the concatenation of `parts`, truncated to `out.len()`.
    fn mac(&self, parts: &[&[u8]], out: &mut [u8]) {
        let mut st = self.inner;
        let mut buf = [0u8; 256];
        let mut held = 0usize;
        // The ipad block is already in `st`.
        let mut total = H::BLOCK as u128;
        for part in parts {
            total += part.len() as u128;
            let mut p: &[u8] = part;
            if held > 0 {
                let take = (H::BLOCK - held).min(p.len());
                buf[held..held + take].copy_from_slice(&p[..take]);
                held += take;
                p = &p[take..];
                if held < H::BLOCK {
                    continue;
                }
                H::compress(&mut st, &buf[..H::BLOCK]);
            }
            let whole = p.len() / H::BLOCK * H::BLOCK;
            H::compress(&mut st, &p[..whole]);
            let rest = &p[whole..];
            buf[..rest.len()].copy_from_slice(rest);
            held = rest.len();
        }
        let inner = finish::<H>(st, &mut buf, held, total);
        // Outer hash: opad block (in `outer`) | inner digest.
        let mut digest = [0u8; 64];
        let dlen = H::DIGEST;
        H::output(&inner, &mut digest[..dlen]);
        buf[..dlen].copy_from_slice(&digest[..dlen]);
        let outer = finish::<H>(self.outer, &mut buf, dlen, (H::BLOCK + dlen) as u128);
        H::output(&outer, out);
    }
}

/// Pads `buf[..held]` (the last partial block) with 0x80, zeros and the message length
/// in bits, big-endian, and compresses it (one or two blocks).
fn finish<H: Compress>(
    mut st: H::State,
    buf: &mut [u8; 256],
    held: usize,
    total: u128,
) -> H::State {
    let blocks = if held + 1 + H::LEN_BYTES <= H::BLOCK {
        1
    } else {
        2
    };
    let end = blocks * H::BLOCK;
    buf[held] = 0x80;
    buf[held + 1..end].fill(0);
    let bits = (total * 8).to_be_bytes();
    buf[end - H::LEN_BYTES..end].copy_from_slice(&bits[16 - H::LEN_BYTES..]);
    H::compress(&mut st, &buf[..end]);
    st
}

/// A derived HMAC key (Ki or Kc) as keyed HMAC states, wiped on drop.
pub(crate) struct KeyedMac(Pads3);

enum Pads3 {
    Sha1(Pads<Sha1>),
    Sha256(Pads<Sha256>),
    Sha384(Pads<Sha384>),
}

impl KeyedMac {
    /// HMAC with `hash`, keyed with `key` (at most one block).
    pub(crate) fn new(hash: MacHash, key: &[u8]) -> KeyedMac {
        KeyedMac(match hash {
            MacHash::Sha1 => Pads3::Sha1(Pads::new(key)),
            MacHash::Sha256 => Pads3::Sha256(Pads::new(key)),
            MacHash::Sha384 => Pads3::Sha384(Pads::new(key)),
        })
    }

    /// HMAC(key, concat(parts)), truncated to `out.len()` (at most the hash length).
    pub(crate) fn mac(&self, parts: &[&[u8]], out: &mut [u8]) {
        match &self.0 {
            Pads3::Sha1(p) => p.mac(parts, out),
            Pads3::Sha256(p) => p.mac(parts, out),
            Pads3::Sha384(p) => p.mac(parts, out),
        }
    }
}

impl Drop for KeyedMac {
    fn drop(&mut self) {
        match &mut self.0 {
            Pads3::Sha1(p) => (p.inner.zeroize(), p.outer.zeroize()),
            Pads3::Sha256(p) => (p.inner.zeroize(), p.outer.zeroize()),
            Pads3::Sha384(p) => (p.inner.zeroize(), p.outer.zeroize()),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::{Hmac, Mac};

    fn reference(hash: MacHash, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
        fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
            let mut m = <M as hmac::digest::KeyInit>::new_from_slice(key).unwrap();
            parts.iter().for_each(|p| m.update(p));
            m.finalize().into_bytes().to_vec()
        }
        match hash {
            MacHash::Sha1 => run::<Hmac<sha1::Sha1>>(key, parts),
            MacHash::Sha256 => run::<Hmac<sha2::Sha256>>(key, parts),
            MacHash::Sha384 => run::<Hmac<sha2::Sha384>>(key, parts),
        }
    }

    /// Every message length around the block and padding boundaries, split into parts
    /// at every kind of offset, equals the `hmac` crate.
    #[test]
    fn equals_hmac_crate() {
        let data: Vec<u8> = (0..2200u32).map(|i| (i * 31 + 7) as u8).collect();
        for (hash, full) in [
            (MacHash::Sha1, 20),
            (MacHash::Sha256, 32),
            (MacHash::Sha384, 48),
        ] {
            for key_len in [0usize, 16, 20, 24, 32, 64] {
                let key: Vec<u8> = (0..key_len as u8).map(|i| i ^ 0xa5).collect();
                let keyed = KeyedMac::new(hash, &key);
                let lens = (0..300).chain([1023, 1024, 1025, 2047, 2048, 2049, 2200]);
                for len in lens {
                    let msg = &data[..len];
                    let want = reference(hash, &key, &[msg]);
                    for split in [0, 1, 16, 63, 64, 65, 127, 128, 129] {
                        let split = split.min(len);
                        let (a, b) = msg.split_at(split);
                        let third = b.len() / 2;
                        let (b, c) = b.split_at(third);
                        let mut out = vec![0u8; full];
                        keyed.mac(&[a, b, &[], c], &mut out);
                        assert_eq!(out, want, "len {len} split {split} key {key_len}");
                    }
                    let mut short = [0u8; 12];
                    keyed.mac(&[msg], &mut short);
                    assert_eq!(short[..], want[..12]);
                }
            }
        }
    }
}
