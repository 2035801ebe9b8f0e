//! What every scenario needs: the example built once, an sshd with a key for the
//! current user, the client's command line with a clean environment, a run with a
//! deadline, and an askpass script.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::thread;
use std::time::Duration;

use sansh_conformance::openssh::{Sshd, SshdBuilder};
use sansh_conformance::process::wait_or_kill;
use sansh_conformance::scratch::ScratchDir;
use sansh_core::crypto::SystemRandom;
use sansh_core::keys::{KeyType, PrivateKey};

use crate::peers;
use sansh_conformance::build::{BuildOptions, cargo_build};

/// How long one client run may take before the test kills it and fails.
pub(crate) const RUN_LIMIT: Duration = Duration::from_secs(120);
/// How long sshd may take to log a line about a connection that has ended.
pub(crate) const LOG_WAIT: Duration = Duration::from_secs(20);

/// Builds the example once with the cargo running this test; returns its path.
pub(crate) fn example() -> &'static Path {
    static EXAMPLE: OnceLock<PathBuf> = OnceLock::new();
    EXAMPLE.get_or_init(|| build_example().expect("build the client example"))
}

pub(crate) fn build_example() -> Result<PathBuf, String> {
    cargo_build("sansh-tokio", "example", "client", BuildOptions::default())
}

/// An sshd, a key it lets the current user in with, and a scratch home directory.
pub(crate) struct Setup {
    pub(crate) sshd: Sshd,
    pub(crate) dir: ScratchDir,
    pub(crate) key_file: PathBuf,
    pub(crate) user: String,
}

/// An sshd at `LogLevel INFO` (at debug levels sshd's session process writes to the
/// session's stderr) trusting a fresh Ed25519 key.
pub(crate) fn setup() -> Setup {
    setup_with(Sshd::builder().config("LogLevel INFO"))
}

pub(crate) fn setup_with(builder: SshdBuilder) -> Setup {
    let dir = ScratchDir::new("client-example").expect("scratch dir");
    let key = PrivateKey::generate(KeyType::Ed25519, None, &mut SystemRandom).expect("key");
    let text = key.to_openssh(None, &mut SystemRandom).expect("encode key");
    let key_file = dir.write("id_ed25519", text.as_bytes()).expect("write key");
    let sshd = builder
        .authorized_key(key.public_key().to_openssh("client-example"))
        .start()
        .expect("start sshd");
    let user = peers::current_user().expect("current user");
    Setup {
        sshd,
        dir,
        key_file,
        user,
    }
}

impl Setup {
    /// The client to sshd as the current user with `known_hosts`, its environment
    /// cleared of the agent and askpass, and HOME in the scratch directory (so no
    /// default key or known_hosts of the machine's user is used).
    pub(crate) fn client(&self, known_hosts: &Path) -> Command {
        let mut cmd = Command::new(example());
        cmd.arg("-p")
            .arg(self.sshd.port().to_string())
            .arg("-o")
            .arg(option("UserKnownHostsFile", known_hosts))
            .args(["-o", "GlobalKnownHostsFile=none"])
            .env("HOME", self.dir.path())
            .env_remove("SSH_AUTH_SOCK")
            .env_remove("SSH_ASKPASS")
            .env_remove("SSH_ASKPASS_REQUIRE")
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY");
        cmd
    }

    /// [`Self::client`] logging in with the key file.
    pub(crate) fn keyed(&self, known_hosts: &Path) -> Command {
        let mut cmd = self.client(known_hosts);
        cmd.args(["-l", &self.user, "-i"]).arg(&self.key_file);
        cmd
    }

    /// A known_hosts file trusting sshd under `[127.0.0.1]:port`.
    pub(crate) fn trusted(&self) -> PathBuf {
        self.dir
            .write("known_hosts", self.sshd.known_hosts())
            .expect("write known_hosts")
    }
}

/// `-o Name=path`.
pub(crate) fn option(name: &str, path: &Path) -> OsString {
    let mut option = OsString::from(format!("{name}="));
    option.push(path);
    option
}

/// Runs `cmd` with `stdin` fed to it, its output collected; fails the test if it
/// outlives [`RUN_LIMIT`].
pub(crate) fn run(cmd: &mut Command, stdin: Vec<u8>) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the client");
    let mut input = child.stdin.take().expect("stdin pipe");
    // The client may exit before it reads everything: a broken pipe is no failure.
    let writer = thread::spawn(move || {
        let _ = input.write_all(&stdin);
    });
    let drain = |stream: Option<Box<dyn Read + Send>>| {
        thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut stream) = stream {
                let _ = stream.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let status = wait_or_kill(&mut child, RUN_LIMIT)
        .expect("wait for the client")
        .unwrap_or_else(|| panic!("the client ran longer than {RUN_LIMIT:?} and was killed"));
    let _ = writer.join();
    Output {
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    }
}

pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Writes an executable askpass script that logs each prompt to `askpass.log` and
/// answers `answer`.
pub(crate) fn askpass(dir: &ScratchDir, answer: &str) -> (PathBuf, PathBuf) {
    let log = dir.join("askpass.log");
    let script = format!(
        "#!/bin/sh\nprintf '%s|%s\\n' \"$SSH_ASKPASS_PROMPT\" \"$1\" >> '{}'\necho '{answer}'\n",
        log.display()
    );
    let path = dir.write("askpass", script).expect("write askpass");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    (path, log)
}

/// `command` in a new session under `setsid -w`, so without a controlling terminal
/// (`/dev/tty` cannot be opened), as under cron or a CI runner.
pub(crate) fn without_terminal(command: &Command) -> Command {
    let setsid = "/usr/bin/setsid";
    assert!(
        Path::new(setsid).exists(),
        "{setsid} is missing: install the util-linux package"
    );
    let mut detached = Command::new(setsid);
    detached
        .arg("-w")
        .arg(command.get_program())
        .args(command.get_args());
    for (name, value) in command.get_envs() {
        match value {
            Some(value) => detached.env(name, value),
            None => detached.env_remove(name),
        };
    }
    detached
}
