//! What the server engine asks the application about a client's authentication, and
//! what it reports once the client is in.

use zeroize::Zeroizing;

use super::client_events::Prompt;
use super::{AuthMethod, Permissions};
use crate::decision::TokenGuard;
use crate::keys::{Certificate, PublicKey, SignatureAlgorithm};

/// A USERAUTH_REQUEST waiting for the application's verdict; answer it through
/// [`ServerConnection::auth`](crate::ServerConnection::auth) with
/// [`accept`](super::ServerAuth::accept), [`reject`](super::ServerAuth::reject) or a
/// method-specific answer. Dropping it unanswered rejects it.
///
/// Signatures have already been verified: a `publickey` or `hostbased` request with
/// `signed: true` proves possession of exactly the key it names.
pub struct AuthRequest {
    pub(crate) guard: TokenGuard,
    user: String,
    method: MethodRequest,
}

impl AuthRequest {
    pub(crate) fn new(guard: TokenGuard, user: String, method: MethodRequest) -> Self {
        Self {
            guard,
            user,
            method,
        }
    }

    /// The user name the client asks to log in as.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The method and what it carries.
    pub fn method(&self) -> &MethodRequest {
        &self.method
    }

    /// The method's kind.
    pub fn method_kind(&self) -> AuthMethod {
        self.method.kind()
    }
}

impl std::fmt::Debug for AuthRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthRequest")
            .field("user", &self.user)
            .field("method", &self.method)
            .finish_non_exhaustive()
    }
}

/// The method-specific part of an [`AuthRequest`].
#[non_exhaustive]
pub enum MethodRequest {
    /// `none`: accept only users who need no credentials.
    None,
    /// `password` (RFC 4252 §8). With `new_password` the client is changing its
    /// password after a [`password_change_required`](super::ServerAuth::password_change_required).
    Password {
        /// The password given (zeroized on drop, never printed by `Debug`).
        password: Zeroizing<String>,
        /// The new password, when changing it.
        new_password: Option<Zeroizing<String>>,
    },
    /// `publickey` (RFC 4252 §7).
    PublicKey {
        /// The key that signs (for a certificate, the certified key).
        key: PublicKey,
        /// The signature algorithm named in the request.
        algorithm: SignatureAlgorithm,
        /// The certificate, when the client offered one. Its CA signature has been
        /// verified.
        certificate: Option<Box<Certificate>>,
        /// The certificate was signed by one of the configured trusted user CA keys
        /// and is valid now, for this user, from the client's address: accepting it
        /// needs no further check. False for an unknown CA (the application may still
        /// trust it, e.g. through an `authorized_keys` `cert-authority` line).
        certificate_trusted: bool,
        /// False: the client only asks whether this key would be accepted (accepting
        /// answers PK_OK and does not log the user in). True: the engine has verified
        /// the client's signature with this key.
        signed: bool,
    },
    /// `keyboard-interactive` started (RFC 4256 §3.1): answer with a
    /// [`challenge`](super::ServerAuth::challenge), or accept or reject outright.
    KeyboardInteractive {
        /// The client's submethods hint (often empty).
        submethods: String,
    },
    /// The client's answers to the latest keyboard-interactive challenge (RFC 4256
    /// §3.4), one per prompt: accept, reject, or challenge again.
    KeyboardInteractiveResponses {
        /// The responses (zeroized on drop, never printed by `Debug`).
        responses: Vec<Zeroizing<String>>,
    },
    /// `hostbased` (RFC 4252 §9); the engine has verified the signature.
    Hostbased {
        /// The client host's key (for a certificate, the certified key).
        key: PublicKey,
        /// The signature algorithm named in the request.
        algorithm: SignatureAlgorithm,
        /// The host certificate, when the client offered one (CA signature verified;
        /// its CA is for the application to judge).
        certificate: Option<Box<Certificate>>,
        /// The client host's name as the client gives it.
        client_host: String,
        /// The user's name on the client host.
        client_user: String,
    },
}

impl MethodRequest {
    /// The method's kind.
    pub fn kind(&self) -> AuthMethod {
        match self {
            MethodRequest::None => AuthMethod::None,
            MethodRequest::Password { .. } => AuthMethod::Password,
            MethodRequest::PublicKey { .. } => AuthMethod::PublicKey,
            MethodRequest::KeyboardInteractive { .. }
            | MethodRequest::KeyboardInteractiveResponses { .. } => AuthMethod::KeyboardInteractive,
            MethodRequest::Hostbased { .. } => AuthMethod::Hostbased,
        }
    }
}

impl std::fmt::Debug for MethodRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MethodRequest::None => f.write_str("None"),
            MethodRequest::Password { new_password, .. } => f
                .debug_struct("Password")
                .field("password", &"<redacted>")
                .field("new_password", &new_password.as_ref().map(|_| "<redacted>"))
                .finish(),
            MethodRequest::PublicKey {
                key,
                algorithm,
                certificate,
                certificate_trusted,
                signed,
            } => f
                .debug_struct("PublicKey")
                .field("key", key)
                .field("algorithm", algorithm)
                .field("certificate", certificate)
                .field("certificate_trusted", certificate_trusted)
                .field("signed", signed)
                .finish(),
            MethodRequest::KeyboardInteractive { submethods } => f
                .debug_struct("KeyboardInteractive")
                .field("submethods", submethods)
                .finish(),
            MethodRequest::KeyboardInteractiveResponses { responses } => f
                .debug_struct("KeyboardInteractiveResponses")
                .field("responses", &format_args!("<{} redacted>", responses.len()))
                .finish(),
            MethodRequest::Hostbased {
                key,
                algorithm,
                certificate,
                client_host,
                client_user,
            } => f
                .debug_struct("Hostbased")
                .field("key", key)
                .field("algorithm", algorithm)
                .field("certificate", certificate)
                .field("client_host", client_host)
                .field("client_user", client_user)
                .finish(),
        }
    }
}

/// A keyboard-interactive round for the client (RFC 4256 §3.2).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Challenge {
    /// A name for the round (may be empty).
    pub name: String,
    /// An instruction shown before the prompts (may be empty).
    pub instruction: String,
    /// The prompts; none is allowed (only text to show).
    pub prompts: Vec<Prompt>,
}

/// A user the server has let in, reported by
/// [`Event::Authenticated`](crate::Event::Authenticated) and kept for the connection
/// layer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthenticatedUser {
    /// The user name.
    pub user: String,
    /// The methods completed, in order (more than one with method chains).
    pub methods: Vec<AuthMethod>,
    /// What the session may do: certificate restrictions combined with the
    /// application's (`accept_with`); `force_command` is the command to run instead
    /// of the client's.
    pub permissions: Permissions,
    /// The last public key that authenticated the user, if any.
    pub public_key: Option<PublicKey>,
    /// The key id of the user certificate used, if any (for logs).
    pub certificate_key_id: Option<String>,
}
