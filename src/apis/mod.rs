//! The endpoint catalog: every operation declared with [`endpoint`](crate::endpoint), one
//! module per product path of the URL.
//!
//! Conventions: requests are named verb + object (`PauseStock`), answers `<Request>Response`
//! or a shared domain type (`Stock`); amounts are integers in fen; times are
//! [`OffsetDateTime`](time::OffsetDateTime) with their offset; enums keep values they do not
//! know in an `Unknown(String)` variant so a new value from the platform never breaks decoding.

/// Declares a string enum of the platform with an `Unknown(String)` fallback.
macro_rules! platform_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $text:literal, )* }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value this version of the SDK does not know yet, kept as sent.
            Unknown(String),
        }

        impl $name {
            /// The value as the platform writes it.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $text, )*
                    $name::Unknown(other) => other,
                }
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> Self {
                match text {
                    $( $text => $name::$variant, )*
                    other => $name::Unknown(other.to_owned()),
                }
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(deserializer)?;
                Ok($name::from(&*text))
            }
        }
    };
}

pub mod bill;
pub mod marketing;
pub mod merchant;
pub mod multiuse;
pub mod pay;
pub mod refund;

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
