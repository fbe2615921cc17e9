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

use crate::asn1::{AuthorizationDataEntry, EncryptionKey, HostAddress};
use crate::byte_reader::ByteReader;
use crate::error::{minor, Error, Result};
use crate::principal::{Principal, PrincipalName};
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
    /// Credentials and configuration entries, in file order.
    pub credentials: Vec<Credential>,
}

/// The ccache reader: the shared bounded cursor plus the ccache's own records.
struct Reader<'a>(ByteReader<'a>);

impl<'a> std::ops::Deref for Reader<'a> {
    type Target = ByteReader<'a>;
    fn deref(&self) -> &ByteReader<'a> {
        &self.0
    }
}

impl std::ops::DerefMut for Reader<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8], pos: usize, file: &'a str) -> Reader<'a> {
        Reader(ByteReader::new(bytes, pos, file, format_error))
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
        }
    }

    /// Parses a whole FILE ccache; `name` (usually the path) is used in error messages.
    pub fn parse(bytes: &[u8], name: &str) -> Result<Ccache> {
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
        while r.remaining() > 0 {
            credentials.push(r.credential(version)?);
        }
        Ok(Ccache {
            version,
            kdc_time_offset,
            default_principal,
            credentials,
        })
    }

    /// Reads and parses a ccache file. A missing file gives KRB5_FCC_NOFILE (as MIT),
    /// other I/O errors KRB5_CC_IO.
    pub fn load(path: &Path) -> Result<Ccache> {
        let io_err = |e: std::io::Error| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::minor(
                    minor::FCC_NOFILE,
                    format!("credential cache '{}' not found", path.display()),
                )
            } else {
                Error::minor(
                    minor::CC_IO,
                    format!("reading credential cache '{}': {e}", path.display()),
                )
            }
        };
        let file = std::fs::File::open(path).map_err(io_err)?;
        let bytes = crate::keytab::read_secret_file(file, MAX_CCACHE_FILE_SIZE).map_err(io_err)?;
        if bytes.len() as u64 > MAX_CCACHE_FILE_SIZE {
            return Err(Error::minor(
                minor::CC_FORMAT,
                format!(
                    "credential cache '{}' is larger than {MAX_CCACHE_FILE_SIZE} bytes",
                    path.display()
                ),
            ));
        }
        Ccache::parse(&bytes, &path.display().to_string())
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
            put_principal(&mut out, &c.client);
            put_principal(&mut out, &c.server);
            // 16-bit fields are written truncated, as MIT's put16 does.
            out.extend_from_slice(&(c.key.keytype as u16).to_be_bytes());
            put_data(&mut out, &c.key.keyvalue);
            for t in [c.authtime, c.starttime, c.endtime, c.renew_till] {
                out.extend_from_slice(&t.to_be_bytes());
            }
            out.push(c.is_skey as u8);
            out.extend_from_slice(&c.ticket_flags.to_be_bytes());
            put_u32(&mut out, c.addresses.len());
            for a in &c.addresses {
                out.extend_from_slice(&(a.addr_type as u16).to_be_bytes());
                put_data(&mut out, &a.address);
            }
            put_u32(&mut out, c.authdata.len());
            for ad in &c.authdata {
                out.extend_from_slice(&(ad.ad_type as u16).to_be_bytes());
                put_data(&mut out, &ad.ad_data);
            }
            put_data(&mut out, &c.ticket);
            put_data(&mut out, &c.second_ticket);
        }
        debug_assert_eq!(out.len(), self.encoded_len());
        out
    }

    /// The exact length of [`Ccache::to_bytes`].
    fn encoded_len(&self) -> usize {
        let principal = |p: &Principal| {
            8 + 4 + p.realm.len() + p.name.components.iter().map(|c| 4 + c.len()).sum::<usize>()
        };
        let header = 2
            + 2
            + if self.kdc_time_offset.is_some() {
                12
            } else {
                0
            };
        let creds: usize = self
            .credentials
            .iter()
            .map(|c| {
                principal(&c.client)
                    + principal(&c.server)
                    + 2
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
            })
            .sum();
        header + principal(&self.default_principal) + creds
    }

    /// Writes the cache atomically: temporary file (mode 0600) in the same directory,
    /// fsync, rename over `path`.
    pub fn save(&self, path: &Path) -> Result<()> {
        let bytes = self.to_bytes();
        crate::keytab::write_atomic(path, &bytes).map_err(|e| {
            Error::minor(
                minor::CC_IO,
                format!("writing credential cache '{}': {e}", path.display()),
            )
        })
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
    let from_env = std::env::var("KRB5CCNAME").ok().filter(|s| !s.is_empty());
    let name = match name {
        Some(n) => n.to_string(),
        None => from_env
            .or_else(|| crate::config::default_file_name("default_ccache_name"))
            .unwrap_or_else(|| {
                // SAFETY: geteuid has no preconditions and cannot fail.
                let euid = unsafe { libc::geteuid() };
                format!("FILE:/tmp/krb5cc_{euid}")
            }),
    };
    let path = match name.split_once(':') {
        None => name.as_str(),
        Some(_) if name.starts_with('/') => name.as_str(),
        Some(("FILE", rest)) => rest,
        Some((prefix, _)) => {
            return Err(Error::minor(
                minor::CC_UNKNOWN_TYPE,
                format!(
                "unsupported credential cache type {prefix:?} in {name:?} (only FILE is supported)"
            ),
            ))
        }
    };
    if path.is_empty() {
        return Err(Error::minor(
            minor::CC_BADNAME,
            format!("empty credential cache path in {name:?}"),
        ));
    }
    Ok(PathBuf::from(path))
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
        let mut c = cred("x@R", 0);
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
}
