//! One `known_hosts` line: `[@marker] hosts keytype base64 [comment]`, read as
//! OpenSSH's `hostkeys_foreach` reads it.

use super::{HashedHost, KnownHostsError};
use crate::host_pattern::{ListMatch, match_host_name};
use crate::key_field::{FieldKey, parse_key_field, split_field, trim_blanks_start};
use crate::keys::{Certificate, PublicKey};

/// The marker that may open a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Marker {
    /// `@cert-authority`: the key is a CA trusted to sign host certificates for the
    /// hosts of the line.
    CertAuthority,
    /// `@revoked`: the key must never be accepted (nor certificates it signed, nor the
    /// certificates' own keys).
    Revoked,
}

impl Marker {
    /// The marker as written, `@cert-authority` or `@revoked`.
    pub fn as_str(self) -> &'static str {
        match self {
            Marker::CertAuthority => "@cert-authority",
            Marker::Revoked => "@revoked",
        }
    }
}

/// The host field of a line.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum HostPatterns {
    /// A comma-separated list of patterns (`*`, `?`, `!` negation, `[host]:port`).
    List(String),
    /// One hashed name.
    Hashed(HashedHost),
}

impl HostPatterns {
    /// Whether the field selects `name` (in `known_hosts` form, lowercase): a hash of
    /// exactly that name, or a list with a positive and no negated match.
    pub fn matches(&self, name: &str) -> bool {
        match self {
            HostPatterns::List(list) => match_host_name(name, list) == ListMatch::Positive,
            HostPatterns::Hashed(hashed) => hashed.matches(name),
        }
    }
}

impl std::fmt::Display for HostPatterns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HostPatterns::List(list) => f.write_str(list),
            HostPatterns::Hashed(hashed) => hashed.fmt(f),
        }
    }
}

/// The key a line records.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RecordedKey {
    /// A key of a type this crate supports.
    Key(PublicKey),
    /// A well-formed key of a type OpenSSH knows and this crate does not (FIDO
    /// `sk-*` keys). It never matches a presented key, but it still counts as a key on
    /// record for its hosts, so a different key for them is [`Changed`], as in OpenSSH.
    ///
    /// [`Changed`]: super::HostKeyStatus::Changed
    Unsupported {
        /// The key type name, e.g. `sk-ssh-ed25519@openssh.com`.
        key_type: String,
        /// The key blob.
        blob: Vec<u8>,
    },
}

impl RecordedKey {
    /// The key, when its type is supported.
    pub fn public_key(&self) -> Option<&PublicKey> {
        match self {
            RecordedKey::Key(key) => Some(key),
            RecordedKey::Unsupported { .. } => None,
        }
    }

    /// The key type name as written in the file.
    pub fn key_type_name(&self) -> &str {
        match self {
            RecordedKey::Key(key) => key.key_type().name(),
            RecordedKey::Unsupported { key_type, .. } => key_type,
        }
    }

    pub(super) fn is(&self, key: &PublicKey) -> bool {
        self.public_key() == Some(key)
    }
}

/// One host key line of a `known_hosts` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub(super) line: usize,
    pub(super) marker: Option<Marker>,
    pub(super) hosts: HostPatterns,
    pub(super) key: RecordedKey,
    pub(super) comment: String,
}

impl Entry {
    /// The line number (from 1) in the text it was read from.
    pub fn line(&self) -> usize {
        self.line
    }

    /// The line's marker, if any.
    pub fn marker(&self) -> Option<Marker> {
        self.marker
    }

    /// The host field.
    pub fn hosts(&self) -> &HostPatterns {
        &self.hosts
    }

    /// The recorded key (for `@cert-authority`, the CA key).
    pub fn key(&self) -> &RecordedKey {
        &self.key
    }

    /// The comment after the key (empty when absent).
    pub fn comment(&self) -> &str {
        &self.comment
    }

    /// Whether the line applies to `name` (in `known_hosts` form: see
    /// [`host_port_name`](super::host_port_name)).
    pub fn matches(&self, name: &str) -> bool {
        self.hosts.matches(name)
    }
}

/// Reads one line: `Ok(None)` for blank and comment lines.
pub(super) fn parse_line(number: usize, text: &str) -> Result<Option<Entry>, KnownHostsError> {
    let rest = trim_blanks_start(text);
    if rest.is_empty() || rest.starts_with('#') {
        return Ok(None);
    }
    let (marker, rest) = read_marker(rest)?;
    let (hosts, rest) = split_field(rest);
    if rest.is_empty() || rest.starts_with('#') {
        return Err(KnownHostsError::MissingKey);
    }
    let hosts = if hosts.starts_with('|') {
        HostPatterns::Hashed(HashedHost::parse(hosts)?)
    } else {
        HostPatterns::List(hosts.to_owned())
    };
    let (key, comment) = parse_key_field(rest).map_err(KnownHostsError::InvalidKey)?;
    let key = match key {
        FieldKey::Key(key) => RecordedKey::Key(key),
        FieldKey::Unsupported { key_type, blob } => RecordedKey::Unsupported { key_type, blob },
        // A revoked certificate revokes the key inside it (OpenSSH compares public
        // halves); anywhere else a certificate can never match, so it is refused.
        FieldKey::Certificate(cert) if marker == Some(Marker::Revoked) => {
            RecordedKey::Key(Certificate::key(&cert).clone())
        }
        FieldKey::Certificate(_) => return Err(KnownHostsError::CertificateAsKey),
    };
    Ok(Some(Entry {
        line: number,
        marker,
        hosts,
        key,
        comment: comment.to_owned(),
    }))
}

/// OpenSSH's marker lengths: a marker is at most 31 bytes.
const MAX_MARKER_LEN: usize = 31;

/// Reads the marker at the start of `s`, as OpenSSH's `check_markers` does: the marker
/// ends at the first space in the line (or, lacking one, the first tab), and only one
/// marker is allowed.
fn read_marker(s: &str) -> Result<(Option<Marker>, &str), KnownHostsError> {
    let mut marker = None;
    let mut rest = s;
    while rest.starts_with('@') {
        if marker.is_some() {
            return Err(KnownHostsError::MultipleMarkers);
        }
        let end = rest
            .find(' ')
            .or_else(|| rest.find('\t'))
            .ok_or_else(|| invalid_marker(rest))?;
        let word = rest.get(..end).unwrap_or(rest);
        marker = Some(match word {
            "@cert-authority" => Marker::CertAuthority,
            "@revoked" => Marker::Revoked,
            _ => return Err(invalid_marker(word)),
        });
        rest = trim_blanks_start(rest.get(end..).unwrap_or(""));
    }
    Ok((marker, rest))
}

fn invalid_marker(word: &str) -> KnownHostsError {
    let mut end = word.len().min(MAX_MARKER_LEN + 1);
    while !word.is_char_boundary(end) {
        end -= 1;
    }
    KnownHostsError::InvalidMarker(word.get(..end).unwrap_or_default().to_owned())
}
