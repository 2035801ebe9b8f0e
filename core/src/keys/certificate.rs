//! OpenSSH certificates (PROTOCOL.certkeys, the `-cert-v01@openssh.com` types):
//! parsing, encoding and the CA signature.
//!
//! ```text
//! string type ("ssh-ed25519-cert-v01@openssh.com", ...), string nonce, key fields,
//! uint64 serial, uint32 type (1 user, 2 host), string key id, string principals,
//! uint64 valid after, uint64 valid before, string critical options,
//! string extensions, string reserved, string signature key, string signature
//! ```
//! The signature covers every byte before the signature field.

use base64ct::{Base64, Encoding};

use super::openssh_public::split_field;
use super::{KeyError, KeyType, PublicKey, SignatureAlgorithm};
use crate::wire::Reader;

/// OpenSSH's limit on principals in one certificate (`SSHKEY_CERT_MAX_PRINCIPALS`).
pub const MAX_PRINCIPALS: usize = 256;

/// Whether a certificate authenticates a user or a host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CertType {
    /// `SSH2_CERT_TYPE_USER` (1).
    User,
    /// `SSH2_CERT_TYPE_HOST` (2).
    Host,
}

impl CertType {
    pub(crate) fn code(self) -> u32 {
        match self {
            CertType::User => 1,
            CertType::Host => 2,
        }
    }
}

/// A critical option or extension: a name and its data (empty for flags; for options
/// with a value, the value wrapped as an SSH string).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CertOption {
    /// The option's name, e.g. `force-command` or `permit-pty`.
    pub name: String,
    /// The option's raw data.
    pub data: Vec<u8>,
}

impl CertOption {
    /// The option's value when its data is one UTF-8 SSH string (as for
    /// `force-command` and `source-address`).
    pub fn value(&self) -> Option<&str> {
        let mut r = Reader::new(&self.data);
        let value = r.utf8().ok()?;
        r.finish().ok()?;
        Some(value)
    }
}

/// The critical options OpenSSH defines (PROTOCOL.certkeys); any other makes a
/// certificate unusable.
pub mod critical {
    /// Run this command instead of the one the user asks for.
    pub const FORCE_COMMAND: &str = "force-command";
    /// Comma-separated CIDR list the client must connect from.
    pub const SOURCE_ADDRESS: &str = "source-address";
    /// Require FIDO user verification (PIN) for signatures.
    pub const VERIFY_REQUIRED: &str = "verify-required";
}

/// The extensions OpenSSH defines (PROTOCOL.certkeys); all are flags.
pub mod extension {
    /// Allow X11 forwarding.
    pub const PERMIT_X11_FORWARDING: &str = "permit-X11-forwarding";
    /// Allow agent forwarding.
    pub const PERMIT_AGENT_FORWARDING: &str = "permit-agent-forwarding";
    /// Allow port forwarding.
    pub const PERMIT_PORT_FORWARDING: &str = "permit-port-forwarding";
    /// Allow a pty.
    pub const PERMIT_PTY: &str = "permit-pty";
    /// Allow ~/.ssh/rc to run.
    pub const PERMIT_USER_RC: &str = "permit-user-rc";
    /// Do not require FIDO user presence.
    pub const NO_TOUCH_REQUIRED: &str = "no-touch-required";
    /// The extensions ssh-keygen grants a user certificate by default.
    pub const DEFAULT_USER: &[&str] = &[
        PERMIT_X11_FORWARDING,
        PERMIT_AGENT_FORWARDING,
        PERMIT_PORT_FORWARDING,
        PERMIT_PTY,
        PERMIT_USER_RC,
    ];
}

/// An OpenSSH certificate: a key, its identity and permissions, signed by a CA key.
///
/// Parsing checks the structure and the known critical options' data; it does not
/// check the CA signature or validity: see [`Certificate::verify_signature`] and
/// [`Certificate::validate`].
#[derive(Clone, PartialEq, Eq)]
pub struct Certificate {
    pub(crate) blob: Vec<u8>,
    pub(crate) signed_len: usize,
    pub(crate) nonce: Vec<u8>,
    pub(crate) key: PublicKey,
    pub(crate) serial: u64,
    pub(crate) cert_type: CertType,
    pub(crate) key_id: String,
    pub(crate) principals: Vec<String>,
    pub(crate) valid_after: u64,
    pub(crate) valid_before: u64,
    pub(crate) critical_options: Vec<CertOption>,
    pub(crate) extensions: Vec<CertOption>,
    pub(crate) signature_key: PublicKey,
    pub(crate) signature: Vec<u8>,
}

impl Certificate {
    /// Parses a certificate blob.
    ///
    /// Strict: no trailing bytes, at most [`MAX_PRINCIPALS`] principals, UTF-8 key id,
    /// principals and option names, no option named twice, and `force-command`,
    /// `source-address` and `verify-required` carrying the data PROTOCOL.certkeys
    /// gives them. The signature key must be a plain key (a certificate cannot sign).
    pub fn from_blob(blob: &[u8]) -> Result<Self, KeyError> {
        let mut r = Reader::new(blob);
        let name = r.string()?;
        let key_type = std::str::from_utf8(name)
            .ok()
            .and_then(KeyType::from_certificate_name)
            .ok_or_else(|| KeyError::UnknownKeyType(String::from_utf8_lossy(name).into_owned()))?;
        let nonce = r.string()?.to_vec();
        let key = PublicKey::read_fields(key_type, &mut r)?;
        let serial = r.u64()?;
        let cert_type = match r.u32()? {
            1 => CertType::User,
            2 => CertType::Host,
            _ => return Err(KeyError::MalformedCertificate("unknown certificate type")),
        };
        let key_id = r.utf8()?.to_owned();
        let principals = read_principals(r.string()?)?;
        let valid_after = r.u64()?;
        let valid_before = r.u64()?;
        let critical_options = read_options(r.string()?)?;
        check_critical_data(&critical_options)?;
        let extensions = read_options(r.string()?)?;
        r.string()?; // reserved: ignored, as OpenSSH does
        let signature_key = PublicKey::from_blob(r.string()?)?;
        let signed_len = blob.len() - r.remaining();
        let signature = r.string()?.to_vec();
        r.finish()?;
        Ok(Self {
            blob: blob.to_vec(),
            signed_len,
            nonce,
            key,
            serial,
            cert_type,
            key_id,
            principals,
            valid_after,
            valid_before,
            critical_options,
            extensions,
            signature_key,
            signature,
        })
    }

    /// The certificate blob, exactly as parsed or signed.
    pub fn to_blob(&self) -> Vec<u8> {
        self.blob.clone()
    }

    /// Parses an OpenSSH certificate line (`ssh-ed25519-cert-v01@openssh.com base64
    /// [comment]`, as in `id_ed25519-cert.pub`), returning it and its comment.
    pub fn from_openssh(line: &str) -> Result<(Self, String), KeyError> {
        let (type_name, rest) = split_field(line.trim());
        let (base64, comment) = split_field(rest);
        if type_name.is_empty() || base64.is_empty() {
            return Err(KeyError::MalformedPublicKeyLine);
        }
        let cert = Self::from_openssh_fields(type_name, base64)?;
        Ok((cert, comment.to_owned()))
    }

    /// Builds a certificate from the type and base64 fields of a line.
    pub fn from_openssh_fields(type_name: &str, base64: &str) -> Result<Self, KeyError> {
        let blob = Base64::decode_vec(base64).map_err(|_| KeyError::InvalidBase64)?;
        let cert = Self::from_blob(&blob)?;
        if cert.type_name() != type_name {
            return Err(KeyError::KeyTypeMismatch {
                text: type_name.to_owned(),
                inner: cert.type_name().to_owned(),
            });
        }
        Ok(cert)
    }

    /// Formats the certificate as an OpenSSH line, `type base64` then ` comment` when
    /// `comment` is not empty.
    pub fn to_openssh(&self, comment: &str) -> String {
        let mut line = format!("{} {}", self.type_name(), Base64::encode_string(&self.blob));
        if !comment.is_empty() {
            line.push(' ');
            line.push_str(comment);
        }
        line
    }

    /// The certificate type name, e.g. `ssh-ed25519-cert-v01@openssh.com`.
    pub fn type_name(&self) -> &'static str {
        self.key.key_type().certificate_name()
    }

    /// The certified key.
    pub fn key(&self) -> &PublicKey {
        &self.key
    }

    /// The CA's random nonce.
    pub fn nonce(&self) -> &[u8] {
        &self.nonce
    }

    /// The serial number (0 when the CA does not number its certificates).
    pub fn serial(&self) -> u64 {
        self.serial
    }

    /// User or host certificate.
    pub fn cert_type(&self) -> CertType {
        self.cert_type
    }

    /// The key id the CA chose (logged by servers).
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The principals (user or host names); empty means any, where allowed.
    pub fn principals(&self) -> &[String] {
        &self.principals
    }

    /// Start of validity, seconds since the Unix epoch (0: always).
    pub fn valid_after(&self) -> u64 {
        self.valid_after
    }

    /// End of validity (exclusive), seconds since the Unix epoch (`u64::MAX`: forever).
    pub fn valid_before(&self) -> u64 {
        self.valid_before
    }

    /// The critical options, in the certificate's order.
    pub fn critical_options(&self) -> &[CertOption] {
        &self.critical_options
    }

    /// The extensions, in the certificate's order.
    pub fn extensions(&self) -> &[CertOption] {
        &self.extensions
    }

    /// The critical option named `name`.
    pub fn critical_option(&self, name: &str) -> Option<&CertOption> {
        self.critical_options.iter().find(|o| o.name == name)
    }

    /// Whether the extension named `name` is present.
    pub fn has_extension(&self, name: &str) -> bool {
        self.extensions.iter().any(|o| o.name == name)
    }

    /// The `force-command` critical option's command.
    pub fn force_command(&self) -> Option<&str> {
        self.critical_option(critical::FORCE_COMMAND)
            .and_then(CertOption::value)
    }

    /// The `source-address` critical option's CIDR list, as written.
    pub fn source_address(&self) -> Option<&str> {
        self.critical_option(critical::SOURCE_ADDRESS)
            .and_then(CertOption::value)
    }

    /// Whether the `verify-required` critical option is present.
    pub fn verify_required(&self) -> bool {
        self.critical_option(critical::VERIFY_REQUIRED).is_some()
    }

    /// The CA key that signed the certificate.
    pub fn signature_key(&self) -> &PublicKey {
        &self.signature_key
    }

    /// The CA's signature blob.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// The algorithm named in the CA's signature blob, if we know it.
    pub fn signature_algorithm(&self) -> Option<SignatureAlgorithm> {
        let name = Reader::new(&self.signature).utf8().ok()?;
        SignatureAlgorithm::from_name(name)
    }

    /// Verifies the CA signature, accepting only algorithms in `allowed` (OpenSSH's
    /// `CASignatureAlgorithms`; see [`DEFAULT_CA_ALGORITHMS`]). Returns the algorithm
    /// used.
    ///
    /// [`DEFAULT_CA_ALGORITHMS`]: super::DEFAULT_CA_ALGORITHMS
    pub fn verify_signature(
        &self,
        allowed: &[SignatureAlgorithm],
    ) -> Result<SignatureAlgorithm, super::CertificateError> {
        let name = Reader::new(&self.signature)
            .utf8()
            .map_err(|e| super::CertificateError::BadSignature(e.into()))?;
        let alg = SignatureAlgorithm::from_name(name)
            .filter(|a| allowed.contains(a))
            .ok_or_else(|| super::CertificateError::CaAlgorithmNotAllowed(name.to_owned()))?;
        self.signature_key
            .verify(alg, &self.blob[..self.signed_len], &self.signature)
            .map_err(super::CertificateError::BadSignature)?;
        Ok(alg)
    }
}

impl std::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Certificate")
            .field("type", &self.type_name())
            .field("key", &self.key)
            .field("serial", &self.serial)
            .field("cert_type", &self.cert_type)
            .field("key_id", &self.key_id)
            .field("principals", &self.principals)
            .field("valid_after", &self.valid_after)
            .field("valid_before", &self.valid_before)
            .field("critical_options", &self.critical_options)
            .field("extensions", &self.extensions)
            .field("signature_key", &self.signature_key)
            .finish_non_exhaustive()
    }
}

fn read_principals(raw: &[u8]) -> Result<Vec<String>, KeyError> {
    let mut r = Reader::new(raw);
    let mut out = Vec::new();
    while r.remaining() > 0 {
        if out.len() == MAX_PRINCIPALS {
            return Err(KeyError::MalformedCertificate("more than 256 principals"));
        }
        out.push(r.utf8()?.to_owned());
    }
    Ok(out)
}

fn read_options(raw: &[u8]) -> Result<Vec<CertOption>, KeyError> {
    let mut r = Reader::new(raw);
    let mut out: Vec<CertOption> = Vec::new();
    while r.remaining() > 0 {
        let name = r.utf8()?.to_owned();
        if out.iter().any(|o| o.name == name) {
            return Err(KeyError::MalformedCertificate("option named twice"));
        }
        let data = r.string()?.to_vec();
        out.push(CertOption { name, data });
    }
    Ok(out)
}

fn check_critical_data(options: &[CertOption]) -> Result<(), KeyError> {
    for o in options {
        let ok = match o.name.as_str() {
            critical::FORCE_COMMAND | critical::SOURCE_ADDRESS => o.value().is_some(),
            critical::VERIFY_REQUIRED => o.data.is_empty(),
            _ => true,
        };
        if !ok {
            return Err(KeyError::MalformedCertificate(
                "malformed critical option data",
            ));
        }
    }
    Ok(())
}
