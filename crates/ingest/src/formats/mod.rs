//! The formats: one module per log format, and the registry that lists the
//! built-in ones.
//!
//! Each built-in format's module defines a [`Builtin`]: its name for
//! `--input-format`, how detection recognises it from a file's first lines,
//! and what `tokenaudit formats` says of it; [`REGISTRY`] lists them, and
//! `--input-format`'s values, `tokenaudit formats` and detection are all
//! read from it. A [`Format`] chosen per file turns each line into a call
//! record. A file whose shape is not recognised is reported with the reason,
//! never guessed.
//!
//! Adding a format: a module here with its [`Spec`] (where each field is,
//! and a hook for what is not a path) and its `Builtin` with
//! `format: Format::Spec(&SPEC)`, and a line in [`REGISTRY`]. Formats not
//! yet written as specs have a reader of their own and a [`Format`]
//! variant.

pub mod bedrock;
pub mod claude_code;
pub mod codex;
pub mod gateway;
pub mod helicone;
pub mod kong;
pub mod langfuse;
pub mod mapping;
pub(crate) mod mapping_scan;
pub mod openrouter;
pub mod otel;
pub mod provider;

use std::sync::Arc;

use tokenaudit_core::CallRecord;

use crate::engine::Spec;
use crate::rejects::{Reject, RejectReason};
use mapping::Mapping;

/// How to read the lines of one file.
#[derive(Clone, Debug)]
pub enum Format {
    /// The generic gateway shape (see [`crate::formats::gateway`]); also provider
    /// responses (OpenAI chat and Responses objects, Anthropic messages,
    /// Gemini `generateContent` responses) and LiteLLM spend logs.
    Gateway,
    /// OpenAI Batch API output lines (see [`crate::formats::provider`]).
    OpenAiBatch,
    /// Gemini Batch API and Vertex AI batch prediction output lines (see
    /// [`crate::formats::provider`]).
    GeminiBatch,
    /// Anthropic Message Batches results (see [`crate::formats::provider`]).
    AnthropicBatch,
    /// Amazon Bedrock batch inference output lines (see
    /// [`crate::formats::provider`]).
    BedrockBatch,
    /// OpenTelemetry GenAI spans as OTLP JSON lines (see [`crate::formats::otel`]):
    /// one line can hold many records.
    OtlpJson,
    /// A format written as data, read by the one engine (see
    /// [`crate::engine`]): Helicone, Langfuse, Claude Code (whose records
    /// carry a dedup key, see [`Format::deduplicated`]) and Codex (whose
    /// lines need the lines before: see [`Format::whole_file`]).
    Spec(&'static Spec),
    /// The gateway reader with a user mapping on top.
    Mapped(Arc<Mapping>),
}

/// A built-in format: what `--input-format` calls it, how detection
/// recognises it, and what `tokenaudit formats` says of it.
pub struct Builtin {
    /// Its `--input-format` value.
    pub name: &'static str,
    /// Other names `--input-format` accepts.
    pub aliases: &'static [&'static str],
    pub format: Format,
    pub detect: Detect,
    /// What `tokenaudit formats` prints after the name (each line indented
    /// under the first).
    pub doc: &'static str,
}

/// A JSON object line as detection sees it.
pub type JsonObject = serde_json::Map<String, serde_json::Value>;

/// How detection recognises a format from a file's first lines.
pub enum Detect {
    /// The format of a file no other rule claims, if any sampled line reads
    /// as a record (the gateway reader; see [`detect`]).
    Fallback,
    /// Keys of the first JSON object line.
    FirstLine(fn(&JsonObject) -> bool),
    /// Any of the first lines that names one of `markers` (agent logs can
    /// open with bookkeeping lines of kinds added in later versions; only
    /// lines with a marker are parsed).
    AnyLine {
        markers: &'static [&'static str],
        looks_like: fn(&JsonObject) -> bool,
    },
}

/// The built-in formats. Detection tries the [`Detect::AnyLine`] rules, then
/// the [`Detect::FirstLine`] rules, each in this order, then the fallback.
pub static REGISTRY: [&Builtin; 13] = [
    &gateway::BUILTIN,
    &otel::BUILTIN,
    &langfuse::BUILTIN,
    &helicone::BUILTIN,
    &bedrock::BUILTIN,
    &kong::BUILTIN,
    &openrouter::BUILTIN,
    &provider::ANTHROPIC_BATCH,
    &provider::OPENAI_BATCH,
    &provider::GEMINI_BATCH,
    &provider::BEDROCK_BATCH,
    &claude_code::BUILTIN,
    &codex::BUILTIN,
];

/// The built-in formats as `tokenaudit formats` lists them: each name, then
/// its doc, indented under it.
pub fn describe() -> String {
    let mut out = String::new();
    for b in REGISTRY {
        let mut lines = b.doc.lines();
        if b.name.len() < 10 {
            out.push_str(&format!("  {:<9} {}\n", b.name, lines.next().unwrap_or("")));
        } else {
            out.push_str(&format!("  {}\n", b.name));
        }
        for line in lines {
            out.push_str(&format!("            {line}\n"));
        }
        if let Format::Spec(spec) = &b.format {
            out.push_str("            Read from (first path with a value wins):\n");
            for line in spec.describe() {
                out.push_str(&format!("              {line}\n"));
            }
        }
        out.push('\n');
    }
    out
}

impl Format {
    /// Its name in the registry, or `mapped`.
    pub fn name(&self) -> &'static str {
        REGISTRY
            .iter()
            .find(|b| b.format.same(self))
            .map_or("mapped", |b| b.name)
    }

    /// Whether two formats read alike: the same variant, and for a spec the
    /// same spec.
    fn same(&self, other: &Format) -> bool {
        match (self, other) {
            (Format::Spec(a), Format::Spec(b)) => std::ptr::eq(*a, *b),
            _ => std::mem::discriminant(self) == std::mem::discriminant(other),
        }
    }

    /// A built-in format by its name or one of its aliases (see [`REGISTRY`]).
    pub fn from_name(name: &str) -> Option<Format> {
        let name = name.trim().to_ascii_lowercase();
        REGISTRY
            .iter()
            .find(|b| b.name == name || b.aliases.contains(&name.as_str()))
            .map(|b| b.format.clone())
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

    /// Whether the format's records carry a dedup key: the pipeline holds
    /// them back and keeps one per key across every file of the run
    /// (Claude Code).
    pub fn deduplicated(&self) -> bool {
        matches!(self, Format::Spec(spec) if spec.key.is_some())
    }

    /// Whether a file of this format must be read in order as one chunk.
    pub fn whole_file(&self) -> bool {
        matches!(self, Format::Spec(spec) if spec.state.is_some())
    }

    /// Reads a line that holds one record. For OTLP lines, which can hold
    /// many, this is the first record (use [`Format::read_line`]).
    pub fn parse_line<'a>(&self, line: &'a [u8]) -> Result<CallRecord<'a>, Reject> {
        match self {
            Format::Gateway => gateway::parse_line(line),
            Format::OpenAiBatch => provider::parse_openai_batch(line),
            Format::GeminiBatch => provider::parse_gemini_batch(line),
            Format::BedrockBatch => provider::parse_bedrock_batch(line),
            Format::AnthropicBatch => provider::parse_anthropic_batch(line),
            Format::OtlpJson => first_record(self, None, line),
            Format::Spec(spec) => spec.parse_line(line),
            Format::Mapped(m) => m.parse_line(line),
        }
    }

    /// The same for a line already validated as UTF-8 (the fast path).
    pub fn parse_line_str<'a>(&self, line: &'a str) -> Result<CallRecord<'a>, Reject> {
        match self {
            Format::Gateway => gateway::parse_line_str(line),
            Format::OpenAiBatch => provider::parse_openai_batch_str(line),
            Format::GeminiBatch => provider::parse_gemini_batch_str(line),
            Format::BedrockBatch => provider::parse_bedrock_batch_str(line),
            Format::AnthropicBatch => provider::parse_anthropic_batch_str(line),
            Format::OtlpJson => first_record(self, Some(line), line.as_bytes()),
            Format::Spec(spec) => spec.parse_line_str(line),
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

/// The first lines' JSON object lines, at most [`SAMPLE_LINES`].
fn object_lines(head: &[u8]) -> impl Iterator<Item = &[u8]> {
    head.split(|&b| b == b'\n')
        .map(|l| l.trim_ascii())
        .filter(|l| l.first() == Some(&b'{'))
}

/// The format a [`Detect::AnyLine`] or [`Detect::FirstLine`] rule claims
/// the file for.
fn detect_shape(head: &[u8]) -> Option<Format> {
    let any_line = || {
        REGISTRY.iter().filter_map(|b| match b.detect {
            Detect::AnyLine {
                markers,
                looks_like,
            } => Some((b, markers, looks_like)),
            _ => None,
        })
    };
    let finders: Vec<_> = any_line()
        .flat_map(|(_, markers, _)| markers.iter())
        .map(|m| memchr::memmem::Finder::new(m.as_bytes()))
        .collect();
    for line in object_lines(head).take(SAMPLE_LINES) {
        if !finders.iter().any(|m| m.find(line).is_some()) {
            continue;
        }
        let Some(map) = json_object(line) else {
            continue;
        };
        if let Some((b, ..)) = any_line().find(|(_, _, looks_like)| looks_like(&map)) {
            return Some(b.format.clone());
        }
    }
    // The first line that is a JSON object: a damaged first line (junk or
    // NUL padding after its value) does not decide the format.
    let map = object_lines(head)
        .take(SAMPLE_LINES)
        .find_map(json_object)?;
    REGISTRY
        .iter()
        .find(|b| matches!(b.detect, Detect::FirstLine(looks_like) if looks_like(&map)))
        .map(|b| b.format.clone())
}

/// A line as a JSON object, read as the pipeline reads it: with lone
/// UTF-16 surrogate escapes mended when it fails over them (a first line
/// Node cut in an emoji decides the format as the others would).
fn json_object(line: &[u8]) -> Option<JsonObject> {
    serde_json::from_slice::<JsonObject>(line).ok().or_else(|| {
        let mended = crate::json::mend_line(line)?;
        serde_json::from_slice::<JsonObject>(&mended).ok()
    })
}

/// How many non-blank lines detection looks at.
const SAMPLE_LINES: usize = 50;

/// Picks the format for a file from its first lines.
///
/// With a mapping, the mapping is used, unless a built-in format's own
/// rules (the registry's, below) recognise the file. Otherwise the registry's rules are
/// tried (see [`REGISTRY`]): a session line of an agent log among the first
/// lines (Claude Code, Codex), then the keys of the first JSON object line
/// (`resourceSpans`: OTLP JSON; one of Langfuse's observation types with
/// `traceId` or `trace_id`, or with its start time and usage or cost
/// details: a Langfuse observation; `request_created_at` with `response_status`: a
/// Helicone request; `custom_id` with `result`: an Anthropic batch result;
/// `custom_id` with a `response` object or null: an OpenAI batch output).
/// Otherwise the gateway reader is used
/// if any line of the head yields a record, or if none is a JSON object at
/// all (then each line is rejected and counted as malformed). A file whose
/// head's lines are JSON objects but none has a model and usage is
/// unrecognised: the error names the keys seen so the user can write a
/// mapping.
pub fn detect(head: &[u8], mapping: Option<&Arc<Mapping>>) -> Result<Format, String> {
    if let Some(m) = mapping {
        // A file a built-in reader of its own recognises (batch output, an
        // agent's sessions, OTLP, an export of a named tool) is read by it:
        // a mapping describes the other shapes (hunt139's bug3: with a
        // feature mapping for the gateway logs beside them, OpenAI batch
        // output was priced at real-time rates and Anthropic's batch
        // results and Claude Code's sessions rejected).
        // (Unless the mapping is written for the file: one of its paths
        // holds a value in the first record, or it gives a default model,
        // hunt146's bugs 5 and 9.)
        if let Some(f) = detect_shape(head) {
            let first = object_lines(head).take(SAMPLE_LINES).find_map(json_object);
            let described = first.is_some_and(|r| m.describes(&serde_json::Value::Object(r)));
            if !described && !matches!(f, Format::Gateway | Format::Mapped(_)) {
                return Ok(f);
            }
        }
        return Ok(Format::Mapped(m.clone()));
    }
    if let Some(f) = detect_shape(head) {
        return Ok(f);
    }
    // Every line of the head, not only the sample: logs that interleave
    // calls with other events (health checks, application logs) may open
    // with many lines that are not calls.
    let (mut objects, mut lines) = (0, 0);
    let mut first_keys: Option<Vec<String>> = None;
    for line in head
        .split(|&b| b == b'\n')
        .filter(|l| l.iter().any(|b| !b.is_ascii_whitespace()))
    {
        lines += 1;
        // Parsed once; again, mended, only when it fails as JSON over lone
        // surrogate escapes.
        let mended;
        let mut line = line;
        let mut read = gateway::parse_line(line).map(|_| ()).map_err(|r| r.reason);
        if read == Err(RejectReason::MalformedJson) {
            if let Some(m) = crate::json::mend_line(line) {
                mended = m;
                line = &mended[..];
                read = gateway::parse_line(line).map(|_| ()).map_err(|r| r.reason);
            }
        }
        match read {
            Ok(()) => return Ok(Format::Gateway),
            Err(reason) => {
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
                        first_keys = Some(m.keys().cloned().collect());
                    }
                }
            }
        }
    }
    if objects == 0 {
        return Ok(Format::Gateway);
    }
    let keys: Vec<String> = first_keys.unwrap_or_default();
    if let Some(what) = usage_report(head, &keys) {
        return Err(format!(
            "it is {what}: sums over many requests, which tokenaudit does not price as calls \
             (a call's price can depend on its own size: a long-context tier), and a [mapping] \
             would price each sum as one call; audit the per-call logs instead (a gateway's, \
             the API's responses, a tracing tool's export)"
        ));
    }
    // The keys a mapping would name first (tokens, usage, cost, model,
    // time), then the others, 12 in all (hunt91: the first 12 in
    // alphabetical order left out `usage`, `totalCost` and `requests`).
    let shown = {
        // By its words (`totalCost`: total, cost; `prompt_tokens`).
        let telling = |k: &str| {
            let mut words = Vec::new();
            let mut word = String::new();
            for c in k.chars() {
                if c.is_ascii_uppercase() || !c.is_ascii_alphanumeric() {
                    words.push(std::mem::take(&mut word));
                }
                if c.is_ascii_alphanumeric() {
                    word.push(c.to_ascii_lowercase());
                }
            }
            words.push(word);
            words.iter().any(|w| {
                w.starts_with("token")
                    || [
                        "usage",
                        "cost",
                        "model",
                        "time",
                        "timestamp",
                        "date",
                        "created",
                        "units",
                        "spend",
                        "requests",
                        "price",
                    ]
                    .contains(&w.as_str())
            })
        };
        let mut shown: Vec<&str> = keys
            .iter()
            .map(String::as_str)
            .filter(|k| telling(k))
            .collect();
        shown.extend(keys.iter().map(String::as_str).filter(|k| !telling(k)));
        let more = shown.len().saturating_sub(12);
        shown.truncate(12);
        let mut text = shown.join(", ");
        if more > 0 {
            text += &format!(" and {more} more");
        }
        text
    };
    // Upper-case names (a warehouse's unload: Snowflake's MODEL,
    // PROMPT_TOKENS) are the gateway's names in another case, which it
    // does not read: a mapping names them. The lines to write, by what
    // each name is.
    let mapped: Vec<String> = keys
        .iter()
        .filter(|k| upper_case(k))
        .filter_map(|k| {
            use gateway::{usage_key, Field, UsageKey as U};
            let lower = k.to_ascii_lowercase();
            let name = match gateway::field(&lower) {
                Field::Model => "model",
                Field::Timestamp => "timestamp",
                Field::Provider => "provider",
                Field::Feature => "feature",
                Field::Route => "route",
                Field::Team => "team",
                Field::User => "user",
                Field::Session => "session",
                Field::UsageKey => match usage_key(&lower) {
                    U::PromptTokens | U::InputTokens | U::PromptTokenCount => "input_tokens",
                    U::CompletionTokens | U::OutputTokens | U::CandidatesTokenCount => {
                        "output_tokens"
                    }
                    U::CacheRead | U::Cached | U::CachedContentTokenCount => "cached_read_tokens",
                    _ => return None,
                },
                _ => return None,
            };
            Some(format!("{name} = \"{k}\""))
        })
        .collect();
    // Records, not lines: a JSON array's or an API page's are no lines
    // (hunt98: "none of the first 1 lines" of a pretty-printed record).
    let none = match lines {
        1 => "its one record has no model and token usage".to_string(),
        n => format!("none of the first {n} records has both a model and token usage"),
    };
    if mapped.len() >= 2 {
        return Err(format!(
            "{none} in a shape \
             tokenaudit knows: its keys are in upper case ({}), and tokenaudit reads the \
             lower-case names; map them in a [mapping] table of --config ({}; see \
             `tokenaudit formats`), or lower-case the header",
            shown,
            mapped.join(", ")
        ));
    }
    Err(format!(
        "{none} in a shape tokenaudit \
         knows (keys seen: {}); describe the fields in a [mapping] table of --config (see \
         `tokenaudit formats`), or read the file as a gateway log with --input-format gateway",
        shown
    ))
}

/// A key in upper case (a warehouse's unload: Snowflake's `MODEL`).
fn upper_case(k: &str) -> bool {
    k.bytes().any(|b| b.is_ascii_uppercase()) && !k.bytes().any(|b| b.is_ascii_lowercase())
}

/// What an aggregated usage or cost report is, when the head is one
/// (hunt123: OpenAI's organization usage and costs pages and Anthropic's
/// usage report were "a shape tokenaudit does not know", and the user sent
/// to write a mapping): a page of time buckets of results, or rows that
/// count their requests.
fn usage_report(head: &[u8], keys: &[String]) -> Option<&'static str> {
    let counted = ["n_requests", "num_model_requests", "api_requests"];
    if keys.iter().any(|k| counted.contains(&k.as_str())) {
        return Some("a usage report's rows (each counts its requests)");
    }
    // In upper case (a warehouse's unload of Anthropic's usage report:
    // `ENDING_AT`, `CONTEXT_WINDOW`), which the gateway reads as no key:
    // a mapping of it would price each bucket as one call (hunt166: 1.76×).
    if keys.iter().filter(|k| upper_case(k)).any(|k| {
        let lower = k.to_ascii_lowercase();
        counted.contains(&lower.as_str()) || matches!(lower.as_str(), "ending_at" | "request_count")
    }) {
        return Some("a usage report's rows (each sums a time bucket's or a day's requests)");
    }
    if !keys.iter().any(|k| k == "data") {
        return None;
    }
    let first = head
        .split(|&b| b == b'\n')
        .find(|l| l.iter().any(|b| !b.is_ascii_whitespace()))?;
    let page: serde_json::Value = serde_json::from_slice(first).ok()?;
    let bucket = page.get("data")?.as_array()?.first()?;
    let timed = ["start_time", "starting_at", "end_time", "ending_at"]
        .iter()
        .any(|k| bucket.get(k).is_some());
    (timed
        && bucket
            .get("results")
            .is_some_and(serde_json::Value::is_array))
    .then_some(
        "a usage or cost report's page of time buckets (an organization usage or cost API's)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The registry holds `--input-format`'s names, detection and
    /// `tokenaudit formats` together: each built-in format is found by its
    /// names, listed under its name, and detected on its fixture.
    #[test]
    fn each_builtin_is_named_listed_and_detected_from_the_registry() {
        let fixtures = [
            ("gateway", "openai-chat/pairs.jsonl"),
            ("otlp-json", "otlp-json/traces.jsonl"),
            ("langfuse", "langfuse/observations.jsonl"),
            ("helicone", "helicone/requests.jsonl"),
            ("bedrock", "bedrock/invocations.jsonl"),
            ("kong", "kong/kong-file-log.jsonl"),
            ("openrouter", "openrouter/generations.jsonl"),
            ("anthropic-batch", "anthropic-batch/results.jsonl"),
            ("openai-batch", "openai-batch/batch_output.jsonl"),
            ("gemini-batch", "gemini-batch/predictions.jsonl"),
            ("bedrock-batch", "bedrock-batch/records.jsonl.out"),
            (
                "claude-code",
                "claude-code/projects/-home-dev-shop/9d04b2f1-5c3e-4a7b-8f61-0e2d3c4b5a69.jsonl",
            ),
            (
                "codex",
                "codex/sessions/2025/10/01/rollout-2025-10-01T09-00-00-0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b.jsonl",
            ),
        ];
        let names: Vec<&str> = REGISTRY.iter().map(|b| b.name).collect();
        assert_eq!(names, fixtures.map(|(n, _)| n), "one fixture per entry");
        let text = describe();
        for b in REGISTRY {
            assert_eq!(b.format.name(), b.name);
            for name in std::iter::once(&b.name).chain(b.aliases) {
                let found = Format::from_name(&format!(" {} ", name.to_uppercase()));
                assert_eq!(found.map(|f| f.name()), Some(b.name), "{name}");
            }
            let first_line = b.doc.lines().next().unwrap();
            assert_eq!(
                text.lines()
                    .filter(|l| {
                        l.starts_with(&format!("  {} ", b.name)) || *l == format!("  {}", b.name)
                    })
                    .count(),
                1,
                "{} listed once",
                b.name
            );
            assert!(text.contains(first_line), "{}", b.name);
            let (_, path) = fixtures.iter().find(|(n, _)| *n == b.name).unwrap();
            let path = format!(
                "{}/../../tests/fixtures/formats/{path}",
                env!("CARGO_MANIFEST_DIR")
            );
            let head = std::fs::read(&path).unwrap();
            assert_eq!(detect(&head, None).map(|f| f.name()), Ok(b.name), "{path}");
        }
        assert_eq!(Format::from_name("mapped").map(|f| f.name()), None);
        // The report's JSON schema names every format a file row can say.
        let schema = std::fs::read_to_string(format!(
            "{}/../../docs/report-json.schema.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let schema: serde_json::Value = serde_json::from_str(&schema).unwrap();
        let said = schema["$defs"]["FileRow"]["properties"]["format"]["description"]
            .as_str()
            .unwrap();
        for name in REGISTRY.iter().map(|b| b.name).chain(["mapped"]) {
            assert!(
                said.contains(&format!("`{name}`")),
                "the schema does not name {name}"
            );
        }
        // A spec format's fields are listed from the spec itself, and every
        // spec compiles (a path read two ways would panic here).
        for b in REGISTRY {
            if let Format::Spec(spec) = &b.format {
                assert!(spec.parse_line_str("{}").is_err(), "{}", b.name);
                for line in spec.describe() {
                    assert!(text.contains(&line), "{line}");
                }
            }
        }
    }

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

    /// Calls after many lines of other events (a log that interleaves
    /// them): the head is read past the sample.
    #[test]
    fn detects_gateway_calls_after_other_events() {
        let mut log = String::new();
        for _ in 0..(3 * SAMPLE_LINES) {
            log.push_str(
                "{\"ts\":\"2025-10-01T09:00:00Z\",\"level\":\"info\",\"msg\":\"healthcheck ok\"}\n",
            );
        }
        let events = detect(log.as_bytes(), None).unwrap_err();
        assert!(
            events.starts_with("none of the first 150 records"),
            "{events}"
        );
        log.push_str(
            "{\"model\":\"gpt-4o\",\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2}}\n",
        );
        assert!(matches!(detect(log.as_bytes(), None), Ok(Format::Gateway)));
    }

    #[test]
    fn detects_agent_logs_past_unknown_first_lines() {
        let claude = b"{\"type\":\"queue-operation\",\"operation\":\"enqueue\",\"timestamp\":\"2025-10-01T10:00:00.000Z\"}\n{\"parentUuid\":null,\"isSidechain\":false,\"sessionId\":\"s\",\"type\":\"user\",\"uuid\":\"u\"}\n";
        assert_eq!(detect(claude, None).map(|f| f.name()), Ok("claude-code"));
        let codex = b"{\"timestamp\":\"2025-10-01T09:00:00.000Z\",\"type\":\"session_meta\",\"payload\":{\"id\":\"x\"}}\n";
        assert_eq!(detect(codex, None).map(|f| f.name()), Ok("codex"));
    }
}
