//! `tokenaudit cluster scheduler | executor`: Ballista's own scheduler and
//! executor processes (the same flags, the same object-store and health
//! setup as Ballista's binaries), built with tokenaudit's functions, which
//! travel by name: the scheduler plans with them, the executors decode and
//! run them.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result};
use ballista_core::config::LogRotationPolicy;
use ballista_core::object_store::{
    runtime_env_with_s3_support, session_config_with_s3_support, session_state_with_s3_support,
};
use ballista_core::registry::BallistaFunctionRegistry;
use ballista_executor::executor_process::{start_executor_process, ExecutorProcessConfig};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;
use datafusion::execution::session_state::SessionState;
use datafusion::execution::FunctionRegistry;
use datafusion::prelude::SessionConfig;
use tracing_subscriber::EnvFilter;

/// The scheduler's flags (`--bind-host`, `--bind-port`, …).
pub use ballista_scheduler::config::Config as SchedulerArgs;

/// The executor's flags (`--bind-host`, `--bind-port`, `--bind-grpc-port`,
/// `--scheduler-host`, `--scheduler-port`, …).
pub use ballista_executor::config::Config as ExecutorArgs;

/// Logs to stderr, or to a file in `dir` rotated by `rotation`; the level
/// from `RUST_LOG`, else `level`.
fn init_logging(
    level: &str,
    dir: Option<&str>,
    prefix: &str,
    rotation: &LogRotationPolicy,
    threads: bool,
) {
    let filter = EnvFilter::new(std::env::var(EnvFilter::DEFAULT_ENV).unwrap_or(level.to_string()));
    let fmt = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_thread_names(threads)
        .with_thread_ids(threads)
        .with_env_filter(filter);
    match dir {
        Some(dir) => {
            use tracing_appender::rolling;
            let writer = match rotation {
                LogRotationPolicy::Minutely => rolling::minutely(dir, prefix),
                LogRotationPolicy::Hourly => rolling::hourly(dir, prefix),
                LogRotationPolicy::Daily => rolling::daily(dir, prefix),
                LogRotationPolicy::Never => rolling::never(dir, prefix),
            };
            fmt.with_writer(writer).init();
        }
        None => fmt.with_writer(std::io::stderr).init(),
    }
}

/// The scheduler's sessions: Ballista's (object stores for `file://` and
/// `s3://`) plus tokenaudit's functions, added to the built state (the
/// builder's `with_aggregate_functions` would replace Ballista's list).
fn scheduler_session(config: SessionConfig) -> datafusion::common::Result<SessionState> {
    let mut state = session_state_with_s3_support(config)?;
    state.register_udaf(Arc::new(crate::partial::udaf()))?;
    Ok(state)
}

/// Runs a scheduler until the process is stopped.
pub fn scheduler(args: SchedulerArgs) -> Result<()> {
    init_logging(
        &args.log_level_setting,
        args.log_dir.as_deref(),
        &format!(
            "scheduler_{}_{}_{}",
            args.namespace, args.external_host, args.bind_port
        ),
        &args.log_rotation_policy,
        args.print_thread_info,
    );
    let addr: SocketAddr = format!("{}:{}", args.bind_host, args.bind_port)
        .parse()
        .with_context(|| {
            format!(
                "--bind-host {} --bind-port {}",
                args.bind_host, args.bind_port
            )
        })?;
    let config = SchedulerConfig::try_from(args)?
        .with_override_config_producer(Arc::new(session_config_with_s3_support))
        .with_override_session_builder(Arc::new(scheduler_session));
    // Deep plans recurse: Ballista's scheduler runs with 32 MiB stacks.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(32 * 1024 * 1024)
        .build()?;
    runtime.block_on(async {
        let cluster = BallistaCluster::new_from_config(&config).await?;
        start_server(cluster, addr, Arc::new(config)).await?;
        Ok(())
    })
}

/// Runs an executor until the process is stopped or its scheduler goes.
pub fn executor(args: ExecutorArgs) -> Result<()> {
    let health_addr: SocketAddr = format!("{}:{}", args.bind_host, args.bind_health_port)
        .parse()
        .with_context(|| format!("--bind-health-port {}", args.bind_health_port))?;
    let mut config = ExecutorProcessConfig::try_from(args)?;
    init_logging(
        &config.special_mod_log_level,
        config.log_dir.as_deref(),
        &config.log_file_name_prefix(),
        &config.log_rotation_policy,
        config.print_thread_info,
    );
    config.override_config_producer = Some(Arc::new(session_config_with_s3_support));
    config.override_runtime_producer = Some(Arc::new(runtime_env_with_s3_support));
    // DataFusion's built-ins, plus ours.
    let mut registry = BallistaFunctionRegistry::default();
    let udaf = crate::partial::udaf();
    registry
        .aggregate_functions
        .insert(udaf.name().to_string(), Arc::new(udaf));
    config.override_function_registry = Some(Arc::new(registry));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        // Kubernetes-style probes, as Ballista's executor binary serves them:
        // /healthz (alive) and /readyz (registered with the scheduler).
        let (stop_health, stopped) = tokio::sync::oneshot::channel();
        let health = ballista_executor::health::spawn_health_server(
            health_addr,
            config.health.clone(),
            stopped,
        );
        let result = start_executor_process(Arc::new(config)).await;
        let _ = stop_health.send(());
        let _ = health.await;
        result.map_err(Into::into)
    })
}
