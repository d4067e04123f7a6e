//! Gemini CLI sessions as Gemini CLI 0.61 writes them (lines written here by the test): a
//! response with tool calls written twice, a resume's whole-history rewrite (with and without
//! tokens, in the same file or with a second file of the same session), a failed command
//! recorded as `success`, a sub-agent's file under its parent.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::common::{TestEnv, append};

const SID: &str = "a409cc78-7476-4f0b-9a4d-a871a8905726";
const SUB: &str = "7f6db4c4-5af9-46b8-a440-18a0a21f51c4";

fn chats(env: &TestEnv) -> PathBuf {
    let d = env.home().join(".gemini/tmp/work/chats");
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn line(v: &Value) -> String {
    format!("{v}\n")
}

fn header(id: &str, kind: &str) -> String {
    line(
        &json!({"sessionId": id, "projectHash": "ce4a", "startTime": "2026-05-01T10:00:00.000Z",
                 "lastUpdated": "2026-05-01T10:00:00.000Z", "kind": kind}),
    )
}

fn context() -> String {
    line(
        &json!({"$set": {"messages": [{"id": "d049", "timestamp": "2026-05-01T10:00:00.001Z",
        "type": "user", "content": [{"text": "<session_context>\nThis is the Gemini CLI.\n- **Workspace Directories:**\n  - /work/app\n- **Directory Structure:**\n</session_context>"}]}]}}),
    )
}

/// Response `n`: distinct numbers in every field.
fn tokens(n: i64) -> Value {
    json!({"input": 1000 * n + 7, "output": 10 * n + 1, "cached": 100 * n + 3,
           "thoughts": 5 * n + 2, "tool": n, "total": 0})
}

/// Our total of response `n`: prompt + tool-use prompt + candidates + thoughts.
fn total(n: i64) -> i64 {
    (1000 * n + 7) + n + (10 * n + 1) + (5 * n + 2)
}

fn response(n: i64, calls: Option<Value>) -> Value {
    let mut m = json!({"id": format!("resp-{n}"), "timestamp": format!("2026-05-01T10:00:{n:02}.000Z"),
        "type": "gemini", "content": "", "tokens": tokens(n), "model": "gemini-3.8-flash"});
    if let Some(c) = calls {
        m["toolCalls"] = c;
    }
    m
}

fn shell_call(n: i64, command: &str, output: &str) -> Value {
    json!([{"id": format!("run_shell_command__c{n}"), "name": "run_shell_command",
            "args": {"command": command}, "status": "success",
            "timestamp": format!("2026-05-01T10:00:{n:02}.500Z"),
            "result": [{"functionResponse": {"response": {"output": output}}}]}])
}

fn db_row(env: &TestEnv, call: &str) -> (i64, Option<String>) {
    let c = rusqlite::Connection::open(env.db()).unwrap();
    c.query_row(
        "SELECT failed, response_key FROM tool_calls WHERE call_id = ?1",
        [call],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .unwrap()
}

fn main_file(dir: &Path, minute: &str) -> PathBuf {
    dir.join(format!("session-2026-05-01T10-{minute}-a409cc78.jsonl"))
}

#[test]
fn each_response_counts_once_with_gemini_buckets_and_outcomes() {
    let env = TestEnv::empty();
    let dir = chats(&env);
    let f = main_file(&dir, "00");
    let failing = "<untrusted_context>\nOutput: ls: cannot access\nExit Code: 2\nProcess Group PGID: 9\n</untrusted_context>";
    // R1 with a failing command: written before its tool runs, then again with toolCalls.
    std::fs::write(
        &f,
        header(SID, "main")
            + &context()
            + &line(&response(1, None))
            + &line(&json!({"$set": {"lastUpdated": "x"}}))
            + &line(&response(1, Some(shell_call(1, "ls /nope", failing))))
            + &line(&response(
                2,
                Some(shell_call(
                    2,
                    "echo ok",
                    "<untrusted_context>\nOutput: ok\n</untrusted_context>",
                )),
            )),
    )
    .unwrap();
    // The sub-agent's file, under the parent's folder.
    let sub = dir.join(SID);
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::write(
        sub.join(format!("{SUB}.jsonl")),
        header(SUB, "subagent") + &line(&response(3, None)),
    )
    .unwrap();
    let s = env.sessions();
    assert_eq!(s.len(), 1, "the sub-agent belongs to its parent: {s:?}");
    let g = &s[SID];
    assert_eq!(g["tool"], "gemini");
    assert_eq!(g["project"], "/work/app");
    assert_eq!(g["tokens_so_far"], total(1) + total(2) + total(3));
    let sum = |f: &dyn Fn(i64) -> i64| (1..=3).map(f).sum::<i64>();
    assert_eq!(
        g["input_tokens"],
        sum(&|n| (1000 * n + 7) - (100 * n + 3) + n)
    );
    assert_eq!(g["cache_read_tokens"], sum(&|n| 100 * n + 3));
    assert_eq!(g["output_tokens"], sum(&|n| (10 * n + 1) + (5 * n + 2)));
    assert_eq!(g["reasoning_tokens"], sum(&|n| 5 * n + 2));
    assert_eq!(
        db_row(&env, "run_shell_command__c1"),
        (1, Some("gemini:resp-1".into()))
    );
    assert_eq!(db_row(&env, "run_shell_command__c2").0, 0);
}

#[test]
fn a_resume_rewrite_counts_nothing_again_in_either_shape() {
    // Same minute: one file, a second header and a rewrite without tokens.
    let env = TestEnv::empty();
    let dir = chats(&env);
    let f = main_file(&dir, "00");
    std::fs::write(
        &f,
        header(SID, "main") + &context() + &line(&response(1, None)),
    )
    .unwrap();
    assert_eq!(env.tokens(SID), total(1));
    let mut bare = response(1, None);
    bare.as_object_mut().unwrap().remove("tokens");
    append(
        &f,
        header(SID, "main")
            + &line(&json!({"$set": {"sessionId": SID}}))
            + &line(&json!({"$set": {"messages": [bare]}}))
            + &line(&response(2, None)),
    );
    assert_eq!(env.tokens(SID), total(1) + total(2));

    // A later minute: a second file holding only a header, the rewrite (with tokens this
    // time) and the new responses in the original file.
    let env = TestEnv::empty();
    let dir = chats(&env);
    let f = main_file(&dir, "00");
    std::fs::write(
        &f,
        header(SID, "main") + &context() + &line(&response(1, None)),
    )
    .unwrap();
    assert_eq!(env.tokens(SID), total(1));
    std::fs::write(main_file(&dir, "01"), header(SID, "main") + &context()).unwrap();
    append(
        &f,
        line(&json!({"$set": {"sessionId": SID}}))
            + &line(&json!({"$set": {"messages": [response(1, None)]}}))
            + &line(&response(2, None)),
    );
    let s = env.sessions();
    assert_eq!(s.len(), 1);
    assert_eq!(s[SID]["tokens_so_far"], total(1) + total(2));
}

/// Gemini writes a response before running its tools: a snapshot from its shell tool counts
/// what is on disk, at once, and settles with the call's id when the call is written.
#[test]
fn a_snapshot_from_its_shell_tool_counts_the_disk_and_settles_by_command() {
    use crate::anchoring::{ok_stdout, show, snapshots, via_shell};
    let env = TestEnv::empty();
    let dir = chats(&env);
    let f = main_file(&dir, "00");
    let start =
        "\"$TL\" analysis start --source-id s --tool gemini --usage-session-id ".to_owned() + SID;
    std::fs::write(
        &f,
        header(SID, "main") + &context() + &line(&response(1, None)) + &line(&response(2, None)),
    )
    .unwrap();
    let id = ok_stdout(&via_shell(&env, &start, &[("GEMINI_CLI", "1")], "5"));
    let row = show(&env, &id);
    assert_eq!(row["tokens_baseline"], total(1) + total(2));
    assert_eq!(row["snapshots"][0]["waited_ms"], 0);
    assert!(!snapshots(&row)[0].2);
    // The tool returns: Gemini writes response 2 again with its call, then response 3.
    append(
        &f,
        line(&response(
            2,
            Some(shell_call(
                2,
                &start,
                "<untrusted_context>\nOutput: ok\n</untrusted_context>",
            )),
        )) + &line(&response(3, None)),
    );
    env.sessions();
    let row = show(&env, &id);
    assert_eq!(
        snapshots(&row)[0],
        (
            "baseline".into(),
            total(1) + total(2),
            true,
            Some("run_shell_command__c2".into())
        )
    );
}
