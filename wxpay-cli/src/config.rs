//! Which merchant the command acts for: the embedded sandbox, a profile, or `WXPAY_*`.
//!
//! A profile is a table of `profiles.toml` (`$XDG_CONFIG_HOME/wxpay/profiles.toml`, else
//! `~/.config/wxpay/profiles.toml`; `--profiles FILE` or `WXPAY_PROFILES` name another):
//!
//! ```toml
//! [prod]
//! mchid = "1230000109"
//! merchant_serial = "0A3C5E7F9B1D2F4A6C8E0B2D4F6A8C0E2B4D6F81"
//! merchant_key = "~/keys/apiclient_key.pem"        # a path; never the key itself
//! platform_public_key = "~/keys/pub_key.pem"       # and its id, for public-key merchants
//! platform_public_key_id = "PUB_KEY_ID_0112300001092025110100000000"
//! platform_certificates = ["~/keys/wechatpay.pem"] # certificate merchants
//! apiv3_key = "…"                                   # 32 characters; keep the file 0600
//! apiv2_key = "…"                                   # APIv2 calls and notifications
//! merchant_cert = "~/keys/apiclient_cert.pem"      # APIv2 operations that need it
//! base_url = "http://127.0.0.1:8080"   # optional: every host at once (a sandbox, a proxy)
//! base_urls = { apihk = "https://apihk-proxy.internal.example" }   # optional: one host's
//! ```
//!
//! Relative paths are relative to the profiles file; `~/` is the home directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use wxpay::{ApiV2Key, Client, ClientBuilder, DirectoryStore, Error, Host};
use wxpay_sandbox::Sandbox;

use crate::cli::Global;
use crate::exit::Failure;

/// The favor stock the embedded sandbox starts with.
pub const DEMO_STOCK: &str = "9856888";
/// The multiuse stock the embedded sandbox starts with.
pub const DEMO_MULTIUSE_STOCK: &str = "9856889";

/// A configured client, and the sandbox it talks to when `--sandbox` started one (kept alive
/// as long as the session).
pub struct Session {
    pub client: Client,
    _sandbox: Option<Sandbox>,
}

/// Builds the client the global flags ask for; `store` is where downloaded certificates go.
pub async fn connect(global: &Global, store: Option<DirectoryStore>) -> Result<Session, Failure> {
    connect_trusting(global, store, None).await
}

/// [`connect`], trusting the CA certificate (PEM) at `ca_cert` beside the system's: a local
/// sandbox's TEST CA (`--ca-cert`).
pub async fn connect_trusting(
    global: &Global,
    store: Option<DirectoryStore>,
    ca_cert: Option<&Path>,
) -> Result<Session, Failure> {
    let (builder, sandbox) = if global.sandbox {
        // Configured certificates are never the store's: downloading into one, the
        // sandbox's certificate is not pinned (the download is verified by the public key).
        let (builder, sandbox) = sandbox_builder(store.is_none()).await?;
        (builder, Some(sandbox))
    } else if let Some(name) = &global.profile {
        let path = match &global.profiles {
            Some(path) => path.clone(),
            None => default_profiles_path()?,
        };
        (profile_builder(&path, name)?, None)
    } else {
        let builder = ClientBuilder::from_env().map_err(|error| {
            let mut failure = Failure::from(Error::Config(error));
            failure.notes.push(
                "configure the merchant with the WXPAY_* variables or --profile NAME, \
                 or try --sandbox"
                    .into(),
            );
            failure
        })?;
        (builder, None)
    };
    // One command, one process: no background certificate refresh.
    let mut builder = builder.certificate_refresh_interval(Duration::ZERO);
    if let Some(store) = store {
        builder = builder.certificate_store(store);
    }
    if let Some(path) = ca_cert {
        let pem = std::fs::read_to_string(path).map_err(|error| {
            Failure::config(format!(
                "--ca-cert: cannot read {}: {error}",
                path.display()
            ))
        })?;
        builder = builder.root_certificate(pem);
    }
    let client = builder
        .build()
        .map_err(|error| Failure::from(Error::Config(error)))?;
    Ok(Session {
        client,
        _sandbox: sandbox,
    })
}

/// Starts the embedded sandbox and configures its merchant as a real one would be: its
/// public key, and its platform certificate too when `pin_certificate`.
async fn sandbox_builder(pin_certificate: bool) -> Result<(ClientBuilder, Sandbox), Failure> {
    let sandbox = Sandbox::builder()
        .favor_stock(DEMO_STOCK)
        .multiuse_stock(DEMO_MULTIUSE_STOCK)
        .start()
        .await
        .map_err(|error| {
            Failure::other(format!(
                "cannot start the sandbox: {}",
                crate::exit::chain(&error)
            ))
        })?;
    let merchant = sandbox.merchant();
    let key = merchant
        .merchant_private_key_pem
        .as_ref()
        .ok_or_else(|| Failure::other("the sandbox has no merchant private key"))?;
    let apiv2_key = ApiV2Key::new(merchant.apiv2_key.expose())
        .map_err(|error| Failure::other(format!("the sandbox's APIv2 key: {error}")))?;
    let mut builder = Client::builder()
        .mchid(&merchant.mchid)
        .merchant_key(&merchant.merchant_serial, key.expose())
        .apiv3_key(merchant.apiv3_key.expose())
        .apiv2_key(apiv2_key)
        .base_url(sandbox.base_url());
    if let (true, Some(certificate)) = (pin_certificate, &merchant.platform_certificate_pem) {
        builder = builder.platform_certificate(certificate);
    }
    if let (Some(id), Some(key)) = (&merchant.public_key_id, &merchant.platform_public_key_pem) {
        builder = builder.platform_public_key(id, key);
    }
    eprintln!(
        "wxpay: sandbox at {} (merchant {}, favor stock {DEMO_STOCK}, multiuse stock \
         {DEMO_MULTIUSE_STOCK})",
        sandbox.base_url(),
        merchant.mchid
    );
    Ok((builder, sandbox))
}

/// `$XDG_CONFIG_HOME/wxpay/profiles.toml`, else `~/.config/wxpay/profiles.toml` (on Windows
/// `%APPDATA%\wxpay\profiles.toml`).
fn default_profiles_path() -> Result<PathBuf, Failure> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| home().map(|home| home.join(".config")))
        .or_else(|| std::env::var_os("APPDATA").map(PathBuf::from))
        .ok_or_else(|| {
            Failure::config("cannot find the configuration directory; give --profiles FILE")
        })?;
    Ok(base.join("wxpay").join("profiles.toml"))
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// One table of the profiles file. Keys are paths to files, never the keys themselves.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Profile {
    mchid: String,
    merchant_serial: String,
    merchant_key: String,
    platform_public_key: Option<String>,
    platform_public_key_id: Option<String>,
    #[serde(default)]
    platform_certificates: Vec<String>,
    apiv3_key: Option<String>,
    /// The APIv2 key (32 characters), for APIv2 calls and notifications.
    apiv2_key: Option<String>,
    /// The merchant's API client certificate (`apiclient_cert.pem`), for the APIv2 operations
    /// that need it (its key is `merchant_key`).
    merchant_cert: Option<String>,
    base_url: Option<String>,
    /// A base URL per host key (`apihk = "…"`), over `base_url` and the platform's.
    #[serde(default)]
    base_urls: BTreeMap<String, String>,
}

/// The APIv2 key of profile `name` of the profiles file the global flags name (for checking
/// notifications, which need no client).
pub fn v2_profile_key(global: &Global, name: &str) -> Result<Option<String>, Failure> {
    let path = match &global.profiles {
        Some(path) => path.clone(),
        None => default_profiles_path()?,
    };
    Ok(load_profile(&path, name)?.apiv2_key)
}

/// Table `name` of the profiles file at `path`, with its key files checked to be paths.
fn load_profile(path: &Path, name: &str) -> Result<Profile, Failure> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        Failure::config(format!(
            "cannot read the profiles file {}: {error}",
            path.display()
        ))
    })?;
    let mut table: toml::Table = toml::from_str(&text)
        .map_err(|error| Failure::config(format!("{}: {}", path.display(), error.message())))?;
    let Some(value) = table.remove(name) else {
        let known: Vec<_> = table.keys().map(String::as_str).collect();
        return Err(Failure::config(format!(
            "no profile {name:?} in {} (profiles there: {})",
            path.display(),
            if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            }
        )));
    };
    let at = |reason: String| {
        Failure::config(format!("profile {name:?} in {}: {reason}", path.display()))
    };
    let profile: Profile = value
        .try_into()
        .map_err(|error: toml::de::Error| at(error.message().to_owned()))?;
    for (setting, value) in [
        ("merchant_key", Some(&profile.merchant_key)),
        ("merchant_cert", profile.merchant_cert.as_ref()),
        ("platform_public_key", profile.platform_public_key.as_ref()),
    ]
    .into_iter()
    .chain(
        profile
            .platform_certificates
            .iter()
            .map(|p| ("platform_certificates", Some(p))),
    ) {
        if value.is_some_and(|v| v.contains("-----BEGIN") || v.contains('\n')) {
            return Err(at(format!(
                "{setting} must be the path to a PEM file, not the key itself: keys are never \
                 kept in the profiles file"
            )));
        }
    }
    Ok(profile)
}

fn profile_builder(path: &Path, name: &str) -> Result<ClientBuilder, Failure> {
    let profile = load_profile(path, name)?;
    let at = |reason: String| {
        Failure::config(format!("profile {name:?} in {}: {reason}", path.display()))
    };
    let base = path.parent().unwrap_or(Path::new("."));
    let read = |setting: &str, file: &str| {
        let file = resolve(base, file);
        std::fs::read_to_string(&file).map_err(|error| {
            at(format!(
                "{setting}: cannot read {}: {error}",
                file.display()
            ))
        })
    };
    let mut builder = Client::builder().mchid(profile.mchid).merchant_key(
        profile.merchant_serial,
        read("merchant_key", &profile.merchant_key)?,
    );
    match (&profile.platform_public_key, profile.platform_public_key_id) {
        (Some(file), Some(id)) => {
            builder = builder.platform_public_key(id, read("platform_public_key", file)?);
        }
        (None, None) => {}
        _ => {
            return Err(at(
                "platform_public_key and platform_public_key_id go together".into(),
            ));
        }
    }
    for file in &profile.platform_certificates {
        builder = builder.platform_certificate(read("platform_certificates", file)?);
    }
    if let Some(key) = profile.apiv3_key {
        builder = builder.apiv3_key(key);
    }
    if let Some(key) = profile.apiv2_key {
        // The key's text never goes into the message.
        let key = ApiV2Key::new(key.trim()).map_err(|error| at(format!("apiv2_key: {error}")))?;
        builder = builder.apiv2_key(key);
    }
    if let Some(file) = &profile.merchant_cert {
        builder = builder.merchant_certificate(read("merchant_cert", file)?);
    }
    if let Some(url) = profile.base_url {
        builder = builder.base_url(url);
    }
    for (key, url) in profile.base_urls {
        let host = Host::from_key(&key).ok_or_else(|| {
            let keys: Vec<&str> = Host::ALL.iter().map(|host| host.key()).collect();
            at(format!(
                "base_urls: {key:?} is not a host key ({})",
                keys.join(", ")
            ))
        })?;
        builder = builder.host_base_url(host, url);
    }
    Ok(builder)
}

/// `~/x` under the home directory, a relative path under `base`.
fn resolve(base: &Path, file: &str) -> PathBuf {
    if let (Some(rest), Some(home)) = (file.strip_prefix("~/"), home()) {
        return home.join(rest);
    }
    let path = Path::new(file);
    if path.is_absolute() {
        path.to_owned()
    } else {
        base.join(path)
    }
}
