//! The endpoint catalog: every operation declared with [`endpoint`](crate::endpoint), one
//! module per product path of the URL.
//!
//! Conventions: requests are named verb + object (`PauseStock`), answers `<Request>Response`
//! or a shared domain type (`Stock`); amounts are integers in fen; times are
//! [`OffsetDateTime`](time::OffsetDateTime) with their offset; enums keep values they do not
//! know in an `Unknown(String)` variant so a new value from the platform never breaks decoding.

/// Declares a string enum of the platform with an `Unknown(String)` fallback (the runtime's
/// macro, so notification and catalog enums behave alike).
macro_rules! platform_enum {
    ($($item:tt)*) => { ::wxpay_core::__platform_enum! { $($item)* } };
}

pub mod bill;
pub mod marketing;
pub mod merchant;
pub mod merchant_service;
pub mod multiuse;
mod operations;
pub mod pay;
pub mod refund;

pub use operations::{Content, OPERATIONS, Operation};

/// Platform certificates (`/v3/certificates`). The client downloads and refreshes them by
/// itself; the declaration lives in the runtime, which needs it for that.
pub mod certificates {
    pub use wxpay_core::certificates::{
        CertificateList, DownloadCertificates, EncryptedCertificate,
    };
}

#[cfg(test)]
mod tests {
    platform_enum! {
        /// A test enum.
        pub enum Colour { Red = "RED", }
    }

    #[test]
    fn platform_enums_round_trip_and_keep_unknown_values() {
        let known: Colour = serde_json::from_str("\"RED\"").unwrap();
        assert_eq!(known, Colour::Red);
        let unknown: Colour = serde_json::from_str("\"ULTRAVIOLET\"").unwrap();
        assert_eq!(unknown, Colour::Unknown("ULTRAVIOLET".into()));
        assert_eq!(serde_json::to_string(&unknown).unwrap(), "\"ULTRAVIOLET\"");
        assert_eq!(serde_json::to_string(&Colour::Red).unwrap(), "\"RED\"");
    }
}
