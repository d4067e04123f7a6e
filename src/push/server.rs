//! The server side: tokledger's schema there (versioned like the ledger's), the one query
//! that checks it, the COPY and merge of a push, and errors in words.

use std::io::Write;

use anyhow::Result;
use postgres::error::SqlState;
use postgres::types::Type;
use postgres::{Client, Transaction};

use super::copy::Rows;
use super::{Counts, Privacy};
use crate::error::Error;
use crate::store::Store;
use crate::store::push::{Cursor, Range};

/// Append-only, like the ledger's migrations: never edit one that has shipped.
const MIGRATIONS: &[&str] = &[include_str!("sql/0001_init.sql")];

pub const SCHEMA_VERSION: i32 = MIGRATIONS.len() as i32;

/// The lock every schema change takes, so that machines pushing to a new server at once
/// create its tables once.
const SCHEMA_LOCK: i64 = 0x746f_6b6c_6564_6772;

/// The server's schema version and the cursors it holds for `machine`'s ledgers, in one
/// query (one round trip: its parameter types are given, so nothing is prepared).
pub fn check(
    client: &mut Client,
    machine: &str,
) -> Result<(i32, Vec<(String, Cursor)>), postgres::Error> {
    let rows = client.query_typed(
        "SELECT (SELECT coalesce(max(version), 0) FROM tokledger_schema), l.ledger_id, l.usage_id,
                l.tool_call_id, l.change_seq
         FROM (SELECT 1) AS one LEFT JOIN tokledger_ledgers l ON l.machine = $1",
        &[(&machine, Type::TEXT)],
    )?;
    let version = rows.first().map_or(0, |r| r.get(0));
    let cursors = rows
        .iter()
        .filter_map(|r| {
            let id: Option<String> = r.get(1);
            Some((
                id?,
                Cursor {
                    usage_id: r.get(2),
                    tool_call_id: r.get(3),
                    change_seq: r.get(4),
                },
            ))
        })
        .collect();
    Ok((version, cursors))
}

pub fn is_undefined_table(e: &postgres::Error) -> bool {
    e.code() == Some(&SqlState::UNDEFINED_TABLE)
}

pub fn too_new(target: &str, found: i32) -> anyhow::Error {
    anyhow::anyhow!(
        "the tokledger schema of {target} has version {found}, newer than this tokledger understands \
         ({SCHEMA_VERSION}); upgrade tokledger on this machine (nothing was sent, the ledger is unchanged)"
    )
}

/// Create or migrate the server's schema; returns the version it is at.
pub fn migrate(client: &mut Client, target: &str) -> Result<i32> {
    let fail =
        |e: postgres::Error| explain(target, "could not create the tokledger schema on", &e, true);
    let mut tx = client.transaction().map_err(fail)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
        .map_err(fail)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS tokledger_schema (
             version            integer PRIMARY KEY,
             tokledger_version  text NOT NULL,
             applied_at         timestamptz NOT NULL DEFAULT now())",
    )
    .map_err(fail)?;
    let found: i32 = tx
        .query_one(
            "SELECT coalesce(max(version), 0) FROM tokledger_schema",
            &[],
        )
        .map_err(fail)?
        .get(0);
    if found > SCHEMA_VERSION {
        return Err(too_new(target, found));
    }
    for (i, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(found).unwrap_or(0))
    {
        tx.batch_execute(sql).map_err(fail)?;
        let version = i32::try_from(i + 1).unwrap_or(i32::MAX);
        tx.execute(
            "INSERT INTO tokledger_schema (version, tokledger_version) VALUES ($1, $2)",
            &[&version, &env!("CARGO_PKG_VERSION")],
        )
        .map_err(fail)?;
    }
    tx.commit().map_err(fail)?;
    Ok(SCHEMA_VERSION.max(found))
}

/// One line naming the destination (never its password) and the cause; exit 75 when the
/// server could not be reached or went away (worth a retry), 1 otherwise.
pub fn explain(
    target: &str,
    what: &str,
    e: &postgres::Error,
    before_ledger: bool,
) -> anyhow::Error {
    let after = if before_ledger {
        "nothing was sent, the ledger is unchanged"
    } else {
        "the server kept nothing of this push; the next push sends it again"
    };
    if let Some(db) = e.as_db_error() {
        let code = db.code().code();
        let cause = match code {
            c if c.starts_with("28") => format!("authentication failed: {}", db.message()),
            "3D000" => format!("no such database: {}", db.message()),
            "42501" => format!(
                "permission denied: {} (the first push creates tokledger's tables: the role needs CREATE on the schema)",
                db.message()
            ),
            _ => format!("{} (SQLSTATE {code})", db.message()),
        };
        let msg = format!("{what} {target}: {cause}; {after}");
        // Lost connections, shutdowns, too many clients, deadlocks and serialization failures
        // pass; the others need someone to act.
        let passing = ["08", "40", "53", "57P01", "57P02", "57P03"]
            .iter()
            .any(|p| code.starts_with(p));
        return if passing {
            Error::Unreachable(format!("{msg} (retry later)")).into()
        } else {
            anyhow::anyhow!(msg)
        };
    }
    let mut cause = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        cause = format!("{cause}: {s}");
        source = s.source();
    }
    if cause.starts_with("authentication error") || cause.starts_with("invalid configuration") {
        let hint = if cause.contains("password missing") {
            " (the server asks for a password: give it in the URL or in PGPASSWORD)"
        } else {
            ""
        };
        return anyhow::anyhow!("{what} {target}: {cause}{hint}; {after}");
    }
    Error::Unreachable(format!("{what} {target}: {cause}; {after} (retry later)")).into()
}

/// A table of a push: its staging table's columns, the target's key (after `machine`, and
/// `ledger_id` for the analysis tables), and how its rows arrive.
struct Table {
    name: &'static str,
    cols: &'static [(&'static str, &'static str)],
    key: &'static [&'static str],
    per_ledger: bool,
    /// Replaced whole per analysis (deleted, then inserted) rather than merged by key.
    replace: bool,
}

const TOKENS: [(&str, &str); 7] = [
    ("input_tokens", "bigint"),
    ("cache_creation_tokens", "bigint"),
    ("cache_creation_5m_tokens", "bigint"),
    ("cache_creation_1h_tokens", "bigint"),
    ("cache_read_tokens", "bigint"),
    ("output_tokens", "bigint"),
    ("reasoning_tokens", "bigint"),
];

macro_rules! cols {
    ($($c:expr),* $(,)?) => { &[$($c),*] };
}

const USAGE: Table = Table {
    name: "tokledger_usage",
    cols: cols![
        ("dedup_key", "text"),
        ("tool", "text"),
        ("session_id", "text"),
        ("at", "timestamptz"),
        ("model", "text"),
        TOKENS[0],
        TOKENS[1],
        TOKENS[2],
        TOKENS[3],
        TOKENS[4],
        TOKENS[5],
        TOKENS[6],
        ("sidechain", "boolean"),
        ("priced", "boolean"),
        ("cost_nusd", "bigint"),
    ],
    key: &["dedup_key"],
    per_ledger: false,
    replace: false,
};

const TOOL_CALLS: Table = Table {
    name: "tokledger_tool_calls",
    cols: cols![
        ("tool", "text"),
        ("scope", "text"),
        ("call_id", "text"),
        ("session_id", "text"),
        ("name", "text"),
        ("called_at", "timestamptz"),
        ("result_at", "timestamptz"),
        ("failed", "boolean"),
        ("duration_ms", "bigint"),
        ("file_path", "text"),
    ],
    key: &["tool", "scope", "call_id"],
    per_ledger: false,
    replace: false,
};

const SESSIONS: Table = Table {
    name: "tokledger_sessions",
    cols: cols![
        ("tool", "text"),
        ("session_id", "text"),
        ("project", "text"),
        ("first_at", "timestamptz"),
        ("last_at", "timestamptz"),
    ],
    key: &["tool", "session_id"],
    per_ledger: false,
    replace: false,
};

const ANALYSES: Table = Table {
    name: "tokledger_analyses",
    cols: cols![
        ("id", "text"),
        ("source_id", "text"),
        ("pass", "text"),
        ("status", "text"),
        ("tool", "text"),
        ("model", "text"),
        ("started_at", "timestamptz"),
        ("completed_at", "timestamptz"),
        ("tokens_in", "bigint"),
        ("tokens_out", "bigint"),
        ("total_tokens", "bigint"),
        ("cost_usd", "double precision"),
        ("stages", "jsonb"),
        ("notes", "text"),
        ("claims_extracted", "bigint"),
        ("claims_updated", "bigint"),
        ("tokens_baseline", "bigint"),
        ("tokens_final", "bigint"),
        ("tokens_check", "bigint"),
        ("usage_provider", "text"),
        ("usage_mode", "text"),
        ("usage_session_id", "text"),
        ("inputs_source_ids", "jsonb"),
        ("inputs_analysis_ids", "jsonb"),
    ],
    key: &["id"],
    per_ledger: true,
    replace: false,
};

const ANALYSIS_USAGE: Table = Table {
    name: "tokledger_analysis_usage",
    cols: cols![
        ("analysis_id", "text"),
        ("model", "text"),
        TOKENS[0],
        TOKENS[1],
        TOKENS[2],
        TOKENS[3],
        TOKENS[4],
        TOKENS[5],
        TOKENS[6],
        ("cost_nusd", "bigint"),
        ("unpriced", "bigint"),
    ],
    key: &["analysis_id", "model"],
    per_ledger: true,
    replace: true,
};

const SNAPSHOTS: Table = Table {
    name: "tokledger_analysis_snapshots",
    cols: cols![
        ("analysis_id", "text"),
        ("seq", "bigint"),
        ("kind", "text"),
        ("stage", "text"),
        ("at", "timestamptz"),
        ("tool", "text"),
        ("session_id", "text"),
        ("settled", "boolean"),
        ("usage", "jsonb"),
    ],
    key: &["analysis_id", "seq"],
    per_ledger: true,
    replace: true,
};

impl Table {
    fn stage(&self) -> String {
        format!(
            "tokledger_push_{}",
            self.name.trim_start_matches("tokledger_")
        )
    }

    fn col_names(&self) -> String {
        self.cols
            .iter()
            .map(|(c, _)| *c)
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn create_stage(&self) -> String {
        let cols: Vec<String> = self.cols.iter().map(|(c, t)| format!("{c} {t}")).collect();
        format!(
            "CREATE TEMP TABLE {} ({}) ON COMMIT DROP",
            self.stage(),
            cols.join(", ")
        )
    }

    fn copy(&self) -> String {
        format!("COPY {} ({}) FROM STDIN", self.stage(), self.col_names())
    }

    /// Move the staged rows into the table: `$1` is the machine, `$2` the ledger.
    fn merge(&self) -> String {
        let cols = self.col_names();
        let (lead, vals) = if self.per_ledger {
            ("machine, ledger_id", "$1, $2")
        } else {
            ("machine", "$1")
        };
        let insert = format!(
            "INSERT INTO {name} ({lead}, {cols}) SELECT {vals}, {cols} FROM {stage}",
            name = self.name,
            stage = self.stage()
        );
        if self.replace {
            return insert;
        }
        let rest: Vec<&str> = self
            .cols
            .iter()
            .map(|(c, _)| *c)
            .filter(|c| !self.key.contains(c))
            .collect();
        let set: Vec<String> = rest.iter().map(|c| format!("{c} = excluded.{c}")).collect();
        let old: Vec<String> = rest.iter().map(|c| format!("{}.{c}", self.name)).collect();
        let new: Vec<String> = rest.iter().map(|c| format!("excluded.{c}")).collect();
        // Rows sent again unchanged are left alone (no new row version to vacuum).
        format!(
            "{insert} ON CONFLICT ({lead}, {key}) DO UPDATE SET {set} WHERE ({old}) IS DISTINCT FROM ({new})",
            key = self.key.join(", "),
            set = set.join(", "),
            old = old.join(", "),
            new = new.join(", ")
        )
    }
}

const ALL: [&Table; 6] = [
    &USAGE,
    &TOOL_CALLS,
    &SESSIONS,
    &ANALYSES,
    &ANALYSIS_USAGE,
    &SNAPSHOTS,
];

/// Rows are handed to COPY in pieces of about this many bytes.
const CHUNK: usize = 1 << 20;

/// COPY every table's rows of `range` and merge them, inside the push's transaction.
pub fn send(
    tx: &mut Transaction<'_>,
    store: &Store,
    range: &Range,
    privacy: &Privacy,
    machine: &str,
    ledger_id: &str,
) -> Result<Counts> {
    let ddl: Vec<String> = ALL.iter().map(|t| t.create_stage()).collect();
    tx.batch_execute(&ddl.join(";\n"))?;
    let counts = store.push_read(|r| {
        let usage = stream(tx, &USAGE, |out, flush| {
            r.usage(range, |u| {
                out.text(Some(u.dedup_key));
                out.text(Some(u.tool));
                out.text(Some(u.session_id));
                out.ts_ms(u.ts_ms);
                out.text(u.model);
                tokens(out, &u.tokens);
                out.bool(Some(u.sidechain));
                out.bool(Some(u.priced));
                out.int(u.cost_nusd);
                out.end();
                flush(out)
            })
        })?;
        let tool_calls = stream(tx, &TOOL_CALLS, |out, flush| {
            r.tool_calls(range, |t| {
                out.text(Some(t.tool));
                out.text(Some(t.scope));
                out.text(Some(t.call_id));
                out.text(Some(t.session_id));
                out.text(t.name);
                out.ts_ms(t.called_at_ms);
                out.ts_ms(t.result_at_ms);
                out.bool(t.failed);
                out.int(t.duration_ms);
                out.text(privacy.file_path(t.file_path, t.project_dir).as_deref());
                out.end();
                flush(out)
            })
        })?;
        let sessions = stream(tx, &SESSIONS, |out, flush| {
            r.sessions(range, |s| {
                out.text(Some(s.tool));
                out.text(Some(s.session_id));
                out.text(privacy.project(s.project_dir).as_deref());
                out.ts_ms(s.first_ts_ms);
                out.ts_ms(s.last_ts_ms);
                out.end();
                flush(out)
            })
        })?;
        let analyses = stream(tx, &ANALYSES, |out, flush| {
            r.analyses(range, |a| {
                out.text(Some(a.id));
                out.text(Some(a.source_id));
                out.text(a.pass);
                out.text(Some(a.status));
                out.text(Some(a.tool));
                out.text(a.model);
                out.rfc3339(a.started_at);
                out.rfc3339(a.completed_at);
                out.int(a.tokens_in);
                out.int(a.tokens_out);
                out.int(a.total_tokens);
                out.float(a.cost_usd);
                out.json(Some(a.stages_json), Some("[]"));
                out.text(privacy.notes(a.notes));
                out.int(a.claims_extracted);
                out.int(a.claims_updated);
                out.int(a.tokens_baseline);
                out.int(a.tokens_final);
                out.int(a.tokens_check);
                out.text(a.usage_provider);
                out.text(a.usage_mode);
                out.text(a.usage_session_id);
                out.json(a.inputs_source_ids, None);
                out.json(a.inputs_analysis_ids, None);
                out.end();
                flush(out)
            })
        })?;
        let analysis_usage = stream(tx, &ANALYSIS_USAGE, |out, flush| {
            r.analysis_usage(range, |u| {
                out.text(Some(u.analysis_id));
                out.text(Some(u.model));
                tokens(out, &u.tokens);
                out.int(Some(u.cost_nusd));
                out.int(Some(u.unpriced));
                out.end();
                flush(out)
            })
        })?;
        let analysis_snapshots = stream(tx, &SNAPSHOTS, |out, flush| {
            r.snapshots(range, |s| {
                out.text(Some(s.analysis_id));
                out.int(Some(s.seq));
                out.text(Some(s.kind));
                out.text(s.stage);
                out.rfc3339(Some(s.at));
                out.text(Some(s.tool));
                out.text(Some(s.session_id));
                out.bool(Some(s.settled));
                out.json(Some(s.usage_json), Some("{}"));
                out.end();
                flush(out)
            })
        })?;
        Ok(Counts {
            usage,
            tool_calls,
            sessions,
            analyses,
            analysis_usage,
            analysis_snapshots,
        })
    })?;
    // The analyses sent replace their usage and snapshots whole: what a settle or a complete
    // took out must go on the server too.
    for t in [&ANALYSIS_USAGE, &SNAPSHOTS] {
        tx.execute(
            &format!(
                "DELETE FROM {} t USING {} a WHERE t.machine = $1 AND t.ledger_id = $2 AND t.analysis_id = a.id",
                t.name,
                ANALYSES.stage()
            ),
            &[&machine, &ledger_id],
        )?;
    }
    for t in ALL {
        if t.per_ledger {
            tx.execute(&t.merge(), &[&machine, &ledger_id])?;
        } else {
            tx.execute(&t.merge(), &[&machine])?;
        }
    }
    Ok(counts)
}

fn tokens(out: &mut Rows, t: &crate::usage::Tokens) {
    for v in [
        t.input_tokens,
        t.cache_creation_tokens,
        t.cache_creation_5m_tokens,
        t.cache_creation_1h_tokens,
        t.cache_read_tokens,
        t.output_tokens,
        t.reasoning_tokens,
    ] {
        out.int(Some(v));
    }
}

/// COPY the rows `fill` writes into `table`'s staging table; `fill` calls `flush` after
/// each row, which sends the buffer once it holds a chunk.
fn stream(
    tx: &mut Transaction<'_>,
    table: &Table,
    fill: impl FnOnce(&mut Rows, &mut dyn FnMut(&mut Rows) -> Result<()>) -> Result<u64>,
) -> Result<u64> {
    let mut w = tx.copy_in(&table.copy())?;
    let mut rows = Rows::new();
    let n = fill(&mut rows, &mut |r: &mut Rows| {
        if r.buf.len() >= CHUNK {
            w.write_all(&r.buf)?;
            r.buf.clear();
        }
        Ok(())
    })?;
    w.write_all(&rows.buf)?;
    w.finish()?;
    Ok(n)
}
