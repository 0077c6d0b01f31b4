//! Service-provider payments (服务商基础支付, `/v3/pay/partner/transactions/…`): a provider
//! places, queries and closes orders for its sub-merchants, naming itself (`sp_mchid`,
//! `sp_appid`) and the sub-merchant (`sub_mchid`, and `sub_appid` when the user pays in the
//! sub-merchant's app). The front end's parameters are signed with the provider's key.
//!
//! ```no_run
//! use wxpay::apis::pay::transactions::partner::{
//!     Amount, CreateJsapiOrder, CreateJsapiOrderPayer, CreateJsapiOrderRequired,
//! };
//! # async fn run(client: wxpay::Client) -> Result<(), wxpay::Error> {
//! let sp_appid = "wx8888888888888888";
//! let prepay = client
//!     .send(CreateJsapiOrder::new(CreateJsapiOrderRequired {
//!         amount: Amount::cny(100),
//!         description: "Image形象店-深圳腾大-QQ公仔".into(),
//!         notify_url: "https://www.weixin.qq.com/wxpay/pay.php".into(),
//!         out_trade_no: "1217752501201407033233368018".into(),
//!         payer: CreateJsapiOrderPayer::sp_openid("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"),
//!         sp_appid: sp_appid.into(),
//!         sp_mchid: client.mchid().into(),
//!         sub_mchid: "1900000109".into(),
//!     }))
//!     .await?;
//! let params = prepay.pay_params(sp_appid, client.merchant_key()?)?;
//! println!("{}", serde_json::to_string(&params).unwrap_or_default());
//! # Ok(()) }
//! ```

use super::{CreateJsapiOrderPayer, CreateJsapiOrderPayerRequired};

// `Amount` and `CreateJsapiOrderResponse` are the direct module's (`Amount::cny`,
// `pay_params`): one shape, one type.

impl CreateJsapiOrderPayer {
    /// The payer of a JSAPI order: the user with this OpenID under the provider's `sp_appid`
    /// (add `.sub_openid(…)` for the OpenID under the sub-merchant's `sub_appid`).
    pub fn sp_openid(openid: impl Into<String>) -> Self {
        CreateJsapiOrderPayer::new(CreateJsapiOrderPayerRequired {
            sp_openid: openid.into(),
        })
    }
}
