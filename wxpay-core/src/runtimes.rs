//! The tokio runtimes the SDK sends from: one connection pool for each, shared by every client
//! calling from it, and somewhere for the refresh scheduler to live.
//!
//! A connection is driven by a task of the runtime that opened it. When that runtime ends, the
//! task ends with it, and a request another runtime had sent on the connection fails
//! ("dispatch task is gone"), possibly after it was written, so it cannot be retried. Pools are
//! therefore per runtime: a server (one runtime) has one pool for all its merchants, and no
//! runtime ever uses another's connections. A watch task in each runtime notices when it ends
//! (tokio drops the tasks of a runtime that shuts down) and forgets its pools.

use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

use tokio::runtime::{Handle, Id};

use crate::error::{TransportError, TransportErrorKind};

/// Idle connections close before the platform's own ~8 s keep-alive ends, so a request never
/// lands on a connection the platform is closing.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(5);

/// What a client sends with.
#[derive(Clone)]
pub(crate) enum Http {
    /// The caller's own reqwest client ([`ClientBuilder::http_client`]): its settings and pool.
    ///
    /// [`ClientBuilder::http_client`]: crate::ClientBuilder::http_client
    Caller(reqwest::Client),
    /// The pool of the runtime each call runs in, with these settings.
    PerRuntime(PoolSettings),
}

/// What a connection pool is made with: the settings a request cannot carry itself (the
/// per-attempt limit is set on each request), so clients that differ in them get different
/// pools. Nothing here is secret: clients of different merchants share a pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PoolSettings {
    /// The time limit to connect.
    pub(crate) connect_timeout: Duration,
    /// Certificate authorities trusted beside the system's (DER), e.g. a sandbox's TEST CA.
    pub(crate) extra_roots: Arc<[Vec<u8>]>,
}

impl Http {
    /// The reqwest client for a call made now, from the caller's runtime.
    pub(crate) fn current(&self) -> Result<reqwest::Client, TransportError> {
        match self {
            Http::Caller(client) => Ok(client.clone()),
            Http::PerRuntime(settings) => pool(settings),
        }
    }
}

/// A runtime seen sending (or hosting the scheduler), until its watch task is dropped.
struct Live {
    id: Id,
    handle: Handle,
    /// Tells this registration from a later one of a runtime given the same id (tokio reuses
    /// ids only after a runtime ended, but a watch may be dropped late).
    registration: u64,
    pools: Vec<(PoolSettings, reqwest::Client)>,
}

struct Runtimes {
    live: Vec<Live>,
    registrations: u64,
}

static RUNTIMES: Mutex<Runtimes> = Mutex::new(Runtimes {
    live: Vec::new(),
    registrations: 0,
});

fn lock() -> MutexGuard<'static, Runtimes> {
    // Every step leaves the list whole; a panic elsewhere does not spoil it.
    RUNTIMES.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The caller's runtime, registered with its watch the first time it is seen; `None` outside
/// a runtime.
pub(crate) fn current() -> Option<(Id, Handle)> {
    let handle = Handle::try_current().ok()?;
    let id = handle.id();
    let registration = {
        let mut runtimes = lock();
        if runtimes.live.iter().any(|live| live.id == id) {
            return Some((id, handle));
        }
        runtimes.registrations += 1;
        let registration = runtimes.registrations;
        runtimes.live.push(Live {
            id,
            handle: handle.clone(),
            registration,
            pools: Vec::new(),
        });
        registration
    };
    // Spawned outside the lock: a runtime already shutting down drops the task at once, and
    // with it the watch, whose drop takes the lock.
    handle.spawn(async move {
        let _watch = Watch { id, registration };
        std::future::pending::<()>().await;
    });
    Some((id, handle))
}

/// Dropped with its task, that is when its runtime shuts down.
struct Watch {
    id: Id,
    registration: u64,
}

impl Drop for Watch {
    fn drop(&mut self) {
        forget(self.id, Some(self.registration));
    }
}

/// Forgets a runtime that is ending (and the connections it drove); `registration` limits it
/// to that registration.
pub(crate) fn ended(id: Id) {
    forget(id, None);
}

fn forget(id: Id, registration: Option<u64>) {
    let gone = {
        let mut runtimes = lock();
        let position = runtimes
            .live
            .iter()
            .position(|live| live.id == id && registration.is_none_or(|r| r == live.registration));
        position.map(|at| runtimes.live.swap_remove(at))
    };
    // Pools and the handle are dropped outside the lock.
    drop(gone);
}

/// Whether `id` names a runtime seen sending that has not ended.
#[cfg(feature = "redis")]
pub(crate) fn is_live(id: Id) -> bool {
    lock().live.iter().any(|live| live.id == id)
}

/// The most recently registered runtime still alive, to host what the one that ended hosted.
pub(crate) fn newest() -> Option<(Id, Handle)> {
    lock()
        .live
        .iter()
        .max_by_key(|live| live.registration)
        .map(|live| (live.id, live.handle.clone()))
}

/// The connection pool of the caller's runtime for these settings, made on first use.
fn pool(settings: &PoolSettings) -> Result<reqwest::Client, TransportError> {
    let Some((id, _)) = current() else {
        return Err(TransportError::new(
            TransportErrorKind::Connect,
            "calls must run inside a tokio runtime",
        ));
    };
    let find = |runtimes: &Runtimes| {
        runtimes
            .live
            .iter()
            .find(|live| live.id == id)?
            .pools
            .iter()
            .find(|(made_with, _)| made_with == settings)
            .map(|(_, pool)| pool.clone())
    };
    if let Some(pool) = find(&lock()) {
        return Ok(pool);
    }
    // Made outside the lock: it reads the system's root certificates.
    let made = connection_pool(settings).map_err(|e| {
        TransportError::new(
            TransportErrorKind::Connect,
            format!("cannot create the HTTP client: {e}"),
        )
    })?;
    let mut runtimes = lock();
    if let Some(pool) = find(&runtimes) {
        return Ok(pool);
    }
    // A runtime that ended meanwhile keeps no pool; this call still gets one.
    if let Some(live) = runtimes.live.iter_mut().find(|live| live.id == id) {
        live.pools.push((settings.clone(), made.clone()));
    }
    Ok(made)
}

/// Whether this machine can make a connection pool (its root certificates load), checked once
/// per process so a client is refused when it is built, not at its first call.
pub(crate) fn check_connection_pool() -> Result<(), String> {
    static CHECKED: OnceLock<Result<(), String>> = OnceLock::new();
    CHECKED
        .get_or_init(|| {
            connection_pool(&PoolSettings {
                connect_timeout: Duration::from_secs(1),
                extra_roots: Arc::new([]),
            })
            .map(drop)
            .map_err(|e| e.to_string())
        })
        .clone()
}

/// A connection pool with the SDK's settings: rustls, no redirects, idle connections closed
/// early.
fn connection_pool(settings: &PoolSettings) -> Result<reqwest::Client, reqwest::Error> {
    pool_builder(settings)?.build()
}

/// The connection of one merchant's client-certificate calls (APIv2's `cert` operations):
/// the pool's settings, the whole-attempt limit, and the merchant's certificate with its key
/// presented to the server. Never shared with another merchant, so never in a runtime's pool.
///
/// Its connections belong to the runtime that opened them: a client whose certificate calls
/// move to another runtime after the first one ended opens new ones there.
pub(crate) fn client_certificate_connection(
    settings: &PoolSettings,
    request_timeout: Duration,
    identity: reqwest::Identity,
) -> Result<reqwest::Client, reqwest::Error> {
    pool_builder(settings)?
        .timeout(request_timeout)
        .identity(identity)
        .build()
}

fn pool_builder(settings: &PoolSettings) -> Result<reqwest::ClientBuilder, reqwest::Error> {
    let mut roots = Vec::with_capacity(settings.extra_roots.len());
    for der in settings.extra_roots.iter() {
        roots.push(reqwest::Certificate::from_der(der)?);
    }
    let mut builder = reqwest::Client::builder()
        .connect_timeout(settings.connect_timeout)
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        // APIv3 never redirects; a followed 3xx would re-send the signed request.
        .redirect(reqwest::redirect::Policy::none());
    if !roots.is_empty() {
        builder = builder.tls_certs_merge(roots);
    }
    Ok(builder)
}
