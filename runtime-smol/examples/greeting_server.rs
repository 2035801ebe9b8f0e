//! The README's smol quickstart: an SSH server that lets one user in by password
//! and answers every command with a greeting.
//!
//! `cargo run -p sansh-smol --example greeting_server`, then
//! `ssh -p 2222 demo@127.0.0.1 hello` (password `demo`).

use std::sync::Arc;

use sansh_smol::core::crypto::SystemRandom;
use sansh_smol::core::keys::{KeyType, PrivateKey};
use sansh_smol::{
    AuthDecision, Channel, ChannelKind, ChannelRequest, ServerConfig, ServerConnection,
    ServerHandler, listen,
};
use smol::io::AsyncWriteExt;

/// Lets `demo` in with the password `demo` (a real server asks its user database,
/// comparing in constant time).
struct OneUser;

impl ServerHandler for OneUser {
    async fn auth_password(&self, user: &str, password: &str) -> AuthDecision {
        if (user, password) == ("demo", "demo") {
            AuthDecision::Accept
        } else {
            AuthDecision::Reject
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    smol::block_on(async {
        let host_key = PrivateKey::generate(KeyType::Ed25519, None, &mut SystemRandom)?;
        println!("host key {}", host_key.public_key().fingerprint_sha256());
        let config = ServerConfig {
            host_keys: vec![host_key],
            ..ServerConfig::default()
        };
        let listener = listen("127.0.0.1:2222", Arc::new(config), OneUser).await?;
        println!("listening on {}", listener.local_addr());
        while let Some((conn, _peer)) = listener.accept().await {
            smol::spawn(async move {
                // Channel opens come once the client is in; None when it leaves.
                while let Some(incoming) = conn.accept_channel().await {
                    if incoming.kind() == &ChannelKind::Session {
                        if let Ok(channel) = incoming.accept() {
                            smol::spawn(session(channel)).detach();
                        }
                    } // Dropping any other open refuses it.
                }
            })
            .detach();
        }
        Ok(())
    })
}

/// Answers the session's `exec`; refuses everything else (ptys, shells, ...).
async fn session(mut channel: Channel<ServerConnection>) {
    let requests = channel.requests();
    while let Some(request) = requests.next().await {
        let ChannelRequest::Exec { command } = request.request().clone() else {
            request.reject();
            continue;
        };
        request.accept();
        let reply = format!("hello, you ran {}\n", String::from_utf8_lossy(&command));
        let _ = channel.write_all(reply.as_bytes()).await;
        let _ = channel.send_exit_status(0);
        return; // Dropping the channel sends EOF and CLOSE after the reply.
    }
}
