//! User authentication against real OpenSSH 10 (issue #4): our client against
//! `sshd`, OpenSSH's `ssh` against our server, and our agent codec against
//! `ssh-agent`.
//!
//! The two matrix tests print one row per method, variant, direction and peer
//! (`auth publickey ssh-ed25519 file sansh client -> sshd OpenSSH 10.0 pass`), then fail
//! if any row failed. To see the matrix of a passing run:
//!
//! ```text
//! cargo nextest run -p sansh-conformance --test auth --no-capture
//! ```
//!
//! Password and keyboard-interactive logins to sshd need the `sansh-test` account
//! (`scripts/install-peers`, as root, creates it); without it those rows fail saying so.

mod agent;
mod client_to_sshd;
mod matrix;
mod peers;
mod ssh_to_server;

#[test]
fn our_client_authenticates_to_sshd_with_every_method() {
    matrix::print_and_assert("sansh client -> OpenSSH sshd", &client_to_sshd::rows());
}

#[test]
fn openssh_ssh_authenticates_to_our_server_with_every_method() {
    matrix::print_and_assert("OpenSSH ssh -> sansh server", &ssh_to_server::rows());
}
