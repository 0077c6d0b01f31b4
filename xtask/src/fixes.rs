//! Corrections to the spec where it contradicts what the platform answers (its documentation,
//! its notifications, what the hand-written declarations these replace decoded). Each one is
//! applied to the resolved answer schema of one operation, says why, and fails the generator
//! when the spec no longer has the shape it corrects (so a fixed spec drops its fix).

use serde_json::{Value, json};

use crate::spec::{Operation, Spec};

const QUERY_ORDER_BY_ID: (&str, &str) = ("GET", "/v3/pay/transactions/id/{transaction_id}");
const QUERY_ORDER_BY_OUT_TRADE_NO: (&str, &str) =
    ("GET", "/v3/pay/transactions/out-trade-no/{out_trade_no}");
const PARTNER_QUERY_ORDER_BY_ID: (&str, &str) =
    ("GET", "/v3/pay/partner/transactions/id/{transaction_id}");
const PARTNER_QUERY_ORDER_BY_OUT_TRADE_NO: (&str, &str) = (
    "GET",
    "/v3/pay/partner/transactions/out-trade-no/{out_trade_no}",
);
const CODEPAY: (&str, &str) = ("POST", "/v3/pay/transactions/codepay");
const QUERY_SERVICEORDER: (&str, &str) = ("GET", "/v3/payscore/serviceorder");
const REFUND_ANSWERS: &[(&str, &str)] = &[
    ("POST", "/v3/refund/domestic/refunds"),
    ("GET", "/v3/refund/domestic/refunds/{out_refund_no}"),
    (
        "POST",
        "/v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund",
    ),
];

pub fn apply(spec: &mut Spec) -> Result<(), String> {
    // 1. The order queries answer one object, the order (also what `TRANSACTION.SUCCESS`
    //    notifies). The spec builds it from the order *request* (so `notify_url` and
    //    `description` are required, which no answer carries), leaves out the user's amounts
    //    and `promotion_detail`, and gives the query by id less than the one by order number.
    //    The same holds for a service provider's queries of its sub-merchants' orders.
    let promotion = answer(spec, CODEPAY)?
        .pointer("/properties/promotion_detail")
        .cloned()
        .ok_or("fix: the codepay answer has no `promotion_detail` any more")?;
    order_queries(
        spec,
        [QUERY_ORDER_BY_ID, QUERY_ORDER_BY_OUT_TRADE_NO],
        &promotion,
        &["appid", "mchid"],
    )?;
    order_queries(
        spec,
        [
            PARTNER_QUERY_ORDER_BY_ID,
            PARTNER_QUERY_ORDER_BY_OUT_TRADE_NO,
        ],
        &promotion,
        &["sp_appid", "sp_mchid", "sub_mchid"],
    )?;

    // 2. A refund's state, channel and funds account are closed lists the spec writes as
    //    plain strings (its own descriptions list the values).
    for key in REFUND_ANSWERS {
        let refund = answer_mut(spec, *key)?;
        for (field, values) in [
            (
                "status",
                &["SUCCESS", "CLOSED", "PROCESSING", "ABNORMAL"][..],
            ),
            (
                "channel",
                &["ORIGINAL", "BALANCE", "OTHER_BALANCE", "OTHER_BANKCARD"][..],
            ),
            (
                "funds_account",
                &[
                    "UNSETTLED",
                    "AVAILABLE",
                    "UNAVAILABLE",
                    "OPERATION",
                    "BASIC",
                    "ECNY_BASIC",
                ][..],
            ),
        ] {
            let schema = refund
                .pointer_mut(&format!("/properties/{field}"))
                .ok_or_else(|| format!("fix: {} {} answers no `{field}`", key.0, key.1))?;
            if schema.get("enum").is_none() {
                schema["enum"] = json!(values);
            }
        }
    }
    // 3. A payscore service order's `notify_url` is the merchant's, echoed back: the spec
    //    requires it in the direct query's answer, but the partner query's answer for the same
    //    order leaves it optional, and the order the platform notifies (`PAYSCORE.USER_CONFIRM`,
    //    `PAYSCORE.USER_PAID`, which decode into this answer) is documented both without it
    //    and with it: the platform may leave it out.
    not_required(spec, QUERY_SERVICEORDER, "notify_url")?;
    Ok(())
}

/// Drops `field` from the required fields of an operation's answer (it must be required there).
fn not_required(spec: &mut Spec, key: (&str, &str), field: &str) -> Result<(), String> {
    let required = answer_mut(spec, key)?
        .get_mut("required")
        .and_then(Value::as_array_mut)
        .ok_or_else(|| format!("fix: {} {} answers no required fields", key.0, key.1))?;
    let before = required.len();
    required.retain(|f| f.as_str() != Some(field));
    if required.len() == before {
        return Err(format!(
            "fix: {} {} no longer requires `{field}`",
            key.0, key.1
        ));
    }
    Ok(())
}

/// Gives both order queries (`[by id, by order number]`) the answer of the query by order
/// number, corrected: only `merchant` (who the order belongs to) and the order's number and
/// state are required, as the platform documents; an unpaid order has no `transaction_id` or
/// payer amounts, and a sub-merchant's payer either of its two openids.
fn order_queries(
    spec: &mut Spec,
    [by_id, by_out_trade_no]: [(&str, &str); 2],
    promotion: &Value,
    merchant: &[&str],
) -> Result<(), String> {
    let mut order = answer(spec, by_out_trade_no)?.clone();
    let what = format!("fix: {} {}", by_out_trade_no.0, by_out_trade_no.1);
    let props = order
        .get_mut("properties")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| format!("{what} answers no properties"))?;
    for field in [
        "amount",
        "payer",
        "trade_state",
        "notify_url",
        "description",
    ]
    .iter()
    .chain(merchant)
    {
        if !props.contains_key(*field) {
            return Err(format!("{what} answers no `{field}` any more"));
        }
    }
    props.insert(
        "amount".into(),
        json!({
            "type": "object",
            "description": "订单金额",
            "required": ["total"],
            "properties": {
                "total": {"type": "integer", "description": "总金额", "example": 100},
                "payer_total": {"type": "integer", "description": "用户支付金额", "example": 100},
                "currency": {"type": "string", "description": "货币类型", "example": "CNY"},
                "payer_currency": {"type": "string", "description": "用户支付币种", "example": "CNY"}
            }
        }),
    );
    if merchant.contains(&"sub_mchid") {
        // A sub-merchant's payer is known by one of `sp_openid` and `sub_openid`.
        if let Some(payer) = props.get_mut("payer").and_then(Value::as_object_mut) {
            payer.remove("required");
        }
    }
    props.insert("promotion_detail".into(), promotion.clone());
    let mut required: Vec<&str> = merchant.to_vec();
    required.extend(["out_trade_no", "trade_state", "trade_state_desc"]);
    order["required"] = json!(required);
    for key in [by_id, by_out_trade_no] {
        *answer_mut(spec, key)? = order.clone();
    }
    Ok(())
}

fn find<'a>(spec: &'a Spec, (method, path): (&str, &str)) -> Result<&'a Operation, String> {
    spec.operations
        .iter()
        .find(|o| o.row.method == method && o.row.path == path)
        .ok_or_else(|| format!("fix: the spec has no {method} {path}"))
}

fn answer<'a>(spec: &'a Spec, key: (&str, &str)) -> Result<&'a Value, String> {
    find(spec, key)?
        .spec
        .as_ref()
        .and_then(|s| s.pointer("/responses/200/schema"))
        .ok_or_else(|| format!("fix: {} {} has no 200 answer", key.0, key.1))
}

fn answer_mut<'a>(
    spec: &'a mut Spec,
    (method, path): (&str, &str),
) -> Result<&'a mut Value, String> {
    spec.operations
        .iter_mut()
        .find(|o| o.row.method == method && o.row.path == path)
        .and_then(|o| o.spec.as_mut())
        .and_then(|s| s.pointer_mut("/responses/200/schema"))
        .ok_or_else(|| format!("fix: {method} {path} has no 200 answer"))
}
