//! A fleet of instances sharing what they must through Redis (feature `redis`): the platform
//! certificates (a cache, tagged like the [`DirectoryStore`](crate::DirectoryStore)'s
//! entries), a short lock so one instance downloads per rotation, and notification claims so
//! a delivery is handled once across the fleet.
//!
//! Redis is never a trust anchor and never on a payment's critical path: every command has a
//! short time limit, and when Redis cannot be used the client keeps its ring in memory and
//! downloads for itself.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::{Deserialize, Serialize};
use tokio::runtime::Id;

use crate::clock::unix_now;
use crate::error::{ConfigError, FleetError};
use crate::hex;
use crate::keys::{PlatformKey, PlatformKeyKind};
use crate::notification::{Claim, ClaimToken, LedgerFuture, NotificationLedger, SeenNotifications};
use crate::runtimes;
use crate::store::StoredCertificate;

/// The largest certificate list read from Redis: a merchant has two or three certificates of
/// under 4 KiB each; a larger value was not written by this SDK.
const MAX_STORED_LIST: usize = 256 << 10;
/// The most certificates a list may hold: the platform lists two or three.
const MAX_STORED_CERTIFICATES: usize = 16;
/// How long after the last certificate's expiry the stored list stays in Redis.
const STORE_TTL_PAST_EXPIRY: i64 = 24 * 3600;

/// Releases a lock or a claim only while it still holds the caller's token: one that expired
/// and was taken by another instance stays theirs.
const RELEASE_IF_OURS: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0";

/// Marks a claimed notification handled: the claim must be ours, or gone (expired and
/// untaken). Answers 1 when marked, 0 when another instance holds the claim now.
const COMPLETE_IF_OURS: &str = r"
local value = redis.call('GET', KEYS[1])
if value == ARGV[1] or value == false or value == 'handled' then
    redis.call('SET', KEYS[1], 'handled', 'PX', ARGV[2])
    return 1
end
return 0";

/// A Redis shared by a fleet of instances: give it to
/// [`ClientBuilder::fleet`](crate::ClientBuilder::fleet) so the instances share platform
/// certificates and download once per rotation, and build a
/// [`RedisSeenNotifications`] from it with [`RedisFleet::seen_notifications`] so each
/// notification is handled once.
///
/// Cheap to clone: one multiplexed connection per tokio runtime, reconnected in the
/// background, serves every client and receiver of the process. Connecting is lazy, so a
/// Redis that is down at start delays nothing; every command is bounded by
/// [`command_timeout`](Self::command_timeout).
///
/// Whoever can write to this Redis cannot make a client trust a key: certificates are used
/// only when their tag verifies under the APIv3 key (see
/// [`CertificateStore`](crate::CertificateStore)). They can delay downloads and claim
/// notifications, so keep it on a private network with a password or ACL, as any Redis.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use wxpay_core::RedisFleet;
/// use wxpay_core::notification::Receiver;
///
/// let fleet = RedisFleet::open("redis://10.0.0.5:6379/0")?;
/// let client = wxpay_core::ClientBuilder::from_env()?.fleet(fleet.clone()).build()?;
/// let receiver = Receiver::with_ledger(client.clone(), fleet.seen_notifications());
/// # let _ = receiver; Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisFleet {
    connections: Arc<Connections>,
    prefix: Arc<str>,
    command_timeout: Duration,
    lock_ttl: Duration,
    lock_wait: Duration,
}

impl std::fmt::Debug for RedisFleet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: never shown.
        f.debug_struct("RedisFleet")
            .field("prefix", &self.prefix)
            .field("command_timeout", &self.command_timeout)
            .finish_non_exhaustive()
    }
}

impl RedisFleet {
    /// A fleet sharing the Redis at `url` (`redis://[user:password@]host:port/db`,
    /// `rediss://…` is not compiled in; `redis+unix:///path/redis.sock` for a socket).
    /// Connects lazily: one multiplexed connection for each tokio runtime that uses the fleet
    /// (a connection is driven by a task of the runtime that opened it, and dies with it).
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for a URL that is not a Redis URL. The URL is never repeated:
    /// it may hold a password.
    pub fn open(url: &str) -> Result<RedisFleet, ConfigError> {
        let client = redis::Client::open(url).map_err(|_| ConfigError::Invalid {
            setting: "redis_url".into(),
            reason: "not a Redis URL, e.g. redis://host:6379/0".to_owned(),
        })?;
        let command_timeout = Duration::from_millis(500);
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(command_timeout))
            .set_response_timeout(Some(command_timeout))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_secs(1));
        Ok(RedisFleet {
            connections: Arc::new(Connections {
                client,
                config,
                by_runtime: Mutex::new(Vec::new()),
            }),
            prefix: Arc::from("wxpay:"),
            command_timeout,
            lock_ttl: Duration::from_secs(15),
            lock_wait: Duration::from_secs(2),
        })
    }

    /// The prefix of every key this SDK writes (default `wxpay:`), to share one Redis with
    /// other applications or to keep two environments apart.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Arc::from(prefix.into());
        self
    }

    /// The longest wait for one Redis command (default 500 ms); past it Redis counts as
    /// unavailable for that step.
    pub fn command_timeout(mut self, timeout: Duration) -> Self {
        self.command_timeout = timeout;
        self
    }

    /// How long an instance waits for another one's certificate download before it
    /// downloads itself (default 2 s), and how long the download lock lives if its holder
    /// dies (default 15 s).
    pub fn download_lock(mut self, wait: Duration, expiry: Duration) -> Self {
        self.lock_wait = wait;
        self.lock_ttl = expiry;
        self
    }

    /// How long an instance waits for another one's certificate download.
    pub(crate) fn lock_wait(&self) -> Duration {
        self.lock_wait
    }

    /// A notification ledger in this Redis: see [`RedisSeenNotifications`].
    pub fn seen_notifications(&self) -> RedisSeenNotifications {
        RedisSeenNotifications {
            fleet: self.clone(),
            claim_expiry: Duration::from_secs(300),
            retention: Duration::from_secs(25 * 3600),
            fallback: None,
        }
    }

    /// Checks that Redis answers (for a readiness probe; nothing else needs it).
    ///
    /// # Errors
    /// [`FleetError`] when it does not.
    pub async fn ping(&self) -> Result<(), FleetError> {
        let _: String = self.run(redis::cmd("PING")).await?;
        Ok(())
    }

    /// Runs one command within the time limit.
    async fn run<T: redis::FromRedisValue>(&self, command: redis::Cmd) -> Result<T, FleetError> {
        let mut connection = self.connections.current()?;
        match tokio::time::timeout(self.command_timeout, command.query_async(&mut connection)).await
        {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(unavailable(&error)),
            Err(_) => Err(FleetError::TimedOut(self.command_timeout)),
        }
    }

    async fn script<T: redis::FromRedisValue>(
        &self,
        script: &str,
        key: &str,
        args: &[&str],
    ) -> Result<T, FleetError> {
        let script = redis::Script::new(script);
        let mut invocation = script.key(key);
        for arg in args {
            invocation.arg(*arg);
        }
        let mut connection = self.connections.current()?;
        match tokio::time::timeout(
            self.command_timeout,
            invocation.invoke_async(&mut connection),
        )
        .await
        {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(unavailable(&error)),
            Err(_) => Err(FleetError::TimedOut(self.command_timeout)),
        }
    }

    fn certificates_key(&self, mchid: &str) -> String {
        format!("{}certificates:{mchid}", self.prefix)
    }

    /// The certificates stored for `mchid`, tags included; checked by the caller like any
    /// store's entries.
    pub(crate) async fn load_certificates(
        &self,
        mchid: &str,
    ) -> Result<Vec<StoredCertificate>, FleetError> {
        // GETRANGE, not GET: a planted huge value is cut off in Redis, not read whole.
        let text: Vec<u8> = self
            .run(
                redis::cmd("GETRANGE")
                    .arg(self.certificates_key(mchid))
                    .arg(0)
                    .arg(MAX_STORED_LIST)
                    .to_owned(),
            )
            .await?;
        if text.is_empty() {
            return Ok(Vec::new());
        }
        if text.len() > MAX_STORED_LIST {
            return Err(FleetError::Malformed("the certificate list is too large"));
        }
        let list: Vec<SharedCertificate> = serde_json::from_slice(&text)
            .map_err(|_| FleetError::Malformed("not a certificate list"))?;
        // What is read here ends up in logs and warnings: keep it to what this SDK writes.
        if list.len() > MAX_STORED_CERTIFICATES {
            return Err(FleetError::Malformed("too many certificates"));
        }
        if list.iter().any(|entry| {
            entry.serial.is_empty()
                || entry.serial.len() > 64
                || !entry.serial.bytes().all(|b| b.is_ascii_hexdigit())
        }) {
            return Err(FleetError::Malformed("a serial that is not hex"));
        }
        Ok(list
            .into_iter()
            .map(|entry| StoredCertificate {
                serial: entry.serial,
                pem: entry.pem,
                tag: entry.tag,
            })
            .collect())
    }

    /// Replaces what is stored for `mchid`; the value expires a day after the last of its
    /// certificates does.
    pub(crate) async fn save_certificates(
        &self,
        mchid: &str,
        certificates: &[StoredCertificate],
    ) -> Result<(), FleetError> {
        let key = self.certificates_key(mchid);
        let expires = certificates
            .iter()
            .filter_map(|entry| PlatformKey::from_certificate_pem(&entry.pem).ok())
            .filter_map(|key| match key.kind() {
                PlatformKeyKind::Certificate { not_after, .. } => Some(not_after),
                PlatformKeyKind::PublicKey => None,
            })
            .max();
        let Some(expires) = expires.filter(|&at| at > unix_now()) else {
            let _: i64 = self.run(redis::cmd("DEL").arg(&key).to_owned()).await?;
            return Ok(());
        };
        let list: Vec<SharedCertificate> = certificates
            .iter()
            .map(|entry| SharedCertificate {
                serial: entry.serial.clone(),
                pem: entry.pem.clone(),
                tag: entry.tag.clone(),
            })
            .collect();
        let text = serde_json::to_string(&list)
            .map_err(|_| FleetError::Malformed("cannot write the certificate list"))?;
        let _: String = self
            .run(
                redis::cmd("SET")
                    .arg(&key)
                    .arg(text)
                    .arg("EXAT")
                    .arg(expires.saturating_add(STORE_TTL_PAST_EXPIRY))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    /// Takes the download lock of `mchid` (SET NX PX): `Some` when this instance holds it.
    pub(crate) async fn lock_download(
        &self,
        mchid: &str,
    ) -> Result<Option<DownloadLock>, FleetError> {
        let token = random_token()?;
        let key = format!("{}certificates:{mchid}:download-lock", self.prefix);
        let taken: Option<String> = self
            .run(
                redis::cmd("SET")
                    .arg(&key)
                    .arg(&token)
                    .arg("NX")
                    .arg("PX")
                    .arg(millis(self.lock_ttl))
                    .to_owned(),
            )
            .await?;
        Ok(taken.map(|_| DownloadLock { key, token }))
    }

    /// Releases a download lock if it is still ours; a failure only means it expires later.
    pub(crate) async fn unlock_download(&self, lock: DownloadLock) {
        if let Err(error) = self
            .script::<i64>(RELEASE_IF_OURS, &lock.key, &[&lock.token])
            .await
        {
            tracing::debug!(%error, "cannot release the download lock; it will expire");
        }
    }

    /// Whether this instance does the periodic refresh of `mchid` for the coming `period`
    /// (SET NX PX, never released: it marks the period as taken).
    pub(crate) async fn take_refresh(
        &self,
        mchid: &str,
        period: Duration,
    ) -> Result<bool, FleetError> {
        let key = format!("{}certificates:{mchid}:refreshed", self.prefix);
        let taken: Option<String> = self
            .run(
                redis::cmd("SET")
                    .arg(&key)
                    .arg(random_token()?)
                    .arg("NX")
                    .arg("PX")
                    .arg(millis(period).max(1))
                    .to_owned(),
            )
            .await?;
        Ok(taken.is_some())
    }
}

/// A held download lock.
pub(crate) struct DownloadLock {
    key: String,
    token: String,
}

/// A stored certificate as it is written to Redis.
#[derive(Serialize, Deserialize)]
struct SharedCertificate {
    serial: String,
    pem: String,
    tag: Option<String>,
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

fn random_token() -> Result<String, FleetError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|_| FleetError::Unavailable("no randomness for a token".into()))?;
    Ok(hex::lower(&bytes))
}

/// Redis's own words for what went wrong (its messages carry no URL or password).
/// The connections of a fleet handle and its clones, one per tokio runtime that used it.
struct Connections {
    client: redis::Client,
    config: ConnectionManagerConfig,
    by_runtime: Mutex<Vec<(Id, ConnectionManager)>>,
}

impl Connections {
    /// The connection of the caller's runtime, set up (lazily connected) on first use; those
    /// of runtimes that ended are let go.
    fn current(&self) -> Result<ConnectionManager, FleetError> {
        let Some((id, _)) = runtimes::current() else {
            return Err(FleetError::Unavailable(
                "commands must run inside a tokio runtime".to_owned(),
            ));
        };
        let mut by_runtime = self
            .by_runtime
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some((_, connection)) = by_runtime.iter().find(|(runtime, _)| *runtime == id) {
            return Ok(connection.clone());
        }
        // Set up in this runtime: its reconnection task lives here.
        let connection =
            ConnectionManager::new_lazy_with_config(self.client.clone(), self.config.clone())
                .map_err(|e| unavailable(&e))?;
        let (live, ended): (Vec<_>, Vec<_>) = std::mem::take(&mut *by_runtime)
            .into_iter()
            .partition(|(runtime, _)| runtimes::is_live(*runtime));
        *by_runtime = live;
        by_runtime.push((id, connection.clone()));
        drop(by_runtime);
        drop(ended);
        Ok(connection)
    }
}

fn unavailable(error: &redis::RedisError) -> FleetError {
    FleetError::Unavailable(error.to_string())
}

/// A [`NotificationLedger`] in Redis, shared by every receiver of a fleet.
///
/// A claim is `SET <prefix>notification:<id> <token> NX PX <claim expiry>`: atomic, so of
/// deliveries arriving together on different instances exactly one runs the handler. When
/// the handler succeeds the key becomes `handled` for the retention (default 25 hours: the
/// platform's day of retries and an hour more); when it fails the claim is deleted (only if
/// it still holds this instance's token), so the platform's next delivery is handled. A claim
/// held by an instance that died expires after the claim expiry (default 5 minutes), after
/// which a retry is handled.
///
/// When Redis cannot be reached the receiver answers a retryable failure, so nothing is lost;
/// with [`fall_back_to_local`](Self::fall_back_to_local) it de-duplicates in this process
/// instead (logged at each delivery), which keeps notifications flowing but lets a retry that
/// lands on another instance be handled again.
///
/// Keep the Redis durable (`appendonly yes`) if it holds claims: one that restarts empty
/// forgets which notifications were handled.
///
/// ```no_run
/// # async fn run(client: wxpay_core::Client, fleet: wxpay_core::RedisFleet) {
/// use std::time::Duration;
/// use wxpay_core::notification::{Receiver, SeenNotifications};
///
/// let ledger = fleet
///     .seen_notifications()
///     .claim_expiry(Duration::from_secs(120))
///     .fall_back_to_local(SeenNotifications::default());
/// let receiver = Receiver::with_ledger(client, ledger);
/// # let _ = receiver; }
/// ```
#[derive(Debug, Clone)]
pub struct RedisSeenNotifications {
    fleet: RedisFleet,
    claim_expiry: Duration,
    retention: Duration,
    fallback: Option<Arc<SeenNotifications>>,
}

/// Tokens of claims made in the fallback start with this; Redis tokens are hex.
const LOCAL_TOKEN: &str = "local";

impl RedisSeenNotifications {
    /// How long a claim lives if its holder never completes or releases it (default 5
    /// minutes): longer than the slowest handler, or a slow one is handled twice.
    pub fn claim_expiry(mut self, expiry: Duration) -> Self {
        self.claim_expiry = expiry;
        self
    }

    /// How long a handled id is remembered (default 25 hours).
    pub fn retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    /// While Redis cannot be reached, de-duplicate in this process with `local` instead of
    /// asking the platform to retry. Each such delivery is logged.
    pub fn fall_back_to_local(mut self, local: SeenNotifications) -> Self {
        self.fallback = Some(Arc::new(local));
        self
    }

    fn key(&self, id: &str) -> Result<String, FleetError> {
        if id.is_empty() || id.len() > 256 {
            return Err(FleetError::BadId);
        }
        Ok(format!("{}notification:{id}", self.fleet.prefix))
    }

    async fn claim_in_redis(&self, id: &str) -> Result<Claim, FleetError> {
        let key = self.key(id)?;
        let token = random_token()?;
        let taken: Option<String> = self
            .fleet
            .run(
                redis::cmd("SET")
                    .arg(&key)
                    .arg(&token)
                    .arg("NX")
                    .arg("PX")
                    .arg(millis(self.claim_expiry).max(1))
                    .to_owned(),
            )
            .await?;
        if taken.is_some() {
            return Ok(Claim::Claimed(ClaimToken::new(token)));
        }
        let value: Option<String> = self
            .fleet
            .run(redis::cmd("GET").arg(&key).to_owned())
            .await?;
        Ok(match value.as_deref() {
            Some("handled") => Claim::Handled,
            // Held by another delivery, or expired just now: either way, a retry decides.
            _ => Claim::InProgress,
        })
    }

    async fn claim(&self, id: &str) -> Result<Claim, FleetError> {
        match (self.claim_in_redis(id).await, &self.fallback) {
            (Err(error), Some(local)) if error != FleetError::BadId => {
                tracing::warn!(%id, %error, "Redis unavailable: de-duplicating this notification in this process only");
                Ok(match local.claim_at(id, std::time::Instant::now()) {
                    Claim::Claimed(_) => Claim::Claimed(ClaimToken::new(LOCAL_TOKEN.into())),
                    other => other,
                })
            }
            (outcome, _) => outcome,
        }
    }

    async fn complete(&self, id: &str, claim: &ClaimToken) -> Result<(), FleetError> {
        if let Some(local) = &self.fallback {
            // Remembered here too, so this instance never repeats it while Redis is away.
            local.complete_at(id, std::time::Instant::now());
        }
        let key = self.key(id)?;
        let marked: i64 = self
            .fleet
            .script(
                COMPLETE_IF_OURS,
                &key,
                &[claim.as_str(), &millis(self.retention).max(1).to_string()],
            )
            .await?;
        if marked == 0 {
            tracing::error!(%id, "the claim expired while the handler ran and another instance took it: the notification may be handled twice; raise the claim expiry");
        }
        Ok(())
    }

    async fn release(&self, id: &str, claim: &ClaimToken) -> Result<(), FleetError> {
        if claim.as_str() == LOCAL_TOKEN {
            if let Some(local) = &self.fallback {
                local.forget(id);
            }
            return Ok(());
        }
        let key = self.key(id)?;
        let _: i64 = self
            .fleet
            .script(RELEASE_IF_OURS, &key, &[claim.as_str()])
            .await?;
        Ok(())
    }
}

impl NotificationLedger for RedisSeenNotifications {
    fn claim<'a>(&'a self, id: &'a str) -> LedgerFuture<'a, Claim> {
        Box::pin(RedisSeenNotifications::claim(self, id))
    }

    fn complete<'a>(&'a self, id: &'a str, claim: &'a ClaimToken) -> LedgerFuture<'a, ()> {
        Box::pin(RedisSeenNotifications::complete(self, id, claim))
    }

    fn release<'a>(&'a self, id: &'a str, claim: &'a ClaimToken) -> LedgerFuture<'a, ()> {
        Box::pin(RedisSeenNotifications::release(self, id, claim))
    }
}
