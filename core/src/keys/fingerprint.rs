//! Key fingerprints, as `ssh-keygen -l` prints them.

use aws_lc_rs::digest;
use base64ct::{Base64Unpadded, Encoding};
use md5::{Digest as _, Md5};

use super::PublicKey;

/// The hash a fingerprint is taken with (`ssh-keygen -E`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum FingerprintHash {
    /// SHA-256, printed as `SHA256:` and unpadded base64 (OpenSSH's default).
    #[default]
    Sha256,
    /// MD5, printed as `MD5:` and colon-separated hex (legacy).
    Md5,
}

impl FingerprintHash {
    /// The name `ssh-keygen` prints: `SHA256` or `MD5`.
    pub fn name(self) -> &'static str {
        match self {
            FingerprintHash::Sha256 => "SHA256",
            FingerprintHash::Md5 => "MD5",
        }
    }

    /// The raw digest of `data`.
    pub(crate) fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            FingerprintHash::Sha256 => digest::digest(&digest::SHA256, data).as_ref().to_vec(),
            FingerprintHash::Md5 => Md5::digest(data).to_vec(),
        }
    }
}

impl PublicKey {
    /// The fingerprint with `hash`, exactly as `ssh-keygen -l -E <hash>` prints it.
    pub fn fingerprint(&self, hash: FingerprintHash) -> String {
        let raw = hash.digest(&self.to_blob());
        match hash {
            FingerprintHash::Sha256 => {
                format!("SHA256:{}", Base64Unpadded::encode_string(&raw))
            }
            FingerprintHash::Md5 => {
                let hex: Vec<String> = raw.iter().map(|b| format!("{b:02x}")).collect();
                format!("MD5:{}", hex.join(":"))
            }
        }
    }

    /// The SHA-256 fingerprint: `SHA256:` and the unpadded base64 of the digest of the
    /// public key blob, as `ssh-keygen -l` prints it by default.
    pub fn fingerprint_sha256(&self) -> String {
        self.fingerprint(FingerprintHash::Sha256)
    }

    /// The legacy MD5 fingerprint: `MD5:` and colon-separated lowercase hex.
    pub fn fingerprint_md5(&self) -> String {
        self.fingerprint(FingerprintHash::Md5)
    }
}
