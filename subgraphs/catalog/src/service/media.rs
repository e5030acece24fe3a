//! A product's images: uploaded files (checked, then stored by content before the product names
//! them) and images elsewhere given by URL, each with alt text, dimensions, the variants it
//! shows and its place in the product's order. Every change is one product save (`modify`).

use bytes::Bytes;

use super::{to_json, CatalogError, CatalogResult, CatalogService};
use crate::domain::media::{self, inspect_image, Media, MediaError};
use crate::store::{ProductRow, StoreError, VariantRow};

/// An image as an admin describes it (by URL, or after its upload was stored).
#[derive(Clone, Debug, Default)]
pub struct MediaInput {
    pub url: String,
    pub alt: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub variant_ids: Vec<String>,
}

/// Changes to one image; `None` keeps the current value.
#[derive(Default)]
pub struct MediaChanges {
    pub alt: Option<Option<String>>,
    pub variant_ids: Option<Vec<String>>,
}

pub(super) fn media_of(row: &ProductRow) -> CatalogResult<Vec<Media>> {
    serde_json::from_str(&row.media).map_err(|e| {
        CatalogError::Store(StoreError::Corrupt {
            id: row.id.clone(),
            what: format!("media: {e}"),
        })
    })
}

/// Checks an image against the product's variants; `variants: None` when the product is new
/// (its only variant is the default one, which no image needs to name).
pub(super) fn parse_media(
    input: MediaInput,
    variants: Option<&[VariantRow]>,
) -> Result<Media, MediaError> {
    let variant_ids = parse_variant_ids(input.variant_ids, variants.unwrap_or_default())?;
    Ok(Media {
        url: media::parse_url(&input.url)?,
        alt: media::parse_alt(input.alt)?,
        width: input.width,
        height: input.height,
        variant_ids,
    })
}

fn parse_variant_ids(ids: Vec<String>, variants: &[VariantRow]) -> Result<Vec<String>, MediaError> {
    let mut parsed: Vec<String> = Vec::with_capacity(ids.len());
    for id in ids {
        if !variants.iter().any(|v| v.id == id) {
            return Err(MediaError::UnknownVariant(id));
        }
        if !parsed.contains(&id) {
            parsed.push(id);
        }
    }
    Ok(parsed)
}

/// A whole media list as given (create or update of a product): each checked, a URL given
/// twice kept once.
pub(super) fn parse_media_list(
    inputs: Vec<MediaInput>,
    variants: Option<&[VariantRow]>,
) -> Result<Vec<Media>, MediaError> {
    let mut list: Vec<Media> = Vec::with_capacity(inputs.len());
    for input in inputs {
        let media = parse_media(input, variants)?;
        if !list.iter().any(|m| m.url == media.url) {
            list.push(media);
        }
    }
    Ok(list)
}

fn position(list: &[Media], media_id: &str) -> Result<usize, MediaError> {
    list.iter()
        .position(|m| m.id() == media_id)
        .ok_or_else(|| MediaError::UnknownMedia(media_id.into()))
}

impl CatalogService {
    /// Checks an uploaded file, stores it and adds it to the product's images (last). The
    /// same image added again changes nothing, so a retried upload is harmless.
    pub async fn upload_media(
        &self,
        product_id: &str,
        bytes: Bytes,
        alt: Option<String>,
        variant_ids: Vec<String>,
    ) -> CatalogResult<ProductRow> {
        let image = inspect_image(&bytes, self.media.max_bytes)?;
        let url = self
            .media
            .put(&image, bytes)
            .await
            .map_err(|e| CatalogError::MediaStore(e.to_string()))?;
        self.add_media(
            product_id,
            MediaInput {
                url,
                alt,
                width: Some(image.width),
                height: Some(image.height),
                variant_ids,
            },
        )
        .await
    }

    /// Adds an image (last); one the product already has (by URL) changes nothing.
    pub async fn add_media(
        &self,
        product_id: &str,
        input: MediaInput,
    ) -> CatalogResult<ProductRow> {
        let (row, _) = self
            .modify(product_id, |row, variants| {
                let media = parse_media(input.clone(), Some(variants))?;
                let mut list = media_of(row)?;
                if !list.iter().any(|m| m.url == media.url) {
                    list.push(media);
                    row.media = to_json(&list);
                }
                Ok(Vec::new())
            })
            .await?;
        Ok(row)
    }

    pub async fn update_media(
        &self,
        product_id: &str,
        media_id: &str,
        changes: MediaChanges,
    ) -> CatalogResult<ProductRow> {
        let (row, _) = self
            .modify(product_id, |row, variants| {
                let mut list = media_of(row)?;
                let at = position(&list, media_id)?;
                if let Some(alt) = &changes.alt {
                    list[at].alt = media::parse_alt(alt.clone())?;
                }
                if let Some(ids) = &changes.variant_ids {
                    list[at].variant_ids = parse_variant_ids(ids.clone(), variants)?;
                }
                row.media = to_json(&list);
                Ok(Vec::new())
            })
            .await?;
        Ok(row)
    }

    /// Takes an image off the product. Its stored file stays: another product may show the
    /// same bytes, and pages cached elsewhere may still name it.
    pub async fn remove_media(
        &self,
        product_id: &str,
        media_id: &str,
    ) -> CatalogResult<ProductRow> {
        let (row, _) = self
            .modify(product_id, |row, _| {
                let mut list = media_of(row)?;
                list.remove(position(&list, media_id)?);
                row.media = to_json(&list);
                Ok(Vec::new())
            })
            .await?;
        Ok(row)
    }

    pub async fn reorder_media(
        &self,
        product_id: &str,
        media_ids: Vec<String>,
    ) -> CatalogResult<ProductRow> {
        let (row, _) = self
            .modify(product_id, |row, _| {
                row.media = to_json(&media::reorder(media_of(row)?, &media_ids)?);
                Ok(Vec::new())
            })
            .await?;
        Ok(row)
    }
}
