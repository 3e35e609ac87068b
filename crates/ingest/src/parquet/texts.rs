//! The JSON text of each row of a column, for the readers that keep a
//! value's raw JSON (prompts: `messages`, `prompt`, `system`): written
//! straight from the Arrow arrays into one buffer per batch, with no
//! `serde_json::Value` per row.
//!
//! The text is the one `serde_json` writes of the row's JSON form
//! ([`to_json`]): keys sorted, null values left out of objects and kept in
//! arrays, strings and numbers as `serde_json` writes them (it writes every
//! scalar here). A shape the writer does not follow (a map, a fixed-size
//! list, a struct with a field name twice) goes through the JSON form.

use arrow_array::cast::AsArray;
use arrow_array::Array;
use arrow_buffer::NullBuffer;
use arrow_schema::DataType;

use crate::parquet::{is_binary, to_json, Cell, Values};
use crate::record::fields::Scalar;

/// The JSON text of each row of one column; `None` for a null.
pub(crate) struct Texts {
    text: String,
    rows: Vec<Option<(usize, usize)>>,
}

impl Texts {
    /// Row `row`'s JSON text, `None` for a null.
    pub(crate) fn get(&self, row: usize) -> Option<&str> {
        let (start, end) = self.rows.get(row).copied().flatten()?;
        Some(&self.text[start..end])
    }

    /// The texts of `array`'s rows (nested in structs of validity `parents`).
    pub(crate) fn new(array: &dyn Array, parents: Option<&NullBuffer>) -> Texts {
        let mut out = Vec::new();
        let rows = match Writer::new(array, parents) {
            Some(w) => (0..array.len())
                .map(|i| {
                    let start = out.len();
                    let written = w.write(i, &mut out);
                    written.then_some((start, out.len()))
                })
                .collect(),
            None => match to_json(array, parents) {
                Ok(values) => values
                    .iter()
                    .map(|v| {
                        let start = out.len();
                        (!v.is_null()).then(|| {
                            serde_json::to_writer(&mut out, v).expect("a JSON value serializes");
                            (start, out.len())
                        })
                    })
                    .collect(),
                Err(_) => vec![None; array.len()],
            },
        };
        Texts {
            text: String::from_utf8(out).expect("JSON text is UTF-8"),
            rows,
        }
    }
}

/// A column's shape, downcast once: scalars, structs and lists.
enum Writer<'a> {
    Scalar(Values<'a>),
    /// Fields sorted by name, as a JSON object's keys are.
    Struct {
        fields: Vec<(&'a str, Writer<'a>)>,
        nulls: Option<NullBuffer>,
    },
    List {
        offsets: Vec<usize>,
        items: Box<Writer<'a>>,
        nulls: Option<NullBuffer>,
    },
}

impl<'a> Writer<'a> {
    fn new(array: &'a dyn Array, parents: Option<&NullBuffer>) -> Option<Writer<'a>> {
        let nulls = NullBuffer::union(parents, array.logical_nulls().as_ref());
        let list = |offsets: Vec<usize>, items: &'a dyn Array, nulls| {
            Some(Writer::List {
                offsets,
                items: Box::new(Writer::new(items, None)?),
                nulls,
            })
        };
        match array.data_type() {
            DataType::Struct(_) => {
                let s = array.as_struct();
                let mut fields = Vec::new();
                for (field, child) in s.fields().iter().zip(s.columns()) {
                    if !is_binary(field.data_type()) {
                        let child = Writer::new(child.as_ref(), nulls.as_ref())?;
                        fields.push((field.name().as_str(), child));
                    }
                }
                fields.sort_by(|a, b| a.0.cmp(b.0));
                if fields.windows(2).any(|w| w[0].0 == w[1].0) {
                    return None;
                }
                Some(Writer::Struct { fields, nulls })
            }
            DataType::List(_) => {
                let l = array.as_list::<i32>();
                let offsets = l.offsets().iter().map(|&o| o as usize).collect();
                list(offsets, l.values().as_ref(), nulls)
            }
            DataType::LargeList(_) => {
                let l = array.as_list::<i64>();
                let offsets = l.offsets().iter().map(|&o| o as usize).collect();
                list(offsets, l.values().as_ref(), nulls)
            }
            DataType::FixedSizeList(_, _) | DataType::Map(_, _) => None,
            _ => Values::new(array, parents).ok().map(Writer::Scalar),
        }
    }

    /// Writes row `i`'s JSON text; false (and nothing written) for a null.
    fn write(&self, i: usize, out: &mut Vec<u8>) -> bool {
        let valid = |nulls: &Option<NullBuffer>| nulls.as_ref().is_none_or(|n| n.is_valid(i));
        match self {
            Writer::Scalar(values) => match values.get(i) {
                None => false,
                Some(Cell::Scalar(Scalar::Str(s))) => {
                    serde_json::to_writer(out, s.as_ref()).expect("a string serializes");
                    true
                }
                Some(cell) => {
                    let v = cell.into_json();
                    if v.is_null() {
                        return false;
                    }
                    serde_json::to_writer(out, &v).expect("a JSON value serializes");
                    true
                }
            },
            Writer::Struct { fields, nulls } => {
                if !valid(nulls) {
                    return false;
                }
                out.push(b'{');
                let mut first = true;
                for (name, field) in fields {
                    let mark = out.len();
                    if !first {
                        out.push(b',');
                    }
                    serde_json::to_writer(&mut *out, name).expect("a string serializes");
                    out.push(b':');
                    if field.write(i, out) {
                        first = false;
                    } else {
                        out.truncate(mark);
                    }
                }
                out.push(b'}');
                true
            }
            Writer::List {
                offsets,
                items,
                nulls,
            } => {
                if !valid(nulls) {
                    return false;
                }
                out.push(b'[');
                for j in offsets[i]..offsets[i + 1] {
                    if j > offsets[i] {
                        out.push(b',');
                    }
                    if !items.write(j, out) {
                        out.extend_from_slice(b"null");
                    }
                }
                out.push(b']');
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::builder::{
        Float64Builder, LargeListBuilder, ListBuilder, MapBuilder, StringBuilder, StructBuilder,
    };
    use arrow_array::{ArrayRef, StringArray};
    use arrow_schema::{Field, Fields};

    use super::*;

    /// Each row's text, and the text `serde_json` makes of its JSON form.
    fn both(array: &ArrayRef) -> (Vec<Option<String>>, Vec<Option<String>>) {
        let texts = Texts::new(array.as_ref(), None);
        let got = (0..array.len())
            .map(|i| texts.get(i).map(str::to_string))
            .collect();
        let want = to_json(array.as_ref(), None)
            .unwrap()
            .into_iter()
            .map(|v| (!v.is_null()).then(|| v.to_string()))
            .collect();
        (got, want)
    }

    fn messages() -> ArrayRef {
        let fields = Fields::from(vec![
            Field::new("role", DataType::Utf8, true),
            Field::new("content", DataType::Utf8, true),
            Field::new("weight", DataType::Float64, true),
        ]);
        let mut list = ListBuilder::new(StructBuilder::from_fields(fields, 0));
        let message = |l: &mut ListBuilder<StructBuilder>,
                       role: Option<&str>,
                       content: Option<&str>,
                       weight: Option<f64>| {
            let s = l.values();
            s.field_builder::<StringBuilder>(0)
                .unwrap()
                .append_option(role);
            s.field_builder::<StringBuilder>(1)
                .unwrap()
                .append_option(content);
            s.field_builder::<Float64Builder>(2)
                .unwrap()
                .append_option(weight);
            s.append(true);
        };
        message(&mut list, Some("system"), Some("Be \"brief\"\n\tok"), None);
        message(&mut list, Some("user"), Some("héllo \u{1} \\ /"), Some(0.1));
        list.append(true);
        list.append(false); // a null list
        list.append(true); // an empty one
        message(&mut list, None, None, Some(1e300));
        message(&mut list, Some("user"), Some(""), Some(f64::NAN));
        list.append(true);
        Arc::new(list.finish())
    }

    #[test]
    fn lists_of_structs_are_written_as_serde_json_writes_them() {
        let (got, want) = both(&messages());
        assert_eq!(got, want);
        assert_eq!(
            got[0].as_deref(),
            Some(
                r#"[{"content":"Be \"brief\"\n\tok","role":"system"},{"content":"héllo \u0001 \\ /","role":"user","weight":0.1}]"#
            )
        );
        assert_eq!(got[1], None);
        assert_eq!(got[2].as_deref(), Some("[]"));
        assert_eq!(
            got[3].as_deref(),
            Some(r#"[{"weight":1e+300},{"content":"","role":"user","weight":"NaN"}]"#)
        );
    }

    #[test]
    fn strings_large_lists_and_maps() {
        let text: ArrayRef = Arc::new(StringArray::from(vec![Some("a\"b"), None, Some("")]));
        let (got, want) = both(&text);
        assert_eq!(got, want);
        assert_eq!(
            got,
            vec![Some(r#""a\"b""#.into()), None, Some(r#""""#.into())]
        );

        let mut large = LargeListBuilder::new(StringBuilder::new());
        large.append_value([Some("x"), None]);
        large.append_null();
        let large: ArrayRef = Arc::new(large.finish());
        let (got, want) = both(&large);
        assert_eq!(got, want);
        assert_eq!(got, vec![Some(r#"["x",null]"#.into()), None]);

        // A map goes through the JSON form: a later duplicate key wins.
        let mut map = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
        map.keys().append_value("b");
        map.values().append_value("1");
        map.keys().append_value("a");
        map.values().append_value("2");
        map.keys().append_value("b");
        map.values().append_value("3");
        map.append(true).unwrap();
        let map: ArrayRef = Arc::new(map.finish());
        let (got, want) = both(&map);
        assert_eq!(got, want);
        assert_eq!(got, vec![Some(r#"{"a":"2","b":"3"}"#.into())]);
    }
}
