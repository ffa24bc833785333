//! Parley's integration tests: one binary, the real app on 127.0.0.1:0 with its own
//! database, real clients, platform fakes on loopback. Run on SQLite by default and on
//! PostgreSQL when PARLEY_TEST_DATABASE_URL is set.

mod support;

mod audit;
mod auth;
mod browser_bots;
mod browser_console;
mod browser_settings;
mod browser_widget;
mod chats;
mod client_addr;
mod contacts;
mod delivery;
mod discord;
mod distribution;
mod event_order;
mod events;
mod flows;
mod group_commit;
mod inbound;
mod layering;
mod login_limits;
mod metrics;
mod nodes;
mod openapi;
mod operations;
mod outbox;
mod reports;
mod robustness;
mod rows;
mod sessions;
mod takeover;
mod telegram;
mod tls;
mod typed_states;
mod whatsapp;
mod widget;
