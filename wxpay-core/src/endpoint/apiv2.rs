//! What an APIv2 endpoint declares about itself, and the flat `<xml>` fields its request
//! writes. Signing, the XML itself and the answer's checks belong to the protocol layer.

use serde::Serialize;

/// Which protocol an [`Endpoint`](crate::Endpoint) speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Protocol {
    /// APIv3: JSON, signed with the merchant's RSA key in `Authorization`, answers verified
    /// with the platform's key.
    ApiV3,
    /// APIv2: a flat `<xml>` document signed with the APIv2 key in its own `sign` field.
    ApiV2(ApiV2),
}

/// The rules of one APIv2 operation, as `#[endpoint(v2 …)]` declares them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiV2 {
    /// The sign types the operation takes.
    pub sign_types: SignTypes,
    /// The merchant's API client certificate must be presented on the TLS connection
    /// (`cert`).
    pub client_certificate: bool,
    /// The platform signs the answer, so an answer without a matching `sign` is refused;
    /// `false` for the operations the platform answers unsigned (`unsigned_answer`).
    pub signed_answer: bool,
    /// The request carries a `nonce_str`; `false` for the few operations without one
    /// (`no_nonce`).
    pub nonce: bool,
    /// The request carries a `sign`; `false` for the page the user's browser opens with
    /// plain parameters (`authindex`: `unsigned_request`), which no key signs.
    pub signed_request: bool,
    /// What a successful call answers: `<xml>` elements unless declared otherwise
    /// (`answer = text | json | page`).
    pub answer: ApiV2Answer,
}

/// What an APIv2 operation answers on success (`answer = …` in `#[endpoint(v2 …)]`). A
/// failure is the `<xml>` envelope whatever the kind (`return_code` FAIL, `return_msg`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ApiV2Answer {
    /// A flat `<xml>` document (the default).
    #[default]
    Xml,
    /// Text: a bill (`downloadbill`, `downloadfundflow`), read whole into a `String` under
    /// the client's download limit.
    Text,
    /// JSON (`getaccesstoken`), whose `retcode` other than 0 is the business error.
    Json,
    /// A page for the user's browser (the contract-signing pages `entrustweb`): the server
    /// never fetches it; the user's browser is sent to its signed URL
    /// (`Client::page_url`).
    Page,
}

impl ApiV2 {
    /// An operation with the usual rules: a signed request, MD5, no client certificate, a
    /// signed answer, a nonce. Change fields with the `with_…` methods (`const`, for generated
    /// code).
    pub const fn new() -> Self {
        ApiV2 {
            sign_types: SignTypes::Md5,
            client_certificate: false,
            signed_answer: true,
            nonce: true,
            signed_request: true,
            answer: ApiV2Answer::Xml,
        }
    }

    /// The sign types the operation takes.
    pub const fn with_sign_types(mut self, sign_types: SignTypes) -> Self {
        self.sign_types = sign_types;
        self
    }

    /// Whether the client certificate is presented.
    pub const fn with_client_certificate(mut self, required: bool) -> Self {
        self.client_certificate = required;
        self
    }

    /// Whether the answer is signed.
    pub const fn with_signed_answer(mut self, signed: bool) -> Self {
        self.signed_answer = signed;
        self
    }

    /// Whether the request carries a `nonce_str`.
    pub const fn with_nonce(mut self, nonce: bool) -> Self {
        self.nonce = nonce;
        self
    }

    /// Whether the request is signed (`sign`, and `sign_type` for HMAC-SHA256).
    pub const fn with_signed_request(mut self, signed: bool) -> Self {
        self.signed_request = signed;
        self
    }

    /// What a successful call answers.
    pub const fn with_answer(mut self, answer: ApiV2Answer) -> Self {
        self.answer = answer;
        self
    }
}

impl Default for ApiV2 {
    fn default() -> Self {
        ApiV2::new()
    }
}

/// The sign types an APIv2 operation takes (`sign_type = …` in `#[endpoint(v2 …)]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignTypes {
    /// MD5 only, and no `sign_type` field is sent (the default: most of the oldest
    /// operations).
    Md5,
    /// HMAC-SHA256 only: the request carries `sign_type=HMAC-SHA256`.
    HmacSha256,
    /// Either: the client's choice, named in the request's `sign_type`.
    Either,
}

/// A value that can be one element of an APIv2 request: text, a number or a platform enum —
/// never a struct or a list, which the flat `<xml>` cannot hold.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an APIv2 field: the `<xml>` body holds flat text",
    label = "a field of this type",
    note = "an APIv2 field is a `String`, an integer or a platform enum; a field the platform takes as JSON text (`detail`, `receivers`, `scene_info`, …) is marked `#[wxpay(json)]`"
)]
pub trait XmlText: Serialize {}

#[diagnostic::do_not_recommend]
impl XmlText for str {}
#[diagnostic::do_not_recommend]
impl XmlText for String {}
#[diagnostic::do_not_recommend]
impl XmlText for std::borrow::Cow<'_, str> {}
#[diagnostic::do_not_recommend]
impl<T: XmlText + ?Sized> XmlText for &T {}
macro_rules! xml_numbers {
    ($($ty:ty),*) => { $(#[diagnostic::do_not_recommend] impl XmlText for $ty {})* };
}
xml_numbers!(
    u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize
);
#[diagnostic::do_not_recommend]
impl<T: XmlText> XmlText for Option<T> {}

#[cfg(test)]
mod tests {
    use http::Method;

    use crate::endpoint::RequestWriter;
    use crate::error::RequestError;

    crate::__platform_enum! {
        /// A platform enum, as the catalog declares them.
        pub enum Scene { Product8 = "PRODUCT_8", }
    }

    #[derive(serde::Serialize)]
    struct Receiver {
        account: &'static str,
        amount: u64,
    }

    #[test]
    fn elements_are_text_in_the_order_written_and_none_is_left_out() {
        let mut request = RequestWriter::new(Method::POST, None, 0);
        request.path_literal("/secapi/pay/profitsharing");
        request.xml_field("mch_id", "1230000109").unwrap();
        request.xml_field("total_amount", &1000_u64).unwrap();
        request
            .xml_field("scene_id", &Some(Scene::Product8))
            .unwrap();
        request.xml_field("sub_mch_id", &None::<String>).unwrap();
        let receivers = [Receiver {
            account: "86693852",
            amount: 888,
        }];
        request.xml_json_field("receivers", &receivers).unwrap();
        request.xml_json_field("detail", &None::<Receiver>).unwrap();
        let written = request.finish_xml();
        assert_eq!(written.parts.path_and_query, "/secapi/pay/profitsharing");
        assert!(written.file.is_none());
        assert_eq!(
            written.fields,
            [
                ("mch_id", "1230000109".to_owned()),
                ("total_amount", "1000".to_owned()),
                ("scene_id", "PRODUCT_8".to_owned()),
                (
                    "receivers",
                    r#"[{"account":"86693852","amount":888}]"#.to_owned()
                ),
            ]
        );
    }

    #[test]
    fn an_upload_has_one_file_its_md5_element_filled_from_it_and_a_size_limit() {
        let file =
            crate::endpoint::UploadFile::new("a.jpg", "image/jpeg", b"TEST".to_vec()).unwrap();
        let mut request = RequestWriter::new(Method::POST, None, 0);
        request.xml_field("mch_id", "1230000109").unwrap();
        request
            .xml_file("media", &file, Some("media_hash"), Some(4))
            .unwrap();
        let second = request.xml_file("other", &file, None, None).unwrap_err();
        assert!(
            matches!(second, RequestError::Field { field: "other", .. }),
            "{second:?}"
        );
        let written = request.finish_xml();
        assert_eq!(
            written.fields,
            [
                ("mch_id", "1230000109".to_owned()),
                // md5("TEST"), as `md5sum` gives it.
                ("media_hash", "033bd94b1168d7e4f0d644c3c95e35bf".to_owned()),
            ]
        );
        assert_eq!(written.file.map(|(part, _)| part), Some("media"));

        let mut request = RequestWriter::new(Method::POST, None, 0);
        request.xml_field("media_hash", "given").unwrap();
        let clash = request
            .xml_file("media", &file, Some("media_hash"), None)
            .unwrap_err();
        assert!(
            matches!(
                clash,
                RequestError::Field {
                    field: "media_hash",
                    ..
                }
            ),
            "{clash:?}"
        );
        let mut request = RequestWriter::new(Method::POST, None, 0);
        let large = request.xml_file("media", &file, None, Some(3)).unwrap_err();
        assert!(
            matches!(&large, RequestError::Field { field: "media", reason } if reason.contains("limit of 3 bytes")),
            "{large:?}"
        );
    }

    #[test]
    fn a_value_that_is_not_text_is_an_error_naming_the_element() {
        // `XmlText` keeps structs out at compile time; a hand-written `Serialize` can still
        // write a map, which is refused rather than sent as something else.
        struct Map;
        impl serde::Serialize for Map {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                serde::Serializer::collect_map(s, [("a", 1)])
            }
        }
        impl super::XmlText for Map {}
        let mut request = RequestWriter::new(Method::POST, None, 0);
        let error = request.xml_field("detail", &Map).unwrap_err();
        assert!(
            matches!(
                error,
                RequestError::Field {
                    field: "detail",
                    ..
                }
            ),
            "{error:?}"
        );
    }
}
