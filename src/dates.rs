//! Dates and times from the command line.

use chrono::{DateTime, NaiveDate, Utc};

use crate::error::Error;
use crate::usage::format_ts_ms;

/// An RFC 3339 time as UTC milliseconds; anything else is a usage error naming the flag.
pub fn parse_time(flag: &str, s: &str) -> Result<i64, Error> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|d| d.timestamp_millis())
        .map_err(|_| {
            Error::Usage(format!(
                "{flag} takes an RFC 3339 time like 2026-05-01T10:00:00Z, not {s:?}"
            ))
        })
}

/// `YYYY-MM-DD` (a whole UTC day) or an RFC 3339 time, as the instant a range starts at
/// (`end = false`) or ends before (`end = true`: a date's next midnight, a time's next ms).
pub fn parse_bound(flag: &str, s: &str, end: bool) -> Result<i64, Error> {
    if let Ok(d) = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d") {
        let day = if end { d.succ_opt().unwrap_or(d) } else { d };
        let ms = day
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc().timestamp_millis());
        return ms.ok_or_else(|| Error::Usage(format!("{flag}: {s:?} is out of range")));
    }
    let t = parse_time(flag, s).map_err(|_| {
        Error::Usage(format!(
            "{flag} takes YYYY-MM-DD or an RFC 3339 time like 2026-05-01T10:00:00Z, not {s:?}"
        ))
    })?;
    Ok(if end { t + 1 } else { t })
}

/// `--since`/`--until` as the stored (RFC 3339 UTC) bounds of a `started_at` range.
pub fn started_range(
    since: Option<&str>,
    until: Option<&str>,
) -> Result<(Option<String>, Option<String>), Error> {
    let since = since
        .map(|s| parse_bound("--since", s, false))
        .transpose()?
        .map(bound_string);
    let until = until
        .map(|s| parse_bound("--until", s, true))
        .transpose()?
        .map(bound_string);
    Ok((since, until))
}

/// The stored form of a bound (times compare as these strings).
pub fn bound_string(ms: i64) -> String {
    format_ts_ms(ms)
}

pub fn year_now() -> i32 {
    use chrono::Datelike;
    Utc::now().year()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_times() {
        assert_eq!(
            bound_string(parse_bound("--since", "2026-03-02", false).unwrap()),
            "2026-03-02T00:00:00.000Z"
        );
        assert_eq!(
            bound_string(parse_bound("--until", "2026-03-02", true).unwrap()),
            "2026-03-03T00:00:00.000Z"
        );
        assert_eq!(
            bound_string(parse_bound("--since", "2026-03-02T10:00:00+02:00", false).unwrap()),
            "2026-03-02T08:00:00.000Z"
        );
        assert!(matches!(
            parse_bound("--since", "yesterday", false),
            Err(Error::Usage(_))
        ));
        assert!(matches!(
            parse_time("--started-at", "2026-03-02",),
            Err(Error::Usage(_))
        ));
    }
}
