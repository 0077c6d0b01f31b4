//! The platform's memory of orders and refunds, kept apart from the coupon store so each
//! product's state machine reads on its own.
//!
//! Orders: `NOTPAY -pay-> SUCCESS -refund-> REFUND`, `NOTPAY -close/expire-> CLOSED`.
//! Refunds: `PROCESSING -> SUCCESS` (completed when next looked at), or `ABNORMAL` (a
//! sandbox control) until the merchant applies for an abnormal refund.
//!
//! An order is the calling merchant's own or, when it acts as a service provider, one of its
//! sub-merchants'; every lookup names whose (`sub_mchid`, `None` for its own) and finds no
//! order, or refund, of anybody else. Order and refund numbers are unique across the sandbox
//! (the platform keeps them per merchant): a sub-merchant cannot reuse its provider's.

use std::collections::HashMap;

use time::{Date, OffsetDateTime};

use crate::clock::BEIJING;
use crate::crypto::random_digits;

/// What a merchant asks for when placing an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NewOrder {
    pub(crate) trade_type: &'static str,
    pub(crate) appid: String,
    pub(crate) description: String,
    pub(crate) out_trade_no: String,
    pub(crate) attach: Option<String>,
    pub(crate) total: u64,
    pub(crate) currency: String,
    pub(crate) openid: Option<String>,
    pub(crate) time_expire: Option<OffsetDateTime>,
    pub(crate) notify_url: String,
    /// A sub-merchant's order: `appid` is then the provider's `sp_appid`, `openid` the payer's
    /// `sp_openid`.
    pub(crate) sub_merchant: Option<SubMerchant>,
}

/// The sub-merchant an order is placed for by its service provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SubMerchant {
    pub(crate) sub_mchid: String,
    pub(crate) sub_appid: Option<String>,
    /// The payer's openid under `sub_appid`.
    pub(crate) sub_openid: Option<String>,
}

impl NewOrder {
    fn sub_mchid(&self) -> Option<&str> {
        self.sub_merchant.as_ref().map(|s| s.sub_mchid.as_str())
    }
}

/// The state of an order (`TransactionTradeState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TradeState {
    NotPay,
    Success,
    Refund,
    Closed,
}

impl TradeState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            TradeState::NotPay => "NOTPAY",
            TradeState::Success => "SUCCESS",
            TradeState::Refund => "REFUND",
            TradeState::Closed => "CLOSED",
        }
    }

    pub(crate) fn desc(self) -> &'static str {
        match self {
            TradeState::NotPay => "未支付",
            TradeState::Success => "支付成功",
            TradeState::Refund => "转入退款",
            TradeState::Closed => "已关闭",
        }
    }
}

/// An order.
#[derive(Debug, Clone)]
pub(crate) struct Order {
    pub(crate) spec: NewOrder,
    pub(crate) prepay_id: String,
    pub(crate) state: TradeState,
    pub(crate) transaction_id: Option<String>,
    pub(crate) success_time: Option<OffsetDateTime>,
    /// Fen refunded so far (refunds in any state but closed).
    pub(crate) refunded: u64,
    /// When it was placed: its `prepay_id` lives [`PREPAY_ID_LIFETIME`] from then.
    pub(crate) created: OffsetDateTime,
    /// What the payer last did at a sandbox cashier without paying (`cancelled`, `failed: …`).
    pub(crate) payer_note: Option<String>,
}

/// How long a `prepay_id` can start a payment: two hours, as the platform's.
pub(crate) const PREPAY_ID_LIFETIME: time::Duration = time::Duration::hours(2);

impl Order {
    /// Whether the payer can still pay the order at `now`: unpaid, open, within its
    /// `time_expire` and its `prepay_id`'s lifetime.
    pub(crate) fn payable(&self, now: OffsetDateTime) -> Result<(), PayError> {
        match self.state {
            TradeState::NotPay => {}
            TradeState::Closed => return Err(PayError::OrderClosed),
            TradeState::Success | TradeState::Refund => return Err(PayError::OrderPaid),
        }
        let expired = self.spec.time_expire.is_some_and(|expire| expire < now)
            || self.created + PREPAY_ID_LIFETIME < now;
        if expired {
            return Err(PayError::OrderClosed);
        }
        Ok(())
    }
}

/// The state of a refund (`RefundStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RefundStatus {
    Processing,
    Success,
    Abnormal,
}

impl RefundStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            RefundStatus::Processing => "PROCESSING",
            RefundStatus::Success => "SUCCESS",
            RefundStatus::Abnormal => "ABNORMAL",
        }
    }
}

/// What a merchant asks for when refunding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NewRefund {
    pub(crate) out_refund_no: String,
    pub(crate) reason: Option<String>,
    pub(crate) refund: u64,
    pub(crate) total: u64,
    pub(crate) currency: String,
}

/// A refund.
#[derive(Debug, Clone)]
pub(crate) struct Refund {
    pub(crate) spec: NewRefund,
    pub(crate) refund_id: String,
    pub(crate) out_trade_no: String,
    /// The sub-merchant whose order was refunded.
    pub(crate) sub_mchid: Option<String>,
    pub(crate) transaction_id: String,
    pub(crate) status: RefundStatus,
    pub(crate) channel: &'static str,
    pub(crate) create_time: OffsetDateTime,
    pub(crate) success_time: Option<OffsetDateTime>,
}

/// Why an order or refund operation was refused; routes turn these into platform errors.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PayError {
    OrderNotExist,
    OutTradeNoUsed,
    OrderPaid,
    OrderClosed,
    NotPaid,
    TotalMismatch { paid: u64, given: u64 },
    NotEnough { refundable: u64, asked: u64 },
    OutRefundNoUsed,
    RefundNotExist,
    RefundNotAbnormal(&'static str),
}

/// Orders, refunds, and synthetic trades for large bills.
#[derive(Debug, Default)]
pub(crate) struct Payments {
    /// Synthetic successful trades added to a day's trade bill (large-bill tests).
    pub(crate) synthetic_rows: HashMap<Date, u64>,
    /// Download tokens handed out by the bill APIs.
    pub(crate) bill_files: HashMap<String, std::sync::Arc<crate::bills::BillFile>>,
    /// Download tokens handed out for e-invoice files, and the file each names.
    pub(crate) fapiao_files: HashMap<String, Vec<u8>>,
    orders: HashMap<String, Order>,
    /// `out_trade_no`s in the order they were placed.
    placed: Vec<String>,
    by_transaction_id: HashMap<String, String>,
    refunds: HashMap<String, Refund>,
    /// `out_refund_no`s in the order they were made.
    made: Vec<String>,
    by_refund_id: HashMap<String, String>,
}

impl Payments {
    /// Places an order, or gives back the same prepay id for the same order sent again.
    pub(crate) fn prepay(&mut self, spec: NewOrder) -> Result<String, PayError> {
        if let Some(order) = self.orders.get(&spec.out_trade_no) {
            return match order.state {
                _ if order.spec != spec => Err(PayError::OutTradeNoUsed),
                TradeState::NotPay => Ok(order.prepay_id.clone()),
                TradeState::Closed => Err(PayError::OrderClosed),
                TradeState::Success | TradeState::Refund => Err(PayError::OrderPaid),
            };
        }
        let prepay_id = format!("wx{}", random_digits(34));
        self.placed.push(spec.out_trade_no.clone());
        self.orders.insert(
            spec.out_trade_no.clone(),
            Order {
                spec,
                prepay_id: prepay_id.clone(),
                state: TradeState::NotPay,
                transaction_id: None,
                success_time: None,
                refunded: 0,
                created: crate::clock::now(),
                payer_note: None,
            },
        );
        Ok(prepay_id)
    }

    /// Every order, newest first.
    pub(crate) fn orders(&self) -> impl Iterator<Item = &Order> {
        self.placed
            .iter()
            .rev()
            .filter_map(|no| self.orders.get(no))
    }

    /// Every refund, newest first.
    pub(crate) fn refunds(&self) -> impl Iterator<Item = &Refund> {
        self.made.iter().rev().filter_map(|no| self.refunds.get(no))
    }

    /// The order a `prepay_id` names, of any merchant (the front end knows only the id).
    pub(crate) fn order_by_prepay_id(&self, prepay_id: &str) -> Option<&Order> {
        self.orders.values().find(|o| o.prepay_id == prepay_id)
    }

    /// The order `out_trade_no`, of any merchant (the sandbox's own pages).
    pub(crate) fn any_order(&self, out_trade_no: &str) -> Option<&Order> {
        self.orders.get(out_trade_no)
    }

    /// Notes what the payer did at a cashier without paying; the order stays unpaid.
    pub(crate) fn note_payer(&mut self, out_trade_no: &str, note: String) -> Result<(), PayError> {
        let order = self
            .orders
            .get_mut(out_trade_no)
            .ok_or(PayError::OrderNotExist)?;
        order.payable(crate::clock::now())?;
        order.payer_note = Some(note);
        Ok(())
    }

    /// The order `out_trade_no` of `sub_mchid` (`None`: of the calling merchant itself).
    pub(crate) fn order(
        &self,
        sub_mchid: Option<&str>,
        out_trade_no: &str,
    ) -> Result<&Order, PayError> {
        self.orders
            .get(out_trade_no)
            .filter(|o| o.spec.sub_mchid() == sub_mchid)
            .ok_or(PayError::OrderNotExist)
    }

    fn order_mut(
        &mut self,
        sub_mchid: Option<&str>,
        out_trade_no: &str,
    ) -> Result<&mut Order, PayError> {
        self.orders
            .get_mut(out_trade_no)
            .filter(|o| o.spec.sub_mchid() == sub_mchid)
            .ok_or(PayError::OrderNotExist)
    }

    pub(crate) fn order_by_transaction_id(
        &self,
        sub_mchid: Option<&str>,
        transaction_id: &str,
    ) -> Result<&Order, PayError> {
        let no = self
            .by_transaction_id
            .get(transaction_id)
            .ok_or(PayError::OrderNotExist)?;
        self.order(sub_mchid, no)
    }

    /// Closes an unpaid order; closing a closed order again is fine.
    pub(crate) fn close(
        &mut self,
        sub_mchid: Option<&str>,
        out_trade_no: &str,
    ) -> Result<(), PayError> {
        let order = self.order_mut(sub_mchid, out_trade_no)?;
        match order.state {
            TradeState::NotPay | TradeState::Closed => {
                order.state = TradeState::Closed;
                Ok(())
            }
            TradeState::Success | TradeState::Refund => Err(PayError::OrderPaid),
        }
    }

    /// Sandbox control: the user pays.
    pub(crate) fn pay(
        &mut self,
        out_trade_no: &str,
        now: OffsetDateTime,
    ) -> Result<&Order, PayError> {
        let order = self
            .orders
            .get_mut(out_trade_no)
            .ok_or(PayError::OrderNotExist)?;
        match order.state {
            TradeState::NotPay => {}
            TradeState::Closed => return Err(PayError::OrderClosed),
            TradeState::Success | TradeState::Refund => return Err(PayError::OrderPaid),
        }
        if order.spec.time_expire.is_some_and(|expire| expire < now) {
            order.state = TradeState::Closed;
            return Err(PayError::OrderClosed);
        }
        let date = now.to_offset(BEIJING).date();
        let transaction_id = format!(
            "4200{:04}{:02}{:02}{}",
            date.year(),
            u8::from(date.month()),
            date.day(),
            random_digits(16)
        );
        // The caller notifies TRANSACTION.SUCCESS with the paid order (`notify`), once the
        // payments lock is released.
        order.state = TradeState::Success;
        // Whoever pays is known from then on, also for an order placed without a payer (APP,
        // H5, Native): the platform's paid transaction always names one.
        if order.spec.openid.is_none()
            && order
                .spec
                .sub_merchant
                .as_ref()
                .is_none_or(|s| s.sub_openid.is_none())
        {
            order.spec.openid = Some(crate::SANDBOX_OPENID.to_owned());
        }
        order.transaction_id = Some(transaction_id.clone());
        order.success_time = Some(now);
        self.by_transaction_id
            .insert(transaction_id, out_trade_no.to_owned());
        self.orders.get(out_trade_no).ok_or(PayError::OrderNotExist)
    }

    /// Sandbox control: the order's payment window passes unpaid.
    pub(crate) fn expire(&mut self, out_trade_no: &str) -> Result<&Order, PayError> {
        let order = self
            .orders
            .get_mut(out_trade_no)
            .ok_or(PayError::OrderNotExist)?;
        match order.state {
            TradeState::NotPay | TradeState::Closed => order.state = TradeState::Closed,
            TradeState::Success | TradeState::Refund => return Err(PayError::OrderPaid),
        }
        self.orders.get(out_trade_no).ok_or(PayError::OrderNotExist)
    }

    /// Refunds part or all of a paid order. The same `out_refund_no` with the same request
    /// gives back the refund it made the first time.
    pub(crate) fn refund(
        &mut self,
        sub_mchid: Option<&str>,
        out_trade_no: &str,
        spec: NewRefund,
        now: OffsetDateTime,
    ) -> Result<&Refund, PayError> {
        if let Some(existing) = self.refunds.get(&spec.out_refund_no) {
            if existing.spec != spec
                || existing.out_trade_no != out_trade_no
                || existing.sub_mchid.as_deref() != sub_mchid
            {
                return Err(PayError::OutRefundNoUsed);
            }
            return self.refund_by_out_refund_no(sub_mchid, &spec.out_refund_no);
        }
        let order = self.order_mut(sub_mchid, out_trade_no)?;
        let transaction_id = match (order.state, &order.transaction_id) {
            (TradeState::Success | TradeState::Refund, Some(id)) => id.clone(),
            _ => return Err(PayError::NotPaid),
        };
        if spec.total != order.spec.total {
            return Err(PayError::TotalMismatch {
                paid: order.spec.total,
                given: spec.total,
            });
        }
        let refundable = order.spec.total - order.refunded;
        if spec.refund == 0 || spec.refund > refundable {
            return Err(PayError::NotEnough {
                refundable,
                asked: spec.refund,
            });
        }
        order.refunded += spec.refund;
        order.state = TradeState::Refund;
        let refund_id = format!("50000{}", random_digits(24));
        let out_refund_no = spec.out_refund_no.clone();
        self.by_refund_id
            .insert(refund_id.clone(), out_refund_no.clone());
        self.made.push(out_refund_no.clone());
        self.refunds.insert(
            out_refund_no.clone(),
            Refund {
                spec,
                refund_id,
                out_trade_no: out_trade_no.to_owned(),
                sub_mchid: sub_mchid.map(str::to_owned),
                transaction_id,
                status: RefundStatus::Processing,
                channel: "ORIGINAL",
                create_time: now,
                success_time: None,
            },
        );
        self.refund_by_out_refund_no(sub_mchid, &out_refund_no)
    }

    /// The refund `out_refund_no` of an order of `sub_mchid` (`None`: of the calling merchant).
    pub(crate) fn refund_by_out_refund_no(
        &self,
        sub_mchid: Option<&str>,
        out_refund_no: &str,
    ) -> Result<&Refund, PayError> {
        self.refunds
            .get(out_refund_no)
            .filter(|r| r.sub_mchid.as_deref() == sub_mchid)
            .ok_or(PayError::RefundNotExist)
    }

    fn refund_mut(
        &mut self,
        sub_mchid: Option<&str>,
        out_refund_no: &str,
    ) -> Result<&mut Refund, PayError> {
        self.refunds
            .get_mut(out_refund_no)
            .filter(|r| r.sub_mchid.as_deref() == sub_mchid)
            .ok_or(PayError::RefundNotExist)
    }

    /// A refund as a query sees it: one still processing completes now (the platform
    /// finishes refunds in the background; the sandbox finishes them when looked at).
    pub(crate) fn query_refund(
        &mut self,
        sub_mchid: Option<&str>,
        out_refund_no: &str,
        now: OffsetDateTime,
    ) -> Result<&Refund, PayError> {
        let refund = self.refund_mut(sub_mchid, out_refund_no)?;
        if refund.status == RefundStatus::Processing {
            refund.status = RefundStatus::Success;
            refund.success_time = Some(now);
        }
        Ok(refund)
    }

    /// Sandbox control: the refund cannot reach the user's account.
    pub(crate) fn make_abnormal(&mut self, out_refund_no: &str) -> Result<&Refund, PayError> {
        let refund = self
            .refunds
            .get_mut(out_refund_no)
            .ok_or(PayError::RefundNotExist)?;
        refund.status = RefundStatus::Abnormal;
        refund.success_time = None;
        Ok(refund)
    }

    /// The merchant sends an abnormal refund elsewhere (the user's balance or a bank card).
    pub(crate) fn apply_abnormal(
        &mut self,
        sub_mchid: Option<&str>,
        refund_id: &str,
        out_refund_no: &str,
        channel: &'static str,
    ) -> Result<&Refund, PayError> {
        let known = self
            .by_refund_id
            .get(refund_id)
            .filter(|no| no.as_str() == out_refund_no)
            .ok_or(PayError::RefundNotExist)?
            .clone();
        let refund = self.refund_mut(sub_mchid, &known)?;
        if refund.status != RefundStatus::Abnormal {
            return Err(PayError::RefundNotAbnormal(refund.status.as_str()));
        }
        refund.status = RefundStatus::Processing;
        refund.channel = channel;
        Ok(refund)
    }

    /// Paid orders (their payment time, Beijing) and refunds (their creation) of one day,
    /// in time order: what that day's bills list.
    pub(crate) fn day(&self, date: Date) -> (Vec<Order>, Vec<Refund>) {
        let on_day = |t: OffsetDateTime| t.to_offset(BEIJING).date() == date;
        let mut orders: Vec<Order> = self
            .orders
            .values()
            .filter(|o| o.success_time.is_some_and(on_day))
            .cloned()
            .collect();
        orders.sort_by_key(|o| o.success_time);
        let mut refunds: Vec<Refund> = self
            .refunds
            .values()
            .filter(|r| on_day(r.create_time))
            .cloned()
            .collect();
        refunds.sort_by_key(|r| r.create_time);
        (orders, refunds)
    }

    /// The order a refund belongs to.
    pub(crate) fn order_of(&self, refund: &Refund) -> Option<&Order> {
        self.orders.get(&refund.out_trade_no)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(no: &str, total: u64) -> NewOrder {
        NewOrder {
            trade_type: "JSAPI",
            appid: "wx".into(),
            description: "d".into(),
            out_trade_no: no.into(),
            attach: None,
            total,
            currency: "CNY".into(),
            openid: Some("o".into()),
            time_expire: None,
            notify_url: "https://merchant.example.com/notify".into(),
            sub_merchant: None,
        }
    }

    fn refund(no: &str, refund: u64, total: u64) -> NewRefund {
        NewRefund {
            out_refund_no: no.into(),
            reason: None,
            refund,
            total,
            currency: "CNY".into(),
        }
    }

    #[test]
    fn order_and_refund_lifecycle() {
        let now = OffsetDateTime::now_utc();
        let mut p = Payments::default();
        let prepay = p.prepay(order("o1", 100)).unwrap();
        assert_eq!(p.prepay(order("o1", 100)).unwrap(), prepay);
        assert_eq!(p.prepay(order("o1", 101)), Err(PayError::OutTradeNoUsed));
        assert_eq!(
            p.refund(None, "o1", refund("r0", 1, 100), now).err(),
            Some(PayError::NotPaid)
        );
        p.pay("o1", now).unwrap();
        assert_eq!(p.close(None, "o1"), Err(PayError::OrderPaid));
        let first = p
            .refund(None, "o1", refund("r1", 60, 100), now)
            .unwrap()
            .refund_id
            .clone();
        let again = p
            .refund(None, "o1", refund("r1", 60, 100), now)
            .unwrap()
            .refund_id
            .clone();
        assert_eq!(first, again, "the same out_refund_no is idempotent");
        assert_eq!(
            p.refund(None, "o1", refund("r2", 41, 100), now).err(),
            Some(PayError::NotEnough {
                refundable: 40,
                asked: 41
            })
        );
        assert_eq!(
            p.refund(None, "o1", refund("r1", 10, 100), now).err(),
            Some(PayError::OutRefundNoUsed)
        );
        p.refund(None, "o1", refund("r3", 40, 100), now).unwrap();
        assert_eq!(p.order(None, "o1").unwrap().state, TradeState::Refund);
        assert_eq!(
            p.query_refund(None, "r3", now).unwrap().status,
            RefundStatus::Success
        );
    }

    #[test]
    fn unpaid_orders_close_or_expire() {
        let now = OffsetDateTime::now_utc();
        let mut p = Payments::default();
        p.prepay(order("o2", 1)).unwrap();
        p.close(None, "o2").unwrap();
        p.close(None, "o2").unwrap();
        assert_eq!(p.pay("o2", now).err(), Some(PayError::OrderClosed));
        p.prepay(order("o3", 1)).unwrap();
        assert_eq!(p.expire("o3").unwrap().state, TradeState::Closed);
        assert_eq!(p.close(None, "missing"), Err(PayError::OrderNotExist));
    }

    #[test]
    fn a_sub_merchants_orders_and_refunds_are_its_own() {
        let now = OffsetDateTime::now_utc();
        let mut p = Payments::default();
        let sub = Some("1900000109");
        let mut partner = order("p1", 100);
        partner.sub_merchant = Some(SubMerchant {
            sub_mchid: "1900000109".into(),
            sub_appid: None,
            sub_openid: None,
        });
        p.prepay(partner).unwrap();
        assert_eq!(p.order(None, "p1").err(), Some(PayError::OrderNotExist));
        assert_eq!(
            p.order(Some("1900000999"), "p1").err(),
            Some(PayError::OrderNotExist)
        );
        assert_eq!(p.close(None, "p1"), Err(PayError::OrderNotExist));
        p.pay("p1", now).unwrap();
        let id = p.order(sub, "p1").unwrap().transaction_id.clone().unwrap();
        assert_eq!(
            p.order_by_transaction_id(None, &id).err(),
            Some(PayError::OrderNotExist)
        );
        assert_eq!(
            p.refund(None, "p1", refund("pr1", 10, 100), now).err(),
            Some(PayError::OrderNotExist)
        );
        p.refund(sub, "p1", refund("pr1", 10, 100), now).unwrap();
        assert_eq!(
            p.refund(None, "p1", refund("pr1", 10, 100), now).err(),
            Some(PayError::OutRefundNoUsed),
            "a refund number of the sub-merchant's is not the provider's to reuse"
        );
        assert_eq!(
            p.query_refund(None, "pr1", now).err(),
            Some(PayError::RefundNotExist)
        );
        assert_eq!(
            p.query_refund(sub, "pr1", now).unwrap().status,
            RefundStatus::Success
        );
    }
}
