//! Counters no response can have (SPEC §5, issue "one absurd counter poisons the ledger"):
//! the response is skipped with a warning naming the file, the rest of the session counts,
//! and every later read, report and snapshot still works.

use std::path::PathBuf;

use serde_json::json;

use crate::common::{TestEnv, append};

const SID: &str = "dddddddd-1111-4111-8111-dddddddddddd";

fn file(env: &TestEnv) -> PathBuf {
    let dir = env.home().join(".claude/projects/-w");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(format!("{SID}.jsonl"))
}

fn response(id: &str, usage: serde_json::Value) -> String {
    let line = json!({"type": "assistant", "sessionId": SID, "timestamp": "2026-05-01T10:00:00.000Z",
        "requestId": format!("req_{id}"),
        "message": {"id": id, "model": "claude-sonnet-4-5", "content": [], "usage": usage}});
    format!("{line}\n")
}

/// A Codex `token_count` event whose total and last usage are both `i` in and `o` out.
fn codex_token_count(i: i64, o: i64) -> String {
    let u = json!({"input_tokens": i, "cached_input_tokens": 0, "output_tokens": o});
    format!(
        "{}\n",
        json!({"timestamp": "2026-05-01T10:00:00.000Z", "type": "event_msg",
               "payload": {"type": "token_count", "info": {"total_token_usage": u, "last_token_usage": u}}})
    )
}

/// As root, which enters and reads anything, `cmd` runs as `nobody`, and `dirs` are opened
/// to it: the permissions a test sets then apply.
fn as_unprivileged(env: &TestEnv, cmd: &mut std::process::Command, dirs: &[PathBuf]) {
    use std::os::unix::fs::PermissionsExt;
    let root =
        std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(env.dir.path()).unwrap()) == 0;
    if root {
        for p in dirs {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o777)).unwrap();
        }
        std::os::unix::process::CommandExt::uid(cmd, 65_534);
        std::os::unix::process::CommandExt::gid(cmd, 65_534);
    }
}

fn ok(env: &TestEnv, args: &[&str]) -> (String, String) {
    let out = env.run(args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{args:?}: {err}");
    (String::from_utf8_lossy(&out.stdout).into_owned(), err)
}

#[test]
fn an_absurd_counter_is_skipped_with_a_warning_and_poisons_nothing() {
    let env = TestEnv::empty();
    let f = file(&env);
    let good = json!({"input_tokens": 10, "output_tokens": 5});
    // u64::MAX cache writes (read as i64::MAX before), and 4e14 output tokens twice.
    std::fs::write(
        &f,
        response("msg_a", good.clone())
            + &response(
                "msg_bad",
                json!({"input_tokens": 1, "cache_creation_input_tokens": 18_446_744_073_709_551_615_u64}),
            )
            + &response("msg_big1", json!({"output_tokens": 400_000_000_000_000_i64}))
            + &response("msg_big2", json!({"output_tokens": 400_000_000_000_000_i64})),
    )
    .unwrap();
    let (_, err) = ok(&env, &["analysis", "sessions", "list", "--json"]);
    assert!(
        err.contains("skipped 3 responses with a token count no response can have")
            && err.contains(&f.display().to_string())
            && err.contains("claude:msg_bad"),
        "{err}"
    );
    assert_eq!(env.tokens(SID), 15);
    // An ordinary response later: every reading command still works and counts exactly.
    let id = env.start("s", &["--tool", "claude", "--usage-session-id", SID]);
    append(
        &f,
        response("msg_b", json!({"input_tokens": 7, "output_tokens": 3})),
    );
    for args in [
        &["analysis", "sessions", "list", "--json"][..],
        &["report", "daily", "--json"],
        &["report", "session", "--json"],
        &["report", "model", "--json"],
    ] {
        ok(&env, args);
    }
    let row = env.json(&["analysis", "complete", "--id", &id, "--json"]);
    assert_eq!(row["tokens_check"], 10);
    assert_eq!(env.tokens(SID), 25);
}

#[test]
fn a_negative_codex_counter_is_a_malformed_line() {
    let env = TestEnv::empty();
    let thread = "eeeeeeee-2222-4222-8222-eeeeeeeeeeee";
    let dir = env.home().join(".codex/sessions/2026/05/01");
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join(format!("rollout-2026-05-01T10-00-00-{thread}.jsonl"));
    let tc = codex_token_count;
    // 40 + 11 tokens, then a damaged total, then the next true total (51 + 10 + 5).
    std::fs::write(&f, tc(40, 11) + &tc(-500, 11) + &tc(50, 16)).unwrap();
    let (_, err) = ok(&env, &["analysis", "sessions", "list", "--json"]);
    assert!(err.contains("skipped 1 malformed line"), "{err}");
    assert_eq!(env.tokens(thread), 66);
}

#[test]
fn manual_rows_refuse_counts_and_costs_out_of_range() {
    let env = TestEnv::empty();
    for (flag, value) in [
        ("--tokens-in", "9223372036854775807"),
        ("--tokens-out", "-1"),
        ("--cost-usd", "inf"),
        ("--cost-usd", "NaN"),
        ("--cost-usd", "-2"),
    ] {
        let arg = format!("{flag}={value}");
        let out = env.run(&[
            "analysis",
            "add",
            "--source-id",
            "x",
            "--tool",
            "manual",
            &arg,
        ]);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(flag));
    }
    let v = env.json(&["analysis", "list", "--json"]);
    assert_eq!(v["analyses"].as_array().unwrap().len(), 0);
}

/// A transcript ending in 70 MiB without a newline (past the 64 MiB line limit): the line is
/// skipped as malformed instead of being held whole, what came before counts, and lines
/// written after it are read.
#[test]
fn an_overlong_unterminated_tail_is_skipped_and_reading_goes_on() {
    let env = TestEnv::empty();
    let f = file(&env);
    std::fs::write(
        &f,
        response("msg_a", json!({"input_tokens": 10, "output_tokens": 5})),
    )
    .unwrap();
    {
        use std::io::Write;
        let mut h = std::fs::OpenOptions::new().append(true).open(&f).unwrap();
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..70 {
            h.write_all(&zeros).unwrap();
        }
    }
    let (_, err) = ok(&env, &["analysis", "sessions", "list", "--json"]);
    assert!(err.contains("skipped 1 malformed line"), "{err}");
    assert_eq!(env.tokens(SID), 15);
    append(
        &f,
        "\n".to_owned() + &response("msg_b", json!({"input_tokens": 1, "output_tokens": 2})),
    );
    assert_eq!(env.tokens(SID), 18);
}

/// Control characters in a transcript (its working directory, the model's name) and in a
/// `--source-id` reach tables escaped, never raw; JSON keeps them, as JSON escapes.
#[test]
fn terminal_escapes_from_transcripts_and_arguments_are_shown_escaped() {
    let env = TestEnv::empty();
    let f = file(&env);
    let evil = "\u{1b}]0;pwned\u{7}\u{1b}[2J\r";
    let line = json!({"type": "assistant", "sessionId": SID, "cwd": format!("/w{evil}"),
        "timestamp": "2026-05-01T10:00:00.000Z", "requestId": "req_e",
        "message": {"id": "msg_e", "model": format!("claude{evil}"), "content": [],
                    "usage": {"input_tokens": 1, "output_tokens": 1}}});
    std::fs::write(&f, format!("{line}\n")).unwrap();
    env.start(
        &format!("PR{evil}"),
        &["--tool", "claude", "--usage-session-id", SID],
    );
    for args in [
        &["analysis", "sessions", "list"][..],
        &["report", "session"],
        &["report", "model"],
        &["analysis", "list"],
    ] {
        let out = env.run(args);
        assert!(out.status.success(), "{args:?}");
        assert!(
            !out.stdout
                .iter()
                .any(|b| *b == 0x1b || *b == 0x07 || *b == b'\r'),
            "{args:?} printed a raw control character: {:?}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("\\u{1b}"),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let v = env.json(&["analysis", "sessions", "list", "--json"]);
    assert_eq!(v["sessions"][0]["project"], format!("/w{evil}"));
}

/// A byte-order mark before the first line (an editor saved the file) loses nothing.
#[test]
fn a_byte_order_mark_does_not_lose_the_first_line() {
    let env = TestEnv::empty();
    let f = file(&env);
    let body = "\u{feff}".to_owned()
        + &response("msg_a", json!({"input_tokens": 10, "output_tokens": 5}))
        + &response("msg_b", json!({"input_tokens": 1, "output_tokens": 1}));
    std::fs::write(&f, body).unwrap();
    let (_, err) = ok(&env, &["analysis", "sessions", "list", "--json"]);
    assert!(!err.contains("malformed"), "{err}");
    assert_eq!(env.tokens(SID), 17);
}

/// `export --out` replaces only a regular file, leaves no temporary file behind, and
/// concurrent exports to names that differ only in their extension each get their own format.
#[test]
fn export_out_never_replaces_a_link_or_fifo_and_concurrent_exports_do_not_mix() {
    let env = TestEnv::empty();
    let dir = env.dir.path().join("out");
    std::fs::create_dir_all(&dir).unwrap();
    let target = dir.join("keep.txt");
    std::fs::write(&target, "mine").unwrap();
    let link = dir.join("r.md");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let out = env.run(&[
        "analysis",
        "export",
        "--format",
        "md",
        "--out",
        link.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "mine");
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let (md, csv) = (dir.join("x.md"), dir.join("x.csv"));
    let kids: Vec<_> = (0..20)
        .flat_map(|_| {
            [("md", &md), ("csv", &csv)].map(|(f, p)| {
                env.cmd(&[
                    "analysis",
                    "export",
                    "--format",
                    f,
                    "--out",
                    p.to_str().unwrap(),
                ])
                .spawn()
                .unwrap()
            })
        })
        .collect();
    for mut k in kids {
        assert!(k.wait().unwrap().success());
    }
    assert!(std::fs::read_to_string(&md).unwrap().starts_with('#'));
    assert!(
        std::fs::read_to_string(&csv)
            .unwrap()
            .starts_with("id,source_id,")
    );
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.ends_with(".tmp")), "{names:?}");
}

/// `TOKLEDGER_DB=` (empty) is the default ledger, as an empty variable is everywhere else.
#[test]
fn an_empty_tokledger_db_means_the_default_ledger() {
    let env = TestEnv::empty();
    let out = env
        .cmd(&["analysis", "list"])
        .env("TOKLEDGER_DB", "")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        env.home()
            .join(".local/share/tokledger/ledger.db")
            .is_file()
    );
}

/// NULs before a line (a sparse block a crash left, then the agent wrote on) lose nothing.
#[test]
fn nuls_before_a_line_do_not_lose_it() {
    let env = TestEnv::empty();
    let f = file(&env);
    let body =
        "\0\0\0\0".to_owned() + &response("msg_a", json!({"input_tokens": 10, "output_tokens": 5}));
    std::fs::write(&f, body).unwrap();
    assert_eq!(env.tokens(SID), 15);
}

/// A hook payload may name any file as its transcript: one outside Claude Code's folders is
/// not read (it would become a session named after the file).
#[test]
fn a_hook_payload_naming_a_file_outside_the_transcripts_reads_nothing_of_it() {
    let env = TestEnv::empty();
    let secret = env.dir.path().join("shadow");
    std::fs::write(
        &secret,
        response("msg_s", json!({"input_tokens": 3, "output_tokens": 4})),
    )
    .unwrap();
    let payload =
        json!({"session_id": "cafe", "transcript_path": secret, "hook_event_name": "Stop"});
    let mut child = env
        .cmd(&["hook", "claude"])
        .env("XDG_STATE_HOME", env.dir.path().join("state"))
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(payload.to_string().as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let s = env.sessions();
    assert!(!s.contains_key("shadow") && !s.contains_key(SID), "{s:?}");
}

/// An ambiguous `start` names the newest 20 candidates and counts the rest.
#[test]
fn an_ambiguous_start_lists_twenty_candidates_and_counts_the_rest() {
    let env = TestEnv::empty();
    let dir = env.home().join(".claude/projects/-w");
    std::fs::create_dir_all(&dir).unwrap();
    for i in 0..25 {
        let id = format!("dddddddd-1111-4111-8111-{i:012}");
        let line = json!({"type": "assistant", "sessionId": id, "timestamp": "2026-05-01T10:00:00.000Z",
            "message": {"id": format!("m{i}"), "model": "claude-sonnet-4-5", "content": [],
                        "usage": {"input_tokens": 1, "output_tokens": 1}}});
        std::fs::write(dir.join(format!("{id}.jsonl")), format!("{line}\n")).unwrap();
    }
    let out = env.run(&["analysis", "start", "--source-id", "x", "--tool", "claude"]);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("25 claude sessions") && err.contains("… and 5 more"),
        "{err}"
    );
    assert_eq!(err.matches(" tokens").count(), 20, "{err}");
}

/// A repeated key (hand-edited or damaged JSON) keeps its last value, as `JSON.parse` does,
/// instead of losing the line: at the top of a Claude line, inside its usage, and inside a
/// Codex payload (which the envelope's parse does not look into).
#[test]
fn repeated_keys_keep_the_last_value_and_the_line() {
    let env = TestEnv::empty();
    let f = file(&env);
    let first = response("msg_a", json!({"input_tokens": 10, "output_tokens": 5}));
    let repeated_top = response("msg_b", json!({"input_tokens": 100, "output_tokens": 50}))
        .replacen(
            "\"type\":\"assistant\"",
            "\"type\":\"user\",\"type\":\"assistant\"",
            1,
        );
    let repeated_usage = response("msg_c", json!({"input_tokens": 7, "output_tokens": 3}))
        .replacen(
            "\"input_tokens\":7",
            "\"input_tokens\":9999,\"input_tokens\":7",
            1,
        );
    assert!(repeated_top.contains("\"type\":\"user\",\"type\":\"assistant\""));
    assert!(repeated_usage.contains("9999"));
    std::fs::write(&f, first + &repeated_top + &repeated_usage).unwrap();
    let (_, err) = ok(&env, &["analysis", "sessions", "list", "--json"]);
    assert!(!err.contains("malformed"), "{err}");
    assert_eq!(env.tokens(SID), 15 + 150 + 10);

    let thread = "eeeeeeee-3333-4333-8333-eeeeeeeeeeee";
    let dir = env.home().join(".codex/sessions/2026/05/01");
    std::fs::create_dir_all(&dir).unwrap();
    let tc = codex_token_count;
    let second = tc(50, 16).replacen(
        "\"output_tokens\":16",
        "\"output_tokens\":1,\"output_tokens\":16",
        1,
    );
    assert!(second.contains("\"output_tokens\":1,"));
    std::fs::write(
        dir.join(format!("rollout-2026-05-01T10-00-00-{thread}.jsonl")),
        tc(40, 11) + &second,
    )
    .unwrap();
    let (_, err) = ok(&env, &["analysis", "sessions", "list", "--json"]);
    assert!(!err.contains("malformed"), "{err}");
    assert_eq!(env.tokens(thread), 66);
}

/// A folder the walk may not enter and a transcript whose name is not UTF-8 are named in a
/// warning, not skipped in silence; the rest is read.
#[test]
fn unsearchable_folders_and_non_utf8_names_are_warned_about() {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::empty();
    let f = file(&env);
    std::fs::write(
        &f,
        response("msg_a", json!({"input_tokens": 10, "output_tokens": 5})),
    )
    .unwrap();
    let projects = env.home().join(".claude/projects");
    let odd = projects
        .join("-w")
        .join(std::ffi::OsStr::from_bytes(b"bad-\xff.jsonl"));
    std::fs::write(
        &odd,
        response("msg_z", json!({"input_tokens": 1, "output_tokens": 1})),
    )
    .unwrap();
    let locked = projects.join("-locked");
    std::fs::create_dir(&locked).unwrap();
    std::fs::write(locked.join("x.jsonl"), "").unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let mut cmd = env.cmd(&["analysis", "sessions", "list", "--all", "--json"]);
    let dirs = [
        env.dir.path().to_owned(),
        env.home(),
        env.home().join(".claude"),
        projects.clone(),
        f.parent().unwrap().to_owned(),
    ];
    as_unprivileged(&env, &mut cmd, &dirs);
    let out = cmd.output().unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    let err = crate::common::stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains(&format!("skipped {}: Permission denied", locked.display())),
        "{err}"
    );
    assert!(
        err.contains("bad-\\xff.jsonl") || err.contains("bad-\u{fffd}.jsonl"),
        "{err}"
    );
    assert!(err.contains("its name is not valid UTF-8"), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let tokens: Vec<i64> = v["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["tokens_so_far"].as_i64().unwrap())
        .collect();
    assert_eq!(tokens, [15]);
}

/// `start` on a session whose transcript exists but cannot be read: not a baseline of 0 and
/// exit 0, but exit 1 naming the file, and no analysis recorded.
#[test]
fn start_on_an_unreadable_transcript_fails_and_records_nothing() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::empty();
    let f = file(&env);
    std::fs::write(
        &f,
        response("msg_a", json!({"input_tokens": 10, "output_tokens": 5})),
    )
    .unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o000)).unwrap();
    let dirs = [
        env.dir.path().to_owned(),
        env.home(),
        env.home().join(".claude"),
        env.home().join(".claude/projects"),
        f.parent().unwrap().to_owned(),
    ];
    let run = |args: &[&str]| {
        let mut cmd = env.cmd(args);
        as_unprivileged(&env, &mut cmd, &dirs);
        cmd.output().unwrap()
    };
    let out = run(&[
        "analysis",
        "start",
        "--tool",
        "claude",
        "--source-id",
        "s",
        "--usage-session-id",
        SID,
    ]);
    let err = crate::common::stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "could not read the claude transcript {}",
            f.display()
        )) && err.contains("nothing was recorded"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
    let list = run(&["analysis", "list", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(v["analyses"].as_array().map(Vec::len), Some(0));
}
