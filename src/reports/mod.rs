//! KPI reports: conversations closed in a date range, per operator and in total; time in
//! status per operator and day; and the export at conversation grain. The formulas are
//! written down in README.md → "Reports". Plain functions over a [`Db`](crate::store::Db).

pub mod conversations;
pub mod csv;
pub mod export;
pub mod status;

use crate::clock::parse_time;
use crate::error::{Error, Result};

pub const DAY_MS: i64 = 86_400_000;
/// The default range when none is given: the last 7 days.
const DEFAULT_DAYS: i64 = 7;

/// A half-open range of time `[from, to)`, in ms since the epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub from: i64,
    pub to: i64,
}

impl Range {
    /// `from` and `to` are RFC 3339 times or plain dates (midnight UTC). A plain date as
    /// `to` includes that whole day. Without `to`: now; without `from`: 7 days before `to`.
    pub fn parse(from: Option<&str>, to: Option<&str>, now: i64) -> Result<Range> {
        let time = |name: &str, s: &str| {
            parse_time(s).ok_or_else(|| Error::Invalid(format!("{name} must be an RFC 3339 time or a date, not {s:?}")))
        };
        let to = match to.map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) if is_date(s) => time("to", s)? + DAY_MS,
            Some(s) => time("to", s)?,
            None => now,
        };
        let from = match from.map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => time("from", s)?,
            None => to - DEFAULT_DAYS * DAY_MS,
        };
        if from >= to {
            return Err(Error::Invalid("from must be before to".into()));
        }
        Ok(Range { from, to })
    }
}

fn is_date(s: &str) -> bool {
    s.len() == 10 && !s.contains('T')
}

/// What a report covers: the range, optionally one channel, optionally one operator.
#[derive(Debug, Clone, Copy)]
pub struct Filter {
    pub range: Range,
    pub channel_id: Option<i64>,
    pub operator_id: Option<i64>,
}

/// `2026-11-28` for a time in ms (UTC).
pub fn day(ms: i64) -> String {
    crate::clock::rfc3339(ms)[..10].to_owned()
}

/// Milliseconds (a mean may have fractions) as seconds, rounded to the millisecond.
pub fn seconds(ms: f64) -> f64 {
    ms.round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_as_to_includes_its_whole_day() {
        let r = Range::parse(Some("2026-11-01"), Some("2026-11-02"), 0).unwrap();
        assert_eq!(r.to - r.from, 2 * DAY_MS);
        let r = Range::parse(Some("2026-11-01"), Some("2026-11-02T00:00:00Z"), 0).unwrap();
        assert_eq!(r.to - r.from, DAY_MS);
        assert!(Range::parse(Some("2026-11-03"), Some("2026-11-02"), 0).is_err());
        assert!(Range::parse(Some("yesterday"), None, 0).is_err());
        let r = Range::parse(None, None, 10 * DAY_MS).unwrap();
        assert_eq!((r.from, r.to), (3 * DAY_MS, 10 * DAY_MS));
        assert_eq!(day(DAY_MS + 5), "1970-01-02");
    }
}
