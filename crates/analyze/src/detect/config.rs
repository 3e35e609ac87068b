//! Detector settings: severity thresholds and each rule's options with their
//! documented defaults. Read from the config file's `[detect]` and
//! `[rules.CODE]` tables; an unknown rule or option is an error that names
//! it. (Budgets, `[[budget]]`, are read by `crate::budget`: accumulation
//! needs them too.)

use std::collections::BTreeMap;

use serde::Deserialize;

use tokenaudit_core::Money;

use super::{rule, Severity, RULES};
use crate::budget::usd;

/// One option a rule takes: its name, default and meaning.
#[derive(Clone, Copy, Debug)]
pub struct Opt {
    pub name: &'static str,
    pub default: f64,
    pub doc: &'static str,
}

/// A rule's options as set for this run.
#[derive(Clone, Debug)]
pub struct RuleOptions {
    pub enabled: bool,
    values: BTreeMap<&'static str, f64>,
}

impl RuleOptions {
    /// The value of a declared option. An undeclared name is a bug in the
    /// rule (its `OPTIONS` table lacks it), caught by the rule tests.
    pub fn get(&self, name: &str) -> f64 {
        match self.values.get(name) {
            Some(v) => *v,
            None => panic!("rule option {name:?} is not declared in the rule's OPTIONS"),
        }
    }
}

/// Everything the detectors are told.
#[derive(Clone, Debug)]
pub struct DetectConfig {
    /// Monthly savings at or above which a finding is high severity.
    pub high: Money,
    /// … medium severity.
    pub medium: Money,
    /// Findings whose monthly savings are below this are dropped (findings
    /// without a savings figure are kept).
    pub min_savings: Money,
    rules: BTreeMap<&'static str, RuleOptions>,
}

impl Default for DetectConfig {
    fn default() -> Self {
        let rules = RULES
            .iter()
            .map(|r| {
                let values = r.options.iter().map(|o| (o.name, o.default)).collect();
                (
                    r.code,
                    RuleOptions {
                        enabled: true,
                        values,
                    },
                )
            })
            .collect();
        DetectConfig {
            high: Money::from_usd_f64(500.0).unwrap_or(Money::ZERO),
            medium: Money::from_usd_f64(50.0).unwrap_or(Money::ZERO),
            min_savings: Money::from_usd_f64(1.0).unwrap_or(Money::ZERO),
            rules,
        }
    }
}

/// The `[detect]` table.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectFile {
    /// Monthly savings (USD) that make a finding high severity (default 500).
    pub high_savings: Option<f64>,
    /// … medium severity (default 50).
    pub medium_savings: Option<f64>,
    /// Drop findings saving less than this per month (USD, default 1).
    pub min_savings: Option<f64>,
}

impl DetectConfig {
    /// Builds the settings from the config file's tables; errors name the
    /// table and key.
    pub fn from_file(
        detect: Option<&DetectFile>,
        rules: &BTreeMap<String, BTreeMap<String, serde_json::Value>>,
    ) -> Result<DetectConfig, String> {
        let mut c = DetectConfig::default();
        if let Some(d) = detect {
            if let Some(m) = usd(d.high_savings, "[detect] high_savings")? {
                c.high = m;
            }
            if let Some(m) = usd(d.medium_savings, "[detect] medium_savings")? {
                c.medium = m;
            }
            if let Some(m) = usd(d.min_savings, "[detect] min_savings")? {
                c.min_savings = m;
            }
        }
        for (code, table) in rules {
            let info = rule(code).ok_or_else(|| {
                format!("[rules.{code}]: no such rule (`tokenaudit rules` lists them)")
            })?;
            let opts = c.rules.get_mut(info.code).expect("every rule has options");
            for (key, value) in table {
                if key == "enabled" {
                    opts.enabled = value
                        .as_bool()
                        .ok_or_else(|| format!("[rules.{code}] enabled: expected true or false"))?;
                    continue;
                }
                let Some(o) = info.options.iter().find(|o| o.name == key) else {
                    let known: Vec<&str> = info.options.iter().map(|o| o.name).collect();
                    return Err(format!(
                        "[rules.{code}] {key}: unknown option (this rule takes: enabled{}{})",
                        if known.is_empty() { "" } else { ", " },
                        known.join(", ")
                    ));
                };
                let v = value
                    .as_f64()
                    .ok_or_else(|| format!("[rules.{code}] {key}: expected a number"))?;
                opts.values.insert(o.name, v);
            }
        }
        Ok(c)
    }

    /// A rule's options (defaults for a code no rule has).
    pub fn options(&self, code: &str) -> RuleOptions {
        self.rules.get(code).cloned().unwrap_or(RuleOptions {
            enabled: true,
            values: BTreeMap::new(),
        })
    }

    /// Sets one option (for tests and the API).
    pub fn set(&mut self, code: &str, name: &str, value: f64) {
        let info = rule(code).expect("known rule");
        let o = info
            .options
            .iter()
            .find(|o| o.name == name)
            .expect("declared option");
        self.rules
            .get_mut(info.code)
            .expect("rule has options")
            .values
            .insert(o.name, value);
    }

    /// Turns a rule on or off.
    pub fn enable(&mut self, code: &str, enabled: bool) {
        if let Some(r) = self.rules.get_mut(code) {
            r.enabled = enabled;
        }
    }

    /// The severity of a finding saving `monthly` per month.
    pub fn severity(&self, monthly: Money) -> Severity {
        if monthly >= self.high {
            Severity::High
        } else if monthly >= self.medium {
            Severity::Medium
        } else {
            Severity::Low
        }
    }
}
