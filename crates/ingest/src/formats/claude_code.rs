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

use tokenaudit_core::CallRecord;

use crate::engine::{Capture, Captured, Spec, Target as T};
use crate::formats::{Builtin, Detect, Format};
use crate::record::dedup_key::DedupKey;
use crate::record::fields::{LBool, LStr, Lenient, LU64};
use crate::record::staging::RawLine;
use crate::record::tags::last_component;
use crate::rejects::{Reject, RejectReason};

/// Where a Claude Code line keeps each field.
pub static SPEC: Spec = Spec::new(
    &[
        (T::Timestamp, &["timestamp"]),
        (T::Session, &["sessionId", "session_id"]),
        (T::Cost, &["costUSD"]),
        (T::InputTokens, &["message.usage.input_tokens"]),
        (T::OutputTokens, &["message.usage.output_tokens"]),
        (
            T::CacheReadTokens,
            &["message.usage.cache_read_input_tokens"],
        ),
        (
            T::CacheWriteTokens,
            &["message.usage.cache_creation_input_tokens"],
        ),
        (
            T::CacheWrite5mTokens,
            &["message.usage.cache_creation.ephemeral_5m_input_tokens"],
        ),
        (
            T::CacheWrite1hTokens,
            &["message.usage.cache_creation.ephemeral_1h_input_tokens"],
        ),
        (
            T::WebSearches,
            &["message.usage.server_tool_use.web_search_requests"],
        ),
        // Fast mode (`/fast`): the model's fast multiple (hunt79: priced
        // at standard rates; ccusage prices it).
        (T::ServiceTier, &["message.usage.speed"]),
        // US-only inference: the model's US multiple (hunt79).
        (T::InferenceGeo, &["message.usage.inference_geo"]),
        // `tool_use`, `end_turn`, `max_tokens` (a cut answer: TA112).
        (T::FinishReason, &["message.stop_reason"]),
    ],
    &[],
    "",
    &[
        Capture::Value(&["type"]),
        Capture::Value(&["isApiErrorMessage"]),
        Capture::Value(&["isSidechain"]),
        Capture::Value(&["message.model"]),
        Capture::Value(&["message.id"]),
        Capture::Value(&["requestId"]),
        Capture::Value(&["cwd"]),
        Capture::Value(&["error"]),
        Capture::Value(&["apiErrorStatus"]),
        Capture::Object(&["message"]),
        Capture::Object(&["message.usage"]),
    ],
    Some(hook),
)
.with_key(key);

// The captures, by their index in [`SPEC`].
const KIND: usize = 0;
const API_ERROR: usize = 1;
const SIDECHAIN: usize = 2;
const MODEL: usize = 3;
const MESSAGE_ID: usize = 4;
const REQUEST_ID: usize = 5;
const CWD: usize = 6;
const ERROR: usize = 7;
const ERROR_STATUS: usize = 8;
const MESSAGE: usize = 9;
const USAGE: usize = 10;

/// The model Claude Code gives the messages it writes itself.
pub const SYNTHETIC_MODEL: &str = "<synthetic>";

fn flag(c: &Captured<'_, '_>, i: usize) -> bool {
    LBool::from_label(c.label(i)).0 == Lenient::Value(true)
}

fn value<'a>(c: &Captured<'_, 'a>, i: usize) -> Option<Cow<'a, str>> {
    match c.label(i) {
        Lenient::Value(v) => Some(v),
        _ => None,
    }
}

/// What is a call (an assistant message with usage, or an API error), the
/// model, the request id, the project, the sidechain and the error.
fn hook<'a>(raw: &mut RawLine<'a>, c: &Captured<'_, 'a>) -> Result<(), Reject> {
    let api_error = flag(c, API_ERROR);
    if !c.object(MESSAGE) || (!c.object(USAGE) && !api_error) {
        return Err(Reject::new(
            RejectReason::NotACall,
            format!(
                "type {}: no message.usage",
                value(c, KIND).as_deref().unwrap_or("(none)")
            ),
        ));
    }
    let model = c.label(MODEL);
    raw.model = match model {
        Lenient::Value(m) if m == SYNTHETIC_MODEL && !api_error => {
            return Err(Reject::new(
                RejectReason::Synthetic,
                "message.model <synthetic>: written by Claude Code, not an API call",
            ))
        }
        Lenient::Value(m) => LStr(Lenient::Value(m)),
        // An API error carries no model; name it so it is counted.
        _ if api_error => LStr(Lenient::Value(Cow::Borrowed(SYNTHETIC_MODEL))),
        other => LStr(other),
    };
    // Claude Code on Amazon Bedrock logs Bedrock's model ids
    // (`us.anthropic.claude-…-v1:0`): their provider is told by the name,
    // as `prices show` tells it (regional profiles cost 10% more).
    let bedrock = matches!(&raw.model.0, Lenient::Value(m) if m.contains("anthropic."));
    if !bedrock {
        raw.provider = LStr(Lenient::Value(Cow::Borrowed("anthropic")));
    }
    raw.request_id = match value(c, REQUEST_ID) {
        Some(r) => LStr(Lenient::Value(r)),
        None => LStr(c.label(MESSAGE_ID)),
    };
    if let Some(cwd) = value(c, CWD) {
        raw.feature = LStr(Lenient::Value(project_name(&cwd)));
        raw.tags.push((Cow::Borrowed("project"), cwd));
    }
    if flag(c, SIDECHAIN) {
        raw.tags
            .push((Cow::Borrowed("sidechain"), Cow::Borrowed("true")));
    }
    if api_error {
        raw.status = LStr(Lenient::Value(Cow::Borrowed("error")));
        raw.error_kind = LStr(Lenient::Value(
            value(c, ERROR).unwrap_or(Cow::Borrowed("api_error")),
        ));
        raw.http_status = LU64(c.value(ERROR_STATUS).clone().count());
    }
    Ok(())
}

/// One call per (`message.id`, `requestId`) across every file of the run.
fn key<'a>(
    c: &Captured<'_, 'a>,
    record: &CallRecord<'a>,
    _: Option<&crate::engine::FileState>,
) -> Option<DedupKey> {
    let id = value(c, MESSAGE_ID)?;
    let request = value(c, REQUEST_ID);
    Some(DedupKey::new(
        &id,
        request.as_deref().unwrap_or(""),
        flag(c, SIDECHAIN),
        record,
    ))
}

/// Reads one line: a record and its dedup key (when it has a `message.id`),
/// or a reject (skips included).
pub fn parse_line_str(line: &str) -> Result<(CallRecord<'_>, Option<DedupKey>), Reject> {
    SPEC.parse_keyed_str(line)
}

/// The same for raw bytes.
pub fn parse_line(line: &[u8]) -> Result<(CallRecord<'_>, Option<DedupKey>), Reject> {
    SPEC.parse_keyed(line)
}

/// The project's name: the last component of its working directory
/// (`/home/me/src/shop` → `shop`; Windows separators too).
pub fn project_name<'a>(cwd: &Cow<'a, str>) -> Cow<'a, str> {
    match cwd {
        Cow::Borrowed(s) => Cow::Borrowed(last_component(repository(s))),
        Cow::Owned(s) => Cow::Owned(last_component(repository(s)).to_string()),
    }
}

/// The repository of a worktree Claude Code made for a session
/// (`claude --worktree`, the desktop app: `<repo>/.claude/worktrees/<name>`):
/// the session's project is the repository, not the worktree's generated
/// name (hunt176: `bright-running-fox`, a feature per session).
fn repository(cwd: &str) -> &str {
    ["/.claude/worktrees/", "\\.claude\\worktrees\\"]
        .iter()
        .find_map(|w| cwd.find(w).map(|i| &cwd[..i]))
        .filter(|repo| !repo.is_empty())
        .unwrap_or(cwd)
}

/// Whether a parsed JSON object looks like a Claude Code session log line:
/// a conversation line (`sessionId` with `uuid` or `parentUuid`, and one of
/// Claude Code's own keys `isSidechain`, `userType`, `cwd`: a session id and
/// a uuid alone are in many in-house logs), or one of the bookkeeping lines
/// Claude Code writes at the top of a session file (`summary` with
/// `leafUuid`, `file-history-snapshot` with `messageId`).
pub fn looks_like(map: &serde_json::Map<String, serde_json::Value>) -> bool {
    let kind = map.get("type").and_then(|t| t.as_str());
    let has = |k: &str| map.contains_key(k);
    (has("sessionId")
        && (has("uuid") || has("parentUuid"))
        && (has("isSidechain") || has("userType") || has("cwd")))
        // (`claude -p --output-format stream-json` is not told apart: Qwen
        // Code writes the same envelope with another usage convention,
        // hunt146's bug1; `--input-format claude-code` reads Claude's.)
        || (kind == Some("summary") && map.contains_key("leafUuid"))
        || (kind == Some("file-history-snapshot") && map.contains_key("messageId"))
}

/// The `claude-code` entry of the format registry (see [`crate::formats::REGISTRY`]).
pub static BUILTIN: Builtin = Builtin {
    name: "claude-code",
    aliases: &["claude"],
    format: Format::Spec(&SPEC),
    detect: Detect::AnyLine {
        markers: &["\"sessionId\"", "\"leafUuid\""],
        looks_like,
    },
    doc: "Claude Code session logs (~/.claude/projects/<project>/<session>.jsonl,\n\
         or $CLAUDE_CONFIG_DIR/projects; headless `claude -p --output-format\n\
         stream-json` output with --input-format claude-code): one record per assistant message\n\
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
        for worktree in [
            "/home/dev/shop/.claude/worktrees/bright-running-fox",
            "/home/dev/shop/.claude/worktrees/feature-auth/src/api",
            "C:\\src\\shop\\.claude\\worktrees\\x",
        ] {
            assert_eq!(project_name(&Cow::Borrowed(worktree)), "shop", "{worktree}");
        }
    }
}
