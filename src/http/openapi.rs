//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]` and the
//! types they serialize, served at `GET /api/v1/openapi.json`.
//!
//! A route added to `mod.rs` must be listed in `paths(...)` below: tests/openapi
//! compares the router's routes with this document and fails on any difference.

use std::sync::OnceLock;

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{
    assets, audit, auth, broadcasts, channels, chats, contacts, events, files, flows, hooks, notify, reports, sessions,
    templates, widget,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Parley",
        description = "A bot-and-messenger hub: one chat per contact across channels. \
            Errors are `{\"error\": {\"code\", \"message\"}}` (the `Error` schema). \
            The console authenticates with the `parley_session` cookie, integrations with \
            `Authorization: Bearer <token>` (`POST /api/v1/me/tokens`)."
    ),
    paths(
        auth::login, auth::logout, auth::setup, auth::setup_check, auth::me, auth::set_status,
        auth::create_token, auth::list_operators, auth::create_operator,
        sessions::list_sessions, sessions::revoke_session, sessions::list_tokens, sessions::revoke_token,
        sessions::deactivate, sessions::reactivate, audit::list,
        notify::connect, notify::disconnect, notify::connect_discord, notify::disconnect_discord,
        chats::list, chats::get, chats::history, chats::reply, chats::note, chats::close,
        chats::reopen, chats::read, chats::transfer, chats::set_channel, chats::typing,
        contacts::list, contacts::get, contacts::update, contacts::duplicates, contacts::merge,
        contacts::merges, contacts::undo_merge, contacts::search_messages,
        flows::list, flows::get, flows::put, flows::delete, flows::versions, flows::rollback, flows::switch,
        flows::check, flows::simulate, flows::start, flows::bot, flows::pause, flows::resume,
        channels::list, channels::create, channels::get, channels::update, files::fetch, templates::templates,
        reports::queue, reports::conversations, reports::operator_status,
        broadcasts::list, broadcasts::create, broadcasts::preview, broadcasts::get, broadcasts::start,
        broadcasts::pause, broadcasts::resume, broadcasts::cancel, broadcasts::resend_unknown,
        broadcasts::recipients,
        events::subscribe, assets::openapi,
        hooks::receive,
        hooks::verify,
        widget::config, widget::connect,
        assets::widget_js, assets::demo, assets::healthz, assets::readyz, assets::metrics,
        assets::console_index, assets::console_login, assets::console_setup, assets::console_file,
    ),
    // Schemas reached only through other schemas are collected by utoipa; these are
    // named so that the document's component list shows the domain types by name.
    components(schemas(
        crate::model::Operator, crate::model::Chat, crate::model::Message, crate::model::Contact,
        crate::model::Event, crate::model::EventKind, crate::channels::PublicChannel,
        super::error::ErrorBody, crate::inbox::chats::View,
    )),
    modifiers(&Security, &OperationIds),
    tags(
        (name = "auth", description = "Log in, set up, the caller's profile, tokens and notifications"),
        (name = "operators"), (name = "chats"), (name = "contacts"), (name = "channels"),
        (name = "flows", description = "Bot flows: versions, switches, the check, the simulator; the bot per contact"),
        (name = "reports", description = "KPIs and the queue"),
        (name = "broadcasts", description = "One message to an audience of contacts"),
        (name = "events", description = "The console's WebSocket"),
        (name = "webhooks", description = "Platforms post their updates here"),
        (name = "widget", description = "The website widget's public endpoints"),
        (name = "console"), (name = "operations"),
    )
)]
pub struct ApiDoc;

/// The two ways to authenticate, named by the operations' `security(...)`: the console's
/// cookie (`auth::COOKIE_NAME`) and an API token.
struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                auth::COOKIE_NAME,
                "Set by `POST /api/v1/login` and `POST /api/v1/setup`",
            ))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API token from `POST /api/v1/me/tokens`"))
                    .build(),
            ),
        );
    }
}

/// utoipa names an operation after its function; `list`, `get`, `update` exist in
/// several modules, so each id is prefixed with its tag (`chats.list`), which is unique.
struct OperationIds;

impl Modify for OperationIds {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        for item in doc.paths.paths.values_mut() {
            let ops = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.options,
                &mut item.head,
                &mut item.patch,
                &mut item.trace,
            ];
            for op in ops.into_iter().flatten() {
                if let (Some(tag), Some(id)) = (op.tags.as_ref().and_then(|t| t.first()), op.operation_id.as_mut()) {
                    *id = format!("{tag}.{id}");
                }
            }
        }
    }
}

/// The document as JSON, built once (it only depends on the code).
pub fn json() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| ApiDoc::openapi().to_pretty_json().expect("the OpenAPI document serializes"))
}
