//! Certificates: ssh-keygen's fixtures, validation and signing.

use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{fixtures, key};
use crate::crypto::SeededRandom;
use crate::keys::{
    CertType, Certificate, CertificateBuilder, CertificateCheck, CertificateError, KeyError,
    KeyType, PublicKey, SignatureAlgorithm, extension,
};
use crate::wire::{Reader, Writer};

fn load(name: &str) -> Certificate {
    Certificate::from_openssh(&fixtures::text(name)).unwrap().0
}

fn at(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

/// 2024-01-01T00:00:00Z and 2034-01-01T00:00:00Z, the window of most fixtures.
const JAN_2024: u64 = 1_704_067_200;
const JAN_2034: u64 = 2_019_686_400;

/// `YYYY-MM-DDTHH:MM:SS` in UTC, as `ssh-keygen -L` prints under TZ=UTC.
fn utc(seconds: u64) -> String {
    let days = (seconds / 86_400) as i64;
    let rem = seconds % 86_400;
    // Civil-from-days (proleptic Gregorian), era-based.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// What `ssh-keygen -L` would print for our parse of `cert`.
fn describe(cert: &Certificate) -> Vec<String> {
    let kind = match cert.cert_type() {
        CertType::User => "user",
        CertType::Host => "host",
    };
    let validity = match (cert.valid_after(), cert.valid_before()) {
        (0, u64::MAX) => "forever".to_owned(),
        (after, u64::MAX) => format!("after {}", utc(after)),
        (0, before) => format!("before {}", utc(before)),
        (after, before) => format!("from {} to {}", utc(after), utc(before)),
    };
    let list = |items: Vec<String>| {
        if items.is_empty() {
            vec![" (none)".to_owned()]
        } else {
            std::iter::once(" ".to_owned())
                .chain(items.into_iter().map(|i| format!("                {i}")))
                .collect()
        }
    };
    let ca = cert.signature_key();
    let mut out = vec![
        format!("        Type: {} {kind} certificate", cert.type_name()),
        format!(
            "        Public key: {}-CERT {}",
            cert.key().key_type().label(),
            cert.key().fingerprint_sha256()
        ),
        format!(
            "        Signing CA: {} {} (using {})",
            ca.key_type().label(),
            ca.fingerprint_sha256(),
            cert.signature_algorithm().unwrap().name()
        ),
        format!("        Key ID: \"{}\"", cert.key_id()),
        format!("        Serial: {}", cert.serial()),
        format!("        Valid: {validity}"),
    ];
    let mut push_list = |title: &str, items: Vec<String>| {
        let mut lines = list(items);
        lines[0] = format!("        {title}:{}", lines[0]);
        out.extend(lines);
    };
    push_list("Principals", cert.principals().to_vec());
    push_list(
        "Critical Options",
        cert.critical_options()
            .iter()
            .map(|o| match o.value() {
                Some(v) => format!("{} {v}", o.name),
                None => o.name.clone(),
            })
            .collect(),
    );
    push_list(
        "Extensions",
        cert.extensions().iter().map(|o| o.name.clone()).collect(),
    );
    out
}

#[test]
fn ssh_keygen_certificates_parse_as_ssh_keygen_lists_them() {
    let sections = fixtures::sections("certificates.txt");
    assert_eq!(sections.len(), 6);
    for (file, lines) in sections {
        let cert = load(&file);
        assert_eq!(describe(&cert), lines[1..], "{file}");
    }
}

#[test]
fn ssh_keygen_certificates_carry_their_subject_key_and_verify() {
    for (file, _) in fixtures::sections("certificates.txt") {
        let cert = load(&file);
        let subject = file.split('-').next().unwrap();
        let (public, _) =
            PublicKey::from_openssh(&fixtures::text(&format!("{subject}.pub"))).unwrap();
        assert_eq!(cert.key(), &public, "{file}");
        cert.verify_signature(crate::keys::DEFAULT_CA_ALGORITHMS)
            .unwrap();
    }
}

#[test]
fn certificate_line_round_trips() {
    let text = fixtures::text("ed25519-user-cert.pub");
    let (cert, comment) = Certificate::from_openssh(&text).unwrap();
    assert_eq!(comment, "sansh-fixture-ed25519");
    assert_eq!(cert.to_openssh(&comment), text.trim_end());
}

fn alice_check(now: u64) -> CertificateCheck<'static> {
    CertificateCheck::new(CertType::User, at(now))
        .principal("alice")
        .client_address("10.1.2.3".parse().unwrap())
}

#[test]
fn user_certificate_is_valid_inside_its_window_for_its_principal() {
    let cert = load("ed25519-user-cert.pub");
    cert.validate(&alice_check(JAN_2024)).unwrap();
    assert_eq!(cert.force_command(), Some("/bin/true"));
    assert!(cert.verify_required());
    assert!(cert.has_extension(extension::PERMIT_PTY));
}

#[test]
fn certificate_before_its_window_is_not_yet_valid() {
    let cert = load("ed25519-user-cert.pub");
    assert_eq!(
        cert.validate(&alice_check(JAN_2024 - 1)),
        Err(CertificateError::NotYetValid {
            valid_after: JAN_2024
        })
    );
}

#[test]
fn certificate_at_valid_before_has_expired() {
    let cert = load("ed25519-user-cert.pub");
    assert_eq!(
        cert.validate(&alice_check(JAN_2034)),
        Err(CertificateError::Expired {
            valid_before: JAN_2034
        })
    );
}

#[test]
fn unlisted_principal_is_refused() {
    let cert = load("ed25519-user-cert.pub");
    let check = CertificateCheck {
        principal: Some("eve"),
        ..alice_check(JAN_2024)
    };
    assert_eq!(
        cert.validate(&check),
        Err(CertificateError::PrincipalNotListed("eve".into()))
    );
}

#[test]
fn user_certificate_is_not_a_host_certificate() {
    let cert = load("ed25519-user-cert.pub");
    let check = CertificateCheck {
        cert_type: CertType::Host,
        ..alice_check(JAN_2024)
    };
    assert_eq!(
        cert.validate(&check),
        Err(CertificateError::WrongType {
            expected: CertType::Host,
            found: CertType::User
        })
    );
}

#[test]
fn source_address_is_enforced() {
    let cert = load("ed25519-user-cert.pub");
    let outside: IpAddr = "11.0.0.1".parse().unwrap();
    let check = CertificateCheck {
        client_address: Some(outside),
        ..alice_check(JAN_2024)
    };
    assert_eq!(
        cert.validate(&check),
        Err(CertificateError::SourceAddressDenied(outside))
    );
    let check = CertificateCheck {
        client_address: None,
        ..alice_check(JAN_2024)
    };
    assert_eq!(
        cert.validate(&check),
        Err(CertificateError::SourceAddressUnchecked)
    );
}

#[test]
fn empty_principal_list_is_refused_when_principals_are_required() {
    let cert = load("ecdsa384-user-cert.pub");
    let check = CertificateCheck::new(CertType::User, at(JAN_2024)).principal("anyone");
    assert_eq!(cert.validate(&check), Err(CertificateError::NoPrincipals));
    let check = CertificateCheck {
        require_principals: false,
        ..check
    };
    cert.validate(&check).unwrap();
}

#[test]
fn host_principal_patterns_match_only_with_wildcards_enabled() {
    let cert = load("rsa2048-host-cert.pub");
    let check = CertificateCheck::new(CertType::Host, at(JAN_2024)).principal("www.example.org");
    assert_eq!(
        cert.validate(&check),
        Err(CertificateError::PrincipalNotListed(
            "www.example.org".into()
        ))
    );
    let check = CertificateCheck {
        wildcard_principals: true,
        ..check
    };
    cert.validate(&check).unwrap();
}

#[test]
fn altered_certificate_fails_its_signature() {
    let cert = load("ed25519-user-cert.pub");
    let mut blob = cert.to_blob();
    let at = blob.windows(5).position(|w| w == b"alice").unwrap();
    blob[at] = b'A';
    let altered = Certificate::from_blob(&blob).unwrap();
    assert!(matches!(
        altered.validate(&CertificateCheck {
            principal: None,
            ..alice_check(JAN_2024)
        }),
        Err(CertificateError::BadSignature(KeyError::BadSignature))
    ));
}

#[test]
fn ssh_rsa_ca_signature_is_refused_by_default() {
    let cert = load("rsa2048-host-cert.pub");
    let blob = cert.to_blob();
    let mut r = Reader::new(&blob[cert.signed_len..]);
    let mut sig = Reader::new(r.string().unwrap());
    sig.string().unwrap();
    let mut renamed = Vec::new();
    renamed.put_string(b"ssh-rsa");
    renamed.put_string(sig.string().unwrap());
    let mut altered = blob[..cert.signed_len].to_vec();
    altered.put_string(&renamed);
    let altered = Certificate::from_blob(&altered).unwrap();
    assert_eq!(
        altered.verify_signature(crate::keys::DEFAULT_CA_ALGORITHMS),
        Err(CertificateError::CaAlgorithmNotAllowed("ssh-rsa".into()))
    );
}

#[test]
fn every_truncation_is_an_error() {
    let blob = load("ecdsa256-user-cert.pub").to_blob();
    for len in 0..blob.len() {
        assert!(Certificate::from_blob(&blob[..len]).is_err(), "at {len}");
    }
}

#[test]
fn signed_certificate_round_trips_for_every_ca_type() {
    let subject = key(KeyType::Ed25519).public_key();
    for &ca_type in KeyType::ALL {
        let ca = key(ca_type);
        let alg = ca.signature_algorithms()[0];
        let cert = CertificateBuilder::new(subject.clone(), CertType::User)
            .serial(9)
            .key_id("built")
            .principal("alice")
            .validity(JAN_2024, JAN_2034)
            .force_command("uptime")
            .sign(ca, alg, &mut SeededRandom::new(4))
            .unwrap();
        let parsed = Certificate::from_blob(&cert.to_blob()).unwrap();
        assert_eq!(parsed, cert);
        assert_eq!(parsed.signature_key(), &ca.public_key());
        assert_eq!(parsed.force_command(), Some("uptime"));
        parsed
            .validate(&CertificateCheck::new(CertType::User, at(JAN_2024)).principal("alice"))
            .unwrap();
    }
}

#[test]
fn builder_writes_options_sorted_like_ssh_keygen() {
    let cert = CertificateBuilder::new(key(KeyType::EcdsaP256).public_key(), CertType::User)
        .extension(extension::NO_TOUCH_REQUIRED)
        .verify_required()
        .source_address("10.0.0.0/8")
        .force_command("/bin/true")
        .sign(
            key(KeyType::Ed25519),
            SignatureAlgorithm::Ed25519,
            &mut SeededRandom::new(0),
        )
        .unwrap();
    let names = |opts: &[crate::keys::CertOption]| -> Vec<String> {
        opts.iter().map(|o| o.name.clone()).collect()
    };
    assert_eq!(
        names(cert.critical_options()),
        ["force-command", "source-address", "verify-required"]
    );
    assert_eq!(
        names(cert.extensions()),
        [
            "no-touch-required",
            "permit-X11-forwarding",
            "permit-agent-forwarding",
            "permit-port-forwarding",
            "permit-pty",
            "permit-user-rc"
        ]
    );
}

#[test]
fn host_certificate_has_no_default_extensions() {
    let cert = CertificateBuilder::new(key(KeyType::Rsa).public_key(), CertType::Host)
        .principal("host.example.com")
        .sign(
            key(KeyType::EcdsaP384),
            SignatureAlgorithm::EcdsaP384,
            &mut SeededRandom::new(0),
        )
        .unwrap();
    assert!(cert.extensions().is_empty());
    cert.validate(&CertificateCheck::new(CertType::Host, at(0)).principal("host.example.com"))
        .unwrap();
}

#[test]
fn unknown_critical_option_makes_certificate_unusable() {
    let cert = CertificateBuilder::new(key(KeyType::Ed25519).public_key(), CertType::User)
        .principal("alice")
        .critical_option("future-option", Vec::new())
        .sign(
            key(KeyType::Ed25519),
            SignatureAlgorithm::Ed25519,
            &mut SeededRandom::new(0),
        )
        .unwrap();
    assert_eq!(
        cert.validate(&CertificateCheck::new(CertType::User, at(0)).principal("alice")),
        Err(CertificateError::UnknownCriticalOption(
            "future-option".into()
        ))
    );
}

#[test]
fn option_named_twice_is_malformed() {
    let cert = load("ed25519-user-cert.pub");
    let blob = cert.to_blob();
    // Duplicate "permit-pty" inside the extensions by appending one more to the list.
    let needle = b"permit-pty";
    let at = blob
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap();
    let mut dup = Vec::new();
    dup.put_string(needle);
    dup.put_string(b"");
    let mut altered = blob[..at - 4].to_vec();
    altered.extend_from_slice(&dup);
    altered.extend_from_slice(&blob[at - 4..]);
    // Fix the extensions list length: find it by re-reading the certificate fields.
    let fixed = fix_extensions_length(&altered, dup.len());
    assert_eq!(
        Certificate::from_blob(&fixed),
        Err(KeyError::MalformedCertificate("option named twice"))
    );
}

/// Adds `extra` to the length prefix of the extensions field of a certificate blob.
fn fix_extensions_length(blob: &[u8], extra: usize) -> Vec<u8> {
    let mut r = Reader::new(blob);
    r.string().unwrap(); // type
    r.string().unwrap(); // nonce
    PublicKey::read_fields(KeyType::Ed25519, &mut r).unwrap();
    r.u64().unwrap();
    r.u32().unwrap();
    r.string().unwrap();
    r.string().unwrap();
    r.u64().unwrap();
    r.u64().unwrap();
    r.string().unwrap(); // critical options
    let offset = blob.len() - r.remaining();
    let len = u32::from_be_bytes(blob[offset..offset + 4].try_into().unwrap()) as usize;
    let mut out = blob.to_vec();
    out[offset..offset + 4].copy_from_slice(&((len + extra) as u32).to_be_bytes());
    out
}

#[test]
fn certificate_names_map_to_key_types() {
    for &t in KeyType::ALL {
        assert_eq!(
            KeyType::from_certificate_name(t.certificate_name()),
            Some(t)
        );
    }
    assert_eq!(
        SignatureAlgorithm::RsaSha2_512.certificate_name(),
        "rsa-sha2-512-cert-v01@openssh.com"
    );
}
