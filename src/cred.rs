//! Credentials: what an acceptor decrypts tickets with (service keys from a keytab or
//! from memory, plus its clock, skew and replay cache), and what an initiator presents
//! (tickets and session keys from a FILE ccache, or supplied directly).
//!
//! An [`AcceptorCredential`] is shared between threads: its keys and replay cache are read
//! lock-free (`ArcSwap`), and the keys are re-read when the keytab changes on disk (key
//! rotation without restart; see [`KEYTAB_RECHECK_MS`]).

use crate::ap::{ServiceKey, DEFAULT_CLOCK_SKEW};
use crate::asn1::flags as kflags;
use crate::asn1::{Der, Ticket};
use crate::ccache::{self, Ccache, Credential};
use crate::config::Profile;
use crate::crypto::{Enctype, Key};
use crate::error::{major, minor, Error, Result};
use crate::file_lock::FileStamp;
use crate::gss::name::Name;
use crate::kdc::{AsOptions, InitialKeys, KdcClient, TgsOptions};
use crate::keytab::{self, Keytab};
use crate::pac::PacPolicy;
use crate::principal::{name_type, Principal, PrincipalName};
use crate::rcache::ReplayCache;
use arc_swap::{ArcSwap, Guard};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// The time source: the system clock, or a fixed time injected for tests and for
/// replaying captured tokens. Shared through an atomic, so it can be changed while in use.
#[derive(Debug, Default)]
pub struct Clock {
    /// 0 = system clock; otherwise the fixed Unix time in seconds.
    fixed: AtomicI64,
}

impl Clock {
    /// Seconds and microseconds since the Unix epoch.
    pub fn now(&self) -> (i64, u32) {
        let fixed = self.fixed.load(Ordering::Relaxed);
        if fixed != 0 {
            return (fixed, 0);
        }
        let d = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        (d.as_secs() as i64, d.subsec_micros())
    }
    /// The fixed time, if the clock is fixed.
    pub fn fixed(&self) -> Option<i64> {
        Some(self.fixed.load(Ordering::Relaxed)).filter(|&t| t != 0)
    }
    /// Fixes the clock at `t` (Unix seconds); `None` returns to the system clock.
    pub fn set_fixed(&self, t: Option<i64>) {
        self.fixed.store(t.unwrap_or(0), Ordering::Relaxed);
    }
}

/// Identity of a file's contents as far as `stat` can tell (for change detection).
fn stamp(path: &Path) -> Option<FileStamp> {
    FileStamp::of_path(path)
}

/// How often (milliseconds) an acceptor compares its keys with the keytab file: a key
/// removed from the keytab stops being used within this time; a key added is used at once
/// (a ticket for a key the acceptor lacks makes it look again).
pub const KEYTAB_RECHECK_MS: u64 = 1000;

/// Milliseconds on a process-wide monotonic clock. Coarse (the kernel's tick, a few ms)
/// where Linux has it: it is read on every accept and init, for rechecks a second apart,
/// and the coarse clock costs a fraction of the precise one.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn monotonic_ms() -> u64 {
    let read = |clock| {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec; the call only writes it.
        (unsafe { libc::clock_gettime(clock, &mut ts) } == 0)
            .then(|| (ts.tv_sec as u64) * 1000 + (ts.tv_nsec as u64) / 1_000_000)
    };
    // Both clocks count from boot, so the fallback (never needed since Linux 2.6.32)
    // keeps the same scale.
    read(libc::CLOCK_MONOTONIC_COARSE)
        .or_else(|| read(libc::CLOCK_MONOTONIC))
        .unwrap_or(0)
}

/// Milliseconds on a process-wide monotonic clock.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn monotonic_ms() -> u64 {
    static START: std::sync::LazyLock<std::time::Instant> =
        std::sync::LazyLock::new(std::time::Instant::now);
    START.elapsed().as_millis() as u64
}

/// Where a keytab-backed credential's keys come from, and when it last looked.
struct KeytabSource {
    path: PathBuf,
    /// The file's identity when the current keys were read; guarded by its mutex, which
    /// also makes one thread re-read while the others keep using the old keys.
    stamp: Mutex<Option<FileStamp>>,
    /// When the file was last compared with the keys (ms on [`monotonic_ms`]).
    checked_at: AtomicU64,
}

/// An acceptor (server) credential.
///
/// The keys and the replay cache sit behind `ArcSwap`s: an accept reads both without a lock
/// and without touching a shared reference count, so accepting threads do not contend on
/// the credential (a keytab re-read or a new replay cache swaps in a whole new value).
pub struct AcceptorCredential {
    /// The principal this credential accepts for; `None` = any principal with a key.
    name: Option<Name>,
    keys: ArcSwap<Vec<ServiceKey>>,
    /// `None` for keys held in memory.
    keytab: Option<KeytabSource>,
    skew: AtomicI64,
    pub clock: Clock,
    rcache: ArcSwap<ReplayCache>,
    /// What accept does with a ticket's PAC ([`PacPolicy`] as u8).
    pac_policy: AtomicU8,
    /// The KDC's (krbtgt) keys, when the PAC's KDC-side signatures are to be verified too.
    pac_kdc_keys: ArcSwap<Vec<Key>>,
}

impl std::fmt::Debug for AcceptorCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AcceptorCredential")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

fn keys_from_keytab(kt: &Keytab, name: Option<&Name>) -> Vec<ServiceKey> {
    kt.entries
        .iter()
        .filter(|e| name.is_none_or(|n| n.matches(&e.principal)))
        .filter_map(|e| {
            // Entries of enctypes krbap does not implement (des3, rc4, camellia) are skipped.
            let enctype = Enctype::from_number(e.enctype)?;
            let key = Key::new(enctype, &e.key).ok()?;
            Some(ServiceKey {
                principal: e.principal.clone(),
                kvno: e.kvno,
                key,
            })
        })
        .collect()
}

/// krb5.conf's `clockskew` (MIT's default 300 s when unset or unreadable).
fn default_clock_skew() -> i64 {
    crate::config::default_profile().map_or(DEFAULT_CLOCK_SKEW, |p| p.clock_skew())
}

impl AcceptorCredential {
    /// From a keytab: `location` as MIT names it (`FILE:path` or a path), else
    /// `KRB5_KTNAME`, else `/etc/krb5.keytab`. With `name`, only that principal's keys
    /// are used; without, any principal in the keytab (like MIT with GSS_C_NO_NAME).
    pub fn from_keytab(location: Option<&str>, name: Option<Name>) -> Result<AcceptorCredential> {
        let path = keytab::resolve_keytab_name(location)?;
        let kt = Keytab::load(&path).map_err(|e| Error::new(major::NO_CRED, e.minor, e.detail))?;
        let keys = keys_from_keytab(&kt, name.as_ref());
        if keys.is_empty() {
            let who = name.as_ref().map_or("any principal".to_string(), |n| {
                String::from_utf8_lossy(&n.display()).into_owned()
            });
            return Err(Error::new(
                major::NO_CRED,
                minor::KT_NOTFOUND,
                format!("keytab {} has no usable key for {who}", path.display()),
            ));
        }
        let source = KeytabSource {
            stamp: Mutex::new(stamp(&path)),
            path,
            checked_at: AtomicU64::new(monotonic_ms()),
        };
        Ok(Self::new(name, keys, Some(source)))
    }

    /// From keys held in memory (no keytab file).
    pub fn from_keys(name: Option<Name>, keys: Vec<ServiceKey>) -> AcceptorCredential {
        Self::new(name, keys, None)
    }

    fn new(
        name: Option<Name>,
        keys: Vec<ServiceKey>,
        keytab: Option<KeytabSource>,
    ) -> AcceptorCredential {
        AcceptorCredential {
            name,
            keys: ArcSwap::from_pointee(keys),
            keytab,
            skew: AtomicI64::new(default_clock_skew()),
            clock: Clock::default(),
            rcache: ArcSwap::from_pointee(ReplayCache::memory()),
            pac_policy: AtomicU8::new(0),
            pac_kdc_keys: ArcSwap::from_pointee(Vec::new()),
        }
    }

    /// Adds a key to an in-memory credential (a keytab-backed one is read-only).
    pub fn add_key(&self, key: ServiceKey) -> Result<()> {
        if self.keytab.is_some() {
            return Err(Error::new(
                major::UNAVAILABLE,
                minor::KT_NOWRITE,
                "keys cannot be added to a keytab-backed credential",
            ));
        }
        self.keys.rcu(|keys| {
            let mut v = Vec::clone(keys);
            v.push(key.clone());
            v
        });
        Ok(())
    }

    pub fn name(&self) -> Option<&Name> {
        self.name.as_ref()
    }

    /// The current service keys. A keytab is compared with the file on disk at most once
    /// per [`KEYTAB_RECHECK_MS`] (a stat per accept would cost more than a sixth of it) and
    /// re-read when it changed; [`AcceptorCredential::keys_now`] checks at once.
    pub fn keys(&self) -> Arc<Vec<ServiceKey>> {
        self.refresh(false);
        self.keys.load_full()
    }

    /// The service keys after comparing the keytab with the file now: for a ticket whose
    /// key the current keys lack (a rotation just added it).
    pub fn keys_now(&self) -> Arc<Vec<ServiceKey>> {
        self.refresh(true);
        self.keys.load_full()
    }

    /// [`AcceptorCredential::keys`] for the accept path: a borrow, no reference count.
    pub(crate) fn keys_guard(&self, force_check: bool) -> Guard<Arc<Vec<ServiceKey>>> {
        self.refresh(force_check);
        self.keys.load()
    }

    /// Re-reads the keytab when it is due for a look (or `force`) and changed on disk.
    fn refresh(&self, force: bool) {
        let Some(kt) = &self.keytab else { return };
        let now_ms = monotonic_ms();
        if !force
            && now_ms.saturating_sub(kt.checked_at.load(Ordering::Relaxed)) < KEYTAB_RECHECK_MS
        {
            return;
        }
        // One thread looks; the others keep using the current keys meanwhile.
        let Ok(mut stamp_guard) = kt.stamp.try_lock() else {
            return;
        };
        kt.checked_at.store(now_ms, Ordering::Relaxed);
        let now_stamp = stamp(&kt.path);
        if *stamp_guard == now_stamp {
            return;
        }
        // A keytab caught mid-rewrite (or removed) keeps the keys we had; the next look
        // tries again.
        if let Ok(file) = Keytab::load(&kt.path) {
            self.keys
                .store(Arc::new(keys_from_keytab(&file, self.name.as_ref())));
            *stamp_guard = now_stamp;
        }
    }

    pub fn clock_skew(&self) -> i64 {
        self.skew.load(Ordering::Relaxed)
    }
    pub fn set_clock_skew(&self, seconds: i64) -> Result<()> {
        if !(0..=86400 * 365).contains(&seconds) {
            return Err(Error::new(
                major::FAILURE,
                minor::EINVAL,
                "clock skew out of range",
            ));
        }
        self.skew.store(seconds, Ordering::Relaxed);
        Ok(())
    }
    pub fn replay_cache(&self) -> Arc<ReplayCache> {
        self.rcache.load_full()
    }
    /// [`AcceptorCredential::replay_cache`] for the accept path: a borrow, no reference count.
    pub(crate) fn replay_cache_guard(&self) -> Guard<Arc<ReplayCache>> {
        self.rcache.load()
    }
    pub fn set_replay_cache(&self, rc: ReplayCache) {
        self.rcache.store(Arc::new(rc));
    }

    /// What accept does with a ticket's PAC (default [`PacPolicy::Verify`]: a PAC that
    /// does not verify fails the accept).
    pub fn pac_policy(&self) -> PacPolicy {
        match self.pac_policy.load(Ordering::Relaxed) {
            1 => PacPolicy::Require,
            2 => PacPolicy::AllowUnverified,
            _ => PacPolicy::Verify,
        }
    }
    pub fn set_pac_policy(&self, policy: PacPolicy) {
        let v = match policy {
            PacPolicy::Verify => 0,
            PacPolicy::Require => 1,
            PacPolicy::AllowUnverified => 2,
        };
        self.pac_policy.store(v, Ordering::Relaxed);
    }
    /// The KDC's keys (krbtgt, any kvno and enctype): with them accept also verifies the
    /// PAC's KDC signature and, when present, its ticket and full signatures. An empty
    /// list (the default) verifies the server signature only, as an ordinary service can.
    pub fn set_pac_kdc_keys(&self, keys: Vec<Key>) {
        self.pac_kdc_keys.store(Arc::new(keys));
    }
    /// [`AcceptorCredential::set_pac_kdc_keys`] from every key in a keytab (`FILE:path` or
    /// a path); the principal names do not matter (Samba exports `krbtgt@REALM`, MIT
    /// `krbtgt/REALM@REALM`). Keys of enctypes krbap lacks are skipped; none left is an
    /// error.
    pub fn set_pac_kdc_keytab(&self, location: &str) -> Result<()> {
        let path = keytab::resolve_keytab_name(Some(location))?;
        let kt = Keytab::load(&path).map_err(|e| Error::new(major::NO_CRED, e.minor, e.detail))?;
        let keys: Vec<Key> = kt
            .entries
            .iter()
            .filter_map(|e| Key::new(Enctype::from_number(e.enctype)?, &e.key).ok())
            .collect();
        if keys.is_empty() {
            return Err(Error::new(
                major::NO_CRED,
                minor::KT_NOTFOUND,
                format!("keytab {} has no usable KDC key", path.display()),
            ));
        }
        self.set_pac_kdc_keys(keys);
        Ok(())
    }
    pub fn pac_kdc_keys(&self) -> Arc<Vec<Key>> {
        self.pac_kdc_keys.load_full()
    }
    /// [`AcceptorCredential::pac_kdc_keys`] for the accept path: a borrow, no reference count.
    pub(crate) fn pac_kdc_keys_guard(&self) -> Guard<Arc<Vec<Key>>> {
        self.pac_kdc_keys.load()
    }
}

/// How often (milliseconds) an initiator compares its cached ccache with the file: a
/// `stat` per init cost more than a tenth of it. A ticket the cached copy lacks (or holds
/// only expired) makes it look at once, so a `kinit` or a ticket stored by another process
/// is seen by the next init that needs it; a ticket removed from the file (`kdestroy`)
/// may still be used for up to this long, as it could be by a context made just before.
pub const CCACHE_RECHECK_MS: u64 = 1000;

enum TicketSource {
    Ccache {
        path: PathBuf,
        cached: Mutex<Option<(Option<FileStamp>, Arc<Ccache>)>>,
        /// When the file was last compared with `cached` ([`monotonic_ms`] + 1; 0 = never).
        checked_at: AtomicU64,
    },
    /// Tickets held in memory only; tickets fetched from the KDC are added here.
    Explicit(Mutex<Vec<Credential>>),
}

/// An initiator (client) credential: the client principal and its tickets, from a FILE
/// ccache or from memory. Service tickets missing from the cache are fetched from the KDC
/// with the TGT (TGS exchange) and stored back, as MIT's krb5_get_credentials does; with a
/// client keytab, a missing or expired TGT is replaced by an AS exchange.
pub struct InitiatorCredential {
    client: Principal,
    source: TicketSource,
    /// Client keytab for (re)acquiring the TGT (`KRB5_CLIENT_KTNAME`, or given explicitly).
    client_keytab: Option<PathBuf>,
    /// The KDC client, made on first use (one per credential).
    kdc: Mutex<Option<KdcClient>>,
    pub clock: Clock,
    /// Service tickets of the cached ccache already decoded, with their session keys
    /// (whose derived keys stay cached): by index in that ccache, dropped with it.
    prepared: Mutex<Option<Prepared>>,
}

/// A service ticket ready for AP-REQs: the ccache entry, its Ticket decoded and its
/// session key. Shared by the contexts made with it while the ccache is unchanged, so
/// that an init neither decodes the ticket nor derives the authenticator's keys again.
pub struct ServiceTicket {
    pub cred: Credential,
    pub ticket: Ticket,
    pub session_key: Key,
}

impl ServiceTicket {
    /// Decodes the entry's ticket and session key (a defective one is the credential's
    /// fault: GSS_S_DEFECTIVE_CREDENTIAL).
    pub fn prepare(cred: Credential) -> Result<ServiceTicket> {
        let ticket = Ticket::from_der(&cred.ticket).map_err(|e| {
            Error::new(
                major::DEFECTIVE_CREDENTIAL,
                e.minor,
                format!("ticket in ccache: {}", e.detail),
            )
        })?;
        let session_key = crate::ap::key_from_asn1(&cred.key)
            .map_err(|e| Error::new(major::DEFECTIVE_CREDENTIAL, e.minor, e.detail))?;
        Ok(ServiceTicket {
            cred,
            ticket,
            session_key,
        })
    }
}

/// The ccache copy whose entries were prepared, and those entries by index.
type Prepared = (Arc<Ccache>, Vec<(usize, Arc<ServiceTicket>)>);

/// Where a ticket was found: an entry of the cached ccache, or a copy.
enum Located {
    Cache(Arc<Ccache>, usize),
    Owned(Box<Credential>),
}

/// At most this many prepared tickets per credential (distinct services of one ccache).
const PREPARED_MAX: usize = 16;

impl std::fmt::Debug for InitiatorCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InitiatorCredential")
            .field("client", &self.client)
            .field("client_keytab", &self.client_keytab)
            .finish_non_exhaustive()
    }
}

/// The ticket-granting service of `realm`: krbtgt/REALM@REALM (RFC 4120 §7.3).
pub fn tgs_principal(realm: &[u8]) -> Principal {
    Principal {
        realm: realm.to_vec(),
        name: PrincipalName::new(name_type::SRV_INST, &[b"krbtgt", realm]),
    }
}

/// The client keytab to use: `location` (`FILE:path` or a path), else `KRB5_CLIENT_KTNAME`,
/// else `[libdefaults] default_client_keytab_name`, else MIT's built-in default
/// `/var/lib/krb5/user/<euid>/client.keytab`. Only an existing file counts (MIT ignores
/// a missing client keytab).
pub fn resolve_client_keytab(location: Option<&str>) -> Result<Option<PathBuf>> {
    if let Some(l) = location {
        return keytab::resolve_keytab_name(Some(l)).map(Some);
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    let name = match std::env::var("KRB5_CLIENT_KTNAME") {
        Ok(v) if !v.is_empty() => v,
        _ => KdcClient::from_default_config()
            .ok()
            .and_then(|k| {
                k.profile()
                    .get(&["libdefaults", "default_client_keytab_name"])
                    .map(str::to_string)
            })
            .unwrap_or_else(|| "FILE:/var/lib/krb5/user/%{euid}/client.keytab".into()),
    };
    let name = name
        .replace("%{euid}", &euid.to_string())
        .replace("%{uid}", &euid.to_string());
    let path = keytab::resolve_keytab_name(Some(&name))?;
    Ok(path.is_file().then_some(path))
}

/// The KDC's error as the initiator reports it: GSS_S_FAILURE with the KDC's minor code
/// (e.g. KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN), as MIT's gss_init_sec_context does.
fn kdc_failure(e: Error, what: &str) -> Error {
    Error::new(major::FAILURE, e.minor, format!("{what}: {}", e.detail))
}

impl InitiatorCredential {
    fn with_source(
        client: Principal,
        source: TicketSource,
        client_keytab: Option<PathBuf>,
    ) -> InitiatorCredential {
        InitiatorCredential {
            client,
            source,
            client_keytab,
            kdc: Mutex::new(None),
            clock: Clock::default(),
            prepared: Mutex::new(None),
        }
    }

    /// From a FILE ccache: `location` (`FILE:path` or a path), else `KRB5CCNAME`, else
    /// `/tmp/krb5cc_<uid>`. With `name`, the ccache's principal must be that name. When a
    /// client keytab is configured (`KRB5_CLIENT_KTNAME`, see [`resolve_client_keytab`])
    /// and the ccache does not exist, initial credentials are obtained with it (AS
    /// exchange) and stored in the ccache, as MIT does; an expired TGT is renewed the same
    /// way when a ticket is needed.
    pub fn from_ccache(location: Option<&str>, name: Option<&Name>) -> Result<InitiatorCredential> {
        Self::from_store(location, None, name)
    }

    /// Like [`InitiatorCredential::from_ccache`], with an explicit client keytab
    /// (`client_keytab`; `None` = the default one, if it exists) — MIT's
    /// gss_acquire_cred_from with the `ccache` and `client_keytab` elements.
    pub fn from_store(
        ccache_location: Option<&str>,
        client_keytab: Option<&str>,
        name: Option<&Name>,
    ) -> Result<InitiatorCredential> {
        let path = ccache::resolve_ccache_name(ccache_location)?;
        let keytab = resolve_client_keytab(client_keytab)
            .map_err(|e| Error::new(major::NO_CRED, e.minor, e.detail))?;
        // A client keytab that does not exist is ignored, as MIT does.
        let keytab = keytab.filter(|p| p.is_file());
        let (cc, read_stamp) = match Ccache::load_with_stamp(&path) {
            Ok(read) => read,
            Err(e) if e.minor == minor::FCC_NOFILE && keytab.is_some() => {
                return Self::initial_from_keytab(keytab.as_deref(), name, &path, None);
            }
            Err(e) => return Err(Error::new(major::NO_CRED, e.minor, e.detail)),
        };
        if let Some(n) = name {
            if !n.matches(&cc.default_principal) {
                // The ccache belongs to someone else: with a keytab for `name`, start a
                // new ccache (MIT would pick another cache of the collection; FILE has one).
                if let Some(kt) = keytab.as_deref() {
                    if keytab_has_name(kt, n) {
                        // Replaces that cache, unless it changes hands again meanwhile.
                        let seen = cc.default_principal.clone();
                        return Self::initial_from_keytab(Some(kt), Some(n), &path, Some(seen));
                    }
                }
                return Err(Error::new(
                    major::NO_CRED,
                    minor::CC_NOTFOUND,
                    format!(
                        "ccache {} belongs to {}, not {}",
                        path.display(),
                        cc.default_principal,
                        String::from_utf8_lossy(&n.display())
                    ),
                ));
            }
        }
        let client = cc.default_principal.clone();
        // The keytab is used for refreshing only when it holds the client's keys.
        let keytab = keytab.filter(|kt| keytab_has_name(kt, &Name::from_principal(client.clone())));
        Ok(Self::with_source(
            client,
            TicketSource::Ccache {
                cached: Mutex::new(Some((Some(read_stamp), Arc::new(cc)))),
                path,
                checked_at: AtomicU64::new(monotonic_ms() + 1),
            },
            keytab,
        ))
    }

    /// Initial credentials from a client keytab (AS exchange), stored in a new ccache —
    /// what `kinit -k -t KEYTAB [-c CCACHE] PRINCIPAL` does. `keytab`: `FILE:path` or a
    /// path, else the default client keytab; `name`: the client, else the keytab's first
    /// principal; `ccache`: as in [`InitiatorCredential::from_ccache`].
    pub fn from_client_keytab(
        keytab: Option<&str>,
        name: Option<&Name>,
        ccache: Option<&str>,
    ) -> Result<InitiatorCredential> {
        let kt_path = resolve_client_keytab(keytab)
            .map_err(|e| Error::new(major::NO_CRED, e.minor, e.detail))?;
        let path = ccache::resolve_ccache_name(ccache)?;
        Self::initial_from_keytab(kt_path.as_deref(), name, &path, None)
    }

    /// `replacing`: the other principal whose cache at `ccache_path` may be replaced (the
    /// one seen there when that was decided).
    fn initial_from_keytab(
        keytab: Option<&Path>,
        name: Option<&Name>,
        ccache_path: &Path,
        replacing: Option<Principal>,
    ) -> Result<InitiatorCredential> {
        let kt_path = keytab.ok_or_else(|| {
            Error::new(
                major::NO_CRED,
                minor::KT_NOTFOUND,
                "no client keytab (set KRB5_CLIENT_KTNAME or name one)",
            )
        })?;
        let kdc = KdcClient::from_default_config()
            .map_err(|e| Error::new(major::NO_CRED, e.minor, e.detail))?;
        let client = client_of_keytab(kt_path, name, kdc.profile())?;
        let cred = Self::with_source(
            client,
            TicketSource::Ccache {
                path: ccache_path.to_path_buf(),
                cached: Mutex::new(None),
                checked_at: AtomicU64::new(0),
            },
            Some(kt_path.to_path_buf()),
        );
        *cred.kdc.lock().unwrap_or_else(|p| p.into_inner()) = Some(kdc);
        let now = cred.clock.now().0;
        cred.renew_tgt_replacing(now, replacing.as_ref())?;
        Ok(cred)
    }

    /// From explicit tickets (e.g. obtained elsewhere) for `client`, held in memory.
    /// Tickets fetched from the KDC with a TGT among them are added in memory too.
    pub fn from_credentials(client: Principal, creds: Vec<Credential>) -> InitiatorCredential {
        Self::with_source(client, TicketSource::Explicit(Mutex::new(creds)), None)
    }

    /// Uses `kdc` (its profile, KDCs and timeouts) instead of the default configuration.
    pub fn with_kdc(self, kdc: KdcClient) -> InitiatorCredential {
        *self.kdc.lock().unwrap_or_else(|p| p.into_inner()) = Some(kdc);
        self
    }

    pub fn client(&self) -> &Principal {
        &self.client
    }

    /// The client keytab used to renew the TGT, if any.
    pub fn client_keytab(&self) -> Option<&Path> {
        self.client_keytab.as_deref()
    }

    /// All credentials (no configuration entries) currently held.
    fn credentials(&self) -> Result<Vec<Credential>> {
        Ok(match &self.source {
            TicketSource::Explicit(creds) => {
                creds.lock().unwrap_or_else(|p| p.into_inner()).clone()
            }
            TicketSource::Ccache {
                path,
                cached,
                checked_at,
            } => self
                .current_ccache(path, cached, checked_at, false)?
                .0
                .credentials
                .iter()
                .filter(|c| !c.is_config_entry())
                .cloned()
                .collect(),
        })
    }

    /// Seconds until the latest ticket (usually the TGT) of this credential expires.
    pub fn lifetime(&self) -> u32 {
        let now = self.clock.now().0;
        let end = match &self.source {
            TicketSource::Explicit(creds) => creds
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .map(|c| c.endtime as i64)
                .max(),
            TicketSource::Ccache { cached, .. } => cached
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .as_ref()
                .and_then(|(_, cc)| {
                    cc.credentials
                        .iter()
                        .filter(|c| !c.is_config_entry())
                        .map(|c| c.endtime as i64)
                        .max()
                }),
        };
        (end.unwrap_or(0) - now).clamp(0, u32::MAX as i64) as u32
    }

    /// The ccache path, for a FILE-ccache credential.
    pub fn ccache_path(&self) -> Option<&Path> {
        match &self.source {
            TicketSource::Ccache { path, .. } => Some(path),
            TicketSource::Explicit(_) => None,
        }
    }

    /// A valid service ticket for `target` already held (ccache re-read when it changed);
    /// no KDC is contacted.
    pub fn find_ticket(&self, target: &Name, now: i64) -> Result<Credential> {
        Ok(match self.locate(target, now)? {
            Located::Cache(cc, i) => cc.credentials[i].clone(),
            Located::Owned(c) => *c,
        })
    }

    /// [`InitiatorCredential::get_ticket`], decoded and ready for an AP-REQ; an entry of
    /// the unchanged ccache is decoded once and shared.
    pub fn service_ticket(&self, target: &Name, now: i64) -> Result<Arc<ServiceTicket>> {
        let (cc, i) = match self.locate(target, now) {
            Ok(Located::Cache(cc, i)) => (cc, i),
            Ok(Located::Owned(c)) => return Ok(Arc::new(ServiceTicket::prepare(*c)?)),
            Err(_) => {
                return Ok(Arc::new(ServiceTicket::prepare(
                    self.get_ticket(target, now)?,
                )?))
            }
        };
        let mut memo = self.prepared.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((held, list)) = memo.as_ref() {
            if Arc::ptr_eq(held, &cc) {
                if let Some((_, st)) = list.iter().find(|(j, _)| *j == i) {
                    return Ok(st.clone());
                }
            }
        }
        let st = Arc::new(ServiceTicket::prepare(cc.credentials[i].clone())?);
        match memo.as_mut() {
            Some((held, list)) if Arc::ptr_eq(held, &cc) => {
                if list.len() < PREPARED_MAX {
                    list.push((i, st.clone()));
                }
            }
            _ => *memo = Some((cc, vec![(i, st.clone())])),
        }
        Ok(st)
    }

    fn locate(&self, target: &Name, now: i64) -> Result<Located> {
        let server = self.target_principal(target);
        // A host-based name matches its principal in any realm (e.g. a ticket stored
        // under a realm krb5.conf does not map the host to).
        let any_realm = |creds: &[Credential]| {
            creds
                .iter()
                .enumerate()
                .filter(|(_, c)| {
                    !c.is_config_entry()
                        && target.matches(&c.server)
                        && (target.any_realm || c.server.realm == server.realm)
                        && c.endtime as i64 >= now
                })
                .max_by_key(|(_, c)| c.endtime)
                .map(|(i, _)| i)
        };
        let found = match &self.source {
            TicketSource::Explicit(creds) => {
                let creds = creds.lock().unwrap_or_else(|p| p.into_inner());
                any_realm(&creds).map(|i| Located::Owned(Box::new(creds[i].clone())))
            }
            TicketSource::Ccache {
                path,
                cached,
                checked_at,
            } => {
                // The copy checked within the last second; if it lacks the ticket, the file
                // as it is now.
                let mut found = None;
                for force in [false, true] {
                    let (cc, fresh) = self.current_ccache(path, cached, checked_at, force)?;
                    let at = cc
                        .find(Some(&self.client), &server, now)
                        .and_then(|f| cc.credentials.iter().position(|c| std::ptr::eq(c, f)))
                        .or_else(|| any_realm(&cc.credentials));
                    if let Some(i) = at {
                        found = Some(Located::Cache(cc, i));
                        break;
                    }
                    if fresh {
                        break;
                    }
                }
                found
            }
        };
        found.ok_or_else(|| {
            Error::new(
                major::NO_CRED,
                minor::CC_NOTFOUND,
                format!("no valid ticket for {server} in the credential cache"),
            )
        })
    }

    /// A service ticket for `target`: from the cache, else from the KDC with the TGT
    /// (TGS exchange, RFC 4120 §3.3), stored into the ccache with any cross-realm TGTs
    /// obtained on the way, so that the next context does not ask the KDC again.
    pub fn get_ticket(&self, target: &Name, now: i64) -> Result<Credential> {
        if let Ok(t) = self.find_ticket(target, now) {
            return Ok(t);
        }
        let server = self.target_principal(target);
        let tgt = self.tgt(now)?;
        let kdc = self.kdc()?;
        // A realm guessed for a host-based name (no [domain_realm] entry): let the KDC
        // refer us elsewhere (RFC 6806).
        let options = TgsOptions {
            canonicalize: target.any_realm,
            ..TgsOptions::default()
        };
        let result = kdc
            .get_service_ticket(&tgt, &server, &options, now)
            .map_err(|e| kdc_failure(e, &format!("getting a ticket for {server}")))?;
        let mut to_store = result.intermediate.clone();
        to_store.push(result.ticket.clone());
        if !result.ticket.server.matches(&server) {
            // The KDC canonicalized the name: also store the ticket under the name asked
            // for, so that the cache lookup finds it next time (as MIT does for referrals).
            let mut alias = result.ticket.clone();
            alias.server = server.clone();
            to_store.push(alias);
        }
        self.store(&to_store)?;
        Ok(result.ticket)
    }

    /// The valid TGT of the client's realm (krbtgt/REALM@REALM); renewed from the client
    /// keytab when it is missing or expired and a client keytab is known.
    pub fn tgt(&self, now: i64) -> Result<Credential> {
        let krbtgt = tgs_principal(&self.client.realm);
        let found = self
            .credentials()?
            .into_iter()
            .filter(|c| c.client.matches(&self.client) && c.server.matches(&krbtgt))
            .filter(|c| c.endtime as i64 > now)
            .max_by_key(|c| c.endtime);
        match found {
            Some(t) => Ok(t),
            None if self.client_keytab.is_some() => self.renew_tgt(now),
            None => Err(Error::new(
                major::NO_CRED,
                minor::CC_NOTFOUND,
                format!(
                    "no valid ticket-granting ticket ({krbtgt}) for {} in the credential cache{}",
                    self.client,
                    self.ccache_path()
                        .map(|p| format!(" {}", p.display()))
                        .unwrap_or_default()
                ),
            )),
        }
    }

    /// A FORWARDED TGT for delegation (RFC 4120 §2.6): `None` when the TGT is not
    /// FORWARDABLE (MIT then silently does not delegate). Not stored in the ccache.
    pub fn forwarded_tgt(&self, now: i64) -> Result<Option<Credential>> {
        let tgt = self.tgt(now)?;
        if tgt.ticket_flags & kflags::TKT_FORWARDABLE == 0 {
            return Ok(None);
        }
        let options = TgsOptions {
            forwardable: true,
            forwarded: true,
            ..TgsOptions::default()
        };
        let server = tgs_principal(&self.client.realm);
        let result = self
            .kdc()?
            .get_service_ticket(&tgt, &server, &options, now)
            .map_err(|e| kdc_failure(e, "getting a forwarded TGT"))?;
        Ok(Some(result.ticket))
    }

    /// AS exchange with the client keytab; the new TGT replaces the ccache's contents
    /// (as kinit and MIT's GSS keytab refresh do).
    fn renew_tgt(&self, now: i64) -> Result<Credential> {
        self.renew_tgt_replacing(now, None)
    }

    /// [`Self::renew_tgt`]; the ccache file is re-initialized only when it is missing or
    /// still belongs to the client (or to `replacing`), checked under its lock: a `kinit` of
    /// another principal made since is never undone. Otherwise the TGT is kept in memory.
    fn renew_tgt_replacing(&self, now: i64, replacing: Option<&Principal>) -> Result<Credential> {
        let kt_path = self
            .client_keytab
            .as_deref()
            .ok_or_else(|| Error::new(major::NO_CRED, minor::KT_NOTFOUND, "no client keytab"))?;
        let kt =
            Keytab::load(kt_path).map_err(|e| Error::new(major::NO_CRED, e.minor, e.detail))?;
        let kdc = self.kdc()?;
        let options = AsOptions {
            forwardable: kdc.profile().forwardable(),
            ..AsOptions::default()
        };
        let tgt = kdc
            .get_initial_credentials(&self.client, &InitialKeys::Keytab(&kt), &options, now)
            .map_err(|e| {
                Error::new(
                    major::NO_CRED,
                    e.minor,
                    format!(
                        "getting initial credentials for {} with keytab {}: {}",
                        self.client,
                        kt_path.display(),
                        e.detail
                    ),
                )
            })?;
        match &self.source {
            TicketSource::Explicit(creds) => {
                let mut creds = creds.lock().unwrap_or_else(|p| p.into_inner());
                creds.retain(|c| !c.server.matches(&tgt.server));
                creds.push(tgt.clone());
            }
            TicketSource::Ccache { path, cached, .. } => {
                let mut cc = Ccache::new(self.client.clone());
                cc.store(tgt.clone());
                let mut guard = cached.lock().unwrap_or_else(|p| p.into_inner());
                let mut owners = vec![&self.client];
                owners.extend(replacing);
                let written = ccache::replace_with_stamp(
                    path,
                    &cc,
                    ccache::ReplaceIf::MissingOrOwnedBy(&owners),
                )
                .map_err(|e| Error::new(major::NO_CRED, e.minor, e.detail))?;
                // Not written: another principal's cache; ours is used until the file changes.
                *guard = Some((written.or_else(|| stamp(path)), Arc::new(cc)));
            }
        }
        Ok(tgt)
    }

    /// Adds credentials to the cache: appended to the ccache file under its lock, as MIT's
    /// krb5_cc_store_cred does ([`ccache::append`]), so that what other processes stored is
    /// kept; the cached copy becomes the file as it now is. If the file now belongs to
    /// another principal, is gone, or cannot be written, the tickets are kept in memory only
    /// (the context still works; the next process asks the KDC again).
    fn store(&self, creds: &[Credential]) -> Result<()> {
        match &self.source {
            TicketSource::Explicit(held) => {
                let mut held = held.lock().unwrap_or_else(|p| p.into_inner());
                for c in creds {
                    match held
                        .iter_mut()
                        .find(|h| h.client.matches(&c.client) && h.server.matches(&c.server))
                    {
                        Some(slot) => *slot = c.clone(),
                        None => held.push(c.clone()),
                    }
                }
            }
            TicketSource::Ccache { path, cached, .. } => {
                let mut guard = cached.lock().unwrap_or_else(|p| p.into_inner());
                if let Ok((ccache::AppendOutcome::Stored(cc), st)) =
                    ccache::append_with_stamp(path, &self.client, creds)
                {
                    *guard = Some((Some(st), Arc::new(cc)));
                    return Ok(());
                }
                // A write failure is not the caller's failure: the ticket is valid.
                let mut cc = match guard.as_ref() {
                    Some((_, cc)) => (**cc).clone(),
                    None => Ccache::new(self.client.clone()),
                };
                for c in creds {
                    cc.store(c.clone());
                }
                // The file's stamp now: the memory copy is used until the file changes.
                *guard = Some((stamp(path), Arc::new(cc)));
            }
        }
        Ok(())
    }

    /// The KDC client, made from the default configuration on first use.
    fn kdc(&self) -> Result<KdcClient> {
        self.using_kdc(KdcClient::clone)
    }

    /// `f` on the KDC client (made on first use), borrowed under its lock.
    fn using_kdc<T>(&self, f: impl FnOnce(&KdcClient) -> T) -> Result<T> {
        let mut guard = self.kdc.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            let k = KdcClient::from_default_config()
                .map_err(|e| Error::new(major::FAILURE, e.minor, e.detail))?;
            *guard = Some(k);
        }
        Ok(f(guard.as_ref().expect("just set")))
    }

    /// The target's principal. A host-based name takes the realm `[domain_realm]` maps
    /// its host to, else the client's realm (no DNS lookups).
    pub fn target_principal(&self, target: &Name) -> Principal {
        let mut p = target.principal.clone();
        if target.any_realm && p.realm.is_empty() {
            let host = (p.name.name_type == name_type::SRV_HST)
                .then(|| p.name.components.get(1))
                .flatten();
            let mapped = host.and_then(|h| {
                let host = std::str::from_utf8(h).ok()?;
                // The KDC client's profile, borrowed (not cloned) for the lookup.
                self.using_kdc(|k| k.profile().realm_of_host(host))
                    .ok()?
                    .map(String::into_bytes)
            });
            p.realm = mapped.unwrap_or_else(|| self.client.realm.clone());
        }
        p
    }

    /// The cached ccache, compared with the file (a `stat`) when [`CCACHE_RECHECK_MS`]
    /// passed since the last look or `force`, and re-read when it changed. The flag: the
    /// file was looked at in this call.
    fn current_ccache(
        &self,
        path: &Path,
        cached: &Mutex<Option<(Option<FileStamp>, Arc<Ccache>)>>,
        checked_at: &AtomicU64,
        force: bool,
    ) -> Result<(Arc<Ccache>, bool)> {
        let now_ms = monotonic_ms() + 1;
        let last = checked_at.load(Ordering::Relaxed);
        let due = force || last == 0 || now_ms.saturating_sub(last) >= CCACHE_RECHECK_MS;
        let mut guard = cached.lock().unwrap_or_else(|p| p.into_inner());
        if !due {
            if let Some((_, cc)) = guard.as_ref() {
                return Ok((cc.clone(), false));
            }
        }
        let st = stamp(path);
        checked_at.store(now_ms, Ordering::Relaxed);
        if let Some((s, cc)) = guard.as_ref() {
            if *s == st {
                return Ok((cc.clone(), true));
            }
        }
        let (cc, read) = Ccache::load_with_stamp(path)
            .map_err(|e| Error::new(major::NO_CRED, e.minor, e.detail))?;
        let cc = Arc::new(cc);
        // The stamp of the file read (not of the earlier stat): a change in between is seen
        // on the next call.
        *guard = Some((Some(read), cc.clone()));
        Ok((cc, true))
    }
}

/// Does the keytab at `path` hold a key for `name`?
fn keytab_has_name(path: &Path, name: &Name) -> bool {
    Keytab::load(path).is_ok_and(|kt| kt.entries.iter().any(|e| name.matches(&e.principal)))
}

/// The client principal for an AS exchange with a keytab: `name` (a name without realm
/// takes the default realm) or the keytab's first principal.
fn client_of_keytab(path: &Path, name: Option<&Name>, profile: &Profile) -> Result<Principal> {
    let kt = Keytab::load(path).map_err(|e| Error::new(major::NO_CRED, e.minor, e.detail))?;
    let wanted = match name {
        None => None,
        Some(n) => {
            let mut n = n.clone();
            if n.any_realm && n.principal.realm.is_empty() {
                if let Some(r) = profile.default_realm() {
                    n.principal.realm = r.as_bytes().to_vec();
                    n.any_realm = false;
                }
            }
            Some(n)
        }
    };
    let entry = kt
        .entries
        .iter()
        .find(|e| wanted.as_ref().is_none_or(|n| n.matches(&e.principal)));
    match entry {
        Some(e) => Ok(e.principal.clone()),
        None => Err(Error::new(
            major::NO_CRED,
            minor::KT_NOTFOUND,
            format!(
                "keytab {} has no key for {}",
                path.display(),
                wanted.map_or("any principal".into(), |n| String::from_utf8_lossy(
                    &n.display()
                )
                .into_owned())
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> Ccache {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/mit-capture/alice.ccache");
        Ccache::load(&p).unwrap()
    }

    /// Tickets fetched from the KDC are appended to the ccache file in place (no temporary
    /// file, the old entries kept) and go into the cached copy, so that the next lookup finds
    /// them without the KDC.
    #[test]
    fn stored_tickets_are_appended_and_found_again() {
        let dir = std::env::temp_dir().join(format!(
            "krbap-cred-store-{}-{}",
            std::process::id(),
            crate::crypto::random_u32()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("cc");
        let mut cc = fixture();
        let at = cc
            .credentials
            .iter()
            .position(|c| c.server.to_string() == "test/localhost@TEST.LOCAL")
            .unwrap();
        let t = cc.credentials[at].authtime as i64 + 10;
        let mut new = cc.credentials.remove(at);
        cc.save(&path).unwrap();
        let cred = InitiatorCredential::from_ccache(Some(path.to_str().unwrap()), None).unwrap();
        let target = Name::import(
            b"test@localhost",
            crate::gss::name::NameType::HostbasedService,
            None,
        )
        .unwrap();
        let e = cred.find_ticket(&target, t).unwrap_err();
        assert_eq!((e.major, e.minor), (major::NO_CRED, minor::CC_NOTFOUND));
        let before = cc.credentials.len();
        new.endtime += 1;
        cred.store(std::slice::from_ref(&new)).unwrap();
        assert_eq!(cred.find_ticket(&target, t).unwrap(), new);
        let on_disk = Ccache::load(&path).unwrap();
        assert_eq!(on_disk.credentials.len(), before + 1);
        assert_eq!(on_disk.default_principal, cc.default_principal);
        assert!(on_disk.credentials.contains(&new));
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            names,
            vec![std::ffi::OsString::from("cc")],
            "temporary file left"
        );
        // A second credential from the same file sees it (as the next process would).
        let again = InitiatorCredential::from_ccache(Some(path.to_str().unwrap()), None).unwrap();
        assert_eq!(again.find_ticket(&target, t).unwrap(), new);
        // Storing the same server again appends another entry (as MIT's store does); the
        // lookup takes the one that ends last.
        let mut newer = new.clone();
        newer.endtime += 1;
        cred.store(std::slice::from_ref(&newer)).unwrap();
        let on_disk = Ccache::load(&path).unwrap();
        assert_eq!(on_disk.credentials.len(), before + 2);
        assert_eq!(on_disk.credentials.last(), Some(&newer));
        assert_eq!(cred.find_ticket(&target, t).unwrap(), newer);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A ccache re-initialized for another principal meanwhile is not overwritten.
    #[test]
    fn store_keeps_another_principals_ccache() {
        let dir = std::env::temp_dir().join(format!(
            "krbap-cred-other-{}-{}",
            std::process::id(),
            crate::crypto::random_u32()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("cc");
        let cc = fixture();
        cc.save(&path).unwrap();
        let cred = InitiatorCredential::from_ccache(Some(path.to_str().unwrap()), None).unwrap();
        let bob = Ccache::new(Principal::parse("bob@TEST.LOCAL", None).unwrap());
        bob.save(&path).unwrap();
        let tgt = cc
            .credentials
            .iter()
            .find(|c| !c.is_config_entry())
            .unwrap();
        cred.store(std::slice::from_ref(tgt)).unwrap();
        assert_eq!(Ccache::load(&path).unwrap(), bob);
        // The automatic re-initialization (client keytab) checks the owner the same way.
        let mut alice = Ccache::new(cc.default_principal.clone());
        alice.store(tgt.clone());
        let owners = [&cc.default_principal];
        let only_alice = ccache::ReplaceIf::MissingOrOwnedBy(&owners);
        assert!(!ccache::replace(&path, &alice, only_alice).unwrap());
        assert_eq!(Ccache::load(&path).unwrap(), bob);
        std::fs::remove_file(&path).unwrap();
        assert!(ccache::replace(&path, &alice, only_alice).unwrap());
        assert!(ccache::replace(&path, &alice, only_alice).unwrap());
        assert_eq!(Ccache::load(&path).unwrap(), alice);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn client_keytab_resolution() {
        assert_eq!(
            resolve_client_keytab(Some("FILE:/x/y")).unwrap(),
            Some(PathBuf::from("/x/y"))
        );
        assert!(resolve_client_keytab(Some("KEYRING:x")).is_err());
    }
}
