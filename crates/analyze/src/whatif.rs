//! What-if re-pricing of the actual traffic, and the savings waterfall.
//!
//! A [`Lever`] is one change to how a feature's traffic is served: route it
//! to another model, cache its prompts, trim its context, send it through a
//! batch API, cap its output, stop wasting failed calls. [`reprice`] applies
//! a set of levers to every attribution group they touch and prices the
//! result; groups no lever touches keep their exact cost. The detectors
//! attach a lever to each finding whose saving they estimate, and the
//! [`Waterfall`] applies the findings' levers in a fixed order (routing →
//! caching → context → batch → retries and output), each step re-pricing
//! with every lever so far, so a step's saving is what it saves on what the
//! steps before it left: overlapping savings are never counted twice, and the
//! total is exactly the what-if re-pricing of all the levers together.
//!
//! Re-pricing works on summed usage: the share of a group's traffic in
//! requests past a model's long-context threshold (told by its exact cost
//! on its own model, moved to another model's threshold by the feature's
//! histogram of request sizes) is priced at that tier's rates, the rest at
//! base rates (see `tiered`); the change is taken as a difference of those
//! prices and applied to the group's exact cost.

use std::collections::BTreeMap;

use serde::Serialize;

use tokenaudit_core::pricing::{Catalog, How, ModelId, Processing};
use tokenaudit_core::{Money, Usage};

use crate::accumulate::Cell;
use crate::audit::GroupRow;
// The lever and waterfall types live in the leaf module `finding`.
pub use crate::finding::{Category, Lever, Step, Waterfall};
use crate::finding::{Finding, MONTH_DAYS};

/// Whether `lever` changes group `g`'s traffic.
fn applies_to(lever: &Lever, g: &GroupRow) -> bool {
    let (feature, model) = lever.scope();
    let days = match lever {
        Lever::PromptCache { days, .. } if !days.is_empty() => {
            g.day.is_some_and(|d| days.binary_search(&d).is_ok())
        }
        _ => true,
    };
    feature == g.feature && model.is_none_or(|m| m == g.model) && days
}

/// Usage with fractional token counts while levers are applied.
#[derive(Clone, Copy, Debug, Default)]
struct Tokens {
    uncached: f64,
    cached: f64,
    write_5m: f64,
    write_1h: f64,
    visible_out: f64,
    reasoning: f64,
    /// Of `uncached`, `cached` and `visible_out`, the audio tokens (at
    /// their own rates), moved and scaled with them.
    audio_in: f64,
    audio_cached: f64,
    audio_out: f64,
    /// Web searches, avoided with the calls (failures, cached responses).
    web_searches: f64,
}

impl Tokens {
    fn of(u: &Usage) -> Tokens {
        let w1h = u.cache_write_1h.min(u.cache_write);
        Tokens {
            uncached: u.uncached_input() as f64,
            cached: u.cached_read as f64,
            write_5m: (u.cache_write - w1h) as f64,
            write_1h: w1h as f64,
            visible_out: u.visible_output() as f64,
            reasoning: u.reasoning.min(u.output) as f64,
            audio_in: u.uncached_audio() as f64,
            audio_cached: u.cached_audio_read() as f64,
            audio_out: u.visible_audio_output() as f64,
            web_searches: u.web_searches as f64,
        }
    }

    fn minus(self, o: Tokens, f: f64) -> Tokens {
        Tokens {
            uncached: (self.uncached - o.uncached * f).max(0.0),
            cached: (self.cached - o.cached * f).max(0.0),
            write_5m: (self.write_5m - o.write_5m * f).max(0.0),
            write_1h: (self.write_1h - o.write_1h * f).max(0.0),
            visible_out: (self.visible_out - o.visible_out * f).max(0.0),
            reasoning: (self.reasoning - o.reasoning * f).max(0.0),
            audio_in: (self.audio_in - o.audio_in * f).max(0.0),
            audio_cached: (self.audio_cached - o.audio_cached * f).max(0.0),
            audio_out: (self.audio_out - o.audio_out * f).max(0.0),
            web_searches: (self.web_searches - o.web_searches * f).max(0.0),
        }
    }

    fn scale_input(&mut self, f: f64) {
        self.uncached *= f;
        self.cached *= f;
        self.write_5m *= f;
        self.write_1h *= f;
        self.audio_in *= f;
        self.audio_cached *= f;
    }

    fn scale_output(&mut self, f: f64) {
        self.visible_out *= f;
        self.reasoning *= f;
        self.audio_out *= f;
    }

    fn input(&self) -> f64 {
        self.uncached + self.cached + self.write_5m + self.write_1h
    }

    fn usage(&self) -> Usage {
        let r = |x: f64| x.round().max(0.0) as u64;
        let (uncached, cached, w5, w1) = (
            r(self.uncached),
            r(self.cached),
            r(self.write_5m),
            r(self.write_1h),
        );
        let (vis, reasoning) = (r(self.visible_out), r(self.reasoning));
        let audio_cached = r(self.audio_cached).min(cached);
        Usage {
            input: uncached + cached + w5 + w1,
            cached_read: cached,
            cache_write: w5 + w1,
            cache_write_1h: w1,
            output: vis + reasoning,
            reasoning,
            input_audio: r(self.audio_in).min(uncached) + audio_cached,
            cached_audio: audio_cached,
            output_audio: r(self.audio_out).min(vis),
            web_searches: r(self.web_searches),
        }
    }
}

/// Before and after of one feature.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FeatureDelta {
    pub feature: String,
    pub before: Money,
    pub after: Money,
}

/// The result of re-pricing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Repriced {
    pub before: Money,
    pub after: Money,
    /// Features a lever touched, most saved first.
    pub features: Vec<FeatureDelta>,
    /// Levers that could not be applied, with why.
    pub notes: Vec<String>,
}

/// Adds a note unless it is there already (one per model or feature, not
/// per group).
fn note_once(notes: &mut Vec<String>, note: String) {
    if !notes.contains(&note) {
        notes.push(note);
    }
}

/// Re-prices the traffic under `levers`. See the module docs.
pub fn reprice(
    catalog: &Catalog,
    groups: &[GroupRow],
    cells: &[Cell],
    levers: &[Lever],
) -> Repriced {
    let mut notes = Vec::new();
    let mut targets: BTreeMap<&str, Option<ModelId>> = BTreeMap::new();
    for l in levers {
        if let Lever::Route { to, .. } = l {
            let id = resolve_label(catalog, to);
            if id.is_none() {
                notes.push(format!(
                    "route to {to}: not a model in the price catalog; ignored"
                ));
            }
            targets.insert(to, id);
        }
    }
    let mut per_feature: BTreeMap<&str, (Money, Money)> = BTreeMap::new();
    let (mut before, mut after) = (Money::ZERO, Money::ZERO);
    for g in groups {
        let cost = g.stats.cost;
        before += cost;
        let mine: Vec<&Lever> = levers.iter().filter(|l| applies_to(l, g)).collect();
        let Some(id) = g.resolved.filter(|_| !mine.is_empty()) else {
            // Calls of a model the catalog does not know: no change can be
            // priced on them, which is said (hunt61: a bare +0.0%).
            if !mine.is_empty() && g.stats.unpriced_calls > 0 {
                let note = format!(
                    "{}: calls of a model not in the price catalog ({}) are not priced, and the change is not priced on them",
                    g.feature, g.model
                );
                note_once(&mut notes, note);
            }
            after += cost;
            continue;
        };
        let cell = cells.iter().find(|c| c.key == g.cell);
        let orig = Tokens::of(&g.usage);
        let mut t = orig;
        let (mut model, mut how) = (id, g.how());
        // A fixed order of application; the result depends only on the set.
        // Overlapping estimates of the same failures: the largest wins.
        let avoid = mine
            .iter()
            .filter_map(|l| match l {
                Lever::AvoidFailures { fraction, .. } => Some(fraction.clamp(0.0, 1.0)),
                _ => None,
            })
            .fold(0.0, f64::max);
        if avoid > 0.0 {
            t = t.minus(Tokens::of(&g.failed), avoid);
        }
        // Response caches: each rate is a share of the group's whole
        // traffic, and the detectors' answer different calls (TA110 leaves
        // TA109's exact repeats out), so their rates add, up to all of it
        // (hunt61: compounded, TA110's saving was taken of what TA109 left).
        let answered = mine
            .iter()
            .filter_map(|l| match l {
                Lever::ResponseCache { hit_rate, .. } => Some(hit_rate.clamp(0.0, 1.0)),
                _ => None,
            })
            .sum::<f64>()
            .min(1.0);
        if answered > 0.0 {
            let keep = 1.0 - answered;
            t.scale_input(keep);
            t.scale_output(keep);
            t.web_searches *= keep;
        }
        for l in &mine {
            if let Lever::TrimInput { fraction, .. } = l {
                t.scale_input(1.0 - fraction.clamp(0.0, 1.0));
            }
        }
        // Overlapping prompt-cache levers: the largest share wins, with its
        // writes.
        let cache = mine
            .iter()
            .filter_map(|l| match l {
                Lever::PromptCache {
                    share,
                    write_share,
                    write_1h,
                    ..
                } => Some((
                    share.clamp(0.0, 1.0),
                    write_share.clamp(0.0, 1.0),
                    *write_1h,
                )),
                _ => None,
            })
            .fold(None, |a: Option<(f64, f64, bool)>, l| match a {
                Some(a) if a.0 >= l.0 => Some(a),
                _ => Some(l),
            });
        if let Some((share, write_share, write_1h)) = cache {
            let input = t.input();
            let want = share * input;
            // Audio leaves the uncached input in proportion.
            let audio_share = |t: &Tokens| {
                if t.uncached > 0.0 {
                    t.audio_in / t.uncached
                } else {
                    0.0
                }
            };
            // Logged cache writes past the lever's own are a prefix written
            // again and again (a lifetime shorter than the gaps between
            // calls, a prefix that changed): they are read instead, first.
            let keep_writes = write_share * input;
            let writes = t.write_5m + t.write_1h;
            let from_writes = (want - t.cached).min(writes - keep_writes).max(0.0);
            if from_writes > 0.0 {
                let of_1h = from_writes * t.write_1h / writes;
                t.write_1h -= of_1h;
                t.write_5m -= from_writes - of_1h;
                t.cached += from_writes;
            }
            if t.cached < want {
                let moved = (want - t.cached).min(t.uncached);
                let audio = moved * audio_share(&t);
                t.audio_in -= audio;
                t.audio_cached += audio;
                t.uncached -= moved;
                t.cached += moved;
            }
            // The writes kept are at the lever's lifetime.
            if write_1h {
                let shift = t.write_5m.min((keep_writes - t.write_1h).max(0.0));
                t.write_5m -= shift;
                t.write_1h += shift;
            }
            // The lever's writes, less those the log already has.
            let written = (keep_writes - (t.write_5m + t.write_1h))
                .max(0.0)
                .min(t.uncached);
            t.audio_in -= written * audio_share(&t);
            t.uncached -= written;
            if write_1h {
                t.write_1h += written;
            } else {
                t.write_5m += written;
            }
        }
        let cap = mine
            .iter()
            .filter_map(|l| match l {
                Lever::MaxOutput {
                    tokens, unset_only, ..
                } => Some((*tokens, *unset_only)),
                _ => None,
            })
            .min();
        if let (Some((cap, unset_only)), Some(cell)) = (cap, cell) {
            let total = cell.obs.output.sum() as f64;
            if total > 0.0 {
                // A finding's cap is for the calls sent without a limit of
                // their own (hunt151: 40 calls that set `max_tokens: 4000`
                // cut to the others' p95, the step 7.7× its finding).
                let answers = if unset_only {
                    &cell.obs.no_max_output
                } else {
                    &cell.obs.output
                };
                let (_, excess) = answers.excess_over(cap);
                t.scale_output(1.0 - (excess as f64 / total).clamp(0.0, 1.0));
            }
        }
        // The share of the calls a batch lever sends (all, unless it says).
        let mut batch_share = 1.0;
        for l in &mine {
            match l {
                Lever::Route { to, .. } => {
                    if let Some(Some(to)) = targets.get(to.as_str()) {
                        model = *to;
                    }
                }
                // A finding's batch is for the calls at standard rates
                // (hunt151: priority calls batched, the step 2.25× its
                // finding); `whatif --batch` moves them all.
                Lever::Batch {
                    standard_only,
                    share,
                    ..
                } if !standard_only || g.how().processing == Processing::Standard => {
                    how = how.with(Processing::Batch);
                    batch_share = share.map_or(1.0, |s| s.clamp(0.0, 1.0));
                }
                _ => {}
            }
        }
        // Batch calls of a model with no batch price are at its normal
        // rates: such a lever saves nothing, which is said (hunt63), as for
        // the cache below.
        let batching = mine.iter().any(|l| matches!(l, Lever::Batch { .. }));
        if batching && catalog.model(model).batch_multiplier.is_none() {
            let m = catalog.model(model);
            let note = format!(
                "{}/{}: no batch price in the catalog; batch calls on it are priced at its normal rates and save nothing (a --prices file can give its batch_multiplier)",
                m.provider, m.id
            );
            note_once(&mut notes, note);
        }
        // Cached reads of a model that prices none are at its input rate:
        // such a lever saves nothing, which is said.
        if cache.is_some() && catalog.period(model, g.day).rates.cached_read.is_none() {
            let m = catalog.model(model);
            let note = format!(
                "{}/{}: no cached-read price in the catalog; prompt-cache hits on it are priced at its input rate and save nothing",
                m.provider, m.id
            );
            note_once(&mut notes, note);
        }
        // Each request's input shrinks with a trim, by this factor. Calls
        // avoided or answered by a cache leave the others' sizes as they
        // were (hunt173: 429s of no tokens avoided made the average request
        // of the rest 1.6× larger, past Sonnet 4.5's 200k tier: a step of
        // −$45.75 on a $51 log).
        let scale: f64 = mine
            .iter()
            .filter_map(|l| match l {
                Lever::TrimInput { fraction, .. } => Some(1.0 - fraction.clamp(0.0, 1.0)),
                _ => None,
            })
            .product();
        let sizes = cell.map(|c| &c.obs.input);
        let reprice = |how: How| {
            crate::tiers::tiered(
                catalog,
                g.day,
                (id, &orig.usage(), g.how(), cost),
                (model, &t.usage(), how),
                sizes,
                scale,
            )
        };
        let (old, mut new) = reprice(how);
        // Part of the calls batched: the rest at the processing they had.
        if batch_share < 1.0 {
            let (_, unbatched) = reprice(how.with(g.how().processing));
            new = unbatched - (unbatched - new).scale(batch_share);
        }
        // Searches run whichever model answers: on a target without a
        // search price they keep the source's fee (hunt156: routing took
        // the fees for saved, 6x the tokens' saving).
        let kept_search = if model != id
            && t.web_searches > 0.0
            && catalog.period(model, g.day).rates.web_search.is_none()
        {
            let searches = Usage {
                web_searches: t.web_searches.round() as u64,
                ..Usage::default()
            };
            catalog
                .price_base(id, g.day, &searches, how)
                .cost
                .web_search
        } else {
            Money::ZERO
        };
        let changed = (cost - (old - new) + kept_search).max(Money::ZERO);
        after += changed;
        let e = per_feature.entry(&g.feature).or_default();
        e.0 += cost;
        e.1 += changed;
    }
    let mut features: Vec<FeatureDelta> = per_feature
        .into_iter()
        .map(|(f, (b, a))| FeatureDelta {
            feature: f.to_string(),
            before: b,
            after: a,
        })
        .collect();
    features.sort_by(|a, b| {
        (b.before - b.after)
            .cmp(&(a.before - a.after))
            .then_with(|| a.feature.cmp(&b.feature))
    });
    Repriced {
        before,
        after,
        features,
        notes,
    }
}

/// A model label (`provider/id`, or anything the catalog resolves).
pub fn resolve_label(catalog: &Catalog, label: &str) -> Option<ModelId> {
    if let Some((p, m)) = label.split_once('/') {
        if let Some((id, _)) = catalog.models().find(|(_, e)| e.provider == p && e.id == m) {
            return Some(id);
        }
    }
    catalog.resolve(None, label)
}

/// Builds the waterfall from the findings' levers.
pub fn waterfall(
    catalog: &Catalog,
    groups: &[GroupRow],
    cells: &[Cell],
    findings: &[Finding],
) -> Waterfall {
    let mut levers: Vec<Lever> = Vec::new();
    let mut steps = Vec::new();
    let base = reprice(catalog, groups, cells, &[]);
    let mut previous = base.after;
    let mut notes = Vec::new();
    for cat in Category::ALL {
        let mine: Vec<&Finding> = findings
            .iter()
            .filter(|f| f.lever.as_ref().is_some_and(|l| l.category() == cat))
            .collect();
        levers.extend(mine.iter().filter_map(|f| f.lever.clone()));
        let r = reprice(catalog, groups, cells, &levers);
        for n in r.notes {
            if !notes.contains(&n) {
                notes.push(n);
            }
        }
        steps.push(Step {
            category: cat,
            label: cat.label(),
            savings: previous - r.after,
            remaining: r.after,
            findings: mine.iter().map(|f| f.fingerprint.clone()).collect(),
        });
        previous = r.after;
    }
    // Findings that show a saving but have no lever to re-price the
    // traffic with are outside the total: said, so the total is not taken
    // for their sum.
    let outside: Vec<&Finding> = findings
        .iter()
        .filter(|f| {
            f.lever.is_none() && f.savings.as_ref().is_some_and(|s| s.monthly > Money::ZERO)
        })
        .collect();
    if !outside.is_empty() {
        let mut rules: Vec<&str> = outside.iter().map(|f| f.rule).collect();
        rules.sort_unstable();
        rules.dedup();
        let monthly: Money = outside
            .iter()
            .filter_map(|f| f.savings.as_ref())
            .map(|s| s.monthly)
            .sum();
        notes.push(format!(
            "{} findings ({}) estimate {} a month between them that no lever re-prices here: they are not in this total",
            outside.len(),
            rules.join(", "),
            monthly.to_cents_string()
        ));
    }
    Waterfall {
        spend: base.before,
        total_savings: base.before - previous,
        remaining: previous,
        steps,
        notes,
    }
}

/// What self-hosting would take: the price of a GPU-hour and how many
/// tokens (input + output) one GPU serves per second at the user's batch
/// sizes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SelfHost {
    pub gpu_hour: Money,
    pub tokens_per_second: f64,
    /// GPUs kept running all month whatever the load (0: pay per use).
    pub min_gpus: u32,
}

/// Self-hosting against the API bill, per month.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BreakEven {
    pub monthly_tokens: u64,
    pub api_monthly: Money,
    pub gpu_hours: f64,
    pub self_host_monthly: Money,
    /// API spend per million tokens today.
    pub api_per_mtok: Money,
    /// Self-hosted cost per million tokens at full utilisation.
    pub self_host_per_mtok: Money,
    /// Monthly tokens above which self-hosting is cheaper (`None` when the
    /// API is cheaper per token at any volume).
    pub break_even_tokens: Option<u64>,
    pub self_host_cheaper: bool,
}

/// Hours in a 30-day month.
pub const MONTH_HOURS: f64 = 720.0;

/// Compares the API bill with self-hosting for `tokens` over `days`, which
/// cost `spend` on the API.
pub fn break_even(tokens: u64, spend: Money, days: f64, host: SelfHost) -> BreakEven {
    let factor = MONTH_DAYS / days.max(1.0);
    let monthly_tokens = (tokens as f64 * factor).round() as u64;
    let api_monthly = spend.scale(factor);
    let tps = host.tokens_per_second.max(f64::MIN_POSITIVE);
    let busy_hours = monthly_tokens as f64 / (tps * 3600.0);
    let gpu_hours = busy_hours.max(host.min_gpus as f64 * MONTH_HOURS);
    let self_host_monthly = host.gpu_hour.scale(gpu_hours);
    let per_mtok = |m: Money, t: f64| {
        if t > 0.0 {
            m.scale(1e6 / t)
        } else {
            Money::ZERO
        }
    };
    let api_per_mtok = per_mtok(api_monthly, monthly_tokens as f64);
    let self_host_per_mtok = host.gpu_hour.scale(1e6 / (tps * 3600.0));
    // API cost grows with tokens at api_per_mtok; self-hosting at its
    // per-token rate above the always-on floor.
    let floor = host.gpu_hour.scale(host.min_gpus as f64 * MONTH_HOURS);
    let break_even_tokens = if api_per_mtok > self_host_per_mtok {
        let api_rate = api_per_mtok.picos() as f64 / 1e6;
        let host_rate = self_host_per_mtok.picos() as f64 / 1e6;
        let floor_tokens = host.min_gpus as f64 * MONTH_HOURS * tps * 3600.0;
        // Below the floor's capacity self-hosting costs the floor.
        let t_floor = floor.picos() as f64 / api_rate;
        Some(if t_floor <= floor_tokens {
            t_floor.round() as u64
        } else {
            // Never reached for a consistent floor; kept for clarity.
            (floor.picos() as f64 / (api_rate - host_rate)).round() as u64
        })
    } else {
        None
    };
    BreakEven {
        monthly_tokens,
        api_monthly,
        gpu_hours,
        self_host_monthly,
        api_per_mtok,
        self_host_per_mtok,
        break_even_tokens,
        self_host_cheaper: self_host_monthly < api_monthly,
    }
}
