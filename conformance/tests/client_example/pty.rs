//! The client on a real local terminal: util-linux `script` runs a shell script on
//! a fresh pty, which sets the terminal up, runs the client, and saves `stty -g`
//! before and after, so the tests can see what the remote pty got, what the
//! terminal showed (no echoed password), and that it came back as it was.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;

use sansh_conformance::process::wait_or_kill;

use crate::auth::pam_sshd;
use crate::peers::{TEST_PASSWORD, TEST_USER};
use crate::support::{RUN_LIMIT, Setup, example, run, setup, text};

/// Where `script` lives and the Debian package that has it.
const SCRIPT: &str = "/usr/bin/script";
const SCRIPT_PACKAGE: &str = "bsdutils";

/// The client's options for the shell script, trusting sshd (the destination and
/// command follow).
fn client_line(setup: &Setup) -> String {
    let known_hosts = setup.trusted();
    format!(
        "'{}' -p {} -l {} -i '{}' -o 'UserKnownHostsFile={}' -o GlobalKnownHostsFile=none",
        example().display(),
        setup.sshd.port(),
        setup.user,
        setup.key_file.display(),
        known_hosts.display(),
    )
}

/// `script` running `body` (a shell script; `$CLIENT` is the client's options, to
/// `eval`, with `exec` in a background job so that `$!` is the client) on a new
/// terminal, in the setup's directory.
fn terminal(setup: &Setup, body: &str) -> Command {
    assert!(
        Path::new(SCRIPT).exists(),
        "{SCRIPT} is missing: install the {SCRIPT_PACKAGE} package"
    );
    let dir = setup.dir.path();
    let script = format!(
        "cd '{}'\nCLIENT=\"{}\"\n{body}\n",
        dir.display(),
        client_line(setup).replace('"', "\\\""),
    );
    let path = setup
        .dir
        .write("terminal.sh", script)
        .expect("write script");
    let mut command = Command::new(SCRIPT);
    command
        .arg("-qec")
        .arg(format!("sh '{}'", path.display()))
        .arg("/dev/null")
        .env("TERM", "xterm-sansh")
        .env("HOME", dir)
        .env_remove("SSH_AUTH_SOCK")
        .env_remove("SSH_ASKPASS")
        .env_remove("SSH_ASKPASS_REQUIRE")
        .env_remove("DISPLAY");
    command
}

/// Runs `body` on a terminal with `typed` typed ahead; returns what the terminal
/// showed and the setup's directory.
fn on_terminal(setup: &Setup, body: &str, typed: &str) -> (String, PathBuf) {
    let output = run(&mut terminal(setup, body), typed.as_bytes().to_vec());
    let shown = text(&output.stdout);
    assert!(output.status.success(), "script failed: {shown}");
    (shown, setup.dir.path().to_path_buf())
}

/// Runs `body` on a terminal, types `answer` once the terminal shows `prompt`, and
/// returns everything it showed.
fn answer_on_terminal(setup: &Setup, body: &str, prompt: &str, answer: &str) -> String {
    let mut child = terminal(setup, body)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn script");
    let (chunks, received) = mpsc::channel();
    let mut stdout = child.stdout.take().expect("stdout pipe");
    let reader = thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 || chunks.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut stdin = child.stdin.take().expect("stdin pipe");
    let mut shown = Vec::new();
    let mut answered = false;
    // Ends when script closes its output (it has exited) or stays silent too long.
    while let Ok(chunk) = received.recv_timeout(RUN_LIMIT) {
        shown.extend_from_slice(&chunk);
        if !answered && text(&shown).contains(prompt) {
            stdin.write_all(answer.as_bytes()).expect("type the answer");
            answered = true;
        }
    }
    drop(stdin);
    let status = wait_or_kill(&mut child, RUN_LIMIT).expect("wait for script");
    let _ = reader.join();
    let shown = text(&shown);
    assert!(answered, "the terminal never showed {prompt:?}: {shown}");
    assert!(
        status.is_some_and(|s| s.success()),
        "script failed: {shown}"
    );
    shown
}

/// The terminal's settings before and after the client ran are the same.
fn assert_restored(dir: &Path) {
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).expect("stty -g output");
    let (before, after) = (read("before"), read("after"));
    assert!(!before.is_empty());
    assert_eq!(before, after, "the terminal was not restored");
}

#[test]
fn the_remote_pty_gets_the_terminal_size_modes_and_term_and_raw_mode_ends() {
    let setup = setup();
    let (shown, dir) = on_terminal(
        &setup,
        "stty rows 40 cols 100 intr ^B\n\
         stty -g > before\n\
         eval \"$CLIENT -t 127.0.0.1\" \"'stty size; stty -a; echo TERM=\\$TERM'\"\n\
         echo \"code=$?\"\n\
         stty -g > after",
        "",
    );
    assert!(shown.contains("40 100\r\n"), "{shown}");
    assert!(shown.contains("intr = ^B;"), "{shown}");
    assert!(shown.contains("TERM=xterm-sansh\r\n"), "{shown}");
    assert!(shown.contains("code=0"), "{shown}");
    assert_restored(&dir);
}

#[test]
fn a_terminal_size_change_reaches_the_remote_pty() {
    let setup = setup();
    // The remote command reports its size on SIGWINCH; the script resizes once the
    // command has said it is ready (read through a fifo: no sleeping).
    let (shown, dir) = on_terminal(
        &setup,
        "stty rows 40 cols 100\n\
         stty -g > before\n\
         mkfifo fifo\n\
         eval \"exec $CLIENT -t 127.0.0.1\" \"'trap \\\"stty size; exit 4\\\" WINCH; echo ready; while :; do sleep 1; done'\" < /dev/tty > fifo 2>&1 &\n\
         pid=$!\n\
         exec 3< fifo\n\
         read -r line <&3\n\
         stty rows 50 cols 90\n\
         kill -WINCH $pid\n\
         cat <&3\n\
         wait $pid\n\
         echo \"code=$?\"\n\
         stty -g > after",
        "",
    );
    // `cat` copies the client's output from the fifo to the terminal, before or after
    // the client has restored it: the remote pty's "\r\n" may meet ONLCR there.
    assert!(shown.contains("50 90\r"), "{shown:?}");
    assert!(shown.contains("code=4"), "{shown}");
    assert_restored(&dir);
}

#[test]
fn sigterm_restores_the_terminal_and_exits_255() {
    let setup = setup();
    let (shown, dir) = on_terminal(
        &setup,
        "stty -g > before\n\
         mkfifo fifo\n\
         eval \"exec $CLIENT -t 127.0.0.1\" \"'echo ready; while :; do sleep 1; done'\" < /dev/tty > fifo 2>&1 &\n\
         pid=$!\n\
         exec 3< fifo\n\
         read -r line <&3\n\
         kill -TERM $pid\n\
         cat <&3\n\
         wait $pid\n\
         echo \"code=$?\"\n\
         stty -g > after",
        "",
    );
    assert!(shown.contains("Killed by signal TERM."), "{shown}");
    assert!(shown.contains("code=255"), "{shown}");
    assert_restored(&dir);
}

#[test]
fn without_a_command_a_shell_runs_on_a_pty_and_reads_what_is_typed() {
    let setup = setup();
    let (shown, dir) = on_terminal(
        &setup,
        "stty -g > before\n\
         eval \"$CLIENT 127.0.0.1\"\n\
         echo \"code=$?\"\n\
         stty -g > after",
        "echo $((6*7)); exit 5\n",
    );
    assert!(shown.contains("42\r\n"), "{shown}");
    assert!(shown.contains("code=5"), "{shown}");
    assert_restored(&dir);
}

#[test]
fn a_password_typed_at_the_terminal_prompt_logs_in_without_echo() {
    let setup = pam_sshd();
    let body = format!(
        "stty -g > before\n\
         eval \"$CLIENT -l {TEST_USER} -o PubkeyAuthentication=no 127.0.0.1 true\"\n\
         echo \"code=$?\"\n\
         stty -g > after"
    );
    let shown = answer_on_terminal(&setup, &body, "Password:", &format!("{TEST_PASSWORD}\n"));
    // Logged in: the account's nologin shell answers, and exits 1.
    assert!(shown.contains("not available"), "{shown}");
    assert!(shown.contains("code=1"), "{shown}");
    assert!(
        !shown.contains(TEST_PASSWORD),
        "the password was echoed: {shown}"
    );
    assert_restored(setup.dir.path());
}

#[test]
fn a_new_host_is_accepted_by_typing_yes_at_the_terminal() {
    let setup = setup();
    let shown = answer_on_terminal(
        &setup,
        "rm known_hosts\n\
         eval \"$CLIENT 127.0.0.1 'exit 3'\"\n\
         echo \"code=$?\"\n\
         echo \"recorded=$(wc -l < known_hosts)\"",
        "(yes/no/[fingerprint])? ",
        "yes\n",
    );
    assert!(shown.contains("The authenticity of host"), "{shown}");
    assert!(shown.contains("Permanently added"), "{shown}");
    assert!(shown.contains("code=3"), "{shown}");
    assert!(shown.contains("recorded=1"), "{shown}");
}
