//! Every method, client against server, through success and failure.

use super::*;
use crate::auth::{
    AuthError, AuthMethod, Challenge, HostbasedCredential, Identity, MethodRequest, Prompt,
};
use crate::keys::SignatureAlgorithm;

#[test]
fn none_is_refused_with_the_offered_methods_without_asking() {
    let mut pair = default_pair(100);
    pair.client.auth().none("alice").unwrap();
    pair.drive();
    assert!(!pair.has_request());
    let (methods, partial) = pair.client_result().unwrap().unwrap_err();
    assert_eq!(methods, ["publickey", "password", "keyboard-interactive"]);
    assert!(!partial);
    assert_eq!(pair.client.auth().methods_that_can_continue(), methods);
}

#[test]
fn none_succeeds_when_offered_and_accepted() {
    let mut config = ed25519_server_config();
    config.auth.methods.push(AuthMethod::None);
    let mut pair = auth_pair(config, 101);
    pair.client.auth().none("guest").unwrap();
    pair.drive();
    let request = pair.next_request();
    assert!(matches!(request.method(), MethodRequest::None));
    pair.server.auth().accept(request).unwrap();
    pair.drive();
    assert_eq!(pair.client_result(), Some(Ok(())));
    assert!(pair.client.is_authenticated());
}

#[test]
fn accepted_password_authenticates_both_sides() {
    let mut pair = default_pair(102);
    pair.client
        .auth()
        .password("alice", password("correct horse"))
        .unwrap();
    pair.drive();
    let request = pair.next_request();
    assert_eq!(request.user(), "alice");
    match request.method() {
        MethodRequest::Password {
            password,
            new_password,
        } => {
            assert_eq!(password.as_str(), "correct horse");
            assert!(new_password.is_none());
        }
        other => panic!("{other:?}"),
    }
    pair.server.auth().accept(request).unwrap();
    pair.drive();
    assert_eq!(pair.client_result(), Some(Ok(())));
    assert!(pair.client.is_authenticated());
    assert!(pair.server.is_authenticated());
    let user = pair.server.authenticated_user().unwrap();
    assert_eq!(user.user, "alice");
    assert_eq!(user.methods, [AuthMethod::Password]);
    assert!(
        pair.server_seen
            .events
            .iter()
            .any(|e| matches!(e, Event::Authenticated(u) if u.user == "alice"))
    );
}

#[test]
fn rejected_password_reports_failure_and_allows_another_try() {
    let mut pair = default_pair(103);
    pair.password_round("alice", "wrong", false);
    let (methods, partial) = pair.client_result().unwrap().unwrap_err();
    assert!(methods.contains(&"password".to_owned()));
    assert!(!partial);
    assert_eq!(pair.server.auth().failures(), 1);
    pair.password_round("alice", "right", true);
    assert_eq!(pair.client_result(), Some(Ok(())));
}

#[test]
fn attempt_can_start_before_the_key_exchange_finishes() {
    let server = Arc::new(ed25519_server_config());
    let mut pair = Pair::seeded(ClientConfig::default(), server, 104);
    pair.client
        .auth()
        .password("alice", password("pw"))
        .unwrap();
    pair.drive();
    let request = pair.next_request();
    pair.server.auth().accept(request).unwrap();
    pair.drive();
    assert_eq!(pair.client_result(), Some(Ok(())));
}

#[test]
fn publickey_queries_then_signs_with_every_key_type() {
    for &key_type in KeyType::ALL {
        let mut pair = default_pair(105);
        let key = user_key(key_type);
        let credential = PublicKeyCredential::from_private_key(key.clone());
        match pair.publickey_accepted("alice", credential) {
            MethodRequest::PublicKey {
                key: signed_key,
                signed,
                certificate,
                ..
            } => {
                assert!(signed);
                assert!(certificate.is_none());
                assert_eq!(signed_key, key.public_key(), "{key_type}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(pair.client_result(), Some(Ok(())), "{key_type}");
        let user = pair.server.authenticated_user().unwrap();
        assert_eq!(user.public_key, Some(key.public_key()));
    }
}

#[test]
fn rsa_key_signs_with_the_first_sha2_algorithm_the_server_lists() {
    let mut pair = default_pair(106);
    let credential = PublicKeyCredential::from_private_key(user_key(KeyType::Rsa));
    let method = pair.publickey_accepted("alice", credential);
    assert!(matches!(
        method,
        MethodRequest::PublicKey {
            algorithm: SignatureAlgorithm::RsaSha2_512,
            ..
        }
    ));
}

#[test]
fn forced_algorithm_overrides_the_choice() {
    let mut pair = default_pair(107);
    let credential = PublicKeyCredential::from_private_key(user_key(KeyType::Rsa))
        .with_algorithm(SignatureAlgorithm::RsaSha2_256);
    let method = pair.publickey_accepted("alice", credential);
    assert!(matches!(
        method,
        MethodRequest::PublicKey {
            algorithm: SignatureAlgorithm::RsaSha2_256,
            ..
        }
    ));
}

#[test]
fn rsa_key_without_an_acceptable_algorithm_fails_locally() {
    let mut config = ClientConfig::default();
    config.auth.publickey_algorithms = vec![SignatureAlgorithm::Ed25519];
    let mut pair = Pair::seeded(config, Arc::new(ed25519_server_config()), 108);
    pair.handshake();
    let credential = PublicKeyCredential::from_private_key(user_key(KeyType::Rsa));
    pair.client.auth().publickey("alice", credential).unwrap();
    pair.drive();
    assert!(!pair.has_request(), "nothing was sent");
    assert!(matches!(pair.client_result(), Some(Err(_))));
}

#[test]
fn sign_directly_skips_the_query() {
    let mut pair = default_pair(109);
    let credential =
        PublicKeyCredential::from_private_key(user_key(KeyType::Ed25519)).sign_directly();
    let method = pair.publickey_accepted("alice", credential);
    assert!(matches!(
        method,
        MethodRequest::PublicKey { signed: true, .. }
    ));
    assert_eq!(pair.client_result(), Some(Ok(())));
}

#[test]
fn rejected_query_fails_the_attempt_without_signing() {
    let mut pair = default_pair(110);
    let credential = PublicKeyCredential::from_private_key(user_key(KeyType::Ed25519));
    pair.client.auth().publickey("alice", credential).unwrap();
    pair.drive();
    let query = pair.next_request();
    pair.server.auth().reject(query).unwrap();
    pair.drive();
    assert!(!pair.has_request());
    assert!(matches!(pair.client_result(), Some(Err(_))));
}

fn take_sign_request(pair: &mut Pair) -> crate::auth::SignRequest {
    take_event!(pair.client_seen.events, Event::SignRequest).expect("a SignRequest")
}

/// Starts an agent-style attempt and accepts its query; returns the sign request.
fn external_attempt(pair: &mut Pair, key: &PrivateKey) -> crate::auth::SignRequest {
    let credential = PublicKeyCredential::external(Identity::Key(key.public_key()));
    pair.client.auth().publickey("alice", credential).unwrap();
    pair.drive();
    let query = pair.next_request();
    pair.server.auth().accept(query).unwrap();
    pair.drive();
    take_sign_request(pair)
}

#[test]
fn external_key_is_signed_by_the_application() {
    let mut pair = default_pair(111);
    let key = user_key(KeyType::Rsa);
    let request = external_attempt(&mut pair, &key);
    assert_eq!(request.algorithm(), SignatureAlgorithm::RsaSha2_512);
    assert_eq!(request.identity().key(), &key.public_key());
    match request.to_agent_request() {
        crate::auth::agent::AgentRequest::Sign { flags, data, .. } => {
            assert_eq!(flags, crate::auth::agent::RSA_SHA2_512);
            assert_eq!(data, request.data());
        }
        other => panic!("{other:?}"),
    }
    let signature = key
        .sign(
            request.algorithm(),
            request.data(),
            &mut SeededRandom::new(1),
        )
        .unwrap();
    pair.client
        .auth()
        .answer_signature(request, Some(signature))
        .unwrap();
    pair.drive();
    let signed = pair.next_request();
    assert!(matches!(
        signed.method(),
        MethodRequest::PublicKey { signed: true, .. }
    ));
    pair.server.auth().accept(signed).unwrap();
    pair.drive();
    assert_eq!(pair.client_result(), Some(Ok(())));
}

#[test]
fn external_signature_that_does_not_verify_is_refused() {
    let mut pair = default_pair(112);
    let key = user_key(KeyType::Ed25519);
    let request = external_attempt(&mut pair, &key);
    let wrong = other_ed25519_key()
        .sign(
            request.algorithm(),
            request.data(),
            &mut SeededRandom::new(1),
        )
        .unwrap();
    let result = pair.client.auth().answer_signature(request, Some(wrong));
    assert!(matches!(result, Err(AuthError::BadSignature(_))));
    pair.drive();
    // The attempt was abandoned with a `none` request; no signed request was sent.
    assert!(!pair.has_request());
    assert!(matches!(pair.client_result(), Some(Err(_))));
}

#[test]
fn declined_sign_request_fails_the_attempt() {
    let mut pair = default_pair(113);
    let request = external_attempt(&mut pair, &user_key(KeyType::EcdsaP256));
    pair.client.auth().answer_signature(request, None).unwrap();
    pair.drive();
    assert!(!pair.has_request());
    assert!(matches!(pair.client_result(), Some(Err(_))));
}

fn take_prompt(pair: &mut Pair) -> crate::auth::KeyboardInteractivePrompt {
    take_event!(pair.client_seen.events, Event::KeyboardInteractive)
        .expect("a KeyboardInteractive event")
}

fn prompt(text: &str, echo: bool) -> Prompt {
    Prompt {
        text: text.into(),
        echo,
    }
}

fn responses(request: &AuthRequest) -> Vec<String> {
    match request.method() {
        MethodRequest::KeyboardInteractiveResponses { responses } => {
            responses.iter().map(|r| r.as_str().to_owned()).collect()
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn keyboard_interactive_runs_several_rounds() {
    let mut pair = default_pair(114);
    pair.client
        .auth()
        .keyboard_interactive("alice", "")
        .unwrap();
    pair.drive();
    let start = pair.next_request();
    assert!(matches!(
        start.method(),
        MethodRequest::KeyboardInteractive { .. }
    ));
    let first = Challenge {
        name: "Login".into(),
        instruction: "Two questions".into(),
        prompts: vec![prompt("Password: ", false), prompt("Colour: ", true)],
    };
    pair.server.auth().challenge(start, first).unwrap();
    pair.drive();
    let round = take_prompt(&mut pair);
    assert_eq!(round.name(), "Login");
    assert_eq!(round.instruction(), "Two questions");
    assert_eq!(
        round.prompts(),
        [prompt("Password: ", false), prompt("Colour: ", true)]
    );
    pair.client
        .auth()
        .answer_prompts(round, vec![password("pw"), password("blue")])
        .unwrap();
    pair.drive();
    let answers = pair.next_request();
    assert_eq!(responses(&answers), ["pw", "blue"]);
    let second = Challenge {
        prompts: vec![prompt("Code: ", true)],
        ..Challenge::default()
    };
    pair.server.auth().challenge(answers, second).unwrap();
    pair.drive();
    let round = take_prompt(&mut pair);
    pair.client
        .auth()
        .answer_prompts(round, vec![password("123456")])
        .unwrap();
    pair.drive();
    let answers = pair.next_request();
    assert_eq!(responses(&answers), ["123456"]);
    pair.server.auth().accept(answers).unwrap();
    pair.drive();
    assert_eq!(pair.client_result(), Some(Ok(())));
    let user = pair.server.authenticated_user().unwrap();
    assert_eq!(user.methods, [AuthMethod::KeyboardInteractive]);
}

#[test]
fn keyboard_interactive_round_without_prompts_is_answered_empty() {
    let mut pair = default_pair(115);
    pair.client
        .auth()
        .keyboard_interactive("alice", "")
        .unwrap();
    pair.drive();
    let start = pair.next_request();
    let notice = Challenge {
        instruction: "Your password expires soon".into(),
        ..Challenge::default()
    };
    pair.server.auth().challenge(start, notice).unwrap();
    pair.drive();
    let round = take_prompt(&mut pair);
    assert!(round.prompts().is_empty());
    pair.client
        .auth()
        .answer_prompts(round, Vec::new())
        .unwrap();
    pair.drive();
    let answers = pair.next_request();
    assert!(responses(&answers).is_empty());
    pair.server.auth().reject(answers).unwrap();
    pair.drive();
    assert!(matches!(pair.client_result(), Some(Err(_))));
}

#[test]
fn wrong_number_of_responses_is_refused_and_abandons_the_attempt() {
    let mut pair = default_pair(116);
    pair.client
        .auth()
        .keyboard_interactive("alice", "")
        .unwrap();
    pair.drive();
    let start = pair.next_request();
    let challenge = Challenge {
        prompts: vec![prompt("Password: ", false)],
        ..Challenge::default()
    };
    pair.server.auth().challenge(start, challenge).unwrap();
    pair.drive();
    let round = take_prompt(&mut pair);
    let result = pair.client.auth().answer_prompts(round, Vec::new());
    assert_eq!(
        result,
        Err(AuthError::WrongResponseCount {
            expected: 1,
            given: 0
        })
    );
    pair.drive();
    assert!(matches!(pair.client_result(), Some(Err(_))));
    assert_eq!(pair.server_seen.closed(), None);
}

#[test]
fn password_change_request_is_answered_with_old_and_new_password() {
    let mut pair = default_pair(117);
    pair.client
        .auth()
        .password("alice", password("old"))
        .unwrap();
    pair.drive();
    let request = pair.next_request();
    pair.server
        .auth()
        .password_change_required(request, "Your password has expired")
        .unwrap();
    pair.drive();
    let change = take_event!(pair.client_seen.events, Event::PasswordChange)
        .expect("a PasswordChange event");
    assert_eq!(change.prompt(), "Your password has expired");
    pair.client
        .auth()
        .change_password(change, password("new"))
        .unwrap();
    pair.drive();
    let request = pair.next_request();
    match request.method() {
        MethodRequest::Password {
            password,
            new_password,
        } => {
            assert_eq!(password.as_str(), "old");
            assert_eq!(new_password.as_deref().map(String::as_str), Some("new"));
        }
        other => panic!("{other:?}"),
    }
    pair.server.auth().accept(request).unwrap();
    pair.drive();
    assert_eq!(pair.client_result(), Some(Ok(())));
}

#[test]
fn password_change_is_refused_for_other_methods() {
    let mut pair = default_pair(118);
    pair.client
        .auth()
        .keyboard_interactive("alice", "")
        .unwrap();
    pair.drive();
    let request = pair.next_request();
    let result = pair.server.auth().password_change_required(request, "no");
    assert!(matches!(result, Err(AuthError::WrongAnswer(_))));
    pair.drive();
    assert!(
        matches!(pair.client_result(), Some(Err(_))),
        "the request was rejected"
    );
}

#[test]
fn hostbased_signature_is_verified_and_accepted() {
    let mut config = ed25519_server_config();
    config.auth.methods = vec![AuthMethod::Hostbased];
    let mut pair = auth_pair(config, 119);
    let host_key = user_key(KeyType::EcdsaP384);
    let credential = HostbasedCredential::new(
        PublicKeyCredential::from_private_key(host_key.clone()),
        "client.example.",
        "localalice",
    );
    pair.client.auth().hostbased("alice", credential).unwrap();
    pair.drive();
    let request = pair.next_request();
    match request.method() {
        MethodRequest::Hostbased {
            key,
            client_host,
            client_user,
            algorithm,
            ..
        } => {
            assert_eq!(key, &host_key.public_key());
            assert_eq!(client_host, "client.example.");
            assert_eq!(client_user, "localalice");
            assert_eq!(*algorithm, SignatureAlgorithm::EcdsaP384);
        }
        other => panic!("{other:?}"),
    }
    pair.server.auth().accept(request).unwrap();
    pair.drive();
    assert_eq!(pair.client_result(), Some(Ok(())));
}

#[test]
fn banner_reaches_the_client_before_the_first_reply() {
    let mut config = ed25519_server_config();
    config.auth.banner = Some("Authorised use only\r\n\x1b[31m".into());
    let mut pair = auth_pair(config, 120);
    pair.client.auth().none("alice").unwrap();
    pair.drive();
    let position = |pred: &dyn Fn(&Event) -> bool| pair.client_seen.events.iter().position(pred);
    let banner = position(&|e| matches!(e, Event::AuthBanner(_))).expect("banner");
    let failure = position(&|e| matches!(e, Event::AuthFailure { .. })).expect("failure");
    assert!(banner < failure);
    match &pair.client_seen.events[banner] {
        Event::AuthBanner(text) => assert_eq!(text, "Authorised use only\n[31m"),
        _ => unreachable!(),
    }
    // Only once per connection.
    pair.client.auth().none("alice").unwrap();
    pair.drive();
    let banners = pair
        .client_seen
        .events
        .iter()
        .filter(|e| matches!(e, Event::AuthBanner(_)))
        .count();
    assert_eq!(banners, 1);
}

#[test]
fn second_attempt_while_one_runs_is_refused() {
    let mut pair = default_pair(121);
    pair.client
        .auth()
        .password("alice", password("pw"))
        .unwrap();
    assert_eq!(pair.client.auth().none("alice"), Err(AuthError::InProgress));
    pair.drive();
    let request = pair.next_request();
    pair.server.auth().accept(request).unwrap();
    pair.drive();
    assert_eq!(
        pair.client.auth().none("alice"),
        Err(AuthError::AlreadyAuthenticated)
    );
}

#[test]
fn delayed_compression_starts_with_real_authentication() {
    use crate::cipher::CompressionAlgorithm;
    let mut client = ClientConfig::default();
    client.transport.algorithms.compression = vec![CompressionAlgorithm::ZlibOpenssh];
    let mut server = ed25519_server_config();
    server.transport.algorithms.compression = vec![CompressionAlgorithm::ZlibOpenssh];
    let mut pair = Pair::seeded(client, Arc::new(server), 122);
    pair.handshake();
    pair.password_round("alice", "pw", false);
    pair.password_round("alice", "pw", true);
    assert_eq!(pair.client_result().map(|r| r.is_err()), Some(true));
    assert_eq!(pair.client_result(), Some(Ok(())));
    pair.client.send_ignore(&[0u8; 4000]);
    pair.server.send_ignore(&[0u8; 4000]);
    pair.drive();
    assert_eq!(pair.client_seen.closed(), None);
    assert_eq!(pair.server_seen.closed(), None);
}
