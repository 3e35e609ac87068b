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
//! (`cache_creation_input_tokens`, `input_cache_creation`) are added to it,
//! and reasoning (`output_reasoning_tokens`, `output_reasoning`) is added to
//! `output`. `total` is ignored (it is the sum).
//!
//! Other fields: `id` (request id), `startTime` (time), `endTime` and
//! `completionStartTime` (latency and time to first token), `level` `ERROR`
//! (a failed call), `model` (or `providedModelName`), `modelParameters.max_tokens`,
//! `totalCost` (or `costDetails.total`) as the logged cost, and the trace's
//! `userId`, `sessionId`, `tags`, `traceName` (the feature unless
//! `metadata.feature` is set) and short scalar `metadata` values as tags. The
//! observation's `name` is the route. `input`, `output` and `statusMessage`
//! are never read: they carry prompt and completion text.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Deserialize;

use tokenaudit_core::CallRecord;

use crate::fields::{LMoney, LStr, LTime, Lenient, Problems, LU64};
use crate::gateway::{LNum, RawLine};
use crate::rejects::{Reject, RejectReason};

#[derive(Deserialize, Default)]
#[serde(default)]
struct Observation<'a> {
    #[serde(borrow)]
    id: LStr<'a>,
    #[serde(rename = "type", borrow)]
    kind: LStr<'a>,
    #[serde(borrow)]
    name: LStr<'a>,
    #[serde(rename = "startTime", alias = "start_time")]
    start: LTime,
    #[serde(rename = "endTime", alias = "end_time")]
    end: LTime,
    #[serde(rename = "completionStartTime", alias = "completion_start_time")]
    completion_start: LTime,
    #[serde(borrow)]
    level: LStr<'a>,
    #[serde(borrow)]
    model: LStr<'a>,
    #[serde(rename = "providedModelName", alias = "provided_model_name", borrow)]
    provided_model: LStr<'a>,
    #[serde(rename = "modelParameters", alias = "model_parameters")]
    model_parameters: Option<serde_json::Value>,
    #[serde(rename = "usageDetails", alias = "usage_details", borrow)]
    usage_details: Option<BTreeMap<Cow<'a, str>, LU64>>,
    #[serde(rename = "costDetails", alias = "cost_details", borrow)]
    cost_details: Option<BTreeMap<Cow<'a, str>, LStr<'a>>>,
    #[serde(
        rename = "totalCost",
        alias = "total_cost",
        alias = "calculatedTotalCost"
    )]
    total_cost: LMoney,
    #[serde(rename = "userId", alias = "user_id", borrow)]
    user: LStr<'a>,
    #[serde(rename = "sessionId", alias = "session_id", borrow)]
    session: LStr<'a>,
    #[serde(rename = "traceName", alias = "trace_name", borrow)]
    trace_name: LStr<'a>,
    tags: Option<serde_json::Value>,
    metadata: Option<serde_json::Value>,
}

/// Reads one Langfuse observation.
pub fn parse_line(line: &[u8]) -> Result<CallRecord<'_>, Reject> {
    match std::str::from_utf8(line) {
        Ok(text) => parse_line_str(text),
        Err(_) => Err(Reject::new(RejectReason::MalformedJson, "invalid UTF-8")),
    }
}

/// The same for a line already validated as UTF-8.
pub fn parse_line_str(line: &str) -> Result<CallRecord<'_>, Reject> {
    let o: Observation<'_> = crate::fields::json_object(line)?;
    if let Lenient::Value(kind) = &o.kind.0 {
        if !kind.eq_ignore_ascii_case("GENERATION") && !kind.eq_ignore_ascii_case("EMBEDDING") {
            return Err(Reject::new(
                RejectReason::NotACall,
                format!("langfuse {kind} observation (only generations are model calls)"),
            ));
        }
    }
    let mut raw = RawLine {
        timestamp: o.start.clone(),
        request_id: o.id,
        model: if o.model.0.is_present() {
            o.model
        } else {
            o.provided_model
        },
        route: o.name,
        user: o.user,
        session: o.session,
        cost: if o.total_cost.0.is_present() {
            o.total_cost
        } else {
            match o.cost_details.as_ref().and_then(|c| c.get("total")) {
                Some(total) => LMoney::from_label(total.0.clone()),
                None => LMoney::default(),
            }
        },
        ..RawLine::default()
    };
    if let Lenient::Value(level) = &o.level.0 {
        if level.eq_ignore_ascii_case("ERROR") {
            raw.status = LStr(Lenient::Value(Cow::Borrowed("error")));
        }
    }
    if let (Lenient::Value(start), Lenient::Value(end)) = (&o.start.0, &o.end.0) {
        raw.latency_ms = millis_between(*start, *end);
    }
    if let (Lenient::Value(start), Lenient::Value(first)) = (&o.start.0, &o.completion_start.0) {
        raw.ttft_ms = millis_between(*start, *first);
    }
    if let Some(serde_json::Value::Object(params)) = &o.model_parameters {
        // Parameters are free-form (`"Infinity"`, strings); an unreadable one
        // is not a broken line.
        for key in ["max_tokens", "max_output_tokens", "max_completion_tokens"] {
            if let Some(v) = params.get(key) {
                if let Ok(LU64(Lenient::Value(n))) = LU64::deserialize(v) {
                    raw.max_tokens = LU64(Lenient::Value(n));
                    break;
                }
            }
        }
    }
    let mut p = Problems::default();
    if let Some(details) = &o.usage_details {
        usage(details, &mut raw, &mut p);
    }
    if let Some(reject) = p.0 {
        return Err(reject);
    }
    if let Some(tags) = &o.tags {
        crate::helicone::push_tags(&mut raw.tags, tags, "tag");
    }
    let mut feature = None;
    if let Some(serde_json::Value::Object(meta)) = &o.metadata {
        for (k, v) in meta {
            let Some(text) = crate::helicone::short_scalar(v) else {
                continue;
            };
            match k.as_str() {
                "feature" => feature = Some(text),
                "team" => raw.team = LStr(Lenient::Value(Cow::Owned(text))),
                _ if crate::helicone::is_text_key(k) => {}
                _ => raw.tags.push((Cow::Owned(k.clone()), Cow::Owned(text))),
            }
        }
    }
    raw.feature = match feature {
        Some(f) => LStr(Lenient::Value(Cow::Owned(f))),
        None => o.trace_name,
    };
    raw.into_record()
}

/// Milliseconds from `a` to `b`, when `b` is not before `a`.
fn millis_between(a: chrono::DateTime<chrono::Utc>, b: chrono::DateTime<chrono::Utc>) -> LNum {
    let ms = (b - a).num_microseconds().map(|us| us as f64 / 1000.0);
    match ms {
        Some(ms) if ms >= 0.0 => LNum(Lenient::Value(ms)),
        _ => LNum::default(),
    }
}

/// Sorts Langfuse's usage keys into the parts of an Anthropic-style
/// (exclusive) usage, which [`crate::fields::RawUsage::normalise`] then adds
/// up: see the module docs.
fn usage(details: &BTreeMap<Cow<'_, str>, LU64>, raw: &mut RawLine<'_>, p: &mut Problems) {
    let (mut input, mut read, mut write, mut write_1h) = (None, 0u64, 0u64, 0u64);
    let (mut output, mut reasoning) = (None, 0u64);
    let add = |slot: &mut Option<u64>, n: u64| *slot = Some(slot.unwrap_or(0) + n);
    for (key, value) in details {
        let Some(n) = p.tokens(&value.0, key) else {
            continue;
        };
        let k = key.to_ascii_lowercase();
        if k.contains("input") || k.contains("prompt") {
            if k.contains("cache_read") || k.contains("cached") || k.contains("cache_hit") {
                read += n;
            } else if k.contains("cache_creation") || k.contains("cache_write") {
                write += n;
                if k.contains("1h") {
                    write_1h += n;
                }
            } else {
                add(&mut input, n);
            }
        } else if k.contains("output") || k.contains("completion") {
            if k.contains("reasoning") || k.contains("thought") {
                reasoning += n;
            }
            add(&mut output, n);
        }
    }
    let u = &mut raw.usage;
    let some = |n: u64| Lenient::Value(n);
    if input.is_some() || read > 0 || write > 0 {
        u.input_tokens = some(input.unwrap_or(0));
        u.cache_read_input_tokens = some(read);
        u.cache_creation_input_tokens = some(write);
        if write_1h > 0 {
            u.cache_write_1h = some(write_1h);
        }
    }
    if let Some(out) = output {
        u.output_tokens = some(out);
        u.reasoning_tokens = some(reasoning);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
