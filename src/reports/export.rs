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
         ct.email, s.channel_id, ch.name AS channel, s.operator_id, s.operators, s.transfers, s.reopened, \
         s.opened_at, s.first_reply_at, s.closed_at, s.first_reply_ms, s.close_ms, s.messages_in, s.messages_out, \
         s.notes, s.closed_by FROM conversation_stats s LEFT JOIN contacts ct ON ct.id = s.contact_id \
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
    let names: HashMap<i64, String> = db
        .query("SELECT id, name FROM operators", &[])?
        .iter()
        .map(|r| Ok((r.get("id")?, r.get("name")?)))
        .collect::<Result<_>>()?;
    let name = |id: Option<i64>| id.map(|id| names.get(&id).cloned().unwrap_or_else(|| format!("#{id}")));
    let mut c = Csv::default();
    for r in &rows {
        let contact_id: i64 = r.get("contact_id")?;
        // Contact fields are optional (NULL when unknown): display_name picks what is there.
        let field = |name| r.get::<Option<String>>(name);
        let (first, last, username) = (field("first_name")?, field("last_name")?, field("username")?);
        let (phone, email) = (field("phone")?, field("email")?);
        let contact = display_name(
            contact_id,
            first.as_deref(),
            last.as_deref(),
            username.as_deref(),
            phone.as_deref(),
            email.as_deref(),
        );
        let involved: Vec<i64> = r.get_json("operators")?;
        let involved: Vec<String> = involved.into_iter().filter_map(|id| name(Some(id))).collect();
        let (messages_in, messages_out): (i64, i64) = (r.get("messages_in")?, r.get("messages_out")?);
        let operator_id: Option<i64> = r.get("operator_id")?;
        // A conversation without a channel (or whose channel is gone) has an empty channel name.
        let channel: Option<String> = r.get("channel")?;
        let first_reply_at: Option<i64> = r.get("first_reply_at")?;
        let first_reply_ms: Option<i64> = r.get("first_reply_ms")?;
        c.num(Some(r.get::<i64>("conversation_id")?)).num(Some(r.get::<i64>("chat_id")?));
        c.num(Some(contact_id)).text(&contact);
        c.num(r.get::<Option<i64>>("channel_id")?).text(channel.as_deref().unwrap_or(""));
        c.num(operator_id).text(&name(operator_id).unwrap_or_default()).text(&involved.join("; "));
        c.num(Some(r.get::<i64>("transfers")?)).num(Some(r.get::<i64>("reopened")?));
        c.field(&rfc3339(r.get("opened_at")?));
        c.field(&first_reply_at.map(rfc3339).unwrap_or_default()).field(&rfc3339(r.get("closed_at")?));
        c.num(first_reply_ms.map(|ms| seconds(ms as f64))).num(Some(seconds(r.get::<i64>("close_ms")? as f64)));
        c.num(Some(messages_in)).num(Some(messages_out)).num(Some(messages_in + messages_out));
        c.num(Some(r.get::<i64>("notes")?)).num(r.get::<Option<i64>>("closed_by")?);
        c.end();
    }
    let next = match rows.last() {
        Some(r) if rows.len() as i64 == limit => Some((r.get("closed_at")?, r.get("conversation_id")?)),
        _ => None,
    };
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
