//! DELETE may carry a JSON body (`#[wxpay(body)]`); its other fields stay in the query.
use wxpay::{Endpoint, RequestWriter, endpoint};

#[endpoint(DELETE "/v3/merchant-service/complaints/<complaint_id>/images")]
pub struct DeleteImages {
    pub complaint_id: String,
    pub mchid: String,
    #[wxpay(body)]
    pub media_ids: Vec<String>,
    #[wxpay(body)]
    pub note: Option<String>,
}

fn main() {
    let request = DeleteImages::new(DeleteImagesRequired {
        complaint_id: "200201820200101080076610000".into(),
        mchid: "1900000001".into(),
        media_ids: vec!["m1".into()],
    });
    let mut writer = RequestWriter::new(http::Method::DELETE, None, 0);
    request.write_request(&mut writer).unwrap();
    let parts = writer.finish();
    assert_eq!(
        parts.path_and_query,
        "/v3/merchant-service/complaints/200201820200101080076610000/images?mchid=1900000001"
    );
    assert_eq!(parts.body, br#"{"media_ids":["m1"]}"#);
    assert_eq!(parts.headers["content-type"], "application/json");
}
