//! n-fold (RFC 3961 §5.1): stretch or shrink a byte string to `out_len` bytes so that
//! every input bit contributes equally to the output.
//!
//! Only used to expand the 5-byte usage constants and "kerberos" to one AES block,
//! so clarity beats speed here; the usage constants are tabled by the caller.

/// n-fold `input` to `out_len` bytes. An empty input or `out_len` of 0 gives zeros.
pub fn nfold(input: &[u8], out_len: usize) -> Vec<u8> {
    let mut out = vec![0u8; out_len];
    if input.is_empty() || out_len == 0 {
        return out;
    }
    // RFC 3961 §5.1: replicate the input to lcm(n, len(X)) bits, each repetition rotated
    // right by 13 bits more than the previous one, then add the n-bit chunks with
    // one's-complement (end-around carry) addition.
    let in_len = input.len();
    let lcm = in_len / gcd(in_len, out_len) * out_len;
    let in_bits = in_len * 8;
    let mut chunk = vec![0u8; out_len];
    let mut repetition_byte = vec![0u8; in_len];
    let mut filled = 0;
    for repetition in 0..lcm / in_len {
        rotate_right_bits(input, (13 * repetition) % in_bits, &mut repetition_byte);
        for &b in &repetition_byte {
            chunk[filled] = b;
            filled += 1;
            if filled == out_len {
                ones_complement_add(&mut out, &chunk);
                filled = 0;
            }
        }
    }
    out
}

fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// `out` = `input` (a big-endian bit string) rotated right by `shift` bits.
fn rotate_right_bits(input: &[u8], shift: usize, out: &mut [u8]) {
    let bits = input.len() * 8;
    let bit = |i: usize| (input[i / 8] >> (7 - i % 8)) & 1;
    for (byte_index, o) in out.iter_mut().enumerate() {
        let mut v = 0u8;
        for k in 0..8 {
            // Output bit j comes from input bit (j - shift) mod bits.
            let j = byte_index * 8 + k;
            v = (v << 1) | bit((j + bits - shift) % bits);
        }
        *o = v;
    }
}

/// `acc` += `x` as big-endian numbers with end-around carry.
fn ones_complement_add(acc: &mut [u8], x: &[u8]) {
    let mut carry = 0u32;
    for (a, b) in acc.iter_mut().zip(x).rev() {
        let sum = u32::from(*a) + u32::from(*b) + carry;
        *a = sum as u8;
        carry = sum >> 8;
    }
    // The carry out of the top wraps around to the bottom; it can ripple at most once
    // more because the sum is then below 2^n.
    while carry != 0 {
        for a in acc.iter_mut().rev() {
            let sum = u32::from(*a) + carry;
            *a = sum as u8;
            carry = sum >> 8;
            if carry == 0 {
                break;
            }
        }
    }
}
