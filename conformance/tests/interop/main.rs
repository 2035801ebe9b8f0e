//! Our transport engine against real OpenSSH 10 over TCP on 127.0.0.1, in both
//! directions, for every algorithm we share (issue #2, item 8).
//!
//! Each test prints its half of the matrix, one line per algorithm and direction
//! (`interop kex curve25519-sha256 client->sshd pass`), then fails if any row failed.
//! To see the matrix of a passing run:
//!
//! ```text
//! cargo nextest run -p sansh-conformance --test interop --no-capture
//! ```

mod client_to_sshd;
mod matrix;
mod ssh_to_server;

#[test]
fn our_client_interoperates_with_sshd_for_every_shared_algorithm() {
    let rows = client_to_sshd::rows();
    println!("{}", client_to_sshd::REKEY_NOTE);
    matrix::print_and_assert("our client -> OpenSSH sshd", &rows);
}

#[test]
fn openssh_ssh_interoperates_with_our_server_for_every_shared_algorithm() {
    let rows = ssh_to_server::rows();
    for note in ssh_to_server::NOTES {
        println!("{note}");
    }
    matrix::print_and_assert("OpenSSH ssh -> our server", &rows);
}
