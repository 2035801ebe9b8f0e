//! Packet protection: the ciphers, MACs and compression of the SSH transport.
//!
//! A [`PacketSealer`] turns a whole plaintext packet ([RFC 4253 §6]: `uint32
//! packet_length || byte padding_length || payload || padding`) into what goes on the
//! wire, in place, with its tag or MAC appended; a [`PacketOpener`] does the reverse.
//! Each direction of a connection owns one, replaced at every NEWKEYS. Framing,
//! padding, length limits and sequence numbers belong to the transport: this module
//! only transforms bytes the transport has already laid out.
//!
//! Supported: `chacha20-poly1305@openssh.com`, `aes{128,256}-gcm@openssh.com` (both
//! AEAD: the negotiated MAC is ignored), and `aes{128,192,256}-ctr` with
//! `hmac-sha2-{256,512}`, `hmac-sha1` and their `-etm@openssh.com` variants. Payload
//! compression (`zlib`, `zlib@openssh.com`) is in [`compress`].
//!
//! Receiving takes two steps because the packet length must be known before the rest
//! can be read: [`PacketOpener::decrypt_length`] on the first
//! [`length_prefix_len`](PacketOpener::length_prefix_len) bytes, then
//! [`PacketOpener::open`] on the whole packet, which authenticates it before any of it
//! counts as plaintext.
//!
//! ```
//! use bytes::BytesMut;
//! use sansh_core::cipher::{CipherAlgorithm, PacketOpener, PacketSealer};
//!
//! let cipher = CipherAlgorithm::Aes256Gcm;
//! let (key, iv) = (vec![7u8; cipher.key_len()], vec![9u8; cipher.iv_len()]);
//! let mut sealer = PacketSealer::new(cipher, None, &key, &iv, &[]).unwrap();
//! let mut opener = PacketOpener::new(cipher, None, &key, &iv, &[]).unwrap();
//!
//! // packet_length 16 (GCM leaves the length field out of the 16-byte alignment),
//! // padding_length 8, payload "SSH-ish", 8 bytes of padding.
//! let mut packet = BytesMut::from(&b"\0\0\0\x10\x08SSH-ish\0\0\0\0\0\0\0\0"[..]);
//! sealer.seal(3, &mut packet);
//! assert_eq!(packet.len(), 4 + 16 + sealer.tag_len());
//!
//! let n = opener.length_prefix_len();
//! let packet_length = opener.decrypt_length(3, &mut packet[..n]);
//! assert_eq!(packet_length, 16);
//! opener.open(3, &mut packet).unwrap();
//! assert_eq!(&packet[5..12], b"SSH-ish");
//! ```
//!
//! [RFC 4253 §6]: https://www.rfc-editor.org/rfc/rfc4253#section-6

mod algorithms;
mod chacha;
pub mod compress;
mod ctr_mac;
mod gcm;
mod mac;

use core::fmt;

use bytes::BytesMut;

use chacha::{ChachaOpener, ChachaSealer};
use ctr_mac::{CtrOpener, CtrSealer};
use gcm::Gcm;
use mac::Mac;

pub use algorithms::{CipherAlgorithm, CompressionAlgorithm, MacAlgorithm};
pub use compress::{CompressionError, Compressor, Decompressor};

/// The packet length field every packet starts with.
const LENGTH_LEN: usize = 4;

/// Why keys could not be installed or a packet could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CipherError {
    /// The peer's packet failed authentication: its MAC or AEAD tag does not match,
    /// which is also what a wrong sequence number or a modified length looks like.
    #[error("packet authentication failed (corrupt or forged MAC or tag)")]
    BadMac,
    /// Key derivation produced the wrong number of bytes for the algorithm.
    #[error("{algorithm} needs a {expected}-byte {what}, got {got} bytes")]
    InvalidKeyLength {
        /// The algorithm's wire name.
        algorithm: &'static str,
        /// Which input: "encryption key", "IV" or "MAC key".
        what: &'static str,
        /// The length the algorithm needs.
        expected: usize,
        /// The length given.
        got: usize,
    },
    /// A non-AEAD cipher was installed without a MAC.
    #[error("the negotiated cipher needs a MAC algorithm")]
    MacRequired,
    /// aws-lc refused a key of the right length.
    #[error("the cryptographic library rejected the {algorithm} key")]
    KeyRejected {
        /// The algorithm's wire name.
        algorithm: &'static str,
    },
    /// The bytes handed to `open` cannot hold a packet of this mode.
    #[error("a {len}-byte packet is shorter than the {min} bytes this cipher needs")]
    PacketTooShort {
        /// Bytes given.
        len: usize,
        /// The least this mode can open: length field (or first block) plus tag.
        min: usize,
    },
    /// The bytes handed to `open` exceed what a 32-bit packet length can describe.
    #[error("a {len}-byte packet is longer than any packet_length can describe")]
    PacketTooLong {
        /// Bytes given.
        len: usize,
    },
    /// The peer's encrypted region is not a whole number of cipher blocks
    /// (RFC 4253 §6 requires it; CTR's block counter depends on it).
    #[error("encrypted region of {len} bytes is not a multiple of the {block}-byte block")]
    NotBlockAligned {
        /// Bytes of the encrypted region.
        len: usize,
        /// The cipher block size.
        block: usize,
    },
}

fn check_len(
    algorithm: &'static str,
    what: &'static str,
    expected: usize,
    given: &[u8],
) -> Result<(), CipherError> {
    if given.len() == expected {
        Ok(())
    } else {
        Err(CipherError::InvalidKeyLength {
            algorithm,
            what,
            expected,
            got: given.len(),
        })
    }
}

/// Checks the cipher's key and IV lengths.
fn check_cipher(cipher: CipherAlgorithm, key: &[u8], iv: &[u8]) -> Result<(), CipherError> {
    check_len(cipher.name(), "encryption key", cipher.key_len(), key)?;
    check_len(cipher.name(), "IV", cipher.iv_len(), iv)
}

/// The MAC a non-AEAD cipher needs, keyed after checking the key length.
fn keyed_mac(mac: Option<MacAlgorithm>, mac_key: &[u8]) -> Result<Mac, CipherError> {
    let mac = mac.ok_or(CipherError::MacRequired)?;
    check_len(mac.name(), "MAC key", mac.key_len(), mac_key)?;
    Ok(Mac::new(mac, mac_key))
}

fn chacha_key(key: &[u8]) -> Result<&[u8; 64], CipherError> {
    key.try_into().map_err(|_| CipherError::InvalidKeyLength {
        algorithm: CipherAlgorithm::Chacha20Poly1305.name(),
        what: "encryption key",
        expected: 64,
        got: key.len(),
    })
}

/// The algorithms protecting one direction; the framing parameters follow from them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Suite {
    cipher: Option<CipherAlgorithm>,
    /// The MAC of a non-AEAD cipher.
    mac: Option<MacAlgorithm>,
}

impl Suite {
    const CLEAR: Self = Self {
        cipher: None,
        mac: None,
    };

    fn new(cipher: CipherAlgorithm, mac: Option<MacAlgorithm>) -> Self {
        let mac = if cipher.is_aead() { None } else { mac };
        Self {
            cipher: Some(cipher),
            mac,
        }
    }

    fn padding_block(self) -> usize {
        self.cipher.map_or(8, |c| c.block_size().max(8))
    }

    fn padding_excludes_length(self) -> bool {
        match (self.cipher, self.mac) {
            (Some(c), _) if c.is_aead() => true,
            (_, Some(mac)) => mac.is_etm(),
            _ => false,
        }
    }

    fn tag_len(self) -> usize {
        match (self.cipher, self.mac) {
            (Some(c), _) if c.is_aead() => 16,
            (_, Some(mac)) => mac.tag_len(),
            _ => 0,
        }
    }
}

enum SealState {
    None,
    Chacha(ChachaSealer),
    Gcm(Gcm),
    // AES key schedules for both directions of the EVP API plus HMAC states: ~1.7 KiB,
    // kept off the connection struct.
    Ctr(Box<CtrSealer>),
}

/// Seals outgoing packets for one direction of a connection.
///
/// Holds the keys and the per-direction state (GCM invocation counter, CTR counter
/// block), so packets must be sealed in sequence-number order.
pub struct PacketSealer {
    suite: Suite,
    state: SealState,
}

impl PacketSealer {
    /// The state before the first NEWKEYS: packets go out in clear, with no MAC.
    pub fn none() -> Self {
        Self {
            suite: Suite::CLEAR,
            state: SealState::None,
        }
    }

    /// Installs keys from key derivation ([RFC 4253 §7.2]).
    ///
    /// `key` and `iv` must be [`CipherAlgorithm::key_len`] and
    /// [`CipherAlgorithm::iv_len`] bytes. For an AEAD cipher `mac` and `mac_key` are
    /// ignored; otherwise `mac` is required and `mac_key` must be
    /// [`MacAlgorithm::key_len`] bytes.
    ///
    /// [RFC 4253 §7.2]: https://www.rfc-editor.org/rfc/rfc4253#section-7.2
    pub fn new(
        cipher: CipherAlgorithm,
        mac: Option<MacAlgorithm>,
        key: &[u8],
        iv: &[u8],
        mac_key: &[u8],
    ) -> Result<Self, CipherError> {
        check_cipher(cipher, key, iv)?;
        let state = match cipher {
            CipherAlgorithm::Chacha20Poly1305 => {
                SealState::Chacha(ChachaSealer::new(chacha_key(key)?))
            }
            CipherAlgorithm::Aes128Gcm | CipherAlgorithm::Aes256Gcm => {
                SealState::Gcm(Gcm::new(cipher, key, iv)?)
            }
            CipherAlgorithm::Aes128Ctr
            | CipherAlgorithm::Aes192Ctr
            | CipherAlgorithm::Aes256Ctr => SealState::Ctr(Box::new(CtrSealer::new(
                cipher,
                key,
                iv,
                keyed_mac(mac, mac_key)?,
            )?)),
        };
        Ok(Self {
            suite: Suite::new(cipher, mac),
            state,
        })
    }

    /// The cipher in use, `None` before the first NEWKEYS.
    pub fn cipher(&self) -> Option<CipherAlgorithm> {
        self.suite.cipher
    }

    /// The MAC in use; `None` in clear and with an AEAD cipher.
    pub fn mac(&self) -> Option<MacAlgorithm> {
        self.suite.mac
    }

    /// The block size padding must align to: the larger of 8 and the cipher block.
    pub fn padding_block(&self) -> usize {
        self.suite.padding_block()
    }

    /// Whether the 4-byte length field is left out of the block-aligned region.
    ///
    /// True for AEAD ciphers and encrypt-then-MAC, where the length is not encrypted
    /// with the payload (OpenSSH's `aadlen = 4`): then `packet_length` itself must be
    /// a multiple of [`padding_block`](Self::padding_block); otherwise
    /// `4 + packet_length` must be.
    pub fn padding_excludes_length(&self) -> bool {
        self.suite.padding_excludes_length()
    }

    /// Bytes of tag or MAC that [`seal`](Self::seal) appends (0 in clear).
    pub fn tag_len(&self) -> usize {
        self.suite.tag_len()
    }

    /// Encrypts one whole padded packet in place and appends its tag or MAC.
    ///
    /// `packet` holds `uint32 packet_length || padding_length || payload || padding`,
    /// aligned as [`padding_excludes_length`](Self::padding_excludes_length) says. The
    /// only allocation is growing `packet` by [`tag_len`](Self::tag_len) bytes when its
    /// capacity is short.
    ///
    /// # Panics
    /// If `packet` is shorter than its 4-byte length field: the caller always writes
    /// one, and sealing less would put unprotected bytes on the wire.
    pub fn seal(&mut self, seq: u32, packet: &mut BytesMut) {
        assert!(
            packet.len() >= LENGTH_LEN,
            "a packet starts with its 4-byte length field"
        );
        let sealed_len = packet.len() + self.tag_len();
        packet.resize(sealed_len, 0);
        self.seal_in_place(seq, packet);
    }

    /// Seals a packet whose last [`tag_len`](Self::tag_len) bytes are room for the
    /// tag: for packets built inside a larger output buffer, sealed where they lie.
    ///
    /// # Panics
    /// If `packet` is shorter than its 4-byte length field and the tag's room.
    pub(crate) fn seal_in_place(&mut self, seq: u32, packet: &mut [u8]) {
        let tag_len = self.tag_len();
        assert!(
            packet.len() >= LENGTH_LEN + tag_len,
            "a packet starts with its 4-byte length field and ends with room for the tag"
        );
        let (body, tag) = packet.split_at_mut(packet.len() - tag_len);
        match &mut self.state {
            SealState::None => {}
            SealState::Chacha(s) => s.seal(seq, body, tag),
            SealState::Gcm(s) => s.seal(body, tag),
            SealState::Ctr(s) => s.seal(seq, body, tag),
        }
    }
}

impl fmt::Debug for PacketSealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PacketSealer")
            .field("cipher", &self.suite.cipher)
            .field("mac", &self.mac())
            .finish_non_exhaustive()
    }
}

enum OpenState {
    None,
    Chacha(ChachaOpener),
    Gcm(Gcm),
    // See `SealState::Ctr`.
    Ctr(Box<CtrOpener>),
}

/// Opens incoming packets for one direction of a connection.
///
/// Holds the keys and the per-direction state, so packets must be opened in
/// sequence-number order, each with one [`decrypt_length`](Self::decrypt_length) and
/// then one [`open`](Self::open). After an error the state is unusable: the
/// connection must be closed.
pub struct PacketOpener {
    suite: Suite,
    state: OpenState,
}

impl PacketOpener {
    /// The state before the first NEWKEYS: packets arrive in clear, with no MAC.
    pub fn none() -> Self {
        Self {
            suite: Suite::CLEAR,
            state: OpenState::None,
        }
    }

    /// Installs keys from key derivation; same arguments as [`PacketSealer::new`].
    pub fn new(
        cipher: CipherAlgorithm,
        mac: Option<MacAlgorithm>,
        key: &[u8],
        iv: &[u8],
        mac_key: &[u8],
    ) -> Result<Self, CipherError> {
        check_cipher(cipher, key, iv)?;
        let state = match cipher {
            CipherAlgorithm::Chacha20Poly1305 => {
                OpenState::Chacha(ChachaOpener::new(chacha_key(key)?))
            }
            CipherAlgorithm::Aes128Gcm | CipherAlgorithm::Aes256Gcm => {
                OpenState::Gcm(Gcm::new(cipher, key, iv)?)
            }
            CipherAlgorithm::Aes128Ctr
            | CipherAlgorithm::Aes192Ctr
            | CipherAlgorithm::Aes256Ctr => OpenState::Ctr(Box::new(CtrOpener::new(
                cipher,
                key,
                iv,
                keyed_mac(mac, mac_key)?,
            )?)),
        };
        Ok(Self {
            suite: Suite::new(cipher, mac),
            state,
        })
    }

    /// The cipher in use, `None` before the first NEWKEYS.
    pub fn cipher(&self) -> Option<CipherAlgorithm> {
        self.suite.cipher
    }

    /// The MAC in use; `None` in clear and with an AEAD cipher.
    pub fn mac(&self) -> Option<MacAlgorithm> {
        self.suite.mac
    }

    /// The block size the peer's padding must align to: the larger of 8 and the
    /// cipher block.
    pub fn padding_block(&self) -> usize {
        self.suite.padding_block()
    }

    /// Whether the 4-byte length field is left out of the block-aligned region (see
    /// [`PacketSealer::padding_excludes_length`]).
    pub fn padding_excludes_length(&self) -> bool {
        self.suite.padding_excludes_length()
    }

    /// Bytes of tag or MAC that follow each packet (0 in clear).
    pub fn tag_len(&self) -> usize {
        self.suite.tag_len()
    }

    /// Bytes needed to learn the packet length: 4, or the 16-byte cipher block for CTR
    /// without encrypt-then-MAC (the length is inside the first encrypted block).
    pub fn length_prefix_len(&self) -> usize {
        match &self.state {
            OpenState::Ctr(c) => c.length_prefix_len(),
            _ => LENGTH_LEN,
        }
    }

    /// Returns the `packet_length` field from the first
    /// [`length_prefix_len`](Self::length_prefix_len) received bytes.
    ///
    /// The value is not authenticated yet: the caller bounds it before buffering the
    /// packet, and [`open`](Self::open) authenticates it. For CTR without
    /// encrypt-then-MAC the prefix is decrypted in place (and `open` continues after
    /// it); for chacha20-poly1305 a copy is decrypted with the length key, since the
    /// tag covers the encrypted bytes; otherwise the length is in clear. Call it exactly
    /// once per packet, before `open`. Only the first `length_prefix_len()` bytes of
    /// `prefix` are used; a shorter `prefix` is a caller bug and yields `u32::MAX`,
    /// which any length check rejects.
    pub fn decrypt_length(&mut self, seq: u32, prefix: &mut [u8]) -> u32 {
        let needed = self.length_prefix_len();
        let Some(prefix) = prefix.get_mut(..needed) else {
            debug_assert!(false, "decrypt_length needs {needed} bytes");
            return u32::MAX;
        };
        let mut length = [0u8; LENGTH_LEN];
        length.copy_from_slice(&prefix[..LENGTH_LEN]);
        match &mut self.state {
            OpenState::None | OpenState::Gcm(_) => u32::from_be_bytes(length),
            OpenState::Chacha(c) => c.decrypt_length(seq, length),
            OpenState::Ctr(c) => c.decrypt_length(prefix),
        }
    }

    /// Authenticates and decrypts one whole packet in place.
    ///
    /// `packet` is the packet as received, `4 + packet_length + tag_len()` bytes, its
    /// prefix already passed through [`decrypt_length`](Self::decrypt_length). The tag
    /// or MAC is checked in constant time; only then is the packet plaintext: on
    /// success `packet[..4 + packet_length]` is `packet_length || padding_length ||
    /// payload || padding` in clear (the length field included, for every cipher), and
    /// the tag bytes after it are left as they were. For MACs over the plaintext
    /// (RFC 4253 §6.4) the packet must be decrypted to be checked; on any error the
    /// whole of `packet` is zeroed, so no unauthenticated byte is ever released.
    pub fn open(&mut self, seq: u32, packet: &mut [u8]) -> Result<(), CipherError> {
        let result = match &mut self.state {
            OpenState::None if packet.len() < LENGTH_LEN => Err(CipherError::PacketTooShort {
                len: packet.len(),
                min: LENGTH_LEN,
            }),
            OpenState::None => Ok(()),
            OpenState::Chacha(c) => c.open(seq, packet),
            OpenState::Gcm(c) => c.open(packet),
            OpenState::Ctr(c) => c.open(seq, packet),
        };
        if result.is_err() {
            packet.fill(0);
        }
        result
    }
}

impl fmt::Debug for PacketOpener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PacketOpener")
            .field("cipher", &self.suite.cipher)
            .field("mac", &self.mac())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
