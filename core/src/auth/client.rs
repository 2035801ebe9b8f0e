//! The client side of user authentication: one attempt at a time, each a small state
//! machine driven by the server's replies and the application's answers.

use zeroize::Zeroizing;

use super::client_events::{KeyboardInteractivePrompt, PasswordChangeRequest, Prompt, SignRequest};
use super::credential::{Signer, choose_algorithm};
use super::messages::{
    self, HostbasedFields, InfoRequest, MethodFields, USERAUTH_METHOD_SPECIFIC, UserauthRequest,
};
use super::{
    AuthError, CONNECTION_SERVICE, ClientAuthConfig, HostbasedCredential, PublicKeyCredential,
};
use crate::decision::{DroppedTokens, TokenGuard};
use crate::error::PeerMisbehaved;
use crate::event::{Event, sanitize};
use crate::keys::SignatureAlgorithm;
use crate::transport::{Transport, USERAUTH_SERVICE};
use crate::wire::{WireError, msg};

/// Where the `ssh-userauth` service request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Service {
    NotRequested,
    Requested,
    Accepted,
}

/// The method-specific state of one attempt. Secrets live only as long as it does.
enum Method {
    None,
    Password(Zeroizing<String>),
    PublicKey {
        credential: PublicKeyCredential,
        algorithm: SignatureAlgorithm,
        /// The signed request has been sent (not only the query).
        signed: bool,
    },
    KeyboardInteractive(String),
    Hostbased {
        credential: HostbasedCredential,
        algorithm: SignatureAlgorithm,
    },
}

/// One authentication attempt: a user and a method.
struct Attempt {
    user: String,
    method: Method,
}

/// What the application owes us.
enum Wait {
    Signature {
        data: Vec<u8>,
        algorithm: SignatureAlgorithm,
    },
    Prompts(usize),
    NewPassword,
}

/// Requests queued before the service was accepted carry their credentials; the
/// algorithm is chosen when they are sent, once `server-sig-algs` is known.
enum Start {
    None,
    Password(Zeroizing<String>),
    PublicKey(PublicKeyCredential),
    KeyboardInteractive(String),
    Hostbased(HostbasedCredential),
}

enum Step {
    Idle,
    /// Waiting for SERVICE_ACCEPT.
    Queued {
        user: String,
        start: Start,
    },
    /// A request is out; the server's answer is awaited.
    Sent(Attempt),
    /// The application owes an answer to the decision with this token id.
    Waiting {
        attempt: Attempt,
        token: u64,
        wait: Wait,
    },
    Authenticated,
}

/// The client's authentication state, kept inside the connection.
pub(crate) struct ClientAuthState {
    config: ClientAuthConfig,
    service: Service,
    step: Step,
    last_methods: Vec<String>,
    dropped: DroppedTokens,
}

impl ClientAuthState {
    pub(crate) fn new(config: ClientAuthConfig) -> Self {
        Self {
            config,
            service: Service::NotRequested,
            step: Step::Idle,
            last_methods: Vec::new(),
            dropped: DroppedTokens::default(),
        }
    }

    /// True once the server has sent USERAUTH_SUCCESS.
    pub(crate) fn is_authenticated(&self) -> bool {
        matches!(self.step, Step::Authenticated)
    }

    /// Answers decisions the application dropped: each cancels its attempt.
    pub(crate) fn upkeep(&mut self, transport: &mut Transport) {
        for id in self.dropped.take() {
            if matches!(self.step, Step::Waiting { token, .. } if token == id) {
                self.cancel(transport);
            }
        }
    }

    fn begin(
        &mut self,
        transport: &mut Transport,
        user: &str,
        start: Start,
    ) -> Result<(), AuthError> {
        if transport.is_closed() {
            return Err(AuthError::Closed);
        }
        match self.step {
            Step::Idle => {}
            Step::Authenticated => return Err(AuthError::AlreadyAuthenticated),
            _ => return Err(AuthError::InProgress),
        }
        let user = user.to_owned();
        match self.service {
            Service::Accepted => self.send(transport, user, start),
            Service::Requested => self.step = Step::Queued { user, start },
            Service::NotRequested => {
                transport.request_service(USERAUTH_SERVICE);
                self.service = Service::Requested;
                self.step = Step::Queued { user, start };
            }
        }
        Ok(())
    }

    /// Sends the first message of an attempt.
    fn send(&mut self, transport: &mut Transport, user: String, start: Start) {
        transport.set_ext_info_in_auth(true);
        let method = match start {
            Start::None => Method::None,
            Start::Password(password) => Method::Password(password),
            Start::KeyboardInteractive(submethods) => Method::KeyboardInteractive(submethods),
            Start::PublicKey(credential) => {
                let Some(algorithm) = self.algorithm_for(transport, &credential) else {
                    return self.local_failure(transport);
                };
                let method = Method::PublicKey {
                    credential,
                    algorithm,
                    signed: false,
                };
                let attempt = Attempt { user, method };
                return self.start_publickey(transport, attempt);
            }
            Start::Hostbased(credential) => {
                let Some(algorithm) = self.algorithm_for(transport, &credential.key) else {
                    return self.local_failure(transport);
                };
                let method = Method::Hostbased {
                    credential,
                    algorithm,
                };
                return self.sign(transport, Attempt { user, method });
            }
        };
        let attempt = Attempt { user, method };
        let fields = match &attempt.method {
            Method::None => MethodFields::None,
            Method::Password(password) => MethodFields::Password {
                password,
                new_password: None,
            },
            Method::KeyboardInteractive(submethods) => {
                MethodFields::KeyboardInteractive { submethods }
            }
            Method::PublicKey { .. } | Method::Hostbased { .. } => return,
        };
        send_request(transport, &attempt.user, fields);
        self.step = Step::Sent(attempt);
    }

    fn algorithm_for(
        &self,
        transport: &Transport,
        credential: &PublicKeyCredential,
    ) -> Option<SignatureAlgorithm> {
        choose_algorithm(
            credential.identity.key_type(),
            credential.algorithm,
            &self.config.publickey_algorithms,
            transport.server_sig_algs(),
            credential.engine_signs(),
        )
    }

    fn start_publickey(&mut self, transport: &mut Transport, attempt: Attempt) {
        let Method::PublicKey {
            credential,
            algorithm,
            ..
        } = &attempt.method
        else {
            return;
        };
        if !credential.query_first {
            return self.sign(transport, attempt);
        }
        let identity = &credential.identity;
        let key_blob = identity.to_blob();
        let fields = MethodFields::PublicKey {
            algorithm: identity.algorithm_name(*algorithm),
            key_blob: &key_blob,
            signature: None,
        };
        send_request(transport, &attempt.user, fields);
        self.step = Step::Sent(attempt);
    }

    /// Builds the data to sign and signs it, or asks the application to.
    fn sign(&mut self, transport: &mut Transport, attempt: Attempt) {
        let Some(session_id) = transport.session_id() else {
            return self.local_failure(transport);
        };
        let (credential, algorithm) = match &attempt.method {
            Method::PublicKey {
                credential,
                algorithm,
                ..
            } => (credential, *algorithm),
            Method::Hostbased {
                credential,
                algorithm,
            } => (&credential.key, *algorithm),
            _ => return,
        };
        let identity = &credential.identity;
        let key_blob = identity.to_blob();
        let algorithm_name = identity.algorithm_name(algorithm);
        let data = match &attempt.method {
            Method::Hostbased { credential, .. } => messages::hostbased_signed_data(
                session_id,
                &attempt.user,
                CONNECTION_SERVICE,
                &HostbasedFields {
                    algorithm: algorithm_name,
                    key_blob: &key_blob,
                    client_host: &credential.client_host,
                    client_user: &credential.client_user,
                },
            ),
            _ => messages::publickey_signed_data(
                session_id,
                &attempt.user,
                CONNECTION_SERVICE,
                algorithm_name,
                &key_blob,
            ),
        };
        match &credential.signer {
            Signer::Engine(key) => {
                let key = key.clone();
                match key.sign(algorithm, &data, transport.rng()) {
                    Ok(signature) => self.send_signed(transport, attempt, &signature),
                    Err(_) => self.local_failure(transport),
                }
            }
            Signer::Application => {
                let token = transport.new_token_id();
                let guard = TokenGuard::new(token, &self.dropped);
                let request = SignRequest::new(guard, identity.clone(), algorithm, data.clone());
                transport.push_event(Event::SignRequest(request));
                let wait = Wait::Signature { data, algorithm };
                self.step = Step::Waiting {
                    attempt,
                    token,
                    wait,
                };
            }
        }
    }

    fn send_signed(&mut self, transport: &mut Transport, mut attempt: Attempt, signature: &[u8]) {
        match &mut attempt.method {
            Method::PublicKey {
                credential,
                algorithm,
                signed,
            } => {
                let key_blob = credential.identity.to_blob();
                let fields = MethodFields::PublicKey {
                    algorithm: credential.identity.algorithm_name(*algorithm),
                    key_blob: &key_blob,
                    signature: Some(signature),
                };
                send_request(transport, &attempt.user, fields);
                *signed = true;
            }
            Method::Hostbased {
                credential,
                algorithm,
            } => {
                let key_blob = credential.key.identity.to_blob();
                let fields = MethodFields::Hostbased {
                    algorithm: credential.key.identity.algorithm_name(*algorithm),
                    key_blob: &key_blob,
                    client_host: &credential.client_host,
                    client_user: &credential.client_user,
                    signature,
                };
                send_request(transport, &attempt.user, fields);
            }
            _ => return,
        }
        self.step = Step::Sent(attempt);
    }

    /// The attempt could not even be made (no usable signature algorithm, a key
    /// that cannot sign): reported as a failure with the last known methods.
    fn local_failure(&mut self, transport: &mut Transport) {
        self.step = Step::Idle;
        transport.push_event(Event::AuthFailure {
            methods_that_can_continue: self.last_methods.clone(),
            partial_success: false,
        });
    }

    /// Abandons the attempt waiting on the application.
    fn cancel(&mut self, transport: &mut Transport) {
        match std::mem::replace(&mut self.step, Step::Idle) {
            Step::Waiting { attempt, .. } => self.abandon(transport, attempt),
            other => self.step = other,
        }
    }

    /// Ends `attempt` (its secrets are dropped here). A `none` request closes any
    /// exchange the server has open (a new request may interrupt keyboard-interactive,
    /// RFC 4256 §3.2) and its FAILURE reports the end of the attempt.
    fn abandon(&mut self, transport: &mut Transport, attempt: Attempt) {
        let user = attempt.user;
        send_request(transport, &user, MethodFields::None);
        self.step = Step::Sent(Attempt {
            user,
            method: Method::None,
        });
    }

    /// Takes the attempt waiting on decision `id`, if that is what we wait for.
    fn take_waiting(&mut self, id: u64) -> Result<(Attempt, Wait), AuthError> {
        match std::mem::replace(&mut self.step, Step::Idle) {
            Step::Waiting {
                attempt,
                token,
                wait,
            } if token == id => Ok((attempt, wait)),
            other => {
                self.step = other;
                Err(AuthError::StaleDecision)
            }
        }
    }

    // ---- messages from the server ----

    /// Handles SERVICE_ACCEPT and messages 50..=79 from the server.
    pub(crate) fn handle(&mut self, transport: &mut Transport, payload: &[u8]) {
        let Some(&number) = payload.first() else {
            return;
        };
        let malformed = |error: WireError| PeerMisbehaved::MalformedMessage { number, error };
        match number {
            msg::SERVICE_ACCEPT => {
                self.service = Service::Accepted;
                if let Step::Queued { user, start } = std::mem::replace(&mut self.step, Step::Idle)
                {
                    self.send(transport, user, start);
                }
            }
            msg::USERAUTH_BANNER if !self.is_authenticated() => {
                match messages::decode_banner(payload) {
                    Ok(text) => transport.push_event(Event::AuthBanner(sanitize(&text))),
                    Err(e) => transport.fail(malformed(e).into()),
                }
            }
            msg::USERAUTH_SUCCESS if matches!(self.step, Step::Sent(_)) => {
                if payload.len() != 1 {
                    let e = malformed(WireError::TrailingBytes(payload.len() - 1));
                    return transport.fail(e.into());
                }
                self.step = Step::Authenticated;
                transport.set_ext_info_in_auth(false);
                transport.push_event(Event::AuthSuccess);
            }
            msg::USERAUTH_FAILURE if matches!(self.step, Step::Sent(_)) => {
                match messages::decode_failure(payload) {
                    Ok((methods, partial_success)) => {
                        self.step = Step::Idle;
                        self.last_methods = methods.clone();
                        transport.push_event(Event::AuthFailure {
                            methods_that_can_continue: methods,
                            partial_success,
                        });
                    }
                    Err(e) => transport.fail(malformed(e).into()),
                }
            }
            USERAUTH_METHOD_SPECIFIC => self.on_method_specific(transport, payload),
            _ => {
                let context = if self.is_authenticated() {
                    "after authentication succeeded"
                } else {
                    "while no authentication request was waiting for it"
                };
                transport.fail(PeerMisbehaved::UnexpectedMessage { number, context }.into());
            }
        }
    }

    /// PK_OK, PASSWD_CHANGEREQ or INFO_REQUEST, depending on the attempt.
    fn on_method_specific(&mut self, transport: &mut Transport, payload: &[u8]) {
        let number = USERAUTH_METHOD_SPECIFIC;
        let malformed = |error: WireError| PeerMisbehaved::MalformedMessage { number, error };
        let attempt = match std::mem::replace(&mut self.step, Step::Idle) {
            Step::Sent(attempt) => attempt,
            other => {
                self.step = other;
                let context = "while no authentication request was waiting for it";
                let e = PeerMisbehaved::UnexpectedMessage { number, context };
                return transport.fail(e.into());
            }
        };
        match &attempt.method {
            Method::PublicKey {
                credential,
                algorithm,
                signed: false,
            } => {
                let (name, blob) = match messages::decode_pk_ok(payload) {
                    Ok(fields) => fields,
                    Err(e) => return transport.fail(malformed(e).into()),
                };
                let identity = &credential.identity;
                if name != identity.algorithm_name(*algorithm).as_bytes()
                    || blob != identity.to_blob()
                {
                    let e = PeerMisbehaved::Auth("PK_OK names a key or algorithm we did not offer");
                    return transport.fail(e.into());
                }
                self.sign(transport, attempt);
            }
            Method::Password(_) => match messages::decode_passwd_changereq(payload) {
                Ok(prompt) => {
                    let token = transport.new_token_id();
                    let guard = TokenGuard::new(token, &self.dropped);
                    let request = PasswordChangeRequest::new(guard, sanitize(&prompt));
                    transport.push_event(Event::PasswordChange(request));
                    self.step = Step::Waiting {
                        attempt,
                        token,
                        wait: Wait::NewPassword,
                    };
                }
                Err(e) => transport.fail(malformed(e).into()),
            },
            Method::KeyboardInteractive(_) => match InfoRequest::decode(payload) {
                Ok(info) => {
                    let token = transport.new_token_id();
                    let guard = TokenGuard::new(token, &self.dropped);
                    let prompts: Vec<Prompt> = info
                        .prompts
                        .iter()
                        .map(|(text, echo)| Prompt {
                            text: sanitize(text),
                            echo: *echo,
                        })
                        .collect();
                    let count = prompts.len();
                    let prompt = KeyboardInteractivePrompt::new(
                        guard,
                        sanitize(&info.name),
                        sanitize(&info.instruction),
                        prompts,
                    );
                    transport.push_event(Event::KeyboardInteractive(prompt));
                    self.step = Step::Waiting {
                        attempt,
                        token,
                        wait: Wait::Prompts(count),
                    };
                }
                Err(e) => transport.fail(malformed(e).into()),
            },
            _ => {
                let context = "for a method that has no such message";
                let e = PeerMisbehaved::UnexpectedMessage { number, context };
                transport.fail(e.into());
            }
        }
    }
}

/// Encodes and sends one USERAUTH_REQUEST for the connection service.
fn send_request(transport: &mut Transport, user: &str, method: MethodFields<'_>) {
    let request = UserauthRequest {
        user,
        service: CONNECTION_SERVICE,
        method,
    };
    transport.send_upper(&request.encode());
}

/// The application's handle on client authentication, borrowed from the connection
/// by [`ClientConnection::auth`](crate::ClientConnection::auth).
///
/// Start one attempt at a time; each ends with [`Event::AuthSuccess`] or
/// [`Event::AuthFailure`], possibly after decisions ([`Event::SignRequest`],
/// [`Event::KeyboardInteractive`], [`Event::PasswordChange`]) answered here. The
/// first attempt also asks the server for the `ssh-userauth` service; it may be
/// started before the key exchange has finished.
pub struct ClientAuth<'a> {
    pub(crate) transport: &'a mut Transport,
    pub(crate) state: &'a mut ClientAuthState,
}

impl std::fmt::Debug for ClientAuth<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientAuth")
            .field("authenticated", &self.is_authenticated())
            .finish_non_exhaustive()
    }
}

impl ClientAuth<'_> {
    /// True once the server has accepted us.
    pub fn is_authenticated(&self) -> bool {
        self.state.is_authenticated()
    }

    /// The methods the server's latest USERAUTH_FAILURE said can continue.
    pub fn methods_that_can_continue(&self) -> &[String] {
        &self.state.last_methods
    }

    /// Tries the `none` method: it succeeds only on servers that let `user` in
    /// without credentials, and otherwise tells which methods can continue.
    pub fn none(&mut self, user: &str) -> Result<(), AuthError> {
        self.state.begin(self.transport, user, Start::None)
    }

    /// Tries a password (RFC 4252 §8). The server may ask for a new one
    /// ([`Event::PasswordChange`]).
    pub fn password(&mut self, user: &str, password: Zeroizing<String>) -> Result<(), AuthError> {
        self.state
            .begin(self.transport, user, Start::Password(password))
    }

    /// Tries a public key or certificate (RFC 4252 §7): first asks whether the
    /// server accepts it, then signs (or emits [`Event::SignRequest`] for a key the
    /// application signs with).
    pub fn publickey(
        &mut self,
        user: &str,
        credential: PublicKeyCredential,
    ) -> Result<(), AuthError> {
        self.state
            .begin(self.transport, user, Start::PublicKey(credential))
    }

    /// Starts keyboard-interactive authentication (RFC 4256); `submethods` is a hint
    /// for the server, usually empty.
    pub fn keyboard_interactive(&mut self, user: &str, submethods: &str) -> Result<(), AuthError> {
        let start = Start::KeyboardInteractive(submethods.to_owned());
        self.state.begin(self.transport, user, start)
    }

    /// Tries host-based authentication (RFC 4252 §9) with the client host's key.
    pub fn hostbased(
        &mut self,
        user: &str,
        credential: HostbasedCredential,
    ) -> Result<(), AuthError> {
        self.state
            .begin(self.transport, user, Start::Hostbased(credential))
    }

    /// Answers a [`SignRequest`] with the signature blob (`string algorithm, string
    /// signature`, as an ssh-agent returns it), or `None` when it cannot be made (the
    /// attempt is then abandoned and ends with [`Event::AuthFailure`]).
    ///
    /// The signature is verified before it is sent; one that does not verify
    /// abandons the attempt too and is reported as [`AuthError::BadSignature`].
    pub fn answer_signature(
        &mut self,
        request: SignRequest,
        signature: Option<Vec<u8>>,
    ) -> Result<(), AuthError> {
        let id = request.guard.answer();
        let (attempt, wait) = self.state.take_waiting(id)?;
        let Wait::Signature { data, algorithm } = &wait else {
            self.state.abandon(self.transport, attempt);
            return Err(AuthError::StaleDecision);
        };
        let key = match &attempt.method {
            Method::PublicKey { credential, .. } => credential.identity.key(),
            Method::Hostbased { credential, .. } => credential.key.identity.key(),
            _ => return Err(AuthError::StaleDecision),
        };
        let Some(blob) = signature else {
            self.state.abandon(self.transport, attempt);
            return Ok(());
        };
        match key.verify(*algorithm, data, &blob) {
            Ok(()) => {
                self.state.send_signed(self.transport, attempt, &blob);
                Ok(())
            }
            Err(e) => {
                self.state.abandon(self.transport, attempt);
                Err(AuthError::BadSignature(e))
            }
        }
    }

    /// Answers a keyboard-interactive round with one response per prompt, in order
    /// (RFC 4256 §3.4). A wrong number of responses abandons the attempt.
    pub fn answer_prompts(
        &mut self,
        prompt: KeyboardInteractivePrompt,
        responses: Vec<Zeroizing<String>>,
    ) -> Result<(), AuthError> {
        let id = prompt.guard.answer();
        let (attempt, wait) = self.state.take_waiting(id)?;
        let Wait::Prompts(expected) = wait else {
            self.state.abandon(self.transport, attempt);
            return Err(AuthError::StaleDecision);
        };
        if responses.len() != expected {
            self.state.abandon(self.transport, attempt);
            return Err(AuthError::WrongResponseCount {
                expected,
                given: responses.len(),
            });
        }
        self.transport
            .send_upper(&messages::encode_info_response(&responses));
        self.state.step = Step::Sent(attempt);
        Ok(())
    }

    /// Answers a [`PasswordChangeRequest`] with a new password: the request carries
    /// the old password and the new one (RFC 4252 §8). The server may ask again if
    /// it does not like the new one.
    pub fn change_password(
        &mut self,
        request: PasswordChangeRequest,
        new_password: Zeroizing<String>,
    ) -> Result<(), AuthError> {
        let id = request.guard.answer();
        let (attempt, wait) = self.state.take_waiting(id)?;
        let (Wait::NewPassword, Method::Password(old)) = (&wait, &attempt.method) else {
            self.state.abandon(self.transport, attempt);
            return Err(AuthError::StaleDecision);
        };
        let fields = MethodFields::Password {
            password: old,
            new_password: Some(&new_password),
        };
        send_request(self.transport, &attempt.user, fields);
        self.state.step = Step::Sent(attempt);
        Ok(())
    }
}
