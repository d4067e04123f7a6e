//! `tokledger push`: the ledger's rows to a shared PostgreSQL server (docs/TEAM.md).
//!
//! One push is one server transaction: the rows go by COPY into temporary tables, then are
//! merged into tokledger's tables by key (`INSERT … ON CONFLICT DO UPDATE`), and the server
//! records this ledger's cursor in the same transaction. The ledger's own cursor advances
//! only after the COMMIT, so a push that fails or is killed anywhere is simply sent again.
//! A transaction-level advisory lock per machine name orders the pushes of one machine;
//! different machines never share a row, so they push at once.

mod copy;
pub mod redact;
mod server;

use std::str::FromStr;
use std::time::{Duration, Instant};

use anyhow::Result;
use postgres::config::{Host, SslMode};
use postgres::types::Type;
use postgres::{Client, NoTls};

use crate::error::Error;
use crate::store::Store;
use crate::store::push::{Cursor, Range};

pub use redact::Privacy;
pub use server::SCHEMA_VERSION;

/// A push destination: how to connect, and the name it goes by in messages and in the
/// ledger (the URL without its password).
pub struct Target {
    config: postgres::Config,
    pub name: String,
}

impl Target {
    /// `url`: a `postgresql://` URL or a libpq key=value string. `password` stands in for a
    /// password the URL does not give (`PGPASSWORD`).
    pub fn parse(url: &str, password: Option<&str>) -> Result<Target> {
        let mut config = postgres::Config::from_str(url.trim()).map_err(|e| {
            Error::Usage(format!(
                "--to is not a PostgreSQL URL (postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE): {e}"
            ))
        })?;
        let Some(user) = config.get_user().map(str::to_owned) else {
            return Err(Error::Usage(
                "--to names no user: postgresql://USER@HOST[:PORT]/DATABASE".into(),
            )
            .into());
        };
        if config.get_ssl_mode() == SslMode::Require {
            return Err(Error::Usage(
                "this tokledger speaks to PostgreSQL without TLS, and --to asks for sslmode=require: \
                 reach the server through a TLS tunnel (stunnel, ssh -L, a cloud SQL proxy) and push to its local end"
                    .into(),
            )
            .into());
        }
        if config.get_hosts().is_empty() {
            config.host("localhost");
        }
        if config.get_password().is_none()
            && let Some(p) = password
        {
            config.password(p);
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        config.application_name("tokledger push");
        let hosts: Vec<String> = config
            .get_hosts()
            .iter()
            .map(|h| match h {
                Host::Tcp(name) => name.clone(),
                Host::Unix(path) => path.display().to_string(),
            })
            .collect();
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let db = config.get_dbname().unwrap_or(&user).to_owned();
        let name = format!("postgresql://{user}@{}:{port}/{db}", hosts.join(","));
        Ok(Target { config, name })
    }
}

/// What a push sent, per table.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Counts {
    pub usage: u64,
    pub tool_calls: u64,
    pub sessions: u64,
    pub analyses: u64,
    pub analysis_usage: u64,
    pub analysis_snapshots: u64,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Outcome {
    pub destination: String,
    pub machine: String,
    pub ledger_id: String,
    pub server_schema: i32,
    /// Every row was sent (a first push, or a server that had lost this ledger's rows).
    pub full: bool,
    pub pushed: Counts,
    pub elapsed_ms: u64,
}

/// A connection that has checked (and, when needed, created or migrated) the server's schema.
pub struct Session {
    client: Client,
    target_name: String,
    machine: String,
    server_schema: i32,
    /// The cursors the server holds for this machine name, by ledger id.
    cursors: Vec<(String, Cursor)>,
    started: Instant,
}

/// A test hook: stop the process (SIGKILL) at a point of the push.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Abort {
    /// After every row was copied and merged, before the COMMIT.
    BeforeCommit,
    /// After the server's COMMIT, before the ledger's cursor moves.
    AfterCommit,
}

fn kill_self() -> ! {
    let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
    std::process::abort()
}

/// Connect and check the server in one query (the one round trip of a push with nothing
/// new). Nothing in the ledger is touched here: every error leaves it as it was.
pub fn connect(target: &Target, machine: &str) -> Result<Session> {
    let started = Instant::now();
    let fail = |e: postgres::Error, what: &str| server::explain(&target.name, what, &e, true);
    let mut client = target
        .config
        .connect(NoTls)
        .map_err(|e| fail(e, "could not connect to"))?;
    let (version, cursors) = match server::check(&mut client, machine) {
        Ok(found) => found,
        Err(e) if server::is_undefined_table(&e) => (0, Vec::new()),
        Err(e) => return Err(fail(e, "could not read the tokledger schema of")),
    };
    if version > SCHEMA_VERSION {
        return Err(server::too_new(&target.name, version));
    }
    let (version, cursors) = if version < SCHEMA_VERSION {
        server::migrate(&mut client, &target.name)?;
        server::check(&mut client, machine)
            .map_err(|e| fail(e, "could not read the tokledger schema of"))?
    } else {
        (version, cursors)
    };
    Ok(Session {
        client,
        target_name: target.name.clone(),
        machine: machine.to_owned(),
        server_schema: version,
        cursors,
        started,
    })
}

/// Where this push starts: the ledger's cursor when the server has at least that much of
/// this ledger, else everything (`full`: a first push, or a server restored or emptied).
fn start_from(
    local: Option<crate::store::push::Destination>,
    server: Option<Cursor>,
) -> (Cursor, bool) {
    match (local, server) {
        (Some(l), Some(s)) if l.committed && s.covers(&l.cursor) => (l.cursor, false),
        _ => (Cursor::default(), true),
    }
}

impl Session {
    /// Send what is new since this destination's last push.
    pub fn push(
        mut self,
        store: &mut Store,
        privacy: &Privacy,
        abort: Option<Abort>,
    ) -> Result<Outcome> {
        let ledger_id = store.ledger_id()?;
        let server_cursor = |cursors: &[(String, Cursor)]| {
            cursors
                .iter()
                .find(|(id, _)| *id == ledger_id)
                .map(|(_, c)| *c)
        };
        let (from, full) = start_from(
            store.push_destination(&self.target_name, &self.machine)?,
            server_cursor(&self.cursors),
        );
        let mut outcome = Outcome {
            destination: self.target_name.clone(),
            machine: self.machine.clone(),
            ledger_id: ledger_id.clone(),
            server_schema: self.server_schema,
            full,
            pushed: Counts::default(),
            elapsed_ms: 0,
        };
        if !full && !store.push_pending(&from)? {
            outcome.elapsed_ms = elapsed_ms(self.started);
            return Ok(outcome);
        }
        let name = self.target_name.clone();
        let fail = |e: postgres::Error| server::explain(&name, "could not push to", &e, false);
        let mut tx = self.client.transaction().map_err(fail)?;
        // Under the lock the server's cursor is final: read it again, it may have moved.
        tx.query_typed(
            "SELECT pg_advisory_xact_lock(hashtextextended('tokledger push ' || $1, 0))",
            &[(&self.machine, Type::TEXT)],
        )
        .map_err(fail)?;
        let now = tx
            .query_typed(
                "SELECT usage_id, tool_call_id, change_seq FROM tokledger_ledgers WHERE machine = $1 AND ledger_id = $2",
                &[(&self.machine, Type::TEXT), (&ledger_id, Type::TEXT)],
            )
            .map_err(fail)?;
        let server_now = now.first().map(|r| Cursor {
            usage_id: r.get(0),
            tool_call_id: r.get(1),
            change_seq: r.get(2),
        });
        let (from, full) = start_from(
            store.push_destination(&self.target_name, &self.machine)?,
            server_now,
        );
        outcome.full = full;
        // After the lock, so that of two pushes of this ledger the later one reads later rows.
        let to = store.push_begin(&self.target_name, &self.machine)?;
        let range = Range { from, to, full };
        outcome.pushed = server::send(&mut tx, store, &range, privacy, &self.machine, &ledger_id)
            .map_err(|e| match e.downcast::<postgres::Error>() {
            Ok(pg) => fail(pg),
            Err(e) => e,
        })?;
        tx.execute(
            "INSERT INTO tokledger_ledgers (machine, ledger_id, usage_id, tool_call_id, change_seq, tokledger_version)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (machine, ledger_id) DO UPDATE SET usage_id = excluded.usage_id,
                 tool_call_id = excluded.tool_call_id, change_seq = excluded.change_seq,
                 tokledger_version = excluded.tokledger_version, last_push_at = now()",
            &[
                &self.machine,
                &ledger_id,
                &to.usage_id,
                &to.tool_call_id,
                &to.change_seq,
                &env!("CARGO_PKG_VERSION"),
            ],
        )
        .map_err(fail)?;
        if abort == Some(Abort::BeforeCommit) {
            kill_self();
        }
        tx.commit().map_err(fail)?;
        if abort == Some(Abort::AfterCommit) {
            kill_self();
        }
        let at_ms = chrono::Utc::now().timestamp_millis();
        store.push_commit(&self.target_name, &self.machine, &to, at_ms)?;
        outcome.elapsed_ms = elapsed_ms(self.started);
        Ok(outcome)
    }
}

fn elapsed_ms(t: Instant) -> u64 {
    u64::try_from(t.elapsed().as_millis()).unwrap_or(u64::MAX)
}
