//! `backfill-usage`, synthesis totals, `export` and `validate` over the fixtures, whose
//! per-response times are known (scripts/make_fixtures.py).

use crate::common::*;
use serde_json::Value;

fn add(env: &TestEnv, args: &[&str]) -> String {
    let mut all = vec!["analysis", "add", "--status", "completed"];
    all.extend_from_slice(args);
    ok_stdout(&env.run(&all)).trim().to_owned()
}

fn show(env: &TestEnv, id: &str) -> Value {
    env.json(&["analysis", "show", "--id", id, "--json"])
}

fn backfill(env: &TestEnv, extra: &[&str]) -> Value {
    let mut all = vec!["analysis", "backfill-usage", "--json"];
    all.extend_from_slice(extra);
    env.json(&all)
}

fn ids(v: &Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .expect("array")
        .iter()
        .map(|x| x["id"].as_str().expect("id").to_owned())
        .collect()
}

/// The five rows the backfill tests use.
fn rows(env: &TestEnv) -> [String; 5] {
    [
        // A window inside Claude session A only: msg_A (1197) + msg_B (1125).
        add(
            env,
            &[
                "--source-id",
                "w1",
                "--tool",
                "claude",
                "--started-at",
                "2026-03-02T09:00:00Z",
                "--completed-at",
                "2026-03-02T09:05:00Z",
            ],
        ),
        // Pinned to the Codex thread, with a window that also covers the archived thread 4444.
        add(
            env,
            &[
                "--source-id",
                "w2",
                "--tool",
                "codex",
                "--usage-session-id",
                CX,
                "--started-at",
                "2026-02-20T00:00:00Z",
                "--completed-at",
                "2026-03-03T00:00:00Z",
            ],
        ),
        // Both Amp threads have usage in this window.
        add(
            env,
            &[
                "--source-id",
                "w3",
                "--tool",
                "amp",
                "--started-at",
                "2026-03-02T10:00:00Z",
                "--completed-at",
                "2026-03-02T10:00:30Z",
            ],
        ),
        // No window.
        add(
            env,
            &[
                "--source-id",
                "w4",
                "--tool",
                "claude",
                "--started-at",
                "2026-03-02T09:00:00Z",
            ],
        ),
        // The Claude sub-agent's response alone (09:10:01) and the edge of msg_C (09:31:00 inclusive).
        add(
            env,
            &[
                "--source-id",
                "w5",
                "--tool",
                "claude",
                "--started-at",
                "2026-03-02T09:10:00Z",
                "--completed-at",
                "2026-03-02T09:31:00Z",
            ],
        ),
    ]
}

#[test]
fn backfill_fills_windows_exactly_and_skips_what_it_cannot() {
    let env = TestEnv::with_fixtures();
    let [w1, w2, w3, w4, w5] = rows(&env);
    let v = backfill(&env, &[]);
    assert_eq!(v["dry_run"], false);
    assert_eq!(ids(&v, "updated"), [w1.clone(), w2.clone(), w5.clone()]);
    let updated: Vec<(i64, String)> = v["updated"]
        .as_array()
        .expect("arr")
        .iter()
        .map(|u| {
            (
                u["tokens_check"].as_i64().expect("n"),
                u["usage_session_id"].as_str().expect("s").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        updated,
        [
            (2322, SA.to_owned()),
            (4750, CX.to_owned()),
            (610 + 1243, SA.to_owned())
        ]
    );
    let skipped: Vec<(String, String)> = v["skipped"]
        .as_array()
        .expect("arr")
        .iter()
        .map(|s| {
            (
                s["id"].as_str().expect("id").to_owned(),
                s["reason"].as_str().expect("r").to_owned(),
            )
        })
        .collect();
    assert_eq!(skipped.len(), 2);
    assert_eq!(skipped[0].0, w3);
    assert!(
        skipped[0].1.starts_with("ambiguous: 2 amp sessions")
            && skipped[0].1.contains(TA)
            && skipped[0].1.contains(TB),
        "{}",
        skipped[0].1
    );
    assert_eq!(skipped[1].0, w4);
    assert!(skipped[1].1.starts_with("no window"), "{}", skipped[1].1);

    let r1 = show(&env, &w1);
    assert_eq!(
        (
            r1["tokens_in"].as_i64(),
            r1["tokens_out"].as_i64(),
            r1["total_tokens"].as_i64()
        ),
        (Some(10 + 1000 + 5 + 1000), Some(187 + 120), Some(2322))
    );
    assert_eq!(
        (r1["usage_mode"].as_str(), r1["usage_provider"].as_str()),
        (Some("windowed_sum"), Some("claude"))
    );
    assert!(r1["cost_usd"].as_f64().is_some(), "sonnet is priced");
    let r2 = show(&env, &w2);
    let per: Vec<(String, i64)> = r2["usage_by_model"]
        .as_array()
        .expect("arr")
        .iter()
        .map(|m| {
            (
                m["model"].as_str().expect("m").to_owned(),
                m["total_tokens"].as_i64().expect("t"),
            )
        })
        .collect();
    assert_eq!(
        per,
        [("gpt-5".to_owned(), 3650), ("gpt-5-codex".to_owned(), 1100)]
    );

    // A second run updates nothing.
    let again = backfill(&env, &[]);
    assert_eq!(again["updated"], serde_json::json!([]));
    assert_eq!(ids(&again, "skipped"), [w3, w4]);
}

#[test]
fn dry_run_writes_nothing_and_limit_caps_the_rows() {
    let env = TestEnv::with_fixtures();
    let [w1, w2, ..] = rows(&env);
    let before = env.json(&["analysis", "list", "--json"]);
    let v = backfill(&env, &["--dry-run"]);
    assert_eq!(v["dry_run"], true);
    assert_eq!(v["updated"].as_array().expect("arr").len(), 3);
    assert_eq!(
        env.json(&["analysis", "list", "--json"]),
        before,
        "no row changed"
    );
    let text = ok_stdout(&env.run(&["analysis", "backfill-usage", "--dry-run"]));
    assert!(text.starts_with("would fill 3 row(s), skipped 2"), "{text}");

    let v = backfill(&env, &["--limit", "1"]);
    assert_eq!(ids(&v, "updated"), std::slice::from_ref(&w1));
    assert!(show(&env, &w2)["tokens_check"].is_null());
    let v = backfill(&env, &["--limit", "1"]);
    assert_eq!(ids(&v, "updated"), [w2]);
}

#[test]
fn force_recomputes_rows_that_have_usage_and_since_selects_rows() {
    let env = TestEnv::with_fixtures();
    let manual = add(
        &env,
        &[
            "--source-id",
            "m",
            "--tool",
            "claude",
            "--tokens-in",
            "5",
            "--tokens-out",
            "5",
            "--started-at",
            "2026-03-02T09:00:00Z",
            "--completed-at",
            "2026-03-02T09:05:00Z",
        ],
    );
    assert_eq!(
        backfill(&env, &[])["updated"],
        serde_json::json!([]),
        "a row with usage is left alone"
    );
    let v = backfill(&env, &["--force"]);
    assert_eq!(ids(&v, "updated"), std::slice::from_ref(&manual));
    assert_eq!(show(&env, &manual)["total_tokens"], 2322);
    let old = add(
        &env,
        &[
            "--source-id",
            "old",
            "--tool",
            "codex",
            "--started-at",
            "2026-02-20T08:00:00Z",
            "--completed-at",
            "2026-02-20T09:00:00Z",
        ],
    );
    let v = backfill(&env, &["--since", "2026-03-01"]);
    assert_eq!(
        v["updated"],
        serde_json::json!([]),
        "the February row is not selected"
    );
    let v = backfill(&env, &["--until", "2026-02-20", "--tool", "codex"]);
    assert_eq!(ids(&v, "updated"), std::slice::from_ref(&old));
    assert_eq!(show(&env, &old)["tokens_check"], 750);
    for bad in [["--since", "last tuesday"], ["--until", "2026-02-30"]] {
        let mut all = vec!["analysis", "backfill-usage"];
        all.extend_from_slice(&bad);
        assert_eq!(env.run(&all).status.code(), Some(2), "{bad:?}");
    }
}

/// Two analyses and a synthesis over them (and over one of them twice, through a second
/// synthesis), with known totals.
fn synthesis_ledger(env: &TestEnv) -> (String, String, String, String) {
    let a = add(
        env,
        &[
            "--source-id",
            "doc-a",
            "--tool",
            "manual",
            "--tokens-in",
            "1000",
            "--tokens-out",
            "100",
            "--cost-usd",
            "0.5",
        ],
    );
    let b = add(
        env,
        &[
            "--source-id",
            "doc-b",
            "--tool",
            "manual",
            "--tokens-in",
            "2000",
            "--tokens-out",
            "200",
            "--cost-usd",
            "0.25",
        ],
    );
    let s1 = add(
        env,
        &[
            "--source-id",
            "summary-1",
            "--tool",
            "manual",
            "--pass",
            "synthesis",
            "--inputs-analysis-ids",
            &format!("{a},{b}"),
            "--inputs-source-ids",
            "doc-a,doc-b",
            "--tokens-in",
            "300",
            "--tokens-out",
            "30",
            "--cost-usd",
            "0.125",
        ],
    );
    let s2 = add(
        env,
        &[
            "--source-id",
            "summary-2",
            "--tool",
            "manual",
            "--pass",
            "synthesis",
            "--inputs-analysis-ids",
            &format!("{s1},{a}"),
            "--tokens-in",
            "10",
            "--tokens-out",
            "1",
            "--cost-usd",
            "0.0625",
        ],
    );
    (a, b, s1, s2)
}

#[test]
fn synthesis_show_adds_end_to_end_totals_counting_each_analysis_once() {
    let env = TestEnv::with_fixtures();
    let (a, b, s1, s2) = synthesis_ledger(&env);
    let v = show(&env, &s2);
    let e = &v["end_to_end"];
    assert_eq!(
        e["analyses"],
        serde_json::json!([s2, s1, a, b]),
        "a is reached twice, counted once"
    );
    assert_eq!(
        (
            e["tokens_in"].as_i64(),
            e["tokens_out"].as_i64(),
            e["total_tokens"].as_i64()
        ),
        (Some(3310), Some(331), Some(3641))
    );
    assert_eq!(e["cost_usd"], 0.9375);
    let text = ok_stdout(&env.run(&["analysis", "show", "--id", &s2]));
    assert!(
        text.contains("end to end (4 analyses") && text.contains("3,641 tokens"),
        "{text}"
    );
    assert!(
        show(&env, &a).get("end_to_end").is_none(),
        "plain analyses have none"
    );
}

#[test]
fn every_export_format_parses_back_with_every_row_and_field() {
    let env = TestEnv::with_fixtures();
    let id = env.start("live", &["--tool", "claude", "--usage-session-id", SA]);
    ok_stdout(&env.run(&["analysis", "mark", "--id", &id, "--stage", "read"]));
    ok_stdout(&env.run(&[
        "analysis",
        "complete",
        "--id",
        &id,
        "--notes",
        "pipes | and \"quotes\"\nand lines",
    ]));
    let (_, _, s1, _) = synthesis_ledger(&env);
    let listed = env.json(&["analysis", "list", "--json"]);
    let want = listed["analyses"].as_array().expect("arr").clone();
    assert_eq!(want.len(), 5);
    // The field order of `list --json` (a YAML reader keeps a document's key order).
    let text = ok_stdout(&env.run(&["analysis", "list", "--json"]));
    let ordered: serde_norway::Value = serde_norway::from_str(&text).expect("JSON is YAML");
    let order: Vec<String> = ordered["analyses"][0]
        .as_mapping()
        .expect("row")
        .keys()
        .filter_map(|k| k.as_str().map(str::to_owned))
        .collect();
    assert_eq!(order[0], "id");
    // YAML and CSV: every field once (`stages` only as `stages_json`), in that order.
    let columns: Vec<String> = order.iter().filter(|k| *k != "stages").cloned().collect();
    let without_stages: Vec<Value> = want
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r.as_object_mut().expect("obj").remove("stages");
            r
        })
        .collect();

    let json = env.json(&["analysis", "export", "--format", "json"]);
    assert_eq!(json["analyses"].as_array().expect("arr"), &want);
    let json_text = ok_stdout(&env.run(&["analysis", "export", "--format", "json"]));
    assert_eq!(json_text, text, "export json is list --json");

    let yaml = ok_stdout(&env.run(&["analysis", "export", "--format", "yaml"]));
    let y: serde_norway::Value = serde_norway::from_str(&yaml).expect("valid YAML");
    let keys: Vec<String> = y["analyses"][0]
        .as_mapping()
        .expect("row")
        .keys()
        .filter_map(|k| k.as_str().map(str::to_owned))
        .collect();
    assert_eq!(keys, columns, "YAML keys in JSON's order");
    let y_json: Value = serde_json::to_value(&y).expect("to json");
    assert_eq!(
        y_json["analyses"].as_array().expect("arr"),
        &without_stages,
        "YAML holds the same rows and values"
    );

    let out = env.dir.path().join("rows.csv");
    ok_stdout(&env.run(&[
        "analysis",
        "export",
        "--format",
        "csv",
        "--out",
        out.to_str().expect("utf8"),
    ]));
    let mut r = csv::Reader::from_path(&out).expect("csv");
    let header: Vec<String> = r
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header, columns, "CSV columns in JSON's order");
    let records: Vec<csv::StringRecord> = r.records().collect::<Result<_, _>>().expect("records");
    assert_eq!(records.len(), want.len());
    for (rec, row) in records.iter().zip(&without_stages) {
        for (k, cell) in header.iter().zip(rec.iter()) {
            match &row[k] {
                Value::Null => assert_eq!(cell, "", "{k}"),
                Value::String(s) => assert_eq!(cell, s, "{k}"),
                // Numbers, lists and objects as JSON text (keys in the row's order).
                v => assert_eq!(
                    &serde_json::from_str::<Value>(cell).expect("JSON cell"),
                    v,
                    "{k}"
                ),
            }
        }
    }

    let md = ok_stdout(&env.run(&["analysis", "export", "--format", "md"]));
    assert!(
        md.contains(&format!("## {id} — live")) && md.contains("| read |"),
        "stage table"
    );
    assert!(
        md.contains("**Synthesis inputs**")
            && md.contains("| **end to end** | | **3,300** | **330** | **3,630** | **$0.8750** |"),
        "{md}"
    );
    assert!(md.contains(&format!("| {s1} (itself) |")));
    assert!(md.contains("pipes \\| and"), "pipes escaped");
}

#[test]
fn validate_passes_a_sound_ledger_and_names_tampered_rows() {
    let env = TestEnv::with_fixtures();
    let id = env.start("doc-a", &["--tool", "claude", "--usage-session-id", SA]);
    ok_stdout(&env.run(&["analysis", "mark", "--id", &id, "--stage", "one"]));
    ok_stdout(&env.run(&["analysis", "complete", "--id", &id]));
    let (..) = synthesis_ledger(&env);
    let v = env.json(&["analysis", "validate", "--json"]);
    assert_eq!(
        (v["ok"].as_bool(), v["checked"].as_i64()),
        (Some(true), Some(5))
    );
    let text = ok_stdout(&env.run(&["analysis", "validate"]));
    assert!(text.starts_with("ok: 5 analyses checked"));

    {
        let c = rusqlite::Connection::open(env.db()).expect("open");
        c.execute(
            "UPDATE analysis_logs SET tokens_check = tokens_check + 7 WHERE id = ?1",
            [&id],
        )
        .expect("tamper");
        c.execute("UPDATE analysis_logs SET inputs_analysis_ids = '[\"ANALYSIS-1999-404\"]', inputs_source_ids = '[\"nowhere\"]' WHERE source_id = 'summary-2'", []).expect("tamper");
    }
    let out = env.run(&["analysis", "validate", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let problems: Vec<String> = v["problems"]
        .as_array()
        .expect("arr")
        .iter()
        .map(|p| {
            format!(
                "{}: {}",
                p["id"].as_str().expect("id"),
                p["problem"].as_str().expect("p")
            )
        })
        .collect();
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(
        problems[0].starts_with(&format!("{id}: tokens_check")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("input analysis ANALYSIS-1999-404 does not exist"))
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("input source \"nowhere\""))
    );
    let text = env.run(&["analysis", "validate"]);
    assert_eq!(text.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&text.stdout).contains(&id));
}
