//! Full-text search over every message ever stored: SQLite FTS5 or PostgreSQL tsvector.

use serde::Serialize;

use super::Viewer;
use super::views::{self, MESSAGE_SELECT, placeholders};
use crate::error::Result;
use crate::model::Message;
use crate::params;
use crate::store::{Backend, Db, Value, column};

/// A message found, with the name of its chat's contact.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Found {
    pub contact_name: String,
    #[serde(flatten)]
    pub message: Message,
}

#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct Hits {
    pub messages: Vec<Found>,
}

/// The words of a query, stripped of every character either engine gives a meaning to.
fn words(q: &str) -> Vec<String> {
    q.split_whitespace()
        .map(|w| w.chars().filter(|c| c.is_alphanumeric() || *c == '_' || *c == '@' || *c == '.').collect::<String>())
        .map(|w| w.trim_matches('.').to_owned())
        .filter(|w| !w.is_empty())
        .take(12)
        .collect()
}

/// Messages (and notes) containing every word of `q`, each word matched as a prefix.
pub fn messages(db: &mut Db, viewer: &Viewer, q: &str, limit: i64) -> Result<Hits> {
    let words = words(q);
    if words.is_empty() {
        return Ok(Hits::default());
    }
    let own = if viewer.sees_own_only() {
        " AND (c.assignee_id IS NULL OR c.assignee_id = $3)"
    } else {
        " AND CAST($3 AS BIGINT) IS NOT NULL"
    };
    let sql = match db.backend() {
        Backend::Sqlite => format!(
            "SELECT m.id FROM messages_fts f JOIN messages m ON m.id = f.rowid JOIN chats c ON c.id = m.chat_id \
             WHERE messages_fts MATCH $1 AND c.status <> 'merged'{own} ORDER BY m.id DESC LIMIT $2"
        ),
        Backend::Postgres => format!(
            "SELECT m.id FROM messages m JOIN chats c ON c.id = m.chat_id \
             WHERE m.text_tsv @@ to_tsquery('simple', $1) AND c.status <> 'merged'{own} ORDER BY m.id DESC LIMIT $2"
        ),
    };
    let query = match db.backend() {
        Backend::Sqlite => words.iter().map(|w| format!("\"{w}\"*")).collect::<Vec<_>>().join(" "),
        Backend::Postgres => words.iter().map(|w| format!("'{w}':*")).collect::<Vec<_>>().join(" & "),
    };
    let found = db.query(&sql, params![query, limit.clamp(1, 200), viewer.operator_id])?;
    let ids: Vec<Value> = column::<i64>(&found, "id")?.into_iter().map(Value::Int).collect();
    if ids.is_empty() {
        return Ok(Hits::default());
    }
    let rows =
        db.query(&format!("{MESSAGE_SELECT} WHERE m.id IN ({}) ORDER BY m.id DESC", placeholders(1, ids.len())), &ids)?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let message = views::message_from(r)?;
        let name = db.query_one(
            "SELECT ct.id, ct.first_name, ct.last_name, ct.username, ct.phone, ct.email FROM chats c \
             JOIN contacts ct ON ct.id = c.contact_id WHERE c.id = $1",
            params![message.chat_id],
        )?;
        let contact_name = views::NameFields::from_row(&name)?.display(name.get("id")?);
        out.push(Found { contact_name, message });
    }
    Ok(Hits { messages: out })
}

#[cfg(test)]
mod tests {
    #[test]
    fn query_syntax_is_stripped() {
        assert_eq!(super::words("\"order\" AND (42)* -x:"), ["order", "AND", "42", "x"]);
    }
}
