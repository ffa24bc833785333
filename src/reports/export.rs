//! CSV: the conversation-grain export (one row per closed conversation, read page by
//! page so any range streams in constant memory) and the time-in-status table.

use std::collections::HashMap;

use super::csv::Csv;
use super::status::StatusReport;
use super::{Filter, seconds};
use crate::clock::rfc3339;
use crate::error::Result;
use crate::inbox::views::display_name;
use crate::store::{Db, Value};

pub const CONVERSATION_COLUMNS: &[&str] = &[
    "conversation_id",
    "chat_id",
    "contact_id",
    "contact",
    "channel_id",
    "channel",
    "operator_id",
    "operator",
    "operators_involved",
    "transfers",
    "reopened",
    "opened_at",
    "first_reply_at",
    "closed_at",
    "first_reply_seconds",
    "close_seconds",
    "messages_in",
    "messages_out",
    "messages",
    "notes",
    "closed_by_id",
];

pub const STATUS_COLUMNS: &[&str] =
    &["operator_id", "operator", "day", "online_seconds", "away_seconds", "offline_seconds"];

/// Where the next page starts: after (closed_at, conversation_id).
pub type Cursor = (i64, i64);

/// The cursor before the first row of the range.
pub fn start(f: &Filter) -> Cursor {
    (f.range.from - 1, i64::MAX)
}

/// The CSV header line.
pub fn conversation_header() -> String {
    let mut c = Csv::default();
    c.header(CONVERSATION_COLUMNS);
    c.out
}

/// Up to `limit` rows after `after`, as CSV lines, and the cursor after them (None at the end).
pub fn page(db: &mut Db, f: &Filter, after: Cursor, limit: i64) -> Result<(String, Option<Cursor>)> {
    let mut args: Vec<Value> = vec![after.0.into(), after.1.into(), f.range.to.into()];
    let mut sql = String::from(
        "SELECT s.conversation_id, s.chat_id, s.contact_id, ct.first_name, ct.last_name, ct.username, ct.phone, \
         ct.email, s.channel_id, ch.name, s.operator_id, s.operators, s.transfers, s.reopened, s.opened_at, \
         s.first_reply_at, s.closed_at, s.first_reply_ms, s.close_ms, s.messages_in, s.messages_out, s.notes, \
         s.closed_by FROM conversation_stats s LEFT JOIN contacts ct ON ct.id = s.contact_id \
         LEFT JOIN channels ch ON ch.id = s.channel_id \
         WHERE (s.closed_at, s.conversation_id) > ($1, $2) AND s.closed_at < $3",
    );
    for (column, value) in [("s.channel_id", f.channel_id), ("s.operator_id", f.operator_id)] {
        if let Some(v) = value {
            args.push(v.into());
            sql.push_str(&format!(" AND {column} = ${}", args.len()));
        }
    }
    args.push(limit.into());
    sql.push_str(&format!(" ORDER BY s.closed_at, s.conversation_id LIMIT ${}", args.len()));
    let rows = db.query(&sql, &args)?;
    let names: HashMap<i64, String> =
        db.query("SELECT id, name FROM operators", &[])?.iter().map(|r| (r.i64(0), r.str(1))).collect();
    let name = |id: Option<i64>| id.map(|id| names.get(&id).cloned().unwrap_or_else(|| format!("#{id}")));
    let mut c = Csv::default();
    for r in &rows {
        let contact_id = r.i64(2);
        let field = |i| r.opt_str(i);
        let (first, last, username, phone, email) = (field(3), field(4), field(5), field(6), field(7));
        let contact = display_name(
            contact_id,
            first.as_deref(),
            last.as_deref(),
            username.as_deref(),
            phone.as_deref(),
            email.as_deref(),
        );
        let involved: Vec<i64> = r.json(11).unwrap_or_default();
        let involved: Vec<String> = involved.into_iter().filter_map(|id| name(Some(id))).collect();
        let (messages_in, messages_out) = (r.i64(19), r.i64(20));
        c.num(Some(r.i64(0))).num(Some(r.i64(1))).num(Some(contact_id)).text(&contact);
        c.num(r.opt_i64(8)).text(&r.opt_str(9).unwrap_or_default());
        c.num(r.opt_i64(10)).text(&name(r.opt_i64(10)).unwrap_or_default()).text(&involved.join("; "));
        c.num(Some(r.i64(12))).num(Some(r.i64(13)));
        c.field(&rfc3339(r.i64(14))).field(&r.opt_i64(15).map(rfc3339).unwrap_or_default()).field(&rfc3339(r.i64(16)));
        c.num(r.opt_i64(17).map(|ms| seconds(ms as f64))).num(Some(seconds(r.i64(18) as f64)));
        c.num(Some(messages_in)).num(Some(messages_out)).num(Some(messages_in + messages_out)).num(Some(r.i64(21)));
        c.num(r.opt_i64(22));
        c.end();
    }
    let next = (rows.len() as i64 == limit).then(|| rows.last().map(|r| (r.i64(16), r.i64(0)))).flatten();
    Ok((c.out, next))
}

/// The time-in-status report as CSV: one row per operator and day.
pub fn status_csv(report: &StatusReport) -> String {
    let mut c = Csv::default();
    c.header(STATUS_COLUMNS);
    for op in &report.operators {
        for d in &op.days {
            c.num(Some(op.operator.id)).text(&op.operator.name).field(&d.day);
            c.num(Some(d.times.online_seconds)).num(Some(d.times.away_seconds)).num(Some(d.times.offline_seconds));
            c.end();
        }
    }
    c.out
}
