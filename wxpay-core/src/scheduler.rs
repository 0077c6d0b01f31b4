//! The periodic certificate refresh of every client in the process, driven by one task: a
//! platform serving thousands of merchants runs one timer, not one per merchant.
//!
//! The scheduler knows clients only as [`Periodic`] jobs, held weakly: one dropped leaves the
//! schedule at its next turn. The task lives
//! in one of the tokio runtimes the SDK has sent from; when that runtime shuts down (tokio
//! drops the task), it moves at once to the newest runtime still alive, or, with none left,
//! starts again in the runtime of the next call.

use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use tokio::runtime::{Handle, Id};
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::clock::with_jitter;
use crate::runtimes;

/// What the scheduler runs: a client's periodic refresh.
pub(crate) trait Periodic: Send + Sync + 'static {
    /// The period before jitter; `None` takes the job off the schedule.
    fn period(&self) -> Option<Duration>;
    /// One turn, run as a task of its own.
    fn turn(self: Arc<Self>) -> Pin<Box<dyn Future<Output = ()> + Send>>;
}

struct Schedule {
    /// Jobs by when they are due next (with a sequence number: two may share an instant).
    due: BTreeMap<(Instant, u64), Weak<dyn Periodic>>,
    sequence: u64,
}

static SCHEDULE: Mutex<Schedule> = Mutex::new(Schedule {
    due: BTreeMap::new(),
    sequence: 0,
});
/// Wakes the task when a client is due sooner than it planned.
static WAKE: Notify = Notify::const_new();
/// Which task is the scheduler, and in which runtime.
struct Host {
    /// Counts the tasks started; a task's guard acts only while it is the current one.
    generation: u64,
    /// The runtime of the task alive now, if any.
    runtime: Option<Id>,
}

static HOST: Mutex<Host> = Mutex::new(Host {
    generation: 0,
    runtime: None,
});
/// `HOST.runtime.is_some()`, read without the lock on every call.
static RUNNING: AtomicBool = AtomicBool::new(false);

fn schedule_lock() -> MutexGuard<'static, Schedule> {
    // Every step leaves the map whole; a panic elsewhere does not spoil it.
    SCHEDULE.lock().unwrap_or_else(PoisonError::into_inner)
}

fn host_lock() -> MutexGuard<'static, Host> {
    HOST.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs `job` after `delay`, then every jittered period while it lives.
pub(crate) fn schedule(job: Weak<dyn Periodic>, delay: Duration) {
    insert(job, Instant::now() + delay);
    WAKE.notify_one();
    keep_running();
}

fn insert(job: Weak<dyn Periodic>, at: Instant) {
    let mut schedule = schedule_lock();
    schedule.sequence += 1;
    let sequence = schedule.sequence;
    schedule.due.insert((at, sequence), job);
}

/// Starts the task in the current runtime unless it runs already. Cheap when it does.
pub(crate) fn keep_running() {
    if RUNNING.load(Ordering::Acquire) {
        return;
    }
    if let Some((id, handle)) = runtimes::current() {
        start_in(id, &handle);
    }
}

fn start_in(id: Id, handle: &Handle) {
    let generation = {
        let mut host = host_lock();
        if host.runtime.is_some() {
            return;
        }
        host.generation += 1;
        host.runtime = Some(id);
        RUNNING.store(true, Ordering::Release);
        host.generation
    };
    // Spawned outside the lock: a runtime already shutting down drops the task at once, and
    // its guard takes the lock.
    handle.spawn(run(Alive {
        generation,
        runtime: id,
    }));
}

/// Dropped with the task. The task never ends on its own, so its runtime is shutting down:
/// the schedule moves to another live runtime (none: the next call starts it).
struct Alive {
    generation: u64,
    runtime: Id,
}

impl Drop for Alive {
    fn drop(&mut self) {
        {
            let mut host = host_lock();
            if host.generation != self.generation {
                return;
            }
            host.runtime = None;
            RUNNING.store(false, Ordering::Release);
        }
        // Its watch may not have been dropped yet; it must not be picked again.
        runtimes::ended(self.runtime);
        if let Some((id, handle)) = runtimes::newest() {
            start_in(id, &handle);
        }
    }
}

async fn run(alive: Alive) {
    let _alive = alive;
    loop {
        let now = Instant::now();
        let ready = {
            let mut schedule = schedule_lock();
            let later = schedule.due.split_off(&(now, u64::MAX));
            std::mem::replace(&mut schedule.due, later)
        };
        for job in ready.into_values() {
            let Some(live) = job.upgrade() else {
                continue;
            };
            let Some(interval) = live.period() else {
                continue;
            };
            insert(job, now + with_jitter(interval));
            // A task only while the refresh runs: one slow platform answer delays no other
            // merchant's turn.
            tokio::spawn(live.turn());
        }
        // Read after the turns above went back in: the next due may be one of them.
        let next = schedule_lock().due.keys().next().map(|(at, _)| *at);
        match next {
            Some(at) => {
                tokio::select! {
                    () = tokio::time::sleep_until(at) => {}
                    () = WAKE.notified() => {}
                }
            }
            None => WAKE.notified().await,
        }
    }
}
