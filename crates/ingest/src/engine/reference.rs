//! What a line means for a spec, the plain way: the line's
//! `serde_json::Value` tree, looked up by the spec's paths. The engine reads
//! lines the scanner is unsure of this way (serde_json then words the
//! reject), and the differential tests hold the engine to it.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::value::RawValue;
use serde_json::Value;

use crate::engine::{Entry, Kind, Line, Program};
use crate::json::value::Scalar;
use crate::record::fields::json_object;
use crate::record::tags::push_tags;
use crate::rejects::Reject;

/// Reads `line` for `p` into `staged` (fresh).
pub(super) fn read<'a>(p: &Program, line: &'a str, staged: &mut Line<'a>) -> Result<(), Reject> {
    let root: serde_json::Map<String, Value> = json_object(line)?;
    let mut tags: Vec<Option<&Value>> = vec![None; p.tags.len()];
    visit(p, 0, &root, staged, &mut tags, &mut Vec::new(), line);
    if let Some(v) = tags.into_iter().flatten().find(|v| !v.is_null()) {
        push_tags(&mut staged.tags, v, p.list_tag);
    }
    Ok(())
}

fn visit<'v, 'a>(
    p: &Program,
    at: usize,
    object: &'v serde_json::Map<String, Value>,
    staged: &mut Line<'a>,
    tags: &mut [Option<&'v Value>],
    path: &mut Vec<&'v str>,
    line: &'a str,
) {
    for &child in &p.nodes[at].children {
        let node = &p.nodes[child];
        let Some((key, value)) = object.get_key_value(&*node.key) else {
            continue;
        };
        match &node.kind {
            Kind::Leaf(i) => staged.values[*i] = scalar(value),
            Kind::Tags(i) => tags[*i] = Some(value),
            Kind::Text(i) => {
                path.push(key);
                staged.texts[*i] = text_at(line, path);
                path.pop();
            }
            Kind::Entries(i) => {
                let classify = p.classify[*i];
                staged.entries[*i] = match value {
                    Value::String(text) => entries_of_text(text, classify),
                    _ => value.as_object().map(|m| object_entries(m, classify)),
                };
            }
            Kind::Object {
                list_text: Some(i), ..
            } if value.is_array() => {
                path.push(key);
                staged.texts[*i] = text_at(line, path);
                path.pop();
            }
            Kind::Object { mark, .. } => {
                if let Value::Object(inner) = value {
                    if let Some(m) = mark {
                        staged.marks |= 1 << m;
                    }
                    path.push(key);
                    visit(p, child, inner, staged, tags, path, line);
                    path.pop();
                }
            }
        }
    }
}

/// An object's entries, by key.
fn object_entries<'a>(
    m: &serde_json::Map<String, Value>,
    classify: fn(&str) -> u8,
) -> Vec<Entry<'a>> {
    let mut out: Vec<Entry<'a>> = m
        .iter()
        .map(|(k, v)| Entry {
            key: Cow::Owned(k.clone()),
            class: classify(k),
            value: scalar(v),
        })
        .collect();
    out.sort_by(|a, b| a.key.cmp(&b.key));
    out
}

/// The entries of an object written as JSON text in a string (a CSV cell:
/// Langfuse's exported `usageDetails`); `None` for any other text.
pub(crate) fn entries_of_text<'a>(text: &str, classify: fn(&str) -> u8) -> Option<Vec<Entry<'a>>> {
    if text.trim_start().as_bytes().first() != Some(&b'{') {
        return None;
    }
    let m: serde_json::Map<String, Value> = serde_json::from_str(text).ok()?;
    Some(object_entries(&m, classify))
}

/// The exact JSON text at `path` of a line, looked up object by object (the
/// last of a repeated key winning); `None` for `null`.
fn text_at<'a>(line: &'a str, path: &[&str]) -> Option<&'a str> {
    let mut text = line;
    for key in path {
        let map: BTreeMap<Cow<'_, str>, &'a RawValue> = serde_json::from_str(text).ok()?;
        text = map.get(*key)?.get();
    }
    (text != "null").then_some(text)
}

/// A value as the lenient readers see it (see [`Scalar`]).
fn scalar<'a>(v: &Value) -> Scalar<'a> {
    match v {
        Value::Null => Scalar::Null,
        Value::Bool(b) => Scalar::Bool(*b),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => Scalar::U64(u),
            (None, Some(i)) => Scalar::I64(i),
            _ => Scalar::F64(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => Scalar::Str(Cow::Owned(s.clone())),
        Value::Array(_) | Value::Object(_) => Scalar::Container,
    }
}
