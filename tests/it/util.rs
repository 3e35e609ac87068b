//! Shared test helpers: a temp dir, writing fixtures, running the binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

pub struct Env {
    pub dir: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Env {
        Env {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, contents).unwrap();
        p
    }

    pub fn write_gz(&self, name: &str, contents: &str) -> PathBuf {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(contents.as_bytes()).unwrap();
        self.write(name, enc.finish().unwrap())
    }

    pub fn write_zst(&self, name: &str, contents: &str) -> PathBuf {
        self.write(name, zstd::encode_all(contents.as_bytes(), 3).unwrap())
    }

    /// A `tokenaudit` command running in the temp dir.
    pub fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("tokenaudit").unwrap();
        c.current_dir(self.dir.path());
        c
    }

    /// `tokenaudit audit` of the sample logs with their config, run from the
    /// repository root as the README's first command is (so file names in
    /// the report match the committed example); the caller adds the rest.
    pub fn sample_audit(&self) -> Command {
        let mut c = self.cmd();
        c.current_dir(env!("CARGO_MANIFEST_DIR")).args([
            "audit",
            "sample-logs/",
            "--config",
            "sample-logs/tokenaudit.toml",
        ]);
        c
    }

    /// Runs `tokenaudit ARGS`, which must succeed, and returns what it
    /// printed on stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.cmd().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "tokenaudit {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs `tokenaudit audit ARGS --out out --quiet` and returns the JSON report.
    pub fn audit(&self, args: &[&str]) -> Value {
        let out = self
            .cmd()
            .arg("audit")
            .args(args)
            .args(["--out", "out", "--quiet"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "audit failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.report()
    }

    pub fn report(&self) -> Value {
        let text = std::fs::read_to_string(self.path("out/audit.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    }
}

pub fn exists(p: &Path) -> bool {
    p.exists()
}

/// Exact dollars from the report's decimal strings.
pub fn usd(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("not a money string: {v}"))
        .to_string()
}

/// Exact pico-dollars from a decimal string.
pub fn picos(v: &Value) -> i128 {
    let s = v.as_str().unwrap_or_else(|| panic!("not money: {v}"));
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    assert!(frac.len() <= 12, "{s}");
    let frac: i128 = format!("{frac:0<12}").parse().unwrap();
    whole.parse::<i128>().unwrap() * 1_000_000_000_000 + frac
}

/// The row of `dimension` whose key is `key`.
pub fn row<'a>(report: &'a Value, dimension: &str, key: &str) -> &'a Value {
    report["audit"]["by"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["dimension"] == dimension)
        .unwrap_or_else(|| panic!("no dimension {dimension}"))["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == key)
        .unwrap_or_else(|| panic!("no {dimension} row {key}"))
}

/// The findings of rule `code` in a JSON report.
pub fn findings<'a>(report: &'a Value, code: &str) -> Vec<&'a Value> {
    report["audit"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == code)
        .collect()
}

/// The line of rule `code` in a JSON report's rule coverage.
pub fn rule_coverage<'a>(r: &'a Value, code: &str) -> &'a Value {
    r["audit"]["rule_coverage"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["rule"] == code)
        .unwrap()
}

/// Every rule that could not run found nothing, and every rule that found
/// something ran.
pub fn assert_consistent(r: &Value) {
    for c in r["audit"]["rule_coverage"].as_array().unwrap() {
        let code = c["rule"].as_str().unwrap();
        let found = !findings(r, code).is_empty();
        if c["status"] == "could_not_run" || c["status"] == "disabled" {
            assert!(!found, "{code} found something but {c}");
        }
        if found {
            assert!(
                c["status"] == "ran" || c["status"] == "ran_on_estimates",
                "{code}: {c}"
            );
        }
    }
}

/// One JSON line of a gateway log (OpenAI-shaped usage) with the given
/// fields; `extra` is merged in last (it may override anything).
pub fn gw_line(
    ts: &str,
    feature: &str,
    model: &str,
    prompt_tokens: u64,
    completion_tokens: u64,
    extra: Value,
) -> String {
    let mut v = serde_json::json!({
        "timestamp": ts,
        "model": model,
        "feature": feature,
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens},
    });
    if let (Some(obj), Some(more)) = (v.as_object_mut(), extra.as_object()) {
        for (k, x) in more {
            obj.insert(k.clone(), x.clone());
        }
    }
    v.to_string()
}

/// Fails the test, naming the external tool it needs and how to install it:
/// a test that needs a tool never passes without running it. `.ci/run`
/// installs every tool the tests use.
pub fn missing_tool(tool: &str, error: impl std::fmt::Display, install: &str) -> ! {
    panic!(
        "this test needs {tool}, which cannot be run here ({error}); install it with \
         `{install}` (.ci/run installs every tool the tests need)"
    )
}
