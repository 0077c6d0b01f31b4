//! The bank-card payout key, fetched through the client and kept for its lifetime.

use std::sync::PoisonError;

use bytes::Bytes;
use http::Method;
use serde::de::Error as _;

use crate::apiv2::{self, BankPayoutKey, Fields};
use crate::client::Client;
use crate::endpoint::{ApiV2, SignTypes};
use crate::error::{DecodeError, Error};
use crate::host::Host;

/// `getpublickey` as the catalog declares it: on the `fraud` host, HMAC-SHA256 only, the
/// client certificate on the connection, an unsigned answer.
const GET_PUBLIC_KEY: &str = "/risk/getpublickey";

impl Client {
    /// The platform's RSA key for bank-card payouts (`pay_bank`'s `enc_bank_no` and
    /// `enc_true_name`): fetched with `POST /risk/getpublickey` on the first call, then kept for
    /// the client's lifetime, since the platform changes it rarely.
    ///
    /// If the platform refuses a payout because the encryption does not decrypt (the key was
    /// replaced), fetch it again with [`Client::refresh_bank_payout_key`] and encrypt anew.
    ///
    /// ```no_run
    /// # async fn run(client: wxpay_core::Client) -> Result<(), wxpay_core::Error> {
    /// let key = client.bank_payout_key().await?;
    /// let enc_bank_no = key.encrypt("6222020200000000000")?;
    /// let enc_true_name = key.encrypt("张三")?;
    /// # let _ = (enc_bank_no, enc_true_name);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`ApiV2Request::send`](crate::ApiV2Request::send): the operation needs the APIv2 key
    /// and the merchant's client certificate; [`Error::Decode`] when the answer has no
    /// `pub_key` or one that is not an RSA public key of at least 2048 bits.
    pub async fn bank_payout_key(&self) -> Result<BankPayoutKey, Error> {
        if let Some(key) = self.cached_bank_payout_key() {
            return Ok(key);
        }
        self.refresh_bank_payout_key().await
    }

    /// Fetches the bank-card payout key again, whether or not one is kept, and keeps the new
    /// one: after the platform refused a payout's encryption.
    ///
    /// # Errors
    /// As [`Client::bank_payout_key`].
    pub async fn refresh_bank_payout_key(&self) -> Result<BankPayoutKey, Error> {
        let answer = self
            .apiv2(Method::POST, GET_PUBLIC_KEY)
            .host(Host::Fraud)
            .rules(
                ApiV2::new()
                    .with_sign_types(SignTypes::HmacSha256)
                    .with_client_certificate(true)
                    .with_signed_answer(false),
            )
            .field("mch_id", self.mchid())
            .send_verified()
            .await?;
        let key = read_public_key(&answer.value, self.crypto_backend()).map_err(|problem| {
            let error = serde_json::Error::custom(problem);
            let body = apiv2::to_xml(&answer.value).map_or_else(|_| Bytes::new(), Bytes::from);
            Error::Decode(Box::new(DecodeError::new(
                answer.status,
                None,
                body,
                &error,
            )))
        })?;
        *self
            .inner
            .bank_payout_key
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(key.clone());
        Ok(key)
    }

    fn cached_bank_payout_key(&self) -> Option<BankPayoutKey> {
        self.inner
            .bank_payout_key
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// The key in `pub_key`, or why there is none (in words that quote nothing).
fn read_public_key(
    fields: &Fields,
    backend: crate::crypto::CryptoBackend,
) -> Result<BankPayoutKey, String> {
    let pem = fields
        .get("pub_key")
        .ok_or_else(|| "missing field `pub_key`".to_owned())?;
    BankPayoutKey::from_pem_with(pem, backend)
        .map_err(|error| format!("field `pub_key` is not the payout key: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_without_a_usable_key_is_refused() {
        let backend = crate::crypto::CryptoBackend::default();
        let mut fields = Fields::new();
        fields.insert("mch_id", "1230000109");
        assert_eq!(
            read_public_key(&fields, backend).unwrap_err(),
            "missing field `pub_key`"
        );
        // The spec's example answer: a placeholder, not a key.
        fields.insert(
            "pub_key",
            "-----BEGIN RSA PUBLIC KEY-----...-----END RSA PUBLIC KEY-----",
        );
        let problem = read_public_key(&fields, backend).unwrap_err();
        assert!(
            problem.starts_with("field `pub_key` is not the payout key"),
            "{problem}"
        );
        fields.insert(
            "pub_key",
            include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../tests/fixtures/keys/TEST_platform_pub.pkcs1.pem"
            )),
        );
        assert_eq!(read_public_key(&fields, backend).unwrap().bits(), 2048);
    }
}
