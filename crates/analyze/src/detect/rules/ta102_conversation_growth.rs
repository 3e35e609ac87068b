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
//! - `session_gap_minutes` (30): without a session id, a user's calls to a
//!   feature are cut into sessions at pauses longer than this (and at
//!   midnight UTC, where a user's calls are kept by day: a conversation
//!   across midnight is two).
//! - `min_growing_share` (0.75): a session whose turns were inferred must
//!   also grow at this share of its turn-to-turn steps (sizes that merely
//!   vary grow at about half).
//! - `max_cached_share` (0.5): a (feature, model) whose input is mostly
//!   read from the provider's prompt cache is left alone: the cache already
//!   serves the history at a fraction of its price, and a sliding window
//!   would change the prompt's start every turn and lose those hits.
//!
//! Turns come from a logged `turn`; else from the user messages in a logged
//! `messages`; else from time order, a retry (`attempt` > 1, `retry_of`, or
//! the same prompt within a minute of a failure) staying in the turn it
//! retries. Without a session id, sessions are cut from a user's calls by
//! the inactivity gap and at midnight UTC, and the finding's confidence is low
//! (`infer::sessions`).
//!
//! A session already kept to the window is not growing: its last turn
//! sends no more (within 5%) than its first with `window` − 1 earlier turns
//! at the growth of its first steps.
//!
//! The saving of a session of n turns growing by g tokens a turn is
//! g × (n−N)(n−N+1)/2 tokens (the history beyond the window, turn by turn),
//! priced at the session's own average input rate.

use tokenaudit_core::Money;

use crate::coverage::{derived, estimated, inputs, logged, Input, Via};
use crate::detect::{round_to, rule_options, scope, Confidence, Context, Finding};
use crate::finding::Lever;
use crate::infer::sessions::each_session;
use crate::infer::timeline::Grouping;
use crate::observe::SessionObs;

/// What the rule reads (see `tokenaudit rules` and the report's rule
/// coverage).
pub const INPUTS: &[Input] = &[
    Input {
        name: "session",
        required: true,
        sources: &[
            logged(Via::SessionTurn, "a `session_id` with a `turn`"),
            logged(Via::Session, "a `session_id`"),
            estimated(
                Via::SessionByGap,
                "a `user`, cut into sessions at pauses longer than `session_gap_minutes` and at midnight UTC",
            ),
        ],
    },
    Input {
        name: "turn",
        required: true,
        sources: &[
            logged(Via::SessionTurn, "a `turn` number"),
            derived(Via::TurnFromMessages, "the user messages in `messages`"),
            derived(
                Via::TurnFromOrder,
                "time order (`timestamp`), retries folded in",
            ),
        ],
    },
    inputs::PRICED,
];

rule_options! {
    /// turns kept by the sliding window
    window: u64 = 6,
    /// shortest session considered
    min_turns: u64 = 4,
    /// input tokens per turn a session must grow by
    min_growth: f64 = 100.0,
    /// fewest growing sessions for a finding
    min_sessions: u64 = 5,
    /// pause that ends a session cut from a user's calls
    session_gap_minutes: f64 = 30.0,
    /// share of turn-to-turn steps an inferred session must grow at
    min_growing_share: f64 = 0.75,
    /// cached share of the input above which the history is left alone
    max_cached_share: f64 = 0.5,
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
    /// Growing sessions whose turns (or the sessions themselves) were
    /// inferred, and whether any of them stands for several (a sample).
    inferred_turns: u64,
    inferred_sessions: u64,
    sampled: bool,
}

impl PerCell {
    /// Adds one session standing for `scale` sessions.
    fn add(&mut self, s: &SessionObs, scale: u64, o: &Options, window: f64) {
        let w = scale as f64;
        self.sessions += scale;
        // Turns are stored as logged + 1 (see accumulate). A session whose
        // first logged turn is 0 counts from 0; otherwise turns count from
        // 1. Inferred turns are the turns themselves (hunt83: an export
        // that starts at a conversation's turn 4 lost one of its 13 turns,
        // as did a session whose first call was refused).
        let turns = if s.inferred.is_some() || s.first_turn == 1 {
            s.max_turn
        } else {
            s.max_turn.saturating_sub(1)
        } as f64;
        let slope = s.slope();
        if s.calls < o.min_turns || slope < o.min_growth {
            return;
        }
        // A history already kept to the window saves nothing (hunt92:
        // sessions sending their last 5 turns, flat from turn 6, were told
        // to send the last 6, $13.24 a month); one that flattens later (at
        // a model's context limit, a regenerated last turn) still does
        // (hunt95).
        if s.windowed(window) {
            return;
        }
        if s.inferred.is_some()
            && (s.steps == 0 || f64::from(s.grew) < o.min_growing_share * f64::from(s.steps))
        {
            return;
        }
        self.growing += scale;
        self.sampled |= scale > 1;
        if let Some((_, by_gap)) = s.inferred {
            self.inferred_turns += scale;
            self.inferred_sessions += u64::from(by_gap) * scale;
        }
        self.turns += s.calls * scale;
        self.slope_sum += slope * w;
        self.max_turn = self.max_turn.max(turns as u32);
        if turns > window {
            let beyond = turns - window;
            let tokens = slope * beyond * (beyond + 1.0) / 2.0;
            let tokens = tokens.min(s.input as f64);
            self.saved_tokens += tokens * w;
            if s.input > 0 {
                self.saved += s.input_cost.picos() as f64 * tokens / s.input as f64 * w;
            }
            if self.ids.len() < 3 {
                if let Some(id) = &s.request_id {
                    self.ids.push(id.to_string());
                }
            }
        }
    }
}

pub fn check(ctx: &Context<'_>, o: &Options, out: &mut Vec<Finding>) {
    let window = o.window.max(1) as f64;
    let mut per: std::collections::BTreeMap<u64, PerCell> = Default::default();
    let scale = ctx.keyed.sessions.scale();
    for (_, s) in ctx.keyed.sessions.sorted() {
        per.entry(s.cell).or_default().add(s, scale, o, window);
    }
    // Sessions without turn numbers: turns (and, without a session id,
    // the sessions) inferred from the calls in time order.
    let gap_ms = (o.session_gap_minutes * 60_000.0) as i64;
    let scale = ctx.keyed.timelines.scale();
    let mut long = Vec::new();
    for (key, t) in ctx.keyed.timelines.iter() {
        if (t.calls.len() as u64) < o.min_turns {
            // No session of it can be long enough to count as growing:
            // only counted (most timelines are a call or two).
            let cuts = if t.grouping == Grouping::UserDay {
                t.calls
                    .windows(2)
                    .filter(|w| w[1].millis - w[0].millis > gap_ms)
                    .count() as u64
            } else {
                0
            };
            per.entry(t.cell).or_default().sessions += (1 + cuts) * scale;
        } else {
            long.push((key, t));
        }
    }
    // In key order: the sums below are of floats, and the sample ids the
    // first ones met.
    long.sort_unstable_by_key(|(key, _)| *key);
    let mut turns = Vec::new();
    for (_, t) in long {
        let by_gap = t.grouping == Grouping::UserDay;
        let cell = per.entry(t.cell).or_default();
        each_session(t.calls, by_gap.then_some(gap_ms), &mut turns, |session| {
            let mut s = SessionObs {
                inferred: Some((session.source, by_gap)),
                ..SessionObs::default()
            };
            (s.grew, s.steps) = session.growth_steps();
            // A call without input tokens (a failure refused before the
            // prompt was read: a 429) holds no history: no point of the fit
            // (hunt83: a turn's two 429s took the slope from 500 to 145
            // tokens a turn). It keeps its place in the numbering, as a
            // logged turn does.
            for (c, turn) in session.calls.iter().zip(session.turns) {
                if c.holds_no_history() {
                    continue;
                }
                s.add_turn(
                    t.cell,
                    *turn,
                    c.input,
                    Money::from_picos(c.input_cost as i128),
                    // The session's cost is not read here.
                    Money::ZERO,
                );
            }
            cell.add(&s, scale, o, window);
        });
    }
    for (key, p) in per {
        let Some(cell) = ctx.cell(key) else { continue };
        if p.growing < o.min_sessions {
            continue;
        }
        // A history the provider's prompt cache already serves (most of the
        // input read from it) costs a tenth of its tokens; a sliding window
        // would change the prompt's start every turn and lose those hits,
        // so trimming would cost more, not less.
        let (cached, total) = ctx.groups_of(cell.key).fold((0u64, 0u64), |(c, t), g| {
            (c + g.usage.cached_read, t + g.usage.input)
        });
        if total > 0 && cached as f64 / total as f64 > o.max_cached_share {
            continue;
        }
        let observed = Money::from_picos(p.saved.round() as i128);
        let cell_input = cell.obs.input.sum() as f64;
        let fraction = if cell_input > 0.0 {
            (p.saved_tokens / cell_input).min(1.0)
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
        .with("sessions", p.sessions)
        .with("growing_sessions", p.growing)
        .with("mean_turns", round_to(p.turns as f64 / p.growing as f64, 1))
        .with("max_turn", p.max_turn)
        .with(
            "mean_growth_tokens_per_turn",
            round_to(p.slope_sum / p.growing as f64, 1),
        )
        .with("window_turns", window as u64)
        .with("input_tokens_saved", p.saved_tokens.round() as u64)
        .with("input_share_saved", round_to(fraction, 4));
        if p.inferred_turns > 0 {
            f = f
                .with("sessions_with_inferred_turns", p.inferred_turns)
                .with("sessions_cut_by_inactivity", p.inferred_sessions);
        }
        let mut ids = p.ids;
        ids.sort();
        f.sample_requests = ids;
        f.confidence = if p.sampled || p.inferred_sessions > 0 {
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
