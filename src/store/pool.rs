//! The store's threads: one writer doing group commit, a few readers, and on
//! PostgreSQL a listener that publishes events committed by any node.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};
use tokio::sync::{broadcast, oneshot};

use super::connect::{Access, Target};
use super::db::{Conn, PgConn};
use super::wake::{Pending, Wakes};
use super::{Backend, Db, EventRow, StoreError, Wake, events, migrate, search_index};

/// Most jobs committed together; bounds the latency one batch adds.
const MAX_BATCH: usize = 512;
/// PostgreSQL advisory lock held by each write transaction, so event ids commit in
/// order across nodes and `after=ID` never skips an event committed late.
const PG_WRITE_LOCK: i64 = 0x5041_524c;

type Deliver = Box<dyn FnOnce(Option<String>) + Send>;
type WriteJob = Box<dyn FnOnce(&mut Db) -> (bool, Deliver) + Send>;
type ReadJob = Box<dyn FnOnce(&mut Db) + Send>;

/// A handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    backend: Backend,
    /// Kept for connections opened later (cluster locks).
    target: Target,
    writer: Sender<WriteJob>,
    readers: Sender<ReadJob>,
    events: broadcast::Sender<Arc<EventRow>>,
    last_published: Arc<AtomicI64>,
    wakes: Arc<Wakes>,
    /// Transactions the writer has ended (committed or rolled back): with the jobs
    /// submitted, how well group commit batches.
    transactions: Arc<AtomicU64>,
}

impl Store {
    /// Opens (creating if needed) the database at `url`, applies migrations, and
    /// starts the store's threads.
    pub fn open(url: &str, readers: usize) -> Result<Store, StoreError> {
        let target = Target::parse(url)?;
        let backend = target.backend();
        let (events, _) = broadcast::channel(8192);
        let (writer, write_rx) = crossbeam_channel::unbounded::<WriteJob>();
        let (readers_tx, read_rx) = crossbeam_channel::unbounded::<ReadJob>();
        let last_published = Arc::new(AtomicI64::new(0));
        let wakes = Arc::new(Wakes::default());

        let mut conn = target.open(Access::Write)?;
        migrate::run(&mut conn.db())?;
        last_published.store(events::last_id(&mut conn.db())?, Ordering::SeqCst);
        // On SQLite only this node writes, so the writer publishes what it committed; on
        // PostgreSQL a listener publishes what any node committed (below).
        let publish =
            (backend == Backend::Sqlite).then(|| Publisher { events: events.clone(), last: last_published.clone() });
        let (w, transactions) = (wakes.clone(), Arc::new(AtomicU64::new(0)));
        let t = transactions.clone();
        spawn("parley-writer", move || {
            write_loop(write_rx, |f| f(&mut conn.db()), publish, &w, &t);
        });
        for i in 0..readers.max(1) {
            let mut conn = target.open(Access::Read)?;
            let rx = read_rx.clone();
            spawn(&format!("parley-reader-{i}"), move || {
                for job in rx {
                    job(&mut conn.db());
                }
            });
        }
        if backend == Backend::Postgres
            && let Some(listener) = target.open(Access::Read)?.into_pg()
        {
            let publish = Publisher { events: events.clone(), last: last_published.clone() };
            spawn("parley-listener", move || listen_loop(listener, publish));
        }
        Ok(Store {
            inner: Arc::new(Inner {
                backend,
                target,
                writer,
                readers: readers_tx,
                events,
                last_published,
                wakes,
                transactions,
            }),
        })
    }

    pub fn backend(&self) -> Backend {
        self.inner.backend
    }

    /// Where the database is, for a connection of its own (`super::advisory`).
    pub(super) fn target(&self) -> &Target {
        &self.inner.target
    }

    /// How many handles to this store exist (clones of it): at 1 only the caller's is
    /// left, and dropping it ends the store's threads.
    pub fn handles(&self) -> usize {
        Arc::strong_count(&self.inner)
    }

    /// How many transactions the writer has ended since the store opened; each takes every
    /// job queued when it starts (group commit).
    pub fn write_transactions(&self) -> u64 {
        self.inner.transactions.load(Ordering::SeqCst)
    }

    /// Live events committed from now on (by this node, or any node on PostgreSQL).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<EventRow>> {
        self.inner.events.subscribe()
    }

    /// The id of the newest event published so far.
    pub fn last_published(&self) -> i64 {
        self.inner.last_published.load(Ordering::SeqCst)
    }

    /// Resolves when a committed write woke `worker` (see [`Db::wake`]). A wake that came
    /// while nobody waited is kept for the next wait.
    pub async fn woken(&self, worker: Wake) {
        self.inner.wakes.bell(worker).notified().await
    }

    /// Wakes `worker` now, as a commit would.
    pub fn wake(&self, worker: Wake) {
        self.inner.wakes.bell(worker).notify_one();
    }

    /// Runs `job` in a write transaction; returns its result once committed.
    /// An `Err` from the job rolls back only what the job did.
    pub async fn write<T, E>(&self, job: impl FnOnce(&mut Db) -> Result<T, E> + Send + 'static) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<Result<T, E>>();
        let boxed: WriteJob = Box::new(move |db| {
            let result = job(db);
            let ok = result.is_ok();
            let deliver: Deliver = Box::new(move |commit_error| {
                let _ = tx.send(match commit_error {
                    Some(e) if ok => Err(E::from(StoreError::Sqlite(e))),
                    _ => result,
                });
            });
            (ok, deliver)
        });
        self.inner.writer.send(boxed).map_err(|_| E::from(StoreError::Closed))?;
        rx.await.map_err(|_| E::from(StoreError::Closed))?
    }

    /// Whether a reader connection answers (`/healthz`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.read(|db| db.query_one("SELECT 1", &[]).map(drop)).await
    }

    /// Runs `job` on a reader connection.
    pub async fn read<T, E>(&self, job: impl FnOnce(&mut Db) -> Result<T, E> + Send + 'static) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let boxed: ReadJob = Box::new(move |db| {
            let _ = tx.send(job(db));
        });
        self.inner.readers.send(boxed).map_err(|_| E::from(StoreError::Closed))?;
        rx.await.map_err(|_| E::from(StoreError::Closed))?
    }
}

/// Publishes committed events in id order, each once.
struct Publisher {
    events: broadcast::Sender<Arc<EventRow>>,
    last: Arc<AtomicI64>,
}

impl Publisher {
    fn publish(&self, rows: Vec<EventRow>) {
        for row in rows {
            if row.id > self.last.load(Ordering::SeqCst) {
                self.last.store(row.id, Ordering::SeqCst);
                let _ = self.events.send(Arc::new(row));
            }
        }
    }
}

/// The group-commit loop: take every queued job, run each in a savepoint inside one
/// transaction, commit once, then answer every caller.
fn write_loop(
    rx: Receiver<WriteJob>,
    mut with_db: impl FnMut(&mut dyn FnMut(&mut Db)),
    publisher: Option<Publisher>,
    wakes: &Wakes,
    transactions: &AtomicU64,
) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let started = std::time::Instant::now();
        metrics::histogram!("parley_store_batch_jobs").record(batch.len() as f64);
        let mut delivers: Vec<Deliver> = Vec::with_capacity(batch.len());
        let mut failure: Option<String> = None;
        let mut committed = Vec::new();
        let mut woken = Pending::default();
        with_db(&mut |db: &mut Db| {
            failure = run_batch(db, &mut batch, &mut delivers).err().map(|e| e.to_string());
            if failure.is_some() {
                let _ = db.batch("ROLLBACK");
                db.appended.clear();
                db.wakes = Pending::default();
            }
            committed = std::mem::take(&mut db.appended);
            woken = std::mem::take(&mut db.wakes);
        });
        transactions.fetch_add(1, Ordering::SeqCst);
        metrics::histogram!("parley_store_transaction_seconds").record(started.elapsed().as_secs_f64());
        if let Some(p) = &publisher {
            p.publish(committed);
        }
        wakes.ring(woken);
        for deliver in delivers {
            deliver(failure.clone());
        }
    }
}

/// One transaction for the whole batch, each job in a savepoint. A lone job needs none:
/// if it fails, the transaction is rolled back instead of committed.
fn run_batch(db: &mut Db, batch: &mut Vec<WriteJob>, delivers: &mut Vec<Deliver>) -> Result<(), StoreError> {
    let mut control = Control::default();
    match db.backend() {
        Backend::Sqlite => control.run(db, "BEGIN IMMEDIATE")?,
        Backend::Postgres => control
            .run(db, &format!("BEGIN; SELECT pg_advisory_xact_lock(hashtext(current_schema()), {PG_WRITE_LOCK})"))?,
    }
    let lone = batch.len() == 1;
    for job in batch.drain(..) {
        let mark = db.appended.len();
        if !lone {
            control.run(db, "SAVEPOINT job")?;
        }
        control.send(db)?;
        let (ok, deliver) = job(db);
        delivers.push(deliver);
        if !ok {
            db.appended.truncate(mark);
            if lone {
                control.run(db, "ROLLBACK")?;
                return control.send(db);
            }
            control.run(db, "ROLLBACK TO job")?;
        }
        if !lone {
            control.run(db, "RELEASE job")?;
        }
    }
    match db.backend() {
        Backend::Sqlite => search_index::catch_up(db)?,
        Backend::Postgres if !db.appended.is_empty() => control.run(db, "NOTIFY parley_events")?,
        Backend::Postgres => {}
    }
    let committing = std::time::Instant::now();
    control.run(db, "COMMIT")?;
    control.send(db)?;
    metrics::histogram!("parley_store_commit_seconds").record(committing.elapsed().as_secs_f64());
    Ok(())
}

/// Transaction control statements (BEGIN, savepoints, COMMIT). SQLite runs each at once
/// from the prepared statement cache. PostgreSQL would pay a round trip for each, so they
/// wait and go together, just before the next job's first statement or with COMMIT:
/// `RELEASE job; SAVEPOINT job` between two jobs is one round trip instead of two.
#[derive(Default)]
struct Control {
    waiting: String,
}

impl Control {
    fn run(&mut self, db: &mut Db, sql: &str) -> Result<(), StoreError> {
        match db.backend() {
            Backend::Sqlite => db.exec(sql, &[]).map(drop),
            Backend::Postgres => {
                self.waiting.push_str(sql);
                self.waiting.push_str(";\n");
                Ok(())
            }
        }
    }

    fn send(&mut self, db: &mut Db) -> Result<(), StoreError> {
        if self.waiting.is_empty() {
            return Ok(());
        }
        db.batch(&std::mem::take(&mut self.waiting))
    }
}

/// PostgreSQL: publish what any node committed. NOTIFY only wakes us up; the rows
/// are read back from the table, so a notification lost in a reconnect loses nothing.
fn listen_loop(mut pg: PgConn, publisher: Publisher) {
    if let Err(e) = pg.client.batch_execute("LISTEN parley_events") {
        tracing::error!(error = %e, "cannot LISTEN for events; other nodes' events will not be pushed");
        return;
    }
    loop {
        let woke = {
            use postgres::fallible_iterator::FallibleIterator;
            let mut n = pg.client.notifications();
            let mut it = n.timeout_iter(Duration::from_millis(500));
            it.next()
        };
        if let Err(e) = woke {
            tracing::warn!(error = %e, "event listener lost its connection");
            return;
        }
        let after = publisher.last.load(Ordering::SeqCst);
        match events::after(&mut Db::new(Conn::Pg(&mut pg)), after, 10_000) {
            Ok(rows) => publisher.publish(rows),
            Err(e) => tracing::warn!(error = %e, "cannot read new events"),
        }
    }
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new().name(name.to_owned()).spawn(f).expect("the OS refused to start a store thread");
}
