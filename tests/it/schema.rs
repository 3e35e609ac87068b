//! `docs/report-json.schema.json`: it is the schema derived from the
//! report's types (`tokenaudit_report::json::schema`), and real reports
//! validate against it: the committed sample report and a monthly review
//! do; a renamed key, a mistyped value and an unknown key do not (which
//! also catches a derived schema that does not match what serde writes).
//!
//! The validator is Python's `jsonschema` (Draft 2020-12, formats checked),
//! which `.ci/run` installs: the Rust `jsonschema` crate turns on features of
//! `regex` and `chrono` that rebuild polars, for a test-only dependency.
//! Without Python's package the test fails, saying how to install it.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use crate::util::{gw_line, missing_tool, Env};

const VALIDATE: &str = r#"
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
bad = 0
for path in sys.argv[2:]:
    for e in validator.iter_errors(json.load(open(path))):
        bad += 1
        print(f"{path}: {e.json_path}: {e.message[:300]}")
sys.exit(1 if bad else 0)
"#;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Fails the test unless Python's jsonschema can be imported.
fn require_validator() {
    let out = Command::new("python3")
        .args(["-c", "import jsonschema"])
        .output()
        .unwrap_or_else(|e| missing_tool("python3", e, "apt-get install python3-jsonschema"));
    if !out.status.success() {
        missing_tool(
            "Python's jsonschema",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or(""),
            "apt-get install python3-jsonschema (or pip install jsonschema)",
        );
    }
}

/// Validates each document; `Err` carries the validator's messages.
fn validate(docs: &[&Path]) -> Result<(), String> {
    let out = Command::new("python3")
        .args(["-c", VALIDATE])
        .arg(root().join("docs/report-json.schema.json"))
        .args(docs)
        .output()
        .expect("python3 runs");
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

#[test]
fn schema_id_is_the_json_reports_schema() {
    let text = std::fs::read_to_string(root().join("docs/report-json.schema.json")).unwrap();
    let schema: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(schema["$id"], "tokenaudit.audit/1");
    assert_eq!(
        schema["properties"]["schema"]["const"],
        "tokenaudit.audit/1"
    );
    assert_eq!(schema["additionalProperties"], false);
    assert_eq!(schema["$defs"]["Audit"]["additionalProperties"], false);
}

/// The checked-in schema is the one derived from the report's types, so a
/// key added to the report cannot be missing from it.
#[test]
fn checked_in_schema_is_the_one_derived_from_the_types() {
    let path = root().join("docs/report-json.schema.json");
    let checked_in = std::fs::read_to_string(&path).unwrap();
    let derived = tokenaudit_report::json::schema();
    if checked_in != derived {
        let (line, (was, is)) = checked_in
            .lines()
            .zip(derived.lines())
            .enumerate()
            .find(|(_, (a, b))| a != b)
            .unwrap_or((
                checked_in.lines().count().min(derived.lines().count()),
                ("…", "…"),
            ));
        panic!(
            "{} is not the schema derived from the report's types (first difference at line {}: {was:?} against {is:?}); \
             regenerate it with `cargo run -p tokenaudit-report --example write-schema` and review the diff",
            path.display(),
            line + 1
        );
    }
}

#[test]
fn sample_and_review_reports_validate_and_mutations_do_not() {
    require_validator();
    let sample = root().join("reports/sample-audit/audit.json");
    validate(&[&sample]).unwrap();

    // A review (with its `previous` period) and findings-free plain audit.
    let env = Env::new();
    let lines = [
        gw_line(
            "2026-09-10T00:00:00Z",
            "chat",
            "gpt-4o",
            1000,
            100,
            json!({}),
        ),
        gw_line(
            "2026-10-10T00:00:00Z",
            "chat",
            "gpt-4o",
            2000,
            100,
            json!({"status": "error"}),
        ),
        "{not json".to_string(),
    ];
    env.write("calls.jsonl", lines.join("\n") + "\n");
    env.cmd()
        .args([
            "review",
            "--month",
            "2026-10",
            "calls.jsonl",
            "--out",
            "review",
            "--quiet",
        ])
        .assert()
        .success();
    let review = env.path("review/audit.json");
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&review).unwrap()).unwrap();
    assert_eq!(r["audit"]["previous"]["totals"]["calls"], 1);
    validate(&[&review]).unwrap();

    // Mutations the schema must catch.
    let sample_doc: Value =
        serde_json::from_str(&std::fs::read_to_string(&sample).unwrap()).unwrap();
    type Mutation = (&'static str, fn(&mut Value));
    let mutations: [Mutation; 5] = [
        ("renamed key", |d| {
            let totals = d["audit"]["totals"].as_object_mut().unwrap();
            let cost = totals.remove("cost").unwrap();
            totals.insert("costs".into(), cost);
        }),
        ("money as a float", |d| {
            d["audit"]["totals"]["cost"] = json!(409.5);
        }),
        ("count as a string", |d| {
            d["audit"]["totals"]["calls"] = json!("38456");
        }),
        ("unknown key in a finding", |d| {
            d["audit"]["findings"][0]["severty"] = json!("high");
        }),
        ("wrong schema id", |d| {
            d["schema"] = json!("tokenaudit.audit/2");
        }),
    ];
    for (what, mutate) in mutations {
        let mut doc = sample_doc.clone();
        mutate(&mut doc);
        let path = env.write(&format!("{what}.json"), doc.to_string());
        let err = validate(&[&path]).expect_err(what);
        assert!(err.contains(&path.display().to_string()), "{what}: {err}");
    }
}
