//! An in-memory guard against handling one notification twice.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Notification ids seen recently, with bounded memory and time-based expiry.
///
/// The platform repeats deliveries for about a day; this remembers each id for `retention`
/// and at most `capacity` ids (the oldest are forgotten first). It is a guard for one process:
/// the durable answer is to record the id with the event's effect in your database.
///
/// Mark an id when you start handling it, and [`forget`](Self::forget) it if handling fails,
/// so the platform's next delivery is handled rather than dropped.
///
/// ```
/// use std::time::Duration;
/// use wxpay_core::notification::SeenNotifications;
///
/// let seen = SeenNotifications::new(10_000, Duration::from_secs(25 * 3600));
/// assert!(seen.first_delivery("EV-2018022511223320873"));
/// assert!(!seen.first_delivery("EV-2018022511223320873"));
/// seen.forget("EV-2018022511223320873");
/// assert!(seen.first_delivery("EV-2018022511223320873"));
/// ```
#[derive(Debug)]
pub struct SeenNotifications {
    capacity: usize,
    retention: Duration,
    ids: Mutex<Ids>,
}

#[derive(Debug, Default)]
struct Ids {
    /// id → when it was first seen.
    seen_at: HashMap<String, Instant>,
    /// Ids in the order they were seen; an entry whose instant no longer matches `seen_at`
    /// is stale (the id was forgotten and seen again) and is skipped.
    order: VecDeque<(Instant, String)>,
}

impl SeenNotifications {
    /// Remembers up to `capacity` ids (at least one) for `retention` each.
    pub fn new(capacity: usize, retention: Duration) -> Self {
        SeenNotifications {
            capacity: capacity.max(1),
            retention,
            ids: Mutex::default(),
        }
    }

    /// Whether this is the first delivery of notification `id` seen now; remembers it.
    pub fn first_delivery(&self, id: &str) -> bool {
        self.first_delivery_at(id, Instant::now())
    }

    /// As [`first_delivery`](Self::first_delivery) at a given instant (for tests and
    /// simulations with their own clock).
    pub fn first_delivery_at(&self, id: &str, now: Instant) -> bool {
        let mut ids = self.lock();
        ids.expire(now, self.retention);
        if ids.seen_at.contains_key(id) {
            return false;
        }
        while ids.seen_at.len() >= self.capacity {
            if !ids.pop_oldest() {
                break;
            }
        }
        ids.seen_at.insert(id.to_owned(), now);
        ids.order.push_back((now, id.to_owned()));
        true
    }

    /// Forgets `id`, so its next delivery counts as the first (after a failed attempt).
    pub fn forget(&self, id: &str) {
        self.lock().seen_at.remove(id);
    }

    /// How many ids are remembered.
    pub fn len(&self) -> usize {
        self.lock().seen_at.len()
    }

    /// Whether no id is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ids> {
        // The data stays consistent at every step, so a panic elsewhere does not spoil it.
        self.ids.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for SeenNotifications {
    /// 10 000 ids for 25 hours: a day of retries with an hour to spare.
    fn default() -> Self {
        SeenNotifications::new(10_000, Duration::from_secs(25 * 3600))
    }
}

impl Ids {
    fn expire(&mut self, now: Instant, retention: Duration) {
        while let Some((at, _)) = self.order.front() {
            if now.saturating_duration_since(*at) < retention {
                break;
            }
            self.pop_oldest();
        }
    }

    /// Drops the oldest entry; `false` when there is none.
    fn pop_oldest(&mut self) -> bool {
        let Some((at, id)) = self.order.pop_front() else {
            return false;
        };
        if self.seen_at.get(&id) == Some(&at) {
            self.seen_at.remove(&id);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_expire_after_the_retention() {
        let seen = SeenNotifications::new(10, Duration::from_secs(60));
        let start = Instant::now();
        assert!(seen.first_delivery_at("a", start));
        assert!(!seen.first_delivery_at("a", start + Duration::from_secs(59)));
        assert!(seen.first_delivery_at("a", start + Duration::from_secs(60)));
        assert_eq!(seen.len(), 1);
    }

    #[test]
    fn memory_is_bounded_by_forgetting_the_oldest() {
        let seen = SeenNotifications::new(3, Duration::from_secs(3600));
        let now = Instant::now();
        for id in ["a", "b", "c", "d"] {
            assert!(seen.first_delivery_at(id, now));
        }
        assert_eq!(seen.len(), 3);
        assert!(seen.first_delivery_at("a", now), "the oldest was dropped");
        assert!(!seen.first_delivery_at("d", now));
    }

    #[test]
    fn a_forgotten_and_seen_again_id_is_not_dropped_by_its_stale_entry() {
        let seen = SeenNotifications::new(2, Duration::from_secs(3600));
        let now = Instant::now();
        assert!(seen.first_delivery_at("a", now));
        seen.forget("a");
        let later = now + Duration::from_secs(1);
        assert!(seen.first_delivery_at("a", later));
        assert!(seen.first_delivery_at("b", later));
        // Making room skips the stale ("a", now) entry and drops the live "a", the oldest.
        assert!(seen.first_delivery_at("c", later));
        assert_eq!(seen.len(), 2);
        assert!(!seen.first_delivery_at("b", later));
        assert!(!seen.first_delivery_at("c", later));
    }
}
