//! What a ccusage user expects at the terminal (issue 17): colour, id prefixes, ccusage's
//! spellings, refused bad input, export order, completions and the man page.

use crate::common::{TestEnv, ok_stdout};

const ESC: &str = "\u{1b}[";

#[test]
fn color_always_paints_headers_totals_and_failures() {
    let env = TestEnv::with_fixtures();
    let out = ok_stdout(&env.run(&["--color", "always", "report", "tools", "--tz", "UTC"]));
    assert!(out.contains(ESC), "escapes expected:\n{out}");
    // Header bold cyan, the totals row yellow, a failure count red.
    assert!(out.contains("\u{1b}[1magent"), "{out:?}");
    assert!(out.contains("\u{1b}[38;5;11m\u{1b}[1mtotal"), "{out:?}");
    assert!(out.contains("\u{1b}[38;5;9m"), "{out:?}");
    let daily = ok_stdout(&env.run(&["--color", "always", "report", "daily", "--tz", "UTC"]));
    assert!(daily.contains(ESC), "{daily}");
}

#[test]
fn color_never_no_color_and_json_stay_plain() {
    let env = TestEnv::with_fixtures();
    let never = ok_stdout(&env.run(&["--color", "never", "report", "tools"]));
    assert!(!never.contains('\u{1b}'), "{never:?}");
    // NO_COLOR wins over CLICOLOR_FORCE; `--color always` over both.
    let no_color = env
        .cmd(&["report", "tools"])
        .env("NO_COLOR", "1")
        .env("CLICOLOR_FORCE", "1")
        .output()
        .unwrap();
    assert!(!ok_stdout(&no_color).contains('\u{1b}'));
    let forced = env
        .cmd(&["report", "tools"])
        .env("CLICOLOR_FORCE", "1")
        .output()
        .unwrap();
    assert!(
        ok_stdout(&forced).contains(ESC),
        "CLICOLOR_FORCE colours a pipe"
    );
    for args in [
        &["--color", "always", "report", "daily", "--json"][..],
        &["--color", "always", "report", "daily", "--csv"],
        &[
            "--color", "always", "analysis", "sessions", "list", "--json",
        ],
    ] {
        let out = ok_stdout(&env.run(args));
        assert!(!out.contains('\u{1b}'), "{args:?}: {out:?}");
    }
}

#[test]
fn a_table_holding_a_control_character_is_escaped_not_coloured() {
    let env = TestEnv::empty();
    ok_stdout(&env.run(&[
        "analysis",
        "add",
        "--source-id",
        "x\u{1b}]0;title\u{7}",
        "--tool",
        "manual",
    ]));
    let out = ok_stdout(&env.run(&["--color", "always", "analysis", "list"]));
    assert!(!out.contains('\u{1b}'), "{out:?}");
    assert!(out.contains("\\u{1b}"), "shown escaped: {out:?}");
    let clean = TestEnv::empty();
    ok_stdout(&clean.run(&["analysis", "add", "--source-id", "y", "--tool", "manual"]));
    let out = ok_stdout(&clean.run(&["--color", "always", "analysis", "list"]));
    assert!(out.contains(ESC), "{out:?}");
}

fn code(out: &std::process::Output) -> Option<i32> {
    out.status.code()
}

#[test]
fn ccusage_spellings_mean_the_same_as_ours() {
    let env = TestEnv::with_fixtures();
    let ours = ok_stdout(&env.run(&[
        "report",
        "daily",
        "--since",
        "2026-03-01",
        "--until",
        "2026-03-02",
        "--tz",
        "UTC",
        "--json",
    ]));
    for theirs in [
        &[
            "report", "daily", "-s", "20260301", "-u", "20260302", "-z", "UTC", "-j",
        ][..],
        &[
            "report",
            "daily",
            "--since",
            "20260301",
            "--until",
            "2026-03-02",
            "--timezone",
            "UTC",
            "--json",
        ],
    ] {
        assert_eq!(ok_stdout(&env.run(theirs)), ours, "{theirs:?}");
    }
    // --order desc: newest first; the default, oldest first.
    let periods = |args: &[&str]| -> Vec<String> {
        let v: serde_json::Value = serde_json::from_str(&ok_stdout(&env.run(args))).unwrap();
        v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["period"].as_str().unwrap().to_owned())
            .collect()
    };
    let asc = periods(&["report", "daily", "-z", "UTC", "-j"]);
    let mut desc = periods(&["report", "daily", "-z", "UTC", "-j", "--order", "desc"]);
    assert!(asc.len() > 1, "{asc:?}");
    desc.reverse();
    assert_eq!(asc, desc);
    assert_eq!(
        asc,
        periods(&["report", "daily", "-z", "UTC", "-j", "-o", "asc"])
    );
    // Weeks starting on Sunday, spelled as ccusage does.
    let v: serde_json::Value = serde_json::from_str(&ok_stdout(&env.run(&[
        "report",
        "weekly",
        "--start-of-week",
        "sunday",
        "-z",
        "UTC",
        "-j",
    ])))
    .unwrap();
    assert_eq!(v["week_start"], "sunday", "{v}");
    // Days as words, and the ledger's own status spelling beside clap's.
    let today = ok_stdout(&env.run(&["report", "daily", "-s", "today", "-u", "today", "-j"]));
    assert!(today.contains("\"rows\""), "{today}");
    ok_stdout(&env.run(&[
        "analysis",
        "add",
        "--source-id",
        "a",
        "--tool",
        "manual",
        "--status",
        "in_progress",
    ]));
    for status in ["in_progress", "in-progress"] {
        let v = env.json(&["analysis", "list", "--status", status, "-j"]);
        assert_eq!(v["analyses"].as_array().unwrap().len(), 1, "{status}: {v}");
        assert_eq!(v["analyses"][0]["status"], "in_progress");
    }
    // --started-at takes what --since takes.
    let v = env.json(&[
        "analysis",
        "add",
        "--source-id",
        "b",
        "--tool",
        "manual",
        "--started-at",
        "20260302",
        "--completed-at",
        "2026-03-02T10:00:00Z",
        "--json",
    ]);
    assert_eq!(v["started_at"], "2026-03-02T00:00:00.000Z", "{v}");
}

#[test]
fn since_after_until_is_a_usage_error() {
    let env = TestEnv::with_fixtures();
    for args in [
        &[
            "report",
            "daily",
            "--since",
            "2026-02-01",
            "--until",
            "2026-01-01",
        ][..],
        &["report", "tools", "-s", "20260201", "-u", "20260101"],
        &[
            "analysis",
            "list",
            "--since",
            "2026-02-01",
            "--until",
            "2026-01-01",
        ],
        &[
            "analysis",
            "export",
            "--since",
            "2026-02-01",
            "--until",
            "2026-01-01",
        ],
        &[
            "analysis",
            "backfill-usage",
            "--since",
            "2026-02-01",
            "--until",
            "2026-01-01",
        ],
    ] {
        let out = env.run(args);
        assert_eq!(
            code(&out),
            Some(2),
            "{args:?}: {}",
            crate::common::stderr(&out)
        );
        assert!(
            crate::common::stderr(&out).contains("is not before --until"),
            "{args:?}: {}",
            crate::common::stderr(&out)
        );
    }
    // One day is a range: since and until the same day.
    ok_stdout(&env.run(&["report", "daily", "-s", "2026-03-02", "-u", "2026-03-02"]));
}

#[test]
fn start_refuses_a_session_no_transcript_knows() {
    let env = TestEnv::with_fixtures();
    let args = [
        "analysis",
        "start",
        "--source-id",
        "x",
        "--tool",
        "claude",
        "--usage-session-id",
        "nope-123",
    ];
    let out = env.run(&args);
    assert_eq!(code(&out), Some(1), "{}", crate::common::stderr(&out));
    assert!(out.stdout.is_empty());
    let err = crate::common::stderr(&out);
    assert!(
        err.contains("no claude transcript knows session nope-123"),
        "{err}"
    );
    assert!(err.contains("--allow-unseen-session"), "{err}");
    let v = env.json(&["analysis", "list", "--json"]);
    assert_eq!(
        v["analyses"].as_array().unwrap().len(),
        0,
        "no row was made"
    );
    // Allowed explicitly, or vouched for by the agent's own variable: a row with a warning.
    let mut allowed = args.to_vec();
    allowed.push("--allow-unseen-session");
    let out = env.run(&allowed);
    assert!(crate::common::stderr(&out).contains("its baseline is 0"));
    ok_stdout(&out);
    let out = env
        .cmd(&args)
        .env("CLAUDE_CODE_SESSION_ID", "nope-123")
        .output()
        .unwrap();
    ok_stdout(&out);
    // A known session binds as before.
    env.start(
        "y",
        &["--tool", "claude", "--usage-session-id", crate::common::SA],
    );
}

#[test]
fn add_without_times_is_stamped_now_and_listed_since_today() {
    let env = TestEnv::empty();
    let done = env.json(&[
        "analysis",
        "add",
        "--source-id",
        "a",
        "--tool",
        "manual",
        "--json",
    ]);
    assert!(done["started_at"].is_string(), "{done}");
    assert_eq!(done["started_at"], done["completed_at"]);
    let running = env.json(&[
        "analysis",
        "add",
        "--source-id",
        "b",
        "--tool",
        "manual",
        "--status",
        "in-progress",
        "--json",
    ]);
    assert!(running["started_at"].is_string());
    assert!(running["completed_at"].is_null(), "{running}");
    let v = env.json(&["analysis", "list", "--since", "today", "--json"]);
    assert_eq!(v["analyses"].as_array().unwrap().len(), 2, "{v}");
}

#[test]
fn a_deleted_session_is_no_candidate() {
    let env = TestEnv::with_fixtures();
    let gone = "99999999-9999-4999-8999-999999999999";
    let path = env
        .home()
        .join(".claude/projects/-home-dev-gone")
        .join(format!("{gone}.jsonl"));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(
        &path,
        format!(
            "{{\"type\":\"user\",\"sessionId\":\"{gone}\",\"timestamp\":\"2026-03-02T23:59:00Z\",\"message\":{{\"role\":\"user\",\"content\":\"hi\"}}}}\n"
        ),
    )
    .unwrap();
    assert!(
        env.sessions().contains_key(gone),
        "the empty session is read"
    );
    std::fs::remove_file(&path).unwrap();
    let out = env.run(&["analysis", "start", "--source-id", "x", "--tool", "claude"]);
    let err = crate::common::stderr(&out);
    assert_eq!(code(&out), Some(3), "{err}");
    assert!(err.contains("2 claude sessions"), "{err}");
    assert!(!err.contains(gone), "{err}");
}

#[test]
fn session_ids_are_taken_by_a_unique_beginning() {
    let env = TestEnv::with_fixtures();
    let full = ok_stdout(&env.run(&["report", "tools", "--session", crate::common::SA, "--json"]));
    assert!(full.contains("\"calls\""), "{full}");
    assert_eq!(
        ok_stdout(&env.run(&["report", "tools", "--session", "1111", "--json"])),
        full
    );
    // Unknown: exit 1, said plainly (not "no tool calls in this range").
    let out = env.run(&["report", "tools", "--session", "7ef4b236"]);
    assert_eq!(code(&out), Some(1));
    assert!(
        crate::common::stderr(&out).contains("no session id is or begins with \"7ef4b236\""),
        "{}",
        crate::common::stderr(&out)
    );
    // Ambiguous: exit 2, the candidates listed.
    let out = env.run(&["report", "files", "--session", "T-"]);
    assert_eq!(code(&out), Some(2));
    let err = crate::common::stderr(&out);
    for t in [crate::common::TA, crate::common::TB] {
        assert!(err.contains(t), "{err}");
    }
    // `start` takes one too, and records the whole id.
    let v = env.json(&[
        "analysis",
        "start",
        "--source-id",
        "s",
        "--tool",
        "claude",
        "--usage-session-id",
        "1111",
        "--json",
    ]);
    assert_eq!(v["usage_session_id"], crate::common::SA, "{v}");
    let out = env.run(&[
        "analysis",
        "start",
        "--source-id",
        "s",
        "--tool",
        "amp",
        "--usage-session-id",
        "T-",
    ]);
    assert_eq!(code(&out), Some(2), "{}", crate::common::stderr(&out));
}

#[test]
fn analysis_ids_are_taken_by_a_unique_beginning() {
    let env = TestEnv::empty();
    let mut ids = Vec::new();
    for s in ["a", "b"] {
        let v = env.json(&[
            "analysis",
            "add",
            "--source-id",
            s,
            "--tool",
            "manual",
            "--status",
            "in_progress",
            "--json",
        ]);
        ids.push(v["id"].as_str().unwrap().to_owned());
    }
    // `ANALYSIS-` may be left out: `2026-002`.
    let short = ids[1].trim_start_matches("ANALYSIS-");
    let v = env.json(&["analysis", "show", "--id", short, "--json"]);
    assert_eq!(v["id"], ids[1].as_str());
    let v = env.json(&[
        "analysis", "mark", "--id", &ids[0], "--stage", "x", "--json",
    ]);
    assert_eq!(v["stages_json"].as_array().unwrap().len(), 1);
    // `ANALYSIS-YYYY-00` begins both: exit 2, both listed, nothing marked.
    let both = &ids[0][..ids[0].len() - 1];
    let out = env.run(&["analysis", "mark", "--id", both, "--stage", "y"]);
    assert_eq!(code(&out), Some(2));
    let err = crate::common::stderr(&out);
    assert!(err.contains(&ids[0]) && err.contains(&ids[1]), "{err}");
    // Unknown stays exit 1.
    let out = env.run(&["analysis", "complete", "--id", "ANALYSIS-1999-001"]);
    assert_eq!(code(&out), Some(1));
    let v = env.json(&["analysis", "complete", "--id", short, "--json"]);
    assert_eq!(v["status"], "completed");
}

#[test]
fn export_takes_lists_filters_and_shows_costs_without_float_noise() {
    let env = TestEnv::empty();
    for (source, status, cost) in [
        ("doc-1", "completed", "4.9509322000000004"),
        ("doc-2", "failed", "0.30000000000000004"),
        ("doc-1", "in_progress", "1"),
    ] {
        ok_stdout(&env.run(&[
            "analysis",
            "add",
            "--source-id",
            source,
            "--tool",
            "manual",
            "--status",
            status,
            "--cost-usd",
            cost,
        ]));
    }
    let yaml = ok_stdout(&env.run(&["analysis", "export", "--format", "yaml"]));
    assert!(yaml.contains("cost_usd: 4.9509322\n"), "{yaml}");
    assert!(yaml.contains("cost_usd: 0.3\n"), "{yaml}");
    assert!(
        yaml.starts_with("analyses:\n- id: ANALYSIS-"),
        "id first: {yaml}"
    );
    assert!(
        !yaml.contains("\n  stages:"),
        "stages once, as stages_json: {yaml}"
    );
    let csv = ok_stdout(&env.run(&["analysis", "export", "--format", "csv"]));
    assert!(csv.starts_with("id,source_id,pass,status,"), "{csv}");
    assert!(csv.contains(",4.9509322,"), "{csv}");
    let rows = |args: &[&str]| -> usize {
        let mut all = vec!["analysis", "export", "--format", "csv"];
        all.extend_from_slice(args);
        ok_stdout(&env.run(&all)).lines().count() - 1
    };
    assert_eq!(rows(&[]), 3);
    assert_eq!(rows(&["--source-id", "doc-1"]), 2);
    assert_eq!(rows(&["--status", "in_progress"]), 1);
    assert_eq!(rows(&["--source-id", "doc-1", "--status", "completed"]), 1);
    assert_eq!(rows(&["--since", "today", "--tool", "manual"]), 3);
    assert_eq!(rows(&["--until", "2000-01-01"]), 0);
    // A filter that selects nothing still writes the header.
    let empty = ok_stdout(&env.run(&[
        "analysis",
        "export",
        "--format",
        "csv",
        "--source-id",
        "none",
    ]));
    assert!(empty.starts_with("id,source_id,"), "{empty}");
}

#[test]
fn completions_and_man_pages_come_from_the_cli_definition() {
    let env = TestEnv::empty();
    for (shell, needle) in [
        ("bash", "complete -F _tokledger"),
        ("zsh", "#compdef tokledger"),
        ("fish", "complete -c tokledger"),
        ("elvish", "tokledger"),
        ("powershell", "tokledger"),
    ] {
        let out = ok_stdout(&env.run(&["completions", shell]));
        assert!(out.contains(needle), "{shell}: {out}");
        // Subcommands and their flags are in it, as the parser knows them.
        assert!(
            out.contains("backfill-usage") && out.contains("--usage-session-id"),
            "{shell}"
        );
    }
    let out = env.run(&["completions", "tcsh"]);
    assert_eq!(code(&out), Some(2));
    let page = ok_stdout(&env.run(&["man"]));
    assert!(
        page.starts_with(".ie \\n(.g .ds Aq") || page.contains(".TH tokledger"),
        "{page}"
    );
    assert!(
        page.contains("analysis") && page.contains("Exit codes"),
        "{page}"
    );
    let dir = env.dir.path().join("man1");
    let out = env.run(&["man", "--out", dir.to_str().unwrap()]);
    ok_stdout(&out);
    for page in [
        "tokledger.1",
        "tokledger-analysis.1",
        "tokledger-analysis-start.1",
        "tokledger-report-daily.1",
    ] {
        let text =
            std::fs::read_to_string(dir.join(page)).unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(text.contains(".TH"), "{page}");
    }
    let start = std::fs::read_to_string(dir.join("tokledger-analysis-start.1")).unwrap();
    assert!(start.contains("allow\\-unseen\\-session"), "{start}");
}

/// `make demo` runs scripts/demo.sh on the built binary: it must show an analysis with its
/// stages and cost, the daily and tools reports, and leave nothing behind.
#[test]
fn the_demo_shows_an_analysis_with_stages_and_cost_and_the_reports() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    let out = std::process::Command::new("bash")
        .arg(root.join("scripts/demo.sh"))
        .arg(env!("CARGO_BIN_EXE_tokledger"))
        .current_dir(root)
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap();
    let text = ok_stdout(&out);
    for want in [
        "$ tokledger analysis mark --id ANALYSIS-",
        " read    ",
        " review  ",
        "tokens_check  41,473",
        "cost_usd  0.1129",
        "$ tokledger report daily",
        "$ tokledger report tools",
        "shell_command",
        "$ tokledger analysis sessions list --all",
    ] {
        assert!(text.contains(want), "{want:?} in:\n{text}");
    }
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "cleaned up"
    );
}
