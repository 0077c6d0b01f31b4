// Platform certificates (`/v3/certificates`). The client downloads and refreshes them by itself;
// the declaration lives in the runtime, which needs it for that.

pub use wxpay_core::certificates::{CertificateList, DownloadCertificates, EncryptedCertificate};
