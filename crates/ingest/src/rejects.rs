//! Typed counters of what ingest could not use.
//!
//! Nothing a user logged disappears silently: every line that cannot become a
//! call record is counted under a [`RejectReason`], and the first few are kept
//! with their file and line so the report can point at them. `--strict` turns
//! any of them into an error.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::Serialize;
use tokenaudit_core::CallRecord;

/// Why a line (or a whole file) was not turned into a call record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    /// Not valid JSON (syntax error, truncated line, invalid UTF-8, binary data).
    MalformedJson,
    /// A CSV row that cannot be read: a quoted cell that never closes, or
    /// bytes that are not UTF-8 text.
    MalformedCsv,
    /// Valid JSON, but not an object.
    NotAnObject,
    /// A known field holds a value of the wrong type (`"prompt_tokens": "many"`).
    WrongType,
    /// A token count below zero.
    NegativeTokens,
    /// A token count no real request can have (over 100 million).
    AbsurdTokens,
    /// Parts of the usage exceed their whole (cached > input, reasoning > output).
    InconsistentUsage,
    /// No model name.
    MissingModel,
    /// A successful call without any token usage.
    MissingUsage,
    /// A timestamp that cannot be read, or one outside 1677-09-21 to
    /// 2262-04-11 (what a nanosecond timestamp holds).
    BadTimestamp,
    /// A line longer than the reader's limit.
    LineTooLong,
    /// A compressed stream or Parquet file that ends early or is corrupt; the
    /// lines before the damage were kept.
    TruncatedFile,
    /// A file that cannot be opened or read.
    UnreadableFile,
    /// A file whose format is not recognised (no mapping given for it).
    UnrecognizedFormat,
    /// A row of a usage API (OpenAI's usage results with
    /// `num_model_requests`, Anthropic's usage report with its
    /// `context_window` bucket): the sum of many requests, which cannot be
    /// priced as one (a long-context price is chosen by one request's size)
    /// or audited as one call.
    SummedUsage,
    /// A batch result for a request the provider did not run (expired,
    /// cancelled, refused), or a logged failure with no model and no tokens
    /// (an API error body): nothing was billed. Skipped, not rejected.
    NotBilled,
    /// An OpenTelemetry line whose spans include no GenAI call (no span with
    /// a `gen_ai.*` model or token attribute). Skipped, not rejected.
    NoGenAiSpans,
    /// A valid entry that records no billed model call: a line of an agent
    /// session log with no call (a user prompt, a tool result, a summary), a
    /// Langfuse span, event or other non-generation observation, a request
    /// Helicone answered from its own cache. Skipped, not rejected: see
    /// [`RejectReason::is_skip`].
    NotACall,
    /// A row a `[mapping.only]` filter does not take (a LangSmith chain
    /// run, a Phoenix agent span). Skipped, not rejected; its own reason,
    /// so the report shows how many rows the filter set aside.
    NotSelected,
    /// A message Claude Code wrote itself (model `<synthetic>`), not an API
    /// call. Skipped.
    Synthetic,
    /// A call the log records more than once (Claude Code writes a message
    /// once per content block and replays it in resumed sessions and
    /// sidechains): only the most complete copy is counted. Skipped.
    Duplicate,
    /// A call read without one of its optional fields (`latency_ms`,
    /// `user`, `max_tokens`…), whose value had the wrong type
    /// (`"latency_ms": "fast"`): the call is counted and priced, the field
    /// left empty. Neither a reject nor a skip (see
    /// [`RejectReason::is_note`]); `--strict` fails on it.
    FieldIgnored,
}

impl RejectReason {
    pub const ALL: [RejectReason; 22] = [
        RejectReason::MalformedJson,
        RejectReason::MalformedCsv,
        RejectReason::NotAnObject,
        RejectReason::WrongType,
        RejectReason::NegativeTokens,
        RejectReason::AbsurdTokens,
        RejectReason::InconsistentUsage,
        RejectReason::MissingModel,
        RejectReason::MissingUsage,
        RejectReason::BadTimestamp,
        RejectReason::LineTooLong,
        RejectReason::TruncatedFile,
        RejectReason::UnreadableFile,
        RejectReason::UnrecognizedFormat,
        RejectReason::SummedUsage,
        RejectReason::NotBilled,
        RejectReason::NoGenAiSpans,
        RejectReason::NotACall,
        RejectReason::NotSelected,
        RejectReason::Synthetic,
        RejectReason::Duplicate,
        RejectReason::FieldIgnored,
    ];

    pub fn code(self) -> &'static str {
        match self {
            RejectReason::MalformedJson => "malformed_json",
            RejectReason::MalformedCsv => "malformed_csv",
            RejectReason::NotAnObject => "not_an_object",
            RejectReason::WrongType => "wrong_type",
            RejectReason::NegativeTokens => "negative_tokens",
            RejectReason::AbsurdTokens => "absurd_tokens",
            RejectReason::InconsistentUsage => "inconsistent_usage",
            RejectReason::MissingModel => "missing_model",
            RejectReason::MissingUsage => "missing_usage",
            RejectReason::BadTimestamp => "bad_timestamp",
            RejectReason::LineTooLong => "line_too_long",
            RejectReason::TruncatedFile => "truncated_file",
            RejectReason::UnreadableFile => "unreadable_file",
            RejectReason::UnrecognizedFormat => "unrecognized_format",
            RejectReason::SummedUsage => "summed_usage",
            RejectReason::NotBilled => "not_billed",
            RejectReason::NoGenAiSpans => "no_gen_ai_spans",
            RejectReason::NotACall => "not_a_call",
            RejectReason::NotSelected => "not_selected",
            RejectReason::Synthetic => "synthetic",
            RejectReason::Duplicate => "duplicate",
            RejectReason::FieldIgnored => "field_ignored",
        }
    }

    /// The reason of a [`RejectReason::code`]. Also reads `no_genai_spans`,
    /// the code's spelling in `rejected_by_reason` (and in the store's
    /// commits) until stop 24, where the samples and the schema said
    /// `no_gen_ai_spans`.
    pub fn from_code(code: &str) -> Option<RejectReason> {
        if code == "no_genai_spans" {
            return Some(RejectReason::NoGenAiSpans);
        }
        RejectReason::ALL.into_iter().find(|r| r.code() == code)
    }

    /// File-level reasons describe a whole file (or its tail), not one line.
    pub fn is_file_level(self) -> bool {
        matches!(
            self,
            RejectReason::TruncatedFile
                | RejectReason::UnreadableFile
                | RejectReason::UnrecognizedFormat
        )
    }
}

impl RejectReason {
    /// Skips are lines that are fine but are not (new) API calls: they are
    /// counted by reason and reported, but they are not rejects (`total`
    /// leaves them out, so `--strict` does not fail on them) and no sample
    /// is kept for them.
    pub fn is_skip(self) -> bool {
        // A batch request the provider did not run and a trace line with
        // no model call are records of what happened, not broken lines:
        // `--strict` must not fail a nightly run on an expired batch request.
        matches!(
            self,
            RejectReason::NotACall
                | RejectReason::NotSelected
                | RejectReason::Synthetic
                | RejectReason::Duplicate
                | RejectReason::NotBilled
                | RejectReason::NoGenAiSpans
        )
    }

    /// Notes are calls that were read and counted, but without one of
    /// their optional fields: not rejects (`total` leaves them out, and the
    /// call is no rejected line), not skips (a sample is kept, and
    /// `--strict` fails on them).
    pub fn is_note(self) -> bool {
        self == RejectReason::FieldIgnored
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A reason plus the detail that helps fix it (the field name, the parser's
/// message). Never contains log content beyond field names.
#[derive(Clone, Debug, PartialEq)]
pub struct Reject {
    pub reason: RejectReason,
    pub detail: String,
    /// A skipped line that still says something about the calls: a
    /// LiteLLM cache hit (answered from LiteLLM's own cache, never priced)
    /// is evidence for the caching findings. The record it would have
    /// been, without prompt text; the pipeline hands it to
    /// [`RecordSink::cache_hit`](crate::RecordSink::cache_hit).
    pub evidence: Option<Box<CallRecord<'static>>>,
}

impl Reject {
    pub fn new(reason: RejectReason, detail: impl Into<String>) -> Reject {
        Reject {
            reason,
            detail: detail.into(),
            evidence: None,
        }
    }
}

/// One rejected line (or file), located.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RejectSample {
    /// The input's display name (path, or `<stdin>`).
    pub file: String,
    /// 1-based line (or Parquet row) number; 0 for file-level rejects.
    pub line: u64,
    /// Why it was rejected.
    pub reason: RejectReason,
    /// What was wrong, in words.
    pub detail: String,
}

/// The detail of a stream that ended early at `line` (the line after the
/// last one read).
pub fn truncated_detail(line: u64, error: &str) -> String {
    format!(
        "input ends early or is corrupt after line {}: {error}",
        line.saturating_sub(1)
    )
}

/// Counts per reason and the first samples, in input order.
#[derive(Clone, Debug, Default)]
pub struct Rejects {
    counts: BTreeMap<RejectReason, u64>,
    /// The same counts per source index, where the source is known (the
    /// store keeps each source's rejects with it).
    per_source: BTreeMap<(usize, RejectReason), u64>,
    /// The first samples of each source (the report shows the first
    /// [`MAX_SAMPLES`] of all; the store keeps each source's own).
    samples: Vec<(usize, RejectSample)>,
    /// Samples kept after the last trim: the next trim waits until there
    /// are many more, so trimming stays rare however many sources there are.
    kept: usize,
    /// Rows a reader could not decode and rejected whole (a Parquet row
    /// group's), which count among their file's lines too: a producer's,
    /// for its source (not merged).
    pub unread_lines: u64,
}

/// Samples in input order: by file, then line; at one line (a stream cut in
/// the middle of it) the file's own problem first.
fn sample_order(a: &(usize, RejectSample)) -> (usize, u64, bool) {
    (a.0, a.1.line, !a.1.reason.is_file_level())
}

/// How many located samples a report keeps.
pub const MAX_SAMPLES: usize = 20;

/// The sources whose first rejected line [`Rejects::samples`] always gives.
const MAX_SOURCES_SAMPLED: usize = 200;

impl Rejects {
    pub fn add(&mut self, source_index: usize, sample: RejectSample) {
        *self.counts.entry(sample.reason).or_insert(0) += 1;
        *self
            .per_source
            .entry((source_index, sample.reason))
            .or_insert(0) += 1;
        if sample.reason.is_skip() {
            return;
        }
        // Keep only the first samples by (source, line). Insertion arrives
        // roughly in order per worker; we trim after sorting on merge.
        self.samples.push((source_index, sample));
        if self.samples.len() > 2 * self.kept + MAX_SAMPLES * 4 {
            self.trim();
        }
    }

    /// Keeps the first [`MAX_SAMPLES`] samples of each source.
    fn trim(&mut self) {
        self.samples.sort_by_key(sample_order);
        let mut run = (usize::MAX, 0usize);
        self.samples.retain(|(source, _)| {
            if run.0 != *source {
                run = (*source, 0);
            }
            run.1 += 1;
            run.1 <= MAX_SAMPLES
        });
        self.kept = self.samples.len();
    }

    pub fn merge(&mut self, other: Rejects) {
        for (reason, n) in other.counts {
            *self.counts.entry(reason).or_insert(0) += n;
        }
        for (key, n) in other.per_source {
            *self.per_source.entry(key).or_insert(0) += n;
        }
        self.samples.extend(other.samples);
        self.trim();
    }

    /// One source's counts by reason and its first samples, in line order.
    pub fn of_source(&self, source: usize) -> (BTreeMap<RejectReason, u64>, Vec<RejectSample>) {
        let counts = self
            .per_source
            .range((source, RejectReason::ALL[0])..)
            .take_while(|((s, _), _)| *s == source)
            .map(|((_, r), n)| (*r, *n))
            .collect();
        let mut samples: Vec<&(usize, RejectSample)> =
            self.samples.iter().filter(|(s, _)| *s == source).collect();
        samples.sort_by_key(|s| sample_order(s));
        let samples = samples
            .into_iter()
            .take(MAX_SAMPLES)
            .map(|(_, s)| s.clone())
            .collect();
        (counts, samples)
    }

    /// Counts `n` lines of a source under `reason` with no sample: what the
    /// store restores of the rejects it keeps per source.
    pub fn add_count(&mut self, source: usize, reason: RejectReason, n: u64) {
        if n > 0 {
            *self.counts.entry(reason).or_insert(0) += n;
            *self.per_source.entry((source, reason)).or_insert(0) += n;
        }
    }

    /// Keeps a located sample without counting it (its count comes with
    /// [`Rejects::add_count`]).
    pub fn add_sample(&mut self, source: usize, sample: RejectSample) {
        if !sample.reason.is_skip() {
            self.samples.push((source, sample));
        }
    }

    /// Rejected lines and files (skips and notes left out).
    pub fn total(&self) -> u64 {
        self.counts
            .iter()
            .filter(|(r, _)| !r.is_skip() && !r.is_note())
            .map(|(_, n)| n)
            .sum()
    }

    /// Calls read without a field of the wrong type (see
    /// [`RejectReason::FieldIgnored`]).
    pub fn fields_ignored(&self) -> u64 {
        self.count(RejectReason::FieldIgnored)
    }

    /// What `--strict` fails on: rejected lines and files, and calls read
    /// without a field.
    pub fn strict_failures(&self) -> u64 {
        self.total() + self.fields_ignored()
    }

    /// Skipped lines (see [`RejectReason::is_skip`]).
    pub fn skipped(&self) -> u64 {
        self.counts
            .iter()
            .filter(|(r, _)| r.is_skip())
            .map(|(_, n)| n)
            .sum()
    }

    /// Counts a skip without a sample.
    pub fn skip(&mut self, reason: RejectReason, n: u64) {
        if n > 0 {
            *self.counts.entry(reason).or_insert(0) += n;
        }
    }

    /// Counts skips of one source without a sample.
    pub fn skip_in(&mut self, source: usize, reason: RejectReason, n: u64) {
        self.add_count(source, reason, n);
    }

    pub fn counts(&self) -> &BTreeMap<RejectReason, u64> {
        &self.counts
    }

    pub fn count(&self, reason: RejectReason) -> u64 {
        self.counts.get(&reason).copied().unwrap_or(0)
    }

    /// One source's count of one reason.
    pub fn count_in(&self, source: usize, reason: RejectReason) -> u64 {
        self.per_source.get(&(source, reason)).copied().unwrap_or(0)
    }

    /// Gives pending sample lines their numbers (see [`crate::source::lines`]). A
    /// stream that ended early was reported at the line after the last one
    /// read; its detail now says which line that was.
    pub fn resolve_lines(&mut self, map: &crate::source::lines::LineMap) {
        for (source, sample) in &mut self.samples {
            if !crate::source::lines::is_pending(sample.line) {
                continue;
            }
            sample.line = map.resolve(*source, sample.line);
            if sample.reason == RejectReason::TruncatedFile {
                sample.detail = truncated_detail(sample.line, &sample.detail);
            }
        }
    }

    /// Fills in the file names of samples from their source indices.
    pub fn name_sources(&mut self, names: &[String]) {
        for (i, sample) in &mut self.samples {
            if let Some(name) = names.get(*i) {
                sample.file.clone_from(name);
            }
        }
    }

    /// The first samples in input order (file order, then line).
    pub fn samples(&self) -> Vec<RejectSample> {
        let mut samples = self.samples.clone();
        samples.sort_by_key(sample_order);
        // Each source's first (a file's own reason: unrecognised, cut
        // short, unreadable), then the first of the rest: a junk file's
        // twenty lines hid every other file's reason, everywhere it could
        // be said (hunt148's bug1).
        let mut firsts = Vec::new();
        let mut rest = Vec::new();
        for (source, s) in samples {
            if firsts.last().is_some_and(|(f, _)| *f == source) {
                rest.push((source, s));
            } else {
                firsts.push((source, s));
            }
        }
        firsts.truncate(MAX_SOURCES_SAMPLED);
        let room = MAX_SAMPLES.saturating_sub(firsts.len());
        let mut out: Vec<_> = firsts
            .into_iter()
            .chain(rest.into_iter().take(room))
            .collect();
        out.sort_by_key(sample_order);
        out.into_iter().map(|(_, s)| s).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reason is spelled one way everywhere: its code (the keys of
    /// `rejected_by_reason`, the store's commits) is its serde name (the
    /// samples' `reason`, the JSON schema's enum), and reads back.
    #[test]
    fn each_reason_has_one_spelling() {
        for r in RejectReason::ALL {
            assert_eq!(serde_json::to_value(r).unwrap(), r.code(), "{r:?}");
            assert_eq!(RejectReason::from_code(r.code()), Some(r));
        }
        // The spelling of rejected_by_reason before stop 24 still reads.
        assert_eq!(
            RejectReason::from_code("no_genai_spans"),
            Some(RejectReason::NoGenAiSpans)
        );
    }
}
