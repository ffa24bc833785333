//! What operators of a deployment use: `/readyz` for load balancers, and `parley backup`
//! (an online copy of a SQLite database).

use parley::store::{Backend, Store};

use crate::support::spawn_app;
use crate::support::webhook_fake::FakeReceiver;

#[tokio::test]
async fn readyz_answers_only_while_the_schema_is_complete() {
    let app = spawn_app().await;
    let anon = app.anonymous();
    let (status, body) = anon.get("/readyz").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ready")));

    // A schema without this build's newest migration (as when an older node migrated
    // it): not ready, and it says what is missing.
    let newest = app
        .app()
        .store
        .write(|db| {
            let v: i64 = db.query_one("SELECT MAX(version) AS v FROM parley_migrations", &[])?.get("v")?;
            db.exec("DELETE FROM parley_migrations WHERE version = $1", parley::params![v])?;
            Ok::<_, parley::store::StoreError>(v)
        })
        .await
        .unwrap();
    let (status, body) = anon.get("/readyz").await;
    assert_eq!((status, body["error"]["code"].as_str()), (503, Some("not_ready")));
    assert!(body["error"]["message"].as_str().unwrap().contains(&format!("[{newest}]")), "{body}");
    // /healthz only asks whether the database answers.
    assert_eq!(anon.get("/healthz").await.0, 200);
}

#[tokio::test]
async fn backup_copies_a_running_sqlite_database_consistently() {
    let app = spawn_app().await;
    let url = app.config.database.url.clone();
    if app.app().store.backend() == Backend::Postgres {
        let to = tempfile::tempdir().unwrap().path().join("copy.db");
        let refused = parley::store::backup(&url, &to).unwrap_err().to_string();
        assert!(refused.contains("pg_dump"), "{refused}");
        return;
    }
    let admin = app.admin().await;
    let fake = FakeReceiver::start().await;
    let channel = app.webhook_channel(&admin, &fake).await;
    for i in 0..20 {
        channel.text(&format!("u{i}"), &format!("before-{i}"), "before the copy").await;
    }

    // Messages keep arriving while the copy is made.
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.db");
    let writing = {
        let channel = channel.clone();
        tokio::spawn(async move {
            for i in 0..40 {
                channel.text(&format!("w{i}"), &format!("during-{i}"), "while copying").await;
            }
        })
    };
    let (from, to) = (url.clone(), copy.clone());
    tokio::task::spawn_blocking(move || parley::store::backup(&from, &to)).await.unwrap().unwrap();
    writing.await.unwrap();

    // A second copy to the same file is refused rather than overwriting it.
    let (from, to) = (url.clone(), copy.clone());
    let again = tokio::task::spawn_blocking(move || parley::store::backup(&from, &to)).await.unwrap();
    assert!(again.unwrap_err().to_string().contains("exists already"));

    // The copy opens as a Parley database, with every message acknowledged before it
    // began, and each message with its event: one consistent moment.
    let copy_url = format!("sqlite://{}", copy.display());
    let store = tokio::task::spawn_blocking(move || Store::open(&copy_url, 1)).await.unwrap().unwrap();
    let (messages, created, ok) = store
        .read(|db| {
            let m: i64 = db.query_one("SELECT COUNT(*) AS n FROM messages", &[])?.get("n")?;
            let e: i64 =
                db.query_one("SELECT COUNT(*) AS n FROM events WHERE kind = 'message.created'", &[])?.get("n")?;
            let ok: String = db.query_one("PRAGMA integrity_check", &[])?.get("integrity_check")?;
            Ok::<_, parley::store::StoreError>((m, e, ok))
        })
        .await
        .unwrap();
    assert_eq!(ok, "ok");
    assert!((20..=60).contains(&messages), "{messages} messages in the copy");
    assert_eq!(created, messages, "each message with its event");
}
