//! One extraction engine for the formats written as data.
//!
//! A [`Spec`] says where a format keeps each canonical field: for each
//! [`Target`] (a slot of the staging type, [`RawLine`]) an ordered list of
//! dotted paths, the first that holds a value winning; the objects read as
//! tags; values only the format's hook reads ([`Spec::captures`]); and the
//! hook, a small function for what is not a path (a status code's meaning,
//! a skip rule, a renamed tag). Its token paths name the convention: a
//! count read into [`Target::InputTokens`] is Anthropic's (cache excluded),
//! one read into [`Target::PromptTokens`] OpenAI's (cache included), and
//! [`crate::record::fields::RawUsage::normalise`] does the rest.
//!
//! What a line means is what its `serde_json::Value` tree means, read by the
//! spec's paths ([`reference`]): of a key given twice the last wins, a value
//! that is not an object at an object's place holds nothing, and a line that
//! serde_json refuses (including a number out of `f64`'s range anywhere in
//! it) is a malformed one. The engine ([`walk`]) reads the same thing in one
//! pass of the JSON scanner ([`crate::json::scan`]) without building the
//! tree: it descends only into keys some path needs, steps over everything
//! else (checking it as serde_json would), borrows strings from the line, and
//! predicts each object's keys from the previous line's ([`KeyShape`]). When
//! the scanner is unsure of a line it gives up and the reference reads it,
//! so a line can be slower, never different; the differential tests
//! (`tests.rs`) hold the two together on fixtures, every prefix and one-byte
//! edit of tricky lines, and random mutations.
//!
//! [`KeyShape`]: crate::json::scan_value::KeyShape

mod reference;
mod walk;

#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use tokenaudit_core::CallRecord;

use crate::json::value::{Lenient, Scalar};
use crate::record::dedup_key::DedupKey;
use crate::record::fields::{fresh_tags, LBool, LMoney, LStr, LTime, LU64};
use crate::record::staging::{LNum, RawLine};
use crate::rejects::{Reject, RejectReason};

/// A canonical field: a slot of [`RawLine`], read with that slot's lenient
/// reader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Timestamp,
    RequestId,
    Provider,
    Model,
    Feature,
    Route,
    Team,
    User,
    Session,
    Turn,
    /// The call's outcome as text (`ok`, `error`, …).
    Status,
    ErrorKind,
    HttpStatus,
    Attempt,
    RetryOf,
    /// Milliseconds, possibly fractional.
    Latency,
    Ttft,
    Batch,
    ServiceTier,
    /// Where inference ran (Anthropic's `usage.inference_geo`): `us` is
    /// US-only inference.
    InferenceGeo,
    FinishReason,
    MaxTokens,
    /// A logged fingerprint (hex digest or text) of the prompt and of its
    /// shared prefix, and the prefix's length in tokens.
    PromptHash,
    PrefixHash,
    PrefixTokens,
    /// The cost the log states, in dollars.
    Cost,
    /// OpenAI's convention: input including cached reads and writes.
    PromptTokens,
    CompletionTokens,
    /// `*_tokens_details.cached_tokens`: the cached part of the input.
    CachedTokens,
    ReasoningTokens,
    /// Anthropic's convention: input excluding the cache, which
    /// [`Target::CacheReadTokens`] and [`Target::CacheWriteTokens`] add.
    InputTokens,
    OutputTokens,
    CacheReadTokens,
    CacheWriteTokens,
    CacheWrite5mTokens,
    CacheWrite1hTokens,
    /// Web searches the provider ran (billed per search).
    WebSearches,
    /// Audio tokens among the input and among the output (priced at the
    /// model's audio rates).
    AudioInTokens,
    AudioOutTokens,
}

impl Target {
    /// The field as `tokenaudit formats` names it.
    pub fn name(self) -> &'static str {
        use Target as T;
        match self {
            T::Timestamp => "timestamp",
            T::RequestId => "request id",
            T::Provider => "provider",
            T::Model => "model",
            T::Feature => "feature",
            T::Route => "route",
            T::Team => "team",
            T::User => "user",
            T::Session => "session",
            T::Turn => "turn",
            T::Status => "status",
            T::ErrorKind => "error",
            T::HttpStatus => "http status",
            T::Attempt => "attempt",
            T::RetryOf => "retry of",
            T::Latency => "latency (ms)",
            T::Ttft => "time to first token (ms)",
            T::Batch => "batch",
            T::ServiceTier => "service tier",
            T::InferenceGeo => "inference geography",
            T::FinishReason => "finish reason",
            T::MaxTokens => "max tokens",
            T::PromptHash => "prompt fingerprint",
            T::PrefixHash => "system prompt fingerprint",
            T::PrefixTokens => "system prompt tokens",
            T::Cost => "logged cost (USD)",
            T::PromptTokens => "input tokens (cache included)",
            T::CompletionTokens => "output tokens",
            T::CachedTokens => "cached input tokens",
            T::ReasoningTokens => "reasoning tokens",
            T::InputTokens => "input tokens (cache excluded)",
            T::OutputTokens => "output tokens",
            T::CacheReadTokens => "cache read tokens",
            T::CacheWriteTokens => "cache write tokens",
            T::CacheWrite5mTokens => "5-minute cache write tokens",
            T::CacheWrite1hTokens => "1-hour cache write tokens",
            T::WebSearches => "web searches",
            T::AudioInTokens => "audio input tokens",
            T::AudioOutTokens => "audio output tokens",
        }
    }
}

/// A value only the format's hook reads: its dotted paths, the first that
/// holds something winning (as for a field, but anything other than
/// missing or `null` holds something).
#[derive(Clone, Copy, Debug)]
pub enum Capture {
    /// The value, as the lenient readers see it ([`Captured::value`]).
    Value(&'static [&'static str]),
    /// The value's exact JSON text ([`Captured::text`]).
    Text(&'static [&'static str]),
    /// Whether the value is an object ([`Captured::object`]); paths may go
    /// on into it.
    Object(&'static [&'static str]),
    /// The value's exact JSON text when it is a list ([`Captured::text`]),
    /// where paths go on into it when it is an object (Bedrock's logged
    /// body: a response, or a stream's list of events).
    ListText(&'static [&'static str]),
    /// An object's entries ([`Captured::entries`]), each with its key's
    /// class by the function (worked out once per key and thread: exports
    /// repeat their keys line after line).
    Entries(&'static [&'static str], fn(&str) -> u8),
}

impl Capture {
    fn paths(self) -> &'static [&'static str] {
        match self {
            Capture::Value(p)
            | Capture::Text(p)
            | Capture::Object(p)
            | Capture::ListText(p)
            | Capture::Entries(p, _) => p,
        }
    }
}

/// What a format's hook receives besides the staged record: the values of
/// [`Spec::captures`], by their index there.
pub struct Captured<'c, 'a> {
    line: &'c Line<'a>,
    slots: &'c [Slot],
}

static NULL: Scalar<'static> = Scalar::Null;

impl<'a> Captured<'_, 'a> {
    /// A [`Capture::Value`]: `null` when missing.
    pub fn value(&self, i: usize) -> &Scalar<'a> {
        match &self.slots[i] {
            Slot::Value(leaves) => leaves
                .iter()
                .map(|&l| &self.line.values[l])
                .find(|v| **v != Scalar::Null)
                .unwrap_or(&NULL),
            _ => panic!("capture {i} is not a value"),
        }
    }

    /// A [`Capture::Value`] as a label.
    pub fn label(&self, i: usize) -> Lenient<Cow<'a, str>> {
        self.value(i).clone().label()
    }

    /// A [`Capture::Text`]: the first of its paths with a value other than
    /// `null`; `None` when none has one.
    pub fn text(&self, i: usize) -> Option<&'a str> {
        match &self.slots[i] {
            Slot::Text(texts) => texts.iter().find_map(|&t| self.line.texts[t]),
            _ => panic!("capture {i} is not a text"),
        }
    }

    /// A [`Capture::Object`]: whether (one of) its paths holds an object.
    pub fn object(&self, i: usize) -> bool {
        match &self.slots[i] {
            Slot::Object(marks) => marks.iter().any(|&m| self.line.marks & (1 << m) != 0),
            _ => panic!("capture {i} is not an object"),
        }
    }

    /// A [`Capture::Entries`]: the entries of the first of its paths that
    /// holds an object, in key order, the last of a repeated key winning (as
    /// a `serde_json::Map` holds them); `None` when none holds an object.
    pub fn entries(&self, i: usize) -> Option<&[Entry<'a>]> {
        match &self.slots[i] {
            Slot::Entries(all) => all.iter().find_map(|&e| self.line.entries[e].as_deref()),
            _ => panic!("capture {i} is not entries"),
        }
    }
}

/// The part of a format that is not a path: it may change the staged
/// record, or refuse it (a skip rule: a reject of reason
/// [`RejectReason::NotACall`] is counted, not an error).
pub type Hook = for<'c, 'a> fn(&mut RawLine<'a>, &Captured<'c, 'a>) -> Result<(), Reject>;

/// What a stateful format keeps from one line of a file to the next (see
/// [`Spec::state`]): the format's own type, made by [`Spec::state`]'s
/// function for each file.
pub type FileState = Box<dyn std::any::Any + Send>;

/// The hook of a stateful format: as [`Hook`], with the file's state.
pub type StateHook =
    for<'c, 'a> fn(&mut RawLine<'a>, &Captured<'c, 'a>, &mut FileState) -> Result<(), Reject>;

/// What identifies a record across copies of it (Claude Code writes one
/// message several times): records with a key are held back by the
/// pipeline, which keeps one per key across every file of the run. A
/// stateful format's key also sees its file's state, after the line.
pub type KeyFn =
    for<'c, 'a> fn(&Captured<'c, 'a>, &CallRecord<'a>, Option<&FileState>) -> Option<DedupKey>;

/// A format as data (see the module documentation).
#[derive(Debug)]
pub struct Spec {
    /// Each target's dotted paths, tried in order: the first that holds a
    /// value (anything but missing or `null`) gives the field. A target may
    /// appear once.
    pub fields: &'static [(Target, &'static [&'static str])],
    /// Paths of objects (or lists, or JSON text of either, as CSV cells
    /// hold them) read as tags: the first present one. An object's short
    /// scalar entries are tags by key order (never a key that names prompt
    /// or completion text); a list's items are tags named
    /// [`Spec::list_tag`].
    pub tags: &'static [&'static str],
    pub list_tag: &'static str,
    /// Values only the hook reads.
    pub captures: &'static [Capture],
    pub hook: Option<Hook>,
    /// Records' dedup key, for formats that write a call more than once.
    pub key: Option<KeyFn>,
    /// For a format whose lines need what earlier lines said (Codex: the
    /// model of the turn): a fresh state for a file, and the hook that reads
    /// and updates it. Such a file is read whole, in order, by one worker.
    pub state: Option<(fn() -> FileState, StateHook)>,
    /// The compiled form, made on first use.
    pub program: OnceLock<Program>,
}

impl Spec {
    /// A spec with no compiled form yet (for `static` items).
    pub const fn new(
        fields: &'static [(Target, &'static [&'static str])],
        tags: &'static [&'static str],
        list_tag: &'static str,
        captures: &'static [Capture],
        hook: Option<Hook>,
    ) -> Spec {
        Spec {
            fields,
            tags,
            list_tag,
            captures,
            hook,
            key: None,
            state: None,
            program: OnceLock::new(),
        }
    }

    /// The same spec with a state carried from line to line (see
    /// [`Spec::state`]).
    pub const fn with_state(mut self, fresh: fn() -> FileState, hook: StateHook) -> Spec {
        self.state = Some((fresh, hook));
        self
    }

    /// A fresh state for a file of this format, if it has one.
    pub fn fresh_state(&self) -> Option<FileState> {
        self.state.map(|(fresh, _)| fresh())
    }

    /// The same spec with a dedup key (see [`KeyFn`]).
    pub const fn with_key(mut self, key: KeyFn) -> Spec {
        self.key = Some(key);
        self
    }

    fn program(&self) -> &Program {
        self.program.get_or_init(|| Program::compile(self))
    }

    /// Reads one line.
    pub fn parse_line<'a>(&self, line: &'a [u8]) -> Result<CallRecord<'a>, Reject> {
        match std::str::from_utf8(line) {
            Ok(text) => self.parse_line_str(text),
            Err(_) => Err(Reject::new(RejectReason::MalformedJson, "invalid UTF-8")),
        }
    }

    /// Reads one line already validated as UTF-8: with the engine, or with
    /// the reference when the engine gives up.
    pub fn parse_line_str<'a>(&self, line: &'a str) -> Result<CallRecord<'a>, Reject> {
        self.parse_keyed_str(line).map(|(record, _)| record)
    }

    /// [`Spec::parse_line_str`] with the record's dedup key (see
    /// [`Spec::key`]). A stateful format's line is read with a fresh state
    /// (as the first line of a file): see [`Spec::parse_in_file`].
    pub fn parse_keyed_str<'a>(
        &self,
        line: &'a str,
    ) -> Result<(CallRecord<'a>, Option<DedupKey>), Reject> {
        self.parse_in_file(line, None)
    }

    /// Reads a line of a file with the file's state (for a stateful
    /// format; `None` for the others, or for a stateful format's line read
    /// alone, as a file's first line).
    pub fn parse_in_file<'a>(
        &self,
        line: &'a str,
        state: Option<&mut FileState>,
    ) -> Result<(CallRecord<'a>, Option<DedupKey>), Reject> {
        // A stateful format read without its file's state: as a file's
        // first line.
        let mut fresh = match state {
            Some(_) => None,
            None => self.fresh_state(),
        };
        let state = state.or(fresh.as_mut());
        let program = self.program();
        let mut staged = Line::new();
        if walk::read(program, line, &mut staged).is_err() {
            staged.clear();
            reference::read(program, line, &mut staged)?;
        }
        self.finish(&mut staged, state)
    }

    /// The same for raw bytes.
    pub fn parse_in_file_bytes<'a>(
        &self,
        line: &'a [u8],
        state: Option<&mut FileState>,
    ) -> Result<(CallRecord<'a>, Option<DedupKey>), Reject> {
        match std::str::from_utf8(line) {
            Ok(text) => self.parse_in_file(text, state),
            Err(_) => Err(Reject::new(RejectReason::MalformedJson, "invalid UTF-8")),
        }
    }

    /// The same for raw bytes.
    pub fn parse_keyed<'a>(
        &self,
        line: &'a [u8],
    ) -> Result<(CallRecord<'a>, Option<DedupKey>), Reject> {
        match std::str::from_utf8(line) {
            Ok(text) => self.parse_keyed_str(text),
            Err(_) => Err(Reject::new(RejectReason::MalformedJson, "invalid UTF-8")),
        }
    }

    /// The staged values into a record: each target's first present value,
    /// the tags, the hook, then the record builder every reader shares.
    fn finish<'a>(
        &self,
        line: &mut Line<'a>,
        mut state: Option<&mut FileState>,
    ) -> Result<(CallRecord<'a>, Option<DedupKey>), Reject> {
        let program = self.program();
        let mut raw = RawLine {
            tags: std::mem::take(&mut line.tags),
            ..RawLine::default()
        };
        for (target, leaves) in &program.fields {
            set(&mut raw, *target, leaves, &line.values);
        }
        let captured = Captured {
            line,
            slots: &program.captures,
        };
        let mut hooked = self.hook.map_or(Ok(()), |hook| hook(&mut raw, &captured));
        if let (Ok(()), Some((_, hook)), Some(state)) = (&hooked, self.state, state.as_deref_mut())
        {
            hooked = hook(&mut raw, &captured, state);
        }
        let record = hooked.and_then(|()| raw.into_record());
        let key = match (&record, self.key) {
            (Ok(r), Some(key)) => key(&captured, r, state.as_deref()),
            _ => None,
        };
        line.recycle();
        Ok((record?, key))
    }

    /// Reads a line with the engine and with the reference; when the engine
    /// accepts it, both results must be equal (this panics otherwise).
    /// Returns whether the engine accepted it.
    #[cfg(any(test, feature = "fuzzing"))]
    #[doc(hidden)]
    pub fn agree(&self, line: &str) -> bool {
        let program = self.program();
        let mut slow = Line::new();
        let mut slow_state = self.fresh_state();
        let slow = reference::read(program, line, &mut slow)
            .and_then(|_| self.finish(&mut slow, slow_state.as_mut()));
        let slow = slow.map(|(r, key)| (r, key.map(|k| k.key)));
        let mut fast = Line::new();
        match walk::read(program, line, &mut fast) {
            Ok(()) => {
                let mut state = self.fresh_state();
                let fast = self
                    .finish(&mut fast, state.as_mut())
                    .map(|(r, key)| (r, key.map(|k| k.key)));
                assert_eq!(format!("{fast:?}"), format!("{slow:?}"), "{line}");
                true
            }
            Err(_) => false,
        }
    }

    /// Where each field is read from, a line per field (`tokenaudit
    /// formats` prints it under the format's description): what the spec
    /// says, so the documentation cannot drift from the reader.
    pub fn describe(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .fields
            .iter()
            .map(|(t, paths)| format!("{}: {}", t.name(), paths.join(" | ")))
            .collect();
        if !self.tags.is_empty() {
            out.push(format!("tags: {}", self.tags.join(" | ")));
        }
        if !self.captures.is_empty() {
            // Wrapped at 76 columns, as the rest of `tokenaudit formats`.
            let mut line = String::from("also read:");
            for (i, c) in self.captures.iter().enumerate() {
                let item = c.paths().join(" | ");
                let comma = if i + 1 < self.captures.len() { "," } else { "" };
                if line.len() + 1 + item.len() + comma.len() > 62 && line.len() > 10 {
                    out.push(std::mem::replace(&mut line, String::from(" ")));
                }
                line.push(' ');
                line.push_str(&item);
                line.push_str(comma);
            }
            out.push(line);
        }
        out
    }

    /// Its paths, each with what it feeds, for documentation and checks.
    pub fn paths(&self) -> impl Iterator<Item = (String, &'static str)> + '_ {
        let fields = self
            .fields
            .iter()
            .flat_map(|(t, ps)| ps.iter().map(move |p| (format!("{t:?}"), *p)));
        let tags = self.tags.iter().map(|p| ("tags".to_string(), *p));
        let captures = self
            .captures
            .iter()
            .flat_map(|c| c.paths().iter().map(|p| ("hook".to_string(), *p)));
        fields.chain(tags).chain(captures)
    }
}

type Tags<'a> = Vec<(Cow<'a, str>, Cow<'a, str>)>;

/// An object's entries in key order (see [`Captured::entries`]).
type Entries<'a> = Vec<Entry<'a>>;

/// An entry of an object (see [`Capture::Entries`]).
#[derive(Clone, Debug)]
pub struct Entry<'a> {
    pub key: Cow<'a, str>,
    /// The key's class, by the capture's function.
    pub class: u8,
    pub value: Scalar<'a>,
}

/// What a line holds for the spec before it is a record: each leaf path's
/// value, each text and entries capture (the last one the line gives of
/// each), and the tags.
pub(crate) struct Line<'a> {
    values: [Scalar<'a>; MAX_LEAVES],
    texts: [Option<&'a str>; MAX_TEXTS],
    entries: [Option<Entries<'a>>; MAX_ENTRIES],
    /// Bit `i`: object capture `i` held an object.
    marks: u64,
    tags: Tags<'a>,
}

impl Line<'_> {
    fn new() -> Self {
        Line {
            values: [const { Scalar::Null }; MAX_LEAVES],
            texts: [None; MAX_TEXTS],
            entries: [const { None }; MAX_ENTRIES],
            marks: 0,
            tags: fresh_tags(),
        }
    }

    /// Keeps the entries' allocations for the next line's (see
    /// [`fresh_entries`]).
    fn recycle(&mut self) {
        for entries in &mut self.entries {
            let Some(list) = entries.take() else {
                continue;
            };
            if list.capacity() == 0 {
                continue;
            }
            // Emptied into a list of another lifetime: the same layout, so
            // the allocation is kept (std collects in place).
            #[allow(clippy::unnecessary_filter_map)]
            let empty: Entries<'static> = list.into_iter().filter_map(|_| None).collect();
            SPARE_ENTRIES.with_borrow_mut(|spare| {
                if spare.len() < MAX_ENTRIES {
                    spare.push(empty);
                }
            });
        }
    }

    fn clear(&mut self) {
        self.values.fill(Scalar::Null);
        self.texts = [None; MAX_TEXTS];
        self.entries.fill(None);
        self.marks = 0;
        self.tags.clear();
    }
}

thread_local! {
    /// Emptied entries lists whose allocations the next lines reuse.
    static SPARE_ENTRIES: std::cell::RefCell<Vec<Entries<'static>>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// An empty entries list, with the capacity of a recycled one when there is
/// one (a fresh `Vec` for each capture of each line was a malloc and a
/// free).
pub(crate) fn fresh_entries<'a>() -> Entries<'a> {
    SPARE_ENTRIES
        .with_borrow_mut(|spare| spare.pop())
        .unwrap_or_default()
}

/// Most leaf paths, text captures and entries captures a spec may have
/// (a line's values are kept on the stack).
const MAX_LEAVES: usize = 34;
const MAX_TEXTS: usize = 4;
const MAX_ENTRIES: usize = 6;

/// Sets `target` from the first of `leaves` whose value is present.
fn set<'a>(raw: &mut RawLine<'a>, target: Target, leaves: &[usize], values: &[Scalar<'a>]) {
    use Target as T;
    // The first present value, converted as the target reads it.
    macro_rules! first {
        ($read:expr) => {{
            let mut found = Default::default();
            for &leaf in leaves {
                // Missing or null: nothing, whatever the reader.
                if values[leaf] == Scalar::Null {
                    continue;
                }
                // A clone: a capture may read the same path.
                let v = values[leaf].clone();
                let read = $read(v);
                if read_present(&read) {
                    found = read;
                    break;
                }
            }
            found
        }};
    }
    let label = |v: Scalar<'a>| LStr(v.label());
    let count = |v: Scalar<'a>| LU64(v.count());
    let u = &mut raw.usage;
    match target {
        T::Timestamp => raw.timestamp = first!(|v: Scalar<'a>| LTime(v.time())),
        T::RequestId => raw.request_id = first!(label),
        T::Provider => raw.provider = first!(label),
        T::Model => raw.model = first!(label),
        T::Feature => raw.feature = first!(label),
        T::Route => raw.route = first!(label),
        T::Team => raw.team = first!(label),
        T::User => raw.user = first!(label),
        T::Session => raw.session = first!(label),
        T::Turn => raw.turn = first!(count),
        T::Status => raw.status = first!(label),
        T::ErrorKind => raw.error_kind = first!(label),
        T::HttpStatus => raw.http_status = first!(count),
        T::Attempt => raw.attempt = first!(count),
        T::RetryOf => raw.retry_of = first!(label),
        T::Latency => raw.latency_ms = first!(LNum::from_scalar),
        T::Ttft => raw.ttft_ms = first!(LNum::from_scalar),
        T::Batch => raw.batch = first!(|v: Scalar<'a>| LBool::from_label(v.label())),
        T::ServiceTier => raw.service_tier = first!(label),
        T::InferenceGeo => u.set_geo(&first!(label).0),
        T::FinishReason => raw.finish_reason = first!(label),
        T::MaxTokens => raw.max_tokens = first!(count),
        T::PromptHash => raw.prompt_hash = first!(label),
        T::PrefixHash => raw.prefix_hash = first!(label),
        T::PrefixTokens => raw.prefix_tokens = first!(count),
        T::Cost => raw.cost = first!(|v: Scalar<'a>| LMoney::from_label(v.label())),
        T::PromptTokens => u.prompt_tokens = first!(count).0,
        T::CompletionTokens => u.completion_tokens = first!(count).0,
        T::CachedTokens => u.cached_tokens = first!(count).0,
        T::ReasoningTokens => u.reasoning_tokens = first!(count).0,
        T::InputTokens => u.input_tokens = first!(count).0,
        T::OutputTokens => u.output_tokens = first!(count).0,
        T::CacheReadTokens => u.cache_read_input_tokens = first!(count).0,
        T::CacheWriteTokens => u.cache_creation_input_tokens = first!(count).0,
        T::CacheWrite5mTokens => u.cache_write_5m = first!(count).0,
        T::CacheWrite1hTokens => u.cache_write_1h = first!(count).0,
        T::WebSearches => {
            // Boxed apart (few calls have any): made only when found.
            let found = first!(count).0;
            if found.is_present() {
                u.extras().web_searches = found;
            }
        }
        T::AudioInTokens => {
            let found = first!(count).0;
            if found.is_present() {
                u.extras().audio_in = found;
            }
        }
        T::AudioOutTokens => {
            let found = first!(count).0;
            if found.is_present() {
                u.extras().audio_out = found;
            }
        }
    }
}

/// Whether a lenient reader found anything (a wrong type counts: it is
/// reported, not passed over for the next path).
trait Present {
    fn present(&self) -> bool;
}

macro_rules! present {
    ($($t:ty),*) => {$(
        impl Present for $t {
            fn present(&self) -> bool {
                self.0.is_present()
            }
        }
    )*};
}
present!(LStr<'_>, LU64, LTime, LNum, LBool, LMoney);

fn read_present(v: &impl Present) -> bool {
    v.present()
}

/// A spec compiled: its paths as a tree of keys.
#[derive(Debug)]
pub struct Program {
    /// `nodes[0]` is the line's object.
    nodes: Vec<Node>,
    /// How many leaf values a line has.
    leaves: usize,
    /// Each target's leaves, in the spec's order.
    fields: Vec<(Target, Vec<usize>)>,
    /// The tag paths' nodes, in the spec's order.
    tags: Vec<usize>,
    list_tag: &'static str,
    /// Where each capture of the spec is kept.
    captures: Vec<Slot>,
    /// How many text and entries captures there are, and how each entries
    /// capture classes its keys.
    texts: usize,
    entries: usize,
    classify: Vec<fn(&str) -> u8>,
    /// How many object captures there are.
    marks: u32,
    /// The first of this program's slots in each thread's key predictions
    /// (one per object node).
    shapes: usize,
}

#[derive(Debug)]
struct Node {
    key: Box<str>,
    children: Vec<usize>,
    kind: Kind,
    /// Its key predictions' place in each thread's (objects and entries
    /// captures).
    shape: usize,
}

#[derive(Clone, Debug, PartialEq)]
enum Kind {
    /// An object some paths go through, with the nodes under it that hold
    /// values (reset when it comes again: the last of a repeated key wins).
    Object {
        under: Vec<usize>,
        /// Its bit in `marks`, when an object capture names it.
        mark: Option<u32>,
        /// Where its JSON text goes when it is a list ([`Capture::ListText`]).
        list_text: Option<usize>,
    },
    /// A value read as a scalar into `values[i]`.
    Leaf(usize),
    /// A value read as tags (the spec's `i`-th tag path).
    Tags(usize),
    /// A value kept as its JSON text in `texts[i]`.
    Text(usize),
    /// An object kept as its entries in `entries[i]`.
    Entries(usize),
}

/// Where a capture's paths are kept, in order.
#[derive(Clone, Debug, PartialEq)]
enum Slot {
    Value(Vec<usize>),
    Object(Vec<u32>),
    Text(Vec<usize>),
    Entries(Vec<usize>),
}

/// Slots of key predictions handed out so far, across programs.
static SHAPES: AtomicUsize = AtomicUsize::new(0);

fn object() -> Kind {
    Kind::Object {
        under: Vec::new(),
        mark: None,
        list_text: None,
    }
}

impl Program {
    fn compile(spec: &Spec) -> Program {
        let mut p = Program {
            nodes: vec![Node {
                key: "".into(),
                children: Vec::new(),
                kind: object(),
                shape: 0,
            }],
            leaves: 0,
            fields: Vec::new(),
            tags: Vec::new(),
            list_tag: spec.list_tag,
            captures: Vec::new(),
            texts: 0,
            entries: 0,
            marks: 0,
            classify: Vec::new(),
            shapes: 0,
        };
        for (target, paths) in spec.fields {
            assert!(
                !p.fields.iter().any(|(t, _)| t == target),
                "{target:?} is given twice"
            );
            let leaves = paths.iter().map(|path| p.leaf(path)).collect();
            p.fields.push((*target, leaves));
        }
        for (i, path) in spec.tags.iter().enumerate() {
            let node = p.node(path, Kind::Tags(i));
            p.tags.push(node);
        }
        for capture in spec.captures {
            let slot = match *capture {
                Capture::Value(paths) => {
                    Slot::Value(paths.iter().map(|path| p.leaf(path)).collect())
                }
                Capture::Text(paths) => Slot::Text(
                    paths
                        .iter()
                        .map(|path| {
                            p.texts += 1;
                            p.node(path, Kind::Text(p.texts - 1));
                            p.texts - 1
                        })
                        .collect(),
                ),
                Capture::ListText(paths) => Slot::Text(
                    paths
                        .iter()
                        .map(|path| {
                            let node = p.object_node(path);
                            p.texts += 1;
                            match &mut p.nodes[node].kind {
                                Kind::Object { list_text, .. } => {
                                    assert!(list_text.is_none(), "{path} is captured twice");
                                    *list_text = Some(p.texts - 1);
                                }
                                _ => unreachable!("an object node"),
                            }
                            p.texts - 1
                        })
                        .collect(),
                ),
                Capture::Object(paths) => Slot::Object(
                    paths
                        .iter()
                        .map(|path| {
                            let node = p.object_node(path);
                            match &mut p.nodes[node].kind {
                                // A path captured twice shares its mark.
                                Kind::Object { mark: Some(m), .. } => *m,
                                Kind::Object { mark, .. } => {
                                    *mark = Some(p.marks);
                                    p.marks += 1;
                                    p.marks - 1
                                }
                                _ => unreachable!("an object node"),
                            }
                        })
                        .collect(),
                ),
                Capture::Entries(paths, classify) => Slot::Entries(
                    paths
                        .iter()
                        .map(|path| {
                            p.entries += 1;
                            p.classify.push(classify);
                            p.node(path, Kind::Entries(p.entries - 1));
                            p.entries - 1
                        })
                        .collect(),
                ),
            };
            p.captures.push(slot);
        }
        assert!(p.marks <= 64, "more than 64 object captures");
        p.number_objects();
        assert!(p.leaves <= MAX_LEAVES, "more than {MAX_LEAVES} leaf paths");
        assert!(p.texts <= MAX_TEXTS, "more than {MAX_TEXTS} text captures");
        assert!(
            p.entries <= MAX_ENTRIES,
            "more than {MAX_ENTRIES} entries captures"
        );
        p
    }

    /// The leaf at `path`, shared by every use of that path.
    fn leaf(&mut self, path: &str) -> usize {
        let next = self.leaves;
        let node = self.node(path, Kind::Leaf(next));
        match self.nodes[node].kind {
            Kind::Leaf(i) => {
                if i == next {
                    self.leaves += 1;
                }
                i
            }
            _ => panic!("{path} is read two ways"),
        }
    }

    /// The object node at `path` (made if new: paths may also go on into it).
    fn object_node(&mut self, path: &str) -> usize {
        let (parent, last) = match path.rsplit_once('.') {
            Some((parent, last)) => (self.object_node(parent), last),
            None => (0, path),
        };
        let found = self.nodes[parent]
            .children
            .iter()
            .copied()
            .find(|&c| &*self.nodes[c].key == last);
        match found {
            Some(c) => {
                assert!(
                    matches!(self.nodes[c].kind, Kind::Object { .. }),
                    "{path} is read two ways"
                );
                c
            }
            None => {
                let node = self.nodes.len();
                self.nodes.push(Node {
                    key: last.into(),
                    children: Vec::new(),
                    kind: object(),
                    shape: 0,
                });
                self.nodes[parent].children.push(node);
                node
            }
        }
    }

    /// The node at `path`, made with `kind` if new.
    fn node(&mut self, path: &str, kind: Kind) -> usize {
        let mut at = 0;
        let segments: Vec<&str> = path.split('.').collect();
        for (i, seg) in segments.iter().enumerate() {
            assert!(!seg.is_empty(), "empty segment in {path}");
            let last = i + 1 == segments.len();
            let found = self.nodes[at]
                .children
                .iter()
                .copied()
                .find(|&c| &*self.nodes[c].key == *seg);
            at = match found {
                Some(c)
                    if last
                        && !(matches!(self.nodes[c].kind, Kind::Leaf(_))
                            && matches!(kind, Kind::Leaf(_))) =>
                {
                    panic!("{path} is read two ways")
                }
                Some(c) => c,
                None => {
                    let node = self.nodes.len();
                    let kind = if last { kind.clone() } else { object() };
                    self.nodes.push(Node {
                        key: (*seg).into(),
                        children: Vec::new(),
                        kind,
                        shape: 0,
                    });
                    self.nodes[at].children.push(node);
                    node
                }
            };
            let is_object = matches!(self.nodes[at].kind, Kind::Object { .. });
            assert_eq!(is_object, !last, "{path}: a value and an object at once");
        }
        at
    }

    /// Gives each object the nodes under it and a prediction slot.
    fn number_objects(&mut self) {
        fn under(p: &Program, node: usize, out: &mut Vec<usize>) {
            for &c in &p.nodes[node].children {
                if let Kind::Object { mark, .. } = p.nodes[c].kind {
                    if mark.is_some() {
                        out.push(c);
                    }
                    under(p, c, out);
                } else {
                    out.push(c);
                }
            }
        }
        // Objects and entries captures predict their keys.
        let objects: Vec<usize> = (0..self.nodes.len())
            .filter(|&n| matches!(self.nodes[n].kind, Kind::Object { .. } | Kind::Entries(_)))
            .collect();
        self.shapes = SHAPES.fetch_add(objects.len(), Ordering::Relaxed);
        for (slot, &n) in objects.iter().enumerate() {
            if let Kind::Object {
                mark, list_text, ..
            } = self.nodes[n].kind
            {
                let mut nodes = Vec::new();
                under(self, n, &mut nodes);
                self.nodes[n].kind = Kind::Object {
                    under: nodes,
                    mark,
                    list_text,
                };
            }
            self.nodes[n].shape = self.shapes + slot;
        }
    }
}
