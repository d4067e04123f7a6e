//! `tokledger analysis run … -- COMMAND`: real processes; the command writes transcripts
//! into the temporary HOME the way an agent would.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use crate::common::*;
use serde_json::Value;

const NEW: &str = "88888888-8888-4888-8888-888888888888";
const NEWC: &str = "55555555-aaaa-4aaa-8aaa-555555555555";
const OPUS: &str = "claude-opus-4-1-20250805";
const HAIKU: &str = "claude-haiku-4-5-20251001";

fn claude_line(session: &str, id: &str, model: &str, usage: (i64, i64, i64, i64)) -> String {
    format!(
        r#"{{"type":"assistant","sessionId":"{session}","cwd":"/work/x","timestamp":"2026-03-03T09:00:00.000Z","requestId":"req_{id}","message":{{"id":"{id}","model":"{model}","content":[],"usage":{{"input_tokens":{},"cache_creation_input_tokens":{},"cache_read_input_tokens":{},"output_tokens":{}}}}}}}"#,
        usage.0, usage.1, usage.2, usage.3
    ) + "\n"
}

fn codex_count(total: (i64, i64, i64), last: (i64, i64, i64)) -> String {
    format!(
        r#"{{"timestamp":"2026-03-03T09:00:05.000Z","type":"event_msg","payload":{{"type":"token_count","info":{{"total_token_usage":{{"input_tokens":{},"cached_input_tokens":{},"output_tokens":{},"reasoning_output_tokens":0,"total_tokens":{}}},"last_token_usage":{{"input_tokens":{},"cached_input_tokens":{},"output_tokens":{},"reasoning_output_tokens":0,"total_tokens":{}}}}}}}}}"#,
        total.0,
        total.1,
        total.2,
        total.0 + total.2,
        last.0,
        last.1,
        last.2,
        last.0 + last.2
    ) + "\n"
}

/// A new Codex thread: its meta, its model, one count of 800 + 200 cached + 50 = 1050.
fn new_codex_thread() -> String {
    format!(
        r#"{{"timestamp":"2026-03-03T09:00:00.000Z","type":"session_meta","payload":{{"id":"{NEWC}","cwd":"/work/x","cli_version":"0.77.0","source":"exec"}}}}"#
    ) + "\n"
        + r#"{"timestamp":"2026-03-03T09:00:01.000Z","type":"turn_context","payload":{"cwd":"/work/x","model":"gpt-5"}}"#
        + "\n"
        + &codex_count((1000, 200, 50), (1000, 200, 50))
}

/// Appended to the fixture's Codex thread CX: +2050 (as in tests/lifecycle.rs).
fn cx_growth() -> String {
    codex_count((2300, 800, 170), (1000, 500, 20))
        + &codex_count((2300, 800, 170), (1000, 500, 20))
        + &codex_count((3300, 800, 200), (1000, 0, 30))
}

fn new_claude_path(env: &TestEnv) -> PathBuf {
    env.home()
        .join(".claude/projects/-work-x")
        .join(format!("{NEW}.jsonl"))
}

fn new_codex_path(env: &TestEnv) -> PathBuf {
    env.home()
        .join(".codex/sessions/2026/03/03")
        .join(format!("rollout-2026-03-03T09-00-00-{NEWC}.jsonl"))
}

/// A payload file the command copies into place (`cat`), so the test states its bytes.
fn payload(env: &TestEnv, name: &str, text: &str) -> PathBuf {
    let p = env.dir.path().join(name);
    std::fs::write(&p, text).expect("write payload");
    p
}

/// `tokledger analysis run <args> -- sh -c <script>`, with `vars` in the command's
/// environment.
fn run(env: &TestEnv, args: &[&str], script: &str, vars: &[(&str, &Path)]) -> Output {
    let mut all = vec!["analysis", "run", "--source-id", "doc-9"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--", "sh", "-c", script]);
    let mut cmd = env.cmd(&all);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.output().expect("run tokledger")
}

/// The one analysis the run created.
fn only_row(env: &TestEnv) -> Value {
    let list = env.json(&["analysis", "list", "--json"]);
    let rows = list["analyses"].as_array().expect("array");
    assert_eq!(rows.len(), 1, "{list}");
    rows[0].clone()
}

fn usage_of(row: &Value, model: &str) -> i64 {
    row["usage_by_model"]
        .as_array()
        .expect("array")
        .iter()
        .find(|m| m["model"] == model)
        .map_or(0, |m| m["total_tokens"].as_i64().expect("int"))
}

fn tokens(row: &Value) -> (Option<i64>, Option<i64>, Option<i64>, Option<i64>) {
    (
        row["tokens_baseline"].as_i64(),
        row["tokens_check"].as_i64(),
        row["tokens_in"].as_i64(),
        row["tokens_out"].as_i64(),
    )
}

#[test]
fn a_command_that_writes_a_new_claude_session_gets_exactly_its_usage() {
    let env = TestEnv::with_fixtures();
    // msg_N1 streamed twice (output 10, then 40): 10 + 200 + 3000 + 40 = 3250 on Opus;
    // msg_N2: 5 + 0 + 100 + 20 = 125 on Haiku.
    let lines = claude_line(NEW, "msg_N1", OPUS, (10, 200, 3000, 10))
        + &claude_line(NEW, "msg_N1", OPUS, (10, 200, 3000, 40))
        + &claude_line(NEW, "msg_N2", HAIKU, (5, 0, 100, 20));
    let p = payload(&env, "new.jsonl", &lines);
    let dest = new_claude_path(&env);
    let out = run(
        &env,
        &["--tool", "claude", "--pass", "2"],
        r#"mkdir -p "$(dirname "$DEST")" && cat "$P" > "$DEST" && printf 'out: %s\n' hi && printf 'no newline'"#,
        &[("P", &p), ("DEST", &dest)],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        out.stdout, b"out: hi\nno newline",
        "the command's stdout, byte for byte"
    );
    let row = only_row(&env);
    assert_eq!(row["status"], "completed");
    assert_eq!(row["pass"], "2");
    assert_eq!(row["usage_session_id"], NEW);
    assert_eq!(row["session_binding"], "run_changed_session");
    assert_eq!(
        tokens(&row),
        (
            Some(0),
            Some(3375),
            Some(10 + 200 + 3000 + 5 + 100),
            Some(60)
        )
    );
    assert_eq!((usage_of(&row, OPUS), usage_of(&row, HAIKU)), (3250, 125));
    assert_eq!(row["total_tokens"], 3375);
    assert_eq!(row["usage_mode"], "per_message_sum");
    let id = row["id"].as_str().expect("id");
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "{id} completed (exit 0): 3,375 tokens (3,315 in, 60 out), claude session {NEW} (run_changed_session)"
        )),
        "{err}"
    );
}

#[test]
fn a_failing_command_gives_failed_and_its_exit_code() {
    let env = TestEnv::with_fixtures();
    // It spent tokens before failing: they are recorded all the same.
    let p = payload(
        &env,
        "new.jsonl",
        &claude_line(NEW, "msg_F", OPUS, (1, 2, 3, 4)),
    );
    let dest = new_claude_path(&env);
    let out = run(
        &env,
        &["--tool", "claude"],
        r#"mkdir -p "$(dirname "$DEST")" && cat "$P" > "$DEST"; exit 3"#,
        &[("P", &p), ("DEST", &dest)],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let row = only_row(&env);
    assert_eq!(row["status"], "failed");
    assert!(
        row["completed_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    assert_eq!(tokens(&row), (Some(0), Some(10), Some(6), Some(4)));
    assert!(!stderr(&out).contains("error"), "{}", stderr(&out));
}

#[test]
fn a_failing_command_that_wrote_nothing_is_failed_without_usage() {
    let env = TestEnv::with_fixtures();
    let out = run(&env, &["--tool", "claude"], "exit 3", &[]);
    assert_eq!(out.status.code(), Some(3));
    assert!(out.stdout.is_empty());
    let row = only_row(&env);
    assert_eq!(row["status"], "failed");
    // No transcript changed, and the fixture's sessions are equally recent: no session can
    // be told, so nothing is recorded rather than a made-up 0.
    assert_eq!(row["usage_session_id"], Value::Null);
    assert_eq!(tokens(&row), (None, None, None, None));
    let err = stderr(&out);
    assert!(
        err.contains("could not be told") && err.contains("failed (exit 3): no session"),
        "{err}"
    );
}

#[test]
fn a_command_that_cannot_start_exits_127_and_fails_the_row() {
    let env = TestEnv::with_fixtures();
    let out = env
        .cmd(&[
            "analysis",
            "run",
            "--source-id",
            "x",
            "--tool",
            "codex",
            "--",
            "no-such-command-here",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(127));
    assert!(stderr(&out).contains("could not run no-such-command-here"));
    assert_eq!(only_row(&env)["status"], "failed");
    // Without a command it is a usage error, and nothing is recorded.
    let env = TestEnv::with_fixtures();
    let out = env.run(&["analysis", "run", "--source-id", "x", "--tool", "codex"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        env.json(&["analysis", "list", "--json"])["analyses"],
        serde_json::json!([])
    );
}

#[test]
fn a_command_that_continues_a_codex_thread_gets_its_delta() {
    let env = TestEnv::with_fixtures();
    let p = payload(&env, "grow.jsonl", &cx_growth());
    let out = run(
        &env,
        &["--tool", "codex"],
        r#"cat "$P" >> "$DEST""#,
        &[("P", &p), ("DEST", &codex_main(&env.home()))],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let row = only_row(&env);
    assert_eq!(row["usage_session_id"], CX);
    assert_eq!(row["session_binding"], "run_changed_session");
    assert_eq!(tokens(&row), (Some(4750), Some(2050), Some(2000), Some(50)));
    assert_eq!(row["tokens_final"], 4750 + 2050);
    assert_eq!(row["usage_mode"], "counter_delta");
}

#[test]
fn a_thread_id_the_command_prints_wins_over_file_changes() {
    let env = TestEnv::with_fixtures();
    let thread = payload(&env, "thread.jsonl", &new_codex_thread());
    let grow = payload(&env, "grow.jsonl", &cx_growth());
    let script = r#"mkdir -p "$(dirname "$NEWF")" && cat "$T" > "$NEWF" && cat "$G" >> "$CXF" && printf '%s\n' "{\"type\":\"thread.started\",\"thread_id\":\"$TID\"}" '{"type":"turn.completed"}'"#;
    let newf = new_codex_path(&env);
    let cxf = codex_main(&env.home());
    let tid = PathBuf::from(NEWC);
    let vars = [
        ("T", thread.as_path()),
        ("G", grow.as_path()),
        ("NEWF", newf.as_path()),
        ("CXF", cxf.as_path()),
        ("TID", tid.as_path()),
    ];
    let out = run(&env, &["--tool", "codex"], script, &vars);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        String::from_utf8(out.stdout.clone()).expect("utf8"),
        format!(
            "{{\"type\":\"thread.started\",\"thread_id\":\"{NEWC}\"}}\n{{\"type\":\"turn.completed\"}}\n"
        )
    );
    let row = only_row(&env);
    assert_eq!(row["usage_session_id"], NEWC);
    assert_eq!(row["session_binding"], "run_printed_id");
    assert_eq!(tokens(&row), (Some(0), Some(1050), Some(1000), Some(50)));
    assert_eq!(usage_of(&row, "gpt-5"), 1050);
}

#[test]
fn several_sessions_that_spent_tokens_bind_the_one_that_spent_most_with_a_warning() {
    let env = TestEnv::with_fixtures();
    let thread = payload(&env, "thread.jsonl", &new_codex_thread());
    let grow = payload(&env, "grow.jsonl", &cx_growth());
    let newf = new_codex_path(&env);
    let cxf = codex_main(&env.home());
    let out = run(
        &env,
        &["--tool", "codex"],
        r#"mkdir -p "$(dirname "$NEWF")" && cat "$T" > "$NEWF" && cat "$G" >> "$CXF""#,
        &[("T", &thread), ("G", &grow), ("NEWF", &newf), ("CXF", &cxf)],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let row = only_row(&env);
    assert_eq!(row["usage_session_id"], CX);
    assert_eq!(row["session_binding"], "run_most_growth");
    assert_eq!(tokens(&row), (Some(4750), Some(2050), Some(2000), Some(50)));
    let err = stderr(&out);
    assert!(
        err.contains("wrote to 2 codex sessions")
            && err.contains(&format!("{CX}  +2,050 tokens"))
            && err.contains(&format!("{NEWC}  +1,050 tokens")),
        "{err}"
    );
}

#[test]
fn an_explicit_session_is_bound_at_the_start() {
    let env = TestEnv::with_fixtures();
    let p = payload(
        &env,
        "more.jsonl",
        &claude_line(SA, "msg_X", OPUS, (7, 0, 3000, 11)),
    );
    let out = run(
        &env,
        &["--tool", "claude", "--usage-session-id", SA],
        r#"cat "$P" >> "$DEST""#,
        &[("P", &p), ("DEST", &claude_main(&env.home()))],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let row = only_row(&env);
    assert_eq!(row["usage_session_id"], SA);
    assert_eq!(row["session_binding"], "usage_session_id");
    assert_eq!(tokens(&row), (Some(5554), Some(3018), Some(3007), Some(11)));
}

#[test]
fn sigterm_reaches_the_command_and_the_row_is_still_completed() {
    let env = TestEnv::with_fixtures();
    let marker = env.dir.path().join("started");
    let began = Instant::now();
    let mut child = env
        .cmd(&[
            "analysis",
            "run",
            "--source-id",
            "x",
            "--tool",
            "claude",
            "--",
            "sh",
            "-c",
            r#"touch "$M"; exec sleep 30"#,
        ])
        .env("M", &marker)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    while !marker.exists() {
        assert!(
            began.elapsed() < Duration::from_secs(20),
            "the command never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("pid"));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("kill");
    let status = child.wait().expect("wait");
    assert!(
        began.elapsed() < Duration::from_secs(20),
        "sleep 30 was cut short"
    );
    assert_eq!(
        status.code(),
        Some(128 + 15),
        "the command's own end: killed by SIGTERM"
    );
    let row = only_row(&env);
    assert_eq!(row["status"], "failed");
    assert!(row["completed_at"].is_string());
}
