//! Lenient readers for single JSON values, and the shared last step of every
//! reader: turning raw, source-convention fields into a checked [`CallRecord`].
//!
//! The value readers never fail the whole line on a wrong type: they report
//! what they saw ([`Lenient`]), so the reader can reject the line with a
//! precise reason (`wrong_type` on `usage.prompt_tokens`) instead of a generic
//! parse error. Numbers written as strings (`"123"`) are accepted, as are
//! integral floats (`123.0`), because real exporters write both.

use std::borrow::Cow;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use tokenaudit_core::{CallRecord, Money, Usage};

pub use crate::json::value::{epoch_to_time, non_empty, parse_timestamp, Lenient, Scalar};

use crate::rejects::{Reject, RejectReason};

/// Token counts above this are rejected as absurd: no model has a context
/// window anywhere near 100 million tokens.
pub const MAX_TOKENS: u64 = 100_000_000;

/// A record's tags.
pub type Tags<'a> = Vec<(Cow<'a, str>, Cow<'a, str>)>;

thread_local! {
    /// An emptied tag list whose allocation the next line can reuse: most
    /// lines have tags, and a fresh `Vec` for each was a malloc and a free
    /// per call.
    static SPARE_TAGS: std::cell::Cell<Tags<'static>> = const { std::cell::Cell::new(Vec::new()) };
}

/// An empty tag list, with the capacity of a recycled one when there is one.
#[inline]
pub fn fresh_tags<'a>() -> Tags<'a> {
    SPARE_TAGS.take()
}

/// Keeps `tags`' allocation (emptied) for [`fresh_tags`].
#[inline]
pub fn recycle_tags(tags: Tags<'_>) {
    if tags.capacity() == 0 {
        return;
    }
    // Emptied into a list of another lifetime: the same layout, so the
    // allocation is kept (std collects in place). `filter` could not change
    // the lifetime.
    #[allow(clippy::unnecessary_filter_map)]
    let empty: Tags<'static> = tags.into_iter().filter_map(|_| None).collect();
    SPARE_TAGS.set(empty);
}

/// A call's output limit as read: an infinite one (`"inf"`, OpenAI
/// Realtime's default) is no limit; any other beyond `u32` is kept as
/// `u32::MAX`.
pub fn output_limit(v: u64) -> Option<u32> {
    (v != crate::json::value::INFINITE).then(|| u32::try_from(v).unwrap_or(u32::MAX))
}

/// The problems seen on a line. The first one that rejects it (a token
/// count, the model, the time: `add`, `tokens`) is kept; later ones are
/// ignored. An optional field of the wrong type (`take`, `own`, `int`)
/// does not reject the call: it is read without that field, and the first
/// such field is noted on the record ([`CallRecord::unread_field`]).
#[derive(Debug, Default)]
pub struct Problems {
    pub reject: Option<Reject>,
    pub unread: Option<&'static str>,
}

impl Problems {
    #[cold]
    pub fn add(&mut self, reason: RejectReason, field: &str) {
        if self.reject.is_none() {
            self.reject = Some(Reject::new(reason, field.to_string()));
        }
    }

    /// Notes an optional field read without its value (wrong type).
    #[cold]
    pub fn unread(&mut self, field: &'static str) {
        if self.unread.is_none() {
            self.unread = Some(field);
        }
    }

    /// Unwraps a token count, noting negative or mistyped values.
    #[inline]
    pub fn tokens(&mut self, value: &Lenient<u64>, field: &str) -> Option<u64> {
        match value {
            Lenient::Missing => None,
            Lenient::Value(crate::json::value::INFINITE) => {
                self.add(RejectReason::WrongType, field);
                None
            }
            Lenient::Value(v) if *v > MAX_TOKENS => {
                self.add(RejectReason::AbsurdTokens, field);
                None
            }
            Lenient::Value(v) => Some(*v),
            Lenient::Negative => {
                self.add(RejectReason::NegativeTokens, field);
                None
            }
            Lenient::WrongType => {
                self.add(RejectReason::WrongType, field);
                None
            }
        }
    }

    /// Unwraps an optional integer field (negative counts as wrong type).
    #[inline]
    pub fn int(&mut self, value: &Lenient<u64>, field: &'static str) -> Option<u64> {
        match value {
            Lenient::Missing => None,
            Lenient::Value(v) => Some(*v),
            Lenient::Negative | Lenient::WrongType => {
                self.unread(field);
                None
            }
        }
    }

    /// [`Problems::take`] for a value the caller owns: moved, not cloned.
    #[inline]
    pub fn own<T>(&mut self, value: Lenient<T>, field: &'static str) -> Option<T> {
        match value {
            Lenient::Missing => None,
            Lenient::Value(v) => Some(v),
            Lenient::Negative | Lenient::WrongType => {
                self.unread(field);
                None
            }
        }
    }

    /// Unwraps an optional field.
    #[inline]
    pub fn take<T: Clone>(&mut self, value: &Lenient<T>, field: &'static str) -> Option<T> {
        match value {
            Lenient::Missing => None,
            Lenient::Value(v) => Some(v.clone()),
            Lenient::Negative | Lenient::WrongType => {
                self.unread(field);
                None
            }
        }
    }
}

/// A non-negative integer: JSON integers, integral floats, digit strings.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LU64(pub Lenient<u64>);

impl<'de> Deserialize<'de> for LU64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<LU64, D::Error> {
        d.deserialize_any(U64Visitor).map(LU64)
    }
}

struct U64Visitor;

impl<'de> Visitor<'de> for U64Visitor {
    type Value = Lenient<u64>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a non-negative integer")
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Scalar::U64(v).count())
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Scalar::I64(v).count())
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Scalar::F64(v).count())
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Borrowed(v)).count())
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Scalar::Bool(v).count())
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Null.count())
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Null.count())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Container.count())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Container.count())
    }
}

/// An HTTP status code, or the word a log writes in its place
/// (`"status_code": "ERROR"`, as span exports spell a span's status): a
/// string starting with a letter is the word; anything else reads as
/// [`LU64`] does.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LCodeOrWord<'a> {
    pub code: Lenient<u64>,
    pub word: Option<Cow<'a, str>>,
}

impl<'a> LCodeOrWord<'a> {
    pub fn from_scalar(v: Scalar<'a>) -> LCodeOrWord<'a> {
        match v {
            Scalar::Str(t) if t.bytes().next().is_some_and(|b| b.is_ascii_alphabetic()) => {
                LCodeOrWord {
                    code: Lenient::Missing,
                    word: Some(t),
                }
            }
            v => LCodeOrWord {
                code: v.count(),
                word: None,
            },
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for LCodeOrWord<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<LCodeOrWord<'a>, D::Error> {
        d.deserialize_any(CodeOrWordVisitor)
    }
}

struct CodeOrWordVisitor;

impl<'de> Visitor<'de> for CodeOrWordVisitor {
    type Value = LCodeOrWord<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a status code")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(LCodeOrWord::from_scalar(Scalar::Str(Cow::Borrowed(v))))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(LCodeOrWord::from_scalar(Scalar::Str(Cow::Owned(
            v.to_string(),
        ))))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(LCodeOrWord::from_scalar(Scalar::Str(Cow::Owned(v))))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(LCodeOrWord::from_scalar(Scalar::U64(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(LCodeOrWord::from_scalar(Scalar::I64(v)))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(LCodeOrWord::from_scalar(Scalar::F64(v)))
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(LCodeOrWord::from_scalar(Scalar::Bool(v)))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(LCodeOrWord::from_scalar(Scalar::Null))
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(LCodeOrWord::from_scalar(Scalar::Null))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(LCodeOrWord::from_scalar(Scalar::Container))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(LCodeOrWord::from_scalar(Scalar::Container))
    }
}

/// A label: strings (borrowed when unescaped), numbers and booleans as text.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LStr<'a>(pub Lenient<Cow<'a, str>>);

impl LStr<'_> {
    /// The same label, its text owned (for a line it outlives: a value read
    /// from JSON text apart, a mapping's tree).
    pub fn into_owned<'b>(self) -> LStr<'b> {
        LStr(match self.0 {
            Lenient::Value(v) => Lenient::Value(Cow::Owned(v.into_owned())),
            Lenient::Missing => Lenient::Missing,
            Lenient::Negative => Lenient::Negative,
            Lenient::WrongType => Lenient::WrongType,
        })
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for LStr<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<LStr<'a>, D::Error> {
        d.deserialize_any(StrVisitor).map(LStr)
    }
}

struct StrVisitor;

impl<'de> Visitor<'de> for StrVisitor {
    type Value = Lenient<Cow<'de, str>>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Borrowed(v)).label())
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Owned(v.to_string())).label())
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Owned(v)).label())
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Scalar::U64(v).label())
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Scalar::I64(v).label())
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Scalar::F64(v).label())
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Scalar::Bool(v).label())
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Null.label())
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Null.label())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Container.label())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Container.label())
    }
}

/// A boolean: JSON booleans, `"true"`/`"false"`/`"yes"`/`"no"`, `0`/`1`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LBool(pub Lenient<bool>);

impl<'de> Deserialize<'de> for LBool {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<LBool, D::Error> {
        Ok(LBool::from_label(LStr::deserialize(d)?.0))
    }
}

impl LBool {
    /// Reads a boolean from a label (see [`Scalar::label`]).
    pub fn from_label(label: Lenient<Cow<'_, str>>) -> LBool {
        LBool(match label {
            Lenient::Value(v) => match parse_bool(&v) {
                Some(b) => Lenient::Value(b),
                None => Lenient::WrongType,
            },
            Lenient::Missing => Lenient::Missing,
            _ => Lenient::WrongType,
        })
    }
}

/// A flag as logs spell it; also a cache's status as gateways log it
/// (Portkey's `cache_status`: `HIT` and `SEMANTIC HIT` were answered from
/// its cache; `MISS`, `SEMANTIC MISS`, `REFRESH` and `DISABLED` went to
/// the provider).
pub fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" | "y" | "t" | "hit" | "semantic hit" => Some(true),
        "false" | "no" | "0" | "n" | "f" | "miss" | "semantic miss" | "refresh" | "disabled" => {
            Some(false)
        }
        // A flag written as a float (`1.0`, `0.0`: pandas, Spark; a CSV
        // cell keeps it as text: hunt58).
        other => match other.parse::<f64>() {
            Ok(1.0) => Some(true),
            Ok(0.0) => Some(false),
            _ => None,
        },
    }
}

/// A dollar amount from a number or a decimal string, read exactly.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LMoney(pub Lenient<Money>);

impl<'de> Deserialize<'de> for LMoney {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<LMoney, D::Error> {
        // The string form keeps the log's own digits (serde_json formats
        // floats in their shortest round-trip form).
        Ok(LMoney::from_label(LStr::deserialize(d)?.0))
    }
}

impl LMoney {
    /// Reads an amount from a label (see [`Scalar::label`]).
    pub fn from_label(label: Lenient<Cow<'_, str>>) -> LMoney {
        LMoney(match label {
            Lenient::Value(v) => match Money::parse_usd(&v).or_else(|| grouped_usd(&v)) {
                // No call costs less than nothing: a negative amount (a
                // refund's row, a placeholder −1) is no logged cost, and
                // said as a field ignored (hunt61: reconciled at −666,766%).
                Some(m) if m < Money::ZERO => Lenient::Negative,
                // Nor a billion dollars or more: a corrupt column (hunt125:
                // twenty of 1e25 wrapped the sum below zero), said as a
                // value out of range.
                Some(m) if m >= Money::from_picos(1_000_000_000 * 1_000_000_000_000) => {
                    Lenient::WrongType
                }
                Some(m) => Lenient::Value(m),
                None => Lenient::WrongType,
            },
            Lenient::Missing => Lenient::Missing,
            _ => Lenient::WrongType,
        })
    }
}

/// An amount as a spreadsheet exports it: with thousands separators
/// (`1,234.50`: groups of three digits after the first one to three) or a
/// dollar sign (`$3.50`).
fn grouped_usd(text: &str) -> Option<Money> {
    let t = text.trim();
    let (sign, t) = match t.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", t),
    };
    let (dollar, t) = match t.strip_prefix('$') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    let (whole, frac) = match t.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (t, None),
    };
    let whole = match crate::json::value::ungrouped(whole) {
        Some(digits) => digits,
        // `$1234.50`: a sign, no grouping.
        None if dollar => whole.to_string(),
        None => return None,
    };
    let plain = match frac {
        Some(f) => format!("{sign}{whole}.{f}"),
        None => format!("{sign}{whole}"),
    };
    Money::parse_usd(&plain)
}

/// A timestamp: RFC 3339, `YYYY-MM-DD HH:MM:SS[.f]` (taken as UTC), a date,
/// or a Unix epoch number in seconds, milliseconds, microseconds or
/// nanoseconds (told apart by magnitude).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LTime(pub Lenient<DateTime<Utc>>);

impl<'de> Deserialize<'de> for LTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<LTime, D::Error> {
        d.deserialize_any(TimeVisitor).map(LTime)
    }
}

struct TimeVisitor;

impl<'de> Visitor<'de> for TimeVisitor {
    type Value = Lenient<DateTime<Utc>>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a timestamp")
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Borrowed(v)).time())
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Scalar::U64(v).time())
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Scalar::I64(v).time())
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Scalar::F64(v).time())
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Scalar::Bool(v).time())
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Null.time())
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Null.time())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Container.time())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Container.time())
    }
}

/// A fingerprint from a logged hash or text: up to 16 hex digits are read as
/// the number they spell (so fingerprints match the log's own); anything else
/// is hashed with xxh3.
pub fn fingerprint(text: &str) -> u64 {
    // Text that starts and ends with a visible ASCII byte has nothing to
    // trim (every whitespace character is an ASCII control, a space or
    // non-ASCII), which is the usual case: a hex digest.
    let visible = |b: &u8| b.is_ascii_graphic();
    let t = match (text.as_bytes().first(), text.as_bytes().last()) {
        (Some(f), Some(l)) if visible(f) && visible(l) => text,
        _ => text.trim(),
    };
    if !t.is_empty() && t.len() <= 16 {
        let mut v = 0u64;
        let mut hex = true;
        for &b in t.as_bytes() {
            let d = HEX_DIGIT[b as usize];
            hex &= d < 16;
            v = (v << 4) | u64::from(d & 15);
        }
        if hex {
            return v;
        }
    }
    xxhash_rust::xxh3::xxh3_64(t.as_bytes())
}

/// The value of each hex digit byte; 255 for every other byte.
static HEX_DIGIT: [u8; 256] = {
    let mut table = [255u8; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        table[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

/// What a call's provider or model says of counts its usage leaves open
/// ([`RawUsage::normalise_for`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Convention {
    /// The provider counts input without the cache (Anthropic's, Bedrock's
    /// through AI SDK 4 and 5): how the AI SDK's input is read.
    pub input_leaves_cache_out: bool,
    /// A Gemini model: an OpenAI-style usage of it counts the thoughts in
    /// `total_tokens` only.
    pub thoughts_in_total: bool,
    /// A Gemini model: what an OpenAI-style usage's total holds beyond its
    /// prompt, completion and thoughts is the prompt of a built-in tool
    /// (`toolUsePromptTokenCount`, input), which LiteLLM's usage leaves out
    /// of `prompt_tokens` (hunt147's bug3).
    pub gemini: bool,
}

/// Token fields as the source spelled them, before normalisation into the
/// canonical convention. Which names are present decides the convention.
#[derive(Clone, Debug, Default)]
pub struct RawUsage {
    /// OpenAI chat / LiteLLM: `prompt_tokens` (includes cached reads and writes).
    pub prompt_tokens: Lenient<u64>,
    pub completion_tokens: Lenient<u64>,
    /// `prompt_tokens_details.cached_tokens` / `input_tokens_details.cached_tokens`.
    pub cached_tokens: Lenient<u64>,
    /// `*_tokens_details.reasoning_tokens`.
    pub reasoning_tokens: Lenient<u64>,
    /// Anthropic / OpenAI Responses: `input_tokens`, `output_tokens`.
    pub input_tokens: Lenient<u64>,
    pub output_tokens: Lenient<u64>,
    /// Set when `input_tokens_details` was seen: OpenAI Responses, whose
    /// `input_tokens` includes cached tokens.
    pub responses_style: bool,
    /// Set when Perplexity's `num_search_queries` or `citation_tokens` was
    /// seen: its `reasoning_tokens` are beside `completion_tokens`.
    pub reasoning_beside: bool,
    /// The Vercel AI SDK's usage: `ai_sdk` when its cache counts were seen
    /// (`cachedInputTokens`, AI SDK 5's), `ai_sdk_v6` when AI SDK 6's
    /// `inputTokenDetails` counts were (its `inputTokens` always includes
    /// the cache; AI SDK 5's does for OpenAI, not for Anthropic or Bedrock).
    pub ai_sdk: bool,
    pub ai_sdk_v6: bool,
    /// `cache_read_tokens` beside the input: inside it when the parts fit
    /// (pydantic-ai's usage), beside it when they do not (Claude Code's
    /// analytics report).
    pub cache_either: bool,
    /// The AI SDK's `totalUsage` (every step of a multi-step call, where
    /// its `usage` is the last step's): the line's whole usage, which no
    /// other usage object or count of the line adds to or replaces.
    pub whole: bool,
    /// The counts (by slot, see `gateway::fill_usage`) that came from keys
    /// of the line itself rather than its usage object, which overrides
    /// them.
    pub top_keys: u16,
    /// Anthropic: `cache_read_input_tokens`, `cache_creation_input_tokens`
    /// and its TTL split.
    pub cache_read_input_tokens: Lenient<u64>,
    pub cache_creation_input_tokens: Lenient<u64>,
    pub cache_write_5m: Lenient<u64>,
    pub cache_write_1h: Lenient<u64>,
    /// Gemini `usageMetadata`.
    pub prompt_token_count: Lenient<u64>,
    pub candidates_token_count: Lenient<u64>,
    pub cached_content_token_count: Lenient<u64>,
    pub thoughts_token_count: Lenient<u64>,
    /// Gemini's `toolUsePromptTokenCount`: the prompts of its built-in
    /// tools (search grounding, code execution), billed as input beside
    /// `promptTokenCount`, as genai-prices' Google extractor reads it.
    pub tool_use_prompt_token_count: Lenient<u64>,
    /// `total_tokens`, when it is a count (never a reason to reject).
    pub total_tokens: Lenient<u64>,
    /// `cost` in the usage object (OpenRouter's): the logged cost when the
    /// line has none of its own.
    pub cost: Lenient<Money>,
    /// Counts few calls have (audio tokens, web searches), boxed: a line
    /// without them stages no more than before.
    pub extras: Option<Box<RawExtras>>,
    /// How the call was processed, as the usage object says: Anthropic's
    /// `usage.service_tier` (`standard`, `priority`, `batch`), Vertex's
    /// `usageMetadata.trafficType` (`ON_DEMAND`, `ON_DEMAND_PRIORITY`,
    /// `ON_DEMAND_FLEX`, `PROVISIONED_THROUGHPUT`): `batch`, `flex`,
    /// `priority`, `provisioned` or `standard`. A line's own `service_tier` comes first.
    pub tier: Option<&'static str>,
    /// Anthropic's `usage.inference_geo` is `us`: the call ran on US-only
    /// inference (billed at the model's US multiple).
    pub us_only: bool,
    /// Vertex's `usageMetadata.trafficType` was read: the usage is
    /// Gemini's, even with no count in it (a streamed response's chunk
    /// before its last).
    pub gemini: bool,
}

/// A usage object's counts few calls have.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RawExtras {
    /// Audio tokens: among the input (OpenAI's `prompt_tokens_details` /
    /// Realtime's `input_token_details.audio_tokens`, Gemini's
    /// `promptTokensDetails` `AUDIO`), among the cached reads
    /// (`cached_tokens_details.audio_tokens`, `cacheTokensDetails`), among
    /// the output (`completion_tokens_details` / `output_token_details`,
    /// `candidatesTokensDetails`).
    pub audio_in: Lenient<u64>,
    pub audio_cached: Lenient<u64>,
    pub audio_out: Lenient<u64>,
    /// Web searches the provider ran: Anthropic's
    /// `server_tool_use.web_search_requests`, Perplexity's
    /// `num_search_queries`.
    pub web_searches: Lenient<u64>,
    /// OpenRouter's `cost_details.upstream_inference_cost` (in the usage
    /// object, or a generation record's `upstream_inference_cost`): what
    /// the provider charged, which a BYOK call's `cost` (OpenRouter's fee
    /// alone) leaves out ([`RawUsage::with_upstream`]).
    pub upstream_cost: Lenient<Money>,
    /// OpenRouter's `is_byok`: the call ran on the user's own provider key.
    pub byok: Option<bool>,
}

impl RawUsage {
    /// Whether a cached-read count was given, zero included (OpenAI's
    /// `cached_tokens`, Anthropic's `cache_read_input_tokens`, Gemini's
    /// `cachedContentTokenCount`, and what readers and mappings put there).
    pub fn cached_read_logged(&self) -> bool {
        [
            &self.cached_tokens,
            &self.cache_read_input_tokens,
            &self.cached_content_token_count,
        ]
        .iter()
        .any(|c| matches!(c, Lenient::Value(_)))
    }

    /// The extra counts, made when first written.
    pub fn extras(&mut self) -> &mut RawExtras {
        self.extras.get_or_insert_with(Default::default)
    }

    /// Keeps the first processing word a usage object gives (see
    /// [`RawUsage::tier`]); a value that is no text says nothing.
    pub fn set_tier(&mut self, label: &Lenient<std::borrow::Cow<'_, str>>) {
        let Lenient::Value(text) = label else {
            return;
        };
        let t = text.trim();
        let is = |w: &str| t.eq_ignore_ascii_case(w);
        // A batch's word wins over a `speed: "fast"` read before it in the
        // same usage (hunt80: priced fast, or batch, by key order).
        if self.tier.is_some() && !(is("batch") && self.tier == Some("fast")) {
            return;
        }
        self.tier = Some(if is("batch") {
            "batch"
        } else if is("flex") || is("on_demand_flex") {
            "flex"
        } else if is("priority") || is("on_demand_priority") {
            "priority"
        } else if is("fast") {
            "fast"
        } else if is("provisioned_throughput") {
            "provisioned"
        } else {
            "standard"
        });
    }
}

impl RawUsage {
    /// Whether the usage is Gemini's (`usageMetadata`'s counts, or its
    /// `trafficType` alone).
    pub fn is_gemini(&self) -> bool {
        self.gemini
            || self.prompt_token_count.is_present()
            || self.candidates_token_count.is_present()
            || self.cached_content_token_count.is_present()
            || self.thoughts_token_count.is_present()
    }

    /// Anthropic's `usage.inference_geo`: `us` is US-only inference
    /// (`global`, `not_available` and others are the global rates).
    pub fn set_geo(&mut self, label: &Lenient<std::borrow::Cow<'_, str>>) {
        if let Lenient::Value(text) = label {
            self.us_only = text.trim().eq_ignore_ascii_case("us");
        }
    }

    /// Anthropic's `usage.speed`: `fast` is fast mode, whatever service
    /// tier the usage names besides (not a batch's).
    pub fn set_speed(&mut self, label: &Lenient<std::borrow::Cow<'_, str>>) {
        if let Lenient::Value(text) = label {
            if text.trim().eq_ignore_ascii_case("fast") && self.tier != Some("batch") {
                self.tier = Some("fast");
            }
        }
    }

    /// The logged cost of a call and what its provider billed beside it:
    /// OpenRouter's BYOK calls are charged its fee alone (`cost`, 5% of
    /// the provider's price), the provider billing the rest
    /// (`cost_details.upstream_inference_cost`), so the call's cost is
    /// their sum (hunt125: reconciled at -95%). Added when `is_byok` is
    /// true, or is not given and the provider's charge exceeds `cost`
    /// (OpenRouter's own example); a call that is no BYOK's has its
    /// provider's charge inside its `cost`.
    pub fn with_upstream(&self, cost: Money) -> Money {
        let Some(x) = self.extras.as_deref() else {
            return cost;
        };
        match (x.byok, &x.upstream_cost) {
            (Some(true), Lenient::Value(up)) => {
                Money::from_picos(cost.picos().saturating_add(up.picos()))
            }
            (None, Lenient::Value(up)) if *up > cost => {
                Money::from_picos(cost.picos().saturating_add(up.picos()))
            }
            _ => cost,
        }
    }

    /// Sets OpenRouter's `is_byok` from its value (`true`, or its text).
    pub fn set_byok(&mut self, label: &Lenient<std::borrow::Cow<'_, str>>) {
        if let Lenient::Value(text) = label {
            let t = text.trim();
            let byok = if t.eq_ignore_ascii_case("true") {
                true
            } else if t.eq_ignore_ascii_case("false") {
                false
            } else {
                return;
            };
            let x = self.extras();
            x.byok = x.byok.or(Some(byok));
        }
    }

    /// Keeps the first provider's charge given ([`RawUsage::with_upstream`]).
    pub fn set_upstream_cost(&mut self, v: Lenient<Money>) {
        if matches!(v, Lenient::Missing) {
            return;
        }
        let x = self.extras();
        if !x.upstream_cost.is_present() {
            x.upstream_cost = v;
        }
    }

    /// Whether a main count was read (prompt, completion, input, output,
    /// Gemini's prompt or candidates): what makes a usage object an
    /// account of a call, not a detail (see `without_top_keys`' `MAIN`).
    pub fn has_main_count(&self) -> bool {
        [
            &self.prompt_tokens,
            &self.completion_tokens,
            &self.input_tokens,
            &self.output_tokens,
            &self.prompt_token_count,
            &self.candidates_token_count,
        ]
        .iter()
        .any(|c| c.is_present())
    }

    /// This usage with `input` as its own input count (`prompt_tokens`
    /// when `inclusive`, else Anthropic's `input_tokens`), read where its
    /// other counts were (at the line's top level or in an object), for a
    /// mapping's input of a name the reader does not know.
    pub fn with_input(&self, input: Lenient<u64>, inclusive: bool) -> RawUsage {
        let mut u = self.clone();
        let (slot, bit) = if inclusive {
            (&mut u.prompt_tokens, 0)
        } else {
            (&mut u.input_tokens, 2)
        };
        *slot = input;
        if u.top_keys != 0 {
            u.top_keys |= 1 << bit;
        }
        u
    }

    /// Takes a `[mapping]`'s usage object: with a main count it is the
    /// line's usage (the line's own cost and tier kept where it has none:
    /// hunt127, a top-level `usage` beside the named one won); without
    /// one it fills what the line's keys left, if the mapping named it
    /// (`explicit`), and is no usage if it merely holds the mapped counts
    /// (hunt127: a `metrics` object's `cost` and `speed`).
    pub fn take_mapped(&mut self, mut o: RawUsage, explicit: bool) {
        if o.has_main_count() {
            let old = std::mem::take(self);
            if !o.cost.is_present() {
                o.cost = old.cost;
            }
            if o.tier.is_none() {
                o.tier = old.tier;
            }
            o.us_only |= old.us_only;
            *self = o;
        } else if explicit {
            self.add_nested(o);
        }
    }

    /// Takes `total` (the AI SDK's `totalUsage`) as the line's whole usage,
    /// in place of what was read, if it gives a main count and no earlier
    /// one was taken.
    pub fn take_whole(&mut self, mut total: RawUsage) {
        if !self.whole && total.has_main_count() {
            total.whole = true;
            *self = total;
        }
    }
}

impl RawUsage {
    /// Normalises into the canonical convention (total input including cache
    /// reads and writes; output including reasoning). Returns `None` when no
    /// token field was present at all.
    ///
    /// - `prompt_tokens` present (OpenAI chat, LiteLLM): input = prompt_tokens,
    ///   which already includes cached reads and, for LiteLLM's Anthropic
    ///   responses, cache writes; cached reads are counted once even when both
    ///   `cached_tokens` and `cache_read_input_tokens` give them.
    /// - Gemini counts: input = promptTokenCount (includes cached content)
    ///   plus toolUsePromptTokenCount; output = candidates + thoughts,
    ///   because Gemini reports thoughts beside, not inside, the candidates.
    /// - `input_tokens` with `input_tokens_details` (OpenAI Responses):
    ///   inclusive, like chat.
    /// - `input_tokens` otherwise (Anthropic): exclusive, so input =
    ///   input_tokens + cache reads + cache writes.
    pub fn normalise(&self, p: &mut Problems) -> Option<Usage> {
        self.normalise_for(p, Convention::default())
    }

    /// [`normalise`](Self::normalise), told what the call's provider or
    /// model says of counts the usage leaves open ([`Convention`]).
    pub fn normalise_for(&self, p: &mut Problems, how: Convention) -> Option<Usage> {
        match self.without_top_keys() {
            Some(u) => u.normalise_all(p, how),
            None => self.normalise_all(p, how),
        }
    }

    /// Adds a usage object read inside a nested object of the line (a
    /// logged `response`, `body` or `request`) as the line's own keys are
    /// added: a usage object at the line's top level wins over it,
    /// whichever comes first.
    pub fn add_nested(&mut self, mut o: RawUsage) {
        if self.whole {
            return;
        }
        let mut low = 0u16;
        for (i, (mine, v)) in self.slots_mut().into_iter().zip(o.slots_mut()).enumerate() {
            if !mine.is_present() && v.is_present() {
                *mine = std::mem::take(v);
                low |= 1 << i;
            }
        }
        // Every other field named: one added and not merged here does not
        // build (the counts are the slots above).
        let RawUsage {
            responses_style,
            reasoning_beside,
            ai_sdk,
            ai_sdk_v6,
            cache_either,
            whole: _,
            top_keys: _,
            cost,
            extras,
            tier,
            us_only,
            gemini,
            prompt_tokens: _,
            completion_tokens: _,
            cached_tokens: _,
            reasoning_tokens: _,
            input_tokens: _,
            output_tokens: _,
            cache_read_input_tokens: _,
            cache_creation_input_tokens: _,
            cache_write_5m: _,
            cache_write_1h: _,
            prompt_token_count: _,
            candidates_token_count: _,
            cached_content_token_count: _,
            thoughts_token_count: _,
            tool_use_prompt_token_count: _,
            total_tokens: _,
        } = o;
        self.top_keys |= low;
        self.responses_style |= responses_style;
        self.reasoning_beside |= reasoning_beside;
        self.ai_sdk |= ai_sdk;
        self.ai_sdk_v6 |= ai_sdk_v6;
        self.cache_either |= cache_either;
        if !self.cost.is_present() {
            self.cost = cost;
        }
        if self.tier.is_none() {
            self.tier = tier;
        }
        self.us_only |= us_only;
        self.gemini |= gemini;
        if let Some(x) = extras {
            let RawExtras {
                audio_in,
                audio_cached,
                audio_out,
                web_searches,
                upstream_cost,
                byok,
            } = *x;
            let mine = self.extras();
            if !mine.upstream_cost.is_present() {
                mine.upstream_cost = upstream_cost;
            }
            mine.byok = mine.byok.or(byok);
            for (m, v) in [
                (&mut mine.audio_in, audio_in),
                (&mut mine.audio_cached, audio_cached),
                (&mut mine.audio_out, audio_out),
                (&mut mine.web_searches, web_searches),
            ] {
                if !m.is_present() {
                    *m = v;
                }
            }
        }
    }

    /// The counts by slot, in the order of [`RawUsage::top_keys`]' bits.
    fn slots_mut(&mut self) -> [&mut Lenient<u64>; 16] {
        [
            &mut self.prompt_tokens,
            &mut self.completion_tokens,
            &mut self.input_tokens,
            &mut self.output_tokens,
            &mut self.cache_read_input_tokens,
            &mut self.cache_creation_input_tokens,
            &mut self.cached_tokens,
            &mut self.reasoning_tokens,
            &mut self.prompt_token_count,
            &mut self.candidates_token_count,
            &mut self.cached_content_token_count,
            &mut self.thoughts_token_count,
            &mut self.tool_use_prompt_token_count,
            &mut self.cache_write_5m,
            &mut self.cache_write_1h,
            &mut self.total_tokens,
        ]
    }

    /// Without the counts the line's own keys gave, when its usage object
    /// gave a main count of its own (input or output): the object is the
    /// provider's account, in its own convention, and a line's counts
    /// beside it (a gateway's estimate, or `prompt_tokens` beside
    /// Anthropic's `input_tokens`) are not mixed into it. `None` when
    /// nothing is to be dropped.
    fn without_top_keys(&self) -> Option<RawUsage> {
        let top = self.top_keys;
        if top == 0 {
            return None;
        }
        let mut u = self.clone();
        let slots = u.slots_mut();
        // Prompt, completion, input, output, and Gemini's prompt and
        // candidates counts: what makes a usage object an account of its
        // own. (A nested object of cache counts beside a line's own
        // totals, as LiteLLM's spend logs have, adds to them.)
        const MAIN: [usize; 6] = [0, 1, 2, 3, 8, 9];
        let from_object = MAIN
            .iter()
            .any(|&i| top & (1 << i) == 0 && slots[i].is_present());
        if !from_object {
            return None;
        }
        for (i, s) in slots.into_iter().enumerate() {
            if top & (1 << i) != 0 {
                *s = Lenient::Missing;
            }
        }
        u.top_keys = 0;
        Some(u)
    }

    fn normalise_all(&self, p: &mut Problems, how: Convention) -> Option<Usage> {
        let input_leaves_cache_out = how.input_leaves_cache_out;
        let prompt = p.tokens(&self.prompt_tokens, "prompt_tokens");
        let completion = p.tokens(&self.completion_tokens, "completion_tokens");
        let cached = p.tokens(&self.cached_tokens, "cached_tokens");
        let reasoning = p.tokens(&self.reasoning_tokens, "reasoning_tokens");
        let input = p.tokens(&self.input_tokens, "input_tokens");
        let output = p.tokens(&self.output_tokens, "output_tokens");
        let cache_read = p.tokens(&self.cache_read_input_tokens, "cache_read_input_tokens");
        let cache_creation = p.tokens(
            &self.cache_creation_input_tokens,
            "cache_creation_input_tokens",
        );
        let cw_5m = p.tokens(&self.cache_write_5m, "ephemeral_5m_input_tokens");
        let cw_1h = p.tokens(&self.cache_write_1h, "ephemeral_1h_input_tokens");
        let g_prompt = p.tokens(&self.prompt_token_count, "promptTokenCount");
        let g_cand = p.tokens(&self.candidates_token_count, "candidatesTokenCount");
        let g_cached = p.tokens(&self.cached_content_token_count, "cachedContentTokenCount");
        let g_thoughts = p.tokens(&self.thoughts_token_count, "thoughtsTokenCount");
        let g_tool_use = p.tokens(&self.tool_use_prompt_token_count, "toolUsePromptTokenCount");

        // Cache writes: the total if given, else the sum of the TTL split;
        // the split when it is more (LangChain writes `cache_creation: 0`
        // beside a split of the writes: hunt51).
        let split = match (cw_5m, cw_1h) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
        };
        let cache_write = match (cache_creation, split) {
            (Some(c), Some(s)) => c.max(s),
            (c, s) => c.or(s).unwrap_or(0),
        };
        let cache_write_1h = cw_1h.unwrap_or(0);

        // The logged total, read only to tell where reasoning is counted.
        let total = match self.total_tokens {
            Lenient::Value(t) => Some(t),
            _ => None,
        };
        let usage = if prompt.is_some() || completion.is_some() {
            // Without a `prompt_tokens`, an input beside cache reads leaves
            // them out (DeepSeek's misses beside its hits, as Anthropic's
            // `input_tokens`: a usage of hits, misses and completion only
            // was rejected as inconsistent).
            let input = match (prompt, input, cache_read) {
                (None, Some(i), Some(c)) => i + c,
                _ => prompt.or(input).unwrap_or(0),
            };
            let mut output = completion.or(output).unwrap_or(0);
            let mut r = reasoning.unwrap_or(0);
            // xAI counts reasoning beside `completion_tokens`, not inside
            // it (its `total_tokens` is prompt + completion + reasoning):
            // told by a total that says so, or by more reasoning than
            // completion, which cannot be inside it. So does Perplexity
            // (its total leaves reasoning out), told by its own keys.
            // (A Gemini total that holds a tool's prompt too cannot tell
            // thoughts inside the completion, LiteLLM's and CLIProxyAPI's
            // convention, from thoughts beside it, Portkey's: read as
            // inside, the thoughts of the latter priced at the input rate
            // (hunt155: beside, the former's counted twice).)
            let mut beside = r > 0
                && completion.is_some()
                && (self.reasoning_beside
                    || r > output
                    || (total == Some(input + output + r) && total != Some(input + output)));
            // Gemini's OpenAI-style usage (its OpenAI-compatible API, and
            // the converters of its usage) leaves the thoughts out of
            // `completion_tokens` and counts them in `total_tokens` only
            // (hunt53): the rest of the total is reasoning, beside.
            if let (true, None, Some(t), Some(_)) =
                (how.thoughts_in_total, reasoning, total, completion)
            {
                if t > input + output {
                    r = t - input - output;
                    beside = true;
                }
            }
            if beside {
                output += r;
            }
            // A Gemini call's built-in tool prompt (URL context, search
            // grounding, code execution), in the total alone: input.
            let input = match total {
                Some(t) if how.gemini && t > input + output => t - output,
                _ => input,
            };
            Usage {
                input,
                cached_read: cached.max(cache_read).unwrap_or(0),
                cache_write,
                cache_write_1h,
                output,
                reasoning: r,
                ..Usage::default()
            }
        } else if g_prompt.is_some() || g_cand.is_some() {
            let thoughts = g_thoughts.unwrap_or(0);
            Usage {
                input: g_prompt.unwrap_or(0) + g_tool_use.unwrap_or(0),
                cached_read: g_cached.unwrap_or(0),
                cache_write: 0,
                cache_write_1h: 0,
                output: g_cand.unwrap_or(0) + thoughts,
                reasoning: thoughts,
                ..Usage::default()
            }
        } else if input.is_some() || output.is_some() {
            // The AI SDK's input includes the cache (AI SDK 6 always, AI
            // SDK 5 for OpenAI), unless the call's provider counts input
            // without it (AI SDK 5 passes Anthropic's and Bedrock's on as
            // they are) or there are more cached tokens than input.
            let ai_sdk = self.ai_sdk || self.ai_sdk_v6;
            // (`cache_read_tokens` is inside the input for pydantic-ai, whose
            // `input_tokens` holds the cache, and beside it in Claude Code's
            // analytics report, whose reads dwarf its input: told by
            // whether the parts fit in the input, hunt171.)
            let fits = |c: u64| c + cache_write <= input.unwrap_or(0);
            let inside = if ai_sdk {
                self.ai_sdk_v6
                    || (!input_leaves_cache_out && cached.is_none_or(|c| c <= input.unwrap_or(0)))
            } else {
                cached.is_some()
                    && cache_read.is_none()
                    && (!self.cache_either || cached.is_some_and(fits))
            };
            // AI SDK 5 passes Gemini's and xAI's reasoning on beside the
            // output, as they count it (told as in the prompt branch).
            let r = reasoning.unwrap_or(0);
            let (i, o) = (input.unwrap_or(0), output.unwrap_or(0));
            // So does LangChain's `usage_metadata` of ChatVertexAI (its
            // `output_tokens` is Gemini's candidates alone, its total holds
            // the thoughts: hunt147's bug6), where OpenAI's Responses usage
            // totals input and output.
            let beside = r > 0
                && output.is_some()
                && (r > o
                    || ((ai_sdk || self.responses_style)
                        && total == Some(i + o + r)
                        && total != Some(i + o)));
            let output = output.map(|o| if beside { o + r } else { o });
            if self.responses_style || inside {
                Usage {
                    input: input.unwrap_or(0),
                    // (AI SDK 6's `cacheReadTokens` beside its
                    // `noCacheTokens`, flattened: the reads' slot is the
                    // cache's read count, hunt169.)
                    cached_read: cached.or(cache_read).unwrap_or(0),
                    cache_write,
                    cache_write_1h,
                    output: output.unwrap_or(0),
                    reasoning: reasoning.unwrap_or(0),
                    ..Usage::default()
                }
            } else {
                let read = if ai_sdk || self.cache_either {
                    cache_read.or(cached)
                } else {
                    cache_read
                }
                .unwrap_or(0);
                Usage {
                    input: input.unwrap_or(0) + read + cache_write,
                    cached_read: read,
                    cache_write,
                    cache_write_1h,
                    output: output.unwrap_or(0),
                    reasoning: reasoning.unwrap_or(0),
                    ..Usage::default()
                }
            }
        } else if cache_read.is_some() || cache_write > 0 {
            // Only cache fields: count them, with no plain input.
            let read = cache_read.unwrap_or(0);
            Usage {
                input: read + cache_write,
                cached_read: read,
                cache_write,
                cache_write_1h,
                output: 0,
                reasoning: 0,
                ..Usage::default()
            }
        } else {
            return None;
        };
        let Some(x) = self.extras.as_deref() else {
            return Some(usage);
        };
        Some(Usage {
            input_audio: p.tokens(&x.audio_in, "audio_tokens").unwrap_or(0),
            cached_audio: p
                .tokens(&x.audio_cached, "cached audio_tokens")
                .unwrap_or(0),
            output_audio: p.tokens(&x.audio_out, "output audio_tokens").unwrap_or(0),
            web_searches: p
                .tokens(&x.web_searches, "web_search_requests")
                .unwrap_or(0),
            ..usage
        })
    }
}

/// The earliest time a call can have: 2015-01-01, before any LLM API. An
/// earlier one is a wrong value or unit (epoch 0, a spreadsheet's serial
/// date read as seconds), which would price the call at the catalog's
/// first price and put it on a day of 1970: it is read as absent.
pub(crate) const EARLIEST_CALL: DateTime<Utc> =
    DateTime::from_timestamp_nanos(1_420_070_400_000_000_000);

/// Final checks shared by every reader: a model is required; a successful
/// call needs usage; the usage parts must fit in their wholes; a time must
/// be one a nanosecond timestamp holds (1677-09-21 to 2262-04-11, as the
/// store's and Arrow's `ts` columns do: a log's year 3000 is a typo, and
/// it would not survive the store); one earlier than [`EARLIEST_CALL`] is
/// read as absent.
pub fn finish<'a>(
    mut record: CallRecord<'a>,
    usage: Option<Usage>,
    mut problems: Problems,
) -> Result<CallRecord<'a>, Reject> {
    if let Some(reject) = problems.reject.take() {
        return Err(reject);
    }
    record.unread_field = problems.unread;
    if let Some(t) = record.timestamp {
        let Some(nanos) = t.timestamp_nanos_opt() else {
            return Err(Reject::new(
                RejectReason::BadTimestamp,
                "timestamp out of range (before 1677-09-21 or after 2262-04-11)",
            ));
        };
        // A leap second (`…:59:60Z`) is the next minute's first, as the
        // store's nanosecond column has it.
        if t.timestamp_subsec_nanos() >= 1_000_000_000 {
            record.timestamp = Some(DateTime::from_timestamp_nanos(nanos));
        }
    }
    if record.model.trim().is_empty() {
        // A logged error response with no model and no tokens (Anthropic's
        // `{"type": "error", …}`, a gateway's 429 before routing): nothing
        // was billed, so it is no broken line.
        let failed = record.effective_status() != tokenaudit_core::CallStatus::Ok;
        if failed && usage.is_none_or(|u| u == Usage::default()) {
            return Err(Reject::new(
                RejectReason::NotBilled,
                "a failed request with no model and no tokens: nothing was billed",
            ));
        }
        return Err(Reject::new(RejectReason::MissingModel, "model"));
    }
    match usage {
        Some(u) => {
            u.check()
                .map_err(|msg| Reject::new(RejectReason::InconsistentUsage, msg))?;
            record.usage = u;
            record.cached_read_logged |= u.cached_read > 0;
            // Output with no input on a successful call: a count the
            // logger left out (`prompt_tokens: null`, an empty CSV cell),
            // priced as none, and said (hunt101: unsaid, $0.004 for
            // $0.006).
            if u.input == 0
                && u.output > 0
                && record.effective_status() == tokenaudit_core::CallStatus::Ok
            {
                record.unread_field = record.unread_field.or(Some("input_tokens"));
            }
        }
        None => {
            if record.effective_status() == tokenaudit_core::CallStatus::Ok {
                return Err(Reject::new(
                    RejectReason::MissingUsage,
                    "no token usage on a successful call",
                ));
            }
        }
    }
    // A time before any LLM API is a wrong value or unit (epoch 0, a
    // trace's seconds since its start, a spreadsheet's serial date read as
    // seconds): the call is kept, without its time, and the field said to
    // be ignored (as one of the wrong type).
    if record.timestamp.is_some_and(|t| t < EARLIEST_CALL) {
        record.timestamp = None;
        record.unread_field = record.unread_field.or(Some("timestamp"));
    }
    Ok(record)
}

/// serde_json's message without any quoted input.
pub(crate) fn short_error(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match e.classify() {
        Category::Eof => "line ends before the JSON value does (truncated?)",
        Category::Syntax => "invalid JSON syntax",
        Category::Data => "unexpected JSON value",
        Category::Io => "read error",
    };
    format!("{what} at column {}", e.column())
}

/// Parses a line as one JSON object of type `T`, with the gateway reader's
/// wording for lines that are not JSON or not an object.
pub(crate) fn json_object<'a, T: Deserialize<'a>>(line: &'a str) -> Result<T, Reject> {
    if line.trim_start().as_bytes().first() != Some(&b'{') {
        return Err(match serde_json::from_str::<IgnoredAny>(line) {
            Ok(_) => Reject::new(RejectReason::NotAnObject, "line is JSON but not an object"),
            Err(e) => Reject::new(RejectReason::MalformedJson, short_error(&e)),
        });
    }
    serde_json::from_str(line).map_err(|e| {
        let reason = if e.is_data() {
            RejectReason::WrongType
        } else {
            RejectReason::MalformedJson
        };
        Reject::new(reason, short_error(&e))
    })
}

/// Whether [`minhash`] finds a word in `text` (it is `Some` exactly then):
/// a cheap test, so a record keeps only texts that have a signature.
pub fn has_word(text: &str) -> bool {
    text.chars().any(char::is_alphanumeric)
}

/// The MinHash signature of a text, for near-duplicate detection: the text
/// is lower-cased, cut into words of letters and digits, and shingled as
/// words and word pairs; texts whose identifiers (words of three digits or
/// more) differ share no bin (see `Bins::finish`). `None` for a text
/// without words.
///
/// One permutation hashing with densification (Shrivastava, "Optimal
/// Densification for Fast and Accurate Minwise Hashing", ICML 2017): each
/// shingle is hashed once (a word by xxh3 of its lower-cased bytes, a pair
/// by mixing its words' hashes, [`pair_hash`]), the hash's top bits pick one
/// of the signature's bins and the bin keeps the least of its low 32 bits;
/// a bin no shingle fell into takes the value of a bin picked by a hash of
/// its index ([`densify`]). Two texts' share of equal bins estimates the
/// Jaccard similarity of their shingle sets, as with one hash function per
/// bin, at one hash and one comparison per shingle instead of sixteen
/// mixes (the signature of stop 32 and before, three quarters of an audit
/// of logs with prompt text: `benches/README.md`, "Session 20"). A shingle
/// seen twice changes nothing, so no set of them is kept.
///
/// An ASCII text's words are read from masks of its letters and digits
/// (`ascii_words`), other texts' byte by byte, decoding only the non-ASCII
/// characters (`words`). The result is that of `minhash_reference`, which
/// splits on `char`s with the standard library, and which the tests and the
/// fuzz target `lines` compare it with.
pub fn minhash(text: &str) -> Option<tokenaudit_core::MinHash> {
    SCRATCH.with(|scratch| {
        let mut buf = scratch.borrow_mut();
        let sig = minhash_with(text, &mut buf);
        // What one very long word grew is not kept for the others.
        if buf.capacity() > KEPT_SCRATCH {
            *buf = Vec::new();
        }
        sig
    })
}

/// The largest word buffer, in bytes, a thread keeps from one text to the
/// next.
const KEPT_SCRATCH: usize = 1 << 16;

thread_local! {
    /// The buffer [`minhash`] lower-cases each word into.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// How far a shingle's hash is shifted to give its bin: its top bits.
const BIN_SHIFT: u32 = 64 - tokenaudit_core::MINHASH_LEN.trailing_zeros();

/// A signature being filled, which of its bins a shingle fell into, and
/// the hashes of the text's identifiers ([`is_identifier`]).
struct Bins {
    sig: tokenaudit_core::MinHash,
    filled: u32,
    identifiers: Identifiers,
}

/// The hashes of a text's identifiers: the first 16 in place (most
/// prompts have fewer; a `Vec` of them was an allocation per prompt, +6%
/// on prompt-text logs), the rest in a list.
#[derive(Default)]
struct Identifiers {
    first: [u64; 16],
    len: usize,
    more: Vec<u64>,
}

impl Identifiers {
    #[inline(always)]
    fn push(&mut self, h: u64) {
        if self.len < self.first.len() {
            self.first[self.len] = h;
            self.len += 1;
        } else {
            self.more.push(h);
        }
    }

    /// A hash of the set (order and repeats left out); `None` when empty.
    fn set_hash(&mut self) -> Option<u64> {
        if self.len == 0 {
            return None;
        }
        let all: &mut [u64] = if self.more.is_empty() {
            &mut self.first[..self.len]
        } else {
            self.more.extend_from_slice(&self.first[..self.len]);
            &mut self.more
        };
        all.sort_unstable();
        let mut acc = 0x243F_6A88_85A3_08D3u64;
        let mut last = None;
        for &h in all.iter() {
            if last != Some(h) {
                acc = splitmix(acc ^ h);
                last = Some(h);
            }
        }
        Some(acc)
    }
}

impl Bins {
    fn new() -> Bins {
        const { assert!(tokenaudit_core::MINHASH_LEN.is_power_of_two()) };
        const { assert!(tokenaudit_core::MINHASH_LEN <= 32) };
        Bins {
            sig: [u32::MAX; tokenaudit_core::MINHASH_LEN],
            filled: 0,
            identifiers: Identifiers::default(),
        }
    }

    /// Adds a shingle's hash.
    #[inline(always)]
    fn put(&mut self, h: u64) {
        let bin = (h >> BIN_SHIFT) as usize;
        self.filled |= 1 << bin;
        self.sig[bin] = self.sig[bin].min(h as u32);
    }

    /// Adds a word's hash and the pair it makes with the word before; an
    /// identifier's is kept too.
    #[inline(always)]
    fn word(&mut self, h: u64, prev: &mut Option<u64>, identifier: bool) {
        self.put(h);
        if let Some(p) = *prev {
            self.put(pair_hash(p, h));
        }
        if identifier {
            self.identifiers.push(h);
        }
        *prev = Some(h);
    }

    /// The signature, each empty bin densified, then every bin XORed with
    /// a hash of the text's set of identifiers, when it has any; `None`
    /// when no shingle came. Two texts with the same identifiers (or none)
    /// agree on a bin exactly as before; two whose identifiers differ agree
    /// on none: a question about order 483920 is no near-duplicate of the
    /// same question about order 483927, whose cached answer would be
    /// another customer's (hunt49, hunt92: 1,009 such "near hits" of 2,000).
    fn finish(mut self) -> Option<tokenaudit_core::MinHash> {
        (self.filled != 0).then(|| {
            densify(&mut self.sig, self.filled);
            if let Some(set) = self.identifiers.set_hash() {
                let mask = (set as u32) | 1;
                for bin in &mut self.sig {
                    *bin ^= mask;
                }
            }
            self.sig
        })
    }
}

/// Whether a word is an identifier, which a near-duplicate must share: a
/// word of three digits or more (an order's `483920` or `4821`, `ORD-2026-0042`'s
/// parts, an invoice's `inv10492`, a year, an amount's); not a day, a
/// month or a clock time's parts, nor an ISO time's `01T09` (hunt96: the
/// same question never matched across an hour).
fn is_identifier(word: &str) -> bool {
    let digits = if word.is_ascii() {
        word.bytes().filter(u8::is_ascii_digit).count()
    } else {
        word.chars().filter(|c| c.is_numeric()).count()
    };
    digits >= 3 && !is_iso_joint(word.as_bytes())
}

/// An ISO 8601 time's date and hour as one word (`01T09`, `1t9`), or its
/// seconds' fraction with the zone (`250Z`: hunt96, the same question
/// never matched across a second).
fn is_iso_joint(w: &[u8]) -> bool {
    if let [digits @ .., b'z' | b'Z'] = w {
        if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) {
            return true;
        }
    }
    match w.iter().position(|&c| c == b't' || c == b'T') {
        Some(t) => {
            let (day, hour) = (&w[..t], &w[t + 1..]);
            (1..=2).contains(&day.len())
                && (1..=2).contains(&hour.len())
                && day.iter().chain(hour).all(u8::is_ascii_digit)
        }
        None => false,
    }
}

/// SplitMix64's finalizer: every bit of `z` moves every bit of the result.
#[inline(always)]
fn splitmix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The hash of a word pair, from its words' hashes (order matters).
#[inline(always)]
fn pair_hash(first: u64, second: u64) -> u64 {
    splitmix(first.rotate_left(23) ^ second.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// Fills each empty bin `i` with the value of the first filled bin among
/// `splitmix(i, 0)`, `splitmix(i, 1)` …: the same choice in every
/// signature, so two texts whose shingles fill the same bins agree on the
/// empty ones exactly when they agree on the bins they borrow from.
fn densify(sig: &mut tokenaudit_core::MinHash, filled: u32) {
    use tokenaudit_core::MINHASH_LEN;
    let all = if MINHASH_LEN == 32 {
        u32::MAX
    } else {
        (1u32 << MINHASH_LEN) - 1
    };
    if filled == all {
        return;
    }
    let kept = *sig;
    for (i, slot) in sig.iter_mut().enumerate() {
        if filled & (1 << i) != 0 {
            continue;
        }
        let mut attempt = 0u64;
        let from = loop {
            let j = (splitmix(((i as u64) << 32 | attempt).wrapping_add(0x9E37_79B9_7F4A_7C15))
                >> BIN_SHIFT) as usize;
            if filled & (1 << j) != 0 {
                break j;
            }
            attempt += 1;
            // A single filled bin is found in 16 tries on average; past a
            // few hundred, the next filled bin to the right.
            if attempt == 512 {
                break (1..MINHASH_LEN)
                    .map(|d| (i + d) % MINHASH_LEN)
                    .find(|&j| filled & (1 << j) != 0)
                    .expect("a bin is filled");
            }
        };
        *slot = kept[from];
    }
}

fn minhash_with(text: &str, buf: &mut Vec<u8>) -> Option<tokenaudit_core::MinHash> {
    let mut bins = Bins::new();
    let mut prev: Option<u64> = None;
    let bytes = text.as_bytes();
    if text.is_ascii() {
        ascii_words(bytes, |start, end, digits| {
            let w = &bytes[start..end];
            // Most words are lower case already: hashed where they are.
            let h = if w.iter().any(u8::is_ascii_uppercase) {
                buf.clear();
                buf.extend(w.iter().map(u8::to_ascii_lowercase));
                xxhash_rust::xxh3::xxh3_64(buf)
            } else {
                xxhash_rust::xxh3::xxh3_64(w)
            };
            // (An identifier's digits counted with its word's mask.)
            bins.word(h, &mut prev, digits >= 3 && !is_iso_joint(w));
        });
    } else {
        words(text, |start, end, ascii| {
            buf.clear();
            if ascii {
                buf.extend(bytes[start..end].iter().map(u8::to_ascii_lowercase));
            } else {
                // Unicode lower-casing depends on the whole word (final
                // sigma).
                buf.extend_from_slice(text[start..end].to_lowercase().as_bytes());
            }
            let identifier = is_identifier(&text[start..end]);
            bins.word(xxhash_rust::xxh3::xxh3_64(buf), &mut prev, identifier);
        });
    }
    bins.finish()
}

/// Each word of a text (a run of characters that are letters or digits),
/// as its byte range and whether it is ASCII, in order.
fn words(text: &str, mut word: impl FnMut(usize, usize, bool)) {
    let bytes = text.as_bytes();
    let n = bytes.len();
    let mut i = 0;
    while i < n {
        // Step over what is not a letter or digit.
        while i < n && CLASS[bytes[i] as usize] == SEPARATOR {
            i += 1;
        }
        if i < n && CLASS[bytes[i] as usize] == OTHER {
            let c = text[i..].chars().next().unwrap_or(' ');
            if !c.is_alphanumeric() {
                i += c.len_utf8();
                continue;
            }
        }
        if i == n {
            break;
        }
        // The word: letters and digits up to the next other character.
        let start = i;
        let mut ascii = true;
        while i < n {
            match CLASS[bytes[i] as usize] {
                LETTER => i += 1,
                SEPARATOR => break,
                _ => {
                    let c = text[i..].chars().next().unwrap_or(' ');
                    if !c.is_alphanumeric() {
                        break;
                    }
                    ascii = false;
                    i += c.len_utf8();
                }
            }
        }
        word(start, i, ascii);
    }
}

/// [`words`] of an ASCII text, without a branch per byte: each 64 bytes
/// become a mask of their letters and digits (eight at a time,
/// [`alnum8`]), and a word is read from where its run of ones starts and
/// ends, a few instructions per word.
fn ascii_words(bytes: &[u8], mut word: impl FnMut(usize, usize, u32)) {
    let n = bytes.len();
    // Where the word that runs into the current block began, and its
    // digits in the blocks before.
    let mut open: Option<usize> = None;
    let mut open_digits = 0u32;
    let mut base = 0;
    while base < n {
        let block = &bytes[base..n.min(base + 64)];
        let (mut mask, mut digits) = (0u64, 0u64);
        let mut groups = block.chunks_exact(8);
        for (k, g) in groups.by_ref().enumerate() {
            let w = u64::from_le_bytes(g.try_into().expect("eight bytes"));
            let (a, d) = alnum8(w);
            mask |= u64::from(a) << (8 * k);
            digits |= u64::from(d) << (8 * k);
        }
        let tail = groups.remainder();
        if !tail.is_empty() {
            let mut g = [0u8; 8];
            g[..tail.len()].copy_from_slice(tail);
            let k = block.len() / 8;
            let (a, d) = alnum8(u64::from_le_bytes(g));
            mask |= u64::from(a) << (8 * k);
            digits |= u64::from(d) << (8 * k);
        }
        // A start is a one after a zero, an end a zero after a one; they
        // alternate, beginning with an end when a word is open. Bits past
        // the block's end are zeros, so an end there is not an end.
        let carry = u64::from(open.is_some());
        let before = (mask << 1) | carry;
        let valid = if block.len() == 64 {
            u64::MAX
        } else {
            (1u64 << block.len()) - 1
        };
        let mut events = (mask ^ before) & valid;
        // Where the open word starts in this block (0: an earlier one).
        let mut from = 0u32;
        while events != 0 {
            let off = events.trailing_zeros();
            let at = base + off as usize;
            events &= events - 1;
            match open.take() {
                Some(start) => {
                    let within = ((1u64 << off) - 1) & (u64::MAX << from);
                    word(start, at, open_digits + (digits & within).count_ones());
                    open_digits = 0;
                }
                None => {
                    open = Some(at);
                    from = off;
                }
            }
        }
        if open.is_some() {
            open_digits += (digits & (u64::MAX << from)).count_ones();
        }
        base += block.len();
    }
    if let Some(start) = open {
        word(start, n, open_digits);
    }
}

/// A mask of which of the eight ASCII bytes of `w` (little-endian) are
/// letters or digits: bit `i` for byte `i`. Each byte's test is a pair of
/// additions whose carries stay inside the byte (every byte is below
/// 0x80), and a multiplication gathers the eight flags.
#[inline]
fn alnum8(w: u64) -> (u8, u8) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let at_least = |x: u64, b: u8| x + ONES * u64::from(0x80 - b);
    let digit = at_least(w, b'0') & !at_least(w, b'9' + 1);
    let folded = w | (ONES * 0x20);
    let letter = at_least(folded, b'a') & !at_least(folded, b'z' + 1);
    let bits = |x: u64| (((x & HIGHS) >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u8;
    (bits(digit | letter), bits(digit))
}

/// Checks [`minhash`] against [`minhash_reference`] on `text` (for the
/// fuzz target `lines`, which feeds it every line as text).
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub fn minhash_agree(text: &str) {
    assert_eq!(minhash(text), minhash_reference(text), "{text:?}");
}

/// What a byte is to [`minhash`]'s words: an ASCII letter or digit, other
/// ASCII, or part of a character that must be decoded to be told.
const SEPARATOR: u8 = 0;
const LETTER: u8 = 1;
const OTHER: u8 = 2;
const CLASS: [u8; 256] = {
    let mut t = [OTHER; 256];
    let mut b = 0;
    while b < 128 {
        t[b] = if (b as u8).is_ascii_alphanumeric() {
            LETTER
        } else {
            SEPARATOR
        };
        b += 1;
    }
    t
};

/// [`minhash`] written plainly: words split on `char`s with the standard
/// library, each lower-cased into a `String` of its own, every shingle put
/// in its bin. The reference the tests (and the fuzz target `lines`) hold
/// the fast version to.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn minhash_reference(text: &str) -> Option<tokenaudit_core::MinHash> {
    let words: Vec<(u64, bool)> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            (
                xxhash_rust::xxh3::xxh3_64(w.to_lowercase().as_bytes()),
                is_identifier(w),
            )
        })
        .collect();
    let mut bins = Bins::new();
    for (i, &(h, identifier)) in words.iter().enumerate() {
        bins.put(h);
        if i > 0 {
            bins.put(pair_hash(words[i - 1].0, h));
        }
        if identifier {
            bins.identifiers.push(h);
        }
    }
    bins.finish()
}

/// The first message of a `messages` array, read without copying its
/// content (for the system prompt's fingerprint).
#[derive(serde::Deserialize)]
struct Message<'a> {
    #[serde(borrow, default)]
    role: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    content: Option<&'a serde_json::value::RawValue>,
    /// A list of parts instead of a `content` (OpenTelemetry GenAI's
    /// captured messages, Gemini's `contents`).
    #[serde(borrow, default)]
    parts: Option<&'a serde_json::value::RawValue>,
}

/// What one read of a `messages` array gives.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Messages<'a> {
    /// The array's [`prompt_fingerprint`].
    pub fp: u64,
    /// What the near-duplicate check compares ([`prompt_text`]).
    pub text: Option<Cow<'a, str>>,
    /// The fingerprint of the first system (or developer) message's raw
    /// content.
    pub system: Option<u64>,
    /// The length of that content's JSON text, for an estimate of the
    /// system prompt's tokens.
    pub system_chars: Option<u64>,
    /// Messages whose role is `user`: the turn of a conversation that
    /// resends its history.
    pub user_messages: u32,
}

/// The fingerprint of a prompt's JSON text (a `messages` array, a
/// `prompt` or `input` value): one value has one fingerprint, whatever the
/// order of the keys in its objects, the spaces between its tokens, the
/// escapes in its strings (`\u00e9` or `é`, `\/` or `/`) and the spelling
/// of its numbers (`1.0` or `1`). One prompt logged by two producers
/// (Python's `json.dumps` and its spaces, a warehouse that sorts keys, a
/// Parquet row read in column order) is one prompt (hunt57). Text the
/// scanner does not read is hashed as it is.
pub fn prompt_fingerprint(raw: &str) -> u64 {
    let mut s = crate::json::scan::Scanner::new(raw);
    match canon(&mut s) {
        Ok(h) if s.at_end() => h,
        _ => xxhash_rust::xxh3::xxh3_64(raw.as_bytes()),
    }
}

/// The seeds that keep the canonical hashes of different kinds of value
/// apart (see [`prompt_fingerprint`]).
mod seed {
    pub const STRING: u64 = 1;
    pub const INTEGER: u64 = 2;
    pub const FLOAT: u64 = 3;
    pub const LITERAL: u64 = 4;
    pub const MEMBER: u64 = 5;
    pub const OBJECT: u64 = 6;
    pub const ELEMENT: u64 = 7;
}

fn hash_with(bytes: &[u8], seed: u64) -> u64 {
    xxhash_rust::xxh3::xxh3_64_with_seed(bytes, seed)
}

fn hash_pair(a: u64, b: u64, seed: u64) -> u64 {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&a.to_le_bytes());
    bytes[8..].copy_from_slice(&b.to_le_bytes());
    hash_with(&bytes, seed)
}

/// A string's canonical hash, from its decoded text.
fn canon_text(text: &str) -> u64 {
    hash_with(text.as_bytes(), seed::STRING)
}

/// A number's: an integer (also written `1.0` or `1e2`) by its value, any
/// other by its `f64`.
fn canon_number(raw: &str) -> u64 {
    let int = |n: u64| hash_with(&n.to_le_bytes(), seed::INTEGER);
    if let Ok(n) = raw.parse::<u64>() {
        return int(n);
    }
    if let Ok(n) = raw.parse::<i64>() {
        return int(n as u64);
    }
    match raw.parse::<f64>() {
        Ok(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => int(f as i64 as u64),
        Ok(f) => hash_with(&f.to_bits().to_le_bytes(), seed::FLOAT),
        Err(_) => hash_with(raw.as_bytes(), seed::LITERAL),
    }
}

/// An object's canonical hash: its members' hashes summed (so their order
/// does not count), then with their number.
#[derive(Default)]
struct CanonObject {
    sum: u64,
    members: u64,
}

impl CanonObject {
    fn add(&mut self, key: &str, value: u64) {
        self.sum = self
            .sum
            .wrapping_add(hash_pair(canon_text(key), value, seed::MEMBER));
        self.members += 1;
    }

    fn finish(&self) -> u64 {
        hash_pair(self.sum, self.members, seed::OBJECT)
    }
}

/// An array's: its elements' hashes folded in order.
struct CanonArray(u64);

impl CanonArray {
    fn new() -> CanonArray {
        CanonArray(seed::ELEMENT)
    }

    fn add(&mut self, value: u64) {
        self.0 = hash_pair(self.0, value, seed::ELEMENT);
    }
}

/// The canonical hash of the value where `s` stands, which it steps over
/// (see [`prompt_fingerprint`]).
pub(crate) fn canon(s: &mut crate::json::scan::Scanner<'_>) -> crate::json::scan::Scan<u64> {
    use crate::json::scan::Bail;
    match s.peek()? {
        b'"' => canon_string(s),
        b'{' => {
            s.begin_object()?;
            let mut object = CanonObject::default();
            let mut first = true;
            while let Some(key) = s.next_key(&mut first)? {
                let value = canon(s)?;
                object.add(&key, value);
            }
            Ok(object.finish())
        }
        b'[' => {
            s.begin_array()?;
            let mut array = CanonArray::new();
            let mut first = true;
            while s.next_element(&mut first)? {
                array.add(canon(s)?);
            }
            Ok(array.0)
        }
        b'-' | b'0'..=b'9' => {
            let raw = s.raw_value()?.ok_or(Bail)?;
            Ok(canon_number(raw))
        }
        _ => {
            let raw = s.raw_value()?.unwrap_or("null");
            Ok(hash_with(raw.as_bytes(), seed::LITERAL))
        }
    }
}

/// A string's canonical hash where `s` stands at its quote: its text as
/// written when it has no escapes, else decoded.
fn canon_string(s: &mut crate::json::scan::Scanner<'_>) -> crate::json::scan::Scan<u64> {
    let start = s.pos();
    let (inner, escaped) = s.raw_string()?;
    if !escaped {
        return Ok(canon_text(inner));
    }
    let mut again = crate::json::scan::Scanner::new(s.since(start));
    Ok(canon_text(&again.string()?))
}

/// A `messages` array read once for everything the record takes from it
/// ([`Messages`]).
pub fn read_messages(raw: &str) -> Messages<'_> {
    match scan_messages(raw) {
        Ok(read) => read,
        Err(crate::json::scan::Bail) => read_messages_serde(raw),
    }
}

/// The length of a message content's text: a JSON string without its
/// quotes, anything else (a list of parts) as written.
pub(crate) fn content_chars(raw: &str) -> u64 {
    let n = raw.len() as u64;
    if raw.starts_with('"') {
        n.saturating_sub(2)
    } else {
        n
    }
}

/// [`read_messages`] with the scanner, for the common case: an array of
/// objects whose `role` is a string (or null) and whose last user message's
/// `content` is a string; nothing is allocated unless that string has
/// escapes. Anything else (a duplicated `role` or `content`, which serde
/// refuses; non-string contents; invalid JSON) bails to the serde reader,
/// which has the final word.
fn scan_messages(raw: &str) -> crate::json::scan::Scan<Messages<'_>> {
    let mut s = crate::json::scan::Scanner::new(raw);
    let m = scan_messages_in(&mut s)?;
    if !s.at_end() {
        return Err(crate::json::scan::Bail);
    }
    Ok(m)
}

/// [`read_messages`]'s fast path on a `messages` array where a line's
/// scanner stands, leaving it after the array: the reader of the whole
/// line takes what a record needs from the array in the same pass that
/// steps over it. When it bails, the caller goes back and reads the
/// array's text as before.
pub(crate) fn scan_messages_in<'a>(
    s: &mut crate::json::scan::Scanner<'a>,
) -> crate::json::scan::Scan<Messages<'a>> {
    use crate::json::scan::{Bail, Scanner};
    s.begin_array()?;
    let mut system = None;
    let mut system_chars = None;
    let mut user_messages = 0u32;
    let mut user_content: Option<Option<&str>> = None;
    let mut first_element = true;
    let mut index = 0usize;
    // The array's fingerprint in the same pass ([`prompt_fingerprint`]).
    let mut fp = CanonArray::new();
    while s.next_element(&mut first_element)? {
        s.begin_object()?;
        let (mut role, mut content): (Option<Option<Cow<'_, str>>>, Option<Option<&str>>) =
            (None, None);
        let mut message = CanonObject::default();
        let mut first_key = true;
        while let Some(key) = s.next_key(&mut first_key)? {
            match &*key {
                "role" => {
                    if role.is_some() {
                        return Err(Bail);
                    }
                    let r = match s.peek()? {
                        b'"' => Some(s.string()?),
                        b'n' => {
                            s.skip_value()?;
                            None
                        }
                        _ => return Err(Bail),
                    };
                    let h = r
                        .as_deref()
                        .map_or_else(|| hash_with(b"null", seed::LITERAL), canon_text);
                    message.add("role", h);
                    role = Some(r);
                }
                "content" => {
                    if content.is_some() {
                        return Err(Bail);
                    }
                    s.peek()?;
                    let start = s.pos();
                    message.add("content", canon(s)?);
                    let raw = s.since(start);
                    content = Some((raw != "null").then_some(raw));
                }
                // Parts instead of a content: the serde reader's.
                "parts" => return Err(Bail),
                other => message.add(other, canon(s)?),
            }
        }
        fp.add(message.finish());
        let role = role.flatten();
        let content = content.flatten();
        if index == 0 && matches!(role.as_deref(), Some("system" | "developer")) {
            system = content.map(|c| xxhash_rust::xxh3::xxh3_64(c.as_bytes()));
            system_chars = content.map(content_chars);
        }
        if role.as_deref() == Some("user") {
            user_content = Some(content);
            user_messages += 1;
        }
        index += 1;
    }
    let text = match user_content {
        // No user message: the general reader decides.
        None => return Err(Bail),
        Some(None) => None,
        Some(Some(c)) if c.starts_with('"') => {
            let mut cs = Scanner::new(c);
            Some(cs.string()?)
        }
        Some(Some(c)) if c.starts_with('[') => text_parts(c)?,
        // Other values: the serde reader's `content_text`.
        Some(Some(_)) => return Err(Bail),
    };
    Ok(Messages {
        fp: fp.0,
        text,
        system,
        system_chars,
        user_messages,
    })
}

/// A content given as parts, in the common shape: objects each with one
/// string `text` (Anthropic's and OpenAI's `{"type": "text", "text": …}`,
/// Bedrock Converse's `{"text": …}`), joined by newlines as
/// [`content_text`] joins them. Any other part (a string, a part with no
/// `text`, or one whose `text` is no string or is repeated) bails to it.
fn text_parts(c: &str) -> crate::json::scan::Scan<Option<Cow<'_, str>>> {
    use crate::json::scan::{Bail, Scanner};
    let mut s = Scanner::new(c);
    s.begin_array()?;
    let mut texts: Vec<Cow<'_, str>> = Vec::new();
    let mut first_element = true;
    while s.next_element(&mut first_element)? {
        s.begin_object()?;
        let mut text = None;
        let mut first_key = true;
        while let Some(key) = s.next_key(&mut first_key)? {
            if &*key == "text" {
                if text.is_some() || s.peek()? != b'"' {
                    return Err(Bail);
                }
                text = Some(s.string()?);
            } else {
                s.skip_value()?;
            }
        }
        texts.push(text.ok_or(Bail)?);
    }
    if !s.at_end() {
        return Err(Bail);
    }
    Ok(match texts.len() {
        0 => None,
        1 => texts.pop(),
        _ => Some(Cow::Owned(texts.join("\n"))),
    })
}

/// The reference reader of [`read_messages`] (and its fallback).
fn read_messages_serde(raw: &str) -> Messages<'static> {
    let Ok(msgs) = serde_json::from_str::<Vec<Message>>(raw) else {
        // Not a list of objects with string roles: the general reader decides.
        return Messages {
            fp: prompt_fingerprint(raw),
            text: prompt_text(raw).map(Cow::Owned),
            ..Messages::default()
        };
    };
    let system_content = msgs.first().and_then(|m| match m.role.as_deref() {
        Some("system") | Some("developer") => m.content.map(|c| c.get()),
        _ => None,
    });
    let system = system_content.map(|c| xxhash_rust::xxh3::xxh3_64(c.as_bytes()));
    let user_messages = msgs
        .iter()
        .filter(|m| m.role.as_deref() == Some("user"))
        .count() as u32;
    let text = match msgs
        .iter()
        .rev()
        .find(|m| m.role.as_deref() == Some("user"))
    {
        Some(m) => m.content.or(m.parts).and_then(|c| {
            let c = c.get();
            if c.starts_with('"') {
                serde_json::from_str::<String>(c).ok()
            } else {
                serde_json::from_str::<serde_json::Value>(c)
                    .ok()
                    .and_then(|v| content_text(&v))
            }
        }),
        None => prompt_text(raw),
    };
    Messages {
        fp: prompt_fingerprint(raw),
        text: text.map(Cow::Owned),
        system,
        system_chars: system_content.map(content_chars),
        user_messages,
    }
}

/// A message's content as text: a string, or its text parts joined.
fn content_text(c: &serde_json::Value) -> Option<String> {
    match c {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Array(parts) => {
            let texts: Vec<&str> = parts
                .iter()
                .filter_map(|p| match p {
                    serde_json::Value::String(s) => Some(s.as_str()),
                    // `{"type": "text", "text": …}` (OpenAI, Anthropic,
                    // Gemini) or `{"type": "text", "content": …}`
                    // (OpenTelemetry GenAI; its other parts, such as a
                    // base64 `blob`, are not text).
                    other => other
                        .get("text")
                        .or_else(|| {
                            let kind = other.get("type").and_then(|t| t.as_str());
                            matches!(kind, None | Some("text"))
                                .then(|| other.get("content"))
                                .flatten()
                        })
                        .and_then(|t| t.as_str()),
                })
                .collect();
            (!texts.is_empty()).then(|| texts.join("\n"))
        }
        _ => None,
    }
}

/// The text a near-duplicate check compares, from the raw JSON of a
/// `messages` array (the last user message's content, text parts joined) or
/// of a `prompt`/`input` value (a string, or the last user message of a list).
pub fn prompt_text(raw: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(raw).ok()?;
    match &v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Array(items) => {
            let last_user = items
                .iter()
                .rev()
                .find(|m| m.get("role").and_then(|r| r.as_str()) == Some("user"));
            match last_user {
                Some(m) => m
                    .get("content")
                    .or_else(|| m.get("parts"))
                    .and_then(content_text),
                None => content_text(&v),
            }
        }
        _ => None,
    }
}

/// Longest excerpt of a prompt a report shows, in characters.
pub const EXCERPT_CHARS: usize = 200;

/// Cuts a text to [`EXCERPT_CHARS`] characters (on a character boundary),
/// with "…" when it was longer; surrounding whitespace is dropped.
pub fn excerpt(text: &str) -> Option<String> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    match t.char_indices().nth(EXCERPT_CHARS) {
        Some((end, _)) => Some(format!("{}…", &t[..end])),
        None => Some(t.to_string()),
    }
}

/// An excerpt of the prompt a call sent (the last user message's text),
/// from the raw JSON of its `messages` or `prompt`. Only `--include-prompts`
/// reads it, for the few calls a finding shows.
pub fn prompt_excerpt(raw: &str) -> Option<String> {
    excerpt(&read_messages(raw).text?)
}

/// An excerpt of a call's system prompt: a separate `system` field's text,
/// or else the content of a leading system (or developer) message.
pub fn system_excerpt(prompt_raw: Option<&str>, system_raw: Option<&str>) -> Option<String> {
    let text_of = |raw: &str| {
        serde_json::from_str::<serde_json::Value>(raw)
            .ok()
            .and_then(|v| content_text(&v))
    };
    if let Some(text) = system_raw.and_then(text_of) {
        return excerpt(&text);
    }
    let msgs = serde_json::from_str::<Vec<Message>>(prompt_raw?).ok()?;
    let first = msgs.first()?;
    match first.role.as_deref() {
        Some("system") | Some("developer") => excerpt(&text_of(first.content?.get())?),
        _ => None,
    }
}

#[cfg(test)]
mod excerpt_tests {
    use super::*;

    #[test]
    fn excerpts_cut_on_a_char_boundary_and_mark_the_cut() {
        let long = "é".repeat(250);
        let e = excerpt(&long).unwrap();
        assert_eq!(e.chars().count(), EXCERPT_CHARS + 1);
        assert_eq!(e, format!("{}…", "é".repeat(200)));
        assert_eq!(excerpt("  short  ").as_deref(), Some("short"));
        assert_eq!(excerpt(&"a".repeat(200)), Some("a".repeat(200)));
        assert_eq!(excerpt("   "), None);
    }

    #[test]
    fn prompt_and_system_excerpts_read_the_logged_shapes() {
        let msgs = r#"[{"role":"system","content":"You are terse."},{"role":"user","content":"first"},{"role":"assistant","content":"ok"},{"role":"user","content":[{"type":"text","text":"last <b>"}]}]"#;
        assert_eq!(prompt_excerpt(msgs).as_deref(), Some("last <b>"));
        assert_eq!(
            system_excerpt(Some(msgs), None).as_deref(),
            Some("You are terse.")
        );
        assert_eq!(
            system_excerpt(Some(msgs), Some(r#""Be brief.""#)).as_deref(),
            Some("Be brief.")
        );
        assert_eq!(
            prompt_excerpt(r#""plain prompt""#).as_deref(),
            Some("plain prompt")
        );
        assert_eq!(
            system_excerpt(Some(r#"[{"role":"user","content":"hi"}]"#), None),
            None
        );
    }
}

#[cfg(test)]
mod minhash_tests {
    use super::*;
    use tokenaudit_core::minhash_similarity;

    /// The scheme as `docs/store.md` describes it, computed apart (Python:
    /// `xxhash.xxh3_64_intdigest` and the formulas of the doc): stores keep
    /// these values, so a change of scheme is a change of the store's
    /// schema.
    #[test]
    fn the_signature_is_the_documented_scheme() {
        assert_eq!(
            minhash("How do I reset my password?"),
            Some([
                4673166, 1699047305, 267541198, 2075350975, 1699047305, 1955668965, 1955668965,
                3782355260, 3147261071, 3782355260, 1955668965, 3782355260, 1955668965, 3147261071,
                3782355260, 3147261071,
            ])
        );
        // One shingle fills one bin; densification copies it everywhere.
        assert_eq!(minhash("Word!"), Some([4134296661; 16]));
    }

    #[test]
    fn paraphrases_are_similar_and_other_questions_are_not() {
        let a = minhash("How do I reset my password?").unwrap();
        let b = minhash("how do i reset my password, please").unwrap();
        let c = minhash("What is the refund policy for annual plans?").unwrap();
        assert_eq!(a, minhash("HOW do I reset my   password").unwrap());
        assert!(
            minhash_similarity(&a, &b) >= 0.5,
            "{}",
            minhash_similarity(&a, &b)
        );
        assert!(
            minhash_similarity(&a, &c) <= 0.25,
            "{}",
            minhash_similarity(&a, &c)
        );
        assert_eq!(minhash("  ,;  "), None);
    }

    /// The fast signature (words from masks or a byte loop, repeated
    /// shingles mixed once) is the reference's, on texts mixing ASCII,
    /// other scripts, final sigma, digits of other scripts, marks, emoji
    /// and repeated words, and on texts long enough to grow the shingle
    /// set, one thread's scratch reused from text to text.
    #[test]
    fn the_fast_signature_is_the_reference_one() {
        const PIECES: &[&str] = &[
            "the",
            "The",
            "THE",
            "cat",
            "a",
            "7",
            "42x",
            " ",
            "  ",
            ",",
            ".",
            "-",
            "\n",
            "\t",
            "é",
            "É",
            "Ωσ",
            "ΟΔΟΣ",
            "ς",
            "İstanbul",
            "ß",
            "日本語",
            "٣",
            "²",
            "\u{301}",
            "\u{200b}",
            "🙂",
            "—",
            "x\u{301}y",
            "Ǆ",
            "ﬁ",
            "\u{10FFFF}",
            "_",
            "'",
            "don't",
        ];
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        // The pieces that are ASCII: texts of these only take the word masks.
        let ascii: Vec<&str> = PIECES.iter().copied().filter(|p| p.is_ascii()).collect();
        for round in 0..8_000 {
            let words = match round % 4 {
                0 => (next() % 8) as usize,
                1 => (next() % 60) as usize,
                2 => (next() % 400) as usize,
                _ => 3_000 + (next() % 3_000) as usize,
            };
            let pieces = if round % 8 < 4 { PIECES } else { &ascii[..] };
            let mut text = String::new();
            for _ in 0..words {
                text.push_str(pieces[(next() % pieces.len() as u64) as usize]);
                if next() % 3 > 0 {
                    text.push(' ');
                }
            }
            assert_eq!(minhash(&text), minhash_reference(&text), "{text:?}");
        }
        for text in ["", "a", "a a a a", "a b a b a b", "Σ σ ς", "0 0", "\u{0}x"] {
            assert_eq!(minhash(text), minhash_reference(text), "{text:?}");
        }
        // A text long enough to grow the set past what a thread keeps, then
        // short ones again.
        let long: String = (0..150_000).map(|i| format!("w{} ", i % 90_001)).collect();
        for text in [long.as_str(), "a b c", long.as_str(), "x"] {
            assert_eq!(minhash(text), minhash_reference(text));
        }
        // Words that start, end or run across the 64-byte blocks' edges.
        for n in [1, 7, 8, 9, 62, 63, 64, 65, 66, 127, 128, 129, 200] {
            for lead in 0..3 {
                for (word, sep) in [("Ab9", " "), ("x", ","), ("Zz", "  ")] {
                    let long = format!("{}{}", " ".repeat(lead), "q".repeat(n));
                    let mut text = long.clone();
                    while text.len() < n + 140 {
                        text.push_str(sep);
                        text.push_str(word);
                    }
                    text.push_str(&long);
                    assert_eq!(minhash(&text), minhash_reference(&text), "{text:?}");
                    assert_eq!(minhash(&long), minhash_reference(&long), "{long:?}");
                }
            }
        }
    }

    /// Identifiers: words of three digits or more, not an ISO time's parts
    /// (hunt96).
    #[test]
    fn identifiers_are_numbers_not_a_times_parts() {
        for (word, want) in [
            ("483920", true),
            ("4821", true),
            ("0042", true),
            ("inv10492", true),
            ("2026", true),
            ("gpt4o", false),
            ("iphone15", false),
            ("01T18", false),
            ("250Z", false),
            ("03", false),
            ("3ème", false),
            ("４８２１", true),
        ] {
            assert_eq!(is_identifier(word), want, "{word}");
        }
        // The fast path counts a word's digits with its mask, across the
        // 64-byte blocks a word can span.
        let long = format!("{} order {}", "x".repeat(62), "12345");
        let spanning = format!("{}ab123cd", "y ".repeat(31));
        for text in [
            long.as_str(),
            spanning.as_str(),
            "a 1 22 333 4444 55555z 01t02",
        ] {
            minhash_agree(text);
        }
    }

    /// The eight-byte masks are `is_ascii_alphanumeric` and
    /// `is_ascii_digit`, for every ASCII byte at every position beside every
    /// other.
    #[test]
    fn alnum8_marks_exactly_the_letters_and_digits() {
        for b in 0u8..128 {
            for other in 0u8..128 {
                for i in 0..8 {
                    let mut g = [other; 8];
                    g[i] = b;
                    let mask = |f: fn(&u8) -> bool| {
                        g.iter()
                            .enumerate()
                            .filter(|(_, c)| f(c))
                            .fold(0u8, |m, (k, _)| m | 1 << k)
                    };
                    let want = (mask(u8::is_ascii_alphanumeric), mask(u8::is_ascii_digit));
                    assert_eq!(alnum8(u64::from_le_bytes(g)), want, "{g:?}");
                }
            }
        }
    }

    /// A record keeps a prompt's text only when `has_word`, and signs it
    /// later: the two must agree on which texts have a signature.
    #[test]
    fn has_word_is_exactly_when_there_is_a_signature() {
        for text in [
            "",
            " ",
            "  ,;  ",
            "?!",
            "\n\t",
            "a",
            " 7 ",
            "é",
            "—…—",
            "日本",
            "x-y",
            "\u{200b}",
            "🙂",
            "🙂 ok",
        ] {
            assert_eq!(has_word(text), minhash(text).is_some(), "{text:?}");
        }
    }

    #[test]
    fn prompt_text_takes_the_last_user_message() {
        let raw = r#"[{"role":"system","content":"be brief"},{"role":"user","content":"first"},{"role":"assistant","content":"ok"},{"role":"user","content":[{"type":"text","text":"second"},{"type":"text","text":"part"}]}]"#;
        assert_eq!(prompt_text(raw).as_deref(), Some("second\npart"));
        assert_eq!(
            prompt_text(r#""just a prompt""#).as_deref(),
            Some("just a prompt")
        );
        assert_eq!(prompt_text("42"), None);
    }
}

#[cfg(test)]
mod messages_tests {
    use super::*;

    /// The scanner's reading of a `messages` array equals the serde
    /// reader's whenever the scanner does not bail; and the cases it must
    /// leave to serde do bail.
    #[test]
    fn scanned_messages_read_like_serde() {
        let cases = [
            (
                r#"[{"role":"user","content":"How to add a teammate"}]"#,
                true,
            ),
            (
                r#"[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi \"there\"\n\u00e9"}]"#,
                true,
            ),
            (
                r#"[{"role":"developer","content":{"x":1}},{"role":"assistant","content":"a"},{"role":"user","content":"b","name":"n"}]"#,
                true,
            ),
            (
                r#" [ { "content" : "x" , "role" : "user" } , {"role":null,"content":"y"} ] "#,
                true,
            ),
            (r#"[{"role":"user","content":null}]"#, true),
            (
                r#"[{"role":"user"},{"role":"system","content":"late system"}]"#,
                true,
            ),
            (r#"[{"role":"us\u0065r","content":"escaped role"}]"#, true),
            // Left to serde: a duplicated key, no user message, a role of
            // another type, a lone surrogate, not an array.
            (r#"[{"role":"user","role":"user","content":"dup"}]"#, false),
            // Text parts (Anthropic's, OpenAI's, Bedrock Converse's).
            (
                r#"[{"role":"user","content":[{"type":"text","text":"parts"}]}]"#,
                true,
            ),
            (
                r#"[{"role":"user","content":[{"text":"a \"b\""},{"type":"text","text":"c","cache_control":{"type":"ephemeral"}}]}]"#,
                true,
            ),
            (r#"[{"role":"user","content":[]}]"#, true),
            // Left to serde: parts that are strings, have no text, a text
            // that is no string, a repeated text.
            (r#"[{"role":"user","content":["s"]}]"#, false),
            (
                r#"[{"role":"user","content":[{"type":"image","source":{}}]}]"#,
                false,
            ),
            (r#"[{"role":"user","content":[{"text":5}]}]"#, false),
            (
                r#"[{"role":"user","content":[{"text":"a","text":"b"}]}]"#,
                false,
            ),
            (r#"[{"role":"assistant","content":"no user"}]"#, false),
            (r#"[{"role":5,"content":"x"}]"#, false),
            (r#"[{"role":"user","content":"lone \ud83d"}]"#, false),
            (r#"[["system","tuple"]]"#, false),
            (r#"[{"role":"user","content":"x"}] trailing"#, false),
            (
                r#"[{"role":"user","parts":[{"type":"text","content":"otel parts"}]}]"#,
                false,
            ),
        ];
        for (raw, fast) in cases {
            let scanned = scan_messages(raw);
            assert_eq!(scanned.is_ok(), fast, "{raw}");
            let reference = read_messages_serde(raw);
            if let Ok(m) = scanned {
                assert_eq!(m, reference, "{raw}");
            }
            assert_eq!(read_messages(raw), reference, "{raw}");
        }
        // A plain content is borrowed, not copied.
        let m = read_messages(r#"[{"role":"user","content":"plain"}]"#);
        assert!(matches!(m.text, Some(Cow::Borrowed("plain"))));
        // Two user messages (turn 2), and the system prompt's length.
        let m = read_messages(
            r#"[{"role":"system","content":"Be brief."},{"role":"user","content":"a"},{"role":"assistant","content":"b"},{"role":"user","content":"c"}]"#,
        );
        assert_eq!((m.user_messages, m.system_chars), (2, Some(9)));
        // OpenTelemetry GenAI's captured messages: `parts` instead of a
        // `content`; the text parts are the text, a blob is not.
        let m = read_messages(
            r#"[{"role":"user","parts":[{"type":"text","content":"first"}]},{"role":"assistant","parts":[{"type":"text","content":"ok"}]},{"role":"user","parts":[{"type":"blob","content":"aGk="},{"type":"text","content":"What is a prompt cache?"}]}]"#,
        );
        assert_eq!(m.text.as_deref(), Some("What is a prompt cache?"));
        assert_eq!(m.user_messages, 2);
        // Gemini's `contents`: parts with a `text`.
        let m = read_messages(r#"[{"role":"user","parts":[{"text":"Summarise this"}]}]"#);
        assert_eq!(m.text.as_deref(), Some("Summarise this"));
    }
}

#[cfg(test)]
mod tags_tests {
    use super::*;

    /// A recycled tag list comes back empty with its allocation (the point
    /// of recycling; std collects in place into a same-layout `Vec`).
    #[test]
    fn recycled_tags_come_back_empty_with_their_capacity() {
        let owned = String::from("prod");
        let mut tags = fresh_tags();
        tags.push((Cow::Borrowed("env"), Cow::Borrowed(owned.as_str())));
        tags.push((Cow::Borrowed("team"), Cow::Owned("a".into())));
        let capacity = tags.capacity();
        recycle_tags(tags);
        drop(owned);
        let again = fresh_tags();
        assert!(again.is_empty());
        assert_eq!(again.capacity(), capacity);
        // Taken: the next one starts without an allocation.
        assert_eq!(fresh_tags().capacity(), 0);
    }
}

#[cfg(test)]
mod fingerprint_tests {
    use super::*;

    #[test]
    fn fingerprints_read_hex_and_hash_the_rest() {
        assert_eq!(fingerprint("00000000000000ff"), 255);
        assert_eq!(fingerprint("ff"), 255);
        assert_ne!(fingerprint("You are a helpful assistant."), 0);
        assert_eq!(fingerprint("abc xyz"), fingerprint(" abc xyz "));
        assert_eq!(fingerprint(" ff\n"), 255);
        assert_eq!(
            fingerprint("\u{a0}ff"),
            255,
            "unicode whitespace is trimmed"
        );
        assert_eq!(
            fingerprint("0123456789abcdefABCDEF"),
            xxhash_rust::xxh3::xxh3_64(b"0123456789abcdefABCDEF")
        );
        assert_eq!(fingerprint("ABCDEF0123456789"), 0xABCDEF0123456789);
        assert_eq!(fingerprint("fg"), xxhash_rust::xxh3::xxh3_64(b"fg"));
        assert_eq!(fingerprint(""), xxhash_rust::xxh3::xxh3_64(b""));
    }

    /// hunt57: a prompt's fingerprint followed the key order inside
    /// `messages` (and its spacing and escapes), so one prompt logged by
    /// two producers, or as JSON lines and as Parquet, was two prompts.
    #[test]
    fn one_prompt_has_one_fingerprint_however_it_is_written() {
        let same = [
            r#"[{"role":"system","content":"Be brief."},{"role":"user","content":"Café? 1/2"}]"#,
            r#"[{"content":"Be brief.","role":"system"},{"content":"Café? 1/2","role":"user"}]"#,
            "[ {\"role\": \"system\", \"content\": \"Be brief.\"},\n {\"role\": \"user\", \"content\": \"Caf\\u00e9? 1\\/2\"} ]",
        ];
        let fp = prompt_fingerprint(same[0]);
        for raw in same {
            assert_eq!(prompt_fingerprint(raw), fp, "{raw}");
            // The line's pass gives what the text alone gives.
            assert_eq!(read_messages(raw).fp, fp, "{raw}");
        }
        // Parts, tool calls and numbers, in either order and spelling.
        let a = r#"[{"role":"user","content":[{"type":"text","text":"hi"}],"n":1,"tool_calls":[{"id":"c1","function":{"name":"f","arguments":"{}"}}]}]"#;
        let b = r#"[{"tool_calls":[{"function":{"arguments":"{}","name":"f"},"id":"c1"}],"n":1.0,"content":[{"text":"hi","type":"text"}],"role":"user"}]"#;
        assert_eq!(prompt_fingerprint(a), prompt_fingerprint(b));
        assert_eq!(read_messages(a).fp, prompt_fingerprint(a));
        // What differs in value differs: a role, a content, the messages'
        // order, a key's name, a string for a number, a null for a string.
        let base = r#"[{"role":"system","content":"a"},{"role":"user","content":"b"}]"#;
        for other in [
            r#"[{"role":"user","content":"a"},{"role":"user","content":"b"}]"#,
            r#"[{"role":"system","content":"a"},{"role":"user","content":"c"}]"#,
            r#"[{"role":"user","content":"b"},{"role":"system","content":"a"}]"#,
            r#"[{"role":"system","content":"a"},{"role":"user","text":"b"}]"#,
            r#"[{"role":"system","content":"a"},{"role":"user","content":"b","n":"1"}]"#,
            r#"[{"role":"system","content":"a"},{"role":"user","content":"b","n":1}]"#,
            r#"[{"role":"system","content":null},{"role":"user","content":"b"}]"#,
            r#"[{"role":"system","content":"a"}]"#,
            r#"[{"role":"system","content":"a"},{"role":"user","content":"b"},{}]"#,
        ] {
            assert_ne!(
                prompt_fingerprint(other),
                prompt_fingerprint(base),
                "{other}"
            );
            assert_eq!(
                read_messages(other).fp,
                prompt_fingerprint(other),
                "{other}"
            );
        }
        // A prompt string, and text that is no JSON (hashed as it is).
        assert_eq!(
            prompt_fingerprint(r#""Caf\u00e9""#),
            prompt_fingerprint(r#""Café""#)
        );
        assert_eq!(
            prompt_fingerprint("[1,"),
            xxhash_rust::xxh3::xxh3_64(b"[1,")
        );
    }
}

#[cfg(test)]
mod grouped_money_tests {
    use super::*;

    #[test]
    fn amounts_with_thousands_separators() {
        let m = |t: &str| LMoney::from_label(Lenient::Value(Cow::Borrowed(t))).0;
        let usd = |t: &str| Lenient::Value(Money::parse_usd(t).unwrap());
        assert_eq!(m("1,234.50"), usd("1234.50"));
        assert_eq!(m("$1,234,567.891"), usd("1234567.891"));
        // (Read, and then no cost: a call costs nothing less than nothing.)
        assert_eq!(m("-1,000"), Lenient::Negative);
        assert_eq!(m("0.0035"), usd("0.0035"));
        assert_eq!(m("$3.50"), usd("3.50"));
        assert_eq!(m("$1234.50"), usd("1234.50"));
        for wrong in [
            "1,23.5", "1,2345", ",100", "1,000,00", "abc", "1.234,50", "0,350", "$0,350",
        ] {
            assert_eq!(m(wrong), Lenient::WrongType, "{wrong}");
        }
    }
}
