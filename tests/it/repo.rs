//! What the repository's sources hold to, read from the sources.

use std::path::{Path, PathBuf};

/// Files under `dir` named `name` or ending in `.rs` (`name` empty), build
/// output left out.
fn files(dir: &Path, name: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if !path.ends_with("target") {
                files(&path, name, out);
            }
        } else if (name.is_empty() && path.extension().is_some_and(|e| e == "rs"))
            || path.file_name().is_some_and(|n| n == name)
        {
            out.push(path);
        }
    }
}

/// A path relative to the repository, with `/` between its parts.
fn relative(root: &Path, path: &Path) -> String {
    let parts: Vec<String> = path
        .strip_prefix(root)
        .unwrap()
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.join("/")
}

/// The workspace denies `unsafe_code`; one file, the allocator setting of
/// the binary, allows it for one call into glibc. Any other mention of the
/// lint (an `allow`, `expect`, `warn`, a `cfg_attr`, a crate's own lint
/// table) fails here.
#[test]
fn only_the_allocator_setting_allows_unsafe_code() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dirs = ["crates", "tests", "examples", "benches", "xtask", "fuzz"];
    let mut sources = Vec::new();
    let mut manifests = Vec::new();
    for dir in dirs {
        files(&root.join(dir), "", &mut sources);
        files(&root.join(dir), "Cargo.toml", &mut manifests);
    }
    assert!(sources.len() > 100, "read {} files", sources.len());
    assert!(manifests.len() >= 9, "read {} manifests", manifests.len());
    // Mentions other than a manifest's `forbid` (the fuzz crate's, outside
    // the workspace).
    let naming = |paths: &[PathBuf]| -> Vec<String> {
        paths
            .iter()
            .filter(|f| {
                let text = std::fs::read_to_string(f).unwrap();
                text.replace("unsafe_code = \"forbid\"", "")
                    .contains("unsafe_code")
            })
            .map(|f| relative(root, f))
            .filter(|f| f != "tests/it/repo.rs")
            .collect()
    };
    assert_eq!(naming(&sources), ["crates/cli/alloc.rs"]);
    assert_eq!(naming(&manifests), Vec::<String>::new());
}
