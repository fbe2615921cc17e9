//! HTTP Negotiate header values (RFC 4559, src/http): the same bytes as an Authorization
//! value, a WWW-Authenticate challenge list and bare base64. Whatever parses must be within
//! the size limit and survive a round trip through the builders, and strict base64 has
//! exactly one text per byte string (decode then encode gives the input back).
#![no_main]

use krbap::http::{self, base64, MAX_TOKEN_LENGTH};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(t) = http::parse_authorization(data) {
        assert!(!t.is_empty() && t.len() <= MAX_TOKEN_LENGTH);
        let v = http::authorization(&t).expect("a parsed token can be sent");
        assert_eq!(http::parse_authorization(v.as_bytes()).unwrap(), t);
    }
    if let Ok(t) = http::parse_www_authenticate(data) {
        assert!(t.len() <= MAX_TOKEN_LENGTH);
        let v = http::www_authenticate(&t);
        assert_eq!(http::parse_www_authenticate(v.as_bytes()).unwrap(), t);
    }
    if let Ok(d) = base64::decode(data) {
        assert_eq!(base64::encode(&d).as_bytes(), data);
        assert_eq!(base64::decoded_len(data), d.len());
    }
});
