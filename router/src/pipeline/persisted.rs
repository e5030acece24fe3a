//! Persisted operations: the operation text a request runs, from its id (a published
//! operation, or an APQ registration) or as sent. Partners may only run operations published
//! for them, by id; with `safelist = "all"` no client may run anything unpublished.
//!
//! Error codes are the ones Apollo clients act on: `PERSISTED_QUERY_NOT_FOUND` (message
//! `PersistedQueryNotFound`: send the body too), `PERSISTED_QUERY_HASH_MISMATCH`,
//! `PERSISTED_QUERY_ID_REQUIRED` and `QUERY_NOT_IN_SAFELIST`.

use std::sync::Arc;

use apollo_compiler::response::JsonValue;
use auth::Viewer;

use super::request::GraphQLRequest;
use super::PipelineError;
use crate::config::Safelist;
use crate::persisted::manifest::sha256_hex;
use crate::persisted::PersistedOperations;

/// The operation text to run.
pub struct Document {
    pub text: Arc<str>,
    /// The hash to register the text under (APQ) once it proved a valid operation.
    pub register: Option<String>,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum PersistedError {
    #[error("PersistedQueryNotFound")]
    NotFound,
    #[error("provided sha does not match query")]
    HashMismatch,
    #[error("{0}")]
    IdRequired(&'static str),
    #[error("{0}")]
    NotInSafelist(&'static str),
    #[error("{0}")]
    Invalid(String),
}

impl PersistedError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "PERSISTED_QUERY_NOT_FOUND",
            Self::HashMismatch => "PERSISTED_QUERY_HASH_MISMATCH",
            Self::IdRequired(_) => "PERSISTED_QUERY_ID_REQUIRED",
            Self::NotInSafelist(_) => "QUERY_NOT_IN_SAFELIST",
            Self::Invalid(_) => "BAD_REQUEST",
        }
    }
}

/// The text the request runs.
pub async fn resolve_document(
    persisted: &PersistedOperations,
    request: &GraphQLRequest,
    viewer: Option<&Viewer>,
) -> Result<Document, PipelineError> {
    let partner = viewer.is_some_and(Viewer::is_partner);
    let published_only = partner || persisted.safelist == Safelist::All;
    let id = requested_id(request)?;
    let Some(id) = id else {
        let Some(query) = &request.query else {
            return Err(PipelineError::BadRequest(
                "the request has no \"query\" (nor a persisted operation's id)".into(),
            ));
        };
        if partner {
            return Err(PersistedError::IdRequired(
                "partners may only run the operations published for them, by id",
            )
            .into());
        }
        if published_only && persisted.manifest().get(&sha256_hex(query)).is_none() {
            return Err(PersistedError::NotInSafelist("this operation is not published").into());
        }
        return Ok(Document {
            text: query.clone(),
            register: None,
        });
    };
    if let Some(query) = &request.query {
        if sha256_hex(query) != id {
            return Err(PersistedError::HashMismatch.into());
        }
    }
    if let Some(operation) = persisted.manifest().get(&id) {
        if partner {
            if !operation.partner {
                return Err(PersistedError::NotInSafelist(
                    "this operation is not published for partners",
                )
                .into());
            }
            let viewer = viewer.expect("partners are viewers");
            if !operation.scopes.iter().all(|scope| viewer.has_scope(scope)) {
                return Err(PipelineError::Forbidden);
            }
        }
        return Ok(Document {
            text: operation.body.clone(),
            register: None,
        });
    }
    if published_only {
        return Err(match request.query {
            Some(_) => PersistedError::NotInSafelist("this operation is not published"),
            None => PersistedError::NotFound,
        }
        .into());
    }
    match (&request.query, &persisted.apq) {
        (Some(query), apq) => Ok(Document {
            text: query.clone(),
            register: apq.is_some().then_some(id),
        }),
        (None, Some(apq)) => match apq.get(&id).await {
            Some(text) => Ok(Document {
                text,
                register: None,
            }),
            None => Err(PersistedError::NotFound.into()),
        },
        (None, None) => Err(PersistedError::NotFound.into()),
    }
}

/// Registers the text (APQ) once it proved a valid operation, so that nothing invalid is
/// ever served by hash.
pub async fn register(persisted: &PersistedOperations, document: Document) {
    if let (Some(hash), Some(apq)) = (document.register, &persisted.apq) {
        apq.put(&hash, document.text).await;
    }
}

/// The persisted operation's id the request names, lowercase hex.
fn requested_id(request: &GraphQLRequest) -> Result<Option<String>, PipelineError> {
    let invalid = |reason: &str| PipelineError::from(PersistedError::Invalid(reason.into()));
    let from_extension = match request.extensions.get("persistedQuery") {
        None | Some(JsonValue::Null) => None,
        Some(JsonValue::Object(persisted)) => {
            if persisted.get("version").and_then(JsonValue::as_i64) != Some(1) {
                return Err(invalid("only version 1 of persistedQuery is supported"));
            }
            match persisted.get("sha256Hash") {
                Some(JsonValue::String(hash)) => Some(hash.as_str().to_string()),
                _ => return Err(invalid("persistedQuery.sha256Hash must be a string")),
            }
        }
        Some(_) => return Err(invalid("extensions.persistedQuery must be an object")),
    };
    let from_document_id = request
        .document_id
        .as_deref()
        .map(|id| id.strip_prefix("sha256:").unwrap_or(id).to_string());
    let id = match (from_extension, from_document_id) {
        (Some(a), Some(b)) if a != b => {
            return Err(invalid(
                "documentId and persistedQuery.sha256Hash name different operations",
            ))
        }
        (a, b) => a.or(b),
    };
    match id {
        Some(id) if id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Ok(Some(id.to_ascii_lowercase()))
        }
        Some(_) => Err(PersistedError::NotFound.into()),
        None => Ok(None),
    }
}
