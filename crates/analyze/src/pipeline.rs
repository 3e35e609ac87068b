//! The whole audit, stage after stage: ingest into per-worker accumulators,
//! merge, finish (the `Audit` and the detectors' `Profile`), detect, and the
//! savings waterfall. The top of the crate's module graph: the only module
//! that knows every stage.

use tokenaudit_core::pricing::Catalog;
use tokenaudit_ingest::{ingest, IngestOptions, IngestSummary, Source};

use crate::accumulate::{Accumulator, AnalyzeConfig};
use crate::audit::{Audit, Profile};
use crate::detect::{Context, DetectConfig};
use crate::timings::Timings;

/// Everything a run produces.
pub struct Outcome {
    /// The report's data, with findings and savings (unless
    /// [`AnalyzeConfig::attribution_only`]).
    pub audit: Audit,
    /// What the detectors and what-if re-pricing read.
    pub profile: Profile,
    pub summary: IngestSummary,
    /// How long each stage took (the caller decides whether to show it).
    pub timings: Timings,
}

/// Reads, prices and attributes every call in `sources`, runs the
/// detectors and builds the savings waterfall.
pub fn run(
    sources: &[Source],
    options: &IngestOptions,
    catalog: &Catalog,
    config: &AnalyzeConfig,
    detect: &DetectConfig,
) -> (Audit, IngestSummary) {
    let outcome = run_with_profile(sources, options, catalog, config, detect);
    (outcome.audit, outcome.summary)
}

/// [`run`], also returning the profile (for what-if re-pricing) and the
/// stages' timings.
pub fn run_with_profile<'c>(
    sources: &[Source],
    options: &IngestOptions,
    catalog: &'c Catalog,
    config: &'c AnalyzeConfig,
    detect: &DetectConfig,
) -> Outcome {
    let read = |make: &(dyn Fn() -> Accumulator<'c> + Sync)| {
        Ok::<_, std::convert::Infallible>(ingest(sources, options, make))
    };
    match run_with_reader(catalog, config, detect, read) {
        Ok(outcome) => outcome,
        Err(never) => match never {},
    }
}

/// [`run_with_profile`] over records from any reader: `read` is given the
/// accumulator factory and returns one accumulator per worker with the
/// summary of what it read (the ingest pipeline over logs, or the store's
/// scan).
pub fn run_with_reader<'c, R, E>(
    catalog: &'c Catalog,
    config: &'c AnalyzeConfig,
    detect: &DetectConfig,
    read: R,
) -> Result<Outcome, E>
where
    R: FnOnce(
        &(dyn Fn() -> Accumulator<'c> + Sync),
    ) -> Result<(Vec<Accumulator<'c>>, IngestSummary), E>,
{
    let mut timings = Timings::start();
    let (sinks, summary) = read(&|| Accumulator::new(catalog, config))?;
    timings.lap("ingest");
    // Into the first worker's accumulator, each other one dropped once
    // merged: a fresh one would copy the first's tables while they are
    // still alive (the audit's peak memory).
    let mut sinks = sinks.into_iter();
    let mut merged = sinks
        .next()
        .unwrap_or_else(|| Accumulator::new(catalog, config));
    for sink in sinks {
        merged.merge(sink);
    }
    timings.lap("merge");
    let (mut audit, profile) = merged.finish(&summary, config);
    timings.lap("finish");
    if !config.attribution_only {
        let context = Context::new(&audit, &profile, catalog, detect, &config.budgets);
        let findings = crate::detect::run(&context);
        let below_min_savings = context
            .below_min_savings
            .load(std::sync::atomic::Ordering::Relaxed);
        let mut below = context
            .below_floor
            .into_inner()
            .expect("no panic holding it");
        below.sort_by(|a, b| a.fingerprint.cmp(&b.fingerprint));
        timings.lap("detect");
        audit.savings = Some(crate::whatif::waterfall(
            catalog,
            &profile.groups,
            &profile.cells,
            &findings,
        ));
        timings.lap("waterfall");
        audit.findings = findings;
        audit.findings_below_min_savings = below_min_savings;
        audit.min_savings = detect.min_savings;
        audit.below_min_savings = below;
        audit.rule_coverage = crate::detect::coverage(&profile.sources, detect);
    }
    Ok(Outcome {
        audit,
        profile,
        summary,
        timings,
    })
}
