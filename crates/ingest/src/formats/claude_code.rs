//! Claude Code session logs: `~/.claude/projects/<project>/<session>.jsonl`
//! (also under `$CLAUDE_CONFIG_DIR/projects`), one JSON object per line.
//!
//! Only `assistant` lines whose `message` carries a `usage` object are API
//! calls; every other line (user prompts, tool results, `summary`,
//! `file-history-snapshot`, `system`) is skipped as `not_a_call`, and
//! messages Claude Code wrote itself (model `<synthetic>`) as `synthetic`.
//! A line with `isApiErrorMessage: true` is a failed call: a record with
//! status error, its `error` as the error kind and `apiErrorStatus` as the
//! HTTP status, and no tokens.
//!
//! Fields read: `timestamp`, `sessionId` (the session), `requestId`,
//! `isSidechain` (tag `sidechain`), `cwd` (the project: its last path
//! component is the feature, the whole path the tag `project`),
//! `costUSD` (the logged cost), `message.id`, `message.model`,
//! `message.usage` in Anthropic's convention (`input_tokens` excludes the
//! cache; `cache_creation.ephemeral_{5m,1h}_input_tokens` split the writes),
//! normalised by [`crate::record::fields::RawUsage::normalise`]. No prompt text is
//! kept.
//!
//! Claude Code writes one assistant message several times (a line per
//! content block while it streams, and again when a session is resumed into
//! a new file or replayed in a sidechain), so each record comes with a
//! [`DedupKey`]: the pipeline keeps one record per (`message.id`,
//! `requestId`) across all files of the run (see [`crate::pipeline::dedup`]).

use std::borrow::Cow;

use serde::Deserialize;

use tokenaudit_core::CallRecord;

use crate::formats::{Builtin, Detect, Format};
use crate::record::dedup_key::DedupKey;
use crate::record::fields::{LBool, LMoney, LStr, LTime, Lenient, LU64};
use crate::record::staging::RawLine;
use crate::record::tags::last_component;
use crate::rejects::{Reject, RejectReason};

#[derive(Deserialize, Default)]
struct Line<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: LStr<'a>,
    #[serde(default)]
    timestamp: LTime,
    #[serde(rename = "sessionId", borrow, default)]
    session_id: LStr<'a>,
    #[serde(rename = "requestId", borrow, default)]
    request_id: LStr<'a>,
    #[serde(rename = "isSidechain", default)]
    is_sidechain: LBool,
    #[serde(rename = "isApiErrorMessage", default)]
    is_api_error: LBool,
    #[serde(rename = "apiErrorStatus", default)]
    api_error_status: LU64,
    #[serde(borrow, default)]
    error: LStr<'a>,
    #[serde(borrow, default)]
    cwd: LStr<'a>,
    #[serde(rename = "costUSD", default)]
    cost_usd: LMoney,
    #[serde(borrow, default)]
    message: Option<Message<'a>>,
}

#[derive(Deserialize, Default)]
struct Message<'a> {
    #[serde(borrow, default)]
    id: LStr<'a>,
    #[serde(borrow, default)]
    model: LStr<'a>,
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Deserialize, Default)]
struct Usage {
    #[serde(default)]
    input_tokens: LU64,
    #[serde(default)]
    output_tokens: LU64,
    #[serde(default)]
    cache_creation_input_tokens: LU64,
    #[serde(default)]
    cache_read_input_tokens: LU64,
    #[serde(default)]
    cache_creation: Option<CacheCreation>,
}

#[derive(Deserialize, Default)]
struct CacheCreation {
    #[serde(default)]
    ephemeral_5m_input_tokens: LU64,
    #[serde(default)]
    ephemeral_1h_input_tokens: LU64,
}

/// The model Claude Code gives the messages it writes itself.
pub const SYNTHETIC_MODEL: &str = "<synthetic>";

fn value<'a>(s: &LStr<'a>) -> Option<Cow<'a, str>> {
    match &s.0 {
        Lenient::Value(v) => Some(v.clone()),
        _ => None,
    }
}

/// Reads one line: a record and its dedup key (when it has a `message.id`),
/// or a reject (skips included).
pub fn parse_line_str(line: &str) -> Result<(CallRecord<'_>, Option<DedupKey>), Reject> {
    let parsed: Line<'_> = crate::record::fields::json_object(line)?;
    let api_error = matches!(parsed.is_api_error.0, Lenient::Value(true));
    let Some(message) = parsed.message else {
        return Err(not_a_call(&parsed.kind));
    };
    if message.usage.is_none() && !api_error {
        return Err(not_a_call(&parsed.kind));
    }
    let model = value(&message.model);
    if model.as_deref() == Some(SYNTHETIC_MODEL) && !api_error {
        return Err(Reject::new(
            RejectReason::Synthetic,
            "message.model <synthetic>: written by Claude Code, not an API call",
        ));
    }
    let sidechain = matches!(parsed.is_sidechain.0, Lenient::Value(true));
    let mut raw = RawLine {
        timestamp: parsed.timestamp,
        provider: LStr(Lenient::Value(Cow::Borrowed("anthropic"))),
        model: match model {
            Some(m) => LStr(Lenient::Value(m)),
            // An API error carries no model; name it so it is counted.
            None if api_error => LStr(Lenient::Value(Cow::Borrowed(SYNTHETIC_MODEL))),
            None => message.model,
        },
        session: parsed.session_id,
        cost: parsed.cost_usd,
        ..Default::default()
    };
    raw.request_id = match value(&parsed.request_id) {
        Some(r) => LStr(Lenient::Value(r)),
        None => message.id.clone(),
    };
    if let Some(cwd) = value(&parsed.cwd) {
        let name = project_name(&cwd);
        raw.feature = LStr(Lenient::Value(name));
        raw.tags.push((Cow::Borrowed("project"), cwd));
    }
    if sidechain {
        raw.tags
            .push((Cow::Borrowed("sidechain"), Cow::Borrowed("true")));
    }
    if api_error {
        raw.status = LStr(Lenient::Value(Cow::Borrowed("error")));
        raw.error_kind = match value(&parsed.error) {
            Some(e) => LStr(Lenient::Value(e)),
            None => LStr(Lenient::Value(Cow::Borrowed("api_error"))),
        };
        raw.http_status = parsed.api_error_status;
    }
    if let Some(u) = message.usage {
        raw.usage.input_tokens = u.input_tokens.0;
        raw.usage.output_tokens = u.output_tokens.0;
        raw.usage.cache_read_input_tokens = u.cache_read_input_tokens.0;
        raw.usage.cache_creation_input_tokens = u.cache_creation_input_tokens.0;
        if let Some(c) = u.cache_creation {
            raw.usage.cache_write_5m = c.ephemeral_5m_input_tokens.0;
            raw.usage.cache_write_1h = c.ephemeral_1h_input_tokens.0;
        }
    }
    let record = raw.into_record()?;
    let key = value(&message.id).map(|id| {
        DedupKey::new(
            &id,
            value(&parsed.request_id).as_deref().unwrap_or(""),
            sidechain,
            &record,
        )
    });
    Ok((record, key))
}

/// The same for raw bytes.
pub fn parse_line(line: &[u8]) -> Result<(CallRecord<'_>, Option<DedupKey>), Reject> {
    match std::str::from_utf8(line) {
        Ok(text) => parse_line_str(text),
        Err(_) => Err(Reject::new(RejectReason::MalformedJson, "invalid UTF-8")),
    }
}

fn not_a_call(kind: &LStr<'_>) -> Reject {
    let kind = value(kind);
    Reject::new(
        RejectReason::NotACall,
        format!(
            "type {}: no message.usage",
            kind.as_deref().unwrap_or("(none)")
        ),
    )
}

/// The project's name: the last component of its working directory
/// (`/home/me/src/shop` → `shop`; Windows separators too).
pub fn project_name<'a>(cwd: &Cow<'a, str>) -> Cow<'a, str> {
    match cwd {
        Cow::Borrowed(s) => Cow::Borrowed(last_component(s)),
        Cow::Owned(s) => Cow::Owned(last_component(s).to_string()),
    }
}

/// Whether a parsed JSON object looks like a Claude Code session log line:
/// a conversation line (`sessionId` with `uuid` or `parentUuid`), or one of
/// the bookkeeping lines Claude Code writes at the top of a session file
/// (`summary` with `leafUuid`, `file-history-snapshot` with `messageId`).
pub fn looks_like(map: &serde_json::Map<String, serde_json::Value>) -> bool {
    let kind = map.get("type").and_then(|t| t.as_str());
    (map.contains_key("sessionId") && (map.contains_key("uuid") || map.contains_key("parentUuid")))
        || (kind == Some("summary") && map.contains_key("leafUuid"))
        || (kind == Some("file-history-snapshot") && map.contains_key("messageId"))
}

/// The `claude-code` entry of the format registry (see [`crate::formats::REGISTRY`]).
pub static BUILTIN: Builtin = Builtin {
    name: "claude-code",
    aliases: &["claude"],
    format: Format::ClaudeCode,
    detect: Detect::AnyLine {
        markers: &["\"sessionId\"", "\"leafUuid\""],
        looks_like,
    },
    doc: "Claude Code session logs (~/.claude/projects/<project>/<session>.jsonl,\n\
         or $CLAUDE_CONFIG_DIR/projects): one record per assistant message\n\
         with message.usage (Anthropic convention, 5m/1h cache writes),\n\
         counted once per (message.id, requestId) across all files, keeping\n\
         the most complete copy; sidechain replays of a main-chain message\n\
         are dropped. Session: sessionId; feature: the project (last part\n\
         of cwd); tags project=<cwd>, sidechain=true. isApiErrorMessage\n\
         lines are failed calls. Skipped, counted, not errors: lines with\n\
         no call (not_a_call), <synthetic> messages, copies (duplicate).",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_usage_in_anthropic_convention_with_ttl_split() {
        let line = r#"{"parentUuid":"p","isSidechain":false,"userType":"external","cwd":"/home/dev/shop","sessionId":"s1","version":"2.0.0","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"hi"}],"usage":{"input_tokens":10,"cache_creation_input_tokens":300,"cache_read_input_tokens":2000,"cache_creation":{"ephemeral_5m_input_tokens":100,"ephemeral_1h_input_tokens":200},"output_tokens":50}},"requestId":"req_1","type":"assistant","uuid":"u1","timestamp":"2025-10-01T10:00:00.000Z"}"#;
        let (r, key) = parse_line_str(line).unwrap();
        // Input excludes the cache in Anthropic's counts: 10 + 2,000 + 300.
        assert_eq!(r.usage.input, 2310);
        assert_eq!(r.usage.cached_read, 2000);
        assert_eq!((r.usage.cache_write, r.usage.cache_write_1h), (300, 200));
        assert_eq!(r.usage.output, 50);
        assert_eq!(r.session.as_deref(), Some("s1"));
        assert_eq!(r.feature.as_deref(), Some("shop"));
        assert_eq!(r.request_id.as_deref(), Some("req_1"));
        assert!(key.is_some());
    }

    #[test]
    fn skips_lines_that_are_not_calls() {
        let user = r#"{"parentUuid":null,"isSidechain":false,"cwd":"/x","sessionId":"s1","type":"user","message":{"role":"user","content":"secret prompt"},"uuid":"u0","timestamp":"2025-10-01T10:00:00.000Z"}"#;
        assert_eq!(
            parse_line_str(user).unwrap_err().reason,
            RejectReason::NotACall
        );
        let synthetic = r#"{"sessionId":"s1","uuid":"u2","type":"assistant","message":{"id":"x","model":"<synthetic>","role":"assistant","content":[],"usage":{"input_tokens":0,"output_tokens":0}},"timestamp":"2025-10-01T10:00:00.000Z"}"#;
        assert_eq!(
            parse_line_str(synthetic).unwrap_err().reason,
            RejectReason::Synthetic
        );
        let error = r#"{"sessionId":"s1","uuid":"u3","type":"assistant","isApiErrorMessage":true,"error":"rate_limit","apiErrorStatus":429,"message":{"id":"y","model":"<synthetic>","role":"assistant","content":[{"type":"text","text":"API Error"}],"usage":{"input_tokens":0,"output_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}},"timestamp":"2025-10-01T10:00:00.000Z"}"#;
        let (r, _) = parse_line_str(error).unwrap();
        assert_eq!(r.effective_status(), tokenaudit_core::CallStatus::Error);
        assert_eq!(r.error_kind.as_deref(), Some("rate_limit"));
        assert_eq!(r.http_status, Some(429));
        assert_eq!(
            parse_line_str("[1]").unwrap_err().reason,
            RejectReason::NotAnObject
        );
        assert_eq!(
            parse_line_str("{\"a\":").unwrap_err().reason,
            RejectReason::MalformedJson
        );
    }

    #[test]
    fn project_names() {
        assert_eq!(last_component("/home/dev/shop"), "shop");
        assert_eq!(last_component("/home/dev/shop/"), "shop");
        assert_eq!(last_component("C:\\src\\app"), "app");
        assert_eq!(last_component("/"), "/");
        assert_eq!(project_name(&Cow::Owned("/a/b".into())), "b");
    }
}
