//! Property: no input makes a parser panic, and what a parser consumes is whole lines.

use std::path::Path;

use crate::common::*;
use proptest::prelude::*;
use tokledger::agents::{self, AgentSpec, FileRole, Source};

fn role() -> FileRole {
    FileRole {
        session_hint: Some("s".into()),
        main: true,
    }
}

fn check(fmt: &dyn AgentSpec, bytes: &[u8]) -> Result<(), TestCaseError> {
    let r = role();
    let p = fmt.parse(
        &Source {
            path: Path::new("x.jsonl"),
            role: &r,
        },
        bytes,
        None,
    );
    prop_assert!(p.consumed <= bytes.len());
    if !fmt.whole_document(Path::new("x.jsonl")) {
        prop_assert!(
            p.consumed == 0 || bytes[p.consumed - 1] == b'\n',
            "consumed ends at a line end"
        );
        // Resuming from what was left never panics either.
        let rest = &bytes[p.consumed..];
        let _ = fmt.parse(
            &Source {
                path: Path::new("x.jsonl"),
                role: &r,
            },
            rest,
            p.state.as_deref(),
        );
    }
    Ok(())
}

fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(fixtures().join("home").join(rel)).expect("fixture")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        for fmt in agents::Agent::ALL.iter().map(|a| a.spec()) {
            check(fmt, &bytes)?;
        }
    }

    /// Real-shaped input with bytes changed at random places: still no panic.
    #[test]
    fn mutated_fixtures_never_panic(flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..40)) {
        let cases: [(&dyn AgentSpec, Vec<u8>); 3] = [
            (agents::Agent::Claude.spec(), fixture(&format!(".claude/projects/-home-dev-app/{SA}.jsonl"))),
            (agents::Agent::Codex.spec(), fixture(&format!(".codex/sessions/2026/03/02/rollout-2026-03-02T10-00-00-{CX}.jsonl"))),
            (agents::Agent::Amp.spec(), fixture(&format!(".local/share/amp/threads/{TA}.json"))),
        ];
        for (fmt, mut bytes) in cases {
            for (i, b) in &flips {
                let at = i.index(bytes.len());
                bytes[at] = *b;
            }
            check(fmt, &bytes)?;
        }
    }
}
