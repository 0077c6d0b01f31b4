//! Verified fields into a typed value: a serde `Deserializer` over [`Fields`].
//!
//! Every value is text on the wire. Numbers and booleans are parsed from it; an `Option` is
//! `None` when the field is missing or empty; a sequence, map or struct where a field is
//! expected is read from the field's JSON text (the spec's `x-json` fields: `detail`,
//! `receivers`, `promotion_detail`, …); an enum takes the text as a unit variant's name.
//! A list element (`hblist`) is a sequence of its items, each read as fields are.

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::forward_to_deserialize_any;

use super::Fields;
use crate::error::ApiV2DecodeError;

/// Decodes verified fields into `T` (a struct deriving `Deserialize`).
///
/// ```
/// use serde::Deserialize;
/// use wxpay_core::apiv2::{self, Fields};
///
/// #[derive(Deserialize)]
/// struct Order {
///     out_trade_no: String,
///     total_fee: u64,
///     attach: Option<String>,
///     device_info: Option<String>,
/// }
/// let fields: Fields = [("out_trade_no", "1217752501"), ("total_fee", "888"), ("device_info", "")]
///     .into_iter()
///     .collect();
/// let order: Order = apiv2::from_fields(&fields).unwrap();
/// assert_eq!((order.out_trade_no.as_str(), order.total_fee), ("1217752501", 888));
/// assert_eq!((order.attach, order.device_info), (None, None));
///
/// let error = apiv2::from_fields::<Order>(&[("out_trade_no", "1"), ("total_fee", "八")].into_iter().collect()).err().unwrap();
/// assert_eq!(error.field.as_deref(), Some("total_fee"));
/// ```
pub fn from_fields<'de, T: de::Deserialize<'de>>(
    fields: &'de Fields,
) -> Result<T, ApiV2DecodeError> {
    T::deserialize(FieldsDeserializer { fields })
}

struct FieldsDeserializer<'de> {
    fields: &'de Fields,
}

impl<'de> de::Deserializer<'de> for FieldsDeserializer<'de> {
    type Error = ApiV2DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_map(Entries {
            entries: self.fields.fields.iter(),
            lists: self.fields.lists.iter(),
            value: None,
        })
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

struct Entries<'de> {
    entries: std::slice::Iter<'de, (String, String)>,
    lists: std::slice::Iter<'de, (String, Vec<Fields>)>,
    value: Option<Entry<'de>>,
}

/// The value of the entry whose name was just given.
enum Entry<'de> {
    Text(&'de str, &'de str),
    List(&'de str, &'de [Fields]),
}

impl<'de> MapAccess<'de> for Entries<'de> {
    type Error = ApiV2DecodeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        let name = if let Some((name, value)) = self.entries.next() {
            self.value = Some(Entry::Text(name, value));
            name
        } else if let Some((name, items)) = self.lists.next() {
            self.value = Some(Entry::List(name, items));
            name
        } else {
            return Ok(None);
        };
        seed.deserialize(BorrowedStrDeserializer::new(name))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        let entry = self.value.take().ok_or(ApiV2DecodeError {
            field: None,
            problem: "a value was asked for before its name",
        })?;
        let (field, result) = match entry {
            Entry::Text(field, text) => (field, seed.deserialize(Text { field, text })),
            Entry::List(field, items) => (field, seed.deserialize(List { field, items })),
        };
        result.map_err(|mut e| {
            e.field.get_or_insert_with(|| field.to_owned());
            e
        })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len() + self.lists.len())
    }
}

/// A list element's items: a sequence, each item a map of its fields.
struct List<'de> {
    field: &'de str,
    items: &'de [Fields],
}

impl<'de> de::Deserializer<'de> for List<'de> {
    type Error = ApiV2DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_seq(Items {
            field: self.field,
            items: self.items.iter().enumerate(),
        })
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

struct Items<'de> {
    field: &'de str,
    items: std::iter::Enumerate<std::slice::Iter<'de, Fields>>,
}

impl<'de> SeqAccess<'de> for Items<'de> {
    type Error = ApiV2DecodeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Self::Error> {
        let Some((index, fields)) = self.items.next() else {
            return Ok(None);
        };
        // An item's error names the item and its field: `hblist[1].amount`.
        seed.deserialize(FieldsDeserializer { fields })
            .map(Some)
            .map_err(|mut e| {
                let inner = e.field.take().map_or(String::new(), |f| format!(".{f}"));
                e.field = Some(format!("{}[{index}]{inner}", self.field));
                e
            })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

/// One field's text.
struct Text<'de> {
    field: &'de str,
    text: &'de str,
}

impl<'de> Text<'de> {
    fn problem(&self, problem: &'static str) -> ApiV2DecodeError {
        ApiV2DecodeError {
            field: Some(self.field.to_owned()),
            problem,
        }
    }

    fn number<N: std::str::FromStr>(&self) -> Result<N, ApiV2DecodeError> {
        self.text
            .parse()
            .map_err(|_| self.problem("not a number of the declared type"))
    }

    fn json(&self) -> serde_json::Deserializer<serde_json::de::StrRead<'de>> {
        serde_json::Deserializer::from_str(self.text)
    }
}

macro_rules! numbers {
    ($($method:ident $visit:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            visitor.$visit(self.number()?)
        }
    )*};
}

macro_rules! json {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            let field = self.field;
            de::Deserializer::$method(&mut self.json(), visitor).map_err(|_| ApiV2DecodeError {
                field: Some(field.to_owned()),
                problem: "not the JSON the field declares",
            })
        }
    )*};
}

impl<'de> de::Deserializer<'de> for Text<'de> {
    type Error = ApiV2DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_borrowed_str(self.text)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.text {
            "true" => visitor.visit_bool(true),
            "false" => visitor.visit_bool(false),
            _ => Err(self.problem("not true or false")),
        }
    }

    numbers! {
        deserialize_i8 visit_i8 deserialize_i16 visit_i16 deserialize_i32 visit_i32
        deserialize_i64 visit_i64 deserialize_i128 visit_i128
        deserialize_u8 visit_u8 deserialize_u16 visit_u16 deserialize_u32 visit_u32
        deserialize_u64 visit_u64 deserialize_u128 visit_u128
        deserialize_f32 visit_f32 deserialize_f64 visit_f64
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        // An empty field is an absent one, as the `sign` rule treats it.
        if self.text.is_empty() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let field = self.field;
        let text = BorrowedStrDeserializer::<ApiV2DecodeError>::new(self.text);
        visitor.visit_enum(text).map_err(|_| ApiV2DecodeError {
            field: Some(field.to_owned()),
            problem: "not one of the declared values",
        })
    }

    json! { deserialize_seq deserialize_map }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let field = self.field;
        de::Deserializer::deserialize_struct(&mut self.json(), name, fields, visitor).map_err(
            |_| ApiV2DecodeError {
                field: Some(field.to_owned()),
                problem: "not the JSON the field declares",
            },
        )
    }

    forward_to_deserialize_any! {
        char str string bytes byte_buf unit unit_struct tuple tuple_struct identifier ignored_any
    }
}
