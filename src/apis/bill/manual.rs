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

use time::Date;

use super::{
    AccountType, BillType, GetFundFlowBill, GetFundFlowBillRequired, GetTradeBill,
    GetTradeBillRequired, TarType,
};

// What to download is the client's `Download`: without the client there is nothing to hand it to.
#[cfg(feature = "client")]
impl super::BillResponse {
    /// What [`Client::download`](crate::Client::download) needs, given the `tar_type` the
    /// bill was requested with.
    pub fn download(&self, tar_type: Option<&TarType>) -> crate::Download {
        use crate::{Compression, Download, FileCheck};

        let compression = match tar_type {
            Some(TarType::Gzip) => Compression::Gzip,
            // A compression this SDK does not know: download as is, the digest then fails.
            Some(_) | None => Compression::None,
        };
        Download::new(
            &self.download_url,
            FileCheck::digest(&self.hash_type, &self.hash_value).compression(compression),
        )
    }
}

impl GetTradeBill {
    /// Every trade of `bill_date`, uncompressed.
    pub fn all(bill_date: Date) -> Self {
        GetTradeBill::new(GetTradeBillRequired {
            bill_date: bill_day(bill_date),
        })
        .bill_type(BillType::All)
    }

    /// The same bill, gzipped on the wire.
    pub fn gzip(self) -> Self {
        self.tar_type(TarType::Gzip)
    }
}

impl GetFundFlowBill {
    /// The fund-flow bill of `bill_date` for `account_type`, uncompressed.
    pub fn of(bill_date: Date, account_type: AccountType) -> Self {
        GetFundFlowBill::new(GetFundFlowBillRequired {
            bill_date: bill_day(bill_date),
        })
        .account_type(account_type)
    }

    /// The same bill, gzipped on the wire.
    pub fn gzip(self) -> Self {
        self.tar_type(TarType::Gzip)
    }
}

/// A bill's day as the bill APIs take it: `YYYY-MM-DD`.
pub(crate) fn bill_day(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn bill_days_are_written_with_zero_padding() {
        let date = time::macros::date!(2026 - 01 - 05);
        assert_eq!(super::bill_day(date), "2026-01-05");
        assert_eq!(super::GetTradeBill::all(date).bill_date, "2026-01-05");
    }
}
