//! `tokenaudit prices`: look at the pricing catalog and import others.
//!
//! `list` and `show` print what the catalog in use (builtin, plus any
//! `--prices FILE` overlay) will charge; `import` converts LiteLLM's or
//! genai-prices' catalog into tokenaudit's format, for use with `--prices`.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use tokenaudit_core::pricing::{
    import_genai_prices, import_litellm, mtok_text, Catalog, ImportReport, ModelEntry, PricePeriod,
    Rates,
};
use tokenaudit_core::Money;

#[derive(Debug, Subcommand)]
pub enum PricesCommand {
    /// List every model in the catalog with its current prices in USD per
    /// million tokens (MTok).
    ///
    /// Columns: input, output, cached (cached-read input), write-5m and
    /// write-1h (prompt-cache writes by TTL); "-" means no separate rate (the
    /// input rate is used). BATCH is the fraction of every rate charged for
    /// batch-API calls; TIERS lists long-context thresholds in input tokens.
    List {
        /// Only this provider, by catalog id (openai, anthropic, google, aws,
        /// azure, groq, together, fireworks, mistral, deepseek, x-ai, ...).
        #[arg(long, value_name = "ID")]
        provider: Option<String>,
        /// A price catalog file (see `tokenaudit prices import`) overlaid
        /// on the built-in one, as `audit --prices` does. Repeatable; later
        /// files win.
        #[arg(long, value_name = "FILE")]
        prices: Vec<PathBuf>,
    },
    /// Show one model's full price history, tiers, batch rate and the names
    /// that resolve to it.
    ///
    /// MODEL is matched as it would be in a log: `claude-3-5-sonnet-20241022`,
    /// `bedrock/us.anthropic.claude-sonnet-4-20250514-v1:0`, `azure/gpt-4o`...
    /// A `provider/` prefix selects that provider's entry.
    Show {
        /// Model name as it appears in your logs.
        model: String,
        /// A price catalog file overlaid on the built-in one, as `audit
        /// --prices` does: what an imported catalog will charge. Repeatable;
        /// later files win.
        #[arg(long, value_name = "FILE")]
        prices: Vec<PathBuf>,
    },
    /// Convert another price catalog into tokenaudit's format.
    ///
    /// The result can be passed to `--prices FILE`: its entries are added to
    /// the builtin catalog and replace builtin entries with the same provider
    /// and id. A summary of imported and skipped entries goes to stderr.
    Import {
        #[command(subcommand)]
        source: ImportSource,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImportSource {
    /// LiteLLM's model_prices_and_context_window.json (per-token prices,
    /// batch and long-context prices; no price history, so over a built-in
    /// price history its prices apply from the last change on).
    Litellm {
        /// Path to model_prices_and_context_window.json (in the litellm
        /// package, or from the litellm repository).
        file: PathBuf,
        /// Write the converted catalog here instead of stdout.
        #[arg(long, short, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Overwrite --out if it already exists.
        #[arg(long)]
        force: bool,
    },
    /// genai-prices' data.json (dated price history, tiers and match rules).
    GenaiPrices {
        /// Path to genai-prices' data.json: prices/new_data/v2/data.json
        /// in github.com/pydantic/genai-prices, its live feed (its v1 file,
        /// prices/data.json, is frozen and older than the built-in
        /// catalog: importing it takes newer prices back).
        file: PathBuf,
        /// Write the converted catalog here instead of stdout.
        #[arg(long, short, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Overwrite --out if it already exists.
        #[arg(long)]
        force: bool,
    },
}

pub fn run(cmd: PricesCommand) -> Result<()> {
    match cmd {
        PricesCommand::List { provider, prices } => {
            list(&crate::audit::catalog(&prices)?.0, provider.as_deref())
        }
        PricesCommand::Show { model, prices } => show(&crate::audit::catalog(&prices)?.0, &model),
        PricesCommand::Import { source } => import(source),
    }
}

fn rate(r: Option<Money>) -> String {
    r.map(mtok_text).unwrap_or_else(|| "-".to_owned())
}

fn tiers_text(p: &PricePeriod) -> String {
    if p.tiers.is_empty() {
        return "-".to_owned();
    }
    let t: Vec<String> = p
        .tiers
        .iter()
        .map(|t| format!(">{}k", t.above_input_tokens / 1000))
        .collect();
    t.join(",")
}

fn list(catalog: &Catalog, provider: Option<&str>) -> Result<()> {
    let header = [
        "PROVIDER",
        "MODEL",
        "INPUT",
        "OUTPUT",
        "CACHED",
        "WRITE-5M",
        "WRITE-1H",
        "BATCH",
        "TIERS",
        "EFFECTIVE",
    ];
    // A provider by its id, or by a name it is logged under (`bedrock` is
    // `aws`, `vertex_ai` is `google`).
    let provider = provider.map(|p| {
        let lower = p.to_ascii_lowercase();
        catalog
            .providers()
            .iter()
            .find(|q| q.id == lower)
            .or_else(|| {
                catalog
                    .providers()
                    .iter()
                    .filter_map(|q| Some((q.hint.as_ref()?.score(&lower)?, q)))
                    .max_by_key(|(score, _)| *score)
                    .map(|(_, q)| q)
            })
            .map_or(lower, |q| q.id.clone())
    });
    let provider = provider.as_deref();
    let mut rows: Vec<[String; 10]> = Vec::new();
    for (id, m) in catalog.models() {
        if provider.is_some_and(|p| !m.provider.eq_ignore_ascii_case(p)) {
            continue;
        }
        let p = catalog.period(id, None);
        rows.push([
            m.provider.clone(),
            m.id.clone(),
            rate(p.rates.input),
            rate(p.rates.output),
            rate(p.rates.cached_read),
            rate(p.rates.cache_write_5m),
            rate(p.rates.cache_write_1h),
            m.batch_multiplier
                .map_or_else(|| "-".to_owned(), |b| format!("x{b}")),
            tiers_text(p),
            p.effective
                .map_or_else(|| "-".to_owned(), |d| d.to_string()),
        ]);
    }
    if rows.is_empty() {
        let known: std::collections::BTreeSet<&str> =
            catalog.models().map(|(_, m)| m.provider.as_str()).collect();
        bail!(
            "no models for provider {:?}; providers in the catalog: {}",
            provider.unwrap_or(""),
            known.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[&str]| {
        let mut text = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            // Text columns left-aligned, prices right-aligned.
            if (2..=6).contains(&i) {
                text.push_str(&format!("{cell:>w$}  "));
            } else {
                text.push_str(&format!("{cell:<w$}  "));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&header);
    for row in &rows {
        line(&row.each_ref().map(String::as_str));
    }
    out.push_str(&format!(
        "\n{} models; prices in USD per million tokens; catalog {}\n",
        rows.len(),
        catalog.version()
    ));
    std::io::stdout().lock().write_all(out.as_bytes())?;
    Ok(())
}

fn rates_line(r: &Rates) -> String {
    let mut parts = vec![format!("input {}", rate(r.input))];
    for (name, v) in [
        ("output", r.output),
        ("cached read", r.cached_read),
        ("cache write 5m", r.cache_write_5m),
        ("cache write 1h", r.cache_write_1h),
        ("reasoning", r.reasoning),
        ("audio input", r.input_audio),
        ("cached audio read", r.cached_audio_read),
        ("audio output", r.output_audio),
    ] {
        if let Some(v) = v {
            parts.push(format!("{name} {}", mtok_text(v)));
        }
    }
    if let Some(v) = r.web_search {
        parts.push(format!(
            "web search {} per 1,000",
            tokenaudit_core::pricing::kcount_text(v)
        ));
    }
    parts.join(", ")
}

fn show(catalog: &Catalog, name: &str) -> Result<()> {
    let Some(id) = catalog.resolve(None, name) else {
        // Names that hold what was asked (`sonnet`): the likely ones.
        let lower = name.to_ascii_lowercase();
        let mut near: Vec<String> = catalog
            .models()
            .filter(|(_, m)| m.id.to_ascii_lowercase().contains(&lower))
            .map(|(_, m)| format!("{}/{}", m.provider, m.id))
            .collect();
        near.sort();
        let hint = match near.len() {
            0 => String::new(),
            n => format!(
                "; names holding it: {}{}",
                near.iter().take(8).cloned().collect::<Vec<_>>().join(", "),
                if n > 8 {
                    format!(" and {} more", n - 8)
                } else {
                    String::new()
                }
            ),
        };
        bail!(
            "no model in catalog {} matches {name:?}{hint}; see `tokenaudit prices list`, or add it with --prices FILE",
            catalog.version()
        );
    };
    let m: &ModelEntry = catalog.model(id);
    let current = catalog.period(id, None);
    let mut out = String::new();
    out.push_str(&format!("{} / {}  ({})\n", m.provider, m.id, m.name));
    out.push_str(&format!("  {name:?} resolves here\n"));
    match &m.match_rule {
        Some(rule) => out.push_str(&format!("  also matches: {rule}  (case-insensitive)\n")),
        None => out.push_str("  matches its id only (case-insensitive)\n"),
    }
    for (other_id, other) in catalog.models() {
        if other_id != id && other.id.eq_ignore_ascii_case(&m.id) {
            out.push_str(&format!(
                "  also offered by {} (log the provider, or write `{}/{}`, to pick it)\n",
                other.provider, other.provider, other.id
            ));
        }
    }
    match m.batch_multiplier {
        Some(b) => out.push_str(&format!("  batch: every rate x{b}\n")),
        None => out.push_str(
            "  batch: no batch price in the sources; batch calls are priced at normal rates\n",
        ),
    }
    for (tier, mult) in [
        ("flex", m.flex_multiplier),
        ("priority", m.priority_multiplier),
        ("fast", m.fast_multiplier),
    ] {
        if let Some(x) = mult {
            out.push_str(&format!(
                "  {tier} processing (service_tier \"{tier}\"): every rate x{x}\n"
            ));
        }
    }
    if let Some(x) = m.us_multiplier {
        out.push_str(&format!(
            "  US-only inference (usage.inference_geo \"us\"): every token rate x{x}, with any processing's\n"
        ));
    }
    out.push_str("  prices, USD per million tokens:\n");
    for p in &m.periods {
        let from = p
            .effective
            .map_or_else(|| "earliest known".to_owned(), |d| format!("from {d}"));
        let marker = if std::ptr::eq(p, current) {
            "  <- current"
        } else {
            ""
        };
        out.push_str(&format!("    {from}: {}{marker}\n", rates_line(&p.rates)));
        for t in &p.tiers {
            out.push_str(&format!(
                "      whole request when input > {} tokens: {}\n",
                t.above_input_tokens,
                rates_line(&t.rates.or(&p.rates))
            ));
        }
    }
    std::io::stdout().lock().write_all(out.as_bytes())?;
    Ok(())
}

fn import(source: ImportSource) -> Result<()> {
    let (file, out, force, kind) = match source {
        ImportSource::Litellm { file, out, force } => (file, out, force, "litellm"),
        ImportSource::GenaiPrices { file, out, force } => (file, out, force, "genai-prices"),
    };
    let text =
        fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
    let (catalog, report) = if kind == "litellm" {
        import_litellm(&text)
    } else {
        import_genai_prices(&text)
    }
    .with_context(|| format!("{} is not a {kind} price file", file.display()))?;
    if report.imported == 0 {
        bail!(
            "{}: no model could be imported from it ({} skipped); is it {kind}'s price file?",
            file.display(),
            report.skipped.len()
        );
    }
    let json = catalog.to_json_string();
    match &out {
        Some(path) => write_new(path, &json, force)?,
        None => std::io::stdout().lock().write_all(json.as_bytes())?,
    }
    eprint!("{}", summary(kind, &file, out.as_deref(), &report));
    Ok(())
}

fn summary(kind: &str, file: &Path, out: Option<&Path>, report: &ImportReport) -> String {
    let mut s = format!(
        "imported {} from {} ({kind}), skipped {}",
        crate::output::counted(report.imported as u64, "model", "models"),
        file.display(),
        report.skipped.len()
    );
    if let Some(out) = out {
        s.push_str(&format!("; wrote {}", out.display()));
    }
    s.push('\n');
    for (reason, n) in report.skipped_by_reason() {
        s.push_str(&format!("  skipped {n:>5}: {reason}\n"));
    }
    for note in &report.notes {
        s.push_str(&format!("  note: {note}\n"));
    }
    s
}

/// Writes via a temporary file in the same directory and a rename, so a
/// reader never sees half a catalog.
fn write_new(path: &Path, text: &str, force: bool) -> Result<()> {
    if path.is_dir() {
        bail!("{} is a folder; give the file to write", path.display());
    }
    if path.exists() && !force {
        bail!(
            "{} already exists; pass --force to overwrite it",
            path.display()
        );
    }
    // Said of the file asked for, not of the temporary one (hunt63).
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.is_dir() {
            bail!(
                "cannot write {}: the folder {} does not exist",
                path.display(),
                dir.display()
            );
        }
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    fs::write(&tmp, text).with_context(|| format!("cannot write {}", path.display()))?;
    fs::rename(&tmp, path).with_context(|| {
        let _ = fs::remove_file(&tmp);
        format!("cannot move {} to {}", tmp.display(), path.display())
    })
}
