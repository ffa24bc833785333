//! Rows are read by column name on SQLite and PostgreSQL alike: ad-hoc columns by
//! their alias, NULL only into an `Option`, and a stored value that cannot be read
//! is an error naming its column, never a silent 0, "" or empty list.

use parley::store::{Backend, Store, column};
use serde_json::json;

use crate::support::{spawn_app, webhook_fake::FakeReceiver};

async fn store() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = crate::support::database_url(dir.path());
    let store = tokio::task::spawn_blocking(move || Store::open(&url, 1)).await.unwrap().unwrap();
    (store, dir)
}

#[tokio::test]
async fn aggregates_read_by_alias_and_null_is_never_zero() {
    let (store, _dir) = store().await;
    let backend = store.backend();
    store
        .write(move |db| -> anyhow::Result<()> {
            // Aggregates over no rows: COUNT is 0, MIN and string_agg are NULL.
            let r = db.query_one(
                "SELECT COUNT(*) AS n, MIN(position) AS first, string_agg(name, ',') AS names, \
                 CAST(COALESCE(SUM(position), 0) AS BIGINT) AS total FROM consumers WHERE name = 'none'",
                &[],
            )?;
            assert_eq!(r.get::<i64>("n")?, 0);
            assert_eq!(r.get::<Option<i64>>("first")?, None);
            assert_eq!(r.get::<Option<String>>("names")?, None);
            assert_eq!(r.get::<i64>("total")?, 0);
            let null = r.get::<i64>("first").unwrap_err().to_string();
            assert!(null.contains("column `first`") && null.contains("NULL"), "{null}");
            assert!(r.get::<String>("names").is_err(), "NULL is not read as \"\"");

            db.exec("INSERT INTO consumers (name, position, updated_at) VALUES ('a', 4, 0), ('b', 7, 0)", &[])?;
            let r = db.query_one(
                "SELECT COUNT(*) AS n, MAX(position) AS last, CAST(SUM(position) AS BIGINT) AS total, \
                 SUM(position) AS uncast FROM consumers WHERE name IN ('a', 'b')",
                &[],
            )?;
            assert_eq!((r.get::<i64>("n")?, r.get::<i64>("last")?, r.get::<i64>("total")?), (2, 7, 11));
            // SUM of BIGINT is NUMERIC on PostgreSQL, which arrives as text: hence the CASTs.
            match backend {
                Backend::Sqlite => assert_eq!(r.get::<i64>("uncast")?, 11),
                Backend::Postgres => assert!(r.get::<i64>("uncast").is_err(), "NUMERIC is not guessed into an integer"),
            }
            let ids = db.query("SELECT name FROM consumers WHERE name IN ('a', 'b') ORDER BY name", &[])?;
            assert_eq!(column::<String>(&ids, "name")?, ["a", "b"]);
            assert!(column::<String>(&ids, "position").is_err(), "a column the query lacks is an error");
            Ok(())
        })
        .await
        .unwrap();
}

/// A closed conversation whose stored list of operators is unreadable: the export
/// fails with an error instead of writing the row with nobody involved, and the row
/// is intact once the value is repaired.
#[tokio::test]
async fn an_unreadable_stored_figure_fails_the_export_instead_of_emptying_it() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fake = FakeReceiver::start().await;
    let channel = app.webhook_channel(&admin, &fake).await;
    let chat = channel.text("ann", "a1", "hello").await["chat_id"].as_i64().unwrap();
    let (status, body) = admin.post(&format!("/api/v1/chats/{chat}/close"), json!({})).await;
    assert_eq!(status, 200, "{body}");
    let tomorrow = &parley::clock::rfc3339(app.app().now() + 24 * 3600 * 1000)[..10];
    let export = format!("/api/v1/reports/conversations?format=csv&to={tomorrow}");
    let set_operators = |text: &'static str| {
        app.app().store.write(move |db| db.exec("UPDATE conversation_stats SET operators = $1", parley::params![text]))
    };

    assert_eq!(set_operators("not json").await.unwrap(), 1);
    let (status, body) = admin.get(&export).await;
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["error"]["code"], "internal", "the cause is logged, not shown: {body}");

    set_operators("[]").await.unwrap();
    let (status, body) = admin.get(&export).await;
    assert_eq!(status, 200, "{body}");
    let csv = body.as_str().expect("CSV text");
    assert_eq!(csv.lines().count(), 2, "the header and the conversation: {csv}");
    assert!(csv.lines().nth(1).unwrap().contains(&format!(",{chat},")), "{csv}");
}
