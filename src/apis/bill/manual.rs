//! Bills (账单, `/v3/bill/…`): ask for a day's trade or fund-flow bill, then download it
//! with [`Client::download`](crate::Client::download), which streams it to any
//! `tokio::io::AsyncWrite` and checks its SHA1 (bills are served unsigned).
//!
//! ```no_run
//! use wxpay::apis::bill::{GetTradeBill, TarType};
//! # async fn run(client: wxpay::Client) -> Result<(), wxpay::Error> {
//! let request = GetTradeBill::all(wxpay::time::macros::date!(2026 - 11 - 20)).gzip();
//! let bill = client.send(request.clone()).await?;
//! let mut file = tokio::io::sink(); // e.g. tokio::fs::File::create("bill.csv").await?
//! let done = client.download(&bill.download(request.tar_type.as_ref()), &mut file).await?;
//! println!("{} bytes, sha1 {}", done.bytes, done.digest);
//! # Ok(()) }
//! ```

use serde::Deserialize;
use time::Date;

use crate::endpoint;
use crate::{Compression, Download};

platform_enum! {
    /// Which trades a trade bill lists (账单类型).
    pub enum BillType {
        /// Every trade and refund of the day (所有订单信息).
        All = "ALL",
        /// Successful payments (成功支付的订单).
        Success = "SUCCESS",
        /// Refunds (退款订单).
        Refund = "REFUND",
        /// Refunds of recharge-type coupons (充值退款订单).
        RechargeRefund = "RECHARGE_REFUND",
    }
}

platform_enum! {
    /// How a bill file is compressed (压缩类型).
    pub enum TarType {
        /// GZIP; decompressed by [`Client::download`](crate::Client::download).
        Gzip = "GZIP",
    }
}

platform_enum! {
    /// Which account a fund-flow bill covers (资金账户类型).
    pub enum AccountType {
        /// Basic account (基本账户).
        Basic = "BASIC",
        /// Operating account (运营账户).
        Operation = "OPERATION",
        /// Fee account (手续费账户).
        Fees = "FEES",
    }
}

/// A bill's day, written `YYYY-MM-DD` as the bill APIs take it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BillDate(pub Date);

impl From<Date> for BillDate {
    fn from(date: Date) -> Self {
        BillDate(date)
    }
}

impl serde::Serialize for BillDate {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let date = self.0;
        let text = format!(
            "{:04}-{:02}-{:02}",
            date.year(),
            u8::from(date.month()),
            date.day()
        );
        serializer.serialize_str(&text)
    }
}

/// 申请交易账单API — the download URL and SHA1 of one day's trade bill (available from
/// 10 a.m. the next day, Beijing time).
/// [Official documentation](https://pay.weixin.qq.com/doc/v3/merchant/4012791866)
#[endpoint(GET "/v3/bill/tradebill" -> BillResponse)]
#[derive(Debug, Clone)]
pub struct GetTradeBill {
    /// The day (账单日期).
    pub bill_date: BillDate,
    /// Which trades; the platform assumes [`BillType::All`].
    pub bill_type: Option<BillType>,
    /// Compression; plain CSV when `None`.
    pub tar_type: Option<TarType>,
}

impl GetTradeBill {
    /// Every trade of `bill_date`, uncompressed.
    pub fn all(bill_date: Date) -> Self {
        GetTradeBill {
            bill_date: BillDate(bill_date),
            bill_type: Some(BillType::All),
            tar_type: None,
        }
    }

    /// The same bill, gzipped on the wire.
    pub fn gzip(mut self) -> Self {
        self.tar_type = Some(TarType::Gzip);
        self
    }
}

/// 申请资金账单API — the download URL and SHA1 of one day's fund-flow bill.
/// [Official documentation](https://pay.weixin.qq.com/doc/v3/merchant/4012791867)
#[endpoint(GET "/v3/bill/fundflowbill" -> BillResponse)]
#[derive(Debug, Clone)]
pub struct GetFundFlowBill {
    /// The day (账单日期).
    pub bill_date: BillDate,
    /// Which account; the platform assumes [`AccountType::Basic`].
    pub account_type: Option<AccountType>,
    /// Compression; plain CSV when `None`.
    pub tar_type: Option<TarType>,
}

/// Where a bill is and the digest it must have (both bill APIs answer this).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct BillResponse {
    /// The digest algorithm (`SHA1`).
    pub hash_type: String,
    /// The digest of the uncompressed bill, hex.
    pub hash_value: String,
    /// Where to download it (valid for 30 seconds; the download is signed).
    pub download_url: String,
}

impl BillResponse {
    /// What [`Client::download`](crate::Client::download) needs, given the `tar_type` the
    /// bill was requested with.
    pub fn download(&self, tar_type: Option<&TarType>) -> Download {
        let compression = match tar_type {
            Some(TarType::Gzip) => Compression::Gzip,
            // A compression this SDK does not know: download as is, the digest then fails.
            Some(_) | None => Compression::None,
        };
        Download::new(
            &self.download_url,
            &self.hash_type,
            &self.hash_value,
            compression,
        )
    }
}
