//! Each answered request, counted and timed by route (the route's pattern, not the
//! path, so `/api/v1/chats/{id}` is one series), method and status.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;

pub async fn track(req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().as_str().to_owned();
    let started = Instant::now();
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    let labels = [("route", route), ("method", method), ("status", status)];
    metrics::histogram!("parley_http_request_duration_seconds", &labels).record(started.elapsed().as_secs_f64());
    metrics::counter!("parley_http_requests_total", &labels).increment(1);
    res
}
