//! The KPIs of conversations closed in a range, per operator and in total: how many,
//! median and mean time to first reply and to close, messages per conversation, how many
//! were reopened. Each operator's rows are read from one index range of
//! `conversation_stats`; medians are exact (the values are sorted here).

use serde::Serialize;

use super::{Filter, seconds};
use crate::clock::rfc3339;
use crate::error::Result;
use crate::store::{Db, StoreError, Value};

/// The figures of one operator, or of everyone.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
// Fields in alphabetical order: the report was a `json!` map, which wrote them so.
pub struct Figures {
    /// Those an operator replied to.
    pub answered: i64,
    pub close_mean_seconds: Option<f64>,
    pub close_median_seconds: Option<f64>,
    /// Conversations closed in the range.
    pub conversations: i64,
    pub first_reply_mean_seconds: Option<f64>,
    pub first_reply_median_seconds: Option<f64>,
    /// Messages in those conversations, in and out (notes not counted).
    pub messages: i64,
    pub messages_per_conversation: Option<f64>,
    /// Conversations opened by the contact writing to a closed chat.
    pub reopened: i64,
}

// Fields in alphabetical order, as the `json!` map that wrote it before it was typed.
/// The conversation report: figures per operator and in total.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = ConversationReport)]
pub struct Report {
    pub channel_id: Option<i64>,
    pub from: String,
    pub operators: Vec<OperatorFigures>,
    pub to: String,
    pub total: Figures,
}

/// One operator's figures; `operator` is null for conversations closed while unassigned.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OperatorFigures {
    #[serde(flatten)]
    pub figures: Figures,
    pub operator: Option<super::status::OperatorRef>,
}

/// The raw values of one group, before medians.
#[derive(Debug, Default)]
struct Group {
    conversations: i64,
    messages: i64,
    reopened: i64,
    first_reply_ms: Vec<i64>,
    close_ms: Vec<i64>,
}

impl Group {
    fn add(&mut self, other: &Group) {
        self.conversations += other.conversations;
        self.messages += other.messages;
        self.reopened += other.reopened;
        self.first_reply_ms.extend_from_slice(&other.first_reply_ms);
        self.close_ms.extend_from_slice(&other.close_ms);
    }

    fn figures(mut self) -> Figures {
        let n = self.conversations;
        Figures {
            conversations: n,
            answered: self.first_reply_ms.len() as i64,
            first_reply_median_seconds: median(&mut self.first_reply_ms).map(seconds),
            first_reply_mean_seconds: mean(&self.first_reply_ms).map(seconds),
            close_median_seconds: median(&mut self.close_ms).map(seconds),
            close_mean_seconds: mean(&self.close_ms).map(seconds),
            messages: self.messages,
            messages_per_conversation: (n > 0).then(|| (self.messages as f64 / n as f64 * 100.0).round() / 100.0),
            reopened: self.reopened,
        }
    }
}

/// The middle value, or the mean of the two middle values; None for no values.
pub fn median(values: &mut [i64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 { values[mid] as f64 } else { (values[mid - 1] as f64 + values[mid] as f64) / 2.0 })
}

pub fn mean(values: &[i64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().map(|v| *v as f64).sum::<f64>() / values.len() as f64)
}

/// One operator's conversations (`None`: closed while unassigned).
fn group(db: &mut Db, operator: Option<i64>, f: &Filter) -> Result<Group> {
    let mut args: Vec<Value> = vec![f.range.from.into(), f.range.to.into()];
    let mut sql = String::from(
        "SELECT COUNT(*) AS conversations, CAST(COALESCE(SUM(messages_in + messages_out), 0) AS BIGINT) AS messages, \
         CAST(COALESCE(SUM(reopened), 0) AS BIGINT) AS reopened, \
         string_agg(CAST(first_reply_ms AS TEXT), ',') AS first_reply_ms, \
         string_agg(CAST(close_ms AS TEXT), ',') AS close_ms FROM conversation_stats WHERE ",
    );
    match operator {
        Some(id) => {
            args.push(id.into());
            sql.push_str("operator_id = $3");
        }
        None => sql.push_str("operator_id IS NULL"),
    }
    sql.push_str(" AND closed_at >= $1 AND closed_at < $2");
    if let Some(channel) = f.channel_id {
        args.push(channel.into());
        sql.push_str(&format!(" AND channel_id = ${}", args.len()));
    }
    let r = db.query_one(&sql, &args)?;
    // string_agg over no rows (or only NULLs: never answered) is NULL: an empty list.
    let list = |name: &str| -> Result<Vec<i64>> {
        let Some(s) = r.get::<Option<String>>(name)? else {
            return Ok(Vec::new());
        };
        s.split(',')
            .map(|v| v.parse().map_err(|e| StoreError::Decode(format!("column `{name}`: {v:?}: {e}")).into()))
            .collect()
    };
    Ok(Group {
        conversations: r.get("conversations")?,
        messages: r.get("messages")?,
        reopened: r.get("reopened")?,
        first_reply_ms: list("first_reply_ms")?,
        close_ms: list("close_ms")?,
    })
}

/// The report. With `f.operator_id` only that operator's figures (and total) are
/// computed.
pub fn report(db: &mut Db, f: &Filter) -> Result<Report> {
    let operators: Vec<(i64, String)> = match f.operator_id {
        Some(id) => db.query("SELECT id, name FROM operators WHERE id = $1", &[id.into()])?,
        None => db.query("SELECT id, name FROM operators ORDER BY name, id", &[])?,
    }
    .iter()
    .map(|r| Ok((r.get("id")?, r.get("name")?)))
    .collect::<Result<_>>()?;
    let mut total = Group::default();
    let mut rows = Vec::new();
    for (id, name) in operators {
        let g = group(db, Some(id), f)?;
        total.add(&g);
        rows.push(OperatorFigures { operator: Some(super::status::OperatorRef { id, name }), figures: g.figures() });
    }
    if f.operator_id.is_none() {
        let g = group(db, None, f)?;
        if g.conversations > 0 {
            total.add(&g);
            rows.push(OperatorFigures { operator: None, figures: g.figures() });
        }
    }
    Ok(Report {
        from: rfc3339(f.range.from),
        to: rfc3339(f.range.to),
        channel_id: f.channel_id,
        total: total.figures(),
        operators: rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_take_the_middle_or_the_mean_of_the_two_middles() {
        assert_eq!(median(&mut [5, 1, 3]), Some(3.0));
        assert_eq!(median(&mut [4, 1, 3, 2]), Some(2.5));
        assert_eq!(median(&mut []), None);
        assert_eq!(mean(&[1, 2]), Some(1.5));
    }
}
