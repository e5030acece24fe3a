//! Imports admins start: the file is stored with a running import, applied in the background
//! (see `import`), and its progress written where any catalog process reads it. The process
//! running an import beats its heart while it works; when it dies (a crash, kill -9, a
//! deploy), the heartbeat goes stale and another process (or this one, restarted) takes the
//! import over and imports the file again: importing is idempotent, so what the first attempt
//! applied is found unchanged and the rest is applied.

use std::sync::Arc;
use std::time::Duration;

use primitives::id::new_id;
use primitives::stop::StopSignal;
use primitives::time::now_millis;
use tokio::sync::watch;

use super::import::{ImportProgress, ImportReport};
use super::{CatalogResult, CatalogService};
use crate::domain::import::ImportFormat;
use crate::domain::import_job::{ImportCounts, ImportStatus, ProductImport};

/// How often a running import writes its heartbeat when it has no progress to tell.
const HEARTBEAT: Duration = Duration::from_secs(10);
/// A running import whose heartbeat is older than this is taken over.
const STALE_AFTER: Duration = Duration::from_secs(60);
/// How often a process looks for imports to take over.
const SWEEP_EVERY: Duration = Duration::from_secs(30);
/// Progress is written at most this often.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);
/// Attempts after which an import that keeps dying is given up as failed.
const MAX_ATTEMPTS: u64 = 5;

impl CatalogService {
    /// Stores `file` as a running import by `admin` and starts applying it in the background.
    pub async fn start_import(
        self: &Arc<Self>,
        file: String,
        format: ImportFormat,
        admin: &str,
    ) -> CatalogResult<ProductImport> {
        let now = now_millis();
        let import = ProductImport::started(new_id("imp"), format, admin, now);
        self.store.insert_import(&import, &file).await?;
        let this = self.clone();
        let id = import.id.clone();
        tokio::spawn(async move { this.run_import(&id).await });
        Ok(import)
    }

    pub async fn product_import(&self, id: &str) -> CatalogResult<Option<ProductImport>> {
        Ok(self.store.import_by_id(id).await?)
    }

    /// Applies a running import's file, telling its progress, and records how it ended.
    pub async fn run_import(&self, id: &str) {
        let outcome = match self.apply_import(id).await {
            Ok(None) => return,
            Ok(Some(outcome)) => outcome,
            Err(error) => Err(error.to_string()),
        };
        if let Err(failure) = &outcome {
            tracing::error!(import = id, %failure, "import failed");
        }
        if let Err(error) = self.end_import(id, outcome).await {
            tracing::error!(import = id, %error, "recording how an import ended failed");
        }
    }

    /// The import's outcome; `None` when it is not running (any more).
    async fn apply_import(&self, id: &str) -> CatalogResult<Option<Result<ImportReport, String>>> {
        let Some(import) = self.store.import_by_id(id).await? else {
            return Ok(None);
        };
        if import.attempts > MAX_ATTEMPTS {
            return Ok(Some(Err(format!(
                "given up after {MAX_ATTEMPTS} attempts that did not finish"
            ))));
        }
        let Some(file) = self.store.import_file(id).await? else {
            return Ok(None);
        };
        let (progress, watched) = watch::channel(ImportProgress::Checking);
        let applied = async {
            let report = self.import(file.as_bytes(), import.format, &progress).await;
            drop(progress);
            report
        };
        let (report, ()) = tokio::join!(applied, self.write_progress(id, watched));
        Ok(Some(Ok(report?)))
    }

    /// Writes `progress` as it changes (at most every [`PROGRESS_EVERY`]), and a heartbeat
    /// every [`HEARTBEAT`], until the import drops its sender. A write that fails is logged and
    /// tried again with the next one: the import itself goes on, and only a heartbeat missed
    /// for a whole minute lets another process take it over (harmlessly, as it is idempotent).
    async fn write_progress(&self, id: &str, mut progress: watch::Receiver<ImportProgress>) {
        let mut heartbeat = tokio::time::interval(HEARTBEAT);
        let mut written_at = tokio::time::Instant::now();
        loop {
            tokio::select! {
                changed = progress.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    if written_at.elapsed() < PROGRESS_EVERY {
                        continue;
                    }
                }
                _ = heartbeat.tick() => {}
            }
            let (done, total) = match *progress.borrow_and_update() {
                ImportProgress::Checking => (0, None),
                ImportProgress::Applying { done, total } => (done as u64, Some(total as u64)),
            };
            let written = self
                .store
                .record_import_progress(id, done, total, now_millis())
                .await;
            if let Err(error) = written {
                tracing::warn!(import = id, %error, "writing an import's progress failed");
            }
            written_at = tokio::time::Instant::now();
        }
    }

    async fn end_import(
        &self,
        id: &str,
        outcome: Result<ImportReport, String>,
    ) -> CatalogResult<()> {
        let Some(mut import) = self.store.import_by_id(id).await? else {
            return Ok(());
        };
        let now = now_millis();
        import.updated_at = now;
        import.finished_at = Some(now);
        match outcome {
            Ok(report) if !report.errors.is_empty() => {
                import.status = ImportStatus::Rejected;
                import.error_count = report.errors.len() as u64;
                import.errors = report.errors;
            }
            Ok(report) => {
                import.status = ImportStatus::Done;
                import.products_done =
                    report.products_created + report.products_updated + report.products_unchanged;
                import.products_total = Some(import.products_done);
                import.counts = ImportCounts {
                    products_created: report.products_created,
                    products_updated: report.products_updated,
                    variants_created: report.variants_created,
                    variants_updated: report.variants_updated,
                    variants_unchanged: report.variants_unchanged,
                };
            }
            Err(failure) => {
                import.status = ImportStatus::Failed;
                import.failure = Some(failure);
            }
        }
        self.store.finish_import(&import).await?;
        self.imports_ended.send_modify(|n| *n += 1);
        Ok(())
    }

    /// How many imports this process ended; `changed()` resolves on the next.
    pub fn imports_ended(&self) -> watch::Receiver<u64> {
        self.imports_ended.subscribe()
    }

    /// Takes over imports whose process died (see the module's comment), now and every
    /// [`SWEEP_EVERY`] until `stop`.
    pub async fn resume_imports(self: Arc<Self>, stop: StopSignal) {
        let stopped = stop.stopped();
        tokio::pin!(stopped);
        let mut ticks = tokio::time::interval(SWEEP_EVERY);
        loop {
            tokio::select! {
                _ = &mut stopped => return,
                _ = ticks.tick() => {}
            }
            if let Err(error) = self.resume_stale_imports().await {
                tracing::error!(%error, "looking for imports to take over failed");
            }
        }
    }

    /// Takes over every running import whose heartbeat is stale and runs it here; returns how
    /// many it took.
    pub async fn resume_stale_imports(self: &Arc<Self>) -> CatalogResult<usize> {
        let now = now_millis();
        let stale_before = now - STALE_AFTER.as_millis() as i64;
        let claimed = self.store.claim_stale_imports(stale_before, now).await?;
        for id in &claimed {
            tracing::warn!(import = %id, "taking over an import whose process stopped");
            let this = self.clone();
            let id = id.clone();
            tokio::spawn(async move { this.run_import(&id).await });
        }
        Ok(claimed.len())
    }
}
