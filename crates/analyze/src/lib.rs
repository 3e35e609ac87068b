//! Turning call records into answers: each record is priced against the
//! catalog and folded into attribution tables (by feature, model, provider,
//! route, team, user, session, day and tag), from which the [`Audit`] is built.
//!
//! Detectors of waste (`detect`) read the same accumulated state plus the
//! per-call observations gathered in bounded memory (`observe`); they never
//! read files. `whatif` re-prices the traffic under changes and compounds the
//! findings' savings into a waterfall; `pipeline` runs the stages in order.
//!
//! Modules depend on each other in one direction only (a test holds them to
//! it, see `module_graph` below):
//! `wire` (the leaf of leaves: binary forms) ← `stats`, `short`, `sketch`, `repeats`,
//! `budget`, `finding`, `timings`, `cachesim` ← `coverage`, `infer`,
//! `spill` ← `observe` ← `accumulate` ← `audit` ← `detect`, `whatif` ←
//! `pipeline`.

pub mod accumulate;
pub mod audit;
pub mod budget;
pub mod cachesim;
pub mod coverage;
pub mod detect;
pub mod finding;
pub mod infer;
pub mod observe;
pub mod pipeline;
pub mod repeats;
pub mod route;
pub mod short;
pub mod sketch;
pub mod spill;
pub mod stats;
pub mod tiers;
pub mod timings;
pub mod whatif;
pub mod wire;

pub use accumulate::{Accumulator, AnalyzeConfig, NONE};
pub use audit::{Audit, PreviousPeriod, Profile, Row};
pub use pipeline::{run, run_with_profile, run_with_reader, Outcome};
pub use stats::{CostParts, Stats};

/// Length of an audit's period in days (at least one): from the first to the
/// last call, or the `--since`/`--until` window when given.
pub fn period_days(audit: &Audit) -> f64 {
    audit.period_days()
}

/// The module graph stays a DAG: each module names (`crate::x`) only the
/// modules its row allows, and the rows have no cycle. A new module needs a
/// row; an edge that would close a cycle fails here instead of compiling
/// silently.
#[cfg(test)]
mod module_graph {
    use std::collections::BTreeMap;
    use std::path::Path;

    /// Each module and the modules it may use.
    const ALLOWED: &[(&str, &[&str])] = &[
        ("stats", &["wire"]),
        ("short", &["wire"]),
        ("sketch", &["wire"]),
        ("tiers", &["sketch"]),
        ("budget", &[]),
        ("finding", &[]),
        ("timings", &[]),
        ("wire", &[]),
        ("route", &[]),
        ("repeats", &["wire"]),
        ("cachesim", &["wire"]),
        ("coverage", &["finding"]),
        ("infer", &["finding", "sketch", "wire"]),
        ("spill", &["stats", "wire"]),
        ("observe", &["cachesim", "infer", "sketch", "short", "wire"]),
        (
            "accumulate",
            &[
                "budget", "coverage", "infer", "observe", "repeats", "route", "sketch", "spill",
                "stats", "wire",
            ],
        ),
        (
            "audit",
            &[
                "accumulate",
                "coverage",
                "finding",
                "infer",
                "observe",
                "repeats",
                "spill",
                "stats",
            ],
        ),
        (
            "detect",
            &[
                "accumulate",
                "audit",
                "budget",
                "cachesim",
                "coverage",
                "finding",
                "infer",
                "observe",
                "sketch",
                "stats",
                "tiers",
            ],
        ),
        (
            "whatif",
            &["accumulate", "audit", "finding", "sketch", "tiers"],
        ),
        (
            "pipeline",
            &["accumulate", "audit", "detect", "timings", "whatif"],
        ),
    ];

    /// Every `.rs` file under `dir`, with the top-level module it belongs to.
    fn files(dir: &Path, module: Option<&str>, out: &mut Vec<(String, std::path::PathBuf)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
            let owner = module.map_or(stem.clone(), str::to_string);
            if path.is_dir() {
                files(&path, Some(&owner), out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push((owner, path));
            }
        }
    }

    /// The names following `crate::` in the code (comments left out).
    fn uses(source: &str) -> Vec<String> {
        let mut names = Vec::new();
        for line in source.lines() {
            let code = line.split("//").next().unwrap_or("");
            for (i, _) in code.match_indices("crate::") {
                let rest = &code[i + "crate::".len()..];
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                names.push(name);
            }
        }
        names
    }

    #[test]
    fn each_module_uses_only_the_modules_its_row_allows() {
        let table: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
        let mut all = Vec::new();
        files(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            None,
            &mut all,
        );
        let mut wrong = Vec::new();
        for (module, path) in &all {
            if module == "lib" {
                continue;
            }
            let Some(allowed) = table.get(module.as_str()) else {
                wrong.push(format!(
                    "{}: module `{module}` has no row in ALLOWED (add it with the modules it uses)",
                    path.display()
                ));
                continue;
            };
            for name in uses(&std::fs::read_to_string(path).unwrap()) {
                if name.is_empty() {
                    wrong.push(format!(
                        "{}: `crate::{{…}}`: write one `use crate::module::…` per module (this check reads them)",
                        path.display()
                    ));
                } else if name != *module && !allowed.contains(&name.as_str()) {
                    wrong.push(format!(
                        "{}: `{module}` uses `crate::{name}`, which its row does not allow{}",
                        path.display(),
                        if table.contains_key(name.as_str()) {
                            ""
                        } else {
                            " (name the module, not a re-export at the crate root)"
                        }
                    ));
                }
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn the_allowed_graph_has_no_cycle() {
        let table: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
        // Depth-first search; a module met again on the current path closes
        // a cycle.
        fn visit<'a>(
            m: &'a str,
            table: &BTreeMap<&'a str, &'a [&'a str]>,
            path: &mut Vec<&'a str>,
            done: &mut Vec<&'a str>,
        ) {
            if done.contains(&m) {
                return;
            }
            assert!(!path.contains(&m), "cycle: {} -> {m}", path.join(" -> "));
            path.push(m);
            for dep in table.get(m).copied().unwrap_or_default() {
                assert!(table.contains_key(dep), "`{m}` allows unknown `{dep}`");
                visit(dep, table, path, done);
            }
            path.pop();
            done.push(m);
        }
        let mut done = Vec::new();
        for m in table.keys() {
            visit(m, &table, &mut Vec::new(), &mut done);
        }
        assert_eq!(done.len(), ALLOWED.len());
    }
}
