//! The platform certificates of one client, kept fresh: the first download when the ring has
//! no key, one download for an answer naming an unknown serial (shared by every concurrent
//! caller, and not repeated within the cooldown), the periodic refresh the scheduler runs,
//! and, in a fleet, what the instances share through Redis. Every download is verified
//! before it is installed (see [`crate::certificates`] for the trust rule), then saved to
//! the stores.

use std::sync::Arc;
#[cfg(feature = "redis")]
use std::time::Duration;

use http::{HeaderMap, StatusCode};

use crate::caller::Caller;
use crate::certificates::{self, CertificateError, CertificateList, DownloadCertificates};
use crate::clock::unix_now;
use crate::error::{DecodeError, Error, VerificationError};
#[cfg(feature = "redis")]
use crate::fleet::{DownloadLock, RedisFleet};
use crate::keyring::{KeyRing, StoreKind};
use crate::keys::{ApiV3Key, PlatformKeyKind, PlatformKeys};
use crate::policy::RefreshPolicy;
use crate::protocol;
use crate::store::CertificateStore;
#[cfg(feature = "redis")]
use crate::store::StoredCertificate;
use crate::transport::Connection;

/// Between two looks at the store while another instance downloads.
#[cfg(feature = "redis")]
const STORE_POLL: Duration = Duration::from_millis(50);

/// A client's key ring and what keeps it fresh.
pub(crate) struct Refresher {
    keyring: KeyRing,
    apiv3_key: Option<ApiV3Key>,
    policy: RefreshPolicy,
    /// How far an answer's timestamp may be from local time, in seconds.
    timestamp_tolerance: u64,
    store: Option<Arc<dyn CertificateStore>>,
    /// The Redis a fleet of instances shares certificates through.
    #[cfg(feature = "redis")]
    fleet: Option<RedisFleet>,
    /// Held for the whole of a download: concurrent triggers wait and then find the keys.
    download: tokio::sync::Mutex<()>,
}

impl Refresher {
    pub(crate) fn new(
        keyring: KeyRing,
        apiv3_key: Option<ApiV3Key>,
        policy: RefreshPolicy,
        timestamp_tolerance: u64,
    ) -> Self {
        Refresher {
            keyring,
            apiv3_key,
            policy,
            timestamp_tolerance,
            store: None,
            #[cfg(feature = "redis")]
            fleet: None,
            download: tokio::sync::Mutex::new(()),
        }
    }

    /// Shares certificates through `store`, reading what it holds now into the ring. A store
    /// that cannot be read is reported, not fatal: the client downloads what it needs.
    pub(crate) fn with_store(mut self, store: Option<Arc<dyn CertificateStore>>, now: i64) -> Self {
        if let Some(store) = &store {
            match store.load(self.mchid()) {
                Ok(stored) => {
                    self.keyring.adopt_stored(stored, StoreKind::Local, now);
                }
                Err(error) => self
                    .keyring
                    .record_store_unreadable(StoreKind::Local, &error),
            }
        }
        self.store = store;
        self
    }

    /// Shares certificates and downloads with the other instances of a fleet.
    #[cfg(feature = "redis")]
    pub(crate) fn with_fleet(mut self, fleet: Option<RedisFleet>) -> Self {
        self.fleet = fleet;
        self
    }

    pub(crate) fn keyring(&self) -> &KeyRing {
        &self.keyring
    }

    /// The keys as they are now.
    pub(crate) fn platform_keys(&self) -> Arc<PlatformKeys> {
        self.keyring.snapshot()
    }

    pub(crate) fn apiv3_key(&self) -> Option<&ApiV3Key> {
        self.apiv3_key.as_ref()
    }

    /// The background refresh period; `None` when it is off.
    pub(crate) fn interval(&self) -> Option<std::time::Duration> {
        self.policy.interval
    }

    /// The merchant the ring is for (the stores' key), as the key ring was set up.
    fn mchid(&self) -> &str {
        self.keyring.mchid()
    }

    /// Checks a platform signature over the raw `body` with the ring and the timestamp
    /// tolerance. An unknown serial triggers one certificate download (shared with every
    /// concurrent caller, and not repeated within the cooldown) before it is reported.
    pub(crate) async fn verify_signature(
        &self,
        caller: &Caller,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<(), VerificationError> {
        let verify = |keys: &PlatformKeys| {
            protocol::verify_signature(headers, body, keys, unix_now(), self.timestamp_tolerance)
                .map(|_| ())
        };
        match verify(&self.platform_keys()) {
            Err(VerificationError::UnknownSerial(serial)) if self.apiv3_key.is_some() => {
                self.refresh_for_unknown_serial(caller, &serial).await;
                verify(&self.platform_keys())
            }
            other => other,
        }
    }

    /// Downloads the platform certificates now and installs them, waiting for a download
    /// already under way instead of starting a second one.
    pub(crate) async fn refresh_now(&self, caller: &Caller) -> Result<(), Error> {
        let _download = self.download.lock().await;
        self.download_certificates(caller).await
    }

    /// Before a call: a ring that has no key yet gets its first download — at most once per
    /// cooldown, so a platform that keeps failing is not asked again by every call.
    pub(crate) async fn ready(&self, caller: &Caller) -> Result<(), Error> {
        if self.platform_keys().is_empty() {
            let _download = self.download.lock().await;
            if self.platform_keys().is_empty() {
                let cooldown = self.policy.unknown_serial_cooldown;
                if !self.keyring.may_download(cooldown) {
                    // No download now; what another instance stored may still be read.
                    #[cfg(feature = "redis")]
                    if self.fleet_adopt().await && !self.platform_keys().is_empty() {
                        return Ok(());
                    }
                    return Err(CertificateError::Cooldown { cooldown }.into());
                }
                #[cfg(feature = "redis")]
                let lock = match self.fleet_turn(&|keys| !keys.is_empty()).await {
                    Turn::Satisfied => return Ok(()),
                    Turn::Download(lock) => lock,
                };
                let result = self.download_certificates(caller).await;
                #[cfg(feature = "redis")]
                self.fleet_turn_done(lock).await;
                result?;
            }
        }
        Ok(())
    }

    async fn refresh_for_unknown_serial(&self, caller: &Caller, serial: &str) {
        let keyring = &self.keyring;
        let _download = self.download.lock().await;
        // Whoever held the lock before may have brought the key already.
        if self.platform_keys().get(serial).is_some() {
            return;
        }
        if !keyring.may_download(self.policy.unknown_serial_cooldown) {
            // No download (nor a wait for the fleet's) now, so a flood of made-up serials costs
            // nothing; what another instance stored may still be read.
            #[cfg(feature = "redis")]
            self.fleet_adopt().await;
            tracing::debug!(%serial, "unknown platform serial within the download cooldown");
            return;
        }
        #[cfg(feature = "redis")]
        let lock = match self.fleet_turn(&|keys| keys.get(serial).is_some()).await {
            Turn::Satisfied => return,
            Turn::Download(lock) => lock,
        };
        // Failures are recorded in the status; the caller reports the unknown serial.
        let _ = self.download_certificates(caller).await;
        #[cfg(feature = "redis")]
        self.fleet_turn_done(lock).await;
    }

    /// One download: the caller holds the download lock.
    async fn download_certificates(&self, caller: &Caller) -> Result<(), Error> {
        let keyring = &self.keyring;
        let result = self.download_certificates_unrecorded(caller).await;
        match &result {
            Ok(()) => keyring.record_success(),
            Err(error) => keyring.record_failure(error),
        }
        result
    }

    async fn download_certificates_unrecorded(&self, caller: &Caller) -> Result<(), Error> {
        let keyring = &self.keyring;
        let apiv3_key = self
            .apiv3_key
            .as_ref()
            .ok_or(Error::Certificates(CertificateError::NoApiV3Key))?;
        keyring.record_attempt();
        let request = caller.prepare(&DownloadCertificates::default(), &self.platform_keys())?;
        let response = caller
            .transport()
            .exchange_whole(request, Connection::Plain)
            .await?;
        let trusted = self.platform_keys();
        let now = unix_now();
        let has_public_key = trusted
            .iter()
            .any(|key| key.kind() == PlatformKeyKind::PublicKey);
        if response.status() == StatusCode::NOT_FOUND && has_public_key {
            // A public-key merchant: the platform has no certificates for it.
            return Ok(());
        }
        if !response.status().is_success() {
            let verification = protocol::verify_signature(
                response.headers(),
                response.body(),
                &trusted,
                now,
                self.timestamp_tolerance,
            )
            .map(|_| ());
            return protocol::interpret_response(response, verification, |_| Ok(())).map(|_| ());
        }
        let list: CertificateList = serde_json::from_slice(response.body()).map_err(|source| {
            Error::Decode(Box::new(DecodeError::new(
                response.status(),
                None,
                response.body().clone(),
                &source,
            )))
        })?;
        let downloaded =
            certificates::decrypt_certificates(&list, apiv3_key, caller.backend(), now)?;
        certificates::verify_download(
            response.headers(),
            response.body(),
            &trusted,
            &downloaded,
            now,
            self.timestamp_tolerance,
        )?;
        let stored = keyring.install(downloaded, now)?;
        if let Some(store) = &self.store {
            keyring.record_store_result(StoreKind::Local, store.save(self.mchid(), &stored));
        }
        #[cfg(feature = "redis")]
        self.fleet_save(&stored).await;
        Ok(())
    }

    /// The periodic refresh the scheduler runs: certificate merchants only. In a fleet one
    /// instance per period downloads; the others read what it stored.
    pub(crate) async fn scheduled_refresh(&self, caller: &Caller) {
        let uses_certificates = self
            .platform_keys()
            .iter()
            .any(|key| matches!(key.kind(), PlatformKeyKind::Certificate { .. }));
        if !uses_certificates {
            return;
        }
        // The turn lasts a little less than the shortest jittered interval, so each instance's
        // next timer finds it over and one instance per interval downloads.
        #[cfg(feature = "redis")]
        if let Some(interval) = self.policy.interval
            && !self
                .fleet_takes_refresh(
                    Duration::try_from_secs_f64(interval.as_secs_f64() * 0.8).unwrap_or(interval),
                )
                .await
        {
            return;
        }
        // Failures are recorded in the status and logged.
        let _ = self.refresh_now(caller).await;
    }
}

/// What an instance does about keys its ring lacks, in a fleet.
#[cfg(feature = "redis")]
enum Turn {
    /// The shared store had them: nothing to download.
    Satisfied,
    /// Download them, holding the fleet's lock if there is one (release it after).
    Download(Option<DownloadLock>),
}

#[cfg(feature = "redis")]
impl Refresher {
    /// Before a download of what `wanted` looks for: with a fleet, first the shared store,
    /// then the fleet's lock: its holder downloads, the others wait a bounded time for what
    /// it stores, then download themselves (a lock holder that died never blocks a call, nor
    /// does a Redis that is down). The caller holds the ring's own download lock.
    async fn fleet_turn(&self, wanted: &(dyn Fn(&PlatformKeys) -> bool + Sync)) -> Turn {
        let Some(fleet) = &self.fleet else {
            return Turn::Download(None);
        };
        let mchid = self.mchid();
        if self.adopt_shared(fleet).await && wanted(&self.platform_keys()) {
            return Turn::Satisfied;
        }
        match fleet.lock_download(mchid).await {
            Ok(Some(lock)) => {
                // The last holder may have stored them between our look and our lock.
                if self.adopt_shared(fleet).await && wanted(&self.platform_keys()) {
                    fleet.unlock_download(lock).await;
                    return Turn::Satisfied;
                }
                Turn::Download(Some(lock))
            }
            Ok(None) => {
                let deadline = tokio::time::Instant::now() + fleet.lock_wait();
                while tokio::time::Instant::now() < deadline {
                    tokio::time::sleep(STORE_POLL).await;
                    if self.adopt_shared(fleet).await && wanted(&self.platform_keys()) {
                        return Turn::Satisfied;
                    }
                }
                tracing::warn!(%mchid, "no certificates from the instance holding the download lock in time; downloading");
                Turn::Download(None)
            }
            Err(error) => {
                tracing::warn!(%error, "Redis unavailable for the download lock; downloading");
                Turn::Download(None)
            }
        }
    }

    /// After the download a [`Turn::Download`] asked for.
    async fn fleet_turn_done(&self, turn_lock: Option<DownloadLock>) {
        if let (Some(fleet), Some(lock)) = (&self.fleet, turn_lock) {
            fleet.unlock_download(lock).await;
        }
    }

    /// Reads the fleet's store into the ring, if there is a fleet; whether anything joined.
    async fn fleet_adopt(&self) -> bool {
        match &self.fleet {
            Some(fleet) => self.adopt_shared(fleet).await,
            None => false,
        }
    }

    /// Adds what the shared store holds (checked like any store's entries) to the ring;
    /// whether anything joined.
    async fn adopt_shared(&self, fleet: &RedisFleet) -> bool {
        let keyring = &self.keyring;
        match fleet.load_certificates(self.mchid()).await {
            Ok(stored) => keyring.adopt_stored(stored, StoreKind::Shared, unix_now()) > 0,
            Err(error) => {
                keyring.record_store_unreadable(StoreKind::Shared, &error);
                false
            }
        }
    }

    /// Shares what a download installed.
    async fn fleet_save(&self, stored: &[StoredCertificate]) {
        if let Some(fleet) = &self.fleet {
            let result = fleet.save_certificates(self.mchid(), stored).await;
            self.keyring.record_store_result(StoreKind::Shared, result);
        }
    }

    /// The periodic refresh's turn: `true` when this instance downloads for the fleet this
    /// period (or there is no fleet, or Redis is down); `false` when another one does, and
    /// this one has read the store instead.
    async fn fleet_takes_refresh(&self, period: Duration) -> bool {
        let Some(fleet) = &self.fleet else {
            return true;
        };
        match fleet.take_refresh(self.mchid(), period).await {
            Ok(true) => true,
            Ok(false) => {
                let _download = self.download.lock().await;
                self.adopt_shared(fleet).await;
                false
            }
            Err(error) => {
                tracing::warn!(%error, "Redis unavailable for the refresh turn; refreshing");
                true
            }
        }
    }
}
