//! Writing to stdout without panicking when the reader goes away
//! (`tokenaudit … | head`): a closed pipe ends the command quietly. And
//! the stages' timings on stderr, for profiling.

use std::io::Write;

use tokenaudit_analyze::timings::Timings;

/// Writes text to stdout; a broken pipe becomes an error that `main` treats
/// as success.
pub fn print(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Prints each stage's time on stderr when `TOKENAUDIT_TIMINGS` is set (and
/// not `0`): for profiling, never part of a report.
pub fn print_timings(timings: &Timings) {
    let on = std::env::var_os("TOKENAUDIT_TIMINGS").is_some_and(|v| !v.is_empty() && v != "0");
    if on {
        for (stage, took) in &timings.stages {
            eprintln!("timing {stage:<10} {:>8.3} s", took.as_secs_f64());
        }
    }
}
