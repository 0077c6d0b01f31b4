//! Front-end payment parameters: fixed key, time and nonce give exactly the signature an
//! independent implementation (OpenSSL) computes, under the exact key names the WeChat front
//! ends read.
//!
//! The expected signatures were made once with
//! `printf '<message>' | openssl dgst -sha256 -sign tests/fixtures/keys/TEST_merchant_key.pem | base64 -w0`
//! where `<message>` is the one written in each test (RSA PKCS#1 v1.5 is deterministic).

use serde_json::{Value, json};
use wxpay::apis::pay::transactions::{
    AppPayParams, CreateAppOrderResponse, CreateJsapiOrderResponse, JsapiPayParams,
};
use wxpay::{CryptoBackend, MerchantKey};

const APPID: &str = "wxd678efh567hg6787";
const MCHID: &str = "1230000109";
const PREPAY_ID: &str = "wx201410272009395522657a690389285100";
const TIMESTAMP: i64 = 1554208460;
const NONCE: &str = "593BEC0C930BF1AFEB40B4A08C8FB240";

/// `wxd678efh567hg6787\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB240\nprepay_id=wx201410272009395522657a690389285100\n`
const JSAPI_PAY_SIGN: &str = "dM6Jsj9oKaruxdWFZ7M1k+XU8JJE9TR0XzVv7a0dIwVu2XZh0nbMj0p0+R2CY3h+QO+peZqqKGJHbqtQBEJ7pIbWmuXDfBzmcT6o4/MxCvKHXC1JI3lCBusWLp55RUO9OVpIxf+PzYpnb8f5tHNsbPhRe4Mqpmmh72euGGCH7H3sUMNB4jd70nqVr3COmMiRzuddc/XshUPr5LmpepUzm312iVNJ0qKXa8n/eTBF1lQrnS34ubxaJPGOmNOkxsFT28gXckYZypmj9ft+MGWIuARGXsGIbVlfgLFxGG952qlNMJwc3qDGbnnyNJ1rGuXixPms7W8/pPyZ3Wn+5LCtEQ==";

/// `wxd678efh567hg6787\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB240\nwx201410272009395522657a690389285100\n`
const APP_SIGN: &str = "QM0oRQk423m/9AMdyfs7G4Q95FbifDgwHhLIYwmBFFzHA/GcCqYQiHbXum1dzLs3g5Dal+sekM5n5SEtllEqb/pgezPL51jae5pI61yn1RVusmC+wbbT+EqY0AKLdm+pDDPwkbv8d6mfhgVYDElrhQGfu94/zVkpPxgI0So4P+/slIF8PHDMoEoLa0rqR+v8r9skKvDvVqBmO+YwZVRouXFjmR44kgL9zzCQxI1tUAEoVvHLgX0AlKLdXcp2f99bP4ifw84L3BqXWRVOcLzw0X4U6alvtlOXdsf41HYcZn84jOAJxCAI8vIt5a797BgUsy78QeLWaIsb9l5nAqIIJQ==";

fn key(backend: CryptoBackend) -> MerchantKey {
    let pem = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/keys/TEST_merchant_key.pem"
    ))
    .expect("fixture");
    MerchantKey::from_pem_with("0A3C5E7F9B1D2F4A6C8E0B2D4F6A8C0E2B4D6F81", &pem, backend)
        .expect("key")
}

#[test]
fn jsapi_pay_sign_matches_openssl_with_the_exact_key_names() {
    for &backend in CryptoBackend::all() {
        let params = JsapiPayParams::sign_with(APPID, PREPAY_ID, &key(backend), TIMESTAMP, NONCE)
            .expect("sign");
        assert_eq!(params.pay_sign, JSAPI_PAY_SIGN, "{backend:?}");
        let value: Value = serde_json::to_value(&params).expect("json");
        assert_eq!(
            value,
            json!({
                "appId": APPID,
                "timeStamp": "1554208460",
                "nonceStr": NONCE,
                "package": "prepay_id=wx201410272009395522657a690389285100",
                "signType": "RSA",
                "paySign": JSAPI_PAY_SIGN,
            })
        );
    }
}

#[test]
fn app_sign_matches_openssl_with_the_exact_key_names() {
    for &backend in CryptoBackend::all() {
        let params =
            AppPayParams::sign_with(APPID, MCHID, PREPAY_ID, &key(backend), TIMESTAMP, NONCE)
                .expect("sign");
        assert_eq!(params.sign, APP_SIGN, "{backend:?}");
        let value: Value = serde_json::to_value(&params).expect("json");
        assert_eq!(
            value,
            json!({
                "appid": APPID,
                "partnerid": MCHID,
                "prepayid": PREPAY_ID,
                "package": "Sign=WXPay",
                "noncestr": NONCE,
                "timestamp": "1554208460",
                "sign": APP_SIGN,
            })
        );
    }
}

#[test]
fn one_call_turns_a_prepay_answer_into_fresh_parameters() {
    let key = key(CryptoBackend::default());
    let jsapi: CreateJsapiOrderResponse =
        serde_json::from_value(json!({ "prepay_id": PREPAY_ID })).expect("json");
    let params = jsapi.pay_params(APPID, &key).expect("sign");
    assert_eq!(params.package, format!("prepay_id={PREPAY_ID}"));
    assert_eq!(params.nonce_str.len(), 32);
    assert_ne!(params.pay_sign, JSAPI_PAY_SIGN, "a fresh time and nonce");

    let app: CreateAppOrderResponse =
        serde_json::from_value(json!({ "prepay_id": PREPAY_ID })).expect("json");
    let params = app.pay_params(APPID, MCHID, &key).expect("sign");
    assert_eq!(params.prepayid, PREPAY_ID);
    assert_eq!(params.package, "Sign=WXPay");
}
