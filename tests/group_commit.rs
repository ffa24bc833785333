//! The store's group commit: jobs queued together share one transaction, yet a job that
//! fails undoes only its own writes and every caller gets its own answer.

use parley::store::{Store, StoreError};

#[tokio::test]
async fn a_failing_job_in_a_batch_undoes_only_its_own_writes() {
    let dir = tempfile::tempdir().unwrap();
    let url = crate::support::database_url(dir.path());
    let store = tokio::task::spawn_blocking(move || Store::open(&url, 1)).await.unwrap().unwrap();
    store.write(|db| db.batch("CREATE TABLE batch_probe (n BIGINT NOT NULL)")).await.unwrap();

    // Hold the writer until every job below is queued, so they run as one batch.
    let (release, held) = std::sync::mpsc::channel::<()>();
    let (started, holding) = tokio::sync::oneshot::channel::<()>();
    let hold = store.write(move |_| {
        started.send(()).unwrap();
        held.recv().expect("released");
        Ok::<_, StoreError>(())
    });
    let jobs = (0..40i64).map(|n| {
        let store = store.clone();
        async move {
            store
                .write(move |db| {
                    db.exec("INSERT INTO batch_probe (n) VALUES ($1)", parley::params![n])?;
                    if n % 3 == 0 {
                        // A failure after a write, then a failing statement: both undone.
                        db.exec("INSERT INTO no_such_table (n) VALUES ($1)", parley::params![n])?;
                    }
                    Ok::<_, StoreError>(n)
                })
                .await
        }
    });
    let before = store.write_transactions();
    let mut hold = Box::pin(hold);
    let mut jobs = Box::pin(futures_util::future::join_all(jobs));
    // One poll queues a job with the writer: the hold first, and once it runs, the rest.
    assert!(futures_util::poll!(hold.as_mut()).is_pending());
    holding.await.unwrap();
    assert!(futures_util::poll!(jobs.as_mut()).is_pending());
    release.send(()).unwrap();
    let (held, results) = tokio::join!(hold, jobs);
    held.unwrap();
    assert_eq!(store.write_transactions() - before, 2, "the hold, then the 40 jobs in one transaction");

    for (n, result) in results.iter().enumerate() {
        match result {
            Ok(got) => assert!(n % 3 != 0 && *got == n as i64, "job {n} answered {got}"),
            Err(e) => assert!(n % 3 == 0, "job {n} failed: {e}"),
        }
    }
    let rows = store.read(|db| db.query("SELECT n FROM batch_probe ORDER BY n", &[])).await.unwrap();
    let stored: Vec<i64> = parley::store::column(&rows, "n").unwrap();
    assert_eq!(stored, (0..40).filter(|n| n % 3 != 0).collect::<Vec<_>>());
}
