//! A group's price before and after a change, with the long-context
//! tiers its calls were priced at: what `whatif` re-prices and what the
//! detectors that re-price traffic (TA113's batch rates) say, one function
//! for both (the waterfall equals `whatif`).

use tokenaudit_core::pricing::{Catalog, How, ModelId};
use tokenaudit_core::{Money, Usage};

/// A group's price before and after, at base rates and the share of its
/// traffic past a model's first long-context tier at that tier's. Before:
/// the share its exact `cost` says (what it costs over its base-rate
/// price, as a part of what all of it would cost over that at the tier:
/// exact for the group's own model, the output of its long requests and
/// all). After, on the same model: that premium split into its input part
/// (the long requests' share of the input, told by the feature's histogram
/// of request sizes), which goes with what the levers do to input, and its
/// output part, which goes with the long requests left (a cap on the long
/// answers of short requests is no cut to it). On another model with a
/// tier: the share moved to its threshold and to what the levers do to
/// each request's size (`scale`) as the histogram says; from a model
/// without a tier, the histogram's share of input past the new threshold.
pub(crate) fn tiered(
    catalog: &Catalog,
    day: Option<chrono::NaiveDate>,
    (id, before, how_before, cost): (ModelId, &Usage, How, Money),
    (model, after, how): (ModelId, &Usage, How),
    sizes: Option<&crate::sketch::LogHist>,
    scale: f64,
) -> (Money, Money) {
    use tokenaudit_core::pricing::CostBreakdown;
    let threshold = |m: ModelId| {
        catalog
            .period(m, day)
            .tiers
            .first()
            .map(|t| t.above_input_tokens as f64)
    };
    // Base and first-tier prices of usage on a model.
    let prices = |m: ModelId, u: &Usage, how: How| {
        (
            catalog.price_base(m, day, u, how).cost,
            catalog.price_at_tier(m, day, u, how, Some(0)).cost,
        )
    };
    let at = |m: ModelId, u: &Usage, how: How, share: f64| {
        let (base, tier) = prices(m, u, how);
        if share <= 0.0 {
            return base.total();
        }
        base.total() + (tier.total() - base.total()).scale(share)
    };
    let (base_before, tier_before) = prices(id, before, how_before);
    let share_old = match threshold(id) {
        Some(_) if tier_before.total() > base_before.total() => ((cost - base_before.total())
            .to_f64()
            / (tier_before.total() - base_before.total()).to_f64())
        .clamp(0.0, 1.0),
        _ => 0.0,
    };
    let old = base_before.total() + (tier_before.total() - base_before.total()).scale(share_old);
    // The share of the feature's input in requests past `t` (divided by
    // `by`: the threshold as requests grow or shrink).
    let long = |t: f64, by: f64| sizes.map(|h| h.share_above(t / by));
    if model == id && share_old > 0.0 {
        let input = |c: &CostBreakdown| c.input + c.cached_read + c.cache_write;
        let output = |c: &CostBreakdown| c.output + c.reasoning;
        let premium = old - base_before.total();
        let in_before = input(&tier_before) - input(&base_before);
        let (base_after, tier_after) = prices(id, after, how);
        let in_after = input(&tier_after) - input(&base_after);
        let t = threshold(id).expect("a tier gives a share");
        let long_input = long(t, 1.0).unwrap_or(share_old);
        let in_part = in_before.scale(long_input).min(premium);
        let out_part = premium - in_part;
        // Requests that the levers bring under the threshold leave it.
        let still = match (long(t, 1.0), long(t, scale)) {
            (Some(was), Some(will)) if scale > 0.0 && was > 0.0 => (will / was).clamp(0.0, 1.0),
            _ => 1.0,
        };
        let in_ratio = if in_before > Money::ZERO {
            in_after.to_f64() / in_before.to_f64()
        } else {
            0.0
        };
        // The output's: as many of the long requests as are left, at the
        // output rates of the new processing.
        let unit = Usage {
            output: 1_000_000,
            ..Usage::default()
        };
        let out_premium = |how: How| {
            let (base, tier) = prices(id, &unit, how);
            output(&tier) - output(&base)
        };
        let (out_before, out_after) = (out_premium(how_before), out_premium(how));
        let rates = if out_before > Money::ZERO {
            out_after.to_f64() / out_before.to_f64()
        } else {
            1.0
        };
        let left = if before.input > 0 {
            (after.input as f64 / before.input as f64).min(1.0)
        } else {
            1.0
        };
        return (
            old,
            base_after.total()
                + in_part.scale(in_ratio * still)
                + out_part.scale(rates * left * still),
        );
    }
    let share_new = match (threshold(model), threshold(id)) {
        (None, _) => 0.0,
        (Some(_), _) if scale <= 0.0 => 0.0,
        (Some(to), Some(from)) => match (long(from, 1.0), long(to, scale)) {
            (Some(was), Some(will)) if was > 0.0 => (share_old * will / was).clamp(0.0, 1.0),
            (Some(_), Some(will)) => will,
            _ => share_old,
        },
        (Some(to), None) => long(to, scale).unwrap_or(0.0),
    };
    (old, at(model, after, how, share_new))
}
