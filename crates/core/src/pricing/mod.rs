//! The pricing catalog and engine: which model a logged name means, and what
//! a call with a given [`Usage`] cost on a given day.
//!
//! A [`Catalog`] holds models (provider, canonical id, display name, match
//! rules) and, per model, a list of dated [`PricePeriod`]s. Rates are exact
//! integers of pico-dollars per token ([`Money`] per token), so a cost is
//! `tokens × rate` with no rounding anywhere. The builtin catalog is
//! `data/catalog.json`, generated from maintained public catalogs
//! (genai-prices, LiteLLM) and embedded at compile time; a user's file in the
//! same format can be overlaid on it. See `data/README.md` for the format.
//!
//! The engine's rules, each of which other tools have got wrong at some point:
//! cached reads are billed only at the cached rate; 5-minute and 1-hour cache
//! writes have their own rates; reasoning tokens have their own rate when the
//! model has one; once a request's total input crosses a long-context
//! threshold the whole request is billed at that tier's rates; batch calls use
//! batch rates only where a source gives them; and the price period is the
//! one in effect on the call's date.

mod build;
mod format;
mod import_genai;
mod import_litellm;
mod matching;
mod resolve;
mod served;

#[cfg(test)]
mod tests;

use std::fmt;
use std::ops::AddAssign;

use chrono::NaiveDate;

use crate::money::Money;
use crate::record::Usage;

pub use build::{build_builtin, shipped_providers, BuildReport};
pub use format::{kcount_text, mtok_text};
pub use import_genai::import_genai_prices;
pub use import_litellm::import_litellm;
pub use matching::{MatchRule, Pattern};
pub use served::ServedModels;

/// The catalog format version this build reads and writes.
pub const SCHEMA_VERSION: u32 = 1;

static BUILTIN_JSON: &str = include_str!("../../data/catalog.json");

/// Index of a model in its [`Catalog`]. Only meaningful for the catalog that
/// returned it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModelId(pub u32);

/// Where a catalog's prices come from.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub name: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// SHA-256 (hex) of the upstream file the catalog was generated from,
    /// so anyone can tell which file a release read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

/// Whether a provider makes its models (preferred when a name matches models
/// on several providers and the log gives no provider) or hosts others'.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProviderKind {
    FirstParty,
    #[default]
    Host,
}

impl ProviderKind {
    /// A provider's kind by its id alone: a model maker's (genai-prices'
    /// first-party providers) or a host.
    pub fn of_id(id: &str) -> ProviderKind {
        if import_genai::FIRST_PARTY.contains(&id) {
            ProviderKind::FirstParty
        } else {
            ProviderKind::Host
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::FirstParty => "first_party",
            ProviderKind::Host => "host",
        }
    }
}

/// A provider and how logs spell it (`bedrock`, `vertex_ai`, `together_ai`…).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderInfo {
    /// Canonical provider id (`openai`, `aws`, `google`…).
    pub id: String,
    pub name: String,
    pub kind: ProviderKind,
    /// Matches a logged provider name or a path segment of a logged model
    /// name (`bedrock/…`). The id itself always matches.
    pub hint: Option<MatchRule>,
    /// The model names this provider makes (genai-prices' provider
    /// `model_match`: `claude` for Anthropic, `gemini` for Google). Without
    /// a provider hint, a name is its maker's model before a host's, even
    /// when a host lists it under the exact name (Vertex's `claude-3-5-haiku`).
    pub makes: Option<MatchRule>,
}

/// Per-token rates of one price set, in [`Money`] per token. `None` means the
/// source gives no rate for that component; the engine's fallbacks apply.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rates {
    pub input: Option<Money>,
    pub output: Option<Money>,
    pub cached_read: Option<Money>,
    pub cache_write_5m: Option<Money>,
    pub cache_write_1h: Option<Money>,
    pub reasoning: Option<Money>,
    /// Audio input tokens not read from the cache (absent: the input rate).
    pub input_audio: Option<Money>,
    /// Audio input tokens read from the cache (absent: the cached-read rate).
    pub cached_audio_read: Option<Money>,
    /// Audio output tokens (absent: the output rate).
    pub output_audio: Option<Money>,
    /// One web search the provider runs (absent: not billed).
    pub web_search: Option<Money>,
}

impl Rates {
    /// Each rate of `self`, or of `base` where `self` has none.
    pub fn or(&self, base: &Rates) -> Rates {
        Rates {
            input: self.input.or(base.input),
            output: self.output.or(base.output),
            cached_read: self.cached_read.or(base.cached_read),
            cache_write_5m: self.cache_write_5m.or(base.cache_write_5m),
            cache_write_1h: self.cache_write_1h.or(base.cache_write_1h),
            reasoning: self.reasoning.or(base.reasoning),
            input_audio: self.input_audio.or(base.input_audio),
            cached_audio_read: self.cached_audio_read.or(base.cached_audio_read),
            output_audio: self.output_audio.or(base.output_audio),
            web_search: self.web_search.or(base.web_search),
        }
    }

    fn map(&self, f: impl Fn(Money) -> Money) -> Rates {
        Rates {
            input: self.input.map(&f),
            output: self.output.map(&f),
            cached_read: self.cached_read.map(&f),
            cache_write_5m: self.cache_write_5m.map(&f),
            cache_write_1h: self.cache_write_1h.map(&f),
            reasoning: self.reasoning.map(&f),
            input_audio: self.input_audio.map(&f),
            cached_audio_read: self.cached_audio_read.map(&f),
            output_audio: self.output_audio.map(&f),
            // A per-search fee is not a token rate: no batch, flex or
            // priority multiple applies to it.
            web_search: self.web_search,
        }
    }
}

/// A long-context tier: once a request's total input (cached included)
/// exceeds `above_input_tokens`, the whole request is billed at these rates
/// (components without a tier rate keep the base rate).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tier {
    pub above_input_tokens: u64,
    pub rates: Rates,
}

/// Prices in effect from `effective` (inclusive) until the next period.
/// `None` means "since before any recorded change".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PricePeriod {
    pub effective: Option<NaiveDate>,
    pub rates: Rates,
    /// Sorted by threshold, ascending.
    pub tiers: Vec<Tier>,
}

/// The most a priority-processing multiplier may be (a sanity bound on
/// imported catalogs: providers charge 1.7 to 2.5 times).
pub const PRIORITY_MAX: i64 = 10;

/// How a call was processed, as far as its price goes: in real time at
/// standard rates, through a batch API, or in a provider's flex or
/// priority tier (the log's `service_tier`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Processing {
    #[default]
    Standard,
    Batch,
    Flex,
    Priority,
    /// Fast mode: the model's fast multiple (Anthropic's `speed: "fast"`),
    /// else its priority rates (OpenAI's name for priority processing).
    Fast,
    /// OpenAI's Ultrafast Processing: no catalog has its rates, so always
    /// priced at standard ones and counted as a tier at standard price.
    Ultrafast,
}

/// What a call's price depends on besides its model, day and usage: its
/// processing, and whether it ran on US-only inference (Anthropic's
/// `usage.inference_geo: "us"`), a multiple that stacks with any
/// processing's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct How {
    pub processing: Processing,
    pub us_only: bool,
}

impl How {
    pub fn new(processing: Processing, us_only: bool) -> How {
        How {
            processing,
            us_only,
        }
    }

    /// The same place of inference under another processing.
    pub fn with(self, processing: Processing) -> How {
        How { processing, ..self }
    }
}

impl From<Processing> for How {
    fn from(processing: Processing) -> How {
        How::new(processing, false)
    }
}

impl From<bool> for How {
    /// `true`: a batch call; `false`: standard.
    fn from(batch: bool) -> How {
        How::new(batch.into(), false)
    }
}

impl From<bool> for Processing {
    /// `true`: a batch call; `false`: standard.
    fn from(batch: bool) -> Processing {
        if batch {
            Processing::Batch
        } else {
            Processing::Standard
        }
    }
}

/// A fraction with six decimals (`0.5` = 500 000 millionths), used for batch
/// discounts and service-tier rates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Multiplier(i64);

impl Multiplier {
    pub const fn from_millionths(m: i64) -> Multiplier {
        Multiplier(m)
    }
    pub const fn millionths(self) -> i64 {
        self.0
    }
    /// A discount: more than 0, at most 1 (so a batch rate is never
    /// above the rate it discounts, nor past the highest rate).
    pub fn parse(text: &str) -> Option<Multiplier> {
        Multiplier::parse_up_to(text, 1)
    }
    /// More than 0, at most `max` (priority processing costs more than
    /// the standard rate: up to [`PRIORITY_MAX`] times it).
    pub fn parse_up_to(text: &str, max: i64) -> Option<Multiplier> {
        crate::money::parse_decimal_scaled(text, 6)
            .and_then(|v| i64::try_from(v).ok())
            .filter(|v| (1..=max * 1_000_000).contains(v))
            .map(Multiplier)
    }
    /// `rate × self`, rounded half away from zero to a whole pico-dollar per
    /// token. Rounding the *rate* once keeps every sum of costs exact.
    pub fn apply(self, rate: Money) -> Money {
        let p = rate.picos() * self.0 as i128;
        let q = p / 1_000_000;
        let r = p % 1_000_000;
        Money::from_picos(if r.abs() * 2 >= 1_000_000 {
            q + p.signum()
        } else {
            q
        })
    }
}

/// The one fraction `other`'s rates are of `normal`'s (input, output,
/// cached reads, 5-minute writes, and each tier's by its threshold): a
/// batch or service tier's prices as a catalog lists them in full, as this
/// catalog keeps them (one multiplier of every rate). `Ok(None)`: `other`
/// gives no price; `Err`: its prices are no one fraction of the normal ones,
/// or past `max`, or it lacks the input or output price.
pub(crate) fn uniform_multiplier(
    (rates, tiers): (&Rates, &[Tier]),
    (other, other_tiers): (&Rates, &[Tier]),
    max: i64,
) -> Result<Option<Multiplier>, ()> {
    let pairs_of = |a: &Rates, b: &Rates| {
        [
            (a.input, b.input),
            (a.output, b.output),
            (a.cached_read, b.cached_read),
            (a.cache_write_5m, b.cache_write_5m),
        ]
    };
    let mut pairs = pairs_of(rates, other).to_vec();
    for t in other_tiers {
        match tiers
            .iter()
            .find(|n| n.above_input_tokens == t.above_input_tokens)
        {
            Some(n) => pairs.extend(pairs_of(&n.rates, &t.rates)),
            None => return Err(()),
        }
    }
    // The fraction the first priced pair gives, to the millionth; each
    // rate it makes, rounded to the pico-dollar as the catalog applies it
    // ([`Multiplier::apply`]), must be the listed one: exactly, or for a
    // cached read to the cent a million tokens, as published prices are
    // rounded (hunt186: gpt-5.4's batch read $0.13 for ½ of $0.25, and
    // gpt-4o-mini's priority 5/3 of every rate, were both dropped).
    let ratio = |normal: Money, other: Money| {
        let n = normal.picos();
        (other.picos() * 1_000_000 * 2 + n) / (2 * n)
    };
    let mut found: Option<i128> = None;
    for (k, (normal, other)) in pairs.iter().enumerate() {
        let (Some(normal), Some(other)) = (*normal, *other) else {
            continue;
        };
        if normal.picos() == 0 {
            continue;
        }
        let m = *found.get_or_insert_with(|| ratio(normal, other));
        let Ok(m64) = i64::try_from(m) else {
            return Err(());
        };
        let made = Multiplier::from_millionths(m64).apply(normal);
        let cached_read = k % 4 == 2;
        let off = (made.picos() - other.picos()).abs();
        // (Half a cent a million tokens, and at most 10% of the rate: a
        // variant's undiscounted $0.01 read beside ½ of every other rate
        // is no rounding, hunt187.)
        if off != 0 && !(cached_read && off <= 5_000 && off * 10 <= other.picos()) {
            return Err(());
        }
    }
    // Input and output prices are both required before claiming support
    // (output only of a model priced for output: an embedding model's
    // batch price is of its input alone).
    if other.input.is_none() || (other.output.is_none() && rates.output.is_some()) {
        return if found.is_some() { Err(()) } else { Ok(None) };
    }
    match found {
        Some(m) if m > 0 && m <= max as i128 * 1_000_000 => {
            Ok(Some(Multiplier::from_millionths(m as i64)))
        }
        Some(_) => Err(()),
        None => Ok(None),
    }
}

impl fmt::Display for Multiplier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format::decimal_text(self.0 as i128, 6))
    }
}

/// One model on one provider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelEntry {
    /// Canonical model id, unique within its provider (`gpt-4o`).
    pub id: String,
    /// Provider id (`openai`).
    pub provider: String,
    /// Display name (`GPT-4o`).
    pub name: String,
    /// Names this model is logged under, besides its id.
    pub match_rule: Option<MatchRule>,
    /// Batch calls cost this fraction of every rate; `None` when no source
    /// gives batch prices for this model.
    pub batch_multiplier: Option<Multiplier>,
    /// Flex-processing calls cost this fraction of every rate; `None` when
    /// no source gives flex prices for this model.
    pub flex_multiplier: Option<Multiplier>,
    /// Priority-processing calls cost this multiple of every rate; `None`
    /// when no source gives priority prices for this model.
    pub priority_multiplier: Option<Multiplier>,
    /// Fast-mode calls cost this multiple of every rate (LiteLLM's
    /// `provider_specific_entry.fast`: Claude Opus 4.8 and 5, 2); `None`:
    /// fast mode is the model's priority processing, if any.
    pub fast_multiplier: Option<Multiplier>,
    /// Calls on US-only inference cost this multiple of every token rate
    /// (Anthropic's `inference_geo: "us"`: LiteLLM's
    /// `provider_specific_entry.us`, 1.1 on Claude Opus 4.6 and later);
    /// `None`: no source gives one, and such calls are priced at the
    /// global rates.
    pub us_multiplier: Option<Multiplier>,
    /// Sorted by `effective`, the undated period (if any) first.
    pub periods: Vec<PricePeriod>,
}

/// The date a catalog's version starts with: the built-in's through an
/// overlay (`2026-12-07+theirs`), so a `--prices` file does not move calls
/// without a time onto the catalog's last, future, period (hunt150: 2×).
fn version_date(version: &str) -> Option<NaiveDate> {
    let first = version.split('+').next().unwrap_or(version);
    NaiveDate::parse_from_str(first, "%Y-%m-%d").ok()
}

/// A pricing catalog. See the module docs.
#[derive(Clone, Debug)]
pub struct Catalog {
    version: String,
    /// `version` read as a date, when it is one: the day a call without a
    /// timestamp is priced on (parsed once, not per call).
    version_date: Option<NaiveDate>,
    sources: Vec<Source>,
    /// In priority order: earlier providers win ties.
    providers: Vec<ProviderInfo>,
    models: Vec<ModelEntry>,
    /// `models[i]`'s index in `providers`.
    model_provider: Vec<usize>,
    /// Its undated prices are what models cost when it was made, not for
    /// all time (LiteLLM's file, which keeps no history): over an entry
    /// with a price history they apply from its last change on
    /// ([`Catalog::overlay`]).
    snapshot: bool,
    /// Rules match newer versions of their model too (`claude-fable-5`'s
    /// prefix takes `claude-fable-5-2`): only while building the builtin,
    /// to find LiteLLM's models that genai-prices' rules would take
    /// ([`MatchRule::score_as`]).
    loose: bool,
}

/// Why a catalog file could not be read. Messages name the model and field.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("price catalog is not valid JSON in our format: {0}")]
    Json(#[from] serde_json::Error),
    #[error("price catalog has schema {found}, this build reads schema {SCHEMA_VERSION}; regenerate it with `tokenaudit prices import`")]
    Schema { found: u32 },
    #[error("price catalog, model {model:?}: {message}")]
    Invalid { model: String, message: String },
}

/// Why a foreign catalog could not be imported at all (single bad entries are
/// skipped and counted in the [`ImportReport`] instead).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("unexpected shape: {0}")]
    Shape(String),
}

/// Why an entry of a foreign catalog was not imported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// Not priced per token (embeddings are kept; images, audio, video,
    /// rerank… are not).
    NotTokenPriced(String),
    MissingInputPrice,
    InvalidPrice(String),
    UnsupportedMatchRule(String),
    Duplicate,
}

impl SkipReason {
    /// A short label to group skips by.
    pub fn label(&self) -> String {
        match self {
            SkipReason::NotTokenPriced(mode) => format!("not priced per token ({mode})"),
            SkipReason::MissingInputPrice => "no input price".to_owned(),
            SkipReason::InvalidPrice(_) => "invalid price".to_owned(),
            SkipReason::UnsupportedMatchRule(_) => "unsupported match rule".to_owned(),
            SkipReason::Duplicate => "duplicate provider and id".to_owned(),
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::InvalidPrice(m) | SkipReason::UnsupportedMatchRule(m) => {
                write!(f, "{}: {m}", self.label())
            }
            _ => f.write_str(&self.label()),
        }
    }
}

/// What an import did: entries imported, entries skipped (with why) and
/// notes on data that was simplified.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub imported: usize,
    pub skipped: Vec<(String, SkipReason)>,
    pub notes: Vec<String>,
}

impl ImportReport {
    /// Skip counts grouped by reason label, sorted by label.
    pub fn skipped_by_reason(&self) -> Vec<(String, usize)> {
        let mut map = std::collections::BTreeMap::<String, usize>::new();
        for (_, reason) in &self.skipped {
            *map.entry(reason.label()).or_default() += 1;
        }
        map.into_iter().collect()
    }
}

/// Cost of one call, split by component.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CostBreakdown {
    /// Uncached input tokens.
    pub input: Money,
    pub cached_read: Money,
    /// 5-minute and 1-hour cache writes.
    pub cache_write: Money,
    /// Of `cache_write`, the 1-hour writes (not counted again in
    /// [`CostBreakdown::total`]).
    pub cache_write_1h: Money,
    /// Output tokens other than reasoning.
    pub output: Money,
    pub reasoning: Money,
    /// Of `input`, `cached_read` and `output`, the audio tokens' part (not
    /// counted again in [`CostBreakdown::total`]).
    pub input_audio: Money,
    pub cached_audio: Money,
    pub output_audio: Money,
    /// Web searches, billed per search (in [`CostBreakdown::total`]).
    pub web_search: Money,
}

impl CostBreakdown {
    pub fn total(&self) -> Money {
        self.input
            + self.cached_read
            + self.cache_write
            + self.output
            + self.reasoning
            + self.web_search
    }
}

impl AddAssign for CostBreakdown {
    fn add_assign(&mut self, rhs: CostBreakdown) {
        self.input += rhs.input;
        self.cached_read += rhs.cached_read;
        self.cache_write += rhs.cache_write;
        self.cache_write_1h += rhs.cache_write_1h;
        self.output += rhs.output;
        self.reasoning += rhs.reasoning;
        self.input_audio += rhs.input_audio;
        self.cached_audio += rhs.cached_audio;
        self.output_audio += rhs.output_audio;
        self.web_search += rhs.web_search;
    }
}

/// The result of pricing one call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Priced {
    pub cost: CostBreakdown,
    /// Start of the price period used (`None`: the undated first period).
    pub effective: Option<NaiveDate>,
    /// The long-context tier applied, by its threshold.
    pub tier_threshold: Option<u64>,
    /// True when batch rates were applied; false when the call was not a
    /// batch call, or was one but the model has no batch price (then it is
    /// priced at normal rates).
    pub batch_priced: bool,
    /// The processing whose rates were applied: the one asked for, or
    /// [`Processing::Standard`] when the model has no price for it.
    pub applied: Processing,
    /// True when the call asked for flex or priority processing and the
    /// model has no price for it: it was priced at standard rates.
    pub tier_at_standard: bool,
    /// True when the call ran on US-only inference and the model's US
    /// multiple was applied.
    pub us_priced: bool,
    /// True when the call ran on US-only inference and the catalog gives
    /// the model no US multiple: it was priced at the global rates.
    pub us_at_global: bool,
    /// True when the call wrote to the cache for an hour and the model has
    /// no 1-hour write rate: those writes were priced at the 5-minute rate.
    pub write_1h_at_5m: bool,
    /// True when the call made web searches and the model has no price
    /// for them: they cost nothing here.
    pub searches_unpriced: bool,
}

impl Catalog {
    /// The catalog shipped with tokenaudit (`data/catalog.json`).
    pub fn builtin() -> Catalog {
        Catalog::from_json_str(BUILTIN_JSON).expect("the embedded catalog is valid (unit-tested)")
    }

    /// Reads a catalog in our format (see `data/README.md`).
    pub fn from_json_str(text: &str) -> Result<Catalog, CatalogError> {
        format::parse(text)
    }

    /// The built-in catalog with `files` (catalog texts, as `--prices`
    /// gives them) overlaid in order; an error names the index of the text
    /// that is not a catalog.
    pub fn builtin_with<'a>(
        files: impl IntoIterator<Item = &'a str>,
    ) -> Result<Catalog, (usize, CatalogError)> {
        let mut catalog = Catalog::builtin();
        for (i, text) in files.into_iter().enumerate() {
            catalog.overlay(Catalog::from_json_str(text).map_err(|e| (i, e))?);
        }
        Ok(catalog)
    }

    /// Pretty JSON in our format, in the catalog's own (stable) order.
    pub fn to_json_string(&self) -> String {
        format::write(self)
    }

    fn new(
        version: String,
        sources: Vec<Source>,
        mut providers: Vec<ProviderInfo>,
        models: Vec<ModelEntry>,
    ) -> Catalog {
        let mut model_provider = Vec::with_capacity(models.len());
        for m in &models {
            let idx = match providers.iter().position(|p| p.id == m.provider) {
                Some(i) => i,
                None => {
                    providers.push(ProviderInfo {
                        id: m.provider.clone(),
                        name: m.provider.clone(),
                        // (hunt150: a contract entry for
                        // `anthropic/claude-sonnet-4-5`, its provider implied
                        // as a host, lost the maker's tie-break: dated Claude
                        // names went to Bedrock's entries, +10%.)
                        kind: ProviderKind::of_id(&m.provider),
                        hint: None,
                        makes: None,
                    });
                    providers.len() - 1
                }
            };
            model_provider.push(idx);
        }
        Catalog {
            version_date: version_date(&version),
            version,
            sources,
            providers,
            models,
            model_provider,
            snapshot: false,
            loose: false,
        }
    }

    /// Its rules also match newer versions of their models (building the
    /// builtin only).
    pub(crate) fn into_loose(mut self) -> Catalog {
        self.loose = true;
        self
    }

    /// Marks its undated prices as a snapshot ([`Catalog::overlay`]).
    pub fn into_snapshot(mut self) -> Catalog {
        self.snapshot = true;
        self
    }

    /// Whether its undated prices are a snapshot.
    pub fn is_snapshot(&self) -> bool {
        self.snapshot
    }

    /// Adds `other`'s models, replacing entries with the same provider and
    /// id: their prices and name replace ours (from their first period's
    /// effective date on, when it has one), their `match` replaces ours but
    /// for a single name (an import's key), which joins ours, and what theirs
    /// leaves out (the batch, flex and priority multipliers) stays ours, so a negotiated rate for `gpt-4o` still
    /// prices `gpt-4o-2024-08-06` and its batch calls. `other`'s providers
    /// replace ours with the same id (keeping ours' `makes` when theirs has
    /// none: a LiteLLM import gives none; their hint joined to ours, so
    /// either spelling names the provider). The version becomes
    /// `"<ours>+<theirs>"` and sources are concatenated.
    pub fn overlay(&mut self, other: Catalog) {
        let mut providers = std::mem::take(&mut self.providers);
        for mut p in other.providers {
            match providers.iter_mut().find(|q| q.id == p.id) {
                Some(q) => {
                    if p.makes.is_none() {
                        p.makes = q.makes.take();
                    }
                    // Theirs is how their source spells the provider, ours
                    // how logs do: either names it (hunt65: a LiteLLM
                    // import left Google only `vertex_ai-language-models`,
                    // and logs' `vertex_ai`, `gemini` became providers of
                    // their own).
                    p.hint = match (q.hint.take(), p.hint) {
                        (Some(ours), Some(theirs)) if ours != theirs => {
                            Some(MatchRule::Or(vec![ours, theirs]))
                        }
                        (ours, theirs) => theirs.or(ours),
                    };
                    // A provider a file names bare keeps our name (its kind
                    // is a maker's when its id is one: `ProviderKind::of_id`).
                    if p.name == p.id {
                        p.name = std::mem::take(&mut q.name);
                    }
                    *q = p
                }
                None => providers.push(p),
            }
        }
        // A catalog imported from genai-prices or LiteLLM gives what its
        // source knows; the builtin took more from the two together (tiers
        // and 1-hour rates from LiteLLM): kept under an import's whole
        // cards (hunt155: `prices import genai-prices` halved gpt-5.5's
        // long requests).
        let imported = other.snapshot
            || other
                .sources
                .iter()
                .any(|s| s.name == "genai-prices" || s.name == "litellm");
        let mut models = std::mem::take(&mut self.models);
        for m in other.models {
            // (Ids are matched whatever their case, as logged names are.)
            match models
                .iter_mut()
                .find(|q| q.provider == m.provider && q.id.eq_ignore_ascii_case(&m.id))
            {
                Some(q) => {
                    let mut m = m;
                    // Prices from a date on (a contract rate from the 15th)
                    // keep ours before that date: a call of the 1st is not
                    // priced at the rate that starts later (hunt63).
                    if let Some(start) = m.periods.first().and_then(|p| p.effective) {
                        let mut periods: Vec<PricePeriod> = q
                            .periods
                            .iter()
                            .filter(|p| p.effective.is_none_or(|e| e < start))
                            .cloned()
                            .collect();
                        periods.append(&mut m.periods);
                        m.periods = periods;
                    } else if other.snapshot {
                        m.periods = snapshot_over(std::mem::take(&mut m.periods), &q.periods);
                    }
                    fill_from(&mut m.periods, &q.periods, imported);
                    // An imported entry's rule is the one name its source
                    // keys it by (`xai/grok-4.3`): ours stays beside it
                    // (hunt82: the built-in's dated names went unpriced).
                    // Any other rule is the user's own, and replaces ours
                    // (hunt89: it could no longer narrow the names).
                    m.match_rule = match (m.match_rule.take(), q.match_rule.take()) {
                        (Some(MatchRule::Equals(name)), Some(ours))
                            if ours != MatchRule::Equals(name.clone()) =>
                        {
                            Some(MatchRule::Or(vec![MatchRule::Equals(name), ours]))
                        }
                        (theirs, ours) => theirs.or(ours),
                    };
                    m.batch_multiplier = m.batch_multiplier.or(q.batch_multiplier.take());
                    m.flex_multiplier = m.flex_multiplier.or(q.flex_multiplier.take());
                    m.priority_multiplier = m.priority_multiplier.or(q.priority_multiplier.take());
                    m.fast_multiplier = m.fast_multiplier.or(q.fast_multiplier.take());
                    m.us_multiplier = m.us_multiplier.or(q.us_multiplier.take());
                    *q = m
                }
                None => models.push(m),
            }
        }
        let mut sources = std::mem::take(&mut self.sources);
        sources.extend(other.sources);
        let version = if other.version.is_empty() || other.version == self.version {
            std::mem::take(&mut self.version)
        } else {
            format!("{}+{}", self.version, other.version)
        };
        *self = Catalog::new(version, sources, providers, models);
    }

    /// Sets the version string (importers leave a placeholder).
    pub fn set_version(&mut self, version: impl Into<String>) {
        self.version = version.into();
        self.version_date = version_date(&self.version);
    }

    pub fn add_source(&mut self, source: Source) {
        self.sources.push(source);
    }

    pub fn version(&self) -> &str {
        &self.version
    }

    pub fn sources(&self) -> &[Source] {
        &self.sources
    }

    pub fn providers(&self) -> &[ProviderInfo] {
        &self.providers
    }

    /// The catalog provider a logged provider name is: by id (`openai`), or
    /// by the names it is logged under (`bedrock` is `aws`, `vertex_ai` and
    /// `gemini` are Google's, the AI SDK's `openai.chat` is OpenAI's); with
    /// none logged, the resolved model's provider. `None`: a name the
    /// catalog does not know.
    ///
    /// A name that holds two providers' (`azure_openai`, `anthropic_vertex`,
    /// `AnthropicBedrock`) is the host's that bills, not the maker's: the
    /// model's maker is passed over when another matches, then a host goes
    /// before a maker, then the most specific match.
    pub fn provider_of(
        &self,
        logged: Option<&str>,
        resolved: Option<ModelId>,
    ) -> Option<&ProviderInfo> {
        let providers = &self.providers;
        let Some(logged) = logged else {
            let of = &self.model(resolved?).provider;
            return providers.iter().find(|p| &p.id == of);
        };
        let logged = logged.to_ascii_lowercase();
        let semconv = resolve::semconv_provider(&logged);
        providers.iter().find(|p| p.id == logged).or_else(|| {
            if let Some(p) = semconv.and_then(|id| providers.iter().find(|p| p.id == id)) {
                return Some(p);
            }
            let maker = resolved.and_then(|id| self.maker(id)).map(|m| &m.id);
            let matches = providers
                .iter()
                .enumerate()
                .filter_map(|(i, p)| Some((p.hint.as_ref()?.score(&logged)?, i)))
                .collect();
            let (_, i) = self.host_of(matches, |i| Some(&providers[i].id) == maker)?;
            Some(&providers[i])
        })
    }

    /// The first-party provider whose `makes` rule matches a model's id
    /// best (Claude is Anthropic's wherever it is served).
    pub fn maker(&self, id: ModelId) -> Option<&ProviderInfo> {
        let name = self.model(id).id.to_ascii_lowercase();
        self.providers
            .iter()
            .filter(|p| p.kind == ProviderKind::FirstParty)
            .filter_map(|p| Some((p.makes.as_ref()?.score(&name)?, p)))
            .max_by_key(|(score, _)| *score)
            .map(|(_, p)| p)
    }

    pub fn model(&self, id: ModelId) -> &ModelEntry {
        &self.models[id.0 as usize]
    }

    pub fn models(&self) -> impl Iterator<Item = (ModelId, &ModelEntry)> {
        self.models
            .iter()
            .enumerate()
            .map(|(i, m)| (ModelId(i as u32), m))
    }

    /// The price period in effect on `day`: the last one whose effective date
    /// is on or before `day` (the earliest if `day` precedes them all). With
    /// no day, the period in effect on the catalog's version date when the
    /// version is a date (so announced future changes are not applied early),
    /// else the last period.
    pub fn period(&self, id: ModelId, day: Option<NaiveDate>) -> &PricePeriod {
        let periods = &self.model(id).periods;
        let day = day.or(self.version_date);
        let chosen = match day {
            Some(day) => periods
                .iter()
                .rev()
                .find(|p| p.effective.is_none_or(|e| e <= day)),
            None => periods.last(),
        };
        chosen.unwrap_or(&periods[0])
    }

    /// Prices one call of model `id` made on `day` (`None`: latest prices).
    /// `how`: a [`How`] or a [`Processing`], or `true` for a batch call.
    pub fn price(
        &self,
        id: ModelId,
        day: Option<NaiveDate>,
        usage: &Usage,
        how: impl Into<How>,
    ) -> Priced {
        self.price_with(id, day, usage, how.into(), Some(usage.input))
    }

    /// Prices `usage` at the rates of the period's long-context tier `tier`
    /// (an index into its tiers; `None`: base rates), for re-pricing usage
    /// summed over requests known to pass it.
    pub fn price_at_tier(
        &self,
        id: ModelId,
        day: Option<NaiveDate>,
        usage: &Usage,
        how: impl Into<How>,
        tier: Option<usize>,
    ) -> Priced {
        let at = tier
            .and_then(|i| self.period(id, day).tiers.get(i))
            .map(|t| t.above_input_tokens + 1);
        self.price_with(id, day, usage, how.into(), at)
    }

    /// Prices `usage` at the base rates of the period, never at a
    /// long-context tier: for re-pricing usage summed over many calls, where
    /// the summed input says nothing about any one request's size.
    pub fn price_base(
        &self,
        id: ModelId,
        day: Option<NaiveDate>,
        usage: &Usage,
        how: impl Into<How>,
    ) -> Priced {
        self.price_with(id, day, usage, how.into(), None)
    }

    /// The base rates of the period `day` falls in, as calls processed
    /// `how` pay them (batch, flex, priority and US-only multiples).
    pub fn rates_how(&self, id: ModelId, day: Option<NaiveDate>, how: impl Into<How>) -> Rates {
        Self::processed(self.model(id), self.period(id, day).rates, how.into()).0
    }

    /// `rates` with `how`'s multiples applied, and the processing's multiple
    /// (none where the model has none for it).
    fn processed(model: &ModelEntry, mut rates: Rates, how: How) -> (Rates, Option<Multiplier>) {
        let us = how.us_only.then_some(model.us_multiplier).flatten();
        let multiplier = match how.processing {
            Processing::Standard => None,
            Processing::Batch => model.batch_multiplier,
            Processing::Flex => model.flex_multiplier,
            Processing::Priority => model.priority_multiplier,
            Processing::Fast => model.fast_multiplier.or(model.priority_multiplier),
            Processing::Ultrafast => None,
        };
        if let Some(m) = multiplier {
            rates = rates.map(|r| m.apply(r));
        }
        // Every token rate: a search's fee is not inference.
        if let Some(m) = us {
            let search = rates.web_search;
            rates = rates.map(|r| m.apply(r));
            rates.web_search = search;
        }
        (rates, multiplier)
    }

    fn price_with(
        &self,
        id: ModelId,
        day: Option<NaiveDate>,
        usage: &Usage,
        how: How,
        // The request size that chooses a long-context tier (`None`: no
        // tier).
        request_input: Option<u64>,
    ) -> Priced {
        let model = self.model(id);
        let period = self.period(id, day);
        let tier = period
            .tiers
            .iter()
            .rev()
            .find(|t| request_input.is_some_and(|n| n > t.above_input_tokens));
        let rates = match tier {
            Some(t) => t.rates.or(&period.rates),
            None => period.rates,
        };
        let (rates, multiplier) = Self::processed(model, rates, how);
        let us_only = how.us_only;
        let us = us_only.then_some(model.us_multiplier).flatten();
        let how = how.processing;
        let batch_priced = how == Processing::Batch && multiplier.is_some();
        let tier_at_standard = matches!(
            how,
            Processing::Flex | Processing::Priority | Processing::Fast | Processing::Ultrafast
        ) && multiplier.is_none();
        let input = rates.input.unwrap_or(Money::ZERO);
        let output = rates.output.unwrap_or(Money::ZERO);
        let cached = rates.cached_read.unwrap_or(input);
        let write_5m = rates.cache_write_5m.unwrap_or(input);
        let write_1h = rates.cache_write_1h.unwrap_or(write_5m);
        let reasoning = rates.reasoning.unwrap_or(output);
        let cache_write_1h = usage.cache_write_1h.min(usage.cache_write);
        let write_1h_at_5m = cache_write_1h > 0 && rates.cache_write_1h.is_none();
        // Audio tokens at their own rates, the rest of each component at
        // the text rate.
        // (Most calls have none: their multiplications are skipped.)
        let (audio_in, audio_cached, audio_out) = if usage.input_audio | usage.output_audio == 0 {
            (0, 0, 0)
        } else {
            (
                usage.uncached_audio(),
                usage.cached_audio_read(),
                usage.visible_audio_output(),
            )
        };
        let part = |rate: Money, n: u64| if n == 0 { Money::ZERO } else { rate * n };
        let input_audio = part(rates.input_audio.unwrap_or(input), audio_in);
        let cached_audio = part(rates.cached_audio_read.unwrap_or(cached), audio_cached);
        let output_audio = part(rates.output_audio.unwrap_or(output), audio_out);
        let cost = CostBreakdown {
            input: input * (usage.uncached_input() - audio_in) + input_audio,
            cached_read: cached * (usage.cached_read - audio_cached) + cached_audio,
            cache_write: write_5m * (usage.cache_write - cache_write_1h)
                + write_1h * cache_write_1h,
            cache_write_1h: write_1h * cache_write_1h,
            output: output * (usage.visible_output() - audio_out) + output_audio,
            reasoning: reasoning * usage.reasoning.min(usage.output),
            input_audio,
            cached_audio,
            output_audio,
            web_search: part(rates.web_search.unwrap_or(Money::ZERO), usage.web_searches),
        };
        Priced {
            cost,
            effective: period.effective,
            tier_threshold: tier.map(|t| t.above_input_tokens),
            batch_priced,
            applied: if multiplier.is_some() {
                how
            } else {
                Processing::Standard
            },
            tier_at_standard,
            us_priced: us.is_some(),
            us_at_global: us_only && us.is_none(),
            write_1h_at_5m,
            searches_unpriced: usage.web_searches > 0 && rates.web_search.is_none(),
        }
    }
}

/// The rates, tiers and search fee a file's price period without an output
/// rate (a partial override) leaves out are those of the builtin period in
/// effect when it starts: an entry that sets a negotiated input rate keeps
/// the output, cache and long-context prices
/// (hunt150: `{"input": "2"}` for gpt-4o made its output free, its cache
/// reads full price, Gemini 2.5 Pro's tier gone, unsaid). A rate the file
/// means as free is written `"0"`.
fn fill_from(theirs: &mut [PricePeriod], ours: &[PricePeriod], imported: bool) {
    let one = theirs.len() == 1;
    // An import whose history has a long-context tier knows the model's
    // tiers: a period of it without one is flat (hunt174: genai-prices'
    // Claude Opus 4.6 on Vertex, flat from 2026-03-13, took the builtin's
    // older tier back: 1.93×).
    let knows_tiers = imported && theirs.iter().any(|p| !p.tiers.is_empty());
    for p in theirs.iter_mut() {
        // A period with an output rate is a whole price card: what it
        // leaves out means what the format says (cached reads at the input
        // rate, 1-hour writes at the 5-minute one, no long-context tier;
        // hunt153: a contract's long requests at the builtin's list tier).
        // But an import's: what its source does not know.
        if p.rates.output.is_some() && !imported {
            continue;
        }
        // Ours in effect on the period's first day: for an undated period,
        // the latest when it is the file's only one (a contract's rate),
        // else the earliest (the start of an imported history). A period of
        // ours kept before a dated entry is itself.
        let base = match p.effective {
            Some(start) => ours
                .iter()
                .rev()
                .find(|o| o.effective.is_none_or(|o| o <= start)),
            None if one => ours.last(),
            None => ours.first(),
        };
        let Some(base) = base else { continue };
        if base == p {
            continue;
        }
        p.rates = p.rates.or(&base.rates);
        if p.tiers.is_empty() && !knows_tiers {
            p.tiers = base.tiers.clone();
        } else {
            // A tier it gives in part keeps the rest of ours at the same
            // threshold (hunt174: `{"input": "2"}` past 200k on Gemini 2.5
            // Pro took the base output and cached rates for the tier's).
            for t in &mut p.tiers {
                if let Some(ours) = base
                    .tiers
                    .iter()
                    .find(|o| o.above_input_tokens == t.above_input_tokens)
                {
                    t.rates = t.rates.or(&ours.rates);
                }
            }
        }
    }
}

/// A snapshot's undated prices (`theirs`) over an entry's price history
/// (`ours`, in date order): a snapshot says what a model cost when it was
/// made, so the history before our last change stays (hunt111: a LiteLLM
/// import priced o3's calls of May 2025 at the cut of June 10, a fifth of
/// their price). Prices our history has (a snapshot older than our last
/// change) keep our history whole; other prices apply from our last
/// change on.
fn snapshot_over(mut theirs: Vec<PricePeriod>, ours: &[PricePeriod]) -> Vec<PricePeriod> {
    // Input and output of $0 over a priced model is LiteLLM's placeholder
    // for a price it does not know, as the builtin's build reads it
    // (hunt150: `gemini/gemma-4-31b-it`'s calls at $0 after an import).
    let zero = Some(Money::ZERO);
    let placeholder = |p: &PricePeriod| p.rates.input == zero && p.rates.output.or(zero) == zero;
    if let ([one], false) = (theirs.as_slice(), ours.iter().all(placeholder)) {
        if placeholder(one) {
            return ours.to_vec();
        }
    }
    let Some(last) = ours.last().and_then(|p| p.effective) else {
        return theirs;
    };
    let [one] = theirs.as_mut_slice() else {
        return theirs;
    };
    // (Rates one side does not give, web search in LiteLLM's and not in
    // ours, are not compared: hunt113, an older snapshot of gpt-5.6-luna
    // with a web-search fee overwrote the cut after it. A long-context tier
    // the snapshot gives and the period does not is a price the history
    // lacks: hunt115, o3's was dropped.)
    if ours
        .iter()
        .any(|p| agrees(&one.rates, &p.rates) && (one.tiers.is_empty() || one.tiers == p.tiers))
    {
        return ours.to_vec();
    }
    let latest = &ours[ours.len() - 1];
    one.rates = one.rates.or(&latest.rates);
    one.effective = Some(last);
    let mut periods: Vec<PricePeriod> = ours[..ours.len() - 1].to_vec();
    periods.append(&mut theirs);
    periods
}

/// Whether two price sets give the same input and output rates, and the
/// same of every other rate both give.
fn agrees(a: &Rates, b: &Rates) -> bool {
    let both = |x: Option<Money>, y: Option<Money>| x.is_none() || y.is_none() || x == y;
    a.input.is_some()
        && a.input == b.input
        && a.output == b.output
        && both(a.cached_read, b.cached_read)
        && both(a.cache_write_5m, b.cache_write_5m)
        && both(a.cache_write_1h, b.cache_write_1h)
        && both(a.reasoning, b.reasoning)
        && both(a.input_audio, b.input_audio)
        && both(a.cached_audio_read, b.cached_audio_read)
        && both(a.output_audio, b.output_audio)
        && both(a.web_search, b.web_search)
}
