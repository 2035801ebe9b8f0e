//! authorized_keys against sshd: for each file, sshd lets ssh in (and runs the forced
//! command) exactly when `sansh_core::authorized_keys` authorizes the same key.

use std::error::Error;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use sansh_conformance::openssh::{SSH_KEYGEN, SshClient, Sshd};
use sansh_conformance::scratch::ScratchDir;
use sansh_core::authorized_keys::Authorization;
use sansh_core::authorized_keys::{
    AuthorizationRequest, AuthorizedKeys, NotAuthorized, PresentedKey,
};
use sansh_core::keys::{Certificate, PublicKey};

type TestResult = Result<(), Box<dyn Error>>;

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn run(command: &mut Command) -> TestResult {
    let output = command.output()?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into())
    }
}

/// Makes an Ed25519 key pair at `dir/name`; returns the private key path.
fn generate_key(dir: &ScratchDir, name: &str) -> Result<PathBuf, Box<dyn Error>> {
    let path = dir.join(name);
    run(SSH_KEYGEN
        .command()?
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(&path))?;
    Ok(path)
}

fn public_key(private: &Path) -> Result<PublicKey, Box<dyn Error>> {
    let text = std::fs::read_to_string(private.with_extension("pub"))?;
    Ok(PublicKey::from_openssh(&text)?.0)
}

/// The user sshd can log in: whoever runs the tests (a non-root sshd can only log in
/// its own user).
fn current_user() -> Result<String, Box<dyn Error>> {
    let output = Command::new("id").arg("-un").output()?;
    Ok(String::from_utf8(output.stdout)?.trim().to_owned())
}

/// What ssh got: the remote command's stdout if it logged in.
fn ssh_outcome(
    sshd: &Sshd,
    user: &str,
    identity: &Path,
    args: &[&str],
) -> Result<(Option<String>, String), Box<dyn Error>> {
    let mut client = SshClient::new(sshd.addr())
        .user(user)
        .option(format!("IdentityFile={}", identity.display()))
        .timeout(Duration::from_secs(20));
    for arg in args {
        client = client.arg(*arg);
    }
    let out = client.command("echo ran").run()?;
    let stdout = String::from_utf8(out.stdout)?.replace('\r', "");
    Ok((out.status.success().then_some(stdout), out.stderr))
}

fn ours(text: &str, user: &str, key: PresentedKey<'_>) -> Result<Authorization, NotAuthorized> {
    let request = AuthorizationRequest::new(user, key, LOOPBACK, SystemTime::now());
    AuthorizedKeys::parse(text).authorize(&request)
}

/// The stdout sshd's session gives for `echo ran` under our permissions: the forced
/// command's output, or `ran`. Only `echo` commands are used, so this is their text.
fn expected_stdout(authorization: &Authorization) -> String {
    let command = authorization
        .permissions
        .force_command
        .as_deref()
        .unwrap_or("echo ran");
    let words = command.strip_prefix("echo ").unwrap_or(command);
    let mut out = words.replace('"', "");
    for var in &authorization.permissions.environment {
        out = out.replace(&format!("${}", var.name), &var.value);
    }
    format!("{out}\n")
}

#[test]
fn sshd_and_our_authorize_agree_on_plain_key_lines() -> TestResult {
    let dir = ScratchDir::new("ak-plain")?;
    let identity = generate_key(&dir, "client")?;
    let key = public_key(&identity)?;
    let other = public_key(&generate_key(&dir, "other")?)?;
    let user = current_user()?;
    let sshd = Sshd::builder()
        .config("PermitUserEnvironment yes")
        .start()?;
    let k = key.to_openssh("client");
    let o = other.to_openssh("other");
    let scenarios: Vec<(&str, String, Option<&str>)> = vec![
        ("bare key", k.clone(), Some("ran")),
        (
            "from the client's address, forced command",
            format!("from=\"127.0.0.1\",command=\"echo forced\" {k}"),
            Some("forced"),
        ),
        (
            "from another network",
            format!("from=\"10.0.0.0/8\" {k}"),
            None,
        ),
        (
            "negated address",
            format!("from=\"127.0.0.0/8,!127.0.0.1\" {k}"),
            None,
        ),
        (
            "address glob",
            format!("from=\"127.0.0.?\" {k}"),
            Some("ran"),
        ),
        (
            "host name without UseDNS",
            format!("from=\"localhost\" {k}"),
            None,
        ),
        ("invalid CIDR", format!("from=\"127.0.0.1/8\" {k}"), None),
        ("expired", format!("expiry-time=\"20000101\" {k}"), None),
        (
            "not yet expired",
            format!("expiry-time=\"29991231Z\" {k}"),
            Some("ran"),
        ),
        (
            "second line after a refusing one",
            format!("from=\"10.0.0.0/8\",command=\"echo first\" {k}\ncommand=\"echo second\" {k}"),
            Some("second"),
        ),
        ("another key", o.clone(), None),
        (
            "principals on a plain key",
            format!("principals=\"root\" {k}"),
            None,
        ),
        (
            "escaped quotes and a comma",
            format!("command=\"echo \\\"a, b\\\"\" {k}"),
            Some("a, b"),
        ),
        (
            "bad line skipped",
            format!("frobnicate {k}\ncommand=\"echo ok\" {k}"),
            Some("ok"),
        ),
        ("cert-authority line", format!("cert-authority {k}"), None),
        (
            "environment",
            format!("environment=\"GREETING=hello there\",command=\"echo $GREETING\" {k}"),
            Some("hello there"),
        ),
        (
            "restrict",
            format!("restrict,command=\"echo r\" {k}"),
            Some("r"),
        ),
        (
            "option names in any case",
            format!("NO-PTY,Command=\"echo case\" {k}"),
            Some("case"),
        ),
    ];
    for (what, text, expected) in &scenarios {
        let text = format!("{text}\n");
        std::fs::write(sshd.authorized_keys_path(), &text)?;
        let (theirs, log) = ssh_outcome(&sshd, &user, &identity, &[])?;
        let expected = expected.map(|out| format!("{out}\n"));
        assert_eq!(theirs, expected, "sshd, {what}:\n{text}\n{log}");
        let ours = ours(&text, &user, (&key).into());
        assert_eq!(
            ours.as_ref().ok().map(expected_stdout),
            expected,
            "ours, {what}: {ours:?}"
        );
    }
    Ok(())
}

#[test]
fn sshd_and_our_authorize_agree_on_pty_permission() -> TestResult {
    let dir = ScratchDir::new("ak-pty")?;
    let identity = generate_key(&dir, "client")?;
    let key = public_key(&identity)?;
    let user = current_user()?;
    let sshd = Sshd::start()?;
    let k = key.to_openssh("client");
    for (options, pty) in [
        ("no-pty", false),
        ("restrict,pty", true),
        ("restrict", false),
    ] {
        let text = format!("{options} {k}\n");
        std::fs::write(sshd.authorized_keys_path(), &text)?;
        // ssh -tt gives up when the pty is refused, after logging in.
        let (_, log) = ssh_outcome(&sshd, &user, &identity, &["-tt"])?;
        assert!(
            log.contains("Server accepts key"),
            "{options}: login\n{log}"
        );
        let refused = log.contains("PTY allocation request failed");
        assert_eq!(!refused, pty, "sshd, {options}\n{log}");
        let granted = ours(&text, &user, (&key).into())?;
        assert_eq!(granted.permissions.pty, pty, "ours, {options}");
    }
    Ok(())
}

#[test]
fn sshd_and_our_authorize_agree_on_certificates() -> TestResult {
    let dir = ScratchDir::new("ak-cert")?;
    let ca = generate_key(&dir, "ca")?;
    let ca_key = public_key(&ca)?.to_openssh("ca");
    let identity = generate_key(&dir, "certified")?;
    let user = current_user()?;
    let sshd = Sshd::start()?;
    let scenarios: Vec<(&str, &str, Vec<&str>, Option<&str>)> = vec![
        (
            "principal is the user",
            "cert-authority",
            vec!["-n", &user],
            Some("ran"),
        ),
        (
            "principal is another user",
            "cert-authority",
            vec!["-n", "nobody-else"],
            None,
        ),
        ("no principals", "cert-authority", vec![], Some("ran")),
        (
            "principals= lists one",
            "cert-authority,principals=\"ops,deploy\"",
            vec!["-n", "deploy"],
            Some("ran"),
        ),
        (
            "principals= lists none",
            "cert-authority,principals=\"ops\"",
            vec!["-n", &user],
            None,
        ),
        (
            "certificate forced command",
            "cert-authority",
            vec!["-n", &user, "-O", "force-command=echo cert"],
            Some("cert"),
        ),
        (
            "forced commands differ",
            "cert-authority,command=\"echo line\"",
            vec!["-n", &user, "-O", "force-command=echo cert"],
            None,
        ),
        (
            "forced commands agree",
            "cert-authority,command=\"echo same\"",
            vec!["-n", &user, "-O", "force-command=echo same"],
            Some("same"),
        ),
        (
            "source-address elsewhere",
            "cert-authority",
            vec!["-n", &user, "-O", "source-address=10.0.0.0/8"],
            None,
        ),
        (
            "source-address here",
            "cert-authority",
            vec!["-n", &user, "-O", "source-address=127.0.0.0/8"],
            Some("ran"),
        ),
        (
            "from= on the CA line",
            "cert-authority,from=\"127.0.0.1\"",
            vec!["-n", &user],
            Some("ran"),
        ),
        (
            "expired certificate",
            "cert-authority",
            vec!["-n", &user, "-V", "20000101:20010101"],
            None,
        ),
        (
            "CA key without cert-authority",
            "no-pty",
            vec!["-n", &user],
            None,
        ),
    ];
    let cert_path = dir.join("certified-cert.pub");
    for (what, options, sign_args, expected) in &scenarios {
        let _ = std::fs::remove_file(&cert_path);
        run(SSH_KEYGEN
            .command()?
            .args(["-q", "-s"])
            .arg(&ca)
            .args(["-I", "conformance"])
            .args(sign_args)
            .arg(identity.with_extension("pub")))?;
        let cert = Certificate::from_openssh(&std::fs::read_to_string(&cert_path)?)?.0;
        let text = format!("{options} {ca_key}\n");
        std::fs::write(sshd.authorized_keys_path(), &text)?;
        let (theirs, log) = ssh_outcome(&sshd, &user, &identity, &[])?;
        let expected = expected.map(|out| format!("{out}\n"));
        assert_eq!(theirs, expected, "sshd, {what}:\n{text}\n{log}");
        let ours = ours(&text, &user, (&cert).into());
        assert_eq!(
            ours.as_ref().ok().map(expected_stdout),
            expected,
            "ours, {what}: {ours:?}"
        );
    }
    Ok(())
}
