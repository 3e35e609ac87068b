//! Codex session logs ("rollouts"): `~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl`
//! (also under `$CODEX_HOME/sessions`), one `RolloutLine` per line:
//! `{timestamp, type, payload}` with `type` one of `session_meta`,
//! `turn_context`, `response_item`, `event_msg`, `compacted` (the shapes of
//! `codex-rs/protocol`).
//!
//! A call is an `event_msg` whose `payload.type` is `token_count`, with its
//! usage in `payload.info` (`TokenUsageInfo`): `last_token_usage` is the
//! last request's, `total_token_usage` the session's running total
//! (`input_tokens`, `cached_input_tokens`, `output_tokens`,
//! `reasoning_output_tokens`, `total_tokens`, and since late 2026
//! `cache_write_input_tokens`; OpenAI's convention: cached tokens and cache
//! writes are inside input, reasoning inside output). As Codex's usage tools
//! do (ccusage), a token_count whose running total did not move repeats the
//! previous one and is skipped as `duplicate`; otherwise the usage is
//! `last_token_usage`, or the difference of successive totals when it is
//! missing. `info: null` (a rate-limit update) is skipped as `not_a_call`,
//! like every line that is not a token_count.
//!
//! The model is the one of the latest `turn_context` (or
//! `thread_settings_applied`) line before the event (`payload.model`); the
//! service tier the latest `thread_settings_applied`'s (`"fast"`: Codex's
//! Fast mode, priority processing, priced at the model's fast or priority
//! rates); the session is `session_meta`'s `payload.id`, and the
//! project is the working directory (`cwd`) of those lines: its last
//! component is the feature, the whole path the tag `project`. A token_count
//! before any model is rejected as `missing_model` rather than guessed.
//!
//! Reading needs the lines before, so a Codex file is read as one chunk (up
//! to 1 GiB, `IngestOptions::max_whole_file_bytes`), in order, by one
//! worker (see [`crate::pipeline`]); [`State`] carries what
//! the earlier lines said. The session is the file's first `session_meta`
//! (a subagent's file goes on with its parent's).
//!
//! A forked session (`forked_from_id`) and a subagent's
//! (`source.subagent.thread_spawn`) begin with a copy of the parent's
//! history, its token_count events included, re-stamped or not. Each event
//! is therefore one call across every file of the run ([`key`]): the same
//! model, project, running total and last usage are the same call, counted
//! once, as a log and its archived copy are: the copy kept is the one in a
//! file whose first session_meta names no parent (the original, with its
//! own session and time), else the one read first in input order; the
//! others are `duplicate`. Two original files of different sessions are
//! never copies of each other, whatever their counts.

use std::borrow::Cow;

use crate::engine::{Capture, Captured, FileState, Spec};
use crate::formats::{Builtin, Detect, Format};
use crate::record::dedup_key::DedupKey;
use crate::record::fields::{LStr, LTime, Lenient};
use crate::record::staging::RawLine;
use crate::record::tags::last_component;
use crate::rejects::{Reject, RejectReason};

/// Where a rollout line keeps what is read; what a line means depends on
/// the lines before it (the file's [`State`]).
pub static SPEC: Spec = Spec::new(
    &[],
    &[],
    "",
    &[
        Capture::Value(&["timestamp"]),
        Capture::Value(&["type"]),
        Capture::Value(&["payload.type"]),
        Capture::Value(&["payload.id"]),
        Capture::Value(&["payload.cwd"]),
        Capture::Value(&["payload.model"]),
        Capture::Object(&["payload.info"]),
        Capture::Object(&["payload.info.total_token_usage"]),
        Capture::Value(&["payload.info.total_token_usage.input_tokens"]),
        Capture::Value(&["payload.info.total_token_usage.cached_input_tokens"]),
        Capture::Value(&["payload.info.total_token_usage.output_tokens"]),
        Capture::Value(&["payload.info.total_token_usage.reasoning_output_tokens"]),
        Capture::Value(&["payload.info.total_token_usage.cache_write_input_tokens"]),
        Capture::Object(&["payload.info.last_token_usage"]),
        Capture::Value(&["payload.info.last_token_usage.input_tokens"]),
        Capture::Value(&["payload.info.last_token_usage.cached_input_tokens"]),
        Capture::Value(&["payload.info.last_token_usage.output_tokens"]),
        Capture::Value(&["payload.info.last_token_usage.reasoning_output_tokens"]),
        Capture::Value(&["payload.info.last_token_usage.cache_write_input_tokens"]),
        Capture::Value(&["payload.forked_from_id"]),
        // An object (`{"thread_spawn": {...}}`) or a unit variant's string
        // (`"review"`): either way a subagent's file.
        Capture::Text(&["payload.source.subagent"]),
        Capture::Value(&["payload.parent_thread_id"]),
        Capture::Value(&["payload.thread_settings.service_tier"]),
        Capture::Value(&["payload.thread_settings.model"]),
    ],
    None,
)
.with_state(fresh_state, hook)
.with_key(key);

// The captures, by their index in [`SPEC`].
const TIMESTAMP: usize = 0;
const KIND: usize = 1;
const PAYLOAD_KIND: usize = 2;
const ID: usize = 3;
const CWD: usize = 4;
const MODEL: usize = 5;
const INFO: usize = 6;
/// `total_token_usage` (the object, then its five counts), then
/// `last_token_usage` the same way.
const TOTAL: usize = 7;
const LAST: usize = 13;
const FORKED_FROM: usize = 19;
const SUBAGENT: usize = 20;
const PARENT_THREAD: usize = 21;
/// `thread_settings_applied`'s settings (Codex's `ThreadSettingsSnapshot`).
const SETTINGS_TIER: usize = 22;
const SETTINGS_MODEL: usize = 23;

/// Input, cached input, output, reasoning, cache writes (late 2026's
/// `cache_write_input_tokens`, inside the input as the cached tokens are:
/// hunt152, gpt-5.6's writes at 1.25× priced as plain input).
type Counts = [u64; 5];

/// The counts of a token usage object (its capture at `at`, its counts
/// after it), when it is one.
fn counts(c: &Captured<'_, '_>, at: usize) -> Result<Option<Counts>, Reject> {
    if !c.object(at) {
        return Ok(None);
    }
    const FIELDS: [&str; 5] = [
        "input_tokens",
        "cached_input_tokens",
        "output_tokens",
        "reasoning_output_tokens",
        "cache_write_input_tokens",
    ];
    let mut out = [0; 5];
    for (i, field) in FIELDS.iter().enumerate() {
        out[i] = match c.value(at + 1 + i).clone().count() {
            Lenient::Value(n) if n <= crate::record::fields::MAX_TOKENS => n,
            Lenient::Value(_) => return Err(Reject::new(RejectReason::AbsurdTokens, *field)),
            Lenient::Missing => 0,
            Lenient::Negative => return Err(Reject::new(RejectReason::NegativeTokens, *field)),
            Lenient::WrongType => return Err(Reject::new(RejectReason::WrongType, *field)),
        };
    }
    Ok(Some(out))
}

/// What the earlier lines of one file said.
#[derive(Debug, Default)]
pub struct State {
    model: Option<String>,
    session: Option<String>,
    cwd: Option<String>,
    previous_total: Option<Counts>,
    /// The thread's service tier, as its latest `thread_settings_applied`
    /// set it (`fast`: Codex's Fast mode, priority processing).
    tier: Option<String>,
    /// The file is a fork's or a subagent's (its first session_meta names
    /// a parent): its copies of the parent's calls give way to the
    /// parent's own (see [`key`]).
    derived: bool,
}

fn fresh_state() -> FileState {
    Box::new(State::default())
}

fn value<'a>(c: &Captured<'_, 'a>, i: usize) -> Option<Cow<'a, str>> {
    match c.label(i) {
        Lenient::Value(v) => Some(v),
        _ => None,
    }
}

/// Reads one line of the file, in order: session and turn lines update the
/// state, a token_count is a call.
fn hook<'a>(
    raw: &mut RawLine<'a>,
    c: &Captured<'_, 'a>,
    state: &mut FileState,
) -> Result<(), Reject> {
    let state: &mut State = state.downcast_mut().expect("a Codex state");
    let kind = value(c, KIND);
    let payload_kind = value(c, PAYLOAD_KIND);
    match kind.as_deref() {
        Some("session_meta") => {
            // A subagent's file goes on with its parent's session_meta
            // before the copied history: the file's session is the first.
            if let (Some(id), None) = (value(c, ID), &state.session) {
                state.session = Some(id.into_owned());
                state.derived = value(c, FORKED_FROM).is_some()
                    || c.text(SUBAGENT).is_some()
                    || value(c, PARENT_THREAD).is_some();
            }
            if let Some(cwd) = value(c, CWD) {
                state.cwd = Some(cwd.into_owned());
            }
            return Err(not_a_call("session_meta"));
        }
        Some("turn_context") => {
            if let Some(model) = value(c, MODEL) {
                state.model = Some(model.into_owned());
            }
            if let Some(cwd) = value(c, CWD) {
                state.cwd = Some(cwd.into_owned());
            }
            return Err(not_a_call("turn_context"));
        }
        Some("event_msg") if payload_kind.as_deref() == Some("thread_settings_applied") => {
            // Fast mode on or off (`service_tier: "fast"` or null), and the
            // model the thread goes on with (hunt152: Fast mode's calls at
            // standard rates).
            state.tier = value(c, SETTINGS_TIER).map(Cow::into_owned);
            if let Some(model) = value(c, SETTINGS_MODEL) {
                state.model = Some(model.into_owned());
            }
            return Err(not_a_call("thread_settings_applied"));
        }
        Some("event_msg") if payload_kind.as_deref() == Some("token_count") => {}
        other => return Err(not_a_call(other.unwrap_or("(none)"))),
    }
    if !c.object(INFO) {
        return Err(Reject::new(
            RejectReason::NotACall,
            "token_count with info null: a rate-limit update, no usage",
        ));
    }
    let total = counts(c, TOTAL)?;
    let last = counts(c, LAST)?;
    let advanced = total.is_none() || total != state.previous_total;
    let usage = match (advanced, last, total) {
        (true, Some(last), _) => Some(last),
        (_, _, Some(total)) => {
            let prev = state.previous_total.unwrap_or_default();
            Some(std::array::from_fn(|i| total[i].saturating_sub(prev[i])))
        }
        _ => None,
    };
    if total.is_some() {
        state.previous_total = total;
    }
    if !advanced {
        return Err(Reject::new(
            RejectReason::Duplicate,
            "token_count repeating the previous total_token_usage",
        ));
    }
    let usage = match usage {
        Some(u) if u.iter().any(|&n| n > 0) => u,
        _ => {
            return Err(Reject::new(
                RejectReason::NotACall,
                "token_count without tokens",
            ))
        }
    };
    let Some(model) = value(c, MODEL).or_else(|| state.model.clone().map(Cow::Owned)) else {
        return Err(Reject::new(
            RejectReason::MissingModel,
            "token_count before any turn_context names the model",
        ));
    };
    raw.timestamp = LTime(c.value(TIMESTAMP).clone().time());
    raw.provider = LStr(Lenient::Value(Cow::Borrowed("openai")));
    raw.model = LStr(Lenient::Value(model));
    if let Some(tier) = &state.tier {
        raw.service_tier = LStr(Lenient::Value(Cow::Owned(tier.clone())));
    }
    if let Some(s) = &state.session {
        raw.session = LStr(Lenient::Value(Cow::Owned(s.clone())));
    }
    if let Some(cwd) = &state.cwd {
        raw.feature = LStr(Lenient::Value(Cow::Owned(last_component(cwd).to_string())));
        raw.tags
            .push((Cow::Borrowed("project"), Cow::Owned(cwd.clone())));
    }
    let [input, cached, output, reasoning, written] = usage;
    raw.usage.responses_style = true;
    raw.usage.input_tokens = Lenient::Value(input);
    raw.usage.cached_tokens = Lenient::Value(cached);
    if written > 0 {
        raw.usage.cache_creation_input_tokens = Lenient::Value(written);
    }
    raw.usage.output_tokens = Lenient::Value(output);
    raw.usage.reasoning_tokens = Lenient::Value(reasoning);
    Ok(())
}

/// One call per token_count event across every file of the run: its
/// model, project, running total and last usage (a fork's or subagent's
/// copy of its parent's history repeats them all; a new call moves the
/// running total), and in a file that names no parent, its session. The
/// copy kept is the one in a file that names no parent (the original, with
/// its session and time; a subagent's copies are re-stamped), else the
/// first in input order.
fn key<'a>(
    c: &Captured<'_, 'a>,
    record: &tokenaudit_core::CallRecord<'a>,
    state: Option<&FileState>,
) -> Option<DedupKey> {
    let total = counts(c, TOTAL).ok().flatten();
    let last = counts(c, LAST).ok().flatten();
    if total.is_none() && last.is_none() {
        return None;
    }
    let project = record
        .tags
        .iter()
        .find(|(k, _)| k == "project")
        .map_or("", |(_, v)| v.as_ref());
    let id = format!("codex\0{}\0{project}\0{total:?}\0{last:?}", record.model);
    let state = state.and_then(|s| s.downcast_ref::<State>());
    let derived = state.is_some_and(|s| s.derived);
    if derived {
        // A copy in a derived file is a sidechain replay: it gives way to
        // an original's call with the same `id` (see `Dedup::finish_each`),
        // and copies in derived files are one call among themselves.
        return Some(DedupKey::new(&id, "", true, record));
    }
    // An original's call is its session's: two sessions whose calls happen
    // to have the same counts (`codex exec` with a fixed prompt in CI) are
    // two calls, while a session's archived copy is the same one.
    let session = state.and_then(|s| s.session.as_deref()).unwrap_or("");
    Some(DedupKey::new(&id, session, false, record).with_message(&id))
}

impl State {
    /// Reads one line of a file, in order, with this file's state.
    pub fn parse_line_str<'a>(
        &mut self,
        line: &'a str,
    ) -> Result<tokenaudit_core::CallRecord<'a>, Reject> {
        let mut state: FileState = Box::new(std::mem::take(self));
        let read = SPEC.parse_in_file(line, Some(&mut state));
        *self = *state.downcast().expect("a Codex state");
        read.map(|(record, _)| record)
    }

    /// The same for raw bytes.
    pub fn parse_line<'a>(
        &mut self,
        line: &'a [u8],
    ) -> Result<tokenaudit_core::CallRecord<'a>, Reject> {
        match std::str::from_utf8(line) {
            Ok(text) => self.parse_line_str(text),
            Err(_) => Err(Reject::new(RejectReason::MalformedJson, "invalid UTF-8")),
        }
    }
}

fn not_a_call(kind: &str) -> Reject {
    Reject::new(
        RejectReason::NotACall,
        format!("type {kind}: not a token_count event"),
    )
}

/// Whether a parsed JSON object looks like a Codex rollout line: a
/// `timestamp`, a rollout item `type` and a `payload` object.
pub fn looks_like(map: &serde_json::Map<String, serde_json::Value>) -> bool {
    map.contains_key("timestamp")
        && map.get("payload").is_some_and(|p| p.is_object())
        && matches!(
            map.get("type").and_then(|t| t.as_str()),
            Some("session_meta" | "turn_context" | "response_item" | "event_msg" | "compacted")
        )
}

/// The `codex` entry of the format registry (see [`crate::formats::REGISTRY`]).
pub static BUILTIN: Builtin = Builtin {
    name: "codex",
    aliases: &[],
    format: Format::Spec(&SPEC),
    detect: Detect::AnyLine {
        markers: &["\"payload\""],
        looks_like,
    },
    doc: "Codex session logs (~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl):\n\
         event_msg token_count events, usage from info.last_token_usage\n\
         (or the change in total_token_usage; cached inside input), the\n\
         model from the latest turn_context, the session from session_meta,\n\
         the feature: the project (last part of the session's cwd).\n\
         A token_count repeating the previous total is a duplicate; info\n\
         null and other lines are not_a_call.",
};

#[cfg(test)]
mod tests {
    use super::*;

    const META: &str = r#"{"timestamp":"2025-10-01T09:00:00.000Z","type":"session_meta","payload":{"id":"sess-1","timestamp":"2025-10-01T09:00:00.000Z","cwd":"/home/dev/api","originator":"codex_cli_rs","cli_version":"0.46.0","instructions":null}}"#;
    const TURN: &str = r#"{"timestamp":"2025-10-01T09:00:01.000Z","type":"turn_context","payload":{"cwd":"/home/dev/api","approval_policy":"on-request","sandbox_policy":{"mode":"workspace-write"},"model":"gpt-5-codex","effort":"medium","summary":"auto"}}"#;

    fn count(total: [u64; 4], last: [u64; 4]) -> String {
        let u = |c: [u64; 4]| {
            format!(
                r#"{{"input_tokens":{},"cached_input_tokens":{},"output_tokens":{},"reasoning_output_tokens":{},"total_tokens":{}}}"#,
                c[0],
                c[1],
                c[2],
                c[3],
                c[0] + c[2]
            )
        };
        format!(
            r#"{{"timestamp":"2025-10-01T09:00:05.000Z","type":"event_msg","payload":{{"type":"token_count","info":{{"total_token_usage":{},"last_token_usage":{},"model_context_window":272000}},"rate_limits":null}}}}"#,
            u(total),
            u(last)
        )
    }

    #[test]
    fn reads_token_counts_with_the_model_of_the_turn() {
        let mut s = State::default();
        let before = count([10, 0, 1, 0], [10, 0, 1, 0]);
        assert_eq!(
            s.parse_line_str(&before).unwrap_err().reason,
            RejectReason::MissingModel
        );
        assert_eq!(
            s.parse_line_str(META).unwrap_err().reason,
            RejectReason::NotACall
        );
        assert_eq!(
            s.parse_line_str(TURN).unwrap_err().reason,
            RejectReason::NotACall
        );
        let first = count([1010, 800, 101, 40], [1000, 800, 100, 40]);
        let r = s.parse_line_str(&first).unwrap();
        assert_eq!(r.model, "gpt-5-codex");
        assert_eq!(r.session.as_deref(), Some("sess-1"));
        assert_eq!(r.feature.as_deref(), Some("api"));
        // OpenAI convention: cached inside input, reasoning inside output.
        assert_eq!((r.usage.input, r.usage.cached_read), (1000, 800));
        assert_eq!((r.usage.output, r.usage.reasoning), (100, 40));
        // The same totals again: a repeat, not a call.
        assert_eq!(
            s.parse_line_str(&first).unwrap_err().reason,
            RejectReason::Duplicate
        );
        let null = r#"{"timestamp":"2025-10-01T09:00:06.000Z","type":"event_msg","payload":{"type":"token_count","info":null,"rate_limits":{"primary":{"used_percent":5.0,"window_minutes":300}}}}"#;
        assert_eq!(
            s.parse_line_str(null).unwrap_err().reason,
            RejectReason::NotACall
        );
    }
}
