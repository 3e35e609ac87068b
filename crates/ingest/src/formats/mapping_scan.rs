//! The mapping's fast path: a user's `[mapping]` read in the gateway
//! scanner's own pass over the line, with no JSON tree and no copies.
//!
//! At config load, each mapped dotted path is compiled into a small key trie
//! ([`Compiled`]). A path means what [`crate::formats::mapping::lookup`] makes of it:
//! at an object, the whole rest of the path as one key first, then each
//! prefix at a dot (shortest first) followed by the rest; at an array, the
//! first segment as an index. So a path of `n` segments is the `2^(n-1)`
//! ways of grouping its segments into keys, tried in that order, and the
//! trie holds every grouping.
//!
//! Reading a line: the gateway reader scans it as usual and tells us each
//! top-level key with the offset of its value ([`gateway::TopKeys`]); a key
//! that starts a mapped path has its offset noted (a later duplicate
//! overwrites it, as in a JSON tree, where the last duplicate wins). Values
//! are read only when a mapped field asks for them, from their offset, with
//! the same [`Scanner`] and the same [`Scalar`] conversions the gateway
//! reader uses, strings borrowed from the line. A path that goes deeper
//! scans the one value it passes through for the keys (or indexes) it
//! needs, once per line.
//!
//! Most mappings name keys the gateway reader already reads into the same
//! field with the same conversion (`model = "model"`). When such a key is the
//! only source of that field on the line (it appears once, no other key the
//! gateway reads into the field is there, and no `metadata`/`request`-like
//! object could hold one), the gateway has already read exactly what the
//! mapping would, and the field is left as it is: that is what makes a
//! mapping nearly free.
//!
//! Whatever this path does not handle (the scanner's [`crate::json::scan::Bail`]:
//! invalid JSON, deep nesting, lone surrogates; paths of more than
//! [`MAX_SEGMENTS`] segments) is read by the tree implementation in
//! `mapping.rs`, which stays the reference; tests compare the two.

use std::cell::RefCell;

use crate::formats::gateway::{self, Field, TopKeys};
use crate::formats::mapping::{Mapping, MappingConfig, Paths};
use crate::json::scan::{Scan, Scanner};
use crate::record::fields::{LBool, LMoney, LStr, LTime, Lenient, Scalar, LU64};
use crate::record::staging::{LNum, RawLine};

/// Paths with more dot-separated segments than this (whose groupings double
/// with each segment) are left to the tree implementation.
pub const MAX_SEGMENTS: usize = 8;

/// A mapping's paths as a trie of keys, and what to do with each field.
#[derive(Clone, Debug)]
pub(crate) struct Compiled {
    /// `nodes[0]` is the line's object; every other node is a key (or an
    /// index) under its parent.
    nodes: Vec<Node>,
    /// The root's children that are looked up on every line (see
    /// [`Compiled::eager`]), grouped by the gateway meaning of their key,
    /// and where each meaning's group is (`by_field[field]`, a range of
    /// `root_keys`): a top-level key is compared only with the mapped keys
    /// of its meaning.
    root_keys: Vec<(Box<[u8]>, usize)>,
    by_field: [(u16, u16); 64],
    /// The meanings the hook does more than count: those with a group in
    /// `root_keys`, and tags (whose value's offset is kept). Every other
    /// key is only counted in [`Scratch::seen`] and never sliced.
    noted: u64,
    /// Every child of the root, for a line where a key that is not looked
    /// up eagerly turns out to be needed.
    all_root_keys: Vec<(Box<[u8]>, usize)>,
    /// By node: whether the hook notes it as the gateway scanner reads the
    /// line. The others are top-level keys only fields the gateway usually
    /// holds already ask for (see [`Same`]); on the rare line where one is
    /// needed, the top level is scanned again for them.
    eager: Vec<bool>,
    fields: Vec<FieldPlan>,
    /// The indexes in `fields` of the plans [`Compiled::read`] checks on a
    /// line where no key repeats among `plain_sources` and no
    /// `metadata`-like object is there: on such a line every other plan
    /// (a [`Same`] with one source and no check) finds the gateway already
    /// holds its value.
    checked: Vec<usize>,
    plain_sources: u64,
    timestamp: Option<(Lookup, Option<Same>)>,
    /// `timestamp`, `ts`, `time` at the top level, when a timestamp origin
    /// applies to the gateway's own timestamp (see `Mapping::apply`).
    origin_keys: Vec<usize>,
    tags: Vec<(String, Lookup)>,
    /// Whether every mapped tag is `NAME = "R.NAME"` for one key `R` that
    /// the gateway reads tags from (see [`Reader::gateway_has_tags`]).
    same_tags: bool,
    /// `input`, `cached_read`, `cache_write`, `cache_write_1h`, `output`,
    /// `reasoning`, when any token path is mapped.
    tokens: Option<[Lookup; crate::formats::mapping::TOKEN_SLOTS]>,
    /// The usage object (`Mapping`'s `usage`).
    usage: Option<Lookup>,
}

#[derive(Clone, Debug)]
struct Node {
    /// The key (one or more path segments joined by dots).
    key: Box<str>,
    /// The key as an array index, when it is one segment that parses as one.
    index: Option<usize>,
    parent: usize,
    children: Vec<usize>,
}

/// One mapped field's paths, each as the end nodes of its groupings in
/// lookup order. An empty lookup (an unmapped field) finds nothing.
#[derive(Clone, Debug, Default)]
struct Lookup {
    paths: Vec<Vec<usize>>,
}

#[derive(Clone, Debug)]
struct FieldPlan {
    slot: Slot,
    lookup: Lookup,
    /// When the gateway may already hold the mapped value (see the module
    /// docs).
    same: Option<Same>,
}

/// The mapped path is one top-level key `K` that the gateway reads into the
/// same field with the same conversion. `sources` are the gateway meanings
/// that write the field (`K`'s among them). The field is left to the
/// gateway when no key of the line has one of them (then `K` is absent and
/// the mapping sets nothing), or when exactly one key does, once, no
/// `metadata`-like object could hold another, and `check` holds: that key is
/// `K`, which the gateway read as the mapping would, or another, and then
/// `K` is absent.
#[derive(Clone, Copy, Debug)]
struct Same {
    sources: u64,
    check: Check,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Check {
    None,
    /// `status`: the gateway moves a numeric status to `http_status`, the
    /// mapping does not; equal only when the gateway kept it as the status.
    StatusKept,
    /// `http_status`: a lone `status` key may be there too, if the gateway
    /// kept it as the status (so it did not write `http_status`).
    StatusNotCode,
}

/// The raw field a mapped value goes to, and its conversion (those of
/// `Mapping::apply`).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Slot {
    RequestId,
    Provider,
    Model,
    Feature,
    Route,
    Team,
    User,
    Session,
    Turn,
    Status,
    ErrorKind,
    HttpStatus,
    Attempt,
    RetryOf,
    FinishReason,
    MaxTokens,
    PromptHash,
    PrefixHash,
    PrefixTokens,
    Latency,
    Ttft,
    Batch,
    CacheHit,
    Cost,
}

impl Slot {
    pub(crate) fn set<'a>(self, raw: &mut RawLine<'a>, x: Scalar<'a>) {
        match self {
            Slot::RequestId => raw.request_id = LStr(x.label()),
            Slot::Provider => raw.provider = LStr(x.label()),
            Slot::Model => raw.model = LStr(x.label()),
            Slot::Feature => raw.feature = LStr(x.label()),
            Slot::Route => raw.route = LStr(x.label()),
            Slot::Team => raw.team = LStr(x.label()),
            Slot::User => raw.user = LStr(x.label()),
            Slot::Session => raw.session = LStr(x.label()),
            Slot::Turn => raw.turn = LU64(x.count()),
            Slot::Status => raw.status = LStr(x.label()),
            Slot::ErrorKind => raw.error_kind = LStr(x.label()),
            Slot::HttpStatus => raw.http_status = LU64(x.count()),
            Slot::Attempt => raw.attempt = LU64(x.count()),
            Slot::RetryOf => raw.retry_of = LStr(x.label()),
            Slot::FinishReason => raw.finish_reason = LStr(x.label()),
            Slot::MaxTokens => raw.max_tokens = LU64(x.count()),
            Slot::PromptHash => raw.prompt_hash = LStr(x.label()),
            Slot::PrefixHash => raw.prefix_hash = LStr(x.label()),
            Slot::PrefixTokens => raw.prefix_tokens = LU64(x.count()),
            Slot::Latency => raw.latency_ms = LNum::from_scalar(x),
            Slot::Ttft => raw.ttft_ms = LNum::from_scalar(x),
            Slot::Batch => raw.batch = LBool::from_label(x.label()),
            Slot::CacheHit => raw.cache_hit = LBool::from_label(x.label()),
            Slot::Cost => raw.cost = LMoney::from_label(x.label()),
        }
    }
}

/// A mapped field as [`Compiled::new`] lists them: its paths, slot, the
/// gateway meaning of the same field, the meanings that write it, and the
/// check on the gateway's reading.
pub(crate) type Plan<'c> = (&'c Option<Paths>, Slot, Field, &'static [Field], Check);

fn bit(f: Field) -> u64 {
    1u64 << (f as u32)
}

// Field meanings are tracked in a `u64` bit set.
const _: () = assert!((Field::Other as u32) < 64);

/// Keys whose objects the gateway reads for fields too (`metadata`,
/// `request` …): with one on the line, no field is known to have a single
/// source.
fn nested_bits() -> u64 {
    bit(Field::Metadata) | bit(Field::Nested) | bit(Field::Choices)
}

/// The ways of grouping `segs` into keys, in the order `lookup` tries them.
pub(crate) fn groupings(segs: &[&str]) -> Vec<Vec<String>> {
    let mut out = vec![vec![segs.join(".")]];
    for k in 1..segs.len() {
        let head = segs[..k].join(".");
        for mut rest in groupings(&segs[k..]) {
            rest.insert(0, head.clone());
            out.push(rest);
        }
    }
    out
}

/// The mapped fields with a slot of their own, each with its paths, slot,
/// gateway meaning, the meanings that write it, and the check on the
/// gateway's reading.
pub(crate) fn table(c: &MappingConfig) -> [Plan<'_>; 24] {
    use Field as F;
    [
        (
            &c.request_id,
            Slot::RequestId,
            F::RequestId,
            &[F::RequestId],
            Check::None,
        ),
        (
            &c.provider,
            Slot::Provider,
            F::Provider,
            &[F::Provider],
            Check::None,
        ),
        (&c.model, Slot::Model, F::Model, &[F::Model], Check::None),
        (
            &c.feature,
            Slot::Feature,
            F::Feature,
            &[F::Feature],
            Check::None,
        ),
        (&c.route, Slot::Route, F::Route, &[F::Route], Check::None),
        (&c.team, Slot::Team, F::Team, &[F::Team], Check::None),
        (&c.user, Slot::User, F::User, &[F::User], Check::None),
        (
            &c.session,
            Slot::Session,
            F::Session,
            &[F::Session],
            Check::None,
        ),
        (&c.turn, Slot::Turn, F::Turn, &[F::Turn], Check::None),
        (
            &c.status,
            Slot::Status,
            F::Status,
            &[F::Status],
            Check::StatusKept,
        ),
        (
            &c.error_kind,
            Slot::ErrorKind,
            F::ErrorKind,
            &[F::ErrorKind, F::Error],
            Check::None,
        ),
        (
            &c.http_status,
            Slot::HttpStatus,
            F::HttpStatus,
            &[F::HttpStatus],
            Check::StatusNotCode,
        ),
        (
            &c.attempt,
            Slot::Attempt,
            F::Attempt,
            &[F::Attempt],
            Check::None,
        ),
        (
            &c.retry_of,
            Slot::RetryOf,
            F::RetryOf,
            &[F::RetryOf],
            Check::None,
        ),
        (
            &c.finish_reason,
            Slot::FinishReason,
            F::FinishReason,
            &[F::FinishReason],
            Check::None,
        ),
        (
            &c.max_tokens,
            Slot::MaxTokens,
            F::MaxTokens,
            &[F::MaxTokens],
            Check::None,
        ),
        (
            &c.prompt_fingerprint,
            Slot::PromptHash,
            F::PromptHash,
            &[F::PromptHash],
            Check::None,
        ),
        (
            &c.prefix_fingerprint,
            Slot::PrefixHash,
            F::PrefixHash,
            &[F::PrefixHash],
            Check::None,
        ),
        (
            &c.prefix_tokens,
            Slot::PrefixTokens,
            F::PrefixTokens,
            &[F::PrefixTokens],
            Check::None,
        ),
        (
            &c.latency_ms,
            Slot::Latency,
            F::Latency,
            &[F::Latency],
            Check::None,
        ),
        (&c.ttft_ms, Slot::Ttft, F::Ttft, &[F::Ttft], Check::None),
        (&c.batch, Slot::Batch, F::Batch, &[F::Batch], Check::None),
        (
            &c.cache_hit,
            Slot::CacheHit,
            F::CacheHit,
            &[F::CacheHit],
            Check::None,
        ),
        (&c.cost, Slot::Cost, F::Cost, &[F::Cost], Check::None),
    ]
}

impl Compiled {
    /// Compiles a validated mapping; `None` when a path is too long (then
    /// the tree implementation reads every line).
    pub(crate) fn new(
        c: &MappingConfig,
        has_origin: bool,
        usage: Option<&Paths>,
    ) -> Option<Compiled> {
        let mut t = Compiled {
            nodes: vec![Node {
                key: "".into(),
                index: None,
                parent: 0,
                children: Vec::new(),
            }],
            root_keys: Vec::new(),
            by_field: [(0, 0); 64],
            noted: bit(Field::Tags),
            all_root_keys: Vec::new(),
            eager: Vec::new(),
            fields: Vec::new(),
            checked: Vec::new(),
            plain_sources: 0,
            timestamp: None,
            origin_keys: Vec::new(),
            tags: Vec::new(),
            same_tags: false,
            tokens: None,
            usage: None,
        };
        let table = table(c);
        for (paths, slot, field, sources, check) in table {
            let Some(paths) = paths else { continue };
            let lookup = t.lookup(paths)?;
            let same = Compiled::same(paths, &lookup, field, sources, check);
            match same {
                Some(s) if s.check == Check::None && s.sources.is_power_of_two() => {
                    t.plain_sources |= s.sources;
                }
                _ => t.checked.push(t.fields.len()),
            }
            t.fields.push(FieldPlan { slot, lookup, same });
        }
        if let Some(paths) = &c.timestamp {
            let lookup = t.lookup(paths)?;
            // The mapping converts numbers by its unit and origin; without
            // them it reads a timestamp as the gateway does.
            let plain = c.timestamp_unit.is_none() && c.timestamp_format.is_none() && !has_origin;
            let same = plain
                .then(|| {
                    Compiled::same(
                        paths,
                        &lookup,
                        Field::Timestamp,
                        &[Field::Timestamp],
                        Check::None,
                    )
                })
                .flatten();
            t.timestamp = Some((lookup, same));
        }
        if has_origin {
            for key in ["timestamp", "ts", "time"] {
                let id = t.child(0, key);
                t.origin_keys.push(id);
            }
        }
        for (key, paths) in &c.tags {
            let lookup = t.lookup(paths)?;
            t.tags.push((key.clone(), lookup));
        }
        t.same_tags = Compiled::same_tags(c);
        let token_paths = c.token_paths();
        if token_paths.iter().any(|p| p.is_some()) {
            let mut out: [Lookup; crate::formats::mapping::TOKEN_SLOTS] = Default::default();
            for (slot, paths) in out.iter_mut().zip(token_paths) {
                if let Some(p) = paths {
                    *slot = t.lookup(p)?;
                }
            }
            t.tokens = Some(out);
        }
        if let Some(paths) = usage {
            t.usage = Some(t.lookup(paths)?);
        }
        t.mark_eager();
        let mut root: Vec<(usize, usize)> = t.nodes[0]
            .children
            .iter()
            .filter(|&&id| t.eager[id])
            .map(|&id| (gateway::field(&t.nodes[id].key) as usize, id))
            .collect();
        root.sort();
        if root.len() > usize::from(u16::MAX) {
            return None;
        }
        for (i, &(f, id)) in root.iter().enumerate() {
            let range = &mut t.by_field[f];
            if range.0 == range.1 {
                range.0 = i as u16;
            }
            range.1 = i as u16 + 1;
            t.noted |= 1u64 << f;
            t.root_keys.push((t.nodes[id].key.as_bytes().into(), id));
        }
        t.all_root_keys = t.nodes[0]
            .children
            .iter()
            .map(|&id| (t.nodes[id].key.as_bytes().into(), id))
            .collect();
        Some(t)
    }

    /// Marks the top-level keys that are looked up on every line: those of
    /// every lookup not covered by a [`Same`] or by `same_tags`, the keys `R.T`
    /// `same_tags` checks for, and the timestamp origin's keys.
    fn mark_eager(&mut self) {
        let mut ends: Vec<usize> = Vec::new();
        let mut all = |lookup: &Lookup| ends.extend(lookup.paths.iter().flatten());
        for plan in self.fields.iter().filter(|p| p.same.is_none()) {
            all(&plan.lookup);
        }
        if let Some((lookup, None)) = &self.timestamp {
            all(lookup);
        }
        if !self.same_tags {
            self.tags.iter().for_each(|(_, l)| all(l));
        }
        if let Some(tokens) = &self.tokens {
            tokens.iter().for_each(&mut all);
        }
        if let Some(usage) = &self.usage {
            all(usage);
        }
        if self.same_tags {
            // The first grouping of `R.T` is the top-level key `R.T`.
            ends.extend(self.tags.iter().map(|(_, l)| l.paths[0][0]));
        }
        ends.extend(&self.origin_keys);
        let mut eager = vec![false; self.nodes.len()];
        for mut id in ends {
            while self.nodes[id].parent != 0 {
                id = self.nodes[id].parent;
            }
            eager[id] = true;
        }
        self.eager = eager;
    }

    /// The child of `parent` with this key, added if new.
    fn child(&mut self, parent: usize, key: &str) -> usize {
        if let Some(&id) = self.nodes[parent]
            .children
            .iter()
            .find(|&&id| &*self.nodes[id].key == key)
        {
            return id;
        }
        let id = self.nodes.len();
        self.nodes.push(Node {
            key: key.into(),
            index: key.parse::<usize>().ok(),
            parent,
            children: Vec::new(),
        });
        self.nodes[parent].children.push(id);
        id
    }

    fn lookup(&mut self, paths: &Paths) -> Option<Lookup> {
        let mut out = Lookup::default();
        for path in paths.iter() {
            let segs: Vec<&str> = path.split('.').collect();
            if segs.len() > MAX_SEGMENTS {
                return None;
            }
            let ends = groupings(&segs)
                .into_iter()
                .map(|keys| keys.iter().fold(0, |node, key| self.child(node, key)))
                .collect();
            out.paths.push(ends);
        }
        Some(out)
    }

    /// Whether every mapped tag is `NAME = "R.NAME"` for one key `R` that
    /// the gateway reads tags from (`tags`, `labels` …).
    fn same_tags(c: &MappingConfig) -> bool {
        let mut root = None;
        for (name, paths) in &c.tags {
            let Paths::One(path) = paths else {
                return false;
            };
            let Some((r, t)) = path.split_once('.') else {
                return false;
            };
            if t != name || t.contains('.') || t.trim().is_empty() {
                return false;
            }
            if gateway::field(r) != Field::Tags || root.is_some_and(|x| x != r) {
                return false;
            }
            root = Some(r);
        }
        root.is_some()
    }

    /// Whether the gateway may already hold what `paths` would read: one
    /// path, one top-level key, that the gateway reads as `field`.
    fn same(
        paths: &Paths,
        lookup: &Lookup,
        field: Field,
        sources: &[Field],
        check: Check,
    ) -> Option<Same> {
        let [ends] = lookup.paths.as_slice() else {
            return None;
        };
        let key = paths.iter().next()?;
        if ends.len() != 1 || key.contains('.') || gateway::field(key) != field {
            return None;
        }
        Some(Same {
            sources: sources.iter().fold(0, |m, &f| m | bit(f)),
            check,
        })
    }

    /// Reads one line: the gateway reader, then the mapping on top.
    ///
    /// `raw` is filled in place (it is about a kilobyte, and moving it
    /// costs a copy per line); false when the scanner gave up on the line,
    /// which the caller then reads with the tree implementation.
    pub(crate) fn read<'a>(&self, m: &Mapping, line: &'a str, raw: &mut RawLine<'a>) -> bool {
        SCRATCH.with(|cell| {
            let Ok(mut sc) = cell.try_borrow_mut() else {
                return false;
            };
            sc.begin(self.nodes.len());
            let mut keys = Keys {
                seen: 0,
                repeated: 0,
                noted: self.noted,
                c: self,
                sc: &mut sc,
            };
            if gateway::scan_raw_keys(line, raw, &mut keys).is_err() {
                return false;
            }
            (sc.seen, sc.repeated) = (keys.seen, keys.repeated);
            let mut r = Reader {
                c: self,
                sc: &mut sc,
                line,
            };
            r.apply(m, raw).is_ok()
        })
    }
}

/// Per-thread state of the line being read: which nodes were found (a node
/// counts only if stamped with the current line's generation, so nothing is
/// cleared between lines), where their values start, which were scanned for
/// their children, and the gateway meanings of the line's top-level keys.
#[derive(Default)]
struct Scratch {
    generation: u32,
    stamp: Vec<u32>,
    at: Vec<usize>,
    expanded: Vec<u32>,
    /// The gateway meanings of the line's top-level keys, and those seen
    /// more than once.
    seen: u64,
    repeated: u64,
    /// Where the value of the last top-level key the gateway reads tags
    /// from starts.
    tags_at: usize,
    /// Whether the top level was scanned again for every mapped key.
    rescanned: bool,
}

impl Scratch {
    fn begin(&mut self, nodes: usize) {
        if self.stamp.len() < nodes {
            self.stamp.resize(nodes, 0);
            self.at.resize(nodes, 0);
            self.expanded.resize(nodes, 0);
        }
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.stamp.fill(0);
            self.expanded.fill(0);
            self.generation = 1;
        }
        self.seen = 0;
        self.repeated = 0;
        self.rescanned = false;
    }

    #[inline]
    fn found(&mut self, node: usize, at: usize) {
        self.stamp[node] = self.generation;
        self.at[node] = at;
    }

    #[inline]
    fn is_found(&self, node: usize) -> bool {
        self.stamp[node] == self.generation
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::default();
}

/// Notes the top-level keys the gateway scanner reads.
struct Keys<'c> {
    /// [`Scratch::seen`] and [`Scratch::repeated`] as they are built, and
    /// [`Compiled::noted`]: kept here, next to each other, they are a few
    /// instructions a key.
    seen: u64,
    repeated: u64,
    noted: u64,
    c: &'c Compiled,
    sc: &'c mut Scratch,
}

impl TopKeys for Keys<'_> {
    #[inline]
    fn key<'k>(&mut self, key: impl FnOnce() -> &'k [u8], field: Field, value_at: usize) {
        let b = bit(field);
        self.repeated |= self.seen & b;
        self.seen |= b;
        if self.noted & b != 0 {
            self.note(key(), field, value_at);
        }
    }
}

impl Keys<'_> {
    /// A key whose meaning the mapping looks at: tags, or a mapped key's.
    #[inline(never)]
    fn note(&mut self, key: &[u8], field: Field, value_at: usize) {
        if field == Field::Tags {
            self.sc.tags_at = value_at;
        }
        let (from, to) = self.c.by_field[field as usize];
        for (k, id) in &self.c.root_keys[usize::from(from)..usize::from(to)] {
            if same_key(k, key) {
                self.sc.found(*id, value_at);
                break;
            }
        }
    }
}

struct Reader<'c, 'a> {
    c: &'c Compiled,
    sc: &'c mut Scratch,
    line: &'a str,
}

impl<'a> Reader<'_, 'a> {
    /// `Mapping::apply`, reading values from the line instead of a tree.
    fn apply(&mut self, m: &Mapping, raw: &mut RawLine<'a>) -> Scan<()> {
        let c = self.c;
        // Whether the gateway kept a status, before the mapping sets one.
        let status_kept = raw.status.0.is_present();
        let sc = &*self.sc;
        if sc.seen & nested_bits() == 0 && sc.repeated & c.plain_sources == 0 {
            for &i in &c.checked {
                let plan = &c.fields[i];
                if !self.gateway_has(plan.same, status_kept) {
                    self.apply_plan(plan, raw)?;
                }
            }
        } else {
            for plan in &c.fields {
                if !self.gateway_has(plan.same, status_kept) {
                    self.apply_plan(plan, raw)?;
                }
            }
        }
        if let Some((lookup, same)) = &c.timestamp {
            if !self.gateway_has(*same, status_kept) {
                match self.find(lookup)? {
                    Some(x) => raw.timestamp = time(m, x),
                    None => self.origin_timestamp(m, raw)?,
                }
            }
        } else {
            self.origin_timestamp(m, raw)?;
        }
        if !self.gateway_has_tags(raw) {
            for (key, lookup) in &c.tags {
                if let Some(x) = self.find(lookup)? {
                    if let Lenient::Value(text) = x.label() {
                        m.set_tag(raw, key, text);
                    }
                }
            }
        }
        if let Some(lookup) = &c.usage {
            if let Some(at) = self.find_object(lookup)? {
                let u = gateway::scan_usage_object(&self.line[at..])?;
                raw.usage.take_mapped(u, m.usage_named());
            }
        }
        if let Some(tokens) = &c.tokens {
            let mut values: [Lenient<u64>; crate::formats::mapping::TOKEN_SLOTS] =
                Default::default();
            for (v, lookup) in values.iter_mut().zip(tokens) {
                if let Some(x) = self.find(lookup)? {
                    *v = x.count();
                }
            }
            m.set_tokens(raw, values);
        }
        m.apply_defaults(raw);
        Ok(())
    }

    /// One mapped field the gateway does not already hold.
    fn apply_plan(&mut self, plan: &FieldPlan, raw: &mut RawLine<'a>) -> Scan<()> {
        if let Some(x) = self.find(&plan.lookup)? {
            plan.slot.set(raw, x);
        }
        Ok(())
    }

    /// Relative numeric timestamps found by the gateway get the origin too.
    fn origin_timestamp(&mut self, m: &Mapping, raw: &mut RawLine<'a>) -> Scan<()> {
        if let (Some(_), Lenient::Value(_)) = (m.origin(), &raw.timestamp.0) {
            for &id in &self.c.origin_keys {
                if self.sc.is_found(id) {
                    let x = self.read(self.sc.at[id])?;
                    raw.timestamp = time(m, x);
                    break;
                }
            }
        }
        Ok(())
    }

    /// Whether the gateway already read exactly what the plan would (see
    /// [`Same`]).
    #[inline(always)]
    fn gateway_has(&self, same: Option<Same>, status_kept: bool) -> bool {
        let Some(same) = same else {
            return false;
        };
        let sc = &*self.sc;
        let present = sc.seen & same.sources;
        if present == 0 {
            return true;
        }
        let status = bit(Field::Status);
        sc.seen & nested_bits() == 0
            && present.is_power_of_two()
            && sc.repeated & same.sources == 0
            && match same.check {
                Check::None => true,
                Check::StatusKept => status_kept,
                Check::StatusNotCode => {
                    sc.seen & status == 0 || (sc.repeated & status == 0 && status_kept)
                }
            }
    }

    /// Whether the mapped tags would leave the gateway's tags as they are.
    ///
    /// With every mapped tag `T = "R.T"`, `R` the line's one key the gateway
    /// reads tags from (once; no `metadata`-like object that adds tags), an
    /// object, and no top-level key `R.T` (which the path would prefer): the
    /// gateway's tags are `(key, value)` for each key of `R` whose key and
    /// value are present, in order. The mapping, for each `T` in name order,
    /// either does nothing (`T` absent from `R`, or its last value null,
    /// blank or not a scalar) or removes every `T` tag and appends `T` with
    /// the last value of `T` in `R`. When the gateway has at most one tag
    /// named `T`, that is the same tag and value; and when the gateway's
    /// mapped tags come last, each once, in name order, removing and
    /// appending them in that order rebuilds the same list.
    fn gateway_has_tags(&self, raw: &RawLine<'_>) -> bool {
        let c = self.c;
        if !c.same_tags {
            return false;
        }
        let sc = &*self.sc;
        // No top-level key `R.T` (the first grouping of each path).
        if c.tags.iter().any(|(_, l)| sc.is_found(l.paths[0][0])) {
            return false;
        }
        let tags = bit(Field::Tags);
        if sc.seen & tags == 0 {
            // No `R`: the mapping finds no tag.
            return true;
        }
        // One key the gateway reads tags from (`R` or not: if not, the
        // mapping finds no tag), once, an object, and nothing else adds tags.
        let object = self.line.as_bytes()[sc.tags_at..]
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            == Some(&b'{');
        if sc.seen & nested_bits() != 0 || sc.repeated & tags != 0 || !object {
            return false;
        }
        // The mapped tags last, each once, in name order.
        let mut next = 0;
        let mut mapped_seen = false;
        for (k, _) in &raw.tags {
            let k = k.as_bytes();
            match c
                .tags
                .iter()
                .position(|(name, _)| same_key(name.as_bytes(), k))
            {
                Some(j) if j >= next => {
                    next = j + 1;
                    mapped_seen = true;
                }
                Some(_) => return false,
                None if mapped_seen => return false,
                None => {}
            }
        }
        true
    }

    /// `mapping::find`: the first path that resolves to a value (a null or
    /// blank one is none: the next path is tried); `None` if none does.
    fn find(&mut self, lookup: &Lookup) -> Scan<Option<Scalar<'a>>> {
        for ends in &lookup.paths {
            for &end in ends {
                if let Some(at) = self.resolve(end)? {
                    // JSON text of a string (MLflow's attributes): the
                    // tree reader takes the string it holds.
                    if quoted_text(&self.line.as_bytes()[at..]) {
                        return Err(crate::json::scan::Bail);
                    }
                    let x = self.read(at)?;
                    if !x.is_blank() {
                        return Ok(Some(x));
                    }
                    // The path's other ends name the same key: the next
                    // path.
                    break;
                }
            }
        }
        Ok(None)
    }

    /// Where the first object a path of `lookup` resolves to starts (a
    /// null goes on to the next path, as in `find`); text (perhaps JSON
    /// text of an object) is the tree reader's.
    fn find_object(&mut self, lookup: &Lookup) -> Scan<Option<usize>> {
        for ends in &lookup.paths {
            for &end in ends {
                if let Some(at) = self.resolve(end)? {
                    match Scanner::new(&self.line[at..]).peek()? {
                        b'{' => return Ok(Some(at)),
                        b'"' => return Err(crate::json::scan::Bail),
                        b'n' => break,
                        _ => return Ok(None),
                    }
                }
            }
        }
        Ok(None)
    }

    /// Where the value at `node` starts, if the line has it.
    fn resolve(&mut self, node: usize) -> Scan<Option<usize>> {
        let parent = self.c.nodes[node].parent;
        if parent == 0 && !self.c.eager[node] && !self.sc.rescanned {
            self.rescan()?;
        }
        if parent != 0 && self.sc.expanded[parent] != self.sc.generation {
            let Some(at) = self.resolve(parent)? else {
                return Ok(None);
            };
            self.expand(parent, at)?;
            self.sc.expanded[parent] = self.sc.generation;
        }
        Ok(self.sc.is_found(node).then(|| self.sc.at[node]))
    }

    /// Notes every mapped top-level key, for a key the hook does not note.
    #[cold]
    fn rescan(&mut self) -> Scan<()> {
        let mut s = Scanner::new(self.line);
        s.begin_object()?;
        let mut first = true;
        while let Some(key) = s.next_key(&mut first)? {
            let key = key.as_bytes();
            if let Some((_, id)) = self.c.all_root_keys.iter().find(|(k, _)| same_key(k, key)) {
                self.sc.found(*id, s.pos());
            }
            s.skip_value()?;
        }
        self.sc.rescanned = true;
        Ok(())
    }

    /// Scans the value of `node` (at `at`) for its children's keys, or
    /// indexes if it is an array. Later duplicate keys win.
    fn expand(&mut self, node: usize, at: usize) -> Scan<()> {
        let c = self.c;
        let children = &c.nodes[node].children;
        let mut s = Scanner::new(&self.line[at..]);
        match s.peek()? {
            b'{' => {
                s.begin_object()?;
                let mut first = true;
                while let Some(key) = s.next_key(&mut first)? {
                    let key = key.as_bytes();
                    let hit = children
                        .iter()
                        .find(|&&id| same_key(c.nodes[id].key.as_bytes(), key));
                    if let Some(&id) = hit {
                        self.sc.found(id, at + s.pos());
                    }
                    s.skip_value()?;
                }
            }
            b'[' if children.iter().any(|&id| c.nodes[id].index.is_some()) => {
                s.begin_array()?;
                let mut first = true;
                let mut i = 0usize;
                while s.next_element(&mut first)? {
                    for &id in children {
                        if c.nodes[id].index == Some(i) {
                            self.sc.found(id, at + s.pos());
                        }
                    }
                    s.skip_value()?;
                    i += 1;
                }
            }
            // A string on a path that goes deeper may hold JSON text (a
            // warehouse's JSON column): the tree reader reads inside it.
            b'"' if holds_json(&self.line.as_bytes()[at..]) => return Err(crate::json::scan::Bail),
            // Scalars have no keys; the gateway scanner already checked the
            // whole line, so nothing here needs checking again.
            _ => {}
        }
        Ok(())
    }

    /// The value that starts at `at`, as the lenient readers see it.
    fn read(&self, at: usize) -> Scan<Scalar<'a>> {
        Scanner::new(&self.line[at..]).scalar()
    }
}

/// Whether a JSON string (`bytes` starts at it, or at the spaces before
/// it) begins with an escaped quote: it may be JSON text of a string.
fn quoted_text(bytes: &[u8]) -> bool {
    let i = bytes
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        .unwrap_or(bytes.len());
    bytes[i..].starts_with(b"\"\\\"")
}

/// Whether a JSON string (`bytes` starts at it, or at the spaces before
/// it) may hold an object or a list: its text starts with `{` or `[`,
/// perhaps after spaces.
fn holds_json(bytes: &[u8]) -> bool {
    let space = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r');
    let mut i = bytes.iter().position(|&b| !space(b)).unwrap_or(bytes.len());
    if bytes.get(i) != Some(&b'"') {
        return false;
    }
    i += 1;
    // The text's own leading spaces, raw or escaped (`\n`, `\u000a`, and
    // escaped again in JSON text written twice over, whose quote is
    // escaped too).
    loop {
        match bytes.get(i) {
            Some(&b) if space(b) => i += 1,
            Some(b'\\') => {
                while bytes.get(i) == Some(&b'\\') {
                    i += 1;
                }
                match bytes.get(i) {
                    Some(b'n' | b't' | b'r' | b'"') => i += 1,
                    Some(b'u')
                        if matches!(
                            bytes.get(i + 1..i + 5),
                            Some(b"000a" | b"000A" | b"000d" | b"000D" | b"0009" | b"0020")
                        ) =>
                    {
                        i += 5
                    }
                    _ => return false,
                }
            }
            Some(b'{' | b'[') => return true,
            _ => return false,
        }
    }
}

/// `a == b` for short keys, compared a word at a time instead of by a call
/// to `memcmp` (once per top-level key of every line).
#[inline]
fn same_key(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n >= 8 {
        let word = |s: &[u8], i: usize| u64::from_le_bytes(s[i..i + 8].try_into().expect("8"));
        let mut i = 0;
        while i + 8 < n {
            if word(a, i) != word(b, i) {
                return false;
            }
            i += 8;
        }
        word(a, n - 8) == word(b, n - 8)
    } else if n >= 4 {
        let word = |s: &[u8], i: usize| u32::from_le_bytes(s[i..i + 4].try_into().expect("4"));
        word(a, 0) == word(b, 0) && word(a, n - 4) == word(b, n - 4)
    } else {
        a.iter().zip(b).all(|(x, y)| x == y)
    }
}

/// `Mapping::timestamp` for a scanned value.
pub(crate) fn time(m: &Mapping, x: Scalar<'_>) -> LTime {
    if let Scalar::Str(text) = &x {
        if let Some(t) = m.formatted_time(text) {
            return t;
        }
    }
    let (number, text) = match &x {
        Scalar::U64(n) => (Some(*n as f64), Some(n.to_string())),
        Scalar::I64(n) => (Some(*n as f64), Some(n.to_string())),
        // (An f64's shortest text: the number as the log wrote it.)
        Scalar::F64(f) => (Some(*f), Some(f.to_string())),
        Scalar::Str(s) => (s.trim().parse::<f64>().ok(), Some(s.to_string())),
        _ => (None, None),
    };
    m.timestamp_of(number, text.as_deref(), || LTime(x.time()))
}

#[cfg(test)]
mod tests;
