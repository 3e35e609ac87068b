//! End-to-end tests: the real `tokenaudit` binary on fixtures written in
//! each test, with every expected figure computed by hand in the test.

mod util;

mod bad_input;
#[cfg(feature = "cluster")]
mod cluster;
mod coverage;
mod fingerprints;
mod focus;
mod formats;
mod fuzz_regressions;
mod golden;
mod html;
mod inputs;
mod matrix;
mod png;
mod prompts;
mod repo;
mod report_set;
mod review;
mod rules;
mod sample;
mod schema;
mod shapes;
mod store;
mod tickets;
mod whatif;
