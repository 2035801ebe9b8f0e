//! The values of `-o Name=Value` options, as ssh_config(5) spells them: yes/no,
//! seconds, file lists, method lists and algorithm lists.

use std::path::PathBuf;
use std::time::Duration;

use sansh_tokio::core::auth::AuthMethod;
use sansh_tokio::core::host_pattern::glob_matches;
use sansh_tokio::core::keys::SignatureAlgorithm;

/// `Name=Value`, `Name Value` or `Name = Value`.
pub(crate) fn split_option(option: &str) -> Option<(&str, &str)> {
    let option = option.trim();
    let end = option.find(|c: char| c == '=' || c.is_whitespace())?;
    let (name, rest) = option.split_at(end);
    let rest = rest.trim_start();
    let value = rest.strip_prefix('=').unwrap_or(rest).trim();
    (!name.is_empty() && !value.is_empty()).then_some((name, value))
}

/// `yes`/`true` or `no`/`false`, in any case.
pub(crate) fn yes_no(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "yes" | "true" => Some(true),
        "no" | "false" => Some(false),
        _ => None,
    }
}

/// A time in seconds; 0 or `none` means never.
pub(crate) fn seconds(value: &str) -> Option<Option<Duration>> {
    if value.eq_ignore_ascii_case("none") {
        return Some(None);
    }
    let seconds: u64 = value.parse().ok()?;
    Some((seconds > 0).then(|| Duration::from_secs(seconds)))
}

/// A blank-separated list of files; `none` is none.
pub(crate) fn file_list(value: &str) -> Vec<PathBuf> {
    if value.eq_ignore_ascii_case("none") {
        return Vec::new();
    }
    value.split_whitespace().map(expand_tilde).collect()
}

/// `~/x` is `$HOME/x`, as ssh expands paths.
pub(crate) fn expand_tilde(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(path),
    }
}

/// A comma-separated list of authentication method names.
pub(crate) fn parse_methods(list: &str) -> Result<Vec<AuthMethod>, String> {
    list.split(',')
        .filter(|name| !name.is_empty())
        .map(|name| {
            AuthMethod::from_name(name)
                .ok_or_else(|| format!("command-line: unknown authentication method {name:?}"))
        })
        .collect()
}

/// A `HostKeyAlgorithms` entry: a signature algorithm in its plain or its
/// certificate (`-cert-v01@openssh.com`) form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HostKeyAlgorithm {
    pub(crate) signature: SignatureAlgorithm,
    pub(crate) certificate: bool,
}

impl HostKeyAlgorithm {
    pub(crate) fn name(self) -> &'static str {
        if self.certificate {
            self.signature.certificate_name()
        } else {
            self.signature.name()
        }
    }

    /// Both forms of `algorithms`, certificates first, as ssh orders them.
    pub(crate) fn both_forms(algorithms: &[SignatureAlgorithm]) -> Vec<Self> {
        let form = |certificate| {
            algorithms.iter().map(move |&signature| Self {
                signature,
                certificate,
            })
        };
        form(true).chain(form(false)).collect()
    }
}

/// An ssh algorithm list: a plain list replaces the default; `+list` appends to it,
/// `-list` removes from it and `^list` puts first, where patterns may use `*` and
/// `?` (ssh_config(5), "Ciphers").
pub(crate) fn algorithm_list<T: Copy + PartialEq>(
    option: &str,
    spec: Option<&str>,
    default: &[T],
    all: &[T],
    name: fn(T) -> &'static str,
) -> Result<Vec<T>, String> {
    let Some(spec) = spec else {
        return Ok(default.to_vec());
    };
    let matching = |list: &str| -> Result<Vec<T>, String> {
        let mut out = Vec::new();
        for pattern in list.split(',') {
            let found: Vec<T> = all
                .iter()
                .copied()
                .filter(|a| glob_matches(pattern, name(*a)))
                .collect();
            if found.is_empty() && !pattern.contains(['*', '?']) {
                return Err(format!("{option}: unsupported algorithm {pattern:?}"));
            }
            out.extend(
                found
                    .into_iter()
                    .filter(|a| !out.contains(a))
                    .collect::<Vec<_>>(),
            );
        }
        Ok(out)
    };
    let list = if let Some(rest) = spec.strip_prefix('+') {
        let mut list = default.to_vec();
        list.extend(matching(rest)?.into_iter().filter(|a| !default.contains(a)));
        list
    } else if let Some(rest) = spec.strip_prefix('-') {
        let removed = matching(rest)?;
        default
            .iter()
            .copied()
            .filter(|a| !removed.contains(a))
            .collect()
    } else if let Some(rest) = spec.strip_prefix('^') {
        let first = matching(rest)?;
        let rest = default.iter().copied().filter(|a| !first.contains(a));
        first.iter().copied().chain(rest).collect()
    } else {
        matching(spec)?
    };
    if list.is_empty() {
        return Err(format!("{option}: no algorithm left in {spec:?}"));
    }
    Ok(list)
}
