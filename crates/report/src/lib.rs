//! Writing audit results: Markdown for people, a self-contained HTML page
//! with charts for people who read reports, JSON (versioned schema) for
//! tools, CSV tables for spreadsheets, FinOps FOCUS cost rows (CSV and
//! Parquet) for FinOps tools, and on request the page's charts as PNG files.
//!
//! A run's files are written under temporary names in the output folder and
//! renamed into place together ([`ReportSet`]), so a crash or a full disk
//! leaves the previous complete set, never half a report or a mix of two
//! runs, and other files in the folder are never touched. Output is deterministic: the same audit
//! gives byte-identical files (no clock is read here).

pub mod change;
mod chart;
pub mod csv;
pub mod focus;
pub mod html;
pub mod json;
pub mod markdown;
mod model;
mod output;
pub mod png;
mod text;
pub mod tickets;

use std::path::{Path, PathBuf};

use tokenaudit_analyze::Audit;

pub use output::{refuse_not_ours, write_atomic, ReportSet};
pub use text::int as count_text;
pub use text::spend_text;
pub use text::terminal as terminal_text;
pub use text::visible as one_line_text;

/// The report formats `--format` accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ReportFormat {
    Markdown,
    Json,
    Csv,
    Html,
    /// FinOps FOCUS rows: `focus.csv` and `focus.parquet`.
    Focus,
    /// The HTML report's charts as `audit-chart-*.png`.
    Png,
}

impl ReportFormat {
    /// The files of this format whose names do not depend on the audit (a
    /// CSV table's and a chart's do; `focus.parquet` goes with
    /// `focus.csv`).
    pub fn fixed_names(self) -> &'static [&'static str] {
        match self {
            ReportFormat::Markdown => &["audit.md"],
            ReportFormat::Json => &["audit.json"],
            ReportFormat::Html => &["audit.html"],
            ReportFormat::Focus => &["focus.csv"],
            ReportFormat::Csv | ReportFormat::Png => &[],
        }
    }

    pub fn parse(text: &str) -> Option<ReportFormat> {
        match text.trim().to_ascii_lowercase().as_str() {
            "md" | "markdown" => Some(ReportFormat::Markdown),
            "json" => Some(ReportFormat::Json),
            "csv" => Some(ReportFormat::Csv),
            "html" => Some(ReportFormat::Html),
            "focus" => Some(ReportFormat::Focus),
            "png" => Some(ReportFormat::Png),
            _ => None,
        }
    }
}

/// Facts about the run that the audit itself does not hold.
#[derive(Clone, Debug, Default)]
pub struct RunInfo {
    pub tool_version: String,
    /// The inputs as given on the command line.
    pub inputs: Vec<String>,
    /// The FOCUS rows ([`focus::rows`], built from the profile's groups,
    /// which the audit does not hold); needed for [`ReportFormat::Focus`].
    pub focus: Option<Vec<focus::FocusRow>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot create output folder {path}: {source}")]
    CreateDir {
        path: String,
        source: std::io::Error,
    },
    #[error("the FOCUS export needs its rows (tokenaudit_report::focus::rows)")]
    FocusRowsMissing,
    #[error("cannot encode {path}: {message}")]
    Encode { path: String, message: String },
    #[error("{path} is not a tokenaudit report (its first lines do not say so): tokenaudit does not replace it; move it, or write the report elsewhere (--out)")]
    NotOurs { path: String },
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

/// Writes the requested formats into `dir` and returns the files written.
/// Only tokenaudit's own file names (`audit.md`, `audit.json`,
/// `audit-*.csv`, `audit.html`, `audit-chart-*.png`, `focus.csv`,
/// `focus.parquet`) are replaced. The formats are rendered on up to
/// `threads` threads (0: all cores); the files are the same either way.
pub fn write_reports(
    dir: &Path,
    audit: &Audit,
    formats: &[ReportFormat],
    info: &RunInfo,
    threads: usize,
) -> Result<Vec<PathBuf>, ReportError> {
    let mut set = ReportSet::new(dir)?;
    let rendered = tokenaudit_ingest::pipeline::threads::map_in_order(formats, threads, |f| {
        render(dir, audit, *f, info)
    });
    for files in rendered {
        for (name, bytes) in files? {
            set.add(&name, &bytes)?;
        }
    }
    set.commit()
}

/// The report files in `dir` that are not among `written` (tokenaudit's,
/// by their first lines: a user's `audit-notes.csv` is not one): left there
/// by an earlier run with other formats, so they describe other inputs or
/// another time than the files beside them. Sorted by name.
pub fn earlier_reports(dir: &Path, written: &[PathBuf]) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| {
            tokenaudit_ingest::source::is_report_name(n)
                && !written.iter().any(|w| w.file_name() == Some(n.as_ref()))
                && tokenaudit_ingest::source::is_tokenaudit_report(&dir.join(n))
        })
        .collect();
    names.sort();
    names
}

/// One format's files, named, or why it could not be encoded.
type Rendered = Result<Vec<(String, Vec<u8>)>, ReportError>;

/// The files of one report format.
fn render(dir: &Path, audit: &Audit, format: ReportFormat, info: &RunInfo) -> Rendered {
    Ok(match format {
        ReportFormat::Markdown => vec![("audit.md".into(), markdown::render(audit, info).into())],
        ReportFormat::Json => vec![("audit.json".into(), json::render(audit, info).into())],
        ReportFormat::Csv => csv::tables(audit)
            .into_iter()
            .map(|(name, body)| (format!("audit-{name}.csv"), body.into()))
            .collect(),
        ReportFormat::Html => vec![("audit.html".into(), html::render(audit, info).into())],
        ReportFormat::Focus => {
            let rows = info.focus.as_deref().ok_or(ReportError::FocusRowsMissing)?;
            let parquet = focus::to_parquet(rows).map_err(|e| ReportError::Encode {
                path: dir.join("focus.parquet").display().to_string(),
                message: e.to_string(),
            })?;
            vec![
                ("focus.csv".into(), focus::to_csv(rows).into()),
                ("focus.parquet".into(), parquet),
            ]
        }
        ReportFormat::Png => png::render(audit).map_err(|message| ReportError::Encode {
            path: dir.join("audit-chart-*.png").display().to_string(),
            message,
        })?,
    })
}
