//! ## What it finds
//! Spend above the budgets set in the config file (`[[budget]]`): each day a
//! feature (or, with `feature = "*"`, the whole spend) went over its daily
//! budget, each calendar month over its monthly budget, and the calls that
//! cost more than the per-call budget, with the day and the amount over.
//!
//! ## Why it costs money
//! A budget is the team's own statement of what a feature is worth; an
//! overrun is spend nobody agreed to, and usually the first sign of a bug
//! (a loop, a retry storm, a prompt that grew).
//!
//! ## Example
//! `report-writer`: daily budget $50; over on 2026-10-18 by $362.
//!
//! ## How to fix
//! Find the cause of the overrun (see the spend-spike and retry findings for
//! the same days); raise the budget only if the spend was meant.
//!
//! ## Options
//! None: budgets are set per feature in `[[budget]]` tables:
//! `feature` (a name or `*`), `daily`, `monthly`, `per_call` (USD). A
//! feature's own `per_call` budget wins over the `*` one: each call is judged
//! by one per-call budget only.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use tokenaudit_core::Money;

use crate::budget::call_budget;
use crate::coverage::{inputs, Input};
use crate::detect::{rule_options, scope, Confidence, Context, Finding, Severity};

/// What the rule reads (see `tokenaudit rules` and the report's rule
/// coverage).
pub const INPUTS: &[Input] = &[inputs::PRICED, inputs::TIMESTAMP_OPTIONAL];

rule_options! {}

pub fn check(ctx: &Context<'_>, _o: &Options, out: &mut Vec<Finding>) {
    for b in ctx.budgets {
        let all = b.feature == "*";
        let mut days: BTreeMap<NaiveDate, Money> = BTreeMap::new();
        for g in ctx.groups.iter().filter(|g| all || g.feature == b.feature) {
            if let Some(d) = g.day {
                *days.entry(d).or_default() += g.stats.cost;
            }
        }
        let label = if all {
            "all features"
        } else {
            b.feature.as_str()
        };
        if let Some(limit) = b.daily {
            let over: Vec<(NaiveDate, Money)> = days
                .iter()
                .filter(|(_, s)| **s > limit)
                .map(|(d, s)| (*d, *s - limit))
                .collect();
            if !over.is_empty() {
                let total: Money = over.iter().map(|o| o.1).sum();
                let worst = over
                    .iter()
                    .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
                    .copied();
                let mut f = Finding::new(format!(
                        "{label}: over its daily budget of {} on {} day{} (by {} in all)",
                        as_written(limit, 2),
                        over.len(),
                        if over.len() == 1 { "" } else { "s" },
                        overrun(total)
                    ),
                    scope([("feature", &b.feature), ("budget", "daily")]),
                )
                .with("budget", limit.to_decimal_string())
                .with("days_over", over.len())
                .with("total_over", total.to_decimal_string())
                .with(
                    "overruns",
                    over.iter()
                        .map(|(d, m)| serde_json::json!({"day": d.to_string(), "over_by": m.to_decimal_string()}))
                        .collect::<Vec<_>>(),
                );
                if let Some((d, m)) = worst {
                    f = f
                        .with("worst_day", d.to_string())
                        .with("worst_over_by", m.to_decimal_string());
                }
                f.severity = Severity::High;
                f.confidence = Confidence::High;
                f.recommendation = format!(
                    "Find the cause of the overruns of {label} (see spend-spike and retry findings for those days); raise the budget only if the spend was meant."
                );
                out.push(f);
            }
        }
        if let Some(limit) = b.monthly {
            let mut months: BTreeMap<(i32, u32), Money> = BTreeMap::new();
            for (d, s) in &days {
                *months.entry((d.year(), d.month())).or_default() += *s;
            }
            for ((y, m), s) in months.into_iter().filter(|(_, s)| *s > limit) {
                let month = format!("{y:04}-{m:02}");
                // A window (--since/--until) that covers part of the month
                // saw part of its spend: the month spent at least that.
                let start = NaiveDate::from_ymd_opt(y, m, 1).and_then(|d| d.and_hms_opt(0, 0, 0));
                let next = NaiveDate::from_ymd_opt(y + i32::from(m == 12), m % 12 + 1, 1)
                    .and_then(|d| d.and_hms_opt(0, 0, 0));
                let (since, until) = (ctx.audit.since, ctx.audit.until);
                let partial = start.zip(next).and_then(|(start, next)| {
                    let from = since.map(|t| t.naive_utc()).filter(|t| *t > start);
                    let to = until.map(|t| t.naive_utc()).filter(|t| *t < next);
                    if from.is_none() && to.is_none() {
                        return None;
                    }
                    let from = from.unwrap_or(start).date();
                    // `until` is exclusive: a midnight's day is not in it.
                    let last = match to {
                        Some(t) if t.time() == chrono::NaiveTime::MIN => t.date().pred_opt()?,
                        Some(t) => t.date(),
                        None => next.date().pred_opt()?,
                    };
                    Some((from, last))
                });
                let spent = match partial {
                    Some((from, last)) => format!(
                        "spent at least {} in {month} (audited from {from} to {last} only)",
                        s.to_cents_string()
                    ),
                    None => format!("spent {} in {month}", s.to_cents_string()),
                };
                let mut f = Finding::new(
                    format!(
                        "{label}: {spent}, over its monthly budget of {} by {}",
                        as_written(limit, 2),
                        overrun(s - limit)
                    ),
                    scope([
                        ("feature", &b.feature),
                        ("budget", "monthly"),
                        ("month", &month),
                    ]),
                )
                .with("budget", limit.to_decimal_string())
                .with("month", month.clone())
                .with("spend", s.to_decimal_string())
                .with("over_by", (s - limit).to_decimal_string());
                f.severity = Severity::High;
                f.confidence = Confidence::High;
                let whose = if all {
                    "the spend of all features".to_string()
                } else {
                    format!("{label}'s spend")
                };
                f.recommendation = format!("Review {whose} in {month} against its budget.");
                out.push(f);
            }
        }
        if b.per_call.is_some() {
            let (mut calls, mut excess) = (0u64, Money::ZERO);
            let mut ids = crate::observe::Samples::default();
            for c in ctx.cells.iter().filter(|c| all || *c.feature == *b.feature) {
                // A feature's own per-call budget wins over `*`: the `*`
                // budget judges only the features without one (comparing
                // amounts would count a feature twice when both budgets
                // happen to be equal).
                let own = ctx
                    .budgets
                    .iter()
                    .any(|o| o.feature == *c.feature && o.per_call.is_some());
                if all && own {
                    continue;
                }
                if call_budget(ctx.budgets, &c.feature) != b.per_call {
                    continue; // an earlier budget of the same feature wins
                }
                calls += c.obs.over_call_budget.calls;
                excess += c.obs.over_call_budget_excess;
                ids.merge(&c.obs.over_call_budget_ids);
            }
            if calls > 0 {
                let limit = b.per_call.unwrap_or(Money::ZERO);
                let mut f = Finding::new(
                    format!(
                        "{label}: {calls} {} more than the per-call budget of {}",
                        if calls == 1 {
                            "call costs"
                        } else {
                            "calls cost"
                        },
                        as_written(limit, 4)
                    ),
                    scope([("feature", &b.feature), ("budget", "per_call")]),
                )
                .with("budget", limit.to_decimal_string())
                .with("calls_over", calls)
                .with("total_over", excess.to_decimal_string());
                f.sample_requests = ids.ids();
                f.severity = Severity::Medium;
                f.confidence = Confidence::High;
                f.recommendation = format!(
                    "Look at {label}'s calls over budget (sample requests): bound their input and max_tokens."
                );
                out.push(f);
            }
        }
    }
}

/// A budget as the config wrote it, with as many decimals as it has (at
/// least `fewest`): 6.999 is not "$7.00" (hunt118).
fn as_written(m: Money, fewest: u32) -> String {
    let mut decimals = fewest;
    while decimals < 12 && m.picos() % 10i128.pow(12 - decimals) != 0 {
        decimals += 1;
    }
    m.to_rounded_string(decimals)
}

/// An overrun with the decimals its size needs: whole cents, else as a
/// total is shown (four decimals under a dollar), never "$0.00".
fn overrun(m: Money) -> String {
    if m.picos() % 10i128.pow(10) == 0 {
        m.to_cents_string()
    } else {
        m.to_total_string()
    }
}
