//! The JSON object `#[endpoint]` writes a request body into, one member at a time.
//!
//! The macro applies the field's serde attributes (names, skips, `serialize_with`, `flatten`)
//! where it expands, so an endpoint needs no serialize-only body type of its own: a derived
//! `Serialize` per endpoint was most of what a catalog of them cost the compiler.

use serde::Serialize;
use serde::ser::Error as _;

use crate::error::RequestError;

/// What `serialize_with` functions are handed when they write a member.
pub type JsonSerializer<'a> = serde_json::Serializer<&'a mut Vec<u8>>;

/// A JSON object written member by member, byte for byte what `serde_json` writes for a
/// struct with those fields in that order: `{"a":1,"b":"x"}`.
#[derive(Default)]
pub struct JsonObject {
    bytes: Vec<u8>,
}

impl JsonObject {
    /// An empty object.
    pub fn new() -> Self {
        JsonObject::default()
    }

    /// Appends `"name":value`.
    pub fn field<T: Serialize + ?Sized>(
        &mut self,
        name: &str,
        value: &T,
    ) -> Result<(), RequestError> {
        self.field_with(name, |serializer| value.serialize(serializer))
    }

    /// Appends `"name":` and what `write` writes (a `serialize_with` function).
    pub fn field_with(
        &mut self,
        name: &str,
        write: impl FnOnce(&mut JsonSerializer<'_>) -> Result<(), serde_json::Error>,
    ) -> Result<(), RequestError> {
        self.open_member();
        serde_json::to_writer(&mut self.bytes, name).map_err(RequestError::Body)?;
        self.bytes.push(b':');
        write(&mut serde_json::Serializer::new(&mut self.bytes)).map_err(RequestError::Body)
    }

    /// Appends the members of `value` (`#[serde(flatten)]`): an object's members, nothing for
    /// `null` (a `None`); any other value is refused, as serde refuses it.
    pub fn flatten<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), RequestError> {
        let inner = serde_json::to_vec(value).map_err(RequestError::Body)?;
        match inner.as_slice() {
            b"null" | b"{}" => Ok(()),
            [b'{', members @ .., b'}'] => {
                self.open_member();
                self.bytes.extend_from_slice(members);
                Ok(())
            }
            _ => Err(RequestError::Body(serde_json::Error::custom(
                "can only flatten structs and maps",
            ))),
        }
    }

    /// The object's bytes.
    pub fn finish(mut self) -> Vec<u8> {
        if self.bytes.is_empty() {
            self.bytes.push(b'{');
        }
        self.bytes.push(b'}');
        self.bytes
    }

    /// The object as a [`serde_json::Value`] (an upload's `meta`, which the runtime extends).
    pub fn into_value(self) -> Result<serde_json::Value, RequestError> {
        serde_json::from_slice(&self.finish()).map_err(RequestError::Body)
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
        })
        .unwrap();

        let mut object = JsonObject::new();
        object
            .field("out\"no", "1217752501201407033233368018")
            .unwrap();
        object.field("amount", &[1u64, 2]).unwrap();
        let scene = Scene {
            device_id: "POS-1",
            store: None,
        };
        object.flatten(&scene).unwrap();
        object.flatten(&None::<Scene>).unwrap();
        object.field("note", &None::<&str>).unwrap();
        assert_eq!(
            String::from_utf8(object.finish()).unwrap(),
            String::from_utf8(expected).unwrap()
        );
    }

    #[test]
    fn an_empty_object_and_an_empty_flattened_map_are_braces() {
        assert_eq!(JsonObject::new().finish(), b"{}");
        let mut object = JsonObject::new();
        object.flatten(&BTreeMap::<String, u8>::new()).unwrap();
        object.field("a", &1).unwrap();
        assert_eq!(object.finish(), br#"{"a":1}"#);
    }

    #[test]
    fn a_serialize_with_function_writes_the_value() {
        let mut object = JsonObject::new();
        object
            .field_with("yuan", |serializer| serializer.serialize_str("1.00"))
            .unwrap();
        assert_eq!(object.finish(), br#"{"yuan":"1.00"}"#);
    }

    #[test]
    fn flattening_a_value_that_is_not_an_object_is_an_error() {
        let mut object = JsonObject::new();
        let error = object.flatten("text").unwrap_err();
        assert!(
            error
                .to_string()
                .contains("can only flatten structs and maps"),
            "{error}"
        );
    }

    #[test]
    fn an_upload_meta_becomes_a_value() {
        let mut object = JsonObject::new();
        object.field("filename", "a.png").unwrap();
        assert_eq!(
            object.into_value().unwrap(),
            serde_json::json!({"filename": "a.png"})
        );
    }
}
