//! The binary packet protocol (RFC 4253 §6): padding, sealing and opening packets,
//! sequence numbers, and compression of payloads.

use bytes::{Bytes, BytesMut};

use crate::cipher::{CompressionAlgorithm, Compressor, Decompressor, PacketOpener, PacketSealer};
use crate::crypto::SecureRandom;
use crate::error::PeerMisbehaved;

/// Smallest packet_length: padding_length, one payload byte and four of padding.
const MIN_PACKET_LEN: u32 = 1 + 1 + 4;

/// Frames and seals outgoing payloads.
pub(crate) struct PacketWriter {
    sealer: PacketSealer,
    seq: u32,
    compression: Compression<Compressor>,
    scratch: Vec<u8>,
    /// A payload given in parts, joined for the compressor.
    joined: Vec<u8>,
    /// Packets and bytes since the current keys were installed (for rekeying).
    pub(crate) packets: u64,
    pub(crate) bytes: u64,
    /// Set when the sequence number wrapped to zero; the transport inspects it.
    pub(crate) wrapped: bool,
}

/// Compression state of one direction.
enum Compression<T> {
    Off,
    /// Negotiated as zlib@openssh.com but waiting for authentication to succeed.
    Delayed,
    On(T),
}

impl PacketWriter {
    pub(crate) fn new() -> Self {
        Self {
            sealer: PacketSealer::none(),
            seq: 0,
            compression: Compression::Off,
            scratch: Vec::new(),
            joined: Vec::new(),
            packets: 0,
            bytes: 0,
            wrapped: false,
        }
    }

    /// Installs new keys (after we send NEWKEYS). A running compression stream carries
    /// on when the same method stays negotiated, as OpenSSH does.
    pub(crate) fn set_keys(&mut self, sealer: PacketSealer, compression: CompressionAlgorithm) {
        self.sealer = sealer;
        self.compression = match (
            compression,
            std::mem::replace(&mut self.compression, Compression::Off),
        ) {
            (CompressionAlgorithm::None, _) => Compression::Off,
            (_, Compression::On(running)) => Compression::On(running),
            (CompressionAlgorithm::Zlib, _) => Compression::On(Compressor::new()),
            (CompressionAlgorithm::ZlibOpenssh, _) => Compression::Delayed,
        };
        self.packets = 0;
        self.bytes = 0;
    }

    /// Starts delayed compression once user authentication has succeeded.
    pub(crate) fn start_delayed_compression(&mut self) {
        if matches!(self.compression, Compression::Delayed) {
            self.compression = Compression::On(Compressor::new());
        }
    }

    pub(crate) fn reset_sequence(&mut self) {
        self.seq = 0;
    }

    /// Sequence number the next packet will carry.
    pub(crate) fn next_sequence(&self) -> u32 {
        self.seq
    }

    /// Appends one sealed packet carrying `payload` to `out`.
    pub(crate) fn write(&mut self, payload: &[u8], out: &mut Vec<u8>, rng: &mut dyn SecureRandom) {
        self.write_parts(&[payload], out, rng);
    }

    /// Appends one sealed packet whose payload is `parts` joined, each copied straight
    /// into the packet: channel data goes from the application's buffer to the sealed
    /// packet in one copy, behind a header built apart.
    pub(crate) fn write_parts(
        &mut self,
        parts: &[&[u8]],
        out: &mut Vec<u8>,
        rng: &mut dyn SecureRandom,
    ) {
        let compressed;
        let single;
        let parts = match &mut self.compression {
            Compression::On(compressor) => {
                self.joined.clear();
                for part in parts {
                    self.joined.extend_from_slice(part);
                }
                self.scratch.clear();
                compressor.compress(&self.joined, &mut self.scratch);
                single = [&self.scratch[..]];
                compressed = &single[..];
                compressed
            }
            _ => parts,
        };
        let payload_len: usize = parts.iter().map(|p| p.len()).sum();
        let block = self.sealer.padding_block();
        let aligned = 1
            + payload_len
            + if self.sealer.padding_excludes_length() {
                0
            } else {
                4
            };
        let mut padding = block - aligned % block;
        if padding < 4 {
            padding += block;
        }
        let packet_len = 1 + payload_len + padding;
        let total = 4 + packet_len + self.sealer.tag_len();
        out.reserve(total);
        let start = out.len();
        out.extend_from_slice(&(packet_len as u32).to_be_bytes());
        out.push(padding as u8);
        for part in parts {
            out.extend_from_slice(part);
        }
        let mut pad = [0u8; 32];
        rng.fill(&mut pad[..padding]);
        out.extend_from_slice(&pad[..padding]);
        // The tag's room, then the packet is sealed where it lies in the output.
        out.resize(start + total, 0);
        self.sealer.seal_in_place(self.seq, &mut out[start..]);
        self.seq = self.seq.wrapping_add(1);
        self.wrapped |= self.seq == 0;
        self.packets += 1;
        self.bytes += total as u64;
    }
}

/// Opens incoming packets from a receive buffer.
pub(crate) struct PacketReader {
    opener: PacketOpener,
    seq: u32,
    compression: Compression<Decompressor>,
    pending_len: Option<u32>,
    max_packet_len: u32,
    max_inflated: usize,
    pub(crate) packets: u64,
    pub(crate) bytes: u64,
    pub(crate) wrapped: bool,
}

impl PacketReader {
    pub(crate) fn new(max_packet_len: u32, max_inflated: usize) -> Self {
        Self {
            opener: PacketOpener::none(),
            seq: 0,
            compression: Compression::Off,
            pending_len: None,
            max_packet_len,
            max_inflated,
            packets: 0,
            bytes: 0,
            wrapped: false,
        }
    }

    /// Installs new keys (after the peer's NEWKEYS).
    pub(crate) fn set_keys(&mut self, opener: PacketOpener, compression: CompressionAlgorithm) {
        self.opener = opener;
        self.compression = match (
            compression,
            std::mem::replace(&mut self.compression, Compression::Off),
        ) {
            (CompressionAlgorithm::None, _) => Compression::Off,
            (_, Compression::On(running)) => Compression::On(running),
            (CompressionAlgorithm::Zlib, _) => Compression::On(Decompressor::new()),
            (CompressionAlgorithm::ZlibOpenssh, _) => Compression::Delayed,
        };
        self.packets = 0;
        self.bytes = 0;
    }

    pub(crate) fn start_delayed_compression(&mut self) {
        if matches!(self.compression, Compression::Delayed) {
            self.compression = Compression::On(Decompressor::new());
        }
    }

    pub(crate) fn reset_sequence(&mut self) {
        self.seq = 0;
    }

    /// Sequence number the next packet will carry.
    #[cfg(test)]
    pub(crate) fn next_sequence(&self) -> u32 {
        self.seq
    }

    /// Takes the next whole packet out of `buf`, returning its payload and sequence
    /// number, or `None` when more bytes are needed.
    pub(crate) fn read(
        &mut self,
        buf: &mut BytesMut,
    ) -> Result<Option<(u32, Bytes)>, PeerMisbehaved> {
        let packet_len = match self.pending_len {
            Some(len) => len,
            None => {
                let prefix = self.opener.length_prefix_len();
                if buf.len() < prefix {
                    return Ok(None);
                }
                let len = self.opener.decrypt_length(self.seq, &mut buf[..prefix]);
                self.check_length(len)?;
                self.pending_len = Some(len);
                len
            }
        };
        let total = 4 + packet_len as usize + self.opener.tag_len();
        if buf.len() < total {
            return Ok(None);
        }
        let mut packet = buf.split_to(total);
        self.pending_len = None;
        self.opener
            .open(self.seq, &mut packet)
            .map_err(|_| PeerMisbehaved::BadMac)?;
        let padding = packet[4];
        if padding < 4 {
            return Err(PeerMisbehaved::BadPadding(padding));
        }
        let payload_len = (packet_len as usize)
            .checked_sub(1 + usize::from(padding))
            .filter(|&n| n > 0)
            .ok_or(PeerMisbehaved::BadPadding(padding))?;
        let seq = self.seq;
        self.seq = self.seq.wrapping_add(1);
        self.wrapped |= self.seq == 0;
        self.packets += 1;
        self.bytes += total as u64;
        let payload = packet.freeze().slice(5..5 + payload_len);
        let payload = match &mut self.compression {
            Compression::On(decompressor) => {
                let mut inflated = Vec::new();
                decompressor
                    .decompress(&payload, &mut inflated, self.max_inflated)
                    .map_err(|_| PeerMisbehaved::BadCompression)?;
                if inflated.is_empty() {
                    return Err(PeerMisbehaved::EmptyPayload);
                }
                Bytes::from(inflated)
            }
            _ => payload,
        };
        Ok(Some((seq, payload)))
    }

    fn check_length(&self, len: u32) -> Result<(), PeerMisbehaved> {
        if len > self.max_packet_len {
            return Err(PeerMisbehaved::PacketTooLarge(len));
        }
        if len < MIN_PACKET_LEN {
            return Err(PeerMisbehaved::PacketTooSmall(len));
        }
        let aligned = if self.opener.padding_excludes_length() {
            len
        } else {
            len + 4
        };
        if aligned as usize % self.opener.padding_block() != 0 {
            return Err(PeerMisbehaved::MisalignedPacket(len));
        }
        Ok(())
    }
}
