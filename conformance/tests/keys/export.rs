//! We write, ssh-keygen reads: every key type in every private and public format we
//! write, read back by ssh-keygen (`-y`, `-l`, `-i`) as the same key.

use std::path::Path;

use sansh_conformance::scratch::ScratchDir;
use sansh_core::crypto::SystemRandom;
use sansh_core::keys::{
    KeyError, KeyType, OpenSshCipher, OpenSshEncryption, PemFormat, PrivateKey, PublicKey,
};

use super::support::{
    Fingerprints, KEY_SPECS, KeySpec, Matrix, Outcome, PASSPHRASE, parallel, path_str,
    ssh_keygen_ok, write_private, write_public,
};

const DIRECTION: &str = "sansh -> ssh-keygen";

/// bcrypt rounds of the per-cipher files (see the import side).
const CIPHER_ROUNDS: u32 = 4;

/// A private key file we write.
#[derive(Debug, Clone, Copy)]
enum PrivateFormat {
    /// `to_openssh`, with this cipher and rounds when encrypted.
    OpenSsh(Option<(OpenSshCipher, u32)>),
    /// `to_pem`, encrypted or not.
    Pem(PemFormat, bool),
}

impl PrivateFormat {
    fn all() -> Vec<PrivateFormat> {
        let mut all = vec![
            PrivateFormat::OpenSsh(None),
            PrivateFormat::OpenSsh(Some((OpenSshCipher::Aes256Ctr, 16))),
        ];
        all.extend(
            OpenSshCipher::ALL
                .iter()
                .map(|&c| PrivateFormat::OpenSsh(Some((c, CIPHER_ROUNDS)))),
        );
        for format in [PemFormat::Traditional, PemFormat::Pkcs8] {
            all.extend([
                PrivateFormat::Pem(format, false),
                PrivateFormat::Pem(format, true),
            ]);
        }
        all
    }

    fn label(self) -> String {
        match self {
            PrivateFormat::OpenSsh(None) => "openssh plain".into(),
            PrivateFormat::OpenSsh(Some((c, 16))) => format!("openssh {} (default)", c.name()),
            PrivateFormat::OpenSsh(Some((c, _))) => format!("openssh {}", c.name()),
            PrivateFormat::Pem(PemFormat::Traditional, false) => "PEM PKCS#1/SEC1 plain".into(),
            PrivateFormat::Pem(PemFormat::Traditional, true) => "PEM PKCS#1/SEC1 encrypted".into(),
            PrivateFormat::Pem(PemFormat::Pkcs8, false) => "PKCS#8 plain".into(),
            PrivateFormat::Pem(PemFormat::Pkcs8, true) => "PKCS#8 encrypted".into(),
        }
    }

    fn encrypted(self) -> bool {
        match self {
            PrivateFormat::OpenSsh(encryption) => encryption.is_some(),
            PrivateFormat::Pem(_, encrypted) => encrypted,
        }
    }

    fn write(self, key: &PrivateKey) -> Result<String, KeyError> {
        let rng = &mut SystemRandom;
        let text = match self {
            PrivateFormat::OpenSsh(None) => key.to_openssh(None, rng)?,
            PrivateFormat::OpenSsh(Some((cipher, rounds))) => {
                let encryption = OpenSshEncryption {
                    cipher,
                    rounds,
                    ..OpenSshEncryption::new(PASSPHRASE.as_bytes())
                };
                key.to_openssh(Some(&encryption), rng)?
            }
            PrivateFormat::Pem(format, encrypted) => {
                key.to_pem(format, encrypted.then_some(PASSPHRASE.as_bytes()), rng)?
            }
        };
        Ok(text.to_string())
    }
}

/// Generates one key of each type and records whether ssh-keygen reads each format we
/// write as that key.
pub(crate) fn check(matrix: &Matrix) {
    let dir = match ScratchDir::new("keys-export") {
        Ok(dir) => dir,
        Err(e) => {
            matrix.record(DIRECTION, "scratch dir", "-", Outcome::Fail(e.to_string()));
            return;
        }
    };
    parallel(KEY_SPECS, |spec| check_type(matrix, &dir, spec));
}

fn check_type(matrix: &Matrix, dir: &ScratchDir, spec: &KeySpec) {
    let mut key = match PrivateKey::generate(spec.key_type, spec.bits, &mut SystemRandom) {
        Ok(key) => key,
        Err(e) => {
            matrix.record(
                DIRECTION,
                "generate",
                spec.label,
                Outcome::Fail(e.to_string()),
            );
            return;
        }
    };
    key.set_comment(format!("sansh-export-{}", spec.label));
    for (i, format) in PrivateFormat::all().into_iter().enumerate() {
        let path = dir.join(format!("{}-{i}", spec.label));
        let outcome = export_private(&key, format, &path);
        matrix.record(DIRECTION, format.label(), spec.label, outcome);
    }
    let public = key.public_key();
    let base = dir.join(spec.label);
    let rows: [(&str, Outcome); 4] = [
        (
            "public .pub line",
            public_line(&public, key.comment(), &base),
        ),
        ("public RFC 4716", rfc4716(&public, key.comment(), &base)),
        ("public SPKI PEM", spki(&public, &base)),
        ("public PKCS#1 PEM", pkcs1(&public, &base)),
    ];
    for (label, outcome) in rows {
        matrix.record(DIRECTION, label, spec.label, outcome);
    }
}

fn export_private(key: &PrivateKey, format: PrivateFormat, path: &Path) -> Outcome {
    let text = match format.write(key) {
        Ok(text) => text,
        Err(KeyError::UnsupportedFormat(why))
            if key.key_type() == KeyType::Ed25519
                && matches!(format, PrivateFormat::Pem(PemFormat::Traditional, _)) =>
        {
            return Outcome::NotApplicable(format!("we refuse: {why}"));
        }
        Err(e) => return Outcome::Fail(format!("we cannot write it: {e}")),
    };
    let result = (|| {
        write_private(path, &text)?;
        let path = path_str(path);
        let mut args = vec!["-y", "-f", path];
        if format.encrypted() {
            args.extend(["-P", PASSPHRASE]);
        }
        let line = ssh_keygen_ok(&args)?;
        let (read, comment) = PublicKey::from_openssh(&line)
            .map_err(|e| format!("ssh-keygen -y printed {line:?}: {e}"))?;
        if read != key.public_key() {
            return Err(format!("ssh-keygen -y read another key: {line}"));
        }
        let keeps_comment = matches!(format, PrivateFormat::OpenSsh(_));
        if keeps_comment && comment != key.comment() {
            return Err(format!("ssh-keygen -y read comment {comment:?}"));
        }
        // ssh-keygen -l reads what needs no passphrase: any OpenSSH file (its public
        // half is in clear) and unencrypted PEM.
        if keeps_comment || !format.encrypted() {
            let listed = ssh_keygen_ok(&["-l", "-f", path])?;
            let fingerprint = key.public_key().fingerprint_sha256();
            if listed.split_whitespace().nth(1) != Some(fingerprint.as_str()) {
                return Err(format!("ssh-keygen -l: {listed}, ours {fingerprint}"));
            }
        }
        Ok(())
    })();
    result.into()
}

/// `ssh-keygen -l/-lv [-E md5]` of our `.pub` line print our fingerprints and art.
fn public_line(key: &PublicKey, comment: &str, base: &Path) -> Outcome {
    let path = base.with_extension("pub");
    let result = write_public(&path, &format!("{}\n", key.to_openssh(comment)))
        .and_then(|()| Fingerprints::of_file(&path))
        .and_then(|theirs| theirs.agree(&Fingerprints::ours(key, comment)));
    result.into()
}

/// `ssh-keygen -i` of our RFC 4716 file prints our key.
fn rfc4716(key: &PublicKey, comment: &str, base: &Path) -> Outcome {
    let path = base.with_extension("rfc4716");
    import_check(key, &path, &key.to_rfc4716(comment), "RFC4716")
}

/// `ssh-keygen -i -m PKCS8` of our SubjectPublicKeyInfo prints our key (ssh-keygen
/// has no Ed25519 support there).
fn spki(key: &PublicKey, base: &Path) -> Outcome {
    let path = base.with_extension("spki");
    let text = match key.to_spki_pem() {
        Ok(text) => text,
        Err(e) => return Outcome::Fail(format!("we cannot write it: {e}")),
    };
    if key.key_type() == KeyType::Ed25519 {
        return match write_public(&path, &text)
            .and_then(|()| ssh_keygen_ok(&["-i", "-m", "PKCS8", "-f", path_str(&path)]))
        {
            Err(_) => Outcome::NotApplicable("ssh-keygen -i reads no Ed25519 SPKI".into()),
            Ok(out) => Outcome::Fail(format!("ssh-keygen now reads Ed25519 SPKI: {out}")),
        };
    }
    import_check(key, &path, &text, "PKCS8")
}

/// `ssh-keygen -i -m PEM` of our PKCS#1 public key prints our key (RSA only).
fn pkcs1(key: &PublicKey, base: &Path) -> Outcome {
    let path = base.with_extension("pkcs1");
    match key.to_pkcs1_pem() {
        Ok(text) => import_check(key, &path, &text, "PEM"),
        Err(KeyError::UnsupportedFormat(_)) if key.key_type() != KeyType::Rsa => {
            Outcome::NotApplicable("PKCS#1 is RSA only".into())
        }
        Err(e) => Outcome::Fail(format!("we cannot write it: {e}")),
    }
}

fn import_check(key: &PublicKey, path: &Path, text: &str, format: &str) -> Outcome {
    let result = write_public(path, text).and_then(|()| {
        let line = ssh_keygen_ok(&["-i", "-m", format, "-f", path_str(path)])?;
        let expected = key.to_openssh("");
        if line.trim() == expected {
            Ok(())
        } else {
            Err(format!(
                "ssh-keygen -i printed {line:?}, ours {expected:?}\n{text}"
            ))
        }
    });
    result.into()
}
