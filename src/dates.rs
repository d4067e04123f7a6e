//! Dates, times and time zones from the command line.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

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

/// A day (`YYYY-MM-DD`, ccusage's `YYYYMMDD`, `today`, `yesterday`: a whole UTC day), an RFC
/// 3339 time or a relative `7d`, as the instant a range starts at (`end = false`) or ends
/// before (`end = true`: a day's next midnight, a time's next ms).
pub fn parse_bound(flag: &str, s: &str, end: bool) -> Result<i64, Error> {
    parse_bound_in(flag, s, end, Tz::UTC, Utc::now().timestamp_millis())
}

/// [`parse_bound`] with dates taken as days in `tz` and relative times counted back from
/// `now_ms`. A relative bound is an instant, like an RFC 3339 time.
pub fn parse_bound_in(flag: &str, s: &str, end: bool, tz: Tz, now_ms: i64) -> Result<i64, Error> {
    let s = s.trim();
    if let Some(d) = day(s, tz, now_ms) {
        let day = if end { d.succ_opt() } else { Some(d) };
        return day
            .and_then(|d| day_start_ms(tz, d))
            .ok_or_else(|| Error::Usage(format!("{flag}: {s:?} is out of range")));
    }
    let t = match relative_ms(s) {
        Some(back) => now_ms.checked_sub(back),
        None => parse_time(flag, s).ok(),
    };
    let t = t.ok_or_else(|| {
        Error::Usage(format!(
            "{flag} takes a day (YYYY-MM-DD, YYYYMMDD, today, yesterday), an RFC 3339 time like \
             2026-05-01T10:00:00Z, or a time back from now like 30m, 24h, 7d or 2w; not {s:?}"
        ))
    })?;
    Ok(if end { t.saturating_add(1) } else { t })
}

/// A calendar day: `YYYY-MM-DD`, `YYYYMMDD` (ccusage's spelling), or `today`/`yesterday` in
/// `tz` at `now_ms`.
fn day(s: &str, tz: Tz, now_ms: i64) -> Option<NaiveDate> {
    let word = |back: u64| {
        local_date(tz, now_ms).and_then(|d| d.checked_sub_days(chrono::Days::new(back)))
    };
    if s.eq_ignore_ascii_case("today") {
        return word(0);
    }
    if s.eq_ignore_ascii_case("yesterday") {
        return word(1);
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().or_else(|| {
        (s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| NaiveDate::parse_from_str(s, "%Y%m%d").ok())
            .flatten()
    })
}

/// A range's bounds (`since` inclusive, `until` exclusive, as [`parse_bound_in`] gives
/// them): an empty range is a usage error, not "no usage in this range".
pub fn check_range(since: Option<i64>, until: Option<i64>) -> Result<(), Error> {
    match (since, until) {
        (Some(s), Some(u)) if s >= u => Err(Error::Usage(format!(
            "--since ({}) is not before --until ({}): the range is empty",
            format_ts_ms(s),
            format_ts_ms(u.saturating_sub(1))
        ))),
        _ => Ok(()),
    }
}

/// `30m`, `24h`, `7d`, `2w` as milliseconds; `None` for anything else.
fn relative_ms(s: &str) -> Option<i64> {
    let unit = s.chars().last()?;
    let n: i64 = s.get(..s.len() - unit.len_utf8())?.parse().ok()?;
    let per: i64 = match unit {
        'm' => 60_000,
        'h' => 3_600_000,
        'd' => 86_400_000,
        'w' => 7 * 86_400_000,
        _ => return None,
    };
    (n >= 0).then(|| n.checked_mul(per)).flatten()
}

/// The first instant of local day `d` in `tz`, as UTC ms. Midnight can be missing (a DST jump
/// at 00:00, as Chile's or Brazil's were) or happen twice: the day then starts at the first
/// local time that exists, the earlier of two.
pub fn day_start_ms(tz: Tz, d: NaiveDate) -> Option<i64> {
    let mut t = d.and_time(NaiveTime::MIN);
    // Every offset change in the time zone database moves clocks by at most a few hours.
    for _ in 0..(24 * 4) {
        if let Some(x) = tz.from_local_datetime(&t).earliest() {
            return Some(x.timestamp_millis());
        }
        t += Duration::minutes(15);
    }
    None
}

/// The local calendar day of an instant in `tz`.
pub fn local_date(tz: Tz, ms: i64) -> Option<NaiveDate> {
    tz.timestamp_millis_opt(ms).single().map(|t| t.date_naive())
}

/// `--tz`: an IANA name (`Europe/Paris`, `UTC`), or `local`: the `TZ` variable (`tz_env`,
/// with POSIX's leading `:` or a `…/zoneinfo/` path allowed), else the system's zone
/// (`/etc/localtime`), else UTC. A name we cannot read is a usage error: days cut at the
/// wrong hour would be wrong silently.
pub fn resolve_zone(arg: &str, tz_env: Option<&str>) -> Result<Tz, Error> {
    let arg = arg.trim();
    if !arg.eq_ignore_ascii_case("local") {
        return parse_zone(arg).ok_or_else(|| {
            Error::Usage(format!(
                "--tz takes an IANA time zone like Europe/Paris, UTC or America/Los_Angeles, or \
                 `local`; not {arg:?}"
            ))
        });
    }
    if let Some(v) = tz_env {
        return parse_zone(v).ok_or_else(|| {
            Error::Usage(format!(
                "TZ={v:?} is not an IANA time zone name; set TZ to one (like Europe/Paris) or \
                 pass --tz"
            ))
        });
    }
    Ok(iana_time_zone::get_timezone()
        .ok()
        .and_then(|n| parse_zone(&n))
        .unwrap_or(Tz::UTC))
}

fn parse_zone(s: &str) -> Option<Tz> {
    let s = s.trim().trim_start_matches(':');
    let s = s.rsplit_once("zoneinfo/").map_or(s, |(_, name)| name);
    s.parse::<Tz>().ok()
}

/// `--since`/`--until` as the stored (RFC 3339 UTC) bounds of a `started_at` range.
pub fn started_range(
    since: Option<&str>,
    until: Option<&str>,
) -> Result<(Option<String>, Option<String>), Error> {
    let since = since
        .map(|s| parse_bound("--since", s, false))
        .transpose()?;
    let until = until.map(|s| parse_bound("--until", s, true)).transpose()?;
    check_range(since, until)?;
    Ok((since.map(bound_string), until.map(bound_string)))
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
            parse_bound("--since", "the day before", false),
            Err(Error::Usage(_))
        ));
        assert!(matches!(
            parse_time("--started-at", "2026-03-02",),
            Err(Error::Usage(_))
        ));
    }

    #[test]
    fn dates_in_a_zone_and_relative_times() {
        let la: Tz = "America/Los_Angeles".parse().unwrap();
        let now = parse_time("now", "2026-03-10T12:00:00Z").unwrap();
        let b = |s: &str, end: bool, tz: Tz| {
            bound_string(parse_bound_in("--x", s, end, tz, now).unwrap())
        };
        assert_eq!(b("2026-03-02", false, la), "2026-03-02T08:00:00.000Z");
        // The whole day: up to the next local midnight (after the DST change of 03-08, -7 h).
        assert_eq!(b("2026-03-08", true, la), "2026-03-09T07:00:00.000Z");
        let kolkata: Tz = "Asia/Kolkata".parse().unwrap();
        assert_eq!(b("2026-03-03", false, kolkata), "2026-03-02T18:30:00.000Z");
        assert_eq!(b("7d", false, la), "2026-03-03T12:00:00.000Z");
        assert_eq!(b("24h", false, la), "2026-03-09T12:00:00.000Z");
        assert_eq!(b("30m", false, la), "2026-03-10T11:30:00.000Z");
        assert_eq!(b("2w", false, la), "2026-02-24T12:00:00.000Z");
        assert_eq!(b("1d", true, la), "2026-03-09T12:00:00.001Z");
        // ccusage's spellings: YYYYMMDD, today, yesterday (days in the zone).
        assert_eq!(b("20260302", false, la), "2026-03-02T08:00:00.000Z");
        assert_eq!(b("today", false, la), "2026-03-10T07:00:00.000Z");
        assert_eq!(b("Yesterday", false, la), "2026-03-09T07:00:00.000Z");
        assert_eq!(b("yesterday", true, la), "2026-03-10T07:00:00.000Z");
        assert!(check_range(Some(2), Some(1)).is_err());
        assert!(check_range(Some(1), Some(1)).is_err());
        assert!(check_range(Some(1), Some(2)).is_ok());
        for bad in [
            "7",
            "d",
            "-1d",
            "7y",
            "1.5d",
            "2026-13-01",
            "",
            "20261301",
            "2026030",
        ] {
            assert!(
                matches!(
                    parse_bound_in("--since", bad, false, la, now),
                    Err(Error::Usage(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_missing_midnight_starts_the_day_at_the_first_local_time() {
        // Santiago moved its clocks from 00:00 to 01:00 on 2022-09-11.
        let scl: Tz = "America/Santiago".parse().unwrap();
        let d = NaiveDate::from_ymd_opt(2022, 9, 11).unwrap();
        assert_eq!(
            day_start_ms(scl, d).map(bound_string).as_deref(),
            Some("2022-09-11T04:00:00.000Z")
        );
    }

    #[test]
    fn zones() {
        assert_eq!(resolve_zone("UTC", None).unwrap(), Tz::UTC);
        assert_eq!(
            resolve_zone("local", Some(":Asia/Tokyo")).unwrap(),
            Tz::Asia__Tokyo
        );
        assert_eq!(
            resolve_zone("local", Some("/usr/share/zoneinfo/Europe/Paris")).unwrap(),
            Tz::Europe__Paris
        );
        assert!(matches!(
            resolve_zone("Mars/Olympus", None),
            Err(Error::Usage(_))
        ));
        assert!(matches!(
            resolve_zone("local", Some("JST-9")),
            Err(Error::Usage(_))
        ));
    }
}
