//! tokenaudit's builtin catalog (`data/catalog.json`), built from the two
//! maintained public catalogs, already imported with our own importers:
//! genai-prices gives the models, match rules, dated prices and tiers of the
//! shipped providers; LiteLLM adds batch, flex and priority multipliers, and
//! the long-context tiers, audio rates and 1-hour cache-write rates
//! genai-prices lacks. Pure: `cargo xtask catalog` reads the files, records
//! their versions and writes the result.

use std::collections::BTreeMap;

use super::import_genai::FIRST_PARTY;
use super::resolve::{candidates, literal_count};
use super::{Catalog, ModelEntry, Multiplier, ProviderInfo, Source};

/// The hosts the builtin catalog ships after the model makers, in
/// resolution priority order.
const HOSTS: &[&str] = &["aws", "azure", "groq", "together", "fireworks", "cerebras"];

/// The providers the builtin catalog ships, in resolution priority order:
/// the model makers (the first-party providers), then the main hosts.
pub fn shipped_providers() -> Vec<&'static str> {
    FIRST_PARTY.iter().chain(HOSTS).copied().collect()
}

/// The multipliers LiteLLM gives: the kind, and reading and writing a
/// model's.
type Get = fn(&ModelEntry) -> Option<Multiplier>;
type Slot = fn(&mut ModelEntry) -> &mut Option<Multiplier>;
const KINDS: [(&str, Get, Slot); 5] = [
    ("batch", |m| m.batch_multiplier, |m| &mut m.batch_multiplier),
    ("flex", |m| m.flex_multiplier, |m| &mut m.flex_multiplier),
    (
        "priority",
        |m| m.priority_multiplier,
        |m| &mut m.priority_multiplier,
    ),
    ("fast", |m| m.fast_multiplier, |m| &mut m.fast_multiplier),
    ("us", |m| m.us_multiplier, |m| &mut m.us_multiplier),
];

/// What a build did, for the person running it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BuildReport {
    /// Models whose batch, flex or priority prices LiteLLM gives
    /// inconsistently (several matching names with different multipliers),
    /// with the kind in brackets: left without one.
    pub conflicts: Vec<String>,
    /// Models that took their long-context tiers from LiteLLM.
    pub tiers_added: Vec<String>,
    /// Models that took their audio rates from LiteLLM.
    pub audio_added: Vec<String>,
    /// Models that took their 1-hour cache-write rate from LiteLLM.
    pub cache_write_1h_added: Vec<String>,
    /// Models whose long-context tiers had no 1-hour cache-write rate and
    /// got one in the base's ratio to the 5-minute rate.
    pub tier_cache_write_1h_derived: Vec<String>,
    /// Models LiteLLM prices that genai-prices has no entry of their own
    /// for, only a looser rule of another model at other prices, added as
    /// LiteLLM gives them (with the model whose rule took them).
    pub models_added: Vec<String>,
}

/// A price set's audio rates.
fn audio(r: &super::Rates) -> [Option<super::Money>; 3] {
    [r.input_audio, r.cached_audio_read, r.output_audio]
}

type Rate = fn(&super::Rates) -> Option<super::Money>;
fn input(r: &super::Rates) -> Option<super::Money> {
    r.input
}
fn output(r: &super::Rates) -> Option<super::Money> {
    r.output
}
fn write_5m(r: &super::Rates) -> Option<super::Money> {
    r.cache_write_5m
}

/// The shipped model of provider `pi` a LiteLLM name means, as resolution
/// finds it: the name's literal spellings first, so
/// `global.anthropic.claude-opus-4-6-v1` is Bedrock's global profile, not
/// the regional one whose rule begins `anthropic.claude-opus-4-6`.
fn target_of(shipped: &Catalog, id: &str, pi: usize) -> Option<super::ModelId> {
    let name = id.to_lowercase();
    let (names, _, _) = candidates(&name);
    let primary = literal_count(&name, &names);
    let (_, i) = shipped.literal_first(&names, primary, |q| q == pi)?;
    Some(super::ModelId(i as u32))
}

/// LiteLLM's model `lm` as a model of its own, when genai-prices has none
/// for its name: the shipped model its name resolves to (on provider `pi`)
/// takes it by a rule that names less than the whole name (a prefix or a
/// substring), and its latest prices differ from each of the model's
/// (input, output, cache reads or 5-minute writes). Its id names it, and dated names after it
/// (`claude-opus-5-5-20261015`), by a prefix longer than the other rule's.
fn apart(
    shipped: &Catalog,
    lm: &ModelEntry,
    pi: usize,
    lm_names: &std::collections::BTreeSet<(String, String)>,
) -> Option<(ModelEntry, String)> {
    let latest = lm.periods.last()?;
    // (Input and output of $0 is LiteLLM's placeholder for a price it does
    // not know, not a free model: hunt134, Command A+ at $0.)
    let zero = Some(super::Money::ZERO);
    if latest.rates.input? == super::Money::ZERO && latest.rates.output.or(zero) == zero {
        return None;
    }
    let model = &shipped.models[target_of(shipped, &lm.id, pi)?.0 as usize];
    let name = lm.id.to_lowercase();
    let (names, _, _) = candidates(&name);
    // Prices none of the model's periods has (a price LiteLLM gives for
    // a model's name at another time is that model's: Sonnet 5 before its
    // change), on the rates both give.
    let rate = |r: &super::Rates| [r.input, r.output, r.cached_read, r.cache_write_5m];
    let differ = model.periods.iter().all(|p| {
        rate(&p.rates)
            .into_iter()
            .zip(rate(&latest.rates))
            .any(|(a, b)| a.is_some() && b.is_some() && a != b)
    });
    // Whether the model names one of the name's spellings whole: its id,
    // an equality, or a prefix as long as the spelling.
    let kind = super::matching::KIND;
    let whole = names.iter().any(|n| {
        model.id.eq_ignore_ascii_case(n)
            || (model.match_rule.as_ref().and_then(|r| r.score_as(n, true)))
                .is_some_and(|s| s / kind == 3 || (s / kind == 2 && (s % kind) as usize == n.len()))
    });
    // A dated or versioned spelling of the model itself (Bedrock's
    // `anthropic.claude-opus-4-5-20251101-v1:0` after Opus 4.5's rule
    // `starts_with anthropic.claude-opus-4-5`, Vertex's `@…`) is the
    // model's, whatever LiteLLM says of its region (hunt134). An alias whose
    // model changes (`mistral-medium-latest`) has no price of its own in a
    // catalog without history: LiteLLM's is today's model's (hunt134:
    // 2025's calls at 2026's price).
    // (Only what the rule matched from the name's start: a region before it,
    // `us-gov-east-1/…`, is another price.)
    let dated = model
        .match_rule
        .as_ref()
        .and_then(|r| matched_span(r, &name))
        .is_some_and(|(start, end)| start == 0 && is_version_suffix(&name[end..]));
    let alias = name.ends_with("-latest") || name.contains("-latest-");
    // A version after `@` (Vertex's `claude-opus-5-5@default`) of a name
    // LiteLLM lists too is that name's, matched by its rule (hunt135: two
    // rows for one model).
    let versioned = name.split_once('@').is_some_and(|(base, _)| {
        lm_names.contains(&(lm.provider.to_lowercase(), base.to_string()))
    });
    if whole || dated || alias || versioned || !differ {
        return None;
    }
    // A LiteLLM key that kept its provider's word (`bedrock/us-gov-west-1/…`,
    // a second key of its bare name) is named without it, unless that name
    // is taken (hunt134: GovCloud West's names resolved to the commercial
    // model, whose id is the name's path suffix).
    let id = match lm.id.split_once('/') {
        Some((word, rest))
            if LITELLM_WORDS.contains(&word.to_lowercase().as_str())
                && !shipped
                    .models()
                    .any(|(_, m)| m.provider == lm.provider && m.id.eq_ignore_ascii_case(rest)) =>
        {
            rest.to_string()
        }
        _ => lm.id.clone(),
    };
    // Its id names it, and the names that go on with `-` or Vertex's `@`.
    let low = id.to_lowercase();
    let rules = vec![
        super::MatchRule::StartsWith(format!("{low}-")),
        super::MatchRule::StartsWith(format!("{low}@")),
    ];
    let entry = ModelEntry {
        name: id.clone(),
        id,
        match_rule: Some(super::MatchRule::Or(rules)),
        ..lm.clone()
    };
    Some((entry, model.id.clone()))
}

/// LiteLLM's provider words a key may keep before the model's name.
const LITELLM_WORDS: &[&str] = &[
    "bedrock",
    "bedrock_converse",
    "bedrock_mantle",
    "vertex_ai",
    "gemini",
    "azure",
    "azure_ai",
    "anthropic",
    "openai",
    "mistral",
    "deepseek",
    "cohere",
    "xai",
    "groq",
    "together_ai",
    "fireworks_ai",
    "cerebras",
];

/// Where the text a rule matched in `name` starts and ends (its longest
/// match).
fn matched_span(rule: &super::MatchRule, name: &str) -> Option<(usize, usize)> {
    use super::MatchRule as R;
    match rule {
        R::Equals(t) => (name == t).then_some((0, name.len())),
        R::StartsWith(t) => name.starts_with(t.as_str()).then_some((0, t.len())),
        R::EndsWith(t) => name
            .ends_with(t.as_str())
            .then_some((name.len() - t.len(), name.len())),
        R::Contains(t) => name.find(t.as_str()).map(|i| (i, i + t.len())),
        R::Or(rules) => rules
            .iter()
            .filter_map(|r| matched_span(r, name))
            .max_by_key(|(a, b)| b - a),
        R::Regex(_) | R::And(_) => None,
    }
}

/// Whether what follows a model's name is a date or a version of it
/// (`-20251101-v1:0`, `-2025-11-01`, `@20261101`, `@default`), not another
/// model's number (`-5`, `.1`, `-v2:0`).
fn is_version_suffix(rest: &str) -> bool {
    if rest.is_empty() || rest.starts_with('@') {
        return true;
    }
    let rest = rest.trim_start_matches(['-', '_', '.']);
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    digits == 8 || (digits == 4 && rest.as_bytes().get(4) == Some(&b'-'))
}

/// Sets each model's borrowed rates (see [`borrowed`]) on its latest
/// prices when all its LiteLLM names agree. Returns the models that took
/// them and those whose names disagree (with `kind` in brackets).
fn adopt<const N: usize>(
    models: &mut [ModelEntry],
    found: BTreeMap<usize, Vec<[Option<super::Money>; N]>>,
    kind: &str,
    set: impl Fn(&mut super::Rates, [Option<super::Money>; N]),
) -> (Vec<String>, Vec<String>) {
    let (mut added, mut conflicts) = (Vec::new(), Vec::new());
    for (i, found) in found {
        let m = &mut models[i];
        let name = format!("{}/{}", m.provider, m.id);
        if found.iter().all(|a| *a == found[0]) {
            if let Some(latest) = m.periods.last_mut() {
                set(&mut latest.rates, found[0]);
                added.push(name);
            }
        } else {
            conflicts.push(format!("{name} ({kind})"));
        }
    }
    (added, conflicts)
}

/// Rates (`get`) LiteLLM gives that genai-prices lacks, per shipped model
/// whose latest prices have none of them: from each LiteLLM name, on the
/// same provider, that the model's rules match, whose latest prices give
/// some and agree with the model's on every rate of `same`.
fn borrowed<const N: usize>(
    shipped: &Catalog,
    litellm: &Catalog,
    get: impl Fn(&super::Rates) -> [Option<super::Money>; N],
    same: &[Rate],
) -> BTreeMap<usize, Vec<[Option<super::Money>; N]>> {
    let mut found: BTreeMap<usize, Vec<[Option<super::Money>; N]>> = BTreeMap::new();
    for (_, lm) in litellm.models() {
        let Some(period) = lm.periods.last() else {
            continue;
        };
        let rates = get(&period.rates);
        if rates.iter().all(Option::is_none) {
            continue;
        }
        let Some(pi) = shipped.providers.iter().position(|p| p.id == lm.provider) else {
            continue;
        };
        let Some(target) = target_of(shipped, &lm.id, pi) else {
            continue;
        };
        let Some(latest) = shipped.models[target.0 as usize].periods.last() else {
            continue;
        };
        let agree = same.iter().all(|f| f(&latest.rates) == f(&period.rates));
        if agree && get(&latest.rates).iter().all(Option::is_none) {
            found.entry(target.0 as usize).or_default().push(rates);
        }
    }
    found
}

/// The catalog of the `shipped` providers (in that priority order) with
/// their models as genai-prices gives them (`genai`); a model genai-prices
/// gives no long-context tier takes LiteLLM's when LiteLLM lists, on the
/// same provider, names the model's rules match with the model's base input
/// and output prices and the same tiers (on its latest period); and each
/// model gets a batch (flex, priority) multiplier when LiteLLM (`litellm`)
/// lists, on the same provider, a name that the model's own rules match
/// with batch (flex, priority) prices that are one uniform multiple of its
/// normal prices, and all such names agree. Errors name a
/// shipped provider that genai-prices lacks.
pub fn build_builtin(
    genai: &Catalog,
    litellm: &Catalog,
    shipped: &[&str],
    version: &str,
    sources: Vec<Source>,
) -> Result<(Catalog, BuildReport), String> {
    let providers: Vec<ProviderInfo> = shipped
        .iter()
        .map(|id| {
            genai
                .providers
                .iter()
                .find(|p| p.id == *id)
                .cloned()
                .ok_or_else(|| format!("provider {id:?} is not in genai-prices"))
        })
        .collect::<Result<_, _>>()?;
    let mut models: Vec<ModelEntry> = Vec::new();
    for id in shipped {
        models.extend(genai.models.iter().filter(|m| m.provider == *id).cloned());
    }
    let shipped = Catalog::new(version.into(), Vec::new(), providers.clone(), models).into_loose();

    // Models of their own LiteLLM prices that genai-prices lacks, a rule
    // of an older model taking their names (`starts_with claude-opus-5`
    // for `claude-opus-5-5`, `contains amazon.titan-embed-text` for V2:
    // hunt132, hunt133, priced at the older model's rates). Their LiteLLM
    // entries give the older model nothing (multipliers, tiers, rates).
    // One entry per name: of LiteLLM's keys that name it, the bare one
    // (`anthropic.claude-opus-5-5`) over one that kept a provider's word
    // (`bedrock_mantle/anthropic.claude-opus-5-5`), else the first.
    let mut apart_entries: Vec<(ModelEntry, String, bool)> = Vec::new();
    let mut gone: std::collections::BTreeSet<(String, String)> = Default::default();
    let lm_names: std::collections::BTreeSet<(String, String)> = litellm
        .models()
        .map(|(_, m)| (m.provider.to_lowercase(), m.id.to_lowercase()))
        .collect();
    for (_, lm) in litellm.models() {
        let Some(pi) = shipped.providers.iter().position(|p| p.id == lm.provider) else {
            continue;
        };
        let Some((entry, from)) = apart(&shipped, lm, pi, &lm_names) else {
            continue;
        };
        gone.insert((lm.provider.clone(), lm.id.clone()));
        let bare = entry.id == lm.id;
        let same = |(o, _, _): &(ModelEntry, String, bool)| {
            o.provider == entry.provider && o.id.eq_ignore_ascii_case(&entry.id)
        };
        match apart_entries.iter().position(same) {
            Some(i) => {
                // A multiplier one key gives and the other does not, at the
                // same prices, is the model's (hunt137: Vertex's key without
                // the batch price kept, the batch price lost).
                // The new key wins when it is bare and the held one is not.
                let new_wins = bare && !apart_entries[i].2;
                let (held, held_from, held_bare) = apart_entries[i].clone();
                let (mut keep, other, from, kept_bare) = if new_wins {
                    (entry, held, from, true)
                } else {
                    (held, entry, held_from, held_bare)
                };
                if keep.periods == other.periods {
                    for (_, get, slot) in KINDS.iter() {
                        if slot(&mut keep).is_none() {
                            *slot(&mut keep) = get(&other);
                        }
                    }
                }
                apart_entries[i] = (keep, from, kept_bare);
            }
            None => apart_entries.push((entry, from, bare)),
        }
    }
    let apart_entries: Vec<(ModelEntry, String)> =
        apart_entries.into_iter().map(|(e, f, _)| (e, f)).collect();
    let litellm_kept: Vec<ModelEntry> = litellm
        .models()
        .map(|(_, m)| m)
        .filter(|m| !gone.contains(&(m.provider.clone(), m.id.clone())))
        .cloned()
        .collect();
    let litellm = &Catalog::new(
        litellm.version.clone(),
        Vec::new(),
        litellm.providers.clone(),
        litellm_kept,
    );

    // Batch, flex, priority, fast and US multipliers from LiteLLM, per
    // shipped model.
    let mut found: [BTreeMap<usize, Vec<Multiplier>>; KINDS.len()] = Default::default();
    for (_, lm) in litellm.models() {
        let Some(pi) = shipped.providers.iter().position(|p| p.id == lm.provider) else {
            continue;
        };
        if KINDS.iter().all(|(_, get, _)| get(lm).is_none()) {
            continue;
        }
        // US-only inference is the model maker's own API's (Anthropic's
        // `inference_geo`; on Bedrock and Vertex the endpoint's region
        // says where inference runs, priced in their own entries).
        let first_party = FIRST_PARTY.contains(&lm.provider.as_str());
        if let Some(target) = target_of(&shipped, &lm.id, pi) {
            for ((kind, get, _), found) in KINDS.iter().zip(found.iter_mut()) {
                if *kind == "us" && !first_party {
                    continue;
                }
                if let Some(mult) = get(lm) {
                    found.entry(target.0 as usize).or_default().push(mult);
                }
            }
        }
    }
    // Long-context tiers from LiteLLM, per shipped model that has none,
    // from names whose base input and output prices are the model's.
    let mut tiers: BTreeMap<usize, Vec<Vec<super::Tier>>> = BTreeMap::new();
    for (_, lm) in litellm.models() {
        let Some(period) = lm.periods.last().filter(|p| !p.tiers.is_empty()) else {
            continue;
        };
        let Some(pi) = shipped.providers.iter().position(|p| p.id == lm.provider) else {
            continue;
        };
        let Some(target) = target_of(&shipped, &lm.id, pi) else {
            continue;
        };
        let model = &shipped.models[target.0 as usize];
        let Some(latest) = model.periods.last() else {
            continue;
        };
        let same_base =
            latest.rates.input == period.rates.input && latest.rates.output == period.rates.output;
        if same_base && model.periods.iter().all(|p| p.tiers.is_empty()) {
            tiers
                .entry(target.0 as usize)
                .or_default()
                .push(period.tiers.clone());
        }
    }
    let mut models = shipped.models.clone();
    let mut report = BuildReport::default();
    for (entry, from) in apart_entries {
        report
            .models_added
            .push(format!("{}/{} (from {from})", entry.provider, entry.id));
        models.push(entry);
    }
    let borrowed_audio = borrowed(&shipped, litellm, audio, &[input, output]);
    let set_audio = |r: &mut super::Rates, [i, c, o]: [Option<super::Money>; 3]| {
        [r.input_audio, r.cached_audio_read, r.output_audio] = [i, c, o];
    };
    let (added, conflicts) = adopt(&mut models, borrowed_audio, "audio", set_audio);
    report.audio_added = added;
    report.conflicts.extend(conflicts);
    let write_1h = |r: &super::Rates| [r.cache_write_1h];
    let borrowed_1h = borrowed(&shipped, litellm, write_1h, &[input, output, write_5m]);
    let set_1h = |r: &mut super::Rates, [w]: [Option<super::Money>; 1]| r.cache_write_1h = w;
    let (added, conflicts) = adopt(&mut models, borrowed_1h, "1h cache write", set_1h);
    report.cache_write_1h_added = added;
    report.conflicts.extend(conflicts);
    for (i, found) in tiers {
        if found.iter().all(|t| *t == found[0]) {
            if let Some(latest) = models[i].periods.last_mut() {
                latest.tiers = found[0].clone();
                report
                    .tiers_added
                    .push(format!("{}/{}", models[i].provider, models[i].id));
            }
        }
    }
    // A long-context tier with a 5-minute write rate and no 1-hour one
    // took the base's 1-hour rate, below its own 5-minute one (Opus 4.6 on
    // Vertex: 10 against 12.5): it keeps the base's ratio of the two
    // (20), when that is exact.
    for m in &mut models {
        let mut derived = false;
        for period in &mut m.periods {
            let (Some(w5), Some(w1h)) = (period.rates.cache_write_5m, period.rates.cache_write_1h)
            else {
                continue;
            };
            for tier in &mut period.tiers {
                let Some(t5) = tier
                    .rates
                    .cache_write_5m
                    .filter(|_| tier.rates.cache_write_1h.is_none())
                else {
                    continue;
                };
                let num = t5.picos() * w1h.picos();
                if w5.picos() > 0 && num % w5.picos() == 0 {
                    tier.rates.cache_write_1h = Some(super::Money::from_picos(num / w5.picos()));
                    derived = true;
                }
            }
        }
        if derived {
            report
                .tier_cache_write_1h_derived
                .push(format!("{}/{}", m.provider, m.id));
        }
    }
    for ((kind, _, slot), found) in KINDS.iter().zip(found) {
        for (i, mults) in found {
            let m = &mut models[i];
            if mults.iter().all(|x| *x == mults[0]) {
                *slot(m) = Some(mults[0]);
            } else {
                report
                    .conflicts
                    .push(format!("{}/{} ({kind})", m.provider, m.id));
            }
        }
    }
    Ok((
        Catalog::new(version.into(), sources, providers, models),
        report,
    ))
}
