//! The key exchange method names and their hash functions.

use super::HashAlgorithm;

/// A key exchange method (the `kex_algorithms` name-list of KEXINIT,
/// [RFC 4253 §7.1](https://www.rfc-editor.org/rfc/rfc4253#section-7.1)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KexAlgorithm {
    /// `mlkem768x25519-sha256`: ML-KEM-768 and X25519 hybrid
    /// (draft-ietf-sshm-mlkem-hybrid-kex, OpenSSH 10's default).
    MlKem768X25519Sha256,
    /// `sntrup761x25519-sha512`: Streamlined NTRU Prime and X25519 hybrid.
    Sntrup761X25519Sha512,
    /// `sntrup761x25519-sha512@openssh.com`: the same method under OpenSSH's older name.
    Sntrup761X25519Sha512OpenSsh,
    /// `curve25519-sha256` ([RFC 8731](https://www.rfc-editor.org/rfc/rfc8731)).
    Curve25519Sha256,
    /// `curve25519-sha256@libssh.org`: the same method under its pre-RFC name.
    Curve25519Sha256LibSsh,
    /// `ecdh-sha2-nistp256` ([RFC 5656 §4](https://www.rfc-editor.org/rfc/rfc5656#section-4)).
    EcdhSha2Nistp256,
    /// `ecdh-sha2-nistp384`.
    EcdhSha2Nistp384,
    /// `ecdh-sha2-nistp521`.
    EcdhSha2Nistp521,
    /// `diffie-hellman-group-exchange-sha256` ([RFC 4419](https://www.rfc-editor.org/rfc/rfc4419)).
    DhGexSha256,
    /// `diffie-hellman-group16-sha512` ([RFC 8268](https://www.rfc-editor.org/rfc/rfc8268)).
    DhGroup16Sha512,
    /// `diffie-hellman-group18-sha512` ([RFC 8268](https://www.rfc-editor.org/rfc/rfc8268)).
    DhGroup18Sha512,
    /// `diffie-hellman-group14-sha256` ([RFC 8268](https://www.rfc-editor.org/rfc/rfc8268)).
    DhGroup14Sha256,
    /// `diffie-hellman-group14-sha1` ([RFC 4253 §8.2](https://www.rfc-editor.org/rfc/rfc4253#section-8.2)):
    /// supported for old peers, not offered by default.
    DhGroup14Sha1,
}

impl KexAlgorithm {
    /// The methods offered by default, most preferred first: OpenSSH 10's order.
    pub const DEFAULT: &'static [KexAlgorithm] = &[
        Self::MlKem768X25519Sha256,
        Self::Sntrup761X25519Sha512,
        Self::Sntrup761X25519Sha512OpenSsh,
        Self::Curve25519Sha256,
        Self::Curve25519Sha256LibSsh,
        Self::EcdhSha2Nistp256,
        Self::EcdhSha2Nistp384,
        Self::EcdhSha2Nistp521,
        Self::DhGexSha256,
        Self::DhGroup16Sha512,
        Self::DhGroup18Sha512,
        Self::DhGroup14Sha256,
    ];

    /// Every supported method: [`Self::DEFAULT`] followed by the legacy ones.
    pub const ALL: &'static [KexAlgorithm] = &[
        Self::MlKem768X25519Sha256,
        Self::Sntrup761X25519Sha512,
        Self::Sntrup761X25519Sha512OpenSsh,
        Self::Curve25519Sha256,
        Self::Curve25519Sha256LibSsh,
        Self::EcdhSha2Nistp256,
        Self::EcdhSha2Nistp384,
        Self::EcdhSha2Nistp521,
        Self::DhGexSha256,
        Self::DhGroup16Sha512,
        Self::DhGroup18Sha512,
        Self::DhGroup14Sha256,
        Self::DhGroup14Sha1,
    ];

    /// The method's name as it appears in KEXINIT.
    pub fn name(self) -> &'static str {
        match self {
            Self::MlKem768X25519Sha256 => "mlkem768x25519-sha256",
            Self::Sntrup761X25519Sha512 => "sntrup761x25519-sha512",
            Self::Sntrup761X25519Sha512OpenSsh => "sntrup761x25519-sha512@openssh.com",
            Self::Curve25519Sha256 => "curve25519-sha256",
            Self::Curve25519Sha256LibSsh => "curve25519-sha256@libssh.org",
            Self::EcdhSha2Nistp256 => "ecdh-sha2-nistp256",
            Self::EcdhSha2Nistp384 => "ecdh-sha2-nistp384",
            Self::EcdhSha2Nistp521 => "ecdh-sha2-nistp521",
            Self::DhGexSha256 => "diffie-hellman-group-exchange-sha256",
            Self::DhGroup16Sha512 => "diffie-hellman-group16-sha512",
            Self::DhGroup18Sha512 => "diffie-hellman-group18-sha512",
            Self::DhGroup14Sha256 => "diffie-hellman-group14-sha256",
            Self::DhGroup14Sha1 => "diffie-hellman-group14-sha1",
        }
    }

    /// The method with this KEXINIT name, if we support it. Pseudo-algorithms such as
    /// `ext-info-c` or `kex-strict-*` are not methods and give `None`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|alg| alg.name() == name)
    }

    /// The hash the method uses for the exchange hash and key derivation.
    pub fn hash(self) -> HashAlgorithm {
        match self {
            Self::MlKem768X25519Sha256
            | Self::Curve25519Sha256
            | Self::Curve25519Sha256LibSsh
            | Self::EcdhSha2Nistp256
            | Self::DhGexSha256
            | Self::DhGroup14Sha256 => HashAlgorithm::Sha256,
            Self::EcdhSha2Nistp384 => HashAlgorithm::Sha384,
            Self::Sntrup761X25519Sha512
            | Self::Sntrup761X25519Sha512OpenSsh
            | Self::EcdhSha2Nistp521
            | Self::DhGroup16Sha512
            | Self::DhGroup18Sha512 => HashAlgorithm::Sha512,
            Self::DhGroup14Sha1 => HashAlgorithm::Sha1,
        }
    }
}

impl std::fmt::Display for KexAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for &alg in KexAlgorithm::ALL {
            assert_eq!(KexAlgorithm::from_name(alg.name()), Some(alg));
        }
        assert_eq!(
            KexAlgorithm::from_name("kex-strict-c-v00@openssh.com"),
            None
        );
        assert_eq!(KexAlgorithm::from_name("diffie-hellman-group1-sha1"), None);
    }

    #[test]
    fn default_is_all_but_group14_sha1_in_openssh_order() {
        assert_eq!(
            &KexAlgorithm::ALL[..KexAlgorithm::DEFAULT.len()],
            KexAlgorithm::DEFAULT
        );
        assert_eq!(KexAlgorithm::ALL.len(), KexAlgorithm::DEFAULT.len() + 1);
        assert!(!KexAlgorithm::DEFAULT.contains(&KexAlgorithm::DhGroup14Sha1));
        let names: Vec<_> = KexAlgorithm::DEFAULT.iter().map(|a| a.name()).collect();
        assert_eq!(
            names.join(","),
            concat!(
                "mlkem768x25519-sha256,sntrup761x25519-sha512,sntrup761x25519-sha512@openssh.com,",
                "curve25519-sha256,curve25519-sha256@libssh.org,",
                "ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,",
                "diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,",
                "diffie-hellman-group18-sha512,diffie-hellman-group14-sha256"
            )
        );
    }

    #[test]
    fn each_method_uses_the_hash_its_spec_names() {
        use HashAlgorithm::*;
        let expected = [
            (KexAlgorithm::MlKem768X25519Sha256, Sha256),
            (KexAlgorithm::Sntrup761X25519Sha512, Sha512),
            (KexAlgorithm::Sntrup761X25519Sha512OpenSsh, Sha512),
            (KexAlgorithm::Curve25519Sha256, Sha256),
            (KexAlgorithm::Curve25519Sha256LibSsh, Sha256),
            // RFC 5656 §6.2.1: the hash follows the curve size.
            (KexAlgorithm::EcdhSha2Nistp256, Sha256),
            (KexAlgorithm::EcdhSha2Nistp384, Sha384),
            (KexAlgorithm::EcdhSha2Nistp521, Sha512),
            (KexAlgorithm::DhGexSha256, Sha256),
            (KexAlgorithm::DhGroup16Sha512, Sha512),
            (KexAlgorithm::DhGroup18Sha512, Sha512),
            (KexAlgorithm::DhGroup14Sha256, Sha256),
            (KexAlgorithm::DhGroup14Sha1, Sha1),
        ];
        assert_eq!(expected.len(), KexAlgorithm::ALL.len());
        for (alg, hash) in expected {
            assert_eq!(alg.hash(), hash, "{alg}");
        }
    }
}
