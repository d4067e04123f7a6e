//! Snapshots anchored to the tool call that ran them (SPEC "What a snapshot counts"): for
//! each agent, the issuing response on disk before the command, arriving while it waits,
//! and arriving only after it (provisional, then settled by a later read). The commands
//! run as an agent runs them: through a shell whose command line holds the call's command,
//! with the agent's environment variables set.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use crate::common::{TestEnv, append};
use serde_json::{Value, json};

const SID: &str = "aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa";
const THREAD: &str = "bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb";

/// Usage of scripted response `n`: every bucket differs per response, so an off-by-one in
/// any of them shows.
fn usage(n: i64) -> (i64, i64, i64, i64) {
    (100 * n + 1, 1000 * n + 2, 10_000 * n + 3, 10 * n + 4)
}

fn total(n: i64) -> i64 {
    let (i, c, r, o) = usage(n);
    i + c + r + o
}

fn claude_file(env: &TestEnv) -> PathBuf {
    let dir = env.home().join(".claude/projects/-work-app");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(format!("{SID}.jsonl"))
}

/// Response `n` as Claude Code writes it: an assistant line, with a Bash `tool_use` running
/// `command` when there is one.
fn claude_response(n: i64, command: Option<&str>) -> String {
    let (i, c, r, o) = usage(n);
    let content = match command {
        Some(cmd) => json!([{"type": "tool_use", "id": format!("toolu_{n}"), "name": "Bash",
                             "input": {"command": cmd, "description": "run"}}]),
        None => json!([{"type": "text", "text": "ok"}]),
    };
    let line = json!({"type": "assistant", "sessionId": SID, "cwd": "/work/app",
        "timestamp": format!("2026-05-01T10:00:{:02}.000Z", n * 2),
        "requestId": format!("req_{n}"),
        "message": {"id": format!("msg_{n}"), "model": "claude-sonnet-4-5", "role": "assistant",
            "content": content,
            "usage": {"input_tokens": i, "cache_creation_input_tokens": c,
                      "cache_read_input_tokens": r, "output_tokens": o}}});
    format!("{line}\n")
}

fn claude_result(n: i64) -> String {
    let line = json!({"type": "user", "sessionId": SID,
        "timestamp": format!("2026-05-01T10:00:{:02}.500Z", n * 2),
        "message": {"role": "user", "content": [{"type": "tool_result",
            "tool_use_id": format!("toolu_{n}"), "content": "done", "is_error": false}]}});
    format!("{line}\n")
}

/// The command as the agent wrote it; the shell runs it with `$TL` set to the binary.
fn claude_cmd(args: &str) -> String {
    format!("\"$TL\" {args}")
}

/// Run `command` the way an agent's shell tool does: `bash -c` holding the command (the
/// trailing status keeps bash from exec'ing the last command, as an agent's wrapper does).
pub(crate) fn via_shell(
    env: &TestEnv,
    command: &str,
    agent_env: &[(&str, &str)],
    wait: &str,
) -> Output {
    let mut sh = std::process::Command::new("bash");
    sh.arg("-c")
        .arg(format!("{command}; rc=$?; exit $rc"))
        .env_clear()
        .env("HOME", env.home())
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("TOKLEDGER_DB", env.db())
        .env("TL", env!("CARGO_BIN_EXE_tokledger"))
        .env("TOKLEDGER_ANCHOR_WAIT", wait)
        .current_dir(env.dir.path());
    for (k, v) in agent_env {
        sh.env(k, v);
    }
    sh.output().expect("run bash")
}

pub(crate) fn ok_stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

pub(crate) fn show(env: &TestEnv, id: &str) -> Value {
    env.json(&["analysis", "show", "--id", id, "--json"])
}

pub(crate) fn snapshots(row: &Value) -> Vec<(String, i64, bool, Option<String>)> {
    row["snapshots"]
        .as_array()
        .expect("snapshots")
        .iter()
        .map(|s| {
            (
                s["kind"].as_str().unwrap().to_owned(),
                s["tokens"].as_i64().unwrap(),
                s["settled"].as_bool().unwrap(),
                s["anchor_call_id"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

/// Append `text` to `path` after `delay`, on a thread (the agent finishing its response
/// while our command waits).
fn append_later(path: &Path, text: String, delay: Duration) -> std::thread::JoinHandle<()> {
    let path = path.to_owned();
    std::thread::spawn(move || {
        std::thread::sleep(delay);
        append(&path, text);
    })
}

const CLAUDE_ENV: &[(&str, &str)] = &[("CLAUDE_CODE_SESSION_ID", SID), ("CLAUDECODE", "1")];

#[test]
fn claude_issuing_response_already_on_disk() {
    let env = TestEnv::empty();
    let f = claude_file(&env);
    let start = claude_cmd("analysis start --source-id s --tool claude");
    std::fs::write(
        &f,
        claude_response(0, None) + &claude_response(1, Some(&start)),
    )
    .unwrap();
    let id = ok_stdout(&via_shell(&env, &start, CLAUDE_ENV, "5"));
    let row = show(&env, &id);
    assert_eq!(row["tokens_baseline"], total(0) + total(1));
    assert_eq!(row["session_binding"], "claude_code_session_id");
    assert_eq!(
        snapshots(&row),
        vec![(
            "baseline".into(),
            total(0) + total(1),
            true,
            Some("toolu_1".into())
        )]
    );
}

#[test]
fn claude_whole_lifecycle_with_each_ordering() {
    let env = TestEnv::empty();
    let f = claude_file(&env);
    let start = claude_cmd("analysis start --source-id s --tool claude > id.txt");
    let mark = claude_cmd("analysis mark --id \"$(cat id.txt)\" --stage middle");
    let complete = claude_cmd("analysis complete --id \"$(cat id.txt)\"");
    // R1 (start) reaches the transcript while start waits for it.
    std::fs::write(&f, claude_response(0, None)).unwrap();
    let later = append_later(
        &f,
        claude_response(1, Some(&start)),
        Duration::from_millis(600),
    );
    ok_stdout(&via_shell(&env, &start, CLAUDE_ENV, "10"));
    later.join().unwrap();
    let id = std::fs::read_to_string(env.dir.path().join("id.txt")).unwrap();
    let id = id.trim();
    // R2 (mark) comes only after the command: provisional, what was on disk (R0, R1).
    append(&f, claude_result(1));
    let out = via_shell(&env, &mark, CLAUDE_ENV, "0.3");
    ok_stdout(&out);
    assert!(String::from_utf8_lossy(&out.stderr).contains("provisional"));
    let row = show(&env, id);
    assert_eq!(row["stages"][0]["tokens"], total(0) + total(1));
    assert_eq!(row["snapshots_settled"], false);
    // R2 lands, then R3 (complete) is on disk before complete runs; R4 comes after.
    append(&f, claude_response(2, Some(&mark)) + &claude_result(2));
    append(&f, claude_response(3, Some(&complete)));
    ok_stdout(&via_shell(&env, &complete, CLAUDE_ENV, "5"));
    append(&f, claude_result(3) + &claude_response(4, None));
    // complete's own read settled the mark; a later read changes nothing.
    env.sessions();
    let row = show(&env, id);
    let through = |n: i64| (0..=n).map(total).sum::<i64>();
    assert_eq!(row["tokens_baseline"], through(1));
    assert_eq!(row["stages"][0]["tokens"], through(2));
    assert_eq!(row["stages"][0]["delta"], total(2));
    assert_eq!(row["tokens_final"], through(3));
    assert_eq!(row["tokens_check"], total(2) + total(3));
    let (i2, c2, r2, o2) = usage(2);
    let (i3, c3, r3, o3) = usage(3);
    assert_eq!(row["tokens_in"], i2 + c2 + r2 + i3 + c3 + r3);
    assert_eq!(row["tokens_out"], o2 + o3);
    assert_eq!(row["snapshots_settled"], true);
    let anchors: Vec<_> = snapshots(&row).into_iter().map(|s| s.3).collect();
    assert_eq!(
        anchors,
        [Some("toolu_1"), Some("toolu_2"), Some("toolu_3")].map(|s| s.map(str::to_owned))
    );
    assert_eq!(env.tokens(SID), through(4));
    let v = env.run(&["analysis", "validate"]);
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));
}

#[test]
fn claude_snapshot_settles_on_a_later_read_of_the_session() {
    let env = TestEnv::empty();
    let f = claude_file(&env);
    let start = claude_cmd("analysis start --source-id s --tool claude");
    std::fs::write(&f, claude_response(0, None)).unwrap();
    let id = ok_stdout(&via_shell(&env, &start, CLAUDE_ENV, "0.2"));
    assert_eq!(show(&env, &id)["tokens_baseline"], total(0));
    // The response and the next one arrive; a report (any read) settles the baseline at R1.
    append(
        &f,
        claude_response(1, Some(&start)) + &claude_result(1) + &claude_response(2, None),
    );
    let r = env.run(&["report", "daily", "--json"]);
    assert!(r.status.success());
    let row = show(&env, &id);
    assert_eq!(row["tokens_baseline"], total(0) + total(1));
    assert_eq!(
        snapshots(&row),
        vec![(
            "baseline".into(),
            total(0) + total(1),
            true,
            Some("toolu_1".into())
        )]
    );
}

#[test]
fn outside_a_tool_call_or_in_another_session_counts_what_is_on_disk() {
    let env = TestEnv::empty();
    let f = claude_file(&env);
    let start = claude_cmd("analysis start --source-id s --tool claude");
    std::fs::write(
        &f,
        claude_response(0, None) + &claude_response(1, Some(&start)),
    )
    .unwrap();
    append(&f, claude_result(1) + &claude_response(2, None));
    // A person at the terminal: everything on disk.
    let out = env.run(&[
        "analysis",
        "start",
        "--source-id",
        "s",
        "--tool",
        "claude",
        "--usage-session-id",
        SID,
    ]);
    let id = ok_stdout(&out);
    let row = show(&env, &id);
    assert_eq!(row["tokens_baseline"], total(0) + total(1) + total(2));
    assert!(snapshots(&row)[0].2);
    assert_eq!(snapshots(&row)[0].3, None);
    // Inside another Claude session's tool call: not that session's call, no waiting.
    let other = [
        (
            "CLAUDE_CODE_SESSION_ID",
            "cccccccc-0000-4000-8000-cccccccccccc",
        ),
        ("CLAUDECODE", "1"),
    ];
    let cmd = format!("{start} --usage-session-id {SID}");
    let t = std::time::Instant::now();
    let id = ok_stdout(&via_shell(&env, &cmd, &other, "5"));
    assert!(t.elapsed() < Duration::from_secs(4));
    assert_eq!(
        show(&env, &id)["tokens_baseline"],
        total(0) + total(1) + total(2)
    );
}

fn codex_file(env: &TestEnv) -> PathBuf {
    let dir = env.home().join(".codex/sessions/2026/05/01");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(format!("rollout-2026-05-01T10-00-00-{THREAD}.jsonl"))
}

fn codex_line(sec: i64, kind: &str, payload: Value) -> String {
    let line = json!({"timestamp": format!("2026-05-01T10:01:{sec:02}.000Z"), "type": kind,
                      "payload": payload});
    format!("{line}\n")
}

fn codex_head() -> String {
    codex_line(
        0,
        "session_meta",
        json!({"id": THREAD, "cwd": "/work/app", "cli_version": "0.171.0"}),
    ) + &codex_line(
        0,
        "turn_context",
        json!({"model": "gpt-5.5", "cwd": "/work/app"}),
    )
}

/// Cumulative counters after responses 0..=n, as Codex reports them (input includes cache
/// reads and writes).
fn codex_counters(n: i64) -> Value {
    let (mut i, mut c, mut r, mut o) = (0, 0, 0, 0);
    for k in 0..=n {
        let (ki, kc, kr, ko) = usage(k);
        i += ki + kc + kr;
        c += kc;
        r += kr;
        o += ko;
    }
    json!({"input_tokens": i, "cached_input_tokens": r, "cache_write_input_tokens": c,
           "output_tokens": o, "reasoning_output_tokens": 0, "total_tokens": i + o})
}

fn codex_last(n: i64) -> Value {
    let (i, c, r, o) = usage(n);
    json!({"input_tokens": i + c + r, "cached_input_tokens": r, "cache_write_input_tokens": c,
           "output_tokens": o, "reasoning_output_tokens": 0, "total_tokens": i + c + r + o})
}

fn codex_call(n: i64, cmd: &str) -> String {
    codex_line(
        n * 3,
        "response_item",
        json!({"type": "function_call", "name": "exec_command", "call_id": format!("call_{n}"),
               "arguments": json!({"cmd": cmd}).to_string()}),
    )
}

/// Codex 0.171's record of response `n`, written before its tool runs.
fn codex_record(n: i64) -> String {
    codex_line(
        n * 3,
        "token_usage_record",
        json!({"response_id": format!("resp_{n}"), "usage": codex_last(n),
               "turn_token_usage": codex_last(n), "thread_token_usage": codex_counters(n)}),
    )
}

/// What follows the tool: its output, the outcome and the response's `token_count`.
fn codex_after_tool(n: i64, exit: i64) -> String {
    codex_line(
        n * 3 + 1,
        "response_item",
        json!({"type": "function_call_output", "call_id": format!("call_{n}"),
               "output": format!("Process exited with code {exit}\nOutput:\n")}),
    ) + &codex_line(
        n * 3 + 1,
        "event_msg",
        json!({"type": "item_completed", "item": {"type": "CommandExecution",
                   "id": format!("call_{n}"), "status": if exit == 0 { "completed" } else { "failed" },
                   "exit_code": exit, "duration": {"secs": 1, "nanos": 250_000_000}}}),
    ) + &codex_token_count(n)
}

fn codex_token_count(n: i64) -> String {
    codex_line(
        n * 3 + 2,
        "event_msg",
        json!({"type": "token_count", "info": {"total_token_usage": codex_counters(n),
               "last_token_usage": codex_last(n)}}),
    )
}

fn codex_env(call: &str) -> Vec<(&'static str, String)> {
    vec![
        ("CODEX_THREAD_ID", THREAD.to_owned()),
        ("CODEX_TOOL_CALL_ID", call.to_owned()),
    ]
}

fn via_codex(env: &TestEnv, args: &str, call: &str, wait: &str) -> Output {
    let vars = codex_env(call);
    let pairs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    via_shell(env, &format!("\"$TL\" {args}"), &pairs, wait)
}

#[test]
fn codex_counts_through_the_calling_response_with_its_cache_writes() {
    let env = TestEnv::empty();
    let f = codex_file(&env);
    // R0 a plain response; R1 runs start (its record is on disk before the tool runs).
    std::fs::write(
        &f,
        codex_head()
            + &codex_record(0)
            + &codex_token_count(0)
            + &codex_call(1, "tokledger analysis start")
            + &codex_record(1),
    )
    .unwrap();
    let id = ok_stdout(&via_codex(
        &env,
        "analysis start --source-id s --tool codex > id.txt; cat id.txt",
        "call_1",
        "5",
    ));
    let row = show(&env, &id);
    assert_eq!(row["tokens_baseline"], total(0) + total(1));
    assert_eq!(row["session_binding"], "codex_thread_id");
    // R2 a failing command; R3 runs mark; R4 runs complete.
    append(
        &f,
        codex_after_tool(1, 0)
            + &codex_call(2, "ls /nope")
            + &codex_record(2)
            + &codex_after_tool(2, 2)
            + &codex_call(3, "tokledger analysis mark")
            + &codex_record(3),
    );
    ok_stdout(&via_codex(
        &env,
        &format!("analysis mark --id {id} --stage s1"),
        "call_3",
        "5",
    ));
    append(
        &f,
        codex_after_tool(3, 0) + &codex_call(4, "tokledger analysis complete") + &codex_record(4),
    );
    ok_stdout(&via_codex(
        &env,
        &format!("analysis complete --id {id}"),
        "call_4",
        "5",
    ));
    append(&f, codex_after_tool(4, 0));
    let row = show(&env, &id);
    let through = |n: i64| (0..=n).map(total).sum::<i64>();
    assert_eq!(row["stages"][0]["tokens"], through(3));
    assert_eq!(row["tokens_final"], through(4));
    assert_eq!(row["tokens_check"], total(2) + total(3) + total(4));
    assert_eq!(row["snapshots_settled"], true);
    let s = &env.sessions()[THREAD];
    assert_eq!(s["tokens_so_far"], through(4));
    let cc: i64 = (0..=4).map(|n| usage(n).1).sum();
    let cr: i64 = (0..=4).map(|n| usage(n).2).sum();
    assert_eq!(s["cache_creation_tokens"], cc);
    assert_eq!(s["cache_read_tokens"], cr);
    // item_completed gives outcomes and exact durations.
    let tools = env.json(&["report", "tools", "--json"]);
    let text = tools.to_string();
    assert!(text.contains("exec_command"), "{text}");
    let conn = rusqlite::Connection::open(env.db()).unwrap();
    let (failed, dur): (i64, i64) = conn
        .query_row(
            "SELECT failed, duration_ms FROM tool_calls WHERE call_id = 'call_2'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((failed, dur), (1, 1250));
}

#[test]
fn codex_without_a_usage_record_is_provisional_then_settles() {
    // Codex before 0.171 writes the response's usage only after its tool ran.
    let env = TestEnv::empty();
    let f = codex_file(&env);
    std::fs::write(
        &f,
        codex_head() + &codex_token_count(0) + &codex_call(1, "tokledger analysis start"),
    )
    .unwrap();
    let id = ok_stdout(&via_codex(
        &env,
        "analysis start --source-id s --tool codex",
        "call_1",
        "0.3",
    ));
    let row = show(&env, &id);
    assert_eq!(row["tokens_baseline"], total(0));
    assert!(!snapshots(&row)[0].2);
    let old_style_after = |n: i64| {
        codex_line(
            n * 3 + 1,
            "response_item",
            json!({"type": "function_call_output", "call_id": format!("call_{n}"),
                   "output": "Process exited with code 0\n"}),
        ) + &codex_token_count(n)
    };
    append(&f, old_style_after(1) + &codex_token_count(2));
    env.sessions();
    let row = show(&env, &id);
    assert_eq!(row["tokens_baseline"], total(0) + total(1));
    assert_eq!(
        snapshots(&row)[0],
        (
            "baseline".into(),
            total(0) + total(1),
            true,
            Some("call_1".into())
        )
    );
}

#[test]
fn a_record_and_its_token_count_are_one_response() {
    let env = TestEnv::empty();
    let f = codex_file(&env);
    std::fs::write(
        &f,
        codex_head()
            + &codex_record(0)
            + &codex_token_count(0)
            + &codex_record(1)
            + &codex_token_count(1),
    )
    .unwrap();
    assert_eq!(env.tokens(THREAD), total(0) + total(1));
    let (i0, c0, r0, _) = usage(0);
    let (i1, c1, r1, _) = usage(1);
    let s = &env.sessions()[THREAD];
    assert_eq!(s["input_tokens"], i0 + i1);
    assert_eq!(s["cache_creation_tokens"], c0 + c1);
    assert_eq!(s["cache_read_tokens"], r0 + r1);
}

#[test]
fn validate_reports_a_snapshot_left_provisional_for_a_day() {
    let env = TestEnv::empty();
    let f = claude_file(&env);
    std::fs::write(&f, claude_response(0, None)).unwrap();
    let start = claude_cmd("analysis start --source-id s --tool claude");
    let id = ok_stdout(&via_shell(&env, &start, CLAUDE_ENV, "0.1"));
    let v = env.run(&["analysis", "validate"]);
    assert!(v.status.success(), "a fresh provisional snapshot is fine");
    let c = rusqlite::Connection::open(env.db()).unwrap();
    c.execute(
        "UPDATE analysis_snapshots SET at = '2026-01-01T00:00:00.000Z'",
        [],
    )
    .unwrap();
    let v = env.run(&["analysis", "validate"]);
    assert_eq!(v.status.code(), Some(1));
    let text = String::from_utf8_lossy(&v.stdout);
    assert!(
        text.contains(&id) && text.contains("still provisional"),
        "{text}"
    );
}
