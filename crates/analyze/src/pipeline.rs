//! The whole audit, stage after stage: ingest into per-worker accumulators,
//! merge, finish (the `Audit` and the detectors' `Profile`), detect, and the
//! savings waterfall. The top of the crate's module graph: the only module
//! that knows every stage.

use tokenaudit_core::pricing::Catalog;
use tokenaudit_ingest::{ingest, IngestOptions, IngestSummary, Source};

use crate::accumulate::{Accumulator, AnalyzeConfig};
use crate::audit::{Audit, Profile};
use crate::detect::{Context, DetectConfig};

/// Reads, prices and attributes every call in `sources`, runs the
/// detectors and builds the savings waterfall.
pub fn run(
    sources: &[Source],
    options: &IngestOptions,
    catalog: &Catalog,
    config: &AnalyzeConfig,
    detect: &DetectConfig,
) -> (Audit, IngestSummary) {
    let (audit, _, summary) = run_with_profile(sources, options, catalog, config, detect);
    (audit, summary)
}

/// [`run`], also returning the profile (for what-if re-pricing).
pub fn run_with_profile(
    sources: &[Source],
    options: &IngestOptions,
    catalog: &Catalog,
    config: &AnalyzeConfig,
    detect: &DetectConfig,
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
    let context = Context::new(&audit, &profile, catalog, detect, &config.budgets);
    let findings = crate::detect::run(&context);
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
