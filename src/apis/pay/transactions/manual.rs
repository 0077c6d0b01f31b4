//! Direct-merchant payments (直连商户基础支付, `/v3/pay/transactions/…`): place an order
//! (JSAPI / mini program, APP, H5, Native), query it, close it, and turn a `prepay_id` into
//! the parameters the WeChat front end needs to show the payment sheet.
//!
//! ```no_run
//! use wxpay::apis::pay::transactions::{Amount, CreateJsapiOrder, Payer};
//! # async fn run(client: wxpay::Client) -> Result<(), wxpay::Error> {
//! let appid = "wxd678efh567hg6787";
//! let prepay = client
//!     .send(
//!         CreateJsapiOrder::new(
//!             appid,
//!             client.mchid(),
//!             "Image形象店-深圳腾大-QQ公仔",
//!             "1217752501201407033233368018",
//!             "https://www.weixin.qq.com/wxpay/pay.php",
//!             Amount::cny(100),
//!             Payer::openid("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"),
//!         )
//!         .attach("深圳分店"),
//!     )
//!     .await?;
//! // Hand these to `wx.requestPayment` / `WeixinJSBridge.invoke('getBrandWCPayRequest', …)`.
//! let params = prepay.pay_params(appid, client.merchant_key())?;
//! println!("{}", serde_json::to_string(&params).unwrap_or_default());
//! # Ok(()) }
//! ```

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::endpoint;
use crate::{CryptoError, MerchantKey};

platform_enum! {
    /// How an order was paid (交易类型).
    pub enum TradeType {
        /// Official account or mini program (公众号/小程序支付).
        Jsapi = "JSAPI",
        /// Scan a QR code (扫码支付).
        Native = "NATIVE",
        /// In an app (APP支付).
        App = "APP",
        /// Payment code shown by the user (付款码支付).
        Micropay = "MICROPAY",
        /// Mobile web (H5支付).
        Mweb = "MWEB",
        /// Face recognition (刷脸支付).
        Facepay = "FACEPAY",
    }
}

platform_enum! {
    /// Where an order stands (交易状态).
    pub enum TradeState {
        /// Paid (支付成功).
        Success = "SUCCESS",
        /// Refunded in whole or part (转入退款).
        Refund = "REFUND",
        /// Not paid yet (未支付).
        NotPay = "NOTPAY",
        /// Closed (已关闭).
        Closed = "CLOSED",
        /// Revoked (已撤销, payment-code orders).
        Revoked = "REVOKED",
        /// The user is paying (用户支付中, payment-code orders).
        UserPaying = "USERPAYING",
        /// Payment failed (支付失败).
        PayError = "PAYERROR",
    }
}

/// An order amount: an integer number of fen and its currency (订单金额).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Amount {
    /// Total, in fen (分).
    pub total: u64,
    /// ISO 4217 currency; the platform assumes `CNY` when it is absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

impl Amount {
    /// `total` fen of Chinese yuan.
    pub fn cny(total: u64) -> Self {
        Amount {
            total,
            currency: Some("CNY".into()),
        }
    }
}

/// The user who pays (支付者).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Payer {
    /// The user's OpenID under the order's `appid`.
    pub openid: String,
}

impl Payer {
    /// The payer with this OpenID.
    pub fn openid(openid: impl Into<String>) -> Self {
        Payer {
            openid: openid.into(),
        }
    }
}

/// One item of an order (单品).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, crate::Constructor)]
#[non_exhaustive]
pub struct GoodsDetail {
    /// The merchant's item code.
    pub merchant_goods_id: String,
    /// WeChat Pay's item code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wechatpay_goods_id: Option<String>,
    /// Item name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goods_name: Option<String>,
    /// Quantity.
    pub quantity: u64,
    /// Unit price, in fen.
    pub unit_price: u64,
}

/// Item details for single-item offers (优惠功能).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, crate::Constructor)]
#[non_exhaustive]
pub struct Detail {
    /// The original price, in fen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_price: Option<u64>,
    /// The merchant's receipt id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_id: Option<String>,
    /// Items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goods_detail: Option<Vec<GoodsDetail>>,
}

/// A merchant's shop (商户门店信息).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, crate::Constructor)]
#[non_exhaustive]
pub struct StoreInfo {
    /// Shop number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Shop name.
    pub name: String,
    /// Region code.
    pub area_code: String,
    /// Address.
    pub address: String,
}

/// Where an H5 payment starts (H5场景信息).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, crate::Constructor)]
#[non_exhaustive]
pub struct H5Info {
    /// Scene: `iOS`, `Android` or `Wap`.
    #[serde(rename = "type")]
    pub kind: String,
    /// App name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_name: Option<String>,
    /// Site URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_url: Option<String>,
    /// iOS bundle id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle_id: Option<String>,
    /// Android package name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_name: Option<String>,
}

/// Where the payment happens (场景信息).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, crate::Constructor)]
#[non_exhaustive]
pub struct SceneInfo {
    /// The user's IP address (IPv4 or IPv6).
    pub payer_client_ip: String,
    /// The merchant's device number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// The shop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_info: Option<StoreInfo>,
    /// The H5 scene (required by H5 orders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub h5_info: Option<H5Info>,
}

impl SceneInfo {
    /// A scene with only the user's IP address.
    pub fn payer_ip(ip: impl Into<String>) -> Self {
        SceneInfo {
            payer_client_ip: ip.into(),
            device_id: None,
            store_info: None,
            h5_info: None,
        }
    }
}

/// Settlement options (结算信息).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, crate::Constructor)]
#[non_exhaustive]
pub struct SettleInfo {
    /// Whether the order's funds will be shared (分账).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profit_sharing: Option<bool>,
}

macro_rules! order {
    (
        $(#[$meta:meta])*
        $name:ident -> $response:ident,
        $(#[$payer_meta:meta])* payer: $payer:ty,
        $(#[$scene_meta:meta])* scene_info: $scene:ty $(,)?
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone)]
        pub struct $name {
            /// The app, official account or mini program id (应用ID).
            pub appid: String,
            /// The merchant number (直连商户号).
            pub mchid: String,
            /// What is bought (商品描述), at most 127 characters.
            pub description: String,
            /// The merchant's order number (商户订单号): 6–32 of `[0-9A-Za-z_-|*]`, unique.
            pub out_trade_no: String,
            /// When the order stops accepting payment (交易结束时间).
            #[serde(with = "time::serde::rfc3339::option")]
            pub time_expire: Option<OffsetDateTime>,
            /// Merchant data returned as is in queries and notifications (附加数据).
            pub attach: Option<String>,
            /// Where the payment notification goes: an `https` URL without a query.
            pub notify_url: String,
            /// Offer tag (订单优惠标记).
            pub goods_tag: Option<String>,
            /// Offer an e-invoice entry (电子发票入口开放标识).
            pub support_fapiao: Option<bool>,
            /// The amount.
            pub amount: Amount,
            $(#[$payer_meta])*
            pub payer: $payer,
            /// Item details.
            pub detail: Option<Detail>,
            $(#[$scene_meta])*
            pub scene_info: $scene,
            /// Settlement options.
            pub settle_info: Option<SettleInfo>,
        }
    };
}

order! {
    /// JSAPI下单API — places an order paid in an official account or mini program; the
    /// answer's `prepay_id` becomes the front end's parameters with
    /// [`CreateJsapiOrderResponse::pay_params`].
    /// [Official documentation](https://pay.weixin.qq.com/wiki/doc/apiv3/wxpay/pay/transactions/chapter3_2.shtml)
    #[endpoint(POST "/v3/pay/transactions/jsapi" -> CreateJsapiOrderResponse, idempotent)]
    CreateJsapiOrder -> CreateJsapiOrderResponse,
    /// The user who pays (required for JSAPI).
    payer: Payer,
    /// Where the payment happens.
    scene_info: Option<SceneInfo>,
}

order! {
    /// APP下单API — places an order paid in the merchant's app; the answer's `prepay_id`
    /// becomes the SDK's parameters with [`CreateAppOrderResponse::pay_params`].
    /// [Official documentation](https://pay.weixin.qq.com/wiki/doc/apiv3/wxpay/pay/transactions/chapter3_1.shtml)
    #[endpoint(POST "/v3/pay/transactions/app" -> CreateAppOrderResponse, idempotent)]
    CreateAppOrder -> CreateAppOrderResponse,
    /// The user who pays, when known.
    payer: Option<Payer>,
    /// Where the payment happens.
    scene_info: Option<SceneInfo>,
}

order! {
    /// H5下单API — places an order paid from a mobile browser outside WeChat; the answer is
    /// the URL that opens WeChat to pay.
    /// [Official documentation](https://pay.weixin.qq.com/wiki/doc/apiv3/wxpay/pay/transactions/chapter3_4.shtml)
    #[endpoint(POST "/v3/pay/transactions/h5" -> CreateH5OrderResponse, idempotent)]
    CreateH5Order -> CreateH5OrderResponse,
    /// The user who pays, when known.
    payer: Option<Payer>,
    /// Where the payment happens; H5 orders need the user's IP and `h5_info`.
    scene_info: SceneInfo,
}

order! {
    /// Native下单API — places an order paid by scanning a QR code; the answer is the
    /// `weixin://` link to show as a QR code.
    /// [Official documentation](https://pay.weixin.qq.com/wiki/doc/apiv3/wxpay/pay/transactions/chapter3_3.shtml)
    #[endpoint(POST "/v3/pay/transactions/native" -> CreateNativeOrderResponse, idempotent)]
    CreateNativeOrder -> CreateNativeOrderResponse,
    /// The user who pays, when known.
    payer: Option<Payer>,
    /// Where the payment happens.
    scene_info: Option<SceneInfo>,
}

/// The answer to [`CreateJsapiOrder`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct CreateJsapiOrderResponse {
    /// The prepay session (预支付交易会话标识), valid for two hours.
    pub prepay_id: String,
}

impl CreateJsapiOrderResponse {
    /// The parameters of `wx.requestPayment` / `getBrandWCPayRequest` for this order, signed
    /// now with a fresh nonce. `appid` must be the order's `appid`.
    pub fn pay_params(
        &self,
        appid: &str,
        key: &MerchantKey,
    ) -> Result<JsapiPayParams, CryptoError> {
        JsapiPayParams::sign(appid, &self.prepay_id, key)
    }
}

/// The answer to [`CreateAppOrder`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct CreateAppOrderResponse {
    /// The prepay session (预支付交易会话标识), valid for two hours.
    pub prepay_id: String,
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

/// The answer to [`CreateH5Order`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct CreateH5OrderResponse {
    /// The page that opens WeChat to pay (支付跳转链接), valid for five minutes.
    pub h5_url: String,
}

/// The answer to [`CreateNativeOrder`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct CreateNativeOrderResponse {
    /// The `weixin://wxpay/bizpayurl?pr=…` link to show as a QR code (二维码链接).
    pub code_url: String,
}

/// 微信支付订单号查询 — an order by WeChat Pay's transaction id.
/// [Official documentation](https://pay.weixin.qq.com/wiki/doc/apiv3/wxpay/pay/transactions/chapter3_5.shtml)
#[endpoint(GET "/v3/pay/transactions/id/<transaction_id>" -> Transaction)]
#[derive(Debug, Clone)]
pub struct QueryOrderById {
    /// WeChat Pay's order number (微信支付订单号).
    pub transaction_id: String,
    /// The merchant number (sent in the query).
    pub mchid: String,
}

/// 商户订单号查询 — an order by the merchant's order number.
/// [Official documentation](https://pay.weixin.qq.com/wiki/doc/apiv3/wxpay/pay/transactions/chapter3_5.shtml)
#[endpoint(GET "/v3/pay/transactions/out-trade-no/<out_trade_no>" -> Transaction)]
#[derive(Debug, Clone)]
pub struct QueryOrderByOutTradeNo {
    /// The merchant's order number (商户订单号).
    pub out_trade_no: String,
    /// The merchant number (sent in the query).
    pub mchid: String,
}

/// 关单API — closes an unpaid order so it can no longer be paid; answers 204.
/// [Official documentation](https://pay.weixin.qq.com/wiki/doc/apiv3/wxpay/pay/transactions/chapter3_6.shtml)
#[endpoint(POST "/v3/pay/transactions/out-trade-no/<out_trade_no>/close", idempotent)]
#[derive(Debug, Clone)]
pub struct CloseOrder {
    /// The merchant's order number (商户订单号).
    pub out_trade_no: String,
    /// The merchant number.
    pub mchid: String,
}

/// What the payer paid (订单金额, as queried).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct TransactionAmount {
    /// Order total, in fen.
    pub total: u64,
    /// Order currency.
    #[serde(default)]
    pub currency: Option<String>,
    /// What the user paid, in fen (after offers); present once paid.
    #[serde(default)]
    pub payer_total: Option<u64>,
    /// The user's currency.
    #[serde(default)]
    pub payer_currency: Option<String>,
}

/// An order as the platform describes it (`Transaction`, from both queries).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Transaction {
    /// App id.
    pub appid: String,
    /// Merchant number.
    pub mchid: String,
    /// The merchant's order number.
    pub out_trade_no: String,
    /// WeChat Pay's order number; present once paid.
    #[serde(default)]
    pub transaction_id: Option<String>,
    /// How it was paid; present once paid.
    #[serde(default)]
    pub trade_type: Option<TradeType>,
    /// Where it stands.
    pub trade_state: TradeState,
    /// The state in words.
    #[serde(default)]
    pub trade_state_desc: Option<String>,
    /// The paying bank (付款银行), e.g. `OTHERS`.
    #[serde(default)]
    pub bank_type: Option<String>,
    /// Merchant data given when ordering.
    #[serde(default)]
    pub attach: Option<String>,
    /// When it was paid.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub success_time: Option<OffsetDateTime>,
    /// The payer.
    #[serde(default)]
    pub payer: Option<Payer>,
    /// The amounts.
    #[serde(default)]
    pub amount: Option<TransactionAmount>,
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
            unix_now(),
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
            unix_now(),
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

fn unix_now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}
