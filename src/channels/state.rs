//! What a connector keeps for one of its channels across restarts (`Hub::load_state`,
//! `Hub::save_state`): one JSON value per channel, e.g. how far Discord's history has
//! been read, so messages sent while Parley was down are fetched when it is back.

use serde_json::Value;

use crate::error::Result;
use crate::params;
use crate::store::Db;

pub fn load(db: &mut Db, channel_id: i64) -> Result<Option<Value>> {
    let row = db.query_opt("SELECT state FROM connector_state WHERE channel_id = $1", params![channel_id])?;
    let Some(row) = row else { return Ok(None) };
    let text: String = row.get("state")?;
    Ok(serde_json::from_str(&text).ok())
}

pub fn save(db: &mut Db, channel_id: i64, state: &Value, now: i64) -> Result<()> {
    db.exec(
        "INSERT INTO connector_state (channel_id, state, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (channel_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
        params![channel_id, state.to_string(), now],
    )?;
    Ok(())
}
