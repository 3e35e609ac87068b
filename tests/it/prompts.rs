//! `--include-prompts`: without it no prompt text reaches any output; with
//! it, the prompt findings carry short excerpts, escaped in every format.

use serde_json::{json, Value};

use crate::util::{findings, gw_line, Env};

const SYSTEM: &str = "You are the FAQ bot of Acme Corp.";
const XSS: &str = "<script>alert(1)</script> How do I reset my password?";
const REFUND: &str = "What is the refund policy for annual plans?";
const ONE_OFF: &str = "A one-off question about invoice numbering";

/// 250 characters: its excerpt is cut to 200 with "…".
fn long_prompt() -> String {
    "Explain our SLA tiers. "
        .repeat(11)
        .chars()
        .take(250)
        .collect()
}

fn call(minute: u32, id: &str, user: &str) -> String {
    gw_line(
        &format!("2026-10-01T08:{minute:02}:00Z"),
        "faq-bot",
        "gpt-4o",
        1000,
        100,
        json!({
            "request_id": id,
            "messages": [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": "an earlier turn"},
                {"role": "assistant", "content": "an earlier answer"},
                {"role": "user", "content": user},
            ],
        }),
    ) + "\n"
}

/// Three questions asked five times each, a minute apart (12 cache hits
/// within the TTL), and one asked once.
fn fixture() -> String {
    let long = long_prompt();
    let mut s = String::new();
    for (k, q) in [XSS, REFUND, long.as_str()].into_iter().enumerate() {
        for i in 0..5u32 {
            s += &call(k as u32 * 10 + i, &format!("q{k}-{i}"), q);
        }
    }
    s + &call(40, "one-off", ONE_OFF)
}

/// Fires TA109 on this small fixture.
const CONFIG: &str = "[detect]\nmin_savings = 0\n[rules.TA109]\nmin_hits = 1\n";

fn setup() -> Env {
    let env = Env::new();
    env.write("calls.jsonl", fixture());
    env.write("cfg.toml", CONFIG);
    env
}

/// Every report file plus the `findings --format jsonl` output.
fn outputs(env: &Env, flag: &[&str]) -> Vec<(String, String)> {
    let out = env
        .cmd()
        .args(["audit", "calls.jsonl", "--config", "cfg.toml", "--quiet"])
        .args(["--format", "md,json,csv,html", "--out", "out"])
        .args(flag)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut files = Vec::new();
    for e in std::fs::read_dir(env.path("out")).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        files.push((name, std::fs::read_to_string(&p).unwrap()));
    }
    let tickets = env
        .cmd()
        .args(["findings", "calls.jsonl", "--config", "cfg.toml", "--quiet"])
        .args(["--format", "jsonl"])
        .args(flag)
        .output()
        .unwrap();
    assert!(tickets.status.success());
    files.push((
        "findings.jsonl".into(),
        String::from_utf8(tickets.stdout).unwrap(),
    ));
    files.sort();
    files
}

#[test]
fn without_the_flag_no_prompt_text_reaches_any_output() {
    let env = setup();
    let files = outputs(&env, &[]);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    for want in ["audit.md", "audit.json", "audit.html", "findings.jsonl"] {
        assert!(names.contains(&want), "{names:?}");
    }
    assert!(names.iter().any(|n| n.ends_with(".csv")), "{names:?}");
    // The finding is there (so the check below is not vacuous) ...
    let r = env.report();
    assert_eq!(findings(&r, "TA109").len(), 1);
    // ... but none of the texts, raw or escaped.
    let long = long_prompt();
    let needles = [
        "alert(1)",
        "reset my password",
        "refund policy",
        "Explain our SLA",
        "invoice numbering",
        "FAQ bot of Acme",
        "an earlier turn",
        "sample_prompts",
        &long[..40],
    ];
    for (name, text) in &files {
        for n in needles {
            assert!(!text.contains(n), "{name} contains {n:?}");
        }
    }
}

#[test]
fn with_the_flag_the_duplicate_finding_shows_escaped_excerpts() {
    let env = setup();
    let files = outputs(&env, &["--include-prompts"]);
    let file = |name: &str| &files.iter().find(|(n, _)| n == name).unwrap().1;

    let r: Value = serde_json::from_str(file("audit.json")).unwrap();
    let f = findings(&r, "TA109");
    assert_eq!(f.len(), 1, "{f:#?}");
    // 3 prompts × 4 repeats within the 60-minute TTL.
    assert_eq!(f[0]["evidence"]["cache_hits"], 12);
    let mut got: Vec<&str> = f[0]["sample_prompts"]
        .as_array()
        .expect("sample_prompts")
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    got.sort();
    // The last user message of each repeated prompt; the 250-character one
    // cut to its first 200 characters and "…". Never the one-off question.
    let long = long_prompt();
    let cut = format!("{}…", &long[..200]);
    let mut want = vec![XSS, REFUND, cut.as_str()];
    want.sort();
    assert_eq!(got, want);
    assert_eq!(cut.chars().count(), 201);

    let html = file("audit.html");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt; How do I reset my password?"),
        "escaped excerpt missing from the HTML"
    );
    assert!(!html.to_ascii_lowercase().contains("<script"));
    assert!(!html.contains(ONE_OFF));

    let md = file("audit.md");
    assert!(md.contains("&lt;script&gt;alert(1)&lt;/script&gt; How do I reset my password?"));
    assert!(!md.contains("<script>"));

    // The ticket records carry the same excerpts.
    let t: Vec<Value> = file("findings.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let t109: Vec<&Value> = t.iter().filter(|v| v["rule"] == "TA109").collect();
    assert_eq!(t109.len(), 1);
    assert_eq!(t109[0]["sample_prompts"], f[0]["sample_prompts"]);
}

/// TA103 shows the system prompt itself: the content of the leading
/// system message, from the same borrowed `messages` JSON.
#[test]
fn the_uncached_prefix_finding_shows_the_system_prompt() {
    let env = Env::new();
    let system = "You are <b>Acme</b>'s support agent. Answer politely.";
    let mut s = String::new();
    for i in 0..6u32 {
        s += &(gw_line(
            &format!("2026-10-01T08:{i:02}:00Z"),
            "support",
            "gpt-4o",
            3000,
            100,
            json!({
                "request_id": format!("s-{i}"),
                "system_prompt_tokens": 2000,
                "messages": [
                    {"role": "system", "content": system},
                    {"role": "user", "content": format!("question number {i}")},
                ],
            }),
        ) + "\n");
    }
    env.write("calls.jsonl", s);
    env.write(
        "cfg.toml",
        "[detect]\nmin_savings = 0\n[rules.TA103]\nmin_calls = 1\nmin_tokens = 1\n",
    );
    let base = ["calls.jsonl", "--config", "cfg.toml", "--format", "json"];
    let r = env.audit(&base);
    let f = findings(&r, "TA103");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0]["evidence"]["calls"], 6);
    assert!(f[0].get("sample_prompts").is_none());

    let mut with = base.to_vec();
    with.push("--include-prompts");
    let r = env.audit(&with);
    let f = findings(&r, "TA103");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0]["sample_prompts"], json!([system]));
}

/// A store ingested without prompt text has no excerpts to show: an audit
/// of it with `--include-prompts` says so; one ingested with it shows them.
#[test]
fn a_store_without_prompt_text_says_so_when_asked_for_excerpts() {
    let env = setup();
    let run = |args: &[&str]| env.cmd().args(args).output().unwrap();
    for (store, flag) in [("bare", None), ("full", Some("--include-prompts"))] {
        let mut args = vec!["ingest", "calls.jsonl", "--store", store, "--quiet"];
        args.extend(flag);
        assert!(run(&args).status.success());
    }
    let audit = |store: &str| {
        run(&[
            "audit",
            "--store",
            store,
            "--config",
            "cfg.toml",
            "--include-prompts",
            "--out",
            &format!("{store}-out"),
            "--format",
            "json",
            "--quiet",
        ])
    };
    let bare = audit("bare");
    assert!(bare.status.success());
    let err = String::from_utf8_lossy(&bare.stderr);
    assert!(
        err.contains("warning: --include-prompts: the store bare holds no prompt text"),
        "{err}"
    );
    let full = audit("full");
    assert!(full.status.success());
    assert!(
        !String::from_utf8_lossy(&full.stderr).contains("holds no prompt text"),
        "{}",
        String::from_utf8_lossy(&full.stderr)
    );
    let r: Value =
        serde_json::from_str(&std::fs::read_to_string(env.path("full-out/audit.json")).unwrap())
            .unwrap();
    assert!(!findings(&r, "TA109")[0]["sample_prompts"]
        .as_array()
        .unwrap()
        .is_empty());
}

/// Prompt and answer text in attributes and metadata keys outside the
/// namespaces readers skip (the AI SDK's `ai.prompt`, `ai.prompt.messages`
/// and `ai.response.text`, Langfuse's, MLflow's and Laminar's inputs; a
/// gateway's `metadata.completion`, `metadata.question`, a long value) is
/// in no output; labels (`service.name`, `prompt_version`) still are tags.
#[test]
fn prompt_text_in_attributes_and_metadata_stays_out_of_every_output() {
    let env = Env::new();
    let span = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/privacy/ai-sdk-span.jsonl"
    ))
    .unwrap();
    env.write("spans.jsonl", span);
    let meta = json!({"metadata": {"completion": "SECRET reply", "question": "SECRET q",
        "long": format!("SECRET {}", "x".repeat(120)), "prompt_version": "v3", "env": "prod",
        "user_msg": "SECRET hi", "is_streaming_response": true, "message_count": 3}});
    env.write(
        "gateway.jsonl",
        gw_line(
            "2026-10-01T10:00:00Z",
            "chat",
            "gpt-4o-mini",
            1000,
            200,
            meta,
        ) + "\n",
    );
    env.cmd()
        .args([
            "audit",
            "spans.jsonl",
            "gateway.jsonl",
            "--format",
            "md,json,csv,html,focus",
        ])
        .args(["--out", "out", "--quiet"])
        .assert()
        .success();
    let report = env.report();
    let mut tags: Vec<&str> = report["audit"]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["key"].as_str().unwrap())
        .collect();
    tags.sort();
    assert_eq!(
        tags,
        [
            "ai.model.id=gpt-4o-mini",
            "ai.model.provider=openai.chat",
            "ai.operationId=ai.generateText.doGenerate",
            "env=prod",
            "is_streaming_response=true",
            "message_count=3",
            "operation.name=ai.generateText.doGenerate",
            "prompt_version=v3",
            "service.name=web",
        ]
    );
    for entry in std::fs::read_dir(env.path("out")).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        assert!(
            !bytes.windows(6).any(|w| w == b"SECRET"),
            "{} holds prompt text",
            path.display()
        );
    }
}

/// A baseline written under `--include-prompts` holds excerpts: a later
/// run without the flag whose finding is resolved, or whose rule is off,
/// carries none on, in its JSON lines or its GitHub issues (hunt163: the
/// baseline's record was copied whole, excerpts and all).
#[test]
fn a_baseline_with_excerpts_gives_none_to_a_run_without_the_flag() {
    let env = setup();
    let base = env.ok(&[
        "findings",
        "calls.jsonl",
        "--config",
        "cfg.toml",
        "--include-prompts",
        "-q",
    ]);
    assert!(base.contains(REFUND), "{base}");
    env.write("base.jsonl", &base);
    env.write("other.jsonl", call(50, "other", ONE_OFF));
    let resolved = env
        .cmd()
        .args([
            "findings",
            "other.jsonl",
            "--config",
            "cfg.toml",
            "--baseline",
            "base.jsonl",
            "-q",
        ])
        .output()
        .unwrap();
    let resolved = String::from_utf8_lossy(&resolved.stdout).into_owned();
    assert!(resolved.contains("\"resolved\""), "{resolved}");
    env.write(
        "off.toml",
        "[detect]\nmin_savings = 0\n[rules.TA109]\nenabled = false\n",
    );
    let off = env
        .cmd()
        .args([
            "findings",
            "calls.jsonl",
            "--config",
            "off.toml",
            "--baseline",
            "base.jsonl",
            "--format",
            "github",
            "-q",
        ])
        .output()
        .unwrap();
    let off = String::from_utf8_lossy(&off.stdout).into_owned();
    assert!(off.contains("TA109"), "{off}");
    for out in [&resolved, &off] {
        for q in [XSS, REFUND, "Explain our SLA"] {
            assert!(!out.contains(q), "{q}: {out}");
        }
        assert!(!out.contains("Sample prompts"), "{out}");
    }
}
