//! OpenSSH's `ssh -vvv -N` authenticating to our server engine.
//!
//! Each scenario listens on `127.0.0.1:0`, serves one connection with a
//! `ServerConnection` on the blocking driver, and answers its `AuthRequest` events
//! with the scenario's policy. Prompts are answered through `SSH_ASKPASS` with
//! `SSH_ASKPASS_REQUIRE=force` (a small script in a temporary directory). Our server
//! has no session channels yet: once the client is authenticated it disconnects, and
//! a scenario passes when ssh's log shows `Authenticated to ... using "<method>"` and
//! our engine reports the same user and method.

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::ops::ControlFlow;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use sansh_conformance::blocking::Driver;
use sansh_conformance::scratch::ScratchDir;
use sansh_core::auth::{
    AuthMethod, AuthRequest, AuthenticatedUser, Challenge, MethodRequest, Prompt, TimeProvider,
};
use sansh_core::crypto::SystemRandom;
use sansh_core::error::TimerKind;
use sansh_core::keys::{CertType, KeyType, PrivateKey, PublicKey};
use sansh_core::{ConnectionError, DisconnectReason, Event, ServerConfig, ServerConnection};

use crate::matrix::{self, Direction, Row};
use crate::peers::{KEY_TYPES, KeyFile, SshRun, askpass_script, cert_path, peer_label};

const SCENARIO_TIMEOUT: Duration = Duration::from_secs(60);
const WORKERS: usize = 3;
const USER: &str = "alice";
const PASSWORD: &str = "letmein";
const CODE: &str = "424242";
const BANNER: &str = "sansh test banner: authorised use only";

/// The wall clock, for certificate validity (the engine reads none itself).
#[derive(Debug)]
struct SystemClock;

impl TimeProvider for SystemClock {
    #[allow(clippy::disallowed_methods)]
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

enum Kind {
    PublicKey(KeyFile),
    Certificate(KeyFile),
    Password,
    PasswordRetry,
    KeyboardInteractive,
    MaxAuthTries,
    LoginGrace,
    Banner(KeyFile),
}

struct Case {
    method: &'static str,
    variant: String,
    kind: Kind,
}

struct Setup {
    dir: ScratchDir,
    ca: KeyFile,
}

pub(crate) fn rows() -> Vec<Row> {
    let peer = peer_label();
    let (setup, cases) = match setup() {
        Ok(found) => found,
        Err(why) => {
            return vec![Row {
                method: "setup",
                variant: "keys".into(),
                direction: Direction::SshToServer,
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
            direction: Direction::SshToServer,
            peer: peer.clone(),
            result,
        })
        .collect()
}

fn setup() -> Result<(Setup, Vec<Case>), String> {
    let dir = ScratchDir::new("auth-server").map_err(|e| e.to_string())?;
    let ca = KeyFile::generate(&dir, "ca", KEY_TYPES[0], None)?;
    let mut cases = Vec::new();
    for spec in KEY_TYPES {
        let stem = format!(
            "{}{}",
            spec.1,
            spec.2.map(|b| b.to_string()).unwrap_or_default()
        );
        let label = spec.0.name();
        let key = KeyFile::generate(&dir, &format!("id_{stem}"), spec, None)?;
        cases.push(Case {
            method: "publickey",
            variant: format!("{label} key"),
            kind: Kind::PublicKey(key),
        });
        if matches!(spec.0, KeyType::Ed25519 | KeyType::Rsa | KeyType::EcdsaP384) {
            let certified = KeyFile::generate(&dir, &format!("cert_{stem}"), spec, None)?;
            certified.certify(&ca, USER, CertType::User)?;
            cases.push(Case {
                method: "publickey",
                variant: format!("{label} certificate"),
                kind: Kind::Certificate(certified),
            });
        }
    }
    let banner_key = KeyFile::generate(&dir, "id_banner", KEY_TYPES[0], None)?;
    cases.extend([
        Case {
            method: "password",
            variant: "askpass".into(),
            kind: Kind::Password,
        },
        Case {
            method: "password",
            variant: "wrong, then right".into(),
            kind: Kind::PasswordRetry,
        },
        Case {
            method: "keyboard-interactive",
            variant: "askpass, two rounds".into(),
            kind: Kind::KeyboardInteractive,
        },
        Case {
            method: "MaxAuthTries",
            variant: "2, wrong passwords".into(),
            kind: Kind::MaxAuthTries,
        },
        Case {
            method: "LoginGraceTime",
            variant: "1 s, slow askpass".into(),
            kind: Kind::LoginGrace,
        },
        Case {
            method: "banner",
            variant: "before publickey".into(),
            kind: Kind::Banner(banner_key),
        },
    ]);
    Ok((Setup { dir, ca }, cases))
}

/// What our server engine saw of one connection.
#[derive(Debug, Default)]
struct ServerView {
    authenticated: Option<AuthenticatedUser>,
    closed: Option<ConnectionError>,
    failures: u32,
    challenges: usize,
}

fn server_config(setup: &Setup, kind: &Kind) -> Result<ServerConfig, String> {
    let host_key = PrivateKey::generate(KeyType::Ed25519, None, &mut SystemRandom)
        .map_err(|e| e.to_string())?;
    let mut config = ServerConfig {
        host_keys: vec![host_key],
        ..ServerConfig::default()
    };
    match kind {
        Kind::Certificate(_) => {
            config.auth.trusted_user_ca_keys = vec![setup.ca.public_key()?];
            config.auth.time = Some(Arc::new(SystemClock));
        }
        Kind::MaxAuthTries => config.auth.max_auth_tries = 2,
        Kind::LoginGrace => config.auth.login_grace_time = Some(Duration::from_secs(1)),
        Kind::Banner(_) => config.auth.banner = Some(format!("{BANNER}\n")),
        _ => {}
    }
    Ok(config)
}

/// The scenario's policy for one request.
enum Verdict {
    Accept,
    Reject,
    Challenge(Challenge),
}

fn verdict(kind: &Kind, expected_key: Option<&PublicKey>, request: &AuthRequest) -> Verdict {
    let prompt = |text: &str, echo| Prompt {
        text: text.into(),
        echo,
    };
    let accept_if = |ok| if ok { Verdict::Accept } else { Verdict::Reject };
    match (kind, request.method()) {
        (Kind::PublicKey(_) | Kind::Banner(_), MethodRequest::PublicKey { key, .. }) => {
            accept_if(Some(key) == expected_key)
        }
        (
            Kind::Certificate(_),
            MethodRequest::PublicKey {
                certificate_trusted,
                ..
            },
        ) => accept_if(*certificate_trusted),
        (Kind::Password | Kind::PasswordRetry, MethodRequest::Password { password, .. }) => {
            accept_if(password.as_str() == PASSWORD)
        }
        (Kind::KeyboardInteractive, MethodRequest::KeyboardInteractive { .. }) => {
            Verdict::Challenge(Challenge {
                name: "sansh".into(),
                instruction: "Two questions.".into(),
                prompts: vec![prompt("Password: ", false)],
            })
        }
        (Kind::KeyboardInteractive, MethodRequest::KeyboardInteractiveResponses { responses }) => {
            match responses.iter().map(|r| r.as_str()).collect::<Vec<_>>()[..] {
                [PASSWORD] => Verdict::Challenge(Challenge {
                    prompts: vec![prompt("Verification code: ", true)],
                    ..Challenge::default()
                }),
                [CODE] => Verdict::Accept,
                _ => Verdict::Reject,
            }
        }
        _ => Verdict::Reject,
    }
}

fn run_case(setup: &Setup, case: &Case) -> Result<(), String> {
    let config = Arc::new(server_config(setup, &case.kind)?);
    let expected_key = match &case.kind {
        Kind::PublicKey(key) | Kind::Banner(key) => Some(key.public_key()?),
        _ => None,
    };
    let listener =
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| format!("bind a listener: {e}"))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("listener address: {e}"))?;
    let serving = thread::scope(|scope| {
        let server =
            scope.spawn(|| serve_one(&listener, config, &case.kind, expected_key.as_ref()));
        let ssh = ssh_for(setup, case, addr).and_then(|run| run.run());
        if ssh.is_err() {
            // ssh never connected: release the blocked accept.
            let _ = TcpStream::connect(addr);
        }
        let view = server
            .join()
            .unwrap_or_else(|_| Err("the server thread panicked".into()));
        (ssh, view)
    });
    let (ssh, view) = serving;
    let out = ssh?;
    if out.status.is_none() {
        return Err(format!(
            "ssh did not exit within {SCENARIO_TIMEOUT:?}\n--- ssh -vvv log (tail) ---\n{}",
            matrix::tail(&out.log, 40)
        ));
    }
    check(case, &out.log, view).map_err(|why| {
        format!(
            "{why}\n--- ssh -vvv log (tail) ---\n{}",
            matrix::tail(&out.log, 40)
        )
    })
}

fn ssh_for(setup: &Setup, case: &Case, addr: std::net::SocketAddr) -> Result<SshRun, String> {
    let run = SshRun::new(addr, USER);
    let name = case.variant.replace([' ', ','], "_");
    let script = |body: &str| askpass_script(&setup.dir, &format!("askpass_{name}"), body);
    let passwords = |run: SshRun, body: &str| -> Result<SshRun, String> {
        Ok(run
            .askpass(&script(body)?)
            .option("PreferredAuthentications=password")
            .option("NumberOfPasswordPrompts=3"))
    };
    Ok(match &case.kind {
        Kind::PublicKey(key) | Kind::Banner(key) => run
            .option("PreferredAuthentications=publickey")
            .arg("-i")
            .arg(key.path.display().to_string()),
        Kind::Certificate(key) => run
            .option("PreferredAuthentications=publickey")
            .option(format!(
                "CertificateFile={}",
                cert_path(&key.path).display()
            ))
            .arg("-i")
            .arg(key.path.display().to_string()),
        Kind::Password => passwords(run, &format!("echo {PASSWORD}"))?,
        Kind::PasswordRetry => {
            let counter = setup.dir.join(format!("count_{name}"));
            let body = format!(
                "n=$(cat {c} 2>/dev/null || echo 0); echo $((n + 1)) > {c}\n\
                 if [ \"$n\" -eq 0 ]; then echo wrong; else echo {PASSWORD}; fi",
                c = counter.display()
            );
            passwords(run, &body)?
        }
        Kind::MaxAuthTries => passwords(run, "echo wrong")?,
        Kind::LoginGrace => passwords(run, &format!("sleep 4; echo {PASSWORD}"))?,
        Kind::KeyboardInteractive => {
            let body = format!(
                "case \"$1\" in *assword*) echo {PASSWORD};; *erification*) echo {CODE};; \
                 *) echo;; esac"
            );
            run.askpass(&script(&body)?)
                .option("PreferredAuthentications=keyboard-interactive")
        }
    })
}

/// Accepts one connection and serves it until it ends.
fn serve_one(
    listener: &TcpListener,
    config: Arc<ServerConfig>,
    kind: &Kind,
    expected_key: Option<&PublicKey>,
) -> Result<ServerView, String> {
    let (stream, peer) = listener.accept().map_err(|e| format!("accept: {e}"))?;
    let mut engine =
        ServerConnection::new(config, Instant::now()).map_err(|e| format!("server config: {e}"))?;
    engine.auth().set_peer_address(peer.ip());
    let mut driver = Driver::new(engine, stream, SCENARIO_TIMEOUT)
        .map_err(|e| format!("set up the socket: {e}"))?;
    let mut view = ServerView::default();
    let ended = driver.run(|server, event| {
        match event {
            Event::AuthRequest(request) => {
                let request = *request;
                let answered = match verdict(kind, expected_key, &request) {
                    Verdict::Accept => server.auth().accept(request),
                    Verdict::Reject => server.auth().reject(request),
                    Verdict::Challenge(challenge) => {
                        view.challenges += 1;
                        server.auth().challenge(request, challenge)
                    }
                };
                if let Err(e) = answered {
                    return ControlFlow::Break(Err(format!("answering a request: {e}")));
                }
            }
            Event::Authenticated(user) => {
                view.authenticated = Some(*user);
                server.disconnect(
                    DisconnectReason::ByApplication,
                    "sansh auth test: authenticated; no sessions yet",
                );
            }
            Event::Closed(error) => {
                view.failures = server.auth().failures();
                view.closed = Some(error);
                return ControlFlow::Break(Ok(()));
            }
            _ => {}
        }
        ControlFlow::Continue(())
    });
    let _ = driver.close();
    match ended {
        Ok(Ok(())) => Ok(view),
        Ok(Err(why)) => Err(why),
        Err(e) => Err(format!("driving the server: {e}; so far: {view:?}")),
    }
}

fn check(case: &Case, log: &str, view: Result<ServerView, String>) -> Result<(), String> {
    let view = view?;
    let authenticated_as = |method: AuthMethod| -> Result<(), String> {
        let wire = method.name();
        if !log.contains("Authenticated to 127.0.0.1")
            || !log.contains(&format!("using \"{wire}\""))
        {
            return Err(format!(
                "ssh's log does not say it authenticated using {wire}; server: {view:?}"
            ));
        }
        match &view.authenticated {
            Some(user) if user.user == USER && user.methods == [method] => Ok(()),
            other => Err(format!("our server reports {other:?}")),
        }
    };
    match &case.kind {
        Kind::PublicKey(_) | Kind::Certificate(_) => authenticated_as(AuthMethod::PublicKey),
        Kind::Banner(_) => {
            if !log.contains(BANNER) {
                return Err("ssh did not show the banner".into());
            }
            authenticated_as(AuthMethod::PublicKey)
        }
        Kind::Password => authenticated_as(AuthMethod::Password),
        Kind::PasswordRetry => {
            authenticated_as(AuthMethod::Password)?;
            if view.failures == 1 {
                Ok(())
            } else {
                Err(format!(
                    "expected one failed attempt, server counted {}",
                    view.failures
                ))
            }
        }
        Kind::KeyboardInteractive => {
            authenticated_as(AuthMethod::KeyboardInteractive)?;
            if view.challenges == 2 {
                Ok(())
            } else {
                Err(format!("expected two rounds, sent {}", view.challenges))
            }
        }
        Kind::MaxAuthTries => {
            if view.closed != Some(ConnectionError::TooManyAuthenticationFailures) {
                return Err(format!("server ended with {:?}", view.closed));
            }
            if log.contains("too many authentication failures") {
                Ok(())
            } else {
                Err("ssh's log does not show our 'too many authentication failures'".into())
            }
        }
        Kind::LoginGrace => {
            if view.closed != Some(ConnectionError::TimedOut(TimerKind::LoginGrace)) {
                return Err(format!("server ended with {:?}", view.closed));
            }
            if view.authenticated.is_some() {
                return Err("the slow client was authenticated".into());
            }
            if log.contains("login grace time") {
                Ok(())
            } else {
                Err("ssh's log does not show our login grace time disconnect".into())
            }
        }
    }
}
