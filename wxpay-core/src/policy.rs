//! How a client's refreshes and downloads are bounded: what the builder sets and the layers
//! above the client read. (How calls are retried is [`RetryPolicy`](crate::RetryPolicy).)

use std::time::Duration;

/// When certificates are downloaded.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RefreshPolicy {
    /// Background refresh period; `None` turns it off.
    pub(crate) interval: Option<Duration>,
    /// Least time between two downloads triggered by unknown serials.
    pub(crate) unknown_serial_cooldown: Duration,
}

/// What a download may take, set with [`ClientBuilder::download_timeouts`] and
/// [`ClientBuilder::download_limits`](crate::ClientBuilder::download_limits).
///
/// [`ClientBuilder::download_timeouts`]: crate::ClientBuilder::download_timeouts
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DownloadLimits {
    /// The longest wait for the next byte.
    pub(crate) idle: Duration,
    /// The longest whole download, `None` for no limit.
    pub(crate) overall: Option<Duration>,
    /// The most bytes written (after decompression).
    pub(crate) max_bytes: u64,
    /// The largest decompressed-to-received ratio.
    pub(crate) max_ratio: u64,
}

impl Default for DownloadLimits {
    /// 30 s idle, 1 hour overall, 4 GiB, ratio 100. A daily trade bill row is about 250
    /// bytes, so 4 GiB is some 16 million transactions a day. Bill CSV compresses about 4:1
    /// with real ids and 19:1 when every row is alike (measured); a GZIP bomb runs at the
    /// format's ceiling of about 1030:1.
    fn default() -> Self {
        DownloadLimits {
            idle: Duration::from_secs(30),
            overall: Some(Duration::from_secs(60 * 60)),
            max_bytes: 4 << 30,
            max_ratio: 100,
        }
    }
}
