//! A small JSON scanner over one line, for the gateway reader's fast path.
//!
//! It reads the line in place: strings borrow from it unless they contain
//! escapes (then they are decoded into an owned string), and values nobody
//! asked for are checked and stepped over without being built. It is a pull
//! parser: the reader asks for the next key or value, so no visitor machinery
//! sits between the bytes and the fields.
//!
//! It never accepts what serde_json would reject. Whenever it meets invalid
//! JSON, or anything it does not handle itself (nesting deeper than
//! [`MAX_DEPTH`], a lone UTF-16 surrogate), it gives up with [`Bail`]; the
//! caller then parses the line with serde_json, which has the final word
//! (and words the error). A bail can make a line slower, never different.
//! Numbers other than plain non-negative integers are handed to serde_json's
//! own number parser, so every float is the exact `f64` serde_json would
//! produce.

use std::borrow::Cow;

use crate::json::value::Scalar;

/// The scanner gave up on the line; the serde_json path decides instead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bail;

pub type Scan<T> = Result<T, Bail>;

/// Nesting deeper than this is left to serde_json (whose own limit is 128).
pub const MAX_DEPTH: u32 = 64;

/// A cursor over one line of JSON (a clone is a saved position to go back to).
#[derive(Clone)]
pub struct Scanner<'a> {
    text: &'a str,
    pos: usize,
    depth: u32,
}

impl<'a> Scanner<'a> {
    pub fn new(text: &'a str) -> Scanner<'a> {
        Scanner {
            text,
            pos: 0,
            depth: 0,
        }
    }

    #[inline]
    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    /// Skips JSON whitespace (space, tab, newline, carriage return only).
    #[inline]
    fn skip_ws(&mut self) {
        let b = self.bytes();
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = b.get(self.pos) {
            self.pos += 1;
        }
    }

    /// The next byte after whitespace, without consuming it.
    #[inline]
    pub fn peek(&mut self) -> Scan<u8> {
        self.skip_ws();
        self.bytes().get(self.pos).copied().ok_or(Bail)
    }

    /// The cursor's byte offset in the line.
    #[inline]
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// The line's text from `start` to the cursor.
    #[inline]
    pub fn since(&self, start: usize) -> &'a str {
        &self.text[start..self.pos]
    }

    /// Steps over `lit` when the line continues with exactly these bytes
    /// (no whitespace skipped): how a key predicted from the previous line
    /// is checked. A literal is only ever bytes the scanner itself accepted
    /// at the same point of a line (see `scan_value::KeyShape`).
    #[inline]
    pub fn eat(&mut self, lit: &[u8]) -> Option<usize> {
        let at = self.pos;
        if starts_with(&self.bytes()[at..], lit) {
            self.pos += lit.len();
            Some(at)
        } else {
            None
        }
    }

    /// The line's text between two offsets.
    #[inline]
    pub fn slice(&self, start: usize, end: usize) -> &'a str {
        &self.text[start..end]
    }

    /// The line's bytes between two offsets (no character-boundary check).
    #[inline]
    pub fn slice_bytes(&self, start: usize, end: usize) -> &'a [u8] {
        &self.bytes()[start..end]
    }

    /// True when only whitespace is left.
    pub fn at_end(&mut self) -> bool {
        self.skip_ws();
        self.pos == self.text.len()
    }

    #[inline]
    fn open(&mut self, byte: u8) -> Scan<()> {
        if self.peek()? != byte {
            return Err(Bail);
        }
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Bail);
        }
        self.pos += 1;
        Ok(())
    }

    /// Enters an object; then call [`Scanner::next_key`] until it says `None`.
    #[inline]
    pub fn begin_object(&mut self) -> Scan<()> {
        self.open(b'{')
    }

    /// Enters an array; then call [`Scanner::next_element`] until it says false.
    #[inline]
    pub fn begin_array(&mut self) -> Scan<()> {
        self.open(b'[')
    }

    /// Moves to the next key of the current object and past its colon,
    /// leaving the cursor at the key's opening quote. False at the object's
    /// end (which is consumed). `first` tracks whether a comma is due.
    #[inline]
    fn seek_key(&mut self, first: &mut bool) -> Scan<bool> {
        let mut c = self.peek()?;
        if c == b'}' {
            self.pos += 1;
            self.depth -= 1;
            return Ok(false);
        }
        if !*first {
            if c != b',' {
                return Err(Bail);
            }
            self.pos += 1;
            c = self.peek()?;
        }
        *first = false;
        if c != b'"' {
            return Err(Bail);
        }
        Ok(true)
    }

    #[inline]
    fn colon(&mut self) -> Scan<()> {
        if self.peek()? != b':' {
            return Err(Bail);
        }
        self.pos += 1;
        Ok(())
    }

    /// The next key of the current object (the cursor is then at its value),
    /// or `None` at the end of the object.
    #[inline]
    pub fn next_key(&mut self, first: &mut bool) -> Scan<Option<Cow<'a, str>>> {
        if !self.seek_key(first)? {
            return Ok(None);
        }
        let key = self.string()?;
        self.colon()?;
        Ok(Some(key))
    }

    /// True when another element of the current array follows (the cursor is
    /// then at it); false at the array's end (which is consumed).
    #[inline]
    pub fn next_element(&mut self, first: &mut bool) -> Scan<bool> {
        let c = self.peek()?;
        if c == b']' {
            self.pos += 1;
            self.depth -= 1;
            return Ok(false);
        }
        if !*first {
            if c != b',' {
                return Err(Bail);
            }
            self.pos += 1;
            // `[1,]` is invalid.
            if self.peek()? == b']' {
                return Err(Bail);
            }
        }
        *first = false;
        Ok(true)
    }

    /// Reads a string (the cursor is at its opening quote), borrowed from the
    /// line unless it has escapes.
    #[inline]
    pub fn string(&mut self) -> Scan<Cow<'a, str>> {
        let b = self.bytes();
        let start = self.pos + 1;
        let end = find_special(b, start);
        match b.get(end) {
            Some(b'"') => {
                self.pos = end + 1;
                // Both ends are next to ASCII quotes, so on char boundaries.
                self.text.get(start..end).map(Cow::Borrowed).ok_or(Bail)
            }
            Some(b'\\') => self.string_escaped(start, end).map(Cow::Owned),
            // A raw control character, or the line ends inside the string.
            _ => Err(Bail),
        }
    }

    /// The slow half of [`Scanner::string`]: `esc` is the first backslash.
    #[cold]
    fn string_escaped(&mut self, start: usize, mut esc: usize) -> Scan<String> {
        let b = self.bytes();
        let mut out = String::with_capacity(esc - start + 16);
        out.push_str(self.text.get(start..esc).ok_or(Bail)?);
        loop {
            let (ch, next) = unescape(b, esc + 1)?;
            out.push(ch);
            let end = find_special(b, next);
            out.push_str(self.text.get(next..end).ok_or(Bail)?);
            match b.get(end) {
                Some(b'"') => {
                    self.pos = end + 1;
                    return Ok(out);
                }
                Some(b'\\') => esc = end,
                _ => return Err(Bail),
            }
        }
    }

    /// Steps over a string (the cursor is at its opening quote): its text
    /// between the quotes as written, and whether it has escapes.
    pub fn raw_string(&mut self) -> Scan<(&'a str, bool)> {
        let b = self.bytes();
        let start = self.pos + 1;
        let mut i = start;
        let mut escaped = false;
        loop {
            i = find_special(b, i);
            match b.get(i) {
                Some(b'"') => {
                    self.pos = i + 1;
                    return self.text.get(start..i).map(|t| (t, escaped)).ok_or(Bail);
                }
                Some(b'\\') => {
                    escaped = true;
                    i = unescape(b, i + 1)?.1;
                }
                _ => return Err(Bail),
            }
        }
    }

    /// Checks and steps over a string without building it.
    fn skip_string(&mut self) -> Scan<()> {
        let b = self.bytes();
        let mut i = self.pos + 1;
        loop {
            i = find_special(b, i);
            match b.get(i) {
                Some(b'"') => {
                    self.pos = i + 1;
                    return Ok(());
                }
                Some(b'\\') => i = unescape(b, i + 1)?.1,
                _ => return Err(Bail),
            }
        }
    }

    /// Steps over a number (the cursor is at its first byte), checking its
    /// grammar. Returns its start and whether it is a plain non-negative
    /// integer of at most 19 digits (which always fits in a `u64`).
    #[inline]
    fn number_span(&mut self) -> Scan<(usize, bool)> {
        let b = self.bytes();
        let start = self.pos;
        let mut i = start;
        let negative = b.get(i) == Some(&b'-');
        if negative {
            i += 1;
        }
        let int_start = i;
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => i = digits_end(b, i + 1),
            _ => return Err(Bail),
        }
        let mut plain = !negative && i - int_start <= 19;
        if b.get(i) == Some(&b'.') {
            let end = digits_end(b, i + 1);
            if end == i + 1 {
                return Err(Bail);
            }
            i = end;
            plain = false;
        }
        if let Some(b'e' | b'E') = b.get(i) {
            i += 1;
            if let Some(b'+' | b'-') = b.get(i) {
                i += 1;
            }
            let end = digits_end(b, i);
            if end == i {
                return Err(Bail);
            }
            i = end;
            plain = false;
        }
        self.pos = i;
        Ok((start, plain))
    }

    /// Reads a number as serde_json's `deserialize_any` would see it.
    #[inline]
    pub fn number(&mut self) -> Scan<Scalar<'a>> {
        match self.plain_u64() {
            Some(v) => Ok(Scalar::U64(v)),
            None => self.number_general(),
        }
    }

    /// The common case of a number, in one pass: a plain integer of 1 to 19
    /// digits right at the cursor (no sign, no leading zero, no fraction or
    /// exponent after it). `None` (the cursor unmoved) for anything else.
    #[inline]
    pub fn plain_u64(&mut self) -> Option<u64> {
        let b = self.bytes();
        let start = self.pos;
        let mut i = start;
        let mut v = 0u64;
        while let Some(&c) = b.get(i) {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            v = v.wrapping_mul(10).wrapping_add(u64::from(d));
            i += 1;
        }
        let n = i - start;
        if (n == 1 || (2..=19).contains(&n) && b[start] != b'0')
            && !matches!(b.get(i), Some(b'.' | b'e' | b'E'))
        {
            self.pos = i;
            Some(v)
        } else {
            None
        }
    }

    /// The common case of a string, in one pass: one without escapes right
    /// at the cursor, borrowed. `None` (the cursor unmoved) for anything
    /// else, which [`Scanner::scalar`] then reads.
    #[inline]
    pub fn plain_string(&mut self) -> Option<&'a str> {
        let b = self.bytes();
        if b.get(self.pos) != Some(&b'"') {
            return None;
        }
        let start = self.pos + 1;
        let end = find_special(b, start);
        if b.get(end) != Some(&b'"') {
            return None;
        }
        // Both ends are next to ASCII quotes, so on char boundaries.
        let text = self.text.get(start..end)?;
        self.pos = end + 1;
        Some(text)
    }

    /// [`Scanner::number`] for every other number (and every invalid one).
    #[inline(never)]
    fn number_general(&mut self) -> Scan<Scalar<'a>> {
        let (start, plain) = self.number_span()?;
        let text = &self.text.as_bytes()[start..self.pos];
        if plain {
            let v = text.iter().fold(0u64, |v, &d| v * 10 + u64::from(d - b'0'));
            return Ok(Scalar::U64(v));
        }
        self.number_slow(start)
    }

    /// Negative numbers, floats and long integers: serde_json's own parser,
    /// so overflow into floats, `-0` and float rounding all match it.
    #[cold]
    fn number_slow(&self, start: usize) -> Scan<Scalar<'a>> {
        let text = self.text.get(start..self.pos).ok_or(Bail)?;
        let n: serde_json::Number = serde_json::from_str(text).map_err(|_| Bail)?;
        if let Some(v) = n.as_u64() {
            Ok(Scalar::U64(v))
        } else if let Some(v) = n.as_i64() {
            Ok(Scalar::I64(v))
        } else {
            n.as_f64().map(Scalar::F64).ok_or(Bail)
        }
    }

    #[inline]
    fn literal(&mut self, word: &[u8]) -> Scan<()> {
        if self.bytes()[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(Bail)
        }
    }

    /// The next value as [`Scalar::label`] reads it, a plain string
    /// borrowed directly (no `Scalar` in between: the common case).
    #[inline(always)]
    pub fn label(&mut self) -> Scan<crate::json::value::Lenient<Cow<'a, str>>> {
        match self.plain_string() {
            Some(text) => Ok(crate::json::value::non_empty(Cow::Borrowed(text))),
            None => Ok(self.scalar()?.label()),
        }
    }

    /// The next value as [`Scalar::count`] reads it, a plain integer
    /// directly.
    #[inline(always)]
    pub fn count(&mut self) -> Scan<crate::json::value::Lenient<u64>> {
        match self.plain_u64() {
            Some(v) => Ok(crate::json::value::Lenient::Value(
                crate::json::value::finite(v),
            )),
            None => Ok(self.scalar()?.count()),
        }
    }

    /// The next value as [`Scalar::time`] reads it, a plain string
    /// directly.
    #[inline(always)]
    pub fn time(&mut self) -> Scan<crate::json::value::Lenient<chrono::DateTime<chrono::Utc>>> {
        use crate::json::value::Lenient;
        match self.plain_string() {
            Some(text) if text.trim().is_empty() => Ok(Lenient::Missing),
            Some(text) => Ok(crate::json::value::parse_timestamp(text)
                .map_or(Lenient::WrongType, Lenient::Value)),
            None => Ok(self.scalar()?.time()),
        }
    }

    /// Reads any value: scalars are parsed (as a lenient reader needs them),
    /// arrays and objects are checked and skipped.
    #[inline]
    pub fn scalar(&mut self) -> Scan<Scalar<'a>> {
        match self.peek()? {
            b'"' => self.string().map(Scalar::Str),
            b'-' | b'0'..=b'9' => self.number(),
            b't' => self.literal(b"true").map(|_| Scalar::Bool(true)),
            b'f' => self.literal(b"false").map(|_| Scalar::Bool(false)),
            b'n' => self.literal(b"null").map(|_| Scalar::Null),
            b'{' | b'[' => self.skip_value().map(|_| Scalar::Container),
            _ => Err(Bail),
        }
    }

    /// Checks and steps over any value without building it.
    pub fn skip_value(&mut self) -> Scan<()> {
        self.skip::<false>()
    }

    /// Steps over a value as serde_json checks it when it builds a `Value`:
    /// besides the grammar, a number must be within `f64`'s range. Only a
    /// number with an exponent or of more than 300 characters can be out of
    /// it, so only those are parsed.
    pub fn skip_checked(&mut self) -> Scan<()> {
        self.skip::<true>()
    }

    /// [`Scanner::skip_value`], and with `CHECKED` [`Scanner::skip_checked`].
    fn skip<const CHECKED: bool>(&mut self) -> Scan<()> {
        match self.peek()? {
            b'"' => self.skip_string(),
            b'-' | b'0'..=b'9' => {
                let (start, _) = self.number_span()?;
                let span = &self.bytes()[start..self.pos];
                if CHECKED && (span.len() > 300 || span.iter().any(|&b| b == b'e' || b == b'E')) {
                    self.number_slow(start)?;
                }
                Ok(())
            }
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'{' => {
                self.begin_object()?;
                let mut first = true;
                while self.seek_key(&mut first)? {
                    self.skip_string()?;
                    self.colon()?;
                    self.skip::<CHECKED>()?;
                }
                Ok(())
            }
            b'[' => {
                self.begin_array()?;
                let mut first = true;
                while self.next_element(&mut first)? {
                    self.skip::<CHECKED>()?;
                }
                Ok(())
            }
            _ => Err(Bail),
        }
    }

    /// Steps over a value and returns its exact text (from its first byte to
    /// its last), or `None` for `null`: serde_json's `Option<&RawValue>`.
    pub fn raw_value(&mut self) -> Scan<Option<&'a str>> {
        if self.peek()? == b'n' {
            self.literal(b"null")?;
            return Ok(None);
        }
        let start = self.pos;
        self.skip_value()?;
        self.text.get(start..self.pos).map(Some).ok_or(Bail)
    }
}

#[inline]
fn digits_end(b: &[u8], mut i: usize) -> usize {
    while let Some(b'0'..=b'9') = b.get(i) {
        i += 1;
    }
    i
}

/// `hay.starts_with(lit)` for the short literals of predicted keys, compared
/// eight bytes at a time (the last word overlapping) instead of by a call to
/// `memcmp`.
#[inline]
fn starts_with(hay: &[u8], lit: &[u8]) -> bool {
    let n = lit.len();
    let (Some(hay), true) = (hay.get(..n), n >= 8) else {
        return hay.starts_with(lit);
    };
    let word =
        |b: &[u8], i: usize| u64::from_le_bytes(b[i..i + 8].try_into().expect("eight bytes"));
    let mut i = 0;
    while i + 8 < n {
        if word(hay, i) != word(lit, i) {
            return false;
        }
        i += 8;
    }
    word(hay, n - 8) == word(lit, n - 8)
}

#[inline]
fn is_special(c: u8) -> bool {
    c == b'"' || c == b'\\' || c < 0x20
}

/// The index of the first `"`, `\` or control byte at or after `i`, or the
/// length of `b`. Eight bytes at a time: each test below flags the lowest
/// matching byte of a word exactly (borrows only run upwards from a match),
/// so the lowest flag over all three is the first special byte.
#[inline]
fn find_special(b: &[u8], mut i: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    while let Some(chunk) = b.get(i..i + 8) {
        let w = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        let quote = w ^ (ONES * u64::from(b'"'));
        let slash = w ^ (ONES * u64::from(b'\\'));
        let found = (quote.wrapping_sub(ONES) & !quote)
            | (slash.wrapping_sub(ONES) & !slash)
            | (w.wrapping_sub(ONES * 0x20) & !w);
        let found = found & HIGHS;
        if found != 0 {
            return i + (found.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < b.len() && !is_special(b[i]) {
        i += 1;
    }
    i
}

/// Decodes the escape whose letter is at `i` (just after the backslash).
/// Returns the character and the index after the escape. Lone surrogates are
/// refused, as serde_json refuses them when it reads a string.
#[inline]
fn unescape(b: &[u8], i: usize) -> Scan<(char, usize)> {
    let ch = match b.get(i) {
        Some(b'"') => '"',
        Some(b'\\') => '\\',
        Some(b'/') => '/',
        Some(b'b') => '\x08',
        Some(b'f') => '\x0c',
        Some(b'n') => '\n',
        Some(b'r') => '\r',
        Some(b't') => '\t',
        Some(b'u') => {
            let n = hex4(b, i + 1)?;
            return match n {
                0xD800..=0xDBFF => {
                    if b.get(i + 5) != Some(&b'\\') || b.get(i + 6) != Some(&b'u') {
                        return Err(Bail);
                    }
                    let low = hex4(b, i + 7)?;
                    if !(0xDC00..=0xDFFF).contains(&low) {
                        return Err(Bail);
                    }
                    let c = 0x1_0000 + ((n - 0xD800) << 10) + (low - 0xDC00);
                    Ok((char::from_u32(c).ok_or(Bail)?, i + 11))
                }
                0xDC00..=0xDFFF => Err(Bail),
                _ => Ok((char::from_u32(n).ok_or(Bail)?, i + 5)),
            };
        }
        _ => return Err(Bail),
    };
    Ok((ch, i + 1))
}

fn hex4(b: &[u8], i: usize) -> Scan<u32> {
    let digits = b.get(i..i + 4).ok_or(Bail)?;
    let mut n = 0u32;
    for &d in digits {
        let v = match d {
            b'0'..=b'9' => d - b'0',
            b'a'..=b'f' => d - b'a' + 10,
            b'A'..=b'F' => d - b'A' + 10,
            _ => return Err(Bail),
        };
        n = (n << 4) | u32::from(v);
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(text: &str) -> Scan<Scalar<'_>> {
        let mut s = Scanner::new(text);
        let v = s.scalar()?;
        if s.at_end() {
            Ok(v)
        } else {
            Err(Bail)
        }
    }

    fn string(text: &str) -> Scan<Cow<'_, str>> {
        match scalar(text)? {
            Scalar::Str(s) => Ok(s),
            other => panic!("{text}: not a string: {other:?}"),
        }
    }

    fn skips(text: &str) -> bool {
        let mut s = Scanner::new(text);
        s.skip_value().is_ok() && s.at_end()
    }

    /// What serde_json makes of a whole value: the oracle for every case.
    fn serde_accepts(text: &str) -> bool {
        serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok()
    }

    #[test]
    fn plain_strings_borrow() {
        let s = string(r#""gpt-4o""#).unwrap();
        assert!(matches!(s, Cow::Borrowed("gpt-4o")));
        assert!(matches!(string(r#""""#).unwrap(), Cow::Borrowed("")));
        // Long enough for the eight-byte search, quote in every position.
        for n in 0..40 {
            let body = "x".repeat(n);
            assert_eq!(string(&format!("\"{body}\"")).unwrap(), body);
        }
        assert_eq!(
            string("\"h\u{e9}llo \u{1F600}\"").unwrap(),
            "h\u{e9}llo \u{1F600}"
        );
    }

    #[test]
    fn escapes_are_decoded() {
        let cases = [
            (r#""a\"b""#, "a\"b"),
            (r#""\\""#, "\\"),
            (r#""\/\b\f\n\r\t""#, "/\x08\x0c\n\r\t"),
            (r#""gpt\u002d4o""#, "gpt-4o"),
            (r#""\u00e9\u00E9""#, "\u{e9}\u{e9}"),
            (r#""\ud83d\ude00!""#, "\u{1F600}!"),
            (r#""x\uD83D\uDE00""#, "x\u{1F600}"),
            (
                r#""a long run of text before the escape \n and after it""#,
                "a long run of text before the escape \n and after it",
            ),
        ];
        for (json, want) in cases {
            let got = string(json).unwrap();
            assert_eq!(got, want, "{json}");
            assert!(matches!(got, Cow::Owned(_)), "{json}");
            assert_eq!(got, serde_json::from_str::<String>(json).unwrap());
            assert!(skips(json), "{json}");
        }
    }

    #[test]
    fn bad_strings_bail() {
        for json in [
            r#""abc"#,
            r#""a\"#,
            r#""\x""#,
            r#""\u12""#,
            r#""\u12g4""#,
            "\"tab\there\"",
            "\"nul\u{0}\"",
            // Lone surrogates: serde_json refuses them in strings.
            r#""\ud83d""#,
            r#""\ud83dx""#,
            r#""\ud83d\n""#,
            r#""\ud83d\u0041""#,
            r#""\ude00""#,
        ] {
            assert_eq!(scalar(json), Err(Bail), "{json}");
        }
    }

    #[test]
    fn numbers_match_serde_json() {
        let cases = [
            ("0", Scalar::U64(0)),
            ("42", Scalar::U64(42)),
            (
                "9999999999999999999",
                Scalar::U64(9_999_999_999_999_999_999),
            ),
            ("18446744073709551615", Scalar::U64(u64::MAX)),
            ("18446744073709551616", Scalar::F64(18446744073709551616.0)),
            ("-1", Scalar::I64(-1)),
            ("-9223372036854775808", Scalar::I64(i64::MIN)),
            ("-0", Scalar::F64(-0.0)),
            ("1.5", Scalar::F64(1.5)),
            ("-2.25", Scalar::F64(-2.25)),
            ("1e3", Scalar::F64(1000.0)),
            ("1E+3", Scalar::F64(1000.0)),
            ("25e-1", Scalar::F64(2.5)),
            ("0.00123", Scalar::F64(0.00123)),
            ("1e-400", Scalar::F64(0.0)),
        ];
        for (json, want) in cases {
            assert_eq!(scalar(json), Ok(want), "{json}");
        }
        for json in [
            "01", "-", "1.", ".5", "1e", "1e+", "+1", "1.5.2", "0x10", "1e400", "--1",
        ] {
            assert_eq!(scalar(json), Err(Bail), "{json}");
        }
        // Out of range only when read: skipping checks the grammar, as serde_json does.
        assert!(skips("1e400"));
    }

    #[test]
    fn literals_and_whitespace() {
        assert_eq!(scalar(" \t\r\n true \n"), Ok(Scalar::Bool(true)));
        assert_eq!(scalar("false"), Ok(Scalar::Bool(false)));
        assert_eq!(scalar("null"), Ok(Scalar::Null));
        for json in ["nul", "tru", "True", "NULL", "\u{a0}1", "\x0c1"] {
            assert_eq!(scalar(json), Err(Bail), "{json}");
        }
    }

    #[test]
    fn keys_and_elements() {
        let mut s = Scanner::new(r#" { "a" : 1 , "b\u0021":[true, "x"] ,"c":{}} "#);
        s.begin_object().unwrap();
        let mut first = true;
        assert_eq!(s.next_key(&mut first).unwrap().as_deref(), Some("a"));
        assert_eq!(s.scalar(), Ok(Scalar::U64(1)));
        assert_eq!(s.next_key(&mut first).unwrap().as_deref(), Some("b!"));
        s.begin_array().unwrap();
        let mut f = true;
        assert!(s.next_element(&mut f).unwrap());
        assert_eq!(s.scalar(), Ok(Scalar::Bool(true)));
        assert!(s.next_element(&mut f).unwrap());
        assert_eq!(s.scalar(), Ok(Scalar::Str(Cow::Borrowed("x"))));
        assert!(!s.next_element(&mut f).unwrap());
        assert_eq!(s.next_key(&mut first).unwrap().as_deref(), Some("c"));
        assert_eq!(s.scalar(), Ok(Scalar::Container));
        assert_eq!(s.next_key(&mut first).unwrap(), None);
        assert!(s.at_end());
    }

    #[test]
    fn nested_values_are_skipped_with_their_strings() {
        let json = r#"{"a":[1,{"b":"}]\"{[","c":[[],{}]},-2.5e-3,null],"d":"\\","e":{"f":{"g":[true,false]}}}"#;
        assert!(serde_accepts(json));
        assert!(skips(json));
        let mut s = Scanner::new(json);
        let raw = s.raw_value().unwrap().unwrap();
        assert_eq!(raw, json);
        assert_eq!(Scanner::new(" null ").raw_value(), Ok(None));
    }

    #[test]
    fn invalid_containers_bail() {
        for json in [
            "{",
            "[",
            "{\"a\"}",
            "{\"a\":}",
            "{\"a\":1,}",
            "{,\"a\":1}",
            "[1,]",
            "[,1]",
            "[1 2]",
            "{\"a\":1 \"b\":2}",
            "{\"a\" 1}",
            "{1:2}",
            "{\"a\":1]",
            "[1}",
            "{'a':1}",
            "[1,2",
            "{\"a\":[1,{\"b\":2]}}",
        ] {
            assert!(!serde_accepts(json), "{json}");
            assert!(!skips(json), "{json}");
        }
    }

    #[test]
    fn deep_nesting_bails() {
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert!(!skips(&deep));
        let ok = format!("{}{}", "[".repeat(60), "]".repeat(60));
        assert!(skips(&ok));
    }

    /// Every prefix and many one-byte edits of a tricky document: the scanner
    /// never accepts what serde_json rejects.
    #[test]
    fn never_more_lenient_than_serde_json() {
        let doc = r#"{"s":"a\"b\\c\u00e9\ud83d\ude00","n":[0,-1,2.5e3,-0.0,1E-2],"t":true,"f":false,"z":null,"o":{"k":[{}, []]}}"#;
        let mut tried = 0;
        let mut check = |text: &str| {
            if skips(text) {
                assert!(serde_accepts(text), "scanner accepted {text:?}");
            }
            tried += 1;
        };
        for cut in 0..=doc.len() {
            if let Some(prefix) = doc.get(..cut) {
                check(prefix);
            }
        }
        let subs = [
            "\"", "\\", "{", "}", "[", "]", ",", ":", "0", "-", "e", ".", " ", "u", "n", "\u{1}",
            "x", "d8",
        ];
        for i in 0..doc.len() {
            for sub in subs {
                for replace in [true, false] {
                    let end = if replace { i + 1 } else { i };
                    if let (Some(a), Some(b)) = (doc.get(..i), doc.get(end..)) {
                        check(&format!("{a}{sub}{b}"));
                    }
                }
            }
        }
        assert!(tried > 1000);
    }
}
