//! Decisions the client engine hands to the application during authentication.
//!
//! Each carries a token: answer it through
//! [`ClientConnection::auth`](crate::ClientConnection::auth). Dropping one unanswered
//! cancels the attempt (the engine sends a `none` request, which ends any exchange
//! the server has open and brings back the methods that can continue).

use super::Identity;
use super::agent::{AgentRequest, sign_flags};
use crate::decision::TokenGuard;
use crate::keys::SignatureAlgorithm;

/// The server accepts a key whose signature the application makes (an agent key, a
/// hardware token): sign [`SignRequest::data`] with [`SignRequest::algorithm`] and
/// answer with [`ClientAuth::answer_signature`](super::ClientAuth::answer_signature).
#[derive(Debug)]
pub struct SignRequest {
    pub(crate) guard: TokenGuard,
    identity: Identity,
    algorithm: SignatureAlgorithm,
    data: Vec<u8>,
}

impl SignRequest {
    pub(crate) fn new(
        guard: TokenGuard,
        identity: Identity,
        algorithm: SignatureAlgorithm,
        data: Vec<u8>,
    ) -> Self {
        Self {
            guard,
            identity,
            algorithm,
            data,
        }
    }

    /// The key (or certificate) to sign with.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The signature algorithm to use.
    pub fn algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }

    /// The exact bytes to sign (RFC 4252 §7 or §9).
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// The ssh-agent sign request for this signature (PROTOCOL.agent §3.6), with the
    /// flag that selects rsa-sha2-256 or -512 for RSA keys.
    pub fn to_agent_request(&self) -> AgentRequest {
        AgentRequest::Sign {
            key_blob: self.identity.to_blob(),
            data: self.data.clone(),
            flags: sign_flags(self.algorithm),
        }
    }
}

/// One prompt of a keyboard-interactive round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    /// The prompt text, control characters removed.
    pub text: String,
    /// Whether the user's answer may be shown as it is typed.
    pub echo: bool,
}

/// A keyboard-interactive round from the server (RFC 4256 §3.2): show the name and
/// instruction, ask each prompt, and answer with as many responses through
/// [`ClientAuth::answer_prompts`](super::ClientAuth::answer_prompts). A round may
/// have no prompts (only text to show); answer it with no responses.
#[derive(Debug)]
pub struct KeyboardInteractivePrompt {
    pub(crate) guard: TokenGuard,
    name: String,
    instruction: String,
    prompts: Vec<Prompt>,
}

impl KeyboardInteractivePrompt {
    pub(crate) fn new(
        guard: TokenGuard,
        name: String,
        instruction: String,
        prompts: Vec<Prompt>,
    ) -> Self {
        Self {
            guard,
            name,
            instruction,
            prompts,
        }
    }

    /// The round's name (often empty), control characters removed.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The instruction text (often empty), control characters removed.
    pub fn instruction(&self) -> &str {
        &self.instruction
    }

    /// The prompts, in order.
    pub fn prompts(&self) -> &[Prompt] {
        &self.prompts
    }
}

/// The server requires a new password (SSH_MSG_USERAUTH_PASSWD_CHANGEREQ, RFC 4252
/// §8): show the prompt and answer with
/// [`ClientAuth::change_password`](super::ClientAuth::change_password).
#[derive(Debug)]
pub struct PasswordChangeRequest {
    pub(crate) guard: TokenGuard,
    prompt: String,
}

impl PasswordChangeRequest {
    pub(crate) fn new(guard: TokenGuard, prompt: String) -> Self {
        Self { guard, prompt }
    }

    /// The server's prompt, control characters removed.
    pub fn prompt(&self) -> &str {
        &self.prompt
    }
}
