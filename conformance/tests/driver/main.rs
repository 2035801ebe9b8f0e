//! The driver on tokio, smol and async-std against real OpenSSH and against itself:
//! one scenario list ([`scenarios`]), run on every runtime ([`runtimes`]).

mod auth;
mod bulk;
mod forwarding;
mod forwarding_ssh;
mod host_certificates;
mod keepalive;
mod many;
mod our_server;
mod rekey_data;
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
mod sftp_session;
mod support;
#[cfg(any(target_os = "linux", target_os = "android"))]
mod tcp_options;
mod terminal_signals;

runtimes::on_every_runtime!(
    client_completes_kex_with_sshd_and_checks_its_host_key,
    client_trusts_sshds_host_certificate_through_its_authority,
    openssh_ssh_trusts_our_servers_host_certificate,
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
    local_forward_through_sshd_reaches_a_tcp_echo_server,
    a_hundred_forwarded_connections_at_once_each_carry_a_mebibyte,
    remote_forward_on_port_zero_through_sshd_reaches_our_echo_server,
    socks_forward_through_sshd_connects_by_name_and_by_address,
    direct_streamlocal_through_sshd_reaches_a_unix_socket,
    remote_streamlocal_forward_through_sshd_reaches_our_echo_server,
    two_hop_jump_through_sshd_runs_a_command_at_the_end,
    a_target_outside_permitopen_is_refused_by_sshd,
    openssh_local_forward_through_our_server,
    openssh_remote_forward_through_our_server,
    openssh_dynamic_forward_through_our_server,
    openssh_jump_through_our_server_to_our_server,
    openssh_agent_forwarding_to_our_server,
    terminal_size_change_reaches_a_command_on_sshd_as_sigwinch,
    signal_request_reaches_a_command_on_sshd,
    our_clients_window_change_reaches_our_server,
    our_clients_signal_reaches_our_server,
    openssh_ssh_sends_a_window_change_when_its_terminal_is_resized,
    client_keepalive_gives_up_on_a_stopped_sshd,
    server_keepalive_gives_up_on_a_stopped_openssh_ssh,
    openssh_ssh_server_alive_gives_up_on_our_silent_server,
    hundred_channels_at_once_through_cat_on_sshd,
    hundred_channels_at_once_through_cat_on_our_server,
    hundred_ssh_mux_sessions_through_cat_on_our_server,
    two_hundred_ssh_connections_at_once_to_our_server,
    data_through_cat_on_sshd_survives_its_rekeys_every_mib,
    data_from_openssh_ssh_survives_our_servers_rekeys_every_mib,
    eight_mib_through_cat_to_stderr_on_sshd_come_back_intact,
);
