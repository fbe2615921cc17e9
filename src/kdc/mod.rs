//! The KDC client: the AS exchange (RFC 4120 §3.1) with long-term keys and
//! PA-ENC-TIMESTAMP pre-authentication, and the TGS exchange (RFC 4120 §3.3) following
//! referrals (RFC 6806) and cross-realm krbtgt chains, over UDP and TCP (RFC 4120 §7.2).

use crate::ccache::Credential;
use crate::config::Profile;
use crate::crypto::Enctype;
use crate::error::{minor, Error, Result};
use crate::keytab::Keytab;
use crate::principal::Principal;
use std::sync::Arc;
use std::time::Duration;
use zeroize::Zeroizing;

/// A client of the KDCs named in a krb5.conf profile.
#[derive(Clone, Debug)]
pub struct KdcClient {
    profile: Arc<Profile>,
    per_try: Duration,
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

/// The client's long-term keys for the AS exchange.
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
        }
    }

    /// From KRB5_CONFIG / /etc/krb5.conf (the parsed default profile cached process-wide).
    pub fn from_default_config() -> Result<KdcClient> {
        Err(Error::minor(minor::ERR_GENERIC, "not yet"))
    }

    /// The profile this client reads (realms, KDCs, enctypes).
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// How many requests went out over UDP and TCP so far (all clones share the counters).
    pub fn stats(&self) -> TransportStats {
        TransportStats::default()
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
        let _ = (tgt, server, options, now);
        Err(Error::minor(minor::ERR_GENERIC, "not yet"))
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
        let _ = (client, keys, options, now);
        Err(Error::minor(minor::ERR_GENERIC, "not yet"))
    }
}
