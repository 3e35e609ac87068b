//! The audit of a store on DataFusion: one aggregate over the live parts of
//! the days asked for, `SELECT tokenaudit_partial('<job>', ts, …) FROM
//! calls`, whose value is the merged accumulator (and the same over
//! `cache_hits` when the days hold LiteLLM cache hits); then the ordinary
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

/// The merged accumulators' bytes, one per dataset the days hold: the
/// calls, then LiteLLM's cache hits (`cache_hits/`), which are no calls but
/// which the store's reader also counts (TA109 and TA110 cite them). Each
/// is one aggregate over its parts, with the same job but for
/// `cache_hits`.
pub async fn accumulate(plan: &AuditPlan<'_>, config: &AnalyzeConfig) -> Result<Vec<Vec<u8>>> {
    let (parts, _) = scan::plan(plan.state, plan.query);
    let (calls, hits): (Vec<_>, Vec<_>) = parts.into_iter().partition(|p| p.holds_calls());
    if calls.is_empty() && hits.is_empty() {
        return Ok(vec![]);
    }
    let columns = scan::columns(plan.query.prompts);
    let ctx = session::context(plan.engine, calls.len().max(hits.len())).await?;
    let mut states = Vec::new();
    for (parts, cache_hits, table) in [(calls, false, "calls"), (hits, true, "cache_hits")] {
        if parts.is_empty() {
            continue;
        }
        let job = Job {
            store: plan.store.as_str().to_string(),
            head: plan.state.head,
            columns: columns.clone(),
            prices: plan.prices.to_vec(),
            analyze: AnalyzeOptions::from(config),
            cache_hits,
            sources_digest: Some(crate::location::index_digest(
                &crate::location::source_index(plan.state),
            )),
        };
        check_parts(&ctx, plan.store, &parts).await?;
        session::register_parts(&ctx, plan.store, &parts, table)?;
        let mut args: Vec<Expr> = vec![lit(serde_json::to_string(&job)?)];
        args.extend(columns.iter().map(|c| ident(c.as_str())));
        if cache_hits {
            args.push(lit(partial::HITS_MARK));
        }
        let batches = ctx
            .table(table)
            .await?
            .aggregate(vec![], vec![partial::udaf().call(args).alias("state")])?
            .collect()
            .await
            .with_context(|| {
                let hint = match plan.engine {
                    Engine::Remote(_) => " (is `tokenaudit cluster scheduler` running there, with executors that reach the store? see docs/cluster.md)",
                    _ => "",
                };
                format!("running the audit's aggregate on {}{hint}", plan.engine)
            })?;
        let column = batches
            .iter()
            .find(|b| b.num_rows() > 0)
            .map(|b| b.column(0).clone())
            .context("the aggregate returned no row")?;
        match ScalarValue::try_from_array(&column, 0)? {
            ScalarValue::Binary(Some(bytes)) => states.push(bytes),
            other => anyhow::bail!(
                "the aggregate returned {} instead of a state",
                other.data_type()
            ),
        }
    }
    Ok(states)
}

/// Every part the commit log lists is there with its committed size:
/// DataFusion's listing reads a missing or empty file as no rows, so an
/// audit would have counted a store with a lost part without a word
/// (hunt72: 339 of 679 calls, exit 0), where the store's own reader fails.
async fn check_parts(
    ctx: &datafusion::prelude::SessionContext,
    store: &StoreUrl,
    parts: &[&tokenaudit_store::commit::PartEntry],
) -> Result<()> {
    use object_store::ObjectStoreExt;
    for p in parts {
        let url =
            datafusion::datasource::listing::ListingTableUrl::parse(store.join(&p.path)?.as_str())?;
        let objects = ctx.runtime_env().object_store(&url)?;
        let size = objects.head(url.prefix()).await.map(|m| m.size);
        match size {
            Ok(n) if n == p.bytes => {}
            Ok(n) => anyhow::bail!(
                "the store's part {} holds {n} bytes where its commit wrote {}: the store is damaged; run `tokenaudit store check`",
                p.path,
                p.bytes
            ),
            Err(e) => anyhow::bail!(
                "the store's part {} cannot be read ({e}): the store is damaged, or a command is finishing a commit; run `tokenaudit store check`",
                p.path
            ),
        }
    }
    Ok(())
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
        for bytes in &bytes {
            acc.merge(Accumulator::decode(bytes, catalog, config)?);
        }
        Ok::<_, anyhow::Error>((vec![acc], summary))
    })
}
