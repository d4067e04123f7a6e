//! Numbers and times in the forms people read, shared by the renderers and the messages of
//! lower layers (binding's list of candidate sessions).

/// `1234567` → `1,234,567`.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Unix ms → `2026-05-01 10:00` in UTC (tables); JSON uses RFC 3339.
pub fn short_time(ms: Option<i64>) -> String {
    ms.and_then(chrono::DateTime::from_timestamp_millis)
        .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| "-".into())
}

/// `s` with control characters (C0, DEL, C1: escape sequences, carriage returns, bells)
/// shown as `\u{..}` escapes, so text from a transcript or an argument cannot move the
/// cursor, retitle or clear the terminal, or fake output. `keep_newlines` keeps `\n` (a
/// message of several lines); a table cell keeps none.
pub fn printable(s: &str, keep_newlines: bool) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| c.is_control() && !(keep_newlines && c == '\n');
    if !s.chars().any(bad) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if bad(c) {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn control_characters_are_shown_not_obeyed() {
        assert_eq!(printable("plain é", false), "plain é");
        assert_eq!(
            printable("a\u{1b}]0;pwned\u{7}b\r\u{9b}2J", false),
            "a\\u{1b}]0;pwned\\u{7}b\\u{d}\\u{9b}2J"
        );
        assert_eq!(printable("one\ntwo\t", true), "one\ntwo\\u{9}");
        assert_eq!(printable("one\ntwo", false), "one\\u{a}two");
    }
}
