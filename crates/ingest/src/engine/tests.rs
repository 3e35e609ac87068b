//! The engine against its reference, and what a spec's paths mean.

use std::borrow::Cow;

use crate::engine::{Capture, Captured, Spec, Target as T};
use crate::json::scan_value::broken_variants;
use crate::json::value::Lenient;
use crate::record::staging::RawLine;
use crate::rejects::{Reject, RejectReason};

/// A spec that uses every kind of path: nested objects, a path shared by a
/// field and a capture, alternatives, two tag paths, a deep leaf.
static NESTED: Spec = Spec::new(
    &[
        (T::Model, &["model", "response.model", "request.model"]),
        (T::Timestamp, &["time.start"]),
        (T::InputTokens, &["usage.in"]),
        (T::OutputTokens, &["usage.out", "usage.detail.out"]),
        (T::CacheReadTokens, &["usage.detail.cached"]),
        (T::Feature, &["meta.feature"]),
        (T::Latency, &["time.ms"]),
        (T::Cost, &["cost"]),
        (T::Batch, &["batch"]),
        (T::Status, &["status"]),
    ],
    &["meta.labels", "labels"],
    "label",
    &[
        Capture::Value(&["meta.skip"]),
        Capture::Value(&["status"]),
        Capture::Text(&["meta.input"]),
        Capture::Entries(&["params"], |k| k.len() as u8),
    ],
    Some(hook),
);

/// Shows what the hook gets: the error kind is the status with `!`, the
/// route the input's text, the team the parameters' entries.
fn hook<'a>(raw: &mut RawLine<'a>, captured: &Captured<'_, 'a>) -> Result<(), Reject> {
    use crate::record::fields::LStr;
    if captured.label(0) == Lenient::Value(Cow::Borrowed("yes")) {
        return Err(Reject::new(RejectReason::NotACall, "skipped"));
    }
    if let Lenient::Value(s) = captured.label(1) {
        raw.error_kind = LStr(Lenient::Value(Cow::Owned(format!("{s}!"))));
    }
    if let Some(text) = captured.text(2) {
        raw.route = LStr(Lenient::Value(Cow::Borrowed(text)));
    }
    if let Some(entries) = captured.entries(3) {
        let listed: Vec<String> = entries
            .iter()
            .map(|e| format!("{}{}={:?}", e.key, e.class, e.value))
            .collect();
        raw.team = LStr(Lenient::Value(Cow::Owned(listed.join(" "))));
    }
    Ok(())
}

const LINES: &[&str] = &[
    r#"{"model":"gpt-4o","usage":{"in":10,"out":2},"meta":{"feature":"search","labels":{"env":"prod","b":1,"a":true}},"time":{"start":"2026-10-01T08:00:00Z","ms":12.5},"cost":"0.25"}"#,
    r#"{"response":{"model":"r"},"request":{"model":"q"},"usage":{"in":10,"detail":{"out":3,"cached":4}},"labels":["x","y",3]}"#,
    r#"{"model":null,"request":{"model":"q"},"usage":{"in":10,"out":2}}"#,
    r#"{"model":"","response":{"model":"r"},"usage":{"in":1,"out":1}}"#,
    r#"{"model":"m","usage":{"in":1,"out":1},"usage":{"in":5}}"#,
    r#"{"model":"m","usage":{"in":1,"out":1},"usage":7,"status":"error"}"#,
    r#"{"model":"m","usage":{"in":1,"out":1},"meta":{"labels":null},"labels":{"z":"1"}}"#,
    r#"{"model":"m","usage":{"in":1,"out":1},"meta":{"labels":{"k":"v"}},"meta":{"feature":"f"}}"#,
    r#"{"model":"m","usage":{"in":1,"out":1},"labels":"{\"from\":\"text\"}"}"#,
    r#"{"model":"m","usage":{"in":"12","out":2.0},"batch":"yes","time":{"ms":"7"}}"#,
    r#"{"model":"m","usage":{"in":-1,"out":2}}"#,
    r#"{"model":{"x":1},"usage":{"in":1,"out":2}}"#,
    r#"{"model":"m","usage":{"in":1,"out":2},"meta":{"skip":"yes"}}"#,
    r#"{"model":"m","usage":{"in":1,"out":2},"unread":{"deep":[1,{"x":[null,true]}]},"status":"ok"}"#,
    r#"{"model":"m","usage":{"in":1,"out":2},"unread":1e400}"#,
    r#"{"model":"m","usage":{"in":1e400,"out":2}}"#,
    r#"{"m\u006fdel":"caf\u00e9","usage":{"in":1,"out":2},"meta":{"labels":{"\u00e9":"\u00e8"}}}"#,
    r#"{"model":"lone \ud83d","usage":{"in":1,"out":2}}"#,
    r#"{"model":"m","usage":{"in":1,"out":2},"meta":{"labels":{"a":1,"b":1,"c":1,"d":1,"e":1,"f":1,"g":1,"h":1,"i":1,"j":1,"k":1,"l":1,"m":1,"n":1,"o":1,"p":1,"q":1}}}"#,
    r#"{"model":"m","usage":{"in":1,"out":2},"meta":{"labels":{"prompt":"secret","long":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","k":"v"}}}"#,
    "  {\"model\" : \"m\" ,\t\"usage\":{ \"in\" : 1 , \"out\":2 } }  ",
    r#"{"model":"m","usage":{"in":1,"out":2}} trailing"#,
    r#"{"model":"m","usage":{"in":1,"out":2},}"#,
    r#"{}"#,
    r#"[1]"#,
    r#""text""#,
    r#"not json"#,
    r#"{"model":"m","usage":{"in":1,"out":2},"meta":{"input": [ {"role":"user","content":"hi \u00e9"} ] },"params":{"b":1,"a":"x","b":null,"c":{"d":[1]},"a":2.5}}"#,
    r#"{"model":"m","usage":{"in":1,"out":2},"meta":{"input":null},"params":[1]}"#,
    r#"{"model":"m","usage":{"in":1,"out":2},"meta":{"input":"text"},"meta":{"feature":"f"},"params":{}}"#,
    r#"{"model":"m","usage":{"in":1,"out":2},"meta": {"labels": null },"labels":{"k":"v"}}"#,
    r#"{"model":"m","usage":{"in":1,"out":2},"labels":{"k":"v"},"meta":{ "labels" :	null}}"#,
];

#[test]
fn paths_read_what_the_json_tree_holds() {
    let read = |i: usize| NESTED.parse_line_str(LINES[i]);
    let r = read(0).unwrap();
    assert_eq!(r.model, "gpt-4o");
    assert_eq!((r.usage.input, r.usage.output), (10, 2));
    assert_eq!(r.feature.as_deref(), Some("search"));
    assert_eq!(r.latency_ms, Some(13));
    assert_eq!(
        r.timestamp.unwrap().to_rfc3339(),
        "2026-10-01T08:00:00+00:00"
    );
    assert_eq!(r.logged_cost.unwrap().to_string(), "0.25");
    // Tags in key order.
    let tags: Vec<_> = r.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
    assert_eq!(tags, ["a=true", "b=1", "env=prod"]);
    // The first path with a value, and a deeper alternative.
    let r = read(1).unwrap();
    assert_eq!(r.model, "r");
    assert_eq!(
        (r.usage.input, r.usage.cached_read, r.usage.output),
        (14, 4, 3)
    );
    let tags: Vec<_> = r.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
    assert_eq!(tags, ["label=x", "label=y", "label=3"]);
    // null and blank are no value.
    assert_eq!(read(2).unwrap().model, "q");
    assert_eq!(read(3).unwrap().model, "r");
    // The last of a repeated key wins whole, even when it is no object.
    let r = read(4).unwrap();
    assert_eq!((r.usage.input, r.usage.output), (5, 0));
    let r = read(5).unwrap();
    assert_eq!(r.error_kind.as_deref(), Some("error!"));
    assert_eq!(r.usage.input, 0);
    // A null tag path gives way to the next; a repeated object forgets its
    // first tags.
    let tags = |i: usize| {
        read(i)
            .unwrap()
            .tags
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
    };
    assert_eq!(tags(6), ["z=1"]);
    assert!(tags(7).is_empty());
    assert_eq!(tags(8), ["from=text"]);
    let r = read(9).unwrap();
    assert_eq!(
        (r.usage.input, r.usage.output, r.batch, r.latency_ms),
        (12, 2, Some(true), Some(7))
    );
    assert_eq!(read(10).unwrap_err().reason, RejectReason::NegativeTokens);
    assert_eq!(read(11).unwrap_err().reason, RejectReason::WrongType);
    assert_eq!(read(12).unwrap_err().reason, RejectReason::NotACall);
    assert_eq!(
        read(13).unwrap().status,
        Some(tokenaudit_core::CallStatus::Ok)
    );
    // serde_json refuses a number out of range anywhere on the line.
    assert_eq!(read(14).unwrap_err().reason, RejectReason::MalformedJson);
    assert_eq!(read(15).unwrap_err().reason, RejectReason::MalformedJson);
    let r = read(16).unwrap();
    assert_eq!(r.model, "café");
    assert_eq!(tags(16), ["é=è"]);
    assert_eq!(read(17).unwrap_err().reason, RejectReason::MalformedJson);
    assert_eq!(tags(18).len(), 17);
    assert_eq!(tags(19), ["k=v"], "text keys and long values are no tags");
    assert_eq!(read(20).unwrap().usage.output, 2);
    for i in [21, 22, 26] {
        assert_eq!(
            read(i).unwrap_err().reason,
            RejectReason::MalformedJson,
            "{i}"
        );
    }
    assert_eq!(read(23).unwrap_err().reason, RejectReason::MissingModel);
    for i in [24, 25] {
        assert_eq!(
            read(i).unwrap_err().reason,
            RejectReason::NotAnObject,
            "{i}"
        );
    }
    // Text as it stands in the line; entries in key order, the last of a
    // repeated key winning, each with its key's class.
    let r = read(27).unwrap();
    assert_eq!(
        r.route.as_deref(),
        Some(r#"[ {"role":"user","content":"hi \u00e9"} ]"#)
    );
    assert_eq!(r.team.as_deref(), Some("a1=F64(2.5) b1=Null c1=Container"));
    let r = read(28).unwrap();
    assert_eq!(
        (r.route, r.team),
        (None, None),
        "null text, entries of no object"
    );
    let r = read(29).unwrap();
    assert_eq!(
        (r.route, r.team.as_deref()),
        (None, Some("")),
        "a repeated object forgets"
    );
    // A tag path's null after whitespace gives way to the next path,
    // whichever comes first in the line.
    for i in [30, 31] {
        assert_eq!(tags(i), ["k=v"], "{i}");
        assert!(NESTED.agree(LINES[i]), "{i}");
    }
}

/// Which lines the engine leaves to the reference: those it cannot be sure
/// of (invalid JSON, numbers out of range, lone surrogates, tag objects
/// over the stack's capacity, what is not an object, an object repeated
/// after its tags won). Every other line it
/// reads as the reference does, whatever line came before it on the thread.
#[test]
fn the_engine_reads_as_the_reference_or_leaves_the_line_to_it() {
    let bailed: Vec<usize> = (0..LINES.len())
        .filter(|&i| !NESTED.agree(LINES[i]))
        .collect();
    assert_eq!(bailed, [7, 14, 15, 17, 18, 21, 22, 24, 25, 26]);
    let alone = LINES.len() - bailed.len();
    let mut fast = 0;
    for before in LINES {
        for line in LINES {
            NESTED.agree(before);
            fast += usize::from(NESTED.agree(line));
        }
    }
    assert_eq!(fast, alone * LINES.len());
}

#[test]
fn the_engine_never_disagrees_on_broken_lines() {
    let variants = broken_variants(&LINES[..4]);
    let fast = variants.iter().filter(|l| NESTED.agree(l)).count();
    assert!(variants.len() > 10_000, "{}", variants.len());
    assert!(fast > 1_000, "{fast}");
}

/// Random edits of the lines, many at a time (a seeded generator, so a
/// failure repeats).
#[test]
fn the_engine_never_disagrees_on_random_mutations() {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let alphabet = b"{}[]\":,\\0123456789.eE-+ntrufalsxu\xc3\xa9 ";
    let mut fast = 0;
    for _ in 0..20_000 {
        let line = LINES[next() as usize % 20].as_bytes();
        let mut bytes = line.to_vec();
        for _ in 0..1 + next() % 4 {
            let at = next() as usize % bytes.len();
            let b = alphabet[next() as usize % alphabet.len()];
            match next() % 3 {
                0 => bytes[at] = b,
                1 => bytes.insert(at, b),
                _ => {
                    bytes.remove(at);
                }
            }
            if bytes.is_empty() {
                break;
            }
        }
        if let Ok(text) = std::str::from_utf8(&bytes) {
            fast += usize::from(NESTED.agree(text));
        }
    }
    assert!(fast > 2_000, "{fast}");
}

#[test]
#[should_panic(expected = "a value and an object at once")]
fn a_path_through_a_value_is_refused() {
    static BAD: Spec = Spec::new(
        &[(T::Model, &["model"]), (T::Feature, &["model.name"])],
        &[],
        "",
        &[],
        None,
    );
    let _ = BAD.parse_line_str("{}");
}
