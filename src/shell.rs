//! POSIX shell quoting for what tokledger writes for a shell to read (the hook's env file)
//! or shows a person as a command line: `shlex`'s, which also quotes what an interactive
//! shell treats specially (`!`, `^`, braces, `~`).

use std::borrow::Cow;

/// `s` as one shell word: unchanged when no shell treats any of it specially, else quoted.
pub fn quote(s: &str) -> Cow<'_, str> {
    match shlex::try_quote(s) {
        Ok(q) => q,
        // No shell word holds a NUL (neither argv nor the environment can): dropped.
        Err(_) => Cow::Owned(
            shlex::try_quote(&s.replace('\0', ""))
                .map(Cow::into_owned)
                .unwrap_or_default(),
        ),
    }
}

/// A command line for display: each word quoted as needed.
pub fn join<S: AsRef<str>>(words: &[S]) -> String {
    words
        .iter()
        .map(|w| quote(w.as_ref()).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_words_stay_bare_and_others_are_quoted_so_a_shell_reads_them_back() {
        assert_eq!(
            quote("11111111-1111-4111-8111-111111111111"),
            "11111111-1111-4111-8111-111111111111"
        );
        assert_eq!(
            quote("/home/dev/.claude/projects/-a/x.jsonl"),
            "/home/dev/.claude/projects/-a/x.jsonl"
        );
        assert_eq!(quote("/tmp/with space/x"), "'/tmp/with space/x'");
        assert_eq!(quote(""), "''");
        assert_eq!(join(&["sh", "-c", "exit 3"]), "sh -c 'exit 3'");
        for s in [
            "it's $HOME",
            "a\"b`c`\\d",
            "!event ^x {a,b} ~",
            "tab\there\nline",
            "x\0y",
        ] {
            let q = quote(s);
            let back = shlex::split(&q).expect("one word");
            assert_eq!(back, vec![s.replace('\0', "")], "{s:?} → {q}");
        }
    }
}
