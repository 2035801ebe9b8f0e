//! The driver on tokio, smol and async-std against real OpenSSH and against itself:
//! one scenario list ([`scenarios`]), run on every runtime ([`runtimes`]).

mod runtimes;
mod scenarios;
mod support;

runtimes::on_every_runtime!(
    client_completes_kex_with_sshd_and_checks_its_host_key,
    rekey_requested_by_either_side_completes,
    server_time_limit_forces_a_rekey,
    disconnect_reaches_sshd_with_its_description,
    dropping_the_last_handle_sends_disconnect_to_sshd,
    slow_host_key_handler_does_not_stop_the_driver_reading_sshd,
    openssh_client_reaches_service_accept_on_our_server,
    fifty_concurrent_clients_connect_to_our_server,
);
