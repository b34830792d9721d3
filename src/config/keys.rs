//! The config file's keys as an operator meets them: which sections and keys
//! there are (read from the raw structs' own field lists, so they cannot
//! drift), the example `config.example.toml` gives each, and the one-line
//! problems for a key that is not one ("did you mean …?") and for a value of
//! the wrong kind ("write it like …"). Both kinds of key are taken out of the
//! parsed file before it is read into the raw structs, so one mistyped key
//! never hides the other problems.

use serde::de::{Deserialize, Deserializer, Visitor};
use serde_path_to_error::Segment;
use toml::{Table, Value};

/// The example config shipped at the repository's root: it documents every key.
const EXAMPLE_CONFIG: &str = include_str!("../../config.example.toml");

/// A typo this far (edits, a swap of two letters counting as one) from a key
/// is taken for it: one edit for short keys, a third of the key for long ones.
fn close_enough(written: &str, known: &str) -> bool {
    let distance = strsim::damerau_levenshtein(written, known);
    distance <= (known.chars().count() / 3).max(1)
}

/// The field names a struct deserializes, as serde's derive declares them.
pub(super) fn fields_of<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
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

/// The config file's layout: its sections, and the keys each takes.
pub(super) struct Layout {
    /// The sections (the top-level keys).
    pub sections: &'static [&'static str],
    /// The keys of a section.
    pub keys: fn(&str) -> &'static [&'static str],
}

/// One problem found while reading the file: the key as the operator writes
/// it (`[shop] colour`) and what to do.
pub(super) type KeyProblem = (String, String);

impl Layout {
    /// Takes every key the config does not know out of `table`, each with its
    /// problem. A section that is not a table is left for the type check.
    pub fn take_unknown(&self, table: &mut Table) -> Vec<KeyProblem> {
        let mut problems = Vec::new();
        let unknown: Vec<String> = table
            .keys()
            .filter(|name| !self.sections.contains(&name.as_str()))
            .cloned()
            .collect();
        for name in unknown {
            let is_section = table.remove(&name).is_some_and(|value| value.is_table());
            problems.push(self.unknown_top_level(&name, is_section));
        }
        for (section, value) in table.iter_mut() {
            let Some(keys) = value.as_table_mut() else {
                continue;
            };
            let known = (self.keys)(section);
            let unknown: Vec<String> = keys
                .keys()
                .filter(|key| !known.contains(&key.as_str()))
                .cloned()
                .collect();
            for key in unknown {
                keys.remove(&key);
                problems.push(self.unknown_key(section, &key));
            }
        }
        problems
    }

    /// `[section] key` is not a key of that section.
    fn unknown_key(&self, section: &str, key: &str) -> KeyProblem {
        let known = (self.keys)(section);
        let message = if let Some(home) = self.section_with(key) {
            format!(
                "is not a key of [{section}]; did you mean [{home}] {key}? Move it under [{home}], like {}",
                example_line(home, key)
            )
        } else if let Some(near) = nearest(key, known) {
            format!(
                "unknown key; did you mean {near}? Write it like {}",
                example_line(section, near)
            )
        } else {
            format!("unknown key; the keys of [{section}] are {}", known.join(", "))
        };
        (format!("[{section}] {key}"), message)
    }

    /// `name` at the top of the file is not a section.
    fn unknown_top_level(&self, name: &str, is_section: bool) -> KeyProblem {
        let shown = if is_section {
            format!("[{name}]")
        } else {
            name.to_string()
        };
        let sections = self
            .sections
            .iter()
            .map(|s| format!("[{s}]"))
            .collect::<Vec<_>>()
            .join(", ");
        let message = match (nearest(name, self.sections), self.section_with(name)) {
            (Some(near), _) if is_section => format!("unknown section; did you mean [{near}]?"),
            (_, Some(home)) if !is_section => format!(
                "is outside every section; did you mean [{home}] {name}? Write it under [{home}], like {}",
                example_line(home, name)
            ),
            _ if is_section => format!("unknown section; the sections are {sections}"),
            _ => format!("unknown key; every key goes under one of the sections {sections}"),
        };
        (shown, message)
    }

    /// The section that has `key`, if one does.
    fn section_with(&self, key: &str) -> Option<&'static str> {
        self.sections
            .iter()
            .copied()
            .find(|section| (self.keys)(section).contains(&key))
    }
}

/// The known name `written` is most likely a typo of.
fn nearest<'a>(written: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .copied()
        .filter(|name| close_enough(written, name))
        .min_by_key(|name| strsim::damerau_levenshtein(written, name))
}

/// The value `config.example.toml` gives `key` in `[section]`, commented out
/// or not.
pub(super) fn example_value(section: &str, key: &str) -> Option<Value> {
    let mut current = "";
    for line in EXAMPLE_CONFIG.lines() {
        let line = line.trim_start_matches('#').trim();
        if let Some(name) = line.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')) {
            current = name;
            continue;
        }
        let assigns_key = line
            .strip_prefix(key)
            .is_some_and(|rest| rest.trim_start().starts_with('='));
        if current == section && assigns_key {
            if let Some(value) = line.parse::<Table>().ok().and_then(|mut t| t.remove(key)) {
                return Some(value);
            }
        }
    }
    None
}

/// `key = value` as in the example config, or the section to look in.
fn example_line(section: &str, key: &str) -> String {
    match example_value(section, key) {
        Some(value) => format!("{key} = {value}"),
        None => format!("{key} = … (see [{section}] in config.example.toml)"),
    }
}

/// Takes the value serde could not read (at `path`) out of `table`, with its
/// problem; `None` when the path leads to nothing that can be taken out.
pub(super) fn take_wrong_kind(table: &mut Table, path: &serde_path_to_error::Path, detail: &str) -> Option<KeyProblem> {
    let mut segments = path.iter();
    let Some(Segment::Map { key: section }) = segments.next() else {
        return None;
    };
    let Some(Segment::Map { key }) = segments.next() else {
        let written = table.remove(section)?;
        let message = format!(
            "must be a section ([{section}] on a line of its own, its keys below it), not {}",
            described(&written)
        );
        return Some((format!("[{section}]"), message));
    };
    let written = table.get_mut(section)?.as_table_mut()?.remove(key)?;
    let inner: Vec<&Segment> = segments.collect();
    let message = match example_value(section, key) {
        Some(example) => {
            let like = format!("write it like {key} = {example}");
            match (element(&written, &inner), element(&example, &inner)) {
                (Some(bad), Some(good)) if kind(bad) != kind(good) => {
                    format!("{like} ({}, not {})", kind(good), described(bad))
                }
                _ => format!("{like} ({detail})"),
            }
        }
        None => detail.to_string(),
    };
    Some((format!("[{section}] {key}"), message))
}

/// The part of `value` that `path` leads to (for an example, its first item
/// or entry when it has not that many).
fn element<'a>(value: &'a Value, path: &[&Segment]) -> Option<&'a Value> {
    path.iter().try_fold(value, |value, segment| match (segment, value) {
        (Segment::Seq { index }, Value::Array(items)) => items.get(*index).or(items.first()),
        (Segment::Map { key }, Value::Table(entries)) => entries.get(key).or(entries.values().next()),
        _ => None,
    })
}

/// What kind of value a key takes, as the operator writes it.
fn kind(value: &Value) -> &'static str {
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
fn described(value: &Value) -> String {
    match value {
        Value::String(_) => format!("the text {value}"),
        Value::Integer(_) | Value::Float(_) => format!("the number {value}"),
        Value::Boolean(_) => value.to_string(),
        Value::Datetime(_) => format!("the date {value}"),
        Value::Array(_) => format!("the list {value}"),
        Value::Table(_) => "a table".to_string(),
    }
}
