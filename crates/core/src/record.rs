//! The canonical call record: one row per API call, whatever shape the log had.
//!
//! Every reader maps its source onto this one struct, and everything after
//! ingest (pricing, attribution, detectors, reports) reads only this struct.
//! Fields a log lacks stay `None`; the audit counts which fields were present so
//! the report can say which analyses the input could not support.
//!
//! Strings borrow from the input line where they can (`Cow`), so the common case
//! parses without allocating.
//!
//! ## Token convention
//! All readers normalise usage, once, into this convention (see `Usage`):
//! `input` is the **total** prompt tokens of the request, *including* cached
//! reads and cache writes; `cached_read` and `cache_write` are parts of `input`;
//! `output` is the total generated tokens *including* reasoning tokens, and
//! `reasoning` is a part of `output`. OpenAI-style sources already count this
//! way; Anthropic's `input_tokens` excludes cache reads and writes, so its
//! reader adds them.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::money::Money;
use crate::pricing::{How, Processing};

/// How a call ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CallStatus {
    Ok,
    Error,
    Cancelled,
}

impl CallStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CallStatus::Ok => "ok",
            CallStatus::Error => "error",
            CallStatus::Cancelled => "cancelled",
        }
    }

    /// Reads the many ways logs spell a status: `ok`, `success`, `succeeded`,
    /// `completed`, `200`, `error`, `failed`, `failure`, `timeout`, `cancelled`,
    /// `canceled`, `aborted`, `expired`…
    pub fn parse(text: &str) -> Option<CallStatus> {
        let t = text.trim();
        if let Ok(code) = t.parse::<u16>() {
            return Some(CallStatus::from_http(code));
        }
        // Compared case-insensitively in place: this runs once per call, and
        // a lowercase copy would allocate.
        const WORDS: [(&str, CallStatus); 24] = [
            ("ok", CallStatus::Ok),
            ("success", CallStatus::Ok),
            ("succeeded", CallStatus::Ok),
            ("successful", CallStatus::Ok),
            ("completed", CallStatus::Ok),
            // OpenAI Responses cut short (`max_output_tokens`): billed.
            ("incomplete", CallStatus::Ok),
            ("complete", CallStatus::Ok),
            ("done", CallStatus::Ok),
            ("finished", CallStatus::Ok),
            ("default", CallStatus::Ok),
            ("error", CallStatus::Error),
            ("errored", CallStatus::Error),
            ("failed", CallStatus::Error),
            ("failure", CallStatus::Error),
            ("fail", CallStatus::Error),
            ("timeout", CallStatus::Error),
            ("timed_out", CallStatus::Error),
            ("rate_limited", CallStatus::Error),
            ("exception", CallStatus::Error),
            ("cancelled", CallStatus::Cancelled),
            ("canceled", CallStatus::Cancelled),
            ("aborted", CallStatus::Cancelled),
            ("expired", CallStatus::Cancelled),
            ("interrupted", CallStatus::Cancelled),
        ];
        WORDS
            .iter()
            .find(|(w, _)| w.len() == t.len() && w.eq_ignore_ascii_case(t))
            .map(|&(_, s)| s)
    }

    /// 2xx is ok, 499 (client closed request) is cancelled, anything else an error.
    pub fn from_http(code: u16) -> CallStatus {
        match code {
            200..=299 => CallStatus::Ok,
            499 => CallStatus::Cancelled,
            _ => CallStatus::Error,
        }
    }
}

/// Token usage of one call, in the canonical convention (see the module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    /// Total prompt tokens, including `cached_read` and `cache_write`.
    pub input: u64,
    /// Prompt tokens read from the provider's prompt cache (part of `input`).
    pub cached_read: u64,
    /// Prompt tokens written to the provider's prompt cache (part of `input`).
    pub cache_write: u64,
    /// Of `cache_write`, the tokens written with a 1-hour TTL; the rest are
    /// 5-minute writes (Anthropic prices the two differently).
    pub cache_write_1h: u64,
    /// Total generated tokens, including `reasoning`.
    pub output: u64,
    /// Reasoning ("thinking") tokens (part of `output`).
    pub reasoning: u64,
    /// Audio tokens among `input` (cached or not): realtime and audio
    /// models bill them at an audio rate of their own.
    pub input_audio: u64,
    /// Of `input_audio`, those read from the prompt cache (part of
    /// `cached_read` too).
    pub cached_audio: u64,
    /// Audio tokens among `output` (spoken answers), at the output audio
    /// rate.
    pub output_audio: u64,
    /// Web searches the provider ran for the call (Anthropic's
    /// `server_tool_use.web_search_requests`), billed per search.
    pub web_searches: u64,
}

impl Usage {
    /// Prompt tokens billed at the plain input rate.
    pub fn uncached_input(&self) -> u64 {
        self.input
            .saturating_sub(self.cached_read)
            .saturating_sub(self.cache_write)
    }

    /// Output tokens that are not reasoning tokens.
    pub fn visible_output(&self) -> u64 {
        self.output.saturating_sub(self.reasoning)
    }

    pub fn total(&self) -> u64 {
        self.input + self.output
    }

    /// Audio prompt tokens billed at the plain audio input rate: the audio
    /// not read from the cache, within the uncached input.
    pub fn uncached_audio(&self) -> u64 {
        self.input_audio
            .saturating_sub(self.cached_audio_read())
            .min(self.uncached_input())
    }

    /// Audio tokens read from the cache, within the cached reads.
    pub fn cached_audio_read(&self) -> u64 {
        self.cached_audio.min(self.cached_read)
    }

    /// Audio output tokens, within the output that is not reasoning.
    pub fn visible_audio_output(&self) -> u64 {
        self.output_audio.min(self.visible_output())
    }

    /// Checks the parts are within their wholes; readers call this after
    /// normalising so a convention mix-up is rejected rather than mispriced.
    pub fn check(&self) -> Result<(), &'static str> {
        if self.cached_read + self.cache_write > self.input {
            return Err("cached and cache-write tokens exceed total input tokens");
        }
        if self.cache_write_1h > self.cache_write {
            return Err("1-hour cache-write tokens exceed cache-write tokens");
        }
        if self.reasoning > self.output {
            return Err("reasoning tokens exceed output tokens");
        }
        if self.input_audio > self.input {
            return Err("audio input tokens exceed total input tokens");
        }
        if self.cached_audio > self.cached_read || self.cached_audio > self.input_audio {
            return Err("cached audio tokens exceed cached or audio input tokens");
        }
        if self.output_audio > self.output - self.reasoning {
            return Err("audio output tokens exceed the output other than reasoning");
        }
        Ok(())
    }
}

/// Number of hash functions in a [`MinHash`] signature.
pub const MINHASH_LEN: usize = 16;

/// A MinHash signature: per hash function, the minimum hash over the text's
/// word shingles. The share of equal positions estimates the Jaccard
/// similarity of two texts' shingle sets.
pub type MinHash = [u32; MINHASH_LEN];

/// Estimated Jaccard similarity of two signatures.
pub fn minhash_similarity(a: &MinHash, b: &MinHash) -> f64 {
    a.iter().zip(b).filter(|(x, y)| x == y).count() as f64 / MINHASH_LEN as f64
}

/// One API call. See the module docs for the token convention.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CallRecord<'a> {
    /// When the call was made (UTC).
    pub timestamp: Option<DateTime<Utc>>,
    pub request_id: Option<Cow<'a, str>>,
    /// Provider as logged (`openai`, `anthropic`, `bedrock`…), if logged.
    pub provider: Option<Cow<'a, str>>,
    /// Model as logged. Required: a line without a model is rejected.
    pub model: Cow<'a, str>,
    /// Another model named by the call's logged response (a gateway line's
    /// `model` is the alias or Azure deployment asked for; its response
    /// names the snapshot or fallback that served it). Sinks settle which
    /// of the two prices the call ([`crate::pricing::Catalog::settle_model`])
    /// before they read `model`; never stored.
    pub served_model: Option<Cow<'a, str>>,
    pub feature: Option<Cow<'a, str>>,
    pub route: Option<Cow<'a, str>>,
    pub team: Option<Cow<'a, str>>,
    pub user: Option<Cow<'a, str>>,
    pub session: Option<Cow<'a, str>>,
    /// Turn number within the session, when logged.
    pub turn: Option<u32>,
    pub status: Option<CallStatus>,
    pub error_kind: Option<Cow<'a, str>>,
    pub http_status: Option<u16>,
    /// 1 for a first attempt, 2 for the first retry…
    pub attempt: Option<u32>,
    /// Request id of the call this one retries.
    pub retry_of: Option<Cow<'a, str>>,
    pub usage: Usage,
    /// The usage gave a cached-read count, zero included: the log records
    /// cached tokens (a `cached_tokens: 0` says nothing was read from the
    /// cache; an absent one says nothing).
    pub cached_read_logged: bool,
    pub latency_ms: Option<u64>,
    pub ttft_ms: Option<u64>,
    /// Sent through a provider's batch API (billed at batch prices).
    pub batch: Option<bool>,
    /// Processed in a provider's flex or priority tier (the log's
    /// `service_tier`), billed at that tier's rates.
    pub service_tier: Option<ServiceTier>,
    /// Ran on US-only inference (Anthropic's `usage.inference_geo: "us"`),
    /// billed at the model's US multiple besides its processing's.
    pub us_only: bool,
    pub finish_reason: Option<Cow<'a, str>>,
    pub max_tokens: Option<u32>,
    /// Fingerprint of the whole prompt (hash; never the text).
    pub prompt_fp: Option<u64>,
    /// Fingerprint of the static prefix (system prompt).
    pub prefix_fp: Option<u64>,
    /// Tokens in that prefix, when logged.
    pub prefix_tokens: Option<u64>,
    /// The cost the log itself carries, if any.
    pub logged_cost: Option<Money>,
    /// The prompt's text as near-duplicate detection compares it (the last
    /// user message), when the log carries it; borrowed from the line where
    /// it has no escapes. Its MinHash signature is computed only for the
    /// calls the near-duplicate sample keeps. Never written to a report.
    pub prompt_text: Option<Cow<'a, str>>,
    /// The prompt as the log wrote it (the raw JSON of `messages` or
    /// `prompt`), borrowed from the line, never copied: read only by
    /// `--include-prompts`, for the excerpts some findings show.
    pub prompt_raw: Option<&'a str>,
    /// The raw JSON of a separate `system` field, borrowed likewise.
    pub system_raw: Option<&'a str>,
    /// User messages in the logged `messages`: the turn of a conversation
    /// that resends its history, when no turn number is logged.
    pub user_messages: Option<u32>,
    /// The length of the system prompt's text as logged (its JSON, quotes
    /// aside), for an estimate of its tokens when they are not logged.
    pub prefix_chars: Option<u64>,
    /// The near-duplicate signature of `prompt_text`, when it was computed
    /// before the record was made: the store keeps the signature, not the
    /// text, so records read back from it carry this instead.
    pub minhash: Option<MinHash>,
    /// Free-form tags (`key`, `value`), in log order.
    pub tags: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    /// The first optional field (`latency_ms`, `user`…) whose value had the
    /// wrong type: the call was read without it. Set by the readers, counted
    /// and reported by ingest (`field_ignored`); never stored.
    pub unread_field: Option<&'static str>,
    /// A streaming chunk's or event's record (`chat.completion.chunk`,
    /// `response.*`) with usage: a stream whose every chunk carries the
    /// usage so far (xAI, Perplexity, vLLM's continuous usage) is one call,
    /// so the pipeline keeps one such record per request id, the most
    /// complete. Set by the readers; never stored.
    pub stream_chunk: bool,
    /// A stream chunk's `created` (epoch seconds), the same for every
    /// chunk of a stream, which keys its chunks rather than the time the
    /// line is dated by: an app's own arrival time changes from chunk to
    /// chunk (hunt130: a running-usage stream was a call a second). Set by
    /// the readers; never stored.
    pub stream_created: Option<i64>,
    /// A Gemini response with its `responseId`: a whole response, or a
    /// stream's chunk (`stream_chunk` when it has no `finishReason`). A
    /// stream's chunks are kept one per response id, whatever their times
    /// (hunt121: a chunk a second was a call); a finished one is kept with
    /// them once its worker has seen a stream's chunk, and before that
    /// counted as it comes, its id noted so that chunks of its stream read
    /// later give way to it (a stream cut before its end, or with a
    /// code-execution round's early `STOP`, is one call: hunt119, hunt121).
    /// Set by the readers; never stored.
    pub gemini_response: bool,
    /// A stream's last chunk without usage (an OpenAI chat stream logged
    /// without `stream_options.include_usage`, or its usage chunk lost):
    /// held as its stream's call until a chunk with usage replaces it, and
    /// a `missing_usage` reject when none does (hunt130: such streams were
    /// skipped as chunks, nothing said). Set by the readers; never stored.
    pub usage_missing: bool,
}

impl CallRecord<'_> {
    /// An owned copy without the prompt's text (raw or parsed): what a
    /// skipped line keeps as evidence (LiteLLM's cache hits).
    pub fn owned_without_text(&self) -> CallRecord<'static> {
        let own = |v: &Option<Cow<'_, str>>| v.as_deref().map(|t| Cow::Owned(t.to_string()));
        CallRecord {
            timestamp: self.timestamp,
            request_id: own(&self.request_id),
            provider: own(&self.provider),
            model: Cow::Owned(self.model.to_string()),
            served_model: own(&self.served_model),
            feature: own(&self.feature),
            route: own(&self.route),
            team: own(&self.team),
            user: own(&self.user),
            session: own(&self.session),
            turn: self.turn,
            status: self.status,
            error_kind: own(&self.error_kind),
            http_status: self.http_status,
            attempt: self.attempt,
            retry_of: own(&self.retry_of),
            usage: self.usage,
            cached_read_logged: self.cached_read_logged,
            latency_ms: self.latency_ms,
            ttft_ms: self.ttft_ms,
            batch: self.batch,
            service_tier: self.service_tier,
            us_only: self.us_only,
            finish_reason: own(&self.finish_reason),
            max_tokens: self.max_tokens,
            prompt_fp: self.prompt_fp,
            prefix_fp: self.prefix_fp,
            prefix_tokens: self.prefix_tokens,
            logged_cost: self.logged_cost,
            prompt_text: None,
            prompt_raw: None,
            system_raw: None,
            user_messages: self.user_messages,
            prefix_chars: self.prefix_chars,
            minhash: None,
            unread_field: self.unread_field,
            stream_chunk: self.stream_chunk,
            stream_created: self.stream_created,
            gemini_response: self.gemini_response,
            usage_missing: self.usage_missing,
            tags: self
                .tags
                .iter()
                .map(|(k, v)| (Cow::Owned(k.to_string()), Cow::Owned(v.to_string())))
                .collect(),
        }
    }

    /// The status to use when the log gave none: an HTTP status or an error
    /// kind imply one; otherwise the call is assumed to have succeeded.
    pub fn effective_status(&self) -> CallStatus {
        if let Some(s) = self.status {
            return s;
        }
        if let Some(code) = self.http_status {
            return CallStatus::from_http(code);
        }
        if self.error_kind.is_some() {
            return CallStatus::Error;
        }
        CallStatus::Ok
    }

    pub fn is_batch(&self) -> bool {
        self.batch.unwrap_or(false)
    }

    /// How the call was processed, as its price goes: a batch call is
    /// batch-priced whatever its service tier says.
    pub fn processing(&self) -> Processing {
        ServiceTier::processing(self.is_batch(), self.service_tier)
    }

    /// What the call's price depends on besides its model, day and usage.
    pub fn how(&self) -> How {
        How::new(self.processing(), self.us_only)
    }
}

/// A processing tier that changes a call's price: OpenAI's (and Gemini's)
/// flex processing, billed below the standard rate, and priority
/// processing, above it; fast mode (`fast`: Anthropic's `speed`, at the
/// model's fast multiple; OpenAI's name for priority processing since July
/// 2026, at its priority rates); and Vertex's provisioned throughput, Bedrock's reserved tier
/// and OpenAI's Scale Tier, billed by reservation, which are priced at
/// standard rates and said. A log's other `service_tier` words (`default`,
/// `auto`, `standard`, `on_demand`) are standard processing, and `batch`
/// is a batch call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ServiceTier {
    Flex,
    Priority,
    Provisioned,
    Fast,
    /// OpenAI's Ultrafast Processing (`service_tier: "ultrafast"`,
    /// gpt-5.6-sol's access-controlled tier): no catalog prices it, so it
    /// is priced at standard rates and counted as such.
    Ultrafast,
}

impl ServiceTier {
    /// How a call (or a group of calls) was processed, as its price goes:
    /// batch whatever its tier, else its tier, else standard.
    pub fn processing(batch: bool, tier: Option<ServiceTier>) -> Processing {
        match (batch, tier) {
            (true, _) => Processing::Batch,
            (false, Some(ServiceTier::Flex)) => Processing::Flex,
            (false, Some(ServiceTier::Priority)) => Processing::Priority,
            (false, Some(ServiceTier::Fast)) => Processing::Fast,
            (false, Some(ServiceTier::Ultrafast)) => Processing::Ultrafast,
            (false, Some(ServiceTier::Provisioned) | None) => Processing::Standard,
        }
    }

    /// The tier a logged `service_tier` names, in any case; `None` for
    /// standard processing and words not known.
    pub fn parse(text: &str) -> Option<ServiceTier> {
        let t = text.trim();
        // Gemini's enum spelling (`SERVICE_TIER_PRIORITY`: hunt149's bug2).
        let t = match t.get(..13) {
            Some(p) if p.eq_ignore_ascii_case("service_tier_") => &t[13..],
            _ => t,
        };
        if t.eq_ignore_ascii_case("flex") {
            Some(ServiceTier::Flex)
        } else if t.eq_ignore_ascii_case("priority") {
            Some(ServiceTier::Priority)
        } else if t.eq_ignore_ascii_case("fast") {
            Some(ServiceTier::Fast)
        } else if t.eq_ignore_ascii_case("ultrafast") {
            Some(ServiceTier::Ultrafast)
        } else if t.eq_ignore_ascii_case("provisioned")
            || t.eq_ignore_ascii_case("provisioned_throughput")
            || t.eq_ignore_ascii_case("reserved")
            || t.eq_ignore_ascii_case("scale")
        {
            Some(ServiceTier::Provisioned)
        } else {
            None
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ServiceTier::Flex => "flex",
            ServiceTier::Priority => "priority",
            ServiceTier::Fast => "fast",
            ServiceTier::Ultrafast => "ultrafast",
            ServiceTier::Provisioned => "provisioned",
        }
    }
}

/// The canonical fields, for coverage reports ("which fields did the input
/// lack, and which analyses does that prevent").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Timestamp,
    RequestId,
    Provider,
    Feature,
    Route,
    Team,
    User,
    Session,
    Turn,
    Status,
    ErrorKind,
    HttpStatus,
    Attempt,
    RetryOf,
    CachedRead,
    CacheWrite,
    Reasoning,
    Latency,
    Ttft,
    Batch,
    FinishReason,
    MaxTokens,
    PromptFingerprint,
    PrefixFingerprint,
    PrefixTokens,
    LoggedCost,
    Tags,
    UserMessages,
    PrefixText,
}

impl Field {
    pub const ALL: [Field; 29] = [
        Field::Timestamp,
        Field::RequestId,
        Field::Provider,
        Field::Feature,
        Field::Route,
        Field::Team,
        Field::User,
        Field::Session,
        Field::Turn,
        Field::Status,
        Field::ErrorKind,
        Field::HttpStatus,
        Field::Attempt,
        Field::RetryOf,
        Field::CachedRead,
        Field::CacheWrite,
        Field::Reasoning,
        Field::Latency,
        Field::Ttft,
        Field::Batch,
        Field::FinishReason,
        Field::MaxTokens,
        Field::PromptFingerprint,
        Field::PrefixFingerprint,
        Field::PrefixTokens,
        Field::LoggedCost,
        Field::Tags,
        Field::UserMessages,
        Field::PrefixText,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Field::Timestamp => "timestamp",
            Field::RequestId => "request_id",
            Field::Provider => "provider",
            Field::Feature => "feature",
            Field::Route => "route",
            Field::Team => "team",
            Field::User => "user",
            Field::Session => "session",
            Field::Turn => "turn",
            Field::Status => "status",
            Field::ErrorKind => "error_kind",
            Field::HttpStatus => "http_status",
            Field::Attempt => "attempt",
            Field::RetryOf => "retry_of",
            Field::CachedRead => "cached_read_tokens",
            Field::CacheWrite => "cache_write_tokens",
            Field::Reasoning => "reasoning_tokens",
            Field::Latency => "latency_ms",
            Field::Ttft => "ttft_ms",
            Field::Batch => "batch",
            Field::FinishReason => "finish_reason",
            Field::MaxTokens => "max_tokens",
            Field::PromptFingerprint => "prompt_fingerprint",
            Field::PrefixFingerprint => "prefix_fingerprint",
            Field::PrefixTokens => "prefix_tokens",
            Field::LoggedCost => "logged_cost",
            Field::Tags => "tags",
            Field::UserMessages => "user_messages",
            Field::PrefixText => "system_prompt_text",
        }
    }

    /// What cannot be analysed when no record carries this field.
    pub fn impact(self) -> &'static str {
        match self {
            Field::Timestamp => "no daily series, no --since/--until filtering, no date-effective pricing (today's prices are used), no spike or drift detection",
            Field::RequestId => "findings cannot cite sample requests; retries cannot be linked",
            Field::Provider => "attribution by provider falls back to the catalog's provider for the model",
            Field::Feature => "no attribution by feature; cost per feature and per-feature findings are unavailable",
            Field::Route => "no attribution by route",
            Field::Team => "no attribution by team",
            Field::User => "no attribution by user; retry chains cannot be tied to a user",
            Field::Session => "no attribution by session (rule coverage says what the rules infer instead)",
            Field::Turn => "turns are inferred (rule coverage says how)",
            Field::Status => "all calls count as successful unless an HTTP status or error says otherwise",
            Field::ErrorKind => "failures cannot be broken down by kind",
            Field::HttpStatus => "failures are known only from the status field",
            Field::Attempt => "retry chains are inferred, not read",
            Field::RetryOf => "retry chains are inferred, not read",
            Field::CachedRead => "no call's usage gives a cached-read count (not even 0): the logs may not record cached tokens (cached reads are then priced at the full input rate, and the caching rules cannot see what is cached already), or nothing was read from the cache",
            Field::CacheWrite => "no call shows a cache write: the logs may not record them (writes are then priced as plain input), or none was made",
            Field::Reasoning => "no call shows reasoning tokens: the logs may count them in output without saying (they cannot be shown apart), or none were used",
            Field::Latency => "no latency figures",
            Field::Ttft => "no time-to-first-token figures",
            Field::Batch => "all calls are priced at real-time (non-batch) rates",
            Field::FinishReason => "output truncation (length limit) is detected only where a call's output reaches its logged max_tokens",
            Field::MaxTokens => "missing max_tokens limits cannot be detected",
            Field::PromptFingerprint => "no duplicate-request (response cache) analysis",
            Field::PrefixFingerprint => "no repeated-system-prompt (prompt cache) analysis",
            Field::PrefixTokens => "system-prompt sizes are estimated (rule coverage says from what)",
            Field::LoggedCost => "no reconciliation against the cost the log carries",
            Field::Tags => "no attribution by tag",
            Field::UserMessages => "turns cannot be read from the messages (rule coverage says how they are inferred)",
            Field::PrefixText => "system-prompt sizes cannot be estimated from their text (rule coverage says from what)",
        }
    }
}

/// Whether `id` is a provider's id of one response: OpenAI's
/// (`chatcmpl-…`, `resp_…`, `cmpl-…`), Anthropic's (`msg_…`) or
/// OpenRouter's (`gen-…`), with more after the prefix.
pub fn is_response_id(id: &str) -> bool {
    ["chatcmpl-", "resp_", "cmpl-", "msg_", "gen-"]
        .iter()
        .any(|p| id.len() > p.len() + 7 && id.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_logged_service_tier_is_flex_priority_or_standard_and_batch_wins() {
        assert_eq!(ServiceTier::parse(" Flex"), Some(ServiceTier::Flex));
        assert_eq!(ServiceTier::parse("PRIORITY"), Some(ServiceTier::Priority));
        // Anthropic's fast mode, OpenAI's name for priority processing
        // since July 2026 (hunt79).
        assert_eq!(ServiceTier::parse("fast"), Some(ServiceTier::Fast));
        // Scale Tier: reserved units, as Bedrock's reserved tier.
        assert_eq!(ServiceTier::parse("scale"), Some(ServiceTier::Provisioned));
        for standard in ["default", "auto", "standard", "on_demand", "batch", ""] {
            assert_eq!(ServiceTier::parse(standard), None, "{standard}");
        }
        let call = |batch, tier| CallRecord {
            batch,
            service_tier: tier,
            ..CallRecord::default()
        };
        assert_eq!(call(None, None).processing(), Processing::Standard);
        assert_eq!(
            call(Some(false), Some(ServiceTier::Flex)).processing(),
            Processing::Flex
        );
        assert_eq!(
            call(None, Some(ServiceTier::Priority)).processing(),
            Processing::Priority
        );
        assert_eq!(
            call(Some(true), Some(ServiceTier::Priority)).processing(),
            Processing::Batch
        );
    }
}
