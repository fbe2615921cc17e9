//! `krbap`: inspect keytabs and credential caches, derive keys from passwords.
//!
//! Built only on the library's public API. The command line is declared in `cli.rs`
//! (clap derive: parsing, `--help`, man pages, completions); here is one thin `cmd_*`
//! handler per subcommand. To add a subcommand: a variant and its `Args` struct in
//! `cli.rs`, an arm in [`run`], a handler here.
//!
//! Exit status: 0 success, 1 failure (one line on stderr), 2 bad arguments (clap's usage
//! message on stderr).

#[path = "krbap/assets.rs"]
mod assets;
#[path = "krbap/cli.rs"]
mod cli;

use clap::Parser;
use cli::{CcacheCommand, Cli, Command, KeytabCommand};
use krbap::ccache::{resolve_ccache_name, Ccache, Credential};
use krbap::crypto::{Enctype, Key};
use krbap::keytab::{resolve_keytab_name, Keytab};
use krbap::principal::Principal;
use std::io::{self, Read, Write};
use zeroize::Zeroizing;

/// Why a subcommand stopped (bad arguments never get this far: clap exits with 2).
#[derive(Debug, PartialEq)]
enum CliError {
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

fn run(command: Command, out: &mut dyn Write) -> Result<(), CliError> {
    match command {
        Command::String2key(a) => cmd_string2key(a, out),
        Command::Keytab(KeytabCommand::List(a)) => cmd_keytab_list(a, out),
        Command::Keytab(KeytabCommand::Add(a)) => cmd_keytab_add(a, out),
        Command::Ccache(CcacheCommand::List(a)) => cmd_ccache_list(a, out),
        Command::Decode(a) => cmd_decode(a, out),
        Command::MintTicket(a) => cmd_mint_ticket(a, out),
        Command::Kinit(a) => cmd_kinit(a, out),
        Command::Kvno(a) => cmd_kvno(a, out),
        Command::Completions(a) => cmd_completions(a, out),
        Command::GenerateAssets(a) => cmd_generate_assets(a, out),
    }
}

fn main() {
    // Usage errors exit 2 (stderr); --help and --version exit 0 (stdout).
    let cli = Cli::parse();
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let code = match run(cli.command, &mut out).and_then(|()| Ok(out.flush()?)) {
        Ok(()) => 0,
        Err(CliError::Failed(msg)) => {
            eprintln!("krbap: {}", msg.replace('\n', " "));
            1
        }
    };
    std::process::exit(code);
}

// ---------------------------------------------------------------- completions, man pages

fn cmd_completions(a: cli::CompletionsArgs, out: &mut dyn Write) -> Result<(), CliError> {
    assets::completions(a.shell, out);
    Ok(())
}

/// The man pages and completions, for `make` to install (a hidden subcommand).
fn cmd_generate_assets(a: cli::GenerateAssetsArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let man = a.dir.join("man/man1");
    let completions = a.dir.join("completions");
    std::fs::create_dir_all(&man)?;
    std::fs::create_dir_all(&completions)?;
    let pages = assets::write_man_pages(&man)?;
    assets::write_completions(&completions)?;
    writeln!(
        out,
        "{} man pages in {}, bash/zsh/fish completions in {}",
        pages.len(),
        man.display(),
        completions.display()
    )?;
    Ok(())
}

// ---------------------------------------------------------------- string2key

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

fn cmd_string2key(req: cli::String2KeyArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let salt = match (&req.salt, &req.principal) {
        (Some(s), _) => s.as_bytes().to_vec(),
        (None, Some(name)) => default_salt(&Principal::parse(name, None)?),
        (None, None) => unreachable!("clap requires --salt or --principal"),
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

fn cmd_keytab_list(req: cli::KeytabListArgs, out: &mut dyn Write) -> Result<(), CliError> {
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

fn cmd_ccache_list(req: cli::CcacheListArgs, out: &mut dyn Write) -> Result<(), CliError> {
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

fn cmd_decode(req: cli::DecodeArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let file = &req.file;
    let token = std::fs::read(file).map_err(|e| CliError::Failed(format!("{file}: {e}")))?;
    let keys = req.keytab.as_deref().map(service_keys).transpose()?;
    let cx = krbap::diagnose::DecodeContext {
        keys: keys.as_deref(),
        now: req.time.unwrap_or_else(now_secs),
        skew: req.skew,
    };
    // The KDC's keys, whatever their principal names (for the PAC's KDC-side signatures).
    let kdc_keys: Vec<Key> = req
        .krbtgt_keytab
        .as_deref()
        .map(service_keys)
        .transpose()?
        .unwrap_or_default()
        .into_iter()
        .map(|k| k.key)
        .collect();
    out.write_all(krbap::diagnose::describe_with(&token, &cx, &kdc_keys).as_bytes())?;
    Ok(())
}

fn cmd_mint_ticket(req: cli::MintTicketArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let keys = service_keys(&req.keytab)?;
    let service = Principal::parse(&req.service, None)?;
    let client = Principal::parse(&req.client, Some(&service.realm))?;
    let ccache = resolve_ccache_name(Some(&req.ccache))?;
    let enctype = req.enctype;
    let now = req.time.unwrap_or_else(now_secs);
    let lifetime = req.lifetime;
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
    // --pac FILE: a PAC, verbatim; with --krbtgt-keytab its buffers other than CLIENT_INFO
    // and the signatures, with a CLIENT_INFO for this client, signed with the service key and
    // the KDC key (the first key of that keytab), as a KDC would.
    let kdc_key = req
        .krbtgt_keytab
        .as_deref()
        .map(|kt| {
            service_keys(kt)?
                .into_iter()
                .next()
                .map(|k| k.key)
                .ok_or_else(|| CliError::Failed(format!("{kt}: no usable key")))
        })
        .transpose()?;
    let pac_bytes = match req.pac.as_deref() {
        None => None,
        Some(f) => {
            let raw = std::fs::read(f).map_err(|e| CliError::Failed(format!("{f}: {e}")))?;
            Some(match &kdc_key {
                None => raw,
                Some(kdc) => {
                    let template = krbap::pac::Pac::parse(&raw)?;
                    let client_info = krbap::pac::client_info_buffer(&client.name, now);
                    use krbap::pac::buffer_type as bt;
                    let mut buffers: Vec<(u32, &[u8])> = template
                        .buffers()
                        .iter()
                        .filter(|b| ![bt::CLIENT_INFO, 6, 7, 16, 19].contains(&b.buffer_type))
                        .map(|b| (b.buffer_type, template.buffer_bytes(b)))
                        .collect();
                    buffers.push((bt::CLIENT_INFO, &client_info));
                    krbap::pac::build(&buffers, &sk.key, kdc, true)
                }
            })
        }
    };
    let authorization_data = pac_bytes.map(|pac| {
        use krbap::asn1::{ad_type, encode_authorization_data, AuthorizationDataEntry};
        vec![AuthorizationDataEntry {
            ad_type: ad_type::IF_RELEVANT,
            ad_data: encode_authorization_data(&vec![AuthorizationDataEntry {
                ad_type: ad_type::WIN2K_PAC,
                ad_data: pac,
            }]),
        }]
    });
    let has_pac = req.pac.is_some();
    let req = krbap::ap::MintRequest {
        service_key: sk,
        client: &client,
        session_enctype: sk.key.enctype(),
        authtime: now,
        endtime: now + lifetime,
        flags: tflags,
        authorization_data,
    };
    let (ticket, session_key) = match (&kdc_key, has_pac) {
        (Some(kdc), true) => krbap::ap::mint_ticket_with_pac(&req, kdc)?,
        _ => krbap::ap::mint_ticket(&req),
    };
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

fn cmd_keytab_add(req: cli::KeytabAddArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let principal = Principal::parse(&req.principal, None)?;
    let kvno = req.kvno;
    let mut enctypes = req.enctype;
    if enctypes.is_empty() {
        enctypes = Enctype::ALL.to_vec();
    }
    let password = match req.password {
        Some(p) => p,
        None => read_password_line()?,
    };
    let path = resolve_keytab_name(Some(&req.file))?;
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

fn cmd_kinit(req: cli::KinitArgs, out: &mut dyn Write) -> Result<(), CliError> {
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
            .forwardable()
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

fn cmd_kvno(req: cli::KvnoArgs, out: &mut dyn Write) -> Result<(), CliError> {
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
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Command, clap::Error> {
        Cli::try_parse_from(std::iter::once("krbap").chain(args.iter().copied())).map(|c| c.command)
    }

    fn usage_error(args: &[&str]) -> bool {
        match parse(args) {
            Err(e) => e.exit_code() == 2 && e.use_stderr(),
            Ok(_) => false,
        }
    }

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn string2key_arguments() {
        let Command::String2key(a) = parse(&[
            "string2key",
            "--enctype",
            "aes256-cts",
            "--salt",
            "R.COMuser",
            "--password",
            "-pw",
        ])
        .unwrap() else {
            panic!("not string2key")
        };
        assert_eq!(a.enctype, Enctype::Aes256CtsHmacSha196);
        assert_eq!(a.salt.as_deref(), Some("R.COMuser"));
        assert_eq!(a.password.as_deref().map(String::as_str), Some("-pw"));
        assert_eq!(a.iterations, None);
        let Command::String2key(a) =
            parse(&["string2key", "--enctype=20", "--principal=a/b@R", "-i", "5"]).unwrap()
        else {
            panic!("not string2key")
        };
        assert_eq!(a.enctype, Enctype::Aes256CtsHmacSha384192);
        assert_eq!(a.principal.as_deref(), Some("a/b@R"));
        assert_eq!((a.iterations, a.password.is_none()), (Some(5), true));
        for bad in [
            &["--salt", "s"][..],
            &["--enctype", "des-cbc-crc", "--salt", "s"],
            &["--enctype", "aes128-cts"],
            &["--enctype", "aes128-cts", "--salt"],
            &["--enctype", "aes128-cts", "--salt", "s", "-i", "0"],
            &["--enctype", "aes128-cts", "--salt", "s", "extra"],
            &["--enctype", "aes128-cts", "--salt", "s", "--principal", "p"],
        ] {
            let args: Vec<&str> = std::iter::once("string2key")
                .chain(bad.iter().copied())
                .collect();
            assert!(usage_error(&args), "{bad:?}");
        }
        let p = Principal::parse("test/localhost@TEST.LOCAL", None).unwrap();
        assert_eq!(default_salt(&p), b"TEST.LOCALtestlocalhost");
    }

    #[test]
    fn list_arguments_and_dispatch() {
        let Command::Keytab(KeytabCommand::List(a)) =
            parse(&["keytab", "list", "-K", "/k"]).unwrap()
        else {
            panic!("not keytab list")
        };
        assert_eq!((a.show_keys, a.name.as_deref()), (true, Some("/k")));
        let Command::Keytab(KeytabCommand::List(a)) = parse(&["keytab", "list"]).unwrap() else {
            panic!("not keytab list")
        };
        assert_eq!((a.show_keys, a.name), (false, None));
        let Command::Ccache(CcacheCommand::List(a)) =
            parse(&["ccache", "list", "FILE:/c"]).unwrap()
        else {
            panic!("not ccache list")
        };
        assert_eq!(a.name.as_deref(), Some("FILE:/c"));
        for bad in [
            &[][..],
            &["nope"],
            &["keytab"],
            &["keytab", "show"],
            &["keytab", "list", "-x"],
            &["keytab", "list", "a", "b"],
            &["ccache", "list", "a", "b"],
            &["help", "x"],
            &["decode"],
            &["mint-ticket", "--keytab", "k"],
            &["keytab", "add", "--principal", "p"],
            &[
                "keytab",
                "add",
                "--enctype",
                "des",
                "--principal",
                "p",
                "kt",
            ],
            &["decode", "--time", "soon", "t"],
        ] {
            assert!(usage_error(bad), "{bad:?}");
        }
        assert!(matches!(
            run(parse(&["ccache", "list", "KEYRING:x"]).unwrap(), &mut Vec::new()),
            Err(CliError::Failed(m)) if m.contains("unsupported credential cache type")
        ));
    }

    #[test]
    fn help_and_version_exit_zero() {
        for args in [
            &["--help"][..],
            &["--version"],
            &["help"],
            &["help", "kinit"],
            &["keytab", "add", "--help"],
            &["kvno", "-h"],
        ] {
            let e = parse(args).unwrap_err();
            assert_eq!((e.exit_code(), e.use_stderr()), (0, false), "{args:?}");
        }
        let help = Cli::command().render_long_help().to_string();
        for sub in [
            "kinit",
            "kvno",
            "keytab",
            "ccache",
            "string2key",
            "decode",
            "completions",
        ] {
            assert!(help.contains(sub), "{sub} missing from --help");
        }
        assert!(!help.contains("generate-assets"));
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
        let Command::Kinit(a) =
            parse(&["kinit", "-k", "-t", "FILE:/k", "-c", "/cc", "-f", "alice"]).unwrap()
        else {
            panic!("not kinit")
        };
        assert!(a.use_keytab);
        assert_eq!(
            (
                a.keytab.as_deref(),
                a.ccache.as_deref(),
                a.forwardable(),
                a.principal.as_deref()
            ),
            (Some("FILE:/k"), Some("/cc"), Some(true), Some("alice"))
        );
        let Command::Kinit(a) = parse(&["kinit", "-k"]).unwrap() else {
            panic!("not kinit")
        };
        assert_eq!((a.forwardable(), a.principal, a.keytab), (None, None, None));
        let Command::Kinit(a) = parse(&["kinit", "-F", "bob@R"]).unwrap() else {
            panic!("not kinit")
        };
        assert_eq!(a.forwardable(), Some(false));
        // The last of -f / -F wins, as in MIT's kinit.
        let Command::Kinit(a) = parse(&["kinit", "-f", "-F", "-f", "bob@R"]).unwrap() else {
            panic!("not kinit")
        };
        assert_eq!(a.forwardable(), Some(true));
        let Command::Kinit(a) = parse(&["kinit", "-f", "-F", "bob@R"]).unwrap() else {
            panic!("not kinit")
        };
        assert_eq!(a.forwardable(), Some(false));
        for bad in [
            &["-t", "kt", "alice"][..],
            &[][..],
            &["-k", "-t"][..],
            &["-x", "alice"][..],
            &["alice", "bob"][..],
        ] {
            let args: Vec<&str> = std::iter::once("kinit")
                .chain(bad.iter().copied())
                .collect();
            assert!(usage_error(&args), "{bad:?}");
        }
    }

    #[test]
    fn kvno_arguments() {
        let Command::Kvno(a) = parse(&["kvno", "-c", "/cc", "a/b", "c/d@R"]).unwrap() else {
            panic!("not kvno")
        };
        assert_eq!(a.ccache.as_deref(), Some("/cc"));
        assert_eq!(a.services, vec!["a/b".to_string(), "c/d@R".to_string()]);
        for bad in [&[][..], &["-c", "/cc"][..], &["-c"][..], &["-q", "a/b"][..]] {
            let args: Vec<&str> = std::iter::once("kvno").chain(bad.iter().copied()).collect();
            assert!(usage_error(&args), "{bad:?}");
        }
    }

    #[test]
    fn man_pages_and_completions() {
        let dir = std::env::temp_dir().join(format!("krbap-cli-assets-{}", std::process::id()));
        let mut out = Vec::new();
        let cmd = parse(&["generate-assets", dir.to_str().unwrap()]).unwrap();
        run(cmd, &mut out).unwrap();
        let read = |p: &str| std::fs::read_to_string(dir.join(p)).unwrap();
        let main = read("man/man1/krbap.1");
        assert!(main.contains(".TH krbap 1"), "{main}");
        for section in [
            "NAME",
            "SYNOPSIS",
            "DESCRIPTION",
            "OPTIONS",
            "SUBCOMMANDS",
            "\"EXIT STATUS\"",
            "ENVIRONMENT",
            "\"SEE ALSO\"",
        ] {
            assert!(
                main.contains(&format!(".SH {section}")),
                "krbap.1 lacks {section}"
            );
        }
        assert!(main.contains("krbap\\-keytab\\-list(1)"), "{main}");
        for (page, has) in [
            ("krbap-keytab-list.1", "\\-\\-keys"),
            ("krbap-keytab-add.1", "\\-\\-principal"),
            ("krbap-kinit.1", "\\-k"),
            ("krbap-kvno.1", "SERVICE"),
            ("krbap-decode.1", "\\-\\-skew"),
            ("krbap-string2key.1", "\\-\\-iterations"),
            ("krbap-mint-ticket.1", "TEST HELPER"),
            ("krbap-ccache-list.1", "CCACHE"),
            ("krbap-completions.1", "SHELL"),
        ] {
            let text = read(&format!("man/man1/{page}"));
            assert!(
                text.contains(has) && text.contains(".SH \"EXIT STATUS\""),
                "{page}: {text}"
            );
        }
        let all: Vec<String> = std::fs::read_dir(dir.join("man/man1"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(all.len(), 12, "{all:?}");
        assert!(
            !all.iter()
                .any(|p| p.contains("generate") || p.contains("help")),
            "{all:?}"
        );
        for (file, has) in [
            (
                "completions/krbap.bash",
                "krbap__subcmd__keytab__subcmd__list",
            ),
            ("completions/_krbap", "#compdef krbap"),
            ("completions/krbap.fish", "complete -c krbap"),
        ] {
            let text = read(file);
            assert!(text.contains(has), "{file}");
            assert!(
                text.contains("mint-ticket") && !text.contains("generate-assets"),
                "{file}"
            );
        }
        let mut bash = Vec::new();
        run(parse(&["completions", "bash"]).unwrap(), &mut bash).unwrap();
        assert_eq!(
            String::from_utf8(bash).unwrap(),
            read("completions/krbap.bash")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
