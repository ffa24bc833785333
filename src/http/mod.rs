//! The HTTP surface: a thin layer that parses, authorizes, calls the domain and maps
//! errors. Routes are listed here, in one place, as in DESIGN.md → Public surface.
//! Each handler carries its `#[utoipa::path]`; `openapi.rs` lists them all, and
//! tests/openapi checks that every route below is in that document.

mod assets;
mod audit;
pub mod auth;
mod broadcasts;
mod channels;
mod chats;
pub mod client;
mod contacts;
pub mod error;
mod events;
mod files;
mod flows;
mod hooks;
mod notify;
mod observe;
pub mod openapi;
mod reports;
mod sessions;
mod templates;
pub mod widget;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::HeaderValue;
use axum::http::header::REFERRER_POLICY;
use axum::routing::{delete, get, post, put};
use tower_http::CompressionLevel;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::app::App;
use error::ApiError;

/// Each request's log span, with the client's address as [`client::resolve`] found it.
fn request_span(req: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    let client = req.extensions().get::<client::ClientAddr>().map(|c| c.0.to_string()).unwrap_or_default();
    tracing::info_span!("request", method = %req.method(), uri = %req.uri(), %client)
}

pub fn router(app: App) -> Router {
    let api = Router::new()
        .route("/login", post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/setup", post(auth::setup))
        .route("/setup/{token}", get(auth::setup_check))
        .route("/me", get(auth::me))
        .route("/me/status", put(auth::set_status))
        .route("/me/tokens", get(sessions::list_tokens).post(auth::create_token))
        .route("/me/tokens/{id}", delete(sessions::revoke_token))
        .route("/me/sessions", get(sessions::list_sessions))
        .route("/me/sessions/{id}", delete(sessions::revoke_session))
        .route("/me/notify/telegram", post(notify::connect).delete(notify::disconnect))
        .route("/me/notify/discord", post(notify::connect_discord).delete(notify::disconnect_discord))
        .route("/operators", get(auth::list_operators).post(auth::create_operator))
        .route("/operators/{id}/deactivate", post(sessions::deactivate))
        .route("/operators/{id}/reactivate", post(sessions::reactivate))
        .route("/audit", get(audit::list))
        .route("/chats", get(chats::list))
        .route("/chats/{id}", get(chats::get))
        .route("/chats/{id}/messages", get(chats::history).post(chats::reply))
        .route("/chats/{id}/notes", post(chats::note))
        .route("/chats/{id}/close", post(chats::close))
        .route("/chats/{id}/reopen", post(chats::reopen))
        .route("/chats/{id}/read", post(chats::read))
        .route("/chats/{id}/transfer", post(chats::transfer))
        .route("/chats/{id}/channel", put(chats::set_channel))
        .route("/chats/{id}/typing", post(chats::typing))
        .route("/contacts", get(contacts::list))
        .route("/contacts/{id}", get(contacts::get).patch(contacts::update))
        .route("/contacts/{id}/duplicates", get(contacts::duplicates))
        .route("/contacts/{id}/merge", post(contacts::merge))
        .route("/contacts/{id}/flows/{flow}", post(flows::start))
        .route("/contacts/{id}/bot", get(flows::bot))
        .route("/contacts/{id}/bot/pause", post(flows::pause))
        .route("/contacts/{id}/bot/resume", post(flows::resume))
        .route("/flows", get(flows::list))
        .route("/flows/check", post(flows::check))
        .route("/flows/simulate", post(flows::simulate))
        .route("/flows/{id}", get(flows::get).put(flows::put).delete(flows::delete))
        .route("/flows/{id}/versions", get(flows::versions))
        .route("/flows/{id}/rollback", post(flows::rollback))
        .route("/flows/{id}/enabled", put(flows::switch))
        .route("/merges", get(contacts::merges))
        .route("/merges/{id}/undo", post(contacts::undo_merge))
        .route("/search/messages", get(contacts::search_messages))
        .route("/channels", get(channels::list).post(channels::create))
        .route("/channels/{id}", get(channels::get).patch(channels::update))
        .route("/channels/{id}/files/{file_id}", get(files::fetch))
        .route("/channels/{id}/templates", get(templates::templates))
        .route("/broadcasts", get(broadcasts::list).post(broadcasts::create))
        .route("/broadcasts/preview", post(broadcasts::preview))
        .route("/broadcasts/{id}", get(broadcasts::get))
        .route("/broadcasts/{id}/start", post(broadcasts::start))
        .route("/broadcasts/{id}/pause", post(broadcasts::pause))
        .route("/broadcasts/{id}/resume", post(broadcasts::resume))
        .route("/broadcasts/{id}/cancel", post(broadcasts::cancel))
        .route("/broadcasts/{id}/resend-unknown", post(broadcasts::resend_unknown))
        .route("/broadcasts/{id}/recipients", get(broadcasts::recipients))
        .route("/queue", get(reports::queue))
        .route("/reports/conversations", get(reports::conversations))
        .route("/reports/operator-status", get(reports::operator_status))
        .route("/events", get(events::subscribe))
        .route("/openapi.json", get(assets::openapi))
        .fallback(|| async { ApiError::not_found("no such API route") })
        .method_not_allowed_fallback(|| async {
            ApiError::from_status(axum::http::StatusCode::METHOD_NOT_ALLOWED, "this route does not take that method")
        });

    let body_limit = app.config.limits.body_bytes;
    Router::new()
        .nest("/api/v1", api)
        .route("/widget.js", get(assets::widget_js))
        .route("/widget/config", get(widget::config))
        .route("/widget/ws", get(widget::connect))
        .route("/demo", get(assets::demo))
        .route("/healthz", get(assets::healthz))
        .route("/readyz", get(assets::readyz))
        .route("/metrics", get(assets::metrics))
        .route("/", get(assets::console_index))
        .route("/login", get(assets::console_login))
        .route("/setup", get(assets::console_setup))
        .route("/console/{*path}", get(assets::console_file))
        // Text and JSON leave compressed (gzip or brotli, as the client accepts; level 4
        // keeps big chat lists cheap to compress); WebSocket upgrades have no body to compress.
        .layer(CompressionLayer::new().quality(CompressionLevel::Precise(4)))
        // Platforms' webhooks: answered small and at once, never compressed.
        .route("/hooks/{channel_id}", post(hooks::receive).get(hooks::verify))
        .fallback(|| async { ApiError::not_found("no such page") })
        .method_not_allowed_fallback(|| async {
            ApiError::from_status(axum::http::StatusCode::METHOD_NOT_ALLOWED, "this route does not take that method")
        })
        .route_layer(axum::middleware::from_fn(observe::track))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(CatchPanicLayer::new())
        .layer(SetResponseHeaderLayer::if_not_present(REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(axum::middleware::from_fn_with_state(app.clone(), client::resolve))
        .with_state(app)
}
