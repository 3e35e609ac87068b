//! Development tasks, run as `cargo xtask TASK` (the alias is in
//! `.cargo/config.toml`). Not part of the product: a task may read files,
//! run git and print.
//!
//! `cargo xtask catalog` regenerates `crates/core/data/catalog.json`, the
//! builtin price catalog, from genai-prices and LiteLLM with tokenaudit's
//! own importers (`tokenaudit_core::pricing::build_builtin`), and records in
//! it which upstream versions it read: each source's version and the
//! SHA-256 of the file. See `crates/core/data/README.md`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use sha2::{Digest, Sha256};

use tokenaudit_core::pricing::{
    build_builtin, import_genai_prices, import_litellm, shipped_providers, Source,
};

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "tokenaudit's development tasks")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Regenerate crates/core/data/catalog.json from genai-prices and LiteLLM.
    Catalog(CatalogArgs),
}

#[derive(Debug, Args)]
#[command(after_long_help = "Example (the inputs of the shipped catalog):
  pip download --no-deps litellm==1.109.1 -d /tmp/litellm
  unzip -o /tmp/litellm/litellm-1.109.1-*.whl 'litellm/model_prices_and_context_window_backup.json' \\
    'litellm-1.109.1.dist-info/*' -d /tmp/litellm
  cargo xtask catalog --genai ../shared/data/prices/genai-prices/data.json \\
    --genai-version '47df840a (2026-08-21)' \\
    --litellm /tmp/litellm/litellm/model_prices_and_context_window_backup.json \\
    --date 2026-12-05")]
struct CatalogArgs {
    /// genai-prices' data.json (github.com/pydantic/genai-prices).
    #[arg(long, value_name = "FILE")]
    genai: PathBuf,
    /// The genai-prices version read, as `COMMIT (DATE)`. Default: from git,
    /// when FILE is in a clean checkout of genai-prices.
    #[arg(long, value_name = "TEXT")]
    genai_version: Option<String>,
    /// LiteLLM's model_prices_and_context_window_backup.json, from the
    /// litellm wheel.
    #[arg(long, value_name = "FILE")]
    litellm: PathBuf,
    /// The LiteLLM package version read. Default: from the unzipped wheel's
    /// `litellm-VERSION.dist-info/METADATA` beside FILE's `litellm/` folder.
    #[arg(long, value_name = "VERSION")]
    litellm_version: Option<String>,
    /// The catalog's version: the day it is made (YYYY-MM-DD). Calls without
    /// a timestamp are priced at the prices in effect on that day.
    #[arg(long, value_name = "YYYY-MM-DD")]
    date: String,
    /// Where to write the catalog. Default: crates/core/data/catalog.json.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

fn main() -> Result<()> {
    match Cli::parse().task {
        Task::Catalog(args) => catalog(args),
    }
}

fn catalog(args: CatalogArgs) -> Result<()> {
    chrono::NaiveDate::parse_from_str(&args.date, "%Y-%m-%d")
        .with_context(|| format!("--date {:?}: expected YYYY-MM-DD", args.date))?;
    let genai_text = read(&args.genai)?;
    let litellm_text = read(&args.litellm)?;
    let genai_version = match args.genai_version {
        Some(v) => v,
        None => git_version(&args.genai)?,
    };
    let litellm_version = match args.litellm_version {
        Some(v) => v,
        None => wheel_version(&args.litellm)?,
    };
    let (genai, genai_report) = import_genai_prices(&genai_text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.genai.display()))?;
    let (litellm, _) = import_litellm(&litellm_text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.litellm.display()))?;
    let source = |name: &str, version: String, url: &str, text: &str| Source {
        name: name.into(),
        version,
        url: Some(url.into()),
        license: Some("MIT".into()),
        sha256: Some(sha256(text)),
    };
    let sources = vec![
        source(
            "genai-prices",
            genai_version,
            "https://github.com/pydantic/genai-prices",
            &genai_text,
        ),
        source(
            "litellm model_prices_and_context_window.json",
            litellm_version,
            "https://github.com/BerriAI/litellm",
            &litellm_text,
        ),
    ];
    let (catalog, report) =
        build_builtin(&genai, &litellm, &shipped_providers(), &args.date, sources)
            .map_err(|e| anyhow::anyhow!("{}: {e}", args.genai.display()))?;
    let out = args.out.unwrap_or_else(|| {
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent();
        workspace
            .unwrap_or(Path::new("."))
            .join("crates/core/data/catalog.json")
    });
    std::fs::write(&out, catalog.to_json_string())
        .with_context(|| format!("cannot write {}", out.display()))?;
    println!(
        "wrote {}: {} models; genai-prices: {} imported, {} skipped; batch/flex/priority/audio conflicts (no such price): {}; long-context tiers from LiteLLM: {}; audio rates from LiteLLM: {}; 1h cache writes from LiteLLM: {}; long-context 1h cache writes in the base's ratio: {}; models of their own from LiteLLM (another's rule took their names): {}",
        out.display(),
        catalog.models().count(),
        genai_report.imported,
        genai_report.skipped.len(),
        list(&report.conflicts),
        list(&report.tiers_added),
        list(&report.audio_added),
        list(&report.cache_write_1h_added),
        list(&report.tier_cache_write_1h_derived),
        list(&report.models_added),
    );
    Ok(())
}

/// Names, or `none`.
fn list(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Hex SHA-256 of `text`.
fn sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `COMMIT (DATE)` of the last commit that touched `file`, when it is in a
/// checkout of genai-prices with no change to it.
fn git_version(file: &Path) -> Result<String> {
    let dir = file.parent().unwrap_or(Path::new("."));
    let name = file.file_name().unwrap_or_default();
    let git = |args: &[&str]| -> Option<String> {
        let out = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    let help = "pass --genai-version 'COMMIT (DATE)'";
    let origin = git(&["config", "--get", "remote.origin.url"]).unwrap_or_default();
    if !origin.contains("genai-prices") {
        bail!(
            "cannot tell which genai-prices {} is: it is not in a git checkout of genai-prices; {help}",
            file.display()
        );
    }
    let name = name.to_string_lossy();
    if git(&["status", "--porcelain", "--", &name]).is_none_or(|s| !s.is_empty()) {
        bail!("{} differs from its last commit; {help}", file.display());
    }
    git(&["log", "-1", "--abbrev=8", "--format=%h (%cs)", "--", &name])
        .filter(|v| !v.is_empty())
        .with_context(|| format!("no commit of {} found; {help}", file.display()))
}

/// The version in `litellm-VERSION.dist-info/METADATA` of the unzipped
/// wheel that `file` (`…/litellm/model_prices_and_context_window_backup.json`)
/// comes from.
fn wheel_version(file: &Path) -> Result<String> {
    let help = "pass --litellm-version (the version of the litellm package it comes from)";
    let root = file
        .parent()
        .and_then(Path::parent)
        .with_context(|| format!("{}: no folder around it; {help}", file.display()))?;
    let mut found = Vec::new();
    for entry in
        std::fs::read_dir(root).with_context(|| format!("cannot read {}", root.display()))?
    {
        let path = entry?.path();
        let dir_name = path.file_name().unwrap_or_default().to_string_lossy();
        if dir_name.starts_with("litellm-") && dir_name.ends_with(".dist-info") {
            let metadata = read(&path.join("METADATA"))?;
            let field = |key: &str| {
                metadata
                    .lines()
                    .take_while(|l| !l.is_empty())
                    .find_map(|l| l.strip_prefix(key).map(str::trim).map(str::to_string))
            };
            if let (Some(name), Some(version)) = (field("Name:"), field("Version:")) {
                if name == "litellm" {
                    found.push(version);
                }
            }
        }
    }
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => bail!(
            "no litellm-VERSION.dist-info/METADATA in {}; {help}",
            root.display()
        ),
        _ => bail!(
            "several litellm wheels unzipped in {} ({}); {help}",
            root.display(),
            found.join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_litellm_version_comes_from_the_unzipped_wheel() {
        let dir = tempfile::tempdir().unwrap();
        let json = dir
            .path()
            .join("litellm/model_prices_and_context_window_backup.json");
        std::fs::create_dir_all(json.parent().unwrap()).unwrap();
        std::fs::write(&json, "{}").unwrap();
        let err = wheel_version(&json).unwrap_err().to_string();
        assert!(
            err.contains("no litellm-VERSION.dist-info/METADATA"),
            "{err}"
        );
        let info = dir.path().join("litellm-1.109.1.dist-info");
        std::fs::create_dir_all(&info).unwrap();
        std::fs::write(
            info.join("METADATA"),
            "Metadata-Version: 2.1\nName: litellm\nVersion: 1.109.1\nSummary: x\n\nVersion: 9 (the description)\n",
        )
        .unwrap();
        assert_eq!(wheel_version(&json).unwrap(), "1.109.1");
    }

    #[test]
    fn a_file_outside_a_genai_prices_checkout_needs_its_version_given() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("data.json");
        std::fs::write(&file, "[]").unwrap();
        let err = git_version(&file).unwrap_err().to_string();
        assert!(err.contains("pass --genai-version"), "{err}");
    }

    #[test]
    fn sha256_is_the_standard_digest() {
        assert_eq!(
            sha256("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
