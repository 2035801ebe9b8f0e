//! One `session` channel (RFC 4254 §6): its requests before the program starts
//! (`pty-req`, `env`, then `shell`, `exec` or `subsystem`), the ones while it runs
//! (`window-change`, `signal`), and the exit report.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use sansh_tokio::ServerConnection;
use sansh_tokio::core::auth::Permissions;
use sansh_tokio::core::channel::{ChannelRequest, PtyRequest};
use sansh_tokio::core::driver::{Channel, ChannelRequests, ChannelWriter};

use crate::account::Account;
use crate::process::{self, Exit, Launch, Process, Streams};
use crate::pty::{self, PtyControl, Size};
use crate::pump;

/// What every session of one connection shares.
#[derive(Debug)]
pub(crate) struct SessionContext {
    pub(crate) account: Arc<Account>,
    /// What the authenticated user may do (`no-pty`, `command=`, ...).
    pub(crate) permissions: Permissions,
    pub(crate) peer: SocketAddr,
    pub(crate) local: SocketAddr,
}

/// The requests gathered before the program starts.
#[derive(Debug, Default)]
struct Setup {
    env: Vec<(String, String)>,
    /// Bytes of names and values in `env`.
    env_bytes: usize,
    pty: Option<PtyRequest>,
}

impl Setup {
    /// Takes the variable if it is allowed and fits the limits.
    fn add_env(&mut self, name: &str, value: &str, forced_command: bool) -> bool {
        let bytes = self.env_bytes + name.len() + value.len();
        let fits = self.env.len() < process::MAX_ENV_VARS && bytes <= process::MAX_ENV_BYTES;
        if !fits || !process::env_allowed(name, forced_command) {
            return false;
        }
        self.env.push((name.to_owned(), value.to_owned()));
        self.env_bytes = bytes;
        true
    }
}

/// What `shell`, `exec` or `subsystem` asks to run.
enum Program<'a> {
    Shell,
    Command(&'a [u8]),
}

/// Serves a session channel until its program has ended and the channel is closed
/// (or the client closes it before starting anything).
pub(crate) async fn serve(channel: Channel<ServerConnection>, context: Arc<SessionContext>) {
    let requests = channel.requests();
    let Some((mut process, streams)) = setup(&requests, &context).await else {
        return;
    };
    let control = match &streams {
        Streams::Pty(master) => Some(master.control.clone()),
        Streams::Pipes { .. } => None,
    };
    let while_running = tokio::spawn(running(requests, process.signaller(), control));
    let mut stderr = channel.stderr();
    let (reader, mut writer) = channel.split();
    let exit = pump::run(reader, &mut writer, &mut stderr, streams, &mut process).await;
    report(&writer, exit);
    // EOF, then CLOSE, each after the data written before it.
    let _ = writer.write_eof();
    writer.close_channel();
    while_running.abort();
}

/// Answers requests until one starts the program; `None` when the channel closed
/// first.
async fn setup(
    requests: &ChannelRequests<ServerConnection>,
    context: &SessionContext,
) -> Option<(Process, Streams)> {
    let mut setup = Setup::default();
    let forced = context.permissions.force_command.is_some();
    loop {
        let request = requests.next().await?;
        let program = match request.request() {
            ChannelRequest::Pty(pty) if context.permissions.pty && setup.pty.is_none() => {
                setup.pty = Some(pty.clone());
                request.accept();
                continue;
            }
            ChannelRequest::Env { name, value } if setup.add_env(name, value, forced) => {
                request.accept();
                continue;
            }
            ChannelRequest::WindowChange {
                cols,
                rows,
                width_px,
                height_px,
            } => {
                if let Some(pty) = &mut setup.pty {
                    (pty.cols, pty.rows) = (*cols, *rows);
                    (pty.width_px, pty.height_px) = (*width_px, *height_px);
                }
                request.accept();
                continue;
            }
            ChannelRequest::Shell => Program::Shell,
            ChannelRequest::Exec { command } => Program::Command(command),
            // `--sftp-root` serves `sftp` here; other subsystems are refused.
            ChannelRequest::Subsystem { .. } => {
                request.reject();
                continue;
            }
            // pty-req again or when refused by no-pty, env past the limit, x11,
            // agent forwarding, signals before anything runs, ...
            _ => {
                request.reject();
                continue;
            }
        };
        match start(context, &setup, program) {
            Ok(started) => {
                request.accept();
                return Some(started);
            }
            Err(error) => {
                eprintln!(
                    "{}: cannot start the session's program: {error}",
                    context.peer
                );
                request.reject();
            }
        }
    }
}

/// Starts the program: a forced command (`command=`) replaces the client's, which
/// is then passed on in `SSH_ORIGINAL_COMMAND`.
fn start(
    context: &SessionContext,
    setup: &Setup,
    program: Program<'_>,
) -> io::Result<(Process, Streams)> {
    let requested = match program {
        Program::Shell => None,
        Program::Command(command) => Some(command),
    };
    let forced = context
        .permissions
        .force_command
        .as_deref()
        .map(str::as_bytes);
    let launch = Launch {
        account: &context.account,
        command: forced.or(requested),
        original_command: forced.and(requested),
        env: &setup.env,
        peer: context.peer,
        local: context.local,
    };
    match &setup.pty {
        Some(request) => {
            let (master, slave) = pty::open(&request.modes, Size::of(request))?;
            launch.spawn_on_pty(master, slave, &request.term)
        }
        None => launch.spawn_piped(),
    }
}

/// The requests that still make sense once the program runs: `signal` and
/// `window-change`. Ends when the channel closes.
async fn running(
    requests: ChannelRequests<ServerConnection>,
    signaller: process::Signaller,
    control: Option<PtyControl>,
) {
    while let Some(request) = requests.next().await {
        let done = match request.request() {
            ChannelRequest::Signal { name } => signaller.send(name).is_ok(),
            ChannelRequest::WindowChange {
                cols,
                rows,
                width_px,
                height_px,
            } => control.as_ref().is_some_and(|control| {
                let size = Size {
                    cols: *cols,
                    rows: *rows,
                    width_px: *width_px,
                    height_px: *height_px,
                };
                control.resize(size).is_ok()
            }),
            _ => false,
        };
        if done {
            request.accept();
        } else {
            request.reject();
        }
    }
}

/// Sends `exit-status` or `exit-signal` (RFC 4254 §6.10); nothing when the program
/// could not be waited for.
fn report(writer: &ChannelWriter<ServerConnection>, exit: io::Result<Exit>) {
    let _ = match exit {
        Ok(Exit::Status(status)) => writer.send_exit_status(status),
        Ok(Exit::Signal { name, core_dumped }) => writer.send_exit_signal(name, core_dumped, ""),
        Err(_) => Ok(()),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_requests_stop_at_the_count_limit() {
        let mut setup = Setup::default();
        for i in 0..process::MAX_ENV_VARS {
            assert!(setup.add_env(&format!("V{i}"), "x", false));
        }
        assert!(!setup.add_env("ONE_MORE", "x", false));
        assert_eq!(setup.env.len(), process::MAX_ENV_VARS);
    }

    #[test]
    fn env_requests_stop_at_the_byte_limit() {
        let mut setup = Setup::default();
        let big = "x".repeat(process::MAX_ENV_BYTES / 2);
        assert!(setup.add_env("A", &big, false));
        assert!(!setup.add_env("B", &big, false));
        assert!(setup.add_env("C", "small", false));
    }

    #[test]
    fn env_requests_with_bad_names_are_refused_and_not_counted() {
        let mut setup = Setup::default();
        assert!(!setup.add_env("NOT-A-NAME", "x", false));
        assert!(!setup.add_env("FOO", "x", true));
        assert_eq!((setup.env.len(), setup.env_bytes), (0, 0));
    }
}
