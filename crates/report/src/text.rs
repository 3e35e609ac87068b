//! Small text helpers shared by the writers.

/// Escapes log-derived text for a Markdown table cell: pipes, HTML
/// metacharacters, backticks and line breaks, so a feature named
/// `<script>` or `a|b` renders as the text it is.
pub fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let text = escape_block_start(&mut out, text);
    for c in text.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '\\' => out.push_str("\\\\"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '`' => out.push_str("\\`"),
            '*' => out.push_str("\\*"),
            '_' => out.push_str("\\_"),
            '[' => out.push_str("\\["),
            ']' => out.push_str("\\]"),
            '\n' | '\r' | '\t' => out.push(' '),
            c if is_hidden(c) => push_control(&mut out, c),
            c => out.push(c),
        }
    }
    out
}

/// Writes to `out` what of `text`'s start would open a Markdown block where
/// it begins a line, escaped, and returns the rest of `text`.
fn escape_block_start<'t>(out: &mut String, text: &'t str) -> &'t str {
    // What would open a block where the text begins a line (a finding's
    // recommendation that starts with its feature: hunt163, a feature
    // `# Rotate your keys` made a heading, `1. first` a list, four spaces
    // a code block): escaped, in a cell or a sentence as much (a
    // backslash before punctuation, a space as a character reference, are
    // the same text anywhere).
    // (Tabs and line breaks are spaces in a cell: before a marker too,
    // hunt169.)
    let lead = text.len() - text.trim_start_matches([' ', '\t', '\n', '\r']).len();
    for _ in 0..lead {
        out.push_str("&#32;");
    }
    let text = &text[lead..];
    let b = text.as_bytes();
    let spaced = |i: usize| matches!(b.get(i), None | Some(b' ' | b'\t'));
    let run = |c: u8| b.iter().take_while(|&&x| x == c).count();
    let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    let list_number = (1..=9).contains(&digits)
        && matches!(b.get(digits), Some(b'.' | b')'))
        && spaced(digits + 1);
    let opens = match b.first() {
        Some(b'#') => run(b'#') <= 6 && spaced(run(b'#')),
        Some(b'-' | b'+') => spaced(1) || (b[0] == b'-' && run(b'-') >= 3),
        Some(b'=') => b.iter().all(|&c| c == b'=' || c == b' '),
        Some(b'~') => run(b'~') >= 3,
        _ => false,
    };
    if list_number {
        out.push_str(&text[..digits]);
        out.push('\\');
        &text[digits..]
    } else {
        if opens {
            out.push('\\');
        }
        text
    }
}

/// Text as a Markdown code span: fenced by more backticks than it holds in
/// a row (a logged name cannot close the span and write links, headings or
/// HTML after it), on one line, its pipes escaped (a GFM table cell ends
/// at an unescaped one, even inside a span).
pub fn md_code(text: &str) -> String {
    let mut body = String::with_capacity(text.len());
    let (mut run, mut longest) = (0, 0);
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
        match c {
            '|' => body.push_str("\\|"),
            '\n' | '\r' | '\t' => body.push(' '),
            c if is_hidden(c) => push_control(&mut body, c),
            c => body.push(c),
        }
    }
    let fence = "`".repeat(longest + 1);
    if longest > 0 || body.starts_with(' ') || body.ends_with(' ') {
        format!("{fence} {body} {fence}")
    } else {
        format!("{fence}{body}{fence}")
    }
}

/// A character a report shows as text rather than keeps: a control
/// character, or an invisible one that makes two labels look the same or
/// turns a line around (a zero-width space, a word joiner, a byte-order
/// mark, the bidirectional embeddings, overrides and isolates: hunt61's
/// `\u{202e}weiver-tcartnoc` read "contract-review"). The joiners scripts
/// and emoji need (U+200C, U+200D) and the direction marks stay.
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200b}'
                | '\u{2060}'..='\u{2064}'
                | '\u{feff}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
                // Default-ignorable code points a label can hide in
                // (hunt163: `check\u{ad}out` printed as `checkout`): the
                // soft hyphen, the grapheme joiner, the Hangul fillers, the
                // Mongolian vowel separator and the tag characters.
                | '\u{ad}'
                | '\u{34f}'
                | '\u{115f}'
                | '\u{1160}'
                | '\u{3164}'
                | '\u{ffa0}'
                | '\u{180e}'
                | '\u{e0000}'..='\u{e007f}'
        )
}

/// A control character as visible text: its Unicode control picture for
/// C0 and DEL (`␟` for U+001F), `\u{85}` for the others. Dropped, it would
/// make labels that differ only by it look the same.
pub fn push_control(out: &mut String, c: char) {
    match c as u32 {
        n @ 0..=0x1f => out.push(char::from_u32(0x2400 + n).unwrap_or('\u{fffd}')),
        0x7f => out.push('\u{2421}'),
        n => out.push_str(&format!("\\u{{{n:x}}}")),
    }
}

/// `text` with every control character shown (see [`push_control`]), for
/// chart labels, which the chart library escapes but does not filter.
pub fn visible(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(is_hidden) {
        return text.into();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_hidden(c) {
            push_control(&mut out, c);
        } else {
            out.push(c);
        }
    }
    out.into()
}

/// `text` for a terminal: every control character shown (see
/// [`push_control`]) but line breaks and tabs, so a log's escape sequence
/// (a model named `\x1b]0;…`) is printed as text, never run.
pub fn terminal(text: &str) -> std::borrow::Cow<'_, str> {
    let shown = |c: char| is_hidden(c) && c != '\n' && c != '\t';
    if !text.chars().any(shown) {
        return text.into();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if shown(c) {
            push_control(&mut out, c);
        } else {
            out.push(c);
        }
    }
    out.into()
}

/// An integer with thousands separators.
pub fn int(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// A share as a percentage with one decimal.
pub fn pct(part: f64, whole: f64) -> String {
    if whole <= 0.0 {
        "–".to_string()
    } else {
        format!("{:.1}%", 100.0 * part / whole)
    }
}

/// Tokens in a compact human form (1.2M, 35.4k).
pub fn tokens(n: u64) -> String {
    if n >= 1_000_000_000 {
        format!("{:.2}B", n as f64 / 1e9)
    } else if n >= 1_000_000 {
        format!("{:.1}M", n as f64 / 1e6)
    } else if n >= 10_000 {
        format!("{:.1}k", n as f64 / 1e3)
    } else {
        int(n)
    }
}

/// The audited calls' time span: "first to last" in UTC, or a note when
/// there is none: no call in the window, or calls without timestamps.
pub fn calls_period(a: &tokenaudit_analyze::Audit) -> String {
    match (a.first_call, a.last_call) {
        (Some(f), Some(l)) => format!(
            "{} to {}",
            f.format("%Y-%m-%d %H:%M UTC"),
            l.format("%Y-%m-%d %H:%M UTC")
        ),
        // Calls read, none in the window (hunt76: "no call read" above
        // "8 calls read").
        _ if a.totals.calls == 0 && a.input.outside_window > 0 => format!(
            "none in the window ({} call{} read outside it)",
            a.input.outside_window,
            if a.input.outside_window == 1 { "" } else { "s" }
        ),
        _ if a.totals.calls == 0 => "none (no call read)".to_string(),
        _ => "unknown (no timestamps)".to_string(),
    }
}

/// The `--since`/`--until` window as "from to to" (… for an open end), or
/// `None` when none was asked for.
pub fn window(a: &tokenaudit_analyze::Audit) -> Option<String> {
    if a.since.is_none() && a.until.is_none() {
        return None;
    }
    let f = |d: Option<chrono::DateTime<chrono::Utc>>| {
        d.map_or("…".to_string(), |d| {
            d.format("%Y-%m-%d %H:%M").to_string()
        })
    };
    let mut w = format!("{} to {}", f(a.since), f(a.until));
    // The calls start or end over a day inside the window: monthly
    // figures scale from their span (see `Audit::period`).
    if let Some((from, to)) = a.period() {
        if a.since.is_some_and(|s| s != from) || a.until.is_some_and(|u| u != to) {
            w.push_str(&format!(
                "; monthly estimates scale from the calls' {:.1} days ({} to {})",
                a.period_days(),
                from.format("%Y-%m-%d %H:%M"),
                to.format("%Y-%m-%d %H:%M")
            ));
        }
    }
    Some(w)
}

/// A row's spend as text, as the tables give it ([`crate::model`]'s
/// `spend`): "unpriced" when its only money is its unpriced calls', the
/// priced spend "+ N unpriced" when some are; never a bare $0.00 for calls
/// the catalog could not price (hunt61: a chart's bar, an "N more" row and
/// the terminal's top features said $0.00). `money` formats the amount.
pub fn spend_text(
    s: &tokenaudit_analyze::Stats,
    money: impl Fn(tokenaudit_core::Money) -> String,
) -> String {
    if s.unpriced_calls == 0 {
        money(s.cost)
    } else if s.cost == tokenaudit_core::Money::ZERO {
        "unpriced".to_string()
    } else {
        format!("{} + {} unpriced", money(s.cost), s.unpriced_calls)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Text that would open a Markdown block at a line's start is escaped
    /// (hunt163); text that would not is left as it is.
    #[test]
    fn md_escapes_what_opens_a_block() {
        for (text, want) in [
            ("# Rotate your keys", "\\# Rotate your keys"),
            ("- bullet", "\\- bullet"),
            ("+ plus", "\\+ plus"),
            ("1. first", "1\\. first"),
            ("12) twelve", "12\\) twelve"),
            ("    code", "&#32;&#32;&#32;&#32;code"),
            ("\t# x", "&#32;\\# x"),
            ("---", "\\---"),
            ("===", "\\==="),
            ("~~~ fence", "\\~~~ fence"),
            ("#hashtag", "#hashtag"),
            ("-x", "-x"),
            ("1.5", "1.5"),
            ("2026-10-01", "2026-10-01"),
            ("chat", "chat"),
        ] {
            assert_eq!(md(text), want, "{text}");
        }
    }
}
