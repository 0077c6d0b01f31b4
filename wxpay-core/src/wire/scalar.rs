//! Turns a field's value into the text of a path segment, query value or header.
//!
//! Uses serde so that `#[serde(rename)]` enums, numbers, booleans, strings, `Option` and
//! RFC 3339 date-times all work the same way in every position. Anything that is not a single
//! scalar (maps, structs, sequences) is rejected with a message, never a panic.

use std::fmt::Display;

use serde::ser::{self, Impossible, Serialize};

/// `Ok(None)` for `None` and unit; `Ok(Some(text))` for a scalar; `Err(reason)` otherwise.
pub(crate) fn to_text<T: Serialize + ?Sized>(value: &T) -> Result<Option<String>, String> {
    value.serialize(ScalarSerializer).map_err(|e| e.0)
}

#[derive(Debug)]
pub(crate) struct NotScalar(String);

impl Display for NotScalar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NotScalar {}

impl ser::Error for NotScalar {
    fn custom<T: Display>(msg: T) -> Self {
        NotScalar(msg.to_string())
    }
}

fn unsupported(what: &str) -> NotScalar {
    NotScalar(format!(
        "a {what} cannot be sent as text; only strings, numbers, booleans and unit enum variants can"
    ))
}

struct ScalarSerializer;

type Text = Result<Option<String>, NotScalar>;

macro_rules! display {
    ($($method:ident: $ty:ty),*) => {
        $(fn $method(self, v: $ty) -> Text { Ok(Some(v.to_string())) })*
    };
}

impl ser::Serializer for ScalarSerializer {
    type Ok = Option<String>;
    type Error = NotScalar;
    type SerializeSeq = Impossible<Self::Ok, Self::Error>;
    type SerializeTuple = Impossible<Self::Ok, Self::Error>;
    type SerializeTupleStruct = Impossible<Self::Ok, Self::Error>;
    type SerializeTupleVariant = Impossible<Self::Ok, Self::Error>;
    type SerializeMap = Impossible<Self::Ok, Self::Error>;
    type SerializeStruct = Impossible<Self::Ok, Self::Error>;
    type SerializeStructVariant = Impossible<Self::Ok, Self::Error>;

    display!(serialize_bool: bool, serialize_i8: i8, serialize_i16: i16, serialize_i32: i32,
        serialize_i64: i64, serialize_i128: i128, serialize_u8: u8, serialize_u16: u16,
        serialize_u32: u32, serialize_u64: u64, serialize_u128: u128, serialize_f32: f32,
        serialize_f64: f64, serialize_char: char, serialize_str: &str);

    fn serialize_bytes(self, _: &[u8]) -> Text {
        Err(unsupported("byte string"))
    }
    fn serialize_none(self) -> Text {
        Ok(None)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Text {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Text {
        Ok(None)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Text {
        Ok(None)
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Text {
        Ok(Some(variant.to_owned()))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Text {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Text {
        Err(unsupported("enum variant with data"))
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, NotScalar> {
        Err(unsupported("sequence"))
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, NotScalar> {
        Err(unsupported("tuple"))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, NotScalar> {
        Err(unsupported("tuple struct"))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, NotScalar> {
        Err(unsupported("enum variant with data"))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, NotScalar> {
        Err(unsupported("map"))
    }
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, NotScalar> {
        Err(unsupported("struct"))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, NotScalar> {
        Err(unsupported("enum variant with data"))
    }
}

#[cfg(test)]
mod tests {
    use super::to_text;

    #[derive(serde::Serialize)]
    #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
    enum Status {
        Running,
    }

    #[test]
    fn scalars_become_text() {
        assert_eq!(to_text("a b").unwrap().as_deref(), Some("a b"));
        assert_eq!(to_text(&10u64).unwrap().as_deref(), Some("10"));
        assert_eq!(to_text(&-3i32).unwrap().as_deref(), Some("-3"));
        assert_eq!(to_text(&true).unwrap().as_deref(), Some("true"));
        assert_eq!(
            to_text(&Status::Running).unwrap().as_deref(),
            Some("RUNNING")
        );
        assert_eq!(to_text(&Some(5u8)).unwrap().as_deref(), Some("5"));
        assert_eq!(to_text(&None::<u8>).unwrap(), None);
    }

    #[test]
    fn datetimes_become_rfc3339() {
        #[derive(serde::Serialize)]
        struct W(#[serde(with = "time::serde::rfc3339")] time::OffsetDateTime);
        let t = time::macros::datetime!(2015-05-20 13:29:35 +08:00);
        assert_eq!(
            to_text(&W(t)).unwrap().as_deref(),
            Some("2015-05-20T13:29:35+08:00")
        );
    }

    #[test]
    fn compound_values_are_rejected_with_a_reason() {
        let err = to_text(&vec![1, 2]).unwrap_err();
        assert!(err.contains("sequence"), "{err}");
        let err = to_text(&std::collections::BTreeMap::from([(1, 2)])).unwrap_err();
        assert!(err.contains("map"), "{err}");
    }
}
