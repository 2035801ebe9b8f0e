//! Client authentication through the driver: tries the [`Login`]'s identities and
//! methods in OpenSSH's order until the server lets us in.
//!
//! The loop runs in the caller's future, not in the driver: it starts each attempt
//! on the engine, then waits for the events the driver sets aside for it (results,
//! banners, sign requests, prompts). Signing with the agent and asking the handler
//! happen here, so the driver keeps reading and writing meanwhile.

use std::collections::VecDeque;
use std::sync::Arc;

use zeroize::Zeroizing;

use super::agent::AgentClient;
use super::connect::connect_with;
use super::error::ConnectError;
use super::handle::Connection;
use super::handler::ClientHandler;
use super::login::{IdentityFile, Login, load_identity};
use super::runtime::{ByteStream, Runtime};
use crate::auth::{AuthError, AuthMethod, ClientAuth, MethodPlanner, PublicKeyCredential};
use crate::config::ClientConfig;
use crate::error::ConnectionError;
use crate::event::Event;
use crate::keys::KeyError;
use crate::{ClientConnection, auth::Identity};

/// Why authentication did not succeed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthFailed {
    /// Every method was tried (or declined by the handler) and the server let us
    /// not in.
    #[error("permission denied: the server offers {offered:?}; tried {tried:?} without success")]
    Denied {
        /// The methods the server's last reply said can continue.
        offered: Vec<String>,
        /// The methods we tried, in order of first use (`none` included).
        tried: Vec<AuthMethod>,
    },
    /// The connection ended during authentication.
    #[error("the connection ended during authentication: {0}")]
    Connection(#[from] ConnectionError),
    /// The engine refused to start an attempt (authentication already done, ...).
    #[error(transparent)]
    Engine(#[from] AuthError),
}

/// How one attempt ended.
enum Outcome {
    Success,
    Failure(Vec<String>),
}

/// A public key to offer, in OpenSSH's order: agent keys, keys given in memory,
/// then key files (loaded when their turn comes).
enum Candidate {
    Agent(Identity),
    Ready(PublicKeyCredential),
    File(IdentityFile),
}

/// Runs an SSH client over `stream`: the key exchange, then authentication as
/// `login` says. Returns the handle only once the server has let us in.
///
/// # Errors
/// [`ConnectError::Handshake`] as for [`connect_with`];
/// [`ConnectError::Authentication`] when no method succeeded (naming the methods
/// the server offered) or the connection ended during authentication.
pub async fn connect_and_authenticate<H: ClientHandler>(
    runtime: Arc<dyn Runtime>,
    stream: impl ByteStream,
    config: ClientConfig,
    login: &Login,
    handler: H,
) -> Result<Connection, ConnectError> {
    let handler = Arc::new(handler);
    let connection = connect_with(runtime, stream, config, handler.clone()).await?;
    connection.authenticate(login, &*handler).await?;
    Ok(connection)
}

impl Connection<ClientConnection> {
    /// Authenticates as `login` says, asking `handler` for passwords, prompts and
    /// passphrases; returns the method that let us in.
    ///
    /// First `none` (some servers need nothing more, and its failure lists the
    /// methods that can continue), then the methods of [`Login::methods`] while the
    /// server offers them. Partial success (a server that wants publickey and then
    /// password) goes on with the methods the server names next.
    ///
    /// Agent signatures and handler calls run in this future while the driver keeps
    /// the connection going. Key files are read and decrypted here, each when its
    /// turn comes (this blocks the executor thread for as long as the key
    /// derivation of an encrypted file takes).
    ///
    /// Dropping this future mid-way leaves the attempt in flight on the engine; a
    /// new call then fails with [`AuthError::InProgress`] until its reply is in.
    ///
    /// # Errors
    /// [`AuthFailed::Denied`] when nothing worked, [`AuthFailed::Connection`] when
    /// the connection ended, [`AuthFailed::Engine`] when already authenticated.
    pub async fn authenticate<H: ClientHandler>(
        &self,
        login: &Login,
        handler: &H,
    ) -> Result<AuthMethod, AuthFailed> {
        let user = login.user.as_str();
        // Whatever an abandoned earlier call left behind is not ours to read.
        self.lock().auth_events.clear();
        let mut agent = None;
        let mut candidates = VecDeque::new();
        if let Some(path) = &login.agent {
            // No agent, or one that fails, only means fewer keys: OpenSSH goes on too.
            if let Ok(mut client) = AgentClient::connect(&*self.runtime(), path).await {
                if let Ok(identities) = client.identities().await {
                    candidates.extend(identities.into_iter().map(|(id, _)| Candidate::Agent(id)));
                }
                agent = Some(client);
            }
        }
        candidates.extend(login.keys.iter().cloned().map(Candidate::Ready));
        candidates.extend(login.files.iter().cloned().map(Candidate::File));

        let mut offered_keys = Vec::new();
        let mut tried = vec![AuthMethod::None];
        let mut methods = match self
            .attempt(user, handler, &mut agent, |auth| auth.none(user))
            .await?
        {
            (Outcome::Success, _) => return Ok(AuthMethod::None),
            (Outcome::Failure(methods), _) => methods,
        };
        let mut planner = MethodPlanner::new(&login.methods)
            .with_tries(AuthMethod::PublicKey, u32::MAX)
            .with_tries(AuthMethod::KeyboardInteractive, login.password_prompts)
            .with_tries(AuthMethod::Password, login.password_prompts);
        loop {
            let Some(method) = planner.next(&methods) else {
                return Err(AuthFailed::Denied {
                    offered: methods,
                    tried,
                });
            };
            let result = match method {
                AuthMethod::PublicKey => {
                    match next_credential(&mut candidates, &mut offered_keys, handler).await {
                        Some(credential) => {
                            self.attempt(user, handler, &mut agent, |auth| {
                                auth.publickey(user, credential)
                            })
                            .await?
                        }
                        None => {
                            planner = planner.with_tries(method, 0);
                            continue;
                        }
                    }
                }
                AuthMethod::KeyboardInteractive => {
                    self.attempt(user, handler, &mut agent, |auth| {
                        auth.keyboard_interactive(user, "")
                    })
                    .await?
                }
                AuthMethod::Password => match handler.password(user).await {
                    Some(password) => {
                        self.attempt(user, handler, &mut agent, |auth| {
                            auth.password(user, password)
                        })
                        .await?
                    }
                    None => {
                        planner = planner.with_tries(method, 0);
                        continue;
                    }
                },
                // The planner only hands out what the login lists; `none` was sent
                // already and hostbased needs a host key the login does not carry.
                AuthMethod::None | AuthMethod::Hostbased => {
                    planner = planner.with_tries(method, 0);
                    continue;
                }
            };
            if !tried.contains(&method) {
                tried.push(method);
            }
            match result {
                (Outcome::Success, _) => return Ok(method),
                (Outcome::Failure(next), declined) => {
                    methods = next;
                    if declined {
                        planner = planner.with_tries(method, 0);
                    }
                }
            }
        }
    }

    /// Starts one attempt and sees it through: answers sign requests with the
    /// agent, prompts and password changes with the handler. Returns how it ended
    /// and whether the handler declined to go on with the method.
    async fn attempt<H: ClientHandler>(
        &self,
        user: &str,
        handler: &H,
        agent: &mut Option<AgentClient>,
        start: impl FnOnce(&mut ClientAuth<'_>) -> Result<(), AuthError>,
    ) -> Result<(Outcome, bool), AuthFailed> {
        {
            let mut state = self.lock();
            start(&mut state.engine.auth())?;
            state.wake_driver();
        }
        let mut declined = false;
        loop {
            let event = self
                .wait_until(|state| state.auth_events.pop_front())
                .await?;
            match event {
                Event::AuthSuccess => return Ok((Outcome::Success, declined)),
                Event::AuthFailure {
                    methods_that_can_continue,
                    ..
                } => return Ok((Outcome::Failure(methods_that_can_continue), declined)),
                Event::AuthBanner(text) => handler.banner(&text),
                Event::SignRequest(request) => {
                    let signature = match agent {
                        Some(agent) => agent.sign(&request).await.ok(),
                        None => None,
                    };
                    // A refused or bad signature abandons the attempt; its
                    // AuthFailure follows as an event.
                    let mut state = self.lock();
                    let _ = state.engine.auth().answer_signature(request, signature);
                    state.wake_driver();
                }
                Event::KeyboardInteractive(prompt) => {
                    let responses = if prompt.prompts().is_empty() {
                        Some(Vec::new())
                    } else {
                        handler.keyboard_interactive(user, &prompt).await
                    };
                    let mut state = self.lock();
                    match responses {
                        Some(responses) => {
                            let _ = state.engine.auth().answer_prompts(prompt, responses);
                        }
                        None => {
                            declined = true;
                            // Dropped unanswered: the engine cancels the attempt.
                            drop(prompt);
                        }
                    }
                    state.wake_driver();
                }
                Event::PasswordChange(request) => {
                    let new_password = handler.change_password(user, request.prompt()).await;
                    let mut state = self.lock();
                    match new_password {
                        Some(new) => {
                            let _ = state.engine.auth().change_password(request, new);
                        }
                        None => {
                            declined = true;
                            drop(request);
                        }
                    }
                    state.wake_driver();
                }
                _ => {}
            }
        }
    }
}

/// The next public key credential to offer: agent keys as they are, key files
/// loaded now (a certificate next to a key comes first). Files that are missing,
/// unreadable, or encrypted without a passphrase are skipped, and so is a key or
/// certificate already offered (a key file whose key the agent holds too).
async fn next_credential<H: ClientHandler>(
    candidates: &mut VecDeque<Candidate>,
    offered: &mut Vec<Vec<u8>>,
    handler: &H,
) -> Option<PublicKeyCredential> {
    while let Some(credential) = load_next(candidates, handler).await {
        let blob = credential.identity().to_blob();
        if !offered.contains(&blob) {
            offered.push(blob);
            return Some(credential);
        }
    }
    None
}

/// The next candidate as a credential, loading key files.
async fn load_next<H: ClientHandler>(
    candidates: &mut VecDeque<Candidate>,
    handler: &H,
) -> Option<PublicKeyCredential> {
    while let Some(candidate) = candidates.pop_front() {
        let file = match candidate {
            Candidate::Agent(identity) => return Some(PublicKeyCredential::external(identity)),
            Candidate::Ready(credential) => return Some(credential),
            Candidate::File(file) => file,
        };
        if file.optional && !file.path.exists() {
            continue;
        }
        let passphrase = file.passphrase.as_ref().map(|p| p.as_str());
        let loaded = match load_identity(&file.path, passphrase) {
            Err(super::login::LoadError::Key(KeyError::PassphraseRequired)) => {
                let asked: Option<Zeroizing<String>> = handler.key_passphrase(&file.path).await;
                match asked {
                    Some(passphrase) => load_identity(&file.path, Some(&passphrase)),
                    None => continue,
                }
            }
            other => other,
        };
        let Ok(credentials) = loaded else {
            continue;
        };
        // The certificate (if any) first, the plain key after it.
        let mut credentials = credentials.into_iter();
        let Some(first) = credentials.next() else {
            continue;
        };
        for rest in credentials.rev() {
            candidates.push_front(Candidate::Ready(rest));
        }
        return Some(first);
    }
    None
}
