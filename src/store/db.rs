//! One database connection in use, whichever the backend: the only place that
//! touches rusqlite or postgres directly. Domain code writes SQL once with `$1`
//! placeholders; SQLite gets them as `?1`.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use super::events::EventRow;
use super::value::Columns;
use super::{Backend, Row, StoreError, Value};

/// A PostgreSQL client with its prepared statements, kept per connection.
pub struct PgConn {
    pub client: postgres::Client,
    statements: HashMap<String, (postgres::Statement, Arc<Columns>)>,
}

impl PgConn {
    pub fn new(client: postgres::Client) -> Self {
        Self { client, statements: HashMap::new() }
    }

    /// The prepared statement and the names of its result columns.
    fn statement(&mut self, sql: &str) -> Result<(postgres::Statement, Arc<Columns>), StoreError> {
        if let Some(st) = self.statements.get(sql) {
            return Ok(st.clone());
        }
        let st =
            self.client.prepare(sql).map_err(|e| StoreError::Postgres(format!("{} in: {sql}", StoreError::from(e))))?;
        let columns = Arc::new(Columns::new(st.columns().iter().map(|c| c.name())));
        self.statements.insert(sql.to_owned(), (st.clone(), columns.clone()));
        Ok((st, columns))
    }

    /// Runs a prepared query with parameters only PostgreSQL has (arrays).
    pub fn query(
        &mut self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Vec<postgres::Row>, StoreError> {
        let (st, _) = self.statement(sql)?;
        Ok(self.client.query(&st, params)?)
    }
}

pub(crate) enum Conn<'c> {
    Sqlite(&'c rusqlite::Connection),
    Pg(&'c mut PgConn),
}

/// A connection lent to a read or write job. Inside [`crate::store::Store::write`] it is in a
/// transaction that commits after the job (and the jobs batched with it) returned.
pub struct Db<'c> {
    pub(crate) conn: Conn<'c>,
    /// Events appended in the current transaction, published after it commits.
    pub(crate) appended: Vec<EventRow>,
    /// Workers to wake once the transaction commits.
    pub(crate) wakes: super::wake::Pending,
}

impl<'c> Db<'c> {
    pub(crate) fn new(conn: Conn<'c>) -> Self {
        Self { conn, appended: Vec::new(), wakes: Default::default() }
    }

    /// The PostgreSQL connection, for what only it has (arrays of parameters).
    pub(crate) fn pg(&mut self) -> Option<&mut PgConn> {
        match &mut self.conn {
            Conn::Pg(pg) => Some(pg),
            Conn::Sqlite(_) => None,
        }
    }

    /// Wakes `worker` after this transaction commits: whoever queues work for it need
    /// not remember to, and it never looks before the work is visible.
    pub fn wake(&mut self, worker: super::Wake) {
        self.wakes.add(worker);
    }

    pub fn backend(&self) -> Backend {
        match self.conn {
            Conn::Sqlite(_) => Backend::Sqlite,
            Conn::Pg(_) => Backend::Postgres,
        }
    }

    /// Runs a statement; returns the number of rows it changed.
    pub fn exec(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        match &mut self.conn {
            Conn::Sqlite(c) => {
                let mut st = c.prepare_cached(&sqlite_sql(sql))?;
                Ok(st.execute(rusqlite::params_from_iter(params.iter()))? as u64)
            }
            Conn::Pg(pg) => {
                let (st, _) = pg.statement(sql)?;
                Ok(pg.client.execute(&st, &pg_params(params))?)
            }
        }
    }

    /// Runs a query and returns all its rows.
    pub fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        match &mut self.conn {
            Conn::Sqlite(c) => {
                let mut st = c.prepare_cached(&sqlite_sql(sql))?;
                let n = st.column_count();
                let columns = Arc::new(Columns::new(st.column_names()));
                let mut rows = st.query(rusqlite::params_from_iter(params.iter()))?;
                let mut out = Vec::new();
                while let Some(r) = rows.next()? {
                    let mut vals = Vec::with_capacity(n);
                    for i in 0..n {
                        vals.push(r.get::<_, Value>(i)?);
                    }
                    out.push(Row::new(vals, columns.clone()));
                }
                Ok(out)
            }
            Conn::Pg(pg) => {
                let (st, columns) = pg.statement(sql)?;
                let rows = pg.client.query(&st, &pg_params(params))?;
                Ok(rows
                    .iter()
                    .map(|r| Row::new((0..r.len()).map(|i| r.get::<_, Value>(i)).collect(), columns.clone()))
                    .collect())
            }
        }
    }

    /// The first row, if any.
    pub fn query_opt(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>, StoreError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// Exactly one row, or [`StoreError::NotFound`].
    pub fn query_one(&mut self, sql: &str, params: &[Value]) -> Result<Row, StoreError> {
        self.query_opt(sql, params)?.ok_or(StoreError::NotFound)
    }

    /// Runs several statements with no parameters (migrations, transaction control).
    pub fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        match &mut self.conn {
            Conn::Sqlite(c) => c.execute_batch(sql)?,
            Conn::Pg(pg) => pg.client.batch_execute(sql)?,
        }
        Ok(())
    }
}

fn pg_params(params: &[Value]) -> Vec<&(dyn postgres::types::ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn postgres::types::ToSql + Sync)).collect()
}

/// `$1` → `?1`: SQLite numbers `$NAME` parameters in order of first appearance,
/// which would silently swap arguments in `WHERE b = $2 AND a = $1`.
fn sqlite_sql(sql: &str) -> Cow<'_, str> {
    let bytes = sql.as_bytes();
    let is_placeholder = |i: usize| bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
    // Runs on every statement of the hot path: memchr finds the few `$` in a long
    // statement without looking at each byte, and whole slices are copied between them.
    let mut dollars = memchr::memchr_iter(b'$', bytes).filter(|&i| is_placeholder(i)).peekable();
    if dollars.peek().is_none() {
        return Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len());
    let mut copied = 0;
    for i in dollars {
        out.push_str(&sql[copied..i]);
        out.push('?');
        copied = i + 1;
    }
    out.push_str(&sql[copied..]);
    Cow::Owned(out)
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(v) => ToSqlOutput::Borrowed(ValueRef::Integer(*v)),
            Value::Real(v) => ToSqlOutput::Borrowed(ValueRef::Real(*v)),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        })
    }
}

impl rusqlite::types::FromSql for Value {
    fn column_result(v: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        use rusqlite::types::ValueRef;
        Ok(match v {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(i) => Value::Int(i),
            ValueRef::Real(f) => Value::Real(f),
            ValueRef::Text(t) | ValueRef::Blob(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::sqlite_sql;

    #[test]
    fn numbered_placeholders_keep_their_numbers() {
        assert_eq!(sqlite_sql("SELECT $2, $1, '$x', $10"), "SELECT ?2, ?1, '$x', ?10");
        assert_eq!(sqlite_sql("SELECT 1"), "SELECT 1");
    }
}
