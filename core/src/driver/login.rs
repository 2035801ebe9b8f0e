//! What a client authenticates with: the user, identities (key files, keys in
//! memory, the ssh-agent) and the order of methods, in OpenSSH's manner.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use zeroize::Zeroizing;

use super::agent::SSH_AUTH_SOCK;
use crate::auth::{AuthMethod, PublicKeyCredential};
use crate::keys::{Certificate, KeyError, PrivateKey};

/// The default identity files OpenSSH's client tries, in `~/.ssh`, in order
/// (without the DSA, security-key and XMSS ones this crate does not support).
pub const DEFAULT_IDENTITY_FILES: [&str; 3] = ["id_ed25519", "id_ecdsa", "id_rsa"];

/// OpenSSH's default `NumberOfPasswordPrompts`.
pub const DEFAULT_PASSWORD_PROMPTS: u32 = 3;

/// How a client logs in: used by
/// [`Connection::authenticate`](super::Connection::authenticate) and
/// [`connect_and_authenticate`](super::connect_and_authenticate).
///
/// The driver tries `none` first (to learn the server's methods), then the methods
/// in [`Self::methods`] order (OpenSSH's default: publickey, keyboard-interactive,
/// password) while the server lists them: every identity once for publickey (agent
/// keys first, then key files and keys given in memory), and up to
/// [`Self::password_prompts`] tries each for keyboard-interactive and password,
/// answered by the [`ClientHandler`](super::ClientHandler).
///
/// Key files are read and decrypted by the driver (never by the engine), each one
/// only when its turn comes; a `-cert.pub` file next to a key is offered first, as
/// a certificate. A file that cannot be read or decrypted is skipped.
///
/// ```no_run
/// use sansh_core::driver::Login;
/// // As `ssh alice@host` would: the agent from SSH_AUTH_SOCK, ~/.ssh/id_* keys.
/// let login = Login::openssh("alice");
/// // Or chosen explicitly:
/// let login = Login::new("alice")
///     .identity_file_with_passphrase("/keys/deploy", "secret")
///     .agent("/run/user/1000/ssh-agent.sock")
///     .password_prompts(1);
/// # let _ = login;
/// ```
#[derive(Clone)]
pub struct Login {
    pub(crate) user: String,
    pub(crate) files: Vec<IdentityFile>,
    pub(crate) keys: Vec<PublicKeyCredential>,
    pub(crate) agent: Option<PathBuf>,
    pub(crate) methods: Vec<AuthMethod>,
    pub(crate) password_prompts: u32,
}

/// A key file to try, with its passphrase if known.
#[derive(Clone)]
pub(crate) struct IdentityFile {
    pub(crate) path: PathBuf,
    pub(crate) passphrase: Option<Zeroizing<String>>,
    /// A default identity: skipped silently when it does not exist.
    pub(crate) optional: bool,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let files: Vec<&Path> = self.files.iter().map(|f| f.path.as_path()).collect();
        f.debug_struct("Login")
            .field("user", &self.user)
            .field("files", &files)
            .field("keys", &self.keys.len())
            .field("agent", &self.agent)
            .field("methods", &self.methods)
            .field("password_prompts", &self.password_prompts)
            .finish()
    }
}

impl Login {
    /// Logs in as `user` with no identities yet: only keyboard-interactive and
    /// password (if the handler answers them) until keys or an agent are added.
    pub fn new(user: impl Into<String>) -> Self {
        Self {
            user: user.into(),
            files: Vec::new(),
            keys: Vec::new(),
            agent: None,
            methods: AuthMethod::OPENSSH_ORDER.to_vec(),
            password_prompts: DEFAULT_PASSWORD_PROMPTS,
        }
    }

    /// OpenSSH's client defaults: the agent named by `SSH_AUTH_SOCK` (if set) and
    /// the default identities in `$HOME/.ssh` (if `HOME` is set).
    pub fn openssh(user: impl Into<String>) -> Self {
        let mut login = Self::new(user);
        if let Some(socket) = std::env::var_os(SSH_AUTH_SOCK).filter(|s| !s.is_empty()) {
            login = login.agent(socket);
        }
        if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
            login = login.default_identities_in(Path::new(&home).join(".ssh"));
        }
        login
    }

    /// Adds the default identity files ([`DEFAULT_IDENTITY_FILES`]) of the
    /// directory `ssh_dir` (normally `~/.ssh`); those that do not exist are skipped.
    /// Encrypted ones get their passphrase from
    /// [`ClientHandler::key_passphrase`](super::ClientHandler::key_passphrase).
    pub fn default_identities_in(mut self, ssh_dir: impl AsRef<Path>) -> Self {
        for name in DEFAULT_IDENTITY_FILES {
            self.files.push(IdentityFile {
                path: ssh_dir.as_ref().join(name),
                passphrase: None,
                optional: true,
            });
        }
        self
    }

    /// Adds a private key file (any format [`PrivateKey::from_pem`] reads). An
    /// encrypted one gets its passphrase from
    /// [`ClientHandler::key_passphrase`](super::ClientHandler::key_passphrase).
    pub fn identity_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.files.push(IdentityFile {
            path: path.into(),
            passphrase: None,
            optional: false,
        });
        self
    }

    /// Adds an encrypted private key file with its passphrase.
    pub fn identity_file_with_passphrase(
        mut self,
        path: impl Into<PathBuf>,
        passphrase: impl Into<String>,
    ) -> Self {
        self.files.push(IdentityFile {
            path: path.into(),
            passphrase: Some(Zeroizing::new(passphrase.into())),
            optional: false,
        });
        self
    }

    /// Adds a key held in memory.
    pub fn key(self, key: Arc<PrivateKey>) -> Self {
        self.credential(PublicKeyCredential::from_private_key(key))
    }

    /// Adds a ready credential (a key with its certificate, ...). An external key
    /// ([`PublicKeyCredential::external`]) is signed by the agent, so it needs
    /// [`Self::agent`].
    pub fn credential(mut self, credential: PublicKeyCredential) -> Self {
        self.keys.push(credential);
        self
    }

    /// Uses the ssh-agent listening on the Unix socket `path`.
    pub fn agent(mut self, path: impl Into<PathBuf>) -> Self {
        self.agent = Some(path.into());
        self
    }

    /// Uses no agent (OpenSSH's `IdentityAgent none`).
    pub fn no_agent(mut self) -> Self {
        self.agent = None;
        self
    }

    /// The methods to try, in order (OpenSSH's `PreferredAuthentications`). `none`
    /// is always sent first and need not be listed; hostbased is not driven.
    pub fn methods(mut self, order: &[AuthMethod]) -> Self {
        self.methods = order.to_vec();
        self
    }

    /// Tries each for keyboard-interactive and password (OpenSSH's
    /// `NumberOfPasswordPrompts`, default 3).
    pub fn password_prompts(mut self, tries: u32) -> Self {
        self.password_prompts = tries;
        self
    }

    /// The user name.
    pub fn user(&self) -> &str {
        &self.user
    }
}

/// Why a key file could not be used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LoadError {
    #[error("read: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// Reads the private key at `path` (and its certificate at `path-cert.pub`, if
/// present): the credentials to offer, the certificate first.
pub(crate) fn load_identity(
    path: &Path,
    passphrase: Option<&str>,
) -> Result<Vec<PublicKeyCredential>, LoadError> {
    let text = Zeroizing::new(std::fs::read_to_string(path)?);
    let key = Arc::new(PrivateKey::from_pem(&text, passphrase.map(str::as_bytes))?);
    let mut credentials = Vec::with_capacity(2);
    if let Some(certificate) = read_certificate(path) {
        if let Ok(credential) = PublicKeyCredential::with_certificate(certificate, key.clone()) {
            credentials.push(credential);
        }
    }
    credentials.push(PublicKeyCredential::from_private_key(key));
    Ok(credentials)
}

/// The certificate next to a key file, when there is a readable one.
fn read_certificate(key_path: &Path) -> Option<Certificate> {
    let mut name = key_path.as_os_str().to_owned();
    name.push("-cert.pub");
    let line = std::fs::read_to_string(PathBuf::from(name)).ok()?;
    Certificate::from_openssh(line.trim()).ok().map(|(c, _)| c)
}
