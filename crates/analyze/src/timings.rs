//! Phase timings on stderr, for profiling: set `TOKENAUDIT_TIMINGS=1`.
//!
//! Off by default and free when off (one environment lookup per run).

use std::time::Instant;

/// Prints the time since the previous lap, when timings are on.
pub struct Clock {
    last: Option<Instant>,
}

impl Clock {
    /// A clock that prints only when `TOKENAUDIT_TIMINGS` is set.
    pub fn start() -> Clock {
        let on = std::env::var_os("TOKENAUDIT_TIMINGS").is_some_and(|v| !v.is_empty() && v != "0");
        Clock {
            last: on.then(Instant::now),
        }
    }

    /// Prints `name` and the seconds since the last lap (or the start).
    pub fn lap(&mut self, name: &str) {
        if let Some(last) = self.last {
            let now = Instant::now();
            eprintln!("timing {name:<10} {:>8.3} s", (now - last).as_secs_f64());
            self.last = Some(now);
        }
    }
}
