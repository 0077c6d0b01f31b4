#[derive(Clone, serde::Serialize, wxpay::Sensitive)]
pub struct Payee {
    #[wxpay(encrypt, redact)]
    pub name: String,
    #[wxpay(hide)]
    pub openid: String,
}

fn main() {}
