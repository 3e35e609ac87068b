//! `tokenaudit formats`: what the readers recognise (from the ingest crate's
//! registry of built-in formats), and an example mapping.

use anyhow::Result;

use tokenaudit_ingest::formats;

use crate::output::print;

const HEAD: &str = r#"Built-in log formats (detected per file from its first lines; force one with
--input-format NAME):

"#;

const TAIL: &str = r#"  mapped    Any JSON lines or CSV shape, through a [mapping] table in --config
            (files a format above recognises are read by it all the same).

Encodings: plain, gzip (.gz) and zstd (.zst), and Parquet (rows are read like
JSON objects; struct columns become nested objects). Sniffed from the file's
first bytes. Inputs: files, directories (recursive), globs, `-` (stdin).

Layouts: JSON lines; a JSON array or pretty-printed/concatenated JSON
documents (told from the first bytes; a record's location is the line it
starts on, the next ones for values sharing a line); an
API's pages saved as files ({"data": [...], "meta": ...}: the records under
data, items, result, results, records, observations, requests, generations,
runs, rows, spans, events or content, when the first is a call; a record's
location is the line it starts on); CSV
with a header (.csv, .csv.gz, .csv.zst; each row an object keyed by the
header, headers flattened with dots (usage.prompt_tokens, as pandas'
json_normalize writes them) nested again, numbers as numbers, locations
are the CSV's lines; a row of more
or fewer cells than the header is rejected, the header again is skipped).
A CSV whose columns are named as a format's keys (model, prompt_tokens…,
or Helicone's export) is read as that format; others need a [mapping].
A stream's server-sent events saved as they came (`event:`, `data: {...}`,
blank lines, `data: [DONE]`) are read as the JSON of their data lines, at
their own lines: OpenAI's chunks, the Responses API's events and Gemini's
responses are calls as above; Anthropic's Messages events (message_start,
message_delta) are not read yet (log the SDK's final message instead). A tar archive is refused (extract it). A line that is no JSON only for
bytes of another encoding than UTF-8 or NUL bytes around it is read
mended, with a note at its line; Python's NaN and Infinity are values of
the wrong type (an optional field read as absent, with a note).

Token convention after reading: input = all prompt tokens including cached
reads and cache writes; output includes reasoning tokens. Anthropic-style
counts (input excludes the cache) are converted on reading.

Example mapping (save as tokenaudit.toml, pass with --config tokenaudit.toml):

[mapping]
# Each canonical field points at a dotted path in your lines; a list is
# tried in order (a null or empty value goes on to the next). Fields you do
# not map are still found by the gateway reader's common names, token
# counts too (a usage object's cached tokens beside a mapped input, at the
# top level or in the object holding it). A path
# goes on inside a string holding JSON (a warehouse's JSON column as text).
timestamp = "ts"
timestamp_unit = "ms"            # numeric timestamps: "s", "ms", "us", "ns"
# timestamp_format = "%m/%d/%Y %H:%M"  # text in another spelling (strftime; UTC unless %z)
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
# cache_write_tokens = "..."     # all cache writes; or their TTL split:
# cache_write_5m_tokens = "..."  # and cache_write_1h_tokens = "..."
cost = "billing.usd"
# cache_hit = "cached"           # true: answered from the gateway's cache, not billed
# reasoning_tokens = "..."       # thinking tokens, billed as output
# output_includes_reasoning = false  # when output_tokens leaves them out (Gemini's
#                                # candidates): they are added to the output
# timestamp_origin = "2025-01-01T00:00:00Z"  # numeric times counted from this
#                                # instant (in timestamp_unit; milliseconds without one)
# The other fields a mapping can name, each a path or a list of paths:
# request_id, route, team, turn, error_kind, http_status, attempt, retry_of
# (the request id a retry repeats), latency_ms, ttft_ms, finish_reason,
# max_tokens, prompt_fingerprint and prefix_fingerprint (a logged hash of the
# prompt and of its system prompt: the repeat and cache rules need them),
# prefix_tokens (the system prompt's tokens).
# messages = "req.body.messages" # where the prompt is, for the rules that
# prompt = "..."                 # compare prompts (a messages list, a text,
# system = "..."                 # a system prompt): only fingerprints kept
# usage = "span_data.usage"       # the call's usage object, read as a `usage` is
#                                # (OpenAI's, Anthropic's, Gemini's: cached reads,
#                                # cache writes, reasoning, audio, web searches),
#                                # in place of the line's own; without it, the
#                                # object holding the mapped input_tokens or
#                                # output_tokens is read so, when it has counts

[mapping.defaults]               # constants for fields the log lacks
provider = "openai"

[mapping.tags]                   # extra attribution dimensions
env = "labels.env"

# [mapping.only]                 # rows that are model calls; the others
# kind = ["llm", "embedding"]    # (chain, tool runs) are skipped, not rejected

Example mapping for a CSV (the paths name header columns), e.g. a trace with
TIMESTAMP,ContextTokens,GeneratedTokens and no model:

[mapping]
timestamp = "TIMESTAMP"
input_tokens = "ContextTokens"
output_tokens = "GeneratedTokens"

[mapping.defaults]
model = "gpt-4o-mini"            # the model the traffic ran on
"#;

/// The whole text: the built-in formats between [`HEAD`] and [`TAIL`].
fn text() -> String {
    format!("{HEAD}{}{TAIL}", formats::describe())
}

pub fn run() -> Result<()> {
    print(&text())
}
