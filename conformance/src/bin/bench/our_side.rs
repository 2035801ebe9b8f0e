//! The workloads with our client: the tokio driver, against `sshd` or our server.

use std::future::poll_fn;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::time::{Duration, Instant};

use futures_io::{AsyncRead, AsyncWrite};
use sansh_core::ClientConfig;
use sansh_core::cipher::CipherAlgorithm;
use sansh_core::driver::sftp::TransferOptions;
use sansh_core::driver::{Channel, ClientHandler, Connection, Login};
use sansh_core::keys::PublicKey;

use crate::setup::{BenchResult, Setup};
use crate::sftp::{SftpTarget, Transfer};

/// How much each read and write moves at most.
const BUFFER: usize = 256 * 1024;

/// How many connections the idle-memory workload opens at once.
const IDLE_OPENING_BATCH: usize = 16;

/// Trusts the benchmark's own servers (started on loopback by this process).
struct TrustSshd;

impl ClientHandler for TrustSshd {
    async fn check_server_key(&self, _key: &PublicKey) -> bool {
        true
    }
}

/// Connects to `addr` and logs in with the benchmark key, offering only `cipher` if
/// given.
async fn connect(
    setup: &Setup,
    addr: SocketAddr,
    cipher: Option<CipherAlgorithm>,
) -> BenchResult<Connection> {
    let mut config = ClientConfig::default();
    if let Some(cipher) = cipher {
        config.transport.algorithms.ciphers = vec![cipher];
    }
    let conn = sansh_tokio::connect(addr, config, TrustSshd).await?;
    let login = Login::new(&setup.user).no_agent().identity_file(&setup.key);
    conn.authenticate(&login, &TrustSshd).await?;
    Ok(conn)
}

/// Reads the channel to its end; returns how many bytes came.
async fn drain(channel: &mut Channel) -> BenchResult<u64> {
    let mut buf = vec![0; BUFFER];
    let mut total = 0u64;
    loop {
        let n = poll_fn(|cx| Pin::new(&mut *channel).poll_read(cx, &mut buf)).await?;
        if n == 0 {
            return Ok(total);
        }
        total += n as u64;
    }
}

/// Waits for the channel to close and checks the command succeeded.
async fn finish(channel: &Channel, conn: &Connection) -> BenchResult<()> {
    channel.wait_closed().await?;
    match channel.exit_status() {
        Some(0) => {}
        other => return Err(format!("the remote command ended with {other:?}").into()),
    }
    conn.disconnect("sansh bench: done");
    conn.closed().await;
    Ok(())
}

/// `size` bytes of `head -c` on the server, read by our client.
pub(crate) fn download(setup: &Setup, cipher: CipherAlgorithm, size: u64) -> BenchResult<Duration> {
    setup.runtime.block_on(async {
        let start = Instant::now();
        let conn = connect(setup, setup.sshd.addr(), Some(cipher)).await?;
        let mut channel = conn.open_session().await?;
        channel.exec(format!("head -c {size} /dev/zero")).await?;
        let received = drain(&mut channel).await?;
        if received != size {
            return Err(format!("received {received} bytes of {size}").into());
        }
        finish(&channel, &conn).await?;
        Ok(start.elapsed())
    })
}

/// `size` bytes written by our client into `cat > /dev/null` on the server.
pub(crate) fn upload(setup: &Setup, cipher: CipherAlgorithm, size: u64) -> BenchResult<Duration> {
    setup.runtime.block_on(async {
        let start = Instant::now();
        let conn = connect(setup, setup.sshd.addr(), Some(cipher)).await?;
        let mut channel = conn.open_session().await?;
        channel.exec("cat > /dev/null").await?;
        let zeros = vec![0u8; BUFFER];
        let mut left = size;
        while left > 0 {
            let len = usize::try_from(left).map_or(BUFFER, |left| left.min(BUFFER));
            let chunk = zeros.get(..len).unwrap_or_default();
            let n = poll_fn(|cx| Pin::new(&mut channel).poll_write(cx, chunk)).await?;
            left -= n as u64;
        }
        // EOF: cat ends, and the channel with it.
        poll_fn(|cx| Pin::new(&mut channel).poll_close(cx)).await?;
        drain(&mut channel).await?;
        finish(&channel, &conn).await?;
        Ok(start.elapsed())
    })
}

/// `count` connections in a row, each running `true`.
pub(crate) fn connections(setup: &Setup, count: u32) -> BenchResult<Duration> {
    setup.runtime.block_on(async {
        let start = Instant::now();
        for _ in 0..count {
            let conn = connect(setup, setup.sshd.addr(), None).await?;
            let output = conn.run("true").await?;
            if output.exit_status != Some(0) {
                return Err(format!("`true` ended with {:?}", output.exit_status).into());
            }
            conn.disconnect("sansh bench: done");
            conn.closed().await;
        }
        Ok(start.elapsed())
    })
}

/// `count` authenticated connections to `addr`, left idle; `IDLE_OPENING_BATCH`
/// open at once.
pub(crate) fn open_idle(
    setup: &Setup,
    addr: SocketAddr,
    count: u32,
) -> BenchResult<Vec<Connection>> {
    setup.runtime.block_on(async {
        let mut open = Vec::new();
        let mut left = count as usize;
        while left > 0 {
            let batch = left.min(IDLE_OPENING_BATCH);
            let mut tasks = tokio::task::JoinSet::new();
            for _ in 0..batch {
                let user = setup.user.clone();
                let key = setup.key.clone();
                tasks.spawn(async move {
                    let conn = sansh_tokio::connect(addr, ClientConfig::default(), TrustSshd)
                        .await
                        .map_err(|e| e.to_string())?;
                    let login = Login::new(&user).no_agent().identity_file(&key);
                    conn.authenticate(&login, &TrustSshd)
                        .await
                        .map_err(|e| e.to_string())?;
                    Ok::<_, String>(conn)
                });
            }
            while let Some(joined) = tasks.join_next().await {
                open.push(joined??);
            }
            left -= batch;
        }
        Ok(open)
    })
}

/// Disconnects the idle connections and waits for them to close.
pub(crate) fn close_idle(setup: &Setup, connections: Vec<Connection>) {
    setup.runtime.block_on(async {
        for conn in &connections {
            conn.disconnect("sansh bench: done");
        }
        for conn in &connections {
            conn.closed().await;
        }
    });
}

/// Our SFTP client moves `source` to `destination` (remote to local for a get,
/// local to remote for a put) through the `sshd` of `target`: connects, starts the
/// SFTP subsystem, transfers, disconnects.
pub(crate) fn sftp(
    setup: &Setup,
    target: SftpTarget,
    transfer: Transfer,
    source: &Path,
    destination: &Path,
) -> BenchResult<Duration> {
    let SftpTarget { addr, cipher } = target;
    let options = TransferOptions::default();
    setup.runtime.block_on(async {
        let start = Instant::now();
        let conn = connect(setup, addr, cipher).await?;
        let client = conn.start_sftp_client().await?;
        match transfer {
            Transfer::Get => {
                let remote = source.as_os_str().as_encoded_bytes();
                client.get(remote, destination, &options).await?;
            }
            Transfer::Put => {
                let remote = destination.as_os_str().as_encoded_bytes();
                client.put(source, remote, &options).await?;
            }
        }
        conn.disconnect("sansh bench: done");
        conn.closed().await;
        Ok(start.elapsed())
    })
}
