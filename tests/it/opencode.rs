//! OpenCode's database as OpenCode 1.18 writes it (the tables and JSON fields tokledger reads,
//! written here by the test): counted once per completed assistant message, sub-agent
//! sessions under their root, tool parts as calls, and snapshots taken by its bash tool
//! provisional until the issuing message has its tokens.

use std::path::PathBuf;

use rusqlite::{Connection, params};
use serde_json::json;

use crate::anchoring::{ok_stdout, show, snapshots, via_shell};
use crate::common::TestEnv;

const ROOT: &str = "ses_root";
const CHILD: &str = "ses_child";

fn db_path(env: &TestEnv) -> PathBuf {
    let dir = env.home().join(".local/share/opencode");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("opencode.db")
}

fn create(path: &PathBuf) -> Connection {
    let c = Connection::open(path).unwrap();
    c.execute_batch(
        "PRAGMA journal_mode = WAL;
         CREATE TABLE session (id TEXT PRIMARY KEY, project_id TEXT NOT NULL, parent_id TEXT,
             directory TEXT NOT NULL, title TEXT NOT NULL, version TEXT NOT NULL,
             time_created INTEGER NOT NULL, time_updated INTEGER NOT NULL);
         CREATE TABLE message (id TEXT PRIMARY KEY, session_id TEXT NOT NULL,
             time_created INTEGER NOT NULL, time_updated INTEGER NOT NULL, data TEXT NOT NULL);
         CREATE TABLE part (id TEXT PRIMARY KEY, message_id TEXT NOT NULL, session_id TEXT NOT NULL,
             time_created INTEGER NOT NULL, time_updated INTEGER NOT NULL, data TEXT NOT NULL);",
    )
    .unwrap();
    for (id, parent) in [(ROOT, None), (CHILD, Some(ROOT))] {
        c.execute(
            "INSERT INTO session VALUES (?1, 'p', ?2, '/work/app', 't', '1.18.33', 1000, 1000)",
            params![id, parent],
        )
        .unwrap();
    }
    c
}

/// Usage of message `n`, OpenCode's way: input without cache, output without reasoning.
fn tokens(n: i64) -> serde_json::Value {
    json!({"total": 0, "input": 100 * n + 1, "output": 10 * n + 2, "reasoning": n + 3,
           "cache": {"read": 1000 * n + 4, "write": 5 * n}})
}

/// Our total of message `n`: input + cache read + cache write + output + reasoning.
fn total(n: i64) -> i64 {
    (100 * n + 1) + (1000 * n + 4) + (5 * n) + (10 * n + 2) + (n + 3)
}

fn message(c: &Connection, n: i64, session: &str, completed: bool, at: i64) {
    let data = if completed {
        json!({"role": "assistant", "modelID": "gpt-5", "providerID": "openai", "tokens": tokens(n),
               "time": {"created": at, "completed": at + 5}, "finish": "tool-calls"})
    } else {
        json!({"role": "assistant", "modelID": "gpt-5", "providerID": "openai",
               "tokens": {"input": 0, "output": 0, "reasoning": 0, "cache": {"read": 0, "write": 0}},
               "time": {"created": at}})
    };
    c.execute(
        "INSERT INTO message VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(id) DO UPDATE SET time_updated = excluded.time_updated, data = excluded.data",
        params![format!("msg_{n}"), session, at, at + 5, data.to_string()],
    )
    .unwrap();
}

fn bash(c: &Connection, n: i64, session: &str, command: &str, exit: Option<i64>, at: i64) {
    let state = match exit {
        Some(e) => json!({"status": "completed", "input": {"command": command},
                          "metadata": {"exit": e}, "time": {"start": at, "end": at + 40}}),
        None => json!({"status": "running", "input": {"command": command}, "time": {"start": at}}),
    };
    let data =
        json!({"type": "tool", "tool": "bash", "callID": format!("call_{n}"), "state": state});
    c.execute(
        "INSERT INTO part VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(id) DO UPDATE SET time_updated = excluded.time_updated, data = excluded.data",
        params![
            format!("prt_{n}"),
            format!("msg_{n}"),
            session,
            at,
            at + 50,
            data.to_string()
        ],
    )
    .unwrap();
}

#[test]
fn messages_count_once_when_complete_and_sub_agents_under_their_root() {
    let env = TestEnv::empty();
    let c = create(&db_path(&env));
    message(&c, 1, ROOT, true, 2000);
    message(&c, 2, CHILD, true, 3000);
    bash(&c, 2, CHILD, "ls /nope", Some(2), 3001);
    message(&c, 3, ROOT, false, 4000); // still running its tool: 0 tokens, not counted
    let s = env.sessions();
    assert_eq!(s.len(), 1, "{s:?}");
    assert_eq!(s[ROOT]["tokens_so_far"], total(1) + total(2));
    assert_eq!(s[ROOT]["project"], "/work/app");
    assert_eq!(s[ROOT]["reasoning_tokens"], (1 + 3) + (2 + 3));
    assert_eq!(s[ROOT]["cache_creation_tokens"], 5 + 10);
    // The message completes (its row changes); the next read counts it once.
    message(&c, 3, ROOT, true, 4000);
    assert_eq!(env.tokens(ROOT), total(1) + total(2) + total(3));
    assert_eq!(env.tokens(ROOT), total(1) + total(2) + total(3));
    let db = rusqlite::Connection::open(env.db()).unwrap();
    let (failed, dur): (i64, i64) = db
        .query_row(
            "SELECT failed, duration_ms FROM tool_calls WHERE call_id = 'call_2'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((failed, dur), (1, 40));
}

#[test]
fn a_snapshot_from_its_bash_tool_binds_by_the_running_call_and_settles_later() {
    let env = TestEnv::empty();
    let c = create(&db_path(&env));
    message(&c, 1, ROOT, true, 2000);
    // Another session, so the newest-session rule alone would be ambiguous.
    c.execute(
        "INSERT INTO session VALUES ('ses_other', 'p', NULL, '/work/app', 't', '1.18.33', 1000, 1000)",
        [],
    )
    .unwrap();
    message(&c, 9, "ses_other", true, 2500);
    let start = "\"$TL\" analysis start --source-id s --tool opencode";
    message(&c, 2, ROOT, false, 3000);
    bash(&c, 2, ROOT, start, None, 3001);
    let marker = [("OPENCODE", "1"), ("AGENT", "1")];
    let id = ok_stdout(&via_shell(&env, start, &marker, "5"));
    let row = show(&env, &id);
    assert_eq!(row["session_binding"], "running_call");
    assert_eq!(row["usage_session_id"], ROOT);
    assert_eq!(row["tokens_baseline"], total(1));
    assert!(
        !snapshots(&row)[0].2,
        "provisional: message 2 has no tokens yet"
    );
    assert!(row["snapshots"][0]["waited_ms"].as_i64().unwrap() < 1000);
    // OpenCode finishes the step: the tool completes, the message gets its tokens; a later
    // message follows. Any read settles the baseline through message 2, not 3.
    bash(&c, 2, ROOT, start, Some(0), 3001);
    message(&c, 2, ROOT, true, 3000);
    message(&c, 3, ROOT, true, 5000);
    env.sessions();
    let row = show(&env, &id);
    assert_eq!(row["tokens_baseline"], total(1) + total(2));
    assert_eq!(
        snapshots(&row)[0],
        (
            "baseline".into(),
            total(1) + total(2),
            true,
            Some("call_2".into())
        )
    );
}

/// Older OpenCode wrote JSON files (`storage/{session,message,part}/…`, pretty-printed); a
/// history may hold both stores (a peer lost 445,910 messages reading only the database).
/// Both are read, and a message in both counts once.
#[test]
fn the_older_json_storage_is_read_too_and_a_message_in_both_counts_once() {
    let env = TestEnv::empty();
    let c = create(&db_path(&env));
    message(&c, 1, ROOT, true, 2000);
    let storage = env.home().join(".local/share/opencode/storage");
    let write = |rel: &str, v: serde_json::Value| {
        let p = storage.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    };
    write(
        "session/p/ses_old.json",
        json!({"id": "ses_old", "directory": "/work/old", "version": "0.9", "time": {"created": 10, "updated": 20}}),
    );
    for (n, session) in [(4, "ses_old"), (1, ROOT)] {
        write(
            &format!("message/{session}/msg_{n}.json"),
            json!({"id": format!("msg_{n}"), "sessionID": session, "role": "assistant",
                   "modelID": "gpt-5", "tokens": tokens(n), "time": {"created": 10, "completed": 15}}),
        );
    }
    write(
        "message/ses_old/msg_u.json",
        json!({"id": "msg_u", "sessionID": "ses_old", "role": "user", "time": {"created": 9}}),
    );
    write(
        "part/msg_4/prt_4.json",
        json!({"id": "prt_4", "messageID": "msg_4", "sessionID": "ses_old", "type": "tool",
               "tool": "bash", "callID": "call_old",
               "state": {"status": "completed", "input": {"command": "false"},
                         "metadata": {"exit": 1}, "time": {"start": 11, "end": 14}}}),
    );
    let s = env.sessions();
    assert_eq!(
        s[ROOT]["tokens_so_far"],
        total(1),
        "msg_1 is in both stores"
    );
    assert_eq!(s["ses_old"]["tokens_so_far"], total(4));
    assert_eq!(s["ses_old"]["project"], "/work/old");
    let db = rusqlite::Connection::open(env.db()).unwrap();
    let failed: i64 = db
        .query_row(
            "SELECT failed FROM tool_calls WHERE call_id = 'call_old'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(failed, 1);
}
