//! What a client lends to code that signs for the merchant outside a request (front-end
//! payment parameters, say).

use crate::client::Client;
use crate::keys::MerchantKey;

impl Client {
    /// The merchant key requests are signed with: for signatures the platform asks the
    /// merchant to make outside a request, such as front-end payment parameters.
    pub fn merchant_key(&self) -> &MerchantKey {
        self.inner.caller.merchant_key()
    }
}
