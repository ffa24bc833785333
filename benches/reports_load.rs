//! The conversation KPI report on a large database: fills N closed conversations
//! (default 1,000,000, over a year, 20 operators, 3 channels) directly through the store
//! — the same `conversation_stats` rows that closing a chat writes — then times the report
//! the way `GET /api/v1/reports/conversations` runs it: the whole year, one month, one
//! channel, one operator; and the CSV export of a month.
//!
//! Run: `cargo bench --bench reports_load` (CONVERSATIONS=200000 for a shorter run).
//! On SQLite in a temporary directory, or on PostgreSQL when PARLEY_BENCH_DATABASE_URL is
//! set (a fresh schema `parley_reports_bench_<random>`, dropped at the end).

use std::time::Instant;

use parley::params;
use parley::reports::{DAY_MS, Filter, Range, conversations, export};
use parley::store::Store;

const OPERATORS: i64 = 20;
const CHANNELS: i64 = 3;
const CHATS: i64 = 100_000;
const BATCH: i64 = 20_000;
/// 2026-01-01T00:00:00Z
const YEAR_START: i64 = 1_767_225_600_000;

/// A small deterministic generator (xorshift), so every run fills the same data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: i64) -> i64 {
        (self.next() % n as u64) as i64
    }
    /// Roughly log-uniform between `lo` and `hi`: many short times, a long tail.
    fn spread(&mut self, lo: i64, hi: i64) -> i64 {
        let f = (self.next() % 10_000) as f64 / 10_000.0;
        (lo as f64 * (hi as f64 / lo as f64).powf(f)) as i64
    }
}

fn main() {
    let n: i64 = std::env::var("CONVERSATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let (url, schema) = match std::env::var("PARLEY_BENCH_DATABASE_URL") {
        Ok(base) if !base.is_empty() => {
            // Random, not the pid: benches in other containers share the server and pids repeat.
            let token: String = parley::operators::sessions::random_token()
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .take(10)
                .collect();
            let schema = format!("parley_reports_bench_{}", token.to_lowercase());
            let mut c = postgres::Client::connect(&base, postgres::NoTls).expect("PostgreSQL");
            c.batch_execute(&format!("CREATE SCHEMA {schema}")).unwrap();
            let sep = if base.contains('?') { '&' } else { '?' };
            (format!("{base}{sep}options=-c%20search_path%3D{schema}"), Some((base, schema)))
        }
        _ => (format!("sqlite://{}/reports.db", dir.path().display()), None),
    };
    let store = Store::open(&url, 2).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    println!("database: {}", if schema.is_some() { "PostgreSQL" } else { "SQLite (WAL, synchronous=FULL)" });

    let started = Instant::now();
    rt.block_on(store.write(|db| -> parley::error::Result<()> {
        for c in 1..=CHANNELS {
            db.exec(
                "INSERT INTO channels (kind, name, key, created_at) VALUES ('webhook', $1, $2, 0)",
                params![format!("Channel {c}"), format!("key-{c}")],
            )?;
        }
        for o in 1..=OPERATORS {
            db.exec(
                "INSERT INTO operators (email, name, role, password_hash, created_at) VALUES ($1, $2, 'operator', 'x', 0)",
                params![format!("op{o}@example.com"), format!("Operator {o:02}")],
            )?;
        }
        Ok(())
    }))
    .unwrap();
    for start in (0..CHATS).step_by(BATCH as usize) {
        rt.block_on(store.write(move |db| -> parley::error::Result<()> {
            for i in start..(start + BATCH).min(CHATS) {
                let contact = db
                    .query_one(
                        "INSERT INTO contacts (first_name, created_at, updated_at) VALUES ($1, 0, 0) RETURNING id",
                        params![format!("Contact {i}")],
                    )?
                    .get::<i64>("id")?;
                db.exec(
                    "INSERT INTO chats (contact_id, status, last_message_at, created_at, updated_at) \
                     VALUES ($1, 'closed', 0, 0, 0)",
                    params![contact],
                )?;
            }
            Ok(())
        }))
        .unwrap();
    }
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    for start in (0..n).step_by(BATCH as usize) {
        let rows: Vec<[i64; 11]> = (start..(start + BATCH).min(n))
            .map(|i| {
                let chat = 1 + rng.below(CHATS);
                let opened = YEAR_START + i * (365 * DAY_MS / n);
                let first_reply = (rng.below(10) > 0).then(|| rng.spread(5_000, 3_600_000));
                let close = first_reply.unwrap_or(0) + rng.spread(60_000, 3 * DAY_MS);
                let operator = if rng.below(100) < 3 { 0 } else { 1 + rng.below(OPERATORS) };
                let messages_in = 1 + rng.below(12);
                let messages_out = first_reply.map_or(0, |_| 1 + rng.below(12));
                let reopened = i64::from(rng.below(10) == 0);
                [
                    chat,
                    1 + rng.below(CHANNELS),
                    operator,
                    opened,
                    first_reply.unwrap_or(-1),
                    close,
                    messages_in,
                    messages_out,
                    reopened,
                    chat,
                    0,
                ]
            })
            .collect();
        rt.block_on(store.write(move |db| -> parley::error::Result<()> {
            for r in rows {
                let [chat, channel, operator, opened, first_reply, close, messages_in, messages_out, reopened, contact, _] = r;
                let first_reply = (first_reply >= 0).then_some(first_reply);
                let operator = (operator > 0).then_some(operator);
                let id = db
                    .query_one(
                        "INSERT INTO conversations (chat_id, channel_id, opened_at, reopened, first_reply_at, closed_at, closed_by) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                        params![chat, channel, opened, reopened, first_reply.map(|f| opened + f), opened + close, operator],
                    )?
                    .get::<i64>("id")?;
                db.exec(
                    "INSERT INTO conversation_stats (conversation_id, chat_id, contact_id, channel_id, operator_id, \
                     closed_by, opened_at, first_reply_at, closed_at, first_reply_ms, close_ms, messages_in, \
                     messages_out, notes, transfers, reopened, operators) \
                     VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, $9, $10, $11, $12, 0, 0, $13, $14)",
                    params![
                        id,
                        chat,
                        contact,
                        channel,
                        operator,
                        opened,
                        first_reply.map(|f| opened + f),
                        opened + close,
                        first_reply,
                        close,
                        messages_in,
                        messages_out,
                        reopened,
                        operator.map_or("[]".to_owned(), |o| format!("[{o}]"))
                    ],
                )?;
            }
            Ok(())
        }))
        .unwrap();
    }
    println!(
        "filled {n} closed conversations ({CHATS} chats, {OPERATORS} operators) in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    if let Some((base, schema)) = &schema {
        // What autovacuum does to a table after a bulk load: statistics, visibility map.
        let mut c = postgres::Client::connect(base, postgres::NoTls).unwrap();
        c.batch_execute(&format!("SET search_path = {schema}")).unwrap();
        c.batch_execute("VACUUM ANALYZE conversation_stats").unwrap();
    }

    if schema.is_none() {
        let plan = rt
            .block_on(store.read(|db| {
                db.query(
                    "EXPLAIN QUERY PLAN SELECT COUNT(*), string_agg(CAST(close_ms AS TEXT), ',') FROM conversation_stats \
                     WHERE operator_id = $3 AND closed_at >= $1 AND closed_at < $2 AND channel_id = $4",
                    params![0, 1, 2, 3],
                )
            }))
            .unwrap();
        println!("query plan: {}", parley::store::column::<String>(&plan, "detail").unwrap().join("; "));
    }
    let year = Range { from: YEAR_START, to: YEAR_START + 400 * DAY_MS };
    let month = Range { from: YEAR_START + 150 * DAY_MS, to: YEAR_START + 180 * DAY_MS };
    let cases = [
        ("whole year, all operators", Filter { range: year, channel_id: None, operator_id: None }),
        ("whole year, one channel", Filter { range: year, channel_id: Some(2), operator_id: None }),
        ("whole year, one operator", Filter { range: year, channel_id: None, operator_id: Some(7) }),
        ("30 days, all operators", Filter { range: month, channel_id: None, operator_id: None }),
    ];
    println!("{:<28} {:>13} {:>10} {:>10}", "conversation report", "conversations", "ms median", "ms max");
    for (name, f) in cases {
        let mut times = Vec::new();
        let mut total = serde_json::Value::Null;
        for _ in 0..5 {
            let t = Instant::now();
            let report = rt.block_on(store.read(move |db| conversations::report(db, &f))).unwrap();
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            total = serde_json::Value::from(report.total.conversations);
        }
        times.sort_by(f64::total_cmp);
        println!("{name:<28} {total:>13} {:>10.0} {:>10.0}", times[2], times[4]);
    }

    let f = Filter { range: month, channel_id: None, operator_id: None };
    let t = Instant::now();
    let (mut cursor, mut rows, mut bytes) = (Some(export::start(&f)), 0usize, 0usize);
    while let Some(c) = cursor {
        let (text, next) = rt.block_on(store.read(move |db| export::page(db, &f, c, 5000))).unwrap();
        rows += text.matches("\r\n").count();
        bytes += text.len();
        cursor = next;
    }
    println!(
        "CSV export of 30 days: {rows} rows, {:.1} MB in {:.0} ms",
        bytes as f64 / 1e6,
        t.elapsed().as_secs_f64() * 1000.0
    );
    if let Some((base, schema)) = schema {
        drop(store);
        std::thread::sleep(std::time::Duration::from_millis(200));
        let mut c = postgres::Client::connect(&base, postgres::NoTls).unwrap();
        let _ = c.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"));
    }
}
