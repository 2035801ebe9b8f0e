//! The workloads with OpenSSH's `ssh` against `sshd`.

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use sansh_conformance::openssh::SSH;

use crate::setup::{BenchResult, Setup};

const BUFFER: usize = 256 * 1024;

/// `ssh` to the benchmark's sshd with the benchmark key, quiet, isolated from the
/// user's configuration, running `remote`.
fn ssh(setup: &Setup, cipher: Option<&str>, remote: &str) -> BenchResult<Command> {
    let mut command = SSH.command()?;
    command.args(["-F", "/dev/null"]);
    let mut options = vec![
        "BatchMode=yes".to_owned(),
        "IdentityAgent=none".to_owned(),
        "IdentitiesOnly=yes".to_owned(),
        format!("IdentityFile={}", setup.key.display()),
        "StrictHostKeyChecking=no".to_owned(),
        "UserKnownHostsFile=/dev/null".to_owned(),
        "GlobalKnownHostsFile=/dev/null".to_owned(),
        "LogLevel=ERROR".to_owned(),
    ];
    if let Some(cipher) = cipher {
        options.push(format!("Ciphers={cipher}"));
    }
    for option in options {
        command.arg("-o").arg(option);
    }
    let addr = setup.sshd.addr();
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

/// Waits for ssh and fails with its stderr unless it succeeded.
fn finish(mut child: Child) -> BenchResult<()> {
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        pipe.read_to_string(&mut stderr)?;
    }
    let status = child.wait()?;
    if !status.success() {
        return Err(format!("ssh ended with {status}: {}", stderr.trim()).into());
    }
    Ok(())
}

/// `size` bytes of `head -c` on the server, read from ssh's stdout.
pub(crate) fn download(setup: &Setup, cipher: &str, size: u64) -> BenchResult<Duration> {
    let start = Instant::now();
    let mut child = ssh(setup, Some(cipher), &format!("head -c {size} /dev/zero"))?
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
pub(crate) fn upload(setup: &Setup, cipher: &str, size: u64) -> BenchResult<Duration> {
    let start = Instant::now();
    let mut child = ssh(setup, Some(cipher), "cat > /dev/null")?
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

/// `count` ssh runs in a row, each running `true`.
pub(crate) fn connections(setup: &Setup, count: u32) -> BenchResult<Duration> {
    let start = Instant::now();
    for _ in 0..count {
        finish(ssh(setup, None, "true")?.spawn()?)?;
    }
    Ok(start.elapsed())
}
