//! Shared test helpers: a temporary HOME holding a copy of the fixture tree, a temporary
//! ledger, and the built binary run as a real process.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

pub fn copy_tree(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.expect("walk fixtures");
        let rel = entry.path().strip_prefix(from).expect("below root");
        let dest = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest).expect("mkdir");
        } else {
            std::fs::copy(entry.path(), &dest).expect("copy fixture");
        }
    }
}

pub struct TestEnv {
    pub dir: tempfile::TempDir,
}

impl TestEnv {
    /// An empty HOME.
    pub fn empty() -> TestEnv {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("home")).expect("mkdir home");
        TestEnv { dir }
    }

    /// A HOME holding a copy of fixtures/home.
    pub fn with_fixtures() -> TestEnv {
        let env = TestEnv::empty();
        copy_tree(&fixtures().join("home"), &env.home());
        env
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("ledger.db")
    }

    /// The binary with a clean environment: HOME and the ledger point into the temp dir.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_tokledger"));
        c.env_clear()
            .env("HOME", self.home())
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("TOKLEDGER_DB", self.db())
            .current_dir(self.dir.path())
            .args(args);
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("run tokledger")
    }

    /// Run, require exit 0, parse stdout as JSON.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "tokledger {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("stdout is JSON")
    }

    /// `sessions list --all --json`, as a map from session id to its object.
    pub fn sessions(&self) -> std::collections::BTreeMap<String, serde_json::Value> {
        let v = self.json(&["analysis", "sessions", "list", "--all", "--json"]);
        v["sessions"]
            .as_array()
            .expect("sessions array")
            .iter()
            .map(|s| (s["session_id"].as_str().expect("id").to_owned(), s.clone()))
            .collect()
    }

    pub fn tokens(&self, session: &str) -> i64 {
        self.sessions()
            .get(session)
            .map_or(0, |s| s["tokens_so_far"].as_i64().expect("int"))
    }
}

pub const SA: &str = "11111111-1111-4111-8111-111111111111";
pub const SB: &str = "22222222-2222-4222-8222-222222222222";
pub const CX: &str = "33333333-3333-4333-8333-333333333333";
pub const CY: &str = "44444444-4444-4444-8444-444444444444";
pub const TA: &str = "T-55555555-5555-4555-8555-555555555555";
pub const TB: &str = "T-66666666-6666-4666-8666-666666666666";
pub const TC: &str = "T-77777777-7777-4777-8777-777777777777";

pub fn claude_main(home: &Path) -> PathBuf {
    home.join(".claude/projects/-home-dev-app")
        .join(format!("{SA}.jsonl"))
}

pub fn codex_main(home: &Path) -> PathBuf {
    home.join(".codex/sessions/2026/03/02")
        .join(format!("rollout-2026-03-02T10-00-00-{CX}.jsonl"))
}

/// Append bytes to a transcript, as an agent writing more of it.
pub fn append(path: &Path, bytes: impl AsRef<[u8]>) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .expect("open for append");
    f.write_all(bytes.as_ref()).expect("append");
}

/// Run `cmd` with `stdin` as its input (as an agent runs a hook or a status line); the
/// output and how long it took. A command that exits before reading is not an error here.
pub fn run_with_stdin(mut cmd: Command, stdin: &str) -> (Output, std::time::Duration) {
    use std::io::Write;
    use std::process::Stdio;
    let began = std::time::Instant::now();
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let written = child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes());
    if let Err(e) = written {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "write stdin: {e}");
    }
    let out = child.wait_with_output().expect("wait");
    (out, began.elapsed())
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The stdout of a run that must have succeeded.
pub fn ok_stdout(out: &Output) -> String {
    assert!(out.status.success(), "failed: {}", stderr(out));
    String::from_utf8(out.stdout.clone()).expect("utf8")
}

impl TestEnv {
    /// `analysis start --source-id SOURCE ARGS…`: the new id, which must be alone on stdout.
    pub fn start(&self, source_id: &str, args: &[&str]) -> String {
        let mut all = vec!["analysis", "start", "--source-id", source_id];
        all.extend_from_slice(args);
        let out = ok_stdout(&self.run(&all));
        let id = out.trim().to_owned();
        assert!(
            id.starts_with("ANALYSIS-") && !id.contains('\n'),
            "stdout is the id alone: {out:?}"
        );
        id
    }
}

/// The running totals (`session_usage`) equal the sums of the responses they total, bucket by
/// bucket, including costs and the unpriced and pending counts.
pub fn assert_running_totals_match(db: &Path) {
    let c = rusqlite::Connection::open(db).expect("open ledger");
    let rows = |sql: &str| -> Vec<Vec<i64>> {
        let mut st = c.prepare(sql).expect("prepare");
        let n = st.column_count();
        st.query_map([], |r| {
            (0..n)
                .map(|i| match r.get_ref(i)? {
                    rusqlite::types::ValueRef::Integer(v) => Ok(v),
                    // Keys (tool, session, model) compare by a stable number of their text.
                    v => Ok(v
                        .as_str()
                        .map(|s| {
                            s.bytes()
                                .fold(7i64, |h, b| h.wrapping_mul(31) ^ i64::from(b))
                        })
                        .unwrap_or(-1)),
                })
                .collect()
        })
        .expect("query")
        .collect::<rusqlite::Result<_>>()
        .expect("rows")
    };
    let kept = rows(
        "SELECT tool, session_id, model, input_tokens, cache_creation_tokens, cache_creation_5m_tokens,
                cache_creation_1h_tokens, cache_read_tokens, output_tokens, reasoning_tokens, cost_nusd,
                unpriced, pending
         FROM session_usage ORDER BY tool, session_id, model",
    );
    let summed = rows(
        "SELECT tool, session_id, coalesce(model, ''), sum(input_tokens), sum(cache_creation_tokens),
                sum(cache_creation_5m_tokens), sum(cache_creation_1h_tokens), sum(cache_read_tokens),
                sum(output_tokens), sum(reasoning_tokens), coalesce(sum(cost_nusd), 0),
                sum(priced = 1 AND cost_nusd IS NULL), sum(priced = 0)
         FROM usage_events GROUP BY tool, session_id, coalesce(model, '')
         ORDER BY tool, session_id, coalesce(model, '')",
    );
    // A merge can empty a row (a response moved to its main-thread owner): all zero is no row.
    let non_zero = |rows: Vec<Vec<i64>>| -> Vec<Vec<i64>> {
        rows.into_iter()
            .filter(|r| r[3..].iter().any(|v| *v != 0))
            .collect()
    };
    let (kept, summed) = (non_zero(kept), non_zero(summed));
    assert!(!summed.is_empty(), "the ledger holds no responses");
    assert_eq!(kept, summed, "session_usage drifted from usage_events");
}
