//! The man pages and shell completions of `krbap`, generated from the clap definition in
//! `cli.rs` so that they cannot drift from what the program parses. `make` writes them
//! (`krbap generate-assets build/share`) and `make install` / `make deb` install them.

use crate::cli::Cli;
use clap::CommandFactory;
use clap_complete::Shell;
use roff::{bold, roman, Roff};
use std::io::{self, Write};
use std::path::Path;

const EXIT_STATUS: &str = "0 on success; 1 when the operation failed (one line on standard \
                           error); 2 for bad arguments (the usage on standard error).";

/// (variable, meaning) for the ENVIRONMENT section of krbap(1).
const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "KRB5_CONFIG",
        "the krb5.conf files (default realm, KDCs, forwardable, ...)",
    ),
    ("KRB5_KTNAME", "the default keytab"),
    ("KRB5_CLIENT_KTNAME", "the default client keytab"),
    ("KRB5CCNAME", "the default credential cache"),
];

const SEE_ALSO: &str = "klist(1), kinit(1), kvno(1), ktutil(1), krb5.conf(5)";

/// The command as users see it: the hidden subcommands left out (clap_complete would
/// offer them).
pub fn public_command() -> clap::Command {
    let full = Cli::command();
    let mut cmd = clap::Command::new("krbap")
        .version(env!("CARGO_PKG_VERSION"))
        .propagate_version(true)
        .subcommand_required(true)
        .args(full.get_arguments().cloned())
        .subcommands(full.get_subcommands().filter(|s| !s.is_hide_set()).cloned());
    if let Some(about) = full.get_about() {
        cmd = cmd.about(about.clone());
    }
    if let Some(about) = full.get_long_about() {
        cmd = cmd.long_about(about.clone());
    }
    cmd
}

/// A completion script for `shell`.
pub fn completions(shell: Shell, out: &mut dyn Write) {
    clap_complete::generate(shell, &mut public_command(), "krbap", out);
}

/// krbap.1 and one page per subcommand (krbap-keytab-list.1, ...) in `dir`.
pub fn write_man_pages(dir: &Path) -> io::Result<Vec<String>> {
    let mut cmd = public_command().disable_help_subcommand(true);
    cmd.build();
    let mut names = Vec::new();
    write_page(&cmd, dir, true, &mut names)?;
    Ok(names)
}

fn write_page(
    cmd: &clap::Command,
    dir: &Path,
    top: bool,
    names: &mut Vec<String>,
) -> io::Result<()> {
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_page(sub, dir, false, names)?;
    }
    let man = clap_mangen::Man::new(cmd.clone());
    let name = man.get_filename();
    let mut page = Vec::new();
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    man.render_options_section(&mut page)?;
    if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
        man.render_subcommands_section(&mut page)?;
    }
    let mut extra = Roff::new();
    extra
        .control("SH", ["EXIT STATUS"])
        .text([roman(EXIT_STATUS)]);
    if top {
        extra.control("SH", ["ENVIRONMENT"]);
        for (var, what) in ENVIRONMENT {
            extra
                .control("TP", [])
                .text([bold(*var)])
                .text([roman(*what)]);
        }
    }
    extra.control("SH", ["SEE ALSO"]);
    if top {
        let mut subpages: Vec<String> = names
            .iter()
            .map(|n| format!("{}(1)", n.trim_end_matches(".1")))
            .collect();
        subpages.sort();
        extra.text([roman(format!("{}, {SEE_ALSO}", subpages.join(", ")))]);
    } else {
        extra.text([roman(format!("krbap(1), {SEE_ALSO}"))]);
    }
    extra.to_writer(&mut page)?;
    man.render_version_section(&mut page)?;
    write_file(&dir.join(&name), &page)?;
    names.push(name);
    Ok(())
}

/// krbap.bash, _krbap (zsh) and krbap.fish in `dir`.
pub fn write_completions(dir: &Path) -> io::Result<()> {
    for (shell, file) in [
        (Shell::Bash, "krbap.bash"),
        (Shell::Zsh, "_krbap"),
        (Shell::Fish, "krbap.fish"),
    ] {
        let mut script = Vec::new();
        completions(shell, &mut script);
        write_file(&dir.join(file), &script)?;
    }
    Ok(())
}

/// Replaces `path` atomically (a temporary file renamed over it), and only when the content
/// changed: `make install` run by concurrent test scripts never reads a half-written file.
fn write_file(path: &Path, content: &[u8]) -> io::Result<()> {
    if std::fs::read(path).is_ok_and(|old| old == content) {
        return Ok(());
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp{}", std::process::id()));
    std::fs::write(&tmp, content)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}
