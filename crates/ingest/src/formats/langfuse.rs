//! Langfuse observation exports: the UI's and API's observations (camelCase,
//! `usageDetails`) and the blob-storage export's enriched observations
//! (snake_case, `usage_details`), one JSON object per line or per array
//! element.
//!
//! Only model calls are calls: observations of type `GENERATION` (and
//! `EMBEDDING`, which Langfuse also prices). Spans, events, tools, agents and
//! the other types are the trace's structure; each is counted under
//! [`RejectReason::NotACall`], which `--strict` does not fail on.
//!
//! Token convention: Langfuse's usage keys are disjoint parts. Its SDK
//! integrations subtract every `input_*` detail from `input` and every
//! `output_*` detail from `output` (the Python SDK's usage parsing), and its
//! UI sums every key containing `input` as input usage. So `input` is the
//! uncached prompt tokens, cached reads (`cache_read_input_tokens`,
//! `input_cached_tokens`, `input_cache_read`) and cache writes
//! (`cache_creation_input_tokens`, `input_cache_creation`, or LangChain's
//! split of them by TTL, `input_ephemeral_5m_input_tokens` and
//! `input_ephemeral_1h_input_tokens`) and audio (`input_audio_tokens`, at
//! the audio rate) are added to it,
//! and reasoning (`output_reasoning_tokens`, `output_reasoning`) and audio
//! (`output_audio_tokens`) are added to
//! `output`. The input's text and image tokens (`input_text_tokens`,
//! `input_image_tokens`, from OpenAI's details of its audio models) are no
//! such part: with the audio they are all the input, the cached reads among
//! them, so the uncached input is their sum less the reads.
//! `total` is ignored (it is the sum). Older exports give `usage`
//! (`{input, output, total, unit}`, no cache parts) instead: read when there
//! is no `usageDetails` and its `unit` is `TOKENS` (or not given).
//!
//! Other fields: `id` (request id), `startTime` (time), `endTime` and
//! `completionStartTime` (latency and time to first token), `level` `ERROR`
//! (a failed call), `model` (or `providedModelName`), `modelParameters.max_tokens`,
//! `totalCost` (or `costDetails.total`; the computed `calculatedTotalCost`
//! or `costDetails.total` when `totalCost` is 0) as the logged cost, and the trace's
//! `userId`, `sessionId`, `tags`, `traceName` (the feature unless
//! `metadata.feature` is set) and short scalar `metadata` values as tags. The
//! observation's `name` is the route. When `input` holds chat messages (a
//! list, or an object's `messages` list), they are read as the gateway
//! reader reads `messages` ([`RawLine::set_messages`]): the prompt and
//! system-prompt fingerprints, the text near-duplicate detection compares
//! (in no report without `--include-prompts`), the system prompt's length
//! and the user messages. `output` and `statusMessage` are never read.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use tokenaudit_core::CallRecord;

use crate::engine::{Capture, Captured, Spec, Target as T};
use crate::formats::{Builtin, Detect, Format, JsonObject};
use crate::json::scan_value::short_text;
use crate::record::fields::{LStr, LTime, Lenient, Problems, Scalar, LU64};
use crate::record::staging::{LNum, RawLine};
use crate::record::tags::MAX_TAG_VALUE;
use crate::rejects::{Reject, RejectReason};

/// Where an observation keeps each field (camelCase from the UI and API,
/// snake_case from the blob-storage export).
pub static SPEC: Spec = Spec::new(
    &[
        (T::RequestId, &["id"]),
        (T::Route, &["name"]),
        (
            T::Model,
            &["model", "providedModelName", "provided_model_name"],
        ),
        (
            T::Cost,
            &[
                "totalCost",
                "total_cost",
                "calculatedTotalCost",
                "costDetails.total",
                "cost_details.total",
            ],
        ),
        // A trace's observations (`GET /traces/{id}`) have their trace's as
        // `trace` (see `source::container::PageRecords`).
        (T::User, &["userId", "user_id", "trace.userId"]),
        (T::Session, &["sessionId", "session_id", "trace.sessionId"]),
        // Unless `metadata.feature` is set (the hook).
        (T::Feature, &["traceName", "trace_name", "trace.name"]),
    ],
    &["tags", "trace.tags", "traceTags"],
    "tag",
    &[
        Capture::Value(&["type"]),
        Capture::Value(&["level"]),
        Capture::Value(&["startTime", "start_time"]),
        Capture::Value(&["endTime", "end_time"]),
        Capture::Value(&["completionStartTime", "completion_start_time"]),
        Capture::Entries(&["modelParameters", "model_parameters"], |k| {
            MAX_TOKEN_KEYS
                .iter()
                .position(|m| *m == k)
                .map_or(u8::MAX, |i| i as u8)
        }),
        Capture::Entries(&["usageDetails", "usage_details"], |k| usage_kind(k) as u8),
        Capture::Entries(&["metadata"], |k| meta_kind(k) as u8),
        Capture::Text(&["input"]),
        // Older exports (Langfuse v2's observations): `usage` as
        // `{input, output, total, unit}`, read when there is no
        // `usageDetails`.
        Capture::Entries(&["usage"], |k| usage_kind(k) as u8),
        // The costs Langfuse computed, for an export whose `totalCost` is
        // 0 when nobody gave one (see the hook).
        Capture::Value(&["calculatedTotalCost", "calculated_total_cost"]),
        Capture::Value(&["costDetails.total", "cost_details.total"]),
    ],
    Some(hook),
);

/// What is not a path: the observation type's skip rule, the level, the
/// times, the token limit, the usage parts, the metadata and the input's
/// messages.
fn hook<'a>(raw: &mut RawLine<'a>, c: &Captured<'_, 'a>) -> Result<(), Reject> {
    if let Lenient::Value(kind) = c.label(0) {
        if !kind.eq_ignore_ascii_case("GENERATION") && !kind.eq_ignore_ascii_case("EMBEDDING") {
            return Err(Reject::new(
                RejectReason::NotACall,
                format!("langfuse {kind} observation (only generations are model calls)"),
            ));
        }
    }
    if let Lenient::Value(level) = c.label(1) {
        if level.eq_ignore_ascii_case("ERROR") {
            raw.status = LStr(Lenient::Value(Cow::Borrowed("error")));
        }
    }
    let (start, latency, ttft) = times(c.value(2), c.value(3), c.value(4));
    raw.timestamp = start;
    raw.latency_ms = latency;
    raw.ttft_ms = ttft;
    // The first of the token limits that reads as a count (parameters are
    // free-form: `"Infinity"`, strings; an unreadable one is passed over).
    if let Some(params) = c.entries(5) {
        let limit = (0..MAX_TOKEN_KEYS.len() as u8).find_map(|key| {
            let e = params.iter().find(|e| e.class == key)?;
            match e.value.clone().count() {
                Lenient::Value(n) => Some(n),
                _ => None,
            }
        });
        if let Some(n) = limit {
            raw.max_tokens = LU64(Lenient::Value(n));
        }
    }
    // `usage`'s `unit` says what it counts: only tokens are read.
    let not_tokens = |e: &crate::engine::Entry<'_>| {
        e.key.eq_ignore_ascii_case("unit")
            && !matches!(e.value.clone().label(), Lenient::Value(u) if u.eq_ignore_ascii_case("TOKENS"))
    };
    let legacy = c.entries(9).filter(|usage| !usage.iter().any(not_tokens));
    if let Some(details) = c.entries(6).or(legacy) {
        // In key order, so the first problem noted is the first key's.
        let mut p = Problems::default();
        let mut sums = UsageSums::default();
        // The SDK's `usage` may carry its costs (`inputCost`, `totalCost`):
        // money, not counts.
        let counts = |e: &&crate::engine::Entry<'_>| {
            !e.key.eq_ignore_ascii_case("unit")
                && !crate::record::tags::contains_ignore_ascii_case(&e.key, "cost")
        };
        for e in details.iter().filter(counts) {
            if let Some(n) = p.tokens(&e.value.clone().count(), &e.key) {
                sums.add(UsageKind::from(e.class), n);
            }
        }
        if let Some(reject) = p.reject {
            return Err(reject);
        }
        sums.apply(raw);
    }
    if let Some(meta) = c.entries(7) {
        for e in meta {
            let kind = MetaKind::from(e.class);
            if kind == MetaKind::Text {
                continue;
            }
            let Some(text) = short_text(e.value.clone(), MAX_TAG_VALUE) else {
                continue;
            };
            match kind {
                MetaKind::Feature => raw.feature = LStr(Lenient::Value(text)),
                MetaKind::Team => raw.team = LStr(Lenient::Value(text)),
                MetaKind::Text => {}
                MetaKind::Tag => raw.tags.push((e.key.clone(), text)),
            }
        }
    }
    if let Some(messages) = c.text(8).and_then(input_messages) {
        raw.set_messages(messages);
    }
    // `totalCost: 0` beside a cost Langfuse computed is no cost given: the
    // computed one is the logged cost.
    if matches!(raw.cost.0, Lenient::Value(m) if m == tokenaudit_core::Money::ZERO) {
        let computed = [10, 11]
            .into_iter()
            .map(|i| crate::record::fields::LMoney::from_label(c.value(i).clone().label()).0)
            .find_map(|m| match m {
                Lenient::Value(m) if m > tokenaudit_core::Money::ZERO => Some(m),
                _ => None,
            });
        if let Some(m) = computed {
            raw.cost.0 = Lenient::Value(m);
        }
    }
    Ok(())
}

/// `modelParameters` keys read as the call's token limit, in order.
const MAX_TOKEN_KEYS: [&str; 3] = ["max_tokens", "max_output_tokens", "max_completion_tokens"];

/// The start time, and the milliseconds from it to the end and to the
/// first token. A time on the start's day, written as the fields' fast
/// parser reads it, is not parsed: its difference from the start is taken
/// from the times of day (and the start itself is the last start's date
/// plus its time of day, when on that date: see [`start_time`]).
fn times(start: &Scalar<'_>, end: &Scalar<'_>, first: &Scalar<'_>) -> (LTime, LNum, LNum) {
    let (at, start_tod) = match start {
        Scalar::Str(text) => {
            let (at, tod) = start_time(text);
            (at, tod.map(|nanos| (text.as_ref(), nanos)))
        }
        other => (other.clone().time(), None),
    };
    let since_start = |to: &Scalar<'_>| {
        if let (Scalar::Str(text), Some((start, nanos))) = (to, start_tod) {
            if let Some(ms) = same_day_millis(start, nanos, text) {
                return ms;
            }
        }
        millis_between(&at, &to.clone().time())
    };
    let (latency, ttft) = (since_start(end), since_start(first));
    (LTime(at), latency, ttft)
}

thread_local! {
    /// The date of the last start time parsed in full, with its ten bytes:
    /// observations come in time order, so most start on the same day.
    static LAST_DAY: std::cell::Cell<Option<([u8; 10], chrono::NaiveDate)>> =
        const { std::cell::Cell::new(None) };
}

/// A start time as [`Scanner::time`] reads the text (`parse_timestamp`),
/// and its time of day in nanoseconds when it has the shape
/// [`time_of_day`] reads and is that time of day (then it is its date plus
/// that). On the date of the last start parsed in full, it is built from
/// that date without parsing.
fn start_time(text: &str) -> (Lenient<chrono::DateTime<chrono::Utc>>, Option<i64>) {
    use chrono::Timelike;
    let tod = time_of_day(text.as_bytes());
    let day: Option<[u8; 10]> = text.as_bytes().get(..10).and_then(|d| d.try_into().ok());
    if let (Some(nanos), Some(day), Some((last, date))) = (tod, day, LAST_DAY.get()) {
        if day == last {
            let (secs, sub) = (nanos / 1_000_000_000, nanos % 1_000_000_000);
            if let Some(time) =
                chrono::NaiveTime::from_num_seconds_from_midnight_opt(secs as u32, sub as u32)
            {
                return (Lenient::Value(date.and_time(time).and_utc()), tod);
            }
        }
    }
    let Some(at) = crate::record::fields::parse_timestamp(text) else {
        return (Lenient::WrongType, None);
    };
    let parsed =
        i64::from(at.num_seconds_from_midnight()) * 1_000_000_000 + i64::from(at.nanosecond());
    match (tod, day) {
        (Some(nanos), Some(day)) if nanos == parsed => {
            LAST_DAY.set(Some((day, at.date_naive())));
            (Lenient::Value(at), tod)
        }
        _ => (Lenient::Value(at), None),
    }
}

/// [`millis_between`] the start (`start`, its time of day `start_nanos`) and
/// `text`, when `text` is on the start's date (the same ten bytes, so the
/// fields' parser reads the same date) in the shape [`time_of_day`] reads.
#[inline]
fn same_day_millis(start: &str, start_nanos: i64, text: &str) -> Option<LNum> {
    let day = |t: &str| -> Option<[u8; 10]> { t.as_bytes().get(..10)?.try_into().ok() };
    if day(start)? != day(text)? {
        return None;
    }
    let nanos = time_of_day(text.as_bytes())?;
    // `TimeDelta::num_microseconds` truncates toward zero, as `/` does.
    let ms = ((nanos - start_nanos) / 1000) as f64 / 1000.0;
    Some(if ms >= 0.0 {
        LNum(Lenient::Value(ms))
    } else {
        LNum::default()
    })
}

/// The time of day, in nanoseconds, of a `2026-10-01T08:00:00.123Z`-shaped
/// time, checked exactly as the fields' fast parser checks the time half
/// (`fields::parse_rfc3339_utc_fast`: whatever passes here it reads, with
/// its date from the first ten bytes, when that is a date).
#[inline]
fn time_of_day(b: &[u8]) -> Option<i64> {
    let n = b.len();
    let head: &[u8; 20] = b.get(..20)?.try_into().ok()?;
    if n > 30 || head[4] != b'-' || head[7] != b'-' || head[10] != b'T' {
        return None;
    }
    if head[13] != b':' || head[16] != b':' || b[n - 1] != b'Z' {
        return None;
    }
    let d = |i: usize| i64::from(head[i].wrapping_sub(b'0'));
    let digits = [d(11), d(12), d(14), d(15), d(17), d(18)];
    if digits.iter().any(|&x| x > 9) {
        return None;
    }
    let [h1, h2, m1, m2, s1, s2] = digits;
    let (h, m, sec) = (h1 * 10 + h2, m1 * 10 + m2, s1 * 10 + s2);
    if h > 23 || m > 59 || sec > 59 {
        return None;
    }
    let mut nanos = 0;
    if n > 20 {
        // `.` and one to nine digits.
        if b[19] != b'.' || n < 22 {
            return None;
        }
        for &c in &b[20..n - 1] {
            let x = c.wrapping_sub(b'0');
            if x > 9 {
                return None;
            }
            nanos = nanos * 10 + i64::from(x);
        }
        nanos *= 10i64.pow(9 - (n - 21) as u32);
    }
    Some(((h * 60 + m) * 60 + sec) * 1_000_000_000 + nanos)
}

/// The messages an observation's `input` holds: the input itself when it is
/// a list (of chat messages), or an object's `messages` list
/// (`{"messages": [...]}`); other inputs (a string, other objects) hold none.
fn input_messages(raw: &str) -> Option<&str> {
    match raw.as_bytes().first()? {
        b'[' => Some(raw),
        // The list as JSON text (Langfuse's own ClickHouse `input` column
        // is a String: hunt144's bug3), read by `set_messages`.
        b'"' if raw[1..].trim_start().starts_with('[') => Some(raw),
        b'{' => {
            #[derive(Deserialize)]
            struct Input<'a> {
                #[serde(borrow)]
                messages: Option<&'a RawValue>,
            }
            let input: Input<'_> = serde_json::from_str(raw).ok()?;
            Some(input.messages?.get()).filter(|m| m.starts_with('['))
        }
        _ => None,
    }
}

/// How `metadata`'s entries are used, by key.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum MetaKind {
    Feature,
    Team,
    /// Could hold prompt text: never a tag.
    Text,
    Tag,
}

impl From<u8> for MetaKind {
    fn from(class: u8) -> Self {
        [
            MetaKind::Feature,
            MetaKind::Team,
            MetaKind::Text,
            MetaKind::Tag,
        ][usize::from(class).min(3)]
    }
}

fn meta_kind(key: &str) -> MetaKind {
    match key {
        "feature" => MetaKind::Feature,
        "team" => MetaKind::Team,
        _ if crate::record::tags::is_text_key(key) => MetaKind::Text,
        _ => MetaKind::Tag,
    }
}

/// Milliseconds from `a` to `b`, when both are times and `b` is not before `a`.
fn millis_between(
    a: &Lenient<chrono::DateTime<chrono::Utc>>,
    b: &Lenient<chrono::DateTime<chrono::Utc>>,
) -> LNum {
    let (Lenient::Value(a), Lenient::Value(b)) = (a, b) else {
        return LNum::default();
    };
    let ms = (*b - *a).num_microseconds().map(|us| us as f64 / 1000.0);
    match ms {
        Some(ms) if ms >= 0.0 => LNum(Lenient::Value(ms)),
        _ => LNum::default(),
    }
}

/// Which part of an Anthropic-style (exclusive) usage a Langfuse usage key
/// is (see the module docs); [`crate::record::fields::RawUsage::normalise`] then
/// adds the parts up.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum UsageKind {
    Input,
    CacheRead,
    CacheWrite,
    /// A cache write kept for an hour (also a cache write).
    CacheWrite1h,
    /// Anthropic's `ephemeral_5m_input_tokens` and
    /// `ephemeral_1h_input_tokens`, as LangChain's `input_token_details`
    /// gives them (and Langfuse's callback prefixes `input_`): parts of the
    /// cache writes, which LangChain then zeroes in `cache_creation`.
    Ephemeral5m,
    Ephemeral1h,
    /// Audio input (`input_audio_tokens`): also input, at the audio rate.
    InputAudio,
    /// The input's text and image tokens (`input_text_tokens`,
    /// `input_image_tokens`, from OpenAI's `prompt_tokens_details` of its
    /// audio models): with the audio, all the input, cached tokens
    /// included, not a part beside them (hunt53).
    InputModality,
    /// Audio output (`output_audio_tokens`): also output.
    OutputAudio,
    Output,
    /// Reasoning (also output).
    Reasoning,
    /// Gemini's own names, kept by Langfuse's LangChain handler or given
    /// as `usage_details` (hunt147's bug1: the output, the thoughts and
    /// the cache lost, −54% to −68%): `prompt_token_count` (all the
    /// input, the cache and a built-in tool's prompt included) and
    /// `cached_content_token_count` (read from the cache, among it; also
    /// beside the handler's `cached_modality_*`, which count it again).
    GeminiPrompt,
    GeminiCached,
    /// Anything else (`total`): read, checked, not added.
    Other,
}

impl From<u8> for UsageKind {
    fn from(class: u8) -> Self {
        use UsageKind::*;
        [
            Input,
            CacheRead,
            CacheWrite,
            CacheWrite1h,
            Ephemeral5m,
            Ephemeral1h,
            InputAudio,
            InputModality,
            OutputAudio,
            Output,
            Reasoning,
            GeminiPrompt,
            GeminiCached,
            Other,
        ][usize::from(class).min(13)]
    }
}

fn usage_kind(key: &str) -> UsageKind {
    // Case-insensitive, without a lower-cased copy of the key.
    let has = |w: &str| crate::record::tags::contains_ignore_ascii_case(key, w);
    if has("cached_content") || has("cachedcontent") {
        return UsageKind::GeminiCached;
    }
    // (Exactly: a built-in tool's `tool_use_prompt_token_count` is input
    // beside it, hunt149's bug3.)
    if key.eq_ignore_ascii_case("prompt_token_count")
        || key.eq_ignore_ascii_case("promptTokenCount")
    {
        return UsageKind::GeminiPrompt;
    }
    if has("candidates") {
        return UsageKind::Output;
    }
    if has("thoughts") {
        return UsageKind::Reasoning;
    }
    // The LangChain handler's modality keys, whatever the modality's
    // spelling (`_1`, `_TEXT`: hunt149's bug4): its input ones already
    // leave the cache out.
    if has("cached_modality") {
        return UsageKind::CacheRead;
    }
    if has("input_modality") {
        return UsageKind::Input;
    }
    if has("output_modality") {
        return UsageKind::Output;
    }
    if has("ephemeral_5m") {
        UsageKind::Ephemeral5m
    } else if has("ephemeral_1h") {
        UsageKind::Ephemeral1h
    } else if has("input") || has("prompt") {
        if has("cache_read") || has("cached") || has("cache_hit") {
            UsageKind::CacheRead
        } else if has("cache_creation") || has("cache_write") {
            if has("1h") {
                UsageKind::CacheWrite1h
            } else {
                UsageKind::CacheWrite
            }
        } else if has("audio") {
            UsageKind::InputAudio
        } else if has("text") || has("image") {
            UsageKind::InputModality
        } else {
            UsageKind::Input
        }
    } else if has("output") || has("completion") {
        if has("reasoning") || has("thought") {
            UsageKind::Reasoning
        } else if has("audio") {
            UsageKind::OutputAudio
        } else {
            UsageKind::Output
        }
    } else {
        UsageKind::Other
    }
}

/// `usageDetails`' counts added up by [`UsageKind`] (in any order: sums).
#[derive(Default, Clone, Copy, Debug)]
struct UsageSums {
    input: Option<u64>,
    read: u64,
    /// A cached-read key was there (a 0 is a count: the export records
    /// cached tokens; none is none, hunt75).
    read_logged: bool,
    write: u64,
    write_1h: u64,
    /// The writes as the ephemeral keys split them (5 minutes, 1 hour).
    ephemeral: [u64; 2],
    /// Audio among the input and among the output.
    audio: [u64; 2],
    /// The input's text and image tokens ([`UsageKind::InputModality`]).
    modal: u64,
    output: Option<u64>,
    reasoning: u64,
    /// Gemini's prompt count (cache included) and cached count.
    gemini_prompt: Option<u64>,
    gemini_cached: Option<u64>,
}

impl UsageSums {
    #[inline]
    fn add(&mut self, kind: UsageKind, n: u64) {
        let add = |slot: &mut Option<u64>, n: u64| *slot = Some(slot.unwrap_or(0) + n);
        match kind {
            UsageKind::Input => add(&mut self.input, n),
            UsageKind::CacheRead => {
                self.read += n;
                self.read_logged = true;
            }
            UsageKind::CacheWrite => self.write += n,
            UsageKind::CacheWrite1h => {
                self.write += n;
                self.write_1h += n;
            }
            UsageKind::Ephemeral5m => self.ephemeral[0] += n,
            UsageKind::Ephemeral1h => self.ephemeral[1] += n,
            UsageKind::InputAudio => {
                self.audio[0] += n;
                add(&mut self.input, n);
            }
            UsageKind::InputModality => self.modal += n,
            UsageKind::OutputAudio => {
                self.audio[1] += n;
                add(&mut self.output, n);
            }
            UsageKind::Output => add(&mut self.output, n),
            UsageKind::Reasoning => {
                self.reasoning += n;
                add(&mut self.output, n);
            }
            UsageKind::GeminiPrompt => add(&mut self.gemini_prompt, n),
            UsageKind::GeminiCached => add(&mut self.gemini_cached, n),
            UsageKind::Other => {}
        }
    }

    /// Sets the record's usage from the sums.
    fn apply(mut self, raw: &mut RawLine<'_>) {
        // The ephemeral keys split the writes the generic key counts
        // whole, or stand for them when LangChain zeroed it.
        // Gemini's cached count is among its prompt count, and counts the
        // reads a handler's modality keys count again.
        if let Some(cached) = self.gemini_cached {
            self.read = self.read.max(cached);
            self.read_logged = true;
        }
        if let Some(prompt) = self.gemini_prompt {
            let all = self.input.unwrap_or(0) + prompt;
            self.input = Some(all.saturating_sub(self.read));
        }
        let [write_5m, write_1h] = self.ephemeral;
        self.write = self.write.max(write_5m + write_1h);
        self.write_1h = self.write_1h.max(write_1h);
        // Text, image and audio are all the input, the cached reads among
        // them: the uncached input is the rest.
        if self.modal > 0 {
            let all = self.input.unwrap_or(0) + self.modal;
            self.input = Some(all.saturating_sub(self.read));
        }
        let u = &mut raw.usage;
        let some = |n: u64| Lenient::Value(n);
        if self.input.is_some() || self.read > 0 || self.write > 0 {
            u.input_tokens = some(self.input.unwrap_or(0));
            if self.read_logged || self.read > 0 {
                u.cache_read_input_tokens = some(self.read);
            }
            u.cache_creation_input_tokens = some(self.write);
            if self.write_1h > 0 {
                u.cache_write_1h = some(self.write_1h);
            }
        }
        if let Some(out) = self.output {
            u.output_tokens = some(out);
            u.reasoning_tokens = some(self.reasoning);
        }
        if self.audio != [0, 0] {
            let x = u.extras();
            x.audio_in = some(self.audio[0]);
            x.audio_out = some(self.audio[1]);
        }
    }
}

/// Langfuse's observation types (its `ObservationType`).
const OBSERVATION_TYPES: &[&str] = &[
    "GENERATION",
    "SPAN",
    "EVENT",
    "EMBEDDING",
    "AGENT",
    "TOOL",
    "CHAIN",
    "RETRIEVER",
    "EVALUATOR",
    "GUARDRAIL",
];

/// Whether a file's first JSON object line is a Langfuse observation: one
/// of Langfuse's observation types, with the trace id, or, in an export
/// without trace ids, with its start time and its own usage or cost
/// details. (`type` and `traceId` alone are in many in-house logs, whose
/// calls the gateway reader reads.)
pub fn looks_like(map: &JsonObject) -> bool {
    let typed = map.get("type").and_then(|t| t.as_str()).is_some_and(|t| {
        OBSERVATION_TYPES
            .iter()
            .any(|o| o.eq_ignore_ascii_case(t.trim()))
    });
    let has = |keys: &[&str]| keys.iter().any(|k| map.contains_key(*k));
    typed
        && (has(&["traceId", "trace_id"])
            || (has(&["startTime", "start_time"])
                && has(&[
                    "usageDetails",
                    "usage_details",
                    "costDetails",
                    "cost_details",
                    "providedModelName",
                    "provided_model_name",
                ])))
}

/// The `langfuse` entry of the format registry (see [`crate::formats::REGISTRY`]).
pub static BUILTIN: Builtin = Builtin {
    name: "langfuse",
    aliases: &[],
    format: Format::Spec(&SPEC),
    detect: Detect::FirstLine(looks_like),
    doc: "Langfuse observation exports (UI/API camelCase or blob-storage\n\
         snake_case): GENERATION and EMBEDDING observations are calls;\n\
         usageDetails parts (input is uncached; cache_read_input_tokens,\n\
         input_cached_tokens, cache_creation_input_tokens or LangChain's\n\
         input_ephemeral_{5m,1h}_input_tokens, output_reasoning_tokens)\n\
         are added up once (an older export's\n\
         usage {input, output, unit TOKENS} when there is none, its costs\n\
         left out); totalCost (else Langfuse's computed cost) is the\n\
         logged cost; level ERROR is a failure; userId, sessionId, tags,\n\
         traceName (feature, unless metadata.feature), metadata; chat\n\
         messages in `input` give the prompt and system-prompt fingerprints\n\
         (as a gateway line's `messages`). Spans, events and other\n\
         observations are counted as not_a_call (not an error for --strict).\n\
         A trace with its observations (GET /api/public/traces/{id}): the\n\
         observations take the trace's name, userId, sessionId and tags\n\
         written before them.",
};

/// Reads one Langfuse observation.
pub fn parse_line(line: &[u8]) -> Result<CallRecord<'_>, Reject> {
    SPEC.parse_line(line)
}

/// The same for a line already validated as UTF-8.
pub fn parse_line_str(line: &str) -> Result<CallRecord<'_>, Reject> {
    SPEC.parse_line_str(line)
}

/// Reads a line with the engine and with its reference; when the engine
/// accepts it, the results must be equal. Returns whether it accepted it.
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub fn agree(line: &str) -> bool {
    SPEC.agree(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// OpenAI's audio tokens, as Langfuse's callback splits them out
    /// (`input_audio_tokens`, `output_audio_tokens`): audio, priced at the
    /// audio rates.
    #[test]
    fn audio_details_are_audio_tokens() {
        let line = r#"{"id":"a1","type":"GENERATION","model":"gpt-4o-audio-preview","usageDetails":{"input":200,"input_audio_tokens":1000,"output":100,"output_audio_tokens":500}}"#;
        let r = parse_line_str(line).unwrap();
        assert_eq!((r.usage.input, r.usage.input_audio), (1200, 1000));
        assert_eq!((r.usage.output, r.usage.output_audio), (600, 500));
    }

    /// LangChain's Anthropic usage splits the cache writes by TTL
    /// (`ephemeral_5m_input_tokens`, `ephemeral_1h_input_tokens`) and zeroes
    /// `cache_creation`; Langfuse's callback prefixes them `input_`. They
    /// are cache writes (they were read as uncached input), counted once
    /// when the generic key counts them too.
    #[test]
    fn langchain_ephemeral_writes_are_cache_writes() {
        let split = r#"{"id":"o1","type":"GENERATION","model":"claude-sonnet-4-5","usageDetails":{"input":100,"input_cache_read":2000,"input_cache_creation":0,"input_ephemeral_5m_input_tokens":300,"input_ephemeral_1h_input_tokens":700,"output":50,"total":3150}}"#;
        let r = parse_line_str(split).unwrap();
        assert_eq!(
            (r.usage.input, r.usage.cached_read, r.usage.cache_write),
            (3100, 2000, 1000)
        );
        assert_eq!(r.usage.cache_write_1h, 700);
        let both = r#"{"id":"o2","type":"GENERATION","model":"claude-sonnet-4-5","usageDetails":{"input":100,"cache_creation_input_tokens":1000,"ephemeral_5m_input_tokens":300,"ephemeral_1h_input_tokens":700,"output":50}}"#;
        let r = parse_line_str(both).unwrap();
        assert_eq!(
            (r.usage.input, r.usage.cache_write, r.usage.cache_write_1h),
            (1100, 1000, 700)
        );
    }

    #[test]
    fn generations_are_calls_and_usage_parts_add_up_once() {
        let line = r#"{"id":"obs-1","traceId":"t-1","type":"GENERATION","name":"answer","startTime":"2026-10-01T08:00:00.000Z","endTime":"2026-10-01T08:00:01.250Z","completionStartTime":"2026-10-01T08:00:00.400Z","model":"claude-sonnet-4-5","modelParameters":{"max_tokens":"1024","temperature":"0.2"},"usageDetails":{"input":100,"cache_read_input_tokens":2000,"cache_creation_input_tokens":300,"output":50,"total":2450},"costDetails":{"total":0.0025},"totalCost":0.0025,"level":"DEFAULT","userId":"u-7","sessionId":"s-1","tags":["prod"],"traceName":"support-chat","input":{"messages":[{"role":"user","content":"secret"}]}}"#;
        let r = parse_line_str(line).unwrap();
        assert_eq!(r.model, "claude-sonnet-4-5");
        assert_eq!(
            (r.usage.input, r.usage.cached_read, r.usage.cache_write),
            (2400, 2000, 300)
        );
        assert_eq!(r.usage.output, 50);
        assert_eq!((r.latency_ms, r.ttft_ms), (Some(1250), Some(400)));
        assert_eq!(r.max_tokens, Some(1024));
        assert_eq!(r.feature.as_deref(), Some("support-chat"));
        assert_eq!(r.route.as_deref(), Some("answer"));
        assert_eq!(r.tags, vec![(Cow::from("tag"), Cow::from("prod"))]);
        // OpenAI through Langfuse: cached and reasoning are split out.
        let openai = r#"{"id":"o2","type":"GENERATION","model":"o4-mini","usageDetails":{"input":904,"input_cached_tokens":4096,"output":200,"output_reasoning_tokens":1000},"level":"ERROR"}"#;
        let r = parse_line_str(openai).unwrap();
        assert_eq!((r.usage.input, r.usage.cached_read), (5000, 4096));
        assert_eq!((r.usage.output, r.usage.reasoning), (1200, 1000));
        assert_eq!(r.effective_status(), tokenaudit_core::CallStatus::Error);
        let span = r#"{"id":"o3","type":"SPAN","name":"retrieve"}"#;
        assert_eq!(
            parse_line_str(span).unwrap_err().reason,
            RejectReason::NotACall
        );
        let bad = r#"{"id":"o4","type":"GENERATION","model":"gpt-4o","usageDetails":{"input":-1}}"#;
        assert_eq!(
            parse_line_str(bad).unwrap_err().reason,
            RejectReason::NegativeTokens
        );
        assert_eq!(
            parse_line_str("[1]").unwrap_err().reason,
            RejectReason::NotAnObject
        );
    }

    /// Older exports' `usage` (`{input, output, total, unit}`) is read when
    /// there is no `usageDetails`, and only when it counts tokens.
    #[test]
    fn older_usage_objects_are_read() {
        let old = r#"{"id":"o5","type":"GENERATION","model":"gpt-4o","usage":{"input":1000,"output":200,"total":1200,"unit":"TOKENS"},"promptTokens":1000,"completionTokens":200}"#;
        let r = parse_line_str(old).unwrap();
        assert_eq!((r.usage.input, r.usage.output), (1000, 200));
        // usageDetails, when given too, is the one read (it splits the cache).
        let both = r#"{"id":"o6","type":"GENERATION","model":"gpt-4o","usageDetails":{"input":100,"input_cached_tokens":900,"output":200},"usage":{"input":1000,"output":200,"unit":"TOKENS"}}"#;
        let r = parse_line_str(both).unwrap();
        assert_eq!((r.usage.input, r.usage.cached_read), (1000, 900));
        let chars = r#"{"id":"o7","type":"GENERATION","model":"gpt-4o","usage":{"input":1000,"output":200,"unit":"CHARACTERS"}}"#;
        assert_eq!(
            parse_line_str(chars).unwrap_err().reason,
            RejectReason::MissingUsage
        );
    }

    /// Lines for the scanner-versus-serde checks: every field, every alias,
    /// and the shapes that must bail or read alike.
    const TRICKY: &[&str] = &[
        r#"{"id":"o1","type":"GENERATION","name":"answer","startTime":"2026-10-01T08:00:00.000Z","endTime":"2026-10-01T08:00:01.250Z","completionStartTime":"2026-10-01T08:00:00.400Z","model":"claude-sonnet-4-5","modelParameters":{"max_tokens":"1024","temperature":"0.2"},"usageDetails":{"input":100,"cache_read_input_tokens":2000,"cache_creation_input_tokens":300,"output":50,"total":2450},"costDetails":{"total":0.0025},"totalCost":0.0025,"level":"DEFAULT","userId":"u-7","sessionId":"s-1","tags":["prod","",null,3,1.5,true,{"a":1},["x"]],"traceName":"support-chat","input":{"messages":[{"role":"user","content":"secret"}]}}"#,
        r#"{"id":"o2","type":"generation","model":null,"providedModelName":"o4-mini","usageDetails":{"input":904,"INPUT_CACHED_TOKENS":4096,"output":200,"output_reasoning_tokens":1000,"input_cache_creation_1h":7},"level":"error"}"#,
        r#"{"id":"o3","type":"SPAN","name":"retrieve","usageDetails":{"input":-1}}"#,
        r#"{"id":"o4","type":"EMBEDDING","model":"text-embedding-3-small","usageDetails":{"input":12}}"#,
        r#"{"id":"o5","type":"GENERATION","model":"gpt-4o","usageDetails":{"input":-1,"output":"x"}}"#,
        r#"{"id":"o6","type":"GENERATION","model":"gpt-4o","usageDetails":{"zz":"x","aa":-1}}"#,
        r#"{"id":"o7","type":"GENERATION","model":"gpt-4o","usageDetails":{"input":5,"input":7,"output":"3","output":2.0,"total":1e2}}"#,
        r#"{"id":"o8","type":"GENERATION","model":"gpt-4o","usageDetails":{"input":5000000000,"output":1}}"#,
        r#"{"id":"o9","type":"GENERATION","model":"gpt-4o","usageDetails":{"input":1.5,"output":1}}"#,
        r#"{"id":"o10","type":"GENERATION","model":"gpt-4o","usage_details":{"prompt_tokens":10,"completion_tokens":2,"cached":{"a":1}},"start_time":"2026-10-01T08:00:01Z","end_time":"2026-10-01T08:00:00Z","completion_start_time":1790841600,"provided_model_name":"x","model_parameters":{"max_output_tokens":256},"cost_details":{"total":"0.5"},"user_id":"u","session_id":"s","trace_name":"t"}"#,
        r#"{"id":"o11","type":"GENERATION","model":"gpt-4o","usageDetails":{"input":1,"output":1},"totalCost":null,"costDetails":{"total":0.1,"total":"0.2","input":[1e400]}}"#,
        r#"{"id":"o12","type":"GENERATION","model":"gpt-4o","usageDetails":{"input":1,"output":1},"calculatedTotalCost":"abc","costDetails":{"total":null}}"#,
        r#"{"id":"o13","type":"GENERATION","model":"gpt-4o","usageDetails":{"input":1,"output":1},"total_cost":1e-3}"#,
        r#"{"id":"o14","type":"GENERATION","model":"gpt-4o","usageDetails":{"input":1,"output":1},"modelParameters":{"max_tokens":"Infinity","max_output_tokens":[1],"max_completion_tokens":2.0}}"#,
        r#"{"id":"o15","type":"GENERATION","model":"gpt-4o","usageDetails":{"input":1,"output":1},"modelParameters":{"max_tokens":5,"max_tokens":null,"max_completion_tokens":"9"}}"#,
        r#"{"id":"o16","type":"GENERATION","model":"gpt-4o","usageDetails":{"input":1,"output":1},"modelParameters":"max_tokens=5"}"#,
        r#"{"id":"o17","type":"GENERATION","model":"gpt-4o","usageDetails":{"input":1,"output":1},"modelParameters":{"temperature":1e400}}"#,
        r#"{"id":"o18","type":"GENERATION","model":"gpt-4o","usageDetails":{"input":1,"output":1},"metadata":{"team":"t1","feature":"f1","env":"prod","prompt_text":"secret","n":7,"f":2.5,"b":false,"z":null,"o":{"x":1},"long":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","env":"dev","  ":"blank key"," ":"   "},"traceName":"ignored"}"#,
        r#"{"id":"o19","type":"GENERATION","model":"gpt-4o","usageDetails":{"input":1,"output":1},"metadata":"flat","tags":"[\"a\",\"b\"]"}"#,
        r#"{"id":"o20","type":"GENERATION","model":"gpt-4o","usageDetails":{"input":1,"output":1},"metadata":[1],"tags":{"k":"v","Message":"x","n":1}}"#,
        r#"{"id":"o21","type":"GENERATION","model":"gpt-4o","usageDetails":{"input":1,"output":1},"tags":"{\"\"k\"\":\"\"v\"\"}"}"#,
        r#"{"id":"o22","type":"GENERATION","model":"gpt-4o","usageDetails":{"input":1,"output":1},"tags":7,"metadata":null}"#,
        r#"{"i\u0064":"o\"23","typ\u0065":"GENER\u0041TION","model":"gpt\u002d4o","usageDetails":{"inp\u0075t":1,"output":1},"metadata":{"fe\u0061ture":"caf\u00e9 \ud83d\ude00","k\"ey":"v\\al"}}"#,
        r#"{"id":"o24","type":"GENERATION","model":"gpt-4o","model":"other","usageDetails":{"input":1,"output":1}}"#,
        r#"{"id":"o25","type":"GENERATION","startTime":"2026-10-01T08:00:00Z","start_time":"2026-10-01T08:00:00Z","model":"gpt-4o","usageDetails":{"input":1,"output":1}}"#,
        r#"{"id":"o26","type":"GENERATION","model":"gpt-4o","usageDetails":[1,2]}"#,
        r#"{"id":"o27","type":"GENERATION","model":"gpt-4o","usageDetails":null,"costDetails":null,"tags":null}"#,
        r#"{"id":"o28","type":"GENERATION","model":"gpt-4o","usageDetails":"lots"}"#,
        r#"{"id":"o29","type":"GENERATION","model":"gpt-4o","costDetails":5,"usageDetails":{"input":1,"output":1}}"#,
        r#"{"id":12,"type":true,"model":7,"name":-1,"level":1.5,"userId":18446744073709551616,"usageDetails":{"input":"12","output":3.0}}"#,
        r#"{"id":"o31","type":null,"model":"gpt-4o","startTime":"yesterday","usageDetails":{"input":1,"output":1}}"#,
        r#"{"id":"o32","type":"GENERATION","model":"gpt-4o","startTime":{"s":1},"usageDetails":{"input":1,"output":1}}"#,
        r#"{"id":"o33","type":"GENERATION","model":"gpt-4o","usageDetails":{"input":1,"output":1},"unknown":{"deep":[1,2,{"x":null}],"big":1e400}}"#,
        r#"{"id":"o34","type":"GENERATION","model":"gpt-4o","usageDetails":{"input":1,"output":1},"tags":[1e400]}"#,
        r#"{"id":"o35","type":"GENERATION","model":"gpt-4o","usageDetails":{"input":1},"metadata":{"a":1,"b":1,"c":1,"d":1,"e":1,"f":1,"g":1,"h":1,"i":1,"j":1,"k":1,"l":1,"m":1,"n":1,"o":1,"p":1,"q":1}}"#,
        r#"{"id":"o35b","type":"GENERATION","model":"gpt-4o","usageDetails":{"a":1,"b":1,"c":1,"d":1,"e":1,"f":1,"g":1,"h":1,"i":1,"j":1,"k":1,"l":1,"m":1,"n":1,"o":1,"p":1,"input":1}}"#,
        r#"{"id":"o36","type":"GENERATION","model":"gpt-4o","usageDetails":{"input":1,"output":1},"level":"ERROR","endTime":"2026-10-01T08:00:00Z"}"#,
        r#"{"id":"o37","type":"GENERATION","model":"","usageDetails":{"input":1,"output":1}}"#,
        r#"{"id":"o38","type":"GENERATION","model":"gpt-4o"}"#,
        "  {\"id\" : \"o39\" ,\t\"type\" :\"GENERATION\", \"model\":\"m\",\r\n\"usageDetails\" : { \"input\" : 1 } }  ",
        r#"{"id":"o40","type":"GENERATION","model":"gpt-4o","usageDetails":{"input":1,"output":1}} trailing"#,
        r#"{"id":"o41","type":"GENERATION","model":"lone \ud83d surrogate","usageDetails":{"input":1,"output":1}}"#,
        r#"{"id":"o42","type":"GENERATION","model":"gpt-4o","usageDetails":{"input":1e400,"output":1}}"#,
        r#"{"id":"o43","type":"GENERATION","model":"gpt-4o","usageDetails":{"input":1,"output":1},"metadata":{"x":"lone \udc00"}}"#,
        // Usage objects of plain counts, read as they come, and the cases
        // that go back to the sorted map: repeated keys, two keys of one
        // kind, counts over the limit, whitespace before a count.
        r#"{"id":"o44","type":"GENERATION","model":"gpt-4o","usageDetails":{"input":5,"output":1,"input":7,"total":3,"total":4}}"#,
        r#"{"id":"o45","type":"GENERATION","model":"gpt-4o","usageDetails":{"input":5,"prompt_tokens":7,"output":1,"completion_tokens":2,"output_reasoning":3,"thoughts_output":4,"input_cache_read":8,"cached_input":9,"input_cache_write_1h":10,"input_cache_creation":11}}"#,
        r#"{"id":"o46","type":"GENERATION","model":"gpt-4o","usageDetails":{"total":100000001,"input":1,"output":1}}"#,
        r#"{"id":"o47","type":"GENERATION","model":"gpt-4o","usageDetails":{"input": 5,"output":1}}"#,
        r#"{"id":"o48","type":"GENERATION","model":"gpt-4o","usageDetails":{"input":0,"output":0,"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9}}"#,
        r#"{"id":"o49","type":"GENERATION","model":"gpt-4o","usageDetails":{"in\u0070ut":5,"input":6,"output":1}}"#,
        // Metadata: repeated keys (the last wins, then is filtered), keys
        // out of order, values that are no tag.
        r#"{"id":"o50","type":"GENERATION","model":"gpt-4o","usageDetails":{"input":1},"metadata":{"zeta":"1","alpha":"2","feature":"f","feature":{"x":1},"team":"t","team":7,"env":"a","env":"b","zeta":[],"user_input":"secret","blank":" ","tab":"\tx"},"tags":["t1"]}"#,
        r#"{"id":"o51","type":"GENERATION","model":"gpt-4o","usageDetails":{"input":1},"metadata":{"feature":"","team":"  ","x":"yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy","y":true,"z":null,"w":-1.5e3,"\u00e9":"\u00e9"},"tags":[]}"#,
        r#"{"id":"o52","type":"GENERATION","model":"gpt-4o","usageDetails":{"input":1},"metadata":{"prompt":1e400}}"#,
        r#"{"id":"o53","type":"GENERATION","model":"gpt-4o","usageDetails":{"input":1},"metadata":{"output":{"deep":[1e300]},"feature":null},"traceName":"from-trace","tags": []}"#,
        // Times: the start's day or another, shapes the fast parser reads
        // or not, an invalid date or time, latencies below a microsecond.
        r#"{"id":"o54","type":"GENERATION","startTime":"2026-10-01T08:00:00.000000500Z","endTime":"2026-10-01T08:00:00Z","completionStartTime":"2026-10-01T08:00:00.0000011Z","model":"m","usageDetails":{"input":1}}"#,
        r#"{"id":"o55","type":"GENERATION","startTime":"2026-10-01T23:59:59.9Z","endTime":"2026-10-02T00:00:00.1Z","completionStartTime":"2026-10-01T23:59:60Z","model":"m","usageDetails":{"input":1}}"#,
        r#"{"id":"o56","type":"GENERATION","startTime":"2026-10-01T08:00:00+00:00","endTime":"2026-10-01T08:00:01.5Z","completionStartTime":"2026-10-01T08:00:00.25+01:00","model":"m","usageDetails":{"input":1}}"#,
        r#"{"id":"o57","type":"GENERATION","startTime":"2026-02-30T08:00:00Z","endTime":"2026-02-30T08:00:01Z","completionStartTime":"2026-10-01T24:00:00Z","model":"m","usageDetails":{"input":1}}"#,
        r#"{"id":"o58","type":"GENERATION","startTime":"2026-10-01T08:00:00.123456789Z","endTime":"2026-10-01T08:00:00.1234567891Z","completionStartTime":"2026-10-01T08:00:00.Z","model":"m","usageDetails":{"input":1}}"#,
        r#"{"id":"o59","type":"GENERATION","startTime":"2026-10-01T08:00:02Z","endTime":"2026-10-01T08:00:01.999Z","completionStartTime":"2026-10-01 08:00:03Z","model":"m","usageDetails":{"input":1}}"#,
        r#"{"id":"o60","type":"GENERATION","startTime":" 2026-10-01T08:00:00Z","endTime":"2026-10-01T08:00:01Z","completionStartTime":"2026-10-01T08:00:0aZ","model":"m","usageDetails":{"input":1}}"#,
        r#"{"id":"o61","type":"GENERATION","startTime":"2026-10-01T08:00:00Z","endTime":1790841600,"completionStartTime":"2026-10-01T08:00:00.5\u005a","model":"m","usageDetails":{"input":1}}"#,
        // Token limits as digit strings, and strings that only `count` reads.
        r#"{"id":"o62","type":"GENERATION","model":"m","usageDetails":{"input":1},"modelParameters":{"max_tokens":"99999999999999999999","max_output_tokens":"0042","max_completion_tokens":"1"}}"#,
        r#"{"id":"o63","type":"GENERATION","model":"m","usageDetails":{"input":1},"modelParameters":{"max_tokens":"","max_output_tokens":" 7","max_completion_tokens":"+8"}}"#,
        r#"{"id":"o64","type":"GENERATION","model":"m","usageDetails":{"input":1},"modelParameters":{"max_tokens":"1e3","max_tokens":"-1","max_output_tokens":"12345678901234567890","m\u0061x_completion_tokens":"5"}}"#,
        // A CSV export's cells: objects as JSON text (escaped once more in
        // the line), broken text, text that is no object.
        r#"{"id":"o65","type":"GENERATION","model":"gpt-4o","usageDetails":"{\"input\":1000,\"output\":100,\"input_cached_tokens\":200}","modelParameters":"{\"max_tokens\":256}","metadata":"{\"feature\":\"csv\"}"}"#,
        r#"{"id":"o66","type":"GENERATION","model":"gpt-4o","usageDetails":"{\"input\":1000,","output":1}"#,
        r#"{"id":"o67","type":"GENERATION","model":"gpt-4o","usageDetails":"[1]","usage":"{\"input\":5,\"output\":6,\"unit\":\"TOKENS\"}"}"#,
        r#"{}"#,
        r#"[1,2,3]"#,
        r#""just a string""#,
        r#"not json"#,
        "",
    ];

    #[test]
    fn input_messages_are_read_as_the_gateway_reads_messages() {
        let messages = r#"[{"role":"system","content":"Answer briefly."},{"role":"user","content":"What is a prompt cache?"}]"#;
        let gateway = format!(
            r#"{{"model":"gpt-4o","usage":{{"prompt_tokens":1,"completion_tokens":1}},"messages":{messages}}}"#
        );
        let want = crate::formats::gateway::parse_line_str(&gateway).unwrap();
        let read = |input: &str| {
            let line = format!(
                r#"{{"id":"o1","type":"GENERATION","model":"gpt-4o","usageDetails":{{"input":1,"output":1}},"input":{input}}}"#
            );
            assert!(agree(&line), "{line}");
            let r = parse_line_str(&line).unwrap();
            let text = r.prompt_text.map(Cow::into_owned);
            (
                r.prompt_fp,
                r.prefix_fp,
                r.prefix_chars,
                r.user_messages,
                text,
            )
        };
        let expected = (
            Some(crate::record::fields::prompt_fingerprint(messages)),
            Some(xxhash_rust::xxh3::xxh3_64(br#""Answer briefly.""#)),
            Some(15),
            Some(1),
            Some("What is a prompt cache?".to_string()),
        );
        let gateway_read = (
            want.prompt_fp,
            want.prefix_fp,
            want.prefix_chars,
            want.user_messages,
            want.prompt_text.map(Cow::into_owned),
        );
        assert_eq!(gateway_read, expected);
        assert_eq!(read(messages), expected);
        assert_eq!(
            read(&format!(r#"{{"temperature":0,"messages":{messages}}}"#)),
            expected
        );
        // The list as JSON text (Langfuse's ClickHouse column), and the
        // gateway's `messages` so (a warehouse's JSON column): the same.
        let text = serde_json::to_string(messages).unwrap();
        assert_eq!(read(&text), expected);
        let gateway = format!(
            r#"{{"model":"gpt-4o","usage":{{"prompt_tokens":1,"completion_tokens":1}},"messages":{text}}}"#
        );
        let r = crate::formats::gateway::parse_line_str(&gateway).unwrap();
        let r = (
            r.prompt_fp,
            r.prefix_fp,
            r.prefix_chars,
            r.user_messages,
            r.prompt_text.map(Cow::into_owned),
        );
        assert_eq!(r, expected);
        for none in [
            r#""What is a prompt cache?""#,
            r#"{"text":"x"}"#,
            "null",
            "[]",
        ] {
            assert_eq!(read(none), (None, None, None, None, None), "{none}");
        }
    }

    /// Langfuse's CSV export writes `usageDetails` (and the other
    /// objects) as JSON text in a cell: read as the object it spells.
    #[test]
    fn objects_written_as_json_text_are_read() {
        let line = |id: &str| TRICKY.iter().find(|l| l.contains(id)).unwrap();
        let r = parse_line_str(line("\"o65\"")).unwrap();
        // Langfuse's `input` leaves out the cached tokens it lists beside.
        assert_eq!(
            (r.usage.input, r.usage.cached_read, r.usage.output),
            (1200, 200, 100)
        );
        assert_eq!(
            (r.max_tokens, r.feature.as_deref()),
            (Some(256), Some("csv"))
        );
        assert!(agree(line("\"o65\"")));
        let r = parse_line_str(line("\"o67\"")).unwrap();
        assert_eq!((r.usage.input, r.usage.output), (5, 6));
    }

    #[test]
    fn scanner_reads_tricky_lines_like_serde() {
        let bailed: Vec<&str> = TRICKY.iter().copied().filter(|l| !agree(l)).collect();
        // Out-of-range numbers, which make serde_json refuse the line
        // (o11, o17, o33, o34, o52), trailing text and lone surrogates
        // (o40-o43), and the lines that are not objects. Repeated keys
        // (o24, o25: the last wins), values of another type where an object
        // is read (o26-o29: no value) and large metadata (o35) are read by
        // the engine.
        let want = [
            "\"o11\"", "\"o17\"", "\"o33\"", "\"o34\"", "\"o40\"", "\"o41\"", "\"o42\"", "\"o43\"",
            "\"o52\"",
        ];
        for w in want {
            assert!(bailed.iter().any(|l| l.contains(w)), "{w} should bail");
        }
        assert_eq!(bailed.len(), want.len() + 4, "{bailed:#?}");
    }

    /// Keys are predicted from the previous line's (see [`KeyShape`]): every
    /// line must read the same whatever line came before it.
    #[test]
    fn predicted_keys_read_like_serde_whatever_line_came_before() {
        let alone = TRICKY.iter().filter(|l| agree(l)).count();
        let mut fast = 0;
        for before in TRICKY {
            for line in TRICKY {
                agree(before);
                fast += usize::from(agree(line));
            }
        }
        assert_eq!(fast, alone * TRICKY.len());
        // The same line twice: the second time read from the prediction.
        assert!(agree(TRICKY[0]) && agree(TRICKY[0]));
        let r = parse_line_str(TRICKY[0]).unwrap();
        assert_eq!(r.feature.as_deref(), Some("support-chat"));
    }

    #[test]
    fn scanner_reads_the_fixtures_like_serde() {
        let files = ["langfuse/observations.jsonl", "mixed/langfuse-export.json"];
        assert_eq!(
            crate::json::scan_value::fixtures_read_fast(&files, agree),
            7
        );
    }

    #[test]
    fn scanner_never_disagrees_with_serde_on_broken_lines() {
        let mut fast = 0;
        let variants = crate::json::scan_value::broken_variants(&TRICKY[..2]);
        for line in &variants {
            fast += usize::from(agree(line));
        }
        assert!(variants.len() > 20_000, "{}", variants.len());
        assert!(fast > 1_000, "{fast}");
    }

    /// The same for the usage, metadata and time readings that skip the
    /// sorted map or the second parse.
    #[test]
    fn fast_usage_metadata_and_times_never_disagree_on_broken_lines() {
        let lines: Vec<&str> = TRICKY
            .iter()
            .copied()
            .filter(|l| {
                ["\"o44\"", "\"o45\"", "\"o50\"", "\"o54\"", "\"o62\""]
                    .iter()
                    .any(|id| l.contains(id))
            })
            .collect();
        assert_eq!(lines.len(), 5);
        let variants = crate::json::scan_value::broken_variants(&lines);
        let mut fast = 0;
        for line in &variants {
            // Each after a line that taught the shapes its keys.
            agree(TRICKY[0]);
            fast += usize::from(agree(line));
        }
        assert!(variants.len() > 30_000, "{}", variants.len());
        assert!(fast > 5_000, "{fast}");
    }

    /// A latency taken from the times of day is the one of the two parsed
    /// times, for every pair of a set of times around one day's edges.
    #[test]
    fn same_day_latencies_match_the_parsed_times() {
        let times = [
            "2026-10-01T00:00:00Z",
            "2026-10-01T00:00:00.000000001Z",
            "2026-10-01T08:00:00.0000005Z",
            "2026-10-01T08:00:00.000001Z",
            "2026-10-01T08:00:00.5Z",
            "2026-10-01T08:00:00.999999999Z",
            "2026-10-01T08:00:01Z",
            "2026-10-01T23:59:59.999Z",
            "2026-10-01T23:59:60Z",
            "2026-10-01T24:00:00Z",
            "2026-10-01T08:60:00Z",
            "2026-10-01T08:00:00.Z",
            "2026-10-01T08:00:00.1234567890Z",
            "2026-10-01T08:00:00+00:00",
            "2026-10-01T08:00:00.5+02:00",
            "2026-10-01 08:00:00Z",
            "2026-10-02T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "2028-02-29T12:00:00.25Z",
            "2026-1x-01T08:00:00Z",
            " 2026-10-01T08:00:00Z",
        ];
        let parse = |t: &str| {
            crate::record::fields::parse_timestamp(t).map_or(Lenient::WrongType, Lenient::Value)
        };
        let mut fast = 0;
        for a in times {
            for b in times {
                let want = millis_between(&parse(a), &parse(b));
                let (_, got, _) = super::times(
                    &Scalar::Str(Cow::Borrowed(a)),
                    &Scalar::Str(Cow::Borrowed(b)),
                    &Scalar::Null,
                );
                assert_eq!(format!("{got:?}"), format!("{want:?}"), "{a} -> {b}");
                if let (_, Some(n)) = start_time(a) {
                    fast += usize::from(same_day_millis(a, n, b).is_some());
                }
                // The start, whether its date came from the last one or not.
                assert_eq!(
                    format!("{:?}", start_time(a).0),
                    format!("{:?}", parse(a)),
                    "{a}"
                );
            }
        }
        assert!(fast > 60, "{fast}");
    }
}
