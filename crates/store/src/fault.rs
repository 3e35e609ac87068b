//! Fault injection for the crash tests: the steps of a commit are named, and
//! `TOKENAUDIT_FAULT=<step>` makes the process die there as `kill -9` would
//! (`abort`: no destructor, no cleanup), or, with `TOKENAUDIT_FAULT=<step>:enospc`,
//! fail there as a full disk would. Read at a handful of points per commit,
//! never per call.

use std::io;

/// The steps, in the order a commit passes them.
pub const STEPS: [&str; 6] = [
    "parts-written",
    "before-claim",
    "claimed",
    "renamed-one",
    "renamed-all",
    "removed",
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
    std::process::abort()
}
