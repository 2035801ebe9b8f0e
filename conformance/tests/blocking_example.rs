//! The blocking client example (`cargo run -p sansh-core --example blocking_client`)
//! against OpenSSH's `sshd`: the engine driven over a plain `TcpStream` runs a
//! command, keeps its stdout and stderr apart, returns its exit status, and checks
//! the host key against known_hosts.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use sansh_conformance::build::{BuildOptions, cargo_build};
use sansh_conformance::openssh::Sshd;
use sansh_conformance::scratch::ScratchDir;
use sansh_core::crypto::SystemRandom;
use sansh_core::keys::{KeyType, PrivateKey};

const COMMAND: &str = "echo hi; echo err >&2; exit 3";

/// Builds the example once with the cargo running this test; returns its path.
fn example() -> &'static Path {
    static EXAMPLE: OnceLock<PathBuf> = OnceLock::new();
    EXAMPLE.get_or_init(|| build_example().expect("build the blocking_client example"))
}

fn build_example() -> Result<PathBuf, String> {
    cargo_build(
        "sansh-core",
        "example",
        "blocking_client",
        BuildOptions::default(),
    )
}

/// An sshd that lets the current user in with a fresh Ed25519 key.
struct Setup {
    sshd: Sshd,
    dir: ScratchDir,
    key_file: PathBuf,
    user: String,
}

fn setup() -> Setup {
    let dir = ScratchDir::new("blocking-example").expect("scratch dir");
    let key = PrivateKey::generate(KeyType::Ed25519, None, &mut SystemRandom).expect("key");
    let text = key.to_openssh(None, &mut SystemRandom).expect("encode key");
    let key_file = dir.write("id_ed25519", text.as_bytes()).expect("write key");
    let sshd = Sshd::builder()
        // At debug levels sshd's session process logs a line to the session's stderr.
        .config("LogLevel INFO")
        .authorized_key(key.public_key().to_openssh("blocking-example"))
        .start()
        .expect("start sshd");
    let out = Command::new("id").arg("-un").output().expect("id -un");
    let user = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    Setup {
        sshd,
        dir,
        key_file,
        user,
    }
}

impl Setup {
    /// Runs the example against sshd with `extra` options, stdin closed.
    fn run(&self, known_hosts: &Path, extra: &[&str]) -> Output {
        self.command(known_hosts, extra, COMMAND)
            .stdin(Stdio::null())
            .output()
            .expect("run the example")
    }

    /// The example's command line, with `command` run remotely.
    fn command(&self, known_hosts: &Path, extra: &[&str], command: &str) -> Command {
        let mut cmd = Command::new(example());
        cmd.arg("-p")
            .arg(self.sshd.port().to_string())
            .args(["-l", &self.user, "-i"])
            .arg(&self.key_file)
            .arg("--known-hosts")
            .arg(known_hosts)
            .args(extra)
            .args(["127.0.0.1", command]);
        cmd
    }

    /// A known_hosts file trusting sshd.
    fn trusted(&self) -> PathBuf {
        let text = self.sshd.known_hosts();
        self.dir
            .write("known_hosts", text)
            .expect("write known_hosts")
    }
}

#[test]
fn example_runs_a_command_with_stdout_stderr_and_exit_status() {
    let setup = setup();
    let output = setup.run(&setup.trusted(), &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "stderr: {stderr}");
    assert_eq!(String::from_utf8_lossy(&output.stdout), "hi\n");
    assert_eq!(stderr, "err\n");
}

#[test]
fn example_refuses_an_unknown_host_key_without_accept_new() {
    let setup = setup();
    let known_hosts = setup.dir.join("known_hosts");
    let output = setup.run(&known_hosts, &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(255), "stderr: {stderr}");
    assert!(output.stdout.is_empty(), "the command must not run");
    assert!(stderr.contains("host key verification failed"), "{stderr}");
    assert!(!known_hosts.exists(), "nothing is recorded");
}

#[test]
fn example_records_an_unknown_host_key_with_accept_new_and_trusts_it_next_time() {
    let setup = setup();
    let known_hosts = setup.dir.join("known_hosts");
    let first = setup.run(&known_hosts, &["--accept-new"]);
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert_eq!(first.status.code(), Some(3), "stderr: {stderr}");
    let recorded = std::fs::read_to_string(&known_hosts).expect("known_hosts written");
    let prefix = format!("[127.0.0.1]:{} ", setup.sshd.port());
    assert!(recorded.starts_with(&prefix), "{recorded}");

    let second = setup.run(&known_hosts, &[]);
    assert_eq!(second.status.code(), Some(3));
    assert_eq!(String::from_utf8_lossy(&second.stderr), "err\n");
}

#[test]
fn example_copies_its_stdin_to_the_remote_command() {
    let setup = setup();
    // Larger than the channel window, so the copy has to wait for window adjusts.
    let input: Vec<u8> = (0..5 * 1024 * 1024).map(|i: u32| (i % 251) as u8).collect();
    let mut child = setup
        .command(&setup.trusted(), &[], "cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the example");
    let mut stdin = child.stdin.take().expect("stdin pipe");
    let writer = std::thread::spawn(move || stdin.write_all(&input).map(|()| input));
    let output = child.wait_with_output().expect("wait for the example");
    let input = writer.join().expect("writer thread").expect("write stdin");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "stderr: {stderr}");
    assert!(
        output.stdout == input,
        "{} bytes came back",
        output.stdout.len()
    );
}

#[test]
fn example_exits_with_128_plus_the_signal_that_killed_the_command() {
    let setup = setup();
    let output = setup
        .command(&setup.trusted(), &[], "kill -TERM $$")
        .stdin(Stdio::null())
        .output()
        .expect("run the example");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(128 + 15), "stderr: {stderr}");
    assert!(stderr.contains("signal TERM"), "{stderr}");
}
