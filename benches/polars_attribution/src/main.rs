//! Attribution two ways over the same ingest, for `benches/attribution_vs_polars.sh`.
//!
//! ```text
//! polars-attribution-bench partial FILE...   # the audit's way: per-worker partial sums, merged
//! polars-attribution-bench polars FILE...    # every call a DataFrame row, grouped by polars (lazy)
//! ```
//!
//! Both read and price every call with tokenaudit's own pipeline and
//! catalog, so the difference is the attribution alone. Both group by the
//! audit's attribution key (provider, model, feature, route, team, day, batch)
//! and also by user and by session, and print the number of attribution
//! groups and the exact total cost in pico-dollars: the script checks that
//! the two agree.

use std::process::ExitCode;

use polars::prelude::*;
use tokenaudit_analyze::{Accumulator, AnalyzeConfig};
use tokenaudit_core::pricing::{Catalog, ModelId};
use tokenaudit_core::{CallRecord, CallStatus};
use tokenaudit_ingest::{ingest, IngestOptions, Location, RecordSink};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((mode, inputs)) = args.split_first() else {
        eprintln!("usage: polars-attribution-bench partial|polars FILE...");
        return ExitCode::from(2);
    };
    let sources = match tokenaudit_ingest::source::expand_inputs(inputs) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let catalog = Catalog::builtin();
    let options = IngestOptions::default();
    let result = match mode.as_str() {
        "partial" => partial(&sources, &options, &catalog),
        "polars" => with_polars(&sources, &options, &catalog),
        _ => Err(format!("unknown mode {mode:?}: partial or polars")),
    };
    match result {
        Ok((groups, picos)) => {
            println!("groups {groups} cost_picos {picos}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The audit's attribution, nothing else: what `audit --no-findings` runs
/// before it writes reports.
fn partial(
    sources: &[tokenaudit_ingest::Source],
    options: &IngestOptions,
    catalog: &Catalog,
) -> Result<(usize, i128), String> {
    let config = AnalyzeConfig {
        attribution_only: true,
        ..AnalyzeConfig::default()
    };
    let (sinks, summary) = ingest(sources, options, || Accumulator::new(catalog, &config));
    let mut merged = Accumulator::new(catalog, &config);
    for sink in sinks {
        merged.merge(sink);
    }
    let (audit, profile) = merged.finish(&summary, &config);
    Ok((profile.groups.len(), audit.totals.cost.picos()))
}

/// One row per call, built by each worker, stacked, then grouped three ways
/// by polars' lazy engine.
struct Rows<'c> {
    catalog: &'c Catalog,
    /// Model resolution per (provider, model) as logged: the audit resolves
    /// once per group, so this side must not resolve per call either.
    resolved: std::collections::HashMap<String, Option<ModelId>>,
    key: String,
    provider: StringChunkedBuilder,
    model: StringChunkedBuilder,
    feature: StringChunkedBuilder,
    route: StringChunkedBuilder,
    team: StringChunkedBuilder,
    user: StringChunkedBuilder,
    session: StringChunkedBuilder,
    day: PrimitiveChunkedBuilder<Int32Type>,
    batch: BooleanChunkedBuilder,
    ok: BooleanChunkedBuilder,
    input: PrimitiveChunkedBuilder<UInt64Type>,
    cached: PrimitiveChunkedBuilder<UInt64Type>,
    cache_write: PrimitiveChunkedBuilder<UInt64Type>,
    output: PrimitiveChunkedBuilder<UInt64Type>,
    reasoning: PrimitiveChunkedBuilder<UInt64Type>,
    /// Pico-dollars; `None` for an unpriced call.
    cost: PrimitiveChunkedBuilder<Int64Type>,
    overflow: bool,
}

const CAPACITY: usize = 1 << 16;

impl<'c> Rows<'c> {
    fn new(catalog: &'c Catalog) -> Self {
        let s = |n: &str| StringChunkedBuilder::new(n.into(), CAPACITY);
        let u = |n: &str| PrimitiveChunkedBuilder::<UInt64Type>::new(n.into(), CAPACITY);
        Rows {
            catalog,
            resolved: Default::default(),
            key: String::new(),
            provider: s("provider"),
            model: s("model"),
            feature: s("feature"),
            route: s("route"),
            team: s("team"),
            user: s("user"),
            session: s("session"),
            day: PrimitiveChunkedBuilder::new("day".into(), CAPACITY),
            batch: BooleanChunkedBuilder::new("batch".into(), CAPACITY),
            ok: BooleanChunkedBuilder::new("ok".into(), CAPACITY),
            input: u("input"),
            cached: u("cached"),
            cache_write: u("cache_write"),
            output: u("output"),
            reasoning: u("reasoning"),
            cost: PrimitiveChunkedBuilder::new("cost".into(), CAPACITY),
            overflow: false,
        }
    }

    fn frame(self) -> PolarsResult<DataFrame> {
        let columns: Vec<Column> = vec![
            self.provider.finish().into_column(),
            self.model.finish().into_column(),
            self.feature.finish().into_column(),
            self.route.finish().into_column(),
            self.team.finish().into_column(),
            self.user.finish().into_column(),
            self.session.finish().into_column(),
            self.day.finish().into_column(),
            self.batch.finish().into_column(),
            self.ok.finish().into_column(),
            self.input.finish().into_column(),
            self.cached.finish().into_column(),
            self.cache_write.finish().into_column(),
            self.output.finish().into_column(),
            self.reasoning.finish().into_column(),
            self.cost.finish().into_column(),
        ];
        let height = columns[0].len();
        DataFrame::new(height, columns)
    }
}

fn push(b: &mut StringChunkedBuilder, v: Option<&str>) {
    match v {
        Some(v) => b.append_value(v),
        None => b.append_null(),
    }
}

impl RecordSink for Rows<'_> {
    fn record(&mut self, r: &CallRecord<'_>, _at: Location) {
        // Priced exactly as the audit prices (same catalog, same call).
        let day = r.timestamp.map(|t| t.date_naive());
        self.key.clear();
        self.key.push_str(r.provider.as_deref().unwrap_or(""));
        self.key.push('\u{1f}');
        self.key.push_str(&r.model);
        let id = match self.resolved.get(self.key.as_str()) {
            Some(id) => *id,
            None => {
                let id = self.catalog.resolve(r.provider.as_deref(), &r.model);
                self.resolved.insert(self.key.clone(), id);
                id
            }
        };
        let cost = id.map(|id| {
            self.catalog
                .price(id, day, &r.usage, r.is_batch())
                .cost
                .total()
                .picos()
        });
        push(&mut self.provider, r.provider.as_deref());
        self.model.append_value(&r.model);
        push(&mut self.feature, r.feature.as_deref());
        push(&mut self.route, r.route.as_deref());
        push(&mut self.team, r.team.as_deref());
        push(&mut self.user, r.user.as_deref());
        push(&mut self.session, r.session.as_deref());
        self.day.append_option(day.map(|d| {
            use chrono::Datelike;
            d.num_days_from_ce()
        }));
        self.batch.append_value(r.is_batch());
        self.ok.append_value(r.effective_status() == CallStatus::Ok);
        self.input.append_value(r.usage.input);
        self.cached.append_value(r.usage.cached_read);
        self.cache_write.append_value(r.usage.cache_write);
        self.output.append_value(r.usage.output);
        self.reasoning.append_value(r.usage.reasoning);
        let cost = cost.map(|c| {
            i64::try_from(c).unwrap_or_else(|_| {
                self.overflow = true;
                0
            })
        });
        self.cost.append_option(cost);
    }
}

fn with_polars(
    sources: &[tokenaudit_ingest::Source],
    options: &IngestOptions,
    catalog: &Catalog,
) -> Result<(usize, i128), String> {
    let clock = std::time::Instant::now();
    let (sinks, _summary) = ingest(sources, options, || Rows::new(catalog));
    if sinks.iter().any(|s| s.overflow) {
        return Err("a call's cost does not fit in i64 pico-dollars".into());
    }
    let err = |e: PolarsError| e.to_string();
    let mut frames = sinks.into_iter().map(Rows::frame);
    let mut df = frames.next().ok_or("no workers")?.map_err(err)?;
    for f in frames {
        df.vstack_mut_owned(f.map_err(err)?).map_err(err)?;
    }
    let built = clock.elapsed();
    let sums = || {
        [
            len().alias("calls"),
            col("ok").sum().alias("ok_calls"),
            col("input").sum(),
            col("cached").sum(),
            col("cache_write").sum(),
            col("output").sum(),
            col("reasoning").sum(),
            col("cost").sum(),
        ]
    };
    let df_height = df.height();
    let by_group = df
        .clone()
        .lazy()
        .group_by([
            col("provider"),
            col("model"),
            col("feature"),
            col("route"),
            col("team"),
            col("day"),
            col("batch"),
        ])
        .agg(sums())
        .collect()
        .map_err(err)?;
    let by_user = df.clone().lazy().group_by([col("user")]).agg(sums());
    let by_session = df.lazy().group_by([col("session")]).agg(sums());
    let by_user = by_user.collect().map_err(err)?;
    let by_session = by_session.collect().map_err(err)?;
    // Exact: the per-group sums are i64, added up here in i128.
    let total: i128 = by_group
        .column("cost")
        .map_err(err)?
        .i64()
        .map_err(err)?
        .downcast_iter()
        .flat_map(|a| a.iter())
        .map(|c| c.map_or(0, |v| *v as i128))
        .sum();
    eprintln!(
        "polars: {} rows read and stacked in {:.2} s, grouped in {:.2} s ({} users, {} sessions)",
        df_height,
        built.as_secs_f64(),
        (clock.elapsed() - built).as_secs_f64(),
        by_user.height(),
        by_session.height()
    );
    Ok((by_group.height(), total))
}
