//! The platform's clocks (wall time for timestamps, monotonic time for rotations) and
//! its way of writing times: RFC 3339 in Beijing time.

use time::macros::{format_description, offset};
use time::{OffsetDateTime, UtcOffset};

/// China Standard Time, the offset every platform timestamp is written in.
pub(crate) const BEIJING: UtcOffset = offset!(+8);

/// The current instant.
pub(crate) fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// The current instant on the monotonic clock, which times certificate rotations.
/// It is tokio's, so a test running with paused time can move it forward.
pub(crate) fn monotonic() -> tokio::time::Instant {
    tokio::time::Instant::now()
}

/// Seconds since the Unix epoch, as in `Wechatpay-Timestamp`.
pub(crate) fn unix_seconds(t: OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

/// `2024-05-20T13:29:35+08:00`: RFC 3339 at whole seconds with the `+08:00` offset.
pub(crate) fn rfc3339_beijing(t: OffsetDateTime) -> String {
    let format = format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][offset_hour sign:mandatory]:[offset_minute]"
    );
    // Formatting into a String only fails for components the value lacks; an
    // OffsetDateTime has them all.
    t.to_offset(BEIJING).format(&format).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn writes_beijing_time() {
        assert_eq!(
            rfc3339_beijing(datetime!(2024-05-20 05:29:35.120 UTC)),
            "2024-05-20T13:29:35+08:00"
        );
    }
}
