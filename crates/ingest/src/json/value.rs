//! The lenient view of one JSON value: what a reader found ([`Lenient`]), a
//! scalar as read ([`Scalar`]), and the conversions both the serde readers
//! and the scanner use (counts, labels, timestamps), so they cannot disagree
//! on what a value means.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// What a lenient reader found.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Lenient<T> {
    #[default]
    Missing,
    Value(T),
    Negative,
    WrongType,
}

impl<T> Lenient<T> {
    pub fn is_present(&self) -> bool {
        !matches!(self, Lenient::Missing)
    }

    /// A value read as such (not missing, negative or of the wrong type).
    pub fn is_value(&self) -> bool {
        matches!(self, Lenient::Value(_))
    }
}

/// The count an infinity reads as (`"inf"`, OpenAI Realtime's default
/// `max_output_tokens`, or `"Infinity"`): a limit of it is no limit, a
/// token count of it is of the wrong type. A finite count too large for
/// `u64` is one less.
pub const INFINITE: u64 = u64::MAX;

/// A count as read, below [`INFINITE`].
pub(crate) fn finite(n: u64) -> u64 {
    n.min(INFINITE - 1)
}

fn float_to_count(v: f64) -> Lenient<u64> {
    if v == f64::INFINITY {
        Lenient::Value(INFINITE)
    } else if !v.is_finite() || v.fract() != 0.0 {
        Lenient::WrongType
    } else if v < 0.0 {
        Lenient::Negative
    } else if v >= u64::MAX as f64 {
        Lenient::Value(INFINITE - 1)
    } else {
        Lenient::Value(v as u64)
    }
}

/// One JSON value as the lenient readers see it: scalars parsed, arrays and
/// objects only noted (no scalar reader uses their content). Both the serde
/// visitors and the gateway's scanner convert through it, so they cannot
/// disagree on what a value means.
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar<'a> {
    Null,
    Bool(bool),
    U64(u64),
    I64(i64),
    F64(f64),
    Str(Cow<'a, str>),
    /// An array or object.
    Container,
}

impl<'a> Scalar<'a> {
    /// No value: null, or a string of only whitespace (an empty CSV cell).
    /// A mapping's list of paths goes on past it.
    pub fn is_blank(&self) -> bool {
        match self {
            Scalar::Null => true,
            Scalar::Str(s) => s.trim().is_empty(),
            _ => false,
        }
    }

    /// As a count: integers, integral floats and digit strings.
    pub fn count(self) -> Lenient<u64> {
        match self {
            Scalar::U64(v) => Lenient::Value(finite(v)),
            Scalar::I64(v) if v < 0 => Lenient::Negative,
            Scalar::I64(v) => Lenient::Value(v as u64),
            Scalar::F64(v) => float_to_count(v),
            Scalar::Str(v) => {
                // (A JSON string's text, quotes and all: a Parquet column of
                // DuckDB's JSON type holding `"300000"`, hunt65.)
                let t = v.trim();
                let t = t
                    .strip_prefix('"')
                    .and_then(|t| t.strip_suffix('"'))
                    .map_or(t, str::trim);
                if let Ok(n) = t.parse::<u64>() {
                    Lenient::Value(finite(n))
                } else if let Ok(f) = t.parse::<f64>() {
                    float_to_count(f)
                } else if let Some(n) = grouped_digits(t) {
                    Lenient::Value(finite(n))
                } else {
                    Lenient::WrongType
                }
            }
            Scalar::Null => Lenient::Missing,
            Scalar::Bool(_) | Scalar::Container => Lenient::WrongType,
        }
    }

    /// As a label: strings, and numbers and booleans as text; blank is missing.
    pub fn label(self) -> Lenient<Cow<'a, str>> {
        match self {
            Scalar::Str(v) => non_empty(v),
            Scalar::U64(v) => Lenient::Value(Cow::Owned(v.to_string())),
            Scalar::I64(v) => Lenient::Value(Cow::Owned(v.to_string())),
            Scalar::F64(v) => Lenient::Value(Cow::Owned(v.to_string())),
            Scalar::Bool(v) => Lenient::Value(Cow::Borrowed(if v { "true" } else { "false" })),
            Scalar::Null => Lenient::Missing,
            Scalar::Container => Lenient::WrongType,
        }
    }

    /// As a timestamp: text (see [`parse_timestamp`]) or an epoch number.
    pub fn time(self) -> Lenient<DateTime<Utc>> {
        let t = match self {
            // An empty text is no time, as `null` and an empty CSV cell.
            Scalar::Str(v) if v.trim().is_empty() => return Lenient::Missing,
            Scalar::Str(v) => parse_timestamp(&v),
            Scalar::U64(v) => epoch_digits_to_time(v, ""),
            Scalar::I64(v) => u64::try_from(v)
                .ok()
                .and_then(|v| epoch_digits_to_time(v, "")),
            Scalar::F64(v) => epoch_to_time(v),
            Scalar::Null => return Lenient::Missing,
            Scalar::Bool(_) | Scalar::Container => None,
        };
        t.map_or(Lenient::WrongType, Lenient::Value)
    }
}

pub fn non_empty(s: Cow<'_, str>) -> Lenient<Cow<'_, str>> {
    // Only strings that start or end with whitespace need the full trim.
    let b = s.as_bytes();
    let blank = match (b.first(), b.last()) {
        (None, _) => true,
        (Some(f), Some(l)) if f.is_ascii_whitespace() || l.is_ascii_whitespace() => {
            s.trim().is_empty()
        }
        _ => false,
    };
    if blank {
        Lenient::Missing
    } else {
        Lenient::Value(s)
    }
}

/// Converts a Unix epoch number, guessing its unit from its magnitude:
/// below 10¹¹ seconds, below 10¹⁴ milliseconds, below 10¹⁷ microseconds,
/// else nanoseconds. (10¹¹ seconds is the year 5138; 10¹¹ ms is 1973.)
pub fn epoch_to_time(v: f64) -> Option<DateTime<Utc>> {
    if !v.is_finite() || v < 0.0 {
        return None;
    }
    let scale = nanos_per_unit(v);
    if scale == 1 {
        if v > i64::MAX as f64 {
            return None;
        }
        return Some(Utc.timestamp_nanos(v as i64));
    }
    // A float holds today's epoch seconds only to about a quarter of a
    // microsecond: read to the nearest microsecond, so `1759320000.123` is
    // .123 and not .122999808 (which fell outside a window starting at
    // .123).
    let micros = (v * (scale / 1000) as f64).round();
    if micros * 1e3 > i64::MAX as f64 {
        return None;
    }
    Some(Utc.timestamp_nanos(micros as i64 * 1000))
}

/// The unit of an epoch number, told by its magnitude, in nanoseconds:
/// seconds below 1e11, milliseconds below 1e14, microseconds below 1e17,
/// nanoseconds above.
fn nanos_per_unit(whole: f64) -> u64 {
    if whole < 1e11 {
        1_000_000_000
    } else if whole < 1e14 {
        1_000_000
    } else if whole < 1e17 {
        1_000
    } else {
        1
    }
}

/// Parses the timestamp spellings logs use. Numeric strings are epochs.
pub fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    let t = text.trim();
    if let Some(fast) = parse_rfc3339_utc_fast(t.as_bytes()) {
        return Some(fast);
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Some(dt.with_timezone(&Utc));
    }
    // A date and time with or without seconds, `T` or a space between them,
    // and a UTC offset in any of its spellings (`Z`, `+02`, `+0200`,
    // `+02:00`; PostgreSQL writes `+00`), or none (read as UTC).
    let (local, offset) = split_offset(t);
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d %H:%M:%S%.f UTC",
        "%Y/%m/%d %H:%M:%S%.f",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(local, fmt) {
            return Some(n.and_utc() - chrono::TimeDelta::seconds(offset.into()));
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|n| n.and_utc());
    }
    if t.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        // Read exactly: a float holds a millisecond epoch only to a few
        // hundred nanoseconds, and a call at the window's first
        // millisecond fell before it.
        let (whole, fraction) = t.split_once('.').unwrap_or((t, ""));
        if !whole.is_empty() && !fraction.contains('.') {
            return whole
                .parse::<u64>()
                .ok()
                .and_then(|w| epoch_digits_to_time(w, fraction));
        }
    }
    // An epoch in a float's exponent form, as Spark and Java write them
    // (`1.7593128E9`; a CSV cell keeps it as text: hunt58).
    if t.contains(['e', 'E'])
        && t.bytes()
            .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b))
    {
        if let Some(time) = t
            .parse::<f64>()
            .ok()
            .filter(|_| !rounded_epoch(t))
            .and_then(epoch_to_time)
        {
            return Some(time);
        }
    }
    // HTTP's and email's dates (`Tue, 02 Sep 2025 10:00:00 GMT`), as a
    // `Date` header copied into a log has them.
    if let Ok(dt) = DateTime::parse_from_rfc2822(t) {
        return Some(dt.with_timezone(&Utc));
    }
    // Go's `time.RFC1123` writes the zone's name: `… 10:00:00 UTC`.
    if let Some(dt) = t
        .strip_suffix(" UTC")
        .and_then(|d| DateTime::parse_from_rfc2822(&format!("{d} GMT")).ok())
    {
        return Some(dt.with_timezone(&Utc));
    }
    // A zone's name after the time (`2026-10-01T08:00:00 UTC`, Go's
    // `time.Time.String()`: `2026-10-01 08:00:00.5 +0000 UTC`): the time
    // before it (hunt124: rejected).
    if let Some(rest) = t.strip_suffix(" UTC").or_else(|| t.strip_suffix(" GMT")) {
        return parse_timestamp(rest);
    }
    other_spelling(t).and_then(|t| parse_timestamp(&t))
}

/// The same instant in a spelling [`parse_timestamp`] reads, for the
/// spellings of common loggers it does not (hunt182: their calls rejected
/// as bad timestamps): Go's `time.Time.String()` in a zone other than UTC
/// (`2026-11-01 15:30:00.5 +0800 CST`, and its monotonic clock's
/// ` m=+0.01`), Java's `ZonedDateTime` (`…-08:00[America/Los_Angeles]`),
/// and a decimal comma before the fraction of a second (Python logging's
/// `2026-11-01 07:30:00,123`, ISO 8601's `07:30:00,123Z`). `None` when it
/// is none of them.
fn other_spelling(t: &str) -> Option<String> {
    let mut out = t;
    // Go's monotonic clock reading.
    if let Some((before, m)) = out.rsplit_once(" m=") {
        if m.starts_with(['+', '-']) {
            out = before;
        }
    }
    // A zone's name after a numeric offset: the offset is the instant's.
    if let Some((before, name)) = out.rsplit_once(' ') {
        let offset = before.rsplit_once(' ').map_or("", |(_, o)| o);
        let numeric = offset.len() == 5
            && offset.starts_with(['+', '-'])
            && offset[1..].bytes().all(|b| b.is_ascii_digit());
        // A name (`CST`, Guam's `ChST`), or the offset again where the zone
        // has none (`+08` in Asia/Singapore, `+0800` parsed from RFC 3339:
        // Go's `stdTZ`; hunt186).
        let named = (2..=5).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphabetic());
        let offset_again = matches!(name.len(), 3 | 5)
            && name.starts_with(['+', '-'])
            && name[1..].bytes().all(|b| b.is_ascii_digit());
        if numeric && (named || offset_again) {
            out = before;
        }
    }
    // Java's region after the offset.
    if let Some(before) = out.strip_suffix(']').and_then(|o| o.rsplit_once('[')) {
        out = before.0;
    }
    // `HH:MM:SS,fff`: the comma before the fraction only.
    let bytes = out.as_bytes();
    let comma = bytes.iter().enumerate().position(|(i, &b)| {
        b == b','
            && i >= 8
            && bytes[i - 3] == b':'
            && bytes[i - 6] == b':'
            && bytes[i - 2..i].iter().all(u8::is_ascii_digit)
            && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)
    });
    let fixed = match comma {
        Some(i) => format!("{}.{}", &out[..i], &out[i + 1..]),
        None => out.to_string(),
    };
    (fixed != t).then_some(fixed)
}

/// Whether an epoch in exponent form keeps too few digits to place the
/// call within hours: a spreadsheet's `1.79617E+12` (Excel's General
/// format keeps six; hunt172: ten calls from 23:10 to 00:13 at 00:06:40,
/// eight on the wrong day). Its last digit is worth 10,000 seconds or more
/// (Spark's `1.7593128E9`, exact to the 100 seconds its zeros say, is read).
fn rounded_epoch(t: &str) -> bool {
    // Excel's scientific form: `E+` and at most five decimals (Java's and
    // Spark's `1.75932E9`, an exact hour, has no `+`: hunt179).
    let Some((mantissa, exponent)) = t.split_once("E+") else {
        return false;
    };
    if mantissa.split_once('.').is_some_and(|(_, f)| f.len() > 5) {
        return false;
    }
    let (Ok(exponent), Ok(value)) = (exponent.parse::<i32>(), t.parse::<f64>()) else {
        return false;
    };
    let decimals = mantissa.split_once('.').map_or(0, |(_, f)| f.len()) as i32;
    // The unit as `epoch_to_time` takes it from the size (its digits
    // below the second).
    let unit = 9 - nanos_per_unit(value.abs()).ilog10() as i32;
    exponent - decimals - unit >= 4
}

/// [`epoch_to_time`] on an epoch written in digits, read exactly: its
/// whole part (which decides the unit, as there) and the digits after its
/// point (beyond the nanosecond they are dropped).
pub fn epoch_digits_to_time(whole: u64, fraction: &str) -> Option<DateTime<Utc>> {
    // Told as `epoch_to_time` tells it (the float differs from the integer
    // only within a few units of 10^17, a date no log holds).
    let scale = nanos_per_unit(whole as f64);
    let mut nanos = u128::from(whole) * u128::from(scale);
    // The fraction, in the unit's nanoseconds: its first digits only.
    let mut place = u128::from(scale);
    for d in fraction.bytes() {
        place /= 10;
        if place == 0 {
            break;
        }
        nanos += u128::from(d - b'0') * place;
    }
    let nanos = i64::try_from(nanos).ok()?;
    Some(Utc.timestamp_nanos(nanos))
}

/// A trailing UTC offset and the text before it: `Z`, `+hh`, `+hhmm` or
/// `+hh:mm` (or `-`) after the date, in seconds east of UTC; 0 when there
/// is none.
fn split_offset(t: &str) -> (&str, i32) {
    if let Some(local) = t.strip_suffix(['Z', 'z']) {
        return (local, 0);
    }
    // The sign comes after the date's own dashes (`YYYY-MM-DD` is 10 bytes).
    let Some(at) = t.get(10..).and_then(|tail| tail.rfind(['+', '-'])) else {
        return (t, 0);
    };
    let (local, zone) = t.split_at(10 + at);
    let digits: String = zone[1..].chars().filter(|&c| c != ':').collect();
    let fields = (
        digits.len(),
        zone[1..].bytes().filter(|&b| b == b':').count(),
    );
    let ok =
        matches!(fields, (2, 0) | (4, 0) | (4, 1)) && digits.bytes().all(|b| b.is_ascii_digit());
    if !ok {
        return (t, 0);
    }
    let hours: i32 = digits[..2].parse().unwrap_or(0);
    let minutes: i32 = digits.get(2..).map_or(0, |m| m.parse().unwrap_or(0));
    if hours > 23 || minutes > 59 {
        return (t, 0);
    }
    let sign = if zone.starts_with('-') { -1 } else { 1 };
    (local.trim_end(), sign * (hours * 3600 + minutes * 60))
}

/// The common case, `2026-10-01T08:00:00.123Z`, without chrono's general parser.
fn parse_rfc3339_utc_fast(b: &[u8]) -> Option<DateTime<Utc>> {
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' {
        return None;
    }
    if b[16] != b':' || *b.last()? != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let mut n = 0u32;
        for &c in &b[r] {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                return None;
            }
            n = n * 10 + u32::from(d);
        }
        Some(n)
    };
    let date = cached_date(b)?;
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut nanos = 0u32;
    let rest = &b[19..b.len() - 1];
    if !rest.is_empty() {
        if rest[0] != b'.' || rest.len() < 2 || rest.len() > 10 {
            return None;
        }
        let digits = &rest[1..];
        nanos = num(20..20 + digits.len())?;
        nanos *= 10u32.pow(9 - digits.len() as u32);
    }
    let time = chrono::NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)?;
    Some(NaiveDateTime::new(date, time).and_utc())
}

thread_local! {
    /// The last `YYYY-MM-DD` read and its date: log lines come in time
    /// order, so most share the previous line's day.
    static LAST_DATE: std::cell::Cell<([u8; 10], NaiveDate)> =
        const { std::cell::Cell::new(([0; 10], NaiveDate::MIN)) };
}

/// The date of `b[..10]` (`YYYY-MM-DD`, dashes already checked).
fn cached_date(b: &[u8]) -> Option<NaiveDate> {
    let head: [u8; 10] = b[..10].try_into().ok()?;
    let (last, date) = LAST_DATE.get();
    if last == head {
        return Some(date);
    }
    let mut n = [0u32; 3];
    for (slot, r) in n.iter_mut().zip([0..4, 5..7, 8..10]) {
        for &c in &head[r] {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                return None;
            }
            *slot = *slot * 10 + u32::from(d);
        }
    }
    let date = NaiveDate::from_ymd_opt(n[0] as i32, n[1], n[2])?;
    LAST_DATE.set((head, date));
    Some(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An epoch in exponent form is read, unless its digits cannot place
    /// the call within hours (a spreadsheet's six: hunt172).
    #[test]
    fn rounded_epochs_in_exponent_form_are_refused() {
        let at = |t: &str| parse_timestamp(t).map(|d| d.to_rfc3339());
        assert_eq!(
            at("1.7593128E9").as_deref(),
            Some("2025-10-01T10:00:00+00:00")
        );
        assert_eq!(
            at("1.759312812345E12").as_deref(),
            Some("2025-10-01T10:00:12.345+00:00")
        );
        assert_eq!(at("1.79617E+12"), None);
        assert_eq!(at("1.79617E+09"), None);
        assert!(at("1.796171234E+12").is_some());
        // Java's and Spark's exact values with trailing zeros dropped.
        assert_eq!(
            at("1.75932E9").as_deref(),
            Some("2025-10-01T12:00:00+00:00")
        );
        assert!(at("1.75932E12").is_some());
    }

    #[test]
    fn timestamps() {
        let want = Utc.with_ymd_and_hms(2026, 10, 1, 8, 0, 0).unwrap();
        for text in [
            "2026-10-01T08:00:00Z",
            "2026-10-01T08:00:00.000Z",
            "2026-10-01T10:00:00+02:00",
            "2026-10-01 08:00:00",
            "2026-10-01 08:00:00.0000000",
            // PostgreSQL's text, offsets without a colon or minutes, no
            // seconds.
            "2026-10-01 08:00:00+00",
            "2026-10-01 10:00:00.000+02",
            "2026-10-01T10:00:00+0200",
            "2026-10-01T03:30:00-04:30",
            "2026-10-01T08:00Z",
            "2026-10-01 10:00+02:00",
            "2026-10-01 10:00:00 +02:00",
            // A zone's name after it (hunt124), Go's `time.Time.String()`.
            "2026-10-01T08:00:00 UTC",
            "2026-10-01 08:00:00 +0000 UTC",
            "2026-10-01 10:00:00.000 +0200 GMT",
            // Go's in another zone, with its monotonic clock; Java's
            // `ZonedDateTime`; a decimal comma (hunt182).
            "2026-10-01 16:00:00 +0800 CST",
            "2026-10-01 16:00:00 +0800 +08",
            "2026-10-01 05:00:00 -0300 -0300",
            "2026-10-01 18:00:00 +1000 ChST",
            "2026-10-01 01:00:00.000 -0700 PDT m=+0.016",
            "2026-10-01T01:00-07:00[America/Los_Angeles]",
            "2026-10-01 08:00:00,000",
            "2026-10-01T08:00:00,000Z",
            "1790841600",
            "1790841600000",
        ] {
            assert_eq!(parse_timestamp(text), Some(want), "{text}");
        }
        // A zone's name without an offset says nothing of the instant; a
        // comma elsewhere is no decimal comma.
        for text in [
            "2026-10-01 08:00:00 CST",
            "2026-10-01 08:00:00 +0800 Cst1",
            "2026-10-01, 08:00:00",
            "2026-10-01 08:00:00,",
        ] {
            assert_eq!(parse_timestamp(text), None, "{text}");
        }
        assert_eq!(
            epoch_to_time(1790841600123.0).unwrap().timestamp_millis(),
            1790841600123
        );
        // Integers and digit strings are read exactly, whatever the unit.
        for (v, nanos) in [
            (Scalar::U64(1_748_858_400_121), 1_748_858_400_121_000_000i64),
            (Scalar::I64(1_748_858_400), 1_748_858_400_000_000_000),
            (
                Scalar::U64(1_748_858_400_121_123),
                1_748_858_400_121_123_000,
            ),
            (
                Scalar::U64(1_748_858_400_121_123_457),
                1_748_858_400_121_123_457,
            ),
            (
                Scalar::Str("1748858400121".into()),
                1_748_858_400_121_000_000,
            ),
            (
                Scalar::Str("1748858400.121".into()),
                1_748_858_400_121_000_000,
            ),
            (
                Scalar::Str("1748858400.1234567891".into()),
                1_748_858_400_123_456_789,
            ),
            (
                Scalar::Str("1748858400121.5".into()),
                1_748_858_400_121_500_000,
            ),
        ] {
            let t = match v.clone().time() {
                Lenient::Value(t) => t,
                other => panic!("{v:?}: {other:?}"),
            };
            assert_eq!(t.timestamp_nanos_opt(), Some(nanos), "{v:?}");
        }
        // Floats to the nearest microsecond.
        for (v, nanos) in [
            (1_759_320_000.123f64, 1_759_320_000_123_000_000i64),
            (1_759_320_000_123.5, 1_759_320_000_123_500_000),
            (1_759_320_000_123_456.0, 1_759_320_000_123_456_000),
        ] {
            let t = epoch_to_time(v).unwrap();
            assert_eq!(t.timestamp_nanos_opt(), Some(nanos), "{v}");
        }
        assert_eq!(Scalar::I64(-5).time(), Lenient::WrongType);
        assert_eq!(Scalar::Str("1.2.3".into()).time(), Lenient::WrongType);
        assert_eq!(
            epoch_to_time(1790841600123.0).unwrap().timestamp_millis(),
            1790841600123
        );
        assert_eq!(
            epoch_to_time(1790841600.5e9).unwrap().timestamp_millis(),
            1790841600500
        );
        assert_eq!(parse_timestamp("yesterday"), None);
        assert_eq!(parse_timestamp("2026-13-01T00:00:00Z"), None);
        let fast = parse_timestamp("2026-10-01T08:00:00.123456Z").unwrap();
        assert_eq!(fast.timestamp_subsec_micros(), 123456);
    }
}

/// A count written with thousands separators, as spreadsheets export it
/// (`1,000,000`): groups of three digits after the first one to three.
fn grouped_digits(t: &str) -> Option<u64> {
    ungrouped(t)?.parse().ok()
}

/// Digits written with thousands separators (`1,234,567`: groups of three
/// after a first one of one to three digits), without them; `None` for
/// anything else. A first group starting with 0 is a decimal comma
/// (`0,350`), no grouping.
pub(crate) fn ungrouped(t: &str) -> Option<String> {
    let digits = |g: &str| !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit());
    let mut groups = t.split(',');
    let first = groups.next()?;
    if first.len() > 3 || first.starts_with('0') || !digits(first) {
        return None;
    }
    let mut out = first.to_string();
    let mut any = false;
    for g in groups {
        if g.len() != 3 || !digits(g) {
            return None;
        }
        out.push_str(g);
        any = true;
    }
    any.then_some(out)
}

#[cfg(test)]
mod grouped_tests {
    use super::*;

    #[test]
    fn counts_with_thousands_separators() {
        let c = |t: &str| Scalar::Str(Cow::Borrowed(t)).count();
        assert_eq!(c("1,000,000"), Lenient::Value(1_000_000));
        assert_eq!(c(" 12,345 "), Lenient::Value(12_345));
        assert_eq!(c("999"), Lenient::Value(999));
        for wrong in [
            "1,5", "1,0000", ",100", "1000,000", "1,,000", "-1,000", "1,000.5", "abc",
        ] {
            assert_eq!(c(wrong), Lenient::WrongType, "{wrong}");
        }
        assert_eq!(grouped_digits("18,446,744,073,709,551,616"), None);
    }

    /// A JSON string's text (a Parquet JSON column's `"300000"`) counts as
    /// its content (hunt65: rejected as a wrong type).
    #[test]
    fn a_count_as_json_string_text_is_its_content() {
        let c = |t: &str| Scalar::Str(Cow::Borrowed(t)).count();
        assert_eq!(c("\"300000\""), Lenient::Value(300_000));
        assert_eq!(c(" \" 1,000 \" "), Lenient::Value(1_000));
        for wrong in ["\"", "\"\"", "\"abc\"", "\"300000"] {
            assert_eq!(c(wrong), Lenient::WrongType, "{wrong}");
        }
    }
}
