//! What a person who mistyped a key or a value in a TOML file needs to read:
//! the known name they most likely meant ("did you mean …?"), the field list
//! a struct deserializes (so the known names come from the structs and
//! cannot drift), and a value's kind in words ("a number, not the text
//! \"60\""). Shared by the config file's check (`config::keys`) and the menu
//! file's (`engine::menu::keys`); it imports nothing of the crate.

use serde::de::{Deserialize, Deserializer, Visitor};
use toml::Value;

/// A typo this far (edits, a swap of two letters counting as one) from a key
/// is taken for it: one edit for short keys, a third of the key for long ones.
fn close_enough(written: &str, known: &str) -> bool {
    let distance = strsim::damerau_levenshtein(written, known);
    distance <= (known.chars().count() / 3).max(1)
}

/// The known name `written` is most likely a typo of.
pub fn nearest<'a>(written: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .copied()
        .filter(|name| close_enough(written, name))
        .min_by_key(|name| strsim::damerau_levenshtein(written, name))
}

/// The field names a struct deserializes, as serde's derive declares them.
pub fn fields_of<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    let mut fields: &'static [&'static str] = &[];
    // The walker always stops with an error, after noting the fields.
    let _stopped = T::deserialize(FieldNames(&mut fields));
    fields
}

/// A deserializer that only notes the field list a struct asks it for.
struct FieldNames<'a>(&'a mut &'static [&'static str]);

impl<'de> Deserializer<'de> for FieldNames<'_> {
    type Error = serde::de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
        Err(serde::de::Error::custom("not a struct"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = fields;
        Err(serde::de::Error::custom("fields noted"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
        unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}

/// What kind of value a key takes, as the person writes it.
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::String(_) => "text in quotes",
        Value::Integer(_) | Value::Float(_) => "a number",
        Value::Boolean(_) => "true or false",
        Value::Datetime(_) => "a date",
        Value::Array(_) => "a list in [ ]",
        Value::Table(_) => "a table",
    }
}

/// A value as written, with its kind.
pub fn described(value: &Value) -> String {
    match value {
        Value::String(_) => format!("the text {value}"),
        Value::Integer(_) | Value::Float(_) => format!("the number {value}"),
        Value::Boolean(_) => value.to_string(),
        Value::Datetime(_) => format!("the date {value}"),
        Value::Array(_) => format!("the list {value}"),
        Value::Table(_) => "a table".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_near_key_is_found_and_a_far_one_is_not() {
        let known = ["start", "nodes", "session_timeout_minutes"];
        assert_eq!(nearest("strat", &known), Some("start"));
        assert_eq!(nearest("session_timeout", &known), None);
        assert_eq!(nearest("colour", &known), None);
    }
}
