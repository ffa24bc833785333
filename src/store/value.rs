//! The few SQL values Parley stores, the same on SQLite and PostgreSQL.
//!
//! Times are integer milliseconds since the Unix epoch, JSON is text, flags are
//! integers: that keeps one SQL text valid on both databases.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::StoreError;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Value::Int(v.into())
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Int(v.into())
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Real(v)
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_owned())
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(v.clone())
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// The names of a query's result columns, resolved once per statement and shared by
/// its rows. One buffer for all names: a query costs two allocations here, whatever
/// its width.
#[derive(Debug, Default)]
pub struct Columns {
    names: String,
    /// Where each name ends in `names`.
    ends: Vec<usize>,
    /// Debug builds (the tests) mark names the query has twice (`c.id, ct.id`), so that
    /// reading one by name fails instead of picking either.
    twice: Vec<bool>,
}

impl Columns {
    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        let mut c = Columns::default();
        for name in names {
            c.names.push_str(name);
            c.ends.push(c.names.len());
        }
        if cfg!(debug_assertions) {
            let n = c.ends.len();
            c.twice = (0..n).map(|i| (0..n).any(|j| j != i && c.name(j) == c.name(i))).collect();
        }
        c
    }

    fn name(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.names[start..self.ends[i]]
    }

    fn position(&self, name: &str, from: usize) -> Option<usize> {
        let n = self.ends.len();
        (0..n).map(|k| (from + k) % n).find(|&i| self.name(i) == name)
    }
}

/// One result row. Columns are read by name only ([`Row::get`]): an ad-hoc column gets
/// an alias (`COUNT(*) AS n`), so a reordered SELECT cannot silently shift what is read.
#[derive(Debug)]
pub struct Row {
    values: Vec<Value>,
    columns: Arc<Columns>,
    /// Where the last lookup by name found its column: rows are mostly read in SELECT
    /// order, so the next name is usually the next column and a lookup costs one
    /// comparison, with no hashing per row.
    cursor: AtomicUsize,
}

impl Clone for Row {
    fn clone(&self) -> Self {
        Self { values: self.values.clone(), columns: self.columns.clone(), cursor: AtomicUsize::new(0) }
    }
}

impl Row {
    pub(crate) fn new(values: Vec<Value>, columns: Arc<Columns>) -> Self {
        Self { values, columns, cursor: AtomicUsize::new(0) }
    }

    fn at(&self, i: usize) -> &Value {
        self.values.get(i).unwrap_or(&Value::Null)
    }

    /// The column `name`, decoded; NULL only where `T` is an `Option`, and a stored
    /// state that is not one of its enum's values is an error naming the column.
    pub fn get<T: FromValue>(&self, name: &str) -> Result<T, StoreError> {
        let from = self.cursor.load(Ordering::Relaxed);
        let i = self
            .columns
            .position(name, from)
            .ok_or_else(|| StoreError::Decode(format!("the query has no column `{name}`")))?;
        if self.columns.twice.get(i) == Some(&true) {
            return Err(StoreError::Decode(format!("the query has two columns named `{name}`: alias one")));
        }
        self.cursor.store(i + 1, Ordering::Relaxed);
        T::from_value(self.at(i)).map_err(|why| StoreError::Decode(format!("column `{name}`: {why}")))
    }

    /// A JSON column by name; NULL reads as JSON `null`.
    pub fn get_json<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<T, StoreError> {
        match self.get::<Option<String>>(name)? {
            Some(text) => serde_json::from_str(&text).map_err(|e| StoreError::Decode(format!("column `{name}`: {e}"))),
            None => serde_json::from_str("null").map_err(|e| StoreError::Decode(format!("column `{name}`: {e}"))),
        }
    }
}

/// One column of every row, in order: the ids a query found, say.
pub fn column<T: FromValue>(rows: &[Row], name: &str) -> Result<Vec<T>, StoreError> {
    rows.iter().map(|r| r.get(name)).collect()
}

/// A Rust value read from one column. NULL is an error unless `Self` is an `Option`.
pub trait FromValue: Sized {
    fn from_value(v: &Value) -> Result<Self, String>;
}

fn null_or_type(v: &Value, wanted: &str) -> String {
    match v {
        Value::Null => "is NULL".into(),
        other => format!("{other:?} is not {wanted}"),
    }
}

impl FromValue for i64 {
    fn from_value(v: &Value) -> Result<Self, String> {
        match v {
            Value::Int(i) => Ok(*i),
            other => Err(null_or_type(other, "an integer")),
        }
    }
}

impl FromValue for f64 {
    fn from_value(v: &Value) -> Result<Self, String> {
        match v {
            Value::Real(f) => Ok(*f),
            Value::Int(i) => Ok(*i as f64),
            other => Err(null_or_type(other, "a number")),
        }
    }
}

/// Flags are stored as integers (0/1) on both databases.
impl FromValue for bool {
    fn from_value(v: &Value) -> Result<Self, String> {
        match v {
            Value::Int(i) => Ok(*i != 0),
            other => Err(null_or_type(other, "a flag")),
        }
    }
}

impl FromValue for String {
    fn from_value(v: &Value) -> Result<Self, String> {
        match v {
            Value::Text(s) => Ok(s.clone()),
            other => Err(null_or_type(other, "text")),
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: &Value) -> Result<Self, String> {
        match v {
            Value::Null => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}

/// Builds a parameter list: `params![a, b, c]`.
#[macro_export]
macro_rules! params {
    ($($v:expr),* $(,)?) => { &[$($crate::store::Value::from($v)),*][..] };
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::{Columns, Row, Value};

    fn row(names: &[&str], values: Vec<Value>) -> Row {
        Row::new(values, Arc::new(Columns::new(names.iter().copied())))
    }

    #[test]
    fn columns_are_read_by_name_in_any_order() {
        let r = row(&["id", "name", "note"], vec![Value::Int(7), Value::Text("Ada".into()), Value::Null]);
        assert_eq!(r.get::<String>("name").unwrap(), "Ada");
        assert_eq!(r.get::<i64>("id").unwrap(), 7);
        assert_eq!(r.get::<Option<String>>("note").unwrap(), None);
        assert_eq!(r.get::<Option<i64>>("id").unwrap(), Some(7));
    }

    #[test]
    fn null_missing_mistyped_and_ambiguous_columns_are_errors() {
        let r = row(&["id", "note", "id"], vec![Value::Int(7), Value::Null, Value::Int(8)]);
        let err = |e: crate::store::StoreError| e.to_string();
        assert_eq!(err(r.get::<String>("note").unwrap_err()), "cannot read stored value: column `note`: is NULL");
        assert_eq!(err(r.get::<i64>("note").unwrap_err()), "cannot read stored value: column `note`: is NULL");
        assert!(err(r.get::<i64>("nope").unwrap_err()).contains("no column `nope`"));
        assert!(err(r.get::<i64>("id").unwrap_err()).contains("two columns named `id`"));
        let r = row(&["n"], vec![Value::Text("x".into())]);
        assert!(r.get::<i64>("n").is_err(), "text is not read as a number");
        // PostgreSQL's SUM of BIGINT is NUMERIC, which arrives as text: it must be cast, not guessed.
        let r = row(&["total"], vec![Value::Text("12".into())]);
        assert!(err(r.get::<i64>("total").unwrap_err()).contains("column `total`"));
    }

    #[test]
    fn json_columns_decode_by_name_and_null_only_into_an_option() {
        let r =
            row(&["tags", "none", "bad"], vec![Value::Text("[\"a\"]".into()), Value::Null, Value::Text("[".into())]);
        assert_eq!(r.get_json::<Vec<String>>("tags").unwrap(), ["a"]);
        assert_eq!(r.get_json::<Option<Vec<String>>>("none").unwrap(), None);
        let err = |e: crate::store::StoreError| e.to_string();
        assert!(err(r.get_json::<Vec<String>>("none").unwrap_err()).contains("column `none`"), "NULL is not []");
        assert!(err(r.get_json::<Vec<String>>("bad").unwrap_err()).contains("column `bad`"));
        assert!(err(r.get_json::<Vec<String>>("nope").unwrap_err()).contains("no column `nope`"));
    }

    #[test]
    fn a_column_of_rows_reads_every_row_and_refuses_null() {
        let cols = Arc::new(Columns::new(["id"]));
        let rows: Vec<Row> =
            [Value::Int(3), Value::Int(5)].into_iter().map(|v| Row::new(vec![v], cols.clone())).collect();
        assert_eq!(super::column::<i64>(&rows, "id").unwrap(), [3, 5]);
        let with_null = vec![Row::new(vec![Value::Int(3)], cols.clone()), Row::new(vec![Value::Null], cols)];
        assert!(super::column::<i64>(&with_null, "id").is_err(), "a NULL id is not read as 0");
        assert_eq!(super::column::<Option<i64>>(&with_null, "id").unwrap(), [Some(3), None]);
    }
}
