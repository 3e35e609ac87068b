//! How long each stage of a run took: measured here, handed to the caller
//! in [`Outcome`](crate::pipeline::Outcome), printed (or not) by the CLI.
//!
//! A lap is one clock read, a handful per run, so stages are always timed.

use std::time::{Duration, Instant};

/// Stages and their wall-clock durations, in the order they ran.
#[derive(Clone, Debug)]
pub struct Timings {
    pub stages: Vec<(&'static str, Duration)>,
    last: Instant,
}

impl Timings {
    /// Starts the clock: the first lap measures from here.
    pub fn start() -> Timings {
        Timings {
            stages: Vec::new(),
            last: Instant::now(),
        }
    }

    /// Records `stage` as the time since the previous lap (or the start).
    pub fn lap(&mut self, stage: &'static str) {
        let now = Instant::now();
        self.stages.push((stage, now - self.last));
        self.last = now;
    }
}
