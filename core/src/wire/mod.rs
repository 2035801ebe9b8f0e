//! The SSH wire layer: RFC 4251 §5 data types and message numbers.

pub mod msg;
mod reader;
pub mod transport;
mod writer;

pub use reader::{NameList, Reader};
pub use writer::Writer;

/// A message that does not decode as its type says it should.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// A field runs past the end of the message.
    #[error("truncated: field needs {needed} bytes, {remaining} remain")]
    Truncated {
        /// Bytes the field declared.
        needed: usize,
        /// Bytes that were left.
        remaining: usize,
    },
    /// Bytes remain after the last field.
    #[error("{0} unexpected trailing bytes")]
    TrailingBytes(usize),
    /// A text field is not UTF-8.
    #[error("text field is not valid UTF-8")]
    InvalidUtf8,
    /// A name-list has an empty name, a non-ASCII byte, or is too long.
    #[error("malformed name-list")]
    InvalidNameList,
    /// A positive mpint was expected.
    #[error("negative mpint where a positive value is required")]
    NegativeMpint,
    /// An mpint carries a superfluous leading zero byte.
    #[error("mpint is not minimally encoded")]
    NonMinimalMpint,
    /// A count field announces more items than we accept.
    #[error("{count} {what} announced, above the limit of {limit}")]
    TooMany {
        /// What is counted.
        what: &'static str,
        /// The count the message announced.
        count: u32,
        /// The most we accept.
        limit: u32,
    },
}

#[cfg(test)]
mod tests;
