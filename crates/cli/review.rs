//! `tokenaudit review --month YYYY-MM`: the audit of one calendar month
//! (UTC), with its changes against the previous month, from one pass over
//! the inputs (calls of the previous month are priced and summed, not
//! audited).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Months, NaiveDate, Utc};
use clap::Args;

use crate::audit::{InputArgs, Reports};

#[derive(Debug, Args)]
#[command(
    // --month sets the window: --since and --until are refused.
    mut_arg("since", |a| a.hide(true)),
    mut_arg("until", |a| a.hide(true)),
    after_long_help = "Examples:
  tokenaudit review --month 2026-10 logs/
  tokenaudit review --month 2026-10 'exports/*.jsonl.gz' --out reports/2026-10 --format md,html

Exit codes: 0 the review was written, 2 an error (bad flags, config or
inputs, or under --strict any rejected line): nothing written.")]
pub struct ReviewArgs {
    /// The calendar month to review (UTC), as YYYY-MM. Calls of the month
    /// before, when the inputs hold them, give the month-over-month changes.
    #[arg(long, value_name = "YYYY-MM")]
    pub month: String,

    #[command(flatten)]
    pub input: InputArgs,

    /// Folder to write the review into (default: reports/review-YYYY-MM).
    /// Only tokenaudit's own files are replaced.
    #[arg(long, short, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Report formats, comma-separated: md, json, csv, html, focus, png.
    #[arg(
        long,
        short,
        default_value = "md,json,csv,html",
        value_delimiter = ',',
        value_name = "LIST"
    )]
    pub format: Vec<String>,
}

/// `[first instant of the month, first instant of the next)` and the same
/// for the month before.
type Span = (DateTime<Utc>, DateTime<Utc>);

pub fn month_bounds(text: &str) -> Result<(Span, Span)> {
    let first = NaiveDate::parse_from_str(&format!("{}-01", text.trim()), "%Y-%m-%d")
        .ok()
        .filter(|_| text.trim().len() == 7)
        .with_context(|| format!("--month {text:?}: expected a month like 2026-10"))?;
    let next = first
        .checked_add_months(Months::new(1))
        .context("--month: out of range")?;
    let before = first
        .checked_sub_months(Months::new(1))
        .context("--month: out of range")?;
    let at = |d: NaiveDate| d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc();
    Ok(((at(first), at(next)), (at(before), at(first))))
}

pub fn run(args: ReviewArgs) -> Result<ExitCode> {
    if args.input.since.is_some() || args.input.until.is_some() {
        bail!("review: --month sets the window; drop --since/--until");
    }
    let ((since, until), previous) = month_bounds(&args.month)?;
    let out = args
        .out
        .unwrap_or_else(|| PathBuf::from(format!("reports/review-{}", args.month.trim())));
    let mut prepared = args.input.prepare_skipping(std::slice::from_ref(&out))?;
    prepared.analyze.since = Some(since);
    prepared.analyze.until = Some(until);
    prepared.analyze.previous = Some(previous);
    crate::audit::write(
        prepared,
        Reports {
            out: &out,
            formats: &args.format,
            inputs: &args.input.paths,
            quiet: args.input.quiet,
            window: "--month (the calls' month)",
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_bounds_cover_the_calendar_month_and_the_one_before() {
        let ((s, u), (ps, pu)) = month_bounds("2026-03").unwrap();
        assert_eq!(s.to_rfc3339(), "2026-03-01T00:00:00+00:00");
        assert_eq!(u.to_rfc3339(), "2026-04-01T00:00:00+00:00");
        assert_eq!(ps.to_rfc3339(), "2026-02-01T00:00:00+00:00");
        assert_eq!(pu, s);
        let ((_, u), _) = month_bounds("2026-12").unwrap();
        assert_eq!(u.to_rfc3339(), "2027-01-01T00:00:00+00:00");
        let (_, (ps, _)) = month_bounds("2027-01").unwrap();
        assert_eq!(ps.to_rfc3339(), "2026-12-01T00:00:00+00:00");
        assert!(month_bounds("2026-13").is_err());
        assert!(month_bounds("2026-1").is_err());
        assert!(month_bounds("October").is_err());
    }
}
