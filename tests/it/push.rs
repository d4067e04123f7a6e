//! `tokledger push` against a real PostgreSQL server (tests/it/pg.rs): the server's totals
//! equal the ledgers', to the token and nano-dollar, through concurrent, repeated, killed and
//! incremental pushes; errors say what and leave the ledger as it was.

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::common::*;
use crate::pg::{PASSWORD, Pg};

/// The sums a ledger holds: responses, the seven buckets, the known cost (nano-USD), and
/// tool calls. The server's per-machine sums must equal them exactly.
#[derive(Debug, Default, PartialEq, Eq, Clone, Copy)]
struct Totals {
    responses: i64,
    buckets: [i64; 7],
    cost_nusd: i64,
    tool_calls: i64,
}

impl std::ops::Add for Totals {
    type Output = Totals;
    fn add(mut self, o: Totals) -> Totals {
        self.responses += o.responses;
        for (a, b) in self.buckets.iter_mut().zip(o.buckets) {
            *a += b;
        }
        self.cost_nusd += o.cost_nusd;
        self.tool_calls += o.tool_calls;
        self
    }
}

const SUMS: &str = "count(*), coalesce(sum(input_tokens), 0), coalesce(sum(cache_creation_tokens), 0),
    coalesce(sum(cache_creation_5m_tokens), 0), coalesce(sum(cache_creation_1h_tokens), 0),
    coalesce(sum(cache_read_tokens), 0), coalesce(sum(output_tokens), 0), coalesce(sum(reasoning_tokens), 0),
    coalesce(sum(cost_nusd), 0)";

fn ledger_totals(db: &Path) -> Totals {
    let c = rusqlite::Connection::open(db).expect("open ledger");
    let mut t: Totals = c
        .query_row(&format!("SELECT {SUMS} FROM usage_events"), [], |r| {
            let mut b = [0; 7];
            for (i, v) in b.iter_mut().enumerate() {
                *v = r.get(i + 1)?;
            }
            Ok(Totals {
                responses: r.get(0)?,
                buckets: b,
                cost_nusd: r.get(8)?,
                tool_calls: 0,
            })
        })
        .expect("sums");
    t.tool_calls = c
        .query_row("SELECT count(*) FROM tool_calls", [], |r| r.get(0))
        .expect("calls");
    t
}

/// The server's totals, of one machine or (`None`) of all.
fn server_totals(pg: &Pg, db: &str, machine: Option<&str>) -> Totals {
    let mut c = pg.client(db);
    let m = machine.unwrap_or("");
    // Sums of bigints are numeric in PostgreSQL: read back as bigints.
    let sql = format!(
        "SELECT {} FROM tokledger_usage WHERE $1 = '' OR machine = $1",
        SUMS.replace("), 0)", "), 0)::bigint")
    );
    let r = c.query_one(&sql, &[&m]).expect("server sums");
    let mut b = [0; 7];
    for (i, v) in b.iter_mut().enumerate() {
        *v = r.get(i + 1);
    }
    let calls: i64 = c
        .query_one(
            "SELECT count(*) FROM tokledger_tool_calls WHERE $1 = '' OR machine = $1",
            &[&m],
        )
        .expect("calls")
        .get(0);
    Totals {
        responses: r.get(0),
        buckets: b,
        cost_nusd: r.get(8),
        tool_calls: calls,
    }
}

fn push_cmd(env: &TestEnv, url: &str, machine: &str, extra: &[&str]) -> std::process::Command {
    let mut args = vec!["push", "--to", url, "--machine", machine, "--json"];
    args.extend_from_slice(extra);
    env.cmd(&args)
}

fn push(env: &TestEnv, url: &str, machine: &str) -> Value {
    let out = push_cmd(env, url, machine, &[]).output().expect("run push");
    pushed_json(&out)
}

fn pushed_json(out: &Output) -> Value {
    assert!(out.status.success(), "push failed: {}", stderr(out));
    serde_json::from_slice(&out.stdout).expect("push --json")
}

fn pushed_rows(v: &Value) -> i64 {
    v["pushed"]
        .as_object()
        .expect("pushed")
        .values()
        .map(|n| n.as_i64().expect("count"))
        .sum()
}

/// A HOME holding a generated history (scripts/gen_history.py) of about `mb` MiB.
fn generated(mb: f64, seed: u32) -> TestEnv {
    let env = TestEnv::empty();
    let out = std::process::Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/gen_history.py"))
        .arg(env.home())
        .args(["--mb", &mb.to_string(), "--seed", &seed.to_string()])
        .output()
        .expect("run gen_history.py");
    assert!(out.status.success(), "gen_history: {}", stderr(&out));
    env
}

/// The cursor the ledger keeps for its destinations: (usage_id, tool_call_id, change_seq,
/// committed).
fn cursors(db: &Path) -> Vec<(i64, i64, i64, bool)> {
    let c = rusqlite::Connection::open(db).expect("open ledger");
    let mut st = c
        .prepare(
            "SELECT usage_id, tool_call_id, change_seq, pushed_at_ms IS NOT NULL FROM push_destinations
             ORDER BY destination, machine",
        )
        .expect("prepare");
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .expect("query")
        .collect::<rusqlite::Result<_>>()
        .expect("rows")
}

#[test]
fn three_ledgers_pushing_at_once_add_up_exactly_and_a_second_push_sends_nothing() {
    let Some(pg) = Pg::start() else { return };
    let url = pg.create_db("team");
    let envs: Vec<TestEnv> = (1..=3).map(|seed| generated(0.6, seed)).collect();
    // Each ledger also holds an analysis over a session it has read.
    for env in &envs {
        ok_stdout(&env.run(&["report", "daily", "--json"]));
        let session: String = rusqlite::Connection::open(env.db())
            .expect("ledger")
            .query_row(
                "SELECT session_id FROM sessions WHERE tool = 'claude' ORDER BY session_id LIMIT 1",
                [],
                |r| r.get(0),
            )
            .expect("a claude session");
        let id = env.start(
            "team-check",
            &["--tool", "claude", "--usage-session-id", &session],
        );
        ok_stdout(&env.run(&["analysis", "complete", "--id", &id]));
    }
    let children: Vec<_> = envs
        .iter()
        .enumerate()
        .map(|(i, env)| {
            push_cmd(env, &url, &format!("m{i}"), &[])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn push")
        })
        .collect();
    let mut sum = Totals::default();
    for (i, (child, env)) in children.into_iter().zip(&envs).enumerate() {
        let out = child.wait_with_output().expect("wait push");
        let v = pushed_json(&out);
        let mine = ledger_totals(&env.db());
        assert!(mine.responses > 100 && mine.tool_calls > 0, "{mine:?}");
        assert_eq!(v["full"], true);
        assert_eq!(v["pushed"]["usage"].as_i64(), Some(mine.responses));
        assert_eq!(v["pushed"]["tool_calls"].as_i64(), Some(mine.tool_calls));
        assert_eq!(v["pushed"]["analyses"].as_i64(), Some(1));
        assert!(v["elapsed_ms"].is_u64());
        assert_eq!(server_totals(&pg, "team", Some(&format!("m{i}"))), mine);
        sum = sum + mine;
    }
    assert_eq!(server_totals(&pg, "team", None), sum);
    // The views add up to the same.
    let mut c = pg.client("team");
    let daily: i64 = c
        .query_one("SELECT sum(total_tokens)::bigint FROM tokledger_daily", &[])
        .expect("daily")
        .get(0);
    let b = sum.buckets;
    assert_eq!(daily, b[0] + b[1] + b[4] + b[5]);
    let by_machine: Vec<(String, i64)> = c
        .query(
            "SELECT machine, responses FROM tokledger_by_machine ORDER BY machine",
            &[],
        )
        .expect("by machine")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(by_machine.len(), 3);
    assert_eq!(
        by_machine.iter().map(|(_, n)| n).sum::<i64>(),
        sum.responses
    );
    let analyses: i64 = c
        .query_one(
            "SELECT analyses FROM tokledger_by_source WHERE source_id = 'team-check'",
            &[],
        )
        .expect("by source")
        .get(0);
    assert_eq!(analyses, 3);

    for (i, env) in envs.iter().enumerate() {
        let again = push(env, &url, &format!("m{i}"));
        assert_eq!(
            (pushed_rows(&again), &again["full"]),
            (0, &Value::Bool(false)),
            "{again}"
        );
    }
    assert_eq!(server_totals(&pg, "team", None), sum);
}

#[test]
fn a_push_killed_before_or_after_its_commit_is_repeated_exactly() {
    let Some(pg) = Pg::start() else { return };
    let url = pg.create_db("killed");
    let env = generated(2.0, 7);
    ok_stdout(&env.run(&["report", "daily", "--json"]));
    let mine = ledger_totals(&env.db());

    // Killed after the rows were copied and merged, before the COMMIT: the server keeps
    // nothing, the ledger's cursor has not moved.
    let out = push_cmd(&env, &url, "k", &[])
        .env("TOKLEDGER_TEST_PUSH_ABORT", "before-commit")
        .output()
        .expect("run push");
    assert_eq!(out.status.signal(), Some(9), "{}", stderr(&out));
    assert_eq!(server_totals(&pg, "killed", None), Totals::default());
    assert_eq!(cursors(&env.db()), vec![(0, 0, 0, false)]);

    let v = push(&env, &url, "k");
    assert_eq!(v["full"], true);
    assert_eq!(server_totals(&pg, "killed", Some("k")), mine);

    // New rows; killed after the server committed them, before the ledger's cursor moved:
    // the next push sends them again, and nothing is counted twice.
    let session: String = rusqlite::Connection::open(env.db())
        .expect("ledger")
        .query_row(
            "SELECT session_id FROM sessions WHERE tool = 'claude' LIMIT 1",
            [],
            |r| r.get(0),
        )
        .expect("session");
    let id = env.start(
        "after-commit",
        &["--tool", "claude", "--usage-session-id", &session],
    );
    let before = cursors(&env.db());
    let out = push_cmd(&env, &url, "k", &["--no-read"])
        .env("TOKLEDGER_TEST_PUSH_ABORT", "after-commit")
        .output()
        .expect("run push");
    assert_eq!(out.status.signal(), Some(9), "{}", stderr(&out));
    assert_eq!(
        cursors(&env.db()),
        before,
        "the cursor moves only after the commit is known"
    );
    let again = push(&env, &url, "k");
    assert!(again["pushed"]["analyses"].as_i64() >= Some(1), "{again}");
    assert_eq!(server_totals(&pg, "killed", None), ledger_totals(&env.db()));
    let n: i64 = pg
        .client("killed")
        .query_one(
            "SELECT count(*) FROM tokledger_analyses WHERE id = $1",
            &[&id],
        )
        .expect("analyses")
        .get(0);
    assert_eq!(n, 1);
    assert_eq!(pushed_rows(&push(&env, &url, "k")), 0);
}

fn claude_line(id: &str, req: &str, usage: (i64, i64, i64, i64)) -> String {
    format!(
        r#"{{"type":"assistant","sessionId":"{SA}","timestamp":"2026-03-02T10:30:00.000Z","requestId":"{req}","cwd":"/home/dev/app","message":{{"id":"{id}","model":"claude-opus-4-1-20250805","content":[],"usage":{{"input_tokens":{},"cache_creation_input_tokens":{},"cache_read_input_tokens":{},"output_tokens":{}}}}}}}"#,
        usage.0, usage.1, usage.2, usage.3
    ) + "\n"
}

#[test]
fn an_analysis_completed_after_its_push_is_updated_not_duplicated() {
    let Some(pg) = Pg::start() else { return };
    let url = pg.create_db("updates");
    let env = TestEnv::with_fixtures();
    let id = env.start("doc-7", &["--tool", "claude", "--usage-session-id", SA]);
    append(
        &claude_main(&env.home()),
        claude_line("msg_P", "req_P", (7, 0, 3000, 11)),
    );
    ok_stdout(&env.run(&["analysis", "mark", "--id", &id, "--stage", "read"]));
    let first = push(&env, &url, "dev");
    assert_eq!(first["pushed"]["analyses"], 1);
    assert_eq!(first["pushed"]["analysis_snapshots"], 2);
    let mut c = pg.client("updates");
    let status: String = c
        .query_one(
            "SELECT status FROM tokledger_analyses WHERE id = $1",
            &[&id],
        )
        .expect("row")
        .get(0);
    assert_eq!(status, "in_progress");

    // The response grows (a merge of a row already sent), and the analysis completes.
    append(
        &claude_main(&env.home()),
        claude_line("msg_P", "req_P", (7, 0, 3000, 40)),
    );
    ok_stdout(&env.run(&["analysis", "complete", "--id", &id, "--notes", "done"]));
    let second = push(&env, &url, "dev");
    assert_eq!(second["full"], false);
    assert_eq!(second["pushed"]["analyses"], 1, "{second}");
    assert_eq!(
        second["pushed"]["usage"], 1,
        "the merged response is sent again: {second}"
    );
    let shown = env.json(&["analysis", "show", "--id", &id, "--json"]);
    let rows = c
        .query(
            "SELECT status, total_tokens, tokens_check, cost_usd, notes, jsonb_array_length(stages)
             FROM tokledger_analyses WHERE id = $1",
            &[&id],
        )
        .expect("rows");
    assert_eq!(rows.len(), 1, "updated, not duplicated");
    let r = &rows[0];
    assert_eq!(r.get::<_, String>(0), "completed");
    assert_eq!(r.get::<_, Option<i64>>(1), shown["total_tokens"].as_i64());
    assert_eq!(r.get::<_, Option<i64>>(2), shown["tokens_check"].as_i64());
    assert_eq!(r.get::<_, Option<f64>>(3), shown["cost_usd"].as_f64());
    assert_eq!(r.get::<_, Option<String>>(4).as_deref(), Some("done"));
    assert_eq!(r.get::<_, i32>(5), 1);
    assert_eq!(shown["tokens_check"].as_i64(), Some(7 + 3000 + 40));
    let snaps: i64 = c
        .query_one(
            "SELECT count(*) FROM tokledger_analysis_snapshots WHERE analysis_id = $1",
            &[&id],
        )
        .expect("snapshots")
        .get(0);
    assert_eq!(snaps, 3);
    let out: i64 = c
        .query_one(
            "SELECT output_tokens FROM tokledger_usage WHERE dedup_key LIKE '%msg_P%'",
            &[],
        )
        .expect("usage")
        .get(0);
    assert_eq!(out, 40);
    assert_eq!(
        server_totals(&pg, "updates", None),
        ledger_totals(&env.db())
    );
    assert_eq!(pushed_rows(&push(&env, &url, "dev")), 0);
}

#[test]
fn a_ledger_from_before_push_sends_its_whole_history() {
    let Some(pg) = Pg::start() else { return };
    let url = pg.create_db("old");
    let env = TestEnv::with_fixtures();
    let id = env.start("doc-old", &["--tool", "claude", "--usage-session-id", SA]);
    ok_stdout(&env.run(&["analysis", "complete", "--id", &id]));
    ok_stdout(&env.run(&["report", "daily", "--json"]));
    // Made a ledger of the version before push by taking out what push's migration added
    // (0009; the later ones run again over their own objects): the migrations only ever add,
    // so this is that version's schema, with its data.
    const PUSH_MIGRATION: i64 = 9;
    {
        let c = rusqlite::Connection::open(env.db()).expect("ledger");
        let triggers: Vec<String> = c
            .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'push_%'")
            .expect("prepare")
            .query_map([], |r| r.get(0))
            .expect("query")
            .collect::<rusqlite::Result<_>>()
            .expect("names");
        assert!(triggers.len() >= 10, "{triggers:?}");
        for t in triggers {
            c.execute_batch(&format!("DROP TRIGGER {t}")).expect("drop");
        }
        c.execute_batch(&format!(
            "DROP TABLE push_changes; DROP TABLE push_destinations; DROP TABLE push_ledger;
             PRAGMA user_version = {};",
            PUSH_MIGRATION - 1
        ))
        .expect("to the version before push");
    }
    let mine = ledger_totals(&env.db());
    let v = push(&env, &url, "old-laptop");
    assert_eq!(v["full"], true);
    assert_eq!(v["pushed"]["usage"].as_i64(), Some(mine.responses));
    assert_eq!(v["pushed"]["analyses"], 1);
    assert_eq!(server_totals(&pg, "old", None), mine);
    let version: i64 = rusqlite::Connection::open(env.db())
        .expect("ledger")
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("version");
    assert_eq!(version, tokledger::store::SCHEMA_VERSION);
    assert_eq!(pushed_rows(&push(&env, &url, "old-laptop")), 0);
}

#[test]
fn what_is_sent_of_paths_and_projects() {
    let Some(pg) = Pg::start() else { return };
    let url = pg.create_db("privacy");
    let env = TestEnv::with_fixtures();
    push(&env, &url, "a");
    let mut c = pg.client("privacy");
    let projects: Vec<Option<String>> = c
        .query(
            "SELECT DISTINCT project FROM tokledger_sessions ORDER BY 1",
            &[],
        )
        .expect("projects")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(projects.contains(&Some("app".to_owned())), "{projects:?}");
    let paths: Vec<String> = c
        .query(
            "SELECT file_path FROM tokledger_tool_calls WHERE file_path IS NOT NULL",
            &[],
        )
        .expect("paths")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(!paths.is_empty());
    for p in projects.iter().flatten().chain(&paths) {
        assert!(
            !p.starts_with('/') && !p.contains("/home/"),
            "a full path was sent: {p}"
        );
    }
    // Redacted: none at all (re-sent under another machine name, so every row is new).
    let v = pushed_json(
        &push_cmd(&env, &url, "b", &["--redact", "paths,projects,notes"])
            .output()
            .expect("push"),
    );
    assert!(v["pushed"]["tool_calls"].as_i64() > Some(0));
    let (paths, projects): (i64, i64) = {
        let r = c
            .query_one(
                "SELECT (SELECT count(file_path) FROM tokledger_tool_calls WHERE machine = 'b'),
                        (SELECT count(project) FROM tokledger_sessions WHERE machine = 'b')",
                &[],
            )
            .expect("counts");
        (r.get(0), r.get(1))
    };
    assert_eq!((paths, projects), (0, 0));
}

/// The ledger's bytes (file and WAL), to show a failed push left it as it was.
fn ledger_bytes(db: &Path) -> (Vec<u8>, Option<Vec<u8>>) {
    let wal = db.with_extension("db-wal");
    (std::fs::read(db).expect("ledger"), std::fs::read(wal).ok())
}

fn failed(out: &Output, code: i32, says: &[&str]) -> String {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(code), "{err}");
    assert!(out.stdout.is_empty());
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    for s in says {
        assert!(err.contains(s), "{s:?} in {err}");
    }
    assert!(
        !err.contains(PASSWORD) && !err.contains("wrong-pw"),
        "no password: {err}"
    );
    err
}

#[test]
fn unreachable_refused_and_newer_servers_say_so_and_leave_the_ledger_alone() {
    let Some(pg) = Pg::start() else { return };
    let url = pg.create_db("errs");
    let env = TestEnv::with_fixtures();
    ok_stdout(&env.run(&["report", "daily", "--json"]));
    let before = ledger_bytes(&env.db());

    // Nothing listens on this port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let dead = format!("postgresql://tl:{PASSWORD}@127.0.0.1:{closed}/errs?connect_timeout=5");
    let out = push_cmd(&env, &dead, "x", &[]).output().expect("push");
    failed(
        &out,
        75,
        &[
            &format!("postgresql://tl@127.0.0.1:{closed}/errs"),
            "ledger is unchanged",
        ],
    );
    assert_eq!(ledger_bytes(&env.db()), before);

    let wrong = url.replace(PASSWORD, "wrong-pw");
    let out = push_cmd(&env, &wrong, "x", &[]).output().expect("push");
    failed(
        &out,
        1,
        &[
            "authentication failed",
            &format!("127.0.0.1:{}/errs", pg.port),
        ],
    );
    assert_eq!(ledger_bytes(&env.db()), before);

    // The same through TOKLEDGER_PUSH_URL.
    let out = env
        .cmd(&["push", "--machine", "x"])
        .env("TOKLEDGER_PUSH_URL", &wrong)
        .output()
        .expect("push");
    failed(&out, 1, &["authentication failed"]);

    let out = push_cmd(&env, &format!("{url}?sslmode=require"), "x", &[])
        .output()
        .expect("push");
    failed(&out, 2, &["sslmode=require"]);

    // A server migrated by a newer tokledger.
    push(&env, &url, "x");
    let after_push = cursors(&env.db());
    pg.client("errs")
        .batch_execute(
            "INSERT INTO tokledger_schema (version, tokledger_version) VALUES (99, '9.9.9')",
        )
        .expect("newer schema");
    let before = ledger_bytes(&env.db());
    let out = push_cmd(&env, &url, "x", &[]).output().expect("push");
    failed(
        &out,
        1,
        &[
            "version 99",
            "newer than this tokledger",
            "ledger is unchanged",
        ],
    );
    assert_eq!(ledger_bytes(&env.db()), before);
    assert_eq!(cursors(&env.db()), after_push);
}
