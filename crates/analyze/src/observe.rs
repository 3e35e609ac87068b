//! What the detectors need to know about individual calls, gathered while the
//! calls stream past, in bounded memory.
//!
//! Attribution tables (`accumulate.rs`) answer "how much, on what". The
//! detectors also ask about *shapes*: how cost per call is distributed, how
//! input grows within a session, which prompts repeat within minutes, how
//! retries follow errors. Those answers are gathered here, per worker, and
//! merged by addition like everything else:
//!
//! - [`CellObs`], one per (feature, model): histograms of cost, input and
//!   output per call, input per week, calls per hour of day, length-capped
//!   and uncapped outputs, user-facing tags, the costliest calls, and the
//!   heavy system-prompt prefixes.
//! - keyed samples ([`HashSample`]) of sessions, repeated prompts and retry
//!   chains: exact while small, coordinated hash samples when large.
//!
//! Nothing here keeps prompt text by default; only fingerprints, counts,
//! tokens, costs, times and a few request ids as evidence. With
//! `--include-prompts` ([`AnalyzeConfig::include_prompts`](crate::AnalyzeConfig)),
//! the entries that already keep a sample request id (a repeated prompt, a
//! near-duplicate candidate, a system-prompt prefix) also keep one short
//! excerpt of their text, so memory stays bounded by those samples.

use rustc_hash::FxHashMap;

use tokenaudit_core::{CallRecord, CallStatus, Money};
use tokenaudit_ingest::Location;

use crate::cachesim::replay::Runs;
use crate::infer::prefix::PrefixSize;
use crate::infer::timeline::Timelines;
use crate::sketch::{HashSample, LogHist};

mod wire;

/// Request ids kept per sample list (evidence for a finding).
pub const SAMPLE_IDS: usize = 3;
/// The costliest calls kept per cell.
pub const TOP_PER_CELL: usize = 5;

/// The largest `max_tokens` that is a call's whole answer, not a limit it
/// may run into (a label, a yes or no, a health check's one token): such
/// calls are never "cut at the length limit" (TA112). (At 16, a title
/// generator's cut titles were missed: hunt95.)
pub const TINY_LIMIT: u32 = 4;

/// The view of one call the observers get: the record plus what pricing and
/// attribution already worked out.
pub struct Call<'a, 'r> {
    pub record: &'a CallRecord<'r>,
    pub status: CallStatus,
    /// `None` for a model the catalog does not know.
    pub cost: Option<Money>,
    /// The (feature, model) cell's key hash (stable across workers).
    pub cell: u64,
    /// Milliseconds since the epoch, when the call has a timestamp.
    pub millis: Option<i64>,
}

impl Call<'_, '_> {
    pub fn cost_picos(&self) -> i64 {
        self.cost
            .map_or(0, |c| c.picos().clamp(0, i64::MAX as i128) as i64)
    }
}

/// A few request ids: the smallest seen, so the choice depends neither on
/// the order calls come in nor on the workers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Samples(pub Vec<Box<str>>);

impl Samples {
    /// Keeps the smallest ids seen, so the choice does not depend on the
    /// order calls arrive in.
    #[inline]
    pub fn offer(&mut self, id: Option<&str>) {
        let Some(id) = id else { return };
        if self.0.len() == SAMPLE_IDS && self.0.last().is_some_and(|l| &**l <= id) {
            return;
        }
        if self.0.iter().any(|x| &**x == id) {
            return;
        }
        let at = self.0.partition_point(|x| &**x < id);
        self.0.insert(at, id.into());
        self.0.truncate(SAMPLE_IDS);
    }

    pub fn merge(&mut self, o: &Samples) {
        self.0.extend(o.0.iter().cloned());
        self.0.sort();
        self.0.dedup();
        self.0.truncate(SAMPLE_IDS);
    }

    pub fn ids(&self) -> Vec<String> {
        let mut v: Vec<String> = self.0.iter().map(|s| s.to_string()).collect();
        v.sort();
        v
    }
}

/// Calls, tokens and cost of a subset of a cell's calls.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub calls: u64,
    pub input: u64,
    pub output: u64,
    pub cost: Money,
}

impl Tally {
    #[inline]
    pub fn add(&mut self, c: &Call<'_, '_>) {
        self.calls += 1;
        self.input += c.record.usage.input;
        self.output += c.record.usage.output;
        self.cost += c.cost.unwrap_or(Money::ZERO);
    }

    pub fn merge(&mut self, o: &Tally) {
        self.calls += o.calls;
        self.input += o.input;
        self.output += o.output;
        self.cost += o.cost;
    }
}

/// Five minutes, the shortest provider prompt-cache lifetime: calls of a
/// prefix are kept as runs no further apart than this (see
/// [`Runs`]), which replays every longer lifetime exactly.
pub const CACHE_GAP_MS: i64 = 5 * 60 * 1000;

/// One system-prompt prefix within a cell.
#[derive(Clone, Debug)]
pub struct PrefixObs {
    pub calls: u64,
    /// Calls that read some tokens from the provider's prompt cache.
    pub cached_calls: u64,
    /// Σ prefix tokens over the calls (when logged).
    pub prefix_tokens: u64,
    /// Calls whose prefix token count was logged.
    pub with_tokens: u64,
    pub cached_read: u64,
    /// Σ cache-write tokens of the calls.
    pub cache_write: u64,
    /// The calls' times as runs, for the prompt-cache replay.
    pub runs: Runs,
    /// Σ characters of the prefix's text and the calls that carried it.
    pub text_chars: u64,
    pub text_calls: u64,
    /// The smallest input of the calls (the prefix cannot be longer).
    pub min_input: u64,
    /// The prefix's size, estimated once at the end from the above
    /// (`Accumulator::finish`), with where it came from.
    pub size: Option<PrefixSize>,
    /// An excerpt of the prefix's text (`--include-prompts` only).
    pub excerpt: Option<Box<str>>,
}

impl Default for PrefixObs {
    fn default() -> Self {
        PrefixObs {
            calls: 0,
            cached_calls: 0,
            prefix_tokens: 0,
            with_tokens: 0,
            cached_read: 0,
            cache_write: 0,
            runs: Runs::new(CACHE_GAP_MS),
            text_chars: 0,
            text_calls: 0,
            min_input: u64::MAX,
            size: None,
            excerpt: None,
        }
    }
}

impl PrefixObs {
    pub fn merge(&mut self, p: PrefixObs) {
        self.calls += p.calls;
        self.cached_calls += p.cached_calls;
        self.prefix_tokens += p.prefix_tokens;
        self.with_tokens += p.with_tokens;
        self.cached_read += p.cached_read;
        self.cache_write += p.cache_write;
        self.runs.merge(p.runs);
        self.text_chars += p.text_chars;
        self.text_calls += p.text_calls;
        self.min_input = self.min_input.min(p.min_input);
        merge_excerpt(&mut self.excerpt, p.excerpt);
    }

    /// What is known of the prefix's size, for [`crate::infer::prefix::estimate`].
    pub fn facts<'a>(&self, provider: &'a str) -> crate::infer::prefix::PrefixFacts<'a> {
        crate::infer::prefix::PrefixFacts {
            logged_tokens: self.prefix_tokens,
            logged_calls: self.with_tokens,
            text_chars: self.text_chars,
            text_calls: self.text_calls,
            provider,
            shared_blocks: None,
            min_input: if self.min_input == u64::MAX {
                0
            } else {
                self.min_input
            },
        }
    }
}

/// Everything observed about one (feature, model) cell.
#[derive(Clone, Debug, Default)]
pub struct CellObs {
    /// Cost per priced call, in pico-dollars.
    pub cost: LogHist,
    pub input: LogHist,
    pub output: LogHist,
    /// Input tokens per call, by ISO week (Monday's day number since CE).
    pub weekly_input: Vec<(i32, LogHist)>,
    /// Calls by hour of day (UTC).
    pub hours: [u64; 24],
    /// Calls that stopped on the output-length limit.
    pub length_capped: Tally,
    pub length_capped_ids: Samples,
    /// Calls sent without max_tokens (when the log records max_tokens at all).
    pub no_max_tokens: Tally,
    /// Output per call of the calls without max_tokens.
    pub no_max_output: LogHist,
    /// Calls tagged user-facing (`user_facing`/`interactive` true) / not.
    pub user_facing: u64,
    pub not_user_facing: u64,
    /// The calls tagged not user-facing, with their cost: TA113's share of
    /// a feature whose other calls carry no such tag.
    pub background: Tally,
    /// Calls that are a later turn of a conversation (a logged turn of 2
    /// or more, or two or more user messages in the logged `messages`):
    /// someone is talking with the model (TA113's untagged bursts).
    pub conversation_calls: u64,
    /// Calls sent through a batch API.
    pub batch_calls: u64,
    /// Calls whose usage gave a cached-read count, zero included: whether
    /// this cell's logs record cached tokens at all (TA103, TA104).
    pub cached_read_logged: u64,
    /// The costliest calls: (cost picos, which call).
    pub top: Vec<(i64, CallId)>,
    /// System-prompt prefixes (a coordinated sample past
    /// [`SAMPLE_CAPACITY`](crate::sketch::SAMPLE_CAPACITY); each kept prefix
    /// stands for `prefixes.scale()`).
    pub prefixes: HashSample<PrefixObs>,
    /// Calls that carried a prefix fingerprint.
    pub prefixed_calls: u64,
    /// The smallest input of those calls that logged any (0: none did): a
    /// bound on the size of a volatile prefix, whose variants are each sent
    /// once (TA104).
    pub prefixed_min_input: u64,
    /// The times of the calls with a prefix, as runs (the writes one stable
    /// prefix would need).
    pub prefix_runs: Runs,
    /// Calls above the per-call budget and by how much in total.
    pub over_call_budget: Tally,
    pub over_call_budget_excess: Money,
    pub over_call_budget_ids: Samples,
    /// Requests LiteLLM answered from its own cache (skipped, never
    /// priced): evidence for the response-caching findings.
    pub litellm_cache_hits: CacheHits,
}

/// Requests a gateway answered from its own response cache (LiteLLM's
/// `cache_hit` rows): not calls, but the repeats a cache already caught.
#[derive(Clone, Debug, Default)]
pub struct CacheHits {
    pub calls: u64,
    /// Of those, the ones with a prompt fingerprint.
    pub with_prompt: u64,
    /// Hits per prompt fingerprint (a coordinated sample past its capacity).
    pub prompts: HashSample<u64>,
}

impl CacheHits {
    pub fn add(&mut self, prompt_fp: Option<u64>) {
        self.calls += 1;
        if let Some(fp) = prompt_fp {
            self.with_prompt += 1;
            if let Some(n) = self.prompts.entry(fp, || 0) {
                *n += 1;
            }
        }
    }

    pub fn merge(&mut self, o: CacheHits) {
        self.calls += o.calls;
        self.with_prompt += o.with_prompt;
        self.prompts.merge(o.prompts, |a, b| *a += b);
    }

    /// Distinct prompts among the hits with a fingerprint (estimated past
    /// the sample's capacity).
    pub fn distinct_prompts(&self) -> u64 {
        self.prompts.len() as u64 * self.prompts.scale()
    }
}

/// The ISO week of a day: the day number (since CE) of its Monday.
pub fn week_of(day: chrono::NaiveDate) -> i32 {
    use chrono::Datelike;
    day.num_days_from_ce() - day.weekday().num_days_from_monday() as i32
}

/// Reads yes/no words, in any case (no allocation: this runs per call).
fn truthy(v: &str) -> Option<bool> {
    let v = v.trim();
    let any = |words: &[&str]| words.iter().any(|w| v.eq_ignore_ascii_case(w));
    if any(&["true", "yes", "1", "y"]) {
        Some(true)
    } else if any(&["false", "no", "0", "n"]) {
        Some(false)
    } else {
        None
    }
}

/// Whether the call's tags say it serves a user waiting for it.
pub fn user_facing(r: &CallRecord<'_>) -> Option<bool> {
    for (k, v) in &r.tags {
        match k.as_ref() {
            "user_facing" | "interactive" | "userFacing" => return truthy(v),
            "background" | "offline" => return truthy(v).map(|b| !b),
            _ => {}
        }
    }
    None
}

impl CellObs {
    #[inline]
    pub fn observe(&mut self, c: &Call<'_, '_>, at: Location) {
        let r = c.record;
        let u = &r.usage;
        if c.cost.is_some() {
            self.cost.add(c.cost_picos() as u64);
        }
        self.input.add(u.input);
        self.output.add(u.output);
        if let Some(t) = r.timestamp {
            use chrono::Timelike;
            self.hours[t.hour() as usize] += 1;
            // Kept in week order whatever order the calls come in (a log
            // read newest first, one thread): TA106 compares the first
            // week with the last.
            let w = week_of(t.date_naive());
            match self.weekly_input.binary_search_by_key(&w, |(wk, _)| *wk) {
                Ok(i) => self.weekly_input[i].1.add(u.input),
                Err(i) => {
                    let mut h = LogHist::default();
                    h.add(u.input);
                    self.weekly_input.insert(i, (w, h));
                }
            }
        }
        // Stopped on the length limit: as the finish reason says, or, where
        // none is logged (Langfuse, most gateways), an output that reached
        // the call's `max_tokens`.
        // A limit of a few tokens is asked to be reached: a classifier's
        // label, a health check's `max_tokens: 1` (hunt92: every such call
        // was "cut", half its spend a saving).
        // (Without a logged limit, an output of a few tokens stopped at
        // the limit had such a limit: hunt95.)
        let capped = match (r.finish_reason.as_deref(), r.max_tokens) {
            (_, Some(limit)) if limit <= TINY_LIMIT => false,
            (Some(_), None) if u.output <= u64::from(TINY_LIMIT) => false,
            (Some(reason), _) => is_length_stop(reason),
            (None, Some(limit)) => limit > 0 && u.output >= u64::from(limit),
            (None, None) => false,
        };
        if capped {
            self.length_capped.add(c);
            self.length_capped_ids.offer(r.request_id.as_deref());
        }
        // A Claude call cut at the length limit had a limit, logged or not:
        // Anthropic's API takes no request without `max_tokens` (hunt70:
        // such stops were counted without one, in the uncapped tail).
        // Another model's may have run to its own ceiling with none set
        // (hunt73: OpenAI's at 16,384 tokens are the runaway tail).
        let limit_required = capped
            && tokenaudit_ingest::record::tags::contains_ignore_ascii_case(&r.model, "claude");
        if r.max_tokens.is_none() && !limit_required {
            self.no_max_tokens.add(c);
            // A call that ended in a tool call: its output is the tool's
            // arguments (an agent writing a file), no answer running on
            // (hunt97: "set max_tokens to about 497" on a coding agent).
            if !r.finish_reason.as_deref().is_some_and(is_tool_stop) {
                self.no_max_output.add(u.output);
            }
        }
        match user_facing(r) {
            Some(true) => self.user_facing += 1,
            Some(false) => {
                self.not_user_facing += 1;
                self.background.add(c);
            }
            None => {}
        }
        if r.turn.is_some_and(|t| t >= 2) || r.user_messages.is_some_and(|n| n >= 2) {
            self.conversation_calls += 1;
        }
        if r.is_batch() {
            self.batch_calls += 1;
        }
        if r.cached_read_logged || u.cached_read > 0 {
            self.cached_read_logged += 1;
        }
        let cost = c.cost_picos();
        if c.cost.is_some() {
            let id = || match r.request_id.as_deref() {
                Some(id) => CallId::Logged(id.into()),
                None => CallId::At(at),
            };
            // In `sort_top`'s order (a tie on cost goes to the smaller id),
            // so the cell keeps the same calls whatever order they come in.
            let admit = self.top.len() < TOP_PER_CELL
                || self
                    .top
                    .last()
                    .is_some_and(|t| cost > t.0 || (cost == t.0 && id() < t.1));
            if admit {
                self.top.push((cost, id()));
                sort_top(&mut self.top);
                self.top.truncate(TOP_PER_CELL);
            }
        }
        if let Some(fp) = r.prefix_fp {
            self.prefixed_calls += 1;
            self.prefixed_min_input = min_logged(self.prefixed_min_input, u.input);
            if let Some(ms) = c.millis {
                self.prefix_runs.add(ms);
            }
            if let Some(e) = self.prefixes.entry(fp, PrefixObs::default) {
                e.calls += 1;
                if u.cached_read > 0 {
                    e.cached_calls += 1;
                }
                e.cached_read += u.cached_read;
                e.cache_write += u.cache_write;
                // A call that logged no usage (a request refused with a
                // 429, say) says nothing of the prefix's size.
                if u.input > 0 {
                    e.min_input = e.min_input.min(u.input);
                }
                if let Some(t) = r.prefix_tokens {
                    e.prefix_tokens += t;
                    e.with_tokens += 1;
                }
                if let Some(chars) = r.prefix_chars {
                    e.text_chars += chars;
                    e.text_calls += 1;
                }
                if let Some(ms) = c.millis {
                    e.runs.add(ms);
                }
            }
        }
    }

    /// Counts a call above the per-call budget.
    pub fn over_budget(&mut self, c: &Call<'_, '_>, budget: Money) {
        if let Some(cost) = c.cost {
            if cost > budget {
                self.over_call_budget.add(c);
                self.over_call_budget_excess += cost - budget;
                self.over_call_budget_ids
                    .offer(c.record.request_id.as_deref());
            }
        }
    }

    pub fn merge(&mut self, o: CellObs) {
        self.cost.merge(&o.cost);
        self.input.merge(&o.input);
        self.output.merge(&o.output);
        for (w, h) in o.weekly_input {
            match self.weekly_input.iter_mut().find(|(wk, _)| *wk == w) {
                Some((_, mine)) => mine.merge(&h),
                None => self.weekly_input.push((w, h)),
            }
        }
        self.weekly_input.sort_by_key(|(w, _)| *w);
        for (a, b) in self.hours.iter_mut().zip(o.hours) {
            *a += b;
        }
        self.length_capped.merge(&o.length_capped);
        self.length_capped_ids.merge(&o.length_capped_ids);
        self.no_max_tokens.merge(&o.no_max_tokens);
        self.no_max_output.merge(&o.no_max_output);
        self.user_facing += o.user_facing;
        self.not_user_facing += o.not_user_facing;
        self.background.merge(&o.background);
        self.conversation_calls += o.conversation_calls;
        self.batch_calls += o.batch_calls;
        self.cached_read_logged += o.cached_read_logged;
        self.top.extend(o.top);
        sort_top(&mut self.top);
        self.top.truncate(TOP_PER_CELL);
        self.prefixes.merge(o.prefixes, |a, b| a.merge(b));
        self.prefixed_calls += o.prefixed_calls;
        self.prefixed_min_input = min_logged(self.prefixed_min_input, o.prefixed_min_input);
        self.prefix_runs.merge(o.prefix_runs);
        self.over_call_budget.merge(&o.over_call_budget);
        self.over_call_budget_excess += o.over_call_budget_excess;
        self.over_call_budget_ids.merge(&o.over_call_budget_ids);
        self.litellm_cache_hits.merge(o.litellm_cache_hits);
    }

    /// Estimated distinct prefixes: the prefix sample's keys, scaled (it
    /// sees every prefixed call's key, so it is also the distinct count's
    /// coordinated sample).
    pub fn distinct_prefix_estimate(&self) -> u64 {
        self.prefixes.len() as u64 * self.prefixes.scale()
    }
}

/// The smaller of two input counts where 0 means "none logged".
fn min_logged(a: u64, b: u64) -> u64 {
    match (a, b) {
        (0, x) | (x, 0) => x,
        (a, b) => a.min(b),
    }
}

/// Whether a finish reason means "stopped on the output-length limit"
/// (OpenAI `length`, Anthropic `max_tokens`, Gemini `MAX_TOKENS`, Responses
/// `max_output_tokens`).
/// Whether a finish reason says the call ended in a tool call.
pub fn is_tool_stop(reason: &str) -> bool {
    ["tool_use", "tool_calls", "function_call"]
        .iter()
        .any(|r| reason.trim().eq_ignore_ascii_case(r))
}

pub fn is_length_stop(reason: &str) -> bool {
    [
        "length",
        "max_tokens",
        "max_output_tokens",
        "token_limit",
        "max_length",
    ]
    .iter()
    .any(|w| reason.eq_ignore_ascii_case(w))
}

/// Most expensive first, then by id, so merges are deterministic.
/// Names one of a cell's costliest calls: its logged request id, or, for a
/// call that logged none, where it was read. `take_profile` turns the
/// latter into `file:line` ids once file names and line numbers are known,
/// so the detectors only see logged ones.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum CallId {
    Logged(Box<str>),
    At(Location),
}

impl CallId {
    /// The id as findings show it ("" for a location not yet named, which
    /// the detectors never see).
    pub fn as_str(&self) -> &str {
        match self {
            CallId::Logged(id) => id,
            CallId::At(_) => "",
        }
    }
}

fn sort_top(v: &mut [(i64, CallId)]) {
    v.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
}

/// Turn-by-turn input of one session, as least-squares sums (additive, so
/// partial sessions from different workers merge exactly).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionObs {
    pub cell: u64,
    pub calls: u64,
    /// Σ turn, Σ turn², Σ input, Σ turn·input (turns from 1), exact
    /// integers so that merge order cannot change a bit of the result.
    pub s_t: u128,
    pub s_tt: u128,
    pub s_x: u128,
    pub s_tx: u128,
    pub max_turn: u32,
    /// Input tokens of the first turn seen (lowest turn number).
    pub first_turn: u32,
    pub first_input: u64,
    pub input: u64,
    pub input_cost: Money,
    pub cost: Money,
    pub request_id: Option<crate::short::ShortStr>,
    /// `None` for logged turns; else how the turns were inferred and
    /// whether the session itself was (cut by an inactivity gap).
    pub inferred: Option<(crate::infer::sessions::TurnSource, bool)>,
    /// Of the steps from one turn to the next, those whose input grew
    /// (inferred sessions only: a resent history grows at nearly every step).
    pub grew: u32,
    pub steps: u32,
    /// The three latest turns that are points of the fit, latest first
    /// (turn, its largest input; turn 0 for none).
    pub tail: [(u32, u64); 3],
    /// The three earliest, earliest first (turn 0 for none): with the
    /// tail, whether a window already caps the history.
    pub head: [(u32, u64); 3],
}

impl SessionObs {
    /// Notes turn `turn`'s `input` among the latest turns.
    fn note_tail(&mut self, turn: u32, input: u64) {
        if let Some(e) = self.tail.iter_mut().find(|e| e.0 == turn) {
            e.1 = e.1.max(input);
        } else if turn > self.tail[2].0 {
            self.tail[2] = (turn, input);
            self.tail.sort_unstable_by(|a, b| b.cmp(a));
        }
    }

    /// Notes turn `turn`'s `input` among the earliest turns.
    fn note_head(&mut self, turn: u32, input: u64) {
        if let Some(e) = self.head.iter_mut().find(|e| e.0 == turn) {
            e.1 = e.1.max(input);
        } else if let Some(free) = self.head.iter_mut().find(|e| e.0 == 0) {
            *free = (turn, input);
            self.head.sort_unstable_by_key(|e| (e.0 == 0, e.0, e.1));
        } else if turn < self.head[2].0 {
            self.head[2] = (turn, input);
            self.head.sort_unstable_by_key(|e| (e.0 == 0, e.0, e.1));
        }
    }

    /// Whether the session's history is already kept to `window` turns:
    /// its last turn sends no more than its first would with `window − 1`
    /// earlier turns at the growth of its first steps (its three earliest
    /// turns), within 5%. A history resent whole keeps growing past it.
    pub fn windowed(&self, window: f64) -> bool {
        let [(t1, x1), _, (t3, x3)] = self.head;
        let (last, x) = self.tail[0];
        // (A session no longer than the window cannot tell.)
        if t3 == 0 || t3 <= t1 || f64::from(last - t1 + 1) <= window {
            return false;
        }
        let early = (x3 as f64 - x1 as f64) / f64::from(t3 - t1);
        x as f64 <= 1.05 * (x1 as f64 + early.max(0.0) * (window - 1.0))
    }

    pub fn add(&mut self, c: &Call<'_, '_>, turn: u32, input_cost: Money) {
        self.add_turn(
            c.cell,
            turn,
            c.record.usage.input,
            input_cost,
            c.cost.unwrap_or(Money::ZERO),
        );
        if let Some(id) = c.record.request_id.as_deref() {
            if self
                .request_id
                .as_ref()
                .is_none_or(|mine| id.as_bytes() < mine.as_bytes())
            {
                self.request_id = Some(id.into());
            }
        }
    }

    /// Notes a call of turn `turn` that is no point of the fit: the first
    /// turn seen says whether the log counts turns from 0.
    pub fn mark_turn(&mut self, cell: u64, turn: u32) {
        self.cell = cell;
        if self.first_turn == 0 || turn < self.first_turn {
            self.first_turn = turn;
            self.first_input = 0;
        }
    }

    /// Adds one call of turn `turn` (from 1) of `input` tokens.
    pub fn add_turn(&mut self, cell: u64, turn: u32, input: u64, input_cost: Money, cost: Money) {
        let (t, x) = (turn as u128, input as u128);
        self.cell = cell;
        self.calls += 1;
        self.s_t += t;
        self.s_tt += t * t;
        self.s_x += x;
        self.s_tx += t * x;
        self.max_turn = self.max_turn.max(turn);
        if self.first_turn == 0 || turn < self.first_turn {
            self.first_turn = turn;
            self.first_input = input;
        }
        self.note_tail(turn, input);
        self.note_head(turn, input);
        self.input += input;
        self.input_cost += input_cost;
        self.cost += cost;
    }

    pub fn merge(&mut self, o: SessionObs) {
        self.calls += o.calls;
        self.s_t += o.s_t;
        self.s_tt += o.s_tt;
        self.s_x += o.s_x;
        self.s_tx += o.s_tx;
        self.max_turn = self.max_turn.max(o.max_turn);
        if o.first_turn != 0 && (self.first_turn == 0 || o.first_turn < self.first_turn) {
            self.first_turn = o.first_turn;
            self.first_input = o.first_input;
        }
        for (turn, input) in o.tail {
            if turn > 0 {
                self.note_tail(turn, input);
            }
        }
        for (turn, input) in o.head {
            if turn > 0 {
                self.note_head(turn, input);
            }
        }
        self.input += o.input;
        self.input_cost += o.input_cost;
        self.cost += o.cost;
        if o.request_id.is_some() && (self.request_id.is_none() || o.request_id < self.request_id) {
            self.request_id = o.request_id;
        }
    }

    /// Least-squares slope of input tokens per turn.
    pub fn slope(&self) -> f64 {
        let n = self.calls as i128;
        let den = n * self.s_tt as i128 - (self.s_t * self.s_t) as i128;
        if self.calls < 2 || den == 0 {
            0.0
        } else {
            (n * self.s_tx as i128 - (self.s_t * self.s_x) as i128) as f64 / den as f64
        }
    }
}

/// The calls of one (cell, prompt fingerprint): when they came and what
/// they cost, for the response-cache simulation. Most prompts are sent
/// once: the first call is inline and the rest boxed, so an entry of the
/// sample's table is one cache line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PromptObs {
    pub cell: u64,
    /// The first call seen (millis, cost picos).
    pub first: (i64, i64),
    pub request_id: Option<crate::short::ShortStr>,
    rest: Option<Box<PromptRest>>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct PromptRest {
    /// The other calls, unsorted until read.
    more: Vec<(i64, i64)>,
    /// An excerpt of the prompt's text (`--include-prompts` only).
    excerpt: Option<Box<str>>,
}

impl PromptObs {
    pub fn new(
        cell: u64,
        call: (i64, i64),
        request_id: Option<crate::short::ShortStr>,
    ) -> PromptObs {
        PromptObs {
            cell,
            first: call,
            request_id,
            rest: None,
        }
    }

    /// Adds a later call.
    pub fn push(&mut self, call: (i64, i64)) {
        self.rest.get_or_insert_default().more.push(call);
    }

    /// Every call (millis, cost picos).
    pub fn calls(&self) -> Vec<(i64, i64)> {
        let more = self.rest.as_ref().map_or(&[][..], |r| &r.more);
        let mut v = Vec::with_capacity(1 + more.len());
        v.push(self.first);
        v.extend_from_slice(more);
        v
    }

    pub fn len(&self) -> usize {
        1 + self.rest.as_ref().map_or(0, |r| r.more.len())
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    pub fn excerpt(&self) -> Option<&str> {
        self.rest.as_ref()?.excerpt.as_deref()
    }

    /// Sets the excerpt unless there is one.
    pub fn offer_excerpt(&mut self, excerpt: impl FnOnce() -> Option<Box<str>>) {
        if self.excerpt().is_none() {
            if let Some(e) = excerpt() {
                self.rest.get_or_insert_default().excerpt = Some(e);
            }
        }
    }

    pub fn merge(&mut self, o: PromptObs) {
        if o.request_id.is_some() && (self.request_id.is_none() || o.request_id < self.request_id) {
            self.request_id = o.request_id;
        }
        let rest = self.rest.get_or_insert_default();
        rest.more.push(o.first);
        if let Some(other) = o.rest {
            rest.more.extend(other.more);
            merge_excerpt(&mut rest.excerpt, other.excerpt);
        }
    }
}

/// Keeps the smaller of two excerpts: the calls of one entry share their
/// text (its fingerprint), so they are normally equal, and when a logged
/// hash groups different texts the choice still does not depend on the
/// order workers merge in.
fn merge_excerpt(mine: &mut Option<Box<str>>, other: Option<Box<str>>) {
    if let Some(o) = other {
        if mine.as_ref().is_none_or(|m| o < *m) {
            *mine = Some(o);
        }
    }
}

/// The time of an attempt whose call has none: before every other, and no
/// gap to any (see TA108).
pub const NO_TIME: i64 = i64::MIN;

/// One attempt in a retry chain.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Attempt {
    pub millis: i64,
    pub ok: bool,
    pub cell: u64,
    pub cost: i64,
    pub attempt: Option<u32>,
    pub request_id: Option<crate::short::ShortStr>,
    /// The attempt's own time, when logged: a retry's wait is the gap
    /// after it (TA108).
    pub latency_ms: Option<u32>,
}

/// The attempts of one logical request (same feature, user and prompt),
/// keeping only calls that failed or were retries (first attempts that
/// succeeded are not part of any chain).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChainObs {
    pub attempts: Vec<Attempt>,
}

/// Attempts kept per prompt (a storm longer than this is still a storm):
/// the earliest, whatever order they came in.
pub const MAX_ATTEMPTS: usize = 64;

impl ChainObs {
    /// Adds an attempt, keeping the [`MAX_ATTEMPTS`] earliest.
    pub fn add(&mut self, a: Attempt) {
        if self.attempts.is_empty() {
            // Most chains are a failure and its retry: room for two, not
            // the four a first push makes.
            self.attempts.reserve_exact(2);
        }
        if self.attempts.len() < MAX_ATTEMPTS {
            self.attempts.push(a);
        } else if let Some(last) = self.attempts.iter_mut().max() {
            if a < *last {
                *last = a;
            }
        }
    }

    fn merge(&mut self, o: ChainObs) {
        self.attempts.extend(o.attempts);
        if self.attempts.len() > MAX_ATTEMPTS {
            self.attempts.sort_unstable();
            self.attempts.truncate(MAX_ATTEMPTS);
        }
    }
}

/// One of the earliest or latest successes of a unit of reading that
/// ended no chain of its prompt within the unit: the end of a chain whose
/// failure was the last attempt in another unit, when that chain exists
/// (TA108 matches heads to chains by key; the rest mean nothing).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ChainHead {
    pub key: u64,
    pub millis: i64,
    pub cell: u64,
}

/// One successful call whose prompt text was logged, for the
/// near-duplicate (semantic cache) simulation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextCall {
    pub millis: i64,
    pub sig: tokenaudit_core::MinHash,
    pub prompt_fp: u64,
    /// The identity of what the question is asked within: the system
    /// prompt's (or instructions') fingerprint, 0 without one. A cached
    /// answer serves only a question asked in the same context: a customer's
    /// own account data in the system prompt makes "what is my balance?"
    /// another question.
    pub context: u64,
    pub cost: i64,
    pub request_id: Option<crate::short::ShortStr>,
    /// An excerpt of the prompt's text (`--include-prompts` only).
    pub excerpt: Option<Box<str>>,
}

/// A (cell, day) group of a [`TextSample`], from [`TextSample::admits`].
#[derive(Clone, Copy, Debug)]
pub struct TextGroup(u64);

/// Entries kept by [`TextSample`] before it samples days.
pub const TEXT_CAPACITY: usize = 50_000;

/// The text-carrying calls, grouped by (cell, day) and sampled by day: all
/// calls of a kept (cell, day) are kept, so near-duplicates within a day are
/// found exactly on the kept days; past [`TEXT_CAPACITY`] entries, half the
/// days are dropped (by hash) each time, and `scale` says how many days each
/// kept one stands for.
#[derive(Clone, Debug, Default)]
pub struct TextSample {
    pub groups: FxHashMap<u64, (u64, Vec<TextCall>)>,
    level: u32,
    entries: usize,
}

impl TextSample {
    fn keeps(level: u32, key: u64) -> bool {
        level == 0 || crate::sketch::mix(key).leading_zeros() >= level
    }

    /// The group a call of `cell` on `day` goes to, if the sample keeps
    /// that day; a call is then given to [`add`](Self::add).
    pub fn admits(&self, cell: u64, day: i64) -> Option<TextGroup> {
        let key = key_of(&[&cell.to_le_bytes(), &day.to_le_bytes()]);
        Self::keeps(self.level, key).then_some(TextGroup(key))
    }

    pub fn add(&mut self, TextGroup(key): TextGroup, cell: u64, call: TextCall) {
        self.groups
            .entry(key)
            .or_insert_with(|| (cell, Vec::new()))
            .1
            .push(call);
        self.entries += 1;
        self.shrink();
    }

    fn shrink(&mut self) {
        while self.entries > TEXT_CAPACITY {
            self.level += 1;
            let level = self.level;
            self.groups.retain(|k, _| Self::keeps(level, *k));
            self.entries = self.groups.values().map(|g| g.1.len()).sum();
        }
    }

    pub fn merge(&mut self, o: TextSample) {
        if o.level > self.level {
            self.level = o.level;
            let level = self.level;
            self.groups.retain(|k, _| Self::keeps(level, *k));
        }
        for (k, (cell, calls)) in o.groups {
            if !Self::keeps(self.level, k) {
                continue;
            }
            self.entries += calls.len();
            self.groups
                .entry(k)
                .or_insert_with(|| (cell, Vec::new()))
                .1
                .extend(calls);
        }
        self.entries = self.groups.values().map(|g| g.1.len()).sum();
        self.shrink();
    }

    pub fn scale(&self) -> u64 {
        1u64 << self.level
    }

    /// The (cell, calls) groups in key order.
    pub fn sorted(&self) -> Vec<(&u64, &Vec<TextCall>)> {
        let mut v: Vec<(u64, &(u64, Vec<TextCall>))> =
            self.groups.iter().map(|(k, g)| (*k, g)).collect();
        v.sort_unstable_by_key(|(k, _)| *k);
        v.into_iter().map(|(_, g)| (&g.0, &g.1)).collect()
    }
}

/// Distinct prompts kept exactly before the prompt sample thins out: most
/// prompts are sent once, so this is about the calls of a busy day or two.
pub const PROMPT_CAPACITY: usize = 50_000;

/// The keyed samples the detectors read.
#[derive(Clone, Debug)]
pub struct Keyed {
    pub sessions: HashSample<SessionObs>,
    /// Calls of sessions without turn numbers (and of users without
    /// sessions), for turn inference (TA102, `infer::sessions`).
    pub timelines: Timelines,
    pub prompts: HashSample<PromptObs>,
    pub chains: HashSample<ChainObs>,
    /// Heads of units of reading, for chains that cross one's end.
    pub heads: Vec<ChainHead>,
    pub texts: TextSample,
}

impl Default for Keyed {
    fn default() -> Self {
        Keyed {
            sessions: HashSample::default(),
            timelines: Timelines::default(),
            prompts: HashSample::with_capacity(PROMPT_CAPACITY),
            chains: HashSample::default(),
            heads: Vec::new(),
            texts: TextSample::default(),
        }
    }
}

impl Keyed {
    pub fn merge(&mut self, o: Keyed) {
        self.sessions.merge(o.sessions, |a, b| a.merge(b));
        self.timelines.merge(o.timelines);
        self.prompts.merge(o.prompts, |a, b| a.merge(b));
        self.chains.merge(o.chains, ChainObs::merge);
        self.heads.extend(o.heads);
        // A head whose prompt the chains' sample dropped can never match.
        let chains = &self.chains;
        self.heads.retain(|h| chains.admits(h.key));
        self.texts.merge(o.texts);
    }
}

/// A 64-bit key of text parts (xxh3 over the parts with separators).
pub fn key_of(parts: &[&[u8]]) -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    for p in parts {
        h.update(p);
        h.update(&[0x1f]);
    }
    h.digest()
}
