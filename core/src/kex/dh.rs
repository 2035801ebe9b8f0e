//! Finite-field Diffie-Hellman: the arithmetic shared with group exchange, and the
//! fixed-group methods `diffie-hellman-group14-sha1`
//! ([RFC 4253 §8](https://www.rfc-editor.org/rfc/rfc4253#section-8)),
//! `-group14-sha256`, `-group16-sha512` and `-group18-sha512`
//! ([RFC 8268](https://www.rfc-editor.org/rfc/rfc8268)).
//!
//! Client: `SSH_MSG_KEXDH_INIT (30) mpint e`. Server: `SSH_MSG_KEXDH_REPLY (31) string K_S
//! || mpint f || string signature`. The hash body is `mpint e || mpint f`; `K = f^x mod p`
//! as an `mpint`.
//!
//! Exponentiation uses crypto-bigint's constant-time Montgomery ladder; the only thing its
//! timing depends on is the (fixed) exponent size.

use crypto_bigint::BoxedUint;
use crypto_bigint::modular::{BoxedMontyForm, BoxedMontyParams};
use zeroize::Zeroizing;

use super::groups::ModpGroup;
use super::messages::{self, ValueEncoding};
use super::{KexError, KexReply, ServerReply, SharedSecret};
use crate::crypto::SecureRandom;
use crate::wire::msg;

/// Bits of a private exponent. OpenSSH uses twice the strength of the negotiated cipher
/// and never fewer than 512 bits; 512 bits is twice the 256-bit strength of the strongest
/// cipher and beyond the ~200-bit strength of an 8192-bit group.
const EXPONENT_BITS: u32 = 512;

/// A group `(p, g)` ready for exponentiation.
pub(crate) struct DhGroup {
    params: BoxedMontyParams,
    /// 2, at the precision of `p`.
    two: BoxedUint,
    /// p - 2, at the precision of `p`.
    p_minus_2: BoxedUint,
    generator: BoxedUint,
}

/// Our private exponent and public value for one exchange.
pub(crate) struct DhKeyPair {
    exponent: Zeroizing<BoxedUint>,
    /// `g^x mod p`, big-endian without leading zeros.
    public: Vec<u8>,
}

impl DhKeyPair {
    /// The public value's magnitude bytes, as they go into an mpint.
    pub(crate) fn public(&self) -> &[u8] {
        &self.public
    }
}

impl DhGroup {
    /// One of the built-in RFC 3526 groups.
    pub(crate) fn builtin(group: &ModpGroup) -> Result<Self, KexError> {
        Self::new(group.prime, &[group.generator])
    }

    /// A group from a prime and generator (big-endian magnitudes). Rejects an even or tiny
    /// modulus and a generator outside `[2, p-2]`; primality is not checked (the client
    /// trusts the server it authenticates, as RFC 4419 and OpenSSH do).
    pub(crate) fn new(prime: &[u8], generator: &[u8]) -> Result<Self, KexError> {
        let p = BoxedUint::from_be_slice_vartime(prime);
        if p.bit_width_vartime() < 3 {
            return Err(KexError::InvalidGroup("modulus is too small"));
        }
        let odd = p
            .to_odd()
            .into_option()
            .ok_or(KexError::InvalidGroup("modulus is even"))?;
        let precision = p.bits_precision();
        let two = BoxedUint::from_be_slice_truncated(&[2], precision);
        let p_minus_2 = p.wrapping_sub(&two);
        let g = BoxedUint::from_be_slice(generator, precision)
            .map_err(|_| KexError::InvalidGroup("generator is larger than the modulus"))?;
        if g.cmp_vartime(&two).is_lt() || g.cmp_vartime(&p_minus_2).is_gt() {
            return Err(KexError::InvalidGroup("generator is outside [2, p-2]"));
        }
        Ok(Self {
            params: BoxedMontyParams::new_vartime(odd),
            two,
            p_minus_2,
            generator: g,
        })
    }

    /// Draws a private exponent from `rng` and computes the public value.
    pub(crate) fn generate(&self, rng: &mut dyn SecureRandom) -> Result<DhKeyPair, KexError> {
        let mut bytes = Zeroizing::new([0u8; EXPONENT_BITS as usize / 8]);
        rng.fill(&mut bytes[..]);
        // Setting the top bit keeps the exponent at full size (never 0 or 1) at the cost
        // of one bit of entropy.
        bytes[0] |= 0x80;
        let exponent = Zeroizing::new(
            BoxedUint::from_be_slice(&bytes[..], EXPONENT_BITS)
                .map_err(|_| KexError::Crypto("DH exponent does not fit its precision"))?,
        );
        let public = self.pow(&self.generator, &exponent);
        // Only a degenerate (non-prime) group from a group-exchange server can make our
        // own public value 1 or p-1; OpenSSH refuses that too.
        if !self.in_range(&public) {
            return Err(KexError::InvalidGroup(
                "generator yields a degenerate public value",
            ));
        }
        Ok(DhKeyPair {
            exponent,
            public: public.to_be_bytes_trimmed_vartime().into_vec(),
        })
    }

    /// Decodes the peer's public value and checks `2 <= y <= p-2`
    /// ([RFC 4253 §8](https://www.rfc-editor.org/rfc/rfc4253#section-8)), which rules out
    /// the values that would force `K` into {0, 1, p-1}.
    pub(crate) fn check_peer(
        &self,
        what: &'static str,
        magnitude: &[u8],
    ) -> Result<BoxedUint, KexError> {
        let y = BoxedUint::from_be_slice(magnitude, self.two.bits_precision()).map_err(|_| {
            KexError::InvalidPublicValue {
                what,
                reason: "larger than the modulus",
            }
        })?;
        if !self.in_range(&y) {
            return Err(KexError::InvalidPublicValue {
                what,
                reason: "outside [2, p-2]",
            });
        }
        Ok(y)
    }

    /// `K = peer^x mod p` as an mpint.
    pub(crate) fn agree(&self, ours: &DhKeyPair, peer: &BoxedUint) -> SharedSecret {
        let mut k = self.pow(peer, &ours.exponent);
        let bytes = Zeroizing::new(k.to_be_bytes());
        zeroize::Zeroize::zeroize(&mut k);
        SharedSecret::from_mpint_magnitude(&bytes)
    }

    fn in_range(&self, y: &BoxedUint) -> bool {
        y.cmp_vartime(&self.two).is_ge() && y.cmp_vartime(&self.p_minus_2).is_le()
    }

    fn pow(&self, base: &BoxedUint, exponent: &BoxedUint) -> BoxedUint {
        let mut base = BoxedMontyForm::new(base.clone(), &self.params);
        let mut result = base.pow_bounded_exp(exponent, EXPONENT_BITS);
        let out = result.retrieve();
        zeroize::Zeroize::zeroize(&mut base);
        zeroize::Zeroize::zeroize(&mut result);
        out
    }
}

/// The client side of a fixed-group exchange, waiting for KEXDH_REPLY.
pub(crate) struct Client {
    group: DhGroup,
    pair: DhKeyPair,
}

impl Client {
    /// Draws the exponent; returns the state and the KEXDH_INIT payload.
    pub(crate) fn start(
        group: &ModpGroup,
        rng: &mut dyn SecureRandom,
    ) -> Result<(Self, Vec<u8>), KexError> {
        let group = DhGroup::builtin(group)?;
        let pair = group.generate(rng)?;
        let init = messages::encode_init(msg::KEXDH_INIT, ValueEncoding::Mpint, pair.public());
        Ok((Self { group, pair }, init))
    }

    /// Handles KEXDH_REPLY.
    pub(crate) fn finish(self, payload: &[u8]) -> Result<KexReply, KexError> {
        let reply = messages::parse_reply(payload, msg::KEXDH_REPLY, ValueEncoding::Mpint)?;
        let f = self.group.check_peer("DH public value f", reply.value)?;
        Ok(KexReply {
            host_key_blob: reply.host_key.to_vec(),
            signature_blob: reply.signature.to_vec(),
            shared_secret: self.group.agree(&self.pair, &f),
            hash_body: messages::hash_body(ValueEncoding::Mpint, self.pair.public(), reply.value),
        })
    }
}

/// The server side of a fixed-group exchange: answers KEXDH_INIT.
pub(crate) fn respond(
    group: &ModpGroup,
    payload: &[u8],
    rng: &mut dyn SecureRandom,
) -> Result<ServerReply, KexError> {
    let e_bytes = messages::parse_init(payload, msg::KEXDH_INIT, ValueEncoding::Mpint)?;
    let group = DhGroup::builtin(group)?;
    let e = group.check_peer("DH public value e", e_bytes)?;
    let pair = group.generate(rng)?;
    Ok(ServerReply::new(
        msg::KEXDH_REPLY,
        ValueEncoding::Mpint,
        pair.public(),
        group.agree(&pair, &e),
        messages::hash_body(ValueEncoding::Mpint, e_bytes, pair.public()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SeededRandom;
    use crate::kex::groups::GROUP14;

    fn group14() -> DhGroup {
        DhGroup::builtin(&GROUP14).expect("group14")
    }

    fn p_plus(delta: i8) -> Vec<u8> {
        let p = BoxedUint::from_be_slice_vartime(GROUP14.prime);
        let d = BoxedUint::from_be_slice_truncated(&[delta.unsigned_abs()], p.bits_precision());
        let v = if delta < 0 {
            p.wrapping_sub(&d)
        } else {
            p.wrapping_add(&d)
        };
        v.to_be_bytes_trimmed_vartime().into_vec()
    }

    #[test]
    fn peer_values_outside_2_to_p_minus_2_are_rejected() {
        let g = group14();
        let mut too_long = vec![1u8];
        too_long.extend_from_slice(GROUP14.prime);
        for (value, reason) in [
            (vec![], "outside [2, p-2]"),
            (vec![1], "outside [2, p-2]"),
            (p_plus(-1), "outside [2, p-2]"),
            (p_plus(0), "outside [2, p-2]"),
            (p_plus(1), "outside [2, p-2]"),
            (too_long, "larger than the modulus"),
        ] {
            assert_eq!(
                g.check_peer("f", &value).err(),
                Some(KexError::InvalidPublicValue { what: "f", reason }),
                "{value:02x?}"
            );
        }
    }

    #[test]
    fn peer_values_at_the_edges_of_the_range_are_accepted() {
        let g = group14();
        assert!(g.check_peer("f", &[2]).is_ok());
        assert!(g.check_peer("f", &p_plus(-2)).is_ok());
    }

    #[test]
    fn both_sides_compute_the_same_k() {
        let g = group14();
        let a = g.generate(&mut SeededRandom::new(1)).expect("a");
        let b = g.generate(&mut SeededRandom::new(2)).expect("b");
        let pa = g.check_peer("a", a.public()).expect("a in range");
        let pb = g.check_peer("b", b.public()).expect("b in range");
        assert_eq!(g.agree(&a, &pb).encoded(), g.agree(&b, &pa).encoded());
    }

    #[test]
    fn exponent_is_the_drawn_bytes_with_the_top_bit_set() {
        // p = 23, g = 5 (a generator of order 22); the script makes x = 2^511 + 6.
        // 2^511 = 2 (mod 22), so x = 8 (mod 22) and g^x = 5^8 = 16 (mod 23).
        let g = DhGroup::new(&[23], &[5]).expect("toy group");
        let mut script = vec![0u8; 64];
        script[63] = 6;
        let pair = g
            .generate(&mut crate::kex::test_util::ScriptedRandom::new(script))
            .expect("pair");
        assert_eq!(pair.public(), &[16]);
    }

    #[test]
    fn even_modulus_and_bad_generators_are_rejected() {
        assert_eq!(
            DhGroup::new(&[0x10, 0x00], &[2]).err(),
            Some(KexError::InvalidGroup("modulus is even"))
        );
        for generator in [&[0u8][..], &[1], &[22], &[23], &[1, 0]] {
            assert!(matches!(
                DhGroup::new(&[23], generator),
                Err(KexError::InvalidGroup(_))
            ));
        }
    }
}
