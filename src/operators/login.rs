//! The login policy, in one place: an email and password become an operator, or a
//! refusal that does not tell which part was wrong. Failures are counted per email
//! and client address ([`LoginLimiter`]), so a guesser is slowed down without locking
//! the operator out everywhere; an unknown email costs as much time as a known one.

use super::limiter::LoginLimiter;
use super::{Operator, password, sessions};
use crate::error::{Error, Result};
use crate::store::Store;

/// Whose failures count together: one email (as typed, in any case) from one client.
pub fn limiter_key(email: &str, client: &str) -> String {
    format!("{}|{client}", email.trim().to_lowercase())
}

/// The operator with this email and password; `client` is the caller's address.
pub async fn login(
    store: &Store,
    limiter: &LoginLimiter,
    email: &str,
    pass: String,
    client: &str,
    now: i64,
) -> Result<Operator> {
    let key = limiter_key(email, client);
    limiter.check(&key, now).map_err(Error::RateLimited)?;
    let email = email.to_owned();
    let found = store.read(move |db| super::password_hash(db, &email)).await?;
    let verified = tokio::task::spawn_blocking(move || match found {
        Some((id, hash)) => password::verify(&pass, &hash).then_some(id),
        None => {
            // Spend the same time on unknown emails, so timing does not reveal which exist.
            let _ = password::verify(&pass, password::dummy_hash());
            None
        }
    })
    .await
    .map_err(|_| Error::Invalid("login failed".into()))?;
    let Some(id) = verified else {
        limiter.failed(&key, now);
        return Err(Error::Unauthorized("wrong email or password".into()));
    };
    limiter.succeeded(&key);
    store.read(move |db| super::get(db, id)).await
}

/// A console session for the operator, valid for `days`; returns its token.
pub async fn start_session(store: &Store, operator_id: i64, days: i64, now: i64) -> Result<String> {
    let expires = now + days * 86_400_000;
    store.write(move |db| sessions::create(db, operator_id, sessions::Kind::Session, None, Some(expires), now)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operators::{Role, add};

    async fn store_with_operator(dir: &tempfile::TempDir) -> Store {
        let store = Store::open(&format!("sqlite://{}", dir.path().join("t.db").display()), 1).unwrap();
        let new = add::prepare("ann@example.com", "Ann", Role::Operator, "correct horse".into()).await.unwrap();
        store.write(move |db| crate::operators::create(db, new, 0)).await.unwrap();
        store
    }

    #[tokio::test]
    async fn a_wrong_password_and_an_unknown_email_get_the_same_refusal() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with_operator(&dir).await;
        let limiter = LoginLimiter::new(5, 60);
        let op = login(&store, &limiter, " Ann@Example.com", "correct horse".into(), "a", 0).await.unwrap();
        assert_eq!(op.email, "ann@example.com");
        let wrong = login(&store, &limiter, "ann@example.com", "wrong".into(), "a", 0).await.unwrap_err();
        let unknown = login(&store, &limiter, "bob@example.com", "correct horse".into(), "a", 0).await.unwrap_err();
        assert_eq!(wrong.to_string(), unknown.to_string());
        assert!(matches!(wrong, Error::Unauthorized(_)));
    }

    #[tokio::test]
    async fn failures_lock_out_one_email_from_one_client_until_the_lockout_ends() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with_operator(&dir).await;
        let limiter = LoginLimiter::new(2, 60);
        for _ in 0..2 {
            login(&store, &limiter, "ANN@example.com", "wrong".into(), "a", 0).await.unwrap_err();
        }
        // Even the right password is refused now, from this client, whatever the case.
        let locked = login(&store, &limiter, "ann@example.com", "correct horse".into(), "a", 1000).await;
        assert!(matches!(locked, Err(Error::RateLimited(59))));
        // Another client is not locked out, nor is this one once the lockout is over.
        assert!(login(&store, &limiter, "ann@example.com", "correct horse".into(), "b", 1000).await.is_ok());
        assert!(login(&store, &limiter, "ann@example.com", "correct horse".into(), "a", 60_000).await.is_ok());
    }

    #[tokio::test]
    async fn a_success_forgets_earlier_failures() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with_operator(&dir).await;
        let limiter = LoginLimiter::new(2, 60);
        login(&store, &limiter, "ann@example.com", "wrong".into(), "a", 0).await.unwrap_err();
        login(&store, &limiter, "ann@example.com", "correct horse".into(), "a", 0).await.unwrap();
        login(&store, &limiter, "ann@example.com", "wrong".into(), "a", 0).await.unwrap_err();
        assert!(login(&store, &limiter, "ann@example.com", "correct horse".into(), "a", 0).await.is_ok());
    }
}
