//! The benchmark program: sansh and OpenSSH on the same workload, in one run.
//!
//! ```text
//! cargo run --release -p sansh-conformance --bin bench -- [--workload NAME]... [--size SIZE] [--connections N] [--idle N] [--list]
//! ```
//!
//! Starts one throwaway `sshd` on a loopback port and runs each workload on our side
//! and on OpenSSH's, then prints one line: `WORKLOAD ours=X openssh=Y ratio=Z UNIT`,
//! `ratio` being ours divided by OpenSSH's (a `# WORKLOAD: ...` line follows where the
//! figures need saying what was measured). Every unit is "more is better" except
//! `KiB/conn`.
//!
//! - Client workloads (`download-*`, `upload-*`, `connections`, `sftp-get`,
//!   `sftp-put`): our client (the tokio driver) against OpenSSH's `ssh` or `sftp`,
//!   both against that `sshd`.
//! - Server workloads (`server-*`): OpenSSH's `ssh` against our server (the tokio
//!   server example, built by cargo on first use) and against `sshd`.
//!   `server-connections` runs `ssh` in parallel batches so that the servers'
//!   per-connection work sets the pace; `server-idle-memory` holds `--idle`
//!   authenticated connections open.
//! - `sftp-server-stdio-*`: `sftp -D` with our SFTP server against OpenSSH's
//!   `sftp-server`, no SSH in between (until the server example serves `sftp`).
//!
//! SFTP files live in a directory on `/dev/shm`; every transfer's result is checked
//! for its size.
//!
//! - `--workload NAME`: run only this workload (repeatable); `--list` prints the names.
//! - `--size SIZE`: bytes per transfer, with an optional `K`, `M` or `G` suffix (powers
//!   of 1024); default `1G`.
//! - `--connections N`: connections per connection-rate workload; default 100.
//! - `--idle N`: idle connections for `server-idle-memory`; default 1000.
//!
//! Each side is timed from process or connection start to the end of the transfer, so
//! the key exchange and authentication count the same for both.

mod args;
mod idle;
mod memory;
mod openssh_side;
mod our_server;
mod our_side;
mod setup;
mod sftp;
mod workloads;

use std::process::ExitCode;

use args::Args;
use setup::Setup;
use workloads::WORKLOADS;

fn main() -> ExitCode {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("bench: {message}\n{}", args::USAGE);
            return ExitCode::from(2);
        }
    };
    if args.list {
        for workload in WORKLOADS {
            println!("{}", workload.name);
        }
        return ExitCode::SUCCESS;
    }
    let selected: Vec<_> = WORKLOADS
        .iter()
        .filter(|w| args.workloads.is_empty() || args.workloads.iter().any(|n| n == w.name))
        .collect();
    if let Some(unknown) = args
        .workloads
        .iter()
        .find(|n| !WORKLOADS.iter().any(|w| w.name == n.as_str()))
    {
        eprintln!("bench: no workload named {unknown:?} (--list shows them)");
        return ExitCode::from(2);
    }
    let setup = match Setup::start() {
        Ok(setup) => setup,
        Err(error) => {
            eprintln!("bench: setting up sshd and a user key failed: {error}");
            return ExitCode::FAILURE;
        }
    };
    let mut failed = false;
    for workload in selected {
        match workload.run(&setup, &args) {
            Ok(figures) => {
                let ratio = figures.ours / figures.openssh;
                // Two decimals, or enough to show a ratio far below one.
                let digits = if ratio < 0.1 { 4 } else { 2 };
                println!(
                    "{} ours={:.1} openssh={:.1} ratio={ratio:.digits$} {}",
                    workload.name, figures.ours, figures.openssh, workload.unit
                );
                if let Some(note) = figures.note {
                    println!("# {}: {note}", workload.name);
                }
            }
            Err(error) => {
                eprintln!("bench: {} failed: {error}", workload.name);
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
