//! Validating a certificate for use: CA signature, type, validity window, principal
//! and critical options, as OpenSSH's `sshkey_cert_check_authority` does.

use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use super::certificate::{CertType, Certificate, critical};
use super::{KeyError, SignatureAlgorithm};

/// OpenSSH's default `CASignatureAlgorithms`: every algorithm but SHA-1 `ssh-rsa`.
pub const DEFAULT_CA_ALGORITHMS: &[SignatureAlgorithm] = &[
    SignatureAlgorithm::Ed25519,
    SignatureAlgorithm::EcdsaP256,
    SignatureAlgorithm::EcdsaP384,
    SignatureAlgorithm::EcdsaP521,
    SignatureAlgorithm::RsaSha2_512,
    SignatureAlgorithm::RsaSha2_256,
];

/// Why a certificate may not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertificateError {
    /// The CA signature does not verify.
    #[error("certificate signature is invalid: {0}")]
    BadSignature(KeyError),
    /// The CA signed with an algorithm not in the accepted list.
    #[error("certificate signed with disallowed algorithm {0:?}")]
    CaAlgorithmNotAllowed(String),
    /// A host certificate where a user one is needed, or the reverse.
    #[error("{found:?} certificate where a {expected:?} certificate is required")]
    WrongType {
        /// The type required.
        expected: CertType,
        /// The certificate's type.
        found: CertType,
    },
    /// The validity window has not started.
    #[error("certificate is not valid before {valid_after}")]
    NotYetValid {
        /// Start of validity, Unix seconds.
        valid_after: u64,
    },
    /// The validity window has ended.
    #[error("certificate expired at {valid_before}")]
    Expired {
        /// End of validity, Unix seconds.
        valid_before: u64,
    },
    /// The certificate lists no principals where one is required.
    #[error("certificate lacks a principal list")]
    NoPrincipals,
    /// The name asked for is not among the principals.
    #[error("name {0:?} is not listed as a principal")]
    PrincipalNotListed(String),
    /// A critical option we do not understand (which forbids using the certificate).
    #[error("unsupported critical option {0:?}")]
    UnknownCriticalOption(String),
    /// `source-address` is present but no client address was supplied to check.
    #[error("certificate restricts source address but none was supplied")]
    SourceAddressUnchecked,
    /// The client address is not in the `source-address` list.
    #[error("connection from {0} is not allowed by source-address")]
    SourceAddressDenied(IpAddr),
    /// The `source-address` list does not parse.
    #[error("invalid source-address list {0:?}")]
    InvalidSourceAddress(String),
}

/// What to check a certificate against.
#[derive(Clone, Debug)]
pub struct CertificateCheck<'a> {
    /// The type the certificate must have.
    pub cert_type: CertType,
    /// The user or host name it must be valid for, if any.
    pub principal: Option<&'a str>,
    /// Refuse a certificate with an empty principal list (OpenSSH does for user
    /// certificates under `TrustedUserCAKeys`; an empty list otherwise means "any").
    pub require_principals: bool,
    /// Treat host certificate principals as `*`/`?` patterns.
    pub wildcard_principals: bool,
    /// The current wall-clock time (the caller's clock: the engine reads none).
    pub now: SystemTime,
    /// The client's address, for `source-address`.
    pub client_address: Option<IpAddr>,
    /// CA signature algorithms accepted.
    pub ca_algorithms: &'a [SignatureAlgorithm],
}

impl<'a> CertificateCheck<'a> {
    /// Checks for `cert_type` at `now`, with OpenSSH's defaults: principals required
    /// for user certificates only, no wildcards, [`DEFAULT_CA_ALGORITHMS`].
    pub fn new(cert_type: CertType, now: SystemTime) -> Self {
        Self {
            cert_type,
            principal: None,
            require_principals: cert_type == CertType::User,
            wildcard_principals: false,
            now,
            client_address: None,
            ca_algorithms: DEFAULT_CA_ALGORITHMS,
        }
    }

    /// Requires the certificate to be valid for `principal`.
    pub fn principal(mut self, principal: &'a str) -> Self {
        self.principal = Some(principal);
        self
    }

    /// Supplies the client address for `source-address`.
    pub fn client_address(mut self, address: IpAddr) -> Self {
        self.client_address = Some(address);
        self
    }
}

impl Certificate {
    /// Checks that the certificate may be used now as `check` describes: CA signature,
    /// type, validity window (`valid_after <= now < valid_before`), principal, and
    /// critical options (unknown ones are refused; `source-address` is matched).
    ///
    /// It does not decide whether the CA is trusted, nor enforce `force-command` or
    /// `verify-required`: callers read those with the accessors.
    pub fn validate(&self, check: &CertificateCheck<'_>) -> Result<(), CertificateError> {
        self.verify_signature(check.ca_algorithms)?;
        if self.cert_type != check.cert_type {
            return Err(CertificateError::WrongType {
                expected: check.cert_type,
                found: self.cert_type,
            });
        }
        let now = check
            .now
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        if now < self.valid_after {
            return Err(CertificateError::NotYetValid {
                valid_after: self.valid_after,
            });
        }
        if now >= self.valid_before {
            return Err(CertificateError::Expired {
                valid_before: self.valid_before,
            });
        }
        self.check_principal(check)?;
        for option in &self.critical_options {
            match option.name.as_str() {
                critical::FORCE_COMMAND | critical::VERIFY_REQUIRED => {}
                critical::SOURCE_ADDRESS if self.cert_type == CertType::User => {
                    let list = option.value().unwrap_or_default();
                    let address = check
                        .client_address
                        .ok_or(CertificateError::SourceAddressUnchecked)?;
                    if !cidr_list_contains(list, address)? {
                        return Err(CertificateError::SourceAddressDenied(address));
                    }
                }
                other => return Err(CertificateError::UnknownCriticalOption(other.to_owned())),
            }
        }
        Ok(())
    }

    fn check_principal(&self, check: &CertificateCheck<'_>) -> Result<(), CertificateError> {
        if self.principals.is_empty() {
            return if check.require_principals {
                Err(CertificateError::NoPrincipals)
            } else {
                Ok(())
            };
        }
        let Some(name) = check.principal else {
            return Ok(());
        };
        let wildcard = check.wildcard_principals && self.cert_type == CertType::Host;
        let listed = self.principals.iter().any(|p| {
            if wildcard {
                glob_match(p.as_bytes(), name.as_bytes())
            } else {
                p == name
            }
        });
        if listed {
            Ok(())
        } else {
            Err(CertificateError::PrincipalNotListed(name.to_owned()))
        }
    }
}

/// Whether `address` is in the comma-separated CIDR list (`source-address`).
fn cidr_list_contains(list: &str, address: IpAddr) -> Result<bool, CertificateError> {
    let invalid = || CertificateError::InvalidSourceAddress(list.to_owned());
    let address = match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        v4 => v4,
    };
    let mut found = false;
    for entry in list.split(',') {
        let (addr, bits) = match entry.split_once('/') {
            Some((a, b)) => (a, Some(b.parse::<u8>().map_err(|_| invalid())?)),
            None => (entry, None),
        };
        let network: IpAddr = addr.parse().map_err(|_| invalid())?;
        let (net, host, width) = match (network, address) {
            (IpAddr::V4(n), IpAddr::V4(h)) => (n.to_bits().into(), h.to_bits().into(), 32),
            (IpAddr::V6(n), IpAddr::V6(h)) => (n.to_bits(), h.to_bits(), 128),
            (IpAddr::V4(_), _) => (0, 0, 32),
            (IpAddr::V6(_), _) => (0, 0, 128),
        };
        let bits = u32::from(bits.unwrap_or(width));
        if bits > u32::from(width) {
            return Err(invalid());
        }
        let same_family = network.is_ipv4() == address.is_ipv4();
        let mask = u128::MAX.checked_shl(u32::from(width) - bits).unwrap_or(0)
            & (u128::MAX >> (128 - u32::from(width)));
        if same_family && net & mask == host & mask {
            found = true;
        }
    }
    Ok(found)
}

/// OpenSSH's `match_pattern`: `*` matches any run, `?` any one byte.
pub(crate) fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == b'?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn glob_matches_stars_and_question_marks() {
        assert!(glob_match(b"*.example.org", b"www.example.org"));
        assert!(!glob_match(b"*.example.org", b"example.org"));
        assert!(glob_match(b"h?st", b"host"));
        assert!(glob_match(b"*", b""));
        assert!(!glob_match(b"a*b", b"acbx"));
        assert!(glob_match(b"a*b*c", b"aXbYbZc"));
    }

    #[test]
    fn cidr_list_matches_networks_and_single_hosts() {
        let list = "10.0.0.0/8,192.168.1.1,2001:db8::/32";
        let yes = ["10.1.2.3", "192.168.1.1", "2001:db8::1", "::ffff:10.9.9.9"];
        let no = ["11.0.0.1", "192.168.1.2", "2001:db9::1"];
        for a in yes {
            assert!(cidr_list_contains(list, a.parse().unwrap()).unwrap(), "{a}");
        }
        for a in no {
            assert!(
                !cidr_list_contains(list, a.parse().unwrap()).unwrap(),
                "{a}"
            );
        }
    }

    #[test]
    fn invalid_cidr_list_is_an_error() {
        for list in ["10.0.0.0/33", "nonsense", "10.0.0.0/", ""] {
            assert!(
                cidr_list_contains(list, "10.0.0.1".parse().unwrap()).is_err(),
                "{list}"
            );
        }
    }
}
