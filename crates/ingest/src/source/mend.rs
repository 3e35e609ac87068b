//! Mending what JavaScript writes and JSON parsers refuse: lone UTF-16
//! surrogate escapes (here, below the stages that parse, so the page
//! reader can mend a page's text too).

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
    use super::mend_lone_surrogates as mend;

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
