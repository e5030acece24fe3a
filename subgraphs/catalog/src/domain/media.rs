//! Product images: what a product's media list holds, and the checks an uploaded file passes
//! before it is stored (its type read from its bytes, never from the name or the header the
//! client sent).

use serde::{Deserialize, Serialize};
use sha2::Digest;

/// An image of a product, in the product's media order. `variant_ids` names the variants it
/// shows (none: the product as a whole).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Media {
    pub url: String,
    pub alt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variant_ids: Vec<String>,
}

impl Media {
    /// Stable while the URL is (a product holds a URL once): `med_` and 16 hex digits of its
    /// SHA-256, so media saved before ids existed have one too.
    pub fn id(&self) -> String {
        media_id(&self.url)
    }
}

pub fn media_id(url: &str) -> String {
    let digest = sha2::Sha256::digest(url.as_bytes());
    format!("med_{}", hex(&digest[..8]))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The image formats a shop's pages can show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageFormat {
    Png,
    Jpeg,
    Webp,
    Gif,
}

impl ImageFormat {
    pub fn extension(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpeg => "jpg",
            Self::Webp => "webp",
            Self::Gif => "gif",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Webp => "image/webp",
            Self::Gif => "image/gif",
        }
    }

    pub fn from_extension(extension: &str) -> Option<Self> {
        [Self::Png, Self::Jpeg, Self::Webp, Self::Gif]
            .into_iter()
            .find(|format| format.extension() == extension)
    }
}

/// An uploaded file that proved to be an image.
#[derive(Clone, Debug, PartialEq)]
pub struct Image {
    pub format: ImageFormat,
    pub width: u32,
    pub height: u32,
    /// Content-addressed: the SHA-256 of the bytes and the format's extension, so the same
    /// image uploaded twice is stored once and its URL can be cached for ever.
    pub key: String,
}

/// The most pixels an image may have (a 10,000 x 10,000 picture): larger ones are what
/// decompression bombs look like, and no product page needs them.
pub const MAX_PIXELS: u64 = 100_000_000;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MediaError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is larger than {max_bytes} bytes")]
    TooLarge { max_bytes: usize },
    #[error("the file is not a PNG, JPEG, WebP or GIF image")]
    NotAnImage,
    #[error("the image is {width} x {height} pixels; at most {MAX_PIXELS} pixels are allowed")]
    TooManyPixels { width: u32, height: u32 },
    #[error("media URLs must start with https:// or http:// and be at most 2000 characters")]
    InvalidUrl,
    #[error("alt text must be at most 500 characters")]
    InvalidAlt,
    #[error("the product has no image {0}")]
    UnknownMedia(String),
    #[error("variant {0} is not a variant of this product")]
    UnknownVariant(String),
    #[error("the new order must name each of the product's images once")]
    InvalidOrder,
}

impl MediaError {
    pub fn field(&self) -> &'static str {
        match self {
            Self::Empty | Self::TooLarge { .. } | Self::NotAnImage | Self::TooManyPixels { .. } => {
                "file"
            }
            // The `media` input of product create and update, and of `addProductMedia`.
            Self::InvalidUrl => "media",
            Self::InvalidAlt => "alt",
            Self::UnknownMedia(_) | Self::InvalidOrder => "mediaIds",
            Self::UnknownVariant(_) => "variantIds",
        }
    }
}

/// Checks an uploaded file: not empty, at most `max_bytes`, an image of a known format whose
/// header gives its dimensions, within [`MAX_PIXELS`].
pub fn inspect_image(bytes: &[u8], max_bytes: usize) -> Result<Image, MediaError> {
    if bytes.is_empty() {
        return Err(MediaError::Empty);
    }
    if bytes.len() > max_bytes {
        return Err(MediaError::TooLarge { max_bytes });
    }
    let format = match imagesize::image_type(bytes).map_err(|_| MediaError::NotAnImage)? {
        imagesize::ImageType::Png => ImageFormat::Png,
        imagesize::ImageType::Jpeg => ImageFormat::Jpeg,
        imagesize::ImageType::Webp => ImageFormat::Webp,
        imagesize::ImageType::Gif => ImageFormat::Gif,
        _ => return Err(MediaError::NotAnImage),
    };
    let size = imagesize::blob_size(bytes).map_err(|_| MediaError::NotAnImage)?;
    let (width, height) = match (u32::try_from(size.width), u32::try_from(size.height)) {
        (Ok(width), Ok(height)) if width > 0 && height > 0 => (width, height),
        _ => return Err(MediaError::NotAnImage),
    };
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(MediaError::TooManyPixels { width, height });
    }
    let digest = sha2::Sha256::digest(bytes);
    Ok(Image {
        format,
        width,
        height,
        key: format!("{}.{}", hex(&digest), format.extension()),
    })
}

/// Whether `key` is one [`inspect_image`] makes (64 hex digits and a known extension): the
/// only names the media route serves.
pub fn is_media_key(key: &str) -> bool {
    key.split_once('.').is_some_and(|(hash, extension)| {
        hash.len() == 64
            && hash
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            && ImageFormat::from_extension(extension).is_some()
    })
}

pub fn parse_url(url: &str) -> Result<String, MediaError> {
    let url = url.trim();
    if (url.starts_with("https://") || url.starts_with("http://") || url.starts_with('/'))
        && !url.starts_with("//")
        && url.len() <= 2000
    {
        Ok(url.into())
    } else {
        Err(MediaError::InvalidUrl)
    }
}

pub fn parse_alt(alt: Option<String>) -> Result<Option<String>, MediaError> {
    match alt.map(|alt| alt.trim().to_string()) {
        Some(alt) if alt.chars().count() > 500 => Err(MediaError::InvalidAlt),
        Some(alt) if alt.is_empty() => Ok(None),
        alt => Ok(alt),
    }
}

/// `media` in the order `ids` gives, which must name each image exactly once.
pub fn reorder(media: Vec<Media>, ids: &[String]) -> Result<Vec<Media>, MediaError> {
    if ids.len() != media.len() {
        return Err(MediaError::InvalidOrder);
    }
    let mut remaining: Vec<Option<Media>> = media.into_iter().map(Some).collect();
    ids.iter()
        .map(|id| {
            remaining
                .iter_mut()
                .find(|m| m.as_ref().is_some_and(|m| &m.id() == id))
                .and_then(Option::take)
                .ok_or(MediaError::InvalidOrder)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A valid 1 x 1 PNG.
    pub const PIXEL_PNG: &[u8] = &[
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f,
        0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8,
        0xcf, 0xc0, 0xf0, 0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00,
        0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
    ];

    #[test]
    fn a_png_is_read_with_its_size_and_a_content_key() {
        let image = inspect_image(PIXEL_PNG, 1024).unwrap();
        assert_eq!(image.format, ImageFormat::Png);
        assert_eq!((image.width, image.height), (1, 1));
        assert!(is_media_key(&image.key), "{}", image.key);
        assert!(image.key.ends_with(".png"));
    }

    #[test]
    fn files_that_are_not_images_or_too_large_are_refused() {
        assert_eq!(inspect_image(b"", 10), Err(MediaError::Empty));
        assert_eq!(
            inspect_image(b"%PDF-1.7 not an image", 1024),
            Err(MediaError::NotAnImage)
        );
        assert_eq!(
            inspect_image(b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>", 1024),
            Err(MediaError::NotAnImage)
        );
        assert_eq!(
            inspect_image(PIXEL_PNG, 16),
            Err(MediaError::TooLarge { max_bytes: 16 })
        );
        // A PNG header that claims 100,000 x 100,000 pixels.
        let mut bomb = PIXEL_PNG.to_vec();
        bomb[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        assert_eq!(
            inspect_image(&bomb, 1024),
            Err(MediaError::TooManyPixels {
                width: 100_000,
                height: 100_000
            })
        );
    }

    #[test]
    fn only_content_keys_are_media_keys() {
        let key = format!("{}.webp", "a".repeat(64));
        assert!(is_media_key(&key));
        for bad in [
            "../etc/passwd",
            "x.png",
            &format!("{}.svg", "a".repeat(64)),
            &format!("{}.png/..", "a".repeat(64)),
        ] {
            assert!(!is_media_key(bad), "{bad}");
        }
    }

    #[test]
    fn urls_alt_and_order_are_checked() {
        assert!(parse_url("https://cdn.example.com/a.jpg").is_ok());
        assert!(parse_url("/media/abc.png").is_ok());
        for bad in ["javascript:alert(1)", "//evil.example/x.png", "ftp://x/y"] {
            assert_eq!(parse_url(bad), Err(MediaError::InvalidUrl), "{bad}");
        }
        assert_eq!(parse_alt(Some("  ".into())), Ok(None));
        assert_eq!(
            parse_alt(Some("x".repeat(501))),
            Err(MediaError::InvalidAlt)
        );
        let media = |url: &str| Media {
            url: url.into(),
            alt: None,
            width: None,
            height: None,
            variant_ids: vec![],
        };
        let list = vec![media("/a"), media("/b")];
        let reordered = reorder(list.clone(), &[media_id("/b"), media_id("/a")]).unwrap();
        assert_eq!(reordered[0].url, "/b");
        assert_eq!(
            reorder(list.clone(), &[media_id("/b"), media_id("/b")]),
            Err(MediaError::InvalidOrder)
        );
        assert_eq!(
            reorder(list, &[media_id("/a")]),
            Err(MediaError::InvalidOrder)
        );
    }
}
