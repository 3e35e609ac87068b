//! The findings ledger: each night's findings, marked new, persisting,
//! worse or resolved against the night before, kept in the store under
//! `_findings/` so a nightly job needs no baseline file of its own. An entry
//! is the ticket records as JSON lines (what `tokenaudit findings --format
//! jsonl` prints), numbered like commits and created only if absent.

use std::path::Path;

use crate::commit::create_exclusive;
use crate::error::{Result, StoreError};
use crate::layout;

/// Entry numbers present, ascending.
fn numbers(root: &Path) -> Result<Vec<u64>> {
    let dir = root.join(layout::FINDINGS);
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => {
            return Err(StoreError::Io {
                path: dir,
                error: e,
            })
        }
    };
    for e in entries {
        let e = e.map_err(StoreError::io(&dir))?;
        if let Some(n) = e.file_name().to_str().and_then(layout::parse_commit_file) {
            out.push(n);
        }
    }
    out.sort_unstable();
    Ok(out)
}

/// The last entry: its number and text (`findings` reads
/// [`latest_of_length`]).
#[cfg(test)]
fn latest(root: &Path) -> Result<Option<(u64, String)>> {
    Ok(latest_of_length(root, None, false, None)?.map(|(n, text, _)| (n, text)))
}

/// The window an entry's findings are of, kept beside it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Window {
    /// Its end (RFC 3339; empty: open-ended).
    pub until: String,
    /// Its start (likewise).
    pub since: String,
    /// The store's last commit when it was recorded (`None` in entries an
    /// earlier build wrote): a later one means new data came in since.
    pub head: Option<u64>,
    /// The end asked for (`--until`; RFC 3339, empty: none or an earlier
    /// build's entry): a window of the same length asked a day later is
    /// the next night's, new data or not.
    pub asked_until: String,
}

/// Appends an entry; returns its number. `window` bounds the window its
/// findings are of, kept beside it (see [`latest_of_length`]).
pub fn append(root: &Path, text: &str, window: &Window) -> Result<u64> {
    let dir = root.join(layout::FINDINGS);
    std::fs::create_dir_all(&dir).map_err(StoreError::io(&dir))?;
    let mut n = numbers(root)?.last().copied().unwrap_or(0) + 1;
    loop {
        let path = layout::ledger_file(root, n);
        if create_exclusive(&path, text.as_bytes())? {
            let side = path.with_extension("until");
            let head = window.head.map(|h| h.to_string()).unwrap_or_default();
            let text = format!(
                "{}\n{}\n{head}\n{}\n",
                window.until, window.since, window.asked_until
            );
            std::fs::write(&side, text).map_err(StoreError::io(&side))?;
            return Ok(n);
        }
        n += 1;
    }
}

/// The newest entry of a window of `length` (its asked end less its
/// start): with its number, text and window. A one-off look of another
/// length (the last 5 days, beside the nightly 30) keeps a history of its
/// own, so it never becomes the nightly's baseline. Without a length: for
/// a window open at the start (`open_start`: the nightly), the newest entry
/// open at the start too, so a look `--since` a day does not become the
/// open-ended nightly's baseline (hunt56); for another (a look, a rolling
/// window), the newest entry, whichever it is (hunt58: a look's baseline
/// was the last look, however old). When no entry is such (entries of
/// earlier builds keep no asked end), the newest. `None` without entries.
/// With `before`, only the entries numbered below it count (the baseline
/// entry `before` itself was marked against, for a run that repeats it).
pub fn latest_of_length(
    root: &Path,
    length: Option<chrono::TimeDelta>,
    open_start: bool,
    before: Option<u64>,
) -> Result<Option<(u64, String, Window)>> {
    let mut numbers = numbers(root)?;
    if let Some(before) = before {
        numbers.retain(|&n| n < before);
    }
    let Some(&newest) = numbers.last() else {
        return Ok(None);
    };
    let length_of = |w: &Window| {
        let t = |s: &str| chrono::DateTime::parse_from_rfc3339(s).ok();
        Some(t(&w.asked_until)? - t(&w.since)?)
    };
    let mut chosen = None;
    for &n in numbers.iter().rev() {
        let Some(w) = window_of(root, n)? else {
            continue;
        };
        let fits = match length {
            Some(length) => length_of(&w) == Some(length),
            None => !open_start || w.since.is_empty(),
        };
        if fits {
            chosen = Some(n);
            break;
        }
    }
    let chosen = chosen.unwrap_or(newest);
    let path = layout::ledger_file(root, chosen);
    let text = std::fs::read_to_string(&path).map_err(StoreError::io(&path))?;
    let window = window_of(root, chosen)?.unwrap_or_default();
    Ok(Some((chosen, text, window)))
}

/// The last entry's window, `(until, since)`: `None` without entries; an
/// empty bound is open-ended (an entry written before the bounds were
/// kept has both open, one written before `since` was kept an open start).
pub fn latest_window(root: &Path) -> Result<Option<Window>> {
    let Some(&n) = numbers(root)?.last() else {
        return Ok(None);
    };
    window_of(root, n)
}

/// Entry `n`'s window: its end, start, head and asked end, a line each;
/// an entry of an earlier build keeps fewer (the missing ones empty).
fn window_of(root: &Path, n: u64) -> Result<Option<Window>> {
    let side = layout::ledger_file(root, n).with_extension("until");
    match std::fs::read_to_string(&side) {
        Ok(t) => {
            let mut lines = t.lines().map(str::trim);
            let until = lines.next().unwrap_or("").to_string();
            let since = lines.next().unwrap_or("").to_string();
            let head = lines.next().and_then(|h| h.parse().ok());
            let asked_until = lines.next().unwrap_or("").to_string();
            Ok(Some(Window {
                until,
                since,
                head,
                asked_until,
            }))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Some(Window::default())),
        Err(e) => Err(StoreError::Io {
            path: side,
            error: e,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_follow_each_other() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(latest(dir.path()).unwrap(), None);
        assert_eq!(latest_window(dir.path()).unwrap(), None);
        let (until, since) = ("2026-10-02T00:00:00Z", "2026-09-02T00:00:00Z");
        let w = Window {
            until: until.into(),
            since: since.into(),
            head: Some(7),
            asked_until: "2026-10-03T00:00:00+00:00".into(),
        };
        assert_eq!(append(dir.path(), "a\n", &w).unwrap(), 1);
        assert_eq!(latest_window(dir.path()).unwrap(), Some(w));
        assert_eq!(append(dir.path(), "b\n", &Window::default()).unwrap(), 2);
        assert_eq!(latest(dir.path()).unwrap(), Some((2, "b\n".to_string())));
        assert_eq!(latest_window(dir.path()).unwrap(), Some(Window::default()));
        // Entries of earlier builds: the end alone; the window, no head.
        let side = layout::ledger_file(dir.path(), 2).with_extension("until");
        std::fs::write(&side, until).unwrap();
        let end_only = Window {
            until: until.into(),
            ..Window::default()
        };
        assert_eq!(latest_window(dir.path()).unwrap(), Some(end_only));
        std::fs::write(&side, format!("{until}\n{since}\n")).unwrap();
        let no_head = Window {
            until: until.into(),
            since: since.into(),
            head: None,
            asked_until: String::new(),
        };
        assert_eq!(latest_window(dir.path()).unwrap(), Some(no_head));
    }
}
