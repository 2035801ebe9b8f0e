//! [`spawn_joined`]: a future run as a task of the runtime and awaited by its caller.
//!
//! A loop that trades many wake-ups with the driver's tasks (an SFTP transfer waking
//! on every reply) costs least on the executor's own workers, where those tasks run.
//! A caller awaiting from elsewhere (a `block_on` on a thread of its own, as
//! `#[tokio::main]` runs `main`) would otherwise take every wake-up across threads.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use super::Runtime;
use super::channel::store;

/// What the task and its [`Joined`] share.
struct State<T> {
    /// The task's value (or the panic it ended with), until the caller takes it.
    value: Option<std::thread::Result<T>>,
    /// The task will not run again: it finished, or was dropped unfinished.
    ended: bool,
    /// The caller waiting for the value.
    waiter: Option<Waker>,
    /// The caller went away: the task stops at its next poll.
    cancelled: bool,
    /// The task, to wake when it is cancelled.
    task: Option<Waker>,
}

type Shared<T> = Arc<Mutex<State<T>>>;

fn lock<T>(shared: &Shared<T>) -> MutexGuard<'_, State<T>> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs `work` as a task of `runtime`; the returned future resolves to its value,
/// or to `None` when the task was dropped unfinished (the runtime shutting down). A
/// panic in `work` is resumed in the caller. Dropping the returned future stops the
/// task, dropping `work`.
pub(crate) fn spawn_joined<T, F>(runtime: &dyn Runtime, work: F) -> Joined<T>
where
    T: Send + 'static,
    F: Future<Output = T> + Send + 'static,
{
    let shared = Arc::new(Mutex::new(State {
        value: None,
        ended: false,
        waiter: None,
        cancelled: false,
        task: None,
    }));
    runtime.spawn(Box::pin(Task {
        work: Box::pin(work),
        shared: Arc::clone(&shared),
    }));
    Joined { shared }
}

/// The spawned side: polls the work unless the caller went away.
struct Task<T> {
    work: Pin<Box<dyn Future<Output = T> + Send>>,
    shared: Shared<T>,
}

impl<T> Future for Task<T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        {
            let mut state = lock(&this.shared);
            if state.cancelled {
                return Poll::Ready(());
            }
            store(&mut state.task, cx.waker());
        }
        let work = &mut this.work;
        let value = match std::panic::catch_unwind(AssertUnwindSafe(|| work.as_mut().poll(cx))) {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(value)) => Ok(value),
            Err(panic) => Err(panic),
        };
        this.end(Some(value));
        Poll::Ready(())
    }
}

impl<T> Task<T> {
    /// Marks the task over, with its value when it has one, and wakes the caller.
    fn end(&self, value: Option<std::thread::Result<T>>) {
        let waiter = {
            let mut state = lock(&self.shared);
            if value.is_some() {
                state.value = value;
            }
            state.ended = true;
            state.waiter.take()
        };
        if let Some(waiter) = waiter {
            waiter.wake();
        }
    }
}

impl<T> Drop for Task<T> {
    fn drop(&mut self) {
        // Finished or not, the task is over: a caller still waiting must hear it.
        self.end(None);
    }
}

/// The value of a [`spawn_joined`] task; dropping it stops the task.
pub(crate) struct Joined<T> {
    shared: Shared<T>,
}

impl<T> Future for Joined<T> {
    type Output = Option<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut state = lock(&self.shared);
        match state.value.take() {
            Some(Ok(value)) => return Poll::Ready(Some(value)),
            Some(Err(panic)) => {
                drop(state);
                std::panic::resume_unwind(panic)
            }
            None => {}
        }
        if state.ended {
            return Poll::Ready(None);
        }
        store(&mut state.waiter, cx.waker());
        Poll::Pending
    }
}

impl<T> Drop for Joined<T> {
    fn drop(&mut self) {
        let task = {
            let mut state = lock(&self.shared);
            state.cancelled = true;
            state.task.take()
        };
        if let Some(task) = task {
            task.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::task::Wake;

    use super::*;
    use crate::driver::AsyncTimer;
    use crate::driver::runtime::BoxFuture;

    /// A runtime whose spawned tasks wait in a list for the test to poll them.
    #[derive(Default)]
    struct Manual {
        tasks: Mutex<Vec<BoxFuture>>,
    }

    impl std::fmt::Debug for Manual {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("Manual")
        }
    }

    impl Runtime for Manual {
        fn now(&self) -> std::time::Instant {
            unreachable!("no clock here")
        }
        fn new_timer(&self, _deadline: std::time::Instant) -> Pin<Box<dyn AsyncTimer>> {
            unreachable!("no timers here")
        }
        fn spawn(&self, future: BoxFuture) {
            self.tasks
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(future);
        }
    }

    impl Manual {
        /// Polls every task once; drops those that finished. Returns how many remain.
        fn run(&self) -> usize {
            let waker = Waker::noop();
            let mut cx = Context::from_waker(waker);
            let mut tasks = self.tasks.lock().unwrap_or_else(PoisonError::into_inner);
            tasks.retain_mut(|task| task.as_mut().poll(&mut cx).is_pending());
            tasks.len()
        }
    }

    struct Flag(AtomicBool);

    impl Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    fn poll<F: Future + Unpin>(future: &mut F, flag: &Arc<Flag>) -> Poll<F::Output> {
        let waker = Waker::from(Arc::clone(flag));
        Pin::new(future).poll(&mut Context::from_waker(&waker))
    }

    #[test]
    fn the_value_reaches_the_caller_and_wakes_it() {
        let runtime = Manual::default();
        let mut joined = spawn_joined(&runtime, async { 42 });
        let flag = Arc::new(Flag(AtomicBool::new(false)));
        assert!(poll(&mut joined, &flag).is_pending(), "not run yet");
        assert_eq!(runtime.run(), 0);
        assert!(flag.0.load(Ordering::SeqCst), "woken");
        assert_eq!(poll(&mut joined, &flag), Poll::Ready(Some(42)));
    }

    #[test]
    fn dropping_the_caller_stops_the_task_and_drops_its_work() {
        let runtime = Manual::default();
        let dropped = Arc::new(AtomicBool::new(false));
        struct Guard(Arc<AtomicBool>);
        impl Drop for Guard {
            fn drop(&mut self) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let guard = Guard(Arc::clone(&dropped));
        let joined = spawn_joined(&runtime, async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        });
        assert_eq!(runtime.run(), 1, "waits forever");
        drop(joined);
        assert_eq!(runtime.run(), 0, "stopped");
        assert!(dropped.load(Ordering::SeqCst));
    }

    #[test]
    fn a_panic_in_the_work_reaches_the_caller() {
        let runtime = Manual::default();
        let mut joined = spawn_joined(&runtime, async { panic!("in the work") });
        assert_eq!(runtime.run(), 0, "the task ends");
        let flag = Arc::new(Flag(AtomicBool::new(false)));
        let caught = std::panic::catch_unwind(AssertUnwindSafe(|| poll(&mut joined, &flag)));
        let panic = caught.expect_err("resumed in the caller");
        assert_eq!(panic.downcast_ref::<&str>(), Some(&"in the work"));
    }

    #[test]
    fn a_task_dropped_unfinished_ends_the_wait_without_a_value() {
        let runtime = Manual::default();
        let mut joined = spawn_joined(&runtime, std::future::pending::<u8>());
        let flag = Arc::new(Flag(AtomicBool::new(false)));
        assert!(poll(&mut joined, &flag).is_pending());
        // The runtime shuts down: its tasks are dropped.
        runtime
            .tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        assert!(flag.0.load(Ordering::SeqCst), "woken");
        assert_eq!(poll(&mut joined, &flag), Poll::Ready(None));
    }
}
