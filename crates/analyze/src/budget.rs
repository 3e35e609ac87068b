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
            // Two tables of one feature are one budget: each limit given
            // once (hunt118: two tables of a feature judged its calls twice,
            // and their findings shared a fingerprint).
            let earlier = budgets
                .iter()
                .position(|o: &Budget| o.feature == budget.feature);
            match earlier {
                Some(j) => {
                    let o: &mut Budget = &mut budgets[j];
                    for (kind, mine, theirs) in [
                        ("daily", budget.daily, &mut o.daily),
                        ("monthly", budget.monthly, &mut o.monthly),
                        ("per_call", budget.per_call, &mut o.per_call),
                    ] {
                        match (mine, &theirs) {
                            (Some(_), Some(_)) => {
                                return Err(format!(
                                    "{at}: {kind} is given again for feature {:?} (an earlier [[budget]] gives it); give each feature's daily, monthly and per_call limits once",
                                    budget.feature
                                ))
                            }
                            (Some(v), None) => *theirs = Some(v),
                            _ => {}
                        }
                    }
                }
                None => budgets.push(budget),
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn file(
        feature: &str,
        daily: Option<f64>,
        monthly: Option<f64>,
        per_call: Option<f64>,
    ) -> BudgetFile {
        BudgetFile {
            feature: feature.into(),
            daily,
            monthly,
            per_call,
        }
    }

    /// Two tables of one feature are one budget; a limit given twice is an
    /// error (hunt118: the calls were judged twice).
    #[test]
    fn a_features_tables_merge_and_a_limit_given_twice_is_refused() {
        let b = Budget::from_file(&[
            file("chat", Some(2.0), None, None),
            file("*", None, Some(5.0), None),
            file("chat", None, Some(4.0), Some(0.3)),
        ])
        .unwrap();
        assert_eq!(b.len(), 2);
        assert_eq!(b[0].feature, "chat");
        assert_eq!(b[0].daily, Some(Money::from_picos(2_000_000_000_000)));
        assert_eq!(b[0].monthly, Some(Money::from_picos(4_000_000_000_000)));
        assert_eq!(b[0].per_call, Some(Money::from_picos(300_000_000_000)));
        let e = Budget::from_file(&[
            file("chat", Some(2.0), None, Some(0.3)),
            file("chat", Some(1.9), Some(4.0), Some(0.3)),
        ])
        .unwrap_err();
        assert!(
            e.starts_with("[[budget]] #2 (chat): daily is given again"),
            "{e}"
        );
    }
}
