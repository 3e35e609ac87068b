//! ## What it finds
//! Outputs longer than they need to be, per (feature, model): calls that
//! stopped on the length limit (`finish_reason` `length` / `max_tokens`;
//! where no finish reason is logged, an output that reached the call's
//! `max_tokens`), calls sent with no `max_tokens` whose longest outputs run far past the
//! feature's norm (p99 at least `tail_ratio` × the median), and the tokens
//! those outputs spent above the p95.
//!
//! ## Why it costs money
//! Output tokens cost 4–8× input tokens. A response cut at the limit is
//! usually thrown away and asked for again — paid twice; a model without a
//! limit that rambles on one call in a hundred pays for pages nobody reads.
//!
//! ## Example
//! `report-writer × o3-mini`: 12% of calls stopped at the length limit; no
//! max_tokens on any call, p99 output 7,900 tokens against a median of 900.
//!
//! ## How to fix
//! Set `max_tokens` near the feature's p95 output; ask for concise output
//! (format, length) in the prompt; for truncated answers, raise the limit
//! deliberately or split the task rather than retrying blind.
//!
//! ## Options
//! - `min_capped_share` (0.05): share of length-capped calls that makes a finding.
//! - `tail_ratio` (5): p99 / median output that counts as a runaway tail.
//! - `min_calls` (50): fewest calls.
//!
//! A call whose `max_tokens` is 4 or less (a classifier's label, a
//! health check's one token) asks to reach it: it is never counted as cut,
//! nor is a call without a logged limit whose output of 4 tokens or less
//! stopped at the limit.
//!
//! A call that ended in a tool call (`tool_use`, `tool_calls`) is not in
//! the runaway tail: its output is the tool's arguments, as an agent's file
//! it writes.
//!
//! When no call of the (feature, model) logs its `max_tokens` (a log of
//! responses only), the tail is said as it is, "the logs show no
//! max_tokens", at low confidence.
//!
//! The saving caps output at the p95 of the calls without `max_tokens`
//! (tokens above it, at the output rate), plus half the cost of the
//! length-capped calls (assumed retried after truncation).
//!
//! Not on embedding, speech, image, moderation or rerank models (by name):
//! their output is the audio, transcript or image asked for, which no
//! `max_tokens` bounds without cutting it.

use tokenaudit_core::Money;

use crate::coverage::{inputs, logged, Input, Via};
use crate::detect::{round_to, rule_options, scope, Confidence, Context, Finding};
use crate::finding::Lever;

/// What the rule reads (see `tokenaudit rules` and the report's rule
/// coverage).
pub const INPUTS: &[Input] = &[
    // Not required: the runaway tail is read from the outputs alone
    // (hunt83: a finding beside "could not run").
    Input {
        name: "finish_reason or max_tokens",
        required: false,
        sources: &[
            logged(Via::FinishReason, "a `finish_reason`"),
            logged(
                Via::MaxTokens,
                "a `max_tokens` (without a finish reason, an output that reaches it was cut)",
            ),
        ],
    },
    inputs::PRICED,
];

rule_options! {
    /// share of length-capped calls that makes a finding
    min_capped_share: f64 = 0.05,
    /// p99 / median output that counts as a runaway tail
    tail_ratio: f64 = 5.0,
    /// fewest calls
    min_calls: u64 = 50,
}

pub fn check(ctx: &Context<'_>, o: &Options, out: &mut Vec<Finding>) {
    // No call of the run logs its limit (a log of responses only).
    let run_unlogged = ctx
        .audit
        .coverage
        .iter()
        .any(|c| c.field == "max_tokens" && c.present == 0);
    for cell in ctx.cells {
        let Some(id) = cell.resolved else { continue };
        if !crate::detect::serves_text_chat(&ctx.catalog.model(id).id) {
            continue;
        }
        let obs = &cell.obs;
        let calls = obs.output.count();
        if calls < o.min_calls {
            continue;
        }
        // No call of the cell logs its limit (a log of responses only):
        // whether the calls of a runaway tail had one is unknown, and is
        // said so (hunt49), per cell (hunt83: another file's limits made
        // a log without the field read as "no max_tokens").
        // (A Claude call cut at the limit is not counted without one: it
        // had one, logged or not. When no call of the run logs a limit,
        // those count as unlogged too: hunt89; when some do, the cut calls
        // may be among them, and are not: hunt90.)
        let claude_capped = if run_unlogged
            && tokenaudit_ingest::record::tags::contains_ignore_ascii_case(&cell.model, "claude")
        {
            obs.length_capped.calls
        } else {
            0
        };
        let unlogged = obs.no_max_tokens.calls + claude_capped >= calls;
        let capped = &obs.length_capped;
        let capped_share = capped.calls as f64 / calls as f64;
        let h = &obs.no_max_output;
        let (p50, p95, p99) = (h.quantile(0.5), h.quantile(0.95), h.quantile(0.99));
        let tail = h.count() >= o.min_calls && p50 > 0 && p99 as f64 >= o.tail_ratio * p50 as f64;
        let capped_hit = capped_share >= o.min_capped_share;
        if !(tail || capped_hit) {
            continue;
        }
        let rates = ctx.cell_rates(cell.key, id);
        let (over, excess) = if tail { h.excess_over(p95) } else { (0, 0) };
        let trimmed =
            Money::from_picos((excess as f64 * rates.output.picos() as f64).round() as i128);
        let retried = if capped_hit {
            capped.cost.scale(0.5)
        } else {
            Money::ZERO
        };
        let model = ctx.model_name(cell);
        let mut what = Vec::new();
        if capped_hit {
            what.push(format!(
                "{:.0}% of calls cut at the length limit",
                capped_share * 100.0
            ));
        }
        if tail && unlogged {
            what.push(format!(
                "p99 output {} tokens vs median {} (the logs show no max_tokens)",
                p99, p50
            ));
        } else if tail {
            what.push(format!(
                "no max_tokens and p99 output {} tokens vs median {}",
                p99, p50
            ));
        }
        let mut f = Finding::new(
            format!("{}: {} on {}", cell.feature, what.join("; "), model),
            scope([("feature", &cell.feature), ("model", &cell.model)]),
        )
        .with("calls", calls)
        .with("length_capped_calls", capped.calls)
        .with("length_capped_share", round_to(capped_share, 4))
        .with("length_capped_cost", capped.cost.to_decimal_string())
        .with("calls_without_max_tokens", obs.no_max_tokens.calls)
        .with("median_output_uncapped", p50)
        .with("p95_output_uncapped", p95)
        .with("p99_output_uncapped", p99)
        .with("calls_above_p95", over)
        .with("output_tokens_above_p95", excess as u64);
        f.sample_requests = obs.length_capped_ids.ids();
        f.confidence = if tail && unlogged && !capped_hit {
            Confidence::Low
        } else {
            Confidence::Medium
        };
        f.recommendation = if tail {
            format!(
                "Set max_tokens to about {} on {}{} and ask for concise output{}.",
                p95.max(1),
                cell.feature,
                if unlogged {
                    " (the logs do not show the limit the calls had, if any)"
                } else {
                    ""
                },
                if capped_hit {
                    "; for answers cut at the limit, raise it deliberately or split the task instead of retrying"
                } else {
                    ""
                }
            )
        } else {
            format!(
                "{}'s answers are cut at the length limit: raise max_tokens deliberately or ask for shorter output, instead of retrying truncated answers.",
                cell.feature
            )
        };
        let lever = tail.then(|| Lever::MaxOutput {
            feature: cell.feature.to_string(),
            model: Some(cell.model.to_string()),
            tokens: p95.max(1),
            unset_only: true,
        });
        if f.set_savings(
            ctx,
            trimmed + retried,
            "output above the p95 of uncapped calls at the output rate, plus half the cost of length-capped calls (assuming each cut answer is asked again; the log does not show it)",
            lever,
        ) {
            out.push(f);
        }
    }
}
