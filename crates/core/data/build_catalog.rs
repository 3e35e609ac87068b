//! Regenerates `data/catalog.json`, the builtin catalog, from the two
//! maintained public catalogs, with tokenaudit's own importers:
//!
//! ```text
//! TOKENAUDIT_REGEN_CATALOG=1 \
//! GENAI_PRICES_JSON=/work/shared/data/prices/genai-prices/data.json \
//! LITELLM_PRICES_JSON=/tmp/litellm_prices.json \
//!   cargo test -p tokenaudit-core regenerate_builtin_catalog
//! ```
//!
//! Without `TOKENAUDIT_REGEN_CATALOG` the test does nothing, so the normal
//! test run needs neither file. genai-prices gives models, match rules,
//! dated prices and tiers for the providers in [`SHIPPED`]; LiteLLM adds
//! batch multipliers, for a model only when LiteLLM lists batch prices for a
//! name that the model's own rules match on the same provider. Nothing else
//! is edited by hand: to change a price, fix the source or use `--prices`.

use std::collections::BTreeMap;

use super::resolve_names_for_build as candidates;
use super::*;

/// Providers shipped, in resolution priority order (first-party makers,
/// then the main hosts).
const SHIPPED: &[&str] = &[
    "openai",
    "anthropic",
    "google",
    "mistral",
    "deepseek",
    "x-ai",
    "cohere",
    "moonshotai",
    "zhipuai",
    "zai",
    "minimax",
    "perplexity",
    "voyageai",
    "aws",
    "azure",
    "groq",
    "together",
    "fireworks",
    "cerebras",
];
const VERSION: &str = "2026-11-22";

#[test]
fn regenerate_builtin_catalog() {
    if std::env::var_os("TOKENAUDIT_REGEN_CATALOG").is_none() {
        return;
    }
    let genai_path = std::env::var("GENAI_PRICES_JSON")
        .unwrap_or_else(|_| "/work/shared/data/prices/genai-prices/data.json".into());
    let litellm_path =
        std::env::var("LITELLM_PRICES_JSON").unwrap_or_else(|_| "/tmp/litellm_prices.json".into());
    let (genai, genai_report) =
        import_genai_prices(&std::fs::read_to_string(&genai_path).expect("read genai-prices"))
            .unwrap();
    let (litellm, _) =
        import_litellm(&std::fs::read_to_string(&litellm_path).expect("read litellm")).unwrap();

    let providers: Vec<ProviderInfo> = SHIPPED
        .iter()
        .map(|id| {
            genai
                .providers
                .iter()
                .find(|p| p.id == *id)
                .expect("provider in genai-prices")
                .clone()
        })
        .collect();
    let mut models: Vec<ModelEntry> = Vec::new();
    for id in SHIPPED {
        models.extend(genai.models.iter().filter(|m| m.provider == *id).cloned());
    }
    let shipped = Catalog::new(VERSION.into(), Vec::new(), providers.clone(), models);

    // Batch multipliers from LiteLLM, per shipped model.
    let mut batch: BTreeMap<usize, Vec<Multiplier>> = BTreeMap::new();
    for (_, lm) in litellm.models() {
        let Some(mult) = lm.batch_multiplier else {
            continue;
        };
        let Some(pi) = shipped.providers.iter().position(|p| p.id == lm.provider) else {
            continue;
        };
        let (names, _, _) = candidates(&lm.id.to_lowercase());
        if let Some(target) = shipped.best_match(&names, |q| q == pi) {
            batch.entry(target.0 as usize).or_default().push(mult);
        }
    }
    let mut models = shipped.models;
    let mut conflicts = Vec::new();
    for (i, mults) in batch {
        if mults.iter().all(|m| *m == mults[0]) {
            models[i].batch_multiplier = Some(mults[0]);
        } else {
            conflicts.push(format!("{}/{}", models[i].provider, models[i].id));
        }
    }
    let sources = vec![
        Source {
            name: "genai-prices".into(),
            version: "47df840a (2026-08-21)".into(),
            url: Some("https://github.com/pydantic/genai-prices".into()),
            license: Some("MIT".into()),
        },
        Source {
            name: "litellm model_prices_and_context_window.json (batch prices only)".into(),
            version: "1.109.1".into(),
            url: Some("https://github.com/BerriAI/litellm".into()),
            license: Some("MIT".into()),
        },
    ];
    let catalog = Catalog::new(VERSION.into(), sources, providers, models);
    let out = concat!(env!("CARGO_MANIFEST_DIR"), "/data/catalog.json");
    std::fs::write(out, catalog.to_json_string()).expect("write catalog.json");
    eprintln!(
        "wrote {out}: {} models; genai-prices: {} imported, {} skipped; batch conflicts: {conflicts:?}",
        catalog.models.len(),
        genai_report.imported,
        genai_report.skipped.len()
    );
}
