//! The server side of user authentication: requests become decisions for the
//! application; the engine enforces the limits, delays and method chains.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;

use super::chains::ChainProgress;
use super::messages::{
    self, InfoRequest, MAX_PROMPTS, MethodFields, USERAUTH_INFO_RESPONSE, UserauthRequest,
};
use super::server_verify::{CheckedKey, Usage, check_key, check_signature};
use super::{
    AuthError, AuthMethod, AuthRequest, AuthenticatedUser, CONNECTION_SERVICE, Challenge,
    MethodRequest, Permissions,
};
use crate::config::ServerConfig;
use crate::decision::{DroppedTokens, TokenGuard};
use crate::error::{ConnectionError, PeerMisbehaved, TimerKind};
use crate::event::{Event, sanitize};
use crate::keys::{Certificate, PublicKey};
use crate::transport::Transport;
use crate::wire::msg;

/// Most messages held back while a decision or a delayed failure is outstanding; a
/// client that keeps sending past this is flooding us.
const MAX_DEFERRED_MESSAGES: usize = 64;
/// Most bytes held back likewise.
const MAX_DEFERRED_BYTES: usize = 256 * 1024;

/// What the answer to a decision may be.
enum Kind {
    /// A public key query: accepting answers PK_OK.
    Query {
        algorithm: String,
        blob: Vec<u8>,
    },
    Password,
    KeyboardInteractive,
    /// none, signed publickey, hostbased.
    Final,
}

/// A request the application is deciding.
struct Decision {
    token: u64,
    kind: Kind,
    method: AuthMethod,
    started: Instant,
    /// Whether a failure counts toward `max_auth_tries` (a first `none` does not).
    counted: bool,
    key: Option<PublicKey>,
    certificate: Option<Box<Certificate>>,
}

enum Pending {
    Idle,
    Decision(Box<Decision>),
    /// INFO_REQUEST sent; INFO_RESPONSE with this many responses expected.
    Info {
        prompts: usize,
    },
    /// A USERAUTH_FAILURE held back until the failure delay ends.
    Delayed {
        reply: Vec<u8>,
    },
}

/// The server's authentication state, kept inside the connection.
pub(crate) struct ServerAuthState {
    config: Arc<ServerConfig>,
    peer_address: Option<IpAddr>,
    service_started: bool,
    user: Option<String>,
    requests: u32,
    failures: u32,
    chains: ChainProgress,
    /// Methods the application allowed next with `partial_success`.
    allowed_next: Option<Vec<AuthMethod>>,
    pending: Pending,
    banner_sent: bool,
    permissions: Permissions,
    last_key: Option<PublicKey>,
    certificate_key_id: Option<String>,
    authenticated: Option<AuthenticatedUser>,
    deferred: VecDeque<(u32, Bytes)>,
    deferred_bytes: usize,
    dropped: DroppedTokens,
}

impl ServerAuthState {
    /// Starts the login grace timer.
    pub(crate) fn new(config: Arc<ServerConfig>, transport: &mut Transport, now: Instant) -> Self {
        if let Some(grace) = config.auth.login_grace_time {
            transport.set_timer(TimerKind::LoginGrace, now + grace);
        }
        Self {
            chains: ChainProgress::new(&config.auth.method_chains),
            config,
            peer_address: None,
            service_started: false,
            user: None,
            requests: 0,
            failures: 0,
            allowed_next: None,
            pending: Pending::Idle,
            banner_sent: false,
            permissions: Permissions::default(),
            last_key: None,
            certificate_key_id: None,
            authenticated: None,
            deferred: VecDeque::new(),
            deferred_bytes: 0,
            dropped: DroppedTokens::default(),
        }
    }

    /// True once the client is authenticated.
    pub(crate) fn is_authenticated(&self) -> bool {
        self.authenticated.is_some()
    }

    /// The authenticated user and their permissions, once authenticated.
    pub(crate) fn authenticated_user(&self) -> Option<&AuthenticatedUser> {
        self.authenticated.as_ref()
    }

    /// True while incoming messages must wait: a decision or a delayed failure is
    /// outstanding (RFC 4252 §5: each request is answered before the next is read).
    pub(crate) fn busy(&self) -> bool {
        matches!(self.pending, Pending::Decision(_) | Pending::Delayed { .. })
    }

    /// Holds back a message that arrived while busy.
    pub(crate) fn defer(&mut self, transport: &mut Transport, seq: u32, payload: Bytes) {
        self.deferred_bytes += payload.len();
        self.deferred.push_back((seq, payload));
        if self.deferred.len() > MAX_DEFERRED_MESSAGES || self.deferred_bytes > MAX_DEFERRED_BYTES {
            let e = PeerMisbehaved::Auth("too many messages while a request was being decided");
            transport.fail(e.into());
        }
    }

    /// The next held-back message, once no longer busy.
    pub(crate) fn next_deferred(&mut self, transport: &Transport) -> Option<(u32, Bytes)> {
        if self.busy() || transport.is_closed() {
            return None;
        }
        let (seq, payload) = self.deferred.pop_front()?;
        self.deferred_bytes -= payload.len();
        Some((seq, payload))
    }

    /// Rejects requests whose decision the application dropped.
    pub(crate) fn upkeep(&mut self, transport: &mut Transport) {
        for id in self.dropped.take() {
            if matches!(&self.pending, Pending::Decision(d) if d.token == id) {
                if let Some(decision) = self.take_pending() {
                    self.reject(transport, decision);
                }
            }
        }
    }

    /// Handles the login grace and failure delay timers.
    pub(crate) fn on_timer(&mut self, transport: &mut Transport, kind: TimerKind) {
        match kind {
            TimerKind::LoginGrace if !self.is_authenticated() => {
                transport.fail(ConnectionError::TimedOut(kind));
            }
            TimerKind::AuthFailureDelay => {
                if let Pending::Delayed { reply } =
                    std::mem::replace(&mut self.pending, Pending::Idle)
                {
                    transport.send_upper(&reply);
                }
            }
            _ => {}
        }
    }

    fn take_pending(&mut self) -> Option<Decision> {
        match std::mem::replace(&mut self.pending, Pending::Idle) {
            Pending::Decision(d) => Some(*d),
            other => {
                self.pending = other;
                None
            }
        }
    }

    fn take_decision(&mut self, id: u64) -> Result<Decision, AuthError> {
        match &self.pending {
            Pending::Decision(d) if d.token == id => {
                self.take_pending().ok_or(AuthError::StaleDecision)
            }
            _ => Err(AuthError::StaleDecision),
        }
    }

    fn allows(&self, method: AuthMethod) -> bool {
        match &self.allowed_next {
            Some(next) => next.contains(&method),
            None if method == AuthMethod::None => self.config.auth.methods.contains(&method),
            None => self.chains.allows(method, &self.config.auth.methods),
        }
    }

    fn can_continue(&self) -> Vec<&'static str> {
        match &self.allowed_next {
            Some(next) => next
                .iter()
                .filter(|m| **m != AuthMethod::None)
                .map(|m| m.name())
                .collect(),
            None => self.chains.can_continue(&self.config.auth.methods),
        }
    }

    // ---- messages from the client ----

    /// Handles SERVICE_REQUEST (already answered by the transport) and messages
    /// 50..=79 from the client.
    pub(crate) fn handle(&mut self, transport: &mut Transport, now: Instant, payload: &[u8]) {
        let Some(&number) = payload.first() else {
            return;
        };
        match number {
            msg::SERVICE_REQUEST => self.service_started = true,
            msg::USERAUTH_REQUEST => self.on_request(transport, now, payload),
            USERAUTH_INFO_RESPONSE if matches!(self.pending, Pending::Info { .. }) => {
                self.on_info_response(transport, now, payload)
            }
            _ => {
                let context = "outside the place the authentication protocol allows it";
                transport.fail(PeerMisbehaved::UnexpectedMessage { number, context }.into());
            }
        }
    }

    fn on_request(&mut self, transport: &mut Transport, now: Instant, payload: &[u8]) {
        // RFC 4252 §5.1: requests after success are silently ignored.
        if self.is_authenticated() {
            return;
        }
        let number = msg::USERAUTH_REQUEST;
        if !self.service_started {
            let context = "before the ssh-userauth service was requested";
            return transport.fail(PeerMisbehaved::UnexpectedMessage { number, context }.into());
        }
        let request = match UserauthRequest::decode(payload) {
            Ok(r) => r,
            Err(error) => {
                return transport.fail(PeerMisbehaved::MalformedMessage { number, error }.into());
            }
        };
        if request.service != CONNECTION_SERVICE {
            let e = PeerMisbehaved::ServiceNotAvailable(sanitize(request.service));
            return transport.fail(e.into());
        }
        match &self.user {
            Some(user) if user != request.user => {
                // As sshd: partial success and failure counts belong to one user.
                let e = PeerMisbehaved::Auth("the user name changed between requests");
                return transport.fail(e.into());
            }
            Some(_) => {}
            None => self.user = Some(request.user.to_owned()),
        }
        self.requests += 1;
        // A new request ends a keyboard-interactive exchange (RFC 4256 §3.2).
        self.pending = Pending::Idle;
        if !self.banner_sent {
            self.banner_sent = true;
            if let Some(banner) = &self.config.auth.banner {
                transport.send_upper(&messages::encode_banner(banner));
            }
        }
        let is_none = matches!(request.method, MethodFields::None);
        let counted = !(is_none && self.requests == 1);
        let delay_from = (!is_none).then_some(now);
        let allowed = AuthMethod::from_name(request.method_name()).filter(|m| self.allows(*m));
        if allowed.is_none() {
            return self.fail_attempt(transport, counted, delay_from);
        }
        let user = request.user.to_owned();
        let ask = Ask { now, counted, user };
        match request.method {
            MethodFields::None => self.ask(transport, ask, MethodRequest::None, Kind::Final, None),
            MethodFields::Password {
                password,
                new_password,
            } => {
                let method = MethodRequest::Password {
                    password: zeroizing(password),
                    new_password: new_password.map(zeroizing),
                };
                self.ask(transport, ask, method, Kind::Password, None);
            }
            MethodFields::KeyboardInteractive { submethods } => {
                let method = MethodRequest::KeyboardInteractive {
                    submethods: sanitize(submethods),
                };
                self.ask(transport, ask, method, Kind::KeyboardInteractive, None);
            }
            MethodFields::PublicKey {
                algorithm,
                key_blob,
                signature,
            } => self.on_publickey(transport, ask, algorithm, key_blob, signature),
            MethodFields::Hostbased {
                algorithm,
                key_blob,
                client_host,
                client_user,
                signature,
            } => {
                let fields = messages::HostbasedFields {
                    algorithm,
                    key_blob,
                    client_host,
                    client_user,
                };
                self.on_hostbased(transport, ask, &fields, signature);
            }
            MethodFields::Unknown(_) => self.fail_attempt(transport, counted, delay_from),
        }
    }

    fn on_publickey(
        &mut self,
        transport: &mut Transport,
        ask: Ask,
        algorithm: &str,
        blob: &[u8],
        signature: Option<&[u8]>,
    ) {
        let auth = &self.config.auth;
        let checked = check_key(
            auth,
            Usage::User,
            algorithm,
            blob,
            &ask.user,
            self.peer_address,
        );
        let checked = checked.and_then(|checked| {
            let Some(signature) = signature else {
                return Ok(checked);
            };
            let session_id = transport.session_id().unwrap_or_default();
            let data = messages::publickey_signed_data(
                session_id,
                &ask.user,
                CONNECTION_SERVICE,
                algorithm,
                blob,
            );
            check_signature(&checked, &data, signature).map(|()| checked)
        });
        let Ok(CheckedKey {
            key,
            algorithm: alg,
            certificate,
            certificate_trusted,
        }) = checked
        else {
            return self.fail_attempt(transport, ask.counted, Some(ask.now));
        };
        let kind = match signature {
            Some(_) => Kind::Final,
            None => Kind::Query {
                algorithm: algorithm.to_owned(),
                blob: blob.to_vec(),
            },
        };
        let method = MethodRequest::PublicKey {
            key: key.clone(),
            algorithm: alg,
            certificate: certificate.clone(),
            certificate_trusted,
            signed: signature.is_some(),
        };
        self.ask(transport, ask, method, kind, Some((key, certificate)));
    }

    fn on_hostbased(
        &mut self,
        transport: &mut Transport,
        ask: Ask,
        fields: &messages::HostbasedFields<'_>,
        signature: &[u8],
    ) {
        let auth = &self.config.auth;
        let checked = check_key(
            auth,
            Usage::Host,
            fields.algorithm,
            fields.key_blob,
            &ask.user,
            self.peer_address,
        );
        let checked = checked.and_then(|checked| {
            let session_id = transport.session_id().unwrap_or_default();
            let data =
                messages::hostbased_signed_data(session_id, &ask.user, CONNECTION_SERVICE, fields);
            check_signature(&checked, &data, signature).map(|()| checked)
        });
        let Ok(checked) = checked else {
            return self.fail_attempt(transport, ask.counted, Some(ask.now));
        };
        let method = MethodRequest::Hostbased {
            key: checked.key.clone(),
            algorithm: checked.algorithm,
            certificate: checked.certificate,
            client_host: sanitize(fields.client_host),
            client_user: sanitize(fields.client_user),
        };
        self.ask(transport, ask, method, Kind::Final, None);
    }

    fn on_info_response(&mut self, transport: &mut Transport, now: Instant, payload: &[u8]) {
        let number = USERAUTH_INFO_RESPONSE;
        let expected = match self.pending {
            Pending::Info { prompts } => prompts,
            _ => return,
        };
        let responses = match messages::decode_info_response(payload) {
            Ok(r) => r,
            Err(error) => {
                return transport.fail(PeerMisbehaved::MalformedMessage { number, error }.into());
            }
        };
        if responses.len() != expected {
            let e = PeerMisbehaved::Auth("INFO_RESPONSE does not answer every prompt");
            return transport.fail(e.into());
        }
        let user = self.user.clone().unwrap_or_default();
        let ask = Ask {
            now,
            counted: true,
            user,
        };
        let method = MethodRequest::KeyboardInteractiveResponses { responses };
        self.ask(transport, ask, method, Kind::KeyboardInteractive, None);
    }

    /// Hands a request to the application as a decision.
    fn ask(
        &mut self,
        transport: &mut Transport,
        ask: Ask,
        method: MethodRequest,
        kind: Kind,
        key: Option<(PublicKey, Option<Box<Certificate>>)>,
    ) {
        let token = transport.new_token_id();
        let guard = TokenGuard::new(token, &self.dropped);
        let (key, certificate) = match key {
            Some((key, cert)) => (Some(key), cert),
            None => (None, None),
        };
        self.pending = Pending::Decision(Box::new(Decision {
            token,
            kind,
            method: method.kind(),
            started: ask.now,
            counted: ask.counted,
            key,
            certificate,
        }));
        transport.push_event(Event::AuthRequest(Box::new(AuthRequest::new(
            guard, ask.user, method,
        ))));
    }

    // ---- outcomes ----

    fn reject(&mut self, transport: &mut Transport, decision: Decision) {
        let delay_from = (decision.method != AuthMethod::None).then_some(decision.started);
        self.fail_attempt(transport, decision.counted, delay_from);
    }

    /// Answers a failed attempt: counts it, disconnects at the limit, and sends
    /// USERAUTH_FAILURE, held back until `delay_from + failure_delay` if given.
    fn fail_attempt(
        &mut self,
        transport: &mut Transport,
        counted: bool,
        delay_from: Option<Instant>,
    ) {
        self.pending = Pending::Idle;
        if counted {
            self.failures += 1;
            if self.failures >= self.config.auth.max_auth_tries {
                return transport.fail(ConnectionError::TooManyAuthenticationFailures);
            }
        }
        let reply = messages::encode_failure(&self.can_continue(), false);
        let due = delay_from
            .map(|from| from + self.config.auth.failure_delay)
            .filter(|due| *due > transport.now());
        match due {
            Some(due) => {
                self.pending = Pending::Delayed { reply };
                transport.set_timer(TimerKind::AuthFailureDelay, due);
            }
            None => {
                transport.send_upper(&reply);
            }
        }
    }

    /// The method of `decision` succeeded: full success, or partial success while a
    /// method chain is unfinished.
    fn succeed(
        &mut self,
        transport: &mut Transport,
        decision: Decision,
        user: String,
        granted: &Permissions,
    ) -> Result<(), AuthError> {
        let mut permissions = self.permissions.clone();
        let certificate_permissions = decision
            .certificate
            .as_ref()
            .map(|cert| Permissions::from_certificate(cert));
        let combined = certificate_permissions
            .iter()
            .chain(std::iter::once(granted))
            .try_for_each(|p| permissions.restrict(p));
        if combined.is_err() {
            self.reject(transport, decision);
            return Err(AuthError::WrongAnswer(
                "the certificate and the granted permissions force different commands",
            ));
        }
        self.permissions = permissions;
        if decision.key.is_some() {
            self.last_key = decision.key.clone();
        }
        if let Some(cert) = &decision.certificate {
            self.certificate_key_id = Some(cert.key_id().to_owned());
        }
        self.allowed_next = None;
        if !self.chains.complete(decision.method) {
            let reply = messages::encode_failure(&self.can_continue(), true);
            transport.send_upper(&reply);
            return Ok(());
        }
        transport.send_upper(&[msg::USERAUTH_SUCCESS]);
        transport.stop_timer(TimerKind::LoginGrace);
        let authenticated = AuthenticatedUser {
            user,
            methods: self.chains.completed().to_vec(),
            permissions: self.permissions.clone(),
            public_key: self.last_key.clone(),
            certificate_key_id: self.certificate_key_id.clone(),
        };
        self.authenticated = Some(authenticated.clone());
        transport.push_event(Event::Authenticated(Box::new(authenticated)));
        Ok(())
    }
}

/// Who asked, when, and whether a failure counts.
struct Ask {
    now: Instant,
    counted: bool,
    user: String,
}

fn zeroizing(text: &str) -> zeroize::Zeroizing<String> {
    zeroize::Zeroizing::new(text.to_owned())
}

/// The application's handle on server authentication, borrowed from the connection
/// by [`ServerConnection::auth`](crate::ServerConnection::auth).
///
/// Each [`AuthRequest`] is answered once. An answer that does not fit the request
/// (a password change for a public key, say) is refused with
/// [`AuthError::WrongAnswer`] and the request is rejected, so the client is never
/// left waiting.
pub struct ServerAuth<'a> {
    pub(crate) transport: &'a mut Transport,
    pub(crate) state: &'a mut ServerAuthState,
}

impl std::fmt::Debug for ServerAuth<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerAuth")
            .field("authenticated", &self.state.is_authenticated())
            .finish_non_exhaustive()
    }
}

impl ServerAuth<'_> {
    /// Sets the client's address, checked against certificates' `source-address`.
    /// Without it, such certificates are refused.
    pub fn set_peer_address(&mut self, address: IpAddr) {
        self.state.peer_address = Some(address);
    }

    /// The authenticated user, once the client is in.
    pub fn authenticated_user(&self) -> Option<&AuthenticatedUser> {
        self.state.authenticated_user()
    }

    /// How many failed attempts have been counted so far.
    pub fn failures(&self) -> u32 {
        self.state.failures
    }

    /// Accepts the request: for a public key query, answers PK_OK; otherwise the
    /// method succeeded (full success, or partial success while a configured method
    /// chain is unfinished).
    pub fn accept(&mut self, request: AuthRequest) -> Result<(), AuthError> {
        self.accept_with(request, &Permissions::default())
    }

    /// Accepts the request with restrictions on the session (e.g. from the
    /// `authorized_keys` options of the key), combined with any certificate's.
    pub fn accept_with(
        &mut self,
        request: AuthRequest,
        permissions: &Permissions,
    ) -> Result<(), AuthError> {
        let user = request.user().to_owned();
        let decision = self.decision(request.guard.answer())?;
        if let Kind::Query { algorithm, blob } = &decision.kind {
            self.transport
                .send_upper(&messages::encode_pk_ok(algorithm, blob));
            return Ok(());
        }
        self.state
            .succeed(self.transport, decision, user, permissions)
    }

    /// Rejects the request: USERAUTH_FAILURE (after the failure delay), counted
    /// toward `max_auth_tries`.
    pub fn reject(&mut self, request: AuthRequest) -> Result<(), AuthError> {
        let decision = self.decision(request.guard.answer())?;
        self.state.reject(self.transport, decision);
        Ok(())
    }

    /// The method succeeded but the user must also pass one of `next` (an
    /// application-driven second factor): USERAUTH_FAILURE with partial success.
    pub fn partial_success(
        &mut self,
        request: AuthRequest,
        next: &[AuthMethod],
    ) -> Result<(), AuthError> {
        let decision = self.decision(request.guard.answer())?;
        if matches!(decision.kind, Kind::Query { .. }) {
            self.state.reject(self.transport, decision);
            return Err(AuthError::WrongAnswer("a public key query cannot succeed"));
        }
        self.state.chains.complete(decision.method);
        self.state.allowed_next = Some(next.to_vec());
        let reply = messages::encode_failure(&self.state.can_continue(), true);
        self.transport.send_upper(&reply);
        Ok(())
    }

    /// Answers a password request with SSH_MSG_USERAUTH_PASSWD_CHANGEREQ (RFC 4252
    /// §8): the client should come back with the old and a new password.
    pub fn password_change_required(
        &mut self,
        request: AuthRequest,
        prompt: &str,
    ) -> Result<(), AuthError> {
        let decision = self.decision(request.guard.answer())?;
        if !matches!(decision.kind, Kind::Password) {
            self.state.reject(self.transport, decision);
            return Err(AuthError::WrongAnswer(
                "only a password request can be changed",
            ));
        }
        self.transport
            .send_upper(&messages::encode_passwd_changereq(prompt));
        Ok(())
    }

    /// Answers a keyboard-interactive request (or its responses) with another round
    /// of prompts (RFC 4256 §3.2).
    pub fn challenge(
        &mut self,
        request: AuthRequest,
        challenge: Challenge,
    ) -> Result<(), AuthError> {
        let decision = self.decision(request.guard.answer())?;
        if !matches!(decision.kind, Kind::KeyboardInteractive) {
            self.state.reject(self.transport, decision);
            return Err(AuthError::WrongAnswer(
                "only keyboard-interactive requests take a challenge",
            ));
        }
        if challenge.prompts.len() > MAX_PROMPTS as usize {
            self.state.reject(self.transport, decision);
            return Err(AuthError::WrongAnswer("too many prompts in one challenge"));
        }
        let info = InfoRequest {
            name: challenge.name,
            instruction: challenge.instruction,
            prompts: challenge
                .prompts
                .into_iter()
                .map(|p| (p.text, p.echo))
                .collect(),
        };
        self.transport.send_upper(&info.encode());
        self.state.pending = Pending::Info {
            prompts: info.prompts.len(),
        };
        Ok(())
    }

    fn decision(&mut self, id: u64) -> Result<Decision, AuthError> {
        if self.transport.is_closed() {
            return Err(AuthError::Closed);
        }
        self.state.take_decision(id)
    }
}
