//! OpenTelemetry GenAI spans, exported as OTLP JSON lines (one
//! `ExportTraceServiceRequest` per line, as the collector's file exporter
//! writes them): `resourceSpans[].scopeSpans[].spans[]`.
//!
//! One line holds many spans, so this reader emits one record per GenAI span
//! (a span with a `gen_ai.request.model`, `gen_ai.response.model` or
//! `gen_ai.usage.*` attribute). A line with none is one counted
//! [`RejectReason::NoGenAiSpans`], so every line still ends as records or a
//! counted reject. Agent and tool spans (`gen_ai.operation.name` =
//! `invoke_agent`, `create_agent`, `execute_tool`) are not calls: the usage
//! they may carry sums their child model calls, which are spans of their own.
//!
//! Attributes read: the model (`gen_ai.response.model`, else
//! `gen_ai.request.model`), the provider (`gen_ai.provider.name`, older
//! `gen_ai.system`), tokens (`gen_ai.usage.input_tokens` including cached
//! tokens, as the conventions say; `cache_read.input_tokens`,
//! `cache_creation.input_tokens`, `output_tokens`, `reasoning.output_tokens`),
//! `gen_ai.response.id`, `gen_ai.conversation.id` (or `session.id`),
//! `user.id`, `gen_ai.response.finish_reasons`, `gen_ai.request.max_tokens`,
//! `gen_ai.usage.cost`, `error.type` and the span status; time and latency
//! from `startTimeUnixNano`/`endTimeUnixNano`. Resource attributes and the
//! span's other scalar attributes become tags, except those that can carry
//! prompt or completion text or are unique per call (`gen_ai.*`, `llm.*`,
//! `traceloop.*`, `input.*`, `output.*`, URLs and the like), so no prompt text
//! reaches a report and tag tables stay small.

use std::borrow::Cow;

use chrono::{TimeZone, Utc};
use serde::de::IgnoredAny;
use serde::Deserialize;

use tokenaudit_core::{CallRecord, CallStatus};

use crate::fields::{finish, LStr, Lenient, Problems, RawUsage, Scalar};
use crate::rejects::{Reject, RejectReason};

#[derive(Deserialize)]
struct Export<'a> {
    #[serde(rename = "resourceSpans", borrow, default)]
    resource_spans: Vec<ResourceSpans<'a>>,
}

#[derive(Deserialize)]
struct ResourceSpans<'a> {
    #[serde(borrow, default)]
    resource: Option<Attributes<'a>>,
    #[serde(rename = "scopeSpans", borrow, default)]
    scope_spans: Vec<ScopeSpans<'a>>,
}

#[derive(Deserialize)]
struct Attributes<'a> {
    #[serde(borrow, default)]
    attributes: Vec<KeyValue<'a>>,
}

#[derive(Deserialize)]
struct ScopeSpans<'a> {
    #[serde(borrow, default)]
    spans: Vec<Span<'a>>,
}

#[derive(Deserialize)]
struct Span<'a> {
    #[serde(rename = "spanId", borrow, default)]
    span_id: LStr<'a>,
    #[serde(rename = "startTimeUnixNano", borrow, default)]
    start: LStr<'a>,
    #[serde(rename = "endTimeUnixNano", borrow, default)]
    end: LStr<'a>,
    #[serde(borrow, default)]
    attributes: Vec<KeyValue<'a>>,
    #[serde(borrow, default)]
    status: Option<Status<'a>>,
}

#[derive(Deserialize)]
struct Status<'a> {
    /// `2` / `"STATUS_CODE_ERROR"` is an error.
    #[serde(borrow, default)]
    code: LStr<'a>,
}

#[derive(Deserialize)]
struct KeyValue<'a> {
    #[serde(borrow)]
    key: Cow<'a, str>,
    #[serde(borrow, default)]
    value: AnyValue<'a>,
}

/// An OTLP `AnyValue`: one of its fields is set. 64-bit integers are JSON
/// strings in OTLP JSON (some exporters write numbers); both are read.
#[derive(Default, Deserialize)]
struct AnyValue<'a> {
    #[serde(rename = "stringValue", borrow, default)]
    string: LStr<'a>,
    #[serde(rename = "intValue", borrow, default)]
    int: LStr<'a>,
    #[serde(rename = "doubleValue", borrow, default)]
    double: LStr<'a>,
    #[serde(rename = "boolValue", borrow, default)]
    boolean: LStr<'a>,
    #[serde(rename = "arrayValue", borrow, default)]
    array: Option<ArrayValue<'a>>,
    #[serde(rename = "kvlistValue", default)]
    _kvlist: Option<IgnoredAny>,
    #[serde(rename = "bytesValue", default)]
    _bytes: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct ArrayValue<'a> {
    #[serde(borrow, default)]
    values: Vec<AnyValue<'a>>,
}

impl<'a> AnyValue<'a> {
    /// The scalar as text (strings, integers, doubles, booleans).
    fn text(&self) -> Option<&Cow<'a, str>> {
        [&self.string, &self.int, &self.double, &self.boolean]
            .into_iter()
            .find_map(|v| match &v.0 {
                Lenient::Value(t) => Some(t),
                _ => None,
            })
    }

    fn label(&self) -> Lenient<Cow<'a, str>> {
        match self.text() {
            Some(t) => Lenient::Value(t.clone()),
            None if self.array.is_some() => Lenient::WrongType,
            None => Lenient::Missing,
        }
    }

    fn count(&self) -> Lenient<u64> {
        match self.text() {
            Some(t) => Scalar::Str(Cow::Borrowed(t)).count(),
            None if self.array.is_some() => Lenient::WrongType,
            None => Lenient::Missing,
        }
    }

    /// The first string of an array value, or the scalar itself.
    fn first(&self) -> Lenient<Cow<'a, str>> {
        match &self.array {
            Some(a) => a
                .values
                .iter()
                .map(AnyValue::label)
                .find(Lenient::is_present)
                .unwrap_or(Lenient::Missing),
            None => self.label(),
        }
    }
}

/// Operations whose spans group model calls rather than being one.
fn is_grouping_operation(op: &str) -> bool {
    matches!(op, "invoke_agent" | "create_agent" | "execute_tool")
}

/// Span attribute keys that never become tags: the GenAI attributes (read
/// into fields, or prompt and completion text), and namespaces that carry
/// content or per-call identifiers.
fn is_untaggable(key: &str) -> bool {
    const PREFIXES: [&str; 14] = [
        "gen_ai.",
        "llm.",
        "traceloop.",
        "openinference.",
        "input.",
        "output.",
        "http.",
        "url.",
        "server.",
        "client.",
        "network.",
        "error.",
        "exception.",
        "code.",
    ];
    PREFIXES.iter().any(|p| key.starts_with(p))
        || matches!(key, "user.id" | "session.id" | "thread.id" | "thread.name")
}

/// Longer string values are text, not labels, and are not kept as tags.
const MAX_TAG_VALUE: usize = 128;

fn tag_value<'a>(v: &AnyValue<'a>) -> Option<Cow<'a, str>> {
    v.text().filter(|t| t.len() <= MAX_TAG_VALUE).cloned()
}

/// Reads one OTLP JSON line into a record per GenAI span. `emit` receives
/// each record or per-span reject; a line that is not an export, or has no
/// GenAI span, gives one reject.
pub fn parse_line_each<'a>(line: &'a str, emit: &mut dyn FnMut(Result<CallRecord<'a>, Reject>)) {
    if line.trim_start().as_bytes().first() != Some(&b'{') {
        let reject = match serde_json::from_str::<IgnoredAny>(line) {
            Ok(_) => Reject::new(RejectReason::NotAnObject, "line is JSON but not an object"),
            Err(e) => Reject::new(
                RejectReason::MalformedJson,
                format!("invalid JSON at column {}", e.column()),
            ),
        };
        return emit(Err(reject));
    }
    let export: Export<'a> = match serde_json::from_str(line) {
        Ok(e) => e,
        Err(e) => {
            return emit(Err(Reject::new(
                RejectReason::MalformedJson,
                format!("not an OTLP JSON trace export: {e}")
                    .chars()
                    .take(160)
                    .collect::<String>(),
            )))
        }
    };
    let mut spans = 0u64;
    let mut calls = 0u64;
    for rs in &export.resource_spans {
        let resource = rs.resource.as_ref().map_or(&[][..], |r| &r.attributes[..]);
        for ss in &rs.scope_spans {
            for span in &ss.spans {
                spans += 1;
                if let Some(result) = span_record(resource, span) {
                    calls += 1;
                    emit(result);
                }
            }
        }
    }
    if calls == 0 {
        emit(Err(Reject::new(
            RejectReason::NoGenAiSpans,
            format!(
                "{spans} span(s), none a GenAI model call (no gen_ai.request.model, \
                 gen_ai.response.model or gen_ai.usage.* attribute)"
            ),
        )));
    }
}

/// The record of one span, or `None` when it is not a GenAI model call.
fn span_record<'a>(
    resource: &[KeyValue<'a>],
    span: &Span<'a>,
) -> Option<Result<CallRecord<'a>, Reject>> {
    let mut p = Problems::default();
    let mut u = RawUsage::default();
    let (mut request_model, mut response_model) = (Lenient::Missing, Lenient::Missing);
    let (mut provider, mut system) = (Lenient::Missing, Lenient::Missing);
    let (mut response_id, mut session, mut user) =
        (Lenient::Missing, Lenient::Missing, Lenient::Missing);
    let (mut finish_reason, mut error_type) = (Lenient::Missing, Lenient::Missing);
    let (mut max_tokens, mut cost) = (Lenient::Missing, Lenient::Missing);
    let mut genai = false;
    let mut tags: Vec<(Cow<'a, str>, Cow<'a, str>)> = Vec::new();
    for kv in &span.attributes {
        let v = &kv.value;
        match kv.key.as_ref() {
            "gen_ai.operation.name" => {
                if let Some(op) = v.text() {
                    if is_grouping_operation(op) {
                        return None;
                    }
                }
            }
            "gen_ai.request.model" => {
                genai = true;
                request_model = v.label();
            }
            "gen_ai.response.model" => {
                genai = true;
                response_model = v.label();
            }
            "gen_ai.provider.name" => provider = v.label(),
            "gen_ai.system" => system = v.label(),
            "gen_ai.usage.input_tokens" | "gen_ai.usage.prompt_tokens" => {
                genai = true;
                u.prompt_tokens = v.count();
            }
            "gen_ai.usage.output_tokens" | "gen_ai.usage.completion_tokens" => {
                genai = true;
                u.completion_tokens = v.count();
            }
            "gen_ai.usage.cache_read.input_tokens" => u.cached_tokens = v.count(),
            "gen_ai.usage.cache_creation.input_tokens" => u.cache_creation_input_tokens = v.count(),
            "gen_ai.usage.reasoning.output_tokens" => u.reasoning_tokens = v.count(),
            "gen_ai.response.id" => response_id = v.label(),
            "gen_ai.conversation.id" => session = v.label(),
            "session.id" if !session.is_present() => session = v.label(),
            "user.id" => user = v.label(),
            "gen_ai.response.finish_reasons" => finish_reason = v.first(),
            "gen_ai.request.max_tokens" => max_tokens = v.count(),
            "gen_ai.usage.cost" => cost = v.label(),
            "error.type" => error_type = v.label(),
            key if !is_untaggable(key) => {
                if let Some(t) = tag_value(v) {
                    tags.push((kv.key.clone(), t));
                }
            }
            _ => {}
        }
    }
    if !genai {
        return None;
    }
    // The conventions say input_tokens includes cached tokens. Instrumentations
    // that pass Anthropic's own input_tokens (which excludes them) give parts
    // larger than the whole, which no inclusive count can: read those as
    // exclusive rather than rejecting the call.
    u = inclusive_usage(u);
    for kv in resource {
        if let Some(t) = tag_value(&kv.value) {
            tags.push((kv.key.clone(), t));
        }
    }
    let start = p.int(&count(&span.start), "startTimeUnixNano");
    let end = p.int(&count(&span.end), "endTimeUnixNano");
    let timestamp = start
        .filter(|&n| n > 0)
        .and_then(|n| i64::try_from(n).ok())
        .map(|n| Utc.timestamp_nanos(n));
    let latency_ms = match (start, end) {
        (Some(s), Some(e)) if s > 0 && e >= s => Some((e - s + 500_000) / 1_000_000),
        _ => None,
    };
    let span_error = matches!(&span.status, Some(s) if matches!(&s.code.0,
        Lenient::Value(c) if c == "2" || c.eq_ignore_ascii_case("STATUS_CODE_ERROR")));
    let error_kind = p.take(&error_type, "error.type");
    let status = (error_kind.is_some() || span_error).then_some(CallStatus::Error);
    let model = p
        .take(&response_model, "gen_ai.response.model")
        .or_else(|| p.take(&request_model, "gen_ai.request.model"))
        .unwrap_or(Cow::Borrowed(""));
    let usage = u.normalise(&mut p);
    let record = CallRecord {
        timestamp,
        request_id: p
            .take(&response_id, "gen_ai.response.id")
            .or_else(|| p.take(&span.span_id.0, "spanId")),
        provider: p
            .take(&provider, "gen_ai.provider.name")
            .or_else(|| p.take(&system, "gen_ai.system")),
        model,
        session: p.take(&session, "gen_ai.conversation.id"),
        user: p.take(&user, "user.id"),
        status,
        error_kind: error_kind.or_else(|| span_error.then_some(Cow::Borrowed("span_error"))),
        latency_ms,
        finish_reason: p.take(&finish_reason, "gen_ai.response.finish_reasons"),
        max_tokens: p
            .int(&max_tokens, "gen_ai.request.max_tokens")
            .map(|v| u32::try_from(v).unwrap_or(u32::MAX)),
        logged_cost: match p.take(&cost, "gen_ai.usage.cost") {
            Some(c) => match tokenaudit_core::Money::parse_usd(&c) {
                Some(m) => Some(m),
                None => {
                    p.add(RejectReason::WrongType, "gen_ai.usage.cost");
                    None
                }
            },
            None => None,
        },
        tags,
        ..CallRecord::default()
    };
    Some(finish(record, usage, p))
}

/// See the comment at the call: parts larger than the whole mean the input
/// count excluded the cache.
fn inclusive_usage(mut u: RawUsage) -> RawUsage {
    let v = |l: &Lenient<u64>| match l {
        Lenient::Value(n) => *n,
        _ => 0,
    };
    if let Lenient::Value(input) = u.prompt_tokens {
        let parts = v(&u.cached_tokens) + v(&u.cache_creation_input_tokens);
        if parts > input {
            u.prompt_tokens = Lenient::Value(input + parts);
        }
    }
    u
}

/// A label (see [`LStr`]) read as a token count.
fn count(t: &LStr<'_>) -> Lenient<u64> {
    match &t.0 {
        Lenient::Value(t) => Scalar::Str(Cow::Borrowed(t)).count(),
        Lenient::Missing => Lenient::Missing,
        _ => Lenient::WrongType,
    }
}
