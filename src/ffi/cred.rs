//! Credentials (RFC 2744 §5.2 gss_acquire_cred, §5.20 gss_inquire_cred, MIT's
//! gss_acquire_cred_from and gss_store_cred) and the acceptor's settings.

use super::*;

/// `cred_usage` for `krbap_acquire_cred` (RFC 2744 values).
pub const KRBAP_C_BOTH: i32 = 0;
pub const KRBAP_C_INITIATE: i32 = 1;
pub const KRBAP_C_ACCEPT: i32 = 2;

/// How often (ms) an acceptor credential compares its keytab with the file: a key removed
/// from the keytab stops being accepted within this time; a key added is used at once.
pub const KRBAP_KEYTAB_RECHECK_MS: u32 = 1000;

const CRED_MAGIC: u64 = 0x6b72_6261_7043_7264;

pub(crate) enum CredKind {
    Acceptor(Arc<AcceptorCredential>),
    Initiator(Arc<InitiatorCredential>),
    Both(Arc<InitiatorCredential>, Arc<AcceptorCredential>),
    Delegated(DelegatedCredential),
}

/// An opaque credential handle. May be shared between threads.
pub struct krbap_cred {
    pub(crate) magic: u64,
    pub(crate) kind: CredKind,
}

pub(crate) fn cred_ref<'a>(p: *const krbap_cred) -> Result<Option<&'a krbap_cred>, Error> {
    // SAFETY: the caller passes a handle from krbap_acquire_cred (or a delegated one) or NULL.
    unsafe { handle(p, CRED_MAGIC, "credential", |c| c.magic) }
}

pub(crate) fn new_cred(kind: CredKind) -> *mut krbap_cred {
    Box::into_raw(Box::new(krbap_cred {
        magic: CRED_MAGIC,
        kind,
    }))
}

/// Acquires a credential (RFC 2744 gss_acquire_cred). `cred_usage`: KRBAP_C_ACCEPT
/// reads the keytab `location` (`FILE:path` or a path; NULL: `KRB5_KTNAME`, then
/// /etc/krb5.keytab); KRBAP_C_INITIATE reads the FILE ccache `location` (NULL:
/// `KRB5CCNAME`, then /tmp/krb5cc_UID); KRBAP_C_BOTH needs both defaults (`location`
/// must be NULL). `desired_name` NULL: any principal in the keytab / the ccache's own.
/// `time_rec` (may be NULL) receives 0xffffffff (GSS_C_INDEFINITE) for an acceptor.
#[no_mangle]
pub extern "C" fn krbap_acquire_cred(
    minor_status: *mut u32,
    desired_name: *const krbap_name,
    cred_usage: i32,
    location: *const c_char,
    output_cred: *mut *mut krbap_cred,
    time_rec: *mut u32,
) -> u32 {
    guard(minor_status, || {
        require_out(output_cred, "output_cred")?;
        write_out(output_cred, std::ptr::null_mut());
        let name = name_ref(desired_name)?.map(|n| n.name.clone());
        let location = c_str(location)?;
        let kind = match cred_usage {
            KRBAP_C_ACCEPT => {
                CredKind::Acceptor(Arc::new(AcceptorCredential::from_keytab(location, name)?))
            }
            KRBAP_C_INITIATE => CredKind::Initiator(Arc::new(InitiatorCredential::from_ccache(
                location,
                name.as_ref(),
            )?)),
            KRBAP_C_BOTH if location.is_none() => CredKind::Both(
                Arc::new(InitiatorCredential::from_ccache(None, name.as_ref())?),
                Arc::new(AcceptorCredential::from_keytab(None, name)?),
            ),
            _ => {
                return Err(Error::new(
                    major::FAILURE,
                    minor::G_BAD_USAGE,
                    "bad cred_usage",
                ))
            }
        };
        write_out(time_rec, u32::MAX);
        write_out(output_cred, new_cred(kind));
        Ok(major::COMPLETE)
    })
}

/// One element of a credential store (MIT's gss_key_value_element_desc): a key and its
/// value, both NUL-terminated strings.
#[repr(C)]
pub struct krbap_cred_store_element {
    pub key: *const c_char,
    pub value: *const c_char,
}

/// The most elements a credential store may have (a handful are meaningful).
const MAX_CRED_STORE_ELEMENTS: usize = 64;

/// Acquires a credential from a credential store (MIT's gss_acquire_cred_from). The
/// `count` elements name where the credential comes from:
/// - `"ccache"`: the FILE ccache of an initiator (`FILE:path` or a path);
/// - `"client_keytab"`: a keytab with the client's keys: when the ccache does not exist
///   (or, later, its TGT expired) initial credentials are obtained with it from the KDC
///   and stored in the ccache;
/// - `"keytab"`: the acceptor's keytab;
/// - `"rcache"`: the acceptor's replay cache (`file2:path`, `none`, `dfl`, ...).
///
/// Elements for the other usage are ignored, as MIT does; an unknown key fails with
/// KRBAP_S_FAILURE (MIT's GSS_S_CRED_UNAVAIL) and a key given twice with
/// KRBAP_S_DUPLICATE_ELEMENT. Absent elements take the defaults of `krbap_acquire_cred`
/// (and `KRB5_CLIENT_KTNAME` for the client keytab). `elements` may be NULL when `count`
/// is 0. `time_rec` (may be NULL) receives the initiator's remaining lifetime, or
/// 0xffffffff (indefinite) for an acceptor.
#[no_mangle]
pub extern "C" fn krbap_acquire_cred_from(
    minor_status: *mut u32,
    desired_name: *const krbap_name,
    cred_usage: i32,
    elements: *const krbap_cred_store_element,
    count: usize,
    output_cred: *mut *mut krbap_cred,
    time_rec: *mut u32,
) -> u32 {
    guard(minor_status, || {
        require_out(output_cred, "output_cred")?;
        write_out(output_cred, std::ptr::null_mut());
        let name = name_ref(desired_name)?.map(|n| n.name.clone());
        if count > MAX_CRED_STORE_ELEMENTS || (count > 0 && elements.is_null()) {
            return Err(Error::new(
                major::CALL_INACCESSIBLE_READ,
                minor::EINVAL,
                "credential store elements are NULL or too many",
            ));
        }
        const KEYS: [&str; 4] = ["ccache", "client_keytab", "keytab", "rcache"];
        let mut values: [Option<&str>; 4] = [None; 4];
        for i in 0..count {
            // SAFETY: the caller passes `count` readable elements (checked non-NULL above).
            let e = unsafe { &*elements.add(i) };
            let key = c_str(e.key)?.ok_or_else(|| {
                Error::new(
                    major::CALL_INACCESSIBLE_READ,
                    minor::EINVAL,
                    "element key is NULL",
                )
            })?;
            let value = c_str(e.value)?.ok_or_else(|| {
                Error::new(
                    major::CALL_INACCESSIBLE_READ,
                    minor::EINVAL,
                    format!("value of credential store element {key:?} is NULL"),
                )
            })?;
            let slot = KEYS.iter().position(|k| *k == key).ok_or_else(|| {
                Error::new(
                    major::FAILURE,
                    minor::EINVAL,
                    format!(
                        "unknown credential store element {key:?} (known: ccache, client_keytab, keytab, rcache)"
                    ),
                )
            })?;
            if values[slot].replace(value).is_some() {
                return Err(Error::new(
                    major::DUPLICATE_ELEMENT,
                    minor::EINVAL,
                    format!("credential store element {key:?} given twice"),
                ));
            }
        }
        let [ccache, client_keytab, keytab, rcache] = values;
        let initiator =
            || InitiatorCredential::from_store(ccache, client_keytab, name.as_ref()).map(Arc::new);
        let acceptor = || -> Result<Arc<AcceptorCredential>, Error> {
            let a = AcceptorCredential::from_keytab(keytab, name.clone())?;
            if let Some(rc) = rcache {
                a.set_replay_cache(crate::rcache::ReplayCache::from_name(rc)?);
            }
            Ok(Arc::new(a))
        };
        let (kind, life) = match cred_usage {
            KRBAP_C_INITIATE => {
                let i = initiator()?;
                let life = i.lifetime();
                (CredKind::Initiator(i), life)
            }
            KRBAP_C_ACCEPT => (CredKind::Acceptor(acceptor()?), u32::MAX),
            KRBAP_C_BOTH => {
                let i = initiator()?;
                let life = i.lifetime();
                (CredKind::Both(i, acceptor()?), life)
            }
            _ => {
                return Err(Error::new(
                    major::FAILURE,
                    minor::G_BAD_USAGE,
                    "bad cred_usage",
                ))
            }
        };
        write_out(time_rec, life);
        write_out(output_cred, new_cred(kind));
        Ok(major::COMPLETE)
    })
}

/// Creates an acceptor credential with no keys, to be filled by `krbap_cred_add_key`
/// (keys supplied in memory rather than from a keytab).
#[no_mangle]
pub extern "C" fn krbap_acquire_acceptor_cred_empty(
    minor_status: *mut u32,
    desired_name: *const krbap_name,
    output_cred: *mut *mut krbap_cred,
) -> u32 {
    guard(minor_status, || {
        require_out(output_cred, "output_cred")?;
        write_out(output_cred, std::ptr::null_mut());
        let name = name_ref(desired_name)?.map(|n| n.name.clone());
        let cred = AcceptorCredential::from_keys(name, Vec::new());
        write_out(output_cred, new_cred(CredKind::Acceptor(Arc::new(cred))));
        Ok(major::COMPLETE)
    })
}

/// Adds a service key (principal as `comp/comp@REALM`, kvno, enctype number, key bytes)
/// to an acceptor credential made by `krbap_acquire_acceptor_cred_empty`.
#[no_mangle]
pub extern "C" fn krbap_cred_add_key(
    minor_status: *mut u32,
    cred: *const krbap_cred,
    principal: *const c_char,
    kvno: u32,
    enctype: i32,
    key: *const u8,
    key_length: usize,
) -> u32 {
    guard(minor_status, || {
        let acc = acceptor_of(cred)?;
        let principal = c_str(principal)?.ok_or_else(|| {
            Error::new(
                major::CALL_INACCESSIBLE_READ,
                minor::EINVAL,
                "principal is NULL",
            )
        })?;
        let principal = Principal::parse(principal, default_realm().as_deref())?;
        let enctype = Enctype::from_number(enctype).ok_or_else(|| {
            Error::minor(minor::BAD_ENCTYPE, format!("unsupported enctype {enctype}"))
        })?;
        if key.is_null() || key_length > 64 {
            return Err(Error::new(
                major::CALL_INACCESSIBLE_READ,
                minor::BAD_KEYSIZE,
                "bad key buffer",
            ));
        }
        // SAFETY: the caller passes key_length readable bytes.
        let bytes = unsafe { std::slice::from_raw_parts(key, key_length) };
        let key = Key::new(enctype, bytes)?;
        acc.add_key(ServiceKey {
            principal,
            kvno,
            key,
        })?;
        Ok(major::COMPLETE)
    })
}

pub(crate) fn acceptor_of<'a>(
    cred: *const krbap_cred,
) -> Result<&'a Arc<AcceptorCredential>, Error> {
    match cred_ref(cred)?.map(|c| &c.kind) {
        Some(CredKind::Acceptor(a)) | Some(CredKind::Both(_, a)) => Ok(a),
        Some(_) => Err(Error::new(
            major::NO_CRED,
            minor::G_CRED_USAGE_MISMATCH,
            "not an acceptor credential",
        )),
        None => Err(Error::new(
            major::NO_CRED,
            minor::EINVAL,
            "credential is NULL",
        )),
    }
}

/// Sets the maximum clock skew (seconds, default 300) an acceptor allows.
#[no_mangle]
pub extern "C" fn krbap_cred_set_clock_skew(
    minor_status: *mut u32,
    cred: *const krbap_cred,
    seconds: i64,
) -> u32 {
    guard(minor_status, || {
        acceptor_of(cred)?.set_clock_skew(seconds)?;
        Ok(major::COMPLETE)
    })
}

/// Sets the acceptor's replay cache: "memory:" (default, per credential), "none:",
/// "file2:/path" (MIT's format, shareable with MIT servers) or "dfl:" (MIT's default
/// file). NULL selects what KRB5RCACHENAME / KRB5RCACHETYPE say, as MIT does.
/// "redis://[[user]:password@]host[:port][/db][?prefix=P&timeout_ms=N]" (also
/// "redis+unix:///socket?db=N&user=U&password=W", "redis+cluster://host:port,host:port",
/// and over TLS "rediss://host:port?ca=/ca.pem[&cert=/client.pem&key=/client.key]")
/// shares one replay cache among the processes and hosts of a server farm; the server is
/// contacted now, so a wrong password or database is reported here (KRB5_RC_IO_PERM,
/// KRB5_RC_IO), as are a rediss: name's unreadable or malformed PEM files (KRB5_RC_PARSE)
/// and a server certificate that does not verify (KRB5_RC_IO), while a server that cannot
/// be reached yet is not: accepts then fail closed (KRB5_RC_IO) until it answers.
#[no_mangle]
pub extern "C" fn krbap_cred_set_replay_cache(
    minor_status: *mut u32,
    cred: *const krbap_cred,
    name: *const c_char,
) -> u32 {
    guard(minor_status, || {
        let acc = acceptor_of(cred)?;
        let rc = match c_str(name)? {
            Some(n) => crate::rcache::ReplayCache::from_name(n)?,
            None => crate::rcache::ReplayCache::from_env()?,
        };
        acc.set_replay_cache(rc);
        Ok(major::COMPLETE)
    })
}

/// Fixes the clock of a credential (and the contexts made from it) at `unix_time`;
/// 0 returns to the system clock. For tests and for replaying captured tokens.
#[no_mangle]
pub extern "C" fn krbap_cred_set_time(
    minor_status: *mut u32,
    cred: *const krbap_cred,
    unix_time: i64,
) -> u32 {
    guard(minor_status, || {
        let c = cred_ref(cred)?
            .ok_or_else(|| Error::new(major::NO_CRED, minor::EINVAL, "credential is NULL"))?;
        let t = (unix_time != 0).then_some(unix_time);
        match &c.kind {
            CredKind::Acceptor(a) => a.clock.set_fixed(t),
            CredKind::Initiator(i) => i.clock.set_fixed(t),
            CredKind::Both(i, a) => {
                i.clock.set_fixed(t);
                a.clock.set_fixed(t);
            }
            CredKind::Delegated(_) => {}
        }
        Ok(major::COMPLETE)
    })
}

/// Releases a credential and sets `*cred` to NULL; a NULL `*cred` is a no-op. Key
/// material is wiped when the last user (credential or context) lets go of it.
#[no_mangle]
pub extern "C" fn krbap_release_cred(minor_status: *mut u32, cred: *mut *mut krbap_cred) -> u32 {
    guard(minor_status, || {
        if cred.is_null() {
            return Ok(major::COMPLETE);
        }
        // SAFETY: non-null pointer to the caller's handle variable.
        let p = unsafe { std::mem::replace(&mut *cred, std::ptr::null_mut()) };
        if let Some(c) = cred_ref(p)? {
            let mut b = unsafe { Box::from_raw(c as *const krbap_cred as *mut krbap_cred) };
            b.magic = 0;
        }
        Ok(major::COMPLETE)
    })
}

/// Writes a delegated credential (from `krbap_accept_sec_context`) to a FILE ccache
/// (`FILE:path` or a path; NULL: the default ccache), replacing its contents.
#[no_mangle]
pub extern "C" fn krbap_store_cred(
    minor_status: *mut u32,
    cred: *const krbap_cred,
    location: *const c_char,
) -> u32 {
    guard(minor_status, || {
        let c = cred_ref(cred)?
            .ok_or_else(|| Error::new(major::NO_CRED, minor::EINVAL, "credential is NULL"))?;
        let CredKind::Delegated(d) = &c.kind else {
            return Err(Error::new(
                major::UNAVAILABLE,
                minor::G_STORE_NON_DEFAULT_CRED_NOSUPP,
                "only delegated credentials can be stored",
            ));
        };
        let path = crate::ccache::resolve_ccache_name(c_str(location)?)?;
        d.store(&path)?;
        Ok(major::COMPLETE)
    })
}

/// The process-wide default acceptor credential (default keytab, shared replay cache),
/// used when `krbap_accept_sec_context` gets a NULL credential, so that replays are
/// caught across calls as with an explicit credential.
pub(crate) fn default_acceptor() -> Result<Arc<AcceptorCredential>, Error> {
    static DEFAULT: OnceLock<Arc<AcceptorCredential>> = OnceLock::new();
    if let Some(a) = DEFAULT.get() {
        return Ok(a.clone());
    }
    let a = Arc::new(AcceptorCredential::from_keytab(None, None)?);
    a.set_replay_cache(crate::rcache::ReplayCache::from_env()?);
    Ok(DEFAULT.get_or_init(|| a).clone())
}

/// Information about a credential (RFC 2744 gss_inquire_cred): its principal (output
/// may be NULL; an acceptor credential for any principal gives NULL), remaining
/// lifetime (0xffffffff for an acceptor) and usage (KRBAP_C_*).
#[no_mangle]
pub extern "C" fn krbap_inquire_cred(
    minor_status: *mut u32,
    cred: *const krbap_cred,
    name: *mut *mut krbap_name,
    lifetime: *mut u32,
    cred_usage: *mut i32,
) -> u32 {
    guard(minor_status, || {
        write_out(name, std::ptr::null_mut());
        let c = cred_ref(cred)?
            .ok_or_else(|| Error::new(major::NO_CRED, minor::EINVAL, "credential is NULL"))?;
        let (principal, life, usage) = match &c.kind {
            CredKind::Acceptor(a) => (a.name().cloned(), u32::MAX, KRBAP_C_ACCEPT),
            CredKind::Initiator(i) => (
                Some(Name::from_principal(i.client().clone())),
                i.lifetime(),
                KRBAP_C_INITIATE,
            ),
            CredKind::Both(i, _) => (
                Some(Name::from_principal(i.client().clone())),
                i.lifetime(),
                KRBAP_C_BOTH,
            ),
            CredKind::Delegated(d) => {
                let now = crate::cred::Clock::default().now().0;
                let end = d
                    .credentials
                    .iter()
                    .map(|c| c.endtime as i64)
                    .max()
                    .unwrap_or(0);
                (
                    Some(Name::from_principal(d.client.clone())),
                    (end - now).clamp(0, u32::MAX as i64) as u32,
                    KRBAP_C_INITIATE,
                )
            }
        };
        if let (Some(p), false) = (principal, name.is_null()) {
            write_out(name, new_name(p));
        }
        write_out(lifetime, life);
        write_out(cred_usage, usage);
        Ok(major::COMPLETE)
    })
}

/// The name of the acceptor's replay cache in canonical form (`memory:`, `file2:/path`,
/// `redis://host:6379/0?prefix=krbap:rc:&timeout_ms=500`, ...), for logs: a password in a
/// `redis:` name is shown as `***`. Release `name` with krbap_buffer_free.
#[no_mangle]
pub extern "C" fn krbap_cred_inquire_replay_cache(
    minor_status: *mut u32,
    cred: *const krbap_cred,
    name: *mut krbap_buffer,
) -> u32 {
    guard(minor_status, || {
        clear_output(name);
        let acc = acceptor_of(cred)?;
        output_bytes(name, acc.replay_cache().name().into_bytes())?;
        Ok(major::COMPLETE)
    })
}
