//! Session channels through the driver against sshd, on every runtime: a command's
//! stdout, stderr and exit status; 8 MiB through `cat` and back; a command killed
//! by a signal. Our client logs in with a key file made by `ssh-keygen`.

use std::future::poll_fn;
use std::pin::Pin;
use std::task::Poll;

use futures_io::{AsyncRead, AsyncWrite};
use sansh_conformance::openssh::Sshd;
use sansh_conformance::scratch::ScratchDir;
use sansh_core::ClientConfig;
use sansh_core::channel::{PtyRequest, TerminalModes};
use sansh_core::driver::{Channel, Connection, Login};

use crate::bulk::{Stream, echo_through_stream};
use crate::peers::{KEY_TYPES, KeyFile, current_user};
use crate::runtimes::TestRuntime;
use crate::support::{AcceptAny, TestResult};

/// Runs `scenario` with a connection logged in to a fresh sshd by public key.
fn logged_in<R: TestRuntime, T>(
    scenario: impl AsyncFnOnce(&Connection) -> Result<T, Box<dyn std::error::Error>>,
) -> Result<T, Box<dyn std::error::Error>> {
    logged_in_with::<R, T>(ClientConfig::default(), &[], async |conn, _| {
        scenario(conn).await
    })
}

/// [`logged_in`] with our client's `config`, extra `sshd_config` lines, and the
/// sshd handed to the scenario too.
pub(crate) fn logged_in_with<R: TestRuntime, T>(
    config: ClientConfig,
    sshd_config: &[&str],
    scenario: impl AsyncFnOnce(&Connection, &Sshd) -> Result<T, Box<dyn std::error::Error>>,
) -> Result<T, Box<dyn std::error::Error>> {
    let dir = ScratchDir::new("driver-session")?;
    let key = KeyFile::generate(&dir, "id_session", KEY_TYPES[0], None)?;
    let sshd = sshd_config
        .iter()
        .fold(Sshd::builder(), |builder, line| builder.config(*line))
        .authorized_key(key.public_line()?)
        .start()?;
    let login = Login::new(current_user()?)
        .no_agent()
        .identity_file(&key.path);
    let rt = R::start();
    rt.block_on(async {
        let handler = AcceptAny::default();
        let conn = R::connect(sshd.addr(), config, handler.clone()).await?;
        conn.authenticate(&login, &handler).await?;
        let result = scenario(&conn, &sshd).await;
        conn.disconnect("sansh driver session test: done");
        result
    })
}

/// Writes `data` while reading the echo, closes the writer (EOF) and reads to the
/// end: both directions at once, so neither window stalls the other.
async fn echo_through(channel: &mut Channel, data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut written = 0;
    let mut eof_sent = false;
    let mut received = Vec::with_capacity(data.len());
    let mut buf = vec![0; 64 * 1024];
    poll_fn(|cx| {
        loop {
            let mut progress = false;
            if let Some(rest) = data.get(written..).filter(|rest| !rest.is_empty()) {
                if let Poll::Ready(n) = Pin::new(&mut *channel).poll_write(cx, rest) {
                    written += n?;
                    progress = true;
                }
            } else if !eof_sent {
                if let Poll::Ready(result) = Pin::new(&mut *channel).poll_close(cx) {
                    result?;
                    eof_sent = true;
                }
            }
            match Pin::new(&mut *channel).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Ok(())),
                Poll::Ready(Ok(n)) => {
                    received.extend_from_slice(buf.get(..n).unwrap_or_default());
                    progress = true;
                }
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                Poll::Pending => {}
            }
            if !progress {
                return Poll::Pending;
            }
        }
    })
    .await?;
    Ok(received)
}

/// Writes all of `data` (no EOF).
async fn write_all(channel: &mut Channel, mut data: &[u8]) -> std::io::Result<()> {
    while !data.is_empty() {
        let n = poll_fn(|cx| Pin::new(&mut *channel).poll_write(cx, data)).await?;
        data = data.get(n..).unwrap_or_default();
    }
    Ok(())
}

/// Reads a stream to its end.
async fn read_to_end(mut reader: impl AsyncRead + Unpin) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = vec![0; 16 * 1024];
    loop {
        let n = poll_fn(|cx| Pin::new(&mut reader).poll_read(cx, &mut buf)).await?;
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(buf.get(..n).unwrap_or_default());
    }
}

/// FNV-1a, to compare 8 MiB in a readable failure message.
fn checksum(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The command's stderr without the lines of the harness's sshd, which runs in
/// debug mode and so logs its session process's steps to the client's stderr.
fn without_sshd_debug(stderr: &[u8]) -> String {
    String::from_utf8_lossy(stderr)
        .split_inclusive('\n')
        .filter(|line| !line.starts_with("debug"))
        .collect()
}

/// `run` of a shell command against sshd gives its stdout, stderr and exit status.
pub(crate) fn run_on_sshd_collects_stdout_stderr_and_exit_status<R: TestRuntime>() -> TestResult {
    let output =
        logged_in::<R, _>(async |conn| Ok(conn.run("echo hi; echo err >&2; exit 3").await?))?;
    assert_eq!(String::from_utf8_lossy(&output.stdout), "hi\n");
    assert_eq!(without_sshd_debug(&output.stderr), "err\n");
    assert_eq!(output.exit_status, Some(3));
    assert_eq!(output.exit_signal, None);
    Ok(())
}

/// 8 MiB written to `cat` on sshd come back intact, far beyond both windows.
pub(crate) fn eight_mib_through_cat_on_sshd_come_back_intact<R: TestRuntime>() -> TestResult {
    let data: Vec<u8> = (0..8u32 * 1024 * 1024)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let (echoed, status) = logged_in::<R, _>(async |conn| {
        let mut channel = conn.open_session().await?;
        channel.exec("cat").await?;
        let echoed = echo_through(&mut channel, &data).await?;
        channel.wait_closed().await?;
        Ok((echoed, channel.exit_status()))
    })?;
    assert_eq!(echoed.len(), data.len());
    assert_eq!(checksum(&echoed), checksum(&data));
    assert_eq!(status, Some(0));
    Ok(())
}

/// A command that kills itself with TERM is reported with that signal.
pub(crate) fn a_command_killed_by_a_signal_on_sshd_reports_it<R: TestRuntime>() -> TestResult {
    let output = logged_in::<R, _>(async |conn| Ok(conn.run("kill -TERM $$").await?))?;
    let signal = output.exit_signal.ok_or("no exit-signal")?;
    assert_eq!(signal.name, "TERM");
    assert_eq!(output.exit_status, None);
    Ok(())
}

/// A shell on a pseudo-terminal: sshd runs what we type and reports its exit.
pub(crate) fn shell_on_a_pty_on_sshd_runs_typed_commands<R: TestRuntime>() -> TestResult {
    let (output, status) = logged_in::<R, _>(async |conn| {
        let mut channel = conn.open_session().await?;
        let pty = PtyRequest {
            term: "xterm".into(),
            cols: 80,
            rows: 24,
            width_px: 0,
            height_px: 0,
            modes: TerminalModes::default(),
        };
        channel.request_pty(&pty).await?;
        channel.shell().await?;
        channel.change_terminal_size(100, 30, 0, 0)?;
        write_all(
            &mut channel,
            b"echo \"term=$TERM marker=$((6*7))\"; exit 7\n",
        )
        .await?;
        let output = read_to_end(&mut channel).await?;
        channel.wait_closed().await?;
        Ok((output, channel.exit_status()))
    })?;
    let output = String::from_utf8_lossy(&output);
    assert!(output.contains("term=xterm marker=42"), "{output}");
    assert_eq!(status, Some(7));
    Ok(())
}

/// The `sftp` subsystem answers SSH_FXP_INIT with its VERSION (draft-ietf-secsh-
/// filexfer-02 §4): bytes reach the subsystem and its reply comes back.
pub(crate) fn sftp_subsystem_on_sshd_answers_init_with_its_version<R: TestRuntime>() -> TestResult {
    let reply = logged_in::<R, _>(async |conn| {
        let mut channel = conn.open_session().await?;
        channel.subsystem("sftp").await?;
        // uint32 length 5, byte SSH_FXP_INIT (1), uint32 version 3.
        write_all(&mut channel, &[0, 0, 0, 5, 1, 0, 0, 0, 3]).await?;
        // No EOF before the reply: sftp-server exits on EOF without flushing it.
        let mut reply = Vec::new();
        let mut buf = [0; 256];
        while reply.len() < 9 {
            let n = poll_fn(|cx| Pin::new(&mut channel).poll_read(cx, &mut buf)).await?;
            if n == 0 {
                break;
            }
            reply.extend_from_slice(buf.get(..n).unwrap_or_default());
        }
        channel.close();
        channel.wait_closed().await?;
        Ok(reply)
    })?;
    // uint32 length, byte SSH_FXP_VERSION (2), uint32 version 3, extensions.
    assert_eq!(reply.get(4..9), Some(&[2, 0, 0, 0, 3][..]), "{reply:02x?}");
    Ok(())
}

/// 8 MiB written to `cat >&2` on sshd come back on the stderr stream intact, and
/// nothing on stdout: extended data flows through the same window as data, and
/// reading stderr gives its credit back.
pub(crate) fn eight_mib_through_cat_to_stderr_on_sshd_come_back_intact<R: TestRuntime>()
-> TestResult {
    const SIZE: u64 = 8 * 1024 * 1024;
    // At INFO, sshd's session process logs nothing onto the command's stderr.
    let config = ClientConfig::default();
    let (echo, status) = logged_in_with::<R, _>(config, &["LogLevel INFO"], async |conn, _| {
        let mut channel = conn.open_session().await?;
        channel.exec("cat >&2").await?;
        let echo = echo_through_stream(&mut channel, Stream::Stderr, SIZE, 5).await?;
        channel.wait_closed().await?;
        Ok((echo, channel.exit_status()))
    })?;
    echo.check(SIZE)?;
    assert_eq!(echo.other.len, 0, "nothing on stdout");
    assert_eq!(status, Some(0));
    Ok(())
}
