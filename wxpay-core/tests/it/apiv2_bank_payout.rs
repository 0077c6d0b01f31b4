//! Bank-card payouts through the client against the sandbox (loopback, HTTPS with the TEST
//! client certificate): `bank_payout_key` fetches the sandbox's key with `getpublickey`, the
//! card number and name encrypted with it are accepted by `pay_bank`, and what the key did not
//! encrypt is refused with the business error.

use http::Method;
use wxpay_core::{ApiV2Error, ConfigError, Error};

use crate::common::{v2_client_builder, v2_sandbox};

const KEY: &str = "TEST0APIv2Key0bankpayout0123456a";

/// `pay_bank` as the catalog declares it (client certificate, MD5, answered unsigned), sent as a
/// dynamic request: the declared `TransferToBankCard` lives in the facade.
async fn pay_bank(
    client: &wxpay_core::Client,
    partner_trade_no: &str,
    enc_bank_no: &str,
    enc_true_name: &str,
) -> Result<wxpay_core::apiv2::Fields, Error> {
    client
        .apiv2(Method::POST, "/mmpaysptrans/pay_bank")
        .rules(
            wxpay_core::ApiV2::new()
                .with_client_certificate(true)
                .with_signed_answer(false),
        )
        .idempotent(true)
        .field("mch_id", client.mchid())
        .field("partner_trade_no", partner_trade_no)
        .field("enc_bank_no", enc_bank_no)
        .field("enc_true_name", enc_true_name)
        .field("bank_code", "1002")
        .field("amount", 100_000)
        .field("desc", "TEST 付款到银行卡")
        .send()
        .await
}

#[tokio::test]
async fn a_payout_encrypted_with_the_fetched_key_is_accepted_and_one_not_is_refused() {
    let sandbox = v2_sandbox(KEY).start().await.expect("sandbox starts");
    let client = v2_client_builder(&sandbox, true).build().expect("client");

    let key = client.bank_payout_key().await.expect("getpublickey");
    assert_eq!(key.bits(), 2048);
    let paid = pay_bank(
        &client,
        "TESTbank0001",
        &key.encrypt("6222020200000000000").unwrap(),
        &key.encrypt("张三").unwrap(),
    )
    .await
    .expect("an encrypted payout is accepted");
    assert_eq!(paid.get("partner_trade_no"), Some("TESTbank0001"));
    assert_eq!(paid.get("amount"), Some("100000"));
    assert!(paid.get("payment_no").is_some_and(|no| !no.is_empty()));

    // The card number in the clear, as a caller who forgot to encrypt would send it.
    let refused = pay_bank(
        &client,
        "TESTbank0002",
        "6222020200000000000",
        &key.encrypt("张三").unwrap(),
    )
    .await;
    match refused {
        Err(Error::ApiV2(ApiV2Error::Business {
            err_code,
            err_code_des,
        })) => {
            assert_eq!(err_code.as_deref(), Some("PARAM_ERROR"));
            assert!(err_code_des.is_some_and(|des| des.contains("enc_bank_no")));
        }
        other => panic!("expected the business error, got {other:?}"),
    }

    // The name encrypted with another key (the merchant's own TEST platform key) is refused
    // too.
    let other = wxpay_core::apiv2::BankPayoutKey::from_pem(include_str!(
        "../../../tests/fixtures/keys/TEST_platform_pub.pkcs1.pem"
    ))
    .unwrap();
    let refused = pay_bank(
        &client,
        "TESTbank0003",
        &key.encrypt("6222020200000000000").unwrap(),
        &other.encrypt("张三").unwrap(),
    )
    .await;
    assert!(
        matches!(
            &refused,
            Err(Error::ApiV2(ApiV2Error::Business { err_code_des: Some(des), .. }))
                if des.contains("enc_true_name")
        ),
        "{refused:?}"
    );
}

#[tokio::test]
async fn the_key_is_kept_for_the_client_lifetime_and_can_be_fetched_again() {
    let sandbox = v2_sandbox(KEY).start().await.expect("sandbox starts");
    let client = v2_client_builder(&sandbox, true).build().expect("client");
    assert_eq!(sandbox.bank_payout_key_fetches(), 0);
    client.bank_payout_key().await.expect("getpublickey");
    client.bank_payout_key().await.expect("kept");
    client
        .clone()
        .bank_payout_key()
        .await
        .expect("kept by every clone");
    assert_eq!(sandbox.bank_payout_key_fetches(), 1, "fetched once");
    client
        .refresh_bank_payout_key()
        .await
        .expect("fetched again");
    client.bank_payout_key().await.expect("kept");
    assert_eq!(sandbox.bank_payout_key_fetches(), 2);
}

#[tokio::test]
async fn without_the_client_certificate_nothing_is_sent() {
    let sandbox = v2_sandbox(KEY).start().await.expect("sandbox starts");
    let client = v2_client_builder(&sandbox, false).build().expect("client");
    let error = client.bank_payout_key().await.unwrap_err();
    assert!(
        matches!(error, Error::Config(ConfigError::Missing { .. })),
        "{error:?}"
    );
}
