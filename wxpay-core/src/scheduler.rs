//! The periodic certificate refresh of every client in the process, driven by one task: a
//! platform serving thousands of merchants runs one timer, not one per merchant.
//!
//! Clients are held weakly: one dropped leaves the schedule at its next turn. The task lives
//! in the tokio runtime of the client that started it; if that runtime shuts down while
//! clients of another runtime remain, their next call starts it again there.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError, Weak};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::client::{Client, Inner, with_jitter};

struct Schedule {
    /// Clients by when they are due next (with a sequence number: two may share an instant).
    due: BTreeMap<(Instant, u64), Weak<Inner>>,
    sequence: u64,
}

static SCHEDULE: Mutex<Schedule> = Mutex::new(Schedule {
    due: BTreeMap::new(),
    sequence: 0,
});
/// Wakes the task when a client is due sooner than it planned.
static WAKE: Notify = Notify::const_new();
/// Whether the task is alive (cleared when its runtime drops it).
static RUNNING: AtomicBool = AtomicBool::new(false);

fn schedule_lock() -> std::sync::MutexGuard<'static, Schedule> {
    // Every step leaves the map whole; a panic elsewhere does not spoil it.
    SCHEDULE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Refreshes `client` after `delay`, then every jittered refresh interval while it lives.
pub(crate) fn schedule(client: Weak<Inner>, delay: Duration) {
    insert(client, Instant::now() + delay);
    WAKE.notify_one();
    keep_running();
}

fn insert(client: Weak<Inner>, at: Instant) {
    let mut schedule = schedule_lock();
    schedule.sequence += 1;
    let sequence = schedule.sequence;
    schedule.due.insert((at, sequence), client);
}

/// Starts the task in the current runtime unless it runs already. Cheap when it does.
pub(crate) fn keep_running() {
    if RUNNING.load(Ordering::Acquire) {
        return;
    }
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    if RUNNING.swap(true, Ordering::AcqRel) {
        return;
    }
    runtime.spawn(run());
}

/// Clears [`RUNNING`] when the task ends, however it ends (its runtime dropping it included).
struct Alive;

impl Drop for Alive {
    fn drop(&mut self) {
        RUNNING.store(false, Ordering::Release);
    }
}

async fn run() {
    let _alive = Alive;
    loop {
        let now = Instant::now();
        let (ready, next) = {
            let mut schedule = schedule_lock();
            let later = schedule.due.split_off(&(now, u64::MAX));
            let ready = std::mem::replace(&mut schedule.due, later);
            (ready, schedule.due.keys().next().map(|(at, _)| *at))
        };
        for client in ready.into_values() {
            let Some(inner) = client.upgrade() else {
                continue;
            };
            let Some(interval) = inner.refresh.interval else {
                continue;
            };
            insert(client, now + with_jitter(interval));
            // A task only while the refresh runs: one slow platform answer delays no other
            // merchant's turn.
            tokio::spawn(async move { Client { inner }.scheduled_refresh().await });
        }
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
