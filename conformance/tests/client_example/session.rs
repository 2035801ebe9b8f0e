//! Running commands: exit codes, the streams, stdin, algorithms, a pty, signals.

use std::process::{Command, Stdio};

use sansh_conformance::openssh::Sshd;

use sansh_conformance::process::wait_or_kill;

use crate::support::{LOG_WAIT, RUN_LIMIT, example, run, setup, setup_with, text};

#[test]
fn the_remote_exit_status_is_the_exit_code() {
    let setup = setup();
    let output = run(
        setup.keyed(&setup.trusted()).args(["127.0.0.1", "exit 3"]),
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
fn stdin_keeps_flowing_after_the_remote_closed_its_output() {
    let setup = setup();
    let received = setup.dir.join("received");
    // Larger than the channel window: most of it is sent after the remote side's
    // EOF on stdout and stderr has arrived.
    let input: Vec<u8> = (0..4 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let command = format!("exec >&- 2>&-; cat > '{}'", received.display());
    let output = run(
        setup.keyed(&setup.trusted()).args(["127.0.0.1", &command]),
        input.clone(),
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let got = std::fs::read(&received).expect("the remote command wrote its input");
    assert_eq!(got.len(), input.len());
    assert!(got == input, "the remote side received other bytes");
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
    cmd.args([
        "-p",
        &port.to_string(),
        "-o",
        "BatchMode=yes",
        "127.0.0.1",
        "true",
    ])
    .env("HOME", setup.dir.path());
    let output = run(&mut cmd, Vec::new());
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(255), "{stderr}");
    assert!(
        stderr.contains(&format!("connect to host 127.0.0.1 port {port}")),
        "{stderr}"
    );
}

#[test]
fn set_env_and_send_env_reach_the_remote_command() {
    let setup = setup_with(
        Sshd::builder()
            .config("LogLevel INFO")
            .config("AcceptEnv SANSH_*"),
    );
    let output = run(
        setup
            .keyed(&setup.trusted())
            .args(["-o", "SetEnv=SANSH_ONE=1", "-o", "SendEnv=SANSH_T*"])
            .args([
                "127.0.0.1",
                "echo \"$SANSH_ONE $SANSH_TWO ${SANSH_UNSENT:-unset}\"",
            ])
            .env("SANSH_TWO", "2")
            .env("SANSH_UNSENT", "3"),
        Vec::new(),
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "1 2 unset\n");
}

#[test]
fn a_command_that_closes_its_output_early_gets_eof_when_our_stdin_ends() {
    let setup = setup();
    let mut child = setup
        .keyed(&setup.trusted())
        .args(["127.0.0.1", "exec >&- 2>&-; cat > /dev/null; exit 2"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the client");
    // As with ssh, the remote side reads our stdin until it ends, whether or not it
    // still writes: closing ours is what gives it EOF, and then its exit status.
    drop(child.stdin.take());
    let status = wait_or_kill(&mut child, RUN_LIMIT).expect("wait for the client");
    assert_eq!(status.and_then(|s| s.code()), Some(2), "{status:?}");
}
