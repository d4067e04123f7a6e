//! The pure parsers over the bundled fixtures: exact numbers for each trap.

use std::path::Path;

use crate::common::*;
use tokledger::agents::{self, AgentSpec, FileRole, Parsed, Source};
use tokledger::usage::{Tokens, UsageEvent};

fn parse(fmt: &dyn AgentSpec, path: &Path, role: FileRole) -> Parsed {
    let bytes = std::fs::read(path).expect("read fixture");
    fmt.parse(&Source { path, role: &role }, &bytes, None)
}

fn event<'a>(p: &'a Parsed, key: &str) -> &'a UsageEvent {
    p.usage
        .iter()
        .find(|e| e.dedup_key == key)
        .unwrap_or_else(|| panic!("no event {key}"))
}

fn main_role(id: &str) -> FileRole {
    FileRole {
        session_hint: Some(id.to_owned()),
        main: true,
    }
}

#[test]
fn claude_streaming_copies_count_once_with_the_final_output() {
    let home = fixtures().join("home");
    let p = parse(
        agents::Agent::Claude.spec(),
        &claude_main(&home),
        main_role(SA),
    );
    let a = event(&p, "claude:msg_A");
    assert_eq!(
        a.tokens.output_tokens, 187,
        "the last streaming copy holds the final output"
    );
    assert_eq!(a.tokens.total(), 1197);
    assert_eq!(a.request_id.as_deref(), Some("req_A"));
    assert_eq!(
        a.timestamp_ms,
        tokledger::usage::parse_ts_ms("2026-03-02T09:00:01.000Z"),
        "earliest copy's time"
    );
    assert_eq!(
        p.usage
            .iter()
            .filter(|e| e.dedup_key == "claude:msg_A")
            .count(),
        1
    );
}

#[test]
fn claude_copies_without_request_id_merge_by_message_id() {
    let home = fixtures().join("home");
    let p = parse(
        agents::Agent::Claude.spec(),
        &claude_main(&home),
        main_role(SA),
    );
    let b = event(&p, "claude:msg_B");
    assert_eq!(b.request_id, None);
    assert_eq!(
        b.tokens,
        Tokens {
            input_tokens: 5,
            cache_read_tokens: 1000,
            output_tokens: 120,
            ..Tokens::default()
        }
    );
}

#[test]
fn claude_synthetic_lines_count_nothing() {
    let home = fixtures().join("home");
    let p = parse(
        agents::Agent::Claude.spec(),
        &claude_main(&home),
        main_role(SA),
    );
    assert!(
        p.usage
            .iter()
            .all(|e| e.model.as_deref() != Some("<synthetic>"))
    );
    // msg_A, msg_B, msg_C, msg_D and nothing else.
    let mut keys: Vec<_> = p.usage.iter().map(|e| e.dedup_key.as_str()).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "claude:msg_A",
            "claude:msg_B",
            "claude:msg_C",
            "claude:msg_D"
        ]
    );
    let total: i64 = p.usage.iter().map(|e| e.tokens.total()).sum();
    assert_eq!(total, 4944);
}

#[test]
fn claude_malformed_and_invalid_utf8_lines() {
    let home = fixtures().join("home");
    let p = parse(
        agents::Agent::Claude.spec(),
        &claude_main(&home),
        main_role(SA),
    );
    assert_eq!(p.malformed, 1, "the cut JSON line");
    assert_eq!(p.lossy_utf8, 1, "the line with a 0xFF byte is read lossily");
    let c = event(&p, "claude:msg_C");
    assert_eq!(
        c.tokens.total(),
        1243,
        "usage on a line with invalid UTF-8 still counts"
    );
    assert_eq!(
        (
            c.tokens.cache_creation_5m_tokens,
            c.tokens.cache_creation_1h_tokens
        ),
        (0, 200)
    );
    assert!(!p.incomplete_tail);
    assert_eq!(
        p.consumed,
        std::fs::metadata(claude_main(&home)).expect("stat").len() as usize
    );
}

#[test]
fn claude_cache_write_split_is_kept() {
    let home = fixtures().join("home");
    let p = parse(
        agents::Agent::Claude.spec(),
        &claude_main(&home),
        main_role(SA),
    );
    let d = event(&p, "claude:msg_D");
    assert_eq!(d.tokens.cache_creation_tokens, 150);
    assert_eq!(d.tokens.cache_creation_5m_tokens, 100);
    assert_eq!(d.tokens.cache_creation_1h_tokens, 50);
    let a = event(&p, "claude:msg_A");
    assert_eq!(
        (
            a.tokens.cache_creation_5m_tokens,
            a.tokens.cache_creation_1h_tokens
        ),
        (1000, 0)
    );
}

#[test]
fn claude_compact_boundary_and_tool_calls() {
    let home = fixtures().join("home");
    let p = parse(
        agents::Agent::Claude.spec(),
        &claude_main(&home),
        main_role(SA),
    );
    assert_eq!(p.compactions.len(), 1);
    let c = &p.compactions[0];
    assert_eq!(
        (c.kind, c.trigger.as_deref(), c.pre_tokens),
        ("compact", Some("auto"), Some(155_116))
    );
    let read = p
        .tools
        .iter()
        .find(|t| t.call_id == "toolu_A1" && t.name.is_some())
        .expect("tool_use");
    assert_eq!(read.name.as_deref(), Some("Read"));
    assert_eq!(read.file_path.as_deref(), Some("/home/dev/app/src/main.rs"));
    let result = p
        .tools
        .iter()
        .find(|t| t.call_id == "toolu_A1" && t.failed.is_some())
        .expect("tool_result");
    assert_eq!(result.failed, Some(true));
    let edit = p
        .tools
        .iter()
        .find(|t| t.call_id == "toolu_B1" && t.failed.is_some())
        .expect("result");
    assert_eq!(edit.failed, Some(false));
    let info = &p.sessions[0];
    assert_eq!(info.cwd.as_deref(), Some("/home/dev/app"));
    assert_eq!(info.git_branch.as_deref(), Some("main"));
    assert_eq!(info.cli_version.as_deref(), Some("2.1.90"));
}

#[test]
fn claude_subagent_file_belongs_to_its_parent() {
    let home = fixtures().join("home");
    let rel = Path::new("-home-dev-app")
        .join(SA)
        .join("subagents/agent-a1b2c3d4e5f6a7b8c.jsonl");
    let role = agents::Agent::Claude
        .spec()
        .classify(&rel)
        .expect("a transcript");
    assert_eq!(
        role,
        FileRole {
            session_hint: Some(SA.to_owned()),
            main: false
        }
    );
    let p = parse(
        agents::Agent::Claude.spec(),
        &home.join(".claude/projects").join(&rel),
        role,
    );
    let s = event(&p, "claude:msg_S");
    assert_eq!(
        (s.session_id.as_str(), s.tokens.total(), s.sidechain),
        (SA, 610, true)
    );
    assert_eq!(s.model.as_deref(), Some("claude-haiku-4-5-20251001"));
    let replay = p
        .usage
        .iter()
        .find(|e| e.dedup_key == "claude:msg_D")
        .expect("replay");
    assert_eq!(replay.request_id.as_deref(), Some("req_replay"));
    assert!(replay.sidechain);
}

#[test]
fn claude_classify_skips_non_transcripts() {
    let c = agents::Agent::Claude.spec();
    assert_eq!(c.classify(Path::new("p/s/subagents/journal.jsonl")), None);
    assert_eq!(
        c.classify(Path::new("p/s/subagents/agent-x.meta.json")),
        None
    );
    assert_eq!(c.classify(Path::new("p/s/tool-results/x.jsonl")), None);
    assert_eq!(
        c.classify(Path::new("p/agent-abc1234.jsonl")),
        Some(FileRole {
            session_hint: None,
            main: false
        })
    );
    assert_eq!(
        c.classify(Path::new("p/s/subagents/workflows/w/agent-y.jsonl")),
        Some(FileRole {
            session_hint: Some("s".into()),
            main: false
        })
    );
}

fn codex_parsed() -> Parsed {
    let home = fixtures().join("home");
    let path = codex_main(&home);
    let role = agents::Agent::Codex
        .spec()
        .classify(Path::new(path.file_name().expect("name")))
        .expect("rollout");
    assert_eq!(role.session_hint.as_deref(), Some(CX));
    parse(agents::Agent::Codex.spec(), &path, role)
}

#[test]
fn codex_counter_deltas_reemits_resets_and_models() {
    let p = codex_parsed();
    let totals: Vec<i64> = p.usage.iter().map(|e| e.tokens.total()).collect();
    // info:null and the re-emit add nothing; the drop after compaction counts its last usage.
    assert_eq!(totals, [1100, 2200, 550, 900]);
    let models: Vec<_> = p
        .usage
        .iter()
        .map(|e| e.model.as_deref().unwrap_or("?"))
        .collect();
    assert_eq!(models, ["gpt-5-codex", "gpt-5", "gpt-5", "gpt-5"]);
    let first = &p.usage[0].tokens;
    assert_eq!(
        (
            first.input_tokens,
            first.cache_read_tokens,
            first.output_tokens,
            first.reasoning_tokens
        ),
        (600, 400, 100, 50)
    );
    let sum = p
        .usage
        .iter()
        .fold(Tokens::default(), |a, e| a.add(&e.tokens));
    assert_eq!(sum.total(), 4750);
}

#[test]
fn codex_tools_compactions_and_metadata() {
    let p = codex_parsed();
    let shell = p
        .tools
        .iter()
        .find(|t| t.call_id == "call_shell1" && t.failed.is_some())
        .expect("output");
    assert_eq!((shell.failed, shell.duration_ms), (Some(true), Some(2500)));
    let patch = p
        .tools
        .iter()
        .find(|t| t.call_id == "call_patch1" && t.name.is_some())
        .expect("call");
    assert_eq!(
        (patch.name.as_deref(), patch.file_path.as_deref()),
        (Some("apply_patch"), Some("src/lib.rs"))
    );
    let patch_out = p
        .tools
        .iter()
        .find(|t| t.call_id == "call_patch1" && t.failed.is_some())
        .expect("out");
    assert_eq!(
        (patch_out.failed, patch_out.duration_ms),
        (Some(false), Some(100))
    );
    assert_eq!(
        p.compactions.len(),
        1,
        "compacted + context_compacted are one compaction"
    );
    let s = &p.sessions[0];
    assert_eq!(
        (
            s.cwd.as_deref(),
            s.git_branch.as_deref(),
            s.cli_version.as_deref()
        ),
        (Some("/home/dev/app"), Some("feature/x"), Some("0.77.0"))
    );
}

#[test]
fn codex_state_carries_across_chunks() {
    let home = fixtures().join("home");
    let path = codex_main(&home);
    let bytes = std::fs::read(&path).expect("read");
    let role = main_role(CX);
    let src = Source {
        path: &path,
        role: &role,
    };
    let whole = agents::Agent::Codex.spec().parse(&src, &bytes, None);
    // Split at every line boundary: the sum of the pieces equals the whole.
    let mut offsets: Vec<usize> = bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .map(|(i, _)| i + 1)
        .collect();
    offsets.insert(0, 0);
    for cut in &offsets {
        let a = agents::Agent::Codex
            .spec()
            .parse(&src, &bytes[..*cut], None);
        let b = agents::Agent::Codex
            .spec()
            .parse(&src, &bytes[a.consumed..], a.state.as_deref());
        let keys: Vec<_> = a
            .usage
            .iter()
            .chain(&b.usage)
            .map(|e| (&e.dedup_key, e.tokens))
            .collect();
        let want: Vec<_> = whole
            .usage
            .iter()
            .map(|e| (&e.dedup_key, e.tokens))
            .collect();
        assert_eq!(keys, want, "split at {cut}");
    }
}

#[test]
fn amp_ledger_and_message_usage_count_each_inference_once() {
    let home = fixtures().join("home");
    let path = home
        .join(".local/share/amp/threads")
        .join(format!("{TA}.json"));
    let role = agents::Agent::Amp
        .spec()
        .classify(Path::new(path.file_name().expect("name")))
        .expect("thread");
    let p = parse(agents::Agent::Amp.spec(), &path, role);
    let mut got: Vec<(&str, i64)> = p
        .usage
        .iter()
        .map(|e| (e.dedup_key.as_str(), e.tokens.total()))
        .collect();
    got.sort_unstable();
    let k1 = format!("amp:{TA}:m1");
    let k3 = format!("amp:{TA}:m3");
    let kt = format!("amp:{TA}:eevt-title");
    let mut want = vec![(k1.as_str(), 2610), (k3.as_str(), 2664), (kt.as_str(), 320)];
    want.sort_unstable();
    assert_eq!(got, want);
    let m1 = event(&p, &k1);
    assert_eq!(
        m1.timestamp_ms,
        tokledger::usage::parse_ts_ms("2026-03-02T10:00:08.000Z"),
        "the ledger's time"
    );
    assert_eq!(m1.tokens.cache_read_tokens, 2000);
    let failed: Vec<_> = p
        .tools
        .iter()
        .filter(|t| t.failed == Some(true))
        .map(|t| t.call_id.as_str())
        .collect();
    assert_eq!(failed, ["toolu_amp1"]);
    assert_eq!(p.compactions.len(), 1);
    assert_eq!(p.sessions[0].cwd.as_deref(), Some("/home/dev/app"));
    assert_eq!(p.sessions[0].git_branch.as_deref(), Some("main"));
}

#[test]
fn amp_messages_only_thread() {
    let home = fixtures().join("home");
    let path = home
        .join(".local/share/amp/threads")
        .join(format!("{TB}.json"));
    let p = parse(agents::Agent::Amp.spec(), &path, main_role(TB));
    let totals: Vec<i64> = p.usage.iter().map(|e| e.tokens.total()).collect();
    assert_eq!(totals, [2610, 2664]);
    assert_eq!(
        p.usage[1].timestamp_ms,
        tokledger::usage::parse_ts_ms("2026-03-02T10:00:12.000Z")
    );
}

#[test]
fn amp_half_written_thread_is_left_for_later() {
    let path = fixtures().join("partial").join(format!("{TC}.json"));
    let p = parse(agents::Agent::Amp.spec(), &path, main_role(TC));
    assert!(p.incomplete_tail);
    assert_eq!((p.consumed, p.usage.len(), p.malformed), (0, 0, 0));
}

#[test]
fn half_written_claude_line_is_not_consumed() {
    let home = fixtures().join("home");
    let bytes = std::fs::read(claude_main(&home)).expect("read");
    let cut = bytes.len() - 40; // inside the last line
    let role = main_role(SA);
    let path = claude_main(&home);
    let p = agents::Agent::Claude.spec().parse(
        &Source {
            path: &path,
            role: &role,
        },
        &bytes[..cut],
        None,
    );
    assert!(p.incomplete_tail);
    let last_nl = bytes[..cut]
        .iter()
        .rposition(|b| *b == b'\n')
        .expect("newline")
        + 1;
    assert_eq!(p.consumed, last_nl);
    assert!(p.usage.iter().all(|e| e.dedup_key != "claude:msg_D"));
    assert_eq!(
        p.malformed, 1,
        "only the real malformed line, not the unfinished one"
    );
}
