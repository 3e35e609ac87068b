//! ## What it finds
//! Traffic nobody waits for, paid at real-time prices: per (feature, model),
//! calls tagged as not user-facing (`user_facing=false`, `interactive=false`,
//! `background=true`), or — when untagged — calls that arrive in a narrow
//! daily burst (at least `burst_share` of them within `burst_hours`
//! consecutive hours), sent to a model that has a batch price but not
//! through the batch API.
//!
//! ## Why it costs money
//! OpenAI's, Anthropic's and Google's batch APIs charge half price for work
//! finished within 24 hours. Nightly summaries, evaluations, backfills and
//! enrichment jobs rarely need an answer within seconds.
//!
//! ## Example
//! `nightly-summaries × gemini-2.5-flash`: 100% of calls tagged
//! `user_facing=false`, 97% between 02:00 and 03:00 UTC; batch pricing saves
//! $22 a month.
//!
//! ## How to fix
//! Submit the job through the provider's batch API (or flex / service tier),
//! and collect results when they are ready.
//!
//! ## Options
//! - `burst_share` (0.8): share of untagged calls within the burst window.
//! - `burst_hours` (3): width of the burst window, in hours.
//! - `min_calls` (50): fewest calls.
//! - `max_conversation_share` (0.2): an untagged burst of which this share
//!   of calls or more are later turns of conversations (a logged turn of 2
//!   or more, two or more user messages in the logged `messages`, or a
//!   logged session's calls after its first: an agent's tool loop) is
//!   people talking with the model at their hour, not a job.
//!
//! The saving re-prices the cell's real-time tokens at the model's batch
//! rates. An untagged burst is said as what it may be, at low confidence:
//! the hour alone does not tell a nightly job from people at work. It
//! counts only when the cell's calls fall on two UTC days (three, or two
//! apart, when the burst runs across midnight: one night's run falls on
//! two days) and the audit's calls span 20 hours or more, first to last:
//! a log of a few hours has all its calls within any window as wide, and
//! one day shows no daily habit (a day's log is audited with the days
//! before it to see one).

use tokenaudit_core::pricing::Processing;
use tokenaudit_core::Money;

use crate::audit::GroupRow;
use crate::coverage::{inputs, logged, Input, Via};
use crate::detect::{round_to, rule_options, scope, Confidence, Context, Finding};
use crate::finding::Lever;

/// What the rule reads (see `tokenaudit rules` and the report's rule
/// coverage).
pub const INPUTS: &[Input] = &[
    Input {
        name: "background signal",
        required: true,
        sources: &[
            logged(
                Via::UserFacingTag,
                "a `user_facing`, `interactive` or `background` tag",
            ),
            logged(Via::Timestamp, "a `timestamp` (nightly bursts)"),
        ],
    },
    inputs::PRICED,
];

rule_options! {
    /// share of untagged calls within the burst window
    burst_share: f64 = 0.8,
    /// width of the burst window in hours
    burst_hours: usize = 3,
    /// fewest calls
    min_calls: u64 = 50,
    /// share of later conversation turns that makes an untagged burst interactive
    max_conversation_share: f64 = 0.2,
}

/// The densest window of `width` consecutive hours (wrapping midnight):
/// (first hour, calls in it).
pub fn densest_window(hours: &[u64; 24], width: usize) -> (usize, u64) {
    let width = width.clamp(1, 24);
    (0..24)
        .map(|start| {
            (
                start,
                (0..width).map(|k| hours[(start + k) % 24]).sum::<u64>(),
            )
        })
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .unwrap_or((0, 0))
}

/// The least span of calls, first to last, that shows a burst is daily:
/// the calls of a log (or a `--since`/`--until` window) of a few hours all
/// fall within any window as wide, across midnight or not (hunt49,
/// hunt51); a day's log file spans nearly 24 hours.
const DAY_SPAN_HOURS: i64 = 20;

pub fn check(ctx: &Context<'_>, o: &Options, out: &mut Vec<Finding>) {
    let whole_day = match (ctx.audit.first_call, ctx.audit.last_call) {
        (Some(a), Some(b)) => b - a >= chrono::Duration::hours(DAY_SPAN_HOURS),
        _ => false,
    };
    // Per cell, the calls of logged sessions after each session's first:
    // steps of a conversation or an agent's tool loop, each waiting on the
    // one before (hunt97: Claude Code's and Codex's sessions, which carry
    // neither a turn nor the user messages, were "background work" worth
    // $77.90 a month of batch pricing).
    let mut later: std::collections::HashMap<u64, u64> = std::collections::HashMap::new();
    let scale = ctx.keyed.sessions.scale();
    for (_, s) in ctx.keyed.sessions.sorted() {
        *later.entry(s.cell).or_default() += s.calls.saturating_sub(1) * scale;
    }
    let scale = ctx.keyed.timelines.scale();
    for (_, t) in ctx.keyed.timelines.iter() {
        if t.grouping == crate::infer::timeline::Grouping::Session {
            *later.entry(t.cell).or_default() += t.seen.saturating_sub(1) * scale;
        }
    }
    for cell in ctx.cells {
        let Some(id) = cell.resolved else { continue };
        if ctx.catalog.model(id).batch_multiplier.is_none() {
            continue;
        }
        let obs = &cell.obs;
        let calls = obs.output.count();
        if calls < o.min_calls || obs.batch_calls >= calls {
            continue;
        }
        let tagged = obs.user_facing + obs.not_user_facing;
        let by_tag =
            tagged > 0 && obs.not_user_facing as f64 >= 0.9 * tagged as f64 && obs.user_facing == 0;
        let width = o.burst_hours;
        let (start, in_window) = densest_window(&obs.hours, width);
        let timed: u64 = obs.hours.iter().sum();
        let burst_share = if timed > 0 {
            in_window as f64 / timed as f64
        } else {
            0.0
        };
        // A burst of calls that are later turns of conversations is people
        // talking with the model at their hour (a region's working day), not
        // a job: the time of day alone does not make it background.
        let conversation_calls = obs
            .conversation_calls
            .max(later.get(&cell.key).copied().unwrap_or(0));
        let conversing = conversation_calls as f64 >= o.max_conversation_share * calls as f64;
        // A daily burst is seen on two days (hunt52: one morning's calls
        // in a longer log are no daily burst), in an audit of 20 hours or
        // more (hunt51: three hours across midnight fall on two days). A
        // burst whose calls run across midnight falls on two days in one
        // night, so it needs two days that are not one night's (stop 39:
        // one run from 22:30 to 01:27 in a three-day log).
        let two_days = || {
            let mut days: Vec<_> = ctx.groups_of(cell.key).filter_map(|g| g.day).collect();
            days.sort_unstable();
            days.dedup();
            let crossing = start + width > 24
                && (start..24).any(|h| obs.hours[h] > 0)
                && (0..(start + width) % 24).any(|h| obs.hours[h] > 0);
            match days.as_slice() {
                [] | [_] => false,
                [a, b] if crossing => *b - *a > chrono::Duration::days(1),
                _ => true,
            }
        };
        let by_burst = tagged == 0
            && timed > 0
            && burst_share >= o.burst_share
            && !conversing
            && whole_day
            && two_days();
        if !(by_tag || by_burst) {
            continue;
        }
        // Tagged background calls beside calls with no tag: only the
        // tagged ones are batched (hunt173: the untagged daytime calls of
        // the same feature were batched too, the saving 4.3x), group by
        // group as the waterfall's step re-prices them.
        // (Their share of the cost: hunt178, of the calls made the
        // saving of long nightly answers 40% low.)
        let untagged = calls.saturating_sub(tagged);
        let spend: Money = ctx.groups_of(cell.key).map(|g| g.stats.cost).sum();
        let share = (by_tag && untagged > 0 && spend > Money::ZERO)
            .then(|| (obs.background.cost.to_f64() / spend.to_f64()).clamp(0.0, 1.0));
        let (mut before, mut after) = (Money::ZERO, Money::ZERO);
        // Calls already batch- or flex-priced save nothing more, and
        // priority calls asked to be fast.
        let standard = |g: &&GroupRow| g.processing() == Processing::Standard;
        // What the calls cost (their long-context tiers and dated prices
        // with them), less what batching takes off, as `whatif --batch`
        // re-prices them (hunt116: at base rates, a cell of long requests
        // was said to cost $44.80 for its $80.50, and to save $22.40 for
        // $40.25).
        for g in ctx.groups_of(cell.key).filter(standard) {
            let (old, new) = crate::tiers::tiered(
                ctx.catalog,
                g.day,
                (id, &g.usage, g.how(), g.stats.cost),
                (id, &g.usage, g.how().with(Processing::Batch)),
                Some(&cell.obs.input),
                1.0,
            );
            let saved = share.map_or(old - new, |s| (old - new).scale(s));
            before += g.stats.cost;
            after += (g.stats.cost - saved).max(Money::ZERO);
        }
        let model = ctx.model_name(cell);
        // The hours of the window that have calls: a burst within one hour
        // is said as that hour, not as the whole window, in the title and
        // the evidence alike.
        let width = width.clamp(1, 24);
        let busy: Vec<usize> = (0..width)
            .map(|k| (start + k) % 24)
            .filter(|&h| obs.hours[h] > 0)
            .collect();
        let (first, last) = (
            busy.first().copied().unwrap_or(start),
            busy.last().copied().unwrap_or((start + width - 1) % 24),
        );
        let reason = if by_tag {
            let left = if share.is_some() {
                format!("; {untagged} calls without the tag left as they are")
            } else {
                String::new()
            };
            format!(
                "{} of {} tagged calls not user-facing{left}",
                obs.not_user_facing, tagged
            )
        } else {
            format!(
                "{:.0}% of calls between {:02}:00 and {:02}:00 UTC",
                burst_share * 100.0,
                first,
                (last + 1) % 24
            )
        };
        // The time of day alone suggests a job; only a tag says nobody waits.
        let title = if by_tag {
            format!(
                "{}: background traffic on {} paid at real-time prices ({reason})",
                cell.feature, model
            )
        } else {
            format!(
                "{}: calls on {} come in a daily burst and may be background work paid at real-time prices ({reason}; no user_facing tag says)",
                cell.feature, model
            )
        };
        let mut f = Finding::new(
            title,
            scope([("feature", &cell.feature), ("model", &cell.model)]),
        )
        .with("calls", calls)
        .with("not_user_facing_calls", obs.not_user_facing)
        .with("user_facing_calls", obs.user_facing)
        .with("burst_start_hour_utc", first)
        .with("burst_share", round_to(burst_share, 4))
        .with(
            "batch_multiplier",
            ctx.catalog
                .model(id)
                .batch_multiplier
                .map_or(String::new(), |m| m.to_string()),
        )
        .with("realtime_cost", before.to_decimal_string())
        .with("batch_cost", after.to_decimal_string());
        f.confidence = if by_tag {
            Confidence::High
        } else {
            Confidence::Low
        };
        f.recommendation = if by_tag {
            format!(
                "Send {}'s {}calls through {}'s batch API and collect the results when ready.",
                cell.feature,
                if share.is_some() { "background " } else { "" },
                ctx.catalog.model(id).provider
            )
        } else {
            format!(
                "If nobody waits for {}'s answers (a scheduled job, not people at work), send its calls through {}'s batch API; tag calls with user_facing to tell.",
                cell.feature,
                ctx.catalog.model(id).provider
            )
        };
        let lever = Lever::Batch {
            feature: cell.feature.to_string(),
            model: Some(cell.model.to_string()),
            standard_only: true,
            share,
        };
        if f.set_savings(
            ctx,
            before - after,
            "the cell's real-time tokens re-priced at the model's batch rates",
            Some(lever),
        ) {
            out.push(f);
        }
    }
}
