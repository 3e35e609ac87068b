//! The row schema of `calls/`: one row per call, every canonical field of
//! [`CallRecord`], the model as logged and as resolved, the exact cost, the
//! inputs the detectors need (fingerprints, the MinHash signature) and where
//! the call was read. `docs/store.md` documents each column.
//!
//! Rows convert both ways: [`RowsBuilder`] appends records to Arrow
//! builders, [`Rows`] reads a batch back into records that borrow their
//! strings from the batch, so reading the store allocates little per call.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use arrow_array::builder::{
    ArrayBuilder, BooleanBuilder, Decimal128Builder, FixedSizeBinaryBuilder, StringBuilder,
    TimestampNanosecondBuilder, UInt16Builder, UInt32Builder, UInt64Builder,
};
use arrow_array::types::Int32Type;
use arrow_array::{
    Array, ArrayRef, BooleanArray, Decimal128Array, DictionaryArray, FixedSizeBinaryArray,
    Int32Array, ListArray, RecordBatch, StringArray, StructArray, TimestampNanosecondArray,
    UInt16Array, UInt32Array, UInt64Array,
};
use arrow_buffer::{NullBuffer, OffsetBuffer};
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use chrono::DateTime;

use tokenaudit_core::{CallRecord, CallStatus, MinHash, Money, ServiceTier, Usage, MINHASH_LEN};

/// Money columns: exactly the pico-dollars (`Decimal128(38, 12)`).
pub const MONEY: DataType = DataType::Decimal128(38, 12);

/// Every column, in order. The names are the store's public schema.
pub mod col {
    pub const TS: &str = "ts";
    pub const REQUEST_ID: &str = "request_id";
    pub const PROVIDER: &str = "provider";
    pub const MODEL: &str = "model";
    pub const MODEL_ID: &str = "model_id";
    pub const FEATURE: &str = "feature";
    pub const ROUTE: &str = "route";
    pub const TEAM: &str = "team";
    pub const USER: &str = "user";
    pub const SESSION: &str = "session";
    pub const TURN: &str = "turn";
    pub const STATUS: &str = "status";
    pub const ERROR_KIND: &str = "error_kind";
    pub const HTTP_STATUS: &str = "http_status";
    pub const ATTEMPT: &str = "attempt";
    pub const RETRY_OF: &str = "retry_of";
    pub const INPUT: &str = "input_tokens";
    pub const CACHED_READ: &str = "cached_read_tokens";
    pub const CACHE_WRITE: &str = "cache_write_tokens";
    pub const CACHE_WRITE_1H: &str = "cache_write_1h_tokens";
    pub const OUTPUT: &str = "output_tokens";
    pub const REASONING: &str = "reasoning_tokens";
    pub const INPUT_AUDIO: &str = "input_audio_tokens";
    pub const CACHED_AUDIO: &str = "cached_audio_tokens";
    pub const OUTPUT_AUDIO: &str = "output_audio_tokens";
    pub const WEB_SEARCHES: &str = "web_searches";
    pub const LATENCY: &str = "latency_ms";
    pub const TTFT: &str = "ttft_ms";
    pub const BATCH: &str = "batch";
    /// Whether the usage gave a cached-read count, zero included (null in
    /// parts written before it was kept: a count above zero then says so).
    pub const CACHED_READ_LOGGED: &str = "cached_read_logged";
    pub const SERVICE_TIER: &str = "service_tier";
    /// US-only inference (Anthropic's `inference_geo: "us"`; null in parts
    /// written before it was kept: global).
    pub const US_ONLY: &str = "us_only";
    pub const FINISH_REASON: &str = "finish_reason";
    pub const MAX_TOKENS: &str = "max_tokens";
    pub const PROMPT_FP: &str = "prompt_fp";
    pub const PREFIX_FP: &str = "prefix_fp";
    pub const PREFIX_TOKENS: &str = "prefix_tokens";
    pub const PREFIX_CHARS: &str = "prefix_chars";
    pub const USER_MESSAGES: &str = "user_messages";
    pub const LOGGED_COST: &str = "logged_cost_usd";
    pub const COST: &str = "cost_usd";
    pub const MINHASH: &str = "minhash_oph";
    pub const PROMPT_TEXT: &str = "prompt_text";
    pub const PROMPT_RAW: &str = "prompt_raw";
    pub const SYSTEM_RAW: &str = "system_raw";
    pub const TAGS: &str = "tags";
    pub const SOURCE: &str = "source";
    pub const LINE: &str = "line";
}

/// The columns a reader needs only with `--include-prompts`.
pub const PROMPT_COLUMNS: [&str; 3] = [col::PROMPT_TEXT, col::PROMPT_RAW, col::SYSTEM_RAW];

fn tag_fields() -> Fields {
    Fields::from(vec![
        Field::new("key", DataType::Utf8, false),
        Field::new("value", DataType::Utf8, false),
    ])
}

fn tags_item() -> Arc<Field> {
    Arc::new(Field::new("item", DataType::Struct(tag_fields()), false))
}

/// The schema of every part.
pub fn schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            use col::*;
            let s = |n: &str| Field::new(n, DataType::Utf8, true);
            let u64f = |n: &str, null| Field::new(n, DataType::UInt64, null);
            Arc::new(Schema::new(vec![
                Field::new(
                    TS,
                    DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
                    true,
                ),
                s(REQUEST_ID),
                s(PROVIDER),
                Field::new(MODEL, DataType::Utf8, false),
                s(MODEL_ID),
                s(FEATURE),
                s(ROUTE),
                s(TEAM),
                s(USER),
                s(SESSION),
                Field::new(TURN, DataType::UInt32, true),
                s(STATUS),
                s(ERROR_KIND),
                Field::new(HTTP_STATUS, DataType::UInt16, true),
                Field::new(ATTEMPT, DataType::UInt32, true),
                s(RETRY_OF),
                u64f(INPUT, false),
                u64f(CACHED_READ, false),
                u64f(CACHE_WRITE, false),
                u64f(CACHE_WRITE_1H, false),
                u64f(OUTPUT, false),
                u64f(REASONING, false),
                u64f(INPUT_AUDIO, false),
                u64f(CACHED_AUDIO, false),
                u64f(OUTPUT_AUDIO, false),
                u64f(WEB_SEARCHES, false),
                u64f(LATENCY, true),
                u64f(TTFT, true),
                Field::new(BATCH, DataType::Boolean, true),
                Field::new(CACHED_READ_LOGGED, DataType::Boolean, true),
                s(SERVICE_TIER),
                Field::new(US_ONLY, DataType::Boolean, true),
                s(FINISH_REASON),
                Field::new(MAX_TOKENS, DataType::UInt32, true),
                u64f(PROMPT_FP, true),
                u64f(PREFIX_FP, true),
                u64f(PREFIX_TOKENS, true),
                u64f(PREFIX_CHARS, true),
                Field::new(USER_MESSAGES, DataType::UInt32, true),
                Field::new(LOGGED_COST, MONEY, true),
                Field::new(COST, MONEY, true),
                Field::new(
                    MINHASH,
                    DataType::FixedSizeBinary(4 * MINHASH_LEN as i32),
                    true,
                ),
                s(PROMPT_TEXT),
                s(PROMPT_RAW),
                s(SYSTEM_RAW),
                Field::new(TAGS, DataType::List(tags_item()), false),
                Field::new(SOURCE, DataType::Utf8, false),
                u64f(LINE, false),
            ]))
        })
        .clone()
}

/// A record's place and the figures the store adds to it.
pub struct Extra<'a> {
    /// The catalog's id of the model (`provider/model`), when it resolved.
    pub model_id: Option<&'a str>,
    pub cost: Option<Money>,
    pub minhash: Option<MinHash>,
    pub source: &'a str,
    pub line: u64,
    /// Keep the prompt text columns (`--include-prompts`).
    pub prompts: bool,
}

/// Appends records column by column.
pub struct RowsBuilder {
    ts: TimestampNanosecondBuilder,
    strings: [StringBuilder; 18],
    turn: UInt32Builder,
    http_status: UInt16Builder,
    attempt: UInt32Builder,
    tokens: [UInt64Builder; 10],
    latency: UInt64Builder,
    ttft: UInt64Builder,
    batch: BooleanBuilder,
    cached_read_logged: BooleanBuilder,
    us_only: BooleanBuilder,
    max_tokens: UInt32Builder,
    fps: [UInt64Builder; 3],
    prefix_chars: UInt64Builder,
    user_messages: UInt32Builder,
    logged_cost: Decimal128Builder,
    cost: Decimal128Builder,
    minhash: FixedSizeBinaryBuilder,
    tag_offsets: Vec<i32>,
    tag_keys: StringBuilder,
    tag_values: StringBuilder,
    line: UInt64Builder,
    len: usize,
}

// Positions in `RowsBuilder::strings`.
const S_REQUEST_ID: usize = 0;
const S_PROVIDER: usize = 1;
const S_MODEL: usize = 2;
const S_MODEL_ID: usize = 3;
const S_FEATURE: usize = 4;
const S_ROUTE: usize = 5;
const S_TEAM: usize = 6;
const S_USER: usize = 7;
const S_SESSION: usize = 8;
const S_STATUS: usize = 9;
const S_ERROR_KIND: usize = 10;
const S_RETRY_OF: usize = 11;
const S_FINISH_REASON: usize = 12;
const S_PROMPT_TEXT: usize = 13;
const S_PROMPT_RAW: usize = 14;
const S_SYSTEM_RAW: usize = 15;
const S_SOURCE: usize = 16;
const S_SERVICE_TIER: usize = 17;

impl Default for RowsBuilder {
    fn default() -> Self {
        RowsBuilder {
            ts: TimestampNanosecondBuilder::new().with_timezone("UTC"),
            strings: std::array::from_fn(|_| StringBuilder::new()),
            turn: UInt32Builder::new(),
            http_status: UInt16Builder::new(),
            attempt: UInt32Builder::new(),
            tokens: std::array::from_fn(|_| UInt64Builder::new()),
            latency: UInt64Builder::new(),
            ttft: UInt64Builder::new(),
            batch: BooleanBuilder::new(),
            cached_read_logged: BooleanBuilder::new(),
            us_only: BooleanBuilder::new(),
            max_tokens: UInt32Builder::new(),
            fps: std::array::from_fn(|_| UInt64Builder::new()),
            prefix_chars: UInt64Builder::new(),
            user_messages: UInt32Builder::new(),
            logged_cost: Decimal128Builder::new().with_data_type(MONEY),
            cost: Decimal128Builder::new().with_data_type(MONEY),
            minhash: FixedSizeBinaryBuilder::new(4 * MINHASH_LEN as i32),
            tag_offsets: vec![0],
            tag_keys: StringBuilder::new(),
            tag_values: StringBuilder::new(),
            line: UInt64Builder::new(),
            len: 0,
        }
    }
}

fn money(m: Option<Money>) -> Option<i128> {
    m.map(Money::picos)
}

impl RowsBuilder {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn push(&mut self, r: &CallRecord<'_>, x: &Extra<'_>) {
        self.ts.append_option(
            r.timestamp
                .map(|t| t.timestamp_nanos_opt().unwrap_or(i64::MAX)),
        );
        let s = &mut self.strings;
        s[S_REQUEST_ID].append_option(r.request_id.as_deref());
        s[S_PROVIDER].append_option(r.provider.as_deref());
        s[S_MODEL].append_value(&r.model);
        s[S_MODEL_ID].append_option(x.model_id);
        s[S_FEATURE].append_option(r.feature.as_deref());
        s[S_ROUTE].append_option(r.route.as_deref());
        s[S_TEAM].append_option(r.team.as_deref());
        s[S_USER].append_option(r.user.as_deref());
        s[S_SESSION].append_option(r.session.as_deref());
        s[S_STATUS].append_option(r.status.map(CallStatus::as_str));
        s[S_ERROR_KIND].append_option(r.error_kind.as_deref());
        s[S_RETRY_OF].append_option(r.retry_of.as_deref());
        s[S_FINISH_REASON].append_option(r.finish_reason.as_deref());
        let (text, raw, system) = if x.prompts {
            (r.prompt_text.as_deref(), r.prompt_raw, r.system_raw)
        } else {
            (None, None, None)
        };
        s[S_PROMPT_TEXT].append_option(text);
        s[S_PROMPT_RAW].append_option(raw);
        s[S_SYSTEM_RAW].append_option(system);
        s[S_SOURCE].append_value(x.source);
        self.turn.append_option(r.turn);
        self.http_status.append_option(r.http_status);
        self.attempt.append_option(r.attempt);
        let u = &r.usage;
        for (b, v) in self.tokens.iter_mut().zip([
            u.input,
            u.cached_read,
            u.cache_write,
            u.cache_write_1h,
            u.output,
            u.reasoning,
            u.input_audio,
            u.cached_audio,
            u.output_audio,
            u.web_searches,
        ]) {
            b.append_value(v);
        }
        self.latency.append_option(r.latency_ms);
        self.ttft.append_option(r.ttft_ms);
        self.batch.append_option(r.batch);
        self.cached_read_logged.append_value(r.cached_read_logged);
        self.strings[S_SERVICE_TIER].append_option(r.service_tier.map(ServiceTier::as_str));
        self.us_only.append_option(r.us_only.then_some(true));
        self.max_tokens.append_option(r.max_tokens);
        self.fps[0].append_option(r.prompt_fp);
        self.fps[1].append_option(r.prefix_fp);
        self.fps[2].append_option(r.prefix_tokens);
        self.prefix_chars.append_option(r.prefix_chars);
        self.user_messages.append_option(r.user_messages);
        self.logged_cost.append_option(money(r.logged_cost));
        self.cost.append_option(money(x.cost));
        match x.minhash.or(r.minhash) {
            Some(sig) => {
                let mut bytes = [0u8; 4 * MINHASH_LEN];
                for (chunk, v) in bytes.chunks_exact_mut(4).zip(sig) {
                    chunk.copy_from_slice(&v.to_le_bytes());
                }
                self.minhash
                    .append_value(bytes)
                    .expect("the signature has the column's width");
            }
            None => self.minhash.append_null(),
        }
        for (k, v) in &r.tags {
            self.tag_keys.append_value(k);
            self.tag_values.append_value(v);
        }
        self.tag_offsets.push(self.tag_keys.len() as i32);
        self.line.append_value(x.line);
        self.len += 1;
    }

    /// The rows appended so far as a batch; the builder is empty again.
    pub fn finish(&mut self) -> RecordBatch {
        let s = &mut self.strings;
        let mut st = |i: usize| -> ArrayRef { Arc::new(s[i].finish()) };
        let offsets = std::mem::replace(&mut self.tag_offsets, vec![0]);
        let tags = StructArray::new(
            tag_fields(),
            vec![
                Arc::new(self.tag_keys.finish()) as ArrayRef,
                Arc::new(self.tag_values.finish()),
            ],
            None,
        );
        let tags = ListArray::new(
            tags_item(),
            OffsetBuffer::new(offsets.into()),
            Arc::new(tags),
            None,
        );
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.ts.finish()),
            st(S_REQUEST_ID),
            st(S_PROVIDER),
            st(S_MODEL),
            st(S_MODEL_ID),
            st(S_FEATURE),
            st(S_ROUTE),
            st(S_TEAM),
            st(S_USER),
            st(S_SESSION),
            Arc::new(self.turn.finish()),
            st(S_STATUS),
            st(S_ERROR_KIND),
            Arc::new(self.http_status.finish()),
            Arc::new(self.attempt.finish()),
            st(S_RETRY_OF),
            Arc::new(self.tokens[0].finish()),
            Arc::new(self.tokens[1].finish()),
            Arc::new(self.tokens[2].finish()),
            Arc::new(self.tokens[3].finish()),
            Arc::new(self.tokens[4].finish()),
            Arc::new(self.tokens[5].finish()),
            Arc::new(self.tokens[6].finish()),
            Arc::new(self.tokens[7].finish()),
            Arc::new(self.tokens[8].finish()),
            Arc::new(self.tokens[9].finish()),
            Arc::new(self.latency.finish()),
            Arc::new(self.ttft.finish()),
            Arc::new(self.batch.finish()),
            Arc::new(self.cached_read_logged.finish()),
            st(S_SERVICE_TIER),
            Arc::new(self.us_only.finish()),
            st(S_FINISH_REASON),
            Arc::new(self.max_tokens.finish()),
            Arc::new(self.fps[0].finish()),
            Arc::new(self.fps[1].finish()),
            Arc::new(self.fps[2].finish()),
            Arc::new(self.prefix_chars.finish()),
            Arc::new(self.user_messages.finish()),
            Arc::new(self.logged_cost.finish()),
            Arc::new(self.cost.finish()),
            Arc::new(self.minhash.finish()),
            st(S_PROMPT_TEXT),
            st(S_PROMPT_RAW),
            st(S_SYSTEM_RAW),
            Arc::new(tags),
            st(S_SOURCE),
            Arc::new(self.line.finish()),
        ];
        self.len = 0;
        RecordBatch::try_new(schema(), columns).expect("the columns follow the schema")
    }
}

/// A batch read back: typed columns, and records built from them on demand.
/// Columns a reader did not project are absent and read as null.
/// A text column as read: its values, or (a label column read with its
/// dictionary) each row's key into the dictionary's values.
enum Strings {
    Plain(StringArray),
    Keyed(Int32Array, StringArray),
}

impl Strings {
    fn of(batch: &RecordBatch, name: &str) -> Option<Strings> {
        let c = batch.column_by_name(name)?;
        if let Some(a) = c.as_any().downcast_ref::<StringArray>() {
            return Some(Strings::Plain(a.clone()));
        }
        let d = c.as_any().downcast_ref::<DictionaryArray<Int32Type>>()?;
        let values = d.values().as_any().downcast_ref::<StringArray>()?;
        Some(Strings::Keyed(d.keys().clone(), values.clone()))
    }

    #[inline]
    fn at(&self, i: usize) -> Option<&str> {
        match self {
            Strings::Plain(a) => (!a.is_null(i)).then(|| a.value(i)),
            Strings::Keyed(keys, values) => {
                if keys.is_null(i) {
                    return None;
                }
                let k = keys.value(i) as usize;
                (k < values.len() && !values.is_null(k)).then(|| values.value(k))
            }
        }
    }
}

pub struct Rows {
    len: usize,
    ts: Option<TimestampNanosecondArray>,
    strings: [Option<Strings>; 18],
    turn: Option<UInt32Array>,
    http_status: Option<UInt16Array>,
    attempt: Option<UInt32Array>,
    tokens: [Option<UInt64Array>; 10],
    latency: Option<UInt64Array>,
    ttft: Option<UInt64Array>,
    batch: Option<BooleanArray>,
    cached_read_logged: Option<BooleanArray>,
    us_only: Option<BooleanArray>,
    max_tokens: Option<UInt32Array>,
    fps: [Option<UInt64Array>; 3],
    prefix_chars: Option<UInt64Array>,
    user_messages: Option<UInt32Array>,
    logged_cost: Option<Decimal128Array>,
    cost: Option<Decimal128Array>,
    minhash: Option<FixedSizeBinaryArray>,
    tags: Option<(
        OffsetBuffer<i32>,
        Option<NullBuffer>,
        StringArray,
        StringArray,
    )>,
    line: Option<UInt64Array>,
}

fn column<T: Array + Clone + 'static>(batch: &RecordBatch, name: &str) -> Option<T> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<T>().cloned())
}

#[inline]
fn string_at(a: &Option<Strings>, i: usize) -> Option<&str> {
    a.as_ref().and_then(|a| a.at(i))
}

fn value_at<T: arrow_array::ArrowPrimitiveType>(
    a: &Option<arrow_array::PrimitiveArray<T>>,
    i: usize,
) -> Option<T::Native> {
    a.as_ref().and_then(|a| (!a.is_null(i)).then(|| a.value(i)))
}

/// A boolean column's row `i`, false when null or absent.
fn value_at_bool(a: &Option<BooleanArray>, i: usize) -> bool {
    a.as_ref().is_some_and(|a| !a.is_null(i) && a.value(i))
}

impl Rows {
    pub fn new(batch: &RecordBatch) -> Rows {
        use col::*;
        let names = [
            REQUEST_ID,
            PROVIDER,
            MODEL,
            MODEL_ID,
            FEATURE,
            ROUTE,
            TEAM,
            USER,
            SESSION,
            STATUS,
            ERROR_KIND,
            RETRY_OF,
            FINISH_REASON,
            PROMPT_TEXT,
            PROMPT_RAW,
            SYSTEM_RAW,
            SOURCE,
            SERVICE_TIER,
        ];
        let tags = column::<ListArray>(batch, TAGS).and_then(|l| {
            let values = l.values().as_any().downcast_ref::<StructArray>()?.clone();
            let keys = values
                .column(0)
                .as_any()
                .downcast_ref::<StringArray>()?
                .clone();
            let vals = values
                .column(1)
                .as_any()
                .downcast_ref::<StringArray>()?
                .clone();
            Some((l.offsets().clone(), l.nulls().cloned(), keys, vals))
        });
        Rows {
            len: batch.num_rows(),
            ts: column(batch, TS),
            strings: names.map(|n| Strings::of(batch, n)),
            turn: column(batch, TURN),
            http_status: column(batch, HTTP_STATUS),
            attempt: column(batch, ATTEMPT),
            tokens: [
                INPUT,
                CACHED_READ,
                CACHE_WRITE,
                CACHE_WRITE_1H,
                OUTPUT,
                REASONING,
                INPUT_AUDIO,
                CACHED_AUDIO,
                OUTPUT_AUDIO,
                WEB_SEARCHES,
            ]
            .map(|n| column(batch, n)),
            latency: column(batch, LATENCY),
            ttft: column(batch, TTFT),
            batch: column(batch, BATCH),
            cached_read_logged: column(batch, CACHED_READ_LOGGED),
            us_only: column(batch, US_ONLY),
            max_tokens: column(batch, MAX_TOKENS),
            fps: [PROMPT_FP, PREFIX_FP, PREFIX_TOKENS].map(|n| column(batch, n)),
            prefix_chars: column(batch, PREFIX_CHARS),
            user_messages: column(batch, USER_MESSAGES),
            logged_cost: column(batch, LOGGED_COST),
            cost: column(batch, COST),
            minhash: column(batch, MINHASH),
            tags,
            line: column(batch, LINE),
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The key of the source row `i` was read from.
    pub fn source(&self, i: usize) -> &str {
        string_at(&self.strings[S_SOURCE], i).unwrap_or("")
    }

    pub fn request_id(&self, i: usize) -> Option<&str> {
        string_at(&self.strings[S_REQUEST_ID], i)
    }

    pub fn line(&self, i: usize) -> u64 {
        value_at(&self.line, i).unwrap_or(0)
    }

    /// The stored cost of row `i` (`None`: unpriced).
    pub fn cost(&self, i: usize) -> Option<Money> {
        self.cost
            .as_ref()
            .and_then(|a| (!a.is_null(i)).then(|| Money::from_picos(a.value(i))))
    }

    pub fn model_id(&self, i: usize) -> Option<&str> {
        string_at(&self.strings[S_MODEL_ID], i)
    }

    /// Row `i` as a record borrowing from the batch.
    pub fn record(&self, i: usize) -> CallRecord<'_> {
        let s = |k: usize| string_at(&self.strings[k], i).map(Cow::Borrowed);
        let tok = |k: usize| value_at(&self.tokens[k], i).unwrap_or(0);
        let mut tags = Vec::new();
        if let Some((offsets, nulls, keys, values)) = &self.tags {
            if nulls.as_ref().is_none_or(|n| n.is_valid(i)) {
                let (a, b) = (offsets[i] as usize, offsets[i + 1] as usize);
                tags.reserve(b - a);
                for j in a..b {
                    tags.push((Cow::Borrowed(keys.value(j)), Cow::Borrowed(values.value(j))));
                }
            }
        }
        CallRecord {
            timestamp: value_at(&self.ts, i).map(DateTime::from_timestamp_nanos),
            request_id: s(S_REQUEST_ID),
            provider: s(S_PROVIDER),
            model: s(S_MODEL).unwrap_or_default(),
            // Settled when the row was written.
            served_model: None,
            feature: s(S_FEATURE),
            route: s(S_ROUTE),
            team: s(S_TEAM),
            user: s(S_USER),
            session: s(S_SESSION),
            turn: value_at(&self.turn, i),
            status: string_at(&self.strings[S_STATUS], i).and_then(CallStatus::parse),
            error_kind: s(S_ERROR_KIND),
            http_status: value_at(&self.http_status, i),
            attempt: value_at(&self.attempt, i),
            retry_of: s(S_RETRY_OF),
            usage: Usage {
                input: tok(0),
                cached_read: tok(1),
                cache_write: tok(2),
                cache_write_1h: tok(3),
                output: tok(4),
                reasoning: tok(5),
                input_audio: tok(6),
                cached_audio: tok(7),
                output_audio: tok(8),
                web_searches: tok(9),
            },
            cached_read_logged: match &self.cached_read_logged {
                Some(a) if !a.is_null(i) => a.value(i),
                _ => tok(1) > 0,
            },
            latency_ms: value_at(&self.latency, i),
            ttft_ms: value_at(&self.ttft, i),
            batch: self
                .batch
                .as_ref()
                .and_then(|a| (!a.is_null(i)).then(|| a.value(i))),
            service_tier: string_at(&self.strings[S_SERVICE_TIER], i).and_then(ServiceTier::parse),
            us_only: value_at_bool(&self.us_only, i),
            finish_reason: s(S_FINISH_REASON),
            max_tokens: value_at(&self.max_tokens, i),
            prompt_fp: value_at(&self.fps[0], i),
            prefix_fp: value_at(&self.fps[1], i),
            prefix_tokens: value_at(&self.fps[2], i),
            prefix_chars: value_at(&self.prefix_chars, i),
            user_messages: value_at(&self.user_messages, i),
            logged_cost: self
                .logged_cost
                .as_ref()
                .and_then(|a| (!a.is_null(i)).then(|| Money::from_picos(a.value(i)))),
            prompt_text: s(S_PROMPT_TEXT),
            prompt_raw: string_at(&self.strings[S_PROMPT_RAW], i),
            system_raw: string_at(&self.strings[S_SYSTEM_RAW], i),
            minhash: self.minhash.as_ref().and_then(|a| {
                (!a.is_null(i)).then(|| {
                    let bytes = a.value(i);
                    let mut sig = [0u32; MINHASH_LEN];
                    for (v, chunk) in sig.iter_mut().zip(bytes.chunks_exact(4)) {
                        *v = u32::from_le_bytes(chunk.try_into().expect("4 bytes"));
                    }
                    sig
                })
            }),
            tags,
            // Counted when the call was ingested (the commit's rejects).
            unread_field: None,
            stream_chunk: false,
            stream_created: None,
            gemini_response: false,
            usage_missing: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn records_round_trip() {
        let full = CallRecord {
            timestamp: Some(chrono::Utc.with_ymd_and_hms(2026, 10, 1, 12, 0, 1).unwrap()),
            request_id: Some("req-1".into()),
            provider: Some("openai".into()),
            model: "gpt-4o".into(),
            served_model: None,
            feature: Some("chat".into()),
            route: Some("/v1/chat".into()),
            team: Some("a\u{1f}b".into()),
            user: Some("u".into()),
            session: Some("s".into()),
            turn: Some(3),
            status: Some(CallStatus::Error),
            error_kind: Some("rate_limit".into()),
            http_status: Some(429),
            attempt: Some(2),
            retry_of: Some("req-0".into()),
            usage: Usage {
                input: 100,
                cached_read: 20,
                cache_write: 10,
                cache_write_1h: 5,
                output: 50,
                reasoning: 7,
                input_audio: 30,
                cached_audio: 10,
                output_audio: 20,
                web_searches: 3,
            },
            cached_read_logged: true,
            latency_ms: Some(900),
            ttft_ms: Some(90),
            batch: Some(false),
            service_tier: Some(ServiceTier::Flex),
            us_only: true,
            finish_reason: Some("stop".into()),
            max_tokens: Some(256),
            prompt_fp: Some(u64::MAX),
            prefix_fp: Some(1),
            prefix_tokens: Some(8000),
            prefix_chars: Some(31_000),
            user_messages: Some(2),
            logged_cost: Some(Money::from_picos(-5)),
            prompt_text: Some("hello there".into()),
            prompt_raw: Some("[{\"role\":\"user\"}]"),
            system_raw: None,
            minhash: Some([7; MINHASH_LEN]),
            tags: vec![("env".into(), "prod".into()), ("env".into(), "b".into())],
            unread_field: None,
            stream_chunk: false,
            stream_created: None,
            gemini_response: false,
            usage_missing: false,
        };
        let empty = CallRecord {
            model: "m".into(),
            ..Default::default()
        };
        let mut b = RowsBuilder::default();
        for (r, prompts) in [(&full, true), (&empty, false), (&full, false)] {
            b.push(
                r,
                &Extra {
                    model_id: Some("openai/gpt-4o"),
                    cost: Some(Money::from_picos(123_456_789)),
                    minhash: None,
                    source: "/logs/a.jsonl",
                    line: 42,
                    prompts,
                },
            );
        }
        let batch = b.finish();
        assert_eq!(batch.num_rows(), 3);
        let rows = Rows::new(&batch);
        assert_eq!(rows.record(0), full);
        assert_eq!(rows.record(1), empty);
        // Without --include-prompts the text is not stored; the signature is.
        let third = rows.record(2);
        assert_eq!(third.prompt_text, None);
        assert_eq!(third.prompt_raw, None);
        assert_eq!(third.minhash, full.minhash);
        assert_eq!(rows.source(2), "/logs/a.jsonl");
        assert_eq!(rows.line(1), 42);
        assert_eq!(rows.cost(0), Some(Money::from_picos(123_456_789)));
        assert_eq!(rows.model_id(0), Some("openai/gpt-4o"));
        assert!(b.is_empty());
    }
}
