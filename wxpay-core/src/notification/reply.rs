//! The answer to a notification: 204 to acknowledge, 4xx/5xx with `{code, message}` to have
//! the platform deliver it again.

use bytes::Bytes;
use http::StatusCode;
use http::header::CONTENT_TYPE;

use crate::error::Error;

/// The answer to a notification delivery.
///
/// ```
/// use wxpay_core::notification::Reply;
///
/// let ok = Reply::success().into_http_response();
/// assert_eq!(ok.status(), 204);
///
/// let retry = Reply::failure(http::StatusCode::SERVICE_UNAVAILABLE, "SYSTEM_ERROR", "database down");
/// let response = retry.into_http_response();
/// assert_eq!(response.status(), 503);
/// assert_eq!(&response.body()[..], br#"{"code":"SYSTEM_ERROR","message":"database down"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    status: StatusCode,
    failure: Option<(String, String)>,
}

impl Reply {
    /// The acknowledgement: 204 with no body. Send it once the event is stored (or was already
    /// handled: acknowledge duplicates too, or they keep coming).
    pub fn success() -> Reply {
        Reply {
            status: StatusCode::NO_CONTENT,
            failure: None,
        }
    }

    /// A failure: the platform will deliver the notification again. A `status` that is not a
    /// 4xx or 5xx becomes 500, so a failure can never read as an acknowledgement.
    pub fn failure(
        status: StatusCode,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Reply {
        let status = if status.is_client_error() || status.is_server_error() {
            status
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        };
        Reply {
            status,
            failure: Some((code.into(), message.into())),
        }
    }

    /// The failure for a notification that could not be read. The message names the kind of
    /// problem only: the details are for the merchant's logs, not for whoever sent the request.
    ///
    /// ```
    /// use wxpay_core::notification::Reply;
    /// use wxpay_core::{Error, VerificationError};
    ///
    /// let probe = Error::Verification { kind: VerificationError::SignatureProbe, request_id: None };
    /// assert_eq!(Reply::rejecting(&probe).status(), 401);
    /// ```
    pub fn rejecting(error: &Error) -> Reply {
        match error {
            Error::Verification { .. } => Reply::failure(
                StatusCode::UNAUTHORIZED,
                "SIGN_ERROR",
                "signature verification failed",
            ),
            Error::Notification(_) => Reply::failure(
                StatusCode::BAD_REQUEST,
                "PARAM_ERROR",
                "the notification could not be decrypted or read",
            ),
            _ => Reply::failure(
                StatusCode::INTERNAL_SERVER_ERROR,
                "SYSTEM_ERROR",
                "the notification could not be processed",
            ),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// Whether this acknowledges the notification.
    pub fn is_success(&self) -> bool {
        self.failure.is_none()
    }

    /// The HTTP response, for any web framework (with the `axum` feature `Reply` is also an
    /// `axum::response::IntoResponse`).
    pub fn into_http_response(self) -> http::Response<Bytes> {
        let mut response = http::Response::new(Bytes::new());
        *response.status_mut() = self.status;
        if let Some((code, message)) = self.failure {
            let body = serde_json::json!({ "code": code, "message": message });
            *response.body_mut() = Bytes::from(body.to_string());
            response.headers_mut().insert(
                CONTENT_TYPE,
                http::HeaderValue::from_static("application/json"),
            );
        }
        response
    }
}
