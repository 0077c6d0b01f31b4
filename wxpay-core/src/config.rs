//! Building a [`Client`]: settings from code or from `WXPAY_*` variables, all validated at
//! once so a wrong setting is a configuration error at start-up, not a surprise at the first
//! payment.

use std::borrow::Cow;
use std::time::Duration;

use http::Uri;
use zeroize::Zeroizing;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::apiv2::SignType;
use crate::caller::{ApiV2Signer, Caller, Merchant};
use crate::client::Client;
use crate::clock::unix_now;
use crate::crypto::CryptoBackend;
use crate::error::{ConfigError, Error};
#[cfg(feature = "redis")]
use crate::fleet::RedisFleet;
use crate::host::{Host, HostUrls};
use crate::keyring::{KeyRing, KeyRingSetup};
use crate::keys::{ApiV2Key, ApiV3Key, MerchantKey, PlatformKey, PlatformKeyKind, PlatformKeys};
use crate::pem;
use crate::policy::{DownloadLimits, RefreshPolicy};
use crate::refresh::Refresher;
use crate::retry::RetryPolicy;
use crate::runtimes::{self, Http, PoolSettings};
use crate::seal::StoreSeal;
use crate::store::CertificateStore;
use crate::transport::Transport;
use crate::wire::DEFAULT_TIMESTAMP_TOLERANCE;

/// The official API host ([`Host::Api`]'s default base URL).
pub const DEFAULT_BASE_URL: &str = Host::Api.default_base_url();
/// The backup host, for [`ClientBuilder::backup_host_failover`].
pub const BACKUP_BASE_URL: &str = match Host::Api.default_backup_url() {
    Some(url) => url,
    None => "",
};

const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_MAX_RESPONSE_BODY: usize = 4 << 20;

/// A setting and the name to blame when it is wrong: the builder method, or the environment
/// variable it came from.
#[derive(Clone)]
struct Setting<T> {
    name: Cow<'static, str>,
    value: T,
}

fn setting<T>(name: impl Into<Cow<'static, str>>, value: T) -> Setting<T> {
    Setting {
        name: name.into(),
        value,
    }
}

/// Settings for a [`Client`]. Nothing is checked until [`ClientBuilder::build`], which checks
/// everything and names the offending setting in its error.
///
/// ```
/// # fn pem() -> &'static str { "" }
/// let result = wxpay_core::Client::builder()
///     .mchid("1230000109")
///     .merchant_key("0A3C5E7F9B1D2F4A6C8E0B2D4F6A8C0E2B4D6F81", pem())
///     .platform_public_key("PUB_KEY_ID_0112300001092025110100000000", pem())
///     .build();
/// // An empty PEM is a configuration error naming the setting, not a panic.
/// assert!(result.unwrap_err().to_string().starts_with("merchant_key"));
/// ```
#[derive(Default)]
pub struct ClientBuilder {
    mchid: Option<Setting<String>>,
    merchant_serial: Option<Setting<String>>,
    merchant_key_pem: Option<Setting<Zeroizing<String>>>,
    platform_certificates: Vec<Setting<String>>,
    platform_public_key: Option<(Setting<String>, Setting<String>)>,
    apiv3_key: Option<Setting<Zeroizing<String>>>,
    base_url: Option<Setting<String>>,
    host_base_urls: Vec<(Host, Setting<String>)>,
    backend: CryptoBackend,
    timestamp_tolerance: Option<Duration>,
    certificate_refresh_interval: Option<Duration>,
    unknown_serial_cooldown: Option<Duration>,
    certificate_store: Option<Arc<dyn CertificateStore>>,
    retry: RetryPolicy,
    backup_host_failover: bool,
    backup_base_url: Option<Setting<String>>,
    max_response_body: Option<usize>,
    connect_timeout: Option<Duration>,
    request_timeout: Option<Duration>,
    downloads: DownloadLimits,
    http: Option<reqwest::Client>,
    apiv2_key: Option<ApiV2Key>,
    apiv2_sign_type: Option<SignType>,
    merchant_certificate: Option<Setting<String>>,
    root_certificates: Vec<Setting<String>>,
    #[cfg(feature = "redis")]
    fleet: Option<RedisFleet>,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("mchid", &self.mchid.as_ref().map(|s| &s.value))
            .field(
                "merchant_serial",
                &self.merchant_serial.as_ref().map(|s| &s.value),
            )
            .field(
                "merchant_key",
                &self.merchant_key_pem.as_ref().map(|_| "<redacted>"),
            )
            .field("platform_certificates", &self.platform_certificates.len())
            .field(
                "platform_public_key_id",
                &self.platform_public_key.as_ref().map(|(id, _)| &id.value),
            )
            .field("apiv3_key", &self.apiv3_key.as_ref().map(|_| "<redacted>"))
            .field("base_url", &self.base_url.as_ref().map(|s| &s.value))
            .field(
                "host_base_urls",
                &self
                    .host_base_urls
                    .iter()
                    .map(|(host, url)| (host.key(), &url.value))
                    .collect::<Vec<_>>(),
            )
            .field("backend", &self.backend)
            .field("apiv2_key", &self.apiv2_key.as_ref().map(|_| "<redacted>"))
            .field("apiv2_sign_type", &self.apiv2_sign_type)
            .field("merchant_certificate", &self.merchant_certificate.is_some())
            .field("root_certificates", &self.root_certificates.len())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A builder: set the merchant number, keys and options, then [`ClientBuilder::build`].
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client configured from `WXPAY_*` environment variables; see
    /// [`ClientBuilder::from_env`] for the list.
    pub fn from_env() -> Result<Client, Error> {
        Ok(ClientBuilder::from_env()?.build()?)
    }
}

impl ClientBuilder {
    /// The merchant number (`mchid`), digits.
    pub fn mchid(mut self, mchid: impl Into<String>) -> Self {
        self.mchid = Some(setting("mchid", mchid.into()));
        self
    }

    /// The merchant API key: the serial of the merchant API certificate (hex) and the private
    /// key PEM (`apiclient_key.pem`, PKCS#8 or PKCS#1).
    pub fn merchant_key(
        mut self,
        serial: impl Into<String>,
        private_key_pem: impl Into<String>,
    ) -> Self {
        self.merchant_serial = Some(setting("merchant_key", serial.into()));
        self.merchant_key_pem = Some(setting(
            "merchant_key",
            Zeroizing::new(private_key_pem.into()),
        ));
        self
    }

    /// A platform certificate (`wechatpay_….pem`); call once per certificate.
    pub fn platform_certificate(mut self, certificate_pem: impl Into<String>) -> Self {
        self.platform_certificates
            .push(setting("platform_certificate", certificate_pem.into()));
        self
    }

    /// The WeChat Pay public key (`pub_key.pem`) and its id (`PUB_KEY_ID_…`). Merchants created
    /// since late 2024 have only this; merchants migrating may set it beside certificates.
    pub fn platform_public_key(
        mut self,
        id: impl Into<String>,
        public_key_pem: impl Into<String>,
    ) -> Self {
        self.platform_public_key = Some((
            setting("platform_public_key", id.into()),
            setting("platform_public_key", public_key_pem.into()),
        ));
        self
    }

    /// The 32-character APIv3 key (for certificate downloads and notifications).
    pub fn apiv3_key(mut self, key: impl Into<String>) -> Self {
        self.apiv3_key = Some(setting("apiv3_key", Zeroizing::new(key.into())));
        self
    }

    /// The APIv2 key (32 letters and digits, set in the merchant platform), for APIv2
    /// endpoints (`#[endpoint(v2 …)]`) and APIv2 notifications. Without it, an APIv2 call is
    /// [`ConfigError::Missing`] `apiv2_key`, before anything is sent.
    ///
    /// ```no_run
    /// # fn run(builder: wxpay_core::ClientBuilder) -> Result<(), Box<dyn std::error::Error>> {
    /// use wxpay_core::ApiV2Key;
    /// let client = builder.apiv2_key(ApiV2Key::new(&std::env::var("MY_APIV2_KEY")?)?).build()?;
    /// # let _ = client; Ok(()) }
    /// ```
    pub fn apiv2_key(mut self, key: ApiV2Key) -> Self {
        self.apiv2_key = Some(key);
        self
    }

    /// The sign type of APIv2 requests to operations that take either (`sign_type = either`):
    /// HMAC-SHA256 by default. Operations that take one type only are signed with it; the
    /// answer must come in the type the request was signed with.
    pub fn apiv2_sign_type(mut self, sign_type: SignType) -> Self {
        self.apiv2_sign_type = Some(sign_type);
        self
    }

    /// The merchant's API client certificate (`apiclient_cert.pem`, PEM), presented on the
    /// TLS connection of the APIv2 operations that require it (declared `cert`: red packets,
    /// refunds, transfers, …) and of no other call. Its private key is the merchant key
    /// ([`ClientBuilder::merchant_key`], `apiclient_key.pem`, needed for it even by a merchant
    /// that speaks only APIv2): a certificate of another key is a configuration error. The
    /// `.p12` the platform ships beside the PEM files is not read here (rustls reads no
    /// PKCS#12): give `apiclient_cert.pem`, or convert with
    /// `openssl pkcs12 -legacy -in apiclient_cert.p12 -passin pass:<mchid> -clcerts -nokeys`.
    ///
    /// Those calls go on a connection of this client's own, never one another merchant's
    /// calls share, with the same time limits and redirect refusal as every call (and the
    /// [`root_certificate`](Self::root_certificate)s, not those of an
    /// [`http_client`](Self::http_client), which cannot carry a certificate). Without it, a
    /// `cert` call is [`ConfigError::Missing`] `merchant_certificate`, before anything is sent.
    pub fn merchant_certificate(mut self, certificate_pem: impl Into<String>) -> Self {
        self.merchant_certificate = Some(setting("merchant_certificate", certificate_pem.into()));
        self
    }

    /// Trusts this certificate authority (PEM) beside the system's, for every connection the
    /// client makes (not an [`http_client`](Self::http_client)'s): a sandbox's TEST CA, or a
    /// company proxy's. Call once per authority.
    pub fn root_certificate(mut self, certificate_pem: impl Into<String>) -> Self {
        self.root_certificates
            .push(setting("root_certificate", certificate_pem.into()));
        self
    }

    /// One base URL (scheme and host) for every [`Host`]: a sandbox or a proxy, which serves
    /// them all. By default each host has the platform's own
    /// ([`Host::default_base_url`]); [`ClientBuilder::host_base_url`] sets one host's.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(setting("base_url", url.into()));
        self
    }

    /// The base URL of one host, over [`ClientBuilder::base_url`]: e.g. a proxy for the
    /// cross-border operations only.
    ///
    /// ```no_run
    /// # fn run(builder: wxpay_core::ClientBuilder) -> Result<(), wxpay_core::Error> {
    /// use wxpay_core::Host;
    /// let client = builder
    ///     .host_base_url(Host::Apihk, "https://apihk-proxy.internal.example")
    ///     .build()?;
    /// assert_eq!(client.base_url(Host::Apihk), "https://apihk-proxy.internal.example");
    /// # Ok(()) }
    /// ```
    pub fn host_base_url(mut self, host: Host, url: impl Into<String>) -> Self {
        let name = format!("host_base_url({})", host.key());
        self.host_base_urls.retain(|(set, _)| *set != host);
        self.host_base_urls.push((host, setting(name, url.into())));
        self
    }

    /// Which crypto backend parses the keys and does the RSA work; see [`CryptoBackend`].
    pub fn crypto_backend(mut self, backend: CryptoBackend) -> Self {
        self.backend = backend;
        self
    }

    /// How far an answer's `Wechatpay-Timestamp` may be from local time; default 300 s.
    pub fn timestamp_tolerance(mut self, tolerance: Duration) -> Self {
        self.timestamp_tolerance = Some(tolerance);
        self
    }

    /// How often platform certificates are downloaded in the background (default 12 hours,
    /// ±10 % jitter); `Duration::ZERO` turns the background refresh off. Only merchants with
    /// certificates and an APIv3 key refresh.
    pub fn certificate_refresh_interval(mut self, interval: Duration) -> Self {
        self.certificate_refresh_interval = Some(interval);
        self
    }

    /// The least time between two certificate downloads triggered by answers naming an
    /// unknown serial (default 30 s), so a flood of unknown serials costs one download.
    pub fn unknown_serial_cooldown(mut self, cooldown: Duration) -> Self {
        self.unknown_serial_cooldown = Some(cooldown);
        self
    }

    /// Where downloaded certificates are shared with other processes; read when the client is
    /// built, written after every download. See [`DirectoryStore`](crate::DirectoryStore).
    ///
    /// Only entries whose integrity tag verifies with the APIv3 key are used (so without
    /// [`ClientBuilder::apiv3_key`] the store is ignored), and never in place of a configured
    /// key; the rest are listed in [`PlatformKeyStatus::warnings`](crate::PlatformKeyStatus).
    pub fn certificate_store(mut self, store: impl CertificateStore) -> Self {
        self.certificate_store = Some(Arc::new(store));
        self
    }

    /// How failed calls are retried; see [`RetryPolicy`] for the defaults and for which calls
    /// are ever retried. `RetryPolicy::never()` turns retries off.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// When a host cannot be reached at all, try its backup: `api2.wechatpay.cn` for
    /// [`Host::Api`] (off by default; the User-Agent then says `failover`). Only for a host on
    /// its default base URL, and only where the platform has a backup
    /// ([`Host::default_backup_url`]).
    pub fn backup_host_failover(mut self, on: bool) -> Self {
        self.backup_host_failover = on;
        self
    }

    /// Fails over to this base URL instead (a proxy pair, or a test); turns failover on for
    /// [`Host::Api`] and every host sent to the same base URL.
    pub fn backup_base_url(mut self, url: impl Into<String>) -> Self {
        self.backup_base_url = Some(setting("backup_base_url", url.into()));
        self
    }

    /// The largest answer body read into memory (default 4 MiB); a larger one is a
    /// [`TransportErrorKind::TooLarge`](crate::TransportErrorKind) error, not an
    /// out-of-memory.
    pub fn max_response_body(mut self, bytes: usize) -> Self {
        self.max_response_body = Some(bytes);
        self
    }

    /// Time limits: to connect (default 5 s) and for a whole attempt (default 30 s). Ignored
    /// with [`ClientBuilder::http_client`], whose own settings apply. Clients with the same
    /// connect limit share their runtime's connection pool (see [`Client`](crate::Client)).
    pub fn timeouts(mut self, connect: Duration, request: Duration) -> Self {
        self.connect_timeout = Some(connect);
        self.request_timeout = Some(request);
        self
    }

    /// Time limits of [`Client::download`](crate::Client::download), which the per-call
    /// timeout of [`ClientBuilder::timeouts`] does not cap (a genuine bill on a slow link
    /// takes minutes): `idle`, the longest wait for the next byte (default 30 s, error
    /// [`DownloadError::Stalled`](crate::DownloadError::Stalled)), and `overall`, the longest
    /// whole download (default 1 hour; `None`: none; error
    /// [`DownloadError::TimedOut`](crate::DownloadError::TimedOut)).
    pub fn download_timeouts(mut self, idle: Duration, overall: Option<Duration>) -> Self {
        self.downloads.idle = idle;
        self.downloads.overall = overall;
        self
    }

    /// Size limits of [`Client::download`](crate::Client::download): the most bytes written
    /// after decompression (default 4 GiB, some 16 million bill rows; error
    /// [`DownloadError::TooLarge`](crate::DownloadError::TooLarge)) and, for GZIP, the
    /// largest ratio of decompressed to received bytes (default 100; bill CSV compresses
    /// 4–20:1, a GZIP bomb about 1000:1; judged once 1 MiB is written; error
    /// [`DownloadError::CompressionRatio`](crate::DownloadError::CompressionRatio)).
    pub fn download_limits(mut self, max_bytes: u64, max_compression_ratio: u64) -> Self {
        self.downloads.max_bytes = max_bytes;
        self.downloads.max_ratio = max_compression_ratio;
        self
    }

    /// The reqwest client to send with (for proxies or custom TLS roots). The default one uses
    /// rustls and the platform's certificate store.
    ///
    /// Build it with `redirect(reqwest::redirect::Policy::none())`: APIv3 never redirects, and
    /// a client that follows a 3xx re-sends the signed request (body and `Authorization`)
    /// before this SDK sees the answer. A followed redirect is still refused when it is
    /// noticed (the answer's URL is not the request's), but by then it has been sent.
    ///
    /// APIv2 operations that need the merchant's client certificate do not go through it (a
    /// built reqwest client cannot take a certificate): see
    /// [`merchant_certificate`](Self::merchant_certificate).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Shares platform certificates with the other instances of a fleet through Redis (feature
    /// `redis`); see [`RedisFleet`].
    ///
    /// When the ring lacks a key (at the first call, or when an answer names an unknown
    /// serial) the client first reads what the fleet stored, checked like a
    /// [`certificate_store`](Self::certificate_store)'s entries (tag under the APIv3 key;
    /// ignored entries in [`PlatformKeyStatus::warnings`](crate::PlatformKeyStatus)); then the
    /// instance that takes a short lock in Redis downloads and stores, while the others wait
    /// briefly for it and then download themselves. The periodic refresh is taken by one
    /// instance per interval; the others read what it stored. Redis being down only means each instance downloads for
    /// itself.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let fleet = wxpay_core::RedisFleet::open("redis://127.0.0.1:6379/0")?;
    /// let client = wxpay_core::ClientBuilder::from_env()?.fleet(fleet).build()?;
    /// # let _ = client; Ok(()) }
    /// ```
    #[cfg(feature = "redis")]
    pub fn fleet(mut self, fleet: RedisFleet) -> Self {
        self.fleet = Some(fleet);
        self
    }

    /// Settings from the environment:
    ///
    /// | variable | meaning |
    /// |---|---|
    /// | `WXPAY_MCHID` | merchant number |
    /// | `WXPAY_MERCHANT_SERIAL` | merchant API certificate serial (optional with `WXPAY_MERCHANT_CERT`: read from it) |
    /// | `WXPAY_MERCHANT_KEY` | the merchant private key `apiclient_key.pem`: PEM text, or the path to the PEM file |
    /// | `WXPAY_PLATFORM_PUBLIC_KEY` + `WXPAY_PLATFORM_PUBLIC_KEY_ID` | the WeChat Pay public key (PEM text or path), and its id |
    /// | `WXPAY_PLATFORM_CERT` | platform certificates: PEM text (one or more blocks), or paths, comma-separated |
    /// | `WXPAY_APIV3_KEY` | the APIv3 key (optional) |
    /// | `WXPAY_APIV2_KEY` | the APIv2 key, for APIv2 calls and notifications (optional) |
    /// | `WXPAY_MERCHANT_CERT` | the merchant's API client certificate `apiclient_cert.pem` (PEM text or path; its key is `WXPAY_MERCHANT_KEY`), for APIv2's `cert` operations (optional) |
    /// | `WXPAY_BASE_URL` | one base URL for every host (optional; a sandbox) |
    /// | `WXPAY_BASE_URL_<KEY>` | the base URL of one [`Host`], e.g. `WXPAY_BASE_URL_APIHK` (optional) |
    ///
    /// A merchant that holds only an APIv2 key sets `WXPAY_MCHID` and `WXPAY_APIV2_KEY`, plus
    /// `WXPAY_MERCHANT_CERT` and `WXPAY_MERCHANT_KEY` for the operations that need the client
    /// certificate; its client speaks APIv2 only (see [`ClientBuilder::build`]).
    ///
    /// A key variable whose value starts with `-----BEGIN` is the PEM itself (as secret
    /// managers hand it out; newlines may be written `\n`); any other value is a path. A
    /// missing, unreadable or malformed setting is an error naming the variable, never quoting
    /// its value or the path: either may be the key.
    pub fn from_env() -> Result<ClientBuilder, ConfigError> {
        Self::from_vars(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    /// [`ClientBuilder::from_env`] over `WXPAY_*` pairs given in code (other names are
    /// ignored): for example the settings a local sandbox hands out, so one call configures a
    /// client for it.
    ///
    /// ```no_run
    /// # fn run(settings: Vec<(String, String)>) -> Result<(), wxpay_core::Error> {
    /// // e.g. `wxpay_sandbox::Sandbox::settings()`
    /// let client = wxpay_core::ClientBuilder::from_settings(settings)?.build()?;
    /// # let _ = client;
    /// # Ok(()) }
    /// ```
    pub fn from_settings<K, V>(
        settings: impl IntoIterator<Item = (K, V)>,
    ) -> Result<ClientBuilder, ConfigError>
    where
        K: AsRef<str>,
        V: Into<String>,
    {
        // Values may be the private key itself: wiped when done.
        let settings: std::collections::HashMap<String, Zeroizing<String>> = settings
            .into_iter()
            .map(|(name, value)| (name.as_ref().to_owned(), Zeroizing::new(value.into())))
            .filter(|(_, value)| !value.is_empty())
            .collect();
        Self::from_vars(|name| settings.get(name).map(|value| value.to_string()))
    }

    /// [`ClientBuilder::from_env`] over any variable source (tests use a map).
    fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<ClientBuilder, ConfigError> {
        let required = |name: &'static str| var(name).ok_or_else(|| missing(name));
        let mchid = setting("WXPAY_MCHID", required("WXPAY_MCHID")?);
        let apiv2_key = match var("WXPAY_APIV2_KEY") {
            Some(key) => Some(ApiV2Key::new(&key).map_err(|source| ConfigError::Key {
                setting: "WXPAY_APIV2_KEY".into(),
                source,
            })?),
            None => None,
        };
        let merchant_certificate = match var("WXPAY_MERCHANT_CERT") {
            Some(value) => Some(setting(
                "WXPAY_MERCHANT_CERT",
                certificate_setting("WXPAY_MERCHANT_CERT", &value)?.to_string(),
            )),
            None => None,
        };
        // The merchant key signs APIv3 and holds the client certificate's TLS connection; a
        // merchant with only an APIv2 key (and no certificate) leaves it out.
        let serial = var("WXPAY_MERCHANT_SERIAL");
        let merchant_key_pem = match var("WXPAY_MERCHANT_KEY") {
            Some(value) => Some(setting(
                "WXPAY_MERCHANT_KEY",
                key_setting("WXPAY_MERCHANT_KEY", &value)?,
            )),
            None if apiv2_key.is_some() && merchant_certificate.is_none() && serial.is_none() => {
                None
            }
            None => return Err(missing("WXPAY_MERCHANT_KEY")),
        };
        // The serial is the API certificate's: read from it when it is given and the serial not.
        let merchant_serial = match (serial, &merchant_certificate) {
            _ if merchant_key_pem.is_none() => None,
            (Some(serial), _) => Some(setting("WXPAY_MERCHANT_SERIAL", serial)),
            (None, Some(certificate)) => Some(setting(
                "WXPAY_MERCHANT_CERT",
                certificate_serial(&certificate.value).map_err(|source| ConfigError::Key {
                    setting: "WXPAY_MERCHANT_CERT".into(),
                    source,
                })?,
            )),
            (None, None) => return Err(missing("WXPAY_MERCHANT_SERIAL")),
        };

        let platform_public_key = match (
            var("WXPAY_PLATFORM_PUBLIC_KEY"),
            var("WXPAY_PLATFORM_PUBLIC_KEY_ID"),
        ) {
            (Some(value), Some(id)) => Some((
                setting("WXPAY_PLATFORM_PUBLIC_KEY_ID", id),
                setting(
                    "WXPAY_PLATFORM_PUBLIC_KEY",
                    key_setting("WXPAY_PLATFORM_PUBLIC_KEY", &value)?.to_string(),
                ),
            )),
            (Some(_), None) => return Err(missing("WXPAY_PLATFORM_PUBLIC_KEY_ID")),
            (None, Some(_)) => return Err(missing("WXPAY_PLATFORM_PUBLIC_KEY")),
            (None, None) => None,
        };
        let mut platform_certificates = Vec::new();
        if let Some(value) = var("WXPAY_PLATFORM_CERT") {
            let pems = if is_inline_pem(&value) {
                // Several certificates inline are several PEM blocks, one after the other.
                let text = key_setting("WXPAY_PLATFORM_CERT", &value)?;
                pem_blocks(&text).into_iter().map(str::to_owned).collect()
            } else {
                let mut pems = Vec::new();
                for path in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                    pems.push(key_setting("WXPAY_PLATFORM_CERT", path)?.to_string());
                }
                pems
            };
            for pem in pems {
                platform_certificates.push(setting("WXPAY_PLATFORM_CERT", pem));
            }
        }
        Ok(ClientBuilder {
            mchid: Some(mchid),
            apiv2_key,
            merchant_certificate,
            merchant_serial,
            merchant_key_pem,
            platform_certificates,
            platform_public_key,
            apiv3_key: var("WXPAY_APIV3_KEY")
                .map(|k| setting("WXPAY_APIV3_KEY", Zeroizing::new(k))),
            base_url: var("WXPAY_BASE_URL").map(|u| setting("WXPAY_BASE_URL", u)),
            host_base_urls: Host::ALL
                .into_iter()
                .filter_map(|host| {
                    let name = format!("WXPAY_BASE_URL_{}", host.key().to_ascii_uppercase());
                    var(&name).map(|url| (host, setting(name, url)))
                })
                .collect(),
            ..ClientBuilder::default()
        })
    }

    /// Checks every setting and builds the client.
    ///
    /// APIv3 needs the merchant key ([`merchant_key`](Self::merchant_key)) and a way to verify
    /// answers (a platform key, or the APIv3 key to download certificates). A merchant that
    /// holds only an APIv2 key ([`apiv2_key`](Self::apiv2_key)) may leave those out: its
    /// client sends APIv2 endpoints and reads APIv2 notifications, and every APIv3 call,
    /// download, notification and [`Client::merchant_key`] is
    /// [`ConfigError::ApiV3NotConfigured`] (nothing sent, no panic).
    ///
    /// ```
    /// use wxpay_core::{ApiV2Key, Client, ConfigError};
    /// let client = Client::builder()
    ///     .mchid("1230000109")
    ///     .apiv2_key(ApiV2Key::new("TESTapiv2key0123456789ABCDEFGHIJ")?)
    ///     .build()?;
    /// assert!(matches!(
    ///     client.merchant_key(),
    ///     Err(ConfigError::ApiV3NotConfigured { .. })
    /// ));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn build(self) -> Result<Client, ConfigError> {
        let backend = self.backend;

        let mchid = self.mchid.ok_or_else(|| missing("mchid"))?;
        if mchid.value.is_empty() || !mchid.value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid(mchid.name, "a merchant number is digits only"));
        }

        // A merchant that holds only an APIv2 key needs no merchant key: its client speaks
        // APIv2, and APIv3 calls fail with a configuration error before anything is sent.
        let has_apiv2_key = self.apiv2_key.is_some();
        let key_pem = match (self.merchant_serial, self.merchant_key_pem) {
            (Some(serial), Some(pem)) => Some((serial, pem)),
            _ if has_apiv2_key => None,
            _ => return Err(missing("merchant_key")),
        };
        let merchant_key = match &key_pem {
            Some((serial, pem)) => Some(
                MerchantKey::from_pem_with(serial.value.clone(), &pem.value, backend).map_err(
                    |source| ConfigError::Key {
                        setting: pem.name.clone(),
                        source,
                    },
                )?,
            ),
            None => None,
        };
        let merchant_serial = merchant_key.as_ref().map(MerchantKey::serial);

        let now = unix_now();
        let mut platform_keys = PlatformKeys::new();
        let mut configured_pems = BTreeMap::new();
        for certificate in self.platform_certificates {
            let key = PlatformKey::from_certificate_pem_with(&certificate.value, backend).map_err(
                |source| ConfigError::Key {
                    setting: certificate.name.clone(),
                    source,
                },
            )?;
            if let Some(serial) = merchant_serial {
                check_not_merchant(&key, serial, &certificate.name)?;
            }
            check_not_expired(&key, now, &certificate.name)?;
            configured_pems.insert(key.id().to_owned(), certificate.value);
            platform_keys.insert(key);
        }
        if let Some((id, pem)) = self.platform_public_key {
            let serial = id.value.strip_prefix("PUB_KEY_ID_").unwrap_or_default();
            if serial.is_empty()
                || serial.len() > 64
                || !serial.bytes().all(|b| b.is_ascii_alphanumeric())
            {
                return Err(invalid(
                    id.name,
                    "a WeChat Pay public key id looks like PUB_KEY_ID_0112…",
                ));
            }
            let key = PlatformKey::from_public_key_pem_with(id.value, &pem.value, backend)
                .map_err(|source| ConfigError::Key {
                    setting: pem.name,
                    source,
                })?;
            platform_keys.insert(key);
        }
        let apiv3_key = match self.apiv3_key {
            Some(key) => Some(
                ApiV3Key::new(&key.value).map_err(|source| ConfigError::Key {
                    setting: key.name,
                    source,
                })?,
            ),
            None => None,
        };
        let seal =
            match &apiv3_key {
                Some(key) => Some(StoreSeal::new(key, backend).map_err(|e| {
                    invalid("apiv3_key", &format!("cannot derive the store key: {e}"))
                })?),
                None => None,
            };
        // With the APIv3 key the certificates can be downloaded; without it a key is needed now
        // (unless the merchant speaks only APIv2).
        const VERIFYING_KEY: &str = "platform_public_key, platform_certificate or apiv3_key";
        let apiv3_missing = if merchant_key.is_none() {
            Some("merchant_key")
        } else if platform_keys.is_empty() && apiv3_key.is_none() {
            if !has_apiv2_key {
                return Err(missing(VERIFYING_KEY));
            }
            Some(VERIFYING_KEY)
        } else {
            None
        };

        let hosts = host_urls(
            self.base_url,
            self.host_base_urls,
            self.backup_base_url,
            self.backup_host_failover,
        )?;

        // By default each call takes the connection pool of the runtime it runs in, shared by
        // every client there (see runtimes.rs).
        let mut extra_roots = Vec::new();
        for root in &self.root_certificates {
            let der = pem::certificate_der(&root.value).map_err(|source| ConfigError::Key {
                setting: root.name.clone(),
                source,
            })?;
            extra_roots.push(der.to_vec());
        }
        let pool = PoolSettings {
            connect_timeout: self.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT),
            extra_roots: extra_roots.into(),
        };
        let client_certificate = match (&self.merchant_certificate, &key_pem, &merchant_key) {
            (Some(certificate), Some((_, key_pem)), Some(merchant_key)) => {
                Some(client_certificate_connection(
                    certificate,
                    &key_pem.value,
                    merchant_key,
                    &pool,
                    self.request_timeout.unwrap_or(DEFAULT_REQUEST_TIMEOUT),
                )?)
            }
            // The certificate's private key is the merchant key (`apiclient_key.pem`).
            (Some(_), _, _) => return Err(missing("merchant_key")),
            (None, _, _) => None,
        };
        let (http, request_timeout) = match self.http {
            Some(http) => (Http::Caller(http), None),
            None => (
                crate::runtimes::check_connection_pool()
                    .map(|()| Http::PerRuntime(pool))
                    .map_err(|e| {
                        invalid(
                            "http_client",
                            &format!("cannot create the HTTP client: {e}"),
                        )
                    })?,
                Some(self.request_timeout.unwrap_or(DEFAULT_REQUEST_TIMEOUT)),
            ),
        };

        let refresh = RefreshPolicy {
            interval: match self.certificate_refresh_interval {
                Some(Duration::ZERO) => None,
                Some(interval) => Some(interval),
                None => Some(DEFAULT_CERTIFICATE_REFRESH_INTERVAL),
            },
            unknown_serial_cooldown: self
                .unknown_serial_cooldown
                .unwrap_or(DEFAULT_UNKNOWN_SERIAL_COOLDOWN),
        };
        let keyring = KeyRing::new(KeyRingSetup {
            keys: platform_keys,
            configured_certificates: configured_pems,
            // No merchant serial (APIv2 only): no certificate id is empty, so none is refused.
            merchant_serial: merchant_serial.unwrap_or_default().to_owned(),
            seal,
            mchid: mchid.value.clone(),
            backend,
        });
        let timestamp_tolerance = self
            .timestamp_tolerance
            .map_or(DEFAULT_TIMESTAMP_TOLERANCE, |d| d.as_secs());
        let keys = Refresher::new(keyring, apiv3_key, refresh, timestamp_tolerance)
            .with_store(self.certificate_store, now);
        #[cfg(feature = "redis")]
        let keys = keys.with_fleet(self.fleet);
        let max_body = self.max_response_body.unwrap_or(DEFAULT_MAX_RESPONSE_BODY);
        let transport = Transport::new(hosts, http, request_timeout, max_body)
            .with_client_certificate(client_certificate);
        let apiv2 = self.apiv2_key.map(|key| ApiV2Signer {
            key,
            preferred: self.apiv2_sign_type.unwrap_or(SignType::HmacSha256),
        });
        let merchant = Merchant {
            key: merchant_key,
            apiv3_missing,
            backend,
        };
        let caller = Caller::new(mchid.value, merchant, transport, self.retry).with_apiv2(apiv2);
        Ok(Client::new(caller, keys, self.downloads))
    }
}

/// The connection that presents the merchant's API client certificate: the certificate must
/// be the merchant key's (`apiclient_cert.pem` goes with `apiclient_key.pem`).
fn client_certificate_connection(
    certificate: &Setting<String>,
    key_pem: &str,
    merchant_key: &MerchantKey,
    pool: &PoolSettings,
    request_timeout: Duration,
) -> Result<reqwest::Client, ConfigError> {
    let key_error = |source| ConfigError::Key {
        setting: certificate.name.clone(),
        source,
    };
    let der = pem::certificate_der(&certificate.value).map_err(key_error)?;
    let parsed = pem::Certificate::from_der(&der).map_err(key_error)?;
    if parsed.public_key_spki != merchant_key.public_key_spki_der() {
        return Err(invalid(
            certificate.name.clone(),
            "this certificate is not of the merchant key (apiclient_cert.pem goes with the \
             apiclient_key.pem given as the merchant key)",
        ));
    }
    // The identity reqwest wants is one PEM text: the certificate, then the key.
    let mut identity = Zeroizing::new(String::with_capacity(
        certificate.value.len() + key_pem.len() + 1,
    ));
    identity.push_str(certificate.value.trim_end());
    identity.push('\n');
    identity.push_str(key_pem);
    let identity = reqwest::Identity::from_pem(identity.as_bytes()).map_err(|e| {
        invalid(
            certificate.name.clone(),
            &format!("cannot be used as a TLS client certificate: {e}"),
        )
    })?;
    runtimes::client_certificate_connection(pool, request_timeout, identity).map_err(|e| {
        invalid(
            certificate.name.clone(),
            &format!("cannot create its HTTP client: {e}"),
        )
    })
}

/// Certificates are downloaded twice a day (the platform rotates them with a long overlap).
const DEFAULT_CERTIFICATE_REFRESH_INTERVAL: Duration = Duration::from_secs(12 * 60 * 60);
const DEFAULT_UNKNOWN_SERIAL_COOLDOWN: Duration = Duration::from_secs(30);

fn missing(setting: &'static str) -> ConfigError {
    ConfigError::Missing {
        setting: setting.into(),
    }
}

fn invalid(setting: impl Into<Cow<'static, str>>, reason: &str) -> ConfigError {
    ConfigError::Invalid {
        setting: setting.into(),
        reason: reason.to_owned(),
    }
}

/// Whether a key variable holds the PEM itself rather than a path.
fn is_inline_pem(value: &str) -> bool {
    value.trim_start().starts_with("-----BEGIN")
}

/// A key variable's PEM: the value itself when it starts with `-----BEGIN` (newlines may be
/// written `\n`, as env files and secret managers often do), else read from the file it names.
/// Neither the value nor the path appears in an error: either may be the key.
fn key_setting(variable: &'static str, value: &str) -> Result<Zeroizing<String>, ConfigError> {
    if is_inline_pem(value) {
        let text = value.trim_start();
        return Ok(Zeroizing::new(if text.contains('\n') {
            text.to_owned()
        } else {
            text.replace("\\n", "\n")
        }));
    }
    std::fs::read_to_string(value)
        .map(Zeroizing::new)
        .map_err(|source| ConfigError::Read {
            setting: variable.into(),
            source,
        })
}

/// The client certificate variable's PEM, as [`key_setting`] reads it; a `.p12` file (which
/// rustls cannot read) is refused with the way to the PEM the platform ships beside it.
fn certificate_setting(
    variable: &'static str,
    value: &str,
) -> Result<Zeroizing<String>, ConfigError> {
    if !is_inline_pem(value) {
        let bytes = Zeroizing::new(std::fs::read(value).map_err(|source| ConfigError::Read {
            setting: variable.into(),
            source,
        })?);
        // PKCS#12 is DER: a SEQUENCE, never text.
        if bytes.first() == Some(&0x30) {
            return Err(invalid(variable, P12_REFUSED));
        }
    }
    key_setting(variable, value)
}

/// Why a `.p12` client certificate is refused, and what to use instead.
const P12_REFUSED: &str = "this is a PKCS#12 file (apiclient_cert.p12), which is not read here: \
    give apiclient_cert.pem from the same download (its key is apiclient_key.pem), or convert \
    it: openssl pkcs12 -legacy -in apiclient_cert.p12 -passin pass:<mchid> -clcerts -nokeys \
    -out apiclient_cert.pem";

/// The serial of a PEM certificate, upper-case hex as the platform writes it.
fn certificate_serial(certificate_pem: &str) -> Result<String, crate::error::KeyError> {
    let der = pem::certificate_der(certificate_pem)?;
    Ok(pem::Certificate::from_der(&der)?.serial)
}

/// The PEM blocks of a text, each from its `-----BEGIN` to the next one.
fn pem_blocks(text: &str) -> Vec<&str> {
    let starts: Vec<usize> = text.match_indices("-----BEGIN").map(|(i, _)| i).collect();
    let ends = starts.iter().skip(1).copied().chain([text.len()]);
    starts
        .iter()
        .zip(ends)
        .map(|(&start, end)| &text[start..end])
        .collect()
}

/// A configured certificate past its notAfter verifies nothing: say so at start-up (one that
/// expires while the client runs stops verifying then, and shows in the status).
fn check_not_expired(key: &PlatformKey, now: i64, setting: &str) -> Result<(), ConfigError> {
    match key.kind() {
        PlatformKeyKind::Certificate { not_after, .. } if not_after < now => Err(invalid(
            setting.to_owned(),
            &format!(
                "platform certificate {} expired at {not_after} (unix seconds); configure the \
                 current one, or the WeChat Pay public key",
                key.id()
            ),
        )),
        _ => Ok(()),
    }
}

/// The merchant certificate configured as a platform certificate verifies nothing the platform
/// signs; say so at start-up instead of failing every answer with "unknown serial".
fn check_not_merchant(
    key: &PlatformKey,
    merchant_serial: &str,
    setting: &str,
) -> Result<(), ConfigError> {
    if matches!(key.kind(), PlatformKeyKind::Certificate { .. })
        && key.id().eq_ignore_ascii_case(merchant_serial)
    {
        return Err(invalid(
            setting.to_owned(),
            "this is the merchant's own API certificate (same serial as the merchant key); \
             the platform certificate is the one downloaded from /v3/certificates",
        ));
    }
    Ok(())
}

/// Each host's base URL and backup: a host's own setting over the one for all, the
/// platform's default under both; a configured backup serves the API host's base URL.
fn host_urls(
    all: Option<Setting<String>>,
    each: Vec<(Host, Setting<String>)>,
    backup: Option<Setting<String>>,
    platform_failover: bool,
) -> Result<HostUrls, ConfigError> {
    let all = all.map(check_base_url).transpose()?;
    let mut base = Host::ALL.map(|host| {
        all.clone()
            .unwrap_or_else(|| host.default_base_url().to_owned())
    });
    for (host, url) in each {
        base[host.index()] = check_base_url(url)?;
    }
    let backup = backup.map(check_base_url).transpose()?;
    let api = base[Host::Api.index()].clone();
    let backups = Host::ALL.map(|host| {
        let base = &base[host.index()];
        match &backup {
            Some(backup) if *base == api => Some(backup.clone()),
            _ if platform_failover && base == host.default_base_url() => {
                host.default_backup_url().map(str::to_owned)
            }
            _ => None,
        }
    });
    Ok(HostUrls::new(base, backups))
}

/// A base URL is a scheme and an authority, nothing else: user information would be sent to
/// the host (and logged), a path or query would change what is signed.
fn check_base_url(url: Setting<String>) -> Result<String, ConfigError> {
    const EXAMPLE: &str = "e.g. https://api.mch.weixin.qq.com";
    let trimmed = url.value.trim_end_matches('/');
    let refuse = |why: String| Err(invalid(url.name.clone(), &why));
    let parsed = match url::Url::parse(trimmed) {
        Ok(parsed) => parsed,
        Err(url::ParseError::InvalidPort) => {
            return refuse(format!(
                "the port is not a number from 1 to 65535; {EXAMPLE}"
            ));
        }
        Err(_) => return refuse(format!("not a URL; expected {EXAMPLE}")),
    };
    if !matches!(parsed.scheme(), "http" | "https") || !parsed.has_host() {
        return refuse(format!("expected an http or https URL, {EXAMPLE}"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        // Not echoed: it would be a password.
        return refuse(format!(
            "a URL with user information (`user:password@`) is not a base URL; expected {EXAMPLE}"
        ));
    }
    if parsed.port() == Some(0) {
        return refuse(format!(
            "the port is not a number from 1 to 65535; {EXAMPLE}"
        ));
    }
    if parsed.path() != "/" || parsed.query().is_some() || parsed.fragment().is_some() {
        return refuse(format!("expected scheme and host only, {EXAMPLE}"));
    }
    // Sent as written: the http layer must read it the same way.
    if trimmed.parse::<Uri>().is_err() {
        return refuse(format!("not a URL; expected {EXAMPLE}"));
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn fixture(name: &str) -> String {
        format!(
            "{}/../tests/fixtures/keys/{name}",
            env!("CARGO_MANIFEST_DIR")
        )
    }

    fn vars(pairs: &[(&'static str, String)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<&'static str, String> = pairs.iter().cloned().collect();
        move |name| map.get(name).cloned()
    }

    fn complete() -> Vec<(&'static str, String)> {
        vec![
            ("WXPAY_MCHID", "1230000109".into()),
            (
                "WXPAY_MERCHANT_SERIAL",
                "0A3C5E7F9B1D2F4A6C8E0B2D4F6A8C0E2B4D6F81".into(),
            ),
            ("WXPAY_MERCHANT_KEY", fixture("TEST_merchant_key.pem")),
            (
                "WXPAY_PLATFORM_PUBLIC_KEY",
                fixture("TEST_platform_pub.pem"),
            ),
            (
                "WXPAY_PLATFORM_PUBLIC_KEY_ID",
                "PUB_KEY_ID_0112300001092025110100000000".into(),
            ),
            ("WXPAY_PLATFORM_CERT", fixture("TEST_platform_cert.pem")),
            ("WXPAY_APIV3_KEY", "TESTapiv3key0123456789ABCDEFGHIJ".into()),
        ]
    }

    fn without(name: &str) -> Vec<(&'static str, String)> {
        complete().into_iter().filter(|(n, _)| *n != name).collect()
    }

    fn with(name: &'static str, value: &str) -> Vec<(&'static str, String)> {
        let mut pairs = without(name);
        pairs.push((name, value.into()));
        pairs
    }

    fn env_error(pairs: &[(&'static str, String)]) -> ConfigError {
        match ClientBuilder::from_vars(vars(pairs)).and_then(ClientBuilder::build) {
            Ok(_) => panic!("must be rejected"),
            Err(e) => e,
        }
    }

    #[test]
    fn a_complete_environment_builds() {
        let client = ClientBuilder::from_vars(vars(&complete()))
            .and_then(ClientBuilder::build)
            .expect("builds");
        assert_eq!(client.platform_keys().len(), 2);
        assert!(client.apiv3_key().is_some());
    }

    #[test]
    fn each_missing_required_variable_is_named() {
        for name in ["WXPAY_MCHID", "WXPAY_MERCHANT_SERIAL", "WXPAY_MERCHANT_KEY"] {
            let err = env_error(&without(name));
            assert!(
                matches!(&err, ConfigError::Missing { setting } if setting == name),
                "{name}: {err}"
            );
        }
        let err = env_error(&without("WXPAY_PLATFORM_PUBLIC_KEY_ID"));
        assert!(
            err.to_string().starts_with("WXPAY_PLATFORM_PUBLIC_KEY_ID"),
            "{err}"
        );
    }

    #[test]
    fn unreadable_and_malformed_files_name_the_variable() {
        let err = env_error(&with(
            "WXPAY_MERCHANT_KEY",
            "/nonexistent/apiclient_key.pem",
        ));
        assert!(
            matches!(&err, ConfigError::Read { setting, .. } if setting == "WXPAY_MERCHANT_KEY"),
            "{err}"
        );
        let err = env_error(&with(
            "WXPAY_MERCHANT_KEY",
            &fixture("TEST_merchant_cert.pem"),
        ));
        assert!(
            matches!(&err, ConfigError::Key { setting, .. } if setting == "WXPAY_MERCHANT_KEY"),
            "{err}"
        );
        let err = env_error(&with(
            "WXPAY_PLATFORM_CERT",
            &fixture("TEST_merchant_cert.pem"),
        ));
        assert!(
            matches!(&err, ConfigError::Invalid { setting, .. } if setting == "WXPAY_PLATFORM_CERT"),
            "{err}"
        );
        let err = env_error(&with("WXPAY_APIV3_KEY", "short"));
        assert!(err.to_string().starts_with("WXPAY_APIV3_KEY"), "{err}");
        assert!(
            !err.to_string().contains("short"),
            "the key itself is never echoed: {err}"
        );
    }

    #[test]
    fn a_host_variable_moves_that_host_and_names_itself_when_wrong() {
        let mut pairs = with("WXPAY_BASE_URL", "http://127.0.0.1:8080");
        pairs.push(("WXPAY_BASE_URL_APIHK", "http://127.0.0.2:9090".into()));
        let client = ClientBuilder::from_vars(vars(&pairs))
            .and_then(ClientBuilder::build)
            .expect("builds");
        assert_eq!(client.base_url(Host::Api), "http://127.0.0.1:8080");
        assert_eq!(client.base_url(Host::Fraud), "http://127.0.0.1:8080");
        assert_eq!(client.base_url(Host::Apihk), "http://127.0.0.2:9090");

        let err = env_error(&with("WXPAY_BASE_URL_APIHK", "https://a:b@apihk.example"));
        assert!(
            matches!(&err, ConfigError::Invalid { setting, .. } if setting == "WXPAY_BASE_URL_APIHK"),
            "{err}"
        );
    }

    #[test]
    fn failover_goes_to_a_backup_only_where_there_is_one() {
        let builder = || ClientBuilder::from_vars(vars(&complete())).expect("reads");
        let platform = builder()
            .backup_host_failover(true)
            .build()
            .expect("builds");
        let hosts = platform.inner.caller.hosts();
        assert_eq!(hosts.backup_of(DEFAULT_BASE_URL), Some(BACKUP_BASE_URL));
        assert_eq!(hosts.backup_of(Host::Apihk.default_base_url()), None);

        // A sandbox serving every host, with a backup: every host fails over to it.
        let pair = builder()
            .base_url("http://127.0.0.1:1")
            .backup_base_url("http://127.0.0.1:2")
            .build()
            .expect("builds");
        assert_eq!(
            pair.inner.caller.hosts().backup_of("http://127.0.0.1:1"),
            Some("http://127.0.0.1:2")
        );
        // Failover to the platform's backup only for a host on the platform's base URL.
        let proxied = builder()
            .base_url("http://127.0.0.1:1")
            .backup_host_failover(true)
            .build()
            .expect("builds");
        assert!(!proxied.inner.caller.hosts().any_backup());
    }

    #[test]
    fn the_apiv2_settings_are_read_and_named_when_wrong() {
        let v2 = |name| {
            format!(
                "{}/../wxpay-sandbox/tests/fixtures/v2/{name}",
                env!("CARGO_MANIFEST_DIR")
            )
        };
        let err = env_error(&with("WXPAY_APIV2_KEY", "TESTshort"));
        assert!(
            matches!(&err, ConfigError::Key { setting, .. } if setting == "WXPAY_APIV2_KEY"),
            "{err}"
        );
        assert!(!err.to_string().contains("TESTshort"), "{err}");

        // The TEST merchant key is not the one of the sandbox's client certificate.
        let err = env_error(&with("WXPAY_MERCHANT_CERT", &v2("TEST-apiclient-cert.pem")));
        assert!(
            matches!(&err, ConfigError::Invalid { setting, .. } if setting == "WXPAY_MERCHANT_CERT"),
            "{err}"
        );
        let err = env_error(&with(
            "WXPAY_MERCHANT_CERT",
            "/nonexistent/apiclient_cert.pem",
        ));
        assert!(
            matches!(&err, ConfigError::Read { setting, .. } if setting == "WXPAY_MERCHANT_CERT"),
            "{err}"
        );

        // The certificate with its own key builds, and neither secret shows in Debug.
        let mut pairs = with("WXPAY_MERCHANT_KEY", &v2("TEST-apiclient-key.pem"));
        pairs.retain(|(name, _)| *name != "WXPAY_MERCHANT_SERIAL");
        pairs.push((
            "WXPAY_MERCHANT_SERIAL",
            "16412D2BC33DC85094A8A7B1B2FD7D9303DA7B49".into(),
        ));
        pairs.push(("WXPAY_MERCHANT_CERT", v2("TEST-apiclient-cert.pem")));
        pairs.push(("WXPAY_APIV2_KEY", "TEST0APIv2Key0config23456789abcd".into()));
        let builder = ClientBuilder::from_vars(vars(&pairs)).expect("reads");
        assert!(!format!("{builder:?}").contains("TEST0APIv2Key0config"));
        let client = builder.build().expect("builds");
        let debug = format!("{client:?}");
        assert!(!debug.contains("TEST0APIv2Key0config"), "{debug}");
        assert!(debug.contains("merchant_certificate: true"), "{debug}");
        let context = client
            .inner
            .caller
            .apiv2_context(Host::Api)
            .expect("APIv2 key");
        assert_eq!(context.preferred, SignType::HmacSha256);
    }

    #[test]
    fn several_platform_certificates_are_comma_separated() {
        let cert = fixture("TEST_platform_cert.pem");
        let pairs = with("WXPAY_PLATFORM_CERT", &format!("{cert}, {cert}"));
        let client = ClientBuilder::from_vars(vars(&pairs))
            .and_then(ClientBuilder::build)
            .expect("builds");
        // The same certificate twice is one key.
        assert_eq!(client.platform_keys().len(), 2);
    }
}
