//! User field mappings: point each canonical field at a dotted path in your
//! own log shape.
//!
//! A mapping is the `[mapping]` table of the config file. Fields it does not
//! name are still found by the gateway reader's heuristics, so a mapping only
//! needs the fields whose names are unusual. Paths are dotted (`a.b.c`); a key
//! that itself contains dots (`gen_ai.usage.input_tokens`) is matched whole
//! first; numeric segments index arrays (`choices.0.finish_reason`); a path
//! goes on inside a string that holds a JSON object or list
//! (`full_response.usageMetadata.promptTokenCount`, where BigQuery exported
//! the JSON column `full_response` as text).
//!
//! ```toml
//! [mapping]
//! model = "payload.llm.model_name"
//! feature = ["labels.feature", "service"]
//! input_tokens = "payload.llm.tokens_in"
//! output_tokens = "payload.llm.tokens_out"
//! cached_read_tokens = "payload.llm.tokens_cached"
//! input_includes_cache = true        # the default; false for Anthropic-style counts
//! timestamp = "ts"
//! timestamp_unit = "ms"              # for numbers: "s", "ms", "us", "ns" (default: by magnitude)
//! # timestamp_format = "%m/%d/%Y %H:%M"  # for text in another spelling (strftime; UTC unless %z)
//!
//! [mapping.defaults]                 # constants for fields the log lacks
//! provider = "openai"
//!
//! [mapping.tags]
//! env = "labels.env"
//!
//! [mapping.only]                     # rows that are calls; others are skipped
//! kind = ["llm", "embedding"]
//! ```

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use tokenaudit_core::CallRecord;

use crate::formats::gateway;
use crate::formats::mapping_scan::Compiled;
use crate::record::fields::{parse_timestamp, LBool, LMoney, LStr, LTime, Lenient, Problems, LU64};
use crate::record::staging::{LNum, RawLine};
use crate::rejects::{Reject, RejectReason};

/// One path, or several tried in order.
#[derive(Clone, Debug, PartialEq)]
pub enum Paths {
    One(String),
    Many(Vec<String>),
}

impl<'de> Deserialize<'de> for Paths {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Paths, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Paths;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a dotted path (\"usage.input\") or a non-empty list of them")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Paths, E> {
                Ok(Paths::One(v.to_string()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Paths, A::Error> {
                let mut out = Vec::new();
                while let Some(p) = seq.next_element::<String>()? {
                    out.push(p);
                }
                if out.is_empty() {
                    return Err(serde::de::Error::invalid_length(0, &self));
                }
                // A list of one is that path: one reading, one digest (a
                // store would read its files again for the other spelling).
                if out.len() == 1 {
                    return Ok(Paths::One(out.remove(0)));
                }
                Ok(Paths::Many(out))
            }
        }
        d.deserialize_any(Visit)
    }
}

impl Paths {
    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> {
        // Without collecting: this runs for every mapped field of every line.
        let (one, many): (Option<&str>, &[String]) = match self {
            Paths::One(p) => (Some(p.as_str()), &[]),
            Paths::Many(ps) => (None, ps.as_slice()),
        };
        one.into_iter().chain(many.iter().map(String::as_str))
    }
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum TimeUnit {
    S,
    Ms,
    Us,
    Ns,
}

/// Constants for fields the log does not carry.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    pub model: Option<String>,
    pub provider: Option<String>,
    pub feature: Option<String>,
    pub route: Option<String>,
    pub team: Option<String>,
    pub batch: Option<bool>,
}

/// The `[mapping]` table.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MappingConfig {
    pub timestamp: Option<Paths>,
    pub request_id: Option<Paths>,
    pub provider: Option<Paths>,
    pub model: Option<Paths>,
    pub feature: Option<Paths>,
    pub route: Option<Paths>,
    pub team: Option<Paths>,
    pub user: Option<Paths>,
    pub session: Option<Paths>,
    pub turn: Option<Paths>,
    pub status: Option<Paths>,
    pub error_kind: Option<Paths>,
    pub http_status: Option<Paths>,
    pub attempt: Option<Paths>,
    pub retry_of: Option<Paths>,
    pub latency_ms: Option<Paths>,
    pub ttft_ms: Option<Paths>,
    pub batch: Option<Paths>,
    /// True when the gateway answered from its own cache (not billed by the
    /// provider: a `not_a_call` skip, as LiteLLM's `cache_hit`).
    pub cache_hit: Option<Paths>,
    pub finish_reason: Option<Paths>,
    pub max_tokens: Option<Paths>,
    pub prompt_fingerprint: Option<Paths>,
    pub prefix_fingerprint: Option<Paths>,
    pub prefix_tokens: Option<Paths>,
    /// Where the prompt is, for the rules that compare prompts (repeats,
    /// caching, retries, near-duplicates): a `messages` list (OpenAI's or
    /// Anthropic's), a prompt's text, a system prompt. Only fingerprints
    /// (and, for near-duplicates, the last user message's text, never
    /// written out) are kept (hunt118: a log's own nesting of its messages
    /// could not be named, and five rules could not run).
    pub messages: Option<Paths>,
    pub prompt: Option<Paths>,
    pub system: Option<Paths>,
    pub cost: Option<Paths>,
    pub input_tokens: Option<Paths>,
    pub cached_read_tokens: Option<Paths>,
    pub cache_write_tokens: Option<Paths>,
    pub cache_write_5m_tokens: Option<Paths>,
    pub cache_write_1h_tokens: Option<Paths>,
    pub output_tokens: Option<Paths>,
    pub reasoning_tokens: Option<Paths>,
    /// Where the call's usage object is (`span_data.usage`,
    /// `full_response.usageMetadata`): read as the gateway reader reads a
    /// `usage` object (OpenAI's, Anthropic's, Gemini's: cached reads, cache
    /// writes, reasoning, audio, web searches), filling what the line's own
    /// keys left. Without it, the object that holds the mapped
    /// `input_tokens` (or `output_tokens`) is read so (hunt120: the cached
    /// tokens beside `span_data.usage.input_tokens` went unread, +31%).
    pub usage: Option<Paths>,
    /// Whether `input_tokens` already includes cached reads and cache writes
    /// (OpenAI, Gemini, OpenTelemetry: yes; Anthropic: no).
    #[serde(default = "default_true")]
    pub input_includes_cache: bool,
    /// Whether `output_tokens` already includes reasoning tokens (OpenAI: yes;
    /// Gemini's candidates: no).
    #[serde(default = "default_true")]
    pub output_includes_reasoning: bool,
    pub timestamp_unit: Option<TimeUnit>,
    /// How the mapped timestamp's text is written, in strftime's terms
    /// (`"%m/%d/%Y %H:%M"`, as a spreadsheet saves dates): UTC unless the
    /// format has an offset (`%z`); a date alone is its midnight.
    pub timestamp_format: Option<String>,
    /// Added to numeric timestamps, for traces that count from their start.
    pub timestamp_origin: Option<String>,
    #[serde(default)]
    pub defaults: Defaults,
    #[serde(default)]
    pub tags: BTreeMap<String, Paths>,
    /// Which rows are model calls, for exports that hold other rows too
    /// (LangSmith's chain and tool runs, Phoenix's agent spans): a path and
    /// the value, or the values, it must have (`run_type = "llm"`). Other
    /// rows are skipped as `not_a_call`, not rejected.
    #[serde(default)]
    pub only: BTreeMap<String, Wanted>,
}

/// The values `[mapping.only]` takes at a path: text, numbers or flags,
/// one or a list.
#[derive(Clone, Debug, PartialEq)]
pub struct Wanted(pub Vec<String>);

impl<'de> Deserialize<'de> for Wanted {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Wanted, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Wanted;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "a value (\"llm\", 1, true) or a non-empty list of them; a dotted \
                     path as the key is quoted (\"meta.kind\" = \"llm\")",
                )
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Wanted, E> {
                Ok(Wanted(vec![v.to_string()]))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Wanted, E> {
                Ok(Wanted(vec![v.to_string()]))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Wanted, E> {
                Ok(Wanted(vec![v.to_string()]))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Wanted, E> {
                Ok(Wanted(vec![v.to_string()]))
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Wanted, E> {
                Ok(Wanted(vec![v.to_string()]))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Wanted, A::Error> {
                let mut out = Vec::new();
                while let Some(Wanted(v)) = seq.next_element::<Wanted>()? {
                    out.extend(v);
                }
                if out.is_empty() {
                    return Err(serde::de::Error::invalid_length(0, &self));
                }
                Ok(Wanted(out))
            }
        }
        d.deserialize_any(Visit)
    }
}

impl Wanted {
    /// Whether a row's value is one of these: as text, case and spaces
    /// aside; a JSON number (`number`) also as the same number (`1.0` is
    /// `1`), exactly for integers. Text is never read as a number (`"1.10"`
    /// is not `"1.1"`, a version's spelling).
    fn takes(&self, found: &str, number: bool) -> bool {
        self.0.iter().any(|w| {
            let w = w.trim();
            if w.eq_ignore_ascii_case(found) {
                return true;
            }
            if !number {
                return false;
            }
            match (found.parse::<i128>(), w.parse::<i128>()) {
                (Ok(a), Ok(b)) => a == b,
                _ => match (found.parse::<f64>(), w.parse::<f64>()) {
                    // Past 2^53 two integers can be one float.
                    (Ok(a), Ok(b)) => a == b && (a.fract() != 0.0 || a.abs() < 9e15),
                    _ => false,
                },
            }
        })
    }
}

fn default_true() -> bool {
    true
}

/// A validated mapping, ready to read lines.
#[derive(Clone, Debug)]
pub struct Mapping {
    config: MappingConfig,
    origin: Option<DateTime<Utc>>,
    /// The hashes of the top-level keys any path can start with (see
    /// [`lookup`]), sorted: only those keys are built into a JSON tree; the
    /// rest of a line is stepped over. (A hash collision only builds one
    /// more value; lookups compare the keys themselves.)
    top_keys: Vec<u64>,
    /// The paths compiled for the scanner's pass (`mapping_scan.rs`); `None`
    /// when a path is beyond it, and then every line is read through a tree.
    compiled: Option<Compiled>,
    /// The usage object's paths: `usage`, or those of the objects holding
    /// the mapped input and output counts ([`MappingConfig::usage`]).
    usage: Option<Paths>,
    /// Whether each token path found a count in some line (and, last,
    /// whether any line was read): see [`Mapping::unmatched`]. Shared by
    /// clones; set once each, so threads do not write them line by line.
    found: Arc<[AtomicBool; TOKEN_SLOTS + 1]>,
    /// Whether each `[mapping.only]` path (in its order) held a value in
    /// some line, and, last, whether any line was checked: see
    /// [`Mapping::only_absent`].
    only_found: Arc<[AtomicBool]>,
    /// Whether any line was read with the mapping (set once).
    used: Arc<AtomicBool>,
    /// Rows whose reasoning count is larger than their output count, which
    /// `output_includes_reasoning` (true) says holds it: read with it
    /// beside, see [`Mapping::reasoning_beside`].
    reasoning_beside: Arc<std::sync::atomic::AtomicU64>,
    /// Whether a line read with the mapping had a cache-hit flag (set once).
    cache_hit_found: Arc<AtomicBool>,
}

#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    #[error("mapping.timestamp_origin: cannot read {0:?} as a timestamp (use RFC 3339, e.g. \"2025-01-01T00:00:00Z\")")]
    BadOrigin(String),
    #[error("mapping.{0}: empty path")]
    EmptyPath(String),
    #[error("mapping.timestamp_format: {0:?} is not a strftime format (e.g. \"%m/%d/%Y %H:%M\" for 12/01/2026 14:03, \"%d.%m.%Y %H:%M:%S\")")]
    BadFormat(String),
    #[error("mapping.timestamp_format reads the mapped timestamp: name its column too (timestamp = \"created_at\")")]
    FormatWithoutTimestamp,
    #[error("mapping.timestamp_format: {0:?} has %Z, a zone's name, which cannot be read as an offset: use %z for an offset (+0100), or leave the zone out (UTC)")]
    ZoneName(String),
}

impl Mapping {
    /// What identifies how this mapping reads a line: the digest of its
    /// table as read (a store reads a file again when the mapping it was
    /// read with changed).
    pub fn digest(&self) -> String {
        // A mapping written before `usage` existed keeps its digest, unless
        // the objects of its counts are read now (then its files are read
        // again, as they should be).
        let text = format!("{:?}", self.config).replacen(", usage: None", "", 1);
        let text = match &self.usage {
            Some(u) => format!("{text} usage object: {u:?}"),
            None => text,
        };
        format!("{:016x}", xxhash_rust::xxh3::xxh3_64(text.as_bytes()))
    }

    pub fn new(config: MappingConfig) -> Result<Mapping, MappingError> {
        let origin = match &config.timestamp_origin {
            Some(t) => Some(parse_timestamp(t).ok_or_else(|| MappingError::BadOrigin(t.clone()))?),
            None => None,
        };
        if let Some(f) = &config.timestamp_format {
            use chrono::format::{Item, StrftimeItems};
            if config.timestamp.is_none() {
                return Err(MappingError::FormatWithoutTimestamp);
            }
            if StrftimeItems::new(f)
                .any(|i| matches!(i, Item::Fixed(chrono::format::Fixed::TimezoneName)))
            {
                return Err(MappingError::ZoneName(f.clone()));
            }
            let items: Vec<Item<'_>> = StrftimeItems::new(f).collect();
            if items.is_empty() || items.iter().any(|i| matches!(i, Item::Error)) {
                return Err(MappingError::BadFormat(f.clone()));
            }
        }
        for (name, paths) in config.named_paths() {
            if paths.iter().any(|p| p.trim().is_empty()) {
                return Err(MappingError::EmptyPath(name.to_string()));
            }
        }
        if config.only.keys().any(|p| p.trim().is_empty()) {
            return Err(MappingError::EmptyPath("only".to_string()));
        }
        let mut top_keys: Vec<u64> = ["timestamp", "ts", "time"].map(key_hash).into();
        let paths = config
            .named_paths()
            .into_iter()
            .map(|(_, p)| p)
            .chain(config.tags.values());
        let only = config.only.keys().map(String::as_str);
        for path in paths.flat_map(Paths::iter).chain(only) {
            // A path's first key can be the whole path (keys may contain
            // dots) or any of its prefixes at a dot.
            top_keys.push(key_hash(path));
            for (i, _) in path.match_indices('.') {
                top_keys.push(key_hash(&path[..i]));
            }
        }
        top_keys.sort_unstable();
        top_keys.dedup();
        // A row filter is read from the tree (the scanner's pass does not
        // skip rows); so is a mapped prompt (its JSON read whole).
        let prompt_mapped =
            config.messages.is_some() || config.prompt.is_some() || config.system.is_some();
        let usage = config.usage.clone().or_else(|| config.count_objects());
        let compiled = if config.only.is_empty() && !prompt_mapped {
            Compiled::new(&config, origin.is_some(), usage.as_ref())
        } else {
            None
        };
        let only_found = (0..=config.only.len())
            .map(|_| AtomicBool::new(false))
            .collect();
        Ok(Mapping {
            config,
            origin,
            top_keys,
            compiled,
            usage,
            found: Arc::new(std::array::from_fn(|_| AtomicBool::new(false))),
            only_found,
            used: Arc::new(AtomicBool::new(false)),
            reasoning_beside: Default::default(),
            cache_hit_found: Arc::new(AtomicBool::new(false)),
        })
    }

    /// Whether a line read with the mapping had a cache-hit flag, at the
    /// mapped `cache_hit` path or a name the gateway reader knows.
    pub fn cache_hit_found(&self) -> bool {
        self.cache_hit_found.load(Ordering::Relaxed)
    }

    /// The rows read with their reasoning beside the output count, where
    /// `output_includes_reasoning` (true, its default) says it is inside:
    /// a count larger than the output cannot be inside it, so those rows
    /// are read in the other convention, and the rest as declared. A file
    /// of Gemini's candidates beside its thoughts, mapped without
    /// `output_includes_reasoning = false`, has its thoughts unbilled on
    /// every row whose answer is longer than its thinking (hunt167: −19%,
    /// without a word).
    pub fn reasoning_beside(&self) -> u64 {
        if self.config.output_includes_reasoning {
            self.reasoning_beside.load(Ordering::Relaxed)
        } else {
            0
        }
    }

    /// The token paths (`input_tokens = "input_tokns"`) no line read with
    /// the mapping had, once lines were read: a misspelled column reads as
    /// no count, and its calls at 0 tokens of that kind.
    pub fn unmatched(&self) -> Vec<String> {
        const NAMES: [&str; TOKEN_SLOTS] = [
            "input_tokens",
            "cached_read_tokens",
            "cache_write_tokens",
            "cache_write_5m_tokens",
            "cache_write_1h_tokens",
            "output_tokens",
            "reasoning_tokens",
        ];
        if !self.found[TOKEN_SLOTS].load(Ordering::Relaxed) {
            return Vec::new();
        }
        self.config
            .token_paths()
            .iter()
            .zip(NAMES)
            .enumerate()
            .filter(|(i, (p, _))| p.is_some() && !self.found[*i].load(Ordering::Relaxed))
            .map(|(_, (p, name))| {
                let paths: Vec<String> = p
                    .iter()
                    .flat_map(Paths::iter)
                    .map(|s| format!("{s:?}"))
                    .collect();
                format!("{name} = {}", paths.join(" or "))
            })
            .collect()
    }

    /// The mapped paths of the labels a report groups by and of the model,
    /// as `name = "path"` (or `"a" or "b"`): for the caller to say which of
    /// them no call had a value at (a misspelled `feature` path makes every
    /// call's feature `(none)`, hunt65).
    pub fn label_paths(&self) -> Vec<(&'static str, String)> {
        let c = &self.config;
        [
            ("model", &c.model),
            ("feature", &c.feature),
            ("route", &c.route),
            ("team", &c.team),
            ("user", &c.user),
            ("session", &c.session),
        ]
        .into_iter()
        .filter_map(|(name, p)| {
            let p = p.as_ref()?;
            let paths: Vec<String> = p.iter().map(|s| format!("{s:?}")).collect();
            Some((name, format!("{name} = {}", paths.join(" or "))))
        })
        .collect()
    }

    /// The mapped paths of the call's time and logged cost, and of each
    /// `[mapping.tags]` tag (`("tag NAME", …)`), for the same check as
    /// [`Mapping::label_paths`]'s (hunt84: misspelt, they were silent).
    pub fn other_paths(&self) -> Vec<(String, String)> {
        // No line was read with the mapping (another format's files): its
        // paths had no line to be looked for in.
        if !self.used.load(Ordering::Relaxed) {
            return Vec::new();
        }
        let c = &self.config;
        let shown = |p: &Paths| {
            p.iter()
                .map(|s| format!("{s:?}"))
                .collect::<Vec<_>>()
                .join(" or ")
        };
        let mut out = Vec::new();
        // (And the fields a report's coverage counts: a misspelled `batch`,
        // `status` or `messages` path was silent, hunt167: batch calls at
        // full price, failures counted as successes.)
        // (Not those a clean night leaves out: retries, streaming, hunt169's
        // false alarms, a limit left unset; a finish reason is on every
        // answer, hunt171.)
        for (name, p) in [
            ("timestamp", &c.timestamp),
            ("cost", &c.cost),
            ("request_id", &c.request_id),
            ("provider", &c.provider),
            ("status", &c.status),
            ("error_kind", &c.error_kind),
            ("http_status", &c.http_status),
            ("latency_ms", &c.latency_ms),
            ("batch", &c.batch),
            ("cache_hit", &c.cache_hit),
            ("finish_reason", &c.finish_reason),
            ("prompt_fingerprint", &c.prompt_fingerprint),
            ("messages", &c.messages),
            ("prompt", &c.prompt),
        ] {
            if let Some(p) = p {
                out.push((name.to_string(), format!("{name} = {}", shown(p))));
            }
        }
        for (tag, p) in &c.tags {
            out.push((format!("tag {tag}"), format!("tags.{tag} = {}", shown(p))));
        }
        out
    }

    /// The `[mapping.only]` paths no line read with the mapping had a
    /// value at, once lines were checked: a misspelled path skips every
    /// line as not selected.
    pub fn only_absent(&self) -> Vec<String> {
        if !self.only_found[self.config.only.len()].load(Ordering::Relaxed) {
            return Vec::new();
        }
        self.config
            .only
            .keys()
            .zip(self.only_found.iter())
            .filter(|(_, found)| !found.load(Ordering::Relaxed))
            .map(|(path, _)| path.clone())
            .collect()
    }

    /// Whether this mapping is written for a file whose first record is
    /// `record`: its model or its token counts (`model`, `usage`, a
    /// `*_tokens` path) hold a value there, or it gives a default model or
    /// provider (for records that name none, as Bedrock's batch output). A
    /// mapping of other fields (a feature, a time, an id: paths a built-in
    /// format's records hold too, hunt149's bug1) enriches the logs it was
    /// written for; a file a built-in format recognises is read by that
    /// format (see [`crate::formats::detect`]).
    pub fn describes(&self, record: &Value) -> bool {
        let c = &self.config;
        if c.defaults.model.is_some() || c.defaults.provider.is_some() {
            return true;
        }
        let call = |name: &str| name == "model" || name == "usage" || name.ends_with("_tokens");
        c.named_paths()
            .into_iter()
            .filter(|(name, _)| call(name))
            .flat_map(|(_, p)| p.iter())
            .any(|path| lookup(record, path).is_some_and(|v| !v.is_null()))
    }

    /// Whether one of its paths is `path` itself (a column named with
    /// dots, as the mapping names it).
    pub fn names(&self, path: &str) -> bool {
        let c = &self.config;
        let paths = c
            .named_paths()
            .into_iter()
            .map(|(_, p)| p)
            .chain(c.tags.values());
        let mut all = paths
            .flat_map(Paths::iter)
            .chain(c.only.keys().map(String::as_str));
        all.any(|p| p == path)
    }

    pub fn config(&self) -> &MappingConfig {
        &self.config
    }

    /// The usage object's paths ([`MappingConfig::usage`], or the objects
    /// of the mapped counts).
    pub(crate) fn usage_paths(&self) -> Option<&Paths> {
        self.usage.as_ref()
    }

    /// Whether the usage object is named (`usage`), not the one holding
    /// the mapped counts.
    pub(crate) fn usage_named(&self) -> bool {
        self.config.usage.is_some()
    }

    /// Reads one line: the gateway heuristics first, then the mapping's paths
    /// and defaults on top.
    pub fn parse_line<'a>(&self, line: &'a [u8]) -> Result<CallRecord<'a>, Reject> {
        match std::str::from_utf8(line) {
            Ok(text) => self.parse_line_str(text),
            Err(_) => {
                let mut raw = gateway::parse_raw(line)?;
                let mut de = serde_json::Deserializer::from_slice(line);
                self.read(&mut raw, &mut de)?;
                self.hinted(raw.into_record())
            }
        }
    }

    /// The same for a line already known to be UTF-8 (the fast path): the
    /// compiled paths read in the gateway scanner's pass, or, for what they
    /// do not handle, the tree.
    pub fn parse_line_str<'a>(&self, line: &'a str) -> Result<CallRecord<'a>, Reject> {
        if let Some(c) = &self.compiled {
            let mut raw = RawLine {
                tags: crate::record::fields::fresh_tags(),
                ..RawLine::default()
            };
            if c.read(self, line, &mut raw) {
                return self.hinted(raw.into_record());
            }
        }
        self.parse_line_str_tree(line)
    }

    /// The paths compiled for the scanner's pass, if they could be.
    #[cfg(test)]
    pub(crate) fn compiled(&self) -> Option<&Compiled> {
        self.compiled.as_ref()
    }

    /// The reference implementation: the gateway reader, then a JSON tree
    /// of the line's mapped keys.
    pub fn parse_line_str_tree<'a>(&self, line: &'a str) -> Result<CallRecord<'a>, Reject> {
        let mut raw = gateway::parse_raw_str(line)?;
        let mut de = serde_json::Deserializer::from_str(line);
        self.read(&mut raw, &mut de)?;
        self.hinted(raw.into_record())
    }

    /// A reject the mapping's convention may explain says how: cached
    /// tokens more than a mapped input that includes them is the sign of
    /// an input that excludes them (Anthropic's convention).
    pub(crate) fn hinted<'a>(
        &self,
        read: Result<CallRecord<'a>, Reject>,
    ) -> Result<CallRecord<'a>, Reject> {
        read.map_err(|mut r| {
            let c = &self.config;
            if r.reason == RejectReason::InconsistentUsage
                && c.input_includes_cache
                && c.input_tokens.is_some()
                && r.detail.starts_with("cached and cache-write tokens exceed")
            {
                r.detail.push_str(
                    "; if the mapped input_tokens leaves the cached tokens out (Anthropic's convention), set input_includes_cache = false in [mapping]",
                );
            }
            // The user's own format, which the text did not fit (hunt84:
            // told to set the timestamp_format they had set).
            if let (RejectReason::BadTimestamp, Some(f)) = (r.reason, &c.timestamp_format) {
                r.detail = format!(
                    "timestamp: fits neither the [mapping]'s timestamp_format {f:?} nor RFC 3339, YYYY-MM-DD HH:MM[:SS] or an epoch number"
                );
            }
            r
        })
    }

    /// Builds the line's tree of mapped keys and applies the mapping.
    fn read<'de, R: serde_json::de::Read<'de>>(
        &self,
        raw: &mut RawLine<'_>,
        de: &mut serde_json::Deserializer<R>,
    ) -> Result<(), Reject> {
        let value = serde::de::DeserializeSeed::deserialize(Pruned(&self.top_keys), &mut *de)
            .and_then(|v| de.end().map(|_| v))
            .map_err(|_| Reject::new(RejectReason::MalformedJson, "invalid JSON"))?;
        self.selected(&value)?;
        self.apply(raw, &value);
        Ok(())
    }

    /// Whether `[mapping.only]` takes the row: each of its paths holds one
    /// of its values (as text, spaces and case aside); a row that is not
    /// taken is skipped as no call.
    fn selected(&self, v: &Value) -> Result<(), Reject> {
        let mark = |flag: &AtomicBool| {
            if !flag.load(Ordering::Relaxed) {
                flag.store(true, Ordering::Relaxed);
            }
        };
        if let Some(checked) = self.only_found.get(self.config.only.len()) {
            mark(checked);
        }
        for ((path, wanted), seen) in self.config.only.iter().zip(self.only_found.iter()) {
            // (MLflow's JSON text of a string, `"\"CHAT_MODEL\""`, is the
            // string it holds, as for every other mapped path: hunt167.)
            let at = lookup(v, path).map(json_string_text);
            // Any value there, a list or an object too (which no wanted
            // value equals): the path is not misspelled.
            if at.as_deref().is_some_and(|x| !x.is_null()) {
                mark(seen);
            }
            let found = at.and_then(|x| match &*x {
                Value::String(t) => Some((t.trim().to_string(), false)),
                Value::Number(n) => Some((n.to_string(), true)),
                Value::Bool(b) => Some((b.to_string(), false)),
                _ => None,
            });
            let taken = found.as_ref().is_some_and(|(f, n)| wanted.takes(f, *n));
            let found = found.map(|(f, _)| f);
            if !taken {
                return Err(Reject::new(
                    RejectReason::NotSelected,
                    format!(
                        "not selected by [mapping.only]: {path} is {}",
                        found.map_or("absent".to_string(), |f| format!("{f:?}"))
                    ),
                ));
            }
        }
        Ok(())
    }

    fn apply(&self, raw: &mut RawLine<'_>, v: &Value) {
        let c = &self.config;
        let s = |paths: &Option<Paths>| -> Option<LStr<'static>> {
            find(v, paths.as_ref()?)
                .map(|x| LStr::deserialize(&*x).unwrap_or_default().into_owned())
        };
        let n = |paths: &Option<Paths>| -> Option<LU64> {
            find(v, paths.as_ref()?).map(|x| LU64::deserialize(&*x).unwrap_or_default())
        };
        macro_rules! set {
            ($field:ident, $f:expr, $path:expr) => {
                if let Some(x) = $f(&$path) {
                    raw.$field = x;
                }
            };
        }
        set!(request_id, s, c.request_id);
        set!(provider, s, c.provider);
        set!(model, s, c.model);
        set!(feature, s, c.feature);
        set!(route, s, c.route);
        set!(team, s, c.team);
        set!(user, s, c.user);
        set!(session, s, c.session);
        set!(turn, n, c.turn);
        set!(status, s, c.status);
        set!(error_kind, s, c.error_kind);
        set!(http_status, n, c.http_status);
        set!(attempt, n, c.attempt);
        set!(retry_of, s, c.retry_of);
        set!(finish_reason, s, c.finish_reason);
        set!(max_tokens, n, c.max_tokens);
        set!(prompt_hash, s, c.prompt_fingerprint);
        set!(prefix_hash, s, c.prefix_fingerprint);
        set!(prefix_tokens, n, c.prefix_tokens);
        if let Some(x) = self.usage.as_ref().and_then(|p| find(v, p)) {
            if let Some(u) = usage_object(&x) {
                raw.usage.take_mapped(u, self.config.usage.is_some());
            }
        }
        // The prompt's JSON, read as the gateway reader reads it in place;
        // its fingerprints and text taken over owned. A mapped system prompt
        // is part of what was asked, as one read in place is (a customer's
        // own data there makes "what is my balance?" another prompt:
        // hunt122, 98% of such calls said to repeat).
        let had_system = raw.prefix_text_fp.is_some() || raw.system_raw.is_some();
        let mut system_fp = None;
        for (paths, which) in [
            (&c.messages, gateway::Field::Messages),
            (&c.prompt, gateway::Field::Prompt),
            (&c.system, gateway::Field::System),
        ] {
            if let Some(x) = paths.as_ref().and_then(|p| find(v, p)) {
                if !x.is_null() {
                    let text = x.to_string();
                    let mut read = RawLine::default();
                    gateway::set_text(&mut read, which, &text);
                    if which == gateway::Field::System {
                        system_fp = read.prefix_text_fp;
                    }
                    raw.absorb(read);
                }
            }
        }
        if let (false, Some(system), Some(fp)) = (had_system, system_fp, raw.prompt_text_fp) {
            raw.prompt_text_fp = Some(xxhash_rust::xxh3::xxh3_64(
                &[fp.to_le_bytes(), system.to_le_bytes()].concat(),
            ));
        }
        if let Some(x) = c.latency_ms.as_ref().and_then(|p| find(v, p)) {
            raw.latency_ms = LNum::deserialize(&*x).unwrap_or_default();
        }
        if let Some(x) = c.ttft_ms.as_ref().and_then(|p| find(v, p)) {
            raw.ttft_ms = LNum::deserialize(&*x).unwrap_or_default();
        }
        if let Some(x) = c.batch.as_ref().and_then(|p| find(v, p)) {
            raw.batch = LBool::deserialize(&*x).unwrap_or_default();
        }
        if let Some(x) = c.cache_hit.as_ref().and_then(|p| find(v, p)) {
            raw.cache_hit = LBool::deserialize(&*x).unwrap_or_default();
        }
        if let Some(x) = c.cost.as_ref().and_then(|p| find(v, p)) {
            raw.cost = LMoney::deserialize(&*x).unwrap_or_default();
        }
        if let Some(x) = c.timestamp.as_ref().and_then(|p| find(v, p)) {
            raw.timestamp = self.timestamp(&x);
        } else if let (Some(_), Lenient::Value(_)) = (self.origin, &raw.timestamp.0) {
            // Relative numeric timestamps found by the heuristics get the origin too.
            if let Some(x) = ["timestamp", "ts", "time"].iter().find_map(|k| v.get(*k)) {
                raw.timestamp = self.timestamp(x);
            }
        }
        for (key, paths) in &c.tags {
            if let Some(x) = find(v, paths) {
                if let Lenient::Value(text) =
                    LStr::deserialize(&*x).unwrap_or_default().into_owned().0
                {
                    self.set_tag(raw, key, text);
                }
            }
        }
        self.apply_tokens(raw, v);
        self.apply_defaults(raw);
    }

    pub(crate) fn origin(&self) -> Option<DateTime<Utc>> {
        self.origin
    }

    /// A mapped tag replaces one of the same name found by the heuristics.
    pub(crate) fn set_tag<'a>(&self, raw: &mut RawLine<'a>, key: &str, text: Cow<'a, str>) {
        // The name of a tag it replaces is the same text, usually borrowed
        // from the line: reused, it saves copying the name on every line.
        let mut name = None;
        raw.tags.retain(|(k, _)| {
            let keep = k != key;
            if !keep && name.is_none() {
                name = Some(k.clone());
            }
            keep
        });
        let name = name.unwrap_or_else(|| Cow::Owned(key.to_string()));
        raw.tags.push((name, text));
    }

    /// The `[mapping.defaults]` for fields still missing.
    pub(crate) fn apply_defaults(&self, raw: &mut RawLine<'_>) {
        if !self.used.load(Ordering::Relaxed) {
            self.used.store(true, Ordering::Relaxed);
        }
        if self.config.cache_hit.is_some()
            && raw.cache_hit.0.is_present()
            && !self.cache_hit_found.load(Ordering::Relaxed)
        {
            self.cache_hit_found.store(true, Ordering::Relaxed);
        }
        let d = &self.config.defaults;
        let default = |slot: &mut LStr<'_>, value: &Option<String>| {
            if let (false, Some(text)) = (slot.0.is_present(), value) {
                slot.0 = Lenient::Value(Cow::Owned(text.clone()));
            }
        };
        default(&mut raw.model, &d.model);
        default(&mut raw.provider, &d.provider);
        default(&mut raw.feature, &d.feature);
        default(&mut raw.route, &d.route);
        default(&mut raw.team, &d.team);
        if let (false, Some(b)) = (raw.batch.0.is_present(), d.batch) {
            raw.batch = LBool(Lenient::Value(b));
        }
    }

    /// Mapped token paths replace whatever the heuristics found, and are read
    /// in the convention the mapping declares.
    fn apply_tokens(&self, raw: &mut RawLine<'_>, v: &Value) {
        let c = &self.config;
        let any = c.token_paths().iter().any(|p| p.is_some());
        if !any {
            return;
        }
        let get = |paths: &Option<Paths>| -> Lenient<u64> {
            match paths.as_ref().and_then(|p| find(v, p)) {
                Some(x) => LU64::deserialize(&*x).unwrap_or_default().0,
                None => Lenient::Missing,
            }
        };
        let values = c.token_paths().map(get);
        self.set_tokens(raw, values);
    }

    /// The mapped token counts (input, cached read, cache write, 5-minute
    /// and 1-hour cache write, output, reasoning; missing when unmapped or
    /// not found) replace the heuristics' usage, in the mapping's
    /// convention. What the mapping does not name is still what the
    /// heuristics found (a usage object's cached tokens beside a mapped
    /// input and output; audio tokens, web searches, a tier), given in the
    /// mapping's convention; the cache writes as one (the total and its TTL
    /// split are mapped together or taken together).
    pub(crate) fn set_tokens(&self, raw: &mut RawLine<'_>, values: [Lenient<u64>; TOKEN_SLOTS]) {
        for (found, v) in self.found.iter().zip(&values) {
            if v.is_present() && !found.load(Ordering::Relaxed) {
                found.store(true, Ordering::Relaxed);
            }
        }
        if !self.found[TOKEN_SLOTS].load(Ordering::Relaxed) {
            self.found[TOKEN_SLOTS].store(true, Ordering::Relaxed);
        }
        let c = &self.config;
        let mapped = c.token_paths().map(|p| p.is_some());
        let mut values = values;
        if !mapped.iter().all(|m| *m) {
            // A usage whose only counts are details (cached tokens beside
            // a mapped input of another name, `usage.input`) is read with
            // the mapped input as its own (hunt127: the cached tokens went
            // unread, +19%).
            let probe;
            let usage = if !raw.usage.has_main_count() && values[0].is_present() {
                probe = raw
                    .usage
                    .with_input(values[0].clone(), c.input_includes_cache);
                &probe
            } else {
                &raw.usage
            };
            if let Some(h) = usage.normalise(&mut Problems::default()) {
                let input = if c.input_includes_cache {
                    h.input
                } else {
                    h.uncached_input()
                };
                let output = if c.output_includes_reasoning {
                    h.output
                } else {
                    h.visible_output()
                };
                let found = [
                    input,
                    h.cached_read,
                    h.cache_write,
                    0, // the 5-minute part: the total less the 1-hour one
                    h.cache_write_1h,
                    output,
                    h.reasoning,
                ];
                // A mapped input (output) that is not what the heuristics
                // read as one, in the mapping's convention (another source,
                // or the other convention), takes no parts from them: the
                // cache counts (reasoning) would not be its parts.
                // Heuristics that found no input (output) count of their
                // own found only its parts: they are the mapped one's.
                let u = &raw.usage;
                let own_input = u.prompt_tokens.is_present()
                    || u.input_tokens.is_present()
                    || u.prompt_token_count.is_present();
                let own_output = u.completion_tokens.is_present()
                    || u.output_tokens.is_present()
                    || u.candidates_token_count.is_present();
                // A mapped count that is the heuristics' in the other
                // convention (Anthropic's `input_tokens` mapped with the
                // default `input_includes_cache`; Gemini's candidates
                // without the thoughts) is read in theirs: the log's own
                // keys say which it is.
                let other = [
                    if c.input_includes_cache {
                        h.uncached_input()
                    } else {
                        h.input
                    },
                    if c.output_includes_reasoning {
                        h.visible_output()
                    } else {
                        h.output
                    },
                ];
                for (i, (own, other)) in [(0, (own_input, other[0])), (5, (own_output, other[1]))] {
                    if own && mapped[i] && other != found[i] && values[i] == Lenient::Value(other) {
                        values[i] = Lenient::Value(found[i]);
                    }
                }
                let agrees = |i: usize| match &values[i] {
                    Lenient::Value(v) => *v == found[i],
                    _ => true,
                };
                let (input_agrees, output_agrees) =
                    (!own_input || agrees(0), !own_output || agrees(5));
                let writes_mapped = mapped[2] || mapped[3] || mapped[4];
                for (i, (v, n)) in values.iter_mut().zip(found).enumerate() {
                    let take = match i {
                        1 => input_agrees,
                        2..=4 => input_agrees && !writes_mapped,
                        6 => output_agrees,
                        _ => true,
                    };
                    // A mapped path the line lacks (misspelled, or
                    // another shape's line) takes what was found too
                    // (hunt127: a misspelled input beside its usage object
                    // rejected the call, told of the cache convention).
                    if (!mapped[i] || !v.is_present()) && take && n > 0 {
                        *v = Lenient::Value(n);
                    }
                }
            }
        }
        let [input, cached, write, write_5m, write_1h, mut output, reasoning] = values;
        if let (true, Lenient::Value(o), Lenient::Value(r)) =
            (c.output_includes_reasoning, &output, &reasoning)
        {
            if r > o {
                self.reasoning_beside.fetch_add(1, Ordering::Relaxed);
            }
        }
        if !c.output_includes_reasoning {
            if let (Lenient::Value(o), Lenient::Value(r)) = (&output, &reasoning) {
                output = Lenient::Value(o + r);
            }
        }
        let mut u = crate::record::fields::RawUsage {
            completion_tokens: output,
            reasoning_tokens: reasoning,
            cache_creation_input_tokens: write,
            cache_write_5m: write_5m,
            cache_write_1h: write_1h,
            extras: raw.usage.extras.take(),
            tier: raw.usage.tier,
            us_only: raw.usage.us_only,
            cost: std::mem::take(&mut raw.usage.cost),
            ..Default::default()
        };
        if c.input_includes_cache {
            // Read as OpenAI-style counts: prompt_tokens includes the cache.
            u.prompt_tokens = input;
            u.cached_tokens = cached;
        } else {
            // Read as Anthropic-style counts: input excludes the cache.
            u.input_tokens = input;
            u.output_tokens = u.completion_tokens.clone();
            u.completion_tokens = Lenient::Missing;
            u.cache_read_input_tokens = cached;
        }
        raw.usage = u;
    }

    fn timestamp(&self, x: &Value) -> LTime {
        if let Value::String(text) = x {
            if let Some(t) = self.formatted_time(text) {
                return t;
            }
        }
        let (number, text) = match x {
            Value::Number(n) => (n.as_f64(), Some(n.to_string())),
            Value::String(s) => (s.trim().parse::<f64>().ok(), Some(s.clone())),
            _ => (None, None),
        };
        self.timestamp_of(number, text.as_deref(), || {
            LTime::deserialize(x).unwrap_or_default()
        })
    }

    /// A mapped timestamp's text read by the mapping's `timestamp_format`:
    /// with an offset when the format has one, else UTC; a date alone is
    /// its midnight. `None` without a format, or for text it does not fit
    /// (read then as any timestamp: an RFC 3339 time, a Parquet timestamp
    /// column).
    pub(crate) fn formatted_time(&self, text: &str) -> Option<LTime> {
        let f = self.config.timestamp_format.as_deref()?;
        let t = text.trim();
        let read = chrono::DateTime::parse_from_str(t, f)
            .map(|d| d.with_timezone(&Utc))
            .or_else(|_| chrono::NaiveDateTime::parse_from_str(t, f).map(|n| n.and_utc()))
            .or_else(|_| {
                chrono::NaiveDate::parse_from_str(t, f)
                    .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc())
            });
        read.ok().map(|t| LTime(Lenient::Value(t)))
    }

    /// A mapped timestamp: `number` is the value as a number (a JSON number,
    /// or a string that parses as one), converted by the mapping's unit and
    /// origin, exactly from its decimal `text` when it has one (hunt124:
    /// through an f64, 23:59:59.999999999 in nanoseconds was the next day's
    /// midnight, and 1790841600.123 seconds .122999808); otherwise `read`
    /// reads it as any timestamp.
    pub(crate) fn timestamp_of(
        &self,
        number: Option<f64>,
        text: Option<&str>,
        read: impl FnOnce() -> LTime,
    ) -> LTime {
        let per_unit = |unit: Option<TimeUnit>| match unit {
            Some(TimeUnit::S) => 1_000_000_000,
            Some(TimeUnit::Ms) | None => 1_000_000,
            Some(TimeUnit::Us) => 1_000,
            Some(TimeUnit::Ns) => 1,
        };
        let nanos = |n: f64, unit: Option<TimeUnit>| -> Option<i64> {
            let per = per_unit(unit);
            match text.and_then(|t| decimal_nanos(t, per)) {
                Some(exact) => i64::try_from(exact).ok(),
                None => whole_nanos(n * per as f64),
            }
        };
        let unit = self.config.timestamp_unit;
        match (number, self.origin) {
            (Some(n), Some(origin)) => {
                // Relative to the origin; without a unit, milliseconds.
                LTime(
                    nanos(n, unit)
                        .and_then(|d| origin.checked_add_signed(chrono::Duration::nanoseconds(d)))
                        .map_or(Lenient::WrongType, Lenient::Value),
                )
            }
            (Some(n), None) if unit.is_some() => {
                LTime(nanos(n, unit).map_or(Lenient::WrongType, |d| {
                    Lenient::Value(chrono::TimeZone::timestamp_nanos(&Utc, d))
                }))
            }
            _ => read(),
        }
    }
}

/// `text`, a decimal number (`-12`, `1790841600.123`; no exponent), times
/// `per` as a whole count, rounded half away from zero; `None` for other
/// text or when it does not fit.
fn decimal_nanos(text: &str, per: i128) -> Option<i128> {
    let t = text.trim();
    let (negative, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (whole, fraction) = t.split_once('.').unwrap_or((t, ""));
    if (whole.is_empty() && fraction.is_empty())
        || fraction.len() > 18
        || !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let digits: i128 = format!("{whole}{fraction}").parse().ok()?;
    let scale = 10i128.pow(fraction.len() as u32);
    let n = digits.checked_mul(per)?;
    let rounded = (n + scale / 2) / scale;
    Some(if negative { -rounded } else { rounded })
}

/// Nanoseconds as a whole count, when they fit (an epoch in another unit
/// than the mapping says falls outside: not clamped to the year 2262, but
/// read as no time). Rounded: an f64 of milliseconds is not exact.
fn whole_nanos(nanos: f64) -> Option<i64> {
    let n = nanos.round();
    (n.is_finite() && n > i64::MIN as f64 && n < i64::MAX as f64).then_some(n as i64)
}

/// The token slots of a mapping (see [`MappingConfig::token_paths`]).
pub(crate) const TOKEN_SLOTS: usize = 7;

impl MappingConfig {
    /// The token paths, in the order of [`Mapping::set_tokens`]: input,
    /// cached read, cache write, 5-minute and 1-hour cache write, output,
    /// reasoning.
    pub(crate) fn token_paths(&self) -> [&Option<Paths>; TOKEN_SLOTS] {
        [
            &self.input_tokens,
            &self.cached_read_tokens,
            &self.cache_write_tokens,
            &self.cache_write_5m_tokens,
            &self.cache_write_1h_tokens,
            &self.output_tokens,
            &self.reasoning_tokens,
        ]
    }

    /// The objects that hold the mapped input and output counts (their
    /// paths less the last key), input's first: read as the usage object
    /// when `usage` is not given.
    fn count_objects(&self) -> Option<Paths> {
        let mut out: Vec<String> = Vec::new();
        let counts = [&self.input_tokens, &self.output_tokens];
        for path in counts.into_iter().flatten().flat_map(Paths::iter) {
            if let Some((parent, _)) = path.rsplit_once('.') {
                if !parent.trim().is_empty() && !out.iter().any(|p| p == parent) {
                    out.push(parent.to_string());
                }
            }
        }
        match out.len() {
            0 => None,
            1 => Some(Paths::One(out.remove(0))),
            _ => Some(Paths::Many(out)),
        }
    }

    fn named_paths(&self) -> Vec<(&'static str, &Paths)> {
        let mut out = Vec::new();
        macro_rules! p {
            ($($f:ident),*) => { $( if let Some(p) = &self.$f { out.push((stringify!($f), p)); } )* };
        }
        p!(
            timestamp,
            request_id,
            provider,
            model,
            feature,
            route,
            team,
            user,
            session,
            turn,
            status,
            error_kind,
            http_status,
            attempt,
            retry_of,
            latency_ms,
            ttft_ms,
            batch,
            cache_hit,
            finish_reason,
            max_tokens,
            prompt_fingerprint,
            prefix_fingerprint,
            prefix_tokens,
            messages,
            prompt,
            system,
            cost,
            input_tokens,
            cached_read_tokens,
            cache_write_tokens,
            cache_write_5m_tokens,
            cache_write_1h_tokens,
            output_tokens,
            reasoning_tokens,
            usage
        );
        out
    }
}

/// Reads a line's object into a JSON tree of only the keys in the set,
/// stepping over the other values without building them (a line's prompt,
/// for one, is usually its largest part and rarely mapped). Later duplicate
/// keys win, as in a full `serde_json::Value`.
struct Pruned<'k>(&'k [u64]);

fn key_hash(key: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(key.as_bytes())
}

impl<'de> serde::de::DeserializeSeed<'de> for Pruned<'_> {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Pruned<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            if self.0.binary_search(&key_hash(&key)).is_ok() {
                out.insert(key.into_owned(), map.next_value()?);
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(Value::Object(out))
    }
}

/// An object key, borrowed from the line unless it has escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Key<'de>, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_str(V)
    }
}

/// A mapped usage object (an object, or JSON text of one), read as the
/// gateway reader reads a line's `usage`; `None` for any other value.
pub(crate) fn usage_object(x: &Value) -> Option<crate::record::fields::RawUsage> {
    let text = match x {
        Value::Object(_) => x.to_string(),
        Value::String(t) if t.trim_start().starts_with('{') => t.clone(),
        _ => return None,
    };
    let line = format!("{{\"usage\":{text}}}");
    gateway::parse_raw_str(&line).ok().map(|raw| raw.usage)
}

/// The first path that resolves to a value: a null or blank one (an empty
/// CSV cell) is none, and the next path is tried.
fn find<'v>(v: &'v Value, paths: &Paths) -> Option<Cow<'v, Value>> {
    paths
        .iter()
        .filter_map(|p| lookup(v, p))
        .map(json_string_text)
        .find(|x| !is_blank(x))
}

/// A string that is JSON text of a string (`"\"gpt-4o\""`, as MLflow
/// stores every span attribute): the string it holds (hunt98: the model
/// was `"gpt-4o"` with its quotes, unpriced).
fn json_string_text(x: Cow<'_, Value>) -> Cow<'_, Value> {
    if let Value::String(text) = &*x {
        if let Some(inner) = crate::source::container::json_string_literal(text.trim()) {
            return Cow::Owned(Value::String(inner));
        }
    }
    x
}

/// A value that is no value: null, or a string of only whitespace.
fn is_blank(x: &Value) -> bool {
    match x {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

/// Resolves a dotted path, preferring whole keys that contain dots. A
/// path that goes on through a string holding a JSON object or list (a
/// warehouse's JSON column exported as text: BigQuery's `full_response`)
/// goes on inside that JSON.
pub fn lookup<'v>(v: &'v Value, path: &str) -> Option<Cow<'v, Value>> {
    match v {
        Value::Object(m) => {
            if let Some(x) = m.get(path) {
                return Some(Cow::Borrowed(x));
            }
            for (i, _) in path.match_indices('.') {
                if let Some(x) = m.get(&path[..i]) {
                    if let Some(found) = lookup(x, &path[i + 1..]) {
                        return Some(found);
                    }
                }
            }
            None
        }
        Value::Array(items) => {
            let (head, rest) = match path.find('.') {
                Some(i) => (&path[..i], Some(&path[i + 1..])),
                None => (path, None),
            };
            let item = items.get(head.parse::<usize>().ok()?)?;
            match rest {
                Some(r) => lookup(item, r),
                None => Some(Cow::Borrowed(item)),
            }
        }
        // (Also JSON text written twice over: a string of JSON text.)
        Value::String(text) if text.trim_start().starts_with(['{', '[', '"']) => {
            let inner: Value = serde_json::from_str(text).ok()?;
            lookup(&inner, path).map(|x| Cow::Owned(x.into_owned()))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokenaudit_core::Usage;

    fn mapping(toml_text: &str) -> Mapping {
        #[derive(Deserialize)]
        struct Wrap {
            mapping: MappingConfig,
        }
        let w: Wrap = toml::from_str(toml_text).unwrap();
        Mapping::new(w.mapping).unwrap()
    }

    #[test]
    fn maps_custom_paths_and_defaults() {
        let m = mapping(
            r#"
            [mapping]
            model = "payload.llm.model_name"
            feature = ["labels.feature", "service"]
            input_tokens = "payload.llm.tokens_in"
            output_tokens = "payload.llm.tokens_out"
            cached_read_tokens = "payload.llm.tokens_cached"
            timestamp = "ts"
            timestamp_unit = "ms"
            [mapping.defaults]
            provider = "openai"
            [mapping.tags]
            env = "labels.env"
            "#,
        );
        let line = br#"{"ts":1790841600000,"service":"search","labels":{"env":"prod"},"payload":{"llm":{"model_name":"gpt-4o","tokens_in":1000,"tokens_out":50,"tokens_cached":400}}}"#;
        let r = m.parse_line(line).unwrap();
        assert_eq!(r.model, "gpt-4o");
        assert_eq!(r.feature.as_deref(), Some("search"));
        assert_eq!(r.provider.as_deref(), Some("openai"));
        assert_eq!(r.timestamp.unwrap().timestamp(), 1790841600);
        assert_eq!(
            r.usage,
            Usage {
                input: 1000,
                cached_read: 400,
                cache_write: 0,
                cache_write_1h: 0,
                output: 50,
                reasoning: 0,
                ..Default::default()
            }
        );
        assert_eq!(r.tags, vec![(Cow::Borrowed("env"), Cow::Borrowed("prod"))]);
    }

    #[test]
    fn exclusive_input_convention_adds_cache() {
        let m = mapping(
            r#"
            [mapping]
            input_tokens = "in"
            cached_read_tokens = "cr"
            cache_write_tokens = "cw"
            output_tokens = "out"
            input_includes_cache = false
            [mapping.defaults]
            model = "claude-sonnet-4-5"
            "#,
        );
        let r = m
            .parse_line(br#"{"in":10,"cr":1000,"cw":200,"out":5}"#)
            .unwrap();
        assert_eq!(r.usage.input, 1210);
        assert_eq!(r.usage.uncached_input(), 10);
        assert_eq!(r.model, "claude-sonnet-4-5");
    }

    #[test]
    fn relative_trace_timestamps_and_dotted_keys() {
        // The Mooncake trace shape: ms from the start of the trace.
        let m = mapping(
            r#"
            [mapping]
            input_tokens = "input_length"
            output_tokens = "output_length"
            timestamp = "timestamp"
            timestamp_origin = "2025-01-01T00:00:00Z"
            [mapping.defaults]
            model = "kimi-k2"
            "#,
        );
        let r = m.parse_line(br#"{"timestamp": 61000, "input_length": 6758, "output_length": 500, "hash_ids": [0, 1]}"#).unwrap();
        assert_eq!(
            r.timestamp.unwrap().to_rfc3339(),
            "2025-01-01T00:01:01+00:00"
        );
        assert_eq!(r.usage.input, 6758);
        let v: Value =
            serde_json::from_str(r#"{"gen_ai.usage.input_tokens":5,"a":{"b":[{"c":7}]}}"#).unwrap();
        assert_eq!(
            lookup(&v, "gen_ai.usage.input_tokens").as_deref(),
            Some(&Value::from(5))
        );
        assert_eq!(lookup(&v, "a.b.0.c").as_deref(), Some(&Value::from(7)));
        assert_eq!(lookup(&v, "a.b.1.c"), None);
        // `[mapping.only]`'s values: numbers as numbers, text as text.
        let w = Wanted(vec!["1".into(), "LLM".into(), "1.10".into()]);
        assert!(w.takes("1.0", true) && w.takes("1e0", true) && w.takes("1", false));
        assert!(w.takes("llm", false) && w.takes("1.1", true));
        assert!(!w.takes("2", true) && !w.takes("chain", false) && !w.takes("1.1", false));
        let id = Wanted(vec!["9007199254740993".into()]);
        assert!(!id.takes("9007199254740992", true) && id.takes("9007199254740993", true));
        // Through JSON text: an object's keys and a list's indexes.
        let v: Value = serde_json::from_str(
            r#"{"full_response":"{\"usageMetadata\":{\"promptTokenCount\":9}}","l":"[{\"n\":3}]","s":"plain"}"#,
        )
        .unwrap();
        assert_eq!(
            lookup(&v, "full_response.usageMetadata.promptTokenCount").as_deref(),
            Some(&Value::from(9))
        );
        assert_eq!(lookup(&v, "l.0.n").as_deref(), Some(&Value::from(3)));
        assert_eq!(lookup(&v, "s.x"), None);
    }

    /// Only the keys a path can start with are built into the tree; the
    /// result is the same as reading the whole line.
    #[test]
    fn a_line_is_read_like_its_whole_tree() {
        let m = mapping(
            r#"
            [mapping]
            model = "m\u0065ta.model"
            feature = "a.b.feature"
            input_tokens = "tok.in"
            output_tokens = "tok.out"
            [mapping.tags]
            kind = "k"
            "#,
        );
        // TOML decodes the path to `meta.model`; the line writes the key
        // `meta` with a JSON escape, which the reader must decode to match.
        let line = br#"{"messages":[{"role":"user","content":"long"}],"k":"first","m\u0065ta":{"model":"gpt-4o"},"a.b":{"feature":"whole-key"},"a":{"b":{"feature":"nested"}},"tok":{"in":10,"out":2},"k":"last"}"#;
        let r = m.parse_line(line).unwrap();
        let full: Value = serde_json::from_slice(line).unwrap();
        let mut raw = gateway::parse_raw(line).unwrap();
        m.apply(&mut raw, &full);
        let want = raw.into_record().unwrap();
        assert_eq!(format!("{r:?}"), format!("{want:?}"));
        // The first key on the path that leads somewhere wins (`a`, then
        // `b.feature`, before the whole key `a.b`); later duplicates win.
        assert_eq!(r.model, "gpt-4o");
        assert_eq!(r.feature.as_deref(), Some("nested"));
        assert!(r.tags.iter().any(|(k, v)| k == "kind" && v == "last"));
        assert_eq!((r.usage.input, r.usage.output), (10, 2));
    }

    #[test]
    fn unknown_keys_are_errors_naming_the_key() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Wrap {
            mapping: MappingConfig,
        }
        let err = toml::from_str::<Wrap>("[mapping]\nmodell = \"x\"\n").unwrap_err();
        assert!(err.to_string().contains("modell"), "{err}");
    }
}
