//! The Graph API calls a channel makes, with its access token: the phone number (to
//! check the token), messages, media, templates. Answers are JSON; an error answer
//! comes back as its HTTP status and body for `errors` to judge.

use std::time::Duration;

use reqwest::header::RETRY_AFTER;
use serde_json::Value;

use crate::settings::Settings;

/// A Graph API answer that is not a success, or no answer.
#[derive(Debug)]
pub enum CallError {
    /// Meta answered with an error.
    Refused { status: u16, body: Value, retry_after: Option<Duration> },
    /// No usable answer (network, timeout, not JSON).
    Unreachable(String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Refused { status, body, .. } => f.write_str(&crate::errors::describe(*status, body)),
            CallError::Unreachable(why) => write!(f, "cannot reach the Graph API: {why}"),
        }
    }
}

/// One HTTP client for every channel: connections are pooled per host.
#[derive(Clone)]
pub struct Graph {
    http: reqwest::Client,
}

impl Default for Graph {
    fn default() -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .expect("a reqwest client with rustls");
        Graph { http }
    }
}

impl Graph {
    async fn answer(res: Result<reqwest::Response, reqwest::Error>) -> Result<Value, CallError> {
        let res = res.map_err(|e| CallError::Unreachable(e.to_string()))?;
        let status = res.status().as_u16();
        let retry_after =
            res.headers().get(RETRY_AFTER).and_then(|v| v.to_str().ok()?.parse().ok()).map(Duration::from_secs);
        let text = res.text().await.map_err(|e| CallError::Unreachable(e.to_string()))?;
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        if (200..300).contains(&status) && body.is_object() {
            Ok(body)
        } else {
            Err(CallError::Refused { status, body, retry_after })
        }
    }

    pub async fn get(&self, s: &Settings, path: &str, query: &[(&str, &str)]) -> Result<Value, CallError> {
        let url = url::Url::parse_with_params(&format!("{}/{path}", s.api_url), query)
            .map_err(|e| CallError::Unreachable(format!("not a URL: {e}")))?;
        Self::answer(self.http.get(url).bearer_auth(&s.access_token).send().await).await
    }

    /// A `paging.next` address Graph gave; it carries its own query.
    pub async fn get_url(&self, s: &Settings, url: &str) -> Result<Value, CallError> {
        Self::answer(self.http.get(url).bearer_auth(&s.access_token).send().await).await
    }

    /// Sends one message; its `wamid`.
    pub async fn send(&self, s: &Settings, message: &Value) -> Result<String, CallError> {
        let url = format!("{}/{}/messages", s.api_url, s.phone_number_id);
        let body = Self::answer(self.http.post(url).bearer_auth(&s.access_token).json(message).send().await).await?;
        body["messages"][0]["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| CallError::Unreachable(format!("a send answered without a message id: {body}")))
    }

    /// The bytes of a media URL Graph gave (it wants the token too).
    pub async fn download(&self, s: &Settings, url: &str) -> Result<reqwest::Response, CallError> {
        let res = self.http.get(url).bearer_auth(&s.access_token).send().await;
        let res = res.map_err(|e| CallError::Unreachable(e.to_string()))?;
        if res.status().is_success() {
            return Ok(res);
        }
        let status = res.status().as_u16();
        Err(CallError::Refused { status, body: Value::Null, retry_after: None })
    }
}
