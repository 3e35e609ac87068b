//! Turning call records into answers: each record is priced against the
//! catalog and folded into attribution tables (by feature, model, provider,
//! route, team, user, session, day and tag), from which the [`Audit`] is built.
//!
//! Detectors of waste (`detect`) read the same accumulated state plus the
//! per-call observations gathered in bounded memory (`observe`); they never
//! read files. `whatif` re-prices the traffic under changes and compounds the
//! findings' savings into a waterfall.

pub mod accumulate;
pub mod audit;
pub mod cachesim;
pub mod coverage;
pub mod detect;
pub mod infer;
pub mod observe;
pub mod short;
pub mod sketch;
pub mod spill;
pub mod stats;
pub mod timings;
pub mod whatif;

pub use accumulate::{Accumulator, AnalyzeConfig, NONE};
pub use audit::{run, run_with_profile, Audit, PreviousPeriod, Profile, Row};
pub use stats::{CostParts, Stats};

/// Length of an audit's period in days (at least one): from the first to the
/// last call, or the `--since`/`--until` window when given.
pub fn period_days(audit: &Audit) -> f64 {
    let (from, to) = match (
        audit.since.or(audit.first_call),
        audit.until.or(audit.last_call),
    ) {
        (Some(f), Some(t)) => (f, t),
        _ => return 1.0,
    };
    ((to - from).num_seconds().max(0) as f64 / 86_400.0).max(1.0)
}
