//! Line numbers, resolved once the whole input is read.
//!
//! Numbering a chunk's lines as it is read would mean counting its newlines
//! twice: once by the reader thread, to know where the next chunk starts,
//! and again by the worker that cuts the chunk into lines. So the reader
//! only numbers its chunks, and a [`Location`](crate::Location) made while
//! reading is *pending*: the chunk's place in its source and the line's
//! offset from where that chunk's lines start to be counted. Workers report
//! each chunk's line count as they cut it; [`LineMap`] adds them up and
//! turns a pending location into the line number, after the fact.
//!
//! A pending line has its top bit set, then the chunk's sequence number (31
//! bits) and the offset (32 bits). Within a source pending lines sort as
//! their line numbers do, so samples kept "first by line" are the same
//! before and after resolution. Line 0 (a file-level problem) and the row
//! numbers of Parquet batches, known when read, are never pending.

const PENDING: u64 = 1 << 63;
const OFFSET_BITS: u32 = 32;
const OFFSET_MASK: u64 = (1 << OFFSET_BITS) - 1;

/// The pending line `offset` lines after where chunk `seq`'s count starts
/// (the line after every line of the chunks before it).
pub(crate) fn pending(seq: u32, offset: u64) -> u64 {
    debug_assert!(seq < 1 << 31 && offset <= OFFSET_MASK);
    PENDING | (u64::from(seq) & 0x7FFF_FFFF) << OFFSET_BITS | offset.min(OFFSET_MASK)
}

/// Whether `line` still needs [`LineMap::resolve`].
pub fn is_pending(line: u64) -> bool {
    line & PENDING != 0
}

/// Per source, how many lines each chunk accounts for (its own, and those
/// the reader dropped just before it); built from the workers' counts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LineMap {
    /// Per source, `starts[k]`: the number of the first line counted for
    /// chunk `k` (1 + every line of chunks `0..k`); one more entry than
    /// chunks, for a position after the last one.
    starts: Vec<Vec<u64>>,
}

impl LineMap {
    /// From `(source, chunk seq, lines)` triples in any order. A chunk no
    /// worker reported counts as no lines.
    pub(crate) fn new(sources: usize, counts: impl IntoIterator<Item = (usize, u32, u64)>) -> Self {
        let mut per: Vec<Vec<u64>> = vec![Vec::new(); sources];
        for (source, seq, lines) in counts {
            let v = &mut per[source];
            let i = seq as usize;
            if v.len() <= i {
                v.resize(i + 1, 0);
            }
            v[i] += lines;
        }
        let starts = per
            .into_iter()
            .map(|lines| {
                let mut next = 1u64;
                let mut starts = Vec::with_capacity(lines.len() + 1);
                for n in lines {
                    starts.push(next);
                    next += n;
                }
                starts.push(next);
                starts
            })
            .collect();
        LineMap { starts }
    }

    /// The line number of a location made while reading `source`.
    pub fn resolve(&self, source: usize, line: u64) -> u64 {
        if !is_pending(line) {
            return line;
        }
        let seq = ((line & !PENDING) >> OFFSET_BITS) as usize;
        let offset = line & OFFSET_MASK;
        let starts = self.starts.get(source).map_or(&[][..], Vec::as_slice);
        let start = starts.get(seq).or(starts.last()).copied().unwrap_or(1);
        start + offset
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_lines_resolve_by_the_chunks_before_them() {
        // Source 0: chunk 0 has 3 lines, chunk 1 has 2 lines plus one
        // over-long line dropped before it, chunk 2 has 4. Source 1: one chunk.
        let map = LineMap::new(2, [(0, 2, 4), (1, 0, 7), (0, 0, 3), (0, 1, 3)]);
        assert_eq!(map.resolve(0, pending(0, 0)), 1);
        assert_eq!(map.resolve(0, pending(0, 2)), 3);
        // The dropped line is line 4; chunk 1's lines are 5 and 6.
        assert_eq!(map.resolve(0, pending(1, 0)), 4);
        assert_eq!(map.resolve(0, pending(1, 1)), 5);
        assert_eq!(map.resolve(0, pending(2, 3)), 10);
        // After the last chunk: the line after every line.
        assert_eq!(map.resolve(0, pending(3, 0)), 11);
        assert_eq!(map.resolve(1, pending(0, 6)), 7);
        // Known lines and file-level problems pass through.
        assert_eq!(map.resolve(0, 0), 0);
        assert_eq!(map.resolve(1, 42), 42);
        // Order within a source is the order of the resolved lines.
        let mut lines = [pending(2, 0), pending(0, 2), pending(1, 1), pending(0, 0)];
        lines.sort_unstable();
        let resolved: Vec<u64> = lines.iter().map(|&l| map.resolve(0, l)).collect();
        assert_eq!(resolved, [1, 3, 5, 7]);
    }
}
