//! A broadcast's recipients, a page at a time: as JSON for the console's table, or as
//! CSV (one row per recipient), streamed page by page so any size is written in
//! constant memory.

use serde::Serialize;

use crate::error::Result;
use crate::inbox::views::display_name;
use crate::model::{RecipientState, Time};
use crate::params;
use crate::reports::csv::Csv;
use crate::store::{Db, Row};

/// One recipient as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Recipient {
    pub channel_id: Option<i64>,
    pub chat_id: Option<i64>,
    pub contact_id: i64,
    pub contact_name: String,
    /// Its id on the platform.
    pub external_id: Option<String>,
    pub id: i64,
    pub message_id: Option<i64>,
    pub reason: Option<String>,
    pub state: RecipientState,
    pub updated_at: Time,
}

/// A page of recipients; ask for the next with `after` = `next`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Page {
    pub next: Option<i64>,
    pub recipients: Vec<Recipient>,
}

/// Recipients of `broadcast_id` (in `state`, if given) with ids above `after`.
pub fn page(db: &mut Db, broadcast_id: i64, state: Option<RecipientState>, after: i64, limit: i64) -> Result<Page> {
    super::state(db, broadcast_id)?;
    let limit = limit.clamp(1, 5_000);
    let mut args = params![broadcast_id, after, limit + 1].to_vec();
    let state_filter = match state {
        Some(s) => {
            args.push(s.into());
            "AND r.state = $4"
        }
        None => "",
    };
    let rows = db.query(
        &format!(
            "SELECT r.id, r.contact_id, r.channel_id, r.message_id, r.state, r.reason, r.updated_at, i.external_id, \
             c.id AS chat_id, ct.first_name, ct.last_name, ct.username, ct.phone, ct.email \
             FROM broadcast_recipients r JOIN contacts ct ON ct.id = r.contact_id \
             LEFT JOIN identities i ON i.id = r.identity_id LEFT JOIN chats c ON c.contact_id = r.contact_id \
             WHERE r.broadcast_id = $1 AND r.id > $2 {state_filter} ORDER BY r.id LIMIT $3"
        ),
        &args,
    )?;
    let more = rows.len() as i64 > limit;
    let recipients = rows.iter().take(limit as usize).map(recipient).collect::<Result<Vec<_>>>()?;
    let next = if more { recipients.last().map(|r| r.id) } else { None };
    Ok(Page { next, recipients })
}

fn recipient(r: &Row) -> Result<Recipient> {
    let contact_id: i64 = r.get("contact_id")?;
    let text = |name: &str| r.get::<Option<String>>(name);
    Ok(Recipient {
        channel_id: r.get("channel_id")?,
        chat_id: r.get("chat_id")?,
        contact_id,
        contact_name: display_name(
            contact_id,
            text("first_name")?.as_deref(),
            text("last_name")?.as_deref(),
            text("username")?.as_deref(),
            text("phone")?.as_deref(),
            text("email")?.as_deref(),
        ),
        external_id: r.get("external_id")?,
        id: r.get("id")?,
        message_id: r.get("message_id")?,
        reason: r.get("reason")?,
        state: r.get("state")?,
        updated_at: Time(r.get("updated_at")?),
    })
}

pub fn csv_header() -> String {
    let mut c = Csv::default();
    c.header(&[
        "contact_id",
        "contact_name",
        "channel_id",
        "external_id",
        "state",
        "reason",
        "message_id",
        "updated_at",
    ]);
    c.out
}

/// The page's rows as CSV.
pub fn csv_rows(page: &Page) -> String {
    let mut c = Csv::default();
    for r in &page.recipients {
        c.num(Some(r.contact_id)).text(&r.contact_name).num(r.channel_id);
        c.text(r.external_id.as_deref().unwrap_or_default()).field(r.state.as_str());
        c.text(r.reason.as_deref().unwrap_or_default()).num(r.message_id);
        c.field(&crate::clock::rfc3339(r.updated_at.0));
        c.end();
    }
    c.out
}
