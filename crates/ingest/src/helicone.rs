//! Helicone request exports (`npx @helicone/export`, the request API's rows):
//! JSON lines, a JSON array, or CSV, one request per row.
//!
//! Fields: `request_id` (or `response_id`), `request_created_at`,
//! `response_status` (HTTP; Helicone writes negative or zero codes for
//! requests that got no response, read as failures), `delay_ms`,
//! `time_to_first_token`, `model` (or `response_model`, `request_model`),
//! `provider`, `cost` (or `costUSD`) as the logged cost, `request_user_id`,
//! and the custom properties (`properties` or `request_properties`, an object
//! or, in CSV, its JSON text) as tags; a `feature` property is the feature,
//! Helicone's own `Helicone-Session-Id` property the session.
//!
//! Token convention: `prompt_tokens` excludes the prompt cache. Helicone's
//! cost code (`costOfPrompt` in its `packages/cost`) bills `prompt_tokens`
//! as "the fresh, uncached tokens" and adds `prompt_cache_read_tokens` and
//! `prompt_cache_write_tokens` at their own rates, so input is the sum of the
//! three. `completion_tokens` is the output.
//!
//! A request Helicone answered from its own response cache
//! (`cache_reference_id` set to a request id other than the nil UUID) never
//! reached the provider and was not billed: it is counted under
//! [`RejectReason::NotACall`], not priced as a call.

use std::borrow::Cow;

use serde::Deserialize;

use tokenaudit_core::CallRecord;

use crate::fields::{LMoney, LStr, LTime, Lenient, LU64};
use crate::gateway::{LNum, RawLine};
use crate::rejects::{Reject, RejectReason};
use crate::scan_value::{Pairs, TagValue};

#[derive(Deserialize, Default)]
#[serde(default)]
struct Request<'a> {
    #[serde(borrow)]
    request_id: LStr<'a>,
    #[serde(borrow)]
    response_id: LStr<'a>,
    request_created_at: LTime,
    response_status: LStr<'a>,
    delay_ms: LNum,
    /// The export tool's CSV names the delay `latency`.
    latency: LNum,
    time_to_first_token: LNum,
    #[serde(borrow)]
    model: LStr<'a>,
    #[serde(borrow)]
    response_model: LStr<'a>,
    #[serde(borrow)]
    request_model: LStr<'a>,
    #[serde(borrow)]
    provider: LStr<'a>,
    prompt_tokens: LU64,
    completion_tokens: LU64,
    prompt_cache_read_tokens: LU64,
    prompt_cache_write_tokens: LU64,
    cost: LMoney,
    #[serde(rename = "costUSD")]
    cost_usd: LMoney,
    #[serde(borrow)]
    request_user_id: LStr<'a>,
    properties: Option<serde_json::Value>,
    request_properties: Option<serde_json::Value>,
    #[serde(borrow)]
    cache_reference_id: LStr<'a>,
}

/// Reads one Helicone request row.
pub fn parse_line(line: &[u8]) -> Result<CallRecord<'_>, Reject> {
    match std::str::from_utf8(line) {
        Ok(text) => parse_line_str(text),
        Err(_) => Err(Reject::new(RejectReason::MalformedJson, "invalid UTF-8")),
    }
}

/// The same for a line already validated as UTF-8.
pub fn parse_line_str(line: &str) -> Result<CallRecord<'_>, Reject> {
    let r: Request<'_> = crate::fields::json_object(line)?;
    if let Lenient::Value(id) = &r.cache_reference_id.0 {
        if id.bytes().any(|b| b != b'0' && b != b'-') {
            return Err(Reject::new(
                RejectReason::NotACall,
                "helicone cache hit (cache_reference_id): answered from Helicone's cache, \
                 not billed by the provider",
            ));
        }
    }
    let mut raw = RawLine {
        timestamp: r.request_created_at,
        request_id: if r.request_id.0.is_present() {
            r.request_id
        } else {
            r.response_id
        },
        model: [r.model, r.response_model, r.request_model]
            .into_iter()
            .find(|m| m.0.is_present())
            .unwrap_or_default(),
        provider: match r.provider.0 {
            // Helicone writes providers upper-case (`OPENAI`).
            Lenient::Value(p) => LStr(Lenient::Value(Cow::Owned(p.to_ascii_lowercase()))),
            other => LStr(other),
        },
        latency_ms: if r.delay_ms.0.is_present() {
            r.delay_ms
        } else {
            r.latency
        },
        ttft_ms: r.time_to_first_token,
        cost: if r.cost.0.is_present() {
            r.cost
        } else {
            r.cost_usd
        },
        user: r.request_user_id,
        ..RawLine::default()
    };
    match &r.response_status.0 {
        Lenient::Value(code) => match code.trim().parse::<i64>() {
            Ok(c @ 100..=599) => raw.http_status = LU64(Lenient::Value(c as u64)),
            Ok(c) => {
                raw.status = LStr(Lenient::Value(Cow::Borrowed("error")));
                raw.error_kind = LStr(Lenient::Value(Cow::Owned(format!("helicone_status_{c}"))));
            }
            Err(_) => raw.http_status = LU64(Lenient::WrongType),
        },
        Lenient::Missing => {}
        _ => raw.http_status = LU64(Lenient::WrongType),
    }
    let u = &mut raw.usage;
    u.input_tokens = r.prompt_tokens.0;
    u.output_tokens = r.completion_tokens.0;
    u.cache_read_input_tokens = r.prompt_cache_read_tokens.0;
    u.cache_creation_input_tokens = r.prompt_cache_write_tokens.0;
    // The API gives the properties twice (`properties` and
    // `request_properties`); the export tool's CSV only the second.
    if let Some(props) = r.properties.as_ref().or(r.request_properties.as_ref()) {
        push_tags(&mut raw.tags, props, "property");
        let mut i = 0;
        while i < raw.tags.len() {
            let key = raw.tags[i].0.to_ascii_lowercase();
            if key == "feature" || key == "helicone-property-feature" {
                raw.feature = LStr(Lenient::Value(raw.tags.remove(i).1));
            } else if key == "helicone-session-id" {
                raw.session = LStr(Lenient::Value(raw.tags.remove(i).1));
            } else {
                if key.starts_with("helicone-property-") {
                    let name = raw.tags[i].0["helicone-property-".len()..].to_string();
                    raw.tags[i].0 = Cow::Owned(name);
                }
                i += 1;
            }
        }
    }
    raw.into_record()
}

/// Longest metadata or property value kept as a tag: longer ones are text,
/// not labels, and could be prompt content.
pub(crate) const MAX_TAG_VALUE: usize = 100;

/// A short scalar as text (see [`MAX_TAG_VALUE`]).
pub(crate) fn short_scalar(v: &serde_json::Value) -> Option<String> {
    let text = match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    (!text.trim().is_empty() && text.len() <= MAX_TAG_VALUE).then_some(text)
}

/// Keys whose values are prompt or completion text, never tags (any case):
/// keys containing `prompt`, `input`, `output`, `message`, `content`,
/// `text`, `query`, `completion` or `response`.
pub(crate) fn is_text_key(key: &str) -> bool {
    let b = key.as_bytes();
    // One pass: only positions whose byte starts one of the words are compared.
    (0..b.len()).any(|i| {
        let words: &[&str] = match b[i].to_ascii_lowercase() {
            b'p' => &["prompt"],
            b'i' => &["input"],
            b'o' => &["output"],
            b'm' => &["message"],
            b'c' => &["content", "completion"],
            b't' => &["text"],
            b'q' => &["query"],
            b'r' => &["response"],
            _ => return false,
        };
        words.iter().any(|w| {
            b.get(i..i + w.len())
                .is_some_and(|s| s.eq_ignore_ascii_case(w.as_bytes()))
        })
    })
}

/// `hay.to_ascii_lowercase().contains(word)` for a lower-case ASCII `word`,
/// without the lower-cased copy.
pub(crate) fn contains_ignore_ascii_case(hay: &str, word: &str) -> bool {
    hay.as_bytes()
        .windows(word.len())
        .any(|w| w.eq_ignore_ascii_case(word.as_bytes()))
}

/// Tags from an object of scalars (`key=value`), a list of strings
/// (`list_key=value`), or either one written as JSON text (CSV cells).
pub(crate) fn push_tags<'a>(
    out: &mut Vec<(Cow<'a, str>, Cow<'a, str>)>,
    value: &serde_json::Value,
    list_key: &'static str,
) {
    match value {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                if is_text_key(k) {
                    continue;
                }
                if let Some(text) = short_scalar(v) {
                    out.push((Cow::Owned(k.clone()), Cow::Owned(text)));
                }
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                if let Some(text) = short_scalar(item) {
                    out.push((Cow::Borrowed(list_key), Cow::Owned(text)));
                }
            }
        }
        serde_json::Value::String(s) => push_text_tags(out, s, list_key),
        _ => {}
    }
}

/// [`push_tags`] of a string: tags when it is JSON text of an object or a list.
fn push_text_tags<'a>(
    out: &mut Vec<(Cow<'a, str>, Cow<'a, str>)>,
    s: &str,
    list_key: &'static str,
) {
    if !s.trim_start().starts_with(['{', '[']) {
        return;
    }
    // Helicone's export tool escapes an object's quotes twice in its
    // CSV (`{""feature"":""x""}` once the CSV is read): undo that.
    let parsed = serde_json::from_str::<serde_json::Value>(s).or_else(|e| {
        if s.contains("\"\"") {
            serde_json::from_str(&s.replace("\"\"", "\""))
        } else {
            Err(e)
        }
    });
    if let Ok(v) = parsed {
        push_tags(out, &v, list_key);
    }
}

/// [`push_tags`] of a value read by the scanner (see [`TagValue`]).
pub(crate) fn push_tag_value<'a>(
    out: &mut Vec<(Cow<'a, str>, Cow<'a, str>)>,
    value: TagValue<'a>,
    pairs: &mut Pairs<'a, Option<Cow<'a, str>>>,
    list_key: &'static str,
) {
    match value {
        TagValue::Object => {
            for (k, text) in pairs.drain() {
                if let (false, Some(text)) = (is_text_key(&k), text) {
                    out.push((k, text));
                }
            }
        }
        TagValue::Array => {
            for (_, text) in pairs.drain() {
                if let Some(text) = text {
                    out.push((Cow::Borrowed(list_key), text));
                }
            }
        }
        TagValue::Text(s) => push_text_tags(out, &s, list_key),
        TagValue::Absent | TagValue::Other => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_tokens_exclude_the_cache_and_cache_hits_are_not_calls() {
        let line = r#"{"request_id":"r1","request_created_at":"2026-10-01T08:00:00.000Z","response_status":200,"delay_ms":812,"time_to_first_token":240,"model":"claude-sonnet-4-5-20250929","provider":"ANTHROPIC","prompt_tokens":100,"completion_tokens":50,"prompt_cache_read_tokens":2000,"prompt_cache_write_tokens":300,"cost":0.0025,"request_user_id":"u-7","properties":{"Helicone-Property-Feature":"support-chat","Helicone-Session-Id":"s-1","env":"prod"},"cache_reference_id":"00000000-0000-0000-0000-000000000000"}"#;
        let r = parse_line_str(line).unwrap();
        assert_eq!(
            (r.usage.input, r.usage.cached_read, r.usage.cache_write),
            (2400, 2000, 300)
        );
        assert_eq!(r.provider.as_deref(), Some("anthropic"));
        assert_eq!(r.feature.as_deref(), Some("support-chat"));
        assert_eq!(r.session.as_deref(), Some("s-1"));
        assert_eq!(r.tags, vec![(Cow::from("env"), Cow::from("prod"))]);
        assert_eq!((r.latency_ms, r.ttft_ms), (Some(812), Some(240)));
        let hit = line.replace(
            "00000000-0000-0000-0000-000000000000",
            "5b3c1f0e-1111-4f7e-9a7e-000000000001",
        );
        assert_eq!(
            parse_line_str(&hit).unwrap_err().reason,
            RejectReason::NotACall
        );
        let failed = r#"{"request_id":"r2","response_status":-1,"model":"gpt-4o","prompt_tokens":null,"completion_tokens":null}"#;
        let r = parse_line_str(failed).unwrap();
        assert_eq!(r.effective_status(), tokenaudit_core::CallStatus::Error);
        // The export tool's CSV: properties as JSON text.
        let csv_row = r#"{"response_id":"x","request_created_at":"2026-10-01T08:00:00Z","response_status":200,"request_properties":"{\"feature\":\"search\"}","model":"gpt-4o","prompt_tokens":10,"completion_tokens":2,"latency":300,"cost":0.000045}"#;
        let r = parse_line_str(csv_row).unwrap();
        assert_eq!(r.feature.as_deref(), Some("search"));
        assert_eq!(r.latency_ms, Some(300));
        assert_eq!(r.request_id.as_deref(), Some("x"));
    }
}
