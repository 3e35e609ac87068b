//! The audit of a store on DataFusion: one aggregate over the live parts of
//! the days asked for, `SELECT tokenaudit_partial('<job>', ts, …) FROM
//! calls`, whose value is the merged accumulator; then the ordinary
//! pipeline (finish, detect, savings) on it.

use anyhow::{Context, Result};
use datafusion::common::ScalarValue;
use datafusion::prelude::{ident, lit, Expr};

use tokenaudit_analyze::detect::DetectConfig;
use tokenaudit_analyze::{Accumulator, AnalyzeConfig, Outcome};
use tokenaudit_core::pricing::Catalog;
use tokenaudit_store::commit::State;
use tokenaudit_store::scan::{self, Query};

use crate::location::StoreUrl;
use crate::partial::{self, AnalyzeOptions, Job};
use crate::session::{self, Engine};

/// What to audit and how.
pub struct AuditPlan<'a> {
    pub engine: &'a Engine,
    pub store: &'a StoreUrl,
    /// The store's state (from [`tokenaudit_store::Store::open`] for a
    /// local directory, or [`StoreUrl::state`]).
    pub state: &'a State,
    /// The days and columns to read.
    pub query: &'a Query,
    /// `--prices` files' contents: the executors build the same catalog.
    pub prices: &'a [String],
}

/// The merged accumulator's bytes: the aggregate's single value.
pub async fn accumulate(plan: &AuditPlan<'_>, config: &AnalyzeConfig) -> Result<Option<Vec<u8>>> {
    // The calls; LiteLLM's cache hits (`cache_hits/`) are left out: this
    // engine's audit does not give them as evidence.
    let (mut parts, _) = scan::plan(plan.state, plan.query);
    parts.retain(|p| p.holds_calls());
    if parts.is_empty() {
        return Ok(None);
    }
    let columns = scan::columns(plan.query.prompts);
    let job = Job {
        store: plan.store.as_str().to_string(),
        head: plan.state.head,
        columns: columns.clone(),
        prices: plan.prices.to_vec(),
        analyze: AnalyzeOptions::from(config),
    };
    let ctx = session::context(plan.engine, parts.len()).await?;
    session::register_parts(&ctx, plan.store, &parts, "calls")?;
    let mut args: Vec<Expr> = vec![lit(serde_json::to_string(&job)?)];
    args.extend(columns.iter().map(|c| ident(c.as_str())));
    let batches = ctx
        .table("calls")
        .await?
        .aggregate(vec![], vec![partial::udaf().call(args).alias("state")])?
        .collect()
        .await
        .with_context(|| format!("running the audit's aggregate on {:?}", plan.engine))?;
    let column = batches
        .iter()
        .find(|b| b.num_rows() > 0)
        .map(|b| b.column(0).clone())
        .context("the aggregate returned no row")?;
    match ScalarValue::try_from_array(&column, 0)? {
        ScalarValue::Binary(Some(bytes)) => Ok(Some(bytes)),
        other => anyhow::bail!(
            "the aggregate returned {} instead of a state",
            other.data_type()
        ),
    }
}

/// The whole audit, as `tokenaudit_analyze::run_with_reader` runs it over
/// the store's own reader: same summary, same finish and detectors.
pub fn run<'c>(
    plan: &AuditPlan<'_>,
    catalog: &'c Catalog,
    config: &'c AnalyzeConfig,
    detect: &DetectConfig,
) -> Result<Outcome> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let bytes = runtime.block_on(accumulate(plan, config));
    // A standalone engine's scheduler and executor are tasks of this
    // runtime: they stop with it.
    runtime.shutdown_background();
    let bytes = bytes?;
    let (_, summary) = scan::plan(plan.state, plan.query);
    tokenaudit_analyze::run_with_reader(catalog, config, detect, |make| {
        let mut acc: Accumulator<'c> = make();
        if let Some(bytes) = &bytes {
            acc.merge(Accumulator::decode(bytes, catalog, config)?);
        }
        Ok::<_, anyhow::Error>((vec![acc], summary))
    })
}
