//! `tokenaudit_partial`: the audit's accumulation as a DataFusion aggregate
//! function. Its state is one worker's [`Accumulator`], encoded
//! ([`Accumulator::encode`]); merging decodes states and merges them with
//! [`Accumulator::merge`], the same order-independent merge the local
//! pipeline uses. DataFusion plans it as a partial aggregate per input
//! partition (on the executors, under Ballista) and a final merge; the
//! client decodes the final value and finishes, detects and reports as
//! with any other reader.
//!
//! Arguments: a text constant, the [`Job`] as JSON (everything the
//! executors need besides the rows: the store and commit, the price files,
//! the analysis options that change accumulation), then the store's columns
//! that [`Job::columns`] names, in that order.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Schema, SchemaRef};
use datafusion::common::{exec_datafusion_err, exec_err, Result, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Accumulator as DfAccumulator, AggregateUDF, AggregateUDFImpl, Signature, Volatility,
};
use datafusion::physical_expr::expressions::Literal;
use serde::{Deserialize, Serialize};

use tokenaudit_analyze::accumulate::FeatureFrom;
use tokenaudit_analyze::budget::Budget;
use tokenaudit_analyze::{Accumulator, AnalyzeConfig};
use tokenaudit_core::pricing::Catalog;
use tokenaudit_core::Money;

use crate::location::{cached_source_index, StoreUrl};

/// The function's name in plans and SQL.
pub const NAME: &str = "tokenaudit_partial";

/// The function, to register on a session (client, scheduler) or an
/// executor's function registry.
pub fn udaf() -> AggregateUDF {
    AggregateUDF::from(TokenauditPartial {
        signature: Signature::variadic_any(Volatility::Immutable),
    })
}

/// What every partial aggregate needs besides its rows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// The store's root URL: its commit log says what `Location::source`
    /// means (the index in the ordered source list).
    pub store: String,
    /// The commit the client planned against.
    pub head: u64,
    /// The column arguments after this one.
    pub columns: Vec<String>,
    /// `--prices` files' contents, overlaid on the built-in catalog in order.
    pub prices: Vec<String>,
    pub analyze: AnalyzeOptions,
    /// The rows are LiteLLM's cache hits (`cache_hits/`), counted as the
    /// store's reader counts them (`RecordSink::cache_hit`), not calls.
    /// Such a job takes one more argument, [`HITS_MARK`], after the
    /// columns: an executor built before this field refuses it (its count
    /// of arguments differs) instead of counting the hits as calls.
    #[serde(default)]
    pub cache_hits: bool,
    /// The client's [`crate::location::index_digest`] of the store's
    /// sources at `head`: an executor that kept another store's numbering
    /// for this URL and commit reads it again.
    #[serde(default)]
    pub sources_digest: Option<u64>,
}

/// [`AnalyzeConfig`] as JSON (instants as RFC 3339, money as decimal text).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AnalyzeOptions {
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub budgets: Vec<BudgetLimits>,
    pub attribution_only: bool,
    pub list_costs: bool,
    pub previous: Option<(DateTime<Utc>, DateTime<Utc>)>,
    pub include_prompts: bool,
    /// `[attribution] feature`, as the config file writes it.
    pub feature_from: String,
}

/// A `[[budget]]`: its feature and limits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BudgetLimits {
    pub feature: String,
    pub daily: Option<Money>,
    pub monthly: Option<Money>,
    pub per_call: Option<Money>,
}

/// `[attribution] feature`'s text for `f` ([`FeatureFrom::parse`] reads it
/// back).
fn feature_from_text(f: &FeatureFrom) -> String {
    match f {
        FeatureFrom::Feature => "feature".into(),
        FeatureFrom::Tag(key) => format!("tag:{key}"),
        FeatureFrom::Route => "route".into(),
        FeatureFrom::Team => "team".into(),
        FeatureFrom::User => "user".into(),
    }
}

impl From<&AnalyzeConfig> for AnalyzeOptions {
    fn from(c: &AnalyzeConfig) -> AnalyzeOptions {
        // Every field named: one added to the config and not here does not
        // build.
        let AnalyzeConfig {
            since,
            until,
            budgets,
            attribution_only,
            list_costs,
            previous,
            include_prompts,
            feature_from,
        } = c;
        AnalyzeOptions {
            since: *since,
            until: *until,
            budgets: budgets
                .iter()
                .map(|b| BudgetLimits {
                    feature: b.feature.clone(),
                    daily: b.daily,
                    monthly: b.monthly,
                    per_call: b.per_call,
                })
                .collect(),
            attribution_only: *attribution_only,
            list_costs: *list_costs,
            previous: *previous,
            include_prompts: *include_prompts,
            feature_from: feature_from_text(feature_from),
        }
    }
}

impl TryFrom<&AnalyzeOptions> for AnalyzeConfig {
    type Error = anyhow::Error;

    fn try_from(o: &AnalyzeOptions) -> anyhow::Result<AnalyzeConfig> {
        Ok(AnalyzeConfig {
            since: o.since,
            until: o.until,
            budgets: o
                .budgets
                .iter()
                .map(|b| Budget {
                    feature: b.feature.clone(),
                    daily: b.daily,
                    monthly: b.monthly,
                    per_call: b.per_call,
                })
                .collect(),
            attribution_only: o.attribution_only,
            list_costs: o.list_costs,
            previous: o.previous,
            include_prompts: o.include_prompts,
            feature_from: FeatureFrom::parse(&o.feature_from)
                .map_err(|e| anyhow::anyhow!("the job's feature_from: {e}"))?,
        })
    }
}

/// The built-in catalog with `prices` (catalog files' contents) overlaid in
/// order, as `--prices` builds it.
pub fn catalog(prices: &[String]) -> anyhow::Result<Catalog> {
    Catalog::builtin_with(prices.iter().map(String::as_str))
        .map_err(|(i, e)| anyhow::anyhow!("price file {} of the job: {e}", i + 1))
}

/// A job made ready in this process: the catalog and config the
/// accumulators borrow, the source index and the schema of the column
/// arguments.
struct Ready {
    catalog: &'static Catalog,
    config: &'static AnalyzeConfig,
    sources: Arc<HashMap<String, usize>>,
    columns: SchemaRef,
}

/// Catalogs and configs live as long as the process: an [`Accumulator`]
/// borrows them, and a DataFusion accumulator must own what it holds. Each
/// distinct value is made once (a catalog per set of price files, a config
/// per set of options: a few hundred bytes a nightly run), so a long-lived
/// executor grows by what it is asked for, not by rows or runs.
fn interned<K: Eq + std::hash::Hash + Clone, V>(
    cache: &Mutex<Option<HashMap<K, &'static V>>>,
    key: &K,
    make: impl FnOnce() -> anyhow::Result<V>,
) -> anyhow::Result<&'static V> {
    let mut cache = cache.lock().expect("no panic holding it");
    let map = cache.get_or_insert_with(HashMap::new);
    if let Some(v) = map.get(key) {
        return Ok(v);
    }
    let v: &'static V = Box::leak(Box::new(make()?));
    map.insert(key.clone(), v);
    Ok(v)
}

/// The last argument of a cache-hits job (see [`Job::cache_hits`]).
pub const HITS_MARK: &str = "cache_hits";

impl Job {
    /// The arguments the aggregate takes for this job: the job, its
    /// columns, and for cache hits [`HITS_MARK`].
    pub fn arguments(&self) -> usize {
        1 + self.columns.len() + usize::from(self.cache_hits)
    }

    fn ready(&self) -> anyhow::Result<Ready> {
        static CATALOGS: Mutex<Option<HashMap<Vec<String>, &'static Catalog>>> = Mutex::new(None);
        static CONFIGS: Mutex<Option<HashMap<String, &'static AnalyzeConfig>>> = Mutex::new(None);
        let catalog = interned(&CATALOGS, &self.prices, || catalog(&self.prices))?;
        let key = serde_json::to_string(&self.analyze)?;
        let config = interned(&CONFIGS, &key, || AnalyzeConfig::try_from(&self.analyze))?;
        let sources = cached_source_index(
            &StoreUrl::parse(&self.store)?,
            self.head,
            self.sources_digest,
        )?;
        let schema = tokenaudit_store::schema::schema();
        let fields: Vec<FieldRef> = self
            .columns
            .iter()
            .map(|c| {
                schema
                    .field_with_name(c)
                    .map(|f| Arc::new(f.clone()))
                    .map_err(|_| anyhow::anyhow!("{c:?} is not a column of the store"))
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Ready {
            catalog,
            config,
            sources,
            columns: Arc::new(Schema::new(fields)),
        })
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct TokenauditPartial {
    signature: Signature,
}

impl AggregateUDFImpl for TokenauditPartial {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Binary)
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn DfAccumulator>> {
        let job = args
            .exprs
            .first()
            .and_then(|e| e.downcast_ref::<Literal>())
            .and_then(|l| match l.value() {
                ScalarValue::Utf8(Some(s)) | ScalarValue::LargeUtf8(Some(s)) => Some(s.clone()),
                _ => None,
            })
            .ok_or_else(|| {
                exec_datafusion_err!("{NAME}: the first argument must be the job, a text constant")
            })?;
        let job: Job = serde_json::from_str(&job)
            .map_err(|e| exec_datafusion_err!("{NAME}: the job is not valid: {e}"))?;
        if args.exprs.len() != job.arguments() {
            return exec_err!(
                "{NAME}: {} arguments for the job's {} columns{}",
                args.exprs.len(),
                job.columns.len(),
                if job.cache_hits {
                    " and the cache hits' mark"
                } else {
                    ""
                }
            );
        }
        let ready = job
            .ready()
            .map_err(|e| exec_datafusion_err!("{NAME}: {e:#}"))?;
        Ok(Box::new(Partial {
            acc: Accumulator::new(ready.catalog, ready.config),
            ready,
            dataset: if job.cache_hits {
                tokenaudit_store::layout::Dataset::CacheHits
            } else {
                tokenaudit_store::layout::Dataset::Calls
            },
        }))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(
            format_state_name(args.name, "state"),
            DataType::Binary,
            true,
        ))])
    }
}

/// One partition's accumulator.
struct Partial {
    ready: Ready,
    acc: Accumulator<'static>,
    /// Calls, or LiteLLM's cache hits (the job's `cache_hits`).
    dataset: tokenaudit_store::layout::Dataset,
}

impl std::fmt::Debug for Partial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("tokenaudit_partial accumulator")
    }
}

impl Partial {
    /// The state so far, leaving an empty accumulator (DataFusion asks for
    /// the state or the value once, at the end).
    fn take(&mut self) -> Result<ScalarValue> {
        let acc = std::mem::replace(
            &mut self.acc,
            Accumulator::new(self.ready.catalog, self.ready.config),
        );
        let bytes = acc.encode().map_err(|e| {
            exec_datafusion_err!("{NAME}: reading spilled users or sessions back: {e}")
        })?;
        Ok(ScalarValue::Binary(Some(bytes)))
    }
}

impl DfAccumulator for Partial {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        // The rows as the store's reader sees them: each column of the type
        // the store writes (an engine may hand strings over as views).
        // (A cache-hits job's last argument, the mark, is no column: the
        // zip stops before it.)
        let columns = values[1..]
            .iter()
            .zip(self.ready.columns.fields())
            .map(|(a, f)| {
                if a.data_type() == f.data_type() {
                    Ok(a.clone())
                } else {
                    cast(a, f.data_type()).map_err(Into::into)
                }
            })
            .collect::<Result<Vec<ArrayRef>>>()?;
        let batch = RecordBatch::try_new(self.ready.columns.clone(), columns)?;
        let sources = &self.ready.sources;
        tokenaudit_store::scan::feed(
            &batch,
            self.dataset,
            |key| sources.get(key).copied(),
            &mut self.acc,
        )
        .map_err(|e| exec_datafusion_err!("{NAME}: {e}"))
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let states = states[0].as_binary_opt::<i32>().ok_or_else(|| {
            exec_datafusion_err!("{NAME}: states of type {}", states[0].data_type())
        })?;
        for bytes in states.iter().flatten() {
            let other = Accumulator::decode(bytes, self.ready.catalog, self.ready.config)
                .map_err(|e| exec_datafusion_err!("{NAME}: {e}"))?;
            self.acc.merge(other);
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![self.take()?])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        self.take()
    }

    fn size(&self) -> usize {
        // The accumulator's tables are bounded (see tokenaudit-analyze's
        // spill and sketch modules); DataFusion's memory accounting sees
        // only this struct.
        std::mem::size_of_val(self)
    }
}
