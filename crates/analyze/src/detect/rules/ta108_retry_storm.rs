//! ## What it finds
//! Retry chains — the same prompt from the same user and feature sent again
//! after a failure, or calls marked as retries (`attempt` > 1, `retry_of`) —
//! and among them *storms*: chains of at least `storm_attempts` attempts
//! whose attempts come faster than any backoff (median gap under
//! `storm_gap_ms`) and whose waits do not grow: waits (the gaps less
//! each failed attempt's logged latency) that start at 300 ms or more and
//! grow by 1.3 times each are an exponential backoff, as the OpenAI SDK's
//! default of 0.5 s then 1 s with jitter, and no storm; without the
//! failures' latency, only in a chain of three attempts at the most (gaps
//! that grow may be failures answered slower and slower). *Fallbacks* are
//! chains that moved to another model.
//! Chains without storms but with fallbacks are an info finding, unless
//! they already back off (a median gap of at least `storm_gap_ms`) and
//! stop by their third attempt.
//! A chain ends at its first success, or when no attempt follows within
//! `retry_window_ms`: the same prompt asked again later is a new request,
//! not one of its attempts.
//!
//! ## Why it costs money
//! Every failed attempt that processed input is billed. Retrying at once
//! into a rate limit or an overloaded model multiplies the failures: a
//! six-attempt storm pays for five failed calls and makes the outage worse
//! for everyone sharing the quota.
//!
//! ## Example
//! `code-review`: 410 retry chains, 160 of them storms of 3–6 attempts 200 ms
//! apart after 429s; the failed attempts of the storms cost $96.
//!
//! ## How to fix
//! Exponential backoff with jitter, honour `retry-after`, cap attempts at 3,
//! and use a circuit breaker; fall back to another model only after backing
//! off.
//!
//! ## Options
//! - `storm_attempts` (3): fewest attempts in a storm.
//! - `storm_gap_ms` (1000): median gap between attempts under which the
//!   chain is a storm.
//! - `min_chains` (5): fewest chains for a finding (past 20,000 retried
//!   prompts, kept 1 in `s` by hash, the estimate: a sampled estimate under
//!   it by less than two standard errors keeps an open ticket open, not
//!   reported).
//! - `retry_window_ms` (600000): longest gap between the attempts of one
//!   chain.
//!
//! Without `attempt` or `retry_of`, retries are inferred from the same
//! prompt failing and then being sent again. Which success ends a chain is
//! settled per unit of reading (a 1 MiB chunk of a log, a batch of 8,192
//! rows of a Parquet file, a whole day of the store), and across units
//! from the earliest and latest successes of each that ended no chain
//! within it (16 of a chunk, 1,024 of a day): a retry past those is missed
//! (2% of the chains of a 100 MB Bedrock log whose lines are out of time
//! order; 9 of 28 chains, 32%, lost the success that ended them when one
//! log's lines were split among three files, one per gateway replica, as a
//! load balancer leaves them: hunt57; none of them from the store, whose
//! days are each one unit), but the answer never depends on the number of
//! threads or which one read what. Audit such logs from the store
//! (`tokenaudit ingest`, then `audit --store`) for exact chains. A call without a time joins a
//! chain only by its `attempt` or `retry_of`, and such a chain has no pace:
//! it is never a storm.
//!
//! The saving is the cost of the failed attempts of storms beyond the first
//! (with backoff, the first failure is unavoidable; the rest are not).

use std::collections::BTreeMap;

use tokenaudit_core::Money;

use crate::coverage::{inputs, logged, Input, Via};
use crate::detect::{round_to, rule_options, scope, Confidence, Context, Finding, Held};
use crate::finding::Lever;
use crate::observe::{Attempt, ChainHead, NO_TIME};

/// What the rule reads (see `tokenaudit rules` and the report's rule
/// coverage).
pub const INPUTS: &[Input] = &[
    inputs::PROMPT_FINGERPRINT,
    inputs::FAILURES,
    Input {
        name: "attempt",
        required: false,
        sources: &[logged(
            Via::Attempt,
            "an `attempt` number or a `retry_of` id",
        )],
    },
    inputs::TIMESTAMP_OPTIONAL,
];

rule_options! {
    /// fewest attempts in a storm
    storm_attempts: usize = 3,
    /// median gap between attempts under which a chain is a storm
    storm_gap_ms: i64 = 1000,
    /// fewest chains for a finding
    min_chains: u64 = 5,
    /// longest gap between attempts of a chain (later, the prompt is a new request)
    retry_window_ms: i64 = 600_000,
}

#[derive(Default)]
struct PerFeature {
    chains: u64,
    storms: u64,
    fallbacks: u64,
    attempts: u64,
    failed_attempts: u64,
    failed_cost: i128,
    storm_waste: i128,
    max_attempts: usize,
    gaps: Vec<i64>,
    ids: Vec<String>,
    /// The chains of each kept prompt, for the sample's error: the prompt
    /// counted last and its chains so far, then [`Held`].
    run: Option<(u64, u64)>,
    error: Held,
}

impl PerFeature {
    /// A chain of the prompt `key` (a prompt's chains come together).
    fn count(&mut self, key: u64) {
        self.chains += 1;
        match &mut self.run {
            Some((k, n)) if *k == key => *n += 1,
            run => {
                if let Some((_, n)) = run.replace((key, 1)) {
                    self.error.add(n, 0);
                }
            }
        }
    }

    /// The last prompt's chains into the error.
    fn settle(&mut self) {
        if let Some((_, n)) = self.run.take() {
            self.error.add(n, 0);
        }
    }
}

/// Splits the attempts seen for one (feature, user, prompt) into chains, in
/// time order. A chain starts at a failure or a marked retry and takes the
/// attempts that follow until its first success, or until the next unmarked
/// attempt comes more than `window` ms after the last; a retry numbered `n > 1`
/// joins the current chain unless the chain already has an attempt `n`
/// (logged times can be out of order within a second), and a failure marked
/// as attempt 1 starts a new chain. A plain success after the chain has
/// succeeded is the prompt asked again, not an attempt: the observations keep
/// every call of a prompt once it has failed, so without this a question
/// repeated hours later would join the chain and hide a storm behind its long
/// gaps.
fn split_chains(attempts: &[Attempt], window: i64) -> Vec<Vec<Attempt>> {
    let mut sorted = attempts.to_vec();
    sorted.sort();
    let mut chains: Vec<Vec<Attempt>> = Vec::new();
    // Whether the current (last) chain has had its success.
    let mut done = true;
    for x in sorted {
        let retry = x.attempt.is_some_and(|n| n > 1);
        let joins = match chains.last() {
            None => false,
            Some(c) if retry => !c.iter().any(|y| y.attempt == x.attempt),
            Some(c)
                if c.last().is_some_and(|y| {
                    y.millis != NO_TIME && x.millis != NO_TIME && x.millis - y.millis > window
                }) =>
            {
                false
            }
            Some(_) => !done && x.attempt != Some(1),
        };
        if joins {
            chains.last_mut().expect("a chain to join").push(x.clone());
            done |= x.ok;
        } else if !x.ok || retry {
            done = x.ok;
            chains.push(vec![x.clone()]);
        }
    }
    chains
}

pub fn check(ctx: &Context<'_>, o: &Options, out: &mut Vec<Finding>) {
    let scale = ctx.keyed.chains.scale();
    let mut per: BTreeMap<&str, PerFeature> = BTreeMap::new();
    // Units of reading (chunks, Parquet batches, days of the store) settle
    // their own chains; a chain whose failure ended a unit finds its
    // success among the heads of the others.
    let mut heads: BTreeMap<u64, Vec<&ChainHead>> = BTreeMap::new();
    for h in &ctx.keyed.heads {
        heads.entry(h.key).or_default().push(h);
    }
    let all: Vec<(u64, Vec<Attempt>)> = ctx
        .keyed
        .chains
        .sorted()
        .into_iter()
        .flat_map(|(key, c)| {
            let mut attempts = c.attempts.clone();
            attempts.extend(heads.get(&key).into_iter().flatten().map(|h| Attempt {
                millis: h.millis,
                ok: true,
                cell: h.cell,
                // A success's cost is no part of what the rule sums.
                cost: 0,
                attempt: None,
                request_id: None,
                latency_ms: None,
            }));
            split_chains(&attempts, o.retry_window_ms)
                .into_iter()
                .map(move |c| (key, c))
        })
        .collect();
    for (key, a) in all {
        // A chain is a failure followed by at least one more attempt, or
        // attempts marked as retries.
        let marked = a.iter().any(|x| x.attempt.is_some_and(|n| n > 1));
        let failed_first = a.first().is_some_and(|x| !x.ok);
        if a.len() < 2 || !(marked || failed_first) {
            continue;
        }
        let Some(cell) = ctx.cell(a[0].cell) else {
            continue;
        };
        let p = per.entry(&cell.feature).or_default();
        p.count(key);
        p.attempts += a.len() as u64;
        p.max_attempts = p.max_attempts.max(a.len());
        // Gaps between timed attempts only: a chain of calls logged without
        // a time (joined by their `attempt` numbers) has no pace to judge.
        // A retry's wait is its gap less the failed attempt's own time,
        // when logged: a gap that grows only with the failures' latency
        // (an overloaded service answering slower) is no backoff (hunt169).
        let (mut gaps, waits): (Vec<i64>, Vec<i64>) = a
            .windows(2)
            .filter(|w| w[0].millis != NO_TIME && w[1].millis != NO_TIME)
            .map(|w| {
                let gap = w[1].millis - w[0].millis;
                (gap, gap - w[0].latency_ms.unwrap_or(0) as i64)
            })
            .unzip();
        // Waits from 300 ms on (the OpenAI SDK's least is 375 ms), each
        // 1.3 times the last or more, are an exponential backoff, what the
        // rule asks for (hunt161: the SDK's default, 0.5 s then 1 s with
        // jitter, was called a storm). Without each failure's latency,
        // growing gaps may be failures answered slower and slower: a
        // backoff only as the SDK's default stops, by the third attempt
        // (hunt171).
        let latencies = a[..a.len() - 1].iter().all(|x| x.latency_ms.is_some());
        let backing_off = waits.len() >= 2
            && (latencies || a.len() <= 3)
            && waits[0] >= 300
            && waits.windows(2).all(|g| g[1] as f64 >= 1.3 * g[0] as f64);
        gaps.sort_unstable();
        let median_gap = gaps.get(gaps.len() / 2).copied();
        p.gaps.extend(median_gap);
        let failed: Vec<_> = a.iter().filter(|x| !x.ok).collect();
        p.failed_attempts += failed.len() as u64;
        p.failed_cost += failed.iter().map(|x| x.cost as i128).sum::<i128>();
        if a.iter().any(|x| x.cell != a[0].cell) {
            p.fallbacks += 1;
        }
        if a.len() >= o.storm_attempts
            && median_gap.is_some_and(|g| g < o.storm_gap_ms)
            && !backing_off
        {
            p.storms += 1;
            p.storm_waste += failed.iter().skip(1).map(|x| x.cost as i128).sum::<i128>();
            if p.ids.len() < 3 {
                if let Some(id) = &a[0].request_id {
                    p.ids.push(id.to_string());
                }
            }
        }
    }
    for (feature, mut p) in per {
        p.settle();
        // The sample's estimate against `min_chains`; under it by less than
        // its error: kept for an open ticket, not reported
        // ([`Finding::hold`]).
        let held = p.chains * scale < o.min_chains;
        if held && !p.error.total_may_reach(scale, o.min_chains as f64) {
            continue;
        }
        let mut gaps = p.gaps.clone();
        gaps.sort_unstable();
        // None when no chain has two timed attempts.
        let median_gap = gaps.get(gaps.len() / 2).copied();
        let saved = Money::from_picos(p.storm_waste * scale as i128);
        let failed_cost: Money = ctx
            .audit
            .dim("feature")
            .iter()
            .find(|r| r.key == feature)
            .map_or(Money::ZERO, |r| r.stats.failed_cost);
        let fraction = if failed_cost > Money::ZERO {
            (saved.picos() as f64 / failed_cost.picos() as f64).min(1.0)
        } else {
            0.0
        };
        let s = scale;
        // Chains that already back off (their median gap is no storm's)
        // and stop by the third attempt, whatever model they end on: what
        // the recommendation asks (hunt92: an info ticket told a team that
        // waits 4 s and falls back once to do so).
        let backs_off = p.max_attempts <= 3 && median_gap.is_some_and(|g| g >= o.storm_gap_ms);
        let mut f = Finding::new(
            if p.storms > 0 {
                format!(
                    "{feature}: {} retry storms ({} chains, up to {} attempts, median gap {} ms)",
                    p.storms * s,
                    p.chains * s,
                    p.max_attempts,
                    median_gap.unwrap_or(0)
                )
            } else {
                format!("{feature}: {} retry chains", p.chains * s)
            },
            scope([("feature", feature)]),
        )
        .with("chains", p.chains * s)
        .with("storms", p.storms * s)
        .with("fallback_chains", p.fallbacks * s)
        .with("attempts", p.attempts * s)
        .with(
            "mean_attempts",
            round_to(p.attempts as f64 / p.chains as f64, 2),
        )
        .with("max_attempts", p.max_attempts)
        .with("failed_attempts", p.failed_attempts * s)
        .with(
            "failed_attempts_cost",
            Money::from_picos(p.failed_cost * s as i128).to_decimal_string(),
        )
        .with("median_gap_ms", median_gap);
        if held {
            f = f.with("chains_standard_error", round_to(p.error.total_error(s), 1));
        }
        let mut ids = p.ids;
        ids.sort();
        f.sample_requests = ids;
        f.confidence = if s > 1 {
            Confidence::Low
        } else {
            Confidence::Medium
        };
        f.recommendation = format!(
            "Retry {feature}'s calls with exponential backoff and jitter, honour retry-after, and cap attempts at 3{}.",
            if p.fallbacks > 0 {
                "; fall back to another model only after backing off"
            } else {
                ""
            }
        );
        let lever = (fraction > 0.0).then(|| Lever::AvoidFailures {
            feature: feature.to_string(),
            model: None,
            fraction,
        });
        if saved > Money::ZERO {
            let worth = f.set_savings(
                ctx,
                saved,
                "the failed attempts of storms after the first, at their logged usage",
                lever,
            );
            if held {
                f.hold(ctx, worth);
            } else if worth {
                out.push(f);
            }
        } else if p.storms > 0 || (p.fallbacks > 0 && !backs_off) {
            f.severity = crate::detect::Severity::Info;
            if held {
                f.hold(ctx, true);
            } else {
                out.push(f);
            }
        }
    }
}
