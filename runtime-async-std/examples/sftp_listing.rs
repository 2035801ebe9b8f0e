//! The README's async-std quickstart: list a remote directory over SFTP, trusting
//! the server only if its host key has the fingerprint given on the command line
//! (as `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` prints it on the server).
//!
//! `cargo run -p sansh-async-std --example sftp_listing -- HOST:PORT USER SHA256:... DIR`

use std::sync::Arc;

use sansh_async_std::core::keys::PublicKey;
use sansh_async_std::{ClientConfig, ClientHandler, Login, connect};

/// Accepts only the host key with this SHA-256 fingerprint.
struct Pinned(String);

impl ClientHandler for Pinned {
    async fn check_server_key(&self, key: &PublicKey) -> bool {
        key.fingerprint_sha256() == self.0
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [addr, user, fingerprint, dir] = args.as_slice() else {
        return Err("usage: sftp_listing HOST:PORT USER SHA256:... DIR".into());
    };
    async_std::task::block_on(async {
        let handler = Arc::new(Pinned(fingerprint.clone()));
        let conn = connect(addr.as_str(), ClientConfig::default(), handler.clone()).await?;
        conn.authenticate(&Login::openssh(user.as_str()), &handler)
            .await?;
        let sftp = conn.start_sftp_client().await?;
        for name in sftp.listdir(dir.as_str()).await? {
            println!("{name}");
        }
        Ok(())
    })
}
