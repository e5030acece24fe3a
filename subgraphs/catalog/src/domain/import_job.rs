//! An import an admin started: it runs in the background, any catalog process reports where it
//! is, and another process takes it over when the one running it dies (see
//! `service::import_jobs`).

use super::import::{ImportFormat, RowError};

/// At most this many errors of a rejected file are kept (and `error_count` says how many there
/// were): enough to fix a file, bounded however broken it is.
pub const KEPT_ERRORS: usize = 1000;

#[derive(async_graphql::Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportStatus {
    /// Being checked or applied.
    Running,
    /// Applied.
    Done,
    /// The file has errors: nothing was imported.
    Rejected,
    /// The import could not finish (the database failed, or the file was changed under it);
    /// what it applied stays, and importing the same file again finishes it.
    Failed,
}

impl ImportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Done => "done",
            Self::Rejected => "rejected",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "running" => Self::Running,
            "done" => Self::Done,
            "rejected" => Self::Rejected,
            "failed" => Self::Failed,
            _ => return None,
        })
    }
}

impl ImportFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::JsonLines => "json_lines",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "csv" => Self::Csv,
            "json_lines" => Self::JsonLines,
            _ => return None,
        })
    }
}

/// What an import changed so far (or in all, once it is done).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportCounts {
    pub products_created: u64,
    pub products_updated: u64,
    pub variants_created: u64,
    pub variants_updated: u64,
    pub variants_unchanged: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ProductImport {
    pub id: String,
    pub status: ImportStatus,
    pub format: ImportFormat,
    /// The admin who started it.
    pub started_by: String,
    /// The file's products, known once the file is checked.
    pub products_total: Option<u64>,
    pub products_done: u64,
    pub counts: ImportCounts,
    /// The first [`KEPT_ERRORS`] rows and columns at fault, by row.
    pub errors: Vec<RowError>,
    pub error_count: u64,
    pub failure: Option<String>,
    /// How many times a process started it (more than once when one died running it).
    pub attempts: u64,
    pub created_at: i64,
    /// Its last progress or heartbeat.
    pub updated_at: i64,
    pub finished_at: Option<i64>,
}

impl ProductImport {
    /// An import `admin` starts at `now`: running, nothing known of its file yet.
    pub fn started(id: String, format: ImportFormat, admin: &str, now: i64) -> Self {
        Self {
            id,
            status: ImportStatus::Running,
            format,
            started_by: admin.into(),
            products_total: None,
            products_done: 0,
            counts: ImportCounts::default(),
            errors: Vec::new(),
            error_count: 0,
            failure: None,
            attempts: 1,
            created_at: now,
            updated_at: now,
            finished_at: None,
        }
    }
}
