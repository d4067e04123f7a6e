//! `tokledger statusline` as Claude Code runs it: a real process, the status JSON on stdin,
//! one line out, exit 0 whatever happens.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::*;

const S1: &str = "aaaaaaaa-0000-4000-8000-000000000001";
const S2: &str = "aaaaaaaa-0000-4000-8000-000000000002";

/// A zone where it is around noon now, so "today" holds the responses written a minute ago
/// whenever the test runs (`Etc/GMT-3` is UTC+3).
fn noon_zone() -> String {
    let hour = i64::from(chrono::Timelike::hour(&chrono::Utc::now()));
    let mut offset = 12 - hour;
    if offset < -12 {
        offset += 24;
    }
    match offset {
        0 => "UTC".into(),
        o if o > 0 => format!("Etc/GMT-{o}"),
        o => format!("Etc/GMT+{}", -o),
    }
}

fn ts(ms_ago: i64) -> String {
    let t = chrono::Utc::now() - chrono::Duration::milliseconds(ms_ago);
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// One Sonnet 4.5 response ($3/M input, $15/M output).
fn response(session: &str, id: &str, at: &str, input: i64, output: i64) -> String {
    json!({"type": "assistant", "sessionId": session, "timestamp": at, "requestId": format!("req_{id}"),
        "cwd": "/home/dev/app",
        "message": {"id": format!("msg_{id}"), "model": "claude-sonnet-4-5-20250929", "content": [],
            "usage": {"input_tokens": input, "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0, "output_tokens": output}}})
    .to_string()
        + "\n"
}

fn transcript(env: &TestEnv, session: &str) -> PathBuf {
    let dir = env.home().join(".claude/projects/-home-dev-app");
    std::fs::create_dir_all(&dir).expect("mkdir");
    dir.join(format!("{session}.jsonl"))
}

fn status_payload(session: &str, path: &Path) -> String {
    json!({"session_id": session, "transcript_path": path, "cwd": "/home/dev/app",
        "model": {"id": "claude-sonnet-4-5-20250929", "display_name": "Sonnet 4.5"},
        "workspace": {"current_dir": "/home/dev/app", "project_dir": "/home/dev/app"},
        "version": "2.0.0", "cost": {"total_cost_usd": 0.5}})
    .to_string()
}

fn statusline(cmd: Command, stdin: &str) -> (Output, Duration) {
    run_with_stdin(cmd, stdin)
}

/// A debug build on a loaded machine may need more than the default 600 ms to read and
/// price; the tests check the numbers, `a_locked_ledger…` the promptness.
fn cmd(env: &TestEnv, zone: &str, json: bool) -> Command {
    let mut args = vec!["statusline", "--tz", zone, "--max-ms", "20000"];
    if json {
        args.push("--json");
    }
    env.cmd(&args)
}

#[test]
fn statusline_shows_the_running_analysis_the_session_and_today() {
    let env = TestEnv::empty();
    let zone = noon_zone();
    let t1 = transcript(&env, S1);
    // Two days ago: in the session, not in today.
    std::fs::write(
        &t1,
        response(S1, "old", &ts(2 * 86_400_000), 100_000, 0)
            + &response(S1, "a", &ts(60_000), 1_000, 100),
    )
    .expect("write");
    std::fs::write(
        transcript(&env, S2),
        response(S2, "b", &ts(50_000), 2_000, 0),
    )
    .expect("write");
    // Both sessions in the ledger (unpriced: a small read leaves pricing to who needs it).
    ok_stdout(&env.run(&["analysis", "sessions", "list", "--all"]));
    let id = env.start("review-x", &["--tool", "claude", "--usage-session-id", S1]);
    ok_stdout(&env.run(&["analysis", "mark", "--id", &id, "--stage", "read"]));
    // Written after the mark, read by the statusline itself.
    append(&t1, response(S1, "c", &ts(1_000), 10_000, 1_000));
    let (out, _) = statusline(cmd(&env, &zone, true), &status_payload(S1, &t1));
    let v: Value = serde_json::from_slice(&ok_stdout(&out).into_bytes()).expect("json");
    assert_eq!(v["session_id"], S1);
    assert_eq!(v["model"], "Sonnet 4.5");
    assert_eq!(v["running_analyses"], 1);
    let a = &v["analysis"];
    assert_eq!(
        (a["id"].as_str(), a["stage"].as_str()),
        (Some(id.as_str()), Some("read"))
    );
    // 10,000 × $3/M + 1,000 × $15/M.
    assert_eq!(a["total_tokens"], 11_000);
    assert_eq!(a["cost_known_usd"], 0.045);
    assert_eq!(a["cost_complete"], true);
    // 100,000 + 1,100 + 11,000 tokens; $0.30 + $0.0045 + $0.045.
    assert_eq!(v["session"]["total_tokens"], 112_100);
    assert_eq!(v["session"]["cost_known_usd"], 0.3495);
    // Today: S1's two recent responses and S2's, priced by the statusline.
    assert_eq!(v["today"]["total_tokens"], 1_100 + 11_000 + 2_000);
    assert_eq!(v["today"]["cost_known_usd"], 0.0555);
    assert_eq!(v["stale"], Value::Null);

    let (out, _) = statusline(cmd(&env, &zone, false), &status_payload(S1, &t1));
    assert_eq!(
        ok_stdout(&out),
        format!(
            "Sonnet 4.5 | {id} review-x (read) 11.0K $0.04 | session 112K $0.35 | today 14.1K $0.06\n"
        )
    );
}

#[test]
fn statusline_never_fails_the_status_bar() {
    let env = TestEnv::empty();
    let zone = noon_zone();
    let t1 = transcript(&env, S1);
    std::fs::write(&t1, response(S1, "a", &ts(60_000), 1_000, 100)).expect("write");
    ok_stdout(&env.run(&["analysis", "sessions", "list", "--all"]));
    for stdin in ["", "not json", "[1,2]", "{\"session_id\": 7}"] {
        let (out, took) = statusline(cmd(&env, &zone, false), stdin);
        assert!(out.status.success(), "{stdin:?}: {}", stderr(&out));
        assert_eq!(ok_stdout(&out), "today 1,100 $0.00\n", "{stdin:?}");
        assert!(took < Duration::from_secs(2), "{stdin:?}: {took:?}");
    }
    // A ledger that cannot be opened: a short line saying so, exit 0.
    let mut c = cmd(&env, &zone, false);
    c.env("TOKLEDGER_DB", env.dir.path());
    let (out, _) = statusline(c, &status_payload(S1, &t1));
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.starts_with("tokledger: ") && text.lines().count() == 1,
        "{text:?}"
    );
    // A bad zone too.
    let (out, _) = statusline(cmd(&env, "Mars/Olympus", false), &status_payload(S1, &t1));
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("tokledger: "));
}

#[test]
fn a_locked_ledger_prints_what_it_holds_at_once() {
    let env = TestEnv::empty();
    let zone = noon_zone();
    let t1 = transcript(&env, S1);
    std::fs::write(&t1, response(S1, "a", &ts(60_000), 1_000, 100)).expect("write");
    ok_stdout(&env.run(&["analysis", "sessions", "list", "--all"]));
    append(&t1, response(S1, "b", &ts(1_000), 5_000, 0));
    // Another process holds the write lock for the whole run.
    let conn = rusqlite::Connection::open(env.db()).expect("open");
    conn.execute_batch("BEGIN IMMEDIATE").expect("lock");
    let (out, took) = statusline(cmd(&env, &zone, true), &status_payload(S1, &t1));
    let v: Value = serde_json::from_slice(&ok_stdout(&out).into_bytes()).expect("json");
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert_eq!(v["session"]["total_tokens"], 1_100, "what the ledger held");
    assert!(
        v["stale"].as_str().is_some_and(|s| s.contains("locked")),
        "{v}"
    );
    conn.execute_batch("ROLLBACK").expect("unlock");
    // A later line reads what this one could not (on a loaded machine a debug build may
    // need more than one line's time for it: each commits what it read).
    let mut v = Value::Null;
    for _ in 0..5 {
        let (out, _) = statusline(cmd(&env, &zone, true), &status_payload(S1, &t1));
        v = serde_json::from_slice(&ok_stdout(&out).into_bytes()).expect("json");
        if v["stale"].is_null() {
            break;
        }
    }
    assert_eq!(v["session"]["total_tokens"], 6_100, "{v}");
    assert_eq!(v["stale"], Value::Null);
}
