//! The built binary over a temporary HOME: exact totals, incremental reads, overrides.

use crate::common::*;

const EXPECTED: [(&str, i64); 6] = [
    (SA, 5554),
    (SB, 300),
    (CX, 4750),
    (CY, 750),
    (TA, 5594),
    (TB, 5274),
];

#[test]
fn fixture_sessions_have_exact_totals() {
    let env = TestEnv::with_fixtures();
    let s = env.sessions();
    let got: Vec<(&str, i64)> = EXPECTED
        .iter()
        .map(|(id, _)| {
            (
                *id,
                s.get(*id)
                    .map_or(-1, |v| v["tokens_so_far"].as_i64().expect("int")),
            )
        })
        .collect();
    assert_eq!(got, EXPECTED);
    assert_eq!(
        s.len(),
        EXPECTED.len(),
        "no other sessions (journal.jsonl and history.jsonl are not transcripts)"
    );

    // Session A: main file 4944 + sub-agent 610; the sidechain replay of msg_D adds nothing.
    let a = &s[SA];
    assert_eq!(a["tool"], "claude");
    assert_eq!(a["input_tokens"], 10 + 5 + 3 + 2 + 20);
    assert_eq!(a["cache_creation_tokens"], 1000 + 200 + 150 + 500);
    assert_eq!(a["cache_read_tokens"], 1000 + 1000 + 1197);
    assert_eq!(a["output_tokens"], 187 + 120 + 40 + 30 + 90);
    assert_eq!(a["reasoning_tokens"], 0);
    assert_eq!(
        a["models"],
        serde_json::json!(["claude-haiku-4-5-20251001", "claude-sonnet-4-5-20250929"])
    );
    assert_eq!(a["project"], "/home/dev/app");
    assert_eq!(a["first_timestamp"], "2026-03-02T09:00:00.000Z");
    assert_eq!(a["last_timestamp"], "2026-03-02T09:33:00.000Z");
    assert!(
        a["path"]
            .as_str()
            .expect("path")
            .ends_with(&format!("-home-dev-app/{SA}.jsonl")),
        "the main file, not the sub-agent's"
    );

    let c = &s[CX];
    assert_eq!(
        (c["input_tokens"].as_i64(), c["cache_read_tokens"].as_i64()),
        (Some(600 + 1000 + 500 + 500), Some(400 + 1000 + 300))
    );
    assert_eq!(c["reasoning_tokens"], 100);
    assert_eq!(c["models"], serde_json::json!(["gpt-5", "gpt-5-codex"]));
    assert!(
        c["path"]
            .as_str()
            .expect("path")
            .contains("/.codex/sessions/"),
        "the active copy, not the archived one"
    );
    assert_running_totals_match(&env.db());
}

#[test]
fn warnings_go_to_stderr_and_reading_twice_changes_nothing() {
    let env = TestEnv::with_fixtures();
    let first = env.run(&["analysis", "sessions", "list", "--all", "--json"]);
    assert!(first.status.success());
    let err = stderr(&first);
    assert!(err.contains("skipped 1 malformed line in 1 file"), "{err}");
    assert!(err.contains("1 line with invalid UTF-8"), "{err}");
    let second = env.run(&["analysis", "sessions", "list", "--all", "--json"]);
    assert_eq!(first.stdout, second.stdout);
    assert_eq!(
        stderr(&second),
        "",
        "an unchanged history is not read again"
    );
}

#[test]
fn appended_lines_are_read_from_the_stored_offset() {
    let env = TestEnv::with_fixtures();
    assert_eq!(env.tokens(SA), 5554);
    let line = r#"{"type":"assistant","sessionId":"11111111-1111-4111-8111-111111111111","timestamp":"2026-03-02T10:00:00.000Z","requestId":"req_F","message":{"id":"msg_F","model":"claude-sonnet-4-5-20250929","content":[],"usage":{"input_tokens":7,"cache_creation_input_tokens":0,"cache_read_input_tokens":3000,"output_tokens":11}}}"#;
    append(&claude_main(&env.home()), format!("{line}\n").as_bytes());
    assert_eq!(env.tokens(SA), 5554 + 3018);
    // A later streaming copy of msg_F with more output replaces, never adds.
    append(
        &claude_main(&env.home()),
        format!(
            "{}\n",
            line.replace("\"output_tokens\":11", "\"output_tokens\":50")
        )
        .as_bytes(),
    );
    assert_eq!(env.tokens(SA), 5554 + 3057);
    assert_running_totals_match(&env.db());
}

#[test]
fn a_half_written_last_line_is_read_whole_once_completed() {
    let env = TestEnv::with_fixtures();
    assert_eq!(env.tokens(SA), 5554);
    let line = r#"{"type":"assistant","sessionId":"11111111-1111-4111-8111-111111111111","timestamp":"2026-03-02T10:00:00.000Z","requestId":"req_G","message":{"id":"msg_G","model":"claude-sonnet-4-5-20250929","content":[],"usage":{"input_tokens":1,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":99}}}"#;
    let (head, rest) = line.split_at(120);
    append(&claude_main(&env.home()), head.as_bytes());
    let out = env.run(&["analysis", "sessions", "list", "--all", "--json"]);
    assert!(
        stderr(&out).contains("1 file ends in an incomplete line"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.tokens(SA), 5554);
    append(&claude_main(&env.home()), format!("{rest}\n").as_bytes());
    assert_eq!(env.tokens(SA), 5554 + 100);
}

#[test]
fn codex_rollout_continuing_its_counter() {
    let env = TestEnv::with_fixtures();
    assert_eq!(env.tokens(CX), 4750);
    let line = r#"{"timestamp":"2026-03-02T10:30:00.000Z","type":"event_msg","payload":{"type":"token_count","info":{"total_token_usage":{"input_tokens":2300,"cached_input_tokens":800,"output_tokens":170,"reasoning_output_tokens":0,"total_tokens":2470},"last_token_usage":{"input_tokens":1000,"cached_input_tokens":500,"output_tokens":20,"reasoning_output_tokens":0,"total_tokens":1020}}}}"#;
    append(
        &codex_main(&env.home()),
        format!("{line}\n{line}\n").as_bytes(),
    );
    // From the stored watermark (1300/300/150): +1000 input (500 cached) +20 output; the re-emit adds 0.
    assert_eq!(env.tokens(CX), 4750 + 1020);
}

#[test]
fn a_file_rewritten_in_place_is_merged_without_double_counting() {
    let env = TestEnv::with_fixtures();
    assert_eq!(env.tokens(SA), 5554);
    // Rewrite the main file shorter (its first five lines only): nothing read is lost.
    let path = claude_main(&env.home());
    let text = std::fs::read(&path).expect("read");
    let keep: Vec<&[u8]> = text.split_inclusive(|b| *b == b'\n').take(5).collect();
    std::fs::write(&path, keep.concat()).expect("rewrite");
    assert_eq!(env.tokens(SA), 5554);
    // Rewrite it with the same length but other bytes in the middle: read again, merged.
    std::fs::write(&path, &text).expect("restore");
    assert_eq!(env.tokens(SA), 5554);
    assert_running_totals_match(&env.db());
}

#[test]
fn amp_thread_rewritten_whole_and_half_written() {
    let env = TestEnv::with_fixtures();
    let threads = env.home().join(".local/share/amp/threads");
    let partial = fixtures().join("partial");
    let target = threads.join(format!("{TC}.json"));
    std::fs::copy(partial.join(format!("{TC}.json")), &target).expect("copy partial");
    let out = env.run(&["analysis", "sessions", "list", "--all", "--json"]);
    assert!(out.status.success());
    assert!(stderr(&out).contains("incomplete"), "{}", stderr(&out));
    assert_eq!(env.tokens(TC), 0);
    std::fs::copy(partial.join(format!("{TC}.json.complete")), &target).expect("complete it");
    assert_eq!(env.tokens(TC), 5274);
    // Rewritten whole again (unchanged usage, a new title): still counted once.
    let doc = std::fs::read_to_string(&target).expect("read");
    std::fs::write(&target, doc.replace("Fix flaky test", "Fix the flaky test")).expect("rewrite");
    assert_eq!(env.tokens(TC), 5274);
    assert_running_totals_match(&env.db());
}

#[test]
fn usage_stays_when_transcripts_are_deleted() {
    let env = TestEnv::with_fixtures();
    let before = env.sessions();
    std::fs::remove_dir_all(env.home().join(".claude")).expect("rm");
    std::fs::remove_dir_all(env.home().join(".codex")).expect("rm");
    let after = env.sessions();
    for (id, total) in EXPECTED {
        assert_eq!(after[id]["tokens_so_far"], total, "{id}");
    }
    assert_eq!(before.len(), after.len());
}

#[test]
fn tool_filter_and_limit() {
    let env = TestEnv::with_fixtures();
    let v = env.json(&[
        "analysis", "sessions", "list", "--tool", "codex", "--all", "--json",
    ]);
    let ids: Vec<&str> = v["sessions"]
        .as_array()
        .expect("arr")
        .iter()
        .map(|s| s["session_id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&CX) && ids.contains(&CY));
    let v = env.json(&["analysis", "sessions", "list", "--limit", "2", "--json"]);
    assert_eq!(v["sessions"].as_array().expect("arr").len(), 2);
    let out = env.run(&["analysis", "sessions", "list", "--tool", "cursor"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn newest_first() {
    let env = TestEnv::with_fixtures();
    let times = [
        (SB, 1_000),
        (CY, 2_000),
        (TB, 3_000),
        (SA, 4_000),
        (CX, 5_000),
        (TA, 6_000),
    ];
    for (id, secs) in times {
        let p = match id {
            SA => claude_main(&env.home()),
            SB => env
                .home()
                .join(".config/claude/projects/-home-dev-lib")
                .join(format!("{SB}.jsonl")),
            CX => codex_main(&env.home()),
            CY => env
                .home()
                .join(".codex/archived_sessions")
                .join(format!("rollout-2026-02-20T08-00-00-{CY}.jsonl")),
            _ => env
                .home()
                .join(".local/share/amp/threads")
                .join(format!("{id}.json")),
        };
        let f = std::fs::File::options().write(true).open(&p).expect("open");
        f.set_modified(
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_770_000_000 + secs),
        )
        .expect("mtime");
    }
    // Sub-agent and archived copies must not make their sessions look newer.
    for p in [
        claude_main(&env.home())
            .with_extension("")
            .join("subagents/agent-a1b2c3d4e5f6a7b8c.jsonl"),
        env.home()
            .join(".codex/archived_sessions")
            .join(format!("rollout-2026-03-02T10-00-00-{CX}.jsonl")),
    ] {
        let f = std::fs::File::options().write(true).open(&p).expect("open");
        f.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_770_000_000))
            .expect("mtime");
    }
    let v = env.json(&["analysis", "sessions", "list", "--json"]);
    let ids: Vec<&str> = v["sessions"]
        .as_array()
        .expect("arr")
        .iter()
        .map(|s| s["session_id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, [TA, CX, SA, TB, CY, SB]);
    assert_eq!(
        v["sessions"][0]["last_modified"],
        "2026-02-02T04:20:00.000Z"
    );
}

#[test]
fn claude_config_dir_is_a_comma_list_and_replaces_the_defaults() {
    let env = TestEnv::with_fixtures();
    let home = env.home();
    // Only the ~/.config/claude root: session A is not seen.
    let one = home.join(".config/claude");
    let out = env
        .cmd(&["analysis", "sessions", "list", "--all", "--json"])
        .env("CLAUDE_CONFIG_DIR", &one)
        .output()
        .expect("run");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let claude: Vec<&str> = v["sessions"]
        .as_array()
        .expect("arr")
        .iter()
        .filter(|s| s["tool"] == "claude")
        .map(|s| s["session_id"].as_str().expect("id"))
        .collect();
    assert_eq!(claude, [SB]);
    // Both, comma-separated (with a space): both seen.
    let both = format!("{}, {}", home.join(".claude").display(), one.display());
    let env2 = TestEnv::with_fixtures();
    let both = both.replace(
        &home.display().to_string(),
        &env2.home().display().to_string(),
    );
    let out = env2
        .cmd(&[
            "analysis", "sessions", "list", "--tool", "claude", "--all", "--json",
        ])
        .env("CLAUDE_CONFIG_DIR", both)
        .output()
        .expect("run");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["sessions"].as_array().expect("arr").len(), 2);
}

#[test]
fn xdg_config_home_moves_the_second_claude_root() {
    let env = TestEnv::with_fixtures();
    let moved = env.dir.path().join("cfg");
    std::fs::rename(env.home().join(".config"), &moved).expect("move");
    let out = env
        .cmd(&[
            "analysis", "sessions", "list", "--tool", "claude", "--all", "--json",
        ])
        .env("XDG_CONFIG_HOME", &moved)
        .output()
        .expect("run");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["sessions"].as_array().expect("arr").len(), 2);
}

#[test]
fn codex_home_and_amp_data_dir_overrides() {
    let env = TestEnv::with_fixtures();
    let codex = env.dir.path().join("elsewhere-codex");
    let amp = env.dir.path().join("elsewhere-amp");
    std::fs::rename(env.home().join(".codex"), &codex).expect("move codex");
    std::fs::rename(env.home().join(".local/share/amp"), &amp).expect("move amp");
    let out = env
        .cmd(&["analysis", "sessions", "list", "--all", "--json"])
        .env(
            "CODEX_HOME",
            format!(
                "{},{}",
                env.dir.path().join("missing").display(),
                codex.display()
            ),
        )
        .env("AMP_DATA_DIR", &amp)
        .output()
        .expect("run");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let total = |id: &str| {
        v["sessions"]
            .as_array()
            .expect("arr")
            .iter()
            .find(|s| s["session_id"] == id)
            .map(|s| s["tokens_so_far"].as_i64().expect("int"))
    };
    assert_eq!(
        (total(CX), total(CY), total(TA), total(TB)),
        (Some(4750), Some(750), Some(5594), Some(5274))
    );
}

#[test]
fn xdg_data_home_moves_amp_threads_and_the_default_ledger() {
    let env = TestEnv::with_fixtures();
    let data = env.dir.path().join("data");
    std::fs::create_dir_all(&data).expect("mkdir");
    std::fs::rename(env.home().join(".local/share/amp"), data.join("amp")).expect("move amp");
    let out = env
        .cmd(&[
            "analysis", "sessions", "list", "--tool", "amp", "--all", "--json",
        ])
        .env_remove("TOKLEDGER_DB")
        .env("XDG_DATA_HOME", &data)
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["sessions"].as_array().expect("arr").len(), 2);
    assert!(
        data.join("tokledger/ledger.db").exists(),
        "default ledger under XDG_DATA_HOME"
    );
    assert!(!env.db().exists());
}

#[test]
fn default_ledger_path_and_db_flag() {
    let env = TestEnv::with_fixtures();
    let out = env
        .cmd(&["analysis", "sessions", "list", "--json"])
        .env_remove("TOKLEDGER_DB")
        .output()
        .expect("run");
    assert!(out.status.success());
    assert!(env.home().join(".local/share/tokledger/ledger.db").exists());
    let custom = env.dir.path().join("custom.db");
    let out = env
        .cmd(&[
            "--db",
            custom.to_str().expect("utf8"),
            "analysis",
            "sessions",
            "list",
        ])
        .output()
        .expect("run");
    assert!(out.status.success());
    assert!(custom.exists(), "--db wins over TOKLEDGER_DB");
    assert!(!env.db().exists());
}

#[test]
fn table_output_is_plain_when_piped() {
    let env = TestEnv::with_fixtures();
    let out = env.run(&["analysis", "sessions", "list", "--all"]);
    let text = String::from_utf8(out.stdout).expect("utf8");
    let header = text.lines().next().expect("header");
    for col in [
        "tool",
        "session",
        "project",
        "last modified",
        "tokens",
        "models",
    ] {
        assert!(header.contains(col), "{header}");
    }
    assert!(text.contains("5,554"), "{text}");
    assert!(!text.contains('│'), "no box drawing when piped");
}

#[test]
fn empty_home_lists_nothing() {
    let env = TestEnv::empty();
    let v = env.json(&["analysis", "sessions", "list", "--json"]);
    assert_eq!(v, serde_json::json!({"sessions": []}));
}
