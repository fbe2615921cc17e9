//! The AP exchange as a GSS-API security context (RFC 2743 §2.2, RFC 4121 §4.1):
//! `initiate`/`continue_init` for the client (steps 1 and 6), `accept` for the server
//! (steps 2-5), then per-message protection through [`MessageProtection`].
//!
//! A context is used by one thread at a time (`&mut self`); the credentials it was made
//! from may be shared.

use crate::ap::{self, AcceptPolicy, VerifiedApReq};
use crate::asn1::{
    ad_type, decode_authorization_data, decode_etype_list, encode_authorization_data,
    encode_etype_list, flags as kflags, ApRep, ApReq, ApReqRef, Authenticator, AuthorizationData,
    AuthorizationDataEntry, Checksum, Der, EncApRepPart, EncKrbCredPart, EncryptedData, KrbCred,
    KrbCredInfo, KrbError, Ticket,
};
use crate::ccache::{Ccache, Credential};
use crate::cred::{AcceptorCredential, InitiatorCredential};
use crate::crypto::{random_u32, usage, Enctype, Key};
use crate::error::{major, minor, Error, Result};
use crate::gss::checksum::{
    ctx_flags, verify_bindings, ChannelBindings, GssChecksum, CKSUMTYPE_GSSAPI,
};
use crate::gss::name::Name;
use crate::gss::token::{frame, frame_with, unframe, TOK_AP_REP, TOK_AP_REQ, TOK_KRB_ERROR};
use crate::gss::wrap::{MessageProtection, Unwrapped};
use crate::pac::{Pac, PacCheck};
use crate::principal::{InlinePrincipal, Principal};
use std::path::Path;
use std::sync::Arc;

/// Where an authorization-data element came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthzSource {
    /// The ticket (put there by the KDC).
    Ticket,
    /// The authenticator (put there by the client).
    Authenticator,
}

/// One authorization-data element, with AD-IF-RELEVANT containers unwrapped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthzElement {
    pub source: AuthzSource,
    pub ad_type: i32,
    pub data: Vec<u8>,
}

/// Credentials the initiator delegated (a forwarded TGT), ready to store in a ccache.
#[derive(Clone, Debug)]
pub struct DelegatedCredential {
    pub client: Principal,
    pub credentials: Vec<Credential>,
}

impl DelegatedCredential {
    /// Writes the delegated tickets to a FILE ccache (replacing its contents), as
    /// gss_store_cred does.
    pub fn store(&self, path: &Path) -> Result<()> {
        let mut cc = Ccache::new(self.client.clone());
        for c in &self.credentials {
            cc.store(c.clone());
        }
        cc.save(path)
    }
}

/// A failed accept: the error, and (like MIT) a KRB-ERROR token to send back when the
/// request was well-formed enough to deserve one.
#[derive(Debug)]
pub struct AcceptFailure {
    pub error: Error,
    pub token: Option<Vec<u8>>,
}

impl From<Error> for AcceptFailure {
    fn from(error: Error) -> Self {
        AcceptFailure { error, token: None }
    }
}

/// What an initiator asks for.
#[derive(Clone, Debug, Default)]
pub struct InitOptions {
    /// GSS_C_*_FLAG bits (RFC 2744): MUTUAL, REPLAY, SEQUENCE, CONF, INTEG, DELEG.
    pub req_flags: u32,
    pub channel_bindings: Option<ChannelBindings>,
}

enum State {
    /// Initiator: AP-REQ sent with MUTUAL-REQUIRED, waiting for AP-REP.
    AwaitingApRep {
        ctime: i64,
        cusec: u32,
        session_key: Key,
        subkey: Key,
        seq: u32,
    },
    Established(Box<MessageProtection>),
    /// A failed step leaves the context unusable (RFC 2743 §2.2.1).
    Failed,
}

/// An established or establishing security context.
pub struct SecurityContext {
    initiator: bool,
    state: State,
    flags: u32,
    client: Principal,
    /// An acceptor's is kept as the ticket named it and built on first use.
    server: InlinePrincipal,
    session_enctype: Enctype,
    /// End of validity (Unix seconds): the ticket's endtime (+ skew for an acceptor, as MIT).
    expires: i64,
    /// The ticket's own end time (Unix seconds).
    ticket_endtime: i64,
    /// The ticket's and the authenticator's authorization data as received; flattened
    /// (AD-IF-RELEVANT unwrapped) on first use, which few servers ask for.
    authz_raw: (AuthorizationData, AuthorizationData),
    /// The ticket's AD-IF-RELEVANT entry that held only the PAC, whose bytes were dropped
    /// from `authz_raw` (the PAC keeps them; no second copy per context).
    pac_entry: Option<usize>,
    authz: std::sync::OnceLock<Vec<AuthzElement>>,
    /// The ticket's PAC, parsed and verified (shared with C handles).
    pac: Option<Arc<Pac>>,
    /// Why the ticket's PAC could not be located or parsed (AllowUnverified only).
    pac_failure: Option<Box<Error>>,
    /// Boxed, as the rarely set fields above: most contexts hold neither.
    delegated: Option<Box<DelegatedCredential>>,
    clock_fixed: Option<i64>,
}

impl std::fmt::Debug for SecurityContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecurityContext")
            .field("initiator", &self.initiator)
            .field("established", &self.is_established())
            .field("flags", &format_args!("{:#x}", self.flags))
            .field("client", &self.client)
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

/// MIT's initial sequence numbers stay below 2^30, so that peers that treat them as
/// signed 32-bit values never see a negative one.
fn initial_seq() -> u32 {
    random_u32() & 0x3fff_ffff
}

/// The acceptor subkey's enctype: the initiator's first RFC 4537 preference that krbap
/// supports, else the initiator subkey's (or session key's) enctype, as MIT chooses.
fn acceptor_subkey_enctype(authenticator_ad: &AuthorizationData, fallback: Enctype) -> Enctype {
    let list = authenticator_ad
        .iter()
        .filter(|e| e.ad_type == ad_type::IF_RELEVANT)
        .filter_map(|e| decode_authorization_data(&e.ad_data).ok())
        .flatten()
        .filter(|e| e.ad_type == ad_type::ETYPE_NEGOTIATION)
        .find_map(|e| decode_etype_list(&e.ad_data).ok());
    list.into_iter()
        .flatten()
        .find_map(Enctype::from_number)
        .unwrap_or(fallback)
}

/// Flattens authorization data, unwrapping AD-IF-RELEVANT (nested up to a small depth).
/// Takes the data (a ticket's PAC is a kilobyte; no second copy).
fn collect_authz(
    out: &mut Vec<AuthzElement>,
    ad: AuthorizationData,
    source: AuthzSource,
    depth: usize,
) {
    for e in ad {
        if e.ad_type == ad_type::IF_RELEVANT && depth < 4 {
            if let Ok(inner) = decode_authorization_data(&e.ad_data) {
                collect_authz(out, inner, source, depth + 1);
                continue;
            }
        }
        out.push(AuthzElement {
            source,
            ad_type: e.ad_type,
            data: e.ad_data,
        });
    }
}

/// Decrypts a KRB-CRED from the 0x8003 checksum: with the session key (MIT), the
/// initiator subkey, or not encrypted at all (etype 0, as Heimdal sends it).
fn decode_delegation(der: &[u8], v: &VerifiedApReq) -> Result<DelegatedCredential> {
    let cred = KrbCred::from_der(der)?;
    let plain = if cred.enc_part.etype == 0 {
        cred.enc_part.cipher.clone()
    } else {
        let keys = std::iter::once(&v.session_key).chain(v.subkey.as_ref());
        keys.filter(|k| k.enctype().number() == cred.enc_part.etype)
            .find_map(|k| {
                k.decrypt(usage::KRB_CRED_ENCPART, &cred.enc_part.cipher)
                    .ok()
            })
            .ok_or_else(|| {
                Error::minor(
                    minor::AP_ERR_BAD_INTEGRITY,
                    "delegated KRB-CRED does not decrypt",
                )
            })?
    };
    let part = EncKrbCredPart::from_der(&plain)?;
    if part.ticket_info.len() != cred.tickets.len() || cred.tickets.is_empty() {
        return Err(Error::defective_token(
            minor::ASN1_BAD_FORMAT,
            "KRB-CRED ticket count mismatch",
        ));
    }
    let mut credentials = Vec::with_capacity(cred.tickets.len());
    let mut client = v.client.clone();
    for (ticket, info) in cred.tickets.iter().zip(&part.ticket_info) {
        let c = Principal {
            realm: info
                .prealm
                .clone()
                .unwrap_or_else(|| v.client.realm.clone()),
            name: info.pname.clone().unwrap_or_else(|| v.client.name.clone()),
        };
        client = c.clone();
        let server = Principal {
            realm: info.srealm.clone().unwrap_or_else(|| ticket.realm.clone()),
            name: info.sname.clone().unwrap_or_else(|| ticket.sname.clone()),
        };
        let t32 = |t: Option<i64>| t.map_or(0, |t| t.clamp(0, u32::MAX as i64) as u32);
        credentials.push(Credential {
            client: c,
            server,
            key: info.key.clone(),
            authtime: t32(info.authtime),
            starttime: t32(info.starttime),
            endtime: t32(info.endtime),
            renew_till: t32(info.renew_till),
            is_skey: false,
            ticket_flags: info.flags.unwrap_or(0),
            addresses: info.caddr.clone().unwrap_or_default(),
            authdata: Vec::new(),
            ticket: ticket.to_der(),
            second_ticket: Vec::new(),
        });
    }
    Ok(DelegatedCredential {
        client,
        credentials,
    })
}

/// Delegation for the initiator (RFC 4121 §4.1.1.1): a FORWARDED TGT from the KDC, as a
/// KRB-CRED encrypted in the service ticket's session key (what MIT sends and MIT's
/// krb5_rd_cred tries first). Like MIT, any failure (no TGT, a TGT that is not
/// FORWARDABLE, a KDC error) means no delegation rather than a failed context.
fn delegate(cred: &InitiatorCredential, session_key: &Key, now: i64, usec: u32) -> Option<Vec<u8>> {
    let forwarded = cred.forwarded_tgt(now).ok()??;
    build_krb_cred(&[forwarded], session_key, now, usec).ok()
}

/// KRB-CRED (RFC 4120 §5.8) carrying `creds`: the tickets in clear, their keys and
/// metadata in an EncKrbCredPart encrypted with `key` (key usage 14). Optional fields that
/// are zero are left out, and a nonce and timestamp are included, as MIT's krb5_mk_ncred
/// does.
pub fn build_krb_cred(creds: &[Credential], key: &Key, now: i64, usec: u32) -> Result<Vec<u8>> {
    let opt_time = |t: u32| (t != 0).then_some(t as i64);
    let mut tickets = Vec::with_capacity(creds.len());
    let mut ticket_info = Vec::with_capacity(creds.len());
    for c in creds {
        tickets.push(Ticket::from_der(&c.ticket).map_err(|e| {
            Error::new(
                major::DEFECTIVE_CREDENTIAL,
                e.minor,
                format!("ticket to delegate: {}", e.detail),
            )
        })?);
        ticket_info.push(KrbCredInfo {
            key: c.key.clone(),
            prealm: Some(c.client.realm.clone()),
            pname: Some(c.client.name.clone()),
            flags: Some(c.ticket_flags),
            authtime: opt_time(c.authtime),
            starttime: opt_time(c.starttime),
            endtime: opt_time(c.endtime),
            renew_till: opt_time(c.renew_till),
            srealm: Some(c.server.realm.clone()),
            sname: Some(c.server.name.clone()),
            caddr: (!c.addresses.is_empty()).then(|| c.addresses.clone()),
        });
    }
    let part = EncKrbCredPart {
        ticket_info,
        nonce: Some(random_u32() & 0x7fff_ffff),
        timestamp: Some(now),
        usec: Some(usec),
        s_address: None,
        r_address: None,
    };
    let plain = zeroize::Zeroizing::new(part.to_der());
    let enc_part = EncryptedData {
        etype: key.enctype().number(),
        kvno: None,
        cipher: key.encrypt(usage::KRB_CRED_ENCPART, &plain),
    };
    Ok(KrbCred { tickets, enc_part }.to_der())
}

impl SecurityContext {
    /// Step 1: the initiator's first call. Returns the context and the initial token
    /// (framed AP-REQ). The context is established at once unless mutual authentication
    /// was requested, in which case [`SecurityContext::continue_init`] takes the AP-REP.
    pub fn initiate(
        cred: &InitiatorCredential,
        target: &Name,
        options: &InitOptions,
    ) -> Result<(SecurityContext, Vec<u8>)> {
        let (now, usec) = cred.clock.now();
        let prepared = cred.service_ticket(target, now)?;
        let (tkt, ticket) = (&prepared.cred, &prepared.ticket);
        let session_key = prepared.session_key.clone();
        let subkey = Key::random(session_key.enctype());
        let seq = initial_seq();
        let mutual = options.req_flags & ctx_flags::MUTUAL != 0;
        // MIT always offers CONF|INTEG and TRANS; DELEG only once a credential was
        // actually delegated.
        let requested = options.req_flags
            & (ctx_flags::MUTUAL
                | ctx_flags::REPLAY
                | ctx_flags::SEQUENCE
                | ctx_flags::CONF
                | ctx_flags::INTEG);
        let mut flags = requested | ctx_flags::CONF | ctx_flags::INTEG | ctx_flags::TRANS;
        let bindings_hash = options
            .channel_bindings
            .as_ref()
            .map_or([0u8; 16], |cb| cb.hash());
        let delegation = if options.req_flags & ctx_flags::DELEG != 0 {
            delegate(cred, &session_key, now, usec)
        } else {
            None
        };
        let mut checksum = GssChecksum {
            bindings_hash,
            flags: flags | delegation.as_ref().map_or(0, |_| ctx_flags::DELEG),
            delegation,
            extensions: Vec::new(),
        };
        let checksum_bytes = match checksum.try_encode() {
            Ok(b) => b,
            Err(_) => {
                // An oversized KRB-CRED: authenticate without delegating.
                checksum.delegation = None;
                checksum.flags &= !ctx_flags::DELEG;
                checksum.encode()
            }
        };
        flags = checksum.flags;
        // RFC 4537: offer our enctype list when the session key is not our first choice.
        let authorization_data = (session_key.enctype() != Enctype::ALL[0]).then(|| {
            let list: Vec<i32> = Enctype::ALL.iter().map(|e| e.number()).collect();
            let inner = vec![AuthorizationDataEntry {
                ad_type: ad_type::ETYPE_NEGOTIATION,
                ad_data: encode_etype_list(&list),
            }];
            vec![AuthorizationDataEntry {
                ad_type: ad_type::IF_RELEVANT,
                ad_data: encode_authorization_data(&inner),
            }]
        });
        let authenticator = Authenticator {
            crealm: tkt.client.realm.clone(),
            cname: tkt.client.name.clone(),
            cksum: Some(Checksum {
                cksumtype: CKSUMTYPE_GSSAPI,
                checksum: checksum_bytes,
            }),
            cusec: usec,
            ctime: now,
            subkey: Some(ap::key_to_asn1(&subkey)),
            seq_number: Some(seq),
            authorization_data,
        };
        let ap_options = if mutual {
            kflags::AP_MUTUAL_REQUIRED
        } else {
            0
        };
        let ap_req = ap::build_ap_req(ticket, &session_key, &authenticator, ap_options);
        let token = frame(TOK_AP_REQ, &ap_req);
        let mut ctx = SecurityContext {
            initiator: true,
            state: State::Failed,
            flags,
            client: tkt.client.clone(),
            server: tkt.server.clone().into(),
            session_enctype: session_key.enctype(),
            expires: tkt.endtime as i64,
            ticket_endtime: tkt.endtime as i64,
            authz_raw: Default::default(),
            pac_entry: None,
            authz: Default::default(),
            pac: None,
            pac_failure: None,
            delegated: None,
            clock_fixed: cred.clock.fixed(),
        };
        if mutual {
            ctx.state = State::AwaitingApRep {
                ctime: now,
                cusec: usec,
                session_key,
                subkey,
                seq,
            };
        } else {
            // Without AP-REP both directions use the initiator subkey and the
            // initiator's sequence number (RFC 4121 §2, MIT).
            ctx.state = State::Established(Box::new(MessageProtection::new(
                subkey,
                false,
                true,
                seq as u64,
                seq as u64,
                flags & ctx_flags::REPLAY != 0,
                flags & ctx_flags::SEQUENCE != 0,
            )));
        }
        Ok((ctx, token))
    }

    /// Step 6: the initiator's second call, with the acceptor's reply (AP-REP, or a
    /// KRB-ERROR token which becomes the matching error).
    pub fn continue_init(&mut self, token: &[u8]) -> Result<()> {
        let State::AwaitingApRep {
            ctime,
            cusec,
            session_key,
            subkey,
            seq,
        } = std::mem::replace(&mut self.state, State::Failed)
        else {
            return Err(Error::new(
                major::FAILURE,
                minor::G_BAD_MSG_CTX,
                "context is not waiting for an AP-REP",
            ));
        };
        let (tok_id, inner) = unframe(token)?;
        if tok_id == TOK_KRB_ERROR {
            let e = KrbError::from_der(inner)?;
            let text = e
                .e_text
                .as_deref()
                .map(String::from_utf8_lossy)
                .unwrap_or_default();
            return Err(Error::minor(
                ap::krb_error_minor(&e),
                format!(
                    "the acceptor replied with KRB-ERROR {}{}{}",
                    e.error_code,
                    if text.is_empty() { "" } else { ": " },
                    text
                ),
            ));
        }
        if tok_id != TOK_AP_REP {
            return Err(Error::defective_token(
                minor::G_WRONG_TOKID,
                "expected an AP-REP token",
            ));
        }
        let rep = ApRep::from_der(inner)?;
        let part = ap::verify_ap_rep(&rep, &session_key, ctime, cusec)?;
        let acceptor_subkey = part.subkey.as_ref().map(ap::key_from_asn1).transpose()?;
        let recv_seq = part.seq_number.unwrap_or(seq);
        let new = |key, is_acceptor_subkey| {
            MessageProtection::new(
                key,
                is_acceptor_subkey,
                true,
                seq as u64,
                recv_seq as u64,
                self.flags & ctx_flags::REPLAY != 0,
                self.flags & ctx_flags::SEQUENCE != 0,
            )
        };
        let protection = match acceptor_subkey {
            Some(k) => new(k, true).with_initiator_key(subkey),
            None => new(subkey, false),
        };
        self.state = State::Established(Box::new(protection));
        Ok(())
    }

    /// Steps 2-5: the acceptor verifies the initial token and, when mutual
    /// authentication was requested, returns the AP-REP token to send back.
    pub fn accept(
        cred: &AcceptorCredential,
        token: &[u8],
        channel_bindings: Option<&ChannelBindings>,
    ) -> std::result::Result<(SecurityContext, Option<Vec<u8>>), AcceptFailure> {
        let (tok_id, inner) = unframe(token)?;
        if tok_id != TOK_AP_REQ {
            return Err(
                Error::defective_token(minor::G_WRONG_TOKID, "expected an AP-REQ token").into(),
            );
        }
        // The ciphertexts stay in the token; the reference decoder's owned AP-REQ (for
        // input the fast decoder declines) is viewed the same way.
        let owned: ApReq;
        let ap_req = match ApReqRef::decode(inner) {
            Some(r) => r,
            None => {
                owned = ApReq::from_der(inner).map_err(Error::from)?;
                ApReqRef::of(&owned)
            }
        };
        let (now, usec) = cred.clock.now();
        let error_token = |e: Error, server: Option<&Principal>| AcceptFailure {
            token: Some(frame(
                TOK_KRB_ERROR,
                &ap::build_krb_error(e.minor, server, now, usec),
            )),
            error: e,
        };
        // Compared where it is in the token; built only for an error (or when asked).
        let server = ap_req.ticket_server;
        if let Some(n) = cred.name() {
            if !n.matches_ref(&server) {
                let server = server.to_principal();
                let e = Error::minor(
                    minor::AP_ERR_NOT_US,
                    format!(
                        "ticket is for {server}, this acceptor is {}",
                        String::from_utf8_lossy(&n.display())
                    ),
                );
                return Err(error_token(e, Some(&server)));
            }
        }
        let keys = cred.keys_guard(false);
        let reloaded;
        let enc = &ap_req.ticket_enc_part;
        let service_key = match ap::find_service_key_for(&keys, &server, enc.etype, enc.kvno) {
            Ok(sk) => Ok(sk),
            Err(_) => {
                // Perhaps a rotation added the key since the last look at the keytab.
                reloaded = cred.keys_guard(true);
                ap::find_service_key_for(&reloaded, &server, enc.etype, enc.kvno)
            }
        };
        let rcache = cred.replay_cache_guard();
        let kdc_keys = cred.pac_kdc_keys_guard();
        let policy = AcceptPolicy {
            now,
            skew: cred.clock_skew(),
            replay_cache: &rcache,
            pac: PacCheck {
                policy: cred.pac_policy(),
                kdc_keys: &kdc_keys,
            },
        };
        let v = ap::verify_ap_req_ref(&ap_req, service_key, &policy)
            .map_err(|e| error_token(e, Some(&server.to_principal())))?;
        let (mut ctx, reply) = Self::finish_accept(
            v,
            InlinePrincipal::new(&server),
            cred.clock_skew(),
            channel_bindings,
        )
        .map_err(|e| error_token(e, Some(&server.to_principal())))?;
        ctx.clock_fixed = cred.clock.fixed();
        Ok((ctx, reply))
    }

    /// FUZZING HOOK, not an API: [`SecurityContext::accept`] after decryption, with the
    /// ticket and authenticator plaintexts given (see `ap::fuzz_verify_plaintexts`), so a
    /// fuzzer reaches the 0x8003 checksum, delegation and authorization-data code.
    #[cfg(feature = "fuzzing")]
    #[doc(hidden)]
    pub fn fuzz_accept_plaintexts(
        cred: &AcceptorCredential,
        ap_req: &ApReq,
        ticket_plain: &[u8],
        authenticator_plain: &[u8],
    ) -> Result<(SecurityContext, Option<Vec<u8>>)> {
        let (now, _) = cred.clock.now();
        let rcache = cred.replay_cache();
        let kdc_keys = cred.pac_kdc_keys();
        let policy = AcceptPolicy {
            now,
            skew: cred.clock_skew(),
            replay_cache: &rcache,
            pac: PacCheck {
                policy: cred.pac_policy(),
                kdc_keys: &kdc_keys,
            },
        };
        let keys = cred.keys();
        let server = ap::ticket_server(&ap_req.ticket);
        let enc = &ap_req.ticket.enc_part;
        let service_key = &ap::find_service_key(&keys, &server, enc.etype, enc.kvno)?.key;
        let mut v = ap::fuzz_verify_plaintexts(
            ap_req,
            ticket_plain,
            authenticator_plain,
            service_key,
            &policy,
        )?;
        let server = std::mem::take(&mut v.server).into();
        Self::finish_accept(v, server, cred.clock_skew(), None)
    }

    /// `server`: the ticket's (`v.server` is not read).
    fn finish_accept(
        mut v: VerifiedApReq,
        server: InlinePrincipal,
        skew: i64,
        channel_bindings: Option<&ChannelBindings>,
    ) -> Result<(SecurityContext, Option<Vec<u8>>)> {
        // RFC 4121 §4.1.1: the GSS authenticator checksum.
        let cksum = v.authenticator.cksum.as_ref().ok_or_else(|| {
            Error::minor(minor::AP_ERR_INAPP_CKSUM, "authenticator has no checksum")
        })?;
        if cksum.cksumtype != CKSUMTYPE_GSSAPI {
            return Err(Error::minor(
                minor::AP_ERR_INAPP_CKSUM,
                format!(
                    "authenticator checksum type {} is not the GSS type 0x8003",
                    cksum.cksumtype
                ),
            ));
        }
        let gss = GssChecksum::decode(&cksum.checksum)?;
        verify_bindings(&gss.bindings_hash, channel_bindings)?;
        let delegated = match (&gss.delegation, gss.flags & ctx_flags::DELEG != 0) {
            (Some(der), true) => Some(decode_delegation(der, &v)?),
            _ => None,
        };
        let mut flags = ctx_flags::TRANS
            | ctx_flags::PROT_READY
            | (gss.flags
                & (ctx_flags::INTEG
                    | ctx_flags::CONF
                    | ctx_flags::MUTUAL
                    | ctx_flags::REPLAY
                    | ctx_flags::SEQUENCE));
        if delegated.is_some() {
            flags |= ctx_flags::DELEG;
        }
        let mut authz_raw = (
            v.ticket.authorization_data.take().unwrap_or_default(),
            v.authenticator
                .authorization_data
                .take()
                .unwrap_or_default(),
        );
        // Kept per context: no spare capacity from the decoder's growth.
        authz_raw.0.shrink_to_fit();
        authz_raw.1.shrink_to_fit();
        let mut pac_entry = None;
        if let (Some(_), Some(at)) = (&v.pac.pac, v.pac.location) {
            if at.entries == 1 {
                if let Some(e) = authz_raw.0.get_mut(at.outer) {
                    e.ad_data = Vec::new();
                    pac_entry = Some(at.outer);
                }
            }
        }
        let initiator_seq = v.authenticator.seq_number.unwrap_or(0);
        let initiator_key = v.subkey.clone().unwrap_or_else(|| v.session_key.cached());
        let (protection, reply) = if v.ap_options & kflags::AP_MUTUAL_REQUIRED != 0 {
            let enctype = acceptor_subkey_enctype(&authz_raw.1, initiator_key.enctype());
            let acceptor_subkey = Key::random(enctype);
            let seq = initial_seq();
            let rep = EncApRepPart {
                ctime: v.authenticator.ctime,
                cusec: v.authenticator.cusec,
                subkey: Some(ap::key_to_asn1(&acceptor_subkey)),
                seq_number: Some(seq),
            };
            // Encrypted straight into the reply token, allocated at its final size.
            let layout = ap::ApRepLayout::of(&v.session_key, &rep);
            let token = frame_with(TOK_AP_REP, layout.len, |o| {
                ap::build_ap_rep_into(&v.session_key, &rep, layout, o)
            });
            let p = MessageProtection::new(
                acceptor_subkey,
                true,
                false,
                seq as u64,
                initiator_seq as u64,
                flags & ctx_flags::REPLAY != 0,
                flags & ctx_flags::SEQUENCE != 0,
            )
            .with_initiator_key(initiator_key);
            (p, Some(token))
        } else {
            let p = MessageProtection::new(
                initiator_key,
                false,
                false,
                initiator_seq as u64,
                initiator_seq as u64,
                flags & ctx_flags::REPLAY != 0,
                flags & ctx_flags::SEQUENCE != 0,
            );
            (p, None)
        };
        let ctx = SecurityContext {
            initiator: false,
            state: State::Established(Box::new(protection)),
            flags,
            client: v.client,
            server,
            session_enctype: v.session_key.enctype(),
            expires: v.ticket.endtime.saturating_add(skew),
            ticket_endtime: v.ticket.endtime,
            authz_raw,
            pac_entry,
            authz: Default::default(),
            pac: v.pac.pac.map(Arc::new),
            pac_failure: v.pac.failure.map(Box::new),
            delegated: delegated.map(Box::new),
            clock_fixed: None,
        };
        Ok((ctx, reply))
    }

    pub fn is_established(&self) -> bool {
        matches!(self.state, State::Established(_))
    }
    pub fn is_initiator(&self) -> bool {
        self.initiator
    }
    /// GSS_C_*_FLAG bits in effect (PROT_READY on the acceptor, as MIT).
    pub fn flags(&self) -> u32 {
        self.flags
    }
    /// The initiator's principal (the acceptor's `src_name`).
    pub fn client(&self) -> &Principal {
        &self.client
    }
    /// The acceptor's principal, as named in the ticket.
    pub fn server(&self) -> &Principal {
        self.server.get()
    }
    pub fn session_enctype(&self) -> Enctype {
        self.session_enctype
    }
    /// Unix time at which the context expires.
    pub fn expires(&self) -> i64 {
        self.expires
    }

    /// The end time of the ticket the context was made with.
    pub fn ticket_endtime(&self) -> i64 {
        self.ticket_endtime
    }
    /// Seconds of validity left at `now` (0 once expired).
    pub fn lifetime(&self, now: i64) -> u32 {
        (self.expires - now).clamp(0, u32::MAX as i64) as u32
    }
    /// Authorization data of ticket and authenticator, AD-IF-RELEVANT unwrapped.
    pub fn authorization_data(&self) -> &[AuthzElement] {
        self.authz.get_or_init(|| {
            let mut out = Vec::new();
            let (ticket, authenticator) = &self.authz_raw;
            for (i, e) in ticket.iter().enumerate() {
                match (&self.pac, self.pac_entry) {
                    (Some(p), Some(at)) if at == i => out.push(AuthzElement {
                        source: AuthzSource::Ticket,
                        ad_type: ad_type::WIN2K_PAC,
                        data: p.as_bytes().to_vec(),
                    }),
                    _ => collect_authz(&mut out, vec![e.clone()], AuthzSource::Ticket, 0),
                }
            }
            collect_authz(
                &mut out,
                authenticator.clone(),
                AuthzSource::Authenticator,
                0,
            );
            out
        })
    }
    /// The raw AD-WIN2K-PAC blob from the ticket, if the KDC put one there.
    pub fn pac(&self) -> Option<&[u8]> {
        if let Some(p) = &self.pac {
            return Some(p.as_bytes());
        }
        self.authorization_data()
            .iter()
            .find(|e| e.source == AuthzSource::Ticket && e.ad_type == ad_type::WIN2K_PAC)
            .map(|e| e.data.as_slice())
    }
    /// The ticket's PAC, parsed, with the signatures that verified
    /// ([`Pac::verified`]); `None` when the ticket had none (or, under
    /// [`crate::pac::PacPolicy::AllowUnverified`], when it could not be parsed: see
    /// [`SecurityContext::pac_failure`]).
    ///
    /// The PAC's content is decoded here, on first use: a PAC whose signatures verified but
    /// whose content does not decode is refused (`None`; [`SecurityContext::pac_result`]
    /// and [`SecurityContext::pac_failure`] say why).
    pub fn pac_info(&self) -> Option<&Arc<Pac>> {
        self.pac_result().ok().flatten()
    }
    /// [`SecurityContext::pac_info`] with the error of a PAC that could not be used:
    /// `Ok(None)` without a PAC.
    pub fn pac_result(&self) -> Result<Option<&Arc<Pac>>> {
        match &self.pac {
            Some(p) => p.check_contents().map(|_| Some(p)),
            None => match &self.pac_failure {
                Some(e) => Err((**e).clone()),
                None => Ok(None),
            },
        }
    }
    /// Why the ticket's PAC could not be used: a PAC that failed verification under
    /// [`crate::pac::PacPolicy::AllowUnverified`] (its reason is also in [`Pac::failure`]),
    /// one that could not be located or parsed there, or one whose content does not decode.
    pub fn pac_failure(&self) -> Option<Error> {
        if let Some(f) = self.pac.as_ref().and_then(|p| p.failure()) {
            return Some(f.clone());
        }
        self.pac_result().err()
    }
    pub fn delegated_credential(&self) -> Option<&DelegatedCredential> {
        self.delegated.as_deref()
    }
    pub fn take_delegated_credential(&mut self) -> Option<DelegatedCredential> {
        self.delegated.take().map(|d| *d)
    }

    /// The context's notion of now: its fixed time if one was set, else the system clock.
    pub fn now(&self) -> i64 {
        self.clock_fixed
            .unwrap_or_else(|| crate::cred::Clock::default().now().0)
    }

    /// Fixes the context's clock (for tests and captured tokens); `None` = system time.
    pub fn set_fixed_time(&mut self, t: Option<i64>) {
        self.clock_fixed = t;
    }

    fn protection(&mut self) -> Result<&mut MessageProtection> {
        let now = self.now();
        let expired = now > self.expires;
        match &mut self.state {
            State::Established(_) if expired => Err(Error::new(
                major::CONTEXT_EXPIRED,
                minor::AP_ERR_TKT_EXPIRED,
                "the context's ticket has expired",
            )),
            State::Established(p) => Ok(p),
            _ => Err(Error::new(
                major::NO_CONTEXT,
                minor::G_BAD_MSG_CTX,
                "context is not established",
            )),
        }
    }

    /// RFC 4121 §4.2.6.2 Wrap token.
    pub fn wrap(&mut self, conf: bool, message: &[u8]) -> Result<Vec<u8>> {
        Ok(self.protection()?.wrap(conf, message))
    }
    pub fn unwrap(&mut self, token: &[u8]) -> Result<Unwrapped> {
        self.protection()?.unwrap(token)
    }
    /// RFC 4121 §4.2.6.1 MIC token.
    pub fn get_mic(&mut self, message: &[u8]) -> Result<Vec<u8>> {
        Ok(self.protection()?.get_mic(message))
    }
    /// Returns the supplementary status bits (duplicate/old/unseq/gap).
    pub fn verify_mic(&mut self, message: &[u8], token: &[u8]) -> Result<u32> {
        self.protection()?.verify_mic(message, token)
    }
    pub fn wrap_size_limit(&mut self, conf: bool, max_output: u32) -> Result<u32> {
        Ok(self.protection()?.wrap_size_limit(conf, max_output))
    }
}
