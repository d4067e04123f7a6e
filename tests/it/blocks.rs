//! `tokledger report blocks`: 5-hour windows over the fixtures (Claude: 22222222 at
//! 2026-03-01T15:00Z, 300 tokens; 11111111 09:00:01–09:32Z on 2026-03-02, 5,554 tokens) and
//! over a session written minutes ago (the active block).

use serde_json::{Value, json};

use crate::common::*;

const LIVE: &str = "bbbbbbbb-0000-4000-8000-000000000001";

fn at(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .expect("time")
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

fn response(id: &str, ts_ms: i64, input: i64, output: i64) -> String {
    json!({"type": "assistant", "sessionId": LIVE, "timestamp": at(ts_ms), "requestId": format!("req_{id}"),
        "cwd": "/home/dev/live",
        "message": {"id": format!("msg_{id}"), "model": "claude-sonnet-4-5-20250929", "content": [],
            "usage": {"input_tokens": input, "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0, "output_tokens": output}}})
    .to_string()
        + "\n"
}

#[test]
fn report_blocks_of_the_fixtures() {
    let env = TestEnv::with_fixtures();
    let out = env.run(&["report", "blocks", "--tz", "UTC"]);
    insta::assert_snapshot!("report_blocks_table", ok_stdout(&out));
    let v = env.json(&["report", "blocks", "--json"]);
    let rows: Vec<(&str, &str, i64, i64, bool)> = v["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|b| {
            (
                b["start"].as_str().expect("start"),
                b["end"].as_str().expect("end"),
                b["responses"].as_i64().expect("n"),
                b["total_tokens"].as_i64().expect("tokens"),
                b["active"].as_bool().expect("active"),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (
                "2026-03-01T15:00:00.000Z",
                "2026-03-01T20:00:00.000Z",
                1,
                300,
                false
            ),
            (
                "2026-03-02T09:00:00.000Z",
                "2026-03-02T14:00:00.000Z",
                5,
                5_554,
                false
            ),
        ]
    );
    // 5,554 tokens over 09:00:01–09:32:00 (31 min 59 s).
    let rate = v["rows"][1]["burn_rate"]["tokens_per_minute"]
        .as_f64()
        .expect("rate");
    assert!((rate - 5_554.0 / (1_919.0 / 60.0)).abs() < 1e-9, "{rate}");
    assert_eq!(v["rows"][0]["burn_rate"], Value::Null, "one response");
    assert_eq!(v["rows"][1]["projection"], Value::Null, "not active");
    assert_eq!(v["totals"]["total_tokens"], 5_854);
    assert_eq!(v["totals"]["blocks"], 2);
    // Codex has its own windows; --active finds none in old fixtures.
    let codex = env.json(&["report", "blocks", "--tool", "codex", "--json"]);
    assert_eq!(codex["totals"]["total_tokens"], 750 + 4_750);
    let active = env.json(&["report", "blocks", "--active", "--json"]);
    assert_eq!(active["rows"], json!([]));
}

#[test]
fn the_active_block_has_a_burn_rate_and_a_projection() {
    let env = TestEnv::empty();
    let dir = env.home().join(".claude/projects/-home-dev-live");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let now = chrono::Utc::now().timestamp_millis();
    // Whole seconds 30 and 10 minutes ago: 4,000 tokens over 20 minutes, 200 a minute.
    let first = (now - 30 * 60_000) / 1000 * 1000;
    let last = first + 20 * 60_000;
    std::fs::write(
        dir.join(format!("{LIVE}.jsonl")),
        response("a", first, 1_000, 0) + &response("b", last, 2_000, 1_000),
    )
    .expect("write");
    let v = env.json(&["report", "blocks", "--active", "--json"]);
    let rows = v["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 1, "{v}");
    let b = &rows[0];
    assert_eq!(b["active"], true);
    assert_eq!(b["start"], at(first / 3_600_000 * 3_600_000));
    assert_eq!(b["total_tokens"], 4_000);
    assert_eq!(b["burn_rate"]["tokens_per_minute"], 200.0);
    // $0.003 + $0.006 + $0.015 over 20 minutes: $0.072 an hour.
    let usd_h = b["burn_rate"]["cost_usd_per_hour"].as_f64().expect("usd/h");
    assert!((usd_h - 0.072).abs() < 1e-12, "{usd_h}");
    let end_ms = chrono::DateTime::parse_from_rfc3339(b["end"].as_str().expect("end"))
        .expect("rfc3339")
        .timestamp_millis();
    let p = &b["projection"];
    let left = p["remaining_minutes"].as_i64().expect("minutes");
    let left_now = (end_ms - chrono::Utc::now().timestamp_millis()) as f64 / 60_000.0;
    assert!(
        (left as f64 - left_now).abs() <= 1.0,
        "{left} vs {left_now}"
    );
    // The projection is the tokens so far plus 200 a minute until the end.
    let projected = p["total_tokens"].as_i64().expect("projected");
    assert!(
        (projected - (4_000 + 200 * left)).abs() <= 200,
        "{projected}"
    );
    let table = ok_stdout(&env.run(&["report", "blocks", "--active", "--tz", "UTC"]));
    assert!(
        table.contains("burn rate 200 tokens/min, $0.07/h"),
        "{table}"
    );
}
