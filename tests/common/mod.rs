//! Shared test helpers: a temporary HOME holding a copy of the fixture tree, a temporary
//! ledger, and the built binary run as a real process.
#![allow(dead_code)]

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
