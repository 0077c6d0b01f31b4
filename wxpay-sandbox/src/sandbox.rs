//! [`Sandbox`]: a running platform and what a client needs to reach it.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::builder::{SandboxBuilder, Setup};
use crate::faults::Faults;
use crate::settings::MerchantSettings;
use crate::state::Platform;
use crate::{
    KeyMode, SANDBOX_APPID, SANDBOX_OPENID, SANDBOX_SUB_MCHID, SandboxError, clock, routes,
};

/// One APIv2 operation as the sandbox serves it ([`Sandbox::apiv2_operations`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ApiV2Operation {
    /// `POST`, or `GET` for the few pages.
    pub method: &'static str,
    /// The path, served on the sandbox's origin whatever the platform's host.
    pub path: &'static str,
    /// The platform's host for it (`api.mch.weixin.qq.com`, or the spec's `x-base-uri`).
    pub host: &'static str,
    /// Whether the merchant's client certificate must be on the connection.
    pub client_certificate: bool,
    /// Whether the answer carries `sign`.
    pub signed_answer: bool,
    /// Whether the answer is an `<xml>` document (else a file, a page, a redirect or JSON).
    pub xml_answer: bool,
    /// Whether the request's fields travel in the query string (a GET page).
    pub query: bool,
    /// Whether the request is `multipart/form-data` (`uploadmedia`).
    pub multipart: bool,
    /// The fields a request must carry (`sign` apart).
    pub required: &'static [&'static str],
}

/// A WeChat Pay platform stand-in serving on loopback.
///
/// It runs in a background task of the tokio runtime that started it; dropping the
/// value stops it (new connections are refused at once, requests in flight finish),
/// and [`shutdown`](Self::shutdown) does the same and waits until it has stopped.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), wxpay_sandbox::SandboxError> {
/// let sandbox = wxpay_sandbox::Sandbox::start().await?;
/// assert!(sandbox.base_url().starts_with("http://127.0.0.1:"));
///
/// let merchant = sandbox.merchant();
/// assert_eq!(merchant.mchid, "1230000109");
/// assert_eq!(merchant.merchant_serial.len(), 40);
/// assert!(merchant.merchant_private_key_pem.is_some());
/// assert!(format!("{merchant:?}").contains("<redacted>"));
/// assert_eq!(sandbox.favor_stock_ids().len(), 1);
///
/// sandbox.shutdown().await;
/// # Ok(())
/// # }
/// ```
pub struct Sandbox {
    base_url: String,
    local_addr: SocketAddr,
    key_mode: KeyMode,
    merchant: MerchantSettings,
    favor_stock_ids: Vec<String>,
    multiuse_stock_ids: Vec<String>,
    /// The running platform's state, for the sandbox controls.
    pub(crate) platform: Arc<Platform>,
    pub(crate) faults: Arc<Faults>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    https_url: Option<String>,
    https_task: Option<JoinHandle<()>>,
}

impl Sandbox {
    /// Starts a sandbox with everything generated: merchant and platform RSA-2048
    /// keys and certificates, a public key id, an APIv3 key, mchid `1230000109`,
    /// one running favor stock and one active multiuse stock, listening on
    /// `127.0.0.1` at a free port, in [`KeyMode::Both`].
    ///
    /// # Errors
    /// As [`SandboxBuilder::start`].
    pub async fn start() -> Result<Sandbox, SandboxError> {
        SandboxBuilder::default().start().await
    }

    /// A builder to choose keys, ids, the key mode and stocks.
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }

    pub(crate) fn serve(
        listener: TcpListener,
        setup: Setup,
        https: Option<(TcpListener, tokio_rustls::TlsAcceptor)>,
    ) -> Result<Sandbox, SandboxError> {
        let local_addr = listener.local_addr()?;
        let platform = Arc::new(setup.platform);
        let key_mode = platform.key_mode();
        let faults = Arc::new(Faults::default());
        let app = crate::faults::wrap(
            routes::router(platform.clone()),
            platform.clone(),
            faults.clone(),
        );
        let (https_url, https_task) = match https {
            Some((tls_listener, acceptor)) => {
                let address = tls_listener.local_addr()?;
                let task = crate::tls::serve(tls_listener, acceptor, app.clone());
                tracing::info!(%address, "wxpay-sandbox listening over HTTPS");
                (Some(format!("https://{address}")), Some(task))
            }
            None => (None, None),
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let shutdown = async {
                // A dropped sender is a stop signal too.
                let _ = stopped.await;
            };
            if let Err(error) = axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
            {
                tracing::error!(%error, "the sandbox server stopped");
            }
        });
        tracing::info!(%local_addr, "wxpay-sandbox listening");
        Ok(Sandbox {
            base_url: format!("http://{local_addr}"),
            local_addr,
            key_mode,
            merchant: setup.settings,
            favor_stock_ids: setup.favor_stock_ids,
            multiuse_stock_ids: setup.multiuse_stock_ids,
            platform,
            faults,
            stop: Some(stop),
            task: Some(task),
            https_url,
            https_task,
        })
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `https://127.0.0.1:PORT` of the HTTPS listener, when the builder was given
    /// [`https`](SandboxBuilder::https): the same platform, where APIv2's client-certificate
    /// operations can be called.
    pub fn https_url(&self) -> Option<&str> {
        self.https_url.as_deref()
    }

    /// Marks the APIv2 order `out_trade_no` (from `unifiedorder`, not yet paid) paid, as a user
    /// paying would, and sends the signed payment notification to the order's `notify_url`.
    /// Returns whether there was such an unpaid order.
    pub fn pay_v2_order(&self, out_trade_no: &str) -> bool {
        crate::v2::pay_order(&self.platform, out_trade_no)
    }

    /// Every APIv2 operation the sandbox answers (the spec's 136), as it serves them.
    pub fn apiv2_operations(&self) -> Vec<ApiV2Operation> {
        crate::spec::V2_OPERATIONS
            .iter()
            .map(|op| ApiV2Operation {
                method: op.method,
                path: op.path,
                host: op.host,
                client_certificate: op.cert,
                signed_answer: op.signed_answer,
                xml_answer: matches!(op.answer, crate::v2::Answer::Xml(_)),
                query: op.body == crate::v2::Body::Query,
                multipart: op.body == crate::v2::Body::Multipart,
                required: op.required,
            })
            .collect()
    }

    /// The address the sandbox listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The merchant's settings: ids, keys and the platform keys to trust.
    pub fn merchant(&self) -> &MerchantSettings {
        &self.merchant
    }

    /// Ids of the favor stocks made at start (running).
    pub fn favor_stock_ids(&self) -> &[String] {
        &self.favor_stock_ids
    }

    /// Ids of the multiuse stocks made at start (active).
    pub fn multiuse_stock_ids(&self) -> &[String] {
        &self.multiuse_stock_ids
    }

    /// How clients know the platform key.
    pub fn key_mode(&self) -> KeyMode {
        self.key_mode
    }

    /// [`MerchantSettings::to_env`] plus `WXPAY_BASE_URL`, `WXPAY_STOCK_ID` and
    /// `WXPAY_MULTIUSE_STOCK_ID` (the first of each), `WXPAY_APPID`, `WXPAY_OPENID` and
    /// `WXPAY_SUB_MCHID` (the sub-merchant of [`SANDBOX_SUB_MCHID`](crate::SANDBOX_SUB_MCHID)).
    ///
    /// # Errors
    /// When the key files cannot be written into `dir`.
    pub fn to_env(&self, dir: &Path) -> io::Result<Vec<(String, String)>> {
        Ok(self.with_service(self.merchant.to_env(dir)?))
    }

    /// The settings of [`Sandbox::to_env`] with the PEM texts in place of paths: hand them to
    /// `wxpay::ClientBuilder::from_settings` for a client of this sandbox's merchant.
    pub fn settings(&self) -> Vec<(String, String)> {
        self.with_service(self.merchant.settings())
    }

    /// Adds where the sandbox is and what it has set up to the merchant's settings.
    fn with_service(&self, mut env: Vec<(String, String)>) -> Vec<(String, String)> {
        env.push(("WXPAY_BASE_URL".to_owned(), self.base_url.clone()));
        if let Some(id) = self.favor_stock_ids.first() {
            env.push(("WXPAY_STOCK_ID".to_owned(), id.clone()));
        }
        if let Some(id) = self.multiuse_stock_ids.first() {
            env.push(("WXPAY_MULTIUSE_STOCK_ID".to_owned(), id.clone()));
        }
        env.push(("WXPAY_APPID".to_owned(), SANDBOX_APPID.to_owned()));
        env.push(("WXPAY_OPENID".to_owned(), SANDBOX_OPENID.to_owned()));
        env.push(("WXPAY_SUB_MCHID".to_owned(), SANDBOX_SUB_MCHID.to_owned()));
        env
    }

    /// Rotates the platform certificate, as the real platform does from time to time:
    /// generates a new RSA-2048 key and certificate (a new 40-hex-digit serial starting
    /// with `0`) and returns its serial.
    ///
    /// - The new certificate is listed by `GET /v3/certificates` at once.
    /// - Responses stay signed with the previous key (its serial in `Wechatpay-Serial`)
    ///   until `overlap` has passed; after that every response except
    ///   `/v3/certificates` is signed with the new key.
    /// - `/v3/certificates` is always signed with the oldest certificate still listed,
    ///   so a client that knows the old one can verify the download that teaches it
    ///   the new one.
    /// - The previous certificate stays listed, and accepted as a request's
    ///   `Wechatpay-Serial` (for encrypted fields), until `2 × overlap` after the
    ///   rotation; then it expires: it leaves the list and its serial gets `400`.
    ///
    /// Rotations may overlap (rotate again before the previous one is over); each
    /// follows the same rules. Times are measured on tokio's clock
    /// ([`tokio::time::Instant`]), so a test with paused time can advance through
    /// them. Generating the key takes a moment and blocks the calling thread.
    ///
    /// ```
    /// use std::time::Duration;
    /// use wxpay_sandbox::{KeyMode, Sandbox};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), wxpay_sandbox::SandboxError> {
    /// let sandbox = Sandbox::builder().key_mode(KeyMode::Certificate).start().await?;
    /// let old = sandbox.response_serial();
    /// let new = sandbox.rotate_platform_certificate(Duration::from_secs(60))?;
    /// assert_eq!(sandbox.platform_certificates(), [old.clone(), new]);
    /// assert_eq!(sandbox.response_serial(), old, "still within the overlap");
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// [`SandboxError::Config`] unless the key mode is [`KeyMode::Certificate`]: a
    /// public-key-only merchant has no certificates, and in [`KeyMode::Both`]
    /// responses are signed under the public key id, which stays bound to the
    /// original key. Also for an overlap too long to add to the clock.
    pub fn rotate_platform_certificate(
        &self,
        overlap: std::time::Duration,
    ) -> Result<String, SandboxError> {
        self.platform
            .keys
            .rotate(overlap, &self.platform.merchant.serial)
    }

    /// The serials `GET /v3/certificates` lists now, oldest first (empty in
    /// [`KeyMode::PublicKey`]).
    pub fn platform_certificates(&self) -> Vec<String> {
        self.platform
            .keys
            .certificates(clock::monotonic())
            .into_iter()
            .map(|c| c.serial)
            .collect()
    }

    /// The `Wechatpay-Serial` responses are signed under now (other than
    /// `/v3/certificates`, which the oldest listed certificate signs): a certificate
    /// serial in [`KeyMode::Certificate`], the public key id otherwise.
    pub fn response_serial(&self) -> String {
        self.platform.keys.response_serial(clock::monotonic())
    }

    /// A test hook: while `fail` is true, `GET /v3/certificates` answers a signed
    /// `500 SYSTEM_ERROR`.
    pub fn fail_certificate_downloads(&self, fail: bool) {
        self.platform.keys.downloads.set_fail(fail);
    }

    /// A test hook: while `on` is true, the `GET /v3/certificates` answer is signed
    /// by a freshly generated key (unknown to every client) under the serial of the
    /// newest listed certificate: a forged download, which a client must refuse.
    /// Turning it on generates that key, which takes a moment.
    ///
    /// # Panics
    /// If RSA key generation fails, which only a broken machine does.
    pub fn sign_certificate_downloads_with_unknown_key(&self, on: bool) {
        #[allow(clippy::expect_used)]
        self.platform
            .keys
            .forge_downloads(on)
            .expect("RSA-2048 key generation failed");
    }

    /// How many `GET /v3/certificates` requests have passed authentication (including
    /// those a test hook made fail or forged).
    pub fn certificate_downloads(&self) -> u64 {
        self.platform.keys.downloads.count()
    }

    /// How many times `POST /risk/getpublickey` handed out the bank-card payout key (a TEST
    /// RSA key made on first use, with which `pay_bank` decrypts `enc_bank_no` and
    /// `enc_true_name`).
    pub fn bank_payout_key_fetches(&self) -> u64 {
        self.platform
            .v2
            .bank_payout_key_fetches
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Stops accepting connections, lets requests in flight finish, and waits until
    /// the server task has ended.
    pub async fn shutdown(mut self) {
        if let Some(task) = self.https_task.take() {
            task.abort();
        }
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take()
            && let Err(error) = task.await
        {
            tracing::error!(%error, "the sandbox server task failed");
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(task) = self.https_task.take() {
            task.abort();
        }
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sandbox")
            .field("base_url", &self.base_url)
            .field("key_mode", &self.key_mode)
            .field("merchant", &self.merchant)
            .field("favor_stock_ids", &self.favor_stock_ids)
            .field("multiuse_stock_ids", &self.multiuse_stock_ids)
            .finish_non_exhaustive()
    }
}
