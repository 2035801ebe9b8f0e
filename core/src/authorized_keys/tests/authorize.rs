//! Judging attempts: candidates, from=, expiry, certificates and merged permissions.

use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{k, key, private};
use crate::authorized_keys::{
    AuthorizationRequest, AuthorizedKeys, ForwardPermission, NotAuthorized, Permissions,
    RefusalReason,
};
use crate::crypto::SeededRandom;
use crate::host_pattern::PatternError;
use crate::keys::{
    CertType, Certificate, CertificateBuilder, CertificateError, PrivateKey, PublicKey,
    SignatureAlgorithm, extension,
};

const NOW: u64 = 1_750_000_000;

fn at(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn request<'a>(user: &'a str, key: &'a PublicKey) -> AuthorizationRequest<'a> {
    AuthorizationRequest::new(user, key, ip("10.1.2.3"), at(NOW))
}

fn cert_request<'a>(user: &'a str, cert: &'a Certificate) -> AuthorizationRequest<'a> {
    AuthorizationRequest::new(user, cert, ip("10.1.2.3"), at(NOW))
}

fn refusal(result: Result<crate::authorized_keys::Authorization, NotAuthorized>) -> RefusalReason {
    let refusals = result.expect_err("refused").refusals;
    assert_eq!(refusals.len(), 1, "{refusals:?}");
    refusals[0].reason.clone()
}

/// A user certificate over key(1), valid around NOW, signed by `ca`.
fn user_cert(
    ca: &PrivateKey,
    adjust: impl FnOnce(CertificateBuilder) -> CertificateBuilder,
) -> Certificate {
    let builder = CertificateBuilder::new(key(1), CertType::User)
        .key_id("alice@example")
        .principal("alice")
        .validity(NOW - 3600, NOW + 3600);
    adjust(builder)
        .sign(ca, SignatureAlgorithm::Ed25519, &mut SeededRandom::new(5))
        .unwrap()
}

fn ca_keys(options: &str, ca: &PrivateKey) -> AuthorizedKeys {
    AuthorizedKeys::parse(&format!("{options} {}\n", k(&ca.public_key())))
}

// ---- plain keys ---------------------------------------------------------------------

#[test]
fn listed_key_is_accepted_with_every_permission() {
    let keys = AuthorizedKeys::parse(&format!("{}\n{}\n", k(&key(2)), k(&key(1))));
    let granted = keys.authorize(&request("alice", &key(1))).unwrap();
    assert_eq!(granted.line, 2);
    assert_eq!(granted.permissions, Permissions::default());
}

#[test]
fn unlisted_key_is_refused_without_candidates() {
    let keys = AuthorizedKeys::parse(&format!("{}\n", k(&key(2))));
    let refused = keys.authorize(&request("alice", &key(1))).unwrap_err();
    assert!(refused.refusals.is_empty());
    assert_eq!(
        refused.to_string(),
        "no authorized_keys line holds this key"
    );
}

#[test]
fn line_options_become_the_permissions() {
    let keys = AuthorizedKeys::parse(&format!(
        "restrict,pty,command=\"backup\",permitopen=\"db:5432\" {}\n",
        k(&key(1))
    ));
    let p = keys
        .authorize(&request("alice", &key(1)))
        .unwrap()
        .permissions;
    assert!(p.pty && !p.port_forwarding && !p.agent_forwarding);
    assert_eq!(p.force_command.as_deref(), Some("backup"));
    assert_eq!(
        p.permit_open,
        [ForwardPermission {
            host: "db".into(),
            port: Some(5432)
        }]
    );
}

#[test]
fn later_line_for_the_same_key_is_used_when_an_earlier_one_refuses() {
    let keys = AuthorizedKeys::parse(&format!(
        "from=\"192.0.2.0/24\" {k}\nno-pty {k}\n",
        k = k(&key(1))
    ));
    let granted = keys.authorize(&request("alice", &key(1))).unwrap();
    assert_eq!(granted.line, 2);
    assert!(!granted.permissions.pty);
}

#[test]
fn every_refusing_line_is_reported() {
    let keys = AuthorizedKeys::parse(&format!(
        "from=\"192.0.2.0/24\" {k}\nexpiry-time=\"20200101\" {k}\n",
        k = k(&key(1))
    ));
    let refused = keys.authorize(&request("alice", &key(1))).unwrap_err();
    let lines: Vec<_> = refused.refusals.iter().map(|r| r.line).collect();
    assert_eq!(lines, [1, 2]);
    assert!(
        refused
            .to_string()
            .starts_with("line 1: the client is not permitted by from=")
    );
}

#[test]
fn from_accepts_a_client_in_the_cidr_block() {
    let keys = AuthorizedKeys::parse(&format!("from=\"10.0.0.0/8\" {}\n", k(&key(1))));
    assert!(keys.authorize(&request("alice", &key(1))).is_ok());
}

#[test]
fn from_refuses_a_client_outside_the_list() {
    let keys = AuthorizedKeys::parse(&format!(
        "from=\"192.0.2.0/24,*.example.org\" {}\n",
        k(&key(1))
    ));
    assert_eq!(
        refusal(keys.authorize(&request("alice", &key(1)))),
        RefusalReason::FromNotPermitted
    );
}

#[test]
fn from_matches_the_address_text_as_a_host_name() {
    let keys = AuthorizedKeys::parse(&format!("from=\"10.1.2.?\" {}\n", k(&key(1))));
    assert!(keys.authorize(&request("alice", &key(1))).is_ok());
}

#[test]
fn from_matches_a_resolved_host_name() {
    let keys = AuthorizedKeys::parse(&format!("from=\"*.example.org\" {}\n", k(&key(1))));
    let key = key(1);
    let attempt = request("alice", &key).client_host("ci.EXAMPLE.org");
    assert!(keys.authorize(&attempt).is_ok());
}

#[test]
fn from_negation_refuses_an_otherwise_matching_client() {
    let keys = AuthorizedKeys::parse(&format!("from=\"10.0.0.0/8,!10.1.2.3\" {}\n", k(&key(1))));
    assert_eq!(
        refusal(keys.authorize(&request("alice", &key(1)))),
        RefusalReason::FromNotPermitted
    );
}

#[test]
fn from_with_an_invalid_block_refuses() {
    let keys = AuthorizedKeys::parse(&format!("from=\"10.0.0.1/8\" {}\n", k(&key(1))));
    assert_eq!(
        refusal(keys.authorize(&request("alice", &key(1)))),
        RefusalReason::InvalidFrom(PatternError::InvalidCidr("10.0.0.1/8".into()))
    );
}

#[test]
fn from_sees_an_ipv4_mapped_client_as_ipv4() {
    let keys = AuthorizedKeys::parse(&format!("from=\"10.1.2.3\" {}\n", k(&key(1))));
    let key = key(1);
    let attempt = AuthorizationRequest::new("alice", &key, ip("::ffff:10.1.2.3"), at(NOW));
    assert!(keys.authorize(&attempt).is_ok());
}

#[test]
fn key_is_accepted_until_its_expiry_second() {
    // 2025-06-15T15:06:40Z is NOW.
    let keys = AuthorizedKeys::parse(&format!("expiry-time=\"20250615150640Z\" {}\n", k(&key(1))));
    assert!(keys.authorize(&request("alice", &key(1))).is_ok());
    let key = key(1);
    let later = AuthorizationRequest::new("alice", &key, ip("10.1.2.3"), at(NOW + 1));
    assert_eq!(
        refusal(keys.authorize(&later)),
        RefusalReason::Expired { expired_at: NOW }
    );
}

#[test]
fn principals_on_a_plain_key_refuse_it() {
    let keys = AuthorizedKeys::parse(&format!("principals=\"alice\" {}\n", k(&key(1))));
    assert_eq!(
        refusal(keys.authorize(&request("alice", &key(1)))),
        RefusalReason::PrincipalsWithoutCertAuthority
    );
}

#[test]
fn cert_authority_line_does_not_accept_its_key_as_a_plain_key() {
    let keys = AuthorizedKeys::parse(&format!("cert-authority {}\n", k(&key(1))));
    assert!(
        keys.authorize(&request("alice", &key(1)))
            .unwrap_err()
            .refusals
            .is_empty()
    );
}

// ---- certificates -------------------------------------------------------------------

#[test]
fn certificate_signed_by_a_listed_ca_is_accepted_for_its_principal() {
    let ca = private(40);
    let cert = user_cert(&ca, |b| b);
    let granted = ca_keys("cert-authority", &ca)
        .authorize(&cert_request("alice", &cert))
        .unwrap();
    assert_eq!(granted.line, 1);
    assert!(granted.permissions.pty && granted.permissions.port_forwarding);
}

#[test]
fn plain_line_holding_the_ca_key_does_not_accept_certificates() {
    let ca = private(40);
    let cert = user_cert(&ca, |b| b);
    let refused = ca_keys("no-pty", &ca)
        .authorize(&cert_request("alice", &cert))
        .unwrap_err();
    assert!(refused.refusals.is_empty());
}

#[test]
fn certificate_line_does_not_accept_the_certified_key_alone() {
    let ca = private(40);
    let keys = ca_keys("cert-authority", &ca);
    assert!(
        keys.authorize(&request("alice", &key(1)))
            .unwrap_err()
            .refusals
            .is_empty()
    );
}

#[test]
fn certificate_of_another_ca_is_not_a_candidate() {
    let cert = user_cert(&private(41), |b| b);
    let refused = ca_keys("cert-authority", &private(40))
        .authorize(&cert_request("alice", &cert))
        .unwrap_err();
    assert!(refused.refusals.is_empty());
}

#[test]
fn certificate_for_another_user_is_refused() {
    let ca = private(40);
    let cert = user_cert(&ca, |b| b);
    assert_eq!(
        refusal(ca_keys("cert-authority", &ca).authorize(&cert_request("bob", &cert))),
        RefusalReason::Certificate(CertificateError::PrincipalNotListed("bob".into()))
    );
}

#[test]
fn certificate_without_principals_is_accepted_for_any_user() {
    let ca = private(40);
    let cert = CertificateBuilder::new(key(1), CertType::User)
        .sign(&ca, SignatureAlgorithm::Ed25519, &mut SeededRandom::new(5))
        .unwrap();
    assert!(
        ca_keys("cert-authority", &ca)
            .authorize(&cert_request("bob", &cert))
            .is_ok()
    );
}

#[test]
fn principals_option_replaces_the_user_name_check() {
    let ca = private(40);
    let cert = user_cert(&ca, |b| b.principal("deploy"));
    let keys = ca_keys("cert-authority,principals=\"ops,deploy\"", &ca);
    assert!(keys.authorize(&cert_request("root", &cert)).is_ok());
}

#[test]
fn principals_option_refuses_a_certificate_without_a_listed_principal() {
    let ca = private(40);
    let cert = user_cert(&ca, |b| b);
    let keys = ca_keys("cert-authority,principals=\"ops\"", &ca);
    assert_eq!(
        refusal(keys.authorize(&cert_request("alice", &cert))),
        RefusalReason::PrincipalNotAuthorized
    );
}

#[test]
fn principals_option_compares_names_exactly() {
    let ca = private(40);
    let cert = user_cert(&ca, |b| b);
    let keys = ca_keys("cert-authority,principals=\"ali*\"", &ca);
    assert_eq!(
        refusal(keys.authorize(&cert_request("alice", &cert))),
        RefusalReason::PrincipalNotAuthorized
    );
}

#[test]
fn expired_certificate_is_refused() {
    let ca = private(40);
    let cert = user_cert(&ca, |b| b.validity(NOW - 7200, NOW - 3600));
    assert!(matches!(
        refusal(ca_keys("cert-authority", &ca).authorize(&cert_request("alice", &cert))),
        RefusalReason::Certificate(CertificateError::Expired { .. })
    ));
}

#[test]
fn host_certificate_is_refused_for_login() {
    let ca = private(40);
    let cert = CertificateBuilder::new(key(1), CertType::Host)
        .principal("alice")
        .sign(&ca, SignatureAlgorithm::Ed25519, &mut SeededRandom::new(5))
        .unwrap();
    assert!(matches!(
        refusal(ca_keys("cert-authority", &ca).authorize(&cert_request("alice", &cert))),
        RefusalReason::Certificate(CertificateError::WrongType { .. })
    ));
}

#[test]
fn certificate_source_address_is_enforced() {
    let ca = private(40);
    let cert = user_cert(&ca, |b| b.source_address("192.0.2.0/24"));
    assert_eq!(
        refusal(ca_keys("cert-authority", &ca).authorize(&cert_request("alice", &cert))),
        RefusalReason::Certificate(CertificateError::SourceAddressDenied(ip("10.1.2.3")))
    );
}

#[test]
fn line_options_are_checked_for_certificates_too() {
    let ca = private(40);
    let cert = user_cert(&ca, |b| b);
    let keys = ca_keys("cert-authority,from=\"192.0.2.0/24\"", &ca);
    assert_eq!(
        refusal(keys.authorize(&cert_request("alice", &cert))),
        RefusalReason::FromNotPermitted
    );
}

#[test]
fn permission_needs_both_the_line_and_the_certificate() {
    let ca = private(40);
    let cert = user_cert(&ca, |b| b.remove_extension(extension::PERMIT_PTY));
    let p = ca_keys("cert-authority,no-agent-forwarding", &ca)
        .authorize(&cert_request("alice", &cert))
        .unwrap()
        .permissions;
    assert!(!p.pty, "the certificate does not permit a pty");
    assert!(!p.agent_forwarding, "the line forbids agent forwarding");
    assert!(p.port_forwarding && p.x11_forwarding && p.user_rc);
}

#[test]
fn certificate_without_extensions_grants_no_permissions() {
    let ca = private(40);
    let cert = user_cert(&ca, CertificateBuilder::clear_extensions);
    let p = ca_keys("cert-authority", &ca)
        .authorize(&cert_request("alice", &cert))
        .unwrap()
        .permissions;
    assert!(!(p.pty || p.port_forwarding || p.agent_forwarding || p.x11_forwarding || p.user_rc));
}

#[test]
fn certificate_force_command_applies() {
    let ca = private(40);
    let cert = user_cert(&ca, |b| b.force_command("rsync --server"));
    let p = ca_keys("cert-authority", &ca)
        .authorize(&cert_request("alice", &cert))
        .unwrap()
        .permissions;
    assert_eq!(p.force_command.as_deref(), Some("rsync --server"));
}

#[test]
fn equal_forced_commands_of_line_and_certificate_are_accepted() {
    let ca = private(40);
    let cert = user_cert(&ca, |b| b.force_command("backup"));
    let keys = ca_keys("cert-authority,command=\"backup\"", &ca);
    assert!(keys.authorize(&cert_request("alice", &cert)).is_ok());
}

#[test]
fn different_forced_commands_of_line_and_certificate_refuse() {
    let ca = private(40);
    let cert = user_cert(&ca, |b| b.force_command("backup"));
    let keys = ca_keys("cert-authority,command=\"restore\"", &ca);
    assert_eq!(
        refusal(keys.authorize(&cert_request("alice", &cert))),
        RefusalReason::ForceCommandMismatch
    );
}

#[test]
fn verify_required_from_either_side_applies() {
    let ca = private(40);
    let plain = user_cert(&ca, |b| b);
    let verifying = user_cert(&ca, CertificateBuilder::verify_required);
    let by_line = ca_keys("cert-authority,verify-required", &ca);
    let by_cert = ca_keys("cert-authority", &ca);
    let required = |keys: &AuthorizedKeys, cert: &Certificate| {
        keys.authorize(&cert_request("alice", cert))
            .unwrap()
            .permissions
            .verify_required
    };
    assert!(required(&by_line, &plain));
    assert!(required(&by_cert, &verifying));
    assert!(!required(&by_cert, &plain));
}

#[test]
fn no_touch_required_needs_both_the_line_and_the_certificate() {
    let ca = private(40);
    let cert = user_cert(&ca, |b| b.extension(extension::NO_TOUCH_REQUIRED));
    let both = ca_keys("cert-authority,no-touch-required", &ca);
    let line_only = ca_keys("cert-authority,no-touch-required", &ca);
    assert!(
        both.authorize(&cert_request("alice", &cert))
            .unwrap()
            .permissions
            .no_touch_required
    );
    let plain_cert = user_cert(&ca, |b| b);
    assert!(
        !line_only
            .authorize(&cert_request("alice", &plain_cert))
            .unwrap()
            .permissions
            .no_touch_required
    );
}

#[test]
fn line_environment_and_forwarding_lists_carry_over_to_certificates() {
    let ca = private(40);
    let cert = user_cert(&ca, |b| b);
    let keys = ca_keys(
        "cert-authority,environment=\"A=1\",permitlisten=\"8080\",tunnel=\"any\"",
        &ca,
    );
    let p = keys
        .authorize(&cert_request("alice", &cert))
        .unwrap()
        .permissions;
    assert_eq!(p.environment[0].name, "A");
    assert_eq!(p.permit_listen.len(), 1);
    assert!(p.tunnel.is_some());
}

#[test]
fn known_extension_with_data_refuses_the_certificate() {
    let ca = private(40);
    let cert = user_cert(&ca, |b| {
        b.extension_with_data(extension::PERMIT_PTY, vec![0, 0, 0, 0])
    });
    assert_eq!(
        refusal(ca_keys("cert-authority", &ca).authorize(&cert_request("alice", &cert))),
        RefusalReason::CorruptCertificateOption("permit-pty".into())
    );
}

#[test]
fn unknown_extension_is_ignored() {
    let ca = private(40);
    let cert = user_cert(&ca, |b| {
        b.extension_with_data("vendor@example.org", vec![1, 2])
    });
    assert!(
        ca_keys("cert-authority", &ca)
            .authorize(&cert_request("alice", &cert))
            .is_ok()
    );
}

#[test]
fn unknown_critical_option_refuses_the_certificate() {
    let ca = private(40);
    let cert = user_cert(&ca, |b| b.critical_option("vendor@example.org", Vec::new()));
    assert_eq!(
        refusal(ca_keys("cert-authority", &ca).authorize(&cert_request("alice", &cert))),
        RefusalReason::Certificate(CertificateError::UnknownCriticalOption(
            "vendor@example.org".into()
        ))
    );
}

// ---- permission helpers --------------------------------------------------------------

fn permission(host: &str, port: Option<u16>) -> ForwardPermission {
    ForwardPermission {
        host: host.into(),
        port,
    }
}

#[test]
fn empty_forwarding_lists_allow_anything() {
    let p = Permissions::default();
    assert!(p.allows_open("anywhere", 1));
    assert!(p.allows_listen("0.0.0.0", 80));
}

#[test]
fn permitopen_allows_only_listed_destinations() {
    let p = Permissions {
        permit_open: vec![
            permission("db", Some(5432)),
            permission("*", Some(443)),
            permission("web", None),
        ],
        ..Permissions::default()
    };
    assert!(p.allows_open("db", 5432));
    assert!(!p.allows_open("db", 5433));
    assert!(!p.allows_open("DB", 5432), "host names are literal");
    assert!(p.allows_open("anything", 443));
    assert!(p.allows_open("web", 8080));
    assert!(!p.allows_open("w*", 1));
}

#[test]
fn permitlisten_hosts_are_patterns() {
    let p = Permissions {
        permit_listen: vec![permission("*", Some(8080)), permission("127.0.0.?", None)],
        ..Permissions::default()
    };
    assert!(p.allows_listen("0.0.0.0", 8080));
    assert!(!p.allows_listen("0.0.0.0", 8081));
    assert!(p.allows_listen("127.0.0.1", 9999));
}
