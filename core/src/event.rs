//! What the engine reports to the application.

use bytes::Bytes;

use crate::channel::{
    ChannelId, ChannelOpenDecision, ChannelRequestDecision, GlobalRequestDecision,
    OpenFailureReason,
};
use crate::decision::TokenGuard;
use crate::error::ConnectionError;
use crate::keys::{Certificate, PublicKey};
use crate::transport::Negotiated;

/// Something the application must know about or decide. Drain with `poll_event` after
/// every call into the engine.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// (Client) The server proved possession of this host key; accept it with
    /// `accept_host_key` or refuse it with `reject_host_key`. The exchange waits for
    /// the answer while the rest of the transport keeps running; dropping the
    /// decision rejects the key.
    HostKey(HostKeyDecision),
    /// A key exchange finished and new keys are in use.
    KeyExchangeComplete {
        /// What was negotiated.
        algorithms: Negotiated,
        /// False for the first exchange, true for a rekey.
        rekey: bool,
    },
    /// A service was accepted: by the server (client side) or for the client (server side).
    ServiceAccepted(String),
    /// (Client) The server's banner (RFC 4252 §5.4), control characters removed: show
    /// it to the user before authentication goes on.
    AuthBanner(String),
    /// (Client) The server accepted our authentication; the connection protocol may
    /// start.
    AuthSuccess,
    /// (Client) The authentication attempt failed (RFC 4252 §5.1). With
    /// `partial_success` the method itself succeeded but the server wants more.
    /// Also reported when an attempt could not be made at all (no signature algorithm
    /// the server accepts for a key); the methods are then the last ones known.
    AuthFailure {
        /// The methods that can continue (may include names we do not implement).
        methods_that_can_continue: Vec<String>,
        /// The method succeeded, but more are required.
        partial_success: bool,
    },
    /// (Client) The server accepts a key the application signs with: sign and answer
    /// with `auth().answer_signature`.
    SignRequest(crate::auth::SignRequest),
    /// (Client) A keyboard-interactive round: answer with `auth().answer_prompts`.
    KeyboardInteractive(crate::auth::KeyboardInteractivePrompt),
    /// (Client) The server requires a new password: answer with
    /// `auth().change_password`.
    PasswordChange(crate::auth::PasswordChangeRequest),
    /// (Server) The client asks to authenticate: answer through `auth()`. Signatures
    /// have already been verified by the engine.
    AuthRequest(Box<crate::auth::AuthRequest>),
    /// (Server) The client is authenticated; the connection protocol may start.
    Authenticated(Box<crate::auth::AuthenticatedUser>),
    /// The peer sent SSH_MSG_DEBUG.
    Debug {
        /// Whether the peer asked for it to be shown to the user.
        always_display: bool,
        /// The text, control characters removed.
        message: String,
    },
    /// The peer asks to open a channel; answer with `channels().accept_open` or
    /// `reject_open` (RFC 4254 §5.1). Dropping the decision refuses the channel.
    ChannelOpenRequest(ChannelOpenDecision),
    /// The peer confirmed a channel we opened; it is ready for requests and data.
    ChannelOpened(ChannelId),
    /// The peer refused a channel we opened (RFC 4254 §5.1); the id is free again.
    ChannelOpenFailed {
        /// The channel we tried to open.
        id: ChannelId,
        /// The peer's reason code.
        reason: OpenFailureReason,
        /// Its text (control characters removed).
        description: String,
    },
    /// Data arrived on a channel: read until `read` (and `read_stderr`) return
    /// `None`; the next arrival reports this again.
    ChannelReadable(ChannelId),
    /// A channel whose write returned `Blocked` can take data again.
    ChannelWritable(ChannelId),
    /// The peer sent a channel request (RFC 4254 §6). When it wants a reply, answer
    /// with `channels().accept_request` or `reject_request`; dropping it answers
    /// failure.
    ChannelRequest(ChannelRequestDecision),
    /// The peer answered one of our channel requests that wanted a reply (answers
    /// come in the order of the requests).
    ChannelRequestResult {
        /// The channel.
        id: ChannelId,
        /// CHANNEL_SUCCESS (true) or CHANNEL_FAILURE (false).
        success: bool,
    },
    /// The peer sent EOF: it sends no more data; what was received is still readable.
    ChannelEof(ChannelId),
    /// CLOSE went both ways (RFC 4254 §5.3). Data still buffered stays readable; the
    /// id is free once it is read (or on `close`). Our requests still awaiting a
    /// reply get none.
    ChannelClosed(ChannelId),
    /// The peer sent a global request (RFC 4254 §4); when it wants a reply, answer
    /// with `channels().accept_global` or `reject_global`.
    GlobalRequest(GlobalRequestDecision),
    /// The peer answered one of our global requests that wanted a reply (answers come
    /// in the order of the requests).
    GlobalRequestResult {
        /// REQUEST_SUCCESS (true) or REQUEST_FAILURE (false).
        success: bool,
        /// For `tcpip-forward` of port 0: the port the server bound.
        bound_port: Option<u32>,
        /// The reply's request-specific data, raw.
        data: Bytes,
    },
    /// (Client) The server announced its host keys (`hostkeys-00@openssh.com`, OpenSSH
    /// PROTOCOL §2.5); compare them with known_hosts. Keys of unknown types are left
    /// out.
    HostKeysAnnounced(Vec<PublicKey>),
    /// The connection ended; this is always the last event.
    Closed(ConnectionError),
}

/// A server host key waiting for the application's verdict (e.g. from known_hosts).
#[derive(Debug)]
pub struct HostKeyDecision {
    pub(crate) guard: TokenGuard,
    key: PublicKey,
    /// Boxed: most host keys come without one, and events stay small.
    certificate: Option<Box<Certificate>>,
}

impl HostKeyDecision {
    pub(crate) fn new(guard: TokenGuard, key: PublicKey, certificate: Option<Certificate>) -> Self {
        Self {
            guard,
            key,
            certificate: certificate.map(Box::new),
        }
    }

    /// The host key the server proved it holds (its signature over the exchange hash
    /// has already been verified): the certified key when it came in a certificate.
    pub fn key(&self) -> &PublicKey {
        &self.key
    }

    /// The OpenSSH host certificate the key came in, when the server presented one.
    /// Nothing about it is checked yet: judge it against the certificate authorities
    /// you trust (e.g. [`KnownHosts::check_certificate`](crate::known_hosts::KnownHosts::check_certificate)),
    /// or judge [`key`](Self::key) as a plain key, as ssh does when no authority vouches.
    pub fn certificate(&self) -> Option<&Certificate> {
        self.certificate.as_deref()
    }
}

/// Removes control characters from text a peer sent, so it is safe to print.
pub(crate) fn sanitize(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect()
}
