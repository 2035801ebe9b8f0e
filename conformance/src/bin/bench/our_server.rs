//! Our server: the tokio server example (`runtime-tokio/examples/server/`), built
//! by cargo when the benchmark first needs it and started on a loopback port.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{OnceLock, mpsc};
use std::thread;
use std::time::Duration;

use sansh_conformance::build::BuildOptions;

use crate::setup::{BenchResult, Setup};

/// How long the example may take to print `listening on`.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running server example; killed when dropped.
pub(crate) struct OurServer {
    child: Child,
    addr: SocketAddr,
}

impl OurServer {
    /// Starts the example on a free loopback port, accepting the benchmark key and
    /// serving SFTP from the benchmark's tmpfs directory.
    pub(crate) fn start(setup: &Setup) -> BenchResult<Self> {
        let executable = example()?;
        let mut child = Command::new(executable)
            .args(["--listen", "127.0.0.1:0", "--authorized-keys"])
            .arg(&setup.authorized_keys)
            .arg("--sftp-root")
            .arg(setup.files()?)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            // Per-connection notes would only cost time; failures show on the client.
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", executable.display()))?;
        let stdout = child.stdout.take().ok_or("the example's stdout")?;
        let (found, listening) = mpsc::channel();
        thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            for line in lines.by_ref().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("listening on ") {
                    let _ = found.send(addr.trim().parse::<SocketAddr>().ok());
                    break;
                }
            }
            // Keep draining, so the example never blocks on a full pipe.
            lines.for_each(drop);
        });
        match listening.recv_timeout(START_TIMEOUT) {
            Ok(Some(addr)) => Ok(Self { child, addr }),
            outcome => {
                let _ = child.kill();
                let _ = child.wait();
                Err(format!("the server example printed no listening address ({outcome:?})").into())
            }
        }
    }

    /// Where it listens.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its process id, to read its memory use.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for OurServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The example's executable, built in release by cargo (a no-op when up to date).
fn example() -> BenchResult<&'static Path> {
    static EXAMPLE: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    EXAMPLE
        .get_or_init(|| cargo_build("sansh-tokio", "example", "server"))
        .as_deref()
        .map_err(|e| format!("building the server example failed: {e}").into())
}

/// Builds target `name` of kind `kind` (`example`, `bin`) of `package` in release,
/// in the target directory this benchmark was built in, and returns its executable.
pub(crate) fn cargo_build(package: &str, kind: &str, name: &str) -> Result<PathBuf, String> {
    // The benchmark is TARGET/release/bench: run without cargo (and without
    // CARGO_TARGET_DIR set), cargo would otherwise build everything anew elsewhere.
    let exe = std::env::current_exe().map_err(|e| format!("the benchmark's own path: {e}"))?;
    let options = BuildOptions {
        release: true,
        target_dir: exe.parent().and_then(Path::parent),
    };
    sansh_conformance::build::cargo_build(package, kind, name, options)
}
