//! One `session` channel (RFC 4254 §6): its requests before the program starts
//! (`pty-req`, `env`, `auth-agent-req@openssh.com`, then `shell`, `exec` or
//! `subsystem`), the ones while it runs (`window-change`, `signal`), and the exit
//! report; or the `sftp` subsystem, served in-process.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use sansh_tokio::core::auth::Permissions;
use sansh_tokio::core::channel::{ChannelRequest, PtyRequest};
use sansh_tokio::core::driver::forward::{AgentSocket, ServerForwarding};
use sansh_tokio::core::driver::sftp_server::{LocalFs, serve_sftp};
use sansh_tokio::core::driver::{Channel, ChannelRequests, ChannelWriter};
use sansh_tokio::{ServerConnection, TokioRuntime};

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
    /// The directory the `sftp` subsystem serves as `/`.
    pub(crate) sftp_root: Arc<PathBuf>,
    /// The connection's forwarding, when `--allow-forwarding` is given.
    pub(crate) forwarding: Option<ServerForwarding>,
}

/// The requests gathered before the program starts.
#[derive(Debug, Default)]
struct Setup {
    env: Vec<(String, String)>,
    /// Bytes of names and values in `env`.
    env_bytes: usize,
    pty: Option<PtyRequest>,
    /// The forwarded agent's socket (`auth-agent-req@openssh.com`): the program
    /// gets it as `SSH_AUTH_SOCK`; it is removed when the session ends.
    agent: Option<AgentSocket>,
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

/// What the session runs.
enum Started {
    /// A program, and the forwarded agent it was given.
    Process {
        process: Process,
        streams: Streams,
        agent: Option<AgentSocket>,
    },
    /// The `sftp` subsystem on this root.
    Sftp(LocalFs),
}

/// Serves a session channel until its program has ended and the channel is closed
/// (or the client closes it before starting anything).
pub(crate) async fn serve(channel: Channel<ServerConnection>, context: Arc<SessionContext>) {
    let requests = channel.requests();
    let (mut process, streams, agent) = match setup(&requests, &context).await {
        None => return,
        Some(Started::Sftp(root)) => return sftp(channel, requests, root, &context).await,
        Some(Started::Process {
            process,
            streams,
            agent,
        }) => (process, streams, agent),
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
    drop(agent);
}

/// Serves SFTP on the channel until the client closes it; requests sent meanwhile
/// are refused.
async fn sftp(
    channel: Channel<ServerConnection>,
    requests: ChannelRequests<ServerConnection>,
    root: LocalFs,
    context: &SessionContext,
) {
    let refusing = tokio::spawn(async move {
        while let Some(request) = requests.next().await {
            request.reject();
        }
    });
    let runtime = TokioRuntime::current().shared();
    if let Err(error) = serve_sftp(runtime, channel, root).await {
        eprintln!("{}: sftp: {error}", context.peer);
    }
    refusing.abort();
}

/// Answers requests until one starts the program or the `sftp` subsystem; `None`
/// when the channel closed first.
async fn setup(
    requests: &ChannelRequests<ServerConnection>,
    context: &SessionContext,
) -> Option<Started> {
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
            ChannelRequest::AuthAgent if setup.agent.is_none() => {
                let socket = match &context.forwarding {
                    Some(forwarding) => forwarding.agent_socket().await.ok(),
                    None => None,
                };
                match socket {
                    Some(socket) => {
                        setup.agent = Some(socket);
                        request.accept();
                    }
                    None => request.reject(),
                }
                continue;
            }
            ChannelRequest::Shell => Program::Shell,
            ChannelRequest::Exec { command } => Program::Command(command),
            // A forced command (`command=`) runs instead of any subsystem, as in sshd.
            ChannelRequest::Subsystem { name } if name == "sftp" && !forced => {
                match LocalFs::new(context.sftp_root.as_path()) {
                    Ok(root) => {
                        request.accept();
                        return Some(Started::Sftp(root));
                    }
                    Err(error) => {
                        eprintln!(
                            "{}: cannot open {}: {error}",
                            context.peer,
                            context.sftp_root.display()
                        );
                        request.reject();
                        continue;
                    }
                }
            }
            ChannelRequest::Subsystem { name } if forced => Program::Command(name.as_bytes()),
            ChannelRequest::Subsystem { .. } => {
                request.reject();
                continue;
            }
            // pty-req again or when refused by no-pty, env past the limit, x11,
            // agent forwarding refused or asked twice, signals before anything runs, ...
            _ => {
                request.reject();
                continue;
            }
        };
        match start(context, &setup, program) {
            Ok((process, streams)) => {
                request.accept();
                return Some(Started::Process {
                    process,
                    streams,
                    agent: setup.agent.take(),
                });
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
        agent_socket: setup.agent.as_ref().map(AgentSocket::path),
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
