//! The config file's keys as an operator meets them: which sections and keys
//! there are (read from the raw structs' own field lists, so they cannot
//! drift), the example `config.example.toml` gives each, and the one-line
//! problems for a key that is not one ("did you mean …?") and for a value of
//! the wrong kind ("write it like …"). Both kinds of key are taken out of the
//! parsed file before it is read into the raw structs, so one mistyped key
//! never hides the other problems.

use serde_path_to_error::Segment;
use toml::{Table, Value};

pub(super) use crate::did_you_mean::fields_of;
use crate::did_you_mean::{described, kind, nearest};

/// The example config shipped at the repository's root: it documents every key.
const EXAMPLE_CONFIG: &str = include_str!("../../config.example.toml");

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
