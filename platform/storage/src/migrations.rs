//! A service's schema migrations, embedded in the binary: `migrations/<service>/NNNN_name.sql`,
//! listed by [`crate::migrations!`] and applied in version order by sqlx's migrator when the
//! database is connected (so a deployed binary needs no migration files beside it).
//!
//! The files are listed rather than found with `sqlx::migrate!`: that macro builds sqlx, its
//! drivers and SQLite a second time for the compiler (about a minute of CPU in every clean
//! build). [`Migrations::unlisted`] finds a file left out of the list, and each subgraph's tests
//! check it (`kit::testing::assert_migrations_listed`).

use std::borrow::Cow;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;

use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};

/// The migrations of one database: each file's name and SQL.
#[derive(Debug)]
pub struct Migrations {
    /// Where the files are in the source tree (for [`Migrations::unlisted`]).
    dir: &'static str,
    files: &'static [(&'static str, &'static str)],
}

/// Embeds the listed files of `dir` (relative to the calling crate's manifest):
/// `storage::migrations!("../../migrations/orders", ["0001_orders.sql", "0002_more.sql"])`.
#[macro_export]
macro_rules! migrations {
    ($dir:literal, [$($file:literal),* $(,)?]) => {
        $crate::migrations::Migrations::new(
            concat!(env!("CARGO_MANIFEST_DIR"), "/", $dir),
            &[$((
                $file,
                include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/", $dir, "/", $file)),
            )),*],
        )
    };
}

#[derive(Debug, thiserror::Error)]
pub enum MigrationsError {
    #[error("migration {file}: the name must be <version>_<description>.sql")]
    BadName { file: String },
}

impl Migrations {
    /// No migrations of its own (a database with only the platform's tables).
    pub const NONE: Migrations = Migrations {
        dir: "",
        files: &[],
    };

    /// Use [`crate::migrations!`], which embeds the files.
    pub const fn new(dir: &'static str, files: &'static [(&'static str, &'static str)]) -> Self {
        Self { dir, files }
    }

    /// sqlx's migrator over these migrations.
    pub async fn migrator(&self) -> Result<Migrator, sqlx::migrate::MigrateError> {
        Migrator::new(self).await
    }

    /// Files of the directory that are not listed (empty when every migration is embedded).
    pub fn unlisted(&self) -> std::io::Result<Vec<String>> {
        if self.dir.is_empty() {
            return Ok(Vec::new());
        }
        let mut unlisted = Vec::new();
        for entry in std::fs::read_dir(Path::new(self.dir))? {
            let name = entry?.file_name().to_string_lossy().into_owned();
            if name.ends_with(".sql") && !self.files.iter().any(|(file, _)| *file == name) {
                unlisted.push(name);
            }
        }
        unlisted.sort();
        Ok(unlisted)
    }

    /// The migrations in version order, named as `sqlx::migrate!` names them (so databases it
    /// migrated see the same versions and checksums).
    fn parse(&self) -> Result<Vec<Migration>, MigrationsError> {
        let mut migrations = self
            .files
            .iter()
            .map(|(file, sql)| {
                let bad_name = || MigrationsError::BadName {
                    file: file.to_string(),
                };
                let stem = file.strip_suffix(".sql").ok_or_else(bad_name)?;
                let (version, description) = stem.split_once('_').ok_or_else(bad_name)?;
                let version: i64 = version.parse().map_err(|_| bad_name())?;
                Ok(Migration::new(
                    version,
                    Cow::Owned(description.replace('_', " ")),
                    MigrationType::Simple,
                    Cow::Borrowed(*sql),
                    sql.starts_with("-- no-transaction"),
                ))
            })
            .collect::<Result<Vec<_>, MigrationsError>>()?;
        migrations.sort_by_key(|migration| migration.version);
        Ok(migrations)
    }
}

impl<'s> MigrationSource<'s> for &'s Migrations {
    fn resolve(
        self,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<Migration>, BoxDynError>> + Send + 's>> {
        Box::pin(async move { Ok(self.parse()?) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static ORDERS: Migrations = crate::migrations!(
        "../../migrations/orders",
        [
            "0002_shipping_method.sql",
            "0001_orders.sql",
            "0003_one_checkout_per_cart.sql",
        ]
    );

    #[test]
    fn listed_files_are_embedded_in_version_order_and_the_rest_are_found() {
        let migrations = ORDERS.parse().unwrap();
        let versions: Vec<i64> = migrations.iter().map(|m| m.version).collect();
        assert_eq!(versions, [1, 2, 3]);
        assert_eq!(migrations[1].description, "shipping method");
        assert!(migrations[0].sql.contains("CREATE TABLE"));
        let unlisted = ORDERS.unlisted().unwrap();
        assert!(unlisted.contains(&"0004_reservation_reference.sql".to_string()));
        assert!(!unlisted.contains(&"0001_orders.sql".to_string()));
        assert!(Migrations::NONE.unlisted().unwrap().is_empty());
    }

    #[test]
    fn a_file_without_a_version_is_refused() {
        static BAD: Migrations = Migrations::new("", &[("orders.sql", "SELECT 1")]);
        assert!(matches!(
            BAD.parse(),
            Err(MigrationsError::BadName { file }) if file == "orders.sql"
        ));
    }
}
