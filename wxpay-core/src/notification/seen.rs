//! An in-memory guard against handling one notification twice.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::ledger::{Claim, ClaimToken, LedgerFuture, NotificationLedger};

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

/// Each remembered id is in both, exactly once, so memory is bounded by `capacity`.
#[derive(Debug, Default)]
struct Ids {
    /// Each id with whether it was handled (`false`: claimed, its handler still running).
    seen: HashMap<String, bool>,
    /// Ids with when they were first seen, oldest first.
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
        self.remember(id, now, true).is_none()
    }

    /// Remembers `id` as `handled` (or claimed) unless it is remembered already; gives what
    /// was remembered then (`Some(handled)`), `None` for a first delivery.
    fn remember(&self, id: &str, now: Instant, handled: bool) -> Option<bool> {
        let mut ids = self.lock();
        ids.expire(now, self.retention);
        if let Some(&was) = ids.seen.get(id) {
            return Some(was);
        }
        while ids.order.len() >= self.capacity && ids.pop_oldest() {}
        ids.seen.insert(id.to_owned(), handled);
        ids.order.push_back((now, id.to_owned()));
        None
    }

    /// Claims `id` for a handler in this process: see [`NotificationLedger`].
    pub(crate) fn claim_at(&self, id: &str, now: Instant) -> Claim {
        match self.remember(id, now, false) {
            None => Claim::Claimed(ClaimToken::new(String::new())),
            Some(true) => Claim::Handled,
            Some(false) => Claim::InProgress,
        }
    }

    /// Marks a claimed `id` handled (remembering it again if it was forgotten meanwhile).
    pub(crate) fn complete_at(&self, id: &str, now: Instant) {
        if let Some(handled) = self.lock().seen.get_mut(id) {
            *handled = true;
            return;
        }
        self.remember(id, now, true);
    }

    /// Forgets `id`, so its next delivery counts as the first (after a failed attempt).
    pub fn forget(&self, id: &str) {
        let mut ids = self.lock();
        if ids.seen.remove(id).is_some() {
            // A linear scan, but forgetting follows a failed handling, which is rare; leaving
            // the entry would let forget-and-redeliver cycles grow `order` past `capacity`.
            if let Some(at) = ids.order.iter().position(|(_, seen)| seen == id) {
                ids.order.remove(at);
            }
        }
    }

    /// How many ids are remembered.
    pub fn len(&self) -> usize {
        self.lock().order.len()
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

/// The in-memory ledger: claims and handled ids of this process only. Never fails.
impl NotificationLedger for SeenNotifications {
    fn claim<'a>(&'a self, id: &'a str) -> LedgerFuture<'a, Claim> {
        Box::pin(std::future::ready(Ok(self.claim_at(id, Instant::now()))))
    }

    fn complete<'a>(&'a self, id: &'a str, _claim: &'a ClaimToken) -> LedgerFuture<'a, ()> {
        self.complete_at(id, Instant::now());
        Box::pin(std::future::ready(Ok(())))
    }

    fn release<'a>(&'a self, id: &'a str, _claim: &'a ClaimToken) -> LedgerFuture<'a, ()> {
        self.forget(id);
        Box::pin(std::future::ready(Ok(())))
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

    /// Drops the oldest id; `false` when there is none.
    fn pop_oldest(&mut self) -> bool {
        let Some((_, id)) = self.order.pop_front() else {
            return false;
        };
        self.seen.remove(&id);
        true
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

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
    fn a_forgotten_and_seen_again_id_counts_once() {
        let seen = SeenNotifications::new(2, Duration::from_secs(3600));
        let now = Instant::now();
        assert!(seen.first_delivery_at("a", now));
        seen.forget("a");
        let later = now + Duration::from_secs(1);
        assert!(seen.first_delivery_at("a", later));
        assert!(seen.first_delivery_at("b", later));
        // Making room drops "a", the oldest remembered id, and nothing else.
        assert!(seen.first_delivery_at("c", later));
        assert_eq!(seen.len(), 2);
        assert!(!seen.first_delivery_at("b", later));
        assert!(!seen.first_delivery_at("c", later));
    }

    #[test]
    fn a_claim_is_in_progress_until_completed_or_released() {
        let seen = SeenNotifications::new(10, Duration::from_secs(60));
        let now = Instant::now();
        assert!(matches!(seen.claim_at("a", now), Claim::Claimed(_)));
        assert_eq!(seen.claim_at("a", now), Claim::InProgress);
        seen.forget("a");
        assert!(matches!(seen.claim_at("a", now), Claim::Claimed(_)));
        seen.complete_at("a", now);
        assert_eq!(seen.claim_at("a", now), Claim::Handled);
        assert!(!seen.first_delivery_at("a", now));
        // Completing an id that was forgotten meanwhile remembers it as handled.
        seen.forget("a");
        seen.complete_at("a", now);
        assert_eq!(seen.claim_at("a", now), Claim::Handled);
        assert_eq!(seen.len(), 1);
    }

    #[derive(Debug, Clone)]
    enum Op {
        /// A delivery of id `0` after `1` seconds more.
        Deliver(u8, u8),
        Forget(u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0u8..6, 0u8..4).prop_map(|(id, wait)| Op::Deliver(id, wait)),
            (0u8..6).prop_map(Op::Forget),
        ]
    }

    proptest! {
        /// Whatever the deliveries and forgets, memory never exceeds `capacity` entries, and
        /// every answer is the one of a plain list of (id, first seen) kept in order.
        #[test]
        fn memory_stays_within_capacity_and_answers_match_a_model(
            capacity in 1usize..5,
            retention in 1u64..8,
            ops in proptest::collection::vec(op(), 0..64),
        ) {
            let retention = Duration::from_secs(retention);
            let seen = SeenNotifications::new(capacity, retention);
            let mut model: Vec<(String, Instant)> = Vec::new();
            let mut now = Instant::now();
            for op in ops {
                match op {
                    Op::Deliver(id, wait) => {
                        now += Duration::from_secs(u64::from(wait));
                        let id = id.to_string();
                        model.retain(|(_, at)| now.saturating_duration_since(*at) < retention);
                        let first = !model.iter().any(|(seen, _)| *seen == id);
                        if first {
                            if model.len() >= capacity {
                                model.remove(0);
                            }
                            model.push((id.clone(), now));
                        }
                        prop_assert_eq!(seen.first_delivery_at(&id, now), first);
                    }
                    Op::Forget(id) => {
                        let id = id.to_string();
                        model.retain(|(seen, _)| *seen != id);
                        seen.forget(&id);
                    }
                }
                let ids = seen.lock();
                prop_assert!(ids.order.len() <= capacity, "{} entries", ids.order.len());
                prop_assert_eq!(ids.order.len(), ids.seen.len());
                prop_assert_eq!(ids.order.len(), model.len());
            }
        }
    }
}
