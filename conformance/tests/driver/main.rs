//! The driver on tokio, smol and async-std against real OpenSSH and against itself:
//! one scenario list ([`scenarios`]), run on every runtime ([`runtimes`]).

mod auth;
// The auth suite's helpers (keys by ssh-keygen, ssh-agent, ssh runs); not all used here.
#[allow(dead_code)]
#[path = "../auth/peers.rs"]
mod peers;
mod runtimes;
mod scenarios;
mod server_session;
mod session;
mod sftp;
mod sftp_server;
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
    client_logs_in_to_sshd_with_an_encrypted_key_file,
    client_logs_in_to_sshd_with_default_identities_and_their_certificate,
    client_logs_in_to_sshd_with_keys_in_ssh_agent,
    client_logs_in_to_sshd_with_a_password_from_the_handler,
    client_logs_in_to_sshd_with_keyboard_interactive_from_the_handler,
    wrong_password_fails_naming_the_methods_sshd_offers,
    openssh_ssh_logs_in_to_our_server_with_a_key,
    openssh_ssh_logs_in_to_our_server_with_a_password,
    run_on_sshd_collects_stdout_stderr_and_exit_status,
    eight_mib_through_cat_on_sshd_come_back_intact,
    a_command_killed_by_a_signal_on_sshd_reports_it,
    shell_on_a_pty_on_sshd_runs_typed_commands,
    sftp_subsystem_on_sshd_answers_init_with_its_version,
    openssh_ssh_runs_a_command_on_our_server,
    openssh_ssh_exits_with_the_status_our_server_reports,
    openssh_ssh_reports_a_command_killed_by_a_signal,
    openssh_ssh_keeps_our_servers_stdout_and_stderr_apart,
    openssh_ssh_sends_env_requests_our_server_receives,
    openssh_ssh_tt_sends_a_pty_request_with_its_terminal_modes,
    eight_mib_through_cat_on_our_server_come_back_intact,
    twenty_concurrent_ssh_sessions_on_our_server,
    sftp_client_runs_every_path_method_against_sshd,
    sftp_client_files_read_write_and_seek_on_sshd,
    sftp_client_puts_and_gets_64_mib_through_sshd_intact,
    sftp_client_errors_carry_status_codes_from_sshd,
);
