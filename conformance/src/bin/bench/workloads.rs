//! The workloads: what each measures, on our side and on OpenSSH's.

use std::time::Duration;

use sansh_core::cipher::CipherAlgorithm;

use crate::args::Args;
use crate::cpu::CpuTimes;
use crate::setup::{BenchResult, Setup};
use crate::sftp::{SftpTarget, Transfer};
use crate::{idle, openssh_side, our_side, sftp};

/// One line of output.
pub(crate) struct Workload {
    /// The name `--workload` selects and the line starts with.
    pub(crate) name: &'static str,
    /// The unit of both figures.
    pub(crate) unit: &'static str,
    kind: Kind,
}

/// What a workload does.
#[derive(Clone, Copy)]
enum Kind {
    /// `--size` bytes from the server's `head -c SIZE /dev/zero` to the client.
    Download(CipherAlgorithm),
    /// `--size` bytes from the client into the server's `cat > /dev/null`.
    Upload(CipherAlgorithm),
    /// `--connections` times in a row: connect, authenticate with a key, exec
    /// `true`, close.
    Connections,
    /// [`Kind::Download`] with `ssh` as the client, our server against `sshd`.
    ServerDownload(CipherAlgorithm),
    /// [`Kind::Upload`] with `ssh` as the client, our server against `sshd`.
    ServerUpload(CipherAlgorithm),
    /// [`Kind::Connections`] with `ssh` as the client, `CONNECTION_BATCH` at once,
    /// our server against `sshd`.
    ServerConnections,
    /// Server memory per connection with `--idle` authenticated idle connections.
    ServerIdleMemory,
    /// An SFTP `get` or `put` of a `--size` file from or to `sshd`: our client
    /// against `sftp`, each with its default ciphers.
    Sftp(Transfer),
    /// [`Kind::Sftp`] with both clients offering only this cipher.
    SftpWith(Transfer, CipherAlgorithm),
    /// [`Kind::Sftp`] through a relay adding [`WAN_ONE_WAY`] each way.
    SftpWan(Transfer),
    /// `sftp` fetching a `--size` file over SSH: from our server (its
    /// `--sftp-root`) against `sshd`.
    ServerSftpGet,
    /// `sftp` sending a `--size` file over SSH: to our server against `sshd`.
    ServerSftpPut,
    /// `sftp` fetching a `--size` file from our SFTP server against OpenSSH's
    /// `sftp-server`, both on sftp's pipes (`sftp -D`).
    StdioServerGet,
    /// `sftp` sending a `--size` file to our SFTP server against OpenSSH's
    /// `sftp-server`, both on sftp's pipes (`sftp -D`).
    StdioServerPut,
}

/// Both figures of a workload, in its unit.
pub(crate) struct Figures {
    pub(crate) ours: f64,
    pub(crate) openssh: f64,
    /// What was measured, when the line alone would not say.
    pub(crate) note: Option<String>,
    /// The clients' CPU time, on the workloads that compare clients.
    pub(crate) cpu: Option<ClientCpu>,
}

/// User plus system CPU time each client spent on its run.
#[derive(Clone, Copy)]
pub(crate) struct ClientCpu {
    /// Our client, in this process.
    pub(crate) ours: Duration,
    /// OpenSSH's client processes (`ssh`; `sftp` and its `ssh`).
    pub(crate) openssh: Duration,
}

/// Half the round trip of the relayed workloads: 20 ms round trips, a link
/// within a continent.
pub(crate) const WAN_ONE_WAY: Duration = Duration::from_millis(10);

/// Runs `run` (our client, in this process) and measures this process's CPU time.
pub(crate) fn own_cpu<T>(run: impl FnOnce() -> BenchResult<T>) -> BenchResult<(T, Duration)> {
    let before = CpuTimes::now()?;
    let value = run()?;
    Ok((value, CpuTimes::since(before)?.own))
}

/// Runs `run` (an OpenSSH client it waits for) and measures the children's CPU time.
pub(crate) fn children_cpu<T>(run: impl FnOnce() -> BenchResult<T>) -> BenchResult<(T, Duration)> {
    let before = CpuTimes::now()?;
    let value = run()?;
    Ok((value, CpuTimes::since(before)?.children))
}

const fn workload(name: &'static str, unit: &'static str, kind: Kind) -> Workload {
    Workload { name, unit, kind }
}

const AES: CipherAlgorithm = CipherAlgorithm::Aes128Gcm;
const CHACHA: CipherAlgorithm = CipherAlgorithm::Chacha20Poly1305;
const GET: Transfer = Transfer::Get;
const PUT: Transfer = Transfer::Put;

/// Every workload, in the order a full run takes them.
pub(crate) const WORKLOADS: &[Workload] = &[
    workload("download-aes128-gcm", "MiB/s", Kind::Download(AES)),
    workload(
        "download-chacha20-poly1305",
        "MiB/s",
        Kind::Download(CHACHA),
    ),
    workload("upload-aes128-gcm", "MiB/s", Kind::Upload(AES)),
    workload("upload-chacha20-poly1305", "MiB/s", Kind::Upload(CHACHA)),
    workload("connections", "conn/s", Kind::Connections),
    workload(
        "server-download-aes128-gcm",
        "MiB/s",
        Kind::ServerDownload(AES),
    ),
    workload(
        "server-download-chacha20-poly1305",
        "MiB/s",
        Kind::ServerDownload(CHACHA),
    ),
    workload("server-upload-aes128-gcm", "MiB/s", Kind::ServerUpload(AES)),
    workload(
        "server-upload-chacha20-poly1305",
        "MiB/s",
        Kind::ServerUpload(CHACHA),
    ),
    workload("server-connections", "conn/s", Kind::ServerConnections),
    // Less is better here: the ratio is ours over sshd's, the target at most 64 KiB.
    workload("server-idle-memory", "KiB/conn", Kind::ServerIdleMemory),
    workload("sftp-get", "MiB/s", Kind::Sftp(GET)),
    workload("sftp-put", "MiB/s", Kind::Sftp(PUT)),
    workload(
        "sftp-get-chacha20-poly1305",
        "MiB/s",
        Kind::SftpWith(GET, CHACHA),
    ),
    workload(
        "sftp-put-chacha20-poly1305",
        "MiB/s",
        Kind::SftpWith(PUT, CHACHA),
    ),
    workload("sftp-get-rtt20ms", "MiB/s", Kind::SftpWan(GET)),
    workload("sftp-put-rtt20ms", "MiB/s", Kind::SftpWan(PUT)),
    workload("server-sftp-get", "MiB/s", Kind::ServerSftpGet),
    workload("server-sftp-put", "MiB/s", Kind::ServerSftpPut),
    workload("sftp-server-stdio-get", "MiB/s", Kind::StdioServerGet),
    workload("sftp-server-stdio-put", "MiB/s", Kind::StdioServerPut),
];

impl Workload {
    /// How many rounds to run: `--rounds`, but once for the idle-memory workload
    /// (a thousand connections per side, and memory is not noisy the way time is).
    pub(crate) fn rounds(&self, args: &Args) -> u32 {
        match self.kind {
            Kind::ServerIdleMemory => 1,
            _ => args.rounds,
        }
    }

    /// Runs our side, then OpenSSH's.
    pub(crate) fn run(&self, setup: &Setup, args: &Args) -> BenchResult<Figures> {
        let sshd = setup.sshd.addr();
        match self.kind {
            Kind::Download(cipher) => {
                let (ours, ours_cpu) = own_cpu(|| our_side::download(setup, cipher, args.size))?;
                let (openssh, openssh_cpu) =
                    children_cpu(|| openssh_side::download(setup, sshd, cipher.name(), args.size))?;
                Ok(throughput(args.size, ours, openssh).with_cpu(ours_cpu, openssh_cpu))
            }
            Kind::Upload(cipher) => {
                let (ours, ours_cpu) = own_cpu(|| our_side::upload(setup, cipher, args.size))?;
                let (openssh, openssh_cpu) =
                    children_cpu(|| openssh_side::upload(setup, sshd, cipher.name(), args.size))?;
                Ok(throughput(args.size, ours, openssh).with_cpu(ours_cpu, openssh_cpu))
            }
            Kind::Connections => {
                let n = args.connections;
                let (ours, ours_cpu) = own_cpu(|| our_side::connections(setup, n))?;
                let (openssh, openssh_cpu) =
                    children_cpu(|| openssh_side::connections(setup, sshd, n, 1))?;
                Ok(rate(n, ours, openssh).with_cpu(ours_cpu, openssh_cpu))
            }
            Kind::ServerDownload(cipher) => {
                let server = setup.our_server()?.addr();
                let ours = openssh_side::download(setup, server, cipher.name(), args.size)?;
                let openssh = openssh_side::download(setup, sshd, cipher.name(), args.size)?;
                Ok(throughput(args.size, ours, openssh))
            }
            Kind::ServerUpload(cipher) => {
                let server = setup.our_server()?.addr();
                let ours = openssh_side::upload(setup, server, cipher.name(), args.size)?;
                let openssh = openssh_side::upload(setup, sshd, cipher.name(), args.size)?;
                Ok(throughput(args.size, ours, openssh))
            }
            Kind::ServerConnections => {
                let (n, batch) = (args.connections, openssh_side::CONNECTION_BATCH);
                let server = setup.our_server()?.addr();
                let ours = openssh_side::connections(setup, server, n, batch)?;
                let openssh = openssh_side::connections(setup, sshd, n, batch)?;
                Ok(rate(n, ours, openssh))
            }
            Kind::ServerIdleMemory => idle::memory(setup, args.idle),
            Kind::Sftp(transfer) => {
                let target = SftpTarget {
                    addr: sshd,
                    cipher: None,
                };
                sftp::client(setup, target, args.size, transfer)
            }
            Kind::SftpWith(transfer, cipher) => {
                let target = SftpTarget {
                    addr: sshd,
                    cipher: Some(cipher),
                };
                sftp::client(setup, target, args.size, transfer)
            }
            Kind::SftpWan(transfer) => {
                let addr = setup.wan_relay()?.addr();
                let target = SftpTarget { addr, cipher: None };
                let mut figures = sftp::client(setup, target, args.size, transfer)?;
                figures.note = Some(wan_note());
                // The relay's threads run in this process: its CPU time would count
                // as our client's.
                figures.cpu = None;
                Ok(figures)
            }
            Kind::ServerSftpGet => sftp::server(setup, args.size, Transfer::Get),
            Kind::ServerSftpPut => sftp::server(setup, args.size, Transfer::Put),
            Kind::StdioServerGet => sftp::stdio_server_get(setup, args.size),
            Kind::StdioServerPut => sftp::stdio_server_put(setup, args.size),
        }
    }
}

/// What the relayed workloads' note says.
fn wan_note() -> String {
    format!(
        "through a loopback relay holding every byte {} ms each way",
        WAN_ONE_WAY.as_millis()
    )
}

/// Per second, for `n` connections made in each time.
fn rate(n: u32, ours: Duration, openssh: Duration) -> Figures {
    Figures {
        ours: f64::from(n) / ours.as_secs_f64(),
        openssh: f64::from(n) / openssh.as_secs_f64(),
        note: None,
        cpu: None,
    }
}

/// MiB/s for `size` bytes moved in each time.
pub(crate) fn throughput(size: u64, ours: Duration, openssh: Duration) -> Figures {
    let mib = size as f64 / f64::from(1 << 20);
    Figures {
        ours: mib / ours.as_secs_f64(),
        openssh: mib / openssh.as_secs_f64(),
        note: None,
        cpu: None,
    }
}

impl Figures {
    /// One figure per side from several rounds: the median of each side's figures
    /// (and CPU times); the note lists each round's ratio.
    pub(crate) fn median_of(mut rounds: Vec<Figures>) -> Option<Figures> {
        let ratios: Vec<String> = rounds
            .iter()
            .map(|r| format!("{:.2}", r.ours / r.openssh))
            .collect();
        let ours = median(rounds.iter().map(|r| r.ours).collect())?;
        let openssh = median(rounds.iter().map(|r| r.openssh).collect())?;
        let cpu = rounds
            .iter()
            .map(|r| r.cpu)
            .collect::<Option<Vec<_>>>()
            .and_then(|cpus| {
                Some(ClientCpu {
                    ours: Duration::from_secs_f64(median(
                        cpus.iter().map(|c| c.ours.as_secs_f64()).collect(),
                    )?),
                    openssh: Duration::from_secs_f64(median(
                        cpus.iter().map(|c| c.openssh.as_secs_f64()).collect(),
                    )?),
                })
            });
        let first_note = rounds.first_mut().and_then(|r| r.note.take());
        let note = if ratios.len() > 1 {
            let rounds = format!(
                "median of {} rounds, ratios {}",
                ratios.len(),
                ratios.join(" ")
            );
            Some(match first_note {
                Some(note) => format!("{rounds}; {note}"),
                None => rounds,
            })
        } else {
            first_note
        };
        Some(Figures {
            ours,
            openssh,
            note,
            cpu,
        })
    }

    /// These figures with both clients' CPU time.
    pub(crate) fn with_cpu(mut self, ours: Duration, openssh: Duration) -> Self {
        self.cpu = Some(ClientCpu { ours, openssh });
        self
    }
}

/// The middle value (the mean of the two middle ones for an even count).
fn median(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    match values.len() {
        0 => None,
        n if n % 2 == 1 => values.get(mid).copied(),
        _ => Some((values.get(mid - 1)? + values.get(mid)?) / 2.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures(ours: f64, openssh: f64) -> Figures {
        Figures {
            ours,
            openssh,
            note: None,
            cpu: None,
        }
    }

    #[test]
    fn each_side_takes_its_median_and_the_note_lists_the_rounds() {
        let rounds = vec![figures(10.0, 5.0), figures(30.0, 4.0), figures(20.0, 40.0)];
        let combined = Figures::median_of(rounds).expect("three rounds");
        assert_eq!(combined.ours, 20.0);
        assert_eq!(combined.openssh, 5.0);
        assert_eq!(
            combined.note.as_deref(),
            Some("median of 3 rounds, ratios 2.00 7.50 0.50")
        );
    }

    #[test]
    fn an_even_count_averages_the_middle_two() {
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(Vec::new()), None);
    }
}
