//! A throwaway `sshd` on a loopback port, with its own config, host keys and log.

use std::fmt::Write as _;
use std::fs;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::binary::{SFTP_SERVER, SSH_KEYGEN, SSHD};
use super::error::{HarnessError, Result};
use super::log::LogBuffer;
use crate::scratch::ScratchDir;

/// How many ports to try when another process takes the one we picked.
const PORT_ATTEMPTS: usize = 5;

/// The host key types every [`Sshd`] serves: `ssh-keygen -t` and `-b` arguments.
const HOST_KEY_TYPES: [(&str, Option<u32>); 5] = [
    ("ed25519", None),
    ("ecdsa", Some(256)),
    ("ecdsa", Some(384)),
    ("ecdsa", Some(521)),
    ("rsa", Some(3072)),
];

/// Where privileged `sshd` chroots its pre-auth child; sshd refuses to start as root
/// without it, and it lives on a tmpfs that a reboot empties.
const PRIVSEP_DIR: &str = "/run/sshd";

/// One host key of an [`Sshd`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostKey {
    /// The public key as an OpenSSH public line: `ssh-ed25519 AAAA... comment`.
    pub public: String,
    /// The private key file, in OpenSSH format.
    pub private_key: PathBuf,
}

impl HostKey {
    /// The key's algorithm name as it appears on the wire, e.g. `ecdsa-sha2-nistp384`
    /// (`ssh-rsa` for RSA, whatever signature algorithm is negotiated).
    pub fn algorithm(&self) -> &str {
        self.public.split_whitespace().next().unwrap_or_default()
    }
}

/// Settings for an [`Sshd`] before it starts; see [`Sshd::builder`].
#[derive(Debug, Clone)]
pub struct SshdBuilder {
    config: Vec<String>,
    authorized_keys: Vec<String>,
    start_timeout: Duration,
}

/// A running `sshd -D -e` listening on `127.0.0.1`, killed when dropped.
///
/// Each instance has its own scratch directory holding its config, freshly generated
/// host keys of every type (Ed25519, ECDSA P-256/384/521, RSA 3072) and an
/// `authorized_keys` file. Its config starts from these defaults:
///
/// ```text
/// ListenAddress 127.0.0.1           (always; plus any the test adds)
/// HostKey <each generated key>      (always)
/// PidFile none
/// UsePAM no
/// StrictModes no
/// LogLevel DEBUG3
/// PerSourcePenalties no             (many failed logins from 127.0.0.1 must not lock us out)
/// AuthorizedKeysFile <scratch>/authorized_keys
/// Subsystem sftp /usr/lib/openssh/sftp-server
/// ```
///
/// A line given with [`SshdBuilder::config`] whose keyword matches one of these
/// replaces that default; other lines are appended, so `Match` blocks work as written.
///
/// Everything sshd writes to stderr (its own log and that of the per-connection
/// `sshd-session` processes) is drained into a buffer: read it with [`Sshd::log`] or
/// wait for a line with [`Sshd::wait_for_log`].
///
/// ```
/// use std::time::Duration;
/// use sansh_conformance::openssh::Sshd;
///
/// let sshd = Sshd::builder()
///     .config("KexAlgorithms curve25519-sha256")
///     .config("RekeyLimit 1M")
///     .start()?;
/// println!("sshd on {} with {} host keys", sshd.addr(), sshd.host_keys().len());
/// // ... connect to sshd.addr() ...
/// assert!(sshd.log().contains("Server listening on 127.0.0.1"));
/// # Ok::<(), sansh_conformance::openssh::HarnessError>(())
/// ```
#[derive(Debug)]
pub struct Sshd {
    child: Child,
    port: u16,
    host_keys: Vec<HostKey>,
    config_text: String,
    authorized_keys: PathBuf,
    log: LogBuffer,
    // Last: removed only after the process that uses it is dead.
    dir: ScratchDir,
}

impl Default for SshdBuilder {
    fn default() -> Self {
        Self {
            config: Vec::new(),
            authorized_keys: Vec::new(),
            start_timeout: Duration::from_secs(30),
        }
    }
}

impl SshdBuilder {
    /// Adds one `sshd_config` line, e.g. `"Ciphers aes128-ctr"` or `"RekeyLimit 1M"`.
    ///
    /// A line whose keyword is one of the defaults (see [`Sshd`]) replaces the default.
    pub fn config(mut self, line: impl Into<String>) -> Self {
        self.config.push(line.into());
        self
    }

    /// Adds a line to the `authorized_keys` file sshd consults for every user,
    /// e.g. an OpenSSH public key line.
    pub fn authorized_key(mut self, line: impl Into<String>) -> Self {
        self.authorized_keys.push(line.into());
        self
    }

    /// How long sshd may take to report that it listens (default 30 s, retries
    /// included; host key generation comes before and is not counted).
    pub fn start_timeout(mut self, timeout: Duration) -> Self {
        self.start_timeout = timeout;
        self
    }

    /// Generates the host keys, writes the config and starts sshd on a free port.
    ///
    /// Returns once sshd has logged `Server listening on 127.0.0.1 port N`.
    ///
    /// # Errors
    /// [`HarnessError::MissingBinary`] if OpenSSH is not installed,
    /// [`HarnessError::SshdStart`] with sshd's log if it exits (a bad config line, for
    /// instance), [`HarnessError::Timeout`] if it does not listen in time.
    pub fn start(self) -> Result<Sshd> {
        self.start_on_ports(free_port)
    }

    /// [`Self::start`], taking candidate ports from `next_port`.
    fn start_on_ports(self, mut next_port: impl FnMut() -> Result<u16>) -> Result<Sshd> {
        let sshd = SSHD.locate()?;
        let dir = ScratchDir::new("sshd")?;
        let host_keys = generate_host_keys(&dir)?;
        let authorized_keys = dir.write("authorized_keys", join_lines(&self.authorized_keys))?;
        let config_text = render_config(
            &self.config,
            &host_keys,
            &authorized_keys,
            &SFTP_SERVER.locate()?,
        );
        let config = dir.write("sshd_config", &config_text)?;
        ensure_privsep_dir();

        let deadline = Instant::now() + self.start_timeout;
        let mut last_log = String::new();
        for _ in 0..PORT_ATTEMPTS {
            let port = next_port()?;
            let mut child = Command::new(&sshd)
                .arg("-D")
                .arg("-e")
                .arg("-f")
                .arg(&config)
                .arg("-p")
                .arg(port.to_string())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(HarnessError::io_error(format!("spawn {}", sshd.display())))?;
            let Some(stderr) = child.stderr.take() else {
                kill(&mut child);
                return Err(HarnessError::SshdStart {
                    reason: "its stderr was not captured".into(),
                    log: String::new(),
                });
            };
            let log = LogBuffer::drain(stderr);
            let listening = format!("Server listening on 127.0.0.1 port {port}.");
            let waited = log
                .wait_for_line(deadline.saturating_duration_since(Instant::now()), |l| {
                    l.contains(&listening).then_some(())
                });
            match waited {
                Ok(()) => {
                    return Ok(Sshd {
                        child,
                        port,
                        host_keys,
                        config_text,
                        authorized_keys,
                        log,
                        dir,
                    });
                }
                Err(false) => {
                    kill(&mut child);
                    return Err(HarnessError::Timeout {
                        what: format!("sshd to listen on 127.0.0.1 port {port}"),
                        waited: self.start_timeout,
                        log: log.text(),
                    });
                }
                Err(true) => {
                    let status = child
                        .wait()
                        .map_err(HarnessError::io_error("wait for sshd"))?;
                    last_log = log.text();
                    // Another process took the port between our probe and sshd's bind.
                    if !last_log.contains("Address already in use") {
                        return Err(HarnessError::SshdStart {
                            reason: format!("it exited ({status}) before listening"),
                            log: last_log,
                        });
                    }
                }
            }
        }
        Err(HarnessError::SshdStart {
            reason: format!("every one of {PORT_ATTEMPTS} ports tried was in use"),
            log: last_log,
        })
    }
}

impl Sshd {
    /// Settings for a new sshd; [`SshdBuilder::start`] starts it.
    pub fn builder() -> SshdBuilder {
        SshdBuilder::default()
    }

    /// Starts an sshd with the default config.
    pub fn start() -> Result<Self> {
        Self::builder().start()
    }

    /// The port sshd listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The address sshd listens on: `127.0.0.1:port`.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    /// The host keys sshd serves, one per type.
    pub fn host_keys(&self) -> &[HostKey] {
        &self.host_keys
    }

    /// A `known_hosts` text that trusts every host key of this sshd at its address
    /// (`[127.0.0.1]:port key`), for a client with strict host key checking.
    pub fn known_hosts(&self) -> String {
        self.host_keys.iter().fold(String::new(), |mut text, key| {
            let _ = writeln!(text, "[127.0.0.1]:{} {}", self.port, key.public);
            text
        })
    }

    /// The `authorized_keys` file sshd reads for every user; a test may rewrite it
    /// between connections (sshd reads it anew for each login attempt).
    pub fn authorized_keys_path(&self) -> &Path {
        &self.authorized_keys
    }

    /// The config sshd was started with.
    pub fn config_text(&self) -> &str {
        &self.config_text
    }

    /// The scratch directory holding the config and keys; removed on drop.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Everything sshd and its session processes have logged so far.
    pub fn log(&self) -> String {
        self.log.text()
    }

    /// Waits until a log line contains `needle` and returns that line.
    ///
    /// sshd logs from separate processes, so a line about a connection may arrive
    /// after the client has already exited: wait for it rather than reading
    /// [`Self::log`] once.
    ///
    /// # Errors
    /// [`HarnessError::Timeout`] with the log so far if no such line comes in time.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) -> Result<String> {
        self.log
            .wait_for_line(timeout, |line| {
                line.contains(needle).then(|| line.to_owned())
            })
            .map_err(|_| HarnessError::Timeout {
                what: format!("sshd to log {needle:?}"),
                waited: timeout,
                log: self.log.text(),
            })
    }
}

impl Sshd {
    /// Waits until at least `count` log lines (from the start of the log) contain
    /// `needle`; returns how many there were at that point, or the count so far on
    /// timeout (no error: the caller decides what a short count means).
    pub fn wait_for_log_count(&self, needle: &str, count: usize, timeout: Duration) -> usize {
        let mut seen = 0;
        let reached = self.log.wait_for_line(timeout, |line| {
            seen += usize::from(line.contains(needle));
            (seen >= count).then_some(seen)
        });
        reached.unwrap_or(seen)
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        kill(&mut self.child);
    }
}

fn kill(child: &mut Child) {
    // Either may fail only because the process is already gone.
    let _ = child.kill();
    let _ = child.wait();
}

/// A port that was free a moment ago; sshd's bind may still lose a race for it, which
/// [`SshdBuilder::start`] handles by trying another.
fn free_port() -> Result<u16> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(HarnessError::io_error("find a free port on 127.0.0.1"))
}

fn ensure_privsep_dir() {
    // Only root needs it; when it cannot be made, sshd's own error says what is wrong.
    if !Path::new(PRIVSEP_DIR).is_dir() {
        let _ = fs::create_dir_all(PRIVSEP_DIR);
    }
}

/// Generates one host key of each type, all `ssh-keygen` runs in parallel (RSA 3072
/// takes seconds on its own).
fn generate_host_keys(dir: &ScratchDir) -> Result<Vec<HostKey>> {
    let keygen = SSH_KEYGEN.locate()?;
    let mut running = Vec::new();
    for (kind, bits) in HOST_KEY_TYPES {
        let name = match bits {
            Some(bits) => format!("host_{kind}_{bits}"),
            None => format!("host_{kind}"),
        };
        let path = dir.join(&name);
        let mut command = Command::new(&keygen);
        command.args(["-q", "-t", kind, "-N", "", "-C", &name]);
        if let Some(bits) = bits {
            command.arg("-b").arg(bits.to_string());
        }
        command.arg("-f").arg(&path);
        let line = format!("{command:?}");
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(HarnessError::io_error(format!(
                "spawn {}",
                keygen.display()
            )))?;
        running.push((child, path, line));
    }
    let mut keys = Vec::new();
    for (child, path, line) in running {
        let output = child
            .wait_with_output()
            .map_err(HarnessError::io_error("wait for ssh-keygen"))?;
        if !output.status.success() {
            return Err(HarnessError::CommandFailed {
                command: line,
                status: output.status,
                stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            });
        }
        let public_path = path.with_extension("pub");
        let public = fs::read_to_string(&public_path).map_err(HarnessError::io_error(format!(
            "read {}",
            public_path.display()
        )))?;
        keys.push(HostKey {
            public: public.trim().to_owned(),
            private_key: path,
        });
    }
    Ok(keys)
}

/// The `sshd_config` text: fixed lines, the defaults the test did not override, then
/// the test's lines.
fn render_config(
    extra: &[String],
    host_keys: &[HostKey],
    authorized_keys: &Path,
    sftp_server: &Path,
) -> String {
    let overridden = global_keywords(extra);
    let defaults = [
        ("PidFile", "none".to_owned()),
        ("UsePAM", "no".to_owned()),
        ("StrictModes", "no".to_owned()),
        ("LogLevel", "DEBUG3".to_owned()),
        ("PerSourcePenalties", "no".to_owned()),
        ("AuthorizedKeysFile", authorized_keys.display().to_string()),
        ("Subsystem", format!("sftp {}", sftp_server.display())),
    ];
    let mut text = String::from("ListenAddress 127.0.0.1\n");
    for key in host_keys {
        let _ = writeln!(text, "HostKey {}", key.private_key.display());
    }
    for (keyword, value) in defaults {
        if !overridden.contains(&keyword.to_ascii_lowercase()) {
            let _ = writeln!(text, "{keyword} {value}");
        }
    }
    text.push_str(&join_lines(extra));
    text
}

/// The keywords (lowercase) that `lines` set globally, i.e. before any `Match`.
fn global_keywords(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .filter_map(|line| {
            let line = line.trim_start();
            let end = line
                .find(|c: char| c.is_whitespace() || c == '=')
                .unwrap_or(line.len());
            let keyword = line.get(..end).unwrap_or_default();
            (!keyword.is_empty() && !keyword.starts_with('#')).then(|| keyword.to_ascii_lowercase())
        })
        .take_while(|keyword| keyword != "match")
        .collect()
}

fn join_lines(lines: &[String]) -> String {
    lines.iter().fold(String::new(), |mut text, line| {
        let _ = writeln!(text, "{line}");
        text
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(lines: &[&str]) -> Vec<String> {
        lines.iter().map(|&l| l.to_owned()).collect()
    }

    #[test]
    fn config_line_replaces_the_default_with_the_same_keyword() {
        let text = render_config(
            &strings(&["usepam yes"]),
            &[],
            Path::new("/ak"),
            Path::new("/sftp"),
        );
        assert!(!text.contains("UsePAM no"), "{text}");
        assert!(text.ends_with("usepam yes\n"), "{text}");
    }

    #[test]
    fn lines_inside_a_match_block_keep_the_defaults() {
        let text = render_config(
            &strings(&["Match User x", "  StrictModes yes"]),
            &[],
            Path::new("/ak"),
            Path::new("/sftp"),
        );
        assert!(text.contains("StrictModes no\n"), "{text}");
    }

    #[test]
    fn keyword_written_with_equals_sign_is_recognised() {
        assert_eq!(global_keywords(&strings(&["LogLevel=INFO"])), ["loglevel"]);
    }

    #[test]
    fn start_retries_on_another_port_when_the_first_is_taken() -> Result<()> {
        let taken = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .map_err(HarnessError::io_error("bind a port to occupy"))?;
        let taken_port = taken
            .local_addr()
            .map_err(HarnessError::io_error("local addr"))?
            .port();
        let mut tried = Vec::new();
        let sshd = Sshd::builder().start_on_ports(|| {
            let port = if tried.is_empty() {
                taken_port
            } else {
                free_port()?
            };
            tried.push(port);
            Ok(port)
        })?;
        assert_eq!(tried.first(), Some(&taken_port));
        assert_eq!(tried.len(), 2);
        assert_eq!(sshd.port(), tried[1]);
        Ok(())
    }
}
