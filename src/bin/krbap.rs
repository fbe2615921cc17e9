//! `krbap`: inspect keytabs and credential caches, derive keys from passwords.
//!
//! Built only on the library's public API. One function per subcommand: `parse_*` turns
//! the arguments into a request (unit-tested), `run_*` performs it. To add a subcommand,
//! add a row to [`SUBCOMMANDS`].
//!
//! Exit status: 0 success, 1 failure (one line on stderr), 2 bad arguments (usage on
//! stderr).

use krbap::ccache::{resolve_ccache_name, Ccache, Credential};
use krbap::crypto::{Enctype, Key};
use krbap::keytab::{resolve_keytab_name, Keytab};
use krbap::principal::Principal;
use std::io::{self, Read, Write};
use zeroize::Zeroizing;

const USAGE: &str = "usage:
  krbap string2key --enctype NAME (--salt SALT | --principal NAME) [--iterations N] [--password P]
        (without --password, the password is the first line of stdin)
  krbap keytab list [-K] [KEYTAB]      like klist -k -t -e [-K]
  krbap ccache list [CCACHE]           like klist -e -f, plus configuration entries
  krbap keytab add --principal NAME [--kvno N] [--enctype NAME]... [--password P] KEYTAB
        add string-to-key keys (default salt; password from stdin without --password), like ktutil addent -password
  krbap decode [--keytab KEYTAB] [--time UNIX] [--skew SECONDS] TOKEN_FILE
        explain a GSS token; with the keytab, decrypt it and say why an acceptor would reject it
  krbap mint-ticket --keytab KEYTAB --service PRINCIPAL --client PRINCIPAL --ccache FILE
        [--enctype NAME] [--lifetime SECONDS] [--time UNIX]
        TEST HELPER: makes a service ticket with the service's own key, as a KDC would,
        and writes it with its session key to a new FILE ccache (no KDC involved)
  krbap kinit [-k [-t KEYTAB]] [-c CCACHE] [-f | -F] [PRINCIPAL]
        initial credentials from the KDC (AS exchange), like MIT's kinit: with -k the keys
        of the keytab (-t, else the default keytab; PRINCIPAL defaults to its first
        principal), else the password on stdin; the TGT is written to CCACHE (default ccache)
  krbap kvno [-c CCACHE] SERVICE...
        service tickets from the KDC with the ccache's TGT (TGS exchange), stored in the
        ccache; prints `SERVICE: kvno = N` like MIT's kvno
  krbap help";

/// Why a subcommand stopped.
#[derive(Debug, PartialEq)]
enum CliError {
    /// Bad arguments: usage message, exit 2.
    Usage(String),
    /// The operation failed: one line, exit 1.
    Failed(String),
}

impl From<krbap::Error> for CliError {
    fn from(e: krbap::Error) -> Self {
        // The detail names the file and offset; the minor text alone is less useful.
        if e.detail.is_empty() {
            CliError::Failed(e.minor_message().to_string())
        } else if e.minor_message() == "Unknown code" {
            // errno minors (a missing keytab file) have no krb5 text; the detail says it.
            CliError::Failed(e.detail)
        } else {
            CliError::Failed(format!("{}: {}", e.minor_message(), e.detail))
        }
    }
}

impl From<io::Error> for CliError {
    fn from(e: io::Error) -> Self {
        CliError::Failed(e.to_string())
    }
}

type Subcommand = fn(&[String], &mut dyn Write) -> Result<(), CliError>;

/// (name, second word if the command has one, handler).
const SUBCOMMANDS: &[(&str, Option<&str>, Subcommand)] = &[
    ("string2key", None, cmd_string2key),
    ("keytab", Some("list"), cmd_keytab_list),
    ("keytab", Some("add"), cmd_keytab_add),
    ("ccache", Some("list"), cmd_ccache_list),
    ("decode", None, cmd_decode),
    ("mint-ticket", None, cmd_mint_ticket),
    ("kinit", None, cmd_kinit),
    ("kvno", None, cmd_kvno),
    ("help", None, cmd_help),
];

fn dispatch(args: &[String], out: &mut dyn Write) -> Result<(), CliError> {
    let first = args
        .first()
        .ok_or_else(|| CliError::Usage("no subcommand".into()))?;
    for (name, second, handler) in SUBCOMMANDS {
        if first != name {
            continue;
        }
        return match second {
            None => handler(&args[1..], out),
            Some(word) if args.get(1).map(String::as_str) == Some(*word) => {
                handler(&args[2..], out)
            }
            Some(_) => continue,
        };
    }
    Err(CliError::Usage(format!(
        "unknown subcommand {:?}",
        args.join(" ")
    )))
}

fn main() {
    let mut args = Vec::new();
    for a in std::env::args_os().skip(1) {
        match a.into_string() {
            Ok(s) => args.push(s),
            Err(_) => {
                eprintln!("krbap: arguments must be UTF-8\n{USAGE}");
                std::process::exit(2);
            }
        }
    }
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let code = match dispatch(&args, &mut out) {
        Ok(()) => match out.flush() {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("krbap: {e}");
                1
            }
        },
        Err(CliError::Usage(msg)) => {
            eprintln!("krbap: {msg}\n{USAGE}");
            2
        }
        Err(CliError::Failed(msg)) => {
            eprintln!("krbap: {}", msg.replace('\n', " "));
            1
        }
    };
    std::process::exit(code);
}

fn cmd_help(args: &[String], out: &mut dyn Write) -> Result<(), CliError> {
    if !args.is_empty() {
        return Err(CliError::Usage("help takes no arguments".into()));
    }
    writeln!(out, "{USAGE}")?;
    Ok(())
}

// ---------------------------------------------------------------- string2key

#[derive(Debug, PartialEq)]
enum SaltSource {
    Salt(String),
    /// The default salt of a principal: realm followed by the name components.
    Principal(String),
}

#[derive(Debug, PartialEq)]
struct String2KeyArgs {
    enctype: Enctype,
    salt: SaltSource,
    iterations: Option<u32>,
    password: Option<Zeroizing<String>>,
}

/// Takes the value of option `opt` (`--opt VALUE` or `--opt=VALUE`).
fn option_value(
    args: &[String],
    i: &mut usize,
    opt: &str,
    inline: Option<&str>,
) -> Result<String, CliError> {
    if let Some(v) = inline {
        return Ok(v.to_string());
    }
    *i += 1;
    args.get(*i)
        .cloned()
        .ok_or_else(|| CliError::Usage(format!("{opt} needs a value")))
}

fn parse_string2key(args: &[String]) -> Result<String2KeyArgs, CliError> {
    let (mut enctype, mut salt, mut iterations, mut password) = (None, None, None, None);
    let mut i = 0;
    while i < args.len() {
        let (opt, inline) = match args[i].split_once('=') {
            Some((o, v)) if o.starts_with("--") => (o, Some(v)),
            _ => (args[i].as_str(), None),
        };
        match opt {
            "--enctype" | "-e" => {
                let v = option_value(args, &mut i, opt, inline)?;
                enctype = Some(
                    Enctype::from_name(&v)
                        .ok_or_else(|| CliError::Usage(format!("unknown enctype {v:?}")))?,
                );
            }
            "--salt" | "-s" => {
                salt = Some(SaltSource::Salt(option_value(args, &mut i, opt, inline)?))
            }
            "--principal" | "-p" => {
                salt = Some(SaltSource::Principal(option_value(
                    args, &mut i, opt, inline,
                )?))
            }
            "--iterations" | "-i" => {
                let v = option_value(args, &mut i, opt, inline)?;
                let n: u32 = v
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or_else(|| CliError::Usage(format!("bad iteration count {v:?}")))?;
                iterations = Some(n);
            }
            "--password" | "-w" => {
                password = Some(Zeroizing::new(option_value(args, &mut i, opt, inline)?))
            }
            other => return Err(CliError::Usage(format!("unexpected argument {other:?}"))),
        }
        i += 1;
    }
    Ok(String2KeyArgs {
        enctype: enctype.ok_or_else(|| CliError::Usage("--enctype is required".into()))?,
        salt: salt.ok_or_else(|| CliError::Usage("--salt or --principal is required".into()))?,
        iterations,
        password,
    })
}

/// The RFC 4120 §4 default salt: the realm followed by each name component.
fn default_salt(p: &Principal) -> Vec<u8> {
    let mut salt = p.realm.clone();
    for c in &p.name.components {
        salt.extend_from_slice(c);
    }
    salt
}

/// The first line of stdin (at most 64 KiB), without its line ending.
fn read_password_line() -> Result<Zeroizing<String>, CliError> {
    let mut buf = Zeroizing::new(Vec::new());
    io::stdin().lock().take(64 * 1024).read_to_end(&mut buf)?;
    let line = buf.split(|&b| b == b'\n').next().unwrap_or(&[]);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let s = std::str::from_utf8(line)
        .map_err(|_| CliError::Failed("password on stdin is not UTF-8".into()))?;
    Ok(Zeroizing::new(s.to_string()))
}

fn cmd_string2key(args: &[String], out: &mut dyn Write) -> Result<(), CliError> {
    let req = parse_string2key(args)?;
    let salt = match &req.salt {
        SaltSource::Salt(s) => s.as_bytes().to_vec(),
        SaltSource::Principal(name) => default_salt(&Principal::parse(name, None)?),
    };
    let password = match req.password {
        Some(p) => p,
        None => read_password_line()?,
    };
    let key = Key::from_password(req.enctype, password.as_bytes(), &salt, req.iterations)
        .map_err(krbap::Error::from)?;
    let hex = Zeroizing::new(to_hex(key.bytes()));
    writeln!(out, "{}", hex.as_str())?;
    Ok(())
}

fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

// ---------------------------------------------------------------- keytab list

#[derive(Debug, PartialEq)]
struct KeytabListArgs {
    show_keys: bool,
    name: Option<String>,
}

fn parse_keytab_list(args: &[String]) -> Result<KeytabListArgs, CliError> {
    let mut req = KeytabListArgs {
        show_keys: false,
        name: None,
    };
    for a in args {
        match a.as_str() {
            "-K" | "--keys" => req.show_keys = true,
            s if s.starts_with('-') && s.len() > 1 => {
                return Err(CliError::Usage(format!("unknown option {s:?}")))
            }
            s if req.name.is_none() => req.name = Some(s.to_string()),
            s => return Err(CliError::Usage(format!("unexpected argument {s:?}"))),
        }
    }
    Ok(req)
}

fn cmd_keytab_list(args: &[String], out: &mut dyn Write) -> Result<(), CliError> {
    let req = parse_keytab_list(args)?;
    let path = resolve_keytab_name(req.name.as_deref())?;
    let kt = Keytab::load(&path)?;
    write_keytab_list(&kt, &path, req.show_keys, out)
}

/// The output of MIT's `klist -k -t -e [-K]` for this keytab.
fn write_keytab_list(
    kt: &Keytab,
    path: &std::path::Path,
    show_keys: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    writeln!(out, "Keytab name: FILE:{}", path.display())?;
    writeln!(out, "KVNO Timestamp         Principal")?;
    writeln!(out, "---- ----------------- {}", "-".repeat(56))?;
    for e in &kt.entries {
        write!(
            out,
            "{:>4} {} {} ({}) ",
            e.kvno,
            format_time(e.timestamp),
            e.principal,
            enctype_name(e.enctype)
        )?;
        if show_keys {
            let hex = Zeroizing::new(to_hex(&e.key));
            write!(out, " (0x{})", hex.as_str())?;
        }
        writeln!(out)?;
    }
    Ok(())
}

// ---------------------------------------------------------------- ccache list

#[derive(Debug, PartialEq)]
struct CcacheListArgs {
    name: Option<String>,
}

fn parse_ccache_list(args: &[String]) -> Result<CcacheListArgs, CliError> {
    match args {
        [] => Ok(CcacheListArgs { name: None }),
        [s] if !(s.starts_with('-') && s.len() > 1) => Ok(CcacheListArgs {
            name: Some(s.clone()),
        }),
        [s] => Err(CliError::Usage(format!("unknown option {s:?}"))),
        _ => Err(CliError::Usage("ccache list takes one cache name".into())),
    }
}

fn cmd_ccache_list(args: &[String], out: &mut dyn Write) -> Result<(), CliError> {
    let req = parse_ccache_list(args)?;
    let path = resolve_ccache_name(req.name.as_deref())?;
    let cc = Ccache::load(&path)?;
    write_ccache_list(&cc, &path, out)
}

/// MIT klist's ticket flag letters, in its order (RFC 4120 bit numbers).
const FLAG_LETTERS: &[(u32, char)] = &[
    (1, 'F'),
    (2, 'f'),
    (3, 'P'),
    (4, 'p'),
    (5, 'D'),
    (6, 'd'),
    (7, 'i'),
    (8, 'R'),
    (9, 'I'),
    (11, 'H'),
    (10, 'A'),
    (12, 'T'),
    (13, 'O'),
    (16, 'a'),
];

fn flags_string(flags: u32) -> String {
    FLAG_LETTERS
        .iter()
        .filter(|(bit, _)| flags & (0x8000_0000 >> bit) != 0)
        .map(|&(_, c)| c)
        .collect()
}

/// The output of MIT's `klist -e -f` for this cache, then its configuration entries.
fn write_ccache_list(
    cc: &Ccache,
    path: &std::path::Path,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let default = cc.default_principal.to_string();
    writeln!(out, "Ticket cache: FILE:{}", path.display())?;
    writeln!(out, "Default principal: {default}")?;
    writeln!(out)?;
    writeln!(
        out,
        "Valid starting     Expires            Service principal"
    )?;
    for c in cc.credentials.iter().filter(|c| !c.is_config_entry()) {
        write_credential(c, &default, out)?;
    }
    let config: Vec<&Credential> = cc.config_entries().collect();
    if !config.is_empty() {
        writeln!(out)?;
        writeln!(out, "Configuration entries:")?;
        for c in config {
            // krb5_ccache_conf_data/KEY[/PRINCIPAL]@X-CACHECONF:
            let comps = &c.server.name.components;
            let key = comps
                .get(1)
                .map(|k| String::from_utf8_lossy(k))
                .unwrap_or_default();
            let target = comps
                .get(2)
                .map(|p| format!("({})", String::from_utf8_lossy(p)));
            writeln!(
                out,
                "\tconfig: {key}{} = {}",
                target.unwrap_or_default(),
                printable(&c.ticket)
            )?;
        }
    }
    Ok(())
}

fn write_credential(c: &Credential, default: &str, out: &mut dyn Write) -> io::Result<()> {
    // Layout of MIT klist's show_credential: extra fields share a tab-indented line,
    // separated by ", ", with a line break after "renew until" + flags.
    let start = if c.starttime != 0 {
        c.starttime
    } else {
        c.authtime
    };
    writeln!(
        out,
        "{}  {}  {}",
        format_time(start),
        format_time(c.endtime),
        c.server
    )?;
    let mut extra = 0;
    let field = |out: &mut dyn Write, extra: &mut i32, text: &str, weight: i32| {
        let sep = if *extra == 0 { "\t" } else { ", " };
        *extra += weight;
        write!(out, "{sep}{text}")
    };
    let client = c.client.to_string();
    if client != default {
        write!(out, "\tfor client {client}")?;
        extra += 1;
    }
    if c.renew_till != 0 {
        field(
            out,
            &mut extra,
            &format!("renew until {}", format_time(c.renew_till)),
            2,
        )?;
    }
    if extra > 3 {
        writeln!(out)?;
        extra = 0;
    }
    let flags = flags_string(c.ticket_flags);
    if !flags.is_empty() {
        field(out, &mut extra, &format!("Flags: {flags}"), 1)?;
    }
    if extra > 2 {
        writeln!(out)?;
        extra = 0;
    }
    // klist leaves the etypes out when the ticket does not decode.
    if let Some(tkt_etype) = ticket_enc_part_etype(&c.ticket) {
        let text = format!(
            "Etype (skey, tkt): {}, {} ",
            enctype_name(c.key.keytype),
            enctype_name(tkt_etype)
        );
        field(out, &mut extra, &text, 1)?;
    }
    if extra != 0 {
        writeln!(out)?;
    }
    Ok(())
}

/// Configuration values are usually text; escape anything else.
fn printable(bytes: &[u8]) -> String {
    bytes
        .iter()
        .flat_map(|&b| std::ascii::escape_default(b))
        .map(char::from)
        .collect()
}

/// One DER TLV: (tag byte, contents, rest). Definite lengths of at most 4 length bytes,
/// all checked against the input.
fn der_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | b as usize);
        (len, &rest[n..])
    };
    if len > rest.len() {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// Within a SEQUENCE's contents, the contents of context tag [n] (constructed).
fn der_field(mut seq: &[u8], n: u8) -> Option<&[u8]> {
    while !seq.is_empty() {
        let (tag, contents, rest) = der_tlv(seq)?;
        if tag == 0xa0 + n {
            return Some(contents);
        }
        seq = rest;
    }
    None
}

/// The etype of a DER Ticket's enc-part (RFC 4120 §5.3: Ticket ::= [APPLICATION 1]
/// SEQUENCE { ..., enc-part [3] EncryptedData }, EncryptedData ::= SEQUENCE { etype [0]
/// Int32, ... }). A tiny reader so that listing does not depend on the full decoder.
fn ticket_enc_part_etype(ticket: &[u8]) -> Option<i32> {
    let (tag, app, _) = der_tlv(ticket)?;
    if tag != 0x61 {
        return None;
    }
    let (tag, seq, _) = der_tlv(app)?;
    if tag != 0x30 {
        return None;
    }
    let (tag, enc, _) = der_tlv(der_field(seq, 3)?)?;
    if tag != 0x30 {
        return None;
    }
    let (tag, int, _) = der_tlv(der_field(enc, 0)?)?;
    if tag != 0x02 || int.is_empty() || int.len() > 4 {
        return None;
    }
    let init: i32 = if int[0] & 0x80 != 0 { -1 } else { 0 };
    Some(int.iter().fold(init, |acc, &b| (acc << 8) | b as i32))
}

/// MIT's enctype name (krb5_enctype_to_name), or "etype N" as klist prints unknown ones.
fn enctype_name(n: i32) -> String {
    if let Some(e) = Enctype::from_number(n) {
        return e.name().to_string();
    }
    match n {
        16 => "des3-cbc-sha1".into(),
        23 => "arcfour-hmac".into(),
        24 => "arcfour-hmac-exp".into(),
        25 => "camellia128-cts-cmac".into(),
        26 => "camellia256-cts-cmac".into(),
        _ => format!("etype {n}"),
    }
}

/// Local time as klist prints it in the C locale (`%x %X`: 11/26/26 12:45:46).
fn format_time(t: u32) -> String {
    let secs = t as libc::time_t;
    // SAFETY: localtime_r writes only into the tm we pass; a zeroed tm is a valid value.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let ok = unsafe { !libc::localtime_r(&secs, &mut tm).is_null() };
    if !ok {
        return format!("{t:>17}");
    }
    format!(
        "{:02}/{:02}/{:02} {:02}:{:02}:{:02}",
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_year.rem_euclid(100),
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec
    )
}

/// Parses `--name value` / `--name=value` options into (name, value) pairs plus
/// positional arguments, rejecting names not in `known`.
/// (`--name`, value) pairs and the positional arguments.
type ParsedOptions = (Vec<(String, String)>, Vec<String>);

fn parse_options(args: &[String], known: &[&str]) -> Result<ParsedOptions, CliError> {
    let mut opts = Vec::new();
    let mut positional = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if let Some(body) = a.strip_prefix("--") {
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (body, None),
            };
            if !known.contains(&name) {
                return Err(CliError::Usage(format!("unknown option --{name}")));
            }
            let v = option_value(args, &mut i, a, inline)?;
            opts.push((name.to_string(), v));
        } else {
            positional.push(a.clone());
        }
        i += 1;
    }
    Ok((opts, positional))
}

fn opt<'a>(opts: &'a [(String, String)], name: &str) -> Option<&'a str> {
    opts.iter()
        .rev()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

fn parse_num<T: std::str::FromStr>(v: Option<&str>, name: &str) -> Result<Option<T>, CliError> {
    v.map(|v| {
        v.parse()
            .map_err(|_| CliError::Usage(format!("--{name} needs a number")))
    })
    .transpose()
}

fn now_secs() -> i64 {
    krbap::cred::Clock::default().now().0
}

fn service_keys(keytab: &str) -> Result<Vec<krbap::ap::ServiceKey>, CliError> {
    let kt = Keytab::load(&resolve_keytab_name(Some(keytab))?)?;
    Ok(kt
        .entries
        .iter()
        .filter_map(|e| {
            let enctype = Enctype::from_number(e.enctype)?;
            Some(krbap::ap::ServiceKey {
                principal: e.principal.clone(),
                kvno: e.kvno,
                key: Key::new(enctype, &e.key).ok()?,
            })
        })
        .collect())
}

fn cmd_decode(args: &[String], out: &mut dyn Write) -> Result<(), CliError> {
    let (opts, pos) = parse_options(args, &["keytab", "time", "skew"])?;
    let [file] = pos.as_slice() else {
        return Err(CliError::Usage("decode takes one TOKEN_FILE".into()));
    };
    let token = std::fs::read(file).map_err(|e| CliError::Failed(format!("{file}: {e}")))?;
    let keys = opt(&opts, "keytab").map(service_keys).transpose()?;
    let cx = krbap::diagnose::DecodeContext {
        keys: keys.as_deref(),
        now: parse_num(opt(&opts, "time"), "time")?.unwrap_or_else(now_secs),
        skew: parse_num(opt(&opts, "skew"), "skew")?.unwrap_or(krbap::ap::DEFAULT_CLOCK_SKEW),
    };
    out.write_all(krbap::diagnose::describe(&token, &cx).as_bytes())?;
    Ok(())
}

fn cmd_mint_ticket(args: &[String], out: &mut dyn Write) -> Result<(), CliError> {
    let known = [
        "keytab", "service", "client", "ccache", "enctype", "lifetime", "time",
    ];
    let (opts, pos) = parse_options(args, &known)?;
    if !pos.is_empty() {
        return Err(CliError::Usage("mint-ticket takes only options".into()));
    }
    let need =
        |n: &str| opt(&opts, n).ok_or_else(|| CliError::Usage(format!("mint-ticket needs --{n}")));
    let keys = service_keys(need("keytab")?)?;
    let service = Principal::parse(need("service")?, None)?;
    let client = Principal::parse(need("client")?, Some(&service.realm))?;
    let ccache = resolve_ccache_name(Some(need("ccache")?))?;
    let enctype = match opt(&opts, "enctype") {
        Some(n) => Some(
            Enctype::from_name(n).ok_or_else(|| CliError::Usage(format!("unknown enctype {n}")))?,
        ),
        None => None,
    };
    let now = parse_num(opt(&opts, "time"), "time")?.unwrap_or_else(now_secs);
    let lifetime: i64 = parse_num(opt(&opts, "lifetime"), "lifetime")?.unwrap_or(36000);
    // The newest kvno of the service, in the requested enctype (else its first key).
    let sk = keys
        .iter()
        .filter(|k| k.principal.matches(&service))
        .filter(|k| enctype.is_none_or(|e| k.key.enctype() == e))
        .min_by_key(|k| std::cmp::Reverse(k.kvno)) // the first of the newest kvno
        .ok_or_else(|| CliError::Failed(format!("no key for {service} in the keytab")))?;
    let tflags = krbap::asn1::flags::TKT_FORWARDABLE
        | krbap::asn1::flags::TKT_INITIAL
        | krbap::asn1::flags::TKT_PRE_AUTHENT;
    let (ticket, session_key) = krbap::ap::mint_ticket(&krbap::ap::MintRequest {
        service_key: sk,
        client: &client,
        session_enctype: sk.key.enctype(),
        authtime: now,
        endtime: now + lifetime,
        flags: tflags,
        authorization_data: None,
    });
    let t32 = |t: i64| t.clamp(0, u32::MAX as i64) as u32;
    let mut cc = Ccache::new(client.clone());
    cc.store(Credential {
        client: client.clone(),
        server: service.clone(),
        key: krbap::ap::key_to_asn1(&session_key),
        authtime: t32(now),
        starttime: t32(now),
        endtime: t32(now + lifetime),
        renew_till: 0,
        is_skey: false,
        ticket_flags: tflags,
        addresses: Vec::new(),
        authdata: Vec::new(),
        ticket: krbap::asn1::Der::to_der(&ticket),
        second_ticket: Vec::new(),
    });
    cc.save(&ccache)?;
    writeln!(
        out,
        "minted a {} ticket for {client} to {service} (kvno {}), valid {lifetime} s, in {} (TEST HELPER: no KDC was involved)",
        sk.key.enctype().name(),
        sk.kvno,
        ccache.display()
    )?;
    Ok(())
}

fn cmd_keytab_add(args: &[String], out: &mut dyn Write) -> Result<(), CliError> {
    let (opts, pos) = parse_options(args, &["principal", "kvno", "enctype", "password"])?;
    let [file] = pos.as_slice() else {
        return Err(CliError::Usage("keytab add takes one KEYTAB".into()));
    };
    let principal = opt(&opts, "principal")
        .ok_or_else(|| CliError::Usage("keytab add needs --principal".into()))?;
    let principal = Principal::parse(principal, None)?;
    let kvno: u32 = parse_num(opt(&opts, "kvno"), "kvno")?.unwrap_or(1);
    let mut enctypes = Vec::new();
    for (n, v) in &opts {
        if n == "enctype" {
            enctypes.push(
                Enctype::from_name(v)
                    .ok_or_else(|| CliError::Usage(format!("unknown enctype {v}")))?,
            );
        }
    }
    if enctypes.is_empty() {
        enctypes = Enctype::ALL.to_vec();
    }
    let password = match opt(&opts, "password") {
        Some(p) => Zeroizing::new(p.to_string()),
        None => read_password_line()?,
    };
    let path = resolve_keytab_name(Some(file))?;
    let salt = default_salt(&principal);
    let timestamp = now_secs().clamp(0, u32::MAX as i64) as u32;
    let mut entries = Vec::with_capacity(enctypes.len());
    for e in &enctypes {
        let key =
            Key::from_password(*e, password.as_bytes(), &salt, None).map_err(krbap::Error::from)?;
        entries.push(krbap::keytab::KeytabEntry {
            principal: principal.clone(),
            timestamp,
            kvno,
            enctype: e.number(),
            key: Zeroizing::new(key.bytes().to_vec()),
        });
    }
    // In place, under the keytab's lock, as MIT's ktutil and kadmin ktadd write.
    Keytab::add_to_file(&path, &entries)?;
    writeln!(
        out,
        "added {} key(s) for {principal} kvno {kvno} to {}",
        enctypes.len(),
        path.display()
    )?;
    Ok(())
}

// ---------------------------------------------------------------- kinit, kvno

#[derive(Debug, PartialEq)]
struct KinitArgs {
    /// -k: use keys from a keytab instead of a password.
    use_keytab: bool,
    keytab: Option<String>,
    ccache: Option<String>,
    /// -f / -F; `None`: `[libdefaults] forwardable`.
    forwardable: Option<bool>,
    principal: Option<String>,
}

/// MIT kinit's short options: `-k`, `-t KEYTAB`, `-c CCACHE`, `-f`, `-F` (separate words).
fn parse_kinit(args: &[String]) -> Result<KinitArgs, CliError> {
    let mut req = KinitArgs {
        use_keytab: false,
        keytab: None,
        ccache: None,
        forwardable: None,
        principal: None,
    };
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "-k" => req.use_keytab = true,
            "-f" => req.forwardable = Some(true),
            "-F" => req.forwardable = Some(false),
            o @ ("-t" | "-c") => {
                let v = option_value(args, &mut i, o, None)?;
                if o == "-t" {
                    req.keytab = Some(v);
                } else {
                    req.ccache = Some(v);
                }
            }
            s if s.starts_with('-') && s.len() > 1 => {
                return Err(CliError::Usage(format!("kinit: unknown option {s:?}")))
            }
            s if req.principal.is_none() => req.principal = Some(s.to_string()),
            s => return Err(CliError::Usage(format!("kinit: unexpected argument {s:?}"))),
        }
        i += 1;
    }
    if req.keytab.is_some() && !req.use_keytab {
        return Err(CliError::Usage("kinit: -t needs -k".into()));
    }
    if !req.use_keytab && req.principal.is_none() {
        return Err(CliError::Usage(
            "kinit: name the principal (or use -k with a keytab)".into(),
        ));
    }
    Ok(req)
}

fn cmd_kinit(args: &[String], out: &mut dyn Write) -> Result<(), CliError> {
    let req = parse_kinit(args)?;
    let kdc = krbap::kdc::KdcClient::from_default_config()?;
    let default_realm = kdc.profile().default_realm().map(|r| r.as_bytes().to_vec());
    let ccache = resolve_ccache_name(req.ccache.as_deref())?;
    let parse = |p: &str| Principal::parse(p, default_realm.as_deref());
    let password;
    let keytab;
    let (client, keys) = if req.use_keytab {
        let path = resolve_keytab_name(req.keytab.as_deref())?;
        keytab = Keytab::load(&path)?;
        let client = match &req.principal {
            Some(p) => parse(p)?,
            None => keytab
                .entries
                .first()
                .map(|e| e.principal.clone())
                .ok_or_else(|| CliError::Failed(format!("keytab {} is empty", path.display())))?,
        };
        (client, krbap::kdc::InitialKeys::Keytab(&keytab))
    } else {
        let client = parse(req.principal.as_deref().unwrap_or_default())?;
        password = read_password_line()?;
        (client, krbap::kdc::InitialKeys::Password(&password))
    };
    let options = krbap::kdc::AsOptions {
        forwardable: req
            .forwardable
            .unwrap_or_else(|| kdc.profile().forwardable()),
        ..Default::default()
    };
    let tgt = kdc.get_initial_credentials(&client, &keys, &options, now_secs())?;
    // Like kinit: the ccache is re-initialized with the new TGT only.
    let mut cc = Ccache::new(client.clone());
    cc.store(tgt.clone());
    cc.save(&ccache)?;
    writeln!(
        out,
        "{client}: {} valid until {} ({}), stored in {}",
        tgt.server,
        format_time(tgt.endtime),
        flags_string(tgt.ticket_flags),
        ccache.display()
    )?;
    Ok(())
}

#[derive(Debug, PartialEq)]
struct KvnoArgs {
    ccache: Option<String>,
    services: Vec<String>,
}

fn parse_kvno(args: &[String]) -> Result<KvnoArgs, CliError> {
    let mut req = KvnoArgs {
        ccache: None,
        services: Vec::new(),
    };
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "-c" => req.ccache = Some(option_value(args, &mut i, "-c", None)?),
            s if s.starts_with('-') && s.len() > 1 => {
                return Err(CliError::Usage(format!("kvno: unknown option {s:?}")))
            }
            s => req.services.push(s.to_string()),
        }
        i += 1;
    }
    if req.services.is_empty() {
        return Err(CliError::Usage("kvno: name at least one service".into()));
    }
    Ok(req)
}

fn cmd_kvno(args: &[String], out: &mut dyn Write) -> Result<(), CliError> {
    let req = parse_kvno(args)?;
    let profile = krbap::config::Profile::load_default()?;
    let default_realm = profile.default_realm().map(|r| r.as_bytes().to_vec());
    let cred = krbap::cred::InitiatorCredential::from_ccache(req.ccache.as_deref(), None)?;
    let mut failed = 0;
    for s in &req.services {
        let server = Principal::parse(s, default_realm.as_deref())?;
        let name = krbap::gss::name::Name::from_principal(server.clone());
        // As MIT's kvno: one line per service, errors on stderr, the others still tried.
        match cred.get_ticket(&name, now_secs()) {
            Ok(t) => {
                let kvno = <krbap::asn1::Ticket as krbap::asn1::Der>::from_der(&t.ticket)
                    .map_err(krbap::Error::from)?
                    .enc_part
                    .kvno
                    .unwrap_or(0);
                writeln!(out, "{server}: kvno = {kvno}")?;
            }
            Err(e) => {
                failed += 1;
                eprintln!(
                    "krbap kvno: {} while getting credentials for {server}{}",
                    e.minor_message(),
                    if e.detail.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", e.detail)
                    }
                );
            }
        }
    }
    if failed > 0 {
        return Err(CliError::Failed(format!(
            "kvno: {failed} of {} services failed",
            req.services.len()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &[&str]) -> Vec<String> {
        s.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn string2key_arguments() {
        let a = parse_string2key(&args(&[
            "--enctype",
            "aes256-cts",
            "--salt",
            "R.COMuser",
            "--password",
            "pw",
        ]))
        .unwrap();
        assert_eq!(a.enctype, Enctype::Aes256CtsHmacSha196);
        assert_eq!(a.salt, SaltSource::Salt("R.COMuser".into()));
        assert_eq!(a.password.as_deref().map(String::as_str), Some("pw"));
        assert_eq!(a.iterations, None);
        let a = parse_string2key(&args(&[
            "--enctype=20",
            "--principal=a/b@R",
            "--iterations",
            "5",
        ]))
        .unwrap();
        assert_eq!(a.enctype, Enctype::Aes256CtsHmacSha384192);
        assert_eq!(a.salt, SaltSource::Principal("a/b@R".into()));
        assert_eq!((a.iterations, a.password.is_none()), (Some(5), true));
        for bad in [
            &["--salt", "s"][..],
            &["--enctype", "des-cbc-crc", "--salt", "s"],
            &["--enctype", "aes128-cts"],
            &["--enctype", "aes128-cts", "--salt"],
            &[
                "--enctype",
                "aes128-cts",
                "--salt",
                "s",
                "--iterations",
                "0",
            ],
            &["--enctype", "aes128-cts", "--salt", "s", "extra"],
        ] {
            assert!(
                matches!(parse_string2key(&args(bad)), Err(CliError::Usage(_))),
                "{bad:?}"
            );
        }
        let p = Principal::parse("test/localhost@TEST.LOCAL", None).unwrap();
        assert_eq!(default_salt(&p), b"TEST.LOCALtestlocalhost");
    }

    #[test]
    fn list_arguments_and_dispatch() {
        assert_eq!(
            parse_keytab_list(&args(&["-K", "/k"])).unwrap(),
            KeytabListArgs {
                show_keys: true,
                name: Some("/k".into())
            }
        );
        assert_eq!(
            parse_keytab_list(&[]).unwrap(),
            KeytabListArgs {
                show_keys: false,
                name: None
            }
        );
        assert!(matches!(
            parse_keytab_list(&args(&["-x"])),
            Err(CliError::Usage(_))
        ));
        assert!(matches!(
            parse_keytab_list(&args(&["a", "b"])),
            Err(CliError::Usage(_))
        ));
        assert_eq!(
            parse_ccache_list(&args(&["FILE:/c"]))
                .unwrap()
                .name
                .as_deref(),
            Some("FILE:/c")
        );
        assert!(matches!(
            parse_ccache_list(&args(&["a", "b"])),
            Err(CliError::Usage(_))
        ));
        let mut sink = Vec::new();
        for bad in [
            &[][..],
            &["nope"],
            &["keytab"],
            &["keytab", "show"],
            &["help", "x"],
        ] {
            assert!(
                matches!(dispatch(&args(bad), &mut sink), Err(CliError::Usage(_))),
                "{bad:?}"
            );
        }
        assert!(matches!(
            dispatch(&args(&["ccache", "list", "KEYRING:x"]), &mut sink),
            Err(CliError::Failed(m)) if m.contains("unsupported credential cache type")
        ));
    }

    #[test]
    fn flags_and_etype_reader() {
        // forwardable, renewable, initial, pre-authent
        assert_eq!(flags_string(0x40e0_0000), "FRIA");
        // A minimal Ticket: [APPLICATION 1] SEQ { [0] 5, [3] SEQ { [0] INTEGER 18 } }.
        let enc = [0x30, 0x05, 0xa0, 0x03, 0x02, 0x01, 0x12];
        let mut seq = vec![0xa0, 0x03, 0x02, 0x01, 0x05, 0xa3, enc.len() as u8];
        seq.extend_from_slice(&enc);
        let mut t = vec![0x61, (seq.len() + 2) as u8, 0x30, seq.len() as u8];
        t.extend_from_slice(&seq);
        assert_eq!(ticket_enc_part_etype(&t), Some(18));
        for n in 0..t.len() {
            assert_eq!(ticket_enc_part_etype(&t[..n]), None);
        }
        assert_eq!(enctype_name(99), "etype 99");
    }

    #[test]
    fn kinit_arguments() {
        let a = parse_kinit(&args(&["-k", "-t", "FILE:/k", "-c", "/cc", "-f", "alice"])).unwrap();
        assert_eq!(
            a,
            KinitArgs {
                use_keytab: true,
                keytab: Some("FILE:/k".into()),
                ccache: Some("/cc".into()),
                forwardable: Some(true),
                principal: Some("alice".into()),
            }
        );
        let a = parse_kinit(&args(&["-k"])).unwrap();
        assert_eq!((a.principal, a.keytab, a.forwardable), (None, None, None));
        assert_eq!(
            parse_kinit(&args(&["-F", "bob@R"])).unwrap().forwardable,
            Some(false)
        );
        for bad in [
            &["-t", "kt", "alice"][..],
            &[][..],
            &["-k", "-t"][..],
            &["-x", "alice"][..],
            &["alice", "bob"][..],
        ] {
            assert!(
                matches!(parse_kinit(&args(bad)), Err(CliError::Usage(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn kvno_arguments() {
        let a = parse_kvno(&args(&["-c", "/cc", "a/b", "c/d@R"])).unwrap();
        assert_eq!(a.ccache.as_deref(), Some("/cc"));
        assert_eq!(a.services, vec!["a/b".to_string(), "c/d@R".to_string()]);
        for bad in [&[][..], &["-c", "/cc"][..], &["-c"][..], &["-q", "a/b"][..]] {
            assert!(
                matches!(parse_kvno(&args(bad)), Err(CliError::Usage(_))),
                "{bad:?}"
            );
        }
        assert!(dispatch(&args(&["help"]), &mut Vec::new()).is_ok());
        let mut out = Vec::new();
        cmd_help(&[], &mut out).unwrap();
        let help = String::from_utf8(out).unwrap();
        assert!(help.contains("krbap kinit") && help.contains("krbap kvno"));
    }
}
