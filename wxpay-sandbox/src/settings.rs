//! What a client needs to talk to the sandbox: [`MerchantSettings`] and [`Secret`].

use std::fmt;
use std::io;
use std::path::Path;

use zeroize::Zeroizing;

/// A secret string (a private key PEM, an APIv3 key) whose `Debug` prints `<redacted>`
/// and whose memory is wiped when dropped.
///
/// ```
/// use wxpay_sandbox::Secret;
///
/// let key = Secret::new("0123456789abcdef0123456789abcdef");
/// assert_eq!(format!("{key:?}"), "<redacted>");
/// assert_eq!(key.expose().len(), 32);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(Zeroizing::new(value.into()))
    }

    /// The secret value itself; keep it out of logs.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret::new(value)
    }
}

/// Everything a merchant-side client needs to be configured against a running
/// sandbox: the merchant's identity and key, and the platform keys it should trust.
///
/// Which platform fields are present follows the [`KeyMode`](crate::KeyMode):
/// certificate fields in `Certificate` and `Both` modes, public key fields in
/// `PublicKey` and `Both` modes.
///
/// These are the settings at start. The platform certificate fields describe the
/// certificate the sandbox started with; after
/// [`Sandbox::rotate_platform_certificate`](crate::Sandbox::rotate_platform_certificate)
/// the current list is what `GET /v3/certificates` serves (and
/// [`Sandbox::platform_certificates`](crate::Sandbox::platform_certificates) names),
/// and the serial responses carry is
/// [`Sandbox::response_serial`](crate::Sandbox::response_serial).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MerchantSettings {
    /// The merchant id (`mchid`).
    pub mchid: String,
    /// The merchant certificate serial the client puts in `serial_no`.
    pub merchant_serial: String,
    /// The merchant private key (PKCS#8 PEM), present only when the sandbox generated it.
    pub merchant_private_key_pem: Option<Secret>,
    /// The merchant certificate PEM, when there is one (generated, or given to the builder).
    pub merchant_certificate_pem: Option<String>,
    /// The platform certificate PEM the sandbox started with (`Certificate` and `Both`
    /// modes): a client that trusts it can verify the first `/v3/certificates`
    /// download, and every later one through the rotation overlap.
    pub platform_certificate_pem: Option<String>,
    /// That initial platform certificate's serial (`Certificate` and `Both` modes).
    pub platform_certificate_serial: Option<String>,
    /// The WeChat Pay public key as an SPKI PEM (`PublicKey` and `Both` modes).
    pub platform_public_key_pem: Option<String>,
    /// The `PUB_KEY_ID_…` naming that public key (`PublicKey` and `Both` modes).
    pub public_key_id: Option<String>,
    /// The value the platform puts in `Wechatpay-Serial` on its responses at start:
    /// the initial certificate serial in `Certificate` mode (it changes once a rotation's
    /// overlap has passed), the public key id otherwise (it never changes).
    pub platform_serial: String,
    /// The 32-byte APIv3 key.
    pub apiv3_key: Secret,
    /// The APIv2 key (32 ASCII letters and digits) that signs APIv2 requests and answers.
    pub apiv2_key: Secret,
}

/// File names [`MerchantSettings::to_env`] writes into its directory.
const MERCHANT_KEY_FILE: &str = "apiclient_key.pem";
const PLATFORM_CERT_FILE: &str = "wechatpay_platform_cert.pem";
const PLATFORM_PUBLIC_KEY_FILE: &str = "wechatpay_public_key.pem";

impl MerchantSettings {
    /// Writes the key files into `dir` and returns the `WXPAY_*` environment pairs
    /// that describe this merchant: `WXPAY_MCHID`, `WXPAY_MERCHANT_SERIAL`,
    /// `WXPAY_MERCHANT_KEY` (a path, when the private key is known),
    /// `WXPAY_PLATFORM_CERT` (a path), `WXPAY_PLATFORM_PUBLIC_KEY` (a path) with
    /// `WXPAY_PLATFORM_PUBLIC_KEY_ID`, `WXPAY_APIV3_KEY` and `WXPAY_APIV2_KEY`.
    ///
    /// The directory must exist; the private key file is made readable by its owner only.
    pub fn to_env(&self, dir: &Path) -> io::Result<Vec<(String, String)>> {
        self.pairs(|file, pem, private| {
            let path = dir.join(file);
            if private {
                write_private(&path, pem)?;
            } else {
                std::fs::write(&path, pem)?;
            }
            Ok(path_string(&path))
        })
    }

    /// The same `WXPAY_*` pairs with the PEM texts themselves in place of paths, for a client
    /// in this process (`ClientBuilder::from_settings` in `wxpay` takes them as they are).
    pub fn settings(&self) -> Vec<(String, String)> {
        let inline: io::Result<_> = self.pairs(|_, pem, _| Ok(pem.to_owned()));
        inline.unwrap_or_default()
    }

    /// The pairs, each key given by `value(file name, PEM, private)`.
    fn pairs(
        &self,
        mut value: impl FnMut(&str, &str, bool) -> io::Result<String>,
    ) -> io::Result<Vec<(String, String)>> {
        let mut env = vec![
            ("WXPAY_MCHID".to_owned(), self.mchid.clone()),
            (
                "WXPAY_MERCHANT_SERIAL".to_owned(),
                self.merchant_serial.clone(),
            ),
        ];
        if let Some(key) = &self.merchant_private_key_pem {
            let key = value(MERCHANT_KEY_FILE, key.expose(), true)?;
            env.push(("WXPAY_MERCHANT_KEY".to_owned(), key));
        }
        if let Some(cert) = &self.platform_certificate_pem {
            let cert = value(PLATFORM_CERT_FILE, cert, false)?;
            env.push(("WXPAY_PLATFORM_CERT".to_owned(), cert));
        }
        if let (Some(public_key), Some(id)) = (&self.platform_public_key_pem, &self.public_key_id) {
            let public_key = value(PLATFORM_PUBLIC_KEY_FILE, public_key, false)?;
            env.push(("WXPAY_PLATFORM_PUBLIC_KEY".to_owned(), public_key));
            env.push(("WXPAY_PLATFORM_PUBLIC_KEY_ID".to_owned(), id.clone()));
        }
        env.push((
            "WXPAY_APIV3_KEY".to_owned(),
            self.apiv3_key.expose().to_owned(),
        ));
        env.push((
            "WXPAY_APIV2_KEY".to_owned(),
            self.apiv2_key.expose().to_owned(),
        ));
        Ok(env)
    }
}

fn path_string(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> io::Result<()> {
    std::fs::write(path, contents)
}
