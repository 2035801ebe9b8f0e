//! Key types and signature algorithms, with their SSH names.

/// The kind of a plain (non-certificate) SSH key.
///
/// Names are those of RFC 4253 §6.6, RFC 5656 §6.2 and RFC 8709 §4.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// `ssh-ed25519` (RFC 8709).
    Ed25519,
    /// `ecdsa-sha2-nistp256` (RFC 5656).
    EcdsaP256,
    /// `ecdsa-sha2-nistp384` (RFC 5656).
    EcdsaP384,
    /// `ecdsa-sha2-nistp521` (RFC 5656).
    EcdsaP521,
    /// `ssh-rsa` (RFC 4253 §6.6); the same key signs with rsa-sha2-256/512 (RFC 8332).
    Rsa,
}

impl KeyType {
    /// Every key type, in OpenSSH's order of preference.
    pub const ALL: &'static [KeyType] = &[
        KeyType::Ed25519,
        KeyType::EcdsaP256,
        KeyType::EcdsaP384,
        KeyType::EcdsaP521,
        KeyType::Rsa,
    ];

    /// The key type's SSH name, as it opens a public key blob.
    pub fn name(self) -> &'static str {
        match self {
            KeyType::Ed25519 => "ssh-ed25519",
            KeyType::EcdsaP256 => "ecdsa-sha2-nistp256",
            KeyType::EcdsaP384 => "ecdsa-sha2-nistp384",
            KeyType::EcdsaP521 => "ecdsa-sha2-nistp521",
            KeyType::Rsa => "ssh-rsa",
        }
    }

    /// The key type with SSH name `name`, if we support it.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|t| t.name() == name)
    }

    /// The name of a certificate over a key of this type (PROTOCOL.certkeys).
    pub fn certificate_name(self) -> &'static str {
        match self {
            KeyType::Ed25519 => "ssh-ed25519-cert-v01@openssh.com",
            KeyType::EcdsaP256 => "ecdsa-sha2-nistp256-cert-v01@openssh.com",
            KeyType::EcdsaP384 => "ecdsa-sha2-nistp384-cert-v01@openssh.com",
            KeyType::EcdsaP521 => "ecdsa-sha2-nistp521-cert-v01@openssh.com",
            KeyType::Rsa => "ssh-rsa-cert-v01@openssh.com",
        }
    }

    /// The key type whose certificate is named `name`.
    pub fn from_certificate_name(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|t| t.certificate_name() == name)
    }

    /// The short label `ssh-keygen -l` prints in parentheses and randomart titles:
    /// `ED25519`, `ECDSA` or `RSA`.
    pub fn label(self) -> &'static str {
        match self {
            KeyType::Ed25519 => "ED25519",
            KeyType::EcdsaP256 | KeyType::EcdsaP384 | KeyType::EcdsaP521 => "ECDSA",
            KeyType::Rsa => "RSA",
        }
    }

    /// The curve identifier carried inside an ECDSA blob (RFC 5656 §6.1), if ECDSA.
    pub fn curve_name(self) -> Option<&'static str> {
        match self {
            KeyType::EcdsaP256 => Some("nistp256"),
            KeyType::EcdsaP384 => Some("nistp384"),
            KeyType::EcdsaP521 => Some("nistp521"),
            KeyType::Ed25519 | KeyType::Rsa => None,
        }
    }

    /// The signature algorithms a key of this type can sign with, in preference order.
    ///
    /// `ssh-rsa` (SHA-1) is absent: we verify it but cannot make it.
    pub fn signature_algorithms(self) -> &'static [SignatureAlgorithm] {
        match self {
            KeyType::Ed25519 => &[SignatureAlgorithm::Ed25519],
            KeyType::EcdsaP256 => &[SignatureAlgorithm::EcdsaP256],
            KeyType::EcdsaP384 => &[SignatureAlgorithm::EcdsaP384],
            KeyType::EcdsaP521 => &[SignatureAlgorithm::EcdsaP521],
            KeyType::Rsa => &[
                SignatureAlgorithm::RsaSha2_512,
                SignatureAlgorithm::RsaSha2_256,
            ],
        }
    }
}

impl std::fmt::Display for KeyType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A public key signature algorithm, as named in `server_host_key_algorithms` and in
/// signature blobs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SignatureAlgorithm {
    /// `ssh-ed25519` (RFC 8709 §6).
    Ed25519,
    /// `ecdsa-sha2-nistp256`: ECDSA over P-256 with SHA-256 (RFC 5656 §3.1.2).
    EcdsaP256,
    /// `ecdsa-sha2-nistp384`: ECDSA over P-384 with SHA-384.
    EcdsaP384,
    /// `ecdsa-sha2-nistp521`: ECDSA over P-521 with SHA-512.
    EcdsaP521,
    /// `rsa-sha2-512`: RSASSA-PKCS1-v1_5 with SHA-512 (RFC 8332 §3).
    RsaSha2_512,
    /// `rsa-sha2-256`: RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8332 §3).
    RsaSha2_256,
    /// `ssh-rsa`: RSASSA-PKCS1-v1_5 with SHA-1 (RFC 4253 §6.6). Verify only.
    SshRsa,
}

impl SignatureAlgorithm {
    /// OpenSSH 10's default `HostKeyAlgorithms` order for plain keys.
    ///
    /// `ssh-rsa` is left out: OpenSSH disabled SHA-1 signatures by default in 8.8.
    pub const DEFAULT_HOST_KEY: &'static [SignatureAlgorithm] = &[
        SignatureAlgorithm::Ed25519,
        SignatureAlgorithm::EcdsaP256,
        SignatureAlgorithm::EcdsaP384,
        SignatureAlgorithm::EcdsaP521,
        SignatureAlgorithm::RsaSha2_512,
        SignatureAlgorithm::RsaSha2_256,
    ];

    /// Every algorithm we know, including the verify-only `ssh-rsa`.
    pub const ALL: &'static [SignatureAlgorithm] = &[
        SignatureAlgorithm::Ed25519,
        SignatureAlgorithm::EcdsaP256,
        SignatureAlgorithm::EcdsaP384,
        SignatureAlgorithm::EcdsaP521,
        SignatureAlgorithm::RsaSha2_512,
        SignatureAlgorithm::RsaSha2_256,
        SignatureAlgorithm::SshRsa,
    ];

    /// The algorithm's SSH name.
    pub fn name(self) -> &'static str {
        match self {
            SignatureAlgorithm::Ed25519 => "ssh-ed25519",
            SignatureAlgorithm::EcdsaP256 => "ecdsa-sha2-nistp256",
            SignatureAlgorithm::EcdsaP384 => "ecdsa-sha2-nistp384",
            SignatureAlgorithm::EcdsaP521 => "ecdsa-sha2-nistp521",
            SignatureAlgorithm::RsaSha2_512 => "rsa-sha2-512",
            SignatureAlgorithm::RsaSha2_256 => "rsa-sha2-256",
            SignatureAlgorithm::SshRsa => "ssh-rsa",
        }
    }

    /// The algorithm with SSH name `name`, if we support it.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|a| a.name() == name)
    }

    /// The host key algorithm name for a certificate signed with this algorithm
    /// (PROTOCOL.certkeys; RFC 8332 §3 names the RSA SHA-2 variants).
    pub fn certificate_name(self) -> &'static str {
        match self {
            SignatureAlgorithm::Ed25519 => "ssh-ed25519-cert-v01@openssh.com",
            SignatureAlgorithm::EcdsaP256 => "ecdsa-sha2-nistp256-cert-v01@openssh.com",
            SignatureAlgorithm::EcdsaP384 => "ecdsa-sha2-nistp384-cert-v01@openssh.com",
            SignatureAlgorithm::EcdsaP521 => "ecdsa-sha2-nistp521-cert-v01@openssh.com",
            SignatureAlgorithm::RsaSha2_512 => "rsa-sha2-512-cert-v01@openssh.com",
            SignatureAlgorithm::RsaSha2_256 => "rsa-sha2-256-cert-v01@openssh.com",
            SignatureAlgorithm::SshRsa => "ssh-rsa-cert-v01@openssh.com",
        }
    }

    /// The algorithm whose certificate form is named `name`.
    pub fn from_certificate_name(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|a| a.certificate_name() == name)
    }

    /// The type of key that makes and checks this algorithm's signatures.
    pub fn key_type(self) -> KeyType {
        match self {
            SignatureAlgorithm::Ed25519 => KeyType::Ed25519,
            SignatureAlgorithm::EcdsaP256 => KeyType::EcdsaP256,
            SignatureAlgorithm::EcdsaP384 => KeyType::EcdsaP384,
            SignatureAlgorithm::EcdsaP521 => KeyType::EcdsaP521,
            SignatureAlgorithm::RsaSha2_512
            | SignatureAlgorithm::RsaSha2_256
            | SignatureAlgorithm::SshRsa => KeyType::Rsa,
        }
    }

    /// Whether we can make signatures with this algorithm.
    ///
    /// False for `ssh-rsa`: aws-lc-rs cannot sign with SHA-1, so it is verify only.
    pub fn can_sign(self) -> bool {
        self != SignatureAlgorithm::SshRsa
    }
}

impl std::fmt::Display for SignatureAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
