//! TLS to PostgreSQL, as the database URL's `sslmode` says: what the local server allows
//! is tried for real (with SSL on: plain, encrypted unverified, verified against its
//! certificate and refused without it; with SSL off: `require` refused).

use parley::store::{Store, StoreError};

/// Opens a store on `url` and asks the server whether this connection is encrypted.
async fn encrypted(url: String) -> Result<bool, StoreError> {
    let store = tokio::task::spawn_blocking(move || Store::open(&url, 1)).await.unwrap()?;
    store
        .read(|db| {
            db.query_one(
                "SELECT CASE WHEN ssl THEN 1 ELSE 0 END AS ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                &[],
            )?
            .get::<i64>("ssl")
        })
        .await
        .map(|ssl| ssl == 1)
}

#[tokio::test]
async fn the_database_url_decides_whether_and_how_postgresql_is_encrypted() {
    let refused = tokio::task::spawn_blocking(|| Store::open("postgres://u@127.0.0.1:1/db?sslmode=allow", 1).err())
        .await
        .unwrap()
        .expect("an unknown sslmode is refused");
    assert!(refused.to_string().contains("sslmode=allow"), "{refused}");

    let dir = tempfile::tempdir().unwrap();
    let url = crate::support::database_url(dir.path());
    if !url.starts_with("postgres") {
        return; // SQLite: the refusal above is all there is to it
    }
    let store = {
        let url = url.clone();
        tokio::task::spawn_blocking(move || Store::open(&url, 1)).await.unwrap().unwrap()
    };
    let server = store
        .read(|db| -> Result<(String, String), StoreError> {
            let ssl = db.query_one("SELECT current_setting('ssl') AS v", &[])?.get("v")?;
            Ok((ssl, db.query_one("SELECT current_setting('ssl_cert_file') AS v", &[])?.get("v")?))
        })
        .await
        .unwrap();
    let with = |extra: &str| format!("{url}&{extra}");
    assert!(!encrypted(url.clone()).await.unwrap(), "no sslmode: plain, as before");
    assert!(!encrypted(with("sslmode=disable")).await.unwrap());
    if server.0 != "on" {
        let refused = encrypted(with("sslmode=require")).await.unwrap_err();
        assert!(refused.to_string().to_lowercase().contains("tls"), "{refused}");
        return;
    }
    assert!(encrypted(with("sslmode=require")).await.unwrap(), "require: encrypted");
    assert!(encrypted(with("sslmode=prefer")).await.unwrap(), "prefer: encrypted when offered");
    // verify-full: the server's certificate is no known authority's, so refused…
    let refused = encrypted(with("sslmode=verify-full")).await.unwrap_err();
    assert!(refused.to_string().contains("certificate"), "{refused}");
    // …unless sslrootcert names it, and the host is the name it was made for (the
    // snakeoil certificate of a Debian PostgreSQL says `localhost`).
    let by_name = url.replacen("@127.0.0.1", "@localhost", 1);
    let trusted = format!("{by_name}&hostaddr=127.0.0.1&sslmode=verify-full&sslrootcert={}", server.1);
    assert!(encrypted(trusted.clone()).await.unwrap(), "verified and encrypted");
    // The right authority for the wrong name is still refused.
    let wrong_name = trusted.replacen("@localhost", "@parley.invalid", 1);
    let refused = encrypted(wrong_name).await.unwrap_err();
    assert!(refused.to_string().contains("certificate"), "{refused}");
}
