//! MIT's `TYPE:residual` names for the FILE types of credential caches and keytabs
//! (krb5_cc_resolve, krb5_kt_resolve): `TYPE:path` or a bare path (no colon, or starting
//! with `/`), the default taken from the environment, then krb5.conf, then a fixed path.

use std::path::PathBuf;

use crate::error::{Error, Result};

/// What a name names, for the defaults and the messages.
pub(crate) struct FileKind {
    /// "credential cache", "keytab".
    pub what: &'static str,
    /// The environment variable holding the default name (`KRB5CCNAME`, `KRB5_KTNAME`).
    pub env: &'static str,
    /// The krb5.conf [libdefaults] key of the default name.
    pub profile_key: &'static str,
    /// The type prefixes that name a file.
    pub file_types: &'static [&'static str],
    /// The minor codes of an unsupported type and of an empty path.
    pub unknown_type: i32,
    pub bad_name: i32,
}

/// The file `name` (or the default name) designates. `last_default` makes the name used
/// when neither the environment nor krb5.conf gives one.
pub(crate) fn resolve(
    name: Option<&str>,
    kind: &FileKind,
    last_default: impl FnOnce() -> String,
) -> Result<PathBuf> {
    let name = match name {
        Some(n) => n.to_string(),
        None => std::env::var(kind.env)
            .ok()
            .filter(|s| !s.is_empty())
            .or_else(|| crate::config::default_file_name(kind.profile_key))
            .unwrap_or_else(last_default),
    };
    let path = match name.split_once(':') {
        None => name.as_str(),
        Some(_) if name.starts_with('/') => name.as_str(),
        Some((prefix, rest)) if kind.file_types.contains(&prefix) => rest,
        Some((prefix, _)) => {
            return Err(Error::minor(
                kind.unknown_type,
                format!(
                    "unsupported {} type {prefix:?} in {name:?} (only FILE is supported)",
                    kind.what
                ),
            ))
        }
    };
    if path.is_empty() {
        return Err(Error::minor(
            kind.bad_name,
            format!("empty {} path in {name:?}", kind.what),
        ));
    }
    Ok(PathBuf::from(path))
}
