//! `client`: an ssh-like command line client on sansh and tokio.
//!
//! ```text
//! cargo run --release -p sansh-tokio --example client -- \
//!     [-p PORT] [-l USER] [-i FILE]... [-o Name=Value]... [-c CIPHERS] [-m MACS] \
//!     [-t|-T] [-n] [-C] [-q] [-v] [-L SPEC]... [-R SPEC]... [-D SPEC]... \
//!     [-J HOPS] [-N] [-A] [user@]host [command...]
//! ```
//!
//! It behaves like OpenSSH's `ssh`: stdin goes to the remote side, its stdout and
//! stderr come back apart, and the exit code is the remote exit status (255 on a
//! connection or authentication error, and when the remote command was killed by a
//! signal). The host key is checked against known_hosts as ssh does
//! (`StrictHostKeyChecking`, `UserKnownHostsFile`, hashed names, `@revoked`);
//! passwords, keyboard-interactive answers and key passphrases come from the
//! terminal or from `SSH_ASKPASS`; agent keys from `SSH_AUTH_SOCK`. With `-t` (or
//! for a shell on a terminal) the remote side gets a pty of the local terminal's
//! size and modes, the local terminal goes raw meanwhile, and size changes follow.
//!
//! Supported `-o` options: Port, User, IdentityFile, IdentityAgent, KexAlgorithms,
//! HostKeyAlgorithms, Ciphers, MACs (`+`, `-`, `^` forms too), Compression,
//! BatchMode, PasswordAuthentication, KbdInteractiveAuthentication,
//! PubkeyAuthentication, PreferredAuthentications, NumberOfPasswordPrompts,
//! StrictHostKeyChecking, UserKnownHostsFile, GlobalKnownHostsFile, HashKnownHosts,
//! HostKeyAlias, RequestTTY, ConnectTimeout, ServerAliveInterval,
//! ServerAliveCountMax, LogLevel, IdentitiesOnly, SetEnv, SendEnv, LocalForward,
//! RemoteForward, DynamicForward, ProxyJump, ForwardAgent, ExitOnForwardFailure,
//! GatewayPorts. No ssh_config file is read, and there is no escape character
//! (`~.`).
//!
//! Forwarding as ssh: `-L`, `-R` and `-D` start once logged in (`-v` prints where
//! each listens; `-R` of port 0 prints the allocated port), `-N` runs no command
//! and holds them until the connection ends or a signal, `-A` forwards the agent
//! at `SSH_AUTH_SOCK`, `-J` connects through each hop's `direct-tcpip` channel,
//! checking every hop's key under its own name. Unlike ssh, whose hops are fresh
//! ssh processes, the hops share the command line's keys, known_hosts files and
//! algorithms.

mod args;
mod forward_args;
mod forwarding;
mod handler;
mod known_hosts;
mod option_values;
mod prompt;
mod session;
mod terminal;

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use sansh_tokio::core::ConnectionError;
use sansh_tokio::core::cipher::{CompressionAlgorithm, MacAlgorithm};
use sansh_tokio::core::driver::{AuthFailed, Channel, connect_with};
use sansh_tokio::{
    ClientConfig, ConnectError, Connection, DEFAULT_CONNECT_TIMEOUT, Login, TokioRuntime,
};

use crate::args::{LogLevel, Options, RequestTty};
use crate::handler::Handler;
use crate::known_hosts::{HostKeyCheck, Verdict};
use crate::prompt::Prompter;
use crate::session::Ended;

/// ssh's exit code for its own errors.
pub(crate) const FAILURE: i32 = 255;

fn main() {
    let options = match Options::from_args() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(FAILURE);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the runtime: {error}");
            std::process::exit(FAILURE);
        }
    };
    let code = runtime.block_on(run(&options));
    let _ = std::io::stdout().flush();
    // The thread reading stdin may be blocked in a read that only the user can end:
    // leave without waiting for it (the terminal is already restored).
    std::process::exit(code);
}

/// Connects (through the jump hosts, if any), logs in, sets up the forwards and
/// runs the session; returns the exit code.
async fn run(options: &Options) -> i32 {
    // Each hop carries the next one's connection: all stay open until the end.
    let mut hops: Vec<Connection> = Vec::new();
    for hop in &options.jump_hosts {
        let hop_options = options.for_jump_host(hop);
        match establish(&hop_options, hops.last()).await {
            Ok(conn) => hops.push(conn),
            Err(code) => return code,
        }
    }
    let conn = match establish(options, hops.last()).await {
        Ok(conn) => conn,
        Err(code) => return code,
    };
    let code = match forwarding::start(options, &conn).await {
        Err(forwarding::Fatal) => FAILURE,
        Ok(forwards) => {
            let code = if options.no_command {
                forwarding::hold(options, &conn).await
            } else {
                match session(options, &conn).await {
                    Ok(code) => code,
                    Err(message) => {
                        error(options, &message);
                        FAILURE
                    }
                }
            };
            drop(forwards);
            code
        }
    };
    conn.disconnect("disconnected by user");
    for hop in hops.iter().rev() {
        hop.disconnect("disconnected by user");
    }
    code
}

/// Connects to `options.host` (directly, or through `via`'s `direct-tcpip`
/// channel), checks its key under its own name and logs in; the exit code on
/// failure, its reason already printed.
async fn establish(options: &Options, via: Option<&Connection>) -> Result<Connection, i32> {
    let prompter = Prompter::from_env(options.batch_mode);
    let account = format!("{}@{}", options.user, options.host);
    let check = HostKeyCheck::new(options);
    let mut config = client_config(options);
    if !options.host_key_algorithms_given {
        // As ssh does: the algorithms of keys already on record for the host first,
        // and certificates only of those types unless an authority is on record.
        let known = check.known_key_types();
        let algorithms = &mut config.transport.algorithms;
        algorithms
            .host_key
            .sort_by_key(|algorithm| !known.contains(&algorithm.key_type()));
        if !known.is_empty() && !check.has_authority() {
            algorithms
                .host_certificate
                .retain(|algorithm| known.contains(&algorithm.key_type()));
        }
    }
    let handler = Handler::new(check, prompter, account, options.log_level);
    let timeout = options.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT);
    let connected = match via {
        None => {
            let address = (options.host.as_str(), options.port);
            sansh_tokio::connect_timeout(address, timeout, config, handler.clone()).await
        }
        Some(hop) => {
            // ConnectTimeout covers the channel's open and the handshake through it.
            let tunnelled = tokio::time::timeout(timeout, async {
                let origin = SocketAddr::from(([127, 0, 0, 1], 0));
                let tunnel = hop
                    .open_direct_tcpip(&options.host, options.port, origin)
                    .await
                    .map_err(|why| why.to_string())?;
                let runtime = TokioRuntime::current().shared();
                Ok::<_, String>(connect_with(runtime, tunnel, config, handler.clone()).await)
            })
            .await
            .unwrap_or_else(|_| Err("timed out".into()));
            match tunnelled {
                Ok(connected) => connected,
                Err(why) => {
                    error(
                        options,
                        &format!(
                            "channel open to {} port {} through the jump host failed: {why}",
                            options.host, options.port
                        ),
                    );
                    return Err(FAILURE);
                }
            }
        }
    };
    let conn = match connected {
        Ok(conn) => conn,
        // The check has said why already.
        Err(ConnectError::Handshake(ConnectionError::HostKeyRejected))
            if handler.verdict() == Some(Verdict::Refused) =>
        {
            return Err(FAILURE);
        }
        Err(why) => {
            error(
                options,
                &format!(
                    "client: connect to host {} port {}: {why}",
                    options.host, options.port
                ),
            );
            return Err(FAILURE);
        }
    };
    if options.log_level >= LogLevel::Debug {
        log_algorithms(&conn);
    }
    let password_allowed = handler.verdict() != Some(Verdict::TrustedDespiteChange);
    match conn
        .authenticate(&login(options, password_allowed), &*handler)
        .await
    {
        Ok(method) => {
            if options.log_level >= LogLevel::Verbose {
                eprintln!(
                    "Authenticated to {} ([{}]:{}) using \"{}\".",
                    options.host,
                    options.host,
                    options.port,
                    method.name()
                );
            }
            Ok(conn)
        }
        Err(AuthFailed::Denied { offered, .. }) => {
            error(
                options,
                &format!(
                    "{}@{}: Permission denied ({}).",
                    options.user,
                    options.host,
                    offered.join(",")
                ),
            );
            Err(FAILURE)
        }
        Err(why) => {
            error(options, &format!("{why}"));
            Err(FAILURE)
        }
    }
}

/// The negotiated algorithms, in ssh's `-vv` wording so that logs compare line
/// for line.
fn log_algorithms(conn: &Connection) {
    let Some(negotiated) = conn.algorithms() else {
        return;
    };
    let mac = |mac: Option<MacAlgorithm>| mac.map_or("<implicit>", MacAlgorithm::name);
    eprintln!("debug1: kex: algorithm: {}", negotiated.kex.name());
    eprintln!(
        "debug1: kex: host key algorithm: {}",
        negotiated.host_key_name()
    );
    eprintln!(
        "debug1: kex: server->client cipher: {} MAC: {} compression: {}",
        negotiated.cipher_s2c.name(),
        mac(negotiated.mac_s2c),
        negotiated.compression_s2c.name()
    );
    eprintln!(
        "debug1: kex: client->server cipher: {} MAC: {} compression: {}",
        negotiated.cipher_c2s.name(),
        mac(negotiated.mac_c2s),
        negotiated.compression_c2s.name()
    );
}

/// The engine's configuration from the options.
fn client_config(options: &Options) -> ClientConfig {
    let mut config = ClientConfig::default();
    let algorithms = &mut config.transport.algorithms;
    algorithms.kex = options.kex.clone();
    let forms = |certificate: bool| {
        options
            .host_key_algorithms
            .iter()
            .filter(move |a| a.certificate == certificate)
            .map(|a| a.signature)
            .collect()
    };
    algorithms.host_certificate = forms(true);
    algorithms.host_key = forms(false);
    algorithms.ciphers = options.ciphers.clone();
    algorithms.macs = options.macs.clone();
    if options.compression {
        algorithms.compression = vec![
            CompressionAlgorithm::ZlibOpenssh,
            CompressionAlgorithm::None,
        ];
    }
    config.connection.keepalive_interval = options.server_alive_interval;
    config.connection.keepalive_max = options.server_alive_count_max;
    config
}

/// What to log in with: the agent, then the identity files (`-i`, `IdentityFile`,
/// else the default ones), then the methods that ask the user.
fn login(options: &Options, password_allowed: bool) -> Login {
    let mut login = Login::new(&options.user)
        .methods(&options.auth_methods(password_allowed))
        .password_prompts(options.number_of_password_prompts);
    // IdentitiesOnly: the key files are read directly rather than matched with
    // the agent's keys, so an encrypted one asks for its passphrase.
    if let Some(agent) = options
        .identity_agent
        .as_ref()
        .filter(|_| !options.identities_only)
    {
        login = login.agent(agent);
    }
    if options.identity_files.is_empty() {
        if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
            login = login.default_identities_in(PathBuf::from(home).join(".ssh"));
        }
    }
    for file in &options.identity_files {
        login = login.identity_file(file);
    }
    login
}

/// Opens the session, starts the command or shell (on a pty if asked), relays the
/// streams, and turns how the remote side ended into our exit code.
async fn session(options: &Options, conn: &Connection) -> Result<i32, String> {
    let mut channel = conn
        .open_session()
        .await
        .map_err(|e| format!("cannot open a session: {e}"))?;
    for (name, value) in &options.environment {
        // sshd takes only the names its AcceptEnv lists; ssh goes on regardless.
        let _ = channel.env(name, value).await;
    }
    // Held until the session ends: the server's agent channels are relayed meanwhile.
    let _agent = if options.forward_agent {
        match channel.request_agent_forwarding() {
            Ok(agent) => Some(agent),
            Err(why) => {
                warn(options, &format!("Agent forwarding not requested: {why}"));
                None
            }
        }
    } else {
        None
    };
    let pty = wants_pty(options);
    if pty {
        if let Err(error) = channel.request_pty(&terminal::pty_request()).await {
            // ssh goes on without a pty.
            warn(options, &format!("PTY allocation request failed: {error}"));
        }
    }
    let started = match &options.command {
        Some(command) => channel.exec(command).await,
        None => channel.shell().await,
    };
    started.map_err(|e| format!("cannot start the remote command: {e}"))?;
    let raw = if pty {
        terminal::RawMode::enter().map_err(|e| format!("cannot set the terminal: {e}"))?
    } else {
        None
    };
    let relayed = session::relay(&mut channel, !options.null_stdin, pty).await;
    // Before anything else is printed: messages need a cooked terminal.
    drop(raw);
    let ended = match relayed {
        Ok(ended) => ended,
        // Our stdout or stderr was closed (`client host yes | head -1`): nothing to
        // say, and nowhere to say it.
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => return Ok(FAILURE),
        Err(error) => return Err(format!("connection to {} lost: {error}", options.host)),
    };
    match ended {
        Ended::Signal(name) => {
            error(options, &format!("Killed by signal {name}."));
            return Ok(FAILURE);
        }
        Ended::RemoteDone => {}
    }
    // The relay ended with the channel's close: the exit status is in.
    wait_closed(&channel).await?;
    if pty && options.log_level >= LogLevel::Info {
        eprintln!("Connection to {} closed.", options.host);
    }
    if let Some(signal) = channel.exit_signal() {
        let core = if signal.core_dumped {
            " (core dumped)"
        } else {
            ""
        };
        error(
            options,
            &format!(
                "remote command killed by signal {}{core}{}{}",
                signal.name,
                if signal.message.is_empty() { "" } else { ": " },
                signal.message
            ),
        );
        return Ok(FAILURE);
    }
    // Without an exit status ssh exits 255; the status's low byte is the code.
    Ok(channel.exit_status().map_or(FAILURE, |s| (s & 0xff) as i32))
}

/// Waits for the channel's close, which brings the exit status.
async fn wait_closed(channel: &Channel) -> Result<(), String> {
    channel
        .wait_closed()
        .await
        .map_err(|e| format!("connection closed: {e}"))
}

/// ssh's `RequestTTY` decision: a pty for a shell on a terminal, for `-t` on a
/// terminal (with a note otherwise), and always for `-tt`.
fn wants_pty(options: &Options) -> bool {
    let on_terminal = terminal::stdin_is_terminal();
    match options.request_tty {
        RequestTty::No => false,
        RequestTty::Force => true,
        RequestTty::Yes if on_terminal => true,
        RequestTty::Yes => {
            warn(
                options,
                "Pseudo-terminal will not be allocated because stdin is not a terminal.",
            );
            false
        }
        RequestTty::Auto => options.command.is_none() && on_terminal,
    }
}

/// An error message, unless `LogLevel` is QUIET.
fn error(options: &Options, message: &str) {
    if options.log_level > LogLevel::Quiet {
        eprintln!("{message}");
    }
}

/// A warning, shown at `LogLevel` INFO and above.
fn warn(options: &Options, message: &str) {
    if options.log_level >= LogLevel::Info {
        eprintln!("{message}");
    }
}
