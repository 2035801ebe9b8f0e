//! Host certificates (sshd's `HostCertificate`) through the driver, on every runtime:
//! our client judges sshd's certificate by the authorities of a known_hosts file,
//! and OpenSSH's `ssh` trusts our server's certificate through its own.

use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, SystemTime};

use sansh_conformance::openssh::Sshd;
use sansh_conformance::scratch::ScratchDir;
use sansh_core::ConnectionError;
use sansh_core::driver::{ClientHandler, ConnectError};
use sansh_core::keys::{CertType, Certificate, PublicKey};
use sansh_core::known_hosts::{HostKeyStatus, KnownHosts, host_port_name};
use sansh_core::{ClientConfig, ServerConfig};

use crate::peers::{KEY_TYPES, KeyFile, SshRun, cert_path};
use crate::runtimes::TestRuntime;
use crate::support::{NoDecisions, TestResult, WAIT};

/// Trusts a host certificate that a known_hosts authority vouches for, nothing
/// else; records the certificate it was shown.
#[derive(Clone)]
struct ByAuthority {
    known: Arc<KnownHosts>,
    port: u16,
    presented: Arc<Mutex<Option<Certificate>>>,
}

impl ByAuthority {
    fn new(known_hosts: &str, port: u16) -> Self {
        Self {
            known: Arc::new(KnownHosts::parse(known_hosts)),
            port,
            presented: Arc::default(),
        }
    }

    fn presented(&self) -> Option<Certificate> {
        self.presented
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl ClientHandler for ByAuthority {
    async fn check_server_key(&self, _key: &PublicKey) -> bool {
        false
    }

    async fn check_server_certificate(&self, certificate: &Certificate) -> bool {
        *self.presented.lock().unwrap_or_else(|e| e.into_inner()) = Some(certificate.clone());
        let lookup =
            self.known
                .check_certificate("127.0.0.1", self.port, certificate, SystemTime::now());
        matches!(lookup.status, HostKeyStatus::Trusted { .. })
    }
}

/// Our client connects to an sshd presenting an ECDSA host certificate: trusted when
/// known_hosts names its CA for the host and the certificate names the host;
/// refused when the certificate names another host.
pub(crate) fn client_trusts_sshds_host_certificate_through_its_authority<R: TestRuntime>()
-> TestResult {
    let dir = ScratchDir::new("driver-host-cert-sshd")?;
    let ca = KeyFile::generate(&dir, "ca", KEY_TYPES[0], None)?;
    for (name, principal, trusted) in [
        ("listed", "127.0.0.1", true),
        ("elsewhere", "elsewhere.example", false),
    ] {
        let host = KeyFile::generate(&dir, name, KEY_TYPES[1], None)?;
        let certificate = host.certify(&ca, principal, CertType::Host)?;
        let sshd = Sshd::builder()
            .config(format!("HostKey {}", host.path.display()))
            .config(format!(
                "HostCertificate {}",
                cert_path(&host.path).display()
            ))
            .start()?;
        let known_hosts = format!(
            "@cert-authority {} {}\n",
            host_port_name("127.0.0.1", sshd.port()),
            ca.public_line()?
        );
        let handler = ByAuthority::new(&known_hosts, sshd.port());
        let rt = R::start();
        let connected = rt.block_on(R::connect(
            sshd.addr(),
            ClientConfig::default(),
            handler.clone(),
        ));
        assert_eq!(handler.presented(), Some(certificate), "{name}");
        match connected {
            Ok(conn) if trusted => {
                let algorithms = conn.algorithms().ok_or("no algorithms")?;
                assert_eq!(
                    algorithms.host_key_name(),
                    "ecdsa-sha2-nistp256-cert-v01@openssh.com"
                );
                sshd.wait_for_log(
                    "host key algorithm: ecdsa-sha2-nistp256-cert-v01@openssh.com",
                    WAIT,
                )?;
            }
            Err(ConnectError::Handshake(ConnectionError::HostKeyRejected)) if !trusted => {}
            other => panic!("{name}: trusted {trusted}, got {:?}", other.map(|_| ())),
        }
    }
    Ok(())
}

/// `ssh` with strict host key checking and only a `@cert-authority` line trusts our
/// server's host certificate; the same server without the certificate is refused.
pub(crate) fn openssh_ssh_trusts_our_servers_host_certificate<R: TestRuntime>() -> TestResult {
    let dir = ScratchDir::new("driver-host-cert-ssh")?;
    let ca = KeyFile::generate(&dir, "ca", KEY_TYPES[0], None)?;
    let host = KeyFile::generate(&dir, "host", KEY_TYPES[1], None)?;
    let certificate = host.certify(&ca, "127.0.0.1", CertType::Host)?;
    for certified in [true, false] {
        let mut config = ServerConfig {
            host_keys: vec![host.load()?],
            ..ServerConfig::default()
        };
        if certified {
            config.host_certificates = vec![certificate.clone()];
        }
        let rt = R::start();
        let listener = rt.block_on(R::listen(Arc::new(config), NoDecisions))?;
        let addr = listener.local_addr();
        let known_hosts = dir.write(
            format!("known_hosts-{certified}"),
            format!(
                "@cert-authority {} {}\n",
                host_port_name("127.0.0.1", addr.port()),
                ca.public_line()?
            ),
        )?;
        let ssh = thread::spawn(move || {
            let mut run = SshRun::new(addr, "nobody")
                .option("StrictHostKeyChecking=yes")
                .option(format!("UserKnownHostsFile={}", known_hosts.display()));
            run.timeout = Duration::from_secs(30);
            run.run()
        });
        // The listener runs the handshake in the background; ssh gets as far as
        // authentication (which no method passes) only when it trusts the host.
        let output = ssh.join().map_err(|_| "the ssh thread panicked")??;
        drop(listener);
        let log = output.log;
        if certified {
            assert!(
                log.contains("Server host certificate: ecdsa-sha2-nistp256-cert-v01@openssh.com"),
                "{log}"
            );
            assert!(log.contains("Found CA key in"), "{log}");
            assert!(log.contains("Authentications that can continue"), "{log}");
        } else {
            assert!(log.contains("Host key verification failed"), "{log}");
        }
    }
    Ok(())
}
