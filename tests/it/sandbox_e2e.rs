//! Every catalog endpoint end to end against the sandbox, in each key mode and with each
//! crypto backend: signed requests, verified answers, typed values, the platform's errors.

use crate::common;

use common::client_for;
use time::OffsetDateTime;
use time::macros::{datetime, offset};
use wxpay::apis::marketing::favor::{
    CouponUseRule, CreateStock, CreateStockRequired, NormalCouponInformation,
    NormalCouponInformationRequired, PauseStock, PauseStockRequired, QueryStock,
    QueryStockRequired, RestartStock, RestartStockRequired, SendCoupon, SendCouponRequired,
    StartStock, StartStockRequired, StockStatus, StockType, StockUseRule, StockUseRuleRequired,
};
use wxpay::apis::multiuse::{CardType, SendMultiuseCoupon, SendMultiuseCouponRequired};
use wxpay::{Client, CryptoBackend, Error, VerificationError};
use wxpay_sandbox::{KeyMode, Sandbox};

const APPID: &str = "wxd678efh567hg6787";
const OPENID: &str = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o";

fn api_code(result: Result<impl std::fmt::Debug, Error>) -> String {
    match result {
        Err(Error::Api(e)) => {
            assert!(
                e.signature_verified,
                "the sandbox signs its error answers: {e}"
            );
            assert!(e.request_id.is_some(), "{e}");
            e.code
        }
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn create(client: &Client, out_request_no: &str) -> CreateStock {
    CreateStock::new(CreateStockRequired {
        available_begin_time: datetime!(2026-01-01 00:00:00 +08:00),
        available_end_time: datetime!(2027-01-01 00:00:00 +08:00),
        belong_merchant: client.mchid().into(),
        coupon_use_rule: CouponUseRule::fixed(
            NormalCouponInformation::new(NormalCouponInformationRequired {
                coupon_amount: 100,
                transaction_minimum: 1_000,
            }),
            vec![client.mchid().into()],
        ),
        no_cash: false,
        out_request_no: out_request_no.into(),
        stock_name: "满10减1 测试批次".into(),
        stock_type: StockType::Normal,
        stock_use_rule: StockUseRule::new(StockUseRuleRequired {
            max_amount: 10_000,
            max_coupons: 100,
            max_coupons_per_user: 5,
            natural_person_limit: false,
            prevent_api_abuse: false,
        }),
    })
}

async fn favor_stock_lifecycle(client: &Client) {
    let mchid = client.mchid().to_owned();
    let created = client
        .send(create(client, "create-1"))
        .await
        .expect("create");
    let again = client
        .send(create(client, "create-1"))
        .await
        .expect("create again");
    assert_eq!(
        created.stock_id, again.stock_id,
        "out_request_no makes creation idempotent"
    );
    assert_eq!(created.create_time.offset(), offset!(+8));
    let stock_id = created.stock_id;

    let query = || {
        QueryStock::new(QueryStockRequired {
            stock_id: stock_id.clone(),
            stock_creator_mchid: mchid.clone(),
        })
    };
    let stock = client.send(query()).await.expect("query");
    assert_eq!(stock.status, Some(StockStatus::Unactivated));
    assert_eq!(stock.stock_id.as_ref(), Some(&stock_id));

    let send_coupon = |n: &str| {
        SendCoupon::new(SendCouponRequired {
            openid: OPENID.into(),
            appid: APPID.into(),
            out_request_no: n.into(),
            stock_creator_mchid: mchid.clone(),
            stock_id: stock_id.clone(),
        })
    };
    assert!(
        !api_code(client.send(send_coupon("c-0")).await).is_empty(),
        "no coupons before start"
    );

    let started = client
        .send(StartStock::new(StartStockRequired {
            stock_id: stock_id.clone(),
            stock_creator_mchid: mchid.clone(),
        }))
        .await
        .expect("start");
    assert_eq!(started.stock_id, stock_id);
    assert_eq!(
        client.send(query()).await.expect("query").status,
        Some(StockStatus::Running)
    );

    let first = client.send(send_coupon("c-1")).await.expect("send coupon");
    let repeat = client
        .send(send_coupon("c-1"))
        .await
        .expect("send coupon again");
    assert_eq!(
        first.coupon_id, repeat.coupon_id,
        "out_request_no makes sending idempotent"
    );
    let second = client.send(send_coupon("c-2")).await.expect("send another");
    assert_ne!(first.coupon_id, second.coupon_id);
    assert_eq!(
        client
            .send(query())
            .await
            .expect("query")
            .distributed_coupons,
        Some(2)
    );

    let pause = || {
        PauseStock::new(PauseStockRequired {
            stock_id: stock_id.clone(),
            stock_creator_mchid: mchid.clone(),
        })
    };
    let paused = client.send(pause()).await.expect("pause");
    assert_eq!(paused.stock_id, stock_id);
    assert_eq!(paused.pause_time.offset(), offset!(+8));
    assert!(paused.pause_time <= OffsetDateTime::now_utc() + time::Duration::seconds(5));
    assert_eq!(
        client.send(query()).await.expect("query").status,
        Some(StockStatus::Paused)
    );

    assert!(
        !api_code(client.send(pause()).await).is_empty(),
        "pausing a paused stock is an error"
    );
    assert!(
        !api_code(client.send(send_coupon("c-3")).await).is_empty(),
        "no coupons from a paused stock"
    );

    let restarted = client
        .send(RestartStock::new(RestartStockRequired {
            stock_id: stock_id.clone(),
            stock_creator_mchid: mchid.clone(),
        }))
        .await
        .expect("restart");
    assert_eq!(restarted.stock_id, stock_id);
    assert_eq!(
        client.send(query()).await.expect("query").status,
        Some(StockStatus::Running)
    );
}

async fn multiuse_coupon(client: &Client, stock_id: &str) {
    let send = |n: &str| {
        SendMultiuseCoupon::new(SendMultiuseCouponRequired {
            openid: OPENID.into(),
            appid: APPID.into(),
            card_type: CardType::IdCard,
            id_card_number: "110101199003072316".into(),
            out_request_no: n.into(),
            stock_id: stock_id.into(),
            user_name: "张三".into(),
        })
        .amount(100)
    };
    let verified = client
        .send_verified(send("m-1"))
        .await
        .expect("send multiuse");
    assert!(verified.status.is_success());
    assert!(verified.request_id.is_some());
    let repeat = client.send(send("m-1")).await.expect("repeat");
    assert_eq!(verified.value.coupon_id, repeat.coupon_id);
    let other = client.send(send("m-2")).await.expect("another");
    assert_ne!(other.coupon_id, repeat.coupon_id);
}

async fn dynamic_request(client: &Client, stock_id: &str) {
    let stock: serde_json::Value = client
        .get("/v3/marketing/favor/stocks/{stock_id}")
        .path("stock_id", stock_id)
        .query("stock_creator_mchid", client.mchid())
        .send()
        .await
        .expect("dynamic query");
    assert_eq!(stock["stock_id"], stock_id);

    let missing = client
        .get("/v3/marketing/favor/stocks/{stock_id}")
        .send::<serde_json::Value>()
        .await;
    assert!(matches!(missing, Err(Error::Request(_))), "{missing:?}");
    let unknown = client
        .get("/v3/marketing/favor/stocks/nope")
        .query("stock_creator_mchid", client.mchid())
        .send::<()>()
        .await;
    assert!(
        matches!(unknown, Err(Error::Api(ref e)) if e.status == 404),
        "{unknown:?}"
    );
}

async fn run_all(mode: KeyMode) {
    for &backend in CryptoBackend::all() {
        let sandbox = Sandbox::builder()
            .key_mode(mode)
            .start()
            .await
            .expect("sandbox starts");
        let client = client_for(&sandbox, backend);
        favor_stock_lifecycle(&client).await;
        multiuse_coupon(&client, &sandbox.multiuse_stock_ids()[0]).await;
        dynamic_request(&client, &sandbox.favor_stock_ids()[0]).await;

        // The stock the sandbox starts with is running and can be paused at once.
        let paused = client
            .send(PauseStock::new(PauseStockRequired {
                stock_id: sandbox.favor_stock_ids()[0].clone(),
                stock_creator_mchid: client.mchid().into(),
            }))
            .await
            .unwrap_or_else(|e| panic!("{mode:?}/{backend:?}: {e}"));
        assert_eq!(paused.stock_id, sandbox.favor_stock_ids()[0]);
    }
}

#[tokio::test]
async fn certificate_mode() {
    run_all(KeyMode::Certificate).await;
}

#[tokio::test]
async fn public_key_mode() {
    run_all(KeyMode::PublicKey).await;
}

#[tokio::test]
async fn mixed_mode() {
    run_all(KeyMode::Both).await;
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/keys/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture")
}

/// A client for the TEST merchant of `tests/fixtures`, trusting only the TEST platform
/// certificate, pointed at `sandbox`.
fn fixture_client(sandbox: &Sandbox) -> Client {
    Client::builder()
        .mchid("1230000109")
        .merchant_key(
            "0A3C5E7F9B1D2F4A6C8E0B2D4F6A8C0E2B4D6F81",
            fixture("TEST_merchant_key.pem"),
        )
        .platform_certificate(fixture("TEST_platform_cert.pem"))
        .base_url(sandbox.base_url())
        .build()
        .expect("client")
}

fn fixture_merchant_sandbox() -> wxpay_sandbox::SandboxBuilder {
    Sandbox::builder()
        .mchid("1230000109")
        .merchant_serial("0A3C5E7F9B1D2F4A6C8E0B2D4F6A8C0E2B4D6F81")
        .merchant_certificate_pem(fixture("TEST_merchant_cert.pem"))
        .key_mode(KeyMode::Certificate)
}

#[tokio::test]
async fn an_answer_signed_by_a_key_the_client_does_not_trust_never_becomes_data() {
    // The sandbox signs with a platform key it generated; the client trusts another one.
    let sandbox = fixture_merchant_sandbox().start().await.expect("sandbox");
    let client = fixture_client(&sandbox);
    let stock_id = sandbox.favor_stock_ids()[0].clone();
    let result = client
        .send(PauseStock::new(PauseStockRequired {
            stock_id,
            stock_creator_mchid: "1230000109".into(),
        }))
        .await;
    match result {
        Err(Error::Verification {
            kind: VerificationError::UnknownSerial(serial),
            request_id,
        }) => {
            assert_eq!(serial, sandbox.merchant().platform_serial);
            assert!(request_id.is_some());
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_merchant_the_platform_does_not_know_gets_its_unsigned_sign_error() {
    let sandbox = Sandbox::start().await.expect("sandbox");
    let stranger = fixture_client(&sandbox);
    match stranger
        .send(PauseStock::new(PauseStockRequired {
            stock_id: "1".into(),
            stock_creator_mchid: "1230000109".into(),
        }))
        .await
    {
        Err(Error::Api(e)) => {
            assert_eq!(e.status, 401);
            assert_eq!(e.code, "SIGN_ERROR");
            assert!(
                !e.signature_verified,
                "the platform leaves its 401s unsigned"
            );
            // Our side of the signature sits beside the platform's for diagnosis.
            let ours = e.signed_request.as_ref().expect("what we signed");
            assert_eq!(ours.method, "POST");
            assert_eq!(ours.url, "/v3/marketing/favor/stocks/1/pause");
            let shown = e.to_string();
            assert!(
                shown.contains("we signed: POST /v3/marketing/favor/stocks/1/pause"),
                "{shown}"
            );
            assert!(shown.contains("platform signed: \"POST\""), "{shown}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_host_that_cannot_be_reached_fails_over_to_the_backup_host() {
    let sandbox = Sandbox::start().await.expect("sandbox");
    // Nothing listens on the primary: every connection is refused.
    let closed = wxpay_sandbox::ClosedPort::reserve().expect("reserve a port");
    let unreachable = closed.addr();
    let stock_id = sandbox.favor_stock_ids()[0].clone();
    let pause = || {
        PauseStock::new(PauseStockRequired {
            stock_id: stock_id.clone(),
            stock_creator_mchid: sandbox.merchant().mchid.clone(),
        })
    };

    let without = common::merchant_builder(&sandbox)
        .platform_public_key(
            sandbox.merchant().public_key_id.as_deref().expect("id"),
            sandbox
                .merchant()
                .platform_public_key_pem
                .as_deref()
                .expect("key"),
        )
        .base_url(format!("http://{unreachable}"));
    let result = without.build().expect("client").send(pause()).await;
    assert!(
        matches!(result, Err(Error::Transport(ref e)) if !e.request_sent()),
        "{result:?}"
    );

    let with = common::merchant_builder(&sandbox)
        .platform_public_key(
            sandbox.merchant().public_key_id.as_deref().expect("id"),
            sandbox
                .merchant()
                .platform_public_key_pem
                .as_deref()
                .expect("key"),
        )
        .base_url(format!("http://{unreachable}"))
        .backup_base_url(sandbox.base_url());
    let paused = with
        .build()
        .expect("client")
        .send(pause())
        .await
        .expect("the backup host answers");
    assert_eq!(paused.stock_id, stock_id);
}
