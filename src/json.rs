//! Strict JSON for token segments: one object at the top, no duplicate member names at any depth,
//! bounded nesting. serde_json alone keeps the last of two duplicate members, which lets a token
//! mean different things to different parsers; this module refuses such input instead.

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::fmt;

/// Deepest nesting a token header or payload may have. Clerk's deepest claim (`o`, `act`) is 2.
pub const MAX_DEPTH: usize = 16;

/// Why a segment is not a strict JSON object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrictJsonError {
    /// Not JSON, or trailing bytes after the value.
    Syntax,
    /// Valid JSON, but not an object at the top.
    NotAnObject,
    /// The same member name twice in one object.
    DuplicateMember,
    /// Nested deeper than [`MAX_DEPTH`].
    TooDeep,
}

/// Parses `bytes` as a JSON object with unique member names and bounded depth.
pub fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, StrictJsonError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = StrictValue { depth: 0 }
        .deserialize(&mut de)
        .map_err(classify)?;
    de.end().map_err(|_| StrictJsonError::Syntax)?;
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(StrictJsonError::NotAnObject),
    }
}

const DUPLICATE: &str = "edgegate:duplicate-member";
const TOO_DEEP: &str = "edgegate:too-deep";

fn classify(err: serde_json::Error) -> StrictJsonError {
    let text = err.to_string();
    if text.contains(DUPLICATE) {
        StrictJsonError::DuplicateMember
    } else if text.contains(TOO_DEEP) || text.contains("recursion limit") {
        StrictJsonError::TooDeep
    } else {
        StrictJsonError::Syntax
    }
}

struct StrictValue {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for StrictValue {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("non-finite number"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        if self.depth >= MAX_DEPTH {
            return Err(de::Error::custom(TOO_DEEP));
        }
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(StrictValue {
            depth: self.depth + 1,
        })? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        if self.depth >= MAX_DEPTH {
            return Err(de::Error::custom(TOO_DEEP));
        }
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if map.contains_key(&key) {
                return Err(de::Error::custom(DUPLICATE));
            }
            let value = access.next_value_seed(StrictValue {
                depth: self.depth + 1,
            })?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_member_at_top_is_refused() {
        assert_eq!(
            parse_object(br#"{"a":1,"a":2}"#),
            Err(StrictJsonError::DuplicateMember)
        );
    }

    #[test]
    fn duplicate_member_nested_is_refused() {
        assert_eq!(
            parse_object(br#"{"o":{"id":"x","id":"y"}}"#),
            Err(StrictJsonError::DuplicateMember)
        );
    }

    #[test]
    fn escaped_duplicate_member_is_refused() {
        assert_eq!(
            parse_object(br#"{"alg":"RS256","\u0061lg":"none"}"#),
            Err(StrictJsonError::DuplicateMember)
        );
    }

    #[test]
    fn depth_is_bounded() {
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(40), "]".repeat(40));
        assert_eq!(parse_object(deep.as_bytes()), Err(StrictJsonError::TooDeep));
    }

    #[test]
    fn non_objects_and_trailing_bytes_are_refused() {
        assert_eq!(parse_object(b"[1]"), Err(StrictJsonError::NotAnObject));
        assert_eq!(parse_object(b"\"x\""), Err(StrictJsonError::NotAnObject));
        assert_eq!(parse_object(b"{} x"), Err(StrictJsonError::Syntax));
        assert_eq!(parse_object(b"foo"), Err(StrictJsonError::Syntax));
        assert_eq!(
            parse_object(br#"{"a":"\ud800"}"#),
            Err(StrictJsonError::Syntax)
        );
    }

    #[test]
    fn ordinary_object_parses() {
        let map = parse_object(br#" {"sub":"user_1","exp":1700000000,"o":{"rol":"admin"}} "#);
        assert!(map.is_ok_and(|m| m.len() == 3));
    }
}
