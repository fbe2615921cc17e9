//! krb5.conf in MIT's profile syntax: `[section]` headers, `name = value` relations,
//! `name = { ... }` subsections, `#`/`;` comments, `include FILE` and `includedir DIR`.
//! Files come from `KRB5_CONFIG` (a colon-separated list) or `/etc/krb5.conf`; like MIT,
//! the first file that defines a relation wins. Unknown sections and relations are kept
//! but unused. Syntax errors name the file and line.

use crate::error::{minor, Error, Result};
use std::path::{Path, PathBuf};

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

/// Bound on include nesting, against include loops.
const MAX_INCLUDE_DEPTH: usize = 8;

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
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::minor(minor::CONFIG_BADFORMAT, format!("{}: {e}", path.display()))
        })?;
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
            .unwrap_or(300)
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
    fn syntax_errors_name_file_and_line() {
        let e = Profile::parse("[libdefaults]\n default_realm\n", "krb5.conf").unwrap_err();
        assert!(e.detail.contains("krb5.conf:2"), "{}", e.detail);
        let e = Profile::parse("x = 1\n", "f").unwrap_err();
        assert!(e.detail.contains("f:1"));
        let e = Profile::parse("[a]\n b = {\n c = 1\n", "g").unwrap_err();
        assert!(e.detail.contains("unterminated"));
    }
}
