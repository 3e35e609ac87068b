//! The config file (`--config FILE`, TOML). Each table belongs to one stage;
//! unknown keys are errors that name the key, so a typo never silently does
//! nothing.
//!
//! ```toml
//! [mapping]            # your own log shape (see `tokenaudit formats`)
//! [attribution]        # feature = "tag:product" (or route, team, user)
//! [detect]             # high_savings, medium_savings, min_savings (USD a month)
//! [rules.TA109]        # a rule's options (see `tokenaudit rules TA109`)
//! ttl_minutes = 30
//! [rules.TA101]
//! enabled = false
//! [[budget]]           # feature = "name" or "*"; daily, monthly, per_call (USD)
//! feature = "support-chat"
//! daily = 50
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Deserialize;

use tokenaudit_analyze::accumulate::FeatureFrom;
use tokenaudit_analyze::budget::{Budget, BudgetFile};
use tokenaudit_analyze::detect::{DetectConfig, DetectFile};
use tokenaudit_ingest::mapping::MappingConfig;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Field mapping for logs in a shape of your own (see `tokenaudit formats`).
    pub mapping: Option<MappingConfig>,
    /// Severity thresholds and the smallest saving worth a finding.
    pub detect: Option<DetectFile>,
    /// Per-rule options, keyed by rule code.
    #[serde(default)]
    pub rules: BTreeMap<String, serde_json::Map<String, serde_json::Value>>,
    /// Budgets per feature.
    #[serde(default)]
    pub budget: Vec<BudgetFile>,
    /// Which dimension plays the feature.
    pub attribution: Option<AttributionFile>,
}

/// The `[attribution]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributionFile {
    /// `feature` (the default: the logged field, else a `feature` tag),
    /// `tag:KEY`, `route`, `team` or `user`.
    pub feature: Option<String>,
}

impl Config {
    /// Which dimension plays the feature (`[attribution] feature`).
    pub fn feature_from(&self, path: Option<&Path>) -> Result<FeatureFrom> {
        match self.attribution.as_ref().and_then(|a| a.feature.as_deref()) {
            None => Ok(FeatureFrom::default()),
            Some(text) => FeatureFrom::parse(text)
                .map_err(|e| in_file(path, format!("[attribution] feature = {e}"))),
        }
    }

    /// The detector settings this file gives.
    pub fn detect_config(&self, path: Option<&Path>) -> Result<DetectConfig> {
        DetectConfig::from_file(self.detect.as_ref(), &self.rules).map_err(|e| in_file(path, e))
    }

    /// The budgets this file gives.
    pub fn budgets(&self, path: Option<&Path>) -> Result<Vec<Budget>> {
        Budget::from_file(&self.budget).map_err(|e| in_file(path, e))
    }
}

fn in_file(path: Option<&Path>, e: String) -> anyhow::Error {
    anyhow::anyhow!(
        "config file {}: {e}",
        path.map_or(String::new(), |p| p.display().to_string())
    )
}

pub fn load(path: &Path) -> Result<Config> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read config file {}", path.display()))?;
    toml::from_str(&text).map_err(|e| {
        let said = e.to_string();
        // `[budget]` for `[[budget]]`: serde's words are a TOML expert's
        // (hunt84).
        let hint = if said.contains("expected a sequence") && said.contains("budget") {
            "\nbudgets are a list: write each as [[budget]] (two brackets), e.g.\n  [[budget]]\n  feature = \"support-chat\"\n  monthly = 500"
        } else {
            ""
        };
        anyhow::anyhow!(
            "config file {}: {}{hint}",
            path.display(),
            said.trim_end()
        )
    })
}
