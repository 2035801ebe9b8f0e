//! The server example (`cargo run -p sansh-tokio --example server`) against
//! OpenSSH's `ssh` and `sftp`: key and password logins, commands with their stdout,
//! stderr and exit status, a shell on a pty, environment variables, signals, bulk
//! data, the algorithm flags, the `sftp` subsystem ([`sftp`]) and forwarding
//! ([`forwarding`]).
//!
//! The example is built in this test's profile; the bulk test sends 1 GiB through
//! an optimised build and 64 MiB through a debug one.

mod driver_client;
mod forwarding;
mod host_certificate;
mod sftp;
mod support;

use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::process::Stdio;
use std::thread;
use std::time::Duration;

use aws_lc_rs::digest::{Context, SHA256};
use sansh_conformance::process::wait_or_kill;

use support::{Options, PASSWORD, RELEASE, Server, drain, run};

#[test]
fn key_login_runs_a_command_with_its_exit_status_and_stderr_apart() {
    let server = Server::start(&[]);
    let ssh = server.ssh(
        &["LogLevel=ERROR"],
        &[],
        &["echo out; echo err >&2; exit 3"],
    );
    let out = run(ssh, b"");
    assert_eq!(out.code(), Some(3), "{out:?}\n{}", server.log());
    assert_eq!(out.stdout_text(), "out\n");
    assert_eq!(out.stderr, "err\n");
}

#[test]
fn password_login_through_askpass_runs_a_command() {
    let server = Server::start(&[]);
    let askpass = server.askpass(PASSWORD);
    let mut ssh = server.ssh(
        &[
            "BatchMode=no",
            "PubkeyAuthentication=no",
            "PreferredAuthentications=password",
            "NumberOfPasswordPrompts=1",
        ],
        &["-v"],
        &["echo in as $USER"],
    );
    ssh.env("SSH_ASKPASS", &askpass)
        .env("SSH_ASKPASS_REQUIRE", "force");
    let out = run(ssh, b"");
    assert_eq!(out.code(), Some(0), "{out:?}\n{}", server.log());
    assert!(out.stderr.contains("Authenticated to"), "{}", out.stderr);
    assert!(out.stderr.contains("using \"password\""), "{}", out.stderr);
    assert_eq!(out.stdout_text(), format!("in as {}\n", server.user));
}

#[test]
fn a_wrong_password_is_refused() {
    let server = Server::start(&[]);
    let askpass = server.askpass("not the password");
    let mut ssh = server.ssh(
        &[
            "BatchMode=no",
            "PubkeyAuthentication=no",
            "PreferredAuthentications=password",
            "NumberOfPasswordPrompts=1",
        ],
        &[],
        &["true"],
    );
    ssh.env("SSH_ASKPASS", &askpass)
        .env("SSH_ASKPASS_REQUIRE", "force");
    let out = run(ssh, b"");
    assert_eq!(out.code(), Some(255), "{out:?}");
    assert!(out.stderr.contains("Permission denied"), "{}", out.stderr);
}

#[test]
fn variables_from_send_env_and_set_env_reach_the_command() {
    let server = Server::start(&[]);
    let mut ssh = server.ssh(
        &["SendEnv=FOO", "SetEnv=BAR=from-set-env"],
        &[],
        &["echo \"$FOO|$BAR\""],
    );
    ssh.env("FOO", "from send env");
    let out = run(ssh, b"");
    assert_eq!(out.code(), Some(0), "{out:?}\n{}", server.log());
    assert_eq!(out.stdout_text(), "from send env|from-set-env\n");
}

#[test]
fn a_command_killed_by_a_signal_is_reported_to_ssh() {
    let server = Server::start(&[]);
    let out = run(server.ssh(&[], &["-v"], &["kill -TERM $$"]), b"");
    // OpenSSH's client has no exit status to give for a signal: it logs the
    // request and exits 255.
    assert_eq!(out.code(), Some(255), "{out:?}\n{}", server.log());
    assert!(
        out.stderr.contains("rtype exit-signal"),
        "no exit-signal in ssh's log:\n{}",
        out.stderr
    );
}

#[test]
fn shell_on_a_pty_runs_typed_commands_at_the_clients_terminal_size() {
    let server = Server::start(&[]);
    // ssh runs on a terminal of 33 rows and 101 columns, which it passes on in
    // its pty-req; what is typed on it goes to the remote shell.
    let (master, slave) = open_terminal(33, 101);
    let mut ssh = server.ssh(&[], &["-tt"], &[]);
    ssh.stdin(Stdio::from(slave.try_clone().expect("dup slave")))
        .stdout(Stdio::from(slave.try_clone().expect("dup slave")))
        .stderr(Stdio::piped());
    let mut child = ssh.spawn().expect("spawn ssh");
    // ssh alone holds the terminal now: the master reads EOF once it exits.
    drop(ssh);
    drop(slave);
    let log = drain(child.stderr.take().expect("ssh's stderr"));
    let mut master = std::fs::File::from(master);
    master
        .write_all(b"stty size; tty; exit 7\n")
        .expect("type into ssh's terminal");
    let screen = thread::spawn(move || {
        let mut screen = Vec::new();
        let mut chunk = [0u8; 4096];
        // Linux reports EIO once no one holds the terminal any more.
        while let Ok(n @ 1..) = master.read(&mut chunk) {
            screen.extend_from_slice(&chunk[..n]);
        }
        String::from_utf8_lossy(&screen).into_owned()
    });
    let status = wait_or_kill(&mut child, support::SSH_TIMEOUT).expect("wait for ssh");
    let screen = screen.join().unwrap_or_default();
    let log = String::from_utf8_lossy(&log.join().unwrap_or_default()).into_owned();
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(7),
        "{screen}\n{log}\n{}",
        server.log()
    );
    assert!(screen.contains("33 101\r\n"), "{screen}");
    assert!(screen.contains("/dev/pts/"), "{screen}");
}

/// A pty pair with the given window size (the test's own, for ssh to run on).
fn open_terminal(rows: u16, cols: u16) -> (OwnedFd, OwnedFd) {
    use rustix::pty::OpenptFlags;
    let flags = OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC;
    let master = rustix::pty::openpt(flags).expect("openpt");
    rustix::pty::grantpt(&master).expect("grantpt");
    rustix::pty::unlockpt(&master).expect("unlockpt");
    let slave = rustix::pty::ioctl_tiocgptpeer(&master, flags).expect("open the pty slave");
    let size = rustix::termios::Winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    rustix::termios::tcsetwinsize(&master, size).expect("set the window size");
    (master, slave)
}

#[test]
fn bulk_data_through_cat_comes_back_intact() {
    // 1 GiB through an optimised build; a debug build moves 64 MiB in the time.
    let len: u64 = if RELEASE { 1 << 30 } else { 64 << 20 };
    let server = Server::start(&[]);
    let mut ssh = server.ssh(&["Compression=no"], &[], &["cat"]);
    ssh.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = ssh.spawn().expect("spawn ssh");
    let mut input = child.stdin.take().expect("ssh's stdin");
    let mut output = child.stdout.take().expect("ssh's stdout");
    let log = drain(child.stderr.take().expect("ssh's stderr"));
    let sent = thread::spawn(move || {
        let mut digest = Context::new(&SHA256);
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut chunk = vec![0u8; 64 * 1024];
        let mut left = len;
        while left > 0 {
            for word in chunk.chunks_exact_mut(8) {
                // xorshift64: incompressible enough, and cheap in a debug build.
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                word.copy_from_slice(&state.to_le_bytes());
            }
            let n = left.min(chunk.len() as u64) as usize;
            if input.write_all(&chunk[..n]).is_err() {
                break;
            }
            digest.update(&chunk[..n]);
            left -= n as u64;
        }
        (len - left, digest.finish())
    });
    let received = thread::spawn(move || {
        let mut digest = Context::new(&SHA256);
        let mut chunk = vec![0u8; 64 * 1024];
        let mut total = 0u64;
        while let Ok(n @ 1..) = output.read(&mut chunk) {
            digest.update(&chunk[..n]);
            total += n as u64;
        }
        (total, digest.finish())
    });
    let status = wait_or_kill(&mut child, Duration::from_secs(600)).expect("wait for ssh");
    let (sent_len, sent_digest) = sent.join().expect("writer");
    let (received_len, received_digest) = received.join().expect("reader");
    let log = String::from_utf8_lossy(&log.join().unwrap_or_default()).into_owned();
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "{log}\n{}",
        server.log()
    );
    assert_eq!(sent_len, len);
    assert_eq!(received_len, len);
    assert_eq!(sent_digest.as_ref(), received_digest.as_ref());
}

#[test]
fn algorithm_flags_choose_what_ssh_negotiates() {
    let server = Server::start(&[
        "--kex",
        "curve25519-sha256",
        "--ciphers",
        "aes128-ctr",
        "--macs",
        "hmac-sha2-256",
    ]);
    let out = run(server.ssh(&[], &["-v"], &["echo ok"]), b"");
    assert_eq!(out.code(), Some(0), "{out:?}\n{}", server.log());
    assert_eq!(out.stdout_text(), "ok\n");
    assert!(
        out.stderr.contains("kex: algorithm: curve25519-sha256"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("kex: server->client cipher: aes128-ctr MAC: hmac-sha2-256"),
        "{}",
        out.stderr
    );
}

#[test]
fn algorithm_flags_refuse_what_they_leave_out() {
    let server = Server::start(&[
        "--ciphers",
        "aes128-ctr",
        "--kex",
        "curve25519-sha256",
        "--macs",
        "hmac-sha2-256",
    ]);
    let cipher = run(
        server.ssh(&["Ciphers=aes256-gcm@openssh.com"], &[], &["true"]),
        b"",
    );
    assert_eq!(cipher.code(), Some(255), "{cipher:?}");
    assert!(
        cipher.stderr.contains("no matching cipher found"),
        "{}",
        cipher.stderr
    );
    let kex = run(
        server.ssh(&["KexAlgorithms=ecdh-sha2-nistp256"], &[], &["true"]),
        b"",
    );
    assert_eq!(kex.code(), Some(255), "{kex:?}");
    assert!(
        kex.stderr.contains("no matching key exchange method found"),
        "{}",
        kex.stderr
    );
    let mac = run(server.ssh(&["MACs=hmac-sha1"], &[], &["true"]), b"");
    assert_eq!(mac.code(), Some(255), "{mac:?}");
    assert!(
        mac.stderr.contains("no matching MAC found"),
        "{}",
        mac.stderr
    );
}

#[test]
fn without_a_password_flag_a_printed_one_time_password_logs_in() {
    let server = Server::start_with(&Options {
        key_options: "",
        password: false,
        extra: &[],
    });
    let prefix = format!("one-time password for {}: ", server.user);
    let password = server
        .banner
        .iter()
        .find_map(|line| line.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no one-time password in {:?}", server.banner));
    let askpass = server.askpass(password);
    let mut ssh = server.ssh(
        &[
            "BatchMode=no",
            "PubkeyAuthentication=no",
            "PreferredAuthentications=password",
            "NumberOfPasswordPrompts=1",
        ],
        &["-v"],
        &["echo in"],
    );
    ssh.env("SSH_ASKPASS", &askpass)
        .env("SSH_ASKPASS_REQUIRE", "force");
    let out = run(ssh, b"");
    assert_eq!(out.code(), Some(0), "{out:?}\n{}", server.log());
    assert_eq!(out.stdout_text(), "in\n");
    // The printed fingerprint is the one ssh was shown.
    let fingerprint = server
        .banner
        .iter()
        .find_map(|line| line.strip_prefix("host key ssh-ed25519 "))
        .unwrap_or_else(|| panic!("no host key line in {:?}", server.banner));
    assert!(
        out.stderr
            .contains(&format!("Server host key: ssh-ed25519 {fingerprint}")),
        "{fingerprint} not in {}",
        out.stderr
    );
}

#[test]
fn a_forced_command_replaces_the_clients_which_it_sees_in_its_environment() {
    let server = Server::start_with(&Options {
        key_options: "command=\"echo forced: $SSH_ORIGINAL_COMMAND\"",
        password: true,
        extra: &[],
    });
    let out = run(server.ssh(&[], &[], &["echo asked"]), b"");
    assert_eq!(out.code(), Some(0), "{out:?}\n{}", server.log());
    assert_eq!(out.stdout_text(), "forced: echo asked\n");
}

#[test]
fn no_pty_refuses_the_terminal() {
    let server = Server::start_with(&Options {
        key_options: "no-pty",
        password: true,
        extra: &[],
    });
    let out = run(server.ssh(&[], &["-tt"], &["echo ran"]), b"");
    // With -tt a refused pty is fatal to ssh, so nothing runs.
    assert_eq!(out.code(), Some(255), "{out:?}\n{}", server.log());
    assert!(
        out.stderr.contains("PTY allocation request failed"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stdout_text(), "");
}
