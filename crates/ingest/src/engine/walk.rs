//! The engine's pass over a line (see [the module docs](super)): one
//! scanner walk, descending only into objects some path goes through.

use std::borrow::Cow;
use std::cell::RefCell;

use crate::engine::{fresh_entries, Entries, Entry, Kind, Line, Program};
use crate::json::scan::{Bail, Scan, Scanner};
use crate::json::scan_value::{scan_tag_value, KeyShape, Pairs, TagValue};
use crate::json::value::Scalar;
use crate::record::tags::{push_tag_value, MAX_TAG_VALUE};

thread_local! {
    /// Each worker thread's key predictions, one per object of every
    /// program (see [`Program::shapes`]).
    static SHAPES: RefCell<Vec<KeyShape<Option<usize>>>> = RefCell::default();
}

/// What the walk has read so far.
struct Walk<'l, 'a> {
    line: &'l mut Line<'a>,
    /// The tag path that wins so far (the first of the spec's that holds
    /// something), with what it held and an object's or list's entries.
    tag_at: Option<usize>,
    tag: TagValue<'a>,
    pairs: Pairs<'a, Option<Cow<'a, str>>>,
}

/// Reads `line` for `p` into `staged` (fresh), or gives up.
pub(super) fn read<'a>(p: &Program, line: &'a str, staged: &mut Line<'a>) -> Scan<()> {
    let mut s = Scanner::new(line);
    let mut w = Walk {
        line: staged,
        tag_at: None,
        tag: TagValue::Absent,
        pairs: Pairs::default(),
    };
    SHAPES.with(|cell| {
        // Another walk on this thread's stack (none today) predicts nothing.
        let mut own = Vec::new();
        let mut shared = cell.try_borrow_mut();
        let shapes = shared.as_deref_mut().unwrap_or(&mut own);
        let needed = p.shapes + p.nodes.len();
        if shapes.len() < needed {
            shapes.resize_with(needed, KeyShape::default);
        }
        object(p, 0, &mut s, &mut w, shapes)
    })?;
    if !s.at_end() {
        return Err(Bail);
    }
    if w.tag_at.is_some() {
        push_tag_value(&mut w.line.tags, w.tag, &mut w.pairs, p.list_tag);
    }
    Ok(())
}

/// Reads the object at the cursor as node `at` of `p`.
fn object<'a>(
    p: &Program,
    at: usize,
    s: &mut Scanner<'a>,
    w: &mut Walk<'_, 'a>,
    shapes: &mut [KeyShape<Option<usize>>],
) -> Scan<()> {
    let node = &p.nodes[at];
    s.begin_object()?;
    let mut shape = std::mem::take(&mut shapes[node.shape]);
    let (mut first, mut slot) = (true, 0);
    let classify = |key: &str| {
        node.children
            .iter()
            .copied()
            .find(|&c| *p.nodes[c].key == *key)
    };
    let result = (|| {
        while let Some((_, meaning)) = shape.next_key(s, &mut first, &mut slot, classify)? {
            let Some(child) = meaning else {
                // `null`, the commonest value of a key nobody reads.
                if s.eat(b"null").is_none() {
                    s.skip_checked()?;
                }
                continue;
            };
            match &p.nodes[child].kind {
                Kind::Leaf(i) => w.line.values[*i] = leaf(s)?,
                Kind::Text(i) => {
                    s.peek()?;
                    let start = s.pos();
                    s.skip_checked()?;
                    let text = s.since(start);
                    w.line.texts[*i] = (text != "null").then_some(text);
                }
                Kind::Entries(i) => {
                    let shape = &mut shapes[p.nodes[child].shape];
                    w.line.entries[*i] = entries(s, shape, p.classify[*i])?;
                }
                Kind::Tags(i) => {
                    // Past whitespace first: `"properties": null` is null too.
                    s.peek()?;
                    if s.eat(b"null").is_some() {
                        // A repeated key's null erases what it held: a later
                        // path may win, which may have been stepped over.
                        if w.tag_at == Some(*i) {
                            return Err(Bail);
                        }
                    } else if w.tag_at.is_none_or(|won| *i <= won) {
                        w.tag = scan_tag_value(s, &mut w.pairs, MAX_TAG_VALUE)?;
                        w.tag_at = Some(*i);
                    } else {
                        s.skip_checked()?;
                    }
                }
                Kind::Object {
                    under,
                    mark,
                    list_text,
                } => {
                    // The last of a repeated key wins, whatever it holds.
                    for &n in under {
                        match p.nodes[n].kind {
                            Kind::Leaf(i) => w.line.values[i] = Scalar::Null,
                            Kind::Text(i) => w.line.texts[i] = None,
                            Kind::Entries(i) => w.line.entries[i] = None,
                            Kind::Object { mark: Some(m), .. } => w.line.marks &= !(1 << m),
                            // Rare: the paths it won over were stepped over.
                            Kind::Tags(i) if w.tag_at == Some(i) => return Err(Bail),
                            Kind::Tags(_) | Kind::Object { .. } => {}
                        }
                    }
                    if let Some(m) = mark {
                        w.line.marks &= !(1 << m);
                    }
                    if let Some(i) = list_text {
                        w.line.texts[*i] = None;
                    }
                    match (s.peek()?, list_text) {
                        (b'{', _) => {
                            if let Some(m) = mark {
                                w.line.marks |= 1 << m;
                            }
                            object(p, child, s, w, shapes)?;
                        }
                        (b'[', Some(i)) => {
                            let start = s.pos();
                            s.skip_checked()?;
                            w.line.texts[*i] = Some(s.since(start));
                        }
                        _ => s.skip_checked()?,
                    }
                }
            }
        }
        Ok(())
    })();
    shapes[node.shape] = shape;
    result
}

/// A leaf's value: a plain string or integer directly, a container checked
/// and stepped over.
#[inline]
fn leaf<'a>(s: &mut Scanner<'a>) -> Scan<Scalar<'a>> {
    if let Some(text) = s.plain_string() {
        return Ok(Scalar::Str(Cow::Borrowed(text)));
    }
    match s.peek()? {
        b'{' | b'[' => s.skip_checked().map(|_| Scalar::Container),
        _ => s.scalar(),
    }
}

/// An entries capture: an object's entries in key order, the last of a
/// repeated key winning; `None` for anything else.
fn entries<'a>(
    s: &mut Scanner<'a>,
    shape: &mut KeyShape<Option<usize>>,
    classify: fn(&str) -> u8,
) -> Scan<Option<Entries<'a>>> {
    match s.peek()? {
        b'{' => {}
        // An object as JSON text (a CSV cell), read as the reference does.
        b'"' => {
            let text = s.string()?;
            return Ok(crate::engine::reference::entries_of_text(&text, classify));
        }
        _ => {
            s.skip_checked()?;
            return Ok(None);
        }
    }
    s.begin_object()?;
    let mut out: Entries<'a> = fresh_entries();
    let (mut first, mut slot) = (true, 0);
    let class = |key: &str| Some(usize::from(classify(key)));
    while let Some((key, class)) = shape.next_key(s, &mut first, &mut slot, class)? {
        let entry = Entry {
            key,
            class: class.map_or(0, |c| c as u8),
            value: leaf(s)?,
        };
        // Keys mostly come in order: then they go last.
        match out.last() {
            Some(last) if last.key.as_ref() >= entry.key.as_ref() => {
                match out.binary_search_by(|e| e.key.as_ref().cmp(entry.key.as_ref())) {
                    Ok(at) => out[at] = entry,
                    Err(at) => out.insert(at, entry),
                }
            }
            _ => out.push(entry),
        }
    }
    Ok(Some(out))
}
