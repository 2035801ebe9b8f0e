//! X25519 ([RFC 7748](https://www.rfc-editor.org/rfc/rfc7748)), as used by
//! `curve25519-sha256` ([RFC 8731](https://www.rfc-editor.org/rfc/rfc8731)) and by the
//! classical half of the hybrid methods.

use aws_lc_rs::agreement::{self, PrivateKey, UnparsedPublicKey, X25519};
use zeroize::Zeroizing;

use super::KexError;
use crate::crypto::SecureRandom;

/// Length of an X25519 public key, private key and shared secret.
pub(crate) const KEY_LEN: usize = 32;

/// An ephemeral X25519 key pair whose private key came from the injected generator.
pub(crate) struct X25519Key {
    private: PrivateKey,
    public: [u8; KEY_LEN],
}

impl X25519Key {
    /// Draws 32 bytes from `rng` as the private key (X25519 clamps any 32 bytes into a
    /// valid scalar, so no retry is needed).
    pub(crate) fn generate(rng: &mut dyn SecureRandom) -> Result<Self, KexError> {
        let mut scalar = Zeroizing::new([0u8; KEY_LEN]);
        rng.fill(&mut scalar[..]);
        let private = PrivateKey::from_private_key(&X25519, &scalar[..])
            .map_err(|_| KexError::Crypto("X25519 rejected a private key"))?;
        let computed = private
            .compute_public_key()
            .map_err(|_| KexError::Crypto("X25519 public key computation failed"))?;
        let public = computed
            .as_ref()
            .try_into()
            .map_err(|_| KexError::Crypto("X25519 public key has an unexpected length"))?;
        Ok(Self { private, public })
    }

    /// Our public key, as sent on the wire.
    pub(crate) fn public(&self) -> &[u8; KEY_LEN] {
        &self.public
    }

    /// The raw 32-byte X25519 output with the peer's public key `peer`.
    ///
    /// Rejects a peer key of the wrong length, and an all-zero result, which only a
    /// low-order peer point can produce (RFC 7748 §6.1, RFC 8731 §3).
    pub(crate) fn agree(&self, peer: &[u8]) -> Result<Zeroizing<[u8; KEY_LEN]>, KexError> {
        if peer.len() != KEY_LEN {
            return Err(KexError::WrongLength {
                what: "X25519 public key",
                len: peer.len(),
                expected: KEY_LEN,
            });
        }
        // aws-lc itself refuses an all-zero X25519 output, and a well-formed 32-byte key
        // cannot fail otherwise, so its error is the low-order case; the explicit check in
        // the closure keeps that guarantee even if the library's behaviour changes.
        agreement::agree(
            &self.private,
            UnparsedPublicKey::new(&X25519, peer),
            KexError::ZeroSharedSecret,
            |secret| {
                let mut out = Zeroizing::new([0u8; KEY_LEN]);
                if secret.len() != KEY_LEN {
                    return Err(KexError::Crypto("X25519 output has an unexpected length"));
                }
                out.copy_from_slice(secret);
                if is_all_zero(&out[..]) {
                    return Err(KexError::ZeroSharedSecret);
                }
                Ok(out)
            },
        )
    }
}

/// True when every byte is zero, in time independent of where a non-zero byte sits.
fn is_all_zero(bytes: &[u8]) -> bool {
    bytes.iter().fold(0u8, |acc, &b| acc | b) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kex::test_util::{ScriptedRandom, hex};

    const ALICE_PRIVATE: &str = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
    const ALICE_PUBLIC: &str = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
    const BOB_PRIVATE: &str = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
    const BOB_PUBLIC: &str = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
    const SHARED: &str = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";

    #[test]
    fn key_from_rng_bytes_matches_rfc7748_section_6_1() {
        let alice =
            X25519Key::generate(&mut ScriptedRandom::new(hex(ALICE_PRIVATE))).expect("alice's key");
        let bob =
            X25519Key::generate(&mut ScriptedRandom::new(hex(BOB_PRIVATE))).expect("bob's key");
        assert_eq!(alice.public()[..], hex(ALICE_PUBLIC)[..]);
        assert_eq!(bob.public()[..], hex(BOB_PUBLIC)[..]);
        let ab = alice.agree(bob.public()).expect("alice agrees");
        let ba = bob.agree(alice.public()).expect("bob agrees");
        assert_eq!(ab[..], hex(SHARED)[..]);
        assert_eq!(ba[..], hex(SHARED)[..]);
    }

    #[test]
    fn low_order_points_give_zero_shared_secret_error() {
        let key = X25519Key::generate(&mut ScriptedRandom::new(hex(ALICE_PRIVATE))).expect("key");
        // u = 0 and u = 1 are the simplest points of small order; both give an all-zero
        // output for every scalar.
        let mut one = [0u8; KEY_LEN];
        one[0] = 1;
        for point in [[0u8; KEY_LEN], one] {
            assert_eq!(key.agree(&point).err(), Some(KexError::ZeroSharedSecret));
        }
    }

    #[test]
    fn public_key_of_wrong_length_is_rejected() {
        let key = X25519Key::generate(&mut ScriptedRandom::new(hex(ALICE_PRIVATE))).expect("key");
        for len in [0, 31, 33, 65] {
            assert_eq!(
                key.agree(&vec![9u8; len]).err(),
                Some(KexError::WrongLength {
                    what: "X25519 public key",
                    len,
                    expected: KEY_LEN
                })
            );
        }
    }
}
