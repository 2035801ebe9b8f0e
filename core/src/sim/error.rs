//! Why a simulation stopped short of its goal.

use std::time::Duration;

use crate::auth::AuthError;
use crate::error::{ApiMisuse, ConnectionError};

use super::Side;

/// A simulation that could not reach what it was asked to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// The server configuration cannot run (for example, no usable host key).
    #[error("invalid server configuration: {0}")]
    InvalidConfig(#[from] ApiMisuse),
    /// The run used its whole step budget ([`SimOptions::max_steps`]) without
    /// reaching its goal: something keeps both engines busy forever.
    ///
    /// [`SimOptions::max_steps`]: super::SimOptions::max_steps
    #[error("no result after {steps} steps ({elapsed:?} of virtual time)")]
    StepLimit {
        /// The budget that ran out.
        steps: u64,
        /// Virtual time since the simulation started.
        elapsed: Duration,
    },
    /// Nothing can happen any more (no bytes in flight, no timer armed, no stall
    /// ending) and the goal was not reached: a deadlock, or an event nobody answered.
    #[error("the simulation is stuck after {elapsed:?} of virtual time")]
    Stuck {
        /// Virtual time since the simulation started.
        elapsed: Duration,
    },
    /// A side's connection ended while setting up.
    #[error("the {side:?} closed the connection: {error}")]
    Closed {
        /// The side whose engine reported `Closed`.
        side: Side,
        /// What it reported.
        error: ConnectionError,
    },
    /// The client could not start its authentication attempt.
    #[error("the client could not authenticate: {0}")]
    Auth(#[from] AuthError),
    /// The server refused the client's authentication while setting up.
    #[error("authentication failed; the server allows: {methods:?}")]
    AuthFailed {
        /// The methods the server said can continue.
        methods: Vec<String>,
    },
}
