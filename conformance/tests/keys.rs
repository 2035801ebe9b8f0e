//! sansh-core's keys against the real ssh-keygen, both ways.
//!
//! - ssh-keygen -> sansh: every key type ssh-keygen makes, in every private format
//!   (OpenSSH plain, with each `-Z` cipher, `-m PEM`, `-m PKCS8`, plain and encrypted)
//!   and public format (`.pub`, `-e -m RFC4716|PKCS8|PEM`), imports as the same key,
//!   with the fingerprints (`-l`, `-l -E md5`) and randomart (`-lv`) ssh-keygen prints.
//! - sansh -> ssh-keygen: every key type in every format we write is read back by
//!   ssh-keygen (`-y`, `-l`, `-i`) as the same key.
//! - Certificates: every CA type × subject type × user/host that we sign, `ssh-keygen
//!   -L` accepts and lists as we parse it; every one `ssh-keygen -s` signs, we parse,
//!   verify and validate.
//! - The keygen example prints what ssh-keygen prints for the same inputs.
//!
//! Each test prints its matrix (one row per format × key type × direction) and fails
//! only after every row is in. Run with `--no-capture` to see the matrix of a passing
//! run.

#[path = "keys/certs.rs"]
mod certs;
#[path = "keys/example.rs"]
mod example;
#[path = "keys/export.rs"]
mod export;
#[path = "keys/import.rs"]
mod import;
#[path = "keys/support.rs"]
mod support;

use support::Matrix;

#[test]
fn every_key_format_and_certificate_round_trips_with_ssh_keygen() {
    // The sections run side by side; their rows are printed in this order.
    let sections = [import::check, export::check, certs::check];
    let matrix = Matrix::default();
    for section in support::parallel(&sections, |check| {
        let rows = Matrix::default();
        check(&rows);
        rows
    }) {
        matrix.append(section);
    }
    matrix.print_and_assert("Keys and certificates against ssh-keygen");
}

#[test]
fn keygen_example_prints_what_ssh_keygen_prints() {
    let matrix = Matrix::default();
    example::check(&matrix);
    matrix.print_and_assert("The keygen example against ssh-keygen");
}
