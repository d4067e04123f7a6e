//! The skill templates: every `tokledger` command they contain parses with the real CLI,
//! each agent binds its session as it should, and the committed `integrations/` is what
//! the templates render (`make assemble-skills`).

use std::path::{Path, PathBuf};

use crate::common::*;
use clap::Parser;
use tokledger::cli::Cli;
use tokledger::skills::{Rendered, agents, render_all, templates};

/// Placeholders the skills ask the agent to fill in, with values of the right type.
const PLACEHOLDERS: [(&str, &str); 6] = [
    ("PASS", "synthesis"),
    ("ANALYSIS_ID", "ANALYSIS-2026-001"),
    ("SOURCE_ID", "PR-1234"),
    ("FINDINGS", "3"),
    ("OUTCOME", "two blockers"),
    ("THREAD_ID", "T-55555555-5555-4555-8555-555555555555"),
];

/// Split one shell command line into words (quotes removed), stopping at the first
/// unquoted `|`, `;`, `&`, `<`, `>` or `)`: the command before a pipe or redirection.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') => cur.extend(chars.next()),
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, '\\') => {
                cur.extend(chars.next());
                in_word = true;
            }
            (None, '|' | ';' | '&' | '<' | '>' | ')') => break,
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    assert!(quote.is_none(), "unbalanced quotes in {line:?}");
    if in_word {
        words.push(cur);
    }
    words
}

/// The `tokledger …` commands of the shell blocks of a markdown file (a continuation
/// `\` joins lines; `id=$(tokledger …)` counts too), as argv.
fn commands(markdown: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut in_block = false;
    let mut pending = String::new();
    for line in markdown.lines() {
        let t = line.trim();
        if let Some(lang) = t.strip_prefix("```") {
            in_block = !in_block && matches!(lang, "sh" | "bash" | "shell" | "");
            continue;
        }
        if !in_block {
            continue;
        }
        if let Some(head) = t.strip_suffix('\\') {
            pending.push_str(head);
            pending.push(' ');
            continue;
        }
        pending.push_str(t);
        let full = std::mem::take(&mut pending);
        if let Some(i) = full.find("tokledger ")
            && (i == 0 || full[..i].ends_with("$("))
        {
            out.push(shell_words(&full[i..]));
        }
    }
    out
}

fn fill(words: &[String]) -> Vec<String> {
    words
        .iter()
        .map(|w| {
            PLACEHOLDERS
                .iter()
                .fold(w.clone(), |acc, (k, v)| acc.replace(k, v))
        })
        .collect()
}

fn parse(words: &[String]) -> Result<Cli, clap::Error> {
    Cli::try_parse_from(fill(words))
}

fn rendered() -> Vec<Rendered> {
    render_all().expect("templates render")
}

fn skill_of(agent: &str) -> Rendered {
    rendered()
        .into_iter()
        .find(|r| r.agent == agent && r.path.ends_with("SKILL.md"))
        .unwrap_or_else(|| panic!("no skill for {agent}"))
}

/// The value after `flag` in argv.
fn flag<'a>(words: &'a [String], name: &str) -> Option<&'a str> {
    words
        .iter()
        .position(|w| w == name)
        .and_then(|i| words.get(i + 1))
        .map(String::as_str)
}

#[test]
fn every_command_in_every_rendered_skill_parses_with_the_real_cli() {
    let files = rendered();
    let skills: Vec<&Rendered> = files
        .iter()
        .filter(|r| r.path.ends_with("SKILL.md"))
        .collect();
    assert_eq!(skills.len(), agents().len(), "one skill per agent");
    for skill in skills {
        let cmds = commands(&skill.text);
        let verbs: Vec<String> = cmds.iter().map(|c| c[1..3].join(" ")).collect();
        for needed in [
            "analysis start",
            "analysis mark",
            "analysis complete",
            "analysis show",
        ] {
            assert!(
                verbs.iter().any(|v| v == needed),
                "{}: no `tokledger {needed}` in {verbs:?}",
                skill.path.display()
            );
        }
        for c in &cmds {
            if let Err(e) = parse(c) {
                panic!(
                    "{}: `{}` does not parse:\n{e}",
                    skill.path.display(),
                    c.join(" ")
                );
            }
        }
        // Every start names this agent's tool.
        for c in cmds.iter().filter(|c| c[1..3] == ["analysis", "start"]) {
            assert_eq!(flag(c, "--tool"), Some(skill.agent), "{c:?}");
        }
        // The agent's frontmatter: a name and a one-line description (Codex's limit is 500).
        let front: Vec<&str> = skill.text.lines().take_while(|l| !l.is_empty()).collect();
        assert_eq!(front.first(), Some(&"---"));
        assert!(front.contains(&"name: tokledger-check"), "{front:?}");
        let desc = front
            .iter()
            .find_map(|l| l.strip_prefix("description: "))
            .expect("description");
        assert!(desc.len() <= 500, "{} chars", desc.len());
    }
}

#[test]
fn each_agent_binds_its_own_session() {
    let starts = |agent: &str| -> Vec<Vec<String>> {
        commands(&skill_of(agent).text)
            .into_iter()
            .filter(|c| c[1..3] == ["analysis", "start"])
            .collect()
    };
    // Claude Code substitutes its session id into the skill text.
    let claude = starts("claude");
    assert_eq!(claude.len(), 1);
    assert_eq!(
        flag(&claude[0], "--usage-session-id"),
        Some("${CLAUDE_SESSION_ID}")
    );
    // Codex: CODEX_THREAD_ID is in the shell's environment; no flag.
    let codex = starts("codex");
    assert_eq!(codex.len(), 1);
    assert_eq!(flag(&codex[0], "--usage-session-id"), None);
    assert!(skill_of("codex").text.contains("CODEX_THREAD_ID"));
    // Amp: the heuristic first, then an explicit thread when it is ambiguous.
    let amp = starts("amp");
    assert_eq!(amp.len(), 2);
    assert_eq!(flag(&amp[0], "--usage-session-id"), None);
    assert_eq!(flag(&amp[1], "--usage-session-id"), Some("THREAD_ID"));
    // Only Claude's skill may carry the placeholder Claude Code substitutes.
    for agent in ["codex", "amp"] {
        assert!(
            !skill_of(agent).text.contains("CLAUDE_SESSION_ID"),
            "{agent}"
        );
    }
}

#[test]
fn the_checker_itself_catches_a_wrong_flag() {
    // So that the tests above cannot pass vacuously.
    let bad = commands("```sh\ntokledger analysis start --source \"x\" --tool claude\n```\n");
    assert_eq!(bad.len(), 1);
    assert!(parse(&bad[0]).is_err());
    let joined = commands(
        "```sh\nid=$(tokledger analysis start --source-id \"a b\" \\\n  --tool codex) && echo \"$id\"\n```\n",
    );
    assert_eq!(
        joined,
        vec![shell_words(
            "tokledger analysis start --source-id 'a b' --tool codex"
        )]
    );
    assert!(parse(&joined[0]).is_ok());
}

#[test]
fn the_claude_settings_snippet_runs_the_hook_on_its_events() {
    let settings = rendered()
        .into_iter()
        .find(|r| r.path == Path::new("claude/settings.json"))
        .expect("settings.json");
    let v: serde_json::Value = serde_json::from_str(&settings.text).expect("JSON");
    let hooks = v["hooks"].as_object().expect("hooks");
    let mut events: Vec<&str> = hooks.keys().map(String::as_str).collect();
    events.sort_unstable();
    assert_eq!(
        events,
        [
            "PostToolUse",
            "PostToolUseFailure",
            "SessionEnd",
            "SessionStart",
            "Stop"
        ]
    );
    for (event, groups) in hooks {
        for group in groups.as_array().expect("groups") {
            for h in group["hooks"].as_array().expect("hooks") {
                assert_eq!(h["type"], "command", "{event}");
                let cmd = h["command"].as_str().expect("command");
                assert_eq!(cmd, "tokledger hook claude", "{event}");
                assert!(parse(&shell_words(cmd)).is_ok());
                assert!(h["timeout"].as_i64().is_some_and(|t| t >= 1), "{event}");
            }
        }
    }
}

#[test]
fn every_template_file_is_embedded() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let mut on_disk: Vec<String> = walkdir::WalkDir::new(&root)
        .into_iter()
        .map(|e| e.expect("walk"))
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            e.path()
                .strip_prefix(&root)
                .expect("below")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    on_disk.sort();
    let mut embedded: Vec<String> = templates().iter().map(|(n, _)| (*n).to_owned()).collect();
    embedded.sort();
    assert_eq!(
        embedded, on_disk,
        "add new templates to the agent's AgentSpec::templates (or SHARED in src/skills.rs)"
    );
    for (name, text) in templates() {
        let disk = std::fs::read_to_string(root.join(name)).expect("read");
        assert_eq!(&disk, text, "{name}");
    }
}

fn integrations() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("integrations")
}

#[test]
fn the_committed_integrations_are_not_stale() {
    let env = TestEnv::empty();
    let out = env.run(&[
        "skills",
        "render",
        "--check",
        "--out",
        integrations().to_str().expect("utf8"),
    ]);
    assert!(
        out.status.success(),
        "integrations/ is stale: run `make assemble-skills` and commit it\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // And the same, file by file, in-process.
    for r in rendered() {
        let committed = std::fs::read_to_string(integrations().join(&r.path))
            .unwrap_or_else(|e| panic!("{}: {e}", r.path.display()));
        assert_eq!(committed, r.text, "{}", r.path.display());
    }
}

#[test]
fn render_writes_and_check_catches_an_edit_and_a_leftover() {
    let env = TestEnv::empty();
    let out_dir = env.dir.path().join("out");
    let dir = out_dir.to_str().expect("utf8");
    let out = env.run(&["skills", "render", "--out", dir]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    for r in rendered() {
        assert_eq!(
            std::fs::read_to_string(out_dir.join(&r.path)).expect("written"),
            r.text
        );
    }
    assert!(
        env.run(&["skills", "render", "--check", "--out", dir])
            .status
            .success()
    );

    let skill = out_dir.join("codex/skills/tokledger-check/SKILL.md");
    let text = std::fs::read_to_string(&skill).expect("read");
    std::fs::write(&skill, text.replace("--stage read", "--stage reed")).expect("edit");
    let leftover = out_dir.join("amp/skills/old-check/SKILL.md");
    std::fs::create_dir_all(leftover.parent().expect("dir")).expect("mkdir");
    std::fs::write(&leftover, "old").expect("write");
    let out = env.run(&["skills", "render", "--check", "--out", dir]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("codex/skills/tokledger-check/SKILL.md: differs")
            && err.contains("old-check/SKILL.md: no template renders it")
            && err.contains("2 file(s)"),
        "{err}"
    );
    // Rendering again repairs the edit; the leftover is the user's to remove.
    assert!(
        env.run(&["skills", "render", "--out", dir])
            .status
            .success()
    );
    assert_eq!(std::fs::read_to_string(&skill).expect("read"), text);
    assert!(leftover.exists());
}
