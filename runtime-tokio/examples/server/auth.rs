//! Who may log in: public keys judged against an `authorized_keys` file (with its
//! options), and passwords compared in constant time.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use sansh_tokio::core::auth::{self, TimeProvider};
use sansh_tokio::core::authorized_keys::{
    self, AuthorizationRequest, AuthorizedKeys, PresentedKey,
};
use sansh_tokio::core::crypto::{SecureRandom, SystemRandom};
use sansh_tokio::core::keys::{Certificate, PublicKey};
use sansh_tokio::{AuthDecision, ServerHandler};
use zeroize::Zeroizing;

use crate::args::PasswordArg;

/// Characters of generated passwords: letters and digits without look-alikes.
const PASSWORD_ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
/// Length of a generated password (about 93 bits).
const PASSWORD_LEN: usize = 16;

/// The wall clock, for `expiry-time=` and certificate validity.
#[derive(Debug)]
pub(crate) struct SystemClock;

impl TimeProvider for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// What every connection checks credentials against.
pub(crate) struct Credentials {
    /// The server's user: the only name public keys log in as.
    account: String,
    /// Where the keys came from (for messages).
    authorized_keys_file: Option<PathBuf>,
    authorized_keys: AuthorizedKeys,
    /// Accepted passwords by user name.
    passwords: Vec<PasswordArg>,
}

impl Credentials {
    /// Credentials for `account`: the keys of `authorized_keys` (the file must exist
    /// when given; `None` reads `~/.ssh/authorized_keys` if there is one) and the
    /// given passwords.
    pub(crate) fn load(
        account: &str,
        home: &Path,
        authorized_keys: Option<&Path>,
        passwords: Vec<PasswordArg>,
    ) -> Result<Self, String> {
        let (file, text) = match authorized_keys {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                (Some(path.to_owned()), text)
            }
            None => {
                let path = home.join(".ssh/authorized_keys");
                match std::fs::read_to_string(&path) {
                    Ok(text) => (Some(path), text),
                    Err(_) => (None, String::new()),
                }
            }
        };
        Ok(Self {
            account: account.to_owned(),
            authorized_keys_file: file,
            authorized_keys: AuthorizedKeys::parse(&text),
            passwords,
        })
    }

    /// What was loaded, one line each, for the server's start-up output.
    pub(crate) fn describe(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if let Some(file) = &self.authorized_keys_file {
            lines.push(format!(
                "{} authorized key(s) for {} from {}",
                self.authorized_keys.entries().len(),
                self.account,
                file.display()
            ));
            for invalid in self.authorized_keys.invalid_lines() {
                lines.push(format!("  skipped {}: {invalid}", file.display()));
            }
        }
        for password in &self.passwords {
            lines.push(format!("password login for {}", password.user));
        }
        lines
    }

    /// The `cert-authority` keys: the engine must trust them for their user
    /// certificates to reach [`ConnectionAuth`], which then applies the line's options.
    pub(crate) fn certificate_authorities(&self) -> Vec<PublicKey> {
        self.authorized_keys
            .entries()
            .iter()
            .filter(|entry| entry.options.cert_authority)
            .map(|entry| entry.key.clone())
            .collect()
    }

    fn password_matches(&self, user: &str, password: &str) -> bool {
        // Every entry is compared, so the time taken does not say which one matched.
        self.passwords
            .iter()
            .map(|entry| entry.user == user && constant_time_eq(&entry.password, password))
            .fold(false, |any, matched| any | matched)
    }
}

/// Whether two secrets are equal, in time independent of where they differ and of
/// their lengths (both are hashed first).
fn constant_time_eq(a: &str, b: &str) -> bool {
    use aws_lc_rs::digest::{SHA256, digest};
    let (a, b) = (digest(&SHA256, a.as_bytes()), digest(&SHA256, b.as_bytes()));
    aws_lc_rs::constant_time::verify_slices_are_equal(a.as_ref(), b.as_ref()).is_ok()
}

/// A new random password (for the current user when none was given).
pub(crate) fn one_time_password() -> Zeroizing<String> {
    let mut rng = SystemRandom;
    let mut password = Zeroizing::new(String::with_capacity(PASSWORD_LEN));
    // Rejection sampling keeps every character equally likely.
    let limit = 256 - 256 % PASSWORD_ALPHABET.len();
    while password.len() < PASSWORD_LEN {
        let mut byte = [0u8];
        rng.fill(&mut byte);
        let value = usize::from(byte[0]);
        if value < limit {
            password.push(char::from(
                PASSWORD_ALPHABET[value % PASSWORD_ALPHABET.len()],
            ));
        }
    }
    password
}

/// The full `authorized_keys` permissions granted to each key that was accepted on
/// one connection: the session layer finds the authenticating key's (its
/// `permitopen=`/`permitlisten=` lists, which the engine's permissions do not carry).
#[derive(Debug, Clone, Default)]
pub(crate) struct KeyGrants(Arc<Mutex<HashMap<Vec<u8>, authorized_keys::Permissions>>>);

impl KeyGrants {
    fn record(&self, key: &PublicKey, permissions: authorized_keys::Permissions) {
        let mut grants = self.0.lock().unwrap_or_else(|e| e.into_inner());
        grants.insert(key.to_blob(), permissions);
    }

    /// What the `authorized_keys` line accepting `key` grants.
    pub(crate) fn for_key(&self, key: &PublicKey) -> Option<authorized_keys::Permissions> {
        let grants = self.0.lock().unwrap_or_else(|e| e.into_inner());
        grants.get(&key.to_blob()).cloned()
    }
}

/// The [`ServerHandler`] of one connection: it knows the client's address (for
/// `from=`) and keeps what it granted.
pub(crate) struct ConnectionAuth {
    credentials: Arc<Credentials>,
    peer: IpAddr,
    grants: KeyGrants,
}

impl ConnectionAuth {
    /// The handler for a client at `peer`, recording its grants in `grants`.
    pub(crate) fn new(credentials: Arc<Credentials>, peer: IpAddr, grants: KeyGrants) -> Self {
        Self {
            credentials,
            peer,
            grants,
        }
    }
}

/// The engine's session permissions for what an `authorized_keys` line grants.
fn session_permissions(granted: &authorized_keys::Permissions) -> auth::Permissions {
    let mut permissions = auth::Permissions::default();
    permissions.force_command = granted.force_command.clone();
    permissions.pty = granted.pty;
    permissions.port_forwarding = granted.port_forwarding;
    permissions.agent_forwarding = granted.agent_forwarding;
    permissions.x11_forwarding = granted.x11_forwarding;
    permissions.user_rc = granted.user_rc;
    permissions
}

impl ServerHandler for ConnectionAuth {
    async fn auth_password(&self, user: &str, password: &str) -> AuthDecision {
        if self.credentials.password_matches(user, password) {
            AuthDecision::Accept
        } else {
            AuthDecision::Reject
        }
    }

    async fn auth_publickey(
        &self,
        user: &str,
        key: &PublicKey,
        certificate: Option<&Certificate>,
    ) -> AuthDecision {
        if user != self.credentials.account {
            return AuthDecision::Reject;
        }
        let presented = match certificate {
            Some(cert) => PresentedKey::Certificate(cert),
            None => PresentedKey::Key(key),
        };
        let request = AuthorizationRequest::new(user, presented, self.peer, SystemTime::now());
        match self.credentials.authorized_keys.authorize(&request) {
            Ok(granted) => {
                self.grants.record(key, granted.permissions.clone());
                AuthDecision::AcceptWith(session_permissions(&granted.permissions))
            }
            Err(_) => AuthDecision::Reject,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sansh_tokio::core::keys::{KeyType, PrivateKey};

    fn key(seed: u64) -> PublicKey {
        let mut rng = sansh_tokio::core::crypto::SeededRandom::new(seed);
        PrivateKey::generate(KeyType::Ed25519, None, &mut rng)
            .expect("ed25519")
            .public_key()
    }

    fn credentials(authorized_keys: &str, passwords: &[(&str, &str)]) -> Arc<Credentials> {
        Arc::new(Credentials {
            account: "alice".into(),
            authorized_keys_file: None,
            authorized_keys: AuthorizedKeys::parse(authorized_keys),
            passwords: passwords
                .iter()
                .map(|(user, password)| PasswordArg {
                    user: (*user).into(),
                    password: Zeroizing::new((*password).into()),
                })
                .collect(),
        })
    }

    fn handler(credentials: Arc<Credentials>, peer: &str) -> ConnectionAuth {
        ConnectionAuth::new(
            credentials,
            peer.parse().expect("address"),
            KeyGrants::default(),
        )
    }

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(future)
    }

    #[test]
    fn a_listed_key_logs_in_the_account_with_its_line_options() {
        let k = key(1);
        let text = format!("command=\"uptime\",no-pty {}\n", k.to_openssh("k"));
        let auth = handler(credentials(&text, &[]), "127.0.0.1");
        let decision = block_on(auth.auth_publickey("alice", &k, None));
        let AuthDecision::AcceptWith(permissions) = decision else {
            panic!("expected acceptance, got {decision:?}");
        };
        assert_eq!(permissions.force_command.as_deref(), Some("uptime"));
        assert!(!permissions.pty);
        assert!(auth.grants.for_key(&k).is_some_and(|p| !p.pty));
    }

    #[test]
    fn a_key_logs_in_no_other_user_than_the_account() {
        let k = key(1);
        let auth = handler(credentials(&k.to_openssh("k"), &[]), "127.0.0.1");
        assert_eq!(
            block_on(auth.auth_publickey("bob", &k, None)),
            AuthDecision::Reject
        );
    }

    #[test]
    fn an_unlisted_key_is_rejected() {
        let auth = handler(credentials(&key(1).to_openssh("k"), &[]), "127.0.0.1");
        assert_eq!(
            block_on(auth.auth_publickey("alice", &key(2), None)),
            AuthDecision::Reject
        );
    }

    #[test]
    fn from_is_checked_against_the_clients_address() {
        let k = key(1);
        let text = format!("from=\"10.0.0.0/8\" {}", k.to_openssh("k"));
        let inside = handler(credentials(&text, &[]), "10.1.2.3");
        let outside = handler(credentials(&text, &[]), "127.0.0.1");
        assert!(matches!(
            block_on(inside.auth_publickey("alice", &k, None)),
            AuthDecision::AcceptWith(_)
        ));
        assert_eq!(
            block_on(outside.auth_publickey("alice", &k, None)),
            AuthDecision::Reject
        );
    }

    #[test]
    fn a_password_logs_in_only_its_own_user() {
        let auth = handler(credentials("", &[("bob", "pw1"), ("carol", "pw2")]), "::1");
        assert_eq!(
            block_on(auth.auth_password("bob", "pw1")),
            AuthDecision::Accept
        );
        assert_eq!(
            block_on(auth.auth_password("carol", "pw2")),
            AuthDecision::Accept
        );
        assert_eq!(
            block_on(auth.auth_password("bob", "pw2")),
            AuthDecision::Reject
        );
        assert_eq!(
            block_on(auth.auth_password("bob", "pw")),
            AuthDecision::Reject
        );
        assert_eq!(
            block_on(auth.auth_password("dave", "pw1")),
            AuthDecision::Reject
        );
    }

    #[test]
    fn generated_passwords_use_the_alphabet_and_differ() {
        let (a, b) = (one_time_password(), one_time_password());
        assert_eq!(a.len(), PASSWORD_LEN);
        assert!(a.bytes().all(|c| PASSWORD_ALPHABET.contains(&c)));
        assert_ne!(*a, *b);
    }
}
