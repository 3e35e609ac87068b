//! The staging type every JSON reader fills with one record's raw fields, as
//! the source spelled them ([`RawLine`]), and its record builder
//! ([`RawLine::into_record`]): normalising and checking the fields into a
//! [`CallRecord`] the same way for every format.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer};
use xxhash_rust::xxh3::xxh3_64;

use tokenaudit_core::{CallRecord, CallStatus, ServiceTier, Usage};

use crate::record::fields::{
    fingerprint, finish, has_word, read_messages, LBool, LMoney, LStr, LTime, Lenient, Messages,
    Problems, RawUsage, Scalar, LU64,
};
use crate::rejects::{Reject, RejectReason};

/// The raw fields of one line, as the source spelled them.
#[derive(Debug, Default)]
pub struct RawLine<'a> {
    pub timestamp: LTime,
    pub request_id: LStr<'a>,
    pub provider: LStr<'a>,
    pub model: LStr<'a>,
    pub feature: LStr<'a>,
    pub route: LStr<'a>,
    pub team: LStr<'a>,
    pub user: LStr<'a>,
    pub session: LStr<'a>,
    pub turn: LU64,
    pub status: LStr<'a>,
    pub error_kind: LStr<'a>,
    pub http_status: LU64,
    /// A camelCase `statusCode` / `httpStatus` at the line's top holding
    /// a failure's HTTP code (400 to 599): the HTTP status when no other
    /// key gives one, whatever the order (hunt55). A 2xx there is an
    /// application's own answer, which says nothing of the LLM call.
    pub http_failure_camel: Option<u64>,
    /// A word under an HTTP status key (`"status_code": "ERROR"`): the
    /// outcome when no `status` key gives one (see [`word_status`]).
    pub status_word: Option<Cow<'a, str>>,
    pub attempt: LU64,
    pub retry_of: LStr<'a>,
    pub usage: RawUsage,
    /// The AI SDK's `totalUsage` as a Parquet row's columns give it, count
    /// by count: taken as the whole usage ([`RawUsage::take_whole`]) once
    /// the row is read. (The JSON readers take it at once.)
    pub total_usage: Option<Box<RawUsage>>,
    pub latency_ms: LNum,
    pub ttft_ms: LNum,
    pub batch: LBool,
    /// LiteLLM's `cache_hit`: a call answered from LiteLLM's own cache,
    /// which the provider did not bill.
    pub cache_hit: LBool,
    /// Cloudflare AI Gateway's top-level `cached: true`: answered from its
    /// cache, unless the line logs a cost above zero (another log's flag
    /// of a prompt-cache hit, on a billed call).
    pub gateway_cached: bool,
    /// Cloudflare AI Gateway's top-level `success: false`: a failed call,
    /// unless a `status` or a status word says otherwise.
    pub unsuccessful: bool,
    /// The line is a usage API's row, a sum of many requests
    /// (`RejectReason::SummedUsage`).
    pub summed: bool,
    /// Portkey's log export (`req_units`, `res_units` at the top): its
    /// `cost` is in cents (hunt91: logged costs 100 times too high).
    pub cost_in_cents: bool,
    /// A time key held a time before any LLM API (see
    /// [`RawLine::set_time`]).
    pub early_time: bool,
    pub service_tier: LStr<'a>,
    /// A logged pair's `request.model` and `request.service_tier`: what was
    /// asked for, used when the line names no model (tier) elsewhere.
    pub request_model: LStr<'a>,
    /// LiteLLM's `model_group`: the model when the line names no other.
    pub model_group: LStr<'a>,
    pub request_service_tier: LStr<'a>,
    /// The model a logged pair's `response` names: the line's model when
    /// it names none, else offered to the sink as `served_model`.
    pub served_model: LStr<'a>,
    /// The line is a streaming chunk or event (`object` or `type`, see
    /// `gateway::is_stream_event`): without usage it is no call.
    pub stream_event: bool,
    /// The line's `created` (OpenAI's and OpenAI-compatible servers'
    /// epoch seconds, shared by a stream's chunks) in seconds, whatever
    /// time the line is dated by ([`CallRecord::stream_created`]).
    pub created: Option<i64>,
    /// The line has a key only a streamed event has (Azure OpenAI's
    /// `prompt_filter_results`, Bedrock ConverseStream's `messageStart`
    /// …): without usage it is no call, with usage it is read as any line.
    pub event_only: bool,
    /// The line has `choices` or `candidates`: a Gemini response's
    /// candidates without a `finishReason` are a streamed chunk's before
    /// its last.
    pub choices: bool,
    /// The host a key only its responses carry names (Groq's `x_groq`,
    /// Cerebras' `time_info`: `gateway::Field::host_of`):
    /// the provider when the line names none.
    pub host: Option<&'static str>,
    pub finish_reason: LStr<'a>,
    pub max_tokens: LU64,
    pub prompt_hash: LStr<'a>,
    pub prefix_hash: LStr<'a>,
    pub prefix_tokens: LU64,
    pub prompt_text_fp: Option<u64>,
    pub prefix_text_fp: Option<u64>,
    /// The length of the system prompt's text (see [`CallRecord::prefix_chars`]).
    pub prefix_chars: Option<u64>,
    /// User messages in `messages` (see [`CallRecord::user_messages`]).
    pub user_messages: Option<u32>,
    /// The text near-duplicate detection compares (see
    /// [`CallRecord::prompt_text`]); only a text with a word is kept.
    pub prompt_text: Option<Cow<'a, str>>,
    /// The raw JSON of `messages`/`prompt` and of `system`, borrowed.
    pub prompt_raw: Option<&'a str>,
    pub system_raw: Option<&'a str>,
    /// `web_search_call` items of a Responses API `output` array: the
    /// call's web searches when its usage counts none.
    pub web_search_calls: u64,
    /// A stateful request's conversation (the Responses API's
    /// `previous_response_id` or `conversation`), hashed: the history the
    /// prompt goes on, which the prompt's fingerprint takes in (hunt156: the
    /// same "Yes, please continue." in 300 conversations was 300 repeats).
    /// With whether it is a `conversation`'s (whose turns all name it).
    pub continues: Option<(u64, bool)>,
    pub cost: LMoney,
    pub tags: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    /// The rank of the key each [`Ranked`] slot's value came from.
    pub ranks: Ranks,
}

/// The slots a line may fill from several keys: aliases (`team_id` and
/// `user_api_key_team_alias`, `timestamp` and `created_at`), or one key at
/// the top and in `metadata` or a body. Each keeps the value of the key
/// that ranks first (`gateway::rank`) among those whose value reads, whatever
/// the order of the keys in the line (hunt57: a JSON line, its key-sorted
/// copy and its Parquet row, read in column-name order, gave one call two
/// teams or two days); a value that does not read (a wrong type) is kept
/// only when no key gives one that does (hunt60); of two keys of one rank,
/// the first stays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Ranked {
    Timestamp,
    RequestId,
    Provider,
    Model,
    RequestModel,
    ServedModel,
    Feature,
    Route,
    Team,
    User,
    Session,
    Turn,
    Status,
    HttpStatus,
    ErrorKind,
    Attempt,
    RetryOf,
    Latency,
    Ttft,
    Batch,
    CacheHit,
    ServiceTier,
    RequestServiceTier,
    FinishReason,
    MaxTokens,
    PromptHash,
    PrefixHash,
    PrefixTokens,
    Cost,
}

const RANKED: usize = Ranked::Cost as usize + 1;

/// The rank of the key that filled each [`Ranked`] slot (lower wins;
/// meaningless while the slot is empty).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ranks([u16; RANKED]);

impl std::ops::Index<Ranked> for Ranks {
    type Output = u16;
    #[inline]
    fn index(&self, r: Ranked) -> &u16 {
        &self.0[r as usize]
    }
}

impl std::ops::IndexMut<Ranked> for Ranks {
    #[inline]
    fn index_mut(&mut self, r: Ranked) -> &mut u16 {
        &mut self.0[r as usize]
    }
}

/// Whether a key of `rank` is worth reading for a slot whose key ranked
/// `held`: the slot holds no value that reads (`valid` false), or the key
/// ranks first.
#[inline]
pub fn outranks(valid: bool, held: u16, rank: u16) -> bool {
    !valid || rank < held
}

/// Whether a value read from a key of `rank` replaces the slot's (whose key
/// ranked `held`): an empty slot takes any; a value that reads replaces
/// one that does not, and one of a key that ranks later; a value that does
/// not read replaces only another such of a later key.
#[inline]
pub fn replaces<T, U>(slot: &Lenient<T>, held: u16, rank: u16, v: &Lenient<U>) -> bool {
    match (slot, v) {
        (Lenient::Missing, _) => true,
        (_, Lenient::Missing) => false,
        (Lenient::Value(_), Lenient::Value(_)) => rank < held,
        (Lenient::Value(_), _) => false,
        (_, Lenient::Value(_)) => true,
        _ => rank < held,
    }
}

/// Puts a value read from a key of `rank` into `slot` (whose key ranked
/// `held`), if it [`replaces`] it.
#[inline]
pub fn put_ranked<T>(slot: &mut Lenient<T>, held: &mut u16, rank: u16, v: Lenient<T>) {
    if replaces(slot, *held, rank, &v) {
        *slot = v;
        *held = rank;
    }
}

/// The last time a nanosecond timestamp holds (2262-04-11T23:47:16.854775807Z).
const LATEST_NANOS: chrono::DateTime<chrono::Utc> =
    chrono::DateTime::from_timestamp_nanos(i64::MAX);

/// A number read leniently as `f64` (latencies may be fractional).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LNum(pub Lenient<f64>);

impl<'de> Deserialize<'de> for LNum {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<LNum, D::Error> {
        Ok(LNum::from_label(LStr::deserialize(d)?.0))
    }
}

impl LNum {
    /// Reads a number from a JSON value: the same as
    /// `LNum::from_label(v.label())`, without formatting a number as text to
    /// parse it back (`n as f64` and parsing `n`'s digits round alike, and an
    /// `f64`'s text parses back to itself).
    pub fn from_scalar(v: Scalar<'_>) -> LNum {
        let f = match v {
            Scalar::U64(n) => n as f64,
            Scalar::I64(n) => n as f64,
            Scalar::F64(f) if f.is_finite() => f,
            other => return LNum::from_label(other.label()),
        };
        LNum(if f >= 0.0 {
            Lenient::Value(f)
        } else {
            Lenient::Negative
        })
    }

    /// Reads a number from a label (see [`Scalar::label`]).
    pub fn from_label(label: Lenient<Cow<'_, str>>) -> LNum {
        LNum(match label {
            Lenient::Value(v) => match v.trim().parse::<f64>() {
                Ok(f) if f.is_finite() && f >= 0.0 => Lenient::Value(f),
                Ok(f) if f.is_finite() => Lenient::Negative,
                _ => Lenient::WrongType,
            },
            Lenient::Missing => Lenient::Missing,
            _ => Lenient::WrongType,
        })
    }
}

/// Whether a logged prompt's raw JSON is no prompt at all: LiteLLM's spend
/// logs write `"messages": {}` on every row when prompts are not stored,
/// which must not read as one prompt repeated on every call.
pub fn is_no_prompt(raw: &str) -> bool {
    // (And the same as JSON text: LiteLLM's `"{}"` for a prompt it did not
    // store, through an export that keeps its JSON columns as text;
    // hunt177: every such call one prompt, TA109's 97% of spend.)
    matches!(
        raw.trim(),
        "null" | "{}" | "[]" | "\"\"" | "\"{}\"" | "\"[]\"" | "\"null\""
    )
}

impl<'a> RawLine<'a> {
    /// Takes what the record needs from the raw JSON of a `messages` array,
    /// each part unless already set: the prompt fingerprint (of the whole
    /// text), the text near-duplicate detection compares, the system
    /// prompt's fingerprint and length, and the number of user messages.
    pub fn set_messages(&mut self, raw: &'a str) {
        // A list kept as JSON text (a warehouse's JSON column, LiteLLM's
        // spend logs' `messages` through a database): read as the list
        // (hunt144's bug3: its system prompt unseen, TA103 missed, TA110's
        // near-duplicates inflated).
        if raw.starts_with('"') {
            if let Ok(text) = serde_json::from_str::<String>(raw) {
                let list = text.trim_start().starts_with('[')
                    && serde_json::from_str::<serde::de::IgnoredAny>(&text).is_ok();
                if list {
                    let m = read_messages(&text);
                    let owned = crate::record::fields::Messages {
                        fp: m.fp,
                        text: m.text.map(|t| Cow::Owned(t.into_owned())),
                        system: m.system,
                        system_chars: m.system_chars,
                        user_messages: m.user_messages,
                    };
                    self.set_messages_with(raw, || owned);
                    return;
                }
            }
        }
        self.set_messages_with(raw, || read_messages(raw));
    }

    /// [`RawLine::set_messages`] with the array already read (by
    /// [`crate::record::fields::scan_messages_in`], in the line's own pass).
    pub(crate) fn set_messages_read(&mut self, raw: &'a str, m: Messages<'a>) {
        self.set_messages_with(raw, || m);
    }

    fn set_messages_with(&mut self, raw: &'a str, read: impl FnOnce() -> Messages<'a>) {
        if is_no_prompt(raw) {
            return;
        }
        let fp = self.prompt_text_fp.is_none();
        if fp || self.prompt_text.is_none() || self.prefix_text_fp.is_none() {
            // One parse of the array serves all of them.
            let m = read();
            if fp {
                self.prompt_text_fp = Some(m.fp);
                self.prompt_raw = Some(raw);
            }
            if self.prompt_text.is_none() {
                self.prompt_text = m.text.filter(|t| has_word(t));
            }
            if self.prefix_text_fp.is_none() {
                self.prefix_text_fp = m.system;
                self.prefix_chars = m.system_chars;
            }
            if m.user_messages > 0 {
                self.user_messages = Some(m.user_messages);
            }
        }
    }

    /// Takes what `o` read (a `metadata`, `request` or `response` object
    /// given as JSON text, read apart) where this line has nothing, as owned
    /// text: the fields it fills first, its usage as a nested object's (see
    /// [`RawUsage::add_nested`]), its tags after this line's. Its prompt
    /// texts' fingerprints are taken, not their raw JSON (which borrows from
    /// the text read apart). Every field is named: one added and not taken
    /// here does not build.
    pub fn absorb(&mut self, o: RawLine<'_>) {
        fn first<T>(mine: &mut Option<T>, theirs: Option<T>) {
            if mine.is_none() {
                *mine = theirs;
            }
        }
        let RawLine {
            timestamp,
            request_id,
            provider,
            model,
            feature,
            route,
            team,
            user,
            session,
            turn,
            status,
            error_kind,
            http_status,
            http_failure_camel,
            status_word,
            attempt,
            retry_of,
            usage,
            total_usage: _,
            latency_ms,
            ttft_ms,
            batch,
            cache_hit,
            gateway_cached,
            unsuccessful,
            summed,
            // (Read at the top only: no body has it.)
            cost_in_cents: _,
            early_time,
            service_tier,
            request_model,
            model_group,
            request_service_tier,
            served_model,
            stream_event,
            choices,
            host,
            finish_reason,
            max_tokens,
            prompt_hash,
            prefix_hash,
            prefix_tokens,
            prompt_text_fp,
            prefix_text_fp,
            prefix_chars,
            user_messages,
            prompt_text,
            prompt_raw: _,
            system_raw: _,
            web_search_calls,
            continues,
            cost,
            tags,
            ranks,
            created,
            event_only,
        } = o;
        first(&mut self.created, created);
        self.event_only |= event_only;
        // A ranked slot takes the other's value when its own is empty or
        // the other's key ranks first (`Ranked`).
        let theirs = ranks;
        macro_rules! ranked {
            (@take $slot:ident, $r:ident, $value:expr) => {
                if replaces(
                    &self.$slot.0,
                    self.ranks[Ranked::$r],
                    theirs[Ranked::$r],
                    &$slot.0,
                ) {
                    self.$slot = $value;
                    self.ranks[Ranked::$r] = theirs[Ranked::$r];
                }
            };
            (text: $($slot:ident: $r:ident),* $(,)?) => {
                $(ranked!(@take $slot, $r, $slot.into_owned());)*
            };
            (num: $($slot:ident: $r:ident),* $(,)?) => {
                $(ranked!(@take $slot, $r, $slot);)*
            };
        }
        fn own_text<'a>(mine: &mut LStr<'a>, theirs: LStr<'_>) {
            if !mine.0.is_present() && theirs.0.is_present() {
                *mine = theirs.into_owned();
            }
        }
        // (A `metadata` object's model, provider and request id are not the
        // call's: its reader gives its model as `request_model` and drops
        // the other two, as for an object.)
        ranked!(
            text:
            request_id: RequestId,
            provider: Provider,
            model: Model,
            feature: Feature,
            route: Route,
            team: Team,
            user: User,
            session: Session,
            status: Status,
            error_kind: ErrorKind,
            retry_of: RetryOf,
            service_tier: ServiceTier,
            request_model: RequestModel,
            request_service_tier: RequestServiceTier,
            served_model: ServedModel,
            finish_reason: FinishReason,
            prompt_hash: PromptHash,
            prefix_hash: PrefixHash,
        );
        ranked!(
            num:
            timestamp: Timestamp,
            turn: Turn,
            http_status: HttpStatus,
            attempt: Attempt,
            latency_ms: Latency,
            ttft_ms: Ttft,
            cost: Cost,
            batch: Batch,
            cache_hit: CacheHit,
            max_tokens: MaxTokens,
            prefix_tokens: PrefixTokens,
        );

        if self.status_word.is_none() {
            self.status_word = status_word.map(|w| Cow::Owned(w.into_owned()));
        }
        first(&mut self.host, host);
        self.stream_event |= stream_event;
        self.choices |= choices;
        own_text(&mut self.model_group, model_group);

        first(&mut self.http_failure_camel, http_failure_camel);
        self.gateway_cached |= gateway_cached;
        self.unsuccessful |= unsuccessful;
        self.summed |= summed;
        self.early_time |= early_time;
        if self.prompt_text_fp.is_none() {
            self.prompt_text_fp = prompt_text_fp;
            self.prompt_text = prompt_text.map(|t| Cow::Owned(t.into_owned()));
        }
        if self.prefix_text_fp.is_none() {
            self.prefix_text_fp = prefix_text_fp;
            self.prefix_chars = prefix_chars;
        }
        first(&mut self.user_messages, user_messages);
        if self.web_search_calls == 0 {
            self.web_search_calls = web_search_calls;
        }
        first(&mut self.continues, continues);
        self.usage.add_nested(usage);
        self.tags.extend(
            tags.into_iter()
                .map(|(k, v)| (Cow::Owned(k.into_owned()), Cow::Owned(v.into_owned()))),
        );
    }

    /// What a logged request's or response's body, given as JSON text,
    /// tells of the call (see `gateway::nested_from_text`): the model, ids,
    /// time, usage, finish reason, output limit, service tier, the prompt's
    /// fingerprints and a request's `user`; not the outcome, attribution,
    /// cost, batch or cache flags and tags, which a model's JSON answer
    /// logged under such a name may hold keys for. Every field is named.
    pub fn body_only(self, request: bool) -> RawLine<'a> {
        let RawLine {
            timestamp,
            request_id,
            provider,
            model,
            feature: _,
            route: _,
            team: _,
            user,
            session: _,
            turn: _,
            status: _,
            error_kind: _,
            http_status: _,
            http_failure_camel: _,
            status_word: _,
            attempt: _,
            retry_of: _,
            usage,
            total_usage: _,
            latency_ms: _,
            ttft_ms: _,
            batch: _,
            cache_hit: _,
            gateway_cached: _,
            unsuccessful: _,
            summed: _,
            cost_in_cents: _,
            early_time,
            service_tier,
            request_model,
            model_group,
            request_service_tier,
            served_model,
            stream_event,
            choices,
            host,
            finish_reason,
            max_tokens,
            prompt_hash: _,
            prefix_hash: _,
            prefix_tokens: _,
            prompt_text_fp,
            prefix_text_fp,
            prefix_chars,
            user_messages,
            prompt_text,
            prompt_raw,
            system_raw,
            web_search_calls,
            continues,
            cost: _,
            tags: _,
            ranks,
            created,
            event_only,
        } = self;
        RawLine {
            ranks,
            created,
            event_only,
            timestamp,
            request_id,
            provider,
            model,
            user: if request { user } else { LStr::default() },
            usage,
            service_tier,
            request_model,
            model_group,
            request_service_tier,
            served_model,
            stream_event,
            choices,
            host,
            finish_reason,
            max_tokens,
            prompt_text_fp,
            prefix_text_fp,
            prefix_chars,
            user_messages,
            prompt_text,
            prompt_raw,
            system_raw,
            web_search_calls,
            continues,
            early_time,
            ..RawLine::default()
        }
    }

    /// [`RawLine::set_time`] from a key of `rank`: over a time already
    /// read only from a key that ranks first, and only with a time of a
    /// call (not an unset one).
    /// Notes a `created` time (see [`RawLine::created`]); the first wins.
    pub fn note_created(&mut self, v: &Lenient<chrono::DateTime<chrono::Utc>>) {
        if let (None, Lenient::Value(t)) = (self.created, v) {
            self.created = Some(t.timestamp());
        }
    }

    pub fn set_time_ranked(&mut self, v: Lenient<chrono::DateTime<chrono::Utc>>, rank: u16) {
        if !replaces(&self.timestamp.0, self.ranks[Ranked::Timestamp], rank, &v) {
            return;
        }
        let old = std::mem::take(&mut self.timestamp.0);
        self.set_time(v);
        if self.timestamp.0.is_present() {
            self.ranks[Ranked::Timestamp] = rank;
        } else {
            self.timestamp.0 = old;
        }
    }

    /// Fills the time from a time key's value, unless one is read. A time
    /// before any LLM API (`fields::EARLIEST_CALL`: an epoch of 0, a
    /// trace's seconds) leaves it for a later key (`start_time` of 12.5
    /// before a `timestamp`), and is said if none gives one.
    pub fn set_time(&mut self, v: Lenient<chrono::DateTime<chrono::Utc>>) {
        if self.timestamp.0.is_present() {
            return;
        }
        use crate::record::fields::EARLIEST_CALL;
        // (Two comparisons for a time of today, the call's cost.)
        if let Lenient::Value(t) = v {
            if t < EARLIEST_CALL || t > LATEST_NANOS {
                // One no nanosecond timestamp holds is out of range: a bad
                // timestamp (see `fields::finish`), but for Go's and .NET's
                // "unset" times, 0001-01-01 and 9999-12-31.
                let year = chrono::Datelike::year(&t);
                let unset = if t < EARLIEST_CALL {
                    // (0: 0001-01-01 written with an offset east of UTC.)
                    t.timestamp_nanos_opt().is_some() || year <= 1
                } else {
                    year >= 9999
                };
                if unset {
                    self.early_time = true;
                    return;
                }
            }
        }
        self.timestamp.0 = v;
    }

    /// Whether the line names a model, its own or its response's.
    pub fn names_a_model(&self) -> bool {
        self.model.0.is_present() || self.served_model.0.is_present()
    }

    /// Normalises and checks the raw fields into a call record.
    pub fn into_record(mut self) -> Result<CallRecord<'a>, Reject> {
        if let (false, Some(code)) = (self.http_status.0.is_present(), self.http_failure_camel) {
            self.http_status = LU64(Lenient::Value(code));
        }
        if self.summed {
            return Err(Reject::new(
                RejectReason::SummedUsage,
                "a usage API's row (num_model_requests, requests, api_requests, a count of calls or \
                 invocations, a report's time bucket with its ending_at or context_window, a Batch \
                 object's request_counts) sums many \
                 requests: tokenaudit prices and audits calls one by one (a long-context price is \
                 chosen by one request's size); read per-call logs",
            ));
        }
        // The providers' token-counting endpoints answer with a count, free
        // of charge (hunt41, hunt42): Anthropic's `count_tokens` (its SDKs'
        // `?beta=true`), Gemini's `countTokens`, Bedrock's `count-tokens`,
        // Vertex's `count-tokens:rawPredict`, OpenAI's
        // `responses/input_tokens`. (A count has no output.)
        if let Lenient::Value(route) = &self.route.0 {
            // (In any case, with a trailing `/`; Vertex's `computeTokens`
            // too: hunt43. No copy of the route per call.)
            let path = route.split(['?', '#']).next().unwrap_or(route);
            let path = path.trim_end_matches('/').as_bytes();
            let counts = [
                "/count_tokens",
                ":countTokens",
                "/count-tokens",
                "count-tokens:rawPredict",
                "/responses/input_tokens",
                ":computeTokens",
            ]
            .iter()
            .any(|end| {
                path.len() >= end.len()
                    && path[path.len() - end.len()..].eq_ignore_ascii_case(end.as_bytes())
            });
            let u = &self.usage;
            let output = [
                &u.completion_tokens,
                &u.output_tokens,
                &u.candidates_token_count,
            ]
            .iter()
            .any(|c| matches!(c, Lenient::Value(n) if *n > 0));
            if counts && !output {
                return Err(Reject::new(
                    RejectReason::NotBilled,
                    "a token count (count_tokens, countTokens, input_tokens): not billed",
                ));
            }
        }
        let billed = matches!(&self.cost.0, Lenient::Value(c) if c.picos() > 0);
        if self.cache_hit.0 == Lenient::Value(true) || (self.gateway_cached && !billed) {
            return Err(self.cache_hit());
        }
        self.read_record()
    }

    /// A LiteLLM cache hit: not a call, but evidence for the caching
    /// findings (the call it answered, when the line reads as one).
    #[cold]
    #[inline(never)]
    fn cache_hit(self) -> Reject {
        let evidence = self
            .read_record()
            .ok()
            .map(|r| Box::new(r.owned_without_text()));
        Reject {
            evidence,
            ..Reject::new(
                RejectReason::NotACall,
                "cache_hit: answered from the gateway's own cache (LiteLLM's cache_hit, Portkey's cache_status, Cloudflare's cached, or a mapped cache_hit), not billed by the provider",
            )
        }
    }

    /// Inlined: a record returned through one more call is copied (~600
    /// bytes a line).
    #[inline(always)]
    fn read_record(mut self) -> Result<CallRecord<'a>, Reject> {
        let mut p = Problems::default();
        let status_text = p.take(&self.status.0, "status");
        let mut status = status_text.as_deref().and_then(CallStatus::parse);
        // A response not finished yet (OpenAI's background responses,
        // polled: `queued`, `in_progress`): no call until its final object.
        // (Unless the line says it failed: an HTTP error, an error field.)
        let pending = status_text
            .as_deref()
            .filter(|t| {
                status.is_none()
                    && ["queued", "in_progress", "in progress", "pending", "running"]
                        .iter()
                        .any(|w| t.trim().eq_ignore_ascii_case(w))
            })
            .map(|t| t.trim().to_string());
        if status.is_none() && status_text.is_some() && pending.is_none() {
            // A word no product uses for an outcome (`"status": "fast"`):
            // read without it, the call's outcome then from its HTTP code.
            p.unread("status");
        }
        if status_text.is_none() {
            status = self.status_word.as_deref().and_then(word_status);
        }
        if status.is_none() && self.unsuccessful && pending.is_none() {
            status = Some(CallStatus::Error);
        }
        let http_status = p
            .int(&self.http_status.0, "http_status")
            .and_then(|c| u16::try_from(c).ok());
        // AI SDK 5 passes Anthropic's and Bedrock's input on as they count
        // it, without the cache (its usage says so only by these names).
        let lower = |v: &LStr<'a>| match &v.0 {
            Lenient::Value(t) => t.to_ascii_lowercase(),
            _ => String::new(),
        };
        // The provider decides when it is named (a Claude model behind the
        // AI SDK's OpenAI provider, a proxy's, is counted OpenAI's way:
        // hunt52); the model only when no provider says.
        let leaves_cache_out = (self.usage.ai_sdk && !self.usage.ai_sdk_v6) && {
            let provider = lower(&self.provider);
            if provider.is_empty() {
                let model = lower(&self.model);
                model.starts_with("claude")
                    || model.contains("anthropic.")
                    || model.contains("amazon.")
            } else {
                ["anthropic", "bedrock", "amazon"]
                    .iter()
                    .any(|p| provider.contains(p))
            }
        };
        // (Only a total asks: the names are not searched on every line.)
        let total_logged = matches!(self.usage.total_tokens, Lenient::Value(_));
        let names = [
            &self.model,
            &self.served_model,
            &self.request_model,
            &self.model_group,
        ];
        let gemini = total_logged
            && names
                .iter()
                .any(|m| matches!(&m.0, Lenient::Value(t) if is_gemini(t)));
        // A Gemini model's OpenAI-style usage may hold its thoughts in the
        // total only: asked only when the total is there and no reasoning.
        // LiteLLM's usage (its records name a `model_group`) counts them in
        // `completion_tokens`, with `reasoning_tokens` when there are any,
        // since its fix of May 2025 (a7db0df0; before, in the total only:
        // hunt153): the rest of its total is a built-in tool's prompt
        // (hunt147's bug3: 30,000 tokens of URL context priced as thoughts,
        // 7.6×).
        // (And a model that does not think, Gemini 2.0 and before, has a
        // tool's prompt there: hunt155.)
        let litellm = self.model_group.0.is_present()
            && matches!(&self.timestamp.0, Lenient::Value(t) if *t >= LITELLM_THOUGHTS_IN_COMPLETION);
        let thoughts_in_total = gemini
            && !self.usage.reasoning_tokens.is_present()
            && !litellm
            // The first name with a version says (an alias does not
            // override the model's).
            && names
                .iter()
                .find_map(|m| match &m.0 {
                    Lenient::Value(t) => gemini_thinks(t),
                    _ => None,
                })
                .unwrap_or(false);
        let how = crate::record::fields::Convention {
            input_leaves_cache_out: leaves_cache_out,
            thoughts_in_total,
            gemini,
        };
        // An embedding's usage with its total alone (Voyage AI's
        // `{"total_tokens": 8}`): the total is its input, an embedding
        // having no output (hunt132: rejected as no usage).
        // (Beside an output count of its own, the total less it: an
        // embedding's `completion_tokens: 0`, hunt137.)
        let input_counted = [
            &self.usage.prompt_tokens,
            &self.usage.input_tokens,
            &self.usage.prompt_token_count,
        ]
        .iter()
        .any(|c| c.is_present());
        if let (false, Lenient::Value(total)) = (input_counted, &self.usage.total_tokens) {
            let embedding = [&self.model, &self.served_model, &self.request_model]
                .iter()
                .any(|m| matches!(&m.0, Lenient::Value(t) if is_embedding(t)));
            // (A total alone is an embedding's input; another model's
            // holds an output no count tells apart.)
            let output = match (&self.usage.completion_tokens, &self.usage.output_tokens) {
                (Lenient::Value(n), _) | (_, Lenient::Value(n)) => Some(*n),
                (Lenient::Missing, Lenient::Missing) if embedding => Some(0),
                _ => None,
            };
            // Another model's total less its output, when nothing else can
            // be in it: no reasoning, cache or Gemini thoughts logged
            // (hunt137: `{"total_tokens": N, "completion_tokens": 0}` was
            // $0, said nowhere).
            // (xAI's total holds reasoning its completion count leaves out,
            // logged or not: hunt138.)
            let xai = [&self.model, &self.served_model, &self.request_model]
                .iter()
                .any(|m| matches!(&m.0, Lenient::Value(t) if t.to_ascii_lowercase().contains("grok")));
            let plain = !thoughts_in_total
                && !xai
                && !self.usage.reasoning_tokens.is_present()
                && !self.usage.cached_read_logged()
                && !self.usage.cache_creation_input_tokens.is_present();
            if let (true, Some(output)) = (embedding || plain, output) {
                self.usage.prompt_tokens = Lenient::Value(total.saturating_sub(output));
                // From where the total is: a total of the line's own keys
                // gives a count of them, which a usage object replaces
                // whole (or its output, read there too, was dropped).
                if self.usage.top_keys & (1 << 15) != 0 {
                    self.usage.top_keys |= 1;
                }
            }
        }
        let cached_read_logged = self.usage.cached_read_logged();
        let usage = self.usage.normalise_for(&mut p, how).map(|mut u| {
            if u.web_searches == 0 {
                u.web_searches = self.web_search_calls;
            }
            u
        });
        // A streaming chunk or event: whether it carries a token total
        // (read here, before the usage moves into the record).
        // A Gemini response without a `finishReason` is a streamed
        // response's chunk (hunt117: each chunk of a stream was a call).
        // With its `responseId` and the counts so far it is kept as a
        // stream's chunk, one per stream, so that a stream cut before its
        // end is still its call (hunt119); without counts (Vertex's chunks
        // before the last carry `trafficType` alone), or with candidates
        // but no id to tell its stream by, it is no call. A finished one
        // with its id is kept with the chunks once a worker has seen a
        // stream (`CallRecord::gemini_response`).
        let gemini = self.usage.is_gemini();
        let unfinished = matches!(self.finish_reason.0, Lenient::Missing);
        let gemini_id = gemini && matches!(self.request_id.0, Lenient::Value(_));
        let gemini_chunk =
            gemini && unfinished && (usage.is_none() || (!gemini_id && self.choices));
        let gemini_stream = gemini_id && unfinished && usage.is_some();
        let stream_total = self
            .stream_event
            .then_some(matches!(self.usage.total_tokens, Lenient::Value(n) if n > 0));
        let ms = |p: &mut Problems, v: &LNum, field: &'static str| -> Option<u64> {
            match v.0 {
                Lenient::Value(f) => Some(f.round() as u64),
                Lenient::Missing => None,
                _ => {
                    p.unread(field);
                    None
                }
            }
        };
        let latency_ms = ms(&mut p, &self.latency_ms, "latency_ms");
        let ttft_ms = ms(&mut p, &self.ttft_ms, "ttft_ms");
        // The line's own service_tier, else the usage object's, else a
        // logged pair's request's (what was asked for; the response says
        // what was served).
        let usage_tier;
        let tier = match (&self.service_tier.0, self.usage.tier) {
            (Lenient::Missing, Some(t)) => {
                usage_tier = Lenient::Value(Cow::Borrowed(t));
                &usage_tier
            }
            (Lenient::Missing, None) => &self.request_service_tier.0,
            (t, _) => t,
        };
        let batch = p
            .take(&self.batch.0, "batch")
            .or_else(|| match tier {
                Lenient::Value(t) if t.trim().eq_ignore_ascii_case("batch") => Some(true),
                _ => None,
            })
            // LiteLLM's managed batches log the batch's cost as one row of
            // its spend logs, `<batch id>_batch_cost` (its docs' "Spend log
            // fields"; `call_type: aretrieve_batch`): at batch rates, as its
            // `spend` is (hunt142's bug2: at real-time rates, twice).
            .or_else(|| match &self.request_id.0 {
                Lenient::Value(id) if id.ends_with("_batch_cost") => Some(true),
                _ => None,
            });
        let service_tier = match tier {
            Lenient::Value(t) => ServiceTier::parse(t),
            Lenient::Missing => None,
            _ => {
                p.unread("service_tier");
                None
            }
        };
        let timestamp = match self.timestamp.0 {
            Lenient::Value(t) => Some(t),
            Lenient::Missing => {
                if self.early_time {
                    p.unread("timestamp");
                }
                None
            }
            _ => {
                p.add(
                    RejectReason::BadTimestamp,
                    "timestamp (read: RFC 3339, YYYY-MM-DD HH:MM[:SS] with an optional offset, epoch s/ms/µs/ns; \
                     other spellings with timestamp_format in a [mapping], e.g. \"%m/%d/%Y %H:%M\")",
                );
                None
            }
        };
        // The line's model, else its response's, else its request's. A
        // response naming another model offers it to the sink, which
        // prices the call as either (`CallRecord::served_model`).
        // A blank model (LiteLLM's spend logs' `model` defaults to "") is
        // none; so is a deployment's id (LiteLLM's `model_id`, a hex digest
        // or UUID) while the request or LiteLLM's `model_group` names the
        // model (else it stays: an unknown model, listed).
        let named = |v: &Lenient<Cow<'a, str>>| matches!(v, Lenient::Value(m) if !m.trim().is_empty() && !is_deployment_id(m));
        let fallback = named(&self.request_model.0) || named(&self.model_group.0);
        let own_model = match self.model.0 {
            Lenient::Value(m) if m.trim().is_empty() => Lenient::Missing,
            Lenient::Value(m) if fallback && is_deployment_id(&m) => Lenient::Missing,
            m => m,
        };
        let request_model = match self.request_model.0 {
            m if named(&m) || !named(&self.model_group.0) => m,
            _ => self.model_group.0,
        };
        let served = match self.served_model.0 {
            Lenient::Value(m) if fallback && is_deployment_id(&m) => Lenient::Missing,
            m => m,
        };
        let (model, served_model) = match (own_model, served) {
            (Lenient::Value(m), Lenient::Value(s)) if !m.trim().is_empty() => {
                let other = !s.trim().is_empty() && !m.trim().eq_ignore_ascii_case(s.trim());
                (Lenient::Value(m), other.then_some(s))
            }
            (Lenient::Value(m), Lenient::Missing) => (Lenient::Value(m), None),
            (_, s @ Lenient::Value(_)) => (s, None),
            (Lenient::Missing, Lenient::Missing) => (request_model, None),
            (Lenient::Missing, s) => (s, None),
            (m, _) => (m, None),
        };
        let record = CallRecord {
            timestamp,
            request_id: p.own(self.request_id.0, "request_id"),
            // One provider, one name: `OpenAI` (OpenTelemetry's
            // gen_ai.system) and `openai` are the same row of the report.
            provider: p
                .own(self.provider.0, "provider")
                .map(|v| {
                    if v.bytes().any(|b| b.is_ascii_uppercase()) {
                        Cow::Owned(v.to_ascii_lowercase())
                    } else {
                        v
                    }
                })
                .or(self.host.map(Cow::Borrowed)),
            // A logged pair's response's model, then its request's, only
            // when the line names none.
            model: match model {
                Lenient::Value(m) => m,
                Lenient::Missing => Cow::Borrowed(""),
                _ => {
                    p.add(RejectReason::WrongType, "model");
                    Cow::Borrowed("")
                }
            },
            served_model,
            feature: p.own(self.feature.0, "feature"),
            route: p.own(self.route.0, "route"),
            team: p.own(self.team.0, "team"),
            user: p.own(self.user.0, "user"),
            session: p.own(self.session.0, "session"),
            turn: p
                .int(&self.turn.0, "turn")
                .and_then(|v| u32::try_from(v).ok()),
            status,
            error_kind: p.own(self.error_kind.0, "error"),
            http_status,
            attempt: p
                .int(&self.attempt.0, "attempt")
                .and_then(|v| u32::try_from(v).ok()),
            retry_of: p.own(self.retry_of.0, "retry_of"),
            usage: Default::default(),
            cached_read_logged,
            latency_ms,
            ttft_ms,
            batch,
            service_tier,
            us_only: self.usage.us_only,
            finish_reason: p.own(self.finish_reason.0, "finish_reason"),
            max_tokens: p
                .int(&self.max_tokens.0, "max_tokens")
                .and_then(crate::record::fields::output_limit),
            prompt_fp: p
                .own(self.prompt_hash.0, "prompt_hash")
                .map(|h| fingerprint(&h))
                .or(self
                    .prompt_text_fp
                    .map(|fp| match (self.system_raw, self.prefix_text_fp) {
                        // A system prompt (or instructions) beside the messages
                        // is part of what was asked: a customer's own account
                        // data there makes "what is my balance?" another
                        // prompt.
                        (Some(_), Some(system)) => {
                            xxh3_64(&[fp.to_le_bytes(), system.to_le_bytes()].concat())
                        }
                        _ => fp,
                    })
                    // The conversation a stateful request goes on: a
                    // response it follows, or a conversation's id, whose
                    // every turn has another history (told by its input's
                    // size: hunt158).
                    .map(|fp| match self.continues {
                        Some((c, true)) => {
                            let input = usage.as_ref().map_or(0, |u| u.input);
                            xxh3_64(
                                &[fp.to_le_bytes(), c.to_le_bytes(), input.to_le_bytes()].concat(),
                            )
                        }
                        Some((c, false)) => xxh3_64(&[fp.to_le_bytes(), c.to_le_bytes()].concat()),
                        None => fp,
                    })),
            prefix_fp: p
                .own(self.prefix_hash.0, "system_prompt_hash")
                .map(|h| fingerprint(&h))
                .or(self.prefix_text_fp),
            // A size, not a billed count: read as any optional integer.
            prefix_tokens: p
                .int(&self.prefix_tokens.0, "system_prompt_tokens")
                .filter(|&t| t <= crate::record::fields::MAX_TOKENS),
            // A BYOK call's provider charge is added to OpenRouter's own
            // cost (its usage's `cost`, or a generation record's), not to an
            // app's or a gateway's cost beside a usage that has its own
            // (hunt134: LiteLLM's `spend`, which holds both, doubled).
            logged_cost: match (
                p.own(self.cost.0, "cost")
                    .map(|m| match self.cost_in_cents {
                        true => tokenaudit_core::Money::from_picos(m.picos() / 100),
                        false => m,
                    }),
                &self.usage.cost,
            ) {
                // (An app's copy of OpenRouter's fee is the fee: hunt138.)
                (Some(own), Lenient::Value(fee)) if own == *fee => {
                    Some(self.usage.with_upstream(own))
                }
                (Some(own), Lenient::Value(_)) => Some(own),
                (Some(own), _) => Some(self.usage.with_upstream(own)),
                (None, Lenient::Value(m)) => Some(self.usage.with_upstream(*m)),
                (None, _) => None,
            },
            prompt_text: self.prompt_text,
            prompt_raw: self.prompt_raw,
            system_raw: self.system_raw,
            user_messages: self.user_messages,
            prefix_chars: self.prefix_chars,
            minhash: None,
            tags: self.tags,
            unread_field: None,
            stream_chunk: stream_total.is_some() || gemini_stream,
            stream_created: self.created,
            gemini_response: gemini_id,
            usage_missing: false,
        };
        // A chunk or event without usage is no call, unless it failed (a
        // failed stream's last event is a failed call, as any other) or
        // carries a logged cost or a token total (a call's, whatever its
        // kind says).
        if (stream_total == Some(false) || self.event_only)
            && usage.is_none()
            && record.logged_cost.is_none_or(|m| m.picos() == 0)
            && record.effective_status() == CallStatus::Ok
        {
            // A stream's last chunk (its finish reason) stands for its call
            // until a chunk of its stream with usage replaces it (the usage
            // chunk `include_usage` adds after it); alone, the pipeline
            // says the call's usage is missing.
            if !self.event_only && record.finish_reason.is_some() && record.request_id.is_some() {
                let mut record = record;
                record.stream_chunk = true;
                record.usage_missing = true;
                return finish(record, Some(Usage::default()), p);
            }
            return Err(Reject::new(
                RejectReason::NotACall,
                "a streaming chunk or event without usage: the stream's last chunk (or its response.completed event) carries the call's tokens",
            ));
        }
        if gemini_chunk
            && record.effective_status() == CallStatus::Ok
            && record.logged_cost.is_none_or(|m| m.picos() == 0)
        {
            return Err(Reject::new(
                RejectReason::NotACall,
                "a Gemini stream's chunk before its last (its candidates have no finishReason): the last chunk carries the call's usage",
            ));
        }
        if let (Some(word), None) = (&pending, &usage) {
            if record.effective_status() == CallStatus::Ok {
                return Err(Reject::new(
                    RejectReason::NotACall,
                    format!(
                        "status {word:?}: a response not finished yet, with no usage (its final object is the call)"
                    ),
                ));
            }
        }
        finish(record, usage, p)
    }
}

/// Whether a logged model name is a Gemini model's (`gemini-2.5-flash`,
/// `google/gemini-2.5-pro`, `vertex_ai/gemini-…`), in any case.
/// Whether a model name is an embedding model's (`text-embedding-3-small`,
/// `voyage-3`, `embed-english-v3.0`, `amazon.titan-embed-text-v2:0`),
/// not a reranker's.
pub(crate) fn is_embedding(model: &str) -> bool {
    let m = model.to_ascii_lowercase();
    let m = m.rsplit('/').next().unwrap_or(&m);
    (m.contains("embed") || m.starts_with("voyage-")) && !m.contains("rerank")
}

/// The day LiteLLM began counting Gemini's thoughts in `completion_tokens`
/// (its `_calculate_usage` after a7db0df0, 2025-05-07; before, in the
/// total only, as Gemini's OpenAI-compatible API does).
const LITELLM_THOUGHTS_IN_COMPLETION: chrono::DateTime<chrono::Utc> =
    chrono::DateTime::from_timestamp_nanos(1_746_662_400_000_000_000);

pub(crate) fn is_gemini(model: &str) -> bool {
    crate::record::tags::contains_ignore_ascii_case(model, "gemini")
}

/// Whether a Gemini model thinks, when its name says: 2.5 and later, a
/// `-thinking` model or a `-latest` alias do, 1.x and 2.0 do not; `None`
/// for a name without a version (an alias: `gemini-pro`, a router's
/// `gemini-flash`). The last segment of a prefixed name is read
/// (`gemini/gemini-2.0-flash`, `@gemini/…`, `gemini:…`: hunt157).
pub(crate) fn gemini_thinks(model: &str) -> Option<bool> {
    let m = model.to_ascii_lowercase();
    // The last path segment, without a `:variant` or `:method` (hunt158:
    // `models/gemini-2.5-pro:generateContent`, `google/…:nitro`).
    let name = m.rsplit('/').next().unwrap_or(&m);
    let name = name
        .split(':')
        .rfind(|part| part.contains("gemini"))
        .unwrap_or(name);
    let at = name.find("gemini")?;
    if name.contains("thinking") {
        return Some(true);
    }
    // The first number of one or two digits after it is the major version
    // (`gemini-live-2.5-flash`, `gemini-3-pro`; `gemini-exp-1206` has none).
    let rest = &name[at + "gemini".len()..];
    let bytes = rest.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            if i - start <= 2 {
                let major: u32 = rest[start..i].parse().unwrap_or(0);
                let minor = (bytes.get(i) == Some(&b'.'))
                    .then(|| {
                        bytes
                            .get(i + 1)
                            .filter(|b| b.is_ascii_digit())
                            .map(|b| u32::from(b - b'0'))
                    })
                    .flatten();
                return Some(major >= 3 || (major == 2 && minor.is_some_and(|n| n >= 5)));
            }
        } else {
            i += 1;
        }
    }
    name.contains("latest").then_some(true)
}

/// Whether a model value is a deployment's id, not a model's name: 32 or
/// 64 hex digits, or a UUID (LiteLLM's `model_id` is its `model_info.id`).
fn is_deployment_id(t: &str) -> bool {
    let t = t.trim();
    let hex = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit());
    let uuid =
        t.len() == 36 && t.split('-').map(str::len).eq([8, 4, 4, 4, 12]) && t.split('-').all(hex);
    uuid || (matches!(t.len(), 32 | 64) && hex(t))
}

/// The outcome a word under an HTTP status key says, if any: a status
/// word (`OK`, `ERROR`, with OpenTelemetry's `STATUS_CODE_` or Python's
/// `StatusCode.` before it), or the name of an error (`Internal Server
/// Error`, gRPC's `DEADLINE_EXCEEDED`). `UNSET`, an empty value's spelling
/// (`NULL`, `None`, `nan`) and any other word say nothing: the outcome is
/// then the line's error fields' and its code's.
pub(crate) fn word_status(word: &str) -> Option<CallStatus> {
    let w = word.trim();
    let w = ["STATUS_CODE_", "status_code_", "StatusCode."]
        .iter()
        .find_map(|p| w.strip_prefix(p))
        .unwrap_or(w);
    if let Some(s) = CallStatus::parse(w) {
        return Some(s);
    }
    let l = w.to_ascii_lowercase();
    const ERRORS: [&str; 17] = [
        "error",
        "exceeded",
        "exhausted",
        "unavailable",
        "denied",
        "unauthenticated",
        "unauthorized",
        "forbidden",
        "invalid",
        "not found",
        "not_found",
        "too many",
        "timeout",
        "internal",
        "unimplemented",
        "bad request",
        "bad gateway",
    ];
    ERRORS
        .iter()
        .any(|e| l.contains(e))
        .then_some(CallStatus::Error)
}

#[cfg(test)]
mod tests {
    use super::{gemini_thinks, is_no_prompt};

    #[test]
    fn no_prompt_as_json_text_is_no_prompt() {
        for raw in ["null", "{}", " [] ", "\"\"", "\"{}\"", "\"[]\"", "\"null\""] {
            assert!(is_no_prompt(raw), "{raw}");
        }
        for raw in [
            "\"hi\"",
            "[{\"role\":\"user\",\"content\":\"hi\"}]",
            "\"[1]\"",
        ] {
            assert!(!is_no_prompt(raw), "{raw}");
        }
    }

    #[test]
    fn which_gemini_models_think() {
        for m in [
            "gemini-2.5-flash",
            "gemini/gemini-2.5-pro",
            "gemini-3-pro-preview",
            "gemini-3.5-flash",
            "gemini-2.0-flash-thinking-exp",
            "gemini-flash-latest",
        ] {
            assert_eq!(gemini_thinks(m), Some(true), "{m}");
        }
        for m in [
            "gemini-2.0-flash",
            "gemini-1.5-pro-002",
            "vertex_ai/gemini-2.0-flash-lite",
            "gemini/gemini-2.0-flash",
            "@gemini/gemini-2.0-flash",
            "gemini:gemini-2.0-flash",
        ] {
            assert_eq!(gemini_thinks(m), Some(false), "{m}");
        }
        for m in [
            "models/gemini-2.5-pro:generateContent",
            "google/gemini-2.5-pro:nitro",
            "gemini-live-2.5-flash-preview",
        ] {
            assert_eq!(gemini_thinks(m), Some(true), "{m}");
        }
        for m in ["gemini-pro", "gemini-flash", "gemini-exp-1206", "gpt-4o"] {
            assert_eq!(gemini_thinks(m), None, "{m}");
        }
    }
}
