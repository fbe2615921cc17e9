//! HTTP Negotiate (RFC 4559): the header values every server and client repeats.
//!
//! - Server: [`parse_authorization`] takes the value of an `Authorization` (or
//!   `Proxy-Authorization`) header, `Negotiate <base64>`, and returns the GSS token for
//!   the acceptor; [`www_authenticate`] makes `Negotiate` (the first challenge, RFC 4559
//!   §4.1) or `Negotiate <base64>` (a continuation on a 401, or the final token on the 200
//!   for mutual authentication, §5).
//! - Client: [`authorization`] makes `Negotiate <base64>`; [`parse_www_authenticate`]
//!   finds the Negotiate challenge in a `WWW-Authenticate` value (a list of challenges,
//!   RFC 7235 §4.1) and returns its token, empty for a bare challenge.
//!
//! Syntax (RFC 7235 §2.1): `credentials = auth-scheme [ 1*SP ( token68 / #auth-param ) ]`;
//! the scheme is case-insensitive; optional whitespace (SP, HTAB) around a whole field
//! value is not part of it (RFC 7230 §3.2) and is ignored. The token is strict base64
//! (RFC 4648, see [`base64`]) of at most [`MAX_TOKEN_LENGTH`] bytes, checked before any
//! decoding. Errors: a scheme other than Negotiate is `BAD_MECH` / `EPROTONOSUPPORT`
//! (the caller answers with a Negotiate challenge); Negotiate without a token is
//! `DEFECTIVE_TOKEN` / `ENODATA`; a token over the limit `DEFECTIVE_TOKEN` / `EMSGSIZE`;
//! anything else malformed `DEFECTIVE_TOKEN` / `EBADMSG`, each with a detail that says
//! what and where.

pub mod base64;

use crate::error::{major, minor, Error, Result};

/// The authentication scheme of RFC 4559 (compared case-insensitively, RFC 7235 §2.1).
pub const SCHEME: &str = "Negotiate";

/// The largest token (decoded bytes) a header may carry: 64 KiB. Kerberos tokens with
/// large Windows PACs reach Windows' MaxTokenSize of 48 000 bytes; 64 KiB is the most
/// Windows can be configured to send (65 535) with room to spare.
pub const MAX_TOKEN_LENGTH: usize = 64 * 1024;

/// The longest header value the helpers read (what the C layer scans for the NUL):
/// the base64 of the largest token, the scheme and 1 KiB of whitespace and other
/// challenges around it.
pub const MAX_HEADER_LENGTH: usize = base64::encoded_len(MAX_TOKEN_LENGTH) + 1024;

fn malformed(detail: impl Into<String>) -> Error {
    Error::new(major::DEFECTIVE_TOKEN, minor::EBADMSG, detail)
}

fn too_long(bytes: usize) -> Error {
    Error::new(
        major::DEFECTIVE_TOKEN,
        minor::EMSGSIZE,
        format!("Negotiate token of {bytes} bytes exceeds the limit of {MAX_TOKEN_LENGTH} bytes"),
    )
}

/// RFC 7230 §3.2.6 tchar: the characters of a token (an auth-scheme, a parameter name).
fn is_tchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c)
}

/// RFC 7235 §2.1 token68 characters (before the trailing `=`s).
fn is_token68_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"-._~+/".contains(&c)
}

fn is_ows(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

fn trim_ows(mut v: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = v {
        if !is_ows(*first) {
            break;
        }
        v = rest;
    }
    while let [rest @ .., last] = v {
        if !is_ows(*last) {
            break;
        }
        v = rest;
    }
    v
}

/// How a byte is shown in a detail message.
fn show(c: u8) -> String {
    match c {
        b' ' => "a space".into(),
        b'\t' => "a tab".into(),
        c if c.is_ascii_graphic() => format!("'{}'", c as char),
        c => format!("byte 0x{c:02x}"),
    }
}

/// How a scheme is shown in a detail message (bounded, escaped).
fn show_scheme(s: &[u8]) -> String {
    let shown: String = s
        .iter()
        .take(32)
        .flat_map(|&c| std::ascii::escape_default(c))
        .map(char::from)
        .collect();
    if s.len() > 32 {
        format!("\"{shown}...\"")
    } else {
        format!("\"{shown}\"")
    }
}

fn is_negotiate(scheme: &[u8]) -> bool {
    scheme.eq_ignore_ascii_case(SCHEME.as_bytes())
}

/// Decodes a token68 that is the data of a Negotiate header: size first, then strict base64.
fn decode_token(text: &[u8]) -> Result<Vec<u8>> {
    // Bound before decoding: a hostile header costs no allocation beyond the limit.
    if text.len() > base64::encoded_len(MAX_TOKEN_LENGTH) + 2 {
        return Err(too_long(text.len() / 4 * 3));
    }
    if base64::decoded_len(text) > MAX_TOKEN_LENGTH {
        return Err(too_long(base64::decoded_len(text)));
    }
    base64::decode(text).map_err(|e| malformed(format!("Negotiate token: {e}")))
}

/// The GSS token of an `Authorization: Negotiate <base64>` header value (RFC 4559 §4.2).
pub fn parse_authorization(value: &[u8]) -> Result<Vec<u8>> {
    let v = trim_ows(value);
    let scheme_len = v.iter().position(|&c| !is_tchar(c)).unwrap_or(v.len());
    let (scheme, rest) = v.split_at(scheme_len);
    if scheme.is_empty() {
        return Err(Error::new(
            major::BAD_MECH,
            minor::EPROTONOSUPPORT,
            match v.first() {
                None => "empty Authorization header: no authentication scheme".to_string(),
                Some(&c) => format!("Authorization header starts with {}, not a scheme", show(c)),
            },
        ));
    }
    if !is_negotiate(scheme) {
        return Err(Error::new(
            major::BAD_MECH,
            minor::EPROTONOSUPPORT,
            format!(
                "authentication scheme {} is not {SCHEME} (RFC 4559)",
                show_scheme(scheme)
            ),
        ));
    }
    let Some(&sep) = rest.first() else {
        return Err(Error::new(
            major::DEFECTIVE_TOKEN,
            minor::ENODATA,
            "Negotiate credentials without a token",
        ));
    };
    if sep != b' ' {
        return Err(malformed(format!(
            "expected a space after the scheme Negotiate, found {}",
            show(sep)
        )));
    }
    // 1*SP, then the token68 up to the end (trailing whitespace was trimmed above).
    let token = &rest[rest.iter().take_while(|&&c| c == b' ').count()..];
    if let Some(at) = token.iter().position(|&c| is_ows(c) || c == b',') {
        return Err(malformed(format!(
            "{} at offset {at} of the Negotiate token: the credentials are one token68 (RFC 7235 §2.1), \
             not a list or parameters",
            show(token[at])
        )));
    }
    decode_token(token)
}

/// `Negotiate` (no token: the first challenge) or `Negotiate <base64>`: the value of a
/// `WWW-Authenticate` header (RFC 4559 §4.1, §5).
pub fn www_authenticate(token: &[u8]) -> String {
    let mut s = String::with_capacity(SCHEME.len() + 1 + base64::encoded_len(token.len()));
    s.push_str(SCHEME);
    if !token.is_empty() {
        s.push(' ');
        base64::encode_into(token, &mut s);
    }
    s
}

/// `Negotiate <base64>`: the value of an `Authorization` header (RFC 4559 §4.2). The
/// token must not be empty and must fit the limit a server applies.
pub fn authorization(token: &[u8]) -> Result<String> {
    if token.is_empty() {
        return Err(Error::new(
            major::DEFECTIVE_TOKEN,
            minor::ENODATA,
            "an Authorization header needs a token (RFC 4559 §4.2)",
        ));
    }
    if token.len() > MAX_TOKEN_LENGTH {
        return Err(too_long(token.len()));
    }
    Ok(www_authenticate(token))
}

/// A cursor over a challenge list (RFC 7235 §4.1, list syntax of RFC 7230 §7).
struct Cursor<'a> {
    s: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.at).copied()
    }
    fn skip(&mut self, f: impl Fn(u8) -> bool) -> usize {
        let start = self.at;
        while self.peek().is_some_and(&f) {
            self.at += 1;
        }
        self.at - start
    }
    fn token(&mut self) -> &[u8] {
        let start = self.at;
        self.skip(is_tchar);
        &self.s[start..self.at]
    }
    /// After a list separator: true when what follows is `name BWS "="`, an auth-param
    /// of the current challenge rather than the scheme of the next one.
    fn at_auth_param(&self) -> bool {
        let mut c = Cursor {
            s: self.s,
            at: self.at,
        };
        if c.token().is_empty() {
            return false;
        }
        c.skip(is_ows);
        c.peek() == Some(b'=')
    }
    fn error_here(&self, what: &str) -> Error {
        match self.peek() {
            Some(c) => malformed(format!(
                "WWW-Authenticate: {what}, found {} at offset {}",
                show(c),
                self.at
            )),
            None => malformed(format!("WWW-Authenticate: {what}, found the end")),
        }
    }
    /// quoted-string (RFC 7230 §3.2.6), the opening quote under the cursor.
    fn quoted_string(&mut self) -> Result<()> {
        self.at += 1;
        loop {
            match self.peek() {
                None => return Err(self.error_here("unterminated quoted-string")),
                Some(b'"') => {
                    self.at += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    self.at += 1;
                    match self.peek() {
                        Some(c) if c == b'\t' || c >= 0x20 && c != 0x7f => self.at += 1,
                        _ => return Err(self.error_here("bad quoted-pair")),
                    }
                }
                Some(c) if c == b'\t' || c >= 0x20 && c != 0x7f => self.at += 1,
                Some(_) => return Err(self.error_here("control character in a quoted-string")),
            }
        }
    }
    /// `#auth-param` of one challenge: `name BWS "=" BWS ( token / quoted-string )`,
    /// separated by commas, until the next challenge or the end.
    fn auth_params(&mut self) -> Result<()> {
        loop {
            if self.token().is_empty() {
                return Err(self.error_here("expected an auth-param name"));
            }
            self.skip(is_ows);
            if self.peek() != Some(b'=') {
                return Err(self.error_here("expected '=' after an auth-param name"));
            }
            self.at += 1;
            self.skip(is_ows);
            if self.peek() == Some(b'"') {
                self.quoted_string()?;
            } else if self.token().is_empty() {
                return Err(self.error_here("expected an auth-param value"));
            }
            self.skip(is_ows);
            match self.peek() {
                None => return Ok(()),
                Some(b',') => {}
                Some(_) => return Err(self.error_here("expected ',' after an auth-param")),
            }
            // Empty list elements, then either another auth-param or the next challenge.
            let save = self.at;
            self.skip(|c| c == b',' || is_ows(c));
            if !self.at_auth_param() {
                self.at = save;
                return Ok(());
            }
        }
    }
}

/// The token of the Negotiate challenge in a `WWW-Authenticate` header value (a list of
/// challenges, RFC 7235 §4.1): empty for a bare `Negotiate`. No Negotiate challenge is
/// `BAD_MECH` / `EPROTONOSUPPORT`; a Negotiate challenge with auth-params, two of them,
/// or a malformed list is `DEFECTIVE_TOKEN` / `EBADMSG`.
pub fn parse_www_authenticate(value: &[u8]) -> Result<Vec<u8>> {
    let mut c = Cursor { s: value, at: 0 };
    let mut found: Option<Vec<u8>> = None;
    let mut schemes = Vec::new();
    loop {
        c.skip(|b| b == b',' || is_ows(b));
        if c.peek().is_none() {
            break;
        }
        let scheme = c.token();
        if scheme.is_empty() {
            return Err(c.error_here("expected an authentication scheme"));
        }
        let negotiate = is_negotiate(scheme);
        if schemes.len() < 8 {
            schemes.push(String::from_utf8_lossy(scheme).into_owned());
        }
        let mut data: &[u8] = &[];
        if c.skip(|b| b == b' ') > 0 && c.peek().is_some_and(|b| b != b',') {
            // token68, unless it turns out to be `name = value` (an auth-param list).
            let start = c.at;
            c.skip(is_token68_char);
            c.skip(|b| b == b'=');
            let end = c.at;
            c.skip(is_ows);
            if c.peek().is_none_or(|b| b == b',') {
                data = &c.s[start..end];
                if data.is_empty() {
                    return Err(c.error_here("expected a token68 or auth-params"));
                }
            } else {
                c.at = start;
                if negotiate {
                    return Err(malformed(
                        "WWW-Authenticate: a Negotiate challenge carries a base64 token, not auth-params",
                    ));
                }
                c.auth_params()?;
            }
        } else if c.peek().is_some_and(|b| b != b',') {
            return Err(c.error_here("expected a space or ',' after the authentication scheme"));
        }
        if negotiate {
            if found.is_some() {
                return Err(malformed("WWW-Authenticate: two Negotiate challenges"));
            }
            found = Some(if data.is_empty() {
                Vec::new()
            } else {
                decode_token(data)?
            });
        }
    }
    found.ok_or_else(|| {
        Error::new(
            major::BAD_MECH,
            minor::EPROTONOSUPPORT,
            if schemes.is_empty() {
                "WWW-Authenticate: no challenge".to_string()
            } else {
                format!(
                    "WWW-Authenticate: no Negotiate challenge (offered: {})",
                    schemes.join(", ")
                )
            },
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(r: Result<Vec<u8>>) -> (u32, i32, String) {
        let e = r.expect_err("must fail");
        (e.major, e.minor, e.detail)
    }

    #[test]
    fn authorization_round_trip_and_case() {
        let tok = b"\x60\x82\x01\x00token";
        let v = authorization(tok).unwrap();
        assert_eq!(v, "Negotiate YIIBAHRva2Vu");
        assert_eq!(parse_authorization(v.as_bytes()).unwrap(), tok);
        for s in ["negotiate", "NEGOTIATE", "NeGoTiAtE"] {
            let v = format!("{s} YIIBAHRva2Vu");
            assert_eq!(parse_authorization(v.as_bytes()).unwrap(), tok);
        }
        // OWS around the field value, several SPs between scheme and token.
        for v in [" \tNegotiate YIIBAHRva2Vu \t", "Negotiate    YIIBAHRva2Vu"] {
            assert_eq!(parse_authorization(v.as_bytes()).unwrap(), tok, "{v:?}");
        }
    }

    #[test]
    fn authorization_errors() {
        let bad_mech = |v: &str| {
            let (ma, mi, _) = err(parse_authorization(v.as_bytes()));
            assert_eq!((ma, mi), (major::BAD_MECH, minor::EPROTONOSUPPORT), "{v:?}");
        };
        for v in [
            "",
            "  ",
            "Basic YWxpY2U6cHc=",
            "NTLM TlRMTVNTUAAB",
            "Negotiatex YII=",
            "Kerberos YII=",
            "=abc",
            "Negotiat",
        ] {
            bad_mech(v);
        }
        for v in ["Negotiate", "Negotiate ", " negotiate\t"] {
            let (ma, mi, _) = err(parse_authorization(v.as_bytes()));
            assert_eq!((ma, mi), (major::DEFECTIVE_TOKEN, minor::ENODATA), "{v:?}");
        }
        for v in [
            "Negotiate\tYIIB",
            "Negotiate:YIIB",
            "Negotiate,YIIB",
            "Negotiate YII B",
            "Negotiate YIIB, Basic x",
            "Negotiate YIIB,",
            "Negotiate YIIB\tYIIB",
            "Negotiate YII",
            "Negotiate YIIBA-==",
            "Negotiate YIIBAA_=",
            "Negotiate realm=\"x\"",
            "Negotiate YIIB====",
        ] {
            let (ma, mi, d) = err(parse_authorization(v.as_bytes()));
            assert_eq!(
                (ma, mi),
                (major::DEFECTIVE_TOKEN, minor::EBADMSG),
                "{v:?}: {d}"
            );
        }
        // Non-canonical trailing bits.
        let (_, mi, d) = err(parse_authorization(b"Negotiate Zh=="));
        assert_eq!(mi, minor::EBADMSG);
        assert!(d.contains("not canonical"), "{d}");
    }

    #[test]
    fn size_limit() {
        let max = vec![0xa5u8; MAX_TOKEN_LENGTH];
        let v = authorization(&max).unwrap();
        assert!(v.len() <= MAX_HEADER_LENGTH);
        assert_eq!(parse_authorization(v.as_bytes()).unwrap(), max);
        let over = vec![0xa5u8; MAX_TOKEN_LENGTH + 1];
        assert_eq!(authorization(&over).unwrap_err().minor, minor::EMSGSIZE);
        let v = www_authenticate(&over);
        let (ma, mi, d) = err(parse_authorization(v.as_bytes()));
        assert_eq!((ma, mi), (major::DEFECTIVE_TOKEN, minor::EMSGSIZE));
        assert!(d.contains("65537 bytes"), "{d}");
        // Far over the limit, and over it with characters that are not even base64:
        // the size is judged first, without decoding.
        let huge = format!("Negotiate {}", "!".repeat(10 * MAX_TOKEN_LENGTH));
        assert_eq!(err(parse_authorization(huge.as_bytes())).1, minor::EMSGSIZE);
        let (_, mi, _) = err(parse_www_authenticate(v.as_bytes()));
        assert_eq!(mi, minor::EMSGSIZE);
    }

    #[test]
    fn www_authenticate_values() {
        assert_eq!(www_authenticate(b""), "Negotiate");
        assert_eq!(www_authenticate(b"\xa1\x07"), "Negotiate oQc=");
        assert_eq!(authorization(b"").unwrap_err().minor, minor::ENODATA);
    }

    #[test]
    fn challenge_lists() {
        let ok = |v: &str, want: &[u8]| {
            assert_eq!(parse_www_authenticate(v.as_bytes()).unwrap(), want, "{v:?}");
        };
        ok("Negotiate", b"");
        ok("negotiate ", b"");
        ok("Negotiate oQc=", b"\xa1\x07");
        ok("  NEGOTIATE   oQc=  ", b"\xa1\x07");
        ok("Basic realm=\"x, y\", Negotiate", b"");
        ok(
            "Basic realm=\"a\\\"b\", charset=UTF-8, Negotiate oQc=",
            b"\xa1\x07",
        );
        ok("Negotiate oQc=, Basic realm=x", b"\xa1\x07");
        ok("NTLM, Negotiate", b"");
        ok(", ,Negotiate,", b"");
        ok(
            "Bearer realm = \"r\" , error=\"invalid_token\",Negotiate",
            b"",
        );
        ok("Foo abc==, Negotiate", b"");
        ok("Foo, Negotiate oQc=", b"\xa1\x07");

        let fails = |v: &str, want: (u32, i32)| {
            let (ma, mi, d) = err(parse_www_authenticate(v.as_bytes()));
            assert_eq!((ma, mi), want, "{v:?}: {d}");
            assert!(!d.is_empty());
        };
        let none = (major::BAD_MECH, minor::EPROTONOSUPPORT);
        let bad = (major::DEFECTIVE_TOKEN, minor::EBADMSG);
        fails("", none);
        fails(" , ", none);
        fails("Basic realm=\"x\"", none);
        fails("NTLM, Kerberos", none);
        fails("Negotiate realm=\"x\"", bad);
        fails("Negotiate oQc=, Negotiate", bad);
        fails("Negotiate oQ", bad);
        fails("Negotiate oQc-", bad);
        fails("Negotiate\toQc=", bad);
        fails("Negotiate oQc= junk", bad);
        fails("Basic realm=\"unterminated, Negotiate", bad);
        fails("Basic realm=\"x\" y, Negotiate", bad);
        fails("Basic realm = , Negotiate", bad);
        fails("Basic realm=\"a\x01\", Negotiate", bad);
        fails("\"x\", Negotiate", bad);
        fails("Negotiate ==", bad);
        let (_, _, d) = err(parse_www_authenticate(b"Basic realm=\"x\", NTLM"));
        assert!(d.contains("Basic, NTLM"), "{d}");
    }
}
