//! The ssh-like client example (`cargo run -p sansh-tokio --example client`) against
//! OpenSSH's `sshd`, run as a user would run `ssh`: exit codes, stdout and stderr
//! apart, stdin, known_hosts as ssh checks it, passwords and passphrases from
//! `SSH_ASKPASS`, `BatchMode`, key files, agent keys, algorithm restrictions, a
//! pty on a real local terminal (under `script`), and forwarding (`-L -R -D -J -A`).

mod auth;
mod forwarding;
mod known_hosts;
#[allow(dead_code)]
#[path = "../auth/peers.rs"]
mod peers;
mod pty;
mod session;
mod support;
