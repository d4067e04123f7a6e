//! Property: reading a transcript in arbitrary appended chunks gives the same ledger as
//! reading it whole, and reading again changes nothing.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::common::*;
use proptest::prelude::*;
use tokledger::agents::Agent;
use tokledger::discover::{SourceFile, stat};
use tokledger::store::Store;

struct Case {
    tool: Agent,
    fixture: PathBuf,
    /// Where the file sits below its format's root (decides its role).
    rel: PathBuf,
}

fn cases() -> Vec<Case> {
    let home = fixtures().join("home");
    vec![
        Case {
            tool: Agent::Claude,
            fixture: claude_main(&home),
            rel: PathBuf::from(format!("-home-dev-app/{SA}.jsonl")),
        },
        Case {
            tool: Agent::Claude,
            fixture: home.join(format!(
                ".claude/projects/-home-dev-app/{SA}/subagents/agent-a1b2c3d4e5f6a7b8c.jsonl"
            )),
            rel: PathBuf::from(format!(
                "-home-dev-app/{SA}/subagents/agent-a1b2c3d4e5f6a7b8c.jsonl"
            )),
        },
        Case {
            tool: Agent::Codex,
            fixture: codex_main(&home),
            rel: PathBuf::from(format!("2026/03/02/rollout-2026-03-02T10-00-00-{CX}.jsonl")),
        },
    ]
}

fn source(tool: Agent, root: &Path, rel: &Path) -> SourceFile {
    let path = root.join(rel);
    let (size, mtime_ns) = stat(&path).expect("stat");
    let role = tool.spec().classify(rel).expect("a transcript path");
    SourceFile {
        tool,
        path,
        role,
        archived: false,
        size,
        mtime_ns,
    }
}

fn pricer() -> tokledger::cost::Pricer {
    tokledger::cost::Pricer::new(tokledger::cost::PriceFile::default())
}

/// Everything a session list shows, as one comparable value.
fn ledger_view(store: &Store) -> Vec<(String, String, tokledger::usage::Tokens, Vec<String>)> {
    store
        .sessions(None, None)
        .expect("sessions")
        .into_iter()
        .map(|s| (s.tool, s.session_id, s.tokens, s.models))
        .collect()
}

fn read_whole(
    case: &Case,
    dir: &Path,
) -> Vec<(String, String, tokledger::usage::Tokens, Vec<String>)> {
    let root = dir.join("whole");
    std::fs::create_dir_all(root.join(&case.rel).parent().expect("parent")).expect("mkdir");
    std::fs::copy(&case.fixture, root.join(&case.rel)).expect("copy");
    let mut store = Store::open(&dir.join("whole.db"), Duration::from_secs(5)).expect("open");
    tokledger::ingest::ingest(
        &mut store,
        vec![source(case.tool, &root, &case.rel)],
        &pricer(),
    )
    .expect("ingest");
    ledger_view(&store)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn chunked_appends_equal_a_whole_read(which in 0usize..3, cuts in prop::collection::vec(0.0f64..1.0, 1..6)) {
        let case = &cases()[which];
        let bytes = std::fs::read(&case.fixture).expect("read fixture");
        let dir = tempfile::tempdir().expect("tmp");
        let want = read_whole(case, dir.path());

        let root = dir.path().join("chunked");
        let path = root.join(&case.rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        let mut offsets: Vec<usize> = cuts.iter().map(|c| (c * bytes.len() as f64) as usize).collect();
        offsets.push(bytes.len());
        offsets.sort_unstable();
        let mut store = Store::open(&dir.path().join("chunked.db"), Duration::from_secs(5)).expect("open");
        for end in offsets {
            std::fs::write(&path, &bytes[..end]).expect("write prefix");
            tokledger::ingest::ingest(&mut store, vec![source(case.tool, &root, &case.rel)], &pricer()).expect("ingest");
        }
        prop_assert_eq!(ledger_view(&store), want.clone());
        assert_running_totals_match(&dir.path().join("chunked.db"));
        // Reading again (unchanged, then forced to re-check) changes nothing.
        tokledger::ingest::ingest(&mut store, vec![source(case.tool, &root, &case.rel)], &pricer()).expect("ingest");
        let f = std::fs::File::options().write(true).open(&path).expect("open");
        f.set_modified(std::time::SystemTime::now() + Duration::from_secs(5)).expect("touch");
        tokledger::ingest::ingest(&mut store, vec![source(case.tool, &root, &case.rel)], &pricer()).expect("ingest");
        prop_assert_eq!(ledger_view(&store), want);
        assert_running_totals_match(&dir.path().join("chunked.db"));
    }
}
