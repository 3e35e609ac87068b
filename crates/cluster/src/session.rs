//! Where a plan runs, and the store's tables in a session.

use std::sync::Arc;

use anyhow::{bail, Context, Result};
use ballista::prelude::SessionContextExt;
use ballista_core::object_store::{runtime_env_with_s3_support, S3Options};
use datafusion::datasource::file_format::json::JsonFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::execution::session_state::{SessionState, SessionStateBuilder};
use datafusion::prelude::{SessionConfig, SessionContext};

use tokenaudit_store::commit::PartEntry;

use crate::location::StoreUrl;

/// The engine a plan runs on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Engine {
    /// DataFusion in this process (no `--engine`, or `--engine datafusion`).
    InProcess,
    /// A Ballista scheduler and executor started inside this process
    /// (`--engine standalone`): Ballista's planning and shuffles without
    /// other processes.
    Standalone,
    /// A Ballista scheduler (`--engine df://HOST:PORT`).
    Remote(String),
    /// No DataFusion: the store's own reader, as in a build without the
    /// feature (`--engine reader`, audits of a store directory only).
    Reader,
}

impl Engine {
    pub fn parse(text: &str) -> Result<Engine> {
        match text {
            "datafusion" => Ok(Engine::InProcess),
            "standalone" => Ok(Engine::Standalone),
            "reader" => Ok(Engine::Reader),
            url if url.starts_with("df://") => Ok(Engine::Remote(url.to_string())),
            other => bail!(
                "--engine {other:?}: expected df://HOST:PORT (a Ballista scheduler), datafusion (in this process), standalone (a Ballista scheduler and executor in this process) or reader (the store's own reader)"
            ),
        }
    }
}

/// A session state with tokenaudit's functions, DataFusion's built-ins and
/// object stores for `file://` and `s3://` (credentials from the AWS
/// environment): what the client, the scheduler and the standalone engine
/// plan with.
pub fn session_state(config: SessionConfig) -> datafusion::common::Result<SessionState> {
    let config = if config.options().extensions.get::<S3Options>().is_some() {
        config
    } else {
        config.with_option_extension(S3Options::default())
    };
    let runtime = runtime_env_with_s3_support(&config)?;
    let mut state = SessionStateBuilder::new()
        .with_config(config)
        .with_runtime_env(runtime)
        .with_default_features()
        .build();
    // Added to the built state: the builder's `with_aggregate_functions`
    // would replace the built-ins instead.
    datafusion::execution::FunctionRegistry::register_udaf(
        &mut state,
        Arc::new(crate::partial::udaf()),
    )?;
    Ok(state)
}

/// Input partitions a Ballista job gets at most: one per part up to this,
/// so that tasks are small, spread over every executor, and a task lost
/// with its executor is a small part of the job to run again.
const MAX_CLUSTER_PARTITIONS: usize = 512;

/// A session on `engine` for reading `parts` files. In this process the
/// files are read in DataFusion's default partitions (one per core); on
/// Ballista in one partition per file (up to
/// [`MAX_CLUSTER_PARTITIONS`]), each a task.
impl std::fmt::Display for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Engine::InProcess => f.write_str("DataFusion in this process"),
            Engine::Standalone => f.write_str("Ballista standalone in this process"),
            Engine::Remote(url) => write!(f, "the Ballista scheduler at {url}"),
            Engine::Reader => f.write_str("the store's own reader"),
        }
    }
}

pub async fn context(engine: &Engine, parts: usize) -> Result<SessionContext> {
    let mut config = SessionConfig::new().with_information_schema(true);
    if *engine != Engine::InProcess {
        config = config.with_target_partitions(parts.clamp(1, MAX_CLUSTER_PARTITIONS));
    }
    let state = session_state(config)?;
    let ctx = match engine {
        Engine::InProcess => SessionContext::new_with_state(state),
        Engine::Standalone => SessionContext::standalone_with_state(state)
            .await
            .context("starting a Ballista scheduler and executor in this process")?,
        Engine::Remote(url) => SessionContext::remote_with_state(url, state)
            .await
            .with_context(|| {
                format!(
                    "connecting to the Ballista scheduler at {url} (is `tokenaudit cluster scheduler` running there, with executors? see docs/cluster.md)"
                )
            })?,
        Engine::Reader => {
            bail!("--engine reader runs no SQL: give datafusion, standalone or df://HOST:PORT")
        }
    };
    // Ballista's session replaces the aggregate functions with its own list:
    // the client's planner needs ours again (to plan SQL that names it).
    ctx.register_udaf(crate::partial::udaf());
    Ok(ctx)
}

/// Registers the store's live `parts` as table `name`, exactly those files
/// (listed from the commit log, never by globbing, so a part being written
/// or replaced is not read), with the store's schema.
pub fn register_parts(
    ctx: &SessionContext,
    store: &StoreUrl,
    parts: &[&PartEntry],
    name: &str,
) -> Result<()> {
    let schema = tokenaudit_store::schema::schema();
    let table: Arc<dyn datafusion::catalog::TableProvider> = if parts.is_empty() {
        Arc::new(datafusion::datasource::empty::EmptyTable::new(schema))
    } else {
        let urls = parts
            .iter()
            .map(|p| Ok(ListingTableUrl::parse(store.join(&p.path)?.as_str())?))
            .collect::<Result<Vec<_>>>()?;
        let options =
            ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
        let config = ListingTableConfig::new_with_multi_paths(urls)
            .with_listing_options(options)
            .with_schema(schema);
        Arc::new(ListingTable::try_new(config)?)
    };
    ctx.register_table(name, table)?;
    Ok(())
}

/// Registers the findings ledger (`_findings/`, JSON lines: one ticket
/// record a finding, each night an entry) as table `findings`, if the store
/// has one. Its columns are inferred from the records.
pub async fn register_findings(ctx: &SessionContext, store: &StoreUrl) -> Result<bool> {
    let Some(dir) = store.local_dir() else {
        return Ok(false);
    };
    let dir = dir.join(tokenaudit_store::layout::FINDINGS);
    let mut files: Vec<std::path::PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .and_then(tokenaudit_store::layout::parse_commit_file)
                    .is_some()
            })
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    };
    if files.is_empty() {
        return Ok(false);
    }
    files.sort();
    let urls = files
        .iter()
        .map(|p| {
            let url = url::Url::from_file_path(p)
                .map_err(|()| anyhow::anyhow!("{}: not an absolute path", p.display()))?;
            Ok(ListingTableUrl::parse(url.as_str())?)
        })
        .collect::<Result<Vec<_>>>()?;
    let options = ListingOptions::new(Arc::new(JsonFormat::default())).with_file_extension(".json");
    let config = ListingTableConfig::new_with_multi_paths(urls)
        .with_listing_options(options)
        .infer_schema(&ctx.state())
        .await?;
    ctx.register_table("findings", Arc::new(ListingTable::try_new(config)?))?;
    Ok(true)
}
