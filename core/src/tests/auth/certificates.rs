//! User certificates: trusted CAs, validity, principals, source-address,
//! force-command.

use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::*;
use crate::auth::{AuthError, FixedTime, MethodRequest, Permissions};
use crate::keys::{CertType, Certificate, CertificateBuilder, SignatureAlgorithm};

/// The wall-clock time the test server believes it is.
const NOW: u64 = 1_700_000_000;

fn ca() -> Arc<PrivateKey> {
    other_ed25519_key()
}

fn certificate(
    key: &PrivateKey,
    edit: impl Fn(CertificateBuilder) -> CertificateBuilder,
) -> Certificate {
    let builder = CertificateBuilder::new(key.public_key(), CertType::User)
        .key_id("alice@example")
        .principal("alice")
        .validity(NOW - 60, NOW + 3600);
    edit(builder)
        .sign(
            &ca(),
            SignatureAlgorithm::Ed25519,
            &mut SeededRandom::new(5),
        )
        .expect("certificate")
}

fn ca_server(seed: u64, peer: Option<&str>) -> Pair {
    let mut config = ed25519_server_config();
    config.auth.trusted_user_ca_keys = vec![ca().public_key()];
    config.auth.time = Some(Arc::new(FixedTime(UNIX_EPOCH + Duration::from_secs(NOW))));
    let mut pair = auth_pair(config, seed);
    if let Some(address) = peer {
        let address: IpAddr = address.parse().unwrap();
        pair.server.auth().set_peer_address(address);
    }
    pair
}

fn credential(cert: Certificate, key: Arc<PrivateKey>) -> PublicKeyCredential {
    PublicKeyCredential::with_certificate(cert, key).expect("the certificate certifies the key")
}

/// Offers `cert` and reports whether the server application was asked at all.
fn offered(pair: &mut Pair, cert: Certificate, key: Arc<PrivateKey>) -> Option<AuthRequest> {
    pair.client
        .auth()
        .publickey("alice", credential(cert, key))
        .unwrap();
    pair.drive();
    if pair.has_request() {
        Some(pair.next_request())
    } else {
        assert!(matches!(pair.client_result(), Some(Err(_))), "refused");
        None
    }
}

#[test]
fn trusted_certificate_authenticates_with_its_force_command() {
    for &key_type in KeyType::ALL {
        let mut pair = ca_server(400, None);
        let key = user_key(key_type);
        let cert = certificate(&key, |b| {
            b.force_command("/usr/bin/uptime")
                .remove_extension(crate::keys::extension::PERMIT_PTY)
        });
        match pair.publickey_accepted("alice", credential(cert.clone(), key.clone())) {
            MethodRequest::PublicKey {
                key: signed_key,
                certificate,
                certificate_trusted,
                ..
            } => {
                assert_eq!(signed_key, key.public_key(), "{key_type}");
                assert_eq!(certificate.as_deref(), Some(&cert));
                assert!(certificate_trusted);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(pair.client_result(), Some(Ok(())), "{key_type}");
        let user = pair.server.authenticated_user().unwrap();
        assert_eq!(
            user.permissions.force_command.as_deref(),
            Some("/usr/bin/uptime")
        );
        assert!(!user.permissions.pty);
        assert!(user.permissions.port_forwarding);
        assert_eq!(user.certificate_key_id.as_deref(), Some("alice@example"));
    }
}

#[test]
fn rsa_certificate_is_named_with_its_sha2_algorithm() {
    let mut pair = ca_server(401, None);
    let key = user_key(KeyType::Rsa);
    let cert = certificate(&key, |b| b);
    let method = pair.publickey_accepted("alice", credential(cert, key));
    assert!(matches!(
        method,
        MethodRequest::PublicKey {
            algorithm: SignatureAlgorithm::RsaSha2_512,
            ..
        }
    ));
}

#[test]
fn expired_certificate_is_refused_without_asking() {
    let mut pair = ca_server(402, None);
    let key = user_key(KeyType::Ed25519);
    let cert = certificate(&key, |b| b.validity(NOW - 7200, NOW - 3600));
    assert!(offered(&mut pair, cert, key).is_none());
}

#[test]
fn not_yet_valid_certificate_is_refused() {
    let mut pair = ca_server(403, None);
    let key = user_key(KeyType::Ed25519);
    let cert = certificate(&key, |b| b.validity(NOW + 60, NOW + 3600));
    assert!(offered(&mut pair, cert, key).is_none());
}

#[test]
fn certificate_for_another_principal_is_refused() {
    let mut pair = ca_server(404, None);
    let key = user_key(KeyType::Ed25519);
    let cert = CertificateBuilder::new(key.public_key(), CertType::User)
        .principal("bob")
        .validity(NOW - 60, NOW + 60)
        .sign(
            &ca(),
            SignatureAlgorithm::Ed25519,
            &mut SeededRandom::new(5),
        )
        .unwrap();
    assert!(offered(&mut pair, cert, key).is_none());
}

#[test]
fn source_address_is_matched_against_the_peer_address() {
    let key = user_key(KeyType::Ed25519);
    let cert = certificate(&key, |b| b.source_address("10.0.0.0/8,192.0.2.1"));
    let mut inside = ca_server(405, Some("10.1.2.3"));
    assert!(offered(&mut inside, cert.clone(), key.clone()).is_some());
    let mut outside = ca_server(406, Some("192.0.2.2"));
    assert!(offered(&mut outside, cert.clone(), key.clone()).is_none());
    let mut unknown = ca_server(407, None);
    assert!(offered(&mut unknown, cert, key).is_none());
}

#[test]
fn certificates_are_refused_without_a_clock() {
    let mut config = ed25519_server_config();
    config.auth.trusted_user_ca_keys = vec![ca().public_key()];
    let mut pair = auth_pair(config, 408);
    let key = user_key(KeyType::Ed25519);
    assert!(offered(&mut pair, certificate(&key, |b| b), key).is_none());
}

#[test]
fn certificate_from_an_unknown_ca_is_left_to_the_application() {
    let mut config = ed25519_server_config();
    config.auth.time = Some(Arc::new(FixedTime(SystemTime::UNIX_EPOCH)));
    let mut pair = auth_pair(config, 409);
    let key = user_key(KeyType::Ed25519);
    let request = offered(&mut pair, certificate(&key, |b| b), key).expect("asked");
    assert!(matches!(
        request.method(),
        MethodRequest::PublicKey {
            certificate: Some(_),
            certificate_trusted: false,
            ..
        }
    ));
}

#[test]
fn host_certificate_is_refused_for_user_authentication() {
    let mut pair = ca_server(410, None);
    let key = user_key(KeyType::Ed25519);
    let cert = CertificateBuilder::new(key.public_key(), CertType::Host)
        .principal("alice")
        .sign(
            &ca(),
            SignatureAlgorithm::Ed25519,
            &mut SeededRandom::new(5),
        )
        .unwrap();
    assert!(offered(&mut pair, cert, key).is_none());
}

#[test]
fn conflicting_forced_commands_reject_the_login() {
    let mut pair = ca_server(411, None);
    let key = user_key(KeyType::Ed25519);
    let cert = certificate(&key, |b| b.force_command("uptime"));
    let query = offered(&mut pair, cert, key).expect("asked");
    pair.server.auth().accept(query).unwrap();
    pair.drive();
    let signed = pair.next_request();
    let granted = Permissions {
        force_command: Some("date".into()),
        ..Permissions::default()
    };
    let result = pair.server.auth().accept_with(signed, &granted);
    assert!(matches!(result, Err(AuthError::WrongAnswer(_))));
    pair.drive();
    assert!(matches!(pair.client_result(), Some(Err(_))));
    assert!(!pair.server.is_authenticated());
}

#[test]
fn certificate_and_a_key_it_does_not_certify_are_refused_by_the_client() {
    let key = user_key(KeyType::Ed25519);
    let cert = certificate(&key, |b| b);
    assert_eq!(
        PublicKeyCredential::with_certificate(cert, user_key(KeyType::EcdsaP256)).err(),
        Some(AuthError::KeyMismatch)
    );
}
