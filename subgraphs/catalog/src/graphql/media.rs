//! Product images in the API: `Media`, the `MediaInput` of product create and update, and the
//! admin mutations that upload (GraphQL multipart request), add by URL, change, reorder and
//! remove one image.

use auth::Permission;
use std::io::Read;

use async_graphql::{Context, InputObject, Object, SimpleObject, Upload, ID};

use super::admin::{product_payload, ProductPayload};
use super::{service, viewer};
use crate::domain;
use crate::domain::media::MediaError;
use crate::service::{CatalogError, MediaChanges};

/// An image of a product, in the product's order.
#[derive(SimpleObject, Clone, Debug)]
pub struct Media {
    pub id: ID,
    pub url: String,
    pub alt: Option<String>,
    /// In pixels; known for uploaded images, given by the admin for others.
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// The variants it shows; empty for an image of the product as a whole.
    pub variant_ids: Vec<ID>,
}

impl From<&domain::Media> for Media {
    fn from(media: &domain::Media) -> Self {
        Self {
            id: ID(media.id()),
            url: media.url.clone(),
            alt: media.alt.clone(),
            width: media.width,
            height: media.height,
            variant_ids: media.variant_ids.iter().cloned().map(ID).collect(),
        }
    }
}

/// An image kept elsewhere, by its URL (`https://`, `http://`, or a path on this shop).
#[derive(InputObject, Clone)]
pub struct MediaInput {
    pub url: String,
    pub alt: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    #[graphql(default)]
    pub variant_ids: Vec<ID>,
}

impl From<MediaInput> for crate::service::MediaInput {
    fn from(input: MediaInput) -> Self {
        Self {
            url: input.url,
            alt: input.alt,
            width: input.width,
            height: input.height,
            variant_ids: input.variant_ids.into_iter().map(|id| id.0).collect(),
        }
    }
}

#[derive(InputObject)]
pub struct UploadProductMediaInput {
    pub product_id: ID,
    /// A PNG, JPEG, WebP or GIF file, sent as a GraphQL multipart request.
    pub file: Upload,
    pub alt: Option<String>,
    #[graphql(default)]
    pub variant_ids: Vec<ID>,
}

#[derive(InputObject)]
pub struct AddProductMediaInput {
    pub product_id: ID,
    pub media: MediaInput,
}

/// Fields left out keep their value.
#[derive(InputObject)]
pub struct UpdateProductMediaInput {
    pub product_id: ID,
    pub media_id: ID,
    pub alt: Option<String>,
    pub variant_ids: Option<Vec<ID>>,
}

#[derive(InputObject)]
pub struct RemoveProductMediaInput {
    pub product_id: ID,
    pub media_id: ID,
}

#[derive(InputObject)]
pub struct ReorderProductMediaInput {
    pub product_id: ID,
    /// Every image of the product, once each, in the new order.
    pub media_ids: Vec<ID>,
}

fn ids(ids: Vec<ID>) -> Vec<String> {
    ids.into_iter().map(|id| id.0).collect()
}

/// The uploaded file's bytes, reading at most one byte more than `max_bytes` (enough to know
/// it is too large).
async fn read_upload(
    ctx: &Context<'_>,
    file: &Upload,
    max_bytes: usize,
) -> async_graphql::Result<Result<bytes::Bytes, MediaError>> {
    let value = file.value(ctx)?;
    let bytes = tokio::task::spawn_blocking(move || {
        let mut bytes = Vec::new();
        value
            .into_read()
            .take(max_bytes as u64 + 1)
            .read_to_end(&mut bytes)
            .map(|_| bytes)
    })
    .await
    .map_err(kit::ApiError::internal)?
    .map_err(|e| kit::ApiError::internal(format!("reading an upload: {e}")))?;
    if bytes.len() > max_bytes {
        return Ok(Err(MediaError::TooLarge { max_bytes }));
    }
    Ok(Ok(bytes.into()))
}

#[derive(Default)]
pub struct MediaMutation;

#[Object]
impl MediaMutation {
    /// Adds an uploaded image (last). The same image uploaded again changes nothing.
    #[graphql(requires_scopes = "catalog:write")]
    async fn upload_product_media(
        &self,
        ctx: &Context<'_>,
        input: UploadProductMediaInput,
    ) -> async_graphql::Result<ProductPayload> {
        viewer(ctx).require_permission(Permission::CatalogWrite)?;
        let service = service(ctx);
        let result = match read_upload(ctx, &input.file, service.media.max_bytes).await? {
            Ok(bytes) => {
                service
                    .upload_media(&input.product_id, bytes, input.alt, ids(input.variant_ids))
                    .await
            }
            Err(error) => Err(CatalogError::Media(error)),
        };
        product_payload(result)
    }

    /// Adds an image kept elsewhere (last); one the product already shows changes nothing.
    #[graphql(requires_scopes = "catalog:write")]
    async fn add_product_media(
        &self,
        ctx: &Context<'_>,
        input: AddProductMediaInput,
    ) -> async_graphql::Result<ProductPayload> {
        viewer(ctx).require_permission(Permission::CatalogWrite)?;
        product_payload(
            service(ctx)
                .add_media(&input.product_id, input.media.into())
                .await,
        )
    }

    #[graphql(requires_scopes = "catalog:write")]
    async fn update_product_media(
        &self,
        ctx: &Context<'_>,
        input: UpdateProductMediaInput,
    ) -> async_graphql::Result<ProductPayload> {
        viewer(ctx).require_permission(Permission::CatalogWrite)?;
        let changes = MediaChanges {
            alt: input.alt.map(Some),
            variant_ids: input.variant_ids.map(ids),
        };
        product_payload(
            service(ctx)
                .update_media(&input.product_id, &input.media_id, changes)
                .await,
        )
    }

    #[graphql(requires_scopes = "catalog:write")]
    async fn remove_product_media(
        &self,
        ctx: &Context<'_>,
        input: RemoveProductMediaInput,
    ) -> async_graphql::Result<ProductPayload> {
        viewer(ctx).require_permission(Permission::CatalogWrite)?;
        product_payload(
            service(ctx)
                .remove_media(&input.product_id, &input.media_id)
                .await,
        )
    }

    #[graphql(requires_scopes = "catalog:write")]
    async fn reorder_product_media(
        &self,
        ctx: &Context<'_>,
        input: ReorderProductMediaInput,
    ) -> async_graphql::Result<ProductPayload> {
        viewer(ctx).require_permission(Permission::CatalogWrite)?;
        product_payload(
            service(ctx)
                .reorder_media(&input.product_id, ids(input.media_ids))
                .await,
        )
    }
}
