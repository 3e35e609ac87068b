//! Importer for LiteLLM's `model_prices_and_context_window.json` (MIT).
//!
//! LiteLLM keys each entry by the name its router accepts (`gpt-4o`,
//! `gemini/gemini-2.5-pro`, `bedrock/us-east-1/…`) and gives prices per token
//! as binary floats, without history. Each float goes through its shortest
//! decimal text and is then parsed exactly, so `3e-06` becomes exactly $3 per
//! million tokens. Batch prices (`*_batches`) become a batch multiplier when
//! every batch rate is the same fraction of its normal rate, and flex and
//! priority prices (`*_flex`, `*_priority`) a flex or priority multiplier
//! the same way; long-context prices (`*_above_200k_tokens`, also
//! 128k/256k/272k…) become tiers. Other service tiers are not imported.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::format::{value_text, MAX_RATE_PICOS};
use super::import_genai::provider_hint;
use super::{
    Catalog, ImportError, ImportReport, MatchRule, ModelEntry, Multiplier, PricePeriod,
    ProviderInfo, ProviderKind, Rates, SkipReason, Source, Tier, PRIORITY_MAX,
};
use crate::money::{parse_decimal_scaled, Money};

/// Token-priced modes; other modes (images, audio, rerank…) are skipped.
const TOKEN_MODES: &[&str] = &["chat", "completion", "responses", "embedding"];

/// LiteLLM's provider names → our provider ids (genai-prices' ids).
pub(crate) fn provider_id(litellm: &str) -> String {
    let id = match litellm {
        "bedrock" | "bedrock_converse" | "bedrock_mantle" => "aws",
        "gemini" | "vertex_ai" => "google",
        p if p.starts_with("vertex_ai-") => "google",
        "azure" | "azure_ai" | "azure_text" => "azure",
        "text-completion-openai" | "openai" => "openai",
        "xai" => "x-ai",
        "together_ai" => "together",
        "fireworks_ai" | "fireworks_ai-embedding-models" => "fireworks",
        "mistral" | "codestral" | "text-completion-codestral" => "mistral",
        "cohere" | "cohere_chat" => "cohere",
        "moonshot" => "moonshotai",
        "voyage" => "voyageai",
        other => other,
    };
    id.to_owned()
}

/// Per-token float → money per token, via the float's shortest decimal text.
fn per_token(v: &Value) -> Option<Money> {
    value_text(v)
        .and_then(|t| parse_decimal_scaled(&t, 12))
        .filter(|p| (0..=MAX_RATE_PICOS).contains(p))
        .map(Money::from_picos)
}

/// Reads LiteLLM's price file into a catalog (ids are LiteLLM's keys).
pub fn import_litellm(json: &str) -> Result<(Catalog, ImportReport), ImportError> {
    let root: Value = serde_json::from_str(json)?;
    let entries = root
        .as_object()
        .ok_or_else(|| ImportError::Shape("expected an object keyed by model name".into()))?;
    // An alias (`"gpt-sol-latest": {"alias_of": "gpt-6.1-sol"}`, LiteLLM
    // 1.110) is its target's entry under its own name, with what it gives
    // of its own (hunt174: 98 skipped as "not priced per token", their
    // calls unpriced).
    let resolved: serde_json::Map<String, Value> = entries
        .iter()
        .map(|(key, e)| {
            let target = e
                .get("alias_of")
                .and_then(Value::as_str)
                .and_then(|t| entries.get(t))
                .and_then(Value::as_object);
            match (target, e.as_object()) {
                (Some(target), Some(own)) => {
                    let mut merged = target.clone();
                    for (k, v) in own {
                        if k != "alias_of" {
                            merged.insert(k.clone(), v.clone());
                        }
                    }
                    (key.clone(), Value::Object(merged))
                }
                _ => (key.clone(), e.clone()),
            }
        })
        .collect();
    let entries = &resolved;
    let mut report = ImportReport::default();
    let mut models: Vec<ModelEntry> = Vec::new();
    let mut providers: Vec<ProviderInfo> = Vec::new();
    let mut spellings: std::collections::HashMap<String, Vec<MatchRule>> =
        std::collections::HashMap::new();
    let (mut uneven_batch, mut uneven_flex, mut uneven_priority) = (0usize, 0usize, 0usize);
    // Every key as its provider names it: a bare name is an entry's id
    // only when no key of that provider is the bare name itself; of two
    // keys of one bare name, the one prefixed by the provider's own id
    // (`mistral/codestral-latest` over `codestral/codestral-latest`), else
    // none.
    let mut keys: std::collections::HashSet<(String, String)> = std::collections::HashSet::new();
    let mut bare_of: std::collections::HashMap<(String, String), (&str, usize)> =
        std::collections::HashMap::new();
    for (key, e) in entries {
        let Some(lp) = e.get("litellm_provider").and_then(Value::as_str) else {
            continue;
        };
        let provider = provider_id(lp);
        keys.insert((provider.clone(), key.to_lowercase()));
        if let Some((prefix, rest)) = key.split_once('/') {
            if prefix == lp || provider_id(prefix) == provider {
                let own = prefix == provider;
                bare_of
                    .entry((provider.clone(), rest.to_lowercase()))
                    .and_modify(|(k, n)| {
                        *n += 1;
                        if own && k.split_once('/').is_none_or(|(p, _)| p != provider) {
                            *k = key;
                        }
                    })
                    .or_insert((key, 1));
            }
        }
    }
    for (key, entry) in entries {
        if key == "sample_spec" {
            continue;
        }
        let Some(e) = entry.as_object() else {
            report.skipped.push((
                key.clone(),
                SkipReason::InvalidPrice("entry is not an object".into()),
            ));
            continue;
        };
        let mode = e.get("mode").and_then(Value::as_str).unwrap_or("unknown");
        if !TOKEN_MODES.contains(&mode) {
            report
                .skipped
                .push((key.clone(), SkipReason::NotTokenPriced(mode.to_owned())));
            continue;
        }
        let litellm_provider = e
            .get("litellm_provider")
            .and_then(Value::as_str)
            .unwrap_or("unknown");
        let provider = provider_id(litellm_provider);
        let (rates, tiers) = match rates_and_tiers(e, "").and_then(|r| with_tiered_pricing(e, r)) {
            Ok(r) => r,
            Err(reason) => {
                report.skipped.push((key.clone(), reason));
                continue;
            }
        };
        if rates.input.is_none() {
            report
                .skipped
                .push((key.clone(), SkipReason::MissingInputPrice));
            continue;
        }
        let uniform = |suffix: &str, max: i64, uneven: &mut usize| {
            multiplier(e, &rates, &tiers, suffix, max).unwrap_or_else(|()| {
                *uneven += 1;
                None
            })
        };
        let batch_multiplier = uniform("_batches", 1, &mut uneven_batch);
        let flex_multiplier = uniform("_flex", 1, &mut uneven_flex);
        let priority_multiplier = uniform("_priority", PRIORITY_MAX, &mut uneven_priority);
        // Fast mode's multiple of every rate (Anthropic's), as the catalog
        // gives it beside the model's prices.
        // and US-only inference's (`us`).
        let specific = |kind: &str| {
            e.get("provider_specific_entry")
                .and_then(|p| p.get(kind))
                .and_then(|v| match v {
                    serde_json::Value::Number(n) => Some(n.to_string()),
                    serde_json::Value::String(t) => Some(t.clone()),
                    _ => None,
                })
                .and_then(|t| Multiplier::parse_up_to(&t, PRIORITY_MAX))
        };
        let fast_multiplier = specific("fast");
        let us_multiplier = specific("us");
        if models
            .iter()
            .any(|m| m.provider == provider && m.name == *key)
        {
            report.skipped.push((key.clone(), SkipReason::Duplicate));
            continue;
        }
        // Every LiteLLM name of the provider names it, each exactly
        // (hunt66: only the first was kept, so `vertex_ai-anthropic_models`
        // was named by another provider's looser rule).
        let spelled = MatchRule::Equals(litellm_provider.to_lowercase());
        match providers.iter_mut().find(|p| p.id == provider) {
            Some(p) => {
                let names = spellings.entry(provider.clone()).or_default();
                if !names.contains(&spelled) {
                    names.push(spelled);
                    p.hint = provider_hint(&provider, Some(MatchRule::Or(names.clone())));
                }
            }
            None => {
                spellings.insert(provider.clone(), vec![spelled.clone()]);
                providers.push(ProviderInfo {
                    id: provider.clone(),
                    name: provider.clone(),
                    kind: ProviderKind::of_id(&provider),
                    hint: provider_hint(&provider, Some(spelled)),
                    makes: None,
                });
            }
        }
        // `gemini/gemini-2.5-pro` is Google's `gemini-2.5-pro`: the id
        // without the provider's prefix, as the built-in catalog names it
        // (so it replaces that entry, as a `--prices` entry of the same id
        // does, and a log naming the provider in its own field finds it:
        // hunt66), its whole key matched by a rule. A second key of the
        // same bare name (`vertex_ai/…` beside `gemini/…`) keeps its key.
        let prefixed = key
            .split_once('/')
            .filter(|(p, _)| *p == litellm_provider || provider_id(p) == provider)
            .map(|(_, rest)| rest);
        let named = |rest: &str| {
            let at = (provider.clone(), rest.to_lowercase());
            // Shared by keys none of which has the provider's own prefix
            // (`gemini/…` and `vertex_ai/…`, both Google's): no one's
            // (hunt69: the first took it, at another price).
            let own = |k: &str| k.split_once('/').is_some_and(|(p, _)| p == provider);
            !keys.contains(&at)
                && bare_of
                    .get(&at)
                    .is_some_and(|&(k, n)| k == key.as_str() && (n == 1 || own(k)))
        };
        let (id, match_rule) = match prefixed {
            Some(rest) if named(rest) => {
                (rest.to_owned(), Some(MatchRule::Equals(key.to_lowercase())))
            }
            // Its key, the bare name matched by a rule (as before).
            Some(rest) => (key.clone(), Some(MatchRule::Equals(rest.to_lowercase()))),
            None => (key.clone(), None),
        };
        models.push(ModelEntry {
            id,
            provider,
            name: key.clone(),
            match_rule,
            batch_multiplier,
            flex_multiplier,
            priority_multiplier,
            fast_multiplier,
            us_multiplier,
            periods: vec![PricePeriod {
                effective: None,
                rates,
                tiers,
            }],
        });
        report.imported += 1;
    }
    if uneven_batch > 0 {
        report.notes.push(format!(
            "{uneven_batch} model(s) have batch prices that are not one uniform fraction of their normal prices; their batch calls are priced at normal rates"
        ));
    }
    for (n, kind) in [(uneven_flex, "flex"), (uneven_priority, "priority")] {
        if n > 0 {
            report.notes.push(format!(
                "{n} model(s) have {kind} prices that are not one uniform multiple of their normal prices; their {kind} calls are priced at normal rates"
            ));
        }
    }
    report.notes.push(
        "LiteLLM's prices have no dates: passed as --prices over a model whose built-in prices changed on a date, each applies from the last change on (the earlier prices stay), and one that the built-in history already has (an older snapshot) changes nothing".to_owned(),
    );
    Ok((
        Catalog::new(
            "litellm-import".to_owned(),
            vec![Source {
                name: "litellm".to_owned(),
                version: "imported file".to_owned(),
                url: Some("https://github.com/BerriAI/litellm".to_owned()),
                license: Some("MIT".to_owned()),
                sha256: None,
            }],
            providers,
            models,
        )
        .into_snapshot(),
        report,
    ))
}

fn rates_and_tiers(e: &Map<String, Value>, suffix: &str) -> Result<(Rates, Vec<Tier>), SkipReason> {
    let get = |field: &str| -> Result<Option<Money>, SkipReason> {
        let name = format!("{field}{suffix}");
        match e.get(&name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => per_token(v)
                .map(Some)
                .ok_or_else(|| SkipReason::InvalidPrice(format!("`{name}` = {v}"))),
        }
    };
    let rates_at = |above: &str| -> Result<Rates, SkipReason> {
        Ok(Rates {
            input: get(&format!("input_cost_per_token{above}"))?,
            output: get(&format!("output_cost_per_token{above}"))?,
            cached_read: get(&format!("cache_read_input_token_cost{above}"))?,
            cache_write_5m: get(&format!("cache_creation_input_token_cost{above}"))?,
            cache_write_1h: get(&format!("cache_creation_input_token_cost_above_1hr{above}"))?,
            reasoning: if above.is_empty() {
                get("output_cost_per_reasoning_token")?
            } else {
                None
            },
            // Audio rates have no long-context tiers in LiteLLM.
            input_audio: if above.is_empty() {
                get("input_cost_per_audio_token")?
            } else {
                None
            },
            cached_audio_read: if above.is_empty() {
                get("cache_read_input_audio_token_cost")?
            } else {
                None
            },
            output_audio: if above.is_empty() {
                get("output_cost_per_audio_token")?
            } else {
                None
            },
            web_search: if above.is_empty() && suffix.is_empty() {
                web_search(e)
            } else {
                None
            },
        })
    };
    let base = rates_at("")?;
    // Thresholds present for any component: `…_above_200k_tokens` → 200 000.
    let mut thresholds = BTreeMap::new();
    for k in e.keys() {
        let Some(rest) = k.strip_suffix(&format!("k_tokens{suffix}")) else {
            continue;
        };
        let Some(i) = rest.rfind("_above_") else {
            continue;
        };
        if let Ok(n) = rest[i + 7..].parse::<u64>() {
            thresholds.insert(n * 1000, format!("_above_{n}k_tokens"));
        }
    }
    let mut tiers = Vec::new();
    for (above_input_tokens, infix) in thresholds {
        let rates = rates_at(&infix)?;
        if rates != Rates::default() {
            tiers.push(Tier {
                above_input_tokens,
                rates,
            });
        }
    }
    Ok((base, tiers))
}

/// The rates and tiers of LiteLLM's `tiered_pricing` list (ranges of the
/// request's input tokens, each with its rates: Qwen's, Volcengine's),
/// added to what the flat keys give: its first range is the base when the
/// entry has no flat price, and each later range a tier from the range's
/// start, billing the whole request (as `…_above_Nk_tokens`). hunt65: 49
/// such models were skipped as having no input price, and the tiers of the
/// others were lost.
fn with_tiered_pricing(
    e: &Map<String, Value>,
    (mut base, mut tiers): (Rates, Vec<Tier>),
) -> Result<(Rates, Vec<Tier>), SkipReason> {
    let Some(list) = e.get("tiered_pricing").and_then(Value::as_array) else {
        return Ok((base, tiers));
    };
    let mut ranges: Vec<(u64, Rates)> = Vec::new();
    for item in list {
        let Some(t) = item.as_object() else {
            return Err(SkipReason::InvalidPrice(
                "`tiered_pricing` item is not an object".into(),
            ));
        };
        let start = t
            .get("range")
            .and_then(Value::as_array)
            .and_then(|r| r.first())
            .and_then(Value::as_f64)
            .filter(|s| s.is_finite() && *s >= 0.0);
        let Some(start) = start else {
            return Err(SkipReason::InvalidPrice(format!(
                "`tiered_pricing` range of {item}"
            )));
        };
        let get = |name: &str| -> Result<Option<Money>, SkipReason> {
            match t.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => per_token(v).map(Some).ok_or_else(|| {
                    SkipReason::InvalidPrice(format!("`tiered_pricing` `{name}` = {v}"))
                }),
            }
        };
        let rates = Rates {
            input: get("input_cost_per_token")?,
            output: get("output_cost_per_token")?,
            cached_read: get("cache_read_input_token_cost")?,
            cache_write_5m: get("cache_creation_input_token_cost")?,
            reasoning: get("output_cost_per_reasoning_token")?,
            ..Rates::default()
        };
        if rates.input.is_none() {
            return Err(SkipReason::InvalidPrice(format!(
                "`tiered_pricing` range from {start} has no input price"
            )));
        }
        ranges.push((start as u64, rates));
    }
    ranges.sort_by_key(|(start, _)| *start);
    for (start, rates) in ranges {
        if start == 0 {
            if base.input.is_none() {
                base = rates;
            }
        } else if !tiers.iter().any(|t| t.above_input_tokens == start) {
            tiers.push(Tier {
                above_input_tokens: start,
                rates,
            });
        }
    }
    tiers.sort_by_key(|t| t.above_input_tokens);
    Ok((base, tiers))
}

/// The price of one web search: LiteLLM's `search_context_cost_per_query`
/// when it is one price whatever the search context size (Anthropic's); a
/// price that depends on the size (OpenAI's) is not read.
fn web_search(e: &Map<String, Value>) -> Option<Money> {
    let sizes = e.get("search_context_cost_per_query")?.as_object()?;
    let mut prices = sizes.values().map(per_token);
    let first = prices.next()??;
    prices.all(|p| p == Some(first)).then_some(first)
}

/// One factor that turns every normal rate given a rate of the `suffix`
/// kind (`_batches`, `_flex`, `_priority`) into it, long-context tiers
/// included, at most `max` (a whole number).
/// `Ok(None)`: no such prices; `Err`: such prices that are not uniform.
fn multiplier(
    e: &Map<String, Value>,
    rates: &Rates,
    tiers: &[Tier],
    suffix: &str,
    max: i64,
) -> Result<Option<Multiplier>, ()> {
    let Ok((other, other_tiers)) = rates_and_tiers(e, suffix) else {
        return Err(());
    };
    super::uniform_multiplier((rates, tiers), (&other, &other_tiers), max)
}
