//! User handlers: the application's async answers to the engine's decisions.
//!
//! The engine never awaits application code. When it needs a decision (is this host
//! key trusted? may this user log in? later: may this channel open?) the driver spawns
//! the handler's future on the runtime and posts the answer back when it resolves.
//! Meanwhile the connection keeps running: the socket is read, keepalives and rekeys
//! go on, so a handler that looks something up over the network stalls nothing.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;

use zeroize::Zeroizing;

use crate::auth::{AuthMethod, Challenge, KeyboardInteractivePrompt, Permissions};
use crate::keys::{Certificate, PublicKey};

/// The client application's decisions, made asynchronously.
///
/// Implement it with `async fn`:
///
/// ```
/// use sansh_core::driver::ClientHandler;
/// use sansh_core::keys::PublicKey;
///
/// /// Trusts exactly one host key (e.g. read from known_hosts beforehand).
/// struct PinnedKey(PublicKey);
///
/// impl ClientHandler for PinnedKey {
///     async fn check_server_key(&self, key: &PublicKey) -> bool {
///         *key == self.0
///     }
/// }
/// ```
///
/// New decisions come as new methods with a default answer, so implementations keep
/// compiling.
pub trait ClientHandler: Send + Sync + 'static {
    /// Whether to trust the server's host key (already proven: the server's
    /// signature over the exchange hash verified). `false` ends the connection with
    /// [`ConnectionError::HostKeyRejected`](crate::ConnectionError::HostKeyRejected).
    ///
    /// Called for the first key exchange only; a re-exchange must present the same
    /// key, which the engine checks itself.
    fn check_server_key(&self, key: &PublicKey) -> impl Future<Output = bool> + Send;

    /// Whether to trust the server's host key when it came in an OpenSSH host
    /// certificate (already proven, like [`check_server_key`](Self::check_server_key);
    /// the certificate itself is not checked yet). By default the certified key is
    /// judged as a plain key, as ssh does when no `@cert-authority` vouches for it;
    /// [`KnownHosts::check_certificate`](crate::known_hosts::KnownHosts::check_certificate)
    /// judges the certificate by the authorities of a known_hosts file.
    fn check_server_certificate(
        &self,
        certificate: &Certificate,
    ) -> impl Future<Output = bool> + Send {
        self.check_server_key(certificate.key())
    }

    /// The password of `user` for a `password` attempt, or `None` to skip the
    /// method (the default). Asked once per try (see
    /// [`Login::password_prompts`](super::Login::password_prompts)).
    fn password(&self, user: &str) -> impl Future<Output = Option<Zeroizing<String>>> + Send {
        let _ = user;
        async { None }
    }

    /// The answers to one keyboard-interactive round (one per prompt, in order), or
    /// `None` to give up on the method (the default). Rounds without prompts are
    /// answered without asking.
    fn keyboard_interactive(
        &self,
        user: &str,
        prompt: &KeyboardInteractivePrompt,
    ) -> impl Future<Output = Option<Vec<Zeroizing<String>>>> + Send {
        let _ = (user, prompt);
        async { None }
    }

    /// A new password when the server says the old one has expired (`prompt` is its
    /// message), or `None` to give up on this attempt (the default).
    fn change_password(
        &self,
        user: &str,
        prompt: &str,
    ) -> impl Future<Output = Option<Zeroizing<String>>> + Send {
        let _ = (user, prompt);
        async { None }
    }

    /// The passphrase of the encrypted key file at `path`, or `None` to skip the key
    /// (the default).
    fn key_passphrase(
        &self,
        path: &Path,
    ) -> impl Future<Output = Option<Zeroizing<String>>> + Send {
        let _ = path;
        async { None }
    }

    /// The server's banner (RFC 4252 §5.4, control characters removed), to show
    /// before authentication goes on. Ignored by default.
    fn banner(&self, text: &str) {
        let _ = text;
    }
}

/// A shared handler answers as the handler it shares: hand one clone to `connect`
/// and keep another for [`Connection::authenticate`](super::Connection::authenticate).
impl<H: ClientHandler> ClientHandler for Arc<H> {
    fn check_server_key(&self, key: &PublicKey) -> impl Future<Output = bool> + Send {
        (**self).check_server_key(key)
    }
    fn check_server_certificate(
        &self,
        certificate: &Certificate,
    ) -> impl Future<Output = bool> + Send {
        (**self).check_server_certificate(certificate)
    }
    fn password(&self, user: &str) -> impl Future<Output = Option<Zeroizing<String>>> + Send {
        (**self).password(user)
    }
    fn keyboard_interactive(
        &self,
        user: &str,
        prompt: &KeyboardInteractivePrompt,
    ) -> impl Future<Output = Option<Vec<Zeroizing<String>>>> + Send {
        (**self).keyboard_interactive(user, prompt)
    }
    fn change_password(
        &self,
        user: &str,
        prompt: &str,
    ) -> impl Future<Output = Option<Zeroizing<String>>> + Send {
        (**self).change_password(user, prompt)
    }
    fn key_passphrase(
        &self,
        path: &Path,
    ) -> impl Future<Output = Option<Zeroizing<String>>> + Send {
        (**self).key_passphrase(path)
    }
    fn banner(&self, text: &str) {
        (**self).banner(text)
    }
}

/// The server application's verdict on one authentication request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthDecision {
    /// The user is in (or, for a public key query, the key would do).
    Accept,
    /// The user is in, with restrictions on the session (e.g. `authorized_keys`
    /// options).
    AcceptWith(Permissions),
    /// Refused: counted toward `max_auth_tries`.
    Reject,
    /// The method passed but the user must also pass one of these.
    PartialSuccess(Vec<AuthMethod>),
    /// (Password only) The password has expired: ask the client for a new one with
    /// this prompt.
    ChangePassword(String),
    /// (Keyboard-interactive only) Another round of prompts.
    Challenge(Challenge),
}

/// The server application's decisions, made asynchronously.
///
/// Every method has a default that refuses, so `impl ServerHandler for MyServer {}`
/// is a server nobody can log in to. Each call runs as its own task: a handler that
/// looks a password up over the network stalls nothing; the client waits for its
/// answer while the connection keeps running.
///
/// ```
/// use sansh_core::driver::{AuthDecision, ServerHandler};
/// use sansh_core::keys::{Certificate, PublicKey};
///
/// struct OneUser { key: PublicKey }
///
/// impl ServerHandler for OneUser {
///     async fn auth_publickey(&self, user: &str, key: &PublicKey, _: Option<&Certificate>)
///         -> AuthDecision
///     {
///         if user == "alice" && *key == self.key { AuthDecision::Accept } else { AuthDecision::Reject }
///     }
/// }
/// ```
pub trait ServerHandler: Send + Sync + 'static {
    /// The `none` method: whether `user` may log in without credentials. Rejects by
    /// default (and must be listed in `ServerAuthConfig::methods` to be asked).
    fn auth_none(&self, user: &str) -> impl Future<Output = AuthDecision> + Send {
        let _ = user;
        async { AuthDecision::Reject }
    }

    /// A password attempt. Rejects by default.
    fn auth_password(
        &self,
        user: &str,
        password: &str,
    ) -> impl Future<Output = AuthDecision> + Send {
        let _ = (user, password);
        async { AuthDecision::Reject }
    }

    /// A password change after [`AuthDecision::ChangePassword`]: the old and the new
    /// password. Rejects by default.
    fn auth_password_change(
        &self,
        user: &str,
        old: &str,
        new: &str,
    ) -> impl Future<Output = AuthDecision> + Send {
        let _ = (user, old, new);
        async { AuthDecision::Reject }
    }

    /// Whether `key` may log `user` in. Asked when the client only queries the key
    /// (any accepting verdict, partial success included, then answers "this key
    /// would do") and again once the engine has verified its signature (where the
    /// verdict counts), so it must give the same answer both times. `certificate` is a user certificate for `key` that a
    /// configured trusted CA signed and that is valid now for this user and
    /// address; a certificate from any other CA is refused without asking. Rejects
    /// by default.
    fn auth_publickey(
        &self,
        user: &str,
        key: &PublicKey,
        certificate: Option<&Certificate>,
    ) -> impl Future<Output = AuthDecision> + Send {
        let _ = (user, key, certificate);
        async { AuthDecision::Reject }
    }

    /// Keyboard-interactive: `responses` is `None` when the client starts the method
    /// (answer with [`AuthDecision::Challenge`]) and the answers to the latest
    /// challenge afterwards. Rejects by default.
    fn auth_keyboard_interactive(
        &self,
        user: &str,
        responses: Option<&[Zeroizing<String>]>,
    ) -> impl Future<Output = AuthDecision> + Send {
        let _ = (user, responses);
        async { AuthDecision::Reject }
    }

    /// Host-based: the client host's `key` (signature verified), the host name and
    /// user it claims. Rejects by default.
    fn auth_hostbased(
        &self,
        user: &str,
        key: &PublicKey,
        client_host: &str,
        client_user: &str,
    ) -> impl Future<Output = AuthDecision> + Send {
        let _ = (user, key, client_host, client_user);
        async { AuthDecision::Reject }
    }
}

/// One server authentication question, owned so that it can move into the task that
/// asks the handler.
pub(crate) enum Question {
    None,
    Password(Zeroizing<String>),
    PasswordChange {
        old: Zeroizing<String>,
        new: Zeroizing<String>,
    },
    PublicKey {
        key: PublicKey,
        certificate: Option<Box<Certificate>>,
    },
    KeyboardInteractive(Option<Vec<Zeroizing<String>>>),
    Hostbased {
        key: PublicKey,
        client_host: String,
        client_user: String,
    },
}

/// A boxed, sendable future: what the driver spawns for a handler call.
pub(crate) type Answer<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// [`ClientHandler`] in a form that can live behind `dyn` (its futures boxed and
/// owning the handler).
pub(crate) trait ClientDecisions: Send + Sync {
    fn check_server_key(self: Arc<Self>, key: PublicKey) -> Answer<bool>;
    fn check_server_certificate(self: Arc<Self>, certificate: Certificate) -> Answer<bool>;
}

impl<H: ClientHandler> ClientDecisions for H {
    fn check_server_key(self: Arc<Self>, key: PublicKey) -> Answer<bool> {
        Box::pin(async move { ClientHandler::check_server_key(&*self, &key).await })
    }
    fn check_server_certificate(self: Arc<Self>, certificate: Certificate) -> Answer<bool> {
        Box::pin(async move { ClientHandler::check_server_certificate(&*self, &certificate).await })
    }
}

/// [`ServerHandler`] behind `dyn`.
pub(crate) trait ServerDecisions: Send + Sync {
    fn decide(self: Arc<Self>, user: String, question: Question) -> Answer<AuthDecision>;
}

impl<H: ServerHandler> ServerDecisions for H {
    fn decide(self: Arc<Self>, user: String, question: Question) -> Answer<AuthDecision> {
        Box::pin(async move {
            let handler = &*self;
            match question {
                Question::None => handler.auth_none(&user).await,
                Question::Password(password) => handler.auth_password(&user, &password).await,
                Question::PasswordChange { old, new } => {
                    handler.auth_password_change(&user, &old, &new).await
                }
                Question::PublicKey { key, certificate } => {
                    handler
                        .auth_publickey(&user, &key, certificate.as_deref())
                        .await
                }
                Question::KeyboardInteractive(responses) => {
                    handler
                        .auth_keyboard_interactive(&user, responses.as_deref())
                        .await
                }
                Question::Hostbased {
                    key,
                    client_host,
                    client_user,
                } => {
                    handler
                        .auth_hostbased(&user, &key, &client_host, &client_user)
                        .await
                }
            }
        })
    }
}

/// The handler of one connection, by role.
#[derive(Clone)]
pub(crate) enum Handler {
    Client(Arc<dyn ClientDecisions>),
    Server(Arc<dyn ServerDecisions>),
}
