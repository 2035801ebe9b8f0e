//! Creating and signing OpenSSH certificates (the CA side of `ssh-keygen -s`).

use std::collections::BTreeMap;

use super::certificate::{CertType, Certificate, critical, extension};
use super::{KeyError, PrivateKey, PublicKey, SignatureAlgorithm};
use crate::crypto::SecureRandom;
use crate::wire::Writer;

/// Bytes of CA nonce, as ssh-keygen uses.
const NONCE_LEN: usize = 32;

/// The fields of a certificate to be signed by a CA key.
///
/// Starts as ssh-keygen does: serial 0, valid forever, no principals, no critical
/// options, and for user certificates the five default `permit-*` extensions. Options
/// and extensions are written sorted by name, as PROTOCOL.certkeys requires.
#[derive(Clone, Debug)]
pub struct CertificateBuilder {
    key: PublicKey,
    cert_type: CertType,
    serial: u64,
    key_id: String,
    principals: Vec<String>,
    valid_after: u64,
    valid_before: u64,
    critical_options: BTreeMap<String, Vec<u8>>,
    extensions: BTreeMap<String, Vec<u8>>,
}

impl CertificateBuilder {
    /// A certificate over `key` of type `cert_type`, with ssh-keygen's defaults.
    pub fn new(key: PublicKey, cert_type: CertType) -> Self {
        let extensions = match cert_type {
            CertType::User => extension::DEFAULT_USER
                .iter()
                .map(|e| ((*e).to_owned(), Vec::new()))
                .collect(),
            CertType::Host => BTreeMap::new(),
        };
        Self {
            key,
            cert_type,
            serial: 0,
            key_id: String::new(),
            principals: Vec::new(),
            valid_after: 0,
            valid_before: u64::MAX,
            critical_options: BTreeMap::new(),
            extensions,
        }
    }

    /// Sets the serial number (`ssh-keygen -z`).
    pub fn serial(mut self, serial: u64) -> Self {
        self.serial = serial;
        self
    }

    /// Sets the key id (`ssh-keygen -I`).
    pub fn key_id(mut self, key_id: impl Into<String>) -> Self {
        self.key_id = key_id.into();
        self
    }

    /// Adds a principal (`ssh-keygen -n`).
    pub fn principal(mut self, principal: impl Into<String>) -> Self {
        self.principals.push(principal.into());
        self
    }

    /// Sets the validity window in seconds since the Unix epoch: valid from `after`
    /// (inclusive) until `before` (exclusive). 0 and `u64::MAX` mean unbounded.
    pub fn validity(mut self, after: u64, before: u64) -> Self {
        self.valid_after = after;
        self.valid_before = before;
        self
    }

    /// Adds `force-command`.
    pub fn force_command(self, command: &str) -> Self {
        self.critical_string(critical::FORCE_COMMAND, command)
    }

    /// Adds `source-address` (a comma-separated CIDR list).
    pub fn source_address(self, cidr_list: &str) -> Self {
        self.critical_string(critical::SOURCE_ADDRESS, cidr_list)
    }

    /// Adds `verify-required`.
    pub fn verify_required(self) -> Self {
        self.critical_option(critical::VERIFY_REQUIRED, Vec::new())
    }

    /// Adds a critical option with raw `data` (replacing one of the same name).
    pub fn critical_option(mut self, name: impl Into<String>, data: Vec<u8>) -> Self {
        self.critical_options.insert(name.into(), data);
        self
    }

    fn critical_string(self, name: &str, value: &str) -> Self {
        let mut data = Vec::new();
        data.put_string(value.as_bytes());
        self.critical_option(name, data)
    }

    /// Removes every extension (`ssh-keygen -O clear`).
    pub fn clear_extensions(mut self) -> Self {
        self.extensions.clear();
        self
    }

    /// Adds a flag extension such as [`extension::PERMIT_PTY`].
    pub fn extension(self, name: impl Into<String>) -> Self {
        self.extension_with_data(name, Vec::new())
    }

    /// Adds an extension with raw `data` (replacing one of the same name).
    pub fn extension_with_data(mut self, name: impl Into<String>, data: Vec<u8>) -> Self {
        self.extensions.insert(name.into(), data);
        self
    }

    /// Removes the extension named `name` (`ssh-keygen -O no-pty` and the like).
    pub fn remove_extension(mut self, name: &str) -> Self {
        self.extensions.remove(name);
        self
    }

    /// Signs the certificate with the CA key `ca` using `alg`, drawing the nonce from
    /// `rng`.
    pub fn sign(
        &self,
        ca: &PrivateKey,
        alg: SignatureAlgorithm,
        rng: &mut dyn SecureRandom,
    ) -> Result<Certificate, KeyError> {
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill(&mut nonce);
        let mut body = Vec::new();
        body.put_string(self.key.key_type().certificate_name().as_bytes());
        body.put_string(&nonce);
        self.key.write_fields(&mut body);
        body.put_u64(self.serial);
        body.put_u32(self.cert_type.code());
        body.put_string(self.key_id.as_bytes());
        let mut principals = Vec::new();
        for p in &self.principals {
            principals.put_string(p.as_bytes());
        }
        body.put_string(&principals);
        body.put_u64(self.valid_after);
        body.put_u64(self.valid_before);
        write_options(&mut body, &self.critical_options);
        write_options(&mut body, &self.extensions);
        body.put_string(b""); // reserved
        body.put_string(&ca.public_key().to_blob());
        let signature = ca.sign(alg, &body, rng)?;
        body.put_string(&signature);
        Certificate::from_blob(&body)
    }
}

fn write_options(w: &mut Vec<u8>, options: &BTreeMap<String, Vec<u8>>) {
    let mut list = Vec::new();
    for (name, data) in options {
        list.put_string(name.as_bytes());
        list.put_string(data);
    }
    w.put_string(&list);
}
