//! Files that are not one JSON object per line: a JSON array (what export
//! buttons write), pretty-printed or concatenated JSON documents (an OTLP
//! export written with indentation), and CSV with a header.
//!
//! Each is turned into JSON lines by a [`Read`] adapter, once, at the file's
//! opening, so the chunker, the format detection and every reader stay the
//! same; plain JSON-lines files never pass through here. Memory stays
//! bounded: the adapters hold one input block and the element being copied.
//!
//! - [`JsonRecords`] copies each top-level value onto a line of its own; a
//!   top-level array is unwrapped into its elements. It only tracks strings
//!   and brackets, so a broken element becomes a broken line (a counted
//!   `malformed_json` reject) and the elements after it are still read. In
//!   these files a record's "line" is the file's line it starts on (blank
//!   lines pad the output up to it), as a CSV row's is; a Parquet record's
//!   is its row number.
//! - [`PageRecords`] keeps, of an API's pages saved as a file (`{"data":
//!   [...], "meta": {...}}`), only the arrays under the page's key (see
//!   [`wrapper_key`]), which [`JsonRecords`] then unwraps.
//! - [`CsvRecords`] reads CSV with the `csv` crate (quoting, embedded
//!   newlines) and writes each row as an object keyed by the header's names;
//!   empty cells are null and cells that are JSON numbers stay numbers. Each
//!   row lands on the line where it starts in the file, so rejects point at
//!   the CSV's own line numbers.
//! - [`Utf16Text`] reads UTF-16 text that starts with its byte-order mark
//!   as UTF-8, before any of the above.

use std::io::{self, Read};
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde::de::IgnoredAny;

/// How a file's records are laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// One JSON value per line (JSON lines), the default.
    Lines,
    /// A JSON array, or JSON documents spanning lines.
    JsonDocuments,
    /// CSV with a header row.
    Csv,
    /// JSON lines each after a time and a space, as CloudWatch Logs'
    /// export to S3 writes them (`2025-06-02T10:00:00.000Z {…}`).
    TimePrefixed,
    /// A stream's server-sent events saved as they came (`event: …`,
    /// `data: {…}`, blank lines, `data: [DONE]`): each `data:` line's JSON
    /// is a line, the other lines are empty ([`EventStreamLines`]).
    EventStream,
    /// An API's pages saved as a file: JSON objects holding the records
    /// in an array under one of [`WRAPPER_KEYS`] (`{"data": [...], "meta":
    /// {...}}`, as Langfuse's, Helicone's and OpenAI's list endpoints
    /// answer). See [`wrapper_key`] and [`PageRecords`].
    Wrapped,
}

impl Layout {
    /// What the per-file summary adds to the format name.
    pub fn suffix(self) -> &'static str {
        match self {
            Layout::Lines => "",
            Layout::JsonDocuments => " (JSON documents)",
            Layout::Csv => " (CSV)",
            Layout::TimePrefixed => " (time-prefixed)",
            Layout::EventStream => " (server-sent events)",
            Layout::Wrapped => " (API page)",
        }
    }
}

/// Whether `head` is the start of a tar archive: its first header's
/// `ustar` magic at byte 257 (POSIX `ustar\0`, GNU `ustar  \0`) and its
/// checksum right (the header's bytes summed, the checksum's own eight as
/// spaces; hunt103: a log whose bytes 257–261 spelt "ustar" was refused).
pub fn is_tar(head: &[u8]) -> bool {
    let Some(header) = head.get(..512) else {
        return false;
    };
    let magic = &header[257..263];
    if magic != b"ustar\0" && magic != b"ustar " {
        return false;
    }
    let digits: Vec<u8> = header[148..156]
        .iter()
        .copied()
        .skip_while(|b| *b == b' ')
        .take_while(u8::is_ascii_digit)
        .collect();
    let Some(stored) = std::str::from_utf8(&digits)
        .ok()
        .and_then(|d| u32::from_str_radix(d, 8).ok())
    else {
        return false;
    };
    let sum: u32 = header
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u32::from(b)
            }
        })
        .sum();
    sum == stored
}

/// Whether a path names a CSV file (`.csv`, or `.tsv` for tab-separated;
/// also compressed: `.csv.gz`, `.csv.zst`, and rotated: `.csv.1`,
/// `.csv-20260929`, `.csv.2.gz`). CSV is told by its name: its content has
/// no marker. The separator is the header's ([`sniff_delimiter`]).
pub fn is_csv_path(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let uncompressed = [".gz", ".gzip", ".zst", ".zstd"]
        .iter()
        .find_map(|ext| name.strip_suffix(ext))
        .unwrap_or(&name);
    let unrotated = super::without_rotation(uncompressed).unwrap_or(uncompressed);
    unrotated.ends_with(".csv") || unrotated.ends_with(".tsv")
}

/// Whether the start of a (decompressed) file is a JSON array or a JSON
/// document spanning several lines rather than JSON lines: its first
/// non-blank byte is `[`, or it is `{` and the first line is not a whole
/// value while the text from there parses as one that ends past the first
/// line (or runs past `head`). A JSON-lines file whose first line is merely
/// broken fails that parse where the next line starts, or holds a whole
/// value with junk after it on that line, so it stays JSON lines.
pub fn is_json_documents(head: &[u8]) -> bool {
    let Some(start) = head.iter().position(|b| !b.is_ascii_whitespace()) else {
        return false;
    };
    let rest = &head[start..];
    match rest[0] {
        b'[' => true,
        b'{' => {
            let end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
            if end < rest.len() && serde_json::from_slice::<IgnoredAny>(&rest[..end]).is_ok() {
                return false;
            }
            let mut values = serde_json::Deserializer::from_slice(rest).into_iter::<IgnoredAny>();
            let whole = |v: Option<serde_json::Result<IgnoredAny>>| match v {
                Some(Ok(_)) => true,
                Some(Err(e)) => e.is_eof(),
                None => false,
            };
            match values.next() {
                Some(Ok(_)) if values.byte_offset() > end => true,
                // Objects back to back on a line that runs past the head,
                // or three or more on the first line: documents written
                // with no separator (Amazon Data Firehose's default,
                // `{…}{…}`: hunt126, every call of the file lost). Two on
                // a first line among JSON lines are a damaged line (hunt128:
                // read as documents, every later line was cited one late),
                // as junk after a value there is (NUL padding).
                Some(Ok(_)) => {
                    let mut glued = 1;
                    loop {
                        let off = values.byte_offset();
                        let next = rest[off..].iter().position(|b| !b.is_ascii_whitespace());
                        let on_line = next.is_some_and(|p| off + p < end);
                        if !on_line || next.map(|p| rest[off + p]) != Some(b'{') {
                            break false;
                        }
                        let one = values.next();
                        if !whole(one) {
                            break false;
                        }
                        glued += 1;
                        if glued >= 3 || end == rest.len() {
                            break true;
                        }
                    }
                }
                // A first line longer than the head (a JSON line of a
                // megabyte) is no document (hunt128: one cut short took
                // the next line in).
                Some(Err(e)) => e.is_eof() && end < rest.len(),
                None => false,
            }
        }
        _ => false,
    }
}

/// The keys an API's page holds its records under (`result`: Cloudflare's
/// API, its AI Gateway's logs among them).
const WRAPPER_KEYS: [&str; 13] = [
    "data",
    "items",
    "result",
    "results",
    "records",
    "observations",
    "requests",
    "generations",
    "runs",
    // Logfire's query API (row-oriented), span listings.
    "rows",
    "spans",
    // Braintrust's log fetch (`{"events": [...], "cursor"}`), Opik's span
    // and trace lists (`{"content": [...], "page", "size", "total"}`)
    // (hunt98: each page was one record, $0).
    "events",
    "content",
];

/// Keys a call record has (any format's): the first element of a page's
/// array must have one, so an object that merely holds a list (an
/// embeddings response's `data`) is not taken for a page.
const RECORD_KEYS: [&str; 17] = [
    "model",
    "modelId",
    "usage",
    "usageMetadata",
    "usageDetails",
    "traceId",
    "trace_id",
    "request_id",
    "requestId",
    "custom_id",
    "prompt_tokens",
    "input_tokens",
    // Spans and runs as tracing APIs list them: Phoenix's (`span_kind`,
    // its ids in `context`), Datadog LLM Observability's (everything in
    // `attributes`), LangSmith's runs.
    "span_id",
    "spanId",
    "span_kind",
    "attributes",
    "run_type",
];

/// Whether the start of a file is an API's page: a JSON object that is no
/// call itself (none of [`RECORD_KEYS`] among its own keys) and whose first
/// key among [`WRAPPER_KEYS`] holds an array whose first element is an
/// object with a call's keys, complete within `head`; and, when another
/// value follows it within `head`, that one is a page too (a JSON-lines log
/// whose first line merely holds such a list is no page). The key, if so.
pub fn wrapper_key(head: &[u8]) -> Option<&'static str> {
    let start = head.iter().position(|b| !b.is_ascii_whitespace())?;
    let key = page_key(&head[start..])?;
    // The value after the first: a page too, or this is no file of pages.
    let mut values = serde_json::Deserializer::from_slice(&head[start..]).into_iter::<IgnoredAny>();
    if let Some(Ok(_)) = values.next() {
        let rest = &head[start + values.byte_offset()..];
        if let Some(next) = rest.iter().position(|b| !b.is_ascii_whitespace()) {
            let tail = &rest[next..];
            let complete = serde_json::Deserializer::from_slice(tail)
                .into_iter::<IgnoredAny>()
                .next()
                .is_some_and(|v| v.is_ok());
            if complete && !page_like(tail) {
                return None;
            }
        }
    }
    Some(key)
}

/// The keys of the object at the start of `text` (its own, not its
/// values'), as far as `text` goes.
fn own_keys(text: &[u8]) -> Vec<Vec<u8>> {
    let mut own = KeyScan {
        all_keys: true,
        ..KeyScan::default()
    };
    for &b in text {
        own.step(b);
        if own.depth == 0 && !own.in_string && b == b'}' {
            break;
        }
    }
    own.seen
}

/// Keys that make an object a call, not a page that holds calls (a page
/// may echo a request id or a trace id; it has no usage of its own).
const CALL_KEYS: [&str; 6] = [
    "model",
    "usage",
    "usageMetadata",
    "usageDetails",
    "prompt_tokens",
    "input_tokens",
];

fn has_any(keys: &[Vec<u8>], set: &[&str]) -> bool {
    keys.iter()
        .any(|k| set.iter().any(|r| r.as_bytes() == k.as_slice()))
}

/// Whether an object's own keys make it a call: [`CALL_KEYS`], or the
/// other keys the gateway reader takes a model, token counts or a nested
/// request or response from (`model_name`, `tokens_in`, `response`). (The
/// source stage does not use the formats': the list is kept here.)
fn is_call(keys: &[Vec<u8>]) -> bool {
    const MORE: [&str; 16] = [
        "model_name",
        "modelName",
        "model_id",
        "modelId",
        "engine",
        "response",
        "request",
        "body",
        "completion_tokens",
        "output_tokens",
        "tokens_in",
        "tokens_out",
        "promptTokenCount",
        "inputTokens",
        "outputTokens",
        "total_tokens",
    ];
    has_any(keys, &CALL_KEYS) || has_any(keys, &MORE)
}

/// Whether an object at the start of `text` is another page of a file of
/// pages: a wrapper key among its own keys and no call's (its array may
/// be empty: the last page).
fn page_like(text: &[u8]) -> bool {
    if text.first() != Some(&b'{') {
        return false;
    }
    let keys = own_keys(text);
    has_any(&keys, &WRAPPER_KEYS) && !is_call(&keys)
}

/// [`wrapper_key`] for one value at the start of `text`.
fn page_key(text: &[u8]) -> Option<&'static str> {
    if text.first() != Some(&b'{') {
        return None;
    }
    // The object's own keys within `text`: a call's make it no page, and
    // so does a usage report's time bucket (`ending_at`), whose `results`
    // are sums over many requests (hunt180: Anthropic's buckets saved one
    // a line were read as pages of calls, the bucket's end dropped, each
    // day's sum priced as one call at the long-context tier).
    let own = own_keys(text);
    if is_call(&own) || has_any(&own, &["ending_at"]) {
        return None;
    }
    let head = text;
    let mut scan = KeyScan::default();
    let mut i = 0;
    while i < head.len() {
        if let Some(key) = scan.step(head[i]) {
            // After the key's `:`, the value's first bytes.
            let mut j = i + 1;
            while j < head.len() && head[j].is_ascii_whitespace() {
                j += 1;
            }
            if head.get(j) == Some(&b'[') {
                let mut values = serde_json::Deserializer::from_slice(&head[j + 1..])
                    .into_iter::<serde_json::Value>();
                let first = head[j + 1..].iter().find(|b| !b.is_ascii_whitespace());
                if first == Some(&b'{') {
                    if let Some(Ok(serde_json::Value::Object(m))) = values.next() {
                        if RECORD_KEYS.iter().any(|k| m.contains_key(*k)) {
                            return Some(key);
                        }
                    }
                }
                return None;
            }
        }
        // The first object only: a key of a later line is no page's.
        if scan.depth == 0 && !scan.in_string && head[i] == b'}' {
            break;
        }
        i += 1;
    }
    None
}

/// Follows a JSON text byte by byte: its depth, its strings, and the keys
/// of the top-level objects ([`KeyScan::step`] gives a [`WRAPPER_KEYS`]
/// key at its `:`).
#[derive(Default)]
struct KeyScan {
    depth: usize,
    in_string: bool,
    escaped: bool,
    /// The last string closed at depth 1 (a key, if a `:` follows).
    text: Vec<u8>,
    /// Keep every key of depth 1 in `seen`, not only the wrapper keys.
    all_keys: bool,
    seen: Vec<Vec<u8>>,
}

impl KeyScan {
    fn step(&mut self, b: u8) -> Option<&'static str> {
        if self.in_string {
            if self.escaped {
                self.escaped = false;
            } else if b == b'\\' {
                self.escaped = true;
            } else if b == b'"' {
                self.in_string = false;
                return None;
            }
            if self.depth == 1 && self.text.len() < 32 {
                self.text.push(b);
            }
            return None;
        }
        match b {
            b'"' => {
                self.in_string = true;
                self.text.clear();
            }
            b'{' | b'[' => self.depth += 1,
            b'}' | b']' => self.depth = self.depth.saturating_sub(1),
            b':' if self.depth == 1 => {
                if self.all_keys {
                    self.seen.push(self.text.clone());
                }
                let key = WRAPPER_KEYS
                    .iter()
                    .find(|k| k.as_bytes() == self.text.as_slice())
                    .copied();
                self.text.clear();
                return key;
            }
            b',' => self.text.clear(),
            _ => {}
        }
        None
    }
}

/// An API's pages ([`Layout::Wrapped`]): only the arrays under each page's
/// key (any of [`WRAPPER_KEYS`]),
/// for [`JsonRecords`] to unwrap into their elements; the rest of each
/// page (`meta`, `has_more`) is dropped. Bounded: one input block.
pub struct PageRecords<R> {
    inner: R,
    scan: KeyScan,
    /// Inside the key's array: the depth at which it closes.
    inside: Option<usize>,
    /// The key was just read: its value, if an array, is kept.
    armed: bool,
    input: Vec<u8>,
    out: Vec<u8>,
    pos: usize,
    /// The page's own text before its records (up to [`PAGE_HEAD`] bytes):
    /// a Langfuse trace's fields, for its observations.
    head: Vec<u8>,
    /// The key whose array is being read (or was just read).
    key: Option<&'static str>,
    /// What each record of the array gets before its closing brace: its
    /// trace as `"trace": {...}` (a Langfuse trace's observations have no
    /// name, user, session or tags of their own).
    inject: Option<Vec<u8>>,
    /// The record being copied has a member (so the injection needs a
    /// comma before it).
    record_has_member: bool,
    /// The page being read has reached its records' array.
    page_records: bool,
    /// Where a `{` starting a line may not be: see [`Structure`].
    structure: Structure,
}

/// The most of a page's own text kept for its trace's fields (a trace's
/// `input` and `output` come before its observations, and can be long).
const PAGE_HEAD: usize = 16 << 20;

/// The most a trace adds to each of its observations: past it, its tags
/// are left out (a trace with thousands of them would be copied into each).
const TRACE_INJECTED: usize = 2 << 10;

impl<R: Read> PageRecords<R> {
    pub fn new(inner: R) -> PageRecords<R> {
        PageRecords {
            inner,
            scan: KeyScan::default(),
            inside: None,
            armed: false,
            input: vec![0; BLOCK],
            out: Vec::with_capacity(BLOCK),
            pos: 0,
            head: Vec::new(),
            key: None,
            inject: None,
            record_has_member: false,
            page_records: false,
            structure: Structure::default(),
        }
    }

    fn feed(&mut self, n: usize) {
        for i in 0..n {
            let b = self.input[i];
            // A page starting a line inside the last one: it was cut.
            if self.structure.cut_by(b, self.scan.in_string) {
                self.cut();
            }
            self.structure.step(b, self.scan.in_string);
            let before = self.scan.depth;
            let in_string = self.scan.in_string;
            let key = self.scan.step(b);
            match self.inside {
                Some(close) => {
                    let depth = self.scan.depth;
                    if !in_string && b == b'}' && depth == close + 1 {
                        // A record closes: its trace goes in first.
                        if let Some(inject) = &self.inject {
                            let skip = usize::from(!self.record_has_member);
                            self.out.extend_from_slice(&inject[skip..]);
                        }
                    }
                    self.out.push(b);
                    if !in_string && b == b'{' && depth == close + 2 {
                        self.record_has_member = false;
                    } else if depth >= close + 2 && !b.is_ascii_whitespace() {
                        self.record_has_member = true;
                    }
                    if !in_string && b == b']' && depth == close {
                        self.inside = None;
                    }
                }
                // The page's own lines pass as line breaks alone, so each
                // record is on its file's line (hunt80: cited by the lines
                // of the records only).
                None if b == b'\n' => self.out.push(b),
                None => {
                    if before == 0 && b == b'{' {
                        self.head.clear();
                        self.page_records = false;
                    }
                    if (before > 0 || b == b'{') && self.head.len() < PAGE_HEAD {
                        self.head.push(b);
                    }
                    // Each page's own key (several pages may use several).
                    if key.is_some() {
                        self.armed = true;
                        self.key = key;
                    } else if self.armed && !in_string && !b.is_ascii_whitespace() && b != b':' {
                        if b == b'[' && before == 1 {
                            self.out.push(b);
                            self.inside = Some(before);
                            self.page_records = true;
                            self.inject = match self.key {
                                Some("observations") => trace_of(&self.head),
                                _ => None,
                            };
                        }
                        self.armed = false;
                    }
                }
            }
        }
    }
}

impl<R> PageRecords<R> {
    /// A line of a file of pages, one a line, ends inside its page (a
    /// page cut by a full disk or a killed exporter): the record it was
    /// in is closed so that it is rejected, never read with the fields it
    /// lost (a comma before its closing braces makes it invalid JSON
    /// whatever the cut), its records' array is closed, and the next line
    /// is a page of its own. A page cut before its records had any is one
    /// rejected line (`{,}`), so that its loss is told.
    fn cut(&mut self) {
        match self.inside {
            Some(close) => {
                let depth = self.scan.depth;
                if depth > close + 1 {
                    if self.scan.in_string {
                        if self.scan.escaped {
                            self.out.push(b'n');
                        }
                        self.out.push(b'"');
                    }
                    self.out.push(b',');
                    self.out
                        .extend(std::iter::repeat_n(b'}', depth - close - 1));
                }
                self.out.push(b']');
            }
            None if !self.page_records => self.out.extend_from_slice(b"{,}"),
            None => {}
        }
        self.scan = KeyScan::default();
        self.inside = None;
        self.armed = false;
        self.key = None;
        self.inject = None;
        self.head.clear();
        self.page_records = false;
        self.structure = Structure::default();
    }
}

/// What tells a value cut short in a file of JSON values, one a line or
/// pretty-printed: an object (`{`) starting a line where JSON cannot have
/// one: inside an object, anywhere but after a key's `:`; inside an array,
/// anywhere but after `[` or `,`; inside a string (which no raw newline
/// is in). Unindented JSON (`indent=0`) starts nested objects on their own
/// lines in the places JSON allows them, so it is read whole. A value cut
/// inside an array, just after `[` or `,`, is not told.
#[derive(Default)]
struct Structure {
    /// The open brackets (`{` or `[`), innermost last.
    open: Vec<u8>,
    /// The last byte that was not white space.
    last: u8,
    /// The last byte was a newline.
    line_start: bool,
}

impl Structure {
    /// Whether `b`, before it is read, starts a value after a cut one.
    fn cut_by(&self, b: u8, in_string: bool) -> bool {
        if !self.line_start || b != b'{' || self.open.is_empty() {
            return false;
        }
        in_string
            || match self.open.last() {
                Some(b'{') => self.last != b':',
                _ => !matches!(self.last, b'[' | b','),
            }
    }

    /// Reads `b` (`in_string`: whether it is read inside a string, before
    /// it).
    fn step(&mut self, b: u8, in_string: bool) {
        self.line_start = b == b'\n';
        if !in_string {
            match b {
                b'{' | b'[' => self.open.push(b),
                b'}' | b']' => {
                    self.open.pop();
                }
                _ => {}
            }
        }
        if !b.is_ascii_whitespace() {
            self.last = b;
        }
    }
}

/// A Langfuse trace's name, user, session and tags, from the text of the
/// trace before its `observations` (as the API writes a trace: its fields,
/// then its observations), as `,"trace":{...}` for each observation;
/// `None` when the page has none of them (a list's page).
fn trace_of(head: &[u8]) -> Option<Vec<u8>> {
    // `{..., "observations":[`: the fields before the key, closed.
    let text = String::from_utf8_lossy(head);
    let text = text.trim_end().strip_suffix('[')?.trim_end();
    let text = text.strip_suffix(':')?.trim_end();
    let text = text.strip_suffix("\"observations\"")?.trim_end();
    let text = text.strip_suffix(',').unwrap_or(text);
    let closed = format!("{text}}}");
    type Map = serde_json::Map<String, serde_json::Value>;
    let page: Map = serde_json::from_str(&closed).ok().or_else(|| {
        let mended = crate::source::mend::mend_lone_surrogates(closed.as_bytes())?;
        serde_json::from_slice(&mended).ok()
    })?;
    // A trace has its id (a page of a list's observations has no fields of
    // its own to give them).
    page.get("id").filter(|id| id.is_string())?;
    let mut trace = Map::new();
    for key in ["name", "userId", "sessionId", "tags"] {
        if let Some(v) = page.get(key).filter(|v| !v.is_null()) {
            trace.insert(key.to_string(), v.clone());
        }
    }
    let prefix = b",\"trace\":";
    let mut out = prefix.to_vec();
    serde_json::to_writer(&mut out, &trace).ok()?;
    if out.len() > TRACE_INJECTED {
        trace.remove("tags");
        out.truncate(prefix.len());
        serde_json::to_writer(&mut out, &trace).ok()?;
    }
    (!trace.is_empty() && out.len() <= TRACE_INJECTED).then_some(out)
}

impl<R: Read> Read for PageRecords<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.out.len() {
            self.out.clear();
            self.pos = 0;
            let n = match self.inner.read(&mut self.input) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if n == 0 {
                return Ok(0);
            }
            self.feed(n);
        }
        let n = buf.len().min(self.out.len() - self.pos);
        buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Whether text with no name to go by (stdin) is a CSV export: its first
/// line is a header of two or more plain column names (letters, digits,
/// `_ . - /` and spaces, each perhaps quoted), one of which names the
/// model. A JSON-lines log whose first line is cut (a rotated log) has
/// `:` or `{` in it, so it is never taken for a header.
pub fn looks_like_csv_header(head: &[u8]) -> bool {
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let end = memchr::memchr(b'\n', head).unwrap_or(head.len());
    let Ok(line) = std::str::from_utf8(&head[..end]) else {
        return false;
    };
    let delimiter = char::from(sniff_delimiter(line.as_bytes()));
    let cells: Vec<&str> = line
        .trim_end_matches('\r')
        .split(delimiter)
        .map(|c| {
            let c = c.trim();
            c.strip_prefix('"')
                .and_then(|c| c.strip_suffix('"'))
                .unwrap_or(c)
        })
        .collect();
    let plain = |c: &&str| {
        !c.is_empty()
            && c.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.-/ ".contains(&b))
    };
    cells.len() >= 2
        && cells.iter().all(plain)
        && cells
            .iter()
            .any(|c| c.to_ascii_lowercase().contains("model"))
}

/// The separator of a CSV file, from its header line: a comma, or the
/// semicolon that spreadsheets write where the comma is the decimal mark,
/// a tab or a bar, whichever separates most cells outside quotes (a comma
/// on a tie, and when none is there).
/// The separator Excel's first line names (`sep=;`, after a byte-order
/// mark), if the file starts with one.
fn excel_separator(head: &[u8]) -> Option<u8> {
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let rest = head.strip_prefix(b"sep=")?;
    let sep = *rest.first()?;
    matches!(rest.get(1), None | Some(b'\r') | Some(b'\n')).then_some(sep)
}

pub fn sniff_delimiter(head: &[u8]) -> u8 {
    let end = memchr::memchr(b'\n', head).unwrap_or(head.len());
    let mut counts = [0usize; 4];
    const SEPARATORS: [u8; 4] = [b',', b';', b'\t', b'|'];
    let mut quoted = false;
    for &b in &head[..end] {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted {
            if let Some(i) = SEPARATORS.iter().position(|&s| s == b) {
                counts[i] += 1;
            }
        }
    }
    let mut best = 0;
    for i in 1..SEPARATORS.len() {
        if counts[i] > counts[best] {
            best = i;
        }
    }
    SEPARATORS[best]
}

/// Where the JSON object of a time-prefixed line starts: after a time (RFC
/// 3339, `YYYY-MM-DD HH:MM:SS[.f]` or epoch digits) and a space, as in
/// `2025-06-02T10:00:00.000Z {"…"}`; `None` for any other line.
pub fn time_prefix_len(line: &[u8]) -> Option<usize> {
    let at = memchr::memmem::find(line, b" {")?;
    let prefix = std::str::from_utf8(&line[..at]).ok()?.trim();
    let is_time = !prefix.is_empty()
        && (prefix.bytes().all(|b| b.is_ascii_digit())
            || chrono::DateTime::parse_from_rfc3339(prefix).is_ok()
            || chrono::NaiveDateTime::parse_from_str(prefix, "%Y-%m-%d %H:%M:%S%.f").is_ok());
    is_time.then_some(at + 1)
}

/// Whether a text's first line is a time-prefixed JSON line.
pub fn is_time_prefixed(head: &[u8]) -> bool {
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let Some(start) = head.iter().position(|b| !b.is_ascii_whitespace()) else {
        return false;
    };
    let rest = &head[start..];
    let end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
    time_prefix_len(&rest[..end]).is_some()
}

/// Whether a text is a stream's server-sent events saved as they came
/// (hunt130: a proxy's or a `curl -N`'s capture, every line a malformed
/// one): its first line that is not blank is an SSE field (`data:`,
/// `event:`, `id:`, `retry:`, or a `:` comment) and a `data:` line of the
/// head holds JSON.
pub fn is_event_stream(head: &[u8]) -> bool {
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let mut lines = head
        .split(|b| *b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace));
    let Some(first) = lines.next() else {
        return false;
    };
    let field = |l: &[u8]| {
        [&b"data:"[..], b"event:", b"id:", b"retry:", b":"]
            .iter()
            .any(|f| l.starts_with(f))
    };
    field(first)
        && std::iter::once(first)
            .chain(lines)
            .any(|l| sse_data(l).is_some_and(|d| matches!(d.first(), Some(b'{') | Some(b'['))))
}

/// A `data:` line's value (after the one space SSE allows), else `None`.
fn sse_data(line: &[u8]) -> Option<&[u8]> {
    let rest = line.strip_prefix(b"data:")?;
    Some(rest.strip_prefix(b" ").unwrap_or(rest))
}

/// Server-sent events as JSON lines (see [`Layout::EventStream`]): an
/// event's `data:` lines become their value, joined (by a space, which JSON
/// reads as SSE's line end), at the first one's line (`[DONE]` an empty line); its other
/// fields (`event:`, `id:`, `retry:`) and comments (`:`) become empty
/// lines, so that lines keep their numbers; any other line (a JSON line
/// among the events) passes as it is, read or rejected (hunt135: blanked,
/// its call lost silently).
pub struct EventStreamLines<R> {
    inner: std::io::BufReader<R>,
    line: Vec<u8>,
    out: Vec<u8>,
    pos: usize,
    /// The event's data so far, and how many lines it spans.
    data: Vec<u8>,
    data_lines: usize,
}

impl<R: Read> EventStreamLines<R> {
    pub fn new(inner: R) -> EventStreamLines<R> {
        EventStreamLines {
            inner: std::io::BufReader::with_capacity(BLOCK, inner),
            line: Vec::new(),
            out: Vec::with_capacity(BLOCK),
            pos: 0,
            data: Vec::new(),
            data_lines: 0,
        }
    }
}

/// Whether an event's data so far is a whole JSON value, or `[DONE]`.
fn is_whole_value(data: &[u8]) -> bool {
    data.trim_ascii() == b"[DONE]" || serde_json::from_slice::<serde::de::IgnoredAny>(data).is_ok()
}

/// Writes an event's data, held so far, as its lines.
fn flush_event(out: &mut Vec<u8>, data: &mut Vec<u8>, data_lines: &mut usize) {
    if *data_lines == 0 {
        return;
    }
    if data.trim_ascii() != b"[DONE]" {
        out.extend_from_slice(data);
    }
    for _ in 0..*data_lines {
        out.push(b'\n');
    }
    data.clear();
    *data_lines = 0;
}

impl<R: Read> Read for EventStreamLines<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        use std::io::BufRead;
        if self.pos == self.out.len() {
            self.out.clear();
            self.pos = 0;
            while self.out.len() < BLOCK {
                self.line.clear();
                if self.inner.read_until(b'\n', &mut self.line)? == 0 {
                    flush_event(&mut self.out, &mut self.data, &mut self.data_lines);
                    break;
                }
                let text = self.line.strip_suffix(b"\n").unwrap_or(&self.line);
                let text = text.strip_suffix(b"\r").unwrap_or(text);
                // An event whose data is already a whole value ends at the
                // next field, blank line or not (hunt136: a capture without
                // its blank lines, Python's `iter_lines()` filtered, was one
                // malformed line).
                if self.data_lines > 0 && is_whole_value(&self.data) {
                    flush_event(&mut self.out, &mut self.data, &mut self.data_lines);
                }
                // A broken event does not take a whole value after it in
                // (hunt137: `data: keep-alive` swallowed every call after it
                // in a capture without blank lines).
                // (Only an event that is no JSON's start: one whose JSON goes
                // on over lines may hold a whole value on one of them,
                // hunt138.)
                if let (true, Some(d)) = (self.data_lines > 0, sse_data(text)) {
                    let json_start = matches!(self.data.first(), Some(b'{') | Some(b'['));
                    if !json_start
                        && matches!(d.first(), Some(b'{') | Some(b'['))
                        && is_whole_value(d)
                    {
                        flush_event(&mut self.out, &mut self.data, &mut self.data_lines);
                    }
                }
                if let Some(d) = sse_data(text) {
                    // (SSE joins an event's data lines with a line end,
                    // which in JSON text is whitespace as a space is: a
                    // space keeps the event on one line.)
                    if self.data_lines > 0 {
                        self.data.push(b' ');
                    }
                    self.data.extend_from_slice(d);
                    self.data_lines += 1;
                    continue;
                }
                let field = [&b"event:"[..], b"id:", b"retry:", b":"]
                    .iter()
                    .any(|f| text.starts_with(f));
                if field {
                    // Within an event: its data goes on after it.
                    if self.data_lines > 0 {
                        self.data_lines += 1;
                        continue;
                    }
                    self.out.push(b'\n');
                    continue;
                }
                // A blank line ends the event; any other line passes.
                let blank = text.iter().all(u8::is_ascii_whitespace);
                flush_event(&mut self.out, &mut self.data, &mut self.data_lines);
                if !blank {
                    self.out.extend_from_slice(text);
                }
                self.out.push(b'\n');
            }
        }
        let n = buf.len().min(self.out.len() - self.pos);
        buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// JSON lines with a time before each (see [`Layout::TimePrefixed`]): each
/// line's prefix is dropped, and a line without one passes as it is (and is
/// rejected if it is no JSON). Lines keep their numbers.
pub struct TimePrefixedLines<R> {
    inner: std::io::BufReader<R>,
    line: Vec<u8>,
    out: Vec<u8>,
    pos: usize,
}

impl<R: Read> TimePrefixedLines<R> {
    pub fn new(inner: R) -> TimePrefixedLines<R> {
        TimePrefixedLines {
            inner: std::io::BufReader::with_capacity(BLOCK, inner),
            line: Vec::new(),
            out: Vec::with_capacity(BLOCK),
            pos: 0,
        }
    }
}

impl<R: Read> Read for TimePrefixedLines<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        use std::io::BufRead;
        if self.pos == self.out.len() {
            self.out.clear();
            self.pos = 0;
            while self.out.len() < BLOCK {
                self.line.clear();
                if self.inner.read_until(b'\n', &mut self.line)? == 0 {
                    break;
                }
                let skip = time_prefix_len(&self.line).unwrap_or(0);
                self.out.extend_from_slice(&self.line[skip..]);
            }
        }
        let n = buf.len().min(self.out.len() - self.pos);
        buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// How much input the adapters read at a time.
const BLOCK: usize = 64 * 1024;

/// Where the splitter is between two bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Between values.
    Between,
    /// Inside an object or array, at this bracket depth.
    Nested(u32),
    /// Inside a string that is itself a top-level value.
    TopString,
    /// Inside a bare top-level token (a number, `true`, or garbage).
    Token,
}

/// JSON values, one per output line, from a JSON array or concatenated
/// (possibly pretty-printed) documents. See the module docs.
pub struct JsonRecords<R> {
    inner: R,
    input: Vec<u8>,
    out: Vec<u8>,
    pos: usize,
    state: State,
    in_string: bool,
    escaped: bool,
    /// Inside a top-level array, whose elements are the values.
    in_array: bool,
    done: bool,
    /// Where a `{` starting a line may not be (see [`Structure`]).
    structure: Structure,
    /// The file's line (from 1) of the byte being read, and the next
    /// output line's number: a value starts on its file's line, after blank
    /// lines (which the chunker skips without counting), so a record is
    /// cited at the line it starts on, not its element number (hunt77).
    file_line: u64,
    out_line: u64,
}

impl<R: Read> JsonRecords<R> {
    pub fn new(inner: R) -> JsonRecords<R> {
        JsonRecords {
            file_line: 1,
            out_line: 1,
            inner,
            input: vec![0; BLOCK],
            out: Vec::with_capacity(BLOCK),
            pos: 0,
            state: State::Between,
            in_string: false,
            escaped: false,
            in_array: false,
            done: false,
            structure: Structure::default(),
        }
    }

    /// A value cut short (a writer killed mid-document), as the next one
    /// starts: closed so that it is one rejected line (a comma before its
    /// closing brackets makes it invalid JSON whatever the cut), not the
    /// start of one that swallows every document after it.
    fn cut(&mut self, depth: u32) {
        if self.in_string {
            if self.escaped {
                self.out.push(b'n');
            }
            self.out.push(b'"');
            self.in_string = false;
            self.escaped = false;
        }
        self.out.push(b',');
        self.out.extend(std::iter::repeat_n(b'}', depth as usize));
        self.end_value();
    }

    fn end_value(&mut self) {
        self.out.push(b'\n');
        self.out_line += 1;
        self.state = State::Between;
    }

    /// Blank lines up to the file's line, before a value starts there.
    fn pad(&mut self) {
        while self.out_line < self.file_line {
            self.out.push(b'\n');
            self.out_line += 1;
        }
    }

    /// Copies string bytes; newlines (which valid JSON never has inside a
    /// string) become tabs, which keep the value invalid but on one line.
    fn string_byte(&mut self, b: u8) -> bool {
        if self.escaped {
            self.escaped = false;
        } else if b == b'\\' {
            self.escaped = true;
        } else if b == b'"' {
            self.in_string = false;
        }
        self.out
            .push(if b == b'\n' || b == b'\r' { b'\t' } else { b });
        !self.in_string
    }

    fn feed(&mut self, n: usize) {
        for i in 0..n {
            let b = self.input[i];
            // (Counted first: a string's raw line break is on its line too,
            // hunt80.)
            if b == b'\n' {
                self.file_line += 1;
            }
            // An object starting a line where the value being read cannot
            // have one: the next document (or element) after a cut one.
            if let State::Nested(depth) = self.state {
                if self.structure.cut_by(b, self.in_string) {
                    self.cut(depth);
                    self.structure.open.clear();
                }
            }
            // The brackets of the value being read, or begun by `b` (a
            // top-level array's own bracket begins none).
            let begins =
                self.state == State::Between && (b == b'{' || (b == b'[' && self.in_array));
            if begins || matches!(self.state, State::Nested(_)) {
                self.structure.step(b, self.in_string);
            } else {
                self.structure.line_start = b == b'\n';
                self.structure.open.clear();
            }
            match self.state {
                State::Between => self.start(b),
                State::TopString => {
                    if self.string_byte(b) {
                        self.end_value();
                    }
                }
                State::Token => {
                    if b.is_ascii_whitespace() || matches!(b, b',' | b']' | b'[' | b'{') {
                        self.end_value();
                        self.start(b);
                    } else {
                        self.out.push(b);
                    }
                }
                State::Nested(depth) => {
                    if self.in_string {
                        self.string_byte(b);
                        continue;
                    }
                    match b {
                        b'"' => self.in_string = true,
                        b'{' | b'[' => self.state = State::Nested(depth + 1),
                        b'}' | b']' => self.state = State::Nested(depth - 1),
                        _ => {}
                    }
                    self.out
                        .push(if b == b'\n' || b == b'\r' { b' ' } else { b });
                    if self.state == State::Nested(0) {
                        self.end_value();
                    }
                }
            }
        }
    }

    /// A byte between values: a separator, the array's brackets, or the
    /// start of a value.
    fn start(&mut self, b: u8) {
        match b {
            _ if b.is_ascii_whitespace() => {}
            b'[' if !self.in_array => self.in_array = true,
            b']' if self.in_array => self.in_array = false,
            // Element separators; a trailing comma (which some exporters
            // write before `]`) is harmless.
            b',' if self.in_array => {}
            b'{' | b'[' => {
                self.pad();
                self.out.push(b);
                self.state = State::Nested(1);
            }
            b'"' => {
                self.pad();
                self.out.push(b);
                self.in_string = true;
                self.state = State::TopString;
            }
            _ => {
                self.pad();
                self.out.push(b);
                self.state = State::Token;
            }
        }
    }
}

impl<R: Read> Read for JsonRecords<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.out.len() {
            self.out.clear();
            self.pos = 0;
            if self.done {
                return Ok(0);
            }
            let n = match self.inner.read(&mut self.input) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if n == 0 {
                // A value cut off by the end of the file still ends its line,
                // to be rejected as malformed.
                if self.state != State::Between {
                    self.end_value();
                }
                self.done = true;
            } else {
                self.feed(n);
            }
        }
        let n = buf.len().min(self.out.len() - self.pos);
        buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// The line a CSV row that cannot be read becomes (a NUL first: no JSON
/// line, nor text a log holds), rejected at its line with its reason (the
/// pipeline's `csv_reject`).
pub const UNCLOSED_QUOTE: &[u8] = b"\0CSV row whose quoted cell never closes";
pub const UNREADABLE_ROW: &[u8] =
    b"\0CSV row that is not UTF-8 text (is the file in another encoding?)";
pub const SHORT_ROW: &[u8] =
    b"\0CSV row with fewer cells than its header (a cell missing: its cells would fall in other columns)";
pub const LONG_ROW: &[u8] =
    b"\0CSV row with more cells than its header (a separator in a cell not quoted?)";
pub const TOTALS_ROW: &[u8] =
    b"\0CSV row whose token counts are the sums of the rows above it and which has no time: a spreadsheet's totals row, not a call";

/// CSV rows as JSON objects keyed by the header, each on the line where the
/// row starts in the file. See the module docs.
pub struct CsvRecords<R> {
    reader: csv::Reader<Newlines<io::Chain<io::Cursor<Vec<u8>>, R>>>,
    /// Where the newlines the reader has been given are (the csv crate's
    /// own line count runs one short after a quoted line break in a file
    /// of CRLF rows).
    newlines: Arc<Mutex<NewlineIndex>>,
    /// The separator the header uses (see [`sniff_delimiter`]).
    delimiter: u8,
    /// An error met reading the header to sniff it, returned by the first
    /// read.
    head_error: Option<io::Error>,
    /// The row read ahead by [`CsvRecords::last_of_file`], to be read next.
    ahead: Option<Result<csv::StringRecord, csv::Error>>,
    headers: Vec<String>,
    /// What each column's name says of its cells (see [`ColumnKind`]),
    /// worked out once with the header.
    kinds: Vec<ColumnKind>,
    /// The header's columns as a row's object is written (see
    /// [`Column`]): flattened names nested again.
    shape: Vec<Column>,
    record: csv::StringRecord,
    out: Vec<u8>,
    pos: usize,
    /// The next output line's number.
    line: u64,
    done: bool,
    /// The token-count columns' sums over the rows written since the
    /// header, and how many rows (see [`CsvRecords::is_totals_row`]).
    sums: Vec<u128>,
    /// The other columns' sums where all their cells so far are numbers.
    other_sums: Vec<Option<f64>>,
    rows: u64,
}

impl<R: Read> CsvRecords<R> {
    pub fn new(mut inner: R) -> CsvRecords<R> {
        // The header line (up to 64 KiB of it) says the separator.
        let mut head = Vec::new();
        let mut head_error = None;
        let mut block = [0u8; 4096];
        while head.len() < 64 * 1024 && memchr::memchr(b'\n', &head).is_none() {
            match inner.read(&mut block) {
                Ok(0) => break,
                Ok(n) => head.extend_from_slice(&block[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    head_error = Some(e);
                    break;
                }
            }
        }
        // Excel's hint line (`sep=;`) names the separator and is no header
        // (hunt101: the file was unread, its header taken for `sep=`).
        let delimiter = excel_separator(&head).unwrap_or_else(|| sniff_delimiter(&head));
        let newlines = Arc::new(Mutex::new(NewlineIndex::default()));
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(Newlines {
                inner: io::Cursor::new(head).chain(inner),
                index: newlines.clone(),
            });
        CsvRecords {
            reader,
            newlines,
            delimiter,
            head_error,
            ahead: None,
            headers: Vec::new(),
            kinds: Vec::new(),
            shape: Vec::new(),
            record: csv::StringRecord::new(),
            out: Vec::with_capacity(BLOCK),
            pos: 0,
            line: 1,
            done: false,
            sums: Vec::new(),
            other_sums: Vec::new(),
            rows: 0,
        }
    }

    /// The file's line (from 1) of a record the csv crate says starts at
    /// byte `offset`. The crate may put that start on line breaks before
    /// the record (the `\n` of a CRLF whose `\r` ended the row before,
    /// blank lines): the run of `\r` and `\n` at the offset is stepped
    /// over. Offsets asked for only grow, so each break is counted once.
    fn line_at(&self, offset: u64) -> u64 {
        let mut index = self.newlines.lock().unwrap_or_else(|e| e.into_inner());
        let mut at = offset;
        while let Some(&(pos, newline)) = index.pending.front() {
            if pos > at {
                break;
            }
            if pos == at {
                at += 1;
            }
            index.pending.pop_front();
            index.before += u64::from(newline);
        }
        index.before + 1
    }

    /// Whether the row just read, when it has a cell of several lines, is
    /// the file's last: a quote that never closed in the last column runs
    /// to the end (the next row is read ahead to tell, and kept).
    fn last_of_file(&mut self) -> bool {
        if !self.record.iter().any(|c| c.contains('\n')) {
            return false;
        }
        let mut next = csv::StringRecord::new();
        let read = self.reader.read_record(&mut next);
        let end = matches!(read, Ok(false));
        if !end {
            self.ahead = Some(read.map(|_| next));
        }
        // A last cell whose quote closed ends the file with that quote.
        let index = self.newlines.lock().unwrap_or_else(|e| e.into_inner());
        end && index.last_content != Some(b'"')
    }

    /// Pads with blank lines (which the chunker skips without counting) so
    /// the next line written is the file's line `at`.
    fn pad_to(&mut self, at: u64) {
        while self.line < at {
            self.out.push(b'\n');
            self.line += 1;
        }
    }

    /// Reads the next row into `out`; false at the end of the file.
    fn next_row(&mut self) -> io::Result<bool> {
        if let Some(e) = self.head_error.take() {
            return Err(e);
        }
        let read = match self.ahead.take() {
            Some(next) => next.map(|r| {
                self.record = r;
                true
            }),
            None => self.reader.read_record(&mut self.record),
        };
        match read {
            Ok(false) => Ok(false),
            Ok(true) => {
                let at = self
                    .record
                    .position()
                    .map_or(self.line, |p| self.line_at(p.byte()));
                self.pad_to(at);
                let last = !self.headers.is_empty() && self.last_of_file();
                if self.headers.is_empty() {
                    // Excel's `sep=` line: skipped as a blank one.
                    let hint = self.record.get(0).is_some_and(|c| {
                        c.trim_start_matches('\u{feff}').trim().starts_with("sep=")
                    }) && self.record.iter().skip(1).all(|c| c.trim().is_empty())
                        && self.line == 1;
                    if !hint {
                        self.set_headers();
                    }
                } else if let Some(rest) =
                    swallowed(&self.record, self.headers.len(), self.delimiter, last)
                {
                    // A quote that never closed took the rows after it into
                    // one cell: the row is rejected, and the rows it took
                    // are read at their lines (the quotes among them are
                    // lost, so a row with a quoted cell may be rejected).
                    self.out.extend_from_slice(UNCLOSED_QUOTE);
                    self.out.push(b'\n');
                    self.line += 1;
                    let mut inner = csv::ReaderBuilder::new()
                        .has_headers(false)
                        .flexible(true)
                        .delimiter(self.delimiter)
                        .from_reader(rest.as_bytes());
                    let mut record = csv::StringRecord::new();
                    while inner.read_record(&mut record).unwrap_or(false) {
                        let line = record.position().map_or(self.line, |p| at + p.line());
                        self.pad_to(line);
                        std::mem::swap(&mut self.record, &mut record);
                        self.write_row();
                        std::mem::swap(&mut self.record, &mut record);
                        self.out.push(b'\n');
                        self.line += 1;
                    }
                    return Ok(true);
                } else if self.record.iter().all(|c| c.trim().is_empty()) {
                    // Separators only (`,,,,`: a spreadsheet's cleared
                    // row): a blank line, skipped as one.
                } else if self.is_header_again() {
                    // The header again (two exports joined with `cat`;
                    // hunt101: a rejected call): skipped as a blank line;
                    // the next export's rows are summed on their own.
                    self.restart_sums();
                } else if self.is_another_header() {
                    // Another export's header, its columns in another order
                    // or one more (hunt172: the rows after it read under the
                    // first one's, input and output swapped, +89%): the rows
                    // after it are read under it.
                    self.headers.clear();
                    self.kinds.clear();
                    self.set_headers();
                    self.restart_sums();
                } else if self.record.len() < self.headers.len() {
                    // A cell missing: its cells would fall in the columns
                    // after theirs (hunt101: a feature "1000", the input
                    // read as the output, $0.001 for $0.006, unsaid).
                    self.out.extend_from_slice(SHORT_ROW);
                } else if self
                    .record
                    .iter()
                    .skip(self.headers.len())
                    .any(|c| !c.trim().is_empty())
                {
                    self.out.extend_from_slice(LONG_ROW);
                } else if self.is_totals_row() {
                    // (A table ends with its totals: rows after it are
                    // summed on their own.)
                    self.out.extend_from_slice(TOTALS_ROW);
                    self.restart_sums();
                } else {
                    self.add_to_sums();
                    self.write_row();
                }
                self.out.push(b'\n');
                self.line += 1;
                Ok(true)
            }
            Err(e) => {
                let at = e.position().map_or(self.line, |p| self.line_at(p.byte()));
                if let csv::ErrorKind::Io(_) = e.kind() {
                    return Err(io::Error::other(e.to_string()));
                }
                // A row that cannot be read (invalid UTF-8) becomes a line
                // that is not JSON, rejected and counted at its line.
                self.pad_to(at);
                self.out.extend_from_slice(UNREADABLE_ROW);
                self.out.push(b'\n');
                self.line += 1;
                Ok(true)
            }
        }
    }

    /// A token-count column's cell as a count: digits, a spreadsheet's
    /// grouped or decimal form of a whole number (`1,234`, `2.000` in a
    /// semicolon file, `1000.0`).
    fn count_cell(&self, i: usize) -> Option<u128> {
        let f = self.number_cell(
            i,
            ColumnKind {
                tokens: true,
                ..ColumnKind::default()
            },
        )?;
        (f >= 0.0 && f.fract() == 0.0 && f < 1e30).then_some(f as u128)
    }

    /// A cell as a number, as its column reads it (a spreadsheet's grouped
    /// or decimal-comma forms).
    fn number_cell(&self, i: usize, kind: ColumnKind) -> Option<f64> {
        let cell = self.record.get(i)?.trim();
        let text = spreadsheet_number(self.delimiter, kind, cell).unwrap_or_else(|| {
            if kind.tokens {
                cell.replace(',', "")
            } else {
                cell.to_string()
            }
        });
        text.parse::<f64>().ok().filter(|f| f.is_finite())
    }

    /// Sums from the next row on (a table's totals row, another export's
    /// header).
    fn restart_sums(&mut self) {
        self.sums.clear();
        self.other_sums.clear();
        self.rows = 0;
    }

    /// Adds a row written as a call to the columns' sums: its counts, and
    /// its other numbers (a cost, a latency) but times'.
    fn add_to_sums(&mut self) {
        if self.sums.len() < self.headers.len() {
            self.sums.resize(self.headers.len(), 0);
            self.other_sums.resize(self.headers.len(), Some(0.0));
        }
        let mut counted = false;
        for i in 0..self.headers.len() {
            let kind = self.kinds.get(i).copied().unwrap_or_default();
            if kind.tokens {
                let n = self.count_cell(i).unwrap_or(0);
                self.sums[i] = self.sums[i].saturating_add(n);
                counted |= n > 0;
            } else if !kind.time {
                let empty = self.record.get(i).is_none_or(|c| c.trim().is_empty());
                let value = self.number_cell(i, kind);
                let sum = &mut self.other_sums[i];
                *sum = match (*sum, empty, value) {
                    (Some(s), true, _) => Some(s),
                    (Some(s), false, Some(v)) => Some(s + v),
                    // A column of text: no sum.
                    _ => None,
                };
            }
        }
        self.rows += u64::from(counted);
    }

    /// Whether the row is a spreadsheet's totals row (hunt172: a SUM row
    /// under the counts priced as one more call, the bill doubled, exit 0
    /// with `--strict`): after two rows with counts at least, each of its
    /// token counts is the sum of that column over the rows above (one at
    /// least not zero, every other empty), and each other cell is empty, a
    /// label (`Total`, `Subtotal`, `Summe`…) or its number column's sum (a
    /// cost): no time, model or id of a call (hunt178: identical calls of a
    /// file whose time column the reader knows by another name were taken
    /// for sums, −75%; hunt179: a summed cost column kept the row a call).
    fn is_totals_row(&self) -> bool {
        if self.rows < 2 {
            return false;
        }
        let mut summed = false;
        for (i, kind) in self.kinds.iter().enumerate() {
            let cell = self.record.get(i).map_or("", str::trim);
            if !kind.tokens {
                let sum_of_column = || {
                    let (Some(Some(sum)), Some(v)) =
                        (self.other_sums.get(i), self.number_cell(i, *kind))
                    else {
                        return false;
                    };
                    (v - sum).abs() <= 1e-9 * sum.abs().max(1.0)
                };
                if !cell.is_empty() && !is_totals_label(cell) && (kind.time || !sum_of_column()) {
                    return false;
                }
                continue;
            }
            if cell.is_empty() {
                continue;
            }
            let sum = self.sums.get(i).copied().unwrap_or(0);
            if self.count_cell(i) != Some(sum) {
                return false;
            }
            summed |= sum > 0;
        }
        summed
    }

    /// Whether the row is another export's header: no cell a number, and
    /// four in five of its cells, two at least, the names of this header's
    /// columns, in another order or beside a new one.
    fn is_another_header(&self) -> bool {
        let cells: Vec<&str> = self
            .record
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let c = c.trim();
                if i == 0 {
                    c.trim_start_matches('\u{feff}')
                } else {
                    c
                }
            })
            .filter(|c| !c.is_empty())
            .collect();
        let named = cells
            .iter()
            .filter(|c| self.headers.iter().any(|h| h == *c))
            .count();
        named >= 2
            && named * 5 >= cells.len() * 4
            && !cells.iter().any(|c| c.parse::<f64>().is_ok())
    }

    /// Whether the row is the header again (two exports joined with `cat`,
    /// each with its byte-order mark: hunt103).
    fn is_header_again(&self) -> bool {
        self.record.len() == self.headers.len()
            && self.record.iter().enumerate().all(|(i, cell)| {
                let cell = cell.trim();
                let cell = if i == 0 {
                    cell.trim_start_matches('\u{feff}')
                } else {
                    cell
                };
                // (A renamed repeat, `model_2`, was `model` in the row.)
                let header = &self.headers[i];
                // (An empty header cell was named `column_N`.)
                let unnamed = || {
                    header
                        .strip_prefix("column_")
                        .and_then(|n| n.parse::<usize>().ok())
                        == Some(i + 1)
                };
                cell == header
                    || (cell.is_empty() && unnamed())
                    || header
                        .rsplit_once('_')
                        .is_some_and(|(base, n)| base == cell && n.parse::<u32>().is_ok())
            })
    }

    /// Takes the header row; repeated names get `_2`, `_3`… so every key
    /// of a row's object is distinct.
    fn set_headers(&mut self) {
        for (i, name) in self.record.iter().enumerate() {
            let mut name = name.trim().to_string();
            if i == 0 {
                name = name.trim_start_matches('\u{feff}').to_string();
            }
            if name.is_empty() {
                name = format!("column_{}", i + 1);
            }
            let base = name.clone();
            let mut n = 1;
            while self.headers.contains(&name) {
                n += 1;
                name = format!("{base}_{n}");
            }
            self.kinds.push(ColumnKind::of(&name));
            self.headers.push(name);
        }
        self.shape = Column::nest(&self.headers);
    }

    fn write_row(&mut self) {
        // Cells past the header: named by position, never dropped.
        while self.headers.len() < self.record.len() {
            let name = format!("column_{}", self.headers.len() + 1);
            self.kinds.push(ColumnKind::default());
            self.shape
                .push(Column::Cell(name.clone(), self.headers.len()));
            self.headers.push(name);
        }
        let shape = std::mem::take(&mut self.shape);
        self.write_object(&shape);
        self.shape = shape;
    }

    /// An object of `columns`: each a cell (of this row, or null past its
    /// end) or an object of its own.
    fn write_object(&mut self, columns: &[Column]) {
        self.out.push(b'{');
        for (n, column) in columns.iter().enumerate() {
            if n > 0 {
                self.out.push(b',');
            }
            let (Column::Cell(key, _) | Column::Object(key, _)) = column;
            // Writing a str to a Vec cannot fail.
            serde_json::to_writer(&mut self.out, key).expect("a string serializes");
            self.out.push(b':');
            match column {
                Column::Cell(_, i) => self.write_cell(*i),
                Column::Object(_, inner) => self.write_object(inner),
            }
        }
        self.out.push(b'}');
    }

    /// Cell `i` of the row as a JSON value.
    fn write_cell(&mut self, i: usize) {
        {
            let Some(cell) = self.record.get(i) else {
                self.out.extend_from_slice(b"null");
                return;
            };
            let cell = cell.trim();
            let kind = self.kinds.get(i).copied().unwrap_or_default();
            if cell.is_empty() {
                self.out.extend_from_slice(b"null");
            } else if let Some(time) = kind
                .time
                .then(|| excel_serial_time(self.delimiter, cell))
                .flatten()
            {
                serde_json::to_writer(&mut self.out, &time).expect("a string serializes");
            } else if let Some(number) = spreadsheet_number(self.delimiter, kind, cell) {
                self.out.extend_from_slice(number.as_bytes());
            } else if is_json_number(cell)
                && !is_oversized_integer(cell)
                && (keeps_its_text(cell) || (kind.tokens && is_finite_number(cell)))
            {
                self.out.extend_from_slice(cell.as_bytes());
            } else if let Some(flag) = spreadsheet_bool(cell) {
                // `true`/`TRUE` (Excel's): the JSON value, as numbers are.
                self.out.extend_from_slice(flag.as_bytes());
            } else if let Some(text) = json_string_literal(cell) {
                // A value an exporter wrote with `JSON.stringify`, quotes
                // and all (Langfuse's UI export's dates: hunt142's bug3,
                // every call a `bad_timestamp`): the text inside.
                serde_json::to_writer(&mut self.out, &text).expect("a string serializes");
            } else if let Some(value) = json_container(cell) {
                // An object or list written as JSON text (LiteLLM's
                // `metadata`, Langfuse's `usageDetails`): the value itself,
                // on one line, so its fields are read as a JSON log's.
                serde_json::to_writer(&mut self.out, &value).expect("a value serializes");
            } else {
                serde_json::to_writer(&mut self.out, cell).expect("a string serializes");
            }
        }
    }
}

/// The text of a JSON string literal given as text (`"2026-11-03T…Z"`
/// with its quotes: a CSV cell, MLflow's span attributes, a warehouse's
/// JSON column), if it is one.
pub(crate) fn json_string_literal(text: &str) -> Option<String> {
    let quoted = text.len() >= 2 && text.starts_with('"') && text.ends_with('"');
    if !quoted {
        return None;
    }
    serde_json::from_str::<String>(text).ok()
}

/// A CSV column as a row's object holds it: a cell under its header (and
/// its index), or, for headers flattened with dots (`usage.prompt_tokens`,
/// as pandas' `json_normalize` and spreadsheets of JSON logs write them:
/// hunt123, such a file was "not a shape tokenaudit knows"), the object
/// they were flattened from, nested again: `{"usage": {"prompt_tokens":
/// …}}`. A name is nested only where no other header is the object's own
/// name (`usage` beside `usage.cost` stays as it is), and none of its parts
/// is empty.
#[derive(Clone, Debug, PartialEq)]
enum Column {
    Cell(String, usize),
    Object(String, Vec<Column>),
}

impl Column {
    fn nest(headers: &[String]) -> Vec<Column> {
        let mut out: Vec<Column> = Vec::new();
        for (i, name) in headers.iter().enumerate() {
            let parts: Vec<&str> = name.split('.').collect();
            let nested = parts.len() > 1
                && parts.iter().all(|p| !p.is_empty())
                && (1..parts.len()).all(|k| {
                    let prefix = parts[..k].join(".");
                    !headers.contains(&prefix)
                });
            if nested {
                Column::insert(&mut out, &parts, i);
            } else {
                out.push(Column::Cell(name.clone(), i));
            }
        }
        out
    }

    fn insert(into: &mut Vec<Column>, parts: &[&str], i: usize) {
        let (head, rest) = (parts[0], &parts[1..]);
        if rest.is_empty() {
            into.push(Column::Cell(head.to_string(), i));
            return;
        }
        let found = into
            .iter_mut()
            .position(|c| matches!(c, Column::Object(k, _) if k == head));
        match found {
            Some(at) => {
                if let Column::Object(_, inner) = &mut into[at] {
                    Column::insert(inner, rest, i);
                }
            }
            None => {
                let mut inner = Vec::new();
                Column::insert(&mut inner, rest, i);
                into.push(Column::Object(head.to_string(), inner));
            }
        }
    }
}

/// A CSV cell that is a boolean as spreadsheets write them: `true`,
/// `TRUE`, `True` (and false); its JSON text.
fn spreadsheet_bool(cell: &str) -> Option<&'static str> {
    match cell {
        "true" | "TRUE" | "True" => Some("true"),
        "false" | "FALSE" | "False" => Some("false"),
        _ => None,
    }
}

/// The line breaks a [`Newlines`] reader has passed on: those not yet
/// counted, by byte offset, and how many newlines were.
#[derive(Default)]
struct NewlineIndex {
    /// Line-break bytes: offset, and whether a `\n` (else a `\r`).
    pending: std::collections::VecDeque<(u64, bool)>,
    before: u64,
    /// Bytes passed on so far.
    read: u64,
    /// The last byte passed on that is no space or line break.
    last_content: Option<u8>,
}

/// A reader that notes where each line-break byte it passes on is.
struct Newlines<R> {
    inner: R,
    index: Arc<Mutex<NewlineIndex>>,
}

impl<R: Read> Read for Newlines<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut index = self.index.lock().unwrap_or_else(|e| e.into_inner());
        let start = index.read;
        for i in memchr::memchr2_iter(b'\n', b'\r', &buf[..n]) {
            index.pending.push_back((start + i as u64, buf[i] == b'\n'));
        }
        index.read += n as u64;
        if let Some(&b) = buf[..n].iter().rev().find(|b| !b.is_ascii_whitespace()) {
            index.last_content = Some(b);
        }
        Ok(n)
    }
}

/// The text a quoted cell that never closed took in, when it did: in a row
/// of more or fewer cells than the header has columns, a cell whose lines
/// after its first look like rows of the file (as many commas as the
/// header has columns, less one), with the cells read after it (where a
/// later quote ended it), as CSV text. `None` for a row of its columns (a
/// cell of several lines of text, a pasted table, closed as it should be).
fn swallowed(
    record: &csv::StringRecord,
    columns: usize,
    delimiter: u8,
    last: bool,
) -> Option<String> {
    let delimiter = char::from(delimiter);
    // A row whose quoted cell closed has its columns; one whose cell ran
    // on to the end of the file (or to a later quote) has fewer, or more,
    // or, when the cell is the last column, its columns and the file's
    // end (`last`).
    if columns < 2 || (record.len() == columns && !last) {
        return None;
    }
    let (j, cell) = record.iter().enumerate().find(|(_, c)| c.contains('\n'))?;
    // With its columns, only a last cell can have run to the end.
    if record.len() == columns && j + 1 != columns {
        return None;
    }
    let (_, rest) = cell.split_once('\n')?;
    let lines: Vec<&str> = rest.lines().filter(|l| !l.trim().is_empty()).collect();
    let rows = lines
        .iter()
        .filter(|l| l.matches(delimiter).count() >= columns - 1)
        .count();
    if rows == 0 || rows * 2 < lines.len() {
        return None;
    }
    let mut text = rest.to_string();
    for c in record.iter().skip(j + 1) {
        text.push(delimiter);
        text.push_str(c);
    }
    Some(text)
}

/// What a CSV column's name says of its cells: a token count's (`token`
/// in it: no decimals, so dots group thousands in a semicolon file), or a
/// time's (a word `date`, `created`, `updated`, `timestamp`; `time`,
/// `start_time`, `startTime`…; not a duration such as `response_time`),
/// which may hold a spreadsheet's serial dates. Words, not letters: Gemini's
/// `candidatesTokenCount` holds "date" (hunt172: its counts of 20,000 to
/// 79,999 read as days, the call rejected, −61%), and LiteLLM's and
/// Langfuse's `startTime` is a time.
#[derive(Clone, Copy, Debug, Default)]
struct ColumnKind {
    tokens: bool,
    time: bool,
    /// Money (`cost`, `spend`, `price`, `usd`…): where a tab-separated
    /// file's decimal comma is read.
    money: bool,
}

impl ColumnKind {
    fn of(name: &str) -> ColumnKind {
        let words = words(name);
        let lower = name.to_ascii_lowercase();
        let word = |w: &str| words.iter().any(|x| x == w);
        let joined = words.concat();
        let named_for_a_time = ["date", "datetime", "created", "updated", "timestamp"]
            .iter()
            .any(|w| word(w))
            // (`timeStamp`, `dateTime`: one word in two.)
            || joined.contains("timestamp")
            || joined.contains("datetime")
            || matches!(
                words.iter().map(String::as_str).collect::<Vec<_>>()[..],
                ["time"] | ["start" | "end" | "request" | "logging" | "event", "time"]
            );
        let a_duration = ["latency", "duration", "_ms", "response", "elapsed"]
            .iter()
            .any(|w| lower.contains(w));
        ColumnKind {
            tokens: lower.contains("token"),
            time: named_for_a_time && !a_duration,
            money: ["cost", "spend", "price", "usd", "eur", "amount", "dollar"]
                .iter()
                .any(|w| lower.contains(w)),
        }
    }
}

/// A column name's words, in lower case: split at what is not a letter or
/// digit and before an upper-case letter that follows a lower-case one
/// (`candidatesTokenCount`: candidates, token, count).
fn words(name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut lower_before = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            lower_before = false;
            continue;
        }
        if c.is_uppercase() && lower_before && !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
        lower_before = c.is_lowercase() || c.is_ascii_digit();
        word.extend(c.to_lowercase());
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// A totals row's label, in the languages spreadsheets are set to.
fn is_totals_label(cell: &str) -> bool {
    let c = cell.trim_end_matches(':').trim().to_lowercase();
    [
        "total",
        "subtotal",
        "sub-total",
        "grand total",
        "sum",
        "summe",
        "gesamt",
        "insgesamt",
        "totaal",
        "totale",
        "totales",
        "somme",
        "suma",
        "合計",
        "合计",
        "总计",
    ]
    .iter()
    .any(|w| c.starts_with(w))
}

/// A number as a spreadsheet set to a comma-decimal language saves it in
/// a semicolon-separated file: `0,125` (the decimal comma), and in a token
/// count's column (`tokens`) `2.000` or `1.234.000` (dots grouping
/// thousands: a count has no decimals). `None` for any other cell, or
/// another separator. In a tab-separated file (Excel's "Unicode Text",
/// in any language) what only a decimal comma can be (`0,00045`) and a
/// count grouped with dots or commas (`2.000`, `1,234`; hunt172: `2.000`
/// read as 2 tokens, the costs dropped, −92%).
fn spreadsheet_number(delimiter: u8, kind: ColumnKind, cell: &str) -> Option<String> {
    let tokens = kind.tokens;
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let (sign, body) = match cell.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", cell),
    };
    // Digits grouped by threes with `sep` (`1.234.000`).
    let grouped_by = |sep: char| {
        let mut groups = body.split(sep);
        let first = groups.next().unwrap_or("");
        body.contains(sep)
            && digits(first)
            && first.len() <= 3
            && groups.all(|g| g.len() == 3 && digits(g))
    };
    if delimiter == b'\t' {
        if tokens {
            return ['.', ',']
                .into_iter()
                .find(|&c| grouped_by(c))
                .map(|c| format!("{sign}{}", body.replace(c, "")));
        }
        // (In a column of money or times only: `12,5` may be an id,
        // hunt179.)
        let (whole, frac) = body.split_once(',')?;
        let decimal = (kind.money || kind.time)
            && digits(whole)
            && digits(frac)
            && (frac.len() != 3 || whole == "0");
        return decimal.then(|| format!("{sign}{whole}.{frac}"));
    }
    if delimiter != b';' {
        return None;
    }
    if let Some((whole, frac)) = body.split_once(',') {
        if digits(whole) && digits(frac) && !whole.contains('.') {
            return Some(format!("{sign}{whole}.{frac}"));
        }
    }
    (tokens && grouped_by('.')).then(|| format!("{sign}{}", body.replace('.', "")))
}

/// A spreadsheet's date saved as its serial number (days since
/// 1899-12-30, the time as the fraction: `46023.4375` is 2026-01-01
/// 10:30), in a time's column ([`ColumnKind`]), as RFC 3339 text. As
/// seconds since 1970 such a number would be a moment of 1 January 1970.
/// Serials from 1954 to 2119 only.
fn excel_serial_time(delimiter: u8, cell: &str) -> Option<String> {
    // With the decimal comma of a semicolon file too.
    let time = ColumnKind {
        time: true,
        ..ColumnKind::default()
    };
    let number = spreadsheet_number(delimiter, time, cell).unwrap_or_else(|| cell.to_string());
    let days: f64 = number.parse().ok()?;
    if !(20_000.0..80_000.0).contains(&days) || !is_json_number(&number) {
        return None;
    }
    let epoch = chrono::NaiveDate::from_ymd_opt(1899, 12, 30)?.and_hms_opt(0, 0, 0)?;
    let millis = (days * 86_400_000.0).round() as i64;
    let t = epoch.checked_add_signed(chrono::Duration::milliseconds(millis))?;
    Some(
        t.and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
    )
}

/// Digits past what a 64-bit integer holds: an identifier (a 21-digit
/// request id), kept as its text; as a number it would be read as a float
/// and two ids could become one.
fn is_oversized_integer(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    digits.bytes().all(|b| b.is_ascii_digit())
        && s.parse::<i64>().is_err()
        && s.parse::<u64>().is_err()
}

/// Whether a numeric cell reads back as written when a field takes it for
/// text (an id, a feature, a tag): no exponent (`12e5` would be `1200000`,
/// and a hex hash such as `81285e7693381053` no number at all: hunt57) and
/// no zero ending its decimals (`2024.10` would be `2024.1`). Other cells
/// stay text, which the numeric fields read all the same (`3e-06` as a
/// cost).
fn keeps_its_text(cell: &str) -> bool {
    !cell.contains(['e', 'E'])
        && cell
            .split_once('.')
            .is_none_or(|(_, decimals)| !decimals.ends_with('0'))
}

/// Whether a cell's number is within a float's range (a count's column
/// may write `3e2`).
fn is_finite_number(cell: &str) -> bool {
    cell.parse::<f64>().is_ok_and(f64::is_finite)
}

/// A cell holding a JSON object or list, parsed; `None` for any other text.
fn json_container(cell: &str) -> Option<serde_json::Value> {
    let (open, close) = (cell.as_bytes()[0], cell.as_bytes()[cell.len() - 1]);
    if !matches!((open, close), (b'{', b'}') | (b'[', b']')) {
        return None;
    }
    serde_json::from_str(cell).ok()
}

/// Whether a cell is a JSON number as written (`-12`, `0.5`, `3e-6`) and
/// not an identifier that merely looks numeric (`007`).
fn is_json_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_len = i - int_start;
    if int_len == 0 || (int_len > 1 && b[int_start] == b'0') {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let frac = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == frac {
            return false;
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let exp = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == exp {
            return false;
        }
    }
    i == b.len()
}

impl<R: Read> Read for CsvRecords<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.out.len() {
            self.out.clear();
            self.pos = 0;
            if self.done {
                return Ok(0);
            }
            while self.out.len() < BLOCK {
                if !self.next_row()? {
                    self.done = true;
                    break;
                }
            }
        }
        let n = buf.len().min(self.out.len() - self.pos);
        buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Whether a file starts with a UTF-16 byte-order mark, and if so whether
/// big-endian.
pub fn utf16_bom(head: &[u8]) -> Option<bool> {
    match head {
        [0xff, 0xfe, ..] => Some(false),
        [0xfe, 0xff, ..] => Some(true),
        _ => None,
    }
}

/// UTF-16 text (told by its byte-order mark, see [`utf16_bom`]) as UTF-8:
/// what Windows tools write (PowerShell 5's `>` and `Out-File`). An
/// unpaired surrogate or a dangling byte becomes U+FFFD, so its line is
/// still read, and rejected if that breaks it.
pub struct Utf16Text<R> {
    inner: R,
    big_endian: bool,
    input: Vec<u8>,
    /// The first byte of a code unit split between two reads.
    odd: Option<u8>,
    /// A high surrogate waiting for its low half.
    high: Option<u16>,
    out: Vec<u8>,
    pos: usize,
    done: bool,
}

impl<R: Read> Utf16Text<R> {
    pub fn new(inner: R, big_endian: bool) -> Utf16Text<R> {
        Utf16Text {
            inner,
            big_endian,
            input: vec![0; BLOCK],
            odd: None,
            high: None,
            out: Vec::with_capacity(BLOCK * 3 / 2),
            pos: 0,
            done: false,
        }
    }

    fn push(&mut self, c: char) {
        let mut utf8 = [0; 4];
        self.out
            .extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
    }

    fn unit(&mut self, u: u16) {
        if let Some(high) = self.high.take() {
            if (0xdc00..0xe000).contains(&u) {
                let c = 0x10000 + ((u32::from(high) - 0xd800) << 10) + (u32::from(u) - 0xdc00);
                self.push(char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER));
                return;
            }
            self.push(char::REPLACEMENT_CHARACTER);
        }
        match u {
            0xd800..=0xdbff => self.high = Some(u),
            _ => self.push(char::from_u32(u32::from(u)).unwrap_or(char::REPLACEMENT_CHARACTER)),
        }
    }

    fn feed(&mut self, n: usize) {
        for i in 0..n {
            let b = self.input[i];
            let Some(first) = self.odd.take() else {
                self.odd = Some(b);
                continue;
            };
            let pair = [first, b];
            self.unit(if self.big_endian {
                u16::from_be_bytes(pair)
            } else {
                u16::from_le_bytes(pair)
            });
        }
    }
}

impl<R: Read> Read for Utf16Text<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.out.len() {
            self.out.clear();
            self.pos = 0;
            if self.done {
                return Ok(0);
            }
            let n = match self.inner.read(&mut self.input) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if n == 0 {
                if self.odd.take().is_some() || self.high.take().is_some() {
                    self.push(char::REPLACEMENT_CHARACTER);
                }
                self.done = true;
            } else {
                self.feed(n);
            }
        }
        let n = buf.len().min(self.out.len() - self.pos);
        buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The values, without the blank lines that put each on its file's
    /// line.
    fn lines(input: &str) -> Vec<String> {
        let mut out = String::new();
        JsonRecords::new(input.as_bytes())
            .read_to_string(&mut out)
            .unwrap();
        out.lines()
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// Each value on the line of the file it starts on (hunt77: cited by
    /// its element number, "export.json:31" for line 274).
    /// A tab-separated file from a spreadsheet in any language: counts
    /// grouped with dots or commas, and a decimal comma where nothing else
    /// can be (hunt172: `2.000` read as 2 tokens, −92%).
    #[test]
    fn tab_separated_spreadsheet_numbers() {
        let n = |tokens: bool, cell: &str| {
            let kind = ColumnKind {
                tokens,
                money: !tokens,
                ..ColumnKind::default()
            };
            spreadsheet_number(b'\t', kind, cell)
        };
        assert_eq!(n(true, "2.000").as_deref(), Some("2000"));
        assert_eq!(n(true, "1.234.000").as_deref(), Some("1234000"));
        assert_eq!(n(true, "1,234").as_deref(), Some("1234"));
        assert_eq!(n(true, "1234"), None);
        assert_eq!(n(true, "1.5"), None);
        assert_eq!(n(false, "0,00045").as_deref(), Some("0.00045"));
        assert_eq!(n(false, "12,5").as_deref(), Some("12.5"));
        assert_eq!(n(false, "0,125").as_deref(), Some("0.125"));
        // A thousands comma or a decimal one: left as it is.
        assert_eq!(n(false, "1,234"), None);
        assert_eq!(n(false, "0.00045"), None);
        // Other separators: as before.
        let tokens = ColumnKind {
            tokens: true,
            ..ColumnKind::default()
        };
        assert_eq!(spreadsheet_number(b',', tokens, "2.000"), None);
        // A decimal comma outside money and times: an id's text.
        assert_eq!(
            spreadsheet_number(b'\t', ColumnKind::default(), "12,5"),
            None
        );
    }

    #[test]
    fn column_names_say_times_and_counts_by_their_words() {
        let kind = |n: &str| {
            let k = ColumnKind::of(n);
            (k.time, k.tokens)
        };
        for time in [
            "Date",
            "created_at",
            "createdAt",
            "Timestamp (UTC)",
            "startTime",
            "start_time",
            "End Time",
            "time",
            "creation_date",
            "updated_at",
            "timeStamp",
            "dateTime",
            "request_timestamp",
            "event_time",
            "Date (UTC)",
            "start-time",
        ] {
            assert_eq!(kind(time), (true, false), "{time}");
        }
        for not_a_time in [
            "candidatesTokenCount",
            "usageMetadata.candidatesTokenCount",
            "candidates_token_count",
            "response_time",
            "time_to_first_token_ms",
            "latency",
            "validated",
        ] {
            assert!(!kind(not_a_time).0, "{not_a_time}");
        }
        assert!(kind("candidatesTokenCount").1);
    }

    #[test]
    fn each_value_is_on_the_line_it_starts_on() {
        let array = "[\n  {\n    \"a\": 1\n  },\n  {\"b\": 2}, {\"c\": 3},\n\n  {\n\"d\": 4}\n]\n";
        let mut out = String::new();
        JsonRecords::new(array.as_bytes())
            .read_to_string(&mut out)
            .unwrap();
        let at: Vec<(usize, &str)> = out
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.is_empty())
            .map(|(i, l)| (i + 1, l))
            .collect();
        // Two values starting on line 5 cannot both be there: the second
        // is on the next.
        assert_eq!(
            at,
            vec![
                (2, r#"{     "a": 1   }"#),
                (5, r#"{"b": 2}"#),
                (6, r#"{"c": 3}"#),
                (7, r#"{ "d": 4}"#),
            ]
        );
        // An API page's records, after the page's own lines, and a raw
        // line break inside a string (hunt80: cited by the records' lines
        // only; the break not counted).
        let page = "{\n  \"meta\": {\n    \"page\": 1\n  },\n  \"data\": [\n    {\"a\": 1},\n    {\"b\": \"x\ny\"},\n    {\"c\": 3}\n  ]\n}\n{\"data\": [{\"d\": 4}]}\n";
        let mut out = String::new();
        JsonRecords::new(PageRecords::new(page.as_bytes()))
            .read_to_string(&mut out)
            .unwrap();
        let at: Vec<usize> = out
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.is_empty())
            .map(|(i, _)| i + 1)
            .collect();
        assert_eq!(at, [6, 7, 9, 12], "{out:?}");
    }

    #[test]
    fn arrays_and_pretty_documents_become_one_value_per_line() {
        // Helicone's export tool writes a trailing comma before `]`.
        let array = "[\n{\n  \"a\": \"x,]}\\\"\",\n  \"b\": [1, 2]\n},\n{\"c\": {}},\n]\n";
        assert_eq!(
            lines(array),
            vec![r#"{   "a": "x,]}\"",   "b": [1, 2] }"#, r#"{"c": {}}"#]
        );
        let docs = "{\n \"x\": 1\n}\n{\"y\": 2}{\"z\": 3}\n";
        assert_eq!(
            lines(docs),
            vec![r#"{  "x": 1 }"#, r#"{"y": 2}"#, r#"{"z": 3}"#]
        );
        // A broken element stays one line (rejected later); the next is kept.
        let broken = "[{\"a\": tru}, 7, \"s\", {\"b\": 1}, {\"cut\": ";
        assert_eq!(
            lines(broken),
            vec![r#"{"a": tru}"#, "7", r#""s""#, r#"{"b": 1}"#, r#"{"cut": "#]
        );
        // A newline inside a string keeps the value invalid.
        assert_eq!(lines("[\"a\nb\"]"), vec!["\"a\tb\""]);
        // A document cut short, in a string or between members, before the
        // next one at the start of a line: closed as invalid JSON, and the
        // next ones read (they were part of it).
        let cut = "{\n \"a\": {\n  \"b\": \"x\n{\n \"c\": 1\n}\n{\n \"d\": 1\n{\"e\": 2}\n";
        let got = lines(cut);
        assert_eq!(
            got,
            vec![
                "{  \"a\": {   \"b\": \"x\t\",}}",
                r#"{  "c": 1 }"#,
                r#"{  "d": 1 ,}"#,
                r#"{"e": 2}"#,
            ]
        );
        // Unindented JSON (`indent=0`) starts nested objects on lines of
        // their own where JSON has them: after `[`, `,` and `:`.
        let flat = "{\n\"spans\": [\n{\n\"a\": 1\n},\n{\n\"b\":\n{\n\"c\": 2\n}\n}\n]\n}\n";
        assert_eq!(
            lines(flat),
            vec![r#"{ "spans": [ { "a": 1 }, { "b": { "c": 2 } } ] }"#]
        );
        let array = "[\n{\n  \"a\": 1,\n  \"u\": {\n{\n  \"b\": 2\n}\n]\n";
        assert_eq!(
            lines(array),
            vec![r#"{   "a": 1,   "u": { ,}}"#, r#"{   "b": 2 }"#]
        );
    }

    /// A reader that hands out one byte per read.
    struct OneByte<'a>(&'a [u8]);

    impl Read for OneByte<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match (self.0.split_first(), buf.first_mut()) {
                (Some((b, rest)), Some(slot)) => {
                    *slot = *b;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    #[test]
    fn utf16_text_reads_as_utf8() {
        let text = "{\"f\":\"caf\u{e9} \u{1f600}\"}\r\n";
        for big_endian in [false, true] {
            let mut bytes = if big_endian {
                vec![0xfe, 0xff]
            } else {
                vec![0xff, 0xfe]
            };
            for u in text.encode_utf16() {
                bytes.extend(if big_endian {
                    u.to_be_bytes()
                } else {
                    u.to_le_bytes()
                });
            }
            assert_eq!(utf16_bom(&bytes), Some(big_endian));
            // Read a byte at a time, so units and surrogate pairs are split.
            let mut out = String::new();
            Utf16Text::new(OneByte(&bytes), big_endian)
                .read_to_string(&mut out)
                .unwrap();
            assert_eq!(out, format!("\u{feff}{text}"));
        }
        // A lone surrogate and a dangling byte.
        let mut out = String::new();
        Utf16Text::new(&[0xff, 0xfe, 0x00, 0xd8, b'a', 0, b'b'][..], false)
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "\u{feff}\u{fffd}a\u{fffd}");
        assert_eq!(utf16_bom(b"\xef\xbb\xbf{"), None);
    }

    #[test]
    fn tells_an_api_page_by_its_records() {
        let page = br#"{"meta":{"data":[{"model":"x"}]},"note":"\"data\":[{\"model\":1}]","data":[ {"model":"gpt-4o"}]}"#;
        assert_eq!(wrapper_key(page), Some("data"));
        assert_eq!(wrapper_key(br#"{"items":[{"usage":{}}]}"#), Some("items"));
        // A list of other things, no list, or an element cut by the head.
        assert_eq!(
            wrapper_key(br#"{"data":[{"embedding":[1]}],"usage":{}}"#),
            None
        );
        assert_eq!(wrapper_key(br#"{"data":{"model":"x"}}"#), None);
        assert_eq!(wrapper_key(br#"{"data":[{"model":"#), None);
        assert_eq!(wrapper_key(br#"[{"data":[{"model":"x"}]}]"#), None);
        // A page echoing a request id; a last page that is empty.
        assert_eq!(
            wrapper_key(b"{\"request_id\":\"r\",\"data\":[{\"model\":\"x\"}]}"),
            Some("data")
        );
        assert_eq!(
            wrapper_key(
                b"{\"data\":[{\"model\":\"x\"}],\"has_more\":true}\n{\"data\":[],\"has_more\":false}\n"
            ),
            Some("data")
        );
        // Braintrust's log fetch and Opik's span list (hunt98); an
        // Anthropic response's `content` is no page (it is a call).
        assert_eq!(
            wrapper_key(br#"{"events":[{"span_id":"s","metrics":{}}],"cursor":"c"}"#),
            Some("events")
        );
        assert_eq!(
            wrapper_key(
                br#"{"content":[{"model":"gpt-4o","usage":{}}],"page":1,"size":1,"total":1}"#
            ),
            Some("content")
        );
        assert_eq!(
            wrapper_key(br#"{"id":"msg_1","model":"claude-sonnet-4-5","content":[{"type":"text","model":"x"}],"usage":{}}"#),
            None
        );
        // A page on the second line of a JSON-lines log is no file of pages.
        assert_eq!(
            wrapper_key(b"{\"id\":1}\n{\"data\":[{\"model\":\"x\"}]}\n"),
            None
        );
        // The pages' arrays only, whatever else they hold.
        let mut out = String::new();
        PageRecords::new(&page[..])
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "[ {\"model\":\"gpt-4o\"}]");
    }

    /// A Langfuse trace's observations get their trace's name, user,
    /// session and tags as `trace`, an empty one too; a list's page, and a
    /// trace whose fields come after its observations, give nothing.
    #[test]
    fn a_traces_observations_get_their_trace() {
        let read = |page: &str| {
            let mut out = String::new();
            PageRecords::new(page.as_bytes())
                .read_to_string(&mut out)
                .unwrap();
            out
        };
        let trace = r#"{"id":"t","name":"chat","userId":"u","sessionId":null,"tags":["prod"],"meta":{"observations":[1]},"observations":[{"id":"o1","s":"}"}, {} ],"scores":[]}"#;
        assert_eq!(
            read(trace),
            "[{\"id\":\"o1\",\"s\":\"}\",\"trace\":{\"name\":\"chat\",\"tags\":[\"prod\"],\"userId\":\"u\"}}, {\"trace\":{\"name\":\"chat\",\"tags\":[\"prod\"],\"userId\":\"u\"}} ]"
        );
        // Two traces as JSON lines: each its own.
        let two = format!(
            "{}\n{}\n",
            r#"{"id":"a","name":"a","observations":[{"x":1}]}"#,
            r#"{"id":"b","name":"b","observations":[{"x":2}]}"#
        );
        assert_eq!(
            read(&two),
            "[{\"x\":1,\"trace\":{\"name\":\"a\"}}]\n[{\"x\":2,\"trace\":{\"name\":\"b\"}}]\n"
        );
        assert_eq!(
            read(r#"{"data":[{"x":1}],"meta":{"page":1}}"#),
            "[{\"x\":1}]"
        );
        assert_eq!(
            read(r#"{"observations":[{"x":1}],"name":"late"}"#),
            "[{\"x\":1}]"
        );
        // No id: a wrapper of observations, not a trace.
        assert_eq!(
            read(r#"{"name":"export","userId":"me","observations":[{"x":1}]}"#),
            "[{\"x\":1}]"
        );
        // A cut emoji and a long input before the observations.
        let long = format!(
            r#"{{"id":"t","input":"{}","name":"n \ud83d","observations":[{{"x":1}}]}}"#,
            "y".repeat(200_000)
        );
        assert_eq!(
            read(&long),
            "[{\"x\":1,\"trace\":{\"name\":\"n \u{fffd}\"}}]"
        );
        // Thousands of tags are left out; the name stays.
        let tags: Vec<String> = (0..1000).map(|i| format!("\"tag{i}\"")).collect();
        let many = format!(
            r#"{{"id":"t","name":"n","tags":[{}],"observations":[{{"x":1}}]}}"#,
            tags.join(",")
        );
        assert_eq!(read(&many), "[{\"x\":1,\"trace\":{\"name\":\"n\"}}]");
    }

    /// A file of pages, one a line, with lines cut in a record, in a
    /// string, in an escape, between records and before any: each cut
    /// record is closed as invalid JSON, and the pages after are read.
    #[test]
    fn a_cut_page_loses_no_later_page() {
        let read = |text: &str| {
            let mut out = String::new();
            JsonRecords::new(PageRecords::new(OneByte(text.as_bytes())))
                .read_to_string(&mut out)
                .unwrap();
            out.lines()
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        let text = [
            r#"{"data":[{"a":1},{"b":{"c":2"#,
            r#"{"data":[{"d":3}]}"#,
            r#"{"data":[{"e":"x\"#,
            r#"{"data":[{"f":"y"#,
            r#"{"data":[{"g":4},"#,
            r#"{"meta":{"n":1},"da"#,
            r#"{"data":[{"h":5}],"meta":{"#,
            r#"{"data":[{"i":6}]}"#,
        ]
        .join("\n");
        let got = read(&text);
        assert_eq!(
            got,
            [
                r#"{"a":1}"#,
                r#"{"b":{"c":2 ,}}"#,
                r#"{"d":3}"#,
                "{\"e\":\"x\\\t\",}",
                "{\"f\":\"y\t\",}",
                r#"{"g":4}"#,
                // Cut after a record's comma: the next line is taken for
                // a record, cut in its turn by the line after.
                "{\"meta\":{\"n\":1},\"da\t\",}",
                r#"{"h":5}"#,
                r#"{"i":6}"#,
            ]
        );
        for cut in [1, 3, 4, 6] {
            assert!(serde_json::from_str::<serde_json::Value>(&got[cut]).is_err());
        }
        // Pretty-printed pages keep their newlines' meaning, after a blank
        // line too, and so does a streaming writer's page of a record a
        // line.
        let pretty = "\n{\n \"data\": [\n  {\"a\": 1},\n  {\"b\": 2}\n ]\n}\n";
        assert_eq!(read(pretty), [r#"{"a": 1}"#, r#"{"b": 2}"#]);
        let stream = "{\"data\":[\n{\"a\":1},\n{\"b\":2}\n],\"has_more\":true}\n";
        assert_eq!(read(stream), [r#"{"a":1}"#, r#"{"b":2}"#]);
    }

    /// Server-sent events as the adapter gives them.
    fn sse(text: &str) -> String {
        let mut out = String::new();
        EventStreamLines::new(text.as_bytes())
            .read_to_string(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn sniffs_server_sent_events() {
        assert!(is_event_stream(b"data: {\"a\":1}\n\ndata: [DONE]\n"));
        assert!(is_event_stream(
            b"\xef\xbb\xbf: ping\r\nevent: message\r\ndata:{\"a\":1}\r\n"
        ));
        assert!(is_event_stream(b"\n\nevent: x\ndata: [1]\n"));
        // No JSON in a `data:` line, or not a field first.
        assert!(!is_event_stream(b"event: x\ndata: hello\n"));
        assert!(!is_event_stream(b"{\"data\": 1}\ndata: {\"a\":1}\n"));
        assert!(!is_event_stream(b"data,model\n1,x\n"));
        let text = "event: e\r\ndata: {\"a\":1}\r\n\r\ndata: [DONE]\r\n";
        assert_eq!(sse(text), "\n{\"a\":1}\n\n\n");
        // An event's data over several lines is joined at its first; a
        // JSON line among the events passes as it is; lines keep their
        // numbers.
        let text = "data: {\"a\":\ndata: 1}\nid: 7\n\n{\"b\":2}\nnot json\n: c\ndata: {}";
        assert_eq!(sse(text), "{\"a\": 1}\n\n\n\n{\"b\":2}\nnot json\n\n{}\n");
        // Without the blank lines between events: each whole value is an
        // event of its own.
        let text = "data: {\"a\":1}\ndata: {\"b\":\ndata: 2}\nevent: x\ndata: [DONE]\ndata: {}\n";
        assert_eq!(sse(text), "{\"a\":1}\n{\"b\": 2}\n\n\n\n{}\n");
        // A broken event ends where a whole value starts.
        let text = "data: keep-alive\ndata: {\"a\":1}\ndata: {\"b\":2}\n";
        assert_eq!(sse(text), "keep-alive\n{\"a\":1}\n{\"b\":2}\n");
        // One whose JSON goes on over lines keeps a whole value among them.
        let text = "data: {\"a\":\ndata: {\"b\":1}\ndata: }\n";
        assert_eq!(sse(text), "{\"a\": {\"b\":1} }\n\n\n");
    }

    #[test]
    fn sniffs_documents_but_not_json_lines() {
        assert!(is_json_documents(b"  [\n{\"a\":1}]"));
        assert!(is_json_documents(b"{\n  \"resourceSpans\": []\n}\n"));
        // Longer than the head: still a document.
        assert!(is_json_documents(b"{\n  \"resourceSpans\": [\n"));
        assert!(!is_json_documents(b"{\"a\":1}\n{\"a\":2}\n"));
        // A broken first line followed by good ones is JSON lines.
        assert!(!is_json_documents(b"{\"a\":\"b\n{\"a\":2}\n"));
        assert!(!is_json_documents(b"{\"a\":1,\n{\"a\":2}\n"));
        assert!(!is_json_documents(b"not json\n"));
        // A whole first line with junk or NUL padding after its value: a
        // damaged JSON line (it made the file documents, numbered by value).
        assert!(!is_json_documents(b"{\"a\":1} xyz\n{\"a\":2}\n"));
        assert!(!is_json_documents(b"{\"a\":1}\0\0\0\n{\"a\":2}\n"));
        // A value over two lines with junk after it is still a document.
        assert!(is_json_documents(b"{\"a\":\n1} xyz\n"));
        // Objects back to back (Firehose's default): documents, with or
        // without a line's end, the last cut by the head; not another
        // value that is broken.
        assert!(is_json_documents(b"{\"a\":1}{\"a\":2}{\"a\":3}"));
        assert!(is_json_documents(b"{\"a\":1}{\"a\":2}{\"a\":3}\n"));
        assert!(is_json_documents(b"{\"a\":1}{\"a\":"));
        assert!(!is_json_documents(b"{\"a\":1}{\"a\" 2}\n"));
        assert!(!is_json_documents(b"{\"a\":1}"));
        // Two glued on the first of JSON lines: a damaged line.
        assert!(!is_json_documents(b"{\"a\":1} {\"a\":2}\n{\"a\":3}\n"));
        // A first line longer than the head: JSON lines.
        assert!(!is_json_documents(b"{\"a\":\"xxxxxxxx"));
    }

    /// A quote that never closes: its row is one rejected line, and the
    /// rows it took in are read at their own lines (they were one cell, and
    /// the file 3 lines long); a cell of several lines of text is a cell.
    #[test]
    fn a_csv_quote_that_never_closes_loses_no_later_row() {
        let read = |csv: &str| {
            let mut out = String::new();
            CsvRecords::new(csv.as_bytes())
                .read_to_string(&mut out)
                .unwrap();
            out.split('\n').map(str::to_string).collect::<Vec<_>>()
        };
        let csv = "a,b,c\n1,2,3\n4,\"open,6\n7,8,9\n10,11,12\n";
        let got = read(csv);
        assert_eq!(got[1], r#"{"a":1,"b":2,"c":3}"#);
        assert_eq!(got[2], "\0CSV row whose quoted cell never closes");
        assert_eq!(got[3], r#"{"a":7,"b":8,"c":9}"#);
        assert_eq!(got[4], r#"{"a":10,"b":11,"c":12}"#);
        let prose = "a,b,c\n1,\"line one\nline two, and more\nline three\",3\n";
        assert_eq!(
            read(prose)[1],
            r#"{"a":1,"b":"line one\nline two, and more\nline three","c":3}"#
        );
        // A pasted table in a closed cell: its row has its columns.
        let table = "a,b,c\n1,\"x\n4,5,6\n7,8,9\",3\n";
        assert_eq!(read(table)[1], r#"{"a":1,"b":"x\n4,5,6\n7,8,9","c":3}"#);
        // In the last column, the open quote runs to the end of the file
        // with the row still of its columns: the file's end tells (before,
        // every later row was one note, silently).
        let last = "a,b,c\n1,2,3\n4,5,\"open\n7,8,9\n10,11,12\n";
        let got = read(last);
        assert_eq!(got[2], "\0CSV row whose quoted cell never closes");
        assert_eq!(got[3], r#"{"a":7,"b":8,"c":9}"#);
        assert_eq!(got[4], r#"{"a":10,"b":11,"c":12}"#);
        // A closed note of several lines in the last column, last row or
        // not, stays a note.
        let note = "a,b,c\n1,2,\"x\n4,5,6\"\n7,8,9\n";
        assert_eq!(read(note)[1], r#"{"a":1,"b":2,"c":"x\n4,5,6"}"#);
        assert_eq!(read(note)[3], r#"{"a":7,"b":8,"c":9}"#);
        let note = "a,b,c\n1,2,\"x\n4,5,6\"\n";
        assert_eq!(read(note)[1], r#"{"a":1,"b":2,"c":"x\n4,5,6"}"#);
    }

    /// Headers flattened with dots are nested again, where no other
    /// header names the object and no part is empty.
    #[test]
    fn csv_headers_flattened_with_dots_are_nested_again() {
        let csv = "model,usage.prompt_tokens,usage.prompt_tokens_details.cached_tokens,usage.completion_tokens,meta,meta.x,a..b,.c\ngpt-4o,10,4,2,m,y,1,2\n";
        let mut out = String::new();
        CsvRecords::new(csv.as_bytes())
            .read_to_string(&mut out)
            .unwrap();
        let got: Vec<&str> = out.split('\n').collect();
        assert_eq!(
            got[1],
            r#"{"model":"gpt-4o","usage":{"prompt_tokens":10,"prompt_tokens_details":{"cached_tokens":4},"completion_tokens":2},"meta":"m","meta.x":"y","a..b":1,".c":2}"#
        );
    }

    #[test]
    fn csv_rows_become_objects_on_their_own_lines() {
        let csv = "id,model,tokens,cost,note\n007,gpt-4o,12,0.5,\"two\nlines, \"\"quoted\"\"\"\nx,,3e2,-1,\n";
        let mut out = String::new();
        CsvRecords::new(csv.as_bytes())
            .read_to_string(&mut out)
            .unwrap();
        let got: Vec<&str> = out.split('\n').collect();
        assert_eq!(got[0], "", "the header's line is blank");
        assert_eq!(
            got[1],
            r#"{"id":"007","model":"gpt-4o","tokens":12,"cost":0.5,"note":"two\nlines, \"quoted\""}"#
        );
        // The quoted cell spans lines 2-3, so the next row is line 4.
        assert_eq!(got[2], "");
        assert_eq!(
            got[3],
            r#"{"id":"x","model":null,"tokens":3e2,"cost":-1,"note":null}"#
        );
        assert!(is_csv_path(Path::new("a/B.CSV.gz")));
        // Rotated copies, compressed or not.
        for name in [
            "x.csv.1",
            "x.csv-20260929",
            "x.csv.2.gz",
            "x.csv.2026-09-29.zst",
        ] {
            assert!(is_csv_path(Path::new(name)), "{name}");
        }
        assert!(!is_csv_path(Path::new("x.jsonl.1")));
        // CloudWatch Logs' export: a time, a space, the JSON object.
        for (line, at) in [
            (r#"2025-06-02T10:00:00.000Z {"a":1}"#, Some(25)),
            (r#"2025-06-02 10:00:00 {"a":1}"#, Some(20)),
            (r#"1748858400 {"a":1}"#, Some(11)),
            (r#"{"a":1}"#, None),
            (r#"INFO {"a":1}"#, None),
            (r#"x":"2025-06-02T10:00:00Z {"a":1}"#, None),
        ] {
            assert_eq!(time_prefix_len(line.as_bytes()), at, "{line}");
        }
        assert!(is_time_prefixed(
            b"\n  2025-06-02T10:00:00.000Z {\"a\":1}\nmore"
        ));
        let text = "2025-06-02T10:00:00Z {\"a\":1}\nno prefix\r\n2025-06-02T10:00:01Z {\"b\":2}";
        let mut out = String::new();
        TimePrefixedLines::new(text.as_bytes())
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "{\"a\":1}\nno prefix\r\n{\"b\":2}");
        for header in [
            "timestamp,model,prompt_tokens,completion_tokens\n1,gpt-4o,1,1",
            "\u{feff}\"Request ID\",\"Model\",\"Prompt Tokens\"\r\n",
            "id,model_name",
        ] {
            assert!(looks_like_csv_header(header.as_bytes()), "{header}");
        }
        for not in [
            r#"{"model":"gpt-4o"}"#,
            r#"l":"gpt-4o","usage":{"prompt_tokens":1}}"#,
            "model",
            "timestamp,feature,user",
            "a,,model",
            "",
        ] {
            assert!(!looks_like_csv_header(not.as_bytes()), "{not}");
        }
        assert!(!is_csv_path(Path::new("a/b.jsonl")));
    }
}
