//! Persisted operations: the published [`manifest`] (partners may run nothing else; with
//! `safelist = "all"` no client may) and automatic persisted queries ([`apq`]) for the others.
//! The manifest file is read again when it changes, without a restart; a changed manifest that
//! does not load is refused as a whole and the one in use stays.

pub mod apq;
pub mod manifest;

use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::sync::watch;

use self::apq::ApqStore;
use self::manifest::{Manifest, ManifestError};
use crate::config::Safelist;
use crate::supergraph::Supergraph;

/// How many times the manifest was loaded, and how many changed versions were refused.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ManifestLoads {
    pub loaded: u64,
    pub refused: u64,
}

pub struct PersistedOperations {
    manifest: RwLock<Arc<Manifest>>,
    source: Option<PathBuf>,
    /// The hash of the file's text last read (loaded or refused), to read a file only when it
    /// changed.
    last_read: std::sync::Mutex<Option<String>>,
    loads: watch::Sender<ManifestLoads>,
    /// `None` when automatic persisted queries are off.
    pub apq: Option<ApqStore>,
    pub safelist: Safelist,
}

impl PersistedOperations {
    /// Loads the manifest at `source` (none: no published operations); a manifest that does
    /// not load is an error, so a router never starts without the operations it should serve.
    pub fn load(
        source: Option<PathBuf>,
        supergraph: &Supergraph,
        apq: Option<ApqStore>,
        safelist: Safelist,
    ) -> Result<Self, ManifestError> {
        let persisted = Self {
            manifest: RwLock::new(Arc::new(Manifest::default())),
            source,
            last_read: std::sync::Mutex::new(None),
            loads: watch::channel(ManifestLoads::default()).0,
            apq,
            safelist,
        };
        if let Some(changed) = persisted.read_if_changed()? {
            persisted.install(Manifest::load(&changed, supergraph)?);
        }
        Ok(persisted)
    }

    /// The manifest in use.
    pub fn manifest(&self) -> Arc<Manifest> {
        self.manifest
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Loads and refusals so far; `changed()` resolves on the next.
    pub fn loads(&self) -> watch::Receiver<ManifestLoads> {
        self.loads.subscribe()
    }

    /// Reads the manifest file again if it changed: a manifest that loads replaces the one in
    /// use; one that does not is logged and counted, and the one in use stays.
    pub fn reload(&self, supergraph: &Supergraph) {
        let text = match self.read_if_changed() {
            Ok(Some(text)) => text,
            Ok(None) => return,
            Err(error) => {
                tracing::error!(%error, "persisted-operation manifest unreadable; keeping the one in use");
                self.loads.send_modify(|l| l.refused += 1);
                return;
            }
        };
        match Manifest::load(&text, supergraph) {
            Ok(manifest) => {
                tracing::info!(
                    operations = manifest.len(),
                    "persisted-operation manifest reloaded"
                );
                self.install(manifest);
            }
            Err(error) => {
                tracing::error!(%error, "changed persisted-operation manifest refused; keeping the one in use");
                self.loads.send_modify(|l| l.refused += 1);
            }
        }
    }

    /// Reloads the router's manifest whenever its file changes, until `stop`.
    pub async fn follow(
        state: Arc<crate::AppState>,
        every: Duration,
        stop: primitives::stop::StopSignal,
    ) {
        if state.persisted.source.is_none() {
            return;
        }
        let stopped = stop.stopped();
        tokio::pin!(stopped);
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = &mut stopped => return,
                _ = ticks.tick() => {
                    let state = state.clone();
                    // Validating a manifest is CPU work; keep it off the request workers.
                    let _ = tokio::task::spawn_blocking(move || {
                        state.persisted.reload(&state.supergraph)
                    })
                    .await;
                }
            }
        }
    }

    fn install(&self, manifest: Manifest) {
        *self.manifest.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(manifest);
        self.loads.send_modify(|l| l.loaded += 1);
    }

    fn read_if_changed(&self) -> Result<Option<String>, ManifestError> {
        let Some(path) = &self.source else {
            return Ok(None);
        };
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let hash = manifest::sha256_hex(&text);
        let mut last_read = self.last_read.lock().unwrap_or_else(|e| e.into_inner());
        if last_read.as_deref() == Some(hash.as_str()) {
            return Ok(None);
        }
        *last_read = Some(hash);
        Ok(Some(text))
    }
}
