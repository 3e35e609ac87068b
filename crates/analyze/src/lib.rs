//! Turning call records into answers: each record is priced against the
//! catalog and folded into attribution tables (by feature, model, provider,
//! route, team, user, session, day and tag), from which the [`Audit`] is built.
//!
//! Detectors of waste will read the same accumulated state; they never read
//! files.

pub mod accumulate;
pub mod audit;
pub mod stats;

pub use accumulate::{Accumulator, AnalyzeConfig, NONE};
pub use audit::{run, Audit, Row};
pub use stats::{CostParts, Stats};
