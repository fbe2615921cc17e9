//! MIT's FILE credential cache (format: MIT's ccache_file_format.rst, kept in
//! shared/specs/mit-ccache_file_format.rst; field details as MIT 1.20 ccmarshal.c).
//!
//! Layout: `05 0v`, in version 4 a header (16-bit length, then tag/length/value fields;
//! tag 1 = KDC time offset), the default principal, then credentials until the end of the
//! file. Versions 3 and 4 are big-endian and read; versions 1 and 2 (native byte order,
//! pre-1.0 MIT) are refused. Version 4 is written.
//!
//! Every length and count is checked against the remaining bytes before anything is
//! allocated; errors carry KRB5_CC_FORMAT and name the file and byte offset.
//!
//! Sharing the file with MIT programs (MIT 1.20 cc_file.c, behaviour checked with strace
//! against the installed 1.20.1): readers hold a shared lock on the whole file while they read
//! it, a credential is stored by appending it under an exclusive lock (one write, the format
//! being a sequence of credentials up to the end of the file), and a cache is (re)initialized
//! by writing a new file and renaming it over the old one (MIT's kinit: mkstemp + rename, no
//! lock). Locks: [`crate::file_lock`]. What MIT's readers tolerate, krbap's do too: a file that
//! ends inside a credential ends the cache there (MIT's KRB5_CC_END: a torn append), and
//! credentials that `krb5_cc_remove_cred` marked as removed (rewritten in place with endtime 0
//! and a non-zero authtime; MIT 1.20 writes authtime -1) are skipped.

use crate::asn1::{AuthorizationDataEntry, EncryptionKey, HostAddress};
use crate::byte_reader::ByteReader;
use crate::error::{minor, Error, Result};
use crate::file_lock::{open_locked, FileStamp, LockKind, LockedFile};
use crate::file_name::FileKind;
use crate::principal::{Principal, PrincipalName};
use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Largest ccache file `load` reads (a cache with hundreds of tickets is well below this).
pub const MAX_CCACHE_FILE_SIZE: u64 = 64 * 1024 * 1024;

/// Realm of configuration entries' server principals.
pub const CONFIG_REALM: &[u8] = b"X-CACHECONF:";
/// First component of configuration entries' server principals.
pub const CONFIG_FIRST_COMPONENT: &[u8] = b"krb5_ccache_conf_data";

/// Header tag of the KDC time offset (seconds, microseconds).
const TAG_KDC_TIME_OFFSET: u16 = 1;

/// One credential (or configuration entry) of the cache.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credential {
    pub client: Principal,
    pub server: Principal,
    /// The session key (its Debug output is redacted).
    pub key: EncryptionKey,
    pub authtime: u32,
    pub starttime: u32,
    pub endtime: u32,
    pub renew_till: u32,
    pub is_skey: bool,
    /// TicketFlags as MIT's krb5_flags: `0x8000_0000 >> n` is RFC 4120 bit n.
    pub ticket_flags: u32,
    pub addresses: Vec<HostAddress>,
    pub authdata: Vec<AuthorizationDataEntry>,
    /// The DER Ticket (for a configuration entry: the configuration value).
    pub ticket: Vec<u8>,
    pub second_ticket: Vec<u8>,
}

impl Credential {
    /// A configuration entry: server realm `X-CACHECONF:` and first component
    /// `krb5_ccache_conf_data` (MIT's krb5_is_config_principal).
    pub fn is_config_entry(&self) -> bool {
        self.server.realm == CONFIG_REALM
            && self.server.name.components.first().map(|c| &c[..]) == Some(CONFIG_FIRST_COMPONENT)
    }
}

/// A FILE credential cache.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ccache {
    /// The version read (3 or 4); [`Ccache::to_bytes`] always writes version 4.
    pub version: u16,
    /// KDC time minus local time, (seconds, microseconds), when the header records it.
    pub kdc_time_offset: Option<(i32, i32)>,
    pub default_principal: Principal,
    /// Credentials and configuration entries, in file order (entries marked as removed are
    /// not included).
    pub credentials: Vec<Credential>,
    /// Where the file ends inside a credential, when it does (read by [`Ccache::parse_file`]:
    /// a torn append, ignored as MIT's reader ignores it; the next store cuts it off).
    pub torn_tail_at: Option<usize>,
}

/// The ccache reader: the shared bounded cursor plus the ccache's own records.
struct Reader<'a> {
    r: ByteReader<'a>,
    /// A length larger than the whole file was read: MIT's reader calls that KRB5_CC_FORMAT,
    /// where running out of bytes is only the end of the cache.
    format_fault: bool,
}

impl<'a> std::ops::Deref for Reader<'a> {
    type Target = ByteReader<'a>;
    fn deref(&self) -> &ByteReader<'a> {
        &self.r
    }
}

impl std::ops::DerefMut for Reader<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.r
    }
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8], pos: usize, file: &'a str) -> Reader<'a> {
        Reader {
            r: ByteReader::new(bytes, pos, file, format_error),
            format_fault: false,
        }
    }

    /// A 32-bit length and its bytes (MIT load_data: a length over the file size is a format
    /// error, one past the end of the file the end of the cache).
    fn data32(&mut self, what: &str) -> Result<&'a [u8]> {
        if let Some(len) = self.bytes.get(self.pos..self.pos + 4) {
            let len = u32::from_be_bytes(len.try_into().expect("4 bytes")) as usize;
            if len > self.bytes.len() {
                self.format_fault = true;
            }
        }
        self.r.data32(what)
    }

    fn principal(&mut self, what: &str) -> Result<Principal> {
        let name_type = self.u32(what)? as i32;
        let count = self.count32(4, &format!("{what} component count"))?;
        let realm = self.data32(&format!("{what} realm"))?.to_vec();
        let mut components = Vec::with_capacity(count);
        for _ in 0..count {
            components.push(self.data32(&format!("{what} component"))?.to_vec());
        }
        Ok(Principal {
            realm,
            name: PrincipalName {
                name_type,
                components,
            },
        })
    }

    fn credential(&mut self, version: u16) -> Result<Credential> {
        let client = self.principal("client principal")?;
        let server = self.principal("server principal")?;
        // MIT reads the enctype as an unsigned 16-bit value (ccmarshal.c get16).
        let keytype = self.u16("key enctype")? as i32;
        if version == 3 {
            // Version 3 stores the enctype twice; the second copy is ignored.
            self.u16("key enctype (second copy)")?;
        }
        let keyvalue = Zeroizing::new(self.data32("key")?.to_vec());
        let authtime = self.u32("authtime")?;
        let starttime = self.u32("starttime")?;
        let endtime = self.u32("endtime")?;
        let renew_till = self.u32("renew_till")?;
        let is_skey = self.u8("is_skey")? != 0;
        let ticket_flags = self.u32("ticket flags")?;
        let n = self.count32(6, "address count")?;
        let mut addresses = Vec::with_capacity(n);
        for _ in 0..n {
            let addr_type = self.u16("address type")? as i32;
            addresses.push(HostAddress {
                addr_type,
                address: self.data32("address")?.to_vec(),
            });
        }
        let n = self.count32(6, "authdata count")?;
        let mut authdata = Vec::with_capacity(n);
        for _ in 0..n {
            // Authdata types can be negative: sign-extend, as MIT does.
            let ad_type = self.u16("authdata type")? as i16 as i32;
            authdata.push(AuthorizationDataEntry {
                ad_type,
                ad_data: self.data32("authdata")?.to_vec(),
            });
        }
        let ticket = self.data32("ticket")?.to_vec();
        let second_ticket = self.data32("second ticket")?.to_vec();
        Ok(Credential {
            client,
            server,
            key: EncryptionKey { keytype, keyvalue },
            authtime,
            starttime,
            endtime,
            renew_till,
            is_skey,
            ticket_flags,
            addresses,
            authdata,
            ticket,
            second_ticket,
        })
    }
}

fn format_error(file: &str, offset: usize, what: &str) -> Error {
    Error::minor(
        minor::CC_FORMAT,
        format!("ccache {file}: {what} at byte offset {offset}"),
    )
}

impl Ccache {
    /// An empty version-4 cache for `default_principal` (no time offset).
    pub fn new(default_principal: Principal) -> Ccache {
        Ccache {
            version: 4,
            kdc_time_offset: None,
            default_principal,
            credentials: Vec::new(),
            torn_tail_at: None,
        }
    }

    /// Parses a whole FILE ccache; `name` (usually the path) is used in error messages. Every
    /// byte must belong to a credential: a file that ends inside one is an error (see
    /// [`Ccache::parse_file`] for the reader's tolerance).
    pub fn parse(bytes: &[u8], name: &str) -> Result<Ccache> {
        Self::parse_with(bytes, name, false)
    }

    /// Parses a ccache file as MIT's reader does: when the file ends inside a credential (an
    /// append torn by a crash or a full disk), the cache ends before it (MIT's KRB5_CC_END)
    /// and `torn_tail_at` says where; a length larger than the whole file is still an error.
    pub fn parse_file(bytes: &[u8], name: &str) -> Result<Ccache> {
        Self::parse_with(bytes, name, true)
    }

    fn parse_with(bytes: &[u8], name: &str, tolerant: bool) -> Result<Ccache> {
        if bytes.len() < 2 {
            return Err(format_error(
                name,
                0,
                "file too short for the version header",
            ));
        }
        if bytes[0] != 5 {
            return Err(format_error(
                name,
                0,
                &format!(
                    "first byte is {:#04x}, not 0x05: not a credential cache",
                    bytes[0]
                ),
            ));
        }
        let version = bytes[1] as u16;
        match version {
            3 | 4 => {}
            1 | 2 => {
                return Err(format_error(
                    name,
                    1,
                    &format!("ccache format version {version} (native byte order, pre-1.0 MIT) is not supported"),
                ))
            }
            v => return Err(format_error(name, 1, &format!("unknown ccache format version {v}"))),
        }
        let mut r = Reader::new(bytes, 2, name);
        let mut kdc_time_offset = None;
        if version == 4 {
            let header_len = r.u16("header length")? as usize;
            let header_start = r.pos;
            let header = r.take(header_len, "header")?;
            let mut h = Reader::new(&bytes[..header_start + header.len()], header_start, name);
            while h.remaining() > 0 {
                let tag = h.u16("header field tag")?;
                let len = h.u16("header field length")? as usize;
                let at = h.pos;
                let value = h.take(len, "header field value")?;
                if tag == TAG_KDC_TIME_OFFSET {
                    if len != 8 {
                        return Err(format_error(
                            name,
                            at,
                            &format!("KDC time offset field of {len} bytes, not 8"),
                        ));
                    }
                    let secs = i32::from_be_bytes(value[..4].try_into().expect("4 bytes"));
                    let usecs = i32::from_be_bytes(value[4..].try_into().expect("4 bytes"));
                    kdc_time_offset = Some((secs, usecs));
                }
                // Unknown tags are skipped, as the format asks.
            }
        }
        let default_principal = r.principal("default principal")?;
        let mut credentials = Vec::new();
        let mut torn_tail_at = None;
        while r.remaining() > 0 {
            let start = r.pos;
            match r.credential(version) {
                Ok(c) if is_removed(&c) => {}
                Ok(c) => credentials.push(c),
                Err(_) if tolerant && !r.format_fault => {
                    torn_tail_at = Some(start);
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(Ccache {
            version,
            kdc_time_offset,
            default_principal,
            credentials,
            torn_tail_at,
        })
    }

    /// Reads and parses a ccache file under a shared lock (waiting for a writer at most
    /// [`crate::file_lock::lock_timeout`]), tolerating what MIT's reader tolerates
    /// ([`Ccache::parse_file`]). A missing file gives KRB5_FCC_NOFILE (as MIT), a lock not
    /// granted in time EAGAIN, other I/O errors KRB5_CC_IO.
    pub fn load(path: &Path) -> Result<Ccache> {
        Ok(Self::load_with_stamp(path)?.0)
    }

    /// [`Ccache::load`], with the stamp of the file that was read.
    pub(crate) fn load_with_stamp(path: &Path) -> Result<(Ccache, FileStamp)> {
        let locked = open_locked(path, OpenOptions::new().read(true), LockKind::Shared)
            .map_err(|e| lock_error(path, LockKind::Shared, e))?;
        let (cc, _) = read_locked(&locked, path)?;
        let st = locked.stamp().map_err(|e| io_error(path, "reading", e))?;
        Ok((cc, st))
    }

    /// Serializes as version 4; the header carries the KDC time-offset field only when
    /// `kdc_time_offset` is set. It holds session keys: the buffer is sized exactly up front
    /// (no reallocation leaves a copy behind) and wiped on drop.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(self.encoded_len()));
        out.extend_from_slice(&[5u8, 4]);
        match self.kdc_time_offset {
            Some((secs, usecs)) => {
                out.extend_from_slice(&12u16.to_be_bytes());
                out.extend_from_slice(&TAG_KDC_TIME_OFFSET.to_be_bytes());
                out.extend_from_slice(&8u16.to_be_bytes());
                out.extend_from_slice(&secs.to_be_bytes());
                out.extend_from_slice(&usecs.to_be_bytes());
            }
            None => out.extend_from_slice(&0u16.to_be_bytes()),
        }
        put_principal(&mut out, &self.default_principal);
        for c in &self.credentials {
            put_credential(&mut out, c, 4);
        }
        debug_assert_eq!(out.len(), self.encoded_len());
        out
    }

    /// The exact length of [`Ccache::to_bytes`].
    fn encoded_len(&self) -> usize {
        let header = 2
            + 2
            + if self.kdc_time_offset.is_some() {
                12
            } else {
                0
            };
        let creds: usize = self.credentials.iter().map(|c| credential_len(c, 4)).sum();
        header + principal_len(&self.default_principal) + creds
    }

    /// (Re)initializes the cache file with this cache, as MIT's kinit does: a new file (mode
    /// 0600) in the same directory, synced, then renamed over `path`, so that readers see the
    /// old or the new cache, never a partial one. It replaces whatever is there; see
    /// [`replace`] for a replacement that leaves another principal's cache alone.
    pub fn save(&self, path: &Path) -> Result<()> {
        replace(path, self, ReplaceIf::Always).map(|_| ())
    }

    /// The credential to use for `server`, like MIT's krb5_cc_retrieve_cred with the
    /// KRB5_TC_MATCH_TIMES rule that krb5_get_credentials uses:
    /// - configuration entries are never returned;
    /// - the client must match `client` (`None` = the cache's default principal);
    /// - the server must match in realm and components, the name type ignored; a `server`
    ///   with an empty realm (MIT's referral realm) matches any realm (as
    ///   KRB5_TC_MATCH_SRV_NAMEONLY), since MIT stores referral tickets under either name;
    /// - credentials with `endtime < now` are expired and skipped (MIT's times_match keeps
    ///   `endtime >= now`);
    /// - among several matches the latest endtime wins (the first in file order on ties).
    pub fn find(
        &self,
        client: Option<&Principal>,
        server: &Principal,
        now: i64,
    ) -> Option<&Credential> {
        let client = client.unwrap_or(&self.default_principal);
        let mut best: Option<&Credential> = None;
        for c in &self.credentials {
            if c.is_config_entry() || !c.client.matches(client) {
                continue;
            }
            let server_ok = if server.realm.is_empty() {
                c.server.name.same_components(&server.name)
            } else {
                c.server.matches(server)
            };
            if !server_ok || (c.endtime as i64) < now {
                continue;
            }
            if best.is_none_or(|b| c.endtime > b.endtime) {
                best = Some(c);
            }
        }
        best
    }

    /// Stores a credential, replacing the entry with the same client and server (name
    /// types ignored), else appending. Configuration entries are stored the same way.
    pub fn store(&mut self, cred: Credential) {
        match self
            .credentials
            .iter_mut()
            .find(|c| c.client.matches(&cred.client) && c.server.matches(&cred.server))
        {
            Some(slot) => *slot = cred,
            None => self.credentials.push(cred),
        }
    }

    /// The configuration entries (shown separately by tools; skipped by [`Ccache::find`]).
    pub fn config_entries(&self) -> impl Iterator<Item = &Credential> {
        self.credentials.iter().filter(|c| c.is_config_entry())
    }
}

/// MIT's (and Heimdal's) mark of a credential removed by `krb5_cc_remove_cred`: endtime 0
/// with a non-zero authtime (configuration entries have all times 0).
fn is_removed(c: &Credential) -> bool {
    c.endtime == 0 && c.authtime != 0
}

fn principal_len(p: &Principal) -> usize {
    8 + 4 + p.realm.len() + p.name.components.iter().map(|c| 4 + c.len()).sum::<usize>()
}

/// The encoded length of one credential in format `version` (3 or 4).
fn credential_len(c: &Credential, version: u16) -> usize {
    principal_len(&c.client)
        + principal_len(&c.server)
        + if version == 3 { 4 } else { 2 }
        + 4
        + c.key.keyvalue.len()
        + 16
        + 1
        + 4
        + 4
        + c.addresses
            .iter()
            .map(|a| 6 + a.address.len())
            .sum::<usize>()
        + 4
        + c.authdata
            .iter()
            .map(|a| 6 + a.ad_data.len())
            .sum::<usize>()
        + 4
        + c.ticket.len()
        + 4
        + c.second_ticket.len()
}

/// One credential in format `version` (3 or 4; MIT ccmarshal.c marshal_cred).
fn put_credential(out: &mut Vec<u8>, c: &Credential, version: u16) {
    put_principal(out, &c.client);
    put_principal(out, &c.server);
    // 16-bit fields are written truncated, as MIT's put16 does.
    out.extend_from_slice(&(c.key.keytype as u16).to_be_bytes());
    if version == 3 {
        // Version 3 repeats the enctype.
        out.extend_from_slice(&(c.key.keytype as u16).to_be_bytes());
    }
    put_data(out, &c.key.keyvalue);
    for t in [c.authtime, c.starttime, c.endtime, c.renew_till] {
        out.extend_from_slice(&t.to_be_bytes());
    }
    out.push(c.is_skey as u8);
    out.extend_from_slice(&c.ticket_flags.to_be_bytes());
    put_u32(out, c.addresses.len());
    for a in &c.addresses {
        out.extend_from_slice(&(a.addr_type as u16).to_be_bytes());
        put_data(out, &a.address);
    }
    put_u32(out, c.authdata.len());
    for ad in &c.authdata {
        out.extend_from_slice(&(ad.ad_type as u16).to_be_bytes());
        put_data(out, &ad.ad_data);
    }
    put_data(out, &c.ticket);
    put_data(out, &c.second_ticket);
}

fn cache_name(path: &Path) -> String {
    format!("credential cache '{}'", path.display())
}

/// An I/O error on the cache file: KRB5_FCC_NOFILE when it does not exist, else KRB5_CC_IO.
fn io_error(path: &Path, doing: &str, e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::NotFound {
        Error::minor(
            minor::FCC_NOFILE,
            format!("credential cache '{}' not found", path.display()),
        )
    } else {
        Error::minor(
            minor::CC_IO,
            format!("{doing} credential cache '{}': {e}", path.display()),
        )
    }
}

fn lock_error(path: &Path, kind: LockKind, e: crate::file_lock::LockError) -> Error {
    match e {
        crate::file_lock::LockError::Io(io) => io_error(path, "opening", io),
        e => e.to_error(&cache_name(path), kind, Some(minor::CC_IO)),
    }
}

/// Reads and parses the whole locked file ([`Ccache::parse_file`]); also returns its length.
fn read_locked(locked: &LockedFile, path: &Path) -> Result<(Ccache, u64)> {
    let bytes = crate::keytab::read_secret_file(locked.file(), MAX_CCACHE_FILE_SIZE)
        .map_err(|e| io_error(path, "reading", e))?;
    if bytes.len() as u64 > MAX_CCACHE_FILE_SIZE {
        return Err(Error::minor(
            minor::CC_FORMAT,
            format!(
                "credential cache '{}' is larger than {MAX_CCACHE_FILE_SIZE} bytes",
                path.display()
            ),
        ));
    }
    let cc = Ccache::parse_file(&bytes, &path.display().to_string())?;
    Ok((cc, bytes.len() as u64))
}

/// What [`append`] found.
#[derive(Debug)]
pub enum AppendOutcome {
    /// The credentials were appended; the cache as it now is on disk.
    Stored(Ccache),
    /// The file was (re)initialized for another principal: nothing was written. The cache
    /// as it is on disk.
    OtherPrincipal(Ccache),
}

/// Stores credentials in the cache file as MIT's `krb5_cc_store_cred` does: under an
/// exclusive lock, appended at the end of the file in one write, in the file's own format
/// version (3 or 4), so that nothing another process stored meanwhile is lost. Unlike MIT,
/// the file's default principal is checked first: a cache that was re-initialized for
/// another principal since `client` read it is left alone ([`AppendOutcome::OtherPrincipal`]).
/// A torn credential at the end of the file (which MIT's readers stop at, hiding anything
/// after it) is cut off first; a failed write is cut off again, so the file never ends in a
/// partial credential of ours. A missing file is KRB5_FCC_NOFILE (MIT does not create one on
/// store either).
pub fn append(path: &Path, client: &Principal, creds: &[Credential]) -> Result<AppendOutcome> {
    Ok(append_with_stamp(path, client, creds)?.0)
}

/// [`append`], with the stamp of the file afterwards (taken under the lock).
pub(crate) fn append_with_stamp(
    path: &Path,
    client: &Principal,
    creds: &[Credential],
) -> Result<(AppendOutcome, FileStamp)> {
    let locked = open_locked(
        path,
        OpenOptions::new().read(true).write(true),
        LockKind::Exclusive,
    )
    .map_err(|e| lock_error(path, LockKind::Exclusive, e))?;
    let (mut cc, mut len) = read_locked(&locked, path)?;
    let stamp = |locked: &LockedFile| locked.stamp().map_err(|e| io_error(path, "writing", e));
    if !cc.default_principal.matches(client) {
        let st = stamp(&locked)?;
        return Ok((AppendOutcome::OtherPrincipal(cc), st));
    }
    let file = locked.file();
    if let Some(at) = cc.torn_tail_at.take() {
        file.set_len(at as u64)
            .map_err(|e| io_error(path, "repairing", e))?;
        len = at as u64;
    }
    let version = cc.version;
    let total: usize = creds.iter().map(|c| credential_len(c, version)).sum();
    let mut out = Zeroizing::new(Vec::with_capacity(total));
    for c in creds {
        put_credential(&mut out, c, version);
    }
    debug_assert_eq!(out.len(), total);
    if let Err(e) = file.write_all_at(&out, len) {
        // Leave no partial credential behind (MIT would; its readers then stop there).
        let _ = file.set_len(len);
        return Err(io_error(path, "writing", e));
    }
    cc.credentials.extend(creds.iter().cloned());
    let st = stamp(&locked)?;
    Ok((AppendOutcome::Stored(cc), st))
}

/// When [`replace`] may replace the cache file.
#[derive(Clone, Copy, Debug)]
pub enum ReplaceIf<'a> {
    /// Whatever is there (kinit).
    Always,
    /// Only when there is no cache, or one whose default principal is one of these (checked
    /// under an exclusive lock held until the new file is in place): an automatic
    /// re-initialization must not undo a `kinit` of another principal made meanwhile.
    MissingOrOwnedBy(&'a [&'a Principal]),
}

/// (Re)initializes the cache file with `cc` (new file, synced, renamed over `path`, as MIT
/// 1.20's kinit does) when `cond` allows it; `Ok(false)` when it did not. A file that cannot
/// be parsed belongs to no one and may be replaced. MIT's kinit renames without any lock, so
/// the check closes the race against other krbap processes and MIT's stores, not against a
/// kinit that lands between the check and the rename (a window of microseconds).
pub fn replace(path: &Path, cc: &Ccache, cond: ReplaceIf<'_>) -> Result<bool> {
    Ok(replace_with_stamp(path, cc, cond)?.is_some())
}

/// [`replace`], with the stamp of the file written.
pub(crate) fn replace_with_stamp(
    path: &Path,
    cc: &Ccache,
    cond: ReplaceIf<'_>,
) -> Result<Option<FileStamp>> {
    let mut _held = None;
    if let ReplaceIf::MissingOrOwnedBy(allowed) = cond {
        match open_locked(
            path,
            OpenOptions::new().read(true).write(true),
            LockKind::Exclusive,
        ) {
            Ok(locked) => {
                if let Ok((old, _)) = read_locked(&locked, path) {
                    if !allowed.iter().any(|p| old.default_principal.matches(p)) {
                        return Ok(None);
                    }
                }
                _held = Some(locked);
            }
            Err(crate::file_lock::LockError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            }
            Err(e) => return Err(lock_error(path, LockKind::Exclusive, e)),
        }
    }
    let bytes = cc.to_bytes();
    crate::keytab::write_atomic(path, &bytes)
        .map(Some)
        .map_err(|e| io_error(path, "writing", e))
}

/// A 32-bit length. Values above 4 GiB cannot occur in a cache we build (the file is read
/// with a 64 MiB bound, tickets are small); saturate rather than panic.
fn put_u32(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_be_bytes());
}

fn put_data(out: &mut Vec<u8>, d: &[u8]) {
    put_u32(out, d.len());
    out.extend_from_slice(d);
}

fn put_principal(out: &mut Vec<u8>, p: &Principal) {
    out.extend_from_slice(&p.name.name_type.to_be_bytes());
    put_u32(out, p.name.components.len());
    put_data(out, &p.realm);
    for c in &p.name.components {
        put_data(out, c);
    }
}

/// Resolves a ccache name as MIT's krb5_cc_resolve does for the FILE type: `FILE:path` or
/// a bare path (no colon, or starting with `/`). `None` uses `KRB5CCNAME`, else krb5.conf's
/// `default_ccache_name` (path tokens expanded), else `/tmp/krb5cc_<euid>` (MIT's order).
/// KEYRING:, KCM:, DIR:, MEMORY:, API: and unknown types give KRB5_CC_UNKNOWN_TYPE
/// ("unsupported credential cache type").
pub fn resolve_ccache_name(name: Option<&str>) -> Result<PathBuf> {
    const KIND: FileKind = FileKind {
        what: "credential cache",
        env: "KRB5CCNAME",
        profile_key: "default_ccache_name",
        file_types: &["FILE"],
        unknown_type: minor::CC_UNKNOWN_TYPE,
        bad_name: minor::CC_BADNAME,
    };
    crate::file_name::resolve(name, &KIND, || {
        // SAFETY: geteuid has no preconditions and cannot fail.
        let euid = unsafe { libc::geteuid() };
        format!("FILE:/tmp/krb5cc_{euid}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn princ(s: &str) -> Principal {
        Principal::parse(s, None).unwrap()
    }

    fn cred(server: &str, endtime: u32) -> Credential {
        Credential {
            client: princ("alice@R"),
            server: princ(server),
            key: EncryptionKey {
                keytype: 18,
                keyvalue: Zeroizing::new(vec![7; 32]),
            },
            authtime: 100,
            starttime: 100,
            endtime,
            renew_till: 0,
            is_skey: false,
            ticket_flags: 0x4081_0000,
            addresses: vec![HostAddress {
                addr_type: 2,
                address: vec![127, 0, 0, 1],
            }],
            authdata: vec![AuthorizationDataEntry {
                ad_type: -5,
                ad_data: vec![1, 2],
            }],
            ticket: vec![0x61, 0x00],
            second_ticket: vec![],
        }
    }

    fn config(key: &str, value: &[u8]) -> Credential {
        // MIT's configuration entries have all times 0.
        let mut c = cred("x@R", 0);
        c.authtime = 0;
        c.starttime = 0;
        c.server = Principal::new(
            CONFIG_REALM,
            PrincipalName::new(0, &[CONFIG_FIRST_COMPONENT, key.as_bytes()]),
        );
        c.ticket = value.to_vec();
        c
    }

    #[test]
    fn round_trip() {
        let mut cc = Ccache::new(princ("alice@R"));
        cc.store(cred("krbtgt/R@R", 1000));
        cc.store(config("fast_avail", b"yes"));
        let bytes = cc.to_bytes();
        assert_eq!(
            &bytes[..4],
            &[5, 4, 0, 0],
            "no header fields without an offset"
        );
        assert_eq!(Ccache::parse(&bytes, "m").unwrap(), cc);
        cc.kdc_time_offset = Some((-3, 250));
        let back = Ccache::parse(&cc.to_bytes(), "m").unwrap();
        assert_eq!(back.kdc_time_offset, Some((-3, 250)));
        assert_eq!(back.credentials[0].authdata[0].ad_type, -5);
    }

    #[test]
    fn version_3_reads_enctype_twice() {
        let cc = {
            let mut c = Ccache::new(princ("alice@R"));
            c.store(cred("s/h@R", 500));
            c
        };
        let v4 = cc.to_bytes();
        // Build v3: no header, enctype repeated.
        let mut v3 = vec![5u8, 3];
        let body = &v4[4..];
        let mut r = Reader::new(body, 0, "t");
        r.principal("d").unwrap();
        r.principal("c").unwrap();
        r.principal("s").unwrap();
        let at = r.pos;
        v3.extend_from_slice(&body[..at + 2]);
        v3.extend_from_slice(&body[at..at + 2]);
        v3.extend_from_slice(&body[at + 2..]);
        let back = Ccache::parse(&v3, "v3").unwrap();
        assert_eq!(back.version, 3);
        assert_eq!(back.credentials, cc.credentials);
    }

    #[test]
    fn rejects_old_and_bad_versions() {
        for (b, what) in [
            (&[5u8, 1][..], "version 1"),
            (&[5, 2], "version 2"),
            (&[5, 9], "unknown"),
            (&[4, 4], "not a"),
        ] {
            let e = Ccache::parse(b, "f").unwrap_err();
            assert_eq!(e.minor, minor::CC_FORMAT);
            assert!(e.detail.contains(what), "{e}");
        }
    }

    #[test]
    fn hostile_counts_do_not_allocate() {
        let mut b = vec![5u8, 4, 0, 0];
        b.extend_from_slice(&1u32.to_be_bytes());
        b.extend_from_slice(&0x7fff_ffffu32.to_be_bytes()); // component count
        b.extend_from_slice(&[0; 16]);
        let e = Ccache::parse(&b, "hostile").unwrap_err();
        assert!(e.detail.contains("offset 8"), "{e}");
        let mut b = vec![5u8, 4, 0, 0];
        b.extend_from_slice(&1u32.to_be_bytes());
        b.extend_from_slice(&1u32.to_be_bytes());
        b.extend_from_slice(&0xffff_fff0u32.to_be_bytes()); // realm length
        assert_eq!(Ccache::parse(&b, "h").unwrap_err().minor, minor::CC_FORMAT);
        // Header longer than the file; bad time-offset field length.
        assert!(Ccache::parse(&[5, 4, 0, 10, 0, 1], "h").is_err());
        assert!(Ccache::parse(&[5, 4, 0, 6, 0, 1, 0, 2, 0, 0], "h").is_err());
    }

    #[test]
    fn unknown_header_tags_are_skipped() {
        let mut cc = Ccache::new(princ("a@R"));
        cc.store(cred("s@R", 9));
        let plain = cc.to_bytes();
        let mut b = vec![5u8, 4, 0, 7, 0, 9, 0, 3, 1, 2, 3];
        b.extend_from_slice(&plain[4..]);
        let back = Ccache::parse(&b, "m").unwrap();
        assert_eq!(back.kdc_time_offset, None);
        assert_eq!(back.credentials, cc.credentials);
    }

    #[test]
    fn find_rules() {
        let mut cc = Ccache::new(princ("alice@R"));
        cc.store(config("pa_type", b"2"));
        cc.store(cred("s/h@R", 1000));
        let mut later = cred("s/h@R", 2000);
        later.client.name.name_type = 0;
        later.server.realm = b"OTHER".to_vec();
        cc.store(later);
        let s = princ("s/h@R");
        assert_eq!(cc.find(None, &s, 500).unwrap().endtime, 1000);
        assert!(cc.find(None, &s, 1001).is_none(), "expired");
        assert_eq!(cc.find(None, &s, 1000).unwrap().endtime, 1000);
        // Empty realm matches any realm: the latest endtime wins.
        let mut any = s.clone();
        any.realm.clear();
        assert_eq!(cc.find(None, &any, 0).unwrap().endtime, 2000);
        // Name type of the server does not matter; another client does.
        let mut typed = s.clone();
        typed.name.name_type = 3;
        assert!(cc.find(None, &typed, 0).is_some());
        assert!(cc.find(Some(&princ("bob@R")), &s, 0).is_none());
        // Config entries are never found.
        let conf = cc.config_entries().next().unwrap().server.clone();
        assert!(cc.find(None, &conf, 0).is_none());
        // store replaces the same client+server.
        cc.store(cred("s/h@R", 3000));
        assert_eq!(cc.credentials.len(), 3);
        assert_eq!(cc.find(None, &s, 0).unwrap().endtime, 3000);
    }

    #[test]
    fn resolve_names() {
        assert_eq!(
            resolve_ccache_name(Some("FILE:/tmp/x")).unwrap(),
            PathBuf::from("/tmp/x")
        );
        assert_eq!(
            resolve_ccache_name(Some("/tmp/a:b")).unwrap(),
            PathBuf::from("/tmp/a:b")
        );
        assert_eq!(
            resolve_ccache_name(Some("cc")).unwrap(),
            PathBuf::from("cc")
        );
        for bad in [
            "KEYRING:persistent:0",
            "KCM:",
            "DIR:/x",
            "MEMORY:m",
            "API:x",
            "XYZ:q",
        ] {
            let e = resolve_ccache_name(Some(bad)).unwrap_err();
            assert_eq!(e.minor, minor::CC_UNKNOWN_TYPE, "{bad}");
            assert!(e.detail.contains("unsupported credential cache type"));
        }
        assert_eq!(
            resolve_ccache_name(Some("FILE:")).unwrap_err().minor,
            minor::CC_BADNAME
        );
    }

    #[test]
    fn save_load_and_missing() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("krbap-cc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("cc");
        let mut cc = Ccache::new(princ("a@R"));
        cc.store(cred("s@R", 9));
        cc.save(&path).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(Ccache::load(&path).unwrap(), cc);
        assert_eq!(
            Ccache::load(&dir.join("none")).unwrap_err().minor,
            minor::FCC_NOFILE
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "krbap-cc-{name}-{}-{}",
            std::process::id(),
            crate::crypto::random_u32()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// MIT's reader: a file ending inside a credential ends the cache before it; a length
    /// larger than the whole file is a format error. The strict parser refuses both.
    #[test]
    fn torn_tail_is_the_end_of_the_cache() {
        let mut cc = Ccache::new(princ("alice@R"));
        cc.store(cred("krbtgt/R@R", 1000));
        cc.store(cred("s/h@R", 900));
        let bytes = cc.to_bytes();
        let first_end = bytes.len() - credential_len(&cc.credentials[1], 4);
        for cut in first_end + 1..bytes.len() {
            let got = Ccache::parse_file(&bytes[..cut], "t").unwrap();
            assert_eq!(got.credentials, cc.credentials[..1], "cut at {cut}");
            assert_eq!(got.torn_tail_at, Some(first_end));
            assert!(Ccache::parse(&bytes[..cut], "t").is_err());
        }
        assert_eq!(Ccache::parse_file(&bytes, "t").unwrap(), cc);
        let mut huge = bytes[..first_end].to_vec();
        huge.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 1, 0x7f, 0xff, 0xff, 0xff]);
        let e = Ccache::parse_file(&huge, "t").unwrap_err();
        assert_eq!(e.minor, minor::CC_FORMAT);
    }

    /// Entries marked as removed by MIT's krb5_cc_remove_cred (authtime -1, endtime 0,
    /// rewritten in place) are skipped; configuration entries (all times 0) are not.
    #[test]
    fn removed_entries_are_skipped() {
        let mut cc = Ccache::new(princ("alice@R"));
        cc.store(cred("krbtgt/R@R", 1000));
        cc.store(config("pa_type", b"2"));
        let mut removed = cred("s/h@R", 0);
        removed.authtime = u32::MAX;
        cc.store(removed);
        let back = Ccache::parse(&cc.to_bytes(), "r").unwrap();
        assert_eq!(back.credentials, cc.credentials[..2]);
        assert_eq!(back.config_entries().count(), 1);
    }

    /// Appending keeps what is there, writes the file's own version, refuses another
    /// principal's cache, cuts off a torn tail first, and needs an existing file.
    #[test]
    fn append_in_place() {
        let dir = temp_dir("append");
        let path = dir.join("cc");
        let mut cc = Ccache::new(princ("alice@R"));
        cc.store(cred("krbtgt/R@R", 1000));
        cc.save(&path).unwrap();
        let ino = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&path).unwrap());
        let a = cred("a/h@R", 800);
        let got = match append(&path, &princ("alice@R"), std::slice::from_ref(&a)).unwrap() {
            AppendOutcome::Stored(c) => c,
            other => panic!("{other:?}"),
        };
        let on_disk = Ccache::load(&path).unwrap();
        assert_eq!(got, on_disk);
        assert_eq!(
            on_disk.credentials,
            vec![cc.credentials[0].clone(), a.clone()]
        );
        assert_eq!(
            std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&path).unwrap()),
            ino,
            "appended in place, not replaced"
        );
        // Version 3: the enctype twice, as MIT writes it there.
        let mut v3 = cc.to_bytes().to_vec();
        v3[1] = 3;
        v3.drain(2..4); // no header in version 3
        let c0 = cc.credentials[0].clone();
        let mut body = Vec::new();
        put_credential(&mut body, &c0, 3);
        let plen = principal_len(&cc.default_principal);
        v3.truncate(2 + plen);
        v3.extend_from_slice(&body);
        std::fs::write(&path, &v3).unwrap();
        append(&path, &princ("alice@R"), std::slice::from_ref(&a)).unwrap();
        let back = Ccache::load(&path).unwrap();
        assert_eq!((back.version, back.credentials.len()), (3, 2));
        assert_eq!(back.credentials[1], a);
        // A torn credential at the end is cut off before the append.
        let whole = std::fs::read(&path).unwrap();
        std::fs::write(&path, &whole[..whole.len() - 7]).unwrap();
        assert_eq!(
            Ccache::load(&path).unwrap().torn_tail_at,
            Some(whole.len() - credential_len(&a, 3))
        );
        append(&path, &princ("alice@R"), std::slice::from_ref(&a)).unwrap();
        let back = Ccache::parse(&std::fs::read(&path).unwrap(), "p").unwrap();
        assert_eq!(back.credentials.len(), 2);
        // Another principal's cache is not written.
        let bob = Ccache::new(princ("bob@R"));
        bob.save(&path).unwrap();
        assert!(matches!(
            append(&path, &princ("alice@R"), std::slice::from_ref(&a)).unwrap(),
            AppendOutcome::OtherPrincipal(_)
        ));
        assert_eq!(Ccache::load(&path).unwrap(), bob);
        std::fs::remove_file(&path).unwrap();
        let e = append(&path, &princ("alice@R"), &[a]).unwrap_err();
        assert_eq!(e.minor, minor::FCC_NOFILE);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Threads of one process appending to one cache at once (OFD locks exclude each other
    /// within a process too): every credential is there, and the file parses strictly.
    #[test]
    fn concurrent_appends_lose_nothing() {
        let dir = temp_dir("threads");
        let path = dir.join("cc");
        let mut cc = Ccache::new(princ("alice@R"));
        cc.store(cred("krbtgt/R@R", 1000));
        cc.save(&path).unwrap();
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let path = path.clone();
                std::thread::spawn(move || {
                    for i in 0..25 {
                        let c = cred(&format!("s{t}/h{i}@R"), 900);
                        append(&path, &princ("alice@R"), &[c]).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let back = Ccache::parse(&std::fs::read(&path).unwrap(), "p").unwrap();
        assert_eq!(back.credentials.len(), 101);
        for t in 0..4 {
            for i in 0..25 {
                let s = princ(&format!("s{t}/h{i}@R"));
                assert!(back.find(None, &s, 0).is_some(), "{s} missing");
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
