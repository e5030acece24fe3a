//! Collections as stored (`collections`), parsed into [`Collection`]s here, once.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::sql::write_error;
use super::{CatalogStore, StoreError, StoreResult};
use crate::domain::collection::{Collection, CollectionRule, CollectionSort};

const COLUMNS: &str =
    "id, slug, title, description, rule, sort, published, position, created_at, updated_at";

fn collection(row: &AnyRow) -> StoreResult<Collection> {
    let id: String = row.try_get("id")?;
    let corrupt = |what: String| StoreError::Corrupt {
        id: id.clone(),
        what,
    };
    let rule: String = row.try_get("rule")?;
    let rule: CollectionRule =
        serde_json::from_str(&rule).map_err(|e| corrupt(format!("rule: {e}")))?;
    let sort: String = row.try_get("sort")?;
    let sort = CollectionSort::parse(&sort).ok_or_else(|| corrupt(format!("sort {sort:?}")))?;
    let published: i32 = row.try_get("published")?;
    Ok(Collection {
        slug: row.try_get("slug")?,
        title: row.try_get("title")?,
        description: row.try_get("description")?,
        rule,
        sort,
        published: published == 1,
        position: row.try_get("position")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        id,
    })
}

/// Binds a collection's columns in [`COLUMNS`]' order.
fn bind_collection<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    c: &'q Collection,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    let rule = serde_json::to_string(&c.rule).expect("collection rules serialize");
    query
        .bind(&c.id)
        .bind(&c.slug)
        .bind(&c.title)
        .bind(&c.description)
        .bind(rule)
        .bind(c.sort.as_str())
        .bind(i32::from(c.published))
        .bind(c.position)
        .bind(c.created_at)
        .bind(c.updated_at)
}

impl CatalogStore {
    /// Every collection, in the home page's order (collections are few).
    pub async fn collections(&self) -> StoreResult<Vec<Collection>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM collections ORDER BY position, created_at, id"
        ))
        .fetch_all(self.db.pool())
        .await?;
        rows.iter().map(collection).collect()
    }

    /// Inserts a new collection; a slug another collection has is [`StoreError::Duplicate`].
    pub async fn insert_collection(&self, c: &Collection) -> StoreResult<()> {
        let sql = format!(
            "INSERT INTO collections ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        );
        bind_collection(sqlx::query(&sql), c)
            .execute(self.db.pool())
            .await
            .map_err(write_error)?;
        Ok(())
    }

    /// Replaces the collection with `c`'s id; false when there is none (a collection deleted
    /// meanwhile stays deleted).
    pub async fn replace_collection(&self, c: &Collection) -> StoreResult<bool> {
        let sql = "UPDATE collections SET slug = $2, title = $3, description = $4, rule = $5, \
             sort = $6, published = $7, position = $8, created_at = $9, updated_at = $10 \
             WHERE id = $1";
        let done = bind_collection(sqlx::query(sql), c)
            .execute(self.db.pool())
            .await
            .map_err(write_error)?;
        Ok(done.rows_affected() == 1)
    }

    /// False when there was no such collection.
    pub async fn delete_collection(&self, id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM collections WHERE id = $1")
            .bind(id)
            .execute(self.db.pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
