//! `host = key` names the platform host of an operation; without it the operation lives on
//! the main API host. Every key the runtime knows is accepted.
use wxpay::{Endpoint, Host, endpoint};

#[endpoint(GET "/v3/certificates")]
pub struct OnApi {}

#[endpoint(GET "/v3/certificates", host = api)]
pub struct OnApiNamed {}

#[endpoint(GET "/v3/global/transactions/id/<transaction_id>", host = apihk)]
pub struct OnApihk {
    pub transaction_id: String,
}

#[endpoint(POST "/risk/getpublickey", host = fraud)]
pub struct OnFraud {}

#[endpoint(POST "/tools/authcodetoopenid", host = payapp)]
pub struct OnPayapp {}

#[endpoint(v2 GET "/appauth/authindex", host = payapp_mch, unsigned_request, no_nonce)]
pub struct OnPayappMch {}

fn main() {
    assert_eq!(OnApi::HOST, Host::Api);
    assert_eq!(OnApiNamed::HOST, Host::Api);
    assert_eq!(OnApihk::HOST, Host::Apihk);
    assert_eq!(OnFraud::HOST, Host::Fraud);
    assert_eq!(OnPayapp::HOST, Host::Payapp);
    assert_eq!(OnPayappMch::HOST, Host::PayappMch);
    // Every key of the runtime has its endpoint above.
    assert_eq!(Host::ALL.len(), 5);
}
