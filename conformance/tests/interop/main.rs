//! Our transport engine against real OpenSSH 10 over TCP on 127.0.0.1, in both
//! directions, for every algorithm we share (issue #2, item 8).
//!
//! Each test prints its half of the matrix, one line per algorithm and direction
//! (`interop kex curve25519-sha256 client->sshd pass`), then fails if any row failed.
//! The rekey rows (`interop rekey by sshd RekeyLimit 32K (strict) client->sshd pass`)
//! authenticate first, since OpenSSH rekeys only after user authentication, and push
//! data through `cat` across the re-exchanges.
//! To see the matrix of a passing run:
//!
//! ```text
//! cargo nextest run -p sansh-conformance --test interop --no-capture
//! ```

mod client_to_sshd;
mod matrix;
mod rekey;
mod rekey_client;
mod rekey_server;
mod ssh_to_server;

#[test]
fn our_client_interoperates_with_sshd_for_every_shared_algorithm() {
    let rows = client_to_sshd::rows();
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

#[test]
fn our_client_keeps_channel_data_intact_across_rekeys_with_sshd() {
    matrix::print_and_assert("rekey, our client -> OpenSSH sshd", &rekey_client::rows());
}

#[test]
fn openssh_ssh_keeps_channel_data_intact_across_rekeys_with_our_server() {
    matrix::print_and_assert("rekey, OpenSSH ssh -> our server", &rekey_server::rows());
}
