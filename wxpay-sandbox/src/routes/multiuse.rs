//! 消费金 (multiuse) coupons: issued to a user named by encrypted fields.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::json;
use zeroize::Zeroizing;

use super::{PathParam, json_body, json_ok};
use crate::clock;
use crate::error::ApiError;
use crate::signing::WECHATPAY_SERIAL;
use crate::state::Platform;

#[derive(Deserialize)]
struct SendMultiuseBody {
    stock_id: String,
    out_request_no: String,
    user_name: String,
    id_card_number: String,
    #[serde(default)]
    amount: Option<u64>,
    appid: String,
    card_type: String,
}

/// Decrypts one sensitive field. The plaintext is wiped on drop and never logged.
fn decrypt_field(
    platform: &Platform,
    serial: &str,
    field: &str,
    ciphertext: &str,
) -> Result<Zeroizing<String>, ApiError> {
    let bad = || {
        ApiError::param(format!(
            "{field} is not RSA-OAEP ciphertext for the platform key named by Wechatpay-Serial"
        ))
    };
    let bytes = STANDARD.decode(ciphertext).map_err(|_| bad())?;
    let plaintext = platform
        .keys
        .decrypt_for(serial, &bytes, clock::monotonic())
        .map_err(|_| bad())?;
    let text = std::str::from_utf8(&plaintext).map_err(|_| bad())?;
    if text.trim().is_empty() {
        return Err(ApiError::param(format!(
            "{field} decrypts to an empty value"
        )));
    }
    Ok(Zeroizing::new(text.to_owned()))
}

/// `POST /v3/multiuse/users/{openid}/coupons`
pub(super) async fn send_coupon(
    State(platform): State<Arc<Platform>>,
    PathParam(openid): PathParam,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    // The gate has already refused unknown serials; here the header must be present.
    let Some(serial) = headers
        .get(WECHATPAY_SERIAL)
        .and_then(|serial| serial.to_str().ok())
    else {
        return Err(ApiError::param(
            "Wechatpay-Serial header is required: user_name and id_card_number are encrypted",
        ));
    };
    let body: SendMultiuseBody = json_body(&body)?;
    for (field, value) in [
        ("stock_id", &body.stock_id),
        ("out_request_no", &body.out_request_no),
        ("appid", &body.appid),
    ] {
        if value.trim().is_empty() {
            return Err(ApiError::param(format!("{field} must not be empty")));
        }
    }
    if body.card_type != "ID_CARD" {
        return Err(ApiError::param(format!(
            "card_type {:?} is not ID_CARD",
            body.card_type
        )));
    }
    if body.amount == Some(0) {
        return Err(ApiError::param("amount must be positive"));
    }
    let user_name = decrypt_field(&platform, serial, "user_name", &body.user_name)?;
    let id_card_number = decrypt_field(&platform, serial, "id_card_number", &body.id_card_number)?;
    // The sandbox only checks that the identity decrypts; it keeps none of it.
    drop((user_name, id_card_number));
    let (coupon_id, repeat) = {
        let mut store = platform.store();
        let repeat = store.multiuse_request_seen(&body.out_request_no);
        let coupon_id =
            store.send_multiuse_coupon(&body.stock_id, &openid, &body.out_request_no)?;
        (coupon_id, repeat)
    };
    if !repeat {
        crate::notify::multiuse_coupon_sent(
            &platform,
            &body.stock_id,
            &coupon_id,
            &openid,
            &body.out_request_no,
        );
    }
    Ok(json_ok(json!({ "coupon_id": coupon_id })))
}
