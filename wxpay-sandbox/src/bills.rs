//! Bill files as the platform writes them (CSV, every value prefixed with a backtick, a
//! summary at the end), generated piece by piece while they are hashed or served: a bill of
//! any size costs the sandbox one piece of memory.

use std::fmt::Write as _;
use std::sync::Arc;

use time::{Date, Duration, OffsetDateTime, Time};

use crate::clock::BEIJING;
use crate::payments::{Order, Refund};

/// About this much CSV is generated at a time.
const PIECE: usize = 64 * 1024;

/// Which bill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BillKind {
    Trade,
    FundFlow,
}

/// One day's bill, ready to be generated any number of times with the same bytes.
#[derive(Debug)]
pub(crate) struct BillFile {
    kind: BillKind,
    date: Date,
    mchid: String,
    /// Rows of the day's real orders and refunds, rendered.
    rows: Vec<String>,
    /// `(orders, paid fen, refunded fen)` of `rows`.
    totals: (u64, u64, u64),
    /// Synthetic successful trades after the real rows (trade bills only).
    synthetic: u64,
    pub(crate) gzip: bool,
}

fn yuan(fen: u64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

fn beijing_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(BEIJING);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn row(fields: &[&str]) -> String {
    let mut line = String::new();
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        line.push('`');
        line.push_str(field);
    }
    line.push_str("\r\n");
    line
}

const TRADE_HEADER: &str = "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注\r\n";
const TRADE_SUMMARY: &str = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n";
const FUND_HEADER: &str = "记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额（元）,账户结余（元）,资金变更提交申请人,备注,业务凭证号\r\n";
const FUND_SUMMARY: &str = "资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额\r\n";

impl BillFile {
    /// The bill of `date` from that day's orders and refunds.
    pub(crate) fn new(
        kind: BillKind,
        date: Date,
        mchid: &str,
        (orders, refunds): (Vec<Order>, Vec<Refund>),
        synthetic: u64,
        gzip: bool,
    ) -> Self {
        let mut rows = Vec::new();
        let (mut paid, mut refunded) = (0u64, 0u64);
        let mut balance = 0u64;
        for order in &orders {
            let time = order.success_time.map(beijing_time).unwrap_or_default();
            let transaction_id = order.transaction_id.clone().unwrap_or_default();
            let total = yuan(order.spec.total);
            paid += order.spec.total;
            rows.push(match kind {
                BillKind::Trade => row(&[
                    &time,
                    &order.spec.appid,
                    mchid,
                    "0",
                    "",
                    &transaction_id,
                    &order.spec.out_trade_no,
                    order.spec.openid.as_deref().unwrap_or_default(),
                    order.spec.trade_type,
                    "SUCCESS",
                    "OTHERS",
                    "CNY",
                    &total,
                    "0.00",
                    "0",
                    "0",
                    "0.00",
                    "0.00",
                    "",
                    "",
                    &order.spec.description,
                    order.spec.attach.as_deref().unwrap_or_default(),
                    "0.00000",
                    "0.60%",
                    &total,
                    "0.00",
                    "",
                ]),
                BillKind::FundFlow => {
                    balance += order.spec.total;
                    row(&[
                        &time,
                        &transaction_id,
                        &transaction_id,
                        "交易",
                        "交易",
                        "收入",
                        &total,
                        &yuan(balance),
                        "system",
                        "",
                        &format!("REF{transaction_id}"),
                    ])
                }
            });
        }
        for refund in &refunds {
            let time = beijing_time(refund.create_time);
            let amount = yuan(refund.spec.refund);
            refunded += refund.spec.refund;
            rows.push(match kind {
                BillKind::Trade => row(&[
                    &time,
                    "",
                    mchid,
                    "0",
                    "",
                    &refund.transaction_id,
                    &refund.out_trade_no,
                    "",
                    "",
                    "REFUND",
                    "OTHERS",
                    "CNY",
                    "0.00",
                    "0.00",
                    &refund.refund_id,
                    &refund.spec.out_refund_no,
                    &amount,
                    "0.00",
                    "ORIGINAL",
                    refund.status.as_str(),
                    "",
                    "",
                    "0.00000",
                    "0.60%",
                    "0.00",
                    &amount,
                    "",
                ]),
                BillKind::FundFlow => {
                    balance = balance.saturating_sub(refund.spec.refund);
                    row(&[
                        &time,
                        &refund.refund_id,
                        &refund.refund_id,
                        "退款",
                        "退款",
                        "支出",
                        &amount,
                        &yuan(balance),
                        mchid,
                        "",
                        &refund.spec.out_refund_no,
                    ])
                }
            });
        }
        BillFile {
            kind,
            date,
            mchid: mchid.to_owned(),
            rows,
            totals: (orders.len() as u64, paid, refunded),
            synthetic: if kind == BillKind::Trade {
                synthetic
            } else {
                0
            },
            gzip,
        }
    }

    /// A cursor over the bill's CSV bytes (uncompressed).
    pub(crate) fn cursor(self: &Arc<Self>) -> BillCursor {
        BillCursor {
            file: Arc::clone(self),
            next: 0,
            synthetic_totals: (0, 0),
            done: false,
        }
    }

    /// The synthetic trade `i`: 1 to 10000 fen, spread over the day.
    fn synthetic_row(&self, i: u64, line: &mut String) -> u64 {
        let fen = i % 10_000 + 1;
        let seconds = i64::try_from(i % 86_400).unwrap_or_default();
        let time =
            self.date.with_time(Time::MIDNIGHT).assume_offset(BEIJING) + Duration::seconds(seconds);
        let total = yuan(fen);
        let _ = write!(
            line,
            "`{},`wxd678efh567hg6787,`{},`0,`,`4200{:024},`synthetic{:023},`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`NATIVE,`SUCCESS,`OTHERS,`CNY,`{total},`0.00,`0,`0,`0.00,`0.00,`,`,`synthetic trade,`,`0.00000,`0.60%,`{total},`0.00,`\r\n",
            beijing_time(time),
            self.mchid,
            i,
            i,
        );
        fen
    }
}

/// Generates a bill's bytes piece by piece.
pub(crate) struct BillCursor {
    file: Arc<BillFile>,
    /// Index of the next line: 0 is the header, then real rows, then synthetic rows.
    next: u64,
    /// `(count, fen)` of the synthetic rows generated so far.
    synthetic_totals: (u64, u64),
    done: bool,
}

impl BillCursor {
    /// The next piece of about [`PIECE`] bytes, or `None` at the end.
    pub(crate) fn next_piece(&mut self) -> Option<String> {
        if self.done {
            return None;
        }
        let file = Arc::clone(&self.file);
        let real = file.rows.len() as u64;
        let mut piece = String::with_capacity(PIECE + 512);
        while piece.len() < PIECE {
            let line = self.next;
            self.next += 1;
            if line == 0 {
                piece.push_str(match file.kind {
                    BillKind::Trade => TRADE_HEADER,
                    BillKind::FundFlow => FUND_HEADER,
                });
            } else if line <= real {
                let index = usize::try_from(line - 1).unwrap_or(usize::MAX);
                piece.push_str(file.rows.get(index).map_or("", String::as_str));
            } else if line <= real + file.synthetic {
                let fen = file.synthetic_row(line - 1 - real, &mut piece);
                self.synthetic_totals.0 += 1;
                self.synthetic_totals.1 += fen;
            } else {
                self.summary(&mut piece);
                self.done = true;
                break;
            }
        }
        Some(piece)
    }

    fn summary(&self, out: &mut String) {
        let (orders, paid, refunded) = self.file.totals;
        let (count, fen) = self.synthetic_totals;
        match self.file.kind {
            BillKind::Trade => {
                out.push_str(TRADE_SUMMARY);
                let paid = yuan(paid + fen);
                let refunded = yuan(refunded);
                out.push_str(&row(&[
                    &(orders + count).to_string(),
                    &paid,
                    &refunded,
                    "0.00",
                    "0.00000",
                    &paid,
                    &refunded,
                ]));
            }
            BillKind::FundFlow => {
                let refunds = self.file.rows.len() as u64 - orders;
                out.push_str(FUND_SUMMARY);
                out.push_str(&row(&[
                    &(orders + refunds).to_string(),
                    &orders.to_string(),
                    &yuan(paid),
                    &refunds.to_string(),
                    &yuan(refunded),
                ]));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payments::{NewOrder, NewRefund, Payments};
    use time::macros::datetime;

    fn all(file: &Arc<BillFile>) -> String {
        let mut cursor = file.cursor();
        let mut text = String::new();
        while let Some(piece) = cursor.next_piece() {
            assert!(piece.len() < PIECE + 1024, "pieces stay bounded");
            text.push_str(&piece);
        }
        text
    }

    #[test]
    fn trade_bill_in_the_platforms_format() {
        let mut payments = Payments::default();
        let paid_at = datetime!(2026-01-02 10:00:00 +08:00);
        payments
            .prepay(NewOrder {
                trade_type: "JSAPI",
                appid: "wxapp".into(),
                description: "商品".into(),
                out_trade_no: "order001".into(),
                attach: None,
                total: 1234,
                currency: "CNY".into(),
                openid: Some("openid".into()),
                time_expire: None,
                notify_url: "https://merchant.example.com/notify".into(),
                sub_merchant: None,
            })
            .unwrap();
        payments.pay("order001", paid_at).unwrap();
        payments
            .refund(
                None,
                "order001",
                NewRefund {
                    out_refund_no: "refund001".into(),
                    reason: None,
                    refund: 234,
                    total: 1234,
                    currency: "CNY".into(),
                },
                paid_at,
            )
            .unwrap();
        let date = paid_at.date();
        let file = Arc::new(BillFile::new(
            BillKind::Trade,
            date,
            "1230000109",
            payments.day(date),
            3,
            false,
        ));
        let text = all(&file);
        let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert_eq!(lines[0], TRADE_HEADER.trim_end());
        assert!(lines[1].starts_with("`2026-01-02 10:00:00,`wxapp,`1230000109,"));
        assert!(lines[1].contains("`order001,") && lines[1].contains("`12.34,"));
        assert!(lines[2].contains("`refund001,`2.34,") && lines[2].contains("`REFUND,"));
        assert!(lines[3].contains("`synthetic"));
        assert_eq!(lines.len(), 1 + 2 + 3 + 2);
        assert_eq!(lines[6], TRADE_SUMMARY.trim_end());
        // 1 real + 3 synthetic trades: 12.34 + (0.01 + 0.02 + 0.03) yuan.
        assert_eq!(lines[7], "`4,`12.40,`2.34,`0.00,`0.00000,`12.40,`2.34");
        assert_eq!(all(&file), text, "the same bytes every time");

        let fund = Arc::new(BillFile::new(
            BillKind::FundFlow,
            date,
            "1230000109",
            payments.day(date),
            3,
            false,
        ));
        let text = all(&fund);
        assert!(text.starts_with(FUND_HEADER));
        assert!(text.contains("`收入,`12.34,`12.34,") && text.contains("`支出,`2.34,`10.00,"));
        assert!(text.ends_with("`2,`1,`12.34,`1,`2.34\r\n"), "{text}");
    }
}
