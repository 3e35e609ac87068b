//! ## What it finds
//! Features that pay for calls that failed: errors and cancellations that
//! were still billed (their input was processed), their share of the
//! feature's spend, and what one *successful* call really costs (all spend
//! divided by successful calls) against the naive cost per call.
//!
//! ## Why it costs money
//! A failed call is billed for what the provider processed before it failed
//! (input tokens, partial output on timeouts and cancellations), and the
//! work is then done again. A feature with 10% failures pays for 1.1 calls
//! per answer, more when failures are long-context timeouts.
//!
//! ## Example
//! `code-review`: 6.2% of calls failed (429, 500, timeout), $214 of $3,400;
//! $0.061 per successful call against $0.057 per call.
//!
//! ## How to fix
//! Look at the error kinds: back off on 429s instead of retrying at once,
//! shorten requests that time out, validate inputs before sending, and set
//! client timeouts below the provider's.
//!
//! ## Options
//! - `min_share` (0.02): failed spend share of the feature's spend that makes
//!   a finding.
//! - `avoidable` (0.5): the share of failed spend the saving assumes can be
//!   avoided.

use tokenaudit_core::Money;

use crate::coverage::{inputs, Input};
use crate::detect::{round_to, rule_options, scope, Confidence, Context, Finding};
use crate::finding::Lever;

/// What the rule reads (see `tokenaudit rules` and the report's rule
/// coverage).
pub const INPUTS: &[Input] = &[inputs::FAILURES, inputs::PRICED];

rule_options! {
    /// failed share of a feature's spend that makes a finding
    min_share: f64 = 0.02,
    /// share of failed spend the saving assumes avoidable
    avoidable: f64 = 0.5,
}

pub fn check(ctx: &Context<'_>, o: &Options, out: &mut Vec<Finding>) {
    for row in ctx.audit.dim("feature") {
        let s = &row.stats;
        if s.cost <= Money::ZERO || s.failed_cost <= Money::ZERO {
            continue;
        }
        let share = s.failed_cost.picos() as f64 / s.cost.picos() as f64;
        if share < o.min_share {
            continue;
        }
        let avoidable = o.avoidable.clamp(0.0, 1.0);
        let saved = s.failed_cost.scale(avoidable);
        let per_call = s.cost_per_call();
        let per_success = s.cost_per_success();
        let mut f = Finding::new(
            format!(
                "{}: {:.1}% of spend went to {} failed calls",
                row.key,
                share * 100.0,
                s.failed_calls
            ),
            scope([("feature", &row.key)]),
        )
        .with("calls", s.calls)
        .with("failed_calls", s.failed_calls)
        .with("failed_cost", s.failed_cost.to_decimal_string())
        .with("failed_share", round_to(share, 4))
        .with("cost_per_call", per_call.to_decimal_string())
        .with(
            "cost_per_successful_call",
            per_success.map_or(serde_json::Value::Null, |m| m.to_decimal_string().into()),
        );
        f.confidence = Confidence::Medium;
        f.recommendation = format!(
            "Look at {}'s error kinds (the Failures table): back off on rate limits, shorten requests that time out, validate inputs before sending.",
            row.key
        );
        let lever = Lever::AvoidFailures {
            feature: row.key.clone(),
            model: None,
            fraction: avoidable,
        };
        if f.set_savings(
            ctx,
            saved,
            format!("{:.0}% of the spend on failed calls", avoidable * 100.0),
            Some(lever),
        ) {
            out.push(f);
        }
    }
}
