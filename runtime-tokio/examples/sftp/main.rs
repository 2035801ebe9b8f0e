//! `sftp`: an interactive (or batch) SFTP client in the style of OpenSSH's, on sansh
//! and tokio.
//!
//! ```text
//! cargo run --release -p sansh-tokio --example sftp -- \
//!     [-P PORT] [-i FILE] [-o Name=Value]... [-b BATCHFILE] [-B BYTES] [-R REQUESTS] [user@]host
//! ```
//!
//! `-B` and `-R` set the bytes per read or write request (default: the most the
//! server allows, 255 KiB with OpenSSH) and the requests in flight per transfer
//! (default 64), as OpenSSH's `sftp` options of the same names.
//!
//! Commands: `get`/`put` (`-r` recursive, `-p` preserve; globs), `ls [-l] [-a]`,
//! `cd`, `lcd`, `pwd`, `lpwd`, `mkdir`, `rm`, `rmdir`, `rename`, `chmod`,
//! `ln [-s]`, `df [-h]`, `help`, `exit`/`quit`/`bye`. With `-b` (`-` for stdin) the
//! commands come from a file; the first failing one ends the batch with exit code 1
//! (a leading `-` on a line ignores its failure), as with OpenSSH.
//!
//! Logs in with `-i` keys, the ssh-agent and `~/.ssh/id_*` (no passwords). The host
//! key is checked against `~/.ssh/known_hosts` (`-o UserKnownHostsFile=`); an
//! unknown one is recorded (`StrictHostKeyChecking=accept-new`, the default here),
//! refused with `=yes`, trusted unrecorded with `=no`.

mod commands;
mod hostkey;
mod progress;

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use sansh_tokio::core::driver::Login;
use sansh_tokio::{ClientConfig, connect};

use hostkey::{KnownHostsCheck, Strictness};

/// The command line.
struct Args {
    host: String,
    user: String,
    port: u16,
    identities: Vec<PathBuf>,
    known_hosts: PathBuf,
    strict: Strictness,
    batch: Option<String>,
    block_size: Option<u32>,
    requests: Option<usize>,
}

const USAGE: &str = "usage: sftp [-P port] [-i identity_file] [-o option=value]... \
     [-b batchfile] [-B buffer_size] [-R num_requests] [user@]host";

fn parse_args() -> Result<Args, String> {
    let home = std::env::var("HOME").unwrap_or_default();
    let mut args = Args {
        host: String::new(),
        user: std::env::var("USER").unwrap_or_else(|_| "root".into()),
        port: 22,
        identities: Vec::new(),
        known_hosts: PathBuf::from(&home).join(".ssh/known_hosts"),
        strict: Strictness::AcceptNew,
        batch: None,
        block_size: None,
        requests: None,
    };
    let mut user_given = None;
    let mut words = std::env::args().skip(1);
    let mut target = None;
    while let Some(word) = words.next() {
        let mut value = |flag: &str| words.next().ok_or(format!("{flag} needs a value"));
        match word.as_str() {
            "-P" => args.port = value("-P")?.parse().map_err(|e| format!("-P: {e}"))?,
            "-i" => args.identities.push(value("-i")?.into()),
            "-b" => args.batch = Some(value("-b")?),
            "-B" => args.block_size = Some(value("-B")?.parse().map_err(|e| format!("-B: {e}"))?),
            "-R" => args.requests = Some(value("-R")?.parse().map_err(|e| format!("-R: {e}"))?),
            "-o" => {
                let option = value("-o")?;
                let (name, setting) = option
                    .split_once('=')
                    .ok_or(format!("-o {option}: expected Name=Value"))?;
                match name.to_ascii_lowercase().as_str() {
                    "port" => args.port = setting.parse().map_err(|e| format!("Port: {e}"))?,
                    "user" => user_given = Some(setting.to_owned()),
                    "identityfile" => args.identities.push(setting.into()),
                    "userknownhostsfile" => args.known_hosts = setting.into(),
                    "stricthostkeychecking" => args.strict = Strictness::parse(setting)?,
                    _ => eprintln!("ignoring unsupported option {name}"),
                }
            }
            "-h" | "--help" => return Err(USAGE.into()),
            flag if flag.starts_with('-') => return Err(format!("unknown flag {flag}\n{USAGE}")),
            _ if target.is_none() => target = Some(word),
            _ => return Err(USAGE.into()),
        }
    }
    let target = target.ok_or(USAGE)?;
    match target.rsplit_once('@') {
        Some((user, host)) => {
            args.user = user.to_owned();
            args.host = host.to_owned();
        }
        None => {
            args.host = target;
            if let Some(user) = user_given {
                args.user = user;
            }
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(255);
        }
    };
    // One worker: the connection's driver, the SFTP task and the command all run on
    // it, so a reply goes from socket to transfer without a hop between threads
    // (measured faster than two workers on loopback). Local file I/O runs on
    // tokio's blocking pool; the worker keeps the connection alive between commands.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build();
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("tokio: {e}");
            return ExitCode::from(255);
        }
    };
    let session = runtime.block_on(async {
        let checker = KnownHostsCheck::new(&args.host, args.port, &args.known_hosts, args.strict);
        let addr = (args.host.as_str(), args.port);
        let conn = connect(addr, ClientConfig::default(), checker.clone())
            .await
            .map_err(|e| format!("connect to {}: {e}", args.host))?;
        let mut login = Login::openssh(&args.user);
        for identity in &args.identities {
            login = login.identity_file(identity);
        }
        conn.authenticate(&login, &checker)
            .await
            .map_err(|e| format!("{}@{}: {e}", args.user, args.host))?;
        let sftp = conn
            .start_sftp_client()
            .await
            .map_err(|e| format!("sftp: {e}"))?;
        Ok::<_, String>((conn, sftp))
    });
    let (conn, sftp) = match session {
        Ok(session) => session,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(255);
        }
    };
    println!("Connected to {}.", args.host);
    let terminal = std::io::stdout().is_terminal();
    let shell = commands::Shell::new(sftp, terminal, args.block_size, args.requests);
    let code = match &args.batch {
        Some(file) => run_batch(&runtime, &shell, file),
        None => run_interactive(&runtime, &shell),
    };
    drop(shell);
    conn.disconnect("sftp: bye");
    runtime.block_on(async {
        let _ = conn.closed().await;
    });
    code
}

/// Runs one command as a task on the runtime, next to the connection's tasks.
fn execute(
    runtime: &tokio::runtime::Runtime,
    shell: &commands::Shell,
    line: &str,
) -> Result<commands::Flow, String> {
    let (shell, line) = (shell.clone(), line.to_owned());
    let task = runtime.spawn(async move { shell.run(&line).await });
    runtime
        .block_on(task)
        .map_err(|e| format!("command failed: {e}"))?
}

/// Runs the lines of `file` (`-`: stdin), echoing each; stops at the first failure.
fn run_batch(runtime: &tokio::runtime::Runtime, shell: &commands::Shell, file: &str) -> ExitCode {
    let reader: Box<dyn BufRead> = if file == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        match std::fs::File::open(file) {
            Ok(f) => Box::new(std::io::BufReader::new(f)),
            Err(e) => {
                eprintln!("{file}: {e}");
                return ExitCode::from(1);
            }
        }
    };
    for line in reader.lines() {
        let Ok(line) = line else {
            return ExitCode::from(1);
        };
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let (ignore_failure, command) = match trimmed.strip_prefix('-') {
            Some(rest) => (true, rest.trim_start()),
            None => (false, trimmed),
        };
        println!("sftp> {command}");
        match execute(runtime, shell, command) {
            Ok(commands::Flow::Continue) => {}
            Ok(commands::Flow::Quit) => return ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("{message}");
                if !ignore_failure {
                    return ExitCode::from(1);
                }
            }
        }
    }
    ExitCode::SUCCESS
}

/// Reads commands from stdin, with a prompt when it is a terminal.
fn run_interactive(runtime: &tokio::runtime::Runtime, shell: &commands::Shell) -> ExitCode {
    let stdin = std::io::stdin();
    let prompt = stdin.is_terminal();
    let mut lines = stdin.lock().lines();
    loop {
        if prompt {
            print!("sftp> ");
            let _ = std::io::stdout().flush();
        }
        let Some(Ok(line)) = lines.next() else {
            return ExitCode::SUCCESS;
        };
        if line.trim().is_empty() {
            continue;
        }
        match execute(runtime, shell, line.trim()) {
            Ok(commands::Flow::Continue) => {}
            Ok(commands::Flow::Quit) => return ExitCode::SUCCESS,
            Err(message) => eprintln!("{message}"),
        }
    }
}
