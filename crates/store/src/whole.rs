//! Files read whole: the audit cache's states and the parts a store's
//! audit reads. By default into memory; the binary maps them instead
//! ([`read_with`], its `alloc.rs`), so their pages are the page cache's
//! rather than fresh memory the kernel must zero before a copy is written
//! into it: a night's audit read its month's 14 MB state and its day's
//! parts that way, and spent a tenth of its time zeroing pages.

use std::path::Path;
use std::sync::OnceLock;

/// A way to read a file whole.
pub type ReadWhole = fn(&Path) -> std::io::Result<bytes::Bytes>;

static READ_WHOLE: OnceLock<ReadWhole> = OnceLock::new();

/// Reads files whole with `read` from now on. Once; later calls change
/// nothing.
pub fn read_with(read: ReadWhole) {
    let _ = READ_WHOLE.set(read);
}

/// The file's bytes.
pub fn read(path: &Path) -> std::io::Result<bytes::Bytes> {
    match READ_WHOLE.get() {
        Some(read) => read(path),
        None => std::fs::read(path).map(bytes::Bytes::from),
    }
}
