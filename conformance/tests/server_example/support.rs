//! The server example as a test peer: built once, started on a free loopback port
//! with a temporary host key, authorized_keys and password, and OpenSSH's `ssh`
//! pointed at it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::thread;
use std::time::Duration;

use sansh_conformance::build::{BuildOptions, cargo_build};
use sansh_conformance::openssh::{SFTP, SSH};
use sansh_conformance::process::wait_or_kill;
use sansh_conformance::scratch::ScratchDir;
use sansh_core::crypto::SystemRandom;
use sansh_core::keys::{KeyType, PrivateKey};

/// How long the example may take to print `listening on`.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long one ssh run may take, unless a test says otherwise.
pub(crate) const SSH_TIMEOUT: Duration = Duration::from_secs(60);
/// The password the example is started with.
pub(crate) const PASSWORD: &str = "example password: 1 2 3";

/// Whether this test binary (and so the example it runs) is an optimised build.
pub(crate) const RELEASE: bool = !cfg!(debug_assertions);

/// Builds the example once, in this test's profile, and returns its path.
pub(crate) fn example() -> &'static Path {
    static EXAMPLE: OnceLock<PathBuf> = OnceLock::new();
    EXAMPLE.get_or_init(|| build_example().expect("build the server example"))
}

fn build_example() -> Result<PathBuf, String> {
    let options = BuildOptions {
        release: RELEASE,
        target_dir: None,
    };
    cargo_build("sansh-tokio", "example", "server", options)
}

/// The user running the tests: the example's account.
pub(crate) fn current_user() -> String {
    let out = Command::new("id").arg("-un").output().expect("run id -un");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A running example server, killed on drop.
pub(crate) struct Server {
    child: Child,
    pub(crate) addr: SocketAddr,
    pub(crate) dir: ScratchDir,
    pub(crate) user: String,
    /// The client key authorized_keys lists.
    pub(crate) identity: PathBuf,
    known_hosts: PathBuf,
    /// What the example wrote to stderr (its per-connection log).
    log: Arc<Mutex<String>>,
    /// The lines it printed before `listening on`.
    pub(crate) banner: Vec<String>,
}

/// How to start the example.
pub(crate) struct Options<'a> {
    /// authorized_keys options before the client key (`command="..."`, ...).
    pub(crate) key_options: &'a str,
    /// Start it with `--password USER:PASSWORD` (otherwise it makes one up).
    pub(crate) password: bool,
    /// More arguments.
    pub(crate) extra: &'a [&'a str],
}

impl Server {
    /// Starts the example with a fresh host key, an authorized_keys holding a fresh
    /// client key, `--password USER:PASSWORD`, and `extra` arguments.
    pub(crate) fn start(extra: &[&str]) -> Self {
        Self::start_with(&Options {
            key_options: "",
            password: true,
            extra,
        })
    }

    /// Starts the example as `options` say.
    pub(crate) fn start_with(options: &Options<'_>) -> Self {
        let dir = ScratchDir::new("server-example").expect("scratch dir");
        let user = current_user();
        let host_key =
            PrivateKey::generate(KeyType::Ed25519, None, &mut SystemRandom).expect("host key");
        let host_key_file = write_key(&dir, "host_key", &host_key);
        let client_key =
            PrivateKey::generate(KeyType::Ed25519, None, &mut SystemRandom).expect("client key");
        let identity = write_key(&dir, "id_ed25519", &client_key);
        let authorized = client_key.public_key().to_openssh("client");
        let authorized_keys = dir
            .write(
                "authorized_keys",
                format!("{} {authorized}\n", options.key_options),
            )
            .expect("write authorized_keys");

        let mut command = Command::new(example());
        command
            .args(["--listen", "127.0.0.1:0", "--host-key"])
            .arg(&host_key_file)
            .arg("--authorized-keys")
            .arg(&authorized_keys);
        if options.password {
            command.arg("--password").arg(format!("{user}:{PASSWORD}"));
        }
        let mut child = command
            .args(options.extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the server example");
        let log = Arc::new(Mutex::new(String::new()));
        if let Some(mut stderr) = child.stderr.take() {
            let log = log.clone();
            thread::spawn(move || {
                let mut line = String::new();
                let mut reader = BufReader::new(&mut stderr);
                while reader.read_line(&mut line).unwrap_or(0) > 0 {
                    log.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push_str(&line);
                    line.clear();
                }
            });
        }
        let stdout = child.stdout.take().expect("the example's stdout");
        let (found, listening) = mpsc::channel();
        thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let mut banner = Vec::new();
            for line in lines.by_ref().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("listening on ") {
                    let _ = found.send(addr.parse::<SocketAddr>().ok().map(|a| (a, banner)));
                    break;
                }
                banner.push(line);
            }
            // Keep draining, so the example never blocks on a full pipe.
            lines.for_each(drop);
        });
        let (addr, banner) = match listening.recv_timeout(START_TIMEOUT) {
            Ok(Some(started)) => started,
            outcome => {
                let _ = child.kill();
                let _ = child.wait();
                let log = log.lock().unwrap_or_else(|e| e.into_inner()).clone();
                panic!("the example did not print a listening address ({outcome:?}): {log}");
            }
        };
        let known_hosts = dir
            .write(
                "known_hosts",
                format!(
                    "[{}]:{} {}\n",
                    addr.ip(),
                    addr.port(),
                    host_key.public_key().to_openssh("")
                ),
            )
            .expect("write known_hosts");
        Self {
            child,
            addr,
            dir,
            user,
            identity,
            known_hosts,
            log,
            banner,
        }
    }

    /// The example's stderr so far, for failure messages.
    pub(crate) fn log(&self) -> String {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// `ssh` to the server as the current user with the client key, the server's
    /// host key checked strictly, isolated from the machine's configuration and
    /// agent. `options` come first (ssh keeps the first value it sees); `args` go
    /// before the destination (`-v` where a test reads ssh's log), `remote` after
    /// it.
    pub(crate) fn ssh(&self, options: &[&str], args: &[&str], remote: &[&str]) -> Command {
        let mut command = SSH
            .command()
            .expect("OpenSSH's ssh (install openssh-client)");
        command.args(["-F", "/dev/null"]);
        for option in options
            .iter()
            .copied()
            .chain(self.defaults().iter().map(String::as_str))
        {
            command.arg("-o").arg(option);
        }
        command
            .args(args)
            .arg("-p")
            .arg(self.addr.port().to_string())
            .arg("-l")
            .arg(&self.user)
            .arg(self.addr.ip().to_string())
            .args(remote)
            .env_remove("SSH_AUTH_SOCK")
            .env_remove("DISPLAY");
        command
    }

    /// The `-o` options every client run gets: the client key, the server's host
    /// key checked strictly, nothing from the machine's configuration.
    fn defaults(&self) -> Vec<String> {
        vec![
            "BatchMode=yes".into(),
            "IdentityAgent=none".into(),
            "IdentitiesOnly=yes".into(),
            format!("IdentityFile={}", self.identity.display()),
            format!("UserKnownHostsFile={}", self.known_hosts.display()),
            "StrictHostKeyChecking=yes".into(),
            "GlobalKnownHostsFile=/dev/null".into(),
            "UpdateHostKeys=no".into(),
            "CheckHostIP=no".into(),
            "ConnectTimeout=30".into(),
        ]
    }

    /// OpenSSH's `sftp -b BATCH` to the server, set up like [`Self::ssh`].
    pub(crate) fn sftp(&self, batch: &Path) -> Command {
        let mut command = SFTP
            .command()
            .expect("OpenSSH's sftp (install openssh-client)");
        command.args(["-F", "/dev/null", "-b"]).arg(batch);
        for option in self.defaults() {
            command.arg("-o").arg(option);
        }
        command
            .arg("-P")
            .arg(self.addr.port().to_string())
            .arg(format!("{}@{}", self.user, self.addr.ip()))
            .env_remove("SSH_AUTH_SOCK")
            .env_remove("DISPLAY");
        command
    }

    /// An executable askpass script that prints `answer`.
    pub(crate) fn askpass(&self, answer: &str) -> PathBuf {
        let path = self
            .dir
            .write("askpass", format!("#!/bin/sh\nprintf '%s\\n' '{answer}'\n"))
            .expect("write askpass");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700))
            .expect("make askpass executable");
        path
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn write_key(dir: &ScratchDir, name: &str, key: &PrivateKey) -> PathBuf {
    let text = key.to_openssh(None, &mut SystemRandom).expect("encode key");
    dir.write(name, text.as_bytes()).expect("write key")
}

/// How an ssh run ended.
#[derive(Debug)]
pub(crate) struct Run {
    /// `None` when ssh had to be killed at the timeout.
    pub(crate) status: Option<ExitStatus>,
    pub(crate) stdout: Vec<u8>,
    /// ssh's stderr: the remote stderr and its `-v` log.
    pub(crate) stderr: String,
}

impl Run {
    pub(crate) fn code(&self) -> Option<i32> {
        self.status.and_then(|s| s.code())
    }

    pub(crate) fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
}

/// Runs `command` with `stdin` fed then closed, stdout and stderr captured.
pub(crate) fn run(mut command: Command, stdin: &[u8]) -> Run {
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("spawn ssh");
    let mut input = child.stdin.take().expect("ssh's stdin");
    let data = stdin.to_vec();
    // A remote command that exits early closes the pipe; that is its business.
    let writer = thread::spawn(move || input.write_all(&data));
    let stdout = drain(child.stdout.take().expect("ssh's stdout"));
    let stderr = drain(child.stderr.take().expect("ssh's stderr"));
    let status = wait_or_kill(&mut child, SSH_TIMEOUT).expect("wait for ssh");
    let _ = writer.join();
    Run {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: String::from_utf8_lossy(&stderr.join().unwrap_or_default()).into_owned(),
    }
}

/// Reads `source` to its end on a thread.
pub(crate) fn drain(mut source: impl Read + Send + 'static) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut data = Vec::new();
        let _ = source.read_to_end(&mut data);
        data
    })
}
