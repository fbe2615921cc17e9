//! CONSTRAINED_DELEGATION (PAC buffer type 11): S4U_DELEGATION_INFO (MS-PAC §2.9), put
//! into an S4U2proxy ticket by the KDC: the service the proxy ticket is for and the
//! services that passed the client's identity along. NDR in the type serialization
//! envelope, like LOGON_INFO.

use super::ndr::{Reader, Utf16Ref};
use crate::error::Error;

#[derive(Clone, Debug)]
pub(super) struct DelegationLayout {
    target: Utf16Ref,
    /// Absolute offsets of the transited strings' inline headers (8 bytes each) and of the
    /// first deferred body, and their count: a header with a null pointer has no body; the
    /// bodies follow one another, each 4-aligned.
    headers_at: u32,
    transited_at: u32,
    transited_count: u32,
}

pub(super) fn parse(pac: &[u8], offset: usize, size: usize) -> Result<DelegationLayout, Error> {
    let mut r = Reader::type_serialized(pac, offset, size, "CONSTRAINED_DELEGATION")?;
    r.top_pointer()?;
    let target_header = r.string_header("S4U2proxyTarget")?;
    let count = r.u32()?;
    let present = r.pointer()?;
    let target = r.string_body(target_header, "S4U2proxyTarget")?;
    if !present {
        if count != 0 {
            return Err(r.err(format_args!(
                "S4UTransitedServices: count {count} with a null array"
            )));
        }
        return Ok(DelegationLayout {
            target,
            headers_at: 0,
            transited_at: 0,
            transited_count: 0,
        });
    }
    r.conformance(count, 8, "S4UTransitedServices")?;
    // The inline RPC_UNICODE_STRINGs, then their bodies in the same order. Their headers
    // are read twice (once here, once per body) rather than kept: no allocation.
    let headers_at = r.pos() as u32;
    let mut hr = r.clone();
    for _ in 0..count {
        r.string_header("S4UTransitedServices")?;
    }
    let transited_at = r.pos() as u32;
    for _ in 0..count {
        let h = hr.string_header("S4UTransitedServices")?;
        r.string_body(h, "S4UTransitedServices")?;
    }
    Ok(DelegationLayout {
        target,
        headers_at,
        transited_at,
        transited_count: count,
    })
}

/// S4U_DELEGATION_INFO of a parsed PAC.
#[derive(Clone, Copy)]
pub struct DelegationInfo<'a> {
    pub(super) pac: &'a [u8],
    pub(super) l: &'a DelegationLayout,
}

impl std::fmt::Debug for DelegationInfo<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DelegationInfo")
            .field("target", &self.proxy_target())
            .field("transited", &self.transited_services())
            .finish()
    }
}

impl DelegationInfo<'_> {
    /// S4U2proxyTarget: the service the S4U2proxy ticket was issued for.
    pub fn proxy_target(&self) -> String {
        self.l.target.to_string(self.pac)
    }
    /// S4UTransitedServices, in order (e.g. `svc@AD.TEST`, the service that used S4U2proxy).
    pub fn transited_services(&self) -> Vec<String> {
        let pac = self.pac;
        let mut at = self.l.transited_at as usize;
        (0..self.l.transited_count as usize)
            .map(|i| {
                // A null pointer in the header: no body, an empty name.
                let h = self.l.headers_at as usize + 8 * i;
                if pac[h + 4..h + 8] == [0; 4] {
                    return String::new();
                }
                // Conformance, offset, actual count (validated at parse), then the chars.
                at = (at + 3) & !3;
                let actual =
                    u32::from_le_bytes([pac[at + 8], pac[at + 9], pac[at + 10], pac[at + 11]]);
                let len = 2 * actual;
                let s = Utf16Ref {
                    start: (at + 12) as u32,
                    len,
                }
                .to_string(pac);
                at += 12 + len as usize;
                s
            })
            .collect()
    }
    pub fn transited_count(&self) -> u32 {
        self.l.transited_count
    }
}
