//! 消费金: sensitive fields encrypted with the platform key, named by Wechatpay-Serial.

use crate::common;

use common::{Merchant, encrypt_field};
use serde_json::json;
use wxpay_sandbox::{KeyMode, SANDBOX_APPID, SANDBOX_OPENID, Sandbox};

fn body(merchant: &Merchant, stock_id: &str, out_request_no: &str) -> String {
    let key = merchant.platform_key();
    json!({
        "stock_id": stock_id,
        "out_request_no": out_request_no,
        "user_name": encrypt_field(&key, "张三"),
        "id_card_number": encrypt_field(&key, "110101199003070000"),
        "amount": 10000,
        "appid": SANDBOX_APPID,
        "card_type": "ID_CARD",
    })
    .to_string()
}

const URL: &str = "/v3/multiuse/users/oUpF8uMuAJO_M2pxb1Q9zNjWeS6o/coupons";

#[tokio::test]
async fn issues_with_whichever_platform_id_the_mode_has() {
    for mode in [KeyMode::Certificate, KeyMode::PublicKey, KeyMode::Both] {
        let sandbox = Sandbox::builder()
            .key_mode(mode)
            .start()
            .await
            .expect("start");
        let merchant = Merchant::of(&sandbox);
        let stock = sandbox.multiuse_stock_ids()[0].clone();
        let settings = sandbox.merchant();
        let serials: Vec<String> = [
            settings.platform_certificate_serial.clone(),
            settings.public_key_id.clone(),
        ]
        .into_iter()
        .flatten()
        .collect();
        for (i, serial) in serials.iter().enumerate() {
            let out_request_no = format!("m-{i}");
            let request = body(&merchant, &stock, &out_request_no);
            let reply = merchant
                .verified("POST", URL, &request, &[("Wechatpay-Serial", serial)])
                .await;
            assert_eq!(reply.status, 200, "{mode:?} {serial}: {reply:?}");
            let coupon = reply.json()["coupon_id"]
                .as_str()
                .expect("coupon_id")
                .to_owned();
            // A repeat (fresh ciphertexts, same out_request_no) gives the same coupon.
            let again = merchant
                .verified(
                    "POST",
                    URL,
                    &body(&merchant, &stock, &out_request_no),
                    &[("Wechatpay-Serial", serial)],
                )
                .await;
            assert_eq!(again.json()["coupon_id"], coupon.as_str());
        }
        sandbox.shutdown().await;
    }
}

#[tokio::test]
async fn refuses_what_it_cannot_decrypt_or_place() {
    let sandbox = Sandbox::builder()
        .key_mode(KeyMode::PublicKey)
        .multiuse_stock("77000001")
        .start()
        .await
        .expect("start");
    let merchant = Merchant::of(&sandbox);
    let serial = sandbox
        .merchant()
        .public_key_id
        .clone()
        .expect("public key id");
    let with_serial = [("Wechatpay-Serial", serial.as_str())];
    let good = body(&merchant, "77000001", "ok");

    // No Wechatpay-Serial at all.
    let reply = merchant.verified("POST", URL, &good, &[]).await;
    assert_eq!(reply.status, 400, "{reply:?}");
    assert_eq!(reply.code(), "PARAM_ERROR");

    // A serial the platform does not have.
    let reply = merchant
        .verified(
            "POST",
            URL,
            &good,
            &[(
                "Wechatpay-Serial",
                "PUB_KEY_ID_0199999999999999999999999999999999999999",
            )],
        )
        .await;
    assert_eq!(reply.status, 400, "{reply:?}");
    assert_eq!(reply.code(), "PARAM_ERROR");
    assert!(
        reply.json()["message"]
            .as_str()
            .is_some_and(|m| m.contains("unknown"))
    );

    // Ciphertexts that are not: not base64, random bytes, encrypted for another key.
    let other = Sandbox::start().await.expect("other");
    let foreign_key = common::platform_public_key(other.merchant());
    for garbage in [
        "not base64!".to_owned(),
        "AAAA".to_owned(),
        common::encrypt_field(&foreign_key, "张三"),
    ] {
        for field in ["user_name", "id_card_number"] {
            let mut request: serde_json::Value = serde_json::from_str(&good).expect("json");
            request[field] = json!(garbage);
            let reply = merchant
                .verified("POST", URL, &request.to_string(), &with_serial)
                .await;
            assert_eq!(reply.status, 400, "{field} {garbage}: {reply:?}");
            assert_eq!(reply.code(), "PARAM_ERROR");
        }
    }

    // Missing fields, a wrong card type, an unknown stock.
    let mut request: serde_json::Value = serde_json::from_str(&good).expect("json");
    request
        .as_object_mut()
        .expect("object")
        .remove("id_card_number");
    let reply = merchant
        .verified("POST", URL, &request.to_string(), &with_serial)
        .await;
    assert_eq!(reply.code(), "PARAM_ERROR");
    let mut request: serde_json::Value = serde_json::from_str(&good).expect("json");
    request["card_type"] = json!("PASSPORT");
    let reply = merchant
        .verified("POST", URL, &request.to_string(), &with_serial)
        .await;
    assert_eq!(reply.code(), "PARAM_ERROR");
    let reply = merchant
        .verified("POST", URL, &body(&merchant, "404", "x"), &with_serial)
        .await;
    assert_eq!(reply.status, 404, "{reply:?}");
    assert_eq!(reply.code(), "RESOURCE_NOT_EXISTS");

    // And the good request still works; its out_request_no cannot move to another user.
    let reply = merchant.verified("POST", URL, &good, &with_serial).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let elsewhere = URL.replace(SANDBOX_OPENID, "someone-else");
    let reply = merchant
        .verified("POST", &elsewhere, &good, &with_serial)
        .await;
    assert_eq!(reply.status, 400, "{reply:?}");
    assert_eq!(reply.code(), "INVALID_REQUEST");
}
