//! The store's threads: writers doing group commit (one on SQLite, a few on
//! PostgreSQL), a few readers, and on PostgreSQL a listener that publishes events
//! committed by other nodes.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use tokio::sync::{broadcast, oneshot};

use super::connect::{Access, Connection, Target};
use super::db::{Conn, PgConn};
use super::wake::{Pending, Wakes};
use super::{Backend, Db, EventRow, StoreError, Wake, events, migrate, search_index};

/// Most jobs committed together; bounds the latency one batch adds.
const MAX_BATCH: usize = 512;
/// After a batch with events commits on PostgreSQL: one wake-up for the other nodes'
/// listeners, in a transaction of its own. (NOTIFY takes a cluster-wide lock when its
/// transaction commits, so it never rides in a write transaction; and a lost wake-up
/// costs only a poll's delay, so it need not wait for the disk.)
const NOTIFY: &str = "BEGIN; SET LOCAL synchronous_commit = off; NOTIFY parley_events; COMMIT";
/// How often the listener reads the log when no notification came.
const POLL: Duration = Duration::from_millis(500);

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
    publisher: Arc<Publisher>,
    wakes: Arc<Wakes>,
    /// Transactions the writers have ended (committed or rolled back): with the jobs
    /// submitted, how well group commit batches.
    transactions: Arc<AtomicU64>,
}

impl Store {
    /// Opens (creating if needed) the database at `url`, applies migrations, and
    /// starts the store's threads, with one writer.
    pub fn open(url: &str, readers: usize) -> Result<Store, StoreError> {
        Store::open_with(url, readers, 1)
    }

    /// [`Store::open`] with `writers` writer connections on PostgreSQL, each doing group
    /// commit on the jobs it takes, so one slow transaction does not stall the node.
    /// SQLite has one writer whatever the number: it allows no more.
    pub fn open_with(url: &str, readers: usize, writers: usize) -> Result<Store, StoreError> {
        let target = Target::parse(url)?;
        let backend = target.backend();
        let (writer, write_rx) = crossbeam_channel::unbounded::<WriteJob>();
        let (readers_tx, read_rx) = crossbeam_channel::unbounded::<ReadJob>();
        let wakes = Arc::new(Wakes::default());

        let mut conn = target.open(Access::Write)?;
        migrate::run(&mut conn.db())?;
        let publisher = Arc::new(Publisher {
            events: broadcast::channel(8192).0,
            last: AtomicI64::new(events::last_id(&mut conn.db())?),
            turn: Mutex::new(()),
        });
        let transactions = Arc::new(AtomicU64::new(0));
        let writers = if backend == Backend::Sqlite { 1 } else { writers.max(1) };
        let mut conn = Some(conn);
        for _ in 0..writers {
            let conn = match conn.take() {
                Some(c) => c,
                None => target.open(Access::Write)?,
            };
            let writer = Writer {
                jobs: write_rx.clone(),
                publisher: publisher.clone(),
                wakes: wakes.clone(),
                transactions: transactions.clone(),
            };
            // One name for all: the benches add up the CPU of the threads called so.
            spawn("parley-writer", move || writer.run(conn));
        }
        for i in 0..readers.max(1) {
            let mut conn = target.open(Access::Read)?;
            let rx = read_rx.clone();
            spawn(&format!("parley-reader-{i}"), move || {
                for job in rx {
                    job(&mut conn.db());
                }
            });
        }
        if backend == Backend::Postgres {
            let (target, publisher) = (target.clone(), Arc::downgrade(&publisher));
            spawn("parley-listener", move || listen_loop(&target, &publisher));
        }
        Ok(Store {
            inner: Arc::new(Inner { backend, target, writer, readers: readers_tx, publisher, wakes, transactions }),
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
        self.inner.publisher.events.subscribe()
    }

    /// The id of the newest event published so far.
    pub fn last_published(&self) -> i64 {
        self.inner.publisher.last.load(Ordering::SeqCst)
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

    /// The migrations of this build that the database lacks (`/readyz`: a node is ready
    /// when this is empty). An error when the database does not answer.
    pub async fn missing_migrations(&self) -> Result<Vec<i64>, StoreError> {
        self.read(migrate::missing).await
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

/// Publishes committed events in id order, each once: the writers what they committed,
/// the PostgreSQL listener what other nodes did.
struct Publisher {
    events: broadcast::Sender<Arc<EventRow>>,
    last: AtomicI64,
    /// Taken by whoever publishes, so rows go out in order.
    turn: Mutex<()>,
}

impl Publisher {
    /// Sends the rows newer than the last published. The caller holds `turn`.
    fn send(&self, rows: Vec<EventRow>) {
        for row in rows {
            if row.id > self.last.load(Ordering::SeqCst) {
                self.last.store(row.id, Ordering::SeqCst);
                let _ = self.events.send(Arc::new(row));
            }
        }
    }

    /// What a writer of this node just committed. On PostgreSQL other nodes (or this
    /// node's other writers) may have committed ids below it that are not published
    /// yet: they all committed before this batch took its ids, so one read finds them.
    fn committed(&self, db: &mut Db, own: Vec<EventRow>) {
        let Some(first) = own.first().map(|e| e.id) else { return };
        let _turn = self.turn.lock().unwrap_or_else(PoisonError::into_inner);
        let last = self.last.load(Ordering::SeqCst);
        if db.backend() == Backend::Postgres && first > last + 1 {
            match events::between(db, last, first) {
                Ok(rows) => self.send(rows),
                // The sockets and consumers see the gap and read the table themselves.
                Err(e) => tracing::warn!(error = %e, "cannot read the events committed before a batch"),
            }
        }
        self.send(own);
    }

    /// The PostgreSQL listener's read: whatever any node committed since the last published.
    fn catch_up(&self, db: &mut Db) -> Result<(), StoreError> {
        let _turn = self.turn.lock().unwrap_or_else(PoisonError::into_inner);
        let rows = events::after(db, self.last.load(Ordering::SeqCst), 10_000)?;
        self.send(rows);
        Ok(())
    }
}

/// One writer connection's group-commit loop: take every queued job, run each in a
/// savepoint inside one transaction, commit once, then answer every caller.
struct Writer {
    jobs: Receiver<WriteJob>,
    publisher: Arc<Publisher>,
    wakes: Arc<Wakes>,
    transactions: Arc<AtomicU64>,
}

impl Writer {
    fn run(self, mut conn: Connection) {
        while let Ok(first) = self.jobs.recv() {
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match self.jobs.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            let started = std::time::Instant::now();
            metrics::histogram!("parley_store_batch_jobs").record(batch.len() as f64);
            let mut delivers: Vec<Deliver> = Vec::with_capacity(batch.len());
            let db = &mut conn.db();
            let failure = run_batch(db, &mut batch, &mut delivers).err().map(|e| e.to_string());
            if failure.is_some() {
                let _ = db.batch("ROLLBACK");
                db.appended.clear();
                db.wakes = Pending::default();
            }
            let committed = std::mem::take(&mut db.appended);
            let woken = std::mem::take(&mut db.wakes);
            self.transactions.fetch_add(1, Ordering::SeqCst);
            metrics::histogram!("parley_store_transaction_seconds").record(started.elapsed().as_secs_f64());
            let notify = db.backend() == Backend::Postgres && !committed.is_empty();
            self.publisher.committed(db, committed);
            self.wakes.ring(woken);
            for deliver in delivers {
                deliver(failure.clone());
            }
            if notify && let Err(e) = db.batch(NOTIFY) {
                tracing::warn!(error = %e, "cannot wake the other nodes; they will poll");
            }
        }
    }
}

/// One transaction for the whole batch, each job in a savepoint. A lone job needs none:
/// if it fails, the transaction is rolled back instead of committed. The last savepoint
/// is not released: COMMIT ends it with the transaction.
fn run_batch(db: &mut Db, batch: &mut Vec<WriteJob>, delivers: &mut Vec<Deliver>) -> Result<(), StoreError> {
    let mut control = Control::default();
    control.run(
        db,
        match db.backend() {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        },
    )?;
    let (lone, n) = (batch.len() == 1, batch.len());
    for (i, job) in batch.drain(..).enumerate() {
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
        if !lone && i + 1 < n {
            control.run(db, "RELEASE job")?;
        }
    }
    match db.backend() {
        Backend::Sqlite => search_index::catch_up(db)?,
        Backend::Postgres => {
            control.send(db)?;
            let started = Instant::now();
            events::insert_pending(db)?;
            // With the COMMIT below, how long this node's events held (or waited for)
            // the event lock: what writers on other nodes may wait.
            metrics::histogram!("parley_store_event_insert_seconds").record(started.elapsed().as_secs_f64());
        }
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

/// PostgreSQL: publish what other nodes committed. NOTIFY only wakes us up, and we read
/// every [`POLL`] anyway; the rows are read back from the table, so a notification lost
/// (in a reconnect, say) delays and loses nothing. Ends with the store.
fn listen_loop(target: &Target, publisher: &Weak<Publisher>) {
    use postgres::fallible_iterator::FallibleIterator;
    let mut pg: Option<PgConn> = None;
    let mut first = true;
    loop {
        let Some(conn) = pg.as_mut() else {
            if !std::mem::take(&mut first) {
                std::thread::sleep(Duration::from_secs(1));
            }
            if publisher.strong_count() == 0 {
                return;
            }
            pg = listening(target);
            continue;
        };
        let Some(publish) = publisher.upgrade() else { return };
        if let Err(e) = publish.catch_up(&mut Db::new(Conn::Pg(conn))) {
            tracing::warn!(error = %e, "cannot read new events");
        }
        drop(publish);
        let woke = conn.client.notifications().timeout_iter(POLL).next().map(drop);
        match woke {
            // Several batches' wake-ups are one read.
            Ok(()) => while let Ok(Some(_)) = conn.client.notifications().iter().next() {},
            Err(e) => {
                tracing::warn!(error = %e, "the event listener lost its connection; reconnecting");
                pg = None;
            }
        }
    }
}

/// A connection that listens for the writers' wake-ups.
fn listening(target: &Target) -> Option<PgConn> {
    let mut pg = match target.open(Access::Read) {
        Ok(c) => c.into_pg()?,
        Err(e) => {
            tracing::warn!(error = %e, "the event listener cannot connect; other nodes' events wait");
            return None;
        }
    };
    match pg.client.batch_execute("LISTEN parley_events") {
        Ok(()) => Some(pg),
        Err(e) => {
            tracing::warn!(error = %e, "cannot LISTEN for events");
            None
        }
    }
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new().name(name.to_owned()).spawn(f).expect("the OS refused to start a store thread");
}
