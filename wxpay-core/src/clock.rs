//! The wall clock, read in one place: request timestamps, the skew check of answers and
//! notifications, certificate validity, fleet claims. And the jitter timers are spread with.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch; a clock set before 1970 reads as 0 (and then fails the
/// timestamp check loudly rather than panicking).
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// A uniform number in `[0, 1]` from the system RNG (0.5 if it fails: jitter is not security).
pub(crate) fn jitter() -> f64 {
    let mut byte = [0u8; 1];
    if getrandom::fill(&mut byte).is_ok() {
        f64::from(byte[0]) / 255.0
    } else {
        0.5
    }
}

/// `interval` ± 10 %, so a fleet started together does not download together. Saturates at
/// `Duration::MAX` (an interval meant as "never" must not panic the refresher).
pub(crate) fn with_jitter(interval: Duration) -> Duration {
    Duration::try_from_secs_f64(interval.as_secs_f64() * (0.9 + 0.2 * jitter()))
        .unwrap_or(Duration::MAX)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::with_jitter;

    #[test]
    fn jitter_saturates_instead_of_panicking() {
        // The old `mul_f64` panicked whenever the jitter came out above 1.0.
        for _ in 0..64 {
            assert!(with_jitter(Duration::MAX) >= Duration::MAX.mul_f64(0.89));
        }
        let jittered = with_jitter(Duration::from_secs(100));
        assert!((90..=110).contains(&jittered.as_secs()), "{jittered:?}");
    }

    #[test]
    fn reads_the_system_clock() {
        let before = time::OffsetDateTime::now_utc().unix_timestamp();
        let now = super::unix_now();
        let after = time::OffsetDateTime::now_utc().unix_timestamp();
        assert!(before <= now && now <= after, "{before} {now} {after}");
    }
}
