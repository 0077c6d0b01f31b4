//! The wall clock, read in one place: request timestamps, the skew check of answers and
//! notifications, certificate validity, fleet claims.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch; a clock set before 1970 reads as 0 (and then fails the
/// timestamp check loudly rather than panicking).
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_the_system_clock() {
        let before = time::OffsetDateTime::now_utc().unix_timestamp();
        let now = super::unix_now();
        let after = time::OffsetDateTime::now_utc().unix_timestamp();
        assert!(before <= now && now <= after, "{before} {now} {after}");
    }
}
