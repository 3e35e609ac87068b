//! Spending limits from the config file's `[[budget]]` tables: per feature
//! (or `*`, all spend), daily, monthly and per call.
//!
//! A leaf, read at both ends of the audit: accumulation watches each call
//! against its feature's per-call budget (the calls over it cannot be told
//! from sums later), and the budget rule (TA116) compares the day and month
//! totals.

use serde::Deserialize;

use tokenaudit_core::Money;

/// A spending limit for a feature (or `*`: all spend).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Budget {
    pub feature: String,
    pub daily: Option<Money>,
    pub monthly: Option<Money>,
    pub per_call: Option<Money>,
}

/// One `[[budget]]` entry.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetFile {
    /// A feature name, or `*` for the whole spend.
    pub feature: String,
    /// USD per day.
    pub daily: Option<f64>,
    /// USD per calendar month.
    pub monthly: Option<f64>,
    /// USD per call.
    pub per_call: Option<f64>,
}

/// An amount in USD from the config file; `what` names the key in errors.
pub(crate) fn usd(v: Option<f64>, what: &str) -> Result<Option<Money>, String> {
    match v {
        None => Ok(None),
        Some(x) if x.is_finite() && x >= 0.0 => Money::from_usd_f64(x)
            .map(Some)
            .ok_or_else(|| format!("{what}: {x} is not an amount in USD")),
        Some(x) => Err(format!("{what}: {x} must be a non-negative amount in USD")),
    }
}

impl Budget {
    /// The budgets of the `[[budget]]` tables, in order; errors name the
    /// entry and key.
    pub fn from_file(entries: &[BudgetFile]) -> Result<Vec<Budget>, String> {
        let mut budgets = Vec::with_capacity(entries.len());
        for (i, b) in entries.iter().enumerate() {
            let at = format!("[[budget]] #{} ({})", i + 1, b.feature);
            if b.feature.is_empty() {
                return Err(format!(
                    "{at}: feature is required (a feature name or \"*\")"
                ));
            }
            let budget = Budget {
                feature: b.feature.clone(),
                daily: usd(b.daily, &format!("{at} daily"))?,
                monthly: usd(b.monthly, &format!("{at} monthly"))?,
                per_call: usd(b.per_call, &format!("{at} per_call"))?,
            };
            if budget.daily.is_none() && budget.monthly.is_none() && budget.per_call.is_none() {
                return Err(format!(
                    "{at}: give at least one of daily, monthly, per_call"
                ));
            }
            budgets.push(budget);
        }
        Ok(budgets)
    }
}

/// The per-call budget of a feature, if any (a feature's own budget wins
/// over `*`; the first of a feature's budgets wins over later ones).
pub fn call_budget(budgets: &[Budget], feature: &str) -> Option<Money> {
    budgets
        .iter()
        .find(|b| b.feature == feature && b.per_call.is_some())
        .or_else(|| {
            budgets
                .iter()
                .find(|b| b.feature == "*" && b.per_call.is_some())
        })
        .and_then(|b| b.per_call)
}
