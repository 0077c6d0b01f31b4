#[derive(Clone, serde::Serialize, wxpay::Sensitive)]
pub struct IdCard {
    #[wxpay(encrypt)]
    pub name: String,
    #[wxpay(encrypt)]
    pub valid_until: u64,
}

fn main() {}
