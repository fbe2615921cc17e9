//! Credentials: what an acceptor decrypts tickets with (service keys from a keytab or
//! from memory, plus its clock, skew and replay cache), and what an initiator presents
//! (tickets and session keys from a FILE ccache, or supplied directly).
//!
//! An [`AcceptorCredential`] is shared between threads: the keytab snapshot sits behind
//! an `RwLock<Arc<..>>` that readers hold only to clone the Arc, and it is re-read when
//! the file changes on disk (key rotation without restart).

use crate::ap::{ServiceKey, DEFAULT_CLOCK_SKEW};
use crate::ccache::{self, Ccache, Credential};
use crate::crypto::{Enctype, Key};
use crate::error::{major, minor, Error, Result};
use crate::gss::name::Name;
use crate::keytab::{self, Keytab};
use crate::principal::Principal;
use crate::rcache::ReplayCache;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FileStamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime_ns: i128,
}

fn stamp(path: &Path) -> Option<FileStamp> {
    let m = std::fs::metadata(path).ok()?;
    Some(FileStamp {
        dev: m.dev(),
        ino: m.ino(),
        size: m.size(),
        mtime_ns: m.mtime() as i128 * 1_000_000_000 + m.mtime_nsec() as i128,
    })
}

/// Service keys read from one keytab file at one moment.
struct KeytabSnapshot {
    stamp: Option<FileStamp>,
    keys: Arc<Vec<ServiceKey>>,
}

enum KeySource {
    Keytab {
        path: PathBuf,
        snapshot: RwLock<KeytabSnapshot>,
        reload: Mutex<()>,
    },
    Memory(RwLock<Arc<Vec<ServiceKey>>>),
}

/// An acceptor (server) credential.
pub struct AcceptorCredential {
    /// The principal this credential accepts for; `None` = any principal with a key.
    name: Option<Name>,
    source: KeySource,
    skew: AtomicI64,
    pub clock: Clock,
    rcache: RwLock<Arc<ReplayCache>>,
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
        Ok(Self::with_source(
            name,
            KeySource::Keytab {
                snapshot: RwLock::new(KeytabSnapshot {
                    stamp: stamp(&path),
                    keys: Arc::new(keys),
                }),
                path,
                reload: Mutex::new(()),
            },
        ))
    }

    /// From keys held in memory (no keytab file).
    pub fn from_keys(name: Option<Name>, keys: Vec<ServiceKey>) -> AcceptorCredential {
        Self::with_source(name, KeySource::Memory(RwLock::new(Arc::new(keys))))
    }

    fn with_source(name: Option<Name>, source: KeySource) -> AcceptorCredential {
        AcceptorCredential {
            name,
            source,
            skew: AtomicI64::new(DEFAULT_CLOCK_SKEW),
            clock: Clock::default(),
            rcache: RwLock::new(Arc::new(ReplayCache::memory())),
        }
    }

    /// Adds a key to an in-memory credential (a keytab-backed one is read-only).
    pub fn add_key(&self, key: ServiceKey) -> Result<()> {
        match &self.source {
            KeySource::Memory(keys) => {
                let mut guard = keys.write().unwrap_or_else(|p| p.into_inner());
                let mut v = (**guard).clone();
                v.push(key);
                *guard = Arc::new(v);
                Ok(())
            }
            KeySource::Keytab { .. } => Err(Error::new(
                major::UNAVAILABLE,
                minor::KT_NOWRITE,
                "keys cannot be added to a keytab-backed credential",
            )),
        }
    }

    pub fn name(&self) -> Option<&Name> {
        self.name.as_ref()
    }

    /// The current service keys; a keytab is re-read first if it changed on disk.
    pub fn keys(&self) -> Arc<Vec<ServiceKey>> {
        match &self.source {
            KeySource::Memory(keys) => keys.read().unwrap_or_else(|p| p.into_inner()).clone(),
            KeySource::Keytab {
                path,
                snapshot,
                reload,
            } => {
                let now_stamp = stamp(path);
                {
                    let snap = snapshot.read().unwrap_or_else(|p| p.into_inner());
                    if snap.stamp == now_stamp {
                        return snap.keys.clone();
                    }
                }
                // One thread re-reads; the others keep using the old keys meanwhile.
                let Ok(_one) = reload.try_lock() else {
                    return snapshot
                        .read()
                        .unwrap_or_else(|p| p.into_inner())
                        .keys
                        .clone();
                };
                match Keytab::load(path) {
                    Ok(kt) => {
                        let keys = Arc::new(keys_from_keytab(&kt, self.name.as_ref()));
                        let mut snap = snapshot.write().unwrap_or_else(|p| p.into_inner());
                        *snap = KeytabSnapshot {
                            stamp: now_stamp,
                            keys: keys.clone(),
                        };
                        keys
                    }
                    // A keytab caught mid-rewrite (or removed): keep the keys we had.
                    Err(_) => snapshot
                        .read()
                        .unwrap_or_else(|p| p.into_inner())
                        .keys
                        .clone(),
                }
            }
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
        self.rcache
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
    pub fn set_replay_cache(&self, rc: ReplayCache) {
        *self.rcache.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(rc);
    }
}

enum TicketSource {
    Ccache {
        path: PathBuf,
        cached: Mutex<Option<(Option<FileStamp>, Arc<Ccache>)>>,
    },
    Explicit(Vec<Credential>),
}

/// An initiator (client) credential: the client principal and its tickets.
pub struct InitiatorCredential {
    client: Principal,
    source: TicketSource,
    pub clock: Clock,
}

impl std::fmt::Debug for InitiatorCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InitiatorCredential")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

impl InitiatorCredential {
    /// From a FILE ccache: `location` (`FILE:path` or a path), else `KRB5CCNAME`, else
    /// `/tmp/krb5cc_<uid>`. With `name`, the ccache's principal must be that name.
    pub fn from_ccache(location: Option<&str>, name: Option<&Name>) -> Result<InitiatorCredential> {
        let path = ccache::resolve_ccache_name(location)?;
        let cc = Ccache::load(&path).map_err(|e| Error::new(major::NO_CRED, e.minor, e.detail))?;
        if let Some(n) = name {
            if !n.matches(&cc.default_principal) {
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
        Ok(InitiatorCredential {
            client,
            source: TicketSource::Ccache {
                cached: Mutex::new(Some((stamp(&path), Arc::new(cc)))),
                path,
            },
            clock: Clock::default(),
        })
    }

    /// From explicit service tickets (e.g. obtained elsewhere) for `client`.
    pub fn from_credentials(client: Principal, creds: Vec<Credential>) -> InitiatorCredential {
        InitiatorCredential {
            client,
            source: TicketSource::Explicit(creds),
            clock: Clock::default(),
        }
    }

    pub fn client(&self) -> &Principal {
        &self.client
    }

    /// The ccache path, for a FILE-ccache credential.
    pub fn ccache_path(&self) -> Option<&Path> {
        match &self.source {
            TicketSource::Ccache { path, .. } => Some(path),
            TicketSource::Explicit(_) => None,
        }
    }

    /// A valid service ticket for `target`, from the ccache (re-read when it changed).
    pub fn find_ticket(&self, target: &Name, now: i64) -> Result<Credential> {
        let server = self.target_principal(target);
        let found = match &self.source {
            TicketSource::Explicit(creds) => creds
                .iter()
                .filter(|c| {
                    !c.is_config_entry() && target.matches(&c.server) && c.endtime as i64 > now
                })
                .max_by_key(|c| c.endtime)
                .cloned(),
            TicketSource::Ccache { path, cached } => {
                let cc = self.current_ccache(path, cached)?;
                let mut found = cc.find(Some(&self.client), &server, now).cloned();
                if found.is_none() && target.any_realm {
                    found = cc
                        .credentials
                        .iter()
                        .filter(|c| {
                            !c.is_config_entry()
                                && target.matches(&c.server)
                                && c.endtime as i64 > now
                        })
                        .max_by_key(|c| c.endtime)
                        .cloned();
                }
                found
            }
        };
        found.ok_or_else(|| {
            Error::new(
                major::NO_CRED,
                minor::CC_NOTFOUND,
                format!(
                    "no valid ticket for {} in the credential cache (fetching tickets from the KDC is not supported yet; run `kvno {}` first)",
                    server, server
                ),
            )
        })
    }

    /// The target's principal; a host-based name takes the client's realm.
    pub fn target_principal(&self, target: &Name) -> Principal {
        let mut p = target.principal.clone();
        if target.any_realm && p.realm.is_empty() {
            p.realm = self.client.realm.clone();
        }
        p
    }

    fn current_ccache(
        &self,
        path: &Path,
        cached: &Mutex<Option<(Option<FileStamp>, Arc<Ccache>)>>,
    ) -> Result<Arc<Ccache>> {
        let st = stamp(path);
        let mut guard = cached.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((s, cc)) = guard.as_ref() {
            if *s == st {
                return Ok(cc.clone());
            }
        }
        let cc = Arc::new(
            Ccache::load(path).map_err(|e| Error::new(major::NO_CRED, e.minor, e.detail))?,
        );
        *guard = Some((st, cc.clone()));
        Ok(cc)
    }
}
