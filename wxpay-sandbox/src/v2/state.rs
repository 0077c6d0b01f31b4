//! What APIv2 remembers: red packets by `mch_billno`, orders by `out_trade_no`, refunds by
//! `out_refund_no`. Locked briefly, never across an `.await`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::clock;
use crate::crypto::{random_alphanumeric, random_digits};
use crate::settings::Secret;
use crate::state::Platform;

use super::wire::{self, Fields, SignType};
use super::{Call, Outcome};

/// The merchant's APIv2 key and the v2 store.
pub(crate) struct V2Store {
    pub(crate) apiv2_key: Secret,
    memory: Mutex<Memory>,
    /// The TEST key bank-card payouts are encrypted with, made on first use (`getpublickey`).
    pub(crate) bank_payout_key: Mutex<Option<Arc<crate::keys::RsaKey>>>,
    /// How many times `getpublickey` handed the key out.
    pub(crate) bank_payout_key_fetches: std::sync::atomic::AtomicU64,
}

impl V2Store {
    pub(crate) fn new(apiv2_key: Secret) -> Self {
        V2Store {
            apiv2_key,
            memory: Mutex::default(),
            bank_payout_key: Mutex::default(),
            bank_payout_key_fetches: std::sync::atomic::AtomicU64::new(0),
        }
    }

    fn memory(&self) -> MutexGuard<'_, Memory> {
        self.memory.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[derive(Default)]
struct Memory {
    red_packets: HashMap<String, RedPacket>,
    orders: HashMap<String, Order>,
    refunds: Vec<Refund>,
}

struct RedPacket {
    /// The request's fields that make it this red packet (all but nonce, sign, sign type).
    content: Vec<(String, String)>,
    send_listid: String,
    hb_type: &'static str,
    total_num: String,
    total_amount: String,
    re_openid: String,
    send_time: String,
}

struct Order {
    appid: String,
    openid: String,
    transaction_id: String,
    total_fee: u64,
    refunded: u64,
    trade_type: String,
    /// NOTPAY, SUCCESS, REFUND, CLOSED.
    trade_state: &'static str,
    prepay_id: String,
    notify_url: Option<String>,
    sign_type: SignType,
    time_end: String,
}

struct Refund {
    /// The order's `appid`, which every refund answer names.
    appid: String,
    out_trade_no: String,
    out_refund_no: String,
    refund_id: String,
    refund_fee: u64,
    total_fee: u64,
    transaction_id: String,
}

/// The answer of an operation the sandbox keeps state for, or `None` for the spec's example.
pub(crate) fn stateful(platform: &Arc<Platform>, call: &Call) -> Option<Outcome> {
    let path = call.op.path;
    let outcome = match path {
        "/mmpaymkttransfers/sendredpack" => send_red_packet(platform, call, "NORMAL"),
        "/mmpaymkttransfers/sendgroupredpack" => send_red_packet(platform, call, "GROUP"),
        "/mmpaymkttransfers/sendminiprogramhb" => send_red_packet(platform, call, "NORMAL"),
        "/mmpaymkttransfers/gethbinfo" => red_packet_info(platform, call),
        "/pay/unifiedorder" => unified_order(platform, call),
        "/pay/micropay" => micropay(platform, call),
        "/pay/orderquery" => order_query(platform, call),
        "/pay/closeorder" => close_order(platform, call),
        "/secapi/pay/refund" => refund(platform, call),
        "/pay/refundquery" => refund_query(platform, call),
        "/risk/getpublickey" => super::bank::public_key(platform, call),
        "/mmpaysptrans/pay_bank" => super::bank::pay_bank(platform, call),
        _ => return None,
    };
    Some(outcome)
}

fn text(call: &Call, name: &str) -> String {
    call.get(name).unwrap_or_default().to_owned()
}

fn pairs(list: &[(&str, String)]) -> Fields {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

fn amount(call: &Call, name: &str) -> Result<u64, Outcome> {
    call.get(name)
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|v| *v > 0)
        .ok_or_else(|| Outcome::Failure("PARAM_ERROR", format!("{name} 必须是正整数（分）")))
}

/// `yyyyMMddHHmmss` in Beijing time, as APIv2 writes times.
fn compact_now() -> String {
    let beijing =
        clock::now().to_offset(time::UtcOffset::from_hms(8, 0, 0).unwrap_or(time::UtcOffset::UTC));
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}",
        beijing.year(),
        u8::from(beijing.month()),
        beijing.day(),
        beijing.hour(),
        beijing.minute(),
        beijing.second()
    )
}

fn send_red_packet(platform: &Arc<Platform>, call: &Call, hb_type: &'static str) -> Outcome {
    let billno = text(call, "mch_billno");
    let total_amount = match amount(call, "total_amount") {
        Ok(v) => v,
        Err(failure) => return failure,
    };
    let mut content: Vec<(String, String)> = call
        .fields
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "nonce_str" | "sign" | "sign_type"))
        .cloned()
        .collect();
    content.sort();
    let mut memory = platform.v2.memory();
    let packet = match memory.red_packets.get(&billno) {
        // The same red packet sent again: the platform answers with the first one.
        Some(packet) if packet.content == content => packet,
        Some(_) => {
            return Outcome::Failure(
                "PARAM_ERROR",
                "商户订单号重复，且与原请求的参数不一致".to_owned(),
            );
        }
        None => memory
            .red_packets
            .entry(billno.clone())
            .or_insert(RedPacket {
                content,
                send_listid: random_digits(30),
                hb_type,
                total_num: text(call, "total_num"),
                total_amount: total_amount.to_string(),
                re_openid: text(call, "re_openid"),
                send_time: compact_now(),
            }),
    };
    Outcome::Success(pairs(&[
        ("mch_billno", billno.clone()),
        ("mch_id", platform.mchid.clone()),
        ("wxappid", text(call, "wxappid")),
        ("re_openid", packet.re_openid.clone()),
        ("total_amount", packet.total_amount.clone()),
        ("send_listid", packet.send_listid.clone()),
    ]))
}

fn red_packet_info(platform: &Arc<Platform>, call: &Call) -> Outcome {
    let billno = text(call, "mch_billno");
    let memory = platform.v2.memory();
    let Some(packet) = memory.red_packets.get(&billno) else {
        return Outcome::Failure("NOT_FOUND", "指定单号数据不存在".to_owned());
    };
    // The sandbox's users take their red packets at once: a normal one by its receiver, a
    // group one in equal shares (the rest to the first) by the receiver and friends.
    let time = dashed(&packet.send_time);
    let count: u64 = packet.total_num.parse().unwrap_or(1).clamp(1, 100);
    let total: u64 = packet.total_amount.parse().unwrap_or(0);
    let received: Vec<Fields> = (0..count)
        .map(|i| {
            let share = total / count + if i == 0 { total % count } else { 0 };
            let openid = match i {
                0 => packet.re_openid.clone(),
                i => format!("{}{i}", packet.re_openid),
            };
            pairs(&[
                ("openid", openid),
                ("amount", share.to_string()),
                ("rcv_time", time.clone()),
            ])
        })
        .collect();
    Outcome::Success(pairs(&[
        ("mch_billno", billno.clone()),
        ("mch_id", platform.mchid.clone()),
        ("detail_id", packet.send_listid.clone()),
        ("status", "RECEIVED".to_owned()),
        ("send_type", "API".to_owned()),
        ("hb_type", packet.hb_type.to_owned()),
        ("total_num", packet.total_num.clone()),
        ("total_amount", packet.total_amount.clone()),
        ("send_time", time),
        // Nested, as the platform answers it (unsigned, so no sign rule meets it).
        ("hblist", wire::write_list("hbinfo", &received)),
    ]))
}

/// `yyyyMMddHHmmss` as the red-packet query writes times: `yyyy-MM-dd HH:mm:ss`.
fn dashed(compact: &str) -> String {
    if compact.len() != 14 || !compact.bytes().all(|b| b.is_ascii_digit()) {
        return compact.to_owned();
    }
    let part = |range: std::ops::Range<usize>| compact.get(range).unwrap_or_default();
    format!(
        "{}-{}-{} {}:{}:{}",
        part(0..4),
        part(4..6),
        part(6..8),
        part(8..10),
        part(10..12),
        part(12..14)
    )
}

fn new_order(call: &Call, total_fee: u64, trade_state: &'static str) -> Order {
    Order {
        appid: text(call, "appid"),
        openid: call
            .get("openid")
            .unwrap_or(crate::SANDBOX_OPENID)
            .to_owned(),
        transaction_id: format!("42000{}", random_digits(23)),
        total_fee,
        refunded: 0,
        trade_type: call.get("trade_type").unwrap_or("MICROPAY").to_owned(),
        trade_state,
        prepay_id: format!("wx{}", random_alphanumeric(34).to_ascii_lowercase()),
        notify_url: call.get("notify_url").map(str::to_owned),
        sign_type: call.sign_type,
        time_end: compact_now(),
    }
}

fn unified_order(platform: &Arc<Platform>, call: &Call) -> Outcome {
    let out_trade_no = text(call, "out_trade_no");
    let total_fee = match amount(call, "total_fee") {
        Ok(v) => v,
        Err(failure) => return failure,
    };
    let mut memory = platform.v2.memory();
    let order = memory
        .orders
        .entry(out_trade_no)
        .or_insert_with(|| new_order(call, total_fee, "NOTPAY"));
    if order.trade_state != "NOTPAY" {
        return Outcome::Failure("ORDERPAID", "该订单已支付或已关闭".to_owned());
    }
    let mut fields = pairs(&[
        ("appid", order.appid.clone()),
        ("mch_id", platform.mchid.clone()),
        ("trade_type", order.trade_type.clone()),
        ("prepay_id", order.prepay_id.clone()),
    ]);
    if order.trade_type == "NATIVE" {
        fields.push((
            "code_url".to_owned(),
            format!("weixin://wxpay/bizpayurl?pr={}", &order.prepay_id[2..9]),
        ));
    }
    Outcome::Success(fields)
}

fn micropay(platform: &Arc<Platform>, call: &Call) -> Outcome {
    let out_trade_no = text(call, "out_trade_no");
    let total_fee = match amount(call, "total_fee") {
        Ok(v) => v,
        Err(failure) => return failure,
    };
    let mut memory = platform.v2.memory();
    let order = memory
        .orders
        .entry(out_trade_no.clone())
        .or_insert_with(|| new_order(call, total_fee, "SUCCESS"));
    if order.total_fee != total_fee {
        return Outcome::Failure(
            "OUT_TRADE_NO_USED",
            "商户订单号重复，且金额不一致".to_owned(),
        );
    }
    Outcome::Success(paid_fields(platform, &out_trade_no, order))
}

fn paid_fields(platform: &Platform, out_trade_no: &str, order: &Order) -> Fields {
    pairs(&[
        ("appid", order.appid.clone()),
        ("mch_id", platform.mchid.clone()),
        ("openid", order.openid.clone()),
        ("is_subscribe", "N".to_owned()),
        ("trade_type", order.trade_type.clone()),
        ("bank_type", "OTHERS".to_owned()),
        ("fee_type", "CNY".to_owned()),
        ("total_fee", order.total_fee.to_string()),
        ("cash_fee", order.total_fee.to_string()),
        ("transaction_id", order.transaction_id.clone()),
        ("out_trade_no", out_trade_no.to_owned()),
        ("time_end", order.time_end.clone()),
    ])
}

/// The order a request names by `out_trade_no` or `transaction_id`.
fn find_order<'a>(memory: &'a mut Memory, call: &Call) -> Option<(String, &'a mut Order)> {
    let key = match call.get("out_trade_no") {
        Some(no) => no.to_owned(),
        None => {
            let id = call.get("transaction_id")?;
            memory
                .orders
                .iter()
                .find(|(_, o)| o.transaction_id == id)
                .map(|(k, _)| k.clone())?
        }
    };
    memory.orders.get_mut(&key).map(|o| (key, o))
}

fn order_query(platform: &Arc<Platform>, call: &Call) -> Outcome {
    let mut memory = platform.v2.memory();
    let Some((out_trade_no, order)) = find_order(&mut memory, call) else {
        return Outcome::Failure("ORDERNOTEXIST", "此交易订单号不存在".to_owned());
    };
    let mut fields = if order.trade_state == "NOTPAY" || order.trade_state == "CLOSED" {
        pairs(&[
            ("appid", order.appid.clone()),
            ("mch_id", platform.mchid.clone()),
            ("out_trade_no", out_trade_no.clone()),
            ("total_fee", order.total_fee.to_string()),
            ("trade_type", order.trade_type.clone()),
        ])
    } else {
        paid_fields(platform, &out_trade_no, order)
    };
    let description = match order.trade_state {
        "NOTPAY" => "订单未支付",
        "CLOSED" => "订单已关闭",
        "REFUND" => "订单发生过退款",
        _ => "支付成功",
    };
    fields.push(("trade_state".to_owned(), order.trade_state.to_owned()));
    fields.push(("trade_state_desc".to_owned(), description.to_owned()));
    Outcome::Success(fields)
}

fn close_order(platform: &Arc<Platform>, call: &Call) -> Outcome {
    let mut memory = platform.v2.memory();
    let Some((_, order)) = find_order(&mut memory, call) else {
        return Outcome::Failure("ORDERNOTEXIST", "订单不存在".to_owned());
    };
    match order.trade_state {
        "NOTPAY" | "CLOSED" => {
            order.trade_state = "CLOSED";
            Outcome::Success(pairs(&[
                ("appid", order.appid.clone()),
                ("mch_id", platform.mchid.clone()),
            ]))
        }
        _ => Outcome::Failure("ORDERPAID", "订单已支付，不能发起关单".to_owned()),
    }
}

fn refund(platform: &Arc<Platform>, call: &Call) -> Outcome {
    let out_refund_no = text(call, "out_refund_no");
    let refund_fee = match amount(call, "refund_fee") {
        Ok(v) => v,
        Err(failure) => return failure,
    };
    let (fields, notice) = {
        let mut memory = platform.v2.memory();
        if let Some(done) = memory
            .refunds
            .iter()
            .find(|r| r.out_refund_no == out_refund_no)
        {
            // The same refund asked again is answered with the first.
            if done.refund_fee != refund_fee {
                return Outcome::Failure(
                    "INVALID_REQUEST",
                    "同一商户退款单号的退款金额不一致".to_owned(),
                );
            }
            return Outcome::Success(refund_fields(platform, done));
        }
        let Some((out_trade_no, order)) = find_order(&mut memory, call) else {
            return Outcome::Failure("ORDERNOTEXIST", "订单不存在".to_owned());
        };
        if !matches!(order.trade_state, "SUCCESS" | "REFUND") {
            return Outcome::Failure("TRADE_STATE_ERROR", "订单状态错误".to_owned());
        }
        if order.refunded + refund_fee > order.total_fee {
            return Outcome::Failure("NOTENOUGH", "退款金额大于订单可退金额".to_owned());
        }
        order.refunded += refund_fee;
        order.trade_state = "REFUND";
        let refund = Refund {
            appid: order.appid.clone(),
            out_trade_no,
            out_refund_no,
            refund_id: format!("50000{}", random_digits(24)),
            refund_fee,
            total_fee: order.total_fee,
            transaction_id: order.transaction_id.clone(),
        };
        let notify_url = call
            .get("notify_url")
            .map(str::to_owned)
            .or_else(|| order.notify_url.clone());
        let fields = refund_fields(platform, &refund);
        let notice = notify_url.map(|url| (url, refund_notification(platform, &refund)));
        memory.refunds.push(refund);
        (fields, notice)
    };
    if let Some((url, body)) = notice {
        match body {
            Ok(body) => {
                crate::notify::send_xml(platform, url, "REFUND.SUCCESS", body);
            }
            Err(()) => tracing::error!("sealing a refund notification failed"),
        }
    }
    Outcome::Success(fields)
}

fn refund_fields(platform: &Platform, refund: &Refund) -> Fields {
    pairs(&[
        ("appid", refund.appid.clone()),
        ("mch_id", platform.mchid.clone()),
        ("transaction_id", refund.transaction_id.clone()),
        ("out_trade_no", refund.out_trade_no.clone()),
        ("out_refund_no", refund.out_refund_no.clone()),
        ("refund_id", refund.refund_id.clone()),
        ("refund_fee", refund.refund_fee.to_string()),
        ("total_fee", refund.total_fee.to_string()),
        ("cash_fee", refund.total_fee.to_string()),
    ])
}

/// The refund result notification: `req_info` sealed with the APIv2 key, the envelope unsigned.
fn refund_notification(platform: &Platform, refund: &Refund) -> Result<String, ()> {
    let plaintext = wire::write_root(
        "root",
        &pairs(&[
            ("out_refund_no", refund.out_refund_no.clone()),
            ("out_trade_no", refund.out_trade_no.clone()),
            ("refund_account", "REFUND_SOURCE_RECHARGE_FUNDS".to_owned()),
            ("refund_fee", refund.refund_fee.to_string()),
            ("refund_id", refund.refund_id.clone()),
            ("refund_recv_accout", "支付用户零钱".to_owned()),
            ("refund_request_source", "API".to_owned()),
            ("refund_status", "SUCCESS".to_owned()),
            ("settlement_refund_fee", refund.refund_fee.to_string()),
            ("settlement_total_fee", refund.total_fee.to_string()),
            ("success_time", compact_time_dashed()),
            ("total_fee", refund.total_fee.to_string()),
            ("transaction_id", refund.transaction_id.clone()),
        ]),
    );
    let req_info = wire::seal_req_info(platform.v2.apiv2_key.expose(), &plaintext)?;
    Ok(wire::write(&pairs(&[
        ("return_code", "SUCCESS".to_owned()),
        ("appid", refund.appid.clone()),
        ("mch_id", platform.mchid.clone()),
        ("nonce_str", random_alphanumeric(32)),
        ("req_info", req_info),
    ])))
}

/// `yyyy-MM-dd HH:mm:ss` in Beijing time (`success_time` of a refund).
fn compact_time_dashed() -> String {
    let t = compact_now();
    format!(
        "{}-{}-{} {}:{}:{}",
        &t[0..4],
        &t[4..6],
        &t[6..8],
        &t[8..10],
        &t[10..12],
        &t[12..14]
    )
}

fn refund_query(platform: &Arc<Platform>, call: &Call) -> Outcome {
    let memory = platform.v2.memory();
    let matches: Vec<&Refund> = memory
        .refunds
        .iter()
        .filter(|r| {
            call.get("out_refund_no") == Some(r.out_refund_no.as_str())
                || call.get("refund_id") == Some(r.refund_id.as_str())
                || call.get("out_trade_no") == Some(r.out_trade_no.as_str())
                || call.get("transaction_id") == Some(r.transaction_id.as_str())
        })
        .collect();
    let Some(first) = matches.first() else {
        return Outcome::Failure("REFUNDNOTEXIST", "退款订单查询失败".to_owned());
    };
    let mut fields = pairs(&[
        ("appid", first.appid.clone()),
        ("mch_id", platform.mchid.clone()),
        ("transaction_id", first.transaction_id.clone()),
        ("out_trade_no", first.out_trade_no.clone()),
        ("total_fee", first.total_fee.to_string()),
        ("cash_fee", first.total_fee.to_string()),
        ("refund_count", matches.len().to_string()),
    ]);
    for (n, refund) in matches.iter().enumerate() {
        fields.extend(pairs(&[
            (&format!("out_refund_no_{n}"), refund.out_refund_no.clone()),
            (&format!("refund_id_{n}"), refund.refund_id.clone()),
            (&format!("refund_fee_{n}"), refund.refund_fee.to_string()),
            (&format!("refund_status_{n}"), "SUCCESS".to_owned()),
            (
                &format!("refund_recv_accout_{n}"),
                "支付用户零钱".to_owned(),
            ),
        ]));
    }
    Outcome::Success(fields)
}

/// Pays a NOTPAY order (the user paid, as the cashier would say) and notifies the order's
/// `notify_url` with the signed payment result. Returns whether there was such an order.
pub(crate) fn pay_order(platform: &Arc<Platform>, out_trade_no: &str) -> bool {
    let notice = {
        let mut memory = platform.v2.memory();
        let Some(order) = memory.orders.get_mut(out_trade_no) else {
            return false;
        };
        if order.trade_state != "NOTPAY" {
            return false;
        }
        order.trade_state = "SUCCESS";
        order.time_end = compact_now();
        let mut fields: Fields = pairs(&[
            ("return_code", "SUCCESS".to_owned()),
            ("result_code", "SUCCESS".to_owned()),
            ("nonce_str", random_alphanumeric(32)),
        ]);
        fields.extend(paid_fields(platform, out_trade_no, order));
        if order.sign_type == SignType::HmacSha256 {
            fields.push(("sign_type".to_owned(), "HMAC-SHA256".to_owned()));
        }
        let sign = wire::sign(&fields, platform.v2.apiv2_key.expose(), order.sign_type);
        fields.push(("sign".to_owned(), sign));
        order
            .notify_url
            .clone()
            .map(|url| (url, wire::write(&fields)))
    };
    if let Some((url, body)) = notice {
        crate::notify::send_xml(platform, url, "TRANSACTION.SUCCESS", body);
    }
    true
}
