//! Fixtures shared by the fuzz targets: the MIT krb5 1.20 capture in
//! tests/data/mit-capture (its README.md), compiled into the binaries so that a target
//! runs from any directory and every input is replayed against the same state.

use krbap::ap::ServiceKey;
use krbap::ccache::Ccache;
use krbap::cred::{AcceptorCredential, InitiatorCredential};
use krbap::crypto::{Enctype, Key};
use krbap::gss::wrap::MessageProtection;
use krbap::keytab::Keytab;
use krbap::rcache::ReplayCache;

pub const SERVICE_KEYTAB: &[u8] = include_bytes!("../../tests/data/mit-capture/service.keytab");
pub const ALICE_CCACHE: &[u8] = include_bytes!("../../tests/data/mit-capture/alice.ccache");
pub const MESSAGE: &[u8] = include_bytes!("../../tests/data/mit-capture/mutual/message.bin");
/// An AP-REQ whose ticket names test/localhost (the plaintext target's envelope).
pub const MUTUAL_AP_REQ: &[u8] = include_bytes!("../../tests/data/mit-capture/mutual/ap_req.der");

const MUTUAL_INFO: &str = include_str!("../../tests/data/mit-capture/mutual/info.txt");

/// The capture time (authenticator ctime), as info.txt records it: an acceptor whose clock
/// is fixed there accepts the captured tokens, so mutations reach post-decryption code.
pub fn capture_time() -> i64 {
    let tag = "captured at unix time ";
    let at = MUTUAL_INFO.find(tag).expect("capture time in info.txt") + tag.len();
    MUTUAL_INFO[at..]
        .split_whitespace()
        .next()
        .and_then(|t| t.parse().ok())
        .expect("capture time is a number")
}

/// The service keys of the capture's keytab (every enctype, kvno 1).
pub fn service_keys() -> Vec<ServiceKey> {
    let kt = Keytab::parse(SERVICE_KEYTAB, "service.keytab").expect("fixture keytab parses");
    kt.entries
        .iter()
        .filter_map(|e| {
            let enctype = Enctype::from_number(e.enctype)?;
            Some(ServiceKey {
                principal: e.principal.clone(),
                kvno: e.kvno,
                key: Key::new(enctype, &e.key).ok()?,
            })
        })
        .collect()
}

/// An acceptor with the capture's keys, its clock at the capture time and no replay
/// cache, so that a replayed seed is judged on its content every time.
pub fn acceptor() -> AcceptorCredential {
    let cred = AcceptorCredential::from_keys(None, service_keys());
    cred.clock.set_fixed(Some(capture_time()));
    cred.set_replay_cache(ReplayCache::none());
    cred
}

/// alice's credentials from the capture's ccache, clock at the capture time.
pub fn initiator() -> InitiatorCredential {
    let cc = Ccache::parse(ALICE_CCACHE, "alice.ccache").expect("fixture ccache parses");
    let cred = InitiatorCredential::from_credentials(cc.default_principal.clone(), cc.credentials);
    cred.clock.set_fixed(Some(capture_time()));
    cred
}

/// One captured established context, both sides, from the keys MIT exported (info.txt).
pub struct WrapCase {
    pub name: &'static str,
    info: &'static str,
}

pub const WRAP_CASES: [WrapCase; 4] = [
    WrapCase {
        name: "mutual",
        info: MUTUAL_INFO,
    },
    WrapCase {
        name: "nomutual",
        info: include_str!("../../tests/data/mit-capture/nomutual/info.txt"),
    },
    WrapCase {
        name: "aes128-sha256",
        info: include_str!("../../tests/data/mit-capture/aes128-sha256/info.txt"),
    },
    WrapCase {
        name: "aes256-sha384-default-subkey",
        info: include_str!("../../tests/data/mit-capture/aes256-sha384-default-subkey/info.txt"),
    },
];

fn hex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}

impl WrapCase {
    fn line(&self, prefix: &str) -> &'static str {
        self.info
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("{prefix} in {} info.txt", self.name))
    }
    /// "<who> ... (<enctype>[, role]) = <hex>", or None for "... none".
    fn key(&self, prefix: &str) -> Option<Key> {
        let l = self.line(prefix);
        if l.ends_with("none") {
            return None;
        }
        let open = l.find('(')? + 1;
        let close = l.find(')')?;
        let enctype = Enctype::from_name(l[open..close].split(',').next()?.trim())?;
        Key::new(enctype, &hex(l.rsplit("= ").next()?.trim())).ok()
    }
    fn number(&self, prefix: &str, field: &str) -> u64 {
        let l = self.line(prefix);
        let at = l.find(field).expect("field") + field.len();
        let v = l[at..].split_whitespace().next().expect("value");
        match v.strip_prefix("0x") {
            Some(h) => u64::from_str_radix(h, 16).expect("hex number"),
            None => v.parse().expect("number"),
        }
    }
    /// MIT's view of the context, as `initiator` or acceptor, with MIT's initial
    /// sequence numbers and flags, so that the captured tokens verify.
    pub fn side(&self, initiator: bool) -> Side {
        const REPLAY: u64 = 4;
        const SEQUENCE: u64 = 8;
        let ctx_key = self.key("initiator ctx_key").expect("ctx_key");
        let acceptor_subkey = self.key("initiator acceptor_subkey");
        let c2s = self.number("acceptor lucid:", "recv_seq=");
        let s2c = self.number("initiator lucid:", "recv_seq=");
        let flags = if initiator {
            self.number("initiator ret_flags", "ret_flags ")
        } else {
            self.number("acceptor ret_flags", "ret_flags ")
        };
        let (send, recv) = if initiator { (c2s, s2c) } else { (s2c, c2s) };
        Side {
            has_acceptor_subkey: acceptor_subkey.is_some(),
            key: acceptor_subkey.unwrap_or_else(|| ctx_key.clone()),
            initiator_key: (!initiator).then_some(ctx_key),
            initiator,
            send,
            recv,
            replay: flags & REPLAY != 0,
            sequence: flags & SEQUENCE != 0,
        }
    }
}

/// The parameters of one side of an established context (keys are shared, cheap clones).
pub struct Side {
    key: Key,
    initiator_key: Option<Key>,
    has_acceptor_subkey: bool,
    initiator: bool,
    send: u64,
    recv: u64,
    replay: bool,
    sequence: bool,
}

impl Side {
    /// A fresh context in the state right after establishment.
    pub fn protection(&self) -> MessageProtection {
        let p = MessageProtection::new(
            self.key.clone(),
            self.has_acceptor_subkey,
            self.initiator,
            self.send,
            self.recv,
            self.replay,
            self.sequence,
        );
        match &self.initiator_key {
            Some(k) => p.with_initiator_key(k.clone()),
            None => p,
        }
    }
}

/// Splits `data` into records of `[tag u8][len u16 BE][len bytes]` (the multi-message
/// input format of the stateful targets); a short tail becomes the last record.
pub fn records(mut data: &[u8]) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    // Bounded: one record per 3 input bytes at most, and libFuzzer bounds the input.
    while data.len() >= 3 {
        let tag = data[0];
        let len = u16::from_be_bytes([data[1], data[2]]) as usize;
        let rest = &data[3..];
        let len = len.min(rest.len());
        out.push((tag, &rest[..len]));
        data = &rest[len..];
    }
    out
}

/// Encodes records in the format [`records`] reads (for the seed generator).
pub fn encode_records(recs: &[(u8, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (tag, body) in recs {
        out.push(*tag);
        out.extend_from_slice(&(body.len() as u16).to_be_bytes());
        out.extend_from_slice(body);
    }
    out
}
