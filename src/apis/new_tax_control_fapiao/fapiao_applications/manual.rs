//! The e-invoice file (下载发票文件, the spec's `GET /v3/new-tax-control-fapiao/download`): not
//! a request of its own but the link [`ListFapiaoFiles`](super::ListFapiaoFiles) hands out, on
//! the platform's file host, fetched with [`Client::download`](crate::Client::download).
//!
//! ```no_run
//! use wxpay::apis::new_tax_control_fapiao::fapiao_applications::{ListFapiaoFiles, ListFapiaoFilesRequired};
//! # async fn run(client: wxpay::Client) -> Result<(), wxpay::Error> {
//! let files = client
//!     .send(ListFapiaoFiles::new(ListFapiaoFilesRequired {
//!         fapiao_apply_id: "4200000444201910177461284488".into(),
//!         sub_mchid: "1900000109".into(),
//!         fapiao_id: "20200701123456".into(),
//!     }))
//!     .await?;
//! for info in files.fapiao_download_info_list.iter().flatten() {
//!     if let Some(download) = info.download() {
//!         let mut pdf = Vec::new(); // or a tokio::fs::File
//!         client.download(&download, &mut pdf).await?;
//!     }
//! }
//! # Ok(()) }
//! ```

use super::FapiaoDownloadInfoList;
use crate::{Download, FileCheck};

impl FapiaoDownloadInfoList {
    /// What [`Client::download`](crate::Client::download) needs to fetch this invoice's file,
    /// `None` if the answer named no `download_url`. The platform signs neither the file nor a
    /// digest of it, so TLS to its host (which the client insists on) is what vouches for it.
    pub fn download(&self) -> Option<Download> {
        let url = self.download_url.as_deref()?;
        Some(Download::new(url, FileCheck::unsigned()))
    }
}
