//! The compiled mapping against the tree implementation (the reference):
//! every mapping fixture, and generated lines built to hit each rule of
//! `lookup` and each shortcut, must give the same records and rejects.

use super::*;
use crate::formats::mapping::{Mapping, MappingConfig};
use crate::rejects::Reject;
use serde::Deserialize;
use std::borrow::Cow;
use std::io::Read;
use tokenaudit_core::CallRecord;

fn mapping(toml_text: &str) -> Mapping {
    #[derive(Deserialize)]
    struct Wrap {
        mapping: MappingConfig,
    }
    let w: Wrap = toml::from_str(toml_text).unwrap_or_else(|e| panic!("{e}\n{toml_text}"));
    Mapping::new(w.mapping).unwrap()
}

fn show(r: &Result<CallRecord<'_>, Reject>) -> String {
    format!("{r:?}")
}

/// Reads `line` both ways and asserts the same result. Returns whether the
/// compiled path read it (rather than handing it to the tree).
fn agree(m: &Mapping, line: &str) -> bool {
    let want = show(&m.parse_line_str_tree(line));
    assert_eq!(show(&m.parse_line_str(line)), want, "line: {line}");
    assert_eq!(show(&m.parse_line(line.as_bytes())), want, "line: {line}");
    let c = m.compiled().expect("compiled");
    let mut raw = RawLine::default();
    if c.read(m, line, &mut raw) {
        assert_eq!(show(&m.hinted(raw.into_record())), want, "line: {line}");
        true
    } else {
        false
    }
}

/// Every line after every other line (the gateway's key prediction and
/// this reader's per-line state carry over between lines), twice.
fn agree_all(m: &Mapping, lines: &[String]) -> usize {
    let mut fast = 0;
    for _ in 0..2 {
        for line in lines {
            if agree(m, line) {
                fast += 1;
            }
        }
    }
    fast / 2
}

// The mapping fixtures of the repository.

const DOC_EXAMPLE: &str = r#"
[mapping]
model = "payload.llm.model_name"
feature = ["labels.feature", "service"]
input_tokens = "payload.llm.tokens_in"
output_tokens = "payload.llm.tokens_out"
cached_read_tokens = "payload.llm.tokens_cached"
input_includes_cache = true
timestamp = "ts"
timestamp_unit = "ms"
[mapping.defaults]
provider = "openai"
[mapping.tags]
env = "labels.env"
"#;

const FORMATS_EXAMPLE: &str = r#"
[mapping]
timestamp = "ts"
timestamp_unit = "ms"
model = "llm.model_name"
provider = "llm.vendor"
feature = ["labels.feature", "service"]
user = "labels.user"
session = "labels.conversation"
status = "outcome"
input_tokens = "llm.tokens.in"
cached_read_tokens = "llm.tokens.cached"
output_tokens = "llm.tokens.out"
input_includes_cache = true
cost = "billing.usd"
[mapping.defaults]
provider = "openai"
[mapping.tags]
env = "labels.env"
"#;

/// `benches/data/mapping-gateway.toml`, as `benches/convert_formats.py`
/// writes it: the gateway file's own fields.
const BENCH: &str = r#"
[mapping]
timestamp = "timestamp"
request_id = "request_id"
model = "model"
provider = "provider"
feature = "feature"
route = "route"
team = "team"
user = "user"
session = "session"
turn = "turn"
status = "status"
error_kind = "error_type"
http_status = "http_status"
attempt = "attempt"
retry_of = "retry_of"
latency_ms = "latency_ms"
ttft_ms = "ttft_ms"
finish_reason = "finish_reason"
max_tokens = "max_tokens"
cost = "cost"
[mapping.tags]
env = "tags.env"
user_facing = "tags.user_facing"
"#;

const TRACE: &str =
    "[mapping]\ninput_tokens = \"input_length\"\noutput_tokens = \"output_length\"\n\
                     [mapping.defaults]\nmodel = \"gpt-4o\"\n";

const MOONCAKE: &str = r#"
[mapping]
input_tokens = "input_length"
output_tokens = "output_length"
timestamp = "timestamp"
timestamp_origin = "2025-01-01T00:00:00Z"
[mapping.defaults]
model = "kimi-k2"
"#;

const AZURE: &str = "[mapping]\ntimestamp = \"TIMESTAMP\"\ninput_tokens = \"ContextTokens\"\n\
                     output_tokens = \"GeneratedTokens\"\n[mapping.defaults]\nmodel = \"gpt-4o-mini\"\n";

const EXCLUSIVE: &str = r#"
[mapping]
input_tokens = "in"
cached_read_tokens = "cr"
cache_write_tokens = "cw"
output_tokens = "out"
input_includes_cache = false
[mapping.defaults]
model = "claude-sonnet-4-5"
"#;

const ESCAPED: &str = r#"
[mapping]
model = "m\u0065ta.model"
feature = "a.b.feature"
input_tokens = "tok.in"
output_tokens = "tok.out"
[mapping.tags]
kind = "k"
"#;

// Mappings built to reach every rule.

/// Nested and prefix paths, arrays, lists with a null first, whole dotted
/// keys, every token slot in the exclusive convention, a timestamp unit.
const PATHS: &str = r#"
[mapping]
model = ["payload.llm.model", "model"]
provider = "payload.provider"
feature = "a.b"
route = "a.b.c"
team = "arr.1"
user = "arr.0.name"
session = "meta.s"
turn = "payload.turn"
status = "payload.status"
error_kind = "err.kind"
http_status = "code"
attempt = "payload.try"
retry_of = "x.y.z.w"
latency_ms = "lat"
ttft_ms = "t.0"
batch = "flags.batch"
finish_reason = "choices.0.finish_reason"
max_tokens = "limits.max"
prompt_fingerprint = "fp"
prefix_fingerprint = "pfx.h"
prefix_tokens = "pfx.n"
cost = "bill.usd"
input_tokens = "payload.llm.in"
cached_read_tokens = "payload.llm.cached"
cache_write_tokens = "payload.llm.write"
cache_write_1h_tokens = "payload.llm.write1h"
output_tokens = "payload.llm.out"
reasoning_tokens = "payload.llm.reason"
input_includes_cache = false
output_includes_reasoning = false
timestamp = ["when", "ts"]
timestamp_unit = "s"
[mapping.defaults]
provider = "openai"
model = "gpt-4o-mini"
batch = true
feature = "dflt"
route = "/r"
team = "t0"
[mapping.tags]
env = "labels.env"
region = ["where.region", "region"]
kind = "k"
"#;

/// The gateway's own names, as the benchmark maps them, and more of them.
const SAME: &str = r#"
[mapping]
timestamp = "timestamp"
request_id = "request_id"
model = "model"
provider = "provider"
feature = "feature"
route = "route"
team = "team"
user = "user"
session = "session"
turn = "turn"
status = "status"
error_kind = "error_type"
http_status = "http_status"
attempt = "attempt"
retry_of = "retry_of"
latency_ms = "latency_ms"
ttft_ms = "ttft_ms"
batch = "batch"
finish_reason = "finish_reason"
max_tokens = "max_tokens"
prompt_fingerprint = "prompt_hash"
prefix_fingerprint = "prefix_hash"
prefix_tokens = "prefix_tokens"
cost = "cost"
[mapping.tags]
env = "tags.env"
user_facing = "tags.user_facing"
"#;

/// Aliases and crossed fields: a gateway alias of the same field, another
/// field's key, a status code read as a number, tags renamed, a relative
/// timestamp origin applied to the gateway's own timestamp.
const CROSSED: &str = r#"
[mapping]
model = "model_name"
feature = "route"
http_status = "status"
error_kind = "error"
user = "labels.user"
timestamp_origin = "2025-01-01T00:00:00Z"
[mapping.tags]
squad = "tags.team"
env = "labels.env"
"#;

/// Tags only, one of them named like the gateway's list tags.
const TAGS: &str = r#"
[mapping]
[mapping.tags]
tag = "tags.tag"
env = "tags.env"
zone = "tags.zone"
"#;

/// Key/value pieces that the generated lines are made of: every mapped key
/// above, with values of every type, duplicates, aliases, escapes, arrays,
/// nulls, blanks and prefixes of one another.
const PIECES: &[&str] = &[
    r#""model":"gpt-4o""#,
    r#""model":"claude-sonnet-4-5""#,
    r#""model":null"#,
    r#""model":"""#,
    r#""model":5"#,
    r#""model_name":"gpt-4o-mini""#,
    r#""m\u006fdel":"escaped-key""#,
    r#""provider":"openai""#,
    r#""provider":{"n":1}"#,
    r#""feature":"search""#,
    r#""feature":"  ""#,
    r#""route":"/v1/chat""#,
    r#""team":"core""#,
    r#""team_id":7"#,
    r#""user":"u1""#,
    r#""user_id":"u2""#,
    r#""session":"s1""#,
    r#""turn":3"#,
    r#""turn":"4""#,
    r#""turn":-1"#,
    r#""status":"ok""#,
    r#""status":"error""#,
    r#""status":"200""#,
    r#""status":429"#,
    r#""status":null"#,
    r#""http_status":500"#,
    r#""http_status":"503""#,
    r#""status_code":201"#,
    r#""error":{"type":"rate_limit","message":"slow down"}"#,
    r#""error":"timeout""#,
    r#""error":true"#,
    r#""error_type":"overloaded""#,
    r#""attempt":2"#,
    r#""attempt":1.0"#,
    r#""retry_of":"req_0""#,
    r#""latency_ms":1234.5"#,
    r#""latency_ms":"12""#,
    r#""duration_ms":99"#,
    r#""ttft_ms":310"#,
    r#""batch":true"#,
    r#""batch":"yes""#,
    r#""is_batch":false"#,
    r#""service_tier":"batch""#,
    r#""finish_reason":"stop""#,
    r#""stop_reason":"max_tokens""#,
    r#""max_tokens":1024"#,
    r#""max_tokens":1e3"#,
    r#""prompt_hash":"00000000000000ff""#,
    r#""prefix_hash":"10""#,
    r#""prefix_tokens":1200"#,
    r#""cost":0.00123"#,
    r#""cost":"0.5""#,
    r#""cost":-1"#,
    r#""timestamp":"2026-10-01T08:00:00Z""#,
    r#""timestamp":1790841600000"#,
    r#""timestamp":61000"#,
    r#""timestamp":null"#,
    r#""ts":1790841600"#,
    r#""ts":"1790841600.5""#,
    r#""time":"2026-10-02 09:00:00""#,
    r#""created_at":"2026-10-03T00:00:00Z""#,
    r#""when":1790000000"#,
    r#""when":null"#,
    r#""request_id":"req_1""#,
    r#""id":"chatcmpl-1""#,
    r#""usage":{"prompt_tokens":100,"completion_tokens":20,"prompt_tokens_details":{"cached_tokens":40}}"#,
    r#""usage":{"input_tokens":10,"output_tokens":5,"cache_read_input_tokens":1000}"#,
    r#""prompt_tokens":7"#,
    r#""tags":{"env":"prod","user_facing":"true"}"#,
    r#""tags":{"user_facing":"false","env":"dev"}"#,
    r#""tags":{"env":"a","env":"b"}"#,
    r#""tags":{"env":"a","env":null}"#,
    r#""tags":{"env":null,"env":"c"}"#,
    r#""tags":{"env":"","x":"1"}"#,
    r#""tags":{"e\u006ev":"esc","team":"blue","zone":{"z":1}}"#,
    r#""tags":{"tag":"t","zone":"eu","env":3}"#,
    r#""tags":["a","b"]"#,
    r#""tags":"{\"env\":\"from-text\"}""#,
    r#""tags":null"#,
    r#""tags.env":"whole-key""#,
    r#""request_tags":{"env":"rt"}"#,
    r#""labels":{"env":"lbl","user":"lu","team":"lt","feature":"lf"}"#,
    r#""labels":{"env":null}"#,
    r#""metadata":{"model":"meta-model","env":"meta-env","feature":"mf"}"#,
    r#""metadata":"flat""#,
    r#""request":{"model":"req-model","status":"201"}"#,
    r#""meta":{"s":"meta-session"}"#,
    r#""m\u0065ta":{"model":"gpt-4o"}"#,
    r#""payload":{"llm":{"model":"p-model","in":100,"cached":50,"write":20,"write1h":5,"out":30,"reason":10},"provider":"anthropic","turn":2,"status":"ok"}"#,
    r#""payload":{"llm":{"model":null,"in":"12","out":-3}}"#,
    r#""payload":{"llm":{"in":1e9,"out":1.5}}"#,
    r#""payload":[1,2]"#,
    r#""payload":{"try":{"n":1},"llm":{"in":5,"out":1}}"#,
    r#""payload":{"try":3,"llm":{"in":5,"out":1}}"#,
    r#""payload":null"#,
    r#""payload.llm":{"model":"dotted"}"#,
    r#""a":{"b":{"c":"deep","feature":"nested"},"b.c":"whole"}"#,
    r#""a":{"b":"flat-b"}"#,
    r#""a":{"b":null,"b.c":"whole-after-null"}"#,
    r#""a.b":{"c":"ab-c","feature":"whole-key"}"#,
    r#""a.b":"whole-ab""#,
    r#""a":[{"b":1}]"#,
    r#""arr":[{"name":"first"},"second",null]"#,
    r#""arr":[{"name":null}]"#,
    r#""arr":{"0":{"name":"obj-zero"},"1":"obj-one"}"#,
    r#""arr":"not-an-array""#,
    r#""err":{"kind":"bad"}"#,
    r#""err":{"kind":["x"]}"#,
    r#""code":404"#,
    r#""code":"x""#,
    r#""lat":12.7"#,
    r#""t":[310,5]"#,
    r#""t":[]"#,
    r#""flags":{"batch":"no"}"#,
    r#""choices":[{"finish_reason":"length"}]"#,
    r#""choices":[]"#,
    r#""limits":{"max":"256"}"#,
    r#""fp":"abc123""#,
    r#""pfx":{"h":"ff","n":300}"#,
    r#""bill":{"usd":"0.25"}"#,
    r#""bill":{"usd":0.1,"usd":null}"#,
    r#""x":{"y":{"z":{"w":"xyzw"}}}"#,
    r#""x.y":{"z.w":"xy-zw"}"#,
    r#""x":{"y.z":{"w":"x-yz-w"}}"#,
    r#""where":{"region":null}"#,
    r#""where":{"region":"eu-1"}"#,
    r#""region":"us""#,
    r#""k":"first""#,
    r#""k":"last""#,
    r#""service":"svc""#,
    r#""input_length":6758"#,
    r#""output_length":500"#,
    r#""in":10"#,
    r#""cr":1000"#,
    r#""out":5"#,
    r#""tok":{"in":10,"out":2}"#,
    r#""llm":{"model_name":"gpt-4o","vendor":"openai","tokens":{"in":100,"cached":10,"out":5}}"#,
    r#""outcome":"ok""#,
    r#""billing":{"usd":0.01}"#,
    r#""messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi"}]"#,
    r#""unknown":{"deep":[1,2,{"x":null}]}"#,
    r#""TIMESTAMP":"2023-11-16 18:15:46.6805900""#,
    r#""ContextTokens":"4808""#,
    r#""GeneratedTokens":"10""#,
];

/// A small deterministic generator (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Lines of 0 to 11 random pieces, some spaced out, and a few broken ones.
fn generated(n: usize, seed: u64) -> Vec<String> {
    let mut rng = Rng(seed);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let k = rng.below(12);
        let parts: Vec<&str> = (0..k).map(|_| PIECES[rng.below(PIECES.len())]).collect();
        let mut line = if i % 7 == 0 {
            format!("  {{ {} }} ", parts.join(" , "))
        } else {
            format!("{{{}}}", parts.join(","))
        };
        if i % 97 == 0 {
            // Broken: cut short, or not an object.
            match rng.below(3) {
                0 => line.truncate(line.len() / 2),
                1 => line = format!("[{line}]"),
                _ => line.push_str(" trailing"),
            }
        }
        out.push(line);
    }
    out
}

/// Lines that use the gateway's own shape (the benchmark's), with every
/// optional key in and out, in a few orders.
fn gateway_shaped(n: usize, seed: u64) -> Vec<String> {
    let mut rng = Rng(seed);
    let base = [
        r#""timestamp":"2026-10-01T18:46:03.250Z""#,
        r#""request_id":"req_000000001""#,
        r#""provider":"anthropic""#,
        r#""model":"claude-3-5-haiku-20241022""#,
        r#""feature":"agent-planner""#,
        r#""route":"/v1/chat/completions""#,
        r#""team":"agents""#,
        r#""user":"u_0263""#,
        r#""session":"s_1""#,
        r#""turn":2"#,
        r#""status":"ok""#,
        r#""http_status":200"#,
        r#""error_type":"overloaded""#,
        r#""attempt":1"#,
        r#""retry_of":"req_0""#,
        r#""latency_ms":4879"#,
        r#""ttft_ms":224"#,
        r#""finish_reason":"stop""#,
        r#""max_tokens":1024"#,
        r#""prompt_hash":"9e54d738297f77ae""#,
        r#""system_prompt_hash":"5705b8770b3d7dd5""#,
        r#""system_prompt_tokens":2500"#,
        r#""usage":{"input_tokens":2967,"output_tokens":385,"cache_read_input_tokens":0,"cache_creation_input_tokens":0}"#,
        r#""cost":0.0123"#,
        r#""tags":{"env":"prod","user_facing":"true"}"#,
    ];
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let mut parts: Vec<&str> = base.iter().copied().filter(|_| rng.below(5) != 0).collect();
        if rng.below(4) == 0 {
            // An odd piece somewhere: a duplicate, an alias, a nested object.
            let at = rng.below(parts.len() + 1);
            parts.insert(at, PIECES[rng.below(PIECES.len())]);
        }
        if rng.below(8) == 0 {
            let (a, b) = (rng.below(parts.len().max(1)), rng.below(parts.len().max(1)));
            if a < parts.len() && b < parts.len() {
                parts.swap(a, b);
            }
        }
        out.push(format!("{{{}}}", parts.join(",")));
    }
    out
}

fn sample_lines() -> Vec<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../sample-logs/gateway/2026-10-01..16.jsonl"
    );
    let text = std::fs::read_to_string(path).unwrap();
    text.lines().take(1500).map(str::to_string).collect()
}

/// The CSV fixture as the container turns it into JSON lines.
fn csv_lines() -> Vec<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/formats/csv/usage.csv"
    );
    let file = std::fs::File::open(path).unwrap();
    let mut text = String::new();
    crate::source::container::CsvRecords::new(file)
        .read_to_string(&mut text)
        .unwrap();
    let lines: Vec<String> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    assert_eq!(lines.len(), 3, "{text}");
    lines
}

fn csv_mapping() -> Mapping {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/formats/csv/tokenaudit.toml"
    );
    mapping(&std::fs::read_to_string(path).unwrap())
}

fn all_mappings() -> Vec<(&'static str, Mapping)> {
    vec![
        ("doc", mapping(DOC_EXAMPLE)),
        ("formats", mapping(FORMATS_EXAMPLE)),
        ("bench", mapping(BENCH)),
        ("trace", mapping(TRACE)),
        ("mooncake", mapping(MOONCAKE)),
        ("azure", mapping(AZURE)),
        ("exclusive", mapping(EXCLUSIVE)),
        ("escaped", mapping(ESCAPED)),
        ("csv", csv_mapping()),
        ("paths", mapping(PATHS)),
        ("same", mapping(SAME)),
        ("crossed", mapping(CROSSED)),
        ("tags", mapping(TAGS)),
    ]
}

#[test]
fn every_mapping_fixture_reads_its_own_lines_like_the_tree() {
    let m = csv_mapping();
    let lines = csv_lines();
    assert_eq!(agree_all(&m, &lines), lines.len());
    let r = m.parse_line_str(&lines[0]).unwrap();
    assert_eq!((r.model.as_ref(), r.usage.input), ("gpt-4o", 10000));
    assert_eq!(r.feature.as_deref(), Some("search, ranking"));

    let m = mapping(MOONCAKE);
    let line =
        r#"{"timestamp": 61000, "input_length": 6758, "output_length": 500, "hash_ids": [0, 1]}"#;
    assert!(agree(&m, line));
    let r = m.parse_line_str(line).unwrap();
    assert_eq!(
        r.timestamp.unwrap().to_rfc3339(),
        "2025-01-01T00:01:01+00:00"
    );

    let m = mapping(TRACE);
    for line in [
        r#"{"timestamp":0,"input_length":1000,"output_length":100}"#,
        r#"{"timestamp":5,"input_length":3000,"output_length":10}"#,
    ] {
        assert!(agree(&m, line));
    }

    let m = mapping(AZURE);
    let line = r#"{"TIMESTAMP":"2023-11-16 18:15:46.6805900","ContextTokens":"4808","GeneratedTokens":"10"}"#;
    assert!(agree(&m, line));
    assert_eq!(m.parse_line_str(line).unwrap().usage.input, 4808);

    let m = mapping(ESCAPED);
    let line = r#"{"messages":[{"role":"user","content":"long"}],"k":"first","m\u0065ta":{"model":"gpt-4o"},"a.b":{"feature":"whole-key"},"a":{"b":{"feature":"nested"}},"tok":{"in":10,"out":2},"k":"last"}"#;
    assert!(agree(&m, line));
    let r = m.parse_line_str(line).unwrap();
    assert_eq!(
        (r.model.as_ref(), r.feature.as_deref()),
        ("gpt-4o", Some("nested"))
    );
    assert!(r.tags.iter().any(|(k, v)| k == "kind" && v == "last"));
}

#[test]
fn the_sample_logs_read_like_the_tree_through_every_mapping() {
    let lines = sample_lines();
    for (name, m) in all_mappings() {
        let fast = agree_all(&m, &lines);
        // The scanner takes every sample line.
        assert_eq!(fast, lines.len(), "{name}");
    }
}

#[test]
fn generated_lines_read_like_the_tree_through_every_mapping() {
    let lines = generated(3000, 0x9e37_79b9_7f4a_7c15);
    for (name, m) in all_mappings() {
        let fast = agree_all(&m, &lines);
        // The broken lines (1 in 97) go to the tree; the rest do not.
        assert!(fast >= lines.len() * 95 / 100, "{name}: {fast}");
    }
}

#[test]
fn gateway_shaped_lines_read_like_the_tree_through_every_mapping() {
    let lines = gateway_shaped(3000, 42);
    // A mapped path through JSON text (`tags.env` into `"tags":"{…}"`) is
    // the tree's to read; every other line is the scanner's.
    let text = lines.iter().filter(|l| l.contains(r#""tags":"{"#)).count();
    for (name, m) in all_mappings() {
        let fast = agree_all(&m, &lines);
        assert!(fast >= lines.len() - text, "{name}: {fast}");
    }
}

/// Hand-picked cases with their values worked out from the rules in
/// `mapping.rs`, so that a change to both readers cannot pass unnoticed.
#[test]
fn tricky_lines_read_like_the_tree_with_known_values() {
    type Check = fn(&CallRecord<'_>);
    let m = mapping(PATHS);
    let cases: &[(&str, Check)] = &[
        // `a.b` is a whole top-level key, found first; `a.b.c` is not, so
        // `a` → `b` → `c`.
        (
            r#"{"a.b":"whole","a":{"b":{"c":"deep"}},"model":"gpt-4o","payload":{"llm":{"in":1,"out":1}}}"#,
            |r| {
                assert_eq!(r.feature.as_deref(), Some("whole"));
                assert_eq!(r.route.as_deref(), Some("deep"));
            },
        ),
        // In `a`, the whole key `b.c` comes before `b` → `c`; `a.b` is
        // null, which ends the search: the default applies.
        (
            r#"{"a":{"b":null,"b.c":"whole-after-null"},"model":"gpt-4o","payload":{"llm":{"in":1,"out":1}}}"#,
            |r| {
                assert_eq!(r.route.as_deref(), Some("whole-after-null"));
                assert_eq!(r.feature.as_deref(), Some("dflt"));
            },
        ),
        // Array indexes, and the same digits as object keys.
        (
            r#"{"arr":[{"name":"first"},"second",null],"model":"gpt-4o","payload":{"llm":{"in":1,"out":1}}}"#,
            |r| {
                assert_eq!(r.user.as_deref(), Some("first"));
                assert_eq!(r.team.as_deref(), Some("second"));
            },
        ),
        (
            r#"{"arr":{"0":{"name":"obj-zero"},"1":"obj-one"},"model":"gpt-4o","payload":{"llm":{"in":1,"out":1}}}"#,
            |r| {
                assert_eq!(r.user.as_deref(), Some("obj-zero"));
                assert_eq!(r.team.as_deref(), Some("obj-one"));
            },
        ),
        // A list: the first path with a value wins; a null there goes on
        // to the next path.
        (
            r#"{"payload":{"llm":{"model":"p-model","in":1,"out":1}},"model":"gpt-4o"}"#,
            |r| assert_eq!(r.model, "p-model"),
        ),
        (
            r#"{"where":{"region":null},"region":"us","k":"first","k":"last","model":"gpt-4o","payload":{"llm":{"in":1,"out":1}}}"#,
            |r| {
                let tags: Vec<(&str, &str)> = r
                    .tags
                    .iter()
                    .map(|(k, v)| (k.as_ref(), v.as_ref()))
                    .collect();
                assert_eq!(tags, [("kind", "last"), ("region", "us")]);
            },
        ),
        (
            r#"{"region":"us","model":"gpt-4o","payload":{"llm":{"in":1,"out":1}}}"#,
            |r| assert_eq!(r.tags, [(Cow::from("region"), Cow::from("us"))]),
        ),
        // Seconds, by the mapping's unit.
        (
            r#"{"when":1790000000,"model":"gpt-4o","payload":{"llm":{"in":1,"out":1}}}"#,
            |r| {
                assert_eq!(
                    r.timestamp.unwrap().to_rfc3339(),
                    "2026-09-21T14:13:20+00:00"
                )
            },
        ),
        // Exclusive input; output without reasoning, which is added.
        (
            r#"{"payload":{"llm":{"in":100,"cached":50,"write":20,"out":30,"reason":10},"turn":1,"status":"ok"},"model":"gpt-4o","t":[7]}"#,
            |r| {
                assert_eq!(r.usage.input, 170);
                assert_eq!(r.usage.cached_read, 50);
                assert_eq!(r.usage.cache_write, 20);
                assert_eq!((r.usage.output, r.usage.reasoning), (40, 10));
                assert_eq!(r.ttft_ms, Some(7));
            },
        ),
    ];
    for (line, check) in cases {
        assert!(agree(&m, line), "{line}");
        check(&m.parse_line_str(line).unwrap());
    }
    // `attempt` points at an object: the call is read without it.
    let line = r#"{"payload":{"try":{"n":1},"llm":{"in":1,"out":1}},"model":"gpt-4o"}"#;
    assert!(agree(&m, line));
    let r = m.parse_line_str(line).unwrap();
    assert_eq!((r.attempt, r.unread_field), (None, Some("attempt")));
    assert_eq!((r.usage.input, r.usage.output), (1, 1));

    let m = mapping(SAME);
    let tags = |r: &CallRecord<'_>| -> Vec<(String, String)> {
        r.tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let pair = |k: &str, v: &str| (k.to_string(), v.to_string());
    // The gateway moves a numeric status to `http_status` (first come); the
    // mapping reads `http_status` itself.
    let line = r#"{"model":"gpt-4o","status":"200","http_status":500,"usage":{"prompt_tokens":1,"completion_tokens":1}}"#;
    assert!(agree(&m, line));
    assert_eq!(m.parse_line_str(line).unwrap().http_status, Some(500));
    // Mapped tags are removed and appended in name order.
    let line = r#"{"model":"x","tags":{"user_facing":"false","env":"dev","a":"1"},"usage":{"prompt_tokens":1,"completion_tokens":1}}"#;
    assert!(agree(&m, line));
    let r = m.parse_line_str(line).unwrap();
    assert_eq!(
        tags(&r),
        [
            pair("a", "1"),
            pair("env", "dev"),
            pair("user_facing", "false")
        ]
    );
    // The last duplicate wins, unless it is null.
    let line = r#"{"model":"x","tags":{"env":"a","env":"b"},"usage":{"prompt_tokens":1,"completion_tokens":1}}"#;
    assert!(agree(&m, line));
    assert_eq!(tags(&m.parse_line_str(line).unwrap()), [pair("env", "b")]);
    let line = r#"{"model":"x","tags":{"env":"a","env":null},"usage":{"prompt_tokens":1,"completion_tokens":1}}"#;
    assert!(agree(&m, line));
    assert_eq!(tags(&m.parse_line_str(line).unwrap()), [pair("env", "a")]);
    // A whole top-level key `tags.env` comes first.
    let line = r#"{"model":"x","tags":{"env":"t"},"tags.env":"whole-key","usage":{"prompt_tokens":1,"completion_tokens":1}}"#;
    assert!(agree(&m, line));
    assert_eq!(
        tags(&m.parse_line_str(line).unwrap()),
        [pair("env", "whole-key")]
    );

    let m = mapping(CROSSED);
    let line = r#"{"model":"gpt-4o","model_name":"mini","route":"/r","status":"404","labels":{"user":"lu","env":"le"},"usage":{"prompt_tokens":1,"completion_tokens":1}}"#;
    assert!(agree(&m, line));
    let r = m.parse_line_str(line).unwrap();
    assert_eq!(r.model, "mini");
    assert_eq!(r.feature.as_deref(), Some("/r"));
    assert_eq!(r.http_status, Some(404));
    assert_eq!(r.user.as_deref(), Some("lu"));
    assert_eq!(tags(&r), [pair("user", "lu"), pair("env", "le")]);
}

#[test]
fn long_paths_are_left_to_the_tree() {
    let m = mapping("[mapping]\nmodel = \"a.b.c.d.e.f.g.h.i\"\n");
    assert!(m.compiled().is_none());
    let line = r#"{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":{"i":"gpt-4o"}}}}}}}},"usage":{"prompt_tokens":1,"completion_tokens":1}}"#;
    assert_eq!(m.parse_line_str(line).unwrap().model, "gpt-4o");
    let m = mapping("[mapping]\nmodel = \"a.b.c.d.e.f.g.h\"\n");
    assert!(m.compiled().is_some());
    let line = r#"{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":"gpt-4o"}}}}}}},"usage":{"prompt_tokens":1,"completion_tokens":1}}"#;
    assert!(agree(&m, line));
    assert_eq!(m.parse_line_str(line).unwrap().model, "gpt-4o");
}

#[test]
fn groupings_follow_lookup_order() {
    let g = groupings(&["a", "b", "c"]);
    let want: Vec<Vec<&str>> = vec![
        vec!["a.b.c"],
        vec!["a", "b.c"],
        vec!["a", "b", "c"],
        vec!["a.b", "c"],
    ];
    assert_eq!(g, want);
    assert_eq!(groupings(&["x"]), vec![vec!["x".to_string()]]);
    assert_eq!(groupings(&["a", "b", "c", "d", "e"]).len(), 16);
}

/// The benchmark's mapping: only the plans with a check or two sources are
/// looked at on a plain line, the others only when a key of theirs repeats
/// or a `metadata`-like object is there; and the hook slices only the keys
/// of the meanings it notes.
#[test]
fn plain_plans_are_skipped_only_on_plain_lines() {
    let m = mapping(BENCH);
    let c = m.compiled().expect("compiled");
    let checked: Vec<String> = c
        .checked
        .iter()
        .map(|&i| format!("{:?}", c.fields[i].slot))
        .collect();
    assert_eq!(checked, ["Status", "ErrorKind", "HttpStatus"]);
    assert_eq!(c.plain_sources & bit(Field::Model), bit(Field::Model));
    assert_eq!(c.plain_sources & bit(Field::Error), 0);
    assert_eq!(c.noted & bit(Field::Model), 0);
    assert_ne!(c.noted & bit(Field::Tags), 0);
    let usage = r#""usage":{"prompt_tokens":1,"completion_tokens":1}"#;
    let lines: Vec<String> = [
        // Plain.
        r#""model":"gpt-4o","team":"a","tags":{"env":"prod","user_facing":"true"}"#,
        // A plain key twice: the last one wins in the mapping.
        r#""model":"gpt-4o","team":"a","model":"gpt-4o-mini""#,
        r#""team":"a","model":"gpt-4o","team":"b""#,
        // A repeated key no plain plan reads from, then both error keys.
        r#""model":"gpt-4o","error":"timeout","error":"overloaded""#,
        r#""model":"gpt-4o","error":"timeout","error_type":"overloaded""#,
        // A metadata-like object that holds a mapped field.
        r#""model":"gpt-4o","metadata":{"team":"inner"},"team":"outer""#,
        r#""request":{"model":"gpt-4o-mini"},"model":"gpt-4o""#,
        // A top-level `tags.env`, which the mapped tag prefers.
        r#""model":"gpt-4o","tags.env":"whole","tags":{"env":"prod"}"#,
        r#""model":"gpt-4o","status":"ok","status":429,"http_status":200"#,
    ]
    .iter()
    .map(|body| format!("{{{body},{usage}}}"))
    .collect();
    assert_eq!(agree_all(&m, &lines), lines.len());
    let r = m.parse_line_str(&lines[1]).unwrap();
    assert_eq!(r.model, "gpt-4o-mini");
    let r = m.parse_line_str(&lines[2]).unwrap();
    assert_eq!(r.team.as_deref(), Some("b"));
    let r = m.parse_line_str(&lines[5]).unwrap();
    assert_eq!(r.team.as_deref(), Some("outer"));
}

/// A path through JSON text: the scanner hands the line to the tree, which
/// reads inside the text, however the text starts (spaces, escaped line
/// breaks); text that holds no JSON gives no value either way.
#[test]
fn paths_through_json_text_read_like_the_tree() {
    let m = mapping(
        "[mapping]\ninput_tokens = \"resp.usage.input_tokens\"\noutput_tokens = \"resp.usage.output_tokens\"\n",
    );
    for (line, input) in [
        (
            r#"{"model":"gpt-4o-mini","resp":"{\"usage\":{\"input_tokens\":7,\"output_tokens\":1}}"}"#,
            Some(7),
        ),
        (
            r#"{"model":"gpt-4o-mini","resp": "\n\t {\"usage\":{\"input_tokens\":8,\"output_tokens\":1}}"}"#,
            Some(8),
        ),
        (
            r#"{"model":"gpt-4o-mini","resp":"\u000a{\"usage\":{\"input_tokens\":6,\"output_tokens\":1}}"}"#,
            Some(6),
        ),
        // Written twice over, with a line break first.
        (
            r#"{"model":"gpt-4o-mini","resp":"\"\\n{\\\"usage\\\":{\\\"input_tokens\\\":4,\\\"output_tokens\\\":1}}\""}"#,
            Some(4),
        ),
        // Not JSON: the mapped path finds nothing, and the usage beside it
        // gives the counts (a mapped path the line lacks takes what the
        // gateway reader found: hunt127).
        (
            r#"{"model":"gpt-4o-mini","resp":"n{ot json","usage":{"input_tokens":5,"output_tokens":1}}"#,
            Some(5),
        ),
    ] {
        agree(&m, line);
        let got = m.parse_line_str(line).ok().map(|r| r.usage.input);
        assert_eq!(got, input, "{line}");
    }
}

/// MLflow stores every span attribute as JSON text, so a model is the text
/// `"gpt-4o"` with its quotes (hunt98: unpriced, "\"gpt-4o\"" not in the
/// catalog): the string it holds is read, by both readers; a string that
/// merely starts with a quote is kept as it is.
#[test]
fn json_text_of_a_string_is_the_string() {
    let m = mapping(
        r#"
        [mapping]
        model = "attributes.mlflow.llm.model"
        feature = "name"
        input_tokens = "attributes.mlflow.chat.tokenUsage.input_tokens"
        output_tokens = "attributes.mlflow.chat.tokenUsage.output_tokens"
        "#,
    );
    let line = r#"{"name":"\"chat\" bot","attributes":{"mlflow.llm.model":"\"gpt-4o\"","mlflow.chat.tokenUsage":"{\"input_tokens\": 10, \"output_tokens\": 2}"}}"#;
    assert!(!agree(&m, line), "handed to the tree");
    let r = m.parse_line_str(line).unwrap();
    assert_eq!(r.model.as_ref(), "gpt-4o");
    assert_eq!(r.feature.as_deref(), Some("\"chat\" bot"));
    assert_eq!((r.usage.input, r.usage.output), (10, 2));
}
