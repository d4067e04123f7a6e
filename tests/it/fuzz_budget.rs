//! A fixed-budget fuzz loop for every parser (`make fuzz`; a short budget in `make test`):
//! real-shaped seeds mutated the ways damaged and hostile transcripts differ from good ones
//! (bytes flipped, lines cut, spliced, repeated or swapped, numbers replaced by extremes,
//! keys repeated, NULs, BOMs, invalid UTF-8, deep nesting). Every input must parse without
//! a panic, in bounded time, consume only whole lines, and resume from its state.
//!
//! `TOKLEDGER_FUZZ_SECS` is the budget per parser (default 2), `TOKLEDGER_FUZZ_SEED` the
//! seed (default: the clock, printed). A failing input is written to
//! `target/fuzz-failures/` and its seed and index printed.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;
use tokledger::agents::{Agent, AgentSpec, FileRole, Source};

use crate::common::{CX, SA, TA, fixtures};

/// No input may take longer than this to parse (the seeds take microseconds).
const MAX_PER_INPUT: Duration = Duration::from_secs(2);

/// xorshift64*: deterministic from its seed, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            usize::try_from(self.next() % n as u64).unwrap_or(0)
        }
    }
}

fn line(v: &serde_json::Value) -> String {
    format!("{v}\n")
}

fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(fixtures().join("home").join(rel)).expect("fixture")
}

/// Each parser, the file name it is given, and its seeds.
fn targets() -> Vec<(Agent, &'static str, Vec<Vec<u8>>)> {
    let opencode_rows = [
        line(
            &json!({"kind": "session", "id": "ses_1", "parent": null, "directory": "/w",
                      "version": "1.18.33", "created": 1, "updated": 2}),
        ),
        line(&json!({"kind": "session", "id": "ses_2", "parent": "ses_1", "created": 3})),
        line(
            &json!({"kind": "message", "id": "msg_1", "session": "ses_2", "created": 10,
                      "completed": 20, "model": "gpt-5", "tokens": {"input": 100, "output": 20,
                      "reasoning": 5, "cache": {"read": 30, "write": 7}}}),
        ),
        line(
            &json!({"kind": "tool", "message": "msg_1", "session": "ses_2", "tool": "bash",
                      "call": "call_1", "status": "completed", "command": "ls", "exit": 0,
                      "start": 11, "end": 19}),
        ),
    ]
    .concat();
    let legacy = json!({"id": "msg_9", "sessionID": "ses_1", "role": "assistant",
        "modelID": "gpt-5", "time": {"created": 1, "completed": 2},
        "tokens": {"input": 1, "output": 2, "reasoning": 0, "cache": {"read": 0, "write": 0}}})
    .to_string();
    let gemini = [
        line(&json!({"sessionId": "a409cc78-7476-4f0b-9a4d-a871a8905726", "projectHash": "ce4a",
                      "startTime": "2026-05-01T10:00:00.000Z", "kind": "main"})),
        line(&json!({"$set": {"messages": [{"id": "r1", "timestamp": "2026-05-01T10:00:01.000Z",
            "type": "gemini", "content": "", "model": "gemini-3.8-flash",
            "tokens": {"input": 1007, "output": 11, "cached": 103, "thoughts": 7, "tool": 1, "total": 0},
            "toolCalls": [{"id": "run_shell_command__c1", "name": "run_shell_command",
                "args": {"command": "ls"}, "status": "success",
                "timestamp": "2026-05-01T10:00:01.500Z",
                "result": [{"functionResponse": {"response": {"output": "x"}}}]}]}]}})),
        line(&json!({"$set": {"lastUpdated": "2026-05-01T10:00:02.000Z"}})),
    ]
    .concat();
    vec![
        (
            Agent::Claude,
            "s.jsonl",
            vec![
                fixture(&format!(".claude/projects/-home-dev-app/{SA}.jsonl")),
                fixture(&format!(
                    ".claude/projects/-home-dev-app/{SA}/subagents/agent-a1b2c3d4e5f6a7b8c.jsonl"
                )),
            ],
        ),
        (
            Agent::Codex,
            "rollout-2026-03-02T10-00-00-x.jsonl",
            vec![fixture(&format!(
                ".codex/sessions/2026/03/02/rollout-2026-03-02T10-00-00-{CX}.jsonl"
            ))],
        ),
        (
            Agent::Amp,
            "T-1.json",
            vec![fixture(&format!(".local/share/amp/threads/{TA}.json"))],
        ),
        (
            Agent::OpenCode,
            "rows.jsonl",
            vec![opencode_rows.into_bytes()],
        ),
        (Agent::OpenCode, "msg_9.json", vec![legacy.into_bytes()]),
        (Agent::Gemini, "session-1.jsonl", vec![gemini.into_bytes()]),
    ]
}

const EXTREMES: &[&str] = &[
    "-1",
    "0",
    "18446744073709551616",
    "9223372036854775807",
    "-9223372036854775808",
    "1e309",
    "1.5",
    "\"7\"",
    "null",
    "[]",
    "{}",
    "true",
];

/// One mutation of `b`, picked by `rng`; `pool` gives lines to splice in.
fn mutate(rng: &mut Rng, b: &mut Vec<u8>, pool: &[Vec<u8>]) {
    let len = b.len();
    match rng.below(12) {
        0 => {
            for _ in 0..=rng.below(8) {
                if !b.is_empty() {
                    let at = rng.below(b.len());
                    b[at] = u8::try_from(rng.next() & 0xff).unwrap_or(0);
                }
            }
        }
        1 => b.truncate(rng.below(len + 1)),
        2 => {
            let from = rng.below(len + 1);
            let to = (from + rng.below(64)).min(len);
            b.drain(from..to);
        }
        3 => {
            let from = rng.below(len + 1);
            let to = (from + rng.below(256)).min(len);
            let copy = b[from..to].to_vec();
            let at = rng.below(b.len() + 1);
            b.splice(at..at, copy);
        }
        4 => {
            // A whole line of another seed, at a line start.
            let src = &pool[rng.below(pool.len())];
            let lines: Vec<&[u8]> = src.split_inclusive(|&c| c == b'\n').collect();
            if let Some(l) = lines.get(rng.below(lines.len())) {
                let at = line_start(b, rng.below(len + 1));
                b.splice(at..at, l.iter().copied());
            }
        }
        5 => {
            // A number replaced by an extreme or another type.
            let digits: Vec<usize> = (0..len).filter(|&i| b[i].is_ascii_digit()).collect();
            if let Some(&at) = digits.get(rng.below(digits.len())) {
                let mut end = at;
                while end < b.len() && (b[end].is_ascii_digit() || b[end] == b'.') {
                    end += 1;
                }
                let mut start = at;
                while start > 0 && b[start - 1].is_ascii_digit() {
                    start -= 1;
                }
                let with = EXTREMES[rng.below(EXTREMES.len())].as_bytes();
                b.splice(start..end, with.iter().copied());
            }
        }
        6 => {
            // A `"key":value` pair repeated in place.
            let quotes: Vec<usize> = (0..len)
                .filter(|&i| {
                    b[i] == b'"'
                        && b.get(i.wrapping_sub(1))
                            .is_some_and(|c| *c == b'{' || *c == b',')
                })
                .collect();
            if let Some(&at) = quotes.get(rng.below(quotes.len())) {
                let end = b[at..]
                    .iter()
                    .position(|&c| c == b',' || c == b'}')
                    .map_or(len, |p| at + p);
                let mut pair = b[at..end].to_vec();
                pair.push(b',');
                b.splice(at..at, pair);
            }
        }
        7 => {
            let junk: &[&[u8]] = &[
                b"\0\0\0\0",
                b"\xef\xbb\xbf",
                b"\r",
                b"\xff\xfe",
                b"\xc3",
                b"\n",
            ];
            let at = rng.below(len + 1);
            b.splice(at..at, junk[rng.below(junk.len())].iter().copied());
        }
        8 => {
            let depth = 1 + rng.below(3000);
            let at = line_start(b, rng.below(len + 1));
            let mut deep = vec![b'['; depth];
            deep.extend(std::iter::repeat_n(b']', rng.below(depth + 1)));
            deep.push(b'\n');
            b.splice(at..at, deep);
        }
        9 => {
            // Two lines swapped.
            let mut lines: Vec<Vec<u8>> = b
                .split_inclusive(|&c| c == b'\n')
                .map(<[u8]>::to_vec)
                .collect();
            if lines.len() > 1 {
                let (i, j) = (rng.below(lines.len()), rng.below(lines.len()));
                lines.swap(i, j);
                *b = lines.concat();
            }
        }
        10 => {
            // The same line again (a writer's retry, a copied response).
            let lines: Vec<Vec<u8>> = b
                .split_inclusive(|&c| c == b'\n')
                .map(<[u8]>::to_vec)
                .collect();
            if let Some(l) = lines.get(rng.below(lines.len())) {
                let at = line_start(b, rng.below(len + 1));
                b.splice(at..at, l.iter().copied());
            }
        }
        _ => {
            // A long string value (a tool output), past the parser's fast paths.
            let at = rng.below(len + 1);
            let filler = vec![b'x'; rng.below(1 << 16)];
            b.splice(at..at, filler);
        }
    }
}

fn line_start(b: &[u8], at: usize) -> usize {
    b[..at.min(b.len())]
        .iter()
        .rposition(|&c| c == b'\n')
        .map_or(0, |p| p + 1)
}

/// Parse `bytes` as `name`, then resume from its state: false on a broken invariant.
fn check(spec: &dyn AgentSpec, name: &str, bytes: &[u8]) -> Result<(), String> {
    let role = FileRole {
        session_hint: Some("s".into()),
        main: true,
    };
    let src = Source {
        path: Path::new(name),
        role: &role,
    };
    let p = spec.parse(&src, bytes, None);
    if p.consumed > bytes.len() {
        return Err(format!("consumed {} of {} bytes", p.consumed, bytes.len()));
    }
    if !spec.whole_document(Path::new(name)) {
        if p.consumed > 0 && bytes[p.consumed - 1] != b'\n' {
            return Err("consumed part of a line".into());
        }
        let _ = spec.parse(&src, &bytes[p.consumed..], p.state.as_deref());
    }
    Ok(())
}

#[test]
#[ignore = "a fixed-budget fuzz loop: run by make test (2 s per parser) and make fuzz"]
fn fuzz_every_parser_for_a_fixed_budget() {
    let secs: u64 = std::env::var("TOKLEDGER_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2);
    let seed: u64 = std::env::var("TOKLEDGER_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| {
                    u64::try_from(d.as_nanos() % u128::from(u64::MAX)).unwrap_or(1)
                })
        })
        .max(1);
    let targets = targets();
    let pool: Vec<Vec<u8>> = targets.iter().flat_map(|t| t.2.clone()).collect();
    let mut failures = Vec::new();
    let mut total = 0u64;
    for (agent, name, seeds) in &targets {
        let spec = agent.spec();
        let mut rng = Rng(seed ^ (name.len() as u64) << 32 ^ *agent as u64);
        let started = Instant::now();
        let (mut n, mut slowest) = (0u64, Duration::ZERO);
        while started.elapsed() < Duration::from_secs(secs) {
            let mut input = seeds[rng.below(seeds.len())].clone();
            for _ in 0..=rng.below(4) {
                mutate(&mut rng, &mut input, &pool);
            }
            let t = Instant::now();
            let r = catch_unwind(AssertUnwindSafe(|| check(spec, name, &input)));
            let took = t.elapsed();
            slowest = slowest.max(took);
            let problem = match r {
                Err(_) => Some("panicked".to_owned()),
                Ok(Err(e)) => Some(e),
                Ok(Ok(())) if took > MAX_PER_INPUT => Some(format!("took {took:?}")),
                Ok(Ok(())) => None,
            };
            if let Some(p) = problem {
                let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-failures");
                let _ = std::fs::create_dir_all(&dir);
                let file = dir.join(format!("{agent:?}-{seed}-{n}.bin"));
                let _ = std::fs::write(&file, &input);
                failures.push(format!("{agent:?} {name}: {p} (input {})", file.display()));
            }
            n += 1;
        }
        total += n;
        eprintln!(
            "fuzz {agent:?} {name}: {n} inputs in {secs} s, slowest {} ms",
            slowest.as_millis()
        );
    }
    eprintln!(
        "fuzz: {total} inputs, {} failures, seed {seed}",
        failures.len()
    );
    assert!(failures.is_empty(), "seed {seed}: {failures:#?}");
}

/// Every number of every seed replaced by one extreme at once: what the loop first found
/// (sums and differences of counters overflowing, in four parsers), pinned.
#[test]
fn every_counter_at_an_extreme_parses_without_overflow() {
    for (agent, name, seeds) in targets() {
        for seed in &seeds {
            for extreme in [
                "9223372036854775807",
                "-9223372036854775808",
                "18446744073709551615",
            ] {
                let text = String::from_utf8_lossy(seed);
                let mut out = String::new();
                let mut chars = text.chars().peekable();
                let mut in_string = false;
                while let Some(c) = chars.next() {
                    if c == '"' {
                        in_string = !in_string;
                    }
                    if !in_string && c.is_ascii_digit() {
                        while chars
                            .peek()
                            .is_some_and(|d| d.is_ascii_digit() || *d == '.')
                        {
                            chars.next();
                        }
                        out.push_str(extreme);
                    } else {
                        out.push(c);
                    }
                }
                let r = catch_unwind(AssertUnwindSafe(|| {
                    check(agent.spec(), name, out.as_bytes())
                }));
                assert!(matches!(r, Ok(Ok(()))), "{agent:?} {name} with {extreme}");
            }
        }
    }
}
