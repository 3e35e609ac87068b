//! `tokenaudit sql`: ad-hoc SQL over the store, for the questions the
//! reports do not answer. Tables: `calls` (the live parts, the store's
//! columns plus `day`, the call's UTC date) and, when the store keeps one,
//! `findings` (the ledger's ticket records, with the night's entry in each
//! file).

use std::io::Write;

use anyhow::{bail, Context, Result};
use datafusion::arrow::record_batch::RecordBatch;

use tokenaudit_store::commit::State;

use crate::location::StoreUrl;
use crate::session::{self, Engine};

/// How the result is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Csv,
    Json,
}

impl Format {
    pub fn parse(text: &str) -> Result<Format> {
        Ok(match text {
            "table" => Format::Table,
            "csv" => Format::Csv,
            "json" => Format::Json,
            other => bail!("--format {other:?}: expected table, csv or json"),
        })
    }
}

/// Runs `query` on `engine` over the store and returns its rows.
pub async fn query(
    engine: &Engine,
    store: &StoreUrl,
    state: &State,
    query: &str,
) -> Result<Vec<RecordBatch>> {
    let parts: Vec<_> = state.call_parts().collect();
    let ctx = session::context(engine, parts.len()).await?;
    session::register_parts(&ctx, store, &parts, "calls_files")?;
    ctx.sql("CREATE VIEW calls AS SELECT *, CAST(ts AS DATE) AS day FROM calls_files")
        .await?
        .collect()
        .await?;
    session::register_findings(&ctx, store).await?;
    let df = ctx.sql(query).await.context("planning the query")?;
    df.collect().await.context("running the query")
}

/// Writes `batches` to `out` in `format`.
pub fn write(batches: &[RecordBatch], format: Format, out: &mut dyn Write) -> Result<()> {
    match format {
        Format::Table => {
            writeln!(
                out,
                "{}",
                datafusion::arrow::util::pretty::pretty_format_batches(batches)?
            )?;
        }
        Format::Csv => {
            let mut w = datafusion::arrow::csv::Writer::new(out);
            for b in batches {
                w.write(b)?;
            }
        }
        Format::Json => {
            let mut w = datafusion::arrow::json::ArrayWriter::new(&mut *out);
            for b in batches {
                w.write(b)?;
            }
            w.finish()?;
            drop(w);
            writeln!(out)?;
        }
    }
    Ok(())
}

/// [`query`] then [`write`], on a runtime of its own.
pub fn run(
    engine: &Engine,
    store: &StoreUrl,
    state: &State,
    text: &str,
    format: Format,
    out: &mut dyn Write,
) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let batches = runtime.block_on(query(engine, store, state, text));
    runtime.shutdown_background();
    write(&batches?, format, out)
}
