//! Counting a call once when its log records it several times.
//!
//! Claude Code writes one assistant message on several lines (one per
//! content block while it streams, each with the usage seen so far), copies
//! earlier lines into a new file when a session is resumed, and replays
//! parent messages in sidechains with a new `requestId`. Its own usage tools
//! (ccusage) count one record per (`message.id`, `requestId`), keeping the
//! most complete copy, and drop sidechain replays of a message the main
//! chain already has. This module does the same, across every file of a run:
//!
//! - Records with a [`DedupKey`] are held back in a [`Dedup`] map keyed by
//!   a 128-bit hash of (`message.id`, `requestId`), one per worker; the map
//!   keeps the best copy: a main-chain copy over a sidechain one, then the
//!   most tokens (input + cache + output), then the most output, then the
//!   most web searches, then the first in input order (file, line). The order is total, so the winner
//!   does not depend on how files and chunks were split between threads.
//! - At the end the workers' maps merge by the same order, sidechain copies
//!   of a message whose main-chain copy survived are dropped, and the
//!   survivors go to a sink. Everything else is counted as `duplicate`.
//!
//! Memory grows with the number of distinct messages in the session logs,
//! not with the number of lines, and not at all for other formats. A held
//! copy keeps only its numbers and, for its text, indices into the worker's
//! table of strings, where each model, session, project and tag is stored
//! once ([`Held`]); the survivors are rebuilt one at a time, borrowing from
//! the table, as they go to the sink ([`Dedup::finish_each`]).

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use tokenaudit_core::{CallRecord, CallStatus, MinHash, Money, ServiceTier, Usage};
use xxhash_rust::xxh3::xxh3_64;

use crate::pipeline::Location;
use crate::record::dedup_key::DedupKey;

impl DedupKey {
    /// The order copies are kept by: greater is better.
    fn rank(&self, at: Location) -> (bool, u64, u64, u64, std::cmp::Reverse<Location>) {
        (
            !self.sidechain,
            self.tokens,
            self.output,
            self.searches,
            std::cmp::Reverse(at),
        )
    }
}

/// The surviving records, in input order, and the copies dropped per
/// source.
pub type Finished = (Vec<(CallRecord<'static>, Location)>, Vec<(usize, u64)>);

struct Kept {
    key: DedupKey,
    at: Location,
    record: Held,
}

/// A string of the table ([`Strings`]), or none.
type Str = u32;
const NO_STR: Str = Str::MAX;

/// A worker's strings, each stored once: held records name them by index.
#[derive(Default)]
struct Strings {
    all: Vec<Box<str>>,
    /// By hash; a colliding text is stored again, unindexed.
    ids: HashMap<u64, Str>,
}

impl Strings {
    fn add(&mut self, text: Option<&str>) -> Str {
        let Some(text) = text else {
            return NO_STR;
        };
        let next = self.all.len() as Str;
        let id = *self.ids.entry(xxh3_64(text.as_bytes())).or_insert(next);
        if id != next && *self.all[id as usize] == *text {
            return id;
        }
        self.all.push(text.into());
        next
    }

    fn get(&self, id: Str) -> Option<Cow<'_, str>> {
        (id != NO_STR).then(|| Cow::Borrowed(&*self.all[id as usize]))
    }
}

/// A held record: [`CallRecord`]'s fields, its text as [`Strings`] indices.
/// (Prompt text is not held: agent logs carry none a record keeps, and
/// into_owned dropped the raw prompt already.)
struct Held {
    timestamp: Option<DateTime<Utc>>,
    /// request_id, provider, model, feature, route, team, user, session,
    /// error_kind, retry_of, finish_reason, prompt_text.
    text: [Str; 12],
    turn: Option<u32>,
    status: Option<CallStatus>,
    http_status: Option<u16>,
    attempt: Option<u32>,
    usage: Usage,
    cached_read_logged: bool,
    latency_ms: Option<u64>,
    ttft_ms: Option<u64>,
    batch: Option<bool>,
    service_tier: Option<ServiceTier>,
    us_only: bool,
    max_tokens: Option<u32>,
    prompt_fp: Option<u64>,
    prefix_fp: Option<u64>,
    prefix_tokens: Option<u64>,
    logged_cost: Option<Money>,
    user_messages: Option<u32>,
    prefix_chars: Option<u64>,
    minhash: Option<Box<MinHash>>,
    tags: Box<[(Str, Str)]>,
    unread_field: Option<&'static str>,
}

impl Held {
    fn new(r: &CallRecord<'_>, strings: &mut Strings) -> Held {
        let mut text = [NO_STR; 12];
        let fields = [
            r.request_id.as_deref(),
            r.provider.as_deref(),
            Some(&*r.model),
            r.feature.as_deref(),
            r.route.as_deref(),
            r.team.as_deref(),
            r.user.as_deref(),
            r.session.as_deref(),
            r.error_kind.as_deref(),
            r.retry_of.as_deref(),
            r.finish_reason.as_deref(),
            r.prompt_text.as_deref(),
        ];
        for (slot, field) in text.iter_mut().zip(fields) {
            *slot = strings.add(field);
        }
        Held {
            timestamp: r.timestamp,
            text,
            turn: r.turn,
            status: r.status,
            http_status: r.http_status,
            attempt: r.attempt,
            usage: r.usage,
            cached_read_logged: r.cached_read_logged,
            latency_ms: r.latency_ms,
            ttft_ms: r.ttft_ms,
            batch: r.batch,
            service_tier: r.service_tier,
            us_only: r.us_only,
            max_tokens: r.max_tokens,
            prompt_fp: r.prompt_fp,
            prefix_fp: r.prefix_fp,
            prefix_tokens: r.prefix_tokens,
            logged_cost: r.logged_cost,
            user_messages: r.user_messages,
            prefix_chars: r.prefix_chars,
            minhash: r.minhash.map(Box::new),
            tags: r
                .tags
                .iter()
                .map(|(k, v)| (strings.add(Some(k)), strings.add(Some(v))))
                .collect(),
            unread_field: r.unread_field,
        }
    }

    /// The same held in another table.
    fn moved(mut self, from: &Strings, to: &mut Strings) -> Held {
        for id in self.text.iter_mut() {
            *id = to.add(from.get(*id).as_deref());
        }
        for (k, v) in self.tags.iter_mut() {
            *k = to.add(from.get(*k).as_deref());
            *v = to.add(from.get(*v).as_deref());
        }
        self
    }

    /// The record, borrowing its text from the table.
    fn record<'s>(&self, strings: &'s Strings) -> CallRecord<'s> {
        let t = |i: usize| strings.get(self.text[i]);
        CallRecord {
            timestamp: self.timestamp,
            request_id: t(0),
            provider: t(1),
            model: t(2).unwrap_or_default(),
            // Agent logs' messages name one model (their own reader's).
            served_model: None,
            feature: t(3),
            route: t(4),
            team: t(5),
            user: t(6),
            session: t(7),
            turn: self.turn,
            status: self.status,
            error_kind: t(8),
            http_status: self.http_status,
            attempt: self.attempt,
            retry_of: t(9),
            usage: self.usage,
            cached_read_logged: self.cached_read_logged,
            latency_ms: self.latency_ms,
            ttft_ms: self.ttft_ms,
            batch: self.batch,
            service_tier: self.service_tier,
            us_only: self.us_only,
            finish_reason: t(10),
            max_tokens: self.max_tokens,
            prompt_fp: self.prompt_fp,
            prefix_fp: self.prefix_fp,
            prefix_tokens: self.prefix_tokens,
            logged_cost: self.logged_cost,
            prompt_text: t(11),
            // Agent logs carry no prompt text the record could borrow past the line.
            prompt_raw: None,
            system_raw: None,
            user_messages: self.user_messages,
            prefix_chars: self.prefix_chars,
            minhash: self.minhash.as_deref().copied(),
            tags: self
                .tags
                .iter()
                .map(|&(k, v)| {
                    (
                        strings.get(k).unwrap_or_default(),
                        strings.get(v).unwrap_or_default(),
                    )
                })
                .collect(),
            unread_field: self.unread_field,
            stream_chunk: false,
            stream_created: None,
            gemini_response: false,
            usage_missing: false,
        }
    }
}

/// One worker's best copy per key (see the module docs).
#[derive(Default)]
pub struct Dedup {
    kept: HashMap<u128, Kept>,
    strings: Strings,
    /// Copies offered, to count the duplicates at the end.
    offered: u64,
    /// Per source, copies that lost (filled in at [`Dedup::finish`]).
    lost: Vec<(usize, u64)>,
    /// Keys of Gemini responses counted as they came (not held): a held
    /// chunk of one of their streams gives way to them at the end.
    counted: Vec<u128>,
}

impl Dedup {
    pub fn is_empty(&self) -> bool {
        self.offered == 0
    }

    /// Notes a key whose call was counted without being held (a Gemini
    /// response read before its worker saw a stream's chunk).
    pub fn counted(&mut self, key: u128) {
        self.counted.push(key);
    }

    /// Offers a copy; it is kept if it beats the copy held for its key.
    pub fn offer(&mut self, key: DedupKey, record: CallRecord<'_>, at: Location) {
        self.offered += 1;
        let record = Held::new(&record, &mut self.strings);
        self.insert(Kept { key, at, record });
    }

    fn insert(&mut self, new: Kept) {
        match self.kept.get_mut(&new.key.key) {
            Some(old) => {
                // (A line's iteration calls go with its copies, which are
                // counted once, as the line's.)
                let part = new.key.part;
                let loser = if new.key.rank(new.at) > old.key.rank(old.at) {
                    std::mem::replace(old, new).at
                } else {
                    new.at
                };
                if part == 0 {
                    self.lose(loser);
                }
            }
            None => {
                self.kept.insert(new.key.key, new);
            }
        }
    }

    fn lose(&mut self, at: Location) {
        self.lose_n(at.source, 1);
    }

    fn lose_n(&mut self, source: usize, n: u64) {
        match self.lost.iter_mut().find(|(s, _)| *s == source) {
            Some((_, count)) => *count += n,
            None => self.lost.push((source, n)),
        }
    }

    /// Adds another worker's copies. The larger of the two maps is kept as
    /// it is and the smaller one's entries move into it: the first merge
    /// (into an empty map) copies nothing, and the kept table grows once at
    /// most, so peak memory is the workers' maps and not a copy besides.
    pub fn merge(&mut self, mut other: Dedup) {
        if other.kept.len() > self.kept.len() {
            std::mem::swap(self, &mut other);
        }
        self.offered += other.offered;
        self.counted.append(&mut other.counted);
        for (source, n) in other.lost {
            self.lose_n(source, n);
        }
        for (_, mut kept) in other.kept {
            kept.record = kept.record.moved(&other.strings, &mut self.strings);
            self.insert(kept);
        }
    }

    /// Hands the surviving records to `each` in input order, and returns
    /// the number of copies that were dropped per source, and where the
    /// streams whose chunks carry no usage end (their last chunk survived:
    /// [`CallRecord::usage_missing`]), which are no calls to count.
    pub fn finish_each(
        mut self,
        mut each: impl FnMut(&CallRecord<'_>, Location),
    ) -> (Vec<(usize, u64)>, Vec<Location>) {
        // Messages whose main-chain copy survived: their sidechain copies
        // (with another requestId) are replays.
        let main: HashSet<u128> = self
            .kept
            .values()
            .filter(|k| !k.key.sidechain)
            .map(|k| k.key.message)
            .collect();
        let mut out = Vec::with_capacity(self.kept.len());
        let mut replays = Vec::new();
        let mut bare = Vec::new();
        let mut counted = std::mem::take(&mut self.counted);
        counted.sort_unstable();
        counted.dedup();
        for (_, k) in std::mem::take(&mut self.kept) {
            if (k.key.sidechain && main.contains(&k.key.message))
                || counted.binary_search(&k.key.key).is_ok()
            {
                if k.key.part == 0 {
                    replays.push(k.at);
                }
            } else if k.key.bare {
                bare.push(k.at);
            } else {
                out.push((k.at, k.key.part, k.record));
            }
        }
        for at in replays {
            self.lose(at);
        }
        out.sort_unstable_by_key(|(at, part, _)| (*at, *part));
        for (at, _, held) in out {
            each(&held.record(&self.strings), at);
        }
        self.lost.sort_unstable();
        bare.sort_unstable();
        (self.lost, bare)
    }

    /// The surviving records in input order, and the number of copies that
    /// were dropped per source.
    pub fn finish(self) -> Finished {
        let mut kept = Vec::new();
        let (lost, _) = self.finish_each(|r, at| kept.push((into_owned(r.clone()), at)));
        (kept, lost)
    }
}

fn own(s: std::borrow::Cow<'_, str>) -> std::borrow::Cow<'static, str> {
    std::borrow::Cow::Owned(s.into_owned())
}

fn own_opt(s: Option<std::borrow::Cow<'_, str>>) -> Option<std::borrow::Cow<'static, str>> {
    s.map(own)
}

/// A record that no longer borrows from its line.
pub fn into_owned(r: CallRecord<'_>) -> CallRecord<'static> {
    CallRecord {
        timestamp: r.timestamp,
        request_id: own_opt(r.request_id),
        provider: own_opt(r.provider),
        model: own(r.model),
        served_model: own_opt(r.served_model),
        feature: own_opt(r.feature),
        route: own_opt(r.route),
        team: own_opt(r.team),
        user: own_opt(r.user),
        session: own_opt(r.session),
        turn: r.turn,
        status: r.status,
        error_kind: own_opt(r.error_kind),
        http_status: r.http_status,
        attempt: r.attempt,
        retry_of: own_opt(r.retry_of),
        usage: r.usage,
        cached_read_logged: r.cached_read_logged,
        latency_ms: r.latency_ms,
        ttft_ms: r.ttft_ms,
        batch: r.batch,
        service_tier: r.service_tier,
        us_only: r.us_only,
        finish_reason: own_opt(r.finish_reason),
        max_tokens: r.max_tokens,
        prompt_fp: r.prompt_fp,
        prefix_fp: r.prefix_fp,
        prefix_tokens: r.prefix_tokens,
        logged_cost: r.logged_cost,
        prompt_text: own_opt(r.prompt_text),
        // Agent logs carry no prompt text the record could borrow past the line.
        prompt_raw: None,
        system_raw: None,
        user_messages: r.user_messages,
        prefix_chars: r.prefix_chars,
        minhash: r.minhash,
        tags: r.tags.into_iter().map(|(k, v)| (own(k), own(v))).collect(),
        unread_field: r.unread_field,
        stream_chunk: r.stream_chunk,
        stream_created: r.stream_created,
        gemini_response: r.gemini_response,
        usage_missing: r.usage_missing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokenaudit_core::Usage;

    fn rec(output: u64) -> CallRecord<'static> {
        CallRecord {
            model: "m".into(),
            usage: Usage {
                input: 10,
                output,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn at(source: usize, line: u64) -> Location {
        Location { source, line }
    }

    /// A held copy gives back the record it was offered, every field (but
    /// the raw prompt texts, which agent logs do not have), however many
    /// tables it went through.
    #[test]
    fn a_held_record_comes_back_whole() {
        let full = CallRecord {
            timestamp: chrono::DateTime::from_timestamp(1_790_000_000, 5),
            request_id: Some("req_1".into()),
            provider: Some("anthropic".into()),
            model: "claude-sonnet-4-5".into(),
            served_model: None,
            feature: Some("shop".into()),
            route: Some("r".into()),
            team: Some("t".into()),
            user: Some("u".into()),
            session: Some("s".into()),
            turn: Some(3),
            status: Some(CallStatus::Error),
            error_kind: Some("overloaded".into()),
            http_status: Some(529),
            attempt: Some(2),
            retry_of: Some("req_0".into()),
            usage: Usage {
                input: 10,
                cached_read: 4,
                cache_write: 3,
                cache_write_1h: 1,
                output: 7,
                reasoning: 2,
                ..Default::default()
            },
            cached_read_logged: true,
            latency_ms: Some(120),
            ttft_ms: Some(40),
            batch: Some(false),
            service_tier: Some(ServiceTier::Priority),
            us_only: true,
            finish_reason: Some("stop".into()),
            max_tokens: Some(1024),
            prompt_fp: Some(1),
            prefix_fp: Some(2),
            prefix_tokens: Some(300),
            logged_cost: Money::parse_usd("0.25"),
            prompt_text: Some("a question".into()),
            prompt_raw: None,
            system_raw: None,
            user_messages: Some(4),
            prefix_chars: Some(900),
            minhash: Some([9; tokenaudit_core::MINHASH_LEN]),
            tags: vec![
                ("project".into(), "/home/dev/shop".into()),
                ("sidechain".into(), "true".into()),
                ("u".into(), "u".into()),
            ],
            unread_field: Some("latency_ms"),
            // (A survivor is no chunk any more: never stored.)
            stream_chunk: false,
            stream_created: None,
            gemini_response: false,
            usage_missing: false,
        };
        let key = DedupKey::new("m1", "r1", false, &full);
        let mut worker = Dedup::default();
        // Strings the other table holds first, so the indices move.
        let other = rec(1);
        worker.offer(DedupKey::new("m0", "r0", false, &other), other, at(0, 0));
        worker.offer(key, full.clone(), at(0, 1));
        let mut merged = Dedup::default();
        merged.offer(DedupKey::new("m9", "r9", false, &rec(2)), rec(2), at(1, 0));
        merged.merge(worker);
        let (kept, _) = merged.finish();
        let back = kept.iter().find(|(_, l)| *l == at(0, 1)).unwrap();
        assert_eq!(format!("{:?}", back.0), format!("{full:?}"));
    }

    /// Whatever the split between workers and the order of offers, the same
    /// copy survives and the same number is dropped.
    #[test]
    fn keeps_the_most_complete_copy_whatever_the_split() {
        let offers = [
            ("m1", "r1", false, 1, at(0, 1)),
            ("m1", "r1", false, 7, at(0, 2)),
            ("m1", "r1", false, 7, at(1, 5)),
            ("m1", "r2", true, 9, at(2, 1)), // sidechain replay of m1
            ("m2", "r3", true, 3, at(2, 2)), // sidechain-only message
        ];
        let run = |split: &[usize]| {
            let mut workers: Vec<Dedup> = (0..2).map(|_| Dedup::default()).collect();
            for (i, (m, r, side, out, loc)) in offers.iter().enumerate() {
                let record = rec(*out);
                let key = DedupKey::new(m, r, *side, &record);
                workers[split[i]].offer(key, record, *loc);
            }
            let mut merged = Dedup::default();
            for w in workers {
                merged.merge(w);
            }
            let (kept, lost) = merged.finish();
            let kept: Vec<(u64, Location)> =
                kept.iter().map(|(r, l)| (r.usage.output, *l)).collect();
            (kept, lost.iter().map(|(_, n)| n).sum::<u64>())
        };
        let want = (vec![(7, at(0, 2)), (3, at(2, 2))], 3);
        assert_eq!(run(&[0, 0, 0, 0, 0]), want);
        assert_eq!(run(&[1, 0, 1, 0, 1]), want);
        assert_eq!(run(&[0, 1, 0, 1, 0]), want);
    }

    /// Two streamed lines of a message with the same tokens, the later
    /// counting web searches the first did not: the later is kept.
    #[test]
    fn equal_tokens_keep_the_copy_with_the_searches() {
        let first = rec(5);
        let mut later = rec(5);
        later.usage.web_searches = 3;
        let mut d = Dedup::default();
        d.offer(DedupKey::new("m1", "r1", false, &first), first, at(0, 1));
        d.offer(DedupKey::new("m1", "r1", false, &later), later, at(0, 2));
        let (kept, lost) = d.finish();
        assert_eq!(kept.len(), 1);
        assert_eq!((kept[0].0.usage.web_searches, kept[0].1), (3, at(0, 2)));
        assert_eq!(lost.iter().map(|(_, n)| n).sum::<u64>(), 1);
    }
}
