#[derive(serde::Serialize, wxpay::Constructor)]
#[non_exhaustive]
pub struct StoreInfo {
    pub id: String,
    pub name: String,
    pub address: Option<String>,
}

fn main() {
    let _ = StoreInfo::new(StoreInfoRequired {
        name: "腾讯大厦分店".into(),
    })
    .address("深圳");
}
