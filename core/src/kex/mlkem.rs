//! The ML-KEM-768 half of `mlkem768x25519-sha256` (FIPS 203, through aws-lc-rs).
//!
//! aws-lc-rs generates ML-KEM key pairs and encapsulates with its own internal generator
//! and has no seeded variant, so these two operations do not use the injected `rng`: the
//! ML-KEM bytes of a hybrid exchange differ between runs even with a seeded generator.

use aws_lc_rs::kem::{Ciphertext, DecapsulationKey, EncapsulationKey, ML_KEM_768};
use zeroize::Zeroizing;

use super::KexError;

/// Bytes of an ML-KEM-768 encapsulation (public) key.
pub(crate) const PUBLIC_KEY_LEN: usize = 1184;
/// Bytes of an ML-KEM-768 ciphertext.
pub(crate) const CIPHERTEXT_LEN: usize = 1088;
/// Bytes of the ML-KEM shared secret.
const SHARED_LEN: usize = 32;

/// The client's decapsulation key.
pub(crate) struct ClientKey(DecapsulationKey);

/// Generates a key pair; returns it with the encoded public key.
pub(crate) fn generate() -> Result<(ClientKey, Vec<u8>), KexError> {
    let key = DecapsulationKey::generate(&ML_KEM_768)
        .map_err(|_| KexError::Crypto("ML-KEM-768 key generation failed"))?;
    let public = key
        .encapsulation_key()
        .and_then(|ek| ek.key_bytes())
        .map_err(|_| KexError::Crypto("ML-KEM-768 public key export failed"))?
        .as_ref()
        .to_vec();
    Ok((ClientKey(key), public))
}

/// Encapsulates to the client's public key (exactly [`PUBLIC_KEY_LEN`] bytes); returns the
/// ciphertext and the shared secret.
pub(crate) fn encapsulate(
    public_key: &[u8],
) -> Result<(Vec<u8>, Zeroizing<[u8; SHARED_LEN]>), KexError> {
    // FIPS 203 §7.2 input checking (coefficients reduced mod q) happens here.
    let key = EncapsulationKey::new(&ML_KEM_768, public_key).map_err(|_| {
        KexError::InvalidPublicValue {
            what: "ML-KEM-768 public key",
            reason: "not a valid encapsulation key",
        }
    })?;
    let (ciphertext, secret) = key
        .encapsulate()
        .map_err(|_| KexError::InvalidPublicValue {
            what: "ML-KEM-768 public key",
            reason: "encapsulation failed",
        })?;
    Ok((ciphertext.as_ref().to_vec(), copy_secret(secret.as_ref())?))
}

impl ClientKey {
    /// Decapsulates the server's ciphertext (exactly [`CIPHERTEXT_LEN`] bytes). A forged
    /// ciphertext yields an unrelated secret (implicit rejection), not an error.
    pub(crate) fn decapsulate(
        &self,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<[u8; SHARED_LEN]>, KexError> {
        let secret = self
            .0
            .decapsulate(Ciphertext::from(ciphertext))
            .map_err(|_| KexError::InvalidPublicValue {
                what: "ML-KEM-768 ciphertext",
                reason: "decapsulation failed",
            })?;
        copy_secret(secret.as_ref())
    }
}

fn copy_secret(secret: &[u8]) -> Result<Zeroizing<[u8; SHARED_LEN]>, KexError> {
    let mut out = Zeroizing::new([0u8; SHARED_LEN]);
    if secret.len() != SHARED_LEN {
        return Err(KexError::Crypto(
            "ML-KEM-768 shared secret has an unexpected length",
        ));
    }
    out.copy_from_slice(secret);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_those_of_ml_kem_768() {
        let (key, public) = generate().expect("keygen");
        assert_eq!(public.len(), PUBLIC_KEY_LEN);
        let (ciphertext, secret) = encapsulate(&public).expect("encapsulate");
        assert_eq!(ciphertext.len(), CIPHERTEXT_LEN);
        assert_eq!(
            key.decapsulate(&ciphertext).expect("decapsulate")[..],
            secret[..]
        );
    }

    #[test]
    fn public_key_with_unreduced_coefficients_is_rejected() {
        // All-ones bytes encode 12-bit coefficients of 4095 >= q = 3329.
        let bad = vec![0xff; PUBLIC_KEY_LEN];
        assert!(matches!(
            encapsulate(&bad),
            Err(KexError::InvalidPublicValue {
                what: "ML-KEM-768 public key",
                ..
            })
        ));
    }
}
