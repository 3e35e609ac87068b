//! ## What it finds
//! Sessions whose input tokens grow with every turn because the whole history
//! is sent again: per (feature, model), the sessions with at least
//! `min_turns` turns whose input grows by at least `min_growth` tokens per
//! turn (least-squares slope over the turn numbers).
//!
//! ## Why it costs money
//! Turn *n* of such a conversation pays for turns 1…n−1 again. Over a
//! 30-turn session that is 15× the tokens the last question needed; the
//! input bill of chat features grows with the square of session length.
//!
//! ## Example
//! `support-chat × claude-sonnet-4`: 1,120 sessions, 8.4 turns on average,
//! input growing by 310 tokens a turn. Keeping only the last 6 turns would
//! have sent 21% fewer input tokens: $1,940 a month.
//!
//! ## How to fix
//! Send a sliding window of the last N turns, or replace older turns with a
//! running summary; cache the stable part of the history with the provider's
//! prompt caching.
//!
//! ## Options
//! - `window` (6): turns kept by the sliding window the saving assumes.
//! - `min_turns` (4): shortest session considered.
//! - `min_growth` (100): tokens per turn a session must grow by.
//! - `min_sessions` (5): fewest growing sessions for a finding.
//!
//! The saving of a session of n turns growing by g tokens a turn is
//! g × (n−N)(n−N+1)/2 tokens (the history beyond the window, turn by turn),
//! priced at the session's own average input rate.

use tokenaudit_core::Money;

use crate::detect::{round_to, rule_options, scope, Confidence, Context, Finding};
use crate::finding::Lever;

rule_options! {
    /// turns kept by the sliding window
    window: u64 = 6,
    /// shortest session considered
    min_turns: u64 = 4,
    /// input tokens per turn a session must grow by
    min_growth: f64 = 100.0,
    /// fewest growing sessions for a finding
    min_sessions: u64 = 5,
}

#[derive(Default)]
struct PerCell {
    sessions: u64,
    growing: u64,
    turns: u64,
    slope_sum: f64,
    saved_tokens: f64,
    saved: f64,
    max_turn: u32,
    ids: Vec<String>,
}

pub fn check(ctx: &Context<'_>, o: &Options, out: &mut Vec<Finding>) {
    let window = o.window.max(1) as f64;
    let scale = ctx.keyed.sessions.scale() as f64;
    let mut per: std::collections::BTreeMap<u64, PerCell> = Default::default();
    for (_, s) in ctx.keyed.sessions.sorted() {
        let p = per.entry(s.cell).or_default();
        p.sessions += 1;
        // Turns are stored as logged + 1 (see accumulate). A session whose
        // first logged turn is 0 counts from 0; otherwise turns count from 1.
        let turns = if s.first_turn == 1 {
            s.max_turn
        } else {
            s.max_turn.saturating_sub(1)
        } as f64;
        let slope = s.slope();
        if s.calls < o.min_turns || slope < o.min_growth {
            continue;
        }
        p.growing += 1;
        p.turns += s.calls;
        p.slope_sum += slope;
        p.max_turn = p.max_turn.max(turns as u32);
        if turns > window {
            let beyond = turns - window;
            let tokens = slope * beyond * (beyond + 1.0) / 2.0;
            let tokens = tokens.min(s.input as f64);
            p.saved_tokens += tokens;
            if s.input > 0 {
                p.saved += s.input_cost.picos() as f64 * tokens / s.input as f64;
            }
            if p.ids.len() < 3 {
                if let Some(id) = &s.request_id {
                    p.ids.push(id.to_string());
                }
            }
        }
    }
    for (key, p) in per {
        let Some(cell) = ctx.cell(key) else { continue };
        if p.growing < o.min_sessions {
            continue;
        }
        let observed = Money::from_picos((p.saved * scale).round() as i128);
        let cell_input = cell.obs.input.sum() as f64;
        let fraction = if cell_input > 0.0 {
            (p.saved_tokens * scale / cell_input).min(1.0)
        } else {
            0.0
        };
        let model = ctx.model_name(cell);
        let mut f = Finding::new(
            format!(
                "{}: conversations resend their history ({:.0} more input tokens each turn on {})",
                cell.feature,
                p.slope_sum / p.growing as f64,
                model
            ),
            scope([("feature", &cell.feature), ("model", &cell.model)]),
        )
        .with("sessions", p.sessions * scale as u64)
        .with("growing_sessions", p.growing * scale as u64)
        .with("mean_turns", round_to(p.turns as f64 / p.growing as f64, 1))
        .with("max_turn", p.max_turn)
        .with(
            "mean_growth_tokens_per_turn",
            round_to(p.slope_sum / p.growing as f64, 1),
        )
        .with("window_turns", window as u64)
        .with(
            "input_tokens_saved",
            (p.saved_tokens * scale).round() as u64,
        )
        .with("input_share_saved", round_to(fraction, 4));
        let mut ids = p.ids;
        ids.sort();
        f.sample_requests = ids;
        f.confidence = if scale > 1.0 {
            Confidence::Low
        } else {
            Confidence::Medium
        };
        f.recommendation = format!(
            "Send only the last {} turns (or a running summary of older ones) in {}.",
            window as u64, cell.feature
        );
        let method = format!(
            "history beyond a {}-turn window, g×(n−N)(n−N+1)/2 tokens per session, at each session's input rate",
            window as u64
        );
        let lever = Lever::TrimInput {
            feature: cell.feature.to_string(),
            model: Some(cell.model.to_string()),
            fraction,
        };
        if f.set_savings(ctx, observed, method, Some(lever)) {
            out.push(f);
        }
    }
}
