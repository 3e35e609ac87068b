//! Importer for genai-prices' `data.json` (pydantic/genai-prices, MIT).
//!
//! genai-prices is the richest source: hand-maintained match rules, dated
//! price history (`prices` as a list of `{constraint: {start_date}, prices}`)
//! and long-context tiers (`{base, tiers: [{start, price}]}`), all in dollars
//! per million tokens. Its match rules are our rule language, so they carry
//! over; its only time-of-day constraint (DeepSeek's former off-peak hours)
//! cannot be priced from a date and is reduced to the standard price, with a
//! note. Non-token prices (per search, per image, audio tokens) are not
//! imported and are counted in a note.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::format::{per_mtok, value_text};
use super::{
    uniform_multiplier, Catalog, ImportError, ImportReport, MatchRule, ModelEntry, Multiplier,
    PricePeriod, ProviderInfo, ProviderKind, Rates, SkipReason, Source, Tier, PRIORITY_MAX,
};
use crate::money::Money;

/// Providers that make the models they serve; all others count as hosts.
pub(crate) const FIRST_PARTY: &[&str] = &[
    "openai",
    "anthropic",
    "google",
    "mistral",
    "deepseek",
    "x-ai",
    "cohere",
    "moonshotai",
    "zhipuai",
    "zai",
    "minimax",
    "perplexity",
    "voyageai",
];

/// Extra provider spellings seen in logs that genai-prices' own
/// `provider_match` rules do not cover.
pub(crate) fn extra_provider_hints(id: &str) -> &'static [&'static str] {
    match id {
        "together" => &["together_ai", "togetherai"],
        "fireworks" => &["fireworks_ai", "fireworks-ai", "fireworksai"],
        "x-ai" => &["grok"],
        "azure" => &["azure_ai", "azure_openai", "azure-openai"],
        "moonshotai" => &["moonshot"],
        "cohere" => &["cohere_chat"],
        "groq" => &["groqcloud"],
        _ => &[],
    }
}

pub(crate) fn provider_hint(id: &str, own: Option<MatchRule>) -> Option<MatchRule> {
    let mut rules: Vec<MatchRule> = own.into_iter().collect();
    rules.extend(
        extra_provider_hints(id)
            .iter()
            .map(|s| MatchRule::Equals((*s).to_owned())),
    );
    match rules.len() {
        0 => None,
        1 => rules.pop(),
        _ => Some(MatchRule::Or(rules)),
    }
}

/// Reads genai-prices' `data.json` into a catalog of every provider it lists.
pub fn import_genai_prices(json: &str) -> Result<(Catalog, ImportReport), ImportError> {
    let root: Value = serde_json::from_str(json)?;
    let providers = root.as_array().ok_or_else(|| {
        // (hunt174: its v3 contract was "not a genai-prices price file".)
        if root.get("providers").is_some() {
            ImportError::Shape(
                "this is genai-prices' v3 data file (an object of `units` and `providers`), which this version does not read: give its v2 file, prices/new_data/v2/data.json, a list of providers".into(),
            )
        } else {
            ImportError::Shape("expected a list of providers at the top level".into())
        }
    })?;
    let mut report = ImportReport::default();
    let mut infos = Vec::new();
    let mut models = Vec::new();
    let mut ignored_keys: BTreeMap<String, usize> = BTreeMap::new();
    let mut variants: BTreeMap<String, usize> = BTreeMap::new();
    for p in providers {
        let pid = p
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| ImportError::Shape("a provider has no `id`".into()))?;
        let own_hint = p
            .get("provider_match")
            .and_then(|v| MatchRule::from_json(v).ok());
        infos.push(ProviderInfo {
            id: pid.to_owned(),
            name: p
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or(pid)
                .to_owned(),
            kind: ProviderKind::of_id(pid),
            hint: provider_hint(pid, own_hint),
            makes: p
                .get("model_match")
                .and_then(|v| MatchRule::from_json(v).ok()),
        });
        let empty = Vec::new();
        for m in p.get("models").and_then(Value::as_array).unwrap_or(&empty) {
            let mid = m.get("id").and_then(Value::as_str).unwrap_or("").to_owned();
            let label = format!("{pid}/{mid}");
            if mid.is_empty() {
                report.skipped.push((
                    label,
                    SkipReason::InvalidPrice("model without an id".into()),
                ));
                continue;
            }
            match import_model(pid, &mid, m, &mut report, &mut ignored_keys, &mut variants) {
                Ok(entry) => {
                    if models
                        .iter()
                        .any(|o: &ModelEntry| o.provider == pid && o.id == mid)
                    {
                        report.skipped.push((label, SkipReason::Duplicate));
                    } else {
                        models.push(entry);
                        report.imported += 1;
                    }
                }
                Err(reason) => report.skipped.push((label, reason)),
            }
        }
    }
    for (what, n) in variants {
        report.notes.push(match (what.strip_prefix("uneven "), what.strip_prefix("flat ")) {
            (Some(kind), _) => format!(
                "{n} model(s) have {kind} prices (`price_variants`) that are not one uniform fraction of their normal prices; their {kind} calls are priced at normal rates"
            ),
            (_, Some(kind)) => format!(
                "{n} model(s) have {kind} prices (`price_variants`) without the long-context tier of their normal prices: their {kind} calls past the tier's threshold are priced at the same multiple of the tier's rates, which may be above the provider's"
            ),
            _ => format!(
                "{n} price variant(s) for `{what}` not imported (tokenaudit prices batch, flex, priority and fast processing only); those calls are priced at normal rates"
            ),
        });
    }
    for (key, n) in ignored_keys {
        report.notes.push(format!(
            "{n} non-token price(s) `{key}` not imported (tokenaudit prices tokens only)"
        ));
    }
    Ok((
        Catalog::new(
            "genai-prices-import".to_owned(),
            vec![Source {
                name: "genai-prices".to_owned(),
                version: "imported file".to_owned(),
                url: Some("https://github.com/pydantic/genai-prices".to_owned()),
                license: Some("MIT".to_owned()),
                sha256: None,
            }],
            infos,
            models,
        ),
        report,
    ))
}

fn import_model(
    pid: &str,
    mid: &str,
    m: &Value,
    report: &mut ImportReport,
    ignored: &mut BTreeMap<String, usize>,
    variants: &mut BTreeMap<String, usize>,
) -> Result<ModelEntry, SkipReason> {
    let match_rule = match m.get("match") {
        Some(v) => Some(MatchRule::from_json(v).map_err(SkipReason::UnsupportedMatchRule)?),
        None => None,
    };
    let prices = m.get("prices").ok_or(SkipReason::MissingInputPrice)?;
    let mut periods = Vec::new();
    match prices {
        // A free variant (OpenRouter's `…:free`) lists no price: it costs
        // nothing, which is not the same as a price unknown.
        Value::Object(set) if set.is_empty() && mid.ends_with(":free") => {
            periods.push(PricePeriod {
                effective: None,
                rates: Rates {
                    input: Some(Money::ZERO),
                    output: Some(Money::ZERO),
                    ..Rates::default()
                },
                tiers: Vec::new(),
            })
        }
        Value::Object(set) => periods.push(period(None, set, ignored)?),
        Value::Array(list) => {
            let mut undated: Option<&Map<String, Value>> = None;
            let mut time_window: Option<&Map<String, Value>> = None;
            for item in list {
                let set = item
                    .get("prices")
                    .and_then(Value::as_object)
                    .ok_or_else(|| {
                        SkipReason::InvalidPrice("a price list entry has no `prices`".into())
                    })?;
                let constraint = item.get("constraint");
                if let Some(start) = constraint.and_then(|c| c.get("start_date")) {
                    let day = start
                        .as_str()
                        .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
                        .ok_or_else(|| {
                            SkipReason::InvalidPrice(format!("bad start_date {start}"))
                        })?;
                    periods.push(period(Some(day), set, ignored)?);
                } else if constraint.is_some_and(|c| c.get("start_time").is_some()) {
                    time_window = Some(set);
                } else {
                    undated = Some(set);
                }
            }
            // A time-of-day window is the provider's standard price and the
            // unconstrained entry its off-peak discount; a date cannot tell
            // them apart, so the standard price is used.
            match (time_window, undated) {
                (Some(set), _) => {
                    report.notes.push(format!(
                        "{pid}/{mid}: time-of-day prices cannot be applied from a date; using the standard (time-window) price"
                    ));
                    periods.push(period(None, set, ignored)?);
                }
                (None, Some(set)) => periods.push(period(None, set, ignored)?),
                (None, None) => {}
            }
        }
        _ => {
            return Err(SkipReason::InvalidPrice(
                "`prices` is neither an object nor a list".into(),
            ))
        }
    }
    if periods.is_empty() {
        return Err(SkipReason::MissingInputPrice);
    }
    periods.sort_by_key(|p| p.effective);
    let [batch_multiplier, flex_multiplier, priority_multiplier, fast_multiplier] =
        variant_multipliers(m, &periods, variants);
    Ok(ModelEntry {
        id: mid.to_owned(),
        provider: pid.to_owned(),
        name: m
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or(mid)
            .to_owned(),
        match_rule,
        batch_multiplier,
        flex_multiplier,
        priority_multiplier,
        fast_multiplier,
        us_multiplier: None,
        periods,
    })
}

/// The processing kinds a model's `price_variants` can give, in the order
/// [`variant_multipliers`] returns them, with the most each may be.
const VARIANT_KINDS: [(&str, i64); 4] = [
    ("batch", 1),
    ("flex", 1),
    ("priority", PRIORITY_MAX),
    ("fast", PRIORITY_MAX),
];

/// The batch, flex, priority and fast multipliers of a model's
/// `price_variants` (`{when: {processing: "batch"}, prices, constraint}`,
/// `{when: {service_tier: "flex"}}`, `{when: {speed: "fast"}}`…): each
/// variant's prices against the model's own in effect from the same date,
/// which must be one fraction of them (hunt174: genai-prices 0.2.5 gives
/// 116 models' batch prices this way, all dropped, so batch calls were
/// priced at 2× their price). A kind whose prices are no one fraction, and
/// the variants this catalog cannot price (`ultrafast`, a route, a search
/// type), are counted in `notes` by kind.
fn variant_multipliers(
    m: &Value,
    periods: &[PricePeriod],
    notes: &mut BTreeMap<String, usize>,
) -> [Option<Multiplier>; 4] {
    let mut found: [Result<Option<Multiplier>, ()>; 4] = [Ok(None); 4];
    let empty = Vec::new();
    let list = m
        .get("price_variants")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    for v in list {
        let when = v.get("when").and_then(Value::as_object);
        let Some((key, kind)) = when
            .filter(|w| w.len() == 1)
            .and_then(|w| w.iter().next())
            .and_then(|(k, v)| Some((k.as_str(), v.as_str()?)))
        else {
            *notes
                .entry("several conditions at once".into())
                .or_default() += 1;
            continue;
        };
        // (An empty set gives no price: gpt-3.5-turbo-1106's batch.)
        let Some(set) = v
            .get("prices")
            .and_then(Value::as_object)
            .filter(|s| !s.is_empty())
        else {
            continue;
        };
        let index = match (key, kind) {
            ("processing", "batch") => 0,
            ("service_tier", "flex") => 1,
            ("service_tier", "priority") => 2,
            ("service_tier" | "speed", "fast") => 3,
            // The standard tier's own prices (listed empty).
            ("service_tier", "default" | "standard") => continue,
            _ => {
                *notes.entry(format!("{key} {kind}")).or_default() += 1;
                continue;
            }
        };
        let start = v
            .get("constraint")
            .and_then(|c| c.get("start_date"))
            .and_then(Value::as_str)
            .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok());
        let mut unused = BTreeMap::new();
        let variant = period(start, set, &mut unused);
        // The model's prices in effect from the variant's date.
        let base = periods
            .iter()
            .rev()
            .find(|p| p.effective <= start)
            .or(periods.first());
        let this = match (variant, base) {
            (Ok(variant), Some(base)) => {
                let m = uniform_multiplier(
                    (&base.rates, &base.tiers),
                    (&variant.rates, &variant.tiers),
                    VARIANT_KINDS[index].1,
                );
                // A flat variant of tiered prices (gpt-5.4's priority): the
                // multiple applies to the long-context tier too, which the
                // variant does not price so (hunt186: 1.92× on a 300k call).
                if matches!(m, Ok(Some(_))) && variant.tiers.is_empty() && !base.tiers.is_empty() {
                    *notes
                        .entry(format!("flat {}", VARIANT_KINDS[index].0))
                        .or_default() += 1;
                }
                m
            }
            _ => Err(()),
        };
        found[index] = match (found[index], this) {
            (Ok(None), this) => this,
            (Ok(Some(a)), Ok(Some(b))) if a == b => Ok(Some(a)),
            (Ok(a), Ok(None)) => Ok(a),
            _ => Err(()),
        };
    }
    let mut out = [None; 4];
    for (i, f) in found.into_iter().enumerate() {
        match f {
            Ok(m) => out[i] = m,
            Err(()) => {
                *notes
                    .entry(format!("uneven {}", VARIANT_KINDS[i].0))
                    .or_default() += 1
            }
        }
    }
    out
}

fn period(
    effective: Option<NaiveDate>,
    set: &Map<String, Value>,
    ignored: &mut BTreeMap<String, usize>,
) -> Result<PricePeriod, SkipReason> {
    let mut base = Rates::default();
    let mut tiers: BTreeMap<u64, Rates> = BTreeMap::new();
    for (key, value) in set {
        let slot: fn(&mut Rates) -> &mut Option<Money> = match key.as_str() {
            "input_mtok" => |r| &mut r.input,
            "output_mtok" => |r| &mut r.output,
            "cache_read_mtok" => |r| &mut r.cached_read,
            "cache_write_mtok" | "cache_write_5m_mtok" => |r| &mut r.cache_write_5m,
            "cache_write_1h_mtok" => |r| &mut r.cache_write_1h,
            "output_reasoning_mtok" => |r| &mut r.reasoning,
            "input_audio_mtok" => |r| &mut r.input_audio,
            "cache_audio_read_mtok" => |r| &mut r.cached_audio_read,
            "output_audio_mtok" => |r| &mut r.output_audio,
            "web_searches_kcount" => |r| &mut r.web_search,
            _ => {
                *ignored.entry(key.clone()).or_default() += 1;
                continue;
            }
        };
        let bad = || SkipReason::InvalidPrice(format!("`{key}` = {value}"));
        let per_search = key == "web_searches_kcount";
        let number = |v: &Value| {
            value_text(v)
                .and_then(|t| {
                    if per_search {
                        super::format::per_kcount(&t)
                    } else {
                        per_mtok(&t)
                    }
                })
                .ok_or_else(bad)
        };
        match value {
            Value::Object(tiered) => {
                *slot(&mut base) = Some(number(tiered.get("base").ok_or_else(bad)?)?);
                for t in tiered
                    .get("tiers")
                    .and_then(Value::as_array)
                    .ok_or_else(bad)?
                {
                    let start = t.get("start").and_then(Value::as_u64).ok_or_else(bad)?;
                    let price = number(t.get("price").ok_or_else(bad)?)?;
                    *slot(tiers.entry(start).or_default()) = Some(price);
                }
            }
            v => *slot(&mut base) = Some(number(v)?),
        }
    }
    if base.input.is_none() {
        return Err(SkipReason::MissingInputPrice);
    }
    let tiers = tiers
        .into_iter()
        .map(|(above_input_tokens, rates)| Tier {
            above_input_tokens,
            rates,
        })
        .collect();
    Ok(PricePeriod {
        effective,
        rates: base,
        tiers,
    })
}
