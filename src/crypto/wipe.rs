//! Wiping secret bytes that are about to be dropped (decrypted plaintexts holding keys).
//!
//! `zeroize` writes one volatile byte at a time so that the compiler cannot drop the
//! stores; for the kilobyte plaintext of a ticket that is a store per byte on the accept
//! path. `explicit_bzero` (glibc 2.25, musl) is a memset the compiler must keep,
//! at memset speed. Elsewhere, `zeroize`.

/// Overwrites `buf` with zeros in a way the compiler does not remove as a dead store.
pub fn wipe(buf: &mut [u8]) {
    #[cfg(target_os = "linux")]
    // SAFETY: `buf` is a valid, writable region of `buf.len()` bytes for the call.
    unsafe {
        libc::explicit_bzero(buf.as_mut_ptr().cast(), buf.len())
    }
    #[cfg(not(target_os = "linux"))]
    zeroize::Zeroize::zeroize(buf)
}

#[cfg(test)]
mod tests {
    use super::wipe;

    #[test]
    fn wipes_every_byte() {
        for len in [0, 1, 15, 16, 17, 1000, 4099] {
            let mut v: Vec<u8> = (0..len).map(|i| (i % 251 + 1) as u8).collect();
            wipe(&mut v[..]);
            assert!(v.iter().all(|&b| b == 0), "len {len}");
        }
        // A sub-slice only: its neighbours stay.
        let mut v = [7u8; 64];
        wipe(&mut v[8..40]);
        assert!(v[..8].iter().chain(&v[40..]).all(|&b| b == 7));
        assert!(v[8..40].iter().all(|&b| b == 0));
    }
}
