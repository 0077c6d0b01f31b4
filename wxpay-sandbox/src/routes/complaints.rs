//! Consumer complaints: the one answer of the sandbox with fields encrypted for the merchant.
//! The complainant's phone number is encrypted with the merchant's public key (RSA-OAEP,
//! SHA-1), as the platform does, so a client must decrypt it with the merchant key.

use std::sync::Arc;

use aws_lc_rs::rsa::{OAEP_SHA1_MGF1SHA1, OaepPublicEncryptingKey, PublicEncryptingKey};
use axum::extract::State;
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use super::{QueryParams, json_ok};
use crate::error::ApiError;
use crate::state::Platform;

/// The complaints every sandbox holds: (id, phone number, detail). The phone numbers are
/// public test data; tests compare the decrypted values with them.
pub(crate) const COMPLAINTS: [(&str, &str, &str); 3] = [
    (
        "200201820200101080076610000",
        "13800138000",
        "反馈一个重复扣费的问题",
    ),
    ("200201820200101080076610001", "13900139000", "商品未送达"),
    ("200201820200101080076610002", "13700137000", "服务态度差"),
];

/// `GET /v3/merchant-service/complaints-v2?limit=&offset=&begin_date=&end_date=`
pub(super) async fn list(
    State(platform): State<Arc<Platform>>,
    QueryParams(query): QueryParams,
) -> Result<Response, ApiError> {
    for name in ["begin_date", "end_date"] {
        let date = query.get(name).map(String::as_str).unwrap_or_default();
        let shaped = date.len() == 10
            && date.char_indices().all(|(i, c)| {
                if i == 4 || i == 7 {
                    c == '-'
                } else {
                    c.is_ascii_digit()
                }
            });
        if !shaped {
            return Err(ApiError::param(format!(
                "{name} must be a date, YYYY-MM-DD"
            )));
        }
    }
    let number = |name: &str, default: usize| match query.get(name) {
        None => Ok(default),
        Some(text) => text
            .parse::<usize>()
            .map_err(|_| ApiError::param(format!("{name} must be a number"))),
    };
    let limit = number("limit", 10)?;
    let offset = number("offset", 0)?;
    if !(1..=50).contains(&limit) {
        return Err(ApiError::param("limit must be between 1 and 50"));
    }
    let cannot = |_| ApiError::system("the merchant's public key cannot encrypt");
    let key = PublicEncryptingKey::from_der(platform.merchant.public_key_der())
        .map_err(|_| cannot(()))
        .and_then(|key| OaepPublicEncryptingKey::new(key).map_err(|_| cannot(())))?;
    let mut data = Vec::new();
    for (id, phone, detail) in COMPLAINTS.iter().skip(offset).take(limit) {
        let mut ciphertext = vec![0u8; key.ciphertext_size()];
        let written = key
            .encrypt(&OAEP_SHA1_MGF1SHA1, phone.as_bytes(), &mut ciphertext, None)
            .map_err(|_| ApiError::system("encryption failed"))?;
        data.push(json!({
            "complaint_id": id,
            "complaint_time": "2026-01-05T13:29:35.120+08:00",
            "complaint_detail": detail,
            "complaint_state": "PENDING",
            "complainted_mchid": platform.mchid,
            "payer_phone": STANDARD.encode(&*written),
            "complaint_order_info": [{
                "transaction_id": "4200000404201909069117582536",
                "out_trade_no": "20190906154617947762231",
                "amount": 3,
            }],
            "complaint_full_refunded": false,
            "incoming_user_response": false,
            "problem_description": "不满意商家服务",
            "user_complaint_times": 1,
        }));
    }
    Ok(json_ok(json!({
        "data": data,
        "limit": limit,
        "offset": offset,
        "total_count": COMPLAINTS.len(),
    })))
}
