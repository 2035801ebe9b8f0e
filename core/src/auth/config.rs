//! Authentication settings of a client and of a server.

use std::sync::Arc;
use std::time::Duration;

use super::{AuthMethod, TimeProvider};
use crate::keys::{DEFAULT_CA_ALGORITHMS, PublicKey, SignatureAlgorithm};

/// Client authentication settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAuthConfig {
    /// Signature algorithms we sign public key and host-based requests with, in
    /// preference order (OpenSSH's `PubkeyAcceptedAlgorithms`). For RSA keys the first
    /// one the server lists in `server-sig-algs` is used.
    pub publickey_algorithms: Vec<SignatureAlgorithm>,
}

impl Default for ClientAuthConfig {
    fn default() -> Self {
        Self {
            publickey_algorithms: SignatureAlgorithm::DEFAULT_HOST_KEY.to_vec(),
        }
    }
}

/// Server authentication settings (the `sshd_config` keywords they mirror are named).
#[derive(Debug, Clone)]
pub struct ServerAuthConfig {
    /// Text sent as SSH_MSG_USERAUTH_BANNER before the first reply (`Banner`).
    pub banner: Option<String>,
    /// Failed attempts allowed before the connection is closed (`MaxAuthTries`,
    /// default 6). A first `none` request does not count, as in sshd.
    pub max_auth_tries: u32,
    /// Time from connection start to successful authentication before the
    /// connection is closed (`LoginGraceTime`, default 120 s; `None`: no limit).
    pub login_grace_time: Option<Duration>,
    /// The least time between a request and its USERAUTH_FAILURE (sshd enforces a
    /// few milliseconds). The reply is held back with a timer; the connection keeps
    /// running. Not applied to a first `none` request. Default: none.
    pub failure_delay: Duration,
    /// The methods offered (default: publickey, password, keyboard-interactive).
    /// `none` succeeds only if it is listed here and the application accepts it.
    pub methods: Vec<AuthMethod>,
    /// Required method chains (`AuthenticationMethods`): the user must complete every
    /// method of one chain, in order; each step before the last answers with partial
    /// success. Empty: any one method of [`Self::methods`] suffices. See
    /// [`parse_method_chains`](super::parse_method_chains).
    pub method_chains: Vec<Vec<AuthMethod>>,
    /// Signature algorithms accepted for `publickey` (`PubkeyAcceptedAlgorithms`);
    /// a certificate is accepted when the algorithm it signs with is listed.
    pub publickey_algorithms: Vec<SignatureAlgorithm>,
    /// Signature algorithms accepted for `hostbased` (`HostbasedAcceptedAlgorithms`).
    pub hostbased_algorithms: Vec<SignatureAlgorithm>,
    /// CA keys whose user certificates are trusted (`TrustedUserCAKeys`).
    pub trusted_user_ca_keys: Vec<PublicKey>,
    /// Algorithms a CA may sign certificates with (`CASignatureAlgorithms`).
    pub ca_signature_algorithms: Vec<SignatureAlgorithm>,
    /// Wall-clock time for certificate validity. Without it every certificate is
    /// refused, since its validity window cannot be checked.
    pub time: Option<Arc<dyn TimeProvider>>,
}

impl Default for ServerAuthConfig {
    fn default() -> Self {
        Self {
            banner: None,
            max_auth_tries: 6,
            login_grace_time: Some(Duration::from_secs(120)),
            failure_delay: Duration::ZERO,
            methods: vec![
                AuthMethod::PublicKey,
                AuthMethod::Password,
                AuthMethod::KeyboardInteractive,
            ],
            method_chains: Vec::new(),
            publickey_algorithms: SignatureAlgorithm::DEFAULT_HOST_KEY.to_vec(),
            hostbased_algorithms: SignatureAlgorithm::DEFAULT_HOST_KEY.to_vec(),
            trusted_user_ca_keys: Vec::new(),
            ca_signature_algorithms: DEFAULT_CA_ALGORITHMS.to_vec(),
            time: None,
        }
    }
}
