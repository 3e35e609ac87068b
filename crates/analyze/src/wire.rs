//! The binary form of an accumulator's state, for engines that move partial
//! aggregates between processes (the `cluster` feature's DataFusion
//! aggregate: its state is one worker's accumulator, encoded).
//!
//! Exact and deterministic (equal states have equal bytes: maps are
//! written in key order): integers as LEB128 varints (zigzag for signed
//! ones), money as its pico-dollars, text as length and UTF-8 bytes; each
//! type writes its fields in declaration order ([`wire_struct!`] lists them,
//! and the list is checked both ways at compile time, so a field added to a
//! type and not to its wire form does not build). Nothing is rounded and no
//! map is iterated into a float, so decoding gives back the same values and
//! they merge to the same audit.
//!
//! Written here rather than with serde and a format crate: the types' serde
//! impls are the JSON report's (money as decimal text, `CostParts` skipping a
//! field), and a varint writer is a screenful.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};

use chrono::{DateTime, NaiveDate, Utc};

use tokenaudit_core::pricing::ModelId;
use tokenaudit_core::{Money, Usage};
use tokenaudit_ingest::Location;

/// Bytes that are not a valid state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError(pub String);

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "not a tokenaudit accumulator state: {}", self.0)
    }
}

impl std::error::Error for WireError {}

pub type Result<T> = std::result::Result<T, WireError>;

/// A value with a binary form.
pub trait Wire: Sized {
    fn put(&self, w: &mut Vec<u8>);
    fn get(r: &mut Reader<'_>) -> Result<Self>;
}

/// Reads values back from bytes.
pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes, pos: 0 }
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| WireError(format!("truncated at byte {}", self.pos)))?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    /// Whether every byte was read.
    pub fn is_done(&self) -> bool {
        self.pos == self.bytes.len()
    }

    /// A length about to be used to reserve memory: no more than the bytes
    /// left could hold (each element takes a byte at least).
    pub(crate) fn len(&mut self) -> Result<usize> {
        let n = u64::get(self)?;
        if n > (self.bytes.len() - self.pos) as u64 {
            return Err(WireError(format!(
                "a length of {n} at byte {} is past the end",
                self.pos
            )));
        }
        Ok(n as usize)
    }
}

/// `impl Wire` for a struct, its fields in the order given. The list must
/// name every field (the impl destructures and builds the struct whole), so
/// it is written where the struct is and private fields are reachable.
macro_rules! wire_struct {
    ($t:ident { $($f:ident),* $(,)? }) => {
        impl $crate::wire::Wire for $t {
            fn put(&self, w: &mut Vec<u8>) {
                let $t { $($f),* } = self;
                $( $crate::wire::Wire::put($f, w); )*
            }
            fn get(r: &mut $crate::wire::Reader<'_>) -> $crate::wire::Result<Self> {
                Ok($t { $($f: $crate::wire::Wire::get(r)?),* })
            }
        }
    };
}
pub(crate) use wire_struct;

fn put_varint(w: &mut Vec<u8>, mut v: u128) {
    while v >= 0x80 {
        w.push((v as u8) | 0x80);
        v >>= 7;
    }
    w.push(v as u8);
}

#[inline]
fn get_varint(r: &mut Reader<'_>, bits: u32) -> Result<u128> {
    // Most values are one byte: no loop, no checks past the end's.
    if let Some(&b) = r.bytes.get(r.pos) {
        if b < 0x80 {
            r.pos += 1;
            return Ok(u128::from(b));
        }
    }
    get_varint_long(r, bits)
}

/// [`get_varint`] for types of at most 64 bits, without 128-bit arithmetic
/// or a loop: most multi-byte values are hashes (nine or ten bytes), whose
/// first eight groups are gathered from one 64-bit load. The same values
/// and the same errors as [`get_varint_long`] (which reads the last bytes
/// of the state, and says where a value is wrong).
#[inline(always)]
fn get_varint64(r: &mut Reader<'_>, bits: u32) -> Result<u64> {
    // Most values are one byte: inlined where they are read.
    if let Some(&b) = r.bytes.get(r.pos) {
        if b < 0x80 {
            r.pos += 1;
            return Ok(u64::from(b));
        }
    }
    get_varint64_long(r, bits)
}

#[inline(never)]
fn get_varint64_long(r: &mut Reader<'_>, bits: u32) -> Result<u64> {
    let rest = &r.bytes[r.pos..];
    if rest.len() < 10 {
        return get_varint_long(r, bits).map(|v| v as u64);
    }
    let lo = u64::from_le_bytes(rest[..8].try_into().expect("ten bytes left"));
    let stops = !lo & 0x8080_8080_8080_8080;
    // The number of bytes, and the value.
    let (n, v) = if stops != 0 {
        let n = stops.trailing_zeros() as usize / 8 + 1;
        let keep = if n == 8 { u64::MAX } else { (1 << (8 * n)) - 1 };
        (n, gather7(lo & keep))
    } else if rest[8] < 0x80 {
        (9, gather7(lo) | u64::from(rest[8]) << 56)
    } else if rest[9] < 0x80 {
        (
            10,
            gather7(lo) | u64::from(rest[8] & 0x7f) << 56 | u64::from(rest[9]) << 63,
        )
    } else {
        return get_varint_long(r, bits).map(|v| v as u64);
    };
    // Within the type: no group past its width, and the last group's bits
    // inside it.
    let last = u32::from(rest[n - 1]);
    let room = bits.saturating_sub(7 * (n as u32 - 1));
    if room == 0 || (room < 7 && last >> room != 0) {
        return get_varint_long(r, bits).map(|v| v as u64);
    }
    r.pos += n;
    Ok(v)
}

/// The low seven bits of each of `x`'s eight bytes, packed into 56 bits.
#[inline]
fn gather7(x: u64) -> u64 {
    let x = x & 0x7f7f_7f7f_7f7f_7f7f;
    let x = (x & 0x007f_007f_007f_007f) | ((x & 0x7f00_7f00_7f00_7f00) >> 1);
    let x = (x & 0x0000_3fff_0000_3fff) | ((x & 0x3fff_0000_3fff_0000) >> 2);
    (x & 0x0000_0000_0fff_ffff) | ((x & 0x0fff_ffff_0000_0000) >> 4)
}

fn get_varint_long(r: &mut Reader<'_>, bits: u32) -> Result<u128> {
    let mut v: u128 = 0;
    let mut shift = 0;
    loop {
        let Some(&b) = r.bytes.get(r.pos) else {
            return Err(WireError(format!("truncated at byte {}", r.pos)));
        };
        r.pos += 1;
        let part = u128::from(b & 0x7f);
        // The bits left for this group: a value wider than the type is an
        // error, not a silent truncation.
        let room = bits.saturating_sub(shift);
        if room == 0 || (room < 7 && part >> room != 0) {
            return Err(WireError(format!(
                "an integer wider than {bits} bits at byte {}",
                r.pos
            )));
        }
        v |= part << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
        shift += 7;
    }
}

/// `body`'s bytes as a span: their length, then the bytes, as
/// `bytes.len().put(w); w.extend_from_slice(bytes)` writes them, but
/// written in place (no buffer of their own: the span may be most of the
/// state).
pub fn put_span(w: &mut Vec<u8>, body: impl FnOnce(&mut Vec<u8>)) {
    /// The widest a `u64` is written.
    const ROOM: usize = 10;
    let at = w.len();
    w.extend_from_slice(&[0; ROOM]);
    body(w);
    let len = w.len() - at - ROOM;
    let mut head = Vec::with_capacity(ROOM);
    len.put(&mut head);
    w[at..at + head.len()].copy_from_slice(&head);
    w.copy_within(at + ROOM.., at + head.len());
    w.truncate(w.len() - (ROOM - head.len()));
}

macro_rules! unsigned {
    ($($t:ty : $get:ident),*) => {$(
        impl Wire for $t {
            fn put(&self, w: &mut Vec<u8>) {
                put_varint(w, *self as u128);
            }
            fn get(r: &mut Reader<'_>) -> Result<Self> {
                Ok($get(r, <$t>::BITS)? as $t)
            }
        }
    )*};
}
unsigned!(u8: get_varint64, u16: get_varint64, u32: get_varint64, u64: get_varint64, u128: get_varint);

macro_rules! signed {
    ($($t:ty : $u:ty : $get:ident),*) => {$(
        impl Wire for $t {
            fn put(&self, w: &mut Vec<u8>) {
                // Zigzag: small magnitudes of either sign stay short.
                let z = ((*self << 1) ^ (*self >> (<$t>::BITS - 1))) as $u;
                put_varint(w, z as u128);
            }
            fn get(r: &mut Reader<'_>) -> Result<Self> {
                let z = $get(r, <$t>::BITS)? as $u;
                Ok(((z >> 1) as $t) ^ -((z & 1) as $t))
            }
        }
    )*};
}
signed!(i32: u32: get_varint64, i64: u64: get_varint64, i128: u128: get_varint);

impl Wire for usize {
    fn put(&self, w: &mut Vec<u8>) {
        (*self as u64).put(w);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self> {
        usize::try_from(u64::get(r)?).map_err(|e| WireError(e.to_string()))
    }
}

/// Its bits: exact, NaN and infinities included.
impl Wire for f64 {
    fn put(&self, w: &mut Vec<u8>) {
        w.extend_from_slice(&self.to_bits().to_le_bytes());
    }
    fn get(r: &mut Reader<'_>) -> Result<Self> {
        let b: [u8; 8] = r.take(8)?.try_into().expect("eight bytes taken");
        Ok(f64::from_bits(u64::from_le_bytes(b)))
    }
}

impl Wire for bool {
    fn put(&self, w: &mut Vec<u8>) {
        w.push(u8::from(*self));
    }
    fn get(r: &mut Reader<'_>) -> Result<Self> {
        match r.take(1)?[0] {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(WireError(format!("{b} is not a boolean"))),
        }
    }
}

pub(crate) fn put_str(w: &mut Vec<u8>, s: &str) {
    s.len().put(w);
    w.extend_from_slice(s.as_bytes());
}

pub(crate) fn get_str<'a>(r: &mut Reader<'a>) -> Result<&'a str> {
    let n = r.len()?;
    std::str::from_utf8(r.take(n)?).map_err(|e| WireError(e.to_string()))
}

impl Wire for Box<str> {
    fn put(&self, w: &mut Vec<u8>) {
        put_str(w, self);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self> {
        get_str(r).map(Into::into)
    }
}

impl Wire for String {
    fn put(&self, w: &mut Vec<u8>) {
        put_str(w, self);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self> {
        get_str(r).map(Into::into)
    }
}

impl<T: Wire> Wire for Option<T> {
    fn put(&self, w: &mut Vec<u8>) {
        match self {
            None => w.push(0),
            Some(v) => {
                w.push(1);
                v.put(w);
            }
        }
    }
    fn get(r: &mut Reader<'_>) -> Result<Self> {
        Ok(if bool::get(r)? {
            Some(T::get(r)?)
        } else {
            None
        })
    }
}

impl<T: Wire> Wire for Box<T> {
    fn put(&self, w: &mut Vec<u8>) {
        (**self).put(w);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self> {
        T::get(r).map(Box::new)
    }
}

impl<T: Wire> Wire for Vec<T> {
    fn put(&self, w: &mut Vec<u8>) {
        self.len().put(w);
        for v in self {
            v.put(w);
        }
    }
    fn get(r: &mut Reader<'_>) -> Result<Self> {
        let n = r.len()?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(T::get(r)?);
        }
        Ok(v)
    }
}

impl<T: Wire + Default + Copy, const N: usize> Wire for [T; N] {
    fn put(&self, w: &mut Vec<u8>) {
        for v in self {
            v.put(w);
        }
    }
    fn get(r: &mut Reader<'_>) -> Result<Self> {
        let mut a = [T::default(); N];
        for v in &mut a {
            *v = T::get(r)?;
        }
        Ok(a)
    }
}

impl Wire for () {
    fn put(&self, _: &mut Vec<u8>) {}
    fn get(_: &mut Reader<'_>) -> Result<Self> {
        Ok(())
    }
}

impl<A: Wire, B: Wire> Wire for (A, B) {
    fn put(&self, w: &mut Vec<u8>) {
        self.0.put(w);
        self.1.put(w);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self> {
        Ok((A::get(r)?, B::get(r)?))
    }
}

/// In key order, so that equal maps have equal bytes whatever order their
/// keys were inserted in.
impl<K: Wire + Ord + Hash, V: Wire, S: BuildHasher + Default> Wire for HashMap<K, V, S> {
    fn put(&self, w: &mut Vec<u8>) {
        self.len().put(w);
        let mut entries: Vec<(&K, &V)> = self.iter().collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        for (k, v) in entries {
            k.put(w);
            v.put(w);
        }
    }
    fn get(r: &mut Reader<'_>) -> Result<Self> {
        let n = r.len()?;
        let mut m = HashMap::with_capacity_and_hasher(n, S::default());
        for _ in 0..n {
            let k = K::get(r)?;
            if m.insert(k, V::get(r)?).is_some() {
                return Err(WireError("a key twice in one map".into()));
            }
        }
        Ok(m)
    }
}

/// A map keyed by `u64` as [`HashMap`]'s `put` writes it (its entries in key
/// order), its keys copied out to be sorted: a sort that compares keys in
/// the table itself reads across the whole table (a sixth of a day's
/// state's encoding).
pub(crate) fn put_u64_map<V: Wire, S>(map: &HashMap<u64, V, S>, w: &mut Vec<u8>) {
    map.len().put(w);
    let mut entries: Vec<(u64, &V)> = map.iter().map(|(k, v)| (*k, v)).collect();
    entries.sort_unstable_by_key(|e| e.0);
    for (k, v) in entries {
        k.put(w);
        v.put(w);
    }
}

impl Wire for Money {
    fn put(&self, w: &mut Vec<u8>) {
        self.picos().put(w);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self> {
        i128::get(r).map(Money::from_picos)
    }
}

impl Wire for Usage {
    fn put(&self, w: &mut Vec<u8>) {
        let Usage {
            input,
            cached_read,
            cache_write,
            cache_write_1h,
            output,
            reasoning,
            input_audio,
            cached_audio,
            output_audio,
            web_searches,
        } = self;
        for v in [
            input,
            cached_read,
            cache_write,
            cache_write_1h,
            output,
            reasoning,
            input_audio,
            cached_audio,
            output_audio,
            web_searches,
        ] {
            v.put(w);
        }
    }
    fn get(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Usage {
            input: Wire::get(r)?,
            cached_read: Wire::get(r)?,
            cache_write: Wire::get(r)?,
            cache_write_1h: Wire::get(r)?,
            output: Wire::get(r)?,
            reasoning: Wire::get(r)?,
            input_audio: Wire::get(r)?,
            cached_audio: Wire::get(r)?,
            output_audio: Wire::get(r)?,
            web_searches: Wire::get(r)?,
        })
    }
}

/// A catalog index: only meaningful with the catalog the state was made
/// with (the decoder is given the same one).
impl Wire for ModelId {
    fn put(&self, w: &mut Vec<u8>) {
        self.0.put(w);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self> {
        u32::get(r).map(ModelId)
    }
}

/// An index into the reader's source list: for the store, the position in
/// `tokenaudit_store::scan::ordered_sources`, which every process computes
/// alike from the same commit.
impl Wire for Location {
    fn put(&self, w: &mut Vec<u8>) {
        self.source.put(w);
        self.line.put(w);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Location {
            source: Wire::get(r)?,
            line: Wire::get(r)?,
        })
    }
}

impl Wire for NaiveDate {
    fn put(&self, w: &mut Vec<u8>) {
        use chrono::Datelike;
        self.num_days_from_ce().put(w);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self> {
        let days = i32::get(r)?;
        NaiveDate::from_num_days_from_ce_opt(days)
            .ok_or_else(|| WireError(format!("day {days} is out of range")))
    }
}

impl Wire for DateTime<Utc> {
    fn put(&self, w: &mut Vec<u8>) {
        self.timestamp().put(w);
        self.timestamp_subsec_nanos().put(w);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self> {
        let (secs, nanos) = (i64::get(r)?, u32::get(r)?);
        DateTime::from_timestamp(secs, nanos)
            .ok_or_else(|| WireError(format!("instant {secs}.{nanos} is out of range")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<T: Wire + PartialEq + std::fmt::Debug>(v: T) -> usize {
        let mut w = Vec::new();
        v.put(&mut w);
        let mut r = Reader::new(&w);
        assert_eq!(T::get(&mut r).unwrap(), v);
        assert!(r.is_done());
        w.len()
    }

    #[test]
    fn a_span_is_its_length_then_its_bytes() {
        for n in [0usize, 1, 127, 128, 300, 20_000] {
            let body: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();
            let mut expected = vec![9, 9];
            body.len().put(&mut expected);
            expected.extend_from_slice(&body);
            let mut w = vec![9, 9];
            put_span(&mut w, |w| w.extend_from_slice(&body));
            assert_eq!(w, expected, "{n} bytes");
        }
    }

    #[test]
    fn integers_round_trip_at_their_limits_and_small_ones_stay_short() {
        for v in [0u64, 1, 127, 128, 300, u64::MAX] {
            round_trip(v);
        }
        for v in [0i64, -1, 1, -64, 64, i64::MIN, i64::MAX] {
            round_trip(v);
        }
        for v in [0i128, -1, i128::MIN, i128::MAX] {
            round_trip(v);
        }
        round_trip(u128::MAX);
        round_trip(u32::MAX);
        assert_eq!(round_trip(5u64), 1);
        assert_eq!(round_trip(-3i64), 1);
        assert_eq!(round_trip(u64::MAX), 10);
        // A dollar is 10^12 picos: 6 bytes, not 16.
        assert_eq!(round_trip(Money::from_picos(1_000_000_000_000)), 6);
    }

    #[test]
    fn values_round_trip() {
        round_trip(Some("héllo".to_string()));
        round_trip(None::<String>);
        round_trip(vec![(1u32, Box::<str>::from("a")), (2, "".into())]);
        round_trip([7u64; 24]);
        round_trip(NaiveDate::from_ymd_opt(2026, 10, 1).unwrap());
        round_trip(DateTime::from_timestamp(1_790_000_000, 123_456_789).unwrap());
        round_trip(Location {
            source: 3,
            line: 99,
        });
        let mut m: rustc_hash::FxHashMap<Box<str>, u64> = Default::default();
        m.insert("x".into(), 1);
        m.insert("y".into(), 2);
        round_trip(m);
    }

    #[test]
    fn bad_bytes_are_errors_not_panics() {
        // A varint that never ends, one too wide for its type, a length past
        // the end, invalid UTF-8, a bad boolean.
        assert!(u64::get(&mut Reader::new(&[0xff; 3])).is_err());
        assert!(u64::get(&mut Reader::new(&[0xff; 11])).is_err());
        assert!(u8::get(&mut Reader::new(&[0x80, 0x02])).is_err());
        assert!(String::get(&mut Reader::new(&[5, b'a'])).is_err());
        assert!(String::get(&mut Reader::new(&[2, 0xff, 0xfe])).is_err());
        assert!(bool::get(&mut Reader::new(&[2])).is_err());
        assert!(Vec::<u64>::get(&mut Reader::new(&[200, 1])).is_err());
    }

    #[test]
    fn the_64_bit_reader_reads_as_the_careful_one() {
        // Every length of varint, each final group at and past its type's
        // width, with and without ten bytes left: the same value, position
        // and error as the careful reader's.
        let mut cases: Vec<Vec<u8>> = Vec::new();
        for n in 1..=11usize {
            for last in [0u8, 1, 2, 3, 0x0f, 0x10, 0x1f, 0x7f] {
                let mut v = vec![0xff; n - 1];
                v.push(last);
                cases.push(v.clone());
                v.extend_from_slice(&[0x55; 12]);
                cases.push(v);
            }
        }
        for bits in [8, 16, 32, 64] {
            for c in &cases {
                let (mut a, mut b) = (Reader::new(c), Reader::new(c));
                let fast = get_varint64(&mut a, bits).map(u128::from);
                let slow = get_varint_long(&mut b, bits);
                assert_eq!(fast.is_ok(), slow.is_ok(), "{bits} bits, {c:?}");
                if let (Ok(f), Ok(s)) = (&fast, &slow) {
                    assert_eq!((f, a.pos), (s, b.pos), "{bits} bits, {c:?}");
                }
            }
        }
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut values = vec![
            0u64,
            127,
            128,
            1 << 35,
            u64::from(u32::MAX),
            u64::MAX - 1,
            u64::MAX,
        ];
        for shift in 0..64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            values.push(x >> shift);
        }
        for v in values {
            let mut w = Vec::new();
            v.put(&mut w);
            w.extend_from_slice(&[0; 10]);
            assert_eq!(u64::get(&mut Reader::new(&w)).unwrap(), v);
        }
    }
}
