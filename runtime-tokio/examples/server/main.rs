//! `server`: an SSH server on sansh-tokio that runs commands and shells as the
//! current user.
//!
//! ```text
//! cargo run --release -p sansh-tokio --example server -- [--listen ADDR]
//!     [--host-key FILE]... [--host-certificate FILE]... [--authorized-keys FILE]
//!     [--password USER:PASS]...
//!     [--kex LIST] [--ciphers LIST] [--macs LIST] [--sftp-root DIR]
//!     [--allow-forwarding]
//! ```
//!
//! With no flags it listens on 127.0.0.1:2222 with a new Ed25519 host key (its
//! fingerprint is printed), lets the current user in with the keys of
//! `~/.ssh/authorized_keys` and with a printed one-time password, and prints
//! `listening on ADDR` once it accepts connections (`--listen 127.0.0.1:0` prints
//! the port the system chose).
//!
//! Sessions run as the server's own user whatever name the client logs in with:
//! `exec` runs `/bin/sh -c COMMAND`, `shell` the user's login shell (`-l`), on a
//! real pty after a `pty-req` (the client's terminal modes and size applied, window
//! changes followed); `env` requests set variables, `signal` requests reach the
//! process group, and the session ends with `exit-status`, or `exit-signal` when a
//! signal killed the process. `authorized_keys` options apply: `from=`,
//! `expiry-time=`, `command=` (the client's command in `SSH_ORIGINAL_COMMAND`),
//! `no-pty`, `restrict`, and `cert-authority` lines for user certificates.
//!
//! The `sftp` subsystem serves the directory `--sftp-root` (default: the current
//! directory) as `/` with the driver's [`LocalFs`](sansh_tokio::core::driver::sftp_server::LocalFs):
//! no path, `..` or symlink reaches outside it.
//!
//! Forwarding is refused unless `--allow-forwarding` is given; then the driver's
//! [`ServerForwarding`] serves `direct-tcpip` (`ssh -L`, `-D`, `-W`),
//! `tcpip-forward` (`ssh -R`), their Unix socket forms, and
//! `auth-agent-req@openssh.com` (`ssh -A`: the session's program gets
//! `SSH_AUTH_SOCK`), under a [`ForwardingPolicy`] narrowed by the user's
//! certificate (`permit-port-forwarding`, `permit-agent-forwarding`) and the
//! key's `authorized_keys` options (`no-port-forwarding`, `no-agent-forwarding`,
//! `permitopen=`, `permitlisten=`, `restrict`).
//!
//! Linux only, with no unsafe code: programs start through coreutils'
//! `env --default-signal` (every signal at its default, as sshd leaves them) and,
//! on a pty, util-linux's `setsid --ctty` (which makes the pty the controlling
//! terminal of a new session).
//!
//! | module | what it does |
//! |---|---|
//! | `args` | the command line (clap) |
//! | `host_keys` | host key files, or a fresh Ed25519 key; host certificates |
//! | `auth` | the `ServerHandler`: authorized_keys and passwords |
//! | `account` | the user sessions run as |
//! | `process` | spawning the command or shell, env, signals, exit reports |
//! | `pty` | pty pairs, terminal modes, window size |
//! | `pump` | the process's stdin, stdout and stderr to and from the channel |
//! | `session` | a session channel's requests, start and exit report, the `sftp` subsystem, the forwarded agent |
//!
//! Each connection has its own [`ServerHandler`](sansh_tokio::ServerHandler)
//! ([`ConnectionAuth`]), which knows the client's address for `from=`; so the
//! accept loop is this example's (a tokio `TcpListener` and
//! [`accept_engine`]) rather than [`sansh_tokio::listen`], whose one handler
//! serves every client.

mod account;
mod args;
mod auth;
mod host_keys;
mod process;
mod pty;
mod pump;
mod session;

use std::io::Write as _;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use sansh_tokio::core::auth::AuthMethod;
use sansh_tokio::core::auth::AuthenticatedUser;
use sansh_tokio::core::channel::{ChannelKind, OpenFailureReason};
use sansh_tokio::core::driver::forward::{ForwardingPolicy, ServerForwarding};
use sansh_tokio::core::driver::{Connection, Engine, accept_engine};
use sansh_tokio::{ServerConfig, ServerConnection, TokioRuntime, ssh_tcp};
use tokio::net::{TcpListener, TcpStream};

use account::Account;
use args::{Args, PasswordArg};
use auth::{ConnectionAuth, Credentials, KeyGrants, SystemClock};
use session::SessionContext;

/// What every connection shares.
struct Server {
    config: Arc<ServerConfig>,
    credentials: Arc<Credentials>,
    account: Arc<Account>,
    /// The directory the `sftp` subsystem serves (absolute).
    sftp_root: Arc<std::path::PathBuf>,
    /// `--allow-forwarding`.
    allow_forwarding: bool,
}

fn main() -> ExitCode {
    let args = match Args::parse_from(std::env::args_os()) {
        Ok(args) => args,
        Err(error) => error.exit(),
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => return fail(&format!("cannot start tokio: {error}")),
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(&message),
    }
}

fn fail(message: &str) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "server: {message}");
    ExitCode::FAILURE
}

/// Prints a line on stdout and flushes it, so a program reading the server's output
/// through a pipe sees it at once.
fn say(line: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}");
    let _ = stdout.flush();
}

async fn run(mut args: Args) -> Result<(), String> {
    let account = Account::current();
    let host_keys = host_keys::load(&args.host_keys)?;
    let host_certificates = host_keys::load_certificates(&args.host_certificates)?;
    if args.passwords.is_empty() {
        let password = auth::one_time_password();
        say(&format!(
            "one-time password for {}: {}",
            account.name, *password
        ));
        args.passwords.push(PasswordArg {
            user: account.name.clone(),
            password,
        });
    }
    let credentials = Credentials::load(
        &account.name,
        &account.home,
        args.authorized_keys.as_deref(),
        std::mem::take(&mut args.passwords),
    )?;
    for line in host_keys::describe(&host_keys)
        .into_iter()
        .chain(host_keys::describe_certificates(&host_certificates))
        .chain(credentials.describe())
    {
        say(&line);
    }
    let sftp_root = std::path::absolute(&args.sftp_root)
        .map_err(|e| format!("--sftp-root {}: {e}", args.sftp_root.display()))?;
    if !sftp_root.is_dir() {
        return Err(format!(
            "--sftp-root {}: not a directory",
            sftp_root.display()
        ));
    }
    say(&format!("sftp root: {}", sftp_root.display()));
    if args.allow_forwarding {
        say("forwarding allowed");
    }
    let mut config = server_config(&args, host_keys, &credentials);
    config.host_certificates = host_certificates;
    config
        .check()
        .map_err(|e| format!("cannot serve with this configuration: {e}"))?;
    let listener = TcpListener::bind(&args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let local = listener
        .local_addr()
        .map_err(|e| format!("cannot read the bound address: {e}"))?;
    let server = Arc::new(Server {
        config: Arc::new(config),
        credentials: Arc::new(credentials),
        account: Arc::new(account),
        sftp_root: Arc::new(sftp_root),
        allow_forwarding: args.allow_forwarding,
    });
    say(&format!("listening on {local}"));
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                tokio::spawn(serve(server.clone(), stream, peer, local));
            }
            // Out of descriptors and the like: the next accept may do better.
            Err(error) => eprintln!("accept: {error}"),
        }
    }
}

fn server_config(
    args: &Args,
    host_keys: Vec<sansh_tokio::core::keys::PrivateKey>,
    credentials: &Credentials,
) -> ServerConfig {
    let mut config = ServerConfig {
        host_keys,
        ..ServerConfig::default()
    };
    let algorithms = &mut config.transport.algorithms;
    if let Some(kex) = &args.kex {
        algorithms.kex.clone_from(kex);
    }
    if let Some(ciphers) = &args.ciphers {
        algorithms.ciphers.clone_from(ciphers);
    }
    if let Some(macs) = &args.macs {
        algorithms.macs.clone_from(macs);
    }
    config.auth.methods = vec![AuthMethod::PublicKey, AuthMethod::Password];
    config.auth.trusted_user_ca_keys = credentials.certificate_authorities();
    config.auth.time = Some(Arc::new(SystemClock));
    config
}

/// One client: its key exchange and authentication (handled by the driver and
/// [`ConnectionAuth`]), then its sessions.
async fn serve(server: Arc<Server>, stream: TcpStream, peer: SocketAddr, local: SocketAddr) {
    let runtime = TokioRuntime::current().shared();
    let mut engine = match ServerConnection::new(server.config.clone(), runtime.now()) {
        Ok(engine) => engine,
        Err(error) => return eprintln!("{peer}: {error}"),
    };
    // Certificates' source-address restrictions are checked against it.
    Engine::set_peer_address(&mut engine, peer.ip());
    let grants = KeyGrants::default();
    let handler = ConnectionAuth::new(server.credentials.clone(), peer.ip(), grants.clone());
    let connection = match accept_engine(runtime, ssh_tcp(stream), engine, handler).await {
        Ok(connection) => connection,
        Err(error) => return eprintln!("{peer}: handshake failed: {error}"),
    };
    // Serving global requests before the login ends: ssh asks for its -R forwards
    // right after it, and they wait for the policy.
    let forwarding = server.allow_forwarding.then(|| {
        let forwarding = ServerForwarding::pending(&connection);
        forwarding.serve_global_requests();
        forwarding
    });
    let Ok(user) = connection.authenticated().await else {
        return;
    };
    if let Some(forwarding) = &forwarding {
        forwarding.set_policy(forwarding_policy(&user, &grants));
    }
    let context = Arc::new(SessionContext {
        account: server.account.clone(),
        permissions: user.permissions,
        peer,
        local,
        sftp_root: server.sftp_root.clone(),
        forwarding: forwarding.clone(),
    });
    serve_channels(&connection, &context, forwarding.as_ref()).await;
    eprintln!("{peer}: closed: {}", connection.closed().await);
}

/// What the client may forward: everything, narrowed by the user's certificate
/// (the permissions authentication granted) and by the `authorized_keys` line that
/// accepted the key (`permitopen=`, `permitlisten=`, `no-port-forwarding`, ...).
fn forwarding_policy(user: &AuthenticatedUser, grants: &KeyGrants) -> ForwardingPolicy {
    let policy = ForwardingPolicy::allow_all().for_user(user);
    match user.public_key.as_ref().and_then(|key| grants.for_key(key)) {
        Some(key_options) => policy.with_key_options(&key_options),
        None => policy,
    }
}

/// Answers the client's channel opens: sessions are served, each on its own task;
/// forwarding channels go to `forwarding` (when `--allow-forwarding` is given), and
/// other kinds are refused.
async fn serve_channels(
    connection: &Connection<ServerConnection>,
    context: &Arc<SessionContext>,
    forwarding: Option<&ServerForwarding>,
) {
    while let Some(incoming) = connection.accept_channel().await {
        let incoming = match forwarding {
            Some(forwarding) => match forwarding.handle_channel(incoming) {
                Some(incoming) => incoming,
                None => continue,
            },
            None => incoming,
        };
        match incoming.kind() {
            ChannelKind::Session => match incoming.accept() {
                Ok(channel) => {
                    tokio::spawn(session::serve(channel, context.clone()));
                }
                Err(error) => eprintln!("{}: cannot accept a session: {error}", context.peer),
            },
            _ => incoming.reject(
                OpenFailureReason::AdministrativelyProhibited,
                "this server only serves sessions",
            ),
        }
    }
}
