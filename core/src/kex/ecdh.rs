//! Elliptic-curve Diffie-Hellman: `ecdh-sha2-nistp256/384/521`
//! ([RFC 5656 §4](https://www.rfc-editor.org/rfc/rfc5656#section-4)) and
//! `curve25519-sha256` ([RFC 8731 §3](https://www.rfc-editor.org/rfc/rfc8731#section-3)),
//! which uses the same messages.
//!
//! Client: `SSH_MSG_KEX_ECDH_INIT (30) string Q_C`. Server:
//! `SSH_MSG_KEX_ECDH_REPLY (31) string K_S || string Q_S || string signature`. The hash body
//! is `string Q_C || string Q_S`; `K` is the shared x-coordinate (for X25519 the 32 output
//! bytes read big-endian, RFC 8731 §3.1) encoded as an `mpint`.

use aws_lc_rs::agreement::{self, ECDH_P256, ECDH_P384, ECDH_P521, PrivateKey, UnparsedPublicKey};
use zeroize::Zeroizing;

use super::curve25519::X25519Key;
use super::messages::{self, ValueEncoding};
use super::{KexError, KexReply, ServerReply, SharedSecret};
use crate::crypto::SecureRandom;
use crate::wire::msg;

/// How many freshly drawn scalars we try before blaming the library: a uniformly random
/// 256-bit string is at least the P-256 group order with probability about 2^-32, so even
/// a handful of rejections in a row means something is broken.
const MAX_SCALAR_ATTEMPTS: usize = 16;

/// The curve of an ECDH-shaped method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Curve {
    /// Curve25519 (RFC 8731).
    X25519,
    /// NIST P-256.
    NistP256,
    /// NIST P-384.
    NistP384,
    /// NIST P-521.
    NistP521,
}

impl Curve {
    fn nist_algorithm(self) -> Option<&'static agreement::Algorithm> {
        match self {
            Self::X25519 => None,
            Self::NistP256 => Some(&ECDH_P256),
            Self::NistP384 => Some(&ECDH_P384),
            Self::NistP521 => Some(&ECDH_P521),
        }
    }

    /// Bytes of an uncompressed point `0x04 || x || y` (SEC1 §2.3.3).
    fn point_len(self) -> usize {
        1 + 2 * self.field_len()
    }

    /// Bytes of a field element, which is also the length of a private scalar (fixed-length
    /// big-endian) and of the shared x-coordinate.
    fn field_len(self) -> usize {
        match self {
            Self::X25519 | Self::NistP256 => 32,
            Self::NistP384 => 48,
            Self::NistP521 => 66,
        }
    }
}

/// An ephemeral key on a NIST curve whose scalar came from the injected generator.
struct NistKey {
    curve: Curve,
    private: PrivateKey,
    public: Vec<u8>,
}

impl NistKey {
    fn generate(
        curve: Curve,
        alg: &'static agreement::Algorithm,
        rng: &mut dyn SecureRandom,
    ) -> Result<Self, KexError> {
        let mut scalar = Zeroizing::new(vec![0u8; curve.field_len()]);
        for _ in 0..MAX_SCALAR_ATTEMPTS {
            rng.fill(&mut scalar);
            if curve == Curve::NistP521 {
                // 66 bytes hold 528 bits; keep 521 so that a draw is rejected (>= n) only
                // with negligible probability instead of almost always.
                scalar[0] &= 0x01;
            }
            // Zero or a value >= the group order is refused; draw again.
            if let Ok(private) = PrivateKey::from_private_key(alg, &scalar) {
                let public = private
                    .compute_public_key()
                    .map_err(|_| KexError::Crypto("ECDH public key computation failed"))?
                    .as_ref()
                    .to_vec();
                return Ok(Self {
                    curve,
                    private,
                    public,
                });
            }
        }
        Err(KexError::Crypto("ECDH rejected every freshly drawn scalar"))
    }

    fn agree(&self, peer: &[u8]) -> Result<Zeroizing<Vec<u8>>, KexError> {
        const WHAT: &str = "ECDH public point";
        let expected = self.curve.point_len();
        if peer.len() != expected {
            return Err(KexError::WrongLength {
                what: WHAT,
                len: peer.len(),
                expected,
            });
        }
        // aws-lc would also parse compressed points; like OpenSSH we take only the
        // uncompressed form every implementation must support (RFC 5656 §3.1).
        if peer.first() != Some(&0x04) {
            return Err(KexError::InvalidPublicValue {
                what: WHAT,
                reason: "not an uncompressed point (first byte is not 0x04)",
            });
        }
        let alg = self.private.algorithm();
        agreement::agree(
            &self.private,
            UnparsedPublicKey::new(alg, peer),
            KexError::InvalidPublicValue {
                what: WHAT,
                reason: "not a point on the curve",
            },
            |x| Ok(Zeroizing::new(x.to_vec())),
        )
    }
}

/// An ephemeral key for one ECDH-shaped exchange.
enum EphemeralKey {
    X25519(X25519Key),
    Nist(NistKey),
}

impl EphemeralKey {
    fn generate(curve: Curve, rng: &mut dyn SecureRandom) -> Result<Self, KexError> {
        match curve.nist_algorithm() {
            None => Ok(Self::X25519(X25519Key::generate(rng)?)),
            Some(alg) => Ok(Self::Nist(NistKey::generate(curve, alg, rng)?)),
        }
    }

    fn public(&self) -> &[u8] {
        match self {
            Self::X25519(key) => key.public(),
            Self::Nist(key) => &key.public,
        }
    }

    /// `K`: the shared x-coordinate as an mpint.
    fn agree(&self, peer: &[u8]) -> Result<SharedSecret, KexError> {
        match self {
            Self::X25519(key) => Ok(SharedSecret::from_mpint_magnitude(&key.agree(peer)?[..])),
            Self::Nist(key) => Ok(SharedSecret::from_mpint_magnitude(&key.agree(peer)?)),
        }
    }
}

/// The client side, waiting for the server's REPLY.
pub(crate) struct Client {
    key: EphemeralKey,
}

impl Client {
    /// Generates the ephemeral key; returns the state and the INIT payload.
    pub(crate) fn start(
        curve: Curve,
        rng: &mut dyn SecureRandom,
    ) -> Result<(Self, Vec<u8>), KexError> {
        let key = EphemeralKey::generate(curve, rng)?;
        let init = messages::encode_init(msg::KEXDH_INIT, ValueEncoding::String, key.public());
        Ok((Self { key }, init))
    }

    /// Handles the server's REPLY.
    pub(crate) fn finish(self, payload: &[u8]) -> Result<KexReply, KexError> {
        let reply = messages::parse_reply(payload, msg::KEXDH_REPLY, ValueEncoding::String)?;
        let shared_secret = self.key.agree(reply.value)?;
        Ok(KexReply {
            host_key_blob: reply.host_key.to_vec(),
            signature_blob: reply.signature.to_vec(),
            shared_secret,
            hash_body: messages::hash_body(ValueEncoding::String, self.key.public(), reply.value),
        })
    }
}

/// The server side: answers the client's INIT.
pub(crate) fn respond(
    curve: Curve,
    payload: &[u8],
    rng: &mut dyn SecureRandom,
) -> Result<ServerReply, KexError> {
    let q_c = messages::parse_init(payload, msg::KEXDH_INIT, ValueEncoding::String)?;
    let key = EphemeralKey::generate(curve, rng)?;
    let shared_secret = key.agree(q_c)?;
    Ok(ServerReply::new(
        msg::KEXDH_REPLY,
        ValueEncoding::String,
        key.public(),
        shared_secret,
        messages::hash_body(ValueEncoding::String, q_c, key.public()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SeededRandom;
    use crate::kex::test_util::{ScriptedRandom, hex};

    // RFC 5903 §8.1, the 256-bit random ECP group.
    const I: &str = "c88f01f510d9ac3f70a292daa2316de544e9aab8afe84049c62a9c57862d1433";
    const GI: &str = concat!(
        "04dad0b65394221cf9b051e1feca5787d098dfe637fc90b9ef945d0c3772581180",
        "5271a0461cdb8252d61f1c456fa3e59ab1f45b33accf5f58389e0577b8990bb3"
    );
    const R: &str = "c6ef9c5d78ae012a011164acb397ce2088685d8f06bf9be0b283ab46476bee53";
    const GR: &str = concat!(
        "04d12dfb5289c8d4f81208b70270398c342296970a0bccb74c736fc7554494bf63",
        "56fbf3ca366cc23e8157854c13c58d6aac23f046ada30f8353e74f33039872ab"
    );
    const GIR_X: &str = "d6840f6b42f6edafd13116e0e12565202fef8e9ece7dce03812464d04b9442de";

    fn nist_key(curve: Curve, seed: u64) -> EphemeralKey {
        EphemeralKey::generate(curve, &mut SeededRandom::new(seed)).expect("key")
    }

    #[test]
    fn p256_exchange_matches_rfc5903_section_8_1() {
        let i =
            EphemeralKey::generate(Curve::NistP256, &mut ScriptedRandom::new(hex(I))).expect("i");
        let r =
            EphemeralKey::generate(Curve::NistP256, &mut ScriptedRandom::new(hex(R))).expect("r");
        assert_eq!(i.public(), &hex(GI)[..]);
        assert_eq!(r.public(), &hex(GR)[..]);
        let mut expected_k = vec![0, 0, 0, 33, 0];
        expected_k.extend_from_slice(&hex(GIR_X));
        assert_eq!(
            i.agree(r.public()).expect("agree").encoded(),
            &expected_k[..]
        );
        assert_eq!(
            r.agree(i.public()).expect("agree").encoded(),
            &expected_k[..]
        );
    }

    #[test]
    fn nist_public_keys_are_uncompressed_points_of_curve_size() {
        for (curve, len) in [
            (Curve::NistP256, 65),
            (Curve::NistP384, 97),
            (Curve::NistP521, 133),
        ] {
            let key = nist_key(curve, 3);
            assert_eq!(key.public().len(), len);
            assert_eq!(key.public()[0], 0x04);
        }
    }

    #[test]
    fn compressed_point_is_rejected() {
        let ours = nist_key(Curve::NistP256, 1);
        let theirs = nist_key(Curve::NistP256, 2);
        let mut compressed = vec![0x02 | (theirs.public()[64] & 1)];
        compressed.extend_from_slice(&theirs.public()[1..33]);
        assert!(matches!(
            ours.agree(&compressed),
            Err(KexError::WrongLength {
                len: 33,
                expected: 65,
                ..
            })
        ));
        // A full-length point whose prefix claims another format.
        let mut hybrid_form = theirs.public().to_vec();
        hybrid_form[0] = 0x06;
        assert!(matches!(
            ours.agree(&hybrid_form),
            Err(KexError::InvalidPublicValue { reason, .. }) if reason.contains("0x04")
        ));
    }

    #[test]
    fn point_off_the_curve_is_rejected() {
        for curve in [Curve::NistP256, Curve::NistP384, Curve::NistP521] {
            let ours = nist_key(curve, 1);
            let mut off = nist_key(curve, 2).public().to_vec();
            let last = off.len() - 1;
            off[last] ^= 1;
            assert_eq!(
                ours.agree(&off).err(),
                Some(KexError::InvalidPublicValue {
                    what: "ECDH public point",
                    reason: "not a point on the curve"
                })
            );
        }
    }

    #[test]
    fn point_at_infinity_is_rejected() {
        let ours = nist_key(Curve::NistP384, 1);
        assert!(matches!(
            ours.agree(&[0x00]),
            Err(KexError::WrongLength { .. })
        ));
        let zeros = vec![0u8; 97];
        assert!(matches!(
            ours.agree(&zeros),
            Err(KexError::InvalidPublicValue { .. })
        ));
    }

    #[test]
    fn p521_scalars_are_drawn_without_rejection_loops() {
        // With the top byte masked to 0x01, a seeded draw always succeeds first time, so
        // two generators with the same seed consume the same bytes.
        let mut a = SeededRandom::new(11);
        let mut b = SeededRandom::new(11);
        let ka = EphemeralKey::generate(Curve::NistP521, &mut a).expect("a");
        let kb = EphemeralKey::generate(Curve::NistP521, &mut b).expect("b");
        assert_eq!(ka.public(), kb.public());
        assert_eq!(a.next_u64(), b.next_u64());
    }
}
