//! A single-threaded test executor with a virtual clock: when no task can run, time
//! jumps to the earliest armed timer, so a two-minute timeout passes instantly and
//! every run is deterministic.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use crate::driver::{AsyncTimer, BoxFuture, Runtime};

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// The test runtime: cheap to clone, all clones share one executor.
#[derive(Clone)]
pub(crate) struct TestRuntime {
    inner: Arc<Inner>,
}

struct Inner {
    now: Mutex<Instant>,
    queue: Mutex<VecDeque<Arc<Task>>>,
    timers: Mutex<Vec<Weak<TimerSlot>>>,
}

struct Task {
    future: Mutex<Option<BoxFuture>>,
    inner: Weak<Inner>,
    queued: AtomicBool,
}

impl Wake for Task {
    fn wake(self: Arc<Self>) {
        if !self.queued.swap(true, Ordering::SeqCst) {
            if let Some(inner) = self.inner.upgrade() {
                lock(&inner.queue).push_back(self.clone());
            }
        }
    }
}

struct TimerSlot {
    deadline: Mutex<Instant>,
    waker: Mutex<Option<Waker>>,
}

struct TestTimer {
    slot: Arc<TimerSlot>,
    inner: Weak<Inner>,
}

impl std::fmt::Debug for TestTimer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestTimer").finish_non_exhaustive()
    }
}

impl AsyncTimer for TestTimer {
    fn reset(self: Pin<&mut Self>, deadline: Instant) {
        *lock(&self.slot.deadline) = deadline;
    }

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Some(inner) = self.inner.upgrade() else {
            return Poll::Pending;
        };
        if *lock(&inner.now) >= *lock(&self.slot.deadline) {
            return Poll::Ready(());
        }
        *lock(&self.slot.waker) = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl std::fmt::Debug for TestRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestRuntime").finish_non_exhaustive()
    }
}

impl Runtime for TestRuntime {
    fn now(&self) -> Instant {
        *lock(&self.inner.now)
    }

    fn new_timer(&self, deadline: Instant) -> Pin<Box<dyn AsyncTimer>> {
        let slot = Arc::new(TimerSlot {
            deadline: Mutex::new(deadline),
            waker: Mutex::new(None),
        });
        lock(&self.inner.timers).push(Arc::downgrade(&slot));
        Box::pin(TestTimer {
            slot,
            inner: Arc::downgrade(&self.inner),
        })
    }

    fn spawn(&self, future: BoxFuture) {
        let task = Arc::new(Task {
            future: Mutex::new(Some(future)),
            inner: Arc::downgrade(&self.inner),
            queued: AtomicBool::new(true),
        });
        lock(&self.inner.queue).push_back(task);
    }

    /// Runs the work at once: a helper thread would race the deadlock check of
    /// [`Self::block_on`] and make runs depend on thread timing.
    fn spawn_blocking(&self, work: crate::driver::BlockingTask) {
        work();
    }
}

struct MainWaker(AtomicBool);

impl Wake for MainWaker {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

impl TestRuntime {
    pub(crate) fn new() -> Self {
        Self {
            inner: Arc::new(Inner {
                now: Mutex::new(crate::tests::epoch()),
                queue: Mutex::new(VecDeque::new()),
                timers: Mutex::new(Vec::new()),
            }),
        }
    }

    /// The runtime as the driver takes it.
    pub(crate) fn handle(&self) -> Arc<dyn Runtime> {
        Arc::new(self.clone())
    }

    /// Runs `future` and every spawned task until `future` completes. Panics when
    /// nothing can make progress any more (a deadlock in the code under test).
    pub(crate) fn block_on<F: Future>(&self, future: F) -> F::Output {
        let mut future = pin!(future);
        let main = Arc::new(MainWaker(AtomicBool::new(true)));
        let main_waker = Waker::from(main.clone());
        loop {
            if main.0.swap(false, Ordering::SeqCst) {
                if let Poll::Ready(value) =
                    future.as_mut().poll(&mut Context::from_waker(&main_waker))
                {
                    return value;
                }
            }
            let ran = self.run_queued();
            if ran || main.0.load(Ordering::SeqCst) {
                continue;
            }
            assert!(
                self.advance_to_next_timer(),
                "deadlock: no task can run and no timer is armed"
            );
        }
    }

    /// Runs the tasks queued now (not those they wake), so that the main future
    /// gets a turn between every round of the others.
    fn run_queued(&self) -> bool {
        let queued = lock(&self.inner.queue).len();
        for _ in 0..queued {
            let Some(task) = lock(&self.inner.queue).pop_front() else {
                break;
            };
            task.queued.store(false, Ordering::SeqCst);
            let waker = Waker::from(task.clone());
            let mut slot = lock(&task.future);
            if let Some(future) = slot.as_mut() {
                if future
                    .as_mut()
                    .poll(&mut Context::from_waker(&waker))
                    .is_ready()
                {
                    *slot = None;
                }
            }
        }
        queued > 0
    }

    /// Jumps the clock to the earliest armed timer and wakes every timer now due.
    fn advance_to_next_timer(&self) -> bool {
        let mut timers = lock(&self.inner.timers);
        timers.retain(|t| t.strong_count() > 0);
        let armed: Vec<Arc<TimerSlot>> = timers
            .iter()
            .filter_map(Weak::upgrade)
            .filter(|t| lock(&t.waker).is_some())
            .collect();
        drop(timers);
        let Some(next) = armed.iter().map(|t| *lock(&t.deadline)).min() else {
            return false;
        };
        let now = {
            let mut now = lock(&self.inner.now);
            *now = (*now).max(next);
            *now
        };
        for timer in armed {
            if *lock(&timer.deadline) <= now {
                if let Some(waker) = lock(&timer.waker).take() {
                    waker.wake();
                }
            }
        }
        true
    }

    /// How far the virtual clock has moved since the start.
    pub(crate) fn elapsed(&self) -> Duration {
        self.now() - crate::tests::epoch()
    }

    /// Sleeps for `duration` of virtual time.
    pub(crate) async fn sleep(&self, duration: Duration) {
        let mut timer = self.new_timer(self.now() + duration);
        std::future::poll_fn(|cx| timer.as_mut().poll(cx)).await;
    }
}

/// Lets the other tasks run until `condition` holds (without moving the clock).
pub(crate) async fn until(mut condition: impl FnMut() -> bool) {
    for _ in 0..100_000 {
        if condition() {
            return;
        }
        yield_now().await;
    }
    panic!("condition never became true");
}

async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await;
}
