//! OpenTelemetry GenAI spans, exported as OTLP JSON lines (one
//! `ExportTraceServiceRequest` per line, as the collector's file exporter
//! writes them): `resourceSpans[].scopeSpans[].spans[]` (before OTLP 0.15,
//! `instrumentationLibrarySpans`).
//!
//! One line holds many spans, so this reader emits one record per GenAI span
//! (a span with a `gen_ai.request.model`, `gen_ai.response.model` or
//! `gen_ai.usage.*` attribute). A line with none is one counted
//! [`RejectReason::NoGenAiSpans`], so every line still ends as records or a
//! counted reject. Agent, workflow and tool spans (`gen_ai.operation.name` =
//! `invoke_agent`, `create_agent`, `execute_tool`, `invoke_workflow`; an
//! agent's name with usage but no model, as pydantic-ai's agent runs before
//! they named the operation) are not calls: the usage they may carry sums
//! their child model calls, which are spans of their own.
//!
//! Attributes read: the model (`gen_ai.response.model` when the price
//! catalog knows it, else `gen_ai.request.model`), the provider (`gen_ai.provider.name`, older
//! `gen_ai.system`), tokens (`gen_ai.usage.input_tokens` including cached
//! tokens, as the conventions say; `cache_read.input_tokens`,
//! `cache_creation.input_tokens` (also OpenLLMetry's
//! `cache_read_input_tokens`/`cache_creation_input_tokens` and pydantic-ai's
//! `details.cache_read_tokens`/`details.cache_write_tokens`, the Vercel AI
//! SDK's `ai.usage.cachedInputTokens` and `ai.usage.inputTokenDetails.*`,
//! Sentry's `input_tokens.cached`), `output_tokens`,
//! `reasoning.output_tokens`), the provider in lower case,
//! and OpenInference's (Arize Phoenix) `llm.model_name`, `llm.provider`,
//! `llm.token_count.*` and `llm.cost.total` on its LLM and EMBEDDING spans
//! (`openinference.span.kind`; its AGENT, CHAIN and TOOL spans are not calls),
//! the draft convention before `gen_ai.*` (`llm.request.model`,
//! `llm.usage.prompt_tokens`, `llm.vendor`), Strands Agents' cache writes
//! (`gen_ai.usage.cache_write_input_tokens`) and its input without the
//! cache (told by a `gen_ai.usage.total_tokens` that adds the cache to
//! input and output), OpenLLMetry's user and chat
//! (`traceloop.association.properties.*`) and workflow
//! (`traceloop.workflow.name`, the feature after a `feature` attribute and
//! the AI SDK's function id),
//! the Vercel AI SDK's embedding calls (`ai.operationId` `ai.embed.doEmbed`
//! or `ai.embedMany.doEmbed`: `ai.model.id` and the input in
//! `ai.usage.tokens`; its outer `ai.generateText`, `ai.embedMany` and tool
//! spans sum their calls and are not calls),
//! `gen_ai.response.id`, `gen_ai.conversation.id` (or `session.id`, or the
//! AI SDK's `ai.telemetry.metadata.sessionId`), `user.id` (or
//! `ai.telemetry.metadata.userId`), the feature (a `feature` attribute, read
//! as a tag by the analysis, else the AI SDK's `ai.telemetry.functionId`,
//! else `gen_ai.agent.name`, else the resource's `service.name`),
//! the captured messages (`gen_ai.input.messages`: the prompt's
//! fingerprint and user messages; `gen_ai.system_instructions`: the system
//! prompt's fingerprint and length), `gen_ai.response.finish_reasons`, `gen_ai.request.max_tokens`,
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
use xxhash_rust::xxh3::xxh3_64;

use tokenaudit_core::{CallRecord, CallStatus};

use crate::formats::{Builtin, Detect, Format, JsonObject};
use crate::json::scan::{Bail, Scan, Scanner};
use crate::json::scan_value::once;
use crate::record::fields::{
    content_chars, finish, has_word, read_messages, LStr, Lenient, Problems, RawUsage, Scalar,
};
use crate::record::staging::is_no_prompt;
use crate::rejects::{Reject, RejectReason};

/// Grafana Tempo's trace download names the list `batches`.
#[derive(Deserialize)]
struct Export<'a> {
    #[serde(
        rename = "resourceSpans",
        alias = "batches",
        alias = "resource_spans",
        borrow,
        default
    )]
    resource_spans: Present<Vec<ResourceSpans<'a>>>,
    #[serde(rename = "resourceMetrics", alias = "resource_metrics", default)]
    metrics: Present<IgnoredAny>,
    #[serde(rename = "resourceLogs", alias = "resource_logs", default)]
    logs: Present<IgnoredAny>,
    #[serde(rename = "resourceProfiles", alias = "resource_profiles", default)]
    profiles: Present<IgnoredAny>,
    /// Tempo's `/api/v2/traces` answer: `{"trace": {"resourceSpans": …}}`.
    #[serde(borrow, default)]
    trace: Option<Box<Export<'a>>>,
}

/// The other signals' lists in an OTLP JSON line (a collector's file
/// exporter serving every pipeline writes them to the same file).
fn is_other_signal(key: &str) -> bool {
    matches!(
        key,
        "resourceMetrics"
            | "resourceLogs"
            | "resourceProfiles"
            | "resource_metrics"
            | "resource_logs"
            | "resource_profiles"
    )
}

/// OTLP's protobuf field names, which a protobuf JSON encoder that keeps
/// them writes (`preserving_proto_field_name`, Python's
/// `MessageToJson(..., preserving_proto_field_name=True)`) instead of the
/// spec's lowerCamelCase: read by the serde path, whose fields take them
/// as aliases (hunt114: such an export was rejected); the scanner bails.
fn is_snake_case_otlp(key: &str) -> bool {
    matches!(
        key,
        "resource_spans"
            | "scope_spans"
            | "instrumentation_library_spans"
            | "span_id"
            | "start_time_unix_nano"
            | "end_time_unix_nano"
            | "string_value"
            | "int_value"
            | "double_value"
            | "bool_value"
            | "array_value"
            | "kvlist_value"
            | "bytes_value"
    )
}

/// A value, and whether its key was there at all (a line without
/// `resourceSpans` is no export; one with an empty list is).
#[derive(Default)]
struct Present<T> {
    there: bool,
    value: T,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Present<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Present {
            there: true,
            value: T::deserialize(d)?,
        })
    }
}

#[derive(Deserialize)]
struct ResourceSpans<'a> {
    #[serde(borrow, default)]
    resource: Option<Attributes<'a>>,
    /// `instrumentationLibrarySpans` before OTLP 0.15.
    #[serde(
        rename = "scopeSpans",
        alias = "instrumentationLibrarySpans",
        alias = "scope_spans",
        alias = "instrumentation_library_spans",
        borrow,
        default
    )]
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
    #[serde(rename = "spanId", alias = "span_id", borrow, default)]
    span_id: LStr<'a>,
    #[serde(
        rename = "startTimeUnixNano",
        alias = "start_time_unix_nano",
        borrow,
        default
    )]
    start: LStr<'a>,
    #[serde(
        rename = "endTimeUnixNano",
        alias = "end_time_unix_nano",
        borrow,
        default
    )]
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
    #[serde(rename = "stringValue", alias = "string_value", borrow, default)]
    string: LStr<'a>,
    #[serde(rename = "intValue", alias = "int_value", borrow, default)]
    int: LStr<'a>,
    #[serde(rename = "doubleValue", alias = "double_value", borrow, default)]
    double: LStr<'a>,
    #[serde(rename = "boolValue", alias = "bool_value", borrow, default)]
    boolean: LStr<'a>,
    #[serde(rename = "arrayValue", alias = "array_value", borrow, default)]
    array: Option<ArrayValue<'a>>,
    #[serde(rename = "kvlistValue", alias = "kvlist_value", default)]
    _kvlist: Option<IgnoredAny>,
    #[serde(rename = "bytesValue", alias = "bytes_value", default)]
    _bytes: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct ArrayValue<'a> {
    #[serde(borrow, default)]
    values: Vec<AnyValue<'a>>,
}

impl<'a> AnyValue<'a> {
    /// What the reader uses of the value.
    fn attr(&self) -> Attr<'a> {
        let text = [&self.string, &self.int, &self.double, &self.boolean]
            .into_iter()
            .find_map(|v| match &v.0 {
                Lenient::Value(t) => Some(t.clone()),
                _ => None,
            });
        let array = self.array.as_ref().map(|a| {
            a.values
                .iter()
                .map(|v| v.attr().label())
                .find(Lenient::is_present)
                .unwrap_or(Lenient::Missing)
        });
        Attr { text, array }
    }
}

/// An attribute value as the reader uses it, however it was read: the
/// scalar as text (the first of `stringValue`, `intValue`, `doubleValue`,
/// `boolValue` that is set) and, for an `arrayValue`, its first item's
/// label (the first that is not missing).
#[derive(Default)]
struct Attr<'a> {
    text: Option<Cow<'a, str>>,
    array: Option<Lenient<Cow<'a, str>>>,
}

impl<'a> Attr<'a> {
    fn label(&self) -> Lenient<Cow<'a, str>> {
        match &self.text {
            Some(t) => Lenient::Value(t.clone()),
            None if self.array.is_some() => Lenient::WrongType,
            None => Lenient::Missing,
        }
    }

    fn count(&self) -> Lenient<u64> {
        match &self.text {
            Some(t) => Scalar::Str(Cow::Borrowed(t)).count(),
            None if self.array.is_some() => Lenient::WrongType,
            None => Lenient::Missing,
        }
    }

    /// The first string of an array value, or the scalar itself.
    fn first(&self) -> Lenient<Cow<'a, str>> {
        match &self.array {
            Some(first) => first.clone(),
            None => self.label(),
        }
    }

    /// The value as a tag: scalars up to [`MAX_TAG_VALUE`] bytes.
    fn tag(self) -> Option<Cow<'a, str>> {
        self.text.filter(|t| t.len() <= MAX_TAG_VALUE)
    }
}

/// Operations whose spans group model calls rather than being one: the
/// conventions' agents, tools and workflows, and the run types LangSmith's
/// exporter writes here (`chain`, `parser`: hunt98, a traced helper's
/// chain span repeats its model call's model and tokens, and was a second
/// call).
fn is_grouping_operation(op: &str) -> bool {
    matches!(
        op,
        "invoke_agent"
            | "create_agent"
            | "execute_tool"
            | "invoke_workflow"
            | "chain"
            | "parser"
            | "retriever"
            | "tool"
            | "agent"
            | "workflow"
    )
}

/// The Vercel AI SDK's operations whose spans hold model calls rather than
/// being one (`ai.operationId`).
fn is_ai_sdk_roll_up(op: &str) -> bool {
    matches!(
        op,
        "ai.generateText"
            | "ai.streamText"
            | "ai.generateObject"
            | "ai.streamObject"
            | "ai.embed"
            | "ai.embedMany"
            | "ai.toolCall"
    )
}

/// Span attribute keys that never become tags: the GenAI attributes (read
/// into fields, or prompt and completion text), and namespaces that carry
/// content or per-call identifiers.
/// The message number of an indexed prompt attribute, and whether it is
/// the role (else the content): OpenLLMetry's `gen_ai.prompt.N.role`,
/// `gen_ai.prompt.N.content`, OpenInference's
/// `llm.input_messages.N.message.role`, `…message.content` (hunt83: not
/// read, so no prompt fingerprint, and TA108–TA110 could not run).
fn indexed_message(key: &str) -> Option<(u32, bool)> {
    let rest = key
        .strip_prefix("gen_ai.prompt.")
        .or_else(|| key.strip_prefix("llm.input_messages."))?;
    let (n, field) = rest.split_once('.')?;
    let n = n.parse().ok()?;
    match field {
        "role" | "message.role" => Some((n, true)),
        "content" | "message.content" => Some((n, false)),
        // OpenInference's parts of a message's text (hunt90: a user's
        // question in parts was left out, and every prompt was its system
        // message alone).
        f if f.starts_with("message.contents.") && f.ends_with(".message_content.text") => {
            Some((n, false))
        }
        _ => None,
    }
}

/// Indexed prompt attributes as the JSON text of a messages list, in
/// their numbers' order (`[{"role": …, "content": …}, …]`).
fn messages_of(indexed: &[(u32, bool, Cow<'_, str>)]) -> Option<Cow<'static, str>> {
    if !indexed.iter().any(|(_, role, _)| !role) {
        return None;
    }
    let mut by: std::collections::BTreeMap<u32, serde_json::Map<String, serde_json::Value>> =
        Default::default();
    for (n, role, text) in indexed {
        let key = if *role { "role" } else { "content" };
        let message = by.entry(*n).or_default();
        // A message's parts, in the order read, are its text.
        let text = match message.get(key) {
            Some(serde_json::Value::String(before)) if !role => format!("{before}\n{text}"),
            _ => text.to_string(),
        };
        message.insert(key.into(), serde_json::Value::String(text));
    }
    let list: Vec<serde_json::Value> = by.into_values().map(serde_json::Value::Object).collect();
    serde_json::to_string(&list).ok().map(Cow::Owned)
}

fn is_untaggable(key: &str) -> bool {
    const PREFIXES: [&str; 19] = [
        "gen_ai.",
        // The AI SDK's counts, response ids and times, and embedded texts
        // and vectors.
        "ai.usage.",
        "ai.response.",
        "ai.value",
        "ai.embedding",
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
        "enduser.",
    ];
    PREFIXES.iter().any(|p| key.starts_with(p))
        || matches!(
            key,
            "user.id"
                | "session.id"
                | "thread.id"
                | "thread.name"
                | "langfuse.session.id"
                | "langfuse.user.id"
                // Google ADK's request and tool arguments (the user's
                // text: hunt175, kept as a tag when short) and its ids of
                // each call and run.
                | "gcp.vertex.agent.llm_request"
                | "gcp.vertex.agent.tool_call_args"
                | "gcp.vertex.agent.tool_response"
                | "gcp.vertex.agent.data"
                | "gcp.vertex.agent.event_id"
                | "gcp.vertex.agent.invocation_id"
                | "gcp.vertex.agent.session_id"
        )
}

/// Longer string values are text, not labels, and are not kept as tags.
const MAX_TAG_VALUE: usize = 128;

/// Reads one OTLP JSON line into a record per GenAI span. `emit` receives
/// each record or per-span reject; a line that is not an export, or has no
/// GenAI span, gives one reject. The line is read with the scanner, or, when
/// it bails, with serde_json, which then decides and words the result.
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
    match scan_line(line) {
        Ok(lines) => lines.emit(emit),
        Err(Bail) => parse_line_serde(line, emit),
    }
}

/// The serde_json path: the reference the scanner path must agree with.
fn parse_line_serde<'a>(line: &'a str, emit: &mut dyn FnMut(Result<CallRecord<'a>, Reject>)) {
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
    let export = match export {
        Export {
            resource_spans: Present { there: false, .. },
            trace: Some(inner),
            ..
        } => *inner,
        e => e,
    };
    let mut out = Spans {
        export: export.resource_spans.there
            || export.metrics.there
            || export.logs.there
            || export.profiles.there,
        ..Spans::default()
    };
    for rs in &export.resource_spans.value {
        let resource = rs.resource.as_ref().map_or(&[][..], |r| &r.attributes[..]);
        let resource_tags: Vec<_> = resource
            .iter()
            .filter_map(|kv| kv.value.attr().tag().map(|t| (kv.key.clone(), t)))
            .collect();
        for ss in &rs.scope_spans {
            for span in &ss.spans {
                let mut attrs = SpanAttrs::default();
                for kv in &span.attributes {
                    attrs.add(kv.key.clone(), kv.value.attr());
                }
                let fields = SpanFields {
                    span_id: span.span_id.0.clone(),
                    start: span.start.0.clone(),
                    end: span.end.0.clone(),
                    error: span
                        .status
                        .as_ref()
                        .is_some_and(|s| is_error_code(&s.code.0)),
                };
                out.push(span_record(attrs, fields, &resource_tags));
            }
        }
    }
    out.emit(emit)
}

/// A line's spans: the records (and per-span rejects) of its GenAI spans,
/// and how many spans it had.
#[derive(Default)]
struct Spans<'a> {
    /// The line has `resourceSpans` (or Tempo's `batches`): an export.
    export: bool,
    spans: u64,
    results: Vec<Result<CallRecord<'a>, Reject>>,
}

impl<'a> Spans<'a> {
    fn push(&mut self, result: Option<Result<CallRecord<'a>, Reject>>) {
        self.spans += 1;
        self.results.extend(result);
    }

    /// Emits the results, or the line's one reject when it had no GenAI span.
    fn emit(self, emit: &mut dyn FnMut(Result<CallRecord<'a>, Reject>)) {
        if !self.export {
            // Not skipped as an export without model calls: a line of
            // another format (read as OTLP by --input-format) is rejected,
            // so --strict fails rather than report $0.
            return emit(Err(Reject::new(
                RejectReason::UnrecognizedFormat,
                "not an OTLP JSON export (no resourceSpans, resourceMetrics or \
                 resourceLogs): a line of another format, read as OTLP?",
            )));
        }
        if self.results.is_empty() {
            return emit(Err(Reject::new(
                RejectReason::NoGenAiSpans,
                format!(
                    "{} span(s), none a GenAI model call (no gen_ai.request.model, \
                     gen_ai.response.model or gen_ai.usage.* attribute)",
                    self.spans
                ),
            )));
        }
        self.results.into_iter().for_each(emit);
    }
}

/// `status.code`: `2` / `"STATUS_CODE_ERROR"` is an error, and `"ERROR"`
/// as exporters that write the status by its short name do (hunt114: read
/// as a success).
fn is_error_code(code: &Lenient<Cow<'_, str>>) -> bool {
    matches!(code, Lenient::Value(c) if c == "2"
        || c.eq_ignore_ascii_case("STATUS_CODE_ERROR")
        || c.eq_ignore_ascii_case("ERROR"))
}

/// A span's attributes, read in list order by [`SpanAttrs::add`].
#[derive(Default)]
struct SpanAttrs<'a> {
    u: RawUsage,
    request_model: Lenient<Cow<'a, str>>,
    response_model: Lenient<Cow<'a, str>>,
    provider: Lenient<Cow<'a, str>>,
    system: Lenient<Cow<'a, str>>,
    response_id: Lenient<Cow<'a, str>>,
    session: Lenient<Cow<'a, str>>,
    user: Lenient<Cow<'a, str>>,
    agent: Lenient<Cow<'a, str>>,
    /// `gen_ai.input.messages` and `gen_ai.system_instructions`: JSON text.
    input_messages: Option<Cow<'a, str>>,
    /// OpenLLMetry's `gen_ai.prompt.N.role`/`.content` and OpenInference's
    /// `llm.input_messages.N.message.role`/`.content`: (N, is the role,
    /// text), made the messages when `gen_ai.input.messages` is absent.
    indexed: Vec<(u32, bool, Cow<'a, str>)>,
    system_instructions: Option<Cow<'a, str>>,
    finish_reason: Lenient<Cow<'a, str>>,
    error_type: Lenient<Cow<'a, str>>,
    max_tokens: Lenient<u64>,
    cost: Lenient<Cow<'a, str>>,
    /// A model or token attribute was seen.
    genai: bool,
    /// An agent or tool operation: not a call (later attributes unread).
    grouping: bool,
    /// An agent's name (`gen_ai.agent.name`, pydantic-ai's `agent_name`):
    /// with usage but no model, the span is an agent run's roll-up.
    agent_named: bool,
    /// The Vercel AI SDK's call to Anthropic (`ai.model.provider`
    /// `anthropic.*`), and whether its usage has AI SDK 6's
    /// `ai.usage.inputTokenDetails.*`: AI SDK 5 passes Anthropic's own
    /// `input_tokens` (without the cache) as the input, and its cache writes
    /// only in `ai.response.providerMetadata`.
    ai_sdk_anthropic: bool,
    ai_sdk_details: bool,
    /// Whether the prompt is OpenInference's `llm.token_count.prompt`,
    /// which holds the cache's reads and writes on every provider (its
    /// Bedrock instrumentor adds Anthropic's parts; its LiteLLM one passes
    /// OpenAI-style counts), however its `llm.provider` is named (`aws`).
    openinference_prompt: bool,
    /// Whether the model is OpenInference's `llm.model_name`, which its
    /// Bedrock instrumentors log without the id's vendor (`bedrock_id`).
    openinference_model: bool,
    /// The Vercel AI SDK's names: the call site (`ai.telemetry.functionId`,
    /// the feature), the model (`ai.model.id`) and provider
    /// (`ai.model.provider`), the user and session its docs and Langfuse
    /// put in `ai.telemetry.metadata`, and an embedding call's one count
    /// (`ai.usage.tokens` on an `ai.embed.doEmbed` or
    /// `ai.embedMany.doEmbed` span, which has no `gen_ai.*` attribute).
    function_id: Lenient<Cow<'a, str>>,
    workflow: Lenient<Cow<'a, str>>,
    ai_model: Lenient<Cow<'a, str>>,
    ai_provider: Lenient<Cow<'a, str>>,
    metadata_user: Lenient<Cow<'a, str>>,
    metadata_session: Lenient<Cow<'a, str>>,
    embed: bool,
    embed_tokens: Lenient<u64>,
    /// `gen_ai.usage.total_tokens`: input, output and, when it holds them
    /// on top of the input, the cache's tokens (Bedrock Converse's
    /// `totalTokens`, as Strands Agents passes it).
    total_tokens: Lenient<u64>,
    tags: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    /// OpenAI's service tier, as served (`openai.response.service_tier`)
    /// and as asked (`openai.request.service_tier`; both under
    /// `gen_ai.openai.` before semconv 1.37): flex and priority calls are
    /// priced at their rates (hunt79: at standard, 2× off either way).
    service_tier: Lenient<Cow<'a, str>>,
    request_service_tier: Lenient<Cow<'a, str>>,
    /// The response as JSON text, with its usage: Google ADK's
    /// `gcp.vertex.agent.llm_response` (whose `gen_ai.usage.*` leave
    /// Gemini's thoughts and cache reads out: hunt114), and Pydantic
    /// Logfire's `response_data` (a streamed call's only usage).
    adk_response: Option<Cow<'a, str>>,
    /// Google ADK's id of the model's answer (`gcp.vertex.agent.event_id`),
    /// on its `call_llm` span and, from ADK 1.34, on the `generate_content`
    /// span inside it, which holds the same call.
    adk_event: Lenient<Cow<'a, str>>,
    response_data: Option<Cow<'a, str>>,
    /// Logfire's OpenAI Agents spans: the Responses API's `response` as
    /// JSON text, whose usage has the cached reads its
    /// `gen_ai.usage.*` leave out (hunt120: priced as plain input).
    response: Option<Cow<'a, str>>,
    /// Logfire's request span of a streamed call (`request_data` with
    /// `"stream": true`): its usage is its streaming log's, a span of its
    /// own.
    logfire: bool,
    streamed: bool,
}

impl<'a> SpanAttrs<'a> {
    fn add(&mut self, key: Cow<'a, str>, v: Attr<'a>) {
        if self.grouping {
            return;
        }
        let u = &mut self.u;
        match key.as_ref() {
            "gen_ai.operation.name" => {
                if let Some(op) = &v.text {
                    self.grouping = is_grouping_operation(op);
                }
            }
            // The AI SDK's outer spans (`ai.generateText`, `ai.embedMany`,
            // a tool call) sum their model calls, which are the
            // `.doGenerate`, `.doStream` and `.doEmbed` spans under them.
            "ai.operationId" => {
                if let Some(op) = &v.text {
                    self.embed = op.ends_with(".doEmbed");
                    self.grouping = is_ai_sdk_roll_up(op);
                }
                if let Some(t) = v.tag() {
                    self.tags.push((key, t));
                }
            }
            "ai.usage.tokens" => self.embed_tokens = v.count(),
            // Read, and kept as tags as they were before they were read.
            // The provider also tells the usage's convention
            // (`anthropic.messages`, `vertex.anthropic.messages`: the same
            // provider code).
            "ai.model.provider" => {
                self.ai_sdk_anthropic = v.text.as_deref().is_some_and(|p| p.contains("anthropic"));
                self.ai_provider = v.label();
                if let Some(t) = v.tag() {
                    self.tags.push((key, t));
                }
            }
            "ai.model.id" => {
                self.ai_model = v.label();
                if let Some(t) = v.tag() {
                    self.tags.push((key, t));
                }
            }
            "ai.telemetry.functionId" => {
                self.function_id = v.label();
                if let Some(t) = v.tag() {
                    self.tags.push((key, t));
                }
            }
            // The user and the conversation as the AI SDK's metadata and
            // OpenLLMetry's association properties carry them.
            "ai.telemetry.metadata.userId"
            | "ai.telemetry.metadata.user_id"
            | "traceloop.association.properties.user_id"
            | "traceloop.association.properties.userId" => self.metadata_user = v.label(),
            "ai.telemetry.metadata.sessionId"
            | "ai.telemetry.metadata.session_id"
            | "traceloop.association.properties.session_id"
            | "traceloop.association.properties.chat_id"
            | "traceloop.association.properties.conversation_id"
            | "traceloop.association.properties.thread_id" => self.metadata_session = v.label(),
            // OpenLLMetry's workflow: the feature, and a tag.
            "traceloop.workflow.name" => {
                self.workflow = v.label();
                if let Some(t) = v.tag() {
                    self.tags.push((key, t));
                }
            }
            // OpenLLMetry's other association properties are the caller's
            // labels (`env`, `tenant`): tags.
            k if k.starts_with("traceloop.association.properties.") => {
                if let Some(t) = v.tag() {
                    self.tags.push((key, t));
                }
            }
            "gen_ai.request.model" => {
                self.genai = true;
                self.request_model = v.label();
            }
            "gen_ai.response.model" => {
                self.genai = true;
                self.response_model = v.label();
            }
            "gen_ai.provider.name" if v.text.as_deref() == Some("strands-agents") => {}
            "gen_ai.provider.name" => self.provider = v.label(),
            // AI SDK 5's Anthropic cache writes: only in the provider's
            // metadata (JSON text).
            "ai.response.providerMetadata" if !u.cache_creation_input_tokens.is_present() => {
                if let Some((n, one_hour)) = v.text.as_deref().and_then(anthropic_cache_writes) {
                    u.cache_creation_input_tokens = Lenient::Value(n);
                    if let Some(h) = one_hour {
                        u.cache_write_1h = Lenient::Value(h);
                    }
                }
            }
            "ai.response.providerMetadata" => {}
            // Strands Agents names itself here, not the provider (its
            // calls go to Bedrock, OpenAI…): the model says which.
            "gen_ai.system" if v.text.as_deref() == Some("strands-agents") => {}
            "gen_ai.system" => self.system = v.label(),
            // OpenInference (Arize Phoenix): an LLM or EMBEDDING span is a
            // call; an AGENT, CHAIN or TOOL span's counts are its
            // children's.
            "openinference.span.kind" => {
                if let Some(kind) = &v.text {
                    self.grouping = !matches!(kind.as_ref(), "LLM" | "EMBEDDING");
                }
            }
            // LangSmith's run type (its exporter's spans): `llm` and
            // `embedding` runs are calls, its chains, tools, retrievers,
            // parsers and prompts hold them (hunt98). OpenLLMetry's
            // `traceloop.span.kind` marks its decorated workflows, agents
            // and tools; a `task` may be a model call (its LlamaIndex
            // instrumentation's `Cohere.task` span: hunt103).
            "langsmith.span.kind" => {
                if let Some(kind) = &v.text {
                    self.grouping = !matches!(kind.as_ref(), "llm" | "embedding");
                }
            }
            "traceloop.span.kind" => {
                if let Some(kind) = &v.text {
                    self.grouping = matches!(kind.as_ref(), "workflow" | "agent" | "tool");
                }
            }
            // OpenInference's, and (`llm.request.model`, `llm.usage.*`,
            // `llm.vendor`) the draft convention before `gen_ai.*` that
            // early OpenLLMetry wrote.
            "llm.model_name" | "embedding.model_name" | "llm.request.model" => {
                self.genai = true;
                self.openinference_model = key == "llm.model_name";
                self.request_model = v.label();
            }
            "llm.response.model" => {
                self.genai = true;
                self.response_model = v.label();
            }
            "llm.provider" => self.provider = v.label(),
            "llm.system" | "llm.vendor" => self.system = v.label(),
            "llm.token_count.prompt" | "llm.usage.prompt_tokens" => {
                self.genai = true;
                self.openinference_prompt = key == "llm.token_count.prompt";
                u.prompt_tokens = v.count();
            }
            "llm.token_count.completion" | "llm.usage.completion_tokens" => {
                self.genai = true;
                u.completion_tokens = v.count();
            }
            "llm.token_count.prompt_details.cache_read" => u.cached_tokens = v.count(),
            "llm.token_count.prompt_details.cache_write" => {
                u.cache_creation_input_tokens = v.count()
            }
            "llm.token_count.completion_details.reasoning" => u.reasoning_tokens = v.count(),
            // OpenInference's total: a Gemini span's thoughts are in it
            // only (hunt53; see `Convention::thoughts_in_total`).
            "llm.token_count.total" | "llm.usage.total_tokens" => u.total_tokens = v.count(),
            "llm.cost.total" => self.cost = v.label(),
            "gen_ai.usage.input_tokens" | "gen_ai.usage.prompt_tokens" => {
                self.genai = true;
                u.prompt_tokens = v.count();
            }
            "gen_ai.usage.output_tokens" | "gen_ai.usage.completion_tokens" => {
                self.genai = true;
                u.completion_tokens = v.count();
            }
            // The conventions' names, OpenLLMetry's (Traceloop),
            // pydantic-ai's, the Vercel AI SDK's (`ai.usage.*`, beside its
            // `gen_ai.usage.input_tokens`, which includes them) and
            // Sentry's.
            "gen_ai.usage.cache_read.input_tokens"
            | "gen_ai.usage.cache_read_input_tokens"
            // (Mastra's exporter's, hunt175: unread, +62.5% and −49%.)
            | "gen_ai.usage.cached_input_tokens"
            | "gen_ai.usage.details.cache_read_tokens"
            | "gen_ai.usage.input_tokens.cached"
            | "ai.usage.cachedInputTokens"
            | "ai.usage.inputTokenDetails.cacheReadTokens" => {
                self.ai_sdk_details |= key.starts_with("ai.usage.inputTokenDetails.");
                u.cached_tokens = v.count()
            }
            "gen_ai.usage.cache_creation.input_tokens"
            | "gen_ai.usage.cache_creation_input_tokens"
            | "gen_ai.usage.cache_write_input_tokens"
            | "gen_ai.usage.cache_write.input_tokens"
            | "gen_ai.usage.details.cache_write_tokens"
            | "ai.usage.inputTokenDetails.cacheWriteTokens" => {
                self.ai_sdk_details |= key.starts_with("ai.usage.inputTokenDetails.");
                u.cache_creation_input_tokens = v.count()
            }
            "gen_ai.usage.reasoning.output_tokens"
            | "gen_ai.usage.output_tokens.reasoning"
            | "ai.usage.reasoningTokens"
            | "ai.usage.outputTokenDetails.reasoningTokens" => u.reasoning_tokens = v.count(),
            "gen_ai.usage.total_tokens" => self.total_tokens = v.count(),
            "openai.response.service_tier" | "gen_ai.openai.response.service_tier" => {
                self.service_tier = v.label()
            }
            "openai.request.service_tier" | "gen_ai.openai.request.service_tier" => {
                self.request_service_tier = v.label()
            }
            "llm.token_count.prompt_details.audio" => u.extras().audio_in = v.count(),
            "llm.token_count.completion_details.audio" => u.extras().audio_out = v.count(),
            "gcp.vertex.agent.llm_response" => self.adk_response = v.text,
            "gcp.vertex.agent.event_id" => self.adk_event = v.label(),
            // OpenInference's `metadata`, the app's pairs as JSON text: each
            // a tag (`feature` the feature), not the whole text one per
            // call (hunt176: a request's uuid in it made a tag per call, and
            // its feature unread).
            "metadata" if v.text.as_deref().is_some_and(|t| t.trim_start().starts_with('{')) => {
                let pairs: Option<serde_json::Map<String, serde_json::Value>> =
                    v.text.as_deref().and_then(|t| serde_json::from_str(t).ok());
                if pairs.is_none() {
                    // (Text that is no JSON object: a tag, as before.)
                    if let Some(t) = v.tag() {
                        self.tags.push((key, t));
                    }
                    return;
                }
                for (k, value) in pairs.into_iter().flatten() {
                    let text = match value {
                        serde_json::Value::String(s) => s,
                        serde_json::Value::Number(n) => n.to_string(),
                        serde_json::Value::Bool(b) => b.to_string(),
                        _ => continue,
                    };
                    if !text.is_empty() && crate::record::tags::is_label_tag(&k, &text)
                    {
                        self.tags.push((Cow::Owned(k), Cow::Owned(text)));
                    }
                }
            }
            "response_data" => self.response_data = v.text,
            "response" => self.response = v.text,
            "request_data" => {
                self.streamed = v.text.as_deref().is_some_and(|t| {
                    serde_json::from_str::<serde_json::Value>(t)
                        .is_ok_and(|r| r.get("stream") == Some(&serde_json::Value::Bool(true)))
                })
            }
            "logfire.span_type" | "logfire.msg_template" => self.logfire = true,
            "gen_ai.response.id" => self.response_id = v.label(),
            "gen_ai.conversation.id" => self.session = v.label(),
            // (Langfuse's compatibility keys and Google ADK's own, on the
            // call's span: hunt175, every session `(none)`.)
            "session.id" | "langfuse.session.id" | "gcp.vertex.agent.session_id"
                if !self.session.is_present() =>
            {
                self.session = v.label()
            }
            // (`enduser.id`: the conventions' older name, hunt176.)
            "user.id" | "langfuse.user.id" => self.user = v.label(),
            "enduser.id" if !self.user.is_present() => self.user = v.label(),
            "gen_ai.agent.name" => {
                self.agent_named = true;
                self.agent = v.label();
            }
            "agent_name" => {
                self.agent_named = true;
                if let Some(t) = v.tag() {
                    self.tags.push((key, t));
                }
            }
            "gen_ai.input.messages" => self.input_messages = v.text,
            // (Their other keys, `gen_ai.prompt.N.tool_calls`…, are no
            // tags either.)
            k if k.starts_with("gen_ai.prompt.") || k.starts_with("llm.input_messages.") => {
                if let (Some((n, role)), Some(text)) = (indexed_message(k), v.text) {
                    self.indexed.push((n, role, text));
                }
            }
            "gen_ai.system_instructions" => self.system_instructions = v.text,
            "gen_ai.response.finish_reasons" => self.finish_reason = v.first(),
            "gen_ai.request.max_tokens" => self.max_tokens = v.count(),
            "gen_ai.usage.cost" => self.cost = v.label(),
            "error.type" => self.error_type = v.label(),
            // Prompts and answers under other namespaces (the AI SDK's
            // `ai.prompt.messages` and `ai.response.text`, Langfuse's
            // `langfuse.observation.input`, MLflow's `mlflow.spanInputs`)
            // are no tags; a number or a flag under such a key is no text.
            k if !is_untaggable(k) => {
                if let Some(t) = v.tag() {
                    use crate::record::tags::{is_plain_value, is_text_key};
                    if !is_text_key(k) || is_plain_value(&t) {
                        self.tags.push((key, t));
                    }
                }
            }
            _ => {}
        }
    }
}

/// The span's own fields the record needs.
struct SpanFields<'a> {
    span_id: Lenient<Cow<'a, str>>,
    start: Lenient<Cow<'a, str>>,
    end: Lenient<Cow<'a, str>>,
    /// `status.code` says error.
    error: bool,
}

/// The record of one span, or `None` when it is not a GenAI model call;
/// both paths end here.
fn span_record<'a>(
    a: SpanAttrs<'a>,
    span: SpanFields<'a>,
    resource_tags: &[(Cow<'a, str>, Cow<'a, str>)],
) -> Option<Result<CallRecord<'a>, Reject>> {
    // pydantic-ai's agent run before it named the operation (`agent run`,
    // `invoke_agent`) carries the run's token totals and an agent's name,
    // and no model: a roll-up of its model calls, which are spans of their
    // own.
    let mut a = a;
    // An AI SDK embedding call: its model and its one count (the input).
    let embedding = a.embed && (a.ai_model.is_present() || a.embed_tokens.is_present());
    if embedding && !a.u.prompt_tokens.is_present() {
        a.u.prompt_tokens = std::mem::take(&mut a.embed_tokens);
        // An embedding has no output; without its count the call is one
        // without usage (rejected, not $0).
        if a.u.prompt_tokens.is_present() && !a.u.completion_tokens.is_present() {
            a.u.completion_tokens = Lenient::Value(0);
        }
    }
    let modelless = !a.request_model.is_present() && !a.response_model.is_present();
    if modelless && a.ai_model.is_present() {
        a.request_model = std::mem::take(&mut a.ai_model);
    }
    if a.grouping || !(a.genai || embedding) || (modelless && a.agent_named) {
        return None;
    }
    // The usage in the response's JSON text: all of ADK's (its
    // `gen_ai.usage.*` leave Gemini's thoughts and cache reads out), and
    // Logfire's streamed call's (none in `gen_ai.usage.*`).
    let counted = [
        &a.u.prompt_tokens,
        &a.u.completion_tokens,
        &a.u.input_tokens,
        &a.u.output_tokens,
    ]
    .iter()
    .any(|c| c.is_present());
    let from_json = match (&a.adk_response, &a.response_data, &a.response) {
        (Some(text), _, _) => usage_in_json(text),
        // Logfire's `response_data`: the response's own usage, whose cache
        // counts its `gen_ai.usage.*` leave out (hunt131: an Anthropic
        // call's cache reads and writes lost, $0.0105 for $0.01665).
        (None, Some(text), _) => usage_in_json(text),
        (None, None, Some(text)) if a.logfire => usage_in_json(text),
        _ => None,
    };
    let json_usage = from_json.is_some();
    if let Some(u) = from_json {
        a.u = u;
    } else if !counted && a.logfire && a.streamed && a.response_data.is_none() {
        // Logfire's request span of a streamed call: the call is its
        // streaming log's (hunt114: two rejects and no call), said as such
        // (hunt115: a line of it alone was "no GenAI span").
        return Some(Err(Reject::new(
            RejectReason::NotACall,
            "a Pydantic Logfire request span of a streamed call: the call's usage is on its streaming log span",
        )));
    }
    let mut p = Problems::default();
    // The conventions say input_tokens includes cached tokens. Instrumentations
    // that pass Anthropic's own input_tokens (which excludes them) give parts
    // larger than the whole, which no inclusive count can: read those as
    // exclusive rather than rejecting the call. AI SDK 5's Anthropic input
    // is exclusive whatever its size.
    // (Gemini's prompt count holds its cache reads, whatever its total:
    // a total that adds thoughts equal to the reads is no cache added,
    // hunt136.)
    let gemini = [&a.request_model, &a.response_model]
        .iter()
        .any(|m| matches!(&m, Lenient::Value(t) if crate::record::staging::is_gemini(t)));
    let exclusive = (a.ai_sdk_anthropic && !a.ai_sdk_details)
        || (!gemini && total_adds_the_cache(&a))
        || (bedrock_counts(&a) && !a.openinference_prompt);
    // (A response's own usage is read in its provider's convention.)
    let mut u = if json_usage {
        a.u
    } else {
        inclusive_usage(a.u, exclusive)
    };
    let mut tags = a.tags;
    tags.extend(resource_tags.iter().cloned());
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
    let span_error = span.error;
    let error_kind = p.take(&a.error_type, "error.type");
    let status = (error_kind.is_some() || span_error).then_some(CallStatus::Error);
    // The requested model, and the answering one when it is another: the
    // sink prices the call as the response's model when the catalog knows
    // it (`CallRecord::served_model`), else as the request's, so a
    // response model the catalog lacks does not leave the call unpriced.
    let requested = p.take(&a.request_model, "gen_ai.request.model");
    let answered = p
        .take(&a.response_model, "gen_ai.response.model")
        .filter(|m| !m.trim().is_empty());
    let (model, served_model) = match (requested, answered) {
        (Some(m), Some(s)) if !m.trim().is_empty() => {
            let other = !m.trim().eq_ignore_ascii_case(s.trim());
            (m, other.then_some(s))
        }
        (m, s) => (s.or(m).unwrap_or(Cow::Borrowed("")), None),
    };
    let model = bedrock_id(&a.system, &a.provider, a.openinference_model, model);
    let gemini = [Some(&model), served_model.as_ref()]
        .into_iter()
        .flatten()
        .any(|m| crate::record::staging::is_gemini(m));
    let thinks = [Some(&model), served_model.as_ref()]
        .into_iter()
        .flatten()
        .find_map(|m| crate::record::staging::gemini_thinks(m))
        .unwrap_or(false);
    let how = crate::record::fields::Convention {
        thoughts_in_total: thinks,
        gemini,
        ..Default::default()
    };
    // A Gemini span's `gen_ai.usage.total_tokens` holds its thoughts, which
    // its output count leaves out (OpenLLMetry's Gemini instrumentations:
    // hunt131, a thinking call priced 6.6× low): read as OpenInference's
    // total is.
    // (A Gemini 2.0 span's total holds a built-in tool's prompt: read
    // for it too, hunt157.)
    if how.gemini && !u.total_tokens.is_present() && !exclusive {
        u.total_tokens = a.total_tokens;
    }
    let usage = u.normalise_for(&mut p, how);
    let cached_read_logged = u.cached_read_logged();
    // The feature: a `feature` attribute stays a tag, which the analysis
    // reads as the feature; else the agent, else the service.
    let agent = p.take(&a.agent, "gen_ai.agent.name");
    let function = p.take(&a.function_id, "ai.telemetry.functionId");
    let feature = if tags.iter().any(|(k, _)| k == "feature") {
        None
    } else {
        let workflow = p.take(&a.workflow, "traceloop.workflow.name");
        function.or(workflow).or(agent).or_else(|| {
            tags.iter()
                .find(|(k, _)| k == "service.name")
                .map(|(_, v)| v.clone())
        })
    };
    let input_messages = a.input_messages.or_else(|| messages_of(&a.indexed));
    let prompt = Prompt::read(input_messages, a.system_instructions);
    // ADK's two spans of one call (`call_llm` and the `generate_content`
    // inside it) are copies of it, one kept, as a stream's chunks are
    // (hunt175: every call counted twice).
    let adk_event = p.take(&a.adk_event, "gcp.vertex.agent.event_id");
    let copies = adk_event.is_some();
    let record = CallRecord {
        timestamp,
        request_id: adk_event
            .or_else(|| p.take(&a.response_id, "gen_ai.response.id"))
            .or_else(|| p.take(&span.span_id, "spanId")),
        stream_chunk: copies,
        // (The two spans start apart, often in two seconds: one key for
        // both, hunt179.)
        stream_created: copies.then_some(0),
        // One provider, one name, as the gateway reader's (`Anthropic`
        // and `anthropic` are the same row of the report).
        provider: p
            .take(&a.provider, "gen_ai.provider.name")
            .or_else(|| p.take(&a.system, "gen_ai.system"))
            .or_else(|| p.take(&a.ai_provider, "ai.model.provider"))
            .map(|v| {
                if v.bytes().any(|b| b.is_ascii_uppercase()) {
                    Cow::Owned(v.to_ascii_lowercase())
                } else {
                    v
                }
            }),
        model,
        served_model,
        feature,
        // A `team` attribute (or key of OpenInference's metadata) is the
        // team, as the gateway reader's is.
        team: tags
            .iter()
            .find(|(k, _)| k == "team")
            .map(|(_, v)| v.clone()),
        session: p
            .take(&a.session, "gen_ai.conversation.id")
            .or_else(|| p.take(&a.metadata_session, "session metadata")),
        user: p
            .take(&a.user, "user.id")
            .or_else(|| p.take(&a.metadata_user, "user metadata")),
        status,
        error_kind: error_kind.or_else(|| span_error.then_some(Cow::Borrowed("span_error"))),
        latency_ms,
        finish_reason: p.take(&a.finish_reason, "gen_ai.response.finish_reasons"),
        max_tokens: p
            .int(&a.max_tokens, "gen_ai.request.max_tokens")
            .and_then(crate::record::fields::output_limit),
        logged_cost: match p.take(&a.cost, "gen_ai.usage.cost") {
            Some(c) => match tokenaudit_core::Money::parse_usd(&c) {
                Some(m) => Some(m),
                None => {
                    p.unread("gen_ai.usage.cost");
                    None
                }
            },
            None => None,
        },
        prompt_fp: prompt.fp,
        prefix_fp: prompt.prefix_fp,
        prefix_chars: prompt.prefix_chars,
        user_messages: prompt.user_messages,
        prompt_text: prompt.text,
        tags,
        cached_read_logged,
        service_tier: p
            .take(&a.service_tier, "openai.response.service_tier")
            .or_else(|| p.take(&a.request_service_tier, "openai.request.service_tier"))
            .and_then(|t| tokenaudit_core::ServiceTier::parse(&t)),
        ..CallRecord::default()
    };
    Some(finish(record, usage, p))
}

/// What a span's captured messages give the record (the prompt's text only
/// where messages carry a `content` string; OTel's `parts` are not read).
#[derive(Default)]
struct Prompt<'a> {
    fp: Option<u64>,
    prefix_fp: Option<u64>,
    prefix_chars: Option<u64>,
    user_messages: Option<u32>,
    text: Option<Cow<'a, str>>,
}

impl<'a> Prompt<'a> {
    /// From `gen_ai.input.messages` (the prompt's fingerprint is its JSON
    /// text's, as a gateway line's `messages`) and
    /// `gen_ai.system_instructions` (the system prompt's, as a gateway line's
    /// `system`; else a system message among the input messages).
    fn read(messages: Option<Cow<'a, str>>, system: Option<Cow<'a, str>>) -> Prompt<'a> {
        let mut prompt = Prompt::default();
        if let Some(m) = messages.filter(|m| !is_no_prompt(m)) {
            let read = read_messages(&m);
            prompt.fp = Some(read.fp);
            prompt.text = read
                .text
                .filter(|t| has_word(t))
                .map(|t| Cow::Owned(t.into_owned()));
            prompt.prefix_fp = read.system;
            prompt.prefix_chars = read.system_chars;
            prompt.user_messages = (read.user_messages > 0).then_some(read.user_messages);
        }
        if let Some(s) = system.filter(|s| !is_no_prompt(s)) {
            let system = xxh3_64(s.as_bytes());
            prompt.prefix_fp = Some(system);
            prompt.prefix_chars = Some(content_chars(&s));
            // The instructions are part of the prompt: the same question
            // under another customer's record is another request (hunt177:
            // TA109 found 97% of calls repeated).
            prompt.fp = prompt
                .fp
                .map(|fp| xxhash_rust::xxh3::xxh3_64_with_seed(&fp.to_le_bytes(), system));
        }
        prompt
    }
}

// The fast path: the same structs read with the scanner, strings borrowed,
// unused fields (`traceId`, `name`, events, links, …) stepped over unbuilt.
// Where the serde structs would fail or could read otherwise it bails: a
// duplicate field, `null` or another type where a list or struct is
// required, an attribute without a string `key`, a `resource` after the
// `scopeSpans` whose records it tags.

/// Reads the whole line (its records are only handed on once it is known
/// to be valid, as the serde path parses it whole first).
fn scan_line(line: &str) -> Scan<Spans<'_>> {
    let mut s = Scanner::new(line);
    let mut out = Spans::default();
    let mut seen = 0u64;
    scan_object(&mut s, |s, key| {
        // Tempo's v2 answer wraps the export: serde_json reads it.
        if key == "trace" {
            return Err(Bail);
        }
        if is_snake_case_otlp(&key) {
            return Err(Bail);
        }
        if key != "resourceSpans" && key != "batches" {
            // A collector's file exporter writes metrics and logs lines
            // beside the traces: OTLP, with no span.
            out.export |= is_other_signal(&key);
            return s.skip_value();
        }
        once(&mut seen, 0)?;
        out.export = true;
        scan_list(s, |s| scan_resource_spans(s, &mut out))
    })?;
    if !s.at_end() {
        return Err(Bail);
    }
    Ok(out)
}

/// An object, each key handed to `entry` (which reads its value); anything
/// else bails.
fn scan_object<'a>(
    s: &mut Scanner<'a>,
    mut entry: impl FnMut(&mut Scanner<'a>, Cow<'a, str>) -> Scan<()>,
) -> Scan<()> {
    s.begin_object()?;
    let mut first = true;
    while let Some(key) = s.next_key(&mut first)? {
        entry(s, key)?;
    }
    Ok(())
}

/// An array (a `Vec` field: `null` is an error there), each item read by `item`.
fn scan_list<'a>(
    s: &mut Scanner<'a>,
    mut item: impl FnMut(&mut Scanner<'a>) -> Scan<()>,
) -> Scan<()> {
    s.begin_array()?;
    let mut first = true;
    while s.next_element(&mut first)? {
        item(s)?;
    }
    Ok(())
}

/// `Option<Struct>`: `null` is none (false), an object is read (true).
fn scan_optional<'a>(
    s: &mut Scanner<'a>,
    entry: impl FnMut(&mut Scanner<'a>, Cow<'a, str>) -> Scan<()>,
) -> Scan<bool> {
    if s.peek()? == b'n' {
        s.skip_value()?;
        return Ok(false);
    }
    scan_object(s, entry).map(|_| true)
}

fn scan_resource_spans<'a>(s: &mut Scanner<'a>, out: &mut Spans<'a>) -> Scan<()> {
    let mut seen = 0u64;
    let mut resource_tags = Vec::new();
    scan_object(s, |s, key| match key.as_ref() {
        "resource" => {
            // Its tags go on the records of the spans before it too.
            if seen & 2 != 0 {
                return Err(Bail);
            }
            once(&mut seen, 0)?;
            let mut attrs_seen = 0u64;
            scan_optional(s, |s, key| {
                if key != "attributes" {
                    return s.skip_value();
                }
                once(&mut attrs_seen, 0)?;
                scan_list(s, |s| {
                    let (key, v) = scan_key_value(s)?;
                    if let Some(t) = v.tag() {
                        resource_tags.push((key, t));
                    }
                    Ok(())
                })
            })
            .map(|_| ())
        }
        "scopeSpans" | "instrumentationLibrarySpans" => {
            once(&mut seen, 1)?;
            scan_list(s, |s| {
                let mut scope_seen = 0u64;
                scan_object(s, |s, key| {
                    if key != "spans" {
                        return s.skip_value();
                    }
                    once(&mut scope_seen, 0)?;
                    scan_list(s, |s| {
                        let record = scan_span(s, &resource_tags)?;
                        out.push(record);
                        Ok(())
                    })
                })
            })
        }
        k if is_snake_case_otlp(k) => Err(Bail),
        _ => s.skip_value(),
    })
}

fn scan_span<'a>(
    s: &mut Scanner<'a>,
    resource_tags: &[(Cow<'a, str>, Cow<'a, str>)],
) -> Scan<Option<Result<CallRecord<'a>, Reject>>> {
    let mut seen = 0u64;
    let mut attrs = SpanAttrs::default();
    let mut fields = SpanFields {
        span_id: Lenient::Missing,
        start: Lenient::Missing,
        end: Lenient::Missing,
        error: false,
    };
    scan_object(s, |s, key| {
        match key.as_ref() {
            "spanId" => {
                once(&mut seen, 0)?;
                fields.span_id = s.label()?;
            }
            "startTimeUnixNano" => {
                once(&mut seen, 1)?;
                fields.start = s.label()?;
            }
            "endTimeUnixNano" => {
                once(&mut seen, 2)?;
                fields.end = s.label()?;
            }
            "attributes" => {
                once(&mut seen, 3)?;
                scan_list(s, |s| {
                    let (key, v) = scan_key_value(s)?;
                    attrs.add(key, v);
                    Ok(())
                })?;
            }
            "status" => {
                once(&mut seen, 4)?;
                let mut code_seen = 0u64;
                scan_optional(s, |s, key| {
                    if key != "code" {
                        return s.skip_value();
                    }
                    once(&mut code_seen, 0)?;
                    fields.error = is_error_code(&s.label()?);
                    Ok(())
                })?;
            }
            k if is_snake_case_otlp(k) => return Err(Bail),
            _ => s.skip_value()?,
        }
        Ok(())
    })?;
    Ok(span_record(attrs, fields, resource_tags))
}

/// A `KeyValue`: a string `key` (required) and an `AnyValue` object.
fn scan_key_value<'a>(s: &mut Scanner<'a>) -> Scan<(Cow<'a, str>, Attr<'a>)> {
    let at = s.clone();
    if let Some(kv) = scan_key_value_plain(s) {
        return Ok(kv);
    }
    *s = at;
    scan_key_value_general(s)
}

/// The attributes' common case, read as literal bytes instead of keys:
/// `{"key":"k","value":{"stringValue":"v"}}` with no whitespace, no escape,
/// and one of the four scalar kinds, each held as a string (as the
/// collector's JSON writes them). `None` (the cursor anywhere) for
/// anything else, which [`scan_key_value_general`] then reads.
#[inline]
fn scan_key_value_plain<'a>(s: &mut Scanner<'a>) -> Option<(Cow<'a, str>, Attr<'a>)> {
    s.eat(b"{\"key\":")?;
    let key = s.plain_string()?;
    s.eat(b",\"value\":{\"")?;
    // Only the kinds `scan_any_value` reads as a scalar label.
    [
        &b"stringValue\":"[..],
        b"intValue\":",
        b"doubleValue\":",
        b"boolValue\":",
    ]
    .into_iter()
    .find_map(|kind| s.eat(kind))?;
    let value = s.plain_string()?;
    s.eat(b"}}")?;
    let text = match crate::record::fields::non_empty(Cow::Borrowed(value)) {
        Lenient::Value(text) => Some(text),
        _ => None,
    };
    Some((Cow::Borrowed(key), Attr { text, array: None }))
}

/// [`scan_key_value`] of any `KeyValue` object.
fn scan_key_value_general<'a>(s: &mut Scanner<'a>) -> Scan<(Cow<'a, str>, Attr<'a>)> {
    let mut seen = 0u64;
    let (mut key, mut value) = (None, Attr::default());
    scan_object(s, |s, k| {
        match k.as_ref() {
            "key" => {
                once(&mut seen, 0)?;
                match s.scalar()? {
                    Scalar::Str(k) => key = Some(k),
                    _ => return Err(Bail),
                }
            }
            "value" => {
                once(&mut seen, 1)?;
                value = scan_any_value(s)?;
            }
            _ => s.skip_value()?,
        }
        Ok(())
    })?;
    Ok((key.ok_or(Bail)?, value))
}

/// An `AnyValue` object (see [`AnyValue::attr`]).
fn scan_any_value<'a>(s: &mut Scanner<'a>) -> Scan<Attr<'a>> {
    let mut seen = 0u64;
    // stringValue, intValue, doubleValue, boolValue: the first set wins.
    let mut scalars: [Lenient<Cow<'a, str>>; 4] = Default::default();
    let mut array = None;
    scan_object(s, |s, key| {
        let slot = match key.as_ref() {
            "stringValue" => 0,
            "intValue" => 1,
            "doubleValue" => 2,
            "boolValue" => 3,
            "arrayValue" => {
                once(&mut seen, 4)?;
                let mut first = None;
                let mut values_seen = 0u64;
                let present = scan_optional(s, |s, key| {
                    if key != "values" {
                        return s.skip_value();
                    }
                    once(&mut values_seen, 0)?;
                    scan_list(s, |s| {
                        let label = scan_any_value(s)?.label();
                        if first.is_none() && label.is_present() {
                            first = Some(label);
                        }
                        Ok(())
                    })
                })?;
                if present {
                    array = Some(first.unwrap_or(Lenient::Missing));
                }
                return Ok(());
            }
            "kvlistValue" | "bytesValue" => {
                once(&mut seen, if key == "kvlistValue" { 5 } else { 6 })?;
                return s.skip_value();
            }
            k if is_snake_case_otlp(k) => return Err(Bail),
            _ => return s.skip_value(),
        };
        once(&mut seen, slot)?;
        scalars[slot as usize] = s.label()?;
        Ok(())
    })?;
    let text = scalars.into_iter().find_map(|v| match v {
        Lenient::Value(t) => Some(t),
        _ => None,
    });
    Ok(Attr { text, array })
}

/// The usage with its input count including the cache. `exclusive`: the
/// count is known to leave the cache reads and writes out (AI SDK 5's
/// Anthropic); otherwise, see the comment at the call: parts larger than
/// the whole mean the input count excluded the cache.
fn inclusive_usage(mut u: RawUsage, exclusive: bool) -> RawUsage {
    let v = |l: &Lenient<u64>| match l {
        Lenient::Value(n) => *n,
        _ => 0,
    };
    if let Lenient::Value(input) = u.prompt_tokens {
        let parts = v(&u.cached_tokens) + v(&u.cache_creation_input_tokens);
        if exclusive || parts > input {
            u.prompt_tokens = Lenient::Value(input + parts);
        }
    }
    u
}

/// The usage of a response logged as JSON text, read as the gateway
/// reader reads a logged response (OpenAI's `usage`, Gemini's
/// `usage_metadata` or `usageMetadata`, a Responses API `response`'s);
/// `None` without counts.
fn usage_in_json(text: &str) -> Option<RawUsage> {
    let raw = crate::formats::gateway::parse_raw_str(text).ok()?;
    let u = raw.usage;
    u.normalise(&mut Problems::default()).map(|_| u)
}

/// The Bedrock model id OpenInference's instrumentors cut: they log
/// `anthropic.claude-sonnet-4-5-20250929-v1:0` as `claude-sonnet-4-5-…-v1:0`
/// (the Python one an in-region id, the JS one also a cross-region
/// profile's), which the catalog prices at the global endpoint's rates;
/// with the vendor put back it is priced as an in-region call (hunt160:
/// −9% on Claude Sonnet 4.5). A `global.` profile's call, cut the same way
/// by the JS instrumentor, cannot be told from it.
fn bedrock_id<'a>(
    system: &Lenient<Cow<'a, str>>,
    provider: &Lenient<Cow<'a, str>>,
    openinference: bool,
    model: Cow<'a, str>,
) -> Cow<'a, str> {
    let vendor = match system {
        Lenient::Value(v) if v.eq_ignore_ascii_case("anthropic") => "anthropic",
        _ => return model,
    };
    let aws = matches!(provider, Lenient::Value(v) if v.eq_ignore_ascii_case("aws") || v.eq_ignore_ascii_case("aws.bedrock"));
    // Bedrock's ids end in a version: `-v1:0`, `-v2`.
    let versioned = model.rsplit_once("-v").is_some_and(|(_, v)| {
        let (major, minor) = v.split_once(':').unwrap_or((v, "0"));
        [major, minor]
            .iter()
            .all(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
    });
    if openinference && aws && versioned && !model.contains(['.', '/']) {
        Cow::Owned(format!("{vendor}.{model}"))
    } else {
        model
    }
}

/// Whether the span names Bedrock the way instrumentations that pass its
/// counts as they are do (the conventions' `aws.bedrock`, older OpenLLMetry's
/// `AWS`): Bedrock's `inputTokens` leaves the cache reads and writes out.
/// (LiteLLM's `bedrock` passes OpenAI-style counts, which include them.)
fn bedrock_counts(a: &SpanAttrs<'_>) -> bool {
    [&a.provider, &a.system].into_iter().any(|p| {
        matches!(p, Lenient::Value(v) if v.eq_ignore_ascii_case("aws.bedrock") || v.eq_ignore_ascii_case("aws"))
    })
}

/// Whether the span's total says its input count leaves the cache out:
/// the total is input + output + the cache's reads and writes, with some
/// cache (an input that included them would make it input + output).
/// Strands Agents passes Bedrock Converse's counts so: `inputTokens`
/// without the cache, `totalTokens` with it.
fn total_adds_the_cache(a: &SpanAttrs<'_>) -> bool {
    let v = |l: &Lenient<u64>| match l {
        Lenient::Value(n) => Some(*n),
        _ => None,
    };
    let u = &a.u;
    // (OpenInference's `llm.token_count.total` is the usage's: its
    // Bedrock Converse spans pass Bedrock's `inputTokens`, without the
    // cache, and `totalTokens`, with it: hunt165.)
    let total = v(&a.total_tokens).or(v(&u.total_tokens));
    let (Some(total), Some(input)) = (total, v(&u.prompt_tokens)) else {
        return false;
    };
    let output = v(&u.completion_tokens).unwrap_or(0);
    let cache = v(&u.cached_tokens).unwrap_or(0) + v(&u.cache_creation_input_tokens).unwrap_or(0);
    cache > 0 && input.checked_add(output).and_then(|n| n.checked_add(cache)) == Some(total)
}

/// `{"anthropic": {"cacheCreationInputTokens": N, "usage": {…}}}` (AI SDK
/// 5's provider metadata, JSON text): N, and of them the 1-hour writes when
/// Anthropic's raw usage says (`cache_creation.ephemeral_1h_input_tokens`).
fn anthropic_cache_writes(text: &str) -> Option<(u64, Option<u64>)> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    let a = v.get("anthropic")?;
    let usage = a.get("usage");
    let n = a
        .get("cacheCreationInputTokens")
        .or_else(|| usage?.get("cache_creation_input_tokens"))?
        .as_u64()?;
    let one_hour = usage.and_then(|u| {
        u.get("cache_creation")?
            .get("ephemeral_1h_input_tokens")?
            .as_u64()
    });
    Some((n, one_hour))
}

/// A label (see [`LStr`]) read as a token count.
fn count(t: &Lenient<Cow<'_, str>>) -> Lenient<u64> {
    match t {
        Lenient::Value(t) => Scalar::Str(Cow::Borrowed(t)).count(),
        Lenient::Missing => Lenient::Missing,
        _ => Lenient::WrongType,
    }
}

/// Whether a file's first JSON object line is an OTLP export.
pub fn looks_like(map: &JsonObject) -> bool {
    // Tempo's downloads: v1's `batches` of resource spans, v2's `trace`
    // holding the export.
    let resource_spans = |rs: &JsonObject| {
        ["scopeSpans", "instrumentationLibrarySpans", "resource"]
            .iter()
            .any(|k| rs.contains_key(*k))
    };
    // A collector's file exporter serving every pipeline may open the
    // file with a metrics or logs line: OTLP too.
    map.contains_key("resourceSpans")
        || map.contains_key("resource_spans")
        || map.keys().any(|k| is_other_signal(k))
        || map
            .get("batches")
            .and_then(|b| b.as_array()?.first()?.as_object())
            .is_some_and(resource_spans)
        || map
            .get("trace")
            .and_then(|t| t.as_object())
            .is_some_and(|t| t.contains_key("resourceSpans"))
}

/// The `otlp-json` entry of the format registry (see [`crate::formats::REGISTRY`]).
pub static BUILTIN: Builtin = Builtin {
    name: "otlp-json",
    aliases: &["otlp", "otel"],
    format: Format::OtlpJson,
    detect: Detect::FirstLine(looks_like),
    doc: "OpenTelemetry GenAI spans as OTLP JSON lines (resourceSpans[]...,\n\
         or Grafana Tempo's batches[] and {trace: {resourceSpans}}),\n\
         one record per model-call span: gen_ai.request.model /\n\
         gen_ai.response.model, gen_ai.provider.name (or gen_ai.system),\n\
         gen_ai.usage.input_tokens (includes cached), cache_read /\n\
         cache_creation input tokens (also OpenLLMetry's, pydantic-ai's,\n\
         the Vercel AI SDK's ai.usage.* and Sentry's names; AI SDK 5's\n\
         Anthropic input without the cache, its writes from\n\
         ai.response.providerMetadata), output_tokens,\n\
         error.type, span times; resource attributes and other span\n\
         attributes as tags. Agent, workflow and tool spans\n\
         are not calls (their child model spans are). OpenInference\n\
         (Phoenix) LLM spans too: llm.model_name, llm.token_count.*.\n\
         The AI SDK's embedding calls (ai.embed.doEmbed,\n\
         ai.embedMany.doEmbed: ai.model.id, ai.usage.tokens) are calls.\n\
         Feature: a `feature` attribute, else the AI SDK's\n\
         ai.telemetry.functionId, else gen_ai.agent.name, else the\n\
         resource's service.name; session: gen_ai.conversation.id (or\n\
         session.id, langfuse.session.id, gcp.vertex.agent.session_id,\n\
         ai.telemetry.metadata.sessionId, OpenLLMetry's\n\
         traceloop.association.properties chat_id); user: user.id (or\n\
         langfuse.user.id, ai.telemetry.metadata.userId, the\n\
         association's user_id).\n\
         Strands Agents' cache_write_input_tokens; an input that leaves\n\
         the cache out when gen_ai.usage.total_tokens adds it, or when the\n\
         provider is aws.bedrock (Bedrock's own counts). The draft\n\
         llm.request.model / llm.usage.prompt_tokens convention too.\n\
         Captured gen_ai.input.messages and gen_ai.system_instructions give\n\
         the prompt and system-prompt fingerprints (OpenLLMetry's\n\
         gen_ai.prompt.N.role/content and OpenInference's\n\
         llm.input_messages.N.message.role/content too).\n\
         Google ADK's usage from gcp.vertex.agent.llm_response (its\n\
         gen_ai.usage.* leave Gemini's thoughts and cache reads out);\n\
         Pydantic Logfire's streamed calls from their streaming log's\n\
         response_data (the request span, without usage, is no call).\n\
         A line without a model-call span is skipped as no_gen_ai_spans.",
};

#[cfg(any(test, feature = "fuzzing"))]
fn collect_serde(line: &str) -> Vec<Result<CallRecord<'_>, Reject>> {
    let mut out = Vec::new();
    parse_line_serde(line, &mut |r| out.push(r));
    out
}

/// Reads a line both ways; when the scanner accepts it, what is emitted
/// must be what the serde path emits. Returns whether it accepted it.
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub fn agree(line: &str) -> bool {
    if line.trim_start().as_bytes().first() != Some(&b'{') {
        return false;
    }
    let slow = collect_serde(line);
    let fast = scan_line(line).map(|spans| {
        let mut records = Vec::new();
        spans.emit(&mut |r| records.push(r));
        records
    });
    crate::json::scan_value::agrees(line, fast, slow)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The system instructions are part of the prompt's fingerprint
    /// (hunt177: the same question under each customer's record was one
    /// prompt, TA109's 97% of spend); the same both is the same prompt.
    #[test]
    fn system_instructions_are_part_of_the_prompt() {
        let messages =
            r#"[{"role":"user","parts":[{"type":"text","content":"What is my balance?"}]}]"#;
        let with = |system: &str| {
            Prompt::read(
                Some(Cow::Borrowed(messages)),
                Some(Cow::Owned(format!(
                    r#"[{{"type":"text","content":"{system}"}}]"#
                ))),
            )
            .fp
        };
        assert_ne!(with("Customer A"), with("Customer B"));
        assert_eq!(with("Customer A"), with("Customer A"));
        assert!(with("Customer A").is_some());
        assert_eq!(Prompt::read(None, Some(Cow::Borrowed("x"))).fp, None);
    }

    /// Builds an export line from one resource's attributes and spans.
    fn export(resource: &str, spans: &str) -> String {
        format!(
            r#"{{"resourceSpans":[{{"resource":{{"attributes":[{resource}]}},"scopeSpans":[{{"scope":{{"name":"x"}},"spans":[{spans}]}}]}}]}}"#
        )
    }

    fn tricky() -> Vec<String> {
        let res = r#"{"key":"service.name","value":{"stringValue":"svc"}},{"key":"env","value":{"stringValue":"prod"}},{"key":"n","value":{"intValue":"3"}},{"key":"long","value":{"stringValue":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}}"#;
        let full = r#"{"traceId":"t","spanId":"0000000000000001","name":"chat m","kind":3,"startTimeUnixNano":"1790880363250000000","endTimeUnixNano":"1790880368129000000","attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},{"key":"gen_ai.provider.name","value":{"stringValue":"anthropic"}},{"key":"gen_ai.request.model","value":{"stringValue":"claude-3-5-haiku-20241022"}},{"key":"gen_ai.response.model","value":{"stringValue":"claude-3-5-haiku-20241022"}},{"key":"gen_ai.response.id","value":{"stringValue":"req_1"}},{"key":"user.id","value":{"stringValue":"u_1"}},{"key":"gen_ai.response.finish_reasons","value":{"arrayValue":{"values":[{"stringValue":"stop"}]}}},{"key":"gen_ai.request.max_tokens","value":{"intValue":"1024"}},{"key":"gen_ai.usage.input_tokens","value":{"intValue":"2967"}},{"key":"gen_ai.usage.output_tokens","value":{"intValue":"385"}},{"key":"feature","value":{"stringValue":"planner"}},{"key":"server.address","value":{"stringValue":"api.anthropic.com"}}],"status":{}}"#;
        let span = |attrs: &str, rest: &str| {
            format!(
                r#"{{"spanId":"s1","startTimeUnixNano":"1790880363250000000","endTimeUnixNano":"1790880368129000000","attributes":[{attrs}]{rest}}}"#
            )
        };
        let model = r#"{"key":"gen_ai.request.model","value":{"stringValue":"gpt-4o"}}"#;
        let tokens = r#"{"key":"gen_ai.usage.input_tokens","value":{"intValue":10}},{"key":"gen_ai.usage.output_tokens","value":{"intValue":"2"}}"#;
        let mt = format!("{model},{tokens}");
        let mut lines = vec![
            export(res, full),
            export(res, &format!("{full},{full},{}", span(&mt, r#","status":{"code":2}"#))),
            export("", &span(&format!("{mt},{{\"key\":\"gen_ai.operation.name\",\"value\":{{\"stringValue\":\"invoke_agent\"}}}}"), "")),
            export("", &span(r#"{"key":"gen_ai.operation.name","value":{"stringValue":"execute_tool"}},{"key":"gen_ai.usage.input_tokens","value":{"intValue":"5"}}"#, "")),
            export("", &span(r#"{"key":"http.method","value":{"stringValue":"GET"}}"#, "")),
            export("", ""),
            export("", &span(&format!("{mt},{{\"key\":\"gen_ai.usage.cache_read.input_tokens\",\"value\":{{\"intValue\":\"50\"}}}},{{\"key\":\"gen_ai.usage.cache_creation.input_tokens\",\"value\":{{\"intValue\":\"7\"}}}},{{\"key\":\"gen_ai.usage.reasoning.output_tokens\",\"value\":{{\"intValue\":\"1\"}}}}"), r#","status":{"code":"STATUS_CODE_ERROR","message":"x"}"#)),
            export("", &span(&format!("{mt},{{\"key\":\"gen_ai.usage.cost\",\"value\":{{\"doubleValue\":0.25}}}},{{\"key\":\"error.type\",\"value\":{{\"stringValue\":\"timeout\"}}}},{{\"key\":\"gen_ai.conversation.id\",\"value\":{{\"stringValue\":\"c\"}}}},{{\"key\":\"session.id\",\"value\":{{\"stringValue\":\"s\"}}}}"), "")),
            export("", &span(&format!("{{\"key\":\"session.id\",\"value\":{{\"stringValue\":\"s\"}}}},{mt},{{\"key\":\"gen_ai.usage.cost\",\"value\":{{\"stringValue\":\"abc\"}}}}"), "")),
            export("", &span(&format!("{mt},{{\"key\":\"gen_ai.usage.input_tokens\",\"value\":{{\"intValue\":\"-3\"}}}}"), "")),
            export("", &span(&format!("{mt},{{\"key\":\"gen_ai.request.max_tokens\",\"value\":{{\"arrayValue\":{{}}}}}},{{\"key\":\"gen_ai.response.finish_reasons\",\"value\":{{\"arrayValue\":{{\"values\":[{{}},{{\"arrayValue\":{{}}}},{{\"stringValue\":\"x\"}}]}}}}}}"), "")),
            export("", &span(&format!("{mt},{{\"key\":\"gen_ai.response.finish_reasons\",\"value\":{{\"arrayValue\":null}}}},{{\"key\":\"b\",\"value\":{{\"boolValue\":true}}}},{{\"key\":\"d\",\"value\":{{\"doubleValue\":1.5,\"stringValue\":\"first\"}}}},{{\"key\":\"k\",\"value\":{{\"kvlistValue\":{{\"values\":[]}}}}}},{{\"key\":\"y\",\"value\":{{\"bytesValue\":\"AAE=\"}}}},{{\"key\":\"e\",\"value\":{{}}}}"), "")),
            export("", &span(&format!("{mt},{{\"key\":\"gen_ai.response.model\",\"value\":{{\"intValue\":7}}}},{{\"key\":\"gen_ai.response.id\",\"value\":{{\"stringValue\":\"\"}}}}"), "")),
            export("", &span(&mt, "").replace("\"startTimeUnixNano\":\"1790880363250000000\"", "\"startTimeUnixNano\":1790880363250000000")),
            export("", &span(&mt, "").replace("\"endTimeUnixNano\":\"1790880368129000000\"", "\"endTimeUnixNano\":\"soon\"")),
            export("", &span(&mt, "").replace("\"startTimeUnixNano\":\"1790880363250000000\",", "")),
            export("", &span(&format!("{{\"k\\u0065y\":\"gen_ai.request.model\",\"value\":{{\"stringValue\":\"gpt\\u002d4o\"}}}},{tokens},{{\"key\":\"t\\\"ag\",\"value\":{{\"stringValue\":\"caf\\u00e9\"}}}}"), "")),
            // Attributes the literal fast path reads, and near misses it
            // leaves to the key-by-key path.
            export("", &span(&format!("{mt},{{\"key\":\"\",\"value\":{{\"stringValue\":\" \"}}}},{{\"key\":\"b\",\"value\":{{\"boolValue\":\"true\"}}}},{{\"key\":\"x\",\"value\":{{\"stringValue\":\"v\"}},\"extra\":1}},{{\"key\":\"y\",\"value\":{{\"stringValue\":\"v\",\"intValue\":\"1\"}}}},{{\"key\":\"z\", \"value\":{{\"doubleValue\":\"2.5\"}}}},{{\"key\":\"w\",\"value\":{{\"bytesValue\":\"AAE=\"}}}},{{\"key\":\"v\",\"value\":{{\"stringValue\":\"\"}}}}"), "")),
            // Shapes that bail: duplicates, nulls and wrong types where serde
            // requires a list or struct, a key missing or not a string, a
            // resource after its spans, out-of-range numbers where read.
            export("", &span(&mt, "").replace("\"spanId\":\"s1\"", "\"spanId\":\"s1\",\"spanId\":\"s2\"")),
            export("", &span(&format!("{mt},{{\"key\":\"a\",\"key\":\"b\",\"value\":{{}}}}"), "")),
            export("", &span(&format!("{mt},{{\"key\":\"a\",\"value\":{{\"stringValue\":\"x\",\"stringValue\":\"y\"}}}}"), "")),
            export("", &span(&format!("{mt},{{\"value\":{{\"stringValue\":\"x\"}}}}"), "")),
            export("", &span(&format!("{mt},{{\"key\":7,\"value\":{{}}}}"), "")),
            export("", &span(&format!("{mt},{{\"key\":\"a\",\"value\":null}}"), "")),
            export("", &span(&format!("{mt},{{\"key\":\"a\",\"value\":{{\"arrayValue\":{{\"values\":null}}}}}}"), "")),
            export("", &span(&format!("{mt},{{\"key\":\"a\",\"value\":{{\"intValue\":1e400}}}}"), "")),
            export("", &span(&mt, r#","status":{"code":2,"code":1}"#)),
            export("", &span(&mt, r#","status":[2]"#)),
            export("", &span(&mt, r#","status":null,"events":[{"x":1e400}]"#)),
            format!(r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{}]}}],"resource":{{"attributes":[{res}]}}}}]}}"#, span(&mt, "")),
            format!(r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{}]}}]}},{{"resource":null,"scopeSpans":[]}},{{}}],"other":{{"a":[1]}}}}"#, span(&mt, "")),
            r#"{"resourceSpans":null}"#.to_string(),
            r#"{"resourceSpans":[{"scopeSpans":[{"spans":null}]}]}"#.to_string(),
            r#"{"resourceSpans":[{"scopeSpans":[{"spans":[]}]}],"resourceSpans":[]}"#.to_string(),
            r#"{"resourceSpans":[]} trailing"#.to_string(),
            r#"{}"#.to_string(),
            r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"spanId":"lone \ud83d"}]}]}]}"#.to_string(),
        ];
        lines.push("[1]".to_string());
        lines.push("not json".to_string());
        lines
    }

    /// LangSmith's exporter writes each run as a span, its run type as
    /// `langsmith.span.kind` and (but for llm, tool, retriever, embedding
    /// and prompt runs) as `gen_ai.operation.name`; a traced helper's chain
    /// span carries its model call's model and tokens (hunt98: counted
    /// twice). OpenLLMetry's workflow and task spans likewise.
    #[test]
    fn langsmiths_chain_spans_and_openllmetrys_workflows_are_no_calls() {
        let line = &tricky()[0];
        let calls = |line: &str| {
            assert!(agree(line), "{line}");
            collect_serde(line).iter().filter(|r| r.is_ok()).count()
        };
        assert_eq!(calls(line), 1);
        let with = |attrs: &str| {
            line.replace(
                r#"{"key":"user.id""#,
                &format!(r#"{attrs},{{"key":"user.id""#),
            )
        };
        let kind = |k: &str, v: &str| format!(r#"{{"key":"{k}","value":{{"stringValue":"{v}"}}}}"#);
        for (k, v) in [
            ("langsmith.span.kind", "chain"),
            ("langsmith.span.kind", "tool"),
            ("langsmith.span.kind", "retriever"),
            ("traceloop.span.kind", "workflow"),
            ("traceloop.span.kind", "agent"),
        ] {
            assert_eq!(calls(&with(&kind(k, v))), 0, "{k}={v}");
        }
        // OpenLLMetry's LlamaIndex instrumentation records a call through
        // Cohere or Anthropic as a `task` span with its model and tokens.
        assert_eq!(calls(&with(&kind("traceloop.span.kind", "task"))), 1);
        // The operation comes before the span's other attributes here.
        let chain = line.replace(
            r#"{"key":"gen_ai.operation.name","value":{"stringValue":"chat"}}"#,
            r#"{"key":"gen_ai.operation.name","value":{"stringValue":"chain"}}"#,
        );
        assert_ne!(&chain, line);
        assert_eq!(calls(&chain), 0);
        assert_eq!(calls(&with(&kind("langsmith.span.kind", "llm"))), 1);
    }

    /// OTLP with protobuf's field names (`preserving_proto_field_name`)
    /// reads as the spec's lowerCamelCase does (hunt114: rejected).
    #[test]
    fn snake_case_field_names_read_as_camel_case() {
        let camel = export(
            r#"{"key":"service.name","value":{"stringValue":"svc"}}"#,
            r#"{"traceId":"t","spanId":"01","name":"chat","startTimeUnixNano":"1790880363250000000","endTimeUnixNano":"1790880364250000000","attributes":[{"key":"gen_ai.request.model","value":{"stringValue":"gpt-4o"}},{"key":"gen_ai.usage.input_tokens","value":{"intValue":"10"}},{"key":"gen_ai.usage.output_tokens","value":{"intValue":1}},{"key":"flags","value":{"arrayValue":{"values":[{"boolValue":true}]}}}],"status":{"code":2}}"#,
        );
        let mut snake = camel.clone();
        for (from, to) in [
            ("resourceSpans", "resource_spans"),
            ("scopeSpans", "scope_spans"),
            ("spanId", "span_id"),
            ("startTimeUnixNano", "start_time_unix_nano"),
            ("endTimeUnixNano", "end_time_unix_nano"),
            ("stringValue", "string_value"),
            ("intValue", "int_value"),
            ("arrayValue", "array_value"),
            ("boolValue", "bool_value"),
        ] {
            snake = snake.replace(&format!("\"{from}\""), &format!("\"{to}\""));
        }
        assert!(!snake.contains("Value\""), "{snake}");
        let map: JsonObject = serde_json::from_str(&snake).unwrap();
        assert!(looks_like(&map));
        let (a, b) = (collect_serde(&camel), collect_serde(&snake));
        assert_eq!(a.len(), 1);
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
        let mut scanned = Vec::new();
        parse_line_each(&snake, &mut |r| scanned.push(r));
        assert_eq!(format!("{scanned:?}"), format!("{b:?}"));
        // (The scanner leaves them to serde; the spec's names it reads.)
        assert!(!agree(&snake));
        assert!(agree(&camel));
    }

    #[test]
    fn every_spelling_of_an_error_status_is_an_error() {
        for (code, error) in [
            ("2", true),
            ("\"STATUS_CODE_ERROR\"", true),
            ("\"ERROR\"", true),
            ("\"error\"", true),
            ("1", false),
            ("\"OK\"", false),
            ("\"STATUS_CODE_UNSET\"", false),
        ] {
            let spans = format!(
                r#"{{"traceId":"t","spanId":"01","name":"chat","startTimeUnixNano":"1790880363250000000","attributes":[{{"key":"gen_ai.request.model","value":{{"stringValue":"gpt-4o"}}}},{{"key":"gen_ai.usage.input_tokens","value":{{"intValue":"10"}}}},{{"key":"gen_ai.usage.output_tokens","value":{{"intValue":"1"}}}}],"status":{{"code":{code}}}}}"#
            );
            let line = export("", &spans);
            let records = collect_serde(&line);
            assert_eq!(records.len(), 1, "{code}");
            let r = records[0].as_ref().unwrap();
            assert_eq!(r.status == Some(CallStatus::Error), error, "{code}");
            assert!(agree(&line), "{code}");
        }
    }

    #[test]
    fn feature_is_the_agent_else_the_service_unless_a_feature_attribute_is_logged() {
        let feature = |line: &str| {
            assert!(agree(line), "{line}");
            let r = collect_serde(line);
            r[0].as_ref().unwrap().feature.clone().map(Cow::into_owned)
        };
        let line = &tricky()[0];
        // The `feature` attribute is a tag; the analysis reads it.
        assert_eq!(feature(line), None);
        let attr = r#"{"key":"feature","value":{"stringValue":"planner"}},"#;
        let unnamed = line.replace(attr, "");
        assert_eq!(feature(&unnamed).as_deref(), Some("svc"));
        let agent = unnamed.replace(
            r#"{"key":"user.id""#,
            r#"{"key":"gen_ai.agent.name","value":{"stringValue":"triage"}},{"key":"user.id""#,
        );
        assert_eq!(feature(&agent).as_deref(), Some("triage"));
    }

    #[test]
    fn captured_messages_give_the_prompt_and_system_prompt_fingerprints() {
        let messages = r#"[{"role":"user","parts":[{"type":"text","content":"Hi"}]},{"role":"assistant","parts":[]},{"role":"user","content":"What is a prompt cache?"}]"#;
        let system = r#"[{"type":"text","content":"Answer briefly."}]"#;
        let attr = |key: &str, text: &str| {
            format!(
                r#"{{"key":"{key}","value":{{"stringValue":{}}}}},"#,
                serde_json::to_string(text).unwrap()
            )
        };
        let plain = &tricky()[0];
        let line = plain.replace(
            r#"{"key":"user.id""#,
            &format!(
                r#"{}{}{{"key":"user.id""#,
                attr("gen_ai.input.messages", messages),
                attr("gen_ai.system_instructions", system)
            ),
        );
        assert!(agree(&line), "{line}");
        let r = collect_serde(&line);
        let r = r[0].as_ref().unwrap();
        // The messages' fingerprint with the instructions'.
        assert_eq!(
            r.prompt_fp,
            Some(xxhash_rust::xxh3::xxh3_64_with_seed(
                &crate::record::fields::prompt_fingerprint(messages).to_le_bytes(),
                xxh3_64(system.as_bytes())
            ))
        );
        assert_eq!(r.prefix_fp, Some(xxh3_64(system.as_bytes())));
        assert_eq!(r.prefix_chars, Some(system.len() as u64));
        assert_eq!(r.user_messages, Some(2));
        assert_eq!(r.prompt_text.as_deref(), Some("What is a prompt cache?"));
        // Without them, none of it.
        let r = collect_serde(plain);
        let r = r[0].as_ref().unwrap();
        assert_eq!(
            (r.prompt_fp, r.prefix_fp, r.user_messages),
            (None, None, None)
        );
    }

    /// OpenLLMetry's and OpenInference's prompts, one attribute per
    /// message part (`gen_ai.prompt.0.content`,
    /// `llm.input_messages.0.message.content`), give the prompt's
    /// fingerprint as the messages list would (hunt83: not read, so
    /// TA108–TA110 could not run on such spans).
    #[test]
    fn indexed_prompt_attributes_give_the_prompt() {
        let attr = |key: &str, text: &str| {
            format!(
                r#"{{"key":"{key}","value":{{"stringValue":{}}}}},"#,
                serde_json::to_string(text).unwrap()
            )
        };
        let plain = &tricky()[0];
        let with = |attrs: String| {
            let line = plain.replace(
                r#"{"key":"user.id""#,
                &format!(r#"{attrs}{{"key":"user.id""#),
            );
            assert!(agree(&line), "{line}");
            let r = collect_serde(&line);
            let r = r[0].as_ref().unwrap();
            (r.prompt_fp, r.user_messages)
        };
        // Out of order, as exporters may write them.
        let traceloop = with(
            attr("gen_ai.prompt.1.content", "What is a prompt cache?")
                + &attr("gen_ai.prompt.0.role", "system")
                + &attr("gen_ai.prompt.0.content", "Answer briefly.")
                + &attr("gen_ai.prompt.1.role", "user"),
        );
        let messages = r#"[{"content":"Answer briefly.","role":"system"},{"content":"What is a prompt cache?","role":"user"}]"#;
        assert_eq!(
            traceloop,
            (
                Some(crate::record::fields::prompt_fingerprint(messages)),
                Some(1)
            )
        );
        let openinference = with(
            attr("llm.input_messages.0.message.role", "system")
                + &attr("llm.input_messages.0.message.content", "Answer briefly.")
                + &attr("llm.input_messages.1.message.role", "user")
                + &attr(
                    "llm.input_messages.1.message.content",
                    "What is a prompt cache?",
                ),
        );
        assert_eq!(openinference, traceloop);
        let other = with(
            attr("gen_ai.prompt.0.role", "user")
                + &attr("gen_ai.prompt.0.content", "Something else"),
        );
        assert_ne!(other.0, traceloop.0);
        // OpenInference's text in parts (hunt90): the parts are the text.
        let parts = |q: &str| {
            with(
                attr("llm.input_messages.0.message.role", "system")
                    + &attr("llm.input_messages.0.message.content", "Answer briefly.")
                    + &attr("llm.input_messages.1.message.role", "user")
                    + &attr(
                        "llm.input_messages.1.message.contents.0.message_content.type",
                        "text",
                    )
                    + &attr(
                        "llm.input_messages.1.message.contents.0.message_content.text",
                        q,
                    ),
            )
        };
        assert_eq!(parts("What is a prompt cache?"), traceloop);
        assert_ne!(parts("Another question").0, traceloop.0);
    }

    #[test]
    fn scanner_reads_tricky_lines_like_serde() {
        let lines = tricky();
        let bailed: Vec<usize> = (0..lines.len()).filter(|&i| !agree(&lines[i])).collect();
        // From the first of the shapes that bail (18) on, all but three
        // (28: `null` status and a skipped out-of-range number; 30: missing
        // and null optional parts; 35: `{}`); the last two lines are not
        // objects.
        let want: Vec<usize> = (18..lines.len())
            .filter(|i| ![28, 30, 35].contains(i))
            .collect();
        assert_eq!(bailed, want);
        // What the fast lines read: one record per GenAI span, resource tags last.
        let r = collect_serde(&lines[0]);
        let rec = r[0].as_ref().unwrap();
        assert_eq!(rec.model, "claude-3-5-haiku-20241022");
        assert_eq!(rec.finish_reason.as_deref(), Some("stop"));
        assert_eq!(
            rec.tags,
            vec![
                (Cow::from("feature"), Cow::from("planner")),
                (Cow::from("service.name"), Cow::from("svc")),
                (Cow::from("env"), Cow::from("prod")),
                (Cow::from("n"), Cow::from("3")),
            ]
        );
        assert_eq!(collect_serde(&lines[1]).len(), 3);
        assert_eq!(
            collect_serde(&lines[2])[0].as_ref().unwrap_err().reason,
            RejectReason::NoGenAiSpans
        );
    }

    #[test]
    fn scanner_reads_the_fixtures_like_serde() {
        let files = ["otlp-json/traces.jsonl", "mixed/otlp-pretty.json"];
        assert_eq!(
            crate::json::scan_value::fixtures_read_fast(&files, agree),
            5
        );
    }

    #[test]
    fn scanner_never_disagrees_with_serde_on_broken_lines() {
        let lines = tricky();
        let variants = crate::json::scan_value::broken_variants(&[lines[0].as_str()]);
        let fast = variants.iter().filter(|l| agree(l)).count();
        assert!(variants.len() > 30_000, "{}", variants.len());
        assert!(fast > 1_000, "{fast}");
    }
}
