//! Direct-merchant payments (直连商户基础支付, `/v3/pay/transactions/…`): place an order
//! (JSAPI / mini program, APP, H5, Native), query it, close it, and turn a `prepay_id` into
//! the parameters the WeChat front end needs to show the payment sheet.
//!
//! ```no_run
//! use wxpay::apis::pay::transactions::{
//!     Amount, CreateJsapiOrder, CreateJsapiOrderPayer, CreateJsapiOrderRequired,
//! };
//! # async fn run(client: wxpay::Client) -> Result<(), wxpay::Error> {
//! let appid = "wxd678efh567hg6787";
//! let prepay = client
//!     .send(
//!         CreateJsapiOrder::new(CreateJsapiOrderRequired {
//!             amount: Amount::cny(100),
//!             appid: appid.into(),
//!             description: "Image形象店-深圳腾大-QQ公仔".into(),
//!             mchid: client.mchid().into(),
//!             notify_url: "https://www.weixin.qq.com/wxpay/pay.php".into(),
//!             out_trade_no: "1217752501201407033233368018".into(),
//!             payer: CreateJsapiOrderPayer::openid("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"),
//!         })
//!         .attach("深圳分店"),
//!     )
//!     .await?;
//! // Hand these to `wx.requestPayment` / `WeixinJSBridge.invoke('getBrandWCPayRequest', …)`.
//! let params = prepay.pay_params(appid, client.merchant_key()?)?;
//! println!("{}", serde_json::to_string(&params).unwrap_or_default());
//! # Ok(()) }
//! ```

use serde::{Deserialize, Serialize};

use super::{
    Amount, AmountRequired, CreateAppOrderResponse, CreateH5OrderSceneInfo, CreateJsapiOrderPayer,
    CreateJsapiOrderPayerRequired, CreateJsapiOrderResponse, H5Info, SceneInfo,
};
use crate::{CryptoError, MerchantKey};

impl Amount {
    /// `total` fen of Chinese yuan.
    pub fn cny(total: i64) -> Self {
        Amount::new(AmountRequired { total }).currency("CNY")
    }
}

impl CreateJsapiOrderPayer {
    /// The payer of a JSAPI order: the user with this OpenID under the order's `appid`.
    pub fn openid(openid: impl Into<String>) -> Self {
        CreateJsapiOrderPayer::new(CreateJsapiOrderPayerRequired {
            openid: openid.into(),
        })
    }
}

impl SceneInfo {
    /// A scene with only the user's IP address.
    pub fn payer_ip(ip: impl Into<String>) -> Self {
        SceneInfo::new().payer_client_ip(ip)
    }
}

impl CreateH5OrderSceneInfo {
    /// The scene of an H5 order: the user's IP address and the kind of page (`iOS`,
    /// `Android` or `Wap`) it is paid from.
    pub fn h5(ip: impl Into<String>, kind: impl Into<String>) -> Self {
        CreateH5OrderSceneInfo::new()
            .payer_client_ip(ip)
            .h5_info(H5Info::new().type_(kind))
    }
}

impl CreateJsapiOrderResponse {
    /// The parameters of `wx.requestPayment` / `getBrandWCPayRequest` for this order, signed
    /// now with a fresh nonce. `appid` is the app the user pays in: the order's `appid`; for a
    /// [partner](super::partner) order, its `sp_appid`, or its `sub_appid` when the payer was
    /// named by `sub_openid` (signed with the provider's key).
    pub fn pay_params(
        &self,
        appid: &str,
        key: &MerchantKey,
    ) -> Result<JsapiPayParams, CryptoError> {
        JsapiPayParams::sign(appid, &self.prepay_id, key)
    }
}

impl CreateAppOrderResponse {
    /// The parameters of the app SDK's `PayReq` for this order, signed now with a fresh
    /// nonce. `appid` must be the order's `appid`, `mchid` the merchant's number.
    pub fn pay_params(
        &self,
        appid: &str,
        mchid: &str,
        key: &MerchantKey,
    ) -> Result<AppPayParams, CryptoError> {
        AppPayParams::sign(appid, mchid, &self.prepay_id, key)
    }
}

/// What the WeChat JSAPI (`getBrandWCPayRequest`) and mini programs (`wx.requestPayment`)
/// need to show the payment sheet, serialised with the keys those calls expect:
/// `appId`, `timeStamp`, `nonceStr`, `package`, `signType`, `paySign`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct JsapiPayParams {
    /// The order's app id.
    #[serde(rename = "appId")]
    pub app_id: String,
    /// Unix seconds, as a string.
    #[serde(rename = "timeStamp")]
    pub time_stamp: String,
    /// A random string.
    #[serde(rename = "nonceStr")]
    pub nonce_str: String,
    /// `prepay_id=…`.
    pub package: String,
    /// Always `RSA`.
    #[serde(rename = "signType")]
    pub sign_type: String,
    /// SHA256withRSA with the merchant key over `appId\ntimeStamp\nnonceStr\npackage\n`.
    #[serde(rename = "paySign")]
    pub pay_sign: String,
}

impl JsapiPayParams {
    /// Signs the parameters for `prepay_id` now, with a fresh nonce.
    pub fn sign(appid: &str, prepay_id: &str, key: &MerchantKey) -> Result<Self, CryptoError> {
        Self::sign_with(
            appid,
            prepay_id,
            key,
            crate::__private::unix_now(),
            &crate::protocol::nonce()?,
        )
    }

    /// Signs the parameters with a given time (unix seconds) and nonce: pure, for tests.
    pub fn sign_with(
        appid: &str,
        prepay_id: &str,
        key: &MerchantKey,
        timestamp: i64,
        nonce: &str,
    ) -> Result<Self, CryptoError> {
        let time_stamp = timestamp.to_string();
        let package = format!("prepay_id={prepay_id}");
        let pay_sign = key.sign(&lines(&[appid, &time_stamp, nonce, &package]))?;
        Ok(JsapiPayParams {
            app_id: appid.to_owned(),
            time_stamp,
            nonce_str: nonce.to_owned(),
            package,
            sign_type: "RSA".into(),
            pay_sign,
        })
    }
}

/// What the WeChat app SDK (`PayReq`) needs to pay, serialised with the keys it expects:
/// `appid`, `partnerid`, `prepayid`, `package`, `noncestr`, `timestamp`, `sign`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AppPayParams {
    /// The order's app id.
    pub appid: String,
    /// The merchant number.
    pub partnerid: String,
    /// The prepay id.
    pub prepayid: String,
    /// Always `Sign=WXPay`.
    pub package: String,
    /// A random string.
    pub noncestr: String,
    /// Unix seconds, as a string.
    pub timestamp: String,
    /// SHA256withRSA with the merchant key over `appid\ntimestamp\nnoncestr\nprepayid\n`.
    pub sign: String,
}

impl AppPayParams {
    /// Signs the parameters for `prepay_id` now, with a fresh nonce.
    pub fn sign(
        appid: &str,
        mchid: &str,
        prepay_id: &str,
        key: &MerchantKey,
    ) -> Result<Self, CryptoError> {
        Self::sign_with(
            appid,
            mchid,
            prepay_id,
            key,
            crate::__private::unix_now(),
            &crate::protocol::nonce()?,
        )
    }

    /// Signs the parameters with a given time (unix seconds) and nonce: pure, for tests.
    pub fn sign_with(
        appid: &str,
        mchid: &str,
        prepay_id: &str,
        key: &MerchantKey,
        timestamp: i64,
        nonce: &str,
    ) -> Result<Self, CryptoError> {
        let timestamp = timestamp.to_string();
        let sign = key.sign(&lines(&[appid, &timestamp, nonce, prepay_id]))?;
        Ok(AppPayParams {
            appid: appid.to_owned(),
            partnerid: mchid.to_owned(),
            prepayid: prepay_id.to_owned(),
            package: "Sign=WXPay".into(),
            noncestr: nonce.to_owned(),
            timestamp,
            sign,
        })
    }
}

/// Each part followed by `\n`: the layout every front-end signature covers.
fn lines(parts: &[&str]) -> Vec<u8> {
    let mut message = Vec::with_capacity(parts.iter().map(|p| p.len() + 1).sum());
    for part in parts {
        message.extend_from_slice(part.as_bytes());
        message.push(b'\n');
    }
    message
}
