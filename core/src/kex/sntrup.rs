//! The Streamlined NTRU Prime 761 half of `sntrup761x25519-sha512` (the `sntrup761`
//! crate). Key generation and encapsulation are driven by 32-byte seeds drawn from the
//! injected generator, so a seeded run is reproducible.

use zeroize::Zeroizing;

use super::KexError;
use crate::crypto::SecureRandom;

/// Bytes of an sntrup761 public key.
pub(crate) const PUBLIC_KEY_LEN: usize = sntrup761::PUBLIC_KEY_SIZE;
/// Bytes of an sntrup761 ciphertext.
pub(crate) const CIPHERTEXT_LEN: usize = sntrup761::CIPHERTEXT_SIZE;
/// Bytes of the sntrup761 shared secret.
const SHARED_LEN: usize = sntrup761::SHARED_SECRET_SIZE;

/// The client's decapsulation key (zeroized on drop by the crate), boxed because it is
/// 1763 bytes.
pub(crate) struct ClientKey(Box<sntrup761::DecapsulationKey>);

fn draw_seed(rng: &mut dyn SecureRandom) -> Zeroizing<[u8; 32]> {
    let mut seed = Zeroizing::new([0u8; 32]);
    rng.fill(&mut seed[..]);
    seed
}

/// Generates a key pair from a seed drawn from `rng`; returns it with the public key.
pub(crate) fn generate(rng: &mut dyn SecureRandom) -> (ClientKey, Vec<u8>) {
    let seed = draw_seed(rng);
    let (public, private) = sntrup761::generate_key_from_seed(*seed);
    (ClientKey(Box::new(private)), public.as_ref().to_vec())
}

/// Encapsulates to the client's public key with a seed drawn from `rng`; returns the
/// ciphertext and the shared secret.
pub(crate) fn encapsulate(
    public_key: &[u8],
    rng: &mut dyn SecureRandom,
) -> Result<(Vec<u8>, Zeroizing<[u8; SHARED_LEN]>), KexError> {
    let key =
        sntrup761::EncapsulationKey::try_from(public_key).map_err(|_| KexError::WrongLength {
            what: "sntrup761 public key",
            len: public_key.len(),
            expected: PUBLIC_KEY_LEN,
        })?;
    let seed = draw_seed(rng);
    let (ciphertext, secret) = key.encapsulate_deterministic(*seed);
    Ok((ciphertext.as_ref().to_vec(), copy_secret(secret.as_ref())))
}

impl ClientKey {
    /// Decapsulates the server's ciphertext. A forged ciphertext yields an unrelated
    /// secret (implicit rejection), not an error.
    pub(crate) fn decapsulate(
        &self,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<[u8; SHARED_LEN]>, KexError> {
        let ciphertext =
            sntrup761::Ciphertext::try_from(ciphertext).map_err(|_| KexError::WrongLength {
                what: "sntrup761 ciphertext",
                len: ciphertext.len(),
                expected: CIPHERTEXT_LEN,
            })?;
        Ok(copy_secret(self.0.decapsulate(&ciphertext).as_ref()))
    }
}

fn copy_secret(secret: &[u8]) -> Zeroizing<[u8; SHARED_LEN]> {
    let mut out = Zeroizing::new([0u8; SHARED_LEN]);
    out.copy_from_slice(secret);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SeededRandom;

    #[test]
    fn seeded_generator_reproduces_keys_and_ciphertexts() {
        let (_, public_a) = generate(&mut SeededRandom::new(5));
        let (key, public_b) = generate(&mut SeededRandom::new(5));
        assert_eq!(public_a, public_b);
        assert_eq!(public_a.len(), PUBLIC_KEY_LEN);
        let (ct_a, ss_a) = encapsulate(&public_a, &mut SeededRandom::new(6)).expect("enc");
        let (ct_b, _) = encapsulate(&public_a, &mut SeededRandom::new(6)).expect("enc");
        assert_eq!(ct_a, ct_b);
        assert_eq!(ct_a.len(), CIPHERTEXT_LEN);
        assert_eq!(key.decapsulate(&ct_a).expect("dec")[..], ss_a[..]);
    }
}
