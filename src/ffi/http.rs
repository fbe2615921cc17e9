//! HTTP Negotiate (RFC 4559) header values: parse `Authorization: Negotiate <base64>`
//! and `WWW-Authenticate`, build both. The rules live in `crate::http`; this file
//! only bounds and converts the C strings and buffers.

use super::*;
use crate::http;

/// The largest token (decoded bytes) the header helpers accept or produce: 64 KiB.
/// A longer token in a header is KRBAP_S_DEFECTIVE_TOKEN with minor EMSGSIZE (90).
pub const KRBAP_HTTP_MAX_TOKEN: usize = 65536;

/// The longest header value read from a C string: the base64 of the largest token plus
/// 1 KiB. A string with no NUL within this many bytes is refused (EMSGSIZE) without
/// reading further.
pub const KRBAP_HTTP_MAX_HEADER: usize = 88408;

/// Borrows a NUL-terminated header value, reading at most KRBAP_HTTP_MAX_HEADER + 1 bytes.
fn header_bytes<'a>(p: *const c_char, what: &str) -> Result<&'a [u8], Error> {
    if p.is_null() {
        return Err(Error::new(
            major::CALL_INACCESSIBLE_READ,
            minor::EINVAL,
            format!("{what} header value is NULL"),
        ));
    }
    let p = p as *const u8;
    let mut n = 0usize;
    // SAFETY: the caller passes a NUL-terminated string; no byte past its NUL is read,
    // and at most KRBAP_HTTP_MAX_HEADER + 1 bytes are read in any case.
    unsafe {
        while *p.add(n) != 0 {
            if n == KRBAP_HTTP_MAX_HEADER {
                return Err(Error::new(
                    major::DEFECTIVE_TOKEN,
                    minor::EMSGSIZE,
                    format!(
                        "{what} header value is longer than {KRBAP_HTTP_MAX_HEADER} bytes \
                         (a token of at most {KRBAP_HTTP_MAX_TOKEN} bytes)"
                    ),
                ));
            }
            n += 1;
        }
        Ok(std::slice::from_raw_parts(p, n))
    }
}

/// Hands a header value to C: the bytes of the value, `length` without any terminator.
fn output_value(out: *mut krbap_buffer, value: String) -> Result<(), Error> {
    output_bytes(out, value.into_bytes())
}

/// The GSS token in an `Authorization` (or `Proxy-Authorization`) header value
/// `Negotiate <base64>` (RFC 4559 §4.2; scheme case-insensitive, RFC 7235 whitespace,
/// strict RFC 4648 base64, at most KRBAP_HTTP_MAX_TOKEN bytes), for
/// `krbap_accept_sec_context`. `header_value` is the NUL-terminated field value (without
/// the field name). Errors: another scheme (e.g. `Basic`) or none: KRBAP_S_BAD_MECH, minor
/// EPROTONOSUPPORT (93) — answer with a `Negotiate` challenge; `Negotiate` without a
/// token: KRBAP_S_DEFECTIVE_TOKEN, ENODATA (61); too long: DEFECTIVE_TOKEN, EMSGSIZE (90);
/// otherwise malformed: DEFECTIVE_TOKEN, EBADMSG (74); the detail from
/// `krbap_display_status` says what and where. On failure `*token` is `{0, NULL}`.
#[no_mangle]
pub extern "C" fn krbap_http_parse_authorization(
    minor_status: *mut u32,
    header_value: *const c_char,
    token: *mut krbap_buffer,
) -> u32 {
    guard(minor_status, || {
        require_output(token)?;
        clear_output(token);
        let value = header_bytes(header_value, "Authorization")?;
        output_bytes(token, http::parse_authorization(value)?)?;
        Ok(major::COMPLETE)
    })
}

/// The value of a `WWW-Authenticate` (or `Proxy-Authenticate`) header: `Negotiate` when
/// `token` is NULL or empty (the first challenge, RFC 4559 §4.1), else `Negotiate
/// <base64>` (a continuation token on a 401, or the final token on the 200 for mutual
/// authentication). `header_value` receives the characters of the value, not
/// NUL-terminated (like every krbap_buffer: print it with `"%.*s"`); release it with
/// `krbap_buffer_free`.
#[no_mangle]
pub extern "C" fn krbap_http_www_authenticate(
    minor_status: *mut u32,
    token: *const krbap_buffer,
    header_value: *mut krbap_buffer,
) -> u32 {
    guard(minor_status, || {
        require_output(header_value)?;
        clear_output(header_value);
        let t = input_bytes(token)?;
        output_value(header_value, http::www_authenticate(t))?;
        Ok(major::COMPLETE)
    })
}

/// The value of an `Authorization` header for a client: `Negotiate <base64>` (RFC 4559
/// §4.2). The token (from `krbap_init_sec_context`) must not be empty (DEFECTIVE_TOKEN,
/// ENODATA) nor longer than KRBAP_HTTP_MAX_TOKEN (DEFECTIVE_TOKEN, EMSGSIZE).
/// `header_value` as for `krbap_http_www_authenticate`.
#[no_mangle]
pub extern "C" fn krbap_http_authorization(
    minor_status: *mut u32,
    token: *const krbap_buffer,
    header_value: *mut krbap_buffer,
) -> u32 {
    guard(minor_status, || {
        require_output(header_value)?;
        clear_output(header_value);
        let t = input_bytes(token)?;
        output_value(header_value, http::authorization(t)?)?;
        Ok(major::COMPLETE)
    })
}

/// The token of the Negotiate challenge in a `WWW-Authenticate` header value, which may
/// list several challenges (RFC 7235 §4.1, e.g. `Basic realm="x", Negotiate oQcw...`):
/// `{0, NULL}` with KRBAP_S_COMPLETE for a bare `Negotiate`, else the decoded token for
/// `krbap_init_sec_context`. A response can carry several WWW-Authenticate fields: call
/// this for each. No Negotiate challenge: KRBAP_S_BAD_MECH, EPROTONOSUPPORT (93); a
/// Negotiate challenge with auth-params, two of them, or a malformed list:
/// DEFECTIVE_TOKEN, EBADMSG (74); token errors as for `krbap_http_parse_authorization`.
#[no_mangle]
pub extern "C" fn krbap_http_parse_www_authenticate(
    minor_status: *mut u32,
    header_value: *const c_char,
    token: *mut krbap_buffer,
) -> u32 {
    guard(minor_status, || {
        require_output(token)?;
        clear_output(token);
        let value = header_bytes(header_value, "WWW-Authenticate")?;
        output_bytes(token, http::parse_www_authenticate(value)?)?;
        Ok(major::COMPLETE)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_match_the_core() {
        assert_eq!(KRBAP_HTTP_MAX_TOKEN, http::MAX_TOKEN_LENGTH);
        assert_eq!(KRBAP_HTTP_MAX_HEADER, http::MAX_HEADER_LENGTH);
    }
}
