//! OpenSSH's `ssh -vvv` against our server engine, one scenario per algorithm.
//!
//! Each scenario starts a listener on `127.0.0.1:0` whose thread accepts one
//! connection and drives a `ServerConnection` over it with the blocking driver. Our
//! server has every host key type and offers every algorithm; `ssh` is restricted to
//! the algorithm under test (`-o KexAlgorithms=`, `-c`, `-m`, `-o HostKeyAlgorithms=`,
//! `-o Compression=yes`) and checks our host key strictly against a known_hosts file.
//! These rows stop at the transport: once our server has accepted `ssh-userauth` it
//! disconnects politely (the rekey rows of `rekey_server` go on to log in). The verdict combines ssh's debug log (the negotiated
//! algorithm, `SSH2_MSG_SERVICE_ACCEPT received`, our DISCONNECT) with what our
//! server engine reports.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use base64ct::{Base64, Encoding};
use sansh_conformance::blocking::Driver;
use sansh_conformance::openssh::{ClientOutput, SshClient};
use sansh_core::cipher::{CipherAlgorithm, CompressionAlgorithm, MacAlgorithm};
use sansh_core::crypto::SystemRandom;
use sansh_core::kex::KexAlgorithm;
use sansh_core::keys::{KeyType, PrivateKey, SignatureAlgorithm};
use sansh_core::transport::Negotiated;
use sansh_core::{DisconnectReason, Event, ServerConfig, ServerConnection};

use crate::matrix::{self, Direction, Row};

/// Upper bound for one scenario, on both the ssh and the server side.
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(60);

/// ssh runs at once.
const WORKERS: usize = 3;

/// Printed under the matrix: what is not in it and why.
pub(crate) const NOTES: [&str; 1] = [
    "host-key ssh-rsa ssh->server: not a row: our server cannot sign SHA-1 RSA \
     (verify only, as specified)",
];

/// What our server engine must report after the scenario.
#[derive(Debug, Clone, Copy)]
enum Expect {
    Kex(KexAlgorithm),
    Cipher(CipherAlgorithm),
    Mac(MacAlgorithm),
    HostKey(SignatureAlgorithm),
    Compression(CompressionAlgorithm),
    StrictKex,
}

/// One row of the matrix to produce.
#[derive(Debug)]
struct Case {
    family: &'static str,
    name: &'static str,
    /// Raw ssh arguments (`-c`, `-m`) and `-o` options.
    args: Vec<String>,
    options: Vec<String>,
    /// Each inner list: substrings that must all appear on one line of ssh's log.
    log_lines: Vec<Vec<String>>,
    expect: Expect,
}

/// Our server: one host key of every type, every algorithm offered.
struct Server {
    config: Arc<ServerConfig>,
}

impl Server {
    fn new() -> Self {
        let mut rng = SystemRandom;
        let host_keys = KeyType::ALL
            .iter()
            .map(|&key_type| {
                PrivateKey::generate(key_type, None, &mut rng)
                    .unwrap_or_else(|e| panic!("generate a {key_type} host key: {e}"))
            })
            .collect();
        let mut config = ServerConfig {
            host_keys,
            ..ServerConfig::default()
        };
        let algorithms = &mut config.transport.algorithms;
        algorithms.kex = KexAlgorithm::ALL.to_vec();
        algorithms.host_key = SignatureAlgorithm::ALL
            .iter()
            .copied()
            .filter(|a| a.can_sign())
            .collect();
        algorithms.compression = CompressionAlgorithm::DEFAULT.to_vec();
        Self {
            config: Arc::new(config),
        }
    }

    fn key(&self, alg: SignatureAlgorithm) -> Option<&PrivateKey> {
        self.config
            .host_keys
            .iter()
            .find(|k| k.key_type() == alg.key_type())
    }

    /// known_hosts lines trusting every host key of ours at `addr`.
    fn known_hosts(&self, addr: SocketAddr) -> String {
        self.config
            .host_keys
            .iter()
            .map(|key| {
                let public = key.public_key();
                format!(
                    "[{}]:{} {} {}\n",
                    addr.ip(),
                    addr.port(),
                    public.key_type().name(),
                    Base64::encode_string(&public.to_blob())
                )
            })
            .collect()
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|&s| s.to_owned()).collect()
}

fn cases(server: &Server) -> Vec<Case> {
    let mut cases = Vec::new();
    for &kex in KexAlgorithm::ALL {
        cases.push(Case {
            family: "kex",
            name: kex.name(),
            args: Vec::new(),
            options: vec![format!("KexAlgorithms={kex}")],
            log_lines: vec![vec![format!("kex: algorithm: {kex}")]],
            expect: Expect::Kex(kex),
        });
    }
    for &cipher in CipherAlgorithm::DEFAULT {
        cases.push(Case {
            family: "cipher",
            name: cipher.name(),
            args: strings(&["-c", cipher.name()]),
            options: Vec::new(),
            log_lines: ["server->client", "client->server"]
                .iter()
                .map(|dir| vec![format!("kex: {dir} cipher: {cipher} MAC: ")])
                .collect(),
            expect: Expect::Cipher(cipher),
        });
    }
    for &mac in MacAlgorithm::DEFAULT {
        let cipher = CipherAlgorithm::Aes128Ctr;
        cases.push(Case {
            family: "mac",
            name: mac.name(),
            args: strings(&["-c", cipher.name(), "-m", mac.name()]),
            options: Vec::new(),
            log_lines: ["server->client", "client->server"]
                .iter()
                .map(|dir| {
                    vec![format!(
                        "kex: {dir} cipher: {cipher} MAC: {mac} compression: "
                    )]
                })
                .collect(),
            expect: Expect::Mac(mac),
        });
    }
    for &alg in SignatureAlgorithm::ALL.iter().filter(|a| a.can_sign()) {
        let Some(key) = server.key(alg) else {
            panic!("our server has no key for {alg}");
        };
        let public = key.public_key();
        cases.push(Case {
            family: "host-key",
            name: alg.name(),
            args: Vec::new(),
            options: vec![format!("HostKeyAlgorithms={alg}")],
            log_lines: vec![
                vec![format!("kex: host key algorithm: {alg}")],
                vec![format!(
                    "Server host key: {} {}",
                    public.key_type().name(),
                    public.fingerprint_sha256()
                )],
            ],
            expect: Expect::HostKey(alg),
        });
    }
    let zlib = CompressionAlgorithm::ZlibOpenssh;
    cases.push(Case {
        family: "compression",
        name: zlib.name(),
        args: Vec::new(),
        options: strings(&["Compression=yes"]),
        log_lines: ["server->client", "client->server"]
            .iter()
            .map(|dir| {
                vec![
                    format!("kex: {dir} cipher: "),
                    format!("compression: {zlib}"),
                ]
            })
            .collect(),
        expect: Expect::Compression(zlib),
    });
    cases.push(Case {
        family: "strict-kex",
        name: "kex-strict-s-v00@openssh.com",
        args: Vec::new(),
        options: Vec::new(),
        log_lines: vec![vec!["will use strict KEX ordering".to_owned()]],
        expect: Expect::StrictKex,
    });
    cases
}

/// Runs every case and returns the matrix rows.
pub(crate) fn rows() -> Vec<Row> {
    let server = Server::new();
    matrix::run_parallel(cases(&server), WORKERS, |case| run_case(&server, case))
        .into_iter()
        .map(|(case, result)| Row::new(case.family, case.name, Direction::SshToServer, result))
        .collect()
}

/// What our server engine saw of one connection.
#[derive(Debug)]
struct ServerView {
    service: String,
    negotiated: Option<Negotiated>,
    strict_kex: bool,
}

fn run_case(server: &Server, case: &Case) -> Result<(), String> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(|e| format!("bind a listener on 127.0.0.1: {e}"))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("read the listener's address: {e}"))?;
    let accepted = Arc::new(AtomicBool::new(false));
    let serving = {
        let config = Arc::clone(&server.config);
        let accepted = Arc::clone(&accepted);
        thread::spawn(move || serve_one(&listener, config, &accepted))
    };

    let mut ssh = SshClient::new(addr)
        .known_hosts(server.known_hosts(addr))
        .timeout(SCENARIO_TIMEOUT);
    for option in &case.options {
        ssh = ssh.option(option);
    }
    for arg in &case.args {
        ssh = ssh.arg(arg);
    }
    let ssh_result = ssh.run();
    if !accepted.load(Ordering::SeqCst) {
        // ssh never connected: a connection of our own releases the blocked accept.
        let _ = TcpStream::connect(addr);
    }
    let view = serving
        .join()
        .unwrap_or_else(|_| Err("the server thread panicked".into()));
    let out = ssh_result.map_err(|e| format!("running ssh: {e}"))?;
    check(case, &out, view).map_err(|why| {
        format!(
            "{why}\n--- ssh -vvv log (tail) ---\n{}",
            matrix::tail(&out.stderr, 40)
        )
    })
}

/// Accepts one connection and serves it until the client has `ssh-userauth`.
fn serve_one(
    listener: &TcpListener,
    config: Arc<ServerConfig>,
    accepted: &AtomicBool,
) -> Result<ServerView, String> {
    let (stream, _) = listener
        .accept()
        .map_err(|e| format!("accept a connection: {e}"))?;
    accepted.store(true, Ordering::SeqCst);
    let engine =
        ServerConnection::new(config, Instant::now()).map_err(|e| format!("server config: {e}"))?;
    let mut driver = Driver::new(engine, stream, SCENARIO_TIMEOUT)
        .map_err(|e| format!("set up the socket: {e}"))?;
    let service = driver
        .run(|server, event| match event {
            Event::ServiceAccepted(name) => {
                server.disconnect(
                    DisconnectReason::ByApplication,
                    "sansh interop: no user authentication yet",
                );
                ControlFlow::Break(name)
            }
            _ => ControlFlow::Continue(()),
        })
        .map_err(|e| format!("server, before accepting a service: {e}"))?;
    let view = ServerView {
        service,
        negotiated: driver.engine().algorithms().copied(),
        strict_kex: driver.engine().strict_kex(),
    };
    driver
        .close()
        .map_err(|e| format!("server, closing after DISCONNECT: {e}"))?;
    Ok(view)
}

fn check(case: &Case, out: &ClientOutput, view: Result<ServerView, String>) -> Result<(), String> {
    let mut missing: Vec<String> = Vec::new();
    let common = [
        vec!["SSH2_MSG_SERVICE_ACCEPT received".to_owned()],
        vec!["Received disconnect from 127.0.0.1".to_owned()],
    ];
    for parts in case.log_lines.iter().chain(&common) {
        let found = out
            .stderr
            .lines()
            .any(|line| parts.iter().all(|part| line.contains(part.as_str())));
        if !found {
            missing.push(format!("{parts:?}"));
        }
    }
    if !missing.is_empty() {
        return Err(format!(
            "ssh's log has no line with {}; server side: {view:?}",
            missing.join(", ")
        ));
    }
    let view = view?;
    if view.service != "ssh-userauth" {
        return Err(format!("server accepted {:?}", view.service));
    }
    if !view.strict_kex {
        return Err("strict kex is off on our server against OpenSSH 10".into());
    }
    let n = view
        .negotiated
        .ok_or("server reports no negotiated algorithms")?;
    let ok = match case.expect {
        Expect::Kex(kex) => n.kex == kex,
        Expect::Cipher(cipher) => n.cipher_c2s == cipher && n.cipher_s2c == cipher,
        Expect::Mac(mac) => n.mac_c2s == Some(mac) && n.mac_s2c == Some(mac),
        Expect::HostKey(alg) => n.host_key == alg,
        Expect::Compression(c) => n.compression_c2s == c && n.compression_s2c == c,
        Expect::StrictKex => true,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "server expected {:?}, negotiated {n:?}",
            case.expect
        ))
    }
}
