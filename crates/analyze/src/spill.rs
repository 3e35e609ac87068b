//! An exact text-keyed table of [`Stats`] whose memory stays bounded however
//! many distinct keys the input has (users and sessions grow with the logs).
//!
//! Keys accumulate in a hash map; when it passes its capacity the map is
//! sorted by key and written to an anonymous temporary file as a *run*, and
//! emptied. At the end, the runs and what is left in memory are merged in
//! key order (a k-way merge over sorted runs, as databases aggregate out of
//! core), so every key's stats are summed exactly, and only what the report
//! keeps — the top rows by cost, the number of distinct keys, and the sum of
//! the rest — is held in memory. Below capacity nothing touches the disk.
//!
//! If a run cannot be written (no space for temporary files), the table
//! keeps growing in memory instead: a slower machine is better than a lost
//! report.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};

use rustc_hash::FxHashMap;

use tokenaudit_core::{CallStatus, Money, Usage};

use crate::stats::Stats;

/// Keys held in memory per table before a run is written.
pub const SPILL_CAPACITY: usize = 8_192;

/// Runs kept before they are merged into one (bounds open files and the
/// final merge's read buffers however long the input).
const MAX_RUNS: usize = 16;

/// The rows a report keeps of a high-cardinality dimension.
pub const TOP_ROWS: usize = 1_000;

/// See the module docs.
#[derive(Debug)]
pub struct SpillTable {
    map: FxHashMap<Box<str>, Stats>,
    capacity: usize,
    runs: Vec<File>,
    /// Set when a run could not be written; the map then grows unbounded.
    in_memory_only: bool,
}

impl Default for SpillTable {
    fn default() -> Self {
        SpillTable::with_capacity(SPILL_CAPACITY)
    }
}

/// The top rows of a table and a summary of the rest.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TopRows {
    /// Most expensive first (ties by key).
    pub rows: Vec<(String, Stats)>,
    pub distinct: u64,
    /// Stats of the keys not in `rows`.
    pub rest: Stats,
}

impl SpillTable {
    pub fn with_capacity(capacity: usize) -> SpillTable {
        SpillTable {
            map: FxHashMap::default(),
            capacity: capacity.max(1),
            runs: Vec::new(),
            in_memory_only: false,
        }
    }

    /// Adds one call to `key`.
    #[inline]
    pub fn add(&mut self, key: &str, status: CallStatus, usage: &Usage, cost: Option<Money>) {
        match self.map.get_mut(key) {
            Some(s) => s.add(status, usage, cost),
            None => {
                let mut s = Stats::default();
                s.add(status, usage, cost);
                self.insert(key.into(), s);
            }
        }
    }

    fn insert(&mut self, key: Box<str>, stats: Stats) {
        self.map.insert(key, stats);
        if self.map.len() >= self.capacity && !self.in_memory_only {
            if let Err(_e) = self.spill() {
                self.in_memory_only = true;
            }
        }
    }

    /// Writes the in-memory keys as a sorted run.
    fn spill(&mut self) -> io::Result<()> {
        let mut entries: Vec<(Box<str>, Stats)> = self.map.drain().collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let result = (|| {
            let mut file = tempfile::tempfile()?;
            {
                let mut w = BufWriter::with_capacity(1 << 16, &mut file);
                for (k, s) in &entries {
                    write_entry(&mut w, k, s)?;
                }
                w.flush()?;
            }
            file.seek(SeekFrom::Start(0))?;
            Ok(file)
        })();
        match result {
            Ok(file) => {
                self.runs.push(file);
                if self.runs.len() >= MAX_RUNS {
                    self.compact()?;
                }
                Ok(())
            }
            Err(e) => {
                // Keep the data: put it back in memory.
                self.map.extend(entries);
                Err(e)
            }
        }
    }

    /// Merges every run into one, in key order, summing equal keys. On an
    /// error the runs are kept as they were.
    fn compact(&mut self) -> io::Result<()> {
        let mut file = tempfile::tempfile()?;
        let mut sources: Vec<Source> = std::mem::take(&mut self.runs)
            .into_iter()
            .map(|f| Source::Run(BufReader::with_capacity(1 << 16, f)))
            .collect();
        let result = (|| {
            let mut w = BufWriter::with_capacity(1 << 16, &mut file);
            merge_sorted(&mut sources, |k, s| write_entry(&mut w, &k, &s))?;
            w.flush()?;
            drop(w);
            file.seek(SeekFrom::Start(0))?;
            Ok(())
        })();
        match result {
            Ok(()) => {
                self.runs.push(file);
                Ok(())
            }
            Err(e) => {
                for s in sources {
                    if let Source::Run(r) = s {
                        let mut f = r.into_inner();
                        f.seek(SeekFrom::Start(0))?;
                        self.runs.push(f);
                    }
                }
                Err(e)
            }
        }
    }

    /// Merges another table into this one (its runs are taken over).
    pub fn merge(&mut self, other: SpillTable) {
        self.runs.extend(other.runs);
        self.in_memory_only |= other.in_memory_only;
        for (k, v) in other.map {
            match self.map.get_mut(&k) {
                Some(s) => s.merge(&v),
                None => self.insert(k, v),
            }
        }
    }

    /// Whether any run went to disk.
    pub fn spilled(&self) -> bool {
        !self.runs.is_empty()
    }

    /// Merges everything in key order and keeps the `top` most expensive
    /// rows. I/O errors reading a run back are returned.
    pub fn finish(self, top: usize) -> io::Result<TopRows> {
        let mut memory: Vec<(Box<str>, Stats)> = self.map.into_iter().collect();
        memory.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut sources: Vec<Source> = Vec::with_capacity(self.runs.len() + 1);
        sources.push(Source::Memory(memory.into_iter()));
        for f in self.runs {
            sources.push(Source::Run(BufReader::with_capacity(1 << 16, f)));
        }
        let mut out = TopKeeper::new(top);
        merge_sorted(&mut sources, |k, s| {
            out.offer(k, s);
            Ok(())
        })?;
        Ok(out.finish())
    }
}

impl SpillTable {
    /// Appends the table's binary form (see `crate::wire`) to `w`: every
    /// key, from memory and from the runs on disk, once, in key order with
    /// its summed stats. I/O errors reading a run back are returned.
    pub(crate) fn encode_into(self, w: &mut Vec<u8>) -> io::Result<()> {
        use crate::wire::Wire;
        self.capacity.put(w);
        self.in_memory_only.put(w);
        let mut memory: Vec<(Box<str>, Stats)> = self.map.into_iter().collect();
        memory.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut sources: Vec<Source> = Vec::with_capacity(self.runs.len() + 1);
        sources.push(Source::Memory(memory.into_iter()));
        for f in self.runs {
            sources.push(Source::Run(BufReader::with_capacity(1 << 16, f)));
        }
        merge_sorted(&mut sources, |k, s| {
            true.put(w);
            k.put(w);
            s.put(w);
            Ok(())
        })?;
        false.put(w);
        Ok(())
    }

    /// [`encode_into`](Self::encode_into)'s bytes, the table kept: its runs
    /// are read through another handle and rewound. I/O errors reading a
    /// run back are returned.
    pub(crate) fn encode_kept(&mut self, w: &mut Vec<u8>) -> io::Result<()> {
        use crate::wire::Wire;
        self.capacity.put(w);
        self.in_memory_only.put(w);
        let mut memory: Vec<(Box<str>, Stats)> =
            self.map.iter().map(|(k, s)| (k.clone(), *s)).collect();
        memory.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut sources: Vec<Source> = Vec::with_capacity(self.runs.len() + 1);
        sources.push(Source::Memory(memory.into_iter()));
        for f in &self.runs {
            sources.push(Source::Run(BufReader::with_capacity(
                1 << 16,
                f.try_clone()?,
            )));
        }
        let merged = merge_sorted(&mut sources, |k, s| {
            true.put(w);
            k.put(w);
            s.put(w);
            Ok(())
        });
        drop(sources);
        // A cloned handle shares the file's offset: every run back at its
        // start, as the table keeps them.
        for f in &mut self.runs {
            f.seek(SeekFrom::Start(0))?;
        }
        merged?;
        false.put(w);
        Ok(())
    }

    /// A table from its binary form: the keys go in as they were added, so
    /// past its capacity the table spills again.
    pub(crate) fn decode_from(r: &mut crate::wire::Reader<'_>) -> crate::wire::Result<SpillTable> {
        use crate::wire::Wire;
        let mut t = SpillTable::with_capacity(usize::get(r)?);
        t.in_memory_only = bool::get(r)?;
        while bool::get(r)? {
            let key = Box::<str>::get(r)?;
            let stats = Stats::get(r)?;
            t.insert(key, stats);
        }
        Ok(t)
    }
}

/// A k-way merge of sorted sources: calls `sink` once per key, in key
/// order, with the key's stats summed over every source.
fn merge_sorted(
    sources: &mut [Source],
    mut sink: impl FnMut(Box<str>, Stats) -> io::Result<()>,
) -> io::Result<()> {
    let mut heap = BinaryHeap::new();
    for (i, s) in sources.iter_mut().enumerate() {
        if let Some((k, v)) = s.next()? {
            heap.push(Head {
                key: k,
                stats: v,
                source: i,
            });
        }
    }
    let mut current: Option<(Box<str>, Stats)> = None;
    while let Some(Head { key, stats, source }) = heap.pop() {
        if let Some((k, v)) = sources[source].next()? {
            heap.push(Head {
                key: k,
                stats: v,
                source,
            });
        }
        match &mut current {
            Some((k, s)) if *k == key => s.merge(&stats),
            _ => {
                if let Some((k, s)) = current.take() {
                    sink(k, s)?;
                }
                current = Some((key, stats));
            }
        }
    }
    if let Some((k, s)) = current {
        sink(k, s)?;
    }
    Ok(())
}

/// Keeps the `n` most expensive keys seen, summing the others.
struct TopKeeper {
    n: usize,
    /// Min-heap on (cost, reversed key) so the cheapest kept row is on top.
    heap: BinaryHeap<std::cmp::Reverse<Ranked>>,
    distinct: u64,
    rest: Stats,
}

#[derive(Debug, PartialEq, Eq)]
struct Ranked {
    cost: Money,
    key: Box<str>,
    stats: Stats,
}

impl Ord for Ranked {
    fn cmp(&self, o: &Self) -> Ordering {
        // Higher cost ranks higher; on ties more calls (unpriced users, all
        // $0: hunt81), then the smaller key.
        self.cost
            .cmp(&o.cost)
            .then_with(|| self.stats.calls.cmp(&o.stats.calls))
            .then_with(|| o.key.cmp(&self.key))
    }
}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

impl TopKeeper {
    fn new(n: usize) -> TopKeeper {
        TopKeeper {
            n,
            heap: BinaryHeap::new(),
            distinct: 0,
            rest: Stats::default(),
        }
    }

    fn offer(&mut self, key: Box<str>, stats: Stats) {
        self.distinct += 1;
        let r = Ranked {
            cost: stats.cost,
            key,
            stats,
        };
        if self.heap.len() < self.n {
            self.heap.push(std::cmp::Reverse(r));
            return;
        }
        let evicted = match self.heap.peek() {
            Some(std::cmp::Reverse(min)) if r > *min => {
                let old = self.heap.pop().map(|x| x.0);
                self.heap.push(std::cmp::Reverse(r));
                old
            }
            _ => Some(r),
        };
        if let Some(e) = evicted {
            self.rest.merge(&e.stats);
        }
    }

    fn finish(self) -> TopRows {
        let mut rows: Vec<Ranked> = self.heap.into_iter().map(|r| r.0).collect();
        rows.sort_by(|a, b| b.cmp(a));
        TopRows {
            rows: rows.into_iter().map(|r| (r.key.into(), r.stats)).collect(),
            distinct: self.distinct,
            rest: self.rest,
        }
    }
}

/// One source of sorted entries for the k-way merge.
enum Source {
    Memory(std::vec::IntoIter<(Box<str>, Stats)>),
    Run(BufReader<File>),
}

impl Source {
    fn next(&mut self) -> io::Result<Option<(Box<str>, Stats)>> {
        match self {
            Source::Memory(it) => Ok(it.next()),
            Source::Run(r) => read_entry(r),
        }
    }
}

struct Head {
    key: Box<str>,
    stats: Stats,
    source: usize,
}

impl PartialEq for Head {
    fn eq(&self, o: &Self) -> bool {
        self.key == o.key && self.source == o.source
    }
}
impl Eq for Head {}
impl Ord for Head {
    fn cmp(&self, o: &Self) -> Ordering {
        // BinaryHeap is a max-heap: reverse so the smallest key pops first.
        o.key
            .cmp(&self.key)
            .then_with(|| o.source.cmp(&self.source))
    }
}
impl PartialOrd for Head {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

fn write_entry(w: &mut impl Write, key: &str, s: &Stats) -> io::Result<()> {
    w.write_all(&(key.len() as u32).to_le_bytes())?;
    w.write_all(key.as_bytes())?;
    for v in [
        s.calls,
        s.ok_calls,
        s.failed_calls,
        s.input_tokens,
        s.cached_read_tokens,
        s.cache_write_tokens,
        s.output_tokens,
        s.reasoning_tokens,
        s.unpriced_calls,
    ] {
        w.write_all(&v.to_le_bytes())?;
    }
    w.write_all(&s.cost.picos().to_le_bytes())?;
    w.write_all(&s.failed_cost.picos().to_le_bytes())?;
    Ok(())
}

fn read_entry(r: &mut impl Read) -> io::Result<Option<(Box<str>, Stats)>> {
    let mut len = [0u8; 4];
    match r.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let mut key = vec![0u8; u32::from_le_bytes(len) as usize];
    r.read_exact(&mut key)?;
    let key = String::from_utf8(key)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?
        .into_boxed_str();
    let mut u = [0u64; 9];
    for v in &mut u {
        let mut b = [0u8; 8];
        r.read_exact(&mut b)?;
        *v = u64::from_le_bytes(b);
    }
    let mut m = [0i128; 2];
    for v in &mut m {
        let mut b = [0u8; 16];
        r.read_exact(&mut b)?;
        *v = i128::from_le_bytes(b);
    }
    Ok(Some((
        key,
        Stats {
            calls: u[0],
            ok_calls: u[1],
            failed_calls: u[2],
            input_tokens: u[3],
            cached_read_tokens: u[4],
            cache_write_tokens: u[5],
            output_tokens: u[6],
            reasoning_tokens: u[7],
            unpriced_calls: u[8],
            cost: Money::from_picos(m[0]),
            failed_cost: Money::from_picos(m[1]),
        },
    )))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_spilled_table_encodes_every_key_once_with_its_sums() {
        use crate::wire::Reader;
        let usage = Usage {
            input: 10,
            output: 1,
            ..Usage::default()
        };
        // Capacity 4: 30 keys (each added twice, in two tables merged) go to
        // disk in runs.
        let mut a = SpillTable::with_capacity(4);
        let mut b = SpillTable::with_capacity(4);
        for i in 0..30 {
            let key = format!("user-{i:02}");
            a.add(&key, CallStatus::Ok, &usage, Some(Money::from_picos(i)));
            b.add(&key, CallStatus::Ok, &usage, Some(Money::from_picos(100)));
        }
        a.merge(b);
        assert!(a.spilled());
        let mut bytes = Vec::new();
        a.encode_into(&mut bytes).unwrap();
        let back = SpillTable::decode_from(&mut Reader::new(&bytes)).unwrap();
        assert!(
            back.spilled(),
            "past its capacity the decoded table spills too"
        );
        let rows = back.finish(100).unwrap();
        assert_eq!(rows.distinct, 30);
        assert_eq!(rows.rows.len(), 30);
        // Most expensive first: user-29 at 29 + 100 picos, two calls.
        assert_eq!(rows.rows[0].0, "user-29");
        assert_eq!(rows.rows[0].1.calls, 2);
        assert_eq!(rows.rows[0].1.cost, Money::from_picos(129));
        assert_eq!(rows.rows[0].1.input_tokens, 20);
        assert_eq!(rows.rows[29].0, "user-00");
        assert_eq!(rows.rows[29].1.cost, Money::from_picos(100));
    }

    use super::*;

    fn usage(i: u64) -> Usage {
        Usage {
            input: i,
            output: 1,
            ..Usage::default()
        }
    }

    #[test]
    fn spilled_tables_merge_exactly() {
        // Capacity 7 forces many runs; the result must equal a plain map.
        let (mut a, mut b) = (SpillTable::with_capacity(7), SpillTable::with_capacity(7));
        let mut plain: std::collections::BTreeMap<String, Stats> = Default::default();
        for i in 0..500u64 {
            let key = format!("s{}", (i * 37) % 113);
            let cost = Some(Money::from_picos(i as i128 * 1000 + 7));
            let status = if i % 9 == 0 {
                CallStatus::Error
            } else {
                CallStatus::Ok
            };
            let t = if i % 2 == 0 { &mut a } else { &mut b };
            t.add(&key, status, &usage(i), cost);
            plain.entry(key).or_default().add(status, &usage(i), cost);
        }
        assert!(a.spilled() && b.spilled());
        // Capacity 7 over 113 keys wrote more than MAX_RUNS runs: compacted.
        assert!(a.runs.len() < MAX_RUNS && b.runs.len() < MAX_RUNS);
        a.merge(b);
        // Encoded and kept: the bytes of the table encoded whole, and the
        // table as it was (its runs rewound).
        let mut kept = Vec::new();
        a.encode_kept(&mut kept).unwrap();
        let mut again = Vec::new();
        a.encode_kept(&mut again).unwrap();
        assert_eq!(again, kept);
        let mut r = crate::wire::Reader::new(&kept);
        let mut whole = Vec::new();
        SpillTable::decode_from(&mut r)
            .unwrap()
            .encode_into(&mut whole)
            .unwrap();
        assert_eq!(whole, kept);
        let top = a.finish(10).unwrap();
        assert_eq!(top.distinct, 113);
        let mut want: Vec<(String, Stats)> = plain.clone().into_iter().collect();
        want.sort_by(|x, y| y.1.cost.cmp(&x.1.cost).then_with(|| x.0.cmp(&y.0)));
        assert_eq!(top.rows, want[..10].to_vec());
        let mut rest = Stats::default();
        for (_, s) in &want[10..] {
            rest.merge(s);
        }
        assert_eq!(top.rest, rest);
    }

    #[test]
    fn small_tables_never_touch_the_disk() {
        let mut t = SpillTable::with_capacity(100);
        t.add("x", CallStatus::Ok, &usage(3), Some(Money::from_picos(5)));
        t.add("x", CallStatus::Ok, &usage(4), None);
        assert!(!t.spilled());
        let top = t.finish(5).unwrap();
        assert_eq!(top.distinct, 1);
        assert_eq!(top.rows[0].1.calls, 2);
        assert_eq!(top.rows[0].1.unpriced_calls, 1);
        assert_eq!(top.rows[0].1.input_tokens, 7);
    }
}
