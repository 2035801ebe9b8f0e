//! Key fingerprints, as `ssh-keygen -l` prints them.

use aws_lc_rs::digest;
use base64ct::{Base64Unpadded, Encoding};

use super::PublicKey;

impl PublicKey {
    /// The SHA-256 fingerprint: `SHA256:` and the unpadded base64 of the digest of the
    /// public key blob, exactly as `ssh-keygen -l` prints it.
    pub fn fingerprint_sha256(&self) -> String {
        let hash = digest::digest(&digest::SHA256, &self.to_blob());
        format!("SHA256:{}", Base64Unpadded::encode_string(hash.as_ref()))
    }
}
