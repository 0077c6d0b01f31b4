//! Favor coupons (代金券, `/v3/marketing/favor/…`): a stock is created, started, paused and
//! restarted; coupons are sent from a running stock to users.
//!
//! ```no_run
//! use wxpay::apis::marketing::favor::{PauseStock, PauseStockRequired};
//! # async fn run(client: wxpay::Client) -> Result<(), wxpay::Error> {
//! let paused = client
//!     .send(PauseStock::new(PauseStockRequired {
//!         stock_id: "9856888".into(),
//!         stock_creator_mchid: "1230000109".into(),
//!     }))
//!     .await?;
//! println!("paused at {}", paused.pause_time);
//! # Ok(()) }
//! ```

use super::{CouponAvailableTime, CouponUseRule, CouponUseRuleRequired, NormalCouponInformation};

impl CouponUseRule {
    /// A fixed-amount rule usable at the given merchants, whenever the stock is available.
    pub fn fixed(coupon: NormalCouponInformation, available_merchants: Vec<String>) -> Self {
        CouponUseRule::new(CouponUseRuleRequired {
            coupon_available_time: CouponAvailableTime::new(),
        })
        .fixed_normal_coupon(coupon)
        .available_merchants(available_merchants)
    }
}
