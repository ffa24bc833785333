//! Background work of channels (Telegram long polling, webhook registration): one task
//! per channel, restarted when its channel changes and stopped on shutdown. When to
//! start which channel is decided by `channels::lifecycle`; this is only the mechanism.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use parley_sdk::{Channel, Connector, Hub};
use tokio_util::sync::CancellationToken;

#[derive(Default)]
pub struct Runners(Mutex<HashMap<i64, CancellationToken>>);

impl Runners {
    /// (Re)starts the channel's background work with its current settings; it stops
    /// when `shutdown` is cancelled or the channel is started again.
    pub fn start(
        &self,
        connector: Arc<dyn Connector>,
        channel: Channel,
        hub: Arc<dyn Hub>,
        shutdown: &CancellationToken,
    ) {
        let stop = shutdown.child_token();
        if let Some(old) = self.0.lock().unwrap_or_else(|e| e.into_inner()).insert(channel.id, stop.clone()) {
            old.cancel();
        }
        tokio::spawn(async move { connector.run(channel, hub, stop).await });
    }
}
