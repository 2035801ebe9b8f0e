//! `keygen`: ssh-keygen's key and certificate commands, written on sansh-core's
//! [`keys`](sansh_core::keys) API. It takes ssh-keygen's flags and prints what
//! ssh-keygen prints.
//!
//! ```text
//! cargo run -p sansh-core --example keygen -- -t ed25519 -f id_ed25519 -N secret -C me@host
//! cargo run -p sansh-core --example keygen -- -lv -E md5 -f id_ed25519.pub
//! cargo run -p sansh-core --example keygen -- -s ca -I alice -n alice -V +52w id_ed25519.pub
//! cargo run -p sansh-core --example keygen -- -L -f id_ed25519-cert.pub
//! ```
//!
//! | command | what it does | the API it shows |
//! |---|---|---|
//! | `-t -b -f -N -C [-m -Z -a]` | new key pair | `PrivateKey::generate`, `to_openssh`, `to_pem`, `PublicKey::to_openssh` |
//! | `-p -P -N [-m -Z -a]` | change the passphrase | `PrivateKey::from_pem` (every private format), `OpenSshEncryption` |
//! | `-y [-P]` | public key of a private key | `PrivateKey::public_key` |
//! | `-l [-v] [-E]` | fingerprint and randomart | `PublicKey::fingerprint`, `randomart`, `bits`, `from_openssh_private` |
//! | `-e [-m]` | export a public key | `to_rfc4716`, `to_spki_pem`, `to_pkcs1_pem` |
//! | `-i [-m]` | import a public key | `from_rfc4716`, `PublicKey::from_pem` |
//! | `-s -I [-h -n -V -O -z]` | sign certificates | `CertificateBuilder`, `Certificate::to_openssh` |
//! | `-L` | list a certificate | `Certificate::from_openssh`, its accessors, `verify_signature` |
//!
//! Passphrases come only from `-N` (new) and `-P` (current, or the CA key's with `-s`):
//! the tool never prompts. Times are UTC (ssh-keygen uses the local zone), and the
//! randomness is the system's ([`SystemRandom`]). Errors go to standard error with a
//! non-zero exit status.

#[path = "keygen/args.rs"]
mod args;
#[path = "keygen/files.rs"]
mod files;
#[path = "keygen/listing.rs"]
mod listing;
#[path = "keygen/time.rs"]
mod time;

use std::io::Write as _;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use sansh_core::crypto::{SecureRandom, SystemRandom};
use sansh_core::keys::{
    CertType, Certificate, CertificateBuilder, FingerprintHash, KeyError, KeyType, OpenSshCipher,
    OpenSshEncryption, PemFormat, PrivateKey, PublicKey, SignatureAlgorithm, extension,
};
use zeroize::Zeroizing;

use args::{Args, Mode, USAGE};
use time::Validity;

fn main() -> ExitCode {
    let result = Args::parse(std::env::args().skip(1)).and_then(|args| run(&args));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            // Nothing is left to report to if standard error is gone too.
            let _ = writeln!(std::io::stderr(), "keygen: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), String> {
    match args.mode()? {
        Mode::Generate => generate(args),
        Mode::ChangePassphrase => change_passphrase(args),
        Mode::PublicFromPrivate => public_from_private(args),
        Mode::Fingerprint => fingerprint(args),
        Mode::Export => export(args),
        Mode::Import => import(args),
        Mode::Sign => sign(args),
        Mode::ShowCertificate => show_certificate(args),
    }
}

/// `-t TYPE -b BITS -f FILE -N PASS -C COMMENT`: writes FILE (0600) and FILE.pub (0644).
fn generate(args: &Args) -> Result<(), String> {
    let path = args.file()?;
    let (name, key_type, bits) = type_to_generate(args)?;
    if files::exists(path) {
        return Err(format!(
            "{path} already exists (remove it first: keys are never overwritten)"
        ));
    }
    let hash = fingerprint_hash(args)?;
    let say = |line: &str| if args.quiet { Ok(()) } else { show(line) };
    let rng = &mut SystemRandom;
    say(&format!("Generating public/private {name} key pair."))?;
    let mut key = PrivateKey::generate(key_type, bits, rng).map_err(|e| e.to_string())?;
    key.set_comment(args.comment.clone().unwrap_or_else(files::user_at_host));

    let passphrase = args.new_passphrase.as_deref().unwrap_or("");
    files::write_private(path, &encode_private(&key, args, passphrase, rng)?)?;
    say(&format!("Your identification has been saved in {path}"))?;
    let public = key.public_key();
    let public_path = format!("{path}.pub");
    files::write_public(
        &public_path,
        &format!("{}\n", public.to_openssh(key.comment())),
    )?;
    say(&format!("Your public key has been saved in {public_path}"))?;
    say("The key fingerprint is:")?;
    say(&format!("{} {}", public.fingerprint(hash), key.comment()))?;
    say("The key's randomart image is:")?;
    say(&public.randomart(hash))?;
    Ok(())
}

/// `-p -f FILE -P OLD -N NEW`: rewrites FILE under the new passphrase, in the `-m` format.
fn change_passphrase(args: &Args) -> Result<(), String> {
    let path = args.file()?;
    let key = load_private(path, args.passphrase.as_deref())?;
    let new = args
        .new_passphrase
        .as_deref()
        .ok_or("no new passphrase given: use -N NEW (-N '' removes the passphrase)")?;
    if !key.comment().is_empty() {
        show(&format!("Key has comment '{}'", key.comment()))?;
    }
    files::write_private(path, &encode_private(&key, args, new, &mut SystemRandom)?)?;
    show("Your identification has been saved with the new passphrase.")
}

/// `-y -f FILE [-P PASS]`: the public key line of a private key file.
fn public_from_private(args: &Args) -> Result<(), String> {
    let key = load_private(args.file()?, args.passphrase.as_deref())?;
    show(&key.public_key().to_openssh(key.comment()))
}

/// `-l [-v] [-E sha256|md5] -f FILE`: `BITS FINGERPRINT COMMENT (TYPE)` for each key
/// (or certificate) in FILE, and with `-v` the randomart.
fn fingerprint(args: &Args) -> Result<(), String> {
    let hash = fingerprint_hash(args)?;
    for entry in load_public(args.file()?, args.passphrase.as_deref())? {
        let key = &entry.key;
        let comment = if entry.comment.is_empty() {
            "no comment"
        } else {
            &entry.comment
        };
        let suffix = if entry.certificate { "-CERT" } else { "" };
        let label = key.key_type().label();
        let fp = key.fingerprint(hash);
        show(&format!("{} {fp} {comment} ({label}{suffix})", key.bits()))?;
        if args.verbose && entry.certificate {
            show(&listing::certificate_randomart(key, hash))?;
        } else if args.verbose {
            show(&key.randomart(hash))?;
        }
    }
    Ok(())
}

/// `-e [-m RFC4716|PKCS8|PEM] -f FILE`: the public key in another format.
fn export(args: &Args) -> Result<(), String> {
    let path = args.file()?;
    let entry = load_public(path, args.passphrase.as_deref())?
        .into_iter()
        .find(|e| !e.certificate)
        .ok_or_else(|| format!("{path} holds no plain public key"))?;
    let key = entry.key;
    let text = match public_format(args)? {
        PublicFormat::Rfc4716 => {
            let comment = format!(
                "{}-bit {}, converted by {} from OpenSSH",
                key.bits(),
                key.key_type().label(),
                files::user_at_host()
            );
            key.to_rfc4716(&comment)
        }
        PublicFormat::Pkcs8 => key.to_spki_pem().map_err(|e| e.to_string())?,
        // ssh-keygen's PEM export is PKCS#1 for RSA and SubjectPublicKeyInfo for ECDSA.
        PublicFormat::Pem => match key.key_type() {
            KeyType::Rsa => key.to_pkcs1_pem().map_err(|e| e.to_string())?,
            KeyType::Ed25519 => return Err("Ed25519 keys have no PEM form: use -m PKCS8".into()),
            _ => key.to_spki_pem().map_err(|e| e.to_string())?,
        },
    };
    show(text.trim_end_matches('\n'))
}

/// `-i [-m RFC4716|PKCS8|PEM] -f FILE`: a public key from another format as an OpenSSH
/// line.
fn import(args: &Args) -> Result<(), String> {
    let path = args.file()?;
    let text = files::read_text(path)?;
    let key = match public_format(args)? {
        PublicFormat::Rfc4716 => PublicKey::from_rfc4716(&text).map(|(key, _comment)| key),
        // Either PEM label is accepted whichever -m names, as ssh-keygen does.
        PublicFormat::Pkcs8 | PublicFormat::Pem => PublicKey::from_pem(&text),
    }
    .map_err(|e| format!("cannot import {path}: {e}"))?;
    show(&key.to_openssh(""))
}

/// `-s CA -I ID [-h] [-n P1,P2] [-V INTERVAL] [-O OPTION]... [-z SERIAL] FILE...`:
/// signs each public key FILE into FILE-cert.pub.
fn sign(args: &Args) -> Result<(), String> {
    let ca_path = args.ca.as_deref().unwrap_or_default();
    let ca = load_private(ca_path, args.passphrase.as_deref())?;
    let algorithm = ca_algorithm(&ca, args.key_type.as_deref())?;
    let key_id = args
        .key_id
        .as_deref()
        .ok_or("a certificate needs a key id: give it with -I")?;
    let validity = match &args.validity {
        Some(spec) => Validity::parse(spec, unix_now())?,
        None => Validity::FOREVER,
    };
    let (cert_type, kind) = if args.host {
        (CertType::Host, "host")
    } else {
        (CertType::User, "user")
    };
    let serial = args.serial.unwrap_or(0);
    if args.operands.is_empty() {
        return Err("no public key to sign: name the key files after the options".into());
    }
    for path in &args.operands {
        let text = files::read_text(path)?;
        let line = text
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or_default();
        let (key, comment) = PublicKey::from_openssh(line)
            .map_err(|e| format!("{path} is not a public key: {e}"))?;
        let mut builder = CertificateBuilder::new(key, cert_type)
            .serial(serial)
            .key_id(key_id)
            .validity(validity.after, validity.before);
        for principal in args.principals.iter().flat_map(|p| p.split(',')) {
            if !principal.is_empty() {
                builder = builder.principal(principal);
            }
        }
        for option in &args.options {
            builder = apply_option(builder, option)?;
        }
        let cert = builder
            .sign(&ca, algorithm, &mut SystemRandom)
            .map_err(|e| format!("cannot sign {path}: {e}"))?;
        let cert_path = files::certificate_path(path);
        files::write_public(&cert_path, &format!("{}\n", cert.to_openssh(&comment)))?;
        let principals = args
            .principals
            .as_deref()
            .map_or(String::new(), |p| format!(" for {p}"));
        // ssh-keygen reports signing on standard error.
        let _ = writeln!(
            std::io::stderr(),
            "Signed {kind} key {cert_path}: id \"{key_id}\" serial {serial}{principals} valid {}",
            validity.describe()
        );
    }
    Ok(())
}

/// `-L -f FILE`: the certificate's contents, after checking the CA's signature.
fn show_certificate(args: &Args) -> Result<(), String> {
    let path = args.file()?;
    let text = files::read_text(path)?;
    let line = text
        .lines()
        .find(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .unwrap_or_default();
    let (cert, _comment) =
        Certificate::from_openssh(line).map_err(|e| format!("{path} is not a certificate: {e}"))?;
    cert.verify_signature(SignatureAlgorithm::ALL)
        .map_err(|e| format!("{path}: {e}"))?;
    show(listing::listing(path, &cert).trim_end_matches('\n'))
}

/// Prints `text` and a newline on standard output; a closed pipe is an error to
/// report, not a panic.
fn show(text: &str) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")
        .and_then(|()| out.flush())
        .map_err(|e| format!("cannot write to standard output: {e}"))
}

/// A `-O` option of `ssh-keygen -s`, applied to the certificate being built.
fn apply_option(builder: CertificateBuilder, option: &str) -> Result<CertificateBuilder, String> {
    let (name, value) = match option.split_once('=') {
        Some((name, value)) => (name, Some(value)),
        None => (option, None),
    };
    let lower = name.to_ascii_lowercase();
    // Custom options carry their value as an SSH string, or nothing for a flag.
    let data = |value: Option<&str>| {
        value.map_or_else(Vec::new, |v| {
            let mut data = (v.len() as u32).to_be_bytes().to_vec();
            data.extend_from_slice(v.as_bytes());
            data
        })
    };
    let permission = |suffix: &str| match suffix {
        "x11-forwarding" => Some(extension::PERMIT_X11_FORWARDING),
        "agent-forwarding" => Some(extension::PERMIT_AGENT_FORWARDING),
        "port-forwarding" => Some(extension::PERMIT_PORT_FORWARDING),
        "pty" => Some(extension::PERMIT_PTY),
        "user-rc" => Some(extension::PERMIT_USER_RC),
        _ => None,
    };
    Ok(match (lower.as_str(), value) {
        ("clear", None) => builder.clear_extensions(),
        ("force-command", Some(command)) => builder.force_command(command),
        ("source-address", Some(list)) => builder.source_address(list),
        ("verify-required", None) => builder.verify_required(),
        ("no-touch-required", None) => builder.extension(extension::NO_TOUCH_REQUIRED),
        (flag, None) if flag.starts_with("permit-") || flag.starts_with("no-") => {
            let (add, suffix) = match flag.strip_prefix("permit-") {
                Some(suffix) => (true, suffix),
                None => (false, &flag[3..]),
            };
            let name = permission(suffix)
                .ok_or_else(|| format!("unsupported certificate option {option:?}"))?;
            if add {
                builder.extension(name)
            } else {
                builder.remove_extension(name)
            }
        }
        _ => {
            if let Some(critical) = name.strip_prefix("critical:") {
                builder.critical_option(critical, data(value))
            } else if let Some(extension) = name.strip_prefix("extension:") {
                builder.extension_with_data(extension, data(value))
            } else {
                return Err(format!("unsupported certificate option {option:?}"));
            }
        }
    })
}

/// A key or certificate found in a public key file, with its comment.
struct Listed {
    key: PublicKey,
    comment: String,
    certificate: bool,
}

/// The public keys of FILE, looked for as ssh-keygen does: the lines of FILE itself
/// (public keys or certificates), then FILE.pub, then the private key file FILE, whose
/// public half an OpenSSH key file keeps in clear.
fn load_public(path: &str, passphrase: Option<&str>) -> Result<Vec<Listed>, String> {
    let text = files::read_text(path)?;
    let listed = public_lines(&text);
    if !listed.is_empty() {
        return Ok(listed);
    }
    if let Some(listed) = files::read_optional(&format!("{path}.pub"))
        .map(|text| public_lines(&text))
        .filter(|listed| !listed.is_empty())
    {
        return Ok(listed);
    }
    if !text.contains("PRIVATE KEY-----") {
        return Err(format!("{path} is not a public key file."));
    }
    let (key, comment) = match PrivateKey::from_pem(&text, None) {
        Ok(private) => (private.public_key(), private.comment().to_owned()),
        Err(KeyError::PassphraseRequired) => match PublicKey::from_openssh_private(&text) {
            Ok(public) => (public, String::new()),
            // A PEM key keeps no clear public half: it has to be decrypted.
            Err(_) => {
                let private = load_private(path, passphrase)?;
                (private.public_key(), String::new())
            }
        },
        Err(e) => return Err(format!("{path} is not a key file: {e}")),
    };
    Ok(vec![Listed {
        key,
        comment,
        certificate: false,
    }])
}

/// Every line of `text` that is a public key or a certificate; others are skipped.
fn public_lines(text: &str) -> Vec<Listed> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .filter_map(|line| {
            if let Ok((key, comment)) = PublicKey::from_openssh(line) {
                return Some(Listed {
                    key,
                    comment,
                    certificate: false,
                });
            }
            let (cert, comment) = Certificate::from_openssh(line).ok()?;
            Some(Listed {
                key: cert.key().clone(),
                comment,
                certificate: true,
            })
        })
        .collect()
}

/// Reads a private key in any format ssh-keygen writes (OpenSSH, PEM, PKCS#8).
fn load_private(path: &str, passphrase: Option<&str>) -> Result<PrivateKey, String> {
    let text = Zeroizing::new(files::read_text(path)?);
    PrivateKey::from_pem(&text, passphrase.map(str::as_bytes)).map_err(|e| match e {
        KeyError::PassphraseRequired => {
            format!("{path} is encrypted: give its passphrase with -P (this tool does not prompt)")
        }
        KeyError::WrongPassphrase => format!("incorrect passphrase supplied to decrypt {path}"),
        other => format!("cannot load private key {path}: {other}"),
    })
}

/// Encodes a private key in the `-m` format, encrypted when `passphrase` is not empty.
fn encode_private(
    key: &PrivateKey,
    args: &Args,
    passphrase: &str,
    rng: &mut dyn SecureRandom,
) -> Result<Zeroizing<String>, String> {
    let encoded = match private_format(args, key.key_type())? {
        None => {
            let mut encryption = OpenSshEncryption::new(passphrase.as_bytes());
            if let Some(name) = &args.cipher {
                encryption.cipher = OpenSshCipher::from_name(name)
                    .ok_or_else(|| format!("unknown cipher {name:?} (see ssh -Q cipher)"))?;
            }
            if let Some(rounds) = args.rounds {
                encryption.rounds = rounds;
            }
            key.to_openssh(Some(&encryption), rng)
        }
        Some(pem) => key.to_pem(pem, Some(passphrase.as_bytes()), rng),
    };
    encoded.map_err(|e| format!("cannot encode the key: {e}"))
}

/// The PEM layout `-m` asks for, or `None` for OpenSSH's own format. As ssh-keygen
/// does, Ed25519 keys stay in OpenSSH format whatever `-m` says.
fn private_format(args: &Args, key_type: KeyType) -> Result<Option<PemFormat>, String> {
    let format = match public_format(args)? {
        PublicFormat::Rfc4716 => None,
        PublicFormat::Pem => Some(PemFormat::Traditional),
        PublicFormat::Pkcs8 => Some(PemFormat::Pkcs8),
    };
    Ok(format.filter(|_| key_type != KeyType::Ed25519))
}

/// The `-m` formats.
enum PublicFormat {
    Rfc4716,
    Pkcs8,
    Pem,
}

fn public_format(args: &Args) -> Result<PublicFormat, String> {
    match args
        .format
        .as_deref()
        .map(str::to_ascii_uppercase)
        .as_deref()
    {
        None | Some("RFC4716") => Ok(PublicFormat::Rfc4716),
        Some("PKCS8") => Ok(PublicFormat::Pkcs8),
        Some("PEM") => Ok(PublicFormat::Pem),
        Some(other) => Err(format!(
            "unsupported key format {other:?} (PEM, PKCS8 or RFC4716)"
        )),
    }
}

fn fingerprint_hash(args: &Args) -> Result<FingerprintHash, String> {
    match args.hash.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("sha256") => Ok(FingerprintHash::Sha256),
        Some("md5") => Ok(FingerprintHash::Md5),
        Some(other) => Err(format!("invalid hash algorithm {other:?} (sha256 or md5)")),
    }
}

/// The `-t`/`-b` choice: the name ssh-keygen prints, the type, and the RSA size.
fn type_to_generate(args: &Args) -> Result<(&str, KeyType, Option<u32>), String> {
    let name = args.key_type.as_deref().unwrap_or("ed25519");
    let key_type = match (name, args.bits) {
        ("ed25519" | "ssh-ed25519", _) => KeyType::Ed25519,
        ("ecdsa", None | Some(256)) => KeyType::EcdsaP256,
        ("ecdsa", Some(384)) => KeyType::EcdsaP384,
        ("ecdsa", Some(521)) => KeyType::EcdsaP521,
        ("ecdsa", Some(_)) => {
            return Err("invalid ECDSA key length: valid lengths are 256, 384 or 521 bits".into());
        }
        ("rsa", _) => KeyType::Rsa,
        (other, _) => KeyType::from_name(other)
            .ok_or_else(|| format!("unknown key type {other:?}\n{USAGE}"))?,
    };
    // Only RSA has a choice of size; ssh-keygen ignores -b for Ed25519.
    let bits = args.bits.filter(|_| key_type == KeyType::Rsa);
    Ok((name, key_type, bits))
}

/// The CA's signature algorithm: `-t` may pick `rsa-sha2-256` for an RSA CA; the
/// default is the key type's first (rsa-sha2-512 for RSA, as ssh-keygen).
fn ca_algorithm(ca: &PrivateKey, name: Option<&str>) -> Result<SignatureAlgorithm, String> {
    ca.signature_algorithms()
        .iter()
        .copied()
        .find(|alg| name.is_none_or(|name| alg.name() == name))
        .ok_or_else(|| {
            let name = name.unwrap_or_default();
            format!("a {} CA cannot sign with {name:?}", ca.key_type())
        })
}

/// Seconds since the Unix epoch: the example owns the clock that the library never
/// reads.
fn unix_now() -> u64 {
    #[allow(clippy::disallowed_methods)]
    let now = SystemTime::now();
    now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}
