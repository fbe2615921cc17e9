//! The `krbap` command line, declared with clap's derive: what `main` parses, and what
//! `--help`, the man pages (clap_mangen) and the shell completions (clap_complete) show.
//! No behaviour here: each subcommand's struct goes to its handler in ../krbap.rs.
//!
//! Parsing is complete here: a value that cannot be used (an unknown enctype, a zero
//! iteration count, `-t` without `-k`) is a usage error (exit 2) before any handler runs.

use clap::builder::{PossibleValue, TypedValueParser};
use clap::{ArgGroup, Args, Parser, Subcommand, ValueHint};
use krbap::crypto::Enctype;
use zeroize::Zeroizing;

const ABOUT: &str = "Inspect keytabs and credential caches, derive keys, explain GSS tokens, \
                     and get tickets from a KDC";

const LONG_ABOUT: &str = "\
krbap is the command-line tool of the krbap library (the Kerberos V5 AP exchange, RFC 4120 \
section 3.2, in the GSS-API krb5 mechanism, RFC 4121). It lists keytabs and FILE credential \
caches exactly as MIT's klist does, adds string-to-key keys to keytabs, explains why an \
acceptor would reject a GSS token, and gets initial and service tickets from a KDC like \
MIT's kinit and kvno.

Keytab and ccache names are resolved as MIT does: FILE:path or a path; without a name, \
KRB5_KTNAME / KRB5CCNAME, then krb5.conf's default_keytab_name / default_ccache_name, then \
/etc/krb5.keytab / /tmp/krb5cc_UID. The KDC and the default realm come from krb5.conf \
(KRB5_CONFIG).";

const EXIT_STATUS: &str = "\
Exit status: 0 on success; 1 when the operation failed (one line on stderr); 2 for bad \
arguments (the usage on stderr).";

/// The `krbap` command line.
#[derive(Debug, Parser)]
#[command(
    name = "krbap",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_help = EXIT_STATUS,
    propagate_version = true,
    subcommand_required = true,
    arg_required_else_help = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    String2key(String2KeyArgs),
    /// Keytab files: list their entries, add password-derived keys
    #[command(subcommand, subcommand_required = true, arg_required_else_help = true)]
    Keytab(KeytabCommand),
    /// FILE credential caches: list their tickets
    #[command(subcommand, subcommand_required = true, arg_required_else_help = true)]
    Ccache(CcacheCommand),
    Decode(DecodeArgs),
    MintTicket(MintTicketArgs),
    Kinit(KinitArgs),
    Kvno(KvnoArgs),
    Completions(CompletionsArgs),
    #[command(hide = true)]
    GenerateAssets(GenerateAssetsArgs),
}

#[derive(Debug, Subcommand)]
pub enum KeytabCommand {
    List(KeytabListArgs),
    Add(KeytabAddArgs),
}

#[derive(Debug, Subcommand)]
pub enum CcacheCommand {
    List(CcacheListArgs),
}

/// Derive a key from a password (RFC 3962 / RFC 8009 string-to-key) and print it in hex
///
/// Without --password, the password is the first line of stdin (at most 64 KiB).
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("salt-source").required(true).args(["salt", "principal"])))]
pub struct String2KeyArgs {
    /// The encryption type: an MIT name or alias (aes256-cts, aes128-sha2) or its number
    #[arg(short, long, value_name = "ENCTYPE", value_parser = EnctypeParser)]
    pub enctype: Enctype,
    /// The salt, as the bytes of this string (e.g. TEST.LOCALalice)
    #[arg(short, long, value_name = "SALT", allow_hyphen_values = true)]
    pub salt: Option<String>,
    /// Use the default salt of this principal: its realm followed by its name components
    #[arg(short, long, value_name = "NAME")]
    pub principal: Option<String>,
    /// The PBKDF2 iteration count (default: the enctype's, 4096 or 32768)
    #[arg(short, long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub iterations: Option<u32>,
    /// The password (visible to other users in the process list: prefer stdin)
    #[arg(short = 'w', long, value_name = "P", allow_hyphen_values = true,
          value_parser = secret)]
    pub password: Option<Zeroizing<String>>,
}

/// List a keytab's entries, like MIT's klist -k -t -e [-K]
#[derive(Debug, Args)]
pub struct KeytabListArgs {
    /// Show the keys in hex, like klist -K
    #[arg(short = 'K', long = "keys")]
    pub show_keys: bool,
    /// The keytab (FILE:path or a path; default: KRB5_KTNAME, krb5.conf, /etc/krb5.keytab)
    #[arg(value_name = "KEYTAB", value_hint = ValueHint::FilePath)]
    pub name: Option<String>,
}

/// Add string-to-key keys of a principal to a keytab, like ktutil addent -password
///
/// One key per enctype, with the principal's default salt. The keytab is created (mode
/// 0600) if it does not exist. Without --password, the password is the first line of stdin.
#[derive(Debug, Args)]
pub struct KeytabAddArgs {
    /// The principal (comp/comp@REALM)
    #[arg(long, value_name = "NAME")]
    pub principal: String,
    /// The key version number
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub kvno: u32,
    /// An encryption type; may be repeated (default: all four AES enctypes)
    #[arg(long, value_name = "ENCTYPE", value_parser = EnctypeParser)]
    pub enctype: Vec<Enctype>,
    /// The password (visible to other users in the process list: prefer stdin)
    #[arg(long, value_name = "P", allow_hyphen_values = true, value_parser = secret)]
    pub password: Option<Zeroizing<String>>,
    /// The keytab to add to (FILE:path or a path)
    #[arg(value_name = "KEYTAB", value_hint = ValueHint::FilePath)]
    pub file: String,
}

/// List a FILE credential cache, like MIT's klist -e -f, then its configuration entries
#[derive(Debug, Args)]
pub struct CcacheListArgs {
    /// The ccache (FILE:path or a path; default: KRB5CCNAME, krb5.conf, /tmp/krb5cc_UID)
    #[arg(value_name = "CCACHE", value_hint = ValueHint::FilePath)]
    pub name: Option<String>,
}

/// Explain a GSS token: why would an acceptor reject it?
///
/// Prints the framing and the AP-REQ; with the service's keytab, the decrypted ticket
/// (client, flags, times, authorization data) and authenticator (ctime, subkey, sequence
/// number, the 0x8003 checksum's flags and channel bindings), then the verdict: no key for
/// that kvno and enctype, a clock skew of N seconds, expired, or acceptable.
#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// The service's keytab, to decrypt the ticket and the authenticator
    #[arg(long, value_name = "KEYTAB", value_hint = ValueHint::FilePath)]
    pub keytab: Option<String>,
    /// Judge the times as of this moment (seconds since 1970; default: now)
    #[arg(long, value_name = "UNIX", allow_negative_numbers = true)]
    pub time: Option<i64>,
    /// The allowed clock skew in seconds
    #[arg(long, value_name = "SECONDS", default_value_t = krbap::ap::DEFAULT_CLOCK_SKEW)]
    pub skew: i64,
    /// The KDC's (krbtgt) keytab, to check the PAC's KDC, ticket and full signatures too
    #[arg(long, value_name = "KEYTAB", value_hint = ValueHint::FilePath)]
    pub krbtgt_keytab: Option<String>,
    /// The token, as raw bytes (an initial context token or a bare AP-REQ)
    #[arg(value_name = "TOKEN_FILE", value_hint = ValueHint::FilePath)]
    pub file: String,
}

/// TEST HELPER: make a service ticket with the service's own key, as a KDC would
///
/// Writes the ticket and its session key to a new FILE ccache. No KDC is involved: this is
/// for demos and tests (make demo), never a substitute for a KDC.
#[derive(Debug, Args)]
pub struct MintTicketArgs {
    /// The service's keytab (the ticket is encrypted in its newest key)
    #[arg(long, value_name = "KEYTAB", value_hint = ValueHint::FilePath)]
    pub keytab: String,
    /// The service principal
    #[arg(long, value_name = "PRINCIPAL")]
    pub service: String,
    /// The client principal (default realm: the service's)
    #[arg(long, value_name = "PRINCIPAL")]
    pub client: String,
    /// The ccache to write (replaced if it exists)
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub ccache: String,
    /// The service key's enctype to use (default: the first key of the newest kvno)
    #[arg(long, value_name = "ENCTYPE", value_parser = EnctypeParser)]
    pub enctype: Option<Enctype>,
    /// The ticket's lifetime in seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 36000)]
    pub lifetime: i64,
    /// The ticket's start (seconds since 1970; default: now)
    #[arg(long, value_name = "UNIX", allow_negative_numbers = true)]
    pub time: Option<i64>,
    /// Put the PAC in FILE into the ticket (in AD-IF-RELEVANT), verbatim, or re-signed for this
    /// ticket with --krbtgt-keytab
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub pac: Option<String>,
    /// With --pac: re-sign the PAC as a KDC would (its own CLIENT_INFO, the server signature
    /// with the service key, the KDC-side signatures with the first key of KEYTAB)
    #[arg(long, value_name = "KEYTAB", requires = "pac", value_hint = ValueHint::FilePath)]
    pub krbtgt_keytab: Option<String>,
}

/// Get initial credentials (a TGT) from the KDC, like MIT's kinit
///
/// With -k, the keys of the keytab (-t, else the default keytab) and PRINCIPAL defaults to
/// the keytab's first principal; without -k, the password is the first line of stdin. The
/// TGT replaces the contents of CCACHE (default: the default ccache).
#[derive(Debug, Args)]
pub struct KinitArgs {
    /// Use the keys of a keytab instead of a password
    #[arg(short = 'k')]
    pub use_keytab: bool,
    /// The keytab for -k
    #[arg(short = 't', value_name = "KEYTAB", requires = "use_keytab",
          value_hint = ValueHint::FilePath)]
    pub keytab: Option<String>,
    /// The ccache to write
    #[arg(short = 'c', value_name = "CCACHE", value_hint = ValueHint::FilePath)]
    pub ccache: Option<String>,
    /// Request a forwardable TGT (default: krb5.conf's forwardable)
    #[arg(short = 'f', overrides_with = "not_forwardable")]
    pub forwardable: bool,
    /// Request a non-forwardable TGT
    #[arg(short = 'F', overrides_with = "forwardable")]
    pub not_forwardable: bool,
    /// The client principal (default realm: krb5.conf's)
    #[arg(value_name = "PRINCIPAL", required_unless_present = "use_keytab")]
    pub principal: Option<String>,
}

impl KinitArgs {
    /// -f / -F, the last one given; `None`: krb5.conf's `forwardable`.
    pub fn forwardable(&self) -> Option<bool> {
        match (self.forwardable, self.not_forwardable) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        }
    }
}

/// Get service tickets with the ccache's TGT, like MIT's kvno
///
/// The tickets are stored in the ccache; one line `SERVICE: kvno = N` per service, as MIT's
/// kvno prints. A service that fails is reported on stderr and the others are still tried.
#[derive(Debug, Args)]
pub struct KvnoArgs {
    /// The ccache with the TGT
    #[arg(short = 'c', value_name = "CCACHE", value_hint = ValueHint::FilePath)]
    pub ccache: Option<String>,
    /// Service principals (default realm: krb5.conf's)
    #[arg(value_name = "SERVICE", required = true)]
    pub services: Vec<String>,
}

/// Print a shell completion script
///
/// E.g. `krbap completions bash > /etc/bash_completion.d/krbap`. Packages install them
/// (make install: share/bash-completion/completions, share/zsh/site-functions,
/// share/fish/vendor_completions.d).
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell
    #[arg(value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

/// Write the man pages and completion scripts (run by `make`)
#[derive(Debug, Args)]
pub struct GenerateAssetsArgs {
    /// Where: DIR/man/man1/*.1 and DIR/completions/{krbap.bash,_krbap,krbap.fish}
    #[arg(value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub dir: std::path::PathBuf,
}

/// Keeps a secret option's value in memory that is wiped when dropped.
fn secret(s: &str) -> Result<Zeroizing<String>, std::convert::Infallible> {
    Ok(Zeroizing::new(s.to_string()))
}

/// Parses MIT's enctype names, aliases and numbers ([`Enctype::from_name`]); offers the
/// canonical names to `--help` and the completions.
#[derive(Clone, Copy)]
struct EnctypeParser;

impl TypedValueParser for EnctypeParser {
    type Value = Enctype;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Enctype, clap::Error> {
        let text = value.to_str().unwrap_or_default();
        Enctype::from_name(text).ok_or_else(|| {
            let mut e = clap::Error::new(clap::error::ErrorKind::InvalidValue).with_cmd(cmd);
            use clap::error::{ContextKind, ContextValue};
            if let Some(arg) = arg {
                e.insert(
                    ContextKind::InvalidArg,
                    ContextValue::String(arg.to_string()),
                );
            }
            e.insert(
                ContextKind::InvalidValue,
                ContextValue::String(value.to_string_lossy().into_owned()),
            );
            e.insert(
                ContextKind::ValidValue,
                ContextValue::Strings(Enctype::ALL.iter().map(|e| e.name().into()).collect()),
            );
            e
        })
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            Enctype::ALL.iter().map(|e| PossibleValue::new(e.name())),
        ))
    }
}
