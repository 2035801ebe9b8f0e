//! The negotiable names of the packet-protection layer: ciphers, MACs, compression.
//!
//! Each enum knows its wire name ([RFC 4253 §6.3], §6.4, §6.2) and the sizes key
//! derivation ([RFC 4253 §7.2]) must produce for it. The `DEFAULT` lists are
//! OpenSSH 10's preference orders; a default configuration offers them as they are,
//! except ciphers, where [`CipherAlgorithm::preferred`] puts AES-GCM first on
//! processors with AES instructions.
//!
//! [RFC 4253 §6.3]: https://www.rfc-editor.org/rfc/rfc4253#section-6.3
//! [RFC 4253 §7.2]: https://www.rfc-editor.org/rfc/rfc4253#section-7.2

use core::fmt;

/// An encryption algorithm for one direction of the transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CipherAlgorithm {
    /// `chacha20-poly1305@openssh.com` (OpenSSH PROTOCOL.chacha20poly1305): an AEAD that
    /// also encrypts the packet length.
    Chacha20Poly1305,
    /// `aes128-gcm@openssh.com` ([RFC 5647] as OpenSSH names and negotiates it).
    ///
    /// [RFC 5647]: https://www.rfc-editor.org/rfc/rfc5647
    Aes128Gcm,
    /// `aes256-gcm@openssh.com` ([RFC 5647] as OpenSSH names and negotiates it).
    ///
    /// [RFC 5647]: https://www.rfc-editor.org/rfc/rfc5647
    Aes256Gcm,
    /// `aes128-ctr` ([RFC 4344 §4](https://www.rfc-editor.org/rfc/rfc4344#section-4)).
    Aes128Ctr,
    /// `aes192-ctr` ([RFC 4344 §4](https://www.rfc-editor.org/rfc/rfc4344#section-4)).
    Aes192Ctr,
    /// `aes256-ctr` ([RFC 4344 §4](https://www.rfc-editor.org/rfc/rfc4344#section-4)).
    Aes256Ctr,
}

impl CipherAlgorithm {
    /// Our preference order, OpenSSH 10's default `Ciphers` list.
    pub const DEFAULT: &'static [CipherAlgorithm] = &[
        Self::Chacha20Poly1305,
        Self::Aes128Gcm,
        Self::Aes256Gcm,
        Self::Aes128Ctr,
        Self::Aes192Ctr,
        Self::Aes256Ctr,
    ];

    /// The preference order a default configuration offers: [`Self::DEFAULT`], with
    /// the AES-GCM ciphers moved to the front when this processor has AES and
    /// carry-less multiplication instructions.
    ///
    /// With them, AES-GCM costs both ends several times less per byte than
    /// ChaCha20-Poly1305 (which OpenSSH lists first for machines without them), at
    /// the same security; Go's SSH library makes the same choice. Whatever the
    /// order, the peer's support decides, and any list can be configured.
    ///
    /// ```
    /// use sansh_core::cipher::CipherAlgorithm;
    /// let preferred = CipherAlgorithm::preferred();
    /// assert_eq!(preferred.len(), CipherAlgorithm::DEFAULT.len());
    /// assert!(matches!(
    ///     preferred[0],
    ///     CipherAlgorithm::Aes128Gcm | CipherAlgorithm::Chacha20Poly1305
    /// ));
    /// ```
    pub fn preferred() -> Vec<CipherAlgorithm> {
        let mut order = Self::DEFAULT.to_vec();
        if aes_gcm_in_hardware() {
            // Stable: the GCM pair keeps its order, so does the rest.
            order.sort_by_key(|c| !matches!(c, Self::Aes128Gcm | Self::Aes256Gcm));
        }
        order
    }

    /// The name used in KEXINIT.
    pub fn name(self) -> &'static str {
        match self {
            Self::Chacha20Poly1305 => "chacha20-poly1305@openssh.com",
            Self::Aes128Gcm => "aes128-gcm@openssh.com",
            Self::Aes256Gcm => "aes256-gcm@openssh.com",
            Self::Aes128Ctr => "aes128-ctr",
            Self::Aes192Ctr => "aes192-ctr",
            Self::Aes256Ctr => "aes256-ctr",
        }
    }

    /// The algorithm a KEXINIT name stands for, if we implement it.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::DEFAULT.iter().copied().find(|a| a.name() == name)
    }

    /// Bytes of encryption key that key derivation must produce.
    ///
    /// chacha20-poly1305 takes 64: the first 32 key the payload cipher (K_2), the
    /// last 32 the length cipher (K_1).
    pub fn key_len(self) -> usize {
        match self {
            Self::Chacha20Poly1305 => 64,
            Self::Aes128Gcm | Self::Aes128Ctr => 16,
            Self::Aes192Ctr => 24,
            Self::Aes256Gcm | Self::Aes256Ctr => 32,
        }
    }

    /// Bytes of initial IV that key derivation must produce.
    ///
    /// chacha20-poly1305 takes none (its nonce is the sequence number); GCM takes 12
    /// (a 4-byte fixed field and a 64-bit invocation counter, RFC 5647 §7.1); CTR takes
    /// the 16-byte initial counter block.
    pub fn iv_len(self) -> usize {
        match self {
            Self::Chacha20Poly1305 => 0,
            Self::Aes128Gcm | Self::Aes256Gcm => 12,
            Self::Aes128Ctr | Self::Aes192Ctr | Self::Aes256Ctr => 16,
        }
    }

    /// The cipher block size that packet padding aligns to (8 for chacha20, 16 for AES).
    pub fn block_size(self) -> usize {
        match self {
            Self::Chacha20Poly1305 => 8,
            _ => 16,
        }
    }

    /// Whether the cipher authenticates packets itself, so the negotiated MAC is ignored.
    pub fn is_aead(self) -> bool {
        matches!(
            self,
            Self::Chacha20Poly1305 | Self::Aes128Gcm | Self::Aes256Gcm
        )
    }
}

/// Whether the processor has the instructions that make AES-GCM fast: AES rounds
/// and carry-less multiplication (for GHASH).
fn aes_gcm_in_hardware() -> bool {
    #[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
    {
        std::arch::is_x86_feature_detected!("aes")
            && std::arch::is_x86_feature_detected!("pclmulqdq")
    }
    #[cfg(target_arch = "aarch64")]
    {
        std::arch::is_aarch64_feature_detected!("aes")
            && std::arch::is_aarch64_feature_detected!("pmull")
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "x86", target_arch = "aarch64")))]
    {
        false
    }
}

impl fmt::Display for CipherAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A message authentication code for one direction of the transport.
///
/// The `-etm@openssh.com` variants compute the MAC over the ciphertext and leave the
/// packet length in clear (OpenSSH PROTOCOL §1.5); the others compute it over the
/// plaintext ([RFC 4253 §6.4](https://www.rfc-editor.org/rfc/rfc4253#section-6.4)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MacAlgorithm {
    /// `hmac-sha2-256-etm@openssh.com`.
    HmacSha256Etm,
    /// `hmac-sha2-512-etm@openssh.com`.
    HmacSha512Etm,
    /// `hmac-sha1-etm@openssh.com`.
    HmacSha1Etm,
    /// `hmac-sha2-256` ([RFC 6668](https://www.rfc-editor.org/rfc/rfc6668)).
    HmacSha256,
    /// `hmac-sha2-512` ([RFC 6668](https://www.rfc-editor.org/rfc/rfc6668)).
    HmacSha512,
    /// `hmac-sha1` ([RFC 4253 §6.4](https://www.rfc-editor.org/rfc/rfc4253#section-6.4)).
    HmacSha1,
}

impl MacAlgorithm {
    /// Our preference order: encrypt-then-MAC first, as OpenSSH 10 orders them.
    pub const DEFAULT: &'static [MacAlgorithm] = &[
        Self::HmacSha256Etm,
        Self::HmacSha512Etm,
        Self::HmacSha1Etm,
        Self::HmacSha256,
        Self::HmacSha512,
        Self::HmacSha1,
    ];

    /// The name used in KEXINIT.
    pub fn name(self) -> &'static str {
        match self {
            Self::HmacSha256Etm => "hmac-sha2-256-etm@openssh.com",
            Self::HmacSha512Etm => "hmac-sha2-512-etm@openssh.com",
            Self::HmacSha1Etm => "hmac-sha1-etm@openssh.com",
            Self::HmacSha256 => "hmac-sha2-256",
            Self::HmacSha512 => "hmac-sha2-512",
            Self::HmacSha1 => "hmac-sha1",
        }
    }

    /// The algorithm a KEXINIT name stands for, if we implement it.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::DEFAULT.iter().copied().find(|a| a.name() == name)
    }

    /// Bytes of MAC key that key derivation must produce (the digest length).
    pub fn key_len(self) -> usize {
        self.tag_len()
    }

    /// Bytes of MAC appended to each packet (the full digest; none of these truncate).
    pub fn tag_len(self) -> usize {
        match self {
            Self::HmacSha256Etm | Self::HmacSha256 => 32,
            Self::HmacSha512Etm | Self::HmacSha512 => 64,
            Self::HmacSha1Etm | Self::HmacSha1 => 20,
        }
    }

    /// Whether the MAC covers the ciphertext (encrypt-then-MAC) rather than the plaintext.
    pub fn is_etm(self) -> bool {
        matches!(
            self,
            Self::HmacSha256Etm | Self::HmacSha512Etm | Self::HmacSha1Etm
        )
    }
}

impl fmt::Display for MacAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A payload compression method ([RFC 4253 §6.2](https://www.rfc-editor.org/rfc/rfc4253#section-6.2)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompressionAlgorithm {
    /// `none`.
    None,
    /// `zlib`: compression starts with the first packet after NEWKEYS.
    Zlib,
    /// `zlib@openssh.com`: the same stream format, started only after user
    /// authentication succeeds, so an unauthenticated peer cannot reach zlib.
    ZlibOpenssh,
}

impl CompressionAlgorithm {
    /// Our preference order, OpenSSH's when compression is enabled.
    pub const DEFAULT: &'static [CompressionAlgorithm] = &[Self::None, Self::ZlibOpenssh];

    /// The name used in KEXINIT.
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Zlib => "zlib",
            Self::ZlibOpenssh => "zlib@openssh.com",
        }
    }

    /// The method a KEXINIT name stands for, if we implement it.
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::None, Self::Zlib, Self::ZlibOpenssh]
            .into_iter()
            .find(|a| a.name() == name)
    }

    /// Whether compression waits for USERAUTH_SUCCESS instead of starting at NEWKEYS.
    pub fn is_delayed(self) -> bool {
        self == Self::ZlibOpenssh
    }
}

impl fmt::Display for CompressionAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_preferred_order_reorders_the_default_list_only_for_aes_hardware() {
        let preferred = CipherAlgorithm::preferred();
        let mut sorted = preferred.clone();
        sorted.sort_by_key(|c| c.name());
        let mut default = CipherAlgorithm::DEFAULT.to_vec();
        default.sort_by_key(|c| c.name());
        assert_eq!(sorted, default, "the same ciphers");
        let expected_first = if aes_gcm_in_hardware() {
            [
                CipherAlgorithm::Aes128Gcm,
                CipherAlgorithm::Aes256Gcm,
                CipherAlgorithm::Chacha20Poly1305,
            ]
        } else {
            [
                CipherAlgorithm::Chacha20Poly1305,
                CipherAlgorithm::Aes128Gcm,
                CipherAlgorithm::Aes256Gcm,
            ]
        };
        assert_eq!(preferred[..3], expected_first);
    }
}
