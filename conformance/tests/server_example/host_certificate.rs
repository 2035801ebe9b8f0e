//! `--host-certificate`: ssh trusts the example through a `@cert-authority` line,
//! and the example refuses a certificate of a key it does not hold.

use std::process::{Command, Stdio};

use sansh_conformance::scratch::ScratchDir;
use sansh_core::crypto::SystemRandom;
use sansh_core::keys::{
    CertType, Certificate, CertificateBuilder, KeyType, PrivateKey, SignatureAlgorithm,
};

use crate::support::{Server, example, run, write_key};

/// A host certificate of `host` for 127.0.0.1, signed by `ca`, written to `dir`.
fn certificate_file(dir: &ScratchDir, host: &PrivateKey, ca: &PrivateKey) -> (Certificate, String) {
    let certificate = CertificateBuilder::new(host.public_key(), CertType::Host)
        .key_id("server example host")
        .principal("127.0.0.1")
        .validity(0, u64::MAX)
        .sign(ca, SignatureAlgorithm::Ed25519, &mut SystemRandom)
        .expect("certificate");
    let path = dir
        .write("host-cert.pub", certificate.to_openssh("host"))
        .expect("write certificate");
    (certificate, path.display().to_string())
}

#[test]
fn ssh_trusts_the_host_certificate_through_its_authority() {
    let keys = ScratchDir::new("server-example-host-cert").expect("scratch dir");
    let ca = PrivateKey::generate(KeyType::Ed25519, None, &mut SystemRandom).expect("key");
    let host = PrivateKey::generate(KeyType::EcdsaP256, None, &mut SystemRandom).expect("key");
    let host_file = write_key(&keys, "host", &host).display().to_string();
    let (_, certificate) = certificate_file(&keys, &host, &ca);
    let server = Server::start(&["--host-key", &host_file, "--host-certificate", &certificate]);
    assert!(
        server
            .banner
            .iter()
            .any(|line| line
                .starts_with("host certificate ecdsa-sha2-nistp256-cert-v01@openssh.com")),
        "{:?}",
        server.banner
    );
    let known_hosts = keys
        .write(
            "known_hosts",
            format!(
                "@cert-authority [127.0.0.1]:{} {}\n",
                server.addr.port(),
                ca.public_key().to_openssh("ca")
            ),
        )
        .expect("write known_hosts");
    let only_the_authority = format!("UserKnownHostsFile={}", known_hosts.display());
    let out = run(
        server.ssh(&[&only_the_authority], &["-v"], &["exit 6"]),
        b"",
    );
    assert_eq!(out.code(), Some(6), "{out:?}\n{}", server.log());
    assert!(
        out.stderr
            .contains("Server host certificate: ecdsa-sha2-nistp256-cert-v01@openssh.com"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("Found CA key in"), "{}", out.stderr);
}

#[test]
fn a_certificate_of_a_key_the_server_does_not_hold_is_refused_at_start() {
    let keys = ScratchDir::new("server-example-host-cert-foreign").expect("scratch dir");
    let ca = PrivateKey::generate(KeyType::Ed25519, None, &mut SystemRandom).expect("key");
    let stranger = PrivateKey::generate(KeyType::EcdsaP256, None, &mut SystemRandom).expect("key");
    let (_, certificate) = certificate_file(&keys, &stranger, &ca);
    let output = Command::new(example())
        .args([
            "--listen",
            "127.0.0.1:0",
            "--host-certificate",
            &certificate,
        ])
        .stdin(Stdio::null())
        .output()
        .expect("run the server example");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("certifies none of the host keys"),
        "{stderr}"
    );
}
