//! Errors: the terminal [`ConnectionError`], the catalogue of what a peer can do wrong
//! ([`PeerMisbehaved`]), disconnect reason codes, and caller mistakes ([`ApiMisuse`]).

use crate::wire::WireError;

/// Why a connection ended. Reported once, as the last event; the engine has queued a
/// DISCONNECT for the peer before it (where the transport still allowed one).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectionError {
    /// The peer broke the protocol; we disconnected it.
    #[error("peer misbehaved: {0}")]
    PeerMisbehaved(#[from] PeerMisbehaved),
    /// The peer sent SSH_MSG_DISCONNECT.
    #[error("peer disconnected ({reason}): {description}")]
    PeerDisconnected {
        /// The reason code it gave.
        reason: DisconnectReason,
        /// Its human-readable description (control characters removed).
        description: String,
    },
    /// The two sides share no algorithm of one kind.
    #[error("no common {kind} algorithm (ours: {ours}; theirs: {theirs})")]
    NoCommonAlgorithm {
        /// Which negotiation failed.
        kind: AlgorithmKind,
        /// Our list.
        ours: String,
        /// The peer's list.
        theirs: String,
    },
    /// The application rejected the server's host key (or dropped the decision).
    #[error("host key rejected")]
    HostKeyRejected,
    /// The server presented a different host key in a re-exchange.
    #[error("host key changed during re-exchange")]
    HostKeyChanged,
    /// The peer answered our KEXINIT with UNIMPLEMENTED (OpenSSH refuses a key
    /// re-exchange before user authentication).
    #[error("the peer refused the key exchange")]
    KeyExchangeRefused,
    /// A timer expired (key exchange, login grace, keepalive, ...).
    #[error("timed out: {0}")]
    TimedOut(TimerKind),
    /// The byte stream ended without a DISCONNECT.
    #[error("connection lost: the peer closed the stream")]
    ConnectionLost,
    /// The application closed the connection.
    #[error("closed locally: {0}")]
    LocallyClosed(String),
    /// (Server) The client failed authentication `max_auth_tries` times.
    #[error("too many authentication failures")]
    TooManyAuthenticationFailures,
}

impl ConnectionError {
    /// The DISCONNECT reason we send the peer for this error, if we send one.
    pub fn disconnect_reason(&self) -> Option<DisconnectReason> {
        match self {
            Self::PeerMisbehaved(p) => Some(p.disconnect_reason()),
            Self::NoCommonAlgorithm { .. } | Self::KeyExchangeRefused => {
                Some(DisconnectReason::KeyExchangeFailed)
            }
            Self::HostKeyRejected | Self::HostKeyChanged => {
                Some(DisconnectReason::HostKeyNotVerifiable)
            }
            Self::TimedOut(_) | Self::LocallyClosed(_) => Some(DisconnectReason::ByApplication),
            Self::TooManyAuthenticationFailures => {
                Some(DisconnectReason::NoMoreAuthMethodsAvailable)
            }
            Self::PeerDisconnected { .. } | Self::ConnectionLost => None,
        }
    }
}

/// A kind of negotiated algorithm (RFC 4253 §7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlgorithmKind {
    /// Key exchange method.
    Kex,
    /// Server host key / signature algorithm.
    HostKey,
    /// Encryption, client to server.
    CipherClientToServer,
    /// Encryption, server to client.
    CipherServerToClient,
    /// MAC, client to server.
    MacClientToServer,
    /// MAC, server to client.
    MacServerToClient,
    /// Compression, client to server.
    CompressionClientToServer,
    /// Compression, server to client.
    CompressionServerToClient,
}

impl std::fmt::Display for AlgorithmKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Kex => "key exchange",
            Self::HostKey => "host key",
            Self::CipherClientToServer => "cipher (client to server)",
            Self::CipherServerToClient => "cipher (server to client)",
            Self::MacClientToServer => "MAC (client to server)",
            Self::MacServerToClient => "MAC (server to client)",
            Self::CompressionClientToServer => "compression (client to server)",
            Self::CompressionServerToClient => "compression (server to client)",
        })
    }
}

/// The kinds of timer the engine keeps (one slot each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimerKind {
    /// A key exchange did not finish in time.
    KeyExchange,
    /// Time-based rekeying is due.
    Rekey,
    /// (Server) The client did not authenticate within the login grace time.
    LoginGrace,
    /// (Server) A held-back USERAUTH_FAILURE is due (the failure delay has passed).
    AuthFailureDelay,
    /// A keepalive probe is due, or the peer left too many unanswered.
    Keepalive,
}

impl std::fmt::Display for TimerKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::KeyExchange => "key exchange did not complete",
            Self::Rekey => "rekey",
            Self::LoginGrace => "authentication did not complete within the login grace time",
            Self::AuthFailureDelay => "authentication failure delay",
            Self::Keepalive => "keepalive: the peer stopped answering",
        })
    }
}

/// What a peer did wrong. Each variant names one protocol violation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeerMisbehaved {
    /// The identification string is malformed, too long, or not SSH 2.0.
    #[error("bad identification string: {0}")]
    BadIdentification(&'static str),
    /// Too many lines before the server's identification string.
    #[error("too many lines before the identification string")]
    TooManyPreambleLines,
    /// packet_length exceeds what we accept.
    #[error("packet length {0} exceeds the limit")]
    PacketTooLarge(u32),
    /// packet_length is smaller than the smallest valid packet.
    #[error("packet length {0} is too small")]
    PacketTooSmall(u32),
    /// The packet is not a multiple of the cipher block size.
    #[error("packet length {0} is not a multiple of the block size")]
    MisalignedPacket(u32),
    /// padding_length is below 4 or runs past the packet.
    #[error("invalid padding length {0}")]
    BadPadding(u8),
    /// The MAC or AEAD tag did not verify.
    #[error("message authentication failed")]
    BadMac,
    /// A packet carried no message number.
    #[error("empty payload")]
    EmptyPayload,
    /// A compressed payload did not inflate, or inflated past the cap.
    #[error("decompression failed")]
    BadCompression,
    /// A message arrived where the protocol does not allow it.
    #[error("unexpected message {number} {context}")]
    UnexpectedMessage {
        /// The message number.
        number: u8,
        /// Where we were.
        context: &'static str,
    },
    /// A message did not decode.
    #[error("malformed message {number}: {error}")]
    MalformedMessage {
        /// The message number.
        number: u8,
        /// What was wrong with it.
        error: WireError,
    },
    /// A key-exchange message or value was invalid.
    #[error("key exchange: {0}")]
    KeyExchange(String),
    /// The server's signature over the exchange hash did not verify.
    #[error("host key signature does not verify")]
    BadHostKeySignature,
    /// The server's host key blob is malformed or of the wrong type.
    #[error("bad host key: {0}")]
    BadHostKey(String),
    /// Strict key exchange forbids this message or ordering.
    #[error("strict key exchange violated: {0}")]
    StrictKex(&'static str),
    /// A sequence number wrapped during the initial strict key exchange.
    #[error("sequence number wrapped during the initial key exchange")]
    SequenceWrapped,
    /// A message only the other role may send.
    #[error("message {0} may only be sent by the other side")]
    WrongRole(u8),
    /// SSH_MSG_SERVICE_REQUEST for a service we do not offer.
    #[error("service {0:?} not available")]
    ServiceNotAvailable(String),
    /// The peer broke the user authentication protocol (RFC 4252, RFC 4256).
    #[error("authentication protocol violated: {0}")]
    Auth(&'static str),
    /// Queued messages exceeded their bound during a key exchange.
    #[error("peer let the key exchange stall while we had too much queued")]
    QueueOverflow,
    /// A channel message named a channel number we never opened or already freed.
    #[error("message {number} for unknown channel {channel}")]
    UnknownChannel {
        /// The message number.
        number: u8,
        /// Our channel number the peer named.
        channel: u32,
    },
    /// A channel message other than the open reply arrived before the channel was
    /// confirmed, or an open reply arrived for a channel already open.
    #[error("message {number} for channel {channel}, whose open is not settled that way")]
    ChannelNotOpen {
        /// The message number.
        number: u8,
        /// Our channel number.
        channel: u32,
    },
    /// A channel message arrived after the peer's own CHANNEL_CLOSE (RFC 4254 §5.3).
    #[error("message {number} for channel {channel} after the peer closed it")]
    MessageAfterClose {
        /// The message number.
        number: u8,
        /// Our channel number.
        channel: u32,
    },
    /// Channel data arrived after the peer's CHANNEL_EOF (RFC 4254 §5.3).
    #[error("data on channel {0} after the peer's EOF")]
    DataAfterEof(u32),
    /// The peer sent CHANNEL_EOF twice on one channel.
    #[error("second EOF on channel {0}")]
    DuplicateEof(u32),
    /// The peer sent more data than the window we gave it (RFC 4254 §5.2).
    #[error("channel {channel}: {len} bytes sent into a window of {available}")]
    WindowExceeded {
        /// Our channel number.
        channel: u32,
        /// Bytes in the message.
        len: u32,
        /// Window left before it.
        available: u32,
    },
    /// A WINDOW_ADJUST pushed the window past 2^32 - 1 bytes (RFC 4254 §5.2).
    #[error("channel {0}: window adjust overflows 2^32 - 1")]
    WindowOverflow(u32),
    /// Channel data larger than the maximum packet size we announced.
    #[error("channel {channel}: {len} bytes of data exceed our maximum packet size {max}")]
    ChannelPacketTooLarge {
        /// Our channel number.
        channel: u32,
        /// Bytes in the message.
        len: u32,
        /// The maximum we announced.
        max: u32,
    },
    /// The peer confirmed a channel with a maximum packet size of zero.
    #[error("channel {0}: maximum packet size zero")]
    ZeroMaxPacket(u32),
    /// CHANNEL_SUCCESS or CHANNEL_FAILURE without a request that wanted a reply.
    #[error("channel {0}: reply to a request we did not make")]
    UnsolicitedChannelReply(u32),
    /// REQUEST_SUCCESS or REQUEST_FAILURE without a global request that wanted one.
    #[error("reply to a global request we did not make")]
    UnsolicitedGlobalReply,
    /// The peer piled up more requests awaiting an answer than we hold.
    #[error("more than {0} requests awaiting an answer")]
    TooManyPendingRequests(usize),
    /// A `session` open after the client's `no-more-sessions@openssh.com`: the
    /// connection may be hijacked, so OpenSSH's sshd disconnects, and so do we.
    #[error("attempt to open a session after additional sessions were disabled")]
    SessionAfterNoMoreSessions,
}

impl PeerMisbehaved {
    /// The DISCONNECT reason code that fits this violation.
    pub fn disconnect_reason(&self) -> DisconnectReason {
        match self {
            Self::BadMac => DisconnectReason::MacError,
            Self::BadCompression => DisconnectReason::CompressionError,
            Self::KeyExchange(_) => DisconnectReason::KeyExchangeFailed,
            Self::BadHostKeySignature | Self::BadHostKey(_) => {
                DisconnectReason::HostKeyNotVerifiable
            }
            Self::ServiceNotAvailable(_) => DisconnectReason::ServiceNotAvailable,
            Self::BadIdentification(_) | Self::TooManyPreambleLines => {
                DisconnectReason::ProtocolVersionNotSupported
            }
            _ => DisconnectReason::ProtocolError,
        }
    }
}

/// DISCONNECT reason codes (RFC 4253 §11.1, RFC 4250 §4.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisconnectReason {
    /// 1
    HostNotAllowedToConnect,
    /// 2
    ProtocolError,
    /// 3
    KeyExchangeFailed,
    /// 4
    Reserved,
    /// 5
    MacError,
    /// 6
    CompressionError,
    /// 7
    ServiceNotAvailable,
    /// 8
    ProtocolVersionNotSupported,
    /// 9
    HostKeyNotVerifiable,
    /// 10
    ConnectionLost,
    /// 11
    ByApplication,
    /// 12
    TooManyConnections,
    /// 13
    AuthCancelledByUser,
    /// 14
    NoMoreAuthMethodsAvailable,
    /// 15
    IllegalUserName,
    /// A code outside RFC 4250's table.
    Unknown(u32),
}

impl DisconnectReason {
    /// The wire code.
    pub fn code(self) -> u32 {
        match self {
            Self::HostNotAllowedToConnect => 1,
            Self::ProtocolError => 2,
            Self::KeyExchangeFailed => 3,
            Self::Reserved => 4,
            Self::MacError => 5,
            Self::CompressionError => 6,
            Self::ServiceNotAvailable => 7,
            Self::ProtocolVersionNotSupported => 8,
            Self::HostKeyNotVerifiable => 9,
            Self::ConnectionLost => 10,
            Self::ByApplication => 11,
            Self::TooManyConnections => 12,
            Self::AuthCancelledByUser => 13,
            Self::NoMoreAuthMethodsAvailable => 14,
            Self::IllegalUserName => 15,
            Self::Unknown(c) => c,
        }
    }

    /// The reason for a wire code.
    pub fn from_code(code: u32) -> Self {
        match code {
            1 => Self::HostNotAllowedToConnect,
            2 => Self::ProtocolError,
            3 => Self::KeyExchangeFailed,
            4 => Self::Reserved,
            5 => Self::MacError,
            6 => Self::CompressionError,
            7 => Self::ServiceNotAvailable,
            8 => Self::ProtocolVersionNotSupported,
            9 => Self::HostKeyNotVerifiable,
            10 => Self::ConnectionLost,
            11 => Self::ByApplication,
            12 => Self::TooManyConnections,
            13 => Self::AuthCancelledByUser,
            14 => Self::NoMoreAuthMethodsAvailable,
            15 => Self::IllegalUserName,
            c => Self::Unknown(c),
        }
    }
}

impl std::fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} ({})", self, self.code())
    }
}

/// A mistake by the calling application, not by the peer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiMisuse {
    /// The configuration cannot work (e.g. a server without host keys).
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// The operation needs a state the connection is not in.
    #[error("not possible now: {0}")]
    WrongState(&'static str),
    /// The connection has ended.
    #[error("the connection is closed")]
    Closed,
}
