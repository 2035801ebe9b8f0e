//! The hash functions of the key exchange methods.

use aws_lc_rs::digest;
use zeroize::Zeroizing;

use crate::wire::Writer;

/// The hash a key exchange method names; it computes the exchange hash `H` and derives
/// the keys ([RFC 4253 §7.2](https://www.rfc-editor.org/rfc/rfc4253#section-7.2)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashAlgorithm {
    /// SHA-1 (only `diffie-hellman-group14-sha1`).
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-384 (`ecdh-sha2-nistp384`).
    Sha384,
    /// SHA-512.
    Sha512,
}

impl HashAlgorithm {
    /// Length of the digest in bytes.
    pub fn output_len(self) -> usize {
        self.digest_algorithm().output_len()
    }

    /// Hashes `data` in one go.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        digest::digest(self.digest_algorithm(), data)
            .as_ref()
            .to_vec()
    }

    /// Starts an incremental hash.
    pub fn hasher(self) -> Hasher {
        Hasher(digest::Context::new(self.digest_algorithm()))
    }

    fn digest_algorithm(self) -> &'static digest::Algorithm {
        match self {
            Self::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
            Self::Sha256 => &digest::SHA256,
            Self::Sha384 => &digest::SHA384,
            Self::Sha512 => &digest::SHA512,
        }
    }
}

/// An incremental hash that also writes SSH `string` framing, so the exchange hash can be
/// computed without building its whole input in memory.
#[derive(Clone)]
pub struct Hasher(digest::Context);

impl Hasher {
    /// Feeds raw bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    /// Feeds `data` as an SSH `string`: its uint32 length, then the bytes.
    pub fn update_string(&mut self, data: &[u8]) {
        // A `string` cannot exceed u32::MAX bytes; every caller passes message fields that
        // arrived in (or will be sent in) a packet, which are far smaller.
        let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
        self.0.update(&len.to_be_bytes());
        self.0.update(data);
    }

    /// Finishes and returns the digest.
    pub fn finish(self) -> Vec<u8> {
        self.0.finish().as_ref().to_vec()
    }

    /// Finishes and appends the digest to a secret buffer (for derived key material).
    pub(crate) fn finish_into(self, out: &mut Zeroizing<Vec<u8>>) {
        out.put_raw(self.0.finish().as_ref());
    }
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Hasher").field(self.0.algorithm()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_lengths_match_the_digests() {
        assert_eq!(HashAlgorithm::Sha1.output_len(), 20);
        assert_eq!(HashAlgorithm::Sha256.output_len(), 32);
        assert_eq!(HashAlgorithm::Sha384.output_len(), 48);
        assert_eq!(HashAlgorithm::Sha512.output_len(), 64);
    }

    #[test]
    fn sha256_of_abc_is_the_fips_180_answer() {
        let expected = [
            0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae,
            0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61,
            0xf2, 0x00, 0x15, 0xad,
        ];
        assert_eq!(HashAlgorithm::Sha256.digest(b"abc"), expected);
    }

    #[test]
    fn update_string_prefixes_the_length() {
        let mut h = HashAlgorithm::Sha512.hasher();
        h.update_string(b"ssh");
        let mut framed = Vec::new();
        framed.put_string(b"ssh");
        assert_eq!(h.finish(), HashAlgorithm::Sha512.digest(&framed));
    }
}
