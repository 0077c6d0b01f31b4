//! The platform's memory: stocks and the coupons issued from them.
//!
//! All of it lives in one [`Store`] behind a mutex in [`Platform`]; handlers lock it
//! briefly, never across an `.await`.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::KeyMode;
use crate::crypto::random_digits;
use crate::journal::Journal;
use crate::keys::{MerchantKey, PlatformKeys};
use crate::notify::Notifier;
use crate::payments::Payments;
use crate::settings::Secret;

/// Everything the running platform knows: who the merchant is, its own keys, and the
/// store. Shared by all connections.
pub(crate) struct Platform {
    pub(crate) mchid: String,
    pub(crate) merchant: MerchantKey,
    pub(crate) keys: PlatformKeys,
    pub(crate) apiv3_key: Secret,
    /// APIv2: the merchant's APIv2 key and what its v2 calls left behind.
    pub(crate) v2: crate::v2::V2Store,
    /// Where notifications go and what became of them.
    pub(crate) notifier: Notifier,
    /// The last requests and the verdict on each, for the dashboard.
    pub(crate) journal: Journal,
    store: Mutex<Store>,
    payments: Mutex<Payments>,
}

impl Platform {
    pub(crate) fn new(
        mchid: String,
        merchant: MerchantKey,
        keys: PlatformKeys,
        apiv3_key: Secret,
        apiv2_key: Secret,
        store: Store,
    ) -> Self {
        Platform {
            mchid,
            merchant,
            keys,
            apiv3_key,
            v2: crate::v2::V2Store::new(apiv2_key),
            notifier: Notifier::default(),
            journal: Journal::default(),
            store: Mutex::new(store),
            payments: Mutex::default(),
        }
    }

    pub(crate) fn key_mode(&self) -> KeyMode {
        self.keys.mode()
    }

    /// Locks the store. A handler that panicked while holding the lock leaves the data
    /// as it was at the panic, which is still consistent enough for a test double, so
    /// poisoning is ignored.
    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        self.store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Locks the orders and refunds (see `payments`), poisoning ignored as for the store.
    pub(crate) fn payments(&self) -> MutexGuard<'_, Payments> {
        self.payments
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Why the store refused an operation; routes turn these into platform errors.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum StoreError {
    StockNotFound(String),
    WrongState {
        stock_id: String,
        status: &'static str,
        action: &'static str,
    },
    NotRunning {
        stock_id: String,
        status: &'static str,
    },
    BudgetExhausted(String),
    UserLimit(String),
    OutRequestNoReused(String),
}

/// A favor stock's life: `unactivated -start-> running -pause-> paused -restart-> running`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StockStatus {
    Unactivated,
    Running,
    Paused,
}

impl StockStatus {
    /// As the API writes it (`FavorStockStatus`: lower case).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            StockStatus::Unactivated => "unactivated",
            StockStatus::Running => "running",
            StockStatus::Paused => "paused",
        }
    }
}

/// The three state-changing calls on a favor stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StockAction {
    Start,
    Pause,
    Restart,
}

impl StockAction {
    fn transition(self) -> (StockStatus, StockStatus) {
        match self {
            StockAction::Start => (StockStatus::Unactivated, StockStatus::Running),
            StockAction::Pause => (StockStatus::Running, StockStatus::Paused),
            StockAction::Restart => (StockStatus::Paused, StockStatus::Running),
        }
    }

    fn past_participle(self) -> &'static str {
        match self {
            StockAction::Start => "started",
            StockAction::Pause => "paused",
            StockAction::Restart => "restarted",
        }
    }
}

/// `stock_use_rule` of a favor stock.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StockUseRule {
    pub(crate) max_coupons: u64,
    pub(crate) max_amount: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) max_amount_by_day: Option<u64>,
    pub(crate) max_coupons_per_user: u64,
    pub(crate) natural_person_limit: bool,
    pub(crate) prevent_api_abuse: bool,
}

/// What a merchant asks for when creating a favor stock.
#[derive(Debug, Clone)]
pub(crate) struct NewFavorStock {
    pub(crate) stock_creator_mchid: String,
    pub(crate) stock_name: String,
    pub(crate) comment: Option<String>,
    pub(crate) available_begin_time: String,
    pub(crate) available_end_time: String,
    pub(crate) stock_use_rule: StockUseRule,
    pub(crate) pattern_info: Option<Value>,
    pub(crate) coupon_use_rule: Value,
    pub(crate) no_cash: bool,
    pub(crate) stock_type: String,
    pub(crate) out_request_no: Option<String>,
}

/// A favor (代金券) stock.
#[derive(Debug, Clone)]
pub(crate) struct FavorStock {
    pub(crate) stock_id: String,
    pub(crate) spec: NewFavorStock,
    pub(crate) status: StockStatus,
    pub(crate) create_time: OffsetDateTime,
    pub(crate) start_time: Option<OffsetDateTime>,
    pub(crate) distributed_coupons: u64,
}

#[derive(Debug, Clone)]
struct IssuedCoupon {
    coupon_id: String,
    stock_id: String,
    openid: String,
}

/// A multiuse (消费金) stock; made active by the builder.
#[derive(Debug, Clone, Default)]
struct MultiuseStock {
    issued: u64,
}

/// The in-memory data of the platform.
#[derive(Debug, Default)]
pub(crate) struct Store {
    favor_stocks: HashMap<String, FavorStock>,
    /// `out_request_no` of stock creation → stock id.
    favor_stock_requests: HashMap<String, String>,
    /// `(stock_id, out_request_no)` → the coupon issued for it.
    favor_coupons: HashMap<(String, String), IssuedCoupon>,
    /// `(stock_id, openid)` → coupons that user holds from that stock.
    favor_coupons_per_user: HashMap<(String, String), u64>,
    multiuse_stocks: HashMap<String, MultiuseStock>,
    /// `out_request_no` → the multiuse coupon issued for it.
    multiuse_coupons: HashMap<String, IssuedCoupon>,
    coupon_ids: HashSet<String>,
    /// Favor coupons used (through the sandbox's control API).
    used_favor_coupons: HashSet<String>,
}

/// A fresh numeric id of `len` digits with no leading zero that `taken` rejects not.
fn fresh_id(len: usize, taken: impl Fn(&str) -> bool) -> String {
    loop {
        let id = random_digits(len);
        if !id.starts_with('0') && !taken(&id) {
            return id;
        }
    }
}

impl Store {
    fn fresh_stock_id(&self) -> String {
        fresh_id(8, |id| {
            self.favor_stocks.contains_key(id) || self.multiuse_stocks.contains_key(id)
        })
    }

    fn fresh_coupon_id(&mut self) -> String {
        let id = fresh_id(11, |id| self.coupon_ids.contains(id));
        self.coupon_ids.insert(id.clone());
        id
    }

    /// Creates an `unactivated` favor stock; the same `out_request_no` gives back the
    /// stock it created the first time.
    pub(crate) fn create_favor_stock(
        &mut self,
        spec: NewFavorStock,
        now: OffsetDateTime,
    ) -> (String, OffsetDateTime) {
        if let Some(existing) = spec
            .out_request_no
            .as_ref()
            .and_then(|no| self.favor_stock_requests.get(no))
            .and_then(|id| self.favor_stocks.get(id))
        {
            return (existing.stock_id.clone(), existing.create_time);
        }
        let stock_id = self.fresh_stock_id();
        self.insert_favor_stock(stock_id.clone(), spec, StockStatus::Unactivated, now);
        (stock_id, now)
    }

    /// Adds a favor stock that is already `running` under a chosen id (the builder's
    /// ready-to-use stocks).
    pub(crate) fn add_running_favor_stock(
        &mut self,
        stock_id: Option<String>,
        spec: NewFavorStock,
        now: OffsetDateTime,
    ) -> String {
        let stock_id = stock_id.unwrap_or_else(|| self.fresh_stock_id());
        self.insert_favor_stock(stock_id.clone(), spec, StockStatus::Running, now);
        stock_id
    }

    fn insert_favor_stock(
        &mut self,
        stock_id: String,
        spec: NewFavorStock,
        status: StockStatus,
        now: OffsetDateTime,
    ) {
        if let Some(no) = &spec.out_request_no {
            self.favor_stock_requests
                .insert(no.clone(), stock_id.clone());
        }
        let start_time = (status == StockStatus::Running).then_some(now);
        self.favor_stocks.insert(
            stock_id.clone(),
            FavorStock {
                stock_id,
                spec,
                status,
                create_time: now,
                start_time,
                distributed_coupons: 0,
            },
        );
    }

    pub(crate) fn favor_stock(&self, stock_id: &str) -> Result<&FavorStock, StoreError> {
        self.favor_stocks
            .get(stock_id)
            .ok_or_else(|| StoreError::StockNotFound(stock_id.to_owned()))
    }

    /// Moves a favor stock along its state machine; returns the time of the change.
    pub(crate) fn change_favor_stock(
        &mut self,
        stock_id: &str,
        action: StockAction,
        now: OffsetDateTime,
    ) -> Result<OffsetDateTime, StoreError> {
        let stock = self
            .favor_stocks
            .get_mut(stock_id)
            .ok_or_else(|| StoreError::StockNotFound(stock_id.to_owned()))?;
        let (from, to) = action.transition();
        if stock.status != from {
            return Err(StoreError::WrongState {
                stock_id: stock_id.to_owned(),
                status: stock.status.as_str(),
                action: action.past_participle(),
            });
        }
        stock.status = to;
        if action == StockAction::Start {
            stock.start_time = Some(now);
        }
        Ok(now)
    }

    /// Issues a coupon of a running favor stock to `openid`, once per
    /// `(stock_id, out_request_no)`: a repeat returns the first coupon id.
    pub(crate) fn send_favor_coupon(
        &mut self,
        stock_id: &str,
        openid: &str,
        out_request_no: &str,
    ) -> Result<String, StoreError> {
        let key = (stock_id.to_owned(), out_request_no.to_owned());
        if let Some(issued) = self.favor_coupons.get(&key) {
            if issued.openid != openid {
                return Err(StoreError::OutRequestNoReused(out_request_no.to_owned()));
            }
            return Ok(issued.coupon_id.clone());
        }
        let per_user_key = (stock_id.to_owned(), openid.to_owned());
        let held = self
            .favor_coupons_per_user
            .get(&per_user_key)
            .copied()
            .unwrap_or(0);
        let stock = self.favor_stock(stock_id)?;
        if stock.status != StockStatus::Running {
            return Err(StoreError::NotRunning {
                stock_id: stock_id.to_owned(),
                status: stock.status.as_str(),
            });
        }
        if stock.distributed_coupons >= stock.spec.stock_use_rule.max_coupons {
            return Err(StoreError::BudgetExhausted(stock_id.to_owned()));
        }
        if held >= stock.spec.stock_use_rule.max_coupons_per_user {
            return Err(StoreError::UserLimit(stock_id.to_owned()));
        }
        let coupon_id = self.fresh_coupon_id();
        if let Some(stock) = self.favor_stocks.get_mut(stock_id) {
            stock.distributed_coupons += 1;
        }
        self.favor_coupons_per_user.insert(per_user_key, held + 1);
        self.favor_coupons.insert(
            key,
            IssuedCoupon {
                coupon_id: coupon_id.clone(),
                stock_id: stock_id.to_owned(),
                openid: openid.to_owned(),
            },
        );
        Ok(coupon_id)
    }

    /// The favor coupon `coupon_id`: its stock and the user holding it.
    pub(crate) fn favor_coupon(&self, coupon_id: &str) -> Option<(&FavorStock, &str)> {
        let coupon = self
            .favor_coupons
            .values()
            .find(|coupon| coupon.coupon_id == coupon_id)?;
        let stock = self.favor_stocks.get(&coupon.stock_id)?;
        Some((stock, &coupon.openid))
    }

    /// Marks a favor coupon used; `false` if it already was.
    pub(crate) fn mark_favor_coupon_used(&mut self, coupon_id: &str) -> bool {
        self.used_favor_coupons.insert(coupon_id.to_owned())
    }

    /// Whether a multiuse coupon was already issued for `out_request_no`.
    pub(crate) fn multiuse_request_seen(&self, out_request_no: &str) -> bool {
        self.multiuse_coupons.contains_key(out_request_no)
    }

    /// Adds an active multiuse stock (`None`: a fresh id). Returns its id.
    pub(crate) fn add_multiuse_stock(&mut self, stock_id: Option<String>) -> String {
        let stock_id = stock_id.unwrap_or_else(|| self.fresh_stock_id());
        self.multiuse_stocks
            .insert(stock_id.clone(), MultiuseStock::default());
        stock_id
    }

    /// Issues a multiuse coupon, once per `out_request_no`.
    pub(crate) fn send_multiuse_coupon(
        &mut self,
        stock_id: &str,
        openid: &str,
        out_request_no: &str,
    ) -> Result<String, StoreError> {
        if let Some(issued) = self.multiuse_coupons.get(out_request_no) {
            if issued.stock_id != stock_id || issued.openid != openid {
                return Err(StoreError::OutRequestNoReused(out_request_no.to_owned()));
            }
            return Ok(issued.coupon_id.clone());
        }
        if !self.multiuse_stocks.contains_key(stock_id) {
            return Err(StoreError::StockNotFound(stock_id.to_owned()));
        }
        let coupon_id = self.fresh_coupon_id();
        if let Some(stock) = self.multiuse_stocks.get_mut(stock_id) {
            stock.issued += 1;
        }
        self.multiuse_coupons.insert(
            out_request_no.to_owned(),
            IssuedCoupon {
                coupon_id: coupon_id.clone(),
                stock_id: stock_id.to_owned(),
                openid: openid.to_owned(),
            },
        );
        Ok(coupon_id)
    }

    /// Every `out_request_no` that issued coupons (favor, of any stock, and multiuse) →
    /// the coupon ids issued for it: more than one is a duplicate.
    pub(crate) fn coupons_per_out_request_no(&self) -> HashMap<String, Vec<String>> {
        let mut issued: HashMap<String, Vec<String>> = HashMap::new();
        let favor = self.favor_coupons.iter().map(|((_, no), c)| (no, c));
        for (no, coupon) in favor.chain(self.multiuse_coupons.iter()) {
            issued
                .entry(no.clone())
                .or_default()
                .push(coupon.coupon_id.clone());
        }
        issued
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(max_coupons: u64, per_user: u64) -> NewFavorStock {
        NewFavorStock {
            stock_creator_mchid: "1230000109".into(),
            stock_name: "test".into(),
            comment: None,
            available_begin_time: "2024-01-01T00:00:00+08:00".into(),
            available_end_time: "2024-02-01T00:00:00+08:00".into(),
            stock_use_rule: StockUseRule {
                max_coupons,
                max_amount: max_coupons * 100,
                max_amount_by_day: None,
                max_coupons_per_user: per_user,
                natural_person_limit: false,
                prevent_api_abuse: false,
            },
            pattern_info: None,
            coupon_use_rule: json!({}),
            no_cash: false,
            stock_type: "NORMAL".into(),
            out_request_no: Some("req-1".into()),
        }
    }

    #[test]
    fn state_machine() {
        let mut store = Store::default();
        let now = OffsetDateTime::now_utc();
        let (id, _) = store.create_favor_stock(spec(10, 10), now);
        assert_eq!(store.create_favor_stock(spec(10, 10), now).0, id);
        assert!(matches!(
            store.change_favor_stock(&id, StockAction::Pause, now),
            Err(StoreError::WrongState {
                status: "unactivated",
                ..
            })
        ));
        assert!(matches!(
            store.send_favor_coupon(&id, "o", "r"),
            Err(StoreError::NotRunning { .. })
        ));
        store
            .change_favor_stock(&id, StockAction::Start, now)
            .expect("start");
        store
            .change_favor_stock(&id, StockAction::Pause, now)
            .expect("pause");
        assert!(
            store
                .change_favor_stock(&id, StockAction::Start, now)
                .is_err()
        );
        store
            .change_favor_stock(&id, StockAction::Restart, now)
            .expect("restart");
        assert_eq!(
            store.favor_stock(&id).expect("stock").status,
            StockStatus::Running
        );
        assert_eq!(
            store.change_favor_stock("nope", StockAction::Start, now),
            Err(StoreError::StockNotFound("nope".into()))
        );
    }

    #[test]
    fn coupons_are_issued_once_and_within_limits() {
        let mut store = Store::default();
        let now = OffsetDateTime::now_utc();
        let id = store.add_running_favor_stock(None, spec(3, 2), now);
        let first = store.send_favor_coupon(&id, "alice", "r1").expect("first");
        assert_eq!(
            store.send_favor_coupon(&id, "alice", "r1").expect("again"),
            first
        );
        assert_eq!(
            store.send_favor_coupon(&id, "bob", "r1"),
            Err(StoreError::OutRequestNoReused("r1".into()))
        );
        store.send_favor_coupon(&id, "alice", "r2").expect("second");
        assert_eq!(
            store.send_favor_coupon(&id, "alice", "r3"),
            Err(StoreError::UserLimit(id.clone()))
        );
        store.send_favor_coupon(&id, "bob", "r4").expect("bob");
        assert_eq!(
            store.send_favor_coupon(&id, "carol", "r5"),
            Err(StoreError::BudgetExhausted(id.clone()))
        );
        assert_eq!(
            store.favor_stock(&id).expect("stock").distributed_coupons,
            3
        );
    }
}
