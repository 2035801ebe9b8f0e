//! known_hosts against OpenSSH: `ssh-keygen -H`, `-F` and `-R` read and edit the same
//! files as `sansh_core::known_hosts`, and ssh's own verdicts on a live server agree
//! with ours.

use std::error::Error;
use std::path::Path;
use std::time::{Duration, SystemTime};

use sansh_conformance::openssh::{SSH_KEYGEN, SshClient, Sshd};
use sansh_conformance::scratch::ScratchDir;
use sansh_core::crypto::SeededRandom;
use sansh_core::keys::{Certificate, KeyType, PrivateKey, PublicKey};
use sansh_core::known_hosts::{
    HashedHost, HostKeyStatus, HostPatterns, KnownHosts, host_port_name,
};

type TestResult = Result<(), Box<dyn Error>>;

fn key(seed: u64) -> Result<PublicKey, Box<dyn Error>> {
    Ok(PrivateKey::generate(KeyType::Ed25519, None, &mut SeededRandom::new(seed))?.public_key())
}

fn ecdsa(seed: u64) -> Result<PublicKey, Box<dyn Error>> {
    Ok(PrivateKey::generate(KeyType::EcdsaP256, None, &mut SeededRandom::new(seed))?.public_key())
}

fn k(key: &PublicKey) -> String {
    key.to_openssh("")
}

/// Runs ssh-keygen with `args`, returning its stdout; `ok_codes` are the exit codes that
/// are not failures (`-F` exits 1 when the host is absent).
fn ssh_keygen(args: &[&str], file: &Path, ok_codes: &[i32]) -> Result<String, Box<dyn Error>> {
    let output = SSH_KEYGEN
        .command()?
        .args(args)
        .arg("-f")
        .arg(file)
        .output()?;
    let code = output.status.code().unwrap_or(-1);
    if !ok_codes.contains(&code) {
        return Err(format!(
            "ssh-keygen {args:?} exited {code}: {}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    Ok(String::from_utf8(output.stdout)?)
}

/// The line numbers `ssh-keygen -F name` reports (`# Host name found: line N ...`).
fn ssh_keygen_find(file: &Path, name: &str) -> Result<Vec<usize>, Box<dyn Error>> {
    let stdout = ssh_keygen(&["-F", name], file, &[0, 1])?;
    let mut lines = Vec::new();
    for line in stdout.lines() {
        if let Some((_, found)) = line.split_once(" found: line ") {
            let number = found.split_whitespace().next().unwrap_or_default();
            lines.push(number.parse()?);
        }
    }
    Ok(lines)
}

/// A well-formed FIDO key (`sk-ssh-ed25519@openssh.com`, key bytes all 5,
/// application `ssh:`): a type OpenSSH knows and we do not support.
const SECURITY_KEY_FIELDS: &str = "sk-ssh-ed25519@openssh.com \
    AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIAUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFAAAABHNzaDo=";

/// Plain entries that `ssh-keygen -H` hashes (all but the wildcard line).
fn hashable_text() -> Result<String, Box<dyn Error>> {
    Ok(format!(
        "alpha.example {k1}\n[alpha.example]:2222 {k2}\n192.0.2.10 {k1}\n\
         [2001:db8::10]:2222 {k3}\nepsilon.example,zeta.example {e1}\n*.wild.example {k4}\n",
        k1 = k(&key(1)?),
        k2 = k(&key(2)?),
        k3 = k(&key(3)?),
        k4 = k(&key(4)?),
        e1 = k(&ecdsa(1)?),
    ))
}

/// A known_hosts file of every kind of line: names hashed by ssh-keygen and by us,
/// lists, wildcards, negations, ports, IPv6, markers, comments, an invalid line and an
/// unsupported key type.
fn mixed_text(dir: &ScratchDir) -> Result<String, Box<dyn Error>> {
    let hashed_path = dir.write("hashed_by_ssh_keygen", hashable_text()?)?;
    ssh_keygen(&["-H"], &hashed_path, &[0])?;
    let by_ssh_keygen = std::fs::read_to_string(&hashed_path)?;
    let rng = &mut SeededRandom::new(77);
    let (k1, k2, k3, k4, k5) = (key(1)?, key(2)?, key(3)?, key(4)?, key(5)?);
    let ca1 = key(20)?;
    let ca2 = ecdsa(21)?;
    Ok(format!(
        "# mixed known_hosts\n{by_ssh_keygen}\
         beta.example,gamma.example,[beta.example]:2200 {k2}\n\
         *.wild.example,!tame.wild.example {k5}\n\
         web??.example {k1}\n\
         [*.ports.example]:8022 {k3}\n\
         Mixed.Case.example {k2}\n\
         2001:db8::11 {k4}\n\
         {h1} {k1}\n\
         {h2} {k2}\n\
         @revoked * {k9}\n\
         @revoked beta.example {k2}\n\
         @cert-authority *.example,!alpha.example {ca1}\n\
         @cert-authority [*.ports.example]:8022 {ca2}\n\
         \n   # indented comment\n\
         alpha.example {sk}\n",
        h1 = HashedHost::new("delta.example", rng),
        h2 = HashedHost::new("[delta.example]:2222", rng),
        k1 = k(&k1),
        k2 = k(&k2),
        k3 = k(&k3),
        k4 = k(&k4),
        k5 = k(&k5),
        k9 = k(&key(9)?),
        ca1 = k(&ca1),
        ca2 = k(&ca2),
        sk = SECURITY_KEY_FIELDS,
    ))
}

const QUERY_HOSTS: &[&str] = &[
    "alpha.example",
    "beta.example",
    "gamma.example",
    "delta.example",
    "epsilon.example",
    "zeta.example",
    "tame.wild.example",
    "x.wild.example",
    "web01.example",
    "web1.example",
    "mixed.case.example",
    "192.0.2.10",
    "2001:db8::10",
    "2001:db8::11",
    "a.ports.example",
    "other.example",
    "unknown.test",
];

const QUERY_PORTS: &[u16] = &[22, 2200, 2222, 8022];

#[test]
fn hosts_hashed_by_ssh_keygen_match_our_lookup() -> TestResult {
    let dir = ScratchDir::new("kh-hash")?;
    let path = dir.write("known_hosts", hashable_text()?)?;
    ssh_keygen(&["-H"], &path, &[0])?;
    let known = KnownHosts::parse(&std::fs::read_to_string(&path)?);
    assert!(
        known.invalid_lines().is_empty(),
        "{:?}",
        known.invalid_lines()
    );
    let hashed = known
        .entries()
        .iter()
        .filter(|e| matches!(e.hosts(), HostPatterns::Hashed(_)))
        .count();
    assert_eq!(
        hashed, 6,
        "one hashed line per name, the wildcard line left as is"
    );
    let trusted = [
        ("alpha.example", 22, key(1)?),
        ("alpha.example", 2222, key(2)?),
        ("192.0.2.10", 22, key(1)?),
        ("2001:db8::10", 2222, key(3)?),
        ("epsilon.example", 22, ecdsa(1)?),
        ("zeta.example", 22, ecdsa(1)?),
        ("any.wild.example", 22, key(4)?),
    ];
    for (host, port, key) in &trusted {
        assert!(
            matches!(known.check(host, *port, key), HostKeyStatus::Trusted { .. }),
            "{host}:{port}"
        );
    }
    assert_eq!(
        known.check("beta.example", 22, &key(1)?),
        HostKeyStatus::Unknown
    );
    assert!(matches!(
        known.check("alpha.example", 22, &key(7)?),
        HostKeyStatus::Changed { .. }
    ));
    Ok(())
}

#[test]
fn ssh_keygen_find_and_our_find_agree_on_a_mixed_file() -> TestResult {
    let dir = ScratchDir::new("kh-find")?;
    let text = mixed_text(&dir)?;
    let path = dir.write("known_hosts", &text)?;
    let known = KnownHosts::parse(&text);
    assert_eq!(
        known.invalid_lines().len(),
        0,
        "{:?}",
        known.invalid_lines()
    );
    let mut compared = 0;
    for host in QUERY_HOSTS {
        for &port in QUERY_PORTS {
            let name = host_port_name(host, port);
            let theirs = ssh_keygen_find(&path, &name)?;
            let ours: Vec<usize> = known.find(host, port).map(|e| e.line()).collect();
            assert_eq!(ours, theirs, "ssh-keygen -F {name}\n{text}");
            compared += usize::from(!ours.is_empty());
        }
    }
    assert!(
        compared > 20,
        "the queries should mostly find something ({compared})"
    );
    Ok(())
}

#[test]
fn ssh_keygen_find_skips_the_lines_we_report_invalid() -> TestResult {
    let dir = ScratchDir::new("kh-invalid")?;
    let k1 = k(&key(1)?);
    let text = format!(
        "@bogus alpha.example {k1}\n@revoked @revoked alpha.example {k1}\nalpha.example\n\
         alpha.example ssh-dss AAAA\n|1|AAAA|BBBB {k1}\nalpha.example {k1}\n"
    );
    let path = dir.write("known_hosts", &text)?;
    let known = KnownHosts::parse(&text);
    let invalid: Vec<usize> = known.invalid_lines().iter().map(|l| l.line).collect();
    assert_eq!(invalid, [1, 2, 3, 4, 5]);
    assert_eq!(ssh_keygen_find(&path, "alpha.example")?, [6]);
    Ok(())
}

#[test]
fn lines_we_add_are_found_by_ssh_keygen() -> TestResult {
    let dir = ScratchDir::new("kh-add")?;
    let mut known = KnownHosts::parse("# added by sansh\n");
    let rng = &mut SeededRandom::new(5);
    let additions = [
        ("plain.example", 22, false),
        ("plain.example", 2222, false),
        ("hashed.example", 22, true),
        ("hashed.example", 2222, true),
        ("192.0.2.44", 22, true),
        ("2001:db8::44", 830, true),
        ("2001:db8::45", 22, false),
    ];
    let mut text = String::from("# added by sansh\n");
    for (i, (host, port, hashed)) in additions.iter().enumerate() {
        let key = key(100 + i as u64)?;
        let line = if *hashed {
            known
                .add_hashed(host, *port, &key, rng)
                .expect("recordable host")
        } else {
            known.add(host, *port, &key).expect("recordable host")
        };
        text.push_str(&line);
        text.push('\n');
    }
    let path = dir.write("known_hosts", &text)?;
    for (i, (host, port, _)) in additions.iter().enumerate() {
        let name = host_port_name(host, *port);
        assert_eq!(ssh_keygen_find(&path, &name)?, [i + 2], "{name}\n{text}");
    }
    Ok(())
}

#[test]
fn ssh_keygen_remove_and_our_removal_agree() -> TestResult {
    let dir = ScratchDir::new("kh-remove")?;
    let text = mixed_text(&dir)?;
    let known = KnownHosts::parse(&text);
    let mut removals = 0;
    for host in QUERY_HOSTS {
        for &port in &[22, 2222] {
            let name = host_port_name(host, port);
            let path = dir.write("known_hosts", &text)?;
            ssh_keygen(&["-R", &name], &path, &[0])?;
            let theirs = std::fs::read_to_string(&path)?;
            let ours = known.remove_host(host, port);
            assert_eq!(ours.text, theirs, "ssh-keygen -R {name}");
            removals += ours.removed_lines.len();
        }
    }
    assert!(
        removals > 10,
        "the removals should mostly remove something ({removals})"
    );
    Ok(())
}

// ---- verdicts against a live ssh ------------------------------------------------------

/// What ssh concluded about the host key, from its log.
fn ssh_verdict(log: &str) -> &'static str {
    if log.contains("REVOKED HOST KEY DETECTED") {
        "revoked"
    } else if log.contains("REMOTE HOST IDENTIFICATION HAS CHANGED") {
        "changed"
    } else if log.contains("host key is known for") && log.contains("requested strict checking") {
        "unknown"
    } else if log.contains("is known and matches the") || log.contains("matching key w/out port") {
        "trusted"
    } else {
        "failed"
    }
}

fn our_verdict(status: &HostKeyStatus) -> &'static str {
    match status {
        HostKeyStatus::Trusted { .. } => "trusted",
        HostKeyStatus::Revoked { .. } => "revoked",
        HostKeyStatus::Changed { .. } => "changed",
        HostKeyStatus::Unknown => "unknown",
    }
}

fn connect(
    sshd: &Sshd,
    known_hosts: &str,
    host_key_algorithm: &str,
) -> Result<String, Box<dyn Error>> {
    let out = SshClient::new(sshd.addr())
        .option(format!("HostKeyAlgorithms={host_key_algorithm}"))
        .known_hosts(known_hosts)
        .timeout(Duration::from_secs(20))
        .run()?;
    Ok(out.stderr)
}

#[test]
fn ssh_and_our_check_agree_on_plain_host_keys() -> TestResult {
    let sshd = Sshd::start()?;
    let served = sshd
        .host_keys()
        .iter()
        .find(|k| k.algorithm() == "ssh-ed25519")
        .ok_or("sshd has no Ed25519 host key")?;
    let (host_key, _) = PublicKey::from_openssh(&served.public)?;
    let port = sshd.port();
    let rng = &mut SeededRandom::new(3);
    let mut recorder = KnownHosts::parse("");
    let bracketed = host_port_name("127.0.0.1", port);
    let scenarios = [
        (
            "recorded hashed",
            recorder
                .add_hashed("127.0.0.1", port, &host_key, rng)
                .expect("recordable host"),
            "trusted",
        ),
        (
            "recorded plain",
            recorder
                .add("127.0.0.1", port, &host_key)
                .expect("recordable host"),
            "trusted",
        ),
        (
            "recorded without the port",
            format!("127.0.0.1 {}", k(&host_key)),
            "trusted",
        ),
        (
            "another ed25519 key",
            format!("{bracketed} {}", k(&key(1)?)),
            "changed",
        ),
        (
            "only a key of another type",
            format!("{bracketed} {}", k(&ecdsa(1)?)),
            "changed",
        ),
        (
            "revoked",
            format!("{bracketed} {hk}\n@revoked * {hk}", hk = k(&host_key)),
            "revoked",
        ),
        (
            "nothing recorded",
            format!("other.example {}", k(&host_key)),
            "unknown",
        ),
        (
            "wildcard",
            format!("[127.0.0.?]:{port} {}", k(&host_key)),
            "trusted",
        ),
        (
            "negated",
            format!("[127.0.0.*]:{port},!{bracketed} {}", k(&host_key)),
            "unknown",
        ),
    ];
    for (what, known_hosts, expected) in &scenarios {
        let text = format!("{known_hosts}\n");
        let ours = KnownHosts::parse(&text).check("127.0.0.1", port, &host_key);
        let log = connect(&sshd, &text, "ssh-ed25519")?;
        assert_eq!(ssh_verdict(&log), *expected, "ssh, {what}:\n{log}");
        assert_eq!(our_verdict(&ours), *expected, "ours, {what}: {ours:?}");
    }
    Ok(())
}

#[test]
fn ssh_and_our_check_agree_on_host_certificates() -> TestResult {
    let dir = ScratchDir::new("kh-cert")?;
    let ca = dir.join("ca");
    let keygen = |args: &[&str]| -> TestResult {
        let status = SSH_KEYGEN.command()?.args(args).status()?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("ssh-keygen {args:?} failed").into())
        }
    };
    let ca_str = ca.to_str().ok_or("path")?;
    keygen(&["-q", "-t", "ed25519", "-N", "", "-f", ca_str])?;
    let cases = [
        (
            "good",
            "127.0.0.1",
            ["trusted", "unknown", "revoked", "trusted"],
        ),
        (
            "wrong",
            "host.example",
            ["unknown", "unknown", "revoked", "trusted"],
        ),
    ];
    for (name, principal, _) in &cases {
        let path = dir.join(name);
        let path_str = path.to_str().ok_or("path")?;
        keygen(&["-q", "-t", "ed25519", "-N", "", "-f", path_str])?;
        let public = format!("{path_str}.pub");
        keygen(&[
            "-q", "-s", ca_str, "-I", name, "-h", "-n", principal, &public,
        ])?;
    }
    let (ca_key, _) = PublicKey::from_openssh(&std::fs::read_to_string(dir.join("ca.pub"))?)?;
    for (name, _, expected) in &cases {
        let path = dir.join(name);
        let cert_path = format!("{}-cert.pub", path.display());
        let (cert, _) = Certificate::from_openssh(&std::fs::read_to_string(&cert_path)?)?;
        let sshd = Sshd::builder()
            .config(format!("HostKey {}", path.display()))
            .config(format!("HostCertificate {cert_path}"))
            .start()?;
        let port = sshd.port();
        let bracketed = host_port_name("127.0.0.1", port);
        let scenarios = [
            (
                "trusted CA",
                format!("@cert-authority {bracketed} {}", k(&ca_key)),
            ),
            (
                "CA for other hosts",
                format!("@cert-authority *.example {}", k(&ca_key)),
            ),
            (
                "revoked CA",
                format!("@cert-authority * {ca}\n@revoked * {ca}", ca = k(&ca_key)),
            ),
            (
                "CA and the certified key",
                format!(
                    "@cert-authority * {}\n{bracketed} {}",
                    k(&ca_key),
                    k(cert.key())
                ),
            ),
        ];
        for ((what, known_hosts), expected) in scenarios.iter().zip(expected) {
            let text = format!("{known_hosts}\n");
            let ours = KnownHosts::parse(&text).check_certificate(
                "127.0.0.1",
                port,
                &cert,
                SystemTime::now(),
            );
            // The plain algorithm too, for ssh's fallback to the certified key.
            let log = connect(&sshd, &text, "ssh-ed25519-cert-v01@openssh.com,ssh-ed25519")?;
            assert_eq!(ssh_verdict(&log), *expected, "ssh, {name} / {what}:\n{log}");
            assert_eq!(
                our_verdict(&ours.status),
                *expected,
                "ours, {name} / {what}: {ours:?}"
            );
        }
    }
    Ok(())
}
