//! Notifications (webhooks): read, verified and decrypted by the runtime
//! ([`Client::read_notification`](crate::Client::read_notification)), then typed here with the
//! catalog's own types, so a notified transaction is the very type a query answers.
//!
//! Everything of [`wxpay_core::notification`] is here too (replying, duplicates, the axum
//! extractor); see it for the protocol.
//!
//! ```
//! use wxpay::notification::{Event, Reply};
//!
//! # async fn handle(client: wxpay::Client, headers: http::HeaderMap, body: bytes::Bytes) -> http::Response<bytes::Bytes> {
//! let event = match client.read_notification(&headers, &body).await {
//!     Ok(notification) => Event::of(&notification),
//!     Err(error) => return Reply::rejecting(&error).into_http_response(),
//! };
//! match event {
//!     Ok(Event::TransactionSuccess(paid)) => {
//!         let total = paid.amount.as_ref().map(|amount| amount.total);
//!         println!("{} paid {total:?} fen", paid.out_trade_no);
//!     }
//!     Ok(other) => println!("{other:?}"),
//!     Err(error) => return Reply::rejecting(&wxpay::Error::from(error)).into_http_response(),
//! }
//! Reply::success().into_http_response()
//! # }
//! ```

pub use wxpay_core::notification::*;

use wxpay_core::NotificationError;

mod event;

pub use event::Event;

impl Event {
    /// Types the notification's resource by its event type (see [`Event`] for the table).
    ///
    /// # Errors
    /// [`NotificationError::MalformedResource`] when the resource does not have the shape of
    /// its event type (naming the position, not the value, which may be personal data).
    pub fn of(notification: &Notification) -> Result<Event, NotificationError> {
        Event::decode(&notification.event_type, &notification.resource)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::apis::pay::transactions::{TradeState, TradeType};
    use crate::apis::refund::domestic::{RefundMerchant, RefundStatus};

    fn decode(event_type: &str, json: Value) -> Result<Event, NotificationError> {
        let event_type = EventType::from(event_type);
        Event::decode(&event_type, &Resource::new(event_type.clone(), json))
    }

    #[test]
    fn a_payment_is_the_catalogs_transaction_and_a_sub_merchants_its_partner_one() {
        let paid = json!({
            "appid": "wxd678efh567hg6787", "mchid": "1230000109",
            "out_trade_no": "1217752501201407033233368018",
            "transaction_id": "1217752501201407033233368018", "trade_type": "JSAPI",
            "trade_state": "SUCCESS", "trade_state_desc": "支付成功", "bank_type": "CMC",
            "success_time": "2018-06-08T10:34:56+08:00",
            "payer": { "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o" },
            "amount": { "total": 100, "payer_total": 100, "currency": "CNY", "payer_currency": "CNY" },
        });
        let Ok(Event::TransactionSuccess(paid)) = decode("TRANSACTION.SUCCESS", paid) else {
            panic!("not a transaction");
        };
        assert_eq!(paid.trade_state, TradeState::Success);
        assert_eq!(paid.trade_type, Some(TradeType::Jsapi));
        assert_eq!(paid.amount.map(|a| a.total), Some(100));
        assert_eq!(
            paid.success_time.map(|t| t.unix_timestamp()),
            Some(1_528_425_296)
        );

        let partner = json!({
            "sp_appid": "wx8888888888888888", "sp_mchid": "1230000109",
            "sub_appid": "wxd678efh567hg6999", "sub_mchid": "1900000109",
            "out_trade_no": "1217752501201407033233368018",
            "transaction_id": "1217752501201407033233368018", "trade_type": "NATIVE",
            "trade_state": "SUCCESS", "trade_state_desc": "支付成功",
            "payer": { "sub_openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o" },
            "amount": { "total": 100, "payer_total": 100, "currency": "CNY", "payer_currency": "CNY" },
        });
        let Ok(Event::PartnerTransactionSuccess(paid)) = decode("TRANSACTION.SUCCESS", partner)
        else {
            panic!("not a partner transaction");
        };
        assert_eq!(
            (paid.sp_mchid.as_str(), paid.sub_mchid.as_str()),
            ("1230000109", "1900000109")
        );
        assert_eq!(
            paid.payer.and_then(|p| p.sub_openid).as_deref(),
            Some("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o")
        );
    }

    /// A direct merchant's successful refund as its notification carries it.
    fn notified_refund() -> Value {
        json!({
            "mchid": "1900000100", "transaction_id": "1008450740201411110005820873",
            "out_trade_no": "20150806125346", "refund_id": "50200207182018070300011301001",
            "out_refund_no": "7752501201407033233368018", "refund_status": "SUCCESS",
            "success_time": "2018-06-08T10:34:56+08:00", "user_received_account": "招商银行信用卡0403",
            "amount": { "total": 999, "refund": 999, "payer_total": 999, "payer_refund": 999 },
        })
    }

    #[test]
    fn refunds_are_typed_by_their_notified_shape_and_the_card_is_redacted() {
        let refund = notified_refund();
        for (event_type, status) in [
            ("REFUND.SUCCESS", RefundStatus::Success),
            ("REFUND.ABNORMAL", RefundStatus::Abnormal),
            ("REFUND.CLOSED", RefundStatus::Closed),
        ] {
            let mut refund = refund.clone();
            refund["refund_status"] = json!(status.as_str());
            let event = decode(event_type, refund).expect("a refund");
            let debug = format!("{event:?}");
            assert!(!debug.contains("0403"), "the card is redacted: {debug}");
            let refund = match event {
                Event::RefundSuccess(r) if event_type == "REFUND.SUCCESS" => r,
                Event::RefundAbnormal(r) if event_type == "REFUND.ABNORMAL" => r,
                Event::RefundClosed(r) if event_type == "REFUND.CLOSED" => r,
                other => panic!("{event_type}: {other:?}"),
            };
            assert_eq!(refund.refund_status, status);
            assert_eq!(refund.amount.payer_refund, 999);
            assert_eq!(refund.user_received_account, "招商银行信用卡0403");
            assert_eq!(
                refund.merchant,
                RefundMerchant::Direct {
                    mchid: "1900000100".into()
                }
            );
        }

        // A sub-merchant's refund, notified to its service provider.
        let mut partner = refund.clone();
        if let Some(object) = partner.as_object_mut() {
            object.remove("mchid");
        }
        partner["sp_mchid"] = json!("1230000109");
        partner["sub_mchid"] = json!("1900000109");
        let Ok(Event::RefundSuccess(notice)) = decode("REFUND.SUCCESS", partner.clone()) else {
            panic!("not a refund");
        };
        assert_eq!(
            notice.merchant,
            RefundMerchant::Partner {
                sp_mchid: "1230000109".into(),
                sub_mchid: "1900000109".into()
            }
        );
        // Neither shape: a malformed resource, not a guess, and the value is not repeated.
        if let Some(object) = partner.as_object_mut() {
            object.remove("sp_mchid");
        }
        match decode("REFUND.SUCCESS", partner) {
            Err(error @ NotificationError::MalformedResource { .. }) => {
                assert!(!error.to_string().contains("0403"), "{error}");
            }
            other => panic!("expected a malformed resource, got {other:?}"),
        }
    }

    #[test]
    fn a_used_coupon_is_the_catalogs_coupon() {
        use crate::apis::marketing::favor::CouponType;
        let coupon = json!({
            "stock_creator_mchid": "9800064", "stock_id": "9865888", "coupon_id": "98674556",
            "coupon_name": "微信支付代金券", "status": "USED", "description": "微信支付营销",
            "create_time": "2015-05-20T13:29:35+08:00", "coupon_type": "NORMAL", "no_cash": false,
            "singleitem": false,
            "normal_coupon_information": { "coupon_amount": 100, "transaction_minimum": 100 },
            "consume_information": {
                "consume_time": "2015-05-20T13:29:35+08:00", "consume_mchid": "9856888",
                "transaction_id": "4200000000000000000", "goods_detail": []
            },
            "some_future_field": 1,
        });
        let Ok(Event::CouponUse(used)) = decode("COUPON.USE", coupon) else {
            panic!("not a coupon");
        };
        assert_eq!(used.coupon_type, Some(CouponType::Normal));
        assert_eq!(
            used.consume_information.and_then(|c| c.consume_mchid),
            Some("9856888".to_owned())
        );
    }

    #[test]
    fn a_typed_event_serializes_whole_and_debugs_redacted() {
        let refund = notified_refund();
        let event = decode("REFUND.SUCCESS", refund.clone()).expect("a refund");
        assert_eq!(event.event_type(), EventType::RefundSuccess);
        let printed = serde_json::to_value(&event).unwrap();
        assert_eq!(printed["event_type"], "REFUND.SUCCESS");
        // Serialize is deliberate output: the resource as decoded, the same JSON back.
        assert_eq!(printed["resource"], refund);
        assert!(!format!("{event:?}").contains("0403"));

        // An event type the catalog does not type prints its JSON as decrypted.
        let complaint = json!({ "complaint_id": "200201820200101080076610000", "action_type": "CREATE_COMPLAINT" });
        let event = decode("COMPLAINT.CREATE", complaint.clone()).unwrap();
        assert!(matches!(event, Event::Other(_)));
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            json!({ "event_type": "COMPLAINT.CREATE", "resource": complaint })
        );
    }

    #[test]
    fn a_combined_payment_is_json_not_a_malformed_transaction() {
        let combined = json!({
            "combine_appid": "wxd678efh567hg6787", "combine_mchid": "1900000109",
            "combine_out_trade_no": "P20150806125346", "sub_orders": [],
        });
        let event = decode("TRANSACTION.SUCCESS", combined).expect("not an error");
        assert!(matches!(event, Event::Other(_)), "{event:?}");
    }

    #[test]
    fn other_event_types_are_kept_as_redacted_json() {
        let other = json!({ "openid": "oSECRET", "user_name": "张三", "trade_state": "PAYERROR" });
        let Ok(Event::Other(resource)) = decode("SOMETHING.NEW", other) else {
            panic!("an unknown type is kept as JSON");
        };
        let debug = format!("{resource:?}");
        assert!(
            !debug.contains("oSECRET") && !debug.contains("张三"),
            "{debug}"
        );
        assert_eq!(resource.json()["trade_state"], "PAYERROR");
    }
}
