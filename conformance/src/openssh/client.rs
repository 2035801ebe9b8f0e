//! Running the OpenSSH client (`ssh -vvv`) against a test server.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::process::{ExitStatus, Stdio};
use std::thread;
use std::time::Duration;

use super::binary::SSH;
use super::error::{HarnessError, Result};
use super::log::LogBuffer;
use crate::scratch::ScratchDir;

/// An `ssh -vvv` run to prepare: target, options, command; [`SshClient::run`] runs it.
///
/// The client is isolated from the machine it runs on: `-F /dev/null` (no user or
/// system config), `BatchMode=yes` (never prompts), no agent, no identity files, no
/// known_hosts file unless [`SshClient::known_hosts`] gives one (without it, any host
/// key is accepted and nothing is recorded).
///
/// Options given with [`SshClient::option`] come first on the command line, and ssh
/// keeps the first value it sees, so they override these defaults.
///
/// ```
/// use sansh_conformance::openssh::{SshClient, Sshd};
///
/// let sshd = Sshd::start()?;
/// let out = SshClient::new(sshd.addr())
///     .option("KexAlgorithms=curve25519-sha256")
///     .option("Ciphers=aes256-gcm@openssh.com")
///     .run()?;
/// assert!(out.log_contains("kex: algorithm: curve25519-sha256"));
/// assert!(out.log_contains("SSH2_MSG_SERVICE_ACCEPT received"));
/// assert!(!out.status.success()); // the default user has no credentials
/// # Ok::<(), sansh_conformance::openssh::HarnessError>(())
/// ```
#[derive(Debug, Clone)]
pub struct SshClient {
    addr: SocketAddr,
    user: String,
    options: Vec<String>,
    args: Vec<String>,
    command: Vec<String>,
    stdin: Option<Vec<u8>>,
    known_hosts: Option<String>,
    timeout: Duration,
}

/// How an [`SshClient`] run ended.
#[derive(Debug, Clone)]
pub struct ClientOutput {
    /// ssh's exit status: 255 for its own failures (including failed authentication),
    /// otherwise the remote command's.
    pub status: ExitStatus,
    /// What the remote command wrote to its stdout.
    pub stdout: Vec<u8>,
    /// ssh's stderr: its `-vvv` debug log and error messages.
    pub stderr: String,
}

impl ClientOutput {
    /// Whether ssh's debug log has a line containing `needle`,
    /// e.g. `SSH2_MSG_SERVICE_ACCEPT received`.
    pub fn log_contains(&self, needle: &str) -> bool {
        self.stderr.contains(needle)
    }
}

impl SshClient {
    /// Prepares `ssh` to `addr` as user `sansh-test`, with a 30 s timeout.
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            user: "sansh-test".into(),
            options: Vec::new(),
            args: Vec::new(),
            command: Vec::new(),
            stdin: None,
            known_hosts: None,
            timeout: Duration::from_secs(30),
        }
    }

    /// Logs in as `user`.
    pub fn user(mut self, user: impl Into<String>) -> Self {
        self.user = user.into();
        self
    }

    /// Adds `-o OPTION`, e.g. `"MACs=hmac-sha2-256-etm@openssh.com"`.
    pub fn option(mut self, option: impl Into<String>) -> Self {
        self.options.push(option.into());
        self
    }

    /// Adds a raw argument before the destination, e.g. `"-N"` or `"-c"`.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Runs `command` remotely instead of asking for a shell.
    pub fn command(mut self, command: impl Into<String>) -> Self {
        self.command.push(command.into());
        self
    }

    /// Feeds `data` to ssh's stdin, then closes it (stdin is empty otherwise).
    pub fn stdin(mut self, data: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(data.into());
        self
    }

    /// Checks the server's host key strictly against `known_hosts`
    /// (e.g. [`Sshd::known_hosts`](super::Sshd::known_hosts)).
    pub fn known_hosts(mut self, known_hosts: impl Into<String>) -> Self {
        self.known_hosts = Some(known_hosts.into());
        self
    }

    /// Kills ssh if it has not exited after `timeout` (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Runs ssh and waits for it to exit.
    ///
    /// A run that fails at the SSH level (refused key exchange, failed
    /// authentication) is still `Ok`: inspect [`ClientOutput::status`] and the log.
    ///
    /// # Errors
    /// [`HarnessError::MissingBinary`] without OpenSSH, [`HarnessError::Timeout`]
    /// (with the log so far) if ssh outlives the timeout, [`HarnessError::Io`] if it
    /// cannot be started.
    pub fn run(&self) -> Result<ClientOutput> {
        let mut command = SSH.command()?;
        let scratch;
        let host_checking = match &self.known_hosts {
            Some(text) => {
                scratch = ScratchDir::new("ssh")?;
                let file = scratch.write("known_hosts", text)?;
                [
                    "StrictHostKeyChecking=yes".to_owned(),
                    format!("UserKnownHostsFile={}", file.display()),
                ]
            }
            None => [
                "StrictHostKeyChecking=no".to_owned(),
                "UserKnownHostsFile=/dev/null".to_owned(),
            ],
        };
        let connect_timeout = self.timeout.as_secs().max(1);
        let defaults = [
            "BatchMode=yes".to_owned(),
            "IdentityAgent=none".to_owned(),
            "IdentityFile=none".to_owned(),
            "GlobalKnownHostsFile=/dev/null".to_owned(),
            "UpdateHostKeys=no".to_owned(),
            "CheckHostIP=no".to_owned(),
            format!("ConnectTimeout={connect_timeout}"),
        ];
        command.args(["-vvv", "-F", "/dev/null"]);
        for option in self.options.iter().chain(&host_checking).chain(&defaults) {
            command.arg("-o").arg(option);
        }
        command
            .arg("-p")
            .arg(self.addr.port().to_string())
            .arg("-l")
            .arg(&self.user)
            .args(&self.args)
            .arg(self.addr.ip().to_string())
            .args(&self.command)
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());

        let mut child = command
            .spawn()
            .map_err(HarnessError::io_error("spawn ssh"))?;
        if let (Some(mut pipe), Some(data)) = (child.stdin.take(), self.stdin.clone()) {
            // A remote command that exits early closes the pipe; that is its business.
            thread::spawn(move || pipe.write_all(&data));
        }
        let stdout = child.stdout.take().map(|mut pipe| {
            thread::spawn(move || {
                let mut data = Vec::new();
                let _ = pipe.read_to_end(&mut data);
                data
            })
        });
        let Some(stderr) = child.stderr.take() else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(HarnessError::Io {
                action: "capture ssh's stderr".into(),
                source: std::io::ErrorKind::BrokenPipe.into(),
            });
        };
        let log = LogBuffer::drain(stderr);

        // ssh's stderr closes when it exits, so its end is the signal to collect.
        if !log.wait_closed(self.timeout) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(HarnessError::Timeout {
                what: format!("ssh to {} to exit", self.addr),
                waited: self.timeout,
                log: log.text(),
            });
        }
        let status = child
            .wait()
            .map_err(HarnessError::io_error("wait for ssh"))?;
        let stdout = stdout
            .map(|reader| reader.join().unwrap_or_default())
            .unwrap_or_default();
        Ok(ClientOutput {
            status,
            stdout,
            stderr: log.text(),
        })
    }
}
