//! What the auth scenarios need from the machine: keys and certificates made by
//! `ssh-keygen`, the test accounts, a running `ssh-agent`, and `ssh` runs with their
//! own environment (for `SSH_ASKPASS`).

use sansh_conformance::process::wait_or_kill;
use std::io::Read;
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::Duration;

use sansh_conformance::openssh::{SSH, SSH_ADD, SSH_AGENT, SSH_KEYGEN, openssh_version};
use sansh_conformance::scratch::ScratchDir;
use sansh_core::keys::{CertType, Certificate, KeyType, PrivateKey, PublicKey};

/// The account `scripts/install-peers` creates for password and keyboard-interactive
/// logins through sshd's PAM, and its password.
pub(crate) const TEST_USER: &str = "sansh-test";
pub(crate) const TEST_PASSWORD: &str = "sansh-test-password";

/// The passphrase of the encrypted key files.
pub(crate) const PASSPHRASE: &str = "sansh passphrase";

/// Every key type with its `ssh-keygen -t` and `-b` arguments.
pub(crate) const KEY_TYPES: [(KeyType, &str, Option<u32>); 5] = [
    (KeyType::Ed25519, "ed25519", None),
    (KeyType::EcdsaP256, "ecdsa", Some(256)),
    (KeyType::EcdsaP384, "ecdsa", Some(384)),
    (KeyType::EcdsaP521, "ecdsa", Some(521)),
    (KeyType::Rsa, "rsa", Some(3072)),
];

/// The OpenSSH release, as the matrix's peer column shows it.
pub(crate) fn peer_label() -> String {
    openssh_version()
        .map(|v| format!("OpenSSH {}.{}", v.major, v.minor))
        .unwrap_or_else(|e| format!("OpenSSH ({e})"))
}

/// The name of the user running the tests (the account publickey logins use).
pub(crate) fn current_user() -> Result<String, String> {
    let out = Command::new("id")
        .arg("-un")
        .output()
        .map_err(|e| format!("run id -un: {e}"))?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Fails with instructions when the password test account is missing.
pub(crate) fn require_test_user() -> Result<(), String> {
    let exists = Command::new("id")
        .arg(TEST_USER)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if exists {
        Ok(())
    } else {
        Err(format!(
            "the test account {TEST_USER} does not exist: run `sudo scripts/install-peers`, \
             which creates it with the password the password and keyboard-interactive \
             tests use"
        ))
    }
}

fn run(command: &mut Command) -> Result<String, String> {
    let line = format!("{command:?}");
    let out = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("run {line}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{line} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// A key file made by `ssh-keygen`, with its public line.
#[derive(Debug, Clone)]
pub(crate) struct KeyFile {
    pub(crate) path: PathBuf,
    pub(crate) passphrase: Option<&'static str>,
}

impl KeyFile {
    /// Generates a key with `ssh-keygen` in `dir`.
    pub(crate) fn generate(
        dir: &ScratchDir,
        name: &str,
        (_, kind, bits): (KeyType, &str, Option<u32>),
        passphrase: Option<&'static str>,
    ) -> Result<Self, String> {
        let path = dir.join(name);
        let keygen = SSH_KEYGEN.locate().map_err(|e| e.to_string())?;
        let mut command = Command::new(keygen);
        command.args(["-q", "-t", kind, "-C", name, "-N", passphrase.unwrap_or("")]);
        if let Some(bits) = bits {
            command.arg("-b").arg(bits.to_string());
        }
        command.arg("-f").arg(&path);
        run(&mut command)?;
        Ok(Self { path, passphrase })
    }

    /// The public key line (`type base64 comment`).
    pub(crate) fn public_line(&self) -> Result<String, String> {
        let path = self.path.with_extension("pub");
        std::fs::read_to_string(&path)
            .map(|s| s.trim().to_owned())
            .map_err(|e| format!("read {}: {e}", path.display()))
    }

    pub(crate) fn public_key(&self) -> Result<PublicKey, String> {
        let line = self.public_line()?;
        PublicKey::from_openssh(&line)
            .map(|(key, _)| key)
            .map_err(|e| format!("our parser refuses {}: {e}", self.path.display()))
    }

    /// Loads the private key with our OpenSSH key file parser.
    pub(crate) fn load(&self) -> Result<PrivateKey, String> {
        let text = std::fs::read_to_string(&self.path)
            .map_err(|e| format!("read {}: {e}", self.path.display()))?;
        PrivateKey::from_openssh(&text, self.passphrase.map(str::as_bytes))
            .map_err(|e| format!("our parser refuses {}: {e}", self.path.display()))
    }

    /// Signs a certificate of `cert_type` for this key with the CA key `ca`
    /// (`ssh-keygen -s`, with `-h` for a host certificate), valid for `principal`;
    /// returns the certificate.
    pub(crate) fn certify(
        &self,
        ca: &KeyFile,
        principal: &str,
        cert_type: CertType,
    ) -> Result<Certificate, String> {
        let keygen = SSH_KEYGEN.locate().map_err(|e| e.to_string())?;
        let public = self.path.with_extension("pub");
        let mut command = Command::new(keygen);
        command.args(["-q", "-s"]).arg(&ca.path);
        if cert_type == CertType::Host {
            command.arg("-h");
        }
        run(command
            .args(["-I", "sansh-auth-test", "-n", principal, "-V", "-5m:+1h"])
            .arg(&public))?;
        let cert_path = cert_path(&self.path);
        let line = std::fs::read_to_string(&cert_path)
            .map_err(|e| format!("read {}: {e}", cert_path.display()))?;
        Certificate::from_openssh(&line)
            .map(|(cert, _)| cert)
            .map_err(|e| format!("our parser refuses {}: {e}", cert_path.display()))
    }
}

/// Where `ssh-keygen -s` writes the certificate of the key at `path`.
pub(crate) fn cert_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push("-cert.pub");
    PathBuf::from(name)
}

/// A running `ssh-agent -D` on its own socket, killed when dropped.
pub(crate) struct SshAgent {
    child: Child,
    socket: PathBuf,
    _dir: ScratchDir,
}

impl SshAgent {
    pub(crate) fn start() -> Result<Self, String> {
        let dir = ScratchDir::new("agent").map_err(|e| e.to_string())?;
        let socket = dir.join("agent.sock");
        let agent = SSH_AGENT.locate().map_err(|e| e.to_string())?;
        let mut child = Command::new(agent)
            .arg("-D")
            .arg("-a")
            .arg(&socket)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("spawn ssh-agent: {e}"))?;
        let stdout = child.stdout.take();
        let mut agent = Self {
            child,
            socket,
            _dir: dir,
        };
        // ssh-agent prints `SSH_AUTH_SOCK=...` only once its socket listens; the file
        // alone appears at bind(), before listen(), and connecting then is refused.
        let mut announcement = String::new();
        if let Some(stdout) = stdout {
            let _ = std::io::BufRead::read_line(
                &mut std::io::BufReader::new(stdout),
                &mut announcement,
            );
        }
        if !announcement.starts_with("SSH_AUTH_SOCK=") {
            let _ = agent.child.kill();
            return Err(format!("ssh-agent did not start: {announcement:?}"));
        }
        Ok(agent)
    }

    pub(crate) fn socket(&self) -> &Path {
        &self.socket
    }

    /// Runs `ssh-add` with `args` against this agent, returning its stdout.
    pub(crate) fn ssh_add(&self, args: &[&std::ffi::OsStr]) -> Result<String, String> {
        let ssh_add = SSH_ADD.locate().map_err(|e| e.to_string())?;
        run(Command::new(ssh_add)
            .args(args)
            .env("SSH_AUTH_SOCK", &self.socket))
    }
}

impl Drop for SshAgent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One `ssh -vvv` run with its own options and environment.
#[derive(Debug, Clone)]
pub(crate) struct SshRun {
    pub(crate) addr: SocketAddr,
    pub(crate) user: String,
    pub(crate) options: Vec<String>,
    pub(crate) args: Vec<String>,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) timeout: Duration,
}

/// How an ssh run ended.
#[derive(Debug)]
pub(crate) struct SshOutput {
    /// `None` when ssh had to be killed at the timeout.
    pub(crate) status: Option<ExitStatus>,
    /// ssh's stderr: its debug log, the banner, error messages.
    pub(crate) log: String,
}

impl SshRun {
    pub(crate) fn new(addr: SocketAddr, user: &str) -> Self {
        Self {
            addr,
            user: user.to_owned(),
            options: Vec::new(),
            args: Vec::new(),
            env: Vec::new(),
            timeout: Duration::from_secs(60),
        }
    }

    pub(crate) fn option(mut self, option: impl Into<String>) -> Self {
        self.options.push(option.into());
        self
    }

    pub(crate) fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Answers every prompt through `askpass` (`SSH_ASKPASS_REQUIRE=force`).
    pub(crate) fn askpass(mut self, askpass: &Path) -> Self {
        self.env
            .push(("SSH_ASKPASS".into(), askpass.display().to_string()));
        self.env
            .push(("SSH_ASKPASS_REQUIRE".into(), "force".into()));
        self.options.push("BatchMode=no".into());
        self
    }

    /// Runs `ssh -N` (no session) and waits for it, killing it after the timeout.
    /// Isolated from the machine's config, agent and keys; accepts any host key.
    pub(crate) fn run(&self) -> Result<SshOutput, String> {
        let mut command = SSH.command().map_err(|e| e.to_string())?;
        command.args(["-vvv", "-N", "-F", "/dev/null"]);
        let defaults = [
            "BatchMode=yes",
            "IdentityAgent=none",
            "IdentityFile=none",
            "StrictHostKeyChecking=no",
            "UserKnownHostsFile=/dev/null",
            "GlobalKnownHostsFile=/dev/null",
            "UpdateHostKeys=no",
            "CheckHostIP=no",
            "ConnectTimeout=30",
        ];
        for option in self.options.iter().map(String::as_str).chain(defaults) {
            command.arg("-o").arg(option);
        }
        command
            .args(&self.args)
            .arg("-p")
            .arg(self.addr.port().to_string())
            .arg("-l")
            .arg(&self.user)
            .arg(self.addr.ip().to_string())
            .env_remove("SSH_AUTH_SOCK")
            .env_remove("DISPLAY")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = command.spawn().map_err(|e| format!("spawn ssh: {e}"))?;
        let mut stderr = child.stderr.take().ok_or("ssh's stderr was not captured")?;
        let reader = thread::spawn(move || {
            let mut log = String::new();
            let _ = stderr.read_to_string(&mut log);
            log
        });
        let status =
            wait_or_kill(&mut child, self.timeout).map_err(|e| format!("wait for ssh: {e}"))?;
        let log = reader.join().unwrap_or_default();
        Ok(SshOutput { status, log })
    }
}

/// Writes an executable askpass script into `dir`.
pub(crate) fn askpass_script(dir: &ScratchDir, name: &str, body: &str) -> Result<PathBuf, String> {
    let path = dir
        .write(name, format!("#!/bin/sh\n{body}\n"))
        .map_err(|e| e.to_string())?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| format!("chmod {}: {e}", path.display()))?;
    Ok(path)
}
