//! The event log's promise with several nodes writing at once: a reader that follows it
//! by id (a console reconnecting with `after=ID`, a consumer) sees every committed event
//! once and in order, though no lock serializes the nodes' write transactions.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use parley::model::Event;
use parley::model::event::ContactMerged;
use parley::store::{Backend, EventRow, Store, StoreError, events};

const NODES: usize = 3;
/// Concurrent callers per node: enough for each node's writers to batch.
const CALLERS: i64 = 12;
const JOBS_PER_CALLER: i64 = 120;

/// An event tagged with who wrote it (in `merge_id`), to tell each apart when read back.
fn tagged(tag: i64) -> Event<'static> {
    Event::ContactMerged(ContactMerged { merge_id: tag, source_chat_id: None, source_id: 1, target_id: 2 })
}

fn tag(row: &EventRow) -> i64 {
    match row.decode().expect("an event of this build").as_ref() {
        Event::ContactMerged(m) => m.merge_id,
        other => panic!("unexpected event {other:?}"),
    }
}

/// One job: an event or two, and now and then a job that fails after appending (its
/// events must never be seen).
async fn write(store: &Store, tag: i64, job: i64) -> Result<(), StoreError> {
    store
        .write(move |db| {
            events::append(db, None, tagged(tag), 0)?;
            if job % 3 == 0 {
                events::append(db, None, tagged(tag + 1), 0)?;
            }
            if job % 7 == 0 {
                events::append(db, None, tagged(-tag), 0)?;
                return Err(StoreError::Conflict("undone on purpose".into()));
            }
            Ok(())
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nodes_writing_at_once_never_make_a_reader_skip_or_repeat_an_event() {
    let dir = tempfile::tempdir().unwrap();
    let url = crate::support::database_url(dir.path());
    let mut nodes = Vec::new();
    for _ in 0..NODES {
        let url = url.clone();
        // Two writer connections each (PostgreSQL; SQLite has one): six writers at once.
        nodes.push(tokio::task::spawn_blocking(move || Store::open_with(&url, 2, 2)).await.unwrap().unwrap());
    }

    // A follower reading by id all the while, as a console replaying `after=ID` does.
    let done = Arc::new(AtomicBool::new(false));
    let follower = {
        let (store, done) = (nodes[0].clone(), done.clone());
        tokio::spawn(async move {
            let (mut last, mut seen) = (0, Vec::new());
            loop {
                let finished = done.load(Ordering::SeqCst);
                let rows = store.read(move |db| events::after(db, last, 300)).await.unwrap();
                let full = rows.len() == 300;
                for row in rows {
                    assert!(row.id > last, "ids go up: {} after {last}", row.id);
                    last = row.id;
                    seen.push(row);
                }
                if finished && !full {
                    return seen;
                }
                tokio::task::yield_now().await;
            }
        })
    };
    // And what a node is pushed live: every node's events, this one's and the others'.
    let mut live = nodes[1].subscribe();

    let mut callers = Vec::new();
    for (n, node) in nodes.iter().enumerate() {
        for c in 0..CALLERS {
            let node = node.clone();
            callers.push(tokio::spawn(async move {
                let mut written = Vec::new();
                for j in 0..JOBS_PER_CALLER {
                    let tag = ((n as i64 * CALLERS + c) * JOBS_PER_CALLER + j) * 10 + 10;
                    if write(&node, tag, j).await.is_ok() {
                        written.push(tag);
                        if j % 3 == 0 {
                            written.push(tag + 1);
                        }
                    }
                }
                written
            }));
        }
    }
    let mut expected = HashSet::new();
    for caller in callers {
        expected.extend(caller.await.unwrap());
    }
    done.store(true, Ordering::SeqCst);
    let seen = follower.await.unwrap();

    let tags: Vec<i64> = seen.iter().map(tag).collect();
    assert_eq!(tags.iter().copied().collect::<HashSet<_>>().len(), tags.len(), "no event read twice");
    assert!(tags.iter().all(|t| *t > 0), "no event of a failed job is ever read");
    assert_eq!(tags.len(), expected.len(), "every committed event read once");
    assert_eq!(tags.iter().copied().collect::<HashSet<_>>(), expected);
    assert!(expected.len() > 3000, "thousands of events: {}", expected.len());
    // The follower read them in the table's order, which is the order they committed in.
    let stored = nodes[2].read(|db| events::after(db, 0, 100_000)).await.unwrap();
    assert_eq!(stored.iter().map(|e| e.id).collect::<Vec<_>>(), seen.iter().map(|e| e.id).collect::<Vec<_>>());

    // Pushed live, in order, each once (a lagging feed would be read from the table). On
    // PostgreSQL a node publishes what every node committed; SQLite serves one node, and
    // each store publishes what it committed itself.
    let feed: Vec<i64> = match nodes[1].backend() {
        Backend::Postgres => seen.iter().map(|e| e.id).collect(),
        Backend::Sqlite => seen.iter().filter(|e| node_of(tag(e)) == 1).map(|e| e.id).collect(),
    };
    let mut pushed = Vec::new();
    while pushed.last() != feed.last() {
        let e = tokio::time::timeout(crate::support::PATIENCE, live.recv()).await.expect("pushed").expect("no lag");
        pushed.push(e.id);
    }
    assert_eq!(pushed, feed, "the live feed is the log");
}

/// Which node wrote the event tagged `tag`.
fn node_of(tag: i64) -> usize {
    ((tag / 10 - 1) / JOBS_PER_CALLER / CALLERS) as usize
}
