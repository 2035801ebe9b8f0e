//! `known_hosts`: the client's record of host keys, read, queried and edited as
//! OpenSSH does (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT", ssh-keygen(1) `-F`, `-H`, `-R`).
//!
//! The parser takes the file's text and never fails as a whole: each line is a host key
//! [`Entry`], a comment or blank line, or an [`InvalidLine`] reported with its number and
//! skipped, so one bad line never hides the others. A line reads
//!
//! ```text
//! [@cert-authority|@revoked] host-patterns key-type base64-key [comment]
//! ```
//!
//! where the host patterns are a comma list of names with `*`, `?` and `!` negation
//! ([`crate::host_pattern`]), a host on a port other than 22 is written `[host]:port`,
//! and a hashed field `|1|salt|hash` stands for exactly one name.
//!
//! A lookup answers a [`HostKeyStatus`] with OpenSSH's precedence: a `@revoked` key
//! wins over everything; then a recorded key equal to the presented one makes it
//! [`Trusted`](HostKeyStatus::Trusted); then any other key recorded for the host makes it
//! [`Changed`](HostKeyStatus::Changed) (whatever its type: OpenSSH 10 warns of a changed
//! host even when only a key of another type is on record); otherwise the host is
//! [`Unknown`](HostKeyStatus::Unknown). Host certificates are trusted through
//! `@cert-authority` lines and otherwise judged by the key they certify
//! ([`KnownHosts::check_certificate`]).
//!
//! ```
//! use sansh_core::crypto::SeededRandom;
//! use sansh_core::keys::{KeyType, PrivateKey};
//! use sansh_core::known_hosts::{HostKeyStatus, KnownHosts};
//!
//! let rng = &mut SeededRandom::new(1);
//! let key = PrivateKey::generate(KeyType::Ed25519, None, rng)?.public_key();
//! let mut known = KnownHosts::parse("# my hosts\n");
//! assert_eq!(known.check("Example.org", 2222, &key), HostKeyStatus::Unknown);
//!
//! let line = known.add_hashed("example.org", 2222, &key, rng)?;
//! assert!(line.starts_with("|1|"));
//! assert_eq!(known.check("example.org", 2222, &key), HostKeyStatus::Trusted { line: 2 });
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod entry;
mod hashed;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;

use std::time::SystemTime;

pub use entry::{Entry, HostPatterns, Marker, RecordedKey};
pub use hashed::{HashedHost, SALT_LEN};

use crate::crypto::SecureRandom;
use crate::key_field::{line_content, numbered_lines};
use crate::keys::{
    CertType, Certificate, CertificateCheck, CertificateError, DEFAULT_CA_ALGORITHMS, KeyError,
    PublicKey,
};

/// The SSH port, which `known_hosts` names leave implicit.
const DEFAULT_PORT: u16 = 22;

/// Why a line was skipped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KnownHostsError {
    /// A word starting with `@` that is not `@cert-authority` or `@revoked`.
    #[error("unknown marker {0:?} (expected @cert-authority or @revoked)")]
    InvalidMarker(String),
    /// Two markers on one line.
    #[error("more than one marker")]
    MultipleMarkers,
    /// The line ends (or a comment starts) before the key.
    #[error("no key after the host names")]
    MissingKey,
    /// A host field starting with `|` that is not `|1|salt|hash` with a 20-byte salt.
    #[error("malformed hashed host name")]
    InvalidHashedHost,
    /// A certificate where a plain key is expected (only `@revoked` lines may hold one).
    #[error("a certificate cannot be recorded as a host key")]
    CertificateAsKey,
    /// The key type, base64 or key blob is not valid.
    #[error("invalid key: {0}")]
    InvalidKey(KeyError),
    /// A host name to record that would read back as a pattern or marker (empty, or
    /// holding a blank, `,`, `*`, `?`, `!`, brackets, or starting with `|` or `@`).
    #[error("{0:?} cannot be recorded as a host name")]
    InvalidHostName(String),
}

/// A line that was skipped, with its number (from 1) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {error}")]
pub struct InvalidLine {
    /// The line number.
    pub line: usize,
    /// What is wrong with it.
    pub error: KnownHostsError,
}

/// A key recorded for a host, as reported in [`HostKeyStatus::Changed`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyOnRecord {
    /// The line it is on.
    pub line: usize,
    /// The key.
    pub key: RecordedKey,
}

/// The verdict on a host's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKeyStatus {
    /// The key (or, for a certificate, its CA) is recorded for the host on `line`.
    Trusted {
        /// The line that vouches for it.
        line: usize,
    },
    /// The key, or the CA that signed the certificate, is marked `@revoked` on `line`.
    /// Never connect.
    Revoked {
        /// The `@revoked` line.
        line: usize,
    },
    /// Other keys are recorded for the host: it may be impersonated (or rekeyed).
    Changed {
        /// Every plain key recorded for the host, in file order.
        keys_on_record: Vec<KeyOnRecord>,
    },
    /// Nothing is recorded for the host: trust on first use is the caller's call.
    Unknown,
}

/// The verdict on a host certificate, and why a CA-signed certificate was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateLookup {
    /// The verdict: trusted through a `@cert-authority` line, or else the verdict on
    /// the certified key as a plain key, as OpenSSH falls back to it.
    pub status: HostKeyStatus,
    /// Why the certificate was refused although a `@cert-authority` line for the host
    /// names its CA (expired, wrong principal, critical options, bad signature).
    pub rejection: Option<CertificateError>,
}

/// The result of removing a host, as `ssh-keygen -R` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    /// The new file text: every line kept as written, each ended by `\n`.
    pub text: String,
    /// The numbers of the removed lines.
    pub removed_lines: Vec<usize>,
}

/// A parsed `known_hosts` file.
#[derive(Debug, Clone, Default)]
pub struct KnownHosts {
    /// Every line as written (without its `\n`), for rewriting the file.
    lines: Vec<String>,
    entries: Vec<Entry>,
    invalid: Vec<InvalidLine>,
}

/// The name a host is recorded under: lowercase, and `[host]:port` unless the port is
/// 22 (or 0, meaning "no port", as for a `HostKeyAlias`).
///
/// ```
/// use sansh_core::known_hosts::host_port_name;
///
/// assert_eq!(host_port_name("Example.ORG", 22), "example.org");
/// assert_eq!(host_port_name("::1", 2222), "[::1]:2222");
/// ```
pub fn host_port_name(host: &str, port: u16) -> String {
    let host = host.to_ascii_lowercase();
    if port == 0 || port == DEFAULT_PORT {
        host
    } else {
        format!("[{host}]:{port}")
    }
}

/// A name written to a new line must match only itself when read back.
fn check_recordable(host: &str) -> Result<(), KnownHostsError> {
    let pattern_like = host.is_empty()
        || host.starts_with(['|', '@'])
        || host
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || ",*?![]#".contains(c));
    if pattern_like {
        Err(KnownHostsError::InvalidHostName(host.to_owned()))
    } else {
        Ok(())
    }
}

impl KnownHosts {
    /// Parses a `known_hosts` file's text. Never fails: bad lines are collected in
    /// [`Self::invalid_lines`].
    pub fn parse(text: &str) -> Self {
        let mut known = Self::default();
        for (number, raw) in numbered_lines(text) {
            known.lines.push(raw.to_owned());
            match entry::parse_line(number, line_content(raw)) {
                Ok(Some(entry)) => known.entries.push(entry),
                Ok(None) => {}
                Err(error) => known.invalid.push(InvalidLine {
                    line: number,
                    error,
                }),
            }
        }
        known
    }

    /// The host key lines, in file order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The skipped lines, in file order.
    pub fn invalid_lines(&self) -> &[InvalidLine] {
        &self.invalid
    }

    /// The lines that apply to `host` on `port`, markers included: what
    /// `ssh-keygen -F` lists (it hashes the name as typed, where we lowercase it, as
    /// ssh does).
    pub fn find<'a>(&'a self, host: &str, port: u16) -> impl Iterator<Item = &'a Entry> + 'a {
        let name = host_port_name(host, port);
        self.entries.iter().filter(move |e| e.matches(&name))
    }

    /// Judges the plain `key` presented by `host` on `port`.
    ///
    /// When nothing is recorded under `[host]:port` for a port other than 22, the key
    /// is also looked for under the bare host name and trusted if found there, as ssh
    /// does. A CheckHostIP-style check is the same call with the address as `host`.
    pub fn check(&self, host: &str, port: u16, key: &PublicKey) -> HostKeyStatus {
        let status = self.check_name(&host_port_name(host, port), key);
        if status == HostKeyStatus::Unknown && port != 0 && port != DEFAULT_PORT {
            let bare = self.check_name(&host_port_name(host, 0), key);
            if matches!(bare, HostKeyStatus::Trusted { .. }) {
                return bare;
            }
        }
        status
    }

    fn check_name(&self, name: &str, key: &PublicKey) -> HostKeyStatus {
        let mut trusted = None;
        let mut keys_on_record = Vec::new();
        for entry in self.entries.iter().filter(|e| e.matches(name)) {
            match entry.marker {
                Some(Marker::Revoked) if entry.key.is(key) => {
                    return HostKeyStatus::Revoked { line: entry.line };
                }
                None => {
                    if trusted.is_none() && entry.key.is(key) {
                        trusted = Some(entry.line);
                    }
                    keys_on_record.push(KeyOnRecord {
                        line: entry.line,
                        key: entry.key.clone(),
                    });
                }
                Some(_) => {}
            }
        }
        match trusted {
            Some(line) => HostKeyStatus::Trusted { line },
            None if keys_on_record.is_empty() => HostKeyStatus::Unknown,
            None => HostKeyStatus::Changed { keys_on_record },
        }
    }

    /// Judges a host certificate presented by `host` on `port` at wall-clock time
    /// `now` (the caller's clock).
    ///
    /// As ssh does: the certificate is revoked if its key or its CA key is `@revoked`
    /// for the host; it is trusted if a `@cert-authority` line for the host names its CA
    /// and it is a valid host certificate for `host` (CA signature with an algorithm of
    /// [`DEFAULT_CA_ALGORITHMS`], validity window, `host` among the principals when any
    /// are listed, no critical options). Otherwise the certified key is judged as a
    /// plain key by [`Self::check`], and [`CertificateLookup::rejection`] says why a
    /// CA-vouched certificate was refused.
    pub fn check_certificate(
        &self,
        host: &str,
        port: u16,
        cert: &Certificate,
        now: SystemTime,
    ) -> CertificateLookup {
        let name = host_port_name(host, port);
        let matching = || self.entries.iter().filter(|e| e.matches(&name));
        let revoked = matching().find(|e| {
            e.marker == Some(Marker::Revoked)
                && (e.key.is(cert.key()) || e.key.is(cert.signature_key()))
        });
        if let Some(entry) = revoked {
            return CertificateLookup {
                status: HostKeyStatus::Revoked { line: entry.line },
                rejection: None,
            };
        }
        let mut rejection = None;
        let authority = matching()
            .find(|e| e.marker == Some(Marker::CertAuthority) && e.key.is(cert.signature_key()));
        if let Some(entry) = authority {
            match validate_host_certificate(cert, &host.to_ascii_lowercase(), now) {
                Ok(()) => {
                    return CertificateLookup {
                        status: HostKeyStatus::Trusted { line: entry.line },
                        rejection: None,
                    };
                }
                Err(error) => rejection = Some(error),
            }
        }
        CertificateLookup {
            status: self.check(host, port, cert.key()),
            rejection,
        }
    }

    /// Records `key` for `host` on `port` and returns the line to append to the file
    /// (without its `\n`): `name keytype base64`, as ssh writes it. A name that would
    /// read back as a pattern (see [`KnownHostsError::InvalidHostName`]) is refused.
    pub fn add(
        &mut self,
        host: &str,
        port: u16,
        key: &PublicKey,
    ) -> Result<String, KnownHostsError> {
        check_recordable(host)?;
        let hosts = HostPatterns::List(host_port_name(host, port));
        Ok(self.push_entry(hosts, key))
    }

    /// Like [`Self::add`], with the name hashed under a fresh salt from `rng`
    /// (`HashKnownHosts yes`): `|1|salt|hash keytype base64`.
    pub fn add_hashed(
        &mut self,
        host: &str,
        port: u16,
        key: &PublicKey,
        rng: &mut dyn SecureRandom,
    ) -> Result<String, KnownHostsError> {
        check_recordable(host)?;
        let hosts = HostPatterns::Hashed(HashedHost::new(&host_port_name(host, port), rng));
        Ok(self.push_entry(hosts, key))
    }

    fn push_entry(&mut self, hosts: HostPatterns, key: &PublicKey) -> String {
        let text = format!("{hosts} {}", key.to_openssh(""));
        self.lines.push(text.clone());
        self.entries.push(Entry {
            line: self.lines.len(),
            marker: None,
            hosts,
            key: RecordedKey::Key(key.clone()),
            comment: String::new(),
        });
        text
    }

    /// Removes every unmarked line that applies to `host` on `port`, as
    /// `ssh-keygen -R` does: a line naming other hosts too goes as a whole;
    /// `@cert-authority` and `@revoked` lines, comments and invalid lines stay.
    pub fn remove_host(&self, host: &str, port: u16) -> Removal {
        let name = host_port_name(host, port);
        let removed_lines: Vec<usize> = self
            .entries
            .iter()
            .filter(|e| e.marker.is_none() && e.matches(&name))
            .map(|e| e.line)
            .collect();
        let mut text = String::new();
        for (index, line) in self.lines.iter().enumerate() {
            // Entries are in line order, so the removed numbers are sorted.
            if removed_lines.binary_search(&(index + 1)).is_err() {
                text.push_str(line);
                text.push('\n');
            }
        }
        Removal {
            text,
            removed_lines,
        }
    }
}

/// ssh's `check_host_cert`: a valid host certificate for `host`, with no critical
/// options (none is defined for host certificates).
fn validate_host_certificate(
    cert: &Certificate,
    host: &str,
    now: SystemTime,
) -> Result<(), CertificateError> {
    let check = CertificateCheck {
        cert_type: CertType::Host,
        principal: Some(host),
        require_principals: false,
        wildcard_principals: false,
        now,
        client_address: None,
        ca_algorithms: DEFAULT_CA_ALGORITHMS,
    };
    cert.validate(&check)?;
    match cert.critical_options().first() {
        Some(option) => Err(CertificateError::UnknownCriticalOption(option.name.clone())),
        None => Ok(()),
    }
}
