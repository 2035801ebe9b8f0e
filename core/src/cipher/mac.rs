//! HMAC over `uint32 sequence_number || data`, the MAC input of RFC 4253 §6.4.

use aws_lc_rs::{constant_time, hmac};

use super::{CipherError, MacAlgorithm};

/// One direction's MAC key.
pub(crate) struct Mac {
    algorithm: MacAlgorithm,
    // aws-lc keeps the keyed inner and outer digest states, not the raw key, and
    // wipes them when the key is dropped.
    key: hmac::Key,
}

impl Mac {
    /// Keys `algorithm` with `key`; the caller has checked the length.
    pub(crate) fn new(algorithm: MacAlgorithm, key: &[u8]) -> Self {
        let digest = match algorithm {
            MacAlgorithm::HmacSha256Etm | MacAlgorithm::HmacSha256 => hmac::HMAC_SHA256,
            MacAlgorithm::HmacSha512Etm | MacAlgorithm::HmacSha512 => hmac::HMAC_SHA512,
            MacAlgorithm::HmacSha1Etm | MacAlgorithm::HmacSha1 => {
                hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY
            }
        };
        Self {
            algorithm,
            key: hmac::Key::new(digest, key),
        }
    }

    pub(crate) fn algorithm(&self) -> MacAlgorithm {
        self.algorithm
    }

    pub(crate) fn tag_len(&self) -> usize {
        self.algorithm.tag_len()
    }

    /// The MAC of `seq || data`.
    pub(crate) fn compute(&self, seq: u32, data: &[u8]) -> hmac::Tag {
        // Copies the keyed digest states (no allocation): the key stays reusable.
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(&seq.to_be_bytes());
        ctx.update(data);
        ctx.sign()
    }

    /// Checks `tag` against the MAC of `seq || data` in constant time.
    pub(crate) fn verify(&self, seq: u32, data: &[u8], tag: &[u8]) -> Result<(), CipherError> {
        let expected = self.compute(seq, data);
        constant_time::verify_slices_are_equal(expected.as_ref(), tag)
            .map_err(|_| CipherError::BadMac)
    }
}
