//! KRB-ERROR decoding (RFC 4120 §5.9.1) as an initiator receives it, raw and framed as a
//! GSS token (TOK_ID 03 00), and the status it maps to. A decoded message must re-encode
//! to DER that decodes to the same value.
#![no_main]

use krbap::asn1::{Der, KrbError};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(e) = KrbError::from_der(data) {
        let _ = krbap::error::minor::message(krbap::ap::krb_error_minor(&e));
        let again = KrbError::from_der(&e.to_der()).expect("re-encoded KRB-ERROR decodes");
        assert_eq!(again, e, "KRB-ERROR round trip");
    }
    if let Ok((tok_id, inner)) = krbap::gss::token::unframe(data) {
        if tok_id == krbap::gss::token::TOK_KRB_ERROR {
            let _ = KrbError::from_der(inner);
        }
    }
});
