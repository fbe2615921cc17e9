//! GSS-API token framing for the krb5 mechanism: the InitialContextToken of RFC 2743 §3.1
//! with the krb5 mechanism OID and the two-byte TOK_ID of RFC 4121 §4.1:
//!
//! `0x60 <DER length> 06 09 2a 86 48 86 f7 12 01 02 02 <TOK_ID 2 bytes> <inner token>`
//!
//! Errors follow MIT's `g_verify_token_header` (util_token.c): any framing defect is
//! `GSS_S_DEFECTIVE_TOKEN` with minor `G_BAD_TOK_HEADER`, a well-formed header with another
//! mechanism OID gives `G_WRONG_MECH`. We are stricter than MIT on one point: the DER length
//! must be minimally encoded (RFC 2743 §3.1 requires DER), so a token with a padded length
//! is rejected instead of accepted.

use crate::asn1::{der_length_size, push_der_length};
use crate::error::{minor, Error};

/// The DER TLV of the krb5 mechanism OID 1.2.840.113554.1.2.2 (RFC 1964 §1).
pub const KRB5_MECH_OID: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02,
];

/// TOK_ID values of the context-establishment tokens (RFC 4121 §4.1).
pub const TOK_AP_REQ: [u8; 2] = [0x01, 0x00];
pub const TOK_AP_REP: [u8; 2] = [0x02, 0x00];
pub const TOK_KRB_ERROR: [u8; 2] = [0x03, 0x00];

/// Tag of the RFC 2743 §3.1 token: [APPLICATION 0] constructed.
const APPLICATION_0: u8 = 0x60;
/// The longest length field we read: four length octets (tokens under 4 GiB), as MIT does.
const MAX_LENGTH_OCTETS: usize = 4;

/// Builds the framed token around `inner` (the AP-REQ, AP-REP or KRB-ERROR DER).
pub fn frame(tok_id: [u8; 2], inner: &[u8]) -> Vec<u8> {
    frame_parts(KRB5_MECH_OID, &[&tok_id, inner])
}

/// [`frame`] with the inner token appended in place by `f` (no copy of it); `inner_len`
/// is the length `f` appends, so that the token is allocated once at its final size (a
/// reply is handed to the caller and may be kept).
pub(crate) fn frame_with(
    tok_id: [u8; 2],
    inner_len: usize,
    f: impl FnOnce(&mut Vec<u8>),
) -> Vec<u8> {
    let body_len = KRB5_MECH_OID.len() + 2 + inner_len;
    let mut out = Vec::with_capacity(1 + der_length_size(body_len) + body_len);
    out.push(APPLICATION_0);
    push_der_length(&mut out, body_len);
    out.extend_from_slice(KRB5_MECH_OID);
    out.extend_from_slice(&tok_id);
    f(&mut out);
    debug_assert_eq!(
        out.len(),
        out.capacity(),
        "`f` appends exactly `inner_len` bytes"
    );
    out
}

/// An RFC 2743 §3.1 InitialContextToken for any mechanism: `0x60 <length> <oid_tlv>`
/// followed by `parts` (SPNEGO frames its NegTokenInit with this too).
pub(crate) fn frame_parts(oid_tlv: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let body_len = oid_tlv.len() + parts.iter().map(|p| p.len()).sum::<usize>();
    let mut out = Vec::with_capacity(1 + der_length_size(body_len) + body_len);
    out.push(APPLICATION_0);
    push_der_length(&mut out, body_len);
    out.extend_from_slice(oid_tlv);
    for p in parts {
        out.extend_from_slice(p);
    }
    out
}

fn bad_header(detail: &str) -> Error {
    Error::defective_token(minor::G_BAD_TOK_HEADER, detail)
}

/// Reads a strict DER definite length; returns (length, bytes consumed).
fn read_der_length(buf: &[u8]) -> Result<(usize, usize), Error> {
    let first = *buf
        .first()
        .ok_or_else(|| bad_header("token has no length"))?;
    if first < 0x80 {
        return Ok((first as usize, 1));
    }
    let count = (first & 0x7f) as usize;
    if count == 0 {
        return Err(bad_header("indefinite length in token header"));
    }
    if count > MAX_LENGTH_OCTETS {
        return Err(bad_header("token length field too long"));
    }
    let octets = buf
        .get(1..1 + count)
        .ok_or_else(|| bad_header("token length truncated"))?;
    if octets[0] == 0 {
        return Err(bad_header("token length not minimally encoded"));
    }
    let len = octets
        .iter()
        .fold(0usize, |acc, &b| (acc << 8) | b as usize);
    if len < 0x80 {
        return Err(bad_header("token length not minimally encoded"));
    }
    Ok((len, 1 + count))
}

/// Splits an RFC 2743 §3.1 InitialContextToken into the TLV of its mechanism OID and
/// what follows it, checking the 0x60 wrapper (mechanism-independent, as MIT's
/// `g_verify_token_header`).
pub(crate) fn split_initial(token: &[u8]) -> Result<(&[u8], &[u8]), Error> {
    match token.first() {
        Some(&APPLICATION_0) => {}
        Some(_) => return Err(bad_header("token does not start with 0x60")),
        None => return Err(bad_header("empty token")),
    }
    let (seq_len, len_size) = read_der_length(&token[1..])?;
    let body = &token[1 + len_size..];
    // MIT requires the outer length to cover the rest of the buffer exactly.
    if seq_len != body.len() {
        return Err(bad_header("token length does not match the data"));
    }
    if body.first() != Some(&0x06) {
        return Err(bad_header("token has no mechanism OID"));
    }
    let oid_len = *body
        .get(1)
        .ok_or_else(|| bad_header("mechanism OID truncated"))? as usize;
    let oid_tlv = body
        .get(..2 + oid_len)
        .ok_or_else(|| bad_header("mechanism OID truncated"))?;
    Ok((oid_tlv, &body[2 + oid_len..]))
}

/// Checks the 0x60 wrapper and the mechanism OID; returns what follows the OID.
/// Shared by [`unframe`] and by per-message tokens that MIT also accepts wrapped.
pub(crate) fn strip_wrapper(token: &[u8]) -> Result<&[u8], Error> {
    let (oid_tlv, rest) = split_initial(token)?;
    if oid_tlv != KRB5_MECH_OID {
        return Err(Error::defective_token(
            minor::G_WRONG_MECH,
            "token is not for the krb5 mechanism",
        ));
    }
    Ok(rest)
}

/// Parses a framed krb5 token, returning its TOK_ID and inner bytes (RFC 2743 §3.1).
pub fn unframe(token: &[u8]) -> Result<([u8; 2], &[u8]), Error> {
    let rest = strip_wrapper(token)?;
    if rest.len() < 2 {
        return Err(bad_header("token has no TOK_ID"));
    }
    Ok(([rest[0], rest[1]], &rest[2..]))
}

/// [`unframe`] that also requires a given TOK_ID (`G_WRONG_TOKID` otherwise, as MIT).
pub fn unframe_expect(token: &[u8], tok_id: [u8; 2]) -> Result<&[u8], Error> {
    let (got, inner) = unframe(token)?;
    if got != tok_id {
        return Err(Error::defective_token(
            minor::G_WRONG_TOKID,
            "unexpected TOK_ID",
        ));
    }
    Ok(inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::major;

    fn minor_of(r: Result<([u8; 2], &[u8]), Error>) -> i32 {
        let e = r.unwrap_err();
        assert_eq!(e.major, major::DEFECTIVE_TOKEN);
        e.minor
    }

    #[test]
    fn length_forms() {
        for len in [
            0usize, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0xff_ffff, 0x100_0000,
        ] {
            let mut v = Vec::new();
            push_der_length(&mut v, len);
            assert_eq!(v.len(), der_length_size(len), "len {len}");
            assert_eq!(read_der_length(&v).unwrap(), (len, v.len()));
        }
    }

    #[test]
    fn round_trip_sizes() {
        for n in [
            0usize, 1, 100, 114, 115, 116, 200, 240, 241, 242, 300, 65_000, 70_000,
        ] {
            let inner: Vec<u8> = (0..n).map(|i| i as u8).collect();
            let tok = frame(TOK_AP_REP, &inner);
            let (id, got) = unframe(&tok).unwrap();
            assert_eq!(id, TOK_AP_REP);
            assert_eq!(got, &inner[..]);
            assert_eq!(unframe_expect(&tok, TOK_AP_REP).unwrap(), &inner[..]);
            assert_eq!(
                unframe_expect(&tok, TOK_AP_REQ).unwrap_err().minor,
                minor::G_WRONG_TOKID
            );
        }
    }

    #[test]
    fn hostile_framing() {
        let good = frame(TOK_AP_REQ, b"abc");
        assert_eq!(good[1] as usize, good.len() - 2);
        // Every proper prefix is rejected, never panics.
        for cut in 0..good.len() {
            assert_eq!(
                minor_of(unframe(&good[..cut])),
                minor::G_BAD_TOK_HEADER,
                "cut {cut}"
            );
        }
        // Trailing byte.
        let mut t = good.clone();
        t.push(0);
        assert_eq!(minor_of(unframe(&t)), minor::G_BAD_TOK_HEADER);
        // Wrong tag.
        let mut t = good.clone();
        t[0] = 0x61;
        assert_eq!(minor_of(unframe(&t)), minor::G_BAD_TOK_HEADER);
        // Indefinite length.
        let mut t = good.clone();
        t[1] = 0x80;
        assert_eq!(minor_of(unframe(&t)), minor::G_BAD_TOK_HEADER);
        // Non-minimal long form 0x81 0x10.
        let mut t = vec![0x60, 0x81, good[1]];
        t.extend_from_slice(&good[2..]);
        assert_eq!(minor_of(unframe(&t)), minor::G_BAD_TOK_HEADER);
        // Leading zero length octet 0x82 0x00 0x10.
        let mut t = vec![0x60, 0x82, 0x00, good[1]];
        t.extend_from_slice(&good[2..]);
        assert_eq!(minor_of(unframe(&t)), minor::G_BAD_TOK_HEADER);
        // Five length octets and a huge claimed length.
        let t = [0x60, 0x85, 1, 0, 0, 0, 0, 6];
        assert_eq!(minor_of(unframe(&t)), minor::G_BAD_TOK_HEADER);
        let t = [0x60, 0x84, 0xff, 0xff, 0xff, 0xff, 6];
        assert_eq!(minor_of(unframe(&t)), minor::G_BAD_TOK_HEADER);
        // Not an OID tag.
        let mut t = good.clone();
        t[2] = 0x04;
        assert_eq!(minor_of(unframe(&t)), minor::G_BAD_TOK_HEADER);
        // OID length past the end.
        let mut t = good.clone();
        t[3] = 0x7f;
        assert_eq!(minor_of(unframe(&t)), minor::G_BAD_TOK_HEADER);
        // Another mechanism (SPNEGO 1.3.6.1.5.5.2) and the old krb5 OID.
        let spnego = [
            0x60, 0x0a, 0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02, 0x01, 0x00,
        ];
        assert_eq!(minor_of(unframe(&spnego)), minor::G_WRONG_MECH);
        let mut t = good.clone();
        t[12] = 0x03;
        assert_eq!(minor_of(unframe(&t)), minor::G_WRONG_MECH);
        // OID right but no room for TOK_ID.
        let mut t = vec![0x60, (KRB5_MECH_OID.len() + 1) as u8];
        t.extend_from_slice(KRB5_MECH_OID);
        t.push(1);
        assert_eq!(minor_of(unframe(&t)), minor::G_BAD_TOK_HEADER);
    }
}
