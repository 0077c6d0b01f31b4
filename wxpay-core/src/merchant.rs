//! What a client lends to code that signs for the merchant outside a request (front-end
//! payment parameters, say).

use crate::client::Client;
use crate::error::ConfigError;
use crate::keys::MerchantKey;

impl Client {
    /// The merchant key APIv3 requests are signed with: for signatures the platform asks the
    /// merchant to make outside a request, such as front-end payment parameters.
    ///
    /// # Errors
    /// [`ConfigError::ApiV3NotConfigured`] for a client built for APIv2 only without one.
    pub fn merchant_key(&self) -> Result<&MerchantKey, ConfigError> {
        self.inner.caller.merchant_key()
    }
}
