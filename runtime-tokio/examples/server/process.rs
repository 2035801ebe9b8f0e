//! The session's process: `/bin/sh -c COMMAND` or the login shell, on pipes or on a
//! pty, its environment, the signals the client sends it, and how it ended.

use std::ffi::OsStr;
use std::io;
use std::net::SocketAddr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::ExitStatusExt;
use std::process::{ExitStatus, Stdio};

use rustix::process::{Pid, Signal};
use tokio::process::{Child, ChildStderr, ChildStdin, ChildStdout, Command};

use crate::account::Account;
use crate::pty::{PtyMaster, PtySlave};

/// The shell that runs `exec` commands.
const COMMAND_SHELL: &str = "/bin/sh";
/// util-linux's `setsid`: makes the pty the child's controlling terminal (`--ctty`)
/// in a new session, which safe Rust cannot do between fork and exec.
const SETSID: &str = "setsid";
/// coreutils' `env`, to start the program with every signal at its default
/// disposition: a server started with signals ignored (under `nohup`, or in the
/// background of a non-interactive shell, which ignores SIGINT and SIGQUIT) would
/// otherwise pass that on, and `signal` requests would do nothing. sshd resets
/// them in the child; safe Rust cannot between fork and exec.
const DEFAULT_SIGNALS: [&str; 3] = ["env", "--default-signal", "--"];
/// `PATH` when the server has none.
const DEFAULT_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// Most `env` requests kept per session, and most bytes of names and values in
/// all: a client cannot grow the environment unbounded.
pub(crate) const MAX_ENV_VARS: usize = 256;
/// See [`MAX_ENV_VARS`].
pub(crate) const MAX_ENV_BYTES: usize = 64 * 1024;

/// The signals of RFC 4254 §6.10, by their SSH names.
const SIGNALS: &[(&str, Signal)] = &[
    ("ABRT", Signal::ABORT),
    ("ALRM", Signal::ALARM),
    ("FPE", Signal::FPE),
    ("HUP", Signal::HUP),
    ("ILL", Signal::ILL),
    ("INT", Signal::INT),
    ("KILL", Signal::KILL),
    ("PIPE", Signal::PIPE),
    ("QUIT", Signal::QUIT),
    ("SEGV", Signal::SEGV),
    ("TERM", Signal::TERM),
    ("USR1", Signal::USR1),
    ("USR2", Signal::USR2),
];

/// The signal an SSH signal name (without `SIG`) stands for.
pub(crate) fn signal_by_name(name: &str) -> Option<Signal> {
    SIGNALS.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}

/// The SSH name of signal number `raw`; other signals get OpenSSH's
/// `SIG@openssh.com`, the name it reports for signals RFC 4254 has no name for.
pub(crate) fn signal_name(raw: i32) -> &'static str {
    SIGNALS
        .iter()
        .find(|(_, s)| s.as_raw() == raw)
        .map_or("SIG@openssh.com", |(n, _)| n)
}

/// Whether a client's `env` variable is taken: a shell variable name. Under a
/// forced command only locale and time zone pass (as Debian's `AcceptEnv LANG
/// LC_*`), since variables such as `LD_PRELOAD` or `BASH_ENV` could run other code
/// than the one forced.
pub(crate) fn env_allowed(name: &str, forced_command: bool) -> bool {
    let mut chars = name.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    valid && (!forced_command || name == "LANG" || name == "TZ" || name.starts_with("LC_"))
}

/// How the process ended, as the session reports it (RFC 4254 §6.10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Exit {
    /// `exit-status`.
    Status(u32),
    /// `exit-signal`.
    Signal {
        name: &'static str,
        core_dumped: bool,
    },
}

impl Exit {
    /// The report for a wait status.
    pub(crate) fn of(status: ExitStatus) -> Self {
        match (status.code(), status.signal()) {
            (Some(code), _) => Exit::Status(code as u32),
            (None, Some(signal)) => Exit::Signal {
                name: signal_name(signal),
                core_dumped: status.core_dumped(),
            },
            // Stopped or continued: wait() reports neither for a child it reaped.
            (None, None) => Exit::Status(255),
        }
    }
}

/// What to start, and the connection it belongs to.
#[derive(Debug)]
pub(crate) struct Launch<'a> {
    pub(crate) account: &'a Account,
    /// `None` starts the login shell.
    pub(crate) command: Option<&'a [u8]>,
    /// The command the client asked for when a forced one replaces it
    /// (`SSH_ORIGINAL_COMMAND`).
    pub(crate) original_command: Option<&'a [u8]>,
    /// The client's `env` requests, in order.
    pub(crate) env: &'a [(String, String)],
    /// The forwarded agent's socket, given as `SSH_AUTH_SOCK`.
    pub(crate) agent_socket: Option<&'a std::path::Path>,
    pub(crate) peer: SocketAddr,
    pub(crate) local: SocketAddr,
}

/// The child's standard streams, as the session pumps them.
#[derive(Debug)]
pub(crate) enum Streams {
    /// Three pipes.
    Pipes {
        stdin: ChildStdin,
        stdout: ChildStdout,
        stderr: ChildStderr,
    },
    /// One terminal for all three.
    Pty(PtyMaster),
}

/// A started session process.
#[derive(Debug)]
pub(crate) struct Process {
    child: Child,
    /// Its process group (the child leads its own, on pipes or as session leader).
    group: Option<Pid>,
}

impl Launch<'_> {
    /// The command line: the shell with `-c COMMAND` or `-l`, started through
    /// [`DEFAULT_SIGNALS`].
    fn argv(&self) -> Vec<&OsStr> {
        let mut argv: Vec<&OsStr> = DEFAULT_SIGNALS.iter().map(OsStr::new).collect();
        match self.command {
            Some(command) => argv.extend([
                OsStr::new(COMMAND_SHELL),
                OsStr::new("-c"),
                OsStr::from_bytes(command),
            ]),
            None => argv.extend([self.account.shell.as_os_str(), OsStr::new("-l")]),
        }
        argv
    }

    /// The environment: the account's basics, the client's variables, then what
    /// the server states about the connection (which the client cannot override).
    fn environment(&self, tty: Option<(&PtySlave, &str)>) -> Vec<(String, String)> {
        let account = self.account;
        let mut env = vec![
            ("USER".to_owned(), account.name.clone()),
            ("LOGNAME".to_owned(), account.name.clone()),
            (
                "HOME".to_owned(),
                account.home.to_string_lossy().into_owned(),
            ),
            (
                "SHELL".to_owned(),
                account.shell.to_string_lossy().into_owned(),
            ),
            (
                "PATH".to_owned(),
                std::env::var("PATH").unwrap_or_else(|_| DEFAULT_PATH.to_owned()),
            ),
        ];
        if let Some((_, term)) = tty {
            env.push(("TERM".to_owned(), term.to_owned()));
        }
        env.extend(self.env.iter().cloned());
        let (peer, local) = (self.peer, self.local);
        env.push((
            "SSH_CLIENT".to_owned(),
            format!("{} {} {}", peer.ip(), peer.port(), local.port()),
        ));
        env.push((
            "SSH_CONNECTION".to_owned(),
            format!(
                "{} {} {} {}",
                peer.ip(),
                peer.port(),
                local.ip(),
                local.port()
            ),
        ));
        if let Some((slave, _)) = tty {
            env.push(("SSH_TTY".to_owned(), slave.path.clone()));
        }
        if let Some(socket) = self.agent_socket {
            env.push((
                "SSH_AUTH_SOCK".to_owned(),
                socket.to_string_lossy().into_owned(),
            ));
        }
        if let Some(original) = self.original_command {
            env.push((
                "SSH_ORIGINAL_COMMAND".to_owned(),
                String::from_utf8_lossy(original).into_owned(),
            ));
        }
        env
    }

    fn command(&self, program: &OsStr, args: &[&OsStr], env: Vec<(String, String)>) -> Command {
        let mut command = Command::new(program);
        command
            .args(args)
            .env_clear()
            .envs(env)
            .current_dir(&self.account.home)
            .kill_on_drop(false);
        command
    }

    /// Starts the process on three pipes, in a process group of its own.
    pub(crate) fn spawn_piped(&self) -> io::Result<(Process, Streams)> {
        let argv = self.argv();
        let (program, args) = argv.split_first().ok_or(io::ErrorKind::InvalidInput)?;
        let mut command = self.command(program, args, self.environment(None));
        command
            .process_group(0)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn()?;
        let pipes = (child.stdin.take(), child.stdout.take(), child.stderr.take());
        let (Some(stdin), Some(stdout), Some(stderr)) = pipes else {
            return Err(io::Error::other("the child's pipes were not created"));
        };
        let group = child.id().and_then(|id| Pid::from_raw(id as i32));
        Ok((
            Process { child, group },
            Streams::Pipes {
                stdin,
                stdout,
                stderr,
            },
        ))
    }

    /// Starts the process on the pty `slave` (of `master`) as its controlling
    /// terminal, `TERM` set to `term`.
    pub(crate) fn spawn_on_pty(
        &self,
        master: PtyMaster,
        slave: PtySlave,
        term: &str,
    ) -> io::Result<(Process, Streams)> {
        let mut setsid_args = vec![OsStr::new("--ctty")];
        setsid_args.extend(self.argv());
        let env = self.environment(Some((&slave, term)));
        let mut command = self.command(OsStr::new(SETSID), &setsid_args, env);
        command
            .stdin(slave.stdio()?)
            .stdout(slave.stdio()?)
            .stderr(slave.stdio()?);
        // setsid forks only when it leads a process group already, which a fresh
        // child does not: it becomes the session leader itself and execs env, which
        // execs the program, so the pid is the shell's and leads its group.
        let child = command.spawn();
        // Only the child may hold the slave now: the master reads EOF once it and
        // its descendants let go.
        drop(command);
        drop(slave);
        let child = child?;
        let group = child.id().and_then(|id| Pid::from_raw(id as i32));
        Ok((Process { child, group }, Streams::Pty(master)))
    }
}

impl Process {
    /// A handle that signals the process from another task.
    pub(crate) fn signaller(&self) -> Signaller {
        Signaller { group: self.group }
    }

    /// Waits for the process to end.
    pub(crate) async fn wait(&mut self) -> io::Result<Exit> {
        let status = self.child.wait().await?;
        Ok(Exit::of(status))
    }
}

/// Sends signals to a session's process group.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Signaller {
    group: Option<Pid>,
}

impl Signaller {
    /// Sends the SSH signal `name` (`TERM`, `INT`, ...) to the process group, as
    /// sshd does.
    pub(crate) fn send(&self, name: &str) -> io::Result<()> {
        let signal = signal_by_name(name)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "unknown signal"))?;
        let group = self
            .group
            .ok_or_else(|| io::Error::other("the process has no known id"))?;
        rustix::process::kill_process_group(group, signal)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rfc_signal_name_maps_both_ways() {
        for (name, signal) in SIGNALS {
            assert_eq!(signal_by_name(name), Some(*signal));
            assert_eq!(signal_name(signal.as_raw()), *name);
        }
        assert_eq!(signal_by_name("SIGTERM"), None);
        assert_eq!(signal_name(Signal::WINCH.as_raw()), "SIG@openssh.com");
    }

    #[test]
    fn env_names_must_be_shell_identifiers() {
        assert!(env_allowed("FOO", false));
        assert!(env_allowed("_x9", false));
        assert!(!env_allowed("", false));
        assert!(!env_allowed("9X", false));
        assert!(!env_allowed("A-B", false));
        assert!(!env_allowed("A=B", false));
    }

    #[test]
    fn a_forced_command_takes_only_locale_and_time_zone() {
        assert!(env_allowed("LANG", true));
        assert!(env_allowed("LC_ALL", true));
        assert!(env_allowed("TZ", true));
        assert!(!env_allowed("LD_PRELOAD", true));
        assert!(!env_allowed("FOO", true));
    }

    #[test]
    fn exit_reports_a_code_or_a_signal_with_its_core_dump() {
        assert_eq!(Exit::of(ExitStatus::from_raw(3 << 8)), Exit::Status(3));
        assert_eq!(
            Exit::of(ExitStatus::from_raw(Signal::TERM.as_raw())),
            Exit::Signal {
                name: "TERM",
                core_dumped: false
            }
        );
        assert_eq!(
            Exit::of(ExitStatus::from_raw(Signal::SEGV.as_raw() | 0x80)),
            Exit::Signal {
                name: "SEGV",
                core_dumped: true
            }
        );
    }
}
