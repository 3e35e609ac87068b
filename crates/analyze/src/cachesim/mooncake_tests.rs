//! The prompt-cache replay on a real trace: one hour of Moonshot AI's Kimi
//! conversation traffic (the Mooncake trace, committed whole under
//! `tests/fixtures/real/mooncake-conversation-2025/` with its license).
//! Its `hash_ids` are the hashes of each prompt's 512-token blocks.
//!
//! The figures were computed independently of this code (a 20-line Python
//! replay of the same rules over the same file) and agree with it.

use serde::Deserialize;

use super::policy::policy;
use super::replay::{replay_chains, ChainReplay, ChainRequest};

#[derive(Deserialize)]
struct Row {
    timestamp: i64,
    input_length: u64,
    hash_ids: Vec<u64>,
}

fn trace() -> Vec<Row> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/real/mooncake-conversation-2025/conversation_trace.jsonl"
    );
    let text = std::fs::read_to_string(path).expect("the Mooncake fixture is committed");
    text.lines()
        .map(|l| serde_json::from_str(l).expect("a trace row"))
        .collect()
}

fn run(rows: &[Row], idle_ms: Option<i64>, openai: bool) -> ChainReplay {
    let p = policy("openai", "gpt-4o").expect("openai policy");
    replay_chains(
        rows.iter().map(|r| ChainRequest {
            millis: r.timestamp,
            input: r.input_length,
            chain: &r.hash_ids,
        }),
        512,
        idle_ms,
        openai.then_some(&p),
    )
}

#[test]
fn finite_lifetimes_stay_under_the_infinite_cache_bound() {
    let rows = trace();
    assert_eq!(rows.len(), 12_031);
    assert!(rows.windows(2).all(|w| w[0].timestamp <= w[1].timestamp));

    // A cache that never forgets finds 105,710 of 288,500 blocks: 36.6%.
    let forever = run(&rows, None, false);
    assert_eq!((forever.hit_blocks, forever.blocks), (105_710, 288_500));
    assert_eq!(
        (forever.hit_blocks as f64 / forever.blocks as f64 * 1000.0).round(),
        366.0
    );
    assert_eq!(forever.input_tokens, 144_793_823);
    assert_eq!(forever.cached_tokens, 54_098_411);

    // One hour after last use: the trace lasts an hour, so nothing expires.
    let hour = run(&rows, Some(3_600_000), false);
    assert_eq!(hour.hit_blocks, forever.hit_blocks);

    // Five minutes after last use: 83,010 blocks (28.8%), under the bound.
    let five = run(&rows, Some(300_000), false);
    assert_eq!(five.hit_blocks, 83_010);
    assert!(five.hit_blocks < forever.hit_blocks);

    // OpenAI's rules on top (nothing under 1,024 tokens, 128-token steps):
    // 38,172,032 of 144,793,823 input tokens cached (26.4%), against
    // 42,480,677 for every hit block and 54,098,411 with no expiry.
    let openai = run(&rows, Some(300_000), true);
    assert_eq!(openai.cached_tokens, 38_172_032);
    assert_eq!(five.cached_tokens, 42_480_677);
    assert!(openai.cached_tokens < five.cached_tokens);
    assert_eq!(run(&rows, None, true).cached_tokens, 50_291_328);
}
