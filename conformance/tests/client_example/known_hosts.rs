//! The host key against known_hosts, as ssh checks it.

use std::process::Command;

use sansh_conformance::openssh::{SSH, SSH_KEYGEN, Sshd};
use sansh_conformance::scratch::ScratchDir;
use sansh_core::crypto::SystemRandom;
use sansh_core::keys::{CertType, CertificateBuilder, KeyType, PrivateKey, SignatureAlgorithm};

use crate::support::{askpass, option, run, setup, setup_with, text, without_terminal};

#[test]
fn an_unknown_host_is_refused_with_strict_checking() {
    let setup = setup();
    let known_hosts = setup.dir.join("known_hosts");
    let output = run(
        setup.keyed(&known_hosts).args([
            "-o",
            "StrictHostKeyChecking=yes",
            "127.0.0.1",
            "echo ran",
        ]),
        Vec::new(),
    );
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(255), "{stderr}");
    assert!(output.stdout.is_empty(), "the command must not run");
    let port = setup.sshd.port();
    assert!(
        stderr.contains(&format!("host key is known for [127.0.0.1]:{port}")),
        "{stderr}"
    );
    assert!(stderr.contains("Host key verification failed."), "{stderr}");
    assert!(!known_hosts.exists(), "nothing is recorded");
}

#[test]
fn accept_new_records_the_host_in_a_file_openssh_then_trusts() {
    let setup = setup();
    let known_hosts = setup.dir.join("known_hosts");
    let first = run(
        setup.keyed(&known_hosts).args([
            "-o",
            "StrictHostKeyChecking=accept-new",
            "127.0.0.1",
            "exit 3",
        ]),
        Vec::new(),
    );
    let stderr = text(&first.stderr);
    assert_eq!(first.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("Permanently added"), "{stderr}");
    let recorded = std::fs::read_to_string(&known_hosts).expect("known_hosts written");
    let port = setup.sshd.port();
    assert!(
        recorded.starts_with(&format!("[127.0.0.1]:{port} ssh-ed25519 ")),
        "{recorded}"
    );

    // OpenSSH's own client, strict, accepts the file we wrote.
    let ssh = SSH.locate().expect("ssh");
    let mut openssh = Command::new(ssh);
    openssh
        .args(["-F", "none", "-p", &port.to_string(), "-l", &setup.user])
        .args(["-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes"])
        .args([
            "-o",
            "GlobalKnownHostsFile=/dev/null",
            "-o",
            "IdentitiesOnly=yes",
        ])
        .arg("-o")
        .arg(option("UserKnownHostsFile", &known_hosts))
        .arg("-i")
        .arg(&setup.key_file)
        .args(["127.0.0.1", "exit 4"])
        .env_remove("SSH_AUTH_SOCK");
    let output = run(&mut openssh, Vec::new());
    assert_eq!(output.status.code(), Some(4), "{}", text(&output.stderr));

    // And so do we, strictly.
    let again = run(
        setup
            .keyed(&known_hosts)
            .args(["-o", "StrictHostKeyChecking=yes", "127.0.0.1", "exit 5"]),
        Vec::new(),
    );
    assert_eq!(again.status.code(), Some(5), "{}", text(&again.stderr));
    assert!(again.stderr.is_empty(), "{}", text(&again.stderr));
}

#[test]
fn hash_known_hosts_records_a_hashed_name_openssh_finds() {
    let setup = setup();
    let known_hosts = setup.dir.join("known_hosts");
    let first = run(
        setup.keyed(&known_hosts).args([
            "-o",
            "StrictHostKeyChecking=accept-new",
            "-o",
            "HashKnownHosts=yes",
            "127.0.0.1",
            "true",
        ]),
        Vec::new(),
    );
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let recorded = std::fs::read_to_string(&known_hosts).expect("known_hosts written");
    assert!(recorded.starts_with("|1|"), "{recorded}");
    let name = format!("[127.0.0.1]:{}", setup.sshd.port());
    let keygen = SSH_KEYGEN.locate().expect("ssh-keygen");
    let found = Command::new(keygen)
        .arg("-F")
        .arg(&name)
        .arg("-f")
        .arg(&known_hosts)
        .output()
        .expect("ssh-keygen -F");
    assert!(found.status.success(), "ssh-keygen -F {name} found nothing");
}

#[test]
fn a_known_hosts_file_hashed_by_ssh_keygen_is_trusted() {
    let setup = setup();
    let known_hosts = setup.trusted();
    let keygen = SSH_KEYGEN.locate().expect("ssh-keygen");
    let hashed = Command::new(keygen)
        .arg("-H")
        .arg("-f")
        .arg(&known_hosts)
        .output()
        .expect("ssh-keygen -H");
    assert!(hashed.status.success(), "{}", text(&hashed.stderr));
    let recorded = std::fs::read_to_string(&known_hosts).expect("known_hosts");
    assert!(recorded.lines().all(|l| l.starts_with("|1|")), "{recorded}");
    let output = run(
        setup
            .keyed(&known_hosts)
            .args(["-o", "StrictHostKeyChecking=yes", "127.0.0.1", "exit 7"]),
        Vec::new(),
    );
    assert_eq!(output.status.code(), Some(7), "{}", text(&output.stderr));
}

#[test]
fn a_changed_host_key_is_refused_with_ssh_warning() {
    let setup = setup();
    let other = PrivateKey::generate(KeyType::Ed25519, None, &mut SystemRandom).expect("key");
    let port = setup.sshd.port();
    let line = format!("[127.0.0.1]:{port} {}\n", other.public_key().to_openssh(""));
    let known_hosts = setup.dir.write("known_hosts", line).expect("known_hosts");
    // Even accept-new never accepts a changed key.
    let output = run(
        setup.keyed(&known_hosts).args([
            "-o",
            "StrictHostKeyChecking=accept-new",
            "127.0.0.1",
            "echo ran",
        ]),
        Vec::new(),
    );
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(255), "{stderr}");
    assert!(output.stdout.is_empty(), "the command must not run");
    assert!(
        stderr.contains("REMOTE HOST IDENTIFICATION HAS CHANGED"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "Offending ED25519 key in {}:1",
            known_hosts.display()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("Host key verification failed."), "{stderr}");
}

#[test]
fn a_revoked_host_key_is_refused() {
    let setup = setup();
    let port = setup.sshd.port();
    let ed25519 = setup
        .sshd
        .host_keys()
        .iter()
        .find(|k| k.algorithm() == "ssh-ed25519")
        .expect("sshd has an Ed25519 host key");
    let text_file = format!(
        "{}@revoked [127.0.0.1]:{port} {}\n",
        setup.sshd.known_hosts(),
        ed25519.public
    );
    let known_hosts = setup.dir.write("known_hosts", text_file).expect("write");
    let output = run(
        setup.keyed(&known_hosts).args(["127.0.0.1", "echo ran"]),
        Vec::new(),
    );
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(255), "{stderr}");
    assert!(stderr.contains("REVOKED HOST KEY DETECTED"), "{stderr}");
    assert!(output.stdout.is_empty());
}

#[test]
fn ask_takes_the_new_host_key_confirmation_from_askpass() {
    let setup = setup();
    let (askpass, log) = askpass(&setup.dir, "yes");
    let known_hosts = setup.dir.join("known_hosts");
    let output = run(
        setup
            .keyed(&known_hosts)
            .args(["127.0.0.1", "exit 6"])
            .env("SSH_ASKPASS", &askpass)
            .env("SSH_ASKPASS_REQUIRE", "force"),
        Vec::new(),
    );
    assert_eq!(output.status.code(), Some(6), "{}", text(&output.stderr));
    let asked = std::fs::read_to_string(&log).expect("askpass was run");
    assert!(asked.starts_with("|The authenticity of host"), "{asked}");
    assert!(known_hosts.exists(), "the confirmed key is recorded");
}

#[test]
fn a_host_known_by_its_ecdsa_key_alone_is_asked_for_that_key() {
    let setup = setup();
    let ecdsa = setup
        .sshd
        .host_keys()
        .iter()
        .find(|k| k.algorithm() == "ecdsa-sha2-nistp256")
        .expect("sshd has an ECDSA P-256 host key");
    let line = format!("[127.0.0.1]:{} {}\n", setup.sshd.port(), ecdsa.public);
    let known_hosts = setup.dir.write("known_hosts", line).expect("write");
    // Ed25519 comes first by default; a known ECDSA key must win, or the host
    // would look changed.
    let output = run(
        setup
            .keyed(&known_hosts)
            .args(["-o", "StrictHostKeyChecking=yes", "127.0.0.1", "exit 12"]),
        Vec::new(),
    );
    assert_eq!(output.status.code(), Some(12), "{}", text(&output.stderr));
}

#[test]
fn without_a_terminal_or_askpass_an_unknown_host_is_refused_by_default() {
    let setup = setup();
    let known_hosts = setup.dir.join("known_hosts");
    let mut command = setup.keyed(&known_hosts);
    command.args(["127.0.0.1", "echo ran"]);
    let output = run(&mut without_terminal(&command), Vec::new());
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(255), "{stderr}");
    assert!(stderr.contains("Host key verification failed."), "{stderr}");
    assert!(!known_hosts.exists());
}

#[test]
fn quiet_mode_records_a_new_host_without_the_warning() {
    let setup = setup();
    let known_hosts = setup.dir.join("known_hosts");
    let output = run(
        setup.keyed(&known_hosts).args([
            "-q",
            "-o",
            "StrictHostKeyChecking=accept-new",
            "127.0.0.1",
            "true",
        ]),
        Vec::new(),
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(output.stderr.is_empty(), "{}", text(&output.stderr));
    assert!(known_hosts.exists());
}

#[test]
fn strict_checking_off_goes_on_past_a_changed_key_without_passwords() {
    let setup = setup();
    let other = PrivateKey::generate(KeyType::Ed25519, None, &mut SystemRandom).expect("key");
    let port = setup.sshd.port();
    let line = format!("[127.0.0.1]:{port} {}\n", other.public_key().to_openssh(""));
    let known_hosts = setup.dir.write("known_hosts", line).expect("known_hosts");
    let output = run(
        setup
            .keyed(&known_hosts)
            .args(["-o", "StrictHostKeyChecking=no", "127.0.0.1", "exit 13"]),
        Vec::new(),
    );
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(13), "{stderr}");
    assert!(
        stderr.contains("REMOTE HOST IDENTIFICATION HAS CHANGED"),
        "{stderr}"
    );
    assert!(
        stderr.contains("Password authentication is disabled"),
        "{stderr}"
    );
}

/// sshd presents an ECDSA host certificate: a `@cert-authority` line for the host
/// makes it trusted under strict checking; a certificate naming another host is
/// refused, with the reason, and its key is then unknown, as with ssh.
#[test]
fn a_host_certificate_is_trusted_through_its_authority_and_only_for_its_hosts() {
    for (principal, trusted) in [("127.0.0.1", true), ("other.example", false)] {
        let keys = ScratchDir::new("client-example-host-cert").expect("scratch dir");
        let ca = PrivateKey::generate(KeyType::Ed25519, None, &mut SystemRandom).expect("key");
        let host = PrivateKey::generate(KeyType::EcdsaP256, None, &mut SystemRandom).expect("key");
        let certificate = CertificateBuilder::new(host.public_key(), CertType::Host)
            .key_id("client example host")
            .principal(principal)
            .validity(0, u64::MAX)
            .sign(&ca, SignatureAlgorithm::Ed25519, &mut SystemRandom)
            .expect("certificate");
        let host_file = keys
            .write(
                "host",
                host.to_openssh(None, &mut SystemRandom).expect("encode"),
            )
            .expect("write host key");
        let certificate_file = keys
            .write("host-cert.pub", certificate.to_openssh("host"))
            .expect("write certificate");
        let setup = setup_with(
            Sshd::builder()
                .config("LogLevel INFO")
                .config(format!("HostKey {}", host_file.display()))
                .config(format!("HostCertificate {}", certificate_file.display())),
        );
        let port = setup.sshd.port();
        let line = format!(
            "@cert-authority [127.0.0.1]:{port} {}\n",
            ca.public_key().to_openssh("ca")
        );
        let known_hosts = setup.dir.write("known_hosts", line).expect("known_hosts");
        let output = run(
            setup.keyed(&known_hosts).args([
                "-vv",
                "-o",
                "StrictHostKeyChecking=yes",
                "127.0.0.1",
                "exit 5",
            ]),
            Vec::new(),
        );
        let stderr = text(&output.stderr);
        if trusted {
            assert_eq!(output.status.code(), Some(5), "{stderr}");
            assert!(
                stderr.contains("host key algorithm: ecdsa-sha2-nistp256-cert-v01@openssh.com"),
                "{stderr}"
            );
        } else {
            assert_eq!(output.status.code(), Some(255), "{stderr}");
            assert!(stderr.contains("Certificate invalid"), "{stderr}");
            assert!(stderr.contains("No ECDSA host key is known"), "{stderr}");
            assert!(stderr.contains("Host key verification failed."), "{stderr}");
        }
    }
}
