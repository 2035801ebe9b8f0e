//! Authentication through both drivers: the client's [`Login`] loop and handler
//! prompts, the server handler's verdicts, and that a slow verdict stalls nothing.

use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};

use zeroize::Zeroizing;

use super::*;
use crate::auth::{AuthMethod, Challenge, KeyboardInteractivePrompt, Prompt};
use crate::crypto::SeededRandom;
use crate::driver::{AuthDecision, AuthFailed, Login};
use crate::keys::{Certificate, KeyType, OpenSshEncryption, PrivateKey};

/// The client's side: trusts the host key, answers as configured (and declines
/// keyboard-interactive, the default).
#[derive(Clone, Default)]
struct Person {
    password: Option<&'static str>,
    new_password: Option<&'static str>,
    passphrase: Option<&'static str>,
    asked: Arc<Mutex<Vec<String>>>,
}

impl Person {
    fn note(&self, what: String) {
        self.asked.lock().unwrap().push(what);
    }
}

impl ClientHandler for Person {
    async fn check_server_key(&self, _key: &PublicKey) -> bool {
        true
    }

    async fn password(&self, user: &str) -> Option<Zeroizing<String>> {
        self.note(format!("password for {user}"));
        self.password.map(|p| Zeroizing::new(p.into()))
    }

    async fn change_password(&self, _user: &str, prompt: &str) -> Option<Zeroizing<String>> {
        self.note(format!("change: {prompt}"));
        self.new_password.map(|p| Zeroizing::new(p.into()))
    }

    async fn key_passphrase(&self, _path: &std::path::Path) -> Option<Zeroizing<String>> {
        self.note("passphrase".into());
        self.passphrase.map(|p| Zeroizing::new(p.into()))
    }

    fn banner(&self, text: &str) {
        self.note(format!("banner: {text}"));
    }
}

/// The server's side: alice with a password (expired when `expired`), a key, and a
/// two-round keyboard-interactive exchange; the password verdict waits for `gate`
/// when there is one.
#[derive(Clone, Default)]
struct Accounts {
    key: Option<PublicKey>,
    expired: bool,
    /// The key is only the first factor; a password must follow.
    then_password: bool,
    gate: Option<Gate>,
}

impl ServerHandler for Accounts {
    async fn auth_password(&self, user: &str, password: &str) -> AuthDecision {
        if let Some(gate) = &self.gate {
            gate.wait().await;
        }
        match (user, password) {
            ("alice", "old") if self.expired => AuthDecision::ChangePassword("expired".into()),
            ("alice", "secret") => AuthDecision::Accept,
            _ => AuthDecision::Reject,
        }
    }

    async fn auth_password_change(&self, user: &str, old: &str, new: &str) -> AuthDecision {
        if (user, old, new) == ("alice", "old", "secret") {
            AuthDecision::Accept
        } else {
            AuthDecision::Reject
        }
    }

    async fn auth_publickey(
        &self,
        user: &str,
        key: &PublicKey,
        _certificate: Option<&Certificate>,
    ) -> AuthDecision {
        if user == "alice" && self.key.as_ref() == Some(key) && self.then_password {
            AuthDecision::PartialSuccess(vec![AuthMethod::Password])
        } else if user == "alice" && self.key.as_ref() == Some(key) {
            AuthDecision::Accept
        } else {
            AuthDecision::Reject
        }
    }

    async fn auth_keyboard_interactive(
        &self,
        _user: &str,
        responses: Option<&[Zeroizing<String>]>,
    ) -> AuthDecision {
        let round = |text: &str| {
            AuthDecision::Challenge(Challenge {
                prompts: vec![Prompt {
                    text: text.into(),
                    echo: false,
                }],
                ..Challenge::default()
            })
        };
        match responses.map(|r| r.iter().map(|s| s.as_str()).collect::<Vec<_>>()) {
            None => round("Password: "),
            Some(r) if r == ["secret"] => round("Code: "),
            Some(r) if r == ["123456"] => AuthDecision::Accept,
            Some(_) => AuthDecision::Reject,
        }
    }
}

/// A verdict that waits until the test opens the gate.
#[derive(Clone, Default)]
struct Gate(Arc<Mutex<(bool, Option<Waker>)>>);

impl Gate {
    fn open(&self) {
        let mut state = self.0.lock().unwrap();
        state.0 = true;
        if let Some(waker) = state.1.take() {
            waker.wake();
        }
    }

    async fn wait(&self) {
        std::future::poll_fn(|cx| {
            let mut state = self.0.lock().unwrap();
            if state.0 {
                Poll::Ready(())
            } else {
                state.1 = Some(cx.waker().clone());
                Poll::Pending
            }
        })
        .await
    }
}

/// A client and a server driver after the key exchange, with these handlers.
async fn pair(
    rt: &TestRuntime,
    person: Person,
    accounts: Accounts,
) -> (Connection, Connection<ServerConnection>) {
    let engine = server_engine(TransportConfig::default());
    pair_with(rt, person, accounts, engine).await
}

/// [`pair`] with a server engine made by the test.
async fn pair_with(
    rt: &TestRuntime,
    person: Person,
    accounts: Accounts,
    engine: ServerConnection,
) -> (Connection, Connection<ServerConnection>) {
    let (client_end, server_end) = duplex(64 * 1024);
    let server = spawn_join(rt, accept_engine(rt.handle(), server_end, engine, accounts));
    let client = connect_engine(
        rt.handle(),
        client_end,
        client_engine(ClientConfig::default()),
        person,
    )
    .await
    .unwrap();
    (client, server.join().await.unwrap())
}

#[test]
fn password_from_the_client_handler_is_accepted_by_the_server_handler() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let person = Person {
            password: Some("secret"),
            ..Person::default()
        };
        let (client, server) = pair(&rt, person.clone(), Accounts::default()).await;
        let login = Login::new("alice").methods(&[AuthMethod::Password]);
        let method = client.authenticate(&login, &person).await.unwrap();
        assert_eq!(method, AuthMethod::Password);
        let user = server.authenticated().await.unwrap();
        assert_eq!((user.user.as_str(), user.methods), ("alice", vec![method]));
    });
}

#[test]
fn a_key_in_memory_is_accepted_by_the_server_handler() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let key = PrivateKey::generate(KeyType::Ed25519, None, &mut SeededRandom::new(7)).unwrap();
        let accounts = Accounts {
            key: Some(key.public_key()),
            ..Accounts::default()
        };
        let person = Person::default();
        let (client, server) = pair(&rt, person.clone(), accounts).await;
        let public = key.public_key();
        let login = Login::new("alice").key(Arc::new(key));
        assert_eq!(
            client.authenticate(&login, &person).await.unwrap(),
            AuthMethod::PublicKey
        );
        let user = server.authenticated().await.unwrap();
        assert_eq!(user.public_key, Some(public));
        assert!(person.asked.lock().unwrap().is_empty(), "nothing was asked");
    });
}

#[test]
fn keyboard_interactive_runs_two_rounds_through_both_handlers() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let both = TwoRounds(Arc::default());
        let (client, server) = pair(&rt, Person::default(), Accounts::default()).await;
        let login = Login::new("alice").methods(&[AuthMethod::KeyboardInteractive]);
        assert_eq!(
            client.authenticate(&login, &both).await.unwrap(),
            AuthMethod::KeyboardInteractive
        );
        assert_eq!(
            *both.0.lock().unwrap(),
            ["prompt Password: ", "prompt Code: "]
        );
        server.authenticated().await.unwrap();
    });
}

/// Answers keyboard-interactive: the password round, then the code round.
struct TwoRounds(Arc<Mutex<Vec<String>>>);

impl ClientHandler for TwoRounds {
    async fn check_server_key(&self, _key: &PublicKey) -> bool {
        true
    }

    async fn keyboard_interactive(
        &self,
        _user: &str,
        prompt: &KeyboardInteractivePrompt,
    ) -> Option<Vec<Zeroizing<String>>> {
        let text = prompt.prompts()[0].text.clone();
        let answer = if text.starts_with("Password") {
            "secret"
        } else {
            "123456"
        };
        self.0.lock().unwrap().push(format!("prompt {text}"));
        Some(vec![Zeroizing::new(answer.into())])
    }
}

#[test]
fn an_expired_password_is_changed_through_both_handlers() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let person = Person {
            password: Some("old"),
            new_password: Some("secret"),
            ..Person::default()
        };
        let accounts = Accounts {
            expired: true,
            ..Accounts::default()
        };
        let (client, server) = pair(&rt, person.clone(), accounts).await;
        let login = Login::new("alice").methods(&[AuthMethod::Password]);
        assert_eq!(
            client.authenticate(&login, &person).await.unwrap(),
            AuthMethod::Password
        );
        assert_eq!(
            *person.asked.lock().unwrap(),
            ["password for alice", "change: expired"]
        );
        server.authenticated().await.unwrap();
    });
}

#[test]
fn default_handlers_decline_and_the_error_names_the_offered_methods() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let person = Person::default();
        let (client, server) = pair(&rt, person.clone(), Accounts::default()).await;
        // No agent can be reached on this runtime: it only means fewer keys.
        let login = Login::new("alice").agent("/nonexistent/agent.sock");
        match client.authenticate(&login, &person).await {
            Err(AuthFailed::Denied { offered, tried }) => {
                assert_eq!(offered, ["publickey", "password", "keyboard-interactive"]);
                // Keyboard-interactive was started and declined at its prompt; the
                // password was asked for and declined before any attempt.
                assert_eq!(tried, [AuthMethod::None, AuthMethod::KeyboardInteractive]);
            }
            other => panic!("expected denied, got {other:?}"),
        }
        assert_eq!(*person.asked.lock().unwrap(), ["password for alice"]);
        assert!(server.authenticated_user().is_none());
    });
}

#[test]
fn a_slow_server_verdict_lets_the_connection_rekey_meanwhile() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let gate = Gate::default();
        let person = Person {
            password: Some("secret"),
            ..Person::default()
        };
        let accounts = Accounts {
            gate: Some(gate.clone()),
            ..Accounts::default()
        };
        let (client, server) = pair(&rt, person.clone(), accounts).await;
        let login = Login::new("alice").methods(&[AuthMethod::Password]);
        let attempt = {
            let client = client.clone();
            let person = person.clone();
            spawn_join(&rt, async move {
                client
                    .authenticate(&login, &person)
                    .await
                    .map_err(|e| e.to_string())
            })
        };
        until(|| !person.asked.lock().unwrap().is_empty()).await;
        client.rekey().await.unwrap();
        until(|| server.key_exchanges() == 2).await;
        assert!(!attempt.is_done(), "the verdict is still out");
        gate.open();
        assert_eq!(attempt.join().await, Ok(AuthMethod::Password));
    });
}

#[test]
fn an_encrypted_key_file_is_decrypted_with_the_passphrase_the_handler_gives() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let mut rng = SeededRandom::new(9);
        let key = PrivateKey::generate(KeyType::Ed25519, None, &mut rng).unwrap();
        let text = key
            .to_openssh(Some(&OpenSshEncryption::new(b"pass")), &mut rng)
            .unwrap();
        let dir = std::env::temp_dir().join(format!("sansh-driver-auth-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("id_encrypted");
        std::fs::write(&path, text.as_bytes()).unwrap();
        let person = Person {
            passphrase: Some("pass"),
            ..Person::default()
        };
        let accounts = Accounts {
            key: Some(key.public_key()),
            ..Accounts::default()
        };
        let (client, _server) = pair(&rt, person.clone(), accounts).await;
        let login = Login::new("alice")
            .default_identities_in(&dir) // none of them exist: skipped
            .identity_file(&path);
        let method = client.authenticate(&login, &person).await;
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(method.unwrap(), AuthMethod::PublicKey);
        assert_eq!(*person.asked.lock().unwrap(), ["passphrase"]);
    });
}

#[test]
fn partial_success_goes_on_to_the_method_the_server_names_next() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let key = PrivateKey::generate(KeyType::Ed25519, None, &mut SeededRandom::new(8)).unwrap();
        let accounts = Accounts {
            key: Some(key.public_key()),
            then_password: true,
            ..Accounts::default()
        };
        let person = Person {
            password: Some("secret"),
            ..Person::default()
        };
        let (client, server) = pair(&rt, person.clone(), accounts).await;
        let login = Login::new("alice").key(Arc::new(key));
        assert_eq!(
            client.authenticate(&login, &person).await.unwrap(),
            AuthMethod::Password
        );
        let user = server.authenticated().await.unwrap();
        assert_eq!(user.methods, [AuthMethod::PublicKey, AuthMethod::Password]);
    });
}

#[test]
fn the_server_banner_reaches_the_client_handler_before_the_login() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let mut config = crate::tests::ed25519_server_config();
        config.auth.banner = Some("authorised users only".into());
        config.auth.login_grace_time = None;
        let engine =
            ServerConnection::with_rng(Arc::new(config), Box::new(SeededRandom::new(2)), epoch())
                .unwrap();
        let person = Person {
            password: Some("secret"),
            ..Person::default()
        };
        let (client, _server) = pair_with(&rt, person.clone(), Accounts::default(), engine).await;
        let login = Login::new("alice").methods(&[AuthMethod::Password]);
        client.authenticate(&login, &person).await.unwrap();
        assert_eq!(
            *person.asked.lock().unwrap(),
            ["banner: authorised users only", "password for alice"]
        );
    });
}
