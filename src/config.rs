//! krb5.conf in MIT's profile syntax: `[section]` headers, `name = value` relations,
//! `name = { ... }` subsections, `#`/`;` comments, `include FILE` and `includedir DIR`.
//! Files come from `KRB5_CONFIG` (a colon-separated list) or `/etc/krb5.conf`; like MIT,
//! the first file that defines a relation wins. Unknown sections and relations are kept
//! but unused. Syntax errors name the file and line.

use crate::crypto::Enctype;
use crate::error::{minor, Error, Result};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// One parsed relation: its path of names (section, subsection..., name) and value.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Relation {
    path: Vec<String>,
    value: String,
}

/// The merged relations of one or more krb5.conf files, in file order.
#[derive(Clone, Debug, Default)]
pub struct Profile {
    relations: Vec<Relation>,
}

/// Largest configuration file read (an `include` of /dev/zero must not exhaust memory).
const MAX_CONFIG_FILE: u64 = 1 << 20;

/// A configuration file's text, at most [`MAX_CONFIG_FILE`] bytes.
fn read_bounded(path: &Path) -> Result<String> {
    use std::io::Read;
    let io_err = |e: std::io::Error| {
        Error::minor(minor::CONFIG_BADFORMAT, format!("{}: {e}", path.display()))
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .map_err(io_err)?
        .take(MAX_CONFIG_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(io_err)?;
    if bytes.len() as u64 > MAX_CONFIG_FILE {
        return Err(Error::minor(
            minor::CONFIG_BADFORMAT,
            format!("{}: larger than {MAX_CONFIG_FILE} bytes", path.display()),
        ));
    }
    String::from_utf8(bytes).map_err(|_| {
        Error::minor(
            minor::CONFIG_BADFORMAT,
            format!("{}: not UTF-8 text", path.display()),
        )
    })
}

/// Bound on include nesting, against include loops.
const MAX_INCLUDE_DEPTH: usize = 8;

/// What the cached default profile was read from: `KRB5_CONFIG` and each listed file's
/// modification time (files pulled in by `include` are not watched).
type ProfileStamp = (Option<String>, Vec<Option<std::time::SystemTime>>);

/// The default profile, re-read when `KRB5_CONFIG` or a top-level file changes, so that a
/// long-running process sees an edited krb5.conf as MIT's (per-context) reading does.
static DEFAULT_PROFILE: Mutex<Option<(ProfileStamp, Arc<Profile>)>> = Mutex::new(None);

/// The default profile (`KRB5_CONFIG`, else /etc/krb5.conf), parsed once and shared until a
/// file changes.
pub fn default_profile() -> Result<Arc<Profile>> {
    let env = std::env::var("KRB5_CONFIG").ok();
    let files = env.as_deref().unwrap_or("/etc/krb5.conf");
    let mtimes = files
        .split(':')
        .filter(|f| !f.is_empty())
        .map(|f| std::fs::metadata(f).and_then(|m| m.modified()).ok())
        .collect();
    let stamp = (env, mtimes);
    let mut cached = DEFAULT_PROFILE.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((s, profile)) = cached.as_ref() {
        if *s == stamp {
            return Ok(profile.clone());
        }
    }
    let profile = Arc::new(Profile::load_default()?);
    *cached = Some((stamp, profile.clone()));
    Ok(profile)
}

/// Expands MIT's path tokens (krb5.conf(5) "PARAMETER EXPANSION") in a configured file
/// name: `%{uid}`, `%{euid}`, `%{USERID}`, `%{TEMP}`, `%{null}`. Unknown tokens are an
/// error, as in MIT.
pub fn expand_path_tokens(value: &str) -> Result<String> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(start) = rest.find("%{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err(Error::minor(
                minor::CONFIG_BADFORMAT,
                format!("unterminated %{{ in {value:?}"),
            ));
        };
        // SAFETY: getuid/geteuid have no preconditions and cannot fail.
        let (uid, euid) = unsafe { (libc::getuid(), libc::geteuid()) };
        match &after[..end] {
            "uid" => out.push_str(&uid.to_string()),
            "euid" | "USERID" => out.push_str(&euid.to_string()),
            "TEMP" => out.push_str(
                std::env::var("TMPDIR")
                    .ok()
                    .filter(|t| !t.is_empty())
                    .as_deref()
                    .unwrap_or("/tmp"),
            ),
            "null" => {}
            other => {
                return Err(Error::minor(
                    minor::CONFIG_BADFORMAT,
                    format!("unknown path token %{{{other}}} in {value:?}"),
                ))
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// A `[libdefaults]` file name (e.g. default_ccache_name) from the default profile, with
/// its path tokens expanded; `None` when unset or the profile cannot be read.
pub fn default_file_name(relation: &str) -> Option<String> {
    let profile = default_profile().ok()?;
    let value = profile.get(&["libdefaults", relation])?;
    expand_path_tokens(value).ok()
}

impl Profile {
    /// Files named by `KRB5_CONFIG`, else `/etc/krb5.conf`; missing files are skipped.
    pub fn load_default() -> Result<Profile> {
        let list = std::env::var("KRB5_CONFIG").unwrap_or_else(|_| "/etc/krb5.conf".into());
        let mut profile = Profile::default();
        for f in list.split(':').filter(|f| !f.is_empty()) {
            if Path::new(f).exists() {
                profile.load_file(Path::new(f), 0)?;
            }
        }
        Ok(profile)
    }

    /// Parses profile text (for tests and in-memory configuration).
    pub fn parse(text: &str, name: &str) -> Result<Profile> {
        let mut p = Profile::default();
        p.parse_into(text, name, Path::new("."), 0)?;
        Ok(p)
    }

    fn load_file(&mut self, path: &Path, depth: usize) -> Result<()> {
        if depth > MAX_INCLUDE_DEPTH {
            return Err(Error::minor(
                minor::CONFIG_BADFORMAT,
                format!("{}: includes nested too deeply", path.display()),
            ));
        }
        let text = read_bounded(path)?;
        let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        self.parse_into(&text, &path.display().to_string(), &dir, depth)
    }

    fn parse_into(&mut self, text: &str, name: &str, dir: &Path, depth: usize) -> Result<()> {
        let err = |line: usize, what: &str| {
            Error::minor(minor::CONFIG_BADFORMAT, format!("{name}:{line}: {what}"))
        };
        let mut stack: Vec<String> = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let lineno = i + 1;
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if let Some(rest) = line.strip_prefix("includedir ") {
                let d = resolve(dir, rest.trim());
                let mut files: Vec<PathBuf> = std::fs::read_dir(&d)
                    .map_err(|e| err(lineno, &format!("includedir {}: {e}", d.display())))?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| {
                        // MIT reads names made of alphanumerics, '-' and '_', or ending in .conf.
                        p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                            n.ends_with(".conf")
                                || n.chars()
                                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                        })
                    })
                    .collect();
                files.sort();
                for f in files {
                    self.load_file(&f, depth + 1)?;
                }
                continue;
            }
            if let Some(rest) = line.strip_prefix("include ") {
                self.load_file(&resolve(dir, rest.trim()), depth + 1)?;
                continue;
            }
            if line.starts_with('[') {
                let end = line
                    .find(']')
                    .ok_or_else(|| err(lineno, "missing ']' in section header"))?;
                let section = line[1..end].trim();
                if section.is_empty() {
                    return Err(err(lineno, "empty section name"));
                }
                stack = vec![section.to_string()];
                continue;
            }
            if line == "}" || line == "}*" {
                if stack.len() <= 1 {
                    return Err(err(lineno, "'}' without an open subsection"));
                }
                stack.pop();
                continue;
            }
            if stack.is_empty() {
                return Err(err(lineno, "relation outside of a section"));
            }
            let eq = line
                .find('=')
                .ok_or_else(|| err(lineno, "expected 'name = value'"))?;
            let key = line[..eq].trim().trim_end_matches('*').trim();
            if key.is_empty() {
                return Err(err(lineno, "empty relation name"));
            }
            let value = line[eq + 1..].trim();
            if value == "{" {
                stack.push(key.to_string());
                continue;
            }
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value);
            let mut path = stack.clone();
            path.push(key.to_string());
            self.relations.push(Relation {
                path,
                value: value.to_string(),
            });
        }
        if stack.len() > 1 {
            return Err(err(text.lines().count(), "unterminated subsection"));
        }
        Ok(())
    }

    /// The first value of the relation at `path` (e.g. `["libdefaults", "default_realm"]`).
    pub fn get(&self, path: &[&str]) -> Option<&str> {
        self.get_all(path).next()
    }

    /// Every value of the relation at `path`, in file order.
    pub fn get_all<'a, 'p>(&'a self, path: &'p [&'p str]) -> impl Iterator<Item = &'a str> + 'p
    where
        'a: 'p,
    {
        self.relations
            .iter()
            .filter(move |r| {
                r.path.len() == path.len() && r.path.iter().zip(path).all(|(a, b)| a == b)
            })
            .map(|r| r.value.as_str())
    }

    /// A boolean relation (MIT accepts y/yes/true/t/1/on and n/no/false/nil/0/off).
    pub fn get_bool(&self, path: &[&str]) -> Option<bool> {
        match self.get(path)?.to_ascii_lowercase().as_str() {
            "y" | "yes" | "true" | "t" | "1" | "on" => Some(true),
            "n" | "no" | "false" | "nil" | "0" | "off" => Some(false),
            _ => None,
        }
    }

    /// `[libdefaults] default_realm`.
    pub fn default_realm(&self) -> Option<&str> {
        self.get(&["libdefaults", "default_realm"])
    }

    /// `[libdefaults] clockskew` in seconds (MIT's default 300).
    pub fn clock_skew(&self) -> i64 {
        self.get(&["libdefaults", "clockskew"])
            .and_then(|v| v.parse().ok())
            .filter(|v: &i64| *v >= 0)
            .unwrap_or(300)
    }
}

/// One `kdc` entry of a realm: host (a name or an address, brackets removed from IPv6),
/// port (default 88), and the transport when the entry names one (`tcp/`, `udp/` prefix).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KdcAddress {
    pub host: String,
    pub port: u16,
    pub transport: Option<KdcTransport>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KdcTransport {
    Udp,
    Tcp,
}

/// The Kerberos port (RFC 4120 §7.2.3).
pub const KDC_PORT: u16 = 88;
/// MIT's default `udp_preference_limit` (RFC 4120 §7.2.1 leaves it to the implementation).
pub const DEFAULT_UDP_PREFERENCE_LIMIT: usize = 1465;

impl KdcAddress {
    /// Parses `host`, `host:port`, `[v6]`, `[v6]:port`, a bare IPv6 address, with an
    /// optional `tcp/` or `udp/` prefix (MIT 1.13+). None for an unusable entry.
    pub fn parse(entry: &str) -> Option<KdcAddress> {
        let mut s = entry.trim();
        let mut transport = None;
        if let Some(rest) = s.strip_prefix("tcp/") {
            transport = Some(KdcTransport::Tcp);
            s = rest;
        } else if let Some(rest) = s.strip_prefix("udp/") {
            transport = Some(KdcTransport::Udp);
            s = rest;
        }
        let (host, port) = if let Some(rest) = s.strip_prefix('[') {
            let close = rest.find(']')?;
            let host = &rest[..close];
            let after = &rest[close + 1..];
            let port = match after.strip_prefix(':') {
                Some(p) => p.parse().ok()?,
                None if after.is_empty() => KDC_PORT,
                None => return None,
            };
            (host, port)
        } else if s.matches(':').count() > 1 {
            (s, KDC_PORT) // a bare IPv6 address
        } else if let Some((h, p)) = s.split_once(':') {
            (h, p.parse().ok()?)
        } else {
            (s, KDC_PORT)
        };
        if host.is_empty() || port == 0 {
            return None;
        }
        Some(KdcAddress {
            host: host.to_string(),
            port,
            transport,
        })
    }
}

/// MIT's DEFAULT enctype list, restricted to what krbap implements (in MIT's order).
fn default_enctypes() -> Vec<Enctype> {
    Enctype::ALL.to_vec()
}

/// Parses an MIT enctype list (`permitted_enctypes` etc.): names and aliases separated by
/// spaces or commas, families (`aes`, `aes-sha1`, `aes-sha2`, `DEFAULT`), `-name` removes,
/// `+name` adds; unknown names (des3, rc4, camellia...) are ignored as krbap lacks them.
pub fn parse_enctype_list(value: &str) -> Vec<Enctype> {
    let mut out: Vec<Enctype> = Vec::new();
    for word in value
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|w| !w.is_empty())
    {
        let (remove, name) = match word.as_bytes()[0] {
            b'-' => (true, &word[1..]),
            b'+' => (false, &word[1..]),
            _ => (false, word),
        };
        let family: Vec<Enctype> = match name.to_ascii_lowercase().as_str() {
            "default" => default_enctypes(),
            "aes" => Enctype::ALL.to_vec(),
            "aes-sha1" => vec![Enctype::Aes256CtsHmacSha196, Enctype::Aes128CtsHmacSha196],
            "aes-sha2" => vec![
                Enctype::Aes256CtsHmacSha384192,
                Enctype::Aes128CtsHmacSha256128,
            ],
            _ => Enctype::from_name(name).into_iter().collect(),
        };
        for e in family {
            if remove {
                out.retain(|&x| x != e);
            } else if !out.contains(&e) {
                out.push(e);
            }
        }
    }
    out
}

/// Parses an MIT duration (`86400`, `24h`, `10h 30m`, `1d 2h 3m 4s`, `12:00:00`, `30:00`).
pub fn parse_duration(value: &str) -> Option<u32> {
    let v = value.trim();
    if let Ok(n) = v.parse::<u32>() {
        return Some(n);
    }
    if v.contains(':') {
        let parts: Vec<u64> = v
            .split(':')
            .map(|p| p.parse().ok())
            .collect::<Option<_>>()?;
        let secs = match parts[..] {
            [h, m] => h * 3600 + m * 60,
            [h, m, s] => h * 3600 + m * 60 + s,
            _ => return None,
        };
        return u32::try_from(secs).ok();
    }
    let mut total: u64 = 0;
    let mut num = String::new();
    for ch in v.chars().filter(|c| !c.is_whitespace()) {
        if ch.is_ascii_digit() {
            num.push(ch);
            continue;
        }
        let n: u64 = num.parse().ok()?;
        num.clear();
        total += n * match ch {
            'd' => 86_400,
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return None,
        };
    }
    if !num.is_empty() {
        total += num.parse::<u64>().ok()?;
    }
    u32::try_from(total).ok()
}

impl Profile {
    /// The `kdc` entries of `[realms] REALM`, in file order (unusable entries skipped).
    pub fn kdcs(&self, realm: &str) -> Vec<KdcAddress> {
        self.get_all(&["realms", realm, "kdc"])
            .filter_map(KdcAddress::parse)
            .collect()
    }

    /// `[libdefaults] udp_preference_limit` (default 1465): larger requests go over TCP.
    pub fn udp_preference_limit(&self) -> usize {
        self.get(&["libdefaults", "udp_preference_limit"])
            .and_then(|v| v.parse().ok())
            .unwrap_or(DEFAULT_UDP_PREFERENCE_LIMIT)
    }

    fn enctype_relation(&self, name: &str) -> Vec<Enctype> {
        self.get(&["libdefaults", name])
            .map(parse_enctype_list)
            .unwrap_or_else(default_enctypes)
    }

    /// `[libdefaults] permitted_enctypes` (default DEFAULT).
    pub fn permitted_enctypes(&self) -> Vec<Enctype> {
        self.enctype_relation("permitted_enctypes")
    }

    /// `[libdefaults] default_tgs_enctypes` filtered by `permitted_enctypes`.
    pub fn default_tgs_enctypes(&self) -> Vec<Enctype> {
        let permitted = self.permitted_enctypes();
        let mut v = self.enctype_relation("default_tgs_enctypes");
        v.retain(|e| permitted.contains(e));
        v
    }

    /// `[libdefaults] default_tkt_enctypes` filtered by `permitted_enctypes`.
    pub fn default_tkt_enctypes(&self) -> Vec<Enctype> {
        let permitted = self.permitted_enctypes();
        let mut v = self.enctype_relation("default_tkt_enctypes");
        v.retain(|e| permitted.contains(e));
        v
    }

    /// `[libdefaults] dns_canonicalize_hostname` (MIT 1.20's default: true; "fallback"
    /// counts as true here).
    pub fn dns_canonicalize_hostname(&self) -> bool {
        match self.get(&["libdefaults", "dns_canonicalize_hostname"]) {
            Some(v) if v.eq_ignore_ascii_case("fallback") => true,
            _ => self
                .get_bool(&["libdefaults", "dns_canonicalize_hostname"])
                .unwrap_or(true),
        }
    }

    /// `[libdefaults] rdns` (default true).
    pub fn rdns(&self) -> bool {
        self.get_bool(&["libdefaults", "rdns"]).unwrap_or(true)
    }

    /// `[libdefaults] forwardable` (default false).
    pub fn forwardable(&self) -> bool {
        self.get_bool(&["libdefaults", "forwardable"])
            .unwrap_or(false)
    }

    /// `[libdefaults] kdc_timesync` (default true): when false, an AS reply whose time is
    /// outside the clock skew is refused (KRB5_KDCREP_SKEW).
    pub fn kdc_timesync(&self) -> bool {
        self.get_bool(&["libdefaults", "kdc_timesync"])
            .unwrap_or(true)
    }

    /// `[libdefaults] ticket_lifetime` in seconds (default one day).
    pub fn ticket_lifetime(&self) -> u32 {
        self.get(&["libdefaults", "ticket_lifetime"])
            .and_then(parse_duration)
            .unwrap_or(86_400)
    }

    /// The realm of `host` from `[domain_realm]` as MIT looks it up: the whole host name
    /// first, then each parent domain with and without its leading dot, case-insensitive.
    pub fn realm_of_host(&self, host: &str) -> Option<String> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        // MIT's order (hostrealm_profile.c): "a.b.c", ".b.c", "b.c", ".c", "c".
        let mut candidates = vec![host.clone()];
        let mut rest = host.as_str();
        while let Some(i) = rest.find('.') {
            candidates.push(rest[i..].to_string());
            rest = &rest[i + 1..];
            if !rest.is_empty() {
                candidates.push(rest.to_string());
            }
        }
        candidates.iter().find_map(|c| {
            self.relations
                .iter()
                .find(|r| {
                    r.path.len() == 2
                        && r.path[0] == "domain_realm"
                        && r.path[1].eq_ignore_ascii_case(c)
                })
                .map(|r| r.value.clone())
        })
    }
}

fn resolve(dir: &Path, name: &str) -> PathBuf {
    let p = Path::new(name);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        dir.join(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversized_include_is_refused() {
        let p = Profile::parse("include /dev/zero\n", "z");
        let e = p.unwrap_err();
        assert_eq!(e.minor, minor::CONFIG_BADFORMAT);
        assert!(e.detail.contains("larger than"), "{}", e.detail);
    }

    #[test]
    fn parses_sections_subsections_and_first_wins() {
        let p = Profile::parse(
            "# comment\n[libdefaults]\n default_realm = TEST.LOCAL\n clockskew = 120\n\
             default_realm = OTHER\n[realms]\n TEST.LOCAL = {\n  kdc = 127.0.0.1:88\n  kdc = [::1]:750\n }\n",
            "t",
        )
        .unwrap();
        assert_eq!(p.default_realm(), Some("TEST.LOCAL"));
        assert_eq!(p.clock_skew(), 120);
        let kdcs: Vec<_> = p.get_all(&["realms", "TEST.LOCAL", "kdc"]).collect();
        assert_eq!(kdcs, vec!["127.0.0.1:88", "[::1]:750"]);
    }

    #[test]
    fn kdc_entries_enctypes_and_domain_realm() {
        let p = Profile::parse(
            "[libdefaults]\n udp_preference_limit = 1\n permitted_enctypes = aes256-cts aes128-sha2 des3-cbc-sha1\n\
             default_tgs_enctypes = DEFAULT -aes256-cts-hmac-sha1-96\n ticket_lifetime = 10h 30m\n\
             [realms]\n R = {\n kdc = 127.0.0.1\n kdc = kdc.example.com:750\n kdc = [::1]:89\n\
             kdc = tcp/[fe80::1]\n kdc = ::1\n kdc = bad:port\n }\n\
             [domain_realm]\n .example.com = EX\n host.example.com = HOST\n example.com = BARE\n",
            "t",
        )
        .unwrap();
        let k = p.kdcs("R");
        let hp: Vec<_> = k.iter().map(|a| (a.host.as_str(), a.port)).collect();
        assert_eq!(
            hp,
            vec![
                ("127.0.0.1", 88),
                ("kdc.example.com", 750),
                ("::1", 89),
                ("fe80::1", 88),
                ("::1", 88)
            ]
        );
        assert_eq!(k[3].transport, Some(KdcTransport::Tcp));
        assert!(p.kdcs("NOPE").is_empty());
        assert_eq!(p.udp_preference_limit(), 1);
        assert_eq!(
            p.permitted_enctypes(),
            vec![
                Enctype::Aes256CtsHmacSha196,
                Enctype::Aes128CtsHmacSha256128
            ]
        );
        assert_eq!(
            p.default_tgs_enctypes(),
            vec![Enctype::Aes128CtsHmacSha256128]
        );
        assert_eq!(p.default_tkt_enctypes(), p.permitted_enctypes());
        assert_eq!(p.ticket_lifetime(), 37_800);
        assert_eq!(p.realm_of_host("HOST.example.com").as_deref(), Some("HOST"));
        assert_eq!(p.realm_of_host("a.b.example.com").as_deref(), Some("EX"));
        assert_eq!(p.realm_of_host("example.com").as_deref(), Some("BARE"));
        assert_eq!(p.realm_of_host("example.org"), None);
        // A bare domain entry also covers its hosts when no dotted entry matches (MIT).
        let bare = Profile::parse("[domain_realm]\n example.net = NET\n", "b").unwrap();
        assert_eq!(
            bare.realm_of_host("www.example.net").as_deref(),
            Some("NET")
        );
        assert_eq!(bare.realm_of_host("example.net").as_deref(), Some("NET"));
        assert_eq!(bare.realm_of_host("wexample.net"), None);
        let d = Profile::parse("[libdefaults]\n x = 1\n", "d").unwrap();
        assert_eq!(d.udp_preference_limit(), 1465);
        assert_eq!(d.permitted_enctypes(), Enctype::ALL.to_vec());
        assert!(d.dns_canonicalize_hostname() && d.rdns() && !d.forwardable());
        assert_eq!(parse_duration("1d 2h 3m 4s"), Some(93_784));
        assert_eq!(parse_duration("12:00:00"), Some(43_200));
        assert_eq!(parse_duration("10x"), None);
        assert_eq!(
            parse_enctype_list("aes -aes-sha2 +aes256-sha2 rc4-hmac").len(),
            3
        );
    }

    #[test]
    fn syntax_errors_name_file_and_line() {
        let e = Profile::parse("[libdefaults]\n default_realm\n", "krb5.conf").unwrap_err();
        assert!(e.detail.contains("krb5.conf:2"), "{}", e.detail);
        let e = Profile::parse("x = 1\n", "f").unwrap_err();
        assert!(e.detail.contains("f:1"));
        let e = Profile::parse("[a]\n b = {\n c = 1\n", "g").unwrap_err();
        assert!(e.detail.contains("unterminated"));
    }
}
