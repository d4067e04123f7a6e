//! `analysis start | mark | complete | add | show | list` end to end, over transcripts that
//! grow between commands.

use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::common::*;
use serde_json::Value;

fn start(env: &TestEnv, args: &[&str]) -> String {
    env.start("doc-1", args)
}

fn show(env: &TestEnv, id: &str) -> Value {
    env.json(&["analysis", "show", "--id", id, "--json"])
}

fn claude_line(
    id: &str,
    req: &str,
    model: &str,
    usage: (i64, i64, i64, i64),
    sidechain: bool,
) -> String {
    format!(
        r#"{{"type":"assistant","isSidechain":{sidechain},"sessionId":"{SA}","timestamp":"2026-03-02T10:00:00.000Z","requestId":"{req}","message":{{"id":"{id}","model":"{model}","content":[],"usage":{{"input_tokens":{},"cache_creation_input_tokens":{},"cache_read_input_tokens":{},"output_tokens":{}}}}}}}"#,
        usage.0, usage.1, usage.2, usage.3
    ) + "\n"
}

const OPUS: &str = "claude-opus-4-1-20250805";
const HAIKU: &str = "claude-haiku-4-5-20251001";

fn usage_of(row: &Value, model: &str) -> i64 {
    row["usage_by_model"]
        .as_array()
        .expect("array")
        .iter()
        .find(|m| m["model"] == model)
        .map_or(0, |m| m["total_tokens"].as_i64().expect("int"))
}

#[test]
fn claude_session_growing_with_a_new_subagent_file() {
    let env = TestEnv::with_fixtures();
    let id = start(&env, &["--tool", "claude", "--usage-session-id", SA]);
    let row = show(&env, &id);
    assert_eq!(
        (row["tokens_baseline"].as_i64(), row["status"].as_str()),
        (Some(5554), Some("in_progress"))
    );
    assert_eq!(row["session_binding"], "usage_session_id");
    assert_eq!(row["usage_session_id"], SA);

    append(
        &claude_main(&env.home()),
        claude_line("msg_F", "req_F", OPUS, (7, 0, 3000, 11), false),
    );
    ok_stdout(&env.run(&["analysis", "mark", "--id", &id, "--stage", "read"]));

    // A sub-agent file appears mid-analysis, and msg_F's final copy (output 40) arrives.
    let sub = claude_main(&env.home())
        .with_extension("")
        .join("subagents/agent-fresh0000000000.jsonl");
    std::fs::write(
        &sub,
        claude_line("msg_N", "req_N", HAIKU, (50, 0, 0, 25), true),
    )
    .expect("write sub-agent");
    append(
        &claude_main(&env.home()),
        claude_line("msg_F", "req_F", OPUS, (7, 0, 3000, 40), false),
    );
    ok_stdout(&env.run(&["analysis", "mark", "--id", &id, "--stage", "subagent"]));

    let out = env.run(&[
        "analysis",
        "complete",
        "--id",
        &id,
        "--notes",
        "done",
        "--claims-extracted",
        "4",
        "--json",
    ]);
    let row: Value = serde_json::from_str(&ok_stdout(&out)).expect("json");
    let stages: Vec<(String, i64, i64)> = row["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .map(|s| {
            (
                s["stage"].as_str().expect("s").to_owned(),
                s["tokens"].as_i64().expect("t"),
                s["delta"].as_i64().expect("d"),
            )
        })
        .collect();
    assert_eq!(
        stages,
        [
            ("read".to_owned(), 8572, 3018),
            ("subagent".to_owned(), 8676, 104)
        ]
    );
    assert_eq!(row["stages_json"], row["stages"]);
    assert_eq!(row["tokens_final"], 8676);
    assert_eq!(row["tokens_check"], 3122);
    assert_eq!(row["tokens_in"], 7 + 3000 + 50);
    assert_eq!(row["tokens_out"], 40 + 25);
    assert_eq!(row["total_tokens"], 3122);
    assert_eq!((usage_of(&row, OPUS), usage_of(&row, HAIKU)), (3047, 75));
    assert_eq!(row["usage_mode"], "per_message_sum");
    assert_eq!(row["usage_provider"], "claude");
    assert_eq!(
        (
            row["status"].as_str(),
            row["notes"].as_str(),
            row["claims_extracted"].as_i64()
        ),
        (Some("completed"), Some("done"), Some(4))
    );
    assert!(row["completed_at"].as_str().expect("time").ends_with('Z'));
}

fn codex_count(total: (i64, i64, i64), last: (i64, i64, i64)) -> String {
    format!(
        r#"{{"timestamp":"2026-03-02T11:00:00.000Z","type":"event_msg","payload":{{"type":"token_count","info":{{"total_token_usage":{{"input_tokens":{},"cached_input_tokens":{},"output_tokens":{},"reasoning_output_tokens":0,"total_tokens":{}}},"last_token_usage":{{"input_tokens":{},"cached_input_tokens":{},"output_tokens":{},"reasoning_output_tokens":0,"total_tokens":{}}}}}}}}}"#,
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

#[test]
fn codex_rollout_continuing_its_counters() {
    let env = TestEnv::with_fixtures();
    let out = env
        .cmd(&["analysis", "start", "--source-id", "x", "--tool", "codex"])
        .env("CODEX_THREAD_ID", CX)
        .output()
        .expect("run");
    let id = ok_stdout(&out).trim().to_owned();
    assert_eq!(show(&env, &id)["tokens_baseline"], 4750);
    assert_eq!(show(&env, &id)["session_binding"], "codex_thread_id");
    let path = codex_main(&env.home());
    append(&path, codex_count((2300, 800, 170), (1000, 500, 20)));
    ok_stdout(&env.run(&["analysis", "mark", "--id", &id, "--stage", "one"]));
    append(&path, codex_count((2300, 800, 170), (1000, 500, 20))); // re-emit
    append(&path, codex_count((3300, 800, 200), (1000, 0, 30)));
    let row: Value = serde_json::from_str(&ok_stdout(
        &env.run(&["analysis", "complete", "--id", &id, "--json"]),
    ))
    .expect("json");
    assert_eq!(row["stages"][0]["delta"], 1020);
    assert_eq!(row["tokens_check"], 2050);
    assert_eq!(
        (row["tokens_in"].as_i64(), row["tokens_out"].as_i64()),
        (Some(2000), Some(50))
    );
    assert_eq!(row["usage_mode"], "counter_delta");
    assert_eq!(usage_of(&row, "gpt-5"), 2050);
}

#[test]
fn amp_thread_rewritten_whole() {
    let env = TestEnv::with_fixtures();
    let id = start(&env, &["--tool", "amp", "--usage-session-id", TB]);
    assert_eq!(show(&env, &id)["tokens_baseline"], 5274);
    let path = env
        .home()
        .join(".local/share/amp/threads")
        .join(format!("{TB}.json"));
    let mut doc: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
    doc["messages"].as_array_mut().expect("messages").push(serde_json::json!({
        "role": "assistant", "messageId": 5, "content": [{"type": "text", "text": "again"}],
        "usage": {"model": "claude-sonnet-4-5-20250929", "inputTokens": 100, "outputTokens": 50,
                  "cacheCreationInputTokens": 0, "cacheReadInputTokens": 0, "timestamp": "2026-03-02T10:05:00.000Z"}
    }));
    std::fs::write(&path, serde_json::to_string_pretty(&doc).expect("ser")).expect("rewrite");
    let row: Value = serde_json::from_str(&ok_stdout(
        &env.run(&["analysis", "complete", "--id", &id, "--json"]),
    ))
    .expect("json");
    assert_eq!(
        (
            row["tokens_check"].as_i64(),
            row["tokens_in"].as_i64(),
            row["tokens_out"].as_i64()
        ),
        (Some(150), Some(100), Some(50))
    );
}

#[test]
fn transitions_only_from_in_progress() {
    let env = TestEnv::with_fixtures();
    let id = start(&env, &["--tool", "claude", "--usage-session-id", SA]);
    ok_stdout(&env.run(&["analysis", "complete", "--id", &id, "--status", "failed"]));
    let before = show(&env, &id);
    assert_eq!(before["status"], "failed");
    for args in [
        vec!["analysis", "mark", "--id", &id, "--stage", "late"],
        vec!["analysis", "complete", "--id", &id],
    ] {
        let out = env.run(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("not in_progress"));
    }
    assert_eq!(show(&env, &id), before, "the row is untouched");
    let out = env.run(&[
        "analysis",
        "mark",
        "--id",
        "ANALYSIS-1999-001",
        "--stage",
        "x",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no analysis ANALYSIS-1999-001"));
    let out = env.run(&["analysis", "show", "--id", "nope"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn ids_are_sequential_within_the_year() {
    let env = TestEnv::with_fixtures();
    let a = start(&env, &["--tool", "claude", "--usage-session-id", SA]);
    let b = start(&env, &["--tool", "claude", "--usage-session-id", SB]);
    let year = a.split('-').nth(1).expect("year").to_owned();
    assert_eq!(a, format!("ANALYSIS-{year}-001"));
    assert_eq!(b, format!("ANALYSIS-{year}-002"));
}

#[test]
fn binding_by_session_path_and_env() {
    let env = TestEnv::with_fixtures();
    let path = claude_main(&env.home());
    let id = start(
        &env,
        &[
            "--tool",
            "claude",
            "--usage-session-path",
            path.to_str().expect("utf8"),
        ],
    );
    let row = show(&env, &id);
    assert_eq!(
        (
            row["usage_session_id"].as_str(),
            row["session_binding"].as_str()
        ),
        (Some(SA), Some("usage_session_path"))
    );
    assert_eq!(row["tokens_baseline"], 5554);

    let out = env
        .cmd(&["analysis", "start", "--source-id", "x", "--tool", "claude"])
        .env("TOKLEDGER_SESSION_ID", SB)
        .output()
        .expect("run");
    let id = ok_stdout(&out).trim().to_owned();
    let row = show(&env, &id);
    assert_eq!(
        (
            row["usage_session_id"].as_str(),
            row["session_binding"].as_str()
        ),
        (Some(SB), Some("tokledger_session_id"))
    );
    assert_eq!(row["tokens_baseline"], 300);

    // The flag wins over what the environment says.
    let out = env
        .cmd(&[
            "analysis",
            "start",
            "--source-id",
            "x",
            "--tool",
            "codex",
            "--usage-session-id",
            CY,
        ])
        .env("CODEX_THREAD_ID", CX)
        .output()
        .expect("run");
    let id = ok_stdout(&out).trim().to_owned();
    assert_eq!(show(&env, &id)["usage_session_id"], CY);
    assert_eq!(show(&env, &id)["tokens_baseline"], 750);
}

#[test]
fn binding_to_the_claude_code_process_among_our_ancestors() {
    let env = TestEnv::with_fixtures();
    // This test process is the parent of the tokledger it runs.
    let sessions = env.home().join(".claude/sessions");
    std::fs::create_dir_all(&sessions).expect("mkdir");
    let me = std::process::id();
    std::fs::write(
        sessions.join(format!("{me}.json")),
        format!(r#"{{"pid":{me},"sessionId":"{SB}","cwd":"/home/dev/lib"}}"#),
    )
    .expect("write");
    let id = start(&env, &["--tool", "claude"]);
    let row = show(&env, &id);
    assert_eq!(
        (
            row["usage_session_id"].as_str(),
            row["session_binding"].as_str()
        ),
        (Some(SB), Some("claude_process"))
    );
    assert_eq!(row["tokens_baseline"], 300);
}

fn set_mtime(path: &Path, secs_ago: u64) {
    let f = std::fs::File::options()
        .write(true)
        .open(path)
        .expect("open");
    f.set_modified(SystemTime::now() - Duration::from_secs(secs_ago))
        .expect("mtime");
}

/// A home with two Claude sessions: A (cwd /home/dev/app) and B, whose cwd is made the
/// test's working directory when `b_here`.
fn two_claude_sessions(b_here: bool) -> (TestEnv, std::path::PathBuf) {
    let env = TestEnv::with_fixtures();
    std::fs::remove_dir_all(env.home().join(".codex")).expect("rm");
    let b = env
        .home()
        .join(".config/claude/projects/-home-dev-lib")
        .join(format!("{SB}.jsonl"));
    // A session is as new as its newest file, sub-agent files included: age those.
    for f in std::fs::read_dir(
        claude_main(&env.home())
            .with_extension("")
            .join("subagents"),
    )
    .expect("ls")
    {
        set_mtime(&f.expect("entry").path(), 5000);
    }
    if b_here {
        let here = env.dir.path().canonicalize().expect("canon");
        let text = std::fs::read_to_string(&b)
            .expect("read")
            .replace("/home/dev/lib", here.to_str().expect("utf8"));
        std::fs::write(&b, text).expect("write");
    }
    (env, b)
}

#[test]
fn heuristic_prefers_the_session_of_the_current_directory() {
    let (env, b) = two_claude_sessions(true);
    set_mtime(&claude_main(&env.home()), 1);
    set_mtime(&b, 30);
    let id = start(&env, &["--tool", "claude"]);
    let row = show(&env, &id);
    assert_eq!(
        (
            row["usage_session_id"].as_str(),
            row["session_binding"].as_str()
        ),
        (Some(SB), Some("heuristic"))
    );
}

#[test]
fn heuristic_takes_the_newest_when_no_other_is_close() {
    let (env, b) = two_claude_sessions(false);
    set_mtime(&claude_main(&env.home()), 1000);
    set_mtime(&b, 10);
    let id = start(&env, &["--tool", "claude"]);
    assert_eq!(show(&env, &id)["usage_session_id"], SB);
    // A window shorter than the gap between them settles a close call too.
    set_mtime(&claude_main(&env.home()), 70);
    let id = start(&env, &["--tool", "claude", "--ambiguity-window", "30"]);
    assert_eq!(show(&env, &id)["usage_session_id"], SB);
}

#[test]
fn heuristic_with_two_close_candidates_is_ambiguous() {
    let (env, b) = two_claude_sessions(false);
    set_mtime(&claude_main(&env.home()), 5);
    set_mtime(&b, 60);
    let out = env.run(&["analysis", "start", "--source-id", "x", "--tool", "claude"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(SA) && err.contains(SB) && err.contains("--usage-session-id"),
        "{err}"
    );
    assert!(
        err.contains("5,554 tokens") && err.contains("300 tokens"),
        "{err}"
    );
    assert_eq!(
        env.json(&["analysis", "list", "--json"])["analyses"],
        serde_json::json!([]),
        "no row written"
    );
}

#[test]
fn sixteen_simultaneous_marks_all_land() {
    let env = TestEnv::with_fixtures();
    let id = start(&env, &["--tool", "claude", "--usage-session-id", SA]);
    append(
        &claude_main(&env.home()),
        claude_line("msg_F", "req_F", OPUS, (7, 0, 3000, 11), false),
    );
    let children: Vec<_> = (0..16)
        .map(|i| {
            env.cmd(&[
                "analysis",
                "mark",
                "--id",
                &id,
                "--stage",
                &format!("s{i:02}"),
            ])
            .spawn()
            .expect("spawn")
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().expect("wait");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let row = show(&env, &id);
    let stages = row["stages"].as_array().expect("stages");
    let mut names: Vec<&str> = stages
        .iter()
        .map(|s| s["stage"].as_str().expect("name"))
        .collect();
    names.sort_unstable();
    let want: Vec<String> = (0..16).map(|i| format!("s{i:02}")).collect();
    assert_eq!(names, want);
    let deltas: i64 = stages.iter().map(|s| s["delta"].as_i64().expect("d")).sum();
    assert_eq!(
        deltas, 3018,
        "the appended response is counted once across all marks"
    );
    assert!(stages.iter().all(|s| s["tokens"] == 8572));
}

#[test]
fn a_ledger_locked_past_the_busy_timeout_exits_75_and_writes_nothing() {
    let env = TestEnv::with_fixtures();
    let id = start(&env, &["--tool", "claude", "--usage-session-id", SA]);
    append(
        &claude_main(&env.home()),
        claude_line("msg_F", "req_F", OPUS, (7, 0, 3000, 11), false),
    );
    let lock = rusqlite::Connection::open(env.db()).expect("open");
    lock.execute_batch("BEGIN EXCLUSIVE").expect("lock");
    let began = std::time::Instant::now();
    let out = env.run(&[
        "--busy-timeout",
        "0.5",
        "analysis",
        "mark",
        "--id",
        &id,
        "--stage",
        "blocked",
    ]);
    assert_eq!(
        out.status.code(),
        Some(75),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        began.elapsed() >= Duration::from_millis(450),
        "it waited for the lock"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("locked") && err.contains(env.db().to_str().expect("utf8")),
        "{err}"
    );
    lock.execute_batch("ROLLBACK").expect("unlock");
    drop(lock);
    let row = show(&env, &id);
    assert_eq!(row["stages"], serde_json::json!([]), "nothing was written");
    // Once free, the same mark goes through and sees the appended response.
    ok_stdout(&env.run(&["analysis", "mark", "--id", &id, "--stage", "after"]));
    assert_eq!(show(&env, &id)["stages"][0]["delta"], 3018);
}

#[test]
fn a_lock_shorter_than_the_timeout_is_waited_out() {
    let env = TestEnv::with_fixtures();
    let id = start(&env, &["--tool", "claude", "--usage-session-id", SA]);
    let db = env.db();
    let holder = std::thread::spawn(move || {
        let lock = rusqlite::Connection::open(db).expect("open");
        lock.execute_batch("BEGIN EXCLUSIVE").expect("lock");
        std::thread::sleep(Duration::from_millis(1500));
        lock.execute_batch("COMMIT").expect("unlock");
    });
    std::thread::sleep(Duration::from_millis(200));
    let out = env.run(&["analysis", "mark", "--id", &id, "--stage", "waited"]);
    holder.join().expect("join");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(show(&env, &id)["stages"][0]["stage"], "waited");
}

#[test]
fn add_with_manual_tokens_and_with_a_transcript() {
    let env = TestEnv::with_fixtures();
    let out = env.run(&[
        "analysis",
        "add",
        "--source-id",
        "m-1",
        "--tool",
        "manual",
        "--tokens-in",
        "1200",
        "--tokens-out",
        "300",
        "--started-at",
        "2026-03-02T10:00:00+01:00",
        "--completed-at",
        "2026-03-02T09:30:00Z",
        "--pass",
        "2",
    ]);
    let id = ok_stdout(&out).trim().to_owned();
    let row = show(&env, &id);
    assert_eq!(
        (
            row["tokens_in"].as_i64(),
            row["tokens_out"].as_i64(),
            row["total_tokens"].as_i64()
        ),
        (Some(1200), Some(300), Some(1500))
    );
    assert_eq!(
        (
            row["usage_mode"].as_str(),
            row["status"].as_str(),
            row["pass"].as_str()
        ),
        (Some("manual"), Some("completed"), Some("2"))
    );
    assert_eq!(row["started_at"], "2026-03-02T09:00:00.000Z");

    let spec = format!("claude:{}", claude_main(&env.home()).display());
    let id = ok_stdout(&env.run(&[
        "analysis",
        "add",
        "--source-id",
        "m-2",
        "--tool",
        "claude",
        "--usage-from",
        &spec,
    ]))
    .trim()
    .to_owned();
    let row = show(&env, &id);
    assert_eq!(
        row["total_tokens"], 5554,
        "the whole session, its sub-agent file included"
    );
    assert_eq!(row["tokens_in"], 40 + 1850 + 3197);
    assert_eq!(row["tokens_out"], 467);
    assert_eq!(
        (row["usage_session_id"].as_str(), row["usage_mode"].as_str()),
        (Some(SA), Some("per_message_sum"))
    );

    for bad in [
        vec![
            "analysis",
            "add",
            "--source-id",
            "x",
            "--tool",
            "claude",
            "--usage-from",
            "cursor:/x",
        ],
        vec![
            "analysis",
            "add",
            "--source-id",
            "x",
            "--tool",
            "manual",
            "--started-at",
            "the day before",
        ],
        vec!["analysis", "add", "--source-id", "x", "--tool", "robot"],
        vec!["analysis", "add", "--tool", "manual"],
        vec!["analysis", "start", "--source-id", "x", "--tool", "manual"],
    ] {
        let out = env.run(&bad);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{bad:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = env.run(&[
        "analysis",
        "add",
        "--source-id",
        "x",
        "--tool",
        "claude",
        "--usage-from",
        "claude:/no/such.jsonl",
    ]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn list_filters_and_json_shape() {
    let env = TestEnv::with_fixtures();
    let a = start(
        &env,
        &["--tool", "claude", "--usage-session-id", SA, "--pass", "1"],
    );
    ok_stdout(&env.run(&["analysis", "complete", "--id", &a]));
    ok_stdout(&env.run(&[
        "analysis",
        "add",
        "--source-id",
        "other",
        "--tool",
        "manual",
        "--tokens-in",
        "1",
        "--started-at",
        "2020-01-01T00:00:00Z",
    ]));
    let all = env.json(&["analysis", "list", "--json"]);
    assert_eq!(all["analyses"].as_array().expect("arr").len(), 2);
    let keys: Vec<&str> = all["analyses"][0]
        .as_object()
        .expect("obj")
        .keys()
        .map(String::as_str)
        .collect();
    for k in [
        "id",
        "source_id",
        "pass",
        "status",
        "tool",
        "model",
        "started_at",
        "completed_at",
        "tokens_in",
        "tokens_out",
        "total_tokens",
        "cost_usd",
        "stages_json",
        "notes",
        "claims_extracted",
        "claims_updated",
        "tokens_baseline",
        "tokens_final",
        "tokens_check",
        "usage_provider",
        "usage_mode",
        "usage_session_id",
        "inputs_source_ids",
        "inputs_analysis_ids",
    ] {
        assert!(keys.contains(&k), "missing {k}");
    }
    let count = |args: &[&str]| {
        let mut all = vec!["analysis", "list", "--json"];
        all.extend_from_slice(args);
        env.json(&all)["analyses"].as_array().expect("arr").len()
    };
    assert_eq!(count(&["--source-id", "doc-1"]), 1);
    assert_eq!(count(&["--tool", "manual"]), 1);
    assert_eq!(count(&["--status", "completed"]), 2);
    assert_eq!(count(&["--since", "2021-01-01"]), 1);
    assert_eq!(count(&["--until", "2020-01-01"]), 1);
    assert_eq!(count(&["--until", "2019-12-31"]), 0);
    assert_eq!(
        env.run(&["analysis", "list", "--since", "last week"])
            .status
            .code(),
        Some(2)
    );
    let text = ok_stdout(&env.run(&["analysis", "list"]));
    assert!(text.contains(&a) && text.contains("other"), "{text}");
    let text = ok_stdout(&env.run(&["analysis", "show", "--id", &a]));
    assert!(
        text.contains("tokens_baseline") && text.contains("5,554"),
        "{text}"
    );
}
