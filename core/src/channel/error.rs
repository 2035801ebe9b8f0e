//! Per-operation channel errors: small and recoverable, unlike a
//! [`ConnectionError`](crate::ConnectionError).

/// Why a write to a channel took nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WriteError {
    /// The peer's window and our send queue are full; wait for
    /// [`Event::ChannelWritable`](crate::Event::ChannelWritable).
    #[error("channel blocked: the peer's window and our send queue are full")]
    Blocked,
    /// We already sent (or queued) EOF on this channel.
    #[error("EOF already sent on this channel")]
    Finished,
    /// The channel is closing or closed, or was never open.
    #[error("channel closed")]
    Closed,
}

/// Why a channel or global operation could not be done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ChannelError {
    /// The channel is closing or closed, or was never open.
    #[error("channel closed")]
    Closed,
    /// The connection has ended.
    #[error("the connection is closed")]
    ConnectionClosed,
    /// The connection protocol has not started (user authentication has not
    /// succeeded yet).
    #[error("the connection protocol has not started: not authenticated yet")]
    NotReady,
    /// The channel limit of the configuration is reached.
    #[error("too many channels")]
    TooManyChannels,
    /// Too many of our requests are queued or awaiting replies.
    #[error("too many requests pending")]
    TooManyPending,
    /// This request is only sent by the other side (e.g. `exit-status` by a server).
    #[error("the {0:?} request is sent by the other side only")]
    WrongSide(&'static str),
}
