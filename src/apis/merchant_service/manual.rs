//! Consumer complaints (消费者投诉, `/v3/merchant-service/…`). The complainant's phone number
//! arrives encrypted with the merchant's public key; the client decrypts it with the merchant
//! key before the answer is returned, into a [`SensitiveString`](crate::SensitiveString) that
//! never prints.
//!
//! ```no_run
//! use wxpay::apis::merchant_service::{ListComplaints, ListComplaintsRequired};
//! # async fn run(client: wxpay::Client) -> Result<(), wxpay::Error> {
//! let page = client
//!     .send(
//!         ListComplaints::new(ListComplaintsRequired {
//!             begin_date: "2026-01-01".into(),
//!             end_date: "2026-01-31".into(),
//!         })
//!         .limit(10),
//!     )
//!     .await?;
//! for complaint in page.complaints() {
//!     let phone = complaint.payer_phone.as_ref().and_then(|phone| phone.expose());
//!     println!("{} {}", complaint.complaint_id, phone.unwrap_or("-"));
//! }
//! # Ok(()) }
//! ```

use super::{Complaint, ComplaintList};

impl ComplaintList {
    /// The complaints of this page (none when the platform leaves `data` out).
    pub fn complaints(&self) -> &[Complaint] {
        self.data.as_deref().unwrap_or_default()
    }
}
