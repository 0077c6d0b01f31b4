//! `#[wxpay(query)]` on an APIv2 field is a query parameter beside a POST's `<xml>`; a GET's
//! fields are its query already. `unsigned_request` signs nothing, so a `sign_type` beside
//! it says nothing; it is an APIv2 option.
use wxpay::endpoint;

#[derive(serde::Deserialize)]
pub struct Answer {
    pub total: String,
}

#[endpoint(v2 GET "/papay/entrustweb")]
pub struct QueryOnGet {
    #[wxpay(query)]
    pub plan_id: String,
}

#[endpoint(v2 POST "/secapi/mch/submchmanage" -> Answer, cert)]
pub struct HeaderOnApiV2 {
    #[wxpay(query)]
    pub action: String,
    #[wxpay(header = "X-Action")]
    pub mode: String,
}

#[endpoint(v2 GET "/appauth/authindex", unsigned_request, sign_type = hmac_sha256)]
pub struct SignedUnsigned {
    pub mch_id: String,
}

#[endpoint(GET "/v3/certificates", unsigned_request)]
pub struct UnsignedApiV3 {}

fn main() {}
