//! Background work of channels (Telegram long polling, webhook registration): one task
//! per channel, started at launch and whenever a channel is created or changed, and
//! stopped on shutdown.

use std::collections::HashMap;
use std::sync::Mutex;

use parley_sdk::Channel;
use tokio_util::sync::CancellationToken;

use crate::app::App;

#[derive(Default)]
pub struct Runners(Mutex<HashMap<i64, CancellationToken>>);

impl Runners {
    /// (Re)starts the channel's background work with its current settings.
    pub fn start(&self, app: &App, channel: Channel) {
        let Some(connector) = app.connectors.get(&channel.kind) else { return };
        let stop = app.shutdown.child_token();
        if let Some(old) = self.0.lock().unwrap_or_else(|e| e.into_inner()).insert(channel.id, stop.clone()) {
            old.cancel();
        }
        let hub = app.hub();
        tokio::spawn(async move { connector.run(channel, hub, stop).await });
    }

    /// Starts every stored channel's background work.
    pub async fn start_all(&self, app: &App) -> crate::error::Result<()> {
        for c in app.store.read(crate::channels::list).await? {
            self.start(app, c.channel);
        }
        Ok(())
    }
}
