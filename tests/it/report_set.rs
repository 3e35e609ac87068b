//! A run's reports are written as a set: when one file of it cannot be
//! written (a full disk, a name taken by a folder), the previous files are
//! left exactly as they were, no temporary file is left behind, and the
//! error is said once.

use std::collections::BTreeMap;
use std::path::Path;

use crate::inputs::{good, stderr};
use crate::util::Env;

/// Every file in `dir` (name, bytes), hidden ones included.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let bytes = std::fs::read(e.path()).unwrap_or_else(|_| b"<folder>".to_vec());
            (e.file_name().to_string_lossy().into_owned(), bytes)
        })
        .collect()
}

/// A first run's reports (one call), then a second input of three calls.
fn first_run(env: &Env) -> BTreeMap<String, Vec<u8>> {
    env.write("one.jsonl", good(1));
    env.write("three.jsonl", good(3));
    env.audit(&["one.jsonl"]);
    let before = snapshot(&env.path("out"));
    assert!(before.contains_key("audit.md") && before.contains_key("audit.html"));
    before
}

/// The disk fills up halfway through the set: with a file size limit
/// (`ulimit -f`) the small Markdown report fits and the larger JSON and
/// HTML ones do not, as on a disk with a few kilobytes left.
#[test]
fn a_disk_that_fills_up_mid_set_leaves_the_previous_set() {
    let env = Env::new();
    let before = first_run(&env);
    let sizes = |name: &str| before[name].len() as u64;
    // In 512-byte blocks (POSIX); what `sh` reads is at most twice that.
    let limit_bytes = sizes("audit.md") + 2048;
    assert!(
        2 * limit_bytes < sizes("audit.html").min(sizes("audit.json")),
        "the reports are too close in size for this test: {:?}",
        before.iter().map(|(k, v)| (k, v.len())).collect::<Vec<_>>()
    );
    let bin = assert_cmd::cargo::cargo_bin("tokenaudit");
    // SIGXFSZ ignored, so a write past the limit fails with EFBIG (as a
    // write to a full disk fails with ENOSPC) instead of killing the process.
    let script = format!(
        "trap '' XFSZ; ulimit -f {}; exec \"$0\" audit three.jsonl --out out --quiet",
        limit_bytes / 512
    );
    let out = std::process::Command::new("sh")
        .current_dir(env.dir.path())
        .args(["-c", &script])
        .arg(&bin)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(snapshot(&env.path("out")), before, "{err}");
    // One line, the OS error once.
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: cannot write out/audit"), "{err}");
    assert_eq!(err.matches("File too large").count(), 1, "{err}");
}

/// A rename that fails (a folder sits at one report's name) after others
/// have been renamed: those get their previous version back.
#[test]
fn a_failed_rename_puts_back_the_files_renamed_before_it() {
    let env = Env::new();
    let mut before = first_run(&env);
    // The last file of the set (CSV tables come before the HTML page).
    let taken = env.path("out/audit.html");
    std::fs::remove_file(&taken).unwrap();
    std::fs::create_dir(&taken).unwrap();
    std::fs::write(taken.join("keep"), "").unwrap();
    before.insert("audit.html".into(), b"<folder>".to_vec());
    let out = env
        .cmd()
        .args(["audit", "three.jsonl", "--out", "out", "--quiet"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(snapshot(&env.path("out")), before, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: cannot write out/audit.html: "),
        "{err}"
    );
    // Once the folder is gone, the same run writes the new set.
    std::fs::remove_dir_all(&taken).unwrap();
    let r = env.audit(&["three.jsonl"]);
    assert_eq!(r["audit"]["totals"]["calls"], 3);
}
