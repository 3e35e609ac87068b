//! `tokenaudit formats`: what the readers recognise, and an example mapping.

use anyhow::Result;

use crate::output::print;

const TEXT: &str = r#"Built-in log formats (detected per file from its first lines; force one with
--input-format NAME):

  gateway   JSON lines with a model and a usage object: OpenAI chat/Responses
            `usage` (prompt_tokens, prompt_tokens_details.cached_tokens,
            completion_tokens_details.reasoning_tokens), Anthropic `usage`
            (input_tokens, cache_read_input_tokens, cache_creation_input_tokens,
            cache_creation.ephemeral_{5m,1h}_input_tokens), LiteLLM responses,
            Gemini `usageMetadata`, or the same keys at the top level; logged
            request/response pairs ({"request": {...}, "response": {...}}).
            Also read as they are: OpenAI chat completion and Responses
            objects, Anthropic Messages responses, Gemini/Vertex
            generateContent responses (modelVersion, createTime), and LiteLLM
            spend logs (LiteLLM_SpendLogs rows: spend, team_id, user,
            metadata.user_api_key_alias, request_tags, status).
            Common names for the other fields: timestamp/created_at/ts,
            feature, route/endpoint, team, user/user_id, session/session_id,
            status/http_status/error, attempt, retry_of, latency_ms, cost,
            tags and metadata.* (see the docs of the gateway reader).

  openai-batch
            OpenAI Batch API output files ({id, custom_id, response: {status_code,
            body}, error}): priced at batch rates; requests that did not run
            (expired, cancelled, refused) are counted as not_billed.

  anthropic-batch
            Anthropic Message Batches results ({custom_id, result: {type,
            message}}): priced at batch rates; errored, canceled and expired
            results are counted as not_billed.

  otlp-json OpenTelemetry GenAI spans as OTLP JSON lines (resourceSpans[]...),
            one record per model-call span: gen_ai.request.model /
            gen_ai.response.model, gen_ai.provider.name (or gen_ai.system),
            gen_ai.usage.input_tokens (includes cached), cache_read /
            cache_creation input tokens, output_tokens, error.type, span
            times; resource attributes and other span attributes as tags.
            A line without a model-call span is counted as no_genai_spans.

  langfuse  Langfuse observation exports (UI/API camelCase or blob-storage
            snake_case): GENERATION and EMBEDDING observations are calls;
            usageDetails parts (input is uncached; cache_read_input_tokens,
            input_cached_tokens, cache_creation_input_tokens,
            output_reasoning_tokens) are added up once; totalCost is the
            logged cost; level ERROR is a failure; userId, sessionId, tags,
            traceName (feature), metadata. Spans, events and other
            observations are counted as not_a_call (not an error for --strict).

  claude-code
            Claude Code session logs (~/.claude/projects/<project>/<session>.jsonl,
            or $CLAUDE_CONFIG_DIR/projects): one record per assistant message
            with message.usage (Anthropic convention, 5m/1h cache writes),
            counted once per (message.id, requestId) across all files, keeping
            the most complete copy; sidechain replays of a main-chain message
            are dropped. Session: sessionId; feature: the project (last part
            of cwd); tags project=<cwd>, sidechain=true. isApiErrorMessage
            lines are failed calls. Skipped, counted, not errors: lines with
            no call (not_a_call), <synthetic> messages, copies (duplicate).

  codex     Codex session logs (~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl):
            event_msg token_count events, usage from info.last_token_usage
            (or the change in total_token_usage; cached inside input), the
            model from the latest turn_context, the session from session_meta.
            A token_count repeating the previous total is a duplicate; info
            null and other lines are not_a_call.

  helicone  Helicone request exports (JSON, JSON lines, CSV): prompt_tokens
            (uncached) + prompt_cache_read_tokens + prompt_cache_write_tokens,
            completion_tokens, cost, response_status, delay_ms,
            time_to_first_token, request_user_id, properties as tags (a
            `feature` property is the feature, Helicone-Session-Id the
            session). Requests answered from Helicone's cache
            (cache_reference_id) were not billed: counted as not_a_call.

  mapped    Any JSON lines or CSV shape, through a [mapping] table in --config.

Encodings: plain, gzip (.gz) and zstd (.zst), and Parquet (rows are read like
JSON objects; struct columns become nested objects). Sniffed from the file's
first bytes. Inputs: files, directories (recursive), globs, `-` (stdin).

Layouts: JSON lines; a JSON array or pretty-printed/concatenated JSON
documents (told from the first bytes; locations are element numbers); CSV
with a header (.csv, .csv.gz, .csv.zst; each row an object keyed by the
header, numbers as numbers, locations are the CSV's lines). A CSV needs a
[mapping] unless it is a known export (Helicone's).

Token convention after reading: input = all prompt tokens including cached
reads and cache writes; output includes reasoning tokens. Anthropic-style
counts (input excludes the cache) are converted on reading.

Example mapping (save as tokenaudit.toml, pass with --config tokenaudit.toml):

[mapping]
# Each canonical field points at a dotted path in your lines; a list is
# tried in order. Fields you do not map are still found by the gateway
# reader's common names.
timestamp = "ts"
timestamp_unit = "ms"            # numeric timestamps: "s", "ms", "us", "ns"
model = "llm.model_name"
provider = "llm.vendor"
feature = ["labels.feature", "service"]
user = "labels.user"
session = "labels.conversation"
status = "outcome"
input_tokens = "llm.tokens.in"
cached_read_tokens = "llm.tokens.cached"
output_tokens = "llm.tokens.out"
input_includes_cache = true      # false if your input count excludes cached tokens
cost = "billing.usd"

[mapping.defaults]               # constants for fields the log lacks
provider = "openai"

[mapping.tags]                   # extra attribution dimensions
env = "labels.env"

Example mapping for a CSV (the paths name header columns), e.g. a trace with
TIMESTAMP,ContextTokens,GeneratedTokens and no model:

[mapping]
timestamp = "TIMESTAMP"
input_tokens = "ContextTokens"
output_tokens = "GeneratedTokens"

[mapping.defaults]
model = "gpt-4o-mini"            # the model the traffic ran on
"#;

pub fn run() -> Result<()> {
    print(TEXT)
}
