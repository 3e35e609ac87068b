//! The log shapes the generator writes: the same calls rendered as each
//! producer writes them, with only the fields that producer has.
//!
//! | shape | one line is | feature in | prompt text |
//! |---|---|---|---|
//! | `gateway` | a call, samplegen's own gateway fields | `feature` | faq-bot questions only |
//! | `gateway-minimal` | a call: sessions and hashes, no `turn`, no prefix token counts, no route, team, retry or finish fields, no tags | `feature` | none |
//! | `gateway-alt-nested` | a call: `id`, `created_at`, `status_code`, `error` object, `metadata.feature`/`team`, extra objects, nulls | `metadata.feature` | none |
//! | `gateway-alt-flat` | a call: epoch-ms `ts`, `requestId`, `model_name`, `use_case`, token counts at the top level, `labels` | `use_case` | none |
//! | `gateway-alt-shuffled` | a call: the gateway's names in a different order on every line, extra objects, nulls, `messages` | `feature` | `messages` |
//! | `gateway-alt-envelope` | a call as `request`/`response` objects, epoch-ms `created`, `request.system` for Anthropic | `request.metadata.feature` | `request.messages` |
//! | `litellm` | a `LiteLLM_SpendLogs` row, prompts not stored (`"messages": {}`) | `request_tags` `feature:<name>` | none |
//! | `litellm-messages` | the same with prompts stored | `request_tags` `feature:<name>` | `messages` |
//! | `langfuse` | two observations per call: a SPAN, then its GENERATION | `traceName` | GENERATION `input` |
//! | `otel` | an OTLP JSON export: an HTTP server span and the GenAI client span | `service.name` | `gen_ai.system_instructions`, `gen_ai.input.messages` |
//! | `helicone` | a request export row | `properties.feature` | none (bodies are behind `signed_body_url`) |
//!
//! Token conventions follow each producer (`../shared/FORMATS.md`): LiteLLM's
//! `prompt_tokens` and OTel's `gen_ai.usage.input_tokens` include the cache;
//! Langfuse's `input` and Helicone's `prompt_tokens` exclude it. Langfuse,
//! OTel, Helicone and the flat gateway cannot say which cache writes had a
//! 1-hour lifetime; Helicone has no reasoning count. Producers that price
//! calls (LiteLLM `spend`, Langfuse `totalCost`, Helicone `cost`) log the
//! list price, with `translate`'s 10% markup; OTel logs no cost.

use std::fmt::Display;
use std::io::{self, Write};

use crate::text::{self, Prompt};
use crate::{mix, name_key, Call, Convention, Rng};

/// A way of writing the calls.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogShape {
    /// samplegen's own gateway lines (the committed sample and benchmark
    /// files; byte-identical to what the generator always wrote).
    #[default]
    Gateway,
    GatewayMinimal,
    GatewayAltNested,
    GatewayAltFlat,
    GatewayAltShuffled,
    GatewayAltEnvelope,
    LiteLlm,
    LiteLlmMessages,
    Langfuse,
    Otel,
    Helicone,
}

impl LogShape {
    pub const ALL: [LogShape; 11] = [
        LogShape::Gateway,
        LogShape::GatewayMinimal,
        LogShape::GatewayAltNested,
        LogShape::GatewayAltFlat,
        LogShape::GatewayAltShuffled,
        LogShape::GatewayAltEnvelope,
        LogShape::LiteLlm,
        LogShape::LiteLlmMessages,
        LogShape::Langfuse,
        LogShape::Otel,
        LogShape::Helicone,
    ];

    pub fn name(self) -> &'static str {
        match self {
            LogShape::Gateway => "gateway",
            LogShape::GatewayMinimal => "gateway-minimal",
            LogShape::GatewayAltNested => "gateway-alt-nested",
            LogShape::GatewayAltFlat => "gateway-alt-flat",
            LogShape::GatewayAltShuffled => "gateway-alt-shuffled",
            LogShape::GatewayAltEnvelope => "gateway-alt-envelope",
            LogShape::LiteLlm => "litellm",
            LogShape::LiteLlmMessages => "litellm-messages",
            LogShape::Langfuse => "langfuse",
            LogShape::Otel => "otel",
            LogShape::Helicone => "helicone",
        }
    }

    pub fn from_name(name: &str) -> Option<LogShape> {
        LogShape::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Whether this is one of the gateway's own shapes (the gateway reader's
    /// malformed lines are planted in these; the others get only lines that
    /// are not JSON objects).
    pub fn is_gateway(self) -> bool {
        matches!(
            self,
            LogShape::Gateway
                | LogShape::GatewayMinimal
                | LogShape::GatewayAltNested
                | LogShape::GatewayAltFlat
                | LogShape::GatewayAltShuffled
                | LogShape::GatewayAltEnvelope
        )
    }

    /// Whether the producer stores the prompt's text.
    pub fn has_prompt_text(self) -> bool {
        matches!(
            self,
            LogShape::GatewayAltShuffled
                | LogShape::GatewayAltEnvelope
                | LogShape::LiteLlmMessages
                | LogShape::Langfuse
                | LogShape::Otel
        )
    }

    /// Lines written for one call (Langfuse: a SPAN and a GENERATION).
    pub fn lines_per_call(self) -> u64 {
        if self == LogShape::Langfuse {
            2
        } else {
            1
        }
    }

    /// Whether the producer logs its own price of every call.
    pub fn logs_cost(self) -> bool {
        matches!(
            self,
            LogShape::LiteLlm | LogShape::LiteLlmMessages | LogShape::Langfuse | LogShape::Helicone
        )
    }

    /// Whether the token counts can say a cache write had a 1-hour lifetime.
    pub fn carries_1h_cache_writes(self) -> bool {
        !matches!(
            self,
            LogShape::GatewayAltFlat | LogShape::Langfuse | LogShape::Otel | LogShape::Helicone
        )
    }

    /// Whether reasoning tokens are counted apart from the output.
    pub fn carries_reasoning(self) -> bool {
        self != LogShape::Helicone
    }
}

/// One call to render, with what the generator knows about it.
pub(crate) struct Line<'a> {
    pub call: &'a Call,
    /// The call's sequence number (request ids derive from it).
    pub id: u64,
    /// The run's seed: ids and texts of other seeds differ.
    pub seed: u64,
    /// The cost the producer logs: for the gateway shapes only a marked-up
    /// call's; for LiteLLM, Langfuse and Helicone every call's list price
    /// (None when no catalog knows the model).
    pub cost: Option<f64>,
}

/// Appends `line`'s rendering in `shape` to `b`, newline included.
pub(crate) fn render(shape: LogShape, line: &Line, b: &mut Vec<u8>) -> io::Result<()> {
    match shape {
        LogShape::Gateway => gateway(line, b),
        LogShape::GatewayMinimal => gateway_minimal(line, b),
        LogShape::GatewayAltNested => gateway_alt_nested(line, b),
        LogShape::GatewayAltFlat => gateway_alt_flat(line, b),
        LogShape::GatewayAltShuffled => gateway_alt_shuffled(line, b),
        LogShape::GatewayAltEnvelope => gateway_alt_envelope(line, b),
        LogShape::LiteLlm => litellm(line, false, b),
        LogShape::LiteLlmMessages => litellm(line, true, b),
        LogShape::Langfuse => langfuse(line, b),
        LogShape::Otel => otel(line, b),
        LogShape::Helicone => helicone(line, b),
    }
}

impl Call {
    fn latency_ms(&self) -> u64 {
        200 + self.output * 12 + self.input / 50
    }
    fn ttft_ms(&self) -> u64 {
        150 + self.input / 40
    }
    fn http_status(&self) -> u16 {
        self.error.map_or(200, |(_, code)| code)
    }
    fn session_label(&self) -> Option<String> {
        self.session.map(|(d, s)| format!("s_{d:03}_{s:07}"))
    }
    fn user_label(&self) -> String {
        format!("u_{:04}", self.user)
    }
    /// Tokens read from and written to the cache, and the uncached rest.
    fn plain_input(&self) -> u64 {
        self.input - self.cached - self.cache_write
    }
}

fn iso_ms(ms: i64) -> String {
    let ts = chrono::DateTime::from_timestamp_millis(ms).expect("in range");
    ts.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn req_id(id: u64) -> String {
    format!("req_{id:09}")
}

/// 32 hex digits (a trace id, a model id), the same for the same key.
fn hex128(a: u64, b: u64) -> String {
    format!("{:016x}{:016x}", mix(a, b), mix(b, a))
}

/// Where each provider's API is, for the producers that log it.
fn api_base(provider: &str) -> &'static str {
    match provider {
        "openai" => "https://api.openai.com/v1",
        "anthropic" => "https://api.anthropic.com/v1",
        "google" => "https://generativelanguage.googleapis.com/v1beta/openai",
        "deepseek" => "https://api.deepseek.com/v1",
        "mistral" => "https://api.mistral.ai/v1",
        // A self-hosted model behind an OpenAI-compatible server.
        _ => "http://llm.internal:8000/v1",
    }
}

/// The path a call went to.
fn api_url(c: &Call) -> String {
    match c.convention {
        Convention::Anthropic => format!("{}/messages", api_base(c.provider)),
        Convention::OpenAi => format!("{}/chat/completions", api_base(c.provider)),
    }
}

/// A UUID-looking id, the same for the same (seed, id, kind).
fn uuid(seed: u64, id: u64, kind: u64) -> String {
    let a = mix(mix(seed, kind), id);
    let b = mix(a, 0x5eed);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | (b >> 48) & 0x3fff,
        b & 0xffff_ffff_ffff
    )
}

// ---------------------------------------------------------------------------
// samplegen's own gateway shape: written byte for byte as it always was.

/// The gateway's `usage` object in the call's provider convention (without
/// the leading comma and key).
fn write_usage(b: &mut Vec<u8>, c: &Call) -> io::Result<()> {
    match c.convention {
        Convention::OpenAi => write!(b, "{{\"prompt_tokens\":{},\"completion_tokens\":{},\"prompt_tokens_details\":{{\"cached_tokens\":{}}},\"completion_tokens_details\":{{\"reasoning_tokens\":{}}}}}",
            c.input, c.output, c.cached, c.reasoning),
        Convention::Anthropic => {
            // Anthropic's input_tokens excludes cache reads and writes.
            write!(b, "{{\"input_tokens\":{},\"output_tokens\":{},\"cache_read_input_tokens\":{},\"cache_creation_input_tokens\":{}",
                c.plain_input(), c.output, c.cached, c.cache_write)?;
            if c.cache_write > 0 {
                write!(b, ",\"cache_creation\":{{\"ephemeral_5m_input_tokens\":{},\"ephemeral_1h_input_tokens\":{}}}", c.cache_write - c.cache_write_1h, c.cache_write_1h)?;
            }
            b.push(b'}');
            Ok(())
        }
    }
}

fn usage_text(c: &Call) -> String {
    let mut b = Vec::new();
    write_usage(&mut b, c).expect("writing to memory");
    String::from_utf8(b).expect("ASCII")
}

fn gateway(l: &Line, b: &mut Vec<u8>) -> io::Result<()> {
    let c = l.call;
    write!(b, "{{\"timestamp\":\"{}\",\"request_id\":\"{}\",\"provider\":\"{}\",\"model\":\"{}\",\"feature\":\"{}\",\"route\":\"{}\",\"team\":\"{}\",\"user\":\"{}\"",
        iso_ms(c.ms), req_id(l.id), c.provider, c.model, c.feature, c.route, c.team, c.user_label())?;
    if let Some(s) = c.session_label() {
        write!(b, ",\"session\":\"{s}\"")?;
    }
    if let Some(t) = c.turn {
        write!(b, ",\"turn\":{t}")?;
    }
    match c.error {
        Some((kind, code)) => write!(
            b,
            ",\"status\":\"error\",\"http_status\":{code},\"error_type\":\"{kind}\""
        )?,
        None => write!(b, ",\"status\":\"ok\",\"http_status\":200")?,
    }
    write!(b, ",\"attempt\":{}", c.attempt)?;
    if let Some(prev) = c.retry_of {
        write!(b, ",\"retry_of\":\"{}\"", req_id(prev))?;
    }
    write!(
        b,
        ",\"latency_ms\":{},\"ttft_ms\":{},\"finish_reason\":\"{}\"",
        c.latency_ms(),
        c.ttft_ms(),
        c.finish
    )?;
    if let Some(m) = c.max_tokens {
        write!(b, ",\"max_tokens\":{m}")?;
    }
    write!(b, ",\"prompt_hash\":\"{:016x}\"", c.prompt_hash)?;
    if let Some(q) = c.question {
        // Plain ASCII without quotes or backslashes: no escaping needed.
        write!(
            b,
            ",\"messages\":[{{\"role\":\"user\",\"content\":\"{q}\"}}]"
        )?;
    }
    if let Some(p) = c.prefix_hash {
        write!(b, ",\"system_prompt_hash\":\"{p:016x}\"")?;
    }
    if let Some(t) = c.prefix_tokens {
        write!(b, ",\"system_prompt_tokens\":{t}")?;
    }
    if !c.usage_missing {
        b.extend_from_slice(b",\"usage\":");
        write_usage(b, c)?;
    }
    if let Some(cost) = l.cost {
        // The gateway's own (marked-up) price, as a float like gateways log.
        write!(b, ",\"cost\":{cost:.8}")?;
    }
    let user_facing = if c.batch_tag { "false" } else { "true" };
    writeln!(
        b,
        ",\"tags\":{{\"env\":\"prod\",\"user_facing\":\"{user_facing}\"}}}}"
    )
}

// ---------------------------------------------------------------------------
// A small JSON object writer for the other shapes: fields in order, values
// as JSON text, so a shape can reorder them.

#[derive(Default)]
struct Obj(Vec<(&'static str, String)>);

fn json_str(s: &str) -> String {
    serde_json::to_string(s).expect("a string serialises")
}

impl Obj {
    fn str(&mut self, k: &'static str, v: &str) -> &mut Obj {
        self.0.push((k, json_str(v)));
        self
    }
    fn num(&mut self, k: &'static str, v: impl Display) -> &mut Obj {
        self.0.push((k, v.to_string()));
        self
    }
    fn raw(&mut self, k: &'static str, v: String) -> &mut Obj {
        self.0.push((k, v));
        self
    }
    fn null(&mut self, k: &'static str) -> &mut Obj {
        self.raw(k, "null".into())
    }
    fn opt_str(&mut self, k: &'static str, v: Option<&str>) -> &mut Obj {
        match v {
            Some(v) => self.str(k, v),
            None => self.null(k),
        }
    }
    fn opt_num(&mut self, k: &'static str, v: Option<impl Display>) -> &mut Obj {
        match v {
            Some(v) => self.num(k, v),
            None => self.null(k),
        }
    }
    fn text(&self) -> String {
        let mut s = String::from("{");
        for (i, (k, v)) in self.0.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            s.push_str(&json_str(k));
            s.push(':');
            s.push_str(v);
        }
        s.push('}');
        s
    }
    fn line(&self, b: &mut Vec<u8>) -> io::Result<()> {
        writeln!(b, "{}", self.text())
    }
}

/// `[{"role":…,"content":…},…]`, with the system prompt first unless it is
/// sent apart.
fn messages_json(p: &Prompt, with_system: bool) -> String {
    let system = with_system.then_some(("system", &p.system));
    let messages = system
        .into_iter()
        .chain(p.messages.iter().map(|(r, t)| (*r, t)))
        .map(|(role, text)| format!("{{\"role\":\"{role}\",\"content\":{}}}", json_str(text)));
    format!("[{}]", messages.collect::<Vec<_>>().join(","))
}

/// An extra object gateways add that no reader needs.
fn client_info(l: &Line) -> String {
    let c = l.call;
    format!(
        "{{\"sdk\":\"{}\",\"version\":\"1.{}.{}\",\"retries\":{},\"ip\":\"10.{}.{}.{}\"}}",
        if c.convention == Convention::Anthropic {
            "anthropic-python"
        } else {
            "openai-python"
        },
        40 + c.user % 20,
        c.user % 7,
        c.attempt - 1,
        c.user % 4,
        c.user % 250,
        (l.id % 250) + 1
    )
}

// ---------------------------------------------------------------------------
// The gateway's variants.

/// The gateway's tags object.
fn gateway_tags(c: &Call) -> String {
    format!("{{\"env\":\"prod\",\"user_facing\":\"{}\"}}", !c.batch_tag)
}

fn gateway_minimal(l: &Line, b: &mut Vec<u8>) -> io::Result<()> {
    let c = l.call;
    let mut o = Obj::default();
    o.str("timestamp", &iso_ms(c.ms))
        .str("request_id", &req_id(l.id))
        .str("provider", c.provider)
        .str("model", c.model)
        .str("feature", c.feature)
        .str("user", &c.user_label());
    if let Some(s) = c.session_label() {
        o.str("session", &s);
    }
    o.num("http_status", c.http_status())
        .str("prompt_hash", &format!("{:016x}", c.prompt_hash));
    if let Some(p) = c.prefix_hash {
        o.str("system_prompt_hash", &format!("{p:016x}"));
    }
    if !c.usage_missing {
        o.raw("usage", usage_text(c));
    }
    if let Some(cost) = l.cost {
        o.num("cost", format!("{cost:.8}"));
    }
    o.line(b)
}

/// The example of another gateway: `id` first, `created_at`,
/// `status_code`, an `error` object, the feature and team nested in
/// `metadata`, a client object, and nulls where a value is missing.
fn gateway_alt_nested(l: &Line, b: &mut Vec<u8>) -> io::Result<()> {
    let c = l.call;
    let error = c.error.map(|(kind, code)| {
        format!("{{\"type\":\"{kind}\",\"code\":{code},\"message\":\"upstream returned {code}\"}}")
    });
    let usage = (!c.usage_missing).then(|| usage_text(c));
    let user_facing = !c.batch_tag;
    let mut o = Obj::default();
    o.str("id", &req_id(l.id))
        .str("created_at", &iso_ms(c.ms))
        .str("model", c.model)
        .str("provider", c.provider)
        .str("endpoint", c.route)
        .num("status_code", c.http_status())
        .raw("error", error.unwrap_or_else(|| "null".into()))
        .opt_str("retry_of", c.retry_of.map(req_id).as_deref())
        .num("attempt", c.attempt)
        .opt_str("session_id", c.session_label().as_deref())
        .opt_num("turn_index", c.turn)
        .str("user_id", &c.user_label())
        .num("latency_ms", c.latency_ms())
        .num("time_to_first_token_ms", c.ttft_ms())
        .str("finish_reason", c.finish)
        .opt_num("max_tokens", c.max_tokens)
        .raw("usage", usage.unwrap_or_else(|| "null".into()))
        .str("prompt_hash", &format!("{:016x}", c.prompt_hash))
        .opt_str(
            "system_prompt_hash",
            c.prefix_hash.map(|p| format!("{p:016x}")).as_deref(),
        )
        .opt_num("prefix_tokens", c.prefix_tokens)
        .opt_num("cost", l.cost.map(|x| format!("{x:.8}")))
        .raw(
            "metadata",
            format!(
                "{{\"feature\":\"{}\",\"team\":\"{}\",\"env\":\"prod\",\"user_facing\":{user_facing},\"client\":{}}}",
                c.feature,
                c.team,
                client_info(l)
            ),
        )
        .str("region", ["eu-west-1", "us-east-1"][(l.id % 2) as usize]);
    o.line(b)
}

/// Other aliases the gateway reader knows, a timestamp in epoch
/// milliseconds, the token counts at the top level (so a 1-hour cache write
/// cannot be told from a 5-minute one), and `labels` for tags.
fn gateway_alt_flat(l: &Line, b: &mut Vec<u8>) -> io::Result<()> {
    let c = l.call;
    let mut o = Obj::default();
    o.num("ts", c.ms)
        .str("requestId", &req_id(l.id))
        .str("vendor", c.provider)
        .str("model_name", c.model)
        .str("use_case", c.feature)
        .str("api_route", c.route)
        .str("team_name", c.team)
        .str("userId", &c.user_label())
        .opt_str("thread_id", c.session_label().as_deref())
        .opt_num("turn_number", c.turn)
        .num("http_status_code", c.http_status())
        .opt_str("error_code", c.error.map(|(kind, _)| kind))
        .num("attempt_number", c.attempt)
        .opt_str("retry_of_request_id", c.retry_of.map(req_id).as_deref())
        .num("duration_ms", c.latency_ms())
        .num("time_to_first_token_ms", c.ttft_ms())
        .str("stop_reason", c.finish)
        .opt_num("max_output_tokens", c.max_tokens)
        .str("prompt_fingerprint", &format!("{:016x}", c.prompt_hash))
        .opt_str(
            "prefix_fingerprint",
            c.prefix_hash.map(|p| format!("{p:016x}")).as_deref(),
        )
        .opt_num("prefix_tokens", c.prefix_tokens);
    let counts = (!c.usage_missing).then_some(c);
    match c.convention {
        Convention::OpenAi => {
            o.opt_num("prompt_tokens", counts.map(|c| c.input))
                .opt_num("completion_tokens", counts.map(|c| c.output))
                .opt_num("cached_tokens", counts.map(|c| c.cached))
                .opt_num("reasoning_tokens", counts.map(|c| c.reasoning));
        }
        Convention::Anthropic => {
            o.opt_num("input_tokens", counts.map(|c| c.plain_input()))
                .opt_num("output_tokens", counts.map(|c| c.output))
                .opt_num("cache_read_input_tokens", counts.map(|c| c.cached))
                .opt_num("cache_creation_input_tokens", counts.map(|c| c.cache_write));
        }
    }
    o.opt_num("cost_usd", l.cost.map(|x| format!("{x:.8}")))
        .raw("labels", gateway_tags(c))
        .str("gateway_host", &format!("gw-{}", l.id % 4))
        .raw(
            "trace",
            format!(
                "{{\"trace_id\":\"{}\",\"span_id\":\"{:016x}\"}}",
                hex128(l.seed, l.id),
                mix(l.id, 3)
            ),
        );
    o.line(b)
}

/// The gateway's own field names, in a different order on every line, with
/// the prompt as `messages` (no hashes: fingerprints come from the text),
/// extra objects and nulls.
fn gateway_alt_shuffled(l: &Line, b: &mut Vec<u8>) -> io::Result<()> {
    let c = l.call;
    let prompt = text::prompt(c, l.seed);
    let mut o = Obj::default();
    o.str("timestamp", &iso_ms(c.ms))
        .str("request_id", &req_id(l.id))
        .str("provider", c.provider)
        .str("model", c.model)
        .str("feature", c.feature)
        .str("route", c.route)
        .str("team", c.team)
        .str("user", &c.user_label())
        .opt_str("session", c.session_label().as_deref())
        .opt_num("turn", c.turn)
        .str("status", if c.error.is_some() { "error" } else { "ok" })
        .num("http_status", c.http_status())
        .opt_str("error_type", c.error.map(|(kind, _)| kind))
        .num("attempt", c.attempt)
        .opt_str("retry_of", c.retry_of.map(req_id).as_deref())
        .num("latency_ms", c.latency_ms())
        .num("ttft_ms", c.ttft_ms())
        .str("finish_reason", c.finish)
        .opt_num("max_tokens", c.max_tokens)
        .opt_num("system_prompt_tokens", c.prefix_tokens)
        .raw("messages", messages_json(&prompt, true))
        .raw(
            "usage",
            if c.usage_missing {
                "null".into()
            } else {
                usage_text(c)
            },
        )
        .opt_num("cost", l.cost.map(|x| format!("{x:.8}")))
        .raw("tags", gateway_tags(c))
        .raw("client", client_info(l))
        .null("cache");
    // Fisher-Yates with the line's own generator: every line its own order.
    let mut rng = Rng::new(mix(l.seed ^ 0x5a0f, l.id));
    for i in (1..o.0.len()).rev() {
        let j = rng.range(0, i as u64) as usize;
        o.0.swap(i, j);
    }
    o.line(b)
}

/// A logged request/response pair: the request's model, parameters,
/// messages and metadata, the response's usage and finish reason (or its
/// error), epoch-millisecond `created`; Anthropic calls send the system
/// prompt apart, as `request.system`.
fn gateway_alt_envelope(l: &Line, b: &mut Vec<u8>) -> io::Result<()> {
    let c = l.call;
    let prompt = text::prompt(c, l.seed);
    let anthropic = c.convention == Convention::Anthropic;
    let mut meta = Obj::default();
    meta.str("feature", c.feature).str("team", c.team);
    if let Some(s) = c.session_label() {
        meta.str("session_id", &s);
    }
    if let Some(t) = c.turn {
        meta.num("turn", t);
    }
    let mut req = Obj::default();
    req.str("model", c.model)
        .opt_num("max_tokens", c.max_tokens);
    if anthropic {
        req.str("system", &prompt.system);
    }
    req.raw("messages", messages_json(&prompt, !anthropic))
        .str("user", &c.user_label())
        .raw("metadata", meta.text());
    let mut resp = Obj::default();
    match c.error {
        Some((kind, code)) => {
            resp.raw("error", format!("{{\"type\":\"{kind}\",\"code\":{code}}}"));
        }
        None => {
            resp.str("object", "chat.completion");
        }
    }
    if !c.usage_missing {
        resp.raw("usage", usage_text(c));
    }
    resp.str("finish_reason", c.finish);
    let mut o = Obj::default();
    o.str("id", &req_id(l.id))
        .num("created", c.ms)
        .str("provider", c.provider)
        .raw("request", req.text())
        .raw("response", resp.text())
        .num("status_code", c.http_status())
        .num("latency", c.latency_ms())
        .num("ttft_ms", c.ttft_ms())
        .num("attempt", c.attempt);
    if let Some(prev) = c.retry_of {
        o.str("retry_of", &req_id(prev));
    }
    if let Some(cost) = l.cost {
        o.num("cost", format!("{cost:.8}"));
    }
    o.raw("tags", gateway_tags(c));
    o.line(b)
}

// ---------------------------------------------------------------------------
// LiteLLM spend logs (`LiteLLM_SpendLogs` rows, as the proxy's export and
// its `/spend/logs` API write them).

fn litellm_ts(ms: i64) -> String {
    let ts = chrono::DateTime::from_timestamp_millis(ms).expect("in range");
    ts.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

fn litellm(l: &Line, with_messages: bool, b: &mut Vec<u8>) -> io::Result<()> {
    let c = l.call;
    let provider = match c.provider {
        "google" => "gemini",
        "acme" => "openai",
        p => p,
    };
    // Token counts: prompt_tokens includes the cache (LiteLLM adds
    // Anthropic's cache reads and writes); the details sit in metadata.
    let (input, output) = if c.usage_missing {
        (0, 0)
    } else {
        (c.input, c.output)
    };
    let mut extra = Obj::default();
    if c.usage_missing {
        extra
            .null("prompt_tokens_details")
            .null("completion_tokens_details");
    } else {
        let mut prompt_details = Obj::default();
        prompt_details.num("cached_tokens", c.cached);
        if c.convention == Convention::Anthropic {
            prompt_details
                .num("text_tokens", c.plain_input())
                .num("cache_creation_tokens", c.cache_write);
            if c.cache_write > 0 {
                prompt_details.raw(
                    "cache_creation_token_details",
                    format!(
                        "{{\"ephemeral_5m_input_tokens\":{},\"ephemeral_1h_input_tokens\":{}}}",
                        c.cache_write - c.cache_write_1h,
                        c.cache_write_1h
                    ),
                );
            }
        }
        extra
            .raw("prompt_tokens_details", prompt_details.text())
            .raw(
                "completion_tokens_details",
                format!("{{\"reasoning_tokens\":{}}}", c.reasoning),
            );
        if c.convention == Convention::Anthropic {
            extra
                .num("cache_creation_input_tokens", c.cache_write)
                .num("cache_read_input_tokens", c.cached);
        }
    }
    let team_id = format!("team-{}", c.team);
    // The hash of the team's virtual key (sha256-long).
    let key_hash = hex128(name_key(c.team), 1) + &hex128(name_key(c.team), 2);
    let failed = c.error.is_some();
    let mut meta = Obj::default();
    meta.str("user_api_key", &key_hash)
        .str("user_api_key_alias", &format!("{}-service", c.team))
        .str("user_api_key_team_id", &team_id)
        .null("user_api_key_org_id")
        .null("user_api_key_user_id")
        .str("user_api_key_team_alias", c.team)
        .null("spend_logs_metadata")
        .raw("applied_guardrails", "[]".into())
        .raw("additional_usage_values", extra.text())
        .str("status", if failed { "failure" } else { "success" });
    if let Some((kind, code)) = c.error {
        let class = if code == 429 {
            "RateLimitError"
        } else {
            "InternalServerError"
        };
        meta.raw(
            "error_information",
            format!(
                "{{\"error_code\":\"{code}\",\"error_class\":\"{class}\",\"llm_provider\":\"{provider}\",\"traceback\":\"\",\"error_message\":\"litellm.{class}: {kind}\"}}"
            ),
        );
    }
    let mut tags = vec![format!("feature:{}", c.feature), "env:prod".to_string()];
    if c.batch_tag {
        tags.push("user_facing:false".into());
    }
    let messages = if with_messages {
        messages_json(&text::prompt(c, l.seed), true)
    } else {
        "{}".into()
    };
    // LiteLLM gives every request a session id: the conversation's when the
    // client sends one, else a fresh one.
    let session = match c.session {
        Some((d, s)) => uuid(l.seed, ((d as u64) << 32) | s as u64, 2),
        None => uuid(l.seed, l.id, 3),
    };
    let mut o = Obj::default();
    o.str("request_id", &format!("chatcmpl-{}", uuid(l.seed, l.id, 1)))
        .str("call_type", "acompletion")
        .str("api_key", &key_hash)
        .num("spend", l.cost.unwrap_or(0.0))
        .num("total_tokens", input + output)
        .num("prompt_tokens", input)
        .num("completion_tokens", output)
        .str("startTime", &litellm_ts(c.ms))
        .str("endTime", &litellm_ts(c.ms + c.latency_ms() as i64))
        .str(
            "completionStartTime",
            &litellm_ts(c.ms + c.ttft_ms() as i64),
        )
        .str("model", c.model)
        .str("model_id", &hex128(name_key(c.model), 3))
        .str("model_group", c.model)
        .str("custom_llm_provider", provider)
        .str("api_base", api_base(c.provider))
        .str("user", "")
        .raw("metadata", meta.text())
        .str("cache_hit", "False")
        .str("cache_key", "Cache OFF")
        .raw(
            "request_tags",
            serde_json::to_string(&tags).expect("strings"),
        )
        .str("team_id", &team_id)
        .str("end_user", &c.user_label())
        .raw("messages", messages)
        .raw("response", "{}".into())
        .str("session_id", &session)
        .str("status", if failed { "failure" } else { "success" })
        .raw("proxy_server_request", "{}".into());
    o.line(b)
}

// ---------------------------------------------------------------------------
// Langfuse observation export (UI/API camelCase, enriched with the trace's
// fields): a SPAN for the request and its GENERATION.

fn langfuse(l: &Line, b: &mut Vec<u8>) -> io::Result<()> {
    let c = l.call;
    let trace = uuid(l.seed, l.id, 10);
    let span_id = uuid(l.seed, l.id, 11);
    let start = c.ms;
    let end = c.ms + c.latency_ms() as i64;
    let failed = c.error.is_some();
    let mut meta = Obj::default();
    meta.str("team", c.team).str("env", "prod");
    if c.batch_tag {
        meta.str("user_facing", "false");
    }
    let level = if failed { "ERROR" } else { "DEFAULT" };
    let status_message = c
        .error
        .map(|(kind, code)| format!("Error code: {code} - {kind}"));
    let trace_fields = |o: &mut Obj| {
        o.str("userId", &c.user_label())
            .opt_str("sessionId", c.session_label().as_deref())
            .raw("tags", "[\"prod\"]".into())
            .str("traceName", c.feature)
            .str("environment", "production");
    };

    let mut span = Obj::default();
    span.str("id", &span_id)
        .str("traceId", &trace)
        .str("type", "SPAN")
        .str("name", &format!("{}-request", c.feature))
        .str("startTime", &iso_ms(start - 15))
        .str("endTime", &iso_ms(end + 20))
        .null("completionStartTime")
        .null("model")
        .null("modelParameters")
        .null("input")
        .null("output")
        .raw("metadata", meta.text())
        .str("level", level)
        .opt_str("statusMessage", status_message.as_deref())
        .null("parentObservationId")
        .null("version")
        .raw("usageDetails", "{}".into())
        .raw("costDetails", "{}".into())
        .num("totalCost", 0)
        .null("promptName")
        .null("promptVersion");
    trace_fields(&mut span);
    span.line(b)?;

    // Langfuse's usage keys are disjoint: `input` is the uncached prompt.
    let mut usage = Obj::default();
    if !c.usage_missing {
        usage.num("input", c.plain_input());
        match c.convention {
            Convention::OpenAi => {
                if c.cached > 0 {
                    usage.num("input_cached_tokens", c.cached);
                }
            }
            Convention::Anthropic => {
                usage
                    .num("cache_read_input_tokens", c.cached)
                    .num("cache_creation_input_tokens", c.cache_write);
            }
        }
        usage.num("output", c.output - c.reasoning);
        if c.reasoning > 0 {
            usage.num("output_reasoning_tokens", c.reasoning);
        }
        usage.num("total", c.input + c.output);
    }
    let cost = l.cost.filter(|_| !c.usage_missing);
    let prompt = text::prompt(c, l.seed);
    let mut g = Obj::default();
    g.str("id", &uuid(l.seed, l.id, 12))
        .str("traceId", &trace)
        .str("type", "GENERATION")
        .str("name", "chat-completion")
        .str("startTime", &iso_ms(start))
        .str("endTime", &iso_ms(end))
        .str("completionStartTime", &iso_ms(start + c.ttft_ms() as i64))
        .str("model", c.model)
        .raw(
            "modelParameters",
            c.max_tokens
                .map_or("{}".into(), |m| format!("{{\"max_tokens\":\"{m}\"}}")),
        )
        .raw("input", messages_json(&prompt, true))
        .null("output")
        .raw("metadata", meta.text())
        .str("level", level)
        .opt_str("statusMessage", status_message.as_deref())
        .str("parentObservationId", &span_id)
        .null("version")
        .raw("usageDetails", usage.text())
        .raw(
            "costDetails",
            cost.map_or("{}".into(), |x| format!("{{\"total\":{x}}}")),
        )
        .raw("totalCost", cost.map_or("null".into(), |x| x.to_string()))
        .null("promptName")
        .null("promptVersion");
    trace_fields(&mut g);
    g.line(b)
}

// ---------------------------------------------------------------------------
// OpenTelemetry: one OTLP JSON `ExportTraceServiceRequest` per line (the
// collector's file exporter), the app's HTTP server span and the GenAI
// client span, with message capture on.

fn kv_str(k: &str, v: &str) -> String {
    format!(
        "{{\"key\":\"{k}\",\"value\":{{\"stringValue\":{}}}}}",
        json_str(v)
    )
}

fn kv_int(k: &str, v: impl Display) -> String {
    format!("{{\"key\":\"{k}\",\"value\":{{\"intValue\":\"{v}\"}}}}")
}

fn otel(l: &Line, b: &mut Vec<u8>) -> io::Result<()> {
    let c = l.call;
    let provider = match c.provider {
        "google" => "gcp.gemini",
        "mistral" => "mistral_ai",
        p => p,
    };
    let start_ns = c.ms as i128 * 1_000_000;
    let end_ns = start_ns + c.latency_ms() as i128 * 1_000_000;
    let trace = hex128(l.seed, l.id);
    let server_span = format!("{:016x}", mix(l.seed ^ 1, l.id));
    let prompt = text::prompt(c, l.seed);
    let system = format!(
        "[{{\"type\":\"text\",\"content\":{}}}]",
        json_str(&prompt.system)
    );
    let input: Vec<String> = prompt
        .messages
        .iter()
        .map(|(role, text)| {
            format!(
                "{{\"role\":\"{role}\",\"parts\":[{{\"type\":\"text\",\"content\":{}}}]}}",
                json_str(text)
            )
        })
        .collect();
    let input = format!("[{}]", input.join(","));

    let mut a = vec![
        kv_str("gen_ai.operation.name", "chat"),
        kv_str("gen_ai.provider.name", provider),
        kv_str("gen_ai.request.model", c.model),
        kv_str("gen_ai.response.model", c.model),
        kv_str(
            "gen_ai.response.id",
            &format!("resp_{:016x}", mix(l.seed, l.id)),
        ),
    ];
    if let Some(s) = c.session_label() {
        a.push(kv_str("gen_ai.conversation.id", &s));
    }
    if let Some(m) = c.max_tokens {
        a.push(kv_int("gen_ai.request.max_tokens", m));
    }
    a.push(format!("{{\"key\":\"gen_ai.response.finish_reasons\",\"value\":{{\"arrayValue\":{{\"values\":[{{\"stringValue\":\"{}\"}}]}}}}}}", c.finish));
    if !c.usage_missing {
        a.push(kv_int("gen_ai.usage.input_tokens", c.input));
        if c.cached > 0 {
            a.push(kv_int("gen_ai.usage.cache_read.input_tokens", c.cached));
        }
        if c.cache_write > 0 {
            a.push(kv_int(
                "gen_ai.usage.cache_creation.input_tokens",
                c.cache_write,
            ));
        }
        a.push(kv_int("gen_ai.usage.output_tokens", c.output));
        if c.reasoning > 0 {
            a.push(kv_int("gen_ai.usage.reasoning.output_tokens", c.reasoning));
        }
    }
    a.push(kv_str("gen_ai.system_instructions", &system));
    a.push(kv_str("gen_ai.input.messages", &input));
    a.push(kv_str("user.id", &c.user_label()));
    let host = api_base(c.provider)
        .split('/')
        .nth(2)
        .expect("a URL has a host");
    a.push(kv_str(
        "server.address",
        host.split(':').next().unwrap_or(host),
    ));
    let status = match c.error {
        Some((kind, _)) => {
            a.push(kv_str("error.type", kind));
            format!("{{\"code\":2,\"message\":\"{kind}\"}}")
        }
        None => "{}".into(),
    };
    let chat = format!(
        "{{\"traceId\":\"{trace}\",\"spanId\":\"{:016x}\",\"parentSpanId\":\"{server_span}\",\"name\":\"chat {}\",\"kind\":3,\"startTimeUnixNano\":\"{start_ns}\",\"endTimeUnixNano\":\"{end_ns}\",\"attributes\":[{}],\"status\":{status}}}",
        mix(l.seed ^ 2, l.id),
        c.model,
        a.join(",")
    );
    let code = c.http_status();
    let server = format!(
        "{{\"traceId\":\"{trace}\",\"spanId\":\"{server_span}\",\"name\":\"POST /api/{f}\",\"kind\":2,\"startTimeUnixNano\":\"{}\",\"endTimeUnixNano\":\"{}\",\"attributes\":[{},{},{}],\"status\":{}}}",
        start_ns - 2_000_000,
        end_ns + 3_000_000,
        kv_str("http.request.method", "POST"),
        kv_str("http.route", &format!("/api/{}", c.feature)),
        kv_int("http.response.status_code", code),
        if code >= 500 { "{\"code\":2}" } else { "{}" },
        f = c.feature,
    );
    let resource = [
        kv_str("service.name", c.feature),
        kv_str("service.namespace", c.team),
        kv_str("deployment.environment.name", "prod"),
        kv_str("telemetry.sdk.language", "python"),
    ]
    .join(",");
    let scope = if c.convention == Convention::Anthropic {
        "opentelemetry.instrumentation.anthropic"
    } else {
        "opentelemetry.instrumentation.openai_v2"
    };
    writeln!(
        b,
        "{{\"resourceSpans\":[{{\"resource\":{{\"attributes\":[{resource}]}},\"scopeSpans\":[{{\"scope\":{{\"name\":\"opentelemetry.instrumentation.fastapi\",\"version\":\"0.48b0\"}},\"spans\":[{server}]}},{{\"scope\":{{\"name\":\"{scope}\",\"version\":\"2.1b0\"}},\"spans\":[{chat}]}}]}}]}}"
    )
}

// ---------------------------------------------------------------------------
// Helicone request export rows (`npx @helicone/export`, JSON lines).

fn helicone(l: &Line, b: &mut Vec<u8>) -> io::Result<()> {
    let c = l.call;
    let provider = match c.provider {
        "openai" => "OPENAI",
        "anthropic" => "ANTHROPIC",
        "google" => "GOOGLE",
        "deepseek" => "DEEPSEEK",
        "mistral" => "MISTRAL",
        _ => "CUSTOM",
    };
    let path = api_url(c);
    let mut props = Obj::default();
    props
        .str("feature", c.feature)
        .str("team", c.team)
        .str("environment", "prod");
    if let Some(s) = c.session_label() {
        props.str("Helicone-Session-Id", &s);
    }
    if c.batch_tag {
        props.str("user_facing", "false");
    }
    let props = props.text();
    let counts = (!c.usage_missing).then_some(c);
    let latency = c.latency_ms();
    let request_id = uuid(l.seed, l.id, 20);
    let mut o = Obj::default();
    o.str("response_id", &uuid(l.seed, l.id, 21))
        .str("response_created_at", &iso_ms(c.ms + latency as i64))
        .num("response_status", c.http_status())
        .str("response_model", c.model)
        .str("request_id", &request_id)
        .str("model", c.model)
        .str("request_created_at", &iso_ms(c.ms))
        .str("request_path", &path)
        .str("request_user_id", &c.user_label())
        .raw("request_properties", props.clone())
        .str("request_model", c.model)
        .null("model_override")
        .str("helicone_user", "a1b2c3d4-0000-4000-8000-000000000001")
        .str("provider", provider)
        .num("delay_ms", latency)
        .num("time_to_first_token", c.ttft_ms())
        .opt_num("total_tokens", counts.map(|c| c.input + c.output))
        // Helicone's prompt_tokens excludes the prompt cache.
        .opt_num("prompt_tokens", counts.map(|c| c.plain_input()))
        .opt_num("prompt_cache_write_tokens", counts.map(|c| c.cache_write))
        .opt_num("prompt_cache_read_tokens", counts.map(|c| c.cached))
        .opt_num("completion_tokens", counts.map(|c| c.output))
        .num("prompt_audio_tokens", 0)
        .num("completion_audio_tokens", 0)
        .opt_num("cost", l.cost)
        .null("prompt_id")
        .null("feedback_created_at")
        .null("feedback_id")
        .null("feedback_rating")
        .str(
            "signed_body_url",
            &format!("https://s3.example/bodies/{request_id}?sig=1"),
        )
        .null("llmSchema")
        .str("country_code", "DE")
        .null("asset_ids")
        .null("asset_urls")
        .raw("scores", "{}".into())
        .null("costUSD")
        .raw("properties", props)
        .raw("assets", "[]".into())
        .str("target_url", &path)
        .str("cache_reference_id", "00000000-0000-0000-0000-000000000000")
        .raw("cache_enabled", "false".into())
        .str("updated_at", &iso_ms(c.ms + latency as i64 + 50));
    o.line(b)
}
