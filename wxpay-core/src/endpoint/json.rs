//! The JSON object `#[endpoint]` writes a request body into, one member at a time.
//!
//! The macro applies the field's serde attributes (names, skips, `serialize_with`, `flatten`)
//! where it expands, so an endpoint needs no serialize-only body type of its own: a derived
//! `Serialize` per endpoint was most of what a catalog of them cost the compiler. For the same
//! reason a member is one call without a `?`: the object keeps the first error and hands it
//! back when it is finished, so each generated member is a single statement.

use serde::Serialize;
use serde::ser::Error as _;

use crate::error::RequestError;

/// What `serialize_with` functions are handed when they write a member.
pub type JsonSerializer<'a> = serde_json::Serializer<&'a mut Vec<u8>>;

/// A JSON object written member by member, byte for byte what `serde_json` writes for a
/// struct with those fields in that order: `{"a":1,"b":"x"}`.
///
/// Once a member fails to serialize, later members are not written and
/// [`JsonObject::finish`] returns that first error.
#[derive(Default)]
pub struct JsonObject {
    bytes: Vec<u8>,
    error: Option<serde_json::Error>,
}

impl JsonObject {
    /// An empty object.
    pub fn new() -> Self {
        JsonObject::default()
    }

    /// Appends `"name":value`.
    pub fn field<T: Serialize + ?Sized>(&mut self, name: &str, value: &T) {
        self.field_with(name, |serializer| value.serialize(serializer));
    }

    /// Appends `"name":value` for `Some(value)`, nothing for `None`: an `Option` field, whose
    /// `None` the platform wants left out rather than sent as `null`.
    pub fn optional<T: Serialize>(&mut self, name: &str, value: &Option<T>) {
        if let Some(value) = value {
            self.field(name, value);
        }
    }

    /// Appends `"name":` and what `write` writes (a `serialize_with` function).
    pub fn field_with(
        &mut self,
        name: &str,
        write: impl FnOnce(&mut JsonSerializer<'_>) -> Result<(), serde_json::Error>,
    ) {
        if self.error.is_some() {
            return;
        }
        self.open_member();
        let written = serde_json::to_writer(&mut self.bytes, name).and_then(|()| {
            self.bytes.push(b':');
            write(&mut serde_json::Serializer::new(&mut self.bytes))
        });
        // The half-written member is never sent: `finish` returns the error instead.
        self.error = written.err();
    }

    /// Appends the members of `value` (`#[serde(flatten)]`): an object's members, nothing for
    /// `null` (a `None`); any other value is refused, as serde refuses it.
    pub fn flatten<T: Serialize + ?Sized>(&mut self, value: &T) {
        if self.error.is_some() {
            return;
        }
        match serde_json::to_vec(value) {
            Ok(inner) => match inner.as_slice() {
                b"null" | b"{}" => {}
                [b'{', members @ .., b'}'] => {
                    self.open_member();
                    self.bytes.extend_from_slice(members);
                }
                _ => {
                    self.error = Some(serde_json::Error::custom(
                        "can only flatten structs and maps",
                    ))
                }
            },
            Err(error) => self.error = Some(error),
        }
    }

    /// The object's bytes, or the first member's error.
    pub fn finish(mut self) -> Result<Vec<u8>, RequestError> {
        if let Some(error) = self.error {
            return Err(RequestError::Body(error));
        }
        if self.bytes.is_empty() {
            self.bytes.push(b'{');
        }
        self.bytes.push(b'}');
        Ok(self.bytes)
    }

    /// The object as a [`serde_json::Value`] (an upload's `meta`, which the runtime extends).
    pub fn into_value(self) -> Result<serde_json::Value, RequestError> {
        serde_json::from_slice(&self.finish()?).map_err(RequestError::Body)
    }

    fn open_member(&mut self) {
        self.bytes
            .push(if self.bytes.is_empty() { b'{' } else { b',' });
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Serializer as _;

    use super::*;

    #[derive(Serialize)]
    struct Scene {
        device_id: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        store: Option<u32>,
    }

    #[derive(Serialize)]
    struct Derived {
        #[serde(rename = "out\"no")]
        out_no: &'static str,
        amount: Vec<u64>,
        #[serde(flatten)]
        scene: Scene,
        #[serde(flatten)]
        nothing: Option<Scene>,
        note: Option<&'static str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        skipped: Option<u8>,
        #[serde(skip_serializing_if = "Option::is_none")]
        kept: Option<u8>,
    }

    #[test]
    fn members_give_the_bytes_serde_json_gives_the_derived_struct() {
        let scene = Scene {
            device_id: "POS-1",
            store: None,
        };
        let expected = serde_json::to_vec(&Derived {
            out_no: "1217752501201407033233368018",
            amount: vec![1, 2],
            scene,
            nothing: None,
            note: None,
            skipped: None,
            kept: Some(7),
        })
        .unwrap();

        let mut object = JsonObject::new();
        object.field("out\"no", "1217752501201407033233368018");
        object.field("amount", &[1u64, 2]);
        let scene = Scene {
            device_id: "POS-1",
            store: None,
        };
        object.flatten(&scene);
        object.flatten(&None::<Scene>);
        object.field("note", &None::<&str>);
        object.optional("skipped", &None::<u8>);
        object.optional("kept", &Some(7u8));
        assert_eq!(
            String::from_utf8(object.finish().unwrap()).unwrap(),
            String::from_utf8(expected).unwrap()
        );
    }

    #[test]
    fn an_empty_object_and_an_empty_flattened_map_are_braces() {
        assert_eq!(JsonObject::new().finish().unwrap(), b"{}");
        let mut object = JsonObject::new();
        object.flatten(&BTreeMap::<String, u8>::new());
        object.field("a", &1);
        assert_eq!(object.finish().unwrap(), br#"{"a":1}"#);
    }

    #[test]
    fn a_serialize_with_function_writes_the_value() {
        let mut object = JsonObject::new();
        object.field_with("yuan", |serializer| serializer.serialize_str("1.00"));
        assert_eq!(object.finish().unwrap(), br#"{"yuan":"1.00"}"#);
    }

    #[test]
    fn flattening_a_value_that_is_not_an_object_is_an_error() {
        let mut object = JsonObject::new();
        object.flatten("text");
        let error = object.finish().unwrap_err();
        let cause = std::error::Error::source(&error).map(ToString::to_string);
        assert!(
            cause.is_some_and(|cause| cause.contains("can only flatten structs and maps")),
            "{error:?}"
        );
    }

    #[test]
    fn the_first_failing_member_is_the_error_and_nothing_after_it_is_written() {
        let mut object = JsonObject::new();
        object.field("a", &1);
        object.field_with("b", |_| Err(serde_json::Error::custom("first")));
        let mut later = false;
        object.field_with("c", |serializer| {
            later = true;
            serializer.serialize_u8(3)
        });
        object.flatten("not an object");
        let error = object.finish().unwrap_err();
        let cause = std::error::Error::source(&error).map(ToString::to_string);
        assert_eq!(cause.as_deref(), Some("first"), "{error:?}");
        assert!(!later, "a member after the error was still serialized");

        let mut upload = JsonObject::new();
        upload.field_with("meta", |_| Err(serde_json::Error::custom("meta")));
        assert!(upload.into_value().is_err());
    }

    #[test]
    fn an_upload_meta_becomes_a_value() {
        let mut object = JsonObject::new();
        object.field("filename", "a.png");
        assert_eq!(
            object.into_value().unwrap(),
            serde_json::json!({"filename": "a.png"})
        );
    }
}
