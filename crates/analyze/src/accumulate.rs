//! The per-worker sink that prices each record and folds it into attribution
//! tables.
//!
//! Each ingest worker owns one [`Accumulator`]; they are merged at the end.
//! Every table holds additive [`Stats`] under a key that is text, or, for
//! the hot group table, a [`GroupKey`] of labels interned per worker (the
//! merge maps the other worker's labels to its own), so the merge is
//! order-independent and the result identical on every run. Memory grows with
//! the number of distinct keys (features, models, users, sessions, days), not
//! with the number of calls.

use std::borrow::Cow;
use std::hash::BuildHasher;

use chrono::{DateTime, NaiveDate, Timelike, Utc};
use rustc_hash::FxHashMap;

use tokenaudit_core::pricing::{
    Catalog, CostBreakdown, How, ModelId, Priced, Processing, ServedModels,
};
use tokenaudit_core::{CallRecord, CallStatus, Field, Money, ServiceTier, Usage};
use tokenaudit_ingest::{fields, Location, RecordSink};

use crate::budget::{call_budget, Budget};
use crate::coverage::{Counts, Via};
use crate::infer::sessions::TurnCall;
use crate::infer::timeline::Grouping;
use crate::observe::{
    key_of, Attempt, Call, CellObs, ChainHead, ChainObs, Keyed, PromptObs, SessionObs, TextCall,
    NO_TIME,
};
use crate::spill::SpillTable;
use crate::stats::{CostParts, Stats};

mod wire;

/// What the audit looks at.
#[derive(Clone, Debug, Default)]
pub struct AnalyzeConfig {
    /// Only calls at or after this instant.
    pub since: Option<DateTime<Utc>>,
    /// Only calls before this instant.
    pub until: Option<DateTime<Utc>>,
    /// The `[[budget]]`s: calls over their feature's per-call budget are
    /// counted as they pass (the budget rule reads them and the totals).
    pub budgets: Vec<Budget>,
    /// Attribution only: no observations, no findings, no savings (faster).
    pub attribution_only: bool,
    /// Also price every call at list price (no batch or cache-read discount)
    /// into [`Group::list_cost`], for exports that report list cost (FOCUS).
    /// Off by default: it prices calls with cached reads or batch rates a
    /// second time.
    pub list_costs: bool,
    /// A period before the audited one (`[start, end)`, e.g. the previous
    /// month of a monthly review) whose calls are not audited but priced and
    /// summed per feature and model, for period-over-period changes in the
    /// same pass. They still count as outside the window.
    pub previous: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// Keep a short excerpt of the prompt (or system prompt) of the few
    /// calls the prompt findings show (`--include-prompts`). Off by default:
    /// no prompt text reaches a report unless asked for.
    pub include_prompts: bool,
    /// Which dimension plays the feature (`[attribution] feature`).
    pub feature_from: FeatureFrom,
}

impl AnalyzeConfig {
    /// Whether a call at `t` is in the window (`--since`/`--until`).
    #[inline]
    pub fn in_window(&self, t: DateTime<Utc>) -> bool {
        self.since.is_none_or(|s| s <= t) && self.until.is_none_or(|u| t < u)
    }

    /// Whether a call at `t` is in the period the window is compared with.
    #[inline]
    pub fn in_previous(&self, t: DateTime<Utc>) -> bool {
        self.previous.is_some_and(|(from, to)| from <= t && t < to)
    }

    /// Whether a call at `t` (`None`: without a time) is in some figure of
    /// the audit: the window's, or the period's it is compared with.
    pub fn counts(&self, t: Option<DateTime<Utc>>) -> bool {
        match t {
            Some(t) => self.in_window(t) || self.in_previous(t),
            None => self.since.is_none() && self.until.is_none(),
        }
    }

    /// The config that accumulates the calls of `day` (`None`: the calls
    /// without a timestamp) exactly as this one does, with the window taken
    /// out: `None` when the window or the previous period cuts the day, so
    /// that which of its calls count depends on their time of day. A whole
    /// day inside the window is accumulated with no window at all; one
    /// wholly before or after it, with every call outside, and in the
    /// previous period if that holds the day. The result depends on the
    /// day's role, not on where the window lies, so a day's accumulator is
    /// the same for every window that holds it whole (a store keeps it,
    /// `tokenaudit_store::cache`).
    pub fn whole_day(&self, day: Option<NaiveDate>) -> Option<AnalyzeConfig> {
        let windowed = self.since.is_some() || self.until.is_some();
        let (start, end) = match day {
            // Without a time a call is audited only when no window is set.
            None if windowed => return None,
            None => (DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC),
            Some(d) => (
                d.and_hms_opt(0, 0, 0)?.and_utc(),
                d.succ_opt()?.and_hms_opt(0, 0, 0)?.and_utc(),
            ),
        };
        let inside = self.since.is_none_or(|s| s <= start) && self.until.is_none_or(|u| end <= u);
        let outside =
            self.since.is_some_and(|s| end <= s) || self.until.is_some_and(|u| u <= start);
        let (until, previous) = if inside {
            (None, None)
        } else if outside {
            let previous = match self.previous {
                Some((from, to)) if from <= start && end <= to => {
                    Some((DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC))
                }
                Some((from, to)) if start < to && from < end => return None,
                _ => None,
            };
            // Every call at or after the dawn of time is outside.
            (Some(DateTime::<Utc>::MIN_UTC), previous)
        } else {
            return None;
        };
        Some(AnalyzeConfig {
            since: None,
            until,
            previous,
            ..self.clone()
        })
    }
}

/// Which of a call's dimensions is its feature: the config file's
/// `[attribution] feature = "…"`, so that a log whose features live in a
/// tag or a route needs no mapping.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum FeatureFrom {
    /// The logged `feature` field, else a tag named `feature` (LiteLLM's
    /// `request_tags: ["feature:support-assistant"]` is read as that tag),
    /// else none.
    #[default]
    Feature,
    /// The value of one tag (`tag:product`).
    Tag(String),
    Route,
    Team,
    User,
}

impl FeatureFrom {
    /// As `[attribution] feature` writes it: `None` for the default.
    pub fn text(&self) -> Option<String> {
        match self {
            FeatureFrom::Feature => None,
            FeatureFrom::Tag(key) => Some(format!("tag:{key}")),
            FeatureFrom::Route => Some("route".into()),
            FeatureFrom::Team => Some("team".into()),
            FeatureFrom::User => Some("user".into()),
        }
    }

    /// Reads `feature`, `tag:KEY`, `route`, `team` or `user`.
    pub fn parse(text: &str) -> Result<FeatureFrom, String> {
        let t = text.trim();
        match t {
            "feature" => Ok(FeatureFrom::Feature),
            "route" => Ok(FeatureFrom::Route),
            "team" => Ok(FeatureFrom::Team),
            "user" => Ok(FeatureFrom::User),
            _ => match t.strip_prefix("tag:").map(str::trim) {
                Some(key) if !key.is_empty() => Ok(FeatureFrom::Tag(key.to_string())),
                _ => Err(format!(
                    "{t:?}: expected feature, route, team, user or tag:KEY (e.g. tag:product)"
                )),
            },
        }
    }

    /// The feature of `r`, if it has one.
    #[inline]
    pub fn of<'r>(&self, r: &'r CallRecord<'_>) -> Option<Cow<'r, str>> {
        // Every call asks: the usual answer first, without a call.
        match (self, r.feature.as_deref()) {
            (FeatureFrom::Feature, Some(f)) => Some(Cow::Borrowed(f)),
            _ => self.of_other(r),
        }
    }

    fn of_other<'r>(&self, r: &'r CallRecord<'_>) -> Option<Cow<'r, str>> {
        let tag = |key: &str| {
            r.tags
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_ref())
        };
        match self {
            FeatureFrom::Feature => r
                .feature
                .as_deref()
                .or_else(|| tag("feature"))
                .map(Cow::Borrowed),
            FeatureFrom::Tag(key) => tag(key).map(Cow::Borrowed),
            // As the route table names it, ids templated (hunt176: a
            // feature per Assistants thread).
            FeatureFrom::Route => r.route.as_deref().map(crate::route::template),
            FeatureFrom::Team => r.team.as_deref().map(Cow::Borrowed),
            FeatureFrom::User => r.user.as_deref().map(Cow::Borrowed),
        }
    }
}

/// The label used for a dimension a record does not carry.
pub const NONE: &str = "(none)";

/// The single-key dimensions attribution reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dim {
    Feature,
    Model,
    Provider,
    Route,
    Team,
    User,
    Session,
}

impl Dim {
    pub const ALL: [Dim; 7] = [
        Dim::Feature,
        Dim::Model,
        Dim::Provider,
        Dim::Route,
        Dim::Team,
        Dim::User,
        Dim::Session,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Dim::Feature => "feature",
            Dim::Model => "model",
            Dim::Provider => "provider",
            Dim::Route => "route",
            Dim::Team => "team",
            Dim::User => "user",
            Dim::Session => "session",
        }
    }
}

/// A text-keyed table of stats.
pub type Table = FxHashMap<Box<str>, Stats>;

/// Adds one call to `table[key]`; looks up by `&str` so a hit does not
/// allocate, and only once.
#[inline]
fn bump(table: &mut Table, key: &str, status: CallStatus, usage: &Usage, cost: Option<Money>) {
    match table.get_mut(key) {
        Some(s) => s.add(status, usage, cost),
        None => {
            let mut s = Stats::default();
            s.add(status, usage, cost);
            table.insert(key.into(), s);
        }
    }
}

/// One group of calls sharing provider, model, feature, route, team, day
/// and batch flag: the unit of attribution and of what-if re-pricing.
#[derive(Clone, Debug, Default)]
pub struct Group {
    pub resolved: Option<ModelId>,
    pub stats: Stats,
    /// Usage of the group's failed calls (part of `stats`).
    pub failed: Usage,
    /// Σ 1-hour cache writes (part of `stats.cache_write_tokens`).
    pub cache_write_1h: u64,
    /// Σ audio tokens: of the input, of the cached reads, of the output.
    pub audio: [u64; 3],
    /// Σ web searches.
    pub web_searches: u64,
    /// `stats.cost` split by token kind (exact: the parts add up to it).
    pub cost: CostParts,
    /// The same calls at list price, by token kind (only with
    /// [`AnalyzeConfig::list_costs`]; zero otherwise). See [`list_cost`].
    pub list_cost: CostParts,
    /// Index into the accumulator's cells (not stable across workers).
    pub(crate) cell: u32,
}

/// A label (feature, model, provider, route, team) interned in one
/// accumulator's [`Labels`]. Only meaningful there: merging remaps ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Label(u32);

/// One accumulator's interned labels: each distinct text stored once, named
/// by a [`Label`].
#[derive(Clone, Debug, Default)]
pub struct Labels {
    index: FxHashMap<Box<str>, Label>,
    names: Vec<Box<str>>,
}

impl Labels {
    /// The label of `text`, added on first sight.
    pub fn intern(&mut self, text: &str) -> Label {
        if let Some(&l) = self.index.get(text) {
            return l;
        }
        let l = Label(self.names.len() as u32);
        self.names.push(text.into());
        self.index.insert(text.into(), l);
        l
    }

    pub fn name(&self, label: Label) -> &str {
        &self.names[label.0 as usize]
    }

    /// For each of `other`'s labels, by id, the same text's label here.
    fn remap(&mut self, other: &Labels) -> Vec<Label> {
        other.names.iter().map(|n| self.intern(n)).collect()
    }
}

/// What makes a group: the call's logged provider (`""` when the record has
/// none) and logged model, its feature, route and team ([`NONE`] when
/// absent), its day, whether it went through a batch API and its flex or
/// priority service tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GroupKey {
    pub provider: Label,
    pub model: Label,
    pub feature: Label,
    pub route: Label,
    pub team: Label,
    pub day: Option<NaiveDate>,
    pub batch: bool,
    pub tier: Option<ServiceTier>,
    /// US-only inference (Anthropic's `inference_geo: "us"`).
    pub us_only: bool,
}

impl GroupKey {
    /// How the group's calls were processed, as their price goes.
    pub fn processing(&self) -> Processing {
        ServiceTier::processing(self.batch, self.tier)
    }

    /// Their processing and place of inference.
    pub fn how(&self) -> How {
        How::new(self.processing(), self.us_only)
    }
}

/// A group key as text, borrowed from a record: what the table is hashed
/// by, so that finding a call's group needs no interning.
#[derive(Hash)]
struct KeyText<'a> {
    provider: &'a str,
    model: &'a str,
    feature: &'a str,
    route: &'a str,
    team: &'a str,
    day: Option<NaiveDate>,
    batch: bool,
    tier: Option<ServiceTier>,
    us_only: bool,
}

impl KeyText<'_> {
    fn hash(&self) -> u64 {
        rustc_hash::FxBuildHasher.hash_one(self)
    }

    fn matches(&self, key: &GroupKey, labels: &Labels) -> bool {
        self.day == key.day
            && self.batch == key.batch
            && self.tier == key.tier
            && self.us_only == key.us_only
            && self.model == labels.name(key.model)
            && self.feature == labels.name(key.feature)
            && self.provider == labels.name(key.provider)
            && self.route == labels.name(key.route)
            && self.team == labels.name(key.team)
    }

    fn intern(&self, labels: &mut Labels) -> GroupKey {
        GroupKey {
            provider: labels.intern(self.provider),
            model: labels.intern(self.model),
            feature: labels.intern(self.feature),
            route: labels.intern(self.route),
            team: labels.intern(self.team),
            day: self.day,
            batch: self.batch,
            tier: self.tier,
            us_only: self.us_only,
        }
    }
}

impl GroupKey {
    fn text<'l>(&self, labels: &'l Labels) -> KeyText<'l> {
        KeyText {
            provider: labels.name(self.provider),
            model: labels.name(self.model),
            feature: labels.name(self.feature),
            route: labels.name(self.route),
            team: labels.name(self.team),
            day: self.day,
            batch: self.batch,
            tier: self.tier,
            us_only: self.us_only,
        }
    }

    fn remapped(&self, to: &[Label]) -> GroupKey {
        let m = |l: Label| to[l.0 as usize];
        GroupKey {
            provider: m(self.provider),
            model: m(self.model),
            feature: m(self.feature),
            route: m(self.route),
            team: m(self.team),
            ..*self
        }
    }
}

/// No group in a hash chain.
const END: u32 = u32::MAX;

/// The groups in insertion order, found by the hash of their key's text:
/// one hash of the record's labels and one probe find a call's slot (then
/// indexed), with no interning and no key built on the hot path. Keys whose
/// hashes collide are chained.
#[derive(Clone, Debug, Default)]
pub struct GroupTable {
    /// The last group pushed with each hash.
    heads: FxHashMap<u64, u32>,
    /// Per group: the previous group with the same hash, or [`END`].
    next: Vec<u32>,
    pub(crate) list: Vec<(GroupKey, Group)>,
}

impl GroupTable {
    fn find(&self, hash: u64, mut is: impl FnMut(&GroupKey) -> bool) -> Option<usize> {
        let mut i = *self.heads.get(&hash)?;
        while i != END {
            if is(&self.list[i as usize].0) {
                return Some(i as usize);
            }
            i = self.next[i as usize];
        }
        None
    }

    fn push(&mut self, hash: u64, key: GroupKey, group: Group) -> usize {
        let i = self.list.len();
        self.next
            .push(self.heads.insert(hash, i as u32).unwrap_or(END));
        self.list.push((key, group));
        i
    }

    pub fn iter(&self) -> impl Iterator<Item = (&GroupKey, &Group)> {
        self.list.iter().map(|(k, g)| (k, g))
    }
}

/// One (feature, model) pair and what the detectors observed of it.
#[derive(Clone, Debug)]
pub struct Cell {
    pub feature: Box<str>,
    /// `provider/id` in the catalog, or the model as logged when unknown.
    pub model: Box<str>,
    pub resolved: Option<ModelId>,
    /// Hash of (feature, model): the cell's identity across workers.
    pub key: u64,
    /// Hash of the feature alone (retry chains may cross models).
    pub(crate) feature_key: u64,
    pub(crate) call_budget: Option<Money>,
    pub obs: CellObs,
}

/// A tag's key as its row names it (`key=value`): a `=` or `\` in the key
/// escaped with a `\`, so the first unescaped `=` ends it (hunt76: `a=b`
/// → `c` and `a` → `b=c` were one row, `a=b=c`).
fn push_tag_key(buf: &mut String, key: &str) {
    if !key.contains(['=', '\\']) {
        buf.push_str(key);
        return;
    }
    for c in key.chars() {
        if matches!(c, '=' | '\\') {
            buf.push('\\');
        }
        buf.push(c);
    }
}

impl Accumulator<'_> {
    /// The tier a call's group keeps (none for a batch call): fast mode on
    /// a model without a fast multiple is its priority processing (OpenAI
    /// renamed it), kept as priority, so a what-if routing it to a model
    /// with a fast mode of its own does not price it there (hunt80: a
    /// gpt-5 "fast" call routed to Claude Opus 5 at twice its priority
    /// call's price).
    fn group_tier(&mut self, r: &CallRecord<'_>) -> Option<ServiceTier> {
        match r.service_tier {
            _ if r.is_batch() => None,
            Some(ServiceTier::Fast) => {
                // Resolved once per logged model (a Claude Code session in
                // fast mode is fast on every call).
                let key = (
                    self.labels.intern(r.provider.as_deref().unwrap_or("")),
                    self.labels.intern(&r.model),
                );
                let catalog = self.catalog;
                let own = *self.fast_own.entry(key).or_insert_with(|| {
                    catalog
                        .resolve(r.provider.as_deref(), &r.model)
                        .is_some_and(|id| catalog.model(id).fast_multiplier.is_some())
                });
                Some(if own {
                    ServiceTier::Fast
                } else {
                    ServiceTier::Priority
                })
            }
            t => t,
        }
    }
}

/// Adds `b` to `a`, field by field.
pub fn add_usage(a: &mut Usage, b: &Usage) {
    a.input += b.input;
    a.cached_read += b.cached_read;
    a.cache_write += b.cache_write;
    a.cache_write_1h += b.cache_write_1h;
    a.output += b.output;
    a.reasoning += b.reasoning;
    a.input_audio += b.input_audio;
    a.cached_audio += b.cached_audio;
    a.output_audio += b.output_audio;
    a.web_searches += b.web_searches;
}

/// One call's cost at list price, by token kind: what it would have cost
/// with no batch discount and with its cached reads billed at the plain
/// input rate (the price period and long-context tier stay those of the
/// call; cache writes stay at their own rate, a premium rather than a
/// discount). `priced` is the call's real price. Exact: the cached-read part
/// is the input rate times the cached tokens, computed as the difference of
/// two pricings of the same request.
pub fn list_cost(
    catalog: &Catalog,
    id: ModelId,
    day: Option<NaiveDate>,
    usage: &Usage,
    priced: &Priced,
) -> CostBreakdown {
    // Batch and flex rates are discounts; priority's is a premium, the
    // call's list price.
    let us_only = priced.us_priced;
    let full = if matches!(priced.applied, Processing::Batch | Processing::Flex) {
        catalog
            .price(id, day, usage, How::new(Processing::Standard, us_only))
            .cost
    } else {
        priced.cost
    };
    let mut list = full;
    if usage.cached_read > 0 {
        // Same request with its cached reads counted as plain input: the
        // total input (which picks the tier) does not change.
        let uncached = Usage {
            cached_read: 0,
            cached_audio: 0,
            ..*usage
        };
        // At the rates the call was billed at (priority's own: hunt76,
        // priced at standard rates its cached reads' list cost was
        // negative).
        let how = match priced.applied {
            p @ (Processing::Priority | Processing::Fast) => p,
            _ => Processing::Standard,
        };
        let all = catalog
            .price(id, day, &uncached, How::new(how, us_only))
            .cost;
        list.cached_read = all.input - full.input;
        list.cached_audio = all.input_audio - full.input_audio;
    }
    list
}

/// Logged versus computed cost over the calls that carry a logged cost.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reconcile {
    pub calls: u64,
    pub logged: Money,
    pub computed: Money,
    /// The priced calls whose logged cost is off the computed one by more
    /// than 1% (and a millionth of a dollar), and the sum of every priced
    /// call's difference, unsigned: a model's sums can agree while its
    /// calls do not (hunt150: +50% and −50% said as 0.0%).
    pub differing: u64,
    pub apart: Money,
}

/// One worker's partial results.
pub struct Accumulator<'c> {
    catalog: &'c Catalog,
    config: &'c AnalyzeConfig,
    /// Which model prices a call whose response names another one (a
    /// memo: neither merged nor encoded).
    served: ServedModels,
    /// Whether a (logged provider, logged model) has a fast mode of its own
    /// (see [`Accumulator::group_tier`]; a memo: neither merged nor encoded).
    fast_own: rustc_hash::FxHashMap<(Label, Label), bool>,
    /// Scratch text for tag keys (`key=value`).
    key_buf: String,
    /// The labels of the group keys, the cells and the previous period.
    pub(crate) labels: Labels,
    /// The hot table: one entry per distinct (logged provider, logged model,
    /// feature, route, team, day, batch). One lookup per call finds the group
    /// and its cached model resolution; the per-dimension tables are rolled
    /// up from the groups at the end.
    pub(crate) groups: GroupTable,
    pub(crate) cells: Vec<Cell>,
    /// Cells by (feature, model label: `provider/id`, or as logged).
    cell_index: FxHashMap<(Label, Label), u32>,
    pub(crate) keyed: Keyed,
    pub(crate) totals: Stats,
    pub(crate) cost_parts: CostParts,
    /// Users, sessions and tags grow with the input (a tag may carry a
    /// trace id): exact, spilled to disk past a bound (see `spill.rs`).
    pub(crate) users: SpillTable,
    pub(crate) sessions: SpillTable,
    pub(crate) tags: SpillTable,
    pub(crate) error_kinds: Table,
    pub(crate) reconcile: FxHashMap<Box<str>, Reconcile>,
    pub(crate) coverage: [u64; Field::ALL.len()],
    /// Calls per input source, for the rules' coverage (`coverage.rs`).
    pub(crate) via: Counts,
    pub(crate) first: Option<DateTime<Utc>>,
    pub(crate) last: Option<DateTime<Utc>>,
    /// Calls by minute of the day (UTC, 1,440): when in a day the traffic
    /// comes (`Audit::period_days`).
    pub(crate) minutes: Vec<u64>,
    pub(crate) outside_window: u64,
    /// Of those, the calls without a time a window could not place (batch
    /// results): not in the cached states (a store counts its untimed
    /// parts).
    pub(crate) untimed_outside: u64,
    /// Of those, the ones outside the period before it too (so in no
    /// figure), by source ([`Location::source`]): a file with the same
    /// text as another is counted twice only for its other calls. Not in
    /// the cached states (a store's audit counts them from its parts,
    /// `IngestSummary::counted_by_source`).
    pub(crate) uncounted_by_source: Vec<u64>,
    pub(crate) batch_at_full_price: u64,
    /// Flex or priority calls priced at standard rates (the catalog has no
    /// such price for their model).
    pub(crate) tier_at_standard: u64,
    /// Calls whose 1-hour cache writes were priced at the 5-minute rate
    /// (the catalog has no 1-hour rate for their model).
    pub(crate) write_1h_at_5m: u64,
    /// Calls on provisioned throughput (billed by reservation), priced at
    /// standard rates.
    pub(crate) provisioned: u64,
    /// Calls whose web searches have no price (counted at $0).
    pub(crate) searches_unpriced: u64,
    pub(crate) long_context_calls: u64,
    /// Calls on US-only inference priced at their model's US multiple, and
    /// those whose model has none in the catalog (priced at global rates).
    pub(crate) us_only_calls: u64,
    pub(crate) us_at_global: u64,
    pub(crate) most_expensive: Vec<ExpensiveCall>,
    /// Calls of [`AnalyzeConfig::previous`], when asked for.
    pub(crate) previous: Option<Previous>,
    /// Calls logged twice (see `repeats.rs`).
    pub(crate) repeats: crate::repeats::Repeats,
    /// The retry evidence of the unit being read, settled at its end.
    unit: UnitChains,
}

/// A unit's failed calls and successes of prompts that may have failed,
/// kept until the unit ends ([`RecordSink::end_unit`], or the state is
/// encoded or taken for the detectors) and then matched in time order: which success ends which chain then depends on the unit's
/// calls only, not on which worker read the unit or in what order.
#[derive(Default)]
struct UnitChains {
    /// (chain key, millis) of each failed call.
    failed: Vec<(u64, i64)>,
    /// Successes that were no marked retry.
    ok: Vec<UnitSuccess>,
    /// Scratch: the keys of `failed`.
    keys: rustc_hash::FxHashSet<u64>,
}

#[derive(Clone, Copy, Debug)]
struct UnitSuccess {
    millis: i64,
    key: u64,
    cell: u64,
    cost: i64,
}

/// One unit's settling (see `Accumulator::settle_unit`): each success that
/// follows a failure of its prompt (the first after each failure) is handed
/// to `join` with its chain's key, as the attempt that ends the chain; of
/// the other successes, the `heads` earliest and latest are returned as
/// heads. `keys` is scratch (the failed prompts).
fn settle(
    failed: &[(u64, i64)],
    ok: &[UnitSuccess],
    heads: usize,
    keys: &mut rustc_hash::FxHashSet<u64>,
    mut join: impl FnMut(u64, Attempt),
) -> Vec<ChainHead> {
    keys.clear();
    keys.extend(failed.iter().map(|&(k, _)| k));
    // Successes of failed prompts, with the failures, in time order per
    // prompt (a failure first at equal times).
    let mut events: Vec<(u64, i64, bool, usize)> =
        failed.iter().map(|&(k, m)| (k, m, false, 0)).collect();
    let mut joined = vec![false; ok.len()];
    if !keys.is_empty() {
        for (i, s) in ok.iter().enumerate() {
            if keys.contains(&s.key) {
                events.push((s.key, s.millis, true, i));
            }
        }
        events.sort_unstable();
        let mut open: Option<u64> = None;
        for &(key, _, is_ok, i) in &events {
            if !is_ok {
                open = Some(key);
            } else if open == Some(key) {
                open = None;
                joined[i] = true;
                let s = ok[i];
                join(
                    key,
                    Attempt {
                        millis: s.millis,
                        ok: true,
                        cell: s.cell,
                        cost: s.cost,
                        attempt: None,
                        request_id: None,
                        latency_ms: None,
                    },
                );
            }
        }
    }
    let mut rest: Vec<UnitSuccess> = ok
        .iter()
        .zip(&joined)
        .filter(|(_, j)| !**j)
        .map(|(s, _)| *s)
        .collect();
    rest.sort_unstable_by_key(|s| (s.millis, s.key, s.cell, s.cost));
    if rest.len() > 2 * heads {
        rest.drain(heads..rest.len() - heads);
    }
    rest.into_iter()
        .map(|s| ChainHead {
            key: s.key,
            millis: s.millis,
            cell: s.cell,
        })
        .collect()
}

/// Minutes in a day (the length of `Accumulator::minutes`).
pub(crate) const MINUTES_A_DAY: usize = 1_440;

/// Successes kept from each end of a unit of reading that ended no chain
/// in it, for chains that cross units (see [`ChainHead`]).
const UNIT_HEADS: usize = 16;

/// The same for what is settled as one when read whole (a day of the
/// store, when its state is encoded): a day's first and last minutes of
/// traffic, for chains that cross midnight.
pub(crate) const WHOLE_HEADS: usize = 1024;

/// The previous period's sums: totals, and spend per feature and per model
/// (catalog id, or the logged name when unknown), and by both and day.
#[derive(Default)]
pub(crate) struct Previous {
    pub(crate) totals: Stats,
    pub(crate) features: Table,
    pub(crate) models: Table,
    /// Its first and last calls' times: how much of the period the logs
    /// cover.
    pub(crate) first: Option<DateTime<Utc>>,
    pub(crate) last: Option<DateTime<Utc>>,
    /// Its spend by feature, model and day: the history a day's spend of
    /// the audited period is judged against (TA114), so a review's first
    /// days have their baseline in the month before.
    pub(crate) daily: Daily,
    /// Model resolution by logged (provider, model): one catalog lookup per
    /// distinct name, as the groups do for the audited period. Labels of the
    /// accumulator's [`Labels`]; not merged (a cache).
    resolved: FxHashMap<(Label, Label), Option<ModelId>>,
    /// A catalog model's name as the groups give it (`provider/id`), made
    /// once per model, not per call: the key of `daily` (a cache, not
    /// merged).
    qualified: FxHashMap<ModelId, Box<str>>,
}

/// Spend by feature, model and day.
pub(crate) type Daily = FxHashMap<Box<str>, FxHashMap<Box<str>, FxHashMap<NaiveDate, Money>>>;

/// Adds `cost` to `daily[feature][model][day]`, allocating keys only when
/// new.
fn add_daily(daily: &mut Daily, feature: &str, model: &str, day: NaiveDate, cost: Money) {
    if !daily.contains_key(feature) {
        daily.insert(feature.into(), FxHashMap::default());
    }
    let models = daily.get_mut(feature).expect("inserted above");
    if !models.contains_key(model) {
        models.insert(model.into(), FxHashMap::default());
    }
    let days = models.get_mut(model).expect("inserted above");
    *days.entry(day).or_insert(Money::ZERO) += cost;
}

impl Previous {
    fn merge(&mut self, o: Previous) {
        self.first = min_opt(self.first, o.first);
        self.last = self.last.max(o.last);
        self.totals.merge(&o.totals);
        merge_table(&mut self.features, o.features);
        merge_table(&mut self.models, o.models);
        for (feature, models) in o.daily {
            for (model, days) in models {
                for (day, cost) in days {
                    add_daily(&mut self.daily, &feature, &model, day, cost);
                }
            }
        }
    }
}

/// One of the most expensive single calls (ids and figures only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpensiveCall {
    pub cost: Money,
    pub at: Location,
    pub request_id: Option<String>,
    pub model: String,
    pub feature: String,
    pub usage: Usage,
    pub timestamp: Option<DateTime<Utc>>,
}

/// How many of the most expensive calls are kept.
pub const TOP_CALLS: usize = 20;

impl<'c> Accumulator<'c> {
    pub fn new(catalog: &'c Catalog, config: &'c AnalyzeConfig) -> Accumulator<'c> {
        Accumulator {
            catalog,
            config,
            served: ServedModels::default(),
            fast_own: Default::default(),
            key_buf: String::new(),
            labels: Labels::default(),
            groups: GroupTable::default(),
            cells: Vec::new(),
            cell_index: FxHashMap::default(),
            keyed: Keyed::default(),
            totals: Stats::default(),
            cost_parts: CostParts::default(),
            users: SpillTable::default(),
            sessions: SpillTable::default(),
            tags: SpillTable::default(),
            error_kinds: Table::default(),
            reconcile: FxHashMap::default(),
            coverage: [0; Field::ALL.len()],
            via: Counts::default(),
            first: None,
            minutes: vec![0; MINUTES_A_DAY],
            last: None,
            outside_window: 0,
            untimed_outside: 0,
            uncounted_by_source: Vec::new(),
            batch_at_full_price: 0,
            tier_at_standard: 0,
            write_1h_at_5m: 0,
            provisioned: 0,
            searches_unpriced: 0,
            long_context_calls: 0,
            us_only_calls: 0,
            us_at_global: 0,
            most_expensive: Vec::new(),
            previous: config.previous.map(|_| Previous::default()),
            repeats: Default::default(),
            unit: UnitChains::default(),
        }
    }

    /// Settles the unit read so far: each success that follows a failure
    /// of its prompt in the unit (the first after each failure) joins that
    /// chain; of the others, the `heads` earliest and latest are kept as
    /// heads (an earlier unit's chain may end at its next unit's
    /// start, or, in a log out of time order, at its previous unit's end).
    /// Nothing here depends on the order the unit's calls were read in.
    pub(crate) fn settle_unit(&mut self, heads: usize) {
        let unit = &mut self.unit;
        if unit.ok.is_empty() {
            unit.failed.clear();
            return;
        }
        let chains = &mut self.keyed.chains;
        let rest = settle(&unit.failed, &unit.ok, heads, &mut unit.keys, |key, a| {
            if let Some(c) = chains.get_mut(key) {
                c.add(a);
            }
        });
        // Chosen from every success, then kept if the chains' sample may
        // still hold their prompt: the same heads whichever worker chose.
        let chains = &self.keyed.chains;
        self.keyed
            .heads
            .extend(rest.into_iter().filter(|h| chains.admits(h.key)));
        unit.ok.clear();
        unit.failed.clear();
    }

    /// Settles the units of `parts`, one day's states as its workers read
    /// it, as [`settle_unit`](Self::settle_unit) settles the one unit they
    /// would be merged (a store's unit is the day: a chain whose failures
    /// one worker read and whose success another did is one chain), the
    /// states kept apart: the same chains and heads once they are merged.
    /// A success joins its chain in whichever state holds it (merged, the
    /// states' chains are one); the heads go to the first state.
    pub fn settle_together(parts: &mut [Accumulator<'_>]) {
        if parts.len() < 2 {
            if let Some(p) = parts.first_mut() {
                p.settle_unit(WHOLE_HEADS);
            }
            return;
        }
        // In the order merging the states would append their units.
        let mut failed: Vec<(u64, i64)> = Vec::new();
        let mut ok: Vec<UnitSuccess> = Vec::new();
        for p in parts.iter_mut() {
            failed.append(&mut p.unit.failed);
            ok.append(&mut p.unit.ok);
        }
        if ok.is_empty() {
            return;
        }
        let mut keys = rustc_hash::FxHashSet::default();
        let rest = settle(&failed, &ok, WHOLE_HEADS, &mut keys, |key, a| {
            if let Some(c) = parts.iter_mut().find_map(|p| p.keyed.chains.get_mut(key)) {
                c.add(a);
            }
        });
        // Kept if some state's chains sample may hold their prompt (a merge
        // keeps those its own sample does, as `settle_unit`'s filter).
        let rest: Vec<ChainHead> = rest
            .into_iter()
            .filter(|h| parts.iter().any(|p| p.keyed.chains.admits(h.key)))
            .collect();
        parts[0].keyed.heads.extend(rest);
    }

    pub fn catalog(&self) -> &'c Catalog {
        self.catalog
    }

    fn count_coverage(&mut self, r: &CallRecord<'_>, status: CallStatus) {
        let present = [
            r.timestamp.is_some(),
            r.request_id.is_some(),
            r.provider.is_some(),
            r.feature.is_some(),
            r.route.is_some(),
            r.team.is_some(),
            r.user.is_some(),
            r.session.is_some(),
            r.turn.is_some(),
            r.status.is_some(),
            r.error_kind.is_some(),
            r.http_status.is_some(),
            r.attempt.is_some(),
            r.retry_of.is_some(),
            r.usage.cached_read > 0 || r.cached_read_logged,
            r.usage.cache_write > 0,
            r.usage.reasoning > 0,
            r.latency_ms.is_some(),
            r.ttft_ms.is_some(),
            r.batch.is_some(),
            r.finish_reason.is_some(),
            r.max_tokens.is_some(),
            r.prompt_fp.is_some(),
            r.prefix_fp.is_some(),
            r.prefix_tokens.is_some(),
            r.logged_cost.is_some(),
            !r.tags.is_empty(),
            r.user_messages.is_some(),
            r.prefix_chars.is_some(),
        ];
        for (slot, p) in self.coverage.iter_mut().zip(present) {
            *slot += p as u64;
        }
        // Sources the rules read that no single field says (the others are
        // taken from the field counts at the end).
        let v = &mut self.via;
        if r.status.is_some() || r.http_status.is_some() || r.error_kind.is_some() {
            v.add(Via::Status, 1);
        }
        if r.attempt.is_some() || r.retry_of.is_some() {
            v.add(Via::Attempt, 1);
        }
        // Only the calls the near-duplicate check compares: successful, with
        // a time (a record read from the store has the text's signature
        // instead, kept for exactly those).
        if (r.prompt_text.is_some() || r.minhash.is_some())
            && r.timestamp.is_some()
            && status == CallStatus::Ok
        {
            v.add(Via::PromptText, 1);
        }
        let from = &self.config.feature_from;
        let feature = match from {
            FeatureFrom::Feature if r.feature.is_some() => Some(Via::FeatureField),
            FeatureFrom::Feature => from.of(r).map(|_| Via::FeatureTag),
            other => other.of(r).map(|_| Via::FeatureChosen),
        };
        if let Some(via) = feature {
            v.add(via, 1);
        }
    }

    /// Renumbers the sources the state names (where its costliest calls
    /// were read): source `i` becomes `to[i]`. An accumulator made from a
    /// part of the input, with the sources of that part numbered alone, is
    /// merged with others once numbered as in the whole input; `to` must
    /// keep the sources' order, which breaks ties between equal costs.
    /// An index past `to` is an error (the state is not of that input).
    pub fn map_sources(&mut self, to: &[usize]) -> Result<(), crate::wire::WireError> {
        let map = |at: &mut Location| match to.get(at.source) {
            Some(&s) => {
                at.source = s;
                Ok(())
            }
            None => Err(crate::wire::WireError(format!(
                "source {} of {} sources",
                at.source,
                to.len()
            ))),
        };
        for e in &mut self.most_expensive {
            map(&mut e.at)?;
        }
        for c in &mut self.cells {
            for (_, id) in &mut c.obs.top {
                if let crate::observe::CallId::At(at) = id {
                    map(at)?;
                }
            }
        }
        Ok(())
    }

    /// The same accumulator under `catalog` and `config`, references that
    /// may live longer: a day's state, accumulated under the day's role
    /// (`AnalyzeConfig::whole_day`), goes on under the run's config, as
    /// decoding its bytes with that config gives. The catalog must be the
    /// one it priced with.
    pub fn rebind<'d>(self, catalog: &'d Catalog, config: &'d AnalyzeConfig) -> Accumulator<'d> {
        debug_assert!(std::ptr::eq(self.catalog, catalog), "another catalog");
        // Every field named: one added and not moved here does not build.
        let Accumulator {
            catalog: _,
            config: _,
            served,
            fast_own,
            key_buf,
            labels,
            groups,
            cells,
            cell_index,
            keyed,
            totals,
            cost_parts,
            users,
            sessions,
            tags,
            error_kinds,
            reconcile,
            coverage,
            via,
            first,
            last,
            minutes,
            outside_window,
            untimed_outside,
            uncounted_by_source,
            batch_at_full_price,
            tier_at_standard,
            write_1h_at_5m,
            provisioned,
            searches_unpriced,
            long_context_calls,
            us_only_calls,
            us_at_global,
            most_expensive,
            previous,
            repeats,
            unit,
        } = self;
        Accumulator {
            catalog,
            config,
            served,
            fast_own,
            key_buf,
            labels,
            groups,
            cells,
            cell_index,
            keyed,
            totals,
            cost_parts,
            users,
            sessions,
            tags,
            error_kinds,
            reconcile,
            coverage,
            via,
            first,
            last,
            minutes,
            outside_window,
            untimed_outside,
            uncounted_by_source,
            batch_at_full_price,
            tier_at_standard,
            write_1h_at_5m,
            provisioned,
            searches_unpriced,
            long_context_calls,
            us_only_calls,
            us_at_global,
            most_expensive,
            previous,
            repeats,
            unit,
        }
    }

    /// Merges another worker's results into this one.
    /// What [`merge`](Self::merge) of `o` into this accumulator gives when
    /// this one has read nothing (as [`new`](Self::new) made it): `o`
    /// itself under this one's catalog and config (and its previous period,
    /// where `o` has none), without copying `o`'s tables. A state loaded
    /// whole from the store's cache becomes the run's accumulator so.
    pub fn adopt(self, mut o: Accumulator<'c>) -> Accumulator<'c> {
        debug_assert!(
            self.cells.is_empty() && self.groups.list.is_empty() && self.totals.calls == 0,
            "adopt into an accumulator that has read calls"
        );
        o.catalog = self.catalog;
        o.config = self.config;
        if o.previous.is_none() {
            o.previous = self.previous;
        }
        sort_expensive(&mut o.most_expensive);
        o.most_expensive.truncate(TOP_CALLS);
        o
    }

    pub fn merge(&mut self, mut o: Accumulator<'c>) {
        // What the other has of a unit not yet settled (a day of the store,
        // read by several workers) joins this one's: a unit is settled
        // once, whole, whoever read which of its rows.
        self.unit.failed.append(&mut o.unit.failed);
        self.unit.ok.append(&mut o.unit.ok);
        self.totals.merge(&o.totals);
        self.cost_parts.merge(&o.cost_parts);
        // Cells first: the other side's groups point at its own cell indices.
        let mut remap = Vec::with_capacity(o.cells.len());
        for c in o.cells {
            let key = (self.labels.intern(&c.feature), self.labels.intern(&c.model));
            let i = match self.cell_index.get(&key) {
                Some(&i) => {
                    self.cells[i as usize].obs.merge(c.obs);
                    i
                }
                None => {
                    let i = self.cells.len() as u32;
                    self.cell_index.insert(key, i);
                    self.cells.push(c);
                    i
                }
            };
            remap.push(i);
        }
        // The other side's group keys name its own labels: translated to
        // ours, then found by the hash of their text, as on the hot path.
        let labels = self.labels.remap(&o.labels);
        for (k, mut g) in o.groups.list {
            g.cell = remap[g.cell as usize];
            let k = k.remapped(&labels);
            let hash = k.text(&self.labels).hash();
            match self.groups.find(hash, |mine| *mine == k) {
                Some(i) => {
                    let mine = &mut self.groups.list[i].1;
                    mine.stats.merge(&g.stats);
                    add_usage(&mut mine.failed, &g.failed);
                    mine.cache_write_1h += g.cache_write_1h;
                    for (a, b) in mine.audio.iter_mut().zip(g.audio) {
                        *a += b;
                    }
                    mine.web_searches += g.web_searches;
                    mine.cost.merge(&g.cost);
                    mine.list_cost.merge(&g.list_cost);
                }
                None => {
                    self.groups.push(hash, k, g);
                }
            }
        }
        self.keyed.merge(o.keyed);
        self.users.merge(o.users);
        self.sessions.merge(o.sessions);
        self.tags.merge(o.tags);
        merge_table(&mut self.error_kinds, o.error_kinds);
        for (k, v) in o.reconcile {
            let e = self.reconcile.entry(k).or_default();
            e.calls += v.calls;
            e.logged += v.logged;
            e.computed += v.computed;
            e.differing += v.differing;
            e.apart += v.apart;
        }
        for (a, b) in self.coverage.iter_mut().zip(o.coverage) {
            *a += b;
        }
        self.via.merge(&o.via);
        self.first = min_opt(self.first, o.first);
        self.last = self.last.max(o.last);
        if self.minutes.len() < o.minutes.len() {
            self.minutes.resize(o.minutes.len(), 0);
        }
        for (a, b) in self.minutes.iter_mut().zip(&o.minutes) {
            *a += b;
        }
        self.outside_window += o.outside_window;
        self.untimed_outside += o.untimed_outside;
        if self.uncounted_by_source.len() < o.uncounted_by_source.len() {
            self.uncounted_by_source
                .resize(o.uncounted_by_source.len(), 0);
        }
        for (a, b) in self
            .uncounted_by_source
            .iter_mut()
            .zip(&o.uncounted_by_source)
        {
            *a += b;
        }
        self.batch_at_full_price += o.batch_at_full_price;
        self.tier_at_standard += o.tier_at_standard;
        self.write_1h_at_5m += o.write_1h_at_5m;
        self.provisioned += o.provisioned;
        self.searches_unpriced += o.searches_unpriced;
        self.long_context_calls += o.long_context_calls;
        self.us_only_calls += o.us_only_calls;
        self.us_at_global += o.us_at_global;
        match (&mut self.previous, o.previous) {
            (Some(mine), Some(theirs)) => mine.merge(theirs),
            (mine @ None, theirs) => *mine = theirs,
            (Some(_), None) => {}
        }
        self.most_expensive.extend(o.most_expensive);
        sort_expensive(&mut self.most_expensive);
        self.most_expensive.truncate(TOP_CALLS);
        self.repeats.merge(o.repeats);
    }
}

fn min_opt<T: Ord>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

/// Most expensive first; ties broken by input position so the order is stable.
pub(crate) fn sort_expensive(v: &mut [ExpensiveCall]) {
    v.sort_by(|a, b| expensive_order(a.cost, a.request_id.as_deref(), a.at, b));
}

/// The list's order: cost down, then request id (calls with one first),
/// then where read. Ties are common (the same prompt and answer sizes), and
/// the request id keeps the list the same whatever order the logs are in
/// or what their files are named.
fn expensive_order(
    cost: Money,
    request_id: Option<&str>,
    at: Location,
    b: &ExpensiveCall,
) -> std::cmp::Ordering {
    b.cost
        .cmp(&cost)
        .then(request_id.is_none().cmp(&b.request_id.is_none()))
        .then(request_id.cmp(&b.request_id.as_deref()))
        .then(at.cmp(&b.at))
}

fn merge_table(mine: &mut Table, theirs: Table) {
    for (k, v) in theirs {
        match mine.get_mut(&k) {
            Some(s) => s.merge(&v),
            None => {
                mine.insert(k, v);
            }
        }
    }
}

fn label<'a>(v: &'a Option<Cow<'_, str>>) -> &'a str {
    v.as_deref().unwrap_or(NONE)
}

impl Accumulator<'_> {
    /// The cell of (feature, model), created on first sight. Only called when
    /// a group is created, so it costs nothing per call.
    fn cell_for(&mut self, feature: &str, logged_model: &str, id: Option<ModelId>) -> u32 {
        let model = match id {
            Some(id) => {
                let m = self.catalog.model(id);
                format!("{}/{}", m.provider, m.id)
            }
            None => logged_model.to_string(),
        };
        let key = (self.labels.intern(feature), self.labels.intern(&model));
        if let Some(&i) = self.cell_index.get(&key) {
            return i;
        }
        let i = self.cells.len() as u32;
        self.cells.push(Cell {
            key: key_of(&[feature.as_bytes(), model.as_bytes()]),
            feature_key: xxhash_rust::xxh3::xxh3_64(feature.as_bytes()),
            call_budget: call_budget(&self.config.budgets, feature),
            feature: feature.into(),
            model: model.into(),
            resolved: id,
            obs: CellObs::default(),
        });
        self.cell_index.insert(key, i);
        i
    }
}

impl Accumulator<'_> {
    /// Feeds one call to the detectors' observations.
    fn observe(
        &mut self,
        r: &CallRecord<'_>,
        status: CallStatus,
        priced: Option<&tokenaudit_core::pricing::CostBreakdown>,
        cell: u32,
        at: Location,
    ) {
        let include_prompts = self.config.include_prompts;
        let cell = &mut self.cells[cell as usize];
        let feature_key = cell.feature_key;
        let call = Call {
            record: r,
            status,
            cost: priced.map(|p| p.total()),
            cell: cell.key,
            millis: r.timestamp.map(|t| t.timestamp_millis()),
        };
        cell.obs.observe(&call, at);
        if let Some(b) = cell.call_budget {
            cell.obs.over_budget(&call, b);
        }
        if include_prompts {
            if let Some(p) = r.prefix_fp.and_then(|fp| cell.obs.prefixes.get_mut(fp)) {
                if p.excerpt.is_none() {
                    p.excerpt = fields::system_excerpt(r.prompt_raw, r.system_raw).map(Into::into);
                }
            }
        }
        let keyed = &mut self.keyed;
        let input_cost = || priced.map_or(Money::ZERO, |p| p.input + p.cached_read + p.cache_write);
        if let (Some(session), Some(turn)) = (r.session.as_deref(), r.turn) {
            self.via.add(Via::SessionTurn, 1);
            let key = xxhash_rust::xxh3::xxh3_64_with_seed(session.as_bytes(), cell.key);
            if let Some(s) = keyed.sessions.entry(key, SessionObs::default) {
                // Stored from 1 whether the log counts turns from 0 or 1
                // (the slope and the number of turns do not change).
                let turn = turn.saturating_add(1);
                if r.usage.input > 0 {
                    s.add(&call, turn, input_cost());
                } else {
                    // A call without input tokens (a failure refused before
                    // its prompt was read: a 429) holds no history: no
                    // point of the session's growth fit (see TA102), but
                    // its turn says where the log counts from (hunt88).
                    s.mark_turn(cell.key, turn);
                }
            }
        } else if let Some(ms) = call.millis {
            // No turn number: the calls are kept in time order, per session
            // or, without one, per user and day, and turns are inferred at
            // the end (`infer::sessions`).
            let timeline = match (r.session.as_deref(), r.user.as_deref()) {
                (Some(session), _) => Some((
                    xxhash_rust::xxh3::xxh3_64_with_seed(session.as_bytes(), cell.key),
                    Grouping::Session,
                )),
                (None, Some(user)) => {
                    let day = ms.div_euclid(86_400_000) as u64;
                    Some((
                        xxhash_rust::xxh3::xxh3_64_with_seed(
                            user.as_bytes(),
                            cell.key ^ day.wrapping_mul(0x9E37_79B9_7F4A_7C15),
                        ),
                        Grouping::UserDay,
                    ))
                }
                (None, None) => None,
            };
            if let Some((key, grouping)) = timeline.filter(|(k, _)| keyed.timelines.admits(*k)) {
                let retried = r.attempt.is_some_and(|a| a > 1) || r.retry_of.is_some();
                keyed.timelines.add(
                    key,
                    cell.key,
                    grouping,
                    TurnCall {
                        millis: ms,
                        prompt_fp: r.prompt_fp.unwrap_or(0),
                        input: r.usage.input,
                        input_cost: input_cost().picos().clamp(0, i64::MAX as i128) as i64,
                        user_messages: r.user_messages.unwrap_or(0),
                        flags: (u8::from(status == CallStatus::Ok) * TurnCall::OK)
                            | (u8::from(retried) * TurnCall::RETRY),
                    },
                );
            }
        }
        if let (Some(fp), CallStatus::Ok) = (r.prompt_fp, status) {
            let key = crate::sketch::mix(cell.key.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ fp);
            let this = (call.millis.unwrap_or(0), call.cost_picos());
            let mut fresh = false;
            if let Some(p) = keyed.prompts.entry(key, || {
                fresh = true;
                PromptObs::new(call.cell, this, r.request_id.as_deref().map(Into::into))
            }) {
                if !fresh {
                    p.push(this);
                    if let Some(id) = r.request_id.as_deref() {
                        if p.request_id
                            .as_ref()
                            .is_none_or(|mine| id.as_bytes() < mine.as_bytes())
                        {
                            p.request_id = Some(id.into());
                        }
                    }
                }
                if include_prompts {
                    p.offer_excerpt(|| {
                        r.prompt_raw
                            .and_then(fields::prompt_excerpt)
                            .map(Into::into)
                    });
                }
            }
        }
        // A conversation's later turn ("make it shorter") depends on its
        // history: only a first question (one user message, or a prompt
        // logged without its messages) is a semantic cache's to answer.
        let standalone = r.user_messages.is_none_or(|n| n <= 1);
        if let (true, Some(ms), CallStatus::Ok) = (
            standalone && (r.prompt_text.is_some() || r.minhash.is_some()),
            call.millis,
            status,
        ) {
            // The signature is the costly part: only for a day the sample
            // keeps (a record read from the store brings its own).
            let day = ms.div_euclid(86_400_000);
            if let Some(group) = keyed.texts.admits(call.cell, day) {
                let sig = r
                    .minhash
                    .or_else(|| r.prompt_text.as_deref().and_then(fields::minhash));
                if let Some(sig) = sig {
                    keyed.texts.add(
                        group,
                        call.cell,
                        TextCall {
                            millis: ms,
                            sig,
                            prompt_fp: r.prompt_fp.unwrap_or(0),
                            context: r.prefix_fp.unwrap_or(0),
                            cost: call.cost_picos(),
                            request_id: r.request_id.as_deref().map(Into::into),
                            excerpt: if include_prompts {
                                r.prompt_raw
                                    .and_then(fields::prompt_excerpt)
                                    .map(Into::into)
                            } else {
                                None
                            },
                        },
                    );
                }
            }
        }
        let retried = r.attempt.is_some_and(|a| a > 1) || r.retry_of.is_some();
        if let Some(fp) = r.prompt_fp {
            let key =
                xxhash_rust::xxh3::xxh3_64_with_seed(label(&r.user).as_bytes(), fp ^ feature_key);
            // A call without a time cannot be placed after a failure: only
            // its own `attempt` or `retry_of` puts it in a chain.
            let millis = call.millis.unwrap_or(NO_TIME);
            let timed = call.millis.is_some();
            let marked = r.attempt.is_some() || r.retry_of.is_some();
            if retried || (status != CallStatus::Ok && (timed || marked)) {
                if let Some(c) = keyed.chains.entry(key, ChainObs::default) {
                    c.add(Attempt {
                        millis,
                        ok: status == CallStatus::Ok,
                        cell: call.cell,
                        cost: call.cost_picos(),
                        attempt: r.attempt,
                        request_id: r.request_id.as_deref().map(Into::into),
                        latency_ms: r.latency_ms.map(|l| u32::try_from(l).unwrap_or(u32::MAX)),
                    });
                }
            }
            // Which success ends which chain is settled with the rest of
            // the unit (`settle_unit`), whatever order its calls came in and
            // whatever this worker's sample keeps (so every call counts).
            if timed && status != CallStatus::Ok {
                self.unit.failed.push((key, millis));
            } else if timed && !retried {
                self.unit.ok.push(UnitSuccess {
                    key,
                    millis,
                    cell: call.cell,
                    cost: call.cost_picos(),
                });
            }
        }
    }
}

impl Accumulator<'_> {
    /// Prices a call of the previous period and adds it to its sums.
    fn record_previous(&mut self, r: &CallRecord<'_>) {
        let catalog = self.catalog;
        let Some(prev) = self.previous.as_mut() else {
            return;
        };
        let logged = (
            self.labels.intern(r.provider.as_deref().unwrap_or("")),
            self.labels.intern(&r.model),
        );
        let id = *prev
            .resolved
            .entry(logged)
            .or_insert_with(|| catalog.resolve(r.provider.as_deref(), &r.model));
        let day = r.timestamp.map(|t| t.date_naive());
        // (A call with nothing to price is no unpriced call here either:
        // hunt93, a failed call to an unknown model was "1 call unpriced
        // before" in the review, a $0 call in its own month's audit.)
        let cost = id
            .map(|id| catalog.price(id, day, &r.usage, r.how()).cost.total())
            .or_else(|| nothing_to_price(r).then_some(Money::ZERO));
        let status = r.effective_status();
        let model: &str = id.map_or(&r.model, |id| &catalog.model(id).id);
        if let Some(t) = r.timestamp {
            prev.first = min_opt(prev.first, Some(t));
            prev.last = prev.last.max(Some(t));
        }
        prev.totals.add(status, &r.usage, cost);
        let feature = self.config.feature_from.of(r);
        let feature = feature.as_deref().unwrap_or(NONE);
        bump(&mut prev.features, feature, status, &r.usage, cost);
        bump(&mut prev.models, model, status, &r.usage, cost);
        if let (Some(day), Some(cost)) = (day, cost) {
            // Named as the groups name it (`provider/id`), for TA114's
            // series (hunt103: `gpt-4.1` beside `openai/gpt-4.1`, so a
            // model's spike had no history).
            let name: &str = match id {
                Some(id) => prev.qualified.entry(id).or_insert_with(|| {
                    let e = catalog.model(id);
                    format!("{}/{}", e.provider, e.id).into()
                }),
                None => model,
            };
            add_daily(&mut prev.daily, feature, name, day, cost);
        }
    }
}

/// A failed call with nothing to price (no token, no search, no logged
/// cost: a request without usage, as Claude Code's API errors named
/// `<synthetic>`): it costs nothing whatever its model, and is no unpriced
/// call. A successful call without tokens to a model the catalog does not
/// know is unpriced: it was billed by another unit (DALL·E's images,
/// Whisper's minutes, TTS's characters; hunt132: $0.00, said nowhere).
/// OpenAI's moderation models are free, whatever their tokens (hunt135,
/// hunt136: their calls listed as unpriced).
fn nothing_to_price(r: &CallRecord<'_>) -> bool {
    let free = r.model.to_ascii_lowercase().contains("moderation");
    r.logged_cost.is_none_or(|c| c == Money::ZERO)
        && (free
            || (r.usage.total() == 0
                && r.usage.web_searches == 0
                && r.effective_status() != tokenaudit_core::CallStatus::Ok))
}

impl Accumulator<'_> {
    /// A call in no figure (outside the window and the period before it),
    /// counted by its source.
    fn uncounted(&mut self, at: Location) {
        if self.uncounted_by_source.len() <= at.source {
            self.uncounted_by_source.resize(at.source + 1, 0);
        }
        self.uncounted_by_source[at.source] += 1;
    }
}

impl RecordSink for Accumulator<'_> {
    /// Counts a LiteLLM cache hit on its (feature, model) cell, as the
    /// audited calls of the window are (never priced, never a call).
    fn cache_hit(&mut self, r: &CallRecord<'_>, _at: Location) {
        if self.config.attribution_only {
            return;
        }
        let window = self.config.since.is_some() || self.config.until.is_some();
        let inside = r.timestamp.map_or(!window, |t| {
            self.config.since.is_none_or(|s| s <= t) && self.config.until.is_none_or(|u| t < u)
        });
        if !inside {
            return;
        }
        let feature = self.config.feature_from.of(r);
        let feature = feature.as_deref().unwrap_or(NONE);
        let id = self.catalog.resolve(r.provider.as_deref(), &r.model);
        let cell = self.cell_for(feature, &r.model, id);
        self.cells[cell as usize]
            .obs
            .litellm_cache_hits
            .add(r.prompt_fp);
        self.via.add(Via::LitellmCacheHit, 1);
    }

    fn end_unit(&mut self) {
        self.settle_unit(UNIT_HEADS);
    }

    fn settle_model(&mut self, r: &mut CallRecord<'_>) {
        self.served.settle(self.catalog, r);
    }

    fn record(&mut self, r: &CallRecord<'_>, at: Location) {
        if let Some(t) = r.timestamp {
            if !self.config.in_window(t) {
                self.outside_window += 1;
                if self.config.in_previous(t) {
                    self.record_previous(r);
                } else {
                    self.uncounted(at);
                }
                return;
            }
        } else if self.config.since.is_some() || self.config.until.is_some() {
            // A window was asked for and this call cannot be placed in it.
            self.outside_window += 1;
            self.untimed_outside += 1;
            self.uncounted(at);
            return;
        }
        let status = r.effective_status();
        self.count_coverage(r, status);
        self.repeats.add(r);
        let day = r.timestamp.map(|t| t.date_naive());
        let feature = self.config.feature_from.of(r);
        let feature = feature.as_deref().unwrap_or(NONE);
        let route = crate::route::template(label(&r.route));
        let tier = self.group_tier(r);
        let text = KeyText {
            provider: r.provider.as_deref().unwrap_or(""),
            model: &r.model,
            feature,
            route: &route,
            team: label(&r.team),
            day,
            batch: r.is_batch(),
            tier,
            us_only: r.us_only,
        };
        let hash = text.hash();
        let catalog = self.catalog;
        // One lookup per call: the group's slot is then indexed.
        let labels = &self.labels;
        let gi = match self.groups.find(hash, |k| text.matches(k, labels)) {
            Some(i) => i,
            None => {
                let id = catalog.resolve(r.provider.as_deref(), &r.model);
                let cell = self.cell_for(feature, &r.model, id);
                let key = text.intern(&mut self.labels);
                self.groups.push(
                    hash,
                    key,
                    Group {
                        resolved: id,
                        cell,
                        ..Group::default()
                    },
                )
            }
        };
        let (id, cell) = {
            let g = &self.groups.list[gi].1;
            (g.resolved, g.cell)
        };
        let mut list = None;
        let priced = id.map(|id| {
            let priced = catalog.price(id, day, &r.usage, r.how());
            if r.is_batch() && !priced.batch_priced {
                self.batch_at_full_price += 1;
            }
            if priced.tier_at_standard {
                self.tier_at_standard += 1;
            }
            if priced.write_1h_at_5m {
                self.write_1h_at_5m += 1;
            }
            if r.service_tier == Some(tokenaudit_core::ServiceTier::Provisioned) {
                self.provisioned += 1;
            }
            if priced.searches_unpriced {
                self.searches_unpriced += 1;
            }
            if priced.tier_threshold.is_some() {
                self.long_context_calls += 1;
            }
            self.us_only_calls += u64::from(priced.us_priced);
            self.us_at_global += u64::from(priced.us_at_global);
            if self.config.list_costs {
                list = Some(list_cost(catalog, id, day, &r.usage, &priced));
            }
            self.cost_parts.add(&priced.cost);
            priced.cost
        });
        // A call with nothing to price costs nothing whatever its model.
        let cost = priced
            .map(|p| p.total())
            .or_else(|| nothing_to_price(r).then_some(Money::ZERO));
        // Rules that need a catalog's price count only calls it priced.
        if priced.is_some() {
            self.via.add(Via::Priced, 1);
        }
        {
            let g = &mut self.groups.list[gi].1;
            g.stats.add(status, &r.usage, cost);
            g.cache_write_1h += r.usage.cache_write_1h;
            let u = &r.usage;
            // Few calls have any (skipped on the hot path).
            if u.input_audio | u.output_audio | u.web_searches != 0 {
                for (a, b) in
                    g.audio
                        .iter_mut()
                        .zip([u.input_audio, u.cached_audio, u.output_audio])
                {
                    *a += b;
                }
                g.web_searches += u.web_searches;
            }
            if let Some(p) = &priced {
                g.cost.add(p);
            }
            if let Some(l) = &list {
                g.list_cost.add(l);
            }
            if status != CallStatus::Ok {
                add_usage(&mut g.failed, &r.usage);
            }
        }
        if !self.config.attribution_only {
            self.observe(r, status, priced.as_ref(), cell, at);
        }
        let model_key: &str = match id {
            Some(id) => &catalog.model(id).id,
            None => &r.model,
        };
        self.totals.add(status, &r.usage, cost);
        self.users.add(label(&r.user), status, &r.usage, cost);
        self.sessions.add(label(&r.session), status, &r.usage, cost);
        for (k, v) in &r.tags {
            self.key_buf.clear();
            push_tag_key(&mut self.key_buf, k);
            self.key_buf.push('=');
            self.key_buf.push_str(v);
            self.tags.add(&self.key_buf, status, &r.usage, cost);
        }
        if status != CallStatus::Ok {
            let kind = r
                .error_kind
                .as_deref()
                .map(str::to_string)
                .or_else(|| r.http_status.map(|c| format!("http_{c}")))
                .unwrap_or_else(|| status.as_str().to_string());
            bump(&mut self.error_kinds, &kind, status, &r.usage, cost);
        }
        // A call the catalog cannot price keeps its logged cost here (and
        // nothing computed): the one place its money is said.
        if let Some(logged) = r.logged_cost {
            let e = match self.reconcile.get_mut(model_key) {
                Some(e) => e,
                None => self.reconcile.entry(model_key.into()).or_default(),
            };
            e.calls += 1;
            e.logged += logged;
            if let Some(computed) = cost {
                e.computed += computed;
                let off = (logged - computed).abs();
                e.apart += off;
                if off.picos() > 1_000_000 && off.picos() * 100 > computed.abs().picos() {
                    e.differing += 1;
                }
            }
        }
        if let Some(t) = r.timestamp {
            self.first = min_opt(self.first, Some(t));
            self.last = self.last.max(Some(t));
            let minute = t.time().num_seconds_from_midnight() as usize / 60;
            if let Some(n) = self.minutes.get_mut(minute) {
                *n += 1;
            }
        }
        if let (Some(c), true) = (cost, priced.is_some()) {
            // The list's order (`expensive_order`): a call that ties the
            // last one's cost but comes before it takes its place, so the
            // list does not depend on the order calls come in (a store
            // feeds them sorted, not as read).
            let admit = self.most_expensive.len() < TOP_CALLS
                || self.most_expensive.last().is_some_and(|last| {
                    expensive_order(c, r.request_id.as_deref(), at, last).is_lt()
                });
            if admit {
                self.most_expensive.push(ExpensiveCall {
                    cost: c,
                    at,
                    request_id: r.request_id.as_deref().map(str::to_string),
                    model: model_key.to_string(),
                    feature: feature.to_string(),
                    usage: r.usage,
                    timestamp: r.timestamp,
                });
                sort_expensive(&mut self.most_expensive);
                self.most_expensive.truncate(TOP_CALLS);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::CallId;

    fn call<'a>(
        feature: &'a str,
        model: &'a str,
        team: Option<&'a str>,
        batch: bool,
    ) -> CallRecord<'a> {
        CallRecord {
            model: model.into(),
            feature: Some(feature.into()),
            team: team.map(Into::into),
            batch: batch.then_some(true),
            usage: Usage {
                input: 1_000,
                output: 100,
                ..Usage::default()
            },
            ..CallRecord::default()
        }
    }

    /// Each group as text, with its number of calls, sorted.
    fn groups(a: &Accumulator<'_>) -> Vec<(String, u64)> {
        let mut v: Vec<(String, u64)> = a
            .groups
            .iter()
            .map(|(k, g)| {
                let t = k.text(&a.labels);
                let text = format!(
                    "{}|{}|{}|{}|{}|{:?}|{}",
                    t.provider, t.model, t.feature, t.route, t.team, t.day, t.batch
                );
                (text, g.stats.calls)
            })
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_merge_maps_the_other_workers_labels_to_its_own() {
        let catalog = Catalog::builtin();
        let config = AnalyzeConfig::default();
        let at = Location { source: 0, line: 1 };
        // The two workers meet the labels in different orders, so their ids
        // differ: `chat` is 0 in one and 2 in the other.
        let mut a = Accumulator::new(&catalog, &config);
        a.record(&call("chat", "gpt-4o", None, false), at);
        a.record(&call("search", "gpt-4o", Some("core"), false), at);
        let mut b = Accumulator::new(&catalog, &config);
        b.record(&call("search", "gpt-4o", Some("core"), false), at);
        b.record(&call("chat", "gpt-4o", None, true), at);
        b.record(&call("chat", "gpt-4o", None, false), at);
        b.record(&call("chat", "gpt-4o", None, false), at);
        a.merge(b);
        assert_eq!(
            groups(&a),
            [
                ("|gpt-4o|chat|(none)|(none)|None|false".to_string(), 3),
                ("|gpt-4o|chat|(none)|(none)|None|true".to_string(), 1),
                ("|gpt-4o|search|(none)|core|None|false".to_string(), 2),
            ]
        );
        // One cell per (feature, model), whoever saw it first.
        let mut cells: Vec<(&str, &str)> =
            a.cells.iter().map(|c| (&*c.feature, &*c.model)).collect();
        cells.sort();
        assert_eq!(
            cells,
            [("chat", "openai/gpt-4o"), ("search", "openai/gpt-4o")]
        );
        // The merged table still finds a call's group by its text.
        a.record(&call("search", "gpt-4o", Some("core"), false), at);
        assert_eq!(groups(&a)[2].1, 3);
        assert_eq!(a.groups.list.len(), 3);
    }

    #[test]
    fn the_most_expensive_calls_do_not_depend_on_the_order_they_come_in() {
        // 30 calls of one price: the list keeps the 20 read first, whether
        // they come in as read or backwards (as a store's sorted rows may).
        let catalog = Catalog::builtin();
        let config = AnalyzeConfig::default();
        let r = call("chat", "gpt-4o", None, false);
        let lines = |acc: &Accumulator| -> Vec<u64> {
            acc.most_expensive.iter().map(|e| e.at.line).collect()
        };
        let mut forward = Accumulator::new(&catalog, &config);
        let mut backward = Accumulator::new(&catalog, &config);
        for line in 1..=30 {
            forward.record(&r, Location { source: 0, line });
            backward.record(
                &r,
                Location {
                    source: 0,
                    line: 31 - line,
                },
            );
        }
        assert_eq!(lines(&forward), (1..=20).collect::<Vec<u64>>());
        assert_eq!(lines(&backward), lines(&forward));
    }

    #[test]
    fn a_cells_costliest_calls_do_not_depend_on_the_order_they_come_in() {
        // 12 calls of one price in one cell: the cell keeps the 5 of the
        // smallest ids, however they come in (a tie on cost used to keep
        // the first 5 to arrive).
        let catalog = Catalog::builtin();
        let config = AnalyzeConfig::default();
        let top = |acc: &Accumulator| -> Vec<Location> {
            acc.cells[0]
                .obs
                .top
                .iter()
                .map(|(_, id)| match id {
                    CallId::At(at) => *at,
                    CallId::Logged(_) => unreachable!("no request ids logged"),
                })
                .collect()
        };
        let r = call("chat", "gpt-4o", None, false);
        let mut forward = Accumulator::new(&catalog, &config);
        let mut backward = Accumulator::new(&catalog, &config);
        for line in 1..=12 {
            forward.record(&r, Location { source: 0, line });
            backward.record(
                &r,
                Location {
                    source: 0,
                    line: 13 - line,
                },
            );
        }
        let first: Vec<Location> = (1..=5).map(|line| Location { source: 0, line }).collect();
        assert_eq!(top(&forward), first);
        assert_eq!(top(&backward), first);
    }

    #[test]
    fn a_whole_day_is_accumulated_by_its_role_not_by_where_the_window_lies() {
        let t = |d: u32, h: u32| {
            NaiveDate::from_ymd_opt(2026, 10, d)
                .unwrap()
                .and_hms_opt(h, 0, 0)
                .unwrap()
                .and_utc()
        };
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 10, d);
        let none = AnalyzeConfig::default();
        // A week (8th to 14th) and the week before it.
        let week = AnalyzeConfig {
            since: Some(t(8, 0)),
            until: Some(t(15, 0)),
            previous: Some((t(1, 0), t(8, 0))),
            list_costs: true,
            ..AnalyzeConfig::default()
        };
        let inside = week.whole_day(day(10)).unwrap();
        assert_eq!(
            (inside.since, inside.until, inside.previous),
            (None, None, None)
        );
        assert!(inside.list_costs);
        // The same as with no window at all.
        assert_eq!(
            format!("{inside:?}"),
            format!(
                "{:?}",
                AnalyzeConfig {
                    list_costs: true,
                    ..none.whole_day(day(10)).unwrap()
                }
            )
        );
        let before = week.whole_day(day(3)).unwrap();
        assert_eq!(before.until, Some(DateTime::<Utc>::MIN_UTC));
        assert!(before.previous.is_some());
        // After the window, outside any previous period: all outside.
        let after = week.whole_day(day(20)).unwrap();
        assert_eq!(
            (after.until, after.previous),
            (Some(DateTime::<Utc>::MIN_UTC), None)
        );
        // Cut by the window or the previous period: none.
        let cut = AnalyzeConfig {
            since: Some(t(8, 12)),
            until: Some(t(14, 6)),
            previous: Some((t(2, 18), t(8, 12))),
            ..AnalyzeConfig::default()
        };
        for d in [2, 8, 14] {
            assert!(cut.whole_day(day(d)).is_none(), "day {d}");
        }
        for d in [3, 7, 9, 13] {
            assert!(cut.whole_day(day(d)).is_some(), "day {d}");
        }
        // Calls without a time: only without a window.
        assert!(none.whole_day(None).is_some());
        assert!(week.whole_day(None).is_none());
    }

    #[test]
    fn keys_whose_hashes_collide_are_chained() {
        let mut labels = Labels::default();
        let key = |labels: &mut Labels, feature: &str| GroupKey {
            provider: labels.intern(""),
            model: labels.intern("m"),
            feature: labels.intern(feature),
            route: labels.intern(NONE),
            team: labels.intern(NONE),
            day: None,
            batch: false,
            tier: None,
            us_only: false,
        };
        let (x, y, z) = (
            key(&mut labels, "x"),
            key(&mut labels, "y"),
            key(&mut labels, "z"),
        );
        let mut t = GroupTable::default();
        // The same hash for all three, as if they collided.
        for k in [x, y, z] {
            t.push(7, k, Group::default());
        }
        assert_eq!(t.find(7, |k| *k == x), Some(0));
        assert_eq!(t.find(7, |k| *k == y), Some(1));
        assert_eq!(t.find(7, |k| *k == z), Some(2));
        assert_eq!(t.find(8, |k| *k == x), None);
        let w = key(&mut labels, "w");
        assert_eq!(t.find(7, |k| *k == w), None);
    }
}
