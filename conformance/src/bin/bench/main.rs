//! The benchmark program: sansh and OpenSSH on the same workload, in one run.
//!
//! ```text
//! cargo run --release -p sansh-conformance --bin bench -- [--workload NAME]... [--size SIZE] [--connections N] [--list]
//! ```
//!
//! Starts one throwaway `sshd` on a loopback port and, for each workload, runs it with
//! our client (the tokio driver) and with OpenSSH's `ssh`, against that same `sshd`,
//! then prints one line: `WORKLOAD ours=X openssh=Y ratio=Z UNIT`. Every unit here is
//! "more is better", and `ratio` is ours divided by OpenSSH's.
//!
//! - `--workload NAME`: run only this workload (repeatable); `--list` prints the names.
//! - `--size SIZE`: bytes per transfer, with an optional `K`, `M` or `G` suffix (powers
//!   of 1024); default `1G`.
//! - `--connections N`: connections per connection-rate workload; default 100.
//!
//! Each side is timed from process or connection start to the end of the transfer, so
//! the key exchange and authentication count the same for both.

mod args;
mod openssh_side;
mod our_side;
mod setup;
mod workloads;

use std::process::ExitCode;

use args::Args;
use setup::Setup;
use workloads::{PLANNED, WORKLOADS};

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
        for planned in PLANNED {
            println!("{planned} (planned)");
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
            Ok(figures) => println!(
                "{} ours={:.1} openssh={:.1} ratio={:.2} {}",
                workload.name,
                figures.ours,
                figures.openssh,
                figures.ours / figures.openssh,
                workload.unit
            ),
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
