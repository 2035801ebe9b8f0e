//! Our client engine authenticating to OpenSSH's `sshd`.
//!
//! One sshd serves every scenario: `UsePAM yes` with password and
//! keyboard-interactive authentication on, a `TrustedUserCAKeys` file, and an
//! `authorized_keys` file holding every user key. Keys and certificates are made by
//! `ssh-keygen` and read with our OpenSSH key file parsers (encrypted ones too);
//! agent keys are loaded into a real `ssh-agent` with `ssh-add` and used through our
//! agent codec. Each scenario checks our engine's verdict and the line sshd logged
//! for the connection (`Accepted publickey for ... port N`).
//!
//! Public key logins use the account running the tests; password and
//! keyboard-interactive logins use the `sansh-test` account `scripts/install-peers`
//! creates.

use std::net::TcpStream;
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sansh_conformance::blocking::Driver;
use sansh_conformance::openssh::Sshd;
use sansh_conformance::scratch::ScratchDir;
use sansh_core::auth::agent::AgentRequest;
use sansh_core::auth::{AuthError, PublicKeyCredential};
use sansh_core::crypto::SystemRandom;
use sansh_core::keys::{CertType, KeyType, PrivateKey, PublicKey};
use sansh_core::{ClientConfig, ClientConnection, DisconnectReason, Event};
use zeroize::Zeroizing;

use crate::agent::AgentClient;
use crate::matrix::{self, Direction, Row};
use crate::peers::{
    KEY_TYPES, KeyFile, PASSPHRASE, SshAgent, TEST_PASSWORD, TEST_USER, current_user, peer_label,
    require_test_user,
};

const SCENARIO_TIMEOUT: Duration = Duration::from_secs(60);
const LOG_WAIT: Duration = Duration::from_secs(10);
const WORKERS: usize = 3;

/// What a scenario authenticates with.
enum Kind {
    /// A key file, plain or encrypted, signed by the engine.
    KeyFile(KeyFile),
    /// A key file and its certificate from the trusted CA.
    Certificate(KeyFile),
    /// A key `ssh-add` loaded into the agent; the agent signs.
    Agent(KeyFile),
    /// A key we add to the agent through our codec; the agent signs.
    AgentAdded(Arc<PrivateKey>),
    Password {
        correct: bool,
    },
    KeyboardInteractive,
}

struct Case {
    method: &'static str,
    variant: String,
    kind: Kind,
}

/// Everything the scenarios share.
struct Setup {
    sshd: Sshd,
    agent: SshAgent,
    /// Serialises the agent-added scenarios' use of the shared agent.
    agent_lock: Mutex<()>,
    ca: KeyFile,
    user: String,
    _dir: ScratchDir,
}

pub(crate) fn rows() -> Vec<Row> {
    let peer = peer_label();
    let (setup, cases) = match setup() {
        Ok(found) => found,
        Err(why) => {
            return vec![Row {
                method: "setup",
                variant: "sshd, keys, agent".into(),
                direction: Direction::ClientToSshd,
                peer,
                result: Err(why),
            }];
        }
    };
    let results = matrix::run_parallel(&cases, WORKERS, |case| run_case(&setup, case));
    cases
        .iter()
        .zip(results)
        .map(|(case, result)| Row {
            method: case.method,
            variant: case.variant.clone(),
            direction: Direction::ClientToSshd,
            peer: peer.clone(),
            result,
        })
        .collect()
}

fn setup() -> Result<(Setup, Vec<Case>), String> {
    let dir = ScratchDir::new("auth-client").map_err(|e| e.to_string())?;
    let user = current_user()?;
    let mut cases = Vec::new();
    let mut authorized = Vec::new();
    let ca = KeyFile::generate(&dir, "ca", KEY_TYPES[0], None)?;
    let agent = SshAgent::start()?;
    for spec in KEY_TYPES {
        let label = spec.0.name();
        let stem = format!(
            "{}{}",
            spec.1,
            spec.2.map(|b| b.to_string()).unwrap_or_default()
        );
        let plain = KeyFile::generate(&dir, &format!("id_{stem}"), spec, None)?;
        let encrypted = KeyFile::generate(&dir, &format!("enc_{stem}"), spec, Some(PASSPHRASE))?;
        let certified = KeyFile::generate(&dir, &format!("cert_{stem}"), spec, None)?;
        authorized.push(plain.public_line()?);
        authorized.push(encrypted.public_line()?);
        agent.ssh_add(&[plain.path.as_os_str()])?;
        cases.push(Case {
            method: "publickey",
            variant: format!("{label} file"),
            kind: Kind::KeyFile(plain.clone()),
        });
        cases.push(Case {
            method: "publickey",
            variant: format!("{label} encrypted file"),
            kind: Kind::KeyFile(encrypted),
        });
        cases.push(Case {
            method: "publickey",
            variant: format!("{label} certificate"),
            kind: Kind::Certificate(certified),
        });
        cases.push(Case {
            method: "publickey",
            variant: format!("{label} ssh-agent"),
            kind: Kind::Agent(plain),
        });
    }
    let added = Arc::new(
        PrivateKey::generate(KeyType::Ed25519, None, &mut SystemRandom)
            .map_err(|e| e.to_string())?,
    );
    authorized.push(added.public_key().to_openssh("added-through-our-codec"));
    cases.push(Case {
        method: "publickey",
        variant: "ssh-ed25519 added by our codec".into(),
        kind: Kind::AgentAdded(added),
    });
    cases.push(Case {
        method: "password",
        variant: "PAM, correct".into(),
        kind: Kind::Password { correct: true },
    });
    cases.push(Case {
        method: "password",
        variant: "PAM, wrong (failure reported)".into(),
        kind: Kind::Password { correct: false },
    });
    cases.push(Case {
        method: "keyboard-interactive",
        variant: "PAM".into(),
        kind: Kind::KeyboardInteractive,
    });
    let mut builder = Sshd::builder()
        .config("UsePAM yes")
        .config("PasswordAuthentication yes")
        .config("KbdInteractiveAuthentication yes")
        .config(format!(
            "TrustedUserCAKeys {}",
            ca.path.with_extension("pub").display()
        ));
    for line in authorized {
        builder = builder.authorized_key(line);
    }
    let sshd = builder.start().map_err(|e| e.to_string())?;
    let setup = Setup {
        sshd,
        agent,
        agent_lock: Mutex::new(()),
        ca,
        user,
        _dir: dir,
    };
    Ok((setup, cases))
}

fn run_case(setup: &Setup, case: &Case) -> Result<(), String> {
    let user = match case.kind {
        Kind::Password { .. } | Kind::KeyboardInteractive => {
            require_test_user()?;
            TEST_USER.to_owned()
        }
        _ => setup.user.clone(),
    };
    let (port, outcome) = match &case.kind {
        Kind::KeyFile(file) => {
            let key = Arc::new(file.load()?);
            let credential = PublicKeyCredential::from_private_key(key);
            authenticate(setup, |c| c.auth().publickey(&user, credential), ignore)?
        }
        Kind::Certificate(file) => {
            let cert = file.certify(&setup.ca, &setup.user, CertType::User)?;
            let key = Arc::new(file.load()?);
            let credential =
                PublicKeyCredential::with_certificate(cert, key).map_err(|e| e.to_string())?;
            authenticate(setup, |c| c.auth().publickey(&user, credential), ignore)?
        }
        Kind::Agent(file) => agent_login(setup, &user, &file.public_key()?)?,
        Kind::AgentAdded(key) => {
            let _only_one = setup.agent_lock.lock().unwrap_or_else(|e| e.into_inner());
            let mut agent = AgentClient::connect(setup.agent.socket())?;
            agent.request(&AgentRequest::AddIdentity {
                key: key.clone(),
                comment: "added through our codec".into(),
                constraints: Vec::new(),
            })?;
            agent_login(setup, &user, &key.public_key())?
        }
        Kind::Password { correct } => {
            let secret = if *correct {
                TEST_PASSWORD
            } else {
                "not the password"
            };
            let password = Zeroizing::new(secret.to_owned());
            let result = authenticate(setup, |c| c.auth().password(&user, password), ignore)?;
            if !correct {
                return expect_failure(setup, result, &format!("Failed password for {user}"));
            }
            result
        }
        Kind::KeyboardInteractive => authenticate(
            setup,
            |c| c.auth().keyboard_interactive(&user, ""),
            |client, event| {
                if let Event::KeyboardInteractive(round) = event {
                    let answers = round
                        .prompts()
                        .iter()
                        .map(|p| {
                            let answer = if p.text.contains("assword") {
                                TEST_PASSWORD
                            } else {
                                ""
                            };
                            Zeroizing::new(answer.to_owned())
                        })
                        .collect();
                    client
                        .auth()
                        .answer_prompts(round, answers)
                        .map_err(|e| e.to_string())?;
                }
                Ok(())
            },
        )?,
    };
    outcome?;
    let method = match case.kind {
        Kind::Password { .. } => "password",
        Kind::KeyboardInteractive => "keyboard-interactive/pam",
        _ => "publickey",
    };
    let needle = format!("Accepted {method} for {user} from 127.0.0.1 port {port}");
    setup
        .sshd
        .wait_for_log(&needle, LOG_WAIT)
        .map(|_| ())
        .map_err(|_| {
            format!(
                "sshd did not log {needle:?}\n--- sshd log (tail) ---\n{}",
                matrix::tail(&setup.sshd.log(), 30)
            )
        })
}

/// Logs in with a key the agent holds: each SignRequest goes to the agent.
fn agent_login(
    setup: &Setup,
    user: &str,
    key: &PublicKey,
) -> Result<(u16, Result<(), String>), String> {
    let mut agent = AgentClient::connect(setup.agent.socket())?;
    let listed = agent.identities()?;
    let identity = listed
        .iter()
        .find(|i| i.key_blob == key.to_blob())
        .ok_or("the agent does not list the key")?
        .identity()
        .map_err(|e| e.to_string())?;
    let credential = PublicKeyCredential::external(identity);
    authenticate(
        setup,
        |c| c.auth().publickey(user, credential),
        |client, event| {
            if let Event::SignRequest(request) = event {
                let signature = agent.sign(&request.to_agent_request())?;
                client
                    .auth()
                    .answer_signature(request, Some(signature))
                    .map_err(|e| e.to_string())?;
            }
            Ok(())
        },
    )
}

fn expect_failure(
    setup: &Setup,
    (port, outcome): (u16, Result<(), String>),
    logged: &str,
) -> Result<(), String> {
    if outcome.is_ok() {
        return Err("sshd accepted a wrong password".into());
    }
    let needle = format!("{logged} from 127.0.0.1 port {port}");
    setup
        .sshd
        .wait_for_log(&needle, LOG_WAIT)
        .map(|_| ())
        .map_err(|_| format!("sshd did not log {needle:?}"))
}

fn ignore(_: &mut ClientConnection, _: Event) -> Result<(), String> {
    Ok(())
}

/// Connects, starts authentication with `start`, answers decisions with `decide`,
/// and returns our local port with the outcome: `Ok` on USERAUTH_SUCCESS, `Err` with
/// the methods on USERAUTH_FAILURE. Other errors (socket, host key, protocol) are
/// the outer `Err`.
fn authenticate(
    setup: &Setup,
    start: impl FnOnce(&mut ClientConnection) -> Result<(), AuthError>,
    mut decide: impl FnMut(&mut ClientConnection, Event) -> Result<(), String>,
) -> Result<(u16, Result<(), String>), String> {
    let host_keys: Vec<PublicKey> = setup
        .sshd
        .host_keys()
        .iter()
        .filter_map(|k| PublicKey::from_openssh(&k.public).ok().map(|(key, _)| key))
        .collect();
    let stream =
        TcpStream::connect(setup.sshd.addr()).map_err(|e| format!("connect to sshd: {e}"))?;
    let port = stream
        .local_addr()
        .map_err(|e| format!("local address: {e}"))?
        .port();
    let client = ClientConnection::new(ClientConfig::default(), Instant::now());
    let mut driver = Driver::new(client, stream, SCENARIO_TIMEOUT)
        .map_err(|e| format!("set up the socket: {e}"))?;
    start(driver.engine_mut()).map_err(|e| format!("starting the attempt: {e}"))?;
    let outcome = driver
        .run(|client, event| match event {
            Event::HostKey(decision) => {
                if host_keys.contains(decision.key()) {
                    client.accept_host_key(decision);
                } else {
                    client.reject_host_key(decision);
                }
                ControlFlow::Continue(())
            }
            Event::AuthSuccess => ControlFlow::Break(Ok(Ok(()))),
            Event::AuthFailure {
                methods_that_can_continue,
                partial_success,
            } => ControlFlow::Break(Ok(Err(format!(
                "USERAUTH_FAILURE (can continue: {methods_that_can_continue:?}, \
                 partial success: {partial_success})"
            )))),
            Event::Closed(error) => ControlFlow::Break(Err(format!("connection closed: {error}"))),
            other => match decide(client, other) {
                Ok(()) => ControlFlow::Continue(()),
                Err(why) => ControlFlow::Break(Err(why)),
            },
        })
        .map_err(|e| format!("driving the client: {e}"))?;
    if outcome.as_ref().is_ok_and(Result::is_ok) && !driver.engine().is_authenticated() {
        return Err("AuthSuccess reported but the engine is not authenticated".into());
    }
    driver
        .engine_mut()
        .disconnect(DisconnectReason::ByApplication, "sansh auth test done");
    let _ = driver.close();
    outcome.map(|o| (port, o)).map_err(|why| {
        format!(
            "{why}\n--- sshd log (tail) ---\n{}",
            matrix::tail(&setup.sshd.log(), 30)
        )
    })
}
