//! What an analysis did: `analysis show` lists the tool calls of its span (the same span as
//! its tokens), and `report tools --by command` splits shell calls by program.

use serde_json::{Value, json};

use crate::common::*;

const S: &str = "cccccccc-0000-4000-8000-000000000001";

fn transcript(env: &TestEnv) -> std::path::PathBuf {
    let dir = env.home().join(".claude/projects/-home-dev-work");
    std::fs::create_dir_all(&dir).expect("mkdir");
    dir.join(format!("{S}.jsonl"))
}

/// Response `n` issuing one call, and the call's result (`failed` or not).
fn turn(n: u32, tool: &str, input: Value, failed: bool) -> String {
    let ts = format!("2026-04-01T10:{n:02}:00.000Z");
    let result_ts = format!("2026-04-01T10:{n:02}:30.000Z");
    let a = json!({"type": "assistant", "sessionId": S, "timestamp": ts, "requestId": format!("req_{n}"),
        "cwd": "/home/dev/work",
        "message": {"id": format!("msg_{n}"), "model": "claude-sonnet-4-5-20250929",
            "content": [{"type": "tool_use", "id": format!("toolu_{n}"), "name": tool, "input": input}],
            "usage": {"input_tokens": 100, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
                "output_tokens": 10}}});
    let u = json!({"type": "user", "sessionId": S, "timestamp": result_ts,
        "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": format!("toolu_{n}"),
            "content": "x", "is_error": failed}]}});
    format!("{a}\n{u}\n")
}

/// Every `2026-12-02T00:01:22.968Z` (the run's own times) as `<now>` plus its padding.
fn redact_times(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        let t = b.get(i..i + 24);
        let is_time = t.is_some_and(|t| {
            t.iter().enumerate().all(|(k, c)| match k {
                4 | 7 => *c == b'-',
                10 => *c == b'T',
                13 | 16 => *c == b':',
                19 => *c == b'.',
                23 => *c == b'Z',
                _ => c.is_ascii_digit(),
            })
        });
        if is_time {
            out.push_str("<now>                   ");
            i += 24;
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}

fn bash(cmd: &str) -> Value {
    json!({"command": cmd})
}

#[test]
fn analysis_show_lists_the_tool_calls_of_its_span() {
    let env = TestEnv::empty();
    let path = transcript(&env);
    // Before the analysis: not in it.
    std::fs::write(
        &path,
        turn(
            1,
            "Read",
            json!({"file_path": "/home/dev/work/old.rs"}),
            false,
        ),
    )
    .expect("write");
    let id = env.start("check-x", &["--tool", "claude", "--usage-session-id", S]);
    append(
        &path,
        turn(
            2,
            "Read",
            json!({"file_path": "/home/dev/work/src/lib.rs"}),
            false,
        ),
    );
    append(
        &path,
        turn(
            3,
            "Bash",
            bash("cd /home/dev/work && cargo test --test it"),
            true,
        ),
    );
    ok_stdout(&env.run(&["analysis", "mark", "--id", &id, "--stage", "tested"]));
    append(
        &path,
        turn(4, "Edit", json!({"file_path": "src/lib.rs"}), false),
    );
    append(
        &path,
        turn(5, "Bash", bash("git commit -m 'fix: the thing'"), false),
    );
    append(&path, turn(6, "Bash", bash("cargo test"), false));
    ok_stdout(&env.run(&["analysis", "complete", "--id", &id]));
    // After completion: not in it either.
    append(&path, turn(7, "Bash", bash("git push"), false));

    let v = env.json(&["analysis", "show", "--id", &id, "--json"]);
    assert_eq!(
        v["total_tokens"],
        5 * 110,
        "the span of its tokens: responses 2–6"
    );
    let t = &v["tools"];
    assert_eq!(
        (t["calls"].as_i64(), t["failures"].as_i64()),
        (Some(5), Some(1))
    );
    // The rows of `report tools` (and `--by command`), over the span only.
    let rows = |v: &Value, key: &str| -> Vec<(String, i64, i64, i64)> {
        v.as_array()
            .expect("rows")
            .iter()
            .map(|r| {
                (
                    r[key].as_str().expect("key").to_owned(),
                    r["calls"].as_i64().expect("calls"),
                    r["failures"].as_i64().expect("failures"),
                    r["median_duration_ms"].as_i64().expect("median"),
                )
            })
            .collect()
    };
    let own = |v: &[(&str, i64, i64, i64)]| -> Vec<(String, i64, i64, i64)> {
        v.iter()
            .map(|(k, a, b, c)| ((*k).to_owned(), *a, *b, *c))
            .collect()
    };
    assert_eq!(
        rows(&t["by_name"], "name"),
        own(&[
            ("Bash", 3, 1, 30_000),
            ("Edit", 1, 0, 30_000),
            ("Read", 1, 0, 30_000)
        ])
    );
    assert_eq!(
        rows(&t["commands"], "command"),
        own(&[("cargo test", 2, 1, 30_000), ("git commit", 1, 0, 30_000)])
    );
    // The relative path is taken from the session's directory: one file, read and edited.
    assert_eq!(
        t["files"],
        json!([{"file_path": "/home/dev/work/src/lib.rs", "reads": 1, "edits": 1, "failures": 0}])
    );
    assert_eq!(
        t["stages"],
        json!([
            {"kind": "stage", "stage": "tested", "calls": 2, "failures": 1},
            {"kind": "final", "stage": null, "calls": 3, "failures": 0},
        ])
    );
    let table = ok_stdout(&env.run(&["analysis", "show", "--id", &id]));
    insta::assert_snapshot!(
        "analysis_show_tools",
        redact_times(&table.replace(&id, "ANALYSIS-ID"))
    );
    let md = ok_stdout(&env.run(&["analysis", "export", "--format", "md"]));
    assert!(
        md.contains("**Tool calls**: 5 (1 failed)")
            && md.contains("| cargo test | 2 | 1 |")
            && md.contains("| /home/dev/work/src/lib.rs | 1 | 1 |"),
        "{md}"
    );
    // A row without a session has no tools.
    let manual = ok_stdout(&env.run(&[
        "analysis",
        "add",
        "--source-id",
        "m",
        "--tool",
        "manual",
        "--tokens-in",
        "5",
    ]));
    let manual = manual.trim();
    let m = env.json(&["analysis", "show", "--id", manual, "--json"]);
    assert_eq!(m["tools"], Value::Null);
}

#[test]
fn report_tools_by_command_splits_shell_calls_by_program() {
    let env = TestEnv::empty();
    let path = transcript(&env);
    let mut text = String::new();
    for (n, cmd, failed) in [
        (1, "git status", false),
        (2, "git -C /home/dev/work commit -m x", false),
        (3, "FOO=1 cargo test --release", true),
        (4, "cd sub; npm install", false),
        (5, "git status --short", false),
        (6, "ls -la | head", false),
        (7, "cd /tmp", false),
    ] {
        text.push_str(&turn(n, "Bash", bash(cmd), failed));
    }
    text.push_str(&turn(8, "Read", json!({"file_path": "/x"}), false));
    std::fs::write(&path, text).expect("write");
    let v = env.json(&["report", "tools", "--by", "command", "--json"]);
    let rows: Vec<(Option<&str>, i64, i64)> = v["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            assert_eq!(r["tool"], "claude");
            assert!(r.get("name").is_none(), "{r}");
            (
                r["command"].as_str(),
                r["calls"].as_i64().expect("calls"),
                r["failures"].as_i64().expect("failures"),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (Some("git status"), 2, 0),
            // `cd /tmp` alone runs no program.
            (None, 1, 0),
            (Some("cargo test"), 1, 1),
            (Some("git commit"), 1, 0),
            (Some("ls"), 1, 0),
            (Some("npm install"), 1, 0),
        ]
    );
    assert_eq!(v["totals"]["calls"], 7, "the Read call is not a shell call");
    let table = ok_stdout(&env.run(&["report", "tools", "--by", "command"]));
    insta::assert_snapshot!("report_tools_by_command", table);
    // By name (the default) is unchanged.
    let by_name = env.json(&["report", "tools", "--json"]);
    assert_eq!(by_name["rows"][0]["name"], "Bash");
    assert_eq!(by_name["rows"][0]["calls"], 7);
    let out = env.run(&["report", "tools", "--by", "command", "--calls"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "--calls lists calls, not groups"
    );
}
