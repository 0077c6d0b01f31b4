//! The platform's hosts: which one serves an operation is a fact of the operation
//! ([`Endpoint::HOST`](crate::Endpoint::HOST)); which base URL reaches it is the client's
//! setting. The host is not part of the signature, so a request signed for one base URL is
//! valid on any other (the backup host, a sandbox, a proxy).

use std::fmt;

/// A host of the platform, named by its key.
///
/// Most operations live on [`Host::Api`]; the cross-border (`/v3/global/…`, `/global/v3/…`)
/// operations live on [`Host::Apihk`]. A [`Client`](crate::Client) maps each key to a base URL:
/// the platform's by default, each overridable in the builder
/// ([`ClientBuilder::host_base_url`](crate::ClientBuilder::host_base_url)) or by a
/// `WXPAY_BASE_URL_<KEY>` variable, and all of them at once with
/// [`ClientBuilder::base_url`](crate::ClientBuilder::base_url) (a sandbox serves every host).
///
/// ```
/// use wxpay_core::Host;
/// assert_eq!(Host::Apihk.key(), "apihk");
/// assert_eq!(Host::from_key("apihk"), Some(Host::Apihk));
/// assert_eq!(Host::Apihk.default_base_url(), "https://apihk.mch.weixin.qq.com");
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Host {
    /// `api.mch.weixin.qq.com`, with the backup host `api2.wechatpay.cn`.
    #[default]
    Api,
    /// `apihk.mch.weixin.qq.com`: the cross-border operations.
    Apihk,
    /// `fraud.mch.weixin.qq.com`: APIv2 risk operations.
    Fraud,
    /// `payapp.weixin.qq.com`: APIv2 payment-code operations.
    Payapp,
    /// `payapp.mch.weixin.qq.com`: the APIv2 real-name authorization page (`authindex`),
    /// which the user's browser opens.
    PayappMch,
}

impl Host {
    /// Every host, in the order of their keys' declaration.
    pub const ALL: [Host; 5] = [
        Host::Api,
        Host::Apihk,
        Host::Fraud,
        Host::Payapp,
        Host::PayappMch,
    ];

    /// The key that names the host: in `#[endpoint(…, host = apihk)]`, in
    /// `WXPAY_BASE_URL_APIHK` (upper case: `WXPAY_BASE_URL_PAYAPP_MCH`) and in the CLI's
    /// listing.
    pub const fn key(self) -> &'static str {
        match self {
            Host::Api => "api",
            Host::Apihk => "apihk",
            Host::Fraud => "fraud",
            Host::Payapp => "payapp",
            Host::PayappMch => "payapp_mch",
        }
    }

    /// The host a key names; `None` for a key the SDK does not know.
    pub fn from_key(key: &str) -> Option<Host> {
        Host::ALL.into_iter().find(|host| host.key() == key)
    }

    /// The platform's base URL for this host.
    pub const fn default_base_url(self) -> &'static str {
        match self {
            Host::Api => "https://api.mch.weixin.qq.com",
            Host::Apihk => "https://apihk.mch.weixin.qq.com",
            Host::Fraud => "https://fraud.mch.weixin.qq.com",
            Host::Payapp => "https://payapp.weixin.qq.com",
            Host::PayappMch => "https://payapp.mch.weixin.qq.com",
        }
    }

    /// The platform's backup base URL for this host, where it has one.
    pub const fn default_backup_url(self) -> Option<&'static str> {
        match self {
            Host::Api => Some("https://api2.wechatpay.cn"),
            Host::Apihk | Host::Fraud | Host::Payapp | Host::PayappMch => None,
        }
    }

    /// The position in [`Host::ALL`], for tables indexed by host.
    pub(crate) const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// Where a client sends each host's requests: a base URL per host and, where there is one,
/// the backup a connection failure moves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HostUrls {
    base: [String; Host::ALL.len()],
    backup: [Option<String>; Host::ALL.len()],
}

impl HostUrls {
    /// `base` and `backup` per host, in the order of [`Host::ALL`].
    pub(crate) fn new(
        base: [String; Host::ALL.len()],
        backup: [Option<String>; Host::ALL.len()],
    ) -> HostUrls {
        HostUrls { base, backup }
    }

    /// The base URL (scheme and authority, no trailing `/`) of `host`.
    pub(crate) fn base(&self, host: Host) -> &str {
        &self.base[host.index()]
    }

    /// Every distinct base URL, the API host's first.
    pub(crate) fn bases(&self) -> impl Iterator<Item = &str> {
        self.base
            .iter()
            .enumerate()
            .filter(|(i, base)| !self.base[..*i].contains(base))
            .map(|(_, base)| base.as_str())
    }

    /// The backup of the host whose base URL is `origin` (`scheme://authority`), if any.
    pub(crate) fn backup_of(&self, origin: &str) -> Option<&str> {
        Host::ALL
            .iter()
            .find(|host| self.base(**host).eq_ignore_ascii_case(origin))
            .and_then(|host| self.backup[host.index()].as_deref())
    }

    /// Whether any host fails over.
    pub(crate) fn any_backup(&self) -> bool {
        self.backup.iter().any(Option::is_some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_their_hosts_both_ways() {
        for host in Host::ALL {
            assert_eq!(Host::from_key(host.key()), Some(host));
            assert_eq!(Host::ALL[host.index()], host);
            assert!(host.default_base_url().starts_with("https://"));
            assert_eq!(host.to_string(), host.key());
        }
        assert_eq!(Host::from_key("APIHK"), None);
        assert_eq!(Host::from_key("payapp_mch"), Some(Host::PayappMch));
        assert_eq!(
            Host::PayappMch.default_base_url(),
            "https://payapp.mch.weixin.qq.com"
        );
        assert_eq!(Host::from_key(""), None);
    }

    #[test]
    fn a_backup_belongs_to_the_base_it_was_set_for() {
        let urls = HostUrls::new(
            Host::ALL.map(|host| host.default_base_url().to_owned()),
            Host::ALL.map(|host| host.default_backup_url().map(str::to_owned)),
        );
        assert_eq!(
            urls.backup_of("https://api.mch.weixin.qq.com"),
            Some("https://api2.wechatpay.cn")
        );
        assert_eq!(urls.backup_of("https://apihk.mch.weixin.qq.com"), None);
        assert_eq!(urls.backup_of("https://elsewhere.example"), None);
        assert_eq!(urls.bases().count(), 5);

        let one = HostUrls::new(
            Host::ALL.map(|_| "http://127.0.0.1:1".to_owned()),
            Host::ALL.map(|_| None),
        );
        assert_eq!(one.bases().collect::<Vec<_>>(), ["http://127.0.0.1:1"]);
        assert!(!one.any_backup());
    }
}
