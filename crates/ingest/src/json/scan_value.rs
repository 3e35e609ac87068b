//! Scanner helpers for the format readers (Langfuse, Helicone, OTLP JSON,
//! Anthropic batch results), whose serde readers hold some fields as
//! `serde_json::Value` or `BTreeMap`: the same readings, taken with
//! [`Scanner`] without building those values.
//!
//! Each reader keeps its serde path as the reference and fallback, as the
//! gateway reader does: its scanner path reads only the shapes it is sure
//! of and bails ([`Bail`]) on anything else, so serde_json decides (and
//! words) every line it does not accept. What the helpers here mirror:
//!
//! - serde_json's `Map` is a `BTreeMap` (the `preserve_order` feature is
//!   off): its entries iterate sorted by key, and of duplicate keys the last
//!   wins. [`Pairs`] keeps entries that way in a fixed array on the stack
//!   (a longer object bails).
//! - Building a `Value` parses every number in it (an out-of-range one such
//!   as `1e400` is an error), where skipping a value only checks its
//!   grammar: [`check_value`] parses them.
//! - serde-derived structs refuse a field given twice (aliases count as the
//!   same field): [`once`] bails on the second.

use std::borrow::Cow;

use crate::json::scan::{Bail, Scan, Scanner};
use crate::json::value::Scalar;

/// Entries of one object kept on the stack; a larger object bails.
pub(crate) const PAIRS_CAP: usize = 16;

/// An object's entries as a `BTreeMap` (or serde_json's `Map`) holds them:
/// sorted by key, the last of duplicate keys winning. Also used in insertion
/// order for an array's items ([`Pairs::push`]).
pub(crate) struct Pairs<'a, V> {
    len: usize,
    items: [Option<(Cow<'a, str>, V)>; PAIRS_CAP],
}

impl<'a, V> Default for Pairs<'a, V> {
    fn default() -> Self {
        Pairs {
            len: 0,
            items: [const { None }; PAIRS_CAP],
        }
    }
}

impl<'a, V> Pairs<'a, V> {
    /// Inserts in key order; a key already present gets the new value.
    pub(crate) fn insert(&mut self, key: Cow<'a, str>, value: V) -> Scan<()> {
        // Keys in order (the common case) go after the last one.
        let after_last = match self.len.checked_sub(1).map(|i| &self.items[i]) {
            Some(Some((last, _))) => last.as_ref() < key.as_ref(),
            _ => true,
        };
        if after_last {
            return self.push(key, value);
        }
        let mut at = self.len;
        for (i, item) in self.items[..self.len].iter_mut().enumerate() {
            let Some((k, v)) = item else { continue };
            match k.as_ref().cmp(key.as_ref()) {
                std::cmp::Ordering::Less => {}
                std::cmp::Ordering::Equal => {
                    *v = value;
                    return Ok(());
                }
                std::cmp::Ordering::Greater => {
                    at = i;
                    break;
                }
            }
        }
        if self.len == PAIRS_CAP {
            return Err(Bail);
        }
        // `items[len]` is `None`: rotating it to `at` opens the slot.
        self.items[at..=self.len].rotate_right(1);
        self.items[at] = Some((key, value));
        self.len += 1;
        Ok(())
    }

    /// Appends (an array's items, in order).
    pub(crate) fn push(&mut self, key: Cow<'a, str>, value: V) -> Scan<()> {
        if self.len == PAIRS_CAP {
            return Err(Bail);
        }
        self.items[self.len] = Some((key, value));
        self.len += 1;
        Ok(())
    }
    /// The entries, in order.
    #[cfg(test)]
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&Cow<'a, str>, &V)> {
        self.items[..self.len]
            .iter()
            .filter_map(|e| e.as_ref().map(|(k, v)| (k, v)))
    }

    /// Takes the entries out, in order.
    pub(crate) fn drain(&mut self) -> impl Iterator<Item = (Cow<'a, str>, V)> + '_ {
        let len = std::mem::take(&mut self.len);
        self.items[..len].iter_mut().filter_map(Option::take)
    }
}

/// Marks field `bit` as read; bails when it already was (serde-derived
/// structs refuse a duplicate field).
#[inline]
pub(crate) fn once(seen: &mut u64, bit: u32) -> Scan<()> {
    let m = 1u64 << bit;
    if *seen & m != 0 {
        return Err(Bail);
    }
    *seen |= m;
    Ok(())
}

/// Checks and steps over a value as serde_json checks it when it builds a
/// `Value`: besides the grammar, every number is parsed (one out of `f64`'s
/// range is an error there).
pub(crate) fn check_value(s: &mut Scanner<'_>) -> Scan<()> {
    match s.peek()? {
        b'{' => {
            s.begin_object()?;
            let mut first = true;
            while s.next_key(&mut first)?.is_some() {
                check_value(s)?;
            }
            Ok(())
        }
        b'[' => {
            s.begin_array()?;
            let mut first = true;
            while s.next_element(&mut first)? {
                check_value(s)?;
            }
            Ok(())
        }
        b'-' | b'0'..=b'9' => s.number().map(|_| ()),
        _ => s.skip_value(),
    }
}

/// Reads a value the way a field of type `serde_json::Value` would hold
/// it, for the readers that only use its scalars: scalars are parsed,
/// containers checked ([`check_value`]) and reported as
/// [`Scalar::Container`].
pub(crate) fn value_scalar<'a>(s: &mut Scanner<'a>) -> Scan<Scalar<'a>> {
    match s.peek()? {
        b'{' | b'[' => check_value(s).map(|_| Scalar::Container),
        _ => s.scalar(),
    }
}

/// A scalar as `helicone::short_scalar` reads the same `serde_json::Value`:
/// strings, numbers as serde_json prints them, booleans; blank or longer
/// than `max` is `None`.
pub(crate) fn short_text(v: Scalar<'_>, max: usize) -> Option<Cow<'_, str>> {
    let text = match v {
        Scalar::Str(s) => s,
        Scalar::U64(n) => Cow::Owned(n.to_string()),
        Scalar::I64(n) => Cow::Owned(n.to_string()),
        // serde_json prints floats its own way (`1.0`, `1e20`), not as Rust's `Display`.
        Scalar::F64(f) => Cow::Owned(serde_json::Number::from_f64(f)?.to_string()),
        Scalar::Bool(b) => Cow::Borrowed(if b { "true" } else { "false" }),
        Scalar::Null | Scalar::Container => return None,
    };
    (!text.trim().is_empty() && text.len() <= max).then_some(text)
}

/// A field the serde readers hold as `Option<serde_json::Value>` and turn
/// into tags (`helicone::push_tags`): its kind, with the entries or items
/// in a [`Pairs`] beside it (each key with its value's tag text, if any; an
/// array's items have empty keys).
#[derive(Default)]
pub(crate) enum TagValue<'a> {
    /// Missing or `null` (the serde field is `None`).
    #[default]
    Absent,
    Object,
    Array,
    /// A string (which may hold JSON text).
    Text(Cow<'a, str>),
    /// A number or a boolean.
    Other,
}

/// Reads a tag value (see [`TagValue`]) into `pairs` (emptied first); `max`
/// is the longest tag text kept.
pub(crate) fn scan_tag_value<'a>(
    s: &mut Scanner<'a>,
    pairs: &mut Pairs<'a, Option<Cow<'a, str>>>,
    max: usize,
) -> Scan<TagValue<'a>> {
    pairs.drain().for_each(drop);
    match s.peek()? {
        b'{' => {
            s.begin_object()?;
            let mut first = true;
            while let Some(key) = s.next_key(&mut first)? {
                let text = short_text(value_scalar(s)?, max);
                pairs.insert(key, text)?;
            }
            Ok(TagValue::Object)
        }
        b'[' => {
            s.begin_array()?;
            let mut first = true;
            while s.next_element(&mut first)? {
                let text = short_text(value_scalar(s)?, max);
                pairs.push(Cow::Borrowed(""), text)?;
            }
            Ok(TagValue::Array)
        }
        _ => Ok(match s.scalar()? {
            Scalar::Null => TagValue::Absent,
            Scalar::Str(t) => TagValue::Text(t),
            _ => TagValue::Other,
        }),
    }
}

/// The keys of the last object read at one place (a line's top level, a
/// usage or tag object), in order, each as the exact bytes that led to it
/// (the comma before it, its quotes, the colon) with what it means (`T`):
/// exports repeat the same keys in the same order line after line, so
/// checking that the next bytes equal the key expected at this position (or
/// the next one, when a line lacks an optional key) replaces reading the key
/// and looking it up. A miss reads the key as usual and learns it. Only keys
/// without escapes are learned, so a hit yields the key's own text.
pub(crate) struct KeyShape<T> {
    keys: Vec<ShapeKey<T>>,
}

impl<T> Default for KeyShape<T> {
    fn default() -> Self {
        KeyShape { keys: Vec::new() }
    }
}

#[derive(Clone, Copy)]
struct ShapeKey<T> {
    raw: [u8; SHAPE_KEY_BYTES],
    len: u8,
    /// Whether the key came first in its object (then there is no comma).
    first: bool,
    /// The key's text within `raw`.
    key: (u8, u8),
    meaning: T,
}

/// Longer keys (with the bytes around them) are read the ordinary way.
const SHAPE_KEY_BYTES: usize = 40;

/// Where a predicted key's text is in the line (byte offsets): a reader
/// that never needs the text does not slice it.
#[derive(Clone, Copy)]
pub(crate) struct KeySpan(pub(crate) usize, pub(crate) usize);

impl<T: Copy> KeyShape<T> {
    /// The key at `slot` (or the next one) if the line continues with it
    /// (eaten); its meaning, the slot it was found at and where its text is.
    // Always: the gateway reader's two `scan_map`s (see `TopKeys`) would
    // otherwise call it, on every key of every line.
    #[inline(always)]
    pub(crate) fn predict(
        &self,
        s: &mut Scanner<'_>,
        slot: usize,
        first: bool,
    ) -> Option<(T, usize, KeySpan)> {
        for at in [slot, slot + 1] {
            let k = self.keys.get(at)?;
            if k.first != first {
                continue;
            }
            if let Some(start) = s.eat(&k.raw[..k.len as usize]) {
                let span = KeySpan(start + k.key.0 as usize, start + k.key.1 as usize);
                return Some((k.meaning, at, span));
            }
        }
        None
    }

    /// [`Scanner::next_key`] with the key's meaning (`classify` of it, or
    /// the prediction's). `slot` counts the object's keys so far (start at 0).
    #[inline]
    pub(crate) fn next_key<'a>(
        &mut self,
        s: &mut Scanner<'a>,
        first: &mut bool,
        slot: &mut usize,
        classify: impl FnOnce(&str) -> T,
    ) -> Scan<Option<(Cow<'a, str>, T)>> {
        if let Some((meaning, at, KeySpan(a, b))) = self.predict(s, *slot, *first) {
            *first = false;
            *slot = at + 1;
            return Ok(Some((Cow::Borrowed(s.slice(a, b)), meaning)));
        }
        let start = s.pos();
        let was_first = *first;
        let Some(key) = s.next_key(first)? else {
            return Ok(None);
        };
        let meaning = classify(&key);
        if let Cow::Borrowed(text) = &key {
            self.learn(*slot, s.since(start), text, meaning, was_first);
        }
        *slot += 1;
        Ok(Some((key, meaning)))
    }

    /// Remembers the key just read at `slot` from the bytes `raw` that led
    /// to it (`first`: it opened its object). `text` is the key as it
    /// borrows from the line (a key with escapes is not learned).
    pub(crate) fn learn(&mut self, slot: usize, raw: &str, text: &str, meaning: T, first: bool) {
        if raw.len() > SHAPE_KEY_BYTES || slot > self.keys.len() {
            return;
        }
        // The key borrows from the line, inside `raw`.
        let off = (text.as_ptr() as usize).wrapping_sub(raw.as_ptr() as usize);
        if off > raw.len() || off + text.len() > raw.len() {
            return;
        }
        let mut k = ShapeKey {
            raw: [0; SHAPE_KEY_BYTES],
            len: raw.len() as u8,
            first,
            key: (off as u8, (off + text.len()) as u8),
            meaning,
        };
        k.raw[..raw.len()].copy_from_slice(raw.as_bytes());
        if slot == self.keys.len() {
            self.keys.push(k);
        } else {
            self.keys[slot] = k;
        }
    }

    /// Forgets every key.
    pub(crate) fn clear(&mut self) {
        self.keys.clear();
    }
}

/// Lines derived from each of `lines` for differential tests: every prefix,
/// and each byte replaced by or preceded by a few JSON-significant ones.
#[cfg(test)]
pub(crate) fn broken_variants(lines: &[&str]) -> Vec<String> {
    let subs = [
        "\"", "\\", "{", "}", "[", "]", ",", ":", "0", "-", "e", ".", " ", "n", "\u{1}", "x",
        "\\u", "1",
    ];
    let mut out = Vec::new();
    for line in lines {
        for cut in 0..line.len() {
            if let Some(prefix) = line.get(..cut) {
                out.push(prefix.to_string());
            }
        }
        for i in 0..line.len() {
            for sub in subs {
                for end in [i, i + 1] {
                    if let (Some(a), Some(b)) = (line.get(..i), line.get(end..)) {
                        out.push(format!("{a}{sub}{b}"));
                    }
                }
            }
        }
    }
    out
}

/// A differential test's check of one line: whether the scanner path
/// (`fast`) accepted it; when it did, its result must print exactly as the
/// serde reference's (records and rejects, reasons and messages).
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn agrees<F: std::fmt::Debug, S: std::fmt::Debug>(
    line: &str,
    fast: crate::json::scan::Scan<F>,
    slow: S,
) -> bool {
    match fast {
        Ok(fast) => {
            assert_eq!(format!("{fast:?}"), format!("{slow:?}"), "{line}");
            true
        }
        Err(crate::json::scan::Bail) => false,
    }
}

/// Checks that `agree` takes the fast path on every line of the fixture
/// `files` (see [`fixture_lines`]); returns how many lines there were.
#[cfg(test)]
pub(crate) fn fixtures_read_fast(files: &[&str], agree: impl Fn(&str) -> bool) -> usize {
    let mut n = 0;
    for file in files {
        for line in fixture_lines(file) {
            assert!(agree(&line), "the fast path bailed on {file}: {line}");
            n += 1;
        }
    }
    n
}

/// The JSON lines the readers see for a fixture file: plain JSON lines as
/// they are, JSON documents and CSV through the container readers.
#[cfg(test)]
pub(crate) fn fixture_lines(relative: &str) -> Vec<String> {
    use std::io::Read;
    let path = format!(
        "{}/../../tests/fixtures/formats/{relative}",
        env!("CARGO_MANIFEST_DIR")
    );
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut text = String::new();
    if relative.ends_with(".csv") {
        crate::source::container::CsvRecords::new(&bytes[..])
            .read_to_string(&mut text)
            .unwrap();
    } else if crate::source::container::is_json_documents(&bytes) {
        crate::source::container::JsonRecords::new(&bytes[..])
            .read_to_string(&mut text)
            .unwrap();
    } else {
        text = String::from_utf8(bytes).unwrap();
    }
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn pairs_iterate_like_a_btreemap() {
        let keys = ["m", "a", "z", "a", "b", "m", "", "é", "B"];
        let mut pairs = Pairs::default();
        let mut map = BTreeMap::new();
        for (i, k) in keys.iter().enumerate() {
            pairs.insert(Cow::Borrowed(*k), i).unwrap();
            map.insert(*k, i);
        }
        let got: Vec<(&str, usize)> = pairs.iter().map(|(k, v)| (k.as_ref(), *v)).collect();
        let want: Vec<(&str, usize)> = map.into_iter().collect();
        assert_eq!(got, want);
        assert_eq!(
            got,
            vec![
                ("", 6),
                ("B", 8),
                ("a", 3),
                ("b", 4),
                ("m", 5),
                ("z", 2),
                ("é", 7)
            ]
        );
        let drained: Vec<usize> = pairs.drain().map(|(_, v)| v).collect();
        assert_eq!(drained, vec![6, 8, 3, 4, 5, 2, 7]);
        assert_eq!(pairs.iter().count(), 0);
    }

    #[test]
    fn pairs_bail_when_full_but_take_duplicates() {
        let mut pairs = Pairs::default();
        let names: Vec<String> = (0..PAIRS_CAP).map(|i| format!("k{i:02}")).collect();
        for n in &names {
            pairs.insert(Cow::Borrowed(n.as_str()), 0).unwrap();
        }
        assert_eq!(pairs.insert(Cow::Borrowed("k03"), 1), Ok(()));
        assert_eq!(pairs.insert(Cow::Borrowed("new"), 1), Err(Bail));
        assert_eq!(pairs.push(Cow::Borrowed("new"), 1), Err(Bail));
    }

    #[test]
    fn check_value_parses_numbers_like_a_serde_value() {
        for (json, ok) in [
            (r#"{"a":[1,-2,3.5,{"b":1e400}]}"#, false),
            (r#"{"a":[1,-2,3.5,{"b":1e300}],"a":"\u00e9"}"#, true),
            (r#"[1e400]"#, false),
            (r#""\ud800""#, false),
        ] {
            let mut s = Scanner::new(json);
            let scanned = check_value(&mut s).is_ok() && s.at_end();
            assert_eq!(scanned, ok, "{json}");
            assert_eq!(
                serde_json::from_str::<serde_json::Value>(json).is_ok(),
                ok,
                "{json}"
            );
            // Skipping alone would accept the out-of-range number.
            let mut s = Scanner::new(json);
            if json.contains("1e400") {
                assert!(s.skip_value().is_ok());
            }
        }
    }

    #[test]
    fn short_text_prints_numbers_as_serde_json_does() {
        for json in [
            "1", "-7", "1.0", "1e20", "0.1", "-0", "2.5e-8", "true", "\"x\"",
        ] {
            let mut s = Scanner::new(json);
            let got = short_text(s.scalar().unwrap(), 100);
            let want = match serde_json::from_str::<serde_json::Value>(json).unwrap() {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            assert_eq!(got.as_deref(), Some(want.as_str()), "{json}");
        }
        assert_eq!(short_text(Scalar::Str(Cow::Borrowed("  ")), 100), None);
        assert_eq!(short_text(Scalar::Str(Cow::Borrowed("abc")), 2), None);
        assert_eq!(short_text(Scalar::Null, 100), None);
        assert_eq!(short_text(Scalar::Container, 100), None);
    }
}
