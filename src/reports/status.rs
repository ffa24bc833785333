//! Time in status: per operator and UTC day, how long they were Online, Away and
//! Offline, from the status log. Time before an operator's first log entry (before
//! they existed) and after now is not counted.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{DAY_MS, Range, day, seconds};
use crate::clock::rfc3339;
use crate::error::{Error, Result};
use crate::model::Status;
use crate::params;
use crate::store::Db;

/// Longest range the report covers, in days.
pub const MAX_DAYS: i64 = 400;

#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Times {
    pub online_seconds: f64,
    pub away_seconds: f64,
    pub offline_seconds: f64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DayTimes {
    /// `2026-11-28` (UTC).
    pub day: String,
    #[serde(flatten)]
    pub times: Times,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OperatorTimes {
    pub operator: OperatorRef,
    pub days: Vec<DayTimes>,
    pub total: Times,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OperatorRef {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatusReport {
    pub from: String,
    pub to: String,
    /// Every UTC day the range touches, up to now.
    pub days: Vec<String>,
    pub operators: Vec<OperatorTimes>,
}

/// Milliseconds per status, indexed online, away, offline.
type Ms = [i64; 3];

fn slot(status: Status) -> usize {
    match status {
        Status::Online => 0,
        Status::Away => 1,
        Status::Offline => 2,
    }
}

/// Adds `[start, stop)` in `status` to the days it spans.
fn spread(per_day: &mut BTreeMap<i64, Ms>, status: usize, mut start: i64, stop: i64) {
    while start < stop {
        let day_start = start.div_euclid(DAY_MS) * DAY_MS;
        let end = stop.min(day_start + DAY_MS);
        per_day.entry(day_start).or_default()[status] += end - start;
        start = end;
    }
}

fn times(ms: &Ms) -> Times {
    Times {
        online_seconds: seconds(ms[0] as f64),
        away_seconds: seconds(ms[1] as f64),
        offline_seconds: seconds(ms[2] as f64),
    }
}

/// The report for every operator, or only `operator_id`.
pub fn report(db: &mut Db, range: Range, operator_id: Option<i64>, now: i64) -> Result<StatusReport> {
    if range.to - range.from > MAX_DAYS * DAY_MS {
        return Err(Error::Invalid(format!("the time-in-status report covers at most {MAX_DAYS} days")));
    }
    let end = range.to.min(now).max(range.from);
    let mut days = Vec::new();
    let mut d = range.from.div_euclid(DAY_MS) * DAY_MS;
    while d < end {
        days.push(d);
        d += DAY_MS;
    }
    let operators = match operator_id {
        Some(id) => db.query("SELECT id, name FROM operators WHERE id = $1", params![id])?,
        None => db.query("SELECT id, name FROM operators ORDER BY name, id", &[])?,
    };
    let mut out = Vec::new();
    for op in operators {
        let id: i64 = op.get("id")?;
        let before = db.query_opt(
            "SELECT status, at FROM operator_status_log WHERE operator_id = $1 AND at <= $2 ORDER BY at DESC, id DESC LIMIT 1",
            params![id, range.from],
        )?;
        let changes = db.query(
            "SELECT status, at FROM operator_status_log WHERE operator_id = $1 AND at > $2 AND at < $3 ORDER BY at, id",
            params![id, range.from, end],
        )?;
        let mut per_day: BTreeMap<i64, Ms> = BTreeMap::new();
        // No change before the range: the operator's time before the first change is not counted.
        let mut current = match before {
            Some(r) => Some((slot(r.get("status")?), range.from)),
            None => None,
        };
        for c in &changes {
            let at: i64 = c.get("at")?;
            if let Some((status, since)) = current {
                spread(&mut per_day, status, since, at);
            }
            current = Some((slot(c.get("status")?), at));
        }
        if let Some((status, since)) = current {
            spread(&mut per_day, status, since, end);
        }
        let mut total: Ms = [0; 3];
        let days_out = days
            .iter()
            .map(|d| {
                let ms = per_day.get(d).copied().unwrap_or_default();
                (0..3).for_each(|i| total[i] += ms[i]);
                DayTimes { day: day(*d), times: times(&ms) }
            })
            .collect();
        out.push(OperatorTimes {
            operator: OperatorRef { id, name: op.get("name")? },
            days: days_out,
            total: times(&total),
        });
    }
    Ok(StatusReport {
        from: rfc3339(range.from),
        to: rfc3339(range.to),
        days: days.iter().map(|d| day(*d)).collect(),
        operators: out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interval_is_split_at_midnight_utc() {
        let mut per_day = BTreeMap::new();
        spread(&mut per_day, 0, DAY_MS - 1000, DAY_MS + 500);
        assert_eq!(per_day[&0][0], 1000);
        assert_eq!(per_day[&DAY_MS][0], 500);
    }
}
