//! Resources in the shapes the platform documents for the event types `xtask/events.tsv` types
//! (the generated `every_event` sends the catalog's examples, which carry every field): each
//! arrives as its variant with the documented fields read, the optional ones it leaves out
//! included; one the table keeps as JSON stays JSON.

use serde_json::json;
use wxpay::notification::Event;
use wxpay_sandbox::EventResource;

use super::EventReceiver;

#[tokio::test]
async fn documented_resources_arrive_as_their_variants() {
    let mut receiver = EventReceiver::start().await;
    let mut sent = 0;

    // A direct merchant's confirmed service order, documented without `notify_url`, which the
    // query's answer required before the fix in xtask/src/fixes.rs.
    let order = json!({
        "appid": "wxd678efh567hg6787",
        "mchid": "1230000109",
        "out_order_no": "TEST-PAYSCORE-1",
        "order_id": "1000000000201912051179181160016",
        "service_id": "500001",
        "service_introduction": "TEST service",
        "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
        "state": "DOING",
        "state_description": "USER_CONFIRM",
        "total_amount": 0,
        "risk_fund": {"name": "ESTIMATE_ORDER_COST", "amount": 20000, "description": ""},
        "time_range": {"start_time": "20191205135948"},
        "need_collection": true
    });
    let event = receiver
        .deliver("PAYSCORE.USER_CONFIRM", EventResource::Json(order))
        .await;
    sent += 1;
    #[cfg(feature = "payscore")]
    match &event {
        Event::PayscoreUserConfirm(order) => {
            assert_eq!(order.out_order_no, "TEST-PAYSCORE-1");
            assert_eq!(order.notify_url, None);
            assert_eq!(order.risk_fund.as_ref().map(|r| r.amount), Some(20000));
        }
        other => panic!("PAYSCORE.USER_CONFIRM: {other:?}"),
    }
    #[cfg(not(feature = "payscore"))]
    assert!(matches!(event, Event::Other(_)), "{event:?}");

    // A service provider's paid order: it names `sub_mchid`, and its user is `sub_openid`.
    let order = json!({
        "service_id": "500001",
        "appid": "wxd678efh567hg6787",
        "mchid": "1230000109",
        "sub_appid": "wxd678efh567hg6999",
        "sub_mchid": "1900000109",
        "out_order_no": "TEST-PAYSCORE-2",
        "sub_openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
        "state": "DONE",
        "service_introduction": "TEST service",
        "total_amount": 40000,
        "post_payments": [{"name": "TEST fee", "amount": 40000, "description": "per minute"}],
        "order_id": "165461131",
        "need_collection": true
    });
    let event = receiver
        .deliver("PAYSCORE.USER_PAID", EventResource::Json(order))
        .await;
    sent += 1;
    #[cfg(feature = "payscore")]
    match &event {
        Event::PartnerPayscoreUserPaid(order) => {
            assert_eq!(order.sub_mchid.as_deref(), Some("1900000109"));
            assert_eq!(order.total_amount, Some(40000));
        }
        other => panic!("PAYSCORE.USER_PAID: {other:?}"),
    }
    #[cfg(not(feature = "payscore"))]
    assert!(matches!(event, Event::Other(_)), "{event:?}");

    // The platform's own withdrawal and a sub-merchant's: two catalog types in two features.
    let own = json!({
        "status": "SUCCESS",
        "withdraw_id": "TEST-WITHDRAW-1",
        "out_request_no": "TEST-OUT-1",
        "amount": 1,
        "create_time": "2015-05-20T13:29:35+08:00",
        "update_time": "2015-05-20T13:29:35+08:00",
        "reason": "",
        "remark": "TEST",
        "bank_memo": "TEST",
        "account_type": "BASIC",
        "solution": ""
    });
    let event = receiver
        .deliver("MCHWITHDRAW.CHANGE", EventResource::Json(own))
        .await;
    sent += 1;
    #[cfg(feature = "merchant")]
    match &event {
        Event::MchwithdrawChange(withdrawal) => {
            assert_eq!(withdrawal.withdraw_id, "TEST-WITHDRAW-1");
        }
        other => panic!("MCHWITHDRAW.CHANGE: {other:?}"),
    }
    #[cfg(not(feature = "merchant"))]
    assert!(matches!(event, Event::Other(_)), "{event:?}");

    let sub_merchants = json!({
        "sp_mchid": "1900000100",
        "sub_mchid": "1900000109",
        "status": "FAIL",
        "withdraw_id": "TEST-WITHDRAW-2",
        "out_request_no": "TEST-OUT-2",
        "amount": 2,
        "reason": "TEST",
        "account_type": "BASIC"
    });
    let event = receiver
        .deliver("MCHWITHDRAW.CHANGE", EventResource::Json(sub_merchants))
        .await;
    sent += 1;
    // Without `ecommerce` it stays JSON even where `merchant` is on: the platform's type
    // would not read it.
    #[cfg(feature = "ecommerce")]
    match &event {
        Event::PartnerMchwithdrawChange(withdrawal) => {
            assert_eq!(withdrawal.sub_mchid.as_deref(), Some("1900000109"));
            assert_eq!(withdrawal.amount, 2);
        }
        other => panic!("MCHWITHDRAW.CHANGE: {other:?}"),
    }
    #[cfg(not(feature = "ecommerce"))]
    assert!(matches!(event, Event::Other(_)), "{event:?}");

    // A charity budget locked, as a service provider receives it.
    let budget = json!({
        "sp_mchid": "1900000100",
        "out_budget_no": "TESTBUDGET1",
        "budget_id": "TEST-BUDGET-1",
        "amount": 20000000,
        "sponsor_mchid": "1900001109",
        "activity_name": "TEST activity",
        "activity_remark": "TEST remark",
        "state": "LOCKED",
        "locked_time": "2025-07-10T10:00:00+08:00"
    });
    let event = receiver
        .deliver("BUDGET.LOCKED", EventResource::Json(budget))
        .await;
    sent += 1;
    #[cfg(feature = "transfer")]
    match &event {
        Event::BudgetLocked(budget) => {
            assert_eq!(budget.out_budget_no, "TESTBUDGET1");
            assert!(budget.locked_time.is_some());
        }
        other => panic!("BUDGET.LOCKED: {other:?}"),
    }
    #[cfg(not(feature = "transfer"))]
    assert!(matches!(event, Event::Other(_)), "{event:?}");

    // An education contract signed: `plan_id` and the contract's details as documented.
    let contract = json!({
        "sp_mchid": "1230000109",
        "appid": "wx8888888888888888",
        "sub_mchid": "1900000109",
        "openid": "oUpF8uMuAJOM2pxb1Q",
        "plan_id": "101164396123311331",
        "contract_information": {
            "contract_id": "TEST-CONTRACT-1",
            "contract_status": "ADD",
            "create_time": "2020-03-26T10:43:39+08:00"
        }
    });
    let event = receiver
        .deliver("ENTRUST.SIGNING", EventResource::Json(contract))
        .await;
    sent += 1;
    #[cfg(feature = "papay")]
    match &event {
        Event::EntrustSigning(contract) => {
            let information = contract.contract_information.as_ref();
            assert_eq!(
                information.and_then(|i| i.contract_id.as_deref()),
                Some("TEST-CONTRACT-1")
            );
        }
        other => panic!("ENTRUST.SIGNING: {other:?}"),
    }
    #[cfg(not(feature = "papay"))]
    assert!(matches!(event, Event::Other(_)), "{event:?}");

    // Without `sp_mchid`, which the contract type requires, it stays JSON: not an error the
    // platform would retry.
    let contract = json!({
        "appid": "wx8888888888888888",
        "openid": "oUpF8uMuAJOM2pxb1Q",
        "plan_id": "101164396123311331",
        "contract_information": {"contract_id": "TEST-CONTRACT-2", "contract_status": "DEL"}
    });
    let event = receiver
        .deliver("ENTRUST.RELEASE", EventResource::Json(contract))
        .await;
    sent += 1;
    assert!(
        matches!(event, Event::Other(_)),
        "ENTRUST.RELEASE: {event:?}"
    );

    // A discount card's charge: documented without the card's `create_time` and `time_range`,
    // so the table keeps it JSON rather than fail every delivery.
    let charge = json!({
        "openid": "oUpF8uMuAJ2pxb1Q9zNjWUHsd",
        "card_id": "TEST-CARD-1",
        "card_template_id": "TEST-TEMPLATE-1",
        "out_card_code": "TEST-CODE-1",
        "appid": "wxd678efh567hg6787",
        "mchid": "1230000109",
        "state": "ONGOING",
        "total_amount": 1000,
        "pay_information": {"pay_state": "PAYING", "pay_amount": 100}
    });
    let event = receiver
        .deliver("DISCOUNT_CARD.USER_PAID", EventResource::Json(charge))
        .await;
    sent += 1;
    match &event {
        Event::Other(resource) => assert_eq!(resource.json()["card_id"], "TEST-CARD-1"),
        other => panic!("DISCOUNT_CARD.USER_PAID: {other:?}"),
    }

    assert_eq!(
        receiver.finish().await,
        sent,
        "every delivery acknowledged once"
    );
}
