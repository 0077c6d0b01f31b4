//! A notification receiver: read, claim, handle once, answer.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, StatusCode};

use super::ledger::{Claim, ClaimToken, NotificationLedger};
use super::{Notification, Reply, SeenNotifications};
use crate::client::Client;

/// How long a receiver keeps trying to mark a handled notification in a ledger that failed,
/// in the background: past the ledger's claim expiry a retry would be handled again anyway.
const COMPLETE_RETRY_FOR: Duration = Duration::from_secs(300);

/// Receives notifications for one client and runs a handler at most once per notification id
/// across everything that shares its [`NotificationLedger`].
///
/// For each delivery [`receive`](Self::receive):
/// 1. verifies and decrypts it ([`Client::read_notification`]); a bad one is refused;
/// 2. claims its id in the ledger: a notification handled already is acknowledged without
///    running the handler, one whose handler is running elsewhere gets a retryable failure,
///    and a ledger that cannot be reached gets a retryable failure too (never a lost or a
///    silently repeated notification);
/// 3. runs the handler: on success marks the id handled and acknowledges, on failure
///    releases the claim and answers a failure, so the platform's next delivery is handled.
///
/// The ledger is an in-memory [`SeenNotifications`] unless one is given; with the `redis`
/// feature, `RedisFleet::seen_notifications` shares it across instances.
///
/// ```no_run
/// use wxpay_core::notification::{Receiver, Reply};
///
/// # async fn run(client: wxpay_core::Client, headers: http::HeaderMap, body: bytes::Bytes) -> http::Response<bytes::Bytes> {
/// let receiver = Receiver::new(client);
/// let reply: Reply = receiver
///     .receive(&headers, &body, |notification| async move {
///         println!("{} {}", notification.id, notification.event_type.as_str());
///         Ok::<(), std::io::Error>(())
///     })
///     .await;
/// reply.into_http_response()
/// # }
/// ```
#[derive(Clone)]
pub struct Receiver {
    client: Client,
    ledger: Arc<dyn NotificationLedger>,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("mchid", &self.client.mchid())
            .finish_non_exhaustive()
    }
}

impl Receiver {
    /// A receiver that de-duplicates in this process ([`SeenNotifications::default`]).
    pub fn new(client: Client) -> Receiver {
        Receiver::with_ledger(client, SeenNotifications::default())
    }

    /// A receiver that claims notification ids in `ledger`.
    pub fn with_ledger(client: Client, ledger: impl NotificationLedger + 'static) -> Receiver {
        Receiver {
            client,
            ledger: Arc::new(ledger),
        }
    }

    /// The client deliveries are verified with.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Handles one delivery (the raw `body` and its headers) and gives the answer to send.
    ///
    /// `handler` runs only for a notification no other delivery has handled or is handling;
    /// an `Err` from it is logged (its `Display`, so keep personal data out of it) and
    /// answered with a failure the platform retries.
    pub async fn receive<F, Fut, E>(&self, headers: &HeaderMap, body: &[u8], handler: F) -> Reply
    where
        F: FnOnce(Notification) -> Fut,
        Fut: Future<Output = Result<(), E>>,
        E: std::fmt::Display,
    {
        let notification = match self.client.read_notification(headers, body).await {
            Ok(notification) => notification,
            Err(error) => {
                tracing::warn!(%error, "refusing a notification delivery");
                return Reply::rejecting(&error);
            }
        };
        let id = notification.id.clone();
        let token = match self.ledger.claim(&id).await {
            Ok(Claim::Claimed(token)) => token,
            Ok(Claim::Handled) => {
                tracing::debug!(%id, "duplicate notification acknowledged without handling");
                return Reply::success();
            }
            Ok(Claim::InProgress) => {
                tracing::debug!(%id, "notification being handled elsewhere; asking for a retry");
                return Reply::failure(
                    StatusCode::TOO_MANY_REQUESTS,
                    "FREQUENCY_LIMITED",
                    "the notification is being handled; deliver it again later",
                );
            }
            Err(error) => {
                tracing::warn!(%id, %error, "cannot claim the notification; asking for a retry");
                return Reply::failure(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "SYSTEM_ERROR",
                    "the notification cannot be recorded now; deliver it again later",
                );
            }
        };
        match handler(notification).await {
            Ok(()) => {
                self.complete(id, token).await;
                Reply::success()
            }
            Err(error) => {
                tracing::warn!(%id, %error, "notification handler failed; releasing its claim");
                if let Err(error) = self.ledger.release(&id, &token).await {
                    // The claim expires by itself; until then deliveries are asked to retry.
                    tracing::warn!(%id, %error, "cannot release the claim; it will expire");
                }
                Reply::failure(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "SYSTEM_ERROR",
                    "the notification could not be processed",
                )
            }
        }
    }

    /// Marks a handled notification; if the ledger fails, keeps trying in the background
    /// until the claim would have expired, and says so loudly: until it is marked, a
    /// delivery is asked to retry, and after the claim expires one would be handled again.
    async fn complete(&self, id: String, token: ClaimToken) {
        let Err(error) = self.ledger.complete(&id, &token).await else {
            return;
        };
        tracing::error!(%id, %error, "handled, but cannot record it in the ledger; retrying in the background");
        let ledger = self.ledger.clone();
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        runtime.spawn(async move {
            let started = tokio::time::Instant::now();
            // Soon after the ledger returns, well within any claim expiry.
            let mut delay = Duration::from_millis(50);
            while started.elapsed() < COMPLETE_RETRY_FOR {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(1));
                match ledger.complete(&id, &token).await {
                    Ok(()) => {
                        tracing::info!(%id, "handled notification recorded in the ledger");
                        return;
                    }
                    Err(error) => tracing::debug!(%id, %error, "ledger still unavailable"),
                }
            }
            tracing::error!(%id, "gave up recording a handled notification: a later delivery may be handled again");
        });
    }
}
