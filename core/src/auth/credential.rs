//! What a client proves itself with: public keys and certificates, who signs with
//! them, and the choice of signature algorithm.

use std::sync::Arc;

use super::AuthError;
use crate::keys::{Certificate, KeyType, PrivateKey, PublicKey, SignatureAlgorithm};

/// A public key or a certificate, as shown to the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// A plain public key.
    Key(PublicKey),
    /// An OpenSSH certificate (PROTOCOL.certkeys); the certified key signs.
    Certificate(Box<Certificate>),
}

impl Identity {
    /// The key that signs: the key itself, or the certified key.
    pub fn key(&self) -> &PublicKey {
        match self {
            Identity::Key(key) => key,
            Identity::Certificate(cert) => cert.key(),
        }
    }

    /// The blob sent to the server: the public key blob or the certificate blob.
    pub fn to_blob(&self) -> Vec<u8> {
        match self {
            Identity::Key(key) => key.to_blob(),
            Identity::Certificate(cert) => cert.to_blob(),
        }
    }

    /// The key's type.
    pub fn key_type(&self) -> KeyType {
        self.key().key_type()
    }

    /// The algorithm name a request carries when signing with `alg`: the signature
    /// algorithm itself, or its certificate form.
    pub fn algorithm_name(&self, alg: SignatureAlgorithm) -> &'static str {
        match self {
            Identity::Key(_) => alg.name(),
            Identity::Certificate(_) => alg.certificate_name(),
        }
    }
}

/// Who makes the signature.
#[derive(Clone)]
pub(crate) enum Signer {
    /// The engine signs with this key.
    Engine(Arc<PrivateKey>),
    /// The application signs, answering a [`SignRequest`](super::SignRequest).
    Application,
}

/// A key for `publickey` authentication: the identity shown and who signs with it.
///
/// ```
/// use std::sync::Arc;
/// use sansh_core::auth::{Identity, PublicKeyCredential};
/// use sansh_core::crypto::SeededRandom;
/// use sansh_core::keys::{KeyType, PrivateKey};
///
/// let key = PrivateKey::generate(KeyType::Ed25519, None, &mut SeededRandom::new(1))?;
/// // The engine signs itself:
/// let own = PublicKeyCredential::from_private_key(Arc::new(key));
/// // A key held by an agent: the engine asks through a SignRequest event.
/// let agent = PublicKeyCredential::external(Identity::Key(own.identity().key().clone()));
/// # Ok::<(), sansh_core::keys::KeyError>(())
/// ```
#[derive(Clone)]
pub struct PublicKeyCredential {
    pub(crate) identity: Identity,
    pub(crate) signer: Signer,
    pub(crate) algorithm: Option<SignatureAlgorithm>,
    pub(crate) query_first: bool,
}

impl PublicKeyCredential {
    /// A key the engine signs with itself.
    pub fn from_private_key(key: Arc<PrivateKey>) -> Self {
        Self {
            identity: Identity::Key(key.public_key()),
            signer: Signer::Engine(key),
            algorithm: None,
            query_first: true,
        }
    }

    /// A certificate whose key the engine signs with; the certificate must certify
    /// `key`.
    pub fn with_certificate(cert: Certificate, key: Arc<PrivateKey>) -> Result<Self, AuthError> {
        if *cert.key() != key.public_key() {
            return Err(AuthError::KeyMismatch);
        }
        Ok(Self {
            identity: Identity::Certificate(Box::new(cert)),
            signer: Signer::Engine(key),
            algorithm: None,
            query_first: true,
        })
    }

    /// A key or certificate whose signature the application supplies (an
    /// ssh-agent, a hardware token): the engine emits a
    /// [`SignRequest`](super::SignRequest) once the server accepts the key.
    pub fn external(identity: Identity) -> Self {
        Self {
            identity,
            signer: Signer::Application,
            algorithm: None,
            query_first: true,
        }
    }

    /// Signs with `alg` instead of choosing from the configuration and the server's
    /// `server-sig-algs`.
    pub fn with_algorithm(mut self, alg: SignatureAlgorithm) -> Self {
        self.algorithm = Some(alg);
        self
    }

    /// Sends the signed request straight away instead of first asking whether the
    /// server would accept the key (saves a round trip; OpenSSH does this for keys
    /// whose public half it does not have).
    pub fn sign_directly(mut self) -> Self {
        self.query_first = false;
        self
    }

    /// The identity shown to the server.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// Whether the engine signs (true) or the application (false).
    pub fn engine_signs(&self) -> bool {
        matches!(self.signer, Signer::Engine(_))
    }
}

impl std::fmt::Debug for PublicKeyCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublicKeyCredential")
            .field("identity", &self.identity)
            .field("engine_signs", &self.engine_signs())
            .field("algorithm", &self.algorithm)
            .field("query_first", &self.query_first)
            .finish()
    }
}

/// A host key for `hostbased` authentication (RFC 4252 §9), with the client host
/// and user names it vouches for.
#[derive(Debug, Clone)]
pub struct HostbasedCredential {
    pub(crate) key: PublicKeyCredential,
    pub(crate) client_host: String,
    pub(crate) client_user: String,
}

impl HostbasedCredential {
    /// The client host's key (signed by the engine or the application, like a
    /// public key credential), its fully qualified name (OpenSSH sends it with a
    /// trailing dot) and the user's name on the client host.
    pub fn new(
        key: PublicKeyCredential,
        client_host: impl Into<String>,
        client_user: impl Into<String>,
    ) -> Self {
        Self {
            key,
            client_host: client_host.into(),
            client_user: client_user.into(),
        }
    }
}

/// Chooses the signature algorithm for a key, as OpenSSH's client does.
///
/// A forced algorithm must suit the key. Otherwise the first accepted algorithm of the
/// key's type that we can use is taken; for RSA it must also be one the server lists
/// in `server-sig-algs`, and without that list RSA keys would need SHA-1 `ssh-rsa`,
/// which is used only if accepted (OpenSSH 8.8 and later do not by default) and
/// signed by the application (the engine cannot make SHA-1 signatures).
pub(crate) fn choose_algorithm(
    key_type: KeyType,
    forced: Option<SignatureAlgorithm>,
    accepted: &[SignatureAlgorithm],
    server_sig_algs: Option<&[String]>,
    engine_signs: bool,
) -> Option<SignatureAlgorithm> {
    if let Some(alg) = forced {
        let usable = alg.key_type() == key_type && (alg.can_sign() || !engine_signs);
        return usable.then_some(alg);
    }
    let mut candidates = accepted
        .iter()
        .copied()
        .filter(|a| a.key_type() == key_type && (a.can_sign() || !engine_signs));
    if key_type != KeyType::Rsa {
        return candidates.next();
    }
    match server_sig_algs {
        Some(listed) => candidates.find(|a| listed.iter().any(|n| n == a.name())),
        None => candidates.find(|a| *a == SignatureAlgorithm::SshRsa),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SignatureAlgorithm::*;

    fn list(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn rsa_takes_the_first_sha2_algorithm_the_server_lists() {
        let accepted = SignatureAlgorithm::DEFAULT_HOST_KEY;
        let server = list(&["ssh-ed25519", "rsa-sha2-256", "rsa-sha2-512"]);
        assert_eq!(
            choose_algorithm(KeyType::Rsa, None, accepted, Some(&server), true),
            Some(RsaSha2_512)
        );
        let server = list(&["rsa-sha2-256"]);
        assert_eq!(
            choose_algorithm(KeyType::Rsa, None, accepted, Some(&server), true),
            Some(RsaSha2_256)
        );
    }

    #[test]
    fn rsa_without_a_usable_server_algorithm_has_none() {
        let accepted = SignatureAlgorithm::DEFAULT_HOST_KEY;
        let server = list(&["ssh-rsa", "ssh-ed25519"]);
        assert_eq!(
            choose_algorithm(KeyType::Rsa, None, accepted, Some(&server), true),
            None
        );
        assert_eq!(
            choose_algorithm(KeyType::Rsa, None, accepted, None, true),
            None
        );
    }

    #[test]
    fn rsa_without_server_sig_algs_uses_ssh_rsa_only_when_accepted_and_external() {
        let accepted = SignatureAlgorithm::ALL;
        assert_eq!(
            choose_algorithm(KeyType::Rsa, None, accepted, None, false),
            Some(SshRsa)
        );
        assert_eq!(
            choose_algorithm(KeyType::Rsa, None, accepted, None, true),
            None
        );
    }

    #[test]
    fn other_key_types_ignore_server_sig_algs() {
        let accepted = SignatureAlgorithm::DEFAULT_HOST_KEY;
        assert_eq!(
            choose_algorithm(KeyType::EcdsaP384, None, accepted, Some(&[]), true),
            Some(EcdsaP384)
        );
    }

    #[test]
    fn forced_algorithm_must_suit_the_key() {
        let accepted = SignatureAlgorithm::DEFAULT_HOST_KEY;
        assert_eq!(
            choose_algorithm(KeyType::Rsa, Some(RsaSha2_256), accepted, None, true),
            Some(RsaSha2_256)
        );
        assert_eq!(
            choose_algorithm(KeyType::Ed25519, Some(RsaSha2_256), accepted, None, true),
            None
        );
    }
}
