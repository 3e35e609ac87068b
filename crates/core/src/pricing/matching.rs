//! Match rules: how a logged model name (or a provider hint) is recognised.
//!
//! The rule language is genai-prices' own (`equals`, `starts_with`,
//! `ends_with`, `contains`, `regex`, `or`, `and`), so its hand-maintained
//! aliases carry over unchanged. There is no regex crate in core: `regex`
//! supports the small subset the catalogs use (anchors, literals, `.`, `\d`,
//! escapes, classes such as `[134]` or `[a-z0-9]`, and the quantifiers `?`,
//! `*`, `+`, `{n}`, `{n,m}`), and an import rejects anything else instead of
//! guessing.
//!
//! Matching returns a *specificity score* rather than a boolean, so when
//! several models match a name the most specific rule wins: an exact
//! `equals` beats a prefix, a longer prefix beats a shorter one (this is what
//! keeps `gpt-4o-mini` from resolving to `gpt-4o`), and a substring match is
//! the weakest.

use std::fmt;

use serde_json::{Map, Value};

/// A rule over lowercase names. Rule strings are lowercased when built, and
/// names are lowercased before matching, so matching is case-insensitive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MatchRule {
    Equals(String),
    StartsWith(String),
    EndsWith(String),
    Contains(String),
    Regex(Pattern),
    Or(Vec<MatchRule>),
    And(Vec<MatchRule>),
}

/// Kind ranks used in scores: `score / KIND` is the kind, `score % KIND` the
/// length of the matched literal text.
pub(crate) const KIND: u32 = 1000;
const EQUALS: u32 = 3 * KIND;
const PREFIX: u32 = 2 * KIND;
const SUBSTRING: u32 = KIND;

/// Whether `rest`, the part of a name after a rule's text `matched`,
/// carries on the version number `matched` ends with: `claude-fable-5`
/// then `-2` (`claude-fable-5-2`, `…-5-2-v1:0`, `…-5-2@20261109`) or
/// `gpt-5` then `.7` is a newer model, not a snapshot of the older one
/// (hunt159: Claude Fable 5.2 priced as Fable 5, 1.79×, unsaid). A date
/// (`-20250514`, `-0613`, `-05-20`), a zero (`claude-sonnet-4-0`, an alias)
/// or a size (`-32k`, `-27b`) is not.
fn newer_version(matched: &str, rest: &str) -> bool {
    if !matched.ends_with(|c: char| c.is_ascii_digit()) {
        return false;
    }
    let Some(tail) = rest.strip_prefix(['-', '.']) else {
        return false;
    };
    let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 2 || tail.starts_with('0') {
        return false;
    }
    let after = &tail[digits..];
    match after.as_bytes().first() {
        Some(b'-') => {
            // A month of 10 to 12 and its day (`-11-20`) is a date.
            let day = after[1..].bytes().take_while(u8::is_ascii_digit).count();
            let month = tail[..digits].parse::<u8>().unwrap_or(0);
            !(digits == 2 && (10..=12).contains(&month) && day == 2)
        }
        // A size or a variant (`-32k`, `-8b`) goes on with a letter; a
        // version ends the name or a part of it (`…-5-2`, `…-5-2@…`,
        // `…-5-2:thinking`, Claude Code's `…-5-2[1m]`: hunt165).
        Some(c) => !c.is_ascii_alphanumeric(),
        None => true,
    }
}

impl MatchRule {
    /// Whether some literal text of the rule holds `text` (lower case):
    /// a rule written for a free variant names its `:free`.
    pub fn mentions(&self, text: &str) -> bool {
        match self {
            MatchRule::Equals(t)
            | MatchRule::StartsWith(t)
            | MatchRule::EndsWith(t)
            | MatchRule::Contains(t) => t.to_lowercase().contains(text),
            MatchRule::Regex(_) => false,
            MatchRule::Or(rules) | MatchRule::And(rules) => rules.iter().any(|r| r.mentions(text)),
        }
    }

    /// How specifically this rule matches `name` (already lowercase), or
    /// `None` if it does not match.
    pub fn score(&self, name: &str) -> Option<u32> {
        self.score_as(name, false)
    }

    /// [`MatchRule::score`], or with `loose` also matching newer versions
    /// of the rule's model (building the builtin catalog: LiteLLM's
    /// `claude-fable-5-1` is found by genai-prices' `claude-fable-5` rule,
    /// and added as a model of its own).
    pub fn score_as(&self, name: &str, loose: bool) -> Option<u32> {
        let len = |s: &str| (s.len() as u32).min(KIND - 1);
        match self {
            MatchRule::Equals(s) => (name == s).then(|| EQUALS + len(s)),
            MatchRule::StartsWith(s) => name
                .strip_prefix(s.as_str())
                .filter(|rest| loose || !newer_version(s, rest))
                .map(|_| PREFIX + len(s)),
            MatchRule::EndsWith(s) => name.ends_with(s.as_str()).then(|| SUBSTRING + len(s)),
            MatchRule::Contains(s) => name
                .match_indices(s.as_str())
                .any(|(at, _)| loose || !newer_version(s, &name[at + s.len()..]))
                .then(|| SUBSTRING + len(s)),
            MatchRule::Regex(p) => p.is_match(name).then(|| {
                let kind = if p.anchored_start { PREFIX } else { SUBSTRING };
                kind + (p.min_len() as u32).min(KIND - 1)
            }),
            MatchRule::Or(rules) => rules.iter().filter_map(|r| r.score_as(name, loose)).max(),
            MatchRule::And(rules) => {
                let mut best = 0;
                for r in rules {
                    best = best.max(r.score_as(name, loose)?);
                }
                Some(best)
            }
        }
    }

    /// Reads a rule in genai-prices' JSON shape: an object with exactly one
    /// key. The error names what is wrong.
    pub fn from_json(value: &Value) -> Result<MatchRule, String> {
        let obj = value
            .as_object()
            .filter(|o| o.len() == 1)
            .ok_or_else(|| format!("a match rule must be an object with one key, got {value}"))?;
        let (key, arg) = obj.iter().next().expect("one key");
        let text = || {
            arg.as_str()
                .map(str::to_lowercase)
                .ok_or_else(|| format!("match rule `{key}` needs a string"))
        };
        let list = || -> Result<Vec<MatchRule>, String> {
            arg.as_array()
                .ok_or_else(|| format!("match rule `{key}` needs a list of rules"))?
                .iter()
                .map(MatchRule::from_json)
                .collect()
        };
        Ok(match key.as_str() {
            "equals" => MatchRule::Equals(text()?),
            "starts_with" => MatchRule::StartsWith(text()?),
            "ends_with" => MatchRule::EndsWith(text()?),
            "contains" => MatchRule::Contains(text()?),
            "regex" => regex_rule(&text()?)?,
            "or" => MatchRule::Or(list()?),
            "and" => MatchRule::And(list()?),
            other => {
                return Err(format!(
                    "unknown match rule `{other}` (expected equals, starts_with, ends_with, contains, regex, or, and)"
                ))
            }
        })
    }

    pub fn to_json(&self) -> Value {
        let (key, arg) = match self {
            MatchRule::Equals(s) => ("equals", Value::from(s.as_str())),
            MatchRule::StartsWith(s) => ("starts_with", Value::from(s.as_str())),
            MatchRule::EndsWith(s) => ("ends_with", Value::from(s.as_str())),
            MatchRule::Contains(s) => ("contains", Value::from(s.as_str())),
            MatchRule::Regex(p) => ("regex", Value::from(p.source.as_str())),
            MatchRule::Or(r) => (
                "or",
                Value::Array(r.iter().map(MatchRule::to_json).collect()),
            ),
            MatchRule::And(r) => (
                "and",
                Value::Array(r.iter().map(MatchRule::to_json).collect()),
            ),
        };
        let mut map = Map::new();
        map.insert(key.to_owned(), arg);
        Value::Object(map)
    }
}

impl fmt::Display for MatchRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let join = |f: &mut fmt::Formatter<'_>, rules: &[MatchRule], sep: &str| {
            for (i, r) in rules.iter().enumerate() {
                if i > 0 {
                    f.write_str(sep)?;
                }
                write!(f, "{r}")?;
            }
            Ok(())
        };
        match self {
            MatchRule::Equals(s) => write!(f, "= {s}"),
            MatchRule::StartsWith(s) => write!(f, "{s}*"),
            MatchRule::EndsWith(s) => write!(f, "*{s}"),
            MatchRule::Contains(s) => write!(f, "*{s}*"),
            MatchRule::Regex(p) => write!(f, "/{}/", p.source),
            MatchRule::Or(r) => join(f, r, " | "),
            MatchRule::And(r) => {
                f.write_str("(")?;
                join(f, r, " & ")?;
                f.write_str(")")
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Atom {
    Lit(char),
    Digit,
    Any,
    /// `[…]`: any character in one of these inclusive ranges.
    Class(Box<[(char, char)]>),
}

impl Atom {
    fn matches(&self, c: char) -> bool {
        match self {
            Atom::Lit(l) => *l == c,
            Atom::Digit => c.is_ascii_digit(),
            Atom::Any => true,
            Atom::Class(ranges) => ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi),
        }
    }
}

/// A `regex` rule. A group of alternatives without nesting or a
/// quantifier after it (`(?:mi|code|dev|magi|mini)stral`, genai-prices'
/// rule for Mistral's models) is the rule of each alternative in its place
/// (hunt82: such a rule was dropped, and Mistral's own names went to
/// another provider's entries under an imported catalog).
fn regex_rule(source: &str) -> Result<MatchRule, String> {
    let Some(open) = source.find("(?:") else {
        return Ok(MatchRule::Regex(Pattern::parse(source)?));
    };
    let rest = &source[open + 3..];
    let close = rest
        .find(')')
        .ok_or_else(|| format!("{source:?}: a group without its `)`"))?;
    let (alternatives, tail) = (&rest[..close], &rest[close + 1..]);
    if alternatives.contains('(') || tail.starts_with(['*', '+', '?', '{']) {
        return Err(format!(
            "{source:?}: nested or repeated groups are not read (the subset in the module docs)"
        ));
    }
    let head = &source[..open];
    let rules = alternatives
        .split('|')
        .map(|a| regex_rule(&format!("{head}{a}{tail}")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(MatchRule::Or(rules))
}

/// A regular expression in the small subset described in the module docs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    source: String,
    anchored_start: bool,
    anchored_end: bool,
    items: Vec<(Atom, u32, u32)>,
}

impl Pattern {
    pub fn parse(source: &str) -> Result<Pattern, String> {
        let unsupported = |what: &str| format!("regex {source:?}: {what} is not supported");
        let mut chars = source.chars().peekable();
        let anchored_start = chars.next_if_eq(&'^').is_some();
        let mut anchored_end = false;
        let mut items: Vec<(Atom, u32, u32)> = Vec::new();
        while let Some(c) = chars.next() {
            let atom = match c {
                '$' if chars.peek().is_none() => {
                    anchored_end = true;
                    break;
                }
                '\\' => match chars.next() {
                    Some('d') => Atom::Digit,
                    Some(e) if !e.is_ascii_alphanumeric() => Atom::Lit(e),
                    _ => return Err(unsupported("this escape")),
                },
                '.' => Atom::Any,
                '[' => {
                    // Literals and ranges (`a-z`), lowercased as rules are;
                    // no negation, escape or class inside.
                    let mut ranges = Vec::new();
                    let mut closed = false;
                    while let Some(c) = chars.next() {
                        match c {
                            ']' if !ranges.is_empty() => {
                                closed = true;
                                break;
                            }
                            '^' | '[' | ']' | '\\' => return Err(unsupported("this class")),
                            c => {
                                let lo = c.to_ascii_lowercase();
                                let hi = match chars.next_if_eq(&'-') {
                                    Some(_) => match chars.next() {
                                        Some(h) if h != ']' && h != '\\' => h.to_ascii_lowercase(),
                                        _ => return Err(unsupported("this class")),
                                    },
                                    None => lo,
                                };
                                if hi < lo {
                                    return Err(unsupported("this class"));
                                }
                                ranges.push((lo, hi));
                            }
                        }
                    }
                    if !closed {
                        return Err(unsupported("an unclosed `[`"));
                    }
                    Atom::Class(ranges.into_boxed_slice())
                }
                '?' | '*' | '+' | '{' => return Err(unsupported("a quantifier without an atom")),
                ']' | '(' | ')' | '|' | '^' | '$' | '}' => {
                    return Err(unsupported(&format!("`{c}`")))
                }
                c => Atom::Lit(c),
            };
            let (min, max) = match chars.peek() {
                Some('?') => (0, 1),
                Some('*') => (0, u32::MAX),
                Some('+') => (1, u32::MAX),
                Some('{') => {
                    chars.next();
                    let mut body = String::new();
                    for c in chars.by_ref() {
                        if c == '}' {
                            break;
                        }
                        body.push(c);
                    }
                    let bad = || unsupported(&format!("the quantifier {{{body}}}"));
                    let (lo, hi) = match body.split_once(',') {
                        Some((lo, hi)) => (
                            lo.parse().map_err(|_| bad())?,
                            if hi.is_empty() {
                                u32::MAX
                            } else {
                                hi.parse().map_err(|_| bad())?
                            },
                        ),
                        None => {
                            let n = body.parse().map_err(|_| bad())?;
                            (n, n)
                        }
                    };
                    items.push((atom, lo, hi));
                    continue;
                }
                _ => (1, 1),
            };
            if (min, max) != (1, 1) {
                chars.next();
            }
            items.push((atom, min, max));
        }
        Ok(Pattern {
            source: source.to_owned(),
            anchored_start,
            anchored_end,
            items,
        })
    }

    fn min_len(&self) -> usize {
        self.items.iter().map(|(_, min, _)| *min as usize).sum()
    }

    pub fn is_match(&self, name: &str) -> bool {
        let chars: Vec<char> = name.chars().collect();
        if self.anchored_start {
            self.match_here(&chars, 0, 0)
        } else {
            (0..=chars.len()).any(|start| self.match_here(&chars, 0, start))
        }
    }

    fn match_here(&self, text: &[char], item: usize, pos: usize) -> bool {
        let Some((atom, min, max)) = self.items.get(item) else {
            return !self.anchored_end || pos == text.len();
        };
        // Count how far the atom can repeat, then backtrack from the longest.
        let mut n = 0usize;
        while (n as u64) < *max as u64 && pos + n < text.len() && atom.matches(text[pos + n]) {
            n += 1;
        }
        if n < *min as usize {
            return false;
        }
        (*min as usize..=n)
            .rev()
            .any(|k| self.match_here(text, item + 1, pos + k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A prefix or a contained text ending in a version number does not
    /// match a name that carries the number on (a newer model), and does
    /// match its snapshots, aliases and sizes.
    #[test]
    fn a_rule_does_not_match_a_newer_version_of_its_model() {
        let prefix = MatchRule::StartsWith("claude-fable-5".into());
        let inside = MatchRule::Contains("us.anthropic.claude-fable-5".into());
        for (name, hit) in [
            ("claude-fable-5", true),
            ("claude-fable-5-20260301", true),
            ("claude-fable-5@20260301", true),
            ("claude-fable-5-0", true),
            ("claude-fable-5-2", false),
            ("claude-fable-5-2-20261109", false),
            ("claude-fable-5-2@20261109", false),
            ("claude-fable-5.2", false),
            ("claude-fable-5-12", false),
            ("claude-fable-5-2[1m]", false),
            ("claude-fable-5-2_x", false),
        ] {
            assert_eq!(prefix.score(name).is_some(), hit, "{name}");
        }
        assert!(inside.score("us.anthropic.claude-fable-5-v1:0").is_some());
        assert!(inside.score("us.anthropic.claude-fable-5-2-v1:0").is_none());
        for (rule, name) in [
            ("gpt-4", "gpt-4-0613"),
            ("gpt-4", "gpt-4-32k"),
            ("gemma-3", "gemma-3-27b-it"),
            ("gemini-2.5-flash-preview", "gemini-2.5-flash-preview-05-20"),
            ("model-3", "model-3-11-20"),
            ("o1", "o1-2024-12-17"),
        ] {
            assert!(
                MatchRule::StartsWith(rule.into()).score(name).is_some(),
                "{rule} {name}"
            );
        }
        assert!(MatchRule::StartsWith("gpt-5".into())
            .score("gpt-5.7")
            .is_none());
    }

    #[test]
    fn regex_classes() {
        let p = Pattern::parse("^o[134]").unwrap();
        for (name, hit) in [
            ("o1-mini", true),
            ("o3", true),
            ("o4-mini", true),
            ("o2", false),
            ("xo3", false),
        ] {
            assert_eq!(p.is_match(name), hit, "{name}");
        }
        let p = Pattern::parse("^gpt-[4-5a-c]+$").unwrap();
        assert!(p.is_match("gpt-45b") && !p.is_match("gpt-4d"));
        // Rules are lowercase: so is a class.
        assert!(Pattern::parse("^[A-C]1$").unwrap().is_match("b1"));
        for bad in ["[^a]", "[a", "[]", "[z-a]", "[a-]", r"[\d]"] {
            assert!(Pattern::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn regex_subset() {
        let p = Pattern::parse(r"^gpt-5\.6-luna-\d{4}-\d{2}-\d{2}$").unwrap();
        assert!(p.is_match("gpt-5.6-luna-2026-01-02"));
        assert!(!p.is_match("gpt-5x6-luna-2026-01-02"));
        assert!(!p.is_match("gpt-5.6-luna-2026-01-02-x"));
        let p = Pattern::parse(r"^gemini-3\.5-flash-\d").unwrap();
        assert!(p.is_match("gemini-3.5-flash-001"));
        assert!(!p.is_match("gemini-3.5-flash-lite"));
        let p = Pattern::parse("a.*b+c?$").unwrap();
        assert!(p.is_match("xxaqqbbb"));
        assert!(p.is_match("ab"));
        assert!(!p.is_match("ac"));
        assert!(Pattern::parse("(a|b)").is_err());
        // A group of alternatives in a rule: each in its place.
        let rule = MatchRule::from_json(&serde_json::json!({"regex": "(?:mi|code)stral"})).unwrap();
        assert!(
            rule.score("codestral-2501").is_some() && rule.score("mistral-large-2411").is_some()
        );
        assert!(rule.score("gpt-4o").is_none() && rule.score("stral").is_none());
        assert!(MatchRule::from_json(&serde_json::json!({"regex": "(?:a|b)+"})).is_err());
        assert!(Pattern::parse(r"\w+").is_err());
    }

    #[test]
    fn specificity_prefers_exact_then_longest_prefix() {
        let r = MatchRule::from_json(
            &json!({"or": [{"equals": "GPT-4o"}, {"starts_with": "gpt-4o-20"}]}),
        )
        .unwrap();
        let mini = MatchRule::from_json(&json!({"starts_with": "gpt-4o-mini"})).unwrap();
        assert!(r.score("gpt-4o").unwrap() > mini.score("gpt-4o-mini-x").unwrap());
        assert_eq!(r.score("gpt-4o-mini"), None);
        let and =
            MatchRule::from_json(&json!({"and": [{"contains": "a"}, {"contains": "b"}]})).unwrap();
        assert!(and.score("ab").is_some() && and.score("a").is_none());
        assert_eq!(MatchRule::from_json(&r.to_json()).unwrap(), r);
    }
}
