//! Relay pagination: `first`/`after` and `last`/`before`, at most [`MAX_PAGE_SIZE`] per page.
//! Cursors are opaque (base64url of a JSON sort key), so stores can page by key ("keyset") and
//! stay stable while rows are inserted.

use async_graphql::connection::{Connection, Edge};
use async_graphql::OutputType;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::ApiError;

pub const MAX_PAGE_SIZE: usize = 100;
pub const DEFAULT_PAGE_SIZE: usize = 20;

/// Which slice of an ordered list to read.
#[derive(Clone, Debug, PartialEq)]
pub struct PageRequest<C> {
    /// Rows strictly after (or, going backward, before) this key.
    pub cursor: Option<C>,
    pub limit: usize,
    /// `last`/`before`: read in reverse order from the cursor, then flip.
    pub backward: bool,
}

impl<C: DeserializeOwned> PageRequest<C> {
    pub fn from_args(
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Self, ApiError> {
        let size = |n: i32, name: &str| {
            if n < 0 || n as usize > MAX_PAGE_SIZE {
                Err(ApiError::BadUserInput(format!(
                    "`{name}` must be between 0 and {MAX_PAGE_SIZE}"
                )))
            } else {
                Ok(n as usize)
            }
        };
        match (first, last) {
            (Some(_), Some(_)) => Err(ApiError::BadUserInput(
                "pass either `first` or `last`, not both".into(),
            )),
            (_, Some(last)) => Ok(Self {
                cursor: before.as_deref().map(decode_cursor).transpose()?,
                limit: size(last, "last")?,
                backward: true,
            }),
            (first, None) => {
                if before.is_some() {
                    return Err(ApiError::BadUserInput("`before` needs `last`".into()));
                }
                Ok(Self {
                    cursor: after.as_deref().map(decode_cursor).transpose()?,
                    limit: first
                        .map(|n| size(n, "first"))
                        .transpose()?
                        .unwrap_or(DEFAULT_PAGE_SIZE),
                    backward: false,
                })
            }
        }
    }
}

pub fn encode_cursor<C: Serialize>(key: &C) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(key).unwrap_or_default())
}

pub fn decode_cursor<C: DeserializeOwned>(cursor: &str) -> Result<C, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| ApiError::BadUserInput("invalid cursor".into()))
}

/// One page of rows in display order, with whether more exist on either side.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_previous: bool,
    pub has_next: bool,
}

impl<T> Page<T> {
    /// Builds a page from rows a store read in the request's direction, one more than `limit`
    /// when there are more.
    pub fn from_rows<C>(request: &PageRequest<C>, mut rows: Vec<T>) -> Self {
        let more = rows.len() > request.limit;
        rows.truncate(request.limit);
        if request.backward {
            rows.reverse();
            Page {
                items: rows,
                has_previous: more,
                has_next: request.cursor.is_some(),
            }
        } else {
            Page {
                items: rows,
                has_previous: request.cursor.is_some(),
                has_next: more,
            }
        }
    }
}

/// The Relay connection of rows a store read for `request` (one more than its limit when there
/// are more): each row's cursor from `key`, its node from `node`.
pub fn connection<C, T, K, N>(
    request: &PageRequest<C>,
    rows: Vec<T>,
    key: impl Fn(&T) -> K,
    node: impl Fn(T) -> N,
) -> Connection<String, N>
where
    K: Serialize,
    N: OutputType,
{
    let page = Page::from_rows(request, rows);
    let mut connection = Connection::new(page.has_previous, page.has_next);
    connection.edges = page
        .items
        .into_iter()
        .map(|row| Edge::new(encode_cursor(&key(&row)), node(row)))
        .collect();
    connection
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_arguments_are_checked() {
        let forward = PageRequest::<(i64, String)>::from_args(Some(10), None, None, None).unwrap();
        assert_eq!((forward.limit, forward.backward), (10, false));
        let cursor = encode_cursor(&(5i64, "prod_x".to_string()));
        let backward =
            PageRequest::<(i64, String)>::from_args(None, None, Some(3), Some(cursor)).unwrap();
        assert_eq!(backward.cursor, Some((5, "prod_x".to_string())));
        assert!(backward.backward);
        assert!(PageRequest::<i64>::from_args(Some(101), None, None, None).is_err());
        assert!(PageRequest::<i64>::from_args(Some(1), None, Some(1), None).is_err());
        assert!(PageRequest::<i64>::from_args(None, Some("%%%".into()), None, None).is_err());
    }

    #[test]
    fn pages_know_their_neighbours() {
        let request = PageRequest::<i64> {
            cursor: None,
            limit: 2,
            backward: false,
        };
        let page = Page::from_rows(&request, vec![1, 2, 3]);
        assert_eq!(page.items, vec![1, 2]);
        assert!(page.has_next && !page.has_previous);
        let back = PageRequest::<i64> {
            cursor: Some(9),
            limit: 2,
            backward: true,
        };
        let page = Page::from_rows(&back, vec![8, 7, 6]);
        assert_eq!(page.items, vec![7, 8]);
        assert!(page.has_previous && page.has_next);
    }
}
