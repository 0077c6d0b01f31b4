//! What an APIv2 operation answers (`answer = text | json | page`): a page for the user's
//! browser is a GET that gives the server nothing to read; text and JSON are decoded into the
//! declared response; the kind is one of the runtime's, given once, and only on APIv2.
use wxpay::endpoint;

#[endpoint(v2 GET "/papay/entrustweb" -> String, answer = page)]
pub struct PageWithAnswer {
    pub plan_id: String,
}

#[endpoint(v2 POST "/papay/entrustweb", answer = page)]
pub struct PagePosted {
    pub plan_id: String,
}

#[endpoint(v2 POST "/pay/downloadbill", answer = text)]
pub struct TextWithoutType {
    pub bill_date: String,
}

#[endpoint(v2 POST "/pay/downloadbill" -> String, answer = csv)]
pub struct UnknownKind {
    pub bill_date: String,
}

#[endpoint(v2 POST "/pay/downloadbill" -> String, answer = text, answer = json)]
pub struct TwoKinds {
    pub bill_date: String,
}

#[endpoint(POST "/v3/bill/tradebill" -> String, answer = text)]
pub struct OnApiV3 {
    pub bill_date: String,
}

fn main() {}
