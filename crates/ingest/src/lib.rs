//! Reading call logs into canonical call records.
//!
//! The path of a log line, one folder per stage: [`source`] finds inputs,
//! opens them with transparent decompression and turns JSON arrays,
//! multi-line documents and CSV into JSON lines; [`pipeline`] splits each
//! stream into chunks on line boundaries and parses the chunks in parallel on
//! rayon's pool; a [`formats::Format`] chosen per file from the registry of
//! built-in formats (or a user mapping) turns each line into a
//! [`tokenaudit_core::CallRecord`], or into a counted [`rejects::Reject`],
//! reading it with [`json`]'s scanner into [`record`]'s staging type; Parquet
//! files are read column by column ([`parquet`]); the records go to a
//! caller-supplied [`pipeline::RecordSink`]. Memory is bounded by the chunk
//! size times the number of chunks in flight, whatever the size of the input.
//!
//! The stages depend on each other in one direction only (see
//! `module_graph` below): `source` ← `rejects` ← `json` ← `record` ←
//! `engine` ← `formats` ← `parquet` ← `pipeline`.

pub mod engine;
pub mod formats;
pub mod json;
pub mod parquet;
pub mod pipeline;
pub mod record;
pub mod rejects;
pub mod source;

pub use formats::Format;
pub use pipeline::{ingest, IngestOptions, IngestSummary, Location, RecordSink};
pub use rejects::{Reject, RejectReason, RejectSample, Rejects};
pub use source::Source;

// Paths other crates use from before the layout by stage.
pub use formats::mapping;
pub use record::fields;

/// The stages stay a DAG: each top-level module names (`crate::x`) only the
/// stages its row allows, and the rows have no cycle. A new module needs a
/// row; an edge that would close a cycle fails here instead of compiling
/// silently. (The same check as `tokenaudit-analyze`'s `module_graph`.)
#[cfg(test)]
mod module_graph {
    use std::path::{Path, PathBuf};

    /// Each stage and the stages it may use, lowest first: a row names only
    /// rows above it, so the graph has no cycle.
    const ALLOWED: &[(&str, &[&str])] = &[
        ("source", &[]),
        ("rejects", &["source"]),
        ("json", &["source"]),
        ("record", &["json", "rejects"]),
        ("engine", &["json", "record", "rejects"]),
        (
            "formats",
            &["engine", "json", "record", "rejects", "source"],
        ),
        ("parquet", &["formats", "record", "rejects", "source"]),
        (
            "pipeline",
            &[
                "engine", "formats", "json", "parquet", "record", "rejects", "source",
            ],
        ),
    ];

    /// Every `.rs` file under `dir`, with the top-level module it belongs to.
    fn files(dir: &Path, module: Option<&str>, out: &mut Vec<(String, PathBuf)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
            let owner = module.map_or(stem, str::to_string);
            if path.is_dir() {
                files(&path, Some(&owner), out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push((owner, path));
            }
        }
    }

    /// The names following `crate::` in the code (comments left out).
    fn uses(source: &str) -> Vec<String> {
        let code = source.lines().map(|l| l.split("//").next().unwrap_or(""));
        code.flat_map(|line| {
            line.match_indices("crate::")
                .map(|(i, _)| {
                    line[i + "crate::".len()..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect()
                })
                .collect::<Vec<String>>()
        })
        .collect()
    }

    #[test]
    fn each_stage_uses_only_the_stages_below_it() {
        let mut all = Vec::new();
        files(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            None,
            &mut all,
        );
        let mut wrong = Vec::new();
        for (module, path) in all.iter().filter(|(m, _)| m != "lib") {
            let Some((_, allowed)) = ALLOWED.iter().find(|(m, _)| m == module) else {
                wrong.push(format!(
                    "{}: `{module}` has no row in ALLOWED",
                    path.display()
                ));
                continue;
            };
            for name in uses(&std::fs::read_to_string(path).unwrap()) {
                if name != *module && !allowed.contains(&name.as_str()) {
                    wrong.push(format!(
                        "{}: `{module}` uses `crate::{name}`, which its row does not allow \
                         (name the stage, not a re-export at the crate root)",
                        path.display()
                    ));
                }
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn each_row_names_only_rows_above_it() {
        for (i, (module, allowed)) in ALLOWED.iter().enumerate() {
            for name in *allowed {
                let above = ALLOWED[..i].iter().any(|(m, _)| m == name);
                assert!(above, "`{module}` may use `{name}`, which is not above it");
            }
        }
    }
}
