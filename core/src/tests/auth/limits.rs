//! Limits and timers: MaxAuthTries, login grace time, failure delay, method chains,
//! and requests that wait their turn.

use std::time::Duration;

use super::*;
use crate::auth::{AuthMethod, MethodRequest, parse_method_chains};
use crate::error::{ConnectionError, DisconnectReason, TimerKind};
use crate::wire::msg;

fn limited_pair(max_auth_tries: u32, seed: u64) -> Pair {
    let mut config = ed25519_server_config();
    config.auth.max_auth_tries = max_auth_tries;
    auth_pair(config, seed)
}

#[test]
fn reaching_max_auth_tries_disconnects() {
    let mut pair = limited_pair(3, 200);
    pair.password_round("alice", "a", false);
    pair.password_round("alice", "b", false);
    assert_eq!(pair.server.auth().failures(), 2);
    pair.password_round("alice", "c", false);
    assert_eq!(
        pair.server_seen.closed(),
        Some(&ConnectionError::TooManyAuthenticationFailures)
    );
    match pair.client_seen.closed() {
        Some(ConnectionError::PeerDisconnected {
            reason,
            description,
        }) => {
            assert_eq!(*reason, DisconnectReason::NoMoreAuthMethodsAvailable);
            assert!(description.contains("too many authentication failures"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn default_max_auth_tries_is_six() {
    let mut pair = default_pair(201);
    for i in 0..5 {
        pair.password_round("alice", &format!("wrong{i}"), false);
    }
    assert_eq!(pair.server_seen.closed(), None);
    pair.password_round("alice", "wrong5", false);
    assert_eq!(
        pair.server_seen.closed(),
        Some(&ConnectionError::TooManyAuthenticationFailures)
    );
}

#[test]
fn first_none_request_is_not_counted_but_later_ones_are() {
    let mut pair = limited_pair(6, 202);
    pair.client.auth().none("alice").unwrap();
    pair.drive();
    assert_eq!(pair.server.auth().failures(), 0);
    pair.client.auth().none("alice").unwrap();
    pair.drive();
    assert_eq!(pair.server.auth().failures(), 1);
}

#[test]
fn login_grace_time_disconnects_an_unauthenticated_client() {
    let mut pair = default_pair(203);
    let start = pair.now;
    pair.client.auth().none("alice").unwrap();
    pair.drive();
    // Rekeying is an hour away; the grace time (120 s) comes first.
    let due = pair.advance_to_next_timeout().expect("a timer");
    assert_eq!(due - start, Duration::from_secs(120));
    pair.drive();
    assert_eq!(
        pair.server_seen.closed(),
        Some(&ConnectionError::TimedOut(TimerKind::LoginGrace))
    );
    assert!(matches!(
        pair.client_seen.closed(),
        Some(ConnectionError::PeerDisconnected { .. })
    ));
}

#[test]
fn login_grace_timer_stops_on_success() {
    let mut pair = default_pair(204);
    pair.password_round("alice", "pw", true);
    assert!(pair.server.is_authenticated());
    pair.advance(Duration::from_secs(121));
    pair.drive();
    assert_eq!(pair.server_seen.closed(), None);
}

#[test]
fn login_grace_time_can_be_switched_off() {
    let mut config = ed25519_server_config();
    config.auth.login_grace_time = None;
    let mut pair = auth_pair(config, 205);
    pair.advance(Duration::from_secs(3000));
    pair.drive();
    assert_eq!(pair.server_seen.closed(), None);
}

fn delayed_pair(delay: Duration, seed: u64) -> Pair {
    let mut config = ed25519_server_config();
    config.auth.failure_delay = delay;
    auth_pair(config, seed)
}

#[test]
fn failure_is_held_back_until_the_delay_timer_fires() {
    let mut pair = delayed_pair(Duration::from_secs(2), 206);
    let asked = pair.now;
    pair.password_round("alice", "wrong", false);
    assert!(pair.client_result().is_none(), "FAILURE held back");
    assert_eq!(
        pair.server.poll_timeout(),
        Some(asked + Duration::from_secs(2))
    );
    pair.advance_to_next_timeout();
    pair.drive();
    assert!(matches!(pair.client_result(), Some(Err(_))));
}

#[test]
fn failure_delay_counts_from_the_request_not_the_answer() {
    let mut pair = delayed_pair(Duration::from_secs(2), 207);
    pair.client.auth().password("alice", password("x")).unwrap();
    pair.drive();
    let request = pair.next_request();
    // The application takes longer than the delay to decide.
    pair.advance(Duration::from_secs(3));
    pair.server.auth().reject(request).unwrap();
    pair.drive();
    assert!(matches!(pair.client_result(), Some(Err(_))));
}

#[test]
fn failure_delay_does_not_apply_to_a_first_none_request() {
    let mut pair = delayed_pair(Duration::from_secs(2), 208);
    pair.client.auth().none("alice").unwrap();
    pair.drive();
    assert!(matches!(pair.client_result(), Some(Err(_))));
}

#[test]
fn success_is_not_delayed() {
    let mut pair = delayed_pair(Duration::from_secs(2), 209);
    pair.password_round("alice", "pw", true);
    assert_eq!(pair.client_result(), Some(Ok(())));
}

#[test]
fn pipelined_requests_are_answered_in_order_one_at_a_time() {
    let mut pair = delayed_pair(Duration::from_secs(1), 210);
    raw_client(&mut pair);
    for secret in ["one", "two"] {
        pair.client
            .transport_mut()
            .send_upper(&raw_password_request("alice", secret));
    }
    pair.drive();
    let first = pair.next_request();
    assert!(!pair.has_request(), "the second request waits");
    assert!(
        matches!(first.method(), MethodRequest::Password { password, .. } if password.as_str() == "one")
    );
    pair.server.auth().reject(first).unwrap();
    pair.drive();
    assert!(!pair.has_request(), "still waiting for the delayed failure");
    pair.advance_to_next_timeout();
    pair.drive();
    let second = pair.next_request();
    assert!(
        matches!(second.method(), MethodRequest::Password { password, .. } if password.as_str() == "two")
    );
    pair.server.auth().accept(second).unwrap();
    pair.drive();
    let replies: Vec<u8> = std::iter::from_fn(|| pair.client.transport_mut().poll_upper())
        .map(|p| p[0])
        .collect();
    // After success the server announces its host keys (hostkeys-00@openssh.com).
    assert_eq!(
        replies,
        [
            msg::USERAUTH_FAILURE,
            msg::USERAUTH_SUCCESS,
            msg::GLOBAL_REQUEST
        ]
    );
}

#[test]
fn flood_of_messages_during_a_decision_disconnects() {
    let mut pair = default_pair(211);
    raw_client(&mut pair);
    for _ in 0..70 {
        pair.client
            .transport_mut()
            .send_upper(&raw_password_request("alice", "x"));
    }
    pair.drive();
    assert!(matches!(
        pair.server_seen.closed(),
        Some(ConnectionError::PeerMisbehaved(
            crate::error::PeerMisbehaved::Auth(_)
        ))
    ));
}

fn chained_pair(spec: &str, seed: u64) -> Pair {
    let mut config = ed25519_server_config();
    config.auth.method_chains = parse_method_chains(spec).unwrap();
    auth_pair(config, seed)
}

#[test]
fn method_chain_needs_every_step_in_order() {
    let mut pair = chained_pair("publickey,password", 212);
    pair.client.auth().none("alice").unwrap();
    pair.drive();
    let (methods, _) = pair.client_result().unwrap().unwrap_err();
    assert_eq!(methods, ["publickey"]);
    let credential = PublicKeyCredential::from_private_key(user_key(KeyType::Ed25519));
    pair.publickey_accepted("alice", credential);
    let (methods, partial) = pair.client_result().unwrap().unwrap_err();
    assert_eq!(methods, ["password"]);
    assert!(partial, "publickey succeeded partially");
    assert!(!pair.server.is_authenticated());
    pair.password_round("alice", "pw", true);
    assert_eq!(pair.client_result(), Some(Ok(())));
    let user = pair.server.authenticated_user().unwrap();
    assert_eq!(user.methods, [AuthMethod::PublicKey, AuthMethod::Password]);
}

#[test]
fn method_out_of_chain_order_is_refused_without_asking() {
    let mut pair = chained_pair("publickey,password", 213);
    pair.client
        .auth()
        .password("alice", password("pw"))
        .unwrap();
    pair.drive();
    assert!(!pair.has_request());
    assert!(matches!(pair.client_result(), Some(Err((_, false)))));
}

#[test]
fn either_chain_may_complete() {
    let mut pair = chained_pair("publickey,password publickey,keyboard-interactive", 214);
    let credential = PublicKeyCredential::from_private_key(user_key(KeyType::EcdsaP256));
    pair.publickey_accepted("alice", credential);
    let (methods, partial) = pair.client_result().unwrap().unwrap_err();
    assert_eq!(methods, ["password", "keyboard-interactive"]);
    assert!(partial);
    pair.client
        .auth()
        .keyboard_interactive("alice", "")
        .unwrap();
    pair.drive();
    let request = pair.next_request();
    pair.server.auth().accept(request).unwrap();
    pair.drive();
    assert_eq!(pair.client_result(), Some(Ok(())));
}

#[test]
fn application_partial_success_offers_the_next_methods() {
    let mut pair = default_pair(215);
    pair.client
        .auth()
        .password("alice", password("pw"))
        .unwrap();
    pair.drive();
    let request = pair.next_request();
    pair.server
        .auth()
        .partial_success(request, &[AuthMethod::KeyboardInteractive])
        .unwrap();
    pair.drive();
    assert_eq!(
        pair.client_result(),
        Some(Err((vec!["keyboard-interactive".to_owned()], true)))
    );
    // Only the method the application named may follow.
    pair.client
        .auth()
        .password("alice", password("pw"))
        .unwrap();
    pair.drive();
    assert!(!pair.has_request());
    assert!(matches!(pair.client_result(), Some(Err(_))));
    pair.client
        .auth()
        .keyboard_interactive("alice", "")
        .unwrap();
    pair.drive();
    let request = pair.next_request();
    pair.server.auth().accept(request).unwrap();
    pair.drive();
    assert_eq!(pair.client_result(), Some(Ok(())));
    let user = pair.server.authenticated_user().unwrap();
    assert_eq!(
        user.methods,
        [AuthMethod::Password, AuthMethod::KeyboardInteractive]
    );
}
