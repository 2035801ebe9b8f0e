//! The OpenSSH client (`ssh host 'cmd'`) against our driver's server, on every
//! runtime. The server's sessions run in-process: the test server implements a few
//! commands itself (`echo-args`, `cat`, `stderr`, `exit N`, `kill SIG`, `pty`) and
//! records every channel request it receives, so the scenarios check both what
//! `ssh` printed and what reached the server.

use std::process::Command;
use std::thread;

use sansh_conformance::openssh::SSH;
use sansh_core::channel::TerminalMode;
use sansh_core::driver::ChannelRequest;

use crate::our_server::{checksum, lock, run_process, serve, ssh, ssh_args};
use crate::runtimes::TestRuntime;
use crate::support::TestResult;

/// `ssh host 'echo-args ...'` prints the arguments, and exits 0.
pub(crate) fn openssh_ssh_runs_a_command_on_our_server<R: TestRuntime>() -> TestResult {
    let rt = R::start();
    let (addr, seen) = serve(&rt)?;
    let out = ssh(addr, &[], "echo-args hello  from sansh", None, &[])?;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello from sansh\n");
    let exec = ChannelRequest::Exec {
        command: b"echo-args hello  from sansh".to_vec(),
    };
    assert!(lock(&seen).contains(&exec));
    Ok(())
}

/// The command's exit status becomes ssh's.
pub(crate) fn openssh_ssh_exits_with_the_status_our_server_reports<R: TestRuntime>() -> TestResult {
    let rt = R::start();
    let (addr, _) = serve(&rt)?;
    let out = ssh(addr, &[], "exit 7", None, &[])?;
    assert_eq!(out.code, Some(7), "{}", out.stderr);
    Ok(())
}

/// An `exit-signal` reaches ssh, which (as OpenSSH 10 does) prints no message for
/// it but logs it and exits 255, having no exit status.
pub(crate) fn openssh_ssh_reports_a_command_killed_by_a_signal<R: TestRuntime>() -> TestResult {
    let rt = R::start();
    let (addr, _) = serve(&rt)?;
    let out = ssh(addr, &["-v"], "kill TERM", None, &[])?;
    assert_eq!(out.code, Some(255), "{}", out.stderr);
    assert!(
        out.stderr.contains("rtype exit-signal") && out.stderr.contains("Exit status -1"),
        "{}",
        out.stderr
    );
    Ok(())
}

/// Data and extended data reach ssh's stdout and stderr, kept apart.
pub(crate) fn openssh_ssh_keeps_our_servers_stdout_and_stderr_apart<R: TestRuntime>() -> TestResult
{
    let rt = R::start();
    let (addr, _) = serve(&rt)?;
    let out = ssh(addr, &[], "stderr", None, &[])?;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "to stdout\n");
    assert!(out.stderr.contains("to stderr\n"), "{}", out.stderr);
    assert!(!out.stderr.contains("to stdout"), "{}", out.stderr);
    Ok(())
}

/// `SetEnv` and `SendEnv` arrive as `env` requests before the `exec`.
pub(crate) fn openssh_ssh_sends_env_requests_our_server_receives<R: TestRuntime>() -> TestResult {
    let rt = R::start();
    let (addr, seen) = serve(&rt)?;
    let options = [
        "-o",
        "SetEnv=SANSH_SET=set-value",
        "-o",
        "SendEnv=SANSH_SENT",
    ];
    let out = ssh(
        addr,
        &options,
        "exit 0",
        None,
        &[("SANSH_SENT", "sent value")],
    )?;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let seen = lock(&seen).clone();
    let env = |name: &str, value: &str| ChannelRequest::Env {
        name: name.into(),
        value: value.into(),
    };
    let position = |request: &ChannelRequest| seen.iter().position(|r| r == request);
    let exec = position(&ChannelRequest::Exec {
        command: b"exit 0".to_vec(),
    });
    let (set, sent) = (
        position(&env("SANSH_SET", "set-value")),
        position(&env("SANSH_SENT", "sent value")),
    );
    assert!(
        set.is_some() && sent.is_some() && exec.is_some(),
        "{seen:?}"
    );
    assert!(set < exec && sent < exec, "{seen:?}");
    Ok(())
}

/// `ssh -tt` on a terminal (given by `script`) sends a `pty-req` with its
/// terminal's name, size and modes, which our server parses.
pub(crate) fn openssh_ssh_tt_sends_a_pty_request_with_its_terminal_modes<R: TestRuntime>()
-> TestResult {
    let rt = R::start();
    let (addr, seen) = serve(&rt)?;
    let ssh_path = SSH.locate()?;
    let mut line = vec![ssh_path.display().to_string(), "-tt".into()];
    line.extend(ssh_args(addr));
    line.extend([addr.ip().to_string(), "pty".into()]);
    let quoted: Vec<String> = line.iter().map(|w| format!("'{w}'")).collect();
    // A pseudo-terminal starts at 0x0; give it a size for ssh to report.
    let shell = format!("stty rows 40 cols 100 && {}", quoted.join(" "));
    // `script` runs ssh on a fresh pseudo-terminal, so ssh has modes to send.
    let mut script = Command::new("script");
    script
        .args(["-q", "-e", "-c", &shell, "/dev/null"])
        .env("TERM", "xterm-sansh");
    let out = run_process(script, None)
        .map_err(|e| format!("running ssh under `script` (util-linux): {e}"))?;
    assert_eq!(
        out.code,
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let seen = lock(&seen).clone();
    let pty = seen
        .iter()
        .find_map(|r| match r {
            ChannelRequest::Pty(pty) => Some(pty.clone()),
            _ => None,
        })
        .ok_or_else(|| format!("no pty-req among {seen:?}"))?;
    assert_eq!(pty.term, "xterm-sansh");
    assert_eq!((pty.cols, pty.rows), (100, 40), "{pty:?}");
    // The terminal's ^C, as every fresh pseudo-terminal has it.
    assert_eq!(pty.modes.get(TerminalMode::Vintr), Some(3), "{pty:?}");
    assert!(pty.modes.iter().count() > 10, "{pty:?}");
    Ok(())
}

/// 8 MiB through `cat` on our server come back intact.
pub(crate) fn eight_mib_through_cat_on_our_server_come_back_intact<R: TestRuntime>() -> TestResult {
    let rt = R::start();
    let (addr, _) = serve(&rt)?;
    let data: Vec<u8> = (0..8u32 * 1024 * 1024)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let out = ssh(addr, &[], "cat", Some(data.clone()), &[])?;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(out.stdout.len(), data.len());
    assert_eq!(checksum(&out.stdout), checksum(&data));
    Ok(())
}

/// Twenty `ssh` runs at once each get their own answer.
pub(crate) fn twenty_concurrent_ssh_sessions_on_our_server<R: TestRuntime>() -> TestResult {
    let rt = R::start();
    let (addr, _) = serve(&rt)?;
    let runs: Vec<_> = (0..20)
        .map(|i| {
            let command = format!("echo-args run {i}");
            thread::spawn(move || ssh(addr, &[], &command, None, &[]).map_err(|e| e.to_string()))
        })
        .collect();
    for (i, run) in runs.into_iter().enumerate() {
        let out = run.join().map_err(|_| "an ssh thread panicked")??;
        assert_eq!(out.code, Some(0), "{}", out.stderr);
        assert_eq!(String::from_utf8_lossy(&out.stdout), format!("run {i}\n"));
    }
    Ok(())
}
