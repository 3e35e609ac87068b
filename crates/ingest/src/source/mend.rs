//! Mending what writers write and JSON parsers refuse: lone UTF-16
//! surrogate escapes (JavaScript's), Python's `NaN` and `Infinity`, bytes
//! of another encoding than UTF-8 in a string, and the NUL bytes a crash
//! leaves around a line (here, below the stages that parse, so the page
//! reader can mend a page's text too).

/// The line mended ([`mend_lone_surrogates`], [`mend_other_bytes`],
/// [`mend_non_numbers`], in that order), or `None` when none of them
/// changes it. The pipeline reads the mended line instead when the line
/// fails as JSON: a call is not lost over a character of a label or a
/// latency Python could not measure (hunt101: `NaN` in a latency, a
/// Latin-1 `é` in a user name, NULs before a line each lost their call,
/// where the same values in a CSV keep it).
pub fn mend_line(line: &[u8]) -> Option<Vec<u8>> {
    mend_line_said(line).map(|(m, _)| m)
}

/// [`mend_line`], with what a report should say of the mending (the
/// field-ignored note of the call read from it), when it is more than
/// lone surrogate escapes.
pub fn mend_line_said(line: &[u8]) -> Option<(Vec<u8>, Option<&'static str>)> {
    let mut said = None;
    let mut changed = false;
    let mut text: std::borrow::Cow<'_, [u8]> = std::borrow::Cow::Borrowed(line);
    let nul = |b: &u8| *b == 0;
    // (A line of NULs only stays as it is: a counted reject.)
    if text.first().is_some_and(nul) || text.last().is_some_and(nul) {
        if let (Some(start), Some(last)) = (
            text.iter().position(|b| !nul(b)),
            text.iter().rposition(|b| !nul(b)),
        ) {
            text = std::borrow::Cow::Owned(text[start..=last].to_vec());
            changed = true;
            said = Some("the line: NUL bytes around it (a crash's zero-filled block?), left out");
        }
    }
    type Step = fn(&[u8]) -> Option<Vec<u8>>;
    let steps: [(Step, Option<&'static str>); 3] = [
        (mend_lone_surrogates, None),
        (
            mend_other_bytes,
            Some("text: not UTF-8, its other bytes read as \u{fffd} (is the file in another encoding?)"),
        ),
        (mend_non_numbers, None),
    ];
    for (step, note) in steps {
        if let Some(m) = step(&text) {
            text = std::borrow::Cow::Owned(m);
            changed = true;
            said = note.or(said);
        }
    }
    changed.then(|| (text.into_owned(), said))
}

/// The line with each byte sequence that is not UTF-8 (a Latin-1 or
/// cp1252 `é` in a name) replaced by U+FFFD, or `None` when it is UTF-8.
pub fn mend_other_bytes(line: &[u8]) -> Option<Vec<u8>> {
    match String::from_utf8_lossy(line) {
        std::borrow::Cow::Borrowed(_) => None,
        std::borrow::Cow::Owned(s) => Some(s.into_bytes()),
    }
}

/// The line with Python's `NaN`, `Infinity` and `-Infinity` (what its
/// `json.dumps` writes for them, outside strings) as strings, or `None`
/// when it has none: each reader then treats the value as one of the wrong
/// type, as in a CSV (an optional field is read as absent with a note
/// naming it; a token count's call is rejected, not priced without it:
/// hunt103).
pub fn mend_non_numbers(line: &[u8]) -> Option<Vec<u8>> {
    let mut out: Option<Vec<u8>> = None;
    let mut copied = 0;
    let mut in_string = false;
    let mut i = 0;
    while i < line.len() {
        let b = line[i];
        if in_string {
            match b {
                b'\\' => i += 2,
                b'"' => {
                    in_string = false;
                    i += 1;
                }
                _ => i += 1,
            }
            continue;
        }
        if b == b'"' {
            in_string = true;
            i += 1;
            continue;
        }
        let word = [b"NaN".as_slice(), b"-Infinity", b"Infinity"]
            .into_iter()
            .find(|w| line[i..].starts_with(w));
        let before_ok = i == 0 || !line[i - 1].is_ascii_alphanumeric();
        if let (Some(w), true) = (word, before_ok) {
            let after = line.get(i + w.len());
            if after.is_none_or(|c| !c.is_ascii_alphanumeric()) {
                let o = out.get_or_insert_with(|| Vec::with_capacity(line.len()));
                o.extend_from_slice(&line[copied..i]);
                o.push(b'"');
                o.extend_from_slice(w);
                o.push(b'"');
                i += w.len();
                copied = i;
                continue;
            }
        }
        i += 1;
    }
    out.map(|mut o| {
        o.extend_from_slice(&line[copied..]);
        o
    })
}

/// The line with every lone UTF-16 surrogate escape (`\ud83d` without its
/// pair, as JavaScript's `JSON.stringify` writes a string cut in the middle
/// of an emoji) replaced by `\ufffd`, or `None` when it has none. serde_json
/// refuses such strings, so a line Node wrote (Claude Code's) would be lost
/// over a character of its prompt text; the pipeline reads the mended line
/// instead when the line fails as JSON.
pub fn mend_lone_surrogates(line: &[u8]) -> Option<Vec<u8>> {
    let hex = |at: usize| -> Option<u32> {
        let digits = line.get(at..at + 4)?;
        let text = std::str::from_utf8(digits).ok()?;
        u32::from_str_radix(text, 16).ok()
    };
    let escape_at = |at: usize| line.get(at) == Some(&b'\\') && line.get(at + 1) == Some(&b'u');
    let mut out: Option<Vec<u8>> = None;
    let mut copied = 0;
    let mut i = 0;
    while i < line.len() {
        if line[i] != b'\\' {
            i += 1;
            continue;
        }
        if line.get(i + 1) != Some(&b'u') {
            i += 2; // another escape (`\\` included): step over it
            continue;
        }
        let Some(n) = hex(i + 2) else {
            i += 2;
            continue;
        };
        let paired = (0xD800..=0xDBFF).contains(&n)
            && escape_at(i + 6)
            && hex(i + 8).is_some_and(|low| (0xDC00..=0xDFFF).contains(&low));
        if paired {
            i += 12;
        } else if (0xD800..=0xDFFF).contains(&n) {
            let o = out.get_or_insert_with(|| Vec::with_capacity(line.len()));
            o.extend_from_slice(&line[copied..i]);
            o.extend_from_slice(b"\\ufffd");
            i += 6;
            copied = i;
        } else {
            i += 6;
        }
    }
    out.map(|mut o| {
        o.extend_from_slice(&line[copied..]);
        o
    })
}

#[cfg(test)]
mod mend_tests {
    use super::mend_line;
    use super::mend_lone_surrogates as mend;

    #[test]
    fn nans_other_bytes_and_nuls_are_mended() {
        let m = |b: &[u8]| mend_line(b).map(|v| String::from_utf8(v).unwrap());
        assert_eq!(
            m(br#"{"latency_ms": NaN, "cost": Infinity, "x": -Infinity,"s":"NaN Infinity"}"#)
                .as_deref(),
            Some(
                r#"{"latency_ms": "NaN", "cost": "Infinity", "x": "-Infinity","s":"NaN Infinity"}"#
            )
        );
        assert_eq!(m(br#"{"a":"NaNa","b":1}"#), None);
        assert_eq!(m(br#"{"a":"q\" NaN"}"#), None);
        assert_eq!(
            m(b"{\"user\":\"Jos\xe9\"}").as_deref(),
            Some("{\"user\":\"Jos\u{fffd}\"}")
        );
        assert_eq!(m(b"\0\0{\"a\":1}\0").as_deref(), Some("{\"a\":1}"));
        assert_eq!(m(b"\0\0\0"), None);
        assert_eq!(m(br#"{"a":1}"#), None);
        for line in [
            b"\0{\"a\":NaN,\"u\":\"\xe9\\ud83d\"}".as_slice(),
            br#"[NaN,Infinity,-Infinity]"#,
        ] {
            let text = m(line).unwrap();
            assert!(
                serde_json::from_str::<serde_json::Value>(&text).is_ok(),
                "{text}"
            );
        }
    }

    fn s(b: Option<Vec<u8>>) -> Option<String> {
        b.map(|b| String::from_utf8(b).unwrap())
    }

    #[test]
    fn lone_surrogates_are_replaced_and_pairs_kept() {
        assert_eq!(mend(br#"{"a":"ok \ud83d\ude00"}"#), None);
        assert_eq!(mend(br#"{"a":"no escapes"}"#), None);
        assert_eq!(
            s(mend(br#"{"a":"cut \ud83d","b":1}"#)).as_deref(),
            Some(r#"{"a":"cut \ufffd","b":1}"#)
        );
        assert_eq!(
            s(mend(br#"{"a":"\ude00 then \uD83D\uDE00 then \uDBFF"}"#)).as_deref(),
            Some(r#"{"a":"\ufffd then \uD83D\uDE00 then \ufffd"}"#)
        );
        // A backslash escaped before `u` is no escape of a surrogate.
        assert_eq!(mend(br#"{"a":"C:\\ud83d"}"#), None);
        // A high surrogate followed by another high one: both lone.
        assert_eq!(
            s(mend(br#""\ud83d\ud83d""#)).as_deref(),
            Some(r#""\ufffd\ufffd""#)
        );
        for mended in [br#"{"a":"cut \ud83d"}"#.as_slice(), br#""\udfff\ud800x""#] {
            let text = s(mend(mended)).unwrap();
            assert!(
                serde_json::from_str::<serde_json::Value>(&text).is_ok(),
                "{text}"
            );
        }
    }
}
