//! Which keys a config file may hold, and what a mistyped one was meant to
//! be. Every unknown key is reported at once, with the nearest known key
//! ("did you mean listen?"), and taken out so the rest of the file is still
//! checked. The known keys come from the config's own types (what serde asks
//! for when it reads each table), so this list can never drift from them.

use serde::de::{self, Deserialize, Deserializer, Visitor};

use super::ConfigProblem;

/// The field names `T` reads from a table (a struct's, by serde's derive).
pub fn fields_of<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    let mut probe = FieldProbe(&[]);
    let _ = T::deserialize(&mut probe);
    probe.0
}

/// A deserializer that only learns which fields a struct asks for.
struct FieldProbe(&'static [&'static str]);

#[derive(Debug)]
struct Probed;

impl std::fmt::Display for Probed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("probed")
    }
}

impl std::error::Error for Probed {}

impl de::Error for Probed {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Probed
    }
}

impl<'de> Deserializer<'de> for &mut FieldProbe {
    type Error = Probed;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Probed> {
        Err(Probed)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Probed> {
        self.0 = fields;
        Err(Probed)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}

/// Takes every key out of `table` that is not in `top` (the file's tables and
/// keys) or, inside a table of `sections`, not among that table's keys; says
/// what each was, and what it was probably meant to be.
pub fn take_unknown(
    table: &mut toml::Table,
    top: &[&str],
    sections: &[(&str, &'static [&'static str])],
) -> Vec<ConfigProblem> {
    let mut problems = unknown_in(table, top, None);
    for (name, fields) in sections {
        if let Some(toml::Value::Table(section)) = table.get_mut(*name) {
            problems.extend(unknown_in(section, fields, Some(name)));
        }
    }
    problems
}

fn unknown_in(table: &mut toml::Table, known: &[&str], section: Option<&str>) -> Vec<ConfigProblem> {
    let unknown: Vec<String> = table.keys().filter(|k| !known.contains(&k.as_str())).cloned().collect();
    unknown
        .into_iter()
        .map(|key| {
            let is_table = matches!(table.remove(&key), Some(toml::Value::Table(_)));
            let shown = match (section, is_table) {
                (Some(section), _) => format!("[{section}] {key}"),
                (None, true) => format!("[{key}]"),
                (None, false) => key.clone(),
            };
            let hint = match nearest(&key, known) {
                Some(near) => format!("did you mean {near}? "),
                None => String::new(),
            };
            let place = section.map_or("the file".to_string(), |s| format!("[{s}]"));
            ConfigProblem {
                key: shown,
                message: format!(
                    "is not a setting of {place}; {hint}the settings there are: {}",
                    known.join(", ")
                ),
            }
        })
        .collect()
}

/// The known key most like `key`, if one is close enough to be a typo.
fn nearest<'a>(key: &str, known: &[&'a str]) -> Option<&'a str> {
    let key = key.to_ascii_lowercase();
    known
        .iter()
        .map(|k| (strsim::jaro_winkler(&key, k), *k))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Sample {
        listen: String,
        public_base_url: Option<String>,
    }

    #[test]
    fn the_fields_come_from_the_type() {
        assert_eq!(fields_of::<Sample>(), ["listen", "public_base_url"]);
    }

    #[test]
    fn each_unknown_key_is_taken_out_and_named_with_its_nearest_known_one() {
        let mut table: toml::Table =
            toml::from_str("colour = 1\n[server]\nlisen = 1\nlisten = 2\nzzz = 3\n[nonsense]\n").unwrap();
        let problems = take_unknown(&mut table, &["server"], &[("server", &["listen", "public_base_url"])]);
        let shown: Vec<String> = problems.iter().map(|p| format!("{}: {}", p.key, p.message)).collect();
        assert_eq!(shown.len(), 4, "{shown:#?}");
        assert!(
            shown
                .iter()
                .any(|p| p.starts_with("[server] lisen: is not a setting of [server]; did you mean listen?")),
            "{shown:#?}"
        );
        assert!(
            shown.iter().any(|p| p.starts_with(
                "[server] zzz: is not a setting of [server]; the settings there are: listen, public_base_url"
            )),
            "{shown:#?}"
        );
        assert!(
            shown
                .iter()
                .any(|p| p.starts_with("[nonsense]: is not a setting of the file")),
            "{shown:#?}"
        );
        assert!(shown.iter().any(|p| p.starts_with("colour: ")), "{shown:#?}");
        assert_eq!(toml::to_string(&table).unwrap(), "[server]\nlisten = 2\n");
    }
}
