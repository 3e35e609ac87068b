//! The generic gateway reader: JSON lines carrying a `model` and a usage
//! object, with the field names gateways and in-house wrappers commonly use.
//!
//! It is the default reader and the fast path, so it is a hand-written serde
//! visitor over the raw line: strings borrow from the line, unknown keys are
//! skipped without being built, and a value of the wrong type is noted (and
//! the line rejected with the field's name) instead of aborting the parse.
//!
//! Recognised, at the top level or inside `request`, `response` or `metadata`
//! objects (so logged request/response pairs work too; also under
//! `request_body`, `response_body`, `raw_response`, `llm_response`,
//! `completion`, and any of them, or an `output`, given as JSON text):
//! - time: `timestamp`, `created_at`, `ts`, `time`, `start_time`, `startTime`,
//!   `request_created_at`, `created`, `createTime`, `processed_time`, `starting_at`
//!   (epoch numbers in s/ms/µs/ns or text; a time before 2015, before any
//!   LLM API, is read as absent and said to be);
//! - ids: `request_id`, `requestId`, `id`, `responseId`; `retry_of`,
//!   `retry_of_request_id`;
//! - `provider`, `custom_llm_provider`, `llm_provider` (else a host's own
//!   mark: Groq's `x_groq`, Cerebras' `time_info`); `model`, `model_name`,
//!   `modelVersion` (Gemini responses);
//! - attribution: `feature`, `use_case`; `route`, `endpoint`; `team`,
//!   `team_id`; `user`, `user_id`, `userId`, `end_user`; `session`,
//!   `session_id`, `sessionId`, `conversation_id`, `thread_id`; `turn`;
//! - outcome: `status` (text or HTTP code), `http_status`, `status_code`,
//!   `statusCode` and `httpStatus` at the top (a failure's code, 400 to
//!   599, when no other key gives the status),
//!   `error` (text or `{type|code}`), `error_type`, `error_kind`, LiteLLM's
//!   `metadata.error_information` (`{error_class|error_code}`); `attempt`;
//!   `finish_reason`, `stop_reason`, `finishReason`, also in the first of
//!   `choices` (OpenAI) or `candidates` (Gemini; not in Parquet's lists);
//!   `max_tokens`, `max_output_tokens`,
//!   `max_completion_tokens`, Gemini's `generationConfig.maxOutputTokens`,
//!   Bedrock Converse's `inferenceConfig.maxTokens`; `latency_ms`, `duration_ms`, `ttft_ms`,
//!   `time_to_first_token_ms`; `batch`, `is_batch`, `service_tier: "batch"` (and `"flex"`,
//!   `"priority"`: priced at that tier's rates);
//!   LiteLLM's `cache_hit` and Portkey's `cache_status` (true, or `HIT` and
//!   `SEMANTIC HIT`: answered from the gateway's cache, not billed:
//!   counted as `not_a_call`);
//! - usage: `usage` (OpenAI chat or Responses, Anthropic, LiteLLM),
//!   `usageMetadata` (Gemini), or the same token keys at the top level;
//!   LiteLLM's `metadata.additional_usage_values` (its cache reads and
//!   writes, beside the top-level `prompt_tokens` that include them);
//!   the Vercel AI SDK's `usage` (`promptTokens` in AI SDK 4, `inputTokens`
//!   in 5 and 6), `providerMetadata` (Anthropic's cache reads and writes,
//!   OpenAI's cached tokens) and `totalUsage` (every step of a multi-step
//!   call, which replaces the line's other usage); LangChain's `usage_metadata`
//!   (`input_token_details.cache_read`, `cache_creation`),
//!   `response_metadata.token_usage` and `llm_output.token_usage`
//!   (`llmOutput.tokenUsage` in LangChain.js); a Gemini model's
//!   OpenAI-style usage whose `total_tokens` is more than prompt and
//!   completion holds its thoughts there only (they are output);
//! - prompts: `prompt_hash`/`prompt_fingerprint`, `system_prompt_hash`/
//!   `prefix_hash`, `system_prompt_tokens`/`prefix_tokens`; or, when the log
//!   carries them, `messages`, `prompt`, `input`, `system`, `instructions`,
//!   which are hashed and never kept;
//! - `cost`, `cost_usd`, `spend`, `response_cost`, `total_cost`;
//! - `tags` (object or list) and any other `metadata` key become tags; a
//!   list's `key:value` items (LiteLLM's `request_tags`) are tags `key`.
//!
//! A line that gives one field under two keys keeps the value of the key
//! that ranks first ([`rank`], [`aliases`]), never the one that comes
//! first: a JSON line, its key-sorted copy and its Parquet row (read in
//! column-name order) are the same call.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use xxhash_rust::xxh3::xxh3_64;

use tokenaudit_core::CallRecord;

use crate::formats::{Builtin, Detect, Format};
use crate::json::scan::{Bail, Scan, Scanner};
use crate::json::scan_value::{KeyShape, KeySpan};
use crate::record::fields::{
    non_empty, LBool, LCodeOrWord, LMoney, LStr, LTime, Lenient, RawUsage, Scalar, LU64,
};
use crate::record::staging::{is_no_prompt, outranks, put_ranked, LNum, Ranked, RawLine};
use crate::record::tags::list_tag;
use crate::rejects::{Reject, RejectReason};

/// An object key, borrowed from the line when it has no escapes. Cheaper
/// than `LStr`: keys are always strings and need no emptiness check.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Key<'de>, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// Which object a key was found in decides what unknown keys mean.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scope {
    Top,
    /// `body` of a logged pair, the first of `choices`: unknown keys are
    /// ignored.
    Nested,
    /// A logged pair's `response` (and anything in it, such as a batch
    /// result's `body`): as [`Scope::Nested`], but its model is the one that
    /// answered ([`Field::ServedModel`]).
    Response,
    /// `request` of a logged pair: as [`Scope::Nested`], but its model and
    /// service tier are what was asked for (an Azure deployment's name,
    /// `auto`), read only when the line gives none elsewhere.
    Request,
    /// `metadata`: unknown keys become tags.
    Metadata,
    /// `choices` / `candidates` (serde's visitor only): the array's first
    /// element is read as [`Scope::Nested`], the rest and any other value
    /// skipped.
    Choices,
}

/// Fills `slot` with the next value unless an earlier key already did.
fn fill<'de, A, T>(map: &mut A, slot: &mut T, present: bool) -> Result<(), A::Error>
where
    A: MapAccess<'de>,
    T: Deserialize<'de>,
{
    if present {
        map.next_value::<IgnoredAny>()?;
    } else {
        *slot = map.next_value()?;
    }
    Ok(())
}

/// [`fill`] for a ranked slot: the next value, unwrapped by `inner`, is
/// read when the slot is empty or the key ranks first
/// (`staging::put_ranked`), else skipped.
fn fill_ranked<'de, A, W, T>(
    map: &mut A,
    slot: &mut Lenient<T>,
    held: &mut u16,
    rank: u16,
    inner: impl FnOnce(W) -> Lenient<T>,
) -> Result<(), A::Error>
where
    A: MapAccess<'de>,
    W: Deserialize<'de>,
{
    if outranks(slot.is_value(), *held, rank) {
        let v = inner(map.next_value()?);
        put_ranked(slot, held, rank, v);
    } else {
        map.next_value::<IgnoredAny>()?;
    }
    Ok(())
}

struct LineSeed<'b, 'a> {
    line: &'b mut RawLine<'a>,
    scope: Scope,
    depth: u8,
}

impl<'de, 'b> DeserializeSeed<'de> for LineSeed<'b, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, 'b> Visitor<'de> for LineSeed<'b, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    // Nested `request`/`response`/`metadata` values that are not objects are
    // ignored; a top-level non-object is caught before we get here.
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, text: &str) -> Result<(), E> {
        if self.scope == Scope::Choices {
            choices_text(self.line, text, self.depth);
        } else {
            nested_from_text(self.line, text, self.scope, self.depth);
        }
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if self.scope == Scope::Choices {
            let line = &mut *self.line;
            let seed = LineSeed {
                line: &mut *line,
                scope: Scope::Nested,
                depth: self.depth,
            };
            if seq.next_element_seed(seed)?.is_some() {
                line.choices = true;
            }
        }
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        if self.scope == Scope::Choices {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(());
        }
        let l = self.line;
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            let f = field(&key).in_scope(self.scope);
            let rank = rank(f, key.as_bytes(), self.scope, self.depth);
            // A ranked slot's value, read as `$w` (see `fill_ranked`).
            macro_rules! fill {
                ($slot:ident, $r:ident, $w:ty) => {
                    fill_ranked(
                        &mut map,
                        &mut l.$slot.0,
                        &mut l.ranks[Ranked::$r],
                        rank,
                        |w: $w| w.0,
                    )
                };
            }
            match f {
                Field::Timestamp
                    if key.as_ref() == "created"
                        || outranks(l.timestamp.0.is_value(), l.ranks[Ranked::Timestamp], rank) =>
                {
                    let t: LTime = map.next_value()?;
                    if key.as_ref() == "created" {
                        l.note_created(&t.0);
                    }
                    l.set_time_ranked(t.0, rank);
                }
                Field::RequestId => put_id(l, map.next_value::<LStr<'de>>()?.0, rank),
                Field::Provider => fill!(provider, Provider, LStr<'de>)?,
                Field::RequestModel => fill!(request_model, RequestModel, LStr<'de>)?,
                Field::ModelGroup => {
                    let p = l.model_group.0.is_present();
                    fill(&mut map, &mut l.model_group, p)?
                }
                Field::ServedModel => fill!(served_model, ServedModel, LStr<'de>)?,
                Field::EventKind => {
                    let v: LStr<'de> = map.next_value()?;
                    if let Lenient::Value(kind) = v.0 {
                        l.stream_event |= is_stream_event(&kind);
                    }
                }
                Field::StreamDelta => {
                    let _: IgnoredAny = map.next_value()?;
                    l.stream_event = true;
                }
                Field::StreamEvent => {
                    let _: IgnoredAny = map.next_value()?;
                    l.event_only = true;
                }
                Field::HostGroq | Field::HostCerebras => {
                    // The scanner's test, on the value's text.
                    let raw = map.next_value::<serde_json::Value>()?.to_string();
                    l.host = l.host.or(f.host_of(Some(&raw)));
                    groq_usage(l, f, &raw, self.depth);
                }
                Field::Model => fill!(model, Model, LStr<'de>)?,
                Field::Feature => fill!(feature, Feature, LStr<'de>)?,
                Field::Route => fill!(route, Route, LStr<'de>)?,
                Field::Team => fill!(team, Team, LStr<'de>)?,
                Field::User => fill!(user, User, LStr<'de>)?,
                Field::Session => fill!(session, Session, LStr<'de>)?,
                Field::Turn => fill!(turn, Turn, LU64)?,
                Field::Status => {
                    let v: LStr<'de> = map.next_value()?;
                    set_status(l, v.0, rank);
                }
                Field::HttpStatus => set_http_status(l, map.next_value()?, rank),
                Field::HttpStatusCamel => set_http_code(l, map.next_value()?),
                Field::Error
                    if outranks(l.error_kind.0.is_value(), l.ranks[Ranked::ErrorKind], rank) =>
                {
                    let v: ErrorField<'de> = map.next_value()?;
                    let held = &mut l.ranks[Ranked::ErrorKind];
                    put_ranked(&mut l.error_kind.0, held, rank, v.0 .0);
                }
                // A slot a key that ranks first has filled.
                Field::Timestamp | Field::Error => {
                    map.next_value::<IgnoredAny>()?;
                }
                Field::ErrorKind => fill!(error_kind, ErrorKind, LStr<'de>)?,
                Field::Attempt => fill!(attempt, Attempt, LU64)?,
                Field::RetryOf => fill!(retry_of, RetryOf, LStr<'de>)?,
                // LangChain's `token_usage` is read below the line's own
                // usage wherever it is, as a nested object's usage.
                Field::Usage | Field::TokenUsage if self.depth > 0 || f == Field::TokenUsage => {
                    let mut nested = RawUsage::default();
                    map.next_value_seed(UsageSeed(&mut nested, Part::Any))?;
                    l.usage.add_nested(nested);
                }
                Field::Usage if l.usage.whole => {
                    map.next_value::<IgnoredAny>()?;
                }
                Field::Usage => {
                    map.next_value_seed(UsageSeed(&mut l.usage, Part::Any))?;
                }
                Field::TotalUsage => {
                    let mut total = RawUsage::default();
                    map.next_value_seed(UsageSeed(&mut total, Part::Any))?;
                    l.usage.take_whole(total);
                }
                Field::UsageKey => {
                    let v: LU64 = map.next_value()?;
                    set_usage_key(&mut l.usage, key.as_ref(), v.0);
                }
                Field::UsageDetail if l.usage.whole => {
                    map.next_value::<IgnoredAny>()?;
                }
                Field::UsageDetail => {
                    let v: serde_json::Value = map.next_value()?;
                    read_detail(&mut l.usage, key.as_ref(), &v);
                }
                Field::Latency => fill!(latency_ms, Latency, LNum)?,
                Field::Ttft => fill!(ttft_ms, Ttft, LNum)?,
                Field::Batch => fill!(batch, Batch, LBool)?,
                Field::CacheHit => fill!(cache_hit, CacheHit, LBool)?,
                Field::GatewayCached => {
                    let raw: &'de RawValue = map.next_value()?;
                    l.gateway_cached |= raw.get() == "true";
                }
                Field::Summed => {
                    let raw: &'de RawValue = map.next_value()?;
                    l.summed |= is_summed(&key, raw.get());
                }
                Field::CostInCents => {
                    let _: IgnoredAny = map.next_value()?;
                    l.cost_in_cents = true;
                }
                Field::Upstream => {
                    let raw: &'de RawValue = map.next_value()?;
                    if let Ok(v) = Scanner::new(raw.get()).scalar() {
                        upstream(&mut l.usage, &key, v);
                    }
                }
                Field::Success => {
                    let raw: &'de RawValue = map.next_value()?;
                    if raw.get() == "false" {
                        l.unsuccessful = true;
                    }
                }
                Field::RequestServiceTier => {
                    fill!(request_service_tier, RequestServiceTier, LStr<'de>)?
                }
                Field::ServiceTier => put_tier(l, map.next_value::<LStr<'de>>()?.0, rank),
                Field::InferenceGeo => l.usage.set_geo(&map.next_value::<LStr<'de>>()?.0),
                Field::FinishReason => fill!(finish_reason, FinishReason, LStr<'de>)?,
                Field::MaxTokens => fill!(max_tokens, MaxTokens, LU64)?,
                Field::PromptHash => fill!(prompt_hash, PromptHash, LStr<'de>)?,
                Field::PrefixHash => fill!(prefix_hash, PrefixHash, LStr<'de>)?,
                Field::PrefixTokens => fill!(prefix_tokens, PrefixTokens, LU64)?,
                Field::Messages | Field::Prompt | Field::System => {
                    let raw: Option<&'de RawValue> = map.next_value().ok().flatten();
                    if let Some(raw) = raw {
                        set_text(l, f, raw.get());
                    }
                }
                Field::Grounding => {
                    let raw: Option<&'de RawValue> = map.next_value().ok().flatten();
                    if let Some(raw) = raw {
                        grounding(l, raw.get());
                    }
                }
                Field::Continues => {
                    let raw: Option<&'de RawValue> = map.next_value().ok().flatten();
                    if let Some(raw) = raw {
                        continues(l, raw.get());
                    }
                }
                Field::Cost => fill!(cost, Cost, LMoney)?,
                Field::Tags => {
                    map.next_value_seed(TagsSeed(&mut l.tags))?;
                }
                Field::Metadata if self.depth < 3 => {
                    map.next_value_seed(LineSeed {
                        line: l,
                        scope: Scope::Metadata,
                        depth: self.depth + 1,
                    })?;
                }
                Field::Nested if self.depth < 3 => {
                    map.next_value_seed(LineSeed {
                        line: l,
                        scope: nested_scope(key.as_bytes(), self.scope),
                        depth: self.depth + 1,
                    })?;
                }
                Field::Choices if self.depth < 3 && self.scope != Scope::Metadata => {
                    map.next_value_seed(LineSeed {
                        line: l,
                        scope: Scope::Choices,
                        depth: self.depth + 1,
                    })?;
                }
                Field::Output
                    if self.depth < 3
                        && !matches!(self.scope, Scope::Metadata | Scope::Request) =>
                {
                    // Read by the scanner's reader of the same array.
                    let raw: &'de RawValue = map.next_value()?;
                    let _ = scan_output(&mut Scanner::new(raw.get()), l, self.scope, self.depth);
                }
                _ if self.scope == Scope::Metadata => {
                    let v: LStr<'de> = map.next_value()?;
                    if let Lenient::Value(v) = v.0 {
                        if metadata_tag(&key, &v) {
                            l.tags.push((key, v));
                        }
                    }
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// What a key means to the gateway reader. The scanner and the serde visitor
/// both dispatch through this one table, so they recognise the same keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Field {
    Timestamp,
    RequestId,
    Provider,
    Model,
    /// A logged pair's `request.model` and `request.service_tier` (no key
    /// names these: [`Field::in_scope`] turns the others into them).
    RequestModel,
    /// LiteLLM's `model_group` (its router's public name for the model):
    /// the call's model when the line names no other (see
    /// `RawLine::model_group`).
    ModelGroup,
    RequestServiceTier,
    /// The model a logged pair's `response` (or `body`) names: the snapshot
    /// or fallback that served the call, which the sink may price instead
    /// of the line's own `model` (`CallRecord::served_model`).
    ServedModel,
    Feature,
    Route,
    Team,
    User,
    Session,
    Turn,
    Status,
    HttpStatus,
    /// camelCase loggers' `statusCode` / `httpStatus` (Node's
    /// `res.statusCode`), at a line's top only: a failure's HTTP code (400
    /// to 599) when no other key gives the status, else nothing (gRPC's
    /// and OTel's codes are 0 to 16, and an app's own 200 says nothing of
    /// its LLM call; hunt49, hunt52, hunt55).
    HttpStatusCamel,
    Error,
    ErrorKind,
    Attempt,
    RetryOf,
    Usage,
    /// The Vercel AI SDK's `totalUsage`: the usage of every step of a
    /// multi-step call (its `usage` is the last step's), which replaces
    /// any other usage of the line (`RawUsage::whole`).
    TotalUsage,
    /// LangChain's `token_usage` (`tokenUsage` in LangChain.js): the usage
    /// of `response_metadata` or `llm_output`, which a line's own usage
    /// object wins over, wherever it is (hunt51: an aggregate before
    /// `usage`; hunt52: `llm_output` logged as a line).
    TokenUsage,
    /// A token count outside a usage object (`prompt_tokens` at the top).
    UsageKey,
    /// A usage's detail object outside a usage object, at the top only
    /// (`prompt_tokens_details`, `completion_tokens_details`, the Responses
    /// API's `input_tokens_details` and `output_tokens_details`): a usage
    /// spread into the line, `{...response.usage}` (hunt57).
    UsageDetail,
    Latency,
    Ttft,
    Batch,
    /// LiteLLM's `cache_hit`: answered from LiteLLM's own cache.
    CacheHit,
    /// Cloudflare AI Gateway's `cached` (at the top only, the JSON value
    /// `true`; a CSV cell's `true` is one too, not `1` or `"yes"`): answered
    /// from its cache unless a cost above zero is logged
    /// (`RawLine::gateway_cached`).
    GatewayCached,
    /// Cloudflare AI Gateway's `success` (at the top only): `false` (the
    /// JSON value, or a CSV cell's `FALSE`) is a failed call when no
    /// `status` says otherwise, whatever its HTTP code (`true` leaves the
    /// outcome to the code).
    Success,
    /// A usage API's row: `num_model_requests` (OpenAI), `requests` (OpenRouter's
    /// activity), a `context_window`
    /// bucket such as `0-200k` (Anthropic); at the top only
    /// (`RawLine::summed`).
    Summed,
    /// Portkey's log export's `req_units` / `res_units` (at the top only):
    /// the line's `cost` is in cents, as Portkey documents its export
    /// (`RawLine::cost_in_cents`).
    CostInCents,
    /// OpenRouter's generation record's `upstream_inference_cost` and
    /// `is_byok` at the top (the `data` object alone): the provider's
    /// charge a BYOK call's `total_cost` leaves out
    /// ([`RawUsage::with_upstream`]).
    Upstream,
    ServiceTier,
    /// Gemini's `groundingMetadata` (in a candidate): a prompt grounded
    /// with Google Search (its `webSearchQueries`) is a search the call
    /// ran, billed per grounded prompt, which the catalog prices (or says
    /// it cannot: hunt117, neither priced nor said).
    Grounding,
    /// A stateful request's conversation: `previous_response_id`,
    /// `conversation` (see [`RawLine::continues`]).
    Continues,
    /// Anthropic's `inference_geo` outside the usage object (a flattened
    /// usage, a CSV column, or the request's, which binds: the call runs
    /// in the US or fails): `us` is US-only inference (hunt119).
    InferenceGeo,
    FinishReason,
    MaxTokens,
    PromptHash,
    PrefixHash,
    PrefixTokens,
    Messages,
    Prompt,
    System,
    Cost,
    Tags,
    Metadata,
    /// `request` / `response` / `body` of a logged pair.
    Nested,
    /// OpenAI's `choices`, Gemini's `candidates`: the first one is read
    /// like `response` (for its `finish_reason` / `finishReason`).
    Choices,
    /// A Responses API `output` array: its `web_search_call` items are
    /// searches the call ran (billed per call), counted when the usage
    /// gives none.
    Output,
    /// A line's own `object` / `type` (at its top only): a streaming
    /// chunk's or event's (`chat.completion.chunk`, `response.*`) marks
    /// the line, which without usage is no call (`RawLine::stream_event`).
    EventKind,
    /// A choice's `delta` (in the first of `choices`, or a body): the line is a streamed
    /// chunk whatever its `object` says (Perplexity's last event is a
    /// `chat.completion` with its chunks' id: hunt94).
    StreamDelta,
    /// At the top, a key only a streamed event has: Azure OpenAI's
    /// content-filter chunks (`prompt_filter_results`, with `id`, `model`
    /// and `object` empty), Bedrock ConverseStream's events before its
    /// `metadata` (`messageStart`, `contentBlockDelta`, …): without usage
    /// the line is no call (hunt130: rejected lines, `--strict` failed)
    /// (`RawLine::event_only`).
    StreamEvent,
    /// A key only one host's responses carry (Groq's `x_groq`, Cerebras'
    /// `time_info`): the provider, when the line names none. A model
    /// several hosts sell (`openai/gpt-oss-120b`) is then priced at the
    /// host's rates.
    HostGroq,
    HostCerebras,
    Other,
}

pub(crate) fn field(key: &str) -> Field {
    // Grouped by length, so a key is compared only with the few of its own
    // length (a chain of all ~90 comparisons showed up in profiles).
    match key.len() {
        2 => match key {
            "ts" => Field::Timestamp,
            "id" => Field::RequestId,
            _ => Field::Other,
        },
        4 => match key {
            "time" => Field::Timestamp,
            "team" => Field::Team,
            "user" => Field::User,
            "turn" => Field::Turn,
            "cost" => Field::Cost,
            "tags" => Field::Tags,
            "meta" => Field::Metadata,
            "body" => Field::Nested,
            "type" => Field::EventKind,
            _ => Field::Other,
        },
        5 => match key {
            // A count of calls a row sums (a query's `count() as calls`:
            // hunt180, CloudWatch Logs Insights over Bedrock's invocation
            // logs; 1,500 invocations priced as 2 calls).
            "calls" => Field::Summed,
            "model" => Field::Model,
            "route" => Field::Route,
            "error" => Field::Error,
            "usage" => Field::Usage,
            "batch" => Field::Batch,
            "input" => Field::Prompt,
            "spend" => Field::Cost,
            // A streamed choice's part (a chunk's, whatever its `object`).
            "delta" => Field::StreamDelta,
            // Portkey's reserved metadata key for the user.
            "_user" => Field::User,
            _ => Field::Other,
        },
        6 => match key {
            "vendor" => Field::Provider,
            // Cloudflare AI Gateway's logs: answered from its cache.
            "cached" => Field::GatewayCached,
            "userId" => Field::User,
            "status" => Field::Status,
            "prompt" => Field::Prompt,
            "system" => Field::System,
            "output" => Field::Output,
            "labels" => Field::Tags,
            "object" => Field::EventKind,
            "x_groq" => Field::HostGroq,
            _ => Field::Other,
        },
        7 => match key {
            "choices" => Field::Choices,
            "created" => Field::Timestamp,
            "feature" => Field::Feature,
            "team_id" => Field::Team,
            "user_id" => Field::User,
            "session" => Field::Session,
            "attempt" => Field::Attempt,
            "latency" => Field::Latency,
            "ttft_ms" => Field::Ttft,
            "costUSD" => Field::Cost,
            "success" => Field::Success,
            "request" => Field::Nested,
            // Amazon Bedrock's (InvokeModel, Converse).
            "modelId" => Field::Model,
            "is_byok" => Field::Upstream,
            _ => Field::Other,
        },
        8 => match key {
            // Portkey's log export: the model (when the response body is
            // not among the exported columns).
            "ai_model" => Field::Model,
            "provider" => Field::Provider,
            "model_id" => Field::Model,
            "recordId" => Field::RequestId,
            "use_case" => Field::Feature,
            "endpoint" => Field::Route,
            "end_user" => Field::User,
            "retry_of" => Field::RetryOf,
            "delay_ms" => Field::Latency,
            "is_batch" => Field::Batch,
            "messages" => Field::Messages,
            "cost_usd" => Field::Cost,
            "metadata" => Field::Metadata,
            "response" => Field::Nested,
            // OpenRouter's activity rows: a day's requests to an endpoint.
            "requests" => Field::Summed,
            _ => Field::Other,
        },
        9 => match key {
            "num_calls" => Field::Summed,
            // Anthropic's usage and cost reports: a time bucket's end.
            "ending_at" => Field::Summed,
            // Portkey's log export: its `cost` is in cents.
            "req_units" | "res_units" => Field::CostInCents,
            "time_info" => Field::HostCerebras,
            "timestamp" => Field::Timestamp,
            "cache_hit" => Field::CacheHit,
            "startTime" => Field::Timestamp,
            "requestId" => Field::RequestId,
            "api_route" => Field::Route,
            "team_name" => Field::Team,
            "sessionId" => Field::Session,
            "thread_id" => Field::Session,
            "prompt_fp" => Field::PromptHash,
            // Cloudflare AI Gateway's logs.
            "tokens_in" => Field::UsageKey,
            // LangChain.js' `LLMResult.llmOutput` (its `tokenUsage`).
            "llmOutput" => Field::Nested,
            // Bedrock Converse's `inferenceConfig.maxTokens`; AI SDK 4's.
            "maxTokens" => Field::MaxTokens,
            _ => Field::Other,
        },
        10 => match key {
            // OpenAI's legacy `/v1/usage` rows.
            "n_requests" => Field::Summed,
            "candidates" => Field::Choices,
            "completion" => Field::Nested,
            "created_at" => Field::Timestamp,
            "start_time" => Field::Timestamp,
            "@timestamp" => Field::Timestamp,
            "request_id" => Field::RequestId,
            "model_name" => Field::Model,
            "team_alias" => Field::Team,
            "session_id" => Field::Session,
            // Bedrock's batch inference output: the request.
            "modelInput" => Field::Nested,
            "turn_index" => Field::Turn,
            "createTime" => Field::Timestamp,
            "responseId" => Field::RequestId,
            "error_type" => Field::ErrorKind,
            "error_kind" => Field::ErrorKind,
            "error_code" => Field::ErrorKind,
            "stopReason" => Field::FinishReason,
            "latency_ms" => Field::Latency,
            "max_tokens" => Field::MaxTokens,
            "total_cost" => Field::Cost,
            "tokens_out" => Field::UsageKey,
            "totalUsage" => Field::TotalUsage,
            "statusCode" | "httpStatus" => Field::HttpStatusCamel,
            // LangChain's `LLMResult.llm_output` (`token_usage`,
            // `model_name`), and LangChain.js' `tokenUsage` in it.
            "llm_output" => Field::Nested,
            "tokenUsage" => Field::TokenUsage,
            _ => Field::Other,
        },
        11 => match key {
            "invocations" => Field::Summed,
            "messageStop" => Field::StreamEvent,
            // Gemini's request (the google-genai SDK's camelCase body:
            // hunt147's bug2, flex and priority at standard rates).
            "serviceTier" => Field::ServiceTier,
            // The Vercel AI SDK's usage spread into the line
            // (`{ model, ...result.usage }`).
            "inputTokens" => Field::UsageKey,
            "totalTokens" => Field::UsageKey,
            "model_group" => Field::ModelGroup,
            "turn_number" => Field::Turn,
            // Anthropic's usage report rows.
            "starting_at" => Field::Timestamp,
            // A gateway's logged bodies (often as JSON text).
            "requestBody" => Field::Nested,
            // Bedrock's batch inference output: the response.
            "modelOutput" => Field::Nested,
            "http_status" => Field::HttpStatus,
            "status_code" => Field::HttpStatus,
            // Google's Python SDK's dump of a response.
            "create_time" => Field::Timestamp,
            "response_id" => Field::RequestId,
            "duration_ms" => Field::Latency,
            "stop_reason" => Field::FinishReason,
            "prompt_hash" => Field::PromptHash,
            "prefix_hash" => Field::PrefixHash,
            // LangChain's `response_metadata.token_usage` (OpenAI's usage).
            "token_usage" => Field::TokenUsage,
            _ => Field::Other,
        },
        12 => match key {
            // A collector's OpenAI usage buckets (hunt180).
            "num_requests" => Field::Summed,
            "messageStart" => Field::StreamEvent,
            // A stateful Responses request's conversation.
            "conversation" => Field::Continues,
            // The Vercel AI SDK's usage spread into the line
            // (`{ model, ...result.usage }`); AI SDK 4's `promptTokens`.
            "outputTokens" | "promptTokens" => Field::UsageKey,
            // A logger's own name for the response it wraps.
            "raw_response" | "llm_response" => Field::Nested,
            "request_body" | "responseBody" => Field::Nested,
            "finishReason" => Field::FinishReason,
            "x_request_id" => Field::RequestId,
            "modelVersion" => Field::Model,
            "llm_provider" => Field::Provider,
            "feature_name" => Field::Feature,
            "input_tokens" => Field::UsageKey,
            // (LiteLLM's spend-log columns: a Gemini call's thoughts are in
            // the total alone, hunt153.)
            "total_tokens" => Field::UsageKey,
            // LiteLLM's daily spend tables: a day's requests; Vercel AI
            // Gateway's spend report, in camel case (hunt170).
            "api_requests" | "requestCount" => Field::Summed,
            "service_tier" => Field::ServiceTier,
            "instructions" => Field::System,
            "request_tags" => Field::Tags,
            // Portkey's logs: HIT, SEMANTIC HIT, MISS…
            "cache_status" => Field::CacheHit,
            // Cohere v1's `meta.billed_units` (v2's is in `usage`).
            "billed_units" => Field::Usage,
            // LiteLLM's spend logs: `metadata.usage_object`, the response's
            // whole usage (its cache counts; a batch cost row has no
            // `additional_usage_values`).
            "usage_object" => Field::Usage,
            _ => Field::Other,
        },
        13 => match key {
            "retry_attempt" => Field::Attempt,
            // OpenRouter's generation records.
            "provider_name" => Field::Provider,
            "response_body" => Field::Nested,
            "inference_geo" => Field::InferenceGeo,
            "usageMetadata" => Field::Usage,
            // Google's Python SDK's dump of a response (`model_dump()`,
            // `to_dict()`).
            "model_version" => Field::Model,
            "prompt_tokens" => Field::UsageKey,
            "output_tokens" => Field::UsageKey,
            "cached_tokens" => Field::UsageKey,
            "finish_reason" => Field::FinishReason,
            "prefix_tokens" => Field::PrefixTokens,
            "system_prompt" => Field::System,
            "response_cost" => Field::Cost,
            // Cursor's per-model usage export (hunt166).
            "request_count" | "Request Count" => Field::Summed,
            _ => Field::Other,
        },
        14 => match key {
            "total_requests" => Field::Summed,
            // OpenAI's Batch object.
            "request_counts" => Field::Summed,
            // Anthropic's usage report rows: the TTL split of the writes.
            "cache_creation" => Field::Usage,
            "context_window" => Field::Summed,
            "attempt_number" => Field::Attempt,
            "processed_time" => Field::Timestamp,
            "usage_metadata" => Field::Usage,
            _ => Field::Other,
        },
        15 => match key {
            "invocationCount" => Field::Summed,
            // The Vercel AI SDK's usage spread into the line
            // (`{ model, ...result.usage }`).
            "reasoningTokens" => Field::UsageKey,
            // Gemini's `generationConfig.maxOutputTokens`; AI SDK 5's.
            "maxOutputTokens" => Field::MaxTokens,
            // Bedrock Converse's request: its `maxTokens`.
            "inferenceConfig" => Field::Nested,
            "conversation_id" => Field::Session,
            "response_status" => Field::HttpStatus,
            // Anthropic's usage spread into the line: its web searches
            // (hunt123: dropped, $0.05 of $0.0881).
            "server_tool_use" => Field::UsageDetail,
            _ => Field::Other,
        },
        16 => match key {
            "contentBlockStop" => Field::StreamEvent,
            "http_status_code" => Field::HttpStatus,
            "reasoning_tokens" => Field::UsageKey,
            "promptTokenCount" => Field::UsageKey,
            "response_time_ms" => Field::Latency,
            // AI SDK 4's usage spread into the line.
            "completionTokens" => Field::UsageKey,
            // Gemini's request: its `maxOutputTokens`.
            "generationConfig" => Field::Nested,
            // The AI SDK's provider counts (see `usage_key`).
            "providerMetadata" => Field::Usage,
            _ => Field::Other,
        },
        17 => match key {
            "contentBlockStart" | "contentBlockDelta" => Field::StreamEvent,
            // OpenAI's Responses request: the end user's id, which
            // "supersedes the `user` parameter" (hunt176: user `(none)`).
            "safety_identifier" => Field::User,
            // LiteLLM's spend logs: `metadata.error_information`.
            "error_information" => Field::Error,
            // The Vercel AI SDK's usage spread into the line
            // (`{ model, ...result.usage }`).
            "cachedInputTokens" => Field::UsageKey,
            "completion_tokens" => Field::UsageKey,
            // Anthropic's Claude Code analytics report, flattened (hunt166:
            // its cache reads and writes were dropped).
            "cache_read_tokens" => Field::UsageKey,
            "max_output_tokens" => Field::MaxTokens,
            // A LangChain message's (`AIMessage.response_metadata`): the
            // response's model and usage.
            "response_metadata" => Field::Nested,
            "groundingMetadata" => Field::Grounding,
            _ => Field::Other,
        },
        18 => match key {
            // Bedrock's per-call cache writes spread into a row.
            "cache_write_tokens" => Field::UsageKey,
            // Bifrost's cache counts spread into a line or a CSV's columns
            // (hunt135).
            "cached_read_tokens" => Field::UsageKey,
            // OpenAI's usage API rows.
            "num_model_requests" => Field::Summed,
            "request_created_at" => Field::Timestamp,
            "retried_request_id" => Field::RetryOf,
            "thoughtsTokenCount" => Field::UsageKey,
            "prompt_fingerprint" => Field::PromptHash,
            "system_prompt_hash" => Field::PrefixHash,
            "prefix_fingerprint" => Field::PrefixHash,
            _ => Field::Other,
        },
        19 => match key {
            "cached_write_tokens" => Field::UsageKey,
            // OpenAI's usage API rows.
            "input_cached_tokens" => Field::UsageKey,
            "custom_llm_provider" => Field::Provider,
            "retry_of_request_id" => Field::RetryOf,
            "time_to_first_token" => Field::Ttft,
            _ => Field::Other,
        },
        20 => match key {
            "previous_response_id" => Field::Continues,
            // LiteLLM's spend logs: the request as the proxy got it (its
            // messages, `max_tokens`), where current versions leave
            // `messages` as `{}` (hunt177: every prompt rule "could not
            // run").
            "proxy_server_request" => Field::Nested,
            // Bedrock Converse's usage spread into the line.
            "cacheReadInputTokens" => Field::UsageKey,
            // OpenAI's usage spread into the line (hunt57).
            "input_tokens_details" => Field::UsageDetail,
            // LangSmith's runs (its `prompt_tokens` includes them).
            "prompt_token_details" => Field::UsageDetail,
            "user_api_key_user_id" => Field::User,
            // LiteLLM's logging payload (`metadata`).
            "user_api_key_team_id" => Field::Team,
            // OpenRouter's generation records: the provider's own counts.
            "native_tokens_prompt" | "native_tokens_cached" => Field::UsageKey,
            "candidatesTokenCount" => Field::UsageKey,
            "system_prompt_tokens" => Field::PrefixTokens,
            _ => Field::Other,
        },
        21 => match key {
            "prompt_filter_results" => Field::StreamEvent,
            // Bedrock Converse's usage spread into the line.
            "cacheWriteInputTokens" => Field::UsageKey,
            "prompt_tokens_details" | "output_tokens_details" => Field::UsageDetail,
            "max_completion_tokens" => Field::MaxTokens,
            // Anthropic's usage report rows (its `input_tokens`).
            "uncached_input_tokens" => Field::UsageKey,
            "cache_creation_tokens" => Field::UsageKey,
            _ => Field::Other,
        },
        22 => match key {
            // Azure OpenAI's content-filter annotation, in a choice.
            "content_filter_offsets" => Field::StreamDelta,
            "time_to_first_token_ms" => Field::Ttft,
            _ => Field::Other,
        },
        23 => match key {
            "cache_read_input_tokens" => Field::UsageKey,
            // DeepSeek's usage spread into the line (hunt82: its cache
            // hits were billed as uncached input).
            "prompt_cache_hit_tokens" => Field::UsageKey,
            "user_api_key_team_alias" => Field::Team,
            "native_tokens_reasoning" => Field::UsageKey,
            "cachedContentTokenCount" => Field::UsageKey,
            "toolUsePromptTokenCount" => Field::UsageKey,
            "additional_usage_values" => Field::Usage,
            "upstream_inference_cost" => Field::Upstream,
            _ => Field::Other,
        },
        25 => match key {
            "ephemeral_5m_input_tokens" | "ephemeral_1h_input_tokens" => Field::UsageKey,
            "completion_tokens_details" => Field::UsageDetail,
            _ => Field::Other,
        },
        27 => match key {
            "cache_creation_input_tokens" => Field::UsageKey,
            _ => Field::Other,
        },
        24 => match key {
            "native_tokens_completion" => Field::UsageKey,
            "completion_token_details" => Field::UsageDetail,
            "prompt_cache_miss_tokens" => Field::UsageKey,
            _ => Field::Other,
        },
        _ => Field::Other,
    }
}

/// Which of the keys that fill one slot a line keeps, whatever their order
/// (`staging::Ranked`; lower wins): the line's own keys first, then its
/// `metadata`'s, a logged response's, a request's, another body's, and
/// last a `metadata` inside a body (`depth`: the object's, the line's own
/// 0); among the keys of one object, the order of [`aliases`]. Two
/// exceptions: the service tier a response gives is the one billed, so it
/// ranks first (a line's own, or its `metadata`'s, may be what was asked
/// for); LiteLLM's top-level `end_user` (a customer's customer) ranks after
/// the key's user in `metadata`, as LiteLLM's two exports (its spend logs'
/// `user`, its callbacks' `metadata.user_api_key_user_id`) agree (hunt60).
/// A key of another meaning ranks 0 (it fills no ranked slot).
pub(crate) fn rank(f: Field, key: &[u8], scope: Scope, depth: u8) -> u16 {
    let Some((_, order)) = aliases(f) else {
        return 0;
    };
    let alias = order
        .iter()
        .position(|k| k.as_bytes() == key)
        .unwrap_or(order.len())
        .min(31) as u16;
    let place = match scope {
        Scope::Top => 0,
        Scope::Metadata if depth > 1 => 5,
        Scope::Metadata => 1,
        Scope::Response => 2,
        Scope::Request => 3,
        Scope::Nested | Scope::Choices => 4,
    };
    // (Each place holds 64 ranks, two per alias: an exception sits
    // between two keys, never on one, so it ties with no other.)
    let alias = alias * 2;
    match (f, scope) {
        (Field::ServiceTier, Scope::Response) => alias,
        (Field::ServiceTier, _) => (place + 1) * 64 + alias,
        // Right after `metadata`'s `user_api_key_user_id`.
        (Field::User, Scope::Top) if key == b"end_user" => 64 + 2 * 4 + 1,
        _ => place * 64 + alias,
    }
}

/// A request id read from a key of `rank` (see [`id_rank`]).
fn put_id<'a>(l: &mut RawLine<'a>, id: Lenient<Cow<'a, str>>, rank: u16) {
    let rank = rank + id_rank(&id);
    put_ranked(
        &mut l.request_id.0,
        &mut l.ranks[Ranked::RequestId],
        rank,
        id,
    );
}

/// A service tier read from a key of `rank` (see [`tier_rank`]).
fn put_tier<'a>(l: &mut RawLine<'a>, tier: Lenient<Cow<'a, str>>, rank: u16) {
    let rank = rank + tier_rank(&tier);
    put_ranked(
        &mut l.service_tier.0,
        &mut l.ranks[Ranked::ServiceTier],
        rank,
        tier,
    );
}

/// What a service tier's value adds to its key's [`rank`]: `batch` (a way
/// of buying the response never names: OpenAI's batch results say
/// `default`) ranks before any other tier (hunt62).
pub(crate) fn tier_rank(tier: &Lenient<Cow<'_, str>>) -> u16 {
    match tier {
        Lenient::Value(t) if t.trim().eq_ignore_ascii_case("batch") => 0,
        _ => 1024,
    }
}

/// Where a value [`set_field`] is given stands: inside a `metadata`
/// object (where unknown keys are tags), at which depth (the line's own
/// keys 0), and its key's [`rank`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct KeyAt {
    pub metadata: bool,
    pub depth: u8,
    pub rank: u16,
}

/// What a request id's value adds to its key's [`rank`]: a provider's id
/// of one response (`chatcmpl-…`, `msg_…`: `is_response_id`) ranks before
/// any other id, wherever it is on the line, so one response logged twice
/// (with a gateway's `request_id`, or a LangChain run's `id`) is told by
/// it (hunt60).
pub(crate) fn id_rank(id: &Lenient<Cow<'_, str>>) -> u16 {
    match id {
        Lenient::Value(id) if tokenaudit_core::is_response_id(id) => 0,
        _ => 1024,
    }
}

/// The ranked slot a key of meaning `f` fills, and its keys in the order
/// they rank: the most specific name first (`team_id` before a key's
/// `user_api_key_team_alias`, `request_id` before a bare `id`, `model`
/// before a deployment's `model_id`), then the names in the order the
/// table of [`field`] gives them. It decides only lines that give two.
pub(crate) fn aliases(f: Field) -> Option<(Ranked, &'static [&'static str])> {
    // (`model_version` last: beside a `model_id` it is that model's
    // version, not a model: hunt119.)
    const MODEL: &[&str] = &[
        "model",
        "model_name",
        "modelVersion",
        "modelId",
        "model_id",
        "ai_model",
        "model_version",
    ];
    Some(match f {
        Field::Timestamp => (
            Ranked::Timestamp,
            &[
                "timestamp",
                "@timestamp",
                "created_at",
                "start_time",
                "startTime",
                "request_created_at",
                "created",
                "createTime",
                "create_time",
                "time",
                "ts",
                "processed_time",
                "starting_at",
            ],
        ),
        Field::RequestId => (
            Ranked::RequestId,
            &[
                "request_id",
                "requestId",
                "x_request_id",
                "id",
                "responseId",
                "response_id",
                "recordId",
            ],
        ),
        Field::Provider => (
            Ranked::Provider,
            &[
                "provider",
                "custom_llm_provider",
                "llm_provider",
                "provider_name",
                "vendor",
            ],
        ),
        Field::Model => (Ranked::Model, MODEL),
        Field::RequestModel => (Ranked::RequestModel, MODEL),
        Field::ServedModel => (Ranked::ServedModel, MODEL),
        Field::Feature => (Ranked::Feature, &["feature", "feature_name", "use_case"]),
        Field::Route => (Ranked::Route, &["route", "api_route", "endpoint"]),
        Field::Team => (
            Ranked::Team,
            &[
                "team",
                "team_id",
                "team_name",
                "team_alias",
                "user_api_key_team_id",
                "user_api_key_team_alias",
            ],
        ),
        Field::User => (
            Ranked::User,
            &[
                "user",
                "user_id",
                "userId",
                "_user",
                "user_api_key_user_id",
                "safety_identifier",
                "end_user",
            ],
        ),
        Field::Session => (
            Ranked::Session,
            &[
                "session",
                "session_id",
                "sessionId",
                "conversation_id",
                "thread_id",
            ],
        ),
        Field::Turn => (Ranked::Turn, &["turn", "turn_index", "turn_number"]),
        Field::Status => (Ranked::Status, &["status"]),
        Field::HttpStatus => (Ranked::HttpStatus, HTTP_KEYS),
        // An `error` object's kind after a key that names one.
        Field::ErrorKind | Field::Error => (
            Ranked::ErrorKind,
            &[
                "error_type",
                "error_kind",
                "error_code",
                "error",
                "error_information",
            ],
        ),
        Field::Attempt => (
            Ranked::Attempt,
            &["attempt", "attempt_number", "retry_attempt"],
        ),
        Field::RetryOf => (
            Ranked::RetryOf,
            &["retry_of", "retry_of_request_id", "retried_request_id"],
        ),
        Field::Latency => (
            Ranked::Latency,
            &[
                "latency_ms",
                "duration_ms",
                "response_time_ms",
                "latency",
                "delay_ms",
            ],
        ),
        Field::Ttft => (
            Ranked::Ttft,
            &["ttft_ms", "time_to_first_token_ms", "time_to_first_token"],
        ),
        Field::Batch => (Ranked::Batch, &["batch", "is_batch"]),
        Field::CacheHit => (Ranked::CacheHit, &["cache_hit", "cache_status"]),
        Field::ServiceTier => (Ranked::ServiceTier, &["service_tier"]),
        Field::RequestServiceTier => (Ranked::RequestServiceTier, &["service_tier"]),
        Field::FinishReason => (
            Ranked::FinishReason,
            &["finish_reason", "stop_reason", "finishReason", "stopReason"],
        ),
        Field::MaxTokens => (
            Ranked::MaxTokens,
            &[
                "max_tokens",
                "max_completion_tokens",
                "max_output_tokens",
                "maxOutputTokens",
                "maxTokens",
            ],
        ),
        Field::PromptHash => (
            Ranked::PromptHash,
            &["prompt_hash", "prompt_fingerprint", "prompt_fp"],
        ),
        Field::PrefixHash => (
            Ranked::PrefixHash,
            &["prefix_hash", "system_prompt_hash", "prefix_fingerprint"],
        ),
        Field::PrefixTokens => (
            Ranked::PrefixTokens,
            &["prefix_tokens", "system_prompt_tokens"],
        ),
        Field::Cost => (
            Ranked::Cost,
            &[
                "cost_usd",
                "cost",
                "costUSD",
                "total_cost",
                "response_cost",
                "spend",
            ],
        ),
        _ => return None,
    })
}

#[cfg(test)]
fn field_by_meaning(key: &str) -> Field {
    match key {
        "timestamp" | "created_at" | "ts" | "time" | "start_time" | "startTime"
        | "request_created_at" | "created" | "@timestamp" | "createTime" | "create_time"
        | "processed_time" | "starting_at" => Field::Timestamp,
        "request_id" | "requestId" | "id" | "x_request_id" | "responseId" | "response_id"
        | "recordId" => Field::RequestId,
        "provider" | "custom_llm_provider" | "llm_provider" | "vendor" | "provider_name" => {
            Field::Provider
        }
        "model" | "model_name" | "model_id" | "modelVersion" | "model_version" | "modelId"
        | "ai_model" => Field::Model,
        "model_group" => Field::ModelGroup,
        "feature" | "feature_name" | "use_case" => Field::Feature,
        "route" | "endpoint" | "api_route" => Field::Route,
        "team"
        | "team_id"
        | "team_name"
        | "team_alias"
        | "user_api_key_team_id"
        | "user_api_key_team_alias" => Field::Team,
        "user" | "user_id" | "userId" | "end_user" | "user_api_key_user_id" | "_user"
        | "safety_identifier" => Field::User,
        "session" | "session_id" | "sessionId" | "conversation_id" | "thread_id" => Field::Session,
        "turn" | "turn_index" | "turn_number" => Field::Turn,
        "status" => Field::Status,
        "http_status" | "status_code" | "http_status_code" | "response_status" => Field::HttpStatus,
        "statusCode" | "httpStatus" => Field::HttpStatusCamel,
        "error" | "error_information" => Field::Error,
        "error_type" | "error_kind" | "error_code" => Field::ErrorKind,
        "attempt" | "attempt_number" | "retry_attempt" => Field::Attempt,
        "retry_of" | "retry_of_request_id" | "retried_request_id" => Field::RetryOf,
        "usage"
        | "usageMetadata"
        | "usage_metadata"
        | "additional_usage_values"
        | "usage_object"
        | "providerMetadata" => Field::Usage,
        "token_usage" | "tokenUsage" => Field::TokenUsage,
        "totalUsage" => Field::TotalUsage,
        "prompt_tokens"
        | "completion_tokens"
        | "input_tokens"
        | "output_tokens"
        | "cache_read_input_tokens"
        | "prompt_cache_hit_tokens"
        | "prompt_cache_miss_tokens"
        | "cache_creation_input_tokens"
        | "cache_read_tokens"
        | "cache_creation_tokens"
        | "cache_write_tokens"
        | "cached_tokens"
        | "reasoning_tokens"
        | "promptTokenCount"
        | "candidatesTokenCount"
        | "cachedContentTokenCount"
        | "thoughtsTokenCount"
        | "toolUsePromptTokenCount"
        | "ephemeral_5m_input_tokens"
        | "ephemeral_1h_input_tokens"
        | "tokens_in"
        | "tokens_out"
        | "cached_read_tokens"
        | "cached_write_tokens"
        | "uncached_input_tokens"
        | "input_cached_tokens"
        | "native_tokens_prompt"
        | "native_tokens_completion"
        | "native_tokens_cached"
        | "native_tokens_reasoning"
        | "inputTokens"
        | "outputTokens"
        | "totalTokens"
        // (LiteLLM's spend-log columns beside the usage object, or
        // without it: a Gemini call's thoughts are in the total alone,
        // hunt153.)
        | "total_tokens"
        | "reasoningTokens"
        | "cachedInputTokens"
        | "cacheReadInputTokens"
        | "cacheWriteInputTokens"
        | "promptTokens"
        | "completionTokens" => Field::UsageKey,
        "prompt_tokens_details"
        | "completion_tokens_details"
        | "input_tokens_details"
        | "output_tokens_details"
        | "prompt_token_details"
        | "completion_token_details"
        | "server_tool_use" => Field::UsageDetail,
        "latency_ms" | "duration_ms" | "response_time_ms" | "delay_ms" | "latency" => {
            Field::Latency
        }
        "ttft_ms" | "time_to_first_token_ms" | "time_to_first_token" => Field::Ttft,
        "batch" | "is_batch" => Field::Batch,
        "cache_hit" | "cache_status" => Field::CacheHit,
        "cached" => Field::GatewayCached,
        "success" => Field::Success,
        "delta" | "content_filter_offsets" => Field::StreamDelta,
        "prompt_filter_results"
        | "messageStart"
        | "messageStop"
        | "contentBlockStart"
        | "contentBlockDelta"
        | "contentBlockStop" => Field::StreamEvent,
        "num_model_requests" | "context_window" | "requests" | "api_requests" | "ending_at"
        | "request_counts" | "request_count" | "Request Count" | "requestCount" | "calls"
        | "num_calls" | "n_requests" | "invocations" | "num_requests" | "total_requests"
        | "invocationCount" => Field::Summed,
        "req_units" | "res_units" => Field::CostInCents,
        "is_byok" | "upstream_inference_cost" => Field::Upstream,
        "service_tier" | "serviceTier" => Field::ServiceTier,
        "inference_geo" => Field::InferenceGeo,
        "groundingMetadata" => Field::Grounding,
        "previous_response_id" | "conversation" => Field::Continues,
        "finish_reason" | "stop_reason" | "finishReason" | "stopReason" => Field::FinishReason,
        "choices" | "candidates" => Field::Choices,
        "output" => Field::Output,
        "max_tokens"
        | "max_output_tokens"
        | "max_completion_tokens"
        | "maxOutputTokens"
        | "maxTokens" => Field::MaxTokens,
        "prompt_hash" | "prompt_fingerprint" | "prompt_fp" => Field::PromptHash,
        "system_prompt_hash" | "prefix_hash" | "prefix_fingerprint" => Field::PrefixHash,
        "system_prompt_tokens" | "prefix_tokens" => Field::PrefixTokens,
        "messages" => Field::Messages,
        "prompt" | "input" => Field::Prompt,
        "system" | "instructions" | "system_prompt" => Field::System,
        "cost" | "cost_usd" | "spend" | "response_cost" | "total_cost" | "costUSD" => Field::Cost,
        "tags" | "request_tags" | "labels" => Field::Tags,
        "metadata" | "meta" => Field::Metadata,
        "request" | "response" | "body" | "modelInput" | "modelOutput" | "raw_response"
        | "llm_response" | "request_body" | "requestBody" | "response_body" | "responseBody"
        | "completion" | "llm_output" | "llmOutput" | "response_metadata" | "generationConfig"
        | "inferenceConfig" | "proxy_server_request" => Field::Nested,
        "object" | "type" => Field::EventKind,
        "x_groq" => Field::HostGroq,
        "time_info" => Field::HostCerebras,
        "billed_units" | "cache_creation" => Field::Usage,
        _ => Field::Other,
    }
}

/// `status` (a key of `rank`): text, or an HTTP code (as a number or
/// digits) that goes to `http_status`, after the keys that name an HTTP
/// status (`rank`'s [`aliases`] of [`Field::HttpStatus`]).
pub(crate) fn set_status<'a>(l: &mut RawLine<'a>, v: Lenient<Cow<'a, str>>, rank: u16) {
    if let Lenient::Value(text) = &v {
        // Only text starting with a digit, `+` or possible whitespace (an
        // ASCII control or space, or any non-ASCII byte) can trim to a
        // number: `ok`, `error` … skip the trim and the parse.
        let maybe_code = matches!(text.as_bytes().first(),
            Some(&b) if b.is_ascii_digit() || b == b'+' || b <= b' ' || b >= 0x80);
        if maybe_code {
            if let Ok(code) = text.trim().parse::<u64>() {
                // (`status` is no HTTP status key: it ranks after them.)
                let rank = rank + HTTP_KEYS.len() as u16;
                let held = &mut l.ranks[Ranked::HttpStatus];
                put_ranked(&mut l.http_status.0, held, rank, Lenient::Value(code));
                return;
            }
        }
    }
    put_ranked(&mut l.status.0, &mut l.ranks[Ranked::Status], rank, v);
}

/// The keys that name an HTTP status, in the order they rank.
const HTTP_KEYS: &[&str] = &[
    "http_status",
    "status_code",
    "http_status_code",
    "response_status",
];

/// A camelCase `statusCode` / `httpStatus`: a failure's HTTP code (400 to
/// 599), kept for when no other key gives the status
/// (`RawLine::http_failure_camel`, [`Field::HttpStatusCamel`]).
fn set_http_code(l: &mut RawLine<'_>, v: LCodeOrWord<'_>) {
    if let (None, Lenient::Value(code)) = (&v.word, v.code) {
        if (400..=599).contains(&code) && l.http_failure_camel.is_none() {
            l.http_failure_camel = Some(code);
        }
    }
}

/// An HTTP status key's value: the code, or a word in its place
/// (`"status_code": "ERROR"`), which is the call's outcome when no
/// `status` key says one, wherever it is on the line (see
/// `staging::word_status`; as [`set_status`] takes a code written under
/// `status`).
/// A code from a key of `rank` goes to `http_status` as ranked slots do.
pub(crate) fn set_http_status<'a>(l: &mut RawLine<'a>, v: LCodeOrWord<'a>, rank: u16) {
    match v.word {
        Some(word) => {
            if l.status_word.is_none() {
                l.status_word = Some(word);
            }
        }
        None => put_ranked(
            &mut l.http_status.0,
            &mut l.ranks[Ranked::HttpStatus],
            rank,
            v.code,
        ),
    }
}

/// Prompt text (`messages`, `prompt`, `system` …) as its raw JSON: only
/// fingerprints are kept, and the borrowed raw JSON itself (a pointer and a
/// length, no copy) for `--include-prompts`.
pub(crate) fn set_text<'a>(l: &mut RawLine<'a>, which: Field, raw: &'a str) {
    if is_no_prompt(raw) {
        return;
    }
    match which {
        Field::Messages => l.set_messages(raw),
        // The Responses API's `input` as a list of messages with roles (its
        // system prompt a `developer` or `system` message): read as
        // `messages` is (hunt140's bug9: TA103 and TA104 could not run).
        Field::Prompt
            if raw.starts_with('[')
                && memchr::memmem::find(raw.as_bytes(), b"\"role\"").is_some() =>
        {
            l.set_messages(raw)
        }
        Field::Prompt => {
            if l.prompt_text_fp.is_none() && raw != "null" {
                l.prompt_text_fp = Some(crate::record::fields::prompt_fingerprint(raw));
                l.prompt_raw = Some(raw);
            }
            if l.prompt_text.is_none() && raw != "null" {
                l.prompt_text = crate::record::fields::prompt_text(raw)
                    .filter(|t| crate::record::fields::has_word(t))
                    .map(Cow::Owned);
            }
        }
        _ => {
            if l.prefix_text_fp.is_none() && raw != "null" {
                l.prefix_text_fp = Some(xxh3_64(raw.as_bytes()));
                l.prefix_chars = Some(crate::record::fields::content_chars(raw));
                l.system_raw = Some(raw);
            }
        }
    }
}

fn set_usage_key(u: &mut RawUsage, key: &str, v: Lenient<u64>) {
    if !u.whole {
        fill_usage(u, usage_key(key).within(Part::Any), v, true);
    }
}

/// What a key inside a usage object is: a token count's slot, a nested
/// object of more counts (`*_details`, `cache_creation`), or neither.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum UsageKey {
    CostTicks,
    PromptTokens,
    CompletionTokens,
    InputTokens,
    OutputTokens,
    CacheRead,
    CacheCreation,
    Cached,
    Reasoning,
    PromptTokenCount,
    CandidatesTokenCount,
    CachedContentTokenCount,
    ThoughtsTokenCount,
    ToolUsePromptTokenCount,
    CacheWrite5m,
    CacheWrite1h,
    /// `total_tokens`: read only to tell xAI's convention (reasoning beside
    /// `completion_tokens`) from OpenAI's.
    Total,
    /// `cost` in the usage object (OpenRouter's): the logged cost, when the
    /// line gives none of its own; a value that is no amount is left unread
    /// silently (not a field of the line).
    Cost,
    /// `cached_read_tokens`: a cached read inside the input in an input
    /// detail object (as OpenAI's `cached_tokens`), else beside the input
    /// as Anthropic's `cache_read_input_tokens` is.
    CachedRead,
    /// OpenRouter's `cost_details.upstream_inference_cost` and `is_byok`
    /// ([`RawUsage::with_upstream`]).
    UpstreamCost,
    Byok,
    /// An object of more counts; `input_tokens_details` also marks the
    /// OpenAI Responses convention. The others say which tokens their
    /// `audio_tokens` are (see [`Part`]).
    Detail,
    /// `cache_creation`: Anthropic's object of the cache writes by TTL,
    /// or LangChain's count of them
    /// (`usage_metadata.input_token_details.cache_creation`).
    CacheCreationOrDetail,
    ResponsesDetail,
    InputDetail,
    OutputDetail,
    CachedDetail,
    /// `audio_tokens`: input, cached or output audio by the detail object
    /// it is in ([`UsageKey::within`]).
    Audio,
    AudioIn,
    AudioCached,
    AudioOut,
    /// Gemini's `promptTokensDetails`, `cacheTokensDetails` and
    /// `candidatesTokensDetails`: lists of `{modality, tokenCount}`, whose
    /// `AUDIO` entry is the audio among those tokens.
    /// Bedrock Converse's `cacheDetails`: `[{"ttl": "1h", "inputTokens":
    /// n}, …]`, the cache writes by TTL (read by serde only: the scanner
    /// hands the line over).
    CacheDetails,
    PromptModalities,
    CacheModalities,
    CandidateModalities,
    /// The Vercel AI SDK's counts (`cachedInputTokens`, `reasoningTokens`;
    /// AI SDK 6's `inputTokenDetails.{cacheReadTokens, cacheWriteTokens,
    /// noCacheTokens}`): their slots, and the marks that say how its
    /// `inputTokens` counts (`RawUsage::ai_sdk`).
    AiSdkCached,
    /// AI SDK 4's `promptTokens`: its input (see [`RawUsage::ai_sdk`]).
    AiSdkInput,
    AiSdkCacheRead,
    /// `cache_read_tokens`: see `RawUsage::cache_either`.
    CacheReadEither,
    AiSdkCacheWrite,
    AiSdkNoCache,
    AiSdkReasoning,
    /// LangChain's `cache_read` and `reasoning`: the cached and reasoning
    /// counts when they are numbers, else nothing (not a wrong type).
    CachedIfCount,
    ReasoningIfCount,
    /// Anthropic's `usage.service_tier`, Vertex's `trafficType`
    /// ([`RawUsage::tier`]).
    Tier,
    /// Anthropic's `usage.speed`: `fast` is fast mode, at the model's fast
    /// multiple (hunt79: priced at standard rates).
    Speed,
    /// Vertex's `trafficType`: a tier ([`UsageKey::Tier`]), and the mark
    /// of Gemini's usage ([`RawUsage::gemini`]).
    TrafficType,
    /// Anthropic's `usage.inference_geo`: `us` is US-only inference, at
    /// the model's US multiple (hunt79: priced at the global rate).
    Geo,
    /// Anthropic's `server_tool_use.web_search_requests`.
    WebSearches,
    /// Perplexity's `num_search_queries` (web searches) and
    /// `citation_tokens` (not billed here): both say the usage is
    /// Perplexity's, whose `reasoning_tokens` are beside
    /// `completion_tokens`, not inside it.
    SearchQueries,
    Citations,
    Other,
}

/// Which tokens a usage detail object counts: its `audio_tokens` are
/// input, cached input or output audio.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Part {
    Any,
    Input,
    Cached,
    Output,
}

impl UsageKey {
    /// The part of the usage a detail object opened by this key counts,
    /// inside an object of `within`; `None` when the key opens none.
    pub(crate) fn detail(self, within: Part) -> Option<Part> {
        match self {
            UsageKey::Detail | UsageKey::CacheCreationOrDetail => Some(within),
            UsageKey::ResponsesDetail | UsageKey::InputDetail => Some(Part::Input),
            UsageKey::OutputDetail => Some(Part::Output),
            UsageKey::CachedDetail => Some(Part::Cached),
            _ => None,
        }
    }

    /// The count slot of this key inside a detail of `part`.
    pub(crate) fn within(self, part: Part) -> UsageKey {
        match (self, part) {
            (UsageKey::Audio, Part::Input) => UsageKey::AudioIn,
            (UsageKey::Audio, Part::Cached) => UsageKey::AudioCached,
            (UsageKey::Audio, Part::Output) => UsageKey::AudioOut,
            (UsageKey::Audio, Part::Any) => UsageKey::Other,
            (UsageKey::CachedRead, Part::Input | Part::Cached) => UsageKey::Cached,
            (UsageKey::CachedRead, _) => UsageKey::CacheRead,
            // AI SDK 6 gives `cacheReadTokens` and `cacheWriteTokens` in
            // `inputTokenDetails`, parts of its input; beside the input
            // (Cursor's usage events' `tokenUsage`, whose `inputTokens` of
            // 12 sits beside 13,630 cache reads) they are counts of their
            // own, as Anthropic's are (hunt166: read as parts of the input,
            // −35%, or rejected when larger).
            (UsageKey::AiSdkCacheRead, Part::Any) => UsageKey::CacheRead,
            (UsageKey::CacheReadEither, Part::Input | Part::Cached) => UsageKey::Cached,
            (UsageKey::AiSdkCacheWrite, Part::Any) => UsageKey::CacheCreation,
            (k, _) => k,
        }
    }

    /// A key whose value is a label, not a count ([`set_usage_label`]).
    pub(crate) fn is_label(self) -> bool {
        matches!(
            self,
            UsageKey::Tier | UsageKey::Speed | UsageKey::Geo | UsageKey::TrafficType
        )
    }

    /// The audio slot a Gemini modality list fills.
    pub(crate) fn modality_slot(self) -> Option<UsageKey> {
        match self {
            UsageKey::PromptModalities => Some(UsageKey::AudioIn),
            UsageKey::CacheModalities => Some(UsageKey::AudioCached),
            UsageKey::CandidateModalities => Some(UsageKey::AudioOut),
            _ => None,
        }
    }
}

/// One entry of a Gemini modality list: its `AUDIO` count, if it is that.
fn modality_audio(modality: &Lenient<Cow<'_, str>>, count: Lenient<u64>) -> Option<Lenient<u64>> {
    match modality {
        Lenient::Value(m) if m.eq_ignore_ascii_case("audio") => Some(count),
        _ => None,
    }
}

/// Adds a modality list's audio count (there is one `AUDIO` entry; several
/// are summed) into `slot`'s count.
fn add_audio(u: &mut RawUsage, slot: UsageKey, v: Lenient<u64>) {
    let (UsageKey::AudioIn | UsageKey::AudioCached | UsageKey::AudioOut) = slot else {
        return;
    };
    let x = u.extras();
    let have = match slot {
        UsageKey::AudioIn => &mut x.audio_in,
        UsageKey::AudioCached => &mut x.audio_cached,
        _ => &mut x.audio_out,
    };
    *have = match (&*have, v) {
        (Lenient::Value(a), Lenient::Value(b)) => Lenient::Value(a.saturating_add(b)),
        (Lenient::Value(a), _) => Lenient::Value(*a),
        (_, v) => v,
    };
}

pub(crate) fn usage_key(key: &str) -> UsageKey {
    match key {
        // Cloudflare AI Gateway's `tokens_in` / `tokens_out` (as OpenAI's).
        "prompt_tokens" | "tokens_in" | "native_tokens_prompt" => UsageKey::PromptTokens,
        "completion_tokens" | "tokens_out" | "native_tokens_completion" => {
            UsageKey::CompletionTokens
        }
        // AI SDK 4's (and LangChain.js') `promptTokens` / `completionTokens`:
        // the AI SDK's input, which leaves the cache out for Anthropic and
        // Bedrock (their cache counts in `providerMetadata`), as AI SDK 5's
        // `inputTokens` does (hunt51).
        "promptTokens" => UsageKey::AiSdkInput,
        "completionTokens" => UsageKey::OutputTokens,
        // AI SDK 4's and 5's `providerMetadata` by provider:
        // `anthropic.cacheCreationInputTokens`, `cacheReadInputTokens`;
        // `openai.cachedPromptTokens`, `reasoningTokens`.
        "anthropic" | "openai" => UsageKey::Detail,
        "cacheCreationInputTokens" => UsageKey::CacheCreation,
        "cachedPromptTokens" => UsageKey::AiSdkCached,
        // Anthropic's usage report rows: its `input_tokens`; DeepSeek's
        // cache misses, the input beside its hits.
        "input_tokens" | "uncached_input_tokens" | "prompt_cache_miss_tokens" => {
            UsageKey::InputTokens
        }
        "output_tokens" => UsageKey::OutputTokens,
        // DeepSeek's cache hits (its `prompt_tokens` includes them).
        "cache_read_input_tokens" | "prompt_cache_hit_tokens" => UsageKey::CacheRead,
        // Bifrost's `prompt_tokens_details.cached_read_tokens` and
        // `input_tokens_details.cached_read_tokens` (inside its input,
        // hunt131, hunt135), other loggers' beside an `input_tokens` that
        // leaves them out (hunt134): see `UsageKey::within`.
        "cached_read_tokens" => UsageKey::CachedRead,
        // pydantic-ai's usage (inside its input) and Claude Code's analytics
        // report, flattened (beside it): see `RawUsage::cache_either`.
        "cache_read_tokens" => UsageKey::CacheReadEither,
        // OpenRouter's `prompt_tokens_details.cache_write_tokens`.
        // LiteLLM's `prompt_tokens_details.cache_creation_tokens`.
        // Bifrost's `prompt_tokens_details.cached_write_tokens`.
        "cache_creation_input_tokens"
        | "cache_write_tokens"
        | "cache_creation_tokens"
        | "cached_write_tokens" => UsageKey::CacheCreation,
        "total_tokens" => UsageKey::Total,
        "cost" => UsageKey::Cost,
        // OpenRouter's BYOK calls: `cost` is its fee, the provider's charge
        // is in `cost_details` (hunt125).
        "cost_details" => UsageKey::Detail,
        "upstream_inference_cost" => UsageKey::UpstreamCost,
        "is_byok" => UsageKey::Byok,
        // xAI's exact charge, in ticks of 1e-10 USD.
        "cost_in_usd_ticks" => UsageKey::CostTicks,
        // OpenAI's usage API rows (`input_cached_tokens`), OpenRouter's
        // generation records (`native_tokens_*`, the provider's counts).
        // xAI's SDK's `cached_prompt_text_tokens` (hunt131: billed as
        // fresh input).
        "cached_tokens"
        | "input_cached_tokens"
        | "native_tokens_cached"
        | "cached_prompt_text_tokens"
        | "cachedPromptTextTokens" => UsageKey::Cached,
        "reasoning_tokens" | "native_tokens_reasoning" => UsageKey::Reasoning,
        // LangChain's `usage_metadata.input_token_details.cache_read` and
        // `output_token_details.reasoning`: counts when they are numbers
        // (another logger's `"reasoning": "low"` is no count: hunt51).
        "cache_read" => UsageKey::CachedIfCount,
        "reasoning" => UsageKey::ReasoningIfCount,
        // Gemini's `usageMetadata`, and as Google's Python SDK dumps it
        // (`usage_metadata` with snake_case keys: Google ADK's
        // `gcp.vertex.agent.llm_response`, a logged `response.to_dict()`).
        "promptTokenCount" | "prompt_token_count" => UsageKey::PromptTokenCount,
        // (The Live API's names its output `responseTokenCount`: hunt117,
        // its calls priced without their output.)
        "candidatesTokenCount"
        | "candidates_token_count"
        | "responseTokenCount"
        | "response_token_count" => UsageKey::CandidatesTokenCount,
        "cachedContentTokenCount" | "cached_content_token_count" => {
            UsageKey::CachedContentTokenCount
        }
        "thoughtsTokenCount" | "thoughts_token_count" => UsageKey::ThoughtsTokenCount,
        "toolUsePromptTokenCount" | "tool_use_prompt_token_count" => {
            UsageKey::ToolUsePromptTokenCount
        }
        "ephemeral_5m_input_tokens" => UsageKey::CacheWrite5m,
        "ephemeral_1h_input_tokens" => UsageKey::CacheWrite1h,
        // OpenAI Realtime's `input_token_details`, and LangChain's
        // (`usage_metadata`: its `input_tokens` counts the cache reads and
        // writes, whichever the provider).
        "input_tokens_details" | "input_token_details" => UsageKey::ResponsesDetail,
        // LangSmith's runs: `prompt_token_details.cache_read` beside its
        // `prompt_tokens` (hunt120), `completion_token_details.reasoning`.
        "prompt_tokens_details" | "prompt_token_details" => UsageKey::InputDetail,
        "completion_tokens_details"
        | "output_tokens_details"
        | "output_token_details"
        | "completion_token_details" => UsageKey::OutputDetail,
        "cached_tokens_details" => UsageKey::CachedDetail,
        // Cohere's v2 `usage.billed_units` (what is billed; its `tokens`
        // beside count the prompt template too).
        // LiteLLM's `prompt_tokens_details.cache_creation_token_details`
        // holds the TTL split as Anthropic's `cache_creation` does.
        "cache_creation_token_details" | "server_tool_use" | "billed_units" => UsageKey::Detail,
        "cache_creation" => UsageKey::CacheCreationOrDetail,
        "web_search_requests" => UsageKey::WebSearches,
        "num_search_queries" => UsageKey::SearchQueries,
        "citation_tokens" => UsageKey::Citations,
        // LangChain's `input_token_details.audio` and `output_token_details.audio`.
        "audio_tokens" | "audio" => UsageKey::Audio,
        "promptTokensDetails" => UsageKey::PromptModalities,
        "cacheTokensDetails" | "cache_tokens_details" => UsageKey::CacheModalities,
        "candidatesTokensDetails"
        | "candidates_tokens_details"
        | "responseTokensDetails"
        | "response_tokens_details" => UsageKey::CandidateModalities,
        "service_tier" => UsageKey::Tier,
        "trafficType" | "traffic_type" => UsageKey::TrafficType,
        "speed" => UsageKey::Speed,
        "inference_geo" => UsageKey::Geo,
        // Amazon Bedrock's Converse API (Anthropic's convention: input
        // without the cache reads and writes).
        "inputTokens" => UsageKey::InputTokens,
        "outputTokens" => UsageKey::OutputTokens,
        "totalTokens" => UsageKey::Total,
        "cacheReadInputTokens" => UsageKey::CacheRead,
        "cacheWriteInputTokens" => UsageKey::CacheCreation,
        "cacheDetails" => UsageKey::CacheDetails,
        // Amazon Nova's InvokeModel body.
        "cacheReadInputTokenCount" => UsageKey::CacheRead,
        "cacheWriteInputTokenCount" => UsageKey::CacheCreation,
        // The Vercel AI SDK's usage (`result.usage` logged as it is): its
        // `inputTokens` counts the cache reads and writes (AI SDK 6's
        // `inputTokenDetails`; AI SDK 5's `cachedInputTokens`), as OpenAI
        // Responses' input does; its `outputTokens` the reasoning.
        "cachedInputTokens" => UsageKey::AiSdkCached,
        "cacheReadTokens" => UsageKey::AiSdkCacheRead,
        "cacheWriteTokens" => UsageKey::AiSdkCacheWrite,
        "noCacheTokens" => UsageKey::AiSdkNoCache,
        "reasoningTokens" => UsageKey::AiSdkReasoning,
        "inputTokenDetails" => UsageKey::InputDetail,
        "outputTokenDetails" => UsageKey::OutputDetail,
        _ => UsageKey::Other,
    }
}

/// The usage object's logged cost, unless an earlier key gave one.
/// An amount read as dollars that is a count of xAI's ticks (1e-10 USD
/// each): exact, a tick being 100 pico-dollars.
fn ticks(v: Lenient<tokenaudit_core::Money>) -> Lenient<tokenaudit_core::Money> {
    match v {
        Lenient::Value(m) => Lenient::Value(tokenaudit_core::Money::from_picos(
            m.picos() / 10_000_000_000,
        )),
        other => other,
    }
}

/// `usage.cost`: an amount (OpenRouter's), or Perplexity's object of its
/// parts, whose `total_cost` is the call's (hunt82: the object was left
/// unread, and its bill never reconciled).
fn scan_usage_cost(s: &mut Scanner<'_>) -> Scan<Lenient<tokenaudit_core::Money>> {
    if s.peek()? != b'{' {
        return Ok(LMoney::from_label(s.scalar()?.label()).0);
    }
    s.begin_object()?;
    let mut cost = Lenient::Missing;
    let mut first = true;
    while let Some(key) = s.next_key(&mut first)? {
        if &*key == "total_cost" {
            cost = LMoney::from_label(s.scalar()?.label()).0;
        } else {
            s.skip_value()?;
        }
    }
    Ok(cost)
}

/// A usage object's label: Anthropic's `service_tier`, `speed` and
/// `inference_geo`, Vertex's `trafficType` (one place for every reader:
/// JSON's two and Parquet's columns).
pub(crate) fn set_usage_label(u: &mut RawUsage, k: UsageKey, label: &Lenient<Cow<'_, str>>) {
    match k {
        UsageKey::Speed => u.set_speed(label),
        UsageKey::Geo => u.set_geo(label),
        UsageKey::TrafficType => {
            u.set_tier(label);
            u.gemini = true;
        }
        _ => u.set_tier(label),
    }
}

/// A generation record's `upstream_inference_cost` or `is_byok` (see
/// [`Field::Upstream`]).
fn upstream(u: &mut RawUsage, key: &str, v: Scalar<'_>) {
    if key == "is_byok" {
        u.set_byok(&v.label());
    } else {
        u.set_upstream_cost(LMoney::from_label(v.label()).0);
    }
}

pub(crate) fn set_usage_cost(u: &mut RawUsage, v: Lenient<tokenaudit_core::Money>) {
    if !u.cost.is_present() {
        u.cost = v;
    }
}

/// [`set_usage`] for the counts few calls have (boxed apart), out of
/// the hot path.
#[cold]
#[inline(never)]
fn set_extra(u: &mut RawUsage, key: UsageKey, v: Lenient<u64>) {
    let x = u.extras();
    let slot = match key {
        UsageKey::AudioIn => &mut x.audio_in,
        UsageKey::AudioCached => &mut x.audio_cached,
        UsageKey::AudioOut => &mut x.audio_out,
        _ => &mut x.web_searches,
    };
    if !slot.is_present() {
        *slot = v;
    }
}

/// Fills the count's slot unless an earlier key already did.
#[inline]
pub(crate) fn set_usage(u: &mut RawUsage, key: UsageKey, v: Lenient<u64>) {
    fill_usage(u, key, v, false);
}

/// [`set_usage`] for a count that is a key of the line itself, beside the
/// usage object (`prompt_tokens` at the top): the usage object's count of
/// the same slot wins, whichever comes first in the line (a gateway's own
/// estimate is not what the provider billed), and when the object gives
/// any count, the line's own are dropped (`RawUsage::normalise`). The bits
/// of `RawUsage::top_keys` are the slots' order here.
#[inline]
fn fill_usage(u: &mut RawUsage, key: UsageKey, v: Lenient<u64>, top: bool) {
    let key = match key {
        UsageKey::AiSdkCached => {
            u.ai_sdk = true;
            UsageKey::Cached
        }
        UsageKey::AiSdkReasoning => {
            u.ai_sdk = true;
            UsageKey::Reasoning
        }
        UsageKey::AiSdkInput => {
            u.ai_sdk = true;
            UsageKey::InputTokens
        }
        UsageKey::CachedIfCount | UsageKey::ReasoningIfCount => {
            if !matches!(v, Lenient::Value(_)) {
                return;
            }
            if key == UsageKey::CachedIfCount {
                UsageKey::Cached
            } else {
                UsageKey::Reasoning
            }
        }
        UsageKey::AiSdkCacheRead => {
            u.ai_sdk_v6 = true;
            UsageKey::Cached
        }
        UsageKey::CacheReadEither => {
            u.cache_either = true;
            UsageKey::Cached
        }
        UsageKey::AiSdkCacheWrite => {
            u.ai_sdk_v6 = true;
            UsageKey::CacheCreation
        }
        UsageKey::AiSdkNoCache => {
            u.ai_sdk_v6 = true;
            return;
        }
        k => k,
    };
    let (slot, bit) = match key {
        UsageKey::PromptTokens => (&mut u.prompt_tokens, 0),
        UsageKey::CompletionTokens => (&mut u.completion_tokens, 1),
        UsageKey::InputTokens => (&mut u.input_tokens, 2),
        UsageKey::OutputTokens => (&mut u.output_tokens, 3),
        UsageKey::CacheRead | UsageKey::CachedRead => (&mut u.cache_read_input_tokens, 4),
        UsageKey::CacheCreation => (&mut u.cache_creation_input_tokens, 5),
        UsageKey::Cached => (&mut u.cached_tokens, 6),
        UsageKey::Reasoning => (&mut u.reasoning_tokens, 7),
        UsageKey::PromptTokenCount => (&mut u.prompt_token_count, 8),
        UsageKey::CandidatesTokenCount => (&mut u.candidates_token_count, 9),
        UsageKey::CachedContentTokenCount => (&mut u.cached_content_token_count, 10),
        UsageKey::ThoughtsTokenCount => (&mut u.thoughts_token_count, 11),
        UsageKey::ToolUsePromptTokenCount => (&mut u.tool_use_prompt_token_count, 12),
        UsageKey::CacheWrite5m => (&mut u.cache_write_5m, 13),
        UsageKey::CacheWrite1h => (&mut u.cache_write_1h, 14),
        UsageKey::Total => (&mut u.total_tokens, 15),
        UsageKey::AudioIn | UsageKey::AudioCached | UsageKey::AudioOut | UsageKey::WebSearches => {
            return set_extra(u, key, v)
        }
        UsageKey::SearchQueries => {
            u.reasoning_beside = true;
            return set_extra(u, UsageKey::WebSearches, v);
        }
        UsageKey::Citations => {
            u.reasoning_beside = true;
            return;
        }
        UsageKey::Detail
        | UsageKey::CacheCreationOrDetail
        | UsageKey::ResponsesDetail
        | UsageKey::InputDetail
        | UsageKey::OutputDetail
        | UsageKey::CachedDetail
        | UsageKey::Audio
        | UsageKey::CacheDetails
        | UsageKey::PromptModalities
        | UsageKey::CacheModalities
        | UsageKey::CandidateModalities
        | UsageKey::AiSdkCached
        | UsageKey::AiSdkCacheRead
        | UsageKey::CacheReadEither
        | UsageKey::AiSdkCacheWrite
        | UsageKey::AiSdkNoCache
        | UsageKey::AiSdkReasoning
        | UsageKey::AiSdkInput
        | UsageKey::CachedIfCount
        | UsageKey::ReasoningIfCount
        | UsageKey::Tier
        | UsageKey::Speed
        | UsageKey::TrafficType
        | UsageKey::Geo
        | UsageKey::Cost
        | UsageKey::CostTicks
        | UsageKey::UpstreamCost
        | UsageKey::Byok
        | UsageKey::Other => return,
    };
    let bit = 1u16 << bit;
    if !slot.is_present() {
        *slot = v;
        if top {
            u.top_keys |= bit;
        }
    } else if !top && u.top_keys & bit != 0 && matches!(v, Lenient::Value(_)) {
        *slot = v;
        u.top_keys &= !bit;
    }
}

/// Whether a `num_model_requests` or `context_window` value (its JSON
/// text) makes the line a usage API's row: a count of requests above one; a
/// bucket of context sizes such as `"0-200k"` or `"200k-1M"` (a model's
/// context window given as a number is no bucket).
fn is_summed(key: &str, raw: &str) -> bool {
    let raw = raw.trim();
    match key {
        // One request is one call (hunt41); `10.0`, `1e1`, `"10"` are ten
        // (hunt42).
        // (`"1,000"`, a spreadsheet's thousands: hunt43.)
        // LiteLLM's daily spend tables (`api_requests`: hunt123, a day of
        // 120 requests priced as one call at the long-context tier).
        "num_model_requests" | "requests" | "api_requests" | "request_count" | "Request Count"
        | "requestCount" | "calls" | "num_calls" | "n_requests" | "invocations"
        | "num_requests" | "total_requests" | "invocationCount" => raw
            .trim_matches('"')
            .trim()
            .replace(',', "")
            .parse::<f64>()
            .is_ok_and(|n| n > 1.0),
        // Anthropic's usage and cost report rows: a time bucket's
        // `ending_at` (its `context_window` is given only when grouped by
        // it: hunt123, a day's 300,000 tokens priced as one call at the
        // long-context tier; `uncached_input_tokens` alone is a logger's
        // name too, hunt127).
        "ending_at" => true,
        // OpenAI's Batch object: its usage sums its requests (hunt127: a
        // batch of 1,000 priced as one call).
        "request_counts" => serde_json::from_str::<serde_json::Value>(raw)
            .ok()
            .and_then(|v| {
                v.get("total")
                    .or_else(|| v.get("completed"))
                    .and_then(|n| n.as_u64())
            })
            .is_some_and(|n| n > 1),
        // A context window's range: `0-200k` (the API's), `≤ 200k` and
        // `> 200k` (the Console's export: hunt166, a day priced as one
        // call at the long-context tier).
        _ => {
            let t = raw.trim_matches('"');
            raw.starts_with('"')
                && t.contains(['-', '≤', '≥', '<', '>'])
                && t.ends_with(['k', 'K', 'M'])
        }
    }
}

/// A streamed Groq call's usage is in its last chunk's `x_groq.usage`
/// (hunt82: the call was lost, every chunk "without usage"): read where
/// the line has none, as a body's.
fn groq_usage(l: &mut RawLine<'_>, f: Field, raw: &str, depth: u8) {
    if f == Field::HostGroq && depth < 3 && raw.contains("\"usage\"") {
        nested_from_text(l, raw, Scope::Nested, depth + 1);
    }
}

/// Whether an `object` / `type` names a streaming chunk or event: OpenAI
/// chat's `chat.completion.chunk`, the Responses API's `response.*`
/// events. (Only its last chunk, or `response.completed`, has usage.)
fn is_stream_event(kind: &str) -> bool {
    kind == "chat.completion.chunk" || kind.starts_with("response.")
}

/// A `metadata`, `request` or `response` object given as JSON text (a
/// database export's JSON column, LiteLLM's spend logs through DuckDB, a
/// gateway that logs the bodies it passed as text): read as the object
/// would be, in its scope, apart, and what it gives taken where the line
/// has nothing ([`RawLine::absorb`]). Any other text is ignored, as any
/// other value.
pub(crate) fn nested_from_text(l: &mut RawLine<'_>, text: &str, scope: Scope, depth: u8) {
    if !text.trim_start().starts_with('{') {
        return;
    }
    // The scanner first, as for a line (a body is logged on every line of
    // some gateways' logs: Kong's payloads), serde's reader where it bails.
    let mut read = RawLine::default();
    let mut s = Scanner::new(text);
    let scanned =
        scan_map(&mut s, &mut read, scope, depth, None, &mut NoKeys).is_ok() && s.at_end();
    if !scanned {
        read = RawLine::default();
        let mut de = serde_json::Deserializer::from_str(text);
        let seed = LineSeed {
            line: &mut read,
            scope,
            depth,
        };
        if !(seed.deserialize(&mut de).is_ok() && de.end().is_ok()) {
            return;
        }
    }
    // A `metadata` object's text is read as the object would be; a body's
    // only as far as it is one a provider sent or was sent (a model's JSON
    // answer logged under `response` or `completion` has no usage), and only
    // for what such a body tells of the call (`RawLine::body_only`).
    // A provider's response logged without its usage (the gateway kept
    // the usage on the line) names itself by its id: read as the object
    // would be (hunt60: its served model and tier were lost).
    let usage = read.usage.has_main_count()
        || matches!(&read.request_id.0, Lenient::Value(id) if is_full_response_id(id));
    match scope {
        Scope::Metadata => l.absorb(read),
        Scope::Request if read.request_model.0.is_present() || read.prompt_text_fp.is_some() => {
            l.absorb(read.body_only(true))
        }
        Scope::Response | Scope::Nested if usage => l.absorb(read.body_only(false)),
        _ => {}
    }
}

/// A provider's response id of the length providers give (`chatcmpl-` and
/// 29 characters, `msg_` and 24…): what tells a response body logged
/// without its usage from a model's JSON answer with an id of its own
/// (hunt64: `msg_48213377` in a structured answer).
fn is_full_response_id(id: &str) -> bool {
    tokenaudit_core::is_response_id(id)
        && id.len() >= 24
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A usage's detail object at the top of a line ([`Field::UsageDetail`]),
/// as serde_json read it: the usage's details when it is an object, which
/// alone marks the Responses convention (a null or empty value says
/// nothing: hunt58, an Anthropic row's empty `input_tokens_details` cell
/// made its cache counted twice).
fn read_detail(u: &mut RawUsage, key: &str, v: &serde_json::Value) {
    if v.is_object() {
        let part = detail_part(u, key);
        // A valid object: UsageSeed reads each value leniently.
        let _ = UsageSeed(u, part).deserialize(v);
    }
}

/// The part of the usage a top-level detail object `key` counts, the
/// Responses convention marked as inside a usage object.
fn detail_part(u: &mut RawUsage, key: &str) -> Part {
    let k = usage_key(key);
    u.responses_style |= k == UsageKey::ResponsesDetail;
    k.detail(Part::Any).unwrap_or(Part::Any)
}

/// A usage object given as JSON text: read as the object; any other text
/// makes the usage a wrong type.
fn usage_from_text(u: &mut RawUsage, text: &str) {
    let mut de = serde_json::Deserializer::from_str(text);
    let read = text.trim_start().starts_with('{')
        && UsageSeed(u, Part::Any).deserialize(&mut de).is_ok()
        && de.end().is_ok();
    if !read {
        // (Whatever a broken text filled in, the usage is a wrong type.)
        u.prompt_tokens = Lenient::WrongType;
    }
}

/// Reads a usage object (any provider's spelling) into `RawUsage`; the
/// part is the detail object's ([`Part::Any`] at the top).
struct UsageSeed<'b>(&'b mut RawUsage, Part);

/// `prompt_tokens_details`: OpenAI's object of input counts, or Gemini's
/// modality list (Google's Python SDK's snake_case dump: hunt117, its
/// calls were rejected as a wrong type of `prompt_tokens`).
struct InputDetailSeed<'b>(&'b mut RawUsage);

impl<'de> DeserializeSeed<'de> for InputDetailSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for InputDetailSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a usage detail object or a modality list")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(entry) = seq.next_element::<Modality<'de>>()? {
            if let Some(v) = entry.0 {
                add_audio(self.0, UsageKey::AudioIn, v);
            }
        }
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        UsageSeed(self.0, Part::Input).visit_map(map)
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, text: &str) -> Result<(), E> {
        UsageSeed(self.0, Part::Input).visit_str(text)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        UsageSeed(self.0, Part::Input).visit_bool(v)
    }
}

/// An `input_tokens_details` object inside a usage: the Responses
/// convention (input including the cache) only when it is an object
/// (hunt127: Anthropic's usage with `"input_tokens_details": null` lost
/// its cache reads, its input taken as holding them).
struct ResponsesDetailSeed<'b>(&'b mut RawUsage, Part);

impl<'de> DeserializeSeed<'de> for ResponsesDetailSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ResponsesDetailSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a usage object")
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, text: &str) -> Result<(), E> {
        UsageSeed(self.0, self.1).visit_str(text)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        UsageSeed(self.0, self.1).visit_bool(v)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        UsageSeed(self.0, self.1).visit_seq(seq)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        self.0.responses_style = true;
        UsageSeed(self.0, self.1).visit_map(map)
    }
}

impl<'de> DeserializeSeed<'de> for UsageSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for UsageSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a usage object")
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, text: &str) -> Result<(), E> {
        usage_from_text(self.0, text);
        Ok(())
    }
    // A number is no usage object (OpenRouter's generation records give
    // the credits spent as `usage`): read and ignored, as a null.
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.0.prompt_tokens = Lenient::WrongType;
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        self.0.prompt_tokens = Lenient::WrongType;
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let (u, part) = (self.0, self.1);
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            let k = usage_key(&key).within(part);
            if k == UsageKey::CacheCreationOrDetail {
                map.next_value_seed(CacheCreationSeed(u, part))?;
                continue;
            }
            if k == UsageKey::InputDetail {
                map.next_value_seed(InputDetailSeed(u))?;
                continue;
            }
            if let Some(inner) = k.detail(part) {
                if k == UsageKey::ResponsesDetail {
                    map.next_value_seed(ResponsesDetailSeed(u, inner))?;
                } else {
                    map.next_value_seed(UsageSeed(u, inner))?;
                }
                continue;
            }
            if let Some(slot) = k.modality_slot() {
                let list: Modalities = map.next_value()?;
                if let Some(v) = list.0 {
                    add_audio(u, slot, v);
                }
                continue;
            }
            match k {
                UsageKey::CacheDetails => {
                    let v: serde_json::Value = map.next_value()?;
                    cache_details(u, &v);
                }
                UsageKey::Cost => {
                    // The scanner's reading of the value (an amount, or
                    // Perplexity's object), serde's where it bails.
                    let raw: &'de RawValue = map.next_value()?;
                    let cost = scan_usage_cost(&mut Scanner::new(raw.get())).unwrap_or_else(|_| {
                        serde_json::from_str::<LMoney>(raw.get())
                            .map_or(Lenient::WrongType, |m| m.0)
                    });
                    set_usage_cost(u, cost);
                }
                UsageKey::CostTicks => {
                    let v: LMoney = map.next_value()?;
                    set_usage_cost(u, ticks(v.0));
                }
                UsageKey::UpstreamCost => {
                    let v: LMoney = map.next_value()?;
                    u.set_upstream_cost(v.0);
                }
                UsageKey::Byok => {
                    let raw: &'de RawValue = map.next_value()?;
                    if let Ok(v) = Scanner::new(raw.get()).scalar() {
                        u.set_byok(&v.label());
                    }
                }
                k if k.is_label() => {
                    let v: LStr = map.next_value()?;
                    set_usage_label(u, k, &v.0);
                }
                k => {
                    let v: LU64 = map.next_value()?;
                    set_usage(u, k, v.0);
                }
            }
        }
        Ok(())
    }
}

/// `cache_creation`'s value: Anthropic's object of the cache writes by
/// TTL, read as a detail object, or LangChain's count of them.
struct CacheCreationSeed<'b>(&'b mut RawUsage, Part);

impl<'de> DeserializeSeed<'de> for CacheCreationSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        let (u, part) = (self.0, self.1);
        match serde_json::Value::deserialize(d)? {
            v @ serde_json::Value::Object(_) => {
                // (An object of counts only: it deserializes.)
                let _ = UsageSeed(u, part).deserialize(v);
            }
            serde_json::Value::Null => {}
            v => set_usage(u, UsageKey::CacheCreation, count_of(v)),
        }
        Ok(())
    }
}

/// A JSON value as a token count, read as `LU64` reads it.
fn count_of(v: serde_json::Value) -> Lenient<u64> {
    serde_json::from_value::<LU64>(v).map_or(Lenient::WrongType, |c| c.0)
}

/// Bedrock Converse's `cacheDetails` (`[{"ttl": "5m" | "1h", "inputTokens":
/// n}]`): the cache writes of each TTL, where no other key gave them.
pub(crate) fn cache_details(u: &mut RawUsage, v: &serde_json::Value) {
    let Some(list) = v.as_array() else {
        return;
    };
    let (mut m5, mut h1) = (None, None);
    for d in list {
        let n = d.get("inputTokens").and_then(serde_json::Value::as_u64);
        match (d.get("ttl").and_then(serde_json::Value::as_str), n) {
            (Some("5m"), Some(n)) => m5 = Some(m5.unwrap_or(0u64).saturating_add(n)),
            (Some("1h"), Some(n)) => h1 = Some(h1.unwrap_or(0u64).saturating_add(n)),
            _ => {}
        }
    }
    for (slot, n) in [(&mut u.cache_write_5m, m5), (&mut u.cache_write_1h, h1)] {
        if let (false, Some(n)) = (slot.is_present(), n) {
            *slot = Lenient::Value(n);
        }
    }
}

/// A Gemini modality list's `AUDIO` count (`None`: no such entry; any
/// other value than a list of objects is no entry).
struct Modalities(Option<Lenient<u64>>);

impl<'de> Deserialize<'de> for Modalities {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Modalities, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Modalities;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of modality counts")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Modalities, A::Error> {
                let mut u = RawUsage::default();
                while let Some(entry) = seq.next_element::<Modality<'de>>()? {
                    if let Some(v) = entry.0 {
                        add_audio(&mut u, UsageKey::AudioIn, v);
                    }
                }
                let audio = u.extras.map_or(Lenient::Missing, |x| x.audio_in);
                Ok(Modalities(audio.is_present().then_some(audio)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Modalities, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Modalities(None))
            }
            fn visit_unit<E>(self) -> Result<Modalities, E> {
                Ok(Modalities(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Modalities, E> {
                Ok(Modalities(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Modalities, E> {
                Ok(Modalities(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Modalities, E> {
                Ok(Modalities(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Modalities, E> {
                Ok(Modalities(None))
            }
            fn visit_str<E>(self, _: &str) -> Result<Modalities, E> {
                Ok(Modalities(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// One `{modality, tokenCount}` entry: its count when it is `AUDIO`.
struct Modality<'a>(Option<Lenient<u64>>, std::marker::PhantomData<&'a ()>);

impl<'de> Deserialize<'de> for Modality<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Modality<'de>, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Modality<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a modality count")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Modality<'de>, A::Error> {
                let mut modality = Lenient::Missing;
                let mut count = Lenient::Missing;
                while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
                    match key.as_ref() {
                        "modality" => modality = map.next_value::<LStr<'de>>()?.0,
                        "tokenCount" | "token_count" => count = map.next_value::<LU64>()?.0,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(Modality(
                    modality_audio(&modality, count),
                    std::marker::PhantomData,
                ))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Modality<'de>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Modality(None, std::marker::PhantomData))
            }
            fn visit_unit<E>(self) -> Result<Modality<'de>, E> {
                Ok(Modality(None, std::marker::PhantomData))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Modality<'de>, E> {
                Ok(Modality(None, std::marker::PhantomData))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Modality<'de>, E> {
                Ok(Modality(None, std::marker::PhantomData))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Modality<'de>, E> {
                Ok(Modality(None, std::marker::PhantomData))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Modality<'de>, E> {
                Ok(Modality(None, std::marker::PhantomData))
            }
            fn visit_str<E>(self, _: &str) -> Result<Modality<'de>, E> {
                Ok(Modality(None, std::marker::PhantomData))
            }
        }
        d.deserialize_any(V)
    }
}

/// `error`: a short text, or an object whose `type` or `code` names the kind.
struct ErrorField<'a>(LStr<'a>);

impl<'de> Deserialize<'de> for ErrorField<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ErrorField<'de>, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Lenient<Cow<'de, str>>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an error")
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(error_kind(Scalar::Null))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
                Ok(error_kind(Scalar::Bool(v)))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
                Ok(error_kind(Scalar::U64(v)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
                Ok(error_kind(Scalar::I64(v)))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
                Ok(error_kind(Scalar::F64(v)))
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(error_kind(Scalar::Str(Cow::Borrowed(v))))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(error_kind(Scalar::Str(Cow::Owned(v.to_string()))))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(error_kind(Scalar::Container))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut kind = KindByRank::default();
                while let Some(key) = map.next_key::<LStr<'de>>()? {
                    match error_kind_key_rank(&key.0) {
                        Some(rank) => kind.offer(rank, map.next_value::<LStr<'de>>()?.0),
                        None => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(kind.kind())
            }
        }
        d.deserialize_any(V).map(|v| ErrorField(LStr(v)))
    }
}

/// The error kind of an `error` that is not an object.
pub(crate) fn error_kind(v: Scalar<'_>) -> Lenient<Cow<'_, str>> {
    match v {
        Scalar::Null | Scalar::Bool(false) => Lenient::Missing,
        Scalar::Bool(true) | Scalar::F64(_) | Scalar::Container => {
            Lenient::Value(Cow::Borrowed("error"))
        }
        Scalar::U64(v) => Lenient::Value(Cow::Owned(v.to_string())),
        Scalar::I64(v) => Lenient::Value(Cow::Owned(v.to_string())),
        Scalar::Str(v) => match error_of_text(&v) {
            Some(kind) => kind,
            None => short_kind(v),
        },
    }
}

/// The kind of an `error` object given as JSON text (a Parquet text
/// column, a gateway that logs the body's error as a string), as the
/// object's (hunt60: `rate_limit_error`, not `error`); `None` for any
/// other text.
fn error_of_text(text: &str) -> Option<Lenient<Cow<'static, str>>> {
    if !text.trim_start().starts_with('{') {
        return None;
    }
    let mut s = Scanner::new(text);
    let kind = scan_error(&mut s).ok()?;
    s.at_end().then(|| match kind {
        Lenient::Value(k) => Lenient::Value(Cow::Owned(k.into_owned())),
        _ => Lenient::Value(Cow::Borrowed("error")),
    })
}

/// In an `error` object, the keys that name its kind, best first: `type`
/// (OpenAI's, Anthropic's), LiteLLM's `error_class` (in its spend logs'
/// `metadata.error_information`), `code`, LiteLLM's `error_code`. The best
/// one present wins, whatever the key order (a Parquet struct's children
/// come sorted by name).
pub(crate) fn error_kind_key_rank(key: &Lenient<Cow<'_, str>>) -> Option<u8> {
    match key {
        Lenient::Value(k) => match &**k {
            "type" => Some(0),
            "error_class" => Some(1),
            "code" => Some(2),
            "error_code" => Some(3),
            _ => None,
        },
        _ => None,
    }
}

/// An `error` object's kind so far: the value of its best-ranked kind key
/// that holds one.
#[derive(Default)]
pub(crate) struct KindByRank<'a> {
    kind: Lenient<Cow<'a, str>>,
    rank: u8,
    /// A key of LiteLLM's `error_information` was met.
    litellm: bool,
}

impl<'a> KindByRank<'a> {
    pub(crate) fn offer(&mut self, rank: u8, value: Lenient<Cow<'a, str>>) {
        self.litellm |= rank % 2 == 1;
        if value.is_present() && (!self.kind.is_present() || rank < self.rank) {
            self.kind = value;
            self.rank = rank;
        }
    }

    /// The object's kind: its best-ranked kind, else `error` (an error
    /// object names a failure), but for LiteLLM's `error_information` of
    /// empty fields, which its successful rows carry too (hunt85).
    pub(crate) fn kind(self) -> Lenient<Cow<'a, str>> {
        if self.litellm && !self.kind.is_present() {
            Lenient::Missing
        } else {
            error_object_kind(self.kind)
        }
    }
}

/// An `error` object without a usable `type`/`code` is still an error.
pub(crate) fn error_object_kind(kind: Lenient<Cow<'_, str>>) -> Lenient<Cow<'_, str>> {
    // (A `type` that is a list or an object names no kind: still an
    // error, hunt64.)
    if kind.is_value() {
        kind
    } else {
        Lenient::Value(Cow::Borrowed("error"))
    }
}

/// Error messages are free text (they can quote user input); only short,
/// identifier-like ones are kept as the error kind.
fn short_kind(v: Cow<'_, str>) -> Lenient<Cow<'_, str>> {
    let t = v.trim();
    if t.is_empty() {
        Lenient::Missing
    } else if t.len() <= 48 && !t.contains(char::is_whitespace) {
        Lenient::Value(v)
    } else {
        Lenient::Value(Cow::Borrowed("error"))
    }
}

/// `tags`: an object of scalars, or a list of strings (each becomes `tag=VALUE`,
/// or `KEY=VALUE` for a `KEY:VALUE` item, see [`list_tag`]).
struct TagsSeed<'b, 'a>(&'b mut Vec<(Cow<'a, str>, Cow<'a, str>)>);

impl<'de> DeserializeSeed<'de> for TagsSeed<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TagsSeed<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("tags")
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        push_text_tags(self.0, v);
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(v) = seq.next_element::<TagItem<'de>>()? {
            match v {
                TagItem::Label(LStr(Lenient::Value(v))) => self.0.push(list_tag(v)),
                TagItem::Label(_) => {}
                TagItem::Object(item) => self.0.extend(crate::record::tags::pair_tag(&item)),
            }
        }
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<LStr<'de>>()? {
            let v: LStr<'de> = map.next_value()?;
            if let (Lenient::Value(k), Lenient::Value(v)) = (key.0, v.0) {
                self.0.push((k, v));
            }
        }
        Ok(())
    }
}

/// An item of a tag list: a label, or an object (a `{key, value}` pair).
enum TagItem<'a> {
    Label(LStr<'a>),
    Object(serde_json::Value),
}

impl<'de> Deserialize<'de> for TagItem<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // A label as `LStr` reads it; an object kept whole.
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TagItem<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a tag")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(label(Scalar::Str(Cow::Borrowed(v))))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(label(Scalar::Str(Cow::Owned(v.to_string()))))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(label(Scalar::Str(Cow::Owned(v))))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
                Ok(label(Scalar::U64(v)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
                Ok(label(Scalar::I64(v)))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
                Ok(label(Scalar::F64(v)))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
                Ok(label(Scalar::Bool(v)))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(label(Scalar::Null))
            }
            fn visit_none<E>(self) -> Result<Self::Value, E> {
                Ok(label(Scalar::Null))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(label(Scalar::Container))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let v = serde_json::Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(TagItem::Object(v))
            }
        }
        fn label(s: Scalar<'_>) -> TagItem<'_> {
            TagItem::Label(LStr(s.label()))
        }
        d.deserialize_any(V)
    }
}

/// Some exporters store tags as a JSON-encoded string.
pub(crate) fn push_text_tags<'a>(out: &mut Vec<(Cow<'a, str>, Cow<'a, str>)>, text: &str) {
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(text) {
        push_value_tags(out, &value);
    }
}

fn push_value_tags<'a>(out: &mut Vec<(Cow<'a, str>, Cow<'a, str>)>, value: &serde_json::Value) {
    match value {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                let text = match v {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Number(n) => n.to_string(),
                    serde_json::Value::Bool(b) => b.to_string(),
                    _ => continue,
                };
                out.push((Cow::Owned(k.clone()), Cow::Owned(text)));
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                if item.is_object() {
                    out.extend(crate::record::tags::pair_tag(item));
                } else if let serde_json::Value::String(s) = item {
                    out.push(list_tag(Cow::Owned(s.clone())));
                }
            }
        }
        _ => {}
    }
}

/// Parses one line into its raw fields. Fails only when the line is not a
/// JSON object at all.
pub fn parse_raw(line: &[u8]) -> Result<RawLine<'_>, Reject> {
    match std::str::from_utf8(line) {
        Ok(text) => parse_raw_str(text),
        // Said as what it is, not as the JSON syntax error it makes.
        Err(bad) => parse_raw_slice(line).map_err(|mut r| {
            if r.reason == RejectReason::MalformedJson {
                r.detail = format!(
                    "not UTF-8 text: an invalid byte at column {} (is the file in another encoding?)",
                    bad.valid_up_to() + 1
                );
            }
            r
        }),
    }
}

/// Parses a line already known to be UTF-8: with the scanner, or, when the
/// scanner bails (invalid JSON, rare shapes), with serde_json, which then
/// decides the result and words the error.
pub fn parse_raw_str(line: &str) -> Result<RawLine<'_>, Reject> {
    let mut raw = RawLine::default();
    match scan_line(line, &mut raw) {
        Ok(()) => Ok(raw),
        Err(Bail) => parse_raw_serde(line),
    }
}

/// The serde_json path: the reference the scanner must agree with.
fn parse_raw_serde(line: &str) -> Result<RawLine<'_>, Reject> {
    if line.trim_start().as_bytes().first() != Some(&b'{') {
        return parse_raw_slice(line.as_bytes());
    }
    let mut raw = RawLine::default();
    let mut de = serde_json::Deserializer::from_str(line);
    LineSeed {
        line: &mut raw,
        scope: Scope::Top,
        depth: 0,
    }
    .deserialize(&mut de)
    .and_then(|_| de.end())
    .map_err(|e| {
        Reject::new(
            RejectReason::MalformedJson,
            crate::record::fields::short_error(&e),
        )
    })?;
    Ok(raw)
}

fn parse_raw_slice(line: &[u8]) -> Result<RawLine<'_>, Reject> {
    let first = line.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        return Err(match serde_json::from_slice::<IgnoredAny>(line) {
            Ok(_) => Reject::new(RejectReason::NotAnObject, "line is JSON but not an object"),
            Err(e) => Reject::new(
                RejectReason::MalformedJson,
                crate::record::fields::short_error(&e),
            ),
        });
    }
    let mut raw = RawLine::default();
    let mut de = serde_json::Deserializer::from_slice(line);
    LineSeed {
        line: &mut raw,
        scope: Scope::Top,
        depth: 0,
    }
    .deserialize(&mut de)
    .and_then(|_| de.end())
    .map_err(|e| {
        Reject::new(
            RejectReason::MalformedJson,
            crate::record::fields::short_error(&e),
        )
    })?;
    Ok(raw)
}

// The fast path: the same fields as the serde visitor above, read with the
// scanner. Each reader mirrors its serde counterpart and converts values
// through the same `Scalar` functions; where serde_json reads a value (and
// may fail on it) the scanner reads it too, and where serde_json skips one
// the scanner skips it, so a line the scanner accepts reads the same both ways.

/// Reads a line into `raw` (which is left half-filled on a bail).
fn scan_line<'a>(line: &'a str, raw: &mut RawLine<'a>) -> Scan<()> {
    scan_line_keys(line, raw, &mut NoKeys)
}

/// Told each top-level key of a line as the scanner reads it: how a user
/// mapping (`mapping_scan.rs`) finds its paths in the gateway reader's own
/// pass instead of reading the line a second time.
pub(crate) trait TopKeys {
    /// Whether anyone listens: when not, a predicted key's text is never
    /// sliced for [`TopKeys::key`].
    const LISTENS: bool = true;
    /// `key` (decoded, as bytes, sliced only if called), its meaning to the
    /// gateway reader, and the byte offset in the line where its value
    /// starts (whitespace may precede it).
    fn key<'k>(&mut self, key: impl FnOnce() -> &'k [u8], field: Field, value_at: usize);
}

/// Nobody listening: compiled away, so the plain reader pays nothing.
struct NoKeys;

impl TopKeys for NoKeys {
    const LISTENS: bool = false;
    #[inline(always)]
    fn key<'k>(&mut self, _: impl FnOnce() -> &'k [u8], _: Field, _: usize) {}
}

/// The scanner half of [`parse_raw_str`], telling `keys` each top-level key.
/// A bail (then `raw` is half-filled) leaves the line to the caller.
pub(crate) fn scan_raw_keys<'a, K: TopKeys>(
    line: &'a str,
    raw: &mut RawLine<'a>,
    keys: &mut K,
) -> Scan<()> {
    scan_line_keys(line, raw, keys)
}

fn scan_line_keys<'a, K: TopKeys>(line: &'a str, raw: &mut RawLine<'a>, keys: &mut K) -> Scan<()> {
    let mut s = Scanner::new(line);
    SHAPE.with(|cell| match cell.try_borrow_mut() {
        Ok(mut shapes) => scan_map(&mut s, raw, Scope::Top, 0, Some(&mut shapes), keys),
        Err(_) => scan_map(&mut s, raw, Scope::Top, 0, None, keys),
    })?;
    if !s.at_end() {
        return Err(Bail);
    }
    Ok(())
}

/// Fills `slot` from the next value (read by one of [`Scanner::label`],
/// [`Scanner::count`], [`Scanner::time`]) unless an earlier key already did.
#[inline]
fn scan_read<'a, T>(
    s: &mut Scanner<'a>,
    slot: &mut Lenient<T>,
    read: impl FnOnce(&mut Scanner<'a>) -> Scan<Lenient<T>>,
) -> Scan<()> {
    if slot.is_present() {
        return s.skip_value();
    }
    *slot = read(s)?;
    Ok(())
}

/// [`scan_read`] for a ranked slot: its value is read when the slot is
/// empty or the key ranks first (`staging::put_ranked`), else skipped.
#[inline]
fn scan_ranked<'a, T>(
    s: &mut Scanner<'a>,
    slot: &mut Lenient<T>,
    held: &mut u16,
    rank: u16,
    read: impl FnOnce(&mut Scanner<'a>) -> Scan<Lenient<T>>,
) -> Scan<()> {
    if !outranks(slot.is_value(), *held, rank) {
        return s.skip_value();
    }
    let v = read(s)?;
    put_ranked(slot, held, rank, v);
    Ok(())
}

/// [`scan_ranked`] with the value read as a scalar.
#[inline]
fn scan_fill_ranked<'a, T>(
    s: &mut Scanner<'a>,
    slot: &mut Lenient<T>,
    held: &mut u16,
    rank: u16,
    read: impl FnOnce(Scalar<'a>) -> Lenient<T>,
) -> Scan<()> {
    scan_ranked(s, slot, held, rank, |s| Ok(read(s.scalar()?)))
}

thread_local! {
    /// Each worker thread's [`Shapes`]: the keys of the last lines it read.
    static SHAPE: std::cell::RefCell<Shapes> = std::cell::RefCell::default();
}

/// A worker's remembered key orders: the top level's, and a few usage
/// objects' (a file often mixes providers, whose usage objects differ while
/// the lines around them do not).
#[derive(Default)]
struct Shapes {
    /// Each key's meaning and, for a ranked slot's, its rank at the top.
    top: KeyShape<(Field, u16)>,
    usage: UsageShapes,
    tags: KeyShape<()>,
}

const USAGE_SHAPES: usize = 3;

#[derive(Default)]
struct UsageShapes {
    shapes: [KeyShape<UsageKey>; USAGE_SHAPES],
    /// The one to forget when an object starts like none of them.
    next: usize,
}

/// A key as [`scan_map`] has it: predicted (its text not yet sliced) or read.
enum KeyText<'a> {
    Span(KeySpan),
    Read(Cow<'a, str>),
}

impl<'a> KeyText<'a> {
    fn as_bytes<'k>(&'k self, s: &Scanner<'a>) -> &'k [u8] {
        match self {
            KeyText::Span(KeySpan(a, b)) => s.slice_bytes(*a, *b),
            KeyText::Read(key) => key.as_bytes(),
        }
    }

    fn text(self, s: &Scanner<'a>) -> Cow<'a, str> {
        match self {
            KeyText::Span(KeySpan(a, b)) => Cow::Borrowed(s.slice(a, b)),
            KeyText::Read(key) => key,
        }
    }
}

fn scan_map<'a, K: TopKeys>(
    s: &mut Scanner<'a>,
    l: &mut RawLine<'a>,
    scope: Scope,
    depth: u8,
    mut shapes: Option<&mut Shapes>,
    keys: &mut K,
) -> Scan<()> {
    s.begin_object()?;
    let mut first = true;
    let mut slot = 0usize;
    loop {
        let predicted = match shapes.as_deref() {
            Some(sh) => sh.top.predict(s, slot, first),
            None => None,
        };
        let (key, f, top_rank) = match predicted {
            Some(((f, rank), at, span)) => {
                slot = at;
                (KeyText::Span(span), f, Some(rank))
            }
            None => {
                let start = s.pos();
                let was_first = first;
                let Some(key) = s.next_key(&mut first)? else {
                    break;
                };
                let f = field(&key);
                if let (Some(sh), Cow::Borrowed(text)) = (shapes.as_deref_mut(), &key) {
                    // (The shapes are the top level's.)
                    let rank = rank(f.in_scope(Scope::Top), text.as_bytes(), Scope::Top, 0);
                    sh.top
                        .learn(slot, s.since(start), text, (f, rank), was_first);
                }
                (KeyText::Read(key), f, None)
            }
        };
        first = false;
        slot += 1;
        let f = f.in_scope(scope);
        // The key's rank, for the keys of ranked slots (`rank`).
        let rank = match top_rank {
            Some(rank) => rank,
            None if aliases(f).is_some() => rank(f, key.as_bytes(s), scope, depth),
            None => 0,
        };
        // A ranked slot's value, by a reader of the scanner or of a scalar
        // (see `scan_ranked`).
        macro_rules! read {
            ($slot:ident, $r:ident, $read:expr) => {
                scan_ranked(s, &mut l.$slot.0, &mut l.ranks[Ranked::$r], rank, $read)
            };
        }
        macro_rules! fill {
            ($slot:ident, $r:ident, $read:expr) => {
                scan_fill_ranked(s, &mut l.$slot.0, &mut l.ranks[Ranked::$r], rank, $read)
            };
        }
        if K::LISTENS {
            let at = s.pos();
            keys.key(|| key.as_bytes(s), f, at);
        }
        match f {
            Field::Timestamp => {
                let created = key.as_bytes(s) == b"created";
                if created || outranks(l.timestamp.0.is_value(), l.ranks[Ranked::Timestamp], rank) {
                    let t = s.time()?;
                    if created {
                        l.note_created(&t);
                    }
                    l.set_time_ranked(t, rank);
                } else {
                    s.skip_value()?;
                }
            }
            Field::RequestId => put_id(l, s.label()?, rank),
            Field::Provider => read!(provider, Provider, Scanner::label)?,
            Field::RequestModel => read!(request_model, RequestModel, Scanner::label)?,
            Field::ModelGroup => scan_read(s, &mut l.model_group.0, Scanner::label)?,
            Field::ServedModel => read!(served_model, ServedModel, Scanner::label)?,
            Field::EventKind => {
                if let Lenient::Value(kind) = s.label()? {
                    l.stream_event |= is_stream_event(&kind);
                }
            }
            Field::StreamDelta => {
                s.skip_value()?;
                l.stream_event = true;
            }
            Field::StreamEvent => {
                s.skip_value()?;
                l.event_only = true;
            }
            Field::HostGroq | Field::HostCerebras => {
                let raw = s.raw_value()?.unwrap_or("");
                l.host = l.host.or(f.host_of(Some(raw)));
                groq_usage(l, f, raw, depth);
            }
            Field::Model => read!(model, Model, Scanner::label)?,
            Field::Feature => read!(feature, Feature, Scanner::label)?,
            Field::Route => read!(route, Route, Scanner::label)?,
            Field::Team => read!(team, Team, Scanner::label)?,
            Field::User => read!(user, User, Scanner::label)?,
            Field::Session => read!(session, Session, Scanner::label)?,
            Field::Turn => read!(turn, Turn, Scanner::count)?,
            Field::Status => {
                let v = s.scalar()?.label();
                set_status(l, v, rank);
            }
            Field::HttpStatus => set_http_status(l, LCodeOrWord::from_scalar(s.scalar()?), rank),
            Field::HttpStatusCamel => set_http_code(l, LCodeOrWord::from_scalar(s.scalar()?)),
            Field::Error => {
                if outranks(l.error_kind.0.is_value(), l.ranks[Ranked::ErrorKind], rank) {
                    let v = scan_error(s)?;
                    put_ranked(
                        &mut l.error_kind.0,
                        &mut l.ranks[Ranked::ErrorKind],
                        rank,
                        v,
                    );
                } else {
                    s.skip_value()?;
                }
            }
            Field::ErrorKind => read!(error_kind, ErrorKind, Scanner::label)?,
            Field::Attempt => read!(attempt, Attempt, Scanner::count)?,
            Field::RetryOf => read!(retry_of, RetryOf, Scanner::label)?,
            Field::Usage | Field::TokenUsage if depth > 0 || f == Field::TokenUsage => {
                let mut nested = RawUsage::default();
                match shapes.as_deref_mut() {
                    Some(sh) => scan_usage_shaped(s, &mut nested, &mut sh.usage)?,
                    None => scan_usage(s, &mut nested, Part::Any)?,
                }
                l.usage.add_nested(nested);
            }
            Field::Usage if l.usage.whole => s.skip_value()?,
            Field::Usage => match shapes.as_deref_mut() {
                Some(sh) => scan_usage_shaped(s, &mut l.usage, &mut sh.usage)?,
                None => scan_usage(s, &mut l.usage, Part::Any)?,
            },
            Field::TotalUsage => {
                let mut total = RawUsage::default();
                scan_usage(s, &mut total, Part::Any)?;
                l.usage.take_whole(total);
            }
            Field::UsageKey => {
                let v = s.count()?;
                set_usage_key(&mut l.usage, &key.text(s), v);
            }
            Field::UsageDetail if l.usage.whole => s.skip_value()?,
            Field::UsageDetail if s.peek()? == b'{' => {
                let part = detail_part(&mut l.usage, &key.text(s));
                scan_usage(s, &mut l.usage, part)?;
            }
            Field::UsageDetail => s.skip_value()?,
            Field::Latency => fill!(latency_ms, Latency, |v| LNum::from_scalar(v).0)?,
            Field::Ttft => fill!(ttft_ms, Ttft, |v| LNum::from_scalar(v).0)?,
            Field::Batch => fill!(batch, Batch, |v| LBool::from_label(v.label()).0)?,
            Field::CacheHit => fill!(cache_hit, CacheHit, |v| LBool::from_label(v.label()).0)?,
            Field::GatewayCached => l.gateway_cached |= s.scalar()? == Scalar::Bool(true),
            Field::Success => {
                if s.scalar()? == Scalar::Bool(false) {
                    l.unsuccessful = true;
                }
            }
            Field::Summed => {
                let raw = s.raw_value()?.unwrap_or("");
                l.summed |= is_summed(&String::from_utf8_lossy(key.as_bytes(s)), raw);
            }
            Field::CostInCents => {
                s.skip_value()?;
                l.cost_in_cents = true;
            }
            Field::Upstream => {
                let v = s.scalar()?;
                upstream(&mut l.usage, &String::from_utf8_lossy(key.as_bytes(s)), v);
            }
            Field::RequestServiceTier => {
                read!(request_service_tier, RequestServiceTier, Scanner::label)?
            }
            Field::ServiceTier => put_tier(l, s.label()?, rank),
            Field::InferenceGeo => l.usage.set_geo(&s.label()?),
            Field::FinishReason => read!(finish_reason, FinishReason, Scanner::label)?,
            Field::MaxTokens => read!(max_tokens, MaxTokens, Scanner::count)?,
            Field::PromptHash => read!(prompt_hash, PromptHash, Scanner::label)?,
            Field::PrefixHash => read!(prefix_hash, PrefixHash, Scanner::label)?,
            Field::PrefixTokens => read!(prefix_tokens, PrefixTokens, Scanner::count)?,
            Field::Messages if s.peek()? == b'[' => {
                // Read in this pass; the array's text is the fingerprint's.
                let (start, mut ahead) = (s.pos(), s.clone());
                match crate::record::fields::scan_messages_in(&mut ahead) {
                    Ok(m) => {
                        *s = ahead;
                        l.set_messages_read(s.since(start), m);
                    }
                    Err(_) => {
                        if let Some(raw) = s.raw_value()? {
                            set_text(l, f, raw);
                        }
                    }
                }
            }
            Field::Messages | Field::Prompt | Field::System => {
                if let Some(raw) = s.raw_value()? {
                    set_text(l, f, raw);
                }
            }
            Field::Grounding => {
                if let Some(raw) = s.raw_value()? {
                    grounding(l, raw);
                }
            }
            Field::Continues => {
                if let Some(raw) = s.raw_value()? {
                    continues(l, raw);
                }
            }
            Field::Cost => fill!(cost, Cost, |v| LMoney::from_label(v.label()).0)?,
            Field::Tags => scan_tags(s, &mut l.tags, shapes.as_deref_mut().map(|sh| &mut sh.tags))?,
            Field::Metadata if depth < 3 => scan_nested(s, l, Scope::Metadata, depth + 1)?,
            Field::Nested if depth < 3 => {
                let scope = nested_scope(key.as_bytes(s), scope);
                scan_nested(s, l, scope, depth + 1)?
            }
            Field::Choices if depth < 3 && scope != Scope::Metadata => {
                scan_choices(s, l, depth + 1)?
            }
            Field::Output if depth < 3 && !matches!(scope, Scope::Metadata | Scope::Request) => {
                scan_output(s, l, scope, depth)?
            }
            _ if scope == Scope::Metadata => {
                let key = key.text(s);
                if let Lenient::Value(v) = s.scalar()?.label() {
                    if metadata_tag(&key, &v) {
                        l.tags.push((key, v));
                    }
                }
            }
            _ => s.skip_value()?,
        }
    }
    Ok(())
}

/// `request`/`response`/`metadata`: an object is read for fields; anything
/// else is read and ignored.
impl Field {
    /// The host a [`Field::HostGroq`]-like key names, given its value's
    /// JSON text (`None`: an object whose text is not at hand). Only an
    /// object or an id names one (a null, `false` or an empty cell does
    /// not): `x_groq` is Groq's alone; `time_info` is a common name, so it
    /// is Cerebras' only with Cerebras' timings in it.
    pub(crate) fn host_of(self, raw: Option<&str>) -> Option<&'static str> {
        // An object, or an id (a CSV column's `req_…`).
        let object = raw.is_none_or(|t| {
            let t = t.trim();
            t.starts_with('{')
                || (t.starts_with('"')
                    && !matches!(t.trim_matches('"').trim(), "" | "null" | "false"))
        });
        // Keys as they stand in JSON text, quoted (no copy made per line).
        let has = |quoted: &str| raw.is_some_and(|t| t.contains(quoted));
        match self {
            Field::HostGroq if object => Some("groq"),
            Field::HostCerebras
                if object && has("\"queue_time\"") && has("\"completion_time\"") =>
            {
                Some("cerebras")
            }
            _ => None,
        }
    }

    /// What a key of this meaning is inside `scope`: in a logged pair's
    /// `request`, its model and service tier are what was asked for.
    pub(crate) fn in_scope(self, scope: Scope) -> Field {
        match (scope, self) {
            (Scope::Request, Field::Model) => Field::RequestModel,
            (Scope::Request, Field::ServiceTier) => Field::RequestServiceTier,
            (Scope::Response, Field::Model) => Field::ServedModel,
            // A `metadata` object's model, like the first of `choices`' or a
            // `body`'s, is the call's only when the line names none (as a
            // request's is), whatever the key order; its provider and
            // request id are the caller's notes (tags).
            (Scope::Metadata | Scope::Nested, Field::Model) => Field::RequestModel,
            (Scope::Top, Field::ModelGroup) => Field::ModelGroup,
            (_, Field::ModelGroup) => Field::Other,
            (
                Scope::Metadata,
                Field::Provider | Field::RequestId | Field::HostGroq | Field::HostCerebras,
            ) => Field::Other,
            // (A caller's note in `metadata`: no candidate's grounding, no
            // request's conversation.)
            (Scope::Metadata, Field::Grounding | Field::Continues) => Field::Other,
            (Scope::Top, Field::EventKind) => Field::EventKind,
            (_, Field::EventKind) => Field::Other,
            // (The first choice is read as a body is.)
            (Scope::Choices | Scope::Nested, Field::StreamDelta) => Field::StreamDelta,
            (_, Field::StreamDelta) => Field::Other,
            (Scope::Top, Field::StreamEvent) => Field::StreamEvent,
            (_, Field::StreamEvent) => Field::Other,
            // Another object's `cached` is no gateway's answer (a caller's
            // note in `metadata`: a tag).
            (Scope::Top, Field::GatewayCached) => Field::GatewayCached,
            (_, Field::GatewayCached) => Field::Other,
            (Scope::Top, Field::Summed) => Field::Summed,
            (_, Field::Summed) => Field::Other,
            (Scope::Top, Field::CostInCents) => Field::CostInCents,
            (_, Field::CostInCents) => Field::Other,
            (Scope::Top, Field::Upstream) => Field::Upstream,
            (_, Field::Upstream) => Field::Other,
            (Scope::Top, Field::Success) => Field::Success,
            (_, Field::Success) => Field::Other,
            (Scope::Top, Field::HttpStatusCamel) => Field::HttpStatusCamel,
            (_, Field::HttpStatusCamel) => Field::Other,
            (Scope::Top, Field::UsageDetail) => Field::UsageDetail,
            (_, Field::UsageDetail) => Field::Other,
            (_, f) => f,
        }
    }
}

/// The scope of a logged pair's object: `request`'s (and anything inside
/// it, such as a batch request's `body`), `response`'s (likewise), or
/// another's. Inside `metadata` a `response` is no logged response.
pub(crate) fn nested_scope(key: &[u8], outer: Scope) -> Scope {
    if outer == Scope::Metadata {
        Scope::Metadata
    } else if outer == Scope::Request
        || (matches!(
            key,
            b"request" | b"modelInput" | b"request_body" | b"requestBody" | b"proxy_server_request"
        ) && outer != Scope::Response)
    {
        Scope::Request
    } else if outer == Scope::Response
        || (matches!(
            key,
            b"response"
                | b"modelOutput"
                | b"raw_response"
                | b"llm_response"
                | b"response_body"
                | b"responseBody"
                | b"completion"
                | b"llm_output"
                | b"llmOutput"
                | b"response_metadata"
        ) && outer == Scope::Top)
    {
        Scope::Response
    } else {
        Scope::Nested
    }
}

fn scan_nested<'a>(s: &mut Scanner<'a>, l: &mut RawLine<'a>, scope: Scope, depth: u8) -> Scan<()> {
    if s.peek()? == b'{' {
        scan_map(s, l, scope, depth, None, &mut NoKeys)
    } else {
        if let Scalar::Str(text) = s.scalar()? {
            nested_from_text(l, &text, scope, depth);
        }
        Ok(())
    }
}

/// A Responses API `output` array: its `web_search_call` items counted
/// (each is a search OpenAI bills). At the top of a line, an `output` of
/// JSON text is a logged response (see [`nested_from_text`]); anything
/// else is skipped.
fn scan_output<'a>(s: &mut Scanner<'a>, l: &mut RawLine<'a>, scope: Scope, depth: u8) -> Scan<()> {
    match s.peek()? {
        b'[' => {}
        b'"' if scope == Scope::Top => {
            if let Scalar::Str(text) = s.scalar()? {
                nested_from_text(l, &text, Scope::Response, depth + 1);
            }
            return Ok(());
        }
        _ => return s.skip_value(),
    }
    s.begin_array()?;
    let (mut first, mut searches) = (true, 0u64);
    while s.next_element(&mut first)? {
        if s.peek()? != b'{' {
            s.skip_value()?;
            continue;
        }
        s.begin_object()?;
        let mut first_key = true;
        while let Some(key) = s.next_key(&mut first_key)? {
            if key == "type" {
                if let Lenient::Value(kind) = s.label()? {
                    searches += u64::from(kind == WEB_SEARCH_CALL);
                }
            } else {
                s.skip_value()?;
            }
        }
    }
    add_web_search_calls(l, searches);
    Ok(())
}

/// The `type` of a Responses API output item that is a web search.
const WEB_SEARCH_CALL: &str = "web_search_call";

/// Counts `n` web searches of an `output` array: the first array that has
/// any (a line logging the response twice, at its top and under
/// `response`, ran them once). The usage's own count wins.
/// A candidate's `groundingMetadata`: one grounded prompt when Google
/// Search ran (`webSearchQueries` not empty).
/// A stateful request's conversation from its raw JSON value: an id (a
/// string), or `conversation`'s object (its `id`); null or empty is none.
fn continues(l: &mut RawLine<'_>, raw: &str) {
    match serde_json::from_str::<serde_json::Value>(raw) {
        Ok(serde_json::Value::String(id)) => continues_id(l, &id),
        Ok(serde_json::Value::Object(o)) => {
            if let Some(serde_json::Value::String(id)) = o.get("id") {
                continues_id(l, id);
            }
        }
        _ => {}
    }
}

/// Only OpenAI's ids (`resp_…`, `conv_…`): another log's `conversation`
/// is a session's name, whose identical prompts are repeats.
fn continues_id(l: &mut RawLine<'_>, id: &str) {
    let id = id.trim();
    let conversation = id.starts_with("conv_");
    if (conversation || id.starts_with("resp_")) && l.continues.is_none() {
        l.continues = Some((xxhash_rust::xxh3::xxh3_64(id.as_bytes()), conversation));
    }
}

fn grounding(l: &mut RawLine<'_>, raw: &str) {
    let searched = raw.contains("webSearchQueries")
        && serde_json::from_str::<serde_json::Value>(raw).is_ok_and(|v| {
            v.get("webSearchQueries")
                .and_then(serde_json::Value::as_array)
                .is_some_and(|q| !q.is_empty())
        });
    if searched {
        add_web_search_calls(l, 1);
    }
}

fn add_web_search_calls(l: &mut RawLine<'_>, n: u64) {
    if l.web_search_calls == 0 {
        l.web_search_calls = n;
    }
}

/// `choices` / `candidates`: the first element is read as a nested object,
/// the others skipped; a value that is no array is read and ignored.
/// A `choices` list given as JSON text (a Parquet list column's row, as
/// `parquet::texts` writes it): read as the same list in a JSON line.
pub(crate) fn choices_from_text<'a>(l: &mut RawLine<'a>, text: &'a str, depth: u8) {
    let _ = scan_choices(&mut Scanner::new(text), l, depth);
}

/// A `choices` list given as JSON text (a warehouse's JSON column exported
/// to Parquet, a gateway that logs it as a string): read as the list is,
/// what it tells taken as the list's would be (hunt64).
pub(crate) fn choices_text(l: &mut RawLine<'_>, text: &str, depth: u8) {
    if !text.trim_start().starts_with('[') {
        return;
    }
    let mut read = RawLine::default();
    let mut s = Scanner::new(text);
    if scan_choices(&mut s, &mut read, depth).is_ok() && s.at_end() {
        l.absorb(read);
    }
}

fn scan_choices<'a>(s: &mut Scanner<'a>, l: &mut RawLine<'a>, depth: u8) -> Scan<()> {
    if s.peek()? != b'[' {
        if let Scalar::Str(text) = s.scalar()? {
            choices_text(l, &text, depth);
        }
        return Ok(());
    }
    s.begin_array()?;
    let mut first = true;
    let mut read = false;
    while s.next_element(&mut first)? {
        if read {
            s.skip_value()?;
        } else {
            read = true;
            l.choices = true;
            scan_nested(s, l, Scope::Nested, depth)?;
        }
    }
    Ok(())
}

/// What the gateway reader does with one scalar value of a key whose
/// meaning is `f` (in a `metadata` object when `metadata`): the arms of
/// [`scan_map`] for a value already read, for readers that get values one
/// at a time (the Parquet column reader, [`crate::parquet::columns`]). Containers
/// arrive as [`Scalar::Container`]; `usage`, `error`, `tags` and prompt
/// objects, whose content matters, are the caller's.
pub(crate) fn set_field<'a>(l: &mut RawLine<'a>, f: Field, key: &'a str, v: Scalar<'a>, at: KeyAt) {
    let KeyAt {
        metadata,
        depth,
        rank,
    } = at;
    fn first<T>(slot: &mut Lenient<T>, read: impl FnOnce() -> Lenient<T>) {
        if !slot.is_present() {
            *slot = read();
        }
    }
    // A ranked slot's value (see `rank`), read only when it would be put.
    macro_rules! put {
        ($slot:ident, $r:ident, $read:expr) => {
            if outranks(l.$slot.0.is_value(), l.ranks[Ranked::$r], rank) {
                put_ranked(&mut l.$slot.0, &mut l.ranks[Ranked::$r], rank, $read)
            }
        };
    }
    match f {
        Field::Timestamp => {
            let created = key == "created";
            if created || outranks(l.timestamp.0.is_value(), l.ranks[Ranked::Timestamp], rank) {
                let t = v.time();
                if created {
                    l.note_created(&t);
                }
                l.set_time_ranked(t, rank);
            }
        }
        Field::RequestId => put_id(l, v.label(), rank),
        Field::Provider => put!(provider, Provider, v.label()),
        Field::Model => put!(model, Model, v.label()),
        Field::RequestModel => put!(request_model, RequestModel, v.label()),
        Field::ModelGroup => first(&mut l.model_group.0, || v.label()),
        Field::ServedModel => put!(served_model, ServedModel, v.label()),
        Field::EventKind => {
            if let Lenient::Value(kind) = v.label() {
                l.stream_event |= is_stream_event(&kind);
            }
        }
        Field::StreamDelta => l.stream_event = true,
        Field::StreamEvent => l.event_only = true,
        // A column's JSON text (CSV), or an object or id whose keys are not
        // read here (Parquet's struct, a flattened column: only Groq's mark
        // says enough).
        Field::HostGroq | Field::HostCerebras => {
            let host = match v {
                Scalar::Str(text) if text.trim_start().starts_with('{') => f.host_of(Some(&text)),
                // A flattened column's id (`req_…`): Groq's mark still.
                Scalar::Str(text) if !matches!(text.trim(), "" | "null" | "false") => {
                    f.host_of(None)
                }
                Scalar::Container => f.host_of(None),
                _ => None,
            };
            l.host = l.host.or(host);
        }
        Field::RequestServiceTier => put!(request_service_tier, RequestServiceTier, v.label()),
        Field::Feature => put!(feature, Feature, v.label()),
        Field::Route => put!(route, Route, v.label()),
        Field::Team => put!(team, Team, v.label()),
        Field::User => put!(user, User, v.label()),
        Field::Session => put!(session, Session, v.label()),
        Field::Turn => put!(turn, Turn, v.count()),
        Field::Status => set_status(l, v.label(), rank),
        Field::HttpStatus => set_http_status(l, LCodeOrWord::from_scalar(v), rank),
        Field::HttpStatusCamel => set_http_code(l, LCodeOrWord::from_scalar(v)),
        Field::Error => {
            if outranks(l.error_kind.0.is_value(), l.ranks[Ranked::ErrorKind], rank) {
                put_ranked(
                    &mut l.error_kind.0,
                    &mut l.ranks[Ranked::ErrorKind],
                    rank,
                    error_kind(v),
                );
            }
        }
        Field::ErrorKind => put!(error_kind, ErrorKind, v.label()),
        Field::Attempt => put!(attempt, Attempt, v.count()),
        Field::RetryOf => put!(retry_of, RetryOf, v.label()),
        Field::TokenUsage => {
            if let Scalar::Str(text) = v {
                // (Text that is no usage object is left alone.)
                let mut nested = RawUsage::default();
                usage_from_text(&mut nested, &text);
                if !matches!(nested.prompt_tokens, Lenient::WrongType) {
                    l.usage.add_nested(nested);
                }
            }
        }
        Field::Usage if l.usage.whole => {}
        Field::Usage => match v {
            Scalar::Null | Scalar::U64(_) | Scalar::I64(_) | Scalar::F64(_) => {}
            Scalar::Str(text) => usage_from_text(&mut l.usage, &text),
            _ => l.usage.prompt_tokens = Lenient::WrongType,
        },
        Field::TotalUsage => {
            if let Scalar::Str(text) = v {
                let mut total = RawUsage::default();
                usage_from_text(&mut total, &text);
                l.usage.take_whole(total);
            }
        }
        Field::UsageKey => set_usage_key(&mut l.usage, key, v.count()),
        Field::UsageDetail if l.usage.whole => {}
        Field::UsageDetail => {
            // A cell that is no object's text is left unread (an empty
            // cell marks no convention: hunt58).
            if let Scalar::Str(text) = v {
                if text.trim_start().starts_with('{') {
                    let part = detail_part(&mut l.usage, key);
                    let mut de = serde_json::Deserializer::from_str(&text);
                    let _ = UsageSeed(&mut l.usage, part).deserialize(&mut de);
                }
            }
        }
        Field::Latency => put!(latency_ms, Latency, LNum::from_scalar(v).0),
        Field::Ttft => put!(ttft_ms, Ttft, LNum::from_scalar(v).0),
        Field::Batch => put!(batch, Batch, LBool::from_label(v.label()).0),
        Field::CacheHit => put!(cache_hit, CacheHit, LBool::from_label(v.label()).0),
        Field::GatewayCached => l.gateway_cached |= v == Scalar::Bool(true),
        Field::Success => {
            if v == Scalar::Bool(false) {
                l.unsuccessful = true;
            }
        }
        Field::Summed => {
            l.summed |= match v {
                // (A number of requests counts: a column of them was read
                // as none, hunt91.)
                Scalar::U64(n) => is_summed(key, &n.to_string()),
                Scalar::I64(n) => is_summed(key, &n.to_string()),
                Scalar::F64(n) => is_summed(key, &n.to_string()),
                Scalar::Str(t) => is_summed(key, &format!("{t:?}")),
                _ => false,
            }
        }
        Field::CostInCents => l.cost_in_cents = true,
        Field::Upstream => upstream(&mut l.usage, key, v),
        Field::ServiceTier => put_tier(l, v.label(), rank),
        Field::InferenceGeo => l.usage.set_geo(&v.label()),
        Field::FinishReason => put!(finish_reason, FinishReason, v.label()),
        Field::MaxTokens => put!(max_tokens, MaxTokens, v.count()),
        Field::PromptHash => put!(prompt_hash, PromptHash, v.label()),
        Field::PrefixHash => put!(prefix_hash, PrefixHash, v.label()),
        Field::PrefixTokens => put!(prefix_tokens, PrefixTokens, v.count()),
        Field::Cost => put!(cost, Cost, LMoney::from_label(v.label()).0),
        Field::Tags => {
            if let Scalar::Str(text) = v {
                push_text_tags(&mut l.tags, &text);
            }
        }
        // Prompt values are kept as raw JSON: the caller's (`set_text`).
        Field::Messages | Field::Prompt | Field::System => {}
        Field::Grounding => {
            if let Scalar::Str(text) = &v {
                grounding(l, text);
            }
        }
        Field::Continues => {
            if let Scalar::Str(text) = &v {
                continues_id(l, text);
            }
        }
        // A `metadata`, `request` or `response` column of JSON text
        // (DuckDB's JSON type, a CSV cell).
        // (At the depth of the object the column is in: a request's
        // `metadata` ranks after the line's, hunt62.)
        Field::Metadata if !metadata => {
            if let Scalar::Str(text) = v {
                nested_from_text(l, &text, Scope::Metadata, depth.min(2) + 1);
            }
        }
        Field::Nested if !metadata => {
            if let Scalar::Str(text) = v {
                nested_from_text(l, &text, nested_scope(key.as_bytes(), Scope::Top), 1);
            }
        }
        Field::Output if !metadata => {
            if let Scalar::Str(text) = v {
                nested_from_text(l, &text, Scope::Response, 1);
            }
        }
        // An `output` column (Parquet): its items are not read.
        // A `choices` column of JSON text (a Parquet VARCHAR or JSON
        // column): read as the list (hunt64).
        Field::Choices if !metadata && depth < 3 => {
            if let Scalar::Str(text) = &v {
                choices_text(l, text, depth + 1);
            }
        }
        Field::Metadata | Field::Nested | Field::Choices | Field::Output | Field::Other => {
            if metadata {
                if let Lenient::Value(v) = v.label() {
                    if metadata_tag(key, &v) {
                        l.tags.push((Cow::Borrowed(key), v));
                    }
                }
            }
        }
    }
}

/// The usage object at the start of `text`, read as a line's `usage` is (a
/// `[mapping]`'s usage object: `mapping_scan`).
pub(crate) fn scan_usage_object(text: &str) -> Scan<RawUsage> {
    let mut s = Scanner::new(text);
    let mut u = RawUsage::default();
    scan_usage(&mut s, &mut u, Part::Any)?;
    Ok(u)
}

fn scan_usage(s: &mut Scanner<'_>, u: &mut RawUsage, part: Part) -> Scan<()> {
    if !usage_opens(s, u)? {
        return Ok(());
    }
    let mut first = true;
    while let Some(key) = s.next_key(&mut first)? {
        let k = usage_key(&key).within(part);
        if k == UsageKey::CacheCreationOrDetail && !matches!(s.peek()?, b'{' | b'"' | b'n') {
            let v = s.count()?;
            set_usage(u, UsageKey::CacheCreation, v);
            continue;
        }
        if k == UsageKey::InputDetail && s.peek()? == b'[' {
            // Gemini's modality list (Google's Python SDK).
            scan_modalities(s, u, UsageKey::AudioIn)?;
            continue;
        }
        if let Some(inner) = k.detail(part) {
            // (An object only: `null` says nothing of the convention.)
            u.responses_style |= k == UsageKey::ResponsesDetail && s.peek()? == b'{';
            scan_usage(s, u, inner)?;
            continue;
        }
        if let Some(slot) = k.modality_slot() {
            scan_modalities(s, u, slot)?;
            continue;
        }
        match k {
            UsageKey::CacheDetails => return Err(Bail),
            UsageKey::Cost => set_usage_cost(u, scan_usage_cost(s)?),
            UsageKey::CostTicks => {
                set_usage_cost(u, ticks(LMoney::from_label(s.scalar()?.label()).0))
            }
            UsageKey::UpstreamCost => {
                u.set_upstream_cost(LMoney::from_label(s.scalar()?.label()).0)
            }
            UsageKey::Byok => u.set_byok(&s.scalar()?.label()),
            k if k.is_label() => set_usage_label(u, k, &s.label()?),
            k => {
                let v = s.scalar()?.count();
                set_usage(u, k, v);
            }
        }
    }
    Ok(())
}

/// Enters a usage object; anything else is read (a non-null value is a
/// wrong type) and false is returned.
#[inline]
fn usage_opens(s: &mut Scanner<'_>, u: &mut RawUsage) -> Scan<bool> {
    // A usage object as JSON text (as CSV exports and some loggers write
    // it) is serde's to read.
    if s.peek()? == b'"' {
        return Err(Bail);
    }
    if s.peek()? != b'{' {
        // A number is no usage object (OpenRouter's generation records
        // give the credits spent as `usage`): ignored, as a null.
        if !matches!(
            s.scalar()?,
            Scalar::Null | Scalar::U64(_) | Scalar::I64(_) | Scalar::F64(_)
        ) {
            u.prompt_tokens = Lenient::WrongType;
        }
        return Ok(false);
    }
    s.begin_object()?;
    Ok(true)
}

/// A Gemini modality list (`[{"modality": "AUDIO", "tokenCount": 10}, …]`):
/// its `AUDIO` count into `slot`; anything else is stepped over.
fn scan_modalities(s: &mut Scanner<'_>, u: &mut RawUsage, slot: UsageKey) -> Scan<()> {
    if s.peek()? != b'[' {
        return s.skip_value();
    }
    s.begin_array()?;
    let mut first = true;
    while s.next_element(&mut first)? {
        if s.peek()? != b'{' {
            s.skip_value()?;
            continue;
        }
        s.begin_object()?;
        let (mut modality, mut count) = (Lenient::Missing, Lenient::Missing);
        let mut first_key = true;
        while let Some(key) = s.next_key(&mut first_key)? {
            match key.as_ref() {
                "modality" => modality = s.label()?,
                "tokenCount" | "token_count" => count = s.count()?,
                _ => s.skip_value()?,
            }
        }
        if let Some(v) = modality_audio(&modality, count) {
            add_audio(u, slot, v);
        }
    }
    Ok(())
}

/// [`scan_usage`] with the keys predicted from the usage objects of earlier
/// lines: the object's first key picks the remembered shape it starts like
/// (or the oldest is forgotten), and the keys of the object and its nested
/// details are then one sequence of slots, predicted as the top level's.
fn scan_usage_shaped(s: &mut Scanner<'_>, u: &mut RawUsage, shapes: &mut UsageShapes) -> Scan<()> {
    if !usage_opens(s, u)? {
        return Ok(());
    }
    let mut pending = None;
    let mut which = None;
    for (i, shape) in shapes.shapes.iter().enumerate() {
        if let Some((f, at, _)) = shape.predict(s, 0, true) {
            pending = Some((f, at));
            which = Some(i);
            break;
        }
    }
    let i = which.unwrap_or_else(|| {
        let i = shapes.next;
        shapes.next = (i + 1) % USAGE_SHAPES;
        shapes.shapes[i].clear();
        i
    });
    let mut slot = 0;
    usage_object(s, u, &mut shapes.shapes[i], &mut slot, pending, Part::Any)
}

/// The keys of an entered usage object (the first one possibly already
/// predicted and eaten: `pending`), learning them into `shape` from `slot`.
fn usage_object(
    s: &mut Scanner<'_>,
    u: &mut RawUsage,
    shape: &mut KeyShape<UsageKey>,
    slot: &mut usize,
    mut pending: Option<(UsageKey, usize)>,
    part: Part,
) -> Scan<()> {
    let mut first = true;
    loop {
        let predicted = pending
            .take()
            .or_else(|| shape.predict(s, *slot, first).map(|(f, at, _)| (f, at)));
        let k = match predicted {
            Some((k, at)) => {
                *slot = at;
                k
            }
            None => {
                let start = s.pos();
                let was_first = first;
                let Some(key) = s.next_key(&mut first)? else {
                    break;
                };
                let k = usage_key(&key);
                if let Cow::Borrowed(text) = &key {
                    shape.learn(*slot, s.since(start), text, k, was_first);
                }
                k
            }
        };
        first = false;
        *slot += 1;
        // One dispatch on the key (the hot path: a count).
        match k {
            UsageKey::CacheCreationOrDetail if !matches!(s.peek()?, b'{' | b'"' | b'n') => {
                let v = s.count()?;
                set_usage(u, UsageKey::CacheCreation, v);
            }
            // Google's Python SDK's `prompt_tokens_details`: Gemini's
            // modality list, not OpenAI's object (hunt117: its calls were
            // rejected as a wrong type of `prompt_tokens`).
            UsageKey::InputDetail if s.peek()? == b'[' => scan_modalities(s, u, UsageKey::AudioIn)?,
            UsageKey::Detail
            | UsageKey::CacheCreationOrDetail
            | UsageKey::ResponsesDetail
            | UsageKey::InputDetail
            | UsageKey::OutputDetail
            | UsageKey::CachedDetail => {
                u.responses_style |= k == UsageKey::ResponsesDetail && s.peek()? == b'{';
                if usage_opens(s, u)? {
                    let inner = k.detail(part).unwrap_or(part);
                    usage_object(s, u, shape, slot, None, inner)?;
                }
            }
            UsageKey::PromptModalities
            | UsageKey::CacheModalities
            | UsageKey::CandidateModalities => {
                scan_modalities(s, u, k.modality_slot().unwrap_or(UsageKey::Other))?
            }
            UsageKey::CacheDetails => return Err(Bail),
            UsageKey::Cost => set_usage_cost(u, scan_usage_cost(s)?),
            UsageKey::CostTicks => {
                set_usage_cost(u, ticks(LMoney::from_label(s.scalar()?.label()).0))
            }
            UsageKey::UpstreamCost => {
                u.set_upstream_cost(LMoney::from_label(s.scalar()?.label()).0)
            }
            UsageKey::Byok => u.set_byok(&s.scalar()?.label()),
            k if k.is_label() => set_usage_label(u, k, &s.label()?),
            k => {
                let v = s.count()?;
                set_usage(u, k.within(part), v);
            }
        }
    }
    Ok(())
}

fn scan_error<'a>(s: &mut Scanner<'a>) -> Scan<Lenient<Cow<'a, str>>> {
    if s.peek()? != b'{' {
        return Ok(error_kind(s.scalar()?));
    }
    s.begin_object()?;
    let mut kind = KindByRank::default();
    let mut first = true;
    while let Some(key) = s.next_key(&mut first)? {
        match error_kind_key_rank(&Scalar::Str(key).label()) {
            Some(rank) => kind.offer(rank, s.scalar()?.label()),
            None => s.skip_value()?,
        }
    }
    Ok(kind.kind())
}

use crate::record::tags::is_label_tag as metadata_tag;

fn scan_tags<'a>(
    s: &mut Scanner<'a>,
    out: &mut Vec<(Cow<'a, str>, Cow<'a, str>)>,
    mut shape: Option<&mut KeyShape<()>>,
) -> Scan<()> {
    match s.peek()? {
        b'{' => {
            s.begin_object()?;
            let mut first = true;
            let mut slot = 0;
            loop {
                // Tag keys repeat line after line too: predicted as the
                // top level's are.
                let predicted = shape.as_deref().and_then(|sh| sh.predict(s, slot, first));
                let key = match predicted {
                    Some(((), at, KeySpan(a, b))) => {
                        slot = at;
                        Cow::Borrowed(s.slice(a, b))
                    }
                    None => {
                        let start = s.pos();
                        let was_first = first;
                        let Some(key) = s.next_key(&mut first)? else {
                            break;
                        };
                        if let (Some(sh), Cow::Borrowed(text)) = (shape.as_deref_mut(), &key) {
                            sh.learn(slot, s.since(start), text, (), was_first);
                        }
                        key
                    }
                };
                first = false;
                slot += 1;
                let value = s.label()?;
                if let (Lenient::Value(k), Lenient::Value(v)) = (non_empty(key), value) {
                    out.push((k, v));
                }
            }
        }
        b'[' => {
            s.begin_array()?;
            let mut first = true;
            while s.next_element(&mut first)? {
                if s.peek()? == b'{' {
                    // A `{key, value}` pair (rare: read as a value).
                    let start = s.pos();
                    s.skip_value()?;
                    let item = serde_json::from_str(s.since(start)).map_err(|_| Bail)?;
                    out.extend(crate::record::tags::pair_tag(&item));
                } else if let Lenient::Value(v) = s.scalar()?.label() {
                    out.push(list_tag(v));
                }
            }
        }
        _ => {
            if let Scalar::Str(text) = s.scalar()? {
                push_text_tags(out, &text);
            }
        }
    }
    Ok(())
}

/// Parses one gateway line into a call record.
pub fn parse_line(line: &[u8]) -> Result<CallRecord<'_>, Reject> {
    parse_raw(line)?.into_record()
}

/// Parses one gateway line known to be UTF-8.
pub fn parse_line_str(line: &str) -> Result<CallRecord<'_>, Reject> {
    // Filled in place: a `RawLine` is about a kilobyte, and moving it
    // through `Result`s costs copies on every line.
    let mut raw = RawLine {
        tags: crate::record::fields::fresh_tags(),
        ..RawLine::default()
    };
    match scan_line(line, &mut raw) {
        Ok(()) => raw.into_record(),
        Err(Bail) => parse_raw_serde(line)?.into_record(),
    }
}

#[cfg(test)]
pub(crate) fn parse_usage_for_test(json: &str) -> RawUsage {
    let mut u = RawUsage::default();
    let mut de = serde_json::Deserializer::from_str(json);
    UsageSeed(&mut u, Part::Any).deserialize(&mut de).unwrap();
    u
}

/// The `gateway` entry of the format registry (see [`crate::formats::REGISTRY`]).
pub static BUILTIN: Builtin = Builtin {
    name: "gateway",
    aliases: &[],
    format: Format::Gateway,
    detect: Detect::Fallback,
    doc: "JSON lines with a model and a usage object: OpenAI chat/Responses\n\
         `usage` (prompt_tokens, prompt_tokens_details.cached_tokens,\n\
         completion_tokens_details.reasoning_tokens), Anthropic `usage`\n\
         (input_tokens, cache_read_input_tokens, cache_creation_input_tokens,\n\
         cache_creation.ephemeral_{5m,1h}_input_tokens), LiteLLM responses,\n\
         Gemini `usageMetadata`, or the same keys at the top level (LiteLLM's\n\
         cache reads and writes from `metadata.additional_usage_values`). Audio\n\
         tokens, at audio rates: `audio_tokens` in OpenAI's token details and\n\
         Realtime's input_token_details (cached_tokens_details for cached\n\
         audio), Gemini's promptTokensDetails/cacheTokensDetails/\n\
         candidatesTokensDetails `AUDIO` counts. Cohere's\n\
         usage.billed_units. The Vercel AI SDK's usage (inputTokens with\n\
         inputTokenDetails or cachedInputTokens, cache reads and writes\n\
         inside the input; for Anthropic and Bedrock under AI SDK 5, beside\n\
         it), also spread into the line or a CSV's columns (and Bedrock\n\
         Converse's inputTokens, cacheReadInputTokens, cacheWriteInputTokens);\n\
         AI SDK 4's promptTokens with providerMetadata's cache counts, and\n\
         totalUsage (every step of a multi-step call) in place of usage.\n\
         LangChain's usage_metadata (input_token_details.cache_read and\n\
         cache_creation inside input_tokens), response_metadata.token_usage\n\
         and llm_output.token_usage. Web searches: Anthropic's\n\
         server_tool_use.web_search_requests, Perplexity's num_search_queries\n\
         (its reasoning_tokens are beside completion_tokens), the Responses\n\
         API's web_search_call output items. Logged\n\
         request/response pairs ({\"request\": {...}, \"response\": {...}};\n\
         also request_body/response_body, raw_response, llm_response,\n\
         completion), the objects or JSON text holding them (as an `output`\n\
         of JSON text).\n\
         Also read as they are: OpenAI chat completion and Responses\n\
         objects, Anthropic Messages responses (usage.inference_geo \"us\":\n\
         US-only inference, at the model's US multiple), Gemini/Vertex\n\
         generateContent responses (modelVersion, createTime; a stream saved\n\
         chunk by chunk or as ?alt=json's array is one call per responseId,\n\
         its last chunk's counts; Google's Python SDK's snake_case dumps; the\n\
         Live API's responseTokenCount), and LiteLLM\n\
         spend logs (LiteLLM_SpendLogs rows: spend, team_id, user,\n\
         metadata.user_api_key_alias, metadata.usage_object, request_tags,\n\
         status, metadata.error_information's error_class as the failure's\n\
         kind; model_group when model is empty, and a model_id that is a\n\
         deployment's hash is no model).\n\
         Common names for the other fields: timestamp/created_at/ts,\n\
         feature, route/endpoint, team, user/user_id, session/session_id,\n\
         status/http_status/error (a top-level success: false, Cloudflare\n\
         AI Gateway's, is a failure), attempt, retry_of, latency_ms, cost,\n\
         finish_reason/stop_reason (or the first of `choices`/`candidates`),\n\
         tags and metadata.* (see the docs of the gateway reader). Of two\n\
         keys for one field, whatever their order, the line's own wins over\n\
         metadata's and a body's, and the name listed first here over the\n\
         next (team_id over LiteLLM's metadata.user_api_key_team_alias,\n\
         request_id over id, model over model_id). LiteLLM\n\
         rows with cache_hit true were answered from LiteLLM's cache and not\n\
         billed: counted as not_a_call (also Portkey's cache_status HIT and\n\
         Cloudflare AI Gateway's top-level cached: true, unless a cost\n\
         above zero is logged). OpenRouter's generation records (its\n\
         native_tokens_* counts). A usage API's row (OpenAI's\n\
         num_model_requests, OpenRouter's activity requests, Anthropic's\n\
         context_window bucket) sums many\n\
         requests: rejected as summed_usage (a long-context price is chosen\n\
         by one request's size). A route ending in count_tokens or\n\
         countTokens is a free token count: not billed. A stream logged\n\
         chunk by chunk (chat.completion.chunk, response.* events) is one\n\
         call: of its chunks with usage (one id, model and second), the one\n\
         with the most tokens; the others are skipped as duplicate.\n\
         Portkey's log export (req_units, res_units) gives its cost in\n\
         cents.\n\
         Feature: the `feature` (or use_case) field, else a `feature` tag; a\n\
         list item `key:value` (LiteLLM's request_tags `feature:<name>`) is\n\
         the tag key=value.",
};

/// Reads a line both ways. When the scanner accepts it, serde_json must
/// accept it too and read the same fields; a bail is always allowed.
/// Returns whether the scanner accepted the line.
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub fn agree(line: &str) -> bool {
    let mut fast = RawLine::default();
    let scanned = scan_line(line, &mut fast);
    let slow = parse_raw_serde(line);
    match (scanned, slow) {
        (Ok(()), Ok(slow)) => {
            assert_eq!(format!("{fast:?}"), format!("{slow:?}"), "{line}");
            let (a, b) = (fast.into_record(), slow.into_record());
            assert_eq!(format!("{a:?}"), format!("{b:?}"), "{line}");
            true
        }
        (Ok(()), Err(e)) => panic!("scanner accepted what serde_json rejects ({e:?}): {line}"),
        (Err(Bail), _) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokenaudit_core::{CallStatus, Money, Usage};

    fn rec(line: &str) -> CallRecord<'_> {
        parse_line(line.as_bytes()).unwrap_or_else(|e| panic!("{line}: {e:?}"))
    }

    fn rej(line: &str) -> RejectReason {
        parse_line(line.as_bytes()).unwrap_err().reason
    }

    /// An infinite output limit (`"inf"`, OpenAI Realtime's default;
    /// `"Infinity"`) is no limit, read without a note; a token count of
    /// `"inf"` still rejects its line.
    #[test]
    fn an_infinite_output_limit_is_none() {
        for limit in [r#""inf""#, r#""Infinity""#] {
            let line = format!(
                r#"{{"model":"gpt-4o","usage":{{"prompt_tokens":10,"completion_tokens":1}},"max_output_tokens":{limit}}}"#
            );
            let r = rec(&line);
            assert_eq!((r.max_tokens, r.unread_field), (None, None), "{line}");
            assert!(agree(&line), "{line}");
        }
        let r = rec(
            r#"{"model":"gpt-4o","usage":{"prompt_tokens":10,"completion_tokens":1},"max_tokens":"4096"}"#,
        );
        assert_eq!(r.max_tokens, Some(4096));
        let r = rec(
            r#"{"model":"gpt-4o","usage":{"prompt_tokens":10,"completion_tokens":1},"max_tokens":1e30}"#,
        );
        assert_eq!(r.max_tokens, Some(u32::MAX));
        assert_eq!(
            rej(r#"{"model":"gpt-4o","usage":{"prompt_tokens":"inf","completion_tokens":1}}"#),
            RejectReason::WrongType
        );
    }

    #[test]
    fn reads_a_full_gateway_line() {
        let r = rec(
            r#"{"timestamp":"2026-10-01T08:00:00.123Z","request_id":"req_1","provider":"openai","model":"gpt-4o-2024-08-06","feature":"support-chat","route":"/v1/chat","team":"support","user":"u_42","session":"s_1","turn":3,"status":"ok","http_status":200,"attempt":2,"retry_of":"req_0","latency_ms":1234.4,"ttft_ms":310,"finish_reason":"stop","max_tokens":1024,"prompt_hash":"00000000000000ff","system_prompt_hash":"10","system_prompt_tokens":1200,"usage":{"prompt_tokens":1500,"completion_tokens":80,"prompt_tokens_details":{"cached_tokens":1200},"completion_tokens_details":{"reasoning_tokens":0}},"cost":0.00123,"tags":{"env":"prod","tier":3},"unknown":{"deep":[1,2,{"x":null}]}}"#,
        );
        assert_eq!(r.model, "gpt-4o-2024-08-06");
        assert!(
            matches!(r.model, Cow::Borrowed(_)),
            "unescaped strings borrow"
        );
        assert_eq!(r.timestamp.unwrap().timestamp_millis(), 1790841600123);
        assert_eq!(r.request_id.as_deref(), Some("req_1"));
        assert_eq!(r.feature.as_deref(), Some("support-chat"));
        assert_eq!(r.session.as_deref(), Some("s_1"));
        assert_eq!(r.turn, Some(3));
        assert_eq!(r.status, Some(CallStatus::Ok));
        assert_eq!(r.attempt, Some(2));
        assert_eq!(r.retry_of.as_deref(), Some("req_0"));
        assert_eq!(r.latency_ms, Some(1234));
        assert_eq!(r.max_tokens, Some(1024));
        assert_eq!(r.prompt_fp, Some(255));
        assert_eq!(r.prefix_fp, Some(16));
        assert_eq!(r.prefix_tokens, Some(1200));
        assert_eq!(r.logged_cost, Money::parse_usd("0.00123"));
        assert_eq!(
            r.usage,
            Usage {
                input: 1500,
                cached_read: 1200,
                cache_write: 0,
                cache_write_1h: 0,
                output: 80,
                reasoning: 0,
                ..Default::default()
            }
        );
        assert_eq!(
            r.tags,
            vec![
                (Cow::Borrowed("env"), Cow::Borrowed("prod")),
                (Cow::Borrowed("tier"), Cow::Owned("3".to_string()))
            ]
        );
    }

    #[test]
    fn metadata_and_nested_pairs() {
        let r = rec(
            r#"{"created":1790841600,"request":{"model":"claude-sonnet-4-5","max_tokens":512,"system":"You are terse.","messages":[{"role":"user","content":"hi"}]},"response":{"id":"msg_1","model":"claude-sonnet-4-5-20250929","stop_reason":"end_turn","usage":{"input_tokens":10,"output_tokens":5,"cache_read_input_tokens":100}},"metadata":{"feature":"chat","user_id":"u1","env":"prod"}}"#,
        );
        // The model served (the response's), not the one asked for.
        assert_eq!(r.model, "claude-sonnet-4-5-20250929");
        assert_eq!(r.request_id.as_deref(), Some("msg_1"));
        assert_eq!(r.max_tokens, Some(512));
        assert_eq!(r.finish_reason.as_deref(), Some("end_turn"));
        assert_eq!(r.feature.as_deref(), Some("chat"));
        assert_eq!(r.user.as_deref(), Some("u1"));
        assert_eq!(r.usage.input, 110);
        assert_eq!(r.usage.cached_read, 100);
        assert!(r.prompt_fp.is_some() && r.prefix_fp.is_some());
        assert_eq!(r.tags, vec![(Cow::Borrowed("env"), Cow::Borrowed("prod"))]);
    }

    #[test]
    fn same_system_prompt_same_prefix_fingerprint() {
        let a = rec(
            r#"{"model":"m","usage":{"prompt_tokens":1,"completion_tokens":1},"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"a"}]}"#,
        );
        let b = rec(
            r#"{"model":"m","usage":{"prompt_tokens":1,"completion_tokens":1},"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"b"}]}"#,
        );
        assert_eq!(a.prefix_fp, b.prefix_fp);
        assert_ne!(a.prompt_fp, b.prompt_fp);
    }

    #[test]
    fn empty_prompt_values_are_no_prompt() {
        for v in ["{}", "[]", "null", "\"\""] {
            let line = format!(
                r#"{{"model":"m","messages":{v},"prompt":{v},"usage":{{"prompt_tokens":1,"completion_tokens":1}}}}"#
            );
            let r = rec(&line);
            assert_eq!((r.prompt_fp, r.prefix_fp), (None, None), "{line}");
        }
    }

    #[test]
    fn failed_calls_need_no_usage() {
        let r = rec(
            r#"{"model":"gpt-4o","status":429,"error":{"type":"rate_limit_error","message":"slow down"}}"#,
        );
        assert_eq!(r.http_status, Some(429));
        assert_eq!(r.effective_status(), CallStatus::Error);
        assert_eq!(r.error_kind.as_deref(), Some("rate_limit_error"));
        assert_eq!(r.usage, Usage::default());
        let r =
            rec(r#"{"model":"gpt-4o","error":"The prompt mentioned something long and private"}"#);
        assert_eq!(
            r.error_kind.as_deref(),
            Some("error"),
            "free-text messages are not kept"
        );
    }

    #[test]
    fn rejects_with_reasons() {
        assert_eq!(
            rej(r#"{"model":"gpt-4o","usage":{"prompt_tokens":1"#),
            RejectReason::MalformedJson
        );
        assert_eq!(rej("not json at all"), RejectReason::MalformedJson);
        assert_eq!(rej("\u{0}\u{1}\u{2}binary"), RejectReason::MalformedJson);
        assert_eq!(rej("[1,2,3]"), RejectReason::NotAnObject);
        assert_eq!(
            rej(r#"{"model":"gpt-4o","usage":{"prompt_tokens":"many","completion_tokens":1}}"#),
            RejectReason::WrongType
        );
        assert_eq!(
            rej(r#"{"model":"gpt-4o","usage":{"prompt_tokens":-1,"completion_tokens":1}}"#),
            RejectReason::NegativeTokens
        );
        assert_eq!(
            rej(
                r#"{"model":"gpt-4o","usage":{"prompt_tokens":1000000000000,"completion_tokens":1}}"#
            ),
            RejectReason::AbsurdTokens
        );
        assert_eq!(
            rej(r#"{"usage":{"prompt_tokens":1,"completion_tokens":1}}"#),
            RejectReason::MissingModel
        );
        assert_eq!(
            rej(r#"{"model":"","usage":{"prompt_tokens":1,"completion_tokens":1}}"#),
            RejectReason::MissingModel
        );
        assert_eq!(rej(r#"{"model":"gpt-4o"}"#), RejectReason::MissingUsage);
        assert_eq!(
            rej(
                r#"{"model":"gpt-4o","usage":{"prompt_tokens":10,"completion_tokens":1,"prompt_tokens_details":{"cached_tokens":20}}}"#
            ),
            RejectReason::InconsistentUsage
        );
        assert_eq!(
            rej(
                r#"{"model":"gpt-4o","timestamp":"last tuesday","usage":{"prompt_tokens":1,"completion_tokens":1}}"#
            ),
            RejectReason::BadTimestamp
        );
        assert_eq!(
            rej(r#"{"model":{"name":"x"},"usage":{"prompt_tokens":1,"completion_tokens":1}}"#),
            RejectReason::WrongType
        );
        assert_eq!(
            rej(r#"{"model":"gpt-4o","usage":"lots"}"#),
            RejectReason::WrongType
        );
        assert_eq!(
            rej(r#"{"model":"gpt-4o","usage":{"prompt_tokens":1,"completion_tokens":1}} trailing"#),
            RejectReason::MalformedJson
        );
    }

    /// Lines that touch every field reader and every shape the gateway
    /// reader accepts, for the scanner-versus-serde_json checks below.
    const TRICKY: &[&str] = &[
        // OpenAI's `choices` and Gemini's `candidates`: the first one's
        // finish reason; `choices` that are no array; a `candidates` tag.
        r#"{"request":{"model":"gpt-4o-mini","max_tokens":50,"messages":[{"role":"user","content":"hi"}]},"response":{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":"cut","finish_reason":"nested"},"logprobs":null,"finish_reason":"length"},{"index":1,"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":50}}}"#,
        r#"{"modelVersion":"gemini-2.5-flash","candidates":[{"content":{"parts":[{"text":"x"}],"role":"model"},"finishReason":"MAX_TOKENS","index":0}],"usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":8},"metadata":{"candidates":"two"}}"#,
        r#"{"model":"m","choices":"none","candidates":[],"usage":{"prompt_tokens":1,"completion_tokens":1}}"#,
        // A provider's response wrapped under a logger's own name.
        r#"{"ts":"2026-10-01T09:00:00Z","raw_response":{"id":"chatcmpl-9","model":"gpt-4o-2024-08-06","usage":{"prompt_tokens":1000,"completion_tokens":100}},"metadata":{"feature":"chat"}}"#,
        r#"{"llm_response":{"id":"msg_9","model":"claude-sonnet-4-5","stop_reason":"end_turn","usage":{"input_tokens":10,"output_tokens":5}},"raw_response":"text","metadata":{"llm_response":{"model":"no"}}}"#,
        // Bodies logged as JSON text.
        r#"{"timestamp":"2026-10-01T09:00:00Z","feature":"chat","response":"{\"id\":\"chatcmpl-1\",\"model\":\"gpt-4o-2024-08-06\",\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":100,\"prompt_tokens_details\":{\"cached_tokens\":200}}}"}"#,
        r#"{"request_body":"{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":64,\"messages\":[{\"role\":\"user\",\"content\":\"hi there\"}]}","response_body":"{\"id\":\"msg_1\",\"model\":\"claude-sonnet-4-5-20250929\",\"stop_reason\":\"end_turn\",\"usage\":{\"input_tokens\":10,\"output_tokens\":5,\"cache_read_input_tokens\":100}}","status":200}"#,
        r#"{"ts":"2026-10-01T09:00:00Z","output":"{\"model\":\"gpt-4o\",\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":3}}","completion":{"model":"gpt-4o-mini"}}"#,
        // A messages array read in the line's own pass: spaces around it and
        // its parts, escapes in the last user message, a second array.
        r#"{"model":"m", "messages" : [ {"role":"system","content":"S\u00e9"} , {"role" : "user" , "content" : "q \"x\" \u00e9 ok"}, {"role":"user","name":"n","content":"Last one, Σας."} ] , "usage":{"prompt_tokens":1,"completion_tokens":1},"messages":[{"role":"user","content":"again"}]}"#,
        r#"{"timestamp":"2026-10-01T08:00:00.123Z","request_id":"req_1","provider":"openai","model":"gpt-4o","feature":"f","route":"/r","team":"t","user":"u","session":"s","turn":3,"status":"ok","http_status":200,"attempt":2,"retry_of":"r0","latency_ms":1234.4,"ttft_ms":310,"finish_reason":"stop","max_tokens":1024,"prompt_hash":"00ff","system_prompt_hash":"10","system_prompt_tokens":1200,"usage":{"prompt_tokens":1500,"completion_tokens":80,"prompt_tokens_details":{"cached_tokens":1200},"completion_tokens_details":{"reasoning_tokens":0}},"cost":0.00123,"tags":{"env":"prod","tier":3,"":"x","n":null},"unknown":{"deep":[1,2,{"x":null}]}}"#,
        r#"{"created":1790841600,"request":{"model":"claude","max_tokens":512,"system":"You are terse.","messages":[{"role":"user","content":"hi"}]},"response":{"id":"msg_1","model":"claude-x","stop_reason":"end_turn","usage":{"input_tokens":10,"output_tokens":5,"cache_read_input_tokens":100,"cache_creation":{"ephemeral_5m_input_tokens":1,"ephemeral_1h_input_tokens":2}}},"metadata":{"feature":"chat","user_id":"u1","env":"prod","n":7,"f":1.5,"b":true,"z":null,"o":{},"metadata":{"team":"x","meta":{"deep":"y"}}}}"#,
        r#"{"model":"m","usage":{"prompt_tokens":1,"completion_tokens":1},"messages":[{"role":"system","content":"Be \"brief\".\n"},{"role":"user","content":[{"type":"text","text":"}]{["}]}],"prompt":null,"input":"x","instructions":{"a":[1]}}"#,
        r#"{"model":"gpt-4o","status":429,"error":{"type":"rate_limit_error","message":"slow down","code":7}}"#,
        r#"{"model":"gpt-4o","status":"503","error":"The prompt mentioned something long","error_type":"x"}"#,
        r#"{"model":"gpt-4o","status":" 200 ","error":{"code":null,"type":"t"},"http_status":"201"}"#,
        r#"{"model":"gpt-4o","error":true,"status":"error"}"#,
        r#"{"model":"gpt-4o","error":12.5,"status":"failed"}"#,
        r#"{"model":"gpt-4o","error":[1],"status":false}"#,
        r#"{"model":"gpt-4o","error":-3}"#,
        r#"{"model":"gpt\u002d4o","feature":"a\"b\\c\/d\u00e9\ud83d\ude00","usage":{"prompt_tokens":"12","completion_tokens":3.0}}"#,
        r#"{"m\u006fdel":"x","usage":{"prompt_tokens":1e2,"completion_tokens":-0,"cached_tokens":-1,"reasoning_tokens":1.5}}"#,
        r#"{"model":"x","usage":{"promptTokenCount":20,"candidatesTokenCount":10,"cachedContentTokenCount":5,"thoughtsTokenCount":4,"total":99}}"#,
        r#"{"model":"x","usageMetadata":{"promptTokenCount":20},"prompt_tokens":5,"completion_tokens":"7","input_tokens":[1],"output_tokens":{"a":1}}"#,
        r#"{"model":"x","usage":{"input_tokens":1000,"output_tokens":300,"input_tokens_details":{"cached_tokens":800},"output_tokens_details":{"reasoning_tokens":100}}}"#,
        r#"{"model":"x","usage":"lots"}"#,
        // Responses API output items: web searches counted, odd items skipped.
        r#"{"id":"resp_1","object":"response","model":"gpt-5","output":[{"type":"reasoning","summary":[]},{"type":"web_search_call","status":"completed"},{"id":"ws_2","type":"web_search_call"},{"type":"message","content":[{"type":"output_text","text":"x"}]}],"usage":{"input_tokens":10,"output_tokens":5},"safety_identifier":"u-42"}"#,
        r#"{"model":"x","output":[1,"web_search_call",{"type":5},{"type":null},[{"type":"web_search_call"}],{"type":"web_search_call","type":"message"}],"usage":{"prompt_tokens":1,"completion_tokens":1}}"#,
        r#"{"model":"x","output":"text","response":{"output":[{"type":"web_search_call"}],"usage":{"input_tokens":3,"output_tokens":1,"server_tool_use":{"web_search_requests":4}}}}"#,
        r#"{"model":"x","output":{"type":"web_search_call"},"metadata":{"output":[{"type":"web_search_call"}]},"usage":{"prompt_tokens":1,"completion_tokens":1}}"#,
        r#"{"model":"x","usage":[1,2]}"#,
        r#"{"model":"x","usage":null,"status":"ok"}"#,
        r#"{"model":"x","usage":{"prompt_tokens_details":5,"prompt_tokens":1}}"#,
        r#"{"model":"x","model":"y","feature":null,"feature":"z","usage":{"prompt_tokens":1,"prompt_tokens":2,"completion_tokens":1}}"#,
        r#"{"model":12,"feature":true,"team":1.25,"user":-4,"session":18446744073709551616,"turn":"2","attempt":-1,"max_tokens":9999999999999}"#,
        r#"{"model":"x","latency_ms":"12.5","ttft_ms":-3,"batch":"yes","service_tier":"batch","cost":"0.10","usage":{"prompt_tokens":1,"completion_tokens":1}}"#,
        r#"{"model":"x","latency":1e3,"time_to_first_token":null,"is_batch":1,"spend":1e-3,"usage":{"prompt_tokens":1,"completion_tokens":1}}"#,
        r#"{"model":"x","latency_ms":[1],"batch":"maybe","cost":{"usd":1},"usage":{"prompt_tokens":1,"completion_tokens":1}}"#,
        r#"{"model":"x","ts":1790841600123,"usage":{"prompt_tokens":1,"completion_tokens":1}}"#,
        r#"{"model":"x","time":"2026-10-01 08:00:00","startTime":"later","usage":{"prompt_tokens":1,"completion_tokens":1}}"#,
        r#"{"model":"x","timestamp":1.7908416e9,"usage":{"prompt_tokens":1,"completion_tokens":1}}"#,
        r#"{"model":"x","timestamp":-5,"created_at":true,"usage":{"prompt_tokens":1,"completion_tokens":1}}"#,
        r#"{"model":"x","timestamp":{"s":1},"usage":{"prompt_tokens":1,"completion_tokens":1}}"#,
        r#"{"model":"x","tags":["a","",null,1,["b"],"c"],"labels":"{\"k\":\"v\",\"n\":2,\"b\":false,\"o\":{}}","request_tags":"[\"x\",1]","usage":{"prompt_tokens":1,"completion_tokens":1}}"#,
        r#"{"model":"x","tags":"not json","usage":{"prompt_tokens":1,"completion_tokens":1}}"#,
        r#"{"model":"x","tags":5,"usage":{"prompt_tokens":1,"completion_tokens":1}}"#,
        r#"{"model":"x","metadata":"flat","request":[1,{"model":"y"}],"response":null,"body":{"body":{"body":{"body":{"model":"deep"}}}}}"#,
        r#"{"model":"x","prompt_hash":"not hex at all","prefix_hash":"ABCDEF0123456789","prompt_fingerprint":5,"usage":{"prompt_tokens":1,"completion_tokens":1}}"#,
        r#"{"model":"x","messages":[["system","tuple form"]],"usage":{"prompt_tokens":1,"completion_tokens":1}}"#,
        r#"{"model":"x","messages":[{"role":"system","role":"user","content":"dup"}],"usage":{"prompt_tokens":1,"completion_tokens":1}}"#,
        r#"{"model":"x","messages":[{"role":"developer","content":null}],"usage":{"prompt_tokens":1,"completion_tokens":1}}"#,
        r#"{"model":"x","messages":"plain text","system":null,"usage":{"prompt_tokens":1,"completion_tokens":1}}"#,
        "  {\"model\" : \"x\" ,\t\"usage\" :\r\n{ \"prompt_tokens\" : 1 , \"completion_tokens\" : 1 } }  ",
        r#"{}"#,
        r#"[1,2,3]"#,
        r#""just a string""#,
        r#"{"model":"gpt-4o","usage":{"prompt_tokens":1,"completion_tokens":1}} trailing"#,
        r#"{"model":"x","feature":"lone \ud83d surrogate","usage":{"prompt_tokens":1,"completion_tokens":1}}"#,
        r#"{"model":"x","unknown":"lone \udc00 low","usage":{"prompt_tokens":1,"completion_tokens":1}}"#,
        r#"{"model":"x","unknown":1e400,"usage":{"prompt_tokens":1,"completion_tokens":1}}"#,
        r#"{"model":"x","latency_ms":1e400,"usage":{"prompt_tokens":1,"completion_tokens":1}}"#,
        // Usage objects of several shapes in turn (each worker remembers a
        // few), numbers at the edges of the one-pass integer read.
        r#"{"model":"x","usage":{"prompt_tokens":7,"prompt_tokens_details":{"cached_tokens":3,"cached_tokens":4},"completion_tokens":2}}"#,
        r#"{"model":"x","usage":{"cached_tokens":9,"prompt_tokens":10,"completion_tokens":1,"completion_tokens_details":{}}}"#,
        r#"{"model":"x","usage":{"prompt_tokens":00,"completion_tokens":1}}"#,
        r#"{"model":"x","usage":{"prompt_tokens":12345678901234567890,"completion_tokens":1234567890123456789,"cached_tokens":0}}"#,
        r#"{"model":"x","usage":{"prompt_tokens":0.0,"completion_tokens":1E2,"cached_tokens":0e0,"reasoning_tokens":10.0}}"#,
        r#"{"model":"x","usage":{"prompt_tokens_x":5,"prompt_tokens":6,"completion_tokens":1}}"#,
        // Tag objects of several shapes (their keys are predicted too).
        r#"{"model":"x","tags":{"env":"prod","user_facing":"true"},"usage":{"prompt_tokens":1,"completion_tokens":1}}"#,
        r#"{"model":"x","tags":{"env":"prod","env":"dev","k\u0065y":"v"," ":"blank key","user_facing":" ","n":7},"usage":{"prompt_tokens":1,"completion_tokens":1}}"#,
        r#"{"model":"x","tags":{ "env" : "prod" ,"user_facing":true},"usage":{"prompt_tokens":1,"completion_tokens":1}}"#,
        // LiteLLM: `key:value` request tags, and cache hits.
        r#"{"model":"x","cache_hit":"False","request_tags":["feature:a","prod","b:","https://x.io"],"usage":{"prompt_tokens":1,"completion_tokens":1}}"#,
        r#"{"model":"x","cache_hit":true,"cache_hit":false,"request_tags":"[\"feature:a\"]","usage":{"prompt_tokens":1,"completion_tokens":1}}"#,
        // Logged pairs: the response's model and service tier over the
        // request's (what was asked for).
        r#"{"request":{"model":"gpt-5","service_tier":"priority","input":"hi"},"response":{"id":"resp_68a4","object":"response","created_at":1762164000,"status":"completed","model":"gpt-5-2025-08-07","output":[],"service_tier":"default","usage":{"input_tokens":10000,"input_tokens_details":{"cached_tokens":0},"output_tokens":1000,"output_tokens_details":{"reasoning_tokens":500},"total_tokens":11000}}}"#,
        r#"{"request":{"model":"gpt-5","service_tier":"auto","input":"hi"},"response":{"id":"resp_68a5","object":"response","created_at":1762164000,"status":"completed","model":"gpt-5-2025-08-07","output":[],"service_tier":"priority","usage":{"input_tokens":10000,"input_tokens_details":{"cached_tokens":0},"output_tokens":1000,"output_tokens_details":{"reasoning_tokens":500},"total_tokens":11000}}}"#,
        r#"{"timestamp":"2026-11-03T10:00:00Z","request":{"model":"prod-gpt4o-eastus","messages":[{"role":"user","content":"hi"}]},"response":{"id":"chatcmpl-AzY1","object":"chat.completion","created":1762164000,"model":"gpt-4o-2024-11-20","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"hi"}}],"usage":{"prompt_tokens":3000,"completion_tokens":250,"total_tokens":3250,"prompt_tokens_details":{"cached_tokens":2048}}}}"#,
        // OpenAI's usage spread into the line (hunt57): its detail objects
        // at the top, before and after the counts; inside `metadata` they
        // are no usage.
        r#"{"model":"gpt-4o","prompt_tokens_details":{"cached_tokens":4000,"audio_tokens":7},"prompt_tokens":10000,"completion_tokens":500,"completion_tokens_details":{"reasoning_tokens":200,"audio_tokens":3}}"#,
        r#"{"model":"gpt-5","input_tokens":10000,"input_tokens_details":{"cached_tokens":4000},"output_tokens_details":{"reasoning_tokens":200},"output_tokens":500,"metadata":{"prompt_tokens_details":{"cached_tokens":1}}}"#,
        r#"{"model":"gpt-4o","usage":{"prompt_tokens":10,"completion_tokens":1},"prompt_tokens_details":5,"completion_tokens_details":null}"#,
        r#"{"model":"gpt-4o","totalUsage":{"inputTokens":5,"outputTokens":1},"prompt_tokens_details":{"cached_tokens":4}}"#,
        r#"{"model":"claude-x","input_tokens":10,"cache_read_input_tokens":50,"output_tokens":1,"input_tokens_details":null,"output_tokens_details":"none","completion_tokens_details":[1,{"a":2}]}"#,
        // Audio tokens: OpenAI chat, Realtime (cached audio), Gemini's
        // modality lists, the output detail first, and modality lists of
        // the wrong shapes.
        r#"{"id":"chatcmpl-audio-1","object":"chat.completion","created":1796032800,"model":"gpt-4o-audio-preview-2024-12-17","choices":[{"index":0,"message":{"role":"assistant","content":null,"audio":{"id":"audio_1","expires_at":1796036400,"transcript":"Sure."}},"finish_reason":"stop"}],"usage":{"prompt_tokens":1200,"completion_tokens":600,"total_tokens":1800,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":1000,"text_tokens":200,"image_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":500,"text_tokens":100,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}"#,
        r#"{"timestamp":"2026-11-30T10:05:00Z","request_id":"rt-1","feature":"voice-agent","model":"gpt-realtime-mini","usage":{"total_tokens":2300,"input_tokens":2000,"output_tokens":300,"input_token_details":{"text_tokens":400,"audio_tokens":1600,"image_tokens":0,"cached_tokens":1200,"cached_tokens_details":{"text_tokens":200,"audio_tokens":1000,"image_tokens":0}},"output_token_details":{"text_tokens":60,"audio_tokens":240}}}"#,
        r#"{"candidates":[{"content":{"role":"model","parts":[{"text":"ok"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":5000,"candidatesTokenCount":200,"totalTokenCount":5300,"cachedContentTokenCount":2000,"thoughtsTokenCount":100,"promptTokensDetails":[{"modality":"TEXT","tokenCount":1000},{"modality":"AUDIO","tokenCount":4000}],"cacheTokensDetails":[{"modality":"AUDIO","tokenCount":2000}],"candidatesTokensDetails":[{"modality":"TEXT","tokenCount":200}]},"modelVersion":"gemini-2.5-flash","createTime":"2026-11-30T10:10:00.000000Z","responseId":"gem-audio-1"}"#,
        r#"{"model":"gpt-realtime","usage":{"output_token_details":{"audio_tokens":30,"text_tokens":5},"input_tokens":90,"output_tokens":35,"input_token_details":{"cached_tokens_details":{"audio_tokens":20},"audio_tokens":50,"cached_tokens":40}}}"#,
        r#"{"model":"gemini-2.5-flash","usageMetadata":{"promptTokenCount":10,"cachedContentTokenCount":5,"candidatesTokenCount":2,"promptTokensDetails":[{"modality":"AUDIO","tokenCount":4}],"cacheTokensDetails":[1,"AUDIO",{"modality":7,"tokenCount":3},{"modality":"audio","tokenCount":2},{"modality":"AUDIO","tokenCount":1}],"candidatesTokensDetails":{"modality":"AUDIO","tokenCount":1}}}"#,
    ];

    /// A logged response's finish reason is read where the provider puts
    /// it: the first of OpenAI's `choices`, the first of Gemini's
    /// `candidates` (`finishReason`).
    #[test]
    fn finish_reasons_of_choices_and_candidates() {
        let r = Format::Gateway.parse_line_str(TRICKY[0]).unwrap();
        assert_eq!(r.finish_reason.as_deref(), Some("length"));
        assert_eq!(r.max_tokens, Some(50));
        let r = Format::Gateway.parse_line_str(TRICKY[1]).unwrap();
        assert_eq!(r.finish_reason.as_deref(), Some("MAX_TOKENS"));
        assert_eq!(r.tags, [("candidates".into(), "two".into())]);
        let r = Format::Gateway.parse_line_str(TRICKY[2]).unwrap();
        assert_eq!(r.finish_reason, None);
    }

    #[test]
    fn litellm_tags_give_the_feature_tag_and_cache_hits_are_not_calls() {
        let line = r#"{"request_id":"r1","model":"gpt-4o-mini","spend":0.0,"cache_hit":"False","request_tags":["feature:support-assistant","prod"],"metadata":{"tags":["env:eu"]},"usage":{"prompt_tokens":10,"completion_tokens":2}}"#;
        let r = parse_line_str(line).unwrap();
        let tags: Vec<(&str, &str)> = r
            .tags
            .iter()
            .map(|(k, v)| (k.as_ref(), v.as_ref()))
            .collect();
        assert_eq!(
            tags,
            [
                ("feature", "support-assistant"),
                ("tag", "prod"),
                ("env", "eu")
            ]
        );
        assert_eq!(r.feature, None, "the feature is the analysis's to take");
        for hit in [r#""cache_hit":"True""#, r#""cache_hit":true"#] {
            let line = line.replace(r#""cache_hit":"False""#, hit);
            for reject in [parse_line_str(&line), parse_line(line.as_bytes())] {
                let reject = reject.unwrap_err();
                assert_eq!(reject.reason, RejectReason::NotACall, "{hit}");
                // The call it answered, as evidence: the feature tag, the
                // model, the request id, no prompt text.
                let e = reject.evidence.expect("a cache hit's evidence");
                assert_eq!(e.model, "gpt-4o-mini");
                assert_eq!(e.request_id.as_deref(), Some("r1"));
                assert_eq!(e.tags[0], ("feature".into(), "support-assistant".into()));
                assert_eq!((e.prompt_raw, e.prompt_text.as_deref()), (None, None));
            }
            assert!(RejectReason::NotACall.is_skip());
        }
        // A value that is not a boolean is no hit (LiteLLM writes "None").
        let none = line.replace(r#""cache_hit":"False""#, r#""cache_hit":"None""#);
        assert!(parse_line_str(&none).is_ok());
    }

    #[test]
    fn audio_tokens_by_the_detail_they_are_in() {
        let u = |line: &str| rec(line).usage;
        let n = TRICKY.len();
        let [chat, realtime, gemini, reordered, odd] = [5, 4, 3, 2, 1].map(|i| u(TRICKY[n - i]));
        let audio = |u: Usage| (u.input_audio, u.cached_audio, u.output_audio);
        assert_eq!(audio(chat), (1000, 0, 500));
        assert_eq!(
            (realtime.input, realtime.cached_read, audio(realtime)),
            (2000, 1200, (1600, 1000, 240))
        );
        assert_eq!(
            (gemini.input, gemini.cached_read, audio(gemini)),
            (5000, 2000, (4000, 2000, 0))
        );
        assert_eq!(
            (reordered.input, reordered.cached_read, audio(reordered)),
            (90, 40, (50, 20, 30))
        );
        // A modality list that is no list is not read; entries that are
        // no objects, or whose modality is no text, are stepped over; the
        // `AUDIO` entries are summed, in any case.
        assert_eq!((odd.cached_read, audio(odd)), (5, (4, 3, 0)));
        // More audio than tokens is rejected, as other parts are.
        let over = TRICKY[n - 2].replace(r#""audio_tokens":50"#, r#""audio_tokens":95"#);
        assert_eq!(rej(&over), RejectReason::InconsistentUsage);
    }

    /// A gateway that logs the bodies it passed as JSON text: each is read
    /// as the object it holds, in its scope (the request's model is what
    /// was asked for, the response's the one that answered), filling only
    /// what the line does not say itself.
    #[test]
    fn bodies_logged_as_json_text_are_read() {
        let n = TRICKY
            .iter()
            .position(|l| l.contains(r#""response":"{"#))
            .unwrap();
        let r = rec(TRICKY[n]);
        assert_eq!(r.model, "gpt-4o-2024-08-06");
        assert_eq!(r.request_id.as_deref(), Some("chatcmpl-1"));
        assert_eq!(
            (r.usage.input, r.usage.cached_read, r.usage.output),
            (1000, 200, 100)
        );
        assert_eq!(r.feature.as_deref(), Some("chat"));
        let r = rec(TRICKY[n + 1]);
        assert_eq!(r.model, "claude-sonnet-4-5-20250929");
        assert_eq!(r.request_id.as_deref(), Some("msg_1"));
        assert_eq!(r.finish_reason.as_deref(), Some("end_turn"));
        assert_eq!(r.max_tokens, Some(64));
        assert!(r.prompt_fp.is_some());
        assert_eq!(
            (r.usage.input, r.usage.cached_read, r.usage.output),
            (110, 100, 5)
        );
        // The line's own model wins; text that is no object is ignored,
        // and broken text too (the line is then missing its model).
        let r = rec(
            r#"{"model":"gpt-4o-mini","response":"{\"model\":\"gpt-4o\",\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":3}}"}"#,
        );
        assert_eq!(r.model, "gpt-4o-mini");
        assert_eq!((r.usage.input, r.usage.output), (7, 3));
        assert_eq!(
            rej(r#"{"response":"{\"model\":\"gpt-4o\",\"usage\":"}"#),
            RejectReason::MissingModel
        );
        assert_eq!(rej(r#"{"response":"gpt-4o"}"#), RejectReason::MissingModel);
        // An `output` of JSON text (no Responses API array) is a logged
        // response; so is a `completion` object.
        let r = rec(TRICKY[n + 2]);
        assert_eq!(r.model, "gpt-4o");
        assert_eq!((r.usage.input, r.usage.output), (7, 3));
        let r = rec(
            r#"{"completion":{"model":"gpt-4o-mini","usage":{"prompt_tokens":7,"completion_tokens":3}}}"#,
        );
        assert_eq!(r.model, "gpt-4o-mini");
    }

    /// OpenRouter's BYOK calls (hunt125): `usage.cost` is its 5% fee, the
    /// provider's charge `cost_details.upstream_inference_cost`; the logged
    /// cost is their sum when `is_byok` is true, or absent with a charge
    /// above `cost`; a generation record's top-level keys alike. Both
    /// readers agree.
    #[test]
    fn a_byok_calls_logged_cost_adds_the_providers_charge() {
        let usage = |extra: &str| {
            format!(
                r#"{{"id":"gen-1","model":"openai/gpt-4o","usage":{{"prompt_tokens":1000,"completion_tokens":100,"cost":0.000175{extra}}}}}"#
            )
        };
        let details = r#","cost_details":{"upstream_inference_cost":0.0035,"upstream_inference_prompt_cost":0.0025}"#;
        for (line, logged) in [
            (usage(&format!(r#","is_byok":true{details}"#)), "0.003675"),
            (usage(&format!(r#"{details},"is_byok":"true""#)), "0.003675"),
            (usage(details), "0.003675"),
            (usage(&format!(r#","is_byok":false{details}"#)), "0.000175"),
            (usage(r#","is_byok":true"#), "0.000175"),
            (usage(r#","is_byok":true,"cost_details":{"upstream_inference_cost":null}"#), "0.000175"),
            (
                r#"{"id":"gen-2","model":"openai/gpt-4o","usage":{"prompt_tokens":1000,"completion_tokens":100,"cost":0.0035,"cost_details":{"upstream_inference_cost":0.0035}}}"#.to_string(),
                "0.0035",
            ),
            (
                r#"{"id":"gen-3","total_cost":0.000175,"upstream_inference_cost":0.0035,"is_byok":true,"model":"openai/gpt-4o","native_tokens_prompt":1000,"native_tokens_completion":100}"#.to_string(),
                "0.003675",
            ),
            (
                r#"{"id":"gen-4","is_byok":false,"total_cost":0.000175,"upstream_inference_cost":0.0035,"model":"openai/gpt-4o","native_tokens_prompt":1000,"native_tokens_completion":100}"#.to_string(),
                "0.000175",
            ),
            // An app's or a gateway's own cost beside the response's usage
            // holds both already (LiteLLM's `spend`: hunt134, doubled);
            // a copy of OpenRouter's fee is the fee (hunt138).
            (
                format!(
                    r#"{{"spend":0.003675,"model":"openai/gpt-4o","response":{}}}"#,
                    usage(&format!(r#","is_byok":true{details}"#))
                ),
                "0.003675",
            ),
            (
                format!(
                    r#"{{"cost":0.000175,"model":"openai/gpt-4o","response":{}}}"#,
                    usage(&format!(r#","is_byok":true{details}"#))
                ),
                "0.003675",
            ),
        ] {
            assert!(agree(&line), "{line}");
            let r = rec(&line);
            assert_eq!(
                r.logged_cost.map(|m| m.to_decimal_string()).as_deref(),
                Some(logged),
                "{line}"
            );
        }
    }

    /// A negative logged cost (a placeholder −1) is no cost: the call is
    /// read without it and the field said to be ignored (hunt61: it was
    /// reconciled at −666,766%); a cost of 0 or more is kept.
    #[test]
    fn a_negative_logged_cost_is_ignored() {
        let line = |cost: &str| {
            format!(
                r#"{{"model":"gpt-4o","usage":{{"prompt_tokens":10,"completion_tokens":1}},"cost":{cost}}}"#
            )
        };
        for cost in ["-1", "\"-0.5\"", "-0.000001"] {
            let text = line(cost);
            let r = rec(&text);
            assert_eq!(
                (r.logged_cost, r.unread_field),
                (None, Some("cost")),
                "{cost}"
            );
        }
        for (cost, picos) in [("0", 0), ("0.25", 250_000_000_000)] {
            let text = line(cost);
            let r = rec(&text);
            assert_eq!(r.logged_cost.map(|m| m.picos()), Some(picos), "{cost}");
            assert_eq!(r.unread_field, None);
        }
    }

    /// Groq's last streamed chunk has its usage in `x_groq.usage` (hunt82:
    /// the call was lost, every chunk "without usage"); OpenAI's usage
    /// chunk, after the last choice, is the call; DeepSeek's cache hits
    /// spread into the line are cached reads (they were billed as input).
    #[test]
    fn groqs_last_chunk_and_deepseeks_hits_spread_into_the_line() {
        let openai_last = r#"{"id":"c2","object":"chat.completion.chunk","created":1790841600,"model":"gpt-4o","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}"#;
        let openai_usage = r#"{"id":"c2","object":"chat.completion.chunk","created":1790841600,"model":"gpt-4o","choices":[],"usage":{"prompt_tokens":100,"completion_tokens":5,"total_tokens":105}}"#;
        let groq_last = r#"{"id":"c3","object":"chat.completion.chunk","created":1790841600,"model":"llama-3.3-70b-versatile","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"x_groq":{"id":"req_01","usage":{"queue_time":0.01,"prompt_tokens":10000,"prompt_time":0.1,"completion_tokens":500,"completion_time":0.5,"total_tokens":10500,"total_time":0.6}}}"#;
        let deepseek = r#"{"timestamp":"2026-10-01T10:00:00Z","model":"deepseek-chat","prompt_tokens":10000,"completion_tokens":2000,"prompt_cache_hit_tokens":6400,"prompt_cache_miss_tokens":3600}"#;
        // A stream's last chunk stands for its call until its usage chunk
        // replaces it (the pipeline's dedup).
        let last = parse_line(openai_last.as_bytes()).unwrap();
        assert!(last.usage_missing && last.stream_chunk);
        assert_eq!(last.usage, Usage::default());
        assert!(parse_line_str(openai_last).unwrap().usage_missing);
        // DeepSeek's hits and misses without its `prompt_tokens`: the
        // misses beside the hits (it was rejected as inconsistent).
        let hits_and_misses = r#"{"model":"deepseek-chat","usage":{"prompt_cache_hit_tokens":6400,"prompt_cache_miss_tokens":3600,"completion_tokens":2000}}"#;
        for (line, input, output, cached, provider) in [
            (openai_usage, 100, 5, 0, None),
            (groq_last, 10000, 500, 0, Some("groq")),
            (deepseek, 10000, 2000, 6400, None),
            (hits_and_misses, 10000, 2000, 6400, None),
        ] {
            for r in [
                parse_line(line.as_bytes()).unwrap(),
                parse_line_str(line).unwrap(),
            ] {
                assert_eq!(
                    (r.usage.input, r.usage.output, r.usage.cached_read),
                    (input, output, cached),
                    "{line}"
                );
                assert_eq!(r.provider.as_deref(), provider, "{line}");
            }
        }
    }

    /// Perplexity's `usage.cost` is an object of its bill's parts: its
    /// `total_cost` is the call's logged cost (hunt82: unread, so never
    /// reconciled); OpenRouter's is the amount itself.
    #[test]
    fn a_usage_cost_object_gives_its_total() {
        let object = r#"{"model":"sonar-pro","usage":{"prompt_tokens":1000,"completion_tokens":500,"cost":{"input_tokens_cost":0.003,"output_tokens_cost":0.0075,"request_cost":0.006,"total_cost":0.0165}}}"#;
        let number = r#"{"model":"sonar-pro","usage":{"prompt_tokens":1000,"completion_tokens":500,"cost":0.0165}}"#;
        for line in [object, number] {
            for r in [
                parse_line(line.as_bytes()).unwrap(),
                parse_line_str(line).unwrap(),
            ] {
                assert_eq!(
                    r.logged_cost.map(|m| m.to_decimal_string()).as_deref(),
                    Some("0.0165"),
                    "{line}"
                );
            }
        }
    }

    /// LiteLLM's spend logs say what failed in `metadata.error_information`
    /// (its class and code): the failure's kind, not a bare `error`. In an
    /// error object the kind key that ranks first names it, whatever the
    /// key order (`type` before `code`: a JSON line read as the Parquet
    /// row, whose struct fields come sorted, is read).
    #[test]
    fn litellms_error_information_and_an_error_objects_kind_keys_by_rank() {
        // A successful row without a status: its empty error_information
        // names no failure.
        let empty = r#"{"model":"gpt-4o","usage":{"prompt_tokens":10,"completion_tokens":1},"metadata":{"error_information":{"error_code":"","error_class":"","traceback":"","error_message":""}}}"#;
        for r in [
            parse_line(empty.as_bytes()).unwrap(),
            parse_line_str(empty).unwrap(),
        ] {
            assert_eq!(r.error_kind, None);
            assert_eq!(r.effective_status(), CallStatus::Ok);
        }
        let litellm = r#"{"request_id":"r1","call_type":"acompletion","startTime":"2026-10-01T10:00:00Z","model":"gpt-4o","custom_llm_provider":"openai","prompt_tokens":0,"completion_tokens":0,"spend":0.0,"status":"failure","metadata":{"user_api_key_team_alias":"core","error_information":{"error_code":"429","error_class":"RateLimitError","llm_provider":"openai","traceback":"Traceback (most recent call last): ...","error_message":"litellm.RateLimitError: You exceeded your current quota"}}}"#;
        let code_first = r#"{"model":"gpt-4o","usage":{"prompt_tokens":10,"completion_tokens":0},"status":400,"error":{"code":"context_length_exceeded","message":"too long","type":"invalid_request_error"}}"#;
        let class_only = r#"{"model":"gpt-4o","usage":{"prompt_tokens":10,"completion_tokens":0},"status":"failure","metadata":{"error_information":{"error_code":"","error_class":"Timeout"}}}"#;
        for (line, kind) in [
            (litellm, "RateLimitError"),
            (code_first, "invalid_request_error"),
            (class_only, "Timeout"),
        ] {
            let serde = parse_line(line.as_bytes()).unwrap();
            let scan = parse_line_str(line).unwrap();
            assert_eq!(serde.error_kind.as_deref(), Some(kind), "{line}");
            assert_eq!(scan.error_kind.as_deref(), Some(kind), "{line}");
            assert_eq!(scan.effective_status(), CallStatus::Error);
        }
        // The team is still read beside it, and no tag holds the traceback.
        let r = rec(litellm);
        assert_eq!(r.team.as_deref(), Some("core"));
        assert!(r.tags.is_empty(), "{:?}", r.tags);
    }

    /// A provider's response given as JSON text without its usage (the
    /// gateway kept the usage on the line) reads as the object does: it
    /// answered as `gpt-4o-mini` on the flex tier (hunt60: as text it was
    /// dropped, and the call priced as the request's `gpt-4o`, 16×). A
    /// model's JSON answer (no provider id, no usage) is still no body.
    /// An `error` object as text gives its type, as the object does.
    #[test]
    fn a_response_or_error_as_json_text_reads_as_the_object() {
        let object = r#"{"timestamp":"2026-10-01T10:00:00Z","usage":{"prompt_tokens":1000,"completion_tokens":10},"request":{"model":"gpt-4o"},"response":{"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","created":1790000000,"model":"gpt-4o-mini-2024-07-18","service_tier":"flex"}}"#;
        let v: serde_json::Value = serde_json::from_str(object).unwrap();
        let mut text = v.clone();
        text["response"] = serde_json::Value::String(v["response"].to_string());
        for line in [object.to_string(), text.to_string()] {
            let r = rec(&line);
            assert_eq!(r.model, "gpt-4o-mini-2024-07-18", "{line}");
            assert_eq!(
                r.request_id.as_deref(),
                Some("chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT")
            );
            assert_eq!(r.service_tier, Some(tokenaudit_core::ServiceTier::Flex));
        }
        // A model's JSON answer logged as the response: no body.
        let answer = r#"{"timestamp":"2026-10-01T10:00:00Z","usage":{"prompt_tokens":1000,"completion_tokens":10},"request":{"model":"gpt-4o"},"response":"{\"id\":\"7\",\"model\":\"car\"}"}"#;
        assert_eq!(rec(answer).model, "gpt-4o");
        let error = r#"{"timestamp":"2026-10-01T10:00:00Z","model":"gpt-4o","usage":{"prompt_tokens":1000,"completion_tokens":0},"error":{"type":"rate_limit_error","message":"slow down"}}"#;
        let v: serde_json::Value = serde_json::from_str(error).unwrap();
        let mut text = v.clone();
        text["error"] = serde_json::Value::String(v["error"].to_string());
        for line in [error.to_string(), text.to_string()] {
            assert_eq!(
                rec(&line).error_kind.as_deref(),
                Some("rate_limit_error"),
                "{line}"
            );
        }
        // A structured answer with an id of its own (hunt64): no body, its
        // tier and model are not the call's.
        let answer = r#"{"timestamp":"2026-10-01T10:00:00Z","usage":{"prompt_tokens":1000,"completion_tokens":10},"request":{"model":"gpt-4o"},"response":"{\"id\":\"msg_48213377\",\"model\":\"Model Y\",\"service_tier\":\"priority\"}"}"#;
        let r = rec(answer);
        assert_eq!((&*r.model, r.service_tier), ("gpt-4o", None));
        // An error whose type is a list or an object is still an error, as
        // text and as an object (hunt64: a success).
        for error in [
            r#""error":{"type":["rate_limit"],"message":"x"}"#,
            r#""error":"{\"code\":{\"n\":429}}""#,
        ] {
            let line = format!(
                r#"{{"timestamp":"2026-10-01T10:00:00Z","model":"gpt-4o","usage":{{"prompt_tokens":1000,"completion_tokens":0}},{error}}}"#
            );
            assert_eq!(rec(&line).error_kind.as_deref(), Some("error"), "{line}");
        }
        // Text that is no object stays a short kind, or `error`.
        let word = error.replace(
            r#"{"type":"rate_limit_error","message":"slow down"}"#,
            r#""overloaded""#,
        );
        assert_eq!(rec(&word).error_kind.as_deref(), Some("overloaded"));
    }

    /// Exports whose names the reader learnt from a helper's survey of
    /// public docs: Cloudflare AI Gateway's cache hits, the rows of
    /// Anthropic's and OpenAI's usage APIs, OpenRouter's generation
    /// records (a number as `usage`, the provider's own counts), LiteLLM's
    /// logging payload's team. Each figure is the line's own.
    #[test]
    fn usage_api_rows_generations_and_gateway_cache_hits() {
        // Cloudflare: `cached: true` was answered from its cache.
        let cf = r#"{"id":"01JX","created_at":"2025-06-01T10:01:00.000Z","cached":true,"cost":0,"model":"gpt-4o","provider":"openai","status_code":200,"success":true,"tokens_in":1000,"tokens_out":100}"#;
        assert_eq!(rej(cf), RejectReason::NotACall);
        // Not when it is billed, nor another object's `cached`, nor a
        // number (hunt40: another log's flags dropped billed calls).
        for billed in [
            cf.replace(r#""cached":true"#, r#""cached":false"#),
            cf.replace(r#""cost":0"#, r#""cost":0.0035"#),
            cf.replace(r#""cached":true"#, r#""cached":1"#),
            cf.replace(r#""cached":true"#, r#""cached":"true""#),
            cf.replace(r#""cached":true"#, r#""metadata":{"cached":true}"#),
        ] {
            let r = rec(&billed);
            assert_eq!((r.usage.input, r.usage.output), (1000, 100), "{billed}");
        }
        // A usage API's row sums many requests: not priced as one (a
        // long-context price is chosen by one request's size).
        let anthropic = r#"{"uncached_input_tokens":250000,"cache_creation":{"ephemeral_1h_input_tokens":1000,"ephemeral_5m_input_tokens":2000},"cache_read_input_tokens":5000,"output_tokens":1000,"model":"claude-sonnet-4-5-20250929","service_tier":"standard","context_window":"0-200k","starting_at":"2025-06-01T00:00:00Z"}"#;
        assert_eq!(rej(anthropic), RejectReason::SummedUsage);
        // Not grouped by its context window (null, or left out by a
        // flattener), and LiteLLM's daily spend rows (hunt123: one call
        // each at the long-context tier).
        let bucket = anthropic.replace(
            r#""starting_at""#,
            r#""ending_at":"2025-06-02T00:00:00Z","starting_at""#,
        );
        for row in [
            bucket.replace(r#""0-200k""#, "null"),
            bucket.replace(r#","context_window":"0-200k""#, ""),
            r#"{"date":"2026-10-01","model":"claude-sonnet-4-5","api_requests":120,"successful_requests":120,"prompt_tokens":300000,"completion_tokens":10000,"spend":1.05}"#.to_string(),
        ] {
            assert_eq!(rej(&row), RejectReason::SummedUsage, "{row}");
            for raw in [parse_raw_str(&row), parse_raw_serde(&row)] {
                assert!(raw.unwrap().summed, "{row}");
            }
        }
        let openai = r#"{"object":"organization.usage.completions.result","input_tokens":10000,"output_tokens":1000,"input_cached_tokens":4000,"num_model_requests":10,"model":"gpt-4o-2024-08-06","batch":false}"#;
        assert_eq!(rej(openai), RejectReason::SummedUsage);
        // One request is one call.
        let one = openai.replace(r#""num_model_requests":10"#, r#""num_model_requests":1"#);
        assert_eq!(rec(&one).usage.cached_read, 4000);
        // OpenRouter's activity rows: a day's `requests` to an endpoint
        // (hunt91: 3 rows of 300 were 3 calls, priced past Gemini 2.5
        // Pro's 200k tier, $4.95 for $2.925).
        let openrouter = r#"{"date":"2026-10-01","model":"google/gemini-2.5-pro","model_permaslug":"google/gemini-2.5-pro","endpoint_id":"e1","provider_name":"Google","usage":0.975,"byok_usage_inference":0,"requests":300,"prompt_tokens":300000,"completion_tokens":60000,"reasoning_tokens":0}"#;
        assert_eq!(rej(openrouter), RejectReason::SummedUsage);
        let one = openrouter.replace(r#""requests":300"#, r#""requests":1"#);
        assert_eq!(rec(&one).usage.input, 300_000);
        // A request's own `requests` (a list, a nested count) is nothing.
        let other = r#"{"model":"gpt-4o","usage":{"prompt_tokens":10,"completion_tokens":1},"requests":[1,2],"metadata":{"requests":5}}"#;
        assert_eq!(rec(other).usage.input, 10);
        // Portkey's log export gives its cost in cents (hunt91: logged
        // costs 100 times too high in the reconciliation).
        let portkey = r#"{"created_at":"2026-10-01T10:46:03.250Z","ai_org":"openai","ai_model":"gpt-4o","req_units":1000,"res_units":200,"total_units":1200,"cost":0.45,"cost_currency":"USD","response":{"body":{"model":"gpt-4o","usage":{"prompt_tokens":1000,"completion_tokens":200}}}}"#;
        // (Without them, the cost is taken in dollars: another log's
        // `ai_org` is no sign of Portkey's cents, hunt128.)
        let dollars = portkey.replace(r#""req_units":1000,"res_units":200,"#, "");
        for (line, cost) in [(portkey, "0.0045"), (&dollars, "0.45")] {
            // The scanner, and serde's reader it falls back to.
            for raw in [parse_raw_str(line), parse_raw_serde(line)] {
                let r = raw.unwrap().into_record().unwrap();
                let logged = r.logged_cost.map(|m| m.to_decimal_string());
                assert_eq!(logged.as_deref(), Some(cost), "{line}");
            }
        }
        for raw in [parse_raw_str(openrouter), parse_raw_serde(openrouter)] {
            assert!(raw.unwrap().summed);
        }
        // A token count is free (Anthropic's count_tokens through a
        // gateway, its SDKs' beta query, Bedrock's, OpenAI's), unless it
        // has output (hunt42).
        for route in [
            "/v1/messages/count_tokens",
            "/v1/messages/count_tokens?beta=true",
            "/model/anthropic.claude-3-5-sonnet-20241022-v2:0/count-tokens",
            "/v1/responses/input_tokens",
            "/V1/Messages/Count_Tokens/",
            "/v1/projects/p/locations/us/publishers/google/models/gemini-2.5-flash:computeTokens",
        ] {
            let l = format!(
                r#"{{"model":"claude-sonnet-4-5","route":"{route}","usage":{{"input_tokens":1000}}}}"#
            );
            assert_eq!(rej(&l), RejectReason::NotBilled, "{route}");
        }
        let billed = r#"{"model":"claude-sonnet-4-5","route":"/x/count_tokens","usage":{"input_tokens":1000,"output_tokens":5}}"#;
        assert_eq!(rec(billed).usage.output, 5);
        for ten in ["10.0", "1e1", r#""10""#, r#""1,000""#] {
            let l = openai.replace(
                r#""num_model_requests":10"#,
                &format!(r#""num_model_requests":{ten}"#),
            );
            assert_eq!(rej(&l), RejectReason::SummedUsage, "{ten}");
        } // A model's context window given as a number is no bucket (but
          // `uncached_input_tokens` is the usage report's); the names read
          // per call: input without the cache, the writes' TTL split in a
          // top-level `cache_creation`, `starting_at`.
        let per_call = anthropic
            .replace(r#""context_window":"0-200k""#, r#""context_window":200000"#)
            .replace("uncached_input_tokens", "input_tokens");
        let r = rec(&per_call);
        let u = &r.usage;
        assert_eq!(
            (
                u.input,
                u.cached_read,
                u.cache_write,
                u.cache_write_1h,
                u.output
            ),
            (258000, 5000, 3000, 1000, 1000)
        );
        assert_eq!(
            r.timestamp.unwrap().to_rfc3339(),
            "2025-06-01T00:00:00+00:00"
        );
        let r = rec(
            r#"{"input_tokens":10000,"output_tokens":1000,"input_cached_tokens":4000,"model":"gpt-4o"}"#,
        );
        assert_eq!(
            (r.usage.input, r.usage.cached_read, r.usage.output),
            (10000, 4000, 1000)
        );
        // OpenRouter: `usage` is the credits spent; the provider's counts
        // (`native_tokens_*`) are billed, not the normalised `tokens_*`.
        let r = rec(
            r#"{"id":"gen-1","total_cost":0.0035,"created_at":"2025-06-01T10:00:00.000Z","model":"openai/gpt-4o","usage":0.0035,"provider_name":"OpenAI","tokens_prompt":990,"tokens_completion":98,"native_tokens_prompt":1000,"native_tokens_completion":100,"native_tokens_reasoning":0,"native_tokens_cached":400}"#,
        );
        assert_eq!(
            (r.usage.input, r.usage.cached_read, r.usage.output),
            (1000, 400, 100)
        );
        assert_eq!(r.provider.as_deref(), Some("openai"));
        assert_eq!(r.logged_cost, Some(Money::from_picos(3_500_000_000)));
        // A usage that is neither an object nor a number is still wrong.
        assert_eq!(
            rej(r#"{"model":"gpt-4o","usage":true,"prompt_tokens":1}"#),
            RejectReason::WrongType
        );
        // LiteLLM's logging payload: the team in its metadata.
        let r = rec(
            r#"{"model":"gpt-4o","prompt_tokens":1000,"completion_tokens":100,"metadata":{"user_api_key_alias":"search-svc","user_api_key_team_id":"team-1","user_api_key_user_id":"alice","user_api_key_team_alias":"search"}}"#,
        );
        assert_eq!(r.team.as_deref(), Some("team-1"));
        assert_eq!(r.user.as_deref(), Some("alice"));
    }

    /// A time before any LLM API (epoch 0, a spreadsheet's serial date
    /// read as seconds) is read as absent and said to be ignored, not a
    /// call of 1970 priced at the catalog's first price; a leap second is
    /// the next minute's first.
    #[test]
    fn implausible_times_are_read_as_absent_and_leap_seconds_kept() {
        let line = |ts: &str| {
            format!(
                r#"{{"timestamp":{ts},"model":"gpt-4o","usage":{{"prompt_tokens":1,"completion_tokens":2}}}}"#
            )
        };
        for ts in [
            "0",
            "46296.41667",
            r#""1970-01-01T12:51:36Z""#,
            r#""2014-12-31T23:59:59Z""#,
        ] {
            let l = line(ts);
            let r = rec(&l);
            assert_eq!(
                (r.timestamp, r.unread_field),
                (None, Some("timestamp")),
                "{ts}"
            );
        }
        let ok = line(r#""2015-01-01T00:00:00Z""#);
        assert_eq!(
            rec(&ok).timestamp.unwrap().to_rfc3339(),
            "2015-01-01T00:00:00+00:00"
        );
        let leap = line(r#""2026-10-01T18:46:60Z""#);
        assert_eq!(
            rec(&leap).timestamp.unwrap().to_rfc3339(),
            "2026-10-01T18:47:00+00:00"
        );
        // A later time key is read past an early one (hunt40), in both
        // readers of a line.
        let both = r#"{"start_time":12.5,"timestamp":"2026-10-02T00:00:00Z","model":"gpt-4o","usage":{"prompt_tokens":1,"completion_tokens":2}}"#;
        let r = rec(both);
        assert_eq!(
            (r.timestamp.unwrap().to_rfc3339(), r.unread_field),
            ("2026-10-02T00:00:00+00:00".to_string(), None)
        );
        let mut seen = RawLine::default();
        LineSeed {
            line: &mut seen,
            scope: Scope::Top,
            depth: 0,
        }
        .deserialize(&mut serde_json::Deserializer::from_str(both))
        .unwrap();
        assert_eq!(
            seen.timestamp.0,
            r.timestamp.map_or(Lenient::Missing, Lenient::Value)
        );
        // Go's and .NET's unset times are absent too (hunt41), and a
        // later key is read past them.
        for unset in [
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59-05:00",
        ] {
            let l = format!(
                r#"{{"start_time":"{unset}","timestamp":"2026-10-02T00:00:00Z","model":"gpt-4o","usage":{{"prompt_tokens":1,"completion_tokens":2}}}}"#
            );
            assert_eq!(
                rec(&l).timestamp.unwrap().to_rfc3339(),
                "2026-10-02T00:00:00+00:00"
            );
            let alone = line(&format!("\"{unset}\""));
            let r = rec(&alone);
            assert_eq!(
                (r.timestamp, r.unread_field),
                (None, Some("timestamp")),
                "{unset}"
            );
        }
        // A line that is no call is still said to be that.
        assert_eq!(
            rej(r#"{"timestamp":0,"input_length":5}"#),
            RejectReason::MissingModel
        );
    }

    /// A model's JSON answer logged under `completion`, `output` or
    /// `response` is no provider body: it has no usage, and even with one
    /// it says nothing of the call's outcome, attribution, cost, batch or
    /// cache flags (hunt40: a `{"batch":true}` answer halved the price).
    #[test]
    fn a_models_json_answer_is_not_the_calls_body() {
        let base = r#"{"model":"gpt-4o","request_id":"r1","usage":{"prompt_tokens":1000,"completion_tokens":100}"#;
        let whole = format!("{base}}}");
        let plain = rec(&whole);
        for answer in [
            r#""completion":"{\"batch\":true,\"cached\":true}""#,
            r#""output":"{\"status\":\"failed\",\"model\":\"gpt-4o-mini\"}""#,
            r#""response":"{\"user\":\"bob\",\"team\":\"acme\",\"feature\":\"x\",\"cost\":12.5,\"tags\":{\"a\":\"b\"}}""#,
            r#""response":"{\"usage\":{\"prompt_tokens\":5},\"batch\":true,\"status\":\"failed\",\"user\":\"bob\",\"cost\":1}""#,
        ] {
            let line = format!("{base},{answer}}}");
            let r = rec(&line);
            assert_eq!(format!("{r:?}"), format!("{plain:?}"), "{answer}");
        }
    }

    #[test]
    fn scanner_reads_tricky_lines_like_serde() {
        let bailed: Vec<&str> = TRICKY.iter().copied().filter(|l| !agree(l)).collect();
        // All but these take the fast path: a usage given as text (JSON
        // text or not, serde_json's to read), two non-objects, trailing
        // text, a lone surrogate in a read string and in a skipped one
        // (which serde_json lets pass; the scanner leaves it to
        // serde_json), and a number out of range where it is read, and `00`.
        assert_eq!(bailed.len(), 8, "{bailed:#?}");
    }
    /// Two keys for one slot give the value of the one that ranks first,
    /// whatever their order, through the scanner, serde's visitor, a
    /// `metadata` object and a body of JSON text (hunt57).
    #[test]
    fn the_key_that_ranks_first_wins_in_any_order() {
        let usage = r#""model":"gpt-4o","usage":{"prompt_tokens":10,"completion_tokens":1}"#;
        // (each field's first alias against its last, and the line's own
        // key against `metadata`'s.)
        let mut lines = Vec::new();
        for f in [
            Field::RequestId,
            Field::Provider,
            Field::Feature,
            Field::Route,
            Field::Team,
            Field::User,
            Field::Session,
            Field::ErrorKind,
            Field::RetryOf,
            Field::FinishReason,
            Field::PromptHash,
            Field::PrefixHash,
        ] {
            let (_, keys) = aliases(f).unwrap();
            // (LiteLLM's `end_user`, the last of the user's keys, ranks
            // after `metadata`'s: below.)
            let last = keys[keys.len() - 1 - usize::from(f == Field::User)];
            let best = keys[0];
            lines.push((format!(r#""{best}":"x1""#), format!(r#""{last}":"y2""#)));
            if !matches!(f, Field::RequestId | Field::Provider) {
                lines.push((
                    format!(r#""{best}":"x1""#),
                    format!(r#""metadata":{{"{best}":"y2"}}"#),
                ));
                // A metadata object given as JSON text (a CSV's cell).
                lines.push((
                    format!(r#""{last}":"x1""#),
                    format!(r#""metadata":"{{\"{best}\":\"y2\"}}""#),
                ));
            }
        }
        for (a, b) in [
            ("timestamp", "ts"),
            ("latency_ms", "delay_ms"),
            ("turn", "turn_number"),
            ("attempt", "retry_attempt"),
            ("max_tokens", "maxTokens"),
            ("prefix_tokens", "system_prompt_tokens"),
            ("cost_usd", "spend"),
        ] {
            let (x, y) = if a == "timestamp" {
                ("\"2026-10-01T10:00:00Z\"", "\"2026-10-05T10:00:00Z\"")
            } else {
                ("3", "7")
            };
            lines.push((format!(r#""{a}":{x}"#), format!(r#""{b}":{y}"#)));
        }
        lines.push((r#""batch":true"#.into(), r#""is_batch":false"#.into()));
        lines.push((
            r#""error_type":"rate_limit""#.into(),
            r#""error":{"type":"server_error"}"#.into(),
        ));
        for (first, second) in &lines {
            let one = format!("{{{first},{second},{usage}}}");
            let other = format!("{{{second},{first},{usage}}}");
            agree(&one);
            agree(&other);
            let (a, b) = (parse_line_str(&one), parse_line_str(&other));
            assert_eq!(format!("{a:?}"), format!("{b:?}"), "{one}");
            let text = format!("{a:?}");
            assert!(
                !text.contains("y2") && !text.contains(": 7") && !text.contains("05T"),
                "{one}: {text}"
            );
        }
        // LiteLLM's `end_user` after the key's user in `metadata`, as its
        // spend logs' `user` is (hunt60); alone, it is the user.
        for line in [
            r#"{"end_user":"cust-9","metadata":{"user_api_key_user_id":"alice"},"model":"gpt-4o","usage":{"prompt_tokens":1,"completion_tokens":1}}"#,
            r#"{"metadata":{"user_api_key_user_id":"alice"},"end_user":"cust-9","model":"gpt-4o","usage":{"prompt_tokens":1,"completion_tokens":1}}"#,
            r#"{"user":"alice","end_user":"cust-9","model":"gpt-4o","usage":{"prompt_tokens":1,"completion_tokens":1}}"#,
        ] {
            assert_eq!(
                parse_line_str(line).unwrap().user.as_deref(),
                Some("alice"),
                "{line}"
            );
        }
        let alone = r#"{"end_user":"cust-9","model":"gpt-4o","usage":{"prompt_tokens":1,"completion_tokens":1}}"#;
        assert_eq!(
            parse_line_str(alone).unwrap().user.as_deref(),
            Some("cust-9")
        );
        // A value that does not read gives way to one that does, whatever
        // the ranks (hunt60): a time of day with no date, a protobuf time, a user
        // object; a request's `metadata` ranks after the line's; the
        // response's service tier is the one billed.
        let usage = r#""model":"gpt-4o","usage":{"prompt_tokens":1,"completion_tokens":1}"#;
        for (a, b, check) in [
            (
                r#""timestamp":"10:00:00,123""#,
                r#""created_at":"2026-10-05T10:00:00Z""#,
                "2026-10-05T10:00:00Z",
            ),
            (
                r#""timestamp":{"seconds":1790000000,"nanos":0}"#,
                r#""created_at":"2026-10-05T10:00:00Z""#,
                "2026-10-05T10:00:00Z",
            ),
            (r#""user":{"id":"u-1"}"#, r#""user_id":"u-1""#, "\"u-1\""),
            (
                r#""batch":"maybe""#,
                r#""is_batch":true"#,
                "batch: Some(true)",
            ),
            (
                r#""metadata":{"feature":"line"}"#,
                r#""request":{"metadata":{"feature":"body"}}"#,
                "feature: Some(\"line\")",
            ),
            (
                r#""service_tier":"priority""#,
                r#""response":{"service_tier":"default"}"#,
                "service_tier: None",
            ),
            // The line's own outcome over metadata's and a body's; an HTTP
            // status key's code over a code under `status` (hunt60).
            (
                r#""status":"success""#,
                r#""metadata":{"status":"failure"}"#,
                "status: Some(Ok)",
            ),
            (
                r#""status_code":200"#,
                r#""response":{"status_code":500}"#,
                "http_status: Some(200)",
            ),
            (
                r#""http_status":503"#,
                r#""status":200"#,
                "http_status: Some(503)",
            ),
            // hunt62: the exceptions tie with no metadata key; a `batch`
            // tier is no tier a response contradicts.
            (
                r#""service_tier":"priority""#,
                r#""metadata":{"service_tier":"flex"}"#,
                "service_tier: Some(Priority)",
            ),
            (
                r#""service_tier":"batch""#,
                r#""response":{"service_tier":"default"}"#,
                "batch: Some(true)",
            ),
            (
                r#""end_user":"cust-1""#,
                r#""metadata":{"end_user":"alice"}"#,
                "user: Some(\"cust-1\")",
            ),
        ] {
            for line in [
                format!("{{{a},{b},{usage}}}"),
                format!("{{{b},{a},{usage}}}"),
            ] {
                agree(&line);
                let text = format!("{:?}", parse_line_str(&line));
                assert!(text.contains(check), "{line}: {text}");
            }
        }
        // The model: `model` over a deployment's `model_id`.
        let r = parse_line_str(r#"{"model_id":"9f2c","model":"gpt-4o","usage":{"prompt_tokens":1,"completion_tokens":1}}"#).unwrap();
        assert_eq!(&*r.model, "gpt-4o");
    }

    /// The scanner predicts each key from the previous line's (see
    /// [`KeyShape`]): every line must read the same whatever line came before
    /// it, including lines with other keys, orders, escapes and spacing.
    #[test]
    fn predicted_keys_read_like_serde_whatever_line_came_before() {
        let mut fast = 0;
        for before in TRICKY {
            for line in TRICKY {
                agree(before);
                if agree(line) {
                    fast += 1;
                }
            }
        }
        // The same lines take the fast path as without a previous line.
        let alone = TRICKY.iter().filter(|l| agree(l)).count();
        assert_eq!(fast, alone * TRICKY.len());
        // And a hit yields the key's own text: the same line twice, the
        // second time read entirely from the prediction.
        let line = r#"{"model":"gpt-4o","feature":"a","team":"t","usage":{"prompt_tokens":1,"completion_tokens":2}}"#;
        assert!(agree(line) && agree(line));
        let r = parse_line_str(line).unwrap();
        assert_eq!(
            (r.feature.as_deref(), r.team.as_deref()),
            (Some("a"), Some("t"))
        );
    }

    /// The usage shapes remember more than the previous line: every line
    /// reads the same after all the others, in several orders.
    #[test]
    fn predicted_usage_keys_read_like_serde_after_any_history() {
        let alone = TRICKY.iter().filter(|l| agree(l)).count();
        let mut order: Vec<&str> = TRICKY.to_vec();
        for round in 0..6 {
            match round % 3 {
                0 => order.reverse(),
                1 => order.rotate_left(7),
                _ => {
                    // A fixed interleaving: even positions, then odd ones.
                    let (even, odd): (Vec<_>, Vec<_>) =
                        order.iter().enumerate().partition(|(i, _)| i % 2 == 0);
                    order = even.into_iter().chain(odd).map(|(_, l)| *l).collect();
                }
            }
            let fast = order.iter().filter(|l| agree(l)).count();
            assert_eq!(fast, alone, "round {round}");
        }
    }

    #[test]
    fn scanner_reads_the_sample_logs_like_serde() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../sample-logs/gateway/2026-10-01..16.jsonl"
        );
        let text = std::fs::read_to_string(path).unwrap();
        for line in text.lines().take(3000) {
            assert!(agree(line), "the fast path bailed on a sample line: {line}");
        }
    }

    /// Every prefix of each tricky line and one-byte edits at every position:
    /// the scanner never accepts a line serde_json rejects, nor reads one
    /// differently.
    #[test]
    fn scanner_never_disagrees_with_serde_on_broken_lines() {
        let subs = [
            "\"", "\\", "{", "}", "[", "]", ",", ":", "0", "-", "e", ".", " ", "n", "\u{1}", "x",
            "\\u", "1",
        ];
        let mut tried = 0usize;
        for line in TRICKY {
            for cut in 0..line.len() {
                if let Some(prefix) = line.get(..cut) {
                    agree(prefix);
                    tried += 1;
                }
            }
            for i in 0..line.len() {
                for sub in subs {
                    for end in [i, i + 1] {
                        if let (Some(a), Some(b)) = (line.get(..i), line.get(end..)) {
                            agree(&format!("{a}{sub}{b}"));
                            tried += 1;
                        }
                    }
                }
            }
        }
        assert!(tried > 100_000, "{tried}");
    }

    #[test]
    fn key_table_grouped_by_length_matches_the_table_by_meaning() {
        let mut keys: Vec<String> = Vec::new();
        for line in TRICKY {
            if let Ok(serde_json::Value::Object(m)) = serde_json::from_str(line) {
                keys.extend(m.keys().cloned());
            }
        }
        // Every key the module doc lists, and near misses.
        let doc = include_str!("gateway.rs");
        for word in doc.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '@')) {
            keys.push(word.to_string());
            keys.push(format!("{word}x"));
        }
        let mut known = 0;
        for key in &keys {
            assert_eq!(field(key), field_by_meaning(key), "{key}");
            known += usize::from(field(key) != Field::Other);
        }
        assert!(known > 200, "{known}");
    }

    #[test]
    fn numeric_latencies_read_like_their_text() {
        for v in [
            Scalar::U64(0),
            Scalar::U64(3369),
            Scalar::U64(u64::MAX),
            Scalar::U64(9_007_199_254_740_993),
            Scalar::I64(-5),
            Scalar::I64(i64::MIN),
            Scalar::F64(1234.4),
            Scalar::F64(-0.0),
            Scalar::F64(-2.5),
            Scalar::F64(1e300),
            Scalar::Bool(true),
            Scalar::Null,
            Scalar::Container,
            Scalar::Str(Cow::Borrowed(" 12.5 ")),
        ] {
            let want = LNum::from_label(v.clone().label());
            let got = LNum::from_scalar(v.clone());
            assert_eq!(format!("{got:?}"), format!("{want:?}"), "{v:?}");
        }
    }

    #[test]
    fn escaped_strings_are_owned_and_correct() {
        let r = rec(
            r#"{"model":"gpt\u002d4o","feature":"a\"b","usage":{"prompt_tokens":1,"completion_tokens":1}}"#,
        );
        assert_eq!(r.model, "gpt-4o");
        assert_eq!(r.feature.as_deref(), Some("a\"b"));
    }
}

/// The usage conventions, read through the gateway's usage reader.
#[cfg(test)]
mod usage_tests {
    use super::*;
    use crate::record::fields::Problems;
    use tokenaudit_core::Usage;

    fn usage(json: &str) -> Result<Option<Usage>, Reject> {
        let raw = super::parse_usage_for_test(json);
        let mut p = Problems::default();
        let u = raw.normalise(&mut p);
        match p.reject {
            Some(r) => Err(r),
            None => Ok(u),
        }
    }

    // Each convention, with a case that would double count if read wrongly.
    #[test]
    fn openai_chat_counts_cached_inside_prompt() {
        let u = usage(r#"{"prompt_tokens":1000,"completion_tokens":200,"prompt_tokens_details":{"cached_tokens":600},"completion_tokens_details":{"reasoning_tokens":50}}"#).unwrap().unwrap();
        assert_eq!(
            u,
            Usage {
                input: 1000,
                cached_read: 600,
                cache_write: 0,
                cache_write_1h: 0,
                output: 200,
                reasoning: 50,
                ..Default::default()
            }
        );
        assert_eq!(u.uncached_input(), 400);
    }

    #[test]
    fn anthropic_adds_cache_reads_and_writes_to_input() {
        let u = usage(r#"{"input_tokens":100,"output_tokens":20,"cache_read_input_tokens":5000,"cache_creation_input_tokens":300,"cache_creation":{"ephemeral_5m_input_tokens":100,"ephemeral_1h_input_tokens":200}}"#).unwrap().unwrap();
        assert_eq!(
            u,
            Usage {
                input: 5400,
                cached_read: 5000,
                cache_write: 300,
                cache_write_1h: 200,
                output: 20,
                reasoning: 0,
                ..Default::default()
            }
        );
        assert_eq!(u.uncached_input(), 100);
    }

    #[test]
    fn litellm_prompt_tokens_already_include_anthropic_cache() {
        // LiteLLM: prompt_tokens = uncached 100 + cache read 5000 + cache write 300.
        let u = usage(r#"{"prompt_tokens":5400,"completion_tokens":20,"cache_read_input_tokens":5000,"cache_creation_input_tokens":300,"prompt_tokens_details":{"cached_tokens":5000}}"#).unwrap().unwrap();
        assert_eq!(u.input, 5400);
        assert_eq!(u.cached_read, 5000);
        assert_eq!(u.cache_write, 300);
        assert_eq!(u.uncached_input(), 100);
    }

    #[test]
    fn a_response_under_a_loggers_own_name_is_read() {
        let r = super::parse_line(br#"{"ts":"2026-10-01T09:00:00Z","raw_response":{"id":"chatcmpl-9","model":"gpt-4o-2024-08-06","usage":{"prompt_tokens":1000,"completion_tokens":100,"prompt_tokens_details":{"cached_tokens":200}}},"metadata":{"feature":"chat"}}"#).unwrap();
        assert_eq!(r.model, "gpt-4o-2024-08-06");
        assert_eq!(r.request_id.as_deref(), Some("chatcmpl-9"));
        assert_eq!(
            (r.usage.input, r.usage.cached_read, r.usage.output),
            (1000, 200, 100)
        );
        assert_eq!(r.feature.as_deref(), Some("chat"));
        let r = super::parse_line(br#"{"llm_response":{"id":"msg_9","model":"claude-sonnet-4-5","stop_reason":"end_turn","usage":{"input_tokens":10,"output_tokens":5,"cache_read_input_tokens":100}}}"#).unwrap();
        assert_eq!(r.model, "claude-sonnet-4-5");
        // Anthropic's convention: the cached reads are added to the input.
        assert_eq!(
            (r.usage.input, r.usage.cached_read, r.usage.output),
            (110, 100, 5)
        );
    }

    /// LiteLLM's spend logs of current versions: `messages` is `"{}"`, the
    /// request (its messages and limit) is in `proxy_server_request`
    /// (hunt177: every prompt rule "could not run").
    #[test]
    fn litellms_proxy_server_request_gives_the_prompt_and_limit() {
        let line = r#"{"request_id":"r1","model":"gpt-4.1","call_type":"acompletion","messages":"{}","proxy_server_request":{"model":"gpt-4.1","messages":[{"role":"user","content":"What is my balance?"}],"max_tokens":500},"prompt_tokens":10,"completion_tokens":5,"spend":0.00006}"#;
        let r = super::parse_line(line.as_bytes()).unwrap();
        assert!(r.prompt_fp.is_some());
        assert_eq!(r.max_tokens, Some(500));
        agree(line);
    }

    /// A Responses object's `web_search_call` items are the searches it ran
    /// (its usage counts none); a usage that counts them wins. Its
    /// `safety_identifier` is the end user's id (OpenAI's: it "supersedes
    /// the `user` parameter"; hunt176: user `(none)`), after a `user`
    /// wherever it is.
    #[test]
    fn responses_web_search_calls_are_counted() {
        let line = r#"{"id":"resp_1","object":"response","model":"gpt-5","output":[{"type":"reasoning","summary":[]},{"type":"web_search_call","status":"completed"},{"id":"ws_2","type":"web_search_call"},{"type":"message"}],"usage":{"input_tokens":10,"output_tokens":5},"safety_identifier":"u-42"}"#;
        let r = super::parse_line(line.as_bytes()).unwrap();
        assert_eq!(r.usage.web_searches, 2);
        assert_eq!(r.user.as_deref(), Some("u-42"));
        let both = line.replace(
            r#""safety_identifier""#,
            r#""safety_identifier":"s-1","user""#,
        );
        let r = super::parse_line(both.as_bytes()).unwrap();
        assert_eq!(r.user.as_deref(), Some("u-42"));
        let r = super::parse_line(br#"{"model":"x","response":{"output":[{"type":"web_search_call"}],"usage":{"input_tokens":3,"output_tokens":1,"server_tool_use":{"web_search_requests":4}}}}"#).unwrap();
        assert_eq!(r.usage.web_searches, 4);
        // The response logged at the top and under `response`: its one
        // search once; a request's `output` is none.
        let r = super::parse_line(br#"{"model":"x","output":[{"type":"web_search_call"}],"request":{"output":[{"type":"web_search_call"}]},"response":{"output":[{"type":"web_search_call"}],"usage":{"input_tokens":3,"output_tokens":1}}}"#).unwrap();
        assert_eq!(r.usage.web_searches, 1);
        let r = super::parse_line(br#"{"model":"x","request":{"output":[{"type":"web_search_call"}]},"usage":{"input_tokens":3,"output_tokens":1}}"#).unwrap();
        assert_eq!(r.usage.web_searches, 0);
        let r = super::parse_line(
            br#"{"model":"x","output":"text","usage":{"prompt_tokens":1,"completion_tokens":1}}"#,
        )
        .unwrap();
        assert_eq!(r.usage.web_searches, 0);
    }

    #[test]
    fn openai_responses_input_includes_cached() {
        let u = usage(r#"{"input_tokens":1000,"output_tokens":300,"input_tokens_details":{"cached_tokens":800},"output_tokens_details":{"reasoning_tokens":100}}"#).unwrap().unwrap();
        assert_eq!(
            u,
            Usage {
                input: 1000,
                cached_read: 800,
                cache_write: 0,
                cache_write_1h: 0,
                output: 300,
                reasoning: 100,
                ..Default::default()
            }
        );
    }

    /// A logged error with no model and no tokens was not billed: a skip,
    /// not a broken line. Without an error it is still a missing model.
    #[test]
    fn failed_requests_with_no_model_are_not_billed() {
        for line in [
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
            r#"{"timestamp":"2025-10-01T10:00:00Z","status":429,"route":"/v1/chat"}"#,
        ] {
            let e = Format::Gateway.parse_line_str(line).unwrap_err();
            assert_eq!(e.reason, RejectReason::NotBilled, "{line}");
        }
        let e = Format::Gateway
            .parse_line_str(r#"{"usage":{"prompt_tokens":1,"completion_tokens":1},"status":500}"#)
            .unwrap_err();
        assert_eq!(e.reason, RejectReason::MissingModel);
        let e = Format::Gateway
            .parse_line_str(r#"{"timestamp":"2025-10-01T10:00:00Z"}"#)
            .unwrap_err();
        assert_eq!(e.reason, RejectReason::MissingModel);
    }

    /// Gemini bills its built-in tools' prompts (`toolUsePromptTokenCount`)
    /// as input beside `promptTokenCount`, in `usageMetadata` or at the top
    /// level of a flattened export.
    #[test]
    fn gemini_tool_use_prompts_are_input() {
        let u = usage(r#"{"promptTokenCount":2000,"toolUsePromptTokenCount":300,"candidatesTokenCount":100,"cachedContentTokenCount":1500}"#).unwrap().unwrap();
        assert_eq!((u.input, u.cached_read, u.output), (2300, 1500, 100));
        let line = r#"{"model":"gemini-2.5-flash","promptTokenCount":10,"toolUsePromptTokenCount":7,"candidatesTokenCount":3}"#;
        let r = Format::Gateway.parse_line_str(line).unwrap();
        assert_eq!((r.usage.input, r.usage.output), (17, 3));
    }

    /// Gemini's usage as Google's Python SDK dumps it (snake_case under
    /// `usage_metadata`: ADK's `llm_response`, `response.to_dict()`).
    #[test]
    fn gemini_snake_case_usage_is_read() {
        let line = r#"{"model":"gemini-2.5-flash","usage_metadata":{"cached_content_token_count":8000,"candidates_token_count":200,"prompt_token_count":10000,"thoughts_token_count":1800,"tool_use_prompt_token_count":50}}"#;
        let r = Format::Gateway.parse_line_str(line).unwrap();
        assert_eq!(
            (
                r.usage.input,
                r.usage.cached_read,
                r.usage.output,
                r.usage.reasoning
            ),
            (10_050, 8_000, 2_000, 1_800)
        );
    }

    #[test]
    fn gemini_thoughts_are_added_to_candidates() {
        let u = usage(r#"{"promptTokenCount":2000,"candidatesTokenCount":100,"cachedContentTokenCount":1500,"thoughtsTokenCount":400}"#).unwrap().unwrap();
        assert_eq!(
            u,
            Usage {
                input: 2000,
                cached_read: 1500,
                cache_write: 0,
                cache_write_1h: 0,
                output: 500,
                reasoning: 400,
                ..Default::default()
            }
        );
    }

    #[test]
    fn bad_token_values_are_named() {
        assert_eq!(
            usage(r#"{"prompt_tokens":"many"}"#).unwrap_err().reason,
            RejectReason::WrongType
        );
        assert_eq!(
            usage(r#"{"prompt_tokens":-5}"#).unwrap_err().reason,
            RejectReason::NegativeTokens
        );
        assert_eq!(
            usage(r#"{"prompt_tokens":1000000000000}"#)
                .unwrap_err()
                .reason,
            RejectReason::AbsurdTokens
        );
        assert_eq!(
            usage(r#"{"prompt_tokens":"12","completion_tokens":3.0}"#)
                .unwrap()
                .unwrap()
                .input,
            12
        );
        assert_eq!(
            usage(r#"{"prompt_tokens":1.5}"#).unwrap_err().reason,
            RejectReason::WrongType
        );
        assert_eq!(usage(r#"{}"#).unwrap(), None);
    }
}

#[cfg(test)]
mod responses_input_tests {
    use super::*;

    /// The Responses API's `input` as a list of messages: its `developer`
    /// message is the system prompt, as `instructions` or a `messages`
    /// list's system message would be (hunt140's bug9: TA103 and TA104
    /// could not run); a list of strings (an embedding's input) stays a
    /// prompt.
    #[test]
    fn a_responses_input_list_gives_its_system_prompt() {
        let line = r#"{"model":"gpt-4o","usage":{"input_tokens":10,"output_tokens":1},"input":[{"role":"developer","content":"Answer briefly."},{"role":"user","content":"What is a prompt cache?"}]}"#;
        let messages = r#"{"model":"gpt-4o","usage":{"input_tokens":10,"output_tokens":1},"messages":[{"role":"developer","content":"Answer briefly."},{"role":"user","content":"What is a prompt cache?"}]}"#;
        let (a, b) = (
            parse_line_str(line).unwrap(),
            parse_line_str(messages).unwrap(),
        );
        assert!(a.prefix_fp.is_some());
        assert_eq!(
            (a.prefix_fp, a.prompt_fp, a.user_messages),
            (b.prefix_fp, b.prompt_fp, b.user_messages)
        );
        assert_eq!(parse_line(line.as_bytes()).unwrap().prefix_fp, a.prefix_fp);
        let strings = r#"{"model":"text-embedding-3-small","usage":{"prompt_tokens":10,"total_tokens":10},"input":["a doc","another doc"]}"#;
        let e = parse_line_str(strings).unwrap();
        assert!(e.prefix_fp.is_none() && e.prompt_fp.is_some());
    }
}
