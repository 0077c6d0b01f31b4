//! When a failed call is tried again: a pure decision, so the policy is tested without a
//! network.
//!
//! The rule that keeps money safe: a call that may have reached the platform is repeated only
//! when repeating it cannot act twice — GET, PUT and DELETE, and endpoints declared idempotent
//! because they carry a caller-chosen request number (`out_trade_no`, `out_request_no`, …).
//! A call whose connection was never made is always safe to repeat.

use std::time::{Duration, SystemTime};

use http::StatusCode;

use crate::error::{TransportError, TransportErrorKind};

/// How often and how patiently failed calls are tried again.
///
/// The default tries each call up to 3 times, waiting about 100 ms, then 200 ms (with jitter),
/// and follows a `Retry-After` (seconds or an HTTP date) of up to 10 s.
///
/// ```
/// use std::time::Duration;
/// let patient = wxpay_core::RetryPolicy::default().max_attempts(5).base_delay(Duration::from_millis(250));
/// let never = wxpay_core::RetryPolicy::never();
/// # let _ = (patient, never);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    base_delay: Duration,
    max_delay: Duration,
    max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
            max_retry_after: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// Every call is tried once.
    pub fn never() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// Attempts in all, the first included (at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The wait before the second attempt; it doubles for each further one.
    pub fn base_delay(mut self, delay: Duration) -> Self {
        self.base_delay = delay;
        self
    }

    /// The longest wait between attempts (without `Retry-After`).
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// The longest `Retry-After` followed; a longer one ends the retries.
    pub fn max_retry_after(mut self, delay: Duration) -> Self {
        self.max_retry_after = delay;
        self
    }
}

/// How one attempt ended, as far as retrying is concerned.
#[derive(Debug)]
pub(crate) enum Attempt<'a> {
    /// The platform answered with this status.
    Answered {
        status: StatusCode,
        retry_after: Option<Duration>,
    },
    /// The transport failed.
    Failed(&'a TransportError),
}

/// The wait before trying again after `attempt` (1 for the first) ended as `outcome`, or
/// `None` to stop. `jitter` in `[0, 1]` spreads the waits of many clients.
pub(crate) fn delay_before_retry(
    policy: &RetryPolicy,
    attempt: u32,
    outcome: &Attempt<'_>,
    idempotent: bool,
    jitter: f64,
) -> Option<Duration> {
    if attempt >= policy.max_attempts {
        return None;
    }
    let (retryable, retry_after) = match outcome {
        Attempt::Answered {
            status,
            retry_after,
        } => (
            idempotent && (status.is_server_error() || *status == StatusCode::TOO_MANY_REQUESTS),
            *retry_after,
        ),
        Attempt::Failed(error) => {
            let transient = matches!(
                error.kind,
                TransportErrorKind::Timeout | TransportErrorKind::Interrupted
            );
            (!error.request_sent() || (idempotent && transient), None)
        }
    };
    if !retryable {
        return None;
    }
    let doubling = 2u32.saturating_pow(attempt.saturating_sub(1));
    let backoff = policy
        .base_delay
        .saturating_mul(doubling)
        .min(policy.max_delay);
    let backoff = backoff.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0));
    match retry_after {
        Some(asked) if asked > policy.max_retry_after => None,
        Some(asked) => Some(asked.max(backoff)),
        None => Some(backoff),
    }
}

/// `Retry-After` as seconds or as an HTTP date (RFC 9110: a gateway in front of the platform
/// may send either), as a wait from `now`; a date already past means no wait.
pub(crate) fn parse_retry_after(
    value: Option<&http::HeaderValue>,
    now: SystemTime,
) -> Option<Duration> {
    let text = value?.to_str().ok()?.trim();
    match text.parse::<u64>() {
        Ok(seconds) => Some(Duration::from_secs(seconds)),
        Err(_) => {
            let at = httpdate::parse_http_date(text).ok()?;
            Some(at.duration_since(now).unwrap_or(Duration::ZERO))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(kind: TransportErrorKind) -> TransportError {
        TransportError::new(kind, "test")
    }

    fn answered(status: u16) -> Attempt<'static> {
        Attempt::Answered {
            status: StatusCode::from_u16(status).expect("status"),
            retry_after: None,
        }
    }

    #[test]
    fn a_request_that_never_left_is_always_retried() {
        let error = failed(TransportErrorKind::Connect);
        for idempotent in [false, true] {
            assert!(
                delay_before_retry(
                    &RetryPolicy::default(),
                    1,
                    &Attempt::Failed(&error),
                    idempotent,
                    0.5
                )
                .is_some()
            );
        }
    }

    #[test]
    fn a_request_that_may_have_arrived_is_retried_only_when_idempotent() {
        for kind in [TransportErrorKind::Timeout, TransportErrorKind::Interrupted] {
            let error = failed(kind);
            let policy = RetryPolicy::default();
            assert!(
                delay_before_retry(&policy, 1, &Attempt::Failed(&error), false, 0.5).is_none(),
                "{kind:?}"
            );
            assert!(
                delay_before_retry(&policy, 1, &Attempt::Failed(&error), true, 0.5).is_some(),
                "{kind:?}"
            );
        }
        let redirect = failed(TransportErrorKind::Redirect { status: 307 });
        assert!(redirect.request_sent());
        assert!(
            delay_before_retry(
                &RetryPolicy::default(),
                1,
                &Attempt::Failed(&redirect),
                true,
                0.5
            )
            .is_none(),
            "a redirect reached a server and is never retried"
        );
        let too_large = failed(TransportErrorKind::TooLarge { limit: 1 });
        assert!(
            delay_before_retry(
                &RetryPolicy::default(),
                1,
                &Attempt::Failed(&too_large),
                true,
                0.5
            )
            .is_none()
        );
    }

    #[test]
    fn server_errors_and_429_are_retried_only_when_idempotent() {
        let policy = RetryPolicy::default();
        for status in [500, 502, 503, 429] {
            assert!(
                delay_before_retry(&policy, 1, &answered(status), false, 0.5).is_none(),
                "{status}"
            );
            assert!(
                delay_before_retry(&policy, 1, &answered(status), true, 0.5).is_some(),
                "{status}"
            );
        }
        for status in [200, 204, 400, 401, 403, 404] {
            assert!(
                delay_before_retry(&policy, 1, &answered(status), true, 0.5).is_none(),
                "{status}"
            );
        }
    }

    #[test]
    fn attempts_stop_at_the_maximum() {
        let policy = RetryPolicy::default().max_attempts(3);
        assert!(delay_before_retry(&policy, 2, &answered(503), true, 0.5).is_some());
        assert!(delay_before_retry(&policy, 3, &answered(503), true, 0.5).is_none());
        assert!(delay_before_retry(&RetryPolicy::never(), 1, &answered(503), true, 0.5).is_none());
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let policy = RetryPolicy::default()
            .base_delay(Duration::from_millis(100))
            .max_delay(Duration::from_millis(300))
            .max_attempts(10);
        let at = |attempt, jitter| {
            delay_before_retry(&policy, attempt, &answered(503), true, jitter).expect("retry")
        };
        assert_eq!(at(1, 1.0), Duration::from_millis(100));
        assert_eq!(at(1, 0.0), Duration::from_millis(50));
        assert_eq!(at(2, 1.0), Duration::from_millis(200));
        assert_eq!(at(3, 1.0), Duration::from_millis(300));
        assert_eq!(at(9, 1.0), Duration::from_millis(300));
    }

    #[test]
    fn retry_after_is_honoured_up_to_its_limit() {
        let policy = RetryPolicy::default();
        let asked = |secs| Attempt::Answered {
            status: StatusCode::TOO_MANY_REQUESTS,
            retry_after: Some(Duration::from_secs(secs)),
        };
        assert_eq!(
            delay_before_retry(&policy, 1, &asked(3), true, 0.5),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            delay_before_retry(&policy, 1, &asked(3600), true, 0.5),
            None
        );
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_475);
        let header = |text| http::HeaderValue::from_static(text);
        assert_eq!(
            parse_retry_after(Some(&header("7")), now),
            Some(Duration::from_secs(7))
        );
        // 2015-10-21T07:28:00Z is 5 s after `now`; a date before it means now.
        assert_eq!(
            parse_retry_after(Some(&header("Wed, 21 Oct 2015 07:28:00 GMT")), now),
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            parse_retry_after(Some(&header("Wed, 21 Oct 2015 07:27:00 GMT")), now),
            Some(Duration::ZERO)
        );
        for bad in ["-1", "soon", "Wed, 21 Oct 2015 07:28:00", ""] {
            assert_eq!(parse_retry_after(Some(&header(bad)), now), None, "{bad}");
        }
        assert_eq!(parse_retry_after(None, now), None);
    }
}
