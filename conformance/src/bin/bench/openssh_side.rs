//! The workloads with OpenSSH's `ssh`, against `sshd` or against our server.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use sansh_conformance::openssh::{SFTP, SSH};

use crate::setup::{BenchResult, Setup};

const BUFFER: usize = 256 * 1024;

/// How many `ssh` processes the connection-rate workloads run at once: enough that
/// the server's per-connection work, not one client's start-up, sets the pace.
pub(crate) const CONNECTION_BATCH: u32 = 8;

/// The `-o` options every OpenSSH client of the benchmark uses: the benchmark key,
/// quiet, isolated from the user's configuration and known hosts.
pub(crate) fn client_options(setup: &Setup) -> Vec<String> {
    vec![
        "BatchMode=yes".to_owned(),
        "IdentityAgent=none".to_owned(),
        "IdentitiesOnly=yes".to_owned(),
        format!("IdentityFile={}", setup.key.display()),
        "StrictHostKeyChecking=no".to_owned(),
        "UserKnownHostsFile=/dev/null".to_owned(),
        "GlobalKnownHostsFile=/dev/null".to_owned(),
        "LogLevel=ERROR".to_owned(),
    ]
}

/// `ssh` to the server at `addr` with the benchmark key, running `remote`.
fn ssh(
    setup: &Setup,
    addr: SocketAddr,
    cipher: Option<&str>,
    remote: &str,
) -> BenchResult<Command> {
    let mut command = SSH.command()?;
    command.args(["-F", "/dev/null"]);
    let mut options = client_options(setup);
    if let Some(cipher) = cipher {
        options.push(format!("Ciphers={cipher}"));
    }
    for option in options {
        command.arg("-o").arg(option);
    }
    command
        .arg("-p")
        .arg(addr.port().to_string())
        .arg("-l")
        .arg(&setup.user)
        .arg(addr.ip().to_string())
        .arg(remote)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    Ok(command)
}

/// Waits for an OpenSSH client and fails with its stderr unless it succeeded.
pub(crate) fn finish(mut child: Child) -> BenchResult<()> {
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        pipe.read_to_string(&mut stderr)?;
    }
    let status = child.wait()?;
    if !status.success() {
        return Err(format!("the OpenSSH client ended with {status}: {}", stderr.trim()).into());
    }
    Ok(())
}

/// `size` bytes of `head -c` on the server, read from ssh's stdout.
pub(crate) fn download(
    setup: &Setup,
    addr: SocketAddr,
    cipher: &str,
    size: u64,
) -> BenchResult<Duration> {
    let start = Instant::now();
    let mut child = ssh(
        setup,
        addr,
        Some(cipher),
        &format!("head -c {size} /dev/zero"),
    )?
    .stdout(Stdio::piped())
    .spawn()?;
    let mut stdout = child.stdout.take().ok_or("ssh's stdout was not captured")?;
    let mut buf = vec![0; BUFFER];
    let mut received = 0u64;
    loop {
        let n = stdout.read(&mut buf)?;
        if n == 0 {
            break;
        }
        received += n as u64;
    }
    finish(child)?;
    if received != size {
        return Err(format!("received {received} bytes of {size}").into());
    }
    Ok(start.elapsed())
}

/// `size` bytes written to ssh's stdin, into `cat > /dev/null` on the server.
pub(crate) fn upload(
    setup: &Setup,
    addr: SocketAddr,
    cipher: &str,
    size: u64,
) -> BenchResult<Duration> {
    let start = Instant::now();
    let mut child = ssh(setup, addr, Some(cipher), "cat > /dev/null")?
        .stdin(Stdio::piped())
        .spawn()?;
    let mut stdin = child.stdin.take().ok_or("ssh's stdin was not captured")?;
    // A separate writer, so that ssh's stderr is read while it runs.
    let writer = thread::spawn(move || -> std::io::Result<()> {
        let zeros = vec![0u8; BUFFER];
        let mut left = size;
        while left > 0 {
            let len = usize::try_from(left).map_or(BUFFER, |left| left.min(BUFFER));
            stdin.write_all(zeros.get(..len).unwrap_or_default())?;
            left -= len as u64;
        }
        Ok(()) // dropping stdin is the EOF
    });
    let finished = finish(child);
    writer.join().map_err(|_| "the stdin writer panicked")??;
    finished?;
    Ok(start.elapsed())
}

/// `count` ssh runs, each running `true`, `parallel` at a time (1: in a row).
pub(crate) fn connections(
    setup: &Setup,
    addr: SocketAddr,
    count: u32,
    parallel: u32,
) -> BenchResult<Duration> {
    let start = Instant::now();
    let mut left = count;
    while left > 0 {
        let batch = left.min(parallel.max(1));
        let children = (0..batch)
            .map(|_| Ok(ssh(setup, addr, None, "true")?.spawn()?))
            .collect::<BenchResult<Vec<_>>>()?;
        for child in children {
            finish(child)?;
        }
        left -= batch;
    }
    Ok(start.elapsed())
}

/// Whom OpenSSH's `sftp` talks to.
pub(crate) enum SftpPeer<'a> {
    /// The `sftp` subsystem of the SSH server at this address, offering only the
    /// named cipher if given.
    Ssh(SocketAddr, Option<&'a str>),
    /// A local SFTP server on sftp's pipes (`sftp -D COMMAND`), run in `dir`.
    Direct { command: &'a str, dir: &'a Path },
}

/// OpenSSH's `sftp` running one batch `command` (`get A B`, `put A B`) against
/// `peer`; its time from start to exit.
pub(crate) fn sftp(setup: &Setup, peer: SftpPeer<'_>, command: &str) -> BenchResult<Duration> {
    let mut sftp = SFTP.command()?;
    // `-b -`: the batch from stdin; any failing command fails the run.
    sftp.args(["-q", "-b", "-"]);
    match peer {
        SftpPeer::Ssh(addr, cipher) => {
            sftp.args(["-F", "/dev/null"]);
            let mut options = client_options(setup);
            if let Some(cipher) = cipher {
                options.push(format!("Ciphers={cipher}"));
            }
            for option in options {
                sftp.arg("-o").arg(option);
            }
            sftp.arg("-P").arg(addr.port().to_string()).arg(format!(
                "{}@{}",
                setup.user,
                addr.ip()
            ));
        }
        SftpPeer::Direct { command, dir } => {
            sftp.arg("-D").arg(command).current_dir(dir);
        }
    }
    let start = Instant::now();
    let mut child = sftp
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut stdin = child.stdin.take().ok_or("sftp's stdin was not captured")?;
    stdin.write_all(format!("{command}\n").as_bytes())?;
    drop(stdin);
    finish(child)?;
    Ok(start.elapsed())
}
