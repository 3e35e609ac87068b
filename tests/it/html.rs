//! The HTML report: every chart is on the sample report, log-derived text is
//! escaped everywhere (SVG labels included), nothing loads from elsewhere,
//! and the bytes are the same on every run. The page is also opened in
//! headless Chromium (Debian's `chromium`) and checked as rendered.

use std::path::Path;

use serde_json::json;

use crate::util::{gw_line, missing_tool, Env};

/// The charts the report draws: (figure id, title).
const CHARTS: [(&str, &str); 7] = [
    ("chart-waterfall", "Savings waterfall"),
    ("chart-daily", "Daily spend by model"),
    ("chart-feature", "Spend by feature"),
    ("chart-pareto", "Pareto curve of spend"),
    ("chart-models", "Model mix"),
    ("chart-cache", "Cache hit rate over time"),
    ("chart-routes", "Tokens by route"),
];

/// Runs the audit of the sample logs from the repo root into `out` and
/// returns audit.html.
fn sample_html(env: &Env, out: &Path, threads: &str) -> String {
    let status = env
        .sample_audit()
        .args([
            "--format",
            "html,json",
            "--threads",
            threads,
            "--quiet",
            "--out",
        ])
        .arg(out)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    std::fs::read_to_string(out.join("audit.html")).unwrap()
}

/// Every tag name in the page, lowercased (`!doctype` and closing tags too).
fn tag_names(html: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let name: String = rest
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '>')
            .collect();
        names.push(name.trim_start_matches('/').to_ascii_lowercase());
    }
    names
}

/// The tags the report writes (HTML, and the SVG that plotters draws). A
/// log field that became markup would add another.
const ALLOWED_TAGS: &[&str] = &[
    "!doctype",
    "html",
    "head",
    "meta",
    "title",
    "style",
    "body",
    "main",
    "header",
    "nav",
    "section",
    "article",
    "footer",
    "h1",
    "h2",
    "h3",
    "p",
    "a",
    "div",
    "span",
    "em",
    "strong",
    "code",
    "i",
    "ul",
    "li",
    "dl",
    "dt",
    "dd",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "figure",
    "figcaption",
    "svg",
    "rect",
    "text",
    "polyline",
    "polygon",
    "circle",
    "line",
    "path",
];

/// Nothing on the page can load a resource: no URL, no element or CSS that
/// fetches, in-page links only, and only the tags the writer uses (escaped
/// log text holds no `"` or `<`, so an attribute or tag in it would show).
fn assert_loads_nothing(html: &str) {
    let lower = html.to_ascii_lowercase();
    for bad in [
        "http://",
        "https://",
        "<script",
        "<link",
        "<img",
        "<iframe",
        "<object",
        "<embed",
        "url(",
        "@import",
        "src=\"",
        "src='",
        "xlink:href",
    ] {
        assert!(!lower.contains(bad), "the report contains {bad:?}");
    }
    // In-page anchors only.
    for (i, _) in lower.match_indices("href=\"") {
        assert_eq!(
            &lower[i + 6..i + 7],
            "#",
            "a link leaves the page: {}",
            &html[i..(i + 60).min(html.len())]
        );
    }
    for name in tag_names(html) {
        assert!(
            ALLOWED_TAGS.contains(&name.as_str()),
            "unexpected tag <{name}>"
        );
    }
}

#[test]
fn sample_report_has_every_chart_and_section() {
    let env = Env::new();
    let out = env.path("out");
    let html = sample_html(&env, &out, "2");
    assert_eq!(html.matches("<svg").count(), CHARTS.len());
    // The Pareto note gives what its groups make, as TA101 does (hunt93:
    // "make 80%" beside TA101's 85% of the same five groups).
    assert!(
        html.contains("5 of 13 feature × model groups make 85% of spend"),
        "{html}"
    );
    for (id, title) in CHARTS {
        assert!(
            html.contains(&format!("<figure class=\"chart\" id=\"{id}\">")),
            "no figure {id}"
        );
        assert!(
            html.contains(&format!("<title id=\"{id}-t\">{title}</title>")),
            "chart {id} has no title {title:?}"
        );
    }
    for section in [
        "summary",
        "savings",
        "spend",
        "tables",
        "findings",
        "data-quality",
    ] {
        assert!(html.contains(&format!("id=\"{section}\"")), "no {section}");
    }
    for heading in [
        "Total spend",
        "Cost per request",
        "Cost per successful call",
        "Features",
        "Models",
        "Users",
        "Most expensive calls",
        "Rejected lines",
        "Missing fields",
        "Models not in the price catalog",
    ] {
        assert!(html.contains(heading), "no {heading:?}");
    }
    // Figures from the JSON report of the same run appear on the page.
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("audit.json")).unwrap()).unwrap();
    let a = &report["audit"];
    for f in a["findings"].as_array().unwrap() {
        let fp = f["fingerprint"].as_str().unwrap();
        assert!(html.contains(&format!("id=\"f-{fp}\"")), "finding {fp}");
    }
    assert!(!a["findings"].as_array().unwrap().is_empty());
    // Rejected lines at their file and line, and the unknown model.
    for s in a["input"]["rejected_samples"].as_array().unwrap() {
        let at = format!("{}:{}", s["file"].as_str().unwrap(), s["line"]);
        assert!(html.contains(&at), "no rejected line {at}");
    }
    assert!(html.contains("acme-llm-7b"));
    // The most expensive call is listed with its request id.
    let top = &a["most_expensive_calls"][0];
    assert!(html.contains(top["request_id"].as_str().unwrap()));
    // Money on chart axes is in dollars.
    assert!(html.contains(">\n$0\n</text>"));
    assert_loads_nothing(&html);
}

#[test]
fn the_report_is_the_same_bytes_on_every_run() {
    let env = Env::new();
    let one = sample_html(&env, &env.path("one"), "1");
    let two = sample_html(&env, &env.path("two"), "2");
    assert!(one == two, "audit.html differs between runs");
}

const HOSTILE_FEATURE: &str = "<script>alert(1)</script>";
const HOSTILE_MODEL: &str = "<img src=x onerror=alert(2)>";
const HOSTILE_USER: &str = "\"><svg onload=alert(3)>";
const HOSTILE_ROUTE: &str = "</text><script>alert(4)</script>";

/// Logs over three days where every log-derived field that reaches the
/// page is hostile, plus one bad line (a rejected sample with its file).
fn hostile_env() -> (Env, String) {
    let env = Env::new();
    let mut logs = String::new();
    for day in 1..=3 {
        for i in 0..4 {
            let ts = format!("2026-10-0{day}T1{i}:00:00Z");
            logs.push_str(&gw_line(
                &ts,
                HOSTILE_FEATURE,
                "gpt-4o",
                1000 * (i + 1),
                200,
                json!({"user": HOSTILE_USER, "route": HOSTILE_ROUTE,
                       "request_id": format!("<b>r{day}{i}</b>")}),
            ));
            logs.push('\n');
            logs.push_str(&gw_line(
                &ts,
                "plain",
                HOSTILE_MODEL,
                500,
                50,
                json!({"user": "u1", "route": "/v1/chat"}),
            ));
            logs.push('\n');
        }
    }
    logs.push_str("{\"timestamp\": \"<script>\n");
    let name = "logs <i>x</i>.jsonl";
    env.write(name, logs);
    // A daily budget the hostile feature overruns, so a finding's title and
    // evidence carry its name.
    env.write(
        "cfg.toml",
        format!(
            "[detect]\nmin_savings = 0\n[[budget]]\nfeature = {}\ndaily = 0.001\n",
            serde_json::to_string(HOSTILE_FEATURE).unwrap()
        ),
    );
    (env, name.to_string())
}

#[test]
fn log_text_is_escaped_everywhere_including_chart_labels() {
    let (env, name) = hostile_env();
    let out = env
        .cmd()
        .args(["audit", &name, "--config", "cfg.toml", "--quiet"])
        .args(["--format", "html,json", "--out", "out"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(env.path("out/audit.html")).unwrap();
    let report = env.report();
    // The fixture did reach every part of the page it is meant to test.
    assert_eq!(report["audit"]["input"]["rejected"], 1);
    assert!(report["audit"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["title"].as_str().unwrap().contains(HOSTILE_FEATURE)));

    let lower = html.to_ascii_lowercase();
    assert!(!lower.contains("<script"), "a <script> tag got through");
    assert!(!lower.contains("<img"));
    assert!(!lower.contains("<svg onload"));
    assert!(!lower.contains("<b>r"));
    assert!(!lower.contains("<i>x"));
    assert_loads_nothing(&html);

    let feature = "&lt;script&gt;alert(1)&lt;/script&gt;";
    assert!(html.contains(feature));
    assert!(html.contains("&lt;img src=x onerror=alert(2)&gt;"));
    assert!(html.contains("&quot;&gt;&lt;svg onload=alert(3)&gt;"));
    assert!(html.contains("&lt;b&gt;r11&lt;/b&gt;"));
    assert!(html.contains("logs &lt;i&gt;x&lt;/i&gt;.jsonl"));
    // Inside the charts too: the feature bar's label and the route's.
    let chart = |id: &str| {
        let start = html
            .find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("no {id}"));
        let end = start + html[start..].find("</figure>").unwrap();
        html[start..end].to_string()
    };
    assert!(chart("chart-feature").contains(&format!(">\n{feature}\n</text>")));
    assert!(chart("chart-routes").contains("&lt;/text&gt;&lt;script&gt;alert(4)&lt;/script&gt;"));
    // The hostile model is unknown: listed under data quality, as text.
    assert!(html.contains("<td>&lt;img src=x onerror=alert(2)&gt;</td>"));
}

/// Opens the sample report in headless Chromium: the page renders with
/// every chart, and the DOM holds no script element.
#[test]
fn chromium_renders_the_sample_report() {
    let found =
        ["chromium", "chromium-browser"].into_iter().find_map(
            |c| match std::process::Command::new(c).arg("--version").output() {
                Ok(o) if o.status.success() => Some(Ok(c)),
                Ok(o) => Some(Err(format!("{c} --version: {}", o.status))),
                Err(_) => None,
            },
        );
    let chromium = match found {
        Some(Ok(c)) => c,
        Some(Err(e)) => missing_tool("chromium", e, "apt-get install chromium"),
        None => missing_tool(
            "chromium",
            "neither chromium nor chromium-browser is on PATH",
            "apt-get install chromium",
        ),
    };
    let env = Env::new();
    let out = env.path("out");
    sample_html(&env, &out, "2");
    let page = format!("file://{}", out.join("audit.html").display());
    let headless = |extra: &[&str]| {
        std::process::Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--hide-scrollbars",
            ])
            .arg(format!(
                "--user-data-dir={}",
                env.path("chromium-profile").display()
            ))
            .args(extra)
            .arg(&page)
            .output()
            .unwrap()
    };
    let dom = headless(&["--dump-dom"]);
    assert!(
        dom.status.success(),
        "{}",
        String::from_utf8_lossy(&dom.stderr)
    );
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert_eq!(dom.matches("<svg").count(), CHARTS.len(), "{dom}");
    for (id, _) in CHARTS {
        assert!(dom.contains(&format!("id=\"{id}\"")), "{id} not rendered");
    }
    assert!(!dom.to_ascii_lowercase().contains("<script"));
    let shot = env.path("shot.png");
    let out = headless(&[
        "--window-size=1280,2000",
        &format!("--screenshot={}", shot.display()),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG") && png.len() > 20_000);
}

/// A logged model name that resolves (`model@anything` is Vertex's
/// spelling) under a provider that lacks it is shown in a code span in
/// audit.md's data quality: it could close the span (a backtick) or break
/// the line, and write a link, a heading and HTML after it.
#[test]
fn a_logged_name_in_a_markdown_code_span_cannot_leave_it() {
    let env = Env::new();
    let names = [
        "gpt-4o-mini@` <img src=x onerror=alert(1)> [Click](https://evil.example/) `",
        "gpt-4o-mini@x\n\n# INJECTED\n\n<script>alert(2)</script>|",
    ];
    let logs: String = names
        .iter()
        .map(|m| {
            gw_line(
                "2026-10-01T10:00:00Z",
                "f",
                m,
                1000,
                200,
                json!({"provider": "anthropic"}),
            ) + "\n"
        })
        .collect();
    env.write("calls.jsonl", logs);
    env.cmd()
        .args([
            "audit",
            "calls.jsonl",
            "--format",
            "md",
            "--out",
            "out",
            "--quiet",
        ])
        .assert()
        .success();
    let md = std::fs::read_to_string(env.path("out/audit.md")).unwrap();
    // Each name in a span fenced by two backticks, on its own line.
    assert!(
        md.contains("- `` gpt-4o-mini@` <img src=x onerror=alert(1)> [Click](https://evil.example/) ` `` (anthropic) → `openai/gpt-4o-mini`: 1 call"),
        "{md}"
    );
    assert!(
        md.contains("- `gpt-4o-mini@x  # INJECTED  <script>alert(2)</script>\\|` (anthropic)"),
        "{md}"
    );
    assert!(!md.contains("\n# INJECTED"));
}

/// hunt50: spend under a cent, all of it on failed calls, was "$0.0013"
/// in all and "$0.00 (100.0%)" on failed calls. The failed spend is shown
/// as precisely as the total, in the Markdown figure and the HTML card.
#[test]
fn failed_spend_is_as_precise_as_the_total() {
    let env = Env::new();
    env.write(
        "calls.jsonl",
        gw_line(
            "2026-10-05T10:00:02Z",
            "f1",
            "gpt-4o",
            500,
            0,
            json!({"status": "error", "http_status": 400}),
        ) + "\n",
    );
    env.audit(&["calls.jsonl", "--format", "md,json,html"]);
    let md = std::fs::read_to_string(env.path("out/audit.md")).unwrap();
    // 500 × $2.50/M = $0.00125.
    assert!(md.contains("| Total spend | **$0.0013** |"), "{md}");
    assert!(
        md.contains("| Spend on failed calls | $0.0013 (100.0%) |"),
        "{md}"
    );
    let html = std::fs::read_to_string(env.path("out/audit.html")).unwrap();
    assert!(
        html.contains(
            r#"<div class="label">Spend on failed calls</div><div class="value">$0.0013</div>"#
        ),
        "{html}"
    );
}

/// hunt61: the page's average day was the total (undated calls included)
/// over the days with calls, above its busiest day; and it did not say, as
/// audit.md does, that some calls have no time.
#[test]
fn the_average_day_is_of_the_days_and_the_dated_calls() {
    let env = Env::new();
    let call = |ts: Option<&str>, input: u64| {
        let mut v = json!({"model": "gpt-4o", "feature": "chat",
            "usage": {"prompt_tokens": input, "completion_tokens": 0}});
        if let Some(ts) = ts {
            v["timestamp"] = json!(ts);
        }
        format!("{v}\n")
    };
    // gpt-4o input at $2.50 a million: $2.50 on Oct 1, $1.00 on Oct 3,
    // $5.00 with no time.
    env.write(
        "calls.jsonl",
        call(Some("2026-10-01T10:00:00Z"), 1_000_000)
            + &call(Some("2026-10-03T10:00:00Z"), 400_000)
            + &call(None, 2_000_000),
    );
    let out = env
        .cmd()
        .args([
            "audit",
            "calls.jsonl",
            "--out",
            "out",
            "--format",
            "html,md",
            "--quiet",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let html = std::fs::read_to_string(env.path("out/audit.html")).unwrap();
    // ($2.50 + $1.00) over Oct 1 to 3.
    assert!(
        html.contains("Busiest day: 2026-10-01 with $2.50; the average of the 3 days from the first call to the last cost $1.17."),
        "{html}"
    );
    for text in [
        std::fs::read_to_string(env.path("out/audit.md")).unwrap(),
        html,
    ] {
        assert!(text.contains("1 call (33.3%) has no time"), "{text}");
    }
}

/// hunt61: invisible characters in a log's names (a zero-width space, a
/// right-to-left override) made two features look the same, or one read as
/// another, in every report; they are shown as text, as control characters
/// are.
#[test]
fn invisible_characters_in_names_are_shown() {
    let env = Env::new();
    let spoofs = ["support\u{200b}-chat", "\u{202e}weiver-tcartnoc"];
    let lines: String = spoofs
        .iter()
        .chain(&["support-chat"])
        .map(|f| gw_line("2026-10-01T10:00:00Z", f, "gpt-4o", 1000, 10, json!({})) + "\n")
        .collect();
    env.write("calls.jsonl", lines);
    let out = env
        .cmd()
        .args([
            "audit",
            "calls.jsonl",
            "--out",
            "out",
            "--format",
            "html,md",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let terminal = String::from_utf8(out.stdout).unwrap();
    for (name, text) in [
        (
            "md",
            std::fs::read_to_string(env.path("out/audit.md")).unwrap(),
        ),
        (
            "html",
            std::fs::read_to_string(env.path("out/audit.html")).unwrap(),
        ),
        ("terminal", terminal),
    ] {
        assert!(
            !text.contains('\u{200b}') && !text.contains('\u{202e}'),
            "{name}"
        );
        assert!(text.contains("\\u{200b}"), "{name}: {text}");
    }
}

/// The page's navigation links only to its sections (hunt87: "Savings"
/// led nowhere in a month without savings), and a review's changes have a
/// link.
#[test]
fn the_navigation_links_only_to_sections_on_the_page() {
    let env = Env::new();
    let mut log = String::new();
    for (day, month) in [(5, 9), (5, 10)] {
        log += &(crate::util::gw_line(
            &format!("2026-{month:02}-{day:02}T10:00:00Z"),
            "chat",
            "gpt-4o",
            1000,
            100,
            serde_json::json!({}),
        ) + "\n");
    }
    env.write("calls.jsonl", log);
    env.cmd()
        .args([
            "review",
            "--month",
            "2026-10",
            "calls.jsonl",
            "--out",
            "out",
            "--quiet",
        ])
        .assert()
        .success();
    let html = std::fs::read_to_string(env.path("out/audit.html")).unwrap();
    let nav = &html[html.find("<nav").unwrap()..html.find("</nav>").unwrap()];
    for id in ["summary", "month-over-month", "data-quality"] {
        assert!(nav.contains(&format!("href=\"#{id}\"")), "{nav}");
        assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
    }
    assert!(!nav.contains("href=\"#savings\""), "{nav}");
    assert!(!html.contains("id=\"savings\""));
}

/// A run whose only finding is under the floor: the page says so, as the
/// Markdown does, not "No waste found." (hunt89).
#[test]
fn a_finding_under_the_floor_is_not_no_waste_on_the_page() {
    let env = Env::new();
    // The TA102 fixture of the rules' tests, floor set above its saving.
    let mut log = String::new();
    for k in 0..6u32 {
        for t in 1..=10u64 {
            log += &(gw_line(
                &format!("2025-03-01T{:02}:{:02}:00Z", k, t),
                "support-chat",
                "gpt-4o",
                1_000 * t,
                0,
                json!({"session_id": format!("S{k}"), "turn": t}),
            ) + "\n");
        }
    }
    env.write("calls.jsonl", log);
    env.write("cfg.toml", "[detect]\nmin_savings = 1000\n");
    let r = env.audit(&["calls.jsonl", "--config", "cfg.toml"]);
    assert!(r["audit"]["findings_below_min_savings"].as_u64().unwrap() >= 1);
    let html = std::fs::read_to_string(env.path("out/audit.html")).unwrap();
    assert!(!html.contains("No waste found."));
    assert!(html.contains("No finding saves the threshold"), "{html}");
}
