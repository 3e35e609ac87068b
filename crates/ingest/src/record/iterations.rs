//! Sub-inferences a Claude response bills beside its own usage.
//!
//! Anthropic's Messages API runs some steps of a request as sampling
//! iterations of their own and lists them in `usage.iterations`: the
//! advisor tool's consultations (`advisor_message`, billed at the advisor
//! model's rates, the iteration naming its `model`) and server-side
//! compaction (`compaction`, at the request's model's rates). The usage's
//! own counts are the executor's (`message` iterations) alone, so those
//! iterations were billed and unread (hunt133's bug4: Claude Code's advisor
//! consultations, −87% on its repro). Each becomes a call of its own,
//! beside the line's: its model, its counts (in Anthropic's convention),
//! the line's time, attribution and tags, and the tag `iteration` naming
//! its type; no prompt fingerprints, so no rule takes it for a repeat of
//! the line's prompt.
//!
//! Rare by construction: only a line whose call is a Claude model's and
//! whose text holds `"iterations"` is parsed again (with serde), and a usage
//! whose own counts already add every iteration (a gateway that summed
//! them) gives nothing more.

use std::borrow::Cow;
use std::sync::OnceLock;

use memchr::memmem::Finder;
use serde_json::{Map, Value};
use tokenaudit_core::{CallRecord, Usage};

use crate::record::fields::{Lenient, Problems, RawUsage};

/// The calls `raw`'s usage iterations bill beside `call` (its record),
/// in the order the line lists them; none for most lines.
pub fn derived(raw: &[u8], call: &CallRecord<'_>) -> Vec<CallRecord<'static>> {
    static MARK: OnceLock<Finder<'static>> = OnceLock::new();
    // (Every record passes here: no allocation before the rare case.)
    let claude = call
        .model
        .as_bytes()
        .windows(6)
        .any(|w| w.eq_ignore_ascii_case(b"claude"));
    if call.stream_chunk
        || !claude
        || MARK
            .get_or_init(|| Finder::new(b"\"iterations\""))
            .find(raw)
            .is_none()
    {
        return Vec::new();
    }
    let Ok(line) = serde_json::from_slice::<Value>(raw) else {
        return Vec::new();
    };
    let Some(usage) = find_usage(&line, 0) else {
        return Vec::new();
    };
    let Some(Value::Array(steps)) = usage.get("iterations") else {
        return Vec::new();
    };
    let steps: Vec<(&str, &Map<String, Value>, Usage)> = steps
        .iter()
        .filter_map(|s| {
            let s = s.as_object()?;
            let kind = s.get("type").and_then(Value::as_str).unwrap_or("");
            Some((kind, s, step_usage(s)?))
        })
        .collect();
    let extra = |kind: &str| EXTRA.contains(&kind);
    if !steps.iter().any(|(kind, _, _)| extra(kind)) {
        return Vec::new();
    }
    // The record's counts must be the executor's alone (the usage's own,
    // Anthropic's): a usage that already adds every iteration (a proxy's,
    // the AI SDK's `inputTokens` beside Anthropic's raw usage: hunt143's
    // bug1), or that adds some other way, is read as it is.
    let sum = |keep: &dyn Fn(&str) -> bool| {
        steps
            .iter()
            .filter(|(kind, _, _)| keep(kind))
            .fold((0, 0), |(i, o), (_, _, u)| (i + u.input, o + u.output))
    };
    let executor = sum(&|kind| !extra(kind));
    let own = (call.usage.input, call.usage.output);
    let expected = if steps.iter().any(|(kind, _, _)| !extra(kind)) {
        executor
    } else {
        step_usage(usage).map_or((0, 0), |u| (u.input, u.output))
    };
    if own != expected {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (n, (kind, step, usage)) in steps.iter().filter(|(k, _, _)| extra(k)).enumerate() {
        let usage = *usage;
        let mut record = call.owned_without_text();
        if let Some(model) = step.get("model").and_then(Value::as_str) {
            if !model.is_empty() {
                record.model = Cow::Owned(model.to_string());
            }
        }
        let kind = if kind.is_empty() { "iteration" } else { kind };
        record.request_id = call
            .request_id
            .as_deref()
            .map(|id| Cow::Owned(format!("{id}#{kind}-{}", n + 1)));
        record.usage = usage;
        record.cached_read_logged = step.contains_key("cache_read_input_tokens");
        record.served_model = None;
        record.turn = None;
        record.attempt = None;
        record.retry_of = None;
        record.latency_ms = None;
        record.ttft_ms = None;
        record.finish_reason = None;
        record.max_tokens = None;
        record.prompt_fp = None;
        record.prefix_fp = None;
        record.prefix_tokens = None;
        record.prefix_chars = None;
        record.user_messages = None;
        record.logged_cost = None;
        record.unread_field = None;
        record.gemini_response = false;
        record.stream_created = None;
        record
            .tags
            .push((Cow::Borrowed("iteration"), Cow::Owned(kind.to_string())));
        out.push(record);
    }
    out
}

/// The iterations billed beside the executor's (every other kind is the
/// executor's: `message`, and `fallback_message`, the hop that served the
/// answer in its place, which the usage's own counts are: hunt143's bug2,
/// hunt145's bug1, counted twice).
const EXTRA: [&str; 2] = ["advisor_message", "compaction"];

/// The first object (depth first, a few levels down) that is a usage with
/// iterations: `usage`, `message.usage`, `response.body.usage`…
fn find_usage(v: &Value, depth: u32) -> Option<&Map<String, Value>> {
    let o = v.as_object()?;
    let is_usage = matches!(o.get("iterations"), Some(Value::Array(_)))
        && (o.contains_key("input_tokens") || o.contains_key("output_tokens"));
    if is_usage {
        return Some(o);
    }
    if depth >= 6 {
        return None;
    }
    o.values().find_map(|child| find_usage(child, depth + 1))
}

/// An iteration's counts in the canonical convention, read as any Claude
/// usage is ([`RawUsage::normalise`]: Anthropic's `input_tokens` leaves the
/// cache out, `cache_creation` splits the writes by TTL); none without an
/// input or output count.
fn step_usage(s: &Map<String, Value>) -> Option<Usage> {
    let count = |v: Option<&Value>| {
        v.and_then(Value::as_u64)
            .map_or(Lenient::Missing, Lenient::Value)
    };
    let split = s.get("cache_creation").and_then(Value::as_object);
    let raw = RawUsage {
        input_tokens: count(s.get("input_tokens")),
        output_tokens: count(s.get("output_tokens")),
        cache_read_input_tokens: count(s.get("cache_read_input_tokens")),
        cache_creation_input_tokens: count(s.get("cache_creation_input_tokens")),
        cache_write_5m: count(split.and_then(|c| c.get("ephemeral_5m_input_tokens"))),
        cache_write_1h: count(split.and_then(|c| c.get("ephemeral_1h_input_tokens"))),
        ..RawUsage::default()
    };
    if matches!(raw.input_tokens, Lenient::Missing) && matches!(raw.output_tokens, Lenient::Missing)
    {
        return None;
    }
    raw.normalise(&mut Problems::default())
}
