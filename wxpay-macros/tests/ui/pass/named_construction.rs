//! Requests are built with every required field named, in any order; optional fields have
//! setters; `#[wxpay(redact)]` keeps an endpoint's plain-text personal data out of `Debug`.
use wxpay::{Endpoint, RequestWriter, endpoint};

#[derive(Debug, Clone, serde::Serialize, wxpay::Constructor)]
#[non_exhaustive]
pub struct StockUseRule {
    pub max_coupons: u64,
    pub max_amount: u64,
    pub natural_person_limit: Option<bool>,
}

#[endpoint(POST "/v3/marketing/favor/users/<openid>/coupons")]
#[derive(Clone)]
pub struct SendCoupon {
    #[wxpay(redact)]
    pub openid: String,
    pub stock_id: String,
    pub out_request_no: String,
    pub rule: StockUseRule,
    pub coupon_value: Option<u64>,
}

#[endpoint(GET "/v3/marketing/favor/stocks")]
pub struct ListStocks {
    pub offset: Option<u64>,
}

fn main() {
    let rule = StockUseRule::new(StockUseRuleRequired {
        max_amount: 100_000,
        max_coupons: 100,
    })
    .natural_person_limit(false);
    // Any order: the names say which value is which.
    let request = SendCoupon::new(SendCouponRequired {
        out_request_no: "89560002019101000121".into(),
        stock_id: "9856000".into(),
        rule,
        openid: "o4GgauInH_RCEdvrrNGrntXDuXXX".into(),
    })
    .coupon_value(100);

    let mut writer = RequestWriter::new(SendCoupon::METHOD, None, 0);
    request.clone().write_request(&mut writer).unwrap();
    let parts = writer.finish();
    assert_eq!(
        parts.path_and_query,
        "/v3/marketing/favor/users/o4GgauInH_RCEdvrrNGrntXDuXXX/coupons"
    );
    let body = String::from_utf8(parts.body).unwrap();
    assert!(body.contains(r#""stock_id":"9856000""#), "{body}");
    assert!(body.contains(r#""out_request_no":"89560002019101000121""#), "{body}");
    assert!(body.contains(r#""max_amount":100000"#), "{body}");
    assert!(body.contains(r#""coupon_value":100"#), "{body}");

    // Redacted in `Debug`, sent as it is.
    let debug = format!("{request:?}");
    assert!(!debug.contains("o4GgauInH"), "{debug}");
    assert!(debug.contains("openid: <redacted>"), "{debug}");
    assert!(debug.contains("9856000"), "{debug}");

    // No required field: `new()` takes nothing.
    let _ = ListStocks::new().offset(0);
}
