//! Tags from the metadata and property objects readers find: short scalars
//! only, never a key whose value is prompt or completion text.

use std::borrow::Cow;

use crate::json::scan_value::{Pairs, TagValue};

/// Longest metadata or property value kept as a tag: longer ones are text,
/// not labels, and could be prompt content.
pub(crate) const MAX_TAG_VALUE: usize = 100;

/// A short scalar as text (see [`MAX_TAG_VALUE`]).
pub(crate) fn short_scalar(v: &serde_json::Value) -> Option<String> {
    let text = match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    (!text.trim().is_empty() && text.len() <= MAX_TAG_VALUE).then_some(text)
}

/// Keys whose values are prompt or completion text, never tags (any case):
/// keys holding `prompt`, `input`, `output`, `message`, `msg`, `content`,
/// `context`, `text`, `query`/`queries`, `question`, `answer`,
/// `completion`, `response`, `instruction`, `transcript` or `utterance`
/// anywhere (`systemprompt`, `LLMInput`, `ai.response.text`,
/// `mlflow.spanInputs`, `user_msg`, `instructions`, `transcript`), but not
/// inside `texture`, `pretext` or `bigquery`, unless the last word (split
/// at `_ . - /` and camelCase humps) makes the key a label of one
/// (`prompt_name`, `promptVersion`, `prompt_template`, `response_format`,
/// `query_type`, `message_count`, `context_window`, `content_filter`).
pub(crate) fn is_text_key(key: &str) -> bool {
    // Metadata keys repeat line after line, and the test is a scan of
    // every word at every position (31% of a Bedrock log's audit): each
    // thread keeps its answers for the keys it met (a few thousand at
    // most, then it starts again).
    thread_local! {
        static SEEN: std::cell::RefCell<rustc_hash::FxHashMap<Box<str>, bool>> =
            std::cell::RefCell::default();
    }
    const KEPT: usize = 4096;
    SEEN.with(|seen| {
        if let Some(&known) = seen.borrow().get(key) {
            return known;
        }
        let answer = text_key(key);
        let mut seen = seen.borrow_mut();
        if seen.len() >= KEPT {
            seen.clear();
        }
        seen.insert(key.into(), answer);
        answer
    })
}

/// Drops the tags no report or store should keep: a client's network
/// address or phone number (personal data), and a value of its own per call (a request,
/// trace or event id, a storage key, a timing in milliseconds), a row of
/// the tag table per call (hunt176: LiteLLM's `requester_ip_address` and
/// `cold_storage_object_key`, Portkey's `request_id`, 179 of 184 tags).
/// (Not e-mails: LiteLLM's `user_api_key_user_email` is a key's owner, which
/// `[attribution] feature = "tag:…"` may pick, hunt178.) A pair the call
/// carries twice is kept once.
pub(crate) fn drop_unkept(tags: &mut Vec<(Cow<'_, str>, Cow<'_, str>)>) {
    if tags.is_empty() {
        return;
    }
    thread_local! {
        static SEEN: std::cell::RefCell<rustc_hash::FxHashMap<Box<str>, bool>> =
            std::cell::RefCell::default();
    }
    SEEN.with(|seen| {
        tags.retain(|(k, _)| {
            if let Some(&drop) = seen.borrow().get(k.as_ref()) {
                return !drop;
            }
            let drop = unkept_key(k);
            let mut seen = seen.borrow_mut();
            if seen.len() >= 4096 {
                seen.clear();
            }
            seen.insert(k.as_ref().into(), drop);
            !drop
        })
    });
    // A tag a call carries twice is one tag of the call (hunt181: LiteLLM's
    // `request_tags` before its fix of BerriAI/litellm#6932 held a key's
    // tag and the request's alike, `["prod","prod"]`; a gateway line's
    // `tags` and `metadata` the same pair): the tag tables counted the
    // call twice, shares past 100%.
    let mut i = 1;
    while i < tags.len() {
        if tags[..i].contains(&tags[i]) {
            tags.remove(i);
        } else {
            i += 1;
        }
    }
}

/// Whether tags of this key are dropped ([`drop_unkept`]): a network
/// address, a phone number or a value of its own per call.
pub fn unkept_key(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    let last = last_word(key).to_ascii_lowercase();
    const PERSONAL: [&str; 3] = ["ip", "ipaddress", "phone"];
    const PER_CALL: [&str; 16] = [
        "ip_address",
        "request_id",
        "requestid",
        "request_uuid",
        "trace_id",
        "traceid",
        "span_id",
        "spanid",
        "event_id",
        "call_id",
        "generation_id",
        "response_id",
        "message_id",
        "invocation_id",
        "object_key",
        "_ms",
    ];
    PERSONAL.contains(&last.as_str()) || PER_CALL.iter().any(|w| lower.ends_with(w))
}

/// Whether a metadata key and value make a tag: a label, not prompt or
/// answer text (`completion`, `question`: see `is_text_key`; a number or a
/// flag under such a key is no text) nor a value longer than a label.
pub(crate) fn is_label_tag(key: &str, value: &str) -> bool {
    value.len() <= MAX_TAG_VALUE && (!is_text_key(key) || is_plain_value(value))
}

fn text_key(key: &str) -> bool {
    const TEXT: [&str; 17] = [
        "prompt",
        "input",
        "output",
        "message",
        "msg",
        "content",
        "context",
        "text",
        "query",
        "queries",
        "question",
        "answer",
        "completion",
        "response",
        "instruction",
        "transcript",
        "utterance",
    ];
    const LABEL: [&str; 23] = [
        "name", "version", "id", "hash", "key", "label", "type", "format", "template", "kind",
        "mode", "category", "language", "lang", "count", "window", "filter", "hit", "modality",
        "table", "length", "size", "status",
    ];
    const BENIGN: [&str; 3] = ["texture", "pretext", "bigquery"];
    let last = last_word(key);
    let label = LABEL.iter().any(|w| {
        last.eq_ignore_ascii_case(w)
            || (last.len() == w.len() + 1
                && last[..w.len()].eq_ignore_ascii_case(w)
                && last.ends_with(['s', 'S']))
    });
    if label {
        return false;
    }
    // A text word anywhere, but not inside a benign word (metadata keys
    // are read line after line: no lower-cased copies).
    let b = key.as_bytes();
    let at = |i: usize, w: &str| {
        b.get(i..i + w.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(w.as_bytes()))
    };
    let benign = |i: usize, len: usize| {
        BENIGN
            .iter()
            .any(|bw| ((i + len).saturating_sub(bw.len())..=i).any(|start| at(start, bw)))
    };
    TEXT.iter()
        .any(|w| (0..b.len()).any(|i| at(i, w) && !benign(i, w.len())))
}

/// Whether a value is a number or a flag, which no prompt text is: such a
/// value is a tag whatever its key (`is_streaming_response = true`).
pub(crate) fn is_plain_value(v: &str) -> bool {
    matches!(v, "true" | "false") || v.parse::<f64>().is_ok_and(f64::is_finite)
}

/// A key's last word: after its last character that is not a letter or a
/// digit, and after its last lower-case letter followed by an upper-case
/// one (`prompt_name`, `promptVersion`: `name`, `Version`).
fn last_word(key: &str) -> &str {
    let b = key.as_bytes();
    let end = b
        .iter()
        .rposition(u8::is_ascii_alphanumeric)
        .map_or(0, |i| i + 1);
    let mut start = end;
    while start > 0 && b[start - 1].is_ascii_alphanumeric() {
        if b[start - 1].is_ascii_lowercase() && start < end && b[start].is_ascii_uppercase() {
            break;
        }
        start -= 1;
    }
    &key[start..end]
}

/// `hay.to_ascii_lowercase().contains(word)` for a lower-case ASCII `word`,
/// without the lower-cased copy.
pub fn contains_ignore_ascii_case(hay: &str, word: &str) -> bool {
    hay.as_bytes()
        .windows(word.len())
        .any(|w| w.eq_ignore_ascii_case(word.as_bytes()))
}

/// Tags from an object of scalars (`key=value`), a list of strings
/// (`list_key=value`), or either one written as JSON text (CSV cells).
pub(crate) fn push_tags<'a>(
    out: &mut Vec<(Cow<'a, str>, Cow<'a, str>)>,
    value: &serde_json::Value,
    list_key: &'static str,
) {
    match value {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                if is_text_key(k) && !(v.is_number() || v.is_boolean()) {
                    continue;
                }
                if let Some(text) = short_scalar(v) {
                    out.push((Cow::Owned(k.clone()), Cow::Owned(text)));
                }
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                if let Some(text) = short_scalar(item) {
                    out.push((Cow::Borrowed(list_key), Cow::Owned(text)));
                }
            }
        }
        serde_json::Value::String(s) => push_text_tags(out, s, list_key),
        _ => {}
    }
}

/// [`push_tags`] of a string: tags when it is JSON text of an object or a list.
fn push_text_tags<'a>(
    out: &mut Vec<(Cow<'a, str>, Cow<'a, str>)>,
    s: &str,
    list_key: &'static str,
) {
    if !s.trim_start().starts_with(['{', '[']) {
        return;
    }
    // Helicone's export tool escapes an object's quotes twice in its
    // CSV (`{""feature"":""x""}` once the CSV is read): undo that.
    let parsed = serde_json::from_str::<serde_json::Value>(s).or_else(|e| {
        if s.contains("\"\"") {
            serde_json::from_str(&s.replace("\"\"", "\""))
        } else {
            Err(e)
        }
    });
    if let Ok(v) = parsed {
        push_tags(out, &v, list_key);
    }
}

/// [`push_tags`] of a value read by the scanner (see [`TagValue`]).
pub(crate) fn push_tag_value<'a>(
    out: &mut Vec<(Cow<'a, str>, Cow<'a, str>)>,
    value: TagValue<'a>,
    pairs: &mut Pairs<'a, Option<Cow<'a, str>>>,
    list_key: &'static str,
) {
    match value {
        TagValue::Object => {
            for (k, text) in pairs.drain() {
                if let Some(text) = text.filter(|t| !is_text_key(&k) || is_plain_value(t)) {
                    out.push((k, text));
                }
            }
        }
        TagValue::Array => {
            for (_, text) in pairs.drain() {
                if let Some(text) = text {
                    out.push((Cow::Borrowed(list_key), text));
                }
            }
        }
        TagValue::Text(s) => push_text_tags(out, &s, list_key),
        TagValue::Absent | TagValue::Other => {}
    }
}

/// The last path component of `path`, or `path` itself when it has none.
pub fn last_component(path: &str) -> &str {
    let trimmed = path.trim_end_matches(['/', '\\']);
    match trimmed.rsplit(['/', '\\']).next() {
        Some(name) if !name.is_empty() => name,
        _ => path,
    }
}

/// A tag from an item of a tag list: `key:value` (LiteLLM's `request_tags`,
/// e.g. `feature:support-assistant`) is the tag `key` = `value` when `key`
/// is a plain name (letters, digits, `_`, `-`, `.`) and `value` is not
/// blank (nor a URL's `//…`); anything else is the tag `tag` = the item.
pub fn list_tag(item: Cow<'_, str>) -> (Cow<'_, str>, Cow<'_, str>) {
    let split = item.split_once(':').filter(|(key, value)| {
        !key.is_empty()
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
            && !value.trim().is_empty()
            && !value.starts_with("//")
    });
    let Some((key, _)) = split else {
        return (Cow::Borrowed("tag"), item);
    };
    let at = key.len();
    match item {
        Cow::Borrowed(t) => (Cow::Borrowed(&t[..at]), Cow::Borrowed(&t[at + 1..])),
        Cow::Owned(t) => (
            Cow::Owned(t[..at].to_string()),
            Cow::Owned(t[at + 1..].to_string()),
        ),
    }
}

/// A tag from an object of a tag list: `{"key": K, "value": V}` (BigQuery's
/// way to keep a map, a `REPEATED RECORD<key, value>`: Cloud Billing's
/// `labels`; `name` for `key`, and OTLP's `{"stringValue": V}` for a value,
/// are read too). `None` when the object is no such pair (hunt144's bug9:
/// a `feature` tag in such a list was dropped, unsaid).
pub fn pair_tag(item: &serde_json::Value) -> Option<(Cow<'static, str>, Cow<'static, str>)> {
    let o = item.as_object()?;
    let first = |names: &[&str]| names.iter().find_map(|n| o.get(*n));
    let key = first(&["key", "Key", "name", "Name"])?.as_str()?.trim();
    let value = first(&["value", "Value"])?;
    let value = match value {
        serde_json::Value::Object(any) => any
            .iter()
            .find(|(k, _)| k.ends_with("Value") || k.ends_with("_value"))
            .map(|(_, v)| v)?,
        v => v,
    };
    let text = match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    (!key.is_empty()).then(|| (Cow::Owned(key.to_string()), Cow::Owned(text)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_items_of_the_form_key_value_are_tags_of_that_key() {
        let tag = |s: &str| {
            let (k, v) = list_tag(Cow::Borrowed(s));
            (k.into_owned(), v.into_owned())
        };
        let pair = |k: &str, v: &str| (k.to_string(), v.to_string());
        assert_eq!(
            tag("feature:support-assistant"),
            pair("feature", "support-assistant")
        );
        assert_eq!(tag("env:prod:eu"), pair("env", "prod:eu"));
        assert_eq!(tag("user_facing:false"), pair("user_facing", "false"));
        for whole in [
            "prod",
            "feature:",
            "feature: ",
            ":x",
            "a b:c",
            "https://x.io",
        ] {
            assert_eq!(tag(whole), pair("tag", whole), "{whole}");
        }
        let (k, v) = list_tag(Cow::Owned("team:search".to_string()));
        assert_eq!((k.as_ref(), v.as_ref()), ("team", "search"));
    }
}

#[cfg(test)]
mod text_key_tests {
    use super::is_text_key;

    #[test]
    fn text_keys_are_words_not_substrings() {
        for key in [
            "prompt",
            "ai.prompt.messages",
            "ai.response.text",
            "langfuse.observation.input",
            "mlflow.spanInputs",
            "lmnr.span.input",
            "completion",
            "question",
            "user_query",
            "Answer",
            "prompt_tokens",
            "systemprompt",
            "userprompt",
            "LLMInput",
            "rawLLMOutput",
            "AIResponse",
            "HTMLContent",
            "prompt2",
            "user_queries",
            "context",
            "user_msg",
            "instructions",
            "transcript",
        ] {
            assert!(is_text_key(key), "{key}");
        }
        for key in [
            "context_window",
            "message_count",
            "completion_window",
            "content_filter",
            "prompt_cache_hit",
            "input_modality",
            "query_count",
            "bigquery_table",
            "pretext_version",
            "content_type",
            "prompt_template",
            "prompt_name",
            "promptVersion",
            "response_format",
            "query_type",
            "user_input_type",
            "env",
            "texture",
            "outputs_bucket_id",
        ] {
            assert!(!is_text_key(key), "{key}");
        }
    }
}
