//! Output-contract snapshots: what every command prints over the fixtures — stdout, stderr
//! and the exit code, in each of its formats (table, `--json`, `--csv`, export formats) —
//! byte for byte, stored under `tests/snapshots/`. A change of output fails here; when the
//! change is meant, re-accept with `INSTA_UPDATE=always cargo test --test output_contract`
//! and review the diff of the `.snap` files. Tables are the piped form (plain text, full
//! numbers); the compact terminal form needs a tty and is not covered here.
//!
//! Determinism. Every file of the fixture HOME gets a fixed modification time (`fixed_env`),
//! so `last modified`, the session order and the heuristic binding do not depend on when the
//! copy was made. Tables are printed with `TZ=UTC`. What a run itself produces is normalised
//! in the text (`normalise`): the temp HOME and temp dir paths become `[HOME]` and `[TMP]`,
//! the current year in analysis ids `[YEAR]`, and date-times less than a day old (`started_at`,
//! `completed_at`, stage and snapshot `at`, `generated`, `prices show` without `--at`)
//! `[TIME]`. Times read from the transcripts (March 2026) are kept as they are.

use std::path::Path;
use std::process::Output;
use std::time::{Duration, UNIX_EPOCH};

use crate::common::*;
use chrono::{Datelike, NaiveDate, NaiveDateTime};

/// 2026-03-03T00:00:00Z: after every time in the fixture transcripts.
const MTIME_BASE: u64 = 1_772_496_000;

fn set_mtime(path: &Path, unix_secs: u64) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .expect("open")
        .set_modified(UNIX_EPOCH + Duration::from_secs(unix_secs))
        .expect("set mtime");
}

/// The fixture HOME with fixed modification times: the files in path order, ten minutes
/// apart from `MTIME_BASE` (no two sessions of a tool within the ambiguity window).
fn fixed_env() -> TestEnv {
    let env = TestEnv::with_fixtures();
    let mut files: Vec<_> = walkdir::WalkDir::new(env.home())
        .into_iter()
        .map(|e| e.expect("walk"))
        .filter(|e| e.file_type().is_file())
        .map(walkdir::DirEntry::into_path)
        .collect();
    files.sort();
    for (i, f) in (0u64..).zip(&files) {
        set_mtime(f, MTIME_BASE + 600 * i);
    }
    env
}

fn run(env: &TestEnv, args: &[&str]) -> Output {
    env.cmd(args)
        .env("TZ", "UTC")
        .output()
        .expect("run tokledger")
}

/// `text` with what depends on this run (paths, the year, the time) replaced by tags.
fn normalise(env: &TestEnv, text: &str) -> String {
    let mut t = text.to_owned();
    for (dir, tag) in [
        (env.home(), "[HOME]"),
        (env.dir.path().to_path_buf(), "[TMP]"),
    ] {
        if let Ok(canon) = dir.canonicalize()
            && canon != dir
        {
            t = t.replace(canon.to_str().expect("utf-8 path"), tag);
        }
        t = t.replace(dir.to_str().expect("utf-8 path"), tag);
    }
    // Ids take the year they were made in (the previous one too: a run across New Year).
    let year = chrono::Utc::now().year();
    for y in [year, year - 1] {
        t = t.replace(&format!("ANALYSIS-{y}-"), "ANALYSIS-[YEAR]-");
    }
    redact_run_times(&t)
}

/// Every date-time at most a day old — made by this run, not read from a fixture — as
/// `[TIME]`: RFC 3339 (`2026-12-01T19:29:36.063Z`, `…+01:00`) and table times
/// (`2026-12-01 19:29`, UTC here).
fn redact_run_times(text: &str) -> String {
    let recent = chrono::Utc::now().naive_utc() - chrono::Duration::days(1);
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let (mut i, mut copied) = (0, 0);
    while i < bytes.len() {
        match date_time_at(&bytes[i..]) {
            Some((len, when)) => {
                if when >= recent {
                    out.push_str(&text[copied..i]);
                    out.push_str("[TIME]");
                    copied = i + len;
                }
                i += len;
            }
            None => i += 1,
        }
    }
    out.push_str(&text[copied..]);
    out
}

/// The date-time at the start of `b` (`YYYY-MM-DD[T ]HH:MM[:SS[.fff]][Z|±HH:MM]`): its length
/// and its UTC time (a time without an offset is taken as UTC).
fn date_time_at(b: &[u8]) -> Option<(usize, NaiveDateTime)> {
    let num = |from: usize, n: usize| -> Option<u32> {
        let s = b.get(from..from + n)?;
        s.iter()
            .all(u8::is_ascii_digit)
            .then(|| s.iter().fold(0, |a, d| a * 10 + u32::from(d - b'0')))
    };
    let is = |at: usize, any: &[u8]| b.get(at).is_some_and(|c| any.contains(c));
    if !(is(4, b"-") && is(7, b"-") && is(10, b"T ") && is(13, b":")) {
        return None;
    }
    let year = i32::try_from(num(0, 4)?).ok()?;
    let date = NaiveDate::from_ymd_opt(year, num(5, 2)?, num(8, 2)?)?;
    let (hour, minute) = (num(11, 2)?, num(14, 2)?);
    let (mut len, mut second) = (16, 0);
    if is(16, b":")
        && let Some(s) = num(17, 2)
    {
        (len, second) = (19, s);
        if is(19, b".") && b.get(20).is_some_and(u8::is_ascii_digit) {
            len = 20;
            while b.get(len).is_some_and(u8::is_ascii_digit) {
                len += 1;
            }
        }
    }
    let mut t = date.and_hms_opt(hour, minute, second)?;
    if is(len, b"Z") {
        len += 1;
    } else if is(len, b"+-")
        && is(len + 3, b":")
        && let (Some(h), Some(m)) = (num(len + 1, 2), num(len + 4, 2))
    {
        let offset = chrono::Duration::minutes(i64::from(h * 60 + m));
        t = if b[len] == b'+' {
            t - offset
        } else {
            t + offset
        };
        len += 6;
    }
    Some((len, t))
}

/// One stream of a run as text: verbatim, with a note when it does not end in a newline.
fn stream(name: &str, bytes: &[u8]) -> String {
    let text = std::str::from_utf8(bytes)
        .unwrap_or_else(|e| panic!("{name} is not UTF-8: {e}"))
        .to_owned();
    if text.is_empty() || text.ends_with('\n') {
        text
    } else {
        text + "\n[no newline at end of " + name + "]\n"
    }
}

/// The whole of a run — the command line, stdout, stderr, the exit code — normalised.
fn render(env: &TestEnv, args: &[&str], out: &Output) -> String {
    let line: Vec<String> = args
        .iter()
        .map(|a| {
            if a.is_empty() || a.contains([' ', '\'', '"']) {
                format!("'{}'", a.replace('\'', r"'\''"))
            } else {
                (*a).to_owned()
            }
        })
        .collect();
    let code = out
        .status
        .code()
        .map_or_else(|| "killed by a signal".to_owned(), |c| c.to_string());
    normalise(
        env,
        &format!(
            "$ tokledger {}\n--- stdout\n{}--- stderr\n{}--- exit {code}\n",
            line.join(" "),
            stream("stdout", &out.stdout),
            stream("stderr", &out.stderr),
        ),
    )
}

/// Run, snapshot the run as `name`, and return its output (to take ids from).
fn snap(env: &TestEnv, name: &str, args: &[&str]) -> Output {
    let out = run(env, args);
    let text = render(env, args, &out);
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!(name, text);
    });
    out
}

/// A table (`--color never`), `--json` and `--csv` of the same command, as `NAME_table`,
/// `NAME_json` and `NAME_csv`.
fn snap_formats(env: &TestEnv, name: &str, args: &[&str], formats: &[&str]) {
    for format in formats {
        let mut all: Vec<&str> = Vec::new();
        match *format {
            "table" => all.extend(["--color", "never"]),
            "json" | "csv" => {}
            other => panic!("no format {other}"),
        }
        all.extend_from_slice(args);
        match *format {
            "json" => all.push("--json"),
            "csv" => all.push("--csv"),
            _ => {}
        }
        snap(env, &format!("{name}_{format}"), &all);
    }
}

const ALL: &[&str] = &["table", "json", "csv"];
const TABLE_JSON: &[&str] = &["table", "json"];

/// The id a `start`/`add` printed alone on stdout.
fn id_of(out: &Output) -> String {
    let id = ok_stdout(out).trim().to_owned();
    assert!(id.starts_with("ANALYSIS-"), "an id: {id:?}");
    id
}

/// The id of a row printed as JSON.
fn json_id(out: &Output) -> String {
    let row: serde_json::Value = serde_json::from_str(&ok_stdout(out)).expect("json row");
    row["id"].as_str().expect("id").to_owned()
}

#[test]
fn sessions_list() {
    let env = fixed_env();
    // The first read: the fixtures' malformed line and invalid UTF-8 are warned about.
    snap_formats(
        &env,
        "sessions_list_all",
        &["analysis", "sessions", "list", "--all"],
        TABLE_JSON,
    );
    snap_formats(
        &env,
        "sessions_list_default",
        &["analysis", "sessions", "list"],
        TABLE_JSON,
    );
    for tool in ["claude", "codex", "amp"] {
        snap_formats(
            &env,
            &format!("sessions_list_tool_{tool}"),
            &["analysis", "sessions", "list", "--tool", tool],
            TABLE_JSON,
        );
    }
    snap_formats(
        &env,
        "sessions_list_limit_1",
        &["analysis", "sessions", "list", "--limit", "1"],
        TABLE_JSON,
    );
}

#[test]
fn token_reports() {
    let env = fixed_env();
    for report in ["daily", "weekly", "monthly", "session", "model"] {
        snap_formats(
            &env,
            &format!("report_{report}"),
            &["report", report, "--tz", "UTC"],
            ALL,
        );
        snap_formats(
            &env,
            &format!("report_{report}_breakdown"),
            &["report", report, "--tz", "UTC", "--breakdown"],
            ALL,
        );
    }
    // Filters, and a zone (UTC+14) that moves the 2026-03-02 10:00Z responses to the next day.
    snap_formats(
        &env,
        "report_daily_tool_codex",
        &["report", "daily", "--tz", "UTC", "--tool", "codex"],
        ALL,
    );
    snap_formats(
        &env,
        "report_daily_since_until",
        &[
            "report",
            "daily",
            "--tz",
            "UTC",
            "--since",
            "2026-03-01",
            "--until",
            "2026-03-01",
            "--breakdown",
        ],
        ALL,
    );
    snap_formats(
        &env,
        "report_daily_tz_kiritimati",
        &[
            "report",
            "daily",
            "--tz",
            "Pacific/Kiritimati",
            "--breakdown",
        ],
        TABLE_JSON,
    );
    snap_formats(
        &env,
        "report_weekly_week_start_sunday",
        &["report", "weekly", "--tz", "UTC", "--week-start", "sunday"],
        TABLE_JSON,
    );
    snap_formats(
        &env,
        "report_session_project_app",
        &["report", "session", "--tz", "UTC", "--project", "app"],
        ALL,
    );
    snap_formats(
        &env,
        "report_model_tool_amp",
        &["report", "model", "--tz", "UTC", "--tool", "amp"],
        ALL,
    );
    snap_formats(
        &env,
        "report_session_project_none",
        &["report", "session", "--tz", "UTC", "--project", "/nowhere"],
        ALL,
    );
}

#[test]
fn activity_reports() {
    let env = fixed_env();
    for report in ["tools", "files", "compactions"] {
        snap_formats(&env, &format!("report_{report}"), &["report", report], ALL);
        snap_formats(
            &env,
            &format!("report_{report}_session_sa"),
            &["report", report, "--session", SA],
            ALL,
        );
    }
    snap_formats(
        &env,
        "report_tools_calls",
        &["report", "tools", "--calls"],
        ALL,
    );
    snap_formats(
        &env,
        "report_tools_name_read",
        &["report", "tools", "--name", "read"],
        ALL,
    );
    snap_formats(
        &env,
        "report_tools_tool_codex",
        &["report", "tools", "--tool", "codex"],
        ALL,
    );
    snap_formats(
        &env,
        "report_tools_since",
        &["report", "tools", "--since", "2026-03-02T09:30:00Z"],
        ALL,
    );
    snap_formats(
        &env,
        "report_files_limit_1",
        &["report", "files", "--limit", "1"],
        ALL,
    );
    snap_formats(
        &env,
        "report_compactions_project_app",
        &["report", "compactions", "--project", "app"],
        ALL,
    );
}

#[test]
fn prices_show() {
    let env = fixed_env();
    snap_formats(
        &env,
        "prices_show_sonnet_4_5",
        &[
            "prices",
            "show",
            "claude-sonnet-4-5-20250929",
            "--at",
            "2026-03-02",
        ],
        TABLE_JSON,
    );
    snap_formats(
        &env,
        "prices_show_gpt_5_codex",
        &[
            "prices",
            "show",
            "gpt-5",
            "--tool",
            "codex",
            "--at",
            "2026-03-02",
        ],
        TABLE_JSON,
    );
    snap_formats(
        &env,
        "prices_show_haiku_3_5_amp",
        &[
            "prices",
            "show",
            "claude-3-5-haiku-20241022",
            "--tool",
            "amp",
            "--at",
            "2026-03-02T10:00:00Z",
        ],
        TABLE_JSON,
    );
    // Priced now: the time shown is [TIME].
    snap_formats(
        &env,
        "prices_show_opus_4_1_now",
        &["prices", "show", "claude-opus-4-1-20250805"],
        TABLE_JSON,
    );
    snap_formats(
        &env,
        "prices_show_unknown_model",
        &["prices", "show", "no-such-model", "--at", "2026-03-02"],
        TABLE_JSON,
    );
}

/// A Claude response of session SA, at a fixed time, appended while an analysis runs.
fn claude_response(id: &str, usage: (i64, i64, i64, i64)) -> String {
    format!(
        r#"{{"type":"assistant","isSidechain":false,"sessionId":"{SA}","cwd":"/home/dev/app","timestamp":"2026-03-02T09:40:00.000Z","requestId":"req_{id}","message":{{"id":"{id}","model":"claude-sonnet-4-5-20250929","content":[],"usage":{{"input_tokens":{},"cache_creation_input_tokens":{},"cache_read_input_tokens":{},"output_tokens":{}}}}}}}"#,
        usage.0, usage.1, usage.2, usage.3
    ) + "\n"
}

/// A Codex `token_count` of thread CX continuing its counters (total 4750 before).
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
fn analysis_lifecycle() {
    let env = fixed_env();
    let home = env.home();

    // A live analysis in Claude session SA, growing between its stages.
    let a1 = id_of(&snap(
        &env,
        "analysis_start_claude",
        &[
            "analysis",
            "start",
            "--source-id",
            "PR-1",
            "--tool",
            "claude",
            "--usage-session-id",
            SA,
            "--pass",
            "1",
            "--model",
            "claude-sonnet-4-5",
        ],
    ));
    append(
        &claude_main(&home),
        claude_response("msg_L1", (5, 0, 3000, 40)),
    );
    snap(
        &env,
        "analysis_mark_read",
        &["analysis", "mark", "--id", &a1, "--stage", "read"],
    );
    append(
        &claude_main(&home),
        claude_response("msg_L2", (7, 200, 3000, 90)),
    );
    snap(
        &env,
        "analysis_mark_review_json",
        &[
            "analysis", "mark", "--id", &a1, "--stage", "review", "--json",
        ],
    );
    snap(
        &env,
        "analysis_complete",
        &[
            "analysis",
            "complete",
            "--id",
            &a1,
            "--claims-extracted",
            "7",
            "--claims-updated",
            "2",
            "--notes",
            "2 blockers",
        ],
    );

    // A live analysis in Codex thread CX, printed as JSON, that fails.
    let a2 = json_id(&snap(
        &env,
        "analysis_start_codex_json",
        &[
            "analysis",
            "start",
            "--source-id",
            "PR-2",
            "--tool",
            "codex",
            "--usage-session-id",
            CX,
            "--json",
        ],
    ));
    append(
        &codex_main(&home),
        codex_count((3600, 1700, 480), (1000, 0, 30)),
    );
    snap(
        &env,
        "analysis_complete_failed_json",
        &[
            "analysis",
            "complete",
            "--id",
            &a2,
            "--status",
            "failed",
            "--notes",
            "timed out",
            "--json",
        ],
    );

    // One-shot rows: tokens by hand (priced by --estimate-cost), the whole of a transcript.
    let a3 = id_of(&snap(
        &env,
        "analysis_add_manual",
        &[
            "analysis",
            "add",
            "--source-id",
            "doc-7",
            "--tool",
            "manual",
            "--model",
            "claude-sonnet-4-5",
            "--tokens-in",
            "12000",
            "--tokens-out",
            "800",
            "--estimate-cost",
            "--started-at",
            "2026-03-02T09:00:00Z",
            "--completed-at",
            "2026-03-02T09:20:00Z",
        ],
    ));
    snap(
        &env,
        "analysis_add_manual_json",
        &[
            "analysis",
            "add",
            "--source-id",
            "doc-9",
            "--tool",
            "other",
            "--tokens-in",
            "300",
            "--tokens-out",
            "20",
            "--cost-usd",
            "0.25",
            "--notes",
            "by hand",
            "--json",
        ],
    );
    let sb_path = home
        .join(".config/claude/projects/-home-dev-lib")
        .join(format!("{SB}.jsonl"));
    let usage_from = [
        ("claude", sb_path),
        ("codex", codex_main(&home)),
        (
            "amp",
            home.join(".local/share/amp/threads")
                .join(format!("{TA}.json")),
        ),
    ];
    let mut from_ids = Vec::new();
    for (tool, path) in &usage_from {
        let spec = format!("{tool}:{}", path.to_str().expect("utf-8"));
        let source = format!("doc-{tool}");
        let out = snap(
            &env,
            &format!("analysis_add_usage_from_{tool}_json"),
            &[
                "analysis",
                "add",
                "--source-id",
                &source,
                "--tool",
                tool,
                "--usage-from",
                &spec,
                "--json",
            ],
        );
        from_ids.push(json_id(&out));
    }

    // A synthesis of the rows above, with end-to-end totals.
    let inputs = [a1.as_str(), a3.as_str(), from_ids[0].as_str()].join(",");
    let synth = id_of(&snap(
        &env,
        "analysis_add_synthesis",
        &[
            "analysis",
            "add",
            "--source-id",
            "PR-1-synthesis",
            "--tool",
            "claude",
            "--pass",
            "synthesis",
            "--inputs-analysis-ids",
            &inputs,
            "--inputs-source-ids",
            "PR-1,doc-7",
            "--tokens-in",
            "900",
            "--tokens-out",
            "100",
        ],
    ));

    // Rows for the backfill: one it fills, one ambiguous (two Amp threads), one without a window.
    for (source, tool, started, completed) in [
        (
            "w-fill",
            "claude",
            "2026-03-02T09:00:00Z",
            Some("2026-03-02T09:05:00Z"),
        ),
        (
            "w-ambiguous",
            "amp",
            "2026-03-02T10:00:00Z",
            Some("2026-03-02T10:00:30Z"),
        ),
        ("w-open", "claude", "2026-03-02T09:00:00Z", None),
    ] {
        let mut args = vec![
            "analysis",
            "add",
            "--source-id",
            source,
            "--tool",
            tool,
            "--started-at",
            started,
        ];
        if let Some(c) = completed {
            args.extend(["--completed-at", c]);
        }
        id_of(&run(&env, &args));
    }

    // Reading the rows back.
    for (name, id) in [("claude", &a1), ("codex", &a2), ("synthesis", &synth)] {
        snap_formats(
            &env,
            &format!("analysis_show_{name}"),
            &["analysis", "show", "--id", id],
            TABLE_JSON,
        );
    }
    snap_formats(&env, "analysis_list", &["analysis", "list"], TABLE_JSON);
    snap_formats(
        &env,
        "analysis_list_filtered",
        &[
            "analysis",
            "list",
            "--tool",
            "claude",
            "--status",
            "completed",
            "--since",
            "2026-03-02",
            "--until",
            "2026-03-02",
        ],
        TABLE_JSON,
    );
    for format in ["yaml", "md", "json", "csv"] {
        snap(
            &env,
            &format!("analysis_export_{format}"),
            &["analysis", "export", "--format", format],
        );
    }
    let out_file = env.dir.path().join("export.md");
    snap(
        &env,
        "analysis_export_out_file",
        &[
            "analysis",
            "export",
            "--format",
            "md",
            "--out",
            out_file.to_str().expect("utf-8"),
        ],
    );
    let written = std::fs::read_to_string(&out_file).expect("export written");
    assert!(written.starts_with("# Token ledger report"), "{written}");

    snap_formats(
        &env,
        "analysis_validate_ok",
        &["analysis", "validate"],
        TABLE_JSON,
    );
    snap_formats(
        &env,
        "analysis_backfill_dry_run",
        &["analysis", "backfill-usage", "--dry-run"],
        TABLE_JSON,
    );

    // Problems: a synthesis of what is not in the ledger, and a row whose sums were edited.
    snap(
        &env,
        "analysis_add_synthesis_dangling",
        &[
            "analysis",
            "add",
            "--source-id",
            "dangling",
            "--tool",
            "manual",
            "--pass",
            "synthesis",
            "--inputs-analysis-ids",
            "ANALYSIS-1999-999",
            "--inputs-source-ids",
            "nowhere",
            "--tokens-in",
            "1",
            "--tokens-out",
            "1",
        ],
    );
    let ledger = rusqlite::Connection::open(env.db()).expect("open ledger");
    let edited = ledger
        .execute(
            "UPDATE analysis_logs SET tokens_check = tokens_check + 1,
                 total_tokens = total_tokens + 5 WHERE id = ?1",
            [&a1],
        )
        .expect("edit row");
    assert_eq!(edited, 1);
    drop(ledger);
    snap_formats(
        &env,
        "analysis_validate_problems",
        &["analysis", "validate"],
        TABLE_JSON,
    );
}

#[test]
fn analysis_run() {
    let env = fixed_env();
    for (name, script) in [
        ("analysis_run_ok", "echo out; echo err >&2"),
        ("analysis_run_exit_4", "exit 4"),
    ] {
        snap(
            &env,
            name,
            &[
                "analysis",
                "run",
                "--source-id",
                "R",
                "--tool",
                "claude",
                "--usage-session-id",
                SA,
                "--",
                "sh",
                "-c",
                script,
            ],
        );
    }
    snap_formats(&env, "analysis_run_list", &["analysis", "list"], TABLE_JSON);
}

#[test]
fn errors_and_exit_codes() {
    let env = fixed_env();
    // Exit 1: an unknown id, a row no longer in progress, an unpriced model.
    snap_formats(
        &env,
        "error_show_unknown_id",
        &["analysis", "show", "--id", "ANALYSIS-1999-999"],
        TABLE_JSON,
    );
    snap(
        &env,
        "error_mark_unknown_id",
        &[
            "analysis",
            "mark",
            "--id",
            "ANALYSIS-1999-999",
            "--stage",
            "x",
        ],
    );
    let id = id_of(&run(
        &env,
        &[
            "analysis",
            "add",
            "--source-id",
            "done",
            "--tool",
            "manual",
            "--tokens-in",
            "1",
            "--tokens-out",
            "1",
        ],
    ));
    snap(
        &env,
        "error_complete_not_in_progress",
        &["analysis", "complete", "--id", &id],
    );
    snap(
        &env,
        "error_mark_not_in_progress",
        &["analysis", "mark", "--id", &id, "--stage", "late"],
    );

    // Exit 2: usage errors, ours and clap's.
    snap(
        &env,
        "error_usage_report_since",
        &["report", "daily", "--since", "lastweek"],
    );
    snap(
        &env,
        "error_usage_report_tz",
        &["report", "daily", "--tz", "Mars/Olympus"],
    );
    snap(
        &env,
        "error_usage_list_since",
        &["analysis", "list", "--since", "last tuesday"],
    );
    snap(
        &env,
        "error_usage_unknown_flag",
        &["analysis", "sessions", "list", "--csv"],
    );
    snap(
        &env,
        "error_usage_missing_source_id",
        &["analysis", "start", "--tool", "claude"],
    );
    snap(
        &env,
        "error_usage_bad_tool",
        &["report", "daily", "--tool", "cursor"],
    );

    // Exit 3: two Claude sessions modified 30 s apart, then no session at all.
    let sb_path = env
        .home()
        .join(".config/claude/projects/-home-dev-lib")
        .join(format!("{SB}.jsonl"));
    let sa_dir = claude_main(&env.home()).with_extension("");
    for entry in walkdir::WalkDir::new(&sa_dir) {
        let entry = entry.expect("walk");
        if entry.file_type().is_file() {
            set_mtime(entry.path(), MTIME_BASE);
        }
    }
    set_mtime(&claude_main(&env.home()), MTIME_BASE);
    set_mtime(&sb_path, MTIME_BASE + 30);
    snap(
        &env,
        "error_ambiguous_session",
        &["analysis", "start", "--source-id", "x", "--tool", "claude"],
    );
    let empty = TestEnv::empty();
    snap(
        &empty,
        "error_no_session",
        &["analysis", "start", "--source-id", "x", "--tool", "codex"],
    );

    // Exit 75: the ledger locked past the busy timeout.
    let lock = rusqlite::Connection::open(env.db()).expect("open ledger");
    lock.execute_batch("BEGIN EXCLUSIVE").expect("lock");
    snap(
        &env,
        "error_ledger_locked",
        &[
            "--busy-timeout",
            "0.2",
            "analysis",
            "add",
            "--source-id",
            "blocked",
            "--tool",
            "manual",
            "--tokens-in",
            "1",
            "--tokens-out",
            "1",
        ],
    );
    lock.execute_batch("ROLLBACK").expect("unlock");
}

#[test]
fn the_normaliser_keeps_fixture_times_and_tags_run_times() {
    let env = TestEnv::empty();
    let now = chrono::Utc::now();
    let text = format!(
        "{} {} {} 2026-03-02T09:00:00.000Z 2026-03-02 09:00 ANALYSIS-{}-001 ANALYSIS-1999-999 {}",
        now.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
        now.format("%Y-%m-%d %H:%M"),
        (now + chrono::Duration::hours(1)).format("%Y-%m-%dT%H:%M:%S+01:00"),
        now.year(),
        env.home().join("x").display(),
    );
    assert_eq!(
        normalise(&env, &text),
        "[TIME] [TIME] [TIME] 2026-03-02T09:00:00.000Z 2026-03-02 09:00 ANALYSIS-[YEAR]-001 \
         ANALYSIS-1999-999 [HOME]/x"
    );
}
