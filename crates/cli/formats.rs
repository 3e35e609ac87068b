//! `tokenaudit formats`: what the readers recognise, and an example mapping.

use anyhow::Result;

use crate::output::print;

const TEXT: &str = r#"Built-in log formats (detected per file from its first lines):

  gateway   JSON lines with a model and a usage object: OpenAI chat/Responses
            `usage` (prompt_tokens, prompt_tokens_details.cached_tokens,
            completion_tokens_details.reasoning_tokens), Anthropic `usage`
            (input_tokens, cache_read_input_tokens, cache_creation_input_tokens,
            cache_creation.ephemeral_{5m,1h}_input_tokens), LiteLLM responses,
            Gemini `usageMetadata`, or the same keys at the top level; logged
            request/response pairs ({"request": {...}, "response": {...}}).
            Common names for the other fields: timestamp/created_at/ts,
            feature, route/endpoint, team, user/user_id, session/session_id,
            status/http_status/error, attempt, retry_of, latency_ms, cost,
            tags and metadata.* (see the docs of the gateway reader).

  mapped    Any JSON lines shape, through a [mapping] table in --config.

Encodings: plain, gzip (.gz) and zstd (.zst) JSON lines, and Parquet (rows are
read like JSON objects; struct columns become nested objects). Sniffed from the
file's first bytes. Inputs: files, directories (recursive), globs, `-` (stdin).

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
"#;

pub fn run() -> Result<()> {
    print(TEXT)
}
