//! ## What it finds
//! The smallest set of feature × model groups that together make 80% of the
//! spend (the Pareto set), the share of spend taken by the top 20% of groups,
//! and, per feature, a long tail of single requests: the cost per request at
//! p50, p95 and p99 and the costliest requests when p99 is far above p50.
//! A Pareto set of every priced group (two features of equal spend) is no
//! concentration and makes no finding.
//!
//! ## Why it costs money
//! Savings work is only worth doing where the money is. When three groups out
//! of forty make 80% of the bill, those three are where routing, caching and
//! trimming pay; and a feature whose p99 request costs fifty times its median
//! usually has a runaway prompt, an agent loop or an unbounded output that a
//! limit would stop.
//!
//! ## Example
//! `doc-qa × gpt-4.1` and `support-chat × claude-sonnet-4` make 81% of a
//! $12,400 month; `report-writer`'s median request costs $0.012 but its p99
//! costs $0.61 (request `req_8812`).
//!
//! ## How to fix
//! Start the review with the groups of the Pareto set. For a long tail, look
//! at the sample requests: cap `max_tokens`, bound agent loops, and set a
//! per-call budget (`[[budget]] per_call`) to be alerted when one is broken.
//!
//! ## Options
//! - `share` (0.8): the spend share the Pareto set must reach.
//! - `tail_ratio` (20): report a feature's tail when its p99 cost per request
//!   is at least this many times its p50.
//! - `min_calls` (100): features with fewer priced calls get no tail finding.

use tokenaudit_core::Money;

use crate::coverage::{inputs, Input};
use crate::detect::{round_to, rule_options, scope, Confidence, Context, Finding, Severity};

/// What the rule reads (see `tokenaudit rules` and the report's rule
/// coverage).
pub const INPUTS: &[Input] = &[inputs::PRICED, inputs::FEATURE];

/// The Pareto set's groups named in the evidence, most expensive first.
const PARETO_LISTED: usize = 50;

rule_options! {
    /// spend share the Pareto set must reach
    share: f64 = 0.8,
    /// p99 / p50 cost per request that makes a long tail
    tail_ratio: f64 = 20.0,
    /// fewest priced calls for a tail finding
    min_calls: u64 = 100,
}

pub fn check(ctx: &Context<'_>, o: &Options, out: &mut Vec<Finding>) {
    let total = ctx.audit.totals.cost;
    let pairs = &ctx.audit.feature_model; // most expensive first
    if total > Money::ZERO && pairs.len() >= 2 {
        concentration(ctx, o, out);
    }
    long_tails(ctx, o, out);
}

/// The fewest groups that make `share` of the spend, when they are not all.
fn concentration(ctx: &Context<'_>, o: &Options, out: &mut Vec<Finding>) {
    let total = ctx.audit.totals.cost;
    let pairs = &ctx.audit.feature_model;
    let want = Money::from_picos((total.picos() as f64 * o.share).ceil() as i128);
    let mut acc = Money::ZERO;
    let mut set = Vec::new();
    for p in pairs {
        if acc >= want {
            break;
        }
        acc += p.stats.cost;
        set.push(format!("{} × {}", p.feature, p.model));
    }
    let priced: Vec<_> = pairs
        .iter()
        .filter(|p| p.stats.cost > Money::ZERO)
        .collect();
    // A set of every priced group is no concentration (hunt154: "2 of
    // 2 groups make 100% of spend", a standing ticket on two features
    // of equal spend).
    if set.len() >= priced.len() {
        return;
    }
    let top_n = (priced.len() as f64 * 0.2).ceil().max(1.0) as usize;
    let top: Money = priced.iter().take(top_n).map(|p| p.stats.cost).sum();
    let share_of = |m: Money| m.picos() as f64 / total.picos() as f64;
    let mut f = Finding::new(
        format!(
            "{} of {} feature × model groups make {}% of spend",
            set.len(),
            priced.len(),
            percent_below_whole(share_of(acc) * 100.0)
        ),
        scope([("scope", "all")]),
    )
    .with("groups", priced.len())
    .with("pareto_groups", set.len())
    .with("pareto_share", round_to(share_of(acc), 4))
    // Its first groups (`pareto_groups` counts them all): 600,000
    // features made one finding of 347,132 names, 11.7 MB (hunt77).
    .with(
        "pareto_set",
        set.iter().take(PARETO_LISTED).cloned().collect::<Vec<_>>(),
    )
    .with("top_20pct_groups", top_n)
    .with("top_20pct_share", round_to(share_of(top), 4))
    .with("total_spend", total.to_decimal_string());
    f.severity = Severity::Info;
    f.confidence = Confidence::High;
    f.recommendation = format!(
        "Start cost work with these groups: {}.",
        set.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
    );
    out.push(f);
}

/// Long tails per feature.
fn long_tails(ctx: &Context<'_>, o: &Options, out: &mut Vec<Finding>) {
    // Long tails per feature (over all its models): the cells are sorted
    // by feature, so each feature's are one run (a scan of every cell per
    // feature made 80,000 features take 51 s).
    for cells in ctx.cells.chunk_by(|a, b| a.feature == b.feature) {
        let feature = &*cells[0].feature;
        let mut hist = crate::sketch::LogHist::default();
        let mut top: Vec<(i64, &str)> = Vec::new();
        for c in cells {
            hist.merge(&c.obs.cost);
            top.extend(c.obs.top.iter().map(|(p, id)| (*p, id.as_str())));
        }
        if hist.count() < o.min_calls {
            continue;
        }
        let (p50, p95, p99) = (hist.quantile(0.5), hist.quantile(0.95), hist.quantile(0.99));
        if p50 == 0 || (p99 as f64) < o.tail_ratio * p50 as f64 {
            continue;
        }
        top.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
        let money = |p: u64| Money::from_picos(p as i128);
        let mut f = Finding::new(
            format!(
                "{feature}: the p99 request costs {:.0}× the median ({} vs {})",
                p99 as f64 / p50 as f64,
                money(p99).to_rounded_string(4),
                money(p50).to_rounded_string(4)
            ),
            scope([("feature", feature)]),
        )
        .with("calls", hist.count())
        .with("p50_cost", money(p50).to_decimal_string())
        .with("p95_cost", money(p95).to_decimal_string())
        .with("p99_cost", money(p99).to_decimal_string())
        .with("max_cost", money(hist.max()).to_decimal_string());
        f.sample_requests = top.iter().take(3).map(|(_, id)| id.to_string()).collect();
        f.severity = Severity::Low;
        f.confidence = Confidence::Medium;
        f.recommendation = "Look at the costliest requests: bound agent loops and prompt size, \
                            cap max_tokens, and set a per-call budget to be alerted."
            .to_string();
        out.push(f);
    }
}

/// A percentage as a whole number, but never "100" for less than all of it
/// (hunt61: 99.97% read "100%" while other groups had spend): then one
/// decimal, rounded down.
fn percent_below_whole(pct: f64) -> String {
    let whole = format!("{pct:.0}");
    if whole == "100" && pct < 100.0 {
        format!("{:.1}", (pct * 10.0).floor() / 10.0)
    } else {
        whole
    }
}

#[cfg(test)]
mod percent_tests {
    #[test]
    fn less_than_all_is_never_said_to_be_all() {
        use super::percent_below_whole as p;
        assert_eq!(
            [p(85.4), p(99.4), p(99.5), p(99.97), p(100.0)],
            ["85", "99", "99.5", "99.9", "100"]
        );
    }
}
