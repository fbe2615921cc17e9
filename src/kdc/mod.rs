//! The KDC client: the AS exchange (RFC 4120 §3.1) with long-term keys and
//! PA-ENC-TIMESTAMP pre-authentication, and the TGS exchange (RFC 4120 §3.3) following
//! referrals (RFC 6806) and cross-realm krbtgt chains, over UDP and TCP (RFC 4120 §7.2).

mod as_req;
mod tgs;
pub mod transport;

use crate::asn1::kdc::{EncKdcRepPart, KdcRep};
use crate::asn1::{Der, KrbError};
use crate::ccache::Credential;
use crate::config::Profile;
use crate::crypto::Enctype;
use crate::error::{major, minor, Error, Result};
use crate::keytab::Keytab;
use crate::principal::{Principal, PrincipalName};
use std::sync::Arc;
use std::time::Duration;
use zeroize::Zeroizing;

/// Most referral / cross-realm hops followed (MIT's KRB5_REFERRAL_MAXHOPS is 10).
pub const MAX_HOPS: usize = 10;

/// A client of the KDCs named in a krb5.conf profile.
#[derive(Clone, Debug)]
pub struct KdcClient {
    profile: Arc<Profile>,
    per_try: Duration,
    counters: Arc<transport::Counters>,
}

/// Counters of the requests this client sent, per transport (tests, diagnostics).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TransportStats {
    pub udp_requests: u64,
    pub tcp_requests: u64,
}

/// Options of a TGS request (KDCOptions, RFC 4120 §5.4.1).
#[derive(Clone, Debug, Default)]
pub struct TgsOptions {
    /// Ask for a FORWARDABLE ticket.
    pub forwardable: bool,
    /// Ask for a FORWARDED ticket (the TGT must be FORWARDABLE); used for delegation with
    /// the server krbtgt/REALM@REALM.
    pub forwarded: bool,
    /// Set CANONICALIZE (RFC 6806): the KDC may answer with a referral.
    pub canonicalize: bool,
    /// Enctypes to ask for, in preference order (default: `default_tgs_enctypes`,
    /// filtered by `permitted_enctypes`).
    pub enctypes: Option<Vec<Enctype>>,
}

/// The result of a TGS exchange.
#[derive(Clone, Debug)]
pub struct TgsResult {
    /// The service ticket.
    pub ticket: Credential,
    /// Cross-realm TGTs obtained on the way (to cache).
    pub intermediate: Vec<Credential>,
}

/// The client's long-term keys for the AS exchange (Debug shows no key material).
pub enum InitialKeys<'a> {
    /// Keys from a keytab (the entries of the client principal).
    Keytab(&'a Keytab),
    /// A password, turned into keys with the salt and parameters the KDC names.
    Password(&'a Zeroizing<String>),
}

/// Options of an AS request.
#[derive(Clone, Debug, Default)]
pub struct AsOptions {
    /// Ask for a FORWARDABLE ticket.
    pub forwardable: bool,
    /// Requested lifetime in seconds (default: `ticket_lifetime`, else 24 h).
    pub lifetime: Option<u32>,
    /// The service; default krbtgt/REALM@REALM.
    pub service: Option<Principal>,
    /// Enctypes to ask for, in preference order (default: `default_tkt_enctypes`,
    /// filtered by `permitted_enctypes`).
    pub enctypes: Option<Vec<Enctype>>,
}

impl KdcClient {
    pub fn new(profile: Arc<Profile>) -> KdcClient {
        KdcClient {
            profile,
            per_try: Duration::from_secs(1),
            counters: Arc::default(),
        }
    }

    /// From KRB5_CONFIG / /etc/krb5.conf ([`crate::config::default_profile`]: parsed once,
    /// re-read when a file changes).
    pub fn from_default_config() -> Result<KdcClient> {
        Ok(KdcClient::new(crate::config::default_profile()?))
    }

    /// The profile this client reads (realms, KDCs, enctypes).
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// How many requests went out over UDP and TCP so far (all clones share the counters).
    pub fn stats(&self) -> TransportStats {
        use std::sync::atomic::Ordering::Relaxed;
        TransportStats {
            udp_requests: self.counters.udp.load(Relaxed),
            tcp_requests: self.counters.tcp.load(Relaxed),
        }
    }

    /// The timeout of one try (one datagram or one TCP exchange with one KDC).
    pub fn with_timeout(self, per_try: Duration) -> KdcClient {
        KdcClient { per_try, ..self }
    }

    /// TGS exchange (RFC 4120 §3.3) with `tgt` for `server`, following referrals (RFC 6806,
    /// canonicalize) and cross-realm krbtgt chains (bounded hops). `now` is the client clock.
    pub fn get_service_ticket(
        &self,
        tgt: &Credential,
        server: &Principal,
        options: &TgsOptions,
        now: i64,
    ) -> Result<TgsResult> {
        tgs::get_service_ticket(self, tgt, server, options, now)
    }

    /// AS exchange (RFC 4120 §3.1) for `client` with long-term keys; handles
    /// KDC_ERR_PREAUTH_REQUIRED with PA-ETYPE-INFO2 (salt, s2kparams) and PA-ENC-TIMESTAMP.
    pub fn get_initial_credentials(
        &self,
        client: &Principal,
        keys: &InitialKeys,
        options: &AsOptions,
        now: i64,
    ) -> Result<Credential> {
        as_req::get_initial_credentials(self, client, keys, options, now)
    }
}

impl std::fmt::Debug for InitialKeys<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InitialKeys::Keytab(k) => write!(f, "Keytab({} entries)", k.entries.len()),
            InitialKeys::Password(_) => f.write_str("Password(<redacted>)"),
        }
    }
}

impl KdcClient {
    /// Sends `request` to the KDCs of `realm`; the reply is a KDC-REP of `reply_type` or
    /// a KRB-ERROR (the latter returned as an Error).
    fn exchange(&self, realm: &[u8], request: &[u8], reply_type: i32) -> Result<(KdcRep, Vec<u8>)> {
        match self.exchange_raw(realm, request, reply_type)? {
            Reply::Rep(rep, der) => Ok((rep, der)),
            Reply::Error(e) => Err(krb_error_to_error(&e)),
        }
    }

    /// As [`KdcClient::exchange`], with a KRB-ERROR returned as a value (the AS exchange
    /// reads its e-data).
    fn exchange_raw(&self, realm: &[u8], request: &[u8], reply_type: i32) -> Result<Reply> {
        let realm_str = std::str::from_utf8(realm)
            .map_err(|_| Error::minor(minor::REALM_UNKNOWN, "realm name is not UTF-8"))?;
        let acceptable = |b: &[u8]| match b.first() {
            Some(0x7e) => KrbError::from_der(b).is_ok(),
            Some(_) => KdcRep::from_der(b).is_ok_and(|r| r.msg_type == reply_type),
            None => false,
        };
        let reply = transport::send_to_realm(
            &self.profile,
            realm_str,
            request,
            self.per_try,
            &self.counters,
            &acceptable,
        )?;
        if reply.first() == Some(&0x7e) {
            return Ok(Reply::Error(KrbError::from_der(&reply)?));
        }
        Ok(Reply::Rep(KdcRep::from_der(&reply)?, reply))
    }
}

enum Reply {
    Rep(KdcRep, Vec<u8>),
    Error(KrbError),
}

/// A KRB-ERROR from a KDC as an Error: major FAILURE (as MIT's GSS mechanism reports
/// KDC failures), minor = table base + error code (RFC 4120 §7.5.9), with the e-text.
pub fn krb_error_to_error(e: &KrbError) -> Error {
    let code = crate::ap::krb_error_minor(e);
    let server = Principal::new(&e.realm, e.sname.clone());
    let mut detail = format!("KDC error {} (server {server})", e.error_code);
    if let Some(text) = e.e_text.as_ref().filter(|t| !t.is_empty()) {
        detail.push_str(": ");
        detail.push_str(&String::from_utf8_lossy(text));
    }
    Error::new(major::FAILURE, code, detail)
}

fn modified(what: impl Into<String>) -> Error {
    Error::minor(minor::KDCREP_MODIFIED, what)
}

/// A 31-bit request nonce (MIT masks its nonces the same way; some KDCs mishandle the sign).
fn new_nonce() -> u32 {
    crate::crypto::random_u32() & 0x7fff_ffff
}

fn krbtgt(instance: &[u8], realm: &[u8]) -> Principal {
    Principal::new(
        realm,
        PrincipalName::new(
            crate::principal::name_type::SRV_INST,
            &[b"krbtgt", instance],
        ),
    )
}

/// The realm a TGT is for (krbtgt/REALM@...), the realm whose KDC accepts it.
fn tgt_realm(tgt: &Credential) -> Result<&[u8]> {
    let c = &tgt.server.name.components;
    if c.len() == 2 && c[0] == b"krbtgt" {
        Ok(&c[1])
    } else {
        Err(Error::minor(
            minor::AP_ERR_NO_TGT,
            format!("{} is not a ticket-granting ticket", tgt.server),
        ))
    }
}

fn clamp_u32(t: i64) -> u32 {
    t.clamp(0, i64::from(u32::MAX)) as u32
}

/// FUZZING HOOK, not an API: the checks every KDC reply goes through
/// ([`credential_from_reply`]) on a reply and its decrypted enc-part given as bytes, with the
/// nonce and end time the request asked for, so a fuzzer reaches the code after decryption.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub fn fuzz_credential_from_reply(
    reply_der: &[u8],
    enc_part_plain: &[u8],
    nonce: u32,
    till: i64,
) -> Result<Credential> {
    let rep = KdcRep::from_der(reply_der)?;
    let enc = EncKdcRepPart::from_der(enc_part_plain)?;
    credential_from_reply(&rep, reply_der, enc, nonce, till)
}

/// Checks what every KDC reply must satisfy (RFC 4120 §3.1.5, §3.3.4) and builds the
/// credential from the reply and its decrypted part.
fn credential_from_reply(
    rep: &KdcRep,
    reply_der: &[u8],
    enc: EncKdcRepPart,
    nonce: u32,
    till: i64,
) -> Result<Credential> {
    if enc.nonce != nonce {
        return Err(modified(format!(
            "reply nonce {} does not match the request's {nonce}",
            enc.nonce
        )));
    }
    if enc.srealm != rep.ticket.realm || !enc.sname.same_components(&rep.ticket.sname) {
        return Err(modified("the ticket's server differs from the reply's"));
    }
    let start = enc.starttime.unwrap_or(enc.authtime);
    if enc.endtime <= start || (till > 0 && enc.endtime > till) {
        return Err(modified(format!(
            "reply times out of range (start {start}, end {}, requested till {till})",
            enc.endtime
        )));
    }
    if Enctype::from_number(enc.key.keytype).is_none() {
        return Err(Error::minor(
            minor::PROG_ETYPE_NOSUPP,
            format!("session key enctype {} is not supported", enc.key.keytype),
        ));
    }
    let ticket = KdcRep::ticket_bytes(reply_der)?.to_vec();
    Ok(Credential {
        client: Principal::new(&rep.crealm, rep.cname.clone()),
        server: Principal::new(&enc.srealm, enc.sname),
        key: enc.key,
        authtime: clamp_u32(enc.authtime),
        starttime: clamp_u32(start),
        endtime: clamp_u32(enc.endtime),
        renew_till: enc.renew_till.map(clamp_u32).unwrap_or(0),
        is_skey: false,
        ticket_flags: enc.flags,
        addresses: enc.caddr.unwrap_or_default(),
        authdata: Vec::new(),
        ticket,
        second_ticket: Vec::new(),
    })
}
