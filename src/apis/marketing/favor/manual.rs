//! Favor coupons (代金券, `/v3/marketing/favor/…`): a stock is created, started, paused and
//! restarted; coupons are sent from a running stock to users.
//!
//! ```no_run
//! use wxpay::apis::marketing::favor::PauseStock;
//! # async fn run(client: wxpay::Client) -> Result<(), wxpay::Error> {
//! let paused = client
//!     .send(PauseStock::new("9856888", "1230000109"))
//!     .await?;
//! println!("paused at {}", paused.pause_time);
//! # Ok(()) }
//! ```

use super::{CouponAvailableTime, CouponUseRule, NormalCouponInformation, StockUseRule};

impl StockUseRule {
    /// A rule with the given limits (all coupons, budget in fen, coupons per user); both
    /// guards off and no daily budget.
    pub fn limits(max_coupons: i64, max_amount: i64, max_coupons_per_user: i64) -> Self {
        StockUseRule::new(max_amount, max_coupons, max_coupons_per_user, false, false)
    }
}

impl CouponUseRule {
    /// A fixed-amount rule usable at the given merchants, whenever the stock is available.
    pub fn fixed(coupon: NormalCouponInformation, available_merchants: Vec<String>) -> Self {
        CouponUseRule::new(CouponAvailableTime::new())
            .fixed_normal_coupon(coupon)
            .available_merchants(available_merchants)
    }
}
