//! The finished audit: attribution tables sorted for reading, plus what the
//! input lacked. Built once from the merged accumulators.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Timelike, Utc};
use schemars::JsonSchema;
use serde::Serialize;

use tokenaudit_core::pricing::{Catalog, How, ModelId, Processing};
use tokenaudit_core::{Field, Money, ServiceTier, Usage};
use tokenaudit_ingest::pipeline::SourceSummary;
use tokenaudit_ingest::{IngestSummary, RejectSample};

use rustc_hash::FxHashMap;

use crate::accumulate::{Accumulator, AnalyzeConfig, Cell, Dim, ExpensiveCall, Table, NONE};
use crate::coverage::{Counts, RuleCoverage, Via};
use crate::finding::{Finding, Waterfall};
use crate::infer::prefix::{estimate, PrefixSource};
use crate::infer::sessions::{turns_from, TurnSource};
use crate::infer::timeline::Grouping;
use crate::observe::{CallId, Keyed};
use crate::stats::{CostParts, Stats};

/// One key's stats.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Row {
    /// The dimension's value (`(none)` for calls without the field).
    pub key: String,
    #[serde(flatten)]
    pub stats: Stats,
}

/// A dimension's table, most expensive first.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct DimTable {
    /// `feature`, `model`, `provider`, `route`, `team`, `user` or `session`.
    #[schemars(extend("enum" = ["feature", "model", "provider", "route", "team", "user", "session"]))]
    pub dimension: &'static str,
    /// Most expensive first; for users and sessions only the top 1,000
    /// (`spill::TOP_ROWS`).
    pub rows: Vec<Row>,
    /// Distinct keys (rows kept plus rows omitted).
    pub distinct: u64,
    /// The stats of the keys not in `rows`.
    pub omitted: Stats,
}

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct PairRow {
    /// The feature.
    pub feature: String,
    /// The model (catalog id, or the logged name when unknown).
    pub model: String,
    #[serde(flatten)]
    pub stats: Stats,
}

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct DayRow {
    /// The day (UTC).
    pub day: NaiveDate,
    #[serde(flatten)]
    pub stats: Stats,
}

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct DayKeyRow {
    /// The day (UTC).
    pub day: NaiveDate,
    /// The model (`daily_by_model`) or feature (`daily_by_feature`).
    pub key: String,
    #[serde(flatten)]
    pub stats: Stats,
}

/// How a logged model name resolved.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ModelNameRow {
    /// The model name as logged.
    pub logged_model: String,
    /// The provider as logged, if any.
    pub logged_provider: Option<String>,
    /// `provider/id` in the catalog, or `None` when unknown.
    pub resolved: Option<String>,
    #[serde(flatten)]
    pub stats: Stats,
}

impl ModelNameRow {
    /// The provider as logged, else a host before the model's name
    /// (LiteLLM's `azure_ai/deepseek-r1`).
    pub fn logged_host(&self) -> Option<&str> {
        self.logged_provider
            .as_deref()
            .or_else(|| self.logged_model.split_once('/').map(|(host, _)| host))
    }
}

/// A model's price that changed on a date between its own first and last
/// calls of the period.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct PriceChange {
    /// `provider/id` in the catalog.
    pub model: String,
    /// The first day (UTC) of the new prices.
    pub effective: NaiveDate,
    /// The prices before the date.
    pub before: PeriodPrices,
    /// The prices from the date on.
    pub after: PeriodPrices,
    /// What changed: `input`, `output`, `cached_read`, `cache_write_5m`,
    /// `cache_write_1h`, `long_context` (its threshold or rates), `other`
    /// (reasoning, audio or web-search rates).
    pub changed: Vec<&'static str>,
}

/// A price period's rates, in USD per million tokens (null where the
/// catalog gives none).
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct PeriodPrices {
    pub input: Option<Money>,
    pub output: Option<Money>,
    pub cached_read: Option<Money>,
    pub cache_write_5m: Option<Money>,
    pub cache_write_1h: Option<Money>,
    /// The lowest long-context threshold: a request with more input tokens
    /// (the cache's included) is billed whole at that tier's rates.
    pub long_context_above: Option<u64>,
}

impl PeriodPrices {
    fn of(p: &tokenaudit_core::pricing::PricePeriod) -> PeriodPrices {
        let per_mtok = |m: Option<Money>| m.map(|m| Money::from_picos(m.picos() * 1_000_000));
        PeriodPrices {
            input: per_mtok(p.rates.input),
            output: per_mtok(p.rates.output),
            cached_read: per_mtok(p.rates.cached_read),
            cache_write_5m: per_mtok(p.rates.cache_write_5m),
            cache_write_1h: per_mtok(p.rates.cache_write_1h),
            long_context_above: p.tiers.first().map(|t| t.above_input_tokens),
        }
    }
}

/// The price changes of the models called (`resolved`, `provider/id`)
/// that fall between a model's own first and last days with calls (a
/// change before or after all of them priced none of them at two prices:
/// hunt113), its first day the first of the period compared with when it
/// has calls there (`compared_from`, by catalog id).
fn price_changes<'m>(
    catalog: &Catalog,
    resolved: impl Iterator<Item = &'m str>,
    daily_by_model: &[DayKeyRow],
    compared_from: &BTreeMap<&str, NaiveDate>,
) -> Vec<PriceChange> {
    let models: std::collections::BTreeSet<&str> = resolved.collect();
    let mut out = Vec::new();
    for (_, e) in catalog.models() {
        let key = format!("{}/{}", e.provider, e.id);
        if !models.contains(key.as_str()) || e.periods.len() < 2 {
            continue;
        }
        let mut days = daily_by_model
            .iter()
            .filter(|r| r.key == e.id && r.stats.calls > 0)
            .map(|r| r.day);
        let Some(first) = days.next() else {
            continue;
        };
        let (first, last) = days.fold((first, first), |(a, b), d| (a.min(d), b.max(d)));
        let first = compared_from
            .get(e.id.as_str())
            .map_or(first, |&d| d.min(first));
        for pair in e.periods.windows(2) {
            let Some(day) = pair[1].effective else {
                continue;
            };
            if !(first < day && day <= last) {
                continue;
            }
            let (a, b) = (&pair[0], &pair[1]);
            let mut changed = Vec::new();
            for (name, x, y) in [
                ("input", a.rates.input, b.rates.input),
                ("output", a.rates.output, b.rates.output),
                ("cached_read", a.rates.cached_read, b.rates.cached_read),
                (
                    "cache_write_5m",
                    a.rates.cache_write_5m,
                    b.rates.cache_write_5m,
                ),
                (
                    "cache_write_1h",
                    a.rates.cache_write_1h,
                    b.rates.cache_write_1h,
                ),
            ] {
                if x != y {
                    changed.push(name);
                }
            }
            if a.tiers != b.tiers {
                changed.push("long_context");
            }
            let other = |r: &tokenaudit_core::pricing::Rates| {
                (
                    r.reasoning,
                    r.input_audio,
                    r.cached_audio_read,
                    r.output_audio,
                    r.web_search,
                )
            };
            if other(&a.rates) != other(&b.rates) {
                changed.push("other");
            }
            if changed.is_empty() {
                continue;
            }
            out.push(PriceChange {
                model: key.clone(),
                effective: day,
                before: PeriodPrices::of(a),
                after: PeriodPrices::of(b),
                changed,
            });
        }
    }
    out.sort_by(|a, b| (&a.model, a.effective).cmp(&(&b.model, b.effective)));
    out
}

/// Logged cost against computed cost, for one model.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ReconcileRow {
    /// The model (catalog id).
    pub model: String,
    /// Calls that carry a logged cost.
    pub calls: u64,
    /// The sum of their logged costs.
    pub logged: Money,
    /// Their cost computed from the catalog.
    pub computed: Money,
    /// logged − computed.
    pub difference: Money,
    /// Of the priced calls, those whose logged cost is off the computed
    /// one by more than 1%: sums that agree can hide calls that do not.
    pub calls_differing: u64,
    /// The sum of each priced call's difference, unsigned.
    pub difference_per_call: Money,
    /// The catalog has no price for the model (one of the unknown models):
    /// nothing is computed, and the logged cost is outside the totals.
    pub unpriced: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct CoverageRow {
    /// A canonical field name.
    pub field: &'static str,
    /// Calls carrying the field.
    pub present: u64,
    /// What cannot be analysed without it (set when no call carries it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lacking_prevents: Option<&'static str>,
}

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ExpensiveRow {
    /// The call's exact cost.
    pub cost: Money,
    /// The input it was read from.
    pub file: String,
    /// 1-based line (or row) in `file`.
    pub line: u64,
    /// The logged request id, if any.
    pub request_id: Option<String>,
    /// When the call was made, if logged.
    pub timestamp: Option<DateTime<Utc>>,
    /// The model (catalog id, or the logged name when unknown).
    pub model: String,
    /// The feature.
    pub feature: String,
    /// Input tokens, cached reads and cache writes included.
    pub input_tokens: u64,
    /// Input tokens read from the provider's cache.
    pub cached_read_tokens: u64,
    /// Output tokens, reasoning included.
    pub output_tokens: u64,
}

/// What was read and what was rejected.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct InputReport {
    /// One row per input file.
    pub files: Vec<FileRow>,
    /// Lines read (elements of a JSON array, rows of a CSV file).
    pub lines: u64,
    /// Calls read.
    pub records: u64,
    /// Lines rejected.
    pub rejected: u64,
    /// Rejected lines per reason code.
    pub rejected_by_reason: BTreeMap<String, u64>,
    /// Calls read without one of their optional fields (`latency_ms`,
    /// `user`, `max_tokens`…) whose value had the wrong type: counted and
    /// priced, the field left empty. The first are among
    /// `rejected_samples` (reason `field_ignored`, the field in `detail`).
    /// `--strict` fails on them.
    pub fields_ignored: u64,
    /// Lines that are fine but are not (new) calls: agent-log lines that
    /// record no model call (`not_a_call`), `synthetic` messages, calls
    /// logged again (`duplicate`), batch requests the provider did not run
    /// and failures with no model and no tokens (`not_billed`), rows a
    /// `[mapping.only]` filter does not take (`not_selected`), trace lines
    /// with no model call (`no_gen_ai_spans`).
    /// Not rejects: `--strict` ignores them.
    pub skipped: u64,
    /// Skipped lines per reason: `not_a_call`, `synthetic`, `duplicate`,
    /// `not_billed`, `not_selected`, `no_gen_ai_spans`.
    pub skipped_by_reason: BTreeMap<String, u64>,
    /// The first rejected lines (and calls read without a field), in input
    /// order.
    pub rejected_samples: Vec<RejectSample>,
    /// Calls outside `--since`/`--until` (or without a timestamp when a
    /// window was given).
    pub outside_window: u64,
    /// Of those, the calls without a time, which no window can place
    /// (batch results carry none): said apart.
    pub untimed_outside_window: u64,
    /// Calls that repeat another with the same request id, time, model and
    /// tokens (overlapping exports, a log copied), or the same response id,
    /// model and tokens at another time (one response logged twice): in the
    /// totals twice.
    pub repeated_calls: crate::repeats::RepeatedCalls,
}

impl InputReport {
    /// The rejected lines that are sums over many requests (`summed_usage`:
    /// a usage API's rows, a daily spend table, an agent run's total), and
    /// what is said of them after their count (the CLI's warning and the
    /// report's Data quality alike; hunt123: the spend of the one-request
    /// rows beside them was the headline, "1 line rejected" the only hint).
    pub fn summed(&self) -> Option<(u64, &'static str)> {
        let n = *self.rejected_by_reason.get("summed_usage")?;
        (n > 0).then_some((
            n,
            if n == 1 {
                "line sums many requests (a usage API's row, a daily spend table's, an agent run's total) and is no call: it is not priced (a call's price can depend on its own size), so the spend leaves it out; audit the per-call logs it sums for the whole spend"
            } else {
                "lines sum many requests (a usage API's rows, a daily spend table's, an agent run's totals) and are no calls: they are not priced (a call's price can depend on its own size), so the spend leaves them out; audit the per-call logs they sum for the whole spend"
            },
        ))
    }

    /// The inputs that could not be opened at all (no permission, gone, a
    /// dangling link, a compression not read): one rejected "line" each.
    pub fn unreadable(&self) -> impl Iterator<Item = &FileRow> {
        self.files
            .iter()
            .filter(|f| f.encoding == "unknown" && f.lines == 0 && f.rejected > 0)
    }

    /// What `rejected` counts: lines, and inputs that could not be read
    /// at all (hunt112: "2 lines rejected" of two unreadable files).
    pub fn rejected_split(&self) -> (u64, u64) {
        let unreadable = self.unreadable().count() as u64;
        (self.rejected.saturating_sub(unreadable), unreadable)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct FileRow {
    /// The input's display name (path, or `<stdin>`).
    pub file: String,
    /// How it was stored: `plain`, `gzip`, `zstd`, …
    pub encoding: String,
    /// The log format it was read as: a built-in format's name (`gateway`,
    /// `otlp-json`, `langfuse`, `helicone`, `bedrock`, `kong`, `openrouter`, `anthropic-batch`, `gemini-batch`,
    /// `bedrock-batch`, `openai-batch`, `claude-code`, `codex`) or `mapped`
    /// (a `[mapping]`),
    /// with the layout after it when not JSON lines (`helicone (CSV)`,
    /// `gateway (JSON documents)`); `none` for an input with no line.
    pub format: String,
    /// Lines read from it.
    pub lines: u64,
    /// Calls read from it.
    pub records: u64,
    /// Lines of it rejected.
    pub rejected: u64,
    /// An earlier input whose text is the same (decompressed: a log and its
    /// `gzip -k` copy, a file under two names), so that this one's calls
    /// are counted a second time; null otherwise (null too when none of
    /// this one's calls is counted: all dropped as copies of the earlier
    /// file's, as Claude Code's and Codex's are, or all outside the window
    /// and the period it is compared with).
    pub same_content_as: Option<String>,
    /// Of its calls, those in the window or the period it is compared
    /// with: the ones counted a second time when `same_content_as` is set
    /// (not in the JSON).
    #[serde(skip)]
    #[schemars(skip)]
    pub counted: u64,
}

impl FileRow {
    /// The rows of `summary`'s inputs.
    fn rows(summary: &IngestSummary, uncounted: &[u64]) -> Vec<FileRow> {
        let same = summary.same_content();
        let counted = |i: usize, s: &SourceSummary| match &summary.counted_by_source {
            Some(counted) => counted.get(i).copied().unwrap_or(s.records),
            None => s
                .records
                .saturating_sub(uncounted.get(i).copied().unwrap_or(0)),
        };
        summary
            .sources
            .iter()
            .zip(same)
            .enumerate()
            .map(|(i, (s, same))| FileRow {
                file: s.name.clone(),
                encoding: s.encoding.clone(),
                format: s.format.clone(),
                lines: s.lines,
                records: s.records,
                rejected: s.rejected,
                // Counted twice only if some of its calls are counted at
                // all (hunt100: a November copy named in a December
                // month-to-date report).
                same_content_as: same
                    .filter(|_| counted(i, s) > 0)
                    .map(|i| summary.sources[i].name.clone()),
                counted: counted(i, s),
            })
            .collect()
    }
}

/// The whole result of an audit.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Audit {
    /// Version of the price catalog used (built-in, or the last `--prices`
    /// file's).
    pub catalog_version: String,
    /// Timestamp of the earliest call read (null without timestamps).
    pub first_call: Option<DateTime<Utc>>,
    /// Timestamp of the latest call read (null without timestamps).
    pub last_call: Option<DateTime<Utc>>,
    /// Calls by minute of the day (UTC, 1,440): when in a day the traffic
    /// comes, for how much of its end days the period holds
    /// ([`Audit::period_days`]). Not in the report.
    #[serde(skip)]
    #[schemars(skip)]
    pub minutes: Vec<u64>,
    /// The start of the window asked for (`--since`), or null.
    pub since: Option<DateTime<Utc>>,
    /// The end of the window asked for (`--until`, exclusive), or null.
    pub until: Option<DateTime<Utc>>,
    /// Stats over every call.
    pub totals: Stats,
    /// Spend by token kind: `input` is uncached input; `output` excludes
    /// reasoning.
    pub cost_by_token_kind: CostParts,
    /// Spend divided by priced calls.
    pub cost_per_call: Money,
    /// All spend (failed calls included) divided by successful priced calls;
    /// null if none.
    pub cost_per_success: Option<Money>,
    /// Batch calls priced at real-time rates because the model has no batch price.
    pub batch_calls_at_full_price: u64,
    /// Flex or priority calls (the log's `service_tier`) priced at standard
    /// rates because the model has no price for that tier.
    pub tier_calls_at_standard_price: u64,
    /// Calls whose 1-hour cache writes were priced at the 5-minute rate
    /// because the model has no 1-hour write rate.
    pub cache_write_1h_calls_at_5m_price: u64,
    /// Calls on provisioned throughput (Vertex's `trafficType`
    /// `PROVISIONED_THROUGHPUT`) or Bedrock's reserved tier, billed by
    /// reservation and priced here at on-demand rates.
    pub provisioned_calls_at_on_demand_price: u64,
    /// Calls that made web searches (Anthropic's `web_search_requests`,
    /// Perplexity's `num_search_queries`) for a model the catalog has no
    /// search price for: their searches cost $0 here.
    pub web_search_calls_unpriced: u64,
    /// Successful calls to image-generation models the catalog prices (a
    /// model named `…image…`:
    /// `gpt-image-1.5`, `gemini-2.5-flash-image`), priced at their text
    /// token rates: the catalog has no image-token rates.
    pub image_model_calls_at_text_rates: u64,
    /// Calls priced at a long-context tier.
    pub long_context_calls: u64,
    /// Calls on US-only inference (Anthropic's `inference_geo: "us"`)
    /// priced at their model's US multiple.
    pub us_only_calls: u64,
    /// Calls on US-only inference whose model has no US multiple in the
    /// catalog: priced at the global rates.
    pub us_only_calls_at_global_price: u64,
    /// The prices of models called in the period that changed on a date
    /// between a model's first and last calls (its first in the period
    /// compared with, when it has calls there): calls before the date are
    /// priced at the old rates, from it on at the new (by model, then
    /// date).
    pub price_changes: Vec<PriceChange>,
    /// One table per dimension (`feature`, `model`, `provider`, `route`,
    /// `team`, `user`, `session`), rows most expensive first. `user` and
    /// `session` keep the 1,000 most expensive rows (exact: summed out of
    /// core); a call without the field counts under the key `(none)`. `model`
    /// keys are catalog ids (the logged name when unknown); `provider` is the
    /// logged provider, else the catalog's.
    pub by: Vec<DimTable>,
    /// Stats per (feature, model), most expensive first.
    pub feature_model: Vec<PairRow>,
    /// Stats per tag (`key` is `name=value`), most expensive first: the
    /// top 1,000 (`spill::TOP_ROWS`; exact, summed out of core: a tag may
    /// carry a trace id).
    pub tags: Vec<Row>,
    /// Distinct tags (rows kept plus rows omitted).
    pub tags_distinct: u64,
    /// The stats of the tags not in `tags`.
    pub tags_omitted: Stats,
    /// Failed calls by kind (`error_kind`, else `http_<code>`, else the
    /// status).
    pub failures: Vec<Row>,
    /// Stats per day, ascending.
    pub daily: Vec<DayRow>,
    /// Stats per day and model.
    pub daily_by_model: Vec<DayKeyRow>,
    /// Stats per day and feature.
    pub daily_by_feature: Vec<DayKeyRow>,
    /// Every logged (model, provider) with how it resolved and its Stats.
    pub model_names: Vec<ModelNameRow>,
    /// The `model_names` rows that did not resolve and have tokens to
    /// price: counted, never priced. (A name only failed calls without
    /// usage carry is left out: nothing of it is unpriced.)
    pub unknown_models: Vec<ModelNameRow>,
    /// The `model_names` rows logged with a provider the catalog knows
    /// (`bedrock`) whose model that provider's prices lack, so they were
    /// priced at another provider's (`resolved` names which).
    pub priced_elsewhere: Vec<ModelNameRow>,
    /// Per model, over calls that carry a logged cost: logged against computed
    /// cost.
    pub reconciliation: Vec<ReconcileRow>,
    /// Per canonical field: the calls carrying it, and what its absence
    /// prevents.
    pub coverage: Vec<CoverageRow>,
    /// Per rule: whether the input let it run, and on which sources of its
    /// inputs (generated from the rules' declarations, `coverage.rs`; empty
    /// without findings).
    pub rule_coverage: Vec<RuleCoverage>,
    /// Up to 20 of the most expensive calls, most expensive first.
    pub most_expensive_calls: Vec<ExpensiveRow>,
    /// What was read and what was rejected.
    pub input: InputReport,
    /// Waste findings, most monthly savings first.
    pub findings: Vec<Finding>,
    /// Findings the rules made but left out: each would save less than
    /// `[detect] min_savings` a month.
    pub findings_below_min_savings: u64,
    /// `[detect] min_savings` in force: findings saving less a month are
    /// left out.
    pub min_savings: Money,
    /// What a call's feature is when not its logged `feature` (or its
    /// `feature` tag): the dimension `[attribution] feature` names
    /// (`team`, `route`, `user`, `tag:KEY`); absent by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature_from: Option<String>,
    /// Those findings, in fingerprint order (not in the report: for
    /// `findings`, whose tickets stay open while their finding is found
    /// below the floor).
    #[serde(skip)]
    pub below_min_savings: Vec<Finding>,
    /// The compounding savings waterfall of the findings' levers (null without
    /// findings): a step's `savings` is what it saves on what the steps before
    /// it left, so `total_savings` = Σ steps = `spend` − `remaining`, as
    /// `tokenaudit whatif` with the same levers.
    pub savings: Option<Waterfall>,
    /// How much of the keyed analyses ran on a sample (large inputs).
    pub sampling: Sampling,
    /// The period before this one (`tokenaudit review`, or `audit` with both
    /// `--since` and `--until`: the span of the same length just before the
    /// window): its totals and spend per feature and model. Its calls are
    /// priced like the audited ones but not audited, and count in
    /// `input.outside_window`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<PreviousPeriod>,
}

/// The sums of the period before the audited one (its calls are priced the
/// same way, but not audited: no findings, no other tables).
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct PreviousPeriod {
    /// The start of the previous period.
    pub since: DateTime<Utc>,
    /// Its end (exclusive).
    pub until: DateTime<Utc>,
    /// Its first and last calls (null without calls): a log that starts
    /// or ends inside the period covers only part of it.
    pub first_call: Option<DateTime<Utc>>,
    pub last_call: Option<DateTime<Utc>>,
    /// Stats over its calls.
    pub totals: Stats,
    /// Its spend divided by priced calls.
    pub cost_per_call: Money,
    /// Its spend divided by successful priced calls; null if none.
    pub cost_per_success: Option<Money>,
    /// Most expensive first.
    pub by_feature: Vec<Row>,
    /// Most expensive first.
    pub by_model: Vec<Row>,
}

/// Whether per-key analyses (duplicates, retry chains, sessions) saw every
/// key or a coordinated hash sample of them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Sampling {
    /// 1 when exact; else each sampled key stands for this many.
    #[schemars(range(min = 1))]
    pub sessions_scale: u64,
    /// Likewise for repeated prompts.
    #[schemars(range(min = 1))]
    pub prompts_scale: u64,
    /// Likewise for retry chains.
    #[schemars(range(min = 1))]
    pub chains_scale: u64,
    /// Likewise for the timelines of sessions without turn numbers (turn
    /// inference).
    #[schemars(range(min = 1))]
    pub timelines_scale: u64,
    /// Calls of those timelines past the first 512 of theirs
    /// (`infer::timeline::MAX_CALLS`), left out of turn inference.
    pub timeline_calls_dropped: u64,
}

/// One attribution group with its key decoded.
#[derive(Clone, Debug)]
pub struct GroupRow {
    pub provider: String,
    /// `provider/id` when the catalog knows the model, else the logged name
    /// (the same label as the cell's).
    pub model: String,
    pub resolved: Option<ModelId>,
    pub feature: String,
    pub route: String,
    pub team: String,
    pub day: Option<NaiveDate>,
    pub batch: bool,
    /// The flex or priority service tier of its calls (not for batch calls).
    pub tier: Option<ServiceTier>,
    /// Its calls ran on US-only inference.
    pub us_only: bool,
    pub stats: Stats,
    /// Σ usage of all calls (canonical convention).
    pub usage: Usage,
    /// Σ usage of the failed calls.
    pub failed: Usage,
    /// The cell's key (feature, model).
    pub cell: u64,
    /// `stats.cost` by token kind.
    pub cost: CostParts,
    /// The same calls at list price (zero unless `AnalyzeConfig::list_costs`).
    pub list_cost: CostParts,
}

impl GroupRow {
    /// How the group's calls were processed, as their price goes.
    pub fn processing(&self) -> Processing {
        ServiceTier::processing(self.batch, self.tier)
    }

    /// Their processing and place of inference: what re-pricing them
    /// takes.
    pub fn how(&self) -> How {
        How::new(self.processing(), self.us_only)
    }
}

/// What the detectors and what-if re-pricing work on besides the audit.
pub struct Profile {
    pub groups: Vec<GroupRow>,
    /// Sorted by (feature, model).
    pub cells: Vec<Cell>,
    pub keyed: Keyed,
    /// Calls per source of the rules' inputs, for the rule coverage
    /// (`coverage.rs`).
    pub sources: Counts,
    /// The previous period's spend by (feature, model, day), sorted: the
    /// history before the period's first day (`review`'s month before,
    /// `--since`'s span before).
    pub history: Vec<(String, String, NaiveDate, Money)>,
}

/// The successful calls of image-generation models the catalog prices, by
/// the name logged or the one it resolved to (hunt164: Gemini 2.0 Flash's
/// `-exp-image-generation` resolves to `gemini-2.0-flash`, and was not
/// counted).
fn image_model_calls(names: &[ModelNameRow]) -> u64 {
    let image = |key: &str| {
        key.as_bytes()
            .windows(5)
            .any(|w| w.eq_ignore_ascii_case(b"image"))
    };
    names
        .iter()
        .filter(|r| image(&r.logged_model) || r.resolved.as_deref().is_some_and(image))
        // Successful calls (a failed one without tokens cost nothing), of
        // a model the catalog prices.
        .map(|r| {
            if r.resolved.is_none() || r.stats.unpriced_calls > 0 {
                0
            } else {
                r.stats.ok_calls
            }
        })
        .sum()
}

impl Audit {
    /// The table of one dimension.
    pub fn dim(&self, name: &str) -> &[Row] {
        self.by
            .iter()
            .find(|t| t.dimension == name)
            .map_or(&[], |t| &t.rows)
    }

    /// The calls priced at rates other than their own because the catalog
    /// lacks theirs (batch, service tier, 1-hour writes, provisioned
    /// throughput), or not at all (web searches), each kind that has any:
    /// its count, what is said of it (after the count, the report's Data
    /// quality and the CLI's warnings alike), and how to give the missing
    /// price, if a `--prices` file can.
    pub fn priced_at_other_rates(
        &self,
    ) -> impl Iterator<Item = (u64, &'static str, Option<&'static str>)> {
        let prices = Some("give one with --prices");
        // Each sentence for one call and for more.
        [
            (
                self.batch_calls_at_full_price,
                "batch call was priced at real-time rates: the catalog has no batch price for its model",
                "batch calls were priced at real-time rates: the catalog has no batch price for their model",
                prices,
            ),
            (
                self.tier_calls_at_standard_price,
                "flex, priority, fast or ultrafast call was priced at standard rates: the catalog has no price for that service tier for its model",
                "flex, priority, fast or ultrafast calls were priced at standard rates: the catalog has no price for that service tier for their model",
                None,
            ),
            (
                self.cache_write_1h_calls_at_5m_price,
                "call wrote to the prompt cache for an hour, and that write was priced at the 5-minute rate: the catalog has no 1-hour write rate for its model",
                "calls wrote to the prompt cache for an hour, and those writes were priced at the 5-minute rate: the catalog has no 1-hour write rate for their model",
                prices,
            ),
            (
                self.provisioned_calls_at_on_demand_price,
                "call ran on provisioned throughput or a reserved tier, which is billed by reservation: it is priced at on-demand rates, what it would have cost without it",
                "calls ran on provisioned throughput or a reserved tier, which is billed by reservation: they are priced at on-demand rates, what they would have cost without it",
                None,
            ),
            (
                self.web_search_calls_unpriced,
                "call made web searches the catalog has no price for (its model's search fee): the searches are counted at $0, the tokens at their rates",
                "calls made web searches the catalog has no price for (their model's search fee): the searches are counted at $0, the tokens at their rates",
                Some("give a web_search_kcount with --prices"),
            ),
            (
                self.image_model_calls_at_text_rates,
                "call went to an image-generation model (a model named …image…), priced at its token rates as text: its image tokens are billed at rates of their own, mostly higher (LiteLLM lists them), which the catalog does not carry",
                "calls went to image-generation models (a model named …image…), priced at their token rates as text: their image tokens are billed at rates of their own, mostly higher (LiteLLM lists them), which the catalog does not carry",
                None,
            ),
        ]
        .into_iter()
        .filter(|(n, ..)| *n > 0)
        .map(|(n, one, many, hint)| (n, if n == 1 { one } else { many }, hint))
    }

    /// Fields no call carried.
    pub fn missing_fields(&self) -> impl Iterator<Item = &CoverageRow> {
        // An outcome as an HTTP code (`"status": 200` is read as one) is
        // the outcome: no `status` text is then missing.
        let http = self
            .coverage
            .iter()
            .any(|c| c.field == "http_status" && c.present > 0);
        // A feature taken from a tag (or the dimension `[attribution]
        // feature` names) attributes by feature without the field.
        let features = self
            .dim("feature")
            .iter()
            .any(|r| r.key != crate::accumulate::NONE);
        self.coverage.iter().filter(move |c| {
            c.present == 0 && !(http && c.field == "status") && !(features && c.field == "feature")
        })
    }

    /// Length of the period in days (at least one): [`Audit::period`], in
    /// days of traffic. Calls come at their hours of the day: three nights
    /// of a nightly job (02:00 on the 1st to 02:30 on the 3rd) or three
    /// working days (09:00 to 17:00) are three days of spend, not the 2.0
    /// and 2.3 days between their first and last calls (hunt70: every
    /// monthly figure of a three-day export was 29–48% high); one stray
    /// call after midnight is not a day (hunt73), nor a two-hour job across
    /// midnight two (hunt74), and a quiet last day is a whole one (hunt74).
    /// So the days between the end days count whole, and each end day by
    /// the share of the traffic it holds by the time of day: of all calls,
    /// those at the last call's minute of the day or before it, and those at
    /// the first call's minute or after it ([`Audit::minutes`]); an end
    /// set by the `--since`/`--until` window
    /// counts the share of its day inside the window.
    pub fn period_days(&self) -> f64 {
        let Some((from, to)) = self.period() else {
            return 1.0;
        };
        self.days_between(from, self.since != Some(from), to, self.until != Some(to))
    }

    /// [`Audit::period_days`] from `from` to `to`, each an end the calls
    /// make (`*_calls`) or a bound of a window.
    pub(crate) fn days_between(
        &self,
        from: DateTime<Utc>,
        from_calls: bool,
        to: DateTime<Utc>,
        to_calls: bool,
    ) -> f64 {
        let exact = (to - from).num_seconds().max(0) as f64 / 86_400.0;
        let (d0, d1) = (from.date_naive(), to.date_naive());
        let all: u64 = self.minutes.iter().sum();
        if !(from_calls || to_calls) || d0 >= d1 || all == 0 {
            return exact.max(1.0);
        }
        // The share of the traffic that comes at `t`'s minute of the day or
        // before it (`up_to`), or at it or after it (`from_on`).
        let share = |minutes: &[u64]| minutes.iter().sum::<u64>() as f64 / all as f64;
        let minute = |t: DateTime<Utc>| {
            (t.time().num_seconds_from_midnight() as usize / 60).min(self.minutes.len() - 1)
        };
        let up_to = |t: DateTime<Utc>| share(&self.minutes[..=minute(t)]);
        let from_on = |t: DateTime<Utc>| share(&self.minutes[minute(t)..]);
        let of_day = |t: DateTime<Utc>| t.time().num_seconds_from_midnight() as f64 / 86_400.0;
        let w0 = if from_calls {
            from_on(from)
        } else {
            1.0 - of_day(from)
        };
        let w1 = if to_calls { up_to(to) } else { of_day(to) };
        let between = ((d1 - d0).num_days() - 1).max(0) as f64;
        (between + w0 + w1).max(1.0)
    }

    /// The period monthly figures scale from: from the first to the last
    /// call, or the `--since`/`--until` window when given, narrowed to the
    /// calls where they start (or end) more than [`COVERAGE_GAP`] inside
    /// it. A store, or an export, younger than a rolling 30-day window
    /// would otherwise make every monthly estimate a fraction of the truth
    /// that grows night after night (and every finding `worse` each night);
    /// a weekend without traffic at either end is no such gap.
    pub fn period(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let from = match (self.since, self.first_call) {
            (Some(s), Some(f)) if f - s > COVERAGE_GAP => f,
            (s, f) => s.or(f)?,
        };
        let to = match (self.until, self.last_call) {
            (Some(u), Some(l)) if u - l > COVERAGE_GAP => l,
            (u, l) => u.or(l)?,
        };
        Some((from, to))
    }
}

/// The days without calls between the first and the last, as rows of no
/// calls (hunt102: a day of outage was no row, and the daily chart put the
/// days around it side by side), unless they outnumber the days with calls
/// (a stray call years before the rest would make thousands of rows).
fn fill_quiet_days(daily: &mut Vec<DayRow>) {
    let (Some(first), Some(last)) = (daily.first().map(|d| d.day), daily.last().map(|d| d.day))
    else {
        return;
    };
    let span = (last - first).num_days() as usize + 1;
    let quiet = span - daily.len();
    if quiet == 0 || quiet > daily.len() {
        return;
    }
    let mut filled = Vec::with_capacity(span);
    let mut rows = std::mem::take(daily).into_iter().peekable();
    let mut day = first;
    for _ in 0..span {
        match rows.next_if(|r| r.day == day) {
            Some(r) => filled.push(r),
            None => filled.push(DayRow {
                day,
                stats: Stats::default(),
            }),
        }
        day = day.succ_opt().unwrap_or(day);
    }
    *daily = filled;
}

/// How far inside a window its calls may start or end and still be taken
/// to cover it: a long weekend without traffic (Friday evening to Monday
/// morning, and a little).
pub const COVERAGE_GAP: chrono::TimeDelta = chrono::TimeDelta::days(3);

fn add_to(table: &mut Table, key: &str, stats: &Stats) {
    match table.get_mut(key) {
        Some(s) => s.merge(stats),
        None => {
            table.insert(key.into(), *stats);
        }
    }
}

/// Most expensive first; at the same cost (unpriced models, all $0), the
/// most calls first, then by name.
fn by_cost(rows: &mut [Row]) {
    rows.sort_by(|a, b| {
        b.stats
            .cost
            .cmp(&a.stats.cost)
            .then_with(|| b.stats.calls.cmp(&a.stats.calls))
            .then_with(|| a.key.cmp(&b.key))
    });
}

fn rows(table: Table) -> Vec<Row> {
    let mut v: Vec<Row> = table
        .into_iter()
        .map(|(k, stats)| Row {
            key: k.into(),
            stats,
        })
        .collect();
    by_cost(&mut v);
    v
}

fn day_rows(map: rustc_hash::FxHashMap<NaiveDate, Table>) -> Vec<DayKeyRow> {
    let mut v: Vec<DayKeyRow> = map
        .into_iter()
        .flat_map(|(day, t)| {
            t.into_iter().map(move |(k, stats)| DayKeyRow {
                day,
                key: k.into(),
                stats,
            })
        })
        .collect();
    v.sort_by(|a, b| {
        a.day
            .cmp(&b.day)
            .then_with(|| b.stats.cost.cmp(&a.stats.cost))
            .then_with(|| a.key.cmp(&b.key))
    });
    v
}

impl Accumulator<'_> {
    /// Turns merged partial results into the finished audit (without
    /// findings) and the profile the detectors read.
    pub fn finish(mut self, summary: &IngestSummary, config: &AnalyzeConfig) -> (Audit, Profile) {
        let catalog = self.catalog();
        let names: Vec<&str> = summary.sources.iter().map(|s| s.name.as_str()).collect();
        let profile = self.take_profile(&names, summary);
        // Roll the groups up into every table they feed.
        let mut dims: [Table; 5] = Default::default();
        let mut feature_model: FxHashMap<(&str, &str), Stats> = FxHashMap::default();
        let mut day: FxHashMap<NaiveDate, Stats> = FxHashMap::default();
        let mut day_model: FxHashMap<NaiveDate, Table> = FxHashMap::default();
        let mut day_feature: FxHashMap<NaiveDate, Table> = FxHashMap::default();
        let mut logged: BTreeMap<(String, String), (Option<String>, Stats)> = BTreeMap::new();
        let labels = &self.labels;
        let mut billed_by: FxHashMap<(crate::accumulate::Label, Option<ModelId>), &str> =
            FxHashMap::default();
        for (key, g) in self.groups.iter() {
            let [lp, lm, feature, route, team] =
                [key.provider, key.model, key.feature, key.route, key.team].map(|l| labels.name(l));
            let entry = g.resolved.map(|id| catalog.model(id));
            let model = entry.map_or(lm, |e| e.id.as_str());
            // One row per provider however it is logged (`gemini` and
            // `google`, the AI SDK's `openai.chat` and `openai.embedding`),
            // as FOCUS's ProviderName; a name the catalog does not know
            // stays as logged (the model names table keeps every spelling).
            // (Looked up once per logged provider and model, not per group.)
            let provider = match (lp, entry) {
                ("", Some(e)) => e.provider.as_str(),
                ("", None) => NONE,
                (p, _) => *billed_by
                    .entry((key.provider, g.resolved))
                    .or_insert_with(|| {
                        catalog
                            .provider_of(Some(p), g.resolved)
                            .map_or(p, |known| known.id.as_str())
                    }),
            };
            for (table, k) in dims.iter_mut().zip([feature, model, provider, route, team]) {
                add_to(table, k, &g.stats);
            }
            feature_model
                .entry((feature, model))
                .or_default()
                .merge(&g.stats);
            if let Some(d) = key.day {
                day.entry(d).or_default().merge(&g.stats);
                add_to(day_model.entry(d).or_default(), model, &g.stats);
                add_to(day_feature.entry(d).or_default(), feature, &g.stats);
            }
            let resolved = entry.map(|e| format!("{}/{}", e.provider, e.id));
            let l = logged
                .entry((lp.to_string(), lm.to_string()))
                .or_insert((resolved, Stats::default()));
            l.1.merge(&g.stats);
        }
        let [d_feature, d_model, d_provider, d_route, d_team] = dims;
        let mut by = Vec::new();
        for (dim, table) in Dim::ALL
            .iter()
            .zip([d_feature, d_model, d_provider, d_route, d_team])
        {
            let rows = rows(table);
            by.push(DimTable {
                dimension: dim.name(),
                distinct: rows.len() as u64,
                rows,
                omitted: Stats::default(),
            });
        }
        // As users' and sessions' (below).
        let tags = self.tags.finish(crate::spill::TOP_ROWS).unwrap_or_default();
        for (dim, table) in [(Dim::User, self.users), (Dim::Session, self.sessions)] {
            // Reading back a spilled run can only fail if the temporary file
            // vanished under us; the audit then reports what it has.
            let top = table.finish(crate::spill::TOP_ROWS).unwrap_or_default();
            by.push(DimTable {
                dimension: dim.name(),
                rows: top
                    .rows
                    .into_iter()
                    .map(|(key, stats)| Row { key, stats })
                    .collect(),
                distinct: top.distinct,
                omitted: top.rest,
            });
        }
        let mut feature_model: Vec<PairRow> = feature_model
            .into_iter()
            .map(|((feature, model), stats)| PairRow {
                feature: feature.to_string(),
                model: model.to_string(),
                stats,
            })
            .collect();
        feature_model.sort_by(|a, b| {
            b.stats
                .cost
                .cmp(&a.stats.cost)
                .then_with(|| b.stats.calls.cmp(&a.stats.calls))
                .then_with(|| (&a.feature, &a.model).cmp(&(&b.feature, &b.model)))
        });
        let mut daily: Vec<DayRow> = day
            .into_iter()
            .map(|(day, stats)| DayRow { day, stats })
            .collect();
        daily.sort_by_key(|d| d.day);
        fill_quiet_days(&mut daily);
        let mut model_names: Vec<ModelNameRow> = logged
            .into_iter()
            .map(|((p, m), (resolved, stats))| ModelNameRow {
                logged_model: m,
                logged_provider: if p.is_empty() { None } else { Some(p) },
                resolved,
                stats,
            })
            .collect();
        model_names.sort_by(|a, b| {
            b.stats.calls.cmp(&a.stats.calls).then_with(|| {
                (&a.logged_model, &a.logged_provider).cmp(&(&b.logged_model, &b.logged_provider))
            })
        });
        // A model whose calls had nothing to price (failed calls with no
        // usage: Claude Code's API errors, named `<synthetic>`) is in the
        // model names, not among the unknown models; one with a call
        // unpriced is (hunt132: DALL·E's calls without tokens, or with a
        // logged cost, were "not priced" and listed nowhere).
        let unknown_models = model_names
            .iter()
            .filter(|m| m.resolved.is_none() && m.stats.unpriced_calls > 0)
            .cloned()
            .collect();
        let priced_elsewhere = model_names
            .iter()
            .filter(|m| {
                // The provider as logged, else a host before the model's
                // name (LiteLLM's `azure_ai/deepseek-r1`, hunt131: priced
                // at DeepSeek's own rates, said nowhere).
                let (Some(logged), Some(resolved)) = (m.logged_host(), &m.resolved) else {
                    return false;
                };
                catalog
                    .provider_named(logged, Some(&m.logged_model))
                    .is_some_and(|p| resolved.split('/').next() != Some(p))
            })
            .cloned()
            .collect();
        let mut reconciliation: Vec<ReconcileRow> = self
            .reconcile
            .into_iter()
            .map(|(m, r)| ReconcileRow {
                unpriced: model_names
                    .iter()
                    .any(|n| n.resolved.is_none() && *n.logged_model == *m),
                model: m.into(),
                calls: r.calls,
                logged: r.logged,
                computed: r.computed,
                difference: r.logged - r.computed,
                calls_differing: r.differing,
                difference_per_call: r.apart,
            })
            .collect();
        reconciliation.sort_by(|a, b| {
            b.difference
                .abs()
                .cmp(&a.difference.abs())
                .then_with(|| a.model.cmp(&b.model))
        });
        let coverage = Field::ALL
            .iter()
            .zip(self.coverage)
            .map(|(f, present)| CoverageRow {
                field: f.name(),
                present,
                lacking_prevents: (present == 0).then(|| f.impact()),
            })
            .collect();
        let most_expensive_calls = self
            .most_expensive
            .iter()
            .map(|e: &ExpensiveCall| ExpensiveRow {
                cost: e.cost,
                file: names.get(e.at.source).unwrap_or(&"").to_string(),
                line: summary.line(e.at),
                request_id: e.request_id.clone(),
                timestamp: e.timestamp,
                model: e.model.clone(),
                feature: e.feature.clone(),
                input_tokens: e.usage.input,
                cached_read_tokens: e.usage.cached_read,
                output_tokens: e.usage.output,
            })
            .collect();
        let input = InputReport {
            files: FileRow::rows(summary, &self.uncounted_by_source),
            lines: summary.lines,
            records: summary.records,
            rejected: summary.rejects.total(),
            rejected_by_reason: summary
                .rejects
                .counts()
                .iter()
                .filter(|(r, _)| !r.is_skip() && !r.is_note())
                .map(|(r, n)| (r.code().to_string(), *n))
                .collect(),
            fields_ignored: summary.rejects.fields_ignored(),
            skipped: summary.rejects.skipped(),
            skipped_by_reason: summary
                .rejects
                .counts()
                .iter()
                .filter(|(r, _)| r.is_skip())
                .map(|(r, n)| (r.code().to_string(), *n))
                .collect(),
            rejected_samples: summary.rejects.samples(),
            outside_window: self.outside_window + summary.outside_window,
            untimed_outside_window: self.untimed_outside + summary.untimed_outside_window,
            repeated_calls: self.repeats.report(),
        };
        let daily_by_model = day_rows(day_model);
        // The first day of the period compared with (a review's previous
        // month), for the models with calls there: a change between it and
        // the period's calls (the 1st of the month reviewed) priced the two
        // at two prices (hunt116: the review of September said nothing of
        // claude-sonnet-5's rise on 1 September).
        let compared_from: BTreeMap<&str, NaiveDate> = self
            .previous
            .iter()
            .filter_map(|p| Some((p.first?.date_naive(), &p.models)))
            .flat_map(|(day, models)| {
                models
                    .iter()
                    .filter(|(_, s)| s.calls > 0)
                    .map(move |(m, _)| (m.as_ref(), day))
            })
            .collect();
        let price_changes = price_changes(
            catalog,
            model_names
                .iter()
                .filter(|m| m.stats.calls > 0)
                .filter_map(|m| m.resolved.as_deref()),
            &daily_by_model,
            &compared_from,
        );
        let audit = Audit {
            catalog_version: catalog.version().to_string(),
            first_call: self.first,
            last_call: self.last,
            minutes: std::mem::take(&mut self.minutes),
            since: config.since,
            until: config.until,
            cost_per_call: self.totals.cost_per_call(),
            cost_per_success: self.totals.cost_per_success(),
            totals: self.totals,
            cost_by_token_kind: self.cost_parts,
            batch_calls_at_full_price: self.batch_at_full_price,
            tier_calls_at_standard_price: self.tier_at_standard,
            cache_write_1h_calls_at_5m_price: self.write_1h_at_5m,
            provisioned_calls_at_on_demand_price: self.provisioned,
            web_search_calls_unpriced: self.searches_unpriced,
            image_model_calls_at_text_rates: image_model_calls(&model_names),
            long_context_calls: self.long_context_calls,
            us_only_calls: self.us_only_calls,
            us_only_calls_at_global_price: self.us_at_global,
            price_changes,
            by,
            feature_model,
            tags: tags
                .rows
                .into_iter()
                .map(|(key, stats)| Row { key, stats })
                .collect(),
            tags_distinct: tags.distinct,
            tags_omitted: tags.rest,
            failures: rows(self.error_kinds),
            daily,
            daily_by_model,
            daily_by_feature: day_rows(day_feature),
            model_names,
            unknown_models,
            priced_elsewhere,
            reconciliation,
            coverage,
            rule_coverage: Vec::new(),
            most_expensive_calls,
            input,
            findings: Vec::new(),
            findings_below_min_savings: 0,
            min_savings: Money::ZERO,
            feature_from: config.feature_from.text(),
            below_min_savings: Vec::new(),
            savings: None,
            sampling: Sampling {
                sessions_scale: profile.keyed.sessions.scale(),
                prompts_scale: profile.keyed.prompts.scale(),
                chains_scale: profile.keyed.chains.scale(),
                timelines_scale: profile.keyed.timelines.scale(),
                timeline_calls_dropped: profile.keyed.timelines.dropped_calls(),
            },
            previous: config
                .previous
                .zip(self.previous)
                .map(|((since, until), p)| PreviousPeriod {
                    since,
                    until,
                    first_call: p.first,
                    last_call: p.last,
                    cost_per_call: p.totals.cost_per_call(),
                    cost_per_success: p.totals.cost_per_success(),
                    totals: p.totals,
                    by_feature: rows(p.features),
                    by_model: rows(p.models),
                }),
        };
        (audit, profile)
    }

    /// Moves the detectors' inputs out of the accumulator, decoding the group
    /// keys (the groups themselves stay for the attribution roll-up).
    fn take_profile(&mut self, names: &[&str], summary: &IngestSummary) -> Profile {
        self.settle_unit(crate::accumulate::WHOLE_HEADS);
        let catalog = self.catalog();
        let mut cells = std::mem::take(&mut self.cells);
        let mut keyed = std::mem::take(&mut self.keyed);
        self.infer(&mut cells, &mut keyed);
        let index: Vec<u64> = cells.iter().map(|c| c.key).collect();
        for c in &mut cells {
            for (_, id) in c.obs.top.iter_mut() {
                if let CallId::At(at) = *id {
                    let file = names.get(at.source).unwrap_or(&"");
                    *id = CallId::Logged(format!("{file}:{}", summary.line(at)).into());
                }
            }
        }
        let mut groups: Vec<GroupRow> = self
            .groups
            .iter()
            .map(|(key, g)| {
                let [lp, lm, feature, route, team] =
                    [key.provider, key.model, key.feature, key.route, key.team]
                        .map(|l| self.labels.name(l));
                let entry = g.resolved.map(|id| catalog.model(id));
                let s = &g.stats;
                GroupRow {
                    provider: match (lp, entry) {
                        ("", Some(e)) => e.provider.clone(),
                        ("", None) => NONE.to_string(),
                        (p, _) => p.to_string(),
                    },
                    model: entry.map_or(lm.to_string(), |e| format!("{}/{}", e.provider, e.id)),
                    resolved: g.resolved,
                    feature: feature.to_string(),
                    route: route.to_string(),
                    team: team.to_string(),
                    day: key.day,
                    batch: key.batch,
                    tier: key.tier,
                    us_only: key.us_only,
                    stats: g.stats,
                    usage: Usage {
                        input: s.input_tokens,
                        cached_read: s.cached_read_tokens,
                        cache_write: s.cache_write_tokens,
                        cache_write_1h: g.cache_write_1h,
                        output: s.output_tokens,
                        reasoning: s.reasoning_tokens,
                        input_audio: g.audio[0],
                        cached_audio: g.audio[1],
                        output_audio: g.audio[2],
                        web_searches: g.web_searches,
                    },
                    failed: g.failed,
                    cell: index[g.cell as usize],
                    cost: g.cost,
                    list_cost: g.list_cost,
                }
            })
            .collect();
        groups.sort_by(|a, b| {
            (
                &a.feature,
                &a.model,
                &a.provider,
                &a.route,
                &a.team,
                a.day,
                a.batch,
                a.tier,
                a.us_only,
            )
                .cmp(&(
                    &b.feature,
                    &b.model,
                    &b.provider,
                    &b.route,
                    &b.team,
                    b.day,
                    b.batch,
                    b.tier,
                    b.us_only,
                ))
        });
        cells.sort_by(|a, b| (&a.feature, &a.model).cmp(&(&b.feature, &b.model)));
        let mut history: Vec<(String, String, NaiveDate, Money)> = self
            .previous
            .as_mut()
            .map(|p| std::mem::take(&mut p.daily))
            .unwrap_or_default()
            .into_iter()
            .flat_map(|(feature, models)| {
                models.into_iter().flat_map(move |(model, days)| {
                    let feature = feature.to_string();
                    days.into_iter()
                        .map(move |(day, cost)| (feature.clone(), model.to_string(), day, cost))
                })
            })
            .collect();
        history.sort();
        Profile {
            groups,
            cells,
            keyed,
            sources: self.via,
            history,
        }
    }

    /// The inferences made once, at the end: timelines sorted for turn
    /// inference, each prefix's size estimated from what is known of it;
    /// each source counted for the rules' coverage where it is chosen.
    fn infer(&mut self, cells: &mut [Cell], keyed: &mut Keyed) {
        let catalog = self.catalog();
        let via = &mut self.via;
        keyed.timelines.sort_all();
        let scale = keyed.timelines.scale();
        for (_, t) in keyed.timelines.iter() {
            let calls = t.calls.len() as u64 * scale;
            via.add(
                match t.grouping {
                    Grouping::Session => Via::Session,
                    Grouping::UserDay => Via::SessionByGap,
                },
                calls,
            );
            via.add(
                match turns_from(t.calls) {
                    TurnSource::Messages => Via::TurnFromMessages,
                    TurnSource::Order | TurnSource::Logged => Via::TurnFromOrder,
                },
                calls,
            );
        }
        for c in cells.iter_mut() {
            let provider = c
                .resolved
                .map_or("", |id| catalog.model(id).provider.as_str());
            let scale = c.obs.prefixes.scale();
            for p in c.obs.prefixes.values_mut() {
                p.size = estimate(&p.facts(provider));
                if let Some(size) = p.size {
                    let v = match size.source {
                        PrefixSource::Logged => Via::PrefixTokens,
                        PrefixSource::Text => Via::PrefixFromText,
                        PrefixSource::Blocks => Via::PrefixFromChain,
                        PrefixSource::MinInput => Via::PrefixMinInput,
                    };
                    via.add(v, p.calls * scale);
                }
            }
            via.add(
                Via::UserFacingTag,
                c.obs.user_facing + c.obs.not_user_facing,
            );
        }
        // The sources that are a field as logged.
        for (field, v) in [
            (Field::Timestamp, Via::Timestamp),
            (Field::PrefixFingerprint, Via::PrefixFingerprint),
            (Field::PromptFingerprint, Via::PromptFingerprint),
            (Field::CachedRead, Via::CachedRead),
            (Field::FinishReason, Via::FinishReason),
            (Field::MaxTokens, Via::MaxTokens),
        ] {
            let i = Field::ALL.iter().position(|f| *f == field).unwrap_or(0);
            via.add(v, self.coverage[i]);
        }
    }
}
