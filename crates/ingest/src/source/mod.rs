//! Finding inputs: files, directories (recursive), globs and stdin (`-`), and
//! opening them with transparent decompression.
//!
//! The encoding is sniffed from the first bytes (gzip, zstd, Parquet), not
//! trusted from the extension, so a `.log` that is really gzip still reads.

pub mod container;
mod delta;
pub(crate) use delta::decode as percent_decode;
pub mod lines;
pub mod mend;

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use thiserror::Error;

/// One input to read.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    Stdin,
    File(PathBuf),
}

impl Source {
    /// The name used in reports.
    pub fn display(&self) -> String {
        match self {
            Source::Stdin => "<stdin>".to_string(),
            Source::File(p) => p.display().to_string(),
        }
    }
}

#[derive(Debug, Error)]
pub enum SourceError {
    #[error("input {0:?} does not exist (give a file, a directory, a glob such as 'logs/*.jsonl.gz', or '-' for stdin)")]
    NotFound(String),
    #[error("invalid glob pattern {pattern:?}: {message}")]
    BadGlob { pattern: String, message: String },
    #[error("cannot list directory {path}: {source}")]
    ReadDir { path: String, source: io::Error },
    #[error("no input files matched {0:?}")]
    NothingMatched(String),
}

/// The extensions of log files a directory's walk reads (besides any
/// compressed file and rotated copies: see [`is_log_candidate`]).
pub const LOG_EXTENSIONS: [&str; 7] = [
    ".jsonl", ".ndjson", ".json", ".log", ".parquet", ".csv", ".tsv",
];

/// Whether a file found by walking a directory is read, by its name: a log
/// extension (`.jsonl`, `.ndjson`, `.json`, `.log`, `.parquet`, `.csv`, `.tsv`),
/// any `.gz`, `.gzip`, `.zst` or `.zstd` file, rotated logs (`app.jsonl.1`,
/// `app.log.2.gz`, `app.jsonl-20251001`, `app.jsonl.2025-10-01.zst`) and
/// batch outputs named after their input (Bedrock's `records.jsonl.out`),
/// and logs compressed in a way this build does not read (`app.jsonl.bz2`,
/// `.xz`, `.lz4`, `.zip`…: reading them says so). Hidden files are not.
pub fn is_log_candidate(path: &Path) -> bool {
    // A name that is no UTF-8 (`Jos\xe9.jsonl` from an old share) is told
    // by its lossy text (hunt101: "not named like a log").
    let name = match path.file_name() {
        Some(n) => n.to_string_lossy(),
        None => return false,
    };
    if name.starts_with('.') {
        return false;
    }
    let lower = name.to_ascii_lowercase();
    // Claude Code's note of a subagent beside its transcript
    // (`subagents/agent-<id>.meta.json`: its type and description): no log
    // (hunt86: every audit of a Claude Code folder had a rejected line, and
    // `--strict` failed on it).
    if is_agent_note(&lower) {
        return false;
    }
    const COMPRESSED: [&str; 4] = [".gz", ".gzip", ".zst", ".zstd"];
    if COMPRESSED.iter().any(|ext| lower.ends_with(ext)) {
        return true;
    }
    let logs = |n: &str| LOG_EXTENSIONS.iter().any(|ext| n.ends_with(ext));
    // A log compressed in a way this build does not read (`app.jsonl.bz2`)
    // is read to say so: a counted, named input that could not be read,
    // which `--strict` fails on (hunt112: the walk called it "not named
    // like a log" and lost its calls under `--strict`).
    const UNREAD: [&str; 7] = [".bz2", ".bzip2", ".xz", ".lz4", ".zip", ".7z", ".lzma"];
    if let Some(inner) = UNREAD.iter().find_map(|ext| lower.strip_suffix(ext)) {
        return logs(inner) || without_rotation(inner).is_some_and(logs);
    }
    // Bedrock's batch inference writes `<input>.jsonl.out`.
    let output = lower.strip_suffix(".out").is_some_and(logs);
    logs(&lower) || output || without_rotation(&lower).is_some_and(logs)
}

/// Claude Code's note of a subagent (`agent-<id>.meta.json`), by its
/// lowercase name; a user's log named `x.meta.json` is read (hunt88).
fn is_agent_note(lower: &str) -> bool {
    lower.starts_with("agent-") && lower.ends_with(".meta.json")
}

/// Files a log folder holds beside its logs that are surely none (notes,
/// configuration, scripts, pictures): not worth a warning when a walk
/// leaves them out.
fn is_surely_not_a_log(path: &Path) -> bool {
    const OTHERS: [&str; 16] = [
        ".md", ".toml", ".yaml", ".yml", ".ini", ".cfg", ".conf", ".py", ".sh", ".html", ".png",
        ".jpg", ".jpeg", ".svg", ".pdf", ".lock",
    ];
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    OTHERS.iter().any(|ext| name.ends_with(ext)) || is_agent_note(&name)
}

/// The name before a rotation suffix: `.N` (up to 3 digits), or `.` or `-`
/// and a date (`20251001`, `2025-10-01`).
pub(crate) fn without_rotation(name: &str) -> Option<&str> {
    let b = name.as_bytes();
    let digits = |r: &[u8]| r.iter().all(u8::is_ascii_digit);
    let before = |len: usize| {
        let at = b.len().checked_sub(len + 1)?;
        matches!(b[at], b'.' | b'-').then(|| &name[..at])
    };
    let n = b.len();
    if n >= 8 && digits(&b[n - 8..]) {
        return before(8);
    }
    let dashed = n >= 10
        && digits(&b[n - 10..n - 6])
        && b[n - 6] == b'-'
        && digits(&b[n - 5..n - 3])
        && b[n - 3] == b'-'
        && digits(&b[n - 2..]);
    if dashed {
        return before(10);
    }
    let tail = b.iter().rev().take_while(|c| c.is_ascii_digit()).count();
    if (1..=3).contains(&tail) && n > tail && b[n - tail - 1] == b'.' {
        return Some(&name[..n - tail - 1]);
    }
    None
}

/// Expands the command-line inputs into a sorted, de-duplicated list of sources.
///
/// Files named explicitly are read whatever their extension; directories are
/// walked recursively for log-like files (see [`is_log_candidate`]);
/// arguments with `*`, `?` or `[` are globs. Directory and glob results are
/// sorted so every run reads the same files in the same order.
pub fn expand_inputs(inputs: &[String]) -> Result<Vec<Source>, SourceError> {
    Ok(expand_inputs_and_left_out(inputs, &[])?.0)
}

/// What the walks of directories (and globs) did not read.
#[derive(Debug, Default, PartialEq)]
pub struct LeftOut {
    /// Files not named like a log (sorted).
    pub files: Vec<PathBuf>,
    /// Folders not entered, and why: the report folder of this run, or a
    /// tokenaudit store (read with `--store`), whose files would otherwise
    /// be read as calls and counted again on every run.
    pub folders: Vec<(PathBuf, &'static str)>,
    /// Report files an earlier tokenaudit run wrote (its CSV tables and
    /// JSON), found among the logs: read, their rows would be calls again.
    pub reports: Vec<PathBuf>,
    /// Hidden folders not entered, and hidden files named like a log, not
    /// read (`.cache/`, `.old.jsonl`): named, as nothing goes unread
    /// unseen (sorted).
    pub hidden: Vec<PathBuf>,
    /// Delta Lake tables: the folder, its live files read, and the files on
    /// disk its log removed (replaced, not yet vacuumed), not read.
    pub delta: Vec<(PathBuf, usize, usize)>,
    /// Delta Lake tables whose live files cannot be told, and why: not read.
    pub delta_unread: Vec<(PathBuf, &'static str)>,
}

/// Whether `path` is a file a tokenaudit report wrote: named as one and
/// beginning as one (`audit.json`'s `tokenaudit.` schema, a table header
/// of the report's columns in `audit-*.csv` and `focus.csv`, the Markdown's
/// and the HTML's `tokenaudit` line, the `audit-chart-*.png` charts'
/// `tEXt` chunk), or `focus.parquet` beside such a file. A user's log named
/// `audit-2025.csv` has no such header, so it is read.
pub fn is_tokenaudit_report(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    if !is_report_name(name) {
        return false;
    }
    let beside = |n: &str| path.parent().is_some_and(|d| headed_report(&d.join(n)));
    if name == "focus.parquet" {
        // Ours has tokenaudit's own columns (`x_TokenType`, `x_Feature`); a
        // user's FOCUS export of the same name beside an earlier report
        // has not, and is never replaced (hunt148's bug4).
        return our_focus(path);
    }
    if name.ends_with(".png") {
        // A chart says so; one of an earlier version, without that
        // chunk, is known by the report beside it.
        return our_chart(path)
            || beside("audit.json")
            || beside("focus.csv")
            || beside("audit.md");
    }
    headed_report(path)
}

/// Whether `name` is one of the names a tokenaudit report's files have
/// (`audit.md`, `audit.json`, `audit.html`, `audit-*.csv`,
/// `audit-chart-*.png`, `focus.csv`, `focus.parquet`).
pub fn is_report_name(name: &str) -> bool {
    matches!(
        name,
        "audit.md" | "audit.json" | "audit.html" | "focus.csv" | "focus.parquet"
    ) || (name.starts_with("audit-") && name.ends_with(".csv"))
        || (name.starts_with("audit-chart-") && name.ends_with(".png"))
}

/// Whether a Parquet file is tokenaudit's FOCUS export: its schema has
/// tokenaudit's `x_TokenType` and `x_Feature` columns.
fn our_focus(path: &Path) -> bool {
    use parquet::file::reader::FileReader;
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    let Ok(reader) = parquet::file::reader::SerializedFileReader::new(file) else {
        return false;
    };
    let schema = reader.metadata().file_metadata().schema_descr();
    let has = |name: &str| schema.columns().iter().any(|c| c.name() == name);
    has("x_TokenType") && has("x_Feature")
}

/// Whether a PNG is one of tokenaudit's charts: its `tEXt` chunk names
/// tokenaudit as its software. A user's own picture of the same name does
/// not, and is never replaced (hunt84).
fn our_chart(path: &Path) -> bool {
    let mut head = [0u8; 64];
    let n = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
        .unwrap_or(0);
    let head = &head[..n];
    head.starts_with(b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR")
        && head.len() >= 60
        && head[33..].starts_with(b"\0\0\0\x13tEXtSoftware\0tokenaudit")
}

/// [`is_tokenaudit_report`] for a report file named as one that says what
/// it is in its first lines.
fn headed_report(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let mut head = [0u8; 1024];
    let n = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
        .unwrap_or(0);
    let head = String::from_utf8_lossy(&head[..n]);
    let first = head.lines().next().unwrap_or("");
    match name {
        "audit.json" => head.contains("\"schema\": \"tokenaudit."),
        "audit.md" => head.contains("tokenaudit catalog"),
        "audit.html" => head.contains("<meta name=\"generator\" content=\"tokenaudit\">"),
        _ => {
            first.contains(",ok_calls,failed_calls,")
                || [
                    "fingerprint,rule,name,severity,",
                    "step,lever,savings,",
                    "file,line,reason,detail",
                    "dimension,key,calls,previous_calls,",
                ]
                .iter()
                .any(|h| first.starts_with(h))
                // FOCUS columns with tokenaudit's own x_ columns.
                || (first.starts_with("BilledCost,")
                    && first.contains(",x_TokenType,"))
        }
    }
}

/// [`expand_inputs`], not entering the folders `skip` names (the run's
/// report folder) nor stores, and what it left out, for the caller to say
/// so.
pub fn expand_inputs_and_left_out(
    inputs: &[String],
    skip: &[PathBuf],
) -> Result<(Vec<Source>, LeftOut), SourceError> {
    let skip: Vec<PathBuf> = skip.iter().filter_map(|p| p.canonicalize().ok()).collect();
    let mut walk = Walk {
        skip: &skip,
        left_out: LeftOut::default(),
        checked: Default::default(),
        entered: Default::default(),
        root: None,
    };
    let sources = expand(inputs, &mut walk)?;
    let mut left_out = walk.left_out;
    left_out.files.sort();
    left_out.reports.sort();
    left_out.hidden.sort();
    left_out.hidden.dedup();
    left_out.folders.sort();
    left_out.folders.dedup();
    Ok((sources, left_out))
}

/// A walk's folders not to enter and what it left out.
/// Why a walk passes over this run's report folder: its reports are no
/// logs. A file named in it is read (it was asked for); a folder or a glob
/// is not.
pub const REPORT_FOLDER: &str =
    "this run's report folder: folders and globs are not read there; name a file in it to read it";

struct Walk<'a> {
    skip: &'a [PathBuf],
    left_out: LeftOut,
    /// Folders above glob matches already checked, and whether skipped.
    checked: std::collections::HashMap<PathBuf, bool>,
    /// The folders walked, by their real paths: a link back up (a loop)
    /// or to a folder walked already is not entered again.
    entered: std::collections::HashSet<PathBuf>,
    /// The folder named as the input being walked: no link is followed to
    /// a folder that holds it (through a link inside a link too).
    root: Option<PathBuf>,
}

impl Walk<'_> {
    /// Whether `dir` is not entered (and recorded so).
    fn skips(&mut self, dir: &Path) -> bool {
        let why = if dir.join("_commits").is_dir() && dir.join("calls").is_dir() {
            "a tokenaudit store: read it with --store"
        } else if dir.canonicalize().is_ok_and(|d| self.skip.contains(&d)) {
            crate::source::REPORT_FOLDER
        } else {
            return false;
        };
        self.left_out.folders.push((dir.to_path_buf(), why));
        true
    }

    /// Whether a file or folder a glob matched lies in a folder a walk does
    /// not enter ([`Walk::skips`]): `reports/**/*` must not read this
    /// run's own CSV tables as logs, nor `**/*.parquet` a store's parts.
    fn skips_file(&mut self, file: &Path) -> bool {
        let mut dir = file.parent();
        while let Some(d) = dir {
            // A relative path's last folder is the current one.
            let (d, last) = if d.as_os_str().is_empty() {
                (Path::new("."), true)
            } else {
                (d, false)
            };
            let skipped = match self.checked.get(d) {
                Some(&s) => s,
                None => {
                    let s = self.skips(d);
                    self.checked.insert(d.to_path_buf(), s);
                    s
                }
            };
            if skipped {
                return true;
            }
            dir = if last { None } else { d.parent() };
        }
        false
    }
}

/// The alternatives of a pattern's first brace list (`a{1,2}b` → `a1b`,
/// `a2b`; nested lists are expanded when each alternative is), or `None`
/// when it has none (`{}`, `{x}` and an unclosed `{` are literal, as in
/// bash).
fn braces(pattern: &str) -> Option<Vec<String>> {
    let bytes = pattern.as_bytes();
    for open in (0..bytes.len()).filter(|&i| bytes[i] == b'{') {
        let (mut depth, mut commas) = (0usize, Vec::new());
        for (i, &b) in bytes.iter().enumerate().skip(open) {
            match b {
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        if commas.is_empty() {
                            break;
                        }
                        let (head, tail) = (&pattern[..open], &pattern[i + 1..]);
                        let mut from = open + 1;
                        let mut each = Vec::new();
                        for at in commas.into_iter().chain([i]) {
                            each.push(format!("{head}{}{tail}", &pattern[from..at]));
                            from = at + 1;
                        }
                        return Some(each);
                    }
                }
                b',' if depth == 1 => commas.push(i),
                _ => {}
            }
        }
    }
    None
}

/// Whether each hidden name in a glob's match is one the pattern wrote
/// its dot for, as the shell's glob (hunt112: `'logs/**/*.jsonl'` read
/// `logs/.snapshot/`, which the walk of `logs` and the shell leave out;
/// `.*` matched `..`, which bash's `globskipdots` leaves out). (The glob
/// crate's `require_literal_leading_dot` also drops the hidden names a
/// pattern writes, `.cache/*`.)
fn dots_written(entry: &Path, pattern: &str) -> bool {
    let dotted: Vec<&str> = pattern.split('/').filter(|c| c.starts_with('.')).collect();
    entry.to_string_lossy().split('/').all(|name| {
        !name.starts_with('.')
            || match name {
                "." | ".." => dotted.contains(&name),
                _ => dotted.iter().any(|p| {
                    *p != "." && *p != ".." && glob::Pattern::new(p).is_ok_and(|p| p.matches(name))
                }),
            }
    })
}

/// The paths a pattern with `**` matches, in the glob crate's sense (`**`
/// any number of folders, hidden ones too), found by a walk that enters
/// each real folder once: the glob crate follows links into links, and two
/// links back up (`sub/up -> ..`, `sub/self -> .`) made 2^40 paths of a
/// two-file folder (hunt168: it never finished). Folders that cannot be
/// listed are the errors, as the glob crate gives them.
fn glob_recursive(pattern: &str) -> Result<Vec<Result<PathBuf, PathBuf>>, glob::PatternError> {
    // The pattern as its paths are written: without `.` parts and doubled
    // separators (hunt178: `"$DIR/**/*.jsonl"` with `DIR=/data/logs/`
    // matched nothing), nor a leading `./`, as the glob crate names them.
    let written: PathBuf = Path::new(pattern)
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect();
    let pattern = written.to_str().unwrap_or(pattern);
    let matcher = glob::Pattern::new(pattern)?;
    let options = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: false,
    };
    // The folder the pattern starts in: its components before the first
    // with a wildcard (none: the current folder, its paths written
    // without `./`, as the glob crate writes them).
    let base: PathBuf = Path::new(pattern)
        .components()
        .take_while(|c| !c.as_os_str().to_string_lossy().contains(['*', '?', '[']))
        .collect();
    let mut entered = std::collections::HashSet::new();
    let mut out = Vec::new();
    // Folders reached through a link are entered after the others, so a
    // file is named by its own path when both reach it (as the glob
    // crate's matches are, deduplicated in `expand`).
    let mut folders = vec![base.clone()];
    let mut linked = Vec::new();
    while let Some(dir) = folders.pop().or_else(|| linked.pop()) {
        let listed = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir.as_path()
        };
        if let Ok(real) = listed.canonicalize() {
            if !entered.insert(real) {
                continue;
            }
        }
        let entries = match std::fs::read_dir(listed) {
            Ok(entries) => entries,
            // (The pattern's own folder missing is no match.)
            Err(_) if dir == base => continue,
            Err(_) => {
                out.push(Err(dir));
                continue;
            }
        };
        for entry in entries.flatten() {
            let path = dir.join(entry.file_name());
            if matcher.matches_path_with(&path, options) {
                out.push(Ok(path.clone()));
            }
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                folders.push(path);
            } else if path.is_dir() {
                linked.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

fn expand(inputs: &[String], w: &mut Walk<'_>) -> Result<Vec<Source>, SourceError> {
    let mut out = Vec::new();
    for input in inputs {
        // Standard input named twice (`- -`, `- /dev/stdin`) is read once:
        // two readers of one stream tore its lines apart (hunt168).
        if matches!(
            input.as_str(),
            "-" | "/dev/stdin" | "/dev/fd/0" | "/proc/self/fd/0"
        ) {
            if !out.iter().any(|s| matches!(s, Source::Stdin)) {
                out.push(Source::Stdin);
            }
            continue;
        }
        let path = Path::new(input);
        // `{10,11}` as a shell expands it, when the shell did not (a quoted
        // pattern; the glob crate has no braces: hunt112's "no input files
        // matched" of files that were there).
        if path.symlink_metadata().is_err() {
            if let Some(each) = braces(input) {
                out.extend(expand(&each, w)?);
                continue;
            }
        }
        if path.is_dir() {
            let mut files = Vec::new();
            walk(path, &mut files, w)?;
            files.sort();
            out.extend(files.into_iter().map(Source::File));
        } else if path.symlink_metadata().is_ok()
            || path
                .symlink_metadata()
                .is_err_and(|e| e.kind() == io::ErrorKind::PermissionDenied)
        {
            // It exists, even if it cannot be read (a symbolic link to
            // nothing or in a loop, no permission, a folder above it that
            // cannot be searched): reading it reports why.
            out.push(Source::File(path.to_path_buf()));
        } else if input.contains(['*', '?', '[']) {
            let bad = |e: glob::PatternError| SourceError::BadGlob {
                pattern: input.clone(),
                message: e.to_string(),
            };
            let paths: Vec<Result<PathBuf, PathBuf>> = if input.contains("**") {
                glob_recursive(input).map_err(bad)?
            } else {
                glob::glob(input)
                    .map_err(bad)?
                    .map(|e| e.map_err(|e| e.path().to_path_buf()))
                    .collect()
            };
            let mut files: Vec<PathBuf> = Vec::new();
            let mut left_out = false;
            for entry in paths {
                let entry = match entry {
                    Ok(entry) => entry,
                    // A folder the glob could not list: taken as a file, as
                    // the walk takes one (opening it fails: one counted
                    // `unreadable_file` with the reason; `--strict` fails).
                    Err(path) => {
                        files.push(path);
                        continue;
                    }
                };
                if !dots_written(&entry, input) {
                    continue;
                }
                if w.skips_file(&entry) {
                    left_out = true;
                    continue;
                }
                if entry.is_dir() {
                    walk(&entry, &mut files, w)?;
                } else if is_tokenaudit_report(&entry) {
                    w.left_out.reports.push(entry);
                    left_out = true;
                } else if is_file_or_broken_link(&entry) {
                    files.push(entry);
                }
            }
            // Matches all left out are not an error: the notes say why.
            if files.is_empty() && !left_out {
                return Err(SourceError::NothingMatched(input.clone()));
            }
            files.sort();
            out.extend(files.into_iter().map(Source::File));
        } else {
            return Err(SourceError::NotFound(input.clone()));
        }
    }
    // The same file named twice (or by a directory and a glob) is read once,
    // under its own name rather than a link's when both are given (hunt77:
    // `current.jsonl -> day1.jsonl` in a walked folder named day1's calls
    // and rejects `current.jsonl`, which the store kept once the link
    // moved on to day2).
    let mut seen: std::collections::HashMap<PathBuf, usize> = Default::default();
    let mut keep = vec![true; out.len()];
    for i in 0..out.len() {
        let Source::File(p) = &out[i] else {
            continue;
        };
        let key = p.canonicalize().unwrap_or_else(|_| p.clone());
        match seen.get(&key) {
            None => {
                seen.insert(key, i);
            }
            Some(&first) => {
                keep[i] = false;
                let link = |s: &Source| match s {
                    Source::File(p) => p.symlink_metadata().is_ok_and(|m| m.is_symlink()),
                    Source::Stdin => false,
                };
                if link(&out[first]) && !link(&out[i]) {
                    out[first] = out[i].clone();
                }
            }
        }
    }
    let mut keep = keep.into_iter();
    out.retain(|_| keep.next().unwrap_or(true));
    Ok(out)
}

/// Whether a file found by a walk or a glob is read: a regular file, or a
/// symbolic link to one or to nowhere (a loop, a missing target), whose
/// reading then reports why. FIFOs, sockets and devices are not log files
/// and are skipped (opening a FIFO with no writer would wait forever);
/// named explicitly, they are read.
fn is_file_or_broken_link(path: &Path) -> bool {
    std::fs::metadata(path).map_or(true, |m| m.is_file())
}

/// Collects the log files under `dir` (see [`is_file_or_broken_link`]),
/// and in `w` the other files its walk found (not hidden ones) and the
/// folders it did not enter ([`Walk::skips`]). Symbolic links to
/// directories are followed (`current -> /var/log/app/2026-10`), each
/// real folder once, so a link loop cannot trap the walk. A
/// folder inside that cannot be listed (no permission) is taken as a file:
/// opening it fails, so it is one counted `unreadable_file` with its path
/// and the reason, as an unreadable file is, and `--strict` fails on it;
/// the folder named as the input itself is an error.
fn walk(dir: &Path, out: &mut Vec<PathBuf>, w: &mut Walk<'_>) -> Result<(), SourceError> {
    w.root = Some(dir.to_path_buf());
    walk_in(dir, out, w, true)
}

/// Every file under `dir` but its `_delta_log/` and hidden entries, with
/// its path relative to `root` as a Delta log names it (`/` between parts).
fn files_under(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name.starts_with('_') {
            continue;
        }
        if path.is_dir() {
            files_under(root, &path, out);
        } else if let Ok(rel) = path.strip_prefix(root) {
            let rel: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            out.push((rel.join("/"), path));
        }
    }
}

fn walk_in(
    dir: &Path,
    out: &mut Vec<PathBuf>,
    w: &mut Walk<'_>,
    top: bool,
) -> Result<(), SourceError> {
    if w.skips(dir) {
        return Ok(());
    }
    if let Ok(real) = dir.canonicalize() {
        if !w.entered.insert(real) {
            return Ok(());
        }
    }
    // An agent's home folder (`~/.claude`, `~/.codex`): its sessions are
    // read, not its settings, history and caches (each a reject that
    // advised a mapping).
    if let Some(sessions) = agent_sessions(dir) {
        if let Ok(entries) = std::fs::read_dir(dir) {
            let mut others: Vec<PathBuf> = entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| !sessions.contains(p) && is_log_candidate(p))
                .collect();
            others.sort();
            for p in others {
                w.left_out.folders.push((
                    p,
                    "an agent's own file, not a session: its sessions are read",
                ));
            }
        }
        for s in sessions {
            walk_in(&s, out, w, false)?;
        }
        return Ok(());
    }
    // A Delta Lake table: the files its log says are live, not the ones it
    // replaced that are still on disk.
    if let Some(table) = delta::live_files(dir) {
        match table {
            Ok(live) => {
                let mut on_disk = Vec::new();
                files_under(dir, dir, &mut on_disk);
                let (read, removed): (Vec<_>, Vec<_>) =
                    on_disk.into_iter().partition(|(rel, _)| live.contains(rel));
                let removed = removed.iter().filter(|(_, p)| is_log_candidate(p)).count();
                w.left_out
                    .delta
                    .push((dir.to_path_buf(), read.len(), removed));
                out.extend(read.into_iter().map(|(_, p)| p));
            }
            Err(why) => w.left_out.delta_unread.push((dir.to_path_buf(), why)),
        }
        return Ok(());
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(_) if !top => {
            out.push(dir.to_path_buf());
            return Ok(());
        }
        Err(source) => {
            return Err(SourceError::ReadDir {
                path: dir.display().to_string(),
                source,
            })
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let file_type = match entry.file_type() {
            Ok(t) => t,
            Err(_) => continue,
        };
        let linked_dir = file_type.is_symlink() && path.is_dir();
        // A link up to a folder the walk is in (`up -> ..`) would leave the
        // input for its parent's other folders: not entered, and said.
        if linked_dir
            && (links_up(&path, dir) || w.root.as_deref().is_some_and(|r| links_up(&path, r)))
        {
            w.left_out
                .folders
                .push((path, "a link to a folder above it: not entered"));
            continue;
        }
        if file_type.is_dir() || linked_dir {
            if path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'))
            {
                w.left_out.hidden.push(path);
                continue;
            }
            walk_in(&path, out, w, false)?;
        } else if is_file_or_broken_link(&path) {
            if is_log_candidate(&path) {
                if is_tokenaudit_report(&path) {
                    w.left_out.reports.push(path);
                } else {
                    out.push(path);
                }
            } else if let Some(shown) = entry.file_name().to_str().and_then(|n| n.strip_prefix('.'))
            {
                // A hidden file named like a log (`.old.jsonl`), not one of
                // the system's (`.DS_Store`).
                if is_log_candidate(&path.with_file_name(shown)) {
                    w.left_out.hidden.push(path);
                }
            } else if !is_surely_not_a_log(&path) {
                w.left_out.files.push(path);
            }
        }
    }
    Ok(())
}

/// The session folders of an agent's home folder: Claude Code's
/// (`projects/` of folders named by a path, `-home-me-proj`, beside
/// `settings.json` or `history.jsonl`) or Codex's (`sessions/` of year
/// folders, and `archived_sessions/`, beside `config.toml`, `auth.json` or
/// `history.jsonl`); `None` for any other folder.
fn agent_sessions(dir: &Path) -> Option<Vec<PathBuf>> {
    let has = |name: &str| dir.join(name).is_file();
    // A folder holding one named as the agent names its own: Claude Code
    // a project by its path (`-home-me-proj`), Codex a year (`2026`).
    let holds = |sub: &str, named: fn(&str) -> bool| {
        std::fs::read_dir(dir.join(sub)).is_ok_and(|entries| {
            entries
                .flatten()
                .any(|e| e.path().is_dir() && e.file_name().to_str().is_some_and(named))
        })
    };
    let claude =
        (has("settings.json") || has("history.jsonl")) && holds("projects", |n| n.starts_with('-'));
    if claude {
        return Some(vec![dir.join("projects")]);
    }
    let codex = (has("config.toml") || has("auth.json") || has("history.jsonl"))
        && holds("sessions", |n| {
            n.len() == 4 && n.bytes().all(|b| b.is_ascii_digit())
        });
    codex.then(|| {
        ["sessions", "archived_sessions"]
            .iter()
            .map(|s| dir.join(s))
            .filter(|d| d.is_dir())
            .collect()
    })
}

/// Whether the folder `link` leads to holds `dir` (an ancestor of it, or
/// itself).
fn links_up(link: &Path, dir: &Path) -> bool {
    match (link.canonicalize(), dir.canonicalize()) {
        (Ok(target), Ok(dir)) => dir.starts_with(&target),
        _ => false,
    }
}

/// How a source's bytes are encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Plain,
    Gzip,
    Zstd,
    Parquet,
}

impl Encoding {
    /// Sniffs the encoding from the first bytes.
    pub fn sniff(head: &[u8]) -> Encoding {
        if head.starts_with(&[0x1f, 0x8b]) {
            Encoding::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd])
            // A skippable frame first (magic 0x184D2A50..=5F, little-endian),
            // as `pzstd` and seekable-zstd writers begin.
            || (head.len() >= 4 && head[0] & 0xf0 == 0x50 && head[1..4] == [0x2a, 0x4d, 0x18])
        {
            Encoding::Zstd
        } else if head.starts_with(b"PAR1") {
            Encoding::Parquet
        } else {
            Encoding::Plain
        }
    }
}

/// Opens a source as a stream of decompressed bytes, with its encoding.
/// Parquet files are returned unopened (`Encoding::Parquet`): they are read by
/// row group, not as a byte stream.
pub fn open(source: &Source) -> io::Result<(Encoding, Box<dyn Read + Send>)> {
    let mut raw: Box<dyn Read + Send> = match source {
        Source::Stdin => Box::new(io::stdin()),
        Source::File(p) => Box::new(File::open(p)?),
    };
    // The magic bytes, read ahead and put back in front of the stream.
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    (&mut raw).take(SNIFF_BYTES as u64).read_to_end(&mut head)?;
    // A compressed file of no bytes (a download cut before its first) was
    // read as an empty text file, unsaid (hunt77); and a file compressed
    // another way as text, its lines rejected as "another encoding?".
    if let Source::File(p) = source {
        if let Some(kind) = head.is_empty().then(|| compressed_by_name(p)).flatten() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("a {kind} file of no bytes (cut before its first?): a {kind} stream holds its header at least"),
            ));
        }
    }
    // A spreadsheet is a zip archive too: said as what it is (hunt154: an
    // .xlsx was told to be extracted).
    if let (Source::File(p), true) = (source, head.starts_with(b"PK\x03\x04")) {
        if is_spreadsheet(p) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "a spreadsheet workbook: save it as CSV (UTF-8) and audit the .csv",
            ));
        }
    }
    if let Some(kind) = unsupported_compression(&head) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{kind}: tokenaudit reads gzip and zstd (and plain) logs; decompress it first"),
        ));
    }
    let encoding = Encoding::sniff(&head);
    let whole = io::Cursor::new(head).chain(raw);
    let stream: Box<dyn Read + Send> = match encoding {
        // Plain bytes are read straight into the pipeline's chunks: a
        // buffer in between would copy them once more.
        Encoding::Plain | Encoding::Parquet => Box::new(whole),
        Encoding::Gzip => Box::new(Gzip::new(BufReader::with_capacity(1 << 20, whole))),
        Encoding::Zstd => Box::new(zstd_decoder(BufReader::with_capacity(1 << 20, whole))?),
    };
    Ok((encoding, stream))
}

/// A zstd decoder that reads frames of any window zstd writes: `zstd
/// --long` (up to `--long=31`) writes windows past the 128 MiB a decoder
/// takes by default (hunt168: every call of such a log lost, said as a cut
/// file). The window is the frame's own, as the zstd tool's is.
pub(crate) fn zstd_decoder<R: io::BufRead>(
    r: R,
) -> io::Result<zstd::stream::read::Decoder<'static, R>> {
    let mut d = zstd::stream::read::Decoder::with_buffer(r)?;
    d.window_log_max(31)?;
    Ok(d)
}

/// Whether a file is named as a spreadsheet workbook (Excel's, OpenDocument's).
pub fn is_spreadsheet(p: &Path) -> bool {
    p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
        ["xlsx", "xlsm", "xls", "ods", "numbers"].contains(&e.to_ascii_lowercase().as_str())
    })
}

/// The compression a file's name says (`gzip`, `zstd`), if any.
fn compressed_by_name(p: &Path) -> Option<&'static str> {
    let ext = p.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "gz" | "gzip" | "tgz" => Some("gzip"),
        "zst" | "zstd" => Some("zstd"),
        _ => None,
    }
}

/// A compressed or archived file this build does not read, by its magic
/// bytes.
fn unsupported_compression(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        Some("an xz-compressed file (`xz -d` it)")
    } else if head.len() >= 7
        && head.starts_with(b"BZh")
        && (b'1'..=b'9').contains(&head[3])
        && (head[4..7] == [0x31, 0x41, 0x59] || head[4..7] == [0x17, 0x72, 0x45])
    {
        // Its block or end-of-stream magic after the level: a CSV header
        // `BZh2,…` is text (hunt78).
        Some("a bzip2-compressed file (`bunzip2` it)")
    } else if head.starts_with(&[0x04, 0x22, 0x4d, 0x18]) {
        Some("an lz4-compressed file (`lz4 -d` it)")
    } else if head.starts_with(b"PK\x03\x04") {
        Some("a zip archive (extract its logs)")
    } else if head.starts_with(&[b'7', b'z', 0xbc, 0xaf, 0x27, 0x1c]) {
        Some("a 7-Zip archive (extract its logs)")
    } else {
        None
    }
}

/// A gzip stream: its members one after another (as `cat a.gz b.gz`
/// makes), then zero bytes as its end: the padding some writers add to a
/// block, which `gzip -d` ignores too (it was a `truncated_file`). Anything
/// else after a member must be another member.
pub(crate) struct Gzip<R: BufRead> {
    member: Option<flate2::bufread::GzDecoder<R>>,
}

impl<R: BufRead> Gzip<R> {
    pub(crate) fn new(inner: R) -> Gzip<R> {
        Gzip {
            member: Some(flate2::bufread::GzDecoder::new(inner)),
        }
    }
}

impl<R: BufRead> Read for Gzip<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        while let Some(member) = self.member.as_mut() {
            let n = member.read(buf)?;
            if n > 0 {
                return Ok(n);
            }
            // The member ended (the decoder read exactly its bytes): zero
            // bytes to the end are the stream's end, else a member begins.
            let Some(member) = self.member.take() else {
                break;
            };
            let mut inner = member.into_inner();
            loop {
                let rest = inner.fill_buf()?;
                if rest.is_empty() {
                    return Ok(0);
                }
                let zeros = rest.iter().take_while(|&&b| b == 0).count();
                if zeros == 0 {
                    break;
                }
                inner.consume(zeros);
            }
            self.member = Some(flate2::bufread::GzDecoder::new(inner));
        }
        Ok(0)
    }
}

/// Enough for every magic number [`Encoding::sniff`] knows.
const SNIFF_BYTES: usize = 8;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_members_are_read_in_turn_and_zero_padding_ends_the_stream() {
        use std::io::Write;
        let gz = |text: &[u8]| {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(text).unwrap();
            e.finish().unwrap()
        };
        let read = |bytes: Vec<u8>| {
            let mut out = Vec::new();
            Gzip::new(io::Cursor::new(bytes))
                .read_to_end(&mut out)
                .map(|_| out)
        };
        let two = [gz(b"a\n"), gz(b""), gz(b"b\n")].concat();
        assert_eq!(read(two.clone()).unwrap(), b"a\nb\n");
        // Padded with zeros to a block: the same lines.
        let padded = [two.clone(), vec![0; 1000]].concat();
        assert_eq!(read(padded).unwrap(), b"a\nb\n");
        // Zeros between members, then a member: read on.
        let gap = [gz(b"a\n"), vec![0; 7], gz(b"b\n")].concat();
        assert_eq!(read(gap).unwrap(), b"a\nb\n");
        // Anything else after a member is an error, as before; a member cut
        // short too.
        assert!(read([two.clone(), b"junk".to_vec()].concat()).is_err());
        assert!(read(two[..two.len() - 3].to_vec()).is_err());
    }

    #[test]
    fn sniffs_magic_bytes() {
        assert_eq!(Encoding::sniff(&[0x1f, 0x8b, 8]), Encoding::Gzip);
        assert_eq!(
            Encoding::sniff(&[0x28, 0xb5, 0x2f, 0xfd, 0]),
            Encoding::Zstd
        );
        assert_eq!(Encoding::sniff(b"PAR1xxxx"), Encoding::Parquet);
        assert_eq!(Encoding::sniff(b"{\"a\":1}"), Encoding::Plain);
        assert_eq!(Encoding::sniff(b""), Encoding::Plain);
        // Other compressions are told by their whole magic: a CSV header
        // that begins like bzip2's is text (hunt78).
        let bz = [b'B', b'Z', b'h', b'9', 0x31, 0x41, 0x59, 0x26];
        assert!(unsupported_compression(&bz).is_some_and(|k| k.contains("bzip2")));
        assert_eq!(unsupported_compression(b"BZh2,feat"), None);
        assert_eq!(unsupported_compression(b"PK,model,"), None);
        assert!(unsupported_compression(&[0xfd, b'7', b'z', b'X', b'Z', 0, 0, 4]).is_some());
    }

    #[test]
    fn walks_take_files_and_broken_links_but_not_sockets() {
        let dir = tempfile::tempdir().unwrap();
        let p = |name: &str| dir.path().join(name);
        std::fs::write(p("a.jsonl"), b"").unwrap();
        std::os::unix::fs::symlink("a.jsonl", p("link.jsonl")).unwrap();
        std::os::unix::fs::symlink("loop.jsonl", p("loop.jsonl")).unwrap();
        std::os::unix::fs::symlink(".", p("self")).unwrap();
        let _socket = std::os::unix::net::UnixListener::bind(p("socket.jsonl")).unwrap();
        let root = dir.path().to_str().unwrap().to_string();
        for args in [vec![root.clone()], vec![format!("{root}/*.jsonl")]] {
            // The link and its target are one file, read once.
            assert_eq!(
                expand_inputs(&args).unwrap(),
                [Source::File(p("a.jsonl")), Source::File(p("loop.jsonl"))],
                "{args:?}"
            );
        }
        // Named, a link loop is an input (reported unreadable when read),
        // not a missing one.
        let named = expand_inputs(&[format!("{root}/loop.jsonl")]).unwrap();
        assert_eq!(named, [Source::File(p("loop.jsonl"))]);
    }

    /// Rotated logs are read; other names are not.
    #[test]
    fn rotated_logs_are_log_files() {
        for name in [
            "app.jsonl",
            "app.jsonl.1",
            "app.log.12",
            "app.log.2.gz",
            "app.jsonl-20251001",
            "app.jsonl.2025-10-01",
            "app.jsonl-2025-10-01.gz",
            "app.jsonl.zstd",
            "calls.csv",
            "records.jsonl.out",
            "app.jsonl.gzip",
            // Read to say they are compressed in a way not read (hunt112).
            "app.jsonl.bz2",
            "app.jsonl.1.xz",
            "calls.csv.zip",
        ] {
            assert!(is_log_candidate(Path::new(name)), "{name}");
        }
        // A name that is no UTF-8 (hunt101).
        use std::os::unix::ffi::OsStrExt;
        let latin1 = std::ffi::OsStr::from_bytes(b"Jos\xe9.jsonl");
        assert!(is_log_candidate(Path::new(latin1)));
        for name in [
            "notes.txt",
            "README.md",
            "app.jsonl.bak",
            "backup.zip",
            "notes.txt.xz",
            "run.out",
            "v1.2",
            ".app.jsonl",
            "app.1",
        ] {
            assert!(!is_log_candidate(Path::new(name)), "{name}");
        }
    }

    #[test]
    fn expands_dirs_globs_and_dedups() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("a/b");
        std::fs::create_dir_all(&sub).unwrap();
        for name in [
            "x.jsonl",
            "a/y.jsonl.gz",
            "a/b/z.parquet",
            "a/notes.txt",
            "a/README.md",
            ".hidden.jsonl",
            ".DS_Store",
            ".cache/w.jsonl",
        ] {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, b"").unwrap();
        }
        let root = dir.path().to_str().unwrap().to_string();
        let got = expand_inputs(&[root.clone(), format!("{root}/x.jsonl")]).unwrap();
        let names: Vec<String> = got
            .iter()
            .map(|s| match s {
                Source::File(p) => p.strip_prefix(dir.path()).unwrap().display().to_string(),
                Source::Stdin => "-".into(),
            })
            .collect();
        assert_eq!(names, ["a/b/z.parquet", "a/y.jsonl.gz", "x.jsonl"]);
        let (_, left_out) = expand_inputs_and_left_out(std::slice::from_ref(&root), &[]).unwrap();
        assert_eq!(left_out.files, [dir.path().join("a/notes.txt")]);
        // Hidden folders and log-named hidden files are named (not the
        // system's `.DS_Store`): they were left out unseen.
        assert_eq!(
            left_out.hidden,
            [dir.path().join(".cache"), dir.path().join(".hidden.jsonl")]
        );
        // The report folder and a store are not entered.
        std::fs::create_dir_all(dir.path().join("st/_commits")).unwrap();
        std::fs::create_dir_all(dir.path().join("st/calls")).unwrap();
        std::fs::write(dir.path().join("st/calls/p.parquet"), b"").unwrap();
        let (got, left_out) =
            expand_inputs_and_left_out(std::slice::from_ref(&root), &[dir.path().join("a")])
                .unwrap();
        assert_eq!(got, [Source::File(dir.path().join("x.jsonl"))]);
        let folders: Vec<_> = left_out.folders.iter().map(|(p, _)| p.clone()).collect();
        assert_eq!(folders, [dir.path().join("a"), dir.path().join("st")]);
        let globbed = expand_inputs(&[format!("{root}/**/*.gz")]).unwrap();
        assert_eq!(globbed.len(), 1);
        assert!(matches!(
            expand_inputs(&[format!("{root}/missing.jsonl")]),
            Err(SourceError::NotFound(_))
        ));
        assert!(matches!(
            expand_inputs(&[format!("{root}/*.nothing")]),
            Err(SourceError::NothingMatched(_))
        ));
        // A wildcard passes no leading dot, as the shell's and the walk
        // (hunt112: `.cache/w.jsonl` and `.hidden.jsonl` were read); a dot
        // written in the pattern matches.
        let rel = |got: Vec<Source>| -> Vec<String> {
            got.iter()
                .map(|s| match s {
                    Source::File(p) => p.strip_prefix(dir.path()).unwrap().display().to_string(),
                    Source::Stdin => "-".into(),
                })
                .collect()
        };
        assert_eq!(
            rel(expand_inputs(&[format!("{root}/**/*.jsonl")]).unwrap()),
            ["x.jsonl"]
        );
        assert_eq!(
            rel(expand_inputs(&[format!("{root}/.*/*.jsonl")]).unwrap()),
            [".cache/w.jsonl"]
        );
        // Brace lists, as the shell expands them (hunt112: "no input files
        // matched").
        assert_eq!(
            rel(expand_inputs(&[format!("{root}/{{a/*.gz,x.jsonl,a/b}}")]).unwrap()),
            ["a/y.jsonl.gz", "x.jsonl", "a/b/z.parquet"]
        );
        assert!(matches!(
            expand_inputs(&[format!("{root}/{{x,nothing}}.jsonl")]),
            Err(SourceError::NotFound(p)) if p.ends_with("nothing.jsonl")
        ));
    }

    /// A recursive glob over links back up ends, and names each file by its
    /// own path (hunt168: two links, `sub/up -> ..` and `sub/self -> sub`,
    /// made the glob crate walk 2^40 paths).
    #[test]
    fn a_recursive_glob_enters_each_folder_once() {
        let dir = tempfile::tempdir().unwrap();
        let p = |n: &str| dir.path().join(n);
        std::fs::create_dir_all(p("logs/sub")).unwrap();
        std::fs::create_dir_all(p("logs/2026-10")).unwrap();
        for name in ["logs/a.jsonl", "logs/sub/b.jsonl", "logs/2026-10/c.jsonl"] {
            std::fs::write(p(name), b"").unwrap();
        }
        std::os::unix::fs::symlink("..", p("logs/sub/up")).unwrap();
        std::os::unix::fs::symlink(p("logs/sub"), p("logs/sub/self")).unwrap();
        // `current` is listed before the folder it names (`2026-10`).
        std::os::unix::fs::symlink(p("logs/2026-10"), p("logs/a-current")).unwrap();
        let root = dir.path().to_str().unwrap();
        let got = expand_inputs(&[format!("{root}/logs/**/*.jsonl")]).unwrap();
        assert_eq!(
            got,
            ["logs/2026-10/c.jsonl", "logs/a.jsonl", "logs/sub/b.jsonl"]
                .map(|n| Source::File(p(n)))
        );
        let got = expand_inputs(&[format!("{root}/logs/**")]).unwrap();
        assert_eq!(got.len(), 3);
        // Doubled separators and `.` parts, as scripts write them.
        for written in [
            format!("{root}/logs//**/*.jsonl"),
            format!("{root}/./logs/**/*.jsonl"),
        ] {
            assert_eq!(expand_inputs(&[written]).unwrap().len(), 3);
        }
    }

    #[test]
    fn brace_lists_expand_as_in_the_shell() {
        let each = |p: &str| braces(p);
        assert_eq!(
            each("logs/{10,11}/*.gz").unwrap(),
            ["logs/10/*.gz", "logs/11/*.gz"]
        );
        assert_eq!(each("{a,b{1,2}}x").unwrap(), ["ax", "b{1,2}x"]);
        assert_eq!(each("{a{1,2}}").unwrap(), ["{a1}", "{a2}"]);
        assert_eq!(each("a{,b}").unwrap(), ["a", "ab"]);
        for literal in ["{}", "{x}", "a{b", "a}b,c", "plain"] {
            assert_eq!(each(literal), None, "{literal}");
        }
    }
}
