//! The payment catalog against the APIv3 Swagger's field names and types: requests write
//! exactly the documented JSON and query, answers read the documented JSON (amounts in fen,
//! times with their offset, enum values this SDK does not know kept rather than refused).

use serde_json::json;
use time::macros::datetime;
use wxpay::apis::bill::BillResponse;
use wxpay::apis::bill::GetTradeBill;
use wxpay::apis::pay::transactions::{
    Amount, CloseOrder, CloseOrderRequired, CreateJsapiOrder, CreateJsapiOrderPayer,
    CreateJsapiOrderRequired, QueryOrderByOutTradeNo, QueryOrderByOutTradeNoRequired, SceneInfo,
    TradeState, TradeType, Transaction,
};
use wxpay::apis::refund::domestic::{Amount as RefundAmount, CreateRefund, CreateRefundRequired};
use wxpay::{Endpoint, RequestParts, RequestWriter};

fn write<E: Endpoint>(endpoint: &E) -> RequestParts {
    let mut writer = RequestWriter::new(E::METHOD, None, 0);
    endpoint.write_request(&mut writer).expect("write");
    writer.finish()
}

fn body(parts: &RequestParts) -> serde_json::Value {
    serde_json::from_slice(&parts.body).expect("JSON body")
}

#[test]
fn requests_write_the_documented_shapes() {
    let order = CreateJsapiOrder::new(CreateJsapiOrderRequired {
        amount: Amount::cny(100),
        appid: "wxd678efh567hg6787".into(),
        description: "Image形象店-深圳腾大-QQ公仔".into(),
        mchid: "1230000109".into(),
        notify_url: "https://www.weixin.qq.com/wxpay/pay.php".into(),
        out_trade_no: "1217752501201407033233368018".into(),
        payer: CreateJsapiOrderPayer::openid("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"),
    })
    .time_expire(datetime!(2018-06-08 10:34:56 +08:00))
    .scene_info(SceneInfo::payer_ip("14.23.150.211"));
    let parts = write(&order);
    assert_eq!(parts.path_and_query, "/v3/pay/transactions/jsapi");
    assert_eq!(
        body(&parts),
        json!({
            "appid": "wxd678efh567hg6787",
            "mchid": "1230000109",
            "description": "Image形象店-深圳腾大-QQ公仔",
            "out_trade_no": "1217752501201407033233368018",
            "time_expire": "2018-06-08T10:34:56+08:00",
            "notify_url": "https://www.weixin.qq.com/wxpay/pay.php",
            "amount": { "total": 100, "currency": "CNY" },
            "payer": { "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o" },
            "scene_info": { "payer_client_ip": "14.23.150.211" }
        })
    );

    let query = write(&QueryOrderByOutTradeNo::new(
        QueryOrderByOutTradeNoRequired {
            out_trade_no: "1217752501201407033233368018".into(),
            mchid: "1230000109".into(),
        },
    ));
    assert_eq!(
        query.path_and_query,
        "/v3/pay/transactions/out-trade-no/1217752501201407033233368018?mchid=1230000109"
    );
    let close = write(&CloseOrder::new(CloseOrderRequired {
        out_trade_no: "1217752501201407033233368018".into(),
        mchid: "1230000109".into(),
    }));
    assert_eq!(
        close.path_and_query,
        "/v3/pay/transactions/out-trade-no/1217752501201407033233368018/close"
    );
    assert_eq!(body(&close), json!({ "mchid": "1230000109" }));

    let refund = write(
        &CreateRefund::new(CreateRefundRequired {
            amount: RefundAmount::cny(50, 100),
            out_refund_no: "r1".into(),
        })
        .out_trade_no("o1"),
    );
    assert_eq!(
        body(&refund),
        json!({
            "out_trade_no": "o1",
            "out_refund_no": "r1",
            "amount": { "refund": 50, "total": 100, "currency": "CNY" }
        })
    );

    let bill = write(&GetTradeBill::all(time::macros::date!(2019 - 06 - 11)).gzip());
    assert_eq!(
        bill.path_and_query,
        "/v3/bill/tradebill?bill_date=2019-06-11&bill_type=ALL&tar_type=GZIP"
    );
}
use wxpay::apis::refund::domestic::{FundsAccount, Refund, RefundChannel, RefundStatus};

#[test]
fn a_paid_transaction() {
    let paid: Transaction = serde_json::from_value(json!({
        "appid": "wxd678efh567hg6787",
        "mchid": "1230000109",
        "out_trade_no": "1217752501201407033233368018",
        "transaction_id": "1217752501201407033233368018",
        "trade_type": "MICROPAY",
        "trade_state": "SUCCESS",
        "trade_state_desc": "支付成功",
        "bank_type": "CMC",
        "attach": "自定义数据",
        "success_time": "2018-06-08T10:34:56+08:00",
        "payer": { "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o" },
        "amount": { "total": 100, "payer_total": 100, "currency": "CNY", "payer_currency": "CNY" },
        "scene_info": { "device_id": "013467007045764" },
        "promotion_detail": []
    }))
    .expect("decode");
    assert_eq!(paid.trade_state, TradeState::Success);
    assert_eq!(paid.trade_type, Some(TradeType::Micropay));
    assert_eq!(
        paid.success_time,
        Some(datetime!(2018-06-08 10:34:56 +08:00))
    );
    assert_eq!(paid.amount.and_then(|a| a.payer_total), Some(100));
}

#[test]
fn an_unpaid_transaction_and_unknown_states() {
    let unpaid: Transaction = serde_json::from_value(json!({
        "appid": "wxd678efh567hg6787",
        "mchid": "1230000109",
        "out_trade_no": "1217752501201407033233368018",
        "trade_state": "SOMETHING_NEW",
        "trade_state_desc": "未来的状态",
        "amount": { "total": 100, "currency": "CNY" }
    }))
    .expect("decode");
    assert_eq!(
        unpaid.trade_state,
        TradeState::Unknown("SOMETHING_NEW".into())
    );
    assert_eq!(unpaid.transaction_id, None);
    assert_eq!(unpaid.success_time, None);
}

#[test]
fn a_refund() {
    let refund: Refund = serde_json::from_value(json!({
        "refund_id": "50000000382019052709732678859",
        "out_refund_no": "1217752501201407033233368018",
        "transaction_id": "1217752501201407033233368018",
        "out_trade_no": "1217752501201407033233368018",
        "channel": "ORIGINAL",
        "user_received_account": "招商银行信用卡0403",
        "success_time": "2020-12-01T16:18:12+08:00",
        "create_time": "2020-12-01T16:18:12+08:00",
        "status": "SUCCESS",
        "funds_account": "UNSETTLED",
        "amount": {
            "total": 100, "refund": 100,
            "from": [{ "account": "AVAILABLE", "amount": 444 }],
            "payer_total": 90, "payer_refund": 90,
            "settlement_refund": 100, "settlement_total": 100,
            "discount_refund": 10, "currency": "CNY", "refund_fee": 100
        },
        "promotion_detail": []
    }))
    .expect("decode");
    assert_eq!(refund.status, RefundStatus::Success);
    assert_eq!(refund.channel, RefundChannel::Original);
    assert_eq!(refund.funds_account, Some(FundsAccount::Unsettled));
    assert_eq!(refund.amount.payer_refund, 90);
    assert_eq!(refund.create_time, datetime!(2020-12-01 16:18:12 +08:00));
    let strange: RefundChannel = serde_json::from_value(json!("TO_THE_MOON")).expect("decode");
    assert_eq!(strange, RefundChannel::Unknown("TO_THE_MOON".into()));
}

#[test]
fn a_bill_answer() {
    let bill: BillResponse = serde_json::from_value(json!({
        "hash_type": "SHA1",
        "hash_value": "79bb0f45fc4c42234a918000b2668d689e2bde04",
        "download_url": "https://api.mch.weixin.qq.com/v3/billdownload/file?token=6XIv5TUPto7pByrTQKhd6kwvyKLG2uY2wMMR8cNXqaA_Cv_isgaUtBzp4QtiozLO"
    }))
    .expect("decode");
    let download = bill.download(None);
    assert_eq!(
        download.check,
        wxpay::FileCheck::digest("SHA1", "79bb0f45fc4c42234a918000b2668d689e2bde04")
    );
}
