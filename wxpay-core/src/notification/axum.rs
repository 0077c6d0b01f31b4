//! The axum integration: [`Notification`] as an extractor, [`Reply`] as a response; the same
//! for APIv2 ([`apiv2::Notification`], [`apiv2::Reply`]).

use axum::body::Body;
use axum::extract::{FromRef, FromRequest, Request};
use axum::response::{IntoResponse, Response};

use super::{MAX_NOTIFICATION_BYTES, Notification, Reply};
use crate::apiv2;
use crate::client::Client;
use crate::error::{Error, NotificationError};

/// Why the [`Notification`] extractor refused a request. As a response it is
/// [`Reply::rejecting`] of the error, so the platform delivers the notification again.
#[derive(Debug)]
pub struct NotificationRejection(pub Error);

impl IntoResponse for NotificationRejection {
    fn into_response(self) -> Response {
        IntoResponse::into_response(Reply::rejecting(&self.0))
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        Reply::into_http_response(self).map(Body::from)
    }
}

/// Reads the raw body and hands it, with the headers, to
/// [`Client::read_notification`]; the client comes from the router state (`Client:
/// FromRef<S>`).
///
/// ```no_run
/// use axum::{Router, routing::post};
/// use wxpay_core::Client;
/// use wxpay_core::notification::{Notification, Reply};
///
/// async fn notify(notification: Notification) -> Reply {
///     println!("{} {}", notification.id, notification.event_type.as_str());
///     Reply::success()
/// }
///
/// # fn app(client: Client) -> Router {
/// Router::new().route("/wxpay/notify", post(notify)).with_state(client)
/// # }
/// ```
impl<S> FromRequest<S> for Notification
where
    S: Send + Sync,
    Client: FromRef<S>,
{
    type Rejection = NotificationRejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let client = Client::from_ref(state);
        let (parts, body) = request.into_parts();
        let body = axum::body::to_bytes(body, MAX_NOTIFICATION_BYTES)
            .await
            .map_err(|_| {
                NotificationRejection(Error::Notification(NotificationError::UnreadableBody))
            })?;
        client
            .read_notification(&parts.headers, &body)
            .await
            .map_err(NotificationRejection)
    }
}

/// Why the APIv2 [`Notification`](crate::apiv2::Notification) extractor refused a request. As
/// a response it is [`apiv2::Reply::rejecting`] of the error (a `FAIL` XML answer), so the
/// platform delivers the notification again.
#[derive(Debug)]
pub struct ApiV2NotificationRejection(pub Error);

impl IntoResponse for ApiV2NotificationRejection {
    fn into_response(self) -> Response {
        IntoResponse::into_response(apiv2::Reply::rejecting(&self.0))
    }
}

impl IntoResponse for apiv2::Reply {
    fn into_response(self) -> Response {
        apiv2::Reply::into_http_response(self).map(Body::from)
    }
}

/// Reads the raw body and hands it to [`Client::read_apiv2_notification`]; the client comes
/// from the router state (`Client: FromRef<S>`). Answer with [`apiv2::Reply::acknowledge`]
/// once the notification is taken.
///
/// ```no_run
/// use axum::{Router, routing::post};
/// use wxpay_core::Client;
/// use wxpay_core::apiv2::{Notification, Reply};
///
/// async fn notify(notification: Notification) -> Reply {
///     match notification {
///         Notification::Payment(fields) => println!("paid {:?}", fields.get("out_trade_no")),
///         Notification::Refund(refund) => println!("refunded {:?}", refund.refund.get("out_refund_no")),
///         _ => {}
///     }
///     Reply::acknowledge()
/// }
///
/// # fn app(client: Client) -> Router {
/// Router::new().route("/wxpay/v2/notify", post(notify)).with_state(client)
/// # }
/// ```
impl<S> FromRequest<S> for apiv2::Notification
where
    S: Send + Sync,
    Client: FromRef<S>,
{
    type Rejection = ApiV2NotificationRejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let client = Client::from_ref(state);
        let body = axum::body::to_bytes(request.into_body(), apiv2::MAX_NOTIFICATION_LEN)
            .await
            .map_err(|_| {
                ApiV2NotificationRejection(Error::Notification(NotificationError::UnreadableBody))
            })?;
        client
            .read_apiv2_notification(&body)
            .map_err(ApiV2NotificationRejection)
    }
}
