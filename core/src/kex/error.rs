//! What can go wrong in a key exchange method, and whose fault it was.

use crate::wire::WireError;

/// A key exchange method failed. Every variant but [`KexError::InvalidGexRequest`] and
/// [`KexError::Crypto`] names something the peer did wrong; all of them are fatal to the
/// connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KexError {
    /// The peer sent a message this step of the method does not accept (the number is the
    /// message's first byte).
    #[error("peer sent message {0}, which this step of the key exchange does not expect")]
    UnexpectedMessage(u8),
    /// The peer's message does not decode: truncated, trailing bytes, bad mpint.
    #[error("peer sent a malformed key exchange message: {0}")]
    Malformed(#[from] WireError),
    /// A public value from the peer has the wrong size for the method.
    #[error("peer's {what} is {len} bytes, the method requires {expected}")]
    WrongLength {
        /// Which value.
        what: &'static str,
        /// Its length on the wire.
        len: usize,
        /// The only length the method allows.
        expected: usize,
    },
    /// A public value from the peer is outside the group or off the curve.
    #[error("peer's {what} is invalid: {reason}")]
    InvalidPublicValue {
        /// Which value.
        what: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// X25519 gave an all-zero result: the peer sent a low-order point
    /// ([RFC 7748 §6.1](https://www.rfc-editor.org/rfc/rfc7748#section-6.1)).
    #[error("peer's X25519 public key is a low-order point (all-zero shared secret)")]
    ZeroSharedSecret,
    /// The server's group-exchange prime is not within the size the client asked for
    /// ([RFC 4419 §3](https://www.rfc-editor.org/rfc/rfc4419#section-3)).
    #[error("server's group-exchange prime has {bits} bits, outside the requested {min}..={max}")]
    GroupOutOfRange {
        /// Bit length of the prime the server sent.
        bits: u32,
        /// The client's minimum.
        min: u32,
        /// The client's maximum.
        max: u32,
    },
    /// The server's group-exchange group cannot be used (even modulus, degenerate
    /// generator).
    #[error("server's group-exchange group is unusable: {0}")]
    InvalidGroup(&'static str),
    /// The client's group-exchange request is inconsistent (`min > n`, `n > max`) or its
    /// maximum is below the 2048-bit floor of
    /// [RFC 8270](https://www.rfc-editor.org/rfc/rfc8270).
    #[error("client's group-exchange request min={min} n={preferred} max={max} is unacceptable")]
    GexRequestOutOfRange {
        /// Requested minimum bits.
        min: u32,
        /// Requested preferred bits.
        preferred: u32,
        /// Requested maximum bits.
        max: u32,
    },
    /// None of the server's built-in groups fits the client's request.
    #[error("no built-in group has between {min} and {max} bits")]
    NoMatchingGroup {
        /// The minimum after clamping to the supported range.
        min: u32,
        /// The maximum after clamping to the supported range.
        max: u32,
    },
    /// Our own [`GexRequest`](super::GexRequest) is unusable: not `min <= preferred <= max`
    /// or outside 1024..=8192 bits. A configuration mistake, not the peer's.
    #[error("local group-exchange request min={min} n={preferred} max={max} is invalid")]
    InvalidGexRequest {
        /// Configured minimum bits.
        min: u32,
        /// Configured preferred bits.
        preferred: u32,
        /// Configured maximum bits.
        max: u32,
    },
    /// The local cryptographic library failed where it should not (for example it rejected
    /// freshly drawn key material many times in a row).
    #[error("local cryptographic failure: {0}")]
    Crypto(&'static str),
}
