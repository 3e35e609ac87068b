//! Writing report files so that a reader never sees half of one, and a run's
//! files as a set: all of them or none.
//!
//! [`ReportSet`] stages every file of a run under a temporary name in the
//! output folder (written, then all synced at once), and only when all are
//! staged and synced renames them into place. A failure while staging (a full disk, a file that cannot
//! be created) removes the temporaries and leaves the previous files as they
//! were. A rename is atomic on its own but a set of them is not, so before
//! replacing a file the set keeps the old one under a hard link; if a rename
//! fails, the files already renamed get their old versions back (or are
//! removed, when the folder had none). A process killed during the renames
//! can still leave a mix, but that window holds renames only, no writing.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::ReportError;

/// The files of one run, staged under temporary names until [`commit`].
/// Dropping an uncommitted set removes its temporaries.
///
/// [`commit`]: ReportSet::commit
#[derive(Debug)]
pub struct ReportSet {
    dir: PathBuf,
    /// (temporary, final) path of every file staged so far, and the open
    /// temporary file, to sync at commit.
    staged: Vec<(PathBuf, PathBuf)>,
    unsynced: Vec<(fs::File, PathBuf)>,
}

/// Refuses to replace `dir/name` when a file of a report's name there is
/// not a tokenaudit report (a user's own `audit.md`). (`focus.parquet` is
/// tokenaudit's when a report file of this folder that says so is beside
/// it; a chart says so itself.)
pub fn refuse_not_ours(dir: &Path, name: &str) -> Result<(), ReportError> {
    let path = dir.join(name);
    if tokenaudit_ingest::source::is_report_name(name)
        && fs::metadata(&path).is_ok_and(|m| m.is_file())
        && !tokenaudit_ingest::source::is_tokenaudit_report(&path)
    {
        return Err(ReportError::NotOurs {
            path: path.display().to_string(),
        });
    }
    Ok(())
}

impl ReportSet {
    /// A set of files to write into `dir`, which is created if missing.
    pub fn new(dir: &Path) -> Result<ReportSet, ReportError> {
        // A file where the folder should be: said as such (hunt63: "File
        // exists (os error 17)").
        if dir.is_file() {
            return Err(ReportError::CreateDir {
                path: dir.display().to_string(),
                source: std::io::Error::other("it is a file; give a folder for the reports"),
            });
        }
        fs::create_dir_all(dir).map_err(|source| ReportError::CreateDir {
            path: dir.display().to_string(),
            source,
        })?;
        remove_leftovers(dir);
        Ok(ReportSet {
            dir: dir.to_path_buf(),
            staged: Vec::new(),
            unsynced: Vec::new(),
        })
    }

    /// Writes `bytes` under a temporary name, to become `dir/name`. A file
    /// of that name that is not a tokenaudit report (a user's log named
    /// `audit.json`, their own `audit.md`) is never replaced: an error, and
    /// nothing of the set is written.
    pub fn add(&mut self, name: &str, bytes: &[u8]) -> Result<(), ReportError> {
        let path = self.dir.join(name);
        refuse_not_ours(&self.dir, name)?;
        let (tmp, file) = write_unsynced(&path, bytes)?;
        self.unsynced.push((file, path.clone()));
        self.staged.push((tmp, path));
        Ok(())
    }

    /// Syncs every staged file, on threads of their own (a sync waits for
    /// the disk: a run's twenty files one after the other took 8 ms).
    fn sync_all(&mut self) -> Result<(), ReportError> {
        let files = std::mem::take(&mut self.unsynced);
        let failed = std::thread::scope(|scope| {
            let handles: Vec<_> = files
                .iter()
                .map(|(f, path)| scope.spawn(move || f.sync_all().map_err(|e| (path, e))))
                .collect();
            handles
                .into_iter()
                .filter_map(|h| h.join().expect("a sync does not panic").err())
                .next()
                .map(|(path, source)| ReportError::Write {
                    path: path.display().to_string(),
                    source,
                })
        });
        failed.map_or(Ok(()), Err)
    }

    /// Renames every staged file into place, or none: see the module docs.
    /// Returns the final paths, in the order they were added.
    pub fn commit(mut self) -> Result<Vec<PathBuf>, ReportError> {
        // (On failure, dropping the set removes the temporaries.)
        self.sync_all()?;
        let staged = std::mem::take(&mut self.staged);
        let mut before: Vec<Before> = Vec::with_capacity(staged.len());
        let mut failure = None;
        for (i, (tmp, path)) in staged.iter().enumerate() {
            before.push(Before::keep(path));
            if let Err(source) = fs::rename(tmp, path) {
                failure = Some((i, path, source));
                break;
            }
        }
        if let Some((failed, path, source)) = failure {
            for (i, (tmp, path)) in staged.iter().enumerate() {
                if i >= failed {
                    let _ = fs::remove_file(tmp);
                    continue;
                }
                match &before[i] {
                    Before::Kept(old) => {
                        let _ = fs::rename(old, path);
                    }
                    Before::Nothing => {
                        let _ = fs::remove_file(path);
                    }
                    // The new version is better than none.
                    Before::Unkept => {}
                }
            }
            remove_kept(&before);
            return Err(ReportError::Write {
                path: path.display().to_string(),
                source,
            });
        }
        remove_kept(&before);
        // The renames reach the disk with the folder's entries.
        if let Ok(d) = fs::File::open(&self.dir) {
            let _ = d.sync_all();
        }
        Ok(staged.into_iter().map(|(_, path)| path).collect())
    }
}

/// What a final name held before the set replaced it.
enum Before {
    Nothing,
    /// The previous file, under a second name (a hard link).
    Kept(PathBuf),
    /// A previous file that could not be linked (a file system without hard
    /// links): it cannot come back, but the rename still replaces it whole.
    Unkept,
}

impl Before {
    fn keep(path: &Path) -> Before {
        if fs::symlink_metadata(path).is_err() {
            return Before::Nothing;
        }
        let old = side_name(path, "old");
        let _ = fs::remove_file(&old);
        match fs::hard_link(path, &old) {
            Ok(()) => Before::Kept(old),
            Err(_) => Before::Unkept,
        }
    }
}

fn remove_kept(before: &[Before]) {
    for b in before {
        if let Before::Kept(old) = b {
            let _ = fs::remove_file(old);
        }
    }
}

impl Drop for ReportSet {
    fn drop(&mut self) {
        for (tmp, _) in &self.staged {
            let _ = fs::remove_file(tmp);
        }
    }
}

/// Removes what a run killed while writing (Ctrl-C, a timeout) left in
/// `dir`: its staged and kept files ([`side_name`]) of report names, an
/// hour after they were written, when their process is gone (on Linux, no
/// `/proc/PID`). A live run's are left alone (hunt63: they piled up,
/// hidden, forever).
fn remove_leftovers(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let proc = Path::new("/proc/self").exists();
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some((report, pid)) = leftover(name) else {
            continue;
        };
        if pid == std::process::id() || !tokenaudit_ingest::source::is_report_name(report) {
            continue;
        }
        // An hour old, and (on Linux) of no process here: a run in another
        // container or on another host sharing the folder cannot see a
        // live run's process (hunt64), but none stages its files for an
        // hour.
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t.elapsed().is_ok_and(|a| a.as_secs() > 3600));
        let gone = old && !(proc && Path::new(&format!("/proc/{pid}")).exists());
        if gone {
            let _ = fs::remove_file(e.path());
        }
    }
}

/// The report name and process of a [`side_name`] (`.NAME.tmp-PID`,
/// `.NAME.old-PID`).
fn leftover(file: &str) -> Option<(&str, u32)> {
    let rest = file.strip_prefix('.')?;
    let (head, pid) = rest.rsplit_once('-')?;
    let pid: u32 = pid.parse().ok()?;
    let report = head
        .strip_suffix(".tmp")
        .or_else(|| head.strip_suffix(".old"))?;
    Some((report, pid))
}

/// `dir/.NAME.KIND-PID`: hidden, and distinct for each process writing there.
fn side_name(path: &Path, kind: &str) -> PathBuf {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("report");
    path.with_file_name(format!(".{name}.{kind}-{}", std::process::id()))
}

/// Writes `bytes` beside `path` under a temporary name, which it returns
/// with the file still open (to sync); on failure nothing is left behind.
fn write_unsynced(path: &Path, bytes: &[u8]) -> Result<(PathBuf, fs::File), ReportError> {
    let tmp = side_name(path, "tmp");
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        Ok(f)
    })();
    match result {
        Ok(f) => Ok((tmp, f)),
        Err(source) => {
            let _ = fs::remove_file(&tmp);
            Err(ReportError::Write {
                path: path.display().to_string(),
                source,
            })
        }
    }
}

/// Writes and syncs `bytes` beside `path` under a temporary name, which it
/// returns; on failure nothing is left behind.
fn write_temp(path: &Path, bytes: &[u8]) -> Result<PathBuf, ReportError> {
    let tmp = side_name(path, "tmp");
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    })();
    match result {
        Ok(()) => Ok(tmp),
        Err(source) => {
            let _ = fs::remove_file(&tmp);
            Err(ReportError::Write {
                path: path.display().to_string(),
                source,
            })
        }
    }
}

/// Writes one file atomically (a temporary file in the same folder, then a
/// rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let tmp = write_temp(path, bytes)?;
    fs::rename(&tmp, path).map_err(|source| {
        let _ = fs::remove_file(&tmp);
        ReportError::Write {
            path: path.display().to_string(),
            source,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The folder's entries and contents, sorted.
    fn listing(dir: &Path) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let text = fs::read_to_string(e.path()).unwrap_or_else(|_| "<dir>".into());
                (e.file_name().to_string_lossy().into_owned(), text)
            })
            .collect();
        out.sort();
        out
    }

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    fn write_set(dir: &Path, files: &[(&str, &str)]) -> Result<Vec<PathBuf>, ReportError> {
        let mut set = ReportSet::new(dir)?;
        for (name, text) in files {
            set.add(name, text.as_bytes())?;
        }
        set.commit()
    }

    /// What a killed run left (its staged and kept report files, an hour
    /// old) goes at the next run into the folder; a live process's, a
    /// fresh one (another host's run), and files of other names, stay
    /// (hunt63, hunt64).
    #[test]
    fn a_killed_runs_leftovers_are_removed_by_the_next() {
        let dir = tempfile::tempdir().unwrap();
        // No process has this number (Linux's pid_max is at most 2^22).
        let dead = 4_194_999;
        let live = std::process::id();
        let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
        for name in [
            format!(".audit.json.tmp-{dead}"),
            format!(".audit-by-session.csv.old-{dead}"),
            format!(".notes.txt.tmp-{dead}"),
            format!(".audit.md.tmp-{live}"),
            "audit.json.tmp-12".to_string(),
        ] {
            let f = fs::File::create(dir.path().join(name)).unwrap();
            f.set_modified(two_hours_ago).unwrap();
        }
        // Another host's run staging now: its process is not ours to see.
        fs::write(dir.path().join(format!(".audit.html.tmp-{dead}")), "x").unwrap();
        write_set(dir.path(), &[("audit.json", "{}")]).unwrap();
        let names: Vec<String> = listing(dir.path()).into_iter().map(|(n, _)| n).collect();
        let mut want = vec![
            format!(".audit.html.tmp-{dead}"),
            format!(".audit.md.tmp-{live}"),
            format!(".notes.txt.tmp-{dead}"),
            "audit.json".to_string(),
            "audit.json.tmp-12".to_string(),
        ];
        want.sort();
        if Path::new("/proc/self").exists() {
            assert_eq!(names, want);
        }
        assert_eq!(leftover(".audit.json.tmp-42"), Some(("audit.json", 42)));
        assert_eq!(leftover(".audit.json.old-42"), Some(("audit.json", 42)));
        assert_eq!(leftover("audit.json.tmp-42"), None);
        assert_eq!(leftover(".audit.json.tmp-x"), None);
    }

    #[test]
    fn a_committed_set_replaces_its_files_and_leaves_others() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("notes.txt"), "mine").unwrap();
        write_set(dir.path(), &[("a.md", "old a"), ("b.json", "old b")]).unwrap();
        let written = write_set(dir.path(), &[("a.md", "new a"), ("b.json", "new b")]).unwrap();
        assert_eq!(
            written,
            [dir.path().join("a.md"), dir.path().join("b.json")]
        );
        assert_eq!(
            listing(dir.path()),
            pairs(&[
                ("a.md", "new a"),
                ("b.json", "new b"),
                ("notes.txt", "mine")
            ])
        );
    }

    #[test]
    fn a_failed_stage_leaves_the_previous_set() {
        let dir = tempfile::tempdir().unwrap();
        write_set(dir.path(), &[("a.md", "old a"), ("b.json", "old b")]).unwrap();
        // The second file's temporary name is taken by a folder, so it
        // cannot be created: the first, staged already, must not land.
        fs::create_dir(side_name(&dir.path().join("b.json"), "tmp")).unwrap();
        let err = write_set(dir.path(), &[("a.md", "new a"), ("b.json", "new b")]).unwrap_err();
        assert!(err.to_string().starts_with("cannot write "), "{err}");
        let mut want = pairs(&[("a.md", "old a"), ("b.json", "old b")]);
        want.insert(
            0,
            (
                format!(".b.json.tmp-{}", std::process::id()),
                "<dir>".into(),
            ),
        );
        assert_eq!(listing(dir.path()), want);
    }

    #[test]
    fn a_failed_rename_puts_the_renamed_files_back() {
        let dir = tempfile::tempdir().unwrap();
        write_set(dir.path(), &[("a.md", "old a"), ("b.json", "old b")]).unwrap();
        // A folder sits where the third file goes: a.md and b.json are
        // renamed before that fails, and must get their old text back; c.csv
        // was new and must go.
        fs::create_dir(dir.path().join("d.csv")).unwrap();
        fs::write(dir.path().join("d.csv/x"), "").unwrap();
        let files = [
            ("a.md", "new a"),
            ("c.csv", "new c"),
            ("b.json", "new b"),
            ("d.csv", "new d"),
        ];
        let err = write_set(dir.path(), &files).unwrap_err();
        assert!(err.to_string().contains("d.csv"), "{err}");
        assert_eq!(
            listing(dir.path()),
            pairs(&[("a.md", "old a"), ("b.json", "old b"), ("d.csv", "<dir>")])
        );
    }

    #[test]
    fn write_atomic_replaces_one_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(listing(dir.path()), pairs(&[("t.jsonl", "two")]));
    }
}
