//! The server's own checks of a `publickey` or `hostbased` request, made before the
//! application is asked: algorithm, key blob, certificate, signature.

use std::net::IpAddr;

use super::ServerAuthConfig;
use crate::keys::{CertType, Certificate, CertificateCheck, PublicKey, SignatureAlgorithm};

/// A key the client showed, checked.
pub(crate) struct CheckedKey {
    pub(crate) key: PublicKey,
    pub(crate) algorithm: SignatureAlgorithm,
    pub(crate) certificate: Option<Box<Certificate>>,
    pub(crate) certificate_trusted: bool,
}

/// Why the engine refused a key without asking the application. Kept for the
/// tests; the client only ever sees USERAUTH_FAILURE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    UnknownAlgorithm,
    AlgorithmNotAccepted,
    BadKeyBlob,
    WrongCertificateType,
    CertificateInvalid,
    NoClock,
    BadSignature,
}

/// Where a key is used: the accepted algorithms and certificate type differ.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Usage {
    User,
    Host,
}

/// Parses and checks the algorithm and blob of a request.
///
/// A user certificate from a trusted CA is validated for `user` now and from
/// `peer`; one from an unknown CA only has its CA signature checked.
pub(crate) fn check_key(
    config: &ServerAuthConfig,
    usage: Usage,
    algorithm_name: &str,
    blob: &[u8],
    user: &str,
    peer: Option<IpAddr>,
) -> Result<CheckedKey, Refusal> {
    let (algorithm, is_certificate) = match SignatureAlgorithm::from_name(algorithm_name) {
        Some(alg) => (alg, false),
        None => (
            SignatureAlgorithm::from_certificate_name(algorithm_name)
                .ok_or(Refusal::UnknownAlgorithm)?,
            true,
        ),
    };
    let accepted = match usage {
        Usage::User => &config.publickey_algorithms,
        Usage::Host => &config.hostbased_algorithms,
    };
    if !accepted.contains(&algorithm) {
        return Err(Refusal::AlgorithmNotAccepted);
    }
    if !is_certificate {
        let key = PublicKey::from_blob(blob).map_err(|_| Refusal::BadKeyBlob)?;
        if key.key_type() != algorithm.key_type() {
            return Err(Refusal::BadKeyBlob);
        }
        return Ok(CheckedKey {
            key,
            algorithm,
            certificate: None,
            certificate_trusted: false,
        });
    }
    let cert = Certificate::from_blob(blob).map_err(|_| Refusal::BadKeyBlob)?;
    if cert.key().key_type() != algorithm.key_type() {
        return Err(Refusal::BadKeyBlob);
    }
    let wanted = match usage {
        Usage::User => CertType::User,
        Usage::Host => CertType::Host,
    };
    if cert.cert_type() != wanted {
        return Err(Refusal::WrongCertificateType);
    }
    let trusted = usage == Usage::User
        && config
            .trusted_user_ca_keys
            .iter()
            .any(|ca| ca == cert.signature_key());
    if trusted {
        let time = config.time.as_ref().ok_or(Refusal::NoClock)?;
        let mut check = CertificateCheck::new(CertType::User, time.now()).principal(user);
        check.ca_algorithms = &config.ca_signature_algorithms;
        if let Some(address) = peer {
            check = check.client_address(address);
        }
        cert.validate(&check)
            .map_err(|_| Refusal::CertificateInvalid)?;
    } else {
        cert.verify_signature(&config.ca_signature_algorithms)
            .map_err(|_| Refusal::CertificateInvalid)?;
    }
    Ok(CheckedKey {
        key: cert.key().clone(),
        algorithm,
        certificate: Some(Box::new(cert)),
        certificate_trusted: trusted,
    })
}

/// Verifies a request's signature over `data` with the checked key.
pub(crate) fn check_signature(
    checked: &CheckedKey,
    data: &[u8],
    signature: &[u8],
) -> Result<(), Refusal> {
    checked
        .key
        .verify(checked.algorithm, data, signature)
        .map_err(|_| Refusal::BadSignature)
}
