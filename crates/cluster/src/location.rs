//! Where a store is, for DataFusion: a local directory or an object store
//! URL (`s3://bucket/prefix`, `file:///dir`), and its commit log read from
//! there.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::{bail, Context, Result};
use futures::TryStreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};
use url::Url;

use tokenaudit_store::commit::{self, State};
use tokenaudit_store::{layout, scan};

/// A store's root as a URL ending in `/`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StoreUrl(Url);

impl StoreUrl {
    /// `s3://bucket/prefix`, `file:///abs/dir`, or a local directory (made
    /// absolute, so that other processes on the machine find it too).
    pub fn parse(text: &str) -> Result<StoreUrl> {
        let mut url = if text.contains("://") {
            Url::parse(text).with_context(|| format!("store URL {text:?}"))?
        } else {
            let dir = std::path::absolute(text).with_context(|| format!("store {text:?}"))?;
            Url::from_directory_path(&dir)
                .map_err(|()| anyhow::anyhow!("store {}: not a directory path", dir.display()))?
        };
        match url.scheme() {
            "file" | "s3" => {}
            other => bail!(
                "store URL {text:?}: {other}:// is not supported (a directory, file:// or s3://)"
            ),
        }
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        Ok(StoreUrl(url))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The directory, for a `file://` store.
    pub fn local_dir(&self) -> Option<std::path::PathBuf> {
        (self.0.scheme() == "file")
            .then(|| self.0.to_file_path().ok())
            .flatten()
    }

    /// The URL of a file of the store (`path` relative to its root).
    pub fn join(&self, path: &str) -> Result<Url> {
        self.0
            .join(path)
            .with_context(|| format!("{path:?} under {}", self.0))
    }

    /// The object store holding it: the local file system, or S3 with the
    /// credentials and region of the usual AWS environment variables.
    pub fn object_store(&self) -> Result<Arc<dyn ObjectStore>> {
        Ok(match self.0.scheme() {
            "s3" => {
                let bucket = self
                    .0
                    .host_str()
                    .with_context(|| format!("{}: no bucket", self.0))?;
                Arc::new(
                    object_store::aws::AmazonS3Builder::from_env()
                        .with_bucket_name(bucket)
                        .build()
                        .with_context(|| format!("S3 store {}", self.0))?,
                )
            }
            _ => Arc::new(object_store::local::LocalFileSystem::new()),
        })
    }

    /// The object store path of a file of the store.
    fn object_path(&self, path: &str) -> Result<ObjectPath> {
        let url = self.join(path)?;
        Ok(ObjectPath::from_url_path(
            url.path().trim_start_matches('/'),
        )?)
    }

    /// The live state as of commit `head` (every commit if `None`), read
    /// from the commit log. Unlike [`tokenaudit_store::Store::open`] it
    /// repairs nothing: a store with an interrupted ingest is opened once
    /// where it lives (any command with `--store DIR`) first.
    pub async fn state(&self, head: Option<u64>) -> Result<State> {
        let store = self.object_store()?;
        let dir = self.object_path(layout::COMMITS)?;
        let mut numbers: Vec<(u64, ObjectPath)> = store
            .list(Some(&dir))
            .try_filter_map(|meta| async move {
                Ok(meta
                    .location
                    .filename()
                    .and_then(layout::parse_commit_file)
                    .map(|n| (n, meta.location.clone())))
            })
            .try_collect()
            .await
            .with_context(|| format!("listing {}{}", self.0, layout::COMMITS))?;
        if numbers.is_empty() {
            bail!("{}: not a store (no {}/)", self.0, layout::COMMITS);
        }
        numbers.sort_unstable_by_key(|(n, _)| *n);
        let mut state = State::default();
        for (i, (n, location)) in numbers.into_iter().enumerate() {
            if head.is_some_and(|h| n > h) {
                break;
            }
            if n != i as u64 + 1 {
                bail!(
                    "{}{location}: commit {} is missing before it",
                    self.0,
                    i + 1
                );
            }
            let read = async { store.get(&location).await?.bytes().await };
            let bytes = read.await.with_context(|| format!("reading {location}"))?;
            state.apply(&commit::parse_commit(&bytes, Path::new(location.as_ref()))?);
        }
        if let Some(h) = head.filter(|&h| h != state.head) {
            bail!("{}: commit {h} is not in the log", self.0);
        }
        Ok(state)
    }
}

impl StoreUrl {
    /// [`state`](Self::state), blocking: on a thread and runtime of its
    /// own, as the caller may be a task of an async runtime (an executor's).
    pub fn read_state(&self, head: Option<u64>) -> Result<State> {
        std::thread::scope(|s| {
            s.spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?
                    .block_on(self.state(head))
            })
            .join()
            .expect("reading a commit log does not panic")
        })
    }
}

/// The index of each source key in the store's ordered source list as of a
/// commit ([`scan::ordered_sources`]): what `Location::source` means in
/// every accumulator state, here and on the other processes.
pub fn source_index(state: &State) -> HashMap<String, usize> {
    scan::ordered_sources(state)
        .iter()
        .enumerate()
        .map(|(i, s)| (s.key.clone(), i))
        .collect()
}

/// What identifies a source index: its keys in their order (a store built
/// again at the same URL has other sources at the same commit number).
pub fn index_digest(index: &HashMap<String, usize>) -> u64 {
    let mut keys: Vec<(&usize, &String)> = index.iter().map(|(k, i)| (i, k)).collect();
    keys.sort_unstable();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for (i, k) in keys {
        std::hash::Hash::hash(&(i, k), &mut h);
    }
    std::hash::Hasher::finish(&h)
}

/// [`source_index`] of a store at a commit, read once per process and
/// kept for the last few (store, commit) pairs asked for; read again when
/// `want` (the client's [`index_digest`]) is not the kept one's (hunt72:
/// a store rebuilt at the same path was read with the old numbering, its
/// files misnamed or the job failed).
pub fn cached_source_index(
    store: &StoreUrl,
    head: u64,
    want: Option<u64>,
) -> Result<Arc<HashMap<String, usize>>> {
    type Cache = Mutex<Vec<((StoreUrl, u64), u64, Arc<HashMap<String, usize>>)>>;
    static CACHE: Cache = Mutex::new(Vec::new());
    const KEEP: usize = 4;
    let key = (store.clone(), head);
    if let Some((_, _, v)) = CACHE
        .lock()
        .expect("no panic holding it")
        .iter()
        .find(|(k, d, _)| *k == key && want.is_none_or(|w| w == *d))
    {
        return Ok(v.clone());
    }
    let state = store.read_state(Some(head))?;
    let index = Arc::new(source_index(&state));
    let digest = index_digest(&index);
    if want.is_some_and(|w| w != digest) {
        anyhow::bail!(
            "the store at {} is not the one the client planned against (its commit {head} lists other files): was it rebuilt meanwhile? run the audit again",
            store.as_str()
        );
    }
    let mut cache = CACHE.lock().expect("no panic holding it");
    cache.retain(|(k, _, _)| *k != key);
    if cache.len() == KEEP {
        cache.remove(0);
    }
    cache.push((key, digest, index.clone()));
    Ok(index)
}
