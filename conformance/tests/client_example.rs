//! The ssh-like client example (`cargo run -p sansh-tokio --example client`) against
//! OpenSSH's `sshd`, run as a user would run `ssh`: exit codes, stdout and stderr
//! apart, stdin, known_hosts as ssh checks it, passwords and passphrases from
//! `SSH_ASKPASS`, `BatchMode`, key files, agent keys, algorithm restrictions, a pty.

#[allow(dead_code)]
#[path = "auth/peers.rs"]
mod peers;

use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::thread;
use std::time::Duration;

use sansh_conformance::openssh::{SSH, SSH_KEYGEN, Sshd, SshdBuilder};
use sansh_conformance::process::wait_or_kill;
use sansh_conformance::scratch::ScratchDir;
use sansh_core::crypto::SystemRandom;
use sansh_core::keys::{KeyType, PrivateKey};

use peers::{KEY_TYPES, KeyFile, PASSPHRASE, SshAgent, TEST_PASSWORD, TEST_USER};

/// How long one client run may take before the test kills it and fails.
const RUN_LIMIT: Duration = Duration::from_secs(120);
/// How long sshd may take to log a line about a connection that has ended.
const LOG_WAIT: Duration = Duration::from_secs(20);

/// Builds the example once with the cargo running this test; returns its path.
fn example() -> &'static Path {
    static EXAMPLE: OnceLock<PathBuf> = OnceLock::new();
    EXAMPLE.get_or_init(|| build_example().expect("build the client example"))
}

fn build_example() -> Result<PathBuf, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
    let output = Command::new(cargo)
        .args(["build", "--locked", "--quiet", "--message-format=json"])
        .args(["-p", "sansh-tokio", "--example", "client"])
        .arg("--manifest-path")
        .arg(manifest)
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .filter(|l| l.contains("\"kind\":[\"example\"]") && l.contains("\"name\":\"client\""))
        .find_map(|l| {
            let start = l.find("\"executable\":\"")? + "\"executable\":\"".len();
            let end = start + l[start..].find('"')?;
            Some(PathBuf::from(&l[start..end]))
        })
        .ok_or_else(|| "cargo reported no client executable".into())
}

/// An sshd, a key it lets the current user in with, and a scratch home directory.
struct Setup {
    sshd: Sshd,
    dir: ScratchDir,
    key_file: PathBuf,
    user: String,
}

/// An sshd at `LogLevel INFO` (at debug levels sshd's session process writes to the
/// session's stderr) trusting a fresh Ed25519 key.
fn setup() -> Setup {
    setup_with(Sshd::builder().config("LogLevel INFO"))
}

fn setup_with(builder: SshdBuilder) -> Setup {
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
    fn client(&self, known_hosts: &Path) -> Command {
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
    fn keyed(&self, known_hosts: &Path) -> Command {
        let mut cmd = self.client(known_hosts);
        cmd.args(["-l", &self.user, "-i"]).arg(&self.key_file);
        cmd
    }

    /// A known_hosts file trusting sshd under `[127.0.0.1]:port`.
    fn trusted(&self) -> PathBuf {
        self.dir
            .write("known_hosts", self.sshd.known_hosts())
            .expect("write known_hosts")
    }
}

/// `-o Name=path`.
fn option(name: &str, path: &Path) -> OsString {
    let mut option = OsString::from(format!("{name}="));
    option.push(path);
    option
}

/// Runs `cmd` with `stdin` fed to it, its output collected; fails the test if it
/// outlives [`RUN_LIMIT`].
fn run(cmd: &mut Command, stdin: Vec<u8>) -> Output {
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
    let stdout = drain(child.stdout.take().map(|s| Box::new(s) as Box<dyn Read + Send>));
    let stderr = drain(child.stderr.take().map(|s| Box::new(s) as Box<dyn Read + Send>));
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

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Writes an executable askpass script that logs each prompt to `askpass.log` and
/// answers `answer`.
fn askpass(dir: &ScratchDir, answer: &str) -> (PathBuf, PathBuf) {
    let log = dir.join("askpass.log");
    let script = format!(
        "#!/bin/sh\nprintf '%s|%s\\n' \"$SSH_ASKPASS_PROMPT\" \"$1\" >> '{}'\necho '{answer}'\n",
        log.display()
    );
    let path = dir.write("askpass", script).expect("write askpass");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    (path, log)
}

#[test]
fn the_remote_exit_status_is_the_exit_code() {
    let setup = setup();
    let output = run(
        setup
            .keyed(&setup.trusted())
            .args(["127.0.0.1", "exit 3"]),
        Vec::new(),
    );
    assert_eq!(output.status.code(), Some(3), "{}", text(&output.stderr));
}

#[test]
fn stdout_and_stderr_stay_apart() {
    let setup = setup();
    let output = run(
        setup
            .keyed(&setup.trusted())
            .args(["127.0.0.1", "echo out; echo err >&2; echo out2"]),
        Vec::new(),
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "out\nout2\n");
    assert_eq!(text(&output.stderr), "err\n");
}

#[test]
fn stdin_goes_through_cat_and_back_intact() {
    let setup = setup();
    // Larger than the channel window, so both directions wait for window adjusts.
    let input: Vec<u8> = (0..6 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let checksum = |bytes: &[u8]| {
        bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
        })
    };
    let output = run(
        setup.keyed(&setup.trusted()).args(["127.0.0.1", "cat"]),
        input.clone(),
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(output.stdout.len(), input.len());
    assert_eq!(checksum(&output.stdout), checksum(&input));
}

#[test]
fn an_unknown_host_is_refused_with_strict_checking() {
    let setup = setup();
    let known_hosts = setup.dir.join("known_hosts");
    let output = run(
        setup
            .keyed(&known_hosts)
            .args(["-o", "StrictHostKeyChecking=yes", "127.0.0.1", "echo ran"]),
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
        .args(["-o", "GlobalKnownHostsFile=/dev/null", "-o", "IdentitiesOnly=yes"])
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
        stderr.contains(&format!("Offending ED25519 key in {}:1", known_hosts.display())),
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
    assert!(asked.starts_with("confirm|The authenticity of host"), "{asked}");
    assert!(known_hosts.exists(), "the confirmed key is recorded");
}

fn pam_sshd() -> Setup {
    peers::require_test_user().expect("the PAM test account");
    setup_with(
        Sshd::builder()
            .config("LogLevel INFO")
            .config("UsePAM yes")
            .config("PasswordAuthentication yes")
            .config("KbdInteractiveAuthentication yes"),
    )
}

/// The test account's shell is nologin: once in, the session prints its refusal
/// and exits 1, which proves the login (255 would be ours).
fn assert_logged_in_as_the_test_user(output: &Output) {
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("not available"), "{stdout}");
}

#[test]
fn keyboard_interactive_password_comes_from_askpass() {
    let setup = pam_sshd();
    let (askpass, log) = askpass(&setup.dir, TEST_PASSWORD);
    let output = run(
        setup
            .client(&setup.trusted())
            .arg(format!("{TEST_USER}@127.0.0.1"))
            .arg("true")
            .env("SSH_ASKPASS", &askpass)
            .env("SSH_ASKPASS_REQUIRE", "force"),
        Vec::new(),
    );
    assert_logged_in_as_the_test_user(&output);
    let asked = std::fs::read_to_string(&log).expect("askpass was run");
    assert!(asked.contains("Password"), "{asked}");
    setup
        .sshd
        .wait_for_log(
            &format!("Accepted keyboard-interactive/pam for {TEST_USER}"),
            LOG_WAIT,
        )
        .expect("sshd logs the login");
}

#[test]
fn password_authentication_asks_askpass_for_the_password() {
    let setup = pam_sshd();
    let (askpass, log) = askpass(&setup.dir, TEST_PASSWORD);
    let output = run(
        setup
            .client(&setup.trusted())
            .args(["-l", TEST_USER, "-o", "KbdInteractiveAuthentication=no"])
            .args(["127.0.0.1", "true"])
            .env("SSH_ASKPASS", &askpass)
            .env("SSH_ASKPASS_REQUIRE", "force"),
        Vec::new(),
    );
    assert_logged_in_as_the_test_user(&output);
    let asked = std::fs::read_to_string(&log).expect("askpass was run");
    assert_eq!(asked, format!("|{TEST_USER}@127.0.0.1's password: \n"));
    setup
        .sshd
        .wait_for_log(&format!("Accepted password for {TEST_USER}"), LOG_WAIT)
        .expect("sshd logs the login");
}

#[test]
fn batch_mode_never_prompts() {
    let setup = pam_sshd();
    let (askpass, log) = askpass(&setup.dir, TEST_PASSWORD);
    let output = run(
        setup
            .client(&setup.trusted())
            .args(["-l", TEST_USER, "-o", "BatchMode=yes", "127.0.0.1", "true"])
            .env("SSH_ASKPASS", &askpass)
            .env("SSH_ASKPASS_REQUIRE", "force"),
        Vec::new(),
    );
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(255), "{stderr}");
    assert!(stderr.contains("Permission denied"), "{stderr}");
    assert!(!log.exists(), "askpass must not run in batch mode");
}

#[test]
fn an_encrypted_key_file_opens_with_the_passphrase_from_askpass() {
    let setup = setup();
    let key = KeyFile::generate(&setup.dir, "id_encrypted", KEY_TYPES[0], Some(PASSPHRASE))
        .expect("ssh-keygen");
    std::fs::write(
        setup.sshd.authorized_keys_path(),
        key.public_line().expect("public line"),
    )
    .expect("authorize the key");
    let (askpass, log) = askpass(&setup.dir, PASSPHRASE);
    let output = run(
        setup
            .client(&setup.trusted())
            .args(["-l", &setup.user, "-i"])
            .arg(&key.path)
            .args(["127.0.0.1", "exit 8"])
            .env("SSH_ASKPASS", &askpass)
            .env("SSH_ASKPASS_REQUIRE", "force"),
        Vec::new(),
    );
    assert_eq!(output.status.code(), Some(8), "{}", text(&output.stderr));
    let asked = std::fs::read_to_string(&log).expect("askpass was run");
    assert!(asked.contains("Enter passphrase for key"), "{asked}");
}

#[test]
fn keys_in_the_agent_log_in() {
    let setup = setup();
    let agent = SshAgent::start().expect("ssh-agent");
    agent
        .ssh_add(&[setup.key_file.as_os_str()])
        .expect("ssh-add");
    let output = run(
        setup
            .client(&setup.trusted())
            .args(["-l", &setup.user, "127.0.0.1", "exit 11"])
            .env("SSH_AUTH_SOCK", agent.socket()),
        Vec::new(),
    );
    assert_eq!(output.status.code(), Some(11), "{}", text(&output.stderr));
    setup
        .sshd
        .wait_for_log(&format!("Accepted publickey for {}", setup.user), LOG_WAIT)
        .expect("sshd logs the login");
}

#[test]
fn ciphers_macs_and_kex_options_restrict_what_is_negotiated() {
    // sshd logs what it negotiated at debug level (its default here).
    let setup = setup_with(Sshd::builder());
    let output = run(
        setup.keyed(&setup.trusted()).args([
            "-c",
            "aes128-ctr",
            "-m",
            "hmac-sha2-256",
            "-o",
            "KexAlgorithms=curve25519-sha256",
            "-o",
            "HostKeyAlgorithms=ecdsa-sha2-nistp256",
            "127.0.0.1",
            "true",
        ]),
        Vec::new(),
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    for needle in [
        "kex: algorithm: curve25519-sha256",
        "kex: host key algorithm: ecdsa-sha2-nistp256",
        "kex: client->server cipher: aes128-ctr MAC: hmac-sha2-256 ",
        "kex: server->client cipher: aes128-ctr MAC: hmac-sha2-256 ",
    ] {
        setup
            .sshd
            .wait_for_log(needle, LOG_WAIT)
            .unwrap_or_else(|e| panic!("sshd never logged {needle:?}: {e}"));
    }
}

#[test]
fn forced_tty_gives_the_command_a_pty() {
    let setup = setup();
    let output = run(
        setup
            .keyed(&setup.trusted())
            .args(["-tt", "127.0.0.1", "tty"]),
        Vec::new(),
    );
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(stdout.starts_with("/dev/pts/"), "{stdout:?}");
}

#[test]
fn without_a_tty_no_pty_is_requested() {
    let setup = setup();
    let output = run(
        setup.keyed(&setup.trusted()).args(["127.0.0.1", "tty"]),
        Vec::new(),
    );
    // tty(1) exits 1 and prints "not a tty" without a terminal.
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "not a tty\n");
}

#[test]
fn a_command_killed_by_a_signal_exits_255_saying_so() {
    let setup = setup();
    let output = run(
        setup
            .keyed(&setup.trusted())
            .args(["127.0.0.1", "kill -TERM $$"]),
        Vec::new(),
    );
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(255), "{stderr}");
    assert!(stderr.contains("signal TERM"), "{stderr}");
}

#[test]
fn a_refused_connection_exits_255() {
    let setup = setup();
    let port = setup.sshd.port();
    drop(setup.sshd);
    let mut cmd = Command::new(example());
    cmd.args(["-p", &port.to_string(), "-o", "BatchMode=yes", "127.0.0.1", "true"])
        .env("HOME", setup.dir.path());
    let output = run(&mut cmd, Vec::new());
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(255), "{stderr}");
    assert!(
        stderr.contains(&format!("connect to host 127.0.0.1 port {port}")),
        "{stderr}"
    );
}
