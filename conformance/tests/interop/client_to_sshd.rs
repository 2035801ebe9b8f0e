//! Our client engine against OpenSSH's `sshd`, one scenario per algorithm.
//!
//! One sshd serves every scenario: its config enables everything we share with it
//! (OpenSSH 10's sshd leaves every finite-field `diffie-hellman-*` method and
//! `ssh-rsa` out of its defaults), and
//! each scenario restricts our `ClientConfig` to the algorithm under test, so
//! negotiation can only land on it. A scenario connects over TCP, checks the host key
//! the server proved against the sshd's own public key file, asks for `ssh-userauth`,
//! and checks what `ClientConnection::algorithms` reports, that strict kex is on, and
//! that sshd's log shows it negotiated the same algorithm.
//!
//! Rekeying is not exercised here but in `rekey_client`: OpenSSH neither starts
//! nor accepts a key re-exchange before user authentication (sshd answers a
//! pre-auth KEXINIT with UNIMPLEMENTED, and its byte and time limits only count once
//! a user is authenticated), so those rows log in and open a session first.

use std::net::TcpStream;
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use base64ct::{Base64, Encoding};
use sansh_conformance::blocking::Driver;
use sansh_conformance::openssh::Sshd;
use sansh_core::cipher::{CipherAlgorithm, CompressionAlgorithm, MacAlgorithm};
use sansh_core::kex::KexAlgorithm;
use sansh_core::keys::{PublicKey, SignatureAlgorithm};
use sansh_core::transport::Negotiated;
use sansh_core::{Algorithms, ClientConfig, ClientConnection, DisconnectReason, Event};

use crate::matrix::{self, Direction, Row};

/// Upper bound for one scenario, slow DH groups in a debug build included.
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(60);

/// How long sshd's log may lag behind the connection (it drains from a pipe).
const LOG_WAIT: Duration = Duration::from_secs(10);

/// Scenarios run at once; sshd forks a process per connection, so a few suffice.
const WORKERS: usize = 3;

/// What a scenario expects `ClientConnection::algorithms` (or the engine) to show.
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
    algorithms: Algorithms,
    expect: Expect,
}

/// Every algorithm we share with sshd, one case each.
fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let with = |change: &dyn Fn(&mut Algorithms)| {
        let mut algorithms = Algorithms::default();
        change(&mut algorithms);
        algorithms
    };
    for &kex in KexAlgorithm::ALL {
        cases.push(Case {
            family: "kex",
            name: kex.name(),
            algorithms: with(&|a| a.kex = vec![kex]),
            expect: Expect::Kex(kex),
        });
    }
    for &cipher in CipherAlgorithm::DEFAULT {
        cases.push(Case {
            family: "cipher",
            name: cipher.name(),
            algorithms: with(&|a| a.ciphers = vec![cipher]),
            expect: Expect::Cipher(cipher),
        });
    }
    for &mac in MacAlgorithm::DEFAULT {
        cases.push(Case {
            family: "mac",
            name: mac.name(),
            // A MAC is only negotiated with a non-AEAD cipher.
            algorithms: with(&|a| {
                a.ciphers = vec![CipherAlgorithm::Aes128Ctr];
                a.macs = vec![mac];
            }),
            expect: Expect::Mac(mac),
        });
    }
    for &host_key in SignatureAlgorithm::ALL {
        cases.push(Case {
            family: "host-key",
            name: host_key.name(),
            algorithms: with(&|a| a.host_key = vec![host_key]),
            expect: Expect::HostKey(host_key),
        });
    }
    let zlib = CompressionAlgorithm::ZlibOpenssh;
    cases.push(Case {
        family: "compression",
        name: zlib.name(),
        algorithms: with(&|a| a.compression = vec![zlib]),
        expect: Expect::Compression(zlib),
    });
    cases.push(Case {
        family: "strict-kex",
        name: "kex-strict-c-v00@openssh.com",
        algorithms: Algorithms::default(),
        expect: Expect::StrictKex,
    });
    cases
}

/// Runs every case against one sshd and returns the matrix rows.
pub(crate) fn rows() -> Vec<Row> {
    let every_kex: Vec<&str> = KexAlgorithm::ALL.iter().map(|k| k.name()).collect();
    let sshd = match Sshd::builder()
        .config(format!("KexAlgorithms {}", every_kex.join(",")))
        .config("HostKeyAlgorithms +ssh-rsa")
        // Up to WORKERS unauthenticated connections at once: stay far from the
        // random early drop of the default MaxStartups 10:30:100.
        .config("MaxStartups 100")
        .start()
    {
        Ok(sshd) => sshd,
        Err(e) => panic!("cannot start sshd for the interop matrix: {e}"),
    };
    matrix::run_parallel(cases(), WORKERS, |case| run_case(&sshd, case))
        .into_iter()
        .map(|(case, result)| {
            let result = result.map_err(|why| {
                format!(
                    "{why}\n--- sshd log (tail) ---\n{}",
                    matrix::tail(&sshd.log(), 40)
                )
            });
            Row::new(case.family, case.name, Direction::ClientToSshd, result)
        })
        .collect()
}

/// Connects, checks the host key, gets `ssh-userauth` accepted, checks the outcome.
fn run_case(sshd: &Sshd, case: &Case) -> Result<(), String> {
    let stream =
        TcpStream::connect(sshd.addr()).map_err(|e| format!("connect to {}: {e}", sshd.addr()))?;
    let mut config = ClientConfig::default();
    config.transport.algorithms = case.algorithms.clone();
    let client = ClientConnection::new(config, Instant::now());
    let mut driver = Driver::new(client, stream, SCENARIO_TIMEOUT)
        .map_err(|e| format!("set up the socket: {e}"))?;
    // Queued until the first key exchange completes.
    driver.engine_mut().request_service("ssh-userauth");

    let mut host_key_seen = false;
    let service = driver
        .run(|client, event| match event {
            Event::HostKey(decision) => {
                host_key_seen = true;
                match check_host_key(sshd, decision.key()) {
                    Ok(()) => {
                        client.accept_host_key(decision);
                        ControlFlow::Continue(())
                    }
                    Err(why) => {
                        client.reject_host_key(decision);
                        ControlFlow::Break(Err(why))
                    }
                }
            }
            Event::ServiceAccepted(name) => ControlFlow::Break(Ok(name)),
            _ => ControlFlow::Continue(()),
        })
        .map_err(|e| format!("before SERVICE_ACCEPT: {e}"))??;

    let client = driver.engine();
    if service != "ssh-userauth" {
        return Err(format!("sshd accepted {service:?}, not ssh-userauth"));
    }
    if !host_key_seen {
        return Err("no HostKey event before SERVICE_ACCEPT".into());
    }
    if !client.strict_kex() {
        return Err("strict kex is off against OpenSSH 10".into());
    }
    let negotiated = client
        .algorithms()
        .ok_or("no negotiated algorithms after the key exchange")?;
    check_expectation(case.expect, negotiated)?;
    // sshd's own view: its session processes log what they negotiated. Connections
    // run in parallel, so this only shows that some connection agreed on the
    // algorithm; the scenario restricting us to it makes that connection ours.
    let needle = sshd_log_line(case.expect);
    sshd.wait_for_log(&needle, LOG_WAIT)
        .map_err(|_| format!("sshd never logged {needle:?}"))?;

    driver
        .engine_mut()
        .disconnect(DisconnectReason::ByApplication, "interop scenario done");
    driver
        .close()
        .map_err(|e| format!("closing after SERVICE_ACCEPT: {e}"))
}

/// What sshd logs (at DEBUG3) when it negotiates what `expect` names.
fn sshd_log_line(expect: Expect) -> String {
    match expect {
        Expect::Kex(kex) => format!("kex: algorithm: {kex}"),
        Expect::Cipher(cipher) => format!("kex: client->server cipher: {cipher} MAC: "),
        Expect::Mac(mac) => format!(" MAC: {mac} compression: "),
        Expect::HostKey(alg) => format!("kex: host key algorithm: {alg}"),
        Expect::Compression(c) => format!("compression: {c}"),
        Expect::StrictKex => "will use strict KEX ordering".to_owned(),
    }
}

/// The key must be the one sshd loaded for that type, byte for byte.
fn check_host_key(sshd: &Sshd, key: &PublicKey) -> Result<(), String> {
    let type_name = key.key_type().name();
    let expected = sshd
        .host_keys()
        .iter()
        .find(|k| k.algorithm() == type_name)
        .ok_or_else(|| format!("sshd has no {type_name} host key, yet presented one"))?;
    let encoded = expected
        .public
        .split_whitespace()
        .nth(1)
        .ok_or_else(|| format!("malformed public key line {:?}", expected.public))?;
    let blob = Base64::decode_vec(encoded)
        .map_err(|e| format!("public key line {:?}: {e}", expected.public))?;
    if blob == key.to_blob() {
        Ok(())
    } else {
        Err(format!(
            "host key {} {} is not sshd's {type_name} key {}",
            type_name,
            key.fingerprint_sha256(),
            expected.public
        ))
    }
}

fn check_expectation(expect: Expect, n: &Negotiated) -> Result<(), String> {
    let ok = match expect {
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
        Err(format!("expected {expect:?}, negotiated {n:?}"))
    }
}
