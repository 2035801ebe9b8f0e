//! Security regressions: messages out of place, signature binding, state that must
//! not leak between attempts, dropped decisions, secrets in debug output.

use super::*;
use crate::auth::{Challenge, MethodRequest, Prompt};
use crate::error::{ConnectionError, PeerMisbehaved};
use crate::wire::msg;

fn misbehaved(seen: &Observed) -> &PeerMisbehaved {
    match seen.closed() {
        Some(ConnectionError::PeerMisbehaved(p)) => p,
        other => panic!("expected a protocol violation, got {other:?}"),
    }
}

fn unexpected(seen: &Observed) -> u8 {
    match misbehaved(seen) {
        PeerMisbehaved::UnexpectedMessage { number, .. } => *number,
        other => panic!("expected an unexpected message, got {other:?}"),
    }
}

#[test]
fn client_sending_userauth_success_is_disconnected() {
    let mut pair = default_pair(300);
    pair.client.auth().none("alice").unwrap();
    pair.drive();
    pair.client
        .transport_mut()
        .inject_packet(&[msg::USERAUTH_SUCCESS]);
    pair.drive();
    assert_eq!(
        misbehaved(&pair.server_seen),
        &PeerMisbehaved::WrongRole(msg::USERAUTH_SUCCESS)
    );
}

#[test]
fn client_sending_info_response_outside_keyboard_interactive_is_disconnected() {
    let mut pair = default_pair(301);
    raw_client(&mut pair);
    pair.raw_send(&[61, 0, 0, 0, 0]);
    assert_eq!(unexpected(&pair.server_seen), 61);
}

#[test]
fn client_sending_an_unassigned_auth_number_is_disconnected() {
    let mut pair = default_pair(302);
    raw_client(&mut pair);
    pair.raw_send(&[70]);
    assert_eq!(unexpected(&pair.server_seen), 70);
}

#[test]
fn server_sending_success_without_a_request_is_disconnected() {
    let mut pair = default_pair(303);
    pair.server
        .transport_mut()
        .inject_packet(&[msg::USERAUTH_SUCCESS]);
    pair.drive();
    assert_eq!(unexpected(&pair.client_seen), msg::USERAUTH_SUCCESS);
    assert!(!pair.client.is_authenticated());
}

#[test]
fn server_sending_failure_without_a_request_is_disconnected() {
    let mut pair = default_pair(304);
    let mut failure = vec![msg::USERAUTH_FAILURE];
    failure.put_string(b"password");
    failure.put_bool(false);
    pair.server.transport_mut().inject_packet(&failure);
    pair.drive();
    assert_eq!(unexpected(&pair.client_seen), msg::USERAUTH_FAILURE);
}

#[test]
fn server_sending_a_method_message_to_none_is_disconnected() {
    let mut pair = default_pair(305);
    let mut pk_ok = vec![60];
    pk_ok.put_string(b"ssh-ed25519");
    pk_ok.put_string(b"blob");
    // Sent while the client's `none` request is in flight.
    pair.client.auth().none("alice").unwrap();
    pair.server.transport_mut().inject_packet(&pk_ok);
    pair.drive();
    assert_eq!(unexpected(&pair.client_seen), 60);
}

#[test]
fn pk_ok_for_another_key_is_disconnected() {
    let mut pair = default_pair(306);
    let credential = PublicKeyCredential::from_private_key(user_key(KeyType::Ed25519));
    pair.client.auth().publickey("alice", credential).unwrap();
    pair.drive();
    let _query = pair.next_request();
    let mut pk_ok = vec![60];
    pk_ok.put_string(b"ssh-ed25519");
    pk_ok.put_string(&other_ed25519_key().public_key().to_blob());
    pair.server.transport_mut().inject_packet(&pk_ok);
    pair.drive();
    assert!(matches!(
        misbehaved(&pair.client_seen),
        PeerMisbehaved::Auth(_)
    ));
}

#[test]
fn banner_after_success_is_disconnected() {
    let mut pair = default_pair(307);
    pair.password_round("alice", "pw", true);
    let mut banner = vec![msg::USERAUTH_BANNER];
    banner.put_string(b"late");
    banner.put_string(b"");
    pair.server.transport_mut().inject_packet(&banner);
    pair.drive();
    assert_eq!(unexpected(&pair.client_seen), msg::USERAUTH_BANNER);
}

#[test]
fn channel_open_before_authentication_is_disconnected() {
    let mut pair = default_pair(308);
    raw_client(&mut pair);
    let mut open = vec![msg::CHANNEL_OPEN];
    open.put_string(b"session");
    open.put_u32(0);
    open.put_u32(65536);
    open.put_u32(32768);
    pair.raw_send(&open);
    assert_eq!(unexpected(&pair.server_seen), msg::CHANNEL_OPEN);
}

#[test]
fn global_request_before_authentication_is_disconnected() {
    let mut pair = default_pair(309);
    let mut request = vec![msg::GLOBAL_REQUEST];
    request.put_string(b"keepalive@openssh.com");
    request.put_bool(true);
    pair.client.transport_mut().inject_packet(&request);
    pair.drive();
    assert_eq!(unexpected(&pair.server_seen), msg::GLOBAL_REQUEST);
}

#[test]
fn server_opening_a_channel_before_authentication_is_disconnected() {
    let mut pair = default_pair(310);
    pair.server
        .transport_mut()
        .inject_packet(&[msg::CHANNEL_OPEN, 0, 0, 0, 0]);
    pair.drive();
    assert_eq!(unexpected(&pair.client_seen), msg::CHANNEL_OPEN);
}

#[test]
fn connection_messages_after_authentication_are_not_refused() {
    let mut pair = default_pair(311);
    pair.password_round("alice", "pw", true);
    let mut request = vec![msg::GLOBAL_REQUEST];
    request.put_string(b"keepalive@openssh.com");
    request.put_bool(false);
    pair.client.transport_mut().inject_packet(&request);
    pair.drive();
    assert_eq!(pair.server_seen.closed(), None);
}

fn ext_info() -> Vec<u8> {
    crate::wire::transport::encode_ext_info(&[("server-sig-algs", b"ssh-ed25519,rsa-sha2-256")])
}

#[test]
fn ext_info_just_before_success_is_accepted() {
    let mut pair = default_pair(312);
    pair.client
        .auth()
        .password("alice", password("pw"))
        .unwrap();
    pair.drive();
    let request = pair.next_request();
    pair.server.transport_mut().inject_packet(&ext_info());
    pair.server.auth().accept(request).unwrap();
    pair.drive();
    assert_eq!(pair.client_result(), Some(Ok(())));
    assert_eq!(
        pair.client.server_sig_algs(),
        Some(&["ssh-ed25519".to_owned(), "rsa-sha2-256".to_owned()][..])
    );
}

#[test]
fn ext_info_during_authentication_not_followed_by_success_is_disconnected() {
    let mut pair = default_pair(313);
    pair.client
        .auth()
        .password("alice", password("pw"))
        .unwrap();
    pair.drive();
    let request = pair.next_request();
    pair.server.transport_mut().inject_packet(&ext_info());
    pair.server.auth().reject(request).unwrap();
    pair.drive();
    assert_eq!(unexpected(&pair.client_seen), msg::USERAUTH_FAILURE);
}

#[test]
fn ext_info_after_success_is_disconnected() {
    let mut pair = default_pair(314);
    pair.password_round("alice", "pw", true);
    pair.server.transport_mut().inject_packet(&ext_info());
    pair.drive();
    assert_eq!(unexpected(&pair.client_seen), msg::EXT_INFO);
}

#[test]
fn signature_by_another_key_than_the_one_named_is_refused_without_asking() {
    let mut pair = default_pair(315);
    raw_client(&mut pair);
    let session_id = pair.client.session_id().unwrap().to_vec();
    let named = user_key(KeyType::Ed25519);
    let signer = other_ed25519_key();
    pair.raw_send(&raw_publickey_request(&session_id, "alice", &named, None));
    let query = pair.next_request();
    pair.server.auth().accept(query).unwrap();
    pair.drive();
    assert_eq!(pair.raw_replies(), [60], "PK_OK for the named key");
    pair.raw_send(&raw_publickey_request(
        &session_id,
        "alice",
        &named,
        Some(&signer),
    ));
    assert!(!pair.has_request(), "the application is never asked");
    assert_eq!(pair.raw_replies(), [msg::USERAUTH_FAILURE]);
    assert!(!pair.server.is_authenticated());
}

#[test]
fn query_approval_does_not_carry_over_to_the_key_that_signs() {
    let mut pair = default_pair(316);
    raw_client(&mut pair);
    let session_id = pair.client.session_id().unwrap().to_vec();
    let approved = user_key(KeyType::Ed25519);
    let other = other_ed25519_key();
    pair.raw_send(&raw_publickey_request(
        &session_id,
        "alice",
        &approved,
        None,
    ));
    let query = pair.next_request();
    pair.server.auth().accept(query).unwrap();
    pair.drive();
    pair.raw_send(&raw_publickey_request(
        &session_id,
        "alice",
        &other,
        Some(&other),
    ));
    let signed = pair.next_request();
    match signed.method() {
        MethodRequest::PublicKey { key, signed, .. } => {
            assert!(signed);
            assert_eq!(key, &other.public_key(), "asked about the key that signed");
        }
        m => panic!("{m:?}"),
    }
    pair.server.auth().reject(signed).unwrap();
    pair.drive();
    assert_eq!(pair.raw_replies(), [60, msg::USERAUTH_FAILURE]);
}

#[test]
fn signature_over_another_session_is_refused() {
    let mut pair = default_pair(317);
    raw_client(&mut pair);
    let key = user_key(KeyType::Ed25519);
    pair.raw_send(&raw_publickey_request(
        b"another session",
        "alice",
        &key,
        Some(&key),
    ));
    assert!(!pair.has_request());
    assert_eq!(pair.raw_replies(), [msg::USERAUTH_FAILURE]);
}

#[test]
fn algorithm_the_server_does_not_accept_is_refused_without_asking() {
    let mut config = ed25519_server_config();
    config.auth.publickey_algorithms = vec![crate::keys::SignatureAlgorithm::Ed25519];
    let mut pair = auth_pair(config, 318);
    let credential = PublicKeyCredential::from_private_key(user_key(KeyType::EcdsaP256));
    pair.client.auth().publickey("alice", credential).unwrap();
    pair.drive();
    assert!(!pair.has_request());
    assert!(matches!(pair.client_result(), Some(Err(_))));
}

#[test]
fn changing_the_user_name_between_requests_is_disconnected() {
    let mut pair = default_pair(319);
    pair.client.auth().none("alice").unwrap();
    pair.drive();
    pair.client.auth().none("bob").unwrap();
    pair.drive();
    assert!(matches!(
        misbehaved(&pair.server_seen),
        PeerMisbehaved::Auth(_)
    ));
}

#[test]
fn request_for_another_service_is_disconnected() {
    let mut pair = default_pair(320);
    raw_client(&mut pair);
    pair.raw_send(&raw_request("alice", "ssh-agent", "none", &[]));
    assert_eq!(
        misbehaved(&pair.server_seen),
        &PeerMisbehaved::ServiceNotAvailable("ssh-agent".into())
    );
}

#[test]
fn request_before_the_service_request_is_disconnected() {
    let mut pair = default_pair(321);
    pair.client
        .transport_mut()
        .inject_packet(&raw_request("alice", "ssh-connection", "none", &[]));
    pair.drive();
    assert_eq!(unexpected(&pair.server_seen), msg::USERAUTH_REQUEST);
}

#[test]
fn malformed_request_is_disconnected() {
    let mut pair = default_pair(322);
    raw_client(&mut pair);
    pair.raw_send(&[msg::USERAUTH_REQUEST, 0, 0, 0, 9, b'a']);
    assert!(matches!(
        misbehaved(&pair.server_seen),
        PeerMisbehaved::MalformedMessage {
            number: msg::USERAUTH_REQUEST,
            ..
        }
    ));
}

#[test]
fn unknown_method_is_refused_and_counted() {
    let mut pair = default_pair(323);
    raw_client(&mut pair);
    pair.raw_send(&raw_request(
        "alice",
        "ssh-connection",
        "gssapi-with-mic",
        &[0, 0, 0, 0],
    ));
    assert_eq!(pair.raw_replies(), [msg::USERAUTH_FAILURE]);
    assert_eq!(pair.server.auth().failures(), 1);
}

#[test]
fn requests_after_success_are_ignored() {
    let mut pair = default_pair(324);
    raw_client(&mut pair);
    pair.raw_send(&raw_password_request("alice", "pw"));
    let request = pair.next_request();
    pair.server.auth().accept(request).unwrap();
    pair.drive();
    // Success, then the host key announcement of the connection protocol.
    assert_eq!(
        pair.raw_replies(),
        [msg::USERAUTH_SUCCESS, msg::GLOBAL_REQUEST]
    );
    pair.raw_send(&raw_password_request("alice", "again"));
    assert!(!pair.has_request());
    assert!(pair.raw_replies().is_empty());
    assert_eq!(pair.server_seen.closed(), None);
}

#[test]
fn info_response_after_an_abandoned_keyboard_interactive_is_disconnected() {
    let mut pair = default_pair(325);
    raw_client(&mut pair);
    let mut start = Vec::new();
    start.put_string(b"");
    start.put_string(b"");
    pair.raw_send(&raw_request(
        "alice",
        "ssh-connection",
        "keyboard-interactive",
        &start,
    ));
    let request = pair.next_request();
    let challenge = Challenge {
        prompts: vec![Prompt {
            text: "Password: ".into(),
            echo: false,
        }],
        ..Challenge::default()
    };
    pair.server.auth().challenge(request, challenge).unwrap();
    pair.drive();
    // A new request ends the exchange; its state must not survive.
    pair.raw_send(&raw_request("alice", "ssh-connection", "none", &[]));
    assert_eq!(pair.raw_replies(), [60, msg::USERAUTH_FAILURE]);
    let mut response = vec![61];
    response.put_u32(1);
    response.put_string(b"pw");
    pair.raw_send(&response);
    assert_eq!(unexpected(&pair.server_seen), 61);
}

#[test]
fn dropped_auth_request_is_rejected() {
    let mut pair = default_pair(326);
    pair.client
        .auth()
        .password("alice", password("pw"))
        .unwrap();
    pair.drive();
    drop(pair.next_request());
    pair.drive();
    assert!(matches!(pair.client_result(), Some(Err(_))));
    assert_eq!(pair.server.auth().failures(), 1);
}

#[test]
fn dropped_prompt_cancels_the_attempt() {
    let mut pair = default_pair(327);
    pair.client
        .auth()
        .keyboard_interactive("alice", "")
        .unwrap();
    pair.drive();
    let request = pair.next_request();
    let challenge = Challenge {
        prompts: vec![Prompt {
            text: "Password: ".into(),
            echo: false,
        }],
        ..Challenge::default()
    };
    pair.server.auth().challenge(request, challenge).unwrap();
    pair.drive();
    let prompt = take_event!(pair.client_seen.events, Event::KeyboardInteractive);
    drop(prompt);
    pair.drive();
    assert!(matches!(pair.client_result(), Some(Err(_))));
    assert_eq!(pair.server_seen.closed(), None);
    // The connection is usable for another attempt.
    pair.password_round("alice", "pw", true);
    assert_eq!(pair.client_result(), Some(Ok(())));
}

#[test]
fn dropped_sign_request_cancels_the_attempt() {
    let mut pair = default_pair(328);
    let key = user_key(KeyType::Ed25519);
    let credential = PublicKeyCredential::external(crate::auth::Identity::Key(key.public_key()));
    pair.client.auth().publickey("alice", credential).unwrap();
    pair.drive();
    let query = pair.next_request();
    pair.server.auth().accept(query).unwrap();
    pair.drive();
    let request = take_event!(pair.client_seen.events, Event::SignRequest);
    assert!(request.is_some());
    drop(request);
    pair.drive();
    assert!(matches!(pair.client_result(), Some(Err(_))));
}

#[test]
fn dropped_password_change_cancels_the_attempt() {
    let mut pair = default_pair(329);
    pair.client
        .auth()
        .password("alice", password("old"))
        .unwrap();
    pair.drive();
    let request = pair.next_request();
    pair.server
        .auth()
        .password_change_required(request, "expired")
        .unwrap();
    pair.drive();
    let change = take_event!(pair.client_seen.events, Event::PasswordChange);
    drop(change);
    pair.drive();
    assert!(matches!(pair.client_result(), Some(Err(_))));
}

#[test]
fn passwords_and_responses_never_appear_in_debug_output() {
    let mut pair = default_pair(330);
    pair.client
        .auth()
        .password("alice", password("s3cr3t-pw"))
        .unwrap();
    pair.drive();
    let request = pair.next_request();
    let printed = format!("{request:?} {:?}", pair.client.auth());
    let printed = format!("{printed} {:?}", Event::AuthRequest(Box::new(request)));
    assert!(!printed.contains("s3cr3t-pw"), "{printed}");
    assert!(printed.contains("redacted"));

    let mut pair = default_pair(331);
    raw_client(&mut pair);
    let mut start = Vec::new();
    start.put_string(b"");
    start.put_string(b"");
    pair.raw_send(&raw_request(
        "alice",
        "ssh-connection",
        "keyboard-interactive",
        &start,
    ));
    let request = pair.next_request();
    let challenge = Challenge {
        prompts: vec![Prompt {
            text: "Code: ".into(),
            echo: false,
        }],
        ..Challenge::default()
    };
    pair.server.auth().challenge(request, challenge).unwrap();
    pair.drive();
    let mut response = vec![61];
    response.put_u32(1);
    response.put_string(b"otp-424242");
    pair.raw_send(&response);
    let answers = pair.next_request();
    let printed = format!("{answers:?}");
    assert!(!printed.contains("otp-424242"), "{printed}");
}
