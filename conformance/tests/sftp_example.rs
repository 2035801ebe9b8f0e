//! The `sftp` example (`cargo run -p sansh-tokio --example sftp`) in batch mode
//! against OpenSSH's `sshd`: every command, a failing command ending the batch with
//! exit code 1, and the host key policy.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use sansh_conformance::build::{BuildOptions, cargo_build};
use sansh_conformance::openssh::Sshd;
use sansh_conformance::scratch::ScratchDir;
use sansh_core::crypto::SystemRandom;
use sansh_core::keys::{KeyType, PrivateKey};

/// Builds the example once with the cargo running this test; returns its path.
fn example() -> &'static Path {
    static EXAMPLE: OnceLock<PathBuf> = OnceLock::new();
    EXAMPLE.get_or_init(|| build_example().expect("build the sftp example"))
}

fn build_example() -> Result<PathBuf, String> {
    cargo_build("sansh-tokio", "example", "sftp", BuildOptions::default())
}

/// An sshd letting the current user in with a fresh key, and local and remote
/// working directories.
struct Setup {
    sshd: Sshd,
    dir: ScratchDir,
    key_file: PathBuf,
    user: String,
    local: PathBuf,
    remote: PathBuf,
}

fn setup() -> Setup {
    let dir = ScratchDir::new("sftp-example").expect("scratch dir");
    let key = PrivateKey::generate(KeyType::Ed25519, None, &mut SystemRandom).expect("key");
    let text = key.to_openssh(None, &mut SystemRandom).expect("encode key");
    let key_file = dir.write("id_ed25519", text.as_bytes()).expect("write key");
    let sshd = Sshd::builder()
        .config("LogLevel INFO")
        .authorized_key(key.public_key().to_openssh("sftp-example"))
        .start()
        .expect("start sshd");
    let out = Command::new("id").arg("-un").output().expect("id -un");
    let user = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let (local, remote) = (dir.join("local"), dir.join("remote"));
    std::fs::create_dir(&local).expect("local dir");
    std::fs::create_dir(&remote).expect("remote dir");
    Setup {
        sshd,
        dir,
        key_file,
        user,
        local,
        remote,
    }
}

impl Setup {
    /// Runs the example with `batch` as its batch file and `extra` options.
    fn run(&self, batch: &str, extra: &[&str]) -> Output {
        let batch_file = self.dir.write("batch", batch.as_bytes()).expect("batch");
        let known_hosts = self.dir.join("known_hosts");
        Command::new(example())
            .arg("-P")
            .arg(self.sshd.port().to_string())
            .arg("-i")
            .arg(&self.key_file)
            .arg("-o")
            .arg(format!("UserKnownHostsFile={}", known_hosts.display()))
            .args(extra)
            .arg("-b")
            .arg(batch_file)
            .arg(format!("{}@127.0.0.1", self.user))
            .stdin(Stdio::null())
            .output()
            .expect("run the example")
    }
}

fn show(output: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn batch_mode_runs_every_command_against_sshd() {
    let setup = setup();
    let (local, remote) = (&setup.local, &setup.remote);
    std::fs::write(local.join("up.txt"), b"uploaded").expect("local test file");
    std::fs::create_dir_all(local.join("tree/sub")).expect("local test file");
    std::fs::write(local.join("tree/sub/b.txt"), b"deep").expect("local test file");
    let batch = format!(
        "lcd {local}\nlpwd\ncd {remote}\npwd\nmkdir dir\nput up.txt dir/up.txt\n\
         put -r tree\nls\nls -l dir\nget dir/up.txt down.txt\nget -r tree tree-down\n\
         rename dir/up.txt dir/moved.txt\nchmod 600 dir/moved.txt\nln -s moved.txt dir/sym\n\
         ln dir/moved.txt dir/hard\nls -l dir\ndf\ndf -h\nrm dir/sym\nrm dir/hard\n\
         rm dir/moved.txt\nrmdir dir\nquit\nmkdir after-quit\n",
        local = local.display(),
        remote = remote.display()
    );
    let output = setup.run(&batch, &["-o", "StrictHostKeyChecking=accept-new"]);
    let text = show(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(&format!("Local working directory: {}", local.display())),
        "{text}"
    );
    assert!(
        stdout.contains(&format!("Remote working directory: {}", remote.display())),
        "{text}"
    );
    assert!(
        stdout.contains("sftp> put -r tree"),
        "batch lines are echoed: {text}"
    );
    assert!(stdout.lines().any(|l| l == "tree"), "ls lists: {text}");
    assert!(
        stdout.contains("-rw-------"),
        "chmod shows in ls -l: {text}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with('l') && l.ends_with("sym")),
        "{text}"
    );
    assert!(stdout.contains("%Capacity"), "df: {text}");
    assert_eq!(
        std::fs::read(local.join("down.txt")).expect("local test file"),
        b"uploaded"
    );
    assert_eq!(
        std::fs::read(local.join("tree-down/sub/b.txt")).expect("local test file"),
        b"deep"
    );
    assert_eq!(
        std::fs::read(remote.join("tree/sub/b.txt")).expect("local test file"),
        b"deep"
    );
    assert!(
        !remote.join("dir").exists(),
        "rm and rmdir emptied it: {text}"
    );
    assert!(!remote.join("after-quit").exists(), "quit ends the batch");
}

#[test]
fn a_failing_command_stops_the_batch_with_exit_code_1() {
    let setup = setup();
    let remote = setup.remote.display();
    let batch =
        format!("cd {remote}\nmkdir first\n-rm ignored-missing\nrm missing\nmkdir second\n");
    let output = setup.run(&batch, &["-o", "StrictHostKeyChecking=accept-new"]);
    let text = show(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(setup.remote.join("first").is_dir(), "{text}");
    assert!(!setup.remote.join("second").exists(), "{text}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("missing"), "the failure is named: {text}");
}

#[test]
fn an_unknown_host_key_is_recorded_with_accept_new_and_refused_with_yes() {
    let setup = setup();
    let refused = setup.run("pwd\n", &["-o", "StrictHostKeyChecking=yes"]);
    assert_eq!(refused.status.code(), Some(255), "{}", show(&refused));
    assert!(!setup.dir.join("known_hosts").exists());
    let accepted = setup.run("pwd\n", &["-o", "StrictHostKeyChecking=accept-new"]);
    assert_eq!(accepted.status.code(), Some(0), "{}", show(&accepted));
    let recorded = std::fs::read_to_string(setup.dir.join("known_hosts")).expect("local test file");
    assert!(recorded.contains("127.0.0.1"), "{recorded}");
    let again = setup.run("pwd\n", &["-o", "StrictHostKeyChecking=yes"]);
    assert_eq!(again.status.code(), Some(0), "now known: {}", show(&again));
}
