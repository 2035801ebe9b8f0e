//! The server's authentication requests: turned into owned questions for the
//! handler's task, and its verdicts applied to the engine.

use super::handler::{AuthDecision, Question};
use crate::ServerConnection;
use crate::auth::{AuthRequest, MethodRequest};

/// The question to put to the handler, or `None` for a request to refuse without
/// asking (a certificate no configured CA vouches for).
pub(crate) fn question(request: &AuthRequest) -> Option<Question> {
    Some(match request.method() {
        MethodRequest::None => Question::None,
        MethodRequest::Password {
            password,
            new_password: None,
        } => Question::Password(password.clone()),
        MethodRequest::Password {
            password,
            new_password: Some(new),
        } => Question::PasswordChange {
            old: password.clone(),
            new: new.clone(),
        },
        MethodRequest::PublicKey {
            key,
            certificate,
            certificate_trusted,
            ..
        } => {
            if certificate.is_some() && !certificate_trusted {
                return None;
            }
            Question::PublicKey {
                key: key.clone(),
                certificate: certificate.clone(),
            }
        }
        MethodRequest::KeyboardInteractive { .. } => Question::KeyboardInteractive(None),
        MethodRequest::KeyboardInteractiveResponses { responses } => {
            Question::KeyboardInteractive(Some(responses.clone()))
        }
        MethodRequest::Hostbased {
            key,
            client_host,
            client_user,
            ..
        } => Question::Hostbased {
            key: key.clone(),
            client_host: client_host.clone(),
            client_user: client_user.clone(),
        },
    })
}

/// Answers `request` with the handler's `decision`.
///
/// A decision that does not fit the request (a challenge for a password) is turned
/// into a rejection by the engine, so the client never waits; a request that went
/// stale meanwhile (the connection closed) needs no answer.
///
/// For a public key query (the client asks whether a key would do, before
/// signing) any verdict that lets the key count, partial success included, is
/// the engine's `accept` (PK_OK): the handler's verdict then applies to the signed
/// request that follows.
pub(crate) fn apply(engine: &mut ServerConnection, request: AuthRequest, decision: AuthDecision) {
    let query = matches!(
        request.method(),
        MethodRequest::PublicKey { signed: false, .. }
    );
    let decision = match decision {
        AuthDecision::AcceptWith(_) | AuthDecision::PartialSuccess(_) if query => {
            AuthDecision::Accept
        }
        other => other,
    };
    let mut auth = engine.auth();
    let _ = match decision {
        AuthDecision::Accept => auth.accept(request),
        AuthDecision::AcceptWith(permissions) => auth.accept_with(request, &permissions),
        AuthDecision::Reject => auth.reject(request),
        AuthDecision::PartialSuccess(next) => auth.partial_success(request, &next),
        AuthDecision::ChangePassword(prompt) => auth.password_change_required(request, &prompt),
        AuthDecision::Challenge(challenge) => auth.challenge(request, challenge),
    };
}
