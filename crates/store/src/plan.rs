//! What an ingest must read: each input compared with what the store last
//! read of it.
//!
//! - not in the store: **new**, read whole;
//! - same size and modification time: **unchanged**, not opened at all (so
//!   a nightly run with nothing new costs a `stat` per file);
//! - same size, other time, same content digest: unchanged (touched);
//! - larger, a plain JSON-lines file whose first and last
//!   [`DIGEST_SPAN`] bytes before the old end are as they were, ending in a
//!   newline there: **grown**, read from where it ended;
//! - anything else: **changed**, read whole, its earlier rows replaced;
//! - renamed or rotated ([`recognise_moves`]): a new or changed file that
//!   begins with what the store read of a file (of any folder) that is
//!   gone or changed is that content moved: its rows become this file's,
//!   and it is read only past it (as **grown**); the changed file whose
//!   content moved is **rotated**: read whole as new content.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use xxhash_rust::xxh3::{xxh3_64, Xxh3};

use tokenaudit_ingest::formats::Format;
use tokenaudit_ingest::pipeline::Start;
use tokenaudit_ingest::{IngestOptions, Source};

use crate::commit::{Action, SourceEntry, State, DIGEST_SPAN};
use crate::error::{Result, StoreError};

/// A source to read, with what identifies it now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Planned {
    pub path: PathBuf,
    pub key: String,
    pub name: String,
    pub action: Action,
    pub size: u64,
    pub mtime_ns: i64,
    pub head: String,
    pub tail: String,
    /// Where to start (grown files only).
    pub start: Option<Start>,
    /// What the store knew of it.
    pub previous: Option<SourceEntry>,
    /// Read as Claude Code session logs (set by [`read_agent_logs_together`]).
    pub agent_log: bool,
    /// A grown plain file's whole [`content_text`] (a file read whole has
    /// its own from the ingest's summary).
    pub content: Option<String>,
    /// The digest of its whole text, for a source read whole
    /// ([`SourceEntry::whole`]).
    pub whole: Option<String>,
    /// `whole` is left to the ingest, which digests the file's bytes as it
    /// reads them (a plain file read whole: [`whole_after`]), instead of
    /// reading it a second time here.
    pub whole_later: bool,
    /// Read again whole because the store read it with another `[mapping]`
    /// or `--input-format` ([`SourceEntry::reading`]).
    pub reread: bool,
}

/// The inputs of one ingest, sorted into what to read and what to skip.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub read: Vec<Planned>,
    /// Names of the inputs already in the store as they are.
    pub unchanged: Vec<String>,
    /// Names of the Claude Code files in the store read again, unchanged,
    /// with a Claude Code file that is new or changed (also in `read`, as
    /// changed; see [`read_agent_logs_together`]).
    pub read_again: Vec<String>,
    /// Temporary files holding what was read from stdin, to delete when the
    /// ingest is over.
    pub spooled: Vec<PathBuf>,
    /// The keys of the store's Claude Code sources whose files are gone
    /// (Claude Code deletes old transcripts), when the others are read
    /// again: their stored rows stay, less the calls read again now.
    pub agent_logs_gone: Vec<String>,
    /// Inputs that could not be read when planned (deleted since they were
    /// listed, no permission), with why: the store keeps what it had of
    /// them, and the next ingest tries them again.
    pub unreadable: Vec<(String, String)>,
    /// Files renamed whole (the same bytes as a stored file now gone or
    /// changed): their entries, ready to commit; nothing to read.
    pub moved: Vec<SourceEntry>,
    /// Every move recognised: (new name, old name).
    pub moves: Vec<(String, String)>,
    /// Files the store read in the folders of this ingest's inputs that are
    /// no longer there, did not move, and whose calls no file of the ingest
    /// took (`Store::ingest` leaves those out): their calls are kept.
    pub gone: Vec<String>,
    /// Files read again whole because the store read them with another
    /// `[mapping]` or `--input-format`.
    pub reread: Vec<String>,
    /// Files under a new name that hold another text than the file they
    /// replace (corrected on the way): read whole, its rows replaced (new
    /// name, old name).
    pub restated: Vec<(String, String)>,
    /// Stored rows to re-key (old source key → new): content that moved to
    /// another file, and a rotated-over file's earlier content, kept under a
    /// key of its own (see [`recognise_moves`]).
    pub rekey: BTreeMap<String, String>,
    /// Entries of content rotated over (no file holds it any more), kept as
    /// a deleted file's are.
    pub retired: Vec<SourceEntry>,
    /// Stored sources whose rows this ingest replaces though they are not
    /// read again under their own name: a file that moved mid-line, read
    /// whole under its new name.
    pub replaced: Vec<String>,
}

impl Plan {
    /// Bytes this ingest will read.
    pub fn bytes(&self) -> u64 {
        self.read
            .iter()
            .map(|p| p.size - p.start.map_or(0, |s| s.offset))
            .sum()
    }
}

/// The absolute path that identifies a source from ingest to ingest.
pub fn key_of(path: &Path) -> String {
    let abs = path
        .canonicalize()
        .unwrap_or_else(|_| std::env::current_dir().unwrap_or_default().join(path));
    abs.to_string_lossy().into_owned()
}

fn hex(v: u64) -> String {
    format!("{v:016x}")
}

/// xxh3-64 of `len` bytes of `file` from `offset`.
fn digest_range(file: &mut File, offset: u64, len: u64) -> std::io::Result<u64> {
    file.seek(SeekFrom::Start(offset))?;
    let mut h = Xxh3::new();
    let mut buf = vec![0u8; 64 << 10];
    let mut left = len;
    while left > 0 {
        let want = left.min(buf.len() as u64) as usize;
        let n = file.read(&mut buf[..want])?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        left -= n as u64;
    }
    Ok(h.digest())
}

/// Whether the ingest reads `file` as its own bytes from its start (a plain
/// file, not told a CSV by its name): then it can digest them as it reads
/// ([`IngestOptions::digest_files`](tokenaudit_ingest::IngestOptions)).
fn read_raw(file: &mut File, path: &Path) -> std::io::Result<bool> {
    file.seek(SeekFrom::Start(0))?;
    let mut magic = [0u8; 4];
    let n = file.read(&mut magic)?;
    Ok(tokenaudit_ingest::source::Encoding::sniff(&magic[..n])
        == tokenaudit_ingest::source::Encoding::Plain
        && !tokenaudit_ingest::source::container::is_csv_path(path))
}

/// A planned file's whole digest once the ingest has read it: the one the
/// ingest made of the bytes it read, through an adapter or not. Fewer bytes
/// than planned (the file cut short while it was read) give a digest that
/// matches no text of the planned size, so the next ingest reads the file
/// again (hunt106: a digest of the file as it was after the ingest, taken
/// for the text read, lost a correction, or 2,000 calls, for good).
/// Without one (the file no longer plain when read), the file is digested
/// now, as a file read whole has no other.
pub fn whole_after(
    p: &Planned,
    read: &tokenaudit_ingest::pipeline::SourceSummary,
) -> Option<String> {
    if !p.whole_later {
        return p.whole.clone();
    }
    match read.whole {
        Some(d) => Some(hex(d.hash)),
        None => File::open(&p.path)
            .and_then(|mut f| digest_range(&mut f, 0, p.size))
            .ok()
            .map(hex),
    }
}

/// The head and tail digests of the first `size` bytes of a file.
pub fn ends(file: &mut File, size: u64) -> std::io::Result<(String, String)> {
    let span = size.min(DIGEST_SPAN);
    let head = digest_range(file, 0, span)?;
    let tail = digest_range(file, size - span, span)?;
    Ok((hex(head), hex(tail)))
}

/// Whether `name` is `plain`'s name with a compression's extension
/// (`rollout-….jsonl.zst` of `rollout-….jsonl`).
fn compressed_from(name: Option<&std::ffi::OsStr>, plain: Option<&std::ffi::OsStr>) -> bool {
    let (Some(name), Some(plain)) = (
        name.and_then(|n| n.to_str()),
        plain.and_then(|n| n.to_str()),
    ) else {
        return false;
    };
    [".zst", ".gz"]
        .iter()
        .any(|ext| name.strip_suffix(ext) == Some(plain))
}

/// [`ends`] of the first `size` bytes of a compressed file's text, when it
/// has that many.
fn decoded_ends(path: &Path, size: u64) -> Option<(String, String)> {
    let (encoding, reader) = tokenaudit_ingest::source::open(&Source::File(path.into())).ok()?;
    if encoding == tokenaudit_ingest::source::Encoding::Plain {
        return None;
    }
    let mut text = Vec::new();
    reader.take(size).read_to_end(&mut text).ok()?;
    if text.len() as u64 != size {
        return None;
    }
    let span = size.min(DIGEST_SPAN) as usize;
    Some((
        hex(xxh3_64(&text[..span])),
        hex(xxh3_64(&text[text.len() - span..])),
    ))
}

/// `content` as [`SourceEntry::content`] writes it.
pub fn content_text(c: tokenaudit_ingest::pipeline::Content) -> String {
    format!("{}:{:016x}", c.bytes, c.head)
}

/// [`content_text`] read back.
pub fn parse_content(text: &str) -> Option<tokenaudit_ingest::pipeline::Content> {
    let (bytes, head) = text.split_once(':')?;
    Some(tokenaudit_ingest::pipeline::Content {
        bytes: bytes.parse().ok()?,
        head: u64::from_str_radix(head, 16).ok()?,
    })
}

/// A plain file's content, as the ingest's summary would describe its
/// text (`None` for compressed and Parquet files, read as other text).
fn plain_content(file: &mut File, size: u64) -> std::io::Result<Option<String>> {
    file.seek(SeekFrom::Start(0))?;
    let mut magic = [0u8; 4];
    let n = file.read(&mut magic)?;
    if tokenaudit_ingest::source::Encoding::sniff(&magic[..n])
        != tokenaudit_ingest::source::Encoding::Plain
    {
        return Ok(None);
    }
    let span = size.min(tokenaudit_ingest::pipeline::Content::HEAD as u64);
    Ok(Some(content_text(tokenaudit_ingest::pipeline::Content {
        bytes: size,
        head: digest_range(file, 0, span)?,
    })))
}

/// Whether the byte before `offset` is a newline.
fn ends_line_at(file: &mut File, offset: u64) -> std::io::Result<bool> {
    if offset == 0 {
        return Ok(true);
    }
    file.seek(SeekFrom::Start(offset - 1))?;
    let mut b = [0u8; 1];
    file.read_exact(&mut b)?;
    Ok(b[0] == b'\n')
}

/// Whether a source's format reads each line on its own, so the rest of a
/// grown file can be read alone (Codex needs earlier lines for the model,
/// Claude Code's repeats can straddle the old end; arrays, documents and CSV
/// are not lines).
fn resumable(previous: &SourceEntry) -> bool {
    previous.encoding == "plain"
        && !previous.format.contains(' ')
        && !matches!(previous.format.as_str(), "codex" | "claude-code" | "none")
        // A format told from a record read: an empty file, or one of lines
        // no record came from (a Kong log's health checks, a line skipped),
        // is a gateway log only by default, and its next lines are detected
        // again (hunt56: a rotated OpenTelemetry file's spans rejected;
        // hunt58: a Kong log whose first night was a 401).
        && previous.records > 0
}

/// Sorts `sources` against the store's `state`. Stdin, and a pipe or a
/// FIFO given by its path, is saved to a temporary file first (see
/// [`spool`]) and then planned like a file whose identity is `stdin_name`,
/// or else its content.
pub fn plan(
    state: &State,
    sources: &[Source],
    stdin_name: Option<&str>,
    reading: Option<&str>,
) -> Result<Plan> {
    let mut out = Plan::default();
    let result = plan_into(state, sources, stdin_name, reading, &mut out);
    if result.is_err() {
        for f in &out.spooled {
            let _ = std::fs::remove_file(f);
        }
    }
    result.map(|()| out)
}

fn plan_into(
    state: &State,
    sources: &[Source],
    stdin_name: Option<&str>,
    reading: Option<&str>,
    out: &mut Plan,
) -> Result<()> {
    // Each file's plan (its digests read) on the cores; kept in order.
    use rayon::prelude::*;
    // A pipe or a FIFO given by its path (`/dev/stdin`, `<(gzip -c …)`) is
    // spooled and planned as stdin is: it cannot be read twice, nor
    // sought in (hunt78: "Illegal seek", nothing ingested, exit 0).
    let pipe = |s: &Source| match s {
        Source::File(p) => p.exists() && !std::fs::metadata(p).is_ok_and(|m| m.is_file()),
        Source::Stdin => false,
    };
    let files: Vec<Option<std::io::Result<Option<Planned>>>> = sources
        .par_iter()
        .map(|source| match source {
            Source::File(_) if pipe(source) => None,
            Source::File(p) => Some(plan_file(state, p, source.display(), reading)),
            Source::Stdin => None,
        })
        .collect();
    for (source, file) in sources.iter().zip(files) {
        let Some(planned) = file else {
            let from = match source {
                Source::File(p) => Some(p.as_path()),
                Source::Stdin => None,
            };
            plan_stdin(state, stdin_name, reading, out, from)?;
            continue;
        };
        let planned = match planned {
            Ok(p) => p,
            Err(e) => {
                out.unreadable.push((source.display(), e.to_string()));
                continue;
            }
        };
        match planned {
            Some(p) => {
                if p.reread {
                    out.reread.push(p.name.clone());
                }
                out.read.push(p)
            }
            None => out.unchanged.push(source.display()),
        }
    }
    recognise_moves(state, out);
    // Said, not acted on: a deleted log's calls stay (a month's store
    // outlives the logs' retention), but a user who removed a file by
    // mistake, or expected its calls to go, learns of it (hunt71).
    use std::collections::HashSet;
    let dir_of = |key: &str| Path::new(key).parent().map(Path::to_path_buf);
    let dirs: HashSet<PathBuf> = sources
        .iter()
        .filter_map(|s| match s {
            Source::File(p) => dir_of(&key_of(p)),
            Source::Stdin => None,
        })
        .collect();
    out.gone = state
        .sources
        .values()
        .filter(|e| {
            !e.pruned && !e.key.starts_with("stdin:") && !e.name.ends_with("(rotated over)")
        })
        .filter(|e| !out.rekey.contains_key(&e.key))
        .filter(|e| dir_of(&e.key).is_some_and(|d| dirs.contains(&d)))
        .filter(|e| !Path::new(&e.key).exists())
        .map(|e| e.name.clone())
        .collect();
    Ok(())
}

/// Logs renamed or rotated between ingests (`mv app.log app.log.1`, or
/// logrotate: `app.log` → `app.log.1` → `app.log.2.gz` …, a new `app.log`,
/// the oldest overwritten or deleted; or moved to another folder, as
/// logrotate's `olddir` does). A planned file (new or changed) that
/// holds exactly what the store read of another file, of any folder, that
/// is now gone or changed, or, for plain JSON lines, begins with it (all of
/// it, when the store has the digest of all it read), holds that content
/// moved; so, in one ingest, a whole chain of renames is followed:
/// - the same bytes (any encoding): nothing is read; the content's rows are
///   re-keyed to the new name, and its entry goes with them;
/// - more bytes after a line's end: the rows are re-keyed, and the rest is
///   read as a grown file's;
/// - more bytes after a partial last line, or a text that differs inside
///   (a re-export with corrections): read whole under the new name, and
///   the old rows are replaced;
/// - a changed file whose earlier content moved elsewhere is read whole
///   (**rotated**); one whose earlier content is in no file any more
///   (overwritten by the rotation) keeps those rows under a key of its own
///   (`PATH#<digest>`, named "PATH (rotated over)"), as a deleted file's
///   rows are kept.
///
/// Claude Code and Codex files are left to their own rules. A compressed
/// rotation's first step (`app.log.1` → `app.log.2.gz`) writes other bytes:
/// that file is read whole, and the rows of the file whose text it holds
/// (rotated over, or gone) are replaced once the ingest has read it
/// (`Store::ingest`, by the text's length and head digest).
fn recognise_moves(state: &State, out: &mut Plan) {
    use std::collections::HashSet;
    let dir_of = |key: &str| Path::new(key).parent().map(Path::to_path_buf);
    let destination = |p: &Planned| {
        matches!(p.action, Action::New | Action::Changed) && !p.key.starts_with("stdin:")
    };
    let dirs: HashSet<PathBuf> = out
        .read
        .iter()
        .filter(|p| destination(p))
        .filter_map(|p| dir_of(&p.key))
        .collect();
    if dirs.is_empty() {
        return;
    }
    let changed: HashSet<String> = out
        .read
        .iter()
        .filter(|p| p.action == Action::Changed)
        .map(|p| p.key.clone())
        .collect();
    // Of any folder: a log moved to another folder while its writer goes
    // on appending (`mv logs/app.jsonl logs/replica-a/`, logrotate's
    // `olddir`) was read whole as new beside its old rows (hunt71: 2,570
    // calls for 1,435).
    let mut candidates: Vec<SourceEntry> = state
        .sources
        .values()
        .filter(|e| !e.pruned && !e.key.starts_with("stdin:"))
        .filter(|e| !matches!(e.format.as_str(), "claude-code" | "codex"))
        .filter(|e| changed.contains(&e.key) || !Path::new(&e.key).exists())
        .cloned()
        .collect();
    candidates.sort_by(|a, b| a.key.cmp(&b.key));
    // What each destination holds: (index in `read`, the moved entry, how).
    enum How {
        Whole,
        Grown,
        Restart,
    }
    let mut found: Vec<(usize, SourceEntry, How)> = Vec::new();
    for i in 0..out.read.len() {
        if !destination(&out.read[i]) {
            continue;
        }
        let Ok(mut file) = File::open(&out.read[i].path) else {
            continue;
        };
        // Its digest, left to the ingest, is wanted now if a stored file
        // has its size and ends.
        let p = &mut out.read[i];
        if p.whole_later
            && candidates
                .iter()
                .any(|e| e.key != p.key && e.size == p.size && e.head == p.head && e.tail == p.tail)
        {
            if let Ok(d) = digest_range(&mut file, 0, p.size) {
                p.whole = Some(hex(d));
                p.whole_later = false;
            }
        }
        let p = &out.read[i];
        let mut how = None;
        let at = candidates.iter().position(|e| {
            if e.key == p.key || e.size > p.size {
                return false;
            }
            if e.size == p.size && e.head == p.head && e.tail == p.tail {
                // The same ends and size, another text (both read whole,
                // their digests differ): moved and corrected on the way; read
                // whole, its old rows replaced (hunt59: its stale rows stayed).
                how = Some(match (&e.whole, &p.whole) {
                    (Some(a), Some(b)) if a != b => How::Restart,
                    _ => How::Whole,
                });
                return true;
            }
            // Both heads cover the same first bytes: no reading to tell.
            if e.size >= DIGEST_SPAN && e.head != p.head {
                return false;
            }
            if e.size < p.size
                && resumable(e)
                && ends(&mut file, e.size).is_ok_and(|(h, t)| h == e.head && t == e.tail)
            {
                // Under another name, the whole of what was read is
                // compared when the store has its digest: a re-export with
                // corrections inside and rows appended (`x.v2.jsonl` for
                // `x.jsonl`) does not begin with it, and is read whole
                // (hunt71: only the appended rows were read, the
                // corrections lost).
                let same = e
                    .whole
                    .as_ref()
                    .is_none_or(|w| digest_range(&mut file, 0, e.size).is_ok_and(|d| hex(d) == *w));
                how = Some(
                    if same && ends_line_at(&mut file, e.size).unwrap_or(false) {
                        How::Grown
                    } else {
                        How::Restart
                    },
                );
                return true;
            }
            false
        });
        if let (Some(at), Some(how)) = (at, how) {
            found.push((i, candidates.remove(at), how));
        }
    }
    if found.is_empty() {
        return;
    }
    let moved_keys: HashSet<String> = found
        .iter()
        .filter(|(_, _, how)| !matches!(how, How::Restart))
        .map(|(_, e, _)| e.key.clone())
        .collect();
    // Content read again whole under a new name: its old rows go.
    let restarted: HashSet<String> = found
        .iter()
        .filter(|(_, _, how)| matches!(how, How::Restart))
        .map(|(_, e, _)| e.key.clone())
        .collect();
    let mut whole = Vec::new();
    for (i, e, how) in found {
        let p = &mut out.read[i];
        // The destination's own earlier content: moved on (its rows go with
        // it), or rotated over (kept under a key of its own).
        if let Some(own) = p.previous.take() {
            if !moved_keys.contains(&own.key) && !restarted.contains(&own.key) {
                let key = format!("{}#{}", own.key, own.head);
                out.rekey.insert(own.key.clone(), key.clone());
                out.retired.push(SourceEntry {
                    key,
                    name: format!("{} (rotated over)", own.name),
                    ..own
                });
            }
        }
        let names = (p.name.clone(), e.name.clone());
        match how {
            How::Restart => out.restated.push(names),
            How::Whole | How::Grown => out.moves.push(names),
        }
        match how {
            How::Whole => {
                out.rekey.insert(e.key.clone(), p.key.clone());
                whole.push(i);
                out.moved.push(SourceEntry {
                    key: p.key.clone(),
                    name: p.name.clone(),
                    action: Action::Moved,
                    mtime_ns: p.mtime_ns,
                    ..e
                });
            }
            How::Grown => {
                out.rekey.insert(e.key.clone(), p.key.clone());
                p.content = File::open(&p.path)
                    .and_then(|mut f| plain_content(&mut f, p.size))
                    .unwrap_or(None);
                p.action = Action::Grown;
                p.start = Some(Start {
                    offset: e.size,
                    first_line: e.next_line,
                });
                p.previous = Some(SourceEntry {
                    key: p.key.clone(),
                    name: p.name.clone(),
                    ..e
                });
            }
            How::Restart => {
                p.action = Action::New;
                out.replaced.push(e.key.clone());
            }
        }
    }
    // The files whose content moved and that hold new content now.
    for p in &mut out.read {
        if p.action == Action::Changed && moved_keys.contains(&p.key) {
            p.action = Action::Rotated;
            p.previous = None;
        }
    }
    // Renamed whole: nothing to read.
    let mut i = 0;
    out.read.retain(|_| {
        i += 1;
        !whole.contains(&(i - 1))
    });
}

/// Whether a file the store read as `prev` says was read as `reading`
/// reads now: the same `[mapping]` or `--input-format`, or an
/// `--input-format` naming the format it was detected as (hunt73: the
/// flag added to a nightly read every file again).
pub fn same_reading(prev: &SourceEntry, reading: Option<&str>) -> bool {
    match (prev.reading.as_deref(), reading) {
        (a, b) if a == b => true,
        (None, Some(r)) => r.strip_prefix("format:") == Some(prev.format.as_str()),
        _ => false,
    }
}

/// What to do with one file: `None` when the store has it as it is.
fn plan_file(
    state: &State,
    path: &Path,
    name: String,
    reading: Option<&str>,
) -> std::io::Result<Option<Planned>> {
    let meta = std::fs::metadata(path)?;
    let size = meta.len();
    let mtime_ns = mtime_ns(&meta);
    let key = key_of(path);
    let previous = state.sources.get(&key).cloned();
    // Read with another `[mapping]` or `--input-format` than now: its rows
    // are what that reading made of it, so it is read again whole (hunt71:
    // a mapping fixed in the nightly's config never reached the stored
    // days, $4.43 for $3.30, and "nothing new to ingest").
    let reread = previous
        .as_ref()
        .is_some_and(|prev| !same_reading(prev, reading));
    if let Some(prev) = previous.as_ref().filter(|_| !reread) {
        if prev.size == size && prev.mtime_ns == mtime_ns {
            return Ok(None);
        }
    }
    let mut file = File::open(path)?;
    let (head, tail) = ends(&mut file, size)?;
    let mut action = Action::New;
    let mut start = None;
    // The whole text's digest, kept for a file read whole: a restatement
    // of the same size anywhere in it is told by it (hunt56: 300 statuses
    // corrected in the middle of a day's file were "already in the
    // store"). A grown file's is not read (hunt59: reading a big log whole
    // each night made a day's append cost 4 to 7 times as much): its entry
    // keeps none, and a correction before an append is still missed.
    let mut whole = None;
    if previous.is_some() {
        action = Action::Changed;
    }
    if let Some(prev) = previous.as_ref().filter(|_| !reread) {
        if prev.size == size && prev.head == head && prev.tail == tail {
            match &prev.whole {
                // An entry of an earlier build or a grown file's: the same
                // size and bytes at both ends.
                None => return Ok(None),
                Some(w) => {
                    let d = digest_range(&mut file, 0, size)?;
                    if hex(d) == *w {
                        return Ok(None);
                    }
                    whole = Some(d);
                }
            }
        }
        if size > prev.size && resumable(prev) {
            let (old_head, old_tail) = ends(&mut file, prev.size)?;
            if old_head == prev.head && old_tail == prev.tail && ends_line_at(&mut file, prev.size)?
            {
                action = Action::Grown;
                start = Some(Start {
                    offset: prev.size,
                    first_line: prev.next_line,
                });
            }
        }
    }
    // A plain file read whole is digested by the ingest as it reads it
    // (the second reading of every new byte cost 6% of an ingest's work).
    let whole_later = action != Action::Grown && whole.is_none() && read_raw(&mut file, path)?;
    let whole = match action {
        Action::Grown => None,
        _ if whole_later => None,
        _ => Some(match whole {
            Some(d) => d,
            None => digest_range(&mut file, 0, size)?,
        }),
    };
    let content = match action {
        Action::Grown => plain_content(&mut file, size)?,
        _ => None,
    };
    Ok(Some(Planned {
        path: path.to_path_buf(),
        key,
        name,
        action,
        size,
        mtime_ns,
        head,
        tail,
        start,
        previous,
        agent_log: false,
        content,
        whole: whole.map(hex),
        whole_later,
        reread,
    }))
}

/// Stdin has no path to find it by next time: its bytes are saved to a
/// temporary file (outside the store: they may hold prompt text), and its
/// identity is `stdin:NAME` with `--stdin-name NAME`, so that piping a
/// restated export under the same name replaces its rows, or else
/// `stdin:` and the digest of its content, so that the same bytes piped
/// again are skipped.
fn plan_stdin(
    state: &State,
    name: Option<&str>,
    reading: Option<&str>,
    out: &mut Plan,
    from: Option<&Path>,
) -> Result<()> {
    let (path, size, digest) = match from {
        None => spool(&mut std::io::stdin().lock(), Path::new("<stdin>"))?,
        Some(p) => spool(&mut File::open(p).map_err(StoreError::io(p))?, p)?,
    };
    out.spooled.push(path.clone());
    let key = match name {
        Some(n) => format!("stdin:{n}"),
        None => format!("stdin:{}", hex(digest)),
    };
    let shown = name.map_or_else(|| "<stdin>".to_string(), |n| format!("<stdin:{n}>"));
    // Two piped inputs of one run under one key (hunt81: both were
    // ingested under one entry, their rows counted twice): the same bytes
    // twice are one input; two under one `--stdin-name`, an error.
    if out.read.iter().any(|p| p.key == key) {
        if name.is_none() {
            out.unchanged.push(shown);
            return Ok(());
        }
        return Err(StoreError::Invalid(format!(
            "two piped inputs of this ingest would both be {shown}; --stdin-name names one, so ingest each on its own"
        )));
    }
    let mut file = File::open(&path).map_err(StoreError::io(&path))?;
    let (head, tail) = ends(&mut file, size).map_err(StoreError::io(&path))?;
    let previous = state.sources.get(&key).cloned();
    let whole = hex(digest);
    if let Some(prev) = &previous {
        // The whole text's digest when the entry keeps it (an earlier
        // build's keeps its ends only).
        let same = match &prev.whole {
            Some(w) => *w == whole,
            None => prev.size == size && prev.head == head && prev.tail == tail,
        };
        if same && same_reading(prev, reading) {
            out.unchanged.push(shown);
            return Ok(());
        }
    }
    let reread = previous
        .as_ref()
        .is_some_and(|prev| !same_reading(prev, reading));
    if reread {
        out.reread.push(shown.clone());
    }
    out.read.push(Planned {
        path,
        key,
        name: shown,
        action: if previous.is_some() {
            Action::Changed
        } else {
            Action::New
        },
        size,
        mtime_ns: 0,
        head,
        tail,
        start: None,
        previous,
        agent_log: false,
        content: None,
        whole: Some(whole),
        whole_later: false,
        reread,
    });
    Ok(())
}

/// Copies stdin to a temporary file: its path, size and xxh3-64 digest.
fn spool(input: &mut dyn Read, shown: &Path) -> Result<(PathBuf, u64, u64)> {
    let tmp = std::env::temp_dir();
    let mut file = tempfile::Builder::new()
        .prefix("tokenaudit-stdin-")
        .tempfile_in(&tmp)
        .map_err(StoreError::io(&tmp))?;
    let mut h = Xxh3::new();
    let mut size = 0u64;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(StoreError::io(shown)(e)),
        };
        h.update(&buf[..n]);
        std::io::Write::write_all(&mut file, &buf[..n]).map_err(StoreError::io(file.path()))?;
        size += n as u64;
    }
    let path = file
        .into_temp_path()
        .keep()
        .map_err(|e| StoreError::io(&tmp)(e.error))?;
    Ok((path, size, h.digest()))
}

/// Whether a format (by its name in the commit log) counts a call once
/// across files: Claude Code's and Codex's session logs.
pub(crate) fn is_agent_log(format: &str) -> bool {
    Format::from_name(format).is_some_and(|f| f.deduplicated())
}

/// Claude Code and Codex write a call again in other files (a resumed
/// Claude Code session copies its history into a new file, sidechains
/// replay messages; a forked Codex session or a subagent's begins with a
/// copy of its parent's), and an audit counts each call once across all
/// the files it reads, keeping one copy. Rows already in the store cannot
/// take part in that, so when an ingest reads a file of such a format,
/// every other file of that format the store holds is read again with it
/// and its rows replaced: the store then holds what one audit of them all
/// counts. The cost: a night with a changed session file reads that
/// agent's logs whole. The rows of files gone since stay, less the calls
/// read again from the files still there that carry request ids (see
/// [`Plan::agent_logs_gone`]).
pub fn read_agent_logs_together(
    state: &State,
    mut plan: Plan,
    options: &IngestOptions,
) -> Result<Plan> {
    let mut formats: std::collections::BTreeSet<String> = Default::default();
    for p in &mut plan.read {
        let format = agent_log_format(p, options)?;
        p.agent_log = format.is_some();
        formats.extend(format);
    }
    if formats.is_empty() {
        return Ok(plan);
    }
    let reading: std::collections::HashSet<String> =
        plan.read.iter().map(|p| p.key.clone()).collect();
    let mut gone: Vec<&SourceEntry> = Vec::new();
    for entry in state.sources.values() {
        if entry.pruned || !formats.contains(&entry.format) || reading.contains(&entry.key) {
            continue;
        }
        let path = PathBuf::from(&entry.key);
        let Ok(meta) = std::fs::metadata(&path) else {
            // Judged once every file read now is planned (hunt153: a
            // compressed sibling already stored comes after it).
            gone.push(entry);
            continue;
        };
        let size = meta.len();
        plan.unchanged.retain(|n| n != &entry.name);
        let (head, tail) = match File::open(&path).and_then(|mut f| ends(&mut f, size)) {
            Ok(ends) => ends,
            Err(e) => {
                // There but unreadable (no permission): kept as a gone
                // file's rows are, and named; read with the others again
                // once it can be.
                plan.unreadable.push((entry.name.clone(), e.to_string()));
                plan.agent_logs_gone.push(entry.key.clone());
                continue;
            }
        };
        plan.read_again.push(entry.name.clone());
        plan.read.push(Planned {
            path,
            key: entry.key.clone(),
            name: entry.name.clone(),
            action: Action::Changed,
            size,
            mtime_ns: mtime_ns(&meta),
            head,
            tail,
            start: None,
            previous: Some(entry.clone()),
            agent_log: true,
            content: None,
            whole: None,
            whole_later: false,
            reread: false,
        });
    }
    for entry in gone {
        let path = PathBuf::from(&entry.key);
        // Moved, not gone, when a file of its name read now begins
        // with all the store read of it (Codex archives a session by
        // moving its file to `archived_sessions/`; its calls carry no
        // request ids to tell them by, and were counted twice:
        // hunt86): its rows are replaced by the file's.
        // Or compressed in place, its text the same (Codex compresses a
        // cold rollout to `.jsonl.zst` and removes the plain file:
        // hunt152, its calls counted twice).
        let moved_to = plan.read.iter().find(|p| {
            let name = Path::new(&p.key).file_name();
            (name == path.file_name()
                && p.size >= entry.size
                && File::open(&p.path)
                    .and_then(|mut f| ends(&mut f, entry.size))
                    .is_ok_and(|(h, t)| h == entry.head && t == entry.tail))
                || (entry.encoding == "plain"
                    && compressed_from(name, path.file_name())
                    && decoded_ends(&p.path, entry.size)
                        .is_some_and(|(h, t)| h == entry.head && t == entry.tail))
                // And decompressed again in place (`codex resume` of a
                // cold session), its text not kept to compare: told by
                // its name in the same folder.
                || (entry.encoding != "plain"
                    && compressed_from(path.file_name(), name)
                    && Path::new(&p.key).parent() == path.parent())
        });
        match moved_to {
            Some(p) => {
                // Read whole (as the store's agent logs are), its old
                // rows replaced: said as such (hunt88: "only what is
                // past them read").
                plan.restated.push((p.name.clone(), entry.name.clone()));
                plan.replaced.push(entry.key.clone());
            }
            None => plan.agent_logs_gone.push(entry.key.clone()),
        }
    }
    // In the order an audit of them reads them (and the store lists them),
    // so the copy kept of a repeated call is the one the audit keeps.
    plan.read.sort_by(|a, b| {
        Path::new(&a.name)
            .cmp(Path::new(&b.name))
            .then_with(|| a.key.cmp(&b.key))
    });
    Ok(plan)
}

/// The agent-log format (see [`is_agent_log`]) an input is read as, if
/// any: as it was last time, or as this ingest will detect it.
fn agent_log_format(p: &Planned, options: &IngestOptions) -> Result<Option<String>> {
    let agent = |f: &Format| f.deduplicated().then(|| f.name().to_owned());
    // (With a mapping too: an agent's logs are read by their own reader,
    // as `formats::detect` has it; hunt146's bug3: a resumed session's
    // copies were counted twice in the store.)
    if let (None, Some(f)) = (&options.mapping, &options.input_format) {
        return Ok(agent(f));
    }
    if let Some(prev) = &p.previous {
        if is_agent_log(&prev.format) {
            return Ok(Some(prev.format.clone()));
        }
    }
    let source = Source::File(p.path.clone());
    // A file that cannot be opened or decoded (a `.gz` cut short, or still
    // being written) is detected from what could be read: the reading
    // itself counts it as an unreadable or truncated file, as an audit
    // does, and the other inputs are ingested.
    let Ok((encoding, stream)) = tokenaudit_ingest::source::open(&source) else {
        return Ok(None);
    };
    if encoding == tokenaudit_ingest::source::Encoding::Parquet {
        return Ok(None);
    }
    let mut head = Vec::with_capacity(64 << 10);
    let _ = stream.take(64 << 10).read_to_end(&mut head);
    Ok(
        tokenaudit_ingest::formats::detect(&head, options.mapping.as_ref())
            .ok()
            .and_then(|f| agent(&f)),
    )
}

fn mtime_ns(meta: &std::fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i64)
}

/// xxh3 of a small byte string, as hex (for ids).
pub fn short_digest(bytes: &[u8]) -> String {
    hex(xxh3_64(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file deleted between the listing of the inputs and the planning
    /// is left for the next ingest, named with why; the others are read.
    #[test]
    fn a_file_gone_before_planning_is_unreadable_not_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let here = dir.path().join("a.jsonl");
        std::fs::write(&here, "{}\n").unwrap();
        let gone = dir.path().join("b.jsonl");
        let sources = [Source::File(gone.clone()), Source::File(here.clone())];
        let plan = plan(&State::default(), &sources, None, None).unwrap();
        assert_eq!(plan.read.len(), 1);
        assert_eq!(plan.read[0].path, here);
        assert_eq!(plan.read[0].size, 3);
        assert_eq!(plan.unreadable.len(), 1);
        let (name, why) = &plan.unreadable[0];
        assert_eq!(name, &gone.display().to_string());
        assert!(why.contains("No such file"), "{why}");
    }
}
