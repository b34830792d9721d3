//! Reading a menu file's `[nodes]`, where a node's `kind` may be left out.
//!
//! PRODUCT.md's "Languages" example writes a menu node as `text` and
//! `options` only. A node without `kind` that has `options` is a menu; one
//! without either is refused, naming the node and the fix. Each node is read
//! as a table first, so an error inside it still points at the node's line
//! (the same span serde's tagged enum gave before).

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, Error as _, MapAccess, Visitor};
use serde::Deserialize;
use toml::{Table, Value};

use super::Node;

/// The kinds a node may have (the `kind` values of [`Node`]).
pub(super) const KINDS: &[&str] = &["menu", "form", "list", "lookup", "info", "handoff"];

/// `deserialize_with` for `RawMenu::nodes`.
pub(super) fn nodes<'de, D: Deserializer<'de>>(deserializer: D) -> Result<BTreeMap<String, Node>, D::Error> {
    deserializer.deserialize_map(NodesVisitor)
}

/// The `kind` a node gets when it does not say: `menu` when it has
/// `options`, else an error that names the node and the fix.
fn infer_kind(name: &str, node: &mut Table) -> Result<(), String> {
    if node.contains_key("kind") {
        return Ok(());
    }
    if node.contains_key("options") {
        node.insert("kind".into(), Value::String("menu".into()));
        return Ok(());
    }
    Err(format!("node `{name}` {}", missing_kind(name)))
}

/// What to say of node `name`, which has neither `kind` nor `options`.
pub(super) fn missing_kind(name: &str) -> String {
    format!(
        "has no `kind`: add a line like `kind = \"info\"` under [nodes.{name}] \
         (the kinds: {}), or give it `options` to make it a menu",
        KINDS.join(", ")
    )
}

struct NodesVisitor;

impl<'de> Visitor<'de> for NodesVisitor {
    type Value = BTreeMap<String, Node>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a table of nodes, one per name")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut nodes = BTreeMap::new();
        while let Some(name) = map.next_key::<String>()? {
            let node = map.next_value_seed(NamedNode(&name))?;
            nodes.insert(name, node);
        }
        Ok(nodes)
    }
}

/// One node, read knowing its name (so an error inside it stays at its span).
struct NamedNode<'a>(&'a str);

impl<'de> DeserializeSeed<'de> for NamedNode<'_> {
    type Value = Node;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        let mut table = Table::deserialize(deserializer)?;
        infer_kind(self.0, &mut table).map_err(D::Error::custom)?;
        Node::deserialize(Value::Table(table)).map_err(|e| D::Error::custom(e.message()))
    }
}
