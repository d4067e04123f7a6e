//! `tokledger hook claude` as Claude Code runs it: a real process, the payload on stdin.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

fn payload(event: &str, session: &str, transcript: &Path) -> String {
    serde_json::json!({
        "session_id": session,
        "transcript_path": transcript,
        "cwd": "/home/dev/app",
        "permission_mode": "default",
        "hook_event_name": event,
        "tool_name": "Bash",
        "tool_input": {"command": "cargo test"},
        "tool_response": {"stdout": "ok", "stderr": "", "interrupted": false},
        "tool_use_id": "toolu_H1"
    })
    .to_string()
}

/// Run the hook with `stdin` as its payload; returns the output and how long it took.
fn hook(cmd: Command, stdin: &str) -> (Output, Duration) {
    run_with_stdin(cmd, stdin)
}

fn state(env: &TestEnv) -> std::path::PathBuf {
    env.dir.path().join("state")
}

/// The hook with its log under the temp dir.
fn hook_cmd(env: &TestEnv) -> Command {
    let mut c = env.cmd(&["hook", "claude"]);
    c.env("XDG_STATE_HOME", state(env));
    c
}

fn log_text(env: &TestEnv) -> String {
    std::fs::read_to_string(state(env).join("tokledger/hook.log")).unwrap_or_default()
}

fn assert_quiet_success(out: &Output, took: Duration) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stdout.is_empty(),
        "stdout: {:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(took < Duration::from_secs(1), "took {took:?}");
}

/// What the ledger holds, read with SQL so that no tokledger command reads transcripts first.
fn ledger_total(env: &TestEnv, session: &str) -> i64 {
    let c = rusqlite::Connection::open(env.db()).expect("open");
    c.query_row(
        "SELECT coalesce(sum(input_tokens + cache_creation_tokens + cache_read_tokens + output_tokens), 0)
         FROM session_usage WHERE tool = 'claude' AND session_id = ?1",
        [session],
        |r| r.get(0),
    )
    .expect("query")
}

fn claude_line(id: &str, usage: (i64, i64, i64, i64), content: &str) -> String {
    format!(
        r#"{{"type":"assistant","sessionId":"{SA}","timestamp":"2026-03-02T11:00:00.000Z","requestId":"req_{id}","message":{{"id":"{id}","model":"claude-opus-4-1-20250805","content":{content},"usage":{{"input_tokens":{},"cache_creation_input_tokens":{},"cache_read_input_tokens":{},"output_tokens":{}}}}}}}"#,
        usage.0, usage.1, usage.2, usage.3
    ) + "\n"
}

#[test]
fn session_start_appends_the_session_to_the_env_file_and_start_binds_to_it() {
    let env = TestEnv::with_fixtures();
    let env_file = env.dir.path().join("claude-env.sh");
    std::fs::write(&env_file, "export EARLIER=1\n").expect("write");
    let transcript = env.home().join(".claude/projects/-home-dev-lib/a b.jsonl");
    let mut cmd = hook_cmd(&env);
    cmd.env("CLAUDE_ENV_FILE", &env_file);
    let (out, took) = hook(cmd, &payload("SessionStart", SB, &transcript));
    assert_quiet_success(&out, took);
    assert_eq!(
        std::fs::read_to_string(&env_file).expect("read"),
        format!(
            "export EARLIER=1\nexport TOKLEDGER_SESSION_ID={SB}\nexport TOKLEDGER_SESSION_PATH='{}'\nexport TOKLEDGER_SESSION_TOOL=claude\n",
            transcript.display()
        )
    );
    assert_eq!(log_text(&env), "", "nothing went wrong");

    // A later shell command of the session sources the file (as Claude Code does) and binds.
    let script = format!(
        ". '{}' && exec '{}' analysis start --source-id x --tool claude",
        env_file.display(),
        env!("CARGO_BIN_EXE_tokledger")
    );
    let out = Command::new("sh")
        .args(["-c", &script])
        .env_clear()
        .env("HOME", env.home())
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("TOKLEDGER_DB", env.db())
        .current_dir(env.dir.path())
        .output()
        .expect("sh");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = String::from_utf8(out.stdout)
        .expect("utf8")
        .trim()
        .to_owned();
    let row = env.json(&["analysis", "show", "--id", &id, "--json"]);
    assert_eq!(row["usage_session_id"], SB);
    assert_eq!(row["session_binding"], "tokledger_session_id");
    assert_eq!(row["tokens_baseline"], 300);

    // The same variables do not bind a Codex analysis to the Claude session.
    let out = Command::new("sh")
        .args([
            "-c",
            &script.replace(
                "--tool claude",
                &format!("--tool codex --usage-session-id {CX}"),
            ),
        ])
        .env_clear()
        .env("HOME", env.home())
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("TOKLEDGER_DB", env.db())
        .current_dir(env.dir.path())
        .output()
        .expect("sh");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = String::from_utf8(out.stdout)
        .expect("utf8")
        .trim()
        .to_owned();
    assert_eq!(
        env.json(&["analysis", "show", "--id", &id, "--json"])["usage_session_id"],
        CX
    );
}

#[test]
fn session_start_without_an_env_file_does_nothing() {
    let env = TestEnv::with_fixtures();
    let (out, took) = hook(
        hook_cmd(&env),
        &payload("SessionStart", SB, &env.home().join("none.jsonl")),
    );
    assert_quiet_success(&out, took);
    assert!(out.stderr.is_empty());
    assert_eq!(log_text(&env), "");
}

#[test]
fn tool_events_put_that_sessions_usage_and_tool_calls_in_the_ledger() {
    let env = TestEnv::with_fixtures();
    let transcript = claude_main(&env.home());
    let (out, took) = hook(hook_cmd(&env), &payload("PostToolUse", SA, &transcript));
    assert_quiet_success(&out, took);
    assert_eq!(
        ledger_total(&env, SA),
        5554,
        "the session, sub-agent file included"
    );
    let c = rusqlite::Connection::open(env.db()).expect("open");
    let files: Vec<String> = c
        .prepare("SELECT path FROM source_files ORDER BY path")
        .expect("prepare")
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(files.len(), 2, "only that session's two files: {files:?}");
    assert!(files.iter().all(|f| f.contains(SA)), "{files:?}");

    // The agent calls a tool; the hook of the failed result brings usage and the call in.
    append(
        &transcript,
        claude_line(
            "msg_H",
            (7, 0, 3000, 11),
            r#"[{"type":"tool_use","id":"toolu_H1","name":"Bash","input":{"command":"cargo test"}}]"#,
        ),
    );
    append(
        &transcript,
        format!(
            "{}\n",
            format_args!(
                r#"{{"type":"user","sessionId":"{SA}","timestamp":"2026-03-02T11:00:02.000Z","message":{{"role":"user","content":[{{"type":"tool_result","tool_use_id":"toolu_H1","content":"exit 101","is_error":true}}]}}}}"#
            )
        ),
    );
    let (out, took) = hook(
        hook_cmd(&env),
        &payload("PostToolUseFailure", SA, &transcript),
    );
    assert_quiet_success(&out, took);
    assert_eq!(ledger_total(&env, SA), 5554 + 3018);
    let (name, failed, called, result): (String, i64, i64, i64) = c
        .query_row(
            "SELECT name, failed, called_at_ms, result_at_ms FROM tool_calls WHERE call_id = 'toolu_H1'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .expect("the tool call is in the ledger");
    assert_eq!((name.as_str(), failed, result - called), ("Bash", 1, 2000));

    // A running analysis sees the usage the hooks brought in.
    let id = env.start("x", &["--tool", "claude", "--usage-session-id", SA]);
    append(&transcript, claude_line("msg_I", (1, 2, 3, 4), "[]"));
    for event in ["Stop", "SessionEnd"] {
        let (out, took) = hook(hook_cmd(&env), &payload(event, SA, &transcript));
        assert_quiet_success(&out, took);
    }
    assert_eq!(ledger_total(&env, SA), 5554 + 3018 + 10);
    let row = env.json(&["analysis", "complete", "--id", &id, "--json"]);
    assert_eq!(row["tokens_check"], 10);
    assert_eq!(log_text(&env), "", "nothing went wrong");
}

#[test]
fn a_transcript_not_written_yet_is_not_an_error() {
    let env = TestEnv::with_fixtures();
    let (out, took) = hook(
        hook_cmd(&env),
        &payload(
            "Stop",
            "new-session",
            &env.home().join(".claude/projects/-x/new-session.jsonl"),
        ),
    );
    assert_quiet_success(&out, took);
    assert_eq!(log_text(&env), "");
}

#[test]
fn an_unusable_ledger_path_still_exits_0_within_a_second() {
    let env = TestEnv::with_fixtures();
    let mut cmd = hook_cmd(&env);
    // A ledger below a regular file can never be created.
    cmd.env("TOKLEDGER_DB", "/dev/null/ledger.db");
    let (out, took) = hook(cmd, &payload("PostToolUse", SA, &claude_main(&env.home())));
    assert_quiet_success(&out, took);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/dev/null"), "{err}");
    let log = log_text(&env);
    assert_eq!(log.lines().count(), 1, "{log}");
    assert!(
        log.contains(&format!("hook claude PostToolUse session {SA}"))
            && log.contains("could not create the ledger directory /dev/null"),
        "{log}"
    );
}

#[test]
fn a_locked_ledger_is_waited_on_briefly_then_left_for_the_next_event() {
    let env = TestEnv::with_fixtures();
    let transcript = claude_main(&env.home());
    let (out, _) = hook(hook_cmd(&env), &payload("PostToolUse", SA, &transcript));
    assert!(out.status.success());
    append(&transcript, claude_line("msg_L", (7, 0, 3000, 11), "[]"));
    let lock = rusqlite::Connection::open(env.db()).expect("open");
    lock.execute_batch("BEGIN EXCLUSIVE").expect("lock");
    let (out, took) = hook(hook_cmd(&env), &payload("PostToolUse", SA, &transcript));
    assert_quiet_success(&out, took);
    assert!(log_text(&env).contains("locked"), "{}", log_text(&env));
    lock.execute_batch("ROLLBACK").expect("unlock");
    drop(lock);
    assert_eq!(
        ledger_total(&env, SA),
        5554,
        "nothing was written while locked"
    );
    let (out, took) = hook(hook_cmd(&env), &payload("Stop", SA, &transcript));
    assert_quiet_success(&out, took);
    assert_eq!(
        ledger_total(&env, SA),
        5554 + 3018,
        "the next event catches up"
    );
}

#[test]
fn a_payload_that_never_ends_does_not_hold_the_agent() {
    let env = TestEnv::with_fixtures();
    let began = Instant::now();
    let mut child = hook_cmd(&env)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // Half a payload, and stdin stays open.
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(b"{\"session_id\":").expect("write");
    let out = child.wait_with_output().expect("wait");
    let took = began.elapsed();
    drop(stdin);
    assert_quiet_success(&out, took);
    assert!(
        log_text(&env).contains("no complete payload on stdin"),
        "{}",
        log_text(&env)
    );
}

#[test]
fn bad_input_and_bad_arguments_exit_0() {
    let env = TestEnv::with_fixtures();
    for input in ["", "not json", "[1,2]", "{\"hook_event_name\":\"Stop\"}"] {
        let (out, took) = hook(hook_cmd(&env), input);
        assert_quiet_success(&out, took);
    }
    let mut cmd = env.cmd(&["hook", "claude", "--no-such-flag"]);
    cmd.env("XDG_STATE_HOME", state(&env));
    let (out, took) = hook(cmd, "{}");
    assert_quiet_success(&out, took);
    // An environment that breaks the global options must not break the hook either.
    let mut cmd = hook_cmd(&env);
    cmd.env("TOKLEDGER_BUSY_TIMEOUT", "soon");
    let (out, took) = hook(cmd, "{}");
    assert_quiet_success(&out, took);
    let log = log_text(&env);
    assert_eq!(log.lines().count(), 6, "{log}");
    assert!(
        log.contains("not JSON") && log.contains("--no-such-flag") && log.contains("soon"),
        "{log}"
    );
}

#[test]
fn a_read_cut_short_by_the_deadline_is_finished_by_later_events_exactly() {
    let env = TestEnv::empty();
    let session = "abababab-abab-4bab-8bab-abababababab";
    let dir = env.home().join(".claude/projects/-p");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let path = dir.join(format!("{session}.jsonl"));
    // ~28 MB: more than a debug build reads within the hook's deadline on a small machine
    // (a faster one finishes in one event: the test holds either way).
    let filler = "x".repeat(300);
    let mut text = String::new();
    for i in 0..60_000 {
        text.push_str(&format!(
            r#"{{"type":"assistant","sessionId":"{session}","timestamp":"2026-03-02T10:00:00.000Z","requestId":"r{i}","message":{{"id":"m{i}","model":"claude-opus-4-1-20250805","content":[{{"type":"text","text":"{filler}"}}],"usage":{{"input_tokens":1,"cache_creation_input_tokens":2,"cache_read_input_tokens":3,"output_tokens":4}}}}}}"#
        ));
        text.push('\n');
    }
    std::fs::write(&path, text).expect("write");
    let mut events = 0;
    loop {
        let (out, took) = hook(hook_cmd(&env), &payload("Stop", session, &path));
        assert_eq!(out.status.code(), Some(0));
        assert!(took < Duration::from_millis(1500), "took {took:?}");
        events += 1;
        if ledger_total(&env, session) == 60_000 * 10 {
            break;
        }
        assert!(events < 60, "no progress");
    }
    // A read stopped at its time limit is expected, not a problem: at most a hard cut
    // (the whole hook past its limit) is logged.
    let log = log_text(&env);
    assert!(
        log.lines().all(|l| l.contains("not finished within")),
        "{log}"
    );
    assert!(events >= 1);
}

/// What PostToolUse and PostToolUseFailure payloads say is in the ledger when the hook
/// returns, before the transcript holds the call; the transcript's copy merges into it.
#[test]
fn tool_payloads_are_recorded_at_once_and_merge_with_the_transcript() {
    let env = TestEnv::empty();
    let transcript = env.home().join(format!(".claude/projects/-w/{SA}.jsonl"));
    std::fs::create_dir_all(transcript.parent().unwrap()).unwrap();
    std::fs::write(&transcript, claude_line("msg_0", (1, 2, 3, 4), "[]")).unwrap();
    let with = |event: &str, extra: serde_json::Value| {
        let mut v: serde_json::Value =
            serde_json::from_str(&payload(event, SA, &transcript)).unwrap();
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        v.to_string()
    };
    let ok = with(
        "PostToolUse",
        serde_json::json!({"tool_use_id": "toolu_W", "tool_name": "Write", "duration_ms": 37,
            "tool_input": {"file_path": "/w/notes.txt", "content": "x"}, "agent_id": "a12",
            "agent_type": "general-purpose", "tool_response": {"type": "create"}}),
    );
    let failed = with(
        "PostToolUseFailure",
        serde_json::json!({"tool_use_id": "toolu_F", "duration_ms": 52, "error": "Exit code 2",
            "is_interrupt": false, "tool_response": null}),
    );
    for p in [&ok, &failed] {
        let (out, took) = hook(hook_cmd(&env), p);
        assert_quiet_success(&out, took);
    }
    let c = rusqlite::Connection::open(env.db()).expect("open");
    let row = |id: &str| -> (
        String,
        i64,
        i64,
        Option<String>,
        Option<String>,
        Option<String>,
    ) {
        c.query_row(
            "SELECT name, failed, duration_ms, file_path, agent_id, command FROM tool_calls WHERE call_id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
        )
        .expect("the call is in the ledger")
    };
    assert_eq!(
        row("toolu_W"),
        (
            "Write".into(),
            0,
            37,
            Some("/w/notes.txt".into()),
            Some("a12".into()),
            None
        )
    );
    assert_eq!(
        row("toolu_F"),
        ("Bash".into(), 1, 52, None, None, Some("cargotest".into()))
    );
    // The transcript's copy of the failed call arrives: one row, the payload's duration.
    append(
        &transcript,
        claude_line(
            "msg_1",
            (5, 6, 7, 8),
            r#"[{"type":"tool_use","id":"toolu_F","name":"Bash","input":{"command":"cargo test"}}]"#,
        ) + &format!(
            "{}\n",
            serde_json::json!({"type": "user", "sessionId": SA, "timestamp": "2026-03-02T11:00:05.000Z",
                "message": {"role": "user", "content": [{"type": "tool_result",
                    "tool_use_id": "toolu_F", "content": "Exit code 2", "is_error": true}]}})
        ),
    );
    let (out, took) = hook(hook_cmd(&env), &with("Stop", serde_json::json!({})));
    assert_quiet_success(&out, took);
    let n: i64 = c
        .query_row(
            "SELECT count(*) FROM tool_calls WHERE call_id = 'toolu_F'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(row("toolu_F").2, 52);
    let key: String = c
        .query_row(
            "SELECT response_key FROM tool_calls WHERE call_id = 'toolu_F'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(key, "claude:msg_1");
}

/// A FIFO where the hook's log goes, or where Claude Code keeps its running session's
/// file, blocks nothing: the hook still answers within its second, and `start` binds by the
/// other rules.
#[test]
fn fifos_where_files_are_expected_block_nothing() {
    let env = TestEnv::with_fixtures();
    let log_dir = state(&env).join("tokledger");
    std::fs::create_dir_all(&log_dir).unwrap();
    let fifo = log_dir.join("hook.log");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    // A payload that fails makes the hook write its log.
    let (out, took) = hook(hook_cmd(&env), "not json");
    assert_eq!(out.status.code(), Some(0));
    assert!(took < Duration::from_secs(1), "took {took:?}");
    // Our parent's pid: the test process; a FIFO named after it in Claude's sessions folder.
    let sessions = env.home().join(".claude/sessions");
    std::fs::create_dir_all(&sessions).unwrap();
    let me = std::process::id();
    assert!(
        std::process::Command::new("mkfifo")
            .arg(sessions.join(format!("{me}.json")))
            .status()
            .unwrap()
            .success()
    );
    let began = Instant::now();
    let out = env
        .cmd(&[
            "analysis",
            "start",
            "--source-id",
            "x",
            "--tool",
            "claude",
            "--usage-session-id",
            SA,
        ])
        .env("CLAUDECODE", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(began.elapsed() < Duration::from_secs(5));
}
