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
//! - `sftp-get`/`sftp-put` let each client pick its cipher (ours: AES-GCM first on
//!   processors with AES instructions; OpenSSH: chacha20-poly1305 first);
//!   `sftp-*-chacha20-poly1305` have both offer only chacha20-poly1305.
//! - `sftp-*-rtt20ms`: `sftp-get`/`sftp-put` through a loopback relay that holds
//!   every byte 10 ms each way, where what a client keeps in flight sets its pace.
//! - `sftp-server-stdio-*`: `sftp -D` with our SFTP server against OpenSSH's
//!   `sftp-server`, no SSH in between (until the server example serves `sftp`).
//!
//! SFTP files live in a directory on `/dev/shm`; every transfer's result is checked
//! for its size.
//!
//! - `--workload NAME`: run only this workload (repeatable); `--list` prints the names.
//! - `--rounds N`: runs of each workload (ours, then OpenSSH's, each time); each side's
//!   figure is its median, the note lists every round's ratio; default 3
//!   (`server-idle-memory` runs once).
//! - `--size SIZE`: bytes per transfer, with an optional `K`, `M` or `G` suffix (powers
//!   of 1024); default `1G`.
//! - `--connections N`: connections per connection-rate workload; default 100.
//! - `--idle N`: idle connections for `server-idle-memory`; default 1000.
//!
//! Each side is timed from process or connection start to the end of the transfer, so
//! the key exchange and authentication count the same for both. The client workloads
//! also print each client's CPU time (`/proc`: this process for ours, the waited-for
//! `ssh` or `sftp` and its `ssh` for OpenSSH's).

mod args;
mod cpu;
mod idle;
mod memory;
mod openssh_side;
mod our_server;
mod our_side;
mod relay;
mod setup;
mod sftp;
mod workloads;

use std::process::ExitCode;

use args::Args;
use setup::Setup;
use workloads::{Figures, WORKLOADS};

/// The workload's line, then its note and the clients' CPU times if any.
fn print(name: &str, unit: &str, figures: &Figures) {
    let ratio = figures.ours / figures.openssh;
    // Two decimals, or enough to show a ratio far below one.
    let digits = if ratio < 0.1 { 4 } else { 2 };
    println!(
        "{name} ours={:.1} openssh={:.1} ratio={ratio:.digits$} {unit}",
        figures.ours, figures.openssh
    );
    if let Some(note) = &figures.note {
        println!("# {name}: {note}");
    }
    if let Some(cpu) = figures.cpu {
        println!(
            "# {name}: client CPU (user+system) ours={:.2}s openssh={:.2}s",
            cpu.ours.as_secs_f64(),
            cpu.openssh.as_secs_f64()
        );
    }
}

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
        let rounds: Result<Vec<_>, _> = (0..workload.rounds(&args))
            .map(|_| workload.run(&setup, &args))
            .collect();
        match rounds.map(Figures::median_of) {
            Ok(Some(figures)) => print(workload.name, workload.unit, &figures),
            Ok(None) => {}
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
