//! Host certificates (PROTOCOL.certkeys): a server presenting one, a client judging
//! it, and the configurations a server refuses.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use super::*;
use crate::config::{ClientConfig, ServerConfig};
use crate::crypto::SeededRandom;
use crate::error::ApiMisuse;
use crate::event::Event;
use crate::keys::{
    CertType, Certificate, CertificateBuilder, KeyType, PrivateKey, SignatureAlgorithm,
};
use crate::known_hosts::{HostKeyStatus, KnownHosts};
use crate::sim::SimOptions;

fn key(key_type: KeyType, seed: u64) -> PrivateKey {
    PrivateKey::generate(key_type, None, &mut SeededRandom::new(seed)).expect("key generation")
}

/// A host certificate of `host` for `principal`, signed by `ca`.
fn host_certificate(host: &PrivateKey, ca: &PrivateKey, principal: &str) -> Certificate {
    CertificateBuilder::new(host.public_key(), CertType::Host)
        .key_id("test host")
        .principal(principal)
        .validity(0, u64::MAX)
        .sign(ca, SignatureAlgorithm::Ed25519, &mut SeededRandom::new(5))
        .expect("certificate")
}

/// A server with an ECDSA host key and its certificate (and a plain Ed25519 key).
fn certified_server(certificate: &Certificate, host: PrivateKey) -> Arc<ServerConfig> {
    let mut config = ed25519_server_config();
    config.host_keys.push(host);
    config.host_certificates = vec![certificate.clone()];
    config.auth.login_grace_time = None;
    Arc::new(config)
}

/// Runs the pair until the client asks about the host key; returns the question.
fn host_key_question(
    client: ClientConfig,
    server: Arc<ServerConfig>,
    seed: u64,
) -> (Pair, crate::event::HostKeyDecision) {
    let options = SimOptions {
        accept_host_keys: false,
        ..SimOptions::new(seed)
    };
    let mut pair = Pair::new(client, server, options).expect("valid server config");
    pair.drive();
    let decision = pair
        .client_events()
        .into_iter()
        .find_map(|event| match event {
            Event::HostKey(decision) => Some(decision),
            _ => None,
        })
        .expect("the client asks about the host key");
    (pair, decision)
}

#[test]
fn a_server_presents_its_host_certificate_and_the_client_judges_it_by_its_authority() {
    let ca = key(KeyType::Ed25519, 1);
    let host = key(KeyType::EcdsaP256, 2);
    let certificate = host_certificate(&host, &ca, "server.example");
    let server = certified_server(&certificate, host);
    let (mut pair, decision) = host_key_question(ClientConfig::default(), server, 3);

    assert_eq!(decision.certificate(), Some(&certificate));
    assert_eq!(decision.key(), certificate.key());

    let known = KnownHosts::parse(&format!(
        "@cert-authority *.example {}\n",
        ca.public_key().to_openssh("")
    ));
    let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let lookup = known.check_certificate("server.example", 22, &certificate, now);
    assert_eq!(lookup.status, HostKeyStatus::Trusted { line: 1 });
    let lookup = known.check_certificate("other.example", 22, &certificate, now);
    assert!(
        lookup.rejection.is_some(),
        "not a principal of the certificate"
    );

    pair.client.accept_host_key(decision);
    pair.handshake();
    let negotiated = *pair.client.algorithms().expect("negotiated");
    assert!(negotiated.host_certificate);
    assert_eq!(negotiated.host_key, SignatureAlgorithm::EcdsaP256);
    assert_eq!(
        negotiated.host_key_name(),
        "ecdsa-sha2-nistp256-cert-v01@openssh.com"
    );
    assert_eq!(pair.server.algorithms(), Some(&negotiated));
    // A re-exchange presents the same certificate, which the client takes unasked.
    pair.client.rekey(pair.now);
    pair.drive();
    assert_eq!(pair.client.key_exchanges(), 2);
    assert_eq!(pair.client_seen.closed(), None);
}

#[test]
fn a_client_without_certificate_algorithms_is_shown_the_plain_key() {
    let ca = key(KeyType::Ed25519, 1);
    let host = key(KeyType::EcdsaP256, 2);
    let certificate = host_certificate(&host, &ca, "server.example");
    let host_public = host.public_key();
    let server = certified_server(&certificate, host);
    let mut client = ClientConfig::default();
    client.transport.algorithms.host_certificate.clear();
    client.transport.algorithms.host_key = vec![SignatureAlgorithm::EcdsaP256];
    let (_, decision) = host_key_question(client, server, 4);
    assert_eq!(decision.certificate(), None);
    assert_eq!(*decision.key(), host_public);
}

#[test]
fn narrowing_the_plain_algorithms_narrows_the_certificates_offered() {
    let ca = key(KeyType::Ed25519, 1);
    let host = key(KeyType::EcdsaP256, 2);
    let certificate = host_certificate(&host, &ca, "server.example");
    let server = certified_server(&certificate, host);
    // Certificate algorithms left at their default, plain ones narrowed to Ed25519:
    // the server's ECDSA certificate is not taken.
    let mut client = ClientConfig::default();
    client.transport.algorithms.host_key = vec![SignatureAlgorithm::Ed25519];
    let (_, decision) = host_key_question(client, server, 6);
    assert_eq!(decision.certificate(), None);
    assert_eq!(decision.key().key_type(), KeyType::Ed25519);
}

#[test]
fn a_client_offered_only_plain_algorithms_by_the_server_gets_a_plain_key() {
    // The server has no certificate: it offers none, whatever its algorithm list.
    let (_, decision) = host_key_question(
        ClientConfig::default(),
        ed25519_server(crate::config::TransportConfig::default()),
        5,
    );
    assert_eq!(decision.certificate(), None);
}

#[test]
fn a_server_refuses_certificates_that_do_not_certify_its_host_keys() {
    let ca = key(KeyType::Ed25519, 1);
    let host = key(KeyType::EcdsaP256, 2);
    let stranger = key(KeyType::EcdsaP256, 3);
    let foreign = host_certificate(&stranger, &ca, "server.example");
    let user = CertificateBuilder::new(host.public_key(), CertType::User)
        .principal("alice")
        .sign(&ca, SignatureAlgorithm::Ed25519, &mut SeededRandom::new(6))
        .expect("certificate");
    for (certificate, expected) in [(foreign, "certifies none"), (user, "user certificate")] {
        let mut config = ed25519_server_config();
        config.host_keys.push(key(KeyType::EcdsaP256, 2));
        config.host_certificates = vec![certificate];
        match crate::ServerConnection::new(Arc::new(config), epoch()) {
            Err(ApiMisuse::InvalidConfig(message)) => {
                assert!(message.contains(expected), "{message}");
            }
            other => panic!("expected a configuration error, got {other:?}"),
        }
    }
}
