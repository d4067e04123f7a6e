//! Numbers and times for people.

pub use crate::format::{short_time, thousands};

/// A count in at most 6 characters for narrow tables: `5,554`, `12.3K`, `456K`, `7.8M`, `1.2B`.
/// JSON and CSV keep the exact integer.
pub fn abbreviated(n: i64) -> String {
    let a = n.unsigned_abs();
    if a < 10_000 {
        return thousands(n);
    }
    let sign = if n < 0 { "-" } else { "" };
    let (unit, div) = [("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)]
        .into_iter()
        .find(|(_, d)| a as f64 >= *d)
        .unwrap_or(("K", 1e3));
    let v = a as f64 / div;
    // One decimal below 100 of a unit; 99.96 would round to "100.0", so check after rounding.
    let one = format!("{v:.1}");
    if one.len() <= 4 {
        format!("{sign}{one}{unit}")
    } else {
        format!("{sign}{v:.0}{unit}")
    }
}

/// A duration for people: `850ms`, `2.5s`, `1m05s`, `2h03m`.
pub fn duration(ms: i64) -> String {
    if ms < 1_000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.1}s", ms as f64 / 1000.0)
    } else if ms < 3_600_000 {
        format!("{}m{:02}s", ms / 60_000, ms % 60_000 / 1000)
    } else {
        format!("{}h{:02}m", ms / 3_600_000, ms % 3_600_000 / 60_000)
    }
}

/// Shorten a path-like string from the left to `max` terminal columns (display width: a CJK
/// character takes two, a combining mark none).
pub fn tail(s: &str, max: usize) -> String {
    use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};
    if s.width() <= max {
        return s.to_owned();
    }
    let room = max.saturating_sub(1); // the `…`
    let mut used = 0;
    let mut start = s.len();
    for (i, c) in s.char_indices().rev() {
        let w = c.width().unwrap_or(0);
        if used + w > room {
            break;
        }
        used += w;
        start = i;
    }
    format!("…{}", &s[start..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(-1_234_567), "-1,234,567");
    }

    #[test]
    fn abbreviations_stay_short() {
        let cases = [
            (0, "0"),
            (9_999, "9,999"),
            (10_000, "10.0K"),
            (123_456, "123K"),
            (99_960, "100K"),
            (1_234_567, "1.2M"),
            (987_654_321, "988M"),
            (1_500_000_000, "1.5B"),
            (-25_000, "-25.0K"),
        ];
        for (n, s) in cases {
            assert_eq!(abbreviated(n), s, "{n}");
        }
        assert_eq!(duration(100), "100ms");
        assert_eq!(duration(2_500), "2.5s");
        assert_eq!(duration(65_000), "1m05s");
        assert_eq!(duration(7_380_000), "2h03m");
    }

    #[test]
    fn tail_keeps_the_end() {
        assert_eq!(tail("/home/me/project", 8), "…project");
        assert_eq!(tail("short", 8), "short");
        // By columns, not characters: each of these takes two.
        assert_eq!(tail("/home/项目/代码库", 8), "…/代码库");
        assert_eq!(tail("/home/项目/代码库", 7), "…代码库");
        assert_eq!(tail("项目", 4), "项目");
    }
}
