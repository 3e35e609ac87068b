//! The finished audit: attribution tables sorted for reading, plus what the
//! input lacked. Built once from the merged accumulators.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use tokenaudit_core::pricing::Catalog;
use tokenaudit_core::{Field, Money};
use tokenaudit_ingest::pipeline::SourceSummary;
use tokenaudit_ingest::{ingest, IngestOptions, IngestSummary, RejectSample, Source};

use rustc_hash::FxHashMap;

use crate::accumulate::{
    parse_day, Accumulator, AnalyzeConfig, Cell, Dim, ExpensiveCall, Table, NONE, SEP,
};
use crate::detect::{Context, Finding, GroupRow};
use crate::observe::{CallId, Keyed};
use crate::stats::{CostParts, Stats};
use crate::whatif::Waterfall;

/// One key's stats.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Row {
    pub key: String,
    #[serde(flatten)]
    pub stats: Stats,
}

/// A dimension's table, most expensive first.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DimTable {
    pub dimension: &'static str,
    /// Most expensive first; for users and sessions only the top
    /// [`TOP_ROWS`](crate::spill::TOP_ROWS).
    pub rows: Vec<Row>,
    /// Distinct keys (rows kept plus rows omitted).
    pub distinct: u64,
    /// The stats of the keys not in `rows`.
    pub omitted: Stats,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PairRow {
    pub feature: String,
    pub model: String,
    #[serde(flatten)]
    pub stats: Stats,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DayRow {
    pub day: NaiveDate,
    #[serde(flatten)]
    pub stats: Stats,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DayKeyRow {
    pub day: NaiveDate,
    pub key: String,
    #[serde(flatten)]
    pub stats: Stats,
}

/// How a logged model name resolved.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelNameRow {
    pub logged_model: String,
    pub logged_provider: Option<String>,
    /// `provider/id` in the catalog, or `None` when unknown.
    pub resolved: Option<String>,
    #[serde(flatten)]
    pub stats: Stats,
}

/// Logged cost against computed cost, for one model.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReconcileRow {
    pub model: String,
    pub calls: u64,
    pub logged: Money,
    pub computed: Money,
    /// logged − computed.
    pub difference: Money,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CoverageRow {
    pub field: &'static str,
    /// Calls carrying the field.
    pub present: u64,
    /// What cannot be analysed without it (set when no call carries it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lacking_prevents: Option<&'static str>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExpensiveRow {
    pub cost: Money,
    pub file: String,
    pub line: u64,
    pub request_id: Option<String>,
    pub timestamp: Option<DateTime<Utc>>,
    pub model: String,
    pub feature: String,
    pub input_tokens: u64,
    pub cached_read_tokens: u64,
    pub output_tokens: u64,
}

/// What was read and what was rejected.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InputReport {
    pub files: Vec<FileRow>,
    pub lines: u64,
    pub records: u64,
    pub rejected: u64,
    pub rejected_by_reason: BTreeMap<String, u64>,
    /// Lines that are fine but are not (new) calls: agent-log lines that
    /// record no model call (`not_a_call`), `synthetic` messages, calls
    /// logged again (`duplicate`). Not rejects: `--strict` ignores them.
    pub skipped: u64,
    pub skipped_by_reason: BTreeMap<String, u64>,
    /// The first rejected lines, in input order.
    pub rejected_samples: Vec<RejectSample>,
    /// Calls outside `--since`/`--until` (or without a timestamp when a
    /// window was given).
    pub outside_window: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FileRow {
    pub file: String,
    pub encoding: String,
    pub format: String,
    pub lines: u64,
    pub records: u64,
    pub rejected: u64,
}

impl From<&SourceSummary> for FileRow {
    fn from(s: &SourceSummary) -> FileRow {
        FileRow {
            file: s.name.clone(),
            encoding: s.encoding.clone(),
            format: s.format.clone(),
            lines: s.lines,
            records: s.records,
            rejected: s.rejected,
        }
    }
}

/// The whole result of an audit.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Audit {
    pub catalog_version: String,
    /// First and last call timestamps seen.
    pub first_call: Option<DateTime<Utc>>,
    pub last_call: Option<DateTime<Utc>>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub totals: Stats,
    pub cost_by_token_kind: CostParts,
    pub cost_per_call: Money,
    /// Total spend divided by successful calls.
    pub cost_per_success: Option<Money>,
    /// Batch calls priced at real-time rates because the model has no batch price.
    pub batch_calls_at_full_price: u64,
    /// Calls priced at a long-context tier.
    pub long_context_calls: u64,
    pub by: Vec<DimTable>,
    pub feature_model: Vec<PairRow>,
    pub tags: Vec<Row>,
    pub failures: Vec<Row>,
    pub daily: Vec<DayRow>,
    pub daily_by_model: Vec<DayKeyRow>,
    pub daily_by_feature: Vec<DayKeyRow>,
    pub model_names: Vec<ModelNameRow>,
    pub unknown_models: Vec<ModelNameRow>,
    pub reconciliation: Vec<ReconcileRow>,
    pub coverage: Vec<CoverageRow>,
    /// Per rule: whether the input let it run, and on which sources of its
    /// inputs (generated from the rules' declarations, `coverage.rs`).
    pub rule_coverage: Vec<crate::coverage::RuleCoverage>,
    pub most_expensive_calls: Vec<ExpensiveRow>,
    pub input: InputReport,
    /// Waste findings, most monthly savings first.
    pub findings: Vec<Finding>,
    /// The findings' savings, compounded in lever order.
    pub savings: Option<Waterfall>,
    /// How much of the keyed analyses ran on a sample (large inputs).
    pub sampling: Sampling,
    /// The period before this one, when asked for (`tokenaudit review`):
    /// its totals and spend per feature and model, for the changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<PreviousPeriod>,
}

/// The sums of the period before the audited one (its calls are priced the
/// same way, but not audited: no findings, no other tables).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PreviousPeriod {
    /// `[since, until)`.
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub totals: Stats,
    pub cost_per_call: Money,
    pub cost_per_success: Option<Money>,
    /// Most expensive first.
    pub by_feature: Vec<Row>,
    pub by_model: Vec<Row>,
}

/// Whether per-key analyses (duplicates, retry chains, sessions) saw every
/// key or a coordinated hash sample of them.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Sampling {
    /// 1 when exact; else each sampled key stands for this many.
    pub sessions_scale: u64,
    pub prompts_scale: u64,
    pub chains_scale: u64,
    /// The timelines of sessions without turn numbers (turn inference).
    pub timelines_scale: u64,
    /// Calls of those timelines past the first
    /// [`MAX_CALLS`](crate::infer::timeline::MAX_CALLS) of theirs, left out
    /// of turn inference.
    pub timeline_calls_dropped: u64,
}

/// What the detectors and what-if re-pricing work on besides the audit.
pub struct Profile {
    pub groups: Vec<GroupRow>,
    /// Sorted by (feature, model).
    pub cells: Vec<Cell>,
    pub keyed: Keyed,
}

impl Profile {
    /// The detectors' view of this profile and `audit`.
    pub fn context<'a>(
        &'a self,
        audit: &'a Audit,
        catalog: &'a Catalog,
        config: &'a AnalyzeConfig,
    ) -> Context<'a> {
        Context {
            audit,
            catalog,
            groups: &self.groups,
            cells: &self.cells,
            keyed: &self.keyed,
            config: &config.detect,
        }
    }
}

impl Audit {
    /// The table of one dimension.
    pub fn dim(&self, name: &str) -> &[Row] {
        self.by
            .iter()
            .find(|t| t.dimension == name)
            .map_or(&[], |t| &t.rows)
    }

    /// Fields no call carried.
    pub fn missing_fields(&self) -> impl Iterator<Item = &CoverageRow> {
        self.coverage.iter().filter(|c| c.present == 0)
    }
}

fn add_to(table: &mut Table, key: &str, stats: &Stats) {
    match table.get_mut(key) {
        Some(s) => s.merge(stats),
        None => {
            table.insert(key.into(), *stats);
        }
    }
}

fn by_cost(rows: &mut [Row]) {
    rows.sort_by(|a, b| {
        b.stats
            .cost
            .cmp(&a.stats.cost)
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
        let mut feature_model = Table::default();
        let mut day: FxHashMap<NaiveDate, Stats> = FxHashMap::default();
        let mut day_model: FxHashMap<NaiveDate, Table> = FxHashMap::default();
        let mut day_feature: FxHashMap<NaiveDate, Table> = FxHashMap::default();
        let mut logged: BTreeMap<(String, String), (Option<String>, Stats)> = BTreeMap::new();
        for (key, g) in self.groups.iter() {
            let mut parts = key.splitn(6, SEP);
            let mut next = || parts.next().unwrap_or("");
            let (lp, lm, feature, route, team, day_text) =
                (next(), next(), next(), next(), next(), next());
            let entry = g.resolved.map(|id| catalog.model(id));
            let model = entry.map_or(lm, |e| e.id.as_str());
            let provider = match (lp, entry) {
                ("", Some(e)) => e.provider.as_str(),
                ("", None) => NONE,
                (p, _) => p,
            };
            for (table, k) in dims.iter_mut().zip([feature, model, provider, route, team]) {
                add_to(table, k, &g.stats);
            }
            add_to(
                &mut feature_model,
                &format!("{feature}{SEP}{model}"),
                &g.stats,
            );
            if let Some(d) = parse_day(day_text) {
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
            .map(|(k, stats)| {
                let (f, m) = k.split_once(SEP).unwrap_or((&k, ""));
                PairRow {
                    feature: f.to_string(),
                    model: m.to_string(),
                    stats,
                }
            })
            .collect();
        feature_model.sort_by(|a, b| {
            b.stats
                .cost
                .cmp(&a.stats.cost)
                .then_with(|| (&a.feature, &a.model).cmp(&(&b.feature, &b.model)))
        });
        let mut daily: Vec<DayRow> = day
            .into_iter()
            .map(|(day, stats)| DayRow { day, stats })
            .collect();
        daily.sort_by_key(|d| d.day);
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
        let unknown_models = model_names
            .iter()
            .filter(|m| m.resolved.is_none())
            .cloned()
            .collect();
        let mut reconciliation: Vec<ReconcileRow> = self
            .reconcile
            .into_iter()
            .map(|(m, r)| ReconcileRow {
                model: m.into(),
                calls: r.calls,
                logged: r.logged,
                computed: r.computed,
                difference: r.logged - r.computed,
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
            files: summary.sources.iter().map(FileRow::from).collect(),
            lines: summary.lines,
            records: summary.records,
            rejected: summary.rejects.total(),
            rejected_by_reason: summary
                .rejects
                .counts()
                .iter()
                .filter(|(r, _)| !r.is_skip())
                .map(|(r, n)| (r.code().to_string(), *n))
                .collect(),
            skipped: summary.rejects.skipped(),
            skipped_by_reason: summary
                .rejects
                .counts()
                .iter()
                .filter(|(r, _)| r.is_skip())
                .map(|(r, n)| (r.code().to_string(), *n))
                .collect(),
            rejected_samples: summary.rejects.samples(),
            outside_window: self.outside_window,
        };
        let audit = Audit {
            catalog_version: catalog.version().to_string(),
            first_call: self.first,
            last_call: self.last,
            since: config.since,
            until: config.until,
            cost_per_call: self.totals.cost_per_call(),
            cost_per_success: self.totals.cost_per_success(),
            totals: self.totals,
            cost_by_token_kind: self.cost_parts,
            batch_calls_at_full_price: self.batch_at_full_price,
            long_context_calls: self.long_context_calls,
            by,
            feature_model,
            tags: rows(self.tags),
            failures: rows(self.error_kinds),
            daily,
            daily_by_model: day_rows(day_model),
            daily_by_feature: day_rows(day_feature),
            model_names,
            unknown_models,
            reconciliation,
            coverage,
            rule_coverage: if config.attribution_only {
                Vec::new()
            } else {
                crate::coverage::coverage(&self.via, |code| config.detect.options(code).enabled)
            },
            most_expensive_calls,
            input,
            findings: Vec::new(),
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
                let mut parts = key.split(SEP);
                let mut next = || parts.next().unwrap_or("");
                let (lp, lm, feature, route, team, day_text) =
                    (next(), next(), next(), next(), next(), next());
                let batch = next() == "b";
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
                    day: parse_day(day_text),
                    batch,
                    stats: g.stats,
                    usage: tokenaudit_core::Usage {
                        input: s.input_tokens,
                        cached_read: s.cached_read_tokens,
                        cache_write: s.cache_write_tokens,
                        cache_write_1h: g.cache_write_1h,
                        output: s.output_tokens,
                        reasoning: s.reasoning_tokens,
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
            )
                .cmp(&(
                    &b.feature,
                    &b.model,
                    &b.provider,
                    &b.route,
                    &b.team,
                    b.day,
                    b.batch,
                ))
        });
        cells.sort_by(|a, b| (&a.feature, &a.model).cmp(&(&b.feature, &b.model)));
        Profile {
            groups,
            cells,
            keyed,
        }
    }

    /// The inferences made once, at the end: timelines sorted for turn
    /// inference, each prefix's size estimated from what is known of it;
    /// each source counted for the rules' coverage where it is chosen.
    fn infer(&mut self, cells: &mut [Cell], keyed: &mut Keyed) {
        use crate::coverage::Via;
        use crate::infer::prefix::PrefixSource;
        use crate::infer::sessions::{turns_from, TurnSource};
        use crate::infer::timeline::Grouping;
        let catalog = self.catalog();
        let via = &mut self.via;
        keyed.timelines.sort_all();
        let scale = keyed.timelines.scale();
        for (_, t) in keyed.timelines.sorted() {
            let calls = t.calls.len() as u64 * scale;
            via.add(
                match t.grouping {
                    Grouping::Session => Via::Session,
                    Grouping::UserDay => Via::SessionByGap,
                },
                calls,
            );
            via.add(
                match turns_from(&t.calls) {
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
                p.size = crate::infer::prefix::estimate(&p.facts(provider));
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

/// Reads, prices and attributes every call in `sources`, runs the
/// detectors and builds the savings waterfall.
pub fn run(
    sources: &[Source],
    options: &IngestOptions,
    catalog: &Catalog,
    config: &AnalyzeConfig,
) -> (Audit, IngestSummary) {
    let (audit, _, summary) = run_with_profile(sources, options, catalog, config);
    (audit, summary)
}

/// [`run`], also returning the profile (for what-if re-pricing).
pub fn run_with_profile(
    sources: &[Source],
    options: &IngestOptions,
    catalog: &Catalog,
    config: &AnalyzeConfig,
) -> (Audit, Profile, IngestSummary) {
    let mut clock = crate::timings::Clock::start();
    let (sinks, summary) = ingest(sources, options, || Accumulator::new(catalog, config));
    clock.lap("ingest");
    let mut merged = Accumulator::new(catalog, config);
    for sink in sinks {
        merged.merge(sink);
    }
    clock.lap("merge");
    let (mut audit, profile) = merged.finish(&summary, config);
    clock.lap("finish");
    if config.attribution_only {
        return (audit, profile, summary);
    }
    let findings = crate::detect::run(&profile.context(&audit, catalog, config));
    clock.lap("detect");
    audit.savings = Some(crate::whatif::waterfall(
        catalog,
        &profile.groups,
        &profile.cells,
        &findings,
    ));
    clock.lap("waterfall");
    audit.findings = findings;
    (audit, profile, summary)
}
