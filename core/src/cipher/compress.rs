//! Payload compression: `zlib` and `zlib@openssh.com` ([RFC 4253 §6.2]).
//!
//! Each direction is one zlib stream (RFC 1950 framing) that lives as long as the
//! keys do. Every packet's payload is compressed and then flushed with
//! `Z_PARTIAL_FLUSH`, as OpenSSH does, so the receiver can inflate it without waiting
//! for the next packet; the stream is never finished. The two names differ only in
//! when the transport switches compression on.
//!
//! Inflating is where a peer can hurt us: a few kilobytes of zlib can expand to
//! gigabytes. [`Decompressor::decompress`] therefore takes a cap and never grows its
//! output past it.
//!
//! [RFC 4253 §6.2]: https://www.rfc-editor.org/rfc/rfc4253#section-6.2

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// zlib's default level, which OpenSSH uses.
const LEVEL: u32 = 6;

/// The least output room offered to inflate per round: small enough for a short
/// packet, large enough not to loop byte by byte.
const MIN_GROWTH: usize = 4096;

/// Why an incoming compressed payload was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompressionError {
    /// The payload inflates past the limit the caller set: a decompression bomb or a
    /// peer ignoring the maximum packet size.
    #[error("compressed payload inflates beyond the {limit}-byte limit")]
    TooLarge {
        /// The limit that was exceeded.
        limit: usize,
    },
    /// The bytes are not a valid continuation of the peer's zlib stream.
    #[error("peer sent corrupt zlib data")]
    Corrupt,
    /// The peer finished its zlib stream, which SSH never does: later packets could
    /// not be inflated.
    #[error("peer ended its zlib stream")]
    StreamEnded,
}

/// Compresses the outgoing payloads of one direction.
pub struct Compressor {
    stream: Compress,
}

impl Compressor {
    /// A fresh zlib stream, as at the NEWKEYS (or USERAUTH_SUCCESS) that starts it.
    pub fn new() -> Self {
        Self {
            stream: Compress::new(Compression::new(LEVEL), true),
        }
    }

    /// Appends the compressed form of `payload` to `out`, flushed so that the peer
    /// can inflate it whole.
    pub fn compress(&mut self, payload: &[u8], out: &mut Vec<u8>) {
        let mut consumed = 0;
        loop {
            let remaining = payload.len() - consumed;
            // Deflate's worst case is the input plus 5 bytes per stored block plus the
            // flush marker; when that still falls short the loop simply goes again.
            out.reserve(remaining + remaining / 1024 + 64);
            let before = self.stream.total_in();
            self.stream
                .compress_vec(&payload[consumed..], out, FlushCompress::Partial)
                // zlib reports errors only for a stream driven after it finished or
                // with bad parameters; this type never finishes its stream.
                .expect("zlib deflate on a live stream does not fail");
            consumed += (self.stream.total_in() - before) as usize;
            // Room left over means deflate has written out everything it holds.
            if consumed == payload.len() && out.len() < out.capacity() {
                return;
            }
        }
    }
}

impl Default for Compressor {
    fn default() -> Self {
        Self::new()
    }
}

/// Inflates the incoming payloads of one direction.
pub struct Decompressor {
    stream: Decompress,
}

impl Decompressor {
    /// A fresh zlib stream, as at the NEWKEYS (or USERAUTH_SUCCESS) that starts it.
    pub fn new() -> Self {
        Self {
            stream: Decompress::new(true),
        }
    }

    /// Appends the inflated form of one packet's compressed payload to `out`.
    ///
    /// Fails with [`CompressionError::TooLarge`] as soon as the inflated payload
    /// would exceed `max_out` bytes, having grown `out` by at most `max_out + 1`
    /// bytes of capacity. After any error the stream is unusable and `out` is back
    /// at its original length.
    pub fn decompress(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        max_out: usize,
    ) -> Result<(), CompressionError> {
        let start = out.len();
        let result = self.inflate(input, out, start, max_out);
        if result.is_err() {
            out.truncate(start);
        }
        result
    }

    fn inflate(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        start: usize,
        max_out: usize,
    ) -> Result<(), CompressionError> {
        // One byte past the cap tells a payload of exactly `max_out` from a bigger one.
        let limit = max_out.saturating_add(1);
        let mut consumed = 0;
        loop {
            let produced = out.len() - start;
            if out.capacity() == out.len() {
                // Grow geometrically, never past the cap.
                let want = produced.max(MIN_GROWTH).min(limit - produced);
                out.reserve_exact(want);
            }
            let room = out.capacity() - out.len();
            let (in_before, out_before) = (self.stream.total_in(), out.len());
            let status = self
                .stream
                .decompress_vec(&input[consumed..], out, FlushDecompress::Sync)
                .map_err(|_| CompressionError::Corrupt)?;
            consumed += (self.stream.total_in() - in_before) as usize;
            let written = out.len() - out_before;
            if out.len() - start > max_out {
                return Err(CompressionError::TooLarge { limit: max_out });
            }
            if status == Status::StreamEnd {
                return Err(CompressionError::StreamEnded);
            }
            if written < room {
                // Inflate stopped with room to spare: it has no more output for what it
                // was given, so every byte of input must have been taken.
                return if consumed == input.len() {
                    Ok(())
                } else {
                    Err(CompressionError::Corrupt)
                };
            }
        }
    }
}

impl Default for Decompressor {
    fn default() -> Self {
        Self::new()
    }
}
