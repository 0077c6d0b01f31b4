//! [`SandboxBuilder`]: which keys, ids and stocks the sandbox starts with.

use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddr};

use serde_json::json;
use time::Duration;
use tokio::net::TcpListener;

use crate::clock::{self, rfc3339_beijing};
use crate::crypto::random_alphanumeric;
use crate::keys::{
    Certificate, MerchantKey, PUBLIC_KEY_ID_PREFIX, PlatformKeys, RsaKey, public_key_from_pem,
    random_public_key_id, random_serial, same_serial,
};
use crate::sandbox::Sandbox;
use crate::settings::{MerchantSettings, Secret};
use crate::state::{NewFavorStock, Platform, StockUseRule, Store};
use crate::tls::HttpsIdentity;
use crate::{DEFAULT_MCHID, KeyMode, SandboxError};

/// Configures a [`Sandbox`] before it starts. Everything left unset is generated:
/// keys, certificates with 40-hex-digit serials, a public key id, an APIv3 key, and
/// one running favor stock and one active multiuse stock.
///
/// ```
/// use wxpay_sandbox::{KeyMode, Sandbox};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), wxpay_sandbox::SandboxError> {
/// let sandbox = Sandbox::builder()
///     .mchid("1900000001")
///     .key_mode(KeyMode::PublicKey)
///     .favor_stock("98065001")
///     .multiuse_stock("98065002")
///     .start()
///     .await?;
/// assert_eq!(sandbox.merchant().mchid, "1900000001");
/// assert!(sandbox.merchant().platform_certificate_pem.is_none());
/// assert_eq!(sandbox.favor_stock_ids(), ["98065001"]);
/// sandbox.shutdown().await;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Default)]
#[must_use = "a builder does nothing until .start().await"]
pub struct SandboxBuilder {
    listen: Option<SocketAddr>,
    mchid: Option<String>,
    merchant_serial: Option<String>,
    merchant_certificate_pem: Option<String>,
    merchant_public_key_pem: Option<String>,
    platform_key_pem: Option<Secret>,
    platform_certificate_pem: Option<String>,
    public_key_id: Option<String>,
    apiv3_key: Option<Secret>,
    key_mode: Option<KeyMode>,
    favor_stocks: Vec<String>,
    multiuse_stocks: Vec<String>,
    notify_url: Option<String>,
    apiv2_key: Option<Secret>,
    https: Option<HttpsIdentity>,
}

impl SandboxBuilder {
    /// The address to listen on; default `127.0.0.1:0` (a free port).
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = Some(addr);
        self
    }

    /// The merchant id; default [`DEFAULT_MCHID`](crate::DEFAULT_MCHID).
    pub fn mchid(mut self, mchid: impl Into<String>) -> Self {
        self.mchid = Some(mchid.into());
        self
    }

    /// The merchant certificate serial. With a merchant certificate it must match it;
    /// with a merchant public key it is required; otherwise it becomes the serial of
    /// the generated merchant certificate (1 to 40 hex digits).
    pub fn merchant_serial(mut self, serial: impl Into<String>) -> Self {
        self.merchant_serial = Some(serial.into());
        self
    }

    /// The merchant's certificate (PEM): requests are verified with its key and its
    /// serial is the expected `serial_no`. The merchant private key stays with you.
    pub fn merchant_certificate_pem(mut self, pem: impl Into<String>) -> Self {
        self.merchant_certificate_pem = Some(pem.into());
        self
    }

    /// The merchant's public key (SPKI `PUBLIC KEY` PEM), instead of a certificate;
    /// needs [`merchant_serial`](Self::merchant_serial).
    pub fn merchant_public_key_pem(mut self, pem: impl Into<String>) -> Self {
        self.merchant_public_key_pem = Some(pem.into());
        self
    }

    /// The platform private key (PKCS#8 `PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY` PEM)
    /// that signs responses and decrypts sensitive fields.
    pub fn platform_key_pem(mut self, pem: impl Into<String>) -> Self {
        self.platform_key_pem = Some(Secret::new(pem));
        self
    }

    /// The platform certificate (PEM) for the platform key; needs
    /// [`platform_key_pem`](Self::platform_key_pem). It is the initial one: certificates
    /// made by [`Sandbox::rotate_platform_certificate`] have generated keys.
    pub fn platform_certificate_pem(mut self, pem: impl Into<String>) -> Self {
        self.platform_certificate_pem = Some(pem.into());
        self
    }

    /// The id (`PUB_KEY_ID_…`) under which the platform key's public half is known.
    pub fn public_key_id(mut self, id: impl Into<String>) -> Self {
        self.public_key_id = Some(id.into());
        self
    }

    /// The APIv3 key: exactly 32 bytes.
    pub fn apiv3_key(mut self, key: impl Into<String>) -> Self {
        self.apiv3_key = Some(Secret::new(key));
        self
    }

    /// How clients know the platform key. Default: inferred from what was given (a
    /// certificate: `Certificate`; a public key id: `PublicKey`; both or neither: `Both`).
    pub fn key_mode(mut self, mode: KeyMode) -> Self {
        self.key_mode = Some(mode);
        self
    }

    /// Adds a running favor stock with this id (repeatable). Without any, one is
    /// created with a generated id.
    pub fn favor_stock(mut self, stock_id: impl Into<String>) -> Self {
        self.favor_stocks.push(stock_id.into());
        self
    }

    /// Adds an active multiuse stock with this id (repeatable). Without any, one is
    /// created with a generated id.
    pub fn multiuse_stock(mut self, stock_id: impl Into<String>) -> Self {
        self.multiuse_stocks.push(stock_id.into());
        self
    }

    /// Where notifications are delivered (`http://host[:port]/path`); without one the
    /// sandbox sends none until the control API sets it (`PUT /sandbox/notify-url`).
    pub fn notify_url(mut self, url: impl Into<String>) -> Self {
        self.notify_url = Some(url.into());
        self
    }

    /// The merchant's APIv2 key: 32 ASCII letters and digits. Default: generated.
    pub fn apiv2_key(mut self, key: impl Into<String>) -> Self {
        self.apiv2_key = Some(Secret::new(key));
        self
    }

    /// Serves the platform over HTTPS too, on another free port of the same address
    /// ([`Sandbox::https_url`]), asking clients for a certificate issued by the identity's CA:
    /// APIv2's client-certificate operations succeed only there, with the merchant's.
    pub fn https(mut self, identity: HttpsIdentity) -> Self {
        self.https = Some(identity);
        self
    }

    /// Generates what is missing, binds the listener and starts serving in a
    /// background task of the current tokio runtime.
    ///
    /// # Errors
    /// [`SandboxError::Config`] for contradictory or invalid settings,
    /// [`SandboxError::Key`] for unreadable key material, [`SandboxError::Io`] when
    /// the address cannot be bound.
    pub async fn start(self) -> Result<Sandbox, SandboxError> {
        let listen = self
            .listen
            .unwrap_or(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)));
        // RSA key generation takes a while: keep it off the async workers.
        let setup = tokio::task::spawn_blocking(move || self.resolve())
            .await
            .map_err(|e| SandboxError::Crypto(format!("key setup did not finish: {e}")))??;
        let listener = TcpListener::bind(listen).await?;
        let https = match &setup.https {
            Some(acceptor) => {
                let address = SocketAddr::new(listen.ip(), 0);
                Some((TcpListener::bind(address).await?, acceptor.clone()))
            }
            None => None,
        };
        Sandbox::serve(listener, setup, https)
    }

    fn resolve(self) -> Result<Setup, SandboxError> {
        if let Some(url) = &self.notify_url {
            crate::notify::check_url(url).map_err(SandboxError::Config)?;
        }
        let mchid = self.mchid.unwrap_or_else(|| DEFAULT_MCHID.to_owned());
        if mchid.is_empty() || !mchid.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(SandboxError::Config(format!(
                "mchid {mchid:?} must be non-empty ASCII letters and digits"
            )));
        }

        // The merchant: whose signatures the platform accepts.
        let (merchant, merchant_private_key_pem, merchant_certificate_pem) =
            match (self.merchant_certificate_pem, self.merchant_public_key_pem) {
                (Some(_), Some(_)) => {
                    return Err(SandboxError::Config(
                        "give the merchant certificate or the merchant public key, not both".into(),
                    ));
                }
                (Some(pem), None) => {
                    let cert = Certificate::from_pem("merchant certificate", &pem)?;
                    if let Some(serial) = &self.merchant_serial
                        && !same_serial(serial, &cert.serial)
                    {
                        return Err(SandboxError::Config(format!(
                            "merchant serial {serial} is not the merchant certificate's serial {}",
                            cert.serial
                        )));
                    }
                    (
                        MerchantKey::new(cert.serial.clone(), cert.spki_der.clone()),
                        None,
                        Some(cert.pem),
                    )
                }
                (None, Some(pem)) => {
                    let der = public_key_from_pem("merchant public key", &pem)?;
                    let serial =
                        self.merchant_serial
                            .filter(|s| !s.is_empty())
                            .ok_or_else(|| {
                                SandboxError::Config(
                                    "a merchant public key needs the merchant serial to go with it"
                                        .into(),
                                )
                            })?;
                    (MerchantKey::new(serial, der), None, None)
                }
                (None, None) => {
                    let key = RsaKey::generate()?;
                    let serial = self.merchant_serial.unwrap_or_else(random_serial);
                    let cert =
                        key.self_signed_certificate(&serial, &mchid, "wxpay-sandbox merchant")?;
                    (
                        MerchantKey::new(cert.serial.clone(), cert.spki_der.clone()),
                        Some(key.private_key_pem()?),
                        Some(cert.pem),
                    )
                }
            };

        // The platform: its key, known by a certificate serial and/or a public key id.
        let mode = self.key_mode.unwrap_or(
            match (&self.platform_certificate_pem, &self.public_key_id) {
                (Some(_), None) => KeyMode::Certificate,
                (None, Some(_)) => KeyMode::PublicKey,
                _ => KeyMode::Both,
            },
        );
        let wants_certificate = matches!(mode, KeyMode::Certificate | KeyMode::Both);
        let wants_public_key_id = matches!(mode, KeyMode::PublicKey | KeyMode::Both);
        if !wants_certificate && self.platform_certificate_pem.is_some() {
            return Err(SandboxError::Config(
                "a platform certificate was given but the key mode is PublicKey".into(),
            ));
        }
        if !wants_public_key_id && self.public_key_id.is_some() {
            return Err(SandboxError::Config(
                "a public key id was given but the key mode is Certificate".into(),
            ));
        }
        if self.platform_certificate_pem.is_some() && self.platform_key_pem.is_none() {
            return Err(SandboxError::Config(
                "a platform certificate needs the platform private key, to sign responses".into(),
            ));
        }
        let key = match &self.platform_key_pem {
            Some(pem) => RsaKey::from_pem("platform key", pem.expose())?,
            None => RsaKey::generate()?,
        };
        let certificate = match (wants_certificate, self.platform_certificate_pem) {
            (false, _) => None,
            (true, Some(pem)) => Some(Certificate::from_pem("platform certificate", &pem)?),
            (true, None) => Some(key.self_signed_certificate(
                &random_serial(),
                "WeChat Pay sandbox platform",
                "wxpay-sandbox",
            )?),
        };
        let public_key_id = match (wants_public_key_id, self.public_key_id) {
            (false, _) => None,
            (true, Some(id)) => {
                if !id.starts_with(PUBLIC_KEY_ID_PREFIX) || id.len() == PUBLIC_KEY_ID_PREFIX.len() {
                    return Err(SandboxError::Config(format!(
                        "public key id {id:?} does not start with {PUBLIC_KEY_ID_PREFIX}"
                    )));
                }
                Some(id)
            }
            (true, None) => Some(random_public_key_id()),
        };
        let keys = PlatformKeys::new(key, certificate, public_key_id)?;
        if keys.knows_serial(&merchant.serial, clock::monotonic()) {
            return Err(SandboxError::Config(format!(
                "the merchant serial {} is also a platform key serial",
                merchant.serial
            )));
        }

        let apiv2_key = match self.apiv2_key {
            Some(key)
                if key.expose().len() != 32
                    || !key.expose().bytes().all(|b| b.is_ascii_alphanumeric()) =>
            {
                return Err(SandboxError::Config(
                    "the APIv2 key must be 32 ASCII letters and digits".into(),
                ));
            }
            Some(key) => key,
            None => Secret::new(random_alphanumeric(32)),
        };
        let https = self.https.as_ref().map(crate::tls::acceptor).transpose()?;

        let apiv3_key = match self.apiv3_key {
            Some(key) if key.expose().len() != 32 => {
                return Err(SandboxError::Config(format!(
                    "the APIv3 key must be 32 bytes, this one is {}",
                    key.expose().len()
                )));
            }
            Some(key) => key,
            None => Secret::new(random_alphanumeric(32)),
        };

        // Ready-made stocks.
        let mut seen = HashSet::new();
        for id in self.favor_stocks.iter().chain(&self.multiuse_stocks) {
            if id.is_empty() || id.contains('/') {
                return Err(SandboxError::Config(format!(
                    "stock id {id:?} is not usable"
                )));
            }
            if !seen.insert(id.as_str()) {
                return Err(SandboxError::Config(format!(
                    "stock id {id} is given twice"
                )));
            }
        }
        let mut store = Store::default();
        let now = clock::now();
        let favor_ids: Vec<Option<String>> = if self.favor_stocks.is_empty() {
            vec![None]
        } else {
            self.favor_stocks.into_iter().map(Some).collect()
        };
        let multiuse_ids: Vec<Option<String>> = if self.multiuse_stocks.is_empty() {
            vec![None]
        } else {
            self.multiuse_stocks.into_iter().map(Some).collect()
        };
        // Given ids first, so a generated one can never take a given one.
        let mut favor_stock_ids = Vec::new();
        let mut multiuse_stock_ids = Vec::new();
        for id in favor_ids.iter().flatten() {
            favor_stock_ids.push(store.add_running_favor_stock(
                Some(id.clone()),
                ready_stock(&mchid),
                now,
            ));
        }
        for id in multiuse_ids.iter().flatten() {
            multiuse_stock_ids.push(store.add_multiuse_stock(Some(id.clone())));
        }
        if favor_ids.iter().any(Option::is_none) {
            favor_stock_ids.push(store.add_running_favor_stock(None, ready_stock(&mchid), now));
        }
        if multiuse_ids.iter().any(Option::is_none) {
            multiuse_stock_ids.push(store.add_multiuse_stock(None));
        }

        let settings = MerchantSettings {
            mchid: mchid.clone(),
            merchant_serial: merchant.serial.clone(),
            merchant_private_key_pem,
            merchant_certificate_pem,
            platform_certificate_pem: keys.initial_certificate().map(|c| c.pem.clone()),
            platform_certificate_serial: keys.initial_certificate().map(|c| c.serial.clone()),
            platform_public_key_pem: keys
                .public_key_id()
                .map(|_| keys.public_key_pem().to_owned()),
            public_key_id: keys.public_key_id().map(str::to_owned),
            platform_serial: keys.response_serial(clock::monotonic()),
            apiv3_key: apiv3_key.clone(),
            apiv2_key: apiv2_key.clone(),
        };
        let platform = Platform::new(mchid, merchant, keys, apiv3_key, apiv2_key, store);
        platform.notifier.set_url(self.notify_url);
        Ok(Setup {
            platform,
            settings,
            favor_stock_ids,
            multiuse_stock_ids,
            https,
        })
    }
}

/// A running favor stock ready for issuing: 1 yuan off 1 yuan, a million coupons.
fn ready_stock(mchid: &str) -> NewFavorStock {
    let now = clock::now();
    NewFavorStock {
        stock_creator_mchid: mchid.to_owned(),
        stock_name: "wxpay-sandbox 代金券".to_owned(),
        comment: Some("created by wxpay-sandbox".to_owned()),
        available_begin_time: rfc3339_beijing(now),
        available_end_time: rfc3339_beijing(now + Duration::days(90)),
        stock_use_rule: StockUseRule {
            max_coupons: 1_000_000,
            max_amount: 100_000_000,
            max_amount_by_day: None,
            max_coupons_per_user: 1_000_000,
            natural_person_limit: false,
            prevent_api_abuse: false,
        },
        pattern_info: Some(json!({ "description": "wxpay-sandbox ready-made stock" })),
        coupon_use_rule: json!({
            "fixed_normal_coupon": { "coupon_amount": 100, "transaction_minimum": 100 },
            "available_merchants": [mchid],
        }),
        no_cash: false,
        stock_type: "NORMAL".to_owned(),
        out_request_no: None,
    }
}

/// Everything [`SandboxBuilder::start`] prepared before binding.
pub(crate) struct Setup {
    pub(crate) platform: Platform,
    pub(crate) settings: MerchantSettings,
    pub(crate) favor_stock_ids: Vec<String>,
    pub(crate) multiuse_stock_ids: Vec<String>,
    /// The HTTPS listener's TLS setup, when asked for.
    pub(crate) https: Option<tokio_rustls::TlsAcceptor>,
}
