//! `authorized_keys`: which keys and certificate authorities may log in as a user, and
//! with what permissions, read and applied as sshd does (sshd(8) "AUTHORIZED_KEYS FILE
//! FORMAT").
//!
//! A line is `[options] keytype base64 [comment]`; the options ([`KeyOptions`]) restrict
//! where the key may be used from (`from=`), until when (`expiry-time=`), what it may
//! do ([`Permissions`]), and make it a certificate authority (`cert-authority`, with
//! `principals=`). The parser takes the file's text and never fails as a whole: bad
//! lines are reported with their numbers ([`InvalidLine`]) and skipped.
//!
//! [`AuthorizedKeys::authorize`] answers one authentication attempt: the first line
//! whose key is the presented key (or, for a certificate, whose `cert-authority` key
//! signed it) and whose options admit the client gives the effective [`Permissions`];
//! lines that hold the key but refuse the client are listed in [`NotAuthorized`].
//!
//! ```
//! use std::time::SystemTime;
//! use sansh_core::authorized_keys::{AuthorizationRequest, AuthorizedKeys};
//! use sansh_core::crypto::SeededRandom;
//! use sansh_core::keys::{KeyType, PrivateKey};
//!
//! let key = PrivateKey::generate(KeyType::Ed25519, None, &mut SeededRandom::new(1))?
//!     .public_key();
//! let text = format!(
//!     "from=\"10.0.0.0/8\",command=\"backup --daily\",restrict {}\n",
//!     key.to_openssh("backup@example.org"),
//! );
//! let keys = AuthorizedKeys::parse(&text);
//!
//! let inside = AuthorizationRequest::new("alice", &key, "10.1.2.3".parse()?, SystemTime::UNIX_EPOCH);
//! let granted = keys.authorize(&inside).expect("accepted");
//! assert_eq!(granted.permissions.force_command.as_deref(), Some("backup --daily"));
//! assert!(!granted.permissions.pty);
//!
//! let outside = AuthorizationRequest::new("alice", &key, "192.0.2.1".parse()?, SystemTime::UNIX_EPOCH);
//! assert!(keys.authorize(&outside).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod expiry;
mod options;
mod permissions;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;

use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

pub use options::{KeyOptions, OptionError};
pub use permissions::{EnvVar, ForwardPermission, Permissions, TunnelDevice};

use crate::host_pattern::{PatternError, canonical_address, match_host_and_address};
use crate::key_field::{
    FieldKey, is_blank, is_key_type_name, line_content, numbered_lines, parse_key_field,
    split_field, trim_blanks_start,
};
use crate::keys::{
    CertType, Certificate, CertificateCheck, CertificateError, DEFAULT_CA_ALGORITHMS, KeyError,
    PublicKey,
};

/// Why a line was skipped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthorizedKeysError {
    /// The options field opens a double quote and never closes it.
    #[error("unterminated quote in the options")]
    UnterminatedQuote,
    /// The options field is not valid.
    #[error("bad options: {0}")]
    Options(#[from] OptionError),
    /// No valid key follows the options.
    #[error("invalid key: {0}")]
    InvalidKey(KeyError),
    /// A key of a type OpenSSH knows but this crate cannot verify (FIDO `sk-*`).
    #[error("key type {0:?} is not supported")]
    UnsupportedKeyType(String),
    /// A certificate where a key is expected.
    #[error("a certificate cannot be an authorized key")]
    CertificateAsKey,
}

/// A line that was skipped, with its number (from 1) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {error}")]
pub struct InvalidLine {
    /// The line number.
    pub line: usize,
    /// What is wrong with it.
    pub error: AuthorizedKeysError,
}

/// One key line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizedKey {
    /// The line number (from 1).
    pub line: usize,
    /// The options before the key.
    pub options: KeyOptions,
    /// The key (for `cert-authority`, the CA key).
    pub key: PublicKey,
    /// The comment after the key (empty when absent).
    pub comment: String,
}

/// The key offered in an authentication attempt.
#[derive(Debug, Clone, Copy)]
pub enum PresentedKey<'a> {
    /// A plain public key.
    Key(&'a PublicKey),
    /// A user certificate.
    Certificate(&'a Certificate),
}

impl<'a> From<&'a PublicKey> for PresentedKey<'a> {
    fn from(key: &'a PublicKey) -> Self {
        PresentedKey::Key(key)
    }
}

impl<'a> From<&'a Certificate> for PresentedKey<'a> {
    fn from(cert: &'a Certificate) -> Self {
        PresentedKey::Certificate(cert)
    }
}

/// An authentication attempt to judge.
///
/// The signature over the session must already have been verified: this only decides
/// whether the key may log in as `user` and with what permissions.
#[derive(Debug, Clone, Copy)]
pub struct AuthorizationRequest<'a> {
    /// The user logging in (matched against certificate principals).
    pub user: &'a str,
    /// The key or certificate offered.
    pub key: PresentedKey<'a>,
    /// The client's address.
    pub client_address: IpAddr,
    /// The client's host name for `from=` patterns, if the server resolves names
    /// (`UseDNS yes`); otherwise the address text is used, as sshd does.
    pub client_host: Option<&'a str>,
    /// The current wall-clock time (the caller's clock: the engine reads none).
    pub now: SystemTime,
}

impl<'a> AuthorizationRequest<'a> {
    /// An attempt by `key` to log in as `user` from `client_address` at `now`.
    pub fn new(
        user: &'a str,
        key: impl Into<PresentedKey<'a>>,
        client_address: IpAddr,
        now: SystemTime,
    ) -> Self {
        Self {
            user,
            key: key.into(),
            client_address,
            client_host: None,
            now,
        }
    }

    /// Sets the client's resolved host name for `from=` patterns.
    pub fn client_host(mut self, host: &'a str) -> Self {
        self.client_host = Some(host);
        self
    }
}

/// An accepted attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// The line that accepted it.
    pub line: usize,
    /// What the session may do.
    pub permissions: Permissions,
}

/// Why a line holding the presented key (or its CA) refused the attempt.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RefusalReason {
    /// `expiry-time` has passed.
    #[error("the key expired at {expired_at} (Unix time)")]
    Expired {
        /// The line's expiry time, seconds since the Unix epoch.
        expired_at: u64,
    },
    /// `principals=` on a line without `cert-authority` (sshd refuses such lines).
    #[error("principals= on a key that is not a cert-authority")]
    PrincipalsWithoutCertAuthority,
    /// The client is not in the `from=` list.
    #[error("the client is not permitted by from=")]
    FromNotPermitted,
    /// The `from=` list is invalid, which refuses everyone.
    #[error("invalid from= list: {0}")]
    InvalidFrom(PatternError),
    /// The certificate is not valid for this user now (signature, type, validity,
    /// principal, critical options, `source-address`).
    #[error("certificate refused: {0}")]
    Certificate(CertificateError),
    /// A known certificate extension carries data it must not have.
    #[error("certificate option {0:?} is corrupt")]
    CorruptCertificateOption(String),
    /// None of the certificate's principals is listed by `principals=`.
    #[error("no certificate principal is listed by principals=")]
    PrincipalNotAuthorized,
    /// The line's `command=` and the certificate's `force-command` differ.
    #[error("command= and the certificate's force-command differ")]
    ForceCommandMismatch,
}

/// A line that holds the presented key but refused the attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The line.
    pub line: usize,
    /// Why.
    pub reason: RefusalReason,
}

/// A refused attempt: the lines that hold the key (or its CA) and why each refused.
/// No refusals means no line holds the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", describe_refusals(&self.refusals))]
pub struct NotAuthorized {
    /// Each candidate line's refusal, in file order.
    pub refusals: Vec<Refusal>,
}

fn describe_refusals(refusals: &[Refusal]) -> String {
    if refusals.is_empty() {
        return "no authorized_keys line holds this key".to_owned();
    }
    let parts: Vec<String> = refusals
        .iter()
        .map(|r| format!("line {}: {}", r.line, r.reason))
        .collect();
    parts.join("; ")
}

/// A parsed `authorized_keys` file.
#[derive(Debug, Clone, Default)]
pub struct AuthorizedKeys {
    entries: Vec<AuthorizedKey>,
    invalid: Vec<InvalidLine>,
}

impl AuthorizedKeys {
    /// Parses an `authorized_keys` file's text. Never fails: bad lines are collected
    /// in [`Self::invalid_lines`].
    pub fn parse(text: &str) -> Self {
        let mut keys = Self::default();
        for (number, raw) in numbered_lines(text) {
            match parse_line(number, line_content(raw)) {
                Ok(Some(entry)) => keys.entries.push(entry),
                Ok(None) => {}
                Err(error) => keys.invalid.push(InvalidLine {
                    line: number,
                    error,
                }),
            }
        }
        keys
    }

    /// The key lines, in file order.
    pub fn entries(&self) -> &[AuthorizedKey] {
        &self.entries
    }

    /// The skipped lines, in file order.
    pub fn invalid_lines(&self) -> &[InvalidLine] {
        &self.invalid
    }

    /// Judges an authentication attempt, as sshd's `auth_check_authkey_line` does for
    /// each line in turn.
    ///
    /// A plain key is a candidate on lines holding it without `cert-authority`; a
    /// certificate on `cert-authority` lines holding its CA key. The first candidate
    /// line that admits the attempt wins: its `expiry-time` has not passed, `from=`
    /// admits the client, and for a certificate, the certificate is valid now for
    /// `user` (or for one of the `principals=`), its options are sound and its forced
    /// command agrees with the line's. The permissions are the line's, and for a
    /// certificate also limited by what the certificate grants.
    pub fn authorize(
        &self,
        request: &AuthorizationRequest<'_>,
    ) -> Result<Authorization, NotAuthorized> {
        let mut refusals = Vec::new();
        for entry in self.entries.iter().filter(|e| e.is_candidate(request.key)) {
            match entry.admit(request) {
                Ok(permissions) => {
                    return Ok(Authorization {
                        line: entry.line,
                        permissions,
                    });
                }
                Err(reason) => refusals.push(Refusal {
                    line: entry.line,
                    reason,
                }),
            }
        }
        Err(NotAuthorized { refusals })
    }
}

impl AuthorizedKey {
    fn is_candidate(&self, presented: PresentedKey<'_>) -> bool {
        match presented {
            PresentedKey::Key(key) => !self.options.cert_authority && self.key == *key,
            PresentedKey::Certificate(cert) => {
                self.options.cert_authority && self.key == *cert.signature_key()
            }
        }
    }

    fn admit(&self, request: &AuthorizationRequest<'_>) -> Result<Permissions, RefusalReason> {
        let options = &self.options;
        let now = request
            .now
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        if let Some(expired_at) = options.expiry_time {
            if now > 0 && expired_at < now {
                return Err(RefusalReason::Expired { expired_at });
            }
        }
        if options.principals.is_some() && !options.cert_authority {
            return Err(RefusalReason::PrincipalsWithoutCertAuthority);
        }
        if let Some(from) = &options.from {
            let address = canonical_address(request.client_address);
            let address_text = address.to_string();
            let host = request.client_host.unwrap_or(&address_text);
            match match_host_and_address(host, address, from) {
                Ok(true) => {}
                Ok(false) => return Err(RefusalReason::FromNotPermitted),
                Err(error) => return Err(RefusalReason::InvalidFrom(error)),
            }
        }
        match request.key {
            PresentedKey::Key(_) => Ok(options.permissions.clone()),
            PresentedKey::Certificate(cert) => self.admit_certificate(cert, request),
        }
    }

    fn admit_certificate(
        &self,
        cert: &Certificate,
        request: &AuthorizationRequest<'_>,
    ) -> Result<Permissions, RefusalReason> {
        let principals = self.options.principals.as_deref();
        let check = CertificateCheck {
            cert_type: CertType::User,
            // With principals=, the user name need not be a principal.
            principal: if principals.is_some() {
                None
            } else {
                Some(request.user)
            },
            require_principals: false,
            wildcard_principals: false,
            now: request.now,
            client_address: Some(canonical_address(request.client_address)),
            ca_algorithms: DEFAULT_CA_ALGORITHMS,
        };
        cert.validate(&check).map_err(RefusalReason::Certificate)?;
        let granted = Permissions::from_certificate(cert)?;
        if let Some(list) = principals {
            if !principal_listed(cert, list) {
                return Err(RefusalReason::PrincipalNotAuthorized);
            }
        }
        self.options.permissions.clone().merge(granted)
    }
}

/// Whether a certificate principal is in the `principals=` list: OpenSSH's
/// `match_list` of each principal against the list, exact names split at commas.
fn principal_listed(cert: &Certificate, list: &str) -> bool {
    cert.principals()
        .iter()
        .flat_map(|p| p.split(','))
        .any(|p| list.split(',').any(|allowed| allowed == p))
}

/// Reads one line: `Ok(None)` for blank and comment lines.
fn parse_line(number: usize, text: &str) -> Result<Option<AuthorizedKey>, AuthorizedKeysError> {
    let rest = trim_blanks_start(text);
    if rest.is_empty() || rest.starts_with('#') {
        return Ok(None);
    }
    let (first, _) = split_field(rest);
    let (options, key_text) = if is_key_type_name(first) {
        (KeyOptions::default(), rest)
    } else {
        let end = options_end(rest).ok_or(AuthorizedKeysError::UnterminatedQuote)?;
        let (field, after) = rest.split_at(end);
        (KeyOptions::parse(field)?, after)
    };
    let (key, comment) = parse_key_field(key_text).map_err(AuthorizedKeysError::InvalidKey)?;
    let key = match key {
        FieldKey::Key(key) => key,
        FieldKey::Certificate(_) => return Err(AuthorizedKeysError::CertificateAsKey),
        FieldKey::Unsupported { key_type, .. } => {
            return Err(AuthorizedKeysError::UnsupportedKeyType(key_type));
        }
    };
    Ok(Some(AuthorizedKey {
        line: number,
        options,
        key,
        comment: comment.to_owned(),
    }))
}

/// Where the options field ends: the first blank outside double quotes (`\"` never
/// toggles quoting), as OpenSSH's `sshkey_advance_past_options` finds it. `None` when
/// a quote is left open at the end of the line.
fn options_end(s: &str) -> Option<usize> {
    let mut quoted = false;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' if chars.peek().is_some_and(|&(_, next)| next == '"') => {
                chars.next();
            }
            '"' => quoted = !quoted,
            c if is_blank(c) && !quoted => return Some(i),
            _ => {}
        }
    }
    (!quoted).then_some(s.len())
}
