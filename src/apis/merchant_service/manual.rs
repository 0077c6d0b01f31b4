//! Consumer complaints (消费者投诉, `/v3/merchant-service/…`). The complainant's phone number
//! arrives encrypted with the merchant's public key; the client decrypts it with the merchant
//! key before the answer is returned, into a [`SensitiveString`] that never prints.
//!
//! ```no_run
//! use wxpay::apis::merchant_service::ListComplaints;
//! # async fn run(client: wxpay::Client) -> Result<(), wxpay::Error> {
//! let page = client
//!     .send(ListComplaints::new("2026-01-01", "2026-01-31").limit(10))
//!     .await?;
//! for complaint in &page.data {
//!     let phone = complaint.payer_phone.as_ref().and_then(|phone| phone.expose());
//!     println!("{} {}", complaint.complaint_id, phone.unwrap_or("-"));
//! }
//! # Ok(()) }
//! ```

use serde::Deserialize;
use time::OffsetDateTime;

use crate::{SensitiveString, endpoint};

platform_enum! {
    /// Where a complaint stands (投诉单状态).
    pub enum ComplaintState {
        /// Waiting for the merchant (待处理).
        Pending = "PENDING",
        /// Being handled (处理中).
        Processing = "PROCESSING",
        /// Done (已处理完成).
        Processed = "PROCESSED",
    }
}

/// 查询投诉单列表API — the complaints users filed in a date range, a page at a time.
/// [Official documentation](https://pay.weixin.qq.com/docs/merchant/apis/consumer-complaint/complaints/list-complaints-v2.html)
#[endpoint(GET "/v3/merchant-service/complaints-v2" -> ComplaintList)]
#[derive(Debug, Clone)]
pub struct ListComplaints {
    /// Page size (分页大小), 1 to 50.
    pub limit: Option<u32>,
    /// Where the page starts (分页开始位置).
    pub offset: Option<u32>,
    /// First day, `YYYY-MM-DD` (开始日期).
    pub begin_date: String,
    /// Last day, `YYYY-MM-DD`, at most 30 days after `begin_date` (结束日期).
    pub end_date: String,
    /// The merchant complained about (被诉商户号), for service providers.
    pub complainted_mchid: Option<String>,
}

/// One page of complaints.
#[derive(Clone, Deserialize, crate::Sensitive)]
#[non_exhaustive]
pub struct ComplaintList {
    /// The complaints.
    #[serde(default)]
    #[wxpay(encrypt)]
    pub data: Vec<Complaint>,
    /// The page size asked for.
    pub limit: u32,
    /// Where the page starts.
    pub offset: u32,
    /// How many complaints the range holds.
    #[serde(default)]
    pub total_count: Option<u32>,
}

/// One complaint (用户投诉信息详情).
#[derive(Clone, Deserialize, crate::Sensitive)]
#[non_exhaustive]
pub struct Complaint {
    /// The complaint number (投诉单号).
    pub complaint_id: String,
    /// When it was filed.
    #[serde(with = "time::serde::rfc3339")]
    pub complaint_time: OffsetDateTime,
    /// What the user wrote (投诉详情).
    pub complaint_detail: String,
    /// Where it stands.
    pub complaint_state: ComplaintState,
    /// The merchant complained about.
    pub complainted_mchid: String,
    /// The complainant's phone number (投诉人联系方式), decrypted with the merchant key.
    #[wxpay(encrypt)]
    pub payer_phone: Option<SensitiveString>,
    /// The orders it concerns.
    #[serde(default)]
    pub complaint_order_info: Vec<ComplaintOrder>,
    /// Whether the order was refunded in full (投诉单是否已全额退款).
    pub complaint_full_refunded: bool,
    /// Whether the user is waiting for an answer (是否有待回复的用户留言).
    pub incoming_user_response: bool,
    /// The problem as the user chose it (问题描述).
    pub problem_description: String,
    /// How often this user complained about the merchant (用户投诉次数).
    pub user_complaint_times: u32,
}

/// An order a complaint concerns (投诉单关联订单信息).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ComplaintOrder {
    /// WeChat Pay's order number.
    pub transaction_id: String,
    /// The merchant's order number.
    pub out_trade_no: String,
    /// The order's amount, in fen.
    pub amount: u64,
}
