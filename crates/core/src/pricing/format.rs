//! Our catalog file format (schema 1), read and written with serde.
//!
//! Prices in the file are decimal strings (numbers are accepted too) in US
//! dollars per million tokens, the unit every provider's price page uses. A
//! price with up to six decimals is an exact whole number of pico-dollars per
//! token, which is how they are held in memory. See `data/README.md`.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    Catalog, CatalogError, MatchRule, ModelEntry, Multiplier, PricePeriod, ProviderInfo,
    ProviderKind, Rates, Source, Tier, PRIORITY_MAX, SCHEMA_VERSION,
};
use crate::money::{parse_decimal_scaled, Money};

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileCatalog {
    schema: u32,
    version: String,
    /// Its undated prices are a snapshot (a LiteLLM import): over a price
    /// history they apply from its last change on.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    snapshot: bool,
    #[serde(default)]
    sources: Vec<Source>,
    #[serde(default)]
    providers: Vec<FileProvider>,
    models: Vec<FileModel>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileProvider {
    id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    /// `first_party` or `host`; absent: a model maker's id (genai-prices'
    /// first-party providers) is `first_party`, any other `host`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kind: Option<String>,
    #[serde(default, rename = "match", skip_serializing_if = "Option::is_none")]
    hint: Option<Value>,
    /// The model names the provider makes (genai-prices' `model_match`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    model_match: Option<Value>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileModel {
    provider: String,
    id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, rename = "match", skip_serializing_if = "Option::is_none")]
    match_rule: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    batch_multiplier: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    flex_multiplier: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    priority_multiplier: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fast_multiplier: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    us_multiplier: Option<Value>,
    prices: Vec<FilePeriod>,
}

#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FilePeriod {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    effective: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    input: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    output: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cached_read: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cache_write_5m: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cache_write_1h: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reasoning: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    input_audio: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cached_audio_read: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    output_audio: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    web_search_kcount: Option<Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    tiers: Vec<FileTier>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileTier {
    above_input_tokens: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    input: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    output: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cached_read: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cache_write_5m: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cache_write_1h: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reasoning: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    input_audio: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cached_audio_read: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    output_audio: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    web_search_kcount: Option<Value>,
}

/// `value / 10^scale` as trimmed decimal text (`2500000, 6` → `"2.5"`).
pub(crate) fn decimal_text(value: i128, scale: u32) -> String {
    let unit = 10i128.pow(scale);
    let sign = if value < 0 { "-" } else { "" };
    let (whole, frac) = (value.abs() / unit, value.abs() % unit);
    if frac == 0 {
        return format!("{sign}{whole}");
    }
    let frac = format!("{frac:0width$}", width = scale as usize);
    format!("{sign}{whole}.{}", frac.trim_end_matches('0'))
}

/// A JSON string or number as decimal text.
pub(crate) fn value_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The highest rate a price file may give, in pico-dollars per token: $1 a
/// token ($1,000,000 per million; the dearest model in the shipped catalog
/// is $600 per million). Any token count, even summed over calls up to
/// `u64::MAX`, times a rate up to this stays far inside `Money`'s range;
/// an absurd rate would overflow it.
pub(crate) const MAX_RATE_PICOS: i128 = 1_000_000_000_000;

/// Dollars per million tokens (text) → money per token, at most
/// [`MAX_RATE_PICOS`].
pub(crate) fn per_mtok(text: &str) -> Option<Money> {
    parse_decimal_scaled(text, 6)
        .filter(|v| (0..=MAX_RATE_PICOS).contains(v))
        .map(Money::from_picos)
}

/// Money per token → dollars per million tokens, as exact decimal text.
pub fn mtok_text(rate: Money) -> String {
    decimal_text(rate.picos(), 6)
}

fn rate(model: &str, field: &str, value: &Option<Value>) -> Result<Option<Money>, CatalogError> {
    let Some(value) = value else { return Ok(None) };
    value_text(value)
        .and_then(|t| per_mtok(&t))
        .map(Some)
        .ok_or_else(|| CatalogError::Invalid {
            model: model.to_owned(),
            message: format!(
                "`{field}` must be a non-negative decimal in USD per million tokens, at most 1000000, got {value}"
            ),
        })
}

fn rates_of(
    model: &str,
    [
        input,
        output,
        cached_read,
        cache_write_5m,
        cache_write_1h,
        reasoning,
        input_audio,
        cached_audio_read,
        output_audio,
        web_search_kcount,
    ]: [&Option<Value>; 10],
) -> Result<Rates, CatalogError> {
    Ok(Rates {
        input: rate(model, "input", input)?,
        output: rate(model, "output", output)?,
        cached_read: rate(model, "cached_read", cached_read)?,
        cache_write_5m: rate(model, "cache_write_5m", cache_write_5m)?,
        cache_write_1h: rate(model, "cache_write_1h", cache_write_1h)?,
        reasoning: rate(model, "reasoning", reasoning)?,
        input_audio: rate(model, "input_audio", input_audio)?,
        cached_audio_read: rate(model, "cached_audio_read", cached_audio_read)?,
        output_audio: rate(model, "output_audio", output_audio)?,
        web_search: match web_search_kcount {
            None => None,
            Some(v) => Some(value_text(v).and_then(|t| per_kcount(&t)).ok_or_else(|| {
                CatalogError::Invalid {
                    model: model.to_owned(),
                    message: format!(
                        "`web_search_kcount` must be a non-negative decimal in USD per thousand searches, at most 1000000, got {v}"
                    ),
                }
            })?),
        },
    })
}

/// Dollars per thousand (searches) → money per one, at most $1,000 each.
pub(crate) fn per_kcount(text: &str) -> Option<Money> {
    parse_decimal_scaled(text, 9)
        .filter(|v| (0..=MAX_RATE_PICOS * 1000).contains(v))
        .map(Money::from_picos)
}

/// Money per one → dollars per thousand, as exact decimal text.
pub fn kcount_text(rate: Money) -> String {
    decimal_text(rate.picos(), 9)
}

fn kcount_text_of(rate: Option<Money>) -> Option<Value> {
    rate.map(|r| Value::String(kcount_text(r)))
}

fn text_of(rate: Option<Money>) -> Option<Value> {
    rate.map(|r| Value::String(mtok_text(r)))
}

pub(crate) fn parse(text: &str) -> Result<Catalog, CatalogError> {
    let file: FileCatalog = serde_json::from_str(text)?;
    if file.schema != SCHEMA_VERSION {
        return Err(CatalogError::Schema { found: file.schema });
    }
    let mut providers = Vec::with_capacity(file.providers.len());
    for p in file.providers {
        let invalid = |message: String| CatalogError::Invalid {
            model: format!("provider {}", p.id),
            message,
        };
        let kind = match p.kind.as_deref() {
            Some("first_party") => ProviderKind::FirstParty,
            Some("host") => ProviderKind::Host,
            None => ProviderKind::of_id(&p.id),
            Some(other) => {
                return Err(invalid(format!(
                    "`kind` must be first_party or host, got {other:?}"
                )))
            }
        };
        let hint = p
            .hint
            .as_ref()
            .map(MatchRule::from_json)
            .transpose()
            .map_err(invalid)?;
        let makes = p
            .model_match
            .as_ref()
            .map(MatchRule::from_json)
            .transpose()
            .map_err(invalid)?;
        providers.push(ProviderInfo {
            name: p.name.unwrap_or_else(|| p.id.clone()),
            id: p.id,
            kind,
            hint,
            makes,
        });
    }
    let mut models: Vec<ModelEntry> = Vec::with_capacity(file.models.len());
    for m in file.models {
        let key = format!("{}/{}", m.provider, m.id);
        let invalid = |message: String| CatalogError::Invalid {
            model: key.clone(),
            message,
        };
        if models
            .iter()
            .any(|o| o.provider == m.provider && o.id == m.id)
        {
            return Err(invalid(
                "listed twice; each provider and id may appear once".into(),
            ));
        }
        let match_rule = m
            .match_rule
            .as_ref()
            .map(MatchRule::from_json)
            .transpose()
            .map_err(&invalid)?;
        let multiplier = |v: &Option<Value>, field: &str, max: i64, example: &str| {
            match v {
            None => Ok(None),
            Some(v) => value_text(v)
                .and_then(|t| Multiplier::parse_up_to(&t, max))
                .map(Some)
                .ok_or_else(|| {
                    invalid(format!(
                        "`{field}` must be a positive decimal up to {max} such as \"{example}\", got {v}"
                    ))
                }),
        }
        };
        let batch_multiplier = multiplier(&m.batch_multiplier, "batch_multiplier", 1, "0.5")?;
        let flex_multiplier = multiplier(&m.flex_multiplier, "flex_multiplier", 1, "0.5")?;
        let priority_multiplier = multiplier(
            &m.priority_multiplier,
            "priority_multiplier",
            PRIORITY_MAX,
            "2",
        )?;
        let fast_multiplier = multiplier(&m.fast_multiplier, "fast_multiplier", PRIORITY_MAX, "2")?;
        let us_multiplier = multiplier(&m.us_multiplier, "us_multiplier", PRIORITY_MAX, "1.1")?;
        if m.prices.is_empty() {
            return Err(invalid(
                "`prices` is empty; give at least one price period".into(),
            ));
        }
        let mut periods = Vec::with_capacity(m.prices.len());
        for p in &m.prices {
            let rates = rates_of(
                &key,
                [
                    &p.input,
                    &p.output,
                    &p.cached_read,
                    &p.cache_write_5m,
                    &p.cache_write_1h,
                    &p.reasoning,
                    &p.input_audio,
                    &p.cached_audio_read,
                    &p.output_audio,
                    &p.web_search_kcount,
                ],
            )?;
            if rates.input.is_none() {
                return Err(invalid("a price period has no `input` price".into()));
            }
            let mut tiers = Vec::with_capacity(p.tiers.len());
            for t in &p.tiers {
                let rates = rates_of(
                    &key,
                    [
                        &t.input,
                        &t.output,
                        &t.cached_read,
                        &t.cache_write_5m,
                        &t.cache_write_1h,
                        &t.reasoning,
                        &t.input_audio,
                        &t.cached_audio_read,
                        &t.output_audio,
                        &t.web_search_kcount,
                    ],
                )?;
                tiers.push(Tier {
                    above_input_tokens: t.above_input_tokens,
                    rates,
                });
            }
            tiers.sort_by_key(|t| t.above_input_tokens);
            if tiers
                .windows(2)
                .any(|w| w[0].above_input_tokens == w[1].above_input_tokens)
            {
                return Err(invalid(
                    "two tiers have the same `above_input_tokens`".into(),
                ));
            }
            periods.push(PricePeriod {
                effective: p.effective,
                rates,
                tiers,
            });
        }
        periods.sort_by_key(|p| p.effective);
        if periods.windows(2).any(|w| w[0].effective == w[1].effective) {
            return Err(invalid(
                "two price periods have the same `effective` date (or both have none)".into(),
            ));
        }
        models.push(ModelEntry {
            name: m.name.unwrap_or_else(|| m.id.clone()),
            id: m.id,
            provider: m.provider,
            match_rule,
            batch_multiplier,
            flex_multiplier,
            priority_multiplier,
            fast_multiplier,
            us_multiplier,
            periods,
        });
    }
    let catalog = Catalog::new(file.version, file.sources, providers, models);
    Ok(if file.snapshot {
        catalog.into_snapshot()
    } else {
        catalog
    })
}

pub(crate) fn write(catalog: &Catalog) -> String {
    let file = FileCatalog {
        schema: SCHEMA_VERSION,
        version: catalog.version.clone(),
        snapshot: catalog.snapshot,
        sources: catalog.sources.clone(),
        providers: catalog
            .providers
            .iter()
            .map(|p| FileProvider {
                id: p.id.clone(),
                name: (p.name != p.id).then(|| p.name.clone()),
                kind: Some(p.kind.as_str().to_owned()),
                hint: p.hint.as_ref().map(MatchRule::to_json),
                model_match: p.makes.as_ref().map(MatchRule::to_json),
            })
            .collect(),
        models: catalog
            .models
            .iter()
            .map(|m| FileModel {
                provider: m.provider.clone(),
                id: m.id.clone(),
                name: (m.name != m.id).then(|| m.name.clone()),
                match_rule: m.match_rule.as_ref().map(MatchRule::to_json),
                batch_multiplier: m.batch_multiplier.map(|b| Value::String(b.to_string())),
                flex_multiplier: m.flex_multiplier.map(|b| Value::String(b.to_string())),
                priority_multiplier: m.priority_multiplier.map(|b| Value::String(b.to_string())),
                fast_multiplier: m.fast_multiplier.map(|b| Value::String(b.to_string())),
                us_multiplier: m.us_multiplier.map(|b| Value::String(b.to_string())),
                prices: m
                    .periods
                    .iter()
                    .map(|p| FilePeriod {
                        effective: p.effective,
                        input: text_of(p.rates.input),
                        output: text_of(p.rates.output),
                        cached_read: text_of(p.rates.cached_read),
                        cache_write_5m: text_of(p.rates.cache_write_5m),
                        cache_write_1h: text_of(p.rates.cache_write_1h),
                        reasoning: text_of(p.rates.reasoning),
                        input_audio: text_of(p.rates.input_audio),
                        cached_audio_read: text_of(p.rates.cached_audio_read),
                        output_audio: text_of(p.rates.output_audio),
                        web_search_kcount: kcount_text_of(p.rates.web_search),
                        tiers: p
                            .tiers
                            .iter()
                            .map(|t| FileTier {
                                above_input_tokens: t.above_input_tokens,
                                input: text_of(t.rates.input),
                                output: text_of(t.rates.output),
                                cached_read: text_of(t.rates.cached_read),
                                cache_write_5m: text_of(t.rates.cache_write_5m),
                                cache_write_1h: text_of(t.rates.cache_write_1h),
                                reasoning: text_of(t.rates.reasoning),
                                input_audio: text_of(t.rates.input_audio),
                                cached_audio_read: text_of(t.rates.cached_audio_read),
                                output_audio: text_of(t.rates.output_audio),
                                web_search_kcount: kcount_text_of(t.rates.web_search),
                            })
                            .collect(),
                    })
                    .collect(),
            })
            .collect(),
    };
    let mut text = serde_json::to_string_pretty(&file).expect("catalog serializes");
    text.push('\n');
    text
}
