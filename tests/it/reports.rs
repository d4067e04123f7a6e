//! `tokledger report …` over the fixtures (exact numbers from scripts/make_fixtures.py) and
//! over small transcripts written here around local midnights.
//!
//! Fixture usage by time (UTC): Codex 44444444 2026-02-20T08:00:09Z 750 (gpt-5); Claude
//! 22222222 2026-03-01T15:00Z 300 (opus); on 2026-03-02: Claude 11111111 09:00–09:33Z 5554,
//! Codex 33333333 10:00–10:22Z 4750 (gpt-5-codex 1100, gpt-5 3650), Amp T-5555 5594 and
//! T-6666 5274 at 10:00Z. All: 22222.

use crate::common::*;
use serde_json::{Value, json};

fn report(env: &TestEnv, args: &[&str]) -> Value {
    let mut a = vec!["report"];
    a.extend_from_slice(args);
    a.push("--json");
    env.json(&a)
}

/// `(period, total_tokens)` of each row.
fn periods(v: &Value) -> Vec<(String, i64)> {
    v["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            (
                r["period"].as_str().expect("period").to_owned(),
                r["total_tokens"].as_i64().expect("total"),
            )
        })
        .collect()
}

fn p(rows: &[(&str, i64)]) -> Vec<(String, i64)> {
    rows.iter().map(|(d, n)| ((*d).to_owned(), *n)).collect()
}

fn total(v: &Value) -> i64 {
    v["totals"]["total_tokens"].as_i64().expect("totals")
}

/// One Claude response line; `ts: None` writes a line without a time.
fn claude_line(session: &str, id: &str, ts: Option<&str>, input: i64, output: i64) -> String {
    let ts = ts
        .map(|t| format!(r#""timestamp":"{t}","#))
        .unwrap_or_default();
    format!(
        r#"{{"type":"assistant","sessionId":"{session}",{ts}"requestId":"req_{id}","cwd":"/home/dev/tz","message":{{"id":"msg_{id}","model":"claude-sonnet-4-5-20250929","content":[],"usage":{{"input_tokens":{input},"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":{output}}}}}}}"#
    )
}

fn write_claude_session(env: &TestEnv, session: &str, lines: &[String]) {
    let dir = env.home().join(".claude/projects/-home-dev-tz");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::write(dir.join(format!("{session}.jsonl")), text).expect("write session");
}

const TZ_SESSION: &str = "99999999-9999-4999-8999-999999999999";

#[test]
fn daily_days_are_cut_in_the_zone_asked_for() {
    let env = TestEnv::with_fixtures();
    let utc = report(&env, &["daily", "--tz", "UTC"]);
    assert_eq!(
        periods(&utc),
        p(&[
            ("2026-02-20", 750),
            ("2026-03-01", 300),
            ("2026-03-02", 21172)
        ])
    );
    assert_eq!(total(&utc), 22222);
    assert_eq!(utc["time_zone"], "UTC");
    assert_eq!(utc["untimed"], json!({"responses": 0, "total_tokens": 0}));
    // Tokyo (+9): Claude 22222222 at 15:00Z is 00:00 on 03-02 there.
    let tokyo = report(&env, &["daily", "--tz", "Asia/Tokyo"]);
    assert_eq!(
        periods(&tokyo),
        p(&[("2026-02-20", 750), ("2026-03-02", 21472)])
    );
    assert_eq!(total(&tokyo), 22222);
    // Los Angeles (-8) and Anchorage (-9) either side of Codex 44444444 at 08:00:09Z.
    let la = report(&env, &["daily", "--tz", "America/Los_Angeles"]);
    assert_eq!(
        periods(&la),
        p(&[
            ("2026-02-20", 750),
            ("2026-03-01", 300),
            ("2026-03-02", 21172)
        ])
    );
    let anchorage = report(&env, &["daily", "--tz", "America/Anchorage"]);
    assert_eq!(
        periods(&anchorage),
        p(&[
            ("2026-02-19", 750),
            ("2026-03-01", 300),
            ("2026-03-02", 21172)
        ])
    );
    // `local` (the default) is the TZ variable.
    let out = env
        .cmd(&["report", "daily", "--json"])
        .env("TZ", "Asia/Tokyo")
        .output()
        .expect("run");
    assert!(out.status.success());
    let local: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(local["time_zone"], "Asia/Tokyo");
    assert_eq!(periods(&local), periods(&tokyo));
}

#[test]
fn midnight_in_half_and_quarter_hour_zones_and_across_a_dst_change() {
    let env = TestEnv::with_fixtures();
    let s = TZ_SESSION;
    write_claude_session(
        &env,
        s,
        &[
            // Kolkata (+5:30) starts 2026-04-11 at 18:30Z; Kathmandu (+5:45) at 18:15Z.
            claude_line(s, "k1", Some("2026-04-10T18:10:00.000Z"), 100, 0),
            claude_line(s, "k2", Some("2026-04-10T18:20:00.000Z"), 20, 0),
            claude_line(s, "k3", Some("2026-04-10T18:40:00.000Z"), 3, 0),
            // Los Angeles moves from -8 to -7 on 2026-03-08 at 10:00Z.
            claude_line(s, "d1", Some("2026-03-08T07:30:00.000Z"), 1000, 0), // 03-07 23:30 PST
            claude_line(s, "d2", Some("2026-03-08T08:30:00.000Z"), 2000, 0), // 03-08 00:30 PST
            claude_line(s, "d3", Some("2026-03-09T06:30:00.000Z"), 4000, 0), // 03-08 23:30 PDT
            claude_line(s, "d4", Some("2026-03-09T07:30:00.000Z"), 8000, 0), // 03-09 00:30 PDT
        ],
    );
    let days =
        |tz: &str, since: &str| periods(&report(&env, &["daily", "--tz", tz, "--since", since]));
    assert_eq!(
        days("Asia/Kolkata", "2026-04-01"),
        p(&[("2026-04-10", 120), ("2026-04-11", 3)])
    );
    assert_eq!(
        days("Asia/Kathmandu", "2026-04-01"),
        p(&[("2026-04-10", 100), ("2026-04-11", 23)])
    );
    assert_eq!(days("UTC", "2026-04-01"), p(&[("2026-04-10", 123)]));
    assert_eq!(
        days("America/Los_Angeles", "2026-03-05"),
        p(&[
            ("2026-03-07", 1000),
            ("2026-03-08", 6000),
            ("2026-03-09", 8000),
            ("2026-04-10", 123),
        ])
    );
    assert_eq!(
        days("UTC", "2026-03-05"),
        p(&[
            ("2026-03-08", 3000),
            ("2026-03-09", 12000),
            ("2026-04-10", 123)
        ])
    );
}

#[test]
fn weeks_and_months() {
    let env = TestEnv::with_fixtures();
    let weekly = report(&env, &["weekly", "--tz", "UTC"]);
    // 2026-02-20 is a Friday, 2026-03-01 a Sunday, 2026-03-02 a Monday.
    assert_eq!(
        periods(&weekly),
        p(&[
            ("2026-02-16", 750),
            ("2026-02-23", 300),
            ("2026-03-02", 21172)
        ])
    );
    assert_eq!(weekly["week_start"], "monday");
    let sunday = report(&env, &["weekly", "--tz", "UTC", "--week-start", "sunday"]);
    assert_eq!(
        periods(&sunday),
        p(&[("2026-02-15", 750), ("2026-03-01", 21472)])
    );
    let monthly = report(&env, &["monthly", "--tz", "UTC"]);
    assert_eq!(
        periods(&monthly),
        p(&[("2026-02", 750), ("2026-03", 21472)])
    );
    assert_eq!(total(&monthly), 22222);
}

#[test]
fn buckets_and_the_per_model_breakdown_with_costs() {
    let env = TestEnv::with_fixtures();
    let v = report(
        &env,
        &[
            "daily",
            "--tz",
            "UTC",
            "--since",
            "2026-03-02",
            "--breakdown",
        ],
    );
    let row = &v["rows"][0];
    assert_eq!(row["period"], "2026-03-02");
    let buckets: Vec<i64> = [
        "input_tokens",
        "cache_creation_tokens",
        "cache_creation_5m_tokens",
        "cache_creation_1h_tokens",
        "cache_read_tokens",
        "output_tokens",
        "reasoning_tokens",
        "total_tokens",
    ]
    .iter()
    .map(|k| row[*k].as_i64().expect(k))
    .collect();
    // 1h writes: msg_C 200 + msg_D 50; reasoning: Codex 50 + 50.
    assert_eq!(buckets, [2968, 3050, 2800, 250, 13897, 1257, 100, 21172]);
    // Each response priced on its own (docs/COST.md), per model, summed. In USD per million:
    // Sonnet 4.5 (Claude 12,299.1 + two Amp threads 12,084), Haiku 4.5 1,095, Haiku 3.5 320,
    // gpt-5-codex 1,800 (priced as gpt-5), gpt-5 6,162.5.
    assert!(
        (row["cost_usd"].as_f64().expect("cost") - 0.0337606).abs() < 1e-12,
        "{}",
        row["cost_usd"]
    );
    assert!((v["totals"]["cost_usd"].as_f64().expect("cost") - 0.0337606).abs() < 1e-12);
    let by_model: Vec<(&str, i64, &Value)> = row["breakdown"]
        .as_array()
        .expect("breakdown")
        .iter()
        .map(|m| {
            (
                m["model"].as_str().expect("model"),
                m["total_tokens"].as_i64().expect("total"),
                &m["cost_usd"],
            )
        })
        .collect();
    assert_eq!(
        by_model,
        [
            ("claude-3-5-haiku-20241022", 320, &json!(0.00032)),
            ("claude-haiku-4-5-20251001", 610, &json!(0.001095)),
            ("claude-sonnet-4-5-20250929", 15492, &json!(0.0243831)),
            ("gpt-5", 3650, &json!(0.0061625)),
            ("gpt-5-codex", 1100, &json!(0.0018)),
        ]
    );
    // Without --breakdown: the model names only.
    let plain = report(&env, &["daily", "--tz", "UTC", "--since", "2026-03-02"]);
    assert!(plain["rows"][0].get("breakdown").is_none());
    assert_eq!(plain["rows"][0]["models"].as_array().map(Vec::len), Some(5));
}

#[test]
fn session_totals_equal_sessions_list() {
    let env = TestEnv::with_fixtures();
    let v = report(&env, &["session"]);
    let listed = env.sessions();
    let rows = v["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), listed.len());
    for r in rows {
        let id = r["session_id"].as_str().expect("id");
        assert_eq!(
            r["total_tokens"], listed[id]["tokens_so_far"],
            "{id}: report session vs sessions list"
        );
        assert_eq!(r["project"], listed[id]["project"], "{id}");
        assert_eq!(r["last_timestamp"], listed[id]["last_timestamp"], "{id}");
        for k in [
            "input_tokens",
            "cache_creation_tokens",
            "cache_read_tokens",
            "output_tokens",
        ] {
            assert_eq!(r[k], listed[id][k], "{id} {k}");
        }
    }
    // Oldest activity first.
    let order: Vec<&str> = rows
        .iter()
        .map(|r| r["session_id"].as_str().expect("id"))
        .collect();
    assert_eq!(order, [CY, SB, SA, TA, TB, CX]);
    assert_eq!(total(&v), 22222);
    // One agent, one project.
    let codex = report(&env, &["session", "--tool", "codex"]);
    let ids: Vec<&str> = codex["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["session_id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, [CY, CX]);
    assert_eq!(total(&codex), 750 + 4750);
    assert_eq!(
        total(&report(&env, &["session", "--project", "/home/dev/app"])),
        22222 - 300 - 750
    );
    assert_eq!(total(&report(&env, &["session", "--project", "lib"])), 300);
    assert_eq!(
        total(&report(&env, &["session", "--project", "/home/dev/"])),
        22222
    );
    assert_eq!(
        total(&report(&env, &["session", "--project", "/home/de"])),
        0
    );
    // Bounded: summed from the responses in range (Claude 11111111 is all before 10:00Z).
    let late = report(&env, &["session", "--since", "2026-03-02T10:00:00Z"]);
    let got: Vec<(&str, i64)> = late["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            (
                r["session_id"].as_str().expect("id"),
                r["total_tokens"].as_i64().expect("n"),
            )
        })
        .collect();
    assert_eq!(got, [(TA, 5594), (TB, 5274), (CX, 4750)]);
}

#[test]
fn model_report() {
    let env = TestEnv::with_fixtures();
    let v = report(&env, &["model"]);
    let got: Vec<(&str, i64, Value)> = v["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            (
                r["model"].as_str().expect("model"),
                r["total_tokens"].as_i64().expect("n"),
                r["tools"].clone(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "claude-sonnet-4-5-20250929",
                15492,
                json!(["amp", "claude"])
            ),
            ("gpt-5", 4400, json!(["codex"])),
            ("gpt-5-codex", 1100, json!(["codex"])),
            ("claude-haiku-4-5-20251001", 610, json!(["claude"])),
            ("claude-3-5-haiku-20241022", 320, json!(["amp"])),
            ("claude-opus-4-1-20250805", 300, json!(["claude"])),
        ]
    );
    assert_eq!(total(&v), 22222);
    let opus = v["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["model"] == "claude-opus-4-1-20250805")
        .expect("opus");
    // 100 input at $15 and 200 output at $75 per million.
    assert_eq!(opus["cost_usd"], json!(0.0165));
}

#[test]
fn since_and_until() {
    let env = TestEnv::with_fixtures();
    let days = |args: &[&str]| {
        let mut a = vec!["daily", "--tz", "UTC"];
        a.extend_from_slice(args);
        periods(&report(&env, &a))
    };
    assert_eq!(
        days(&["--since", "2026-03-02"]),
        p(&[("2026-03-02", 21172)])
    );
    assert_eq!(
        days(&["--since", "2026-03-01", "--until", "2026-03-01"]),
        p(&[("2026-03-01", 300)])
    );
    // RFC 3339: Codex 33333333 from 10:00:05Z and both Amp threads; not Claude 11111111.
    assert_eq!(
        days(&["--since", "2026-03-02T10:00:00Z"]),
        p(&[("2026-03-02", 4750 + 5594 + 5274)])
    );
    // An RFC 3339 --until includes that instant: msg_A at 09:00:01Z is in.
    assert_eq!(
        days(&["--until", "2026-03-02T09:00:01Z"]),
        p(&[
            ("2026-02-20", 750),
            ("2026-03-01", 300),
            ("2026-03-02", 1197)
        ])
    );
    // Dates are days in --tz: Tokyo's 03-02 starts at 03-01T15:00Z, Claude 22222222's time.
    let tokyo = |args: &[&str]| {
        let mut a = vec!["daily", "--tz", "Asia/Tokyo"];
        a.extend_from_slice(args);
        periods(&report(&env, &a))
    };
    assert_eq!(
        tokyo(&["--since", "2026-03-02"]),
        p(&[("2026-03-02", 21472)])
    );
    assert_eq!(tokyo(&["--until", "2026-03-01"]), p(&[("2026-02-20", 750)]));

    for bad in [
        &["daily", "--since", "the day before"][..],
        &["daily", "--until", "2026-02-30", "--tz", "UTC"],
        &["daily", "--tz", "Mars/Olympus_Mons"],
        &["tools", "--since", "7y"],
    ] {
        let mut a = vec!["report"];
        a.extend_from_slice(bad);
        let out = env.run(&a);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{bad:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // A TZ that is no zone name is a usage error too, not days cut at a guessed hour.
    let out = env
        .cmd(&["report", "daily"])
        .env("TZ", "JST-9")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn relative_since_counts_back_from_now() {
    let env = TestEnv::empty();
    let now = chrono::Utc::now();
    let at = |h: i64| {
        (now - chrono::Duration::hours(h)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    };
    let s = TZ_SESSION;
    write_claude_session(
        &env,
        s,
        &[
            claude_line(s, "r1", Some(&at(2)), 10, 0),
            claude_line(s, "r2", Some(&at(72)), 1000, 0),
            claude_line(s, "r3", Some(&at(24 * 30)), 50_000, 0),
        ],
    );
    let t = |args: &[&str]| {
        let mut a = vec!["daily", "--tz", "UTC"];
        a.extend_from_slice(args);
        total(&report(&env, &a))
    };
    assert_eq!(t(&["--since", "24h"]), 10);
    assert_eq!(t(&["--since", "7d"]), 1010);
    assert_eq!(t(&["--since", "2w", "--until", "1d"]), 1000);
    assert_eq!(t(&["--since", "180m"]), 10);
    assert_eq!(t(&[]), 51010);
}

#[test]
fn responses_without_a_time_are_left_out_of_time_reports_only() {
    let env = TestEnv::with_fixtures();
    let s = TZ_SESSION;
    write_claude_session(
        &env,
        s,
        &[
            claude_line(s, "t1", Some("2026-03-05T12:00:00.000Z"), 10, 0),
            claude_line(s, "t2", None, 1000, 0),
        ],
    );
    let out = env.run(&["report", "daily", "--tz", "UTC", "--json"]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("1 response without a time (1000 tokens) is not in this report"),
        "{err}"
    );
    let daily: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(total(&daily), 22222 + 10);
    assert_eq!(
        daily["untimed"],
        json!({"responses": 1, "total_tokens": 1000})
    );
    let session = report(&env, &["session"]);
    let row = session["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["session_id"] == s)
        .cloned();
    assert_eq!(row.map(|r| r["total_tokens"].clone()), Some(json!(1010)));
    assert_eq!(total(&session), 22222 + 1010);
    assert_eq!(total(&report(&env, &["model"])), 22222 + 1010);
    // With a time bound, a response without a time cannot be in range.
    let bounded = report(&env, &["session", "--since", "2026-03-03", "--tz", "UTC"]);
    assert_eq!(total(&bounded), 10);
}

/// `(tool, name, calls, failures, error_rate, median_duration_ms)` of each row.
fn tool_rows(v: &Value) -> Vec<(String, String, i64, i64, Value, Value)> {
    v["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            (
                r["tool"].as_str().expect("tool").to_owned(),
                r["name"].as_str().expect("name").to_owned(),
                r["calls"].as_i64().expect("calls"),
                r["failures"].as_i64().expect("failures"),
                r["error_rate"].clone(),
                r["median_duration_ms"].clone(),
            )
        })
        .collect()
}

fn t(
    tool: &str,
    name: &str,
    calls: i64,
    failures: i64,
    rate: f64,
    median: i64,
) -> (String, String, i64, i64, Value, Value) {
    (
        tool.into(),
        name.into(),
        calls,
        failures,
        json!(rate),
        json!(median),
    )
}

#[test]
fn tool_calls_and_failures_per_agent() {
    let env = TestEnv::with_fixtures();
    let v = report(&env, &["tools"]);
    // Claude: is_error; Codex: exit codes (101 failed, 0 ok); Amp: run.status "error" in both
    // threads, which reuse one call id (each thread keeps its own call).
    assert_eq!(
        tool_rows(&v),
        [
            t("amp", "Read", 2, 2, 1.0, 4500), // 8.0 s and 1.0 s
            t("claude", "Edit", 1, 0, 0.0, 1800),
            t("claude", "Grep", 1, 0, 0.0, 1500), // the sub-agent's call
            t("claude", "Read", 1, 1, 1.0, 2500),
            t("codex", "apply_patch", 1, 0, 0.0, 100), // metadata.duration_seconds 0.1
            t("codex", "shell_command", 1, 1, 1.0, 2500), // Exit code: 101, Wall time: 2.5 s
        ]
    );
    assert_eq!(v["totals"]["calls"], 7);
    assert_eq!(v["totals"]["failures"], 4);
    assert_eq!(v["totals"]["unknown"], 0);
    assert_eq!(v["rows"][0]["durations_known"], 2);

    let codex = report(&env, &["tools", "--tool", "codex"]);
    assert_eq!(
        (
            codex["totals"]["calls"].as_i64(),
            codex["totals"]["failures"].as_i64()
        ),
        (Some(2), Some(1))
    );
    let one_thread = report(&env, &["tools", "--session", TB]);
    assert_eq!(tool_rows(&one_thread), [t("amp", "Read", 1, 1, 1.0, 1000)]);
    let reads = report(&env, &["tools", "--name", "read"]);
    assert_eq!(
        (
            reads["totals"]["calls"].as_i64(),
            reads["totals"]["failures"].as_i64()
        ),
        (Some(3), Some(3))
    );
    // From 09:30Z: Claude's three calls (09:00, 09:10) are out.
    let late = report(&env, &["tools", "--since", "2026-03-02T09:30:00Z"]);
    assert_eq!(
        (
            late["totals"]["calls"].as_i64(),
            late["totals"]["failures"].as_i64()
        ),
        (Some(4), Some(3))
    );
    assert_eq!(
        report(&env, &["tools", "--project", "app"])["totals"]["calls"],
        7
    );
    let none = report(&env, &["tools", "--project", "/home/dev/lib"]);
    assert_eq!(
        (
            none["rows"].as_array().map(Vec::len),
            none["totals"]["calls"].as_i64()
        ),
        (Some(0), Some(0))
    );

    // Each call as an event, with its session and project.
    let calls = report(&env, &["tools", "--calls"]);
    let list = calls["calls"].as_array().expect("calls");
    assert_eq!(list.len(), 7);
    assert_eq!(
        list[0],
        json!({
            "tool": "claude",
            "session_id": SA,
            "project": "/home/dev/app",
            "call_id": "toolu_A1",
            "name": "Read",
            "called_at": "2026-03-02T09:00:02.000Z",
            "result_at": "2026-03-02T09:00:04.500Z",
            "failed": true,
            "duration_ms": 2500,
            "file_path": "/home/dev/app/src/main.rs"
        })
    );
}

#[test]
fn most_read_and_edited_files() {
    let env = TestEnv::with_fixtures();
    let v = report(&env, &["files"]);
    // Relative paths (the Codex patch, Amp's Read) are taken from the session's directory.
    assert_eq!(
        v["rows"],
        json!([
            {"file_path": "/home/dev/app/src/lib.rs", "reads": 0, "edits": 2, "failures": 0, "sessions": 2,
             "tools": ["claude", "codex"], "last_at": "2026-03-02T10:00:07.000Z"},
            {"file_path": "/home/dev/app/tests/flaky.rs", "reads": 2, "edits": 0, "failures": 2, "sessions": 2,
             "tools": ["amp"], "last_at": "2026-03-02T10:00:08.000Z"},
            {"file_path": "/home/dev/app/src/main.rs", "reads": 1, "edits": 0, "failures": 1, "sessions": 1,
             "tools": ["claude"], "last_at": "2026-03-02T09:00:02.000Z"},
        ])
    );
    assert_eq!(
        v["totals"],
        json!({"files": 3, "reads": 3, "edits": 2, "failures": 3})
    );
    let top = report(&env, &["files", "--limit", "1"]);
    assert_eq!(top["rows"].as_array().map(Vec::len), Some(1));
    assert_eq!(top["totals"]["files"], 3);
}

#[test]
fn compactions_per_session() {
    let env = TestEnv::with_fixtures();
    let v = report(&env, &["compactions"]);
    let rows: Vec<(&str, i64, i64, &Value)> = v["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            (
                r["session_id"].as_str().expect("id"),
                r["compactions"].as_i64().expect("n"),
                r["auto"].as_i64().expect("auto"),
                &r["max_pre_tokens"],
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (TA, 1, 0, &Value::Null),
            (TB, 1, 0, &Value::Null),
            (SA, 1, 1, &json!(155116)),
            (CX, 1, 0, &Value::Null), // `compacted` + `context_compacted`: one
        ]
    );
    assert_eq!(v["totals"], json!({"compactions": 4, "sessions": 4}));
    assert_eq!(
        report(&env, &["compactions", "--tool", "claude"])["totals"]["compactions"],
        1
    );
}

#[test]
fn a_deleted_transcript_is_still_reported() {
    let env = TestEnv::with_fixtures();
    let daily = report(&env, &["daily", "--tz", "UTC"]);
    let tools = report(&env, &["tools"]);
    let compactions = report(&env, &["compactions"]);
    std::fs::remove_dir_all(env.home().join(".codex")).expect("rm");
    std::fs::remove_dir_all(env.home().join(".claude")).expect("rm");
    std::fs::remove_dir_all(env.home().join(".local/share/amp")).expect("rm");
    assert_eq!(report(&env, &["daily", "--tz", "UTC"]), daily);
    assert_eq!(total(&daily), 22222);
    assert_eq!(report(&env, &["tools"]), tools);
    assert_eq!(report(&env, &["compactions"]), compactions);
    assert_eq!(total(&report(&env, &["session", "--tool", "codex"])), 5500);
}

#[test]
fn reports_read_what_was_appended_first() {
    let env = TestEnv::with_fixtures();
    assert_eq!(total(&report(&env, &["daily", "--tz", "UTC"])), 22222);
    let line = claude_line(SA, "F", Some("2026-03-03T00:30:00.000Z"), 7, 11);
    let path = claude_main(&env.home());
    let mut text = std::fs::read_to_string(&path).unwrap_or_default();
    text.push_str(&line);
    text.push('\n');
    std::fs::write(&path, text).expect("append");
    let v = report(&env, &["daily", "--tz", "UTC", "--since", "2026-03-03"]);
    assert_eq!(periods(&v), p(&[("2026-03-03", 18)]));
}

#[test]
fn csv_and_plain_tables_when_piped() {
    let env = TestEnv::with_fixtures();
    let out = env.run(&["report", "daily", "--tz", "UTC", "--csv"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("utf8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[..3],
        [
            "period,input_tokens,cache_creation_tokens,cache_creation_5m_tokens,cache_creation_1h_tokens,cache_read_tokens,output_tokens,reasoning_tokens,total_tokens,cost_usd,models",
            "2026-02-20,700,0,0,0,0,50,0,750,0.001375,gpt-5",
            "2026-03-01,100,0,0,0,0,200,0,300,0.0165,claude-opus-4-1-20250805",
        ]
    );
    assert_eq!(lines.len(), 4);
    let out = env.run(&[
        "report",
        "session",
        "--csv",
        "--breakdown",
        "--tool",
        "codex",
    ]);
    let text = String::from_utf8(out.stdout).expect("utf8");
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        [
            "tool,session_id,project,first_timestamp,last_timestamp,model,input_tokens,cache_creation_tokens,cache_creation_5m_tokens,cache_creation_1h_tokens,cache_read_tokens,output_tokens,reasoning_tokens,total_tokens,cost_usd",
            &format!(
                "codex,{CY},/home/dev/old,2026-02-20T08:00:00.000Z,2026-02-20T08:00:09.000Z,gpt-5,700,0,0,0,0,50,0,750,0.001375"
            ),
            &format!(
                "codex,{CX},/home/dev/app,2026-03-02T10:00:00.000Z,2026-03-02T10:22:00.000Z,gpt-5,2000,0,0,0,1300,350,50,3650,0.0061625"
            ),
            &format!(
                "codex,{CX},/home/dev/app,2026-03-02T10:00:00.000Z,2026-03-02T10:22:00.000Z,gpt-5-codex,600,0,0,0,400,100,50,1100,0.0018"
            ),
        ]
    );
    let out = env.run(&["report", "daily", "--tz", "UTC"]);
    let text = String::from_utf8(out.stdout).expect("utf8");
    assert!(
        text.contains("2026-03-02") && text.contains("21,172") && text.contains("22,222"),
        "{text}"
    );
    assert!(
        !text.contains('│') && !text.contains('─'),
        "plain when piped:\n{text}"
    );
    let out = env.run(&["report", "tools"]);
    let text = String::from_utf8(out.stdout).expect("utf8");
    assert!(
        text.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>()
                == ["codex", "shell_command", "1", "1", "100%", "2.5s"]),
        "{text}"
    );
}

/// A ledger from before migration 0003, where the second Amp thread's call had merged into
/// the first's: after the upgrade both threads have their call again.
#[test]
fn a_version_2_ledger_gets_back_the_amp_call_it_merged() {
    let env = TestEnv::with_fixtures();
    assert_eq!(
        report(&env, &["tools", "--tool", "amp"])["totals"]["calls"],
        2
    );
    {
        let c = rusqlite::Connection::open(env.db()).expect("open ledger");
        c.execute_batch(&format!(
            "CREATE TABLE tool_calls_v2 (
                 tool TEXT NOT NULL, call_id TEXT NOT NULL, session_id TEXT NOT NULL, name TEXT,
                 called_at_ms INTEGER, result_at_ms INTEGER, failed INTEGER, duration_ms INTEGER,
                 file_path TEXT, PRIMARY KEY (tool, call_id)) STRICT, WITHOUT ROWID;
             INSERT INTO tool_calls_v2 SELECT tool, call_id, session_id, name, called_at_ms, result_at_ms,
                 failed, duration_ms, file_path FROM tool_calls WHERE NOT (tool = 'amp' AND session_id = '{TB}');
             DROP TABLE tool_calls;
             ALTER TABLE tool_calls_v2 RENAME TO tool_calls;
             CREATE INDEX tool_calls_session ON tool_calls(tool, session_id);
             UPDATE source_files SET parser_version = 1 WHERE tool = 'amp';
             DROP TABLE analysis_snapshots;
             DROP TABLE price_sources;
             DROP TABLE ledger_meta;
             ALTER TABLE usage_events DROP COLUMN price_source;
             PRAGMA user_version = 2;"
        ))
        .expect("make a version 2 ledger");
    }
    let v = report(&env, &["tools", "--tool", "amp"]);
    assert_eq!(tool_rows(&v), [t("amp", "Read", 2, 2, 1.0, 4500)]);
    let c = rusqlite::Connection::open(env.db()).expect("open ledger");
    let version: i64 = c
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("version");
    assert_eq!(version, tokledger::store::SCHEMA_VERSION);
}
