//! SFTP errors: the terminal [`SessionError`], the catalogue of what a peer can do
//! wrong ([`PeerMisbehaved`]), packet decoding failures ([`DecodeError`]), and caller
//! mistakes ([`RequestError`] on the client, [`RespondError`] on the server).
//!
//! A failed request is not among them: that is an [`SftpError`](super::SftpError),
//! reported with the request's response.

use crate::sftp::{Extension, RequestId, RequestKind};
use crate::wire::WireError;

use super::wire::FrameError;

/// Why a packet body does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// A field is truncated, or bytes trail the last field.
    #[error(transparent)]
    Wire(#[from] WireError),
    /// ATTRS flags carry bits version 3 does not define.
    #[error("unknown attribute flags {0:#x}")]
    UnknownAttributeFlags(u32),
    /// A handle longer than the protocol allows.
    #[error("handle of {0} bytes exceeds the 256-byte limit")]
    HandleTooLong(usize),
    /// An extension name that is not UTF-8.
    #[error("extension name is not UTF-8")]
    ExtensionName,
}

/// What a peer did wrong that ends the session. Each names the offence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PeerMisbehaved {
    /// A packet longer than our cap, or of length zero.
    #[error("bad packet framing: {0}")]
    Framing(#[from] FrameError),
    /// (Server) The first packet was not SSH_FXP_INIT.
    #[error("packet type {0} before SSH_FXP_INIT")]
    RequestBeforeInit(u8),
    /// (Server) A second SSH_FXP_INIT.
    #[error("SSH_FXP_INIT sent twice")]
    DuplicateInit,
    /// A hello (INIT or VERSION) that does not decode.
    #[error("malformed hello: {0}")]
    MalformedHello(DecodeError),
    /// (Server) A request too short to carry a request id, so no status can answer it.
    #[error("packet type {0} without a request id")]
    MissingRequestId(u8),
    /// (Server) A request reusing the id of a request still in flight.
    #[error("request id {0} reused while in flight")]
    DuplicateRequestId(RequestId),
    /// (Client) The first packet was not SSH_FXP_VERSION.
    #[error("packet type {0} before SSH_FXP_VERSION")]
    ResponseBeforeVersion(u8),
    /// (Client) The server speaks a version other than 3.
    #[error("server speaks SFTP version {0}, not 3")]
    UnsupportedVersion(u32),
    /// (Client) A second SSH_FXP_VERSION.
    #[error("SSH_FXP_VERSION sent twice")]
    DuplicateVersion,
    /// (Client) A packet type that is not a response.
    #[error("unexpected packet type {0}")]
    UnexpectedPacket(u8),
    /// (Client) A response to no request in flight.
    #[error("response to unknown request id {0}")]
    UnknownRequestId(RequestId),
    /// (Client) A response of a type that cannot answer the request.
    #[error("packet type {reply} cannot answer {request:?}")]
    UnexpectedReply {
        /// What we asked.
        request: RequestKind,
        /// The packet type that came back.
        reply: u8,
    },
    /// (Client) A response that does not decode.
    #[error("malformed response of type {packet_type}: {error}")]
    MalformedResponse {
        /// The packet type.
        packet_type: u8,
        /// What was wrong with it.
        error: DecodeError,
    },
}

/// Why an SFTP session ended. Reported once, as the last event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The peer broke the protocol.
    #[error("peer misbehaved: {0}")]
    PeerMisbehaved(#[from] PeerMisbehaved),
    /// The byte stream ended. For a server this is the ordinary end of a session.
    #[error("the byte stream ended")]
    EndOfStream,
    /// The application closed the session.
    #[error("closed locally")]
    LocallyClosed,
}

/// Why the client engine refused to send a request. Nothing was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The server's SSH_FXP_VERSION (and limits, when negotiated) has not arrived yet;
    /// wait for the `Ready` event.
    #[error("the session is not ready: wait for the Ready event")]
    NotReady,
    /// The session has ended.
    #[error("the session has ended")]
    Closed,
    /// As many requests as the configured cap are in flight; wait for responses.
    #[error("{limit} requests already in flight")]
    TooManyInFlight {
        /// The cap.
        limit: usize,
    },
    /// The request would not fit in one packet the server accepts (for WRITE: the
    /// data exceeds the negotiated write length).
    #[error("request of {len} bytes exceeds the {max}-byte limit")]
    TooLarge {
        /// The request's size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// As many handles are open (or being opened) as the server allows.
    #[error("{limit} handles already open")]
    TooManyHandles {
        /// The server's `max_open_handles`.
        limit: u64,
    },
    /// The server did not advertise this extension.
    #[error("the server does not support {0}")]
    Unsupported(Extension),
    /// A handle longer than the protocol allows.
    #[error("handle of {0} bytes exceeds the 256-byte limit")]
    HandleTooLong(usize),
}

/// Why the server engine refused a response. Nothing was sent and the request is
/// still waiting for a valid answer (unless the error is `UnknownRequest` or `Closed`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RespondError {
    /// No request with this id is waiting for a response.
    #[error("no request {0} is waiting for a response")]
    UnknownRequest(RequestId),
    /// The session has ended.
    #[error("the session has ended")]
    Closed,
    /// The reply's kind cannot answer this request (e.g. DATA for a STAT).
    #[error("{reply} cannot answer {request:?}")]
    WrongReply {
        /// The request.
        request: RequestKind,
        /// The kind of reply given.
        reply: &'static str,
    },
    /// A handle longer than the configured limit.
    #[error("handle of {len} bytes exceeds the {max}-byte limit")]
    HandleTooLong {
        /// The handle's length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A handle that is already open.
    #[error("handle is already open")]
    DuplicateHandle,
    /// More data than the client asked for.
    #[error("{len} bytes of data for a read of {requested}")]
    TooMuchData {
        /// The data's length.
        len: usize,
        /// The length the client requested.
        requested: u32,
    },
    /// The response would exceed the packet limit; send less (e.g. fewer names).
    #[error("response of {len} bytes exceeds the {max}-byte packet limit")]
    TooLarge {
        /// The response's size.
        len: usize,
        /// The limit.
        max: usize,
    },
}
