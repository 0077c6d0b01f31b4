//! Finds a JSON object key named twice, at any depth: serde_json (like most parsers) keeps
//! the last of two silently, which for a notified `out_trade_no` or amount is a guess.

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// The path of the first key named twice in one object of `json` (`amount.total`,
/// `promotion_detail[0].amount`), or `None`. Malformed JSON is `None` too: decoding it
/// reports that.
pub(crate) fn repeated_key(json: &[u8]) -> Option<String> {
    let mut found = None;
    let mut deserializer = serde_json::Deserializer::from_slice(json);
    let _ = Walk {
        path: String::new(),
        found: &mut found,
    }
    .deserialize(&mut deserializer);
    found
}

/// Visits a value, recording the first repeated key's path (the walk then stops).
struct Walk<'a> {
    path: String,
    found: &'a mut Option<String>,
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0;
        loop {
            let item = Walk {
                path: format!("{}[{index}]", self.path),
                found: &mut *self.found,
            };
            if seq.next_element_seed(item)?.is_none() {
                return Ok(());
            }
            index += 1;
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut keys = HashSet::new();
        // Escapes are decoded: `"a"` and `"\u0061"` are the same key twice.
        while let Some(key) = map.next_key::<String>()? {
            let path = if self.path.is_empty() {
                key.clone()
            } else {
                format!("{}.{key}", self.path)
            };
            if !keys.insert(key) {
                *self.found = Some(path);
                return Err(de::Error::custom("a key named twice"));
            }
            map.next_value_seed(Walk {
                path,
                found: &mut *self.found,
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::repeated_key;

    #[test]
    fn a_key_named_twice_is_found_at_any_depth() {
        assert_eq!(
            repeated_key(br#"{"out_trade_no":"A","amount":{"total":1},"out_trade_no":"B"}"#),
            Some("out_trade_no".into())
        );
        assert_eq!(
            repeated_key(br#"{"amount":{"total":1,"total":100}}"#),
            Some("amount.total".into())
        );
        assert_eq!(
            repeated_key(br#"{"promotion_detail":[{"amount":1},{"amount":2,"amount":3}]}"#),
            Some("promotion_detail[1].amount".into())
        );
        // The same key spelled with an escape is the same key.
        assert_eq!(
            repeated_key(br#"{"mchid":"1","\u006dchid":"2"}"#),
            Some("mchid".into())
        );
    }

    #[test]
    fn distinct_keys_and_repeats_across_objects_are_fine() {
        assert_eq!(
            repeated_key(br#"{"a":{"id":1},"b":{"id":2},"list":[{"id":1},{"id":1}],"n":null,"t":true,"f":-1.5}"#),
            None
        );
        assert_eq!(repeated_key(b"[]"), None);
        // Not JSON: left to the decoder, which says so.
        assert_eq!(repeated_key(b"{\"a\":"), None);
    }
}
