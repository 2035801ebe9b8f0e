//! Decisions the application owes the engine (host key checks, auth requests, ...).
//!
//! A decision travels out in an event as a token and comes back through a method call.
//! A token dropped without an answer is noticed by the engine on its next call and
//! answered "reject", so a forgotten decision never leaves a connection hanging.

use std::sync::{Arc, Mutex};

/// Ids of tokens that were dropped unanswered.
#[derive(Debug, Default, Clone)]
pub(crate) struct DroppedTokens(Arc<Mutex<Vec<u64>>>);

impl DroppedTokens {
    pub(crate) fn take(&self) -> Vec<u64> {
        match self.0.lock() {
            Ok(mut ids) => std::mem::take(&mut *ids),
            Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
        }
    }
}

/// The part of a token that reports an unanswered drop.
#[derive(Debug)]
pub(crate) struct TokenGuard {
    id: u64,
    sink: Option<DroppedTokens>,
}

impl TokenGuard {
    pub(crate) fn new(id: u64, sink: &DroppedTokens) -> Self {
        Self {
            id,
            sink: Some(sink.clone()),
        }
    }

    /// Marks the token answered and returns its id.
    pub(crate) fn answer(mut self) -> u64 {
        self.sink = None;
        self.id
    }
}

impl Drop for TokenGuard {
    fn drop(&mut self) {
        if let Some(sink) = self.sink.take() {
            let mut ids = match sink.0.lock() {
                Ok(ids) => ids,
                Err(poisoned) => poisoned.into_inner(),
            };
            ids.push(self.id);
        }
    }
}
