//! The heavy scenarios of the driver suite, on tokio, smol and async-std: 1 GiB
//! through `cat` and back, both ways (our client against sshd, OpenSSH's `ssh`
//! against our server), and 100 channels at once on one connection each moving
//! 10 MiB (our client against sshd and against our server, OpenSSH multiplexed
//! sessions against our server); 1 GiB each way over SFTP (our client against
//! sshd, OpenSSH's `sftp` against the server example built in release).
//!
//! Built only with the `heavy` feature and meant for a release build, as CI runs
//! it (scripts/test):
//!
//! ```text
//! cargo nextest run --release -p sansh-conformance --features heavy --test heavy
//! ```
//!
//! It shares the driver suite's runtimes, test server and helpers (`#[path]`
//! modules); the parts of them only the driver suite uses are dead code here.

#[allow(dead_code)]
#[path = "../driver/bulk.rs"]
mod bulk;
// The server example as a test peer (built in this suite's profile: release).
#[allow(dead_code)]
#[path = "../server_example/support.rs"]
mod example_server;
#[allow(dead_code)]
#[path = "../driver/forwarding.rs"]
mod forwarding;
#[allow(dead_code)]
#[path = "../driver/many.rs"]
mod many;
#[allow(dead_code)]
#[path = "../driver/our_server.rs"]
mod our_server;
#[allow(dead_code)]
#[path = "../auth/peers.rs"]
mod peers;
#[allow(dead_code)]
#[path = "../driver/runtimes.rs"]
mod runtimes;
mod scenarios;
#[allow(dead_code)]
#[path = "../driver/session.rs"]
mod session;
mod sftp;
#[allow(dead_code)]
#[path = "../driver/sftp_session.rs"]
mod sftp_session;
#[allow(dead_code)]
#[path = "../driver/support.rs"]
mod support;

runtimes::on_every_runtime!(
    one_gib_through_cat_on_sshd_comes_back_intact,
    one_gib_from_openssh_ssh_through_cat_on_our_server_comes_back_intact,
    hundred_channels_of_ten_mib_through_cat_on_sshd,
    hundred_channels_of_ten_mib_through_cat_on_our_server,
    hundred_ssh_mux_sessions_of_ten_mib_through_cat_on_our_server,
    a_hundred_forwarded_connections_at_once_each_carry_ten_mebibytes,
);
