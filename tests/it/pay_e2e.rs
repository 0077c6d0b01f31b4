//! Payments and refunds end to end against the sandbox, with each crypto backend: every
//! order and refund endpoint, the order's life (NOTPAY → SUCCESS → REFUND, NOTPAY → CLOSED),
//! and the platform's errors (refunding more than was paid, reused numbers, paid orders).
//! The same for a service provider's orders of its sub-merchant (`sp_mchid`, `sub_mchid`).

use crate::common;

use common::client_for;
use time::macros::offset;
use wxpay::apis::pay::transactions::partner;
use wxpay::apis::pay::transactions::{
    Amount, CloseOrder, CloseOrderRequired, CreateAppOrder, CreateAppOrderRequired, CreateH5Order,
    CreateH5OrderRequired, CreateH5OrderSceneInfo, CreateJsapiOrder, CreateJsapiOrderPayer,
    CreateJsapiOrderRequired, CreateNativeOrder, CreateNativeOrderRequired, QueryOrderById,
    QueryOrderByIdRequired, QueryOrderByOutTradeNo, QueryOrderByOutTradeNoRequired, TradeState,
    TradeType,
};
use wxpay::apis::refund::domestic::{
    Amount as RefundAmount, ApplyAbnormalRefund, ApplyAbnormalRefundRequired,
    ApplyAbnormalRefundType as AbnormalRefundType, BankType, CreateRefund, CreateRefundRequired,
    QueryRefund, QueryRefundRequired, RefundChannel, RefundStatus,
};
use wxpay::{Client, CryptoBackend, Error};
use wxpay_sandbox::{KeyMode, SANDBOX_APPID, SANDBOX_OPENID, SANDBOX_SUB_MCHID, Sandbox};

const NOTIFY_URL: &str = "https://merchant.example.com/wxpay/notify";

fn api_error(result: Result<impl std::fmt::Debug, Error>) -> (u16, String) {
    match result {
        Err(Error::Api(e)) => {
            assert!(e.signature_verified, "the sandbox signs its errors: {e}");
            (e.status.as_u16(), e.code)
        }
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn jsapi(client: &Client, out_trade_no: &str, total: i64) -> CreateJsapiOrder {
    CreateJsapiOrder::new(CreateJsapiOrderRequired {
        amount: Amount::cny(total),
        appid: SANDBOX_APPID.into(),
        description: "Image形象店-深圳腾大-QQ公仔".into(),
        mchid: client.mchid().into(),
        notify_url: NOTIFY_URL.into(),
        out_trade_no: out_trade_no.into(),
        payer: CreateJsapiOrderPayer::openid(SANDBOX_OPENID),
    })
    .attach("自定义数据")
}

fn by_out_trade_no(client: &Client, no: &str) -> QueryOrderByOutTradeNo {
    QueryOrderByOutTradeNo::new(QueryOrderByOutTradeNoRequired {
        out_trade_no: no.into(),
        mchid: client.mchid().into(),
    })
}

async fn order_lifecycle(sandbox: &Sandbox, client: &Client, tag: &str) {
    let no = format!("order{tag}0001");
    let prepay = client.send(jsapi(client, &no, 100)).await.expect("prepay");
    let again = client
        .send(jsapi(client, &no, 100))
        .await
        .expect("prepay again");
    assert_eq!(
        prepay.prepay_id, again.prepay_id,
        "the same order, the same prepay"
    );
    let (status, code) = api_error(client.send(jsapi(client, &no, 101)).await);
    assert_eq!((status, code.as_str()), (403, "OUT_TRADE_NO_USED"));

    let params = prepay
        .pay_params(SANDBOX_APPID, client.merchant_key().expect("merchant key"))
        .expect("front-end parameters");
    assert_eq!(params.package, format!("prepay_id={}", prepay.prepay_id));

    let unpaid = client
        .send(by_out_trade_no(client, &no))
        .await
        .expect("query");
    assert_eq!(unpaid.trade_state, TradeState::NotPay);
    assert_eq!(unpaid.transaction_id, None);

    let transaction_id = sandbox.pay_order(&no).expect("the user pays");
    let paid = client
        .send(QueryOrderById::new(QueryOrderByIdRequired {
            transaction_id: transaction_id.clone(),
            mchid: client.mchid().into(),
        }))
        .await
        .expect("query by id");
    assert_eq!(paid.trade_state, TradeState::Success);
    assert_eq!(paid.trade_type, Some(TradeType::Jsapi));
    assert_eq!(paid.out_trade_no, no);
    assert_eq!(paid.amount.as_ref().and_then(|a| a.payer_total), Some(100));
    assert_eq!(paid.success_time.map(|t| t.offset()), Some(offset!(+8)));
    assert_eq!(
        paid.payer.as_ref().map(|p| p.openid.as_str()),
        Some(SANDBOX_OPENID)
    );

    let close = CloseOrder::new(CloseOrderRequired {
        out_trade_no: no.clone(),
        mchid: client.mchid().into(),
    });
    let (status, code) = api_error(client.send(close).await);
    assert_eq!((status, code.as_str()), (403, "ORDERPAID"));

    // Refund half, idempotently, then try to refund more than is left.
    let half = CreateRefund::new(CreateRefundRequired {
        amount: RefundAmount::cny(50, 100),
        out_refund_no: format!("refund{tag}1"),
    })
    .out_trade_no(&no);
    let refund = client.send(half.clone()).await.expect("refund half");
    assert_eq!(refund.status, RefundStatus::Processing);
    assert_eq!(refund.channel, RefundChannel::Original);
    assert_eq!(refund.amount.refund, 50);
    let again = client.send(half).await.expect("the same out_refund_no");
    assert_eq!(refund.refund_id, again.refund_id);

    let too_much = CreateRefund::new(CreateRefundRequired {
        amount: RefundAmount::cny(51, 100),
        out_refund_no: format!("refund{tag}2"),
    })
    .transaction_id(&transaction_id);
    let (status, code) = api_error(client.send(too_much).await);
    assert_eq!((status, code.as_str()), (400, "INVALID_REQUEST"));

    let done = client
        .send(QueryRefund::new(QueryRefundRequired {
            out_refund_no: format!("refund{tag}1"),
        }))
        .await
        .expect("query refund");
    assert_eq!(done.status, RefundStatus::Success);
    assert!(done.success_time.is_some());
    let order = client
        .send(by_out_trade_no(client, &no))
        .await
        .expect("query");
    assert_eq!(order.trade_state, TradeState::Refund);

    // The rest goes back, but cannot reach the user: handled as an abnormal refund.
    let rest = CreateRefund::new(CreateRefundRequired {
        amount: RefundAmount::cny(50, 100),
        out_refund_no: format!("refund{tag}3"),
    })
    .out_trade_no(&no);
    let rest = client.send(rest).await.expect("refund the rest");
    sandbox
        .make_refund_abnormal(&rest.out_refund_no)
        .expect("abnormal");
    let abnormal = client
        .send(QueryRefund::new(QueryRefundRequired {
            out_refund_no: rest.out_refund_no.clone(),
        }))
        .await
        .expect("query");
    assert_eq!(abnormal.status, RefundStatus::Abnormal);
    let handled = client
        .send(
            ApplyAbnormalRefund::new(ApplyAbnormalRefundRequired {
                refund_id: rest.refund_id.clone(),
                out_refund_no: rest.out_refund_no.clone(),
                type_: AbnormalRefundType::UserBankCard,
            })
            .bank_type(BankType::IcbcDebit)
            .bank_account("6212260000000000000")
            .real_name("张三"),
        )
        .await
        .expect("apply abnormal refund");
    assert_eq!(handled.status, RefundStatus::Processing);
    assert_eq!(handled.channel, RefundChannel::OtherBankCard);
    let (_, code) = api_error(
        client
            .send(ApplyAbnormalRefund::new(ApplyAbnormalRefundRequired {
                refund_id: rest.refund_id,
                out_refund_no: rest.out_refund_no,
                type_: AbnormalRefundType::MerchantBankCard,
            }))
            .await,
    );
    assert_eq!(
        code, "INVALID_REQUEST",
        "only an abnormal refund can be handled"
    );
}

async fn unpaid_orders(sandbox: &Sandbox, client: &Client, tag: &str) {
    let no = format!("close{tag}0001");
    client.send(jsapi(client, &no, 1)).await.expect("prepay");
    let close = || {
        CloseOrder::new(CloseOrderRequired {
            out_trade_no: no.clone(),
            mchid: client.mchid().into(),
        })
    };
    client.send(close()).await.expect("close: 204");
    client.send(close()).await.expect("closing twice is fine");
    let closed = client
        .send(by_out_trade_no(client, &no))
        .await
        .expect("query");
    assert_eq!(closed.trade_state, TradeState::Closed);
    assert!(
        sandbox.pay_order(&no).is_err(),
        "a closed order cannot be paid"
    );
    let (_, code) = api_error(
        client
            .send(
                CreateRefund::new(CreateRefundRequired {
                    amount: RefundAmount::cny(1, 1),
                    out_refund_no: format!("r{tag}x"),
                })
                .out_trade_no(&no),
            )
            .await,
    );
    assert_eq!(
        code, "INVALID_REQUEST",
        "an unpaid order cannot be refunded"
    );

    let expiring = format!("expire{tag}0001");
    client
        .send(jsapi(client, &expiring, 1))
        .await
        .expect("prepay");
    sandbox.expire_order(&expiring).expect("expire");
    let expired = client
        .send(by_out_trade_no(client, &expiring))
        .await
        .expect("query");
    assert_eq!(expired.trade_state, TradeState::Closed);

    let (status, code) = api_error(client.send(by_out_trade_no(client, "no-such-order")).await);
    assert_eq!((status, code.as_str()), (404, "ORDER_NOT_EXIST"));
}

async fn other_prepays(client: &Client, tag: &str) {
    let app = client
        .send(
            CreateAppOrder::new(CreateAppOrderRequired {
                amount: Amount::cny(1),
                appid: SANDBOX_APPID.into(),
                description: "app".into(),
                mchid: client.mchid().into(),
                notify_url: NOTIFY_URL.into(),
                out_trade_no: format!("app{tag}00001"),
            })
            .time_expire(time::OffsetDateTime::now_utc() + time::Duration::hours(1))
            .support_fapiao(false),
        )
        .await
        .expect("app prepay");
    let params = app
        .pay_params(
            SANDBOX_APPID,
            client.mchid(),
            client.merchant_key().expect("merchant key"),
        )
        .expect("app parameters");
    assert_eq!(params.prepayid, app.prepay_id);

    let scene = CreateH5OrderSceneInfo::h5("203.0.113.7", "Wap");
    let h5 = client
        .send(CreateH5Order::new(CreateH5OrderRequired {
            amount: Amount::cny(1),
            appid: SANDBOX_APPID.into(),
            description: "h5".into(),
            mchid: client.mchid().into(),
            notify_url: NOTIFY_URL.into(),
            out_trade_no: format!("h5{tag}000001"),
            scene_info: scene,
        }))
        .await
        .expect("h5 prepay");
    // The sandbox's h5_url leads to its own H5 cashier (plain http on loopback).
    assert!(
        h5.h5_url.contains("/sandbox/h5/checkmweb?prepay_id=wx"),
        "{}",
        h5.h5_url
    );

    let native = client
        .send(CreateNativeOrder::new(CreateNativeOrderRequired {
            amount: Amount::cny(1),
            appid: SANDBOX_APPID.into(),
            description: "native".into(),
            mchid: client.mchid().into(),
            notify_url: NOTIFY_URL.into(),
            out_trade_no: format!("native{tag}0001"),
        }))
        .await
        .expect("native prepay");
    assert!(native.code_url.starts_with("weixin://wxpay/bizpayurl?pr="));

    let mut bad = jsapi(client, &format!("bad{tag}00001"), 1);
    bad.notify_url = "http://merchant.example.com/notify?x=1".into();
    let (_, code) = api_error(client.send(bad).await);
    assert_eq!(code, "PARAM_ERROR");
}

/// A provider's JSAPI and Native orders for its sub-merchant: placed, paid, queried both
/// ways, refunded and closed only with the right `sp_mchid`/`sub_mchid`, and invisible to the
/// provider's own (direct) APIs.
async fn partner_lifecycle(sandbox: &Sandbox, client: &Client, tag: &str) {
    let sub = SANDBOX_SUB_MCHID;
    let jsapi = |no: &str, sub_mchid: &str| {
        partner::CreateJsapiOrder::new(partner::CreateJsapiOrderRequired {
            amount: partner::Amount::cny(200),
            description: "Image形象店-深圳腾大-QQ公仔".into(),
            notify_url: NOTIFY_URL.into(),
            out_trade_no: no.into(),
            payer: partner::CreateJsapiOrderPayer::sp_openid(SANDBOX_OPENID),
            sp_appid: SANDBOX_APPID.into(),
            sp_mchid: client.mchid().into(),
            sub_mchid: sub_mchid.into(),
        })
    };
    let no = format!("sub{tag}0001");
    let prepay = client.send(jsapi(&no, sub)).await.expect("partner prepay");
    assert!(prepay.prepay_id.starts_with("wx"), "{prepay:?}");
    let (_, code) = api_error(
        client
            .send(jsapi(&format!("sub{tag}0002"), "1900000999"))
            .await,
    );
    assert_eq!(code, "PARAM_ERROR", "not a sub-merchant of this provider");
    let mut not_me = jsapi(&format!("sub{tag}0003"), sub);
    not_me.sp_mchid = "1900000001".into();
    let (_, code) = api_error(client.send(not_me).await);
    assert_eq!(code, "PARAM_ERROR", "sp_mchid must be the caller");

    let query = |sub_mchid: &str| {
        partner::QueryOrderByOutTradeNo::new(partner::QueryOrderByOutTradeNoRequired {
            out_trade_no: (&no).into(),
            sp_mchid: client.mchid().into(),
            sub_mchid: sub_mchid.into(),
        })
    };
    let unpaid = client.send(query(sub)).await.expect("query unpaid");
    assert_eq!(unpaid.trade_state, partner::TradeState::NotPay);
    assert_eq!(unpaid.sub_mchid, sub);
    let (status, code) = api_error(client.send(by_out_trade_no(client, &no)).await);
    assert_eq!(
        (status, code.as_str()),
        (404, "ORDER_NOT_EXIST"),
        "a sub-merchant's order is not the provider's own"
    );

    let transaction_id = sandbox.pay_order(&no).expect("pay");
    let paid = client
        .send(partner::QueryOrderById::new(
            partner::QueryOrderByIdRequired {
                transaction_id: (&transaction_id).into(),
                sp_mchid: client.mchid().into(),
                sub_mchid: sub.into(),
            },
        ))
        .await
        .expect("query by id");
    assert_eq!(paid.trade_state, partner::TradeState::Success);
    assert_eq!(paid.sp_mchid, client.mchid());
    assert_eq!(
        paid.payer.and_then(|p| p.sp_openid).as_deref(),
        Some(SANDBOX_OPENID)
    );

    let refund = |sub_mchid: Option<&str>| {
        let request = CreateRefund::new(CreateRefundRequired {
            amount: RefundAmount::cny(80, 200),
            out_refund_no: format!("{no}r1"),
        })
        .out_trade_no(&no);
        match sub_mchid {
            Some(sub_mchid) => request.sub_mchid(sub_mchid),
            None => request,
        }
    };
    let (status, code) = api_error(client.send(refund(None)).await);
    assert_eq!((status, code.as_str()), (404, "ORDER_NOT_EXIST"));
    let made = client.send(refund(Some(sub))).await.expect("refund");
    assert_eq!(made.status, RefundStatus::Processing);
    let (_, code) = api_error(
        client
            .send(QueryRefund::new(QueryRefundRequired {
                out_refund_no: (&made.out_refund_no).into(),
            }))
            .await,
    );
    assert_eq!(
        code, "RESOURCE_NOT_EXISTS",
        "the provider's own refunds do not hold it"
    );
    let done = client
        .send(
            QueryRefund::new(QueryRefundRequired {
                out_refund_no: (&made.out_refund_no).into(),
            })
            .sub_mchid(sub),
        )
        .await
        .expect("query refund");
    assert_eq!(done.status, RefundStatus::Success);
    let refunded = client.send(query(sub)).await.expect("query refunded");
    assert_eq!(refunded.trade_state, partner::TradeState::Refund);

    let native_no = format!("sub{tag}0004");
    let native = client
        .send(partner::CreateNativeOrder::new(
            partner::CreateNativeOrderRequired {
                amount: partner::Amount::cny(1),
                description: "Image形象店-深圳腾大-QQ公仔".into(),
                notify_url: NOTIFY_URL.into(),
                out_trade_no: (&native_no).into(),
                sp_appid: SANDBOX_APPID.into(),
                sp_mchid: client.mchid().into(),
                sub_mchid: sub.into(),
            },
        ))
        .await
        .expect("partner native");
    assert!(native.code_url.starts_with("weixin://wxpay/bizpayurl?pr="));
    let (status, code) = api_error(
        client
            .send(partner::CloseOrder::new(partner::CloseOrderRequired {
                out_trade_no: (&native_no).into(),
                sp_mchid: client.mchid().into(),
                sub_mchid: "1900000999".into(),
            }))
            .await,
    );
    assert_eq!((status, code.as_str()), (400, "PARAM_ERROR"));
    client
        .send(partner::CloseOrder::new(partner::CloseOrderRequired {
            out_trade_no: (&native_no).into(),
            sp_mchid: client.mchid().into(),
            sub_mchid: sub.into(),
        }))
        .await
        .expect("close");
    let closed = client
        .send(partner::QueryOrderByOutTradeNo::new(
            partner::QueryOrderByOutTradeNoRequired {
                out_trade_no: (&native_no).into(),
                sp_mchid: client.mchid().into(),
                sub_mchid: sub.into(),
            },
        ))
        .await
        .expect("query closed");
    assert_eq!(closed.trade_state, partner::TradeState::Closed);
}

async fn run(mode: KeyMode) {
    let sandbox = Sandbox::builder()
        .key_mode(mode)
        .start()
        .await
        .expect("sandbox");
    for (i, &backend) in CryptoBackend::all().iter().enumerate() {
        let client = client_for(&sandbox, backend);
        let tag = format!("{i}");
        order_lifecycle(&sandbox, &client, &tag).await;
        unpaid_orders(&sandbox, &client, &tag).await;
        other_prepays(&client, &tag).await;
        partner_lifecycle(&sandbox, &client, &tag).await;
    }
    sandbox.shutdown().await;
}

#[tokio::test]
async fn payments_and_refunds_with_public_key_and_certificate() {
    run(KeyMode::Both).await;
}

#[tokio::test]
async fn payments_and_refunds_with_certificates_only() {
    run(KeyMode::Certificate).await;
}
