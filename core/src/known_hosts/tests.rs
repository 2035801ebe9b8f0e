//! known_hosts: every line form, pattern rule, verdict and edit.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64ct::{Base64, Encoding};

use super::*;
use crate::crypto::SeededRandom;
use crate::keys::{CertificateBuilder, KeyType, PrivateKey, SignatureAlgorithm};
use crate::wire::Writer;

fn private(seed: u64) -> PrivateKey {
    PrivateKey::generate(KeyType::Ed25519, None, &mut SeededRandom::new(seed)).unwrap()
}

fn key(seed: u64) -> PublicKey {
    private(seed).public_key()
}

fn ecdsa_key(seed: u64) -> PublicKey {
    PrivateKey::generate(KeyType::EcdsaP256, None, &mut SeededRandom::new(seed))
        .unwrap()
        .public_key()
}

/// `key`'s `type base64` fields.
fn k(key: &PublicKey) -> String {
    key.to_openssh("")
}

fn at(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

const NOW: u64 = 1_750_000_000;

fn host_cert(subject: &PublicKey, ca: &PrivateKey, principals: &[&str]) -> Certificate {
    let mut builder = CertificateBuilder::new(subject.clone(), CertType::Host)
        .key_id("host")
        .validity(NOW - 3600, NOW + 3600);
    for p in principals {
        builder = builder.principal(*p);
    }
    builder
        .sign(ca, SignatureAlgorithm::Ed25519, &mut SeededRandom::new(9))
        .unwrap()
}

fn trusted(line: usize) -> HostKeyStatus {
    HostKeyStatus::Trusted { line }
}

// ---- line forms -------------------------------------------------------------------

#[test]
fn comments_blank_lines_and_leading_blanks_are_not_entries() {
    let text = format!(
        "# comment\n\n   \n\t# indented comment\n  example.org {}\n",
        k(&key(1))
    );
    let known = KnownHosts::parse(&text);
    assert_eq!(known.entries().len(), 1);
    assert_eq!(known.entries()[0].line(), 5);
    assert!(known.invalid_lines().is_empty());
}

#[test]
fn entry_keeps_its_comment() {
    let known = KnownHosts::parse(&format!("h {} the comment\n", k(&key(1))));
    assert_eq!(known.entries()[0].comment(), "the comment");
}

#[test]
fn crlf_lines_parse_like_lf_lines() {
    let known = KnownHosts::parse(&format!("h {}\r\n", k(&key(1))));
    assert_eq!(known.check("h", 22, &key(1)), trusted(1));
}

#[test]
fn malformed_line_is_reported_with_its_number_and_the_rest_still_parses() {
    let text = format!(
        "a {}\nthis is not a key line\nb {}\n",
        k(&key(1)),
        k(&key(2))
    );
    let known = KnownHosts::parse(&text);
    assert_eq!(known.entries().len(), 2);
    assert_eq!(known.invalid_lines().len(), 1);
    assert_eq!(known.invalid_lines()[0].line, 2);
    assert!(matches!(
        known.invalid_lines()[0].error,
        KnownHostsError::InvalidKey(KeyError::UnknownKeyType(_))
    ));
    assert_eq!(known.check("b", 22, &key(2)), trusted(3));
}

#[test]
fn line_without_a_key_is_invalid() {
    for text in [
        "lonelyhost\n",
        "host   \n",
        "host # comment\n",
        "@revoked\n",
    ] {
        let known = KnownHosts::parse(text);
        assert!(
            matches!(
                known.invalid_lines().first().map(|l| &l.error),
                Some(KnownHostsError::MissingKey) | Some(KnownHostsError::InvalidMarker(_))
            ),
            "{text:?}: {:?}",
            known.invalid_lines()
        );
    }
}

#[test]
fn corrupt_base64_is_invalid() {
    let known = KnownHosts::parse("h ssh-ed25519 AAAA!!!!\n");
    assert_eq!(
        known.invalid_lines()[0].error,
        KnownHostsError::InvalidKey(KeyError::InvalidBase64)
    );
}

#[test]
fn markers_are_read() {
    let text = format!(
        "@cert-authority *.example.org {}\n@revoked * {}\n",
        k(&key(1)),
        k(&key(2))
    );
    let known = KnownHosts::parse(&text);
    let markers: Vec<_> = known.entries().iter().map(Entry::marker).collect();
    assert_eq!(
        markers,
        [Some(Marker::CertAuthority), Some(Marker::Revoked)]
    );
}

#[test]
fn unknown_marker_is_invalid() {
    let known = KnownHosts::parse(&format!("@trusted h {}\n", k(&key(1))));
    assert_eq!(
        known.invalid_lines()[0].error,
        KnownHostsError::InvalidMarker("@trusted".into())
    );
}

#[test]
fn marker_is_case_sensitive() {
    let known = KnownHosts::parse(&format!("@Revoked h {}\n", k(&key(1))));
    assert!(matches!(
        known.invalid_lines()[0].error,
        KnownHostsError::InvalidMarker(_)
    ));
}

#[test]
fn two_markers_are_invalid() {
    let known = KnownHosts::parse(&format!("@revoked @revoked h {}\n", k(&key(1))));
    assert_eq!(
        known.invalid_lines()[0].error,
        KnownHostsError::MultipleMarkers
    );
}

#[test]
fn marker_ends_at_the_first_space_of_the_line() {
    // OpenSSH looks for a space before a tab, so a tab after the marker swallows the
    // host field into the marker when a space follows.
    let known = KnownHosts::parse(&format!("@revoked\th {}\n", k(&key(1))));
    assert!(matches!(
        known.invalid_lines()[0].error,
        KnownHostsError::InvalidMarker(_)
    ));
}

#[test]
fn certificate_as_a_plain_host_key_is_invalid() {
    let ca = private(50);
    let cert = host_cert(&key(1), &ca, &["h"]);
    let known = KnownHosts::parse(&format!("h {}\n", cert.to_openssh("")));
    assert_eq!(
        known.invalid_lines()[0].error,
        KnownHostsError::CertificateAsKey
    );
}

#[test]
fn revoked_certificate_revokes_its_key() {
    let ca = private(50);
    let cert = host_cert(&key(1), &ca, &["h"]);
    let known = KnownHosts::parse(&format!("@revoked * {}\n", cert.to_openssh("")));
    assert_eq!(
        known.check("h", 22, &key(1)),
        HostKeyStatus::Revoked { line: 1 }
    );
}

// ---- host patterns ------------------------------------------------------------------

#[test]
fn host_name_matches_ignoring_case() {
    let known = KnownHosts::parse(&format!("Example.ORG {}\n", k(&key(1))));
    assert_eq!(known.check("EXAMPLE.org", 22, &key(1)), trusted(1));
}

#[test]
fn any_name_of_a_comma_list_matches() {
    let known = KnownHosts::parse(&format!("a.example,b.example,192.0.2.1 {}\n", k(&key(1))));
    for host in ["a.example", "b.example", "192.0.2.1"] {
        assert_eq!(known.check(host, 22, &key(1)), trusted(1), "{host}");
    }
    assert_eq!(
        known.check("c.example", 22, &key(1)),
        HostKeyStatus::Unknown
    );
}

#[test]
fn star_and_question_mark_patterns_match() {
    let known = KnownHosts::parse(&format!("*.example.org,host?? {}\n", k(&key(1))));
    assert_eq!(known.check("www.example.org", 22, &key(1)), trusted(1));
    assert_eq!(known.check("host12", 22, &key(1)), trusted(1));
    assert_eq!(known.check("host1", 22, &key(1)), HostKeyStatus::Unknown);
    assert_eq!(
        known.check("example.org", 22, &key(1)),
        HostKeyStatus::Unknown
    );
}

#[test]
fn negated_pattern_excludes_a_host_from_the_line() {
    let known = KnownHosts::parse(&format!("*.example.org,!db.example.org {}\n", k(&key(1))));
    assert_eq!(
        known.check("db.example.org", 22, &key(1)),
        HostKeyStatus::Unknown
    );
    assert_eq!(known.check("www.example.org", 22, &key(1)), trusted(1));
}

#[test]
fn negated_pattern_alone_matches_no_host() {
    let known = KnownHosts::parse(&format!("!db.example.org {}\n", k(&key(1))));
    assert_eq!(
        known.check("www.example.org", 22, &key(1)),
        HostKeyStatus::Unknown
    );
}

#[test]
fn non_default_port_is_written_in_brackets() {
    let known = KnownHosts::parse(&format!("[example.org]:2222 {}\n", k(&key(1))));
    assert_eq!(known.check("example.org", 2222, &key(1)), trusted(1));
    assert_eq!(
        known.check("example.org", 22, &key(1)),
        HostKeyStatus::Unknown
    );
    assert_eq!(
        known.check("example.org", 2200, &key(1)),
        HostKeyStatus::Unknown
    );
}

#[test]
fn port_22_is_written_bare() {
    assert_eq!(host_port_name("h", 22), "h");
    assert_eq!(host_port_name("h", 0), "h");
    assert_eq!(host_port_name("H", 2222), "[h]:2222");
    assert_eq!(host_port_name("2001:db8::1", 22), "2001:db8::1");
    assert_eq!(host_port_name("2001:db8::1", 830), "[2001:db8::1]:830");
    let known = KnownHosts::parse(&format!("[h]:22 {}\n", k(&key(1))));
    assert_eq!(known.check("h", 22, &key(1)), HostKeyStatus::Unknown);
}

#[test]
fn bracketed_wildcard_matches_hosts_on_that_port() {
    let known = KnownHosts::parse(&format!("[*.example.org]:2222 {}\n", k(&key(1))));
    assert_eq!(known.check("a.example.org", 2222, &key(1)), trusted(1));
}

#[test]
fn key_of_the_bare_host_is_trusted_on_other_ports() {
    let known = KnownHosts::parse(&format!("example.org {}\n", k(&key(1))));
    assert_eq!(known.check("example.org", 2222, &key(1)), trusted(1));
}

#[test]
fn other_key_of_the_bare_host_leaves_other_ports_unknown() {
    let known = KnownHosts::parse(&format!("example.org {}\n", k(&key(1))));
    assert_eq!(
        known.check("example.org", 2222, &key(2)),
        HostKeyStatus::Unknown
    );
}

// ---- hashed names -------------------------------------------------------------------

/// Made by `ssh-keygen -H` (OpenSSH 10.0) from the name `example.com`.
const SSH_KEYGEN_HASH: &str = "|1|XqdObDBaUNnU49FdmuZ4MIgamks=|xEBRPcRMKR6qgUY6AIMfT+SMmu4=";

#[test]
fn hash_made_by_ssh_keygen_matches_its_name_only() {
    let hashed = HashedHost::parse(SSH_KEYGEN_HASH).unwrap();
    assert!(hashed.matches("example.com"));
    assert!(!hashed.matches("example.org"));
    assert!(!hashed.matches("EXAMPLE.com"));
}

#[test]
fn hashing_with_the_same_salt_reproduces_ssh_keygen() {
    let salt = Base64::decode_vec("XqdObDBaUNnU49FdmuZ4MIgamks=").unwrap();
    let hashed = HashedHost::with_salt("example.com", salt.try_into().unwrap());
    assert_eq!(hashed.as_str(), SSH_KEYGEN_HASH);
}

#[test]
fn hashed_entry_is_found_by_lookup_in_any_case() {
    let known = KnownHosts::parse(&format!("{SSH_KEYGEN_HASH} {}\n", k(&key(1))));
    assert_eq!(known.check("Example.COM", 22, &key(1)), trusted(1));
}

#[test]
fn hashed_entry_with_a_port_hashes_the_bracketed_name() {
    let hashed = HashedHost::new("[h]:2222", &mut SeededRandom::new(3));
    let known = KnownHosts::parse(&format!("{hashed} {}\n", k(&key(1))));
    assert_eq!(known.check("h", 2222, &key(1)), trusted(1));
    assert_eq!(known.check("h", 22, &key(1)), HostKeyStatus::Unknown);
}

#[test]
fn malformed_hashed_names_are_invalid() {
    let good_salt = "XqdObDBaUNnU49FdmuZ4MIgamks=";
    for field in [
        format!("|2|{good_salt}|xEBRPcRMKR6qgUY6AIMfT+SMmu4="),
        "|1|".to_owned(),
        format!("|1|{good_salt}"),
        "|1||xEBRPcRMKR6qgUY6AIMfT+SMmu4=".to_owned(),
        "|1|AAAA|xEBRPcRMKR6qgUY6AIMfT+SMmu4=".to_owned(),
        "|1|!!!!|x".to_owned(),
    ] {
        let known = KnownHosts::parse(&format!("{field} {}\n", k(&key(1))));
        assert_eq!(
            known.invalid_lines().first().map(|l| &l.error),
            Some(&KnownHostsError::InvalidHashedHost),
            "{field}"
        );
    }
}

#[test]
fn hashed_field_with_extra_names_never_matches() {
    let known = KnownHosts::parse(&format!("{SSH_KEYGEN_HASH},other {}\n", k(&key(1))));
    assert!(known.invalid_lines().is_empty());
    assert_eq!(
        known.check("example.com", 22, &key(1)),
        HostKeyStatus::Unknown
    );
    assert_eq!(known.check("other", 22, &key(1)), HostKeyStatus::Unknown);
}

// ---- verdicts -----------------------------------------------------------------------

#[test]
fn unrecorded_host_is_unknown() {
    let known = KnownHosts::parse(&format!("a {}\n", k(&key(1))));
    assert_eq!(known.check("b", 22, &key(1)), HostKeyStatus::Unknown);
}

#[test]
fn recorded_key_is_trusted_at_its_line() {
    let known = KnownHosts::parse(&format!("h {}\nh {}\n", k(&key(1)), k(&key(2))));
    assert_eq!(known.check("h", 22, &key(2)), trusted(2));
}

#[test]
fn different_key_of_the_same_type_is_changed() {
    let known = KnownHosts::parse(&format!("h {}\n", k(&key(1))));
    assert_eq!(
        known.check("h", 22, &key(2)),
        HostKeyStatus::Changed {
            keys_on_record: vec![KeyOnRecord {
                line: 1,
                key: RecordedKey::Key(key(1)),
            }],
        }
    );
}

#[test]
fn key_of_another_type_on_record_makes_the_host_changed() {
    // OpenSSH 10 reports "REMOTE HOST IDENTIFICATION HAS CHANGED" here too.
    let known = KnownHosts::parse(&format!("h {}\n", k(&ecdsa_key(1))));
    assert!(matches!(
        known.check("h", 22, &key(2)),
        HostKeyStatus::Changed { .. }
    ));
}

#[test]
fn changed_lists_every_plain_key_on_record_in_file_order() {
    let text = format!(
        "h {}\n@cert-authority h {}\nh,g {}\n",
        k(&key(1)),
        k(&key(2)),
        k(&ecdsa_key(3))
    );
    let HostKeyStatus::Changed { keys_on_record } =
        KnownHosts::parse(&text).check("h", 22, &key(9))
    else {
        panic!("expected Changed");
    };
    let lines: Vec<_> = keys_on_record.iter().map(|r| r.line).collect();
    assert_eq!(lines, [1, 3]);
}

#[test]
fn matching_key_wins_over_other_keys_on_record() {
    let text = format!("h {}\nh {}\n", k(&key(2)), k(&key(1)));
    assert_eq!(KnownHosts::parse(&text).check("h", 22, &key(1)), trusted(2));
}

#[test]
fn revoked_key_wins_over_a_trusted_line() {
    let text = format!("h {}\n@revoked * {}\n", k(&key(1)), k(&key(1)));
    assert_eq!(
        KnownHosts::parse(&text).check("h", 22, &key(1)),
        HostKeyStatus::Revoked { line: 2 }
    );
}

#[test]
fn revocation_applies_only_to_the_hosts_of_its_line() {
    let text = format!("h {}\n@revoked other {}\n", k(&key(1)), k(&key(1)));
    assert_eq!(KnownHosts::parse(&text).check("h", 22, &key(1)), trusted(1));
}

#[test]
fn revoked_line_of_another_key_does_not_count_as_on_record() {
    let text = format!("@revoked * {}\n", k(&key(1)));
    assert_eq!(
        KnownHosts::parse(&text).check("h", 22, &key(2)),
        HostKeyStatus::Unknown
    );
}

#[test]
fn cert_authority_line_does_not_trust_the_ca_key_as_a_host_key() {
    let text = format!("@cert-authority * {}\n", k(&key(1)));
    assert_eq!(
        KnownHosts::parse(&text).check("h", 22, &key(1)),
        HostKeyStatus::Unknown
    );
}

#[test]
fn unsupported_key_on_record_makes_another_key_changed() {
    let mut blob = Vec::new();
    blob.put_string(b"sk-ssh-ed25519@openssh.com");
    blob.put_string(&[7; 32]);
    blob.put_string(b"ssh:");
    let text = format!(
        "h sk-ssh-ed25519@openssh.com {}\n",
        Base64::encode_string(&blob)
    );
    let known = KnownHosts::parse(&text);
    assert!(known.invalid_lines().is_empty());
    let HostKeyStatus::Changed { keys_on_record } = known.check("h", 22, &key(1)) else {
        panic!("expected Changed");
    };
    assert_eq!(
        keys_on_record[0].key.key_type_name(),
        "sk-ssh-ed25519@openssh.com"
    );
}

// ---- host certificates ----------------------------------------------------------------

fn ca_line(pattern: &str, ca: &PrivateKey) -> String {
    format!("@cert-authority {pattern} {}\n", k(&ca.public_key()))
}

#[test]
fn certificate_signed_by_a_listed_ca_is_trusted() {
    let ca = private(50);
    let cert = host_cert(&key(1), &ca, &["www.example.org"]);
    let known = KnownHosts::parse(&ca_line("*.example.org", &ca));
    let lookup = known.check_certificate("www.example.org", 22, &cert, at(NOW));
    assert_eq!(lookup.status, trusted(1));
    assert_eq!(lookup.rejection, None);
}

#[test]
fn certificate_without_principals_is_valid_for_any_host() {
    let ca = private(50);
    let cert = host_cert(&key(1), &ca, &[]);
    let known = KnownHosts::parse(&ca_line("*", &ca));
    let lookup = known.check_certificate("anything", 2222, &cert, at(NOW));
    assert_eq!(lookup.status, trusted(1));
}

#[test]
fn certificate_for_another_principal_falls_back_to_its_key() {
    let ca = private(50);
    let cert = host_cert(&key(1), &ca, &["other.example.org"]);
    let known = KnownHosts::parse(&ca_line("*.example.org", &ca));
    let lookup = known.check_certificate("www.example.org", 22, &cert, at(NOW));
    assert_eq!(lookup.status, HostKeyStatus::Unknown);
    assert!(matches!(
        lookup.rejection,
        Some(CertificateError::PrincipalNotListed(_))
    ));
}

#[test]
fn wildcard_principal_does_not_match_the_host() {
    // ssh compares host certificate principals literally.
    let ca = private(50);
    let cert = host_cert(&key(1), &ca, &["*.example.org"]);
    let known = KnownHosts::parse(&ca_line("*", &ca));
    let lookup = known.check_certificate("www.example.org", 22, &cert, at(NOW));
    assert_eq!(lookup.status, HostKeyStatus::Unknown);
}

#[test]
fn expired_certificate_is_rejected_but_its_recorded_key_is_trusted() {
    let ca = private(50);
    let cert = host_cert(&key(1), &ca, &["h"]);
    let text = format!("{}h {}\n", ca_line("*", &ca), k(&key(1)));
    let lookup = KnownHosts::parse(&text).check_certificate("h", 22, &cert, at(NOW + 7200));
    assert_eq!(lookup.status, trusted(2));
    assert!(matches!(
        lookup.rejection,
        Some(CertificateError::Expired { .. })
    ));
}

#[test]
fn certificate_of_an_unlisted_ca_is_judged_by_its_key() {
    let cert = host_cert(&key(1), &private(50), &["h"]);
    let text = format!("{}h {}\n", ca_line("*", &private(51)), k(&key(2)));
    let lookup = KnownHosts::parse(&text).check_certificate("h", 22, &cert, at(NOW));
    assert!(matches!(lookup.status, HostKeyStatus::Changed { .. }));
    assert_eq!(lookup.rejection, None);
}

#[test]
fn ca_listed_for_other_hosts_does_not_vouch() {
    let ca = private(50);
    let cert = host_cert(&key(1), &ca, &["h"]);
    let known = KnownHosts::parse(&ca_line("*.example.org", &ca));
    let lookup = known.check_certificate("h", 22, &cert, at(NOW));
    assert_eq!(lookup.status, HostKeyStatus::Unknown);
}

#[test]
fn revoked_ca_revokes_its_certificates() {
    let ca = private(50);
    let cert = host_cert(&key(1), &ca, &["h"]);
    let text = format!("{}@revoked * {}\n", ca_line("*", &ca), k(&ca.public_key()));
    let lookup = KnownHosts::parse(&text).check_certificate("h", 22, &cert, at(NOW));
    assert_eq!(lookup.status, HostKeyStatus::Revoked { line: 2 });
}

#[test]
fn revoked_certified_key_revokes_the_certificate() {
    let ca = private(50);
    let cert = host_cert(&key(1), &ca, &["h"]);
    let text = format!("{}@revoked h {}\n", ca_line("*", &ca), k(&key(1)));
    let lookup = KnownHosts::parse(&text).check_certificate("h", 22, &cert, at(NOW));
    assert_eq!(lookup.status, HostKeyStatus::Revoked { line: 2 });
}

#[test]
fn user_certificate_is_not_a_host_certificate() {
    let ca = private(50);
    let cert = CertificateBuilder::new(key(1), CertType::User)
        .principal("h")
        .sign(&ca, SignatureAlgorithm::Ed25519, &mut SeededRandom::new(9))
        .unwrap();
    let lookup = KnownHosts::parse(&ca_line("*", &ca)).check_certificate("h", 22, &cert, at(NOW));
    assert_eq!(lookup.status, HostKeyStatus::Unknown);
    assert!(matches!(
        lookup.rejection,
        Some(CertificateError::WrongType { .. })
    ));
}

#[test]
fn host_certificate_with_a_critical_option_is_rejected() {
    let ca = private(50);
    let cert = CertificateBuilder::new(key(1), CertType::Host)
        .force_command("true")
        .sign(&ca, SignatureAlgorithm::Ed25519, &mut SeededRandom::new(9))
        .unwrap();
    let lookup = KnownHosts::parse(&ca_line("*", &ca)).check_certificate("h", 22, &cert, at(NOW));
    assert_eq!(lookup.status, HostKeyStatus::Unknown);
    assert_eq!(
        lookup.rejection,
        Some(CertificateError::UnknownCriticalOption(
            "force-command".into()
        ))
    );
}

// ---- edits --------------------------------------------------------------------------

#[test]
fn added_line_is_what_ssh_writes() {
    let mut known = KnownHosts::parse("");
    assert_eq!(
        known.add("Example.ORG", 22, &key(1)).unwrap(),
        format!("example.org {}", k(&key(1)))
    );
    assert_eq!(
        known.add("example.org", 2222, &key(1)).unwrap(),
        format!("[example.org]:2222 {}", k(&key(1)))
    );
}

#[test]
fn added_entry_is_found_at_the_next_line_number() {
    let mut known = KnownHosts::parse(&format!("a {}\n", k(&key(1))));
    known.add("b", 22, &key(2)).unwrap();
    assert_eq!(known.check("b", 22, &key(2)), trusted(2));
}

#[test]
fn added_hashed_line_parses_and_matches_only_its_host() {
    let mut known = KnownHosts::parse("");
    let line = known
        .add_hashed("h", 2222, &key(1), &mut SeededRandom::new(4))
        .unwrap();
    let reparsed = KnownHosts::parse(&line);
    assert!(reparsed.invalid_lines().is_empty());
    assert!(matches!(
        reparsed.entries()[0].hosts(),
        HostPatterns::Hashed(_)
    ));
    assert_eq!(reparsed.check("h", 2222, &key(1)), trusted(1));
    assert_eq!(reparsed.check("g", 2222, &key(1)), HostKeyStatus::Unknown);
}

#[test]
fn hashed_lines_use_a_fresh_salt_each_time() {
    let mut known = KnownHosts::parse("");
    let rng = &mut SeededRandom::new(4);
    let a = known.add_hashed("h", 22, &key(1), rng).unwrap();
    let b = known.add_hashed("h", 22, &key(1), rng).unwrap();
    assert_ne!(a, b);
}

#[test]
fn removal_drops_every_unmarked_line_naming_the_host() {
    let hashed = HashedHost::new("h", &mut SeededRandom::new(3));
    let text = format!(
        "# keep\nh {k1}\nother,h {k2}\n{hashed} {k1}\n@revoked h {k3}\n@cert-authority h {k3}\ng {k1}\nbroken line\n[h]:2222 {k1}",
        k1 = k(&key(1)),
        k2 = k(&key(2)),
        k3 = k(&key(3)),
    );
    let removal = KnownHosts::parse(&text).remove_host("H", 22);
    assert_eq!(removal.removed_lines, [2, 3, 4]);
    let expected = format!(
        "# keep\n@revoked h {k3}\n@cert-authority h {k3}\ng {k1}\nbroken line\n[h]:2222 {k1}\n",
        k1 = k(&key(1)),
        k3 = k(&key(3)),
    );
    assert_eq!(removal.text, expected);
}

#[test]
fn removal_of_an_absent_host_keeps_the_text() {
    let text = format!("a {}\n", k(&key(1)));
    let removal = KnownHosts::parse(&text).remove_host("b", 22);
    assert!(removal.removed_lines.is_empty());
    assert_eq!(removal.text, text);
}

#[test]
fn removal_keeps_a_negated_host_line() {
    let text = format!("*,!h {}\n", k(&key(1)));
    assert!(
        KnownHosts::parse(&text)
            .remove_host("h", 22)
            .removed_lines
            .is_empty()
    );
}

#[test]
fn find_lists_every_line_for_the_host_markers_included() {
    let text = format!(
        "h {}\n@revoked * {}\n@cert-authority h {}\ng {}\n",
        k(&key(1)),
        k(&key(2)),
        k(&key(3)),
        k(&key(4))
    );
    let known = KnownHosts::parse(&text);
    let lines: Vec<_> = known.find("h", 22).map(Entry::line).collect();
    assert_eq!(lines, [1, 2, 3]);
}

// ---- robustness ---------------------------------------------------------------------

#[test]
fn random_text_never_panics_and_every_line_is_accounted_for() {
    let k1 = k(&key(1));
    let (type1, b64) = k1.split_once(' ').unwrap();
    let whole_key = format!(" {k1} ");
    let vocabulary = [
        "@cert-authority",
        "@revoked",
        "@",
        "|1|",
        "|",
        "XqdObDBaUNnU49FdmuZ4MIgamks=",
        "xEBRPcRMKR6qgUY6AIMfT+SMmu4=",
        "*",
        "?",
        "!",
        ",",
        "[",
        "]",
        ":",
        "2222",
        " ",
        " ",
        "\t",
        "\n",
        "\n",
        "\r",
        "#",
        "h",
        "example.org",
        "192.0.2.1",
        "::1",
        type1,
        b64,
        "ssh-rsa",
        "AAAA",
        "=",
        "é",
        "sk-ssh-ed25519@openssh.com",
        "ED25519",
        &whole_key,
        &whole_key,
    ];
    let rng = &mut SeededRandom::new(21);
    let probe = key(1);
    let mut parsed = 0;
    for _ in 0..3000 {
        let text = crate::key_field::token_soup(rng, &vocabulary, 40);
        let known = KnownHosts::parse(&text);
        let lines = crate::key_field::numbered_lines(&text).count();
        assert!(
            known.entries().len() + known.invalid_lines().len() <= lines,
            "{text:?}"
        );
        parsed += known.entries().len();
        for (host, port) in [("h", 22), ("example.org", 2222), ("::1", 22)] {
            let _ = known.check(host, port, &probe);
            let _ = known.find(host, port).count();
            let removal = known.remove_host(host, port);
            assert_eq!(
                KnownHosts::parse(&removal.text).entries().len() + removal.removed_lines.len(),
                known.entries().len(),
                "{text:?}"
            );
        }
    }
    assert!(parsed > 1000, "the soup should hold entries ({parsed})");
}

#[test]
fn add_refuses_names_that_read_back_as_patterns() {
    let mut known = KnownHosts::default();
    for name in [
        "",
        "a,b",
        "*.example",
        "h?st",
        "!h",
        "a b",
        "|1|x",
        "@revoked",
        "[h]",
    ] {
        assert_eq!(
            known.add(name, 22, &key(1)),
            Err(KnownHostsError::InvalidHostName(name.to_owned())),
            "{name:?}"
        );
    }
    assert!(known.entries().is_empty());
}
