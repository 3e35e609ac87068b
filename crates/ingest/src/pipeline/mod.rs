//! The parallel, streaming ingest engine.
//!
//! Producer threads (one per file being read, up to the thread count) read
//! and decompress their inputs, cut the stream into chunks that end on line
//! boundaries, number the chunks, and send them over a bounded channel.
//! Worker tasks on rayon's pool parse the chunks, each into its own sink, so
//! one large file is parsed in parallel as well as many files. At most a few
//! chunks per thread are in flight, so memory does not grow with the input.
//! With one thread, the same producer and worker code runs on the calling
//! thread: each chunk is read as soon as it is cut.
//!
//! Lines are numbered after the fact (see [`crate::source::lines`]): a location
//! handed to a sink may be pending until [`IngestSummary::line`] resolves it.
//!
//! Sinks receive records in no particular order; they must merge
//! order-independently (exact sums, or collections sorted on output) so the
//! result is the same on every run.

pub mod dedup;
mod partition;
pub mod threads;

use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crossbeam_channel::{bounded, Receiver, Sender};

use tokenaudit_core::CallRecord;

use crate::formats::mapping::Mapping;
use crate::formats::{self, Format};
use crate::parquet::columns::ColumnPlan;
use crate::parquet::{ParquetError, ParquetFile};
use crate::rejects::{Reject, RejectReason, RejectSample, Rejects};
use crate::source::container::{self, CsvRecords, JsonRecords, Layout, Utf16Text};
use crate::source::lines::{self, LineMap};
use crate::source::{self, Encoding, Source};
use dedup::Dedup;

/// Where a record came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    /// Index into the source list.
    pub source: usize,
    /// 1-based line (or Parquet row) number; while reading, possibly
    /// pending (see [`crate::source::lines`]): resolve with [`IngestSummary::line`].
    pub line: u64,
}

/// Receives the records parsed by one worker.
pub trait RecordSink: Send {
    /// Borrowed, so that the pipeline can reuse the record's buffers (see
    /// [`crate::record::fields::recycle_tags`]).
    fn record(&mut self, record: &CallRecord<'_>, at: Location);

    /// Called before [`RecordSink::record`] on a record whose logged
    /// response names another model (`CallRecord::served_model`): a sink
    /// that prices calls settles which name prices it (see
    /// `tokenaudit_core::pricing::ServedModels`). By default the line's.
    fn settle_model(&mut self, record: &mut CallRecord<'_>) {
        record.served_model = None;
    }

    /// A line skipped as LiteLLM's cache hit (counted as `not_a_call`, never
    /// a call): the call it answered, as evidence for the caching findings.
    fn cache_hit(&mut self, _record: &CallRecord<'_>, _at: Location) {}

    /// A unit of reading ended (a chunk of lines, a batch of a Parquet
    /// file's rows, the held-back duplicates' survivors): every record of it
    /// has been handed over. Units are cut the same whatever the number of
    /// workers, so a sink that relates the records of one unit (retry
    /// chains) settles them here and gets the same answer however units
    /// were shared out. (The store's reader ends none: its unit is a day,
    /// settled when the day's state is encoded.)
    fn end_unit(&mut self) {}
}

/// Live counters for a progress display.
#[derive(Debug, Default)]
pub struct Progress {
    /// Bytes read from disk (compressed bytes for compressed files).
    pub bytes: AtomicU64,
    /// Lines parsed so far.
    pub lines: AtomicU64,
    /// Every source read: what follows (merging the workers' results, the
    /// rules) is no reading, and a bar says so.
    pub read: std::sync::atomic::AtomicBool,
}

#[derive(Clone, Debug)]
pub struct IngestOptions {
    /// Worker threads (0: all cores).
    pub threads: usize,
    /// Target chunk size in bytes.
    pub chunk_bytes: usize,
    /// Longest line accepted; longer lines are skipped and counted.
    pub max_line_bytes: usize,
    /// Largest file of a format read in order (Codex: what a line means
    /// depends on the lines before) read as one chunk; a larger one is
    /// cut, and lines after the cut that need what came before are
    /// counted as rejects.
    pub max_whole_file_bytes: usize,
    /// A user mapping, applied to every file.
    pub mapping: Option<Arc<Mapping>>,
    /// A built-in format for every file, instead of detecting it per file
    /// (`--input-format`). A mapping, if given, wins.
    pub input_format: Option<Format>,
    pub progress: Option<Arc<Progress>>,
    /// Number lines as they are read (each chunk's newlines counted by its
    /// reader), so a sink gets final line numbers instead of pending ones
    /// (see [`crate::source::lines`]): for sinks that write locations out before
    /// the whole input is read, such as the store's.
    pub eager_lines: bool,
    /// Per source index, where to start reading (a file that grew since it
    /// was last read): empty, or `None`, for the beginning.
    pub starts: Vec<Option<Start>>,
    /// Per source index, the bytes of the file to read at most (the size a
    /// store planned: lines appended while the ingest runs are left for the
    /// next one); empty, or `None`, for all. Plain files only: a growing
    /// compressed file is read again whole next time anyway.
    pub ends: Vec<Option<u64>>,
    /// Per source index, the format to read it as instead of detecting it
    /// (a store resuming a file reads the rest as what its start was);
    /// `--input-format` and a mapping still win.
    pub formats: Vec<Option<Format>>,
    /// Digest each plain file read from its start as its bytes stream by
    /// ([`SourceSummary::whole`]): the store's record of a file's bytes,
    /// without reading the file a second time.
    pub digest_files: bool,
}

/// Where to resume reading a plain JSON-lines file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Start {
    /// Bytes to skip (the size the file had when it was last read).
    pub offset: u64,
    /// The number of the first line read from there.
    pub first_line: u64,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            threads: 0,
            chunk_bytes: 1 << 20,
            max_line_bytes: 64 << 20,
            max_whole_file_bytes: 1 << 30,
            mapping: None,
            input_format: None,
            progress: None,
            eager_lines: false,
            starts: Vec::new(),
            ends: Vec::new(),
            formats: Vec::new(),
            digest_files: false,
        }
    }
}

/// What happened to one input.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SourceSummary {
    pub name: String,
    /// `plain`, `gzip`, `zstd`, `parquet`.
    pub encoding: String,
    /// The reader used, or `none` when the format was not recognised.
    pub format: String,
    /// Non-blank lines (or Parquet rows) seen.
    pub lines: u64,
    pub records: u64,
    pub rejected: u64,
    /// Lines that are not (new) calls: see [`RejectReason::is_skip`].
    pub skipped: u64,
    /// With [`IngestOptions::eager_lines`], the number the line after the
    /// last one read would have (where a later read of more appended lines
    /// goes on); else 0.
    pub next_line: u64,
    /// What its text looks like, to tell two inputs with the same content
    /// (a log and its `gzip -k` copy, one file under two names), whose calls
    /// would be counted twice: see [`Content`]. `None` for Parquet.
    pub content: Option<Content>,
    /// With [`IngestOptions::digest_files`], a plain file's bytes as read
    /// from its start (through an adapter or not: a CSV, UTF-16 text or a
    /// JSON array is digested below it).
    pub whole: Option<WholeDigest>,
    /// For a file read from a [`Start`], the bytes read past it: fewer
    /// than planned when the file at its path was replaced (rotated)
    /// between the store's planning and the reading, so the bytes that
    /// grew were not read (hunt139's bug2: recorded as read, lost).
    pub resumed_bytes: Option<u64>,
}

impl SourceSummary {
    /// Nothing of it could be read (no permission, gone, a compression
    /// not read): its one reject is the input's, not a line's.
    pub fn unreadable(&self) -> bool {
        self.encoding == "unknown" && self.lines == 0 && self.records == 0 && self.rejected > 0
    }
}

/// The xxh3-64 of the bytes a file gave as they were read, and how many:
/// fewer than planned when the file was cut short while it was read (so
/// that it matches none of the file's texts of that size).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WholeDigest {
    pub hash: u64,
    pub bytes: u64,
}

/// A digest of a file's bytes taken below an adapter (see [`Hashing`]).
type SharedDigest = Arc<Mutex<(xxhash_rust::xxh3::Xxh3, u64)>>;

/// A file's bytes digested as they are read through it: what an adapter
/// (CSV, UTF-16, JSON documents) reads of the file goes through it.
struct Hashing {
    inner: Box<dyn Read + Send>,
    digest: SharedDigest,
}

impl Read for Hashing {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut d = self.digest.lock().expect("no panic holding it");
        d.0.update(&buf[..n]);
        d.1 += n as u64;
        Ok(n)
    }
}

/// An input's text as read (decompressed): its length and a hash of its
/// first [`Content::HEAD`] bytes. Two inputs with the same are taken for
/// the same log.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Content {
    pub bytes: u64,
    pub head: u64,
}

impl Content {
    /// The bytes hashed, at most.
    pub const HEAD: usize = 1 << 20;
}

/// Builds a [`Content`] from the bytes as they are read (the head hashed
/// as it streams by, not kept).
#[derive(Default)]
struct ContentHasher {
    bytes: u64,
    head: xxhash_rust::xxh3::Xxh3,
    /// The digest of every byte, when the bytes are the file's own (see
    /// [`SourceSummary::whole`]); handed to a [`Hashing`] reader below the
    /// adapter when the text is read again through one.
    whole: Option<Box<xxhash_rust::xxh3::Xxh3>>,
    /// That digest, once handed on.
    below: Option<SharedDigest>,
}

impl ContentHasher {
    /// A hasher that also digests every byte.
    fn whole() -> Self {
        ContentHasher {
            whole: Some(Box::default()),
            ..Default::default()
        }
    }

    fn add(&mut self, bytes: &[u8]) {
        let hashed = usize::try_from(self.bytes).unwrap_or(usize::MAX);
        let room = Content::HEAD.saturating_sub(hashed);
        self.head.update(&bytes[..room.min(bytes.len())]);
        self.bytes += bytes.len() as u64;
        if let Some(w) = &mut self.whole {
            w.update(bytes);
        }
    }

    fn finish(&self) -> Content {
        Content {
            bytes: self.bytes,
            head: self.head.digest(),
        }
    }

    /// The file's digest, if this hasher or the reader below an adapter
    /// took one.
    fn whole_digest(&self) -> Option<WholeDigest> {
        if let Some(w) = &self.whole {
            return Some(WholeDigest {
                hash: w.digest(),
                bytes: self.bytes,
            });
        }
        let d = self.below.as_ref()?.lock().expect("no panic holding it");
        Some(WholeDigest {
            hash: d.0.digest(),
            bytes: d.1,
        })
    }

    /// Reads the rest of `stream` into the digest (a file refused after
    /// its first bytes: its digest is still of all of them, so that the
    /// next ingest of the same file finds it unchanged).
    fn drain(&mut self, stream: &mut dyn Read) {
        if self.whole.is_none() {
            return;
        }
        let mut buf = vec![0u8; 1 << 16];
        while let Ok(n) = stream.read(&mut buf) {
            if n == 0 {
                break;
            }
            self.add(&buf[..n]);
        }
    }

    /// A fresh hasher for the text an adapter makes of `stream`, the file's
    /// own bytes (this hasher's so far, and the rest as `stream` gives
    /// them) still digested below it: the stream to read through.
    fn below_adapter(
        &mut self,
        stream: Box<dyn Read + Send>,
    ) -> (ContentHasher, Box<dyn Read + Send>) {
        let mut next = ContentHasher::default();
        match self.whole.take() {
            Some(w) => {
                let digest = Arc::new(Mutex::new((*w, self.bytes)));
                next.below = Some(digest.clone());
                (
                    next,
                    Box::new(Hashing {
                        inner: stream,
                        digest,
                    }),
                )
            }
            None => {
                next.below = self.below.take();
                (next, stream)
            }
        }
    }
}

impl IngestSummary {
    /// Per input, the first earlier input with the same [`Content`] (a
    /// non-empty text), if any.
    pub fn same_content(&self) -> Vec<Option<usize>> {
        let mut first: std::collections::HashMap<Content, usize> = Default::default();
        self.sources
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let c = s.content.filter(|c| c.bytes > 0)?;
                let at = *first.entry(c).or_insert(i);
                (at != i).then_some(at)
            })
            .collect()
    }
}

#[derive(Clone, Debug, Default)]
pub struct IngestSummary {
    pub sources: Vec<SourceSummary>,
    pub rejects: Rejects,
    pub lines: u64,
    pub records: u64,
    /// Resolves the locations sinks were given (see [`crate::source::lines`]).
    pub line_map: LineMap,
    /// Calls a reader knew to be outside the analysed window without
    /// passing them on (the store skips whole days); counted with the ones
    /// the sinks saw.
    pub outside_window: u64,
    /// Of those, calls without a time (a store's untimed parts).
    pub untimed_outside_window: u64,
    /// The calls of each source (by index) an audit counts, in its window
    /// or the period before it, when the reader knows them (a store's
    /// audit counts them for a file with another's text); `None`: its
    /// `records` less the calls the sinks found in no figure.
    pub counted_by_source: Option<Vec<u64>>,
}

impl IngestSummary {
    /// The line (or Parquet row) number of a location a sink was given.
    pub fn line(&self, at: Location) -> u64 {
        self.line_map.resolve(at.source, at.line)
    }
}

/// Hands a chunk to the workers; false once they are gone.
type Deliver<'a> = dyn FnMut(Chunk) -> bool + 'a;

struct Chunk {
    source: usize,
    format: Arc<Format>,
    numbering: Numbering,
    body: Body,
}

/// What a worker reads.
enum Body {
    /// Lines of text.
    Lines(Vec<u8>),
    /// A Parquet row group, decoded by the worker (so row groups decode in
    /// parallel) and read column by column (see [`crate::parquet::columns`]).
    RowGroup {
        file: Arc<ParquetFile>,
        plan: Arc<ColumnPlan>,
        index: usize,
    },
}

/// How a chunk's lines are numbered.
#[derive(Clone, Copy, Debug)]
enum Numbering {
    /// The rows of a Parquet batch: the first one's number is known.
    From(u64),
    /// Lines of a stream: the chunk's place in its source and how many lines
    /// the reader dropped just before it (over-long ones). Its lines get
    /// pending numbers; the worker reports how many there are.
    Counted { seq: u32, dropped: u64 },
}

impl Numbering {
    /// The location's line for the chunk's line `i` (from 0).
    fn line(self, i: u64) -> u64 {
        match self {
            Numbering::From(first) => first + i,
            Numbering::Counted { seq, dropped } => lines::pending(seq, dropped + i),
        }
    }
}

#[derive(Default)]
struct WorkerCounts {
    /// Per source: lines, records, rejected, skipped.
    per_source: Vec<[u64; 4]>,
    /// (source, chunk seq, lines the chunk accounts for) of counted chunks.
    chunk_lines: Vec<(usize, u32, u64)>,
}

impl WorkerCounts {
    fn bump(&mut self, source: usize, counts: [u64; 4]) {
        if self.per_source.len() <= source {
            self.per_source.resize(source + 1, [0; 4]);
        }
        for (e, n) in self.per_source[source].iter_mut().zip(counts) {
            *e += n;
        }
    }
}

/// Reads every source and feeds each record to a sink made by `make_sink`
/// (one per worker). Returns the sinks, to be merged by the caller, and what
/// was read and rejected.
pub fn ingest<S, F>(
    sources: &[Source],
    options: &IngestOptions,
    make_sink: F,
) -> (Vec<S>, IngestSummary)
where
    S: RecordSink,
    F: Fn() -> S + Sync,
{
    let threads = threads::worker_threads(options.threads);
    // Chunk buffers go back to the producers for reuse, so steady state
    // allocates (and page-faults) nothing.
    let (free_tx, free_rx) = bounded::<Vec<u8>>(threads * 4 + 4);
    let next_source = AtomicUsize::new(0);
    let producer_rejects = Mutex::new(Rejects::default());
    let meta: Mutex<Vec<SourceSummary>> = Mutex::new(
        sources
            .iter()
            .map(|s| SourceSummary {
                name: s.display(),
                ..Default::default()
            })
            .collect(),
    );
    let produce_source = |i: usize, send: &mut Deliver<'_>, free: &Receiver<Vec<u8>>| {
        let mut rejects = Rejects::default();
        let mut next_line = start_of(options, i).map_or(1, |s| s.first_line);
        let mut content = None;
        let mut whole = None;
        let resumed = Arc::new(AtomicU64::new(0));
        let (encoding, format) = produce(
            i,
            &sources[i],
            options,
            (send, free),
            (&mut rejects, &mut next_line, &mut content, &mut whole),
            &resumed,
        );
        let mut m = meta.lock().expect("no panics while holding the lock");
        m[i].encoding = encoding.to_string();
        m[i].format = format;
        m[i].content = content;
        m[i].whole = whole;
        if start_of(options, i).is_some() {
            m[i].resumed_bytes = Some(resumed.load(Ordering::Relaxed));
        }
        if options.eager_lines {
            m[i].next_line = next_line;
        }
        // Rejects found while reading (file-level ones, and lines skipped
        // for being too long) count against their source.
        m[i].rejected += rejects.total();
        m[i].lines += rejects.count(RejectReason::LineTooLong) + rejects.unread_lines;
        drop(m);
        producer_rejects
            .lock()
            .expect("no panics while holding the lock")
            .merge(rejects);
    };

    let partitions: Arc<Vec<Vec<(String, String)>>> = Arc::new(
        sources
            .iter()
            .map(|s| match s {
                Source::File(p) => partition::pairs(p),
                Source::Stdin => Vec::new(),
            })
            .collect(),
    );
    let results: Vec<WorkerResult<S>> = if threads == 1 {
        // One thread: each chunk is read as soon as it is cut, on the
        // calling thread (no producer, no pool, one chunk in memory).
        let mut worker = Worker::new(make_sink(), partitions.clone());
        let progress = options.progress.as_deref();
        let mut send = |chunk: Chunk| {
            worker.read(chunk, &free_tx, progress);
            true
        };
        for i in 0..sources.len() {
            produce_source(i, &mut send, &free_rx);
        }
        vec![worker.finish()]
    } else {
        // One chunk waiting per worker: reading a chunk is much faster than
        // parsing it, so a longer queue only holds more chunk buffers.
        let (tx, rx) = bounded::<Chunk>(threads);
        let producers = threads.min(sources.len()).max(1);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a rayon pool can be built");
        std::thread::scope(|scope| {
            for _ in 0..producers {
                let tx = tx.clone();
                let free_rx = free_rx.clone();
                let (next_source, produce_source) = (&next_source, &produce_source);
                scope.spawn(move || {
                    let mut send = |chunk: Chunk| tx.send(chunk).is_ok();
                    loop {
                        let i = next_source.fetch_add(1, Ordering::SeqCst);
                        if i >= sources.len() {
                            break;
                        }
                        produce_source(i, &mut send, &free_rx);
                    }
                });
            }
            drop(tx);
            pool.install(|| {
                use rayon::prelude::*;
                (0..threads)
                    .into_par_iter()
                    .map(|_| {
                        consume(
                            &rx,
                            &free_tx,
                            &make_sink,
                            options.progress.as_deref(),
                            partitions.clone(),
                        )
                    })
                    .collect()
            })
        })
    };

    let mut summary = IngestSummary {
        sources: meta.into_inner().expect("producers are done"),
        rejects: producer_rejects.into_inner().expect("producers are done"),
        ..Default::default()
    };
    let mut sinks = Vec::with_capacity(results.len());
    let mut dedup = Dedup::default();
    let mut chunk_lines = Vec::new();
    for (sink, rejects, mut counts, worker_dedup) in results {
        summary.rejects.merge(rejects);
        chunk_lines.append(&mut counts.chunk_lines);
        for (i, [lines, records, rejected, skipped]) in counts.per_source.into_iter().enumerate() {
            let s = &mut summary.sources[i];
            s.lines += lines;
            s.records += records;
            s.rejected += rejected;
            s.skipped += skipped;
        }
        dedup.merge(worker_dedup);
        sinks.push(sink);
    }
    // Calls logged more than once: the surviving copies go to one sink
    // (sinks merge by addition, so which one does not matter).
    if !dedup.is_empty() {
        let sources = &mut summary.sources;
        let rejects = &mut summary.rejects;
        let (lost, bare) = match sinks.first_mut() {
            Some(sink) => dedup.finish_each(|record, at| {
                sources[at.source].records += 1;
                if let Some(field) = record.unread_field {
                    rejects.add(at.source, unread_field(field, at));
                }
                sink.record(record, at);
            }),
            None => dedup.finish_each(|_, _| {}),
        };
        if let Some(sink) = sinks.first_mut() {
            sink.end_unit();
        }
        for (source, n) in lost {
            summary.sources[source].skipped += n;
            summary.rejects.skip_in(source, RejectReason::Duplicate, n);
        }
        for at in bare {
            summary.sources[at.source].rejected += 1;
            summary.rejects.add(
                at.source,
                RejectSample {
                    file: String::new(),
                    line: at.line,
                    reason: RejectReason::MissingUsage,
                    detail: "a stream's last chunk, and no chunk of its stream carries usage: its tokens are not in the log (log OpenAI streams with stream_options.include_usage)".into(),
                },
            );
        }
    }
    summary.line_map = LineMap::new(sources.len(), chunk_lines);
    summary.rejects.resolve_lines(&summary.line_map);
    // Samples carry source indices; give them their names.
    summary.lines = summary.sources.iter().map(|s| s.lines).sum();
    summary.records = summary.sources.iter().map(|s| s.records).sum();
    let names: Vec<String> = sources.iter().map(Source::display).collect();
    summary.rejects.name_sources(&names);
    if let Some(p) = &options.progress {
        p.read.store(true, Ordering::Relaxed);
    }
    (sinks, summary)
}

fn consume<S: RecordSink>(
    rx: &Receiver<Chunk>,
    free: &Sender<Vec<u8>>,
    make_sink: &(impl Fn() -> S + Sync),
    progress: Option<&Progress>,
    partitions: Arc<Vec<Vec<(String, String)>>>,
) -> WorkerResult<S> {
    let mut w = Worker::new(make_sink(), partitions);
    for chunk in rx.iter() {
        w.read(chunk, free, progress);
    }
    w.finish()
}

/// What a worker hands back: its sink, rejects, tallies and held-back
/// duplicates.
type WorkerResult<S> = (S, Rejects, WorkerCounts, Dedup);

/// One worker's sink and tallies.
struct Worker<S> {
    sink: S,
    rejects: Rejects,
    /// Records held back until every file is read (see [`crate::pipeline::dedup`]).
    dedup: Dedup,
    /// A streamed chunk was seen: Gemini's finished responses (a stream's
    /// last chunk, or a whole response) are held with the chunks
    /// ([`CallRecord::gemini_response`]).
    gemini_streams: bool,
    /// This chunk's lines, records, rejected, skipped.
    counts: [u64; 4],
    /// Per source, and the lines of each counted chunk.
    tallies: WorkerCounts,
    /// Per source, the fields its Hive-style partition folders name.
    partitions: Arc<Vec<Vec<(String, String)>>>,
}

impl<S: RecordSink> Worker<S> {
    fn new(sink: S, partitions: Arc<Vec<Vec<(String, String)>>>) -> Self {
        Worker {
            sink,
            rejects: Rejects::default(),
            dedup: Dedup::default(),
            gemini_streams: false,
            counts: [0; 4],
            tallies: WorkerCounts::default(),
            partitions,
        }
    }

    fn finish(self) -> WorkerResult<S> {
        (self.sink, self.rejects, self.tallies, self.dedup)
    }

    /// Reads one chunk, then gives its buffer back for reuse.
    fn read(&mut self, chunk: Chunk, free: &Sender<Vec<u8>>, progress: Option<&Progress>) {
        self.read_unit(chunk, free, progress);
        self.sink.end_unit();
    }

    fn read_unit(&mut self, chunk: Chunk, free: &Sender<Vec<u8>>, progress: Option<&Progress>) {
        self.counts = [0; 4];
        let buf = match chunk.body {
            Body::Lines(buf) => buf,
            Body::RowGroup { file, plan, index } => {
                let first = chunk.numbering.line(0);
                self.read_row_group(chunk.source, &file, &plan, index, first);
                self.tallies.bump(chunk.source, self.counts);
                if let Some(p) = progress {
                    p.lines.fetch_add(self.counts[0], Ordering::Relaxed);
                }
                return;
            }
        };
        // One UTF-8 check per chunk (the common case) lets every line be
        // parsed as &str, which spares serde_json a check per string.
        // (simdutf8: several times faster than std on the ASCII that logs
        // mostly are; same answer.)
        let text = simdutf8::basic::from_utf8(&buf).ok();
        let data = &buf[..];
        // A stateful format's chunk (Codex) is a whole file, read in order
        // (see `read_chunks`), with the file's state.
        let mut file_state = match &*chunk.format {
            Format::Spec(spec) => spec.fresh_state(),
            _ => None,
        };
        let mut start = 0usize;
        let ends = memchr::memchr_iter(b'\n', data).chain(std::iter::once(data.len()));
        // The newlines seen: the chunk's lines, for the line map.
        let mut newlines = 0u64;
        for (i, end) in (0u64..).zip(ends) {
            if start > data.len() {
                break;
            }
            newlines = i;
            let mut stop = end;
            if stop > start && data[stop - 1] == b'\r' {
                stop -= 1;
            }
            // A byte-order mark starting a line: a later gzip member's or a
            // concatenated file's first line (the file's own is dropped
            // before).
            let line_start = if data[start..stop].starts_with(b"\xef\xbb\xbf") {
                start + 3
            } else {
                start
            };
            let raw = &data[line_start..stop];
            start = end + 1;
            if raw.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            self.counts[0] += 1;
            let at = Location {
                source: chunk.source,
                line: chunk.numbering.line(i),
            };
            // Once per line for every format but OTLP, whose lines hold many
            // spans: a line is then several records, or one counted reject
            // when none of its spans is a model call.
            let text = text.map(|t| &t[line_start..stop]);
            self.read_line(&chunk.format, &mut file_state, text, raw, at, true);
        }
        self.tallies.bump(chunk.source, self.counts);
        if let Numbering::Counted { seq, dropped } = chunk.numbering {
            self.tallies
                .chunk_lines
                .push((chunk.source, seq, dropped + newlines));
        }
        let mut buf = buf;
        buf.clear();
        let _ = free.try_send(buf);
        if let Some(p) = progress {
            p.lines.fetch_add(self.counts[0], Ordering::Relaxed);
        }
    }

    /// Reads one line (`text` when the chunk is UTF-8). A line that fails as
    /// JSON only over lone UTF-16 surrogate escapes (a string Node cut in
    /// the middle of an emoji) is read again with them mended, when `mend`.
    fn read_line(
        &mut self,
        format: &Format,
        file_state: &mut Option<crate::engine::FileState>,
        text: Option<&str>,
        raw: &[u8],
        at: Location,
        mend: bool,
    ) {
        if let Some(reject) = csv_reject(raw) {
            self.take(Err(reject), at);
            return;
        }
        let mut malformed = None;
        let mut retry = |r: Reject| {
            if mend && r.reason == RejectReason::MalformedJson {
                malformed = Some(r);
                None
            } else {
                Some(r)
            }
        };
        match format {
            Format::Spec(spec) if spec.key.is_some() || spec.state.is_some() => {
                let parsed = match text {
                    Some(t) => spec.parse_in_file(t, file_state.as_mut()),
                    None => spec.parse_in_file_bytes(raw, file_state.as_mut()),
                };
                match parsed {
                    Ok((record, Some(key))) => {
                        let parts = crate::record::iterations::derived(raw, &record);
                        self.dedup.offer(key, record, at);
                        for (n, part) in parts.into_iter().enumerate() {
                            let n = u8::try_from(n + 1).unwrap_or(u8::MAX);
                            self.dedup.offer(key.part(n, &part), part, at);
                        }
                    }
                    Ok((record, None)) => {
                        let parts = crate::record::iterations::derived(raw, &record);
                        self.take(Ok(record), at);
                        for part in parts {
                            self.take(Ok(part), at);
                        }
                    }
                    Err(reject) => {
                        if let Some(r) = retry(reject) {
                            self.take(Err(r), at)
                        }
                    }
                }
            }
            Format::OtlpJson => format.read_line(text, raw, |parsed| match parsed {
                Err(reject) => {
                    if let Some(r) = retry(reject) {
                        self.take(Err(r), at)
                    }
                }
                ok => self.take(ok, at),
            }),
            format => format.read_line(text, raw, |parsed| match parsed {
                Err(reject) => {
                    if let Some(r) = retry(reject) {
                        self.take(Err(r), at)
                    }
                }
                // (The `Result` handed on as it is: taking the record out and
                // wrapping it again copies its ~600 bytes on every line.)
                ok => {
                    let parts = match &ok {
                        Ok(record) => crate::record::iterations::derived(raw, record),
                        Err(_) => Vec::new(),
                    };
                    self.take(ok, at);
                    for part in parts {
                        self.take(Ok(part), at);
                    }
                }
            }),
        }
        let Some(reject) = malformed else { return };
        // (A line still no JSON once mended keeps its first reason: "not
        // UTF-8 text" says more of binary bytes than a syntax error.)
        let mended = crate::json::mend_line_said(raw)
            .filter(|(m, _)| serde_json::from_slice::<serde::de::IgnoredAny>(m).is_ok());
        match mended {
            Some((mended, said)) => {
                if let Some(detail) = said {
                    self.rejects.add(
                        at.source,
                        RejectSample {
                            file: String::new(),
                            line: at.line,
                            reason: RejectReason::FieldIgnored,
                            detail: detail.to_string(),
                        },
                    );
                }
                let text = std::str::from_utf8(&mended).ok();
                self.read_line(format, file_state, text, &mended, at, false);
            }
            None => self.take(Err(reject), at),
        }
    }

    /// Decodes one row group (its rows numbered from `first`) and reads its
    /// rows. A decoding error is one reject for the file; the row group's
    /// rows after it are not read.
    fn read_row_group(
        &mut self,
        source: usize,
        file: &ParquetFile,
        plan: &ColumnPlan,
        index: usize,
        first: u64,
    ) {
        let mut next = first;
        let mut read = || -> Result<(), ParquetError> {
            for batch in file.row_group(index, plan.leaves(), BATCH_ROWS)? {
                let batch = batch?;
                plan.read_batch(&batch, |i, parsed| {
                    self.counts[0] += 1;
                    let line = next + i as u64;
                    self.take(parsed, Location { source, line });
                });
                next += batch.num_rows() as u64;
                // A batch is a unit: a row group can hold a million rows.
                self.sink.end_unit();
            }
            Ok(())
        };
        if let Err(e) = read() {
            // Every row of the group not read is a rejected line (hunt77: a
            // damaged row group of 20,000 rows was "1 line rejected", the
            // file's lines 20,000 short): the footer gives its count.
            let rows = file.row_groups().nth(index).map_or(0, |(n, _)| n);
            let lost = (first + rows).saturating_sub(next);
            let lost = reject_rows(&mut self.rejects, source, next, lost, e.to_string());
            self.counts[0] += lost;
            self.counts[2] += lost;
        }
    }

    fn take(&mut self, mut parsed: Result<CallRecord<'_>, crate::rejects::Reject>, at: Location) {
        if let (Ok(record), Some(pairs)) = (&mut parsed, self.partitions.get(at.source)) {
            if !pairs.is_empty() {
                partition::apply(record, pairs);
            }
        }
        match &mut parsed {
            // Borrowed where it lies: moving a record out of the `Result`
            // copied its ~600 bytes on every line.
            // A stream's chunk with usage: one per stream is its call
            // (every chunk of some providers' streams carries the usage so
            // far), kept as Claude Code's copies are.
            Ok(record)
                if record.request_id.is_some()
                    && (record.stream_chunk || (record.gemini_response && self.gemini_streams)) =>
            {
                // A stream seen: Gemini's finished responses are kept with
                // the chunks from now on (a stream's last chunk is one).
                self.gemini_streams |= record.stream_chunk;
                let id = record.request_id.as_deref().unwrap_or_default();
                let key = crate::record::dedup_key::DedupKey::stream(id, record);
                if record.served_model.is_some() {
                    self.sink.settle_model(record);
                }
                crate::record::tags::drop_unkept(&mut record.tags);
                self.dedup.offer(key, std::mem::take(record), at);
            }
            Ok(record) => {
                if record.gemini_response {
                    if let Some(id) = record.request_id.as_deref() {
                        let key = crate::record::dedup_key::DedupKey::stream(id, record);
                        self.dedup.counted(key.key);
                    }
                }
                self.counts[1] += 1;
                if let Some(field) = record.unread_field {
                    self.unread_field(field, at);
                }
                if record.served_model.is_some() {
                    self.sink.settle_model(record);
                }
                crate::record::tags::drop_unkept(&mut record.tags);
                self.sink.record(record, at);
                crate::record::fields::recycle_tags(std::mem::take(&mut record.tags));
            }
            Err(reject) => {
                if let Some(evidence) = reject.evidence.take() {
                    self.sink.cache_hit(&evidence, at);
                }
                self.counts[if reject.reason.is_skip() { 3 } else { 2 }] += 1;
                self.rejects.add(
                    at.source,
                    RejectSample {
                        file: String::new(),
                        line: at.line,
                        reason: reject.reason,
                        detail: std::mem::take(&mut reject.detail),
                    },
                );
            }
        }
    }

    #[cold]
    #[inline(never)]
    fn unread_field(&mut self, field: &str, at: Location) {
        self.rejects.add(at.source, unread_field(field, at));
    }
}

/// A call read without a field of the wrong type: counted apart, with a
/// sample, so the report can say which and where.
fn unread_field(field: &str, at: Location) -> RejectSample {
    RejectSample {
        file: String::new(),
        line: at.line,
        reason: RejectReason::FieldIgnored,
        detail: match field {
            // Only a time before any LLM API is ignored (an unreadable one
            // is a bad timestamp): see `record::fields::finish`.
            "timestamp" => "timestamp: before 2015, when no LLM API existed (an epoch of 0? \
                            seconds since a trace's start? a spreadsheet's serial date read as \
                            seconds? an unset 0001-01-01 or 9999-12-31?), read as absent"
                .to_string(),
            // A negative one too (hunt66: said to be of the wrong type).
            "cost" => "cost: of the wrong type, below zero (a refund's row? a placeholder -1?) \
                       or a billion dollars or more (a corrupt column?), read as absent"
                .to_string(),
            "input_tokens" => "input tokens: none logged beside the output of a successful \
                               call (left out by the logger?), priced as none"
                .to_string(),
            _ => format!("{field}: wrong type, read as absent"),
        },
    }
}

/// The format of a file: the mapping's, the one forced by `--input-format`,
/// or the one detected from the file's first lines.
fn choose_format(head: &[u8], options: &IngestOptions, index: usize) -> Result<Format, String> {
    let known = options.formats.get(index).and_then(Option::as_ref);
    match (&options.mapping, &options.input_format, known) {
        (None, Some(f), _) | (None, None, Some(f)) => Ok(f.clone()),
        _ => formats::detect(head, options.mapping.as_ref()),
    }
}

/// Counts bytes read from the underlying file, for progress.
struct Counting<R> {
    inner: R,
    progress: Option<Arc<Progress>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(p) = &self.progress {
            p.bytes.fetch_add(n as u64, Ordering::Relaxed);
        }
        Ok(n)
    }
}

fn file_reject(
    rejects: &mut Rejects,
    source: usize,
    line: u64,
    reason: RejectReason,
    detail: String,
) {
    rejects.add(
        source,
        RejectSample {
            file: String::new(),
            line,
            reason,
            detail,
        },
    );
}

/// A reader that counts the bytes it gives ([`SourceSummary::resumed_bytes`]).
struct Counted<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Reads one source into chunks. Returns its encoding and format names.
fn produce(
    index: usize,
    source: &Source,
    options: &IngestOptions,
    (send, free): (&mut Deliver<'_>, &Receiver<Vec<u8>>),
    (rejects, next_line, content, whole): (
        &mut Rejects,
        &mut u64,
        &mut Option<Content>,
        &mut Option<WholeDigest>,
    ),
    resumed: &Arc<AtomicU64>,
) -> (&'static str, String) {
    if let (Some(start), Source::File(path)) = (start_of(options, index), source) {
        // The rest of a plain JSON-lines file read before: no sniffing (its
        // middle has no magic bytes), and the lines go on where they ended.
        use std::io::{Seek, SeekFrom};
        let opened = std::fs::File::open(path)
            .and_then(|mut f| f.seek(SeekFrom::Start(start.offset)).map(|_| f));
        return match opened {
            Ok(f) => {
                let progress = options.progress.as_deref();
                let f = Counted {
                    inner: f,
                    count: resumed.clone(),
                };
                let stream: Box<dyn Read + Send> = match end_of(options, index) {
                    Some(end) => Box::new(f.take(end.saturating_sub(start.offset))),
                    None => Box::new(f),
                };
                let format = read_chunks(
                    index,
                    stream,
                    progress,
                    options,
                    (&mut *send, free),
                    // The tail of a file says nothing of its whole text.
                    (rejects, next_line, &mut ContentHasher::default()),
                    Some(Layout::Lines),
                );
                ("plain", format)
            }
            Err(e) => {
                file_reject(
                    rejects,
                    index,
                    0,
                    RejectReason::UnreadableFile,
                    format!("cannot open: {e}"),
                );
                ("unknown", "none".into())
            }
        };
    }
    let (encoding, stream) = match source::open(source) {
        Ok((Encoding::Plain, stream)) => match end_of(options, index) {
            Some(end) => (
                Encoding::Plain,
                Box::new(stream.take(end)) as Box<dyn Read + Send>,
            ),
            None => (Encoding::Plain, stream),
        },
        Ok(opened) => opened,
        Err(e) => {
            file_reject(
                rejects,
                index,
                0,
                RejectReason::UnreadableFile,
                format!("cannot open: {e}"),
            );
            return ("unknown", "none".into());
        }
    };
    let encoding_name = match encoding {
        Encoding::Plain => "plain",
        Encoding::Gzip => "gzip",
        Encoding::Zstd => "zstd",
        Encoding::Parquet => "parquet",
    };
    if encoding == Encoding::Parquet {
        let name = match source {
            Source::File(path) if std::fs::metadata(path).is_ok_and(|m| m.is_file()) => {
                drop(stream);
                produce_parquet(index, path, None, options, send, rejects)
            }
            // Read by row group from its footer, which a pipe, a FIFO or
            // stdin gives last: saved to a temporary file first (hunt78: a
            // FIFO named .parquet hung; hunt185: stdin refused, a $0
            // report).
            _ => {
                let mut stream = stream;
                let saved = tempfile::NamedTempFile::new().and_then(|mut f| {
                    std::io::copy(&mut stream, &mut f)?;
                    Ok(f)
                });
                match saved {
                    Ok(f) => {
                        let saved = f.into_temp_path();
                        let path = saved.to_path_buf();
                        produce_parquet(index, &path, Some(saved), options, send, rejects)
                    }
                    Err(e) => {
                        file_reject(
                            rejects,
                            index,
                            0,
                            RejectReason::UnreadableFile,
                            format!("Parquet from a pipe or stdin could not be saved to a temporary file to read from its footer: {e}"),
                        );
                        "none".into()
                    }
                }
            }
        };
        return (encoding_name, name);
    }
    // CSV is told by the file's name, or by a header line when the name
    // says nothing; JSON arrays and documents by the first bytes
    // (`read_chunks`).
    let layout = match source {
        Source::File(p) if container::is_csv_path(p) => Some(Layout::Csv),
        _ => None,
    };
    // Count compressed bytes for files (stdin's size is unknown anyway).
    let stream: Box<dyn Read + Send> = match (source, &options.progress) {
        // (Only a regular file can be opened again from its start: a pipe
        // or a FIFO, `<(gzip -c …)` or `/dev/stdin`, gave no calls or hung,
        // hunt77.)
        (Source::File(p), Some(progress))
            if encoding != Encoding::Plain && std::fs::metadata(p).is_ok_and(|m| m.is_file()) =>
        {
            // Re-open through a counter so progress follows the compressed file.
            match std::fs::File::open(p) {
                Ok(f) => {
                    let counted = Counting {
                        inner: f,
                        progress: Some(progress.clone()),
                    };
                    let buffered = std::io::BufReader::with_capacity(1 << 20, counted);
                    match encoding {
                        Encoding::Gzip => Box::new(crate::source::Gzip::new(buffered)),
                        _ => match crate::source::zstd_decoder(buffered) {
                            Ok(d) => Box::new(d),
                            Err(_) => stream,
                        },
                    }
                }
                Err(_) => stream,
            }
        }
        // Plain files and stdin: `read_chunks` counts what it reads. (A
        // `Counting` wrapper here would hide the file's `read_buf`, and
        // std's default `read_buf` zero-fills every chunk before reading.)
        (_, Some(progress)) => {
            let mut hasher = top_hasher(source, encoding, layout, options);
            let format = read_chunks(
                index,
                stream,
                Some(progress),
                options,
                (&mut *send, free),
                (rejects, next_line, &mut hasher),
                layout,
            );
            *content = Some(hasher.finish());
            *whole = hasher.whole_digest();
            return (encoding_name, format);
        }
        _ => stream,
    };
    let mut hasher = top_hasher(source, encoding, layout, options);
    let format = read_chunks(
        index,
        stream,
        None,
        options,
        (&mut *send, free),
        (rejects, next_line, &mut hasher),
        layout,
    );
    *content = Some(hasher.finish());
    *whole = hasher.whole_digest();
    (encoding_name, format)
}

/// The hasher of a file read from its start: one that digests every byte
/// too when asked to and the bytes read are the file's own (a plain file
/// whose layout its name does not tell; [`read_chunks`] drops the digest if
/// its first bytes tell one).
fn top_hasher(
    source: &Source,
    encoding: Encoding,
    layout: Option<Layout>,
    options: &IngestOptions,
) -> ContentHasher {
    if options.digest_files
        && encoding == Encoding::Plain
        && layout.is_none()
        && matches!(source, Source::File(_))
    {
        ContentHasher::whole()
    } else {
        ContentHasher::default()
    }
}

/// The format of a file read as UTF-16 text: said in it, so nobody (the
/// store) takes its bytes for UTF-8 lines.
fn said_utf16(format: String) -> String {
    match format.as_str() {
        "none" => format,
        _ => format!("{format} (UTF-16)"),
    }
}

/// A stream whose next read fails with the error it holds, then ends.
struct FailedRead(Option<std::io::Error>);

impl Read for FailedRead {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        match self.0.take() {
            Some(e) => Err(e),
            None => Ok(0),
        }
    }
}

/// How many bytes of source `index` to read at most, if not all.
fn end_of(options: &IngestOptions, index: usize) -> Option<u64> {
    options.ends.get(index).copied().flatten()
}

/// Where source `index` is to be read from, if not from its beginning.
fn start_of(options: &IngestOptions, index: usize) -> Option<Start> {
    options
        .starts
        .get(index)
        .copied()
        .flatten()
        .filter(|s| s.offset > 0 || s.first_line > 1)
}

/// Cuts a byte stream into line-aligned chunks and sends them. With no
/// `layout`, the first bytes tell JSON lines from a JSON array or multi-line
/// documents, which go through [`JsonRecords`] (see [`crate::source::container`]).
fn read_chunks(
    index: usize,
    mut stream: Box<dyn Read + Send>,
    count: Option<&Progress>,
    options: &IngestOptions,
    (send, free): (&mut Deliver<'_>, &Receiver<Vec<u8>>),
    // What reading finds besides records: rejects, (eager numbering) where
    // the next line's number is, and what the text looks like.
    (rejects, next_line, hasher): (&mut Rejects, &mut u64, &mut ContentHasher),
    mut layout: Option<Layout>,
) -> String {
    // A CSV told by its name may still be UTF-16 (Excel's "Unicode Text"
    // export): its mark is looked for before the CSV adapter reads it, and
    // the text read as UTF-8 from there on (as for any other layout).
    if layout == Some(Layout::Csv) {
        let mut mark = Vec::with_capacity(2);
        let read = (&mut stream).take(2).read_to_end(&mut mark);
        let first = std::io::Cursor::new(mark);
        stream = match read {
            Ok(_) => {
                if let Some(big_endian) = container::utf16_bom(first.get_ref()) {
                    let text = Box::new(Utf16Text::new(first.chain(stream), big_endian));
                    let inner = read_chunks(
                        index,
                        text,
                        count,
                        options,
                        (&mut *send, free),
                        (rejects, next_line, hasher),
                        layout,
                    );
                    return said_utf16(inner);
                }
                Box::new(first.chain(stream))
            }
            // The error is met where it would have been: after the bytes
            // read before it.
            Err(e) => Box::new(first.chain(FailedRead(Some(e)))),
        };
    }
    // The layouts that are no JSON lines as they stand are read through an
    // adapter that makes them so.
    match layout {
        Some(Layout::Csv) => stream = Box::new(CsvRecords::new(stream)),
        Some(Layout::TimePrefixed) => {
            stream = Box::new(container::TimePrefixedLines::new(stream));
        }
        Some(Layout::EventStream) => {
            stream = Box::new(container::EventStreamLines::new(stream));
        }
        Some(Layout::JsonDocuments) => stream = Box::new(JsonRecords::new(stream)),
        Some(Layout::Wrapped) => {
            stream = Box::new(JsonRecords::new(container::PageRecords::new(stream)));
        }
        Some(Layout::Lines) | None => {}
    }
    let chunk_bytes = options.chunk_bytes.max(1024);
    // Grows (up to max_line_bytes) while a single line is longer than a chunk.
    let mut target = chunk_bytes;
    let mut format: Option<Arc<Format>> = None;
    let mut format_name = String::from("none");
    let mut unrecognized = false;
    // Chunks sent so far, and lines dropped since the last one (see
    // `Numbering::Counted`): what a location made here is pending on.
    let mut seq: u32 = 0;
    let mut dropped: u64 = 0;
    // With `eager_lines`, `next_line` is the number of the next chunk's
    // first line, less the lines dropped just before it.
    let eager = options.eager_lines;
    let here = |seq: u32, dropped: u64, next_line: u64| {
        if eager {
            next_line + dropped
        } else {
            lines::pending(seq, dropped)
        }
    };
    let mut carry: Vec<u8> = Vec::new();
    // While skipping an over-long line, bytes are dropped until its newline.
    let mut skipping = false;
    loop {
        let mut buf = free.try_recv().unwrap_or_default();
        buf.clear();
        buf.extend_from_slice(&carry);
        carry.clear();
        let mut eof = false;
        let mut read_error: Option<std::io::Error> = None;
        if buf.len() < target {
            // `take` stops early only at the end of the stream, so a short
            // read means end of input. read_to_end fills spare capacity
            // without zeroing it first.
            let want = (target - buf.len()) as u64;
            buf.reserve(want as usize);
            let before = buf.len();
            let result = (&mut stream).take(want).read_to_end(&mut buf);
            hasher.add(&buf[before..]);
            if let Some(p) = count {
                p.bytes
                    .fetch_add((buf.len() - before) as u64, Ordering::Relaxed);
            }
            match result {
                Ok(n) if (n as u64) < want => eof = true,
                Ok(_) => {}
                Err(e) => {
                    read_error = Some(e);
                    eof = true;
                }
            }
        }
        if layout.is_none() {
            // Once per file, on its first bytes. UTF-16 text is read as
            // UTF-8 from here on (its mark becomes UTF-8's); a UTF-8
            // byte-order mark is not part of the first line (CSV's is
            // dropped from the header by `CsvRecords`).
            if let Some(big_endian) = container::utf16_bom(&buf) {
                // The inner read sees the text from its start again (the
                // file's bytes still digested below it).
                let (fresh, stream) = hasher.below_adapter(stream);
                *hasher = fresh;
                let rest = std::io::Cursor::new(std::mem::take(&mut buf)).chain(stream);
                let inner = read_chunks(
                    index,
                    Box::new(Utf16Text::new(rest, big_endian)),
                    count,
                    options,
                    (&mut *send, free),
                    (rejects, next_line, hasher),
                    None,
                );
                return said_utf16(inner);
            }
            if buf.starts_with(b"\xef\xbb\xbf") {
                buf.drain(..3);
            }
            // A tar archive (`.tar`, or `.tar.gz` once decompressed): its
            // headers are no lines, and each member's first line was glued
            // to one and lost (hunt101): said as zip archives are.
            if container::is_tar(&buf) {
                file_reject(
                    rejects,
                    index,
                    0,
                    RejectReason::UnreadableFile,
                    "a tar archive: tokenaudit reads the logs, not their archive; extract them first (`tar xf`) and pass their folder".into(),
                );
                hasher.drain(&mut stream);
                return "none".into();
            }
            // Told by the first bytes: JSON lines after a time each
            // (CloudWatch Logs' export), CSV with no name to tell it
            // (stdin) by its header, a JSON array or documents.
            let told = if container::is_time_prefixed(&buf) {
                Some(Layout::TimePrefixed)
            } else if container::is_event_stream(&buf) {
                Some(Layout::EventStream)
            } else if container::wrapper_key(&buf).is_some() {
                Some(Layout::Wrapped)
            } else if container::looks_like_csv_header(&buf) {
                Some(Layout::Csv)
            } else if container::is_json_documents(&buf) {
                Some(Layout::JsonDocuments)
            } else {
                None
            };
            if told.is_some() {
                // The adapter's text is hashed from its start (the file's
                // bytes still digested below it).
                let (fresh, stream) = hasher.below_adapter(stream);
                *hasher = fresh;
                let rest = std::io::Cursor::new(std::mem::take(&mut buf)).chain(stream);
                return read_chunks(
                    index,
                    Box::new(rest),
                    count,
                    options,
                    (&mut *send, free),
                    (rejects, next_line, hasher),
                    told,
                );
            }
            layout = Some(Layout::Lines);
        }
        if skipping {
            match memchr::memchr(b'\n', &buf) {
                Some(i) => {
                    buf.drain(..=i);
                    dropped += 1;
                    skipping = false;
                    // The line ended the read: read on, as below (an empty
                    // buffer would find no line and spin on a zero read).
                    if buf.is_empty() && !eof {
                        continue;
                    }
                }
                None => {
                    buf.clear();
                    // All of it was the over-long line: read on. (Falling
                    // through would set the next read's size from an empty
                    // carry, to zero, and spin forever on a line more than
                    // a chunk past the limit.)
                    if !eof {
                        continue;
                    }
                }
            }
        }
        let cut = if eof {
            buf.len()
        } else {
            match memchr::memrchr(b'\n', &buf) {
                Some(i) => i + 1,
                None => {
                    if buf.len() >= options.max_line_bytes {
                        target = chunk_bytes;
                        file_reject(
                            rejects,
                            index,
                            here(seq, dropped, *next_line),
                            RejectReason::LineTooLong,
                            format!("line longer than {} bytes", options.max_line_bytes),
                        );
                        skipping = true;
                        continue;
                    }
                    // Keep reading: the chunk must hold at least one whole line.
                    carry.extend_from_slice(&buf);
                    target = (carry.len() * 2).min(options.max_line_bytes);
                    continue;
                }
            }
        };
        // A stream that failed (a cut .gz) ends in a partial line: the
        // `truncated_file` reject at its number stands for it (it was
        // counted a second time, as `malformed_json`). A last line that is
        // whole JSON is read.
        let cut = if read_error.is_some() {
            let start = memchr::memrchr(b'\n', &buf[..cut]).map_or(0, |i| i + 1);
            let partial =
                serde_json::from_slice::<serde::de::IgnoredAny>(&buf[start..cut]).is_err();
            if partial {
                start
            } else {
                cut
            }
        } else {
            cut
        };
        if format.is_none() && !unrecognized {
            match choose_format(&buf[..cut], options, index) {
                Ok(f) => {
                    format_name = format!("{}{}", f.name(), layout.map_or("", Layout::suffix));
                    format = Some(Arc::new(f));
                }
                Err(reason) => {
                    file_reject(rejects, index, 0, RejectReason::UnrecognizedFormat, reason);
                    unrecognized = true;
                }
            }
        }
        // A format read in order gets the whole file as one chunk (up to
        // `max_whole_file_bytes`: a long Codex session with large tool
        // outputs passes 64 MiB; past it the file is cut, and lines that
        // need what an earlier chunk said are counted as rejects).
        let whole = options.max_whole_file_bytes.max(options.max_line_bytes);
        if !eof && format.as_deref().is_some_and(Format::whole_file) && buf.len() < whole {
            carry.extend_from_slice(&buf);
            target = (carry.len() * 2).min(whole);
            continue;
        }
        carry.extend_from_slice(&buf[cut..]);
        buf.truncate(cut);
        target = chunk_bytes;
        if let Some(f) = &format {
            if !buf.is_empty() {
                let numbering = if eager {
                    let first = *next_line + dropped;
                    let newlines = memchr::memchr_iter(b'\n', &buf).count() as u64;
                    *next_line = first + newlines + u64::from(buf.last() != Some(&b'\n'));
                    Numbering::From(first)
                } else {
                    Numbering::Counted { seq, dropped }
                };
                (seq, dropped) = (seq + 1, 0);
                let chunk = Chunk {
                    source: index,
                    format: f.clone(),
                    numbering,
                    body: Body::Lines(buf),
                };
                if !send(chunk) {
                    return format_name;
                }
            }
        }
        if let Some(e) = read_error {
            // The line after the last one read; `Rejects::resolve_lines`
            // says which in the detail once it is known.
            let line = here(seq, dropped, *next_line);
            let detail = if eager {
                crate::rejects::truncated_detail(line, &e.to_string())
            } else {
                e.to_string()
            };
            file_reject(rejects, index, line, RejectReason::TruncatedFile, detail);
            return format_name;
        }
        if eof && carry.is_empty() {
            return format_name;
        }
    }
}

/// Rows per decoded batch of a row group.
const BATCH_ROWS: usize = 8 * 1024;

/// Rows whose JSON form detection looks at, up to as many bytes of it as
/// of a text file (`formats::detect` reads every line of the head: hunt184,
/// a table opening with 50 polls of `/v1/models`, no model and no usage,
/// was refused whole).
const DETECT_ROWS: usize = 4096;
const DETECT_BYTES: usize = 1 << 20;

/// Reads a Parquet file. Its format is detected on its first rows' JSON
/// form, as for any file. A gateway-shaped or mapped file is read column by
/// column ([`crate::parquet::columns`]): its row groups go to the workers, which
/// decode them in parallel. Any other file (or one the column plan cannot
/// follow) is read as JSON lines made from its rows, so every reader works
/// on Parquet too.
fn produce_parquet(
    index: usize,
    path: &Path,
    saved: Option<tempfile::TempPath>,
    options: &IngestOptions,
    send: &mut Deliver<'_>,
    rejects: &mut Rejects,
) -> String {
    let opened = match saved {
        Some(saved) => ParquetFile::open_saved(saved),
        None => ParquetFile::open(path),
    };
    let opened = opened.and_then(|file| {
        let head = crate::parquet::head_json(&file, DETECT_ROWS, DETECT_BYTES)?;
        Ok((file, head))
    });
    let (file, head) = match opened {
        Ok(opened) => opened,
        Err(e) => {
            file_reject(
                rejects,
                index,
                0,
                RejectReason::UnreadableFile,
                e.to_string(),
            );
            return "none".into();
        }
    };
    if head.is_empty() {
        return "none".into(); // no rows
    }
    let format = match choose_format(&head, options, index) {
        Ok(f) => Arc::new(f),
        Err(reason) => {
            file_reject(rejects, index, 0, RejectReason::UnrecognizedFormat, reason);
            return "none".into();
        }
    };
    let name = format.name().to_string();
    let plan = match &*format {
        Format::Gateway => ColumnPlan::new(file.schema(), None).ok(),
        Format::Mapped(m) => ColumnPlan::new(file.schema(), Some(m.clone())).ok(),
        _ => None,
    };
    let Some(plan) = plan else {
        produce_parquet_lines(index, path, format, options, send, rejects);
        return name;
    };
    let (file, plan) = (Arc::new(file), Arc::new(plan));
    let row_groups: Vec<(u64, u64)> = file.row_groups().collect();
    let mut first_row = 0u64;
    for (i, (rows, bytes)) in row_groups.into_iter().enumerate() {
        if rows > 0 {
            if let Some(p) = &options.progress {
                p.bytes.fetch_add(bytes, Ordering::Relaxed);
            }
            let chunk = Chunk {
                source: index,
                format: format.clone(),
                numbering: Numbering::From(first_row + 1),
                body: Body::RowGroup {
                    file: file.clone(),
                    plan: plan.clone(),
                    index: i,
                },
            };
            if !send(chunk) {
                break;
            }
        }
        first_row += rows;
    }
    name
}

/// The fallback: each batch of rows becomes JSON lines for `format`'s
/// line reader.
fn produce_parquet_lines(
    index: usize,
    path: &Path,
    format: Arc<Format>,
    options: &IngestOptions,
    send: &mut Deliver<'_>,
    rejects: &mut Rejects,
) {
    let result = crate::parquet::read_parquet(path, 16 * 1024, |batch| {
        let mut data = Vec::with_capacity(batch.rows.len() * 256);
        for row in &batch.rows {
            // Serializing a Value cannot fail.
            serde_json::to_writer(&mut data, row).expect("a JSON value serializes");
            data.push(b'\n');
        }
        if let Some(p) = &options.progress {
            p.bytes.fetch_add(data.len() as u64, Ordering::Relaxed);
        }
        send(Chunk {
            source: index,
            format: format.clone(),
            numbering: Numbering::From(batch.first_row + 1),
            body: Body::Lines(data),
        })
    });
    match result {
        // Each damaged group's rows are rejected lines, as the column
        // reader counts them.
        Ok(stats) => {
            for (first, lost, why) in stats.bad_groups {
                rejects.unread_lines += reject_rows(rejects, index, first + 1, lost, why);
            }
        }
        Err(e) => file_reject(
            rejects,
            index,
            0,
            RejectReason::TruncatedFile,
            e.to_string(),
        ),
    }
}

/// Rejects the `lost` rows (at least one) of a Parquet row group that did
/// not decode, from row `first` (1-based): one sample there, every row
/// counted. Returns how many rows were rejected.
fn reject_rows(rejects: &mut Rejects, source: usize, first: u64, lost: u64, why: String) -> u64 {
    let lost = lost.max(1);
    let detail = if lost > 1 {
        format!(
            "{lost} rows not read (rows {first} to {}): {why}",
            first + lost - 1
        )
    } else {
        why
    };
    rejects.add(
        source,
        RejectSample {
            file: String::new(),
            line: first,
            reason: RejectReason::TruncatedFile,
            detail,
        },
    );
    rejects.add_count(source, RejectReason::TruncatedFile, lost - 1);
    lost
}

/// The reject of a line the CSV reader wrote for a row it could not read
/// (hunt63: such rows were said to be malformed JSON).
fn csv_reject(line: &[u8]) -> Option<Reject> {
    use crate::source::container::{
        LONG_ROW, SHORT_ROW, TOTALS_ROW, UNCLOSED_QUOTE, UNREADABLE_ROW,
    };
    if line == TOTALS_ROW {
        return Some(Reject::new(
            RejectReason::NotACall,
            String::from_utf8_lossy(&TOTALS_ROW[1..]).into_owned(),
        ));
    }
    [UNCLOSED_QUOTE, UNREADABLE_ROW, SHORT_ROW, LONG_ROW]
        .into_iter()
        .find(|m| line == *m)
        .map(|m| {
            Reject::new(
                RejectReason::MalformedCsv,
                String::from_utf8_lossy(&m[1..]).into_owned(),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// Keeps each record's request id and location.
    struct Seen(Vec<(String, Location)>);

    impl RecordSink for Seen {
        fn record(&mut self, r: &CallRecord<'_>, at: Location) {
            let id = r.request_id.as_deref().unwrap_or_default().to_string();
            self.0.push((id, at));
        }
    }

    /// Line `n` of a test log: a call whose request id is its line number,
    /// or, every so often, a malformed line or a blank one, and (if `long`)
    /// line 1500 over the length limit.
    fn line(n: u64, long: bool) -> String {
        match n {
            _ if n.is_multiple_of(97) => "{not json\n".into(),
            1500 if long => format!(
                "{{\"model\":\"gpt-4o\",\"pad\":\"{}\"}}\n",
                "x".repeat(5000)
            ),
            _ if n.is_multiple_of(50) => "\n".into(),
            _ => format!(
                "{{\"model\":\"gpt-4o\",\"request_id\":\"r{n}\",\
                 \"usage\":{{\"prompt_tokens\":1,\"completion_tokens\":1}}}}\n"
            ),
        }
    }

    /// A Codex session is read in order (a call's model is the turn_context
    /// before it): a file past the longest line accepted is still one
    /// chunk, and no call after the first chunk's size loses its model.
    /// Cut at `max_whole_file_bytes`, the calls after the cut are rejects.
    #[test]
    fn a_codex_file_past_the_line_limit_is_read_whole() {
        struct Models(Vec<String>);
        impl RecordSink for Models {
            fn record(&mut self, r: &CallRecord<'_>, _at: Location) {
                self.0.push(r.model.to_string());
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rollout-2025-11-20T09-00-00-s.jsonl");
        let mut text = String::from(
            "{\"timestamp\":\"2025-11-20T09:00:00Z\",\"type\":\"session_meta\",\"payload\":{\"id\":\"s\",\"cwd\":\"/r\"}}\n\
             {\"timestamp\":\"2025-11-20T09:00:01Z\",\"type\":\"turn_context\",\"payload\":{\"cwd\":\"/r\",\"model\":\"gpt-5\"}}\n",
        );
        for n in 1..=200u64 {
            let pad = "x".repeat(1000);
            text += &format!(
                "{{\"timestamp\":\"2025-11-20T09:01:00Z\",\"type\":\"response_item\",\"payload\":{{\"type\":\"function_call_output\",\"output\":\"{pad}\"}}}}\n"
            );
            let usage = |k: u64| {
                format!("{{\"input_tokens\":{},\"cached_input_tokens\":0,\"output_tokens\":{k},\"reasoning_output_tokens\":0,\"total_tokens\":{}}}", 100 * k, 101 * k)
            };
            text += &format!(
                "{{\"timestamp\":\"2025-11-20T09:01:00Z\",\"type\":\"event_msg\",\"payload\":{{\"type\":\"token_count\",\"info\":{{\"total_token_usage\":{},\"last_token_usage\":{}}}}}}}\n",
                usage(n),
                usage(1)
            );
        }
        std::fs::write(&path, &text).unwrap();
        assert!(text.len() > 200_000);
        let read = |whole: usize| {
            let options = IngestOptions {
                threads: 2,
                chunk_bytes: 1024,
                max_line_bytes: 4096,
                max_whole_file_bytes: whole,
                ..Default::default()
            };
            let (sinks, summary) = ingest(&[Source::File(path.clone())], &options, || {
                Models(Vec::new())
            });
            let models: Vec<String> = sinks.into_iter().flat_map(|s| s.0).collect();
            (models, summary.rejects.count(RejectReason::MissingModel))
        };
        let (models, missing) = read(1 << 30);
        assert_eq!(models.len(), 200);
        assert!(models.iter().all(|m| m == "gpt-5"));
        assert_eq!(missing, 0);
        // Cut at 64 KiB: the calls after the first cut have no model.
        let (models, missing) = read(64 << 10);
        assert!(
            models.len() < 200 && missing > 0,
            "{} {missing}",
            models.len()
        );
        assert_eq!(models.len() as u64 + missing, 200);
    }

    /// A store reads a file up to the size it planned, from where it ended
    /// last time: lines appended meanwhile wait for the next ingest.
    #[test]
    fn reads_stop_at_the_planned_end() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.jsonl");
        let text: String = (1..=10).map(|n| line(n, false)).collect();
        std::fs::write(&a, &text).unwrap();
        let cut = |n: usize| -> u64 { (1..=n as u64).map(|k| line(k, false).len() as u64).sum() };
        let read = |start: Option<Start>, end: Option<u64>| {
            let options = IngestOptions {
                threads: 1,
                starts: vec![start],
                ends: vec![end],
                ..Default::default()
            };
            let (sinks, summary) =
                ingest(&[Source::File(a.clone())], &options, || Seen(Vec::new()));
            let mut ids: Vec<String> = sinks
                .into_iter()
                .flat_map(|s| s.0)
                .map(|(id, _)| id)
                .collect();
            ids.sort_by_key(|id| id[1..].parse::<u32>().unwrap());
            (ids, summary.sources[0].lines)
        };
        assert_eq!(
            read(None, Some(cut(4))),
            (vec!["r1".into(), "r2".into(), "r3".into(), "r4".into()], 4)
        );
        let from = Some(Start {
            offset: cut(4),
            first_line: 5,
        });
        assert_eq!(
            read(from, Some(cut(7))),
            (vec!["r5".into(), "r6".into(), "r7".into()], 3)
        );
        assert_eq!(read(None, None).0.len(), 10);
    }

    /// With `digest_files`, a plain file's digest is of its bytes as read,
    /// whatever adapter its text goes through (hunt106: one read through an
    /// adapter was digested after the ingest, as it was by then), a refused
    /// file's of all its bytes, and one cut short of its planned size is of
    /// the bytes it gave: fewer than planned.
    #[test]
    fn a_plain_files_digest_is_of_its_bytes_through_any_adapter() {
        let dir = tempfile::tempdir().unwrap();
        let calls: String = (1..=300).map(|n| line(n, false)).collect();
        let rows: String =
            std::iter::once("request_id,model,input_tokens,output_tokens\n".to_string())
                .chain((1..=300).map(|n| format!("r{n},gpt-4o,10,5\n")))
                .collect();
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(calls.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let mut tar = vec![0u8; 512];
        tar[..6].copy_from_slice(b"a.json");
        tar[257..262].copy_from_slice(b"ustar");
        tar[148..156].fill(b' ');
        let sum: u32 = tar.iter().map(|&b| u32::from(b)).sum();
        tar[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
        tar.extend(calls.as_bytes());
        let files: Vec<(&str, Vec<u8>)> = vec![
            ("plain.jsonl", calls.clone().into_bytes()),
            (
                "bom.jsonl",
                [&b"\xef\xbb\xbf"[..], calls.as_bytes()].concat(),
            ),
            ("utf16.jsonl", utf16),
            ("export.log", rows.into_bytes()),
            (
                "array.json",
                format!("[{}]", calls.trim_end().replace('\n', ",\n")).into_bytes(),
            ),
            ("logs.tar", tar),
        ];
        for (name, bytes) in &files {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            let digest = |end: u64| {
                let options = IngestOptions {
                    threads: 2,
                    chunk_bytes: 1024,
                    digest_files: true,
                    ends: vec![Some(end)],
                    ..Default::default()
                };
                let (sinks, summary) =
                    ingest(&[Source::File(path.clone())], &options, || Seen(Vec::new()));
                let calls: usize = sinks.iter().map(|s| s.0.len()).sum();
                // Each file's calls read (the archive refused).
                let expected = match *name {
                    "logs.tar" => 0,
                    "export.log" => 300,
                    // Less the malformed and blank lines.
                    _ => 300 - 3 - 6,
                };
                assert_eq!(calls, expected, "{name}");
                summary.sources[0].whole
            };
            let all = bytes.len() as u64;
            assert_eq!(
                digest(all),
                Some(WholeDigest {
                    hash: xxhash_rust::xxh3::xxh3_64(bytes),
                    bytes: all
                }),
                "{name}"
            );
            // Planned bigger than it is (cut while it was read).
            let short = digest(all + 100).unwrap();
            assert_eq!(short.bytes, all, "{name}");
        }
    }

    /// Lines are numbered after the fact (`crate::source::lines`): with 1 KiB
    /// chunks over two workers, every record, reject and truncation still
    /// gets its own line, per file.
    #[test]
    fn line_numbers_hold_across_small_chunks_long_lines_and_truncation() {
        let dir = tempfile::tempdir().unwrap();
        let text: String = (1..=3000).map(|n| line(n, true)).collect();
        let a = dir.path().join("a.jsonl");
        std::fs::write(&a, &text).unwrap();
        let b = dir.path().join("b.jsonl");
        std::fs::write(&b, (1..=300).map(|n| line(n, true)).collect::<String>()).unwrap();
        let text: String = (1..=3000).map(|n| line(n, false)).collect();
        // A gzip file cut in the middle: the lines before the cut survive.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(text.as_bytes()).unwrap();
        let gz = gz.finish().unwrap();
        let c = dir.path().join("c.jsonl.gz");
        std::fs::write(&c, &gz[..gz.len() / 2]).unwrap();
        let mut prefix = Vec::new();
        let _ = flate2::read::GzDecoder::new(&gz[..gz.len() / 2]).read_to_end(&mut prefix);
        let complete = prefix.iter().filter(|&&b| b == b'\n').count() as u64;
        assert!(complete > 500 && complete < 2900, "{complete}");

        let options = IngestOptions {
            threads: 2,
            chunk_bytes: 1024,
            max_line_bytes: 4096,
            ..IngestOptions::default()
        };
        let sources = [Source::File(a), Source::File(b), Source::File(c)];
        let (sinks, summary) = ingest(&sources, &options, || Seen(Vec::new()));

        let mut seen: Vec<(usize, u64)> = Vec::new();
        for (id, at) in sinks.into_iter().flat_map(|s| s.0) {
            let n = summary.line(at);
            assert_eq!(id, format!("r{n}"), "source {}", at.source);
            seen.push((at.source, n));
        }
        seen.sort_unstable();
        let calls = |n: u64| (1..=n).filter(|&n| n % 97 != 0 && n % 50 != 0);
        let want: Vec<(usize, u64)> = calls(3000)
            .filter(|&n| n != 1500)
            .map(|n| (0, n))
            .chain(calls(300).map(|n| (1, n)))
            // A cut line is a reject, not a record.
            .chain(calls(complete).map(|n| (2, n)))
            .collect();
        assert_eq!(seen, want);

        let rejects: Vec<(String, u64, RejectReason)> = summary
            .rejects
            .samples()
            .into_iter()
            .map(|s| {
                (
                    s.file.rsplit('/').next().unwrap().to_string(),
                    s.line,
                    s.reason,
                )
            })
            .collect();
        let mut expected: Vec<(String, u64, RejectReason)> = (1..=3000u64)
            .filter(|n| n % 97 == 0)
            .map(|n| ("a.jsonl".to_string(), n, RejectReason::MalformedJson))
            .collect();
        expected.push(("a.jsonl".into(), 1500, RejectReason::LineTooLong));
        expected.sort_by_key(|e| e.1);
        // Each other file's first too (b's and c's line 97), then a's.
        expected.truncate(crate::rejects::MAX_SAMPLES - 2);
        expected.push(("b.jsonl".into(), 97, RejectReason::MalformedJson));
        expected.push(("c.jsonl.gz".into(), 97, RejectReason::MalformedJson));
        assert_eq!(rejects, expected);
        assert_eq!(summary.rejects.count(RejectReason::LineTooLong), 1);
        assert_eq!(summary.rejects.count(RejectReason::TruncatedFile), 1);

        // Only the first samples are kept; the truncation is read alone.
        let (_, summary) = ingest(&sources[2..], &options, || Seen(Vec::new()));
        let cut = summary
            .rejects
            .samples()
            .into_iter()
            .find(|s| s.reason == RejectReason::TruncatedFile)
            .unwrap();
        assert_eq!(cut.line, complete + 1);
        assert!(
            cut.detail.starts_with(&format!(
                "input ends early or is corrupt after line {complete}: "
            )),
            "{}",
            cut.detail
        );
    }
}
