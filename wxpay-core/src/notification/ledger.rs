//! Where a receiver records which notifications it has claimed and handled, so each is
//! handled once: in this process ([`SeenNotifications`](super::SeenNotifications), the
//! default) or across a fleet (the `redis` feature's `RedisSeenNotifications`).

use std::future::Future;
use std::pin::Pin;

use crate::error::FleetError;

/// What a ledger operation gives back, boxed so the trait stays object-safe.
pub type LedgerFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, FleetError>> + Send + 'a>>;

/// The answer to a [`NotificationLedger::claim`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Claim {
    /// This caller holds the claim: run the handler, then
    /// [`complete`](NotificationLedger::complete) or [`release`](NotificationLedger::release).
    Claimed(ClaimToken),
    /// Handled already: acknowledge the delivery without running the handler.
    Handled,
    /// Another delivery holds the claim and its handler is still running: answer with a
    /// retryable failure, so the platform delivers it again once the outcome is known.
    InProgress,
}

/// Proof of a claim, handed back to complete or release it: a claim that expired and was
/// taken by another instance is not released by the first one. Opaque to the receiver.
#[derive(Clone, PartialEq, Eq)]
pub struct ClaimToken(String);

impl ClaimToken {
    /// A token with the ledger's own value (for implementations of [`NotificationLedger`]).
    pub fn new(value: String) -> ClaimToken {
        ClaimToken(value)
    }

    /// The ledger's value.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ClaimToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClaimToken(..)")
    }
}

/// A record of notification ids: claimed atomically before the handler runs, marked handled
/// after it succeeds, released when it fails. [`Receiver`](super::Receiver) drives it.
///
/// A claim must expire by itself if its holder dies (a crashed instance never blocks a
/// notification for good), and a handled id must be remembered for at least the platform's
/// day of retries.
///
/// ```
/// use wxpay_core::notification::{Claim, NotificationLedger, SeenNotifications};
///
/// # async fn run() -> Result<(), wxpay_core::FleetError> {
/// let ledger = SeenNotifications::default();
/// let Claim::Claimed(token) = ledger.claim("EV-2018022511223320873").await? else { unreachable!() };
/// assert_eq!(ledger.claim("EV-2018022511223320873").await?, Claim::InProgress);
/// ledger.complete("EV-2018022511223320873", &token).await?;
/// assert_eq!(ledger.claim("EV-2018022511223320873").await?, Claim::Handled);
/// # Ok(()) }
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(run()).unwrap();
/// ```
pub trait NotificationLedger: Send + Sync {
    /// Claims notification `id` for this caller, atomically.
    fn claim<'a>(&'a self, id: &'a str) -> LedgerFuture<'a, Claim>;
    /// Marks a claimed `id` handled: later deliveries are [`Claim::Handled`].
    fn complete<'a>(&'a self, id: &'a str, claim: &'a ClaimToken) -> LedgerFuture<'a, ()>;
    /// Gives up a claim after the handler failed, so the platform's next delivery is handled.
    fn release<'a>(&'a self, id: &'a str, claim: &'a ClaimToken) -> LedgerFuture<'a, ()>;
}
