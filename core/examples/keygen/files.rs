//! File plumbing: reading inputs, writing key files with ssh-keygen's permissions, and
//! the `user@host` ssh-keygen puts in default comments.

use std::fs;
use std::io::{Read, Write};
use std::path::Path;

/// Reads a text file, or standard input for `-`.
pub(crate) fn read_text(path: &str) -> Result<String, String> {
    if path == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("standard input: {e}"))?;
        return Ok(text);
    }
    fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))
}

/// Reads a text file if it exists and is readable.
pub(crate) fn read_optional(path: &str) -> Option<String> {
    fs::read_to_string(path).ok()
}

/// Whether `path` exists.
pub(crate) fn exists(path: &str) -> bool {
    Path::new(path).exists()
}

/// Writes a private key file readable by its owner only (0600), replacing any file
/// there (and tightening its mode).
pub(crate) fn write_private(path: &str, contents: &str) -> Result<(), String> {
    write(path, contents, 0o600)
}

/// Writes a public file (0644), replacing any file there.
pub(crate) fn write_public(path: &str, contents: &str) -> Result<(), String> {
    write(path, contents, 0o644)
}

fn write(path: &str, contents: &str, mode: u32) -> Result<(), String> {
    let fail = |e: std::io::Error| format!("cannot write {path}: {e}");
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(mode);
        let file = options.open(path).map_err(fail)?;
        // The mode above applies only to a new file: set it on an old one too.
        file.set_permissions(fs::Permissions::from_mode(mode))
            .map_err(fail)?;
        write_all(file, contents).map_err(fail)
    }
    #[cfg(not(unix))]
    {
        let _ = mode;
        write_all(options.open(path).map_err(fail)?, contents).map_err(fail)
    }
}

fn write_all(mut file: fs::File, contents: &str) -> std::io::Result<()> {
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

/// `user@host`, as ssh-keygen names the creator in default comments: the login name of
/// the process's user (from the password file) and the kernel's host name.
pub(crate) fn user_at_host() -> String {
    format!("{}@{}", user_name(), host_name())
}

fn user_name() -> String {
    let uid = read_optional("/proc/self/status").and_then(|status| {
        status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().next().map(str::to_owned))
    });
    let from_passwd = uid.and_then(|uid| {
        read_optional("/etc/passwd")?.lines().find_map(|line| {
            let mut fields = line.split(':');
            let name = fields.next()?;
            (fields.nth(1)? == uid).then(|| name.to_owned())
        })
    });
    from_passwd
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "user".into())
}

fn host_name() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|p| read_optional(p).map(|h| h.trim().to_owned()))
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// Where `ssh-keygen -s` writes the certificate of `public_path`: its name without a
/// `.pub` suffix, then `-cert.pub`.
pub(crate) fn certificate_path(public_path: &str) -> String {
    let stem = public_path.strip_suffix(".pub").unwrap_or(public_path);
    format!("{stem}-cert.pub")
}
