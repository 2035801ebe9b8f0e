//! Awaiting blocking work run through [`Runtime::spawn_blocking`]: [`unblock`].

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use super::runtime::Runtime;

/// Where the work leaves its result and the awaiting task its waker.
struct Slot<T> {
    value: Option<T>,
    /// The work ended without a value (it panicked).
    lost: bool,
    waker: Option<Waker>,
}

fn lock<T>(slot: &Mutex<Slot<T>>) -> MutexGuard<'_, Slot<T>> {
    slot.lock().unwrap_or_else(|p| p.into_inner())
}

/// The result of work handed to [`unblock`]; an `io::Error` if the work panicked.
pub(crate) struct Blocking<T> {
    slot: Arc<Mutex<Slot<T>>>,
}

/// Marks the slot lost if the work unwinds before storing its value, so the waiting
/// task is not left hanging.
struct Guard<T> {
    slot: Arc<Mutex<Slot<T>>>,
}

impl<T> Drop for Guard<T> {
    fn drop(&mut self) {
        let mut slot = lock(&self.slot);
        if slot.value.is_none() {
            slot.lost = true;
        }
        if let Some(waker) = slot.waker.take() {
            waker.wake();
        }
    }
}

/// Runs `work` through the runtime's blocking hook and returns a future of its
/// result.
pub(crate) fn unblock<T: Send + 'static>(
    runtime: &dyn Runtime,
    work: impl FnOnce() -> T + Send + 'static,
) -> Blocking<T> {
    let slot = Arc::new(Mutex::new(Slot {
        value: None,
        lost: false,
        waker: None,
    }));
    let guard = Guard { slot: slot.clone() };
    runtime.spawn_blocking(Box::new(move || {
        let value = work();
        lock(&guard.slot).value = Some(value);
        drop(guard);
    }));
    Blocking { slot }
}

impl<T> Future for Blocking<T> {
    type Output = io::Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        let mut slot = lock(&self.slot);
        if let Some(value) = slot.value.take() {
            return Poll::Ready(Ok(value));
        }
        if slot.lost {
            return Poll::Ready(Err(io::Error::other("blocking work panicked")));
        }
        slot.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}
