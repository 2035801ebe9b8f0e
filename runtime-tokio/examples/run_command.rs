//! The README's tokio quickstart: log in as ssh would (agent, then `~/.ssh/id_*`),
//! trusting only hosts in `~/.ssh/known_hosts`, and run one command.
//!
//! `cargo run -p sansh-tokio --example run_command -- HOST[:PORT] USER COMMAND`

use std::sync::Arc;

use sansh_tokio::core::keys::PublicKey;
use sansh_tokio::core::known_hosts::{HostKeyStatus, KnownHosts};
use sansh_tokio::{ClientConfig, ClientHandler, Login, connect};

/// Accepts the server only if `~/.ssh/known_hosts` vouches for its key.
struct KnownHostsOnly {
    host: String,
    port: u16,
}

impl ClientHandler for KnownHostsOnly {
    async fn check_server_key(&self, key: &PublicKey) -> bool {
        let path = std::path::Path::new(&std::env::var("HOME").unwrap_or_default())
            .join(".ssh/known_hosts");
        let known = KnownHosts::parse(&std::fs::read_to_string(path).unwrap_or_default());
        matches!(
            known.check(&self.host, self.port, key),
            HostKeyStatus::Trusted { .. }
        )
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(addr), Some(user), Some(command)) = (args.next(), args.next(), args.next()) else {
        return Err("usage: run_command HOST[:PORT] USER COMMAND".into());
    };
    let (host, port) = match addr.rsplit_once(':') {
        Some((host, port)) => (host.to_owned(), port.parse()?),
        None => (addr.clone(), 22),
    };
    let handler = Arc::new(KnownHostsOnly {
        host: host.clone(),
        port,
    });
    let conn = connect(
        (host.as_str(), port),
        ClientConfig::default(),
        handler.clone(),
    )
    .await?;
    conn.authenticate(&Login::openssh(user), &handler).await?;

    let output = conn.run(command).await?;
    print!("{}", String::from_utf8_lossy(&output.stdout));
    eprint!("{}", String::from_utf8_lossy(&output.stderr));
    std::process::exit(output.exit_status.map_or(255, |status| status as i32));
}
