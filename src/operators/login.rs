//! The login policy, in one place: an email and password become an operator, or a
//! refusal that does not tell which part was wrong. Failures are counted per account
//! and client address ([`LoginLimiter`]), so a guesser is slowed down without locking
//! the operator out everywhere; an unknown email costs as much time as a known one.
//! Every outcome is logged with the client's address.

use std::net::IpAddr;

use super::limiter::LoginLimiter;
use super::{Operator, password, sessions};
use crate::error::{Error, Result};
use crate::store::Store;

/// The operator with this email and password; `client` is the caller's address.
pub async fn login(
    store: &Store,
    limiter: &LoginLimiter,
    email: &str,
    pass: String,
    client: IpAddr,
    now: i64,
) -> Result<Operator> {
    if let Err(wait) = limiter.check(email, client, now) {
        tracing::warn!(%client, email, retry_after_s = wait, "login refused: too many failures");
        return Err(Error::RateLimited(wait));
    }
    let typed = email.to_owned();
    let found = store.read(move |db| super::password_hash(db, &typed)).await?;
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
        limiter.failed(email, client, now);
        tracing::warn!(%client, email, "login failed: wrong email or password");
        return Err(Error::Unauthorized("wrong email or password".into()));
    };
    let operator = store.read(move |db| super::get(db, id)).await?;
    if !operator.active {
        tracing::warn!(%client, email, "login refused: the operator is deactivated");
        return Err(Error::Forbidden("this operator has been deactivated; ask an admin".into()));
    }
    limiter.succeeded(email, client);
    tracing::info!(%client, email, operator_id = id, "logged in");
    Ok(operator)
}

/// A console session for the operator, valid for `days`; returns its token.
/// `from` is the client's address, shown to the operator in their list of sessions.
pub async fn start_session(store: &Store, operator_id: i64, from: IpAddr, days: i64, now: i64) -> Result<String> {
    let expires = now + days * 86_400_000;
    let kind = sessions::Kind::Session;
    store.write(move |db| sessions::create(db, operator_id, kind, None, Some(from), Some(expires), now)).await
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

    fn limiter(max_failures: u32) -> LoginLimiter {
        LoginLimiter::new(&crate::config::Auth { login_max_failures: max_failures, ..Default::default() })
    }

    fn ip(n: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, n])
    }

    #[tokio::test]
    async fn a_wrong_password_and_an_unknown_email_get_the_same_refusal() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with_operator(&dir).await;
        let limiter = limiter(5);
        let op = login(&store, &limiter, " Ann@Example.com", "correct horse".into(), ip(1), 0).await.unwrap();
        assert_eq!(op.email, "ann@example.com");
        let wrong = login(&store, &limiter, "ann@example.com", "wrong".into(), ip(1), 0).await.unwrap_err();
        let unknown = login(&store, &limiter, "bob@example.com", "correct horse".into(), ip(1), 0).await.unwrap_err();
        assert_eq!(wrong.to_string(), unknown.to_string());
        assert!(matches!(wrong, Error::Unauthorized(_)));
    }

    #[tokio::test]
    async fn failures_slow_one_account_on_one_address_until_its_delay_is_over() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with_operator(&dir).await;
        let limiter = limiter(2);
        for _ in 0..2 {
            login(&store, &limiter, "ANN@example.com", "wrong".into(), ip(1), 0).await.unwrap_err();
        }
        // Even the right password waits now, from this address, whatever the case.
        let waiting = login(&store, &limiter, "ann@example.com", "correct horse".into(), ip(1), 500).await;
        assert!(matches!(waiting, Err(Error::RateLimited(1))), "{waiting:?}");
        // Another address does not wait, nor does this one once the delay is over.
        assert!(login(&store, &limiter, "ann@example.com", "correct horse".into(), ip(2), 500).await.is_ok());
        assert!(login(&store, &limiter, "ann@example.com", "correct horse".into(), ip(1), 1000).await.is_ok());
    }

    #[tokio::test]
    async fn a_success_forgives_earlier_failures() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with_operator(&dir).await;
        let limiter = limiter(2);
        login(&store, &limiter, "ann@example.com", "wrong".into(), ip(1), 0).await.unwrap_err();
        login(&store, &limiter, "ann@example.com", "correct horse".into(), ip(1), 0).await.unwrap();
        login(&store, &limiter, "ann@example.com", "wrong".into(), ip(1), 0).await.unwrap_err();
        assert!(login(&store, &limiter, "ann@example.com", "correct horse".into(), ip(1), 0).await.is_ok());
    }
}
