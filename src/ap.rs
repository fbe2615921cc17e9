//! The Kerberos AP exchange itself (RFC 4120 §3.2), independent of GSS-API framing:
//! building and verifying KRB_AP_REQ and KRB_AP_REP, and KRB-ERROR replies.
//!
//! The acceptor's checks: ticket key lookup and decryption, authenticator decryption,
//! client match, ticket validity times and the INVALID flag, authenticator clock skew
//! (the order in which MIT's krb5_rd_req_decoded reports them, so that the same bad
//! input gives the same code), the ticket's PAC (MS-PAC signatures and CLIENT_INFO, see
//! [`crate::pac`]), and last the replay cache, so that only authenticators that passed
//! every other check are stored (MIT stores before the time checks).

use crate::asn1::{
    flags, ApRep, ApReq, ApReqRef, Authenticator, Der, EncApRepPart, EncTicketPart, EncryptedData,
    EncryptedDataRef, EncryptionKey, KrbError, PrincipalRef, Ticket,
};
use crate::crypto::{usage, wipe, Enctype, Key};
use crate::error::{major, minor, Error, Result};
use crate::pac::{PacCheck, TicketPac};
use crate::principal::{Principal, PrincipalName};
use crate::rcache::ReplayCache;

/// Default maximum clock skew (MIT's `clockskew` default).
pub const DEFAULT_CLOCK_SKEW: i64 = 300;

/// A service key as the acceptor holds it: principal, key version and key.
#[derive(Clone, Debug)]
pub struct ServiceKey {
    pub principal: Principal,
    pub kvno: u32,
    pub key: Key,
}

/// Where the acceptor's service keys come from (a keytab snapshot, keys in memory).
pub trait ServiceKeys {
    /// All keys, for the lookup rules of [`find_service_key`].
    fn service_keys(&self) -> &[ServiceKey];
}

impl ServiceKeys for Vec<ServiceKey> {
    fn service_keys(&self) -> &[ServiceKey] {
        self
    }
}

/// Selects the key for a ticket by server principal, enctype and kvno, with MIT's
/// error codes when none fits: no entry for the principal -> KRB5KRB_AP_ERR_NOT_US
/// (or KRB5KRB_AP_WRONG_PRINC when the acceptor was bound to another name), principal
/// found but not that kvno -> KRB5KRB_AP_ERR_BADKEYVER, kvno found but not that
/// enctype -> KRB5KRB_AP_ERR_NOKEY. A ticket without kvno takes the highest kvno.
pub fn find_service_key<'a>(
    keys: &'a [ServiceKey],
    server: &Principal,
    etype: i32,
    kvno: Option<u32>,
) -> Result<&'a ServiceKey> {
    find_service_key_for(
        keys,
        &PrincipalRef::of(&server.realm, &server.name),
        etype,
        kvno,
    )
}

/// [`find_service_key`] for the server as the AP-REQ names it (not built).
pub(crate) fn find_service_key_for<'a>(
    keys: &'a [ServiceKey],
    server: &PrincipalRef,
    etype: i32,
    kvno: Option<u32>,
) -> Result<&'a ServiceKey> {
    let mut found_principal = false;
    let mut found_kvno = false;
    let mut best: Option<&ServiceKey> = None;
    for k in keys.iter().filter(|k| server.matches(&k.principal)) {
        found_principal = true;
        let kvno_ok = match kvno {
            // Only the low 8 bits of a kvno survive in some keytabs (MIT compares so too).
            Some(v) => k.kvno == v || (k.kvno < 256 && v & 0xff == k.kvno),
            None => true,
        };
        if !kvno_ok {
            continue;
        }
        found_kvno = true;
        if k.key.enctype().number() != etype {
            continue;
        }
        if best.is_none_or(|b| k.kvno > b.kvno) {
            best = Some(k);
        }
    }
    best.ok_or_else(|| {
        let name = server.to_principal().to_string_lossy();
        if !found_principal {
            Error::minor(
                minor::AP_ERR_NOT_US,
                format!("no key for {name} in the acceptor's keytab"),
            )
        } else if !found_kvno {
            Error::minor(
                minor::AP_ERR_BADKEYVER,
                format!(
                    "no key for {name} with kvno {}",
                    kvno.map_or("-".into(), |v| v.to_string())
                ),
            )
        } else {
            Error::minor(
                minor::AP_ERR_NOKEY,
                format!(
                    "no key for {name} kvno {} with enctype {etype}",
                    kvno.unwrap_or(0)
                ),
            )
        }
    })
}

/// The policy an acceptor applies to an AP-REQ.
pub struct AcceptPolicy<'a> {
    /// Current time (seconds) and microseconds.
    pub now: i64,
    pub skew: i64,
    pub replay_cache: &'a ReplayCache,
    /// What to do with the ticket's PAC, and the KDC keys to verify it with.
    pub pac: PacCheck<'a>,
}

/// A KRB_AP_REQ that passed every check of RFC 4120 §3.2.3.
#[derive(Debug)]
pub struct VerifiedApReq {
    pub ap_options: u32,
    /// The ticket's server principal (realm + sname).
    pub server: Principal,
    pub client: Principal,
    /// The decrypted ticket; its `crealm` and `cname` are moved into `client`, its key's
    /// value into `session_key` (empty here).
    pub ticket: EncTicketPart,
    pub session_key: Key,
    /// The decrypted authenticator; its `crealm` and `cname`, found equal to the ticket's
    /// client, are not kept (empty here: see `client`), its subkey is in `subkey` (`None`
    /// here).
    pub authenticator: Authenticator,
    /// The authenticator's initiator subkey, if any (a supported enctype).
    pub subkey: Option<Key>,
    pub ticket_kvno: Option<u32>,
    /// The ticket's PAC, verified as `AcceptPolicy::pac` asked.
    pub pac: TicketPac,
}

/// Converts an EncryptionKey to a crypto Key (unsupported enctype -> KRB5_BAD_ENCTYPE).
pub fn key_from_asn1(k: &EncryptionKey) -> Result<Key> {
    key_from_parts(k.keytype, &k.keyvalue, Key::new)
}

/// A key from an EncryptionKey's keytype and keyvalue (unsupported enctype ->
/// KRB5_BAD_ENCTYPE).
fn key_from_parts(
    keytype: i32,
    keyvalue: &[u8],
    new: fn(Enctype, &[u8]) -> std::result::Result<Key, crate::crypto::CryptoError>,
) -> Result<Key> {
    let enctype = Enctype::from_number(keytype).ok_or_else(|| {
        Error::minor(minor::BAD_ENCTYPE, format!("unsupported enctype {keytype}"))
    })?;
    Ok(new(enctype, keyvalue)?)
}

/// An EncryptionKey carrying a copy of `key`'s bytes.
pub fn key_to_asn1(key: &Key) -> EncryptionKey {
    EncryptionKey {
        keytype: key.enctype().number(),
        keyvalue: key.bytes().to_vec().into(),
    }
}

fn decrypt_part(key: &Key, usage: u32, part: &EncryptedData, what: &str) -> Result<Vec<u8>> {
    check_part_enctype(key, part.etype, what)?;
    key.decrypt(usage, &part.cipher)
        .map_err(|e| integrity_error(e, what))
}

/// Largest ticket plaintext decrypted on the stack (a ticket with a PAC of a few groups);
/// larger ones, such as those of users in many AD groups, go to the heap.
const TICKET_ON_STACK: usize = 2048;
/// Largest authenticator plaintext decrypted on the stack (one with a forwarded TGT in
/// its checksum goes to the heap).
const AUTHENTICATOR_ON_STACK: usize = 512;

/// Decrypts `part` (straight out of the token: no copy of the message first) and hands its
/// plaintext to `decode`. The plaintext holds keys (the session key, a subkey): it lives
/// on the stack when it fits in `N` bytes (no allocation on the accept path) and is wiped
/// before returning.
fn open_part<const N: usize, T>(
    key: &Key,
    usage: u32,
    part: &EncryptedDataRef,
    what: &str,
    decode: impl FnOnce(&[u8]) -> Result<T>,
) -> Result<T> {
    check_part_enctype(key, part.etype, what)?;
    let mut stack = [0u8; N];
    let mut heap = Vec::new();
    let buf: &mut [u8] = if part.cipher.len() <= N {
        &mut stack
    } else {
        heap.resize(part.cipher.len(), 0);
        &mut heap
    };
    // On failure the crypto layer has wiped what it wrote.
    let n = key
        .decrypt_into(usage, part.cipher, buf)
        .map_err(|e| integrity_error(e, what))?;
    let plain = &mut buf[..n];
    let value = decode(plain);
    wipe(plain);
    value
}

fn check_part_enctype(key: &Key, etype: i32, what: &str) -> Result<()> {
    if etype != key.enctype().number() {
        return Err(Error::minor(
            minor::AP_ERR_BAD_INTEGRITY,
            format!(
                "{what} encrypted with enctype {}, key is {}",
                etype,
                key.enctype().name()
            ),
        ));
    }
    Ok(())
}

fn integrity_error(e: crate::crypto::CryptoError, what: &str) -> Error {
    let mut err: Error = e.into();
    err.minor = minor::AP_ERR_BAD_INTEGRITY;
    err.detail = format!("{what}: {e}");
    err
}

/// The principal a ticket is for (its realm and sname).
pub fn ticket_server(ticket: &Ticket) -> Principal {
    Principal {
        realm: ticket.realm.clone(),
        name: ticket.sname.clone(),
    }
}

/// Step 2 alone: finds the service key and decrypts the ticket (usage 2).
pub fn decrypt_ticket(ticket: &Ticket, keys: &[ServiceKey]) -> Result<(EncTicketPart, Key)> {
    decrypt_ticket_with(ticket, keys).map(|(part, session_key, _)| (part, session_key))
}

/// [`decrypt_ticket`], also returning the service key that decrypted it (borrowed: the
/// PAC's server signature is checked with it).
pub fn decrypt_ticket_with<'a>(
    ticket: &Ticket,
    keys: &'a [ServiceKey],
) -> Result<(EncTicketPart, Key, &'a Key)> {
    let enc_part = ticket.enc_part.as_ref();
    let sk = find_service_key(keys, &ticket_server(ticket), enc_part.etype, enc_part.kvno)?;
    let (mut part, session_key, service_key) = decrypt_ticket_ref(&enc_part, sk)?;
    // Whole, as decoded (the acceptor's path leaves the key's value in `session_key` only).
    part.key.keyvalue = session_key.bytes().to_vec().into();
    Ok((part, session_key, service_key))
}

/// Decrypts a ticket's enc-part with `sk` (found for its server) and decodes it.
fn decrypt_ticket_ref<'a>(
    enc_part: &EncryptedDataRef,
    sk: &'a ServiceKey,
) -> Result<(EncTicketPart, Key, &'a Key)> {
    let (part, session_key) = open_part::<TICKET_ON_STACK, _>(
        &sk.key,
        usage::KDC_REP_TICKET,
        enc_part,
        "ticket",
        decode_ticket_plaintext,
    )?;
    Ok((part, session_key, &sk.key))
}

/// The decrypted ticket (EncTicketPart DER) and its session key (made straight from the
/// plaintext: the ticket's `key.keyvalue` is left empty).
fn decode_ticket_plaintext(plain: &[u8]) -> Result<(EncTicketPart, Key)> {
    // Used for the authenticator and the AP-REP, then dropped (the context keeps a
    // caching copy when the session key protects its messages): no derived-key cache.
    let (part, session_key) = EncTicketPart::from_der_key_apart(plain, |keytype, keyvalue| {
        key_from_parts(keytype, keyvalue, Key::new_uncached)
    })
    .map_err(|e| {
        Error::minor(
            minor::AP_ERR_BAD_INTEGRITY,
            format!("ticket decrypted but does not decode: {e}"),
        )
    })?;
    Ok((part, session_key?))
}

/// Steps 2 and 3 of the exchange (RFC 4120 §3.2.3): decrypts the ticket with the
/// service key, the authenticator with the session key, and checks client, skew,
/// replay and ticket times. The replay cache is consulted only for an authenticator
/// that is otherwise valid, so a forged one cannot fill it.
pub fn verify_ap_req(
    ap_req: &ApReq,
    keys: &[ServiceKey],
    policy: &AcceptPolicy,
) -> Result<VerifiedApReq> {
    let view = ApReqRef::of(ap_req);
    let enc = &ap_req.ticket.enc_part;
    let sk = find_service_key_for(keys, &view.ticket_server, enc.etype, enc.kvno);
    let mut v = verify_ap_req_ref(&view, sk, policy)?;
    v.server = ticket_server(&ap_req.ticket);
    Ok(v)
}

/// [`verify_ap_req`] for the acceptor, on the AP-REQ as it decoded it ([`ApReqRef`]: the
/// ciphertexts still in the token). `service_key` is what [`find_service_key_for`] gave
/// for its server (the acceptor looked it up already, to decide whether to re-read its
/// keytab). The checks that name the server (the PAC's, the replay cache's) are given the
/// key's principal, which has the ticket's realm and components (only the name type may
/// differ, which they do not read). The result's `server` is left empty for the caller
/// to fill.
pub(crate) fn verify_ap_req_ref(
    ap_req: &ApReqRef,
    service_key: Result<&ServiceKey>,
    policy: &AcceptPolicy,
) -> Result<VerifiedApReq> {
    if ap_req.ap_options & flags::AP_USE_SESSION_KEY != 0 {
        // User-to-user needs the acceptor's TGT session key, which a keytab acceptor lacks.
        return Err(Error::minor(
            minor::AP_ERR_METHOD,
            "user-to-user AP-REQ is not supported",
        ));
    }
    let service_key = service_key?;
    let server = &service_key.principal;
    let (ticket, session_key, service_key) =
        decrypt_ticket_ref(&ap_req.ticket_enc_part, service_key)?;
    let authenticator = open_part::<AUTHENTICATOR_ON_STACK, _>(
        &session_key,
        usage::AP_REQ_AUTH,
        &ap_req.authenticator,
        "authenticator",
        |plain| decode_authenticator(plain, &ticket),
    )?;
    verify_decrypted(
        ap_req,
        server,
        ticket,
        session_key,
        service_key,
        authenticator,
        policy,
    )
}

/// The Authenticator, its client compared with the ticket's (and not kept: see
/// [`VerifiedApReq::authenticator`]), and its subkey made straight from the plaintext.
/// A subkey of an unsupported enctype is an error only after the other checks (in
/// [`verify_decrypted`]), as before the key was made here.
fn decode_authenticator(plain: &[u8], ticket: &EncTicketPart) -> Result<DecodedAuthenticator> {
    Authenticator::from_der_for_client(plain, (&ticket.crealm, &ticket.cname), |subkey| {
        subkey
            .map(|(keytype, keyvalue)| key_from_parts(keytype, keyvalue, Key::new))
            .transpose()
    })
    .map_err(|e| {
        Error::minor(
            minor::AP_ERR_BAD_INTEGRITY,
            format!("authenticator decrypted but does not decode: {e}"),
        )
    })
}

/// An Authenticator as [`decode_authenticator`] gives it: the value (client names and
/// subkey taken out), whether its client is the ticket's, and its subkey.
type DecodedAuthenticator = (Authenticator, bool, Result<Option<Key>>);

/// The checks of [`verify_ap_req`] after both decryptions: `authenticator` is the
/// decoded Authenticator and whether its client is the ticket's, `ticket` and
/// `session_key` the decrypted ticket, `service_key` the key that decrypted it. The
/// result's `server` is empty.
fn verify_decrypted(
    ap_req: &ApReqRef,
    server: &Principal,
    mut ticket: EncTicketPart,
    session_key: Key,
    service_key: &Key,
    (authenticator, same_client, subkey): DecodedAuthenticator,
    policy: &AcceptPolicy,
) -> Result<VerifiedApReq> {
    if !same_client {
        return Err(Error::minor(
            minor::AP_ERR_BADMATCH,
            "authenticator client differs from the ticket's",
        ));
    }
    // Ticket times first, then the authenticator's clock skew, as MIT reports them.
    let start = ticket.starttime.unwrap_or(ticket.authtime);
    if start - policy.now > policy.skew {
        return Err(Error::minor(
            minor::AP_ERR_TKT_NYV,
            format!("ticket starts in {} s", start - policy.now),
        ));
    }
    if policy.now - ticket.endtime > policy.skew {
        return Err(Error::new(
            major::CREDENTIALS_EXPIRED,
            minor::AP_ERR_TKT_EXPIRED,
            format!("ticket expired {} s ago", policy.now - ticket.endtime),
        ));
    }
    if ticket.flags & flags::TKT_INVALID != 0 {
        return Err(Error::minor(
            minor::AP_ERR_TKT_INVALID,
            "ticket has the INVALID flag",
        ));
    }
    let skew_seen = (authenticator.ctime - policy.now).abs();
    if skew_seen > policy.skew {
        return Err(Error::minor(
            minor::AP_ERR_SKEW,
            format!(
                "authenticator time is {skew_seen} s from ours, {} s allowed",
                policy.skew
            ),
        ));
    }
    // The PAC (MS-PAC): a forged or misplaced one fails here, before the replay cache.
    let pac = crate::pac::check_accepted_ticket(
        &ticket,
        session_key.bytes(),
        server,
        service_key,
        &policy.pac,
    )?;
    // Moved, not copied: the context keeps the client, the ticket's copy is not read again.
    let client = Principal {
        realm: std::mem::take(&mut ticket.crealm),
        name: std::mem::take(&mut ticket.cname),
    };
    // Last, so that only authenticators that passed every other check enter the cache.
    policy.replay_cache.check_and_store_authenticator(
        ap_req.authenticator.cipher,
        session_key.enctype().mac_len(),
        &crate::rcache::AuthenticatorId {
            server,
            client: &client,
            ctime: authenticator.ctime,
            cusec: authenticator.cusec,
        },
        policy.now,
        policy.skew,
    )?;
    let subkey = subkey?;
    Ok(VerifiedApReq {
        ap_options: ap_req.ap_options,
        server: Principal::default(),
        client,
        ticket,
        session_key,
        authenticator,
        subkey,
        ticket_kvno: ap_req.ticket_enc_part.kvno,
        pac,
    })
}

/// FUZZING HOOK, not an API: the acceptor's checks of `ap_req` as if its ticket had
/// decrypted to `ticket_plain` and its authenticator to `authenticator_plain`, so that a
/// fuzzer reaches the code after decryption without forging ciphertexts. `service_key`
/// stands for the key that decrypted the ticket (the PAC's server signature key).
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub fn fuzz_verify_plaintexts(
    ap_req: &ApReq,
    ticket_plain: &[u8],
    authenticator_plain: &[u8],
    service_key: &Key,
    policy: &AcceptPolicy,
) -> Result<VerifiedApReq> {
    let (ticket, session_key) = decode_ticket_plaintext(ticket_plain)?;
    let authenticator = decode_authenticator(authenticator_plain, &ticket)?;
    let server = ticket_server(&ap_req.ticket);
    let mut v = verify_decrypted(
        &ApReqRef::of(ap_req),
        &server,
        ticket,
        session_key,
        service_key,
        authenticator,
        policy,
    )?;
    v.server = server;
    Ok(v)
}

/// Step 5: KRB_AP_REP echoing ctime/cusec, encrypted in the session key (usage 12).
pub fn build_ap_rep(session_key: &Key, rep: &EncApRepPart) -> Vec<u8> {
    let layout = ApRepLayout::of(session_key, rep);
    let mut out = Vec::with_capacity(layout.len);
    build_ap_rep_into(session_key, rep, layout, &mut out);
    out
}

/// The sizes of the AP-REP [`build_ap_rep_into`] makes of an EncAPRepPart, computed once:
/// `len` sizes the caller's buffer exactly, `part_len` is the plaintext to encrypt.
#[derive(Clone, Copy)]
pub(crate) struct ApRepLayout {
    pub(crate) len: usize,
    part_len: usize,
}

impl ApRepLayout {
    pub(crate) fn of(session_key: &Key, rep: &EncApRepPart) -> ApRepLayout {
        let enctype = session_key.enctype();
        let part_len = crate::asn1::enc_ap_rep_part_len(rep);
        let cipher_len = part_len + enctype.ciphertext_overhead();
        ApRepLayout {
            len: crate::asn1::ap_rep_len(enctype.number(), None, cipher_len),
            part_len,
        }
    }
}

/// The AP-REP of `rep`, its EncAPRepPart (which holds the acceptor subkey) encoded where
/// it is encrypted, in `out`: no plaintext copy to allocate and wipe. `layout` is
/// [`ApRepLayout::of`] the same key and part.
pub(crate) fn build_ap_rep_into(
    session_key: &Key,
    rep: &EncApRepPart,
    layout: ApRepLayout,
    out: &mut Vec<u8>,
) {
    crate::asn1::encode_ap_rep_with(out, session_key.enctype().number(), None, |o| {
        session_key.encrypt_append_with(usage::AP_REP_ENCPART, layout.part_len, o, |o| {
            crate::asn1::put_enc_ap_rep_part(o, rep)
        })
    });
}

/// Step 6: decrypts KRB_AP_REP and checks that it echoes our ctime/cusec exactly.
pub fn verify_ap_rep(
    ap_rep: &ApRep,
    session_key: &Key,
    ctime: i64,
    cusec: u32,
) -> Result<EncApRepPart> {
    let plain = decrypt_part(
        session_key,
        usage::AP_REP_ENCPART,
        &ap_rep.enc_part,
        "AP-REP",
    )?;
    let part = EncApRepPart::from_der(&plain).map_err(|e| {
        Error::minor(
            minor::AP_ERR_BAD_INTEGRITY,
            format!("AP-REP decrypted but does not decode: {e}"),
        )
    })?;
    if part.ctime != ctime || part.cusec != cusec {
        return Err(Error::minor(
            minor::AP_ERR_MUT_FAIL,
            format!(
                "AP-REP time {}.{:06} differs from ours {ctime}.{cusec:06}",
                part.ctime, part.cusec
            ),
        ));
    }
    Ok(part)
}

/// Step 1: KRB_AP_REQ from a ticket (DER), its session key and an authenticator.
pub fn build_ap_req(
    ticket: &Ticket,
    session_key: &Key,
    authenticator: &Authenticator,
    ap_options: u32,
) -> Vec<u8> {
    // The plaintext holds the subkey: wiped after use.
    let plain = zeroize::Zeroizing::new(authenticator.to_der());
    let enctype = session_key.enctype();
    let cipher_len = plain.len() + enctype.ciphertext_overhead();
    // Encrypted straight into the AP-REQ (no copy of the ticket or the ciphertext).
    crate::asn1::encode_ap_req_with(
        ap_options,
        ticket,
        enctype.number(),
        None,
        cipher_len,
        |out| session_key.encrypt_parts_append(usage::AP_REQ_AUTH, &[&plain], out),
    )
}

/// A KRB-ERROR for a failed AP-REQ (RFC 4120 §5.9.1), as an acceptor sends it back.
/// Codes outside the protocol range become KRB_ERR_GENERIC.
pub fn build_krb_error(code: i32, server: Option<&Principal>, now: i64, usec: u32) -> Vec<u8> {
    let error_code = minor::protocol_error_code(code).unwrap_or(60);
    let (realm, sname) = match server {
        Some(p) => (p.realm.clone(), p.name.clone()),
        None => (Vec::new(), PrincipalName::default()),
    };
    KrbError {
        stime: now,
        susec: usec,
        error_code,
        realm,
        sname,
        ..Default::default()
    }
    .to_der()
}

/// The minor status for a received KRB-ERROR (error code + MIT's table base).
pub fn krb_error_minor(e: &KrbError) -> i32 {
    if (0..128).contains(&e.error_code) {
        minor::KRB5_ERR_BASE + e.error_code
    } else {
        minor::ERR_GENERIC
    }
}

/// The message type of a DER Kerberos message (its APPLICATION tag), if recognisable.
pub fn message_type(der: &[u8]) -> Option<i32> {
    let tag = *der.first()?;
    // APPLICATION, constructed: 0x60 | n for n < 31.
    (tag & 0xe0 == 0x60 && tag & 0x1f != 0x1f).then_some((tag & 0x1f) as i32)
}

/// What [`mint_ticket`] puts into a ticket.
pub struct MintRequest<'a> {
    pub service_key: &'a ServiceKey,
    pub client: &'a Principal,
    pub session_enctype: Enctype,
    pub authtime: i64,
    pub endtime: i64,
    pub flags: u32,
    pub authorization_data: Option<crate::asn1::AuthorizationData>,
}

/// TEST HELPER: makes a service ticket the way a KDC would, from the service's own
/// long-term key (so it proves nothing about the client). Used by `krbap mint-ticket`
/// for demos and tests without a KDC. Returns the ticket and its session key.
pub fn mint_ticket(req: &MintRequest) -> (Ticket, Key) {
    match mint(req, None) {
        Ok(t) => t,
        Err(_) => unreachable!("only signing a PAC can fail"),
    }
}

/// TEST HELPER: [`mint_ticket`] with a PAC in `req.authorization_data` (AD-IF-RELEVANT →
/// AD-WIN2K-PAC, its signature buffers in place, e.g. from [`crate::pac::build`]),
/// signed as a KDC signs it: the server signature with the service key, the others with
/// `kdc_key`. Fails when there is no such PAC or its signature buffers do not fit the keys.
pub fn mint_ticket_with_pac(req: &MintRequest, kdc_key: &Key) -> Result<(Ticket, Key)> {
    mint(req, Some(kdc_key))
}

fn mint(req: &MintRequest, pac_kdc_key: Option<&Key>) -> Result<(Ticket, Key)> {
    let session_key = Key::random(req.session_enctype);
    let mut part = EncTicketPart {
        flags: req.flags,
        key: key_to_asn1(&session_key),
        crealm: req.client.realm.clone(),
        cname: req.client.name.clone(),
        transited: Default::default(),
        authtime: req.authtime,
        starttime: Some(req.authtime),
        endtime: req.endtime,
        renew_till: None,
        caddr: None,
        authorization_data: req.authorization_data.clone(),
    };
    let sk = req.service_key;
    if let Some(kdc_key) = pac_kdc_key {
        crate::pac::sign_ticket_pac(&mut part, &sk.key, kdc_key)?;
    }
    let cipher = sk.key.encrypt(usage::KDC_REP_TICKET, &part.to_der());
    let ticket = Ticket {
        realm: sk.principal.realm.clone(),
        sname: sk.principal.name.clone(),
        enc_part: EncryptedData {
            etype: sk.key.enctype().number(),
            kvno: Some(sk.kvno),
            cipher,
        },
    };
    Ok((ticket, session_key))
}
