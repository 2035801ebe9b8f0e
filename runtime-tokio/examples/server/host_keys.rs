//! Host keys: read from private key files, or one Ed25519 key made for this run;
//! and host certificates of them.

use std::path::PathBuf;

use sansh_tokio::core::crypto::SystemRandom;
use sansh_tokio::core::keys::{Certificate, KeyType, PrivateKey};

/// Reads each file as a private key in any format `PrivateKey::from_pem` knows
/// (OpenSSH, PKCS#8, PKCS#1, SEC1), unencrypted: a server cannot ask for a
/// passphrase. With no files, generates an Ed25519 key that lives as long as the
/// process (clients see a new host key each run).
pub(crate) fn load(files: &[PathBuf]) -> Result<Vec<PrivateKey>, String> {
    if files.is_empty() {
        let key = PrivateKey::generate(KeyType::Ed25519, None, &mut SystemRandom)
            .map_err(|e| format!("cannot generate a host key: {e}"))?;
        return Ok(vec![key]);
    }
    files
        .iter()
        .map(|path| {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            PrivateKey::from_pem(&text, None).map_err(|e| format!("{}: {e}", path.display()))
        })
        .collect()
}

/// One line per key, as `ssh-keygen -l` shows it: type and SHA-256 fingerprint.
pub(crate) fn describe(keys: &[PrivateKey]) -> Vec<String> {
    keys.iter()
        .map(|key| {
            let public = key.public_key();
            format!(
                "host key {} {}",
                public.key_type().name(),
                public.fingerprint_sha256()
            )
        })
        .collect()
}

/// Reads each file as an OpenSSH host certificate (`ssh-keygen -s CA -h`), as sshd's
/// `HostCertificate` takes them; `ServerConfig::check` then makes sure each
/// certifies one of the host keys.
pub(crate) fn load_certificates(files: &[PathBuf]) -> Result<Vec<Certificate>, String> {
    files
        .iter()
        .map(|path| {
            let fail = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
            let text = std::fs::read_to_string(path).map_err(|e| fail(&e))?;
            let (certificate, _comment) =
                Certificate::from_openssh(text.trim()).map_err(|e| fail(&e))?;
            Ok(certificate)
        })
        .collect()
}

/// One line per certificate: its type, key id and principals.
pub(crate) fn describe_certificates(certificates: &[Certificate]) -> Vec<String> {
    certificates
        .iter()
        .map(|certificate| {
            format!(
                "host certificate {} id {:?} for {}",
                certificate.type_name(),
                certificate.key_id(),
                certificate.principals().join(",")
            )
        })
        .collect()
}
