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
use crate::{KeyMode, SANDBOX_APPID, SANDBOX_OPENID, SandboxError, routes};

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
    pub(crate) platform: Arc<Platform>,
    pub(crate) faults: Arc<Faults>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
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

    pub(crate) fn serve(listener: TcpListener, setup: Setup) -> Result<Sandbox, SandboxError> {
        let local_addr = listener.local_addr()?;
        let platform = Arc::new(setup.platform);
        let key_mode = platform.key_mode();
        let faults = Arc::new(Faults::default());
        let app = crate::faults::wrap(
            routes::router(platform.clone()),
            platform.clone(),
            faults.clone(),
        );
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
        })
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
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
    /// `WXPAY_MULTIUSE_STOCK_ID` (the first of each), `WXPAY_APPID` and `WXPAY_OPENID`.
    ///
    /// # Errors
    /// When the key files cannot be written into `dir`.
    pub fn to_env(&self, dir: &Path) -> io::Result<Vec<(String, String)>> {
        let mut env = self.merchant.to_env(dir)?;
        env.push(("WXPAY_BASE_URL".to_owned(), self.base_url.clone()));
        if let Some(id) = self.favor_stock_ids.first() {
            env.push(("WXPAY_STOCK_ID".to_owned(), id.clone()));
        }
        if let Some(id) = self.multiuse_stock_ids.first() {
            env.push(("WXPAY_MULTIUSE_STOCK_ID".to_owned(), id.clone()));
        }
        env.push(("WXPAY_APPID".to_owned(), SANDBOX_APPID.to_owned()));
        env.push(("WXPAY_OPENID".to_owned(), SANDBOX_OPENID.to_owned()));
        Ok(env)
    }

    /// Stops accepting connections, lets requests in flight finish, and waits until
    /// the server task has ended.
    pub async fn shutdown(mut self) {
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
