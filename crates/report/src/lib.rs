//! Writing audit results: Markdown for people, a self-contained HTML page
//! with charts for people who read reports, JSON (versioned schema) for
//! tools, CSV tables for spreadsheets, FinOps FOCUS cost rows (CSV and
//! Parquet) for FinOps tools, and on request the page's charts as PNG files.
//!
//! Every file is written under a temporary name in the output folder and
//! renamed into place, so a crash never leaves half a report and other files
//! in the folder are never touched. Output is deterministic: the same audit
//! gives byte-identical files (no clock is read here).

pub mod change;
mod chart;
pub mod csv;
pub mod focus;
pub mod html;
pub mod json;
pub mod markdown;
mod model;
pub mod png;
mod text;
pub mod tickets;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use tokenaudit_analyze::Audit;

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
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

/// Writes `bytes` to `path` atomically (temporary file in the same folder,
/// then rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("report");
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let err = |source| ReportError::Write {
        path: path.display().to_string(),
        source,
    };
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(err)
}

/// Writes the requested formats into `dir` and returns the files written.
/// Only tokenaudit's own file names (`audit.md`, `audit.json`,
/// `audit-*.csv`, `audit.html`, `audit-chart-*.png`, `focus.csv`,
/// `focus.parquet`) are replaced.
pub fn write_reports(
    dir: &Path,
    audit: &Audit,
    formats: &[ReportFormat],
    info: &RunInfo,
) -> Result<Vec<PathBuf>, ReportError> {
    fs::create_dir_all(dir).map_err(|source| ReportError::CreateDir {
        path: dir.display().to_string(),
        source,
    })?;
    let mut written = Vec::new();
    for format in formats {
        match format {
            ReportFormat::Markdown => {
                let path = dir.join("audit.md");
                write_atomic(&path, markdown::render(audit, info).as_bytes())?;
                written.push(path);
            }
            ReportFormat::Json => {
                let path = dir.join("audit.json");
                write_atomic(&path, json::render(audit, info).as_bytes())?;
                written.push(path);
            }
            ReportFormat::Csv => {
                for (name, body) in csv::tables(audit) {
                    let path = dir.join(format!("audit-{name}.csv"));
                    write_atomic(&path, body.as_bytes())?;
                    written.push(path);
                }
            }
            ReportFormat::Html => {
                let path = dir.join("audit.html");
                write_atomic(&path, html::render(audit, info).as_bytes())?;
                written.push(path);
            }
            ReportFormat::Focus => {
                let rows = info.focus.as_deref().ok_or(ReportError::FocusRowsMissing)?;
                let path = dir.join("focus.csv");
                write_atomic(&path, focus::to_csv(rows).as_bytes())?;
                written.push(path);
                let path = dir.join("focus.parquet");
                let bytes = focus::to_parquet(rows).map_err(|e| ReportError::Encode {
                    path: path.display().to_string(),
                    message: e.to_string(),
                })?;
                write_atomic(&path, &bytes)?;
                written.push(path);
            }
            ReportFormat::Png => {
                let charts = png::render(audit).map_err(|message| ReportError::Encode {
                    path: dir.join("audit-chart-*.png").display().to_string(),
                    message,
                })?;
                for (name, bytes) in charts {
                    let path = dir.join(name);
                    write_atomic(&path, &bytes)?;
                    written.push(path);
                }
            }
        }
    }
    Ok(written)
}
