//! `-L`, `-R` and `-D`: the forwards set up once logged in, held until the run
//! ends; and `-N`, which holds them without a session.

use sansh_tokio::Connection;
use sansh_tokio::forward::{Endpoint, ForwardSpec, LocalForward, RemoteForward, bind_address};
use tokio::signal::unix::{SignalKind, signal};

use crate::args::{LogLevel, Options};

/// The forwards in effect; dropping them stops them.
#[derive(Default)]
pub(crate) struct Forwards {
    _local: Vec<LocalForward>,
    _remote: Vec<RemoteForward>,
}

/// A forward could not be set up and `ExitOnForwardFailure` makes that fatal.
pub(crate) struct Fatal;

/// Sets up every forward the options ask for, reporting each failure as ssh does
/// (a warning, or fatal with `ExitOnForwardFailure`).
pub(crate) async fn start(options: &Options, conn: &Connection) -> Result<Forwards, Fatal> {
    let mut forwards = Forwards::default();
    for spec in &options.local_forwards {
        match conn.forward_local(&spec.listen, spec.connect.clone()).await {
            Ok(forward) => {
                verbose(
                    options,
                    &format!(
                        "Local forwarding listening on {} to {}.",
                        listening(&forward),
                        endpoint(&spec.connect)
                    ),
                );
                forwards._local.push(forward);
            }
            Err(error) => failed(
                options,
                &format!("Could not request local forwarding: {error}"),
            )?,
        }
    }
    for listen in &options.dynamic_forwards {
        let started = match listen {
            Endpoint::Tcp { host, port } => match bind_address(host, *port) {
                Ok(address) => conn.forward_socks(address).await,
                Err(error) => Err(error),
            },
            Endpoint::Unix(_) => continue,
        };
        match started {
            Ok(forward) => {
                verbose(
                    options,
                    &format!(
                        "Dynamic forwarding (SOCKS) listening on {}.",
                        listening(&forward)
                    ),
                );
                forwards._local.push(forward);
            }
            Err(error) => failed(
                options,
                &format!("Could not request dynamic forwarding: {error}"),
            )?,
        }
    }
    for spec in &options.remote_forwards {
        match remote(conn, spec).await {
            Ok(forward) => {
                if let (Endpoint::Tcp { port: 0, .. }, Some(port)) =
                    (&spec.listen, forward.bound_port())
                {
                    // ssh says this even without -v: the user has no other way to learn it.
                    if options.log_level >= LogLevel::Info {
                        eprintln!(
                            "Allocated port {port} for remote forward to {}",
                            endpoint(&spec.connect)
                        );
                    }
                }
                verbose(
                    options,
                    &format!(
                        "Remote forwarding listening on {} to {}.",
                        endpoint(&spec.listen),
                        endpoint(&spec.connect)
                    ),
                );
                forwards._remote.push(forward);
            }
            Err(error) => failed(
                options,
                &format!(
                    "Warning: remote port forwarding failed for listen {}: {error}",
                    endpoint(&spec.listen)
                ),
            )?,
        }
    }
    Ok(forwards)
}

async fn remote(
    conn: &Connection,
    spec: &ForwardSpec,
) -> Result<RemoteForward, sansh_tokio::forward::ForwardError> {
    match &spec.listen {
        Endpoint::Tcp { host, port } => {
            conn.forward_remote_port(host, *port, spec.connect.clone())
                .await
        }
        Endpoint::Unix(path) => conn.forward_remote_path(path, spec.connect.clone()).await,
    }
}

/// `-N`: waits until the connection ends or a signal stops us; the exit code.
pub(crate) async fn hold(options: &Options, conn: &Connection) -> i32 {
    let (Ok(mut interrupt), Ok(mut terminate), Ok(mut hangup)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        eprintln!("cannot watch for signals");
        return crate::FAILURE;
    };
    tokio::select! {
        error = conn.closed() => {
            if options.log_level > LogLevel::Quiet {
                eprintln!("Connection to {} closed: {error}", options.host);
            }
            crate::FAILURE
        }
        // ssh exits 255 when a signal ends it.
        _ = interrupt.recv() => crate::FAILURE,
        _ = terminate.recv() => crate::FAILURE,
        _ = hangup.recv() => crate::FAILURE,
    }
}

/// A forward that failed: fatal with `ExitOnForwardFailure`, else a warning.
fn failed(options: &Options, message: &str) -> Result<(), Fatal> {
    if options.log_level > LogLevel::Quiet {
        eprintln!("{message}");
    }
    if options.exit_on_forward_failure {
        Err(Fatal)
    } else {
        Ok(())
    }
}

fn verbose(options: &Options, message: &str) {
    if options.log_level >= LogLevel::Verbose {
        eprintln!("{message}");
    }
}

fn listening(forward: &LocalForward) -> String {
    match forward.local_address() {
        sansh_tokio::forward::LocalAddress::Tcp(address) => address.to_string(),
        sansh_tokio::forward::LocalAddress::Unix(path) => path.display().to_string(),
    }
}

fn endpoint(end: &Endpoint) -> String {
    match end {
        Endpoint::Tcp { host, port } if host.contains(':') => format!("[{host}]:{port}"),
        Endpoint::Tcp { host, port } => format!("{host}:{port}"),
        Endpoint::Unix(path) => path.clone(),
    }
}
