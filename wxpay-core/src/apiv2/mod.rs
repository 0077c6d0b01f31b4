//! APIv2, the platform's older protocol, as pure functions: no network, no client.
//!
//! A request is a flat `<xml>` document of text fields with a `sign` in the body; an answer
//! is the same kind of document, signed the same way (except for the operations the platform
//! answers unsigned). The client builds a request as fields → `nonce_str`/`sign_type` →
//! [`sign`] → [`to_xml`] (all in [`signed_request_xml`]), sends it, and reads the answer with
//! [`read_answer`]; generated code decodes the verified [`Fields`] with [`from_fields`].
//!
//! - `sign`: fields sorted by name, `sign` and empty values left out, `k=v&…&key=<APIv2 key>`,
//!   MD5 (the default) or HMAC-SHA256 keyed by the APIv2 key, upper-case hex.
//! - Answers: `return_code` FAIL is the platform refusing the request
//!   ([`ApiV2Error::Platform`]); otherwise the `sign` must verify; then `result_code` FAIL is
//!   the business error ([`ApiV2Error::Business`]).
//! - Notifications: payment results are signed `<xml>` ([`read_payment_notification`]);
//!   refund results carry `req_info`, AES-256-ECB under the MD5 of the APIv2 key
//!   ([`read_refund_notification`]); both are acknowledged with [`ACKNOWLEDGEMENT`].
//!
//! ```
//! use wxpay_core::apiv2::{self, Fields, SignType};
//! use wxpay_core::{ApiV2Key, CryptoBackend};
//!
//! let key = ApiV2Key::new("TESTapiv2key0123456789ABCDEFGHIJ").unwrap();
//! let mut fields = Fields::new();
//! fields.insert("mch_id", "10000100");
//! fields.insert("out_trade_no", "1415757673");
//! let xml = apiv2::signed_request_xml(
//!     fields,
//!     Some("ibuaiVcKdpRxkhJA"),
//!     &key,
//!     SignType::Md5,
//!     CryptoBackend::default(),
//! )
//! .unwrap();
//! assert!(xml.starts_with("<xml><mch_id>10000100</mch_id>"));
//! // What the platform would answer, read back as it reads ours.
//! let fields = apiv2::parse(xml.as_bytes()).unwrap();
//! assert!(apiv2::verify(&fields, &key, SignType::Md5, CryptoBackend::default()).is_ok());
//! ```

use std::fmt;

use zeroize::{Zeroize, Zeroizing};

use crate::crypto::{self, CryptoBackend};
use crate::error::{CryptoError, Error, RequestError};
use crate::hex;
use crate::keys::ApiV2Key;

mod answer;
mod bank;
mod call;
mod de;
mod xml;

pub use answer::{
    ACKNOWLEDGEMENT, MAX_ANSWER_LEN, MAX_NOTIFICATION_LEN, Notification, RefundNotification, Reply,
    read_answer, read_notification, read_payment_notification, read_refund_notification, refusal,
};
pub use bank::BankPayoutKey;
pub use call::{CallContext, page_url, prepare, read_endpoint_answer};
#[cfg(feature = "client")]
pub(crate) use call::{check_answer, sign_type, signed_request};
pub use de::from_fields;
pub use xml::{parse, parse_with, to_xml};

#[doc(no_inline)]
pub use crate::error::{ApiV2DecodeError, ApiV2Error, ApiV2NotificationError, ApiV2SignError};

/// How a `sign` is made: MD5 (the default when a request names no `sign_type`) or
/// HMAC-SHA256 keyed by the APIv2 key (when it carries `sign_type=HMAC-SHA256`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignType {
    /// `MD5`: 32 upper-case hex digits.
    #[default]
    Md5,
    /// `HMAC-SHA256`: 64 upper-case hex digits.
    HmacSha256,
}

impl SignType {
    /// The name the protocol uses in `sign_type`: `MD5` or `HMAC-SHA256`.
    pub fn as_str(self) -> &'static str {
        match self {
            SignType::Md5 => "MD5",
            SignType::HmacSha256 => "HMAC-SHA256",
        }
    }

    /// The sign type named `name` (as in `sign_type`), `None` for another name.
    ///
    /// ```
    /// use wxpay_core::apiv2::SignType;
    /// assert_eq!(SignType::from_name("HMAC-SHA256"), Some(SignType::HmacSha256));
    /// assert_eq!(SignType::from_name("SHA1"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<SignType> {
        match name {
            "MD5" => Some(SignType::Md5),
            "HMAC-SHA256" => Some(SignType::HmacSha256),
            _ => None,
        }
    }

    fn other(self) -> SignType {
        match self {
            SignType::Md5 => SignType::HmacSha256,
            SignType::HmacSha256 => SignType::Md5,
        }
    }

    /// Hex digits in a sign of this type.
    fn sign_len(self) -> usize {
        match self {
            SignType::Md5 => 32,
            SignType::HmacSha256 => 64,
        }
    }
}

impl fmt::Display for SignType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// APIv2 fields in document order: each name once, each value text.
///
/// `Debug` prints the names only: values hold personal data and, for refund notifications,
/// decrypted data (refund amounts and ids). For the same reason the values are wiped when the
/// fields are dropped, replaced or [zeroized](Zeroize), wherever they came from.
///
/// ```
/// use wxpay_core::apiv2::Fields;
/// let mut fields = Fields::new();
/// fields.insert("total_fee", "888");
/// fields.insert("body", "QQ公仔");
/// fields.insert("total_fee", "1"); // replaces, keeping its place
/// assert_eq!(fields.get("total_fee"), Some("1"));
/// assert_eq!(fields.names().collect::<Vec<_>>(), ["total_fee", "body"]);
/// assert_eq!(format!("{fields:?}"), r#"Fields { names: ["total_fee", "body"], .. }"#);
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Fields {
    fields: Vec<(String, String)>,
    /// The declared list elements (the red-packet query's `hblist`), each item flat fields:
    /// the only nesting the parser accepts (see [`parse`]).
    lists: Vec<(String, Vec<Fields>)>,
}

impl Fields {
    /// No fields.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets `name` to `value`: in its place if it is there, at the end otherwise.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let (name, value) = (name.into(), value.into());
        match self.fields.iter_mut().find(|(known, _)| *known == name) {
            Some((_, known)) => {
                known.zeroize();
                *known = value;
            }
            None => self.fields.push((name, value)),
        }
    }
    /// Appends a field known to be new (the parser checks with a set first).
    fn push_new(&mut self, name: String, value: String) {
        self.fields.push((name, value));
    }
    /// The value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(known, _)| known == name)
            .map(|(_, value)| value.as_str())
    }
    /// Removes `name`, giving its value back.
    pub fn remove(&mut self, name: &str) -> Option<String> {
        let at = self.fields.iter().position(|(known, _)| known == name)?;
        Some(self.fields.remove(at).1)
    }
    /// Names and values in document order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
    }
    /// Names in document order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|(name, _)| name.as_str())
    }
    /// The items of a list element (the red-packet query's `hblist`, whose items are its
    /// `hbinfo`s), if the document carried it. Lists are not among [`Fields::iter`]'s fields
    /// and no `sign` covers them (see [`verify`]).
    ///
    /// ```
    /// use wxpay_core::apiv2;
    /// let answer = apiv2::parse(
    ///     b"<xml><total_num>2</total_num><hblist><hbinfo><openid>o1</openid><amount>100</amount>\
    ///       </hbinfo><hbinfo><openid>o2</openid><amount>200</amount></hbinfo></hblist></xml>",
    /// )
    /// .unwrap();
    /// let received = answer.list("hblist").unwrap();
    /// assert_eq!(received.len(), 2);
    /// assert_eq!(received[1].get("amount"), Some("200"));
    /// assert_eq!(answer.get("hblist"), None);
    /// ```
    pub fn list(&self, name: &str) -> Option<&[Fields]> {
        self.lists
            .iter()
            .find(|(known, _)| known == name)
            .map(|(_, items)| items.as_slice())
    }
    /// Appends a list known to be new (the parser checks with a set first).
    fn push_new_list(&mut self, name: String, items: Vec<Fields>) {
        self.lists.push((name, items));
    }
    /// The list elements with their items, in document order.
    fn lists(&self) -> impl ExactSizeIterator<Item = (&str, &[Fields])> {
        self.lists
            .iter()
            .map(|(name, items)| (name.as_str(), items.as_slice()))
    }
    /// How many fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
}

impl Zeroize for Fields {
    /// Wipes every name and value (and every list's items) and leaves no field.
    fn zeroize(&mut self) {
        for (name, value) in &mut self.fields {
            name.zeroize();
            value.zeroize();
        }
        self.fields.clear();
        for (name, items) in &mut self.lists {
            name.zeroize();
            items.iter_mut().for_each(Zeroize::zeroize);
        }
        self.lists.clear();
    }
}

impl Drop for Fields {
    fn drop(&mut self) {
        self.zeroize();
    }
}

impl<N: Into<String>, V: Into<String>> FromIterator<(N, V)> for Fields {
    /// Collects pairs as [`Fields::insert`] would: a repeated name keeps the last value.
    fn from_iter<I: IntoIterator<Item = (N, V)>>(pairs: I) -> Self {
        let mut fields = Fields::new();
        for (name, value) in pairs {
            fields.insert(name, value);
        }
        fields
    }
}

impl fmt::Debug for Fields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Fields");
        debug.field("names", &self.names().collect::<Vec<_>>());
        if !self.lists.is_empty() {
            let lists: Vec<(&str, usize)> = self.lists().map(|(n, i)| (n, i.len())).collect();
            debug.field("lists", &lists);
        }
        debug.finish_non_exhaustive()
    }
}

/// The string a `sign` is made over: fields sorted by name, `sign` and empty values left out,
/// `k=v&…&key=<APIv2 key>`. It ends with the key, so it is zeroized when dropped and must
/// never be logged.
///
/// ```
/// use wxpay_core::apiv2::{self, Fields};
/// use wxpay_core::ApiV2Key;
/// let key = ApiV2Key::new("TESTapiv2key0123456789ABCDEFGHIJ").unwrap();
/// let fields: Fields = [("b", "2"), ("a", "1"), ("c", ""), ("sign", "X")].into_iter().collect();
/// assert_eq!(
///     apiv2::string_to_sign(&fields, &key).as_str(),
///     "a=1&b=2&key=TESTapiv2key0123456789ABCDEFGHIJ"
/// );
/// ```
pub fn string_to_sign(fields: &Fields, key: &ApiV2Key) -> Zeroizing<String> {
    let mut signed: Vec<(&str, &str)> = fields
        .iter()
        .filter(|(name, value)| *name != "sign" && !value.is_empty())
        .collect();
    // Byte order, as the platform and every SDK sort (names are ASCII).
    signed.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let capacity = signed
        .iter()
        .map(|(name, value)| name.len() + value.len() + 2)
        .sum::<usize>()
        + 4
        + key.bytes().len();
    let mut text = Zeroizing::new(String::with_capacity(capacity));
    for (name, value) in signed {
        text.push_str(name);
        text.push('=');
        text.push_str(value);
        text.push('&');
    }
    text.push_str("key=");
    // The key is ASCII letters and digits (checked by `ApiV2Key::new`).
    text.extend(key.bytes().iter().map(|&b| char::from(b)));
    text
}

/// The `sign` of `fields` (any `sign` among them left out), upper-case hex.
///
/// ```
/// use wxpay_core::apiv2::{self, Fields, SignType};
/// use wxpay_core::{ApiV2Key, CryptoBackend};
/// let key = ApiV2Key::new("TESTapiv2key0123456789ABCDEFGHIJ").unwrap();
/// let fields: Fields = [("mch_id", "10000100")].into_iter().collect();
/// let md5 = apiv2::sign(&fields, &key, SignType::Md5, CryptoBackend::default()).unwrap();
/// let hmac = apiv2::sign(&fields, &key, SignType::HmacSha256, CryptoBackend::default()).unwrap();
/// assert_eq!((md5.len(), hmac.len()), (32, 64));
/// ```
pub fn sign(
    fields: &Fields,
    key: &ApiV2Key,
    sign_type: SignType,
    backend: CryptoBackend,
) -> Result<String, CryptoError> {
    let text = string_to_sign(fields, key);
    Ok(match sign_type {
        SignType::Md5 => hex::upper(&crypto::md5(text.as_bytes())),
        SignType::HmacSha256 => hex::upper(&backend.hmac_sha256(key.bytes(), text.as_bytes())?),
    })
}

/// Checks the `sign` of `fields` against `sign_type`, the type the request asked for.
///
/// A missing or empty `sign` is [`ApiV2SignError::MissingSign`]; a `sign` right for the other
/// type is [`ApiV2SignError::OtherSignType`]; any other mismatch is
/// [`ApiV2SignError::BadSign`]. Comparison is constant-time, and case-insensitive as hex is.
///
/// ```
/// use wxpay_core::apiv2::{self, ApiV2SignError, Fields, SignType};
/// use wxpay_core::{ApiV2Key, CryptoBackend};
/// let key = ApiV2Key::new("TESTapiv2key0123456789ABCDEFGHIJ").unwrap();
/// let backend = CryptoBackend::default();
/// let mut fields: Fields = [("return_code", "SUCCESS")].into_iter().collect();
/// let sign = apiv2::sign(&fields, &key, SignType::HmacSha256, backend).unwrap();
/// fields.insert("sign", sign);
/// assert!(apiv2::verify(&fields, &key, SignType::HmacSha256, backend).is_ok());
/// assert_eq!(
///     apiv2::verify(&fields, &key, SignType::Md5, backend),
///     Err(ApiV2SignError::OtherSignType { expected: "MD5", found: "HMAC-SHA256" })
/// );
/// ```
pub fn verify(
    fields: &Fields,
    key: &ApiV2Key,
    sign_type: SignType,
    backend: CryptoBackend,
) -> Result<(), ApiV2SignError> {
    // No rule of the platform signs a list element (it sends them only unsigned): a list in
    // a signed document would be data no `sign` covers.
    if let Some((name, _)) = fields.lists().next() {
        return Err(ApiV2SignError::UnsignedList {
            element: name.to_owned(),
        });
    }
    let given = fields
        .get("sign")
        .filter(|sign| !sign.is_empty())
        .ok_or(ApiV2SignError::MissingSign)?;
    let given = given.to_ascii_uppercase();
    let matches = |sign_type: SignType| {
        given.len() == sign_type.sign_len()
            && sign(fields, key, sign_type, backend).is_ok_and(|expected| {
                backend.constant_time_eq(expected.as_bytes(), given.as_bytes())
            })
    };
    if matches(sign_type) {
        return Ok(());
    }
    if matches(sign_type.other()) {
        return Err(ApiV2SignError::OtherSignType {
            expected: sign_type.as_str(),
            found: sign_type.other().as_str(),
        });
    }
    Err(ApiV2SignError::BadSign {
        sign_type: sign_type.as_str(),
    })
}

/// The fields a request sends: `nonce_str` added (`None` for the spec's nonce-less
/// operations), `sign_type` added for HMAC-SHA256 (MD5 is the default and goes unnamed), and
/// the `sign` computed and appended last.
///
/// Errors: a failing HMAC ([`CryptoError`]).
pub fn signed_fields(
    mut fields: Fields,
    nonce_str: Option<&str>,
    key: &ApiV2Key,
    sign_type: SignType,
    backend: CryptoBackend,
) -> Result<Fields, CryptoError> {
    if let Some(nonce) = nonce_str {
        fields.insert("nonce_str", nonce);
    }
    if sign_type == SignType::HmacSha256 {
        fields.insert("sign_type", sign_type.as_str());
    }
    fields.remove("sign");
    let sign = sign(&fields, key, sign_type, backend)?;
    fields.insert("sign", sign);
    Ok(fields)
}

/// A request as the client sends it: [`signed_fields`] written as `<xml>`.
///
/// Errors: a field that cannot be written as XML ([`RequestError::Xml`]), or a failing HMAC
/// ([`CryptoError`]).
pub fn signed_request_xml(
    fields: Fields,
    nonce_str: Option<&str>,
    key: &ApiV2Key,
    sign_type: SignType,
    backend: CryptoBackend,
) -> Result<String, Error> {
    let fields = signed_fields(fields, nonce_str, key, sign_type, backend)?;
    Ok(to_xml(&fields).map_err(RequestError::Xml)?)
}
