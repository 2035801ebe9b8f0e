//! Moving a session's bytes: the channel's data to the process's stdin, its stdout
//! and stderr to the channel, until the process has exited and its output ended.
//!
//! The channel side speaks `futures-io` (the driver's traits), the process side
//! tokio's.

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_io::{AsyncRead as ChannelRead, AsyncWrite as ChannelWrite};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::process::{Exit, Process, Streams};

/// Size of one read from either side.
const CHUNK: usize = 32 * 1024;

/// After a pty session's process has exited, how long its terminal may stay silent
/// before the session ends: a background job it left holding the terminal would
/// otherwise keep the session open (the job then gets SIGHUP as the terminal goes,
/// as under sshd). Output that is still flowing keeps the session going.
const PTY_DRAIN_IDLE: Duration = Duration::from_millis(500);

/// Runs the process's I/O to the end: returns how it exited once it has, and once
/// its stdout and stderr reached end of file (on a pty: the terminal is closed, or
/// silent for [`PTY_DRAIN_IDLE`] after the exit). Everything it wrote has been
/// handed to `output` and `errors` by then; the caller sends the exit report, then
/// EOF (closing `output`), then closes the channel.
///
/// End of `input` closes the process's stdin (on a pty nothing: a terminal has no
/// half-close, the client sends ^D if it wants to). Input the process no longer
/// reads is discarded, and input still open when the process is done is abandoned.
pub(crate) async fn run<I, O, E>(
    input: I,
    output: &mut O,
    errors: &mut E,
    streams: Streams,
    process: &mut Process,
) -> io::Result<Exit>
where
    I: ChannelRead + Unpin,
    O: ChannelWrite + Unpin,
    E: ChannelWrite + Unpin,
{
    let signaller = process.signaller();
    match streams {
        Streams::Pipes {
            stdin,
            stdout,
            stderr,
        } => {
            let finish = async {
                let (out, err, exit) = tokio::join!(
                    copy_out(stdout, output, None),
                    copy_out(stderr, errors, None),
                    process.wait(),
                );
                // The process got SIGPIPE from the dropped pipe, so it has ended.
                let _ = (out, err);
                exit
            };
            with_input(copy_in(input, stdin), finish).await
        }
        Streams::Pty(master) => {
            let finish = async {
                let exited = AtomicBool::new(false);
                let (out, exit) =
                    tokio::join!(copy_out(master.reader, output, Some(&exited)), async {
                        let exit = process.wait().await;
                        exited.store(true, Ordering::SeqCst);
                        exit
                    });
                if out.is_err() {
                    // The client is gone: hang up on the terminal's processes
                    // (a terminal cannot make them fail a write).
                    let _ = signaller.send("HUP");
                }
                exit
            };
            with_input(copy_in(input, master.writer), finish).await
        }
    }
}

/// Runs `finish` to its end while feeding input alongside; the input is dropped
/// unfinished when `finish` is done.
async fn with_input<T>(
    input: impl Future<Output = io::Result<()>>,
    finish: impl Future<Output = T>,
) -> T {
    tokio::pin!(input, finish);
    let mut input_done = false;
    loop {
        tokio::select! {
            _ = &mut input, if !input_done => input_done = true,
            result = &mut finish => return result,
        }
    }
}

/// The channel's data into the process. Returns at the channel's EOF, which
/// closes `to` by dropping it.
async fn copy_in<I, W>(mut from: I, mut to: W) -> io::Result<()>
where
    I: ChannelRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; CHUNK];
    let mut open = true;
    loop {
        let n = poll_fn(|cx| Pin::new(&mut from).poll_read(cx, &mut buf)).await?;
        let Some(data) = buf.get(..n).filter(|d| !d.is_empty()) else {
            return Ok(());
        };
        // A process that closed its stdin gets no more; the rest is discarded so
        // the channel keeps its window open.
        if open && to.write_all(data).await.is_err() {
            open = false;
        }
    }
}

/// The process's output into the channel, until end of file or a write error.
/// With `exited`, the source is a terminal: once the flag is set, a read that
/// waits longer than [`PTY_DRAIN_IDLE`] counts as the end.
async fn copy_out<R, O>(mut from: R, to: &mut O, exited: Option<&AtomicBool>) -> io::Result<()>
where
    R: AsyncRead + Unpin,
    O: ChannelWrite + Unpin,
{
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match exited {
            Some(exited) => {
                let read = from.read(&mut buf);
                tokio::pin!(read);
                // Set once a whole idle period has begun after the exit.
                let mut seen_exit = false;
                loop {
                    let idle = tokio::time::sleep(PTY_DRAIN_IDLE);
                    tokio::select! {
                        n = &mut read => break n?,
                        () = idle => {
                            if seen_exit {
                                return Ok(());
                            }
                            seen_exit = exited.load(Ordering::SeqCst);
                        }
                    }
                }
            }
            None => from.read(&mut buf).await?,
        };
        let Some(data) = buf.get(..n).filter(|d| !d.is_empty()) else {
            return Ok(());
        };
        write_all(to, data).await?;
    }
}

async fn write_all<O: ChannelWrite + Unpin>(to: &mut O, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        let n = poll_fn(|cx| Pin::new(&mut *to).poll_write(cx, data)).await?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        data = data.get(n..).unwrap_or_default();
    }
    poll_fn(|cx| Pin::new(&mut *to).poll_flush(cx)).await
}

#[cfg(test)]
mod tests {
    use std::task::{Context, Poll};

    use sansh_tokio::core::channel::TerminalModes;

    use super::*;
    use crate::account::Account;
    use crate::process::{self, Launch};
    use crate::pty::{self, Size};

    struct Session {
        stdout: Vec<u8>,
        stderr: Vec<u8>,
        exit: Exit,
    }

    fn launch<'a>(
        account: &'a Account,
        command: Option<&'a str>,
        env: &'a [(String, String)],
    ) -> Launch<'a> {
        Launch {
            account,
            command: command.map(str::as_bytes),
            original_command: None,
            env,
            agent_socket: None,
            peer: "127.0.0.1:50000".parse().expect("address"),
            local: "127.0.0.1:2222".parse().expect("address"),
        }
    }

    fn block_on<F: Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(future)
    }

    /// Runs `command` on pipes with `input` then EOF.
    fn piped(command: &str, input: &[u8], env: &[(String, String)]) -> Session {
        let account = Account::current();
        block_on(async {
            let (mut process, streams) = launch(&account, Some(command), env)
                .spawn_piped()
                .expect("spawn");
            let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
            let exit = run(input, &mut stdout, &mut stderr, streams, &mut process)
                .await
                .expect("run");
            Session {
                stdout,
                stderr,
                exit,
            }
        })
    }

    /// Runs `command` (or the login shell) on an 80x24 pty with `input`.
    fn on_pty(command: Option<&str>, input: &[u8]) -> Session {
        let account = Account::current();
        block_on(async {
            let size = Size {
                cols: 80,
                rows: 24,
                width_px: 0,
                height_px: 0,
            };
            let (master, slave) = pty::open(&TerminalModes::new(), size).expect("pty");
            let (mut process, streams) = launch(&account, command, &[])
                .spawn_on_pty(master, slave, "xterm")
                .expect("spawn");
            let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
            let exit = run(input, &mut stdout, &mut stderr, streams, &mut process)
                .await
                .expect("run");
            Session {
                stdout,
                stderr,
                exit,
            }
        })
    }

    #[test]
    fn stdin_stdout_stderr_and_status_stay_apart() {
        let session = piped("cat; echo err >&2; exit 3", b"hello", &[]);
        assert_eq!(session.stdout, b"hello");
        assert_eq!(session.stderr, b"err\n");
        assert_eq!(session.exit, Exit::Status(3));
    }

    #[test]
    fn client_variables_and_connection_variables_reach_the_command() {
        let env = [("FOO".to_owned(), "bar baz".to_owned())];
        let session = piped("echo \"$FOO|$SSH_CONNECTION|$TERM\"", b"", &env);
        assert_eq!(
            String::from_utf8_lossy(&session.stdout),
            "bar baz|127.0.0.1 50000 127.0.0.1 2222|\n"
        );
    }

    #[test]
    fn a_command_killed_by_a_signal_reports_it() {
        let session = piped("kill -TERM $$", b"", &[]);
        assert_eq!(
            session.exit,
            Exit::Signal {
                name: "TERM",
                core_dumped: false
            }
        );
    }

    #[test]
    fn the_command_starts_with_no_signal_ignored() {
        let session = piped("sed -n 's/^SigIgn:\\t//p' /proc/$$/status", b"", &[]);
        let text = String::from_utf8_lossy(&session.stdout);
        let ignored = u64::from_str_radix(text.trim(), 16).expect("a SigIgn mask");
        // Signals 1 to 31; the realtime ones above are the C library's business.
        assert_eq!(ignored & 0x7fff_ffff, 0, "{text}");
    }

    /// Input that sends one line, then stays open (a client that keeps stdin open).
    struct OneLine(Option<&'static [u8]>);

    impl ChannelRead for OneLine {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            match self.0.take() {
                Some(line) => {
                    let n = line.len().min(buf.len());
                    buf[..n].copy_from_slice(&line[..n]);
                    Poll::Ready(Ok(n))
                }
                None => Poll::Pending,
            }
        }
    }

    /// Output that sends `INT` to the process group on the first bytes it gets.
    struct SignalOnOutput(Option<process::Signaller>);

    impl ChannelWrite for SignalOnOutput {
        fn poll_write(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            if let Some(signaller) = self.0.take() {
                signaller.send("INT").expect("signal");
            }
            Poll::Ready(Ok(buf.len()))
        }

        fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }

        fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    #[test]
    fn a_signal_reaches_the_process_group() {
        let account = Account::current();
        let exit = block_on(async {
            // cat waits on stdin that never ends. The signal goes once cat has echoed
            // its line: a shell still starting could catch SIGINT and lose it.
            let (mut process, streams) = launch(&account, Some("exec cat"), &[])
                .spawn_piped()
                .expect("spawn");
            let mut stdout = SignalOnOutput(Some(process.signaller()));
            let mut stderr = Vec::new();
            run(
                OneLine(Some(b"go\n")),
                &mut stdout,
                &mut stderr,
                streams,
                &mut process,
            )
            .await
            .expect("run")
        });
        assert_eq!(
            exit,
            Exit::Signal {
                name: "INT",
                core_dumped: false
            }
        );
    }

    #[test]
    fn a_pty_command_has_the_terminal_as_controlling_tty_with_its_size() {
        let session = on_pty(Some("stty size; : >/dev/tty && echo ctty; echo $TERM"), b"");
        assert_eq!(
            String::from_utf8_lossy(&session.stdout),
            "24 80\r\nctty\r\nxterm\r\n"
        );
        assert!(session.stderr.is_empty());
        assert_eq!(session.exit, Exit::Status(0));
    }

    #[test]
    fn a_login_shell_on_a_pty_runs_what_is_typed() {
        let session = on_pty(None, b"echo typed-$((6*7)); exit 5\n");
        let text = String::from_utf8_lossy(&session.stdout);
        assert!(text.contains("typed-42\r\n"), "{text}");
        assert_eq!(session.exit, Exit::Status(5));
    }
}
