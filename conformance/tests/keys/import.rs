//! ssh-keygen writes, we read: every key type in every private and public format
//! ssh-keygen makes, imported with the fingerprints and randomart ssh-keygen prints.

use std::path::{Path, PathBuf};

use sansh_conformance::openssh::{Query, supported};
use sansh_conformance::scratch::ScratchDir;
use sansh_core::keys::{KeyError, KeyType, OpenSshCipher, PrivateKey, PublicKey};

use super::support::{
    Fingerprints, KEY_SPECS, KeySpec, Matrix, Outcome, PASSPHRASE, parallel, path_str, read,
    ssh_keygen_ok,
};

const DIRECTION: &str = "ssh-keygen -> sansh";

/// bcrypt rounds for the per-cipher files: the cipher is what they test, and 16
/// rounds per file would dominate the run. The default-cipher file keeps 16.
const CIPHER_ROUNDS: &str = "4";

/// The ciphers ssh-keygen offers for `-Z` that we do not implement: 3DES needs
/// aws-lc-rs's `legacy-des` feature, and ssh-keygen never chose it by default for this
/// format. We must refuse these by name; any other cipher must load.
const UNSUPPORTED_CIPHERS: &[&str] = &["3des-cbc"];

/// A private key file ssh-keygen makes from a plain OpenSSH key with `-p`.
struct PrivateVariant {
    label: String,
    /// `ssh-keygen -p` arguments after `-P ''`.
    args: Vec<String>,
    encrypted: bool,
    /// Whether the format stores the comment.
    keeps_comment: bool,
    /// The `-Z` cipher, if one is named.
    cipher: Option<String>,
}

/// The private formats: OpenSSH plain, with the default cipher, with each cipher
/// `ssh -Q cipher` lists; PEM and PKCS#8, plain and encrypted.
fn private_variants(ciphers: &[String]) -> Vec<PrivateVariant> {
    let variant =
        |label: &str, args: &[&str], encrypted: bool, keeps_comment: bool| PrivateVariant {
            label: label.to_owned(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            encrypted,
            keeps_comment,
            cipher: None,
        };
    let mut out = vec![
        variant("openssh plain", &["-N", ""], false, true),
        variant(
            "openssh -N (default cipher)",
            &["-N", PASSPHRASE],
            true,
            true,
        ),
    ];
    for cipher in ciphers {
        out.push(PrivateVariant {
            cipher: Some(cipher.clone()),
            ..variant(
                &format!("openssh -Z {cipher}"),
                &["-N", PASSPHRASE, "-Z", cipher, "-a", CIPHER_ROUNDS],
                true,
                true,
            )
        });
    }
    out.extend([
        variant("-m PEM plain", &["-m", "PEM", "-N", ""], false, false),
        variant("-m PEM -N", &["-m", "PEM", "-N", PASSPHRASE], true, false),
        variant("-m PKCS8 plain", &["-m", "PKCS8", "-N", ""], false, false),
        variant(
            "-m PKCS8 -N",
            &["-m", "PKCS8", "-N", PASSPHRASE],
            true,
            false,
        ),
    ]);
    out
}

/// Generates one key of each type with ssh-keygen, converts it to every format and
/// records whether we import each with ssh-keygen's fingerprints.
pub(crate) fn check(matrix: &Matrix) {
    let ciphers = match supported(Query::Cipher) {
        Ok(ciphers) => ciphers,
        Err(e) => {
            matrix.record(
                DIRECTION,
                "ssh -Q cipher",
                "-",
                Outcome::Fail(e.to_string()),
            );
            return;
        }
    };
    let dir = match ScratchDir::new("keys-import") {
        Ok(dir) => dir,
        Err(e) => {
            matrix.record(DIRECTION, "scratch dir", "-", Outcome::Fail(e.to_string()));
            return;
        }
    };
    let variants = private_variants(&ciphers);
    parallel(KEY_SPECS, |spec| check_type(matrix, &dir, spec, &variants));
}

fn check_type(matrix: &Matrix, dir: &ScratchDir, spec: &KeySpec, variants: &[PrivateVariant]) {
    let base = dir.join(spec.label);
    let reference = match generate(spec, &base) {
        Ok(reference) => reference,
        Err(e) => {
            matrix.record(DIRECTION, "ssh-keygen -t", spec.label, Outcome::Fail(e));
            return;
        }
    };
    for (i, variant) in variants.iter().enumerate() {
        let path = dir.join(format!("{}-{i}", spec.label));
        let outcome = import_private(spec, &base, &path, variant, &reference);
        matrix.record(DIRECTION, variant.label.clone(), spec.label, outcome);
    }
    for format in PublicFormat::ALL {
        let outcome = import_public(spec, &base, *format, &reference);
        matrix.record(DIRECTION, format.label(), spec.label, outcome);
    }
}

/// The key ssh-keygen made, as its `.pub` line and `-l` output describe it.
struct Reference {
    public: PublicKey,
    comment: String,
    fingerprints: Fingerprints,
}

fn generate(spec: &KeySpec, base: &Path) -> Result<Reference, String> {
    let comment = format!("sansh-import-{}", spec.label);
    let mut args = vec!["-q".to_owned()];
    args.extend(spec.keygen_args());
    args.extend(["-N", "", "-C", &comment, "-f", path_str(base)].map(String::from));
    ssh_keygen_ok(&args)?;
    let pub_path = base.with_extension("pub");
    let (public, line_comment) = PublicKey::from_openssh(&read(&pub_path)?)
        .map_err(|e| format!("we cannot read ssh-keygen's .pub line: {e}"))?;
    if line_comment != comment {
        return Err(format!("comment {line_comment:?} read back as {comment:?}"));
    }
    Ok(Reference {
        fingerprints: Fingerprints::of_file(&pub_path)?,
        public,
        comment,
    })
}

fn import_private(
    spec: &KeySpec,
    base: &Path,
    path: &PathBuf,
    variant: &PrivateVariant,
    reference: &Reference,
) -> Outcome {
    let result = (|| {
        std::fs::copy(base, path).map_err(|e| format!("copy: {e}"))?;
        let mut args = vec!["-q", "-p", "-P", "", "-f", path_str(path)];
        args.extend(variant.args.iter().map(String::as_str));
        ssh_keygen_ok(&args)?;
        let text = read(path)?;
        if let Some(name) = variant.cipher.as_deref() {
            if UNSUPPORTED_CIPHERS.contains(&name) {
                return expect_unknown_cipher(&text, name);
            }
        }
        let passphrase = variant.encrypted.then_some(PASSPHRASE.as_bytes());
        let key = PrivateKey::from_pem(&text, passphrase)
            .map_err(|e| format!("we refuse ssh-keygen's file: {e}\n{}", head(&text)))?;
        if key.public_key() != reference.public {
            return Err("we read a different key".to_owned());
        }
        if variant.keeps_comment && key.comment() != reference.comment {
            return Err(format!("comment read as {:?}", key.comment()));
        }
        // The comment ssh-keygen -l printed is the .pub file's.
        let ours = Fingerprints::ours(&key.public_key(), &reference.comment);
        reference.fingerprints.agree(&ours)?;
        if variant.encrypted {
            check_passphrase_errors(&text)?;
        }
        Ok(Ok(()))
    })();
    match result {
        Ok(Ok(())) => note_ed25519_fallback(spec, variant),
        Ok(Err(outcome)) => outcome,
        Err(e) => Outcome::Fail(e),
    }
}

/// ssh-keygen writes Ed25519 keys in OpenSSH format whatever `-m` says: the row
/// passes, and says so.
fn note_ed25519_fallback(spec: &KeySpec, variant: &PrivateVariant) -> Outcome {
    if spec.key_type == KeyType::Ed25519 && variant.label.starts_with("-m ") {
        Outcome::PassNoted("ssh-keygen writes Ed25519 as OpenSSH".into())
    } else {
        Outcome::Pass
    }
}

/// A cipher ssh-keygen offers that we do not implement must be refused by name.
fn expect_unknown_cipher(text: &str, name: &str) -> Result<Result<(), Outcome>, String> {
    match PrivateKey::from_pem(text, Some(PASSPHRASE.as_bytes())) {
        Err(KeyError::UnknownCipher(found)) if found == name => Ok(Err(Outcome::NotApplicable(
            format!("{name} unsupported: refused with UnknownCipher"),
        ))),
        Err(e) => Err(format!("{name}: expected UnknownCipher, got {e}")),
        Ok(_) if OpenSshCipher::from_name(name).is_some() => Err(format!(
            "{name} is now supported: take it out of UNSUPPORTED_CIPHERS"
        )),
        Ok(_) => Err(format!("{name} is not in OpenSshCipher but the key loaded")),
    }
}

/// No passphrase and a wrong one each get their own error.
fn check_passphrase_errors(text: &str) -> Result<(), String> {
    match PrivateKey::from_pem(text, None) {
        Err(KeyError::PassphraseRequired) => {}
        other => return Err(format!("without a passphrase: {other:?}")),
    }
    match PrivateKey::from_pem(text, Some(b"wrong horse")) {
        Err(KeyError::WrongPassphrase) => Ok(()),
        other => Err(format!("with a wrong passphrase: {other:?}")),
    }
}

fn head(text: &str) -> String {
    text.lines().take(3).collect::<Vec<_>>().join("\n")
}

/// The public key files ssh-keygen writes.
#[derive(Debug, Clone, Copy)]
enum PublicFormat {
    OpenSshLine,
    Rfc4716,
    Pkcs8,
    Pem,
}

impl PublicFormat {
    const ALL: &'static [PublicFormat] = &[
        PublicFormat::OpenSshLine,
        PublicFormat::Rfc4716,
        PublicFormat::Pkcs8,
        PublicFormat::Pem,
    ];

    fn label(self) -> &'static str {
        match self {
            PublicFormat::OpenSshLine => "public .pub line",
            PublicFormat::Rfc4716 => "public -e -m RFC4716",
            PublicFormat::Pkcs8 => "public -e -m PKCS8",
            PublicFormat::Pem => "public -e -m PEM",
        }
    }
}

fn import_public(
    spec: &KeySpec,
    base: &Path,
    format: PublicFormat,
    reference: &Reference,
) -> Outcome {
    let pub_path = base.with_extension("pub");
    let pub_path = path_str(&pub_path);
    let export = |m: &str| ssh_keygen_ok(&["-e", "-m", m, "-f", pub_path]);
    let ed25519 = spec.key_type == KeyType::Ed25519;
    let result = match format {
        PublicFormat::OpenSshLine => read(Path::new(pub_path))
            .and_then(|line| PublicKey::from_openssh(&line).map_err(|e| e.to_string())),
        PublicFormat::Rfc4716 => export("RFC4716")
            .and_then(|text| PublicKey::from_rfc4716(&text).map_err(|e| format!("{e}\n{text}"))),
        PublicFormat::Pkcs8 | PublicFormat::Pem if ed25519 => {
            return match export(if matches!(format, PublicFormat::Pem) {
                "PEM"
            } else {
                "PKCS8"
            }) {
                Err(_) => Outcome::NotApplicable("ssh-keygen cannot export Ed25519 so".into()),
                Ok(text) => Outcome::Fail(format!("ssh-keygen now exports Ed25519:\n{text}")),
            };
        }
        PublicFormat::Pkcs8 => export("PKCS8").and_then(|text| {
            PublicKey::from_pem(&text)
                .map(|key| (key, String::new()))
                .map_err(|e| format!("{e}\n{text}"))
        }),
        PublicFormat::Pem => export("PEM").and_then(|text| {
            PublicKey::from_pem(&text)
                .map(|key| (key, String::new()))
                .map_err(|e| format!("{e}\n{text}"))
        }),
    };
    let check = result.and_then(|(key, _comment)| {
        if key != reference.public {
            return Err("we read a different key".to_owned());
        }
        reference
            .fingerprints
            .agree(&Fingerprints::ours(&key, &reference.comment))
    });
    check.into()
}
