//! Writing to stdout without panicking when the reader goes away
//! (`tokenaudit … | head`): a closed pipe ends the command quietly; the
//! one line an error is printed as; counts with their nouns; and the
//! stages' timings on stderr, for profiling.

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

/// A count and its noun: "1 call", "2 calls".
pub fn counted(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Rejected lines and inputs that could not be read at all, apart ("1 line
/// rejected and 2 inputs could not be read").
pub fn rejected_count(lines: u64, inputs: u64) -> String {
    match (lines, inputs) {
        (n, 0) => format!("{} rejected", counted(n, "line", "lines")),
        (0, u) => format!("{} could not be read", counted(u, "input", "inputs")),
        (n, u) => format!(
            "{} rejected and {} could not be read",
            counted(n, "line", "lines"),
            counted(u, "input", "inputs")
        ),
    }
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
    if timings_on() {
        for (stage, took) in &timings.stages {
            eprintln!("timing {stage:<10} {:>8.3} s", took.as_secs_f64());
        }
    }
}

/// The first `shown` of `items`, joined with commas, then "and N more" for
/// the rest: how a warning names a long list.
pub fn first_of<T: std::fmt::Display>(items: &[T], shown: usize) -> String {
    // Names from logs and folders: an escape sequence or a line break in
    // one is shown, not run (hunt163).
    let names: Vec<String> = items
        .iter()
        .take(shown)
        .map(|t| tokenaudit_report::one_line_text(&t.to_string()).into_owned())
        .collect();
    match items.len() - names.len() {
        0 => names.join(", "),
        n => format!("{} and {n} more", names.join(", ")),
    }
}

/// Says on stderr what the walks of the input folders did not read, so none
/// goes unread unseen: folders not entered (the report folder, stores), and
/// files not named like a log (the first five, and how many).
pub fn print_left_out(left_out: &tokenaudit_ingest::source::LeftOut) {
    for (dir, why) in &left_out.folders {
        eprintln!(
            "note: {} not read ({why})",
            tokenaudit_report::one_line_text(&dir.display().to_string())
        );
    }
    for (dir, live, removed) in &left_out.delta {
        eprintln!(
            "note: {} is a Delta Lake table: read its {live} live file{} as its log lists them{}",
            tokenaudit_report::one_line_text(&dir.display().to_string()),
            if *live == 1 { "" } else { "s" },
            match removed {
                0 => String::new(),
                n => format!(
                    "; {n} file{} its log replaced (OPTIMIZE, DELETE, an overwrite) and VACUUM has not yet removed not read",
                    if *n == 1 { "" } else { "s" }
                ),
            }
        );
    }
    for (dir, why) in &left_out.delta_unread {
        eprintln!(
            "warning: {} is a Delta Lake table, not read: {why}; read it with Spark, DuckDB's delta extension or delta-rs and export its rows",
            tokenaudit_report::one_line_text(&dir.display().to_string())
        );
    }
    let reports = &left_out.reports;
    if !reports.is_empty() {
        let shown: Vec<_> = reports.iter().map(|p| p.display()).collect();
        eprintln!(
            "note: {} file{} an earlier tokenaudit report wrote not read as logs: {}",
            reports.len(),
            if reports.len() == 1 { "" } else { "s" },
            first_of(&shown, 3)
        );
    }
    let hidden = &left_out.hidden;
    if !hidden.is_empty() {
        let shown: Vec<_> = hidden.iter().map(|p| p.display()).collect();
        eprintln!(
            "note: {} hidden {} in the input directories not read (named with a leading dot): {}; name one to read it",
            hidden.len(),
            if hidden.len() == 1 { "entry" } else { "entries" },
            first_of(&shown, 3)
        );
    }
    // Workbooks: no name makes them readable (hunt154).
    let (sheets, files): (Vec<_>, Vec<_>) = left_out
        .files
        .iter()
        .partition(|p| tokenaudit_ingest::source::is_spreadsheet(p));
    if !sheets.is_empty() {
        let shown: Vec<_> = sheets.iter().map(|p| p.display()).collect();
        eprintln!(
            "warning: {} spreadsheet workbook{} in the input directories not read: {}; save {} as CSV (UTF-8) and audit the .csv",
            sheets.len(),
            if sheets.len() == 1 { "" } else { "s" },
            first_of(&shown, 5),
            if sheets.len() == 1 { "it" } else { "them" },
        );
    }
    if files.is_empty() {
        return;
    }
    let shown: Vec<_> = files.iter().map(|p| p.display()).collect();
    eprintln!(
        "warning: {} file{} in the input directories not read (not named like a log: {}, \
         compressed or rotated copies): {}; name a file or a glob to read it",
        files.len(),
        if files.len() == 1 { "" } else { "s" },
        tokenaudit_ingest::source::LOG_EXTENSIONS.join(", "),
        first_of(&shown, 5)
    );
}

/// How an audit from the store used its cache: each warning on stderr,
/// and, with `TOKENAUDIT_TIMINGS`, the days merged from it, computed (and
/// written) and read row by row.
pub fn print_cache_use(used: &tokenaudit_store::cache::CacheUse) {
    for w in &used.warnings {
        eprintln!("warning: {}", tokenaudit_report::terminal_text(w));
    }
    if timings_on() {
        eprintln!(
            "cache      {} days loaded, {} computed, {} written, {} cut by the window{}",
            used.loaded,
            used.computed,
            used.written,
            used.cut,
            if used.merged {
                " (merged, from one file)".to_string()
            } else if used.from_merged > 0 {
                format!(
                    " (of them, {} from an earlier run's merged state)",
                    used.from_merged
                )
            } else {
                String::new()
            }
        );
    }
}

fn timings_on() -> bool {
    std::env::var_os("TOKENAUDIT_TIMINGS").is_some_and(|v| !v.is_empty() && v != "0")
}

/// The error and its causes, joined by ": ", each said once. Library errors
/// name their cause in their own message too (`cannot write audit.md: No
/// space left on device`), so a cause the text already holds is left out.
pub fn error_text(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    // (A file name or a log's label in it: shown, not run, hunt163.)
    tokenaudit_report::terminal_text(&text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_text_says_each_cause_once() {
        let io = std::io::Error::new(std::io::ErrorKind::StorageFull, "no space left on device");
        let e = anyhow::Error::new(tokenaudit_report::ReportError::Write {
            path: "out/audit.md".into(),
            source: io,
        })
        .context("writing the reports");
        assert_eq!(
            error_text(&e),
            "writing the reports: cannot write out/audit.md: no space left on device"
        );
        let e = anyhow::anyhow!("inner").context("outer");
        assert_eq!(error_text(&e), "outer: inner");
    }
}
