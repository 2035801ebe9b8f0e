//! The SFTP engines against OpenSSH over stdio pipes (no SSH transport yet):
//!
//! 1. our client engine against OpenSSH's `sftp-server`, every operation and
//!    extension, a 64 MiB round trip and a 10,000-file listing, confined to a scratch
//!    directory;
//! 2. OpenSSH's `sftp -D` against our server engine (`sansh-sftp-server-stdio` with a
//!    local backend rooted at a scratch directory), every command of a batch file,
//!    checked on disk, and escapes from the root refused.

#[path = "sftp_engine/common.rs"]
mod common;
#[path = "sftp_engine/our_client_vs_sftp_server.rs"]
mod our_client_vs_sftp_server;
#[path = "sftp_engine/sftp_client_vs_our_server.rs"]
mod sftp_client_vs_our_server;
