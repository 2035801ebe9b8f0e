//! # sansh-conformance: sansh against real peers
//!
//! This crate owns every test that needs a real peer or a real socket (DESIGN.md §4).
//! Its library half is the harness those tests share:
//!
//! - [`blocking`]: a minimal blocking driver that runs one of our engines over a
//!   `std::net::TcpStream`, following the engine's run loop contract.
//! - [`openssh`]: the installed OpenSSH (`sshd`, `ssh`, `ssh-keygen`, ...) as test peers:
//!   locating the binaries, starting a throwaway [`openssh::Sshd`] on a loopback port,
//!   running [`openssh::SshClient`] with its `-vvv` log captured, and listing what the
//!   installed OpenSSH supports ([`openssh::supported`]).
//! - [`process`]: waiting for a child process with a deadline, without polling.
//! - [`scratch`]: temporary directories for configs, keys and logs, removed on drop.
//! - [`sftp`]: our SFTP client engine driving a server program over stdio, our server
//!   engine on stdio with a local-filesystem backend confined to a root.
//!
//! The peers are OpenSSH 10 from Debian (bookworm-backports on Debian 12);
//! `scripts/install-peers` installs them. A missing peer is an error that names the
//! package to install, never a silently skipped test.
#![forbid(unsafe_code)]

pub mod blocking;
pub mod build;
pub mod openssh;
pub mod process;
pub mod scratch;
pub mod sftp;
