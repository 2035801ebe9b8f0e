//! Proves the OpenSSH harness itself: OpenSSH's client against OpenSSH's server.

use std::net::{Ipv4Addr, TcpListener};
use std::process::Command;
use std::time::Duration;

use sansh_conformance::openssh::{
    self, Binary, HarnessError, Query, Result, SSH_KEYGEN, SshClient, Sshd, openssh_version,
    supported,
};
use sansh_conformance::scratch::ScratchDir;

const LOG_WAIT: Duration = Duration::from_secs(10);

#[test]
fn openssh_client_completes_kex_with_sshd_and_gets_service_accept() -> Result<()> {
    let sshd = Sshd::start()?;
    let out = SshClient::new(sshd.addr()).run()?;
    assert!(
        out.log_contains("SSH2_MSG_NEWKEYS received"),
        "{}",
        out.stderr
    );
    assert!(
        out.log_contains("SSH2_MSG_SERVICE_ACCEPT received"),
        "{}",
        out.stderr
    );
    // The user has no credentials: authentication, and so ssh, fails.
    assert!(out.log_contains("Permission denied"), "{}", out.stderr);
    assert_eq!(out.status.code(), Some(255));
    Ok(())
}

#[test]
fn sshd_log_records_the_client_connection() -> Result<()> {
    let sshd = Sshd::start()?;
    SshClient::new(sshd.addr()).run()?;
    let line = sshd.wait_for_log("Connection from 127.0.0.1", LOG_WAIT)?;
    assert!(line.contains(&format!("port {}", sshd.port())), "{line}");
    Ok(())
}

#[test]
fn missing_binary_error_names_the_debian_package() {
    let absent = Binary::new(
        "ssh-nonexistent",
        "/usr/bin/ssh-nonexistent-sansh",
        "openssh-client",
    );
    let message = match absent.locate() {
        Err(error @ HarnessError::MissingBinary { .. }) => error.to_string(),
        other => panic!("expected MissingBinary, got {other:?}"),
    };
    assert!(message.contains("ssh-nonexistent"), "{message}");
    assert!(
        message.contains("/usr/bin/ssh-nonexistent-sansh"),
        "{message}"
    );
    assert!(message.contains("`openssh-client`"), "{message}");
}

#[test]
fn every_openssh_program_the_harness_runs_is_installed() -> Result<()> {
    for binary in openssh::ALL {
        binary.locate()?;
    }
    Ok(())
}

#[test]
fn installed_openssh_is_release_10_or_newer() -> Result<()> {
    let version = openssh_version()?;
    assert!(version.major >= 10, "{}", version.banner);
    Ok(())
}

#[test]
fn ssh_query_lists_each_algorithm_family() -> Result<()> {
    let expected = [
        (Query::Kex, "mlkem768x25519-sha256"),
        (Query::Cipher, "chacha20-poly1305@openssh.com"),
        (Query::Mac, "hmac-sha2-256-etm@openssh.com"),
        (Query::Key, "ssh-ed25519"),
        (Query::Signature, "rsa-sha2-512"),
    ];
    for (query, name) in expected {
        let names = supported(query)?;
        assert!(names.iter().any(|n| n == name), "{query:?}: {names:?}");
    }
    Ok(())
}

#[test]
fn sshd_config_line_restricts_what_sshd_negotiates() -> Result<()> {
    let sshd = Sshd::builder()
        .config("KexAlgorithms curve25519-sha256")
        .start()?;
    let out = SshClient::new(sshd.addr())
        .option("KexAlgorithms=ecdh-sha2-nistp256")
        .run()?;
    assert!(
        out.log_contains("no matching key exchange method found"),
        "{}",
        out.stderr
    );
    Ok(())
}

#[test]
fn every_generated_host_key_verifies_against_known_hosts() -> Result<()> {
    let sshd = Sshd::start()?;
    let algorithms: Vec<&str> = sshd.host_keys().iter().map(|k| k.algorithm()).collect();
    assert_eq!(
        algorithms,
        [
            "ssh-ed25519",
            "ecdsa-sha2-nistp256",
            "ecdsa-sha2-nistp384",
            "ecdsa-sha2-nistp521",
            "ssh-rsa"
        ]
    );
    for key in sshd.host_keys() {
        let signature = match key.algorithm() {
            "ssh-rsa" => "rsa-sha2-512",
            other => other,
        };
        let out = SshClient::new(sshd.addr())
            .option(format!("HostKeyAlgorithms={signature}"))
            .known_hosts(sshd.known_hosts())
            .run()?;
        assert!(
            out.log_contains(&format!("Server host key: {}", key.algorithm())),
            "{}",
            out.stderr
        );
        assert!(
            out.log_contains("SSH2_MSG_SERVICE_ACCEPT received"),
            "{}",
            out.stderr
        );
    }
    Ok(())
}

#[test]
fn invalid_sshd_config_fails_start_with_sshd_log() {
    match Sshd::builder().config("NoSuchSshdKeyword yes").start() {
        Err(HarnessError::SshdStart { log, .. }) => {
            assert!(log.contains("NoSuchSshdKeyword"), "{log}");
        }
        other => panic!("expected SshdStart, got {other:?}"),
    }
}

#[test]
fn ssh_run_past_its_timeout_is_killed_with_its_log() -> Result<()> {
    // Accepts TCP connections (the kernel completes them) but never speaks SSH.
    let silent = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(HarnessError::io_error("bind a silent listener"))?;
    let addr = silent
        .local_addr()
        .map_err(HarnessError::io_error("read the listener's address"))?;
    let result = SshClient::new(addr)
        .option("ConnectTimeout=60")
        .timeout(Duration::from_secs(1))
        .run();
    match result {
        Err(HarnessError::Timeout { log, .. }) => {
            assert!(log.contains("Connection established"), "{log}");
        }
        other => panic!("expected Timeout, got {other:?}"),
    }
    Ok(())
}

#[test]
fn ssh_client_with_an_authorized_key_carries_stdin_and_stdout() -> Result<()> {
    let keys = ScratchDir::new("user-key")?;
    let key = keys.join("id_ed25519");
    let keygen = SSH_KEYGEN
        .command()?
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key)
        .status()
        .map_err(HarnessError::io_error("run ssh-keygen"))?;
    assert!(keygen.success());
    let public = std::fs::read_to_string(key.with_extension("pub"))
        .map_err(HarnessError::io_error("read the public key"))?;

    // A non-root sshd can only log its own user in, so log in as whoever runs this.
    let whoami = Command::new("id")
        .arg("-un")
        .output()
        .map_err(HarnessError::io_error("run id -un"))?;
    let user = String::from_utf8_lossy(&whoami.stdout).trim().to_owned();

    let sshd = Sshd::builder().authorized_key(public.trim()).start()?;
    let out = SshClient::new(sshd.addr())
        .user(user)
        .option(format!("IdentityFile={}", key.display()))
        .command("cat")
        .stdin("through the tunnel")
        .run()?;
    assert!(out.status.success(), "{}", out.stderr);
    assert_eq!(out.stdout, b"through the tunnel");
    Ok(())
}
