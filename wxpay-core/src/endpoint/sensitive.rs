//! Sensitive fields at any depth: what `#[derive(wxpay::Sensitive)]` implements.
//!
//! A request's sensitive values (names, ID and card numbers, phone numbers) are encrypted with
//! the platform key before they are sent; an answer's are encrypted by the platform with the
//! merchant's key and decrypted by the client after the signature is verified. [`Sensitive`]
//! walks a value and does either to every field marked `#[wxpay(encrypt)]`, however deep, and
//! prints it with those fields redacted.

use std::fmt;

use zeroize::Zeroizing;

use super::RequestWriter;
use crate::error::{DecryptError, RequestError};
use crate::keys::MerchantKey;

/// A value whose sensitive parts are encrypted in requests and decrypted in answers.
///
/// Implemented for text (`String`, [`SensitiveString`]), for `Option` and `Vec` of sensitive
/// values, and by `#[derive(wxpay::Sensitive)]` for a struct whose `#[wxpay(encrypt)]` fields
/// are sensitive values. The derive also writes the struct's `Debug`, which prints
/// `<redacted>` for those fields.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be encrypted: it is neither text nor a type with `#[derive(wxpay::Sensitive)]`",
    label = "`#[wxpay(encrypt)]` on a field of this type",
    note = "`#[wxpay(encrypt)]` takes `String`, `Option<String>`, `Vec<String>`, or (an `Option`/`Vec` of) a struct with `#[derive(wxpay::Sensitive)]` whose own sensitive fields are marked `#[wxpay(encrypt)]`"
)]
pub trait Sensitive {
    /// Replaces every sensitive value in `self` with its ciphertext, encrypted with the
    /// platform key `request` chose for this request. `path` names `self` in errors.
    fn encrypt_fields(
        &mut self,
        request: &mut RequestWriter<'_>,
        path: FieldPath<'_>,
    ) -> Result<(), RequestError>;

    /// Replaces every ciphertext in `self` with its plaintext, decrypted with the merchant key.
    fn decrypt_fields(
        &mut self,
        key: &MerchantKey,
        path: FieldPath<'_>,
    ) -> Result<(), DecryptError>;

    /// Writes `self` for `Debug` with every sensitive value shown as `<redacted>`.
    fn fmt_redacted(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

/// The copy of an encrypted request field that is encrypted and sent: the request keeps the
/// plaintext, so it can be sent again (each attempt encrypts afresh). Named by the code
/// `#[endpoint]` writes, so a type without `Clone` is one error at the field, saying what to add.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is encrypted into a copy when the request is sent, so it needs `Clone`",
    label = "`#[wxpay(encrypt)]` on a field of this type",
    note = "add `Clone` to the derives of the `#[derive(wxpay::Sensitive)]` type: `#[derive(Clone, serde::Serialize, wxpay::Sensitive)]`"
)]
pub trait EncryptedCopy: Sized {
    /// A copy to encrypt in place.
    fn encrypted_copy(&self) -> Self;
}

#[diagnostic::do_not_recommend]
impl<T: Clone> EncryptedCopy for T {
    #[inline]
    fn encrypted_copy(&self) -> Self {
        self.clone()
    }
}

/// Where a value sits in a request or answer, for error messages: `payer.identity.number`,
/// `receivers[2].name`. Built on the stack while a value is walked.
#[derive(Clone, Copy)]
pub struct FieldPath<'a> {
    parent: Option<&'a FieldPath<'a>>,
    step: Step<'a>,
}

#[derive(Clone, Copy)]
enum Step<'a> {
    Root,
    Field(&'a str),
    Index(usize),
}

impl<'a> FieldPath<'a> {
    /// The path of a whole request or answer: its fields are named as they are.
    pub const ROOT: FieldPath<'static> = FieldPath {
        parent: None,
        step: Step::Root,
    };

    /// The path of a top-level field.
    pub fn new(name: &'static str) -> FieldPath<'static> {
        FieldPath {
            parent: None,
            step: Step::Field(name),
        }
    }

    /// The path of field `name` inside this value (a name known only at run time too: the
    /// paths a [`DynamicRequest`](crate::DynamicRequest) encrypts).
    pub fn field(&'a self, name: &'a str) -> FieldPath<'a> {
        FieldPath {
            parent: Some(self),
            step: Step::Field(name),
        }
    }

    /// The path of element `index` of this list.
    pub fn index(&'a self, index: usize) -> FieldPath<'a> {
        FieldPath {
            parent: Some(self),
            step: Step::Index(index),
        }
    }
}

impl fmt::Display for FieldPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(parent) = self.parent {
            parent.fmt(f)?;
        }
        let nested = self
            .parent
            .is_some_and(|parent| !matches!(parent.step, Step::Root));
        match self.step {
            Step::Root => Ok(()),
            Step::Field(name) if nested => write!(f, ".{name}"),
            Step::Field(name) => f.write_str(name),
            Step::Index(index) => write!(f, "[{index}]"),
        }
    }
}

impl fmt::Debug for FieldPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FieldPath({self})")
    }
}

/// A decrypted sensitive value of an answer (a phone number, a name, an ID number).
///
/// Wiped from memory when dropped; `Debug` and `Display` print `<redacted>`, so it cannot
/// reach a log by accident. Read it with [`SensitiveString::expose`].
///
/// A value decoded by serde alone still holds the platform's ciphertext; only
/// [`Client::send`](crate::Client::send) decrypts it, and [`SensitiveString::expose`] never
/// hands the ciphertext out as if it were the value.
#[derive(Clone, PartialEq, Eq)]
pub struct SensitiveString {
    text: Zeroizing<String>,
    decrypted: bool,
}

impl SensitiveString {
    /// A sensitive value known in plain text (to compare with, or to send).
    pub fn new(plaintext: impl Into<String>) -> Self {
        SensitiveString {
            text: Zeroizing::new(plaintext.into()),
            decrypted: true,
        }
    }

    /// The plain text; `None` while the value is still the ciphertext it arrived as (decoded
    /// without the client, which decrypts answers before returning them).
    pub fn expose(&self) -> Option<&str> {
        self.decrypted.then_some(self.text.as_str())
    }
}

impl fmt::Debug for SensitiveString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for SensitiveString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<'de> serde::Deserialize<'de> for SensitiveString {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(SensitiveString {
            text: Zeroizing::new(String::deserialize(deserializer)?),
            decrypted: false,
        })
    }
}

const REDACTED: &str = "<redacted>";

// Not listed as a "similar impl" in errors: the trait's note says what it takes, and the list
// would grow with every type that derives it.
#[diagnostic::do_not_recommend]
impl Sensitive for String {
    fn encrypt_fields(
        &mut self,
        request: &mut RequestWriter<'_>,
        path: FieldPath<'_>,
    ) -> Result<(), RequestError> {
        let ciphertext = request.encrypt_field(path, self)?;
        // The plaintext is the caller's and stays theirs; only this copy is replaced.
        *self = ciphertext;
        Ok(())
    }

    fn decrypt_fields(
        &mut self,
        key: &MerchantKey,
        path: FieldPath<'_>,
    ) -> Result<(), DecryptError> {
        let plaintext = decrypt(key, self, path)?;
        self.clear();
        self.push_str(&plaintext);
        Ok(())
    }

    fn fmt_redacted(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

#[diagnostic::do_not_recommend]
impl Sensitive for SensitiveString {
    fn encrypt_fields(
        &mut self,
        request: &mut RequestWriter<'_>,
        path: FieldPath<'_>,
    ) -> Result<(), RequestError> {
        if self.decrypted {
            self.text = Zeroizing::new(request.encrypt_field(path, &self.text)?);
            self.decrypted = false;
        }
        Ok(())
    }

    fn decrypt_fields(
        &mut self,
        key: &MerchantKey,
        path: FieldPath<'_>,
    ) -> Result<(), DecryptError> {
        if !self.decrypted {
            self.text = decrypt(key, &self.text, path)?;
            self.decrypted = true;
        }
        Ok(())
    }

    fn fmt_redacted(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

fn decrypt(
    key: &MerchantKey,
    ciphertext: &str,
    path: FieldPath<'_>,
) -> Result<Zeroizing<String>, DecryptError> {
    key.decrypt(ciphertext).map_err(|source| DecryptError {
        field: path.to_string(),
        source,
        request_id: None,
    })
}

// Not suggested in errors: `Option<u64>` is reported as itself, not as `u64`.
#[diagnostic::do_not_recommend]
impl<T: Sensitive> Sensitive for Option<T> {
    fn encrypt_fields(
        &mut self,
        request: &mut RequestWriter<'_>,
        path: FieldPath<'_>,
    ) -> Result<(), RequestError> {
        match self {
            Some(value) => value.encrypt_fields(request, path),
            None => Ok(()),
        }
    }

    fn decrypt_fields(
        &mut self,
        key: &MerchantKey,
        path: FieldPath<'_>,
    ) -> Result<(), DecryptError> {
        match self {
            Some(value) => value.decrypt_fields(key, path),
            None => Ok(()),
        }
    }

    fn fmt_redacted(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Some(value) => f.debug_tuple("Some").field(&Redacted(value)).finish(),
            None => f.write_str("None"),
        }
    }
}

#[diagnostic::do_not_recommend]
impl<T: Sensitive> Sensitive for Vec<T> {
    fn encrypt_fields(
        &mut self,
        request: &mut RequestWriter<'_>,
        path: FieldPath<'_>,
    ) -> Result<(), RequestError> {
        for (index, value) in self.iter_mut().enumerate() {
            value.encrypt_fields(request, path.index(index))?;
        }
        Ok(())
    }

    fn decrypt_fields(
        &mut self,
        key: &MerchantKey,
        path: FieldPath<'_>,
    ) -> Result<(), DecryptError> {
        for (index, value) in self.iter_mut().enumerate() {
            value.decrypt_fields(key, path.index(index))?;
        }
        Ok(())
    }

    fn fmt_redacted(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter().map(Redacted)).finish()
    }
}

/// Shows a sensitive value through [`Sensitive::fmt_redacted`]; what generated `Debug` impls
/// print for `#[wxpay(encrypt)]` fields.
pub struct Redacted<'a, T: ?Sized>(pub &'a T);

impl<T: Sensitive + ?Sized> fmt::Debug for Redacted<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt_redacted(f)
    }
}

/// Shows a value through a given function: what generated `Debug` impls print for
/// `#[wxpay(encrypt)]` fields, with [`Sensitive::fmt_redacted`] of the field's type.
pub struct RedactedWith<'a, T: ?Sized>(
    pub &'a T,
    pub fn(&T, &mut fmt::Formatter<'_>) -> fmt::Result,
);

impl<T: ?Sized> fmt::Debug for RedactedWith<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (self.1)(self.0, f)
    }
}

/// Picks, for an endpoint's response type, the function that decrypts it: the type's
/// [`Sensitive::decrypt_fields`] when it derives `Sensitive`, else one that does nothing. The
/// choice is made at compile time by method resolution (`(&&Probe::<T>::NEW).decrypter()`).
pub struct Probe<T>(std::marker::PhantomData<fn() -> T>);

impl<T> Probe<T> {
    /// The probe for `T`.
    pub const NEW: Probe<T> = Probe(std::marker::PhantomData);
}

/// A decryption function for one response type.
pub type Decrypter<T> = fn(&mut T, &MerchantKey) -> Result<(), DecryptError>;

/// The choice for a response type that derives `Sensitive`.
pub trait DecryptSensitive<T> {
    /// [`Sensitive::decrypt_fields`] from the answer's root.
    fn decrypter(&self) -> Decrypter<T>;
}

impl<T: Sensitive> DecryptSensitive<T> for &Probe<T> {
    fn decrypter(&self) -> Decrypter<T> {
        |value, key| value.decrypt_fields(key, FieldPath::ROOT)
    }
}

/// The choice for any other response type.
pub trait DecryptNothing<T> {
    /// Does nothing: the answer has no sensitive fields.
    fn decrypter(&self) -> Decrypter<T>;
}

impl<T> DecryptNothing<T> for Probe<T> {
    fn decrypter(&self) -> Decrypter<T> {
        |_, _| Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_read_like_the_json() {
        let root = FieldPath::new("receivers");
        let second = root.index(2);
        let name = second.field("name");
        assert_eq!(name.to_string(), "receivers[2].name");
        let top = FieldPath::ROOT;
        assert_eq!(top.field("data").index(0).to_string(), "data[0]");
        let deep = FieldPath::new("subject_info");
        let identity = deep.field("identity_info");
        assert_eq!(
            identity.field("id_card_number").to_string(),
            "subject_info.identity_info.id_card_number"
        );
    }

    #[test]
    fn a_sensitive_string_never_prints_or_hands_out_ciphertext() {
        let value: SensitiveString = serde_json::from_str("\"Y2lwaGVy\"").unwrap();
        assert_eq!(value.expose(), None);
        assert_eq!(format!("{value:?} {value}"), "<redacted> <redacted>");
        let known = SensitiveString::new("13800138000");
        assert_eq!(known.expose(), Some("13800138000"));
        assert_eq!(format!("{known:?}"), "<redacted>");
    }
}
