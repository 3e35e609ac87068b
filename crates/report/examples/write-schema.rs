//! Writes `docs/report-json.schema.json`, the JSON report's schema derived
//! from the types it serializes:
//!
//! ```text
//! cargo run -p tokenaudit-report --example write-schema
//! ```
//!
//! `tests/it/schema.rs` fails while the checked-in file differs from the
//! derived one, so a key added to the report reaches the schema in the same
//! change. After `cargo test --workspace`, `target/debug/examples/write-schema`
//! is this program already built (a `-p` build unifies dependency features
//! differently and can rebuild polars).

use std::path::Path;

fn main() -> std::io::Result<()> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/report-json.schema.json");
    std::fs::write(&path, tokenaudit_report::json::schema())?;
    println!("wrote {}", path.display());
    Ok(())
}
