//! What the repository's sources hold to, read from the sources.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if !path.ends_with("target") {
                rust_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The workspace denies `unsafe_code`; one file, the allocator setting of
/// the binary, allows it for one call into glibc. Any other allowance
/// fails here.
#[test]
fn only_the_allocator_setting_allows_unsafe_code() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["crates", "tests", "examples", "benches"] {
        rust_files(&root.join(dir), &mut files);
    }
    assert!(files.len() > 100, "read {} files", files.len());
    let allowing: Vec<String> = files
        .iter()
        .filter(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            ["allow(unsafe_code)", "expect(unsafe_code)"]
                .iter()
                .any(|a| text.contains(a))
        })
        .map(|f| f.strip_prefix(root).unwrap().display().to_string())
        .filter(|f| f != "tests/it/repo.rs")
        .collect();
    assert_eq!(allowing, ["crates/cli/alloc.rs"]);
}
