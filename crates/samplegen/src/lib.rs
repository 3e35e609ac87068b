//! A deterministic generator of realistic gateway call logs with planted
//! waste, and the ground truth of what it wrote.
//!
//! Same seed, same bytes. Each kind of waste lives in its own feature so the
//! detectors (and their tests) can find it:
//!
//! | feature | model | planted |
//! |---|---|---|
//! | `ticket-classifier` | gpt-4o | a premium model classifying: 1–5 output tokens |
//! | `support-chat` | claude-sonnet-4 | sessions of 5–30 turns whose input grows each turn (history resent) |
//! | `doc-qa` | gpt-4.1 | the same 3,200-token system prompt on every call, never cached; input growing ~450 tokens a week |
//! | `agent-planner` | claude-3-5-haiku | agent runs of 3–8 steps seconds apart, each with a system prompt whose hash changes (a timestamp in it) |
//! | `code-review` | gpt-4o | retry storms: 3–6 attempts within a second after 429/500 |
//! | `faq-bot` | gpt-4.1-mini | 10 questions in 4 wordings (logged as `messages`); half asked again word for word 1–10 minutes later, 30% in other words (near duplicates) |
//! | `nightly-summaries` | gemini-2.5-flash | a 02:00–03:00 UTC burst, `user_facing=false`, real-time priced |
//! | `report-writer` | o3-mini | outputs cut at the length limit; no max_tokens; a 6× spend spike on day 18 |
//! | `search-summarize` | gpt-4o-mini → gpt-4o | model-mix drift halfway through |
//! | `autocomplete` | deepseek-chat | healthy: prompt caching working (80% cached) |
//! | `translate` | mistral-large-latest | logs its own cost at a 10% markup (reconciliation); 8% of calls paste a whole document (oversized context) |
//! | `contract-review` | anthropic/claude-opus-4-1 | 1-hour cache writes and reads until day 21, when the cached prefix breaks (cache-hit collapse) |
//! | `internal-tools` | acme-llm-7b | a model no catalog knows |
//!
//! About 2% of calls fail (errors with their input billed, or 429s with no
//! usage).
//!
//! The traffic is drawn once; [`LogShape`] says how it is written: the
//! gateway's own lines (the default), or the shapes other producers export
//! (LiteLLM, Langfuse, OpenTelemetry, Helicone, gateways with other field
//! names; see [`shapes`]). A shape's randomness (key order, texts, ids) never
//! draws from the traffic's generator, so the same seed gives the same calls
//! in every shape, and the ground truth ([`truth`]) says what each shape
//! shows of them.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use chrono::{Duration, NaiveDate};

pub mod shapes;
mod text;
pub mod truth;

pub use shapes::LogShape;
pub use truth::{BadLine, GroundTruth, Planted, Sums};

/// What to generate.
#[derive(Clone, Debug)]
pub struct GenConfig {
    pub seed: u64,
    pub start: NaiveDate,
    pub days: u32,
    /// Traffic events per day (a session or a retry storm is one event).
    pub events_per_day: u32,
    /// Malformed lines to plant.
    pub bad_lines: u32,
    /// How to write the calls.
    pub shape: LogShape,
}

impl Default for GenConfig {
    fn default() -> Self {
        GenConfig {
            seed: 42,
            start: NaiveDate::from_ymd_opt(2026, 10, 1).expect("valid date"),
            days: 31,
            events_per_day: 700,
            bad_lines: 0,
            shape: LogShape::Gateway,
        }
    }
}

/// splitmix64: tiny, fast, and the same everywhere.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

/// A key for a name (a feature's prompt template, model ids, API key
/// hashes).
fn name_key(name: &str) -> u64 {
    name.bytes().fold(0, |k, b| mix(k, b as u64))
}

/// A well-mixed key from two numbers (for the shapes' ids and texts, which
/// must not draw from the traffic's generator).
fn mix(a: u64, b: u64) -> u64 {
    Rng::new(a ^ b.rotate_left(32).wrapping_mul(0xD6E8_FEB8_6659_FD93)).next_u64()
}

/// Token usage in the provider's own convention.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Convention {
    OpenAi,
    Anthropic,
}

/// One call, as the gateway logs it.
#[derive(Clone, Debug)]
struct Call {
    ms: i64,
    feature: &'static str,
    model: &'static str,
    provider: &'static str,
    convention: Convention,
    team: &'static str,
    route: &'static str,
    user: u32,
    session: Option<(u32, u32)>,
    turn: Option<u32>,
    /// Canonical totals; written in `convention`.
    input: u64,
    cached: u64,
    cache_write: u64,
    cache_write_1h: u64,
    output: u64,
    reasoning: u64,
    error: Option<(&'static str, u16)>,
    attempt: u32,
    retry_of: Option<u64>,
    finish: &'static str,
    max_tokens: Option<u32>,
    prompt_hash: u64,
    prefix_hash: Option<u64>,
    prefix_tokens: Option<u64>,
    batch_tag: bool,
    cost_markup: bool,
    usage_missing: bool,
    /// The user's question, logged as `messages` (faq-bot only).
    question: Option<&'static str>,
    /// The conversation's earlier turns, (user, assistant) tokens each
    /// (support-chat only): the shapes with prompt text resend them.
    history: Vec<(u32, u32)>,
    /// How a faq-bot call repeats an earlier question.
    repeat: Repeat,
}

/// A faq-bot question asked again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Repeat {
    No,
    WordForWord,
    Reworded,
}

/// The faq-bot's questions: 10 topics, each in 4 wordings (index `topic +
/// 10 × wording`).
const QUESTIONS: [&str; 40] = [
    "How do I reset my password?",
    "What is the refund policy for annual plans?",
    "How can I export my invoices as PDF?",
    "Which payment methods do you accept?",
    "How do I add a teammate to my workspace?",
    "Can I change the billing currency of my account?",
    "Where do I find my API key?",
    "How do I delete my account and all my data?",
    "Why was my card declined at checkout?",
    "How do I enable two-factor authentication?",
    "how do i reset my password please",
    "What's the refund policy on annual plans?",
    "How can I export invoices as PDF files?",
    "What payment methods do you accept?",
    "How do I add a new teammate to the workspace?",
    "Can I change my account's billing currency?",
    "Where can I find my API key?",
    "How can I delete my account and my data?",
    "Why was my card declined at the checkout?",
    "How can I enable two-factor authentication?",
    "I forgot my password, how do I reset my password?",
    "refund policy for annual plans?",
    "export my invoices as PDF - how?",
    "Which payment methods do you accept for plans?",
    "How to add a teammate to my workspace",
    "Can I change the billing currency of my account later?",
    "Where do I find the API key?",
    "How do I delete my account and all data?",
    "Why was my credit card declined at checkout?",
    "How do I turn on two-factor authentication?",
    "Password reset: how do I reset my password?",
    "What is your refund policy for annual plans?",
    "How can I export all my invoices as PDF?",
    "Which payment methods do you accept today?",
    "How do I add a teammate to our workspace?",
    "Is it possible to change the billing currency of my account?",
    "Where do I find my API key in the dashboard?",
    "How do I delete my account and all my personal data?",
    "Why was my card declined at checkout today?",
    "How do I enable two-factor authentication on my account?",
];

/// Where lines go.
pub trait Sink {
    /// The output file for a call of `feature` on `day` (index into files).
    fn file_for(&self, feature: &str, day: u32) -> usize;
    fn files(&mut self) -> &mut [Output];
}

/// One output file being written.
pub struct Output {
    pub name: String,
    pub writer: Box<dyn Write>,
    pub lines: u64,
    pub bytes: u64,
}

impl Output {
    /// A new file at `path` (replacing any file there), gzip-compressed
    /// when its name ends in `.gz`, zstd when in `.zst` (best compression:
    /// these are committed samples).
    pub fn create(path: &Path) -> io::Result<Output> {
        let f = BufWriter::with_capacity(1 << 20, File::create(path)?);
        let name = path.display().to_string();
        let writer: Box<dyn Write> = if name.ends_with(".gz") {
            Box::new(GzFinish(Some(flate2::write::GzEncoder::new(
                f,
                flate2::Compression::best(),
            ))))
        } else if name.ends_with(".zst") {
            Box::new(zstd::stream::write::Encoder::new(f, 19)?.auto_finish())
        } else {
            Box::new(f)
        };
        Ok(Output {
            name,
            writer,
            lines: 0,
            bytes: 0,
        })
    }
}

/// flate2's encoder finishes on drop only through `finish`; this wrapper does
/// it on drop so a boxed writer closes the gzip stream properly.
struct GzFinish(Option<flate2::write::GzEncoder<BufWriter<File>>>);

impl Write for GzFinish {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0.as_mut().expect("open until drop").write(b)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.as_mut().expect("open until drop").flush()
    }
}

impl Drop for GzFinish {
    fn drop(&mut self) {
        if let Some(e) = self.0.take() {
            if let Ok(mut inner) = e.finish() {
                let _ = inner.flush();
            }
        }
    }
}

struct Gen<'a> {
    cfg: &'a GenConfig,
    rng: Rng,
    truth: GroundTruth,
    next_id: u64,
    buf: Vec<u8>,
    catalog: tokenaudit_core::pricing::Catalog,
    bad_every: u64,
    bad_kind: usize,
    counters: truth::Counters,
}

const BAD_KINDS: [(&str, &str); 6] = [
    ("truncated_json", "{\"timestamp\":\"2026-10-01T00:00:00Z\",\"model\":\"gpt-4o\",\"usage\":{\"prompt_tok"),
    ("not_json", "ERROR 2026-10-01 gateway restarted"),
    ("wrong_type", "{\"model\":\"gpt-4o\",\"feature\":\"faq-bot\",\"usage\":{\"prompt_tokens\":\"many\",\"completion_tokens\":3}}"),
    ("negative_tokens", "{\"model\":\"gpt-4o\",\"feature\":\"faq-bot\",\"usage\":{\"prompt_tokens\":-40,\"completion_tokens\":3}}"),
    ("missing_model", "{\"feature\":\"faq-bot\",\"usage\":{\"prompt_tokens\":40,\"completion_tokens\":3}}"),
    ("absurd_tokens", "{\"model\":\"gpt-4o\",\"feature\":\"faq-bot\",\"usage\":{\"prompt_tokens\":1000000000000,\"completion_tokens\":3}}"),
];

impl Gen<'_> {
    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// A time of day in ms, busier during working hours (UTC).
    fn diurnal_ms(&mut self) -> i64 {
        let hour = loop {
            let h = self.rng.range(0, 23);
            let w = if (8..=19).contains(&h) { 1.0 } else { 0.25 };
            if self.rng.chance(w) {
                break h;
            }
        };
        (hour * 3_600_000 + self.rng.range(0, 3_599_999)) as i64
    }

    fn base(
        &mut self,
        day_ms: i64,
        feature: &'static str,
        model: &'static str,
        provider: &'static str,
        convention: Convention,
    ) -> Call {
        let ms = day_ms + self.diurnal_ms();
        let user = self.rng.range(1, 400) as u32;
        Call {
            ms,
            feature,
            model,
            provider,
            convention,
            team: "platform",
            route: "/v1/chat/completions",
            user,
            session: None,
            turn: None,
            input: 0,
            cached: 0,
            cache_write: 0,
            cache_write_1h: 0,
            output: 0,
            reasoning: 0,
            error: None,
            attempt: 1,
            retry_of: None,
            finish: "stop",
            max_tokens: Some(1024),
            prompt_hash: self.rng.next_u64(),
            prefix_hash: None,
            prefix_tokens: None,
            batch_tag: false,
            cost_markup: false,
            usage_missing: false,
            question: None,
            history: Vec::new(),
            repeat: Repeat::No,
        }
    }

    /// Random failures: 1.5% server errors with input billed, 0.5% 429s.
    fn maybe_fail(&mut self, c: &mut Call) {
        if c.error.is_some() {
            return;
        }
        if self.rng.chance(0.015) {
            c.error = Some(("server_error", 500));
            c.output = 0;
            c.reasoning = 0;
            c.finish = "error";
        } else if self.rng.chance(0.005) {
            c.error = Some(("rate_limit", 429));
            c.usage_missing = true;
            c.finish = "error";
        }
    }

    fn event(&mut self, day: u32, day_ms: i64, sink: &mut dyn Sink) -> io::Result<()> {
        let r = self.rng.range(0, 999);
        let half = day >= self.cfg.days / 2;
        let mut calls: Vec<Call> = Vec::new();
        match r {
            0..=149 => {
                let mut c = self.base(
                    day_ms,
                    "ticket-classifier",
                    "gpt-4o-2024-08-06",
                    "openai",
                    Convention::OpenAi,
                );
                c.team = "support";
                c.input = self.rng.range(300, 800);
                c.output = self.rng.range(1, 5);
                c.max_tokens = Some(5);
                calls.push(c);
            }
            150..=169 => {
                // One support conversation: history resent every turn.
                let mut c = self.base(
                    day_ms,
                    "support-chat",
                    "claude-sonnet-4-20250514",
                    "anthropic",
                    Convention::Anthropic,
                );
                let turns = self.rng.range(5, 30) as u32;
                let session = (day, self.rng.range(0, 9_999_999) as u32);
                let system = self.rng.next_u64();
                let mut history = 1500u64;
                let mut earlier = Vec::new();
                for t in 1..=turns {
                    let mut call = c.clone();
                    call.team = "support";
                    call.session = Some(session);
                    call.turn = Some(t);
                    call.prefix_hash = Some(system);
                    call.prefix_tokens = Some(1500);
                    call.prompt_hash = self.rng.next_u64();
                    let user_msg = self.rng.range(30, 200);
                    call.input = history + user_msg;
                    call.output = self.rng.range(80, 400);
                    call.history.clone_from(&earlier);
                    earlier.push((user_msg as u32, call.output as u32));
                    history += user_msg + call.output;
                    call.ms = c.ms;
                    c.ms += self.rng.range(20_000, 90_000) as i64;
                    calls.push(call);
                }
            }
            170..=289 => {
                let mut c = self.base(day_ms, "doc-qa", "gpt-4.1", "openai", Convention::OpenAi);
                c.team = "knowledge";
                c.prefix_hash = Some(text::DOC_QA_PREFIX);
                c.prefix_tokens = Some(3200);
                // Retrieved context grows week by week (more chunks each release).
                c.input = 3200 + self.rng.range(300, 2800) + (day as u64 / 7) * 450;
                c.output = self.rng.range(100, 500);
                calls.push(c);
            }
            290..=349 => {
                let mut c = self.base(
                    day_ms,
                    "agent-planner",
                    "claude-3-5-haiku-20241022",
                    "anthropic",
                    Convention::Anthropic,
                );
                c.team = "agents";
                c.prefix_tokens = Some(2500);
                // One agent run: several steps seconds apart, each with the
                // current time in its system prompt.
                for _ in 0..self.rng.range(3, 8) {
                    let mut step = c.clone();
                    step.prefix_hash = Some(self.rng.next_u64());
                    step.prompt_hash = self.rng.next_u64();
                    step.input = 2500 + self.rng.range(200, 1500);
                    step.output = self.rng.range(150, 600);
                    calls.push(step);
                    c.ms += self.rng.range(5_000, 40_000) as i64;
                }
            }
            350..=429 => {
                let mut c = self.base(
                    day_ms,
                    "code-review",
                    "gpt-4o",
                    "openai",
                    Convention::OpenAi,
                );
                c.team = "devex";
                c.route = "/v1/responses";
                c.input = self.rng.range(2000, 9000);
                c.output = self.rng.range(200, 900);
                if self.rng.chance(0.12) {
                    // A storm: failed attempts faster than any backoff, then success.
                    let attempts = self.rng.range(3, 6) as u32;
                    let mut prev: Option<u64> = None;
                    for a in 1..=attempts {
                        let mut call = c.clone();
                        call.attempt = a;
                        call.retry_of = prev;
                        call.ms = c.ms + (a as i64 - 1) * self.rng.range(50, 250) as i64;
                        if a < attempts {
                            if self.rng.chance(0.5) {
                                call.error = Some(("rate_limit", 429));
                                call.usage_missing = true;
                            } else {
                                call.error = Some(("server_error", 500));
                                call.output = 0;
                            }
                            call.finish = "error";
                        }
                        // `write` numbers calls in order, so this call's id is known.
                        prev = Some(self.next_id + a as u64);
                        calls.push(call);
                    }
                } else {
                    calls.push(c);
                }
            }
            430..=549 => {
                let mut c = self.base(
                    day_ms,
                    "faq-bot",
                    "gpt-4.1-mini",
                    "openai",
                    Convention::OpenAi,
                );
                c.team = "support";
                let q = self.rng.range(0, 39);
                c.prompt_hash = 0xfa00_0000_0000_0000 | q;
                c.question = Some(QUESTIONS[q as usize]);
                // The question and its retrieved help-centre articles.
                c.input = 1600 + q * 40;
                c.output = 60 + q;
                // Often asked again (another user, a refresh) minutes later,
                // word for word or in other words.
                let again = self.rng.chance(0.5);
                let reworded = self.rng.chance(0.3);
                let mut repeat = c.clone();
                let mut other = c.clone();
                calls.push(c);
                if again {
                    repeat.repeat = Repeat::WordForWord;
                    repeat.ms += self.rng.range(60_000, 600_000) as i64;
                    repeat.user = self.rng.range(0, 299) as u32;
                    calls.push(repeat);
                }
                if reworded {
                    let q2 = (q + 10 * self.rng.range(1, 3)) % 40;
                    other.repeat = Repeat::Reworded;
                    other.prompt_hash = 0xfa00_0000_0000_0000 | q2;
                    other.question = Some(QUESTIONS[q2 as usize]);
                    other.input = 1600 + q2 * 40;
                    other.ms += self.rng.range(60_000, 1_200_000) as i64;
                    other.user = self.rng.range(0, 299) as u32;
                    calls.push(other);
                }
            }
            550..=629 => {
                let mut c = self.base(
                    day_ms,
                    "nightly-summaries",
                    "gemini-2.5-flash",
                    "google",
                    Convention::OpenAi,
                );
                c.team = "data";
                c.route = "/v1/batch-jobs";
                c.ms = day_ms + 2 * 3_600_000 + self.rng.range(0, 3_599_999) as i64;
                c.batch_tag = true;
                c.input = self.rng.range(4000, 12000);
                c.output = self.rng.range(300, 800);
                calls.push(c);
            }
            630..=679 => {
                let spike = day == truth::SPIKE_DAY;
                let n = if spike { 6 } else { 1 };
                for _ in 0..n {
                    let mut c = self.base(
                        day_ms,
                        "report-writer",
                        "o3-mini",
                        "openai",
                        Convention::OpenAi,
                    );
                    c.team = "finance";
                    c.input = self.rng.range(1500, 4000);
                    if self.rng.chance(0.2) {
                        c.max_tokens = Some(4096);
                        c.output = 4096;
                        c.finish = "length";
                    } else {
                        c.max_tokens = None;
                        c.output = self.rng.range(2000, 8000);
                    }
                    c.reasoning = c.output / 2;
                    calls.push(c);
                }
            }
            680..=779 => {
                let model = if half { "gpt-4o" } else { "gpt-4o-mini" };
                let mut c = self.base(
                    day_ms,
                    "search-summarize",
                    model,
                    "openai",
                    Convention::OpenAi,
                );
                c.team = "search";
                c.input = self.rng.range(1000, 3000);
                c.output = self.rng.range(100, 300);
                calls.push(c);
            }
            780..=919 => {
                let mut c = self.base(
                    day_ms,
                    "autocomplete",
                    "deepseek-chat",
                    "deepseek",
                    Convention::OpenAi,
                );
                c.team = "devex";
                c.input = self.rng.range(1000, 2000);
                c.cached = c.input * 8 / 10;
                c.output = self.rng.range(10, 60);
                calls.push(c);
            }
            920..=959 => {
                let mut c = self.base(
                    day_ms,
                    "translate",
                    "mistral-large-latest",
                    "mistral",
                    Convention::OpenAi,
                );
                c.team = "growth";
                c.input = self.rng.range(200, 1200);
                c.output = self.rng.range(200, 1200);
                // Now and then a whole document pasted in.
                if self.rng.chance(0.08) {
                    c.input = self.rng.range(8_000, 20_000);
                }
                c.cost_markup = true;
                calls.push(c);
            }
            960..=979 => {
                let mut c = self.base(
                    day_ms,
                    "contract-review",
                    "anthropic/claude-opus-4-1",
                    "anthropic",
                    Convention::Anthropic,
                );
                c.team = "legal";
                c.prefix_hash = Some(text::CONTRACT_PREFIX);
                c.prefix_tokens = Some(8000);
                if day >= truth::BREAK_DAY {
                    // A template change on day 21 broke the cached prefix:
                    // every call now writes the cache and none reads it.
                    c.prefix_hash = Some(self.rng.next_u64());
                    c.cache_write = 8000;
                    c.cache_write_1h = 8000;
                } else if self.rng.chance(0.1) {
                    c.cache_write = 8000;
                    c.cache_write_1h = 8000;
                } else {
                    c.cached = 8000;
                }
                c.input = 8000 + self.rng.range(1000, 5000);
                c.output = self.rng.range(300, 1500);
                calls.push(c);
            }
            _ => {
                let mut c = self.base(
                    day_ms,
                    "internal-tools",
                    "acme-llm-7b",
                    "acme",
                    Convention::OpenAi,
                );
                c.team = "platform";
                c.input = self.rng.range(100, 900);
                c.output = self.rng.range(20, 200);
                calls.push(c);
            }
        }
        let storm = calls
            .first()
            .is_some_and(|c| c.attempt == 1 && calls.len() > 1 && calls[1].attempt == 2);
        for mut c in calls {
            if !storm {
                self.maybe_fail(&mut c);
            }
            self.write(day, c, sink)?;
        }
        Ok(())
    }

    /// Writes the next malformed line into the day's main file: any of the
    /// gateway's kinds in its own shapes, otherwise a line that is not a JSON
    /// object (the other readers' kinds of bad field differ).
    fn plant(&mut self, day: u32, sink: &mut dyn Sink) -> io::Result<()> {
        let kinds = if self.cfg.shape.is_gateway() {
            &BAD_KINDS[..]
        } else {
            &BAD_KINDS[..2]
        };
        let (kind, text) = kinds[self.bad_kind % kinds.len()];
        self.bad_kind += 1;
        let fi = sink.file_for("faq-bot", day);
        let out = &mut sink.files()[fi];
        writeln!(out.writer, "{text}")?;
        out.lines += 1;
        out.bytes += text.len() as u64 + 1;
        self.truth.bad_lines.push(BadLine {
            file: out.name.clone(),
            line: out.lines,
            kind,
        });
        self.truth.lines += 1;
        Ok(())
    }

    /// The cost the producer logs with the call (see [`shapes::Line::cost`]):
    /// the list price, marked up 10% for `translate`.
    fn logged_cost(&self, c: &Call) -> Option<f64> {
        let markup = c.cost_markup && !c.usage_missing;
        if !markup && !self.cfg.shape.logs_cost() {
            return None;
        }
        let id = self.catalog.resolve(Some(c.provider), c.model)?;
        if c.usage_missing {
            return Some(0.0);
        }
        let usage = tokenaudit_core::Usage {
            input: c.input,
            cached_read: c.cached,
            cache_write: c.cache_write,
            cache_write_1h: c.cache_write_1h,
            output: c.output,
            reasoning: c.reasoning,
            ..Default::default()
        };
        let date = chrono::DateTime::from_timestamp_millis(c.ms)
            .expect("in range")
            .date_naive();
        let cost = self
            .catalog
            .price(id, Some(date), &usage, false)
            .cost
            .total()
            .to_f64();
        Some(if c.cost_markup { cost * 1.1 } else { cost })
    }

    fn write(&mut self, day: u32, c: Call, sink: &mut dyn Sink) -> io::Result<()> {
        let id = self.id();
        let fi = sink.file_for(c.feature, day);
        let shape = self.cfg.shape;
        let line = shapes::Line {
            call: &c,
            id,
            seed: self.cfg.seed,
            cost: self.logged_cost(&c),
        };
        self.buf.clear();
        shapes::render(shape, &line, &mut self.buf)?;
        let out = &mut sink.files()[fi];
        out.writer.write_all(&self.buf)?;
        out.lines += shape.lines_per_call();
        out.bytes += self.buf.len() as u64;

        self.counters.add(day, &c);
        let t = &mut self.truth;
        t.lines += shape.lines_per_call();
        t.not_call_lines += shape.lines_per_call() - 1;
        t.calls += 1;
        let failed = c.error.is_some();
        if failed {
            t.failed_calls += 1
        } else {
            t.ok_calls += 1
        }
        let s = t
            .by_feature_model
            .entry(format!("{}|{}", c.feature, c.model))
            .or_default();
        s.calls += 1;
        if failed {
            s.failed_calls += 1
        } else {
            s.ok_calls += 1
        }
        if !c.usage_missing {
            s.input += c.input;
            s.cached_read += c.cached;
            s.cache_write += c.cache_write;
            if shape.carries_1h_cache_writes() {
                s.cache_write_1h += c.cache_write_1h;
            }
            s.output += c.output;
            if shape.carries_reasoning() {
                s.reasoning += c.reasoning;
            }
        }
        Ok(())
    }
}

/// Generates `cfg.days` days into `sink`; with `max_bytes`, keeps going day
/// after day until that many bytes are written.
pub fn generate(
    cfg: &GenConfig,
    sink: &mut dyn Sink,
    max_bytes: Option<u64>,
) -> io::Result<GroundTruth> {
    let events = cfg.days as u64 * cfg.events_per_day as u64;
    let mut g = Gen {
        cfg,
        rng: Rng::new(cfg.seed),
        truth: GroundTruth::default(),
        next_id: 0,
        buf: Vec::with_capacity(1024),
        catalog: tokenaudit_core::pricing::Catalog::builtin(),
        bad_every: if cfg.bad_lines > 0 {
            (events / (cfg.bad_lines as u64 + 1)).max(1)
        } else {
            0
        },
        bad_kind: 0,
        counters: truth::Counters::default(),
    };
    let mut day = 0u32;
    loop {
        let date = cfg.start + Duration::days(day as i64);
        let day_ms = date
            .and_hms_opt(0, 0, 0)
            .expect("midnight")
            .and_utc()
            .timestamp_millis();
        for e in 0..cfg.events_per_day {
            let n = day as u64 * cfg.events_per_day as u64 + e as u64;
            if g.bad_every > 0
                && n > 0
                && n.is_multiple_of(g.bad_every)
                && (g.truth.bad_lines.len() as u32) < cfg.bad_lines
            {
                g.plant(day, sink)?;
            }
            g.event(day, day_ms, sink)?;
        }
        day += 1;
        match max_bytes {
            Some(max) => {
                let written: u64 = sink.files().iter().map(|f| f.bytes).sum();
                if written >= max {
                    break;
                }
            }
            None if day >= cfg.days => break,
            None => {}
        }
    }
    for f in sink.files() {
        f.writer.flush()?;
    }
    let t = &mut g.truth;
    t.shape = cfg.shape.name();
    t.seed = cfg.seed;
    t.planted = truth::planted(cfg.shape, cfg.start, day, &g.counters, &t.by_feature_model);
    Ok(g.truth)
}

/// Writes `cfg`'s days into one file at `path` (compressed as its name
/// says, see [`Output::create`]) and returns what it wrote.
pub fn write_file(cfg: &GenConfig, path: &Path) -> io::Result<GroundTruth> {
    let mut sink = SingleFile(vec![Output::create(path)?]);
    let truth = generate(cfg, &mut sink, None)?;
    drop(sink);
    Ok(truth)
}

/// The layout of the committed sample: days 1–15 plain, the rest gzip, the
/// nightly batch feature in its own zstd file.
pub struct SampleLayout {
    pub files: Vec<Output>,
    pub split_day: u32,
}

impl Sink for SampleLayout {
    fn file_for(&self, feature: &str, day: u32) -> usize {
        if feature == "nightly-summaries" {
            2
        } else if day < self.split_day {
            0
        } else {
            1
        }
    }
    fn files(&mut self) -> &mut [Output] {
        &mut self.files
    }
}

/// Everything into one writer.
pub struct SingleFile(pub Vec<Output>);

impl Sink for SingleFile {
    fn file_for(&self, _: &str, _: u32) -> usize {
        0
    }
    fn files(&mut self) -> &mut [Output] {
        &mut self.0
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn gen_to_memory(cfg: &GenConfig) -> (Vec<u8>, GroundTruth) {
        gen_to_memory_up_to(cfg, None)
    }

    fn gen_to_memory_up_to(cfg: &GenConfig, max: Option<u64>) -> (Vec<u8>, GroundTruth) {
        let shared = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        struct W(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);
        impl Write for W {
            fn write(&mut self, b: &[u8]) -> io::Result<usize> {
                self.0.borrow_mut().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut sink = SingleFile(vec![Output {
            name: "mem".into(),
            writer: Box::new(W(shared.clone())),
            lines: 0,
            bytes: 0,
        }]);
        let truth = generate(cfg, &mut sink, max).unwrap();
        drop(sink);
        let bytes = shared.borrow().clone();
        (bytes, truth)
    }

    #[test]
    fn same_seed_same_bytes() {
        let cfg = GenConfig {
            days: 3,
            events_per_day: 200,
            ..Default::default()
        };
        let (a, ta) = gen_to_memory(&cfg);
        let (b, tb) = gen_to_memory(&cfg);
        assert_eq!(a, b);
        assert_eq!(ta, tb);
        let (c, _) = gen_to_memory(&GenConfig { seed: 7, ..cfg });
        assert_ne!(a, c);
    }

    /// A cheap fingerprint of bytes (FNV-1a).
    fn fnv(b: &[u8]) -> u64 {
        b.iter().fold(0xcbf2_9ce4_8422_2325, |h, &x| {
            (h ^ x as u64).wrapping_mul(0x100_0000_01b3)
        })
    }

    #[test]
    fn the_gateway_shape_never_changes() {
        // The committed sample logs and the benchmark files are this shape:
        // rendering the other shapes must not change a byte of it. The
        // figures are those of `tokenaudit-samplegen --size 1MB` before the
        // shapes came (the first 1 MB day of the benchmark files).
        let (bytes, truth) = gen_to_memory_up_to(&GenConfig::default(), Some(1 << 20));
        assert_eq!((truth.lines, bytes.len()), (2539, 1_485_915));
        assert_eq!(fnv(&bytes), 0x8138_f8a6_4380_4208);
    }

    #[test]
    fn every_shape_writes_the_same_calls() {
        let cfg = GenConfig {
            days: 4,
            events_per_day: 80,
            bad_lines: 4,
            ..Default::default()
        };
        let (_, gateway) = gen_to_memory(&cfg);
        for shape in LogShape::ALL {
            let (bytes, t) = gen_to_memory(&GenConfig {
                shape,
                ..cfg.clone()
            });
            let text = String::from_utf8(bytes).unwrap();
            assert_eq!(t.shape, shape.name());
            assert_eq!(
                (t.calls, t.ok_calls, t.failed_calls),
                (gateway.calls, gateway.ok_calls, gateway.failed_calls),
                "{}",
                shape.name()
            );
            assert_eq!(t.lines, text.lines().count() as u64);
            assert_eq!(
                t.lines,
                t.calls * shape.lines_per_call() + t.bad_lines.len() as u64
            );
            assert_eq!(t.not_call_lines, t.calls * (shape.lines_per_call() - 1));
            // Every line but the planted ones is one JSON object.
            let bad: Vec<u64> = t.bad_lines.iter().map(|b| b.line).collect();
            for (i, line) in text.lines().enumerate() {
                let parsed = serde_json::from_str::<serde_json::Value>(line);
                let is_object = parsed.is_ok_and(|v| v.is_object());
                let planted = bad.contains(&(i as u64 + 1));
                // Some planted gateway lines are valid JSON with a bad field.
                assert!(is_object || planted, "{} line {}", shape.name(), i + 1);
                if !shape.is_gateway() {
                    assert_eq!(is_object, !planted, "{} line {}", shape.name(), i + 1);
                }
            }
            // The same sums, less what the shape cannot count.
            for (key, want) in &gateway.by_feature_model {
                let mut want = want.clone();
                if !shape.carries_1h_cache_writes() {
                    want.cache_write_1h = 0;
                }
                if !shape.carries_reasoning() {
                    want.reasoning = 0;
                }
                assert_eq!(&t.by_feature_model[key], &want, "{} {key}", shape.name());
            }
            // The same planted waste, in the shape's terms.
            let figures = |t: &GroundTruth| -> Vec<_> {
                t.planted
                    .iter()
                    .map(|p| (p.rule, p.feature, p.figures.clone()))
                    .collect()
            };
            assert_eq!(figures(&t), figures(&gateway), "{}", shape.name());
        }
    }

    #[test]
    fn prompt_text_repeats_exactly_when_the_gateways_hashes_do() {
        // Zip the gateway's lines with each text shape's: a prompt's text
        // (and a system prompt's) must map one to one onto the hashes, or
        // the text shapes would plant duplicates the gateway does not have,
        // or hide the ones it has.
        let cfg = GenConfig {
            days: 22,
            events_per_day: 30,
            ..Default::default()
        };
        let (gateway, _) = gen_to_memory(&cfg);
        let gateway = String::from_utf8(gateway).unwrap();
        for shape in [
            LogShape::LiteLlmMessages,
            LogShape::Otel,
            LogShape::GatewayAltShuffled,
        ] {
            let (bytes, _) = gen_to_memory(&GenConfig {
                shape,
                ..cfg.clone()
            });
            let text = String::from_utf8(bytes).unwrap();
            let mut by_hash: BTreeMap<(String, String), String> = BTreeMap::new();
            let mut by_text: BTreeMap<String, (String, String)> = BTreeMap::new();
            let mut by_prefix: BTreeMap<String, String> = BTreeMap::new();
            let mut by_system: BTreeMap<String, String> = BTreeMap::new();
            for (g, line) in gateway.lines().zip(text.lines()) {
                let g: serde_json::Value = serde_json::from_str(g).unwrap();
                let v: serde_json::Value = serde_json::from_str(line).unwrap();
                let (system, messages) = match shape {
                    LogShape::Otel => {
                        let attrs =
                            &v["resourceSpans"][0]["scopeSpans"][1]["spans"][0]["attributes"];
                        let attr = |k: &str| {
                            attrs
                                .as_array()
                                .unwrap()
                                .iter()
                                .find(|a| a["key"] == k)
                                .unwrap()["value"]["stringValue"]
                                .as_str()
                                .unwrap()
                                .to_string()
                        };
                        (
                            attr("gen_ai.system_instructions"),
                            attr("gen_ai.input.messages"),
                        )
                    }
                    _ => {
                        let m = v["messages"].as_array().unwrap();
                        (
                            m[0].to_string(),
                            serde_json::Value::from(m[1..].to_vec()).to_string(),
                        )
                    }
                };
                // A prompt is its hash within the model (the gateway's
                // duplicates are per model).
                let key = (g["model"].to_string(), g["prompt_hash"].to_string());
                let whole = format!("{system}{messages}");
                assert_eq!(by_hash.entry(key.clone()).or_insert(whole.clone()), &whole);
                assert_eq!(by_text.entry(whole).or_insert(key.clone()), &key);
                let prefix = g["system_prompt_hash"].to_string();
                if prefix != "null" {
                    assert_eq!(
                        by_prefix.entry(prefix.clone()).or_insert(system.clone()),
                        &system
                    );
                    assert_eq!(by_system.entry(system).or_insert(prefix.clone()), &prefix);
                }
            }
            // Repeats happened: retries, duplicates and stable prompts.
            assert!(by_hash.len() < gateway.lines().count(), "{}", shape.name());
            assert!(by_prefix.len() > 10);
        }
    }

    #[test]
    fn the_shuffled_shape_orders_keys_differently_on_each_line() {
        let (bytes, _) = gen_to_memory(&GenConfig {
            days: 1,
            events_per_day: 50,
            shape: LogShape::GatewayAltShuffled,
            ..Default::default()
        });
        let text = String::from_utf8(bytes).unwrap();
        let firsts: std::collections::BTreeSet<&str> =
            text.lines().map(|l| l.split(':').next().unwrap()).collect();
        assert!(firsts.len() > 10, "{firsts:?}");
    }

    #[test]
    fn truth_matches_an_independent_reparse() {
        let cfg = GenConfig {
            days: 4,
            events_per_day: 300,
            bad_lines: 6,
            ..Default::default()
        };
        let (bytes, truth) = gen_to_memory(&cfg);
        let text = String::from_utf8(bytes).unwrap();
        let mut sums: BTreeMap<String, Sums> = BTreeMap::new();
        let mut bad = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let v: serde_json::Value = match serde_json::from_str(line) {
                Ok(v) => v,
                Err(_) => {
                    bad.push(i as u64 + 1);
                    continue;
                }
            };
            if v.get("feature").is_none()
                || v["model"].is_null()
                || v["usage"]["prompt_tokens"].is_string()
                || v["usage"]["prompt_tokens"]
                    .as_i64()
                    .is_some_and(|n| !(0..=1_000_000_000).contains(&n))
            {
                bad.push(i as u64 + 1);
                continue;
            }
            let key = format!(
                "{}|{}",
                v["feature"].as_str().unwrap(),
                v["model"].as_str().unwrap()
            );
            let s = sums.entry(key).or_default();
            s.calls += 1;
            if v["status"] == "ok" {
                s.ok_calls += 1
            } else {
                s.failed_calls += 1
            }
            let u = &v["usage"];
            let n = |x: &serde_json::Value| x.as_u64().unwrap_or(0);
            if u.get("prompt_tokens").is_some() {
                s.input += n(&u["prompt_tokens"]);
                s.cached_read += n(&u["prompt_tokens_details"]["cached_tokens"]);
                s.output += n(&u["completion_tokens"]);
                s.reasoning += n(&u["completion_tokens_details"]["reasoning_tokens"]);
            } else if u.get("input_tokens").is_some() {
                // Anthropic: total input = input + cache reads + cache writes.
                let (i, r, w) = (
                    n(&u["input_tokens"]),
                    n(&u["cache_read_input_tokens"]),
                    n(&u["cache_creation_input_tokens"]),
                );
                s.input += i + r + w;
                s.cached_read += r;
                s.cache_write += w;
                s.cache_write_1h += n(&u["cache_creation"]["ephemeral_1h_input_tokens"]);
                s.output += n(&u["output_tokens"]);
            }
        }
        assert_eq!(sums, truth.by_feature_model);
        assert_eq!(
            bad,
            truth.bad_lines.iter().map(|b| b.line).collect::<Vec<_>>()
        );
        assert_eq!(truth.bad_lines.len(), 6);
        assert_eq!(truth.lines, text.lines().count() as u64);
    }
}
