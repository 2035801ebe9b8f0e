//! Certificates both ways: what we sign, `ssh-keygen -L` accepts (it checks the CA
//! signature) and lists as we parse it; what `ssh-keygen -s` signs, we parse, verify
//! and validate, and read as ssh-keygen lists it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sansh_conformance::scratch::ScratchDir;
use sansh_core::crypto::SystemRandom;
use sansh_core::keys::{
    CertType, Certificate, CertificateBuilder, CertificateCheck, CertificateError,
    DEFAULT_CA_ALGORITHMS, KeyType, PrivateKey, SignatureAlgorithm, critical, extension,
};

use super::support::{
    KeySpec, Matrix, Outcome, parallel, path_str, read, ssh_keygen, ssh_keygen_ok, write_public,
};

const SIGNED_BY_US: &str = "sansh -s -> ssh-keygen -L";
const SIGNED_BY_KEYGEN: &str = "ssh-keygen -s -> sansh";

/// The validity window of every certificate: 2023-11-14T22:13:20 to 2033-05-18T03:33:20
/// UTC, written as ssh-keygen's `-V` takes it and as `-L` prints it.
const VALID_AFTER: u64 = 1_700_000_000;
const VALID_BEFORE: u64 = 2_000_000_000;
const VALIDITY_ARG: &str = "20231114221320:20330518033320";
const VALIDITY_TEXT: &str = "from 2023-11-14T22:13:20 to 2033-05-18T03:33:20";
/// A time inside the window, and the client address `source-address` allows.
const INSIDE: u64 = 1_800_000_000;
const CLIENT: &str = "10.1.2.3";

const FORCE_COMMAND: &str = "/usr/bin/true --from-certificate";
const SOURCE_ADDRESS: &str = "10.0.0.0/8,192.168.1.1";
const CUSTOM_EXTENSION: &str = "sansh-test@example.org";
const CUSTOM_VALUE: &str = "value";

/// A CA: its key type and the signature algorithm it signs with.
#[derive(Debug, Clone, Copy)]
struct CaSpec {
    label: &'static str,
    key: KeySpec,
    algorithm: SignatureAlgorithm,
}

const fn ca(label: &'static str, key: KeySpec, algorithm: SignatureAlgorithm) -> CaSpec {
    CaSpec {
        label,
        key,
        algorithm,
    }
}

const fn key(label: &'static str, t: &'static str, bits: Option<u32>, kt: KeyType) -> KeySpec {
    KeySpec {
        label,
        keygen_type: t,
        bits,
        key_type: kt,
    }
}

const ED25519: KeySpec = key("ed25519", "ed25519", None, KeyType::Ed25519);
const P256: KeySpec = key("ecdsa-256", "ecdsa", Some(256), KeyType::EcdsaP256);
const P384: KeySpec = key("ecdsa-384", "ecdsa", Some(384), KeyType::EcdsaP384);
const P521: KeySpec = key("ecdsa-521", "ecdsa", Some(521), KeyType::EcdsaP521);
const RSA: KeySpec = key("rsa-2048", "rsa", Some(2048), KeyType::Rsa);

/// Every CA key type, RSA with both SHA-2 signature algorithms.
const CAS: &[CaSpec] = &[
    ca("ed25519", ED25519, SignatureAlgorithm::Ed25519),
    ca("ecdsa-256", P256, SignatureAlgorithm::EcdsaP256),
    ca("ecdsa-384", P384, SignatureAlgorithm::EcdsaP384),
    ca("ecdsa-521", P521, SignatureAlgorithm::EcdsaP521),
    ca("rsa-sha2-512", RSA, SignatureAlgorithm::RsaSha2_512),
    ca("rsa-sha2-256", RSA, SignatureAlgorithm::RsaSha2_256),
];

/// Every subject key type.
const SUBJECTS: &[KeySpec] = &[ED25519, P256, P384, P521, RSA];

/// Keys of every type, made once per section: ours, or ssh-keygen's in files.
struct Keys {
    private: Vec<(KeySpec, PrivateKey)>,
}

impl Keys {
    fn ours() -> Result<Self, String> {
        let made = parallel(SUBJECTS, |spec| {
            PrivateKey::generate(spec.key_type, spec.bits, &mut SystemRandom)
                .map(|key| (*spec, key))
                .map_err(|e| format!("generate {}: {e}", spec.label))
        });
        Ok(Self {
            private: made.into_iter().collect::<Result<_, _>>()?,
        })
    }

    /// Keys ssh-keygen generates into `dir` as `ROLE-TYPE` and `ROLE-TYPE.pub`.
    fn ssh_keygen(dir: &ScratchDir, role: &str) -> Result<Self, String> {
        let made = parallel(SUBJECTS, |spec| {
            let path = dir.join(format!("{role}-{}", spec.label));
            let mut args = vec!["-q".to_owned()];
            args.extend(spec.keygen_args());
            let comment = format!("{role}-{}", spec.label);
            args.extend(["-N", "", "-C", &comment, "-f", path_str(&path)].map(String::from));
            ssh_keygen_ok(&args)?;
            let key = PrivateKey::from_openssh(&read(&path)?, None)
                .map_err(|e| format!("read ssh-keygen's {}: {e}", spec.label))?;
            Ok::<_, String>((*spec, key))
        });
        Ok(Self {
            private: made.into_iter().collect::<Result<_, _>>()?,
        })
    }

    /// The key of `spec`'s type (every spec used is one of SUBJECTS).
    fn get(&self, spec: &KeySpec) -> &PrivateKey {
        self.private
            .iter()
            .find(|(s, _)| s.label == spec.label)
            .map(|(_, key)| key)
            .expect("a key of every subject type")
    }
}

/// The keys one direction uses: CA keys and subject keys, distinct.
struct Side {
    cas: Keys,
    subjects: Keys,
}

/// Records both directions for every CA × subject × user/host.
pub(crate) fn check(matrix: &Matrix) {
    let setup = || -> Result<(ScratchDir, Side, Side), String> {
        let dir = ScratchDir::new("keys-certs").map_err(|e| e.to_string())?;
        let ours = Side {
            cas: Keys::ours()?,
            subjects: Keys::ours()?,
        };
        let theirs = Side {
            cas: Keys::ssh_keygen(&dir, "ca")?,
            subjects: Keys::ssh_keygen(&dir, "subject")?,
        };
        Ok((dir, ours, theirs))
    };
    let (dir, ours, theirs) = match setup() {
        Ok(setup) => setup,
        Err(e) => {
            matrix.record(SIGNED_BY_US, "setup", "-", Outcome::Fail(e));
            return;
        }
    };
    // Each CA's rows are made on its own thread and recorded in CA order.
    let per_ca = parallel(CAS, |ca| {
        let mut rows = Vec::new();
        for cert_type in [CertType::User, CertType::Host] {
            let format = format!("{} cert, CA {}", kind(cert_type), ca.label);
            for subject in SUBJECTS {
                let name = format!("{}-{}-{}", ca.label, subject.label, kind(cert_type));
                let ours_outcome = signed_by_us(&dir, &name, &ours, ca, subject, cert_type);
                rows.push((SIGNED_BY_US, format.clone(), subject.label, ours_outcome));
                let outcome = signed_by_keygen(&dir, &name, &theirs, ca, subject, cert_type);
                rows.push((SIGNED_BY_KEYGEN, format.clone(), subject.label, outcome));
            }
        }
        let outcome = tampered_is_refused(&dir, &ours, ca);
        rows.push((
            SIGNED_BY_US,
            "tampered signature refused".into(),
            ca.label,
            outcome,
        ));
        rows
    });
    for (direction, format, key, outcome) in per_ca.into_iter().flatten() {
        matrix.record(direction, format, key, outcome);
    }
    for subject in SUBJECTS {
        let outcome = sha1_ca_is_parsed_and_refused_by_default(&dir, &theirs, subject);
        let format = "user cert, CA ssh-rsa (SHA-1)";
        matrix.record(SIGNED_BY_KEYGEN, format, subject.label, outcome);
    }
}

/// A certificate ssh-keygen signs with `-t ssh-rsa` parses and verifies when SHA-1 is
/// allowed, and is refused under OpenSSH's default CA algorithms, as sshd does.
fn sha1_ca_is_parsed_and_refused_by_default(
    dir: &ScratchDir,
    keys: &Side,
    subject: &KeySpec,
) -> Outcome {
    let result = (|| {
        let ca_path = dir.join(format!("ca-{}", RSA.label));
        let public_path = dir.join(format!("sha1-{}.pub", subject.label));
        std::fs::copy(
            dir.join(format!("subject-{}.pub", subject.label)),
            &public_path,
        )
        .map_err(|e| format!("copy: {e}"))?;
        let args = [
            "-q",
            "-s",
            path_str(&ca_path),
            "-t",
            "ssh-rsa",
            "-I",
            "sha1",
            "-n",
            "alice",
            path_str(&public_path),
        ];
        ssh_keygen_ok(&args)?;
        let cert_path = dir.join(format!("sha1-{}-cert.pub", subject.label));
        let (cert, _) = Certificate::from_openssh(&read(&cert_path)?)
            .map_err(|e| format!("we cannot parse it: {e}"))?;
        if cert.key() != &keys.subjects.get(subject).public_key() {
            return Err("the certified key differs".into());
        }
        match cert.verify_signature(DEFAULT_CA_ALGORITHMS) {
            Err(CertificateError::CaAlgorithmNotAllowed(name)) if name == "ssh-rsa" => {}
            other => return Err(format!("under the defaults: {other:?}")),
        }
        match cert.verify_signature(SignatureAlgorithm::ALL) {
            Ok(SignatureAlgorithm::SshRsa) => Ok(()),
            other => Err(format!("with ssh-rsa allowed: {other:?}")),
        }
    })();
    result.into()
}

fn kind(cert_type: CertType) -> &'static str {
    match cert_type {
        CertType::User => "user",
        CertType::Host => "host",
    }
}

fn principals(cert_type: CertType) -> [&'static str; 2] {
    match cert_type {
        CertType::User => ["alice", "bob"],
        CertType::Host => ["host.example.org", "*.example.net"],
    }
}

/// A certificate of ours: user certificates carry every critical option and, beyond
/// the default extensions, `no-touch-required` and a custom one with data.
fn sign_ours(
    keys: &Side,
    ca: &CaSpec,
    subject: &KeySpec,
    cert_type: CertType,
    serial: u64,
) -> Result<Certificate, String> {
    let mut builder = CertificateBuilder::new(keys.subjects.get(subject).public_key(), cert_type)
        .serial(serial)
        .key_id(format!("sansh {} {}", ca.label, subject.label))
        .validity(VALID_AFTER, VALID_BEFORE);
    for principal in principals(cert_type) {
        builder = builder.principal(principal);
    }
    if cert_type == CertType::User {
        let mut data = (CUSTOM_VALUE.len() as u32).to_be_bytes().to_vec();
        data.extend_from_slice(CUSTOM_VALUE.as_bytes());
        builder = builder
            .force_command(FORCE_COMMAND)
            .source_address(SOURCE_ADDRESS)
            .verify_required()
            .remove_extension(extension::PERMIT_X11_FORWARDING)
            .extension(extension::NO_TOUCH_REQUIRED)
            .extension_with_data(CUSTOM_EXTENSION, data);
    }
    builder
        .sign(keys.cas.get(&ca.key), ca.algorithm, &mut SystemRandom)
        .map_err(|e| format!("we cannot sign: {e}"))
}

fn signed_by_us(
    dir: &ScratchDir,
    name: &str,
    keys: &Side,
    ca: &CaSpec,
    subject: &KeySpec,
    cert_type: CertType,
) -> Outcome {
    let result = (|| {
        let cert = sign_ours(keys, ca, subject, cert_type, 1_000_001)?;
        let path = dir.join(format!("ours-{name}-cert.pub"));
        write_public(&path, &format!("{}\n", cert.to_openssh("sansh")))?;
        let listing = Listing::parse(&ssh_keygen_ok(&["-L", "-f", path_str(&path)])?)?;
        listing.agree(&Listing::of(&cert))?;
        validate(&cert, cert_type)
    })();
    result.into()
}

fn signed_by_keygen(
    dir: &ScratchDir,
    name: &str,
    keys: &Side,
    ca: &CaSpec,
    subject: &KeySpec,
    cert_type: CertType,
) -> Outcome {
    let result = (|| {
        let ca_path = dir.join(format!("ca-{}", ca.key.label));
        let public_path = dir.join(format!("theirs-{name}.pub"));
        std::fs::copy(
            dir.join(format!("subject-{}.pub", subject.label)),
            &public_path,
        )
        .map_err(|e| format!("copy: {e}"))?;
        let principals = principals(cert_type).join(",");
        let key_id = format!("ssh-keygen {} {}", ca.label, subject.label);
        let mut args = vec![
            "-q",
            "-s",
            path_str(&ca_path),
            "-I",
            &key_id,
            "-n",
            &principals,
            "-V",
            VALIDITY_ARG,
            "-z",
            "2000002",
            "-t",
            ca.algorithm.name(),
        ];
        let force = format!("force-command={FORCE_COMMAND}");
        let source = format!("source-address={SOURCE_ADDRESS}");
        let custom = format!("extension:{CUSTOM_EXTENSION}={CUSTOM_VALUE}");
        match cert_type {
            CertType::User => {
                for option in [
                    force.as_str(),
                    &source,
                    "verify-required",
                    "no-x11-forwarding",
                    "no-touch-required",
                    &custom,
                ] {
                    args.extend(["-O", option]);
                }
            }
            CertType::Host => args.push("-h"),
        }
        args.push(path_str(&public_path));
        ssh_keygen_ok(&args)?;
        let cert_path = dir.join(format!("theirs-{name}-cert.pub"));
        let (cert, comment) = Certificate::from_openssh(&read(&cert_path)?)
            .map_err(|e| format!("we cannot parse ssh-keygen's certificate: {e}"))?;
        if comment != format!("subject-{}", subject.label) {
            return Err(format!("comment {comment:?}"));
        }
        if cert.key() != &keys.subjects.get(subject).public_key()
            || cert.signature_key() != &keys.cas.get(&ca.key).public_key()
        {
            return Err("the certified key or the CA key differs".into());
        }
        let listing = Listing::parse(&ssh_keygen_ok(&["-L", "-f", path_str(&cert_path)])?)?;
        listing.agree(&Listing::of(&cert))?;
        if cert.serial() != 2_000_002 || cert.key_id() != key_id {
            return Err(format!(
                "serial {} key id {:?}",
                cert.serial(),
                cert.key_id()
            ));
        }
        validate(&cert, cert_type)
    })();
    result.into()
}

/// The CA signature verifies with the algorithm asked for, and the certificate is
/// valid inside its window for its first principal (and our client address), and
/// expired at its end.
fn validate(cert: &Certificate, cert_type: CertType) -> Result<(), String> {
    let alg = cert
        .verify_signature(DEFAULT_CA_ALGORITHMS)
        .map_err(|e| format!("signature: {e}"))?;
    if cert.signature_algorithm() != Some(alg) {
        return Err(format!("signature algorithm {alg} reported differently"));
    }
    let at = |secs: u64| UNIX_EPOCH + Duration::from_secs(secs);
    let principal = principals(cert_type)[0];
    let check = |now: SystemTime| {
        CertificateCheck::new(cert_type, now)
            .principal(principal)
            .client_address(
                CLIENT
                    .parse()
                    .unwrap_or(std::net::Ipv4Addr::LOCALHOST.into()),
            )
    };
    cert.validate(&check(at(INSIDE)))
        .map_err(|e| format!("validate: {e}"))?;
    match cert.validate(&check(at(VALID_BEFORE))) {
        Err(CertificateError::Expired { .. }) => {}
        other => return Err(format!("at valid_before: {other:?}")),
    }
    if cert_type == CertType::User {
        if cert.force_command() != Some(FORCE_COMMAND)
            || cert.source_address() != Some(SOURCE_ADDRESS)
            || !cert.verify_required()
            || cert.has_extension(extension::PERMIT_X11_FORWARDING)
            || !cert.has_extension(extension::NO_TOUCH_REQUIRED)
            || !cert.has_extension(CUSTOM_EXTENSION)
        {
            return Err(format!("options read as {cert:?}"));
        }
        let refused = CertificateCheck::new(cert_type, at(INSIDE))
            .principal(principal)
            .client_address(std::net::Ipv4Addr::new(11, 0, 0, 1).into());
        if !matches!(
            cert.validate(&refused),
            Err(CertificateError::SourceAddressDenied(_))
        ) {
            return Err("source-address did not refuse 11.0.0.1".into());
        }
    }
    Ok(())
}

/// ssh-keygen -L checks the CA signature: a certificate of ours with one signature
/// bit flipped is refused, so the rows above prove ssh-keygen verified ours.
fn tampered_is_refused(dir: &ScratchDir, keys: &Side, ca: &CaSpec) -> Outcome {
    let result = (|| {
        let cert = sign_ours(keys, ca, &ED25519, CertType::User, 7)?;
        let mut blob = cert.to_blob();
        let last = blob.len() - 1;
        blob[last] ^= 1;
        // Parsing checks the structure only, so the tampered blob still parses.
        let tampered = Certificate::from_blob(&blob).map_err(|e| e.to_string())?;
        let path = dir.join(format!("tampered-{}-cert.pub", ca.label));
        write_public(&path, &format!("{}\n", tampered.to_openssh("tampered")))?;
        let run = ssh_keygen(&["-L", "-f", path_str(&path)])?;
        if run.success {
            return Err(format!("ssh-keygen -L accepted it:\n{}", run.stdout));
        }
        match tampered.verify_signature(DEFAULT_CA_ALGORITHMS) {
            Err(CertificateError::BadSignature(_)) => Ok(()),
            other => Err(format!("we did not refuse it: {other:?}")),
        }
    })();
    result.into()
}

/// The fields of an `ssh-keygen -L` listing, one string per line shown.
#[derive(Debug, PartialEq, Eq)]
struct Listing {
    kind: String,
    public_key: String,
    signing_ca: String,
    key_id: String,
    serial: String,
    valid: String,
    principals: Vec<String>,
    critical: Vec<String>,
    extensions: Vec<String>,
}

impl Listing {
    /// Reads ssh-keygen's listing.
    fn parse(text: &str) -> Result<Self, String> {
        let mut listing = Listing {
            kind: String::new(),
            public_key: String::new(),
            signing_ca: String::new(),
            key_id: String::new(),
            serial: String::new(),
            valid: String::new(),
            principals: Vec::new(),
            critical: Vec::new(),
            extensions: Vec::new(),
        };
        let mut section: Option<&mut Vec<String>> = None;
        for line in text.lines().skip(1) {
            if let Some(item) = line.strip_prefix("                ") {
                match section.as_mut() {
                    Some(list) => list.push(item.to_owned()),
                    None => return Err(format!("item outside a section: {line:?}\n{text}")),
                }
                continue;
            }
            let (field, value) = line
                .trim()
                .split_once(':')
                .ok_or_else(|| format!("unexpected line {line:?}\n{text}"))?;
            let value = value.trim().to_owned();
            section = None;
            match field {
                "Type" => listing.kind = value,
                "Public key" => listing.public_key = value,
                "Signing CA" => listing.signing_ca = value,
                "Key ID" => listing.key_id = value,
                "Serial" => listing.serial = value,
                "Valid" => listing.valid = value,
                "Principals" => section = Some(&mut listing.principals),
                "Critical Options" => section = Some(&mut listing.critical),
                "Extensions" => section = Some(&mut listing.extensions),
                other => return Err(format!("unknown field {other:?}\n{text}")),
            }
        }
        Ok(listing)
    }

    /// What the listing of `cert` should say, from our parse of it.
    fn of(cert: &Certificate) -> Self {
        let ca = cert.signature_key();
        let option = |name: &str, value: Option<&str>, data: &[u8]| match (name, value) {
            (critical::FORCE_COMMAND | critical::SOURCE_ADDRESS, Some(v)) => format!("{name} {v}"),
            (critical::VERIFY_REQUIRED, _) => name.to_owned(),
            (n, _) if n.starts_with("permit-") || n == extension::NO_TOUCH_REQUIRED => {
                name.to_owned()
            }
            _ if data.is_empty() => format!("{name} UNKNOWN FLAG OPTION"),
            _ => {
                let hex: String = data.iter().map(|b| format!("{b:02x}")).collect();
                format!("{name} UNKNOWN OPTION: {hex} (len {})", data.len())
            }
        };
        Listing {
            kind: format!(
                "{} {} certificate",
                cert.type_name(),
                kind(cert.cert_type())
            ),
            public_key: format!(
                "{}-CERT {}",
                cert.key().key_type().label(),
                cert.key().fingerprint_sha256()
            ),
            signing_ca: format!(
                "{} {} (using {})",
                ca.key_type().label(),
                ca.fingerprint_sha256(),
                cert.signature_algorithm().map_or("?", |a| a.name())
            ),
            key_id: format!("\"{}\"", cert.key_id()),
            serial: cert.serial().to_string(),
            valid: if (cert.valid_after(), cert.valid_before()) == (VALID_AFTER, VALID_BEFORE) {
                VALIDITY_TEXT.to_owned()
            } else {
                format!("{}..{}", cert.valid_after(), cert.valid_before())
            },
            principals: cert.principals().to_vec(),
            critical: cert
                .critical_options()
                .iter()
                .map(|o| option(&o.name, o.value(), &o.data))
                .collect(),
            extensions: cert
                .extensions()
                .iter()
                .map(|o| option(&o.name, None, &o.data))
                .collect(),
        }
    }

    fn agree(&self, ours: &Self) -> Result<(), String> {
        if self == ours {
            Ok(())
        } else {
            Err(format!(
                "ssh-keygen -L lists\n{self:#?}\nwe parse\n{ours:#?}"
            ))
        }
    }
}
