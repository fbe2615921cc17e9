//! DER definite lengths (X.690 §8.1.3, minimal as §10.1 requires): writing them and the
//! sizes of what they frame. Shared by the message encoders, the GSS token framing
//! (RFC 2743 §3.1) and SPNEGO.

/// Appends the DER encoding of `len`.
pub(crate) fn push_der_length(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
        return;
    }
    let bytes = (len as u64).to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count();
    out.push(0x80 | (bytes.len() - skip) as u8);
    out.extend_from_slice(&bytes[skip..]);
}

/// Octets of the DER encoding of `len`.
pub(crate) fn der_length_size(len: usize) -> usize {
    if len < 0x80 {
        1
    } else {
        1 + (usize::BITS as usize / 8 - len.leading_zeros() as usize / 8)
    }
}

/// Octets of a TLV with a one-octet identifier and `len` content octets.
pub(crate) fn tlv_size(len: usize) -> usize {
    1 + der_length_size(len) + len
}
