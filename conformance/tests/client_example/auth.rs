//! Logging in: askpass for passwords, prompts and passphrases, BatchMode, the agent.

use std::process::Output;

use sansh_conformance::openssh::Sshd;

use crate::peers::{self, KEY_TYPES, KeyFile, PASSPHRASE, SshAgent, TEST_PASSWORD, TEST_USER};
use crate::support::{LOG_WAIT, Setup, askpass, run, setup, setup_with, text, without_terminal};

/// An sshd that lets the PAM test account in with its password.
pub(crate) fn pam_sshd() -> Setup {
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
fn without_a_terminal_askpass_answers_when_display_is_set() {
    let setup = pam_sshd();
    let (askpass, log) = askpass(&setup.dir, TEST_PASSWORD);
    let mut command = setup.client(&setup.trusted());
    command
        .args(["-l", TEST_USER, "127.0.0.1", "true"])
        .env("SSH_ASKPASS", &askpass)
        .env("DISPLAY", ":99");
    let output = run(&mut without_terminal(&command), Vec::new());
    assert_logged_in_as_the_test_user(&output);
    assert!(log.exists(), "askpass was not run");
}
