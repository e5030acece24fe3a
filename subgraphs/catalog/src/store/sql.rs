//! One SQL implementation for both backends (see `storage::db`).

use kit::pagination::PageRequest;
use sqlx::any::AnyRow;
use sqlx::Row;
use storage::db::{insert_rows, json_list, Database};

use super::*;

#[derive(Clone)]
pub struct CatalogStore {
    pub(super) db: Database,
}

impl CatalogStore {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

const PRODUCT_COLUMNS: &str = "id, sku, slug, name, description, brand_id, category_id, price_minor, currency, attributes, media, status, weight_grams, options, meta_title, meta_description, tax_class, created_at, updated_at";

/// Binds a product's values in [`PRODUCT_COLUMNS`] order (every statement that writes one
/// goes through here, so columns and values cannot drift apart).
fn bind_product<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    p: &'q ProductRow,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    query
        .bind(&p.id)
        .bind(&p.sku)
        .bind(&p.slug)
        .bind(&p.name)
        .bind(&p.description)
        .bind(&p.brand_id)
        .bind(&p.category_id)
        .bind(p.price_minor)
        .bind(&p.currency)
        .bind(&p.attributes)
        .bind(&p.media)
        .bind(&p.status)
        .bind(p.weight_grams)
        .bind(&p.options)
        .bind(&p.meta_title)
        .bind(&p.meta_description)
        .bind(&p.tax_class)
        .bind(p.created_at)
        .bind(p.updated_at)
}

/// `UPDATE products SET sku = $2, ... WHERE id = $1 AND updated_at = $<n + 1>`: every column
/// of [`PRODUCT_COLUMNS`] bound by [`bind_product`], then the version it replaces.
fn product_update_sql() -> String {
    let columns: Vec<&str> = PRODUCT_COLUMNS.split(", ").collect();
    let set: Vec<String> = columns
        .iter()
        .enumerate()
        .skip(1)
        .map(|(i, column)| format!("{column} = ${}", i + 1))
        .collect();
    format!(
        "UPDATE products SET {} WHERE id = $1 AND updated_at = ${}",
        set.join(", "),
        columns.len() + 1
    )
}

fn product_row(row: &AnyRow) -> Result<ProductRow, sqlx::Error> {
    Ok(ProductRow {
        id: row.try_get("id")?,
        sku: row.try_get("sku")?,
        slug: row.try_get("slug")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        brand_id: row.try_get("brand_id")?,
        category_id: row.try_get("category_id")?,
        price_minor: row.try_get("price_minor")?,
        currency: row.try_get("currency")?,
        attributes: row.try_get("attributes")?,
        media: row.try_get("media")?,
        status: row.try_get("status")?,
        weight_grams: row.try_get("weight_grams")?,
        options: row.try_get("options")?,
        meta_title: row.try_get("meta_title")?,
        meta_description: row.try_get("meta_description")?,
        tax_class: row.try_get("tax_class")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

const VARIANT_COLUMNS: &str = "id, product_id, position, sku, option_values, price_minor, compare_at_minor, currency, weight_grams, barcode, status, created_at, updated_at";

fn variant_row(row: &AnyRow) -> Result<VariantRow, sqlx::Error> {
    Ok(VariantRow {
        id: row.try_get("id")?,
        product_id: row.try_get("product_id")?,
        position: row.try_get("position")?,
        sku: row.try_get("sku")?,
        option_values: row.try_get("option_values")?,
        price_minor: row.try_get("price_minor")?,
        compare_at_minor: row.try_get("compare_at_minor")?,
        currency: row.try_get("currency")?,
        weight_grams: row.try_get("weight_grams")?,
        barcode: row.try_get("barcode")?,
        status: row.try_get("status")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn brand_row(row: &AnyRow) -> Result<BrandRow, sqlx::Error> {
    Ok(BrandRow {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        slug: row.try_get("slug")?,
        created_at: row.try_get("created_at")?,
    })
}

/// A failed write: a unique value another row has is [`StoreError::Duplicate`].
pub(super) fn write_error(error: sqlx::Error) -> StoreError {
    match duplicate_of(&error) {
        Some(field) => StoreError::Duplicate(field),
        None => error.into(),
    }
}

fn duplicate_of(error: &sqlx::Error) -> Option<&'static str> {
    let db = error.as_database_error()?;
    if !db.is_unique_violation() {
        return None;
    }
    // Constraint names differ per backend; the message names the column on both.
    let message = format!("{} {:?}", db.message(), db.constraint());
    Some(if message.contains("sku") {
        "sku"
    } else if message.contains("option_values") {
        "option values"
    } else if message.contains("slug") {
        "slug"
    } else {
        "id"
    })
}

/// A bindable value for dynamically built statements.
enum Value {
    Text(String),
    Int(i64),
}

fn bind_all<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    values: &'q [Value],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for value in values {
        query = match value {
            Value::Text(text) => query.bind(text.as_str()),
            Value::Int(n) => query.bind(*n),
        };
    }
    query
}

fn filter_sql(db: &Database, filter: &ProductFilter, values: &mut Vec<Value>) -> Vec<String> {
    let mut clauses = Vec::new();
    if let Some(status) = &filter.status {
        values.push(Value::Text(status.clone()));
        clauses.push(format!("status = ${}", values.len()));
    }
    if !filter.category_ids.is_empty() {
        values.push(Value::Text(json_list(&filter.category_ids)));
        clauses.push(format!("category_id IN ({})", db.any_of_json(values.len())));
    }
    if !filter.brand_ids.is_empty() {
        values.push(Value::Text(json_list(&filter.brand_ids)));
        clauses.push(format!("brand_id IN ({})", db.any_of_json(values.len())));
    }
    if let Some(min) = filter.min_price_minor {
        values.push(Value::Int(min));
        clauses.push(format!("price_minor >= ${}", values.len()));
    }
    if let Some(max) = filter.max_price_minor {
        values.push(Value::Int(max));
        clauses.push(format!("price_minor <= ${}", values.len()));
    }
    clauses
}

/// Multi-row inserts of variants in a transaction, kept under SQLite's parameter limit.
const CATEGORY_SELECT: &str =
    "SELECT id, parent_id, name, slug, attributes, created_at FROM categories";

fn category_row(row: &AnyRow) -> StoreResult<CategoryRow> {
    let id: String = row.try_get("id")?;
    let attributes: String = row.try_get("attributes")?;
    let attributes = serde_json::from_str(&attributes).map_err(|e| StoreError::Corrupt {
        id: id.clone(),
        what: format!("attributes: {e}"),
    })?;
    Ok(CategoryRow {
        id,
        parent_id: row.try_get("parent_id")?,
        name: row.try_get("name")?,
        slug: row.try_get("slug")?,
        attributes,
        created_at: row.try_get("created_at")?,
    })
}

/// Multi-row inserts, kept under SQLite's default 32766 parameters.
async fn insert_products(
    tx: &mut storage::db::Transaction,
    products: &[ProductRow],
) -> StoreResult<()> {
    for chunk in products.chunks(500) {
        let sql = insert_rows("products", PRODUCT_COLUMNS, chunk.len());
        let mut query = sqlx::query(&sql);
        for p in chunk {
            query = bind_product(query, p);
        }
        query.execute(&mut **tx).await.map_err(write_error)?;
    }
    Ok(())
}

async fn insert_variants(
    tx: &mut storage::db::Transaction,
    variants: &[VariantRow],
) -> StoreResult<()> {
    for chunk in variants.chunks(500) {
        let sql = insert_rows("product_variants", VARIANT_COLUMNS, chunk.len());
        let mut query = sqlx::query(&sql);
        for v in chunk {
            query = bind_variant(query, v);
        }
        query.execute(&mut **tx).await.map_err(write_error)?;
    }
    Ok(())
}

/// Inserts a product's default variant or makes it follow the product's SKU, price, weight and
/// status; its own "was" price and barcode stay (the "was" price is dropped once the price
/// reaches it).
async fn follow_product(tx: &mut storage::db::Transaction, v: &VariantRow) -> StoreResult<()> {
    let sql = format!(
        "INSERT INTO product_variants ({VARIANT_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT (id) DO UPDATE SET sku = $4, price_minor = $6, currency = $8, \
         weight_grams = $9, status = $11, updated_at = $13, compare_at_minor = CASE \
         WHEN product_variants.compare_at_minor > $6 THEN product_variants.compare_at_minor END"
    );
    bind_variant(sqlx::query(&sql), v)
        .execute(&mut **tx)
        .await
        .map_err(write_error)?;
    Ok(())
}

fn bind_variant<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    v: &'q VariantRow,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    query
        .bind(&v.id)
        .bind(&v.product_id)
        .bind(v.position)
        .bind(&v.sku)
        .bind(&v.option_values)
        .bind(v.price_minor)
        .bind(v.compare_at_minor)
        .bind(&v.currency)
        .bind(v.weight_grams)
        .bind(&v.barcode)
        .bind(&v.status)
        .bind(v.created_at)
        .bind(v.updated_at)
}

/// Inserts a variant or replaces the one with its id.
async fn upsert_variant(tx: &mut storage::db::Transaction, v: &VariantRow) -> StoreResult<()> {
    let sql = format!(
        "INSERT INTO product_variants ({VARIANT_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT (id) DO UPDATE SET position = $3, sku = $4, option_values = $5, \
         price_minor = $6, compare_at_minor = $7, currency = $8, weight_grams = $9, \
         barcode = $10, status = $11, updated_at = $13"
    );
    bind_variant(sqlx::query(&sql), v)
        .execute(&mut **tx)
        .await
        .map_err(write_error)?;
    Ok(())
}

fn where_clause(clauses: &[String]) -> String {
    if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    }
}

impl CatalogStore {
    async fn rows_where_in(&self, column: &str, keys: &[String]) -> StoreResult<Vec<ProductRow>> {
        let select = format!("SELECT {PRODUCT_COLUMNS} FROM products WHERE {column}");
        let rows = self.db.fetch_any_of(&select, keys, "").await?;
        Ok(rows.iter().map(product_row).collect::<Result<_, _>>()?)
    }
}

impl CatalogStore {
    pub async fn insert_brand(&self, b: &BrandRow) -> StoreResult<()> {
        sqlx::query("INSERT INTO brands (id, name, slug, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&b.id)
            .bind(&b.name)
            .bind(&b.slug)
            .bind(b.created_at)
            .execute(self.db.pool())
            .await
            .map_err(|e| match duplicate_of(&e) {
                Some(_) => StoreError::Duplicate("slug"),
                None => e.into(),
            })?;
        Ok(())
    }

    pub async fn brands(&self) -> StoreResult<Vec<BrandRow>> {
        let rows = sqlx::query("SELECT id, name, slug, created_at FROM brands ORDER BY name, id")
            .fetch_all(self.db.pool())
            .await?;
        Ok(rows.iter().map(brand_row).collect::<Result<_, _>>()?)
    }

    pub async fn brands_by_ids(&self, ids: &[String]) -> StoreResult<Vec<BrandRow>> {
        let select = "SELECT id, name, slug, created_at FROM brands WHERE id";
        let rows = self.db.fetch_any_of(select, ids, "").await?;
        Ok(rows.iter().map(brand_row).collect::<Result<_, _>>()?)
    }

    pub async fn insert_category(&self, c: &CategoryRow) -> StoreResult<()> {
        sqlx::query("INSERT INTO categories (id, parent_id, name, slug, attributes, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&c.id)
            .bind(&c.parent_id)
            .bind(&c.name)
            .bind(&c.slug)
            .bind(attributes_json(&c.attributes))
            .bind(c.created_at)
            .execute(self.db.pool())
            .await
            .map_err(|e| match duplicate_of(&e) {
                Some(_) => StoreError::Duplicate("slug"),
                None => e.into(),
            })?;
        Ok(())
    }

    /// The whole tree (categories are few).
    pub async fn categories(&self) -> StoreResult<Vec<CategoryRow>> {
        let rows = sqlx::query(&format!("{CATEGORY_SELECT} ORDER BY name, id"))
            .fetch_all(self.db.pool())
            .await?;
        rows.iter().map(category_row).collect()
    }

    /// Sets category `id`'s own attribute definitions to what `define` makes of the whole tree,
    /// read with every category locked (on SQLite the write transaction holds other writers
    /// off): two admins defining along one path are checked one after the other, each against
    /// what the other saved. Categories are few, and definitions change rarely.
    pub async fn define_category_attributes<E: From<StoreError>>(
        &self,
        id: &str,
        define: impl FnOnce(
            &[CategoryRow],
        ) -> Result<Vec<crate::domain::attributes::AttributeDefinition>, E>,
    ) -> Result<Vec<crate::domain::attributes::AttributeDefinition>, E> {
        let mut tx = self.db.begin().await.map_err(StoreError::from)?;
        let rows = sqlx::query(&format!(
            "{CATEGORY_SELECT} ORDER BY id {}",
            self.db.row_lock("FOR UPDATE")
        ))
        .fetch_all(&mut *tx)
        .await
        .map_err(StoreError::from)?;
        let tree = rows
            .iter()
            .map(category_row)
            .collect::<StoreResult<Vec<_>>>()?;
        let definitions = define(&tree)?;
        sqlx::query("UPDATE categories SET attributes = $1 WHERE id = $2")
            .bind(attributes_json(&definitions))
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from)?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(definitions)
    }

    /// Inserts a product (`replaces: None`) or replaces the one last saved at `replaces` (its
    /// `updated_at`), with its default variant and `variants` (inserted or replaced by id), and
    /// appends `event` (its `ProductChanged`) to the outbox, atomically. A product saved by
    /// someone else since it was read is [`StoreError::Conflict`]: nothing is written.
    pub async fn save_product(
        &self,
        p: &ProductRow,
        replaces: Option<i64>,
        variants: &[VariantRow],
        event: &Event,
    ) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        if replaces.is_some() {
            // A slug the product leaves stays its old address.
            sqlx::query(
                "INSERT INTO product_slug_history (slug, product_id, replaced_at) \
                 SELECT slug, id, $3 FROM products WHERE id = $1 AND slug <> $2 \
                 ON CONFLICT (slug) DO UPDATE SET product_id = $1, replaced_at = $3",
            )
            .bind(&p.id)
            .bind(&p.slug)
            .bind(p.updated_at)
            .execute(&mut *tx)
            .await?;
        }
        let sql = match replaces {
            None => insert_rows("products", PRODUCT_COLUMNS, 1),
            Some(_) => product_update_sql(),
        };
        let query = bind_product(sqlx::query(&sql), p);
        // An update also names the version it replaces.
        let query = match replaces {
            Some(updated_at) => query.bind(updated_at),
            None => query,
        };
        let saved = query.execute(&mut *tx).await.map_err(write_error)?;
        if saved.rows_affected() != 1 {
            return Err(StoreError::Conflict);
        }
        follow_product(&mut tx, &VariantRow::default_of(p)).await?;
        for variant in variants {
            upsert_variant(&mut tx, variant).await?;
        }
        storage::outbox::append(&mut tx, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// New products with their variants (each product's default variant among them, see
    /// [`VariantRow::default_of`]) and their events, all in one transaction: an import creates
    /// products a chunk at a time rather than a transaction each.
    pub async fn insert_new_products(
        &self,
        products: &[ProductRow],
        variants: &[VariantRow],
        events: &[Event],
    ) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        insert_products(&mut tx, products).await?;
        insert_variants(&mut tx, variants).await?;
        for event in events {
            storage::outbox::append(&mut tx, event).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Many products without events (demo data; the index is rebuilt afterwards).
    pub async fn insert_products(&self, products: &[ProductRow]) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        insert_products(&mut tx, products).await?;
        let variants: Vec<VariantRow> = products.iter().map(VariantRow::default_of).collect();
        insert_variants(&mut tx, &variants).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Many variants without events (demo data; the index is rebuilt afterwards).
    pub async fn insert_variants(&self, variants: &[VariantRow]) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        insert_variants(&mut tx, variants).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The variants of these products, each product's in order.
    pub async fn variants_of_products(
        &self,
        product_ids: &[String],
    ) -> StoreResult<Vec<VariantRow>> {
        self.variants_where_in("product_id", product_ids, " ORDER BY product_id, position")
            .await
    }

    pub async fn variants_by_ids(&self, ids: &[String]) -> StoreResult<Vec<VariantRow>> {
        self.variants_where_in("id", ids, "").await
    }

    pub async fn variants_by_skus(&self, skus: &[String]) -> StoreResult<Vec<VariantRow>> {
        self.variants_where_in("sku", skus, "").await
    }

    async fn variants_where_in(
        &self,
        column: &str,
        keys: &[String],
        order: &str,
    ) -> StoreResult<Vec<VariantRow>> {
        let select = format!("SELECT {VARIANT_COLUMNS} FROM product_variants WHERE {column}");
        let rows = self.db.fetch_any_of(&select, keys, order).await?;
        Ok(rows.iter().map(variant_row).collect::<Result<_, _>>()?)
    }

    /// Up to `limit` products with ids after `after`, in id order (an export's pages).
    pub async fn products_after(&self, after: &str, limit: usize) -> StoreResult<Vec<ProductRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {PRODUCT_COLUMNS} FROM products WHERE id > $1 ORDER BY id LIMIT $2"
        ))
        .bind(after)
        .bind(limit as i64)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows.iter().map(product_row).collect::<Result<_, _>>()?)
    }

    /// The slugs and last changes of active products, `limit` from `offset` in id order (a
    /// sitemap's pages).
    pub async fn active_product_slugs(
        &self,
        offset: usize,
        limit: usize,
    ) -> StoreResult<Vec<(String, i64)>> {
        let rows = sqlx::query(
            "SELECT slug, updated_at FROM products WHERE status = 'active' \
             ORDER BY id LIMIT $1 OFFSET $2",
        )
        .bind(limit as i64)
        .bind(offset as i64)
        .fetch_all(self.db.pool())
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("slug")?, row.try_get("updated_at")?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }

    /// The products with these slugs now (not earlier ones).
    pub async fn products_by_slugs(&self, slugs: &[String]) -> StoreResult<Vec<ProductRow>> {
        self.rows_where_in("slug", slugs).await
    }

    pub async fn products_by_ids(&self, ids: &[String]) -> StoreResult<Vec<ProductRow>> {
        self.rows_where_in("id", ids).await
    }

    pub async fn products_by_skus(&self, skus: &[String]) -> StoreResult<Vec<ProductRow>> {
        self.rows_where_in("sku", skus).await
    }

    /// The product with this slug now, or else the one that had it before.
    pub async fn product_by_slug(&self, slug: &str) -> StoreResult<Option<ProductRow>> {
        let row = sqlx::query(&format!(
            "SELECT {PRODUCT_COLUMNS} FROM products WHERE slug = $1"
        ))
        .bind(slug)
        .fetch_optional(self.db.pool())
        .await?;
        if let Some(row) = row {
            return Ok(Some(product_row(&row)?));
        }
        let row = sqlx::query(&format!(
            "SELECT {PRODUCT_COLUMNS} FROM products WHERE id = \
             (SELECT product_id FROM product_slug_history WHERE slug = $1)"
        ))
        .bind(slug)
        .fetch_optional(self.db.pool())
        .await?;
        Ok(row.as_ref().map(product_row).transpose()?)
    }

    pub async fn list_products(
        &self,
        filter: &ProductFilter,
        order: ProductOrder,
        page: &PageRequest<ProductCursor>,
    ) -> StoreResult<Vec<ProductRow>> {
        let mut values = Vec::new();
        let mut clauses = filter_sql(&self.db, filter, &mut values);
        // Reading backward flips the direction; the page is flipped back afterwards.
        let descending =
            matches!(order, ProductOrder::Newest | ProductOrder::PriceDescending) != page.backward;
        let (op, dir) = if descending {
            ("<", "DESC")
        } else {
            (">", "ASC")
        };
        let by_price = order != ProductOrder::Newest;
        if let Some(cursor) = &page.cursor {
            match (by_price, cursor.price) {
                (true, Some(price)) => {
                    values.push(Value::Int(price));
                    values.push(Value::Text(cursor.id.clone()));
                    let (a, b) = (values.len() - 1, values.len());
                    clauses.push(format!(
                        "(price_minor {op} ${a} OR (price_minor = ${a} AND id {op} ${b}))"
                    ));
                }
                _ => {
                    values.push(Value::Text(cursor.id.clone()));
                    clauses.push(format!("id {op} ${}", values.len()));
                }
            }
        }
        let order_by = if by_price {
            format!("price_minor {dir}, id {dir}")
        } else {
            format!("id {dir}")
        };
        let sql = format!(
            "SELECT {PRODUCT_COLUMNS} FROM products {} ORDER BY {order_by} LIMIT {}",
            where_clause(&clauses),
            page.limit + 1
        );
        let rows = bind_all(sqlx::query(&sql), &values)
            .fetch_all(self.db.pool())
            .await?;
        Ok(rows.iter().map(product_row).collect::<Result<_, _>>()?)
    }

    pub async fn count_products(&self, filter: &ProductFilter) -> StoreResult<i64> {
        let mut values = Vec::new();
        let clauses = filter_sql(&self.db, filter, &mut values);
        let sql = format!(
            "SELECT COUNT(*) AS n FROM products {}",
            where_clause(&clauses)
        );
        let row = bind_all(sqlx::query(&sql), &values)
            .fetch_one(self.db.pool())
            .await?;
        Ok(row.try_get("n")?)
    }
}

fn attributes_json(attributes: &[crate::domain::attributes::AttributeDefinition]) -> String {
    serde_json::to_string(attributes).expect("attribute definitions serialize")
}
