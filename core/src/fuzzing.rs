//! Entry points for the cargo-fuzz targets in `core/fuzz` into internals that are not
//! public API. Compiled only with `--cfg fuzzing` (which `cargo fuzz` sets), so nothing
//! here is part of the library an application sees (DESIGN.md §4).

use bytes::{Bytes, BytesMut};

use crate::cipher::{CompressionAlgorithm, PacketOpener};
use crate::error::PeerMisbehaved;
use crate::transport::FuzzPacketReader as PacketReader;

/// The transport's packet reader: length checks, MAC/AEAD opening, padding checks,
/// sequence numbers and decompression of incoming packets.
pub struct PacketDecoder(PacketReader);

impl PacketDecoder {
    /// A reader in the state before the first NEWKEYS (no cipher, no MAC), with the
    /// given packet-length and inflated-payload caps.
    pub fn new(max_packet_len: u32, max_inflated: usize) -> Self {
        Self(PacketReader::new(max_packet_len, max_inflated))
    }

    /// Installs keys, as the transport does on the peer's NEWKEYS.
    pub fn set_keys(&mut self, opener: PacketOpener, compression: CompressionAlgorithm) {
        self.0.set_keys(opener, compression);
    }

    /// Starts delayed (`zlib@openssh.com`) decompression.
    pub fn start_delayed_compression(&mut self) {
        self.0.start_delayed_compression();
    }

    /// Takes the next whole packet out of `buf`: its sequence number and payload, or
    /// `None` when more bytes are needed.
    pub fn read(&mut self, buf: &mut BytesMut) -> Result<Option<(u32, Bytes)>, PeerMisbehaved> {
        self.0.read(buf)
    }
}
