//! Flows from files: every `*.yaml` directly in the flows directory (`[flows] dir`,
//! `config/flows` by default; the shipped examples sit in a subfolder, so they never
//! run until copied up). A file's id is its name without `.yaml`. A changed file becomes
//! a new version if it passes the check; one that does not is reported and its last
//! good version stays. A removed file's flow is switched off. The directory is looked at
//! again every few seconds (the files' sizes and times, cheap), so edits apply live.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use tokio_util::sync::CancellationToken;

use super::catalog::{self, Origin};
use super::check::{Checked, check};
use crate::error::Result;
use crate::params;
use crate::store::{Db, Store};

const POLL: Duration = Duration::from_secs(2);

/// A flow file read from disk.
pub struct FlowFile {
    pub id: String,
    pub path: PathBuf,
    pub source: String,
}

/// The `*.yaml` files directly in `dir`, by name; a missing directory has none.
pub fn read_dir(dir: &Path) -> std::io::Result<Vec<FlowFile>> {
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let path = entry?.path();
        let is_yaml = path.extension().is_some_and(|e| e == "yaml" || e == "yml");
        if !is_yaml || !path.is_file() {
            continue;
        }
        let id = path.file_stem().and_then(|s| s.to_str()).unwrap_or("").to_owned();
        let source = std::fs::read_to_string(&path)?;
        out.push(FlowFile { id, path, source });
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

/// What a sync saw of one file.
pub struct Seen {
    pub file: FlowFile,
    pub checked: Checked,
}

/// Checks every file in `dir` (the CLI's `flows check` and the loader).
pub fn check_dir(dir: &Path) -> std::io::Result<Vec<Seen>> {
    Ok(read_dir(dir)?.into_iter().map(|file| Seen { checked: check(&file.source), file }).collect())
}

/// Brings the stored file flows in line with `dir`.
pub fn sync(db: &mut Db, seen: &[Seen], now: i64) -> Result<()> {
    for s in seen {
        if !catalog::valid_id(&s.file.id) {
            tracing::error!(file = %s.file.path.display(), "a flow file's name must be lower-case letters, digits, `-` or `_`");
            continue;
        }
        if let Some(e) = s.checked.errors().next() {
            tracing::error!(file = %s.file.path.display(), "{}; its last good version stays", e.render(&s.file.path.display().to_string()));
            continue;
        }
        let author = format!("file {}", s.file.path.display());
        let fresh = catalog::current(db, &s.file.id)?.is_none();
        let saved = catalog::save(db, &s.file.id, Origin::File, &s.file.source, &author, None, now);
        match saved {
            // A new file runs unless it says `enabled: false`; an edited file's
            // `enabled:` applies again (the console's switch holds until then).
            Ok(v) if v.changed || fresh => catalog::set_enabled(db, &s.file.id, s.checked.enabled, &author, now)?,
            Ok(_) => {}
            Err(e) => tracing::error!(file = %s.file.path.display(), error = %e, "a flow file was not loaded"),
        }
    }
    let ids: Vec<&str> = seen.iter().map(|s| s.file.id.as_str()).collect();
    let stored = db.query("SELECT id FROM flows WHERE origin = $1 AND enabled = 1", params![Origin::File])?;
    for id in crate::store::column::<String>(&stored, "id")? {
        if !ids.contains(&id.as_str()) {
            tracing::info!(flow.id = id, "a flow's file is gone: the flow is off");
            catalog::set_enabled(db, &id, false, "file removed", now)?;
        }
    }
    Ok(())
}

/// What identifies the directory's state: each file's size and time.
fn stamp(dir: &Path) -> BTreeMap<PathBuf, (u64, Option<SystemTime>)> {
    let Ok(entries) = std::fs::read_dir(dir) else { return BTreeMap::new() };
    entries
        .flatten()
        .filter_map(|e| {
            let m = e.metadata().ok()?;
            Some((e.path(), (m.len(), m.modified().ok())))
        })
        .collect()
}

/// Loads `dir` once now, then again whenever it changes, until shutdown.
pub async fn watch(store: Store, clock: std::sync::Arc<dyn crate::Clock>, dir: PathBuf, shutdown: CancellationToken) {
    let mut last = None;
    loop {
        let now_stamp = stamp(&dir);
        if last.as_ref() != Some(&now_stamp) {
            let d = dir.clone();
            match tokio::task::spawn_blocking(move || check_dir(&d)).await {
                Ok(Ok(seen)) => {
                    let now = clock.now_ms();
                    if let Err(e) = store.write(move |db| sync(db, &seen, now)).await {
                        tracing::error!(error = %e, "cannot store the flow files");
                    }
                }
                Ok(Err(e)) => tracing::error!(dir = %dir.display(), error = %e, "cannot read the flows directory"),
                Err(e) => tracing::error!(error = %e, "the flows loader failed"),
            }
            last = Some(now_stamp);
        }
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = shutdown.cancelled() => return,
        }
    }
}
