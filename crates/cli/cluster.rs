//! The `cluster` feature's commands and engine choice: `tokenaudit cluster
//! scheduler | executor`, `tokenaudit sql`, and `--store` audits on
//! DataFusion (in this process, or on the Ballista cluster `--engine`
//! names). See docs/cluster.md.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};

use tokenaudit_cluster::serve::{ExecutorArgs, SchedulerArgs};
use tokenaudit_cluster::{Engine, StoreUrl};
use tokenaudit_store::commit::State;

#[derive(Debug, Subcommand)]
pub enum ClusterCommand {
    /// Run a Ballista scheduler that knows tokenaudit's functions. Flags are
    /// Ballista's own (`--bind-host`, `--bind-port`, …); `--engine
    /// df://HOST:PORT` sends work to it.
    #[command(after_help = "Example (docs/cluster.md has the whole deployment):
  tokenaudit cluster scheduler --bind-host 0.0.0.0 --bind-port 50050
  tokenaudit cluster executor --scheduler-host HOST --scheduler-port 50050   # on each worker
  tokenaudit audit --store /data/ta --engine df://HOST:50050 --out reports/

Every executor reads the store itself: give --store a path every worker
sees at the same place (a shared folder), or an s3:// URL.")]
    Scheduler(Box<SchedulerArgs>),
    /// Run a Ballista executor that runs tokenaudit's functions. Flags are
    /// Ballista's own (`--scheduler-host`, `--scheduler-port`,
    /// `--bind-host`, `--bind-port`, `--bind-grpc-port`, …).
    #[command(after_help = "Example (docs/cluster.md has the whole deployment):
  tokenaudit cluster executor --scheduler-host HOST --scheduler-port 50050 \\
      --bind-host 0.0.0.0 --bind-port 50051 --bind-grpc-port 50052

It reads the store each job names, at the path or URL the client gave:
the store must be there on this machine too (a shared folder, or s3://).")]
    Executor(Box<ExecutorArgs>),
}

pub fn run(cmd: ClusterCommand) -> Result<ExitCode> {
    match cmd {
        ClusterCommand::Scheduler(args) => tokenaudit_cluster::serve::scheduler(*args)?,
        ClusterCommand::Executor(args) => tokenaudit_cluster::serve::executor(*args)?,
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Args)]
#[command(after_long_help = "Tables:
  calls      one row per call: the store's columns (docs/store.md) and day (the UTC date)
  findings   the findings ledger's ticket records, when the store keeps one

Examples:
  tokenaudit sql --store store/ \"SELECT feature, count(*) AS calls, sum(cost_usd) AS usd FROM calls WHERE day >= '2026-10-01' GROUP BY feature ORDER BY usd DESC\"
  tokenaudit sql --store s3://bucket/llm-store \"SELECT model, count(*) FROM calls GROUP BY model\" --format csv
  tokenaudit sql --store store/ --engine df://scheduler:50050 \"SELECT user, sum(cost_usd) FROM calls GROUP BY user ORDER BY 2 DESC LIMIT 20\"")]
pub struct SqlArgs {
    /// The query (DataFusion's SQL dialect).
    #[arg(value_name = "SQL")]
    pub query: String,

    /// The store: a directory, file:///dir or s3://bucket/prefix.
    #[arg(long, value_name = "DIR|URL")]
    pub store: String,

    /// Where to run it: df://HOST:PORT (a `tokenaudit cluster scheduler`),
    /// standalone (Ballista inside this process) or datafusion (the
    /// default: DataFusion in this process).
    #[arg(long, value_name = "ENGINE")]
    pub engine: Option<String>,

    /// table, csv or json (an array of objects).
    #[arg(long, default_value = "table", value_name = "FORMAT")]
    pub format: String,
}

pub fn sql(args: SqlArgs) -> Result<ExitCode> {
    let format = tokenaudit_cluster::sql::Format::parse(&args.format)?;
    let engine = engine(args.engine.as_deref())?;
    let (url, state) = open(Path::new(&args.store))?;
    let mut out = std::io::stdout().lock();
    tokenaudit_cluster::sql::run(&engine, &url, &state, &args.query, format, &mut out)?;
    Ok(ExitCode::SUCCESS)
}

/// `--engine`, DataFusion in this process when absent.
pub fn engine(text: Option<&str>) -> Result<Engine> {
    text.map_or(Ok(Engine::InProcess), Engine::parse)
}

/// Whether `--store` names an object store URL rather than a directory.
pub fn is_url(store: &Path) -> bool {
    store.to_str().is_some_and(|s| s.contains("://"))
}

/// A store's URL and live state: a directory is opened as every command
/// opens it (an interrupted commit is repaired first); a URL's commit log
/// is read as it is.
pub fn open(store: &Path) -> Result<(StoreUrl, State)> {
    let text = store
        .to_str()
        .with_context(|| format!("--store {}: not UTF-8", store.display()))?;
    if is_url(store) {
        let url = StoreUrl::parse(text)?;
        let state = url
            .read_state(None)
            .with_context(|| format!("--store {text}"))?;
        Ok((url, state))
    } else {
        let opened = tokenaudit_store::Store::open(store)
            .with_context(|| format!("--store {}", store.display()))?;
        Ok((StoreUrl::parse(text)?, opened.state().clone()))
    }
}

/// The audit of a store on `prepared`'s engine.
pub fn audit(
    prepared: &crate::audit::Prepared,
    store: &StoreUrl,
    state: &State,
) -> Result<tokenaudit_analyze::Outcome> {
    let query = crate::audit::store_query(&prepared.analyze, &prepared.options);
    let plan = tokenaudit_cluster::audit::AuditPlan {
        engine: &prepared.engine,
        store,
        state,
        query: &query,
        prices: &prepared.prices,
    };
    tokenaudit_cluster::audit::run(
        &plan,
        &prepared.catalog,
        &prepared.analyze,
        &prepared.detect,
    )
    .with_context(|| format!("auditing the store {}", store.as_str()))
}
