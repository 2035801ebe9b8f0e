//! The scenarios, each generic over the runtime it runs on.

use std::collections::HashSet;
use std::thread;
use std::time::Duration;

use sansh_conformance::openssh::{SshClient, Sshd};
use std::sync::Arc;

use sansh_core::driver::Connection;
use sansh_core::driver::connect_with;
use sansh_core::error::{ConnectionError, DisconnectReason};
use sansh_core::keys::PublicKey;
use sansh_core::{ClientConfig, ServerConfig, ServerConnection, TransportConfig};

pub(crate) use crate::auth::*;
pub(crate) use crate::forwarding::*;
pub(crate) use crate::forwarding_ssh::*;
pub(crate) use crate::host_certificates::*;
pub(crate) use crate::keepalive::*;
pub(crate) use crate::rekey_data::*;
use crate::runtimes::TestRuntime;
pub(crate) use crate::server_session::*;
pub(crate) use crate::session::*;
pub(crate) use crate::sftp::*;
use crate::support::*;
pub(crate) use crate::terminal_signals::*;

/// Our client through the driver against sshd: the key exchange completes, the
/// handler is shown one of sshd's host keys, the handle reports what was negotiated.
pub(crate) fn client_completes_kex_with_sshd_and_checks_its_host_key<R: TestRuntime>() -> TestResult
{
    let sshd = Sshd::start()?;
    let rt = R::start();
    let handler = AcceptAny::default();
    let conn = rt.block_on(R::connect(
        sshd.addr(),
        ClientConfig::default(),
        handler.clone(),
    ))?;
    assert_eq!(conn.key_exchanges(), 1);
    let version = conn.peer_version().ok_or("no peer version")?;
    assert!(version.starts_with("SSH-2.0-OpenSSH_"), "{version}");
    assert!(conn.session_id().is_some_and(|id| id.len() >= 32));
    let algorithms = conn.algorithms().ok_or("no algorithms")?;
    sshd.wait_for_log(&format!("kex: algorithm: {}", algorithms.kex.name()), WAIT)?;

    let seen = handler.seen();
    assert_eq!(seen.len(), 1, "asked once");
    let served: Vec<PublicKey> = sshd
        .host_keys()
        .iter()
        .map(|k| parse_public(&k.public))
        .collect();
    assert!(
        served.contains(&seen[0]),
        "the handler saw one of sshd's keys"
    );
    Ok(())
}

/// Our client and our server over TCP, both through `listen`/`connect`.
fn our_pair<R: TestRuntime>(
    rt: &R,
    server: Arc<ServerConfig>,
    client: ClientConfig,
) -> Result<(Connection, Connection<ServerConnection>), Box<dyn std::error::Error>> {
    let listener = rt.block_on(R::listen(server, NoDecisions))?;
    let client = rt.block_on(R::connect(
        listener.local_addr(),
        client,
        AcceptAny::default(),
    ))?;
    let (server, _) = rt.block_on(listener.accept()).ok_or("the listener ended")?;
    Ok((client, server))
}

/// `rekey()` from either side runs a new key exchange and resolves once it is done.
/// (Against sshd this cannot be shown yet: before authentication sshd answers a
/// KEXINIT with UNIMPLEMENTED, and OpenSSH never starts one itself.)
pub(crate) fn rekey_requested_by_either_side_completes<R: TestRuntime>() -> TestResult {
    let rt = R::start();
    let (client, server) = our_pair(&rt, ed25519_server(), ClientConfig::default())?;
    let session = client.session_id();
    rt.block_on(client.rekey())?;
    wait_for("the server to finish the rekey", || {
        server.key_exchanges() == 2
    })?;
    rt.block_on(server.rekey())?;
    wait_for("the client to finish the rekey", || {
        client.key_exchanges() == 3
    })?;
    assert_eq!(client.session_id(), session, "the session id never changes");
    assert!(!client.is_closed() && !server.is_closed());
    Ok(())
}

/// A server's time limit (what sshd's `RekeyLimit default 1s` would be) fires from
/// its driver's timer, and our client follows.
pub(crate) fn server_time_limit_forces_a_rekey<R: TestRuntime>() -> TestResult {
    let rt = R::start();
    let transport = TransportConfig {
        rekey_after: Some(Duration::from_millis(300)),
        ..TransportConfig::default()
    };
    let config = ed25519_server_with(transport);
    let (client, server) = our_pair(&rt, config, ClientConfig::default())?;
    rt.block_on(R::sleep(Duration::from_millis(400)));
    wait_for("a timed rekey", || {
        client.key_exchanges() >= 2 && server.key_exchanges() >= 2
    })?;
    assert!(!client.is_closed() && !server.is_closed());
    Ok(())
}

/// `disconnect` sends DISCONNECT with our description, which sshd logs.
pub(crate) fn disconnect_reaches_sshd_with_its_description<R: TestRuntime>() -> TestResult {
    let sshd = Sshd::start()?;
    let rt = R::start();
    let conn = rt.block_on(R::connect(
        sshd.addr(),
        ClientConfig::default(),
        AcceptAny::default(),
    ))?;
    conn.disconnect("scenario over");
    let why = rt.block_on(conn.closed());
    assert_eq!(why, ConnectionError::LocallyClosed("scenario over".into()));
    let line = sshd.wait_for_log("Received disconnect from 127.0.0.1", WAIT)?;
    assert!(line.contains(":11: scenario over"), "{line}");
    Ok(())
}

/// Dropping the last handle (not the first of two) closes the connection with
/// DISCONNECT "by application".
pub(crate) fn dropping_the_last_handle_sends_disconnect_to_sshd<R: TestRuntime>() -> TestResult {
    let sshd = Sshd::start()?;
    let rt = R::start();
    let conn = rt.block_on(R::connect(
        sshd.addr(),
        ClientConfig::default(),
        AcceptAny::default(),
    ))?;
    let copy = conn.clone();
    drop(conn);
    rt.block_on(R::sleep(Duration::from_millis(300)));
    assert!(
        !sshd.log().contains("Received disconnect"),
        "a clone keeps it open"
    );
    drop(copy);
    let line = sshd.wait_for_log("Received disconnect from 127.0.0.1", WAIT)?;
    let code = DisconnectReason::ByApplication.code();
    assert!(line.contains(&format!(":{code}: ")), "{line}");
    Ok(())
}

/// While the host key handler is pending, the driver goes on reading: sshd's NEWKEYS
/// and EXT_INFO, trickled in by a relay after the question was asked, are all read
/// from the socket (the kernel holds nothing for it). Then the handler's answer
/// completes the connection.
pub(crate) fn slow_host_key_handler_does_not_stop_the_driver_reading_sshd<R: TestRuntime>()
-> TestResult {
    let sshd = Sshd::start()?;
    let relay = Relay::start(sshd.addr(), Duration::from_micros(300))?;
    let rt = R::start();
    let runtime = rt.runtime();
    let gate = Gate::default();
    let (stream, local) = rt.block_on(R::tcp(relay.addr()))?;
    let connecting = spawn_join(
        &runtime,
        connect_with(
            runtime.clone(),
            stream,
            ClientConfig::default(),
            gate.clone(),
        ),
    );

    wait_for("the host key question", || gate.asked())?;
    let forwarded_at_question = relay.forwarded();
    sshd.wait_for_log("expecting SSH2_MSG_NEWKEYS", WAIT)?;
    // sshd has sent NEWKEYS (and EXT_INFO after it): those bytes trickle through the
    // relay after the question was asked, and the driver must read them.
    wait_for("sshd's bytes to pass the relay after the question", || {
        relay.forwarded() > forwarded_at_question && relay.holding() == 0
    })?;
    wait_for("the driver to read them", || {
        unread_by_socket(local, relay.addr()) == Some(0)
    })?;
    assert!(
        !connecting.is_done(),
        "the connection waits for the handler"
    );

    gate.open(true);
    let conn = connecting.wait()??;
    assert_eq!(conn.key_exchanges(), 1);
    Ok(())
}

/// `ssh -vvv` against our server through `listen`: the key exchange completes and
/// the server accepts `ssh-userauth`; with no authentication yet, we disconnect.
pub(crate) fn openssh_client_reaches_service_accept_on_our_server<R: TestRuntime>() -> TestResult {
    let rt = R::start();
    let listener = rt.block_on(R::listen(ed25519_server(), NoDecisions))?;
    let addr = listener.local_addr();
    let ssh = thread::spawn(move || SshClient::new(addr).timeout(WAIT).run());
    let (conn, peer) = rt.block_on(listener.accept()).ok_or("the listener ended")?;
    assert!(peer.ip().is_loopback());
    let version = conn.peer_version().ok_or("no peer version")?;
    assert!(version.starts_with("SSH-2.0-OpenSSH_"), "{version}");
    let service = rt.block_on(conn.service_accepted())?;
    assert_eq!(service, "ssh-userauth");
    conn.disconnect("no authentication yet");
    let out = ssh.join().map_err(|_| "the ssh thread panicked")??;
    assert!(
        out.log_contains("SSH2_MSG_NEWKEYS received"),
        "{}",
        out.stderr
    );
    assert!(
        out.log_contains("SSH2_MSG_SERVICE_ACCEPT received"),
        "{}",
        out.stderr
    );
    assert_eq!(out.status.code(), Some(255));
    Ok(())
}

/// 50 of our clients connect to our server at once; every key exchange completes,
/// each side pairs up by session id, and dropping the clients closes the servers'
/// connections with their DISCONNECT.
pub(crate) fn fifty_concurrent_clients_connect_to_our_server<R: TestRuntime>() -> TestResult {
    const CLIENTS: usize = 50;
    let rt = R::start();
    let runtime = rt.runtime();
    let listener = rt.block_on(R::listen(ed25519_server(), NoDecisions))?;
    let addr = listener.local_addr();
    let connecting: Vec<_> = (0..CLIENTS)
        .map(|_| {
            spawn_join(
                &runtime,
                R::connect(addr, ClientConfig::default(), AcceptAny::default()),
            )
        })
        .collect();
    let servers = rt.block_on(async {
        let mut servers = Vec::new();
        for _ in 0..CLIENTS {
            servers.push(listener.accept().await.ok_or("the listener ended")?.0);
        }
        Ok::<_, &str>(servers)
    })?;
    let mut clients = Vec::new();
    for join in connecting {
        clients.push(join.wait()??);
    }
    let client_ids: HashSet<_> = clients.iter().filter_map(|c| c.session_id()).collect();
    let server_ids: HashSet<_> = servers.iter().filter_map(|c| c.session_id()).collect();
    assert_eq!(client_ids.len(), CLIENTS, "every session is distinct");
    assert_eq!(client_ids, server_ids);

    drop(clients);
    for server in &servers {
        match rt.block_on(server.closed()) {
            ConnectionError::PeerDisconnected { reason, .. } => {
                assert_eq!(reason, DisconnectReason::ByApplication)
            }
            other => return Err(format!("server connection ended with {other}").into()),
        }
    }
    Ok(())
}

/// 100 sessions at once on one connection to sshd, 128 KiB each through `cat`
/// (the heavy suite moves 10 MiB each, in release).
pub(crate) fn hundred_channels_at_once_through_cat_on_sshd<R: TestRuntime>() -> TestResult {
    crate::many::channels_at_once_through_cat_on_sshd::<R>(100, 128 * 1024)
}

/// 100 sessions at once on one connection from our client to our server, 128 KiB
/// each through `cat`.
pub(crate) fn hundred_channels_at_once_through_cat_on_our_server<R: TestRuntime>() -> TestResult {
    crate::many::channels_at_once_through_cat_on_our_server::<R>(100, 128 * 1024)
}

/// 100 `ssh` sessions multiplexed on one connection to our server, 64 KiB each
/// through `cat`.
pub(crate) fn hundred_ssh_mux_sessions_through_cat_on_our_server<R: TestRuntime>() -> TestResult {
    crate::many::ssh_mux_sessions_through_cat_on_our_server::<R>(100, 64 * 1024, 2 * WAIT)
}

/// 200 `ssh` connections open to our server at the same time.
pub(crate) fn two_hundred_ssh_connections_at_once_to_our_server<R: TestRuntime>() -> TestResult {
    crate::many::ssh_connections_at_once_to_our_server::<R>(200, 2 * WAIT)
}
