//! Choosing a reader per file.
//!
//! This is the seam where log formats plug in: each [`Format`] turns one line
//! into a call record. Detection looks at the first lines of a file; a file
//! whose shape is not recognised is reported with the reason, never guessed.
//! New built-in formats add a variant here, a detection rule in [`detect`],
//! and a module with their reader.

use std::sync::Arc;

use tokenaudit_core::CallRecord;

use crate::gateway;
use crate::mapping::Mapping;
use crate::rejects::{Reject, RejectReason};
use crate::{claude_code, codex, helicone, langfuse, otel, provider};

/// How to read the lines of one file.
#[derive(Clone, Debug)]
pub enum Format {
    /// The generic gateway shape (see [`crate::gateway`]); also provider
    /// responses (OpenAI chat and Responses objects, Anthropic messages,
    /// Gemini `generateContent` responses) and LiteLLM spend logs.
    Gateway,
    /// OpenAI Batch API output lines (see [`crate::provider`]).
    OpenAiBatch,
    /// Anthropic Message Batches results (see [`crate::provider`]).
    AnthropicBatch,
    /// OpenTelemetry GenAI spans as OTLP JSON lines (see [`crate::otel`]):
    /// one line can hold many records.
    OtlpJson,
    /// Langfuse observation exports (see [`crate::langfuse`]).
    Langfuse,
    /// Helicone request exports (see [`crate::helicone`]).
    Helicone,
    /// Claude Code session logs (see [`crate::claude_code`]): records are
    /// deduplicated across files by the pipeline.
    ClaudeCode,
    /// Codex session logs (see [`crate::codex`]): read in order, one file
    /// per chunk, since a line's model is in an earlier line.
    Codex,
    /// The gateway reader with a user mapping on top.
    Mapped(Arc<Mapping>),
}

/// The built-in formats `--input-format` accepts, with what each reads.
pub const BUILTIN: [(&str, &str); 8] = [
    (
        "gateway",
        "gateway JSON lines; OpenAI, Anthropic and Gemini responses; LiteLLM spend logs",
    ),
    ("openai-batch", "OpenAI Batch API output files"),
    ("anthropic-batch", "Anthropic Message Batches results files"),
    ("otlp-json", "OpenTelemetry GenAI spans, OTLP JSON lines"),
    (
        "langfuse",
        "Langfuse observation exports (UI, API, blob storage)",
    ),
    (
        "helicone",
        "Helicone request exports (JSON, JSON lines, CSV)",
    ),
    (
        "claude-code",
        "Claude Code session logs (~/.claude/projects/**/*.jsonl)",
    ),
    (
        "codex",
        "Codex session logs (~/.codex/sessions/**/rollout-*.jsonl)",
    ),
];

impl Format {
    pub fn name(&self) -> &'static str {
        match self {
            Format::Gateway => "gateway",
            Format::OpenAiBatch => "openai-batch",
            Format::AnthropicBatch => "anthropic-batch",
            Format::OtlpJson => "otlp-json",
            Format::Langfuse => "langfuse",
            Format::Helicone => "helicone",
            Format::ClaudeCode => "claude-code",
            Format::Codex => "codex",
            Format::Mapped(_) => "mapped",
        }
    }

    /// A built-in format by its name (see [`BUILTIN`]).
    pub fn from_name(name: &str) -> Option<Format> {
        match name.trim().to_ascii_lowercase().as_str() {
            "gateway" => Some(Format::Gateway),
            "openai-batch" => Some(Format::OpenAiBatch),
            "anthropic-batch" => Some(Format::AnthropicBatch),
            "otlp-json" | "otlp" | "otel" => Some(Format::OtlpJson),
            "langfuse" => Some(Format::Langfuse),
            "helicone" => Some(Format::Helicone),
            "claude-code" | "claude" => Some(Format::ClaudeCode),
            "codex" => Some(Format::Codex),
            _ => None,
        }
    }

    /// Reads one line, passing each record (or reject) to `emit`: once for
    /// every format but OTLP, whose lines hold many spans. `text` is the line
    /// when the chunk is valid UTF-8 (the fast path), `raw` its bytes.
    #[inline]
    pub fn read_line<'a>(
        &self,
        text: Option<&'a str>,
        raw: &'a [u8],
        mut emit: impl FnMut(Result<CallRecord<'a>, Reject>),
    ) {
        match (self, text) {
            (Format::OtlpJson, Some(t)) => otel::parse_line_each(t, &mut emit),
            (Format::OtlpJson, None) => match std::str::from_utf8(raw) {
                Ok(t) => otel::parse_line_each(t, &mut emit),
                Err(_) => emit(Err(Reject::new(
                    RejectReason::MalformedJson,
                    "invalid UTF-8",
                ))),
            },
            (_, Some(t)) => emit(self.parse_line_str(t)),
            (_, None) => emit(self.parse_line(raw)),
        }
    }

    /// Whether a file of this format must be read in order as one chunk.
    pub fn whole_file(&self) -> bool {
        matches!(self, Format::Codex)
    }

    /// Reads a line that holds one record. For OTLP lines, which can hold
    /// many, this is the first record (use [`Format::read_line`]).
    pub fn parse_line<'a>(&self, line: &'a [u8]) -> Result<CallRecord<'a>, Reject> {
        match self {
            Format::Gateway => gateway::parse_line(line),
            Format::OpenAiBatch => provider::parse_openai_batch(line),
            Format::AnthropicBatch => provider::parse_anthropic_batch(line),
            Format::OtlpJson => first_record(self, None, line),
            Format::Langfuse => langfuse::parse_line(line),
            Format::Helicone => helicone::parse_line(line),
            Format::ClaudeCode => claude_code::parse_line(line).map(|(r, _)| r),
            Format::Codex => codex::State::default().parse_line(line),
            Format::Mapped(m) => m.parse_line(line),
        }
    }

    /// The same for a line already validated as UTF-8 (the fast path).
    pub fn parse_line_str<'a>(&self, line: &'a str) -> Result<CallRecord<'a>, Reject> {
        match self {
            Format::Gateway => gateway::parse_line_str(line),
            Format::OpenAiBatch => provider::parse_openai_batch_str(line),
            Format::AnthropicBatch => provider::parse_anthropic_batch_str(line),
            Format::OtlpJson => first_record(self, Some(line), line.as_bytes()),
            Format::Langfuse => langfuse::parse_line_str(line),
            Format::Helicone => helicone::parse_line_str(line),
            Format::ClaudeCode => claude_code::parse_line_str(line).map(|(r, _)| r),
            Format::Codex => codex::State::default().parse_line_str(line),
            Format::Mapped(m) => m.parse_line_str(line),
        }
    }
}

fn first_record<'a>(
    format: &Format,
    text: Option<&'a str>,
    raw: &'a [u8],
) -> Result<CallRecord<'a>, Reject> {
    let mut first = None;
    format.read_line(text, raw, |r| {
        if first.is_none() {
            first = Some(r);
        }
    });
    first.unwrap_or_else(|| Err(Reject::new(RejectReason::NoGenAiSpans, "no spans")))
}

/// Recognises the provider and OpenTelemetry shapes from the first JSON
/// object line: these have keys no gateway line has together.
fn detect_shape(head: &[u8]) -> Option<Format> {
    if let Some(f) = detect_agent_log(head) {
        return Some(f);
    }
    let line = head
        .split(|&b| b == b'\n')
        .map(|l| l.trim_ascii())
        .find(|l| l.first() == Some(&b'{'))?;
    let map: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(line).ok()?;
    let has = |k: &str| map.contains_key(k);
    if map.contains_key("resourceSpans") {
        Some(Format::OtlpJson)
    } else if (has("traceId") || has("trace_id")) && has("type") {
        // Langfuse observations: the trace id and observation type together.
        Some(Format::Langfuse)
    } else if has("request_created_at") && has("response_status") {
        Some(Format::Helicone)
    } else if map.contains_key("custom_id") && map.contains_key("result") {
        Some(Format::AnthropicBatch)
    } else if map.contains_key("custom_id")
        && matches!(
            map.get("response"),
            Some(serde_json::Value::Object(_) | serde_json::Value::Null)
        )
    {
        Some(Format::OpenAiBatch)
    } else {
        None
    }
}

/// Recognises Claude Code and Codex session logs from any of the first
/// lines: their files can open with bookkeeping lines of kinds added in
/// later versions. Only lines naming their marker keys are parsed.
fn detect_agent_log(head: &[u8]) -> Option<Format> {
    let finder = |k: &'static [u8]| memchr::memmem::Finder::new(k);
    let markers = [
        finder(b"\"sessionId\""),
        finder(b"\"leafUuid\""),
        finder(b"\"payload\""),
    ];
    for line in head
        .split(|&b| b == b'\n')
        .map(|l| l.trim_ascii())
        .filter(|l| l.first() == Some(&b'{'))
        .take(SAMPLE_LINES)
    {
        if !markers.iter().any(|m| m.find(line).is_some()) {
            continue;
        }
        let Ok(map) = serde_json::from_slice::<serde_json::Map<_, _>>(line) else {
            continue;
        };
        if claude_code::looks_like(&map) {
            return Some(Format::ClaudeCode);
        }
        if codex::looks_like(&map) {
            return Some(Format::Codex);
        }
    }
    None
}

/// How many non-blank lines detection looks at.
const SAMPLE_LINES: usize = 50;

/// Picks the format for a file from its first lines.
///
/// With a mapping, the mapping is used. A first JSON object line with
/// `resourceSpans` is OTLP JSON; with `traceId` (or `trace_id`) and `type`, a
/// Langfuse observation; with `request_created_at` and `response_status`, a
/// Helicone request; with `custom_id` and `result`, an Anthropic
/// batch result; with `custom_id` and a `response` object (or null), an OpenAI
/// batch output line; a Claude Code or Codex session line (see
/// `claude_code::looks_like`, `codex::looks_like`), that agent's log.
/// Otherwise the gateway reader is used
/// if any sampled line yields a record, or if no sampled line is a JSON object
/// at all (then each line is rejected and counted as malformed). A file whose
/// lines are JSON objects but none has a model and usage is unrecognised: the
/// error names the keys seen so the user can write a mapping.
pub fn detect(head: &[u8], mapping: Option<&Arc<Mapping>>) -> Result<Format, String> {
    if let Some(m) = mapping {
        return Ok(Format::Mapped(m.clone()));
    }
    if let Some(f) = detect_shape(head) {
        return Ok(f);
    }
    let mut objects = 0;
    let mut first_keys: Option<Vec<String>> = None;
    for line in head
        .split(|&b| b == b'\n')
        .filter(|l| l.iter().any(|b| !b.is_ascii_whitespace()))
        .take(SAMPLE_LINES)
    {
        match gateway::parse_line(line) {
            Ok(_) => return Ok(Format::Gateway),
            Err(Reject { reason, .. }) => {
                if matches!(
                    reason,
                    RejectReason::MalformedJson | RejectReason::NotAnObject
                ) {
                    continue;
                }
                objects += 1;
                // Rejections for bad values mean the shape was recognised.
                if !matches!(
                    reason,
                    RejectReason::MissingModel | RejectReason::MissingUsage
                ) {
                    return Ok(Format::Gateway);
                }
                if first_keys.is_none() {
                    if let Ok(serde_json::Value::Object(m)) = serde_json::from_slice(line) {
                        first_keys = Some(m.keys().take(12).cloned().collect());
                    }
                }
            }
        }
    }
    if objects == 0 {
        return Ok(Format::Gateway);
    }
    Err(format!(
        "no line has both a model and token usage in a shape tokenaudit knows (keys seen: {}); \
         describe the fields in a [mapping] table of --config (see `tokenaudit formats`)",
        first_keys.unwrap_or_default().join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_gateway_and_refuses_to_guess() {
        let gw =
            b"{\"model\":\"gpt-4o\",\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2}}\n";
        assert!(matches!(detect(gw, None), Ok(Format::Gateway)));
        let garbage = b"\x00\x01\x02\nnot json\n";
        assert!(matches!(detect(garbage, None), Ok(Format::Gateway)));
        let trace = b"{\"timestamp\": 0, \"input_length\": 6758, \"output_length\": 500}\n";
        let err = detect(trace, None).unwrap_err();
        assert!(err.contains("input_length"), "{err}");
    }

    #[test]
    fn detects_agent_logs_past_unknown_first_lines() {
        let claude = b"{\"type\":\"queue-operation\",\"operation\":\"enqueue\",\"timestamp\":\"2025-10-01T10:00:00.000Z\"}\n{\"parentUuid\":null,\"sessionId\":\"s\",\"type\":\"user\",\"uuid\":\"u\"}\n";
        assert!(matches!(detect(claude, None), Ok(Format::ClaudeCode)));
        let codex = b"{\"timestamp\":\"2025-10-01T09:00:00.000Z\",\"type\":\"session_meta\",\"payload\":{\"id\":\"x\"}}\n";
        assert!(matches!(detect(codex, None), Ok(Format::Codex)));
    }
}
