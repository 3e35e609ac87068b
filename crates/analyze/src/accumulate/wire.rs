//! An accumulator's binary form (see `crate::wire`): what an engine that
//! runs the partial aggregation in other processes ships back to be merged.
//! [`Accumulator::decode`]`(`[`Accumulator::encode`]`(a))` merges to the
//! same audit as `a`; the lookup structures (label index, group hash chains,
//! cell index) are rebuilt rather than sent, and the previous period's model
//! resolutions, a cache, start empty.

use std::io;

use tokenaudit_core::pricing::{Catalog, ModelId};
use tokenaudit_core::ServiceTier;

use crate::wire::{wire_struct, Reader, Result, Wire, WireError};

use super::{
    Accumulator, AnalyzeConfig, Cell, ExpensiveCall, Group, GroupKey, GroupTable, Label, Labels,
    Previous, Reconcile,
};
use crate::coverage::Counts;
use crate::infer::timeline::Timelines;
use crate::spill::SpillTable;

/// The first bytes of every state, then the format's version.
const MAGIC: &[u8; 4] = b"TAac";
/// 2: issue 12's observations (prefix runs and sizes, timelines, inferred
/// sessions, rule coverage counts); 3: prefixes without their unread first
/// and last times; 4: timelines as one list of calls with their keys, calls
/// without their unread cost; 5: LiteLLM's cache hits per cell; 6: the
/// timelines first, as a span of their own (decoded beside the rest); 7:
/// the sketch of calls logged twice, last; 8: groups by flex and priority
/// service tier, and the count of those priced at standard rates; 9: audio
/// tokens, web searches and their cost per group; 13: tags as a spilled
/// table, as users and sessions; 14: calls by minute of the day, cached
/// counts logged per cell; 15: each histogram bucket's least and largest
/// value, the fast service tier; 16: the previous period's spend by
/// feature, model and day; 17: the timelines grouped, each with its calls
/// (no key per call); 18: US-only inference per group, and its calls'
/// counts; 19: each call's difference from its logged cost; 20: the
/// ultrafast service tier; 21: a retry attempt's latency.
const FORMAT: u32 = 22;

wire_struct!(Group {
    resolved,
    stats,
    failed,
    cache_write_1h,
    audio,
    web_searches,
    cost,
    list_cost,
    cell,
});

impl Wire for Label {
    fn put(&self, w: &mut Vec<u8>) {
        self.0.put(w);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self> {
        u32::get(r).map(Label)
    }
}

wire_struct!(GroupKey {
    provider,
    model,
    feature,
    route,
    team,
    day,
    batch,
    tier,
    us_only,
});

impl Wire for ServiceTier {
    fn put(&self, w: &mut Vec<u8>) {
        w.push(match self {
            ServiceTier::Flex => 0,
            ServiceTier::Priority => 1,
            ServiceTier::Provisioned => 2,
            ServiceTier::Fast => 3,
            ServiceTier::Ultrafast => 4,
        });
    }
    fn get(r: &mut Reader<'_>) -> Result<Self> {
        match r.take(1)?[0] {
            0 => Ok(ServiceTier::Flex),
            1 => Ok(ServiceTier::Priority),
            2 => Ok(ServiceTier::Provisioned),
            3 => Ok(ServiceTier::Fast),
            4 => Ok(ServiceTier::Ultrafast),
            b => Err(WireError(format!("{b} is not a service tier"))),
        }
    }
}

wire_struct!(Cell {
    feature,
    model,
    resolved,
    key,
    feature_key,
    call_budget,
    obs,
});

wire_struct!(Reconcile {
    calls,
    logged,
    computed,
    differing,
    apart,
});

wire_struct!(ExpensiveCall {
    cost,
    at,
    request_id,
    model,
    feature,
    usage,
    timestamp,
});

impl Wire for Previous {
    fn put(&self, w: &mut Vec<u8>) {
        // `resolved` and `qualified` are caches of catalog lookups: not
        // sent.
        let Previous {
            totals,
            features,
            models,
            first,
            last,
            daily,
            resolved: _,
            qualified: _,
        } = self;
        totals.put(w);
        features.put(w);
        models.put(w);
        first.put(w);
        last.put(w);
        daily.put(w);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Previous {
            totals: Wire::get(r)?,
            features: Wire::get(r)?,
            models: Wire::get(r)?,
            first: Wire::get(r)?,
            last: Wire::get(r)?,
            daily: Wire::get(r)?,
            resolved: Default::default(),
            qualified: Default::default(),
        })
    }
}

/// What the state's model ids index: the decoder's catalog must be the
/// same (built from the same price files).
fn catalog_mark(catalog: &Catalog) -> (String, u64) {
    (
        catalog.version().to_string(),
        catalog.models().count() as u64,
    )
}

impl<'c> Accumulator<'c> {
    /// The version of [`encode`](Self::encode)'s format: a state is decoded
    /// only by a build of the same format.
    pub const FORMAT: u32 = FORMAT;

    /// The accumulator's whole state as bytes (users and sessions spilled to
    /// disk included). I/O errors reading spilled runs back are returned.
    pub fn encode(mut self) -> io::Result<Vec<u8>> {
        let users = std::mem::take(&mut self.users);
        let sessions = std::mem::take(&mut self.sessions);
        let tags = std::mem::take(&mut self.tags);
        let mut w = Vec::new();
        self.encode_around(&mut w, false, |w| {
            users.encode_into(w)?;
            sessions.encode_into(w)?;
            tags.encode_into(w)
        })?;
        Ok(w)
    }

    /// [`encode`](Self::encode)'s bytes, the accumulator kept (settled, as
    /// `encode` settles it: what decoding the bytes gives back; users and
    /// sessions spilled to disk read through other handles). I/O errors
    /// reading spilled runs back are returned.
    pub fn encode_kept(&mut self) -> io::Result<Vec<u8>> {
        let mut w = Vec::new();
        self.encode_kept_into(&mut w, false)?;
        Ok(w)
    }

    /// [`encode_kept`](Self::encode_kept)'s bytes, appended to `w` (a cache
    /// file's head, say: the state is not copied after it); with
    /// `two_threads`, the timelines are encoded on a thread of their own
    /// (the same bytes).
    pub fn encode_kept_into(&mut self, w: &mut Vec<u8>, two_threads: bool) -> io::Result<()> {
        let mut users = std::mem::take(&mut self.users);
        let mut sessions = std::mem::take(&mut self.sessions);
        let mut tags = std::mem::take(&mut self.tags);
        let done = self.encode_around(w, two_threads, |w| {
            users.encode_kept(w)?;
            sessions.encode_kept(w)?;
            tags.encode_kept(w)
        });
        self.users = users;
        self.sessions = sessions;
        self.tags = tags;
        done
    }

    /// Appends the state's bytes to `w`, `tables` writing the users and
    /// sessions (which the accumulator does not hold meanwhile); with
    /// `two_threads`, the timelines and `tables` on a thread of their own,
    /// each part into a buffer of its own (the same bytes: a span is its
    /// length, then its body).
    fn encode_around(
        &mut self,
        w: &mut Vec<u8>,
        two_threads: bool,
        tables: impl FnOnce(&mut Vec<u8>) -> io::Result<()> + Send,
    ) -> io::Result<()> {
        self.settle_unit(super::WHOLE_HEADS);
        // Timelines are written grouped: grouped here, the accumulator kept
        // so joins states read back timeline by timeline.
        self.keyed.timelines.sort_all();
        // Every field named: one added to the accumulator and not here does
        // not build.
        let Accumulator {
            catalog,
            config: _,
            served: _,
            fast_own: _,
            key_buf: _,
            labels,
            groups,
            cells,
            cell_index: _,
            keyed,
            totals,
            cost_parts,
            users: _,
            sessions: _,
            tags: _,
            error_kinds,
            reconcile,
            coverage,
            via,
            first,
            last,
            minutes,
            outside_window,
            untimed_outside: _,
            uncounted_by_source: _,
            batch_at_full_price,
            tier_at_standard,
            write_1h_at_5m,
            provisioned,
            searches_unpriced,
            long_context_calls,
            us_only_calls,
            us_at_global,
            most_expensive,
            previous,
            repeats,
            unit: _,
        } = &*self;
        w.extend_from_slice(MAGIC);
        FORMAT.put(w);
        catalog_mark(catalog).put(w);
        // The timelines (the sample of calls, the largest part) as a span
        // with its length, so that a reader can decode them on a thread of
        // their own.
        let head = |w: &mut Vec<u8>| {
            labels.names.put(w);
            groups.list.put(w);
            cells.put(w);
            keyed.put(w);
            totals.put(w);
            cost_parts.put(w);
        };
        let tail = |w: &mut Vec<u8>| {
            error_kinds.put(w);
            reconcile.put(w);
            coverage.put(w);
            via.0.put(w);
            first.put(w);
            last.put(w);
            minutes.put(w);
            outside_window.put(w);
            batch_at_full_price.put(w);
            tier_at_standard.put(w);
            write_1h_at_5m.put(w);
            provisioned.put(w);
            searches_unpriced.put(w);
            long_context_calls.put(w);
            us_only_calls.put(w);
            us_at_global.put(w);
            most_expensive.put(w);
            previous.put(w);
            repeats.put(w);
        };
        if !two_threads {
            crate::wire::put_span(w, |w| keyed.timelines.put(w));
            head(w);
            tables(w)?;
            tail(w);
            return Ok(());
        }
        // The timelines and the users', sessions' and tags' tables on a
        // thread of their own, the rest on this one (about even: the
        // timelines alone were a fifth of a month's encoding), each into a
        // buffer of its own, then put in order.
        let timelines = &keyed.timelines;
        let ((spanned, tabled), (before, after)) = std::thread::scope(|s| {
            let other = s.spawn(move || {
                let mut t = Vec::new();
                timelines.put(&mut t);
                let mut u = Vec::new();
                let done = tables(&mut u).map(|()| u);
                (t, done)
            });
            let (mut before, mut after) = (Vec::new(), Vec::new());
            head(&mut before);
            tail(&mut after);
            let theirs = other
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (theirs, (before, after))
        });
        let tabled = tabled?;
        w.reserve(spanned.len() + before.len() + tabled.len() + after.len() + 10);
        spanned.len().put(w);
        w.extend_from_slice(&spanned);
        w.extend_from_slice(&before);
        w.extend_from_slice(&tabled);
        w.extend_from_slice(&after);
        Ok(())
    }

    /// An accumulator from [`encode`](Self::encode)'s bytes, for the same
    /// catalog; `config` must be the one it was made with.
    pub fn decode(
        bytes: &[u8],
        catalog: &'c Catalog,
        config: &'c AnalyzeConfig,
    ) -> Result<Accumulator<'c>> {
        Self::decode_on(bytes, catalog, config, false)
    }

    /// [`decode`](Self::decode), the timelines on a second thread when
    /// `two_threads` (the same result: each part is read from its own
    /// bytes).
    pub fn decode_on(
        bytes: &[u8],
        catalog: &'c Catalog,
        config: &'c AnalyzeConfig,
        two_threads: bool,
    ) -> Result<Accumulator<'c>> {
        let mut r = Reader::new(bytes);
        Self::check_header(&mut r, catalog)?;
        let n = usize::get(&mut r)?;
        let span = r.take(n)?;
        let timelines = || -> Result<Timelines> {
            let mut t = Reader::new(span);
            let timelines = Timelines::get(&mut t)?;
            if !t.is_done() {
                return Err(WireError("bytes left after the timelines".into()));
            }
            Ok(timelines)
        };
        let (timelines, rest) = if two_threads {
            std::thread::scope(|s| {
                let other = s.spawn(timelines);
                let rest = Self::decode_rest(&mut r, catalog, config);
                let timelines = other
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                (timelines, rest)
            })
        } else {
            (timelines(), Self::decode_rest(&mut r, catalog, config))
        };
        let mut a = rest?;
        a.keyed.timelines = timelines?;
        Ok(a)
    }

    /// The mark, the format and the catalog's mark.
    fn check_header(r: &mut Reader<'_>, catalog: &Catalog) -> Result<()> {
        if r.take(MAGIC.len())? != MAGIC {
            return Err(WireError("it does not start with the state's mark".into()));
        }
        let format = u32::get(r)?;
        if format != FORMAT {
            return Err(WireError(format!(
                "format {format}, this build reads format {FORMAT}"
            )));
        }
        let mark = <(String, u64)>::get(r)?;
        if mark != catalog_mark(catalog) {
            return Err(WireError(format!(
                "made with price catalog {} ({} models), not {} ({} models): give every process the same --prices",
                mark.0,
                mark.1,
                catalog.version(),
                catalog.models().count()
            )));
        }
        Ok(())
    }

    /// Everything after the timelines' span, to the end of the bytes.
    fn decode_rest(
        r: &mut Reader<'_>,
        catalog: &'c Catalog,
        config: &'c AnalyzeConfig,
    ) -> Result<Accumulator<'c>> {
        let mut labels = Labels::default();
        for name in Vec::<Box<str>>::get(r)? {
            labels.intern(&name);
        }
        let list = Vec::<(GroupKey, Group)>::get(r)?;
        let cells = Vec::<Cell>::get(r)?;
        // Model ids index the catalog: one past its end (a damaged state)
        // is an error here, not a panic when the audit prices with it.
        let models = catalog.models().count();
        let known = |id: &Option<ModelId>| id.is_none_or(|m| (m.0 as usize) < models);
        if !list.iter().all(|(_, g)| known(&g.resolved))
            || !cells.iter().all(|c| known(&c.resolved))
        {
            return Err(WireError("a model id past the catalog's end".into()));
        }
        let mut groups = GroupTable::default();
        for (k, g) in list {
            let n = labels.names.len() as u32;
            if [k.provider, k.model, k.feature, k.route, k.team]
                .iter()
                .any(|l| l.0 >= n)
                || g.cell as usize >= cells.len()
            {
                return Err(WireError("a group names a label or cell it lacks".into()));
            }
            let hash = k.text(&labels).hash();
            groups.push(hash, k, g);
        }
        let mut cell_index = rustc_hash::FxHashMap::default();
        for (i, c) in cells.iter().enumerate() {
            let key = (labels.intern(&c.feature), labels.intern(&c.model));
            cell_index.insert(key, i as u32);
        }
        let a = Accumulator {
            catalog,
            config,
            served: Default::default(),
            fast_own: Default::default(),
            key_buf: String::new(),
            labels,
            groups,
            cells,
            cell_index,
            keyed: Wire::get(r)?,
            totals: Wire::get(r)?,
            cost_parts: Wire::get(r)?,
            users: SpillTable::decode_from(r)?,
            sessions: SpillTable::decode_from(r)?,
            tags: SpillTable::decode_from(r)?,
            error_kinds: Wire::get(r)?,
            reconcile: Wire::get(r)?,
            coverage: Wire::get(r)?,
            via: Counts(Wire::get(r)?),
            first: Wire::get(r)?,
            last: Wire::get(r)?,
            minutes: Wire::get(r)?,
            outside_window: Wire::get(r)?,
            untimed_outside: 0,
            uncounted_by_source: Vec::new(),
            batch_at_full_price: Wire::get(r)?,
            tier_at_standard: Wire::get(r)?,
            write_1h_at_5m: Wire::get(r)?,
            provisioned: Wire::get(r)?,
            searches_unpriced: Wire::get(r)?,
            long_context_calls: Wire::get(r)?,
            us_only_calls: Wire::get(r)?,
            us_at_global: Wire::get(r)?,
            most_expensive: Wire::get(r)?,
            previous: Wire::get(r)?,
            repeats: Wire::get(r)?,
            unit: Default::default(),
        };
        if !r.is_done() {
            return Err(WireError("bytes left after the state".into()));
        }
        Ok(a)
    }
}

#[cfg(test)]
mod tests {
    use tokenaudit_core::pricing::Catalog;

    use crate::accumulate::{Accumulator, AnalyzeConfig};

    #[test]
    fn bad_states_are_errors() {
        let catalog = Catalog::builtin();
        let config = AnalyzeConfig::default();
        let bytes = Accumulator::new(&catalog, &config).encode().unwrap();
        assert!(Accumulator::decode(&bytes, &catalog, &config).is_ok());
        // Cut short, or with a byte too many, or not a state at all.
        for bad in [
            &bytes[..bytes.len() - 1],
            &[bytes.as_slice(), &[0]].concat(),
            b"{}",
        ] {
            assert!(Accumulator::decode(bad, &catalog, &config).is_err());
        }
        // Made with another catalog.
        let mut other = Catalog::builtin();
        other.overlay(
            Catalog::from_json_str(
                r#"{"schema": 1, "version": "mine", "models": [
                    {"provider": "acme", "id": "m1", "prices": [{"input": "1", "output": "2"}]}]}"#,
            )
            .unwrap(),
        );
        let Err(err) = Accumulator::decode(&bytes, &other, &config) else {
            panic!("decoded with another catalog");
        };
        assert!(err.to_string().contains("--prices"), "{err}");
    }
}
