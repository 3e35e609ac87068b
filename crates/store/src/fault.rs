//! Fault injection for the crash tests: the steps of a commit are named, and
//! `TOKENAUDIT_FAULT=<step>` makes the process die there as `kill -9` would
//! (`abort`: no destructor, no cleanup), or, with `TOKENAUDIT_FAULT=<step>:enospc`,
//! fail there as a full disk would, or, with `TOKENAUDIT_FAULT=<step>:wait`,
//! wait there (having created `$TOKENAUDIT_FAULT_FLAG.reached`) until the
//! file `$TOKENAUDIT_FAULT_FLAG` exists: a race made to happen, for the
//! concurrency tests. Read at a handful of points per commit, never per
//! call.

use std::io;

/// The steps, in the order a commit passes them.
pub const STEPS: [&str; 9] = [
    // An ingest, its sources planned and not yet read.
    "ingest-planned",
    "parts-written",
    "before-claim",
    "claimed",
    "renamed-one",
    "renamed-all",
    "removed",
    // A rewrite's (`store compact`, `store prune`), before it claims its
    // commit.
    "rewrite-before-claim",
    // An audit of the store (every command reading it), its parts planned
    // and not yet read.
    "audit-planned",
];

/// Dies or fails here if the environment asks for it.
pub fn point(step: &str) -> io::Result<()> {
    let Some(want) = std::env::var_os("TOKENAUDIT_FAULT") else {
        return Ok(());
    };
    let want = want.to_string_lossy();
    let (name, how) = want.split_once(':').unwrap_or((&want, "abort"));
    if name != step {
        return Ok(());
    }
    if how == "enospc" {
        return Err(io::Error::from_raw_os_error(28));
    }
    if how == "wait" {
        if let Some(flag) = std::env::var_os("TOKENAUDIT_FAULT_FLAG") {
            let flag = std::path::PathBuf::from(flag);
            let mut reached = flag.clone().into_os_string();
            reached.push(".reached");
            std::fs::write(&reached, b"")?;
            for _ in 0..6000 {
                if flag.exists() {
                    return Ok(());
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        }
        return Ok(());
    }
    std::process::abort()
}
