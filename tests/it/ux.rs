//! What a ccusage user expects at the terminal (issue 17): colour, id prefixes, ccusage's
//! spellings, refused bad input, export order, completions and the man page.

use crate::common::{TestEnv, ok_stdout};

const ESC: &str = "\u{1b}[";

#[test]
fn color_always_paints_headers_totals_and_failures() {
    let env = TestEnv::with_fixtures();
    let out = ok_stdout(&env.run(&["--color", "always", "report", "tools", "--tz", "UTC"]));
    assert!(out.contains(ESC), "escapes expected:\n{out}");
    // Header bold cyan, the totals row yellow, a failure count red.
    assert!(out.contains("\u{1b}[1magent"), "{out:?}");
    assert!(out.contains("\u{1b}[38;5;11m\u{1b}[1mtotal"), "{out:?}");
    assert!(out.contains("\u{1b}[38;5;9m"), "{out:?}");
    let daily = ok_stdout(&env.run(&["--color", "always", "report", "daily", "--tz", "UTC"]));
    assert!(daily.contains(ESC), "{daily}");
}

#[test]
fn color_never_no_color_and_json_stay_plain() {
    let env = TestEnv::with_fixtures();
    let never = ok_stdout(&env.run(&["--color", "never", "report", "tools"]));
    assert!(!never.contains('\u{1b}'), "{never:?}");
    // NO_COLOR wins over CLICOLOR_FORCE; `--color always` over both.
    let no_color = env
        .cmd(&["report", "tools"])
        .env("NO_COLOR", "1")
        .env("CLICOLOR_FORCE", "1")
        .output()
        .unwrap();
    assert!(!ok_stdout(&no_color).contains('\u{1b}'));
    let forced = env
        .cmd(&["report", "tools"])
        .env("CLICOLOR_FORCE", "1")
        .output()
        .unwrap();
    assert!(
        ok_stdout(&forced).contains(ESC),
        "CLICOLOR_FORCE colours a pipe"
    );
    for args in [
        &["--color", "always", "report", "daily", "--json"][..],
        &["--color", "always", "report", "daily", "--csv"],
        &[
            "--color", "always", "analysis", "sessions", "list", "--json",
        ],
    ] {
        let out = ok_stdout(&env.run(args));
        assert!(!out.contains('\u{1b}'), "{args:?}: {out:?}");
    }
}

#[test]
fn a_table_holding_a_control_character_is_escaped_not_coloured() {
    let env = TestEnv::empty();
    ok_stdout(&env.run(&[
        "analysis",
        "add",
        "--source-id",
        "x\u{1b}]0;title\u{7}",
        "--tool",
        "manual",
    ]));
    let out = ok_stdout(&env.run(&["--color", "always", "analysis", "list"]));
    assert!(!out.contains('\u{1b}'), "{out:?}");
    assert!(out.contains("\\u{1b}"), "shown escaped: {out:?}");
    let clean = TestEnv::empty();
    ok_stdout(&clean.run(&["analysis", "add", "--source-id", "y", "--tool", "manual"]));
    let out = ok_stdout(&clean.run(&["--color", "always", "analysis", "list"]));
    assert!(out.contains(ESC), "{out:?}");
}
