//! Our agent codec against OpenSSH's `ssh-agent` over a blocking Unix socket: keys
//! loaded with `ssh-add` are listed and sign; keys we add show up in `ssh-add -l`.

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sansh_conformance::scratch::ScratchDir;
use sansh_core::auth::agent::{
    AgentFramer, AgentIdentity, AgentRequest, AgentResponse, RSA_SHA2_256, RSA_SHA2_512,
};
use sansh_core::crypto::SystemRandom;
use sansh_core::keys::{FingerprintHash, KeyType, PrivateKey, SignatureAlgorithm};
use zeroize::Zeroizing;

use crate::peers::{KEY_TYPES, KeyFile, SshAgent};

/// A client of the agent protocol on a blocking Unix socket, using our codec.
pub(crate) struct AgentClient {
    stream: UnixStream,
    framer: AgentFramer,
}

impl AgentClient {
    pub(crate) fn connect(socket: &Path) -> Result<Self, String> {
        let stream = UnixStream::connect(socket)
            .map_err(|e| format!("connect to the agent at {}: {e}", socket.display()))?;
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .map_err(|e| format!("set the agent read timeout: {e}"))?;
        Ok(Self {
            stream,
            framer: AgentFramer::new(),
        })
    }

    /// Sends one request and reads its response.
    pub(crate) fn request(&mut self, request: &AgentRequest) -> Result<AgentResponse, String> {
        self.stream
            .write_all(&request.encode())
            .map_err(|e| format!("write to the agent: {e}"))?;
        let mut buf = [0u8; 4096];
        loop {
            if let Some(body) = self.framer.next_message().map_err(|e| e.to_string())? {
                return AgentResponse::decode(&body).map_err(|e| e.to_string());
            }
            let n = self
                .stream
                .read(&mut buf)
                .map_err(|e| format!("read from the agent: {e}"))?;
            if n == 0 {
                return Err("the agent closed the connection".into());
            }
            self.framer.feed(&buf[..n]);
        }
    }

    pub(crate) fn identities(&mut self) -> Result<Vec<AgentIdentity>, String> {
        match self.request(&AgentRequest::RequestIdentities)? {
            AgentResponse::Identities(list) => Ok(list),
            other => Err(format!("expected an identities answer, got {other:?}")),
        }
    }

    /// Asks the agent for a signature blob.
    pub(crate) fn sign(&mut self, request: &AgentRequest) -> Result<Vec<u8>, String> {
        match self.request(request)? {
            AgentResponse::Signature(signature) => Ok(signature),
            other => Err(format!("expected a signature, got {other:?}")),
        }
    }
}

fn fingerprints(listing: &str) -> Vec<String> {
    listing
        .lines()
        .filter_map(|line| line.split_whitespace().nth(1).map(str::to_owned))
        .collect()
}

#[test]
fn our_codec_lists_and_signs_with_keys_loaded_by_ssh_add() -> Result<(), String> {
    let dir = ScratchDir::new("agent-keys").map_err(|e| e.to_string())?;
    let agent = SshAgent::start()?;
    let mut keys = Vec::new();
    for (i, spec) in KEY_TYPES.into_iter().enumerate() {
        let file = KeyFile::generate(&dir, &format!("id_{i}"), spec, None)?;
        agent.ssh_add(&[file.path.as_os_str()])?;
        keys.push(file.public_key()?);
    }
    let mut client = AgentClient::connect(agent.socket())?;
    let listed = client.identities()?;
    assert_eq!(listed.len(), keys.len());
    for key in &keys {
        let identity = listed
            .iter()
            .find(|i| i.key_blob == key.to_blob())
            .ok_or_else(|| format!("{} not listed", key.fingerprint_sha256()))?;
        assert_eq!(identity.identity().map_err(|e| e.to_string())?.key(), key);
        let algorithms: &[(SignatureAlgorithm, u32)] = if key.key_type() == KeyType::Rsa {
            &[
                (SignatureAlgorithm::RsaSha2_256, RSA_SHA2_256),
                (SignatureAlgorithm::RsaSha2_512, RSA_SHA2_512),
            ]
        } else {
            &[(key.key_type().signature_algorithms()[0], 0)]
        };
        for &(alg, flags) in algorithms {
            let data = format!("data signed with {alg}").into_bytes();
            let signature = client.sign(&AgentRequest::Sign {
                key_blob: key.to_blob(),
                data: data.clone(),
                flags,
            })?;
            key.verify(alg, &data, &signature)
                .map_err(|e| format!("{alg} signature from ssh-agent does not verify: {e}"))?;
        }
    }
    Ok(())
}

#[test]
fn keys_we_add_are_listed_by_ssh_add_and_removed() -> Result<(), String> {
    let agent = SshAgent::start()?;
    let mut client = AgentClient::connect(agent.socket())?;
    let mut rng = SystemRandom;
    let mut added = Vec::new();
    for &(key_type, _, _) in &KEY_TYPES {
        let bits = (key_type == KeyType::Rsa).then_some(2048);
        let key =
            Arc::new(PrivateKey::generate(key_type, bits, &mut rng).map_err(|e| e.to_string())?);
        let response = client.request(&AgentRequest::AddIdentity {
            key: key.clone(),
            comment: format!("sansh {key_type}"),
            constraints: Vec::new(),
        })?;
        assert_eq!(response, AgentResponse::Success, "adding a {key_type} key");
        added.push(key.public_key());
    }
    let listing = agent.ssh_add(&[OsStr::new("-l")])?;
    let listed = fingerprints(&listing);
    for key in &added {
        let fingerprint = key.fingerprint(FingerprintHash::Sha256);
        assert!(
            listed.contains(&fingerprint),
            "{fingerprint} not in:\n{listing}"
        );
    }
    // The keys sign as the agent's own do.
    let signature = client.sign(&AgentRequest::Sign {
        key_blob: added[0].to_blob(),
        data: b"hello".to_vec(),
        flags: 0,
    })?;
    added[0]
        .verify(SignatureAlgorithm::Ed25519, b"hello", &signature)
        .map_err(|e| e.to_string())?;
    let response = client.request(&AgentRequest::RemoveIdentity {
        key_blob: added[0].to_blob(),
    })?;
    assert_eq!(response, AgentResponse::Success);
    assert_eq!(client.identities()?.len(), added.len() - 1);
    assert_eq!(
        client.request(&AgentRequest::RemoveAllIdentities)?,
        AgentResponse::Success
    );
    assert!(client.identities()?.is_empty());
    Ok(())
}

#[test]
fn locked_agent_hides_its_keys_until_unlocked() -> Result<(), String> {
    let agent = SshAgent::start()?;
    let mut client = AgentClient::connect(agent.socket())?;
    let key = Arc::new(
        PrivateKey::generate(KeyType::Ed25519, None, &mut SystemRandom)
            .map_err(|e| e.to_string())?,
    );
    client.request(&AgentRequest::AddIdentity {
        key,
        comment: String::new(),
        constraints: Vec::new(),
    })?;
    let passphrase = || Zeroizing::new(b"lock it".to_vec());
    assert_eq!(
        client.request(&AgentRequest::Lock {
            passphrase: passphrase()
        })?,
        AgentResponse::Success
    );
    assert!(client.identities()?.is_empty());
    assert_eq!(
        client.request(&AgentRequest::Unlock {
            passphrase: passphrase()
        })?,
        AgentResponse::Success
    );
    assert_eq!(client.identities()?.len(), 1);
    Ok(())
}
